/* test_manifest.c — wb_manifest_parse() (format version 1): both storage
 * layouts, reference entries, optional fields, every real manifest of the
 * corpus checked entry by entry against an independent parse, and every
 * hostile path form rejected. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "wb_artifacts.h"
#include "wb_json.h"

static struct wb_manifest *parse_ok(const char *text)
{
	struct wb_error err = { 0 };
	struct wb_manifest *m = NULL;
	int rc = wb_manifest_parse(text, strlen(text), &m, &err);

	if (rc)
		fail_msg("parse failed: %d %s\n%s", rc, err.msg, text);
	assert_non_null(m);
	return m;
}

static void parse_fails(const char *text, size_t len, int code)
{
	struct wb_error err = { 0 };
	struct wb_manifest *m = (struct wb_manifest *)&err;
	int rc = wb_manifest_parse(text, len, &m, &err);

	if (rc != code)
		fail_msg("parse gave %d (%s), want %d, for\n%.*s", rc, err.msg,
			 code, (int)len, text);
	assert_null(m);
	assert_int_equal(err.code, code);
	assert_true(err.msg[0] != '\0');
}

static void test_v2_layout(void **state)
{
	(void)state;
	struct wb_manifest *m = parse_ok(
		"{\"version\":1,\"storagePolicy\":\"wandb-storage-policy-v1\","
		"\"storagePolicyConfig\":{\"storageLayout\":\"V2\","
		"\"storageRegion\":\"coreweave-us\"},\"contents\":{"
		"\"z/last.bin\":{\"digest\":\"1B2M2Y8AsgTpgAmY7PhCfg==\","
		"\"size\":0,\"birthArtifactID\":\"QXJ0aWZhY3Q6MQ==\","
		"\"local_path\":\"/root/x\",\"skip_cache\":false},"
		"\"a.txt\":{\"digest\":\"mZFLkyvTelC5g8XnyQrpOw==\","
		"\"size\":12345678901234,\"extra\":{\"k\":[1,2.50]}}}}");
	const struct wb_manifest_entry *e;

	assert_int_equal(m->version, 1);
	assert_int_equal(m->layout, WB_LAYOUT_V2);
	assert_string_equal(m->region, "coreweave-us");
	assert_string_equal(m->storage_policy, "wandb-storage-policy-v1");
	assert_int_equal(m->n_entries, 2);
	/* sorted by path */
	assert_string_equal(m->entries[0].path, "a.txt");
	assert_string_equal(m->entries[1].path, "z/last.bin");
	e = wb_manifest_find(m, "z/last.bin");
	assert_ptr_equal(e, &m->entries[1]);
	assert_string_equal(e->digest, "1B2M2Y8AsgTpgAmY7PhCfg==");
	assert_int_equal(e->size, 0);
	assert_string_equal(e->birth_artifact_id, "QXJ0aWZhY3Q6MQ==");
	assert_null(e->ref);
	assert_string_equal(e->extra, "{}");
	e = wb_manifest_find(m, "a.txt");
	assert_non_null(e);
	assert_int_equal(e->size, 12345678901234LL);
	assert_null(e->birth_artifact_id);
	assert_string_equal(e->extra, "{\"k\":[1,2.50]}");
	assert_null(wb_manifest_find(m, "a.tx"));
	assert_null(wb_manifest_find(m, "z"));
	wb_manifest_free(m);
}

static void test_v1_defaults(void **state)
{
	(void)state;
	/* No storagePolicyConfig at all: layout V1, region "default". */
	struct wb_manifest *m = parse_ok(
		"{\"version\": 1, \"storagePolicy\": \"wandb-storage-policy-v1\","
		" \"contents\": {\"d/e.json\": {\"digest\": "
		"\"G94B0e44NZv2e7VBaD/YjA==\"}}}");

	assert_int_equal(m->layout, WB_LAYOUT_V1);
	assert_string_equal(m->region, "default");
	assert_int_equal(m->n_entries, 1);
	assert_int_equal(m->entries[0].size, -1); /* size absent */
	assert_null(m->entries[0].birth_artifact_id);
	wb_manifest_free(m);

	m = parse_ok("{\"version\":1,\"storagePolicyConfig\":{\"storageLayout\""
		     ":\"V1\",\"storageRegion\":null},\"contents\":{}}");
	assert_int_equal(m->layout, WB_LAYOUT_V1);
	assert_string_equal(m->region, "default");
	assert_int_equal(m->n_entries, 0);
	assert_null(wb_manifest_find(m, "x"));
	assert_null(m->storage_policy);
	wb_manifest_free(m);
}

static void test_reference_entries(void **state)
{
	(void)state;
	struct wb_manifest *m = parse_ok(
		"{\"version\":1,\"storagePolicy\":\"wandb-storage-policy-v1\","
		"\"storagePolicyConfig\":{\"storageLayout\":\"V2\"},"
		"\"contents\":{"
		"\"s3/obj.csv\":{\"digest\":\"9f1c-3\",\"ref\":"
		"\"s3://bucket/key/obj.csv\",\"size\":9,\"extra\":"
		"{\"etag\":\"\\\"9f1c-3\\\"\",\"versionID\":\"v7\"}},"
		"\"linked.txt\":{\"digest\":\"mZFLkyvTelC5g8XnyQrpOw==\","
		"\"ref\":\"wandb-artifact://41727469666163743a31/a.txt\","
		"\"size\":0},"
		"\"nosize\":{\"digest\":\"gs://b/k\",\"ref\":\"gs://b/k\"}}}");
	const struct wb_manifest_entry *e = wb_manifest_find(m, "s3/obj.csv");

	assert_non_null(e);
	assert_string_equal(e->ref, "s3://bucket/key/obj.csv");
	assert_string_equal(e->digest, "9f1c-3");
	assert_int_equal(e->size, 9);
	assert_string_equal(
		e->extra, "{\"etag\":\"\\\"9f1c-3\\\"\",\"versionID\":\"v7\"}");
	e = wb_manifest_find(m, "linked.txt");
	assert_non_null(e);
	assert_string_equal(e->ref,
			    "wandb-artifact://41727469666163743a31/a.txt");
	assert_int_equal(e->size, 0);
	e = wb_manifest_find(m, "nosize");
	assert_non_null(e);
	assert_int_equal(e->size, -1);
	wb_manifest_free(m);
}

/* A manifest with one entry whose key is the JSON string `key_json`. */
static char *with_key(const char *key_json)
{
	const char *fmt = "{\"version\":1,\"storagePolicyConfig\":"
			  "{\"storageLayout\":\"V2\"},\"contents\":{%s:"
			  "{\"digest\":\"mZFLkyvTelC5g8XnyQrpOw==\","
			  "\"size\":1}}}";
	size_t n = strlen(fmt) + strlen(key_json) + 1;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, fmt, key_json);
	return s;
}

/* The JSON string literal for raw path bytes (cJSON escapes controls). */
static char *json_string(const char *raw)
{
	cJSON *s = cJSON_CreateString(raw);
	char *text = cJSON_PrintUnformatted(s);

	cJSON_Delete(s);
	assert_non_null(text);
	return text;
}

static const char *const hostile[] = {
	"",
	".",
	"..",
	"/etc/passwd",
	"/",
	"\\x",
	"\\\\srv\\share\\f",
	"//srv/share/f",
	"C:x",
	"c:\\windows\\x",
	"C:/x",
	"1:x",
	"../x",
	"a/../b",
	"a/..",
	"a\\..\\b",
	"..\\x",
	"a/b\\..",
	"./x",
	"a/./b",
	"a/.",
	"a//b",
	"a/",
	"a\\",
	"a\\\\b",
	"a\x01"
	"b",
	"a\tb",
	"line\nbreak",
	"cr\r",
	"a\x7f",
	"\x1b[31m",
};

static void test_hostile_paths(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *key = json_string(hostile[i]);
		char *text = with_key(key);

		if (wb_manifest_path_check(hostile[i]) != -EINVAL)
			fail_msg("path check accepted %s", key);
		parse_fails(text, strlen(text), -EINVAL);
		free(text);
		free(key);
	}
	/* An escaped NUL would be cut short by cJSON; refused outright. */
	char *text = with_key("\"ok\\u0000/../../etc/passwd\"");
	parse_fails(text, strlen(text), -EINVAL);
	free(text);
	/* "\\u0000" is a backslash then "u0000": a harmless name. */
	text = with_key("\"dir/a\\\\u0000b\"");
	struct wb_manifest *m = parse_ok(text);
	assert_string_equal(m->entries[0].path, "dir/a\\u0000b");
	wb_manifest_free(m);
	free(text);
}

static void test_safe_paths(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"a",
		"a/b/c.txt",
		"..hidden",
		"a..b/c...d",
		".config/x",
		"dir/file:with:colons",
		"ab:c",
		"sp ace/#%?&=+.txt",
		"ünïcode/ファイル.txt",
		"a\\b",
		"x.",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *key = json_string(ok[i]);
		char *text = with_key(key);
		struct wb_manifest *m;

		if (wb_manifest_path_check(ok[i]) != 0)
			fail_msg("path check rejected %s", key);
		m = parse_ok(text);
		assert_string_equal(m->entries[0].path, ok[i]);
		wb_manifest_free(m);
		free(text);
		free(key);
	}
}

static void test_duplicates_and_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int code;
	} bad[] = {
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":\"x\"},"
		  "\"b\":{\"digest\":\"y\"},\"a\":{\"digest\":\"z\"}}}",
		  -EINVAL },
		{ "{\"version\":2,\"contents\":{}}", -EOPNOTSUPP },
		{ "{\"version\":1,\"storagePolicyConfig\":{\"storageLayout\":"
		  "\"V3\"},\"contents\":{}}",
		  -EOPNOTSUPP },
		{ "{\"contents\":{}}", -EBADMSG },
		{ "{\"version\":1}", -EBADMSG },
		{ "{\"version\":1,\"contents\":[]}", -EBADMSG },
		{ "[]", -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"size\":1}}}",
		  -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":5}}}",
		  -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":\"d\","
		  "\"size\":\"12\"}}}",
		  -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":\"d\","
		  "\"size\":-1}}}",
		  -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":\"d\","
		  "\"size\":1.5}}}",
		  -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":\"d\","
		  "\"extra\":[]}}}",
		  -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":\"d\"}}", -EBADMSG },
		{ "{\"version\":1,\"contents\":{\"a\":{\"digest\":\"d\"}",
		  -EBADMSG },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_fails(bad[i].text, strlen(bad[i].text), bad[i].code);
	/* Only len bytes are read: a valid prefix of a longer buffer. */
	const char *t = "{\"version\":1,\"contents\":{}}garbage";
	struct wb_error err = { 0 };
	struct wb_manifest *m = NULL;
	assert_int_equal(wb_manifest_parse(t, strlen(t) - 7, &m, &err), 0);
	assert_int_equal(m->n_entries, 0);
	wb_manifest_free(m);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Check every entry against cJSON's own view of the same file. */
static void check_corpus_manifest(const char *path)
{
	struct wb_error err = { 0 };
	struct wb_manifest *m = NULL;
	size_t len;
	char *text = read_file(path, &len);
	cJSON *doc = cJSON_Parse(text);
	const cJSON *contents =
		cJSON_GetObjectItemCaseSensitive(doc, "contents");
	const cJSON *item;
	const char *layout;

	assert_non_null(contents);
	if (wb_manifest_parse(text, len, &m, &err))
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(m->n_entries, (size_t)cJSON_GetArraySize(contents));
	layout = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "storagePolicyConfig"),
		"storageLayout"));
	assert_int_equal(m->layout,
			 layout && !strcmp(layout, "V2") ? WB_LAYOUT_V2
							 : WB_LAYOUT_V1);
	cJSON_ArrayForEach (item, contents) {
		const struct wb_manifest_entry *e =
			wb_manifest_find(m, item->string);
		const cJSON *size =
			cJSON_GetObjectItemCaseSensitive(item, "size");
		const char *birth = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(item,
							 "birthArtifactID"));
		char hex[33];

		if (!e)
			fail_msg("%s: entry %s missing", path, item->string);
		assert_string_equal(
			e->digest,
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				item, "digest")));
		assert_int_equal(
			e->size,
			cJSON_IsNumber(size) ? (int64_t)size->valuedouble : -1);
		if (birth)
			assert_string_equal(e->birth_artifact_id, birth);
		else
			assert_null(e->birth_artifact_id);
		assert_null(e->ref);
		assert_int_equal(wb_md5_b64_to_hex(e->digest, hex), 0);
	}
	wb_manifest_free(m);
	cJSON_Delete(doc);
	free(text);
}

static int walk_manifests(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d))) {
		char path[4096];
		struct stat st;
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			n += walk_manifests(path);
		} else if (l > 5 && !strcmp(de->d_name + l - 5, ".json")) {
			check_corpus_manifest(path);
			n++;
		}
	}
	closedir(d);
	return n;
}

static void test_corpus_manifests(void **state)
{
	(void)state;
	const char *corpus = getenv("WB_CORPUS_DIR");
	char dir[4096];

	if (!corpus)
		fail_msg("WB_CORPUS_DIR is not set");
	snprintf(dir, sizeof(dir), "%s/manifests", corpus);
	/* 6 committed + 3 reconstructed manifests in the corpus. */
	assert_true(walk_manifests(dir) >= 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_layout),
		cmocka_unit_test(test_v1_defaults),
		cmocka_unit_test(test_reference_entries),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_safe_paths),
		cmocka_unit_test(test_duplicates_and_errors),
		cmocka_unit_test(test_corpus_manifests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
