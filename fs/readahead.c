/* readahead.c — the read-ahead policy (wfs_readahead.h): a small table of
 * streams, one per listing being walked, each a few numbers. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wfs_readahead.h"

struct stream {
	char *listing;   /* NULL = free slot */
	unsigned walk;   /* which of the listing's walks */
	uint64_t used;   /* LRU stamp */
	int active;      /* a walk is in progress */
	int listed;      /* the listing was fetched since the last access */
	size_t last;     /* position of the last access */
	size_t frontier; /* positions below it are covered by this walk */
	size_t window;   /* runs covered ahead of the reader's group */
	unsigned parts;
};

struct wfs_ra {
	pthread_mutex_t mu;
	size_t boost;
	uint64_t clock;
	struct stream s[WFS_RA_STREAMS];
};

struct wfs_ra *wfs_ra_new(size_t boost)
{
	struct wfs_ra *ra = calloc(1, sizeof(*ra));

	if (!ra)
		return NULL;
	pthread_mutex_init(&ra->mu, NULL);
	ra->boost = boost;
	return ra;
}

void wfs_ra_free(struct wfs_ra *ra)
{
	if (!ra)
		return;
	for (size_t i = 0; i < WFS_RA_STREAMS; i++)
		free(ra->s[i].listing);
	pthread_mutex_destroy(&ra->mu);
	free(ra);
}

/* The stream of a walk of listing, taking over the least recently used
 * slot if it has none; NULL only on OOM. Called with ra->mu held. */
static struct stream *stream_of(struct wfs_ra *ra, const char *listing,
				unsigned walk)
{
	struct stream *s, *lru = &ra->s[0];
	char *copy;

	for (size_t i = 0; i < WFS_RA_STREAMS; i++) {
		s = &ra->s[i];
		if (s->listing && s->walk == walk &&
		    strcmp(s->listing, listing) == 0) {
			s->used = ++ra->clock;
			return s;
		}
		if (!s->listing || (lru->listing && s->used < lru->used))
			lru = s;
	}
	copy = strdup(listing);
	if (!copy)
		return NULL;
	free(lru->listing);
	*lru = (struct stream){ .listing = copy,
				.walk = walk,
				.used = ++ra->clock };
	return lru;
}

void wfs_ra_listed(struct wfs_ra *ra, const char *listing)
{
	struct stream *s;

	pthread_mutex_lock(&ra->mu);
	for (unsigned walk = 0; walk < WFS_RA_WALKS; walk++) {
		s = stream_of(ra, listing, walk);
		if (s) {
			s->active = 0;
			s->listed = 1;
		}
	}
	pthread_mutex_unlock(&ra->mu);
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

void wfs_ra_access(struct wfs_ra *ra, const char *listing,
		   const struct wfs_ra_access *a, struct wfs_ra_plan *plan)
{
	size_t g = a->group, start = a->pos - a->pos % g;
	size_t end = min_size(a->n, start + g), from, to;
	struct stream *s;

	pthread_mutex_lock(&ra->mu);
	s = stream_of(ra, listing, a->walk);
	if (!s) {
		/* No memory for a stream: the run's group only. */
		pthread_mutex_unlock(&ra->mu);
		*plan = (struct wfs_ra_plan){ start, a->demand ? end : start,
					      a->part };
		return;
	}
	if (s->active && a->pos + g >= s->last && a->pos <= s->last + g) {
		/* The walk goes on. Reading one more part: cover again what
		 * was covered without it. */
		if ((s->parts | a->part) != s->parts) {
			s->parts |= a->part;
			s->frontier = min_size(s->frontier, start);
		}
		if (a->pos / g > s->last / g)
			s->window = min_size(a->limit,
					     s->window ? 2 * s->window : g);
	} else {
		s->active = 1;
		s->parts = a->part;
		s->window = s->listed && a->pos < g
			? min_size(a->limit, ra->boost * g)
			: 0;
		s->frontier = start;
	}
	s->listed = 0;
	s->last = a->pos;
	from = s->frontier > start ? s->frontier : start;
	to = s->window ? min_size(a->n, end + s->window) : from;
	if (a->demand) {
		from = start;
		if (to < end)
			to = end;
	}
	if (to < from)
		to = from;
	if (to > s->frontier)
		s->frontier = to;
	*plan = (struct wfs_ra_plan){ from, to, s->parts };
	pthread_mutex_unlock(&ra->mu);
}
