/* test_fs_cache.c — fs/cache.c, the cache policy: TTL classes (state-aware
 * for runs), negative entries and their cap, the memory bound with LRU
 * eviction, references that outlive eviction, the freshness left. A fake
 * clock drives expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "wfs_cache.h"

static double fake_now;

static double fake_clock(void)
{
	return fake_now;
}

/* A value that counts how many of its kind were freed. */
static int freed;

static void counted_free(struct wfs_obj *o)
{
	freed++;
	free(o);
}

static struct wfs_obj *obj(size_t bytes)
{
	struct wfs_obj *o = malloc(sizeof(*o));

	assert_non_null(o);
	wfs_obj_init(o, bytes, counted_free);
	return o;
}

static struct wfs_cache_policy policy(void)
{
	struct wfs_cache_policy p;

	wfs_cache_policy_defaults(&p);
	p.ttl = 60;
	p.ttl_running = 5;
	p.ttl_finished = 600;
	p.ttl_negative = 30;
	p.ttl_alias = 2;
	return p;
}

/* Put a fresh value, drop our reference: the cache then holds the only one. */
static void put(struct wfs_cache *c, const char *key, size_t bytes,
		enum wfs_class cls)
{
	struct wfs_obj *o = obj(bytes);

	assert_int_equal(wfs_cache_put(c, key, o, cls), 0);
	wfs_obj_unref(o);
}

static enum wfs_hit get(struct wfs_cache *c, const char *key, unsigned flags)
{
	struct wfs_obj *o;
	enum wfs_hit hit = wfs_cache_get(c, key, flags, &o);

	if (hit == WFS_FRESH || hit == WFS_STALE)
		assert_non_null(o);
	else
		assert_null(o);
	wfs_obj_unref(o);
	return hit;
}

/* Seconds of freshness wfs_cache_lookup reports for key. */
static double left(struct wfs_cache *c, const char *key)
{
	struct wfs_obj *o;
	double s = -1;

	wfs_cache_lookup(c, key, WFS_GET_STALE, &o, &s);
	wfs_obj_unref(o);
	return s;
}

static void test_state_classes(void **state)
{
	struct wfs_cache_policy p = policy();
	struct wfs_cache *c = wfs_cache_new(&p, fake_clock);

	(void)state;
	assert_int_equal(wfs_class_for_run_state("running"), WFS_CLASS_RUNNING);
	assert_int_equal(wfs_class_for_run_state("pending"), WFS_CLASS_RUNNING);
	assert_int_equal(wfs_class_for_run_state("preempting"),
			 WFS_CLASS_RUNNING);
	assert_int_equal(wfs_class_for_run_state(NULL), WFS_CLASS_RUNNING);
	assert_int_equal(wfs_class_for_run_state("finished"),
			 WFS_CLASS_FINISHED);
	assert_int_equal(wfs_class_for_run_state("crashed"),
			 WFS_CLASS_FINISHED);
	assert_int_equal(wfs_class_for_run_state("killed"), WFS_CLASS_FINISHED);
	assert_true(wfs_cache_ttl(c, WFS_CLASS_LISTING) == 60);
	assert_true(wfs_cache_ttl(c, WFS_CLASS_RUNNING) == 5);
	assert_true(wfs_cache_ttl(c, WFS_CLASS_FINISHED) == 600);
	assert_true(wfs_cache_ttl(c, WFS_CLASS_NEGATIVE) == 30);
	assert_true(wfs_cache_ttl(c, WFS_CLASS_ALIAS) == 2);
	assert_true(wfs_cache_ttl(c, WFS_CLASS_IMMUTABLE) == WFS_TTL_IMMUTABLE);
	assert_true(wfs_cache_max_value(c) == p.max_bytes / 2);
	wfs_cache_free(c);
}

static void test_ttl_expiry(void **state)
{
	struct wfs_cache_policy p = policy();
	struct wfs_cache *c = wfs_cache_new(&p, fake_clock);

	(void)state;
	fake_now = 1000;
	put(c, "running", 10, WFS_CLASS_RUNNING);
	put(c, "finished", 10, WFS_CLASS_FINISHED);
	put(c, "listing", 10, WFS_CLASS_LISTING);
	put(c, "alias", 10, WFS_CLASS_ALIAS);
	put(c, "version", 10, WFS_CLASS_IMMUTABLE);
	assert_int_equal(get(c, "missing", 0), WFS_MISS);
	fake_now = 1002.1;
	assert_int_equal(get(c, "alias", 0), WFS_MISS);

	fake_now = 1004.9;
	assert_int_equal(get(c, "running", 0), WFS_FRESH);
	/* What the kernel may be told: the freshness left, not the TTL. */
	assert_true(left(c, "running") > 0.09 && left(c, "running") < 0.11);
	assert_true(left(c, "listing") > 55 && left(c, "listing") < 55.2);
	fake_now = 1005.1;
	assert_int_equal(get(c, "running", 0), WFS_MISS);
	assert_true(left(c, "running") == 0);
	/* Expired values are still there for whoever wants to compare. */
	assert_int_equal(get(c, "running", WFS_GET_STALE), WFS_STALE);
	assert_int_equal(get(c, "listing", 0), WFS_FRESH);

	fake_now = 1061;
	assert_int_equal(get(c, "listing", 0), WFS_MISS);
	assert_int_equal(get(c, "finished", 0), WFS_FRESH);
	fake_now = 1601;
	assert_int_equal(get(c, "finished", 0), WFS_MISS);
	/* A version never expires (only the memory bound evicts it). */
	fake_now = 1e8;
	assert_int_equal(get(c, "version", 0), WFS_FRESH);

	/* A refill restarts the lifetime. */
	put(c, "running", 10, WFS_CLASS_RUNNING);
	assert_int_equal(get(c, "running", 0), WFS_FRESH);
	wfs_cache_free(c);
}

static void test_negative(void **state)
{
	struct wfs_cache_policy p = policy();
	struct wfs_cache *c;
	struct wfs_cache_stats st;

	(void)state;
	p.max_negative = 3;
	c = wfs_cache_new(&p, fake_clock);
	fake_now = 0;
	put(c, "real", 10, WFS_CLASS_LISTING);
	assert_int_equal(wfs_cache_put_absent(c, ".git"), 0);
	assert_int_equal(get(c, ".git", 0), WFS_ABSENT);
	assert_int_equal(get(c, ".git", WFS_GET_STALE), WFS_ABSENT);
	fake_now = 29;
	assert_int_equal(get(c, ".git", 0), WFS_ABSENT);
	fake_now = 31;
	assert_int_equal(get(c, ".git", 0), WFS_MISS);

	/* The cap evicts the oldest negatives, never positive entries. */
	for (int i = 0; i < 5; i++) {
		char key[8] = { 'n', (char)('0' + i), 0 };

		assert_int_equal(wfs_cache_put_absent(c, key), 0);
	}
	wfs_cache_stats(c, &st);
	assert_int_equal(st.negative, 3);
	assert_int_equal(get(c, "n0", 0), WFS_MISS);
	assert_int_equal(get(c, "n1", 0), WFS_MISS);
	assert_int_equal(get(c, "n2", 0), WFS_ABSENT);
	assert_int_equal(get(c, "n4", 0), WFS_ABSENT);
	fake_now = 32;
	assert_int_equal(get(c, "real", 0), WFS_FRESH);

	/* A positive answer replaces a negative one. */
	put(c, "n4", 10, WFS_CLASS_LISTING);
	assert_int_equal(get(c, "n4", 0), WFS_FRESH);
	wfs_cache_stats(c, &st);
	assert_int_equal(st.negative, 2);
	wfs_cache_free(c);
}

static void test_memory_bound_lru(void **state)
{
	struct wfs_cache_policy p = policy();
	struct wfs_cache *c;
	struct wfs_cache_stats st;

	(void)state;
	/* Room for about four 1000-byte values (plus entry overhead). */
	p.max_bytes = 4600;
	c = wfs_cache_new(&p, fake_clock);
	fake_now = 0;
	freed = 0;
	put(c, "a", 1000, WFS_CLASS_LISTING);
	put(c, "b", 1000, WFS_CLASS_LISTING);
	put(c, "c", 1000, WFS_CLASS_LISTING);
	put(c, "d", 1000, WFS_CLASS_LISTING);
	assert_int_equal(freed, 0);
	/* Touch a: b is now the least recently used. */
	assert_int_equal(get(c, "a", 0), WFS_FRESH);
	put(c, "e", 1000, WFS_CLASS_LISTING);
	assert_int_equal(get(c, "b", 0), WFS_MISS);
	assert_int_equal(freed, 1);
	assert_int_equal(get(c, "a", 0), WFS_FRESH);
	assert_int_equal(get(c, "c", 0), WFS_FRESH);
	assert_int_equal(get(c, "e", 0), WFS_FRESH);
	wfs_cache_stats(c, &st);
	assert_true(st.bytes <= p.max_bytes);
	assert_int_equal(st.evictions, 1);

	/* One value larger than the bound stays (it is what was asked for)
	 * and pushes everything else out. */
	put(c, "huge", 10000, WFS_CLASS_LISTING);
	assert_int_equal(get(c, "huge", 0), WFS_FRESH);
	assert_int_equal(get(c, "a", 0), WFS_MISS);
	wfs_cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	wfs_cache_free(c);
}

static void test_refs_outlive_eviction(void **state)
{
	struct wfs_cache_policy p = policy();
	struct wfs_cache *c = wfs_cache_new(&p, fake_clock);
	struct wfs_obj *held, *o = obj(10);

	(void)state;
	fake_now = 0;
	freed = 0;
	assert_int_equal(wfs_cache_put(c, "k", o, WFS_CLASS_LISTING), 0);
	wfs_obj_unref(o);
	assert_int_equal(wfs_cache_get(c, "k", 0, &held), WFS_FRESH);
	assert_ptr_equal(held, o);
	/* Replaced and dropped from the cache: the holder still has it. */
	put(c, "k", 10, WFS_CLASS_LISTING);
	wfs_cache_drop(c, "k");
	assert_int_equal(freed, 1); /* the replacement */
	assert_int_equal(get(c, "k", 0), WFS_MISS);
	wfs_obj_unref(held);
	assert_int_equal(freed, 2);
	wfs_cache_free(c);
}

static void test_free_releases_all(void **state)
{
	struct wfs_cache_policy p = policy();
	struct wfs_cache *c = wfs_cache_new(&p, fake_clock);

	(void)state;
	freed = 0;
	put(c, "x", 1, WFS_CLASS_LISTING);
	put(c, "y", 1, WFS_CLASS_RUNNING);
	assert_int_equal(wfs_cache_put_absent(c, "z"), 0);
	wfs_cache_free(c);
	assert_int_equal(freed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_classes),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_memory_bound_lru),
		cmocka_unit_test(test_refs_outlive_eviction),
		cmocka_unit_test(test_free_releases_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
