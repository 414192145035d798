/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What omtrace works out over many messages: the latency of each reply
 * (matched to its request by reply_to and the pair of nodes), and the
 * summary (--summary): per type counts, bytes and latency percentiles,
 * per pair of nodes and type counts and bytes.
 */
#ifndef OM_TRACE_STATS_H
#define OM_TRACE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

/*
 * Requests waiting for their reply, by (source, destination, seq) in a
 * fixed table: a request whose slot a later one took gets no latency.
 */
#define OM_LATENCY_SLOTS 65536

struct om_latency {
	struct {
		uint32_t src, dst;
		uint64_t seq, time_ns;
		uint16_t type;
		bool used;
	} slot[OM_LATENCY_SLOTS];
};

void om_latency_init(struct om_latency *l);
/*
 * Notes r. For a reply to a request seen before: true, the time from the
 * request to the reply in *ns and the request's type in *req_type.
 */
bool om_latency_note(struct om_latency *l, const struct om_trace_rec *r, uint64_t *ns,
		     uint16_t *req_type);

/*
 * Latencies in log-linear buckets: exact below 64 ns, then 32 buckets per
 * power of two (a percentile is within 1/32 of the true value, and never
 * above the largest value seen).
 */
#define OM_HIST_SUB 32
#define OM_HIST_BUCKETS (64 + 58 * OM_HIST_SUB)

struct om_hist {
	uint64_t n, min, max;
	uint64_t bucket[OM_HIST_BUCKETS];
};

void om_hist_add(struct om_hist *h, uint64_t v);
/* The p-th percentile (0 < p <= 100) of the values added; 0 when none. */
uint64_t om_hist_percentile(const struct om_hist *h, double p);

struct om_summary_type {
	uint16_t type;
	uint64_t msgs, bytes, undeliverable;
	struct om_hist latency; /* of the replies to messages of this type */
};

struct om_summary_pair {
	uint32_t src, dst;
	uint16_t type;
	uint64_t msgs, bytes;
};

struct om_summary {
	struct om_summary_type *types;
	size_t n_types;
	struct om_summary_pair *pairs;
	size_t n_pairs;
	uint64_t msgs, bytes, missed;
	uint64_t first_ns, last_ns;
};

void om_summary_init(struct om_summary *s);
/*
 * Counts r; have_latency: r is a reply whose request (of req_type) was
 * seen latency ns before. 0 or -ENOMEM.
 */
int om_summary_add(struct om_summary *s, const struct om_trace_rec *r, bool have_latency,
		   uint64_t latency, uint16_t req_type);
void om_summary_print(const struct om_summary *s, FILE *out);
void om_summary_free(struct om_summary *s);

#endif /* OM_TRACE_STATS_H */
