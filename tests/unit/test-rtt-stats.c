// SPDX-License-Identifier: GPL-2.0-only
/* Round-trip statistics and the summary om-ping and om-udp-ping share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rtt-stats.h"

static void fill(struct rtt_samples *s, const double *ms, uint32_t n)
{
	assert_int_equal(rtt_samples_init(s, n), 0);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(rtt_samples_add(s, ms[i]), 0);
}

static void odd_and_even_counts(void **state)
{
	const double odd[] = { 5, 1, 4, 2, 3 }, even[] = { 4, 1, 3, 2 };
	struct rtt_samples s;
	struct rtt_summary sum;

	(void)state;
	fill(&s, odd, 5);
	assert_int_equal(rtt_summarize(&s, &sum), 0);
	assert_true(sum.min == 1 && sum.max == 5 && sum.median == 3 && sum.mean == 3);
	/* Nearest rank: ceil(0.99 * 5) = 5th. */
	assert_true(sum.p99 == 5);
	rtt_samples_free(&s);

	/* The median of an even count is the mean of the middle two. */
	fill(&s, even, 4);
	assert_int_equal(rtt_summarize(&s, &sum), 0);
	assert_true(sum.median == 2.5 && sum.mean == 2.5 && sum.p99 == 4);
	rtt_samples_free(&s);

	fill(&s, (const double[]){ 0.25 }, 1);
	assert_int_equal(rtt_summarize(&s, &sum), 0);
	assert_true(sum.min == 0.25 && sum.median == 0.25 && sum.p99 == 0.25 && sum.max == 0.25);
	rtt_samples_free(&s);
}

static void p99_is_the_nearest_rank(void **state)
{
	struct rtt_samples s;
	struct rtt_summary sum;

	(void)state;
	/* 1..100 in reverse: the 99th of 100 is 99. */
	assert_int_equal(rtt_samples_init(&s, 100), 0);
	for (int i = 100; i >= 1; i--)
		assert_int_equal(rtt_samples_add(&s, i), 0);
	assert_int_equal(rtt_summarize(&s, &sum), 0);
	assert_true(sum.p99 == 99 && sum.median == 50.5 && sum.mean == 50.5);
	rtt_samples_free(&s);

	/* 101 times: ceil(99.99) = the 100th. */
	assert_int_equal(rtt_samples_init(&s, 101), 0);
	for (int i = 1; i <= 101; i++)
		assert_int_equal(rtt_samples_add(&s, i), 0);
	assert_int_equal(rtt_summarize(&s, &sum), 0);
	assert_true(sum.p99 == 100 && sum.median == 51);
	rtt_samples_free(&s);

	/* 200 times: the 198th; one slow outlier does not move it. */
	assert_int_equal(rtt_samples_init(&s, 200), 0);
	for (int i = 1; i <= 199; i++)
		assert_int_equal(rtt_samples_add(&s, i), 0);
	assert_int_equal(rtt_samples_add(&s, 1e6), 0);
	assert_int_equal(rtt_summarize(&s, &sum), 0);
	assert_true(sum.p99 == 198 && sum.max == 1e6);
	rtt_samples_free(&s);
}

static void bounds(void **state)
{
	struct rtt_samples s;
	struct rtt_summary sum;

	(void)state;
	assert_int_equal(rtt_samples_init(&s, 2), 0);
	assert_int_equal(rtt_summarize(&s, &sum), -ENODATA);
	assert_int_equal(rtt_samples_add(&s, 1), 0);
	assert_int_equal(rtt_samples_add(&s, 2), 0);
	assert_int_equal(rtt_samples_add(&s, 3), -ENOSPC);
	assert_int_equal(s.n, 2);
	rtt_samples_free(&s);
	assert_null(s.ms);
}

/* What rtt_print_summary writes for sent requests and these replies. */
static void summary_text(uint32_t sent, const double *ms, uint32_t n, char *out, size_t cap)
{
	struct rtt_samples s;
	FILE *f = fmemopen(out, cap, "w");

	assert_non_null(f);
	fill(&s, ms, n);
	assert_int_equal(rtt_print_summary(f, sent, &s), 0);
	fclose(f);
	rtt_samples_free(&s);
}

static void printed_summary(void **state)
{
	const double ms[] = { 0.5, 0.25, 1.0, 0.75 };
	char out[512];

	(void)state;
	summary_text(4, ms, 4, out, sizeof(out));
	/* The line om-ping always printed, then the one scripts compare. */
	assert_string_equal(out, "4 transmitted, 4 received, 0% loss, rtt min/avg/max = 0.250/0.625/1.000 ms\n"
				 "rtt min/median/p99/mean = 0.250/0.625/1.000/0.625 ms\n");
	summary_text(4, ms, 3, out, sizeof(out));
	assert_non_null(strstr(out, "4 transmitted, 3 received, 25% loss, rtt min/avg/max = 0.250/0.583/1.000 ms\n"));
	assert_non_null(strstr(out, "rtt min/median/p99/mean = 0.250/0.500/1.000/0.583 ms\n"));
	/* No reply: no times to show. */
	summary_text(3, ms, 0, out, sizeof(out));
	assert_string_equal(out, "3 transmitted, 0 received, 100% loss\n");
	summary_text(0, ms, 0, out, sizeof(out));
	assert_string_equal(out, "0 transmitted, 0 received, 0% loss\n");
	/* Large counts do not overflow the loss percentage. */
	{
		struct rtt_samples s = { 0 };
		FILE *f = fmemopen(out, sizeof(out), "w");

		assert_non_null(f);
		assert_int_equal(rtt_samples_init(&s, 1), 0);
		assert_int_equal(rtt_print_summary(f, UINT32_MAX, &s), 0);
		fclose(f);
		rtt_samples_free(&s);
		assert_non_null(strstr(out, "4294967295 transmitted, 0 received, 100% loss"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(odd_and_even_counts),
		cmocka_unit_test(p99_is_the_nearest_rank),
		cmocka_unit_test(bounds),
		cmocka_unit_test(printed_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
