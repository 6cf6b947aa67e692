/* test_runs_fetch.c — wb_runs_fetch()'s callback contract, against a small
 * in-process GraphQL server that answers Runs for whatever names a batch
 * asks: the callback runs on several threads at once with no client lock
 * held (two batches' callbacks overlap), every run is delivered once, and
 * after a callback fails nothing more is delivered and that failure is
 * returned. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "wb_api.h"
#include "wb_json.h"

#define N_RUNS 100 /* two batches with heavy fields (50 each) */

/* ---- the server --------------------------------------------------------- */

struct server {
	int fd, port;
	atomic_int stop;
	pthread_t tid;
};

/* The answer to one Runs request: a run node for each name of the
 * {"name": {"$in": [...]}} filter, on one page. */
static char *runs_answer(const char *body, size_t len)
{
	cJSON *req = wb_json_parse(body, len, NULL), *filter = NULL, *resp;
	const char *ftext =
		wb_json_get_str(wb_json_get(req, "variables"), "filters");
	const cJSON *name;
	cJSON *edges;
	char *text;

	if (ftext)
		filter = wb_json_parse(ftext, strlen(ftext), NULL);
	resp = cJSON_Parse("{\"data\": {\"project\": {\"runs\": {\"edges\": "
			   "[], \"pageInfo\": {\"hasNextPage\": false, "
			   "\"endCursor\": null}}}}}");
	edges = wb_json_get(
		wb_json_get(wb_json_get(wb_json_get(resp, "data"), "project"),
			    "runs"),
		"edges");
	cJSON_ArrayForEach (name,
			    wb_json_get(wb_json_get(filter, "name"), "$in")) {
		cJSON *edge = cJSON_CreateObject();
		cJSON *node = cJSON_AddObjectToObject(edge, "node");

		cJSON_AddStringToObject(node, "name", name->valuestring);
		cJSON_AddStringToObject(node, "config", "{}");
		cJSON_AddStringToObject(node, "summaryMetrics", "{}");
		cJSON_AddItemToArray(edges, edge);
	}
	text = wb_json_print(resp, WB_JSON_COMPACT, NULL);
	cJSON_Delete(resp);
	cJSON_Delete(filter);
	cJSON_Delete(req);
	return text;
}

/* One request on its own connection: headers, a Content-Length body. */
static void serve_one(int fd)
{
	static char buf[1 << 20];
	size_t got = 0, want = 0;
	char *end = NULL, *answer, head[160];

	while (got < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");

			want = (size_t)(end + 4 - buf) +
				(cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (end && got >= want)
			break;
	}
	answer = runs_answer(end + 4, want - (size_t)(end + 4 - buf));
	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Type: "
		 "application/json\r\nContent-Length: %zu\r\nConnection: "
		 "close\r\n\r\n",
		 strlen(answer));
	if (write(fd, head, strlen(head)) < 0 ||
	    write(fd, answer, strlen(answer)) < 0)
		fprintf(stderr, "fake server: write failed\n");
	free(answer);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 64), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	atomic_init(&s->stop, 0);
	assert_int_equal(pthread_create(&s->tid, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->tid, NULL);
	close(s->fd);
}

/* ---- the callback --------------------------------------------------------- */

struct sink {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int inside, max_inside;
	int gave_up; /* waited in vain once: serial callbacks */
	int seen[N_RUNS];
	int delivered, fail_at; /* fail the fail_at-th delivery (-1: none) */
};

/* Waits (2 s at most, once) until another callback is inside at the same
 * time, so overlap is observed if the client allows it; after that, or
 * after waiting in vain, never waits again. */
static int sink_cb(void *ud, struct wb_run *r)
{
	struct sink *s = ud;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&s->lock);
	if (++s->inside > s->max_inside)
		s->max_inside = s->inside;
	pthread_cond_broadcast(&s->cond);
	while (s->max_inside < 2 && !s->gave_up &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
		;
	s->gave_up = s->max_inside < 2;
	s->seen[atoi(r->name + 4)]++;
	if (s->delivered++ == s->fail_at)
		rc = -EIO;
	s->inside--;
	pthread_mutex_unlock(&s->lock);
	wb_run_free(r);
	if (s->fail_at >= 0 && !rc) {
		/* Slow deliveries: the other batch is still delivering
		 * when the failure is recorded. */
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
	}
	return rc;
}

static void fetch(struct sink *s, int want_rc)
{
	static char names[N_RUNS][16];
	const char *v[N_RUNS];
	struct wb_settings set = { 0 };
	struct wb_http_opts o = { .max_inflight = 4, .max_retries = 0 };
	struct wb_error err = { 0 };
	struct wb_client *c;
	struct server srv;
	char base[64];

	server_start(&srv);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", srv.port);
	set.base_url = base;
	set.app_url = base;
	assert_int_equal(wb_client_new(&set, &o, &c, &err), 0);
	for (int i = 0; i < N_RUNS; i++) {
		snprintf(names[i], sizeof(names[i]), "run-%d", i);
		v[i] = names[i];
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	assert_int_equal(wb_runs_fetch(c, "ent", "proj", v, N_RUNS,
				       WB_RUN_CONFIG | WB_RUN_SUMMARY, sink_cb,
				       s, &err),
			 want_rc);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	wb_client_free(c);
	server_stop(&srv);
}

static void test_callbacks_overlap(void **state)
{
	struct sink s = { .fail_at = -1 };

	(void)state;
	fetch(&s, 0);
	assert_int_equal(s.max_inside, 2); /* both batches' callbacks at once */
	for (int i = 0; i < N_RUNS; i++)
		assert_int_equal(s.seen[i], 1);
}

static void test_first_failure_stops(void **state)
{
	struct sink s = { .fail_at = 0 };

	(void)state;
	fetch(&s, -EIO);
	/* The failing batch stopped at once, and the other (50 runs at 10 ms
	 * each) soon after, far from its end. */
	assert_true(s.delivered >= 1 && s.delivered < N_RUNS / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_callbacks_overlap),
		cmocka_unit_test(test_first_failure_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
