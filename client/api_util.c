/* api_util.c — the helpers of api_util.h: fields out of GraphQL `data`,
 * variables, documents, paths into `data`, and the pager. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_json.h"

/* ---- fields of a node ---------------------------------------------------- */

int api_dup_str(const cJSON *obj, const char *key, char **out)
{
	const char *s = wb_json_get_str(obj, key);

	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int api_need_str(const cJSON *obj, const char *key, char **out)
{
	int rc = api_dup_str(obj, key, out);

	return rc ? rc : *out ? 0 : -EBADMSG;
}

int api_json_text(const cJSON *obj, const char *key, char **out)
{
	const char *s = wb_json_get_str(obj, key);

	*out = strdup(s ? s : "{}");
	return *out ? 0 : -ENOMEM;
}

int api_bool(const cJSON *obj, const char *key)
{
	const cJSON *v = wb_json_get(obj, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

int64_t api_int64(const cJSON *obj, const char *key)
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

const cJSON *api_edges(const cJSON *connection)
{
	const cJSON *e = wb_json_get(connection, "edges");

	return cJSON_IsArray(e) ? e : NULL;
}

int api_item_error(struct wb_error *err, int rc, const char *what)
{
	if (rc == -ENOMEM)
		return wb_error_set(err, rc, 0, "out of memory");
	return wb_error_set(err, rc, 0, "%s: malformed item in the response",
			    what);
}

/* ---- variables and documents ------------------------------------------- */

cJSON *api_vars(const char *name, ...)
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

/* Add item (NULL is OOM) to vars, or free both. */
static cJSON *vars_add(cJSON *vars, const char *name, cJSON *item)
{
	if (vars && item && cJSON_AddItemToObject(vars, name, item))
		return vars;
	cJSON_Delete(item);
	cJSON_Delete(vars);
	return NULL;
}

cJSON *api_vars_int(cJSON *vars, const char *name, int64_t v)
{
	return vars ? vars_add(vars, name, cJSON_CreateNumber((double)v))
		    : NULL;
}

cJSON *api_vars_bool(cJSON *vars, const char *name, int v)
{
	return vars ? vars_add(vars, name, cJSON_CreateBool(v)) : NULL;
}

int api_gql(struct wb_client *c, const char *op, cJSON *vars, cJSON **data,
	    struct wb_error *err)
{
	*data = NULL;
	if (!vars)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	return wb_gql(c, op, vars, data, err);
}

const cJSON *api_path(const cJSON *data, const char **missing, ...)
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

const cJSON *api_connection(const cJSON *parent, const char *field,
			    const char **missing)
{
	const cJSON *conn = wb_json_get(parent, field);

	if (!cJSON_IsObject(conn)) {
		if (parent)
			*missing = NULL;
		return NULL;
	}
	return conn;
}

/* One segment percent-encoded into dst (when not NULL); its length. */
static size_t quote_segment(char *dst, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			if (dst)
				dst[n] = (char)*p;
			n++;
		} else {
			if (dst) {
				dst[n] = '%';
				dst[n + 1] = hex[*p >> 4];
				dst[n + 2] = hex[*p & 15];
			}
			n += 3;
		}
	}
	return n;
}

char *api_url_quote(const char *s)
{
	char *out = malloc(quote_segment(NULL, s) + 1);

	if (out)
		out[quote_segment(out, s)] = '\0';
	return out;
}

char *api_url_join(const char *prefix, const char *const *segs, size_t n)
{
	size_t len = strlen(prefix) + 1, at = strlen(prefix);
	char *url;

	for (size_t i = 0; i < n; i++)
		len += 1 + quote_segment(NULL, segs[i]);
	url = malloc(len);
	if (!url)
		return NULL;
	memcpy(url, prefix, at);
	for (size_t i = 0; i < n; i++) {
		url[at++] = '/';
		at += quote_segment(url + at, segs[i]);
	}
	url[at] = '\0';
	return url;
}

/* ---- paging ---------------------------------------------------------------- */

/* Where the listing goes after this page: 0 with *cursor the next page's
 * cursor, or freed to NULL at the end; -EBADMSG for a page that says "more"
 * with no new cursor (following it would loop forever); -ENOMEM. */
static int next_cursor(const struct api_pager *p, const cJSON *conn,
		       char **cursor)
{
	const cJSON *info = wb_json_get(conn, "pageInfo");
	const char *next = wb_json_get_str(info, "endCursor");
	int more = cJSON_IsTrue(wb_json_get(info, "hasNextPage"));
	int soft = !more && p->more && p->more(p->ud, conn);

	if ((more || soft) &&
	    (!next || (*cursor && strcmp(next, *cursor) == 0))) {
		if (more)
			return -EBADMSG;
		soft = 0;
	}
	free(*cursor);
	*cursor = NULL;
	if (!more && !soft)
		return 0;
	*cursor = strdup(next);
	return *cursor ? 0 : -ENOMEM;
}

/* Whether the caller's limit is reached. */
static int limit_reached(const struct api_pager *p)
{
	return p->limit > 0 && *p->taken >= p->limit;
}

/* One page: request, locate, page(), edge() per edge, next cursor. */
static int one_page(struct wb_client *c, const struct api_pager *p,
		    const cJSON *vars, char **cursor, struct wb_error *err)
{
	int64_t size = p->per_page;
	const char *missing = "object";
	const cJSON *conn, *edges, *e;
	cJSON *v, *data;
	int rc;

	if (p->limit > 0 && p->limit - *p->taken < size)
		size = p->limit - *p->taken;
	v = cJSON_Duplicate(vars, 1);
	if (v && *cursor &&
	    !cJSON_AddStringToObject(v, p->cursor_var, *cursor)) {
		cJSON_Delete(v);
		v = NULL;
	}
	rc = api_gql(c, p->op, api_vars_int(v, p->size_var, size), &data, err);
	if (rc)
		return rc;
	conn = p->locate(data, &missing);
	if (!conn && missing)
		rc = wb_error_set(err, -ENOENT, 0,
				  "%s: %s not found (absent "
				  "or not visible)",
				  p->what, missing);
	else if (p->page)
		rc = p->page(p->ud, data, err);
	edges = rc ? NULL : api_edges(conn);
	cJSON_ArrayForEach (e, edges) {
		rc = p->edge(p->ud, e, err);
		if (rc || limit_reached(p))
			break;
	}
	if (!rc && limit_reached(p)) {
		free(*cursor);
		*cursor = NULL;
	} else if (!rc) {
		rc = next_cursor(p, conn, cursor);
		if (rc)
			rc = wb_error_set(
				err, rc, 0, "%s (%s): %s", p->what, p->op,
				rc == -ENOMEM
					? "out of memory"
					: "next page without a new cursor");
	}
	cJSON_Delete(data);
	return rc;
}

int api_pages(struct wb_client *c, const struct api_pager *p, cJSON *vars,
	      struct wb_error *err)
{
	char *cursor = NULL;
	int rc;

	if (!vars)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	do {
		rc = one_page(c, p, vars, &cursor, err);
		if (!rc && cursor && p->stop && atomic_load(p->stop))
			rc = -ECANCELED;
	} while (!rc && cursor);
	free(cursor);
	cJSON_Delete(vars);
	return rc;
}
