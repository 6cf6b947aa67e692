/* wb_json.h — extended JSON on top of cJSON, exact to the digit.
 *
 * W&B JSON carries bare NaN, Infinity, -Infinity and integers beyond 2^53.
 * wb_json_parse() accepts them and keeps every number as a cJSON_Raw item
 * whose valuestring is the number's exact source text, so printing gives back
 * the same digits. Use the accessors below rather than valuedouble.
 * Strings, keys and key order are kept as the server sent them.
 */
#ifndef WB_JSON_H
#define WB_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "wb_error.h"

/* Parse len bytes of text (need not be NUL-terminated). Returns a tree the
 * caller frees with cJSON_Delete(), or NULL with err set (-EBADMSG). */
cJSON *wb_json_parse(const char *text, size_t len, struct wb_error *err);

/* True for numbers, including NaN/Infinity/-Infinity. */
int wb_json_is_number(const cJSON *item);

/* Value of a number item as double (NaN/Inf as such). 0 or -EINVAL. */
int wb_json_get_double(const cJSON *item, double *out);

/* Value of an integral number item that fits int64 ("3", also "3.0").
 * 0, -EINVAL (not a number / not integral) or -ERANGE. */
int wb_json_get_int64(const cJSON *item, int64_t *out);

/* A new number item with exact text (must be a valid JSON number or one of
 * NaN, Infinity, -Infinity). NULL on bad text or OOM. */
cJSON *wb_json_number_from_text(const char *text);

enum wb_json_style {
	WB_JSON_COMPACT, /* no whitespace, as a server would send it */
	WB_JSON_PRETTY,  /* 2-space indent, one key per line, `"key": value`,
			    like Python json.dumps(indent=2, ensure_ascii=False) */
};

/* Serialise; returns a malloc'd NUL-terminated string the caller frees with
 * free(), and its length in *len (may be NULL). No trailing newline. */
char *wb_json_print(const cJSON *item, enum wb_json_style style, size_t *len);

/* Object member lookup that is case-sensitive (cJSON's default is not). */
cJSON *wb_json_get(const cJSON *object, const char *key);

/* String member or NULL when absent / not a string. Borrowed pointer. */
const char *wb_json_get_str(const cJSON *object, const char *key);

#endif
