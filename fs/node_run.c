/* node_run.c — one run's directory: config.json, summary.json,
 * metadata.json and artifacts/ (what it logged and used). Its lifetime
 * follows the run's state (running: short). */
#include "wfs_fetch.h"
#include "wfs_node.h"

static const struct wfs_fixed_child run_children[] = {
	{ "config.json", &wfs_type_config_json },
	{ "summary.json", &wfs_type_summary_json },
	{ "metadata.json", &wfs_type_metadata_json },
	{ "artifacts", &wfs_type_run_artifacts },
	{ NULL, NULL },
};

static int run_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
		      const struct wfs_node_type **type)
{
	(void)fs;
	(void)dir;
	return wfs_fixed_lookup(run_children, name, type);
}

static int run_list(struct wfs *fs, struct wfs_node *dir,
		    struct wfs_dirents *out)
{
	(void)fs;
	(void)dir;
	return wfs_fixed_list(run_children, out);
}

static int run_stat(struct wfs *fs, struct wfs_node *dir, struct wfs_stat *st)
{
	struct wfs_run_rec *rec;
	int rc = wfs_fetch_run(fs->fetch, wfs_node_up(dir, 3)->name,
			       wfs_node_up(dir, 2)->name, dir->name, &rec,
			       &st->ttl);

	if (rc)
		return rc;
	st->mtime = rec->mtime;
	st->ctime = rec->ctime;
	wfs_obj_unref(&rec->obj);
	return 0;
}

const struct wfs_node_type wfs_type_run = {
	.name = "run",
	.is_dir = 1,
	.lookup = run_lookup,
	.list = run_list,
	.stat = run_stat,
};
