/* wfs_readahead.h — read-ahead over a run listing: the policy that decides,
 * at each access to a run, which runs to fetch before anyone asks.
 *
 * Listings are sorted by name, which is the order ls, find and shell globs
 * walk them, so a grep over every runs/RUN/config.json reads the runs at
 * positions 0, 1, 2, ... of the listing. Each listing has one stream: the walk in progress
 * (last position, how far ahead it is covered, the window, the files it
 * reads). An access within one group of the last one continues the walk;
 * the window then doubles each time the walk enters a new group, up to a
 * limit the caller derives from memory and options. Any other access
 * starts a new walk with no window: it fetches only the group around the
 * run. The first access right after a listing was fetched, at its start,
 * opens with a few groups at once (a walk over the listing is likely).
 * Nothing is planned past the end of the listing.
 *
 * Positions are listing indexes; a group is the runs one request carries,
 * and groups are aligned on multiples of the group size. The policy only
 * plans: the fetcher (fetch_runs.c) turns a plan into requests for the
 * runs in it that still need fetching. Thread-safe (one mutex).
 */
#ifndef WFS_READAHEAD_H
#define WFS_READAHEAD_H

#include <stddef.h>

/* Walks of one listing that go on at once, each its own stream: reading
 * light records (a stat per run, as readdirplus does for a whole
 * directory) while reading files (a glob over runs/RUN/config.json). */
#define WFS_RA_WALKS 2
/* Streams kept at once (the least recently used is forgotten). */
#define WFS_RA_STREAMS 16

struct wfs_ra;

/* boost: groups covered ahead at the first access right after a listing. */
struct wfs_ra *wfs_ra_new(size_t boost);
void wfs_ra_free(struct wfs_ra *ra);

/* A listing (by its cache key) was just fetched. */
void wfs_ra_listed(struct wfs_ra *ra, const char *listing);

struct wfs_ra_access {
	size_t pos;    /* the run's position in the listing */
	size_t n;      /* entries in the listing */
	size_t group;  /* runs one request carries (> 0) */
	size_t limit;  /* most runs to cover ahead of the reader's group */
	unsigned walk; /* which walk of the listing (< WFS_RA_WALKS) */
	unsigned part; /* what was read (one bit; the caller's numbering) */
	int demand;    /* the run's part must be fetched now */
};

struct wfs_ra_plan {
	size_t from, to; /* positions to cover now, [from, to); empty when
			    from == to. Includes the run's group on demand. */
	unsigned parts;  /* every part the walk reads so far */
};

void wfs_ra_access(struct wfs_ra *ra, const char *listing,
		   const struct wfs_ra_access *a, struct wfs_ra_plan *plan);

#endif
