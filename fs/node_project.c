/* node_project.c — a project directory: project.json, runs/ and
 * artifacts/. */
#include "wfs_fetch.h"
#include "wfs_node.h"

static const struct wfs_fixed_child project_children[] = {
	{ "project.json", &wfs_type_project_json },
	{ "runs", &wfs_type_runs },
	{ "artifacts", &wfs_type_artifacts },
	{ NULL, NULL },
};

static int project_lookup(struct wfs *fs, struct wfs_node *dir,
			  const char *name, const struct wfs_node_type **type)
{
	(void)fs;
	(void)dir;
	return wfs_fixed_lookup(project_children, name, type);
}

static int project_list(struct wfs *fs, struct wfs_node *dir,
			struct wfs_dirents *out)
{
	(void)fs;
	(void)dir;
	return wfs_fixed_list(project_children, out);
}

int wfs_project_dir_stat(struct wfs *fs, const struct wfs_node *project,
			 struct wfs_stat *st)
{
	struct wfs_project_rec *rec;
	int rc = wfs_fetch_project(fs->fetch, wfs_node_up(project, 1)->name,
				   project->name, &rec, &st->ttl);

	if (rc)
		return rc;
	st->mtime = rec->mtime;
	st->ctime = rec->ctime;
	wfs_obj_unref(&rec->obj);
	return 0;
}

static int project_stat(struct wfs *fs, struct wfs_node *dir,
			struct wfs_stat *st)
{
	return wfs_project_dir_stat(fs, dir, st);
}

const struct wfs_node_type wfs_type_project = {
	.name = "project",
	.is_dir = 1,
	.lookup = project_lookup,
	.list = project_list,
	.stat = project_stat,
};
