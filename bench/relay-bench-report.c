// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lines of relay-bench's report: the load average, the rows of a
 * table of results, and target lines with PASS or MISS (for D, the
 * median of the rounds' ratios with their quartiles).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay-bench.h"

void print_loadavg(const char *when)
{
	char buf[128] = "?";
	FILE *fp = fopen("/proc/loadavg", "r");

	if (fp) {
		if (fgets(buf, sizeof(buf), fp))
			buf[strcspn(buf, "\n")] = 0;
		fclose(fp);
	}
	printf("load average %s: %s (%ld CPUs online)\n", when, buf, sysconf(_SC_NPROCESSORS_ONLN));
}

void print_head(void)
{
	printf("  %8s %12s %8s %11s %11s %12s\n", "payload", "msgs/s", "GB/s", "relay CPU", "all CPU",
	       "msgs checked");
	printf("  %8s %12s %8s %11s %11s %12s\n", "bytes", "", "", "ns/msg", "ns/msg", "");
}

void print_row(uint32_t size, const struct result *r)
{
	printf("  %8u %12.0f %8.3f %11.0f %11.0f %12" PRIu64 "\n", size, r->msgs_s, r->gb_s,
	       r->relay_cpu, r->total_cpu, r->checked);
}

const struct result *result_at(const struct result *r, uint32_t size)
{
	for (unsigned int i = 0; i < g_opts.nsizes; i++)
		if (g_opts.sizes[i] == size && r[i].have)
			return &r[i];
	return NULL;
}

void print_target(const char *what, double value, const char *fmt_target, bool have,
			 bool pass)
{
	char v[32];

	if (have)
		snprintf(v, sizeof(v), value >= 1e5 ? "%.0f" : "%.2f", value);
	else
		snprintf(v, sizeof(v), "-");
	printf("  %-40s %12s  %-12s %s\n", what, v, fmt_target,
	       !have ? "n/a (size not measured)" : pass ? "PASS" : "MISS");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n values, by linear interpolation; sorts v. */
static double quantile(double *v, unsigned int n, double q)
{
	double pos = q * (n - 1);
	unsigned int i = (unsigned int)pos;

	qsort(v, n, sizeof(*v), cmp_double);
	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

void print_trace_target(const char *what, double *ratios, unsigned int n, const char *target_text,
			double target)
{
	double m = quantile(ratios, n, 0.5), q1 = quantile(ratios, n, 0.25),
	       q3 = quantile(ratios, n, 0.75);

	print_target(what, m, target_text, true, m >= target);
	printf("  %-40s %12s  rounds: quartiles %.3f..%.3f, all %.3f..%.3f%s\n", "", "", q1, q3,
	       ratios[0], ratios[n - 1],
	       q1 < target && target < q3 ? " (the target is inside: not resolved)" : "");
}

