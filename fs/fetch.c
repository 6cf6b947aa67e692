/* fetch.c — the fetcher (wfs_fetch.h): cache first, then one client call
 * per need, single-flight per cache key, and sibling batching of run
 * records (light, or heavy with config and summary).
 *
 * Cache keys: "V" root listing, "e/ENT" entity found by name, "P/ENT"
 * project listing, "p/ENT/PROJ" project record, "R/ENT/PROJ" run listing,
 * "r/ENT/PROJ/RUN" run record. Names never contain '/' (the kernel's come
 * from path components; the server's are filtered by wfs_name_usable).
 * In-flight keys are the cache keys, except run fetches: "H" or "L" + the
 * run's key, for a fetch with or without the heavy fields.
 *
 * Locking: f->mu guards the in-flight table and is taken before the cache's
 * own lock, never after; no client call is made with f->mu held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wb_log.h"
#include "wfs_fetch.h"
#include "wb_strmap.h"

#define KEY_MAX 1024

struct flight {
	char *key;
	pthread_cond_t cond;
	int done, rc;
	struct wfs_obj *result; /* reference held by the flight */
	unsigned refs;          /* leader + waiters, under f->mu */
};

struct wfs_fetch {
	pthread_mutex_t mu;
	struct wb_strmap flights; /* key -> struct flight */
	size_t rec_bytes[2];       /* size of a [light, heavy] run record,
				      from the last batch */
};

/* Sizes assumed for run records before a batch has measured them. */
#define LIGHT_REC_GUESS 2048
#define HEAVY_REC_GUESS 16384

struct wfs_fetch *wfs_fetch_new(void)
{
	struct wfs_fetch *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	wb_strmap_init(&f->flights);
	return f;
}

void wfs_fetch_free(struct wfs_fetch *f)
{
	if (!f)
		return;
	/* Only called after the session loop ended: no flight is left. */
	wb_strmap_clear(&f->flights);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* ---- errors and the request log --------------------------------------- */

int wfs_fetch_errno(int rc, const struct wb_error *err, const char *what)
{
	static atomic_int eacces_once;
	const char *msg = err && err->msg[0] ? err->msg : strerror(-rc);

	switch (rc) {
	case 0:
	case -ENOENT:
		return rc;
	case -EACCES:
		/* One clear line, not one per file the user touches. */
		if (!atomic_exchange(&eacces_once, 1))
			wb_log(WB_LOG_ERROR, "the W&B server rejected the API "
			       "key (%s): check WANDB_API_KEY or ~/.netrc; "
			       "every access now fails with EACCES", msg);
		return rc;
	default:
		wb_log(WB_LOG_WARN, "%s: %s", what, msg);
		/* Kept when they tell the user something; the rest is EIO. */
		return rc == -ETIMEDOUT || rc == -ENOMEM || rc == -EFBIG ? rc
									 : -EIO;
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One debug line per client call: what, how many items, how long. */
static void api_done(const char *what, size_t items, double t0, int rc)
{
	wb_log(WB_LOG_DEBUG, "api %s: %zu item(s) in %.0f ms%s%s", what, items,
	       now_ms() - t0, rc ? ": " : "", rc ? strerror(-rc) : "");
}

/* ---- single-flight ------------------------------------------------------- */

static void flight_release(struct flight *fl)
{
	if (--fl->refs)
		return;
	wfs_obj_unref(fl->result);
	pthread_cond_destroy(&fl->cond);
	free(fl->key);
	free(fl);
}

/* A new flight for key, registered; called with f->mu held. */
static struct flight *flight_new(struct wfs_fetch *f, const char *key)
{
	struct flight *fl = calloc(1, sizeof(*fl));

	if (!fl)
		return NULL;
	fl->key = strdup(key);
	if (!fl->key || wb_strmap_put(&f->flights, fl->key, fl, NULL)) {
		free(fl->key);
		free(fl);
		return NULL;
	}
	pthread_cond_init(&fl->cond, NULL);
	fl->refs = 1;
	return fl;
}

/* Wait for another thread's flight; called with f->mu held, returns with it
 * released. The leader's work is bounded by the client's deadlines. */
static int flight_join(struct wfs_fetch *f, struct flight *fl,
		       struct wfs_obj **out)
{
	int rc;

	fl->refs++;
	while (!fl->done)
		pthread_cond_wait(&fl->cond, &f->mu);
	rc = fl->rc;
	*out = rc ? NULL : wfs_obj_ref(fl->result);
	flight_release(fl);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static void flight_finish_locked(struct wfs_fetch *f, struct flight *fl,
				 int rc, struct wfs_obj *result)
{
	fl->done = 1;
	fl->rc = rc;
	fl->result = rc ? NULL : wfs_obj_ref(result);
	wb_strmap_del(&f->flights, fl->key);
	pthread_cond_broadcast(&fl->cond);
	flight_release(fl);
}

static void flight_finish(struct wfs_fetch *f, struct flight *fl, int rc,
			  struct wfs_obj *result)
{
	pthread_mutex_lock(&f->mu);
	flight_finish_locked(f, fl, rc, result);
	pthread_mutex_unlock(&f->mu);
}

typedef int (*fill_fn)(struct wfs *fs, const char *key, const void *arg,
		       struct wfs_obj **out);

/* The cached value of key, or the result of fill() (run once however many
 * threads ask at the same time). fill stores what it got in the cache. */
static int cached_or_fill(struct wfs *fs, const char *key, fill_fn fill,
			  const void *arg, struct wfs_obj **out)
{
	struct wfs_fetch *f = fs->fetch;
	struct flight *fl;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&f->mu);
	switch (wfs_cache_get(fs->cache, key, 0, out)) {
	case WFS_FRESH:
		pthread_mutex_unlock(&f->mu);
		return 0;
	case WFS_ABSENT:
		pthread_mutex_unlock(&f->mu);
		return -ENOENT;
	default:
		break;
	}
	fl = wb_strmap_get(&f->flights, key);
	if (fl)
		return flight_join(f, fl, out);
	fl = flight_new(f, key);
	pthread_mutex_unlock(&f->mu);
	if (!fl)
		return -ENOMEM;
	rc = fill(fs, key, arg, out);
	flight_finish(f, fl, rc, *out);
	return rc;
}

/* Store a fill result; a cache that cannot store (OOM) still lets this
 * caller use the value. */
static void store(struct wfs *fs, const char *key, struct wfs_obj *val,
		  enum wfs_class cls)
{
	if (wfs_cache_put(fs->cache, key, val, cls))
		wb_log(WB_LOG_WARN, "cache: out of memory storing %s", key);
}

static struct wfs_obj *cached_stale(struct wfs *fs, const char *key)
{
	struct wfs_obj *o;

	wfs_cache_get(fs->cache, key, WFS_GET_STALE, &o);
	return o;
}

/* ---- viewer and entities ------------------------------------------------- */

static struct wfs_names *viewer_names(const struct wb_viewer *v)
{
	struct wfs_names *l = wfs_names_new();
	int rc = 0;

	if (!l)
		return NULL;
	if (v->entity && wfs_name_usable(v->entity))
		rc = wfs_names_add(l, v->entity);
	for (size_t i = 0; !rc && i < v->n_teams; i++)
		if (wfs_name_usable(v->teams[i]))
			rc = wfs_names_add(l, v->teams[i]);
	if (rc) {
		wfs_obj_unref(&l->obj);
		return NULL;
	}
	return l;
}

int wfs_fetch_seed_viewer(struct wfs *fs, const struct wb_viewer *v)
{
	struct wfs_names *l = viewer_names(v);

	if (!l)
		return -ENOMEM;
	store(fs, "V", &l->obj, WFS_CLASS_LISTING);
	wfs_obj_unref(&l->obj);
	return 0;
}

static int fill_viewer(struct wfs *fs, const char *key, const void *arg,
		       struct wfs_obj **out)
{
	struct wb_error err = { 0 };
	struct wb_viewer *v = NULL;
	struct wfs_names *l;
	double t0 = now_ms();
	int rc;

	(void)arg;
	rc = wb_viewer_get(fs->client, &v, &err);
	api_done("Viewer", rc ? 0 : 1, t0, rc);
	if (rc)
		return wfs_fetch_errno(rc == -ENOENT ? -EACCES : rc, &err,
				       "viewer");
	l = viewer_names(v);
	wb_viewer_free(v);
	if (!l)
		return -ENOMEM;
	store(fs, key, &l->obj, WFS_CLASS_LISTING);
	*out = &l->obj;
	return 0;
}

int wfs_fetch_viewer(struct wfs *fs, struct wfs_names **out)
{
	return cached_or_fill(fs, "V", fill_viewer, NULL,
			      (struct wfs_obj **)out);
}

/* A marker value: "this entity exists". */
static void marker_free(struct wfs_obj *o)
{
	free(o);
}

static int fill_entity(struct wfs *fs, const char *key, const void *arg,
		       struct wfs_obj **out)
{
	const char *ent = arg;
	struct wb_error err = { 0 };
	struct wb_entity *e = NULL;
	struct wfs_obj *mark;
	char what[KEY_MAX];
	double t0 = now_ms();
	int rc;

	rc = wb_entity_get(fs->client, ent, &e, &err);
	snprintf(what, sizeof(what), "Entity %s", ent);
	api_done(what, rc ? 0 : 1, t0, rc);
	wb_entity_free(e);
	if (rc == -ENOENT) {
		wfs_cache_put_absent(fs->cache, key);
		return -ENOENT;
	}
	if (rc)
		return wfs_fetch_errno(rc, &err, what);
	mark = malloc(sizeof(*mark));
	if (!mark)
		return -ENOMEM;
	wfs_obj_init(mark, sizeof(*mark), marker_free);
	store(fs, key, mark, WFS_CLASS_LISTING);
	*out = mark;
	return 0;
}

int wfs_fetch_entity(struct wfs *fs, const char *ent)
{
	struct wfs_names *root;
	struct wfs_obj *mark;
	char key[KEY_MAX];
	int rc;

	rc = wfs_fetch_viewer(fs, &root);
	if (rc)
		return rc;
	rc = wfs_names_find(root, ent) >= 0 ? 0 : -ENOENT;
	wfs_obj_unref(&root->obj);
	if (rc == 0)
		return 0;
	snprintf(key, sizeof(key), "e/%s", ent);
	rc = cached_or_fill(fs, key, fill_entity, ent, &mark);
	wfs_obj_unref(mark);
	return rc;
}

/* ---- projects ------------------------------------------------------------ */

struct list_ctx {
	struct wfs *fs;
	const char *ent, *proj;
	struct wfs_names *names;
	int rc;
};

/* Render a project, reusing unchanged bytes of its previous record, and
 * store it. Returns the record (new reference) or NULL on OOM. */
static struct wfs_project_rec *project_store(struct wfs *fs, const char *ent,
					     const struct wb_project *p)
{
	struct wfs_project_rec *prev, *rec;
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "p/%s/%s", ent, p->name);
	prev = (struct wfs_project_rec *)cached_stale(fs, key);
	rec = wfs_render_project(p, prev);
	wfs_obj_unref(prev ? &prev->obj : NULL);
	if (rec)
		store(fs, key, &rec->obj, WFS_CLASS_LISTING);
	return rec;
}

static int project_cb(void *ud, struct wb_project *p)
{
	struct list_ctx *ctx = ud;
	struct wfs_project_rec *rec;

	if (p->name && wfs_name_usable(p->name)) {
		rec = project_store(ctx->fs, ctx->ent, p);
		if (!rec || wfs_names_add(ctx->names, p->name))
			ctx->rc = -ENOMEM;
		wfs_obj_unref(rec ? &rec->obj : NULL);
	}
	wb_project_free(p);
	return ctx->rc;
}

/* The end of a listing fill, shared by projects and runs: log the request,
 * turn a failure into its errno (caching a confirmed absence when asked),
 * else sort the names and store them. Name order is what ls, shell globs
 * and readdir walk, so the siblings fetched together are the ones read
 * next. */
static int listing_done(struct wfs *fs, const char *key, struct list_ctx *ctx,
			int rc, const struct wb_error *err, const char *what,
			double t0, int cache_absent, struct wfs_obj **out)
{
	api_done(what, ctx->names->n, t0, rc);
	if (!rc)
		rc = ctx->rc;
	if (rc) {
		wfs_obj_unref(&ctx->names->obj);
		if (rc == -ENOENT && cache_absent) {
			wfs_cache_put_absent(fs->cache, key);
			return -ENOENT;
		}
		return wfs_fetch_errno(rc, err, what);
	}
	wfs_names_sort(ctx->names);
	store(fs, key, &ctx->names->obj, WFS_CLASS_LISTING);
	*out = &ctx->names->obj;
	return 0;
}

static int fill_projects(struct wfs *fs, const char *key, const void *arg,
			 struct wfs_obj **out)
{
	struct list_ctx ctx = { .fs = fs, .ent = arg };
	struct wb_error err = { 0 };
	char what[KEY_MAX];
	double t0 = now_ms();
	int rc;

	ctx.names = wfs_names_new();
	if (!ctx.names)
		return -ENOMEM;
	rc = wb_projects_list(fs->client, ctx.ent, 0, project_cb, &ctx, &err);
	snprintf(what, sizeof(what), "Projects %s", ctx.ent);
	return listing_done(fs, key, &ctx, rc, &err, what, t0, 0, out);
}

int wfs_fetch_projects(struct wfs *fs, const char *ent,
		       struct wfs_names **out)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "P/%s", ent);
	return cached_or_fill(fs, key, fill_projects, ent,
			      (struct wfs_obj **)out);
}

static int fill_project(struct wfs *fs, const char *key, const void *arg,
			struct wfs_obj **out)
{
	const struct list_ctx *id = arg;
	struct wb_error err = { 0 };
	struct wb_project *p = NULL;
	struct wfs_project_rec *rec;
	char what[KEY_MAX];
	double t0 = now_ms();
	int rc;

	rc = wb_project_get(fs->client, id->ent, id->proj, &p, &err);
	snprintf(what, sizeof(what), "Project %s/%s", id->ent, id->proj);
	api_done(what, rc ? 0 : 1, t0, rc);
	if (rc == -ENOENT) {
		wfs_cache_put_absent(fs->cache, key);
		return -ENOENT;
	}
	if (rc)
		return wfs_fetch_errno(rc, &err, what);
	/* The server may answer with a differently-cased name (wandb-api.md
	 * §12.20); the record is filed under the name that was asked for. */
	rec = wfs_render_project(p, NULL);
	wb_project_free(p);
	if (!rec)
		return -ENOMEM;
	store(fs, key, &rec->obj, WFS_CLASS_LISTING);
	*out = &rec->obj;
	return 0;
}

/* -ENOENT when a fresh listing under listing_key lacks name; else 0 (no
 * fresh listing, or the name is in it). */
static int listing_lacks(struct wfs *fs, const char *listing_key,
			 const char *name)
{
	struct wfs_obj *o;
	int rc = 0;

	if (wfs_cache_get(fs->cache, listing_key, 0, &o) == WFS_FRESH) {
		if (wfs_names_find((struct wfs_names *)o, name) < 0)
			rc = -ENOENT;
		wfs_obj_unref(o);
	}
	return rc;
}

int wfs_fetch_project(struct wfs *fs, const char *ent, const char *proj,
		      struct wfs_project_rec **out)
{
	struct list_ctx id = { .fs = fs, .ent = ent, .proj = proj };
	char key[KEY_MAX], lkey[KEY_MAX];
	int rc;

	*out = NULL;
	snprintf(key, sizeof(key), "p/%s/%s", ent, proj);
	snprintf(lkey, sizeof(lkey), "P/%s", ent);
	/* A fresh listing is authoritative: a name missing from it costs no
	 * request (shells probe .git, .hidden, ... in every directory). */
	switch (wfs_cache_get(fs->cache, key, 0, (struct wfs_obj **)out)) {
	case WFS_FRESH:
		return 0;
	case WFS_ABSENT:
		return -ENOENT;
	default:
		break;
	}
	rc = listing_lacks(fs, lkey, proj);
	if (rc)
		return rc;
	return cached_or_fill(fs, key, fill_project, &id,
			      (struct wfs_obj **)out);
}

int wfs_fetch_project_full(struct wfs *fs, const char *ent, const char *proj,
			   struct wfs_project_rec **out)
{
	struct list_ctx id = { .fs = fs, .ent = ent, .proj = proj };
	char key[KEY_MAX];

	*out = NULL;
	snprintf(key, sizeof(key), "pj/%s/%s", ent, proj);
	return cached_or_fill(fs, key, fill_project, &id,
			      (struct wfs_obj **)out);
}

/* ---- runs ---------------------------------------------------------------- */

static void run_key(char *key, const char *ent, const char *proj,
		    const char *run)
{
	snprintf(key, KEY_MAX, "r/%s/%s/%s", ent, proj, run);
}

/* Render and store a run record from a listing (light) or a fetch (heavy).
 * A light record does not replace a fresh heavy one whose light fields are
 * unchanged (that would only throw the heavy fields away). Returns the
 * record now cached (new reference), or NULL on OOM. */
static struct wfs_run_rec *run_store(struct wfs *fs, const char *ent,
				     const char *proj, const struct wb_run *r)
{
	struct wfs_run_rec *prev = NULL, *rec;
	char key[KEY_MAX];
	enum wfs_hit hit;
	int rc;

	run_key(key, ent, proj, r->name);
	hit = wfs_cache_get(fs->cache, key, WFS_GET_STALE,
			    (struct wfs_obj **)&prev);
	rc = wfs_render_run(r, ent, proj, prev, &rec);
	if (rc) {
		wfs_obj_unref(prev ? &prev->obj : NULL);
		return NULL;
	}
	if (hit == WFS_FRESH && prev->heavy && !rec->heavy &&
	    prev->metadata == rec->metadata) {
		wfs_obj_unref(&rec->obj);
		return prev;
	}
	wfs_obj_unref(prev ? &prev->obj : NULL);
	store(fs, key, &rec->obj, rec->cls);
	return rec;
}

static int run_list_cb(void *ud, struct wb_run *r)
{
	struct list_ctx *ctx = ud;
	struct wfs_run_rec *rec;

	if (r->name && wfs_name_usable(r->name)) {
		rec = run_store(ctx->fs, ctx->ent, ctx->proj, r);
		if (!rec || wfs_names_add(ctx->names, r->name))
			ctx->rc = -ENOMEM;
		wfs_obj_unref(rec ? &rec->obj : NULL);
	}
	wb_run_free(r);
	return ctx->rc;
}

static int fill_runs(struct wfs *fs, const char *key, const void *arg,
		     struct wfs_obj **out)
{
	const struct list_ctx *id = arg;
	struct list_ctx ctx = { .fs = fs, .ent = id->ent, .proj = id->proj };
	struct wb_runs_query q = { 0 };
	struct wb_error err = { 0 };
	char what[KEY_MAX];
	double t0 = now_ms();
	int rc;

	ctx.names = wfs_names_new();
	if (!ctx.names)
		return -ENOMEM;
	rc = wb_runs_list(fs->client, ctx.ent, ctx.proj, &q, run_list_cb, &ctx,
			  &err);
	snprintf(what, sizeof(what), "Runs %s/%s", ctx.ent, ctx.proj);
	return listing_done(fs, key, &ctx, rc, &err, what, t0, 1, out);
}

int wfs_fetch_runs(struct wfs *fs, const char *ent, const char *proj,
		   struct wfs_names **out)
{
	struct list_ctx id = { .fs = fs, .ent = ent, .proj = proj };
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "R/%s/%s", ent, proj);
	return cached_or_fill(fs, key, fill_runs, &id, (struct wfs_obj **)out);
}

/* One batch: the run asked for plus siblings, one flight each; with
 * `heavy`, config and summary are fetched too. */
struct batch {
	struct wfs *fs;
	const char *ent, *proj;
	int heavy;
	size_t n, found, bytes;
	char **names;              /* owned copies */
	struct flight **flights;
	struct wb_strmap index;   /* run name -> position + 1 */
	struct wfs_run_rec *first; /* result for names[0] (reference) */
	int rc;
	/* wb_runs_fetch() calls batch_cb from several threads at once: mu
	 * guards flights[], found, bytes, first and rc; rendering and storing
	 * happen outside it. */
	pthread_mutex_t mu;
};

/* The in-flight key of a run fetch: "H" (heavy) or "L" (light) + the run's
 * cache key. A heavy flight serves light needs too, never the reverse. */
static void flight_key(char *fkey, const char *key, int heavy)
{
	snprintf(fkey, KEY_MAX, "%c%s", heavy ? 'H' : 'L', key);
}

/* A flight that serves this need for run `key`, or NULL; f->mu held. */
static struct flight *run_flight(struct wfs_fetch *f, const char *key,
				 int heavy)
{
	char fkey[KEY_MAX];
	struct flight *fl;

	flight_key(fkey, key, 1);
	fl = wb_strmap_get(&f->flights, fkey);
	if (!fl && !heavy) {
		flight_key(fkey, key, 0);
		fl = wb_strmap_get(&f->flights, fkey);
	}
	return fl;
}

/* Whether a sibling belongs in the batch: nobody fetching what the batch
 * would bring, and its record missing or expired, or (for a heavy batch)
 * light only. Called with f->mu held. */
static int sibling_wanted(struct wfs *fs, const char *key, int heavy)
{
	struct wfs_run_rec *rec;
	enum wfs_hit hit;
	int want;

	if (run_flight(fs->fetch, key, heavy))
		return 0;
	hit = wfs_cache_get(fs->cache, key, 0, (struct wfs_obj **)&rec);
	want = hit == WFS_MISS || (heavy && hit == WFS_FRESH && !rec->heavy);
	wfs_obj_unref(rec ? &rec->obj : NULL);
	return want;
}

/* Add run `name` (cache key `key`) to the batch with a new flight; f->mu
 * held. */
static int batch_add(struct batch *b, const char *key, const char *name)
{
	char fkey[KEY_MAX];
	struct flight *fl;

	flight_key(fkey, key, b->heavy);
	fl = flight_new(b->fs->fetch, fkey);
	if (!fl)
		return -ENOMEM;
	b->names[b->n] = strdup(name);
	if (!b->names[b->n] ||
	    wb_strmap_put(&b->index, b->names[b->n],
			   (void *)(uintptr_t)(b->n + 1), NULL)) {
		free(b->names[b->n]);
		flight_finish_locked(b->fs->fetch, fl, -ENOMEM, NULL);
		return -ENOMEM;
	}
	b->flights[b->n++] = fl;
	return 0;
}

/* Siblings of `run` in listing order (wrapping) that the batch should
 * carry, up to max; f->mu held. */
static void batch_add_siblings(struct batch *b, const char *run, size_t max)
{
	struct wfs_names *list;
	char key[KEY_MAX];
	long at;

	snprintf(key, sizeof(key), "R/%s/%s", b->ent, b->proj);
	list = (struct wfs_names *)cached_stale(b->fs, key);
	if (!list)
		return;
	at = wfs_names_find(list, run);
	for (size_t i = 1; i < list->n && b->n < max; i++) {
		const char *name = list->v[((size_t)(at < 0 ? 0 : at) + i) %
					   list->n];

		if (strcmp(name, run) == 0)
			continue;
		run_key(key, b->ent, b->proj, name);
		if (sibling_wanted(b->fs, key, b->heavy) &&
		    batch_add(b, key, name))
			break;
	}
	wfs_obj_unref(&list->obj);
}

static int batch_cb(void *ud, struct wb_run *r)
{
	struct batch *b = ud;
	uintptr_t pos = r->name ? (uintptr_t)wb_strmap_get(&b->index, r->name)
				: 0;
	struct wfs_run_rec *rec = NULL;
	struct flight *fl = NULL;
	int rc;

	/* Claim the run's flight: each is finished once. */
	pthread_mutex_lock(&b->mu);
	if (pos) {
		fl = b->flights[pos - 1];
		b->flights[pos - 1] = NULL;
	}
	pthread_mutex_unlock(&b->mu);
	if (fl)
		rec = run_store(b->fs, b->ent, b->proj, r);
	pthread_mutex_lock(&b->mu);
	if (fl && !rec) {
		b->rc = -ENOMEM;
	} else if (fl) {
		if (pos == 1)
			b->first = wfs_obj_ref(&rec->obj);
		b->found++;
		b->bytes += rec->obj.bytes;
	}
	rc = b->rc;
	pthread_mutex_unlock(&b->mu);
	if (fl)
		flight_finish(b->fs->fetch, fl, rec ? 0 : -ENOMEM,
			      rec ? &rec->obj : NULL);
	wfs_obj_unref(rec ? &rec->obj : NULL);
	wb_run_free(r);
	return rc;
}

/* Fetch the batch with one wb_runs_fetch() call and finish every flight:
 * with the record, -ENOENT for runs the server did not report (a
 * successful call confirms their absence), or the call's error. */
static int batch_run(struct batch *b)
{
	struct wfs *fs = b->fs;
	struct wb_error err = { 0 };
	char what[KEY_MAX];
	double t0 = now_ms();
	int rc;

	rc = wb_runs_fetch(fs->client, b->ent, b->proj,
			   (const char *const *)b->names, b->n,
			   b->heavy ? WB_RUN_CONFIG | WB_RUN_SUMMARY : 0,
			   batch_cb, b, &err);
	snprintf(what, sizeof(what), "Runs %s/%s %s + %zu sibling(s)%s",
		 b->ent, b->proj, b->names[0], b->n - 1,
		 b->heavy ? " with config, summary" : "");
	api_done(what, b->found, t0, rc);
	if (b->found) {
		pthread_mutex_lock(&fs->fetch->mu);
		fs->fetch->rec_bytes[b->heavy] = b->bytes / b->found;
		pthread_mutex_unlock(&fs->fetch->mu);
	}
	if (!rc)
		rc = b->rc;
	if (rc && rc != -ENOENT)
		rc = wfs_fetch_errno(rc, &err, what);
	for (size_t i = 0; i < b->n; i++) {
		char key[KEY_MAX];

		if (!b->flights[i])
			continue;
		if (rc == 0 || rc == -ENOENT) {
			run_key(key, b->ent, b->proj, b->names[i]);
			wfs_cache_put_absent(fs->cache, key);
		}
		flight_finish(fs->fetch, b->flights[i], rc ? rc : -ENOENT,
			      NULL);
		b->flights[i] = NULL;
	}
	if (b->first)
		return 0;
	return rc ? rc : -ENOENT;
}

/* Lead a batch for run `key`/`run`; called with f->mu held, returns with
 * it released. */
static int batch_lead(struct wfs *fs, const char *ent, const char *proj,
		      const char *key, const char *run, int heavy,
		      struct wfs_run_rec **out)
{
	struct batch b = { .fs = fs, .ent = ent, .proj = proj,
			   .heavy = heavy };
	size_t max = fs->opt.prefetch_runs ? fs->opt.prefetch_runs : 1;
	size_t per = fs->fetch->rec_bytes[heavy];
	size_t fit;
	int rc;

	/* A batch the cache cannot hold would evict itself (and the listing
	 * that finds the siblings) before it is read: keep a batch within a
	 * quarter of the memory bound. */
	if (!per)
		per = heavy ? HEAVY_REC_GUESS : LIGHT_REC_GUESS;
	fit = wfs_cache_policy(fs->cache)->max_bytes / 4 / per;
	if (fit < max)
		max = fit ? fit : 1;
	b.names = calloc(max, sizeof(*b.names));
	b.flights = calloc(max, sizeof(*b.flights));
	wb_strmap_init(&b.index);
	pthread_mutex_init(&b.mu, NULL);
	rc = b.names && b.flights ? batch_add(&b, key, run) : -ENOMEM;
	if (!rc && max > 1)
		batch_add_siblings(&b, run, max);
	pthread_mutex_unlock(&fs->fetch->mu);
	if (!rc)
		rc = batch_run(&b);
	pthread_mutex_destroy(&b.mu);
	wb_strmap_clear(&b.index);
	for (size_t i = 0; i < b.n; i++)
		free(b.names[i]);
	free(b.names);
	free(b.flights);
	*out = rc ? NULL : b.first;
	if (rc)
		wfs_obj_unref(b.first ? &b.first->obj : NULL);
	return rc;
}

int wfs_fetch_run(struct wfs *fs, const char *ent, const char *proj,
		  const char *run, int heavy, struct wfs_run_rec **out)
{
	struct wfs_fetch *f = fs->fetch;
	char key[KEY_MAX], lkey[KEY_MAX];
	struct wfs_run_rec *rec = NULL;
	struct wfs_obj *any = NULL;
	struct flight *fl;

	*out = NULL;
	run_key(key, ent, proj, run);
	snprintf(lkey, sizeof(lkey), "R/%s/%s", ent, proj);
	pthread_mutex_lock(&f->mu);
	switch (wfs_cache_get(fs->cache, key, 0, (struct wfs_obj **)&rec)) {
	case WFS_FRESH:
		if (!heavy || rec->heavy) {
			pthread_mutex_unlock(&f->mu);
			*out = rec;
			return 0;
		}
		wfs_obj_unref(&rec->obj);
		break;
	case WFS_ABSENT:
		pthread_mutex_unlock(&f->mu);
		return -ENOENT;
	default:
		/* A fresh listing is authoritative (see wfs_fetch_project). */
		if (listing_lacks(fs, lkey, run)) {
			pthread_mutex_unlock(&f->mu);
			return -ENOENT;
		}
		break;
	}
	fl = run_flight(f, key, heavy);
	if (fl)
		return flight_join(f, fl, (struct wfs_obj **)out);
	/* A run reached by its path, with no listing around: its files are
	 * what comes next, so one request brings them along. */
	if (!heavy && !wfs_cache_get(fs->cache, lkey, WFS_GET_STALE, &any))
		heavy = 1;
	wfs_obj_unref(any);
	return batch_lead(fs, ent, proj, key, run, heavy, out);
}
