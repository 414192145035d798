// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every part of relay-bench uses: the first failure, clocks, the
 * messages the senders write and the checks of what the receivers get,
 * and the best of several runs.
 */
#include <endian.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "relay-bench.h"

#define SAMPLE 64u	    /* bytes of payload checked in every message */
#define FULL_CHECK_EVERY 64 /* messages: the whole payload is checked */

/* ---- failures: the first one is reported, every thread stops ---- */

static atomic_bool g_failed;
static pthread_mutex_t g_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_fail_msg[512];

static bool g_fail_cause; /* g_fail_msg is a cause's (fail_cause) */

void fail(const char *fmt, ...)
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

void fail_cause(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_fail_lock);
	if (!g_fail_cause) {
		va_start(ap, fmt);
		vsnprintf(g_fail_msg, sizeof(g_fail_msg), fmt, ap);
		va_end(ap);
		g_fail_cause = true;
		atomic_store(&g_failed, true);
	}
	pthread_mutex_unlock(&g_fail_lock);
}

/* SIGINT, SIGTERM: everything stops as after a failure, and is cleaned up. */
static volatile sig_atomic_t g_interrupted;

void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
	atomic_store(&g_failed, true);
}

bool failed(void)
{
	return atomic_load_explicit(&g_failed, memory_order_relaxed);
}

const char *failure(void)
{
	return g_fail_msg[0] ? g_fail_msg : g_interrupted ? "interrupted" : "?";
}

/* ---- time ---- */

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t secs_ns(double s)
{
	return (int64_t)(s * 1e9);
}

/* ---- messages and their checks ---- */

/* The payload pattern: byte i of every payload, whatever the message. */
static uint8_t g_pattern[MAX_PAYLOAD];

void pattern_init(void)
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

uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

/* A TEST_DATA header as the sender writes it. */
void write_hdr(uint8_t *p, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len)
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
void stamp_payload(uint8_t *p, uint32_t len, uint64_t seq)
{
	if (len >= 8)
		put_le64(p, seq);
	if (len >= 16)
		put_le64(p + len - 8, ~seq);
}

/* Puts the pattern back where stamps of another size may be left. */
void reset_payload(uint8_t *p, uint32_t len)
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
const char *check_msg(const uint8_t *hdr, const uint8_t *payload, size_t total,
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

void keep_best(struct result *best, uint64_t msgs, uint64_t payload_bytes, int64_t ns,
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

int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
