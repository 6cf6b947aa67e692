/* wfs_urls.h — download URLs of stored artifact entries, resolved in
 * batches and kept per version.
 *
 * The file-URL route gives pre-signed storage URLs (fetched without W&B
 * auth) for every file of a version in pages of up to 5000; a version of
 * up to URLS_FULL_MAX stored entries is fetched whole at its first read,
 * a bigger one in batches of the next entries in manifest order (the order
 * a loader walks it). Pre-signed URLs expire and the expiry is not given:
 * a URL is reused for at most URL_TTL, and a 401/403 from storage marks
 * every URL of that version fetched until then as stale, so the next one
 * comes from a fresh batch. When the server has no file-URL route, or does
 * not list an entry its manifest has, the URL is the authenticated server
 * route of the manifest's storage layout (V1 or V2), which answers with a
 * redirect to storage; only such URLs are on the API host, and only the
 * API client (which scopes the key to that host) may fetch them.
 * Memory is bounded: the URLs of least recently used versions are dropped
 * beyond URLS_MEM_MAX bytes. Thread-safe; one batch per version at a time.
 */
#ifndef WFS_URLS_H
#define WFS_URLS_H

#include "wb_artifacts.h"

struct wfs_urls;

int wfs_urls_new(struct wb_client *api, struct wfs_urls **out);
void wfs_urls_free(struct wfs_urls *u); /* NULL-safe */

/* A download URL (malloc'd into *url) for stored entry e of version a
 * (manifest m). 0 or a negative errno with err filled. */
int wfs_urls_get(struct wfs_urls *u, const struct wb_artifact *a,
		 const struct wb_manifest *m, const struct wb_manifest_entry *e,
		 char **url, struct wb_error *err);

/* Storage refused `stale` (401/403: expired): a fresh URL for e. */
int wfs_urls_refresh(struct wfs_urls *u, const struct wb_artifact *a,
		     const struct wb_manifest *m,
		     const struct wb_manifest_entry *e, const char *stale,
		     char **url, struct wb_error *err);

/* 1 when url is on the API host (must be fetched with the API client). */
int wfs_urls_on_api(const struct wfs_urls *u, const char *url);

struct wfs_urls_stats {
	uint64_t batches;   /* file-URL requests */
	uint64_t refreshes; /* URLs refused by storage */
	size_t bytes;       /* memory held by URLs now */
};
void wfs_urls_get_stats(struct wfs_urls *u, struct wfs_urls_stats *out);

#endif
