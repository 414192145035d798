/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What om-ping (virtio-om) and om-udp-ping (UDP) share around their
 * transports, so that the two measure and print alike: the options
 * -c -i -t -p -q -s -h, and the run: each request sent, its echo waited
 * for, its round trip printed and kept, the next request paced from this
 * one's start, then the summary (rtt-stats.h). A tool brings its transport
 * (struct ping_transport) and the names in the lines:
 *   8 bytes from PEER: seq=N time=T ms
 *   no reply from PEER: seq=N (timeout T ms)
 *   --- PEER WHAT statistics ---
 * Also built for the host (tests/unit/test-ping-run.c).
 */
#ifndef OM_PING_RUN_H
#define OM_PING_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rtt-stats.h"

struct ping_options {
	uint32_t count;	      /* -c: requests to send */
	uint32_t interval_ms; /* -i: from one request's start to the next's; 0: at once */
	uint32_t timeout_ms;  /* -t: how long each echo is waited for */
	uint32_t port;	      /* -p: the tool says what it names */
	bool quiet;	      /* -q: the summary only */
	bool serve;	      /* -s: echo the other tool's requests instead */
};

/* One request, a second's wait; the tool sets its own default port. */
#define PING_OPTIONS_DEFAULTS { .count = 1, .interval_ms = 1000, .timeout_ms = 1000 }

/* ping_parse_options' result when the tool goes on with argv[optind...]. */
#define PING_OPTIONS_PARSED (-1)

/*
 * Parses the options above into o, which holds the defaults on entry; -p
 * takes 1..port_max. Returns PING_OPTIONS_PARSED, or the exit status: 0
 * after -h (usage(stdout)), 2 after a bad option (usage(stderr), or
 * "PROG: bad value for -X: VALUE" on stderr).
 */
int ping_parse_options(int argc, char **argv, const char *prog, uint32_t port_max,
		       void (*usage)(FILE *f), struct ping_options *o);

/* How one step of a round trip went. */
enum ping_step {
	PING_DONE,    /* send: the request went; wait: its echo came */
	PING_TIMEOUT, /* wait: no echo by the deadline */
	PING_STOP,    /* no echo will come (peer down, nothing listening, a failed
		       * wait): the run ends, with its summary */
	PING_FATAL,   /* send: the request could not go: exit 2, no summary */
};

/* A tool's transport. Before PING_STOP or PING_FATAL it says why, on stderr. */
struct ping_transport {
	/* Sends request seq (1, 2, ...). */
	enum ping_step (*send)(void *ctx, uint32_t seq);
	/* Waits for the echo of request seq until deadline_ms (mono_now_ms()). */
	enum ping_step (*wait)(void *ctx, uint32_t seq, double deadline_ms);
	void *ctx;
};

struct ping_run {
	const char *prog; /* "om-ping": what its messages start with */
	const char *peer; /* "node 3", "10.77.0.2": who echoes */
	const char *what; /* "ping", "udp ping": in the summary's title */
	FILE *out;	  /* where the lines go */
	struct ping_options opt;
	struct rtt_samples rtts; /* all of them: the median and p99 need them */
};

/*
 * Room for the round trips of run->opt.count requests, taken before the
 * run: 0, or the exit status 2 once it said on stderr that there is no memory.
 */
int ping_run_prepare(struct ping_run *run);

/*
 * Sends run->opt.count requests through t, prints each round trip (unless
 * quiet) and the summary, and frees the round trips. Returns the exit
 * status: 0 when every request was answered, 1 when one was not, 2 when
 * one could not be sent (PING_FATAL).
 */
int ping_run(struct ping_run *run, const struct ping_transport *t);

#endif /* OM_PING_RUN_H */
