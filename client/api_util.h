/* api_util.h — helpers shared by the typed-API sources (viewer.c,
 * projects.c, runs.c, runfiles.c, history.c, manifest.c, artifacts.c,
 * registry.c, sweeps.c, reports.c): copying fields out of GraphQL `data`,
 * building variables, walking `data` down to a connection and paging a
 * connection to its end. Internal to the client library: not part of the
 * public headers, and not on the include path of fs/ or the CLI. */
#ifndef WB_API_UTIL_H
#define WB_API_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "wb_client.h"
#include "wb_json.h"

/* *out = a copy of the string member `key` of obj, or NULL when it is
 * absent, null or not a string. Returns 0, or -ENOMEM. */
static inline int api_dup_str(const cJSON *obj, const char *key, char **out)
{
	const char *s = wb_json_get_str(obj, key);

	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* Boolean member: 1, 0, or -1 when absent/null. */
static inline int api_bool(const cJSON *obj, const char *key)
{
	const cJSON *v = wb_json_get(obj, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

/* Integer member (a JSON number, or a string of digits as ID fields are
 * sent), or -1 when absent or not an integer. */
static inline int64_t api_int64(const cJSON *obj, const char *key)
{
	const cJSON *v = wb_json_get(obj, key);
	int64_t n;

	if (cJSON_IsString(v)) {
		char *end;

		errno = 0;
		n = strtoll(v->valuestring, &end, 10);
		return *v->valuestring && !*end && !errno ? n : -1;
	}
	return wb_json_get_int64(v, &n) == 0 ? n : -1;
}

/* The `edges` array of a connection, or NULL (iterates as empty). */
static inline const cJSON *api_edges(const cJSON *connection)
{
	const cJSON *e = wb_json_get(connection, "edges");

	return cJSON_IsArray(e) ? e : NULL;
}

/* Advance a cursor from a connection's pageInfo: *cursor becomes the next
 * page's cursor, or is freed to NULL after the last page. A server that
 * says "more" without a new cursor would make us loop forever, so that is
 * -EBADMSG; OOM is -ENOMEM. */
static inline int api_next_cursor(const cJSON *page_info, char **cursor)
{
	const char *next = wb_json_get_str(page_info, "endCursor");

	if (!cJSON_IsTrue(wb_json_get(page_info, "hasNextPage"))) {
		free(*cursor);
		*cursor = NULL;
		return 0;
	}
	if (!next || (*cursor && strcmp(next, *cursor) == 0))
		return -EBADMSG;
	free(*cursor);
	*cursor = strdup(next);
	return *cursor ? 0 : -ENOMEM;
}

/* ---- variables, paths into `data`, paging --------------------------- */

/* A variables object from NULL-terminated (name, string value) pairs; a
 * NULL value leaves the variable out. NULL on OOM. */
static inline cJSON *dvars(const char *name, ...) __attribute__((sentinel));
static inline cJSON *dvars(const char *name, ...)
{
	cJSON *vars = cJSON_CreateObject();
	va_list ap;

	va_start(ap, name);
	for (; vars && name; name = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);

		if (value && !cJSON_AddStringToObject(vars, name, value)) {
			cJSON_Delete(vars);
			vars = NULL;
		}
	}
	va_end(ap);
	return vars;
}

/* Add an integer variable (exact up to 2^53, ample for steps and pages).
 * Returns vars, or NULL after freeing it on OOM. */
static inline cJSON *dvars_int(cJSON *vars, const char *name, int64_t v)
{
	if (vars && !cJSON_AddNumberToObject(vars, name, (double)v)) {
		cJSON_Delete(vars);
		return NULL;
	}
	return vars;
}

/* wb_gql() with variables from dvars(): NULL vars (OOM) is -ENOMEM rather
 * than an empty variables object. */
static inline int dgql(struct wb_client *c, const char *op, cJSON *vars,
		       cJSON **data, struct wb_error *err)
{
	*data = NULL;
	if (!vars)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	return wb_gql(c, op, vars, data, err);
}

/* Follow NULL-terminated object keys from `data`; NULL when a step is
 * absent or null (the W&B way of saying "not found"). *missing receives
 * the key that was null. */
static inline const cJSON *dpath(const cJSON *data, const char **missing, ...)
	__attribute__((sentinel));
static inline const cJSON *dpath(const cJSON *data, const char **missing, ...)
{
	const cJSON *node = data;
	const char *key;
	va_list ap;

	va_start(ap, missing);
	while (node && (key = va_arg(ap, const char *))) {
		node = wb_json_get(node, key);
		if (!cJSON_IsObject(node)) {
			node = NULL;
			if (missing)
				*missing = key;
		}
	}
	va_end(ap);
	return node;
}

/* Copy a string member that must be present (-EBADMSG otherwise). */
static inline int dneed_str(const cJSON *obj, const char *key, char **out)
{
	int rc = api_dup_str(obj, key, out);

	return rc ? rc : *out ? 0 : -EBADMSG;
}

/* strdup of s, or of dflt when s is NULL; NULL only on OOM. */
static inline char *ddup_or(const char *s, const char *dflt)
{
	return strdup(s ? s : dflt);
}

/* A JSON-string member (config, metadata) as its text; "{}" when null. */
static inline int djson_text(const cJSON *obj, const char *key, char **out)
{
	const char *s = wb_json_get_str(obj, key);

	*out = strdup(s ? s : "{}");
	return *out ? 0 : -ENOMEM;
}

/* Message for a failed item conversion. */
static inline int ditem_error(struct wb_error *err, int rc, const char *what)
{
	if (rc == -ENOMEM)
		return wb_error_set(err, rc, 0, "out of memory");
	return wb_error_set(err, rc, 0, "%s: malformed item in the response",
			    what);
}

/* One paged listing: `op` with a copy of `vars` (+ the cursor variable)
 * per page; the connection is found from `data` by `locate` (returning
 * NULL with *missing set when a parent object is null -> -ENOENT, or NULL
 * with *missing set to NULL for a null connection: nothing to list);
 * `edge` is called for each edge. Empty pages with hasNextPage are
 * followed (§9, §12.9). */
struct dpage {
	const char *op;
	const cJSON *vars;
	const char *cursor_var;
	const char *what; /* e.g. "ent/proj/run", for messages */
	const cJSON *(*locate)(const cJSON *data, const char **missing);
	int (*edge)(void *ud, const cJSON *edge, struct wb_error *err);
	void *ud;
	/* optional: called once per page with the connection's parent */
	int (*page)(void *ud, const cJSON *data, struct wb_error *err);
};

static inline int dpage_all(struct wb_client *c, const struct dpage *p,
			    struct wb_error *err)
{
	char *cursor = NULL;
	int rc;

	do {
		cJSON *vars = cJSON_Duplicate(p->vars, 1), *data = NULL;
		const cJSON *conn, *e;
		const char *missing = "object";

		if (!vars || (cursor && !cJSON_AddStringToObject(
				vars, p->cursor_var, cursor))) {
			cJSON_Delete(vars);
			rc = wb_error_set(err, -ENOMEM, 0, "out of memory");
			break;
		}
		rc = wb_gql(c, p->op, vars, &data, err);
		if (rc)
			break;
		conn = p->locate(data, &missing);
		if (!conn && missing) {
			rc = wb_error_set(err, -ENOENT, 0,
					  "%s: %s not found (absent or not "
					  "visible)", p->what, missing);
		} else if (p->page) {
			rc = p->page(p->ud, data, err);
		}
		const cJSON *edges = rc ? NULL : api_edges(conn);

		cJSON_ArrayForEach(e, edges) {
			rc = p->edge(p->ud, e, err);
			if (rc)
				break;
		}
		if (!rc) {
			rc = api_next_cursor(wb_json_get(conn, "pageInfo"),
					     &cursor);
			if (rc)
				rc = wb_error_set(err, rc, 0, "%s (%s): %s",
					p->what, p->op, rc == -ENOMEM
					? "out of memory"
					: "next page without a new cursor");
		}
		cJSON_Delete(data);
	} while (!rc && cursor);
	free(cursor);
	return rc;
}

/* dpage_all() with p->vars = vars, a fresh variables object (from
 * dvars(); NULL is OOM) that it consumes. */
static inline int dpage_run(struct wb_client *c, struct dpage *p,
			    cJSON *vars, struct wb_error *err)
{
	int rc;

	if (!vars)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	p->vars = vars;
	rc = dpage_all(c, p, err);
	p->vars = NULL;
	cJSON_Delete(vars);
	return rc;
}

#endif
