/* fetch_core.h — the fetcher's state and helpers, private to its two files:
 * fetch.c (the key scheme, single-flight fills, listings) and fetch_runs.c
 * (run parts: groups and read-ahead).
 *
 * Cache keys: "V" root listing, "e/ENT" entity found by name, "P/ENT"
 * project listing, "p/ENT/PROJ" project record, "pj/ENT/PROJ" project with
 * runCount, "R/ENT/PROJ" run listing, and per run "r/ENT/PROJ/RUN" light
 * record, "c/..." config.json, "s/..." summary.json. Names never contain
 * '/' (the kernel's come from path components; the server's are filtered by
 * wfs_name_usable). A flight's key is the key of the entry it fills.
 */
#ifndef FETCH_CORE_H
#define FETCH_CORE_H

#include <pthread.h>

#include "wfs_fetch.h"
#include "wfs_flight.h"
#include "wfs_pool.h"
#include "wfs_readahead.h"

#define KEY_MAX 1024

struct wfs_fetch {
	struct wfs_cache *cache;
	struct wfs_backend be;
	double (*clock)(void);
	struct wfs_flights *flights;
	struct wfs_ra *ra;
	struct wfs_pool *pool;
	size_t group_heavy, group_light; /* runs per group */
	size_t ahead_max;                /* most runs read ahead */
	pthread_mutex_t stats_mu;
	size_t part_bytes[WFS_PARTS]; /* cache bytes per run of a part,
					    last measured (under stats_mu) */
};

/* Store a value; a cache that cannot store (OOM) still lets this caller
 * use it. */
void wfs_fetch_store(struct wfs_fetch *f, const char *key, struct wfs_obj *val,
		     enum wfs_class cls);

/* The cached value of key, fresh or expired, or NULL. */
struct wfs_obj *wfs_fetch_stale(struct wfs_fetch *f, const char *key);

/* -ENOENT when a fresh listing under listing_key lacks name; else 0 (no
 * fresh listing, or the name is in it). A fresh listing is authoritative:
 * a name missing from it costs no request (shells probe .git, .hidden,
 * ... in every directory). */
int wfs_fetch_listing_lacks(struct wfs_fetch *f, const char *listing_key,
			    const char *name);

/* Make r (taken over) the light record stored under key, keeping the
 * record it replaces when the light fields are the same: 0 with *out (a
 * new reference), or -ENOMEM. */
int wfs_fetch_run_store(struct wfs_fetch *f, const char *key, struct wb_run *r,
			struct wfs_run_rec **out);

/* Milliseconds on the fetcher's clock, and one debug line per backend
 * call: what, how many items, how long. */
double wfs_fetch_ms(struct wfs_fetch *f);
void wfs_fetch_logged(struct wfs_fetch *f, const char *what, size_t items,
		      double t0, int rc);

/* Set up and tear down the run half (fetch_runs.c). */
int wfs_fetch_runs_init(struct wfs_fetch *f, const struct wfs_fetch_config *c);
void wfs_fetch_runs_fini(struct wfs_fetch *f);

#endif
