/* wfs_cache.h — the ONE cache-policy module of wandbfs.
 *
 * It owns: the lifetimes (TTL per freshness class, state-aware for runs),
 * negative entries for confirmed-absent names (size-capped), the memory bound
 * with LRU eviction, and what the kernel is told (entry/attr timeouts: the
 * freshness a value has left). Everything else asks it; nothing else
 * decides a lifetime.
 *
 * Values are refcounted objects (struct wfs_obj). The cache holds one
 * reference per entry; a lookup hands the caller its own reference, so an
 * entry evicted or replaced meanwhile stays valid for whoever holds it.
 * Thread-safe (one mutex; no callbacks run under it except obj->free when
 * the cache drops the last reference).
 */
#ifndef WFS_CACHE_H
#define WFS_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- refcounted values ----------------------------------------------- */

struct wfs_obj {
	atomic_uint refs;
	size_t bytes;                    /* memory charged to the cache */
	void (*free)(struct wfs_obj *o); /* called when refs drops to 0 */
};

/* Initialise with one reference held by the caller. */
void wfs_obj_init(struct wfs_obj *o, size_t bytes,
		  void (*free_fn)(struct wfs_obj *o));
void *wfs_obj_ref(struct wfs_obj *o);  /* returns o; NULL-safe */
void wfs_obj_unref(struct wfs_obj *o); /* NULL-safe */

/* ---- policy ----------------------------------------------------------- */

/* Freshness classes: how long a value may be served without asking. */
enum wfs_class {
	WFS_CLASS_LISTING,   /* entity/project/run listings, entity & project
			       metadata: new things appear */
	WFS_CLASS_RUNNING,   /* a run that is running/pending: changes as you
			       look */
	WFS_CLASS_FINISHED,  /* a run in a final state: rarely changes */
	WFS_CLASS_NEGATIVE,  /* a confirmed-absent name */
	WFS_CLASS_IMMUTABLE, /* an artifact version, its manifest and files:
			       never change once committed; kept until
			       evicted by the memory bound */
	WFS_CLASS_ALIAS,     /* an artifact alias (latest, best ...): moves
			       when versions are logged or linked */
	WFS_CLASS_COUNT
};

struct wfs_cache_policy {
	double ttl;          /* LISTING, seconds */
	double ttl_running;  /* RUNNING */
	double ttl_finished; /* FINISHED */
	double ttl_negative; /* NEGATIVE */
	double ttl_alias;    /* ALIAS */
	size_t max_bytes;    /* memory bound over all values */
	size_t max_negative; /* bound on negative entries */
};

#define WFS_TTL_DEFAULT 60.0
#define WFS_TTL_RUNNING_DEFAULT 5.0
#define WFS_TTL_FINISHED_DEFAULT 600.0
#define WFS_TTL_NEGATIVE_DEFAULT 30.0
#define WFS_TTL_ALIAS_DEFAULT 10.0
/* IMMUTABLE: no expiry (about 30 years, finite so that the kernel's
 * timeout arithmetic stays exact). */
#define WFS_TTL_IMMUTABLE 1e9
#define WFS_MAX_BYTES_DEFAULT ((size_t)256 << 20)
#define WFS_MAX_NEGATIVE_DEFAULT 16384

void wfs_cache_policy_defaults(struct wfs_cache_policy *p);

/* The class of a run in W&B state `state` (NULL = unknown = running, the
 * cautious choice). */
enum wfs_class wfs_class_for_run_state(const char *state);

/* ---- the cache --------------------------------------------------------- */

struct wfs_cache;

/* clock returns monotonic seconds; NULL = CLOCK_MONOTONIC (tests pass a
 * fake clock). Returns NULL on OOM. */
struct wfs_cache *wfs_cache_new(const struct wfs_cache_policy *policy,
				double (*clock)(void));
void wfs_cache_free(struct wfs_cache *c);

const struct wfs_cache_policy *wfs_cache_policy(const struct wfs_cache *c);

/* TTL in seconds of a class: what the cache serves for and what the kernel
 * gets as entry/attr timeout. */
double wfs_cache_ttl(const struct wfs_cache *c, enum wfs_class cls);

/* The largest single value the cache takes (half its memory bound): a
 * bigger one (the manifest of an artifact with very many entries) would
 * evict nearly everything else, so callers refuse to build it (-EFBIG). */
size_t wfs_cache_max_value(const struct wfs_cache *c);

enum wfs_hit {
	WFS_MISS = 0, /* nothing usable */
	WFS_FRESH,    /* *out = value within its TTL */
	WFS_STALE,    /* *out = expired value (only with WFS_GET_STALE) */
	WFS_ABSENT,   /* a fresh negative entry: confirmed absent */
};

#define WFS_GET_STALE 1 /* also return expired values (as WFS_STALE) */

/* Look key up. On WFS_FRESH/WFS_STALE *out receives a reference. */
enum wfs_hit wfs_cache_get(struct wfs_cache *c, const char *key, unsigned flags,
			   struct wfs_obj **out);

/* The same, and *left (may be NULL) receives the seconds the value stays
 * fresh: what the kernel may be told to keep it for (0 unless
 * WFS_FRESH). */
enum wfs_hit wfs_cache_lookup(struct wfs_cache *c, const char *key,
			      unsigned flags, struct wfs_obj **out,
			      double *left);

/* Store val under key with the lifetime of cls (the cache takes its own
 * reference; the caller keeps its own). Replaces any previous entry.
 * Returns 0 or -ENOMEM (then nothing is stored). */
int wfs_cache_put(struct wfs_cache *c, const char *key, struct wfs_obj *val,
		  enum wfs_class cls);

/* Record key as confirmed absent for the negative TTL. */
int wfs_cache_put_absent(struct wfs_cache *c, const char *key);

/* Drop key (no-op when absent). */
void wfs_cache_drop(struct wfs_cache *c, const char *key);

struct wfs_cache_stats {
	size_t entries;
	size_t negative;
	size_t bytes;
	uint64_t hits, misses, evictions;
};
void wfs_cache_stats(struct wfs_cache *c, struct wfs_cache_stats *out);

#endif
