/* wfs_fetch.h — "I need X" to client calls, through the cache.
 *
 * Each function answers from the cache when it can (wfs_cache.h decides
 * freshness); otherwise it makes the client call, renders the result
 * (wfs_render.h), stores it, and returns it. Concurrent callers asking for
 * the same thing wait on one request (single-flight).
 * Run records come in batches: the caller that needs a run also fetches up
 * to opt.prefetch_runs - 1 runs listed next to it that need the same (with
 * heavy fields: those without config/summary yet; light: those whose record
 * expired), with one wb_runs_fetch() call, which batches by name and sends
 * the batches in parallel. Reading config.json across N runs thus costs
 * about N / prefetch_runs calls, not N, and refreshing the running runs of
 * an `ls -l` costs one light call.
 *
 * All functions return 0 with a new reference in *out (release with
 * wfs_obj_unref) or a negative errno fit for the kernel: -ENOENT only for a
 * confirmed absence, -EACCES (key rejected; logged once), -ETIMEDOUT,
 * -ENOMEM, -EFBIG, or -EIO for anything else (logged).
 */
#ifndef WFS_FETCH_H
#define WFS_FETCH_H

#include "wfs.h"
#include "wfs_render.h"

struct wfs_fetch *wfs_fetch_new(void);
void wfs_fetch_free(struct wfs_fetch *f);

/* Store the viewer checked at mount time as the root listing. */
int wfs_fetch_seed_viewer(struct wfs *fs, const struct wb_viewer *v);

/* Root listing: the viewer's entity and teams. */
int wfs_fetch_viewer(struct wfs *fs, struct wfs_names **out);

/* 0 when entity `ent` is visible: listed at the root, or found by name. */
int wfs_fetch_entity(struct wfs *fs, const char *ent);

/* Projects of an entity (every page); fills the project records too. */
int wfs_fetch_projects(struct wfs *fs, const char *ent,
		       struct wfs_names **out);

int wfs_fetch_project(struct wfs *fs, const char *ent, const char *proj,
		      struct wfs_project_rec **out);

/* The project with the fields a listing leaves out (runCount), for
 * project.json: one request per cache lifetime. */
int wfs_fetch_project_full(struct wfs *fs, const char *ent, const char *proj,
			   struct wfs_project_rec **out);

/* Runs of a project (light listing, every page, in the server's order);
 * fills the light run records too. */
int wfs_fetch_runs(struct wfs *fs, const char *ent, const char *proj,
		   struct wfs_names **out);

/* One run's record; with `heavy`, one that has config/summary rendered. */
int wfs_fetch_run(struct wfs *fs, const char *ent, const char *proj,
		  const char *run, int heavy, struct wfs_run_rec **out);

/* Client error code to what the kernel gets (see above); logs why. */
int wfs_fetch_errno(int rc, const struct wb_error *err, const char *what);

#endif
