/* wfs_pool.h — a few background threads that run queued jobs, first in
 * first out: the read-ahead fetches, so that a reader never waits for more
 * than the request that carries what it reads. The number of threads
 * bounds the read-ahead requests in flight; they start on demand. A job
 * can jump the queue (a reader's own request).
 */
#ifndef WFS_POOL_H
#define WFS_POOL_H

struct wfs_pool;

/* A pool of at most `threads` threads (at least one); NULL on OOM. */
struct wfs_pool *wfs_pool_new(unsigned threads);

/* Queue fn(arg, 0), at the front of the queue with `first`. 0, or -ENOMEM
 * / -EAGAIN (no thread could start) when the job was not queued: the
 * caller then runs it itself. */
int wfs_pool_run(struct wfs_pool *p, void (*fn)(void *arg, int cancel),
		 void *arg, int first);

/* Wait until no job is queued or running. */
void wfs_pool_drain(struct wfs_pool *p);

/* Run the queued jobs as fn(arg, 1) (cancelled: they release what they
 * hold without working), wait for the running ones, stop the threads. */
void wfs_pool_free(struct wfs_pool *p);

#endif
