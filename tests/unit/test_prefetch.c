/* test_prefetch.c — fs/data/prefetch.c with a fake range source: sequential
 * windows that grow into parallel requests, random reads that stay small,
 * the memory bound, the end of an object, errors reaching the reader (and a
 * later read retrying), concurrent readers, preloads, the first byte of a
 * huge object, and cancellation when the last reference goes. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "wfs_prefetch.h"

#define KiB ((int64_t)1 << 10)
#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)

/* The byte at offset off of every fake object: position-dependent, so a
 * misplaced copy shows. */
static unsigned char byte_at(int64_t off)
{
	return (unsigned char)(off * 131 + (off >> 12) * 7 + (off >> 20));
}

struct fake {
	int64_t size;
	unsigned latency_us; /* before the first byte of each fetch */
	unsigned piece;      /* bytes per put (0 = 16 KiB) */
	atomic_int inflight, peak;
	atomic_llong fetches, bytes, max_len, min_len;
	atomic_llong fail_at; /* fetches covering this offset fail; -1 */
	atomic_int released;
	atomic_int cancelled;
	atomic_llong landed_bytes;
};

static void fake_init(struct fake *f, int64_t size)
{
	memset(f, 0, sizeof(*f));
	f->size = size;
	atomic_init(&f->fail_at, -1);
	atomic_init(&f->min_len, INT64_MAX);
}

static int fake_fetch(void *ud, int64_t off, size_t len, wfs_pf_put_fn put,
		      void *pud)
{
	struct fake *f = ud;
	unsigned char piece[16384];
	size_t step = f->piece ? f->piece : sizeof(piece);
	int now = atomic_fetch_add(&f->inflight, 1) + 1;
	int64_t fa = atomic_load(&f->fail_at);
	int rc = 0;

	for (int p = atomic_load(&f->peak);
	     now > p && !atomic_compare_exchange_weak(&f->peak, &p, now);)
		;
	atomic_fetch_add(&f->fetches, 1);
	for (long long m = atomic_load(&f->max_len); (long long)len > m &&
	     !atomic_compare_exchange_weak(&f->max_len, &m, (long long)len);)
		;
	for (long long m = atomic_load(&f->min_len); (long long)len < m &&
	     !atomic_compare_exchange_weak(&f->min_len, &m, (long long)len);)
		;
	assert_true(off >= 0 && off + (int64_t)len <= f->size);
	if (f->latency_us)
		usleep(f->latency_us);
	if (fa >= off && fa < off + (int64_t)len) {
		rc = -EIO;
		goto out;
	}
	for (size_t done = 0; done < len;) {
		size_t n = len - done < step ? len - done : step;

		for (size_t i = 0; i < n; i++)
			piece[i] = byte_at(off + (int64_t)(done + i));
		/* Counted first: the reader may return as soon as put does. */
		atomic_fetch_add(&f->bytes, (long long)n);
		if (put(pud, piece, n)) {
			atomic_fetch_add(&f->cancelled, 1);
			rc = -ECANCELED;
			goto out;
		}
		done += n;
	}
out:
	atomic_fetch_sub(&f->inflight, 1);
	return rc;
}

static void fake_landed(void *ud, int64_t off, const void *data, size_t len)
{
	struct fake *f = ud;
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i += 4093)
		assert_int_equal(p[i], byte_at(off + (int64_t)i));
	atomic_fetch_add(&f->landed_bytes, (long long)len);
}

static void fake_release(void *ud)
{
	struct fake *f = ud;

	atomic_fetch_add(&f->released, 1);
}

static const struct wfs_pf_source fake_src = {
	fake_fetch,
	fake_landed,
	fake_release,
};

static struct wfs_pf *pool(size_t budget)
{
	struct wfs_pf_opts o = { .mem_budget = budget };
	struct wfs_pf *pf;

	assert_int_equal(wfs_pf_new(&o, &pf), 0);
	return pf;
}

static struct wfs_pf_obj *object(struct wfs_pf *pf, struct fake *f)
{
	struct wfs_pf_obj *o;

	assert_int_equal(wfs_pf_obj_new(pf, f->size, &fake_src, f, &o), 0);
	return o;
}

static void check_bytes(const unsigned char *buf, int64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != byte_at(off + (int64_t)i))
			fail_msg("byte %lld: %u, expected %u",
				 (long long)(off + (int64_t)i), buf[i],
				 byte_at(off + (int64_t)i));
}

static void read_ok(struct wfs_pf_reader *r, int64_t off, size_t len,
		    size_t expect)
{
	unsigned char *buf = malloc(len ? len : 1);
	size_t got = 12345;

	assert_non_null(buf);
	assert_int_equal(wfs_pf_read(r, buf, len, off, &got), 0);
	assert_int_equal(got, expect);
	check_bytes(buf, off, got);
	free(buf);
}

/* Close everything and check the source was released exactly once. */
static void finish(struct wfs_pf *pf, struct wfs_pf_obj *o,
		   struct wfs_pf_reader *r, struct fake *f)
{
	wfs_pf_reader_free(r);
	wfs_pf_obj_unref(o);
	wfs_pf_free(pf);
	assert_int_equal(atomic_load(&f->released), 1);
}

/* A sequential reader: the window grows into big chunks fetched by many
 * requests at once; every byte is fetched once; the disk-cache hook sees
 * every byte. */
static void test_sequential_growth(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;
	struct wfs_pf_stats st;

	(void)state;
	fake_init(&f, 256 * MiB + 12345);
	f.latency_us = 2000;
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	for (int64_t off = 0; off < f.size; off += 128 * KiB)
		read_ok(r, off, 128 * KiB,
			off + 128 * KiB <= f.size ? 128 * KiB
						  : (size_t)(f.size - off));
	/* The first requests are small (first byte fast), the later ones
	 * big; several ran at once. */
	assert_true(atomic_load(&f.min_len) <= 256 * KiB);
	assert_true(atomic_load(&f.max_len) >= 4 * MiB);
	assert_true(atomic_load(&f.peak) >= 8);
	/* Nothing fetched twice, nothing far beyond the end was asked. */
	assert_int_equal(atomic_load(&f.bytes), f.size);
	/* Fewer requests than a fixed small chunk size would need. */
	assert_true(atomic_load(&f.fetches) < f.size / MiB);
	wfs_pf_get_stats(pf, &st);
	assert_true(st.mem_peak <= st.mem_budget);
	wfs_pf_reader_free(r);
	/* Every chunk landed whole, once (landing runs behind the
	 * reader, on its own thread). */
	for (int i = 0; i < 5000 && atomic_load(&f.landed_bytes) < f.size; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&f.landed_bytes), f.size);
	wfs_pf_obj_unref(o);
	wfs_pf_free(pf);
	assert_int_equal(atomic_load(&f.released), 1);
}

/* Random 4 KiB reads fetch a few times what they read, not windows. */
static void test_random_stays_small(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;
	unsigned seed = 7;
	int64_t read = 0;

	(void)state;
	fake_init(&f, 2 * GiB);
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	for (int i = 0; i < 500; i++) {
		int64_t off = ((int64_t)rand_r(&seed) << 16 ^ rand_r(&seed)) %
				(f.size / 4096 - 1) * 4096 +
			4096;

		read_ok(r, off, 4096, 4096);
		read += 4096;
	}
	assert_true(atomic_load(&f.bytes) <= 4 * read);
	assert_true(atomic_load(&f.max_len) <= 64 * KiB);
	finish(pf, o, r, &f);
}

/* After a random read, reading on from where it stopped becomes
 * sequential: the window opens. */
static void test_random_then_sequential(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;

	(void)state;
	fake_init(&f, 64 * MiB);
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	read_ok(r, 10 * MiB, 4096, 4096);
	assert_true(atomic_load(&f.max_len) <= 64 * KiB);
	for (int64_t off = 10 * MiB + 4096; off < 20 * MiB; off += 128 * KiB)
		read_ok(r, off, 128 * KiB, 128 * KiB);
	assert_true(atomic_load(&f.max_len) >= 512 * KiB);
	finish(pf, o, r, &f);
}

struct seq_job {
	struct wfs_pf_obj *o;
	int64_t from, to;
	size_t step;
	int rc;
};

static void *seq_thread(void *arg)
{
	struct seq_job *j = arg;
	struct wfs_pf_reader *r;
	unsigned char *buf = malloc(j->step);

	j->rc = buf ? wfs_pf_reader_new(j->o, &r) : -ENOMEM;
	for (int64_t off = j->from; !j->rc && off < j->to;
	     off += (int64_t)j->step) {
		size_t got;

		j->rc = wfs_pf_read(r, buf, j->step, off, &got);
		if (!j->rc && got != j->step)
			j->rc = -ERANGE;
		for (size_t i = 0; !j->rc && i < got; i++)
			if (buf[i] != byte_at(off + (int64_t)i))
				j->rc = -EBADMSG;
	}
	if (buf)
		wfs_pf_reader_free(r);
	free(buf);
	return NULL;
}

/* Several sequential readers of several objects under a small budget:
 * memory never exceeds it, every byte is right, and no reader's
 * read-ahead is dropped by another's. */
static void test_memory_bound(void **state)
{
	const size_t budget = 8 * MiB;
	struct wfs_pf *pf = pool(budget);
	struct fake f[3];
	struct wfs_pf_obj *o[3];
	struct seq_job j[4];
	pthread_t t[4];
	struct wfs_pf_stats st;

	(void)state;
	for (int i = 0; i < 3; i++) {
		fake_init(&f[i], 48 * MiB);
		f[i].latency_us = 300;
		o[i] = object(pf, &f[i]);
	}
	for (int i = 0; i < 4; i++) {
		j[i] = (struct seq_job){ o[i % 3], i == 3 ? 16 * MiB : 0,
					 48 * MiB, 128 * KiB, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, seq_thread, &j[i]),
				 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(j[i].rc, 0);
	}
	wfs_pf_get_stats(pf, &st);
	assert_true(st.mem_peak <= budget);
	assert_true(st.mem_peak > 0);
	/* Each reader keeps to its share: the objects read by one reader
	 * each were fetched once, not again after a neighbour dropped their
	 * read-ahead (the object read at two places may be). */
	for (int i = 1; i < 3; i++)
		assert_true(atomic_load(&f[i].bytes) <= f[i].size * 21 / 20);
	for (int i = 0; i < 3; i++)
		wfs_pf_obj_unref(o[i]);
	/* Fetches still running were cancelled, landings left undone; their
	 * chunks go with them. */
	for (int i = 0; i < 5000; i++) {
		wfs_pf_get_stats(pf, &st);
		if (!st.running && !st.landing)
			break;
		usleep(1000);
	}
	assert_int_equal(st.mem_used, 0);
	wfs_pf_free(pf);
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&f[i].released), 1);
}

/* One read bigger than the whole budget still completes. */
static void test_read_bigger_than_budget(void **state)
{
	struct wfs_pf *pf = pool(1 * MiB);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;
	struct wfs_pf_stats st;

	(void)state;
	fake_init(&f, 8 * MiB);
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	read_ok(r, 100, 5 * MiB, 5 * MiB);
	wfs_pf_get_stats(pf, &st);
	assert_true(st.mem_peak <= 1 * MiB);
	finish(pf, o, r, &f);
}

/* Reads at and past the end, an empty object, a read across the end. */
static void test_eof(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f, e;
	struct wfs_pf_obj *o, *oe;
	struct wfs_pf_reader *r, *re;

	(void)state;
	fake_init(&f, 1000);
	fake_init(&e, 0);
	o = object(pf, &f);
	oe = object(pf, &e);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	assert_int_equal(wfs_pf_reader_new(oe, &re), 0);
	read_ok(r, 900, 200, 100);
	read_ok(r, 0, 4096, 1000);
	read_ok(r, 1000, 10, 0);
	read_ok(r, 5000, 10, 0);
	read_ok(r, 999, 1, 1);
	read_ok(re, 0, 4096, 0);
	assert_int_equal(atomic_load(&e.fetches), 0);
	assert_int_equal(atomic_load(&f.bytes), 1000);
	wfs_pf_reader_free(re);
	wfs_pf_obj_unref(oe);
	finish(pf, o, r, &f);
	assert_int_equal(atomic_load(&e.released), 1);
}

/* A failing fetch fails the read (no data, the source's errno); once the
 * source recovers, the same read succeeds. */
static void test_error_propagation(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;
	unsigned char buf[8192];
	size_t got = 77;

	(void)state;
	fake_init(&f, 32 * MiB);
	atomic_store(&f.fail_at, 3 * MiB + 5);
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	read_ok(r, 0, 8192, 8192);
	for (int64_t off = 8192; off < 3 * MiB - 8192; off += 8192)
		read_ok(r, off, 8192, 8192);
	assert_int_equal(wfs_pf_read(r, buf, 8192, 3 * MiB, &got), -EIO);
	assert_int_equal(got, 0);
	assert_int_equal(wfs_pf_read(r, buf, 8192, 3 * MiB, &got), -EIO);
	atomic_store(&f.fail_at, -1);
	read_ok(r, 3 * MiB, 8192, 8192);
	read_ok(r, 3 * MiB + 8192, 8192, 8192);
	finish(pf, o, r, &f);
}

/* Several threads, each with its own reader of one object, and two
 * threads sharing one reader at different places. */
struct shared_job {
	struct wfs_pf_reader *r;
	int64_t from, to;
	int rc;
};

static void *shared_thread(void *arg)
{
	struct shared_job *j = arg;
	unsigned char buf[65536];

	for (int64_t off = j->from; !j->rc && off < j->to; off += 65536) {
		size_t got;

		j->rc = wfs_pf_read(j->r, buf, sizeof(buf), off, &got);
		if (!j->rc && got != sizeof(buf))
			j->rc = -ERANGE;
		for (size_t i = 0; !j->rc && i < got; i++)
			if (buf[i] != byte_at(off + (int64_t)i))
				j->rc = -EBADMSG;
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	struct wfs_pf *pf = pool(32 * MiB);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;
	struct seq_job j[4];
	struct shared_job s[2];
	pthread_t t[6];

	(void)state;
	fake_init(&f, 40 * MiB);
	f.latency_us = 500;
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	for (int i = 0; i < 4; i++) {
		j[i] = (struct seq_job){ o, i * 5 * MiB, 40 * MiB,
					 (size_t)(i + 1) * 32 * KiB, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, seq_thread, &j[i]),
				 0);
	}
	for (int i = 0; i < 2; i++) {
		s[i] = (struct shared_job){ r, i * 20 * MiB, (i + 1) * 20 * MiB,
					    0 };
		assert_int_equal(pthread_create(&t[4 + i], NULL, shared_thread,
						&s[i]),
				 0);
	}
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(j[i].rc, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(s[i].rc, 0);
	finish(pf, o, r, &f);
}

/* A preloaded object is read without another fetch; a preload that does
 * not fit is refused rather than dropping unread data. */
static void test_preload(void **state)
{
	struct wfs_pf *pf = pool(1 * MiB);
	struct fake f, g;
	struct wfs_pf_obj *o, *og;
	struct wfs_pf_reader *r;

	(void)state;
	fake_init(&f, 300 * KiB);
	fake_init(&g, 900 * KiB);
	o = object(pf, &f);
	og = object(pf, &g);
	assert_int_equal(wfs_pf_preload(o, 0, (size_t)f.size), 0);
	for (int i = 0; i < 1000 && !wfs_pf_cached(o, 0, (size_t)f.size); i++)
		usleep(1000);
	assert_true(wfs_pf_cached(o, 0, (size_t)f.size));
	assert_int_equal(wfs_pf_preload(og, 0, (size_t)g.size), -ENOBUFS);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	read_ok(r, 0, 128 * KiB, 128 * KiB);
	read_ok(r, 128 * KiB, 256 * KiB, 172 * KiB);
	assert_int_equal(atomic_load(&f.fetches), 1);
	wfs_pf_obj_unref(og);
	finish(pf, o, r, &f);
}

/* The first bytes of a 10 GiB object come back having fetched only the
 * first window. */
static void test_first_byte(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f;
	struct wfs_pf_obj *o;
	struct wfs_pf_reader *r;

	(void)state;
	fake_init(&f, 10 * GiB);
	o = object(pf, &f);
	assert_int_equal(wfs_pf_reader_new(o, &r), 0);
	read_ok(r, 0, 4096, 4096);
	wfs_pf_reader_free(r);
	wfs_pf_obj_unref(o);
	wfs_pf_free(pf);
	assert_true(atomic_load(&f.bytes) <= 2 * MiB);
	assert_int_equal(atomic_load(&f.released), 1);
}

/* Dropping the last reference cancels a fetch in flight; the source is
 * released after it returns. */
static void test_cancel(void **state)
{
	struct wfs_pf *pf = pool(0);
	struct fake f;
	struct wfs_pf_obj *o;

	(void)state;
	fake_init(&f, 8 * MiB);
	f.piece = 1024;
	f.latency_us = 20000;
	o = object(pf, &f);
	assert_int_equal(wfs_pf_preload(o, 0, 8 * MiB), 0);
	usleep(5000);
	wfs_pf_obj_unref(o);
	wfs_pf_free(pf);
	assert_int_equal(atomic_load(&f.released), 1);
	assert_true(atomic_load(&f.bytes) < 8 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential_growth),
		cmocka_unit_test(test_random_stays_small),
		cmocka_unit_test(test_random_then_sequential),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_read_bigger_than_budget),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_error_propagation),
		cmocka_unit_test(test_concurrent_readers),
		cmocka_unit_test(test_preload),
		cmocka_unit_test(test_first_byte),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
