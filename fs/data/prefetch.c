/* prefetch.c — the prefetcher (wfs_prefetch.h): chunks of objects, reader
 * cursors and their windows, the worker pool and the memory budget.
 *
 * One mutex guards all of it; data moves outside it. A chunk's buffer is
 * written only by the worker fetching it (up to `filled`, published with
 * an atomic store) and read by readers that hold a pin, so neither copy
 * needs the lock. Chunk lifecycle:
 *   QUEUED (on the demand or the speculative queue) -> RUNNING -> DONE or
 *   FAILED. A DONE chunk nobody pins sits on an evictable list (read
 *   through, or unread in LRU order). A chunk leaves its object's map when
 *   it fails, is evicted, or its object dies, and is freed once nobody
 *   pins it and no worker runs it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wfs_list.h"
#include "wfs_prefetch.h"

#define PAGE ((int64_t)4096)
#define MIN_CHUNK ((size_t)256 << 10)
#define MAX_CHUNK ((size_t)8 << 20)
#define MAP_MIN ((size_t)64 << 10) /* buffers this big are mapped */
#define POOL_CLASSES 8 /* mapped sizes MAP_MIN << 0..7 (up to MAX_CHUNK) */
#define LAND_BEHIND 2  /* landings may hold 1/LAND_BEHIND of the budget */
#define CURSORS 4

#define CHUNK_OF(lnk) WFS_LIST_ENTRY(lnk, struct chunk, l)

/* ---- types -------------------------------------------------------------- */

enum cstate {
	C_QUEUED,
	C_RUNNING,
	C_DONE,
	C_FAILED
};

struct pooled {
	struct pooled *next;
};

struct chunk {
	struct wfs_pf_obj *obj;
	int64_t off;
	size_t len;
	char *buf;
	size_t cap;           /* buf's size: what the budget counts */
	atomic_size_t filled; /* bytes in buf, written by the worker */
	atomic_size_t want;   /* smallest fill a reader waits for */
	atomic_int cancel;    /* the object died: stop fetching */
	int overrun;          /* the source sent more than len */
	enum cstate state;
	int err;           /* FAILED: why */
	int demand;        /* on the demand queue (QUEUED) */
	int consumed;      /* a reader read through its end */
	int in_map;        /* in obj's chunk map */
	unsigned pins;     /* readers copying / waiting, a landing */
	struct wfs_link l; /* a queue (QUEUED) or an evictable list */
};

struct wfs_pf {
	struct wfs_pf_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* readers: chunk progress, memory freed */
	pthread_cond_t work_cv; /* workers: queued chunks, stop */
	struct wfs_link q_demand, q_spec;
	struct wfs_link ev_consumed, ev_lru;
	size_t mem_used;      /* buffers of chunks */
	unsigned seq_readers; /* readers with a sequential cursor */
	struct pooled *pool[POOL_CLASSES]; /* dropped buffers, by size */
	size_t pool_bytes;
	pthread_t *threads;
	unsigned nthreads;
	int stop;
	struct wfs_link land_q; /* DONE chunks waiting for src->landed */
	size_t land_bytes;
	pthread_cond_t land_cv;
	pthread_t lander;
	int has_lander, land_stop;
	struct wfs_pf_stats st;
	atomic_uint_fast64_t bytes;
};

struct wfs_pf_obj {
	struct wfs_pf *pf;
	int64_t size;
	struct wfs_pf_source src;
	void *ud;
	unsigned users;   /* references */
	unsigned running; /* its fetches and landings in flight */
	struct chunk **v; /* the map: chunks sorted by offset */
	size_t n, cap;
};

struct cursor {
	int active;
	size_t window;   /* 0 = random */
	int64_t pos;     /* end of the furthest read of this run */
	int64_t ahead;   /* end of what is scheduled */
	int64_t grow_at; /* double the window when pos passes it */
	uint64_t tick;
};

struct wfs_pf_reader {
	struct wfs_pf_obj *obj;
	struct cursor cur[CURSORS];
	uint64_t tick;
	int seq; /* counted in pf->seq_readers */
};

/* ---- chunk map ---------------------------------------------------------- */

/* Index of the first chunk ending after pos (the one containing pos, or the
 * next one), or n. */
static size_t map_search(const struct wfs_pf_obj *o, int64_t pos)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct chunk *c = o->v[mid];

		if (c->off + (int64_t)c->len <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct chunk *map_at(const struct wfs_pf_obj *o, int64_t pos)
{
	size_t i = map_search(o, pos);

	return i < o->n && o->v[i]->off <= pos ? o->v[i] : NULL;
}

/* Where the gap at pos (no chunk there) ends: the next chunk or the end. */
static int64_t map_gap_end(const struct wfs_pf_obj *o, int64_t pos)
{
	size_t i = map_search(o, pos);

	return i < o->n ? o->v[i]->off : o->size;
}

static int map_insert(struct wfs_pf_obj *o, struct chunk *c)
{
	size_t i = map_search(o, c->off);

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct chunk **v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	memmove(o->v + i + 1, o->v + i, (o->n - i) * sizeof(*o->v));
	o->v[i] = c;
	o->n++;
	c->in_map = 1;
	return 0;
}

static void map_remove(struct wfs_pf_obj *o, struct chunk *c)
{
	size_t i = map_search(o, c->off);

	if (!c->in_map)
		return;
	memmove(o->v + i, o->v + i + 1, (o->n - i - 1) * sizeof(*o->v));
	o->n--;
	c->in_map = 0;
}

/* ---- chunks and memory -------------------------------------------------- */

/* Buffers: small ones from malloc; from MAP_MIN up, mapped at the next
 * power of two and kept for reuse once dropped (a fresh mapping costs a
 * page fault per page, which dominates a fast transfer). The budget
 * counts kept buffers too, and they are unmapped when no chunk is left or
 * room is needed for another size. */
static size_t buf_cap(size_t len)
{
	size_t cap = MAP_MIN;

	if (len < MAP_MIN)
		return len;
	while (cap < len)
		cap <<= 1;
	return cap;
}

static int buf_class(size_t cap)
{
	int k = 0;

	for (size_t c = MAP_MIN; c < cap; c <<= 1)
		k++;
	return k;
}

static void pool_drop_one(struct wfs_pf *pf)
{
	for (int k = POOL_CLASSES - 1; k >= 0; k--) {
		struct pooled *b = pf->pool[k];

		if (b) {
			pf->pool[k] = b->next;
			pf->pool_bytes -= MAP_MIN << k;
			munmap(b, MAP_MIN << k);
			return;
		}
	}
}

static char *buf_get(struct wfs_pf *pf, size_t cap)
{
	int k = buf_class(cap);
	struct pooled *b;
	void *p;

	b = cap >= MAP_MIN ? pf->pool[k] : NULL;
	if (b) {
		pf->pool[k] = b->next;
		pf->pool_bytes -= cap;
		return (char *)b;
	}
	while (pf->pool_bytes &&
	       pf->mem_used + pf->pool_bytes + cap > pf->o.mem_budget)
		pool_drop_one(pf);
	if (cap < MAP_MIN)
		return malloc(cap);
	/* Populated at once: one call instead of a fault per page. */
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void buf_put(struct wfs_pf *pf, char *buf, size_t cap)
{
	struct pooled *b = (struct pooled *)(void *)buf;
	int k = buf_class(cap);

	if (cap < MAP_MIN) {
		free(buf);
		return;
	}
	b->next = pf->pool[k];
	pf->pool[k] = b;
	pf->pool_bytes += cap;
}

static void chunk_free(struct wfs_pf *pf, struct chunk *c)
{
	buf_put(pf, c->buf, c->cap);
	pf->mem_used -= c->cap;
	if (pf->mem_used == 0)
		while (pf->pool_bytes)
			pool_drop_one(pf);
	free(c);
	pthread_cond_broadcast(&pf->cv);
}

/* Free c if nothing refers to it any more. */
static void chunk_settle(struct wfs_pf *pf, struct chunk *c)
{
	if (c->pins || c->in_map || c->state == C_RUNNING)
		return;
	wfs_list_del(&c->l); /* its queue, or nothing */
	chunk_free(pf, c);
}

/* Put an unpinned DONE chunk where eviction finds it; a reader waiting
 * for memory may now make room. */
static void chunk_park(struct wfs_pf *pf, struct chunk *c)
{
	wfs_list_add_tail(c->consumed ? &pf->ev_consumed : &pf->ev_lru, &c->l);
	pthread_cond_broadcast(&pf->cv);
}

static void chunk_pin(struct chunk *c)
{
	if (c->pins++ == 0 && c->state == C_DONE && c->in_map)
		wfs_list_del(&c->l);
}

static void chunk_unpin(struct wfs_pf *pf, struct chunk *c)
{
	if (--c->pins)
		return;
	if (c->in_map && c->state == C_DONE)
		chunk_park(pf, c);
	else
		chunk_settle(pf, c);
}

/* Drop one chunk from the head of list h (evictable or speculative
 * queue) to make room. 0 when one was dropped. */
static int evict_from(struct wfs_pf *pf, struct wfs_link *h, int newest)
{
	struct chunk *c;

	if (wfs_list_empty(h))
		return -ENOENT;
	c = CHUNK_OF(newest ? h->prev : h->next);
	wfs_list_del(&c->l);
	map_remove(c->obj, c);
	pf->st.evictions++;
	chunk_free(pf, c);
	return 0;
}

/* Whether len more bytes fit the budget, dropping chunks to make room:
 * read-through ones always; for a chunk a reader needs also speculative
 * ones not started yet (the furthest ahead first) and unread ones (least
 * recently used first). */
static int mem_fits(struct wfs_pf *pf, size_t len, int demand)
{
	size_t cap = buf_cap(len);

	while (pf->mem_used + cap > pf->o.mem_budget) {
		if (!evict_from(pf, &pf->ev_consumed, 0))
			continue;
		if (!demand)
			return 0;
		if (!evict_from(pf, &pf->q_spec, 1) ||
		    !evict_from(pf, &pf->ev_lru, 0))
			continue;
		return 0;
	}
	return 1;
}

/* A new QUEUED chunk [off, off + len) in o's map; memory must fit. */
static int chunk_add(struct wfs_pf *pf, struct wfs_pf_obj *o, int64_t off,
		     size_t len, int demand)
{
	struct chunk *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->cap = buf_cap(len);
	c->buf = buf_get(pf, c->cap);
	if (!c->buf) {
		free(c);
		return -ENOMEM;
	}
	c->obj = o;
	c->off = off;
	c->len = len;
	atomic_init(&c->filled, 0);
	atomic_init(&c->want, SIZE_MAX);
	atomic_init(&c->cancel, 0);
	c->state = C_QUEUED;
	c->demand = demand;
	wfs_list_init(&c->l);
	if (map_insert(o, c)) {
		buf_put(pf, c->buf, c->cap);
		free(c);
		return -ENOMEM;
	}
	pf->mem_used += c->cap;
	if (pf->mem_used + pf->pool_bytes > pf->st.mem_peak)
		pf->st.mem_peak = pf->mem_used + pf->pool_bytes;
	wfs_list_add_tail(demand ? &pf->q_demand : &pf->q_spec, &c->l);
	pthread_cond_signal(&pf->work_cv);
	return 0;
}

/* A reader needs c: move it to the demand queue if it is still waiting. */
static void chunk_promote(struct wfs_pf *pf, struct chunk *c)
{
	if (c->state != C_QUEUED || c->demand)
		return;
	wfs_list_del(&c->l);
	c->demand = 1;
	wfs_list_add_tail(&pf->q_demand, &c->l);
}

/* ---- workers ------------------------------------------------------------ */

static int chunk_put(void *pud, const void *data, size_t n)
{
	struct chunk *c = pud;
	size_t f = atomic_load(&c->filled);

	if (atomic_load(&c->cancel))
		return 1;
	if (n > c->len - f) {
		c->overrun = 1;
		return 1;
	}
	memcpy(c->buf + f, data, n);
	atomic_store(&c->filled, f + n);
	atomic_fetch_add(&c->obj->pf->bytes, n);
	/* Pairs with the reader's store of want before its load of filled:
	 * one of the two sees the other, so no wake-up is lost. */
	if (f + n >= atomic_load(&c->want)) {
		struct wfs_pf *pf = c->obj->pf;

		pthread_mutex_lock(&pf->mu);
		atomic_store(&c->want, SIZE_MAX);
		pthread_cond_broadcast(&pf->cv);
		pthread_mutex_unlock(&pf->mu);
	}
	return 0;
}

/* Called with the lock held after the last running fetch of a dead
 * object returned; drops and re-takes the lock. */
static void obj_finish(struct wfs_pf *pf, struct wfs_pf_obj *o)
{
	pthread_mutex_unlock(&pf->mu);
	if (o->src.release)
		o->src.release(o->ud);
	free(o->v);
	free(o);
	pthread_mutex_lock(&pf->mu);
}

/* Hand a DONE chunk to the lander thread, pinned. */
static void land(struct wfs_pf *pf, struct chunk *c)
{
	struct wfs_pf_obj *o = c->obj;

	c->pins++;
	o->running++; /* the landing keeps the object */
	wfs_list_add_tail(&pf->land_q, &c->l);
	pf->land_bytes += c->cap;
	pthread_cond_signal(&pf->land_cv);
}

static void *lander_main(void *arg)
{
	struct wfs_pf *pf = arg;

	pthread_mutex_lock(&pf->mu);
	for (;;) {
		struct wfs_pf_obj *o;
		struct chunk *c;

		if (wfs_list_empty(&pf->land_q)) {
			if (pf->land_stop)
				break;
			pthread_cond_wait(&pf->land_cv, &pf->mu);
			continue;
		}
		c = CHUNK_OF(pf->land_q.next);
		wfs_list_del(&c->l);
		pf->land_bytes -= c->cap;
		/* Even for an object nobody reads any more: its last chunks
		 * may be what completes it (for the disk cache). */
		o = c->obj;
		pthread_mutex_unlock(&pf->mu);
		o->src.landed(o->ud, c->off, c->buf, c->len);
		pthread_mutex_lock(&pf->mu);
		chunk_unpin(pf, c);
		pthread_cond_broadcast(&pf->work_cv);
		if (--o->running == 0 && o->users == 0)
			obj_finish(pf, o);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

/* The next chunk to fetch: one a reader waits for, else a speculative one
 * unless landings are more than LAND_BEHIND of the budget behind (the
 * disk cache then sets the pace of read-ahead, not of demand). */
static struct chunk *next_job(struct wfs_pf *pf)
{
	struct wfs_link *h = NULL;

	if (!wfs_list_empty(&pf->q_demand))
		h = &pf->q_demand;
	else if (!wfs_list_empty(&pf->q_spec) &&
		 pf->land_bytes <= pf->o.mem_budget / LAND_BEHIND)
		h = &pf->q_spec;
	return h ? CHUNK_OF(h->next) : NULL;
}

static void run_chunk(struct wfs_pf *pf, struct chunk *c)
{
	struct wfs_pf_obj *o = c->obj;
	int rc;

	pthread_mutex_unlock(&pf->mu);
	rc = o->src.fetch(o->ud, c->off, c->len, chunk_put, c);
	pthread_mutex_lock(&pf->mu);
	if (c->overrun || (!rc && atomic_load(&c->filled) != c->len))
		rc = -EIO;
	/* A chunk filled before its cancel (the reader took its bytes and
	 * closed) is whole: it still lands, or the disk cache misses it. */
	if (rc && atomic_load(&c->cancel)) {
		c->state = C_FAILED;
		c->err = -ECANCELED;
	} else if (rc) {
		c->state = C_FAILED;
		c->err = rc;
		pf->st.failures++;
		map_remove(o, c);
	} else {
		c->state = C_DONE;
		if (o->src.landed)
			land(pf, c);
	}
	pthread_cond_broadcast(&pf->cv);
	if (c->pins == 0 && c->in_map && c->state == C_DONE)
		chunk_park(pf, c);
	else
		chunk_settle(pf, c);
	pf->st.running--;
	if (--o->running == 0 && o->users == 0)
		obj_finish(pf, o);
}

static void *worker_main(void *arg)
{
	struct wfs_pf *pf = arg;

	pthread_mutex_lock(&pf->mu);
	for (;;) {
		struct chunk *c = next_job(pf);

		if (!c) {
			if (pf->stop && wfs_list_empty(&pf->q_spec))
				break;
			pthread_cond_wait(&pf->work_cv, &pf->mu);
			continue;
		}
		wfs_list_del(&c->l);
		c->state = C_RUNNING;
		c->obj->running++;
		pf->st.fetches++;
		if (++pf->st.running > pf->st.running_peak)
			pf->st.running_peak = pf->st.running;
		run_chunk(pf, c);
	}
	pthread_mutex_unlock(&pf->mu);
	return NULL;
}

/* ---- the pool ----------------------------------------------------------- */

int wfs_pf_new(const struct wfs_pf_opts *o, struct wfs_pf **out)
{
	struct wfs_pf *pf = calloc(1, sizeof(*pf));

	*out = NULL;
	if (!pf)
		return -ENOMEM;
	pf->o = *o;
	if (!pf->o.mem_budget)
		pf->o.mem_budget = WFS_PF_MEM_DEFAULT;
	if (!pf->o.workers)
		pf->o.workers = WFS_PF_WORKERS_DEFAULT;
	if (!pf->o.seq_streams)
		pf->o.seq_streams = WFS_PF_SEQ_STREAMS_DEFAULT;
	if (!pf->o.window_min)
		pf->o.window_min = WFS_PF_WINDOW_MIN_DEFAULT;
	if (!pf->o.window_max)
		pf->o.window_max = WFS_PF_WINDOW_MAX_DEFAULT;
	if (pf->o.window_max < pf->o.window_min)
		pf->o.window_max = pf->o.window_min;
	if (!pf->o.random_extra)
		pf->o.random_extra = WFS_PF_RANDOM_EXTRA_DEFAULT;
	pf->st.mem_budget = pf->o.mem_budget;
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->cv, NULL);
	pthread_cond_init(&pf->work_cv, NULL);
	pthread_cond_init(&pf->land_cv, NULL);
	wfs_list_init(&pf->land_q);
	wfs_list_init(&pf->q_demand);
	wfs_list_init(&pf->q_spec);
	wfs_list_init(&pf->ev_consumed);
	wfs_list_init(&pf->ev_lru);
	atomic_init(&pf->bytes, 0);
	pf->threads = calloc(pf->o.workers, sizeof(*pf->threads));
	if (!pf->threads) {
		wfs_pf_free(pf);
		return -ENOMEM;
	}
	if (pthread_create(&pf->lander, NULL, lander_main, pf)) {
		wfs_pf_free(pf);
		return -EAGAIN;
	}
	pf->has_lander = 1;
	for (; pf->nthreads < pf->o.workers; pf->nthreads++)
		if (pthread_create(&pf->threads[pf->nthreads], NULL,
				   worker_main, pf)) {
			wfs_pf_free(pf);
			return -EAGAIN;
		}
	*out = pf;
	return 0;
}

void wfs_pf_free(struct wfs_pf *pf)
{
	if (!pf)
		return;
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->work_cv);
	pthread_mutex_unlock(&pf->mu);
	for (unsigned i = 0; i < pf->nthreads; i++)
		pthread_join(pf->threads[i], NULL);
	pthread_mutex_lock(&pf->mu);
	pf->land_stop = 1;
	pthread_cond_signal(&pf->land_cv);
	pthread_mutex_unlock(&pf->mu);
	if (pf->has_lander)
		pthread_join(pf->lander, NULL);
	/* With every object dropped only read-through or unread chunks of
	 * dead objects could remain, and those were freed with them. */
	free(pf->threads);
	pthread_cond_destroy(&pf->land_cv);
	pthread_cond_destroy(&pf->work_cv);
	pthread_cond_destroy(&pf->cv);
	pthread_mutex_destroy(&pf->mu);
	free(pf);
}

void wfs_pf_get_stats(struct wfs_pf *pf, struct wfs_pf_stats *out)
{
	pthread_mutex_lock(&pf->mu);
	*out = pf->st;
	out->mem_used = pf->mem_used + pf->pool_bytes;
	out->landing = pf->land_bytes;
	out->bytes = atomic_load(&pf->bytes);
	pthread_mutex_unlock(&pf->mu);
}

/* ---- objects ------------------------------------------------------------ */

int wfs_pf_obj_new(struct wfs_pf *pf, int64_t size,
		   const struct wfs_pf_source *src, void *ud,
		   struct wfs_pf_obj **out)
{
	struct wfs_pf_obj *o;

	*out = NULL;
	if (size < 0 || !src->fetch)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->pf = pf;
	o->size = size;
	o->src = *src;
	o->ud = ud;
	o->users = 1;
	*out = o;
	return 0;
}

void wfs_pf_obj_ref(struct wfs_pf_obj *o)
{
	pthread_mutex_lock(&o->pf->mu);
	o->users++;
	pthread_mutex_unlock(&o->pf->mu);
}

void wfs_pf_obj_unref(struct wfs_pf_obj *o)
{
	struct wfs_pf *pf;

	if (!o)
		return;
	pf = o->pf;
	pthread_mutex_lock(&pf->mu);
	if (--o->users) {
		pthread_mutex_unlock(&pf->mu);
		return;
	}
	/* Nobody reads it any more: drop what waits, stop what runs. */
	for (size_t i = 0; i < o->n; i++) {
		struct chunk *c = o->v[i];

		c->in_map = 0;
		if (c->state == C_RUNNING)
			atomic_store(&c->cancel, 1);
		else
			chunk_settle(pf, c);
	}
	o->n = 0;
	if (o->running == 0)
		obj_finish(pf, o);
	pthread_mutex_unlock(&pf->mu);
}

int wfs_pf_preload(struct wfs_pf_obj *o, int64_t off, size_t len)
{
	struct wfs_pf *pf = o->pf;
	int64_t end = off + (int64_t)len;
	int rc = 0;

	if (off < 0 || end > o->size)
		return -EINVAL;
	pthread_mutex_lock(&pf->mu);
	while (off < end && !rc) {
		struct chunk *c = map_at(o, off);
		int64_t stop = end < map_gap_end(o, off) ? end
							 : map_gap_end(o, off);
		size_t n = (size_t)(stop - off);

		if (c) {
			off = c->off + (int64_t)c->len;
			continue;
		}
		if (n > MAX_CHUNK)
			n = MAX_CHUNK;
		if (!mem_fits(pf, n, 0))
			rc = -ENOBUFS;
		else
			rc = chunk_add(pf, o, off, n, 0);
		off += (int64_t)n;
	}
	pthread_mutex_unlock(&pf->mu);
	return rc;
}

int wfs_pf_cached(struct wfs_pf_obj *o, int64_t off, size_t len)
{
	struct wfs_pf *pf = o->pf;
	int64_t end = off + (int64_t)len;
	int all = 1;

	pthread_mutex_lock(&pf->mu);
	while (off < end && all) {
		struct chunk *c = map_at(o, off);

		all = c && c->state == C_DONE;
		if (all)
			off = c->off + (int64_t)c->len;
	}
	pthread_mutex_unlock(&pf->mu);
	return all;
}

/* ---- readers ------------------------------------------------------------ */

int wfs_pf_reader_new(struct wfs_pf_obj *o, struct wfs_pf_reader **out)
{
	struct wfs_pf_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return -ENOMEM;
	wfs_pf_obj_ref(o);
	r->obj = o;
	*out = r;
	return 0;
}

void wfs_pf_reader_free(struct wfs_pf_reader *r)
{
	struct wfs_pf *pf;

	if (!r)
		return;
	pf = r->obj->pf;
	pthread_mutex_lock(&pf->mu);
	pf->seq_readers -= r->seq;
	pthread_mutex_unlock(&pf->mu);
	wfs_pf_obj_unref(r->obj);
	free(r);
}

static int64_t align_down(int64_t v)
{
	return v / PAGE * PAGE;
}

static int64_t align_up(int64_t v, int64_t max)
{
	v = (v + PAGE - 1) / PAGE * PAGE;
	return v < max ? v : max;
}

/* The chunk size of a sequential window: about seq_streams requests. */
static size_t seq_chunk(const struct wfs_pf *pf, size_t window)
{
	size_t n = window / pf->o.seq_streams;

	if (n < MIN_CHUNK)
		n = MIN_CHUNK;
	if (n > MAX_CHUNK)
		n = MAX_CHUNK;
	if (n > pf->o.mem_budget / 8)
		n = pf->o.mem_budget / 8;
	return n > (size_t)PAGE ? n : (size_t)PAGE;
}

/* The window cursor cur may fill: its own, but no more than an even share
 * of half the budget among the sequential readers (so that several files
 * read at once do not drop each other's read-ahead), and at least
 * window_min. */
static size_t window_of(const struct wfs_pf *pf, const struct cursor *cur)
{
	size_t share =
		pf->o.mem_budget / 2 / (pf->seq_readers ? pf->seq_readers : 1);

	if (share < pf->o.window_min)
		share = pf->o.window_min;
	return cur->window < share ? cur->window : share;
}

/* Whether [off, end) is all in map chunks that are DONE. */
static int range_done(const struct wfs_pf_obj *o, int64_t off, int64_t end)
{
	while (off < end) {
		const struct chunk *c = map_at(o, off);

		if (!c || c->state != C_DONE)
			return 0;
		off = c->off + (int64_t)c->len;
	}
	return 1;
}

/* The cursor a read [off, end) continues, updated; or a fresh one (the
 * least recently used replaced) when it continues none. */
static struct cursor *cursor_for(struct wfs_pf_reader *r, int64_t off,
				 int64_t end)
{
	const struct wfs_pf_opts *po = &r->obj->pf->o;
	struct cursor *best = NULL, *lru = NULL;

	for (int i = 0; i < CURSORS; i++) {
		struct cursor *c = &r->cur[i];
		int64_t back = (int64_t)c->window; /* kernel reordering */
		int64_t hi = c->ahead > c->pos ? c->ahead : c->pos;

		if (!lru ||
		    (lru->active && (!c->active || c->tick < lru->tick)))
			lru = c;
		if (c->active && off >= c->pos - back && off <= hi &&
		    (!best || llabs(best->pos - off) > llabs(c->pos - off)))
			best = c;
	}
	if (best) {
		r->obj->pf->seq_readers += !r->seq;
		r->seq = 1;
		if (best->window == 0) {
			best->window = po->window_min;
			best->grow_at = end + (int64_t)best->window / 2;
		}
		if (end > best->pos)
			best->pos = end;
		if (best->pos >= best->grow_at) {
			best->window = best->window * 2 < po->window_max
				? best->window * 2
				: po->window_max;
			best->grow_at = best->pos + (int64_t)best->window / 2;
		}
		best->tick = ++r->tick;
		return best;
	}
	memset(lru, 0, sizeof(*lru));
	lru->active = 1;
	lru->pos = end;
	lru->tick = ++r->tick;
	if (off == 0) {
		lru->window = po->window_min;
		lru->grow_at = end + (int64_t)lru->window / 2;
		r->obj->pf->seq_readers += !r->seq;
		r->seq = 1;
	}
	return lru;
}

/* Keep the window of sequential cursor cur scheduled. */
static void schedule_window(struct wfs_pf *pf, struct wfs_pf_obj *o,
			    struct cursor *cur, int64_t off, size_t window)
{
	size_t cs = seq_chunk(pf, window);
	int64_t target = cur->pos + (int64_t)window;
	int64_t at = cur->ahead > off ? cur->ahead : align_down(off);

	if (target > o->size)
		target = o->size;
	while (at < target) {
		struct chunk *c = map_at(o, at);
		int64_t gap;
		size_t n;

		if (c) {
			at = c->off + (int64_t)c->len;
			continue;
		}
		gap = map_gap_end(o, at) - at;
		n = cs < (size_t)gap ? cs : (size_t)gap;
		/* No small tail chunks: wait until a whole one is due. */
		if ((int64_t)n > target - at && target < o->size && n == cs)
			break;
		if (!mem_fits(pf, n, 0) || chunk_add(pf, o, at, n, 0))
			break;
		at += (int64_t)n;
	}
	if (at > cur->ahead)
		cur->ahead = at;
}

/* Make sure chunks cover [off, end) where memory allows without waiting:
 * demand chunks of at most `unit` bytes each; existing queued ones are
 * promoted. */
static void cover_range(struct wfs_pf *pf, struct wfs_pf_obj *o, int64_t off,
			int64_t end, size_t unit)
{
	while (off < end) {
		struct chunk *c = map_at(o, off);
		int64_t gap;
		size_t n;

		if (c) {
			chunk_promote(pf, c);
			off = c->off + (int64_t)c->len;
			continue;
		}
		gap = map_gap_end(o, off) - off;
		if (gap > end - off)
			gap = end - off;
		n = unit < (size_t)gap ? unit : (size_t)gap;
		if (!mem_fits(pf, n, 1) || chunk_add(pf, o, off, n, 1))
			return;
		off += (int64_t)n;
	}
}

/* Copy [pos, end) of chunk c into dst once filled; lock held on entry and
 * return (dropped while copying). Returns bytes copied or a negative
 * errno. */
static int64_t copy_from(struct wfs_pf *pf, struct chunk *c, char *dst,
			 int64_t pos, int64_t end)
{
	int64_t stop = c->off + (int64_t)c->len < end ? c->off + (int64_t)c->len
						      : end;
	size_t need = (size_t)(stop - c->off);

	chunk_pin(c);
	for (;;) {
		size_t w;

		if (atomic_load(&c->filled) >= need)
			break;
		if (c->state == C_FAILED || c->state == C_DONE) {
			int err = c->err ? c->err : -EIO;

			chunk_unpin(pf, c);
			return err;
		}
		w = atomic_load(&c->want);
		if (need < w)
			atomic_store(&c->want, need);
		if (atomic_load(&c->filled) >= need)
			break;
		pthread_cond_wait(&pf->cv, &pf->mu);
	}
	pthread_mutex_unlock(&pf->mu);
	memcpy(dst, c->buf + (pos - c->off), (size_t)(stop - pos));
	pthread_mutex_lock(&pf->mu);
	if (need == c->len)
		c->consumed = 1;
	chunk_unpin(pf, c);
	return stop - pos;
}

int wfs_pf_read(struct wfs_pf_reader *r, void *buf, size_t len, int64_t off,
		size_t *got)
{
	struct wfs_pf_obj *o = r->obj;
	struct wfs_pf *pf = o->pf;
	struct cursor *cur = NULL;
	int64_t end, pos;
	size_t unit;
	int rc = 0;

	*got = 0;
	if (off < 0)
		return -EINVAL;
	if (off >= o->size || len == 0)
		return 0;
	end = (int64_t)len > o->size - off ? o->size : off + (int64_t)len;
	pthread_mutex_lock(&pf->mu);
	unit = pf->o.mem_budget / 4 > (size_t)PAGE ? pf->o.mem_budget / 4
						   : (size_t)PAGE;
	/* Data already in memory moves no cursor: re-reads stay cheap. */
	if (!range_done(o, off, end))
		cur = cursor_for(r, off, end);
	if (cur && cur->window) {
		size_t w = window_of(pf, cur), cs = seq_chunk(pf, w);

		schedule_window(pf, o, cur, off, w);
		cover_range(pf, o, off, end, cs < unit ? cs : unit);
		unit = cs < unit ? cs : unit;
	} else if (cur) {
		/* Random: what the read needs plus as much again, at most
		 * random_extra. */
		int64_t a = align_down(off), b = align_up(end, o->size);
		int64_t extra = b - a < (int64_t)pf->o.random_extra
			? b - a
			: (int64_t)pf->o.random_extra;

		b = b + extra < o->size ? b + extra : o->size;
		cover_range(pf, o, a, b, unit);
		cur->ahead = b;
	}
	pos = off;
	while (pos < end) {
		struct chunk *c = map_at(o, pos);
		int64_t n;

		if (!c) {
			int64_t gap = map_gap_end(o, pos) - pos;
			int64_t want = align_up(end, o->size) - pos;
			size_t clen;

			if (want < (int64_t)PAGE && gap >= (int64_t)PAGE)
				want = PAGE;
			if (cur && cur->window && want < (int64_t)unit)
				want = (int64_t)unit;
			if (want > gap)
				want = gap;
			clen = (size_t)want < unit ? (size_t)want : unit;
			if (!mem_fits(pf, clen, 1)) {
				pthread_cond_wait(&pf->cv, &pf->mu);
				continue;
			}
			rc = chunk_add(pf, o, pos, clen, 1);
			if (rc)
				break;
			continue;
		}
		chunk_promote(pf, c);
		n = copy_from(pf, c, (char *)buf + (pos - off), pos, end);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		pos += n;
	}
	pthread_mutex_unlock(&pf->mu);
	if (!rc)
		*got = (size_t)(end - off);
	return rc;
}
