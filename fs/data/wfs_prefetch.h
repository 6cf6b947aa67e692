/* wfs_prefetch.h — the prefetcher: buffered, parallel range reads of
 * immutable objects of known size, with one memory budget for all of them.
 *
 * An object (wfs_pf_obj) is a byte range source plus the chunks of it that
 * are in memory or on their way. Readers (wfs_pf_reader, one per open file)
 * read from an object; each reader keeps a few cursors, so interleaved
 * streams (the kernel's out-of-order readahead, two threads of one process)
 * each keep their own sequential state:
 *  - a read at offset 0, or one continuing a cursor, is sequential: the
 *    cursor's window starts at window_min and doubles each time the reader
 *    has consumed half of it, up to window_max and to an even share of
 *    half the budget among the sequential readers (so files read at once
 *    do not drop each other's read-ahead); the window ahead of the reader
 *    is fetched as chunks of window/seq_streams bytes (at least MIN_CHUNK,
 *    at most MAX_CHUNK), so one sequential reader keeps about seq_streams
 *    range requests in flight;
 *  - any other read is random: it fetches what it needs (page aligned) plus
 *    a small extra (as much again, at most random_extra), and nothing more
 *    unless the next read continues it.
 * A worker pool (workers threads) runs the fetches; chunks a reader waits
 * for go first. Readers consume a chunk while it fills, so the first byte
 * comes back after one round trip whatever the window.
 *
 * Memory: every chunk's size is reserved from mem_budget before it is
 * fetched. Speculative chunks (windows, preloads) are only started when
 * they fit after dropping chunks that were read through already; a chunk a
 * reader needs may also drop unread chunks (least recently used first) or
 * wait until a fetch completes. Buffers are mapped per chunk and unmapped
 * when dropped, so the process gives memory back.
 *
 * Thread-safe. Every function returns 0 or a negative errno.
 */
#ifndef WFS_PREFETCH_H
#define WFS_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

struct wfs_pf_opts {
	size_t mem_budget;    /* bytes of chunk buffers over all objects */
	unsigned workers;     /* fetches in flight at once */
	unsigned seq_streams; /* requests one sequential reader aims for */
	size_t window_min;    /* first sequential window */
	size_t window_max;    /* largest sequential window */
	size_t random_extra;  /* most a random read fetches beyond its end */
};

/* Hand n bytes to the chunk being fetched; non-zero = stop (the chunk was
 * cancelled): the fetch should return as soon as it can. */
typedef int (*wfs_pf_put_fn)(void *pud, const void *data, size_t n);

/* Where an object's bytes come from. Called from worker threads, several
 * at once for one object. */
struct wfs_pf_source {
	/* Deliver exactly the bytes [off, off + len) through put, in order;
	 * 0 when all were delivered, else a negative errno. */
	int (*fetch)(void *ud, int64_t off, size_t len, wfs_pf_put_fn put,
		     void *pud);
	/* A chunk [off, off + len) arrived whole (data valid during the
	 * call), e.g. for the disk cache. Called from a landing thread of
	 * its own, in arrival order, so a slow consumer never holds up a
	 * fetch a reader waits for; when landings are half the budget
	 * behind, read-ahead waits for them. Chunks of one object never
	 * overlap (a chunk dropped for memory and fetched again lands
	 * again). May be NULL. */
	void (*landed)(void *ud, int64_t off, const void *data, size_t len);
	/* The object is gone: no other call follows. May be NULL. */
	void (*release)(void *ud);
};

struct wfs_pf;
struct wfs_pf_obj;
struct wfs_pf_reader;

/* Zero fields of o take the defaults below. */
#define WFS_PF_WORKERS_DEFAULT 32
#define WFS_PF_SEQ_STREAMS_DEFAULT 16
#define WFS_PF_WINDOW_MIN_DEFAULT ((size_t)1 << 20)
#define WFS_PF_WINDOW_MAX_DEFAULT ((size_t)64 << 20)
#define WFS_PF_RANDOM_EXTRA_DEFAULT ((size_t)64 << 10)
#define WFS_PF_MEM_DEFAULT ((size_t)128 << 20)

int wfs_pf_new(const struct wfs_pf_opts *o, struct wfs_pf **out);
/* Stops the workers. Every object must have been dropped. NULL-safe. */
void wfs_pf_free(struct wfs_pf *pf);

/* A new object of size bytes (one reference, the caller's). */
int wfs_pf_obj_new(struct wfs_pf *pf, int64_t size,
		   const struct wfs_pf_source *src, void *ud,
		   struct wfs_pf_obj **out);
void wfs_pf_obj_ref(struct wfs_pf_obj *o);
/* Drop a reference. With the last one, queued fetches are dropped, running
 * ones cancelled, and src->release(ud) is called once the last running
 * fetch has returned (possibly from a worker thread). NULL-safe. */
void wfs_pf_obj_unref(struct wfs_pf_obj *o);

/* Fetch [off, off + len) ahead of any reader (directory read-ahead), if
 * memory allows without dropping unread data: -ENOBUFS otherwise.
 * Already present or queued parts are not fetched again. */
int wfs_pf_preload(struct wfs_pf_obj *o, int64_t off, size_t len);

/* 1 when every byte of [off, off + len) is in memory (fetched whole). */
int wfs_pf_cached(struct wfs_pf_obj *o, int64_t off, size_t len);

/* A reader of o (takes a reference on o). */
int wfs_pf_reader_new(struct wfs_pf_obj *o, struct wfs_pf_reader **out);
/* Up to len bytes at off; *got < len only at the end of the object. A read
 * that cannot complete returns the fetch's error and no data. */
int wfs_pf_read(struct wfs_pf_reader *r, void *buf, size_t len, int64_t off,
		size_t *got);
/* Drops the reader and its reference on the object. NULL-safe. */
void wfs_pf_reader_free(struct wfs_pf_reader *r);

struct wfs_pf_stats {
	uint64_t fetches;   /* fetch calls started */
	uint64_t bytes;     /* bytes delivered by fetches */
	uint64_t failures;  /* fetches that failed (not cancelled) */
	uint64_t evictions; /* chunks dropped for memory */
	size_t mem_used;    /* bytes reserved now */
	size_t mem_peak;
	size_t mem_budget;
	unsigned running; /* fetches in flight now */
	size_t landing;   /* bytes waiting for src->landed */
	unsigned running_peak;
};
void wfs_pf_get_stats(struct wfs_pf *pf, struct wfs_pf_stats *out);

#endif
