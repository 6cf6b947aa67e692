/* cache.c — the cache-policy module (wfs_cache.h): TTL classes, negative
 * entries, memory bound with LRU eviction, kernel timeouts.
 *
 * One hash map from key to entry plus one LRU list (most recent at head).
 * Each entry is charged its value's bytes plus its own overhead; when the
 * total passes max_bytes, or negative entries pass max_negative, entries are
 * evicted from the tail. Expired entries stay until evicted or replaced:
 * callers may ask for them (WFS_GET_STALE) to reuse unchanged bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wfs_cache.h"
#include "wb_strmap.h"

struct entry {
	char *key;
	struct wfs_obj *val; /* NULL for a negative entry */
	enum wfs_class cls;
	double expires;            /* clock() value */
	size_t charge;             /* bytes counted for this entry */
	struct entry *prev, *next; /* LRU, head = most recent */
};

struct wfs_cache {
	pthread_mutex_t mu;
	struct wfs_cache_policy pol;
	double (*clock)(void);
	struct wb_strmap map; /* key -> struct entry */
	struct entry *head, *tail;
	size_t bytes, negative;
	uint64_t hits, misses, evictions;
};

/* ---- objects ----------------------------------------------------------- */

void wfs_obj_init(struct wfs_obj *o, size_t bytes,
		  void (*free_fn)(struct wfs_obj *o))
{
	atomic_init(&o->refs, 1);
	o->bytes = bytes;
	o->free = free_fn;
}

void *wfs_obj_ref(struct wfs_obj *o)
{
	if (o)
		atomic_fetch_add(&o->refs, 1);
	return o;
}

void wfs_obj_unref(struct wfs_obj *o)
{
	if (o && atomic_fetch_sub(&o->refs, 1) == 1)
		o->free(o);
}

/* ---- policy ------------------------------------------------------------ */

void wfs_cache_policy_defaults(struct wfs_cache_policy *p)
{
	p->ttl = WFS_TTL_DEFAULT;
	p->ttl_running = WFS_TTL_RUNNING_DEFAULT;
	p->ttl_finished = WFS_TTL_FINISHED_DEFAULT;
	p->ttl_negative = WFS_TTL_NEGATIVE_DEFAULT;
	p->ttl_alias = WFS_TTL_ALIAS_DEFAULT;
	p->max_bytes = WFS_MAX_BYTES_DEFAULT;
	p->max_negative = WFS_MAX_NEGATIVE_DEFAULT;
}

enum wfs_class wfs_class_for_run_state(const char *state)
{
	/* States from which a run still changes; anything else (finished,
	 * crashed, failed, killed, preempted) is final. */
	static const char *const live[] = { "running", "pending",
					    "preempting" };

	if (!state)
		return WFS_CLASS_RUNNING;
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (strcmp(state, live[i]) == 0)
			return WFS_CLASS_RUNNING;
	return WFS_CLASS_FINISHED;
}

double wfs_cache_ttl(const struct wfs_cache *c, enum wfs_class cls)
{
	switch (cls) {
	case WFS_CLASS_RUNNING:
		return c->pol.ttl_running;
	case WFS_CLASS_FINISHED:
		return c->pol.ttl_finished;
	case WFS_CLASS_NEGATIVE:
		return c->pol.ttl_negative;
	case WFS_CLASS_ALIAS:
		return c->pol.ttl_alias;
	case WFS_CLASS_IMMUTABLE:
		return WFS_TTL_IMMUTABLE;
	default:
		return c->pol.ttl;
	}
}

size_t wfs_cache_max_value(const struct wfs_cache *c)
{
	return c->pol.max_bytes / 2;
}

const struct wfs_cache_policy *wfs_cache_policy(const struct wfs_cache *c)
{
	return &c->pol;
}

/* ---- the store ----------------------------------------------------------- */

static double mono_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct wfs_cache *wfs_cache_new(const struct wfs_cache_policy *policy,
				double (*clock)(void))
{
	struct wfs_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (policy)
		c->pol = *policy;
	else
		wfs_cache_policy_defaults(&c->pol);
	c->clock = clock ? clock : mono_clock;
	pthread_mutex_init(&c->mu, NULL);
	wb_strmap_init(&c->map);
	return c;
}

static void lru_unlink(struct wfs_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_head(struct wfs_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

/* Unlink e from everything; the caller unrefs the returned value outside
 * the lock (its free may be arbitrarily costly). */
static struct wfs_obj *entry_remove(struct wfs_cache *c, struct entry *e)
{
	struct wfs_obj *val = e->val;

	wb_strmap_del(&c->map, e->key);
	lru_unlink(c, e);
	c->bytes -= e->charge;
	if (!val)
		c->negative--;
	free(e->key);
	free(e);
	return val;
}

/* Values dropped under the lock, released after it. Bounded by the number
 * of entries evicted by one insertion; falls back to releasing inline
 * (still correct, only slower under the lock) if the batch is full. */
#define DROP_BATCH 64
struct drops {
	struct wfs_obj *v[DROP_BATCH];
	size_t n;
};

static void drops_add(struct drops *d, struct wfs_obj *o)
{
	if (!o)
		return;
	if (d->n < DROP_BATCH)
		d->v[d->n++] = o;
	else
		wfs_obj_unref(o);
}

static void drops_release(struct drops *d)
{
	for (size_t i = 0; i < d->n; i++)
		wfs_obj_unref(d->v[i]);
	d->n = 0;
}

/* Evict from the LRU tail until within bounds; `keep` is never evicted
 * (the entry being inserted). */
static void enforce_bounds(struct wfs_cache *c, struct entry *keep,
			   struct drops *d)
{
	struct entry *e = c->tail;

	while (e &&
	       (c->bytes > c->pol.max_bytes ||
		c->negative > c->pol.max_negative)) {
		struct entry *prev = e->prev;

		/* Over the negative cap only: evict negatives only. */
		if (e != keep && (c->bytes > c->pol.max_bytes || !e->val)) {
			drops_add(d, entry_remove(c, e));
			c->evictions++;
		}
		e = prev;
	}
}

enum wfs_hit wfs_cache_lookup(struct wfs_cache *c, const char *key,
			      unsigned flags, struct wfs_obj **out,
			      double *left)
{
	enum wfs_hit hit = WFS_MISS;
	struct entry *e;
	double now;

	*out = NULL;
	if (left)
		*left = 0;
	pthread_mutex_lock(&c->mu);
	e = wb_strmap_get(&c->map, key);
	if (e) {
		int fresh = (now = c->clock()) < e->expires;

		if (!e->val) {
			hit = fresh ? WFS_ABSENT : WFS_MISS;
		} else if (fresh || (flags & WFS_GET_STALE)) {
			hit = fresh ? WFS_FRESH : WFS_STALE;
			*out = wfs_obj_ref(e->val);
		}
		if (hit != WFS_MISS) {
			lru_unlink(c, e);
			lru_push_head(c, e);
		}
		if (hit == WFS_FRESH && left)
			*left = e->expires - now;
	}
	if (hit == WFS_FRESH || hit == WFS_ABSENT)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

enum wfs_hit wfs_cache_get(struct wfs_cache *c, const char *key, unsigned flags,
			   struct wfs_obj **out)
{
	return wfs_cache_lookup(c, key, flags, out, NULL);
}

static int store(struct wfs_cache *c, const char *key, struct wfs_obj *val,
		 enum wfs_class cls)
{
	struct drops d = { .n = 0 };
	struct entry *e = calloc(1, sizeof(*e)), *old;
	int rc;

	if (!e)
		return -ENOMEM;
	e->key = strdup(key);
	if (!e->key) {
		free(e);
		return -ENOMEM;
	}
	e->val = wfs_obj_ref(val);
	e->cls = cls;
	e->charge = sizeof(*e) + strlen(key) + 1 + (val ? val->bytes : 0);
	pthread_mutex_lock(&c->mu);
	e->expires = c->clock() + wfs_cache_ttl(c, cls);
	old = wb_strmap_get(&c->map, key);
	if (old)
		drops_add(&d, entry_remove(c, old));
	rc = wb_strmap_put(&c->map, e->key, e, NULL);
	if (rc == 0) {
		lru_push_head(c, e);
		c->bytes += e->charge;
		if (!val)
			c->negative++;
		enforce_bounds(c, e, &d);
	}
	pthread_mutex_unlock(&c->mu);
	drops_release(&d);
	if (rc) {
		wfs_obj_unref(e->val);
		free(e->key);
		free(e);
	}
	return rc;
}

int wfs_cache_put(struct wfs_cache *c, const char *key, struct wfs_obj *val,
		  enum wfs_class cls)
{
	return store(c, key, val, cls);
}

int wfs_cache_put_absent(struct wfs_cache *c, const char *key)
{
	return store(c, key, NULL, WFS_CLASS_NEGATIVE);
}

void wfs_cache_drop(struct wfs_cache *c, const char *key)
{
	struct wfs_obj *val = NULL;
	struct entry *e;

	pthread_mutex_lock(&c->mu);
	e = wb_strmap_get(&c->map, key);
	if (e)
		val = entry_remove(c, e);
	pthread_mutex_unlock(&c->mu);
	wfs_obj_unref(val);
}

void wfs_cache_stats(struct wfs_cache *c, struct wfs_cache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	out->entries = c->map.used;
	out->negative = c->negative;
	out->bytes = c->bytes;
	out->hits = c->hits;
	out->misses = c->misses;
	out->evictions = c->evictions;
	pthread_mutex_unlock(&c->mu);
}

void wfs_cache_free(struct wfs_cache *c)
{
	if (!c)
		return;
	while (c->head)
		wfs_obj_unref(entry_remove(c, c->head));
	wb_strmap_clear(&c->map);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
