/* flight.c — the single-flight table (wfs_flight.h): a hash map from key to
 * flight under one mutex, one condition variable per flight. A flight is
 * freed when its last reference (leader or waiter) is dropped. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wfs_flight.h"
#include "wb_strmap.h"

struct wfs_flight {
	char *key;
	pthread_cond_t cond;
	int done, rc;
	struct wfs_obj *result; /* reference held by the flight */
	unsigned refs;          /* leader + waiters, under the lock */
};

struct wfs_flights {
	pthread_mutex_t mu;
	struct wb_strmap map; /* key -> struct wfs_flight */
};

struct wfs_flights *wfs_flights_new(void)
{
	struct wfs_flights *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	wb_strmap_init(&t->map);
	return t;
}

void wfs_flights_free(struct wfs_flights *t)
{
	if (!t)
		return;
	wb_strmap_clear(&t->map);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

void wfs_flights_lock(struct wfs_flights *t)
{
	pthread_mutex_lock(&t->mu);
}

void wfs_flights_unlock(struct wfs_flights *t)
{
	pthread_mutex_unlock(&t->mu);
}

struct wfs_flight *wfs_flight_find(struct wfs_flights *t, const char *key)
{
	return wb_strmap_get(&t->map, key);
}

struct wfs_flight *wfs_flight_start(struct wfs_flights *t, const char *key)
{
	struct wfs_flight *fl = calloc(1, sizeof(*fl));

	if (!fl)
		return NULL;
	fl->key = strdup(key);
	if (!fl->key || wb_strmap_put(&t->map, fl->key, fl, NULL)) {
		free(fl->key);
		free(fl);
		return NULL;
	}
	pthread_cond_init(&fl->cond, NULL);
	fl->refs = 1;
	return fl;
}

void wfs_flight_hold(struct wfs_flight *fl)
{
	fl->refs++;
}

/* Drop a reference; the lock is held. */
static void flight_release(struct wfs_flight *fl)
{
	if (--fl->refs)
		return;
	wfs_obj_unref(fl->result);
	pthread_cond_destroy(&fl->cond);
	free(fl->key);
	free(fl);
}

int wfs_flight_wait_locked(struct wfs_flights *t, struct wfs_flight *fl,
			   struct wfs_obj **out)
{
	int rc;

	/* The leader's work is bounded by the client's deadlines. */
	while (!fl->done)
		pthread_cond_wait(&fl->cond, &t->mu);
	rc = fl->rc;
	*out = rc ? NULL : wfs_obj_ref(fl->result);
	flight_release(fl);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int wfs_flight_wait(struct wfs_flights *t, struct wfs_flight *fl,
		    struct wfs_obj **out)
{
	pthread_mutex_lock(&t->mu);
	return wfs_flight_wait_locked(t, fl, out);
}

void wfs_flight_finish_locked(struct wfs_flights *t, struct wfs_flight *fl,
			      int rc, struct wfs_obj *result)
{
	fl->done = 1;
	fl->rc = rc;
	fl->result = rc ? NULL : wfs_obj_ref(result);
	wb_strmap_del(&t->map, fl->key);
	pthread_cond_broadcast(&fl->cond);
	flight_release(fl);
}

void wfs_flight_finish(struct wfs_flights *t, struct wfs_flight *fl, int rc,
		       struct wfs_obj *result)
{
	pthread_mutex_lock(&t->mu);
	wfs_flight_finish_locked(t, fl, rc, result);
	pthread_mutex_unlock(&t->mu);
}
