/* wb_http.h — the HTTP layer: libcurl, one shared connection pool, bounded
 * concurrency, retries with backoff, deadlines, auth scoped to the API host.
 *
 * Thread-safe: any number of threads may call wb_http_perform() at once; at
 * most max_inflight transfers run concurrently, the rest wait (bounded by
 * their deadline). Connections, DNS and TLS sessions are shared.
 * The API key is attached (Basic api:<key>) only when the request URL has the
 * base URL's scheme, host and port and starts with its path; never to storage
 * URLs or redirect targets on other hosts; never logged.
 * Retry policy = the SDK's: 400 401 403 404 409 410 413 422
 * 501 are final; other 4xx/5xx, status 0 and connection errors are retried
 * with min(max, min_wait * 2^n * (1 + U[0,0.25))) or Retry-After.
 * (Also final: 416, for range reads past the end.) A wait that would cross
 * the deadline is not slept: the call fails -ETIMEDOUT at once.
 *
 * Environment knobs, read by wb_http_new() only for fields left at their
 * "default" value (0, or -1 for max_retries), in seconds (fractions ok):
 *   attempt_timeout_ms  WANDB__GRAPHQL_TIMEOUT_SECONDS, else WANDB_HTTP_TIMEOUT
 *   deadline_ms         WANDB_HTTP_TIMEOUT
 *   retry_min_ms        WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS
 *   retry_max_ms        WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS
 *   max_retries         WANDB__GRAPHQL_RETRY_MAX (a count)
 * Headers: WANDB__EXTRA_HTTP_HEADERS (JSON object) on every request (a
 * malformed value makes wb_http_new fail -EINVAL); X-WANDB-USERNAME /
 * X-WANDB-USER-EMAIL from WANDB_USERNAME / WANDB_USER_EMAIL on API-scope
 * requests only. Proxies: libcurl's defaults (http_proxy, HTTPS_PROXY,
 * no_proxy). Debug log: one line per request hop (label, method, URL
 * without query string, status, ms, bytes, attempt).
 * DNS and TLS sessions are shared between threads; connections are kept
 * per pooled handle (a shared libcurl connection cache is not thread-safe).
 */
#ifndef WB_HTTP_H
#define WB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "wb_error.h"

struct wb_http_opts {
	const char *base_url;    /* required; the auth scope */
	const char *api_key;     /* may be NULL (anonymous) */
	const char *user_agent;  /* NULL = "wandbfs/<version>" */
	const char *ca_file;     /* NULL = system store */
	int insecure;            /* skip TLS verification (explicit opt-in) */
	int max_inflight;        /* 0 = default 12 */
	long attempt_timeout_ms; /* per attempt; 0 = default 30000 */
	long deadline_ms;        /* per call incl. retries; 0 = default 60000 */
	int max_retries;         /* -1 = default 20; 0 = no retries (so a
				      zeroed struct retries nothing!) */
	long retry_min_ms;       /* 0 = default 2000 */
	long retry_max_ms;       /* 0 = default 60000 */
	size_t max_body;         /* bound for buffered bodies; 0 = 256 MiB */
};

struct wb_http;

/* Create the pool (copies everything it needs from opts). */
int wb_http_new(const struct wb_http_opts *opts, struct wb_http **out,
		struct wb_error *err);
void wb_http_free(struct wb_http *h);

/* Called with body bytes as they arrive (streaming downloads). Return 0 to
 * continue, non-zero to abort the transfer (the call then fails -ECANCELED).
 * On a retry after a partial body, `restart` is called first (may be NULL
 * when the sink cannot restart: then a partial body is a hard failure).
 * Only 2xx bodies reach the sink (never error pages or redirect bodies).
 * Sink transfers get no total timeout (big downloads are not cut): an attempt
 * fails when under 1 byte/s for attempt_timeout; the deadline still bounds
 * queueing, connecting and the waits between retries. */
struct wb_http_sink {
	int (*write)(void *ud, const void *data, size_t len);
	void (*restart)(void *ud);
	void *ud;
};

struct wb_http_req {
	const char *method; /* "GET" or "POST" */
	const char *url;
	const char *body; /* POST body or NULL */
	size_t body_len;
	const char *content_type; /* NULL = application/json for POST */
	int64_t range_start;      /* Range: bytes=start-end when end >= start */
	int64_t range_end;        /* inclusive; -1 = no range. The body/sink
				      gets exactly these bytes (fewer at EOF),
				      whether the server sends 206 or ignores
				      Range and sends 200 (skipped to start). */
	int follow_redirects;     /* 1 = follow (auth never crosses hosts) */
	const struct wb_http_sink *sink; /* NULL = buffer into resp->body */
	long deadline_ms;                /* 0 = the pool default */
	const char *label;               /* operation name for the debug log */
};

struct wb_http_resp {
	long status;
	char *body; /* malloc'd, NUL-terminated; NULL with sink */
	size_t body_len;
	char *content_range;    /* Content-Range header if any */
	int64_t content_length; /* -1 when unknown */
	int attempts;
};

/* Perform with retries. Returns 0 when a final response arrived with a 2xx
 * status; otherwise a negative errno (HTTP status in resp->status and
 * err->http_status). resp must be zeroed or cleared before the call and
 * released with wb_http_resp_clear(). On failure resp->body holds up to
 * 64 KiB of the last error response body (GraphQL errors, S3 XML), with or
 * without a sink. errno: 401/403 -EACCES ("API key rejected by <host>" /
 * "permission denied by <host>"; from storage it usually means an expired
 * presigned URL), 404/410 -ENOENT, 400/422 -EINVAL, 416 -ERANGE, 429 after
 * retries -EAGAIN, 5xx/connection/truncation after retries -EIO, deadline
 * -ETIMEDOUT, body over max_body -EFBIG, sink abort -ECANCELED, an
 * unfollowed or endless redirect -EIO. Messages start with req->label. */
int wb_http_perform(struct wb_http *h, const struct wb_http_req *req,
		    struct wb_http_resp *resp, struct wb_error *err);

void wb_http_resp_clear(struct wb_http_resp *resp);

/* Map an HTTP status to the errno the client reports for it. */
int wb_http_status_errno(long status);

/* The retry decision for one attempt, exposed for unit tests: returns 1 if
 * a response with this HTTP status (0 = no response) / curl code should be
 * retried. */
int wb_http_should_retry(long status, int curl_code);

/* Backoff before attempt n+1 (0-based n) in ms; retry_after_ms >= 0 wins.
 * `unit` in [0,1) is the jitter draw (tests pass fixed values). */
long wb_http_backoff_ms(int n, long min_ms, long max_ms, long retry_after_ms,
			double unit);

/* Parse a Retry-After value (seconds or HTTP date) into ms; -1 if invalid. */
long wb_http_parse_retry_after(const char *value, long now_epoch_s);

struct wb_http_stats {
	uint64_t requests;         /* attempts sent */
	uint64_t api_requests;     /* attempts to the API host */
	uint64_t storage_requests; /* attempts to other hosts */
	uint64_t retries;
	uint64_t bytes_in;
};
void wb_http_get_stats(struct wb_http *h, struct wb_http_stats *out);

#endif
