/* test_storage_urls.c — artifact download URLs built from manifest entries
 * (doc/api-notes.md, "Storage URL layouts"): base64 MD5 -> hex, V1 and V2
 * layouts, percent-encoding of every segment, missing birthArtifactID,
 * refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wb_artifacts.h"

static void test_b64_to_hex(void **state)
{
	(void)state;
	char hex[33];

	/* A digest as manifests carry it, and md5("") */
	assert_int_equal(wb_md5_b64_to_hex("mZFLkyvTelC5g8XnyQrpOw==", hex), 0);
	assert_string_equal(hex, "99914b932bd37a50b983c5e7c90ae93b");
	assert_int_equal(wb_md5_b64_to_hex("1B2M2Y8AsgTpgAmY7PhCfg==", hex), 0);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	/* '+' and '/' (and their URL-safe forms) map to 62 and 63. */
	assert_int_equal(wb_md5_b64_to_hex("7ow/fbXV0PSr9ksF/uCb7A==", hex), 0);
	assert_string_equal(hex, "ee8c3f7db5d5d0f4abf64b05fee09bec");
	assert_int_equal(wb_md5_b64_to_hex("7ow_fbXV0PSr9ksF_uCb7A==", hex), 0);
	assert_string_equal(hex, "ee8c3f7db5d5d0f4abf64b05fee09bec");
	assert_int_equal(wb_md5_b64_to_hex("SqOq1Z25WXj/7hy5jVna3w", hex), 0);
	assert_string_equal(hex, "4aa3aad59db95978ffee1cb98d59dadf");

	static const char *const bad[] = {
		"",
		"mZFLkyvTelC5g8XnyQrpOw=",
		"mZFLkyvTelC5g8XnyQrpOw===",
		"mZFLkyvTelC5g8XnyQrpO===",
		"mZFLkyvTelC5g8XnyQrpOx==",
		"mZFLkyvTelC5g8Xny!rpOw==",
		"mZFLkyvTelC5g8XnyQrpOwAA",
		"99914b932bd37a50b983c5e7c90ae93b",
		"s3://bucket/key",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wb_md5_b64_to_hex(bad[i], hex) != -EINVAL)
			fail_msg("accepted digest \"%s\"", bad[i]);
	assert_int_equal(wb_md5_b64_to_hex(NULL, hex), -EINVAL);
}

static void expect_url(enum wb_storage_layout layout, const char *region,
		       const char *entity, const char *project,
		       const char *collection, const char *path,
		       const char *birth, const char *want)
{
	struct wb_manifest_entry e = {
		.path = (char *)path,
		.digest = (char *)"mZFLkyvTelC5g8XnyQrpOw==",
		.size = 3,
		.birth_artifact_id = (char *)birth,
	};
	char *url = NULL;
	int rc = wb_artifact_storage_url("http://127.0.0.1:8080/api", layout,
					 region, entity, project, collection,
					 &e, &url);

	if (rc)
		fail_msg("storage url failed: %d", rc);
	if (strcmp(url, want) != 0)
		fail_msg("\n  got  %s\n  want %s", url, want);
	free(url);
}

static void test_v1(void **state)
{
	(void)state;
	expect_url(WB_LAYOUT_V1, "default", "acme", "proj", "data", "dir/x.bin",
		   "QXJ0aWZhY3Q6MQ==",
		   "http://127.0.0.1:8080/api/artifacts/acme/"
		   "99914b932bd37a50b983c5e7c90ae93b");
	/* The entity is a path segment like any other. */
	expect_url(WB_LAYOUT_V1, NULL, "a b/c", NULL, NULL, "x", NULL,
		   "http://127.0.0.1:8080/api/artifacts/a%20b%2Fc/"
		   "99914b932bd37a50b983c5e7c90ae93b");
}

static void test_v2(void **state)
{
	(void)state;
	expect_url(WB_LAYOUT_V2, "default", "acme", "proj", "images",
		   "train/cats/001.png", "QXJ0aWZhY3Q6NTY1NjkwMjQx",
		   "http://127.0.0.1:8080/api/artifactsV2/default/acme/proj/"
		   "images/QXJ0aWZhY3Q6NTY1NjkwMjQx/"
		   "99914b932bd37a50b983c5e7c90ae93b/001.png");
	/* Every segment encoded: '=' in ids, spaces, '/', ':', '#', '%',
	 * UTF-8; only the basename of the path is used. */
	expect_url(
		WB_LAYOUT_V2, "coreweave-us", "my ent", "wandb-registry-x",
		"c:1", "dir/sub/file name#1%.txt", "QXJ0aWZhY3Q6MQ==",
		"http://127.0.0.1:8080/api/artifactsV2/coreweave-us/my%20ent/"
		"wandb-registry-x/c%3A1/QXJ0aWZhY3Q6MQ%3D%3D/"
		"99914b932bd37a50b983c5e7c90ae93b/file%20name%231%25.txt");
	expect_url(WB_LAYOUT_V2, "default", "e", "p", "c", "ファイル.txt",
		   "id~_.-",
		   "http://127.0.0.1:8080/api/artifactsV2/default/e/p/c/id~_.-/"
		   "99914b932bd37a50b983c5e7c90ae93b/"
		   "%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt");
	/* Missing birthArtifactID: an empty segment; missing region:
	 * "default". */
	expect_url(WB_LAYOUT_V2, NULL, "e", "p", "c", "a/b", NULL,
		   "http://127.0.0.1:8080/api/artifactsV2/default/e/p/c//"
		   "99914b932bd37a50b983c5e7c90ae93b/b");
	expect_url(WB_LAYOUT_V2, "", "e", "p", "c", "b", NULL,
		   "http://127.0.0.1:8080/api/artifactsV2/default/e/p/c//"
		   "99914b932bd37a50b983c5e7c90ae93b/b");
}

static void test_refused(void **state)
{
	(void)state;
	struct wb_manifest_entry ref = {
		.path = (char *)"r",
		.digest = (char *)"mZFLkyvTelC5g8XnyQrpOw==",
		.ref = (char *)"s3://b/k",
	};
	struct wb_manifest_entry etag = {
		.path = (char *)"r",
		.digest = (char *)"9f1c-3",
	};
	char *url = (char *)"untouched";

	assert_int_equal(wb_artifact_storage_url("http://h", WB_LAYOUT_V2, NULL,
						 "e", "p", "c", &ref, &url),
			 -EINVAL);
	assert_null(url);
	assert_int_equal(wb_artifact_storage_url("http://h", WB_LAYOUT_V1, NULL,
						 "e", NULL, NULL, &etag, &url),
			 -EINVAL);
	assert_int_equal(wb_artifact_storage_url("http://h", WB_LAYOUT_V2, NULL,
						 "e", NULL, "c", &etag, &url),
			 -EINVAL);
	assert_int_equal(wb_artifact_storage_url("http://h", 3, NULL, "e", "p",
						 "c", &ref, &url),
			 -EINVAL);
	assert_null(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_to_hex),
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
