/* readahead.c — directory read-ahead (wfs_data_hint_next): when a loader
 * reads a file, the next files of its directory are fetched in parallel
 * (whole when small, their first RA_FILE_MAX bytes otherwise), so that by
 * the time it opens them their bytes are in memory or on their way.
 *
 * Bounds: at most RA_FILES_MAX objects fetched ahead and not yet opened,
 * holding at most a quarter of the prefetch budget; the prefetcher refuses
 * a preload that would drop unread data. An object read ahead but not
 * opened within RA_STALE seconds (the loader skipped it) gives its place to
 * a newer one. Only stored entries are read ahead (references need a
 * lookup first, and the point is never to block the opener).
 */
#include <errno.h>
#include <stdlib.h>

#include "wfs_data_int.h"

#define RA_FILES_MAX 128
#define RA_FILE_MAX ((int64_t)1 << 20)
#define RA_STALE 10.0

static void ra_unlink(struct wfs_data *d, struct dobj *o)
{
	wfs_list_del(&o->ra);
	o->in_ra = 0;
	d->ra_count--;
	d->ra_bytes -= o->ra_bytes;
}

static void ra_append(struct wfs_data *d, struct dobj *o, int64_t bytes)
{
	wfs_list_add_tail(&d->ra, &o->ra);
	o->ra_at = wfs_data_now();
	o->ra_bytes = bytes;
	d->ra_count++;
	d->ra_bytes += bytes;
}

static struct dobj *ra_oldest(struct wfs_data *d)
{
	return wfs_list_empty(&d->ra)
		? NULL
		: WFS_LIST_ENTRY(d->ra.next, struct dobj, ra);
}

void wfs_ra_taken(struct wfs_data *d, struct dobj *o)
{
	/* The read-ahead's reference becomes the opener's. */
	ra_unlink(d, o);
}

/* Drop the oldest read-ahead if nobody opened it in time (d->mu held);
 * 0 when one was dropped. */
static int ra_drop_stale(struct wfs_data *d, double now)
{
	struct dobj *o = ra_oldest(d);

	if (!o || now - o->ra_at < RA_STALE)
		return -EAGAIN;
	ra_unlink(d, o);
	wfs_dobj_put(d, o);
	return 0;
}

void wfs_ra_drop_all(struct wfs_data *d)
{
	struct dobj *o;

	pthread_mutex_lock(&d->mu);
	while ((o = ra_oldest(d))) {
		ra_unlink(d, o);
		wfs_dobj_put(d, o);
	}
	pthread_mutex_unlock(&d->mu);
}

/* Start reading one entry ahead. 0 = started or not worth it, else stop
 * hinting (-ENOBUFS: no room). */
static int ra_one(struct wfs_data *d, const struct wfs_data_src *src,
		  double now)
{
	const struct wb_manifest_entry *e = src->entry;
	int64_t bytes = e->size < RA_FILE_MAX ? e->size : RA_FILE_MAX;
	int64_t room = (int64_t)(d->o.mem_budget / 4);
	struct wfs_pf_obj *pf = NULL;
	struct wfs_res r;
	struct dobj *o;
	int rc;

	if (e->ref || e->size <= 0)
		return 0;
	rc = wfs_res_get(d, src, &r);
	if (rc)
		return 0; /* the open will say why */
	pthread_mutex_lock(&d->mu);
	while ((d->ra_count >= RA_FILES_MAX || d->ra_bytes + bytes > room) &&
	       !ra_drop_stale(d, now))
		;
	if (d->ra_count >= RA_FILES_MAX || d->ra_bytes + bytes > room)
		rc = -ENOBUFS;
	else
		rc = wfs_dobj_get(d, &r, 1, &o);
	if (!rc) {
		ra_append(d, o, bytes);
		/* An open may take o over and close it meanwhile: our own
		 * reference keeps it (its release frees o). */
		pf = o->pf;
		wfs_pf_obj_ref(pf);
	}
	pthread_mutex_unlock(&d->mu);
	wfs_res_clear(&r);
	if (rc)
		return rc == -EEXIST ? 0 : rc;
	rc = wfs_pf_preload(pf, 0, (size_t)bytes);
	pthread_mutex_lock(&d->mu);
	if (rc && o->in_ra) {
		/* Memory is taken by unread data: stop here. */
		ra_unlink(d, o);
		wfs_dobj_put(d, o);
	}
	pthread_mutex_unlock(&d->mu);
	wfs_pf_obj_unref(pf);
	return rc;
}

void wfs_ra_hint(struct wfs_data *d, const struct wfs_data_src *next, size_t n)
{
	double now = wfs_data_now();
	uintptr_t last;
	size_t i = n;

	/* Each file read hints at the files after it: skip those a previous
	 * hint already started (the entry pointer is only compared). */
	pthread_mutex_lock(&d->mu);
	last = d->ra_last;
	pthread_mutex_unlock(&d->mu);
	while (i > 0 && (uintptr_t)next[i - 1].entry != last)
		i--;
	for (; i < n; i++) {
		if (ra_one(d, &next[i], now))
			break;
		pthread_mutex_lock(&d->mu);
		d->ra_last = (uintptr_t)next[i].entry;
		pthread_mutex_unlock(&d->mu);
	}
}
