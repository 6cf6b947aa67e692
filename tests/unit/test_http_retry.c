/* test_http_retry.c — the retry policy of client/http.c (the SDK's):
 * which statuses and curl codes are retried, backoff bounds with fixed
 * jitter, Retry-After in seconds and as an HTTP date, status -> errno. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <cmocka.h>

#include "wb_http.h"

static void test_status_retry(void **state)
{
	static const long final[] = { 400, 401, 403, 404, 409,
				      410, 413, 416, 422, 501 };
	static const long retried[] = { 402, 405, 408, 418, 425, 429, 451, 499,
					500, 502, 503, 504, 507, 599, 600, 999 };
	static const long not_failures[] = { 200, 201, 204, 206,
					     301, 302, 304, 307 };

	(void)state;
	for (size_t i = 0; i < sizeof(final) / sizeof(*final); i++)
		assert_int_equal(wb_http_should_retry(final[i], 0), 0);
	for (size_t i = 0; i < sizeof(retried) / sizeof(*retried); i++)
		assert_int_equal(wb_http_should_retry(retried[i], 0), 1);
	for (size_t i = 0; i < sizeof(not_failures) / sizeof(*not_failures);
	     i++)
		assert_int_equal(wb_http_should_retry(not_failures[i], 0), 0);
}

static void test_curl_retry(void **state)
{
	static const int retried[] = {
		CURLE_OK, /* status 0 and no error: no response at all */
		CURLE_COULDNT_RESOLVE_PROXY,
		CURLE_COULDNT_RESOLVE_HOST,
		CURLE_COULDNT_CONNECT,
		CURLE_HTTP2,
		CURLE_PARTIAL_FILE,
		CURLE_OPERATION_TIMEDOUT,
		CURLE_SSL_CONNECT_ERROR,
		CURLE_GOT_NOTHING,
		CURLE_SEND_ERROR,
		CURLE_RECV_ERROR,
		CURLE_HTTP2_STREAM,
		CURLE_BAD_CONTENT_ENCODING,
	};
	static const int final[] = {
		CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT,
		CURLE_TOO_MANY_REDIRECTS,   CURLE_PEER_FAILED_VERIFICATION,
		CURLE_SSL_CACERT_BADFILE,   CURLE_SSL_CERTPROBLEM,
		CURLE_SSL_ISSUER_ERROR,     CURLE_SSL_PINNEDPUBKEYNOTMATCH,
		CURLE_WRITE_ERROR,          CURLE_ABORTED_BY_CALLBACK,
		CURLE_OUT_OF_MEMORY,        CURLE_BAD_FUNCTION_ARGUMENT,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(retried) / sizeof(*retried); i++)
		assert_int_equal(wb_http_should_retry(0, retried[i]), 1);
	for (size_t i = 0; i < sizeof(final) / sizeof(*final); i++)
		assert_int_equal(wb_http_should_retry(0, final[i]), 0);
}

static void test_backoff(void **state)
{
	(void)state;
	/* min(max, min * 2^n * (1 + 0.25 u)) */
	assert_int_equal(wb_http_backoff_ms(0, 2000, 60000, -1, 0.0), 2000);
	assert_int_equal(wb_http_backoff_ms(0, 2000, 60000, -1, 0.5), 2250);
	assert_int_equal(wb_http_backoff_ms(1, 2000, 60000, -1, 0.0), 4000);
	assert_int_equal(wb_http_backoff_ms(3, 2000, 60000, -1, 0.0), 16000);
	assert_int_equal(wb_http_backoff_ms(4, 2000, 60000, -1, 0.8), 38400);
	assert_int_equal(wb_http_backoff_ms(5, 2000, 60000, -1, 0.0), 60000);
	assert_int_equal(wb_http_backoff_ms(40, 2000, 60000, -1, 0.9), 60000);
	assert_int_equal(wb_http_backoff_ms(1000, 2000, 60000, -1, 0.9), 60000);
	for (int n = 0; n < 12; n++) {
		double units[] = { 0.0, 0.25, 0.5, 0.999999 };

		for (size_t k = 0; k < 4; k++) {
			long d = wb_http_backoff_ms(n, 2000, 60000, -1,
						    units[k]);
			long lo = 2000L << n, hi = 2500L << n;

			if (lo > 60000)
				lo = 60000;
			if (hi > 60000)
				hi = 60000;
			assert_in_range(d, lo, hi);
		}
	}
	/* Retry-After wins, even over the cap (the deadline bounds it) */
	assert_int_equal(wb_http_backoff_ms(0, 2000, 60000, 5000, 0.3), 5000);
	assert_int_equal(wb_http_backoff_ms(7, 2000, 60000, 0, 0.3), 0);
	assert_int_equal(wb_http_backoff_ms(0, 2000, 60000, 90000, 0.3), 90000);
	/* a jitter draw outside [0,1) is treated as 0 */
	assert_int_equal(wb_http_backoff_ms(0, 2000, 60000, -1, 1.0), 2000);
}

static void test_retry_after(void **state)
{
	/* RFC 9110's example date, 784111777 seconds after the epoch */
	const long t = 784111777;

	(void)state;
	assert_int_equal(wb_http_parse_retry_after("120", t), 120000);
	assert_int_equal(wb_http_parse_retry_after("0", t), 0);
	assert_int_equal(wb_http_parse_retry_after("1.5", t), 1500);
	assert_int_equal(wb_http_parse_retry_after(" 3 ", t), 3000);
	assert_int_equal(wb_http_parse_retry_after("-1", t), -1);
	assert_int_equal(wb_http_parse_retry_after("abc", t), -1);
	assert_int_equal(wb_http_parse_retry_after("5s", t), -1);
	assert_int_equal(wb_http_parse_retry_after("", t), -1);
	assert_int_equal(wb_http_parse_retry_after(NULL, t), -1);
	/* HTTP dates: IMF-fixdate, RFC 850, asctime */
	assert_int_equal(wb_http_parse_retry_after(
				 "Sun, 06 Nov 1994 08:49:37 GMT", t - 10),
			 10000);
	assert_int_equal(wb_http_parse_retry_after(
				 "Sunday, 06-Nov-94 08:49:37 GMT", t - 10),
			 10000);
	assert_int_equal(wb_http_parse_retry_after("Sun Nov  6 08:49:37 1994",
						   t - 10),
			 10000);
	/* a date in the past means now */
	assert_int_equal(wb_http_parse_retry_after(
				 "Sun, 06 Nov 1994 08:49:37 GMT", t + 100),
			 0);
	assert_int_equal(
		wb_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", t),
		-1);
	assert_int_equal(
		wb_http_parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT", t),
		-1);
	assert_int_equal(
		wb_http_parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", t),
		-1);
}

static void test_status_errno(void **state)
{
	(void)state;
	assert_int_equal(wb_http_status_errno(200), 0);
	assert_int_equal(wb_http_status_errno(206), 0);
	assert_int_equal(wb_http_status_errno(400), -EINVAL);
	assert_int_equal(wb_http_status_errno(401), -EACCES);
	assert_int_equal(wb_http_status_errno(403), -EACCES);
	assert_int_equal(wb_http_status_errno(404), -ENOENT);
	assert_int_equal(wb_http_status_errno(408), -ETIMEDOUT);
	assert_int_equal(wb_http_status_errno(409), -EIO);
	assert_int_equal(wb_http_status_errno(410), -ENOENT);
	assert_int_equal(wb_http_status_errno(413), -EFBIG);
	assert_int_equal(wb_http_status_errno(416), -ERANGE);
	assert_int_equal(wb_http_status_errno(422), -EINVAL);
	assert_int_equal(wb_http_status_errno(429), -EAGAIN);
	assert_int_equal(wb_http_status_errno(500), -EIO);
	assert_int_equal(wb_http_status_errno(501), -EOPNOTSUPP);
	assert_int_equal(wb_http_status_errno(503), -EIO);
	assert_int_equal(wb_http_status_errno(302), -EIO);
	assert_int_equal(wb_http_status_errno(0), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_retry),
		cmocka_unit_test(test_curl_retry),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_status_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
