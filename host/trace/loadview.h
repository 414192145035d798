/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omtrace --loads: the fleet's load as the relay sees it pass. Each node's
 * latest values from the LOAD messages in a trace (its own first entry,
 * or what another node passed on when that is fresher), node events, and
 * the table drawn from them. docs/tracing.md, "Load view".
 */
#ifndef OM_TRACE_LOADVIEW_H
#define OM_TRACE_LOADVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

/*
 * Hearsay replaces known values only when younger by more than this: half
 * the time between a node's LOADs (loadview.c, take()).
 */
#define OM_LOADVIEW_HEARSAY_SLACK_MS 500

/* The LOADs a second column counts over the last this many whole seconds. */
#define OM_LOADVIEW_RATE_SECS 10

struct om_loadview_node {
	bool known;	  /* values below were heard */
	bool down;	  /* NODE_DOWN seen, nothing measured since */
	bool joined;	  /* NODE_UP seen, nothing measured since */
	uint32_t via;	  /* 0: the node's own entry; else the node that passed it on */
	uint64_t at_ns;	  /* when the values were measured (the trace's clock) */
	uint64_t floor_ns; /* its last NODE_UP or NODE_DOWN: values older are of before */
	uint32_t load, load_slow, runnable, speed, ncpus, flags, hosted, away;
	uint64_t free_kib, total_kib;
	/* LOADs it sent, counted per second of the trace's clock (second % size). */
	uint64_t sec_id[OM_LOADVIEW_RATE_SECS + 1];
	uint32_t sec_n[OM_LOADVIEW_RATE_SECS + 1];
};

struct om_loadview {
	uint64_t start_ns; /* the view began: rates count from the next whole second */
	uint64_t loads;	   /* LOAD messages seen */
	uint64_t malformed; /* of them, refused whole (docs/tracing.md) */
	uint64_t cut;	   /* of them, captured short of their length: not read */
	uint64_t missed;   /* messages this listener missed */
	struct om_loadview_node node[VIRTIO_OM_MAX_NODES + 1]; /* by node id */
};

/* An empty view that starts at start_ns (the trace's clock, ns since the epoch). */
void om_loadview_init(struct om_loadview *v, uint64_t start_ns);

/*
 * Takes in one record: a LOAD's entries, a NODE_UP or NODE_DOWN, a count
 * of missed messages; other records are ignored. 0, or for a LOAD not
 * read: -EPROTO malformed, -EMSGSIZE captured short.
 */
int om_loadview_add(struct om_loadview *v, const struct om_trace_rec *r);

/* The table as of now_ns: a summary line, a header, a line per node heard of. */
void om_loadview_draw(const struct om_loadview *v, uint64_t now_ns, FILE *out);

#endif /* OM_TRACE_LOADVIEW_H */
