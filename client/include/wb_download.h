/* wb_download.h — reading bytes behind a download URL (run files, artifact
 * entries): whole or a byte range, into a streaming sink, with one refresh
 * of an expired pre-signed URL.
 *
 * The URL is either a pre-signed storage URL (File.directUrl, artifact file
 * URLs: fetched without W&B auth) or an API URL (File.url, the artifact URLs
 * built from a manifest entry: the transport attaches auth because the URL is
 * on the API host, and follows the redirect to storage without it).
 * Pre-signed URLs expire without saying when; a 401/403 from storage means
 * that (doc/api-notes.md, "Download URLs and their expiry"): the caller's
 * refresh function is asked for a fresh URL and the read is retried once.
 * A transfer cut mid-body (reset, truncation, 5xx on retry) continues with
 * a Range request from the first missing byte, so the sink only ever sees
 * each byte once, in order: its restart function is never used.
 * Implemented in runfiles.c.
 */
#ifndef WB_DOWNLOAD_H
#define WB_DOWNLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "wb_client.h"

/* Produce a fresh URL for the same bytes; *url receives a malloc'd string.
 * 0 or a negative errno (err filled). */
typedef int (*wb_url_refresh_fn)(void *ud, char **url, struct wb_error *err);

struct wb_download_src {
	const char *url;           /* known URL, or NULL: refresh first */
	wb_url_refresh_fn refresh; /* may be NULL: no retry on 401/403 */
	void *refresh_ud;
	const char *label; /* for the debug log, e.g. the file name */
};

/* Bytes [start, end] (inclusive; end = -1: to the end of the file) to the
 * sink. start = 0 and end = -1 is a plain GET without Range. A range that
 * starts at or past the end of the file delivers nothing and returns 0.
 * On failure the sink may have received part of the data. */
int wb_download_stream(struct wb_client *c, const struct wb_download_src *src,
		       int64_t start, int64_t end,
		       const struct wb_http_sink *sink, struct wb_error *err);

#endif
