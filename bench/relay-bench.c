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
 * missed is only reported (MISS). See docs/benchmarks.md.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_om.h>

#include "attach.h"
#include "omhostd.h"
#include "relay-rtt.h"
#include "trace-ring.h"
#include "vu-frontend.h"

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
#define SAMPLE 64u	   /* bytes of payload checked in every message */
#define FULL_CHECK_EVERY 64 /* messages: the whole payload is checked */
#define STALL_MS 5000	   /* no progress this long: the relay is stuck */

#define SENDER_NODE 1u
#define RECEIVER_NODE 2u

/* Targets (docs/benchmarks.md). */
#define TARGET_MEMCPY_RATIO 0.5
#define TARGET_SMALL_MSGS 2000000.0
#define TARGET_TAP_IDLE 0.99	 /* tap idle / tap compiled out */
#define TARGET_TAP_LISTENER 0.90 /* one listener / tap idle */
#define TRACE_VARIANTS 2 /* by turns: the tap compiled out, idle */
#define MAX_TRACE_ROUNDS 20

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

static struct opts o = {
	.seconds = 3.0,
	.reps = 3,
	.sizes = { 64, 4096, 65536 },
	.nsizes = 3,
	.queue = 1024, /* libvhost-user's VIRTQUEUE_MAX_SIZE; the QEMU device's queue-size */
	.trace_rounds = 9,
};

/* ---- failures: the first one is reported, every thread stops ---- */

static atomic_bool g_failed;
static pthread_mutex_t g_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_fail_msg[512];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_fail_lock);
	if (!atomic_load(&g_failed)) {
		va_start(ap, fmt);
		vsnprintf(g_fail_msg, sizeof(g_fail_msg), fmt, ap);
		va_end(ap);
		atomic_store(&g_failed, true);
	}
	pthread_mutex_unlock(&g_fail_lock);
}

/* SIGINT, SIGTERM: everything stops as after a failure, and is cleaned up. */
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
	atomic_store(&g_failed, true);
}

static bool failed(void)
{
	return atomic_load_explicit(&g_failed, memory_order_relaxed);
}

/* ---- time ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t secs_ns(double s)
{
	return (int64_t)(s * 1e9);
}

/* ---- messages and their checks ---- */

/* The payload pattern: byte i of every payload, whatever the message. */
static uint8_t g_pattern[MAX_PAYLOAD];

static void pattern_init(void)
{
	for (uint32_t i = 0; i < MAX_PAYLOAD; i++)
		g_pattern[i] = (uint8_t)(i * 0x9du + (i >> 8) * 0x3bu + 0x5au);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* A TEST_DATA header as the sender writes it. */
static void write_hdr(uint8_t *p, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len)
{
	struct virtio_om_hdr h = {
		.version = htole16(VIRTIO_OM_PROTOCOL_VERSION),
		.type = htole16(VIRTIO_OM_T_TEST_DATA),
		.src_node = htole32(src),
		.dst_node = htole32(dst),
		.seq = htole64(seq),
		.len = htole32(len),
	};

	memcpy(p, &h, sizeof(h));
}

/* The seq at the head of the payload and its complement at the tail. */
static void stamp_payload(uint8_t *p, uint32_t len, uint64_t seq)
{
	if (len >= 8)
		put_le64(p, seq);
	if (len >= 16)
		put_le64(p + len - 8, ~seq);
}

/* Puts the pattern back where stamps of another size may be left. */
static void reset_payload(uint8_t *p, uint32_t len)
{
	memcpy(p, g_pattern, len);
}

/* NULL when the payload is what the sender of seq wrote. */
static const char *check_payload(const uint8_t *p, uint32_t len, uint64_t seq)
{
	uint32_t lo = len >= 8 ? 8 : 0, hi = len >= 16 ? len - 8 : len;

	if (len >= 8 && get_le64(p) != seq)
		return "the seq stamped at the payload's head is wrong (stale or mixed data)";
	if (len >= 16 && get_le64(p + len - 8) != ~seq)
		return "the seq stamped at the payload's tail is wrong (short or mixed copy)";
	if (hi <= lo)
		return NULL;
	if (seq % FULL_CHECK_EVERY == 0) {
		if (memcmp(p + lo, g_pattern + lo, hi - lo))
			return "payload differs from what was sent";
	} else {
		uint32_t at = lo + (uint32_t)((seq * 2654435761u) % (hi - lo));
		uint32_t n = hi - at < SAMPLE ? hi - at : SAMPLE;

		if (memcmp(p + at, g_pattern + at, n))
			return "payload sample differs from what was sent";
	}
	return NULL;
}

/* NULL when hdr (48 bytes) and payload are the message seq of len bytes, relayed. */
static const char *check_msg(const uint8_t *hdr, const uint8_t *payload, size_t total,
			     uint32_t len, uint64_t seq)
{
	struct virtio_om_hdr h;

	if (total != HDR + (size_t)len)
		return "length differs from what was sent";
	memcpy(&h, hdr, sizeof(h));
	if (le16toh(h.version) != VIRTIO_OM_PROTOCOL_VERSION ||
	    le16toh(h.type) != VIRTIO_OM_T_TEST_DATA || h.flags || h.reserved ||
	    le32toh(h.dst_node) != RECEIVER_NODE || le32toh(h.len) != len)
		return "header differs from what was sent";
	if (le32toh(h.src_node) != SENDER_NODE)
		return "src_node not stamped with the sender's node";
	if (le64toh(h.seq) != seq)
		return "out of order, lost or duplicated (seq)";
	return check_payload(payload, len, seq);
}

/* ---- results ---- */

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

static void keep_best(struct result *best, uint64_t msgs, uint64_t payload_bytes, int64_t ns,
		      const struct cpu *cpu)
{
	double s = (double)ns / 1e9;
	double m = s > 0 ? (double)msgs / s : 0, g = s > 0 ? (double)payload_bytes / s / 1e9 : 0;

	best->checked += msgs;
	if (!best->have || m > best->msgs_s) {
		best->msgs_s = m;
		best->gb_s = g;
		best->relay_cpu = msgs ? (double)cpu->relay / (double)msgs : 0;
		best->total_cpu = msgs ? (double)(cpu->relay + cpu->ends) / (double)msgs : 0;
		best->have = true;
	}
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ================= A. memcpy ================= */

static double bench_memcpy_once(uint8_t *dst, const uint8_t *src, size_t ws, double seconds)
{
	const size_t block = 64 * KIB;
	uint64_t bytes = 0;
	int64_t t0 = now_ns(), end = t0 + secs_ns(seconds), t;

	do {
		for (size_t off = 0; off < ws; off += block)
			memcpy(dst + off, src + off, block);
		bytes += ws;
		t = now_ns();
	} while (t < end);
	return (double)bytes / ((double)(t - t0) / 1e9) / 1e9;
}

/* Keeps in *best the best of reps runs (*best is not reset). */
static int bench_memcpy(double *best, unsigned int reps)
{
	const size_t ws = 64 * MIB; /* per buffer: 128 MiB touched in all */
	uint8_t *src = aligned_alloc(PAGE, ws), *dst = aligned_alloc(PAGE, ws);
	unsigned int sum = 0;

	if (!src || !dst) {
		free(src);
		free(dst);
		fail("memcpy: out of memory");
		return -1;
	}
	memset(src, 0x5a, ws);
	memset(dst, 0, ws);
	for (unsigned int r = 0; r < reps; r++) {
		double g = bench_memcpy_once(dst, src, ws, o.seconds);

		if (g > *best)
			*best = g;
	}
	for (size_t off = 0; off < ws; off += 64 * KIB)
		sum += dst[off];
	free(src);
	free(dst);
	if (sum != (ws / (64 * KIB)) * 0x5au) {
		fail("memcpy baseline: wrong copy");
		return -1;
	}
	return 0;
}

/* ================= B. the unix-socket relay ================= */

/*
 * Two ways: one message per send and per recv on SOCK_SEQPACKET (each
 * party handles every message on its own, as a relay serving many
 * destinations must: the baseline of the targets), and a byte stream whose
 * parties move many messages per system call (SOCK_STREAM: up to 256 KiB
 * per write, 1 MiB per read), for reference.
 */
#define UX_BUF (1 * MIB)

struct ux_run {
	bool stream;
	int send_fd, relay_in, relay_out, recv_fd;
	uint32_t size;
	int64_t t0, deadline, t_end;
	uint64_t sent, received;
	_Atomic int64_t cpu_relay, cpu_ends;
};

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t send_one(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, p, len, 0);
	} while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t recv_one(int fd, uint8_t *p, size_t cap)
{
	ssize_t n;

	do {
		n = recv(fd, p, cap, 0);
	} while (n < 0 && errno == EINTR);
	return n;
}

static void *ux_sender(void *arg)
{
	struct ux_run *u = arg;
	size_t msz = HDR + (size_t)u->size;
	size_t batch = u->stream ? 256 * KIB / msz : 1;
	int64_t cpu0 = thread_cpu_ns();
	uint8_t *buf;
	uint64_t seq = 0;

	if (batch < 1)
		batch = 1;
	if (batch > 256)
		batch = 256;
	buf = malloc(batch * msz);
	if (!buf) {
		fail("unix relay: out of memory");
		shutdown(u->send_fd, SHUT_WR);
		return NULL;
	}
	for (size_t i = 0; i < batch; i++)
		reset_payload(buf + i * msz + HDR, u->size);
	while (!failed() && now_ns() < u->deadline) {
		for (size_t i = 0; i < batch; i++) {
			seq++;
			write_hdr(buf + i * msz, 0, RECEIVER_NODE, seq, u->size);
			stamp_payload(buf + i * msz + HDR, u->size, seq);
		}
		if (u->stream ? write_full(u->send_fd, buf, batch * msz)
			      : send_one(u->send_fd, buf, msz) != (ssize_t)msz) {
			fail("unix relay: sender: %s", strerror(errno));
			break;
		}
	}
	u->sent = seq;
	shutdown(u->send_fd, SHUT_WR);
	free(buf);
	atomic_fetch_add(&u->cpu_ends, thread_cpu_ns() - cpu0);
	return NULL;
}

/* Whole messages at the start of buf[0, have), src_node stamped: their bytes; -1 for a bad length. */
static ssize_t ux_whole(uint8_t *buf, size_t have)
{
	size_t off = 0;

	while (have - off >= HDR) {
		uint32_t len = get_le32(buf + off + offsetof(struct virtio_om_hdr, len));
		uint32_t src = htole32(SENDER_NODE);

		if (len > MAX_PAYLOAD)
			return -1;
		if (have - off < HDR + (size_t)len)
			break;
		memcpy(buf + off + offsetof(struct virtio_om_hdr, src_node), &src, 4);
		off += HDR + (size_t)len;
	}
	return (ssize_t)off;
}

static void ux_relay_stream(struct ux_run *u, uint8_t *buf)
{
	size_t have = 0;

	for (;;) {
		ssize_t n = read(u->relay_in, buf + have, UX_BUF - have), whole;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("unix relay: relay read: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			if (have)
				fail("unix relay: %zu bytes of a cut message at the end", have);
			return;
		}
		have += (size_t)n;
		whole = ux_whole(buf, have);
		if (whole < 0) {
			fail("unix relay: relay read a bad length");
			return;
		}
		if (whole && write_full(u->relay_out, buf, (size_t)whole)) {
			fail("unix relay: relay write: %s", strerror(errno));
			return;
		}
		memmove(buf, buf + whole, have - (size_t)whole);
		have -= (size_t)whole;
	}
}

static void ux_relay_packets(struct ux_run *u, uint8_t *buf)
{
	for (;;) {
		ssize_t n = recv_one(u->relay_in, buf, HDR + MAX_PAYLOAD + 1);

		if (n < 0) {
			fail("unix relay: relay recv: %s", strerror(errno));
			return;
		}
		if (n == 0)
			return;
		if (ux_whole(buf, (size_t)n) != n) {
			fail("unix relay: relay got a message of a wrong length");
			return;
		}
		if (send_one(u->relay_out, buf, (size_t)n) != n) {
			fail("unix relay: relay send: %s", strerror(errno));
			return;
		}
	}
}

static void *ux_relay(void *arg)
{
	struct ux_run *u = arg;
	int64_t cpu0 = thread_cpu_ns();
	uint8_t *buf = malloc(UX_BUF);

	if (!buf)
		fail("unix relay: out of memory");
	else if (u->stream)
		ux_relay_stream(u, buf);
	else
		ux_relay_packets(u, buf);
	shutdown(u->relay_out, SHUT_WR);
	free(buf);
	atomic_fetch_add(&u->cpu_relay, thread_cpu_ns() - cpu0);
	return NULL;
}

/* Checks the whole messages in buf[0, have): their bytes, or -1. */
static ssize_t ux_check(struct ux_run *u, const uint8_t *buf, size_t have, uint64_t *seq)
{
	size_t off = 0;

	while (have - off >= HDR) {
		uint32_t len = get_le32(buf + off + offsetof(struct virtio_om_hdr, len));
		const char *why;

		if (len != u->size) {
			fail("unix relay: message %" PRIu64 ": length %u, sent %u", *seq + 1, len,
			     u->size);
			return -1;
		}
		if (have - off < HDR + (size_t)len)
			break;
		(*seq)++;
		why = check_msg(buf + off, buf + off + HDR, HDR + (size_t)len, u->size, *seq);
		if (why) {
			fail("unix relay: message %" PRIu64 ": %s", *seq, why);
			return -1;
		}
		off += HDR + (size_t)len;
	}
	return (ssize_t)off;
}

static void *ux_receiver(void *arg)
{
	struct ux_run *u = arg;
	int64_t cpu0 = thread_cpu_ns();
	uint8_t *buf = malloc(UX_BUF);
	size_t have = 0;
	uint64_t seq = 0;

	if (!buf) {
		fail("unix relay: out of memory");
		return NULL;
	}
	for (;;) {
		ssize_t n = u->stream ? read(u->recv_fd, buf + have, UX_BUF - have)
				      : recv_one(u->recv_fd, buf, HDR + MAX_PAYLOAD + 1);
		ssize_t done;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("unix relay: receiver: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			if (have)
				fail("unix relay: receiver got a cut message");
			break;
		}
		have += (size_t)n;
		done = ux_check(u, buf, have, &seq);
		if (done < 0)
			break;
		if (!u->stream && (size_t)done != have) {
			fail("unix relay: message %" PRIu64 " cut", seq + 1);
			break;
		}
		memmove(buf, buf + done, have - (size_t)done);
		have -= (size_t)done;
	}
	u->t_end = now_ns();
	u->received = seq;
	free(buf);
	atomic_fetch_add(&u->cpu_ends, thread_cpu_ns() - cpu0);
	return NULL;
}

static int ux_once(uint32_t size, bool stream, struct result *res)
{
	int type = stream ? SOCK_STREAM : SOCK_SEQPACKET;
	int a[2], b[2];
	struct ux_run u = { .size = size, .stream = stream };
	struct cpu cpu;
	pthread_t ts, tr, tc;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, a) ||
	    socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, b)) {
		fail("socketpair: %s", strerror(errno));
		return -1;
	}
	u.send_fd = a[0];
	u.relay_in = a[1];
	u.relay_out = b[0];
	u.recv_fd = b[1];
	u.t0 = now_ns();
	u.deadline = u.t0 + secs_ns(o.seconds);
	if (pthread_create(&tc, NULL, ux_receiver, &u) || pthread_create(&tr, NULL, ux_relay, &u) ||
	    pthread_create(&ts, NULL, ux_sender, &u)) {
		fail("pthread_create failed");
		exit(1); /* threads half started: nothing sane to clean up */
	}
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	pthread_join(tc, NULL);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	if (failed())
		return -1;
	if (u.received != u.sent) {
		fail("unix relay: %" PRIu64 " messages sent, %" PRIu64 " received", u.sent,
		     u.received);
		return -1;
	}
	cpu = (struct cpu){ atomic_load(&u.cpu_relay), atomic_load(&u.cpu_ends) };
	keep_best(res, u.received, u.received * size, u.t_end - u.t0, &cpu);
	return 0;
}

/* ================= C. omhostd ================= */

/* A buffer in guest memory: header, payload (contiguous), indirect table. */
struct gbuf {
	uint8_t *hdr, *payload;
	uint64_t hdr_gpa, payload_gpa, table_gpa;
};

/*
 * The chain of a message (tx, len payload bytes) or a buffer (rx, len =
 * its capacity). Driver layout, as the guest driver builds them: the
 * header, then the payload in pieces of at most a page, as an indirect
 * table. Flat: header and payload in one descriptor.
 */
static unsigned int chain_of(const struct gbuf *b, uint32_t len, struct vuf_sg *sg,
			     uint64_t *table)
{
	unsigned int n = 0;

	if (o.flat) {
		sg[0] = (struct vuf_sg){ b->hdr_gpa, HDR + len };
		*table = 0;
		return 1;
	}
	sg[n++] = (struct vuf_sg){ b->hdr_gpa, HDR };
	for (uint32_t off = 0; off < len; off += PAGE)
		sg[n++] = (struct vuf_sg){ b->payload_gpa + off, len - off < PAGE ? len - off : PAGE };
	*table = n > 1 ? b->table_gpa : 0;
	return n;
}

/* Guest-memory bytes per buffer. */
#define GBUF_STRIDE (MAX_PAYLOAD + PAGE)

static int gbufs_alloc(struct vuf *f, struct gbuf *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa;
		uint8_t *p = vuf_alloc(f, GBUF_STRIDE, PAGE, &gpa);

		if (!p)
			return -ENOMEM;
		/* Flat: the payload right after the header; driver: page-aligned pages. */
		if (o.flat) {
			b[i].hdr = p;
			b[i].hdr_gpa = gpa;
		} else {
			b[i].hdr = p + MAX_PAYLOAD;
			b[i].hdr_gpa = gpa + MAX_PAYLOAD;
		}
		b[i].payload = o.flat ? p + HDR : p;
		b[i].payload_gpa = o.flat ? gpa + HDR : gpa;
		b[i].table_gpa = gpa + MAX_PAYLOAD + 64 * ((HDR + 63) / 64);
		memset(p, 0, GBUF_STRIDE);
	}
	return 0;
}

struct hd {
	/* Phases, driven by the main thread. */
	pthread_barrier_t start, end;
	uint32_t size;
	double seconds;
	bool quit;
	/* Within a phase. */
	_Atomic int64_t t0, t_end;
	atomic_bool sender_done;
	_Atomic uint64_t sent;	   /* messages of this phase, valid once sender_done */
	uint64_t received;	   /* receiver's, read after the end barrier */
	uint64_t received_all;	   /* over every phase of one omhostd, warm-ups too */
	_Atomic int64_t cpu_ends;  /* CPU ns of the sender and receiver threads */
	char dir[64];
};

static struct hd g_hd;

static struct vuf *hd_frontend(uint32_t node, bool manual_rx)
{
	struct vuf_opts vo = {
		.queue_size = (uint16_t)o.queue,
		.region_size = (uint64_t)o.queue * GBUF_STRIDE + 16 * MIB,
		.features = VUF_BIT(VUF_F_INDIRECT_DESC) | VUF_BIT(VUF_F_EVENT_IDX),
		.timeout_ms = STALL_MS,
		.rx_bufs = manual_rx ? 1 : 8,
		.tx_slots = 1,
		.flags = manual_rx ? VUF_O_MANUAL_RX : 0,
	};
	char path[128];
	struct vuf *f = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/node-%u.sock", g_hd.dir, node);
	r = vuf_new(&f, &vo);
	if (r == 0)
		r = vuf_connect(f, path);
	if (r == 0)
		r = vuf_handshake(f);
	if (r == 0 && vuf_node_id(f) != node)
		r = -EPROTO;
	if (r == 0 && !(vuf_features(f) & VUF_BIT(VUF_F_EVENT_IDX)))
		fprintf(stderr, "relay-bench: note: EVENT_IDX not negotiated with node %u\n", node);
	if (r < 0) {
		fail("omhostd: front-end of node %u: %s", node, strerror(-r));
		vuf_free(f);
		return NULL;
	}
	return f;
}

static void *hd_sender(void *arg)
{
	struct vuf *f = hd_frontend(SENDER_NODE, false);
	struct gbuf *b = calloc(o.queue, sizeof(*b));
	uint16_t *free_slots = calloc(o.queue, sizeof(*free_slots));
	struct vuf_used_elem *used = calloc(o.queue, sizeof(*used));
	unsigned int nfree = 0;
	uint64_t seq = 0;

	(void)arg;
	if (!b || !free_slots || !used || (f && gbufs_alloc(f, b, o.queue)))
		fail("omhostd: sender: out of guest memory");
	for (unsigned int i = 0; free_slots && i < o.queue; i++)
		free_slots[nfree++] = (uint16_t)i;
	pthread_barrier_wait(&g_hd.start); /* ready */
	for (;;) {
		uint32_t size;
		uint64_t first = seq;
		int64_t deadline, stall_from, cpu0;

		pthread_barrier_wait(&g_hd.start);
		if (g_hd.quit)
			break;
		size = g_hd.size;
		if (!failed()) {
			for (unsigned int i = 0; i < o.queue; i++)
				reset_payload(b[i].payload, size);
		}
		cpu0 = thread_cpu_ns();
		atomic_store(&g_hd.t0, now_ns());
		deadline = atomic_load(&g_hd.t0) + secs_ns(g_hd.seconds);
		stall_from = now_ns();
		while (!failed()) {
			int n = vuf_vq_harvest(f, VUF_TX, used, o.queue);
			unsigned int added = 0;

			if (n < 0) {
				fail("omhostd: sender: tx used ring: %s", strerror(-n));
				break;
			}
			for (int i = 0; i < n; i++) {
				if (!used[i].known) {
					fail("omhostd: sender: used entry %u names no chain", used[i].id);
					break;
				}
				free_slots[nfree++] = (uint16_t)used[i].token;
			}
			if (n)
				stall_from = now_ns();
			if (now_ns() >= deadline) {
				if (vuf_vq_inflight(f, VUF_TX) == 0)
					break;
			} else {
				while (nfree) {
					struct vuf_sg sg[VUF_MAX_SEGS];
					uint16_t slot = free_slots[nfree - 1];
					struct gbuf *g = &b[slot];
					uint64_t table;
					unsigned int nsg = chain_of(g, size, sg, &table);
					int r;

					if (vuf_vq_free_descs(f, VUF_TX) < (table ? 1 : nsg))
						break;
					write_hdr(g->hdr, SENDER_NODE, RECEIVER_NODE, seq + 1, size);
					stamp_payload(g->payload, size, seq + 1);
					r = vuf_vq_add(f, VUF_TX, sg, nsg, NULL, 0, table, slot);
					if (r < 0) {
						fail("omhostd: sender: vuf_vq_add: %s", strerror(-r));
						break;
					}
					nfree--;
					seq++;
					added++;
				}
			}
			if (added) {
				int r = vuf_vq_notify(f, VUF_TX);

				if (r < 0)
					fail("omhostd: sender: kick: %s", strerror(-r));
				continue;
			}
			int r = vuf_vq_wait(f, VUF_TX, 100);

			if (r == -ETIMEDOUT) {
				if ((now_ns() - stall_from) / 1000000 > STALL_MS)
					fail("omhostd: no tx returned for %d ms (relay stuck)",
					     STALL_MS);
			} else if (r < 0) {
				fail("omhostd: sender: %s", r == -ECONNRESET ?
					"omhostd closed the connection" : strerror(-r));
			}
		}
		atomic_store(&g_hd.sent, seq - first);
		atomic_fetch_add(&g_hd.cpu_ends, thread_cpu_ns() - cpu0);
		atomic_store(&g_hd.sender_done, true);
		pthread_barrier_wait(&g_hd.end);
	}
	vuf_free(f);
	free(b);
	free(free_slots);
	free(used);
	return NULL;
}

/* Posts rx buffer i (its whole capacity). */
static int hd_post_rx(struct vuf *f, struct gbuf *b, unsigned int i)
{
	struct vuf_sg sg[VUF_MAX_SEGS];
	uint64_t table;
	unsigned int n = chain_of(&b[i], MAX_PAYLOAD, sg, &table);
	int r = vuf_vq_add(f, VUF_RX, NULL, 0, sg, n, table, i);

	return r < 0 ? r : 0;
}

/* A control message from the host (NODE_UP about the sender): skipped; NULL if fine. */
static const char *hd_control(const struct gbuf *g, uint32_t len)
{
	struct virtio_om_hdr h;

	memcpy(&h, g->hdr, sizeof(h));
	if (len < HDR || le32toh(h.src_node) != VIRTIO_OM_NODE_HOST)
		return NULL; /* not one: data */
	if (le16toh(h.type) == VIRTIO_OM_T_NODE_UP)
		return "";
	if (le16toh(h.type) == VIRTIO_OM_T_NODE_DOWN)
		return "the sender went down (NODE_DOWN)";
	return NULL; /* data with a wrong src_node: check_msg says so */
}

static void *hd_receiver(void *arg)
{
	struct vuf *f = hd_frontend(RECEIVER_NODE, true);
	struct gbuf *b = calloc(o.queue, sizeof(*b));
	struct vuf_used_elem *used = calloc(o.queue, sizeof(*used));
	uint64_t seq = 0;
	int r = 0;

	(void)arg;
	if (!b || !used || (f && gbufs_alloc(f, b, o.queue)))
		fail("omhostd: receiver: out of guest memory");
	for (unsigned int i = 0; f && !failed() && i < o.queue && r == 0; i++)
		r = hd_post_rx(f, b, i);
	if (f && !failed())
		r = r ? r : vuf_vq_notify(f, VUF_RX);
	if (r < 0)
		fail("omhostd: receiver: posting rx: %s", strerror(-r));
	pthread_barrier_wait(&g_hd.start); /* ready */
	for (;;) {
		uint32_t size;
		uint64_t got = 0;
		int64_t last_progress, cpu0;

		pthread_barrier_wait(&g_hd.start);
		if (g_hd.quit)
			break;
		size = g_hd.size;
		cpu0 = thread_cpu_ns();
		last_progress = now_ns();
		while (!failed()) {
			int n = vuf_vq_harvest(f, VUF_RX, used, o.queue);

			if (n < 0) {
				fail("omhostd: receiver: rx used ring: %s", strerror(-n));
				break;
			}
			for (int i = 0; i < n && !failed(); i++) {
				struct gbuf *g;
				const char *why;

				if (!used[i].known) {
					fail("omhostd: receiver: used entry %u names no buffer",
					     used[i].id);
					break;
				}
				g = &b[used[i].token];
				why = hd_control(g, used[i].len);
				if (why && *why) {
					fail("omhostd: receiver: %s", why);
				} else if (!why) {
					seq++;
					got++;
					why = check_msg(g->hdr, g->payload, used[i].len, size, seq);
					if (why)
						fail("omhostd: message %" PRIu64 " (%u bytes): %s", seq,
						     size, why);
				}
				r = hd_post_rx(f, b, (unsigned int)used[i].token);
				if (r < 0)
					fail("omhostd: receiver: re-posting rx: %s", strerror(-r));
			}
			if (n > 0) {
				last_progress = now_ns();
				r = vuf_vq_notify(f, VUF_RX);
				if (r < 0)
					fail("omhostd: receiver: kick: %s", strerror(-r));
				if (atomic_load(&g_hd.sender_done) && got == atomic_load(&g_hd.sent)) {
					atomic_store(&g_hd.t_end, now_ns());
					break;
				}
				continue;
			}
			if (atomic_load(&g_hd.sender_done) && got >= atomic_load(&g_hd.sent)) {
				/* Everything came in an earlier batch. */
				if (got > atomic_load(&g_hd.sent))
					fail("omhostd: more messages received than sent");
				atomic_store(&g_hd.t_end, last_progress);
				break;
			}
			r = vuf_vq_wait(f, VUF_RX, 100);
			if (r == -ETIMEDOUT) {
				if ((now_ns() - last_progress) / 1000000 > STALL_MS)
					fail("omhostd: nothing received for %d ms (relay stuck)",
					     STALL_MS);
			} else if (r < 0) {
				fail("omhostd: receiver: %s", r == -ECONNRESET ?
					"omhostd closed the connection" : strerror(-r));
			}
		}
		g_hd.received = got;
		atomic_fetch_add(&g_hd.cpu_ends, thread_cpu_ns() - cpu0);
		pthread_barrier_wait(&g_hd.end);
	}
	vuf_free(f);
	free(b);
	free(used);
	return NULL;
}

static pid_t g_omhostd = -1;

/* True once omhostd is gone (reaped). */
static bool omhostd_dead(void)
{
	int st;

	if (g_omhostd < 0)
		return true;
	if (waitpid(g_omhostd, &st, WNOHANG) == g_omhostd) {
		if (WIFSIGNALED(st))
			fail("omhostd died of signal %d", WTERMSIG(st));
		else
			fail("omhostd exited with %d", WEXITSTATUS(st));
		g_omhostd = -1;
		return true;
	}
	return false;
}

static int omhostd_start(const char *bin)
{
	char log[128];
	pid_t pid;

	strcpy(g_hd.dir, "/tmp/relay-bench.XXXXXX");
	if (!mkdtemp(g_hd.dir)) {
		fail("mkdtemp: %s", strerror(errno));
		g_hd.dir[0] = 0;
		return -1;
	}
	snprintf(log, sizeof(log), "%s/omhostd.log", g_hd.dir);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "--dir", g_hd.dir, "--nodes", "2", (char *)NULL);
		dprintf(2, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	g_omhostd = pid;
	return 0;
}

/* Waits until omhostd listens on both nodes' sockets; -1 if it died or never did. */
static int omhostd_wait_ready(void)
{
	int64_t end = now_ns() + secs_ns(STALL_MS / 1000.0);

	while (now_ns() < end) {
		char path[128];
		bool ready = true;

		for (uint32_t n = SENDER_NODE; n <= RECEIVER_NODE; n++) {
			snprintf(path, sizeof(path), "%s/node-%u.sock", g_hd.dir, n);
			ready = ready && access(path, F_OK) == 0;
		}
		if (ready)
			return 0;
		if (omhostd_dead())
			return -1;
		usleep(5000);
	}
	fail("omhostd: no sockets in %s after %d ms", g_hd.dir, STALL_MS);
	return -1;
}

static void omhostd_log_tail(void)
{
	char path[128], line[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/omhostd.log", g_hd.dir);
	fp = fopen(path, "r");
	if (!fp)
		return;
	fprintf(stderr, "relay-bench: omhostd's log:\n");
	while (fgets(line, sizeof(line), fp))
		fprintf(stderr, "  %s", line);
	fclose(fp);
}

/* Lines of omhostd's log that contain what. */
static unsigned int omhostd_log_count(const char *what)
{
	char path[128], line[512];
	unsigned int n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/omhostd.log", g_hd.dir);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, what) != NULL;
	fclose(fp);
	return n;
}

static void omhostd_stop(void)
{
	char path[128];

	if (g_omhostd > 0) {
		int st;

		kill(g_omhostd, SIGTERM);
		for (int i = 0; i < 200 && waitpid(g_omhostd, &st, WNOHANG) == 0; i++)
			usleep(10000);
		if (waitpid(g_omhostd, &st, WNOHANG) == 0) {
			kill(g_omhostd, SIGKILL);
			waitpid(g_omhostd, &st, 0);
		}
		g_omhostd = -1;
	}
	if (!g_hd.dir[0])
		return;
	if (failed())
		omhostd_log_tail();
	static const char *const files[] = { "omhostd.log", "node-1.sock", "node-2.sock",
					     "control.sock" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g_hd.dir, files[i]);
		unlink(path);
	}
	if (rmdir(g_hd.dir))
		fprintf(stderr, "relay-bench: cannot remove %s: %s\n", g_hd.dir, strerror(errno));
	g_hd.dir[0] = 0;
}

/* CPU ns omhostd ran so far (all its threads), from the scheduler's statistics. */
static int64_t omhostd_cpu_ns(void)
{
	char path[64];
	int64_t sum = 0;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)g_omhostd);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char p[64 + 256 + 16];
		long long ns;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		fp = fopen(p, "r");
		if (!fp)
			continue;
		if (fscanf(fp, "%lld", &ns) == 1)
			sum += ns;
		fclose(fp);
	}
	closedir(d);
	return sum;
}

/* One phase of both front-ends; with res, counted. */
static int hd_phase(uint32_t size, double seconds, struct result *res)
{
	struct cpu cpu;
	int64_t relay0;

	g_hd.size = size;
	g_hd.seconds = seconds;
	atomic_store(&g_hd.sender_done, false);
	atomic_store(&g_hd.sent, 0);
	atomic_store(&g_hd.t_end, 0);
	atomic_store(&g_hd.cpu_ends, 0);
	relay0 = omhostd_cpu_ns();
	pthread_barrier_wait(&g_hd.start);
	pthread_barrier_wait(&g_hd.end);
	cpu = (struct cpu){ omhostd_cpu_ns() - relay0, atomic_load(&g_hd.cpu_ends) };
	if (omhostd_dead() || failed())
		return -1;
	g_hd.received_all += g_hd.received;
	if (g_hd.received != atomic_load(&g_hd.sent)) {
		fail("omhostd: %" PRIu64 " messages sent, %" PRIu64 " received",
		     atomic_load(&g_hd.sent), g_hd.received);
		return -1;
	}
	if (res)
		keep_best(res, g_hd.received, g_hd.received * size,
			  atomic_load(&g_hd.t_end) - atomic_load(&g_hd.t0), &cpu);
	return 0;
}

/*
 * The memcpy baseline again, run by turns with omhostd at 64 KiB: the
 * machine's load changes over a run, and the ratio should compare the two
 * in the same minutes.
 */
static double g_mc_interleaved;

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
	snprintf(path, sizeof(path), "%s/control.sock", g_hd.dir);
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

/*
 * D's listener rounds, in one omhostd: per size and round, a phase with
 * no listener and one with a listener attached for it, in alternating
 * order.
 */
#define TRACE_SIZES 2 /* D's payload sizes: 64 B and 64 KiB */

struct listen_rounds {
	unsigned int rounds;
	struct result idle[TRACE_SIZES][MAX_TRACE_ROUNDS], listen[TRACE_SIZES][MAX_TRACE_ROUNDS];
	uint64_t records, missed;
	int64_t listener_cpu;
};

static int listen_round(uint32_t size, unsigned int s, unsigned int r, struct listen_rounds *lr)
{
	for (unsigned int i = 0; i < 2; i++) {
		bool with = (r % 2) ^ i; /* even rounds: idle first */
		struct tracer tr;
		int rc;

		if (with && tracer_start(&tr))
			return -1;
		rc = hd_phase(size, o.seconds, with ? &lr->listen[s][r] : &lr->idle[s][r]);
		if (with) {
			if (tracer_detach(&tr, rc ? NULL : &g_hd.received))
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
 * Runs omhostd binary bin with the two front-ends over sizes (a warm-up
 * and reps measurements each, the best kept in res[]); at 64 KiB memcpy by
 * turns when with_memcpy; then, with lr, D's rounds of phases without and
 * with a trace listener.
 */
static int bench_omhostd(const char *bin, const uint32_t *sizes, unsigned int nsizes,
			 unsigned int reps, bool with_memcpy, struct listen_rounds *lr,
			 struct result *res)
{
	pthread_t ts, tr_thread;
	int rc = 0;

	if (access(bin, X_OK)) {
		fail("omhostd: %s: %s", bin, strerror(errno));
		return -1;
	}
	g_hd.quit = false;
	g_hd.received_all = 0;
	if (omhostd_start(bin) || omhostd_wait_ready()) {
		omhostd_stop();
		return -1;
	}
	pthread_barrier_init(&g_hd.start, NULL, 3);
	pthread_barrier_init(&g_hd.end, NULL, 3);
	if (pthread_create(&tr_thread, NULL, hd_receiver, NULL) ||
	    pthread_create(&ts, NULL, hd_sender, NULL)) {
		fail("pthread_create failed");
		omhostd_stop();
		exit(1);
	}
	pthread_barrier_wait(&g_hd.start); /* both front-ends up (or failed) */
	if (omhostd_dead() || failed())
		rc = -1;
	for (unsigned int s = 0; rc == 0 && s < nsizes; s++) {
		/* Warm-up: guest memory faulted in on omhostd's side, caches. */
		rc = hd_phase(sizes[s], o.seconds < 1 ? o.seconds / 4 : 0.25, NULL);
		for (unsigned int r = 0; rc == 0 && r < reps; r++) {
			if (with_memcpy && sizes[s] == 64 * KIB &&
			    bench_memcpy(&g_mc_interleaved, 1))
				rc = -1;
			if (rc == 0)
				rc = hd_phase(sizes[s], o.seconds, &res[s]);
		}
		for (unsigned int r = 0; rc == 0 && lr && r < lr->rounds; r++)
			rc = listen_round(sizes[s], s, r, lr);
	}
	g_hd.quit = true;
	pthread_barrier_wait(&g_hd.start);
	pthread_join(ts, NULL);
	pthread_join(tr_thread, NULL);
	pthread_barrier_destroy(&g_hd.start);
	pthread_barrier_destroy(&g_hd.end);
	omhostd_dead();
	omhostd_stop();
	return failed() ? -1 : rc;
}

/* ================= D. the cost of tracing ================= */

static void print_target(const char *what, double value, const char *fmt_target, bool have,
			 bool pass);

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

/* One target line: the median of the rounds' ratios, and their spread. */
static void print_trace_target(const char *what, double *ratios, unsigned int n,
			       const char *target_text, double target)
{
	double m = quantile(ratios, n, 0.5), q1 = quantile(ratios, n, 0.25),
	       q3 = quantile(ratios, n, 0.75);

	print_target(what, m, target_text, true, m >= target);
	printf("  %-40s %12s  rounds: quartiles %.3f..%.3f, all %.3f..%.3f%s\n", "", "", q1, q3,
	       ratios[0], ratios[n - 1],
	       q1 < target && target < q3 ? " (the target is inside: not resolved)" : "");
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
		end = now_ns() + secs_ns(o.seconds);
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

	out = relay_instructions(o.tap_instructions_notrace, false, &why);
	if (out)
		idle = relay_instructions(o.tap_instructions, false, &why);
	if (idle)
		listen = relay_instructions(o.tap_instructions, true, &why);
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
static int bench_trace_cost(void)
{
	static const uint32_t sizes[TRACE_SIZES] = { 64, 65536 };
	enum { NS = TRACE_SIZES };
	static struct result res[MAX_TRACE_ROUNDS][TRACE_VARIANTS][NS];
	static struct listen_rounds lr;
	double idle[NS][MAX_TRACE_ROUNDS], listen[NS][MAX_TRACE_ROUNDS];
	double cpu_idle[NS][MAX_TRACE_ROUNDS], cpu_listen[NS][MAX_TRACE_ROUNDS];
	double cpu_sum[NS][TRACE_VARIANTS] = { { 0 } }, lcpu_sum[NS][2] = { { 0 } };
	double all_sum[NS][2] = { { 0 } }, tap, tap_listener, tap_ratio, listener_ns, idle_64;
	const char *bins[TRACE_VARIANTS] = { o.omhostd_notrace, o.omhostd };
	double seconds = o.seconds;

	/* Many short rounds: the median of many by-turns ratios beats a few long runs. */
	if (o.seconds > 1)
		o.seconds = 1;

	printf("D. the cost of tracing, %u rounds, each measurement %.2f s per size:\n"
	       "   by turns, omhostd with its tap compiled out (%s) and idle (no listener)\n",
	       o.trace_rounds, o.seconds, o.omhostd_notrace);
	printf("  %8s %5s %12s %12s %7s %16s\n", "payload", "round", "compiled out", "idle",
	       "idle/", "relay CPU ns/msg");
	printf("  %8s %5s %12s %12s %7s %16s\n", "bytes", "", "msgs/s", "msgs/s", "out",
	       "out/idle");
	for (unsigned int r = 0; r < o.trace_rounds; r++) {
		for (unsigned int i = 0; i < TRACE_VARIANTS; i++) {
			/* Odd rounds in reverse: a drift over a round favours no variant. */
			unsigned int v = r % 2 ? TRACE_VARIANTS - 1 - i : i;

			if (bench_omhostd(bins[v], sizes, NS, 1, false, NULL, res[r][v]))
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
		       sizes[s], cpu_sum[s][0] / o.trace_rounds, cpu_sum[s][1] / o.trace_rounds);

	printf("   one omhostd (%s), phases with no listener and with one (snaplen %u,\n"
	       "   a thread reading every record) alternating\n", o.omhostd,
	       OM_TRACE_SNAPLEN_DEFAULT);
	printf("  %8s %5s %12s %12s %7s %16s\n", "payload", "round", "idle", "1 listener",
	       "listen/", "relay CPU ns/msg");
	printf("  %8s %5s %12s %12s %7s %16s\n", "bytes", "", "msgs/s", "msgs/s", "idle",
	       "idle/listen");
	memset(&lr, 0, sizeof(lr));
	lr.rounds = o.trace_rounds;
	if (bench_omhostd(o.omhostd, sizes, NS, 0, false, &lr, NULL))
		return -1;
	for (unsigned int s = 0; s < NS; s++) {
		for (unsigned int r = 0; r < o.trace_rounds; r++) {
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
	idle_64 = lcpu_sum[0][0] / o.trace_rounds;
	printf("  the listener got %" PRIu64 " records and was told it missed %" PRIu64
	       " (every message relayed while it listened accounted for);\n"
	       "  its thread's CPU: %.1f ns a record\n", lr.records, lr.missed, listener_ns);
	for (unsigned int s = 0; s < NS; s++)
		printf("  %u B: mean of the rounds, relay CPU ns/msg: idle %.0f, one listener %.0f;\n"
		       "    all CPU (relay, sender, receiver): idle %.0f, one listener %.0f\n",
		       sizes[s], lcpu_sum[s][0] / o.trace_rounds, lcpu_sum[s][1] / o.trace_rounds,
		       all_sum[s][0] / o.trace_rounds, all_sum[s][1] / o.trace_rounds);
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
		print_trace_target(what, idle[s], o.trace_rounds, ">= 0.99", TARGET_TAP_IDLE);
		snprintf(what, sizeof(what), "  same, relay CPU");
		print_trace_target(what, cpu_idle[s], o.trace_rounds, ">= 0.99", TARGET_TAP_IDLE);
		snprintf(what, sizeof(what), "1 listener / tap idle, %u B, msgs/s", sizes[s]);
		print_trace_target(what, listen[s], o.trace_rounds, ">= 0.90", TARGET_TAP_LISTENER);
		snprintf(what, sizeof(what), "  same, relay CPU");
		print_trace_target(what, cpu_listen[s], o.trace_rounds, ">= 0.90",
				   TARGET_TAP_LISTENER);
	}
	tap_instruction_targets();
	/* A component alone: not the target (the whole relay's are above), a cross-check. */
	printf("  for reference, not a target: the tap alone against the idle relay's CPU at\n"
	       "  64 B (only the tap's thread timed): %.3f\n", tap_ratio);
	printf("\n");
	o.seconds = seconds;
	return 0;
}

/* ================= C, one message at a time ================= */

#define RTT_SIZE 64u
#define RTT_TRIPS 5000u

/* The round trip of one message, with an omhostd of its own. */
static int rtt_measure(struct relay_rtt *rtt)
{
	char why[160];
	int r;

	if (omhostd_start(o.omhostd) || omhostd_wait_ready()) {
		omhostd_stop();
		return -1;
	}
	r = relay_rtt_run(g_hd.dir, RTT_SIZE, RTT_TRIPS, rtt, why, sizeof(why));
	if (r)
		fail("omhostd: round trip: %s", why);
	omhostd_dead();
	omhostd_stop();
	return failed() ? -1 : 0;
}

/* ================= main ================= */

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

	o.nsizes = 0;
	while (*s) {
		unsigned long v = strtoul(s, &end, 0);

		if (end == s || v > MAX_PAYLOAD || o.nsizes == MAX_SIZES)
			return -1;
		o.sizes[o.nsizes++] = (uint32_t)v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return o.nsizes ? 0 : -1;
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

	o.omhostd = getenv("OMHOSTD") ? getenv("OMHOSTD") : OMHOSTD_PATH;
	o.omhostd_notrace = getenv("OMHOSTD_NOTRACE") ? getenv("OMHOSTD_NOTRACE")
						       : OMHOSTD_NOTRACE_PATH;
	o.tap_instructions = TAP_INSTRUCTIONS_PATH;
	o.tap_instructions_notrace = TAP_INSTRUCTIONS_NOTRACE_PATH;
	while ((c = getopt_long(argc, argv, "s:o:z:qr:Q:fST:N:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.seconds = strtod(optarg, &end);
			if (*end || !(o.seconds > 0 && o.seconds <= 3600))
				return -1;
			have_seconds = true;
			break;
		case 'o':
			o.omhostd = optarg;
			break;
		case 'z':
			if (parse_sizes(optarg))
				return -1;
			break;
		case 'q':
			o.quick = true;
			break;
		case 'r':
			o.reps = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || o.reps < 1 || o.reps > 100)
				return -1;
			break;
		case 'Q':
			o.queue = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || o.queue < 2 || o.queue > 1024 || (o.queue & (o.queue - 1)))
				return -1;
			break;
		case 'f':
			o.flat = true;
			break;
		case 'S':
			o.no_stream = true;
			break;
		case 'T':
			o.trace_rounds = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || o.trace_rounds > MAX_TRACE_ROUNDS)
				return -1;
			break;
		case 'N':
			o.omhostd_notrace = optarg;
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
	if (o.quick && !have_seconds)
		o.seconds = 0.25;
	return 0;
}

static void print_loadavg(const char *when)
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

static void print_head(void)
{
	printf("  %8s %12s %8s %11s %11s %12s\n", "payload", "msgs/s", "GB/s", "relay CPU", "all CPU",
	       "msgs checked");
	printf("  %8s %12s %8s %11s %11s %12s\n", "bytes", "", "", "ns/msg", "ns/msg", "");
}

static void print_row(uint32_t size, const struct result *r)
{
	printf("  %8u %12.0f %8.3f %11.0f %11.0f %12" PRIu64 "\n", size, r->msgs_s, r->gb_s,
	       r->relay_cpu, r->total_cpu, r->checked);
}

static const struct result *result_at(const struct result *r, uint32_t size)
{
	for (unsigned int i = 0; i < o.nsizes; i++)
		if (o.sizes[i] == size && r[i].have)
			return &r[i];
	return NULL;
}

static void print_target(const char *what, double value, const char *fmt_target, bool have,
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

int main(int argc, char **argv)
{
	static struct result ux[MAX_SIZES], uxs[MAX_SIZES], hd[MAX_SIZES];
	struct relay_rtt rtt = { 0 };
	double mc = 0, mc_start;
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
	       o.reps, o.seconds);
	printf("omhostd: %s, --nodes 2; front-ends: queue size %u, EVENT_IDX, %s\n\n", o.omhostd,
	       o.queue, o.flat ? "flat buffers (one descriptor)"
			       : "driver layout (header + 4 KiB pages, indirect)");

	/* A. */
	if (bench_memcpy(&mc, o.reps))
		rc = 1;
	printf("A. memcpy, 64 KiB blocks, 2 x 64 MiB buffers, one core: %.2f GB/s\n\n", mc);
	mc_start = mc;

	/* B. */
	printf("B. unix-socket relay: sender -> relay -> receiver threads, one message per\n"
	       "   send/recv (SOCK_SEQPACKET); the baseline of the targets\n");
	print_head();
	for (unsigned int s = 0; rc == 0 && s < o.nsizes; s++) {
		for (unsigned int r = 0; rc == 0 && r < o.reps; r++)
			if (ux_once(o.sizes[s], false, &ux[s]))
				rc = 1;
		if (rc == 0)
			print_row(o.sizes[s], &ux[s]);
	}
	printf("\n");
	if (rc == 0 && !o.no_stream) {
		printf("B'. the same over a byte stream, many messages per read and write\n"
		       "   (SOCK_STREAM, <= 256 KiB per write, 1 MiB reads): the batched baseline\n");
		print_head();
		for (unsigned int s = 0; rc == 0 && s < o.nsizes; s++) {
			for (unsigned int r = 0; rc == 0 && r < o.reps; r++)
				if (ux_once(o.sizes[s], true, &uxs[s]))
					rc = 1;
			if (rc == 0)
				print_row(o.sizes[s], &uxs[s]);
		}
		printf("\n");
	}

	/* C. */
	if (rc == 0) {
		printf("C. omhostd: node 1 -> node 2, two synthetic front-ends (threads)\n");
		if (bench_omhostd(o.omhostd, o.sizes, o.nsizes, o.reps, true, NULL, hd))
			rc = 1;
		print_head();
		for (unsigned int s = 0; s < o.nsizes; s++)
			if (hd[s].have)
				print_row(o.sizes[s], &hd[s]);
	}
	if (rc == 0 && rtt_measure(&rtt))
		rc = 1;
	if (rc == 0)
		printf("  one message at a time (node 1 -> 2 -> 1, %u B, each waking the relay and\n"
		       "  its receiver): round trip median %.1f us, p99 %.1f us, min %.1f us (%u round trips)\n\n",
		       RTT_SIZE, rtt.median_us, rtt.p99_us, rtt.min_us, rtt.n);

	/* The ratio: omhostd and memcpy measured by turns, in the same minutes. */
	if (rc == 0 && g_mc_interleaved > 0) {
		printf("A, run by turns with C at 64 KiB: memcpy %.2f GB/s (used for the ratio)\n\n",
		       g_mc_interleaved);
		mc = g_mc_interleaved;
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
		for (unsigned int s = 0; s < o.nsizes; s++) {
			double ratio = ux[s].msgs_s > 0 ? hd[s].msgs_s / ux[s].msgs_s : 0;

			snprintf(what, sizeof(what), "omhostd / unix relay at %u B", o.sizes[s]);
			print_target(what, ratio, "> 1", hd[s].have && ux[s].have, ratio > 1);
		}
		for (unsigned int s = 0; !o.no_stream && s < o.nsizes; s++) {
			double ratio = uxs[s].msgs_s > 0 ? hd[s].msgs_s / uxs[s].msgs_s : 0;

			snprintf(what, sizeof(what), "omhostd / batched stream (B') at %u B",
				 o.sizes[s]);
			print_target(what, ratio, "> 1", hd[s].have && uxs[s].have, ratio > 1);
		}
		printf("\n");
	}
	/* D. */
	if (rc == 0 && o.trace_rounds && bench_trace_cost())
		rc = 1;
	print_loadavg("at end");
	if (failed()) {
		fprintf(stderr, "relay-bench: FAILED: %s\n",
			g_fail_msg[0] ? g_fail_msg : g_interrupted ? "interrupted" : "?");
		rc = 1;
	}
	return rc;
}
