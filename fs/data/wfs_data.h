/* wfs_data.h — the data plane: the bytes of artifact entries.
 *
 * Owns everything about reading large immutable blobs at an offset: where
 * the bytes come from (the disk cache in the wandb SDK's layout, else
 * storage through download URLs resolved in batches), the prefetcher
 * (sequential detection per open file, a growing window fetched as several
 * parallel range requests, one memory budget for the whole mount) and the
 * directory read-ahead of small files. The metadata plane (node types,
 * fetch.c) only hands it a description of an entry and asks for bytes.
 *
 * Thread-safe: any FUSE thread may call any function; several threads may
 * read one wfs_data_file at once (the kernel's readahead does).
 * Functions return 0 or a negative errno fit for the kernel: -ENOENT only
 * for a confirmed absence, -EIO (logged once per open file), -ETIMEDOUT,
 * -EACCES, -ENOMEM, -EOPNOTSUPP (an entry kind that has no bytes: s3://,
 * gs://, azure://, file:// references).
 */
#ifndef WFS_DATA_H
#define WFS_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wb_artifacts.h"
#include "wfs_cache.h"

/* One artifact entry's bytes as the metadata plane knows them. The data
 * plane takes its own reference on `owner` (wfs_obj_ref) for as long as it
 * uses artifact/manifest/entry (an open file, a read-ahead in flight), so
 * the caller may drop its own right after the call. */
struct wfs_data_src {
	struct wfs_obj *owner;              /* keeps the three below alive */
	const struct wb_artifact *artifact; /* the version as addressed */
	const struct wb_manifest *manifest;
	const struct wb_manifest_entry *entry; /* a stored entry, or an
						  http(s):// / wandb-artifact://
						  reference */
};

/* Tunables; zero fields take the defaults. */
struct wfs_data_opts {
	const char *cache_dir;   /* disk cache root in the SDK's layout
				      (<dir>/artifacts/obj/md5/..); NULL =
				      no disk cache */
	uint64_t cache_max_disk; /* disk cache bound; 0 = its default */
	size_t mem_budget;       /* all prefetch / read-ahead buffers of
				      the mount; 0 = WFS_DATA_MEM_DEFAULT */
	unsigned max_streams;    /* parallel storage requests of the
				      mount; 0 = WFS_DATA_STREAMS_DEFAULT */
	size_t window_max;       /* largest sequential window per file;
				      0 = WFS_DATA_WINDOW_MAX_DEFAULT */
	long timeout_ms;         /* storage requests: connecting, queueing
				      and retries; a transfer fails when it
				      stalls this long. 0 = the client's */
};

#define WFS_DATA_MEM_DEFAULT ((size_t)128 << 20)
#define WFS_DATA_STREAMS_DEFAULT 64
#define WFS_DATA_WINDOW_MAX_DEFAULT ((size_t)64 << 20)

struct wfs_data; /* one per mount */

/* The data plane of a mount. `client` is used for URL resolution and
 * references; storage transfers use a pool of their own (max_streams
 * connections), so big reads never starve metadata requests. The client
 * must outlive the data plane. */
int wfs_data_new(struct wb_client *client, const struct wfs_data_opts *o,
		 struct wfs_data **out);
/* Stops every transfer in flight and frees everything. No file may be
 * open. NULL-safe. */
void wfs_data_free(struct wfs_data *d);

/* The size in bytes of the entry's content: the manifest's size for stored
 * entries and http(s) references that record it; for a wandb-artifact://
 * reference, the size of its target entry (resolved once, then cached). */
int wfs_data_size(struct wfs_data *d, const struct wfs_data_src *src,
		  int64_t *size);

struct wfs_data_file; /* one open file: its reader state and window */

int wfs_data_open(struct wfs_data *d, const struct wfs_data_src *src,
		  struct wfs_data_file **out);
/* Up to len bytes at off into buf; *got < len only at the end of the file.
 * Never short otherwise: a read that cannot complete fails (-EIO,
 * -ETIMEDOUT, ...) and no partial data is reported as whole. */
int wfs_data_read(struct wfs_data_file *f, char *buf, size_t len, off_t off,
		  size_t *got);
/* Cancels this file's prefetch and drops its reference on the owner.
 * NULL-safe. */
void wfs_data_close(struct wfs_data_file *f);

/* Directory read-ahead: f, a file of a directory, was opened; these are
 * the next files of that directory in listing order (up to
 * WFS_DATA_HINT_MAX are looked at: pass that many when there are). When f
 * gets its first read (not when the page cache serves it whole), the data
 * plane starts on the next files (bounded in count and bytes; small files
 * whole, big ones their first MiB) and keeps their bytes in memory or the
 * disk cache until they are opened and read. It takes references on the
 * owners it keeps; the caller keeps its own. Never blocks on the network. */
void wfs_data_hint_next(struct wfs_data_file *f,
			const struct wfs_data_src *const *next, size_t n);
/* Enough files ahead to hide ~20 ms of storage latency at thousands of
 * small files per second. */
#define WFS_DATA_HINT_MAX 128

/* Counters for logs, benchmarks and tests. */
struct wfs_data_stats {
	uint64_t storage_requests; /* range GETs sent to storage */
	uint64_t storage_bytes;    /* bytes received from storage */
	uint64_t disk_hits;        /* opens served by the disk cache */
	uint64_t url_batches;      /* file-URL batch requests */
	uint64_t url_refreshes;    /* expired URLs refreshed */
	size_t mem_used;           /* prefetch / read-ahead bytes now held */
	size_t mem_peak;
};
void wfs_data_get_stats(struct wfs_data *d, struct wfs_data_stats *out);

#endif
