/* test_strmap.c — wb_strmap (client/strmap.c): insert, replace, lookup,
 * removal with tombstones, growth past many entries, iteration, and the
 * FNV-1a hash the filesystem's inode numbers rest on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wb_strmap.h"

#define N 5000

static void test_put_get_del(void **state)
{
	static char keys[N][16];
	struct wb_strmap m;
	void *old = &old;

	(void)state;
	wb_strmap_init(&m);
	assert_null(wb_strmap_get(&m, "absent"));
	assert_null(wb_strmap_del(&m, "absent"));
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "run-%d", i);
		assert_int_equal(wb_strmap_put(&m, keys[i], keys[i], &old), 0);
		assert_null(old);
	}
	assert_int_equal(m.used, N);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(wb_strmap_get(&m, keys[i]), keys[i]);
	/* Replacing keeps one entry and hands back the old value. */
	assert_int_equal(wb_strmap_put(&m, keys[7], keys[8], &old), 0);
	assert_ptr_equal(old, keys[7]);
	assert_ptr_equal(wb_strmap_get(&m, "run-7"), keys[8]);
	assert_int_equal(m.used, N);
	/* Every other key removed: the rest stay reachable past the
	 * tombstones, and a removed key can come back. */
	for (int i = 0; i < N; i += 2)
		assert_non_null(wb_strmap_del(&m, keys[i]));
	for (int i = 0; i < N; i++)
		assert_true((wb_strmap_get(&m, keys[i]) != NULL) == (i % 2));
	assert_int_equal(wb_strmap_put(&m, keys[0], keys[0], NULL), 0);
	assert_ptr_equal(wb_strmap_get(&m, "run-0"), keys[0]);
	wb_strmap_clear(&m);
	assert_null(wb_strmap_get(&m, "run-1"));
}

static void test_iterate(void **state)
{
	char a[] = "a", b[] = "b", c[] = "c";
	struct wb_strmap m;
	size_t pos = 0, seen = 0;
	char *v;

	(void)state;
	wb_strmap_init(&m);
	assert_null(wb_strmap_next(&m, &pos));
	wb_strmap_put(&m, a, a, NULL);
	wb_strmap_put(&m, b, b, NULL);
	wb_strmap_put(&m, c, c, NULL);
	wb_strmap_del(&m, "b");
	pos = 0;
	while ((v = wb_strmap_next(&m, &pos))) {
		assert_true(v == a || v == c);
		seen++;
	}
	assert_int_equal(seen, 2);
	/* Emptied: tombstones dropped, so the map does not degrade. */
	wb_strmap_del(&m, "a");
	wb_strmap_del(&m, "c");
	assert_int_equal(m.used, 0);
	assert_int_equal(m.filled, 0);
	wb_strmap_clear(&m);
}

static void test_hash(void **state)
{
	(void)state;
	/* FNV-1a 64 reference values. */
	assert_true(wb_hash_str(WB_HASH_SEED, "") == 0xcbf29ce484222325ULL);
	assert_true(wb_hash_str(WB_HASH_SEED, "a") == 0xaf63dc4c8601ec8cULL);
	assert_true(wb_hash_str(WB_HASH_SEED, "foobar") ==
		    0x85944171f73967e8ULL);
	/* Continuing a hash equals hashing the concatenation. */
	assert_true(wb_hash_str(wb_hash_str(WB_HASH_SEED, "foo"), "bar") ==
		    wb_hash_str(WB_HASH_SEED, "foobar"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
