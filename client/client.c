/* client.c — the client handle (settings + HTTP pool), web URLs built from
 * it, and the bounded thread fan-out used by batched fetches. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api_util.h"
#include "wb_client.h"
#include "wb_log.h"

#define WB_DEFAULT_INFLIGHT 12 /* wb_http's default, see wb_http.h */

struct wb_client {
	char *base_url;
	char *app_url;
	struct wb_http *http;
	int max_inflight;
};

int wb_client_new(const struct wb_settings *settings,
		  const struct wb_http_opts *http, struct wb_client **out,
		  struct wb_error *err)
{
	struct wb_http_opts opts = { .max_retries =
					     -1 }; /* -1: default retries */
	struct wb_client *c;
	int rc;

	*out = NULL;
	if (http)
		opts = *http;
	if (!opts.base_url)
		opts.base_url = settings ? settings->base_url : NULL;
	if (!opts.api_key && settings)
		opts.api_key = settings->api_key;
	if (!opts.base_url || !*opts.base_url)
		return wb_error_set(err, -EINVAL, 0, "no base URL configured");

	c = calloc(1, sizeof(*c));
	if (!c)
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	c->base_url = strdup(opts.base_url);
	/* The base URL is stored without a trailing '/' (wb_settings does the
	 * same), so "<base>/graphql" never doubles the slash. */
	if (c->base_url) {
		size_t n = strlen(c->base_url);
		while (n > 0 && c->base_url[n - 1] == '/')
			c->base_url[--n] = '\0';
	}
	if (settings && settings->app_url)
		c->app_url = strdup(settings->app_url);
	else if (c->base_url)
		c->app_url = wb_app_url_for(c->base_url);
	if (!c->base_url || !c->app_url) {
		wb_client_free(c);
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	c->max_inflight = opts.max_inflight > 0 ? opts.max_inflight
						: WB_DEFAULT_INFLIGHT;
	rc = wb_http_new(&opts, &c->http, err);
	if (rc) {
		wb_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void wb_client_free(struct wb_client *c)
{
	if (!c)
		return;
	wb_http_free(c->http);
	free(c->base_url);
	free(c->app_url);
	free(c);
}

const char *wb_client_base_url(const struct wb_client *c)
{
	return c->base_url;
}

const char *wb_client_app_url(const struct wb_client *c)
{
	return c->app_url;
}

struct wb_http *wb_client_http(struct wb_client *c)
{
	return c->http;
}
int wb_client_max_inflight(const struct wb_client *c)
{
	return c->max_inflight;
}

char *wb_client_web_url(const struct wb_client *c, ...)
{
	const char **segs;
	size_t n = 0;
	va_list ap;
	char *url;

	va_start(ap, c);
	while (va_arg(ap, const char *))
		n++;
	va_end(ap);
	segs = calloc(n ? n : 1, sizeof(*segs));
	if (!segs)
		return NULL;
	va_start(ap, c);
	for (size_t i = 0; i < n; i++)
		segs[i] = va_arg(ap, const char *);
	va_end(ap);
	url = api_url_join(c->app_url, segs, n);
	free(segs);
	return url;
}

/* ---- parallel fan-out ------------------------------------------------ */

struct fanout {
	size_t n;
	atomic_size_t next; /* next job index to hand out */
	atomic_int result;  /* first non-zero job result */
	int (*job)(void *ud, size_t i);
	void *ud;
};

static void *fanout_worker(void *arg)
{
	struct fanout *f = arg;
	size_t i;

	while ((i = atomic_fetch_add(&f->next, 1)) < f->n) {
		int rc = f->job(f->ud, i);
		int zero = 0;

		if (rc)
			atomic_compare_exchange_strong(&f->result, &zero, rc);
	}
	return NULL;
}

int wb_client_parallel(struct wb_client *c, size_t n,
		       int (*job)(void *ud, size_t i), void *ud)
{
	struct fanout f = { .n = n, .job = job, .ud = ud };
	size_t want, started = 0;
	pthread_t *tids;

	atomic_init(&f.next, 0);
	atomic_init(&f.result, 0);
	if (n == 0)
		return 0;
	/* The calling thread is one of the workers, so max_inflight threads
	 * run in total and a failed pthread_create only lowers parallelism. */
	want = (size_t)(c->max_inflight > 1 ? c->max_inflight : 1);
	if (want > n)
		want = n;
	tids = want > 1 ? calloc(want - 1, sizeof(*tids)) : NULL;
	if (tids) {
		for (; started < want - 1; started++)
			if (pthread_create(&tids[started], NULL, fanout_worker,
					   &f)) {
				wb_log(WB_LOG_WARN,
				       "parallel: only %zu extra "
				       "threads started",
				       started);
				break;
			}
	}
	fanout_worker(&f);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return atomic_load(&f.result);
}
