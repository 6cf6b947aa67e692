/* http_probe.c — test driver for client/http.c: performs one request with
 * settings from the environment (WANDB_BASE_URL, WANDB_API_KEY, ...) and
 * prints one JSON line {rc, status, attempts, bytes, content_range, msg,
 * stats}. The body goes to --out FILE. Debug log lines go to stderr.
 * Used by tests/integration/test_http.py; not installed.
 *
 * usage: http_probe [--post BODY] [--range A-B] [--follow] [--sink]
 *                   [--no-restart] [--deadline MS] [--max-body N]
 *                   [--retries N] [--repeat N] [--threads N]
 *                   [--inflight N] [--ca-file F] [--insecure] [--out FILE] URL
 * --repeat performs the request N times in a row on one pool (to observe
 * connection reuse) and reports the last; --threads runs that many threads
 * at once (buffered requests only) and reports the first failure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_http.h"
#include "wb_json.h"
#include "wb_log.h"
#include "wb_settings.h"

struct file_sink {
	FILE *f;
	int restarts;
};

static int sink_write(void *ud, const void *data, size_t len)
{
	struct file_sink *s = ud;

	return fwrite(data, 1, len, s->f) == len ? 0 : -1;
}

static void sink_truncate(struct file_sink *s)
{
	rewind(s->f);
	if (ftruncate(fileno(s->f), 0) != 0)
		perror("ftruncate");
}

static void sink_restart(void *ud)
{
	struct file_sink *s = ud;

	s->restarts++;
	sink_truncate(s);
}

struct worker {
	pthread_t tid;
	struct wb_http *h;
	const struct wb_http_req *req;
	int rc;
	struct wb_error err;
};

static void *worker_run(void *ud)
{
	struct worker *w = ud;
	struct wb_http_resp resp = { 0 };

	w->rc = wb_http_perform(w->h, w->req, &resp, &w->err);
	wb_http_resp_clear(&resp);
	return NULL;
}

/* Run the request on n threads at once; first failure wins. */
static int run_threads(struct wb_http *h, const struct wb_http_req *req, int n,
		       struct wb_error *err)
{
	struct worker *w = calloc((size_t)n, sizeof(*w));
	int rc = 0;

	if (!w)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		w[i].h = h;
		w[i].req = req;
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]))
			abort();
	}
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].rc && !rc) {
			rc = w[i].rc;
			*err = w[i].err;
		}
	}
	free(w);
	return rc;
}

static void log_stderr(void *ud, enum wb_log_level level, const char *line)
{
	(void)ud;
	fprintf(stderr, "[%d] %s\n", (int)level, line);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: http_probe [--post BODY] [--range A-B] [--follow] "
		"[--sink] [--no-restart] [--deadline MS] [--max-body N] "
		"[--retries N] [--repeat N] [--threads N] [--inflight N] "
		"[--ca-file F] [--insecure] [--out FILE] URL\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct wb_http_opts opts = { 0 };
	struct wb_http_req req = { 0 };
	struct wb_http_resp resp = { 0 };
	struct wb_http_stats st;
	struct wb_settings s = { 0 };
	struct wb_error err = { 0 };
	struct wb_http *h = NULL;
	struct file_sink fs = { 0 };
	struct wb_http_sink sink = { sink_write, sink_restart, &fs };
	const char *out = NULL;
	int use_sink = 0, repeat = 1, threads = 0, rc;
	cJSON *j;
	char *line;

	wb_log_set_sink(log_stderr, NULL, WB_LOG_DEBUG);
	req.method = "GET";
	req.range_end = -1;
	req.label = "probe";
	opts.max_retries = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--post") && i + 1 < argc) {
			req.method = "POST";
			req.body = argv[++i];
			req.body_len = strlen(req.body);
		} else if (!strcmp(a, "--range") && i + 1 < argc) {
			long long x, y;

			if (sscanf(argv[++i], "%lld-%lld", &x, &y) != 2)
				usage();
			req.range_start = x;
			req.range_end = y;
		} else if (!strcmp(a, "--follow")) {
			req.follow_redirects = 1;
		} else if (!strcmp(a, "--sink")) {
			use_sink = 1;
		} else if (!strcmp(a, "--no-restart")) {
			sink.restart = NULL;
		} else if (!strcmp(a, "--deadline") && i + 1 < argc) {
			req.deadline_ms = atol(argv[++i]);
		} else if (!strcmp(a, "--max-body") && i + 1 < argc) {
			opts.max_body = (size_t)atoll(argv[++i]);
		} else if (!strcmp(a, "--retries") && i + 1 < argc) {
			opts.max_retries = atoi(argv[++i]);
		} else if (!strcmp(a, "--repeat") && i + 1 < argc) {
			repeat = atoi(argv[++i]);
		} else if (!strcmp(a, "--threads") && i + 1 < argc) {
			threads = atoi(argv[++i]);
		} else if (!strcmp(a, "--inflight") && i + 1 < argc) {
			opts.max_inflight = atoi(argv[++i]);
		} else if (!strcmp(a, "--ca-file") && i + 1 < argc) {
			opts.ca_file = argv[++i];
		} else if (!strcmp(a, "--insecure")) {
			opts.insecure = 1;
		} else if (!strcmp(a, "--out") && i + 1 < argc) {
			out = argv[++i];
		} else if (a[0] != '-' && !req.url) {
			req.url = a;
		} else {
			usage();
		}
	}
	if (!req.url)
		usage();
	rc = wb_settings_resolve(NULL, NULL, &s, &err);
	if (rc == 0) {
		opts.base_url = s.base_url;
		opts.api_key = s.api_key;
		rc = wb_http_new(&opts, &h, &err);
	}
	if (rc == 0 && threads > 0) {
		rc = run_threads(h, &req, threads, &err);
	} else if (rc == 0) {
		if (use_sink) {
			fs.f = fopen(out ? out : "/dev/null", "w+");
			if (!fs.f) {
				perror("fopen");
				return 2;
			}
			req.sink = &sink;
		}
		for (int k = 0; k < repeat; k++) {
			if (fs.f)
				sink_truncate(&fs);
			rc = wb_http_perform(h, &req, &resp, &err);
		}
		if (fs.f)
			fclose(fs.f);
		if (!use_sink && out && resp.body) {
			FILE *f = fopen(out, "wb");

			if (!f ||
			    fwrite(resp.body, 1, resp.body_len, f) !=
				    resp.body_len) {
				perror("write --out");
				return 2;
			}
			fclose(f);
		}
	}

	j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "rc", rc);
	cJSON_AddStringToObject(j, "errno", rc ? strerrorname_np(-rc) : "");
	cJSON_AddNumberToObject(j, "status", (double)resp.status);
	cJSON_AddNumberToObject(j, "err_status", err.http_status);
	cJSON_AddNumberToObject(j, "attempts", resp.attempts);
	cJSON_AddNumberToObject(j, "bytes", (double)resp.body_len);
	cJSON_AddNumberToObject(j, "content_length",
				(double)resp.content_length);
	cJSON_AddNumberToObject(j, "restarts", fs.restarts);
	if (resp.content_range)
		cJSON_AddStringToObject(j, "content_range", resp.content_range);
	cJSON_AddStringToObject(j, "msg", err.msg);
	if (h) {
		cJSON *js = cJSON_AddObjectToObject(j, "stats");

		wb_http_get_stats(h, &st);
		cJSON_AddNumberToObject(js, "requests", (double)st.requests);
		cJSON_AddNumberToObject(js, "api_requests",
					(double)st.api_requests);
		cJSON_AddNumberToObject(js, "storage_requests",
					(double)st.storage_requests);
		cJSON_AddNumberToObject(js, "retries", (double)st.retries);
		cJSON_AddNumberToObject(js, "bytes_in", (double)st.bytes_in);
	}
	line = wb_json_print(j, WB_JSON_COMPACT, NULL);
	printf("%s\n", line ? line : "{}");
	free(line);
	cJSON_Delete(j);
	wb_http_resp_clear(&resp);
	wb_http_free(h);
	wb_settings_clear(&s);
	return rc ? 1 : 0;
}
