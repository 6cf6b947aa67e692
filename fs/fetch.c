/* fetch.c — the fetcher (wfs_fetch.h), its key scheme (fetch_core.h) and
 * everything but run parts: the root listing, entities, projects and run
 * listings, each a cache-or-fill under single-flight. Run parts (light
 * records and heavy files, in groups, with read-ahead) are fetch_runs.c.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch_core.h"
#include "wfs.h"
#include "wfs_fill.h"
#include "wb_log.h"

static double system_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct wfs_fetch *wfs_fetch_new(const struct wfs_fetch_config *cfg)
{
	struct wfs_fetch *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cache = cfg->cache;
	f->be = cfg->backend;
	f->clock = cfg->clock ? cfg->clock : system_clock;
	pthread_mutex_init(&f->stats_mu, NULL);
	f->flights = wfs_flights_new();
	if (!f->flights || wfs_fetch_runs_init(f, cfg)) {
		wfs_fetch_free(f);
		return NULL;
	}
	return f;
}

void wfs_fetch_free(struct wfs_fetch *f)
{
	if (!f)
		return;
	/* Read-ahead first: its jobs finish their flights. */
	wfs_fetch_runs_fini(f);
	wfs_flights_free(f->flights);
	pthread_mutex_destroy(&f->stats_mu);
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
			wb_log(WB_LOG_ERROR,
			       "the W&B server rejected the API "
			       "key (%s): check WANDB_API_KEY or ~/.netrc; "
			       "every access now fails with EACCES",
			       msg);
		return rc;
	default:
		wb_log(WB_LOG_WARN, "%s: %s", what, msg);
		/* Kept when they tell the user something; the rest is EIO. */
		return rc == -ETIMEDOUT || rc == -ENOMEM || rc == -EFBIG ? rc
									 : -EIO;
	}
}

double wfs_fetch_ms(struct wfs_fetch *f)
{
	return f->clock() * 1e3;
}

void wfs_fetch_logged(struct wfs_fetch *f, const char *what, size_t items,
		      double t0, int rc)
{
	wb_log(WB_LOG_DEBUG, "api %s: %zu item(s) in %.0f ms%s%s", what, items,
	       wfs_fetch_ms(f) - t0, rc ? ": " : "", rc ? strerror(-rc) : "");
}

/* ---- the cache and single-flight ------------------------------------------ */

void wfs_fetch_store(struct wfs_fetch *f, const char *key, struct wfs_obj *val,
		     enum wfs_class cls)
{
	if (wfs_cache_put(f->cache, key, val, cls))
		wb_log(WB_LOG_WARN, "cache: out of memory storing %s", key);
}

struct wfs_obj *wfs_fetch_stale(struct wfs_fetch *f, const char *key)
{
	struct wfs_obj *o;

	wfs_cache_get(f->cache, key, WFS_GET_STALE, &o);
	return o;
}

int wfs_fetch_listing_lacks(struct wfs_fetch *f, const char *listing_key,
			    const char *name)
{
	struct wfs_obj *o;
	int rc = 0;

	if (wfs_cache_get(f->cache, listing_key, 0, &o) == WFS_FRESH) {
		if (wfs_names_find((struct wfs_names *)o, name) < 0)
			rc = -ENOENT;
		wfs_obj_unref(o);
	}
	return rc;
}

typedef int (*fill_fn)(struct wfs_fetch *f, const char *key, const void *arg,
		       struct wfs_obj **out);

/* The cached value of key, or the result of fill() (run once however many
 * threads ask at the same time), which stores what it got in the cache.
 * *ttl (may be NULL): what is left of the value's freshness, or `fill_ttl`
 * for a value just fetched. */
static int cached_or_fill(struct wfs_fetch *f, const char *key, fill_fn fill,
			  const void *arg, struct wfs_obj **out, double *ttl,
			  double fill_ttl)
{
	struct wfs_flight *fl;
	double left = fill_ttl;
	int rc;

	*out = NULL;
	wfs_flights_lock(f->flights);
	switch (wfs_cache_lookup(f->cache, key, 0, out, &left)) {
	case WFS_FRESH:
		wfs_flights_unlock(f->flights);
		rc = 0;
		goto done;
	case WFS_ABSENT:
		wfs_flights_unlock(f->flights);
		return -ENOENT;
	default:
		left = fill_ttl;
		break;
	}
	fl = wfs_flight_find(f->flights, key);
	if (fl) {
		wfs_flight_hold(fl);
		rc = wfs_flight_wait_locked(f->flights, fl, out);
		goto done;
	}
	fl = wfs_flight_start(f->flights, key);
	wfs_flights_unlock(f->flights);
	if (!fl)
		return -ENOMEM;
	rc = fill(f, key, arg, out);
	wfs_flight_finish(f->flights, fl, rc, *out);
done:
	if (ttl)
		*ttl = left;
	return rc;
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

int wfs_fetch_seed_viewer(struct wfs_fetch *f, const struct wb_viewer *v)
{
	struct wfs_names *l = viewer_names(v);

	if (!l)
		return -ENOMEM;
	wfs_fetch_store(f, "V", &l->obj, WFS_CLASS_LISTING);
	wfs_obj_unref(&l->obj);
	return 0;
}

static int fill_viewer(struct wfs_fetch *f, const char *key, const void *arg,
		       struct wfs_obj **out)
{
	struct wb_error err = { 0 };
	struct wb_viewer *v = NULL;
	struct wfs_names *l;
	double t0 = wfs_fetch_ms(f);
	int rc;

	(void)arg;
	rc = f->be.viewer(f->be.ud, &v, &err);
	wfs_fetch_logged(f, "Viewer", rc ? 0 : 1, t0, rc);
	if (rc)
		return wfs_fetch_errno(rc == -ENOENT ? -EACCES : rc, &err,
				       "viewer");
	l = viewer_names(v);
	wb_viewer_free(v);
	if (!l)
		return -ENOMEM;
	wfs_fetch_store(f, key, &l->obj, WFS_CLASS_LISTING);
	*out = &l->obj;
	return 0;
}

int wfs_fetch_viewer(struct wfs_fetch *f, struct wfs_names **out)
{
	return cached_or_fill(f, "V", fill_viewer, NULL, (struct wfs_obj **)out,
			      NULL, 0);
}

/* A marker value: "this entity exists". */
static void marker_free(struct wfs_obj *o)
{
	free(o);
}

static int fill_entity(struct wfs_fetch *f, const char *key, const void *arg,
		       struct wfs_obj **out)
{
	const char *ent = arg;
	struct wb_error err = { 0 };
	struct wb_entity *e = NULL;
	struct wfs_obj *mark;
	char what[KEY_MAX];
	double t0 = wfs_fetch_ms(f);
	int rc;

	rc = f->be.entity(f->be.ud, ent, &e, &err);
	snprintf(what, sizeof(what), "Entity %s", ent);
	wfs_fetch_logged(f, what, rc ? 0 : 1, t0, rc);
	wb_entity_free(e);
	if (rc == -ENOENT) {
		wfs_cache_put_absent(f->cache, key);
		return -ENOENT;
	}
	if (rc)
		return wfs_fetch_errno(rc, &err, what);
	mark = malloc(sizeof(*mark));
	if (!mark)
		return -ENOMEM;
	wfs_obj_init(mark, sizeof(*mark), marker_free);
	wfs_fetch_store(f, key, mark, WFS_CLASS_LISTING);
	*out = mark;
	return 0;
}

int wfs_fetch_entity(struct wfs_fetch *f, const char *ent)
{
	struct wfs_names *root;
	struct wfs_obj *mark;
	char key[KEY_MAX];
	int rc;

	rc = wfs_fetch_viewer(f, &root);
	if (rc)
		return rc;
	rc = wfs_names_find(root, ent) >= 0 ? 0 : -ENOENT;
	wfs_obj_unref(&root->obj);
	if (rc == 0)
		return 0;
	snprintf(key, sizeof(key), "e/%s", ent);
	rc = cached_or_fill(f, key, fill_entity, ent, &mark, NULL, 0);
	wfs_obj_unref(mark);
	return rc;
}

/* ---- projects ------------------------------------------------------------ */

struct list_ctx {
	struct wfs_fetch *f;
	const char *ent, *proj;
	struct wfs_names *names;
	int rc;
};

/* Render a project, reusing unchanged bytes of its previous record, and
 * store it. Returns the record (new reference) or NULL on OOM. */
static struct wfs_project_rec *
project_store(struct wfs_fetch *f, const char *ent, const struct wb_project *p)
{
	struct wfs_project_rec *prev, *rec;
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "p/%s/%s", ent, p->name);
	prev = (struct wfs_project_rec *)wfs_fetch_stale(f, key);
	rec = wfs_render_project(p, prev);
	wfs_obj_unref(prev ? &prev->obj : NULL);
	if (rec)
		wfs_fetch_store(f, key, &rec->obj, WFS_CLASS_LISTING);
	return rec;
}

static int project_cb(void *ud, struct wb_project *p)
{
	struct list_ctx *ctx = ud;
	struct wfs_project_rec *rec;

	if (p->name && wfs_name_usable(p->name)) {
		rec = project_store(ctx->f, ctx->ent, p);
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
 * and readdir walk, so the runs read ahead are the ones read next. */
static int listing_done(struct wfs_fetch *f, const char *key,
			struct list_ctx *ctx, int rc,
			const struct wb_error *err, const char *what, double t0,
			int cache_absent, struct wfs_obj **out)
{
	wfs_fetch_logged(f, what, ctx->names->n, t0, rc);
	if (!rc)
		rc = ctx->rc;
	if (rc) {
		wfs_obj_unref(&ctx->names->obj);
		if (rc == -ENOENT && cache_absent) {
			wfs_cache_put_absent(f->cache, key);
			return -ENOENT;
		}
		return wfs_fetch_errno(rc, err, what);
	}
	wfs_names_sort(ctx->names);
	wfs_fetch_store(f, key, &ctx->names->obj, WFS_CLASS_LISTING);
	*out = &ctx->names->obj;
	return 0;
}

static int fill_projects(struct wfs_fetch *f, const char *key, const void *arg,
			 struct wfs_obj **out)
{
	struct list_ctx ctx = { .f = f, .ent = arg };
	struct wb_error err = { 0 };
	char what[KEY_MAX];
	double t0 = wfs_fetch_ms(f);
	int rc;

	ctx.names = wfs_names_new();
	if (!ctx.names)
		return -ENOMEM;
	rc = f->be.projects(f->be.ud, ctx.ent, project_cb, &ctx, &err);
	snprintf(what, sizeof(what), "Projects %s", ctx.ent);
	return listing_done(f, key, &ctx, rc, &err, what, t0, 0, out);
}

int wfs_fetch_projects(struct wfs_fetch *f, const char *ent,
		       struct wfs_names **out)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "P/%s", ent);
	return cached_or_fill(f, key, fill_projects, ent,
			      (struct wfs_obj **)out, NULL, 0);
}

static int fill_project(struct wfs_fetch *f, const char *key, const void *arg,
			struct wfs_obj **out)
{
	const struct list_ctx *id = arg;
	struct wb_error err = { 0 };
	struct wb_project *p = NULL;
	struct wfs_project_rec *rec;
	char what[KEY_MAX];
	double t0 = wfs_fetch_ms(f);
	int rc;

	rc = f->be.project(f->be.ud, id->ent, id->proj, &p, &err);
	snprintf(what, sizeof(what), "Project %s/%s", id->ent, id->proj);
	wfs_fetch_logged(f, what, rc ? 0 : 1, t0, rc);
	if (rc == -ENOENT) {
		wfs_cache_put_absent(f->cache, key);
		return -ENOENT;
	}
	if (rc)
		return wfs_fetch_errno(rc, &err, what);
	/* The server may answer with a differently-cased name (it matches
	 * project names without regard to case); the record is filed under
	 * the name that was asked for. */
	rec = wfs_render_project(p, NULL);
	wb_project_free(p);
	if (!rec)
		return -ENOMEM;
	wfs_fetch_store(f, key, &rec->obj, WFS_CLASS_LISTING);
	*out = &rec->obj;
	return 0;
}

int wfs_fetch_project(struct wfs_fetch *f, const char *ent, const char *proj,
		      struct wfs_project_rec **out, double *ttl)
{
	struct list_ctx id = { .f = f, .ent = ent, .proj = proj };
	char key[KEY_MAX], lkey[KEY_MAX];
	int rc;

	*out = NULL;
	snprintf(key, sizeof(key), "p/%s/%s", ent, proj);
	snprintf(lkey, sizeof(lkey), "P/%s", ent);
	if (wfs_cache_lookup(f->cache, key, 0, (struct wfs_obj **)out, ttl) ==
	    WFS_FRESH)
		return 0;
	rc = wfs_fetch_listing_lacks(f, lkey, proj);
	if (rc)
		return rc;
	return cached_or_fill(f, key, fill_project, &id, (struct wfs_obj **)out,
			      ttl, wfs_cache_ttl(f->cache, WFS_CLASS_LISTING));
}

int wfs_fetch_project_full(struct wfs_fetch *f, const char *ent,
			   const char *proj, struct wfs_project_rec **out,
			   double *ttl)
{
	struct list_ctx id = { .f = f, .ent = ent, .proj = proj };
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "pj/%s/%s", ent, proj);
	return cached_or_fill(f, key, fill_project, &id, (struct wfs_obj **)out,
			      ttl, wfs_cache_ttl(f->cache, WFS_CLASS_LISTING));
}

/* ---- run listings -------------------------------------------------------- */

static int run_list_cb(void *ud, struct wb_run *r)
{
	struct list_ctx *ctx = ud;
	struct wfs_run_rec *rec = NULL;
	char key[KEY_MAX];

	if (!r->name || !wfs_name_usable(r->name)) {
		wb_run_free(r);
		return 0;
	}
	snprintf(key, sizeof(key), "r/%s/%s/%s", ctx->ent, ctx->proj, r->name);
	if (wfs_names_add(ctx->names, r->name)) {
		wb_run_free(r);
		ctx->rc = -ENOMEM;
	} else if (wfs_fetch_run_store(ctx->f, key, r, &rec)) {
		ctx->rc = -ENOMEM;
	}
	wfs_obj_unref(rec ? &rec->obj : NULL);
	return ctx->rc;
}

static int fill_runs(struct wfs_fetch *f, const char *key, const void *arg,
		     struct wfs_obj **out)
{
	const struct list_ctx *id = arg;
	struct list_ctx ctx = { .f = f, .ent = id->ent, .proj = id->proj };
	struct wb_error err = { 0 };
	char what[KEY_MAX];
	double t0 = wfs_fetch_ms(f);
	int rc;

	ctx.names = wfs_names_new();
	if (!ctx.names)
		return -ENOMEM;
	rc = f->be.runs(f->be.ud, ctx.ent, ctx.proj, run_list_cb, &ctx, &err);
	snprintf(what, sizeof(what), "Runs %s/%s", ctx.ent, ctx.proj);
	rc = listing_done(f, key, &ctx, rc, &err, what, t0, 1, out);
	if (!rc)
		wfs_ra_listed(f->ra, key);
	return rc;
}

int wfs_fetch_runs(struct wfs_fetch *f, const char *ent, const char *proj,
		   struct wfs_names **out)
{
	struct list_ctx id = { .f = f, .ent = ent, .proj = proj };
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "R/%s/%s", ent, proj);
	return cached_or_fill(f, key, fill_runs, &id, (struct wfs_obj **)out,
			      NULL, 0);
}

/* ---- for fill modules that take the mount (wfs_fill.h) -------------------- */

struct fill_fs {
	struct wfs *fs;
	wfs_fill_fn fill;
	const void *arg;
};

static int fill_with_fs(struct wfs_fetch *f, const char *key, const void *arg,
			struct wfs_obj **out)
{
	const struct fill_fs *t = arg;

	(void)f;
	return t->fill(t->fs, key, t->arg, out);
}

int wfs_fill_cached(struct wfs *fs, const char *key, wfs_fill_fn fill,
		    const void *arg, struct wfs_obj **out)
{
	struct fill_fs t = { .fs = fs, .fill = fill, .arg = arg };

	return cached_or_fill(fs->fetch, key, fill_with_fs, &t, out, NULL, 0);
}

void wfs_fill_store(struct wfs *fs, const char *key, struct wfs_obj *val,
		    enum wfs_class cls)
{
	wfs_fetch_store(fs->fetch, key, val, cls);
}

double wfs_fill_now_ms(struct wfs *fs)
{
	return wfs_fetch_ms(fs->fetch);
}

void wfs_fill_logged(struct wfs *fs, const char *what, size_t items, double t0,
		     int rc)
{
	wfs_fetch_logged(fs->fetch, what, items, t0, rc);
}

int wfs_fill_lacks(struct wfs *fs, const char *listing_key, const char *name)
{
	return wfs_fetch_listing_lacks(fs->fetch, listing_key, name);
}
