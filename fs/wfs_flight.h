/* wfs_flight.h — single-flight: however many threads need the same thing at
 * once, one of them (the leader) fetches it and the others wait for its
 * result.
 *
 * A flight is registered under a key (the cache key of what it fetches)
 * from its start until it finishes. The table's lock is also what makes
 * "look in the cache, else find or start a flight" atomic: a leader stores
 * its result in the cache before it finishes the flight, so a thread that
 * checked the cache and the table under the lock sees one or the other.
 * Lock order: the table's lock before the cache's, never after; nothing
 * waits for the network with it held.
 */
#ifndef WFS_FLIGHT_H
#define WFS_FLIGHT_H

#include "wfs_cache.h"

struct wfs_flights;
struct wfs_flight;

struct wfs_flights *wfs_flights_new(void);
/* Only once no flight is left. */
void wfs_flights_free(struct wfs_flights *t);

void wfs_flights_lock(struct wfs_flights *t);
void wfs_flights_unlock(struct wfs_flights *t);

/* With the lock held: the flight registered under key, or NULL. */
struct wfs_flight *wfs_flight_find(struct wfs_flights *t, const char *key);

/* With the lock held: register a new flight under key (none may be) and
 * return it with the leader's reference, which wfs_flight_finish drops;
 * NULL on OOM. */
struct wfs_flight *wfs_flight_start(struct wfs_flights *t, const char *key);

/* With the lock held: one more reference for a thread that will wait. */
void wfs_flight_hold(struct wfs_flight *fl);

/* Wait for fl with a reference taken by wfs_flight_hold, and drop it.
 * Returns the flight's result: 0 with a new reference in *out, or its
 * negative errno. _locked: called with the lock held, returns with it
 * released (a join: find + hold + wait without a gap). */
int wfs_flight_wait(struct wfs_flights *t, struct wfs_flight *fl,
		    struct wfs_obj **out);
int wfs_flight_wait_locked(struct wfs_flights *t, struct wfs_flight *fl,
			   struct wfs_obj **out);

/* The leader's end: record rc and result (referenced when rc is 0),
 * unregister the key, wake the waiters, drop the leader's reference.
 * _locked: with the lock held. */
void wfs_flight_finish(struct wfs_flights *t, struct wfs_flight *fl, int rc,
		       struct wfs_obj *result);
void wfs_flight_finish_locked(struct wfs_flights *t, struct wfs_flight *fl,
			      int rc, struct wfs_obj *result);

#endif
