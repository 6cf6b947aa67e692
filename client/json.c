/* json.c — extended JSON over cJSON (wb_json.h): bare NaN/Infinity/-Infinity
 * accepted, every number kept as its exact source text (cJSON_Raw), and our
 * own printer (compact, or pretty like Python's json.dumps(indent=2)).
 *
 * How parsing stays exact with cJSON doing the structural work: a pre-scan
 * walks the text outside strings, validates each number token against the
 * strict JSON grammar (plus the three extended tokens), records it, and
 * overwrites it in a private copy with "0" padded by spaces (same length, so
 * error offsets stay true). cJSON then parses the copy; the only numbers in
 * the resulting tree are our placeholders, met in document order, so the
 * n-th cJSON_Number becomes a cJSON_Raw carrying the n-th recorded token.
 *
 * Also the object builder (wb_jb_*): members added one by one, the first
 * failure kept, so no caller can print an object that lost a member.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wb_json.h"

/* Printing guards against hand-built trees deeper than anything parsed. */
#define PRINT_DEPTH_MAX (CJSON_NESTING_LIMIT + 24)

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod that ignores the process locale (JSON always uses '.'). */
static double strtod_c(const char *s)
{
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale)
		return strtod_l(s, NULL, c_locale);
	return strtod(s, NULL);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of a strict JSON number at the start of s[0..n), or 0. */
static size_t number_len(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && is_digit(s[i]))
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		d = ++i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == d)
			return 0;
	}
	return i;
}

static const char *const special_tokens[] = { "NaN", "Infinity", "-Infinity" };

/* Length of a number token (JSON number or extended token) at s, or 0. */
static size_t token_len(const char *s, size_t n)
{
	for (size_t k = 0; k < sizeof(special_tokens) / sizeof(*special_tokens);
	     k++) {
		size_t l = strlen(special_tokens[k]);
		if (n >= l && memcmp(s, special_tokens[k], l) == 0)
			return l;
	}
	return number_len(s, n);
}

static int is_number_text(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	return n > 0 && token_len(s, n) == n;
}

/* Value of a validated number token. */
static double token_double(const char *s)
{
	if (strcmp(s, "NaN") == 0)
		return NAN;
	if (strcmp(s, "Infinity") == 0)
		return INFINITY;
	if (strcmp(s, "-Infinity") == 0)
		return -INFINITY;
	return strtod_c(s);
}

/* Give a raw number item the convenience numeric fields cJSON users expect
 * (valueint saturates like cJSON's own; NaN gives 0). */
static void set_numeric_fields(cJSON *item, double d)
{
	item->valuedouble = d;
	if (isnan(d))
		item->valueint = 0;
	else if (d >= 2147483647.0)
		item->valueint = 2147483647;
	else if (d <= -2147483648.0)
		item->valueint = -2147483647 - 1;
	else
		item->valueint = (int)d;
}

/* ---- parsing --------------------------------------------------------- */

struct numtok {
	size_t off, len;
};

struct numtoks {
	struct numtok *v;
	size_t n, cap;
};

static int numtoks_push(struct numtoks *t, size_t off, size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct numtok *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].off = off;
	t->v[t->n].len = len;
	t->n++;
	return 0;
}

static int is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Record and mask every number token of buf (see the file comment). On a
 * lexical error returns -EBADMSG with *bad_at and *why set. */
static int prescan(char *buf, size_t len, struct numtoks *toks, size_t *bad_at,
		   const char **why)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '"') {
			for (i++; i < len && buf[i] != '"'; i++) {
				if ((unsigned char)buf[i] < 0x20) {
					*why = "control character in string";
					goto bad;
				}
				if (buf[i] != '\\')
					continue;
				/* cJSON strings are NUL-terminated: an
				 * escaped NUL would silently cut the value. */
				if (len - i >= 6 &&
				    memcmp(buf + i + 1, "u0000", 5) == 0) {
					*why = "\\u0000 in a string is not supported";
					goto bad;
				}
				i++; /* the escaped character; cJSON checks it */
			}
			if (i >= len) {
				*why = "unterminated string";
				goto bad;
			}
			i++;
		} else if (c == '-' || is_digit((char)c) || c == 'N' ||
			   c == 'I') {
			size_t t = token_len(buf + i, len - i);
			int rc;

			if (!t) {
				*why = "invalid number";
				goto bad;
			}
			/* A token must end at a delimiter, else "1.5.3" would
			 * read as "0   .3" and "NaNx" as "0  x". */
			if (i + t < len && !is_json_space(buf[i + t]) &&
			    buf[i + t] != ',' && buf[i + t] != ']' &&
			    buf[i + t] != '}') {
				i += t;
				*why = "invalid character after number";
				goto bad;
			}
			rc = numtoks_push(toks, i, t);
			if (rc)
				return rc;
			buf[i] = '0';
			memset(buf + i + 1, ' ', t - 1);
			i += t;
		} else if (c < 0x20 && !is_json_space((char)c)) {
			*why = "control character";
			goto bad;
		} else {
			i++;
		}
	}
	return 0;
bad:
	*bad_at = i;
	return -EBADMSG;
}

struct restore_ctx {
	const char *src;
	const struct numtoks *toks;
	size_t next;
};

/* Turn placeholder numbers into raw items, in document order. Recursion
 * depth is bounded by cJSON's nesting limit. */
static int restore_numbers(cJSON *item, struct restore_ctx *ctx)
{
	for (; item; item = item->next) {
		if (cJSON_IsNumber(item)) {
			const struct numtok *t;
			char *text;

			if (ctx->next >= ctx->toks->n)
				return -EBADMSG;
			t = &ctx->toks->v[ctx->next++];
			text = cJSON_malloc(t->len + 1);
			if (!text)
				return -ENOMEM;
			memcpy(text, ctx->src + t->off, t->len);
			text[t->len] = '\0';
			item->type = cJSON_Raw;
			item->valuestring = text;
			set_numeric_fields(item, token_double(text));
		} else if (item->child) {
			int rc = restore_numbers(item->child, ctx);
			if (rc)
				return rc;
		}
	}
	return 0;
}

cJSON *wb_json_parse(const char *text, size_t len, struct wb_error *err)
{
	struct numtoks toks = { 0 };
	struct restore_ctx ctx;
	const char *end = NULL, *why = "syntax error";
	size_t bad_at = 0;
	cJSON *root = NULL;
	char *buf;
	int rc;

	if (!text || len == 0) {
		wb_error_set(err, -EBADMSG, 0,
			     "malformed JSON: empty document");
		return NULL;
	}
	buf = malloc(len + 1);
	if (!buf) {
		wb_error_set(err, -ENOMEM, 0, "out of memory parsing JSON");
		return NULL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';

	rc = prescan(buf, len, &toks, &bad_at, &why);
	if (rc)
		goto fail;

	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		rc = -EBADMSG;
		bad_at = end ? (size_t)(end - buf) : 0;
		why = "syntax error or nesting too deep";
		goto fail;
	}
	for (bad_at = (size_t)(end - buf); bad_at < len; bad_at++) {
		if (!is_json_space(buf[bad_at])) {
			rc = -EBADMSG;
			why = "trailing data";
			goto fail;
		}
	}
	ctx.src = text;
	ctx.toks = &toks;
	ctx.next = 0;
	rc = restore_numbers(root, &ctx);
	if (!rc && ctx.next != toks.n)
		rc = -EBADMSG;
	if (rc) {
		why = "number tokens out of step with the parse";
		bad_at = 0;
		goto fail;
	}
	free(buf);
	free(toks.v);
	return root;

fail:
	cJSON_Delete(root);
	free(buf);
	free(toks.v);
	if (rc == -ENOMEM)
		wb_error_set(err, rc, 0, "out of memory parsing JSON");
	else
		wb_error_set(err, rc, 0,
			     "malformed JSON at byte %zu of %zu: %s", bad_at,
			     len, why);
	return NULL;
}

/* ---- accessors ------------------------------------------------------- */

int wb_json_is_number(const cJSON *item)
{
	if (!item)
		return 0;
	if (cJSON_IsNumber(item))
		return 1;
	return cJSON_IsRaw(item) && is_number_text(item->valuestring);
}

int wb_json_get_double(const cJSON *item, double *out)
{
	if (!wb_json_is_number(item))
		return -EINVAL;
	*out = cJSON_IsNumber(item) ? item->valuedouble
				    : token_double(item->valuestring);
	return 0;
}

/* Exact integer value of a decimal number text. The mantissa digits M (with
 * leading and trailing zeros dropped, n of them) times 10^exp is the value:
 * it is integral iff exp >= 0 and fits int64 only if n + exp <= 19. */
static int text_int64(const char *s, int64_t *out)
{
	char digits[19];
	long long sig = 0, last_nz = -1, frac = 0, e = 0, n, exp10;
	int neg = 0, in_frac = 0;
	uint64_t mag = 0;
	const char *p = s;

	if (strcmp(s, "NaN") == 0)
		return -EINVAL;
	if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0)
		return -ERANGE;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; is_digit(*p) || (*p == '.' && !in_frac); p++) {
		if (*p == '.') {
			in_frac = 1;
			continue;
		}
		frac += in_frac;
		if (sig == 0 && *p == '0')
			continue;
		if (sig < (long long)sizeof(digits))
			digits[sig] = *p;
		if (*p != '0')
			last_nz = sig;
		sig++;
	}
	if (*p == 'e' || *p == 'E') {
		int eneg = 0;

		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; is_digit(*p); p++)
			if (e < 1000000)
				e = e * 10 + (*p - '0');
		if (eneg)
			e = -e;
	}
	if (last_nz < 0) {
		*out = 0;
		return 0;
	}
	n = last_nz + 1;
	exp10 = e - frac + (sig - n);
	if (exp10 < 0)
		return -EINVAL;
	if (n + exp10 > 19)
		return -ERANGE;
	for (long long i = 0; i < n; i++)
		mag = mag * 10 + (uint64_t)(digits[i] - '0');
	for (long long i = 0; i < exp10; i++)
		mag *= 10;
	/* 19 digits are below 10^19 < 2^64: only the int64 sign range is left */
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
						      : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

int wb_json_get_int64(const cJSON *item, int64_t *out)
{
	double d;

	if (!wb_json_is_number(item))
		return -EINVAL;
	if (cJSON_IsRaw(item))
		return text_int64(item->valuestring, out);
	d = item->valuedouble;
	if (isnan(d) || d != floor(d))
		return -EINVAL;
	if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
		return -ERANGE;
	*out = (int64_t)d;
	return 0;
}

cJSON *wb_json_number_from_text(const char *text)
{
	cJSON *item;

	if (!is_number_text(text))
		return NULL;
	item = cJSON_CreateRaw(text);
	if (item)
		set_numeric_fields(item, token_double(text));
	return item;
}

cJSON *wb_json_get(const cJSON *object, const char *key)
{
	if (!cJSON_IsObject(object) || !key)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(object, key);
}

const char *wb_json_get_str(const cJSON *object, const char *key)
{
	const cJSON *v = wb_json_get(object, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- printing -------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	int failed;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->cap - o->len <= n) {
		size_t cap = o->cap ? o->cap : 256;
		char *b;

		while (cap - o->len <= n) {
			if (cap > SIZE_MAX / 2) {
				o->failed = 1;
				return;
			}
			cap *= 2;
		}
		b = realloc(o->buf, cap);
		if (!b) {
			o->failed = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* Escape like Python json.dumps(ensure_ascii=False): '"', '\\' and control
 * characters only; everything else (incl. UTF-8) verbatim. */
static void out_string(struct out *o, const char *s)
{
	const char *run = s;

	out_put(o, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		out_put(o, run, (size_t)(s - run));
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		out_str(o, e);
		run = s + 1;
	}
	if (s)
		out_put(o, run, (size_t)(s - run));
	out_put(o, "\"", 1);
}

/* A double made with cJSON_CreateNumber: integral values as integers (as
 * GraphQL Int variables need), others with the shortest text that reads
 * back to the same double. */
static void out_double(struct out *o, double d)
{
	char tmp[40];
	locale_t old;

	if (isnan(d)) {
		out_str(o, "NaN");
		return;
	}
	if (isinf(d)) {
		out_str(o, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	pthread_once(&c_locale_once, c_locale_init);
	old = c_locale ? uselocale(c_locale) : (locale_t)0;
	if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(tmp, sizeof(tmp), "%.0f", d);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
			if (strtod_c(tmp) == d)
				break;
		}
	}
	if (old)
		uselocale(old);
	out_str(o, tmp);
}

static void out_indent(struct out *o, int depth)
{
	static const char spaces[] = "                                ";

	for (long n = 2L * depth; n > 0; n -= (long)(sizeof(spaces) - 1))
		out_put(o, spaces,
			n < (long)(sizeof(spaces) - 1) ? (size_t)n
						       : sizeof(spaces) - 1);
}

static void out_item(struct out *o, const cJSON *it, int pretty, int depth)
{
	const cJSON *c;
	int is_obj;

	if (depth > PRINT_DEPTH_MAX) {
		o->failed = 1;
		return;
	}
	switch (it->type & 0xff) {
	case cJSON_False:
		out_str(o, "false");
		return;
	case cJSON_True:
		out_str(o, "true");
		return;
	case cJSON_NULL:
		out_str(o, "null");
		return;
	case cJSON_Number:
		out_double(o, it->valuedouble);
		return;
	case cJSON_Raw:
		if (!it->valuestring)
			o->failed = 1;
		else
			out_str(o, it->valuestring);
		return;
	case cJSON_String:
		out_string(o, it->valuestring);
		return;
	case cJSON_Array:
	case cJSON_Object:
		break;
	default:
		o->failed = 1;
		return;
	}
	is_obj = (it->type & 0xff) == cJSON_Object;
	if (!it->child) {
		out_str(o, is_obj ? "{}" : "[]");
		return;
	}
	out_put(o, is_obj ? "{" : "[", 1);
	for (c = it->child; c && !o->failed; c = c->next) {
		if (pretty) {
			out_put(o, "\n", 1);
			out_indent(o, depth + 1);
		}
		if (is_obj) {
			out_string(o, c->string ? c->string : "");
			out_str(o, pretty ? ": " : ":");
		}
		out_item(o, c, pretty, depth + 1);
		if (c->next)
			out_put(o, ",", 1);
	}
	if (pretty) {
		out_put(o, "\n", 1);
		out_indent(o, depth);
	}
	out_put(o, is_obj ? "}" : "]", 1);
}

char *wb_json_print(const cJSON *item, enum wb_json_style style, size_t *len)
{
	struct out o = { 0 };

	if (!item)
		return NULL;
	out_item(&o, item, style == WB_JSON_PRETTY, 0);
	out_put(&o, "", 1); /* NUL terminator */
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	if (len)
		*len = o.len - 1;
	return o.buf;
}

/* ---- building objects ------------------------------------------------ */

struct wb_jb wb_jb_new(void)
{
	struct wb_jb b = { cJSON_CreateObject(), 0 };

	if (!b.o)
		b.rc = -ENOMEM;
	return b;
}

void wb_jb_item(struct wb_jb *b, const char *key, cJSON *item, int rc)
{
	if (b->rc) {
		cJSON_Delete(item);
	} else if (!item) {
		b->rc = rc ? rc : -ENOMEM;
	} else if (!cJSON_AddItemToObject(b->o, key, item)) {
		cJSON_Delete(item);
		b->rc = -ENOMEM;
	}
}

void wb_jb_append(struct wb_jb *b, cJSON *arr, cJSON *item, int rc)
{
	if (b->rc) {
		cJSON_Delete(item);
	} else if (!item) {
		b->rc = rc ? rc : -ENOMEM;
	} else if (!cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		b->rc = -ENOMEM;
	}
}

void wb_jb_str(struct wb_jb *b, const char *key, const char *s)
{
	if (!b->rc)
		wb_jb_item(b, key,
			   s ? cJSON_CreateString(s) : cJSON_CreateNull(), 0);
}

void wb_jb_int(struct wb_jb *b, const char *key, int64_t v)
{
	char text[24];

	if (b->rc)
		return;
	snprintf(text, sizeof(text), "%" PRId64, v);
	wb_jb_item(b, key,
		   v >= 0 ? wb_json_number_from_text(text) : cJSON_CreateNull(),
		   0);
}

void wb_jb_double(struct wb_jb *b, const char *key, double v, int known)
{
	if (!b->rc)
		wb_jb_item(b, key,
			   known ? cJSON_CreateNumber(v) : cJSON_CreateNull(),
			   0);
}

void wb_jb_bool(struct wb_jb *b, const char *key, int v)
{
	if (!b->rc)
		wb_jb_item(b, key,
			   v < 0 ? cJSON_CreateNull() : cJSON_CreateBool(v), 0);
}

void wb_jb_json(struct wb_jb *b, const char *key, const char *text)
{
	struct wb_error err = { 0 };
	cJSON *v;

	if (b->rc)
		return;
	v = text ? wb_json_parse(text, strlen(text), &err) : cJSON_CreateNull();
	wb_jb_item(b, key, v, err.code);
}

cJSON *wb_jb_array(struct wb_jb *b, const char *key)
{
	cJSON *arr;

	if (b->rc)
		return NULL;
	arr = cJSON_CreateArray();
	wb_jb_item(b, key, arr, 0);
	return b->rc ? NULL : arr;
}

void wb_jb_strv(struct wb_jb *b, const char *key, char *const *v, size_t n)
{
	cJSON *arr = wb_jb_array(b, key);

	for (size_t i = 0; arr && !b->rc && i < n; i++)
		wb_jb_append(b, arr, cJSON_CreateString(v[i]), 0);
}

cJSON *wb_jb_done(struct wb_jb *b, int *rc)
{
	if (b->rc) {
		cJSON_Delete(b->o);
		b->o = NULL;
		*rc = b->rc;
		return NULL;
	}
	return b->o;
}
