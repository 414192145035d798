// SPDX-License-Identifier: GPL-2.0-only
/*
 * Isolation between guests in omhostd's relay, in-process
 * (tests/support/relay-harness): a receiver that does not drain costs only
 * the messages sent to it (its bounded queue, each source's share of it,
 * the time-outs that open it and drop it), and a guest that keeps its tx
 * ring full gets turns, not the whole relay. Time is passed in, never
 * waited for. Each test asserts the counter or state of the rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay-harness.h"

#define QMSGS 8u /* a queue of 8 messages: 2 per source */
#define QBYTES (1u << 16)

/* Nodes 1..3 on rings of num entries, queues of msgs and bytes opened after after_ms. */
static struct rh *relay(uint16_t num, uint32_t msgs, uint32_t bytes, unsigned int after_ms)
{
	struct rh *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	assert_int_equal(rh_init(h, 3, num), 0);
	h->d.cfg.queue_msgs = msgs;
	h->d.cfg.queue_bytes = bytes;
	h->d.cfg.queue_after_ms = after_ms;
	h->d.cfg.unresponsive_ms = 30000;
	return h;
}

static void relay_free(struct rh *h)
{
	rh_free(h);
	free(h);
}

static void post_rx(struct rh *h, uint32_t node, unsigned int n)
{
	while (n--)
		rh_post_rx(h, node, VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD);
}

/* Message seq from one node to another: 8 bytes, its seq. */
static void send_seq(struct rh *h, uint32_t from, uint32_t to, uint64_t seq)
{
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, to, sizeof(seq));

	hdr.seq = seq;
	rh_send(h, from, &hdr, &seq, 1);
}

/* The next message at node must be seq from node from, intact. */
static void expect_seq(struct rh *h, uint32_t at, uint32_t from, uint64_t seq)
{
	struct om_msg_hdr m;
	uint64_t p = 0;

	if (!rh_recv_msg(h, at, &m, &p, sizeof(p)))
		fail_msg("node %u: no message (expected seq %llu from %u)", at,
			 (unsigned long long)seq, from);
	if (m.src_node != from || m.seq != seq || m.len != sizeof(p) || p != seq)
		fail_msg("node %u: seq %llu from %u (len %u), expected seq %llu from %u", at,
			 (unsigned long long)m.seq, m.src_node, m.len, (unsigned long long)seq, from);
}

static void expect_nothing(struct rh *h, uint32_t at)
{
	struct om_msg_hdr m;
	uint64_t p;

	if (rh_recv_msg(h, at, &m, &p, sizeof(p)))
		fail_msg("node %u: unexpected seq %llu from %u", at, (unsigned long long)m.seq,
			 m.src_node);
}

/*
 * Node 3 posts no rx buffer. Node 1's messages for it are queued and its
 * tx ring goes on: its messages for node 2 arrive at once (before queues,
 * node 1 waited for node 3 with all of them). Node 3 posts buffers: it
 * gets its own, in order, and its queue closes.
 */
static void a_receiver_that_does_not_drain_costs_only_its_messages(void **state)
{
	struct rh *h = relay(16, QMSGS, QBYTES, 0);
	struct om_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);

	(void)state;
	post_rx(h, 2, 4);
	send_seq(h, 1, 3, 1);
	send_seq(h, 1, 2, 1);
	send_seq(h, 1, 3, 2);
	send_seq(h, 1, 2, 2);
	rh_run(h);
	expect_seq(h, 2, 1, 1);
	expect_seq(h, 2, 1, 2);
	assert_int_equal(rh_tx_used(h, 1), 4);
	assert_null(n1->stalled);
	assert_true(n3->queue_open);
	assert_int_equal(n3->queued_msgs, 2);
	assert_int_equal(n3->queued_bytes, 2 * (VIRTIO_OM_HDR_SIZE + 8));
	assert_int_equal(n3->c.queued_total, 2);
	assert_int_equal(n3->c.queue_full, 0);

	post_rx(h, 3, 4);
	rh_run(h);
	expect_seq(h, 3, 1, 1);
	expect_seq(h, 3, 1, 2);
	expect_nothing(h, 3);
	assert_int_equal(n3->queued_msgs, 0);
	assert_int_equal(n3->queued_bytes, 0);
	assert_false(n3->queue_open);
	assert_int_equal(n3->c.queue_dropped, 0);
	assert_int_equal(n1->c.undeliverable, 0);
	relay_free(h);
}

/*
 * A source fills at most its share (a quarter) of a queue: then its tx
 * waits for that destination (the ring is in order: its later messages
 * to others wait too, the limit docs/omhostd.md states), counted as the
 * destination's queue_full; another source still has its share there and
 * goes on. Once the receiver drains, each source's messages arrive in order.
 */
static void a_full_share_holds_up_only_its_sender(void **state)
{
	struct rh *h = relay(16, QMSGS, QBYTES, 0);
	struct om_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);

	(void)state;
	post_rx(h, 1, 4);
	post_rx(h, 2, 4);
	for (uint64_t s = 1; s <= 3; s++)
		send_seq(h, 1, 3, s);
	send_seq(h, 1, 2, 1);
	send_seq(h, 2, 3, 1);
	send_seq(h, 2, 3, 2);
	send_seq(h, 2, 1, 1);
	rh_run(h);
	assert_int_equal(n3->queued_msgs, 4);
	assert_int_equal(n3->c.queue_full, 1);
	assert_ptr_equal(n1->stalled_on, n3);
	assert_int_equal(rh_tx_used(h, 1), 2);
	expect_nothing(h, 2);
	expect_seq(h, 1, 2, 1); /* node 2 had room in its share: it went on */
	assert_int_equal(rh_tx_used(h, 2), 3);

	post_rx(h, 3, 8);
	rh_run(h);
	expect_seq(h, 3, 1, 1);
	expect_seq(h, 3, 1, 2);
	expect_seq(h, 3, 2, 1);
	expect_seq(h, 3, 2, 2);
	expect_seq(h, 3, 1, 3);
	expect_seq(h, 2, 1, 1);
	assert_int_equal(rh_tx_used(h, 1), 4);
	assert_null(n1->stalled);
	assert_false(n3->queue_open);
	relay_free(h);
}

/*
 * A receiver short of buffers for a moment only slows its senders, as
 * before queues (nothing leaves a sender's ring before it is delivered):
 * its queue opens once it took nothing for --queue-after-ms, and the
 * waiting message moves into it.
 */
static void the_queue_opens_after_queue_after_ms(void **state)
{
	struct rh *h = relay(16, QMSGS, QBYTES, 20000);
	struct om_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);

	(void)state;
	post_rx(h, 2, 4);
	send_seq(h, 1, 3, 1);
	send_seq(h, 1, 2, 1);
	rh_run(h);
	assert_ptr_equal(n1->stalled_on, n3);
	assert_false(n3->queue_open);
	expect_nothing(h, 2);
	om_relay_check_responsive(&h->d, om_now_ms() + 19000);
	assert_false(n3->queue_open);
	om_relay_check_responsive(&h->d, om_now_ms() + 20000);
	assert_true(n3->queue_open);
	assert_int_equal(n3->queued_msgs, 1);
	rh_run(h);
	expect_seq(h, 2, 1, 1);
	assert_int_equal(rh_tx_used(h, 1), 2);
	relay_free(h);
}

/*
 * The unresponsive rule covers the queue: after --unresponsive-ms without
 * a message taken, what is queued and what waits for the receiver is
 * dropped, counted for it (dropped_unresponsive, queue_dropped) and for
 * its senders (undeliverable); what comes next for it is dropped at once.
 */
static void an_unresponsive_receiver_loses_its_queue_counted(void **state)
{
	struct rh *h = relay(16, QMSGS, QBYTES, 0);
	struct om_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);

	(void)state;
	for (uint64_t s = 1; s <= 3; s++)
		send_seq(h, 1, 3, s);
	rh_run(h);
	assert_int_equal(n3->queued_msgs, 2);
	assert_ptr_equal(n1->stalled_on, n3);
	om_relay_check_responsive(&h->d, om_now_ms() + 29000);
	assert_false(n3->unresponsive);
	om_relay_check_responsive(&h->d, om_now_ms() + 30000);
	assert_true(n3->unresponsive);
	assert_int_equal(n3->c.unresponsive, 1);
	assert_int_equal(n3->c.dropped_unresponsive, 3);
	assert_int_equal(n3->c.queue_dropped, 2);
	assert_int_equal(n3->queued_msgs, 0);
	assert_false(n3->queue_open);
	assert_int_equal(n1->c.undeliverable, 3);
	assert_int_equal(rh_tx_used(h, 1), 3);
	send_seq(h, 1, 3, 4);
	rh_run(h);
	assert_int_equal(n3->c.dropped_unresponsive, 4);
	assert_int_equal(n1->c.undeliverable, 4);
	relay_free(h);
}

/*
 * A source that goes down takes its queued messages along (they would
 * reach the receiver after the NODE_DOWN about it), counted; the others'
 * stay. A receiver that goes down loses its queue, counted too.
 */
static void a_node_going_down_takes_its_queued_messages_along(void **state)
{
	struct rh *h = relay(16, QMSGS, QBYTES, 0);
	struct om_node *n1 = rh_node(h, 1), *n2 = rh_node(h, 2), *n3 = rh_node(h, 3);
	struct om_msg_hdr m;
	struct virtio_om_node_event ev;

	(void)state;
	send_seq(h, 1, 3, 1);
	send_seq(h, 1, 3, 2);
	send_seq(h, 2, 3, 1);
	rh_run(h);
	assert_int_equal(n3->queued_msgs, 3);
	om_relay_node_down(n1, VIRTIO_OM_NODE_DISCONNECTED);
	n1->state = OM_NODE_CONNECTED;
	assert_int_equal(n3->queued_msgs, 1);
	assert_true(n3->queue_open);
	assert_int_equal(n3->c.queue_dropped, 2);
	assert_int_equal(n1->c.undeliverable, 2);
	post_rx(h, 3, 4);
	rh_run(h);
	assert_true(rh_recv_msg(h, 3, &m, &ev, sizeof(ev)));
	assert_int_equal(m.type, VIRTIO_OM_T_NODE_DOWN);
	assert_int_equal(le32toh(ev.node), 1);
	expect_seq(h, 3, 2, 1);
	expect_nothing(h, 3);

	/* Node 3 as the receiver that goes: 2 buffers left, 2 queued, 1 waiting. */
	for (uint64_t s = 2; s <= 6; s++)
		send_seq(h, 2, 3, s);
	rh_run(h);
	expect_seq(h, 3, 2, 2);
	expect_seq(h, 3, 2, 3);
	assert_int_equal(n3->queued_msgs, 2);
	assert_ptr_equal(n2->stalled_on, n3);
	om_relay_node_down(n3, VIRTIO_OM_NODE_DISCONNECTED);
	assert_int_equal(n3->queued_msgs, 0);
	assert_int_equal(n3->c.queue_dropped, 4);
	assert_int_equal(n2->c.undeliverable, 3);
	assert_null(n2->stalled);
	n1->state = OM_NODE_UP;
	relay_free(h);
}

/* A queue left empty by its only source going down closes. */
static void a_queue_emptied_by_a_source_going_down_closes(void **state)
{
	struct rh *h = relay(16, QMSGS, QBYTES, 0);
	struct om_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);

	(void)state;
	send_seq(h, 1, 3, 1);
	rh_run(h);
	assert_true(n3->queue_open);
	om_relay_node_down(n1, VIRTIO_OM_NODE_DISCONNECTED);
	assert_int_equal(n3->queued_msgs, 0);
	assert_false(n3->queue_open);
	relay_free(h);
}

/*
 * A guest that keeps its tx ring full gets a turn (here of 64 messages;
 * omhostd's is OM_HOSTD_TX_BUDGET_*), then the others get theirs: node 3's
 * one message is the next after node 1's first turn, not after all of
 * node 1's (without turns it waited behind all 200); the relay says more
 * is left (more_work).
 */
#define TURN 64u
static void a_busy_ring_gets_turns_not_the_relay(void **state)
{
	struct rh *h = relay(256, 0, 0, 0);
	struct om_node *n1 = rh_node(h, 1), *n3 = rh_node(h, 3);
	const unsigned int busy = 200;

	(void)state;
	h->d.cfg.tx_budget_msgs = TURN;
	for (unsigned int i = 0; i < 240; i++)
		rh_post_rx(h, 2, 128);
	for (unsigned int s = 1; s <= busy; s++) {
		struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 0);

		hdr.seq = s;
		rh_send(h, 1, &hdr, NULL, 1);
	}
	send_seq(h, 3, 2, 1);
	/* Both kicked: one settle gives each ring its turn. */
	n1->runnable = n3->runnable = true;
	om_hostd_settle(&h->d);
	assert_true(h->d.more_work);
	assert_int_equal(rh_tx_used(h, 1), TURN);
	for (unsigned int s = 1; s <= TURN; s++) {
		struct om_msg_hdr m;

		assert_true(rh_recv_msg(h, 2, &m, NULL, 0));
		assert_int_equal(m.src_node, 1);
		assert_int_equal(m.seq, s);
	}
	expect_seq(h, 2, 3, 1);
	expect_nothing(h, 2);
	/* One turn a settle: 64 + 64 + 64 + 8. */
	for (unsigned int turns = 1; turns < 4; turns++) {
		assert_true(h->d.more_work);
		om_hostd_settle(&h->d);
		assert_int_equal(rh_tx_used(h, 1), turns < 3 ? (turns + 1) * TURN : busy);
	}
	assert_false(h->d.more_work);
	relay_free(h);
}

/*
 * A guest that floods messages to a node no one serves (20) and to one
 * that is down (3): each is dropped and counted, and dropping takes its
 * turn as relaying does, so node 2's one message is the next after node
 * 1's first turn, not after all 200.
 */
static void a_flood_to_absent_nodes_gets_turns_not_the_relay(void **state)
{
	struct rh *h = relay(256, 0, 0, 0);
	struct om_node *n1 = rh_node(h, 1), *n2 = rh_node(h, 2);
	const unsigned int flood = 200;

	(void)state;
	h->d.cfg.tx_budget_msgs = TURN;
	rh_node(h, 3)->state = OM_NODE_CONNECTED; /* down: its driver stopped */
	post_rx(h, 1, 4);
	for (unsigned int s = 1; s <= flood; s++) {
		struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, s % 2 ? 20 : 3, 0);

		hdr.seq = s;
		rh_send(h, 1, &hdr, NULL, 1);
	}
	send_seq(h, 2, 1, 1);
	n1->runnable = n2->runnable = true;
	om_hostd_settle(&h->d);
	assert_true(h->d.more_work);
	assert_int_equal(rh_tx_used(h, 1), TURN);
	assert_int_equal(n1->c.undeliverable, TURN);
	expect_seq(h, 1, 2, 1);
	while (h->d.more_work)
		om_hostd_settle(&h->d);
	assert_int_equal(rh_tx_used(h, 1), flood);
	assert_int_equal(n1->c.undeliverable, flood);
	rh_node(h, 3)->state = OM_NODE_UP;
	relay_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_receiver_that_does_not_drain_costs_only_its_messages),
		cmocka_unit_test(a_full_share_holds_up_only_its_sender),
		cmocka_unit_test(the_queue_opens_after_queue_after_ms),
		cmocka_unit_test(an_unresponsive_receiver_loses_its_queue_counted),
		cmocka_unit_test(a_node_going_down_takes_its_queued_messages_along),
		cmocka_unit_test(a_queue_emptied_by_a_source_going_down_closes),
		cmocka_unit_test(a_busy_ring_gets_turns_not_the_relay),
		cmocka_unit_test(a_flood_to_absent_nodes_gets_turns_not_the_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
