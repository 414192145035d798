/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of relay-bench share (relay-bench.c says what it measures):
 *
 *   relay-bench.c            options, the order of the measurements, the targets
 *   relay-bench-common.c     failures, clocks, the messages and their checks, results
 *   relay-bench-baselines.c  A (memcpy), B and B' (unix-socket relays)
 *   relay-bench-omhostd.c    C: omhostd with two synthetic front-ends, saturated
 *                            and one message at a time
 *   relay-bench-trace.c      D: the cost of tracing
 *   relay-bench-report.c     the lines of the report
 *
 * Two things are global, as the threads of every part need them: the
 * options (set once by main before any thread starts; D shortens
 * g_opts.seconds for its rounds) and the first failure (every thread
 * stops at it).
 */
#ifndef OM_BENCH_RELAY_BENCH_H
#define OM_BENCH_RELAY_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_om.h>

#include "relay-rtt.h"

#ifndef OMHOSTD_NOTRACE_PATH
#define OMHOSTD_NOTRACE_PATH "omhostd-notrace"
#endif
#ifndef TAP_INSTRUCTIONS_PATH
#define TAP_INSTRUCTIONS_PATH "tap-instructions"
#endif
#ifndef TAP_INSTRUCTIONS_NOTRACE_PATH
#define TAP_INSTRUCTIONS_NOTRACE_PATH "tap-instructions-notrace"
#endif
#ifndef OMHOSTD_PATH
#define OMHOSTD_PATH "omhostd"
#endif

#define KIB 1024u
#define MIB (1024u * 1024u)
#define HDR VIRTIO_OM_HDR_SIZE
#define MAX_PAYLOAD VIRTIO_OM_MAX_PAYLOAD
#define MAX_SIZES 16
#define PAGE 4096u
#define STALL_MS 5000 /* no progress this long: the relay is stuck */

#define SENDER_NODE 1u
#define RECEIVER_NODE 2u

/* Targets (docs/benchmarks.md). */
#define TARGET_MEMCPY_RATIO 0.5
#define TARGET_SMALL_MSGS 2000000.0
#define TARGET_TAP_IDLE 0.99	 /* tap idle / tap compiled out */
#define TARGET_TAP_LISTENER 0.90 /* one listener / tap idle */
#define TRACE_VARIANTS 2 /* by turns: the tap compiled out, idle */
#define MAX_TRACE_ROUNDS 20
#define TRACE_SIZES 2 /* D's payload sizes: 64 B and 64 KiB */

/* One message at a time (C). */
#define RTT_SIZE 64u
#define RTT_TRIPS 5000u

struct opts {
	double seconds;
	unsigned int reps;
	const char *omhostd;
	uint32_t sizes[MAX_SIZES];
	unsigned int nsizes;
	unsigned int queue;
	bool flat;
	bool quick;
	bool no_stream;
	const char *omhostd_notrace;
	const char *tap_instructions, *tap_instructions_notrace;
	unsigned int trace_rounds; /* 0: no D */
};

extern struct opts g_opts;

/* ---- relay-bench-common.c ---- */

/* The first failure is kept and reported; every thread stops at it. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A failure that causes others (omhostd's death: the front-ends' errors
 * follow): reported instead of what failed before it.
 */
void fail_cause(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool failed(void);
/* What failed: the first failure's message, "interrupted" or "?". */
const char *failure(void);
/* SIGINT, SIGTERM: everything stops as after a failure, and is cleaned up. */
void on_signal(int sig);

int64_t now_ns(void);
int64_t secs_ns(double s);
int64_t thread_cpu_ns(void);

void pattern_init(void);
uint32_t get_le32(const uint8_t *p);
/* A TEST_DATA header as the sender writes it. */
void write_hdr(uint8_t *p, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len);
/* The seq at the head of the payload and its complement at the tail. */
void stamp_payload(uint8_t *p, uint32_t len, uint64_t seq);
/* Puts the pattern back where stamps of another size may be left. */
void reset_payload(uint8_t *p, uint32_t len);
/* NULL when hdr (48 bytes) and payload are the message seq of len bytes, relayed. */
const char *check_msg(const uint8_t *hdr, const uint8_t *payload, size_t total, uint32_t len,
		      uint64_t seq);

struct result {
	double msgs_s, gb_s;
	double relay_cpu, total_cpu; /* CPU ns per message: the relay's, all parties' */
	uint64_t checked;	      /* messages checked, over all repetitions */
	bool have;
};

/* CPU time of one run: the relay's, and the sender's and receiver's. */
struct cpu {
	int64_t relay, ends;
};

void keep_best(struct result *best, uint64_t msgs, uint64_t payload_bytes, int64_t ns,
	       const struct cpu *cpu);

/* ---- relay-bench-baselines.c ---- */

/* A: keeps in *best the best of reps runs (*best is not reset). */
int bench_memcpy(double *best, unsigned int reps);
/* B (stream false) or B' (true): one run of g_opts.seconds, the best kept in res. */
int ux_once(uint32_t size, bool stream, struct result *res);

/* ---- relay-bench-omhostd.c ---- */

int omhostd_start(const char *bin);
/* Waits until omhostd listens on both nodes' sockets; -1 if it died or never did. */
int omhostd_wait_ready(void);
/* True once omhostd is gone (reaped). */
bool omhostd_dead(void);
void omhostd_stop(void);
/* The running omhostd's directory. */
const char *omhostd_dir(void);
/* Lines of omhostd's log that contain what. */
unsigned int omhostd_log_count(const char *what);

/* One phase of both front-ends; with res, counted. */
int hd_phase(uint32_t size, double seconds, struct result *res);
/* The messages the receiver took in the last phase. */
const uint64_t *hd_received(void);

struct listen_rounds;
/*
 * Runs omhostd binary bin with the two front-ends over sizes (a warm-up
 * and reps measurements each, the best kept in res[]); at 64 KiB memcpy by
 * turns, the best kept in *memcpy_by_turns, unless it is NULL; then, with
 * lr, D's rounds of phases without and with a trace listener.
 */
int bench_omhostd(const char *bin, const uint32_t *sizes, unsigned int nsizes, unsigned int reps,
		  double *memcpy_by_turns, struct listen_rounds *lr, struct result *res);
/* The round trip of one message, with an omhostd of its own. */
int rtt_measure(struct relay_rtt *rtt);

/* ---- relay-bench-trace.c ---- */

/*
 * D's listener rounds, in one omhostd: per size and round, a phase with
 * no listener and one with a listener attached for it, in alternating
 * order.
 */
struct listen_rounds {
	unsigned int rounds;
	struct result idle[TRACE_SIZES][MAX_TRACE_ROUNDS], listen[TRACE_SIZES][MAX_TRACE_ROUNDS];
	uint64_t records, missed;
	int64_t listener_cpu;
};

int listen_round(uint32_t size, unsigned int s, unsigned int r, struct listen_rounds *lr);
int bench_trace_cost(void);

/* ---- relay-bench-report.c ---- */

void print_loadavg(const char *when);
void print_head(void);
void print_row(uint32_t size, const struct result *r);
const struct result *result_at(const struct result *r, uint32_t size);
void print_target(const char *what, double value, const char *fmt_target, bool have, bool pass);
/* One target line: the median of the rounds' ratios, and their spread (sorts ratios). */
void print_trace_target(const char *what, double *ratios, unsigned int n,
			const char *target_text, double target);

#endif /* OM_BENCH_RELAY_BENCH_H */
