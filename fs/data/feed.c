/* feed.c — bytes read from storage into the disk cache (wfs_data_int.h):
 * each object's landed chunks go to a temp file of the disk cache as they
 * arrive (any order; the spans written are tracked, since a chunk dropped
 * for memory and fetched again lands twice), and once every byte is there
 * the commit (MD5 check, flush, atomic rename) is queued for COMMITTERS
 * threads of their own: it flushes to stable storage, which must not hold
 * up a fetch or a FUSE read. A full queue or too scattered a file means
 * not caching that file, never waiting. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wb_log.h"
#include "wfs_data_int.h"

#define COMMITTERS 8
#define COMMITS_MAX 256 /* queued commits (each holds an open temp file) */
#define SPANS_MAX 4096  /* disjoint written spans of one object */

struct commit {
	struct wfs_diskcache_writer *w;
	struct commit *next;
};

struct wfs_feed {
	struct wfs_diskcache *disk;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct commit *head, **tail;
	size_t queued;
	int stop;
	pthread_t threads[COMMITTERS];
	unsigned nthreads;
};

static void *committer(void *arg)
{
	struct wfs_feed *f = arg;

	pthread_mutex_lock(&f->mu);
	for (;;) {
		struct commit *c = f->head;

		if (!c) {
			if (f->stop)
				break;
			pthread_cond_wait(&f->cv, &f->mu);
			continue;
		}
		f->head = c->next;
		if (!f->head)
			f->tail = &f->head;
		f->queued--;
		pthread_mutex_unlock(&f->mu);
		/* A failure is logged by the disk cache; the file simply
		 * stays uncached. */
		wfs_diskcache_commit(c->w);
		free(c);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int wfs_feed_new(struct wfs_diskcache *disk, struct wfs_feed **out)
{
	struct wfs_feed *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->disk = disk;
	f->tail = &f->head;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	for (; f->nthreads < COMMITTERS; f->nthreads++)
		if (pthread_create(&f->threads[f->nthreads], NULL, committer,
				   f)) {
			wfs_feed_free(f);
			return -EAGAIN;
		}
	*out = f;
	return 0;
}

void wfs_feed_free(struct wfs_feed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	for (unsigned i = 0; i < f->nthreads; i++)
		pthread_join(f->threads[i], NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static void queue_commit(struct wfs_feed *f, struct wfs_diskcache_writer *w)
{
	struct commit *c = malloc(sizeof(*c));

	pthread_mutex_lock(&f->mu);
	if (!c || f->queued >= COMMITS_MAX || f->stop) {
		pthread_mutex_unlock(&f->mu);
		free(c);
		wfs_diskcache_abort(w);
		return;
	}
	c->w = w;
	c->next = NULL;
	*f->tail = c;
	f->tail = &c->next;
	f->queued++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void wfs_feed_obj_init(struct wfs_feed_obj *fo)
{
	memset(fo, 0, sizeof(*fo));
	pthread_mutex_init(&fo->mu, NULL);
}

/* Record [off, end) as written; returns the bytes now covered, or -1 when
 * the spans would exceed their bound. */
static int64_t spans_add(struct wfs_feed_obj *fo, int64_t off, int64_t end)
{
	size_t i = 0, j;
	int64_t total = 0;

	while (i < fo->n && fo->spans[i][1] < off)
		i++;
	/* Spans i..j-1 touch [off, end): merge them into one. */
	for (j = i; j < fo->n && fo->spans[j][0] <= end; j++) {
		if (fo->spans[j][0] < off)
			off = fo->spans[j][0];
		if (fo->spans[j][1] > end)
			end = fo->spans[j][1];
	}
	if (j == i) {
		if (fo->n == fo->cap) {
			size_t cap = fo->cap ? fo->cap * 2 : 8;
			int64_t(*s)[2];

			if (cap > SPANS_MAX)
				return -1;
			s = realloc(fo->spans, cap * sizeof(*s));
			if (!s)
				return -1;
			fo->spans = s;
			fo->cap = cap;
		}
		memmove(fo->spans + i + 1, fo->spans + i,
			(fo->n - i) * sizeof(*fo->spans));
		fo->n++;
	} else {
		memmove(fo->spans + i + 1, fo->spans + j,
			(fo->n - j) * sizeof(*fo->spans));
		fo->n -= j - i - 1;
	}
	fo->spans[i][0] = off;
	fo->spans[i][1] = end;
	for (i = 0; i < fo->n; i++)
		total += fo->spans[i][1] - fo->spans[i][0];
	return total;
}

void wfs_feed_land(struct wfs_feed *f, struct wfs_feed_obj *fo, const char *md5,
		   int64_t size, int64_t off, const void *data, size_t len)
{
	int64_t covered;

	pthread_mutex_lock(&fo->mu);
	if (fo->done)
		goto out;
	if (!fo->w && wfs_diskcache_begin(f->disk, md5, size, &fo->w)) {
		fo->done = 1; /* no room, or no cache dir: don't cache */
		goto out;
	}
	covered = spans_add(fo, off, off + (int64_t)len);
	if (covered < 0 || wfs_diskcache_write(fo->w, off, data, len)) {
		wfs_diskcache_abort(fo->w);
		fo->w = NULL;
		fo->done = 1;
		goto out;
	}
	if (covered == size) {
		queue_commit(f, fo->w);
		fo->w = NULL;
		fo->done = 1;
	}
out:
	pthread_mutex_unlock(&fo->mu);
}

void wfs_feed_obj_end(struct wfs_feed_obj *fo)
{
	wfs_diskcache_abort(fo->w);
	free(fo->spans);
	pthread_mutex_destroy(&fo->mu);
}
