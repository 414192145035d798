// SPDX-License-Identifier: GPL-2.0-only
#include "rtt-stats.h"

#include <errno.h>
#include <stdlib.h>

int rtt_samples_init(struct rtt_samples *s, uint32_t cap)
{
	s->n = 0;
	s->cap = cap;
	s->ms = calloc(cap ? cap : 1, sizeof(*s->ms));
	return s->ms ? 0 : -ENOMEM;
}

void rtt_samples_free(struct rtt_samples *s)
{
	free(s->ms);
	s->ms = NULL;
	s->n = s->cap = 0;
}

int rtt_samples_add(struct rtt_samples *s, double ms)
{
	if (s->n == s->cap)
		return -ENOSPC;
	s->ms[s->n++] = ms;
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int rtt_summarize(struct rtt_samples *s, struct rtt_summary *out)
{
	uint32_t n = s->n, rank;
	double sum = 0;

	if (!n)
		return -ENODATA;
	qsort(s->ms, n, sizeof(*s->ms), by_value);
	for (uint32_t i = 0; i < n; i++)
		sum += s->ms[i];
	/* Nearest rank, ceil(0.99 n), without floating point: 1-based. */
	rank = (uint32_t)(((uint64_t)n * 99 + 99) / 100);
	out->min = s->ms[0];
	out->max = s->ms[n - 1];
	out->median = n % 2 ? s->ms[n / 2] : (s->ms[n / 2 - 1] + s->ms[n / 2]) / 2;
	out->p99 = s->ms[rank - 1];
	out->mean = sum / n;
	return 0;
}

int rtt_print_summary(FILE *f, uint32_t sent, struct rtt_samples *s)
{
	struct rtt_summary sum;
	uint32_t got = s->n;

	fprintf(f, "%u transmitted, %u received, %u%% loss", sent, got,
		sent ? (uint32_t)((uint64_t)(sent - got) * 100 / sent) : 0);
	if (rtt_summarize(s, &sum) == 0) {
		fprintf(f, ", rtt min/avg/max = %.3f/%.3f/%.3f ms\n", sum.min, sum.mean, sum.max);
		fprintf(f, "rtt min/median/p99/mean = %.3f/%.3f/%.3f/%.3f ms\n", sum.min,
			sum.median, sum.p99, sum.mean);
	} else {
		fprintf(f, "\n");
	}
	return ferror(f) ? -EIO : 0;
}
