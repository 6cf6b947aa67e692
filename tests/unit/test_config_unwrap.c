/* test_config_unwrap.c — wb_config_unwrap(): run.config as wandb.Api gives
 * it ({"value": v} unwrapped, _wandb and wandb_version dropped), checked on
 * the exact bytes it prints. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wb_api.h"
#include "wb_json.h"

/* Unwrap `raw` and compare the compact print with `want`. */
static void expect_unwrap(const char *raw, const char *want)
{
	struct wb_error err = { 0 };
	cJSON *out = NULL;
	char *text;
	int rc;

	rc = wb_config_unwrap(raw, raw ? strlen(raw) : 0, &out, &err);
	if (rc)
		fail_msg("unwrap(%s) failed: %d %s", raw, rc, err.msg);
	assert_non_null(out);
	text = wb_json_print(out, WB_JSON_COMPACT, NULL);
	assert_non_null(text);
	if (strcmp(text, want) != 0)
		fail_msg("unwrap(%s)\n  got  %s\n  want %s", raw, text, want);
	free(text);
	cJSON_Delete(out);
}

static void expect_error(const char *raw, int code)
{
	struct wb_error err = { 0 };
	cJSON *out = (cJSON *)&err; /* must be reset to NULL */

	assert_int_equal(wb_config_unwrap(raw, strlen(raw), &out, &err), code);
	assert_null(out);
	assert_int_equal(err.code, code);
	assert_true(err.msg[0] != '\0');
}

static void test_empty_inputs(void **state)
{
	(void)state;
	expect_unwrap(NULL, "{}");
	expect_unwrap("", "{}");
	expect_unwrap(" \n\t", "{}");
	expect_unwrap("null", "{}"); /* json.loads -> None -> {} */
	expect_unwrap("{}", "{}");
}

static void test_current_wire_shape(void **state)
{
	(void)state;
	expect_unwrap("{\"lr\": {\"value\": 0.01}, \"epochs\": {\"value\": 10},"
		      " \"_wandb\": {\"value\": {\"cli_version\": \"0.19.8\","
		      " \"t\": {\"1\": [1, 5]}}}}",
		      "{\"lr\":0.01,\"epochs\":10}");
}

static void test_desc_siblings_dropped(void **state)
{
	(void)state;
	/* Older SDKs: {"desc": null, "value": v}, desc first or last. */
	expect_unwrap("{\"wandb_version\": 1, \"a\": {\"desc\": null, "
		      "\"value\": \"x\"}, \"b\": {\"value\": [1, 2], "
		      "\"desc\": \"doc\"}, \"c\": {\"desc\": null, \"value\": "
		      "{\"n\": {\"desc\": 1, \"value\": 2}}, \"extra\": true}}",
		      /* unwrapping is one level only: inner
		       * {"desc", "value"} objects are user data */
		      "{\"a\":\"x\",\"b\":[1,2],\"c\":{\"n\":{\"desc\":1,"
		      "\"value\":2}}}");
}

static void test_non_object_values_kept(void **state)
{
	(void)state;
	expect_unwrap("{\"x\": 5, \"y\": [1, {\"value\": 2}], \"z\": \"s\","
		      " \"n\": null, \"t\": true, \"f\": false}",
		      "{\"x\":5,\"y\":[1,{\"value\":2}],\"z\":\"s\",\"n\":null,"
		      "\"t\":true,\"f\":false}");
	/* an object without "value" is kept whole (also with "desc") */
	expect_unwrap("{\"opt\": {\"name\": \"adam\", \"desc\": null},"
		      " \"e\": {}}",
		      "{\"opt\":{\"name\":\"adam\",\"desc\":null},\"e\":{}}");
	/* "value" is matched case-sensitively, as Python's `in` does */
	expect_unwrap("{\"a\": {\"Value\": 1, \"VALUE\": 2}}",
		      "{\"a\":{\"Value\":1,\"VALUE\":2}}");
	/* value present but null / an array / an object */
	expect_unwrap("{\"a\": {\"value\": null}, \"b\": {\"value\": []},"
		      " \"c\": {\"value\": {\"value\": 1}}}",
		      "{\"a\":null,\"b\":[],\"c\":{\"value\":1}}");
}

static void test_internal_keys_dropped(void **state)
{
	(void)state;
	/* both wrapped and bare; only exact top-level names */
	expect_unwrap("{\"_wandb\": {\"desc\": null, \"value\": {\"t\": 1}},"
		      " \"wandb_version\": 1, \"_wandb_x\": {\"value\": 1},"
		      " \"nested\": {\"value\": {\"_wandb\": 2, "
		      "\"wandb_version\": 3}}}",
		      "{\"_wandb_x\":1,\"nested\":{\"_wandb\":2,"
		      "\"wandb_version\":3}}");
	expect_unwrap("{\"wandb_version\": 1, \"_wandb\": {\"value\": {}}}",
		      "{}");
}

static void test_numbers_exact(void **state)
{
	(void)state;
	expect_unwrap(
		"{\"big\": {\"value\": 123456789012345678901234567890},"
		" \"neg\": {\"value\": -9007199254740993},"
		" \"f\": {\"value\": 0.1000000000000000055511151231257827},"
		" \"e\": {\"value\": 1.0e-08}, \"E\": {\"value\": 1E+400},"
		" \"z\": {\"value\": -0.0}, \"i\": 2.50}",
		"{\"big\":123456789012345678901234567890,"
		"\"neg\":-9007199254740993,"
		"\"f\":0.1000000000000000055511151231257827,"
		"\"e\":1.0e-08,\"E\":1E+400,\"z\":-0.0,\"i\":2.50}");
	expect_unwrap("{\"nan\": {\"value\": NaN}, \"inf\": {\"value\": "
		      "Infinity}, \"ninf\": {\"desc\": null, \"value\": "
		      "-Infinity}, \"arr\": {\"value\": [NaN, 1e999]}}",
		      "{\"nan\":NaN,\"inf\":Infinity,\"ninf\":-Infinity,"
		      "\"arr\":[NaN,1e999]}");
}

static void test_key_order_and_odd_keys(void **state)
{
	(void)state;
	expect_unwrap(
		"{\"z\": {\"value\": 1}, \"a\": {\"value\": 2},"
		" \"train/lr\": {\"value\": 3}, \"model.dim\": 4,"
		" \"with space\": {\"value\": 5}, \"\": {\"value\": 6},"
		" \"\\u00fcml\\u00e4ut \\u6d4b\\u8bd5\": {\"value\": \"\\u2603\"},"
		" \"q\\\"uote\": {\"value\": \"a\\nb\"}}",
		"{\"z\":1,\"a\":2,\"train/lr\":3,\"model.dim\":4,"
		"\"with space\":5,\"\":6,"
		"\"\xc3\xbc"
		"ml\xc3\xa4ut \xe6\xb5\x8b\xe8\xaf\x95\":"
		"\"\xe2\x98\x83\",\"q\\\"uote\":\"a\\nb\"}");
}

static void test_duplicate_keys_like_python(void **state)
{
	(void)state;
	/* dict assignment: first position, last value */
	expect_unwrap("{\"a\": {\"value\": 1}, \"b\": {\"value\": 2},"
		      " \"a\": {\"desc\": null, \"value\": 3}, \"b\": 4}",
		      "{\"a\":3,\"b\":4}");
	expect_unwrap("{\"a\": 1, \"_wandb\": {\"value\": 0}, \"a\": "
		      "{\"value\": {\"k\": [1]}}}",
		      "{\"a\":{\"k\":[1]}}");
}

/* Shapes the server derives from config.yaml files in the corpus (YAML ->
 * JSON, written by SDK 0.8 .. 0.24). */
static void test_config_yaml_shapes(void **state)
{
	(void)state;
	/* SDK 0.8 flat layout: wandb_version first, desc on every key */
	expect_unwrap("{\"wandb_version\": 1, \"PLATFORM\": {\"desc\": null,"
		      " \"value\": \"Arc\"}, \"_wandb\": {\"desc\": null, "
		      "\"value\": {\"cli_version\": \"0.8.13\", "
		      "\"is_jupyter_run\": false, \"python_version\": "
		      "\"3.7.4\"}}}",
		      "{\"PLATFORM\":\"Arc\"}");
	/* sweep-style nested values and YAML scalars of every kind */
	expect_unwrap("{\"wandb_version\": 1, \"Notes\": {\"desc\": null, "
		      "\"value\": \"Default Hyper Parameters, Swish.\"}, "
		      "\"optimizer\": {\"desc\": null, \"value\": {\"name\": "
		      "\"adamw\", \"betas\": [0.9, 0.999], \"eps\": 1.0e-08}},"
		      " \"lr\": {\"desc\": null, \"value\": 5.0e-05}, "
		      "\"max\": {\"desc\": null, \"value\": 1e+06}, \"seed\": "
		      "{\"desc\": null, \"value\": 42}, \"fp16\": {\"desc\": "
		      "null, \"value\": false}, \"resume\": {\"desc\": null, "
		      "\"value\": null}, \"layers\": {\"desc\": null, "
		      "\"value\": [[64, 3], [128, 3]]}}",
		      "{\"Notes\":\"Default Hyper Parameters, Swish.\","
		      "\"optimizer\":{\"name\":\"adamw\",\"betas\":[0.9,0.999],"
		      "\"eps\":1.0e-08},\"lr\":5.0e-05,\"max\":1e+06,"
		      "\"seed\":42,\"fp16\":false,\"resume\":null,"
		      "\"layers\":[[64,3],[128,3]]}");
	/* empty user config: only internals */
	expect_unwrap("{\"wandb_version\": 1, \"_wandb\": {\"desc\": null, "
		      "\"value\": {\"cli_version\": \"0.17.5\", \"t\": "
		      "{\"1\": [1, 5, 11], \"4\": \"3.8.10\"}}}}",
		      "{}");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[1, 2]", -EBADMSG);
	expect_error("5", -EBADMSG);
	expect_error("\"text\"", -EBADMSG);
	expect_error("{\"a\": ", -EBADMSG);
	expect_error("{\"a\": {\"value\": nan}}", -EBADMSG);
}

/* The length bound is honoured: bytes after len are not read. */
static void test_length_bound(void **state)
{
	const char raw[] = "{\"a\": {\"value\": 1}}GARBAGE";
	cJSON *out = NULL;
	char *text;

	(void)state;
	assert_int_equal(wb_config_unwrap(raw, strlen(raw) - 7, &out, NULL), 0);
	text = wb_json_print(out, WB_JSON_COMPACT, NULL);
	assert_string_equal(text, "{\"a\":1}");
	free(text);
	cJSON_Delete(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_current_wire_shape),
		cmocka_unit_test(test_desc_siblings_dropped),
		cmocka_unit_test(test_non_object_values_kept),
		cmocka_unit_test(test_internal_keys_dropped),
		cmocka_unit_test(test_numbers_exact),
		cmocka_unit_test(test_key_order_and_odd_keys),
		cmocka_unit_test(test_duplicate_keys_like_python),
		cmocka_unit_test(test_config_yaml_shapes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_length_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
