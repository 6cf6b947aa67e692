/* node_json.c — the rendered JSON files: project.json (from the project
 * record) and a run's config.json, summary.json (heavy files, each fetched
 * for a group of runs at once) and metadata.json (light record, free with
 * the listing, rendered when first read). Bytes come finished from the cache (wfs_render.h). */
#include <errno.h>

#include "wfs_fetch.h"
#include "wfs_node.h"

static int project_json(struct wfs *fs, struct wfs_node *file,
			struct wfs_blob **blob, double *ttl)
{
	const struct wfs_node *proj = wfs_node_up(file, 1);
	struct wfs_project_rec *rec;
	int rc = wfs_fetch_project_full(fs->fetch, wfs_node_up(proj, 1)->name,
					proj->name, &rec, ttl);

	if (rc)
		return rc;
	*blob = wfs_obj_ref(&rec->json->obj);
	wfs_obj_unref(&rec->obj);
	return 0;
}

/* A heavy file of the run this file is in. */
static int run_file(struct wfs *fs, struct wfs_node *file, enum wfs_part part,
		    struct wfs_blob **blob, double *ttl)
{
	const struct wfs_node *run = wfs_node_up(file, 1);
	struct wfs_run_file *rf;
	int rc;

	rc = wfs_fetch_run_file(fs->fetch, wfs_node_up(run, 3)->name,
				wfs_node_up(run, 2)->name, run->name, part, &rf,
				ttl);
	if (rc)
		return rc;
	*blob = rf->blob ? wfs_obj_ref(&rf->blob->obj) : NULL;
	rc = rf->err;
	wfs_obj_unref(&rf->obj);
	/* The server sent text that is not JSON: nothing honest to show. */
	return *blob ? 0 : rc == -ENOMEM ? -ENOMEM : -EIO;
}

static int config_json(struct wfs *fs, struct wfs_node *file,
		       struct wfs_blob **blob, double *ttl)
{
	return run_file(fs, file, WFS_PART_CONFIG, blob, ttl);
}

static int summary_json(struct wfs *fs, struct wfs_node *file,
			struct wfs_blob **blob, double *ttl)
{
	return run_file(fs, file, WFS_PART_SUMMARY, blob, ttl);
}

static int metadata_json(struct wfs *fs, struct wfs_node *file,
			 struct wfs_blob **blob, double *ttl)
{
	const struct wfs_node *run = wfs_node_up(file, 1);
	struct wfs_run_rec *rec;
	int rc;

	rc = wfs_fetch_run(fs->fetch, wfs_node_up(run, 3)->name,
			   wfs_node_up(run, 2)->name, run->name, &rec, ttl);
	if (rc)
		return rc;
	*blob = wfs_run_metadata(rec, wfs_node_up(run, 3)->name,
				 wfs_node_up(run, 2)->name);
	wfs_obj_unref(&rec->obj);
	return *blob ? 0 : -ENOMEM;
}

const struct wfs_node_type wfs_type_project_json = {
	.name = "project.json",
	.content = project_json,
};

const struct wfs_node_type wfs_type_config_json = {
	.name = "config.json",
	.content = config_json,
};

const struct wfs_node_type wfs_type_summary_json = {
	.name = "summary.json",
	.content = summary_json,
};

const struct wfs_node_type wfs_type_metadata_json = {
	.name = "metadata.json",
	.content = metadata_json,
};
