/* wfs_fetch.h — the fetcher: "I need X" to backend calls, through the
 * cache.
 *
 * Each function answers from the cache when it can (wfs_cache.h decides
 * freshness); otherwise it calls the backend (wfs_backend.h), renders the
 * result (wfs_render.h), stores it, and returns it. Concurrent callers
 * asking for the same thing wait on one call (wfs_flight.h).
 *
 * A run is cached in parts: its light record (from the listing) and each
 * heavy file (config.json, summary.json), so a file costs only the field
 * it shows. Runs are fetched in groups: the caller that needs a part of a
 * run also fetches it for the other runs of its group in the listing that
 * need it, with one request. While reads walk a listing in order, the
 * read-ahead (wfs_readahead.h) has the next groups fetched in the
 * background, so the reader finds them ready; a reader waits at most for
 * the request that carries its own run.
 *
 * All functions return 0 with a new reference in *out (release with
 * wfs_obj_unref) or a negative errno fit for the kernel: -ENOENT only for a
 * confirmed absence, -EACCES (key rejected; logged once), -ETIMEDOUT,
 * -ENOMEM, -EFBIG, or -EIO for anything else (logged). Where a function
 * has a `ttl` out parameter (may be NULL), it receives how many seconds
 * the answer stays fresh: what the kernel may keep it for.
 */
#ifndef WFS_FETCH_H
#define WFS_FETCH_H

#include <stddef.h>

#include "wfs_backend.h"
#include "wfs_cache.h"
#include "wfs_render.h"

/* The parts of a run, each its own cache entry. */
enum wfs_part {
	WFS_PART_LIGHT,   /* struct wfs_run_rec */
	WFS_PART_CONFIG,  /* struct wfs_run_file: config.json */
	WFS_PART_SUMMARY, /* struct wfs_run_file: summary.json */
	WFS_PARTS
};

#define WFS_PREFETCH_RUNS_DEFAULT 1000

struct wfs_fetch_config {
	struct wfs_cache *cache; /* borrowed; outlives the fetcher */
	struct wfs_backend backend;
	double (*clock)(void); /* monotonic seconds; NULL = the system's
				       (the cache should share it) */
	/* Most runs read ahead of a walk; also caps a group (1 = one run per
	 * request, no read-ahead). 0 = WFS_PREFETCH_RUNS_DEFAULT. */
	size_t prefetch_runs;
	/* Read-ahead requests in flight at once; 0 = the backend's
	 * max_inflight less one, left for a reader's own request. */
	unsigned workers;
};

struct wfs_fetch;

/* NULL on OOM. */
struct wfs_fetch *wfs_fetch_new(const struct wfs_fetch_config *cfg);
/* Cancels the read-ahead still queued and waits for the running one. */
void wfs_fetch_free(struct wfs_fetch *f);

/* Wait until no read-ahead is queued or running. */
void wfs_fetch_drain(struct wfs_fetch *f);

/* Store the viewer checked at mount time as the root listing. */
int wfs_fetch_seed_viewer(struct wfs_fetch *f, const struct wb_viewer *v);

/* Root listing: the viewer's entity and teams. */
int wfs_fetch_viewer(struct wfs_fetch *f, struct wfs_names **out);

/* 0 when entity `ent` is visible: listed at the root, or found by name. */
int wfs_fetch_entity(struct wfs_fetch *f, const char *ent);

/* Projects of an entity (every page); fills the project records too. */
int wfs_fetch_projects(struct wfs_fetch *f, const char *ent,
		       struct wfs_names **out);

int wfs_fetch_project(struct wfs_fetch *f, const char *ent, const char *proj,
		      struct wfs_project_rec **out, double *ttl);

/* The project with the fields a listing leaves out (runCount), for
 * project.json: one request per cache lifetime. */
int wfs_fetch_project_full(struct wfs_fetch *f, const char *ent,
			   const char *proj, struct wfs_project_rec **out,
			   double *ttl);

/* Runs of a project (light listing, every page, sorted by name); fills
 * the light run records too. */
int wfs_fetch_runs(struct wfs_fetch *f, const char *ent, const char *proj,
		   struct wfs_names **out);

/* A run's light record. */
int wfs_fetch_run(struct wfs_fetch *f, const char *ent, const char *proj,
		  const char *run, struct wfs_run_rec **out, double *ttl);

/* A heavy file of a run: part is WFS_PART_CONFIG or WFS_PART_SUMMARY. */
int wfs_fetch_run_file(struct wfs_fetch *f, const char *ent, const char *proj,
		       const char *run, enum wfs_part part,
		       struct wfs_run_file **out, double *ttl);

/* Client error code to what the kernel gets (see above); logs why. */
int wfs_fetch_errno(int rc, const struct wb_error *err, const char *what);

#endif
