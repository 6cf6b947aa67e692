/* node_runs.c — <project>/runs: one directory per run, named by run ID, in
 * name order, from the light run listing. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "wfs_fetch.h"
#include "wfs_node.h"

/* Whether name can be a W&B run ID (W&B refuses run IDs with any of
 * : ; , # ? / ' or with surrounding whitespace): anything else is absent
 * without a request. */
static int run_id_possible(const char *name)
{
	size_t len = strlen(name);

	return len && !strpbrk(name, ":;,#?'") &&
		!isspace((unsigned char)name[0]) &&
		!isspace((unsigned char)name[len - 1]);
}

static int runs_lookup(struct wfs *fs, struct wfs_node *dir, const char *name,
		       const struct wfs_node_type **type)
{
	struct wfs_run_rec *rec;
	int rc;

	if (!run_id_possible(name))
		return -ENOENT;
	rc = wfs_fetch_run(fs->fetch, wfs_node_up(dir, 2)->name,
			   wfs_node_up(dir, 1)->name, name, &rec, NULL);
	if (rc)
		return rc;
	wfs_obj_unref(&rec->obj);
	*type = &wfs_type_run;
	return 0;
}

static int runs_list(struct wfs *fs, struct wfs_node *dir,
		     struct wfs_dirents *out)
{
	struct wfs_names *names;
	int rc;

	rc = wfs_fetch_runs(fs->fetch, wfs_node_up(dir, 2)->name,
			    wfs_node_up(dir, 1)->name, &names);
	for (size_t i = 0; !rc && i < names->n; i++)
		rc = wfs_dirents_add(out, names->v[i], &wfs_type_run);
	if (names)
		wfs_obj_unref(&names->obj);
	return rc;
}

static int runs_stat(struct wfs *fs, struct wfs_node *dir, struct wfs_stat *st)
{
	return wfs_project_dir_stat(fs, wfs_node_up(dir, 1), st);
}

const struct wfs_node_type wfs_type_runs = {
	.name = "runs",
	.is_dir = 1,
	.lookup = runs_lookup,
	.list = runs_list,
	.stat = runs_stat,
};
