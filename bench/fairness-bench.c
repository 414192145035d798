// SPDX-License-Identifier: GPL-2.0-only
/*
 * fairness-bench: what a guest that stops draining costs the others.
 * Three synthetic front-ends (tests/support/vu-frontend) on one omhostd,
 * started with its defaults; node 1 sends to node 2 as fast as it can,
 * node 2 checks each message (order, length, source, its seq in the
 * payload). In the same run, by turns:
 *
 *   alone  only that traffic;
 *   stuck  node 3 takes nothing (posts no rx buffer), node 1 also sends
 *          node 3 one message every --trickle-ms, and node 2 floods
 *          node 3 with every tx slot it has free. A stuck turn ends with
 *          node 3 draining what it was sent, so that it is never marked
 *          unresponsive (30 s) and each turn starts alike.
 *
 * Both turns are measured alike, so that their ratio compares the same
 * thing at nearly the same moment on a machine whose load drifts: the
 * same --warm-up not measured (in a stuck turn, the time a non-draining
 * node's queue takes to open, 1 s by default), then the same --seconds.
 * A round is four turns, alone, stuck, stuck, alone, its ratio the mean
 * of the stuck turns against the mean of the alone ones: a linear drift
 * of the load over the round cancels, and each kind has one turn at an
 * even and one at an odd position. That matters: on this machine every
 * other turn ran faster than its neighbours, all of them alone
 * (--calibrate), 1.1-1.5 times, so rounds of two turns, or stuck turns
 * bracketed by alone ones, favoured one kind by where its turns fell.
 * The result is the median of the rounds' ratios, with their quartiles. omhostd's CPU time per
 * 1->2 message in each window (from the scheduler's statistics) says
 * whether it worked more per message with a node stuck, which the load
 * blurs less than the rates. --calibrate makes every turn alone: the
 * ratio it gives is the measurement's own, 1 when it favours neither.
 *
 * It prints each turn's 1->2 messages/s and omhostd's CPU per message,
 * the median ratio stuck / alone, PASS or MISS against the target
 * (>= 0.90), node 3's queue counters from omhostd's status, and the load
 * average. A wrong or lost message, or an omhostd that dies, fails the
 * run (exit 1); a missed target does not. docs/benchmarks.md.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_om.h>

#include "control-client.h"
#include "vu-frontend.h"
#include "proc-cpu.h"

#define TARGET 0.90
#define MAX_ROUNDS 25
#define TX_SLOTS 64u
#define WAIT_MS 5000 /* any wait on omhostd */

static struct {
	const char *omhostd;
	double seconds, warm_up;
	unsigned int rounds, trickle_ms;
	uint32_t size;
	bool calibrate; /* every turn alone: the measurement's own ratio */
} o = { .omhostd = "omhostd", .seconds = 2, .warm_up = 2, .rounds = 7, .trickle_ms = 50,
	.size = 4096 };

static char g_dir[64];
static pid_t g_pid = -1;
static atomic_bool g_failed;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&g_failed, true))
		return;
	fprintf(stderr, "fairness-bench: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One turn, shared by the threads of nodes 1 and 2 and the main thread. */
static struct {
	pthread_barrier_t start, end;
	bool stuck, quit;
	_Atomic int64_t measure_from, until;
	uint64_t got;		/* 1->2 messages node 2 took while measured */
	int64_t first_ns, last_ns; /* when it took the first and the last of them */
	uint64_t to3[2];	/* messages nodes 1 and 2 sent node 3, this turn */
} g;

static struct vuf *g_fe[4];

static struct vuf *frontend(uint32_t node, bool manual_rx)
{
	struct vuf_opts vo = { .queue_size = 256, .region_size = 64u << 20,
			       .features = VUF_BIT(VUF_F_INDIRECT_DESC) | VUF_BIT(VUF_F_EVENT_IDX),
			       .timeout_ms = WAIT_MS, .rx_bufs = 64, .tx_slots = TX_SLOTS,
			       .flags = manual_rx ? VUF_O_MANUAL_RX : 0 };
	char path[128];
	struct vuf *f = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/node-%u.sock", g_dir, node);
	r = vuf_new(&f, &vo);
	if (!r)
		r = vuf_connect(f, path);
	if (!r)
		r = vuf_handshake(f);
	if (r) {
		fail("node %u: %s", node, strerror(-r));
		vuf_free(f);
		return NULL;
	}
	return f;
}

/* Sends one message to dst if a tx slot is free now: 1, 0 (none free), or -errno. */
static int send_now(struct vuf *f, uint32_t dst, const uint8_t *payload)
{
	if (vuf_vq_inflight(f, VUF_TX) >= TX_SLOTS) {
		struct vuf_used_elem e[TX_SLOTS];

		if (vuf_vq_harvest(f, VUF_TX, e, TX_SLOTS) <= 0)
			return 0;
		/* vuf_send_msg reaps what was harvested as its slots. */
	}
	if (vuf_vq_inflight(f, VUF_TX) >= TX_SLOTS)
		return 0;
	int r = vuf_send_msg(f, dst, VIRTIO_OM_T_TEST_DATA, payload, o.size, NULL);

	return r < 0 ? r : 1;
}

static void *node1_main(void *arg)
{
	uint8_t *p = calloc(1, o.size < 8 ? 8 : o.size);
	uint64_t seq = 0;

	(void)arg;
	for (;;) {
		int64_t next_trickle;

		pthread_barrier_wait(&g.start);
		if (g.quit)
			break;
		next_trickle = now_ns();
		while (!atomic_load(&g_failed)) {
			/* One clock read a message, stuck or not: the turns' own work is alike. */
			int64_t t = now_ns();
			int r;

			if (t >= atomic_load(&g.until))
				break;
			if (g.stuck && t >= next_trickle) {
				r = send_now(g_fe[1], 3, p);
				if (r > 0) {
					g.to3[0]++;
					next_trickle += (int64_t)o.trickle_ms * 1000000;
				}
			}
			memcpy(p, &(uint64_t){ htole64(seq + 1) }, 8);
			r = send_now(g_fe[1], 2, p);
			if (r < 0) {
				fail("node 1: send: %s", strerror(-r));
				break;
			}
			if (r > 0) {
				seq++;
				continue;
			}
			r = vuf_vq_wait(g_fe[1], VUF_TX, 10);
			if (r < 0 && r != -ETIMEDOUT)
				fail("node 1: %s", strerror(-r));
		}
		pthread_barrier_wait(&g.end);
	}
	free(p);
	return NULL;
}

/* Node 2: takes 1->2 and checks it; floods node 3 while it is stuck. */
static void *node2_main(void *arg)
{
	size_t cap = VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD;
	uint8_t *buf = malloc(cap), *p = calloc(1, o.size);
	uint64_t want = 1;

	(void)arg;
	for (;;) {
		pthread_barrier_wait(&g.start);
		if (g.quit)
			break;
		g.got = 0;
		g.first_ns = g.last_ns = 0;
		for (;;) {
			struct virtio_om_hdr h;
			int64_t t;
			uint64_t seq;
			int n;

			/*
			 * Every 64th message: enough to keep its share of node 3's
			 * queue full, too seldom to slow its receiving, which a try
			 * per message did (stuck turns did more work here than
			 * alone ones).
			 */
			if (g.stuck && !(want % 64) && send_now(g_fe[2], 3, p) > 0)
				g.to3[1]++;
			n = vuf_recv_msg(g_fe[2], buf, cap, 20);
			t = now_ns();
			if (n == -ETIMEDOUT && t >= atomic_load(&g.until) + 200000000)
				break; /* node 1 stopped, everything came */
			if (n == -ETIMEDOUT)
				continue;
			if (n < 0) {
				fail("node 2: receive: %s", strerror(-n));
				break;
			}
			memcpy(&h, buf, sizeof(h));
			if (le32toh(h.src_node) == VIRTIO_OM_NODE_HOST)
				continue; /* NODE_UP/DOWN */
			memcpy(&seq, buf + VIRTIO_OM_HDR_SIZE, 8);
			if (le32toh(h.src_node) != 1 || le32toh(h.len) != o.size ||
			    (size_t)n != VIRTIO_OM_HDR_SIZE + o.size || le64toh(seq) != want) {
				fail("node 2: message from %u, %u bytes (%d in all), seq %" PRIu64
				     ", expected seq %" PRIu64 " from 1", le32toh(h.src_node),
				     le32toh(h.len), n, le64toh(seq), want);
				break;
			}
			want++;
			if (t >= atomic_load(&g.measure_from) && t < atomic_load(&g.until)) {
				if (!g.got)
					g.first_ns = t;
				g.got++;
				g.last_ns = t;
			}
		}
		pthread_barrier_wait(&g.end);
	}
	free(buf);
	free(p);
	return NULL;
}

/* Node 3 takes what it was sent: its queue empties, it is never unresponsive. */
static void node3_drain(void)
{
	uint8_t *buf = malloc(VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD);
	int n, r = vuf_rx_fill(g_fe[3]);

	if (r)
		fail("node 3: rx: %s", strerror(-r));
	while (!r && (n = vuf_recv_msg(g_fe[3], buf, VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD,
				       300)) >= 0)
		;
	free(buf);
}

static void sleep_until(int64_t t)
{
	int64_t left = t - now_ns();

	if (left > 0)
		nanosleep(&(struct timespec){ .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 },
			  NULL);
}

/* What one turn measured, in its window. */
struct turn_result {
	double msgs_s;	   /* 1->2 messages node 2 took, a second */
	double relay_ns;   /* omhostd's CPU per 1->2 message */
	double relay_busy; /* omhostd's CPU / the window: the share of a CPU it got */
};

static struct turn_result mean_of(const struct turn_result *a, const struct turn_result *b)
{
	return (struct turn_result){ (a->msgs_s + b->msgs_s) / 2, (a->relay_ns + b->relay_ns) / 2,
				     (a->relay_busy + b->relay_busy) / 2 };
}

/* One turn: the same warm-up and window whether node 3 drains or not. */
static struct turn_result turn(bool stuck)
{
	struct turn_result res = { 0, 0, 0 };
	int64_t t0 = now_ns(), from, until, cpu0, cpu1;

	g.stuck = stuck;
	g.to3[0] = g.to3[1] = 0;
	from = t0 + (int64_t)(o.warm_up * 1e9);
	until = from + (int64_t)(o.seconds * 1e9);
	atomic_store(&g.measure_from, from);
	atomic_store(&g.until, until);
	pthread_barrier_wait(&g.start);
	sleep_until(from);
	cpu0 = proc_cpu_ns(g_pid);
	sleep_until(until);
	cpu1 = proc_cpu_ns(g_pid);
	pthread_barrier_wait(&g.end);
	if (stuck)
		node3_drain();
	if (g.got < 2 || g.last_ns <= g.first_ns)
		return res;
	res.msgs_s = (double)(g.got - 1) * 1e9 / (double)(g.last_ns - g.first_ns);
	res.relay_ns = (double)(cpu1 - cpu0) / (double)g.got;
	res.relay_busy = (double)(cpu1 - cpu0) / (double)(until - from);
	return res;
}

static int start_omhostd(void)
{
	char log[128], path[128];

	strcpy(g_dir, "/tmp/fairness-bench.XXXXXX");
	if (!mkdtemp(g_dir))
		return -errno;
	snprintf(log, sizeof(log), "%s/omhostd.log", g_dir);
	g_pid = fork();
	if (g_pid < 0)
		return -errno;
	if (g_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(o.omhostd, o.omhostd, "--dir", g_dir, "--nodes", "3", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/node-3.sock", g_dir);
	for (int i = 0; i < WAIT_MS / 10 && access(path, F_OK); i++)
		usleep(10000);
	return access(path, F_OK) ? -ETIMEDOUT : 0;
}

static void stop_omhostd(void)
{
	static const char *const files[] = { "omhostd.log", "node-1.sock", "node-2.sock",
					     "node-3.sock", "control.sock" };
	char path[128];
	int st;

	if (g_pid > 0) {
		kill(g_pid, SIGTERM);
		if (waitpid(g_pid, &st, 0) == g_pid && !(WIFEXITED(st) && !WEXITSTATUS(st))) {
			/* Said even after another failure: it is likely that one's cause. */
			if (WIFSIGNALED(st))
				fprintf(stderr, "fairness-bench: omhostd %s died of signal %d (%s)\n",
					o.omhostd, WTERMSIG(st), strsignal(WTERMSIG(st)));
			else
				fprintf(stderr, "fairness-bench: omhostd %s exited with %d\n", o.omhostd,
					WEXITSTATUS(st));
			fail("omhostd ended with status %#x", st);
		}
		g_pid = -1;
	}
	for (size_t i = 0; g_dir[0] && i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g_dir, files[i]);
		unlink(path);
	}
	if (g_dir[0])
		rmdir(g_dir);
}

/* A counter of node's line in omhostd's status, or "?" */
static const char *status_field(const char *status, unsigned int node, const char *key,
				char *out, size_t cap)
{
	const char *line = om_ctl_node_line(status, node);

	return line ? om_ctl_field(line, key, out, cap) : "?";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n values, by linear interpolation; sorts v. */
static double quantile(double *v, unsigned int n, double q)
{
	double pos = q * (n - 1);
	unsigned int i = (unsigned int)pos;

	qsort(v, n, sizeof(*v), cmp_double);
	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "omhostd", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warm-up", required_argument, NULL, 'w' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'z' },
		{ "trickle-ms", required_argument, NULL, 't' },
		{ "calibrate", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:s:w:r:z:t:ch", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.omhostd = optarg;
			break;
		case 's':
			o.seconds = atof(optarg);
			break;
		case 'w':
			o.warm_up = atof(optarg);
			break;
		case 'r':
			o.rounds = (unsigned int)atoi(optarg);
			break;
		case 'z':
			o.size = (uint32_t)atoi(optarg);
			break;
		case 't':
			o.trickle_ms = (unsigned int)atoi(optarg);
			break;
		case 'c':
			o.calibrate = true;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o.seconds <= 0 || o.warm_up < 0 || !o.rounds ||
	    o.rounds > MAX_ROUNDS || o.size < 8 || o.size > VIRTIO_OM_MAX_PAYLOAD || !o.trickle_ms)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	double ratio[MAX_ROUNDS], cpu_ratio[MAX_ROUNDS], med, q1, q3, cpu_med;
	char status[16384], path[128], v[6][32];
	uint64_t to3[2] = { 0, 0 };
	pthread_t t1, t2;
	char load[128] = "?";
	FILE *fp;
	int r;

	if (parse_args(argc, argv)) {
		fprintf(stderr, "usage: fairness-bench [--omhostd PATH] [--seconds S] [--warm-up S] "
				"[--rounds N (1..%d)] [--size BYTES (8..65536)] [--trickle-ms MS] "
				"[--calibrate]\n",
			MAX_ROUNDS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	r = start_omhostd();
	if (r) {
		fprintf(stderr, "fairness-bench: omhostd %s: %s\n", o.omhostd, strerror(-r));
		stop_omhostd();
		return 1;
	}
	g_fe[1] = frontend(1, false);
	g_fe[2] = frontend(2, false);
	g_fe[3] = frontend(3, true);
	if (atomic_load(&g_failed)) {
		stop_omhostd();
		return 1;
	}
	pthread_barrier_init(&g.start, NULL, 3);
	pthread_barrier_init(&g.end, NULL, 3);
	pthread_create(&t1, NULL, node1_main, NULL);
	pthread_create(&t2, NULL, node2_main, NULL);
	printf("fairness-bench: omhostd (defaults), nodes 1-3, %u-byte messages 1->2, %.1f s "
	       "measured per turn after %.1f s not measured, %u rounds\n", o.size, o.seconds,
	       o.warm_up, o.rounds);
	if (o.calibrate)
		printf("  calibration: every turn alone; the ratio is the measurement's own, "
		       "1 if it is fair\n");
	else
		printf("  stuck: node 3 posts no rx buffer; node 1 sends it one message every %u ms, "
		       "node 2 floods it\n", o.trickle_ms);
	printf("  a round is four turns, alone, stuck, stuck, alone: its ratio is the mean of its\n"
	       "  stuck turns against the mean of its alone turns; relay CPU: omhostd's CPU per\n"
	       "  1->2 message in the window, and the share of a CPU it got (means of two turns)\n");
	printf("  %5s %21s %21s %7s %16s %12s\n", "round", "alone msgs/s", "stuck msgs/s", "ratio",
	       "relay CPU ns/msg", "relay busy");
	printf("  %5s %21s %21s %7s %16s %12s\n", "", "1st, 4th turn", "2nd, 3rd turn", "",
	       "alone / stuck", "alone/stuck");
	for (unsigned int i = 0; i < o.rounds && !atomic_load(&g_failed); i++) {
		struct turn_result t[4], alone, stuck;

		for (unsigned int k = 0; k < 4 && !atomic_load(&g_failed); k++) {
			bool is_stuck = (k == 1 || k == 2) && !o.calibrate;

			t[k] = turn(is_stuck);
			to3[0] += is_stuck ? g.to3[0] : 0;
			to3[1] += is_stuck ? g.to3[1] : 0;
		}
		alone = mean_of(&t[0], &t[3]);
		stuck = mean_of(&t[1], &t[2]);
		ratio[i] = alone.msgs_s > 0 ? stuck.msgs_s / alone.msgs_s : 0;
		/* Inverted: 1 is no extra work per message, less is more. */
		cpu_ratio[i] = stuck.relay_ns > 0 ? alone.relay_ns / stuck.relay_ns : 0;
		printf("  %5u %10.0f %10.0f %10.0f %10.0f %7.3f %8.0f / %5.0f %5.2f / %4.2f\n", i + 1,
		       t[0].msgs_s, t[3].msgs_s, t[1].msgs_s, t[2].msgs_s, ratio[i], alone.relay_ns,
		       stuck.relay_ns, alone.relay_busy, stuck.relay_busy);
		fflush(stdout);
	}
	g.quit = true;
	pthread_barrier_wait(&g.start);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	if (!atomic_load(&g_failed)) {
		snprintf(path, sizeof(path), "%s/control.sock", g_dir);
		if (om_ctl_ask(path, "status\n", WAIT_MS, status, sizeof(status)))
			snprintf(status, sizeof(status), "?");
		printf("  node 3's queue: queued_total=%s queue_full=%s queue_dropped=%s "
		       "dropped_unresponsive=%s; node 1 undeliverable=%s, node 2 stalls=%s\n",
		       status_field(status, 3, "queued_total", v[0], sizeof(v[0])),
		       status_field(status, 3, "queue_full", v[1], sizeof(v[1])),
		       status_field(status, 3, "queue_dropped", v[2], sizeof(v[2])),
		       status_field(status, 3, "dropped_unresponsive", v[3], sizeof(v[3])),
		       status_field(status, 1, "undeliverable", v[4], sizeof(v[4])),
		       status_field(status, 2, "stalls", v[5], sizeof(v[5])));
		printf("  messages to node 3: %" PRIu64 " from node 1, %" PRIu64 " from node 2\n",
		       to3[0], to3[1]);
		med = quantile(ratio, o.rounds, 0.5);
		q1 = quantile(ratio, o.rounds, 0.25);
		q3 = quantile(ratio, o.rounds, 0.75);
		cpu_med = quantile(cpu_ratio, o.rounds, 0.5);
		printf("  rounds' ratios: quartiles %.3f..%.3f, all %.3f..%.3f%s\n", q1, q3, ratio[0],
		       ratio[o.rounds - 1],
		       q1 < TARGET && TARGET < q3 ? " (the target is inside: not resolved)" : "");
		printf("  omhostd's CPU per 1->2 message, alone / stuck: %.3f (median of the rounds; "
		       "1: no more work per message with node 3 stuck)\n", cpu_med);
		printf("fairness: 1->2 with node 3 not draining / alone = %.3f (median of %u rounds; "
		       "target >= %.2f): %s\n", med, o.rounds, TARGET, med >= TARGET ? "PASS" : "MISS");
	}
	fp = fopen("/proc/loadavg", "r");
	if (fp) {
		if (fgets(load, sizeof(load), fp))
			load[strcspn(load, "\n")] = 0;
		fclose(fp);
	}
	printf("load average at the end: %s (%ld CPUs online)\n", load,
	       sysconf(_SC_NPROCESSORS_ONLN));
	for (int n = 1; n <= 3; n++)
		vuf_free(g_fe[n]);
	stop_omhostd();
	return atomic_load(&g_failed) ? 1 : 0;
}
