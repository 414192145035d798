// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd as a process, driven by synthetic vhost-user front-ends
 * (tests/support/hostd-fixture, on tests/support/vu-frontend): the handshake,
 * node events, traffic intact and in order, backpressure, disconnects,
 * stops and starts, and omhostd restarted mid-traffic. The hostile front-ends
 * are in test-hostd-hostile.c, who may connect and the limits in
 * test-hostd-limits.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostd-fixture.h"

/* ------------------------------------------------------------------ */
/* 1. Handshake                                                        */

static void handshake_gives_node_ids_and_features(void **state)
{
	struct fx *fx = *state;
	struct vuf_opts o[NODES + 1];
	struct vuf_opts small = fe_default_opts();
	char buf[4096], want[128], path[128];
	struct vuf *extra = NULL;
	struct nstat s;

	hostd_start(fx);
	hostd_status(fx, buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "omhostd pid=%d nodes=1-3 max_payload=65536 trace_payloads_refused=0 "
		 "log_suppressed=0\n", (int)fx->pid);
	assert_memory_equal(buf, want, strlen(want));

	variant_opts(o);
	up_all(fx, o);
	for (uint32_t n = 1; n <= NODES; n++) {
		struct vuf *f = fx->f[n];
		uint64_t offered = vuf_offered_features(f);

		assert_int_equal(vuf_node_id(f), n);
		assert_int_equal(vuf_max_payload(f), VIRTIO_OM_MAX_PAYLOAD);
		/* Exactly REPLY_ACK and CONFIG, though MQ was asked for too. */
		assert_int_equal(vuf_offered_protocol_features(f), PF_OFFERED);
		assert_int_equal(vuf_protocol_features(f), PF_OFFERED);
		assert_true(offered & VUF_BIT(VUF_F_VERSION_1));
		assert_true(offered & VUF_BIT(VUF_F_PROTOCOL_FEATURES));
		assert_true(offered & VUF_BIT(VUF_F_INDIRECT_DESC));
		assert_true(offered & VUF_BIT(VUF_F_EVENT_IDX));
		/* What it asked for (vuf's default: INDIRECT_DESC), all offered. */
		assert_int_equal(vuf_features(f),
				 VUF_BIT(VUF_F_VERSION_1) | VUF_BIT(VUF_F_PROTOCOL_FEATURES) |
					 (o[n].features ? o[n].features :
							  VUF_BIT(VUF_F_INDIRECT_DESC)));
	}

	/* A second front-end on a socket in use is refused; the first goes on. */
	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 2;
	assert_int_equal(vuf_new(&extra, &small), 0);
	node_path(fx, 1, path, sizeof(path));
	assert_int_equal(vuf_connect(extra, path), 0);
	assert_int_equal(vuf_handshake(extra), -ECONNRESET);
	vuf_free(extra);
	get_nstat(fx, 1, &s);
	assert_string_equal(s.state, "up");
	assert_int_equal(s.connects, 1);
	assert_int_equal(s.disconnects, 0);

	/* Every kind of guest relays, both ways, up to the largest payload. */
	for (uint32_t a = 1; a <= NODES; a++)
		for (uint32_t b = 1; b <= NODES; b++)
			if (a != b) {
				check_relay(fx, a, b, 100);
				check_relay(fx, a, b, VIRTIO_OM_MAX_PAYLOAD);
			}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 2. NODE_UP                                                          */

static void node_up_to_and_about_a_late_joiner(void **state)
{
	struct fx *fx = *state;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);

	/* Connected but its queues not started: not up, nobody is told. */
	fe_open(fx, 3, NULL);
	wait_state(fx, 3, "connected");
	check_relay(fx, 1, 2, 10);
	check_relay(fx, 2, 1, 10);

	/* Started: it hears of each peer up, each peer hears of it. */
	assert_int_equal(vuf_handshake(fx->f[3]), 0);
	wait_state(fx, 3, "up");
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	/* Control messages before any data, and only these. */
	check_relay(fx, 3, 1, 10);
	check_relay(fx, 1, 3, 10);
	check_relay(fx, 2, 3, 10);
	for (uint32_t n = 1; n <= NODES; n++)
		check_counters(fx, n);
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 3. Traffic                                                          */

static void ping_and_pong(struct fx *fx)
{
	struct virtio_om_ping ping = { .cookie = htole64(0x0123456789abcdefull) }, echo;
	struct out po = { .src_pid = 101, .dst_pid = 303 };
	uint64_t pseq, qseq;
	struct msg m;

	pseq = fe_send(fx, 1, 3, VIRTIO_OM_T_PING, &ping, sizeof(ping), &po);
	expect_any_data(fx, 3, VIRTIO_OM_T_PING, &m);
	assert_int_equal(m.src, 1);
	assert_int_equal(m.seq, pseq);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.reply_to, 0);
	assert_int_equal(m.src_pid, 101);
	assert_int_equal(m.dst_pid, 303);
	assert_int_equal(m.len, sizeof(ping));
	assert_memory_equal(m.payload, &ping, sizeof(ping));

	memcpy(&echo, m.payload, sizeof(echo));
	po = (struct out){ .flags = VIRTIO_OM_F_REPLY, .reply_to = m.seq, .src_pid = 303,
			   .dst_pid = 101 };
	qseq = fe_send(fx, 3, 1, VIRTIO_OM_T_PONG, &echo, sizeof(echo), &po);
	expect_any_data(fx, 1, VIRTIO_OM_T_PONG, &m);
	assert_int_equal(m.src, 3);
	assert_int_equal(m.seq, qseq);
	assert_int_equal(m.flags, VIRTIO_OM_F_REPLY);
	assert_int_equal(m.reply_to, pseq);
	assert_int_equal(m.src_pid, 303);
	assert_int_equal(m.dst_pid, 101);
	assert_memory_equal(m.payload, &ping, sizeof(ping));
}

static void traffic_intact_in_order_and_counted(void **state)
{
	struct fx *fx = *state;
	const unsigned int rounds = 30;
	struct vuf_opts o[NODES + 1];
	uint64_t rng = seed, lies = 0, total = 0;

	hostd_start(fx);
	variant_opts(o);
	up_all(fx, o);
	ping_and_pong(fx);

	/*
	 * Rounds: every pair sends 1..4 messages (random sizes, segments and
	 * chain shapes, some with a false src_node), then every node reads
	 * what it was sent. At most 8 per node a round: within its rx buffers
	 * and tx slots, so the single-threaded test never waits on itself.
	 */
	for (unsigned int r = 0; r < rounds; r++) {
		unsigned int expect[NODES + 1] = { 0 };

		for (uint32_t a = 1; a <= NODES; a++)
			for (uint32_t b = 1; b <= NODES; b++) {
				unsigned int k = a == b ? 0 : 1 + (unsigned int)(mix64(rng++) % 4);

				for (unsigned int i = 0; i < k; i++) {
					static const uint32_t claims[] = {
						0, 999, 0xffffffffu, 1, 2, 3
					};
					uint64_t h = mix64(rng++);
					struct out so = {
						.segs = 1 + (unsigned int)(h % 8),
						.chain = (h >> 8) % 3 == 0 ? VUF_CHAIN_MERGED :
							 (h >> 8) % 3 == 1 ? VUF_CHAIN_INDIRECT : 0,
						.lie = (h >> 16) % 4 == 0,
						.claimed_src = claims[(h >> 24) % 6],
						.src_pid = (uint32_t)(h >> 32),
					};

					if (so.lie && so.claimed_src != a)
						lies++;
					send_data(fx, a, b, random_len(&rng, VIRTIO_OM_MAX_PAYLOAD),
						  &so);
					expect[b]++;
					total++;
				}
			}
		for (uint32_t b = 1; b <= NODES; b++)
			for (unsigned int i = 0; i < expect[b]; i++) {
				struct msg m;

				expect_any_data(fx, b, VIRTIO_OM_T_TEST_DATA, &m);
			}
	}
	print_message("traffic: %" PRIu64 " messages, %" PRIu64 " with a false src_node\n", total,
		      lies);
	assert_true(lies > 0);
	for (uint32_t a = 1; a <= NODES; a++)
		for (uint32_t b = 1; b <= NODES; b++)
			assert_int_equal(fx->got[b][a], fx->sent[a][b]);
	for (uint32_t n = 1; n <= NODES; n++) {
		struct nstat s;

		check_counters(fx, n);
		get_nstat(fx, n, &s);
		assert_string_equal(s.state, "up");
		assert_int_equal(s.connects, 1);
		assert_int_equal(s.disconnects, 0);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 4. Backpressure                                                     */

static void backpressure_loses_nothing(void **state)
{
	struct fx *fx = *state;
	struct vuf_opts ro = fe_default_opts();
	const unsigned int n = 200;
	uint64_t rng = seed ^ 4;
	unsigned int sent = 0, got = 0;
	struct vuf_used_elem e[TX_SLOTS];
	struct nstat s;

	/* Held in the ring, not queued: the receiver's queue never opens here. */
	fx->args[2] = "--queue-after-ms";
	fx->args[3] = "3600000";
	hostd_start(fx);
	fe_up(fx, 1, NULL);
	/* The receiver has 8 rx buffers, and posts none yet. */
	ro.flags = VUF_O_MANUAL_RX;
	ro.rx_bufs = 8;
	fe_up(fx, 2, &ro);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);

	/* The sender fills its tx: more than the receiver will ever post. */
	while (sent < TX_SLOTS) {
		send_data(fx, 1, 2, random_len(&rng, VIRTIO_OM_MAX_PAYLOAD), NULL);
		sent++;
	}
	wait_waiting(fx, 1, true);
	/* Held, not dropped: no tx chain comes back while it waits. */
	assert_int_equal(vuf_vq_wait(fx->f[1], VUF_TX, 300), -ETIMEDOUT);
	assert_int_equal(vuf_vq_harvest(fx->f[1], VUF_TX, e, TX_SLOTS), 0);
	assert_int_equal(vuf_vq_inflight(fx->f[1], VUF_TX), TX_SLOTS);
	get_nstat(fx, 1, &s);
	assert_true(s.stalls >= 1);
	assert_int_equal(s.undeliverable, 0);
	assert_int_equal(s.tx_msgs, 1); /* the head, taken and held */

	/* Buffers at last: its NODE_UP first, then everything, in order. */
	assert_int_equal(vuf_rx_fill(fx->f[2]), 0);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	while (got < n) {
		struct msg m;

		while (vuf_vq_harvest(fx->f[1], VUF_TX, e, TX_SLOTS) > 0)
			;
		while (sent < n && vuf_vq_inflight(fx->f[1], VUF_TX) < TX_SLOTS) {
			send_data(fx, 1, 2, random_len(&rng, VIRTIO_OM_MAX_PAYLOAD), NULL);
			sent++;
		}
		expect_data_from(fx, 2, 1, &m);
		got++;
	}
	assert_int_equal(fx->got[2][1], n);
	assert_int_equal(vuf_tx_flush(fx->f[1], FE_TIMEOUT_MS), 0);
	wait_waiting(fx, 1, false);
	get_nstat(fx, 1, &s);
	print_message("backpressure: %u messages through 8 rx buffers, %" PRIu64 " stalls\n", n,
		      s.stalls);
	assert_true(s.stalls > 1);
	check_counters(fx, 1);
	check_counters(fx, 2);
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 5. Disconnect and reconnect                                         */

static void disconnect_and_reconnect(void **state)
{
	struct fx *fx = *state;
	struct nstat s;

	hostd_start(fx);
	up_all(fx, NULL);

	/* Its QEMU dies: the peers are told, DISCONNECTED. */
	vuf_disconnect(fx->f[3]);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, 3, "absent");
	/* A message for it meanwhile is dropped and counted. */
	send_data(fx, 1, 3, 10, NULL);
	assert_int_equal(vuf_tx_flush(fx->f[1], FE_TIMEOUT_MS), 0);
	get_nstat(fx, 1, &s);
	assert_int_equal(s.undeliverable, 1);
	check_relay(fx, 1, 2, 10);

	/* A new guest there (fresh rings): JOINED both ways. */
	fe_drop(fx, 3);
	fe_up(fx, 3, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	check_relay(fx, 3, 1, 1000);
	check_relay(fx, 2, 3, 1000);

	/* The same guest's link lost and back, its rings in use: RECONNECTED. */
	vuf_disconnect(fx->f[3]);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, 3, "absent");
	assert_int_equal(vuf_reconnect(fx->f[3]), 0);
	wait_state(fx, 3, "up");
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_RECONNECTED);
	check_relay(fx, 1, 3, 1000);
	check_relay(fx, 3, 2, 1000);

	get_nstat(fx, 3, &s);
	assert_int_equal(s.connects, 3);
	assert_int_equal(s.disconnects, 2);
	assert_int_equal(s.evictions, 0);
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 6. Stop and start on one connection                                 */

/* node stops its device and starts it again (a VM paused, a driver reset). */
static void stop_and_start(struct fx *fx, uint32_t node)
{
	uint32_t a = node == 1 ? 2 : 1, b = node == 3 ? 2 : 3;
	struct nstat before, s;

	get_nstat(fx, node, &before);
	assert_int_equal(vuf_dev_stop(fx->f[node]), 0);
	assert_true(vuf_vring_base(fx->f[node], VUF_RX) > 0); /* its rings were used */
	expect_event(fx, a, VIRTIO_OM_T_NODE_DOWN, node, VIRTIO_OM_NODE_DISCONNECTED);
	expect_event(fx, b, VIRTIO_OM_T_NODE_DOWN, node, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, node, "connected");

	assert_int_equal(vuf_dev_start(fx->f[node]), 0);
	wait_state(fx, node, "up");
	expect_event(fx, a, VIRTIO_OM_T_NODE_UP, node, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, b, VIRTIO_OM_T_NODE_UP, node, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, node, VIRTIO_OM_T_NODE_UP, a < b ? a : b, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, node, VIRTIO_OM_T_NODE_UP, a < b ? b : a, VIRTIO_OM_NODE_RECONNECTED);

	/* Not evicted, not even disconnected: the same connection goes on. */
	get_nstat(fx, node, &s);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.disconnects, before.disconnects);
	assert_int_equal(s.connects, before.connects);
	check_relay(fx, a, node, 5000);
	check_relay(fx, node, b, 5000);
	check_relay(fx, b, node, VIRTIO_OM_MAX_PAYLOAD);
	check_relay(fx, node, a, VIRTIO_OM_MAX_PAYLOAD);
}

static void stop_and_start_on_one_connection(void **state)
{
	struct fx *fx = *state;
	struct vuf_opts o[NODES + 1];

	hostd_start(fx);
	for (uint32_t n = 0; n <= NODES; n++)
		o[n] = fe_default_opts();
	o[3].flags = VUF_O_VHOST_GENERIC; /* stops by disabling its rings first */
	up_all(fx, o);
	stop_and_start(fx, 2);
	stop_and_start(fx, 3);
	stop_and_start(fx, 2);
	for (uint32_t n = 1; n <= NODES; n++) {
		struct nstat s;

		get_nstat(fx, n, &s);
		assert_int_equal(s.evictions, 0);
		assert_int_equal(s.undeliverable, 0);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 10. omhostd restarted mid-traffic                                   */

#define FLOW_MSGS 2000u
#define FLOW_MAX_LEN 2048u

/* Node 1 sends node 2 seqs 1..FLOW_MSGS; node 2 drops duplicates by seq. */
struct flow {
	uint64_t sent;	   /* seqs 1..sent are in node 1's tx ring or beyond */
	uint64_t next;	   /* the next seq node 2 has not seen */
	uint64_t dups;	   /* seqs seen again */
	uint64_t up_seq;   /* seq of the last NODE_UP about node 1 at node 2 */
	uint32_t up_reason;
	uint64_t rng;
};

/*
 * One step: node 1 sends while it has free tx slots (up to limit, never
 * waiting), node 2 takes one message (waiting up to wait_ms if nothing
 * was sent). Works with or without a back-end connected.
 */
static void flow_step(struct fx *fx, struct flow *fl, uint64_t limit, int wait_ms)
{
	struct vuf *s = fx->f[1];
	struct vuf_used_elem e[TX_SLOTS];
	bool sent = false;
	struct msg m;
	int r;

	while ((r = vuf_vq_harvest(s, VUF_TX, e, TX_SLOTS)) > 0)
		;
	assert_true(r >= 0);
	while (fl->sent < limit && vuf_vq_inflight(s, VUF_TX) < TX_SLOTS) {
		send_data(fx, 1, 2, random_len(&fl->rng, FLOW_MAX_LEN), NULL);
		fl->sent++;
		sent = true;
	}
	assert_int_equal(fl->sent, fx->sent[1][2]);
	r = fe_try_recv(fx, 2, &m, sent ? 0 : wait_ms);
	if (r == -ETIMEDOUT || r == -ECONNRESET)
		return;
	if (r != 1)
		fail_msg("node 2: receive: %s", strerror(-r));
	if (m.src == VIRTIO_OM_NODE_HOST) {
		struct virtio_om_node_event ev;

		memcpy(&ev, m.payload, sizeof(ev));
		assert_int_equal(m.type, VIRTIO_OM_T_NODE_UP);
		assert_int_equal(le32toh(ev.node), 1);
		fl->up_seq = m.seq;
		fl->up_reason = le32toh(ev.reason);
		return;
	}
	assert_int_equal(m.src, 1);
	assert_int_equal(m.type, VIRTIO_OM_T_TEST_DATA);
	if (m.seq == 0 || m.seq > fl->next)
		fail_msg("node 2: seq %" PRIu64 " while expecting %" PRIu64 ": lost messages",
			 m.seq, fl->next);
	fill(want_buf, 1, 2, m.seq, m.len);
	if (memcmp(m.payload, want_buf, m.len))
		fail_msg("node 2: seq %" PRIu64 " (%u bytes) not intact", m.seq, m.len);
	if (m.seq < fl->next)
		fl->dups++;
	else
		fl->next++;
}

/* Steps until sent messages are out and received in; fails if nothing moves for FE_TIMEOUT_MS. */
static void flow_until(struct fx *fx, struct flow *fl, uint64_t sent, uint64_t received)
{
	int64_t deadline = mono_ms() + FE_TIMEOUT_MS;

	while (fl->sent < sent || fl->next <= received) {
		uint64_t was_sent = fl->sent, was_next = fl->next;

		if (mono_ms() > deadline)
			fail_msg("traffic stuck: %" PRIu64 " sent, %" PRIu64 " received", fl->sent,
				 fl->next - 1);
		flow_step(fx, fl, sent, 100);
		if (fl->sent != was_sent || fl->next != was_next)
			deadline = mono_ms() + FE_TIMEOUT_MS;
	}
}

static void restart_mid_traffic(struct fx *fx, bool sender_first)
{
	struct flow fl = { .next = 1, .rng = seed ^ 9 };
	uint64_t ctl1, ctl2, before;
	uint32_t first = sender_first ? 1 : 2, second = sender_first ? 2 : 1;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	ctl1 = fx->ctl_seq[1];
	ctl2 = fx->ctl_seq[2];

	/* Half the messages sent, some received: traffic in flight both sides. */
	flow_until(fx, &fl, FLOW_MSGS / 2, FLOW_MSGS / 4);
	hostd_crash(fx);
	before = fl.next - 1;
	assert_int_equal(vuf_wait_disconnect(fx->f[1], FE_TIMEOUT_MS), 0);
	assert_int_equal(vuf_wait_disconnect(fx->f[2], FE_TIMEOUT_MS), 0);
	/* With no back-end: more messages wait in the ring, relayed ones are read. */
	for (int i = 0; i < 50; i++)
		flow_step(fx, &fl, fl.sent + 8, 0);

	/* A new omhostd on the same directory; the front-ends come back as QEMU does. */
	hostd_start(fx);
	assert_int_equal(vuf_reconnect(fx->f[first]), 0);
	wait_state(fx, first, "up");
	if (sender_first) {
		/* Its messages wait for node 2 (a restart's grace), none is dropped. */
		wait_waiting(fx, 1, true);
	}
	assert_int_equal(vuf_reconnect(fx->f[second]), 0);
	wait_state(fx, second, "up");
	flow_until(fx, &fl, FLOW_MSGS, FLOW_MSGS);

	print_message("restart, %s first: %u messages, %" PRIu64 " received before the crash, "
		      "%" PRIu64 " duplicates, %" PRIu64 " missing\n",
		      sender_first ? "sender" : "receiver", FLOW_MSGS, before, fl.dups,
		      FLOW_MSGS - (fl.next - 1));
	assert_int_equal(fl.next, FLOW_MSGS + 1);
	assert_true(fl.dups <= 1);
	fx->got[2][1] = FLOW_MSGS;

	/* Each side heard the other came back, numbered after the old relay's. */
	assert_int_equal(fl.up_reason, VIRTIO_OM_NODE_RECONNECTED);
	assert_true(fl.up_seq > ctl2);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_RECONNECTED);
	assert_true(fx->ctl_seq[1] > ctl1);
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 2, 1, 100);
	finish(fx);
}

static void restart_mid_traffic_sender_first(void **state)
{
	restart_mid_traffic(*state, true);
}

static void restart_mid_traffic_receiver_first(void **state)
{
	restart_mid_traffic(*state, false);
}


int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(handshake_gives_node_ids_and_features),
		T(node_up_to_and_about_a_late_joiner),
		T(traffic_intact_in_order_and_counted),
		T(backpressure_loses_nothing),
		T(disconnect_and_reconnect),
		T(stop_and_start_on_one_connection),
		T(restart_mid_traffic_sender_first),
		T(restart_mid_traffic_receiver_first),
	};
#undef T

	return hf_run("test-hostd-frontends", tests, sizeof(tests) / sizeof(tests[0]));
}
