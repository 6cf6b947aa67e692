/* test_client_core.c — the client handle without a server: the parallel
 * fan-out (every job once, bounded concurrency, first failure reported),
 * web URLs (percent-encoding like Python's quote(safe="")), and wb_gql()'s
 * refusal of an operation that is not in client/queries/. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "wb_client.h"
#include "wb_queries.h"

static struct wb_client *client_with(const char *base, const char *app,
				     int inflight)
{
	struct wb_settings s = { .base_url = (char *)base,
				 .app_url = (char *)app };
	struct wb_http_opts o = { .max_inflight = inflight, .max_retries = -1 };
	struct wb_client *c = NULL;
	struct wb_error err = { 0 };

	assert_int_equal(wb_client_new(&s, &o, &c, &err), 0);
	assert_non_null(c);
	return c;
}

struct fan {
	pthread_mutex_t lock;
	int running, max_running;
	int *hits;
	size_t fail_at; /* job index that fails, or (size_t)-1 */
};

static int fan_job(void *ud, size_t i)
{
	struct fan *f = ud;
	struct timespec ts = { 0, 2000000 }; /* long enough to overlap */

	pthread_mutex_lock(&f->lock);
	f->hits[i]++;
	if (++f->running > f->max_running)
		f->max_running = f->running;
	pthread_mutex_unlock(&f->lock);
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&f->lock);
	f->running--;
	pthread_mutex_unlock(&f->lock);
	return i == f->fail_at ? -EIO : 0;
}

static void run_fan(int inflight, size_t n, size_t fail_at, int want_rc)
{
	struct wb_client *c = client_with("http://127.0.0.1:9", NULL, inflight);
	struct fan f = { .fail_at = fail_at };

	pthread_mutex_init(&f.lock, NULL);
	f.hits = calloc(n ? n : 1, sizeof(*f.hits));
	assert_int_equal(wb_client_parallel(c, n, fan_job, &f), want_rc);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(f.hits[i],
				 1); /* every job once, even after a failure */
	assert_true(f.max_running <= inflight);
	if (n >= (size_t)inflight && inflight > 1)
		assert_true(f.max_running > 1); /* really parallel */
	free(f.hits);
	pthread_mutex_destroy(&f.lock);
	wb_client_free(c);
}

static void test_parallel(void **state)
{
	(void)state;
	run_fan(4, 0, (size_t)-1, 0);
	run_fan(4, 1, (size_t)-1, 0);
	run_fan(4, 40, (size_t)-1, 0);
	run_fan(1, 10, (size_t)-1, 0);
	run_fan(3, 30, 17, -EIO);
	run_fan(16, 5, 0, -EIO);
}

static void expect_url(const char *want, char *got)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_web_url(void **state)
{
	struct wb_client *c = client_with("https://api.example.com/",
					  "https://app.example.com", 2);

	(void)state;
	assert_string_equal(wb_client_base_url(c), "https://api.example.com");
	assert_string_equal(wb_client_app_url(c), "https://app.example.com");
	expect_url("https://app.example.com/ent/proj/workspace",
		   wb_client_web_url(c, "ent", "proj", "workspace", NULL));
	/* quote(s, safe=""): only A-Z a-z 0-9 - . _ ~ stay */
	expect_url("https://app.example.com/a%20b/p%2Fq%3A%23%3F%25/runs/"
		   "x~y_z-1.2",
		   wb_client_web_url(c, "a b", "p/q:#?%", "runs", "x~y_z-1.2",
				     NULL));
	expect_url("https://app.example.com/%C3%BC%E6%B5%8B",
		   wb_client_web_url(c, "\xc3\xbc\xe6\xb5\x8b", NULL));
	expect_url("https://app.example.com", wb_client_web_url(c, NULL));
	wb_client_free(c);
}

static void test_gql_unknown_operation(void **state)
{
	struct wb_client *c = client_with("http://127.0.0.1:9", NULL, 2);
	struct wb_error err = { 0 };
	cJSON *vars = cJSON_CreateObject(), *data = (cJSON *)&err;

	(void)state;
	cJSON_AddStringToObject(vars, "x", "y"); /* freed by wb_gql */
	assert_null(wb_query_find("NoSuchOperation"));
	assert_int_equal(wb_gql(c, "NoSuchOperation", vars, &data, &err),
			 -EINVAL);
	assert_null(data);
	assert_int_equal(err.code, -EINVAL);
	assert_non_null(strstr(err.msg, "NoSuchOperation"));
	wb_client_free(c);
}

static void test_queries_table(void **state)
{
	(void)state;
	assert_true(wb_query_docs_count > 0);
	for (size_t i = 0; i < wb_query_docs_count; i++) {
		const struct wb_query_doc *d = &wb_query_docs[i];

		assert_ptr_equal(wb_query_find(d->name), d);
		assert_non_null(strstr(d->text, d->name));
	}
	for (const char *const *n =
		     (const char *const[]){ "Viewer", "Entity", "Projects",
					    "Project", "Runs", "Run", NULL };
	     *n; n++)
		assert_non_null(wb_query_find(*n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_web_url),
		cmocka_unit_test(test_gql_unknown_operation),
		cmocka_unit_test(test_queries_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
