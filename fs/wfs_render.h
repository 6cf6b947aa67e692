/* wfs_render.h — turning client results into the bytes and records the
 * filesystem serves.
 *
 * Rendering happens once per cache fill: a record holds its files as
 * finished byte blobs, so getattr reports the blob's exact length and read
 * copies from it; no size is ever guessed. JSON files are pretty-printed
 * (2-space indent, one key per line, the server's key order, numbers with
 * their exact digits, NaN/Infinity as Python's json writes them) and end in
 * a newline.
 */
#ifndef WFS_RENDER_H
#define WFS_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "wb_api.h"
#include "wfs_cache.h"

/* Immutable file content. `version` identifies these exact bytes within the
 * mount: a re-render that yields the same bytes reuses the blob (and so the
 * version), letting the kernel keep its page cache. */
struct wfs_blob {
	struct wfs_obj obj;
	uint64_t version;
	time_t mtime;
	size_t len;
	char data[];
};

/* A blob of len bytes (copied); NULL on OOM. */
struct wfs_blob *wfs_blob_new(const char *data, size_t len, time_t mtime);

/* Pretty-print a JSON tree plus a trailing newline into a blob. If prev
 * holds the same bytes, prev is returned (with a new reference) instead.
 * NULL on OOM. */
struct wfs_blob *wfs_blob_json(const cJSON *tree, time_t mtime,
			       const struct wfs_blob *prev);

/* ISO-8601 timestamp as W&B sends it ("2023-11-05T17:46:35", optional
 * fraction, optional Z or +hh:mm; no zone means UTC) to epoch seconds;
 * `dflt` when NULL or unparsable. */
time_t wfs_time_parse(const char *iso, time_t dflt);

/* ---- names -------------------------------------------------------------- */

/* An ordered list of names with O(1) membership and position (a directory
 * listing: entities, projects or runs). */
struct wfs_names {
	struct wfs_obj obj;
	size_t n;
	char **v;
	void *index; /* private: name -> position */
};

struct wfs_names *wfs_names_new(void);
/* Append (a duplicate is ignored); 0 or -ENOMEM. */
int wfs_names_add(struct wfs_names *l, const char *name);
/* Position of name, or -1. */
long wfs_names_find(const struct wfs_names *l, const char *name);
/* Sort by name (bytewise, as `LC_ALL=C ls` and shell globs order them). */
void wfs_names_sort(struct wfs_names *l);

/* Whether a name from the server can be a directory entry (non-empty, not
 * "." or "..", no '/', bounded length). */
int wfs_name_usable(const char *name);

/* ---- projects --------------------------------------------------------- */

struct wfs_project_rec {
	struct wfs_obj obj;
	time_t ctime, mtime;
	struct wfs_blob *json; /* project.json */
};

/* Render a project; prev (may be NULL) lends unchanged blobs. NULL on OOM. */
struct wfs_project_rec *wfs_render_project(const struct wb_project *p,
					   const struct wfs_project_rec *prev);

/* ---- runs ------------------------------------------------------------- */

/* A run's light record: what a listing brings (the run directory's times
 * and lifetime, and metadata.json). metadata.json is rendered the first
 * time it is asked for, not for every run a listing brings. */
struct wfs_run_rec {
	struct wfs_obj obj;
	enum wfs_class cls;                  /* from the run's state */
	time_t ctime, mtime;                 /* createdAt, heartbeatAt */
	struct wb_run *run;                  /* the light fields (owned) */
	_Atomic(struct wfs_blob *) metadata; /* NULL until rendered */
	struct wfs_blob *prev; /* metadata.json of the record this one
				       replaced, lent to the rendering */
};

/* A light record from r, which it takes over (freed here or with the
 * record). When prev (may be NULL) has the same light fields, *out is prev
 * itself (a new reference), so its bytes keep their version. Returns 0 or
 * -ENOMEM. */
int wfs_render_run(struct wb_run *r, const struct wfs_run_rec *prev,
		   struct wfs_run_rec **out);

/* metadata.json of rec (a new reference), rendered once; NULL on OOM.
 * entity and project are the run's, as the path names them. */
struct wfs_blob *wfs_run_metadata(struct wfs_run_rec *rec, const char *entity,
				  const char *project);

/* One heavy file of a run (config.json, summary.json), cached apart from
 * the light record so each is fetched only when read. */
struct wfs_run_file {
	struct wfs_obj obj;
	enum wfs_class cls;    /* from the run's state when fetched */
	struct wfs_blob *blob; /* NULL when the server's text cannot be
				       read as JSON, with */
	int err;               /* the negative errno why (logged once) */
};

/* Render the heavy field `field` of r (WB_RUN_CONFIG: config.json, the
 * config unwrapped as wandb.Api gives it; WB_RUN_SUMMARY: summary.json, as
 * the server sent it); r must carry it. prev (may be NULL) lends its blob
 * when the bytes are unchanged. Returns 0 or -ENOMEM. */
int wfs_render_run_file(const struct wb_run *r, unsigned field,
			const struct wfs_run_file *prev,
			struct wfs_run_file **out);

#endif
