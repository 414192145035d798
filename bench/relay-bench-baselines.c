// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay-bench's baselines: A, memcpy of 64 KiB blocks on one core over
 * buffers larger than the caches; B and B', a relay over AF_UNIX sockets
 * (sender, relay and receiver threads), one message per send/recv
 * (SOCK_SEQPACKET) or many per read and write (SOCK_STREAM).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay-bench.h"

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
int bench_memcpy(double *best, unsigned int reps)
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
		double g = bench_memcpy_once(dst, src, ws, g_opts.seconds);

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

int ux_once(uint32_t size, bool stream, struct result *res)
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
	u.deadline = u.t0 + secs_ns(g_opts.seconds);
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
