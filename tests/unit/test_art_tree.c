/* test_art_tree.c — fs/art_tree.c: a manifest as a directory tree
 * (lookups, listings in manifest order, the files that come next in a
 * directory) and the check that refuses manifests that cannot be shown
 * exactly as a tree (a file that is also a directory, over-long names). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wfs_art_tree.h"

#define D "\"digest\": \"1B2M2Y8AsgTpgAmY7PhCfg==\", \"size\": 0"

/* A parsed manifest whose contents are the given paths. */
static struct wb_manifest *manifest(const char *const *paths)
{
	char text[8192];
	size_t at = 0;
	struct wb_manifest *m = NULL;
	struct wb_error err = { 0 };

	at += (size_t)snprintf(text + at, sizeof(text) - at,
			       "{\"version\": 1, \"storagePolicy\": "
			       "\"wandb-storage-policy-v1\", \"contents\": {");
	for (size_t i = 0; paths[i]; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at,
				       "%s\"%s\": {" D "}", i ? ", " : "",
				       paths[i]);
	at += (size_t)snprintf(text + at, sizeof(text) - at, "}}");
	assert_int_equal(wb_manifest_parse(text, at, &m, &err), 0);
	return m;
}

struct listing {
	char text[512];
};

static int collect(void *ud, const char *name,
		   const struct wb_manifest_entry *e)
{
	struct listing *l = ud;

	strcat(l->text, name);
	strcat(l->text, e ? " " : "/ ");
	return 0;
}

static const char *list(const struct wb_manifest *m, const char *dir,
			struct listing *l)
{
	l->text[0] = '\0';
	assert_int_equal(wfs_art_tree_list(m, dir, collect, l), 0);
	return l->text;
}

static void assert_tree_ok(const struct wb_manifest *m)
{
	const char *bad = NULL, *why = NULL;

	assert_int_equal(wfs_art_tree_check(m, &bad, &why), 0);
	assert_null(bad);
}

static void test_lookup_and_list(void **state)
{
	static const char *const paths[] = { "b",   "a/y/z", "a.txt",
					     "a/x", "a-b",   "c d/#%.txt",
					     NULL };
	struct wb_manifest *m = manifest(paths);
	const struct wb_manifest_entry *e;
	struct listing l;

	(void)state;
	assert_tree_ok(m);
	/* Manifest (strcmp) order: '-' and '.' sort before '/'. */
	assert_string_equal(list(m, "", &l), "a-b a.txt a/ b c d/ ");
	assert_string_equal(list(m, "a", &l), "x y/ ");
	assert_string_equal(list(m, "a/y", &l), "z ");
	assert_string_equal(list(m, "c d", &l), "#%.txt ");
	assert_string_equal(list(m, "nope", &l), "");
	assert_int_equal(wfs_art_tree_lookup(m, "", "a", &e), WFS_ART_DIR);
	assert_null(e);
	assert_int_equal(wfs_art_tree_lookup(m, "", "a.txt", &e), WFS_ART_FILE);
	assert_string_equal(e->path, "a.txt");
	assert_int_equal(wfs_art_tree_lookup(m, "a/y", "z", &e), WFS_ART_FILE);
	assert_string_equal(e->path, "a/y/z");
	assert_int_equal(wfs_art_tree_lookup(m, "a", "y", &e), WFS_ART_DIR);
	assert_int_equal(wfs_art_tree_lookup(m, "a", "z", &e), WFS_ART_ABSENT);
	assert_int_equal(wfs_art_tree_lookup(m, "", "x", &e), WFS_ART_ABSENT);
	assert_int_equal(wfs_art_tree_lookup(m, "", "a-", &e), WFS_ART_ABSENT);
	wb_manifest_free(m);
}

static void test_empty_manifest(void **state)
{
	static const char *const none[] = { NULL };
	struct wb_manifest *m = manifest(none);
	const struct wb_manifest_entry *e;
	struct listing l;

	(void)state;
	assert_tree_ok(m);
	assert_string_equal(list(m, "", &l), "");
	assert_int_equal(wfs_art_tree_lookup(m, "", "a", &e), WFS_ART_ABSENT);
	assert_true(wfs_art_manifest_bytes(m) > 0);
	wb_manifest_free(m);
}

static void test_next_files_of_a_directory(void **state)
{
	static const char *const paths[] = { "d/1", "d/2", "d/s/x", "d/s/y",
					     "d/3", "d0",  "e/1",   NULL };
	struct wb_manifest *m = manifest(paths);
	const struct wb_manifest_entry *next[4];
	const struct wb_manifest_entry *d1 = wb_manifest_find(m, "d/1");

	(void)state;
	/* Files after d/1 in d/, subdirectories skipped, nothing beyond. */
	assert_int_equal(wfs_art_tree_next(m, d1, next, 4), 2);
	assert_string_equal(next[0]->path, "d/2");
	assert_string_equal(next[1]->path, "d/3");
	assert_int_equal(wfs_art_tree_next(m, d1, next, 1), 1);
	assert_int_equal(
		wfs_art_tree_next(m, wb_manifest_find(m, "d/3"), next, 4), 0);
	/* At the top level the next file is d0, after the d/ subtree. */
	assert_int_equal(
		wfs_art_tree_next(m, wb_manifest_find(m, "d0"), next, 4), 0);
	wb_manifest_free(m);
}

static void test_file_and_directory_of_one_name_refused(void **state)
{
	static const char *const paths[] = { "a", "a.txt", "a/b", NULL };
	static const char *const deep[] = { "x/a", "x/a!", "x/a/b/c", NULL };
	struct wb_manifest *m = manifest(paths);
	const char *bad = NULL, *why = NULL;

	(void)state;
	assert_int_equal(wfs_art_tree_check(m, &bad, &why), -EIO);
	assert_string_equal(bad, "a");
	assert_non_null(strstr(why, "both a file and a directory"));
	wb_manifest_free(m);
	m = manifest(deep);
	assert_int_equal(wfs_art_tree_check(m, &bad, &why), -EIO);
	assert_string_equal(bad, "x/a");
	wb_manifest_free(m);
}

static void test_long_names_refused(void **state)
{
	char name[300], path[320];
	const char *paths[] = { path, NULL };
	struct wb_manifest *m;
	const char *bad = NULL, *why = NULL;

	(void)state;
	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(path, sizeof(path), "d/%s", name);
	m = manifest(paths);
	assert_tree_ok(m);
	wb_manifest_free(m);
	snprintf(path, sizeof(path), "%sx/f", name);
	m = manifest(paths);
	assert_int_equal(wfs_art_tree_check(m, &bad, &why), -EIO);
	assert_non_null(strstr(why, "longer than 255"));
	wb_manifest_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_and_list),
		cmocka_unit_test(test_empty_manifest),
		cmocka_unit_test(test_next_files_of_a_directory),
		cmocka_unit_test(test_file_and_directory_of_one_name_refused),
		cmocka_unit_test(test_long_names_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
