/* http.c — the client's HTTP transport (wb_http.h): libcurl easy handles
 * from a free-list pool, a counting semaphore bounding transfers in flight,
 * retries with backoff under an overall deadline, auth scoped to the API
 * host with redirects followed by hand, body bounds and completeness checks.
 *
 * Each caller thread runs its own curl_easy_perform(): simple and safe for
 * FUSE worker threads. DNS and TLS sessions are shared through one CURLSH.
 * Connections are NOT put in the share: a shared connection cache is not
 * thread-safe in libcurl (known bug 11.11, curl issue #4915); instead every
 * pooled easy handle keeps its own live connections across curl_easy_reset,
 * so with LIFO reuse the busy handles stay connected to the busy hosts.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "wb_http.h"
#include "wb_json.h"
#include "wb_log.h"
#include "wb_settings.h"

#ifndef WANDBFS_VERSION
#define WANDBFS_VERSION "0.1.0"
#endif

#define DEFAULT_MAX_INFLIGHT 12
#define DEFAULT_ATTEMPT_TIMEOUT_MS 30000L
#define DEFAULT_DEADLINE_MS 60000L
#define DEFAULT_MAX_RETRIES 20
#define DEFAULT_RETRY_MIN_MS 2000L
#define DEFAULT_RETRY_MAX_MS 60000L
#define DEFAULT_MAX_BODY ((size_t)256 << 20)
#define MAX_REDIRECTS 5
#define ERRBODY_MAX (64 * 1024) /* kept of a non-2xx body, for messages */
#define RETRY_AFTER_CAP_MS (24L * 3600 * 1000)
#define URL_LOG_MAX 512

struct wb_http {
	char *base_url;
	char *base_scheme, *base_host, *base_path; /* the auth scope */
	long base_port;
	char *auth_header; /* "Authorization: Basic ..." or NULL; wiped */
	char *user_agent;
	char *ca_file;
	int insecure;
	int max_inflight;
	long attempt_timeout_ms, deadline_ms, retry_min_ms, retry_max_ms;
	int max_retries;
	size_t max_body;
	struct curl_slist *api_headers; /* X-WANDB-* identity: API host only */
	struct curl_slist *all_headers; /* WANDB__EXTRA_HTTP_HEADERS */

	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	pthread_mutex_t mu; /* guards inflight and the handle pool */
	pthread_cond_t slot_cv;
	int inflight;
	CURL **free_handles;
	int n_free;

	_Atomic uint64_t st_requests, st_api, st_storage, st_retries, st_bytes;
};

/* ---- small helpers --------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until_ms(long long t)
{
	struct timespec ts = { .tv_sec = t / 1000,
			       .tv_nsec = (t % 1000) * 1000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Jitter draw in [0,1); per-thread state, so no locking. */
static double jitter_unit(void)
{
	static _Thread_local uint64_t s;

	if (!s)
		s = ((uint64_t)now_ms() << 20) ^ (uint64_t)(uintptr_t)&s ^
			0x9e3779b97f4a7c15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (double)(s >> 11) / 9007199254740992.0;
}

/* URL without userinfo, query or fragment: storage signatures live in the
 * query string and are secrets too. */
static void url_for_log(const char *url, char *buf, size_t n)
{
	const char *start = url, *scheme_end = strstr(url, "://");
	size_t len;

	if (scheme_end) {
		const char *auth = scheme_end + 3;
		const char *auth_end = auth + strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', (size_t)(auth_end - auth));

		if (at) {
			snprintf(buf, n, "%.*s%.*s", (int)(auth - url), url,
				 (int)strcspn(at + 1, "?#"), at + 1);
			return;
		}
	}
	len = strcspn(start, "?#");
	snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), start);
}

/* ---- policy (pure functions, unit-tested) ---------------------------- */

int wb_http_status_errno(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400:
	case 422:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
	case 410:
		return -ENOENT;
	case 408:
		return -ETIMEDOUT;
	case 413:
		return -EFBIG;
	case 416:
		return -ERANGE;
	case 429:
		return -EAGAIN;
	case 501:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int wb_http_should_retry(long status, int curl_code)
{
	if (status > 0) {
		switch (status) {
		case 400:
		case 401:
		case 403:
		case 404:
		case 409:
		case 410:
		case 413:
		case 422:
		case 501:
		/* 416: our own range reads past EOF; retrying cannot help */
		case 416:
			return 0;
		}
		return status >= 400;
	}
	switch (curl_code) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_FAILED_INIT:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_WRITE_ERROR: /* our callbacks aborted */
	case CURLE_OUT_OF_MEMORY:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_AUTH_ERROR:
		return 0;
	default:
		return 1; /* no response / connection-level trouble */
	}
}

long wb_http_backoff_ms(int n, long min_ms, long max_ms, long retry_after_ms,
			double unit)
{
	double d;

	if (retry_after_ms >= 0)
		return retry_after_ms;
	if (n < 0)
		n = 0;
	if (n > 32)
		n = 32;
	if (unit < 0 || !(unit < 1))
		unit = 0;
	d = (double)min_ms * ldexp(1.0, n) * (1.0 + 0.25 * unit);
	if (d > (double)max_ms)
		d = (double)max_ms;
	return d < 0 ? 0 : (long)d;
}

static int month_index(const char *m)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, names + 3 * i, 3) == 0 && m[3] == '\0')
			return i;
	return -1;
}

/* Parse an HTTP date (IMF-fixdate, RFC 850 or asctime) into epoch seconds. */
static int parse_http_date(const char *v, time_t *out)
{
	char wd[16], mon[4], tz[4];
	int d, y, H, M, S;
	struct tm tm = { 0 };

	if (sscanf(v, "%15[A-Za-z], %d %3s %d %d:%d:%d %3s", wd, &d, mon, &y,
		   &H, &M, &S, tz) == 8) {
		/* IMF-fixdate */
	} else if (sscanf(v, "%15[A-Za-z], %d-%3[A-Za-z]-%d %d:%d:%d %3s", wd,
			  &d, mon, &y, &H, &M, &S, tz) == 8) {
		if (y < 100) /* RFC 850's two-digit year */
			y += y < 70 ? 2000 : 1900;
	} else if (sscanf(v, "%15[A-Za-z] %3s %d %d:%d:%d %d", wd, mon, &d, &H,
			  &M, &S, &y) == 7) {
		strcpy(tz, "GMT"); /* asctime has no zone: GMT by definition */
	} else {
		return -EINVAL;
	}
	if (strcasecmp(tz, "GMT") != 0 && strcasecmp(tz, "UTC") != 0)
		return -EINVAL;
	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || d < 1 || d > 31 || H < 0 || H > 23 || M < 0 ||
	    M > 59 || S < 0 || S > 60 || y < 1970 || y > 9999)
		return -EINVAL;
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	tm.tm_hour = H;
	tm.tm_min = M;
	tm.tm_sec = S;
	*out = timegm(&tm);
	return 0;
}

long wb_http_parse_retry_after(const char *value, long now_epoch_s)
{
	char *end;
	double secs;
	time_t t;

	if (!value)
		return -1;
	while (isspace((unsigned char)*value))
		value++;
	if (!*value)
		return -1;
	if (isdigit((unsigned char)*value) || *value == '.') {
		secs = strtod(value, &end);
		while (isspace((unsigned char)*end))
			end++;
		if (*end || !isfinite(secs) || secs < 0)
			return -1;
		if (secs * 1000.0 > (double)RETRY_AFTER_CAP_MS)
			return RETRY_AFTER_CAP_MS;
		return (long)(secs * 1000.0 + 0.5);
	}
	if (parse_http_date(value, &t))
		return -1;
	if ((long long)t <= now_epoch_s)
		return 0;
	if (((long long)t - now_epoch_s) * 1000 > RETRY_AFTER_CAP_MS)
		return RETRY_AFTER_CAP_MS;
	return (long)(((long long)t - now_epoch_s) * 1000);
}

/* ---- URL scope ------------------------------------------------------- */

struct url_parts {
	char *scheme, *host, *path;
	long port;
};

static void url_parts_free(struct url_parts *p)
{
	curl_free(p->scheme);
	curl_free(p->host);
	curl_free(p->path);
	memset(p, 0, sizeof(*p));
}

/* Split an absolute http(s) URL the way curl will request it (dot
 * segments normalised, default port filled in). */
static int url_parts_get(const char *url, struct url_parts *p)
{
	CURLU *u = curl_url();
	char *port = NULL;
	int rc = -EINVAL;

	memset(p, 0, sizeof(*p));
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &p->path, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(p->scheme, "http") != 0 &&
	    strcasecmp(p->scheme, "https") != 0)
		goto out;
	p->port = strtol(port, NULL, 10);
	rc = 0;
out:
	curl_free(port);
	curl_url_cleanup(u);
	if (rc)
		url_parts_free(p);
	return rc;
}

/* Same scheme, host and port as the base URL, path inside its path. */
static int in_scope(const struct wb_http *h, const struct url_parts *p)
{
	size_t bl = strlen(h->base_path);

	if (strcasecmp(p->scheme, h->base_scheme) != 0 ||
	    strcasecmp(p->host, h->base_host) != 0 || p->port != h->base_port)
		return 0;
	if (bl == 0)
		return 1;
	return strncmp(p->path, h->base_path, bl) == 0 &&
		(p->path[bl] == '\0' || p->path[bl] == '/');
}

/* ---- construction ---------------------------------------------------- */

static void share_lock(CURL *handle, curl_lock_data data,
		       curl_lock_access access, void *ud)
{
	struct wb_http *h = ud;

	(void)handle;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *ud)
{
	struct wb_http *h = ud;

	(void)handle;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->share_locks[data]);
}

static CURLcode global_rc = CURLE_FAILED_INIT;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_ALL);
}

/* Seconds from an env knob as ms; 0 when unset, -1 when malformed. */
static long env_seconds_ms(const char *name)
{
	const char *v = getenv(name);
	char *end;
	double d;

	if (!v || !*v)
		return 0;
	d = strtod(v, &end);
	if (*end || !isfinite(d) || d <= 0 || d > 1e7) {
		wb_log(WB_LOG_WARN,
		       "ignoring %s=%s: not a positive number of seconds", name,
		       v);
		return -1;
	}
	return (long)(d * 1000.0 + 0.5);
}

static long pick_ms(long opt, const char *env1, const char *env2, long dflt)
{
	long v;

	if (opt > 0)
		return opt;
	if (env1 && (v = env_seconds_ms(env1)) > 0)
		return v;
	if (env2 && (v = env_seconds_ms(env2)) > 0)
		return v;
	return dflt;
}

static int header_safe(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

static int add_header(struct curl_slist **list, const char *name,
		      const char *value)
{
	struct curl_slist *n;
	char *line;

	if (asprintf(&line, "%s: %s", name, value) < 0)
		return -ENOMEM;
	n = curl_slist_append(*list, line);
	free(line);
	if (!n)
		return -ENOMEM;
	*list = n;
	return 0;
}

/* WANDB__EXTRA_HTTP_HEADERS: a JSON object of header names to values. */
static int load_extra_headers(struct wb_http *h, struct wb_error *err)
{
	const char *v = getenv("WANDB__EXTRA_HTTP_HEADERS");
	cJSON *obj, *m;
	int rc = 0;

	if (!v || !*v)
		return 0;
	obj = wb_json_parse(v, strlen(v), NULL);
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return wb_error_set(
			err, -EINVAL, 0,
			"WANDB__EXTRA_HTTP_HEADERS is not a JSON object");
	}
	cJSON_ArrayForEach (m, obj) {
		const char *val = cJSON_IsString(m) || cJSON_IsRaw(m)
			? m->valuestring
			: NULL;

		if (!m->string || !*m->string ||
		    strpbrk(m->string, ": \t\r\n") || !header_safe(val)) {
			rc = wb_error_set(
				err, -EINVAL, 0,
				"WANDB__EXTRA_HTTP_HEADERS: bad header \"%.64s\"",
				m->string ? m->string : "");
			break;
		}
		rc = add_header(&h->all_headers, m->string, val);
		if (rc) {
			wb_error_set(err, rc, 0, "out of memory");
			break;
		}
	}
	cJSON_Delete(obj);
	return rc;
}

static int load_identity_headers(struct wb_http *h)
{
	static const char *const map[][2] = {
		{ "WANDB_USERNAME", "X-WANDB-USERNAME" },
		{ "WANDB_USER_EMAIL", "X-WANDB-USER-EMAIL" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = getenv(map[i][0]);
		int rc;

		if (!v || !*v)
			continue;
		if (!header_safe(v)) {
			wb_log(WB_LOG_WARN,
			       "ignoring %s: contains a line break", map[i][0]);
			continue;
		}
		rc = add_header(&h->api_headers, map[i][1], v);
		if (rc)
			return rc;
	}
	return 0;
}

static int make_auth_header(struct wb_http *h, const char *key)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char prefix[] = "Authorization: Basic ";
	size_t kl = strlen(key), il = 4 + kl, ol = 4 * ((il + 2) / 3);
	unsigned char *in = malloc(il);
	char *out = malloc(sizeof(prefix) + ol);
	size_t i, o = sizeof(prefix) - 1;

	if (!in || !out) {
		free(in);
		free(out);
		return -ENOMEM;
	}
	memcpy(in, "api:", 4);
	memcpy(in + 4, key, kl);
	memcpy(out, prefix, sizeof(prefix) - 1);
	for (i = 0; i + 2 < il; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
			in[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (i < il) {
		unsigned v = (unsigned)in[i] << 16 |
			(i + 1 < il ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < il ? b64[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	explicit_bzero(in, il);
	free(in);
	h->auth_header = out;
	return 0;
}

int wb_http_new(const struct wb_http_opts *opts, struct wb_http **out,
		struct wb_error *err)
{
	struct wb_http *h;
	struct url_parts bp;
	int rc;

	*out = NULL;
	if (!opts || !opts->base_url)
		return wb_error_set(err, -EINVAL, 0, "http: no base URL");
	if (opts->api_key && !header_safe(opts->api_key))
		return wb_error_set(err, -EINVAL, 0,
				    "API key contains a line break");
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return wb_error_set(err, -EIO, 0,
				    "libcurl initialisation failed: %s",
				    curl_easy_strerror(global_rc));
	rc = url_parts_get(opts->base_url, &bp);
	if (rc)
		return wb_error_set(err, rc, 0,
				    "base URL %s is not an http(s) URL",
				    opts->base_url);

	h = calloc(1, sizeof(*h));
	if (!h) {
		url_parts_free(&bp);
		return wb_error_set(err, -ENOMEM, 0, "out of memory");
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	pthread_mutex_init(&h->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h->slot_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	h->base_scheme = strdup(bp.scheme);
	h->base_host = strdup(bp.host);
	h->base_port = bp.port;
	/* "/" and "" both mean the whole host; "/api/" means "/api". */
	h->base_path = strndup(bp.path,
			       strlen(bp.path) -
				       (strlen(bp.path) > 0 &&
					bp.path[strlen(bp.path) - 1] == '/'));
	url_parts_free(&bp);
	h->base_url = strdup(opts->base_url);
	h->user_agent = strdup(opts->user_agent ? opts->user_agent
						: "wandbfs/" WANDBFS_VERSION);
	h->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
	if (!h->base_scheme || !h->base_host || !h->base_path || !h->base_url ||
	    !h->user_agent || (opts->ca_file && !h->ca_file)) {
		rc = wb_error_set(err, -ENOMEM, 0, "out of memory");
		goto fail;
	}
	h->insecure = opts->insecure;
	h->max_inflight = opts->max_inflight > 0 ? opts->max_inflight
						 : DEFAULT_MAX_INFLIGHT;
	h->attempt_timeout_ms = pick_ms(opts->attempt_timeout_ms,
					"WANDB__GRAPHQL_TIMEOUT_SECONDS",
					"WANDB_HTTP_TIMEOUT",
					DEFAULT_ATTEMPT_TIMEOUT_MS);
	h->deadline_ms = pick_ms(opts->deadline_ms, "WANDB_HTTP_TIMEOUT", NULL,
				 DEFAULT_DEADLINE_MS);
	h->retry_min_ms = pick_ms(opts->retry_min_ms,
				  "WANDB__GRAPHQL_RETRY_WAIT_MIN_SECONDS", NULL,
				  DEFAULT_RETRY_MIN_MS);
	h->retry_max_ms = pick_ms(opts->retry_max_ms,
				  "WANDB__GRAPHQL_RETRY_WAIT_MAX_SECONDS", NULL,
				  DEFAULT_RETRY_MAX_MS);
	if (h->retry_max_ms < h->retry_min_ms)
		h->retry_max_ms = h->retry_min_ms;
	h->max_retries = opts->max_retries;
	if (h->max_retries < 0) {
		const char *v = getenv("WANDB__GRAPHQL_RETRY_MAX");
		char *end;
		long n = v && *v ? strtol(v, &end, 10) : -1;

		if (v && *v && (*end || n < 0 || n > 1000)) {
			wb_log(WB_LOG_WARN,
			       "ignoring WANDB__GRAPHQL_RETRY_MAX=%s", v);
			n = -1;
		}
		h->max_retries = n >= 0 ? (int)n : DEFAULT_MAX_RETRIES;
	}
	h->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;

	if (opts->api_key && *opts->api_key) {
		rc = make_auth_header(h, opts->api_key);
		if (rc) {
			wb_error_set(err, rc, 0, "out of memory");
			goto fail;
		}
	}
	rc = load_identity_headers(h);
	if (rc) {
		wb_error_set(err, rc, 0, "out of memory");
		goto fail;
	}
	rc = load_extra_headers(h, err);
	if (rc)
		goto fail;

	h->free_handles =
		calloc((size_t)h->max_inflight, sizeof(*h->free_handles));
	h->share = curl_share_init();
	if (!h->free_handles || !h->share) {
		rc = wb_error_set(err, -ENOMEM, 0, "out of memory");
		goto fail;
	}
	if (curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION)) {
		rc = wb_error_set(err, -EIO, 0, "libcurl share setup failed");
		goto fail;
	}
	*out = h;
	return 0;
fail:
	wb_http_free(h);
	return rc;
}

static void wipe_slist_auth(struct curl_slist *l)
{
	for (; l; l = l->next)
		if (strncasecmp(l->data, "Authorization:", 14) == 0)
			explicit_bzero(l->data, strlen(l->data));
}

void wb_http_free(struct wb_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->n_free; i++)
		curl_easy_cleanup(h->free_handles[i]);
	free(h->free_handles);
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->slot_cv);
	if (h->auth_header) {
		explicit_bzero(h->auth_header, strlen(h->auth_header));
		free(h->auth_header);
	}
	wipe_slist_auth(h->all_headers); /* a user may put auth in extras */
	curl_slist_free_all(h->api_headers);
	curl_slist_free_all(h->all_headers);
	free(h->base_url);
	free(h->base_scheme);
	free(h->base_host);
	free(h->base_path);
	free(h->user_agent);
	free(h->ca_file);
	free(h);
}

void wb_http_get_stats(struct wb_http *h, struct wb_http_stats *out)
{
	out->requests = atomic_load(&h->st_requests);
	out->api_requests = atomic_load(&h->st_api);
	out->storage_requests = atomic_load(&h->st_storage);
	out->retries = atomic_load(&h->st_retries);
	out->bytes_in = atomic_load(&h->st_bytes);
}

void wb_http_resp_clear(struct wb_http_resp *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->content_range);
	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
}

/* ---- concurrency: slots and handle pool ------------------------------ */

static int slot_acquire(struct wb_http *h, long long deadline)
{
	struct timespec ts = { .tv_sec = deadline / 1000,
			       .tv_nsec = (deadline % 1000) * 1000000 };
	int rc = 0;

	pthread_mutex_lock(&h->mu);
	while (h->inflight >= h->max_inflight && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&h->slot_cv, &h->mu, &ts);
	if (h->inflight < h->max_inflight) {
		h->inflight++;
		rc = 0;
	}
	pthread_mutex_unlock(&h->mu);
	return rc ? -ETIMEDOUT : 0;
}

static CURL *handle_get(struct wb_http *h)
{
	CURL *eh = NULL;

	pthread_mutex_lock(&h->mu);
	if (h->n_free > 0)
		eh = h->free_handles[--h->n_free];
	pthread_mutex_unlock(&h->mu);
	return eh ? eh : curl_easy_init();
}

/* Return the handle (LIFO keeps warm connections busy) and the slot. */
static void handle_put_and_release(struct wb_http *h, CURL *eh)
{
	if (eh)
		curl_easy_reset(eh); /* keeps live connections and caches */
	pthread_mutex_lock(&h->mu);
	if (eh && h->n_free < h->max_inflight) {
		h->free_handles[h->n_free++] = eh;
		eh = NULL;
	}
	h->inflight--;
	pthread_cond_signal(&h->slot_cv);
	pthread_mutex_unlock(&h->mu);
	if (eh)
		curl_easy_cleanup(eh);
}

/* ---- one transfer ---------------------------------------------------- */

enum body_mode {
	MODE_UNSET,
	MODE_DELIVER,
	MODE_ERROR,
	MODE_DISCARD
};
enum abort_why {
	ABORT_NONE,
	ABORT_SINK,
	ABORT_TOO_BIG,
	ABORT_OOM,
	ABORT_RANGE_DONE,
	ABORT_BAD_RANGE
};

struct xfer {
	struct wb_http *h;
	const struct wb_http_req *req;
	CURL *eh;
	int ranged;
	/* per hop */
	enum body_mode mode;
	enum abort_why abort;
	int retry_after_count;
	char retry_after[64];
	char content_range[128];
	int encoded; /* Content-Encoding applied: lengths differ */
	/* per attempt: what reached the caller */
	char *body;
	size_t len, cap;
	uint64_t delivered;
	int64_t skip, want; /* range emulation over a 200 */
	int full_for_range;
	char *errbody;
	size_t errlen;
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, vl;
	const char *colon, *v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100-continue or a proxy CONNECT) */
		x->retry_after_count = 0;
		x->retry_after[0] = x->content_range[0] = '\0';
		x->encoded = 0;
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	for (v = colon + 1; v < data + n && (*v == ' ' || *v == '\t'); v++)
		;
	vl = (size_t)(data + n - v);
	while (vl > 0 && isspace((unsigned char)v[vl - 1]))
		vl--;
#define IS_HDR(name)                                   \
	((size_t)(colon - data) == sizeof(name) - 1 && \
	 strncasecmp(data, name, sizeof(name) - 1) == 0)
	if (IS_HDR("Retry-After")) {
		x->retry_after_count++;
		snprintf(x->retry_after, sizeof(x->retry_after), "%.*s",
			 (int)vl, v);
	} else if (IS_HDR("Content-Range")) {
		snprintf(x->content_range, sizeof(x->content_range), "%.*s",
			 (int)vl, v);
	} else if (IS_HDR("Content-Encoding")) {
		x->encoded = !(vl == 8 && strncasecmp(v, "identity", 8) == 0) &&
			vl > 0;
	}
#undef IS_HDR
	return n;
}

/* "bytes a-b/total" -> a, b (total may be '*'). */
static int parse_content_range(const char *s, int64_t *a, int64_t *b)
{
	long long x, y;

	if (sscanf(s, "bytes %lld-%lld", &x, &y) != 2 || x < 0 || y < x)
		return -EINVAL;
	*a = x;
	*b = y;
	return 0;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 ||
		status == 307 || status == 308;
}

static void decide_mode(struct xfer *x)
{
	long status = 0;

	curl_easy_getinfo(x->eh, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		x->mode = MODE_DELIVER;
		if (!x->ranged)
			return;
		x->want = x->req->range_end - x->req->range_start + 1;
		if (status == 206) {
			int64_t a, b;

			if (parse_content_range(x->content_range, &a, &b) ||
			    a != x->req->range_start)
				x->abort = ABORT_BAD_RANGE;
		} else {
			/* the server ignored Range: skip to the offset */
			x->skip = x->req->range_start;
			x->full_for_range = 1;
		}
	} else if (is_redirect(status) && x->req->follow_redirects) {
		x->mode = MODE_DISCARD;
	} else {
		x->mode = MODE_ERROR;
	}
}

static int deliver(struct xfer *x, const char *p, size_t m)
{
	const struct wb_http_sink *sink = x->req->sink;

	if (sink) {
		if (sink->write(sink->ud, p, m)) {
			x->abort = ABORT_SINK;
			return -1;
		}
	} else {
		if (m > x->h->max_body - x->len) {
			x->abort = ABORT_TOO_BIG;
			return -1;
		}
		if (x->cap - x->len <= m) {
			size_t cap = x->cap ? x->cap : 16384;
			char *b;

			while (cap - x->len <= m)
				cap *= 2;
			b = realloc(x->body, cap);
			if (!b) {
				x->abort = ABORT_OOM;
				return -1;
			}
			x->body = b;
			x->cap = cap;
		}
		memcpy(x->body + x->len, p, m);
		x->len += m;
		x->body[x->len] = '\0';
	}
	x->delivered += m;
	return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, m = n;
	const char *p = data;

	if (x->mode == MODE_UNSET)
		decide_mode(x);
	if (x->abort)
		return 0;
	if (x->mode == MODE_DISCARD)
		return n;
	if (x->mode == MODE_ERROR) {
		size_t room = ERRBODY_MAX - x->errlen;
		char *b;

		if (room == 0)
			return n;
		if (m > room)
			m = room;
		b = realloc(x->errbody, x->errlen + m + 1);
		if (!b)
			return n; /* the error body is only decoration */
		memcpy(b + x->errlen, p, m);
		x->errlen += m;
		b[x->errlen] = '\0';
		x->errbody = b;
		return n;
	}
	if (x->skip > 0) {
		size_t s = (uint64_t)x->skip < m ? (size_t)x->skip : m;

		p += s;
		m -= s;
		x->skip -= (int64_t)s;
	}
	if (x->ranged && (int64_t)m > x->want)
		m = (size_t)x->want;
	if (m && deliver(x, p, m))
		return 0;
	if (x->ranged) {
		x->want -= (int64_t)m;
		if (x->want == 0 && x->full_for_range) {
			/* got the slice of a full body: stop downloading */
			x->abort = ABORT_RANGE_DONE;
			return 0;
		}
	}
	return n;
}

/* What one attempt came to. */
enum outcome_kind {
	OUT_OK,
	OUT_RETRY,
	OUT_FAIL
};

struct outcome {
	enum outcome_kind kind;
	int code;    /* errno for OUT_FAIL */
	long status; /* last HTTP status, 0 if none */
	int curl_code;
	long retry_after_ms; /* -1 = none */
	char what[256];      /* reason without the label */
	char host[256];      /* netloc of the URL that failed */
};

static void say(struct outcome *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set the reason (truncated to fit, by design). */
static void say(struct outcome *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->what, sizeof(o->what), fmt, ap);
	va_end(ap);
}

static void set_host(struct outcome *o, const char *url)
{
	char *nl = wb_url_netloc(url);

	snprintf(o->host, sizeof(o->host), "%s", nl ? nl : "?");
	free(nl);
}

/* The header list of one hop into *out (NULL when empty): extra headers
 * always; identity and Authorization only inside the API scope. */
static int build_headers(struct wb_http *h, const struct wb_http_req *req,
			 int scoped, int is_post, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *n;
	const struct curl_slist *s;

#define APPEND(str)                              \
	do {                                     \
		n = curl_slist_append(l, (str)); \
		if (!n)                          \
			goto oom;                \
		l = n;                           \
	} while (0)
	for (s = h->all_headers; s; s = s->next)
		APPEND(s->data);
	if (scoped) {
		for (s = h->api_headers; s; s = s->next)
			APPEND(s->data);
		if (h->auth_header)
			APPEND(h->auth_header);
	}
	if (is_post) {
		char ct[256];

		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 req->content_type && header_safe(req->content_type)
				 ? req->content_type
				 : "application/json");
		APPEND(ct);
		APPEND("Expect:"); /* no 100-continue round trip */
	}
	*out = l;
	return 0;
#undef APPEND
oom:
	wipe_slist_auth(l);
	curl_slist_free_all(l);
	*out = NULL;
	return -ENOMEM;
}

/* Configure the (freshly reset) handle for one hop. */
static void setup_hop(struct xfer *x, const char *url, int is_post,
		      struct curl_slist *headers, long long deadline,
		      char *errbuf)
{
	struct wb_http *h = x->h;
	const struct wb_http_req *req = x->req;
	CURL *eh = x->eh;
	long left = (long)(deadline - now_ms());
	long connect_ms = h->attempt_timeout_ms < left ? h->attempt_timeout_ms
						       : left;
	char range[64];

	if (connect_ms < 1)
		connect_ms = 1;
	curl_easy_setopt(eh, CURLOPT_URL, url);
	curl_easy_setopt(eh, CURLOPT_SHARE, h->share);
	curl_easy_setopt(eh, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(eh, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(eh, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(eh, CURLOPT_HTTP_VERSION,
			 (long)CURL_HTTP_VERSION_2TLS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(eh, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(eh, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(eh, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(eh, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(eh, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(eh, CURLOPT_TCP_KEEPIDLE, 60L);
	curl_easy_setopt(eh, CURLOPT_TCP_KEEPINTVL, 30L);
	curl_easy_setopt(eh, CURLOPT_BUFFERSIZE, 128L * 1024);
	if (h->ca_file)
		curl_easy_setopt(eh, CURLOPT_CAINFO, h->ca_file);
	if (h->insecure) {
		curl_easy_setopt(eh, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(eh, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(eh, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(eh, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(eh, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(eh, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(eh, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(eh, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (req->sink) {
		/* Streams may run long: cut only a stalled one. */
		long stall_s = (h->attempt_timeout_ms + 999) / 1000;

		curl_easy_setopt(eh, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(eh, CURLOPT_LOW_SPEED_TIME, stall_s);
	} else {
		curl_easy_setopt(eh, CURLOPT_TIMEOUT_MS, connect_ms);
	}
	if (x->ranged) {
		snprintf(range, sizeof(range), "%lld-%lld",
			 (long long)req->range_start,
			 (long long)req->range_end);
		curl_easy_setopt(eh, CURLOPT_RANGE, range);
	} else {
		curl_easy_setopt(eh, CURLOPT_ACCEPT_ENCODING, "");
	}
	if (is_post) {
		curl_easy_setopt(eh, CURLOPT_POST, 1L);
		curl_easy_setopt(eh, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(eh, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
	} else {
		curl_easy_setopt(eh, CURLOPT_HTTPGET, 1L);
	}
}

/* After a complete 2xx: did we get every byte the server announced? */
static int body_complete(struct xfer *x, char *why, size_t why_len)
{
	curl_off_t cl = -1, got = 0;

	if (x->abort == ABORT_RANGE_DONE)
		return 1;
	curl_easy_getinfo(x->eh, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	curl_easy_getinfo(x->eh, CURLINFO_SIZE_DOWNLOAD_T, &got);
	if (cl >= 0 && !x->encoded && got != cl) {
		snprintf(why, why_len, "truncated body: %lld of %lld bytes",
			 (long long)got, (long long)cl);
		return 0;
	}
	if (x->ranged && !x->full_for_range && x->content_range[0]) {
		int64_t a, b;

		if (parse_content_range(x->content_range, &a, &b) == 0 &&
		    (int64_t)x->delivered != b - a + 1 &&
		    (int64_t)x->delivered <
			    x->req->range_end - x->req->range_start + 1) {
			snprintf(why, why_len,
				 "truncated range: %llu of %lld bytes",
				 (unsigned long long)x->delivered,
				 (long long)(b - a + 1));
			return 0;
		}
	}
	return 1;
}

static void log_hop(const struct wb_http_req *req, const char *method,
		    const char *url, long status, CURLcode cc, long long ms,
		    curl_off_t bytes, int attempt)
{
	char u[URL_LOG_MAX];

	if (!wb_log_enabled(WB_LOG_DEBUG))
		return;
	url_for_log(url, u, sizeof(u));
	if (cc == CURLE_OK)
		wb_log(WB_LOG_DEBUG,
		       "http %s %s %s -> %ld %lldms %lldB attempt %d",
		       req->label ? req->label : "-", method, u, status, ms,
		       (long long)bytes, attempt + 1);
	else
		wb_log(WB_LOG_DEBUG,
		       "http %s %s %s -> %ld (%s) %lldms %lldB attempt %d",
		       req->label ? req->label : "-", method, u, status,
		       curl_easy_strerror(cc), ms, (long long)bytes,
		       attempt + 1);
}

/* One attempt: the request plus any redirect hops. */
static void do_attempt(struct xfer *x, long long deadline, int attempt,
		       struct outcome *o)
{
	struct wb_http *h = x->h;
	const struct wb_http_req *req = x->req;
	int is_post = strcmp(req->method, "POST") == 0;
	char *url = strdup(req->url);
	char errbuf[CURL_ERROR_SIZE];

	memset(o, 0, sizeof(*o));
	o->retry_after_ms = -1;
	if (!url) {
		o->kind = OUT_FAIL;
		o->code = -ENOMEM;
		say(o, "out of memory");
		return;
	}
	for (int hop = 0;; hop++) {
		struct url_parts up;
		struct curl_slist *headers;
		int scoped;
		long status = 0;
		long long t0;
		curl_off_t got = 0;
		CURLcode cc;
		char *next = NULL;

		set_host(o, url);
		if (url_parts_get(url, &up)) {
			o->kind = OUT_FAIL;
			o->code = -EINVAL;
			say(o, "not an http(s) URL");
			break;
		}
		scoped = in_scope(h, &up);
		url_parts_free(&up);
		if (build_headers(h, req, scoped, is_post, &headers)) {
			o->kind = OUT_FAIL;
			o->code = -ENOMEM;
			say(o, "out of memory");
			break;
		}
		x->mode = MODE_UNSET;
		x->abort = ABORT_NONE;
		x->retry_after_count = 0;
		x->retry_after[0] = x->content_range[0] = '\0';
		x->encoded = 0;
		errbuf[0] = '\0';
		curl_easy_reset(x->eh);
		setup_hop(x, url, is_post, headers, deadline, errbuf);

		t0 = now_ms();
		cc = curl_easy_perform(x->eh);
		curl_easy_getinfo(x->eh, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(x->eh, CURLINFO_SIZE_DOWNLOAD_T, &got);
		/* headers hold the auth line: never leave it on the handle */
		curl_easy_setopt(x->eh, CURLOPT_HTTPHEADER, NULL);
		wipe_slist_auth(headers);
		curl_slist_free_all(headers);

		atomic_fetch_add(&h->st_requests, 1);
		atomic_fetch_add(scoped ? &h->st_api : &h->st_storage, 1);
		atomic_fetch_add(&h->st_bytes, (uint64_t)(got > 0 ? got : 0));
		log_hop(req, is_post ? "POST" : "GET", url, status,
			x->abort == ABORT_RANGE_DONE ? CURLE_OK : cc,
			now_ms() - t0, got, attempt);
		o->status = status;
		o->curl_code = cc;
		if (x->retry_after_count == 1)
			o->retry_after_ms = wb_http_parse_retry_after(
				x->retry_after, (long)time(NULL));

		if (x->abort == ABORT_RANGE_DONE) {
			o->kind = OUT_OK;
			break;
		}
		if (x->abort != ABORT_NONE) {
			o->kind = OUT_FAIL;
			switch (x->abort) {
			case ABORT_SINK:
				o->code = -ECANCELED;
				say(o, "download cancelled by its consumer");
				break;
			case ABORT_TOO_BIG:
				o->code = -EFBIG;
				say(o, "response from %s larger than %zu bytes",
				    o->host, h->max_body);
				break;
			case ABORT_BAD_RANGE:
				o->code = -EIO;
				say(o,
				    "%s answered a range request with \"%s\"",
				    o->host, x->content_range);
				break;
			default:
				o->code = -ENOMEM;
				say(o, "out of memory");
			}
			break;
		}
		if (cc != CURLE_OK) {
			if (cc == CURLE_OPERATION_TIMEDOUT &&
			    now_ms() >= deadline) {
				o->kind = OUT_FAIL;
				o->code = -ETIMEDOUT;
				say(o, "deadline exceeded talking to %s",
				    o->host);
				break;
			}
			o->status = 0; /* no (complete) response */
			o->kind = wb_http_should_retry(0, cc) ? OUT_RETRY
							      : OUT_FAIL;
			o->code = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
								 : -EIO;
			say(o, "%s: %s", o->host,
			    errbuf[0] ? errbuf : curl_easy_strerror(cc));
			break;
		}
		if (is_redirect(status) && req->follow_redirects) {
			char *loc = NULL;

			if (hop >= MAX_REDIRECTS) {
				o->kind = OUT_FAIL;
				o->code = -EIO;
				say(o, "more than %d redirects", MAX_REDIRECTS);
				break;
			}
			curl_easy_getinfo(x->eh, CURLINFO_REDIRECT_URL, &loc);
			if (!loc || !(next = strdup(loc))) {
				o->kind = OUT_FAIL;
				o->code = loc ? -ENOMEM : -EIO;
				say(o, "%s sent HTTP %ld without a Location",
				    o->host, status);
				break;
			}
			/* like browsers and curl: 303, and 301/302 after POST, become GET */
			if (status == 303 ||
			    ((status == 301 || status == 302) && is_post))
				is_post = 0;
			free(url);
			url = next;
			continue;
		}
		if (status >= 200 && status < 300) {
			if (body_complete(x, o->what, sizeof(o->what))) {
				o->kind = OUT_OK;
			} else {
				o->kind = OUT_RETRY;
				o->code = -EIO;
				o->status = 0;
			}
			break;
		}
		o->kind = wb_http_should_retry(status, 0) ? OUT_RETRY
							  : OUT_FAIL;
		o->code = wb_http_status_errno(status);
		if (!o->code)
			o->code = -EIO;
		if (status == 401)
			say(o,
			    scoped && h->auth_header
				    ? "API key rejected by %s (HTTP 401)"
				    : "%s requires credentials (HTTP 401)",
			    o->host);
		else if (status == 403)
			say(o, "permission denied by %s (HTTP 403)", o->host);
		else if (status == 404) {
			char u[URL_LOG_MAX];

			url_for_log(url, u, sizeof(u));
			say(o, "not found: %s (HTTP 404)", u);
		} else if (status == 429)
			say(o, "rate limited by %s (HTTP 429)", o->host);
		else
			say(o, "HTTP %ld from %s", status, o->host);
		break;
	}
	free(url);
}

int wb_http_perform(struct wb_http *h, const struct wb_http_req *req,
		    struct wb_http_resp *resp, struct wb_error *err)
{
	const char *label = req && req->label ? req->label : "http";
	struct xfer x;
	struct outcome o = { 0 };
	long long deadline;
	int attempt;

	wb_http_resp_clear(resp);
	if (!h || !req || !req->url || !req->method ||
	    (strcmp(req->method, "GET") != 0 &&
	     strcmp(req->method, "POST") != 0))
		return wb_error_set(err, -EINVAL, 0, "%s: bad request", label);
	if (req->range_end >= 0 &&
	    (req->range_start < 0 || req->range_end < req->range_start))
		return wb_error_set(err, -EINVAL, 0, "%s: bad range %lld-%lld",
				    label, (long long)req->range_start,
				    (long long)req->range_end);
	deadline = now_ms() +
		(req->deadline_ms > 0 ? req->deadline_ms : h->deadline_ms);

	memset(&x, 0, sizeof(x));
	x.h = h;
	x.req = req;
	x.ranged = req->range_end >= 0;
	for (attempt = 0;; attempt++) {
		long wait;

		resp->attempts = attempt + 1;
		if (slot_acquire(h, deadline)) {
			o.kind = OUT_FAIL;
			o.code = -ETIMEDOUT;
			say(&o,
			    "deadline exceeded waiting for a free connection slot");
			break;
		}
		x.eh = handle_get(h);
		if (!x.eh) {
			handle_put_and_release(h, NULL);
			o.kind = OUT_FAIL;
			o.code = -ENOMEM;
			say(&o, "cannot create a curl handle");
			break;
		}
		x.len = 0;
		x.delivered = 0;
		x.skip = 0;
		x.want = 0;
		x.full_for_range = 0;
		x.errlen = 0;
		do_attempt(&x, deadline, attempt, &o);
		if (o.kind == OUT_OK) {
			curl_off_t cl = -1;

			curl_easy_getinfo(
				x.eh, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
			resp->content_length = cl;
		}
		handle_put_and_release(h, x.eh);
		x.eh = NULL;
		if (o.kind != OUT_RETRY)
			break;

		if (x.delivered > 0) {
			if (req->sink && !req->sink->restart) {
				o.kind = OUT_FAIL;
				snprintf(
					o.what + strlen(o.what),
					sizeof(o.what) - strlen(o.what),
					" after %llu bytes (download cannot restart)",
					(unsigned long long)x.delivered);
				break;
			}
		}
		if (attempt >= h->max_retries) {
			o.kind = OUT_FAIL;
			break;
		}
		wait = wb_http_backoff_ms(attempt, h->retry_min_ms,
					  h->retry_max_ms, o.retry_after_ms,
					  jitter_unit());
		if (now_ms() + wait >= deadline) {
			char tmp[sizeof(o.what)];

			memcpy(tmp, o.what, sizeof(tmp));
			say(&o, "deadline exceeded (last error: %s)", tmp);
			o.kind = OUT_FAIL;
			o.code = -ETIMEDOUT;
			break;
		}
		wb_log(WB_LOG_INFO, "http %s: retrying in %ld ms after %s",
		       label, wait, o.what);
		atomic_fetch_add(&h->st_retries, 1);
		if (x.delivered > 0 && req->sink)
			req->sink->restart(req->sink->ud);
		sleep_until_ms(now_ms() + wait);
	}

	resp->status = o.status;
	if (o.kind == OUT_OK) {
		resp->body = x.body;
		resp->body_len = x.len;
		if (!req->sink && !resp->body) {
			resp->body = calloc(1, 1);
			if (!resp->body) {
				free(x.errbody);
				return wb_error_set(err, -ENOMEM, (int)o.status,
						    "%s: out of memory", label);
			}
		}
		if (x.content_range[0] && !x.full_for_range)
			resp->content_range = strdup(x.content_range);
		free(x.errbody);
		if (err) {
			wb_error_clear(err);
			err->http_status = (int)o.status;
		}
		return 0;
	}
	free(x.body);
	/* the error body helps callers explain (GraphQL errors, S3 XML) */
	resp->body = x.errbody;
	resp->body_len = x.errlen;
	if (o.kind == OUT_FAIL && resp->attempts > 1 && o.code != -ETIMEDOUT)
		return wb_error_set(err, o.code, (int)o.status,
				    "%s: %s (after %d attempts)", label, o.what,
				    resp->attempts);
	return wb_error_set(err, o.code, (int)o.status, "%s: %s", label,
			    o.what);
}
