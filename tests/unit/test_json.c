/* test_json.c — extended JSON (client/json.c): exact number round trips,
 * NaN/Infinity, escapes, pretty format, rejection of invalid input, a
 * fixed-point round trip of every JSON/JSONL document of the shared corpus,
 * and the object builder (wb_jb_*), which reports the first failure: under
 * an allocation failure at any point it gives no object rather than one with
 * a member missing. */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fail_alloc.h"
#include "wb_json.h"

static char *compact(const char *in)
{
	struct wb_error err = { 0 };
	cJSON *j = wb_json_parse(in, strlen(in), &err);
	char *out;

	if (!j)
		fail_msg("parse failed for %s: %s", in, err.msg);
	out = wb_json_print(j, WB_JSON_COMPACT, NULL);
	assert_non_null(out);
	cJSON_Delete(j);
	return out;
}

static void check_compact(const char *in, const char *expect)
{
	char *out = compact(in);

	assert_string_equal(out, expect);
	free(out);
}

static void test_extended_numbers(void **state)
{
	(void)state;
	check_compact("[NaN,Infinity,-Infinity]", "[NaN,Infinity,-Infinity]");
	check_compact("[ NaN , -Infinity ]", "[NaN,-Infinity]");
	check_compact("9007199254740993", "9007199254740993");
	check_compact("[1e400,-1e400,1E-400]", "[1e400,-1e400,1E-400]");
	check_compact("[-0.0,-0,0]", "[-0.0,-0,0]");
	check_compact("[1.0,1,1.50,1E+2,0.1e-5]", "[1.0,1,1.50,1E+2,0.1e-5]");
	check_compact("{\"big\":123456789012345678901234567890}",
		      "{\"big\":123456789012345678901234567890}");
	check_compact("[[[[1,[2.50,[NaN,[-Infinity]]]]]]]",
		      "[[[[1,[2.50,[NaN,[-Infinity]]]]]]]");
	check_compact("{ \"a\" : [ 1 , 2 ] ,\n\t\"b\":{}}",
		      "{\"a\":[1,2],\"b\":{}}");
}

static void test_strings(void **state)
{
	(void)state;
	/* number-looking text inside strings is untouched */
	check_compact(
		"{\"a\":\"NaN\",\"b\":\"1.50\",\"c\":\"say \\\"NaN\\\" -1\",\"NaN\":Infinity}",
		"{\"a\":\"NaN\",\"b\":\"1.50\",\"c\":\"say \\\"NaN\\\" -1\",\"NaN\":Infinity}");
	check_compact("[\"\\\\\",1,\"\\\\\\\"\",2]",
		      "[\"\\\\\",1,\"\\\\\\\"\",2]");
	/* Python json.dumps(ensure_ascii=False) escaping */
	check_compact(
		"\"\\u00e9\\n\\t\\\"\\\\\\/\\u0001\\u001F\\u007f\\ud83d\\ude00\"",
		"\"\xc3\xa9\\n\\t\\\"\\\\/\\u0001\\u001f\x7f\xf0\x9f\x98\x80\"");
	check_compact("\"\\b\\f\\r\"", "\"\\b\\f\\r\"");
	check_compact("\"\xe4\xb8\xad\xe6\x96\x87\"",
		      "\"\xe4\xb8\xad\xe6\x96\x87\"");
	/* duplicate keys and key order survive */
	check_compact("{\"b\":1,\"a\":2,\"b\":3}", "{\"b\":1,\"a\":2,\"b\":3}");
}

static void test_pretty(void **state)
{
	struct wb_error err = { 0 };
	const char *in =
		"{\"a\":1,\"b\":[1,{\"c\":null}],\"d\":{},\"e\":[],\"f\":\"x\","
		"\"g\":[NaN,true,false]}";
	const char *expect = "{\n"
			     "  \"a\": 1,\n"
			     "  \"b\": [\n"
			     "    1,\n"
			     "    {\n"
			     "      \"c\": null\n"
			     "    }\n"
			     "  ],\n"
			     "  \"d\": {},\n"
			     "  \"e\": [],\n"
			     "  \"f\": \"x\",\n"
			     "  \"g\": [\n"
			     "    NaN,\n"
			     "    true,\n"
			     "    false\n"
			     "  ]\n"
			     "}";
	cJSON *j = wb_json_parse(in, strlen(in), &err);
	size_t len = 0;
	char *out;

	(void)state;
	assert_non_null(j);
	out = wb_json_print(j, WB_JSON_PRETTY, &len);
	assert_string_equal(out, expect);
	assert_int_equal(len, strlen(expect));
	free(out);
	cJSON_Delete(j);

	j = wb_json_parse("[[]]", 4, &err);
	out = wb_json_print(j, WB_JSON_PRETTY, NULL);
	assert_string_equal(out, "[\n  []\n]");
	free(out);
	cJSON_Delete(j);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"[1,]",
		"{\"a\":1,}",
		"01",
		"1.",
		".5",
		"+1",
		"-",
		"--1",
		"1.5.3",
		"NaNx",
		"nan",
		"inf",
		"-NaN",
		"Infinityx",
		"[1 2]",
		"{\"a\" 1}",
		"\"abc",
		"\"a\x01"
		"b\"",
		"[1]x",
		"\"\\u0000\"",
		"tru",
		"[",
		"\"\\x\"",
		"1e",
		"1e+",
		"[1,\v2]",
		"[-Infinity1]",
		"{\"a\":1}}",
		"[1]\n[2]",
		"[\"\\ud800\"]",
		"{1:2}",
		"[NaN NaN]",
	};
	char deep[4001];
	struct wb_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cJSON *j;

		wb_error_clear(&err);
		j = wb_json_parse(bad[i], strlen(bad[i]), &err);
		if (j)
			fail_msg("accepted invalid input #%zu: %s", i, bad[i]);
		assert_int_equal(err.code, -EBADMSG);
		assert_true(strstr(err.msg, "JSON") != NULL);
	}
	/* a NUL byte inside the given length */
	assert_null(wb_json_parse("[1,\0 2]", 7, &err));
	assert_int_equal(err.code, -EBADMSG);
	/* nesting beyond cJSON's limit */
	memset(deep, '[', 2000);
	memset(deep + 2000, ']', 2000);
	deep[4000] = '\0';
	assert_null(wb_json_parse(deep, 4000, &err));
	assert_int_equal(err.code, -EBADMSG);
	/* ... while moderate nesting is fine */
	{
		cJSON *j = wb_json_parse(deep + 1900, 200, &err);

		assert_non_null(j);
		cJSON_Delete(j);
	}
	/* the text need not be NUL-terminated: length is honoured */
	{
		cJSON *j = wb_json_parse("[12]345", 4, &err);
		char *out;

		assert_non_null(j);
		out = wb_json_print(j, WB_JSON_COMPACT, NULL);
		assert_string_equal(out, "[12]");
		free(out);
		cJSON_Delete(j);
	}
}

static void check_int(const char *text, int expect_rc, int64_t expect)
{
	cJSON *n = wb_json_number_from_text(text);
	int64_t v = -12345;

	if (!n)
		fail_msg("number_from_text rejected %s", text);
	assert_int_equal(wb_json_get_int64(n, &v), expect_rc);
	if (expect_rc == 0 && v != expect)
		fail_msg("%s -> %lld, want %lld", text, (long long)v,
			 (long long)expect);
	cJSON_Delete(n);
}

static void test_accessors(void **state)
{
	struct wb_error err = { 0 };
	const char *in =
		"{\"a\":\"x\",\"A\":2,\"n\":NaN,\"i\":-Infinity,\"d\":0.1,\"s\":\"5\"}";
	cJSON *j = wb_json_parse(in, strlen(in), &err), *raw;
	double d;
	char *out;

	(void)state;
	assert_non_null(j);
	assert_string_equal(wb_json_get_str(j, "a"), "x");
	assert_null(wb_json_get_str(j, "A")); /* not a string */
	assert_null(wb_json_get(j, "N"));     /* case-sensitive */
	assert_null(wb_json_get_str(NULL, "a"));
	assert_true(wb_json_is_number(wb_json_get(j, "A")));
	assert_true(wb_json_is_number(wb_json_get(j, "n")));
	assert_false(wb_json_is_number(wb_json_get(j, "s")));
	assert_int_equal(wb_json_get_double(wb_json_get(j, "n"), &d), 0);
	assert_true(isnan(d));
	assert_int_equal(wb_json_get_double(wb_json_get(j, "i"), &d), 0);
	assert_true(isinf(d) && d < 0);
	assert_int_equal(wb_json_get_double(wb_json_get(j, "d"), &d), 0);
	assert_true(d == 0.1);
	assert_int_equal(wb_json_get_double(wb_json_get(j, "s"), &d), -EINVAL);
	cJSON_Delete(j);

	check_int("3", 0, 3);
	check_int("3.0", 0, 3);
	check_int("-0", 0, 0);
	check_int("-0.0e5", 0, 0);
	check_int("1e3", 0, 1000);
	check_int("12.50e1", 0, 125);
	check_int("100e-2", 0, 1);
	check_int("0.0001e4", 0, 1);
	check_int("9223372036854775807", 0, INT64_MAX);
	check_int("-9223372036854775808", 0, INT64_MIN);
	check_int("9007199254740993", 0, 9007199254740993LL);
	check_int("9223372036854775808", -ERANGE, 0);
	check_int("-9223372036854775809", -ERANGE, 0);
	check_int("1e400", -ERANGE, 0);
	check_int("Infinity", -ERANGE, 0);
	check_int("2.5", -EINVAL, 0);
	check_int("1.25e1", -EINVAL, 0);
	check_int("1e-400", -EINVAL, 0);
	check_int("NaN", -EINVAL, 0);

	assert_null(wb_json_number_from_text("abc"));
	assert_null(wb_json_number_from_text("01"));
	assert_null(wb_json_number_from_text(""));
	assert_null(wb_json_number_from_text("1 "));
	raw = wb_json_number_from_text("1.50");
	out = wb_json_print(raw, WB_JSON_COMPACT, NULL);
	assert_string_equal(out, "1.50");
	free(out);
	cJSON_Delete(raw);
	raw = cJSON_CreateRaw("{}");
	assert_false(wb_json_is_number(raw));
	cJSON_Delete(raw);
}

/* Trees built with plain cJSON calls (e.g. GraphQL variables). */
static void test_print_built(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *out;

	(void)state;
	cJSON_AddNumberToObject(o, "first", 50);
	cJSON_AddNumberToObject(o, "f", 0.1);
	cJSON_AddNumberToObject(o, "big", 1e300);
	cJSON_AddNumberToObject(o, "neg", -2.5);
	cJSON_AddNumberToObject(o, "nan", NAN);
	cJSON_AddStringToObject(o, "s", "tab\there");
	cJSON_AddNullToObject(o, "z");
	out = wb_json_print(o, WB_JSON_COMPACT, NULL);
	assert_string_equal(
		out,
		"{\"first\":50,\"f\":0.1,\"big\":1e+300,\"neg\":-2.5,"
		"\"nan\":NaN,\"s\":\"tab\\there\",\"z\":null}");
	free(out);
	cJSON_Delete(o);
	assert_null(wb_json_print(NULL, WB_JSON_COMPACT, NULL));
}

/* ---- corpus ---------------------------------------------------------- */

/* Number tokens of a JSON text, in order, found by a scanner of its own
 * (independent of json.c): maximal runs starting with -, a digit, N or I
 * outside strings. Returns a '\n'-joined list. */
static char *number_tokens(const char *s, size_t n)
{
	char *out = malloc(n + 2);
	size_t o = 0;

	assert_non_null(out);
	for (size_t i = 0; i < n;) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
			   s[i] == 'N' || s[i] == 'I') {
			while (i < n &&
			       strchr("-+.0123456789eEaNInfinity", s[i]) &&
			       s[i] != '\0')
				out[o++] = s[i++];
			out[o++] = '\n';
		} else {
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

static int corpus_docs, corpus_files;

static void check_document(const char *path, long line, const char *text,
			   size_t len)
{
	struct wb_error err = { 0 };
	cJSON *a = wb_json_parse(text, len, &err), *b, *c;
	char *s1, *s2, *pretty, *s3, *t_src, *t_out;
	size_t l1 = 0, l2 = 0, lp = 0, l3 = 0;

	if (!a)
		fail_msg("%s:%ld: %s", path, line, err.msg);
	s1 = wb_json_print(a, WB_JSON_COMPACT, &l1);
	pretty = wb_json_print(a, WB_JSON_PRETTY, &lp);
	assert_non_null(s1);
	assert_non_null(pretty);
	b = wb_json_parse(s1, l1, &err);
	if (!b)
		fail_msg("%s:%ld: reparse of compact output: %s", path, line,
			 err.msg);
	s2 = wb_json_print(b, WB_JSON_COMPACT, &l2);
	if (l1 != l2 || memcmp(s1, s2, l1) != 0)
		fail_msg("%s:%ld: compact print is not a fixed point", path,
			 line);
	c = wb_json_parse(pretty, lp, &err);
	if (!c)
		fail_msg("%s:%ld: reparse of pretty output: %s", path, line,
			 err.msg);
	s3 = wb_json_print(c, WB_JSON_COMPACT, &l3);
	if (l1 != l3 || memcmp(s1, s3, l1) != 0)
		fail_msg(
			"%s:%ld: pretty output does not reparse to the same document",
			path, line);
	t_src = number_tokens(text, len);
	t_out = number_tokens(s1, l1);
	if (strcmp(t_src, t_out) != 0)
		fail_msg("%s:%ld: number tokens differ after round trip", path,
			 line);
	free(t_src);
	free(t_out);
	free(s1);
	free(s2);
	free(s3);
	free(pretty);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	corpus_docs++;
}

static int is_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int visit(const char *path, const struct stat *st, int type,
		 struct FTW *ftw)
{
	FILE *f;
	char *buf;
	size_t n;

	(void)ftw;
	if (type != FTW_F ||
	    !(is_suffix(path, ".json") || is_suffix(path, ".jsonl")))
		return 0;
	f = fopen(path, "rb");
	assert_non_null(f);
	buf = malloc((size_t)st->st_size + 1);
	assert_non_null(buf);
	n = fread(buf, 1, (size_t)st->st_size, f);
	fclose(f);
	buf[n] = '\0';
	corpus_files++;
	if (is_suffix(path, ".json")) {
		check_document(path, 0, buf, n);
	} else {
		long line = 0;

		for (char *p = buf; p < buf + n;) {
			char *e = memchr(p, '\n', (size_t)(buf + n - p));
			size_t l = e ? (size_t)(e - p) : (size_t)(buf + n - p);

			line++;
			if (l > 0 && !(l == 1 && p[0] == '\r'))
				check_document(path, line, p, l);
			p += l + 1;
		}
	}
	free(buf);
	return 0;
}

/* Every kind of member the builder adds (with_json: also those parsed
 * from text); NULL with *rc on failure. */
static cJSON *build_all(int with_json, int *rc)
{
	char t0[] = "a", t1[] = "b", *tags[] = { t0, t1 };
	struct wb_jb b = wb_jb_new(), inner = wb_jb_new();
	int inner_rc = 0;
	cJSON *arr;

	wb_jb_str(&b, "s", "text");
	wb_jb_str(&b, "ns", NULL);
	wb_jb_int(&b, "i", 12345678901234LL);
	wb_jb_int(&b, "ni", -1);
	wb_jb_double(&b, "d", 0.5, 1);
	wb_jb_double(&b, "nd", 0, 0);
	wb_jb_bool(&b, "t", 1);
	wb_jb_bool(&b, "nb", -1);
	if (with_json) {
		wb_jb_json(&b, "j", "{\"x\": [1, NaN]}");
		wb_jb_json(&b, "nj", NULL);
	}
	wb_jb_strv(&b, "v", tags, 2);
	wb_jb_str(&inner, "k", "v");
	wb_jb_item(&b, "o", wb_jb_done(&inner, &inner_rc), inner_rc);
	arr = wb_jb_array(&b, "arr");
	wb_jb_append(&b, arr, cJSON_CreateTrue(), 0);
	return wb_jb_done(&b, rc);
}

#define BUILT_HEAD                                                      \
	"{\"s\":\"text\",\"ns\":null,\"i\":12345678901234,\"ni\":null," \
	"\"d\":0.5,\"nd\":null,\"t\":true,\"nb\":null,"
#define BUILT_TAIL "\"v\":[\"a\",\"b\"],\"o\":{\"k\":\"v\"},\"arr\":[true]}"

static void test_builder(void **state)
{
	struct wb_jb b = wb_jb_new();
	int rc = 0;
	cJSON *o = build_all(1, &rc);
	char *out;

	(void)state;
	assert_int_equal(rc, 0);
	out = wb_json_print(o, WB_JSON_COMPACT, NULL);
	assert_string_equal(out,
			    BUILT_HEAD "\"j\":{\"x\":[1,NaN]},"
				       "\"nj\":null," BUILT_TAIL);
	free(out);
	cJSON_Delete(o);
	/* Text that is not JSON is the failure, and it sticks. */
	wb_jb_json(&b, "bad", "{nope");
	wb_jb_str(&b, "after", "x");
	assert_null(wb_jb_done(&b, &rc));
	assert_int_equal(rc, -EBADMSG);
	/* A NULL item is a failure with the caller's code, else -ENOMEM. */
	b = wb_jb_new();
	wb_jb_item(&b, "x", NULL, -EIO);
	assert_null(wb_jb_done(&b, &rc));
	assert_int_equal(rc, -EIO);
	b = wb_jb_new();
	wb_jb_item(&b, "x", NULL, 0);
	assert_null(wb_jb_done(&b, &rc));
	assert_int_equal(rc, -ENOMEM);
}

/* Fail each cJSON allocation in turn: every run either reports -ENOMEM
 * and gives nothing, or gives the whole object. (Members parsed from text
 * are left out: cJSON does not tell a failed allocation from bad syntax, so
 * there the failure is reported, but as -EBADMSG.) */
static void test_builder_oom(void **state)
{
	long n;

	(void)state;
	for (n = 0;; n++) {
		int rc = 0;
		cJSON *o;

		fail_alloc_at(n);
		o = build_all(0, &rc);
		fail_alloc_off();
		if (!fail_alloc_hit()) {
			char *out = wb_json_print(o, WB_JSON_COMPACT, NULL);

			assert_int_equal(rc, 0);
			assert_string_equal(out, BUILT_HEAD BUILT_TAIL);
			free(out);
			cJSON_Delete(o);
			break;
		}
		assert_null(o);
		assert_int_equal(rc, -ENOMEM);
	}
	assert_true(n > 20); /* every member allocates: all were covered */
}

static void test_corpus(void **state)
{
	const char *dir = getenv("WB_CORPUS_DIR");

	(void)state;
	if (!dir)
		fail_msg("WB_CORPUS_DIR is not set (meson sets it)");
	assert_int_equal(nftw(dir, visit, 16, FTW_PHYS), 0);
	print_message("corpus: %d files, %d documents round-tripped\n",
		      corpus_files, corpus_docs);
	/* the corpus has 206 such files and thousands of lines */
	assert_true(corpus_files >= 200);
	assert_true(corpus_docs >= 6000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extended_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_print_built),
		cmocka_unit_test(test_builder),
		cmocka_unit_test(test_builder_oom),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
