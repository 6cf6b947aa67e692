/* api_util.h — what the typed-API sources (viewer.c, projects.c, runs.c,
 * runfiles.c, history.c, manifest.c, artifacts.c, registry.c, sweeps.c,
 * reports.c) share, implemented in api_util.c: copying fields out of GraphQL
 * `data`, the one way to build variables and send a document, walking `data`
 * down to a connection, and the one pager every listing uses. Internal to
 * the client library: not part of the public headers, and not on the
 * include path of fs/ or the CLI. */
#ifndef WB_API_UTIL_H
#define WB_API_UTIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "wb_client.h"
#include "wb_json.h"

/* ---- fields of a node ---------------------------------------------------- */

/* *out = a copy of the string member `key` of obj, or NULL when it is
 * absent, null or not a string. 0 or -ENOMEM. */
int api_dup_str(const cJSON *obj, const char *key, char **out);

/* The same for a member that must be present: -EBADMSG when it is not. */
int api_need_str(const cJSON *obj, const char *key, char **out);

/* A JSON-string member (config, metadata) as its text; "{}" when null.
 * 0 or -ENOMEM. */
int api_json_text(const cJSON *obj, const char *key, char **out);

/* Boolean member: 1, 0, or -1 when absent/null. */
int api_bool(const cJSON *obj, const char *key);

/* Integer member (a JSON number, or a string of digits as ID fields are
 * sent), or -1 when absent or not an integer. */
int64_t api_int64(const cJSON *obj, const char *key);

/* The `edges` array of a connection, or NULL (iterates as empty). */
const cJSON *api_edges(const cJSON *connection);

/* Message for a failed item conversion (-ENOMEM or a malformed node). */
int api_item_error(struct wb_error *err, int rc, const char *what);

/* ---- variables and documents ------------------------------------------- */

/* A variables object from NULL-terminated (name, string value) pairs; a
 * NULL value leaves the variable out. NULL on OOM. */
cJSON *api_vars(const char *name, ...) __attribute__((sentinel));

/* Add an integer (exact up to 2^53, ample for steps and pages) or a boolean
 * variable. Return vars, or NULL after freeing it on OOM; a NULL vars (an
 * earlier OOM) stays NULL, so calls chain. */
cJSON *api_vars_int(cJSON *vars, const char *name, int64_t v);
cJSON *api_vars_bool(cJSON *vars, const char *name, int v);

/* wb_gql() with variables from api_vars(), consumed; NULL vars (OOM) is
 * -ENOMEM rather than an empty variables object. */
int api_gql(struct wb_client *c, const char *op, cJSON *vars, cJSON **data,
	    struct wb_error *err);

/* Follow NULL-terminated object keys from `data`; NULL when a step is
 * absent or null (how W&B says "not found"). *missing (may be NULL)
 * receives the key that was null. */
const cJSON *api_path(const cJSON *data, const char **missing, ...)
	__attribute__((sentinel));

/* The connection `field` of parent, an object from api_path() (NULL with
 * *missing set when it was not found). A parent whose connection is null
 * has nothing to list: NULL with *missing = NULL. For locate() below. */
const cJSON *api_connection(const cJSON *parent, const char *field,
			    const char **missing);

/* prefix, then "/" and each of the n segments percent-encoded as Python's
 * quote(s, safe="") (only RFC 3986 unreserved bytes stay literal, so '/'
 * becomes %2F; a NULL segment is empty): web and storage URLs. malloc'd;
 * NULL on OOM. */
char *api_url_join(const char *prefix, const char *const *segs, size_t n);
/* s alone, encoded as one segment above (for a query-string value). */
char *api_url_quote(const char *s);

/* ---- paging ---------------------------------------------------------------
 * One listing: `op` with a copy of the variables per page, plus the cursor
 * (after the first page) and the page size. The connection is found in
 * `data` by locate(): NULL with *missing set when a parent object is null
 * (-ENOENT), NULL with *missing set to NULL for a null connection (nothing
 * to list). edge() is called for each edge. Empty pages with hasNextPage
 * are followed: servers return them under filters. */
struct api_pager {
	const char *op;
	const char *cursor_var; /* the operation's cursor variable */
	const char *size_var;   /* its page-size variable */
	int64_t per_page;
	/* optional: stop once *taken (the count of items edge() has taken,
	 * kept by the caller) reaches limit, asking no page for more than
	 * what is left */
	int64_t limit;
	const int64_t *taken;
	/* optional: set non-zero by a sibling to end the listing between
	 * pages (-ECANCELED) */
	const atomic_int *stop;
	const char *what; /* e.g. "ent/proj/run", for messages */
	const cJSON *(*locate)(const cJSON *data, const char **missing);
	int (*edge)(void *ud, const cJSON *edge, struct wb_error *err);
	/* optional: once per page with its `data` */
	int (*page)(void *ud, const cJSON *data, struct wb_error *err);
	/* optional: 1 when there are more pages although the page said
	 * hasNextPage false (console logs); a missing or repeated cursor then
	 * ends the listing instead of failing it */
	int (*more)(void *ud, const cJSON *connection);
	void *ud;
};

/* Every page of p, with variables vars (from api_vars(); consumed, NULL is
 * -ENOMEM). A non-zero edge() or page() result stops and is returned; a
 * "more" page without a new cursor (-EBADMSG) would loop forever. */
int api_pages(struct wb_client *c, const struct api_pager *p, cJSON *vars,
	      struct wb_error *err);

#endif
