// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay-bench's D, the cost of tracing, on the whole relay: omhostd by
 * turns with its tap compiled out (omhostd-notrace, built from the same
 * sources) and idle; one omhostd with phases without and with a trace
 * listener reading every record in a thread as omtrace does; the relay's
 * instructions per message under callgrind (bench/tap-instructions); and,
 * for reference, the tap alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "omhostd.h"
#include "relay-bench.h"
#include "trace-ring.h"

/*
 * A trace listener: reads omhostd's records in a thread, as omtrace does,
 * attached for one phase of one omhostd and detached after it.
 */
struct tracer {
	struct om_trace_conn c;
	pthread_t t;
	atomic_uint_fast64_t records, missed; /* the benchmark's messages; MISSED counts */
	atomic_bool stop;
	int64_t cpu; /* the thread's CPU ns, once joined */
	int rc;	     /* how its reading ended: 0, or -errno (a broken ring: -EPROTO) */
	bool started;
};

static void *tracer_main(void *arg)
{
	struct tracer *tr = arg;
	struct om_trace_rec r;
	int64_t cpu0 = thread_cpu_ns();
	int rc;

	/* Until told to stop and then quiet for a moment, or omhostd's hang-up. */
	while ((rc = om_trace_conn_next(&tr->c, &r, 20)) == 1 || rc == -EINTR ||
	       (rc == -ETIMEDOUT && !atomic_load(&tr->stop))) {
		if (rc != 1)
			continue;
		if (r.kind == OM_TRACE_REC_MSG && r.h.src_node == SENDER_NODE)
			atomic_fetch_add(&tr->records, 1); /* not the relay's NODE_UPs */
		else if (r.kind == OM_TRACE_REC_MISSED)
			atomic_fetch_add(&tr->missed, r.missed);
	}
	tr->cpu = thread_cpu_ns() - cpu0;
	tr->rc = rc == -ETIMEDOUT ? 0 : rc;
	return NULL;
}

static int tracer_start(struct tracer *tr)
{
	int64_t end = now_ns() + secs_ns(STALL_MS / 1000.0);
	char path[128], err[256] = "";
	int rc = -ENOENT;

	memset(tr, 0, sizeof(*tr));
	snprintf(path, sizeof(path), "%s/control.sock", omhostd_dir());
	while (rc && now_ns() < end && !omhostd_dead()) {
		rc = om_trace_conn_open(&tr->c, path, OM_TRACE_SNAPLEN_DEFAULT,
					OM_TRACE_BUFFER_DEFAULT, STALL_MS, err, sizeof(err));
		if (rc)
			usleep(5000);
	}
	if (rc || pthread_create(&tr->t, NULL, tracer_main, tr)) {
		fail("trace listener: %s", err[0] ? err : "cannot start");
		if (!rc)
			om_trace_conn_close(&tr->c);
		return -1;
	}
	tr->started = true;
	return 0;
}

/*
 * After a phase of relayed messages: once the listener got a record of
 * each or was told it missed it (a MISSED record may come up to omhostd's
 * retry later), it detaches. -1 when the records do not add up. Without
 * relayed (a failed phase), it only detaches.
 */
static int tracer_detach(struct tracer *tr, const uint64_t *relayed)
{
	int64_t end = now_ns() + secs_ns(STALL_MS / 1000.0);
	unsigned int detached = omhostd_log_count("trace: listener detached");
	uint64_t got;

	if (!tr->started)
		return 0;
	while (relayed && (got = atomic_load(&tr->records) + atomic_load(&tr->missed)) < *relayed &&
	       now_ns() < end)
		usleep(1000);
	atomic_store(&tr->stop, true);
	pthread_join(tr->t, NULL);
	om_trace_conn_close(&tr->c);
	tr->started = false;
	/* Gone from omhostd too before the next phase, which must not pay for its teardown. */
	while (omhostd_log_count("trace: listener detached") == detached && now_ns() < end &&
	       !omhostd_dead())
		usleep(1000);
	if (omhostd_log_count("trace: listener detached") == detached) {
		fail("omhostd: did not drop a trace listener that hung up, in %d ms", STALL_MS);
		return -1;
	}
	if (tr->rc) {
		fail("trace listener: its reading ended with %s", strerror(-tr->rc));
		return -1;
	}
	got = atomic_load(&tr->records) + atomic_load(&tr->missed);
	if (relayed && got != *relayed) {
		fail("trace listener: %" PRIu64 " records and %" PRIu64 " missed, %" PRIu64
		     " messages relayed", (uint64_t)atomic_load(&tr->records),
		     (uint64_t)atomic_load(&tr->missed), *relayed);
		return -1;
	}
	return 0;
}

/* One of D's listener rounds (relay-bench.h). */
int listen_round(uint32_t size, unsigned int s, unsigned int r, struct listen_rounds *lr)
{
	for (unsigned int i = 0; i < 2; i++) {
		bool with = (r % 2) ^ i; /* even rounds: idle first */
		struct tracer tr;
		int rc;

		if (with && tracer_start(&tr))
			return -1;
		rc = hd_phase(size, g_opts.seconds, with ? &lr->listen[s][r] : &lr->idle[s][r]);
		if (with) {
			if (tracer_detach(&tr, rc ? NULL : hd_received()))
				rc = -1;
			lr->records += atomic_load(&tr.records);
			lr->missed += atomic_load(&tr.missed);
			lr->listener_cpu += tr.cpu;
		}
		if (rc)
			return -1;
	}
	return 0;
}

/*
 * The tap's own CPU per message with one listener: omhostd's
 * om_trace_msg() on 64-byte messages in batches of 1024, each published
 * as the relay does after an event-loop callback, while a listener reads
 * them on another thread as omtrace does (on the other CPU when one is
 * free: its reads pull the ring's lines away from the writer, as in
 * omhostd). The writer runs at full speed, held back only (not counted)
 * when half the ring is unread, so that nothing is missed. Steadier than
 * the by-turns ratios on a loaded machine: only the tap's thread is timed.
 */
static double tap_ns_per_msg(double *listener_ns)
{
	static unsigned char payload[64];
	struct om_hostd d = { .control_fd = -1, .grace_fd = -1,
			      .cfg = { .first_node = 1, .last_node = 2 } };
	struct om_msg_hdr h = { .version = VIRTIO_OM_PROTOCOL_VERSION,
				.type = VIRTIO_OM_T_TEST_DATA, .src_node = SENDER_NODE,
				.dst_node = RECEIVER_NODE, .len = sizeof(payload) };
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(payload) };
	static unsigned char raw[1024][VIRTIO_OM_HDR_SIZE];
	static struct tracer tl;
	pthread_t t;
	int64_t cpu = 0, end;
	uint64_t msgs = 0, missed = 0;
	uint64_t ring_records = OM_TRACE_BUFFER_DEFAULT / om_trace_msg_size(sizeof(payload));
	int sv[2], err_fd, null_fd;
	char err[200] = "cannot start", req[64];
	bool connected = false, started = false;

	*listener_ns = 0;
	memset(&tl, 0, sizeof(tl));
	if (om_loop_new(&d.loop)) {
		fail("the tap alone: out of memory");
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		fail("the tap alone: socketpair: %s", strerror(errno));
		om_loop_free(d.loop);
		return 0;
	}
	err_fd = dup(2);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd >= 0)
		dup2(null_fd, 2); /* omhostd's code logs the attach: not this benchmark's output */
	snprintf(req, sizeof(req), "trace snaplen=%u buffer=%u", OM_TRACE_SNAPLEN_DEFAULT,
		 OM_TRACE_BUFFER_DEFAULT);
	if (om_trace_attach(&d, sv[0], req, true, err, sizeof(err))) {
		close(sv[0]);
		close(sv[1]);
	} else if (om_trace_conn_start(&tl.c, sv[1], 1000, err, sizeof(err)) == 0) {
		connected = true;
		started = !pthread_create(&t, NULL, tracer_main, &tl);
		end = now_ns() + secs_ns(g_opts.seconds);
		while (started && now_ns() < end) {
			int64_t t0;

			/* Headers encoded first: the relay encodes them for delivery anyway. */
			for (unsigned int i = 0; i < 1024; i++) {
				h.seq = msgs + i + 1;
				om_msg_hdr_encode(&h, raw[i]);
			}
			t0 = thread_cpu_ns();
			for (unsigned int i = 0; i < 1024; i++) {
				h.seq = ++msgs;
				om_trace_msg(&d, OM_TRACE_RELAYED, &h, raw[i], &iov, 1, 0);
			}
			om_trace_flush(&d);
			cpu += thread_cpu_ns() - t0;
			/* Waiting for the listener is not counted; missing records would be cheaper. */
			while (msgs - atomic_load(&tl.records) >
				       ring_records / 2 && now_ns() < end + secs_ns(5))
				sched_yield();
		}
	}
	om_trace_close_all(&d); /* the listener reads to the end and returns */
	if (started)
		pthread_join(t, NULL);
	missed = atomic_load(&tl.missed);
	if (connected)
		om_trace_conn_close(&tl.c);
	if (err_fd >= 0) {
		dup2(err_fd, 2);
		close(err_fd);
	}
	if (null_fd >= 0)
		close(null_fd);
	om_loop_free(d.loop);
	if (!started) {
		fail("the tap alone: its listener: %s", err);
		return 0;
	}
	if (tl.rc || atomic_load(&tl.records) != msgs || missed) {
		fail("the tap alone: %" PRIu64 " records read of %" PRIu64 ", %" PRIu64
		     " missed%s%s", (uint64_t)atomic_load(&tl.records), msgs, missed,
		     tl.rc ? "; the listener's reading ended with " : "", tl.rc ? strerror(-tl.rc) : "");
		return 0;
	}
	*listener_ns = (double)tl.cpu / (double)msgs;
	return msgs ? (double)cpu / (double)msgs : 0;
}

/*
 * The relay's instructions per message, counted by callgrind inside
 * rh_run() of bench/tap-instructions (the relay in-process, its guests
 * simulated): bin with args, under valgrind. 0 when it could not be
 * measured (*why says why), else instructions per message.
 */
#define TAP_INSTR_MESSAGES 20000
#define TAP_INSTR_TIMEOUT_S 300 /* a run takes a few seconds */

static double relay_instructions(const char *bin, bool listen, const char **why)
{
	/* What the run printed last, not valgrind's own lines: why it failed. */
	static char last[256];
	char count[16], line[512];
	unsigned long long collected = 0;
	int64_t end = now_ns() + secs_ns(TAP_INSTR_TIMEOUT_S);
	FILE *err = tmpfile(); /* valgrind's report goes to stderr */
	int status = 0;
	pid_t pid, got;

	snprintf(count, sizeof(count), "%u", TAP_INSTR_MESSAGES);
	if (access(bin, X_OK)) {
		*why = "the tap-instructions binaries are not built";
		return 0;
	}
	if (!err) {
		*why = strerror(errno);
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		int null_fd = open("/dev/null", O_WRONLY);

		dup2(null_fd, 1);
		dup2(fileno(err), 2);
		execlp("valgrind", "valgrind", "--tool=callgrind", "--toggle-collect=rh_run",
		       "--callgrind-out-file=/dev/null", bin, listen ? "--listen" : count,
		       listen ? count : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		*why = strerror(errno);
		fclose(err);
		return 0;
	}
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 && now_ns() < end)
		usleep(10000);
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fclose(err);
		snprintf(last, sizeof(last), "a run under callgrind did not end in %d s",
			 TAP_INSTR_TIMEOUT_S);
		*why = last;
		return 0;
	}
	last[0] = '\0';
	rewind(err);
	while (fgets(line, sizeof(line), err)) {
		const char *c = strstr(line, "Collected : ");

		line[strcspn(line, "\n")] = '\0';
		if (c)
			collected = strtoull(c + 12, NULL, 10);
		else if (line[0] && strncmp(line, "==", 2))
			snprintf(last, sizeof(last), "%.255s", line);
	}
	fclose(err);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		*why = "valgrind is not installed (apt-get install valgrind)";
		return 0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		*why = last[0] ? last : "a run under callgrind failed";
		return 0;
	}
	if (!collected) {
		*why = "callgrind said no count";
		return 0;
	}
	return (double)collected / TAP_INSTR_MESSAGES;
}

/*
 * Instructions per message of the relay, compiled out / idle / one
 * listener: the same in every run, whatever the machine's load (they do
 * not see what memory costs, which the timed rounds do).
 */
static void tap_instruction_targets(void)
{
	const char *why = "";
	double out, idle = 0, listen = 0;

	out = relay_instructions(g_opts.tap_instructions_notrace, false, &why);
	if (out)
		idle = relay_instructions(g_opts.tap_instructions, false, &why);
	if (idle)
		listen = relay_instructions(g_opts.tap_instructions, true, &why);
	if (!listen) {
		printf("  %-40s %12s  %-12s n/a (not measured: %s)\n",
		       "tracing's cost in instructions", "-", "", why);
		return;
	}
	printf("  the relay's instructions per 64-byte message (callgrind, %u messages, in\n"
	       "  process): compiled out %.1f, idle %.1f, one listener %.1f\n",
	       TAP_INSTR_MESSAGES, out, idle, listen);
	print_target("tap idle / compiled out, instructions", out / idle, ">= 0.99", true,
		     out / idle >= TARGET_TAP_IDLE);
	print_target("1 listener / tap idle, instructions", idle / listen, ">= 0.90", true,
		     idle / listen >= TARGET_TAP_LISTENER);
}

/*
 * D asks two questions, answered by two designs. The idle tap against the
 * tap compiled out: two binaries, so rounds of separate omhostd runs by
 * turns (the machine's load drifts over a run: each round compares runs
 * made within seconds of each other, in the reverse order every other
 * round). One listener against none: one omhostd, phases without and with
 * a listener alternating, so that what differs from one omhostd start to
 * the next (where its threads run, how its memory lies: ±10-20 % here)
 * is the same for both. The median of the rounds' ratios is the result.
 */
int bench_trace_cost(void)
{
	static const uint32_t sizes[TRACE_SIZES] = { 64, 65536 };
	enum { NS = TRACE_SIZES };
	static struct result res[MAX_TRACE_ROUNDS][TRACE_VARIANTS][NS];
	static struct listen_rounds lr;
	double idle[NS][MAX_TRACE_ROUNDS], listen[NS][MAX_TRACE_ROUNDS];
	double cpu_idle[NS][MAX_TRACE_ROUNDS], cpu_listen[NS][MAX_TRACE_ROUNDS];
	double cpu_sum[NS][TRACE_VARIANTS] = { { 0 } }, lcpu_sum[NS][2] = { { 0 } };
	double all_sum[NS][2] = { { 0 } }, tap, tap_listener, tap_ratio, listener_ns, idle_64;
	const char *bins[TRACE_VARIANTS] = { g_opts.omhostd_notrace, g_opts.omhostd };
	double seconds = g_opts.seconds;

	/* Many short rounds: the median of many by-turns ratios beats a few long runs. */
	if (g_opts.seconds > 1)
		g_opts.seconds = 1;

	printf("D. the cost of tracing, %u rounds, each measurement %.2f s per size:\n"
	       "   by turns, omhostd with its tap compiled out (%s) and idle (no listener)\n",
	       g_opts.trace_rounds, g_opts.seconds, g_opts.omhostd_notrace);
	printf("  %8s %5s %12s %12s %7s %16s\n", "payload", "round", "compiled out", "idle",
	       "idle/", "relay CPU ns/msg");
	printf("  %8s %5s %12s %12s %7s %16s\n", "bytes", "", "msgs/s", "msgs/s", "out",
	       "out/idle");
	for (unsigned int r = 0; r < g_opts.trace_rounds; r++) {
		for (unsigned int i = 0; i < TRACE_VARIANTS; i++) {
			/* Odd rounds in reverse: a drift over a round favours no variant. */
			unsigned int v = r % 2 ? TRACE_VARIANTS - 1 - i : i;

			if (bench_omhostd(bins[v], sizes, NS, 1, NULL, NULL, res[r][v]))
				return -1;
		}
		for (unsigned int s = 0; s < NS; s++) {
			const struct result *a = &res[r][0][s], *b = &res[r][1][s];

			idle[s][r] = b->msgs_s / a->msgs_s;
			cpu_idle[s][r] = a->relay_cpu / b->relay_cpu;
			for (unsigned int v = 0; v < TRACE_VARIANTS; v++)
				cpu_sum[s][v] += res[r][v][s].relay_cpu;
			printf("  %8u %5u %12.0f %12.0f %7.3f %7.0f/%5.0f\n", sizes[s], r + 1, a->msgs_s,
			       b->msgs_s, idle[s][r], a->relay_cpu, b->relay_cpu);
		}
	}
	for (unsigned int s = 0; s < NS; s++)
		printf("  %u B: relay CPU ns/msg, mean of the rounds: compiled out %.0f, idle %.0f\n",
		       sizes[s], cpu_sum[s][0] / g_opts.trace_rounds, cpu_sum[s][1] / g_opts.trace_rounds);

	printf("   one omhostd (%s), phases with no listener and with one (snaplen %u,\n"
	       "   a thread reading every record) alternating\n", g_opts.omhostd,
	       OM_TRACE_SNAPLEN_DEFAULT);
	printf("  %8s %5s %12s %12s %7s %16s\n", "payload", "round", "idle", "1 listener",
	       "listen/", "relay CPU ns/msg");
	printf("  %8s %5s %12s %12s %7s %16s\n", "bytes", "", "msgs/s", "msgs/s", "idle",
	       "idle/listen");
	memset(&lr, 0, sizeof(lr));
	lr.rounds = g_opts.trace_rounds;
	if (bench_omhostd(g_opts.omhostd, sizes, NS, 0, NULL, &lr, NULL))
		return -1;
	for (unsigned int s = 0; s < NS; s++) {
		for (unsigned int r = 0; r < g_opts.trace_rounds; r++) {
			const struct result *b = &lr.idle[s][r], *c = &lr.listen[s][r];

			listen[s][r] = c->msgs_s / b->msgs_s;
			cpu_listen[s][r] = b->relay_cpu / c->relay_cpu;
			lcpu_sum[s][0] += b->relay_cpu;
			lcpu_sum[s][1] += c->relay_cpu;
			all_sum[s][0] += b->total_cpu;
			all_sum[s][1] += c->total_cpu;
			printf("  %8u %5u %12.0f %12.0f %7.3f %7.0f/%5.0f\n", sizes[s], r + 1, b->msgs_s,
			       c->msgs_s, listen[s][r], b->relay_cpu, c->relay_cpu);
		}
	}
	listener_ns = lr.records ? (double)lr.listener_cpu / (double)lr.records : 0;
	idle_64 = lcpu_sum[0][0] / g_opts.trace_rounds;
	printf("  the listener got %" PRIu64 " records and was told it missed %" PRIu64
	       " (every message relayed while it listened accounted for);\n"
	       "  its thread's CPU: %.1f ns a record\n", lr.records, lr.missed, listener_ns);
	for (unsigned int s = 0; s < NS; s++)
		printf("  %u B: mean of the rounds, relay CPU ns/msg: idle %.0f, one listener %.0f;\n"
		       "    all CPU (relay, sender, receiver): idle %.0f, one listener %.0f\n",
		       sizes[s], lcpu_sum[s][0] / g_opts.trace_rounds, lcpu_sum[s][1] / g_opts.trace_rounds,
		       all_sum[s][0] / g_opts.trace_rounds, all_sum[s][1] / g_opts.trace_rounds);
	tap = tap_ns_per_msg(&tap_listener);
	tap_ratio = idle_64 / (idle_64 + tap); /* against the idle phases at 64 B */
	printf("  the tap alone (om_trace_msg, 64 B, its listener reading on another thread):\n"
	       "  %.1f ns/msg (the listener %.1f ns/record); against the relay CPU of the\n"
	       "  idle phases at 64 B that is a ratio of %.3f\n",
	       tap, tap_listener, tap_ratio);
	printf("\nTracing targets (medians of the rounds' ratios; CPU: relay CPU per message,\n"
	       "inverted so that 1 means no cost and less is slower; a spread of the rounds\n"
	       "wider than the target's margin means this machine cannot resolve it):\n");
	for (unsigned int s = 0; s < NS; s++) {
		char what[64];

		snprintf(what, sizeof(what), "tap idle / compiled out, %u B, msgs/s", sizes[s]);
		print_trace_target(what, idle[s], g_opts.trace_rounds, ">= 0.99", TARGET_TAP_IDLE);
		snprintf(what, sizeof(what), "  same, relay CPU");
		print_trace_target(what, cpu_idle[s], g_opts.trace_rounds, ">= 0.99", TARGET_TAP_IDLE);
		snprintf(what, sizeof(what), "1 listener / tap idle, %u B, msgs/s", sizes[s]);
		print_trace_target(what, listen[s], g_opts.trace_rounds, ">= 0.90", TARGET_TAP_LISTENER);
		snprintf(what, sizeof(what), "  same, relay CPU");
		print_trace_target(what, cpu_listen[s], g_opts.trace_rounds, ">= 0.90",
				   TARGET_TAP_LISTENER);
	}
	tap_instruction_targets();
	/* A component alone: not the target (the whole relay's are above), a cross-check. */
	printf("  for reference, not a target: the tap alone against the idle relay's CPU at\n"
	       "  64 B (only the tap's thread timed): %.3f\n", tap_ratio);
	printf("\n");
	g_opts.seconds = seconds;
	return 0;
}
