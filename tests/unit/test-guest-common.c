// SPDX-License-Identifier: GPL-2.0-only
/* The guest tools' common helpers: numeric arguments, the monotonic clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "mono-time.h"
#include "parse-u32.h"

static void parse_u32_bounds(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(parse_u32("5", 1, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(parse_u32("0", 1, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("11", 1, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("3x", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	/* Beyond u32, and beyond what strtoull can hold. */
	assert_int_equal(parse_u32("4294967296", 0, UINT32_MAX, &v), -EINVAL);
	assert_int_equal(parse_u32("99999999999999999999", 0, UINT32_MAX, &v), -EINVAL);
	/* A failed parse leaves the value alone. */
	assert_int_equal(v, UINT32_MAX);
}

static void sleep_until_reaches_the_time(void **state)
{
	double t0 = mono_now_ms(), t1;

	(void)state;
	mono_sleep_until_ms(t0 + 20);
	t1 = mono_now_ms();
	assert_true(t1 >= t0 + 20);
	/* A time already past: no sleep, and the clock does not go back. */
	mono_sleep_until_ms(t0);
	assert_true(mono_now_ms() >= t1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_u32_bounds),
		cmocka_unit_test(sleep_until_reaches_the_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
