/* wfs_diskcache.h — the disk cache of artifact bytes, in the wandb SDK's
 * own cache layout, shareable with the SDK and with other mounts.
 *
 * Layout under the cache root DIR (--cache-dir; by default
 * $WANDB_CACHE_DIR, else $XDG_CACHE_HOME/wandb, else ~/.cache/wandb, as the
 * SDK finds it):
 *   DIR/artifacts/obj/md5/<hex[0:2]>/<hex[2:32]>   a stored entry's bytes,
 *                          hex = its MD5 (the manifest digest, base64-
 *                          decoded); identical files are stored once
 *   DIR/artifacts/tmp/wandbfs-*.part                our files being written
 * Directories we create are mode 0700 and objects 0600 (cached artifacts may
 * be private data: share a cache between the jobs of one user, not users).
 *
 * Safety when several processes, mounts and NFS clients share DIR, with no
 * lock needed for correctness: a writer fills a temp file of its own (a
 * unique name, O_EXCL, never under obj/), checks its MD5, flushes it to
 * stable storage and renames it to the final name, which is atomic; so a
 * final name only ever holds a complete, verified object, and two writers
 * of one object each rename identical bytes. Eviction unlinks, so an open
 * fd keeps reading (on NFS, within one client; another node's reader of an
 * evicted object gets ESTALE and must fall back to storage).
 *
 * Hit rule, as the SDK's: a regular file of the expected size under the
 * final name (no re-hash on lookup: objects were verified when written, by
 * us or by the SDK).
 *
 * Bound: --cache-max-disk bytes of objects (default WFS_DISKCACHE_MAX_DEFAULT);
 * when a commit takes the total over it, the least recently used objects
 * (oldest atime; a hit touches it) are unlinked down to 90 % of it.
 *
 * Thread-safe. Functions return 0 or a negative errno.
 */
#ifndef WFS_DISKCACHE_H
#define WFS_DISKCACHE_H

#include <stddef.h>
#include <stdint.h>

#define WFS_DISKCACHE_MAX_DEFAULT ((uint64_t)20 << 30)

struct wfs_diskcache;
struct wfs_diskcache_writer;

/* The SDK's cache root as the SDK finds it, into buf. -ENOENT when neither
 * WANDB_CACHE_DIR, XDG_CACHE_HOME nor HOME is set; -ENAMETOOLONG. */
int wfs_diskcache_default_dir(char *buf, size_t len);

/* Opens (creating what is missing, 0700) the cache rooted at dir.
 * max_bytes 0 = WFS_DISKCACHE_MAX_DEFAULT. Free with wfs_diskcache_close. */
int wfs_diskcache_open(const char *dir, uint64_t max_bytes,
		       struct wfs_diskcache **out);
/* NULL-safe. No writer may be outstanding. */
void wfs_diskcache_close(struct wfs_diskcache *c);

/* 0 with *fd open O_RDONLY (the caller closes it) when the complete object
 * (md5_hex: 32 hex digits, either case; size in bytes) is present, and
 * marks it recently used. -ENOENT when absent or of another size; -EINVAL
 * for a malformed md5_hex; other errors are I/O trouble (log, fall back). */
int wfs_diskcache_lookup(struct wfs_diskcache *c, const char *md5_hex,
			 int64_t size, int *fd);

/* A writer for a new object of `size` bytes: a temp file, extended by the
 * writes (not truncated to size up front: filling a sparse file costs the
 * kernel several times more than extending one). Writes may
 * come at any offset, in any order, from several threads at once (parallel
 * range requests), but must not overlap with different bytes. -ENOSPC when
 * the filesystem has no room for size bytes (the caller just does not
 * cache). Several writers of one object may coexist (in one process or
 * many): each commits identical bytes. */
int wfs_diskcache_begin(struct wfs_diskcache *c, const char *md5_hex,
			int64_t size, struct wfs_diskcache_writer **w);
/* len bytes at off; -EINVAL when beyond size. Only a pwrite: the MD5 is
 * computed by commit, so writers (fetchers) are not held up. */
int wfs_diskcache_write(struct wfs_diskcache_writer *w, int64_t off,
			const void *buf, size_t len);
/* Once every write has returned: checks that every byte was written and
 * that the MD5 matches (else -EIO, logged, nothing under the final name),
 * then publishes the object atomically and evicts beyond the bound. Reads
 * the file back to hash it and flushes it to stable storage: call it off
 * any latency-sensitive path. The temp file is gone either way. Frees w. */
int wfs_diskcache_commit(struct wfs_diskcache_writer *w);
/* Drops the temp file. Frees w. NULL-safe. */
void wfs_diskcache_abort(struct wfs_diskcache_writer *w);

#endif
