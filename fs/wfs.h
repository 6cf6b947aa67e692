/* wfs.h — the state one mount shares between its threads, and its options.
 *
 * Created by main.c, handed to every FUSE handler as the session userdata;
 * node types and the fetcher take it as their first argument.
 */
#ifndef WFS_H
#define WFS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "wb_api.h"
#include "wfs_cache.h"

struct wfs_options {
	char *base_url;          /* NULL = as the client finds it */
	char *cache_dir;         /* disk cache root (the wandb SDK's layout,
				  absolute); NULL = no disk cache */
	uint64_t cache_max_disk; /* its bound; 0 = the default */
	char *log_file;
	char *registry_org; /* registry/: this organization (display or
				  org entity name); NULL = the viewer's first */
	struct wfs_cache_policy policy;
	unsigned max_requests;  /* 0 = the client's default */
	double timeout;         /* per API call incl. retries, seconds */
	unsigned prefetch_runs; /* most runs read ahead (1 = one per request) */
	int debug;
};

struct wfs_fetch;  /* wfs_fetch.h */
struct wfs_nodes;  /* wfs_node.h */
struct wfs_handle; /* ops.c: an open directory */
struct wfs_data;   /* data/wfs_data.h: artifact bytes */

struct wfs {
	struct wfs_options opt;
	struct wb_client *client;
	struct wfs_cache *cache;
	struct wfs_fetch *fetch;
	struct wfs_nodes *nodes;
	struct wfs_data *data; /* NULL until the client exists */
	/* Open directories, so those the kernel never released (a release
	 * still queued at unmount) are freed at exit. */
	pthread_mutex_t handles_mu;
	struct wfs_handle *handles;
	int no_open; /* the kernel skips open and release of files */
	time_t mount_time;
	uid_t uid;
	gid_t gid;
};

#endif
