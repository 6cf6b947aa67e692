/* wb_runfiles.h — the files of a run: listing, an exact existence check,
 * and reading a file whole or by byte range.
 *
 * Conventions as in wb_api.h: 0 or a negative errno (err filled); a null
 * project or run is -ENOENT; listing callbacks receive ownership of each
 * item; a non-zero callback result stops the listing and is returned.
 */
#ifndef WB_RUNFILES_H
#define WB_RUNFILES_H

#include <stddef.h>
#include <stdint.h>
#include "wb_client.h"
#include "wb_download.h"

struct wb_run_file {
	char *name;       /* path relative to the run root, '/'-separated */
	int64_t size;     /* sizeBytes; -1 when the server sent none */
	char *md5;        /* base64 MD5, or NULL */
	char *mimetype;   /* or NULL */
	char *updated_at; /* ISO-8601 as sent, or NULL */
	char *url;        /* File.url: API URL (auth, redirects); or NULL */
	char *direct_url; /* File.directUrl: pre-signed, no auth; or NULL */
};

typedef int (*wb_run_file_cb)(void *ud, struct wb_run_file *f);

/* Every file of a run, all pages (per_page 0 = default 1000). */
int wb_run_files_list(struct wb_client *c, const char *entity,
		      const char *project, const char *run, int per_page,
		      wb_run_file_cb cb, void *ud, struct wb_error *err);

/* The file named exactly `name` (LIKE metacharacters escaped, so nothing
 * else matches; placeholders never uploaded do not count), with fresh URLs.
 * -ENOENT when the project, the run or the file is absent. */
int wb_run_file_get(struct wb_client *c, const char *entity,
		    const char *project, const char *run, const char *name,
		    struct wb_run_file **out, struct wb_error *err);

/* The same check, telling an absent file (0 with *out = NULL) from an
 * absent project or run (-ENOENT). */
int wb_run_file_lookup(struct wb_client *c, const char *entity,
		       const char *project, const char *run, const char *name,
		       struct wb_run_file **out, struct wb_error *err);
void wb_run_file_free(struct wb_run_file *f);

/* Which URL reads use: the pre-signed directUrl (default, no auth on the
 * wire) or the API url (auth, redirect to storage followed). */
enum wb_run_file_via {
	WB_VIA_DIRECT_URL = 0,
	WB_VIA_URL = 1,
};

/* What a read needs to know about the file. `url` may be a URL from a
 * listing (of the kind `via` says) or NULL to look one up; an expired URL
 * (401/403 from storage) is replaced by a fresh one once. */
struct wb_run_file_loc {
	const char *entity;
	const char *project;
	const char *run;
	const char *name;
	const char *url;
	enum wb_run_file_via via;
};

/* Bytes [start, end] (inclusive, end -1 = to EOF; 0..-1 = whole file) to
 * sink, as wb_download_stream(). */
int wb_run_file_stream(struct wb_client *c, const struct wb_run_file_loc *loc,
		       int64_t start, int64_t end,
		       const struct wb_http_sink *sink, struct wb_error *err);

#endif
