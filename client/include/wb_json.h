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

/* ---- building objects -------------------------------------------------
 * A JSON object filled member by member. The first failure (OOM, or text
 * given to wb_jb_json() that is not JSON) sticks in rc and later calls do
 * nothing; wb_jb_done() then frees the object and returns NULL, so an
 * object is never handed out with a member missing. */
struct wb_jb {
	cJSON *o;
	int rc;
};

struct wb_jb wb_jb_new(void);
/* key: s, or null when s is NULL. */
void wb_jb_str(struct wb_jb *b, const char *key, const char *s);
/* key: v exactly, or null when v < 0 (the client structs' "unknown"). */
void wb_jb_int(struct wb_jb *b, const char *key, int64_t v);
/* key: v, or null when known is 0. */
void wb_jb_double(struct wb_jb *b, const char *key, double v, int known);
/* key: true/false, or null when v < 0. */
void wb_jb_bool(struct wb_jb *b, const char *key, int v);
/* key: the JSON value in text (parsed exactly, NaN and big integers kept;
 * -EBADMSG when it is not JSON), or null when text is NULL. */
void wb_jb_json(struct wb_jb *b, const char *key, const char *text);
/* key: an array of the n strings v. */
void wb_jb_strv(struct wb_jb *b, const char *key, char *const *v, size_t n);
/* key: an empty array, returned for filling with wb_jb_append() (NULL once
 * the object has failed). */
cJSON *wb_jb_array(struct wb_jb *b, const char *key);
/* key: item, taken over. A NULL item is a failure: rc, or -ENOMEM. */
void wb_jb_item(struct wb_jb *b, const char *key, cJSON *item, int rc);
/* item (taken over; NULL is a failure as above) appended to arr, an array
 * from wb_jb_array(). */
void wb_jb_append(struct wb_jb *b, cJSON *arr, cJSON *item, int rc);
/* The finished object (caller cJSON_Delete()s it), or NULL after freeing
 * it, with *rc set, when any step failed. */
cJSON *wb_jb_done(struct wb_jb *b, int *rc);

#endif
