// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay-bench: how fast omhostd relays virtio-om messages, measured next to
 * two baselines in the same run, on the same machine, at the same moment:
 *
 *  A. single-core memcpy of 64 KiB blocks over buffers larger than the
 *     caches: the ceiling of any one-copy relay on one core;
 *  B. a plain relay over AF_UNIX sockets: sender thread -> relay thread ->
 *     receiver thread, the same framing (48-byte virtio-om header +
 *     payload); the relay reads every message, checks its length, stamps
 *     src_node and sends it on. One message per send/recv (SOCK_SEQPACKET):
 *     the baseline of the targets. B', for reference: the same over
 *     SOCK_STREAM with many messages per read and write, the best a socket
 *     relay does when it may coalesce messages;
 *  C. the real omhostd binary (--dir TMP --nodes 2) with two synthetic
 *     vhost-user front-ends (tests/support/vu-frontend), node 1 sending to
 *     node 2, each in its own thread, buffers laid out as the guest driver
 *     does. The sender fills its tx ring and kicks once; the receiver keeps
 *     its rx ring stocked; EVENT_IDX is on.
 *     C also has the round trip of one message (relay-rtt.c): node 1 ->
 *     node 2 -> node 1, one message in flight, each waking the relay and
 *     its receiver from sleep; median and 99th percentile;
 *  D. the cost of tracing: C by turns with omhostd's tap compiled out
 *     (omhostd-notrace, built from the same sources) and idle; one omhostd
 *     with phases without and with a trace listener reading every record
 *     in a thread as omtrace does; and the relay's instructions per
 *     message under callgrind (bench/tap-instructions). The targets are
 *     the whole relay's (its throughput, CPU and instructions per message);
 *     the tap alone is measured too, for reference.
 *
 * The targets: omhostd against A (measured at the start, and by turns
 * with C at 64 KiB), against B and against B' at every size, and D's.
 * Every message received (B, B' and C) is checked: its length, header fields,
 * sequence (in order, none lost), stamps of its seq at both ends of the
 * payload, and a 64-byte sample of the payload against the pattern the
 * sender wrote (the whole payload every 64th message). A wrong message, an
 * omhostd that dies or a relay that stalls fails the run (exit 1); a target
 * missed is only reported (MISS). See docs/benchmarks.md; relay-bench.h
 * names the file of each part.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay-bench.h"

struct opts g_opts = {
	.seconds = 3.0,
	.reps = 3,
	.sizes = { 64, 4096, 65536 },
	.nsizes = 3,
	.queue = 1024, /* libvhost-user's VIRTQUEUE_MAX_SIZE; the QEMU device's queue-size */
	.trace_rounds = 9,
};


static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: relay-bench [--seconds S] [--omhostd PATH] [--sizes A,B,...] [--quick]\n"
		"                   [--reps N] [--queue-size N] [--flat] [--no-stream]\n"
		"\n"
		"Measures omhostd's relay (messages/s, GB/s) next to memcpy and a unix-socket\n"
		"relay, in one run, and prints the ratios against the targets.\n"
		"\n"
		"  --seconds S      each measurement (default 3)\n"
		"  --omhostd PATH   the omhostd binary (default $OMHOSTD or %s)\n"
		"  --sizes LIST     payload sizes in bytes, 0..65536 (default 64,4096,65536)\n"
		"  --quick          a short run: 0.25 s per measurement\n"
		"  --reps N         repetitions of each measurement, best kept (default 3)\n"
		"  --queue-size N   virtqueue size of the front-ends, 2..1024 (default 1024,\n"
		"                   libvhost-user's largest; the QEMU device's default is 256)\n"
		"  --flat           one descriptor per buffer, instead of the guest driver's\n"
		"                   header + 4 KiB pages (indirect)\n"
		"  --no-stream      skip the byte-stream socket relay (B', the batched baseline)\n"
		"  --trace-rounds N rounds of D, the cost of tracing (default 9, each at most\n"
		"                   1 s a measurement; 0: no D)\n"
		"  --omhostd-notrace PATH  omhostd built with the tap compiled out, D's baseline\n"
		"                   (default $OMHOSTD_NOTRACE or %s)\n",
		OMHOSTD_PATH, OMHOSTD_NOTRACE_PATH);
}

static int parse_sizes(const char *s)
{
	char *end;

	g_opts.nsizes = 0;
	while (*s) {
		unsigned long v = strtoul(s, &end, 0);

		if (end == s || v > MAX_PAYLOAD || g_opts.nsizes == MAX_SIZES)
			return -1;
		g_opts.sizes[g_opts.nsizes++] = (uint32_t)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return g_opts.nsizes ? 0 : -1;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "omhostd", required_argument, NULL, 'o' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "quick", no_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "flat", no_argument, NULL, 'f' },
		{ "no-stream", no_argument, NULL, 'S' },
		{ "trace-rounds", required_argument, NULL, 'T' },
		{ "omhostd-notrace", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool have_seconds = false;
	char *end;
	int c;

	g_opts.omhostd = getenv("OMHOSTD") ? getenv("OMHOSTD") : OMHOSTD_PATH;
	g_opts.omhostd_notrace = getenv("OMHOSTD_NOTRACE") ? getenv("OMHOSTD_NOTRACE")
						       : OMHOSTD_NOTRACE_PATH;
	g_opts.tap_instructions = TAP_INSTRUCTIONS_PATH;
	g_opts.tap_instructions_notrace = TAP_INSTRUCTIONS_NOTRACE_PATH;
	while ((c = getopt_long(argc, argv, "s:o:z:qr:Q:fST:N:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			g_opts.seconds = strtod(optarg, &end);
			if (*end || !(g_opts.seconds > 0 && g_opts.seconds <= 3600))
				return -1;
			have_seconds = true;
			break;
		case 'o':
			g_opts.omhostd = optarg;
			break;
		case 'z':
			if (parse_sizes(optarg))
				return -1;
			break;
		case 'q':
			g_opts.quick = true;
			break;
		case 'r':
			g_opts.reps = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || g_opts.reps < 1 || g_opts.reps > 100)
				return -1;
			break;
		case 'Q':
			g_opts.queue = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || g_opts.queue < 2 || g_opts.queue > 1024 || (g_opts.queue & (g_opts.queue - 1)))
				return -1;
			break;
		case 'f':
			g_opts.flat = true;
			break;
		case 'S':
			g_opts.no_stream = true;
			break;
		case 'T':
			g_opts.trace_rounds = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || g_opts.trace_rounds > MAX_TRACE_ROUNDS)
				return -1;
			break;
		case 'N':
			g_opts.omhostd_notrace = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (g_opts.quick && !have_seconds)
		g_opts.seconds = 0.25;
	return 0;
}

int main(int argc, char **argv)
{
	static struct result ux[MAX_SIZES], uxs[MAX_SIZES], hd[MAX_SIZES];
	struct relay_rtt rtt = { 0 };
	double mc = 0, mc_start, mc_by_turns = 0;
	int rc = 0;

	if (parse_args(argc, argv)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pattern_init();
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("relay-bench: omhostd against memcpy and a unix-socket relay (docs/benchmarks.md)\n");
	print_loadavg("at start");
	printf("each figure: the best of %u runs of %.2f s; GB/s = payload bytes / s / 1e9\n",
	       g_opts.reps, g_opts.seconds);
	printf("omhostd: %s, --nodes 2; front-ends: queue size %u, EVENT_IDX, %s\n\n", g_opts.omhostd,
	       g_opts.queue, g_opts.flat ? "flat buffers (one descriptor)"
			       : "driver layout (header + 4 KiB pages, indirect)");

	/* A. */
	if (bench_memcpy(&mc, g_opts.reps))
		rc = 1;
	printf("A. memcpy, 64 KiB blocks, 2 x 64 MiB buffers, one core: %.2f GB/s\n\n", mc);
	mc_start = mc;

	/* B. */
	printf("B. unix-socket relay: sender -> relay -> receiver threads, one message per\n"
	       "   send/recv (SOCK_SEQPACKET); the baseline of the targets\n");
	print_head();
	for (unsigned int s = 0; rc == 0 && s < g_opts.nsizes; s++) {
		for (unsigned int r = 0; rc == 0 && r < g_opts.reps; r++)
			if (ux_once(g_opts.sizes[s], false, &ux[s]))
				rc = 1;
		if (rc == 0)
			print_row(g_opts.sizes[s], &ux[s]);
	}
	printf("\n");
	if (rc == 0 && !g_opts.no_stream) {
		printf("B'. the same over a byte stream, many messages per read and write\n"
		       "   (SOCK_STREAM, <= 256 KiB per write, 1 MiB reads): the batched baseline\n");
		print_head();
		for (unsigned int s = 0; rc == 0 && s < g_opts.nsizes; s++) {
			for (unsigned int r = 0; rc == 0 && r < g_opts.reps; r++)
				if (ux_once(g_opts.sizes[s], true, &uxs[s]))
					rc = 1;
			if (rc == 0)
				print_row(g_opts.sizes[s], &uxs[s]);
		}
		printf("\n");
	}

	/* C. */
	if (rc == 0) {
		printf("C. omhostd: node 1 -> node 2, two synthetic front-ends (threads)\n");
		if (bench_omhostd(g_opts.omhostd, g_opts.sizes, g_opts.nsizes, g_opts.reps,
				  &mc_by_turns, NULL, hd))
			rc = 1;
		print_head();
		for (unsigned int s = 0; s < g_opts.nsizes; s++)
			if (hd[s].have)
				print_row(g_opts.sizes[s], &hd[s]);
	}
	if (rc == 0 && rtt_measure(&rtt))
		rc = 1;
	if (rc == 0)
		printf("  one message at a time (node 1 -> 2 -> 1, %u B, each waking the relay and\n"
		       "  its receiver): round trip median %.1f us, p99 %.1f us, min %.1f us (%u round trips)\n\n",
		       RTT_SIZE, rtt.median_us, rtt.p99_us, rtt.min_us, rtt.n);

	/* The ratio: omhostd and memcpy measured by turns, in the same minutes. */
	if (rc == 0 && mc_by_turns > 0) {
		printf("A, run by turns with C at 64 KiB: memcpy %.2f GB/s (used for the ratio)\n\n",
		       mc_by_turns);
		mc = mc_by_turns;
	}

	if (rc == 0) {
		const struct result *h64k = result_at(hd, 65536), *h64 = result_at(hd, 64);
		char what[64];

		printf("Targets (same run):\n");
		printf("  %-40s %12s  %-12s %s\n", "", "measured", "target", "");
		print_target("omhostd GB/s / memcpy (A, at start), 64 KiB",
			     h64k && mc_start > 0 ? h64k->gb_s / mc_start : 0, ">= 0.5",
			     h64k && mc_start > 0,
			     h64k && mc_start > 0 && h64k->gb_s / mc_start >= TARGET_MEMCPY_RATIO);
		print_target("omhostd GB/s / memcpy (A, by turns), 64 KiB", h64k ? h64k->gb_s / mc : 0,
			     ">= 0.5", h64k && mc > 0, h64k && h64k->gb_s / mc >= TARGET_MEMCPY_RATIO);
		print_target("omhostd msgs/s at 64 B", h64 ? h64->msgs_s : 0, ">= 2000000", h64,
			     h64 && h64->msgs_s >= TARGET_SMALL_MSGS);
		for (unsigned int s = 0; s < g_opts.nsizes; s++) {
			double ratio = ux[s].msgs_s > 0 ? hd[s].msgs_s / ux[s].msgs_s : 0;

			snprintf(what, sizeof(what), "omhostd / unix relay at %u B", g_opts.sizes[s]);
			print_target(what, ratio, "> 1", hd[s].have && ux[s].have, ratio > 1);
		}
		for (unsigned int s = 0; !g_opts.no_stream && s < g_opts.nsizes; s++) {
			double ratio = uxs[s].msgs_s > 0 ? hd[s].msgs_s / uxs[s].msgs_s : 0;

			snprintf(what, sizeof(what), "omhostd / batched stream (B') at %u B",
				 g_opts.sizes[s]);
			print_target(what, ratio, "> 1", hd[s].have && uxs[s].have, ratio > 1);
		}
		printf("\n");
	}
	/* D. */
	if (rc == 0 && g_opts.trace_rounds && bench_trace_cost())
		rc = 1;
	print_loadavg("at end");
	if (failed()) {
		fprintf(stderr, "relay-bench: FAILED: %s\n", failure());
		rc = 1;
	}
	return rc;
}
