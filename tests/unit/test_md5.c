/* test_md5.c — fs/data/md5.c against the test suite of RFC 1321 (A.5),
 * a million 'a', and incremental feeding split at every point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wfs_md5.h"

static void hex_of(const uint8_t d[WFS_MD5_LEN], char out[33])
{
	for (int i = 0; i < WFS_MD5_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The digest of len bytes fed in one piece. */
static void digest(const void *p, size_t len, uint8_t d[WFS_MD5_LEN])
{
	struct wfs_md5 m;

	wfs_md5_init(&m);
	wfs_md5_update(&m, p, len);
	wfs_md5_final(&m, d);
}

static void rfc1321_suite(void **state)
{
	static const struct {
		const char *in, *md5;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
		{ "abcdefghijklmnopqrstuvwxyz",
		  "c3fcd3d76192e4007dfb496cca67e13b" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		  "0123456789",
		  "d174ab98d277d9f5a5611c2c9f419d9f" },
		{ "1234567890123456789012345678901234567890"
		  "1234567890123456789012345678901234567890",
		  "57edf4a22be3c955ac49da2e2107b67a" },
	};
	uint8_t d[WFS_MD5_LEN];
	char got[33];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		digest(v[i].in, strlen(v[i].in), d);
		hex_of(d, got);
		assert_string_equal(got, v[i].md5);
	}
}

/* A million 'a', fed in pieces of odd sizes (block boundaries crossed
 * from every offset). */
static void million_a(void **state)
{
	static char a[997];
	struct wfs_md5 m;
	uint8_t d[WFS_MD5_LEN];
	size_t left = 1000000, step = 1;
	char got[33];

	(void)state;
	memset(a, 'a', sizeof(a));
	wfs_md5_init(&m);
	while (left) {
		size_t n = step < left ? step : left;

		wfs_md5_update(&m, a, n);
		left -= n;
		step = (step + 7) % sizeof(a) + 1;
	}
	wfs_md5_final(&m, d);
	hex_of(d, got);
	assert_string_equal(got, "7707d6ae4e027c70eea2a935c2296f21");
}

/* Two pieces split anywhere give the digest of the whole, for lengths
 * around the padding boundaries (55, 56, 63, 64, 119, 120 ...). */
static void split_anywhere(void **state)
{
	uint8_t buf[200], whole[WFS_MD5_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		digest(buf, len, whole);
		for (size_t cut = 0; cut <= len; cut++) {
			struct wfs_md5 m;
			uint8_t d[WFS_MD5_LEN];

			wfs_md5_init(&m);
			wfs_md5_update(&m, buf, cut);
			wfs_md5_update(&m, buf + cut, len - cut);
			wfs_md5_final(&m, d);
			assert_memory_equal(d, whole, WFS_MD5_LEN);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1321_suite),
		cmocka_unit_test(million_a),
		cmocka_unit_test(split_anywhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
