/* node_json.c — the rendered JSON files: project.json (from the project
 * record) and a run's config.json, summary.json (heavy fields, fetched in
 * sibling batches) and metadata.json (light fields, free with the listing).
 * Bytes come finished from the cache (wfs_render.h). */
#include <errno.h>

#include "wfs_fetch.h"
#include "wfs_node.h"

static int project_json(struct wfs *fs, struct wfs_node *file,
			struct wfs_blob **blob, enum wfs_class *cls)
{
	const struct wfs_node *proj = wfs_node_up(file, 1);
	struct wfs_project_rec *rec;
	int rc = wfs_fetch_project_full(fs, wfs_node_up(proj, 1)->name,
					proj->name, &rec);

	if (rc)
		return rc;
	*blob = wfs_obj_ref(&rec->json->obj);
	*cls = WFS_CLASS_LISTING;
	wfs_obj_unref(&rec->obj);
	return 0;
}

enum run_file { RUN_CONFIG, RUN_SUMMARY, RUN_METADATA };

static int run_json(struct wfs *fs, struct wfs_node *file, enum run_file which,
		    struct wfs_blob **blob, enum wfs_class *cls)
{
	const struct wfs_node *run = wfs_node_up(file, 1);
	struct wfs_run_rec *rec;
	struct wfs_blob *b;
	int rc, err;

	rc = wfs_fetch_run(fs, wfs_node_up(run, 3)->name,
			   wfs_node_up(run, 2)->name, run->name,
			   which != RUN_METADATA, &rec);
	if (rc)
		return rc;
	switch (which) {
	case RUN_CONFIG:
		b = rec->config;
		err = rec->config_err;
		break;
	case RUN_SUMMARY:
		b = rec->summary;
		err = rec->summary_err;
		break;
	default:
		b = rec->metadata;
		err = 0;
		break;
	}
	*cls = rec->cls;
	*blob = b ? wfs_obj_ref(&b->obj) : NULL;
	wfs_obj_unref(&rec->obj);
	/* The server sent text that is not JSON: nothing honest to show. */
	return b ? 0 : err == -ENOMEM ? -ENOMEM : -EIO;
}

static int config_json(struct wfs *fs, struct wfs_node *file,
		       struct wfs_blob **blob, enum wfs_class *cls)
{
	return run_json(fs, file, RUN_CONFIG, blob, cls);
}

static int summary_json(struct wfs *fs, struct wfs_node *file,
			struct wfs_blob **blob, enum wfs_class *cls)
{
	return run_json(fs, file, RUN_SUMMARY, blob, cls);
}

static int metadata_json(struct wfs *fs, struct wfs_node *file,
			 struct wfs_blob **blob, enum wfs_class *cls)
{
	return run_json(fs, file, RUN_METADATA, blob, cls);
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
