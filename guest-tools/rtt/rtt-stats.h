/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Round-trip times of a ping run and the summary that om-ping (virtio-om)
 * and om-udp-ping (UDP) both print, in one format, so that a script reads
 * them alike. Also built for the host (tests/unit/test-rtt-stats.c).
 *
 * The summary, after the tool's own "--- ... statistics ---" line:
 *   S transmitted, R received, L% loss, rtt min/avg/max = A/B/C ms
 *   rtt min/median/p99/mean = A/B/C/D ms
 * the second line only when a reply came. The median of an even count is
 * the mean of the two middle times; p99 is the nearest rank: the smallest
 * time that at least 99 % of the times do not exceed.
 */
#ifndef OM_RTT_STATS_H
#define OM_RTT_STATS_H

#include <stdint.h>
#include <stdio.h>

struct rtt_samples {
	double *ms;   /* the times, in milliseconds, in the order measured */
	uint32_t n;   /* how many were added */
	uint32_t cap; /* room for this many */
};

struct rtt_summary {
	double min, median, p99, mean, max;
};

/* Room for cap times, allocated at once; 0 or -ENOMEM. */
int rtt_samples_init(struct rtt_samples *s, uint32_t cap);
void rtt_samples_free(struct rtt_samples *s);

/* Adds one time; -ENOSPC beyond cap. */
int rtt_samples_add(struct rtt_samples *s, double ms);

/* Summarises the times (sorting s->ms); -ENODATA when there are none. */
int rtt_summarize(struct rtt_samples *s, struct rtt_summary *out);

/*
 * Prints the summary lines above for sent requests and the replies in s
 * (sorting s->ms). Returns what fprintf's stream reports: 0 or -EIO.
 */
int rtt_print_summary(FILE *f, uint32_t sent, struct rtt_samples *s);

#endif /* OM_RTT_STATS_H */
