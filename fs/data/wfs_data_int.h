/* wfs_data_int.h — what the data plane's files share (not for fs/ outside
 * fs/data/): the mount's data-plane state, the content objects that open
 * files and read-ahead share, resolution of entries (refs.c) and the disk
 * cache feed (feed.c).
 *
 * Objects: one `struct dobj` per distinct content being read (key: the
 * MD5 and size of a stored entry, or the URL of an http(s) reference), in
 * d->objs while open files or the read-ahead hold it. It owns a prefetcher
 * object whose source fetches from the disk cache or storage and whose
 * landed chunks feed the disk cache. Lock order: d->mu, then the
 * prefetcher's; no callback of the prefetcher takes d->mu.
 */
#ifndef WFS_DATA_INT_H
#define WFS_DATA_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "wfs_data.h"
#include "wfs_diskcache.h"
#include "wfs_list.h"
#include "wfs_prefetch.h"
#include "wb_strmap.h"
#include "wfs_urls.h"

/* ---- entry resolution (refs.c) ------------------------------------------ */

/* What an entry's bytes are, after following a wandb-artifact://
 * reference: a stored blob (by MD5) or an http(s) URL. */
struct wfs_res {
	int http;              /* else stored */
	struct wfs_obj *owner; /* a reference that keeps a/m/e */
	const struct wb_artifact *a;
	const struct wb_manifest *m;
	const struct wb_manifest_entry *e;
	int64_t size;
	char md5[33]; /* stored: hex MD5 */
	char *key;    /* malloc'd object key */
};

struct wfs_targets;

int wfs_targets_new(struct wfs_targets **out);
void wfs_targets_free(struct wfs_targets *t);

/* Resolve src; 0 with r filled (release with wfs_res_clear), -EOPNOTSUPP
 * for references without bytes we can fetch, -EIO (logged) for broken
 * entries or references, -ETIMEDOUT / -ENOMEM. */
int wfs_res_get(struct wfs_data *d, const struct wfs_data_src *src,
		struct wfs_res *r);
void wfs_res_clear(struct wfs_res *r);

/* ---- the disk-cache feed (feed.c) ---------------------------------------- */

struct wfs_feed;

/* Per object: which bytes reached the temp file so far. */
struct wfs_feed_obj {
	pthread_mutex_t mu;
	struct wfs_diskcache_writer *w;
	int64_t (*spans)[2]; /* written [start, end), sorted */
	size_t n, cap;
	int done; /* committed, failed, or not wanted */
};

int wfs_feed_new(struct wfs_diskcache *disk, struct wfs_feed **out);
/* Commits what is queued, then stops. NULL-safe. */
void wfs_feed_free(struct wfs_feed *f);

void wfs_feed_obj_init(struct wfs_feed_obj *fo);
/* len bytes at off of the object md5/size arrived: write them to its temp
 * file; once every byte is there, queue the commit (verify, publish). */
void wfs_feed_land(struct wfs_feed *f, struct wfs_feed_obj *fo, const char *md5,
		   int64_t size, int64_t off, const void *data, size_t len);
/* The object is gone: drop an incomplete temp file. */
void wfs_feed_obj_end(struct wfs_feed_obj *fo);

/* ---- the mount's data plane (reader.c) ----------------------------------- */

struct dobj {
	struct wfs_data *d;
	struct wfs_res res;    /* what it is; res.key is the map key */
	struct wfs_pf_obj *pf; /* the table's reference */
	unsigned refs;         /* open files + read-ahead (d->mu) */
	/* read-ahead not yet opened (d->mu) */
	int in_ra;
	double ra_at;
	int64_t ra_bytes;
	struct wfs_link ra; /* in d->ra, oldest first */
	/* the source */
	pthread_mutex_t src_mu;
	int disk_checked;  /* looked for it in the disk cache */
	int disk_fd;       /* read from the disk cache, or -1 */
	int disk_bad;      /* ... until a pread on it failed */
	atomic_int logged; /* a failure was logged */
	struct wfs_feed_obj feed;
};

struct wfs_data {
	struct wfs_data_opts o;
	struct wb_client *api, *storage;
	struct wfs_urls *urls;
	struct wfs_pf *pf;
	struct wfs_diskcache *disk; /* NULL: no disk cache */
	struct wfs_feed *feed;
	struct wfs_targets *targets;
	pthread_mutex_t mu;
	struct wb_strmap objs; /* key -> struct dobj */
	struct wfs_link ra;    /* read ahead, not yet opened */
	unsigned ra_count;
	int64_t ra_bytes;
	uintptr_t ra_last; /* the entry hinted last */
	atomic_uint_fast64_t requests, bytes, disk_hits;
};

/* The object for r, new or shared (one more reference; a new object takes
 * over r's owner reference and key, an existing one leaves r alone). With
 * `ra`, only a new object is made (-EEXIST otherwise) and it is held by
 * the read-ahead list. d->mu held. */
int wfs_dobj_get(struct wfs_data *d, struct wfs_res *r, int ra,
		 struct dobj **out);
/* Drop a reference (d->mu held); the last one takes it out of the map and
 * lets its prefetcher object go. */
void wfs_dobj_put(struct wfs_data *d, struct dobj *o);

/* ---- read-ahead (readahead.c) -------------------------------------------- */

/* Read ahead the files of next[0..n) (the hint of a file being read). */
void wfs_ra_hint(struct wfs_data *d, const struct wfs_data_src *next, size_t n);
/* An open took over a read-ahead object (d->mu held). */
void wfs_ra_taken(struct wfs_data *d, struct dobj *o);
/* Drop every read-ahead not yet opened (at unmount). */
void wfs_ra_drop_all(struct wfs_data *d);

static inline double wfs_data_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
