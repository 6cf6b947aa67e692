/* test_fs_fetch.c — the fetch core (fs/fetch.c, fs/fetch_runs.c) driven
 * through wfs_fetch.h with a fake backend and a fake clock, no HTTP:
 * single-flight under concurrency, confirmed absence and the negative
 * cache, TTL expiry per class, how runs are grouped into requests, the
 * read-ahead window over a listing, read-ahead under the cache's memory
 * bound, and read-ahead still queued at unmount.
 *
 * The fake serves one project "e/p" of N runs named r0000, r0001, ...
 * (listed in reverse order, as a server's creation order would differ from
 * name order), records every call, and delivers a fetch's runs from two
 * threads at once, as the client may. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "wfs_fetch.h"

/* ---- the fake clock ------------------------------------------------------- */

static double fake_now = 1000;

static double fake_clock(void)
{
	return fake_now;
}

/* ---- the fake backend ----------------------------------------------------- */

#define CALLS_MAX 4096
#define NAMES_MAX 64

struct call {
	char op; /* 'V' viewer, 'R' runs, 'F' runs_fetch ... */
	unsigned heavy;
	size_t n;
	int first, last;     /* run numbers of the first and last name */
	int nums[NAMES_MAX]; /* run numbers asked for (runs_fetch) */
};

static struct {
	pthread_mutex_t mu;
	int runs;          /* runs in e/p */
	size_t config_pad; /* bytes of padding in each config */
	int fail;          /* next calls fail with -EIO */
	unsigned delay_ms; /* each call sleeps this long */
	int ncalls;
	struct call calls[CALLS_MAX];
	int fetched[2][20000]; /* [config, summary] fetches per run */
} fake = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void fake_reset(int runs, size_t config_pad)
{
	pthread_mutex_lock(&fake.mu);
	fake.runs = runs;
	fake.config_pad = config_pad;
	fake.fail = 0;
	fake.delay_ms = 0;
	fake.ncalls = 0;
	memset(fake.fetched, 0, sizeof(fake.fetched));
	pthread_mutex_unlock(&fake.mu);
}

static struct call *fake_record(char op)
{
	struct call *c;

	pthread_mutex_lock(&fake.mu);
	assert_true(fake.ncalls < CALLS_MAX);
	c = &fake.calls[fake.ncalls++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->first = c->last = -1;
	pthread_mutex_unlock(&fake.mu);
	if (fake.delay_ms)
		usleep(fake.delay_ms * 1000);
	return c;
}

static int ncalls(char op)
{
	int n = 0;

	pthread_mutex_lock(&fake.mu);
	for (int i = 0; i < fake.ncalls; i++)
		n += fake.calls[i].op == op;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

static char *dupf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strdup(buf);
}

/* Run i of e/p: runs whose number is a multiple of 10 are running. */
static struct wb_run *make_run(int i, unsigned heavy)
{
	struct wb_run *r = calloc(1, sizeof(*r));

	r->name = dupf("r%04d", i);
	r->id = dupf("id-%d", i);
	r->state = strdup(i % 10 == 0 ? "running" : "finished");
	r->created_at = strdup("2024-01-02T03:04:05");
	r->heartbeat_at = strdup("2024-01-02T04:04:05");
	r->history_line_count = -1;
	r->project_id = -1;
	r->web_url = dupf("http://app/e/p/runs/r%04d", i);
	r->heavy = heavy;
	if (heavy & WB_RUN_CONFIG) {
		size_t len = fake.config_pad + 64;

		r->config = malloc(len);
		snprintf(r->config, len,
			 "{\"n\": {\"value\": %d}, \"pad\": "
			 "{\"value\": \"%*s\"}}",
			 i, (int)fake.config_pad, "");
	}
	if (heavy & WB_RUN_SUMMARY)
		r->summary = dupf("{\"loss\": %d}", i);
	return r;
}

/* "r0042" -> 42 when it names a run of e/p, else -1. */
static int run_number(const char *name)
{
	int i;
	char tail;

	if (sscanf(name, "r%4d%c", &i, &tail) != 1 || i < 0 || i >= fake.runs ||
	    strlen(name) != 5)
		return -1;
	return i;
}

static int fake_viewer(void *ud, struct wb_viewer **out, struct wb_error *err)
{
	(void)ud, (void)err;
	fake_record('V');
	*out = calloc(1, sizeof(**out));
	(*out)->entity = strdup("e");
	return 0;
}

static int fake_entity(void *ud, const char *name, struct wb_entity **out,
		       struct wb_error *err)
{
	(void)ud, (void)err;
	fake_record('E');
	if (strcmp(name, "e") != 0)
		return -ENOENT;
	*out = calloc(1, sizeof(**out));
	(*out)->name = strdup(name);
	return 0;
}

static int fake_projects(void *ud, const char *entity, wb_project_cb cb,
			 void *cb_ud, struct wb_error *err)
{
	struct wb_project *p;

	(void)ud, (void)err;
	fake_record('P');
	if (strcmp(entity, "e") != 0)
		return -ENOENT;
	p = calloc(1, sizeof(*p));
	p->name = strdup("p");
	p->entity = strdup("e");
	p->run_count = -1;
	p->read_only = -1;
	return cb(cb_ud, p);
}

static int fake_project(void *ud, const char *entity, const char *name,
			struct wb_project **out, struct wb_error *err)
{
	(void)ud, (void)err;
	fake_record('p');
	if (strcmp(entity, "e") != 0 || strcmp(name, "p") != 0)
		return -ENOENT;
	*out = calloc(1, sizeof(**out));
	(*out)->name = strdup(name);
	(*out)->entity = strdup(entity);
	(*out)->run_count = fake.runs;
	(*out)->read_only = 0;
	return 0;
}

static int fake_runs(void *ud, const char *entity, const char *project,
		     wb_run_cb cb, void *cb_ud, struct wb_error *err)
{
	int rc = 0;

	(void)ud, (void)err;
	fake_record('R');
	if (fake.fail)
		return -EIO;
	if (strcmp(entity, "e") != 0 || strcmp(project, "p") != 0)
		return -ENOENT;
	for (int i = fake.runs - 1; !rc && i >= 0; i--)
		rc = cb(cb_ud, make_run(i, 0));
	return rc;
}

/* Half of a fetch's runs, delivered by a second thread. */
struct half {
	int *nums;
	size_t n;
	unsigned heavy;
	wb_run_cb cb;
	void *cb_ud;
	int rc;
};

static void *deliver_half(void *arg)
{
	struct half *h = arg;

	for (size_t i = 0; !h->rc && i < h->n; i++)
		h->rc = h->cb(h->cb_ud, make_run(h->nums[i], h->heavy));
	return NULL;
}

static int fake_runs_fetch(void *ud, const char *entity, const char *project,
			   const char *const *names, size_t n, unsigned heavy,
			   wb_run_cb cb, void *cb_ud, struct wb_error *err)
{
	struct call *c;
	int nums[NAMES_MAX], found = 0;
	struct half a, b;
	pthread_t t;

	(void)ud, (void)err;
	c = fake_record('F');
	assert_true(n <= NAMES_MAX);
	c->heavy = heavy;
	c->n = n;
	for (size_t i = 0; i < n; i++)
		c->nums[i] = run_number(names[i]);
	c->first = c->nums[0];
	c->last = c->nums[n - 1];
	if (fake.fail)
		return -EIO;
	if (strcmp(entity, "e") != 0 || strcmp(project, "p") != 0)
		return -ENOENT;
	pthread_mutex_lock(&fake.mu);
	for (size_t i = 0; i < n; i++) {
		if (c->nums[i] < 0)
			continue; /* no such run: not reported */
		nums[found++] = c->nums[i];
		if (heavy & WB_RUN_CONFIG)
			fake.fetched[0][c->nums[i]]++;
		if (heavy & WB_RUN_SUMMARY)
			fake.fetched[1][c->nums[i]]++;
	}
	pthread_mutex_unlock(&fake.mu);
	a = (struct half){ nums, (size_t)found / 2, heavy, cb, cb_ud, 0 };
	b = (struct half){ nums + found / 2,
			   (size_t)found - (size_t)found / 2,
			   heavy,
			   cb,
			   cb_ud,
			   0 };
	assert_int_equal(pthread_create(&t, NULL, deliver_half, &a), 0);
	deliver_half(&b);
	pthread_join(t, NULL);
	return a.rc ? a.rc : b.rc;
}

/* ---- a fetcher over the fake ----------------------------------------------- */

static struct wfs_cache *cache;
static struct wfs_fetch *fetcher;

static void setup_with(int runs, size_t config_pad, size_t prefetch,
		       size_t max_bytes)
{
	struct wfs_cache_policy pol;
	struct wfs_fetch_config cfg = { 0 };

	fake_reset(runs, config_pad);
	fake_now = 1000;
	wfs_cache_policy_defaults(&pol);
	pol.ttl = 60;
	pol.ttl_running = 5;
	pol.ttl_finished = 600;
	pol.ttl_negative = 30;
	if (max_bytes)
		pol.max_bytes = max_bytes;
	cache = wfs_cache_new(&pol, fake_clock);
	assert_non_null(cache);
	cfg.cache = cache;
	cfg.clock = fake_clock;
	cfg.prefetch_runs = prefetch;
	cfg.workers = 3;
	cfg.backend = (struct wfs_backend){
		.viewer = fake_viewer,
		.entity = fake_entity,
		.projects = fake_projects,
		.project = fake_project,
		.runs = fake_runs,
		.runs_fetch = fake_runs_fetch,
		.batch_heavy = 50,
		.batch_light = 200,
		.max_inflight = 5,
	};
	fetcher = wfs_fetch_new(&cfg);
	assert_non_null(fetcher);
}

static int teardown(void **state)
{
	(void)state;
	wfs_fetch_free(fetcher);
	wfs_cache_free(cache);
	fetcher = NULL;
	cache = NULL;
	return 0;
}

static void list_runs(void)
{
	struct wfs_names *names;

	assert_int_equal(wfs_fetch_runs(fetcher, "e", "p", &names), 0);
	assert_int_equal(names->n, (size_t)fake.runs);
	/* Name order, whatever order the server listed them in. */
	assert_string_equal(names->v[0], "r0000");
	wfs_obj_unref(&names->obj);
}

/* config.json (or summary.json) of run i: its bytes must be its own. */
static int read_file(int i, enum wfs_part part)
{
	struct wfs_run_file *rf;
	char name[16], want[32];
	int rc;

	snprintf(name, sizeof(name), "r%04d", i);
	rc = wfs_fetch_run_file(fetcher, "e", "p", name, part, &rf, NULL);
	if (rc)
		return rc;
	assert_non_null(rf->blob);
	if (part == WFS_PART_CONFIG)
		snprintf(want, sizeof(want), "\"n\": %d,", i);
	else
		snprintf(want, sizeof(want), "\"loss\": %d\n", i);
	assert_non_null(strstr(rf->blob->data, want));
	wfs_obj_unref(&rf->obj);
	return 0;
}

static int read_named(const char *name, enum wfs_part part)
{
	struct wfs_run_file *rf;
	int rc = wfs_fetch_run_file(fetcher, "e", "p", name, part, &rf, NULL);

	if (!rc)
		wfs_obj_unref(&rf->obj);
	return rc;
}

static int read_light(const char *name)
{
	struct wfs_run_rec *rec;
	int rc = wfs_fetch_run(fetcher, "e", "p", name, &rec, NULL);

	if (!rc)
		wfs_obj_unref(&rec->obj);
	return rc;
}

/* ---- single-flight ---------------------------------------------------------- */

#define THREADS 8

static pthread_barrier_t start;
static struct wfs_blob *seen[THREADS];

static void *read_same(void *arg)
{
	size_t k = (size_t)arg;
	struct wfs_run_file *rf;

	pthread_barrier_wait(&start);
	assert_int_equal(wfs_fetch_run_file(fetcher, "e", "p", "r0007",
					    WFS_PART_SUMMARY, &rf, NULL),
			 0);
	seen[k] = rf->blob;
	wfs_obj_unref(&rf->obj);
	return NULL;
}

static void *list_same(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	list_runs();
	return NULL;
}

static void run_threads(void *(*fn)(void *))
{
	pthread_t t[THREADS];

	pthread_barrier_init(&start, NULL, THREADS);
	for (size_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, (void *)i), 0);
	for (size_t i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
}

static void test_single_flight(void **state)
{
	(void)state;
	setup_with(30, 10, 0, 0);
	/* Each call takes long enough for every thread to arrive. */
	fake.delay_ms = 100;
	run_threads(read_same);
	assert_int_equal(ncalls('F'), 1);
	for (size_t i = 1; i < THREADS; i++)
		assert_ptr_equal(seen[i], seen[0]);
	run_threads(list_same);
	assert_int_equal(ncalls('R'), 1);
	teardown(state);
}

/* ---- absence ------------------------------------------------------------------- */

static void test_absence_and_negative_cache(void **state)
{
	(void)state;
	setup_with(30, 10, 0, 0);
	/* No listing around: the server is asked, and its silence about the
	 * run confirms the absence. */
	assert_int_equal(read_light("nope"), -ENOENT);
	assert_int_equal(ncalls('F'), 1);
	/* Remembered, for every part of the run. */
	assert_int_equal(read_light("nope"), -ENOENT);
	assert_int_equal(read_named("nope", WFS_PART_CONFIG), -ENOENT);
	assert_int_equal(ncalls('F'), 1);
	/* ... until the negative TTL passes. */
	fake_now += 31;
	assert_int_equal(read_light("nope"), -ENOENT);
	assert_int_equal(ncalls('F'), 2);

	/* A failed call confirms nothing: not cached as absent. */
	fake.fail = 1;
	assert_int_equal(read_file(3, WFS_PART_CONFIG), -EIO);
	assert_int_equal(read_file(3, WFS_PART_CONFIG), -EIO);
	assert_int_equal(ncalls('F'), 4);
	fake.fail = 0;
	assert_int_equal(read_file(3, WFS_PART_CONFIG), 0);

	/* A fresh listing is authoritative: a name missing from it costs no
	 * request. */
	list_runs();
	assert_int_equal(read_light("r9999"), -ENOENT);
	assert_int_equal(read_named("r9998", WFS_PART_SUMMARY), -ENOENT);
	assert_int_equal(ncalls('F'), 5);
	/* Entities and projects: absent ones are remembered too. */
	assert_int_equal(wfs_fetch_entity(fetcher, "ghost"), -ENOENT);
	assert_int_equal(wfs_fetch_entity(fetcher, "ghost"), -ENOENT);
	assert_int_equal(ncalls('E'), 1);
	teardown(state);
}

/* ---- lifetimes ------------------------------------------------------------------ */

static void test_ttl_per_class(void **state)
{
	struct wfs_run_file *rf;
	double ttl;

	(void)state;
	/* prefetch 1: one run per request, so every fetch is visible. */
	setup_with(30, 10, 1, 0);
	assert_int_equal(read_file(10, WFS_PART_CONFIG), 0); /* running */
	assert_int_equal(read_file(11, WFS_PART_CONFIG), 0); /* finished */
	list_runs();
	assert_int_equal(ncalls('F'), 2);
	assert_int_equal(ncalls('R'), 1);

	fake_now += 4;
	assert_int_equal(wfs_fetch_run_file(fetcher, "e", "p", "r0010",
					    WFS_PART_CONFIG, &rf, &ttl),
			 0);
	wfs_obj_unref(&rf->obj);
	/* The kernel is told what is left of the freshness, not a full TTL. */
	assert_true(ttl > 0.9 && ttl < 1.1);
	assert_int_equal(ncalls('F'), 2);

	fake_now += 1.5; /* running: 5.5 s old */
	assert_int_equal(read_file(10, WFS_PART_CONFIG), 0);
	assert_int_equal(read_file(11, WFS_PART_CONFIG), 0);
	assert_int_equal(ncalls('F'), 3);
	assert_int_equal(wfs_fetch_run_file(fetcher, "e", "p", "r0010",
					    WFS_PART_CONFIG, &rf, &ttl),
			 0);
	wfs_obj_unref(&rf->obj);
	assert_true(ttl > 4.9 && ttl <= 5);

	fake_now += 55; /* listing: 60.5 s old; finished run: 60.5 s */
	list_runs();
	assert_int_equal(ncalls('R'), 2);
	assert_int_equal(read_file(11, WFS_PART_CONFIG), 0);
	assert_int_equal(ncalls('F'), 3);

	fake_now += 540; /* finished run: 600.5 s old */
	assert_int_equal(read_file(11, WFS_PART_CONFIG), 0);
	assert_int_equal(ncalls('F'), 4);
	teardown(state);
}

/* ---- grouping ------------------------------------------------------------------- */

static void assert_call(int k, int first, int last, size_t n, unsigned heavy)
{
	struct call *c = &fake.calls[k];

	assert_int_equal(c->op, 'F');
	assert_int_equal(c->first, first);
	assert_int_equal(c->last, last);
	assert_int_equal(c->n, n);
	assert_int_equal(c->heavy, heavy);
}

static void test_batch_grouping(void **state)
{
	int k;

	(void)state;
	/* prefetch 50: groups of 50, no read-ahead. */
	setup_with(120, 10, 50, 0);
	list_runs();
	k = fake.ncalls;
	/* The run's block of the listing, the run first; only the field the
	 * file shows. */
	assert_int_equal(read_file(7, WFS_PART_CONFIG), 0);
	assert_int_equal(fake.ncalls, k + 1);
	assert_call(k, 7, 49, 50, WB_RUN_CONFIG);
	assert_int_equal(fake.calls[k].nums[1], 0);
	/* The same block for summary.json: config is there already. */
	assert_int_equal(read_file(3, WFS_PART_SUMMARY), 0);
	assert_call(k + 1, 3, 49, 50, WB_RUN_SUMMARY);
	/* Blocks are aligned: run 75 is in 50..99; the last block is short. */
	assert_int_equal(read_file(75, WFS_PART_CONFIG), 0);
	assert_call(k + 2, 75, 99, 50, WB_RUN_CONFIG);
	assert_int_equal(read_file(110, WFS_PART_CONFIG), 0);
	assert_call(k + 3, 110, 119, 20, WB_RUN_CONFIG);
	/* Everything of those blocks is served from the cache now. */
	for (int i = 0; i < 50; i++)
		assert_int_equal(read_file(i, WFS_PART_SUMMARY), 0);
	for (int i = 0; i < 120; i++)
		assert_int_equal(read_file(i, WFS_PART_CONFIG), 0);
	assert_int_equal(fake.ncalls, k + 4);

	/* Light records of running runs expire first; one light request
	 * refreshes those of the run's block, nothing else (light groups are
	 * capped by the prefetch bound too: 50 runs here). */
	fake_now += 5.5;
	assert_int_equal(read_light("r0030"), 0);
	assert_int_equal(fake.ncalls, k + 5);
	assert_int_equal(fake.calls[k + 4].n, 5);
	assert_int_equal(fake.calls[k + 4].first, 30);
	assert_int_equal(fake.calls[k + 4].heavy, 0);
	for (int j = 0; j < 5; j++)
		assert_int_equal(fake.calls[k + 4].nums[j] % 10, 0);
	teardown(state);
}

/* ---- read-ahead ------------------------------------------------------------------ */

/* Highest run number any fetch asked for so far. */
static int frontier(void)
{
	int hi = -1;

	pthread_mutex_lock(&fake.mu);
	for (int i = 0; i < fake.ncalls; i++)
		for (size_t j = 0; j < fake.calls[i].n; j++)
			if (fake.calls[i].nums[j] > hi)
				hi = fake.calls[i].nums[j];
	pthread_mutex_unlock(&fake.mu);
	return hi;
}

/* Each of the last `runs` runs was fetched once. */
static void assert_each_fetched_once(int runs, int part)
{
	for (int i = 0; i < fake.runs; i++)
		assert_int_equal(fake.fetched[part][i], i >= fake.runs - runs);
}

static void test_readahead_sequential(void **state)
{
	int lead, k;

	(void)state;
	setup_with(1000, 10, 1000, 0);
	list_runs();
	k = fake.ncalls;
	/* The first access right after a listing reads several groups
	 * ahead at once. */
	assert_int_equal(read_file(0, WFS_PART_CONFIG), 0);
	wfs_fetch_drain(fetcher);
	lead = frontier();
	assert_true(lead >= 4 * 50 - 1);
	assert_true(fake.ncalls - k >= 5);
	/* Walking on: the window grows (up to the runs allowed), nothing is
	 * fetched twice, and nothing past the end of the listing. */
	for (int i = 1; i < 1000; i++) {
		assert_int_equal(read_file(i, WFS_PART_CONFIG), 0);
		wfs_fetch_drain(fetcher);
		assert_true(frontier() - i <= 1000 + 50);
		if (i == 300)
			assert_true(frontier() - i > lead);
	}
	assert_int_equal(frontier(), 999);
	assert_each_fetched_once(1000, 0);
	for (int i = k; i < fake.ncalls; i++) {
		assert_int_equal(fake.calls[i].heavy, WB_RUN_CONFIG);
		assert_true(fake.calls[i].n <= 50);
	}
	assert_int_equal(fake.ncalls - k, 1000 / 50);
	/* A second pass finds everything cached. */
	k = fake.ncalls;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(read_file(i, WFS_PART_CONFIG), 0);
	wfs_fetch_drain(fetcher);
	assert_int_equal(fake.ncalls, k);
	teardown(state);
}

static void test_readahead_window_grows(void **state)
{
	int prev_lead = 0;

	(void)state;
	/* A walk that does not start the listing: no head start, then the
	 * window doubles with each group the reader enters, up to the 400
	 * runs allowed. */
	setup_with(2000, 10, 400, 0);
	list_runs();
	for (int i = 100; i < 2000; i++) {
		assert_int_equal(read_file(i, WFS_PART_CONFIG), 0);
		wfs_fetch_drain(fetcher);
		if (i % 50 == 0) {
			int lead = frontier() - i;

			if (i <= 300)
				assert_true(lead > prev_lead);
			assert_true(lead <= 400 + 50);
			prev_lead = lead;
		}
	}
	assert_int_equal(prev_lead, 1999 - 1950);
	assert_each_fetched_once(2000 - 100, 0);
	teardown(state);
}

static void test_readahead_random(void **state)
{
	static const int order[] = { 530, 120, 870, 310, 990, 45, 660 };
	int k;

	(void)state;
	setup_with(1000, 10, 400, 0);
	list_runs();
	k = fake.ncalls;
	/* Scattered reads fetch the group around each run only. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int blk = order[i] - order[i] % 50;

		assert_int_equal(read_file(order[i], WFS_PART_SUMMARY), 0);
		wfs_fetch_drain(fetcher);
		assert_int_equal(fake.ncalls, k + (int)i + 1);
		assert_int_equal(fake.calls[k + i].first, order[i]);
		assert_int_equal(fake.calls[k + i].n, 50);
		for (size_t j = 0; j < 50; j++)
			assert_true(fake.calls[k + i].nums[j] >= blk &&
				    fake.calls[k + i].nums[j] < blk + 50);
	}
	teardown(state);
}

static void test_readahead_two_files(void **state)
{
	(void)state;
	/* find / ls -l runs/RUN/: each run's config and summary in turn. Once
	 * both are read, groups bring both. */
	setup_with(600, 10, 300, 0);
	list_runs();
	for (int i = 0; i < 600; i++) {
		assert_int_equal(read_file(i, WFS_PART_CONFIG), 0);
		assert_int_equal(read_file(i, WFS_PART_SUMMARY), 0);
		wfs_fetch_drain(fetcher);
	}
	assert_each_fetched_once(600, 0);
	assert_each_fetched_once(600, 1);
	for (int i = 0; i < fake.ncalls; i++)
		if (fake.calls[i].op == 'F' && fake.calls[i].first >= 400)
			assert_int_equal(fake.calls[i].heavy,
					 WB_RUN_CONFIG | WB_RUN_SUMMARY);
	teardown(state);
}

/* ---- the memory bound ------------------------------------------------------------- */

static void test_readahead_within_memory_bound(void **state)
{
	struct wfs_cache_stats st;

	(void)state;
	/* Runs of ~4 KB in the cache (record and config) under a 2 MB
	 * bound: read-ahead may cover a quarter of it, a hundred runs or so,
	 * or it would evict what it fetched before the reader got there (and
	 * fetch it again). */
	setup_with(1000, 2000, 1000, 2 << 20);
	list_runs();
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(read_file(i, WFS_PART_CONFIG), 0);
		wfs_fetch_drain(fetcher);
		assert_true(frontier() - i <= 200);
	}
	assert_each_fetched_once(1000, 0);
	wfs_cache_stats(cache, &st);
	assert_true(st.bytes <= (2 << 20));
	assert_true(st.evictions > 0);
	teardown(state);
}

/* ---- shutdown -------------------------------------------------------------------- */

static void test_free_cancels_queued_readahead(void **state)
{
	(void)state;
	/* Slow requests, few threads: at unmount most read-ahead is still
	 * queued. It is dropped unsent, and nothing waits or leaks. */
	setup_with(2000, 10, 1000, 0);
	list_runs();
	fake.delay_ms = 40;
	assert_int_equal(read_file(0, WFS_PART_CONFIG), 0);
	teardown(state);
	assert_true(ncalls('F') < 1 + 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_flight),
		cmocka_unit_test(test_absence_and_negative_cache),
		cmocka_unit_test(test_ttl_per_class),
		cmocka_unit_test(test_batch_grouping),
		cmocka_unit_test(test_readahead_sequential),
		cmocka_unit_test(test_readahead_window_grows),
		cmocka_unit_test(test_readahead_random),
		cmocka_unit_test(test_readahead_two_files),
		cmocka_unit_test(test_readahead_within_memory_bound),
		cmocka_unit_test(test_free_cancels_queued_readahead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
