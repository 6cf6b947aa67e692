/* wfs_fill.h — the fetcher's machinery for fill modules that call the
 * client themselves (fetch_artifacts.c): single-flight cache-or-fill,
 * storing a fill's result, the per-call debug line, and the "a fresh
 * listing is authoritative" check. What a cache key means and which class
 * a value gets stays with each fill module.
 */
#ifndef WFS_FILL_H
#define WFS_FILL_H

#include "wfs.h"

/* Longest cache key (keys are built from names the kernel or the server
 * gave, each bounded). */
#define WFS_KEY_MAX 1024

/* Fill `key`: make the client call, store the result (wfs_fill_store)
 * and return it in *out with a reference for the caller. */
typedef int (*wfs_fill_fn)(struct wfs *fs, const char *key, const void *arg,
			   struct wfs_obj **out);

/* The fresh cached value of key (or -ENOENT for a fresh negative entry),
 * else the result of fill(), run once however many threads ask at once. */
int wfs_fill_cached(struct wfs *fs, const char *key, wfs_fill_fn fill,
		    const void *arg, struct wfs_obj **out);

/* Store val under key with the lifetime of cls; a cache that cannot store
 * (OOM) is logged and the caller still uses the value. */
void wfs_fill_store(struct wfs *fs, const char *key, struct wfs_obj *val,
		    enum wfs_class cls);

/* Monotonic milliseconds, and the debug line of one client call: what,
 * how many items, how long since t0. */
double wfs_fill_now_ms(struct wfs *fs);
void wfs_fill_logged(struct wfs *fs, const char *what, size_t items, double t0,
		     int rc);

/* -ENOENT when a fresh listing (struct wfs_names) under listing_key lacks
 * name; 0 when there is no fresh listing or the name is in it. */
int wfs_fill_lacks(struct wfs *fs, const char *listing_key, const char *name);

#endif
