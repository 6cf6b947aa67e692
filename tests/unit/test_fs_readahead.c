/* test_fs_readahead.c — fs/readahead.c, the read-ahead policy alone: what
 * it plans for sequential walks (a head start right after a listing, a
 * window that doubles per group entered, capped by the limit and the end
 * of the listing), for scattered accesses (the run's group on demand,
 * nothing otherwise), for a walk that starts reading a second file, and
 * for two walks of one listing at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "wfs_readahead.h"

#define G 50
#define CONFIG 2u
#define SUMMARY 4u

static struct wfs_ra_plan access_at(struct wfs_ra *ra, size_t pos, size_t n,
				    size_t limit, unsigned part, int demand,
				    unsigned walk)
{
	struct wfs_ra_access a = { .pos = pos,
				   .n = n,
				   .group = G,
				   .limit = limit,
				   .walk = walk,
				   .part = part,
				   .demand = demand };
	struct wfs_ra_plan p;

	wfs_ra_access(ra, "R/e/p", &a, &p);
	return p;
}

static void assert_plan(struct wfs_ra_plan p, size_t from, size_t to)
{
	assert_int_equal(p.from, from);
	assert_int_equal(p.to, to);
}

static void test_head_start_after_listing(void **state)
{
	struct wfs_ra *ra = wfs_ra_new(4);

	(void)state;
	wfs_ra_listed(ra, "R/e/p");
	/* Four groups beyond the run's own. */
	assert_plan(access_at(ra, 0, 1000, 1000, CONFIG, 1, 1), 0, 250);
	/* Within the covered range: nothing more until a new group. */
	assert_plan(access_at(ra, 1, 1000, 1000, CONFIG, 0, 1), 250, 250);
	/* Entering group 1 doubles the window: 400 past its end. */
	assert_plan(access_at(ra, 50, 1000, 1000, CONFIG, 0, 1), 250, 500);
	/* Then 800, capped by the end of the listing. */
	assert_plan(access_at(ra, 100, 1000, 1000, CONFIG, 0, 1), 500, 950);
	assert_plan(access_at(ra, 150, 1000, 1000, CONFIG, 0, 1), 950, 1000);
	assert_plan(access_at(ra, 200, 1000, 1000, CONFIG, 0, 1), 1000, 1000);
	/* The head start is for the first access after a listing only. */
	wfs_ra_listed(ra, "R/e/p");
	assert_plan(access_at(ra, 600, 1000, 1000, CONFIG, 1, 1), 600, 650);
	wfs_ra_free(ra);
}

static void test_window_grows_to_limit(void **state)
{
	struct wfs_ra *ra = wfs_ra_new(4);
	size_t want[] = { 50, 100, 200, 300, 300 };

	(void)state;
	/* No listing just fetched: the first access plans its group only. */
	assert_plan(access_at(ra, 100, 5000, 300, CONFIG, 1, 1), 100, 150);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		size_t pos = 150 + 50 * k;
		struct wfs_ra_plan p =
			access_at(ra, pos, 5000, 300, CONFIG, 0, 1);

		assert_int_equal(p.to, pos + G + want[k]);
	}
	wfs_ra_free(ra);
}

static void test_random_access_stays_small(void **state)
{
	struct wfs_ra *ra = wfs_ra_new(4);
	size_t order[] = { 530, 120, 870, 310, 990 };

	(void)state;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		size_t start = order[k] - order[k] % G;

		/* A hit plans nothing; a miss, the run's group. */
		assert_plan(access_at(ra, order[k], 1000, 1000, CONFIG, 0, 1),
			    start, start);
		assert_plan(access_at(ra, order[k], 1000, 1000, CONFIG, 1, 1),
			    start, start + G > 1000 ? 1000 : start + G);
	}
	wfs_ra_free(ra);
}

static void test_second_file_covers_again(void **state)
{
	struct wfs_ra *ra = wfs_ra_new(4);
	struct wfs_ra_plan p;

	(void)state;
	wfs_ra_listed(ra, "R/e/p");
	p = access_at(ra, 0, 1000, 1000, CONFIG, 1, 1);
	assert_int_equal(p.parts, CONFIG);
	/* summary.json of the same run: the range is planned again, for
	 * both files. */
	p = access_at(ra, 0, 1000, 1000, SUMMARY, 1, 1);
	assert_plan(p, 0, 250);
	assert_int_equal(p.parts, CONFIG | SUMMARY);
	wfs_ra_free(ra);
}

static void test_walks_apart(void **state)
{
	struct wfs_ra *ra = wfs_ra_new(4);

	(void)state;
	wfs_ra_listed(ra, "R/e/p");
	/* A stat of every run (walk 0) runs far ahead of the files (walk 1)
	 * without breaking the files' walk. */
	for (size_t pos = 0; pos < 1000; pos += 10)
		access_at(ra, pos, 1000, 1000, 1, 0, 0);
	assert_plan(access_at(ra, 0, 1000, 1000, CONFIG, 1, 1), 0, 250);
	assert_plan(access_at(ra, 50, 1000, 1000, CONFIG, 0, 1), 250, 500);
	wfs_ra_free(ra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_start_after_listing),
		cmocka_unit_test(test_window_grows_to_limit),
		cmocka_unit_test(test_random_access_stays_small),
		cmocka_unit_test(test_second_file_covers_again),
		cmocka_unit_test(test_walks_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
