/* fail_alloc.h — failure injection for cJSON allocations in unit tests:
 * fail_alloc_at(n) makes the n-th cJSON allocation from now (0-based) fail
 * and every other one succeed; fail_alloc_off() restores the defaults.
 * fail_alloc_hit() says whether the failure was reached, so a test can walk
 * n upwards until a run no longer reaches it (every allocation covered). */
#ifndef FAIL_ALLOC_H
#define FAIL_ALLOC_H

#include <stdlib.h>
#include <cjson/cJSON.h>

static long fail_alloc_left = -1; /* allocations before the failing one */
static int fail_alloc_reached;

static void *fail_alloc_malloc(size_t n)
{
	if (fail_alloc_left == 0) {
		fail_alloc_left = -1;
		fail_alloc_reached = 1;
		return NULL;
	}
	if (fail_alloc_left > 0)
		fail_alloc_left--;
	return malloc(n);
}

static inline void fail_alloc_at(long n)
{
	cJSON_Hooks hooks = { fail_alloc_malloc, free };

	fail_alloc_left = n;
	fail_alloc_reached = 0;
	cJSON_InitHooks(&hooks);
}

static inline int fail_alloc_hit(void)
{
	return fail_alloc_reached;
}

static inline void fail_alloc_off(void)
{
	fail_alloc_left = -1;
	cJSON_InitHooks(NULL);
}

#endif
