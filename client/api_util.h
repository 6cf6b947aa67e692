/* api_util.h — helpers shared by the typed-API sources (viewer.c,
 * projects.c, runs.c): copying fields out of GraphQL `data`. Internal to
 * the client library; not part of its public headers. */
#ifndef WB_API_UTIL_H
#define WB_API_UTIL_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
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

#endif
