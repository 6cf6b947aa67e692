/* fetch_runs.c — run parts for the fetcher (wfs_fetch.h): a run's light
 * record and heavy files, fetched in groups, with read-ahead.
 *
 * A group is the runs one request carries (the backend's batch size), each
 * with the parts it lacks: neither fresh in the cache nor being fetched.
 * It leads one flight per part and run, so whoever needs one of them waits
 * for that group only. An access to a run that has to be fetched builds
 * the run's own group from the block of the listing around it (blocks are
 * aligned on the group size) and runs it in the caller's thread. Every
 * access, fetched or not, is shown to the read-ahead policy
 * (wfs_readahead.h); the runs it plans are grouped the same way and sent by
 * the pool's threads (wfs_pool.h), so a walk finds the next runs in flight
 * or done.
 *
 * Locking: the flights lock is held while a group is built (deciding what
 * a run lacks and registering its flights is one step), never during a
 * request or while rendering. Delivery (the backend's callback, possibly
 * on several threads at once) renders and stores a run's parts with no lock
 * held, then finishes their flights; a group's counters are atomics.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch_core.h"
#include "wb_log.h"
#include "wb_strmap.h"

/* Per part: the letter of its cache key and the client's heavy field. */
static const struct {
	char key;
	unsigned field;
	const char *name;
} parts[WFS_PARTS] = {
	[WFS_PART_LIGHT] = { 'r', 0, "light" },
	[WFS_PART_CONFIG] = { 'c', WB_RUN_CONFIG, "config" },
	[WFS_PART_SUMMARY] = { 's', WB_RUN_SUMMARY, "summary" },
};

#define BIT(p) (1u << (p))
#define LIGHT BIT(WFS_PART_LIGHT)
#define HEAVY (((1u << WFS_PARTS) - 1) & ~LIGHT)

/* Groups covered at once by the first access right after a listing. */
#define RA_BOOST_GROUPS 8
/* Read-ahead stays within this fraction of the cache's memory bound, so it
 * never evicts what it fetched before the reader gets there. */
#define RA_MEMORY_SHARE 4
/* Cache bytes per run of each part, assumed until a group measures them. */
static const size_t part_guess[WFS_PARTS] = { 2048, 16384, 4096 };

static void part_key(char *key, const char *ent, const char *proj,
		     const char *run, enum wfs_part p)
{
	snprintf(key, KEY_MAX, "%c/%s/%s/%s", parts[p].key, ent, proj, run);
}

int wfs_fetch_run_store(struct wfs_fetch *f, const char *key, struct wb_run *r,
			struct wfs_run_rec **out)
{
	struct wfs_run_rec *prev =
		(struct wfs_run_rec *)wfs_fetch_stale(f, key);
	int rc = wfs_render_run(r, prev, out);

	wfs_obj_unref(prev ? &prev->obj : NULL);
	if (!rc)
		wfs_fetch_store(f, key, &(*out)->obj, (*out)->cls);
	return rc;
}

/* ---- groups ---------------------------------------------------------------- */

struct member {
	char *name;
	struct wfs_flight *fl[WFS_PARTS]; /* flights this group leads */
	atomic_bool delivered;
};

struct group {
	struct wfs_fetch *f;
	char *ent, *proj;
	unsigned heavy; /* client heavy fields to request */
	size_t n, cap;
	struct member *m;
	const char **names;     /* m[i].name, for the backend */
	struct wb_strmap index; /* name -> member index + 1 */
	atomic_size_t bytes[WFS_PARTS], count[WFS_PARTS];
	atomic_int rc;      /* a failure while delivering */
	struct group *next; /* read-ahead groups of one access */
};

static void group_free(struct group *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->m[i].name);
	wb_strmap_clear(&g->index);
	free(g->m);
	free(g->names);
	free(g->ent);
	free(g->proj);
	free(g);
}

static struct group *group_new(struct wfs_fetch *f, const char *ent,
			       const char *proj, size_t cap)
{
	struct group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->f = f;
	g->cap = cap;
	g->m = calloc(cap, sizeof(*g->m));
	g->names = calloc(cap, sizeof(*g->names));
	g->ent = strdup(ent);
	g->proj = strdup(proj);
	wb_strmap_init(&g->index);
	if (!g->m || !g->names || !g->ent || !g->proj) {
		group_free(g);
		return NULL;
	}
	return g;
}

/* Whether key is fresh, absent, or neither, without taking its value. */
static enum wfs_hit peek(struct wfs_fetch *f, const char *key)
{
	struct wfs_obj *o;
	enum wfs_hit hit = wfs_cache_get(f->cache, key, 0, &o);

	wfs_obj_unref(o);
	return hit;
}

/* The parts of run `name` in `want` that are neither fresh in the cache
 * nor being fetched; 0 when the run is confirmed absent. The light part is
 * looked at first, since absence is recorded under its key. Flights lock
 * held. */
static unsigned run_lacks(struct wfs_fetch *f, const char *ent,
			  const char *proj, const char *name, unsigned want)
{
	char key[KEY_MAX];
	unsigned lacks = 0;

	for (int p = 0; p < WFS_PARTS; p++) {
		enum wfs_hit hit;

		if (!(want & BIT(p)))
			continue;
		part_key(key, ent, proj, name, p);
		if (wfs_flight_find(f->flights, key))
			continue;
		hit = peek(f, key);
		if (hit == WFS_ABSENT)
			return 0;
		if (hit != WFS_FRESH)
			lacks |= BIT(p);
	}
	return lacks;
}

/* Add run `name` leading a flight for each part in `lead`. Flights lock
 * held. 0 or -ENOMEM (then nothing of it stays registered). */
static int group_add(struct group *g, const char *name, unsigned lead)
{
	struct member *m = &g->m[g->n];
	char key[KEY_MAX];
	int p;

	m->name = strdup(name);
	if (!m->name)
		return -ENOMEM;
	for (p = 0; p < WFS_PARTS; p++) {
		if (!(lead & BIT(p)))
			continue;
		part_key(key, g->ent, g->proj, name, p);
		m->fl[p] = wfs_flight_start(g->f->flights, key);
		if (!m->fl[p])
			break;
		if (p != WFS_PART_LIGHT)
			g->heavy |= parts[p].field;
	}
	if (p < WFS_PARTS ||
	    wb_strmap_put(&g->index, m->name, (void *)(uintptr_t)(g->n + 1),
			  NULL)) {
		for (p = 0; p < WFS_PARTS; p++)
			if (m->fl[p])
				wfs_flight_finish_locked(
					g->f->flights, m->fl[p], -ENOMEM, NULL);
		free(m->name);
		memset(m, 0, sizeof(*m));
		return -ENOMEM;
	}
	g->names[g->n++] = m->name;
	return 0;
}

/* Render and store what the group fetched of one run, r (taken over),
 * then finish the flights it leads for it. No lock held. */
static int member_deliver(struct group *g, struct member *m, struct wb_run *r)
{
	struct wfs_fetch *f = g->f;
	char key[KEY_MAX];
	int rc = 0;

	/* The light record, last, takes r; it comes with every request, so
	 * it is kept even when no flight waits for it. */
	for (int p = WFS_PARTS - 1; p >= 0; p--) {
		struct wfs_obj *val = NULL;

		if (p != WFS_PART_LIGHT && !m->fl[p])
			continue;
		part_key(key, g->ent, g->proj, m->name, p);
		if (p == WFS_PART_LIGHT) {
			struct wfs_run_rec *rec;

			if (rc)
				wb_run_free(r);
			else if (!(rc = wfs_fetch_run_store(f, key, r, &rec)))
				val = &rec->obj;
		} else if (!rc) {
			struct wfs_run_file *prev, *file;

			prev = (struct wfs_run_file *)wfs_fetch_stale(f, key);
			rc = wfs_render_run_file(r, parts[p].field, prev,
						 &file);
			wfs_obj_unref(prev ? &prev->obj : NULL);
			if (!rc) {
				wfs_fetch_store(f, key, &file->obj, file->cls);
				val = &file->obj;
			}
		}
		if (m->fl[p]) {
			wfs_flight_finish(f->flights, m->fl[p], rc, val);
			m->fl[p] = NULL;
		}
		if (val) {
			atomic_fetch_add(&g->bytes[p], val->bytes);
			atomic_fetch_add(&g->count[p], 1);
		}
		wfs_obj_unref(val);
	}
	return rc;
}

static int deliver(void *ud, struct wb_run *r)
{
	struct group *g = ud;
	uintptr_t pos = r->name ? (uintptr_t)wb_strmap_get(&g->index, r->name)
				: 0;
	int rc = 0, zero = 0;

	/* The index is not written during the request: reads need no lock. */
	if (pos && !atomic_exchange(&g->m[pos - 1].delivered, true))
		rc = member_deliver(g, &g->m[pos - 1], r);
	else
		wb_run_free(r);
	if (rc)
		atomic_compare_exchange_strong(&g->rc, &zero, rc);
	return rc;
}

/* Finish the flights of every run the request did not deliver: with rc, or
 * when the request succeeded (or found no project), as confirmed absent. */
static void group_finish(struct group *g, int rc)
{
	char key[KEY_MAX];

	for (size_t i = 0; i < g->n; i++) {
		struct member *m = &g->m[i];

		if (atomic_load(&m->delivered))
			continue;
		if (rc == 0 || rc == -ENOENT) {
			part_key(key, g->ent, g->proj, m->name, WFS_PART_LIGHT);
			wfs_cache_put_absent(g->f->cache, key);
		}
		for (int p = 0; p < WFS_PARTS; p++)
			if (m->fl[p])
				wfs_flight_finish(g->f->flights, m->fl[p],
						  rc ? rc : -ENOENT, NULL);
	}
}

/* Record the bytes a run's parts took in the cache (read-ahead sizes its
 * window by them). Taken after rendering, briefly. */
static void group_measure(struct group *g)
{
	struct wfs_fetch *f = g->f;

	pthread_mutex_lock(&f->stats_mu);
	for (int p = 0; p < WFS_PARTS; p++) {
		size_t n = atomic_load(&g->count[p]);

		if (n)
			f->part_bytes[p] = atomic_load(&g->bytes[p]) / n;
	}
	pthread_mutex_unlock(&f->stats_mu);
}

static void group_run(struct group *g)
{
	struct wfs_fetch *f = g->f;
	struct wb_error err = { 0 };
	char what[KEY_MAX], fields[64] = "";
	double t0 = wfs_fetch_ms(f);
	int rc;

	rc = f->be.runs_fetch(f->be.ud, g->ent, g->proj, g->names, g->n,
			      g->heavy, deliver, g, &err);
	for (int p = 0; p < WFS_PARTS; p++)
		if (g->heavy & parts[p].field)
			snprintf(fields + strlen(fields),
				 sizeof(fields) - strlen(fields), "%s %s",
				 fields[0] ? "," : " with", parts[p].name);
	snprintf(what, sizeof(what), "Runs %s/%s %s + %zu more%s", g->ent,
		 g->proj, g->names[0], g->n - 1, fields);
	wfs_fetch_logged(f, what, atomic_load(&g->count[WFS_PART_LIGHT]), t0,
			 rc);
	group_measure(g);
	if (!rc)
		rc = atomic_load(&g->rc);
	if (rc && rc != -ENOENT)
		rc = wfs_fetch_errno(rc, &err, what);
	group_finish(g, rc);
}

/* A read-ahead group on a pool thread; at unmount, dropped unsent. */
static void group_job(void *arg, int cancel)
{
	struct group *g = arg;

	if (cancel)
		group_finish(g, -EIO);
	else
		group_run(g);
	group_free(g);
}

/* ---- an access --------------------------------------------------------------- */

/* Most runs read-ahead may cover: the option's bound, and what fits the
 * memory share at the sizes measured so far. */
static size_t ahead_limit(struct wfs_fetch *f)
{
	size_t per = 0, fit;

	if (!f->ahead_max)
		return 0;
	pthread_mutex_lock(&f->stats_mu);
	for (int p = 0; p < WFS_PARTS; p++)
		per += f->part_bytes[p];
	pthread_mutex_unlock(&f->stats_mu);
	fit = wfs_cache_policy(f->cache)->max_bytes / RA_MEMORY_SHARE / per;
	return fit < f->ahead_max ? fit : f->ahead_max;
}

static size_t group_size(struct wfs_fetch *f, unsigned mask)
{
	return mask & HEAVY ? f->group_heavy : f->group_light;
}

/* One access to a part of a run, as the fetcher works it out. */
struct access {
	const char *ent, *proj, *run;
	enum wfs_part part;
	char lkey[KEY_MAX];      /* the run listing's cache key */
	struct wfs_names *list;  /* the listing, if cached (reference) */
	long pos;                /* the run's position in it, or -1 */
	struct wfs_ra_plan plan; /* what the read-ahead covers now */
};

/* Show the access to the read-ahead policy; demand: the run's part must be
 * fetched now. */
static void access_plan(struct wfs_fetch *f, struct access *a, int demand)
{
	struct wfs_ra_access ra;

	a->list = (struct wfs_names *)wfs_fetch_stale(f, a->lkey);
	a->pos = a->list ? wfs_names_find(a->list, a->run) : -1;
	a->plan = (struct wfs_ra_plan){ 0, 0, BIT(a->part) };
	if (a->pos < 0)
		return;
	ra = (struct wfs_ra_access){
		.pos = (size_t)a->pos,
		.n = a->list->n,
		.group = group_size(f, BIT(a->part)),
		.limit = ahead_limit(f),
		.walk = a->part != WFS_PART_LIGHT,
		.part = BIT(a->part),
		.demand = demand,
	};
	wfs_ra_access(f->ra, a->lkey, &ra, &a->plan);
}

/* Add the runs of positions [from, to) of the listing that lack a part of
 * `mask` to groups of at most the group size, appended in listing order to
 * the list whose last link is *tail. Flights lock held. */
static void groups_for_range(struct wfs_fetch *f, const struct access *a,
			     size_t from, size_t to, unsigned mask,
			     struct group ***tail)
{
	size_t cap = group_size(f, mask);
	struct group *g = NULL;

	for (size_t i = from; i < to; i++) {
		const char *name = a->list->v[i];
		unsigned lacks =
			run_lacks(f, a->ent, a->proj, name, mask | LIGHT);

		if (!(lacks & mask))
			continue;
		if (!g || g->n == g->cap) {
			g = group_new(f, a->ent, a->proj, cap);
			if (!g)
				return;
			**tail = g;
			*tail = &g->next;
		}
		if (group_add(g, name, lacks))
			return;
	}
}

/* Build the groups of an access (flights lock held): the run's own, led
 * with a flight for its part that *mine_fl holds (on demand), and the
 * read-ahead's (*ahead). 0 or -ENOMEM. */
static int build_groups(struct wfs_fetch *f, const struct access *a,
			struct group **mine, struct wfs_flight **mine_fl,
			struct group **ahead)
{
	unsigned ra_mask = a->plan.parts & HEAVY ? a->plan.parts & HEAVY
						 : LIGHT;
	size_t from = a->plan.from, to = a->plan.to, start = 0, end = 0;
	struct group **tail = ahead;

	if (mine_fl) {
		/* A run reached by its path, with no listing around: its
		 * files are what comes next, so one request brings them. */
		unsigned mask = !a->list ? LIGHT | HEAVY
			: a->part == WFS_PART_LIGHT
			? LIGHT
			: BIT(a->part) | (a->plan.parts & HEAVY);
		unsigned lacks =
			run_lacks(f, a->ent, a->proj, a->run, mask | LIGHT);
		size_t g = group_size(f, mask);

		*mine = group_new(f, a->ent, a->proj, g);
		if (!*mine || group_add(*mine, a->run, lacks | BIT(a->part))) {
			if (*mine)
				group_free(*mine);
			*mine = NULL;
			return -ENOMEM;
		}
		*mine_fl = (*mine)->m[0].fl[a->part];
		wfs_flight_hold(*mine_fl);
		if (a->pos >= 0) {
			start = (size_t)a->pos - (size_t)a->pos % g;
			end = start + g < a->list->n ? start + g : a->list->n;
			for (size_t i = start; i < end && (*mine)->n < g; i++) {
				const char *name = a->list->v[i];

				if (i == (size_t)a->pos)
					continue;
				lacks = run_lacks(f, a->ent, a->proj, name,
						  mask | LIGHT);
				if ((lacks & mask) &&
				    group_add(*mine, name, lacks))
					break;
			}
		}
	}
	if (from < to && a->list) {
		/* The read-ahead's runs, around the run's own group. */
		if (end > start && from < end && to > start) {
			groups_for_range(f, a, from, start, ra_mask, &tail);
			from = end;
		}
		groups_for_range(f, a, from, to, ra_mask, &tail);
	}
	return 0;
}

/* Send the caller's own group and the read-ahead's (in listing order) on
 * their way. The caller's goes first, ahead of any queued read-ahead: with
 * read-ahead it is sent by the pool so the others follow it at once,
 * otherwise (and when the pool cannot take it) by the caller itself. */
static void run_groups(struct wfs_fetch *f, struct group *mine,
		       struct group *ahead)
{
	if (mine && ahead && !wfs_pool_run(f->pool, group_job, mine, 1))
		mine = NULL;
	while (ahead) {
		struct group *next = ahead->next;

		if (wfs_pool_run(f->pool, group_job, ahead, 0))
			group_job(ahead, 0);
		ahead = next;
	}
	if (mine) {
		group_run(mine);
		group_free(mine);
	}
}

/* The read-ahead side of an access that needs no fetch of its own. */
static void access_walk(struct wfs_fetch *f, struct access *a)
{
	struct group *ahead = NULL;

	access_plan(f, a, 0);
	if (a->plan.from < a->plan.to) {
		wfs_flights_lock(f->flights);
		build_groups(f, a, NULL, NULL, &ahead);
		wfs_flights_unlock(f->flights);
		run_groups(f, NULL, ahead);
	}
}

/* A part of a run: from the cache, a flight, or a group this thread leads.
 * *left: the freshness left, or -1 for a value fetched now. */
static int run_need(struct wfs_fetch *f, const char *ent, const char *proj,
		    const char *run, enum wfs_part part, struct wfs_obj **out,
		    double *left)
{
	struct access a = {
		.ent = ent, .proj = proj, .run = run, .part = part, .pos = -1
	};
	struct group *mine = NULL, *ahead = NULL;
	struct wfs_flight *fl = NULL;
	char key[KEY_MAX], lkey[KEY_MAX];
	int rc;

	*out = NULL;
	*left = -1;
	part_key(key, ent, proj, run, part);
	part_key(lkey, ent, proj, run, WFS_PART_LIGHT);
	snprintf(a.lkey, sizeof(a.lkey), "R/%s/%s", ent, proj);
	if (wfs_cache_lookup(f->cache, key, 0, out, left) == WFS_FRESH)
		goto walk;
	wfs_flights_lock(f->flights);
	switch (wfs_cache_lookup(f->cache, key, 0, out, left)) {
	case WFS_FRESH:
		wfs_flights_unlock(f->flights);
		goto walk;
	case WFS_ABSENT:
		wfs_flights_unlock(f->flights);
		return -ENOENT;
	default:
		*left = -1;
		break;
	}
	/* A confirmed absence is recorded under the light record's key. */
	if ((part != WFS_PART_LIGHT && peek(f, lkey) == WFS_ABSENT) ||
	    wfs_fetch_listing_lacks(f, a.lkey, run)) {
		wfs_flights_unlock(f->flights);
		return -ENOENT;
	}
	fl = wfs_flight_find(f->flights, key);
	if (fl) {
		wfs_flight_hold(fl);
		wfs_flights_unlock(f->flights);
		access_walk(f, &a);
	} else {
		access_plan(f, &a, 1);
		rc = build_groups(f, &a, &mine, &fl, &ahead);
		wfs_flights_unlock(f->flights);
		run_groups(f, mine, ahead);
		if (rc)
			fl = NULL;
	}
	wfs_obj_unref(a.list ? &a.list->obj : NULL);
	return fl ? wfs_flight_wait(f->flights, fl, out) : -ENOMEM;
walk:
	access_walk(f, &a);
	wfs_obj_unref(a.list ? &a.list->obj : NULL);
	return 0;
}

int wfs_fetch_run(struct wfs_fetch *f, const char *ent, const char *proj,
		  const char *run, struct wfs_run_rec **out, double *ttl)
{
	double left;
	int rc = run_need(f, ent, proj, run, WFS_PART_LIGHT,
			  (struct wfs_obj **)out, &left);

	if (!rc && ttl)
		*ttl = left >= 0 ? left : wfs_cache_ttl(f->cache, (*out)->cls);
	return rc;
}

int wfs_fetch_run_file(struct wfs_fetch *f, const char *ent, const char *proj,
		       const char *run, enum wfs_part part,
		       struct wfs_run_file **out, double *ttl)
{
	double left;
	int rc;

	*out = NULL;
	if (part == WFS_PART_LIGHT || part >= WFS_PARTS)
		return -EINVAL;
	rc = run_need(f, ent, proj, run, part, (struct wfs_obj **)out, &left);
	if (!rc && ttl)
		*ttl = left >= 0 ? left : wfs_cache_ttl(f->cache, (*out)->cls);
	return rc;
}

/* ---- set-up -------------------------------------------------------------- */

int wfs_fetch_runs_init(struct wfs_fetch *f, const struct wfs_fetch_config *c)
{
	size_t runs = c->prefetch_runs ? c->prefetch_runs
				       : WFS_PREFETCH_RUNS_DEFAULT;
	unsigned workers = c->workers;

	f->group_heavy = f->be.batch_heavy ? f->be.batch_heavy : 1;
	f->group_light = f->be.batch_light ? f->be.batch_light : 1;
	if (f->group_heavy > runs)
		f->group_heavy = runs;
	if (f->group_light > runs)
		f->group_light = runs;
	f->ahead_max = runs > f->group_heavy ? runs : 0;
	memcpy(f->part_bytes, part_guess, sizeof(f->part_bytes));
	/* All but one of the requests the backend sends at once: that one
	 * is for a reader's own group when it fetches without read-ahead. */
	if (!workers)
		workers = f->be.max_inflight > 1 ? f->be.max_inflight - 1 : 1;
	f->ra = wfs_ra_new(RA_BOOST_GROUPS);
	f->pool = wfs_pool_new(workers);
	return f->ra && f->pool ? 0 : -ENOMEM;
}

void wfs_fetch_runs_fini(struct wfs_fetch *f)
{
	wfs_pool_free(f->pool);
	wfs_ra_free(f->ra);
}

void wfs_fetch_drain(struct wfs_fetch *f)
{
	wfs_pool_drain(f->pool);
}
