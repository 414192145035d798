/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The round trip of one message through a running omhostd: two synthetic
 * front-ends on nodes 1 and 2 of the omhostd serving dir play ping-pong,
 * one message in flight at a time, so each message wakes the relay (kick)
 * and its receiver (call) from sleep. relay-bench's figure next to its
 * saturated ones.
 */
#ifndef OM_BENCH_RELAY_RTT_H
#define OM_BENCH_RELAY_RTT_H

#include <stddef.h>
#include <stdint.h>

struct relay_rtt {
	unsigned int n;		  /* round trips timed (after a warm-up) */
	double median_us, p99_us, min_us;
};

/*
 * n round trips of size-byte messages, node 1 -> node 2 -> node 1, each
 * checked (source, length, its number in the payload). 0, or -errno with
 * what went wrong in err.
 */
int relay_rtt_run(const char *dir, uint32_t size, unsigned int n, struct relay_rtt *out,
		  char *err, size_t errlen);

#endif /* OM_BENCH_RELAY_RTT_H */
