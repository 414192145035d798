// SPDX-License-Identifier: GPL-2.0-only
/*
 * One relay link's stream (host/omhostd/link-session.c) between two
 * in-memory sides, A (nodes 1-3) and B (nodes 10-12), their bytes carried
 * through the frame reader as a connection would: messages in order and
 * acknowledged only once delivered; a cut mid-frame and the resume (nothing
 * lost, duplicates dropped and counted); either side restarted; credit
 * exhaustion of one destination not holding up another; node events in
 * order with data; and frames that break a rule, each cutting for its own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "link-session.h"

struct side {
	struct om_link_session s;
	struct om_link_reader r; /* what it reads from the other */
	enum om_link_dest_state state[1025];
	/* What its nodes got, in order: (source, message seq). */
	uint32_t got_src[4096];
	uint64_t got_seq[4096];
	unsigned int ngot;
};

static enum om_link_dest_state dest_state(void *ctx, uint32_t node)
{
	return ((struct side *)ctx)->state[node];
}

static const struct om_link_session_ops ops = { .dest_state = dest_state };
static struct side A, B;
static uint64_t next_session = 100;

static void side_init(struct side *x, struct om_link_range self, struct om_link_range peer,
		      uint32_t max_payload, uint32_t credit)
{
	struct om_link_session_config cfg = {
		.self = self, .peer = peer, .max_payload = max_payload, .credit_bytes = credit,
		.outbox_bytes = OM_LINK_OUTBOX_BYTES, .outbox_msgs = OM_LINK_OUTBOX_MSGS,
		.unacked_bytes_max = OM_LINK_UNACKED_BYTES_MAX,
	};

	memset(x, 0, sizeof(*x));
	for (uint32_t n = self.first; n <= self.last; n++)
		x->state[n] = OM_LINK_DEST_UP;
	assert_int_equal(om_link_session_init(&x->s, &cfg, &ops, x, next_session++), 0);
	om_link_reader_reset(&x->r);
}

static void init_pair(uint32_t max_payload, uint32_t credit)
{
	side_init(&A, (struct om_link_range){ 1, 3 }, (struct om_link_range){ 10, 12 }, max_payload,
		  credit);
	side_init(&B, (struct om_link_range){ 10, 12 }, (struct om_link_range){ 1, 3 }, max_payload,
		  credit);
}

static int teardown(void **state)
{
	(void)state;
	om_link_session_free(&A.s);
	om_link_session_free(&B.s);
	return 0;
}

/* One piece of from's output (len bytes at p) into to: the first rule broken, or OM_LINK_OK. */
static enum om_link_verdict carry_piece(struct side *from, struct side *to, const void *p,
				       size_t len)
{
	size_t off = 0;

	/* As link.c reads: a large message's payload straight into its item. */
	while (off < len) {
		enum om_link_verdict v = OM_LINK_OK;
		unsigned char *at;
		size_t used = om_link_reader_space(&to->r, &at);
		enum om_link_read res;
		bool nomem;

		if (used > len - off)
			used = len - off;
		memcpy(at, (const char *)p + off, used);
		off += used;
		res = om_link_reader_took(&to->r, used, &v);
		if (res == OM_LINK_READ_BAD)
			return v;
		if (res == OM_LINK_READ_MORE && to->r.have == OM_LINK_HDR_SIZE && to->r.f.len &&
		    (at = om_link_session_rx_room(&to->s, &to->r.f)))
			om_link_reader_payload_to(&to->r, at);
		if (res != OM_LINK_READ_FRAME)
			continue;
		v = om_link_session_input(&to->s, &to->r.f, om_link_reader_payload(&to->r), &nomem);
		assert_false(nomem);
		if (v != OM_LINK_OK)
			return v;
	}
	om_link_session_written(&from->s, len);
	return OM_LINK_OK;
}

/*
 * Carries up to max bytes of from's output into to (all: SIZE_MAX).
 * Returns the first rule broken, OM_LINK_OK if none.
 */
static enum om_link_verdict carry(struct side *from, struct side *to, size_t max)
{
	const void *p;
	size_t len;

	/* The output comes in pieces (large DATA frames from their items). */
	while (max && (len = om_link_session_pending(&from->s, &p))) {
		enum om_link_verdict v = carry_piece(from, to, p, len < max ? len : max);

		if (v != OM_LINK_OK)
			return v;
		max -= len < max ? len : max;
	}
	return OM_LINK_OK;
}

/* Both sides send what is due until neither has anything. */
static void settle(void)
{
	for (int i = 0; i < 100; i++) {
		const void *p;

		assert_int_equal(om_link_session_pump(&A.s), 0);
		assert_int_equal(carry(&A, &B, SIZE_MAX), OM_LINK_OK);
		assert_int_equal(om_link_session_pump(&B.s), 0);
		assert_int_equal(carry(&B, &A, SIZE_MAX), OM_LINK_OK);
		/* What A took may make it send more (a HELLO, an ack, credit). */
		assert_int_equal(om_link_session_pump(&A.s), 0);
		if (!om_link_session_pending(&A.s, &p) && !om_link_session_pending(&B.s, &p))
			return;
	}
	fail_msg("the link did not settle");
}

static void connect_pair(void)
{
	om_link_reader_reset(&A.r);
	om_link_reader_reset(&B.r);
	assert_int_equal(om_link_session_connected(&A.s), 0);
	assert_int_equal(om_link_session_connected(&B.s), 0);
	settle();
}

static void cut(void)
{
	om_link_session_disconnected(&A.s);
	om_link_session_disconnected(&B.s);
}

static uint8_t payload[VIRTIO_OM_MAX_PAYLOAD];

static int push(struct side *x, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len)
{
	struct om_msg_hdr h = { .version = VIRTIO_OM_PROTOCOL_VERSION,
				.type = VIRTIO_OM_T_TEST_DATA, .src_node = src, .dst_node = dst,
				.seq = seq, .len = len };
	struct iovec iov = { .iov_base = payload, .iov_len = len };

	memset(payload, (int)(seq & 0xff), len);
	return om_link_session_push(&x->s, &h, &iov, 1, 0, 0);
}

/* Delivers at most max of what x holds for dst, recording data; how many. */
static unsigned int deliver(struct side *x, uint32_t dst, unsigned int max)
{
	struct om_link_item *it;
	unsigned int n = 0;

	while (n < max && (it = om_link_session_held(&x->s, dst))) {
		if (it->type == OM_LINK_T_DATA) {
			for (uint32_t i = 0; i < it->h.len; i++)
				assert_int_equal(it->payload[i], it->h.seq & 0xff);
			x->got_src[x->ngot] = it->h.src_node;
			x->got_seq[x->ngot++] = it->h.seq;
		}
		om_link_session_done(&x->s, dst, false);
		n++;
	}
	return n;
}

/* x got exactly seqs first..last from src, once each, in order. */
static void expect_got(const struct side *x, uint32_t src, uint64_t first, uint64_t last)
{
	uint64_t want = first;

	for (unsigned int i = 0; i < x->ngot; i++) {
		if (x->got_src[i] != src)
			continue;
		assert_int_equal(x->got_seq[i], want);
		want++;
	}
	assert_int_equal(want, last + 1);
}

static void messages_cross_in_order_acknowledged_once_delivered(void **state)
{
	(void)state;
	init_pair(VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	connect_pair();
	for (uint64_t q = 1; q <= 20; q++)
		assert_int_equal(push(&A, 1, 10, q, (uint32_t)(q * 997 % 5000)), 0);
	settle();
	assert_int_equal(B.s.held_n, 20);
	/* Received is not dealt with: A keeps them until they are delivered. */
	assert_int_equal(A.s.unacked_n, 20);
	assert_int_equal(deliver(&B, 10, 5), 5);
	settle();
	assert_int_equal(A.s.unacked_n, 15);
	deliver(&B, 10, 100);
	settle();
	assert_int_equal(A.s.unacked_n, 0);
	expect_got(&B, 1, 1, 20);
	assert_int_equal(A.s.c.data_tx, 20);
	assert_int_equal(B.s.c.data_rx, 20);
	assert_int_equal(B.s.c.duplicates, 0);
	assert_int_equal(A.s.c.resent, 0);
}

static void resume_after_a_cut_mid_frame_loses_and_doubles_nothing(void **state)
{
	const void *p;
	size_t frame = OM_LINK_HDR_SIZE + VIRTIO_OM_HDR_SIZE + 1000;

	(void)state;
	init_pair(VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	connect_pair();
	for (uint64_t q = 1; q <= 10; q++)
		assert_int_equal(push(&A, 2, 11, q, 1000), 0);
	assert_int_equal(om_link_session_pump(&A.s), 0);
	assert_true(om_link_session_pending(&A.s, &p) >= 10 * frame);
	/* Three frames and half of the fourth arrive; then the connection breaks. */
	assert_int_equal(carry(&A, &B, 3 * frame + frame / 2), OM_LINK_OK);
	/* One is delivered; 2 and 3 are held when the connection breaks. */
	assert_int_equal(deliver(&B, 11, 1), 1);
	assert_int_equal(om_link_session_pump(&B.s), 0); /* its ack never leaves */
	cut();
	/* More while the link is down: they wait, numbered, for the next connection. */
	for (uint64_t q = 11; q <= 15; q++)
		assert_int_equal(push(&A, 2, 11, q, 1000), 0);
	connect_pair();
	deliver(&B, 11, 100);
	settle();
	expect_got(&B, 2, 1, 15);
	/*
	 * B's HELLO acknowledged 1 (delivered); 2 and 3, received but not
	 * delivered, came again and were dropped by number; 2..10 were resent.
	 */
	assert_int_equal(B.s.c.duplicates, 2);
	assert_int_equal(A.s.c.resent, 9);
	assert_int_equal(A.s.unacked_n, 0);
	assert_int_equal(B.s.c.refused[OM_LINK_BAD_SEQ], 0);
}

static void restarted_receiver_gets_what_it_had_not_delivered(void **state)
{
	(void)state;
	init_pair(VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	assert_int_equal(om_link_session_local_node(&A.s, 1, true, VIRTIO_OM_NODE_JOINED), 0);
	connect_pair();
	assert_true(om_link_session_out(&B.s, 1)->up);
	for (uint64_t q = 1; q <= 10; q++)
		assert_int_equal(push(&A, 1, 12, q, 64), 0);
	settle();
	/* The node event (to every node up), then four messages, delivered and acknowledged. */
	assert_int_equal(deliver(&B, 10, 100), 1);
	assert_int_equal(deliver(&B, 11, 100), 1);
	assert_int_equal(deliver(&B, 12, 5), 5);
	settle();
	assert_int_equal(A.s.unacked_n, 6);
	cut();
	/* B restarts: a new run, nothing remembered. */
	om_link_session_free(&B.s);
	side_init(&B, (struct om_link_range){ 10, 12 }, (struct om_link_range){ 1, 3 },
		  VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	connect_pair();
	/* A tells its nodes' state again, and resends from the last ack. */
	assert_true(om_link_session_out(&B.s, 1)->up);
	assert_int_equal(om_link_session_out(&B.s, 1)->reason, VIRTIO_OM_NODE_RECONNECTED);
	deliver(&B, 10, 100);
	deliver(&B, 11, 100);
	deliver(&B, 12, 100);
	settle();
	expect_got(&B, 1, 5, 10);
	assert_int_equal(A.s.unacked_n, 0);
	assert_int_equal(B.s.c.duplicates, 0);
}

static void restarted_sender_leaves_what_the_receiver_holds_delivered(void **state)
{
	(void)state;
	init_pair(4096, 4 * (VIRTIO_OM_HDR_SIZE + 4096));
	connect_pair();
	for (uint64_t q = 1; q <= 3; q++)
		assert_int_equal(push(&A, 3, 10, q, 4096), 0);
	settle();
	assert_int_equal(B.s.held_n, 3);
	cut();
	om_link_session_free(&A.s);
	side_init(&A, (struct om_link_range){ 1, 3 }, (struct om_link_range){ 10, 12 }, 4096,
		  4 * (VIRTIO_OM_HDR_SIZE + 4096));
	connect_pair();
	/* The old run's three still take their room: one more fits. */
	for (uint64_t q = 4; q <= 6; q++)
		assert_int_equal(push(&A, 3, 10, q, 4096), 0);
	settle();
	assert_int_equal(B.s.held_n, 4);
	assert_int_equal(A.s.odst[0].msgs, 2);
	deliver(&B, 10, 100);
	settle();
	deliver(&B, 10, 100);
	settle();
	expect_got(&B, 3, 1, 6);
	assert_int_equal(B.s.c.refused[OM_LINK_CREDIT_EXCEEDED], 0);
}

static void a_destination_out_of_credit_holds_up_no_other(void **state)
{
	const uint32_t len = 4096, credit = 2 * (VIRTIO_OM_HDR_SIZE + 4096);

	(void)state;
	init_pair(len, credit);
	connect_pair();
	for (uint64_t q = 1; q <= 10; q++) {
		assert_int_equal(push(&A, 1, 10, q, len), 0);
		assert_int_equal(push(&A, 1, 11, q, len), 0);
	}
	/* Node 11 drains, node 10 does not. */
	for (int i = 0; i < 12; i++) {
		settle();
		deliver(&B, 11, 100);
	}
	settle();
	assert_int_equal(B.s.idst[1].msgs, 0);
	assert_int_equal(B.s.idst[0].msgs, 2); /* its credit */
	assert_int_equal(A.s.odst[0].msgs, 8); /* the rest waits at A, not on the link */
	assert_int_equal(A.s.odst[1].msgs, 0);
	for (int i = 0; i < 12; i++) {
		deliver(&B, 10, 100);
		settle();
	}
	assert_int_equal(A.s.odst[0].msgs, 0);
	assert_int_equal(A.s.unacked_n, 0);
	assert_int_equal(B.s.c.refused[OM_LINK_CREDIT_EXCEEDED], 0);
}

static void a_peer_beyond_its_credit_is_cut(void **state)
{
	const uint32_t len = 4096, credit = 2 * (VIRTIO_OM_HDR_SIZE + 4096);

	(void)state;
	init_pair(len, credit);
	connect_pair();
	/* A lies to itself about B's room, as a peer ignoring credits would. */
	A.s.odst[0].buf_alloc = 100 * credit;
	for (uint64_t q = 1; q <= 3; q++)
		assert_int_equal(push(&A, 1, 10, q, len), 0);
	assert_int_equal(om_link_session_pump(&A.s), 0);
	assert_int_equal(carry(&A, &B, SIZE_MAX), OM_LINK_CREDIT_EXCEEDED);
	assert_int_equal(B.s.c.refused[OM_LINK_CREDIT_EXCEEDED], 1);
	assert_int_equal(B.s.idst[0].msgs, 2);
}

static void node_events_come_in_order_with_data(void **state)
{
	struct om_link_item *it;

	(void)state;
	init_pair(VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	B.state[12] = OM_LINK_DEST_DOWN;
	connect_pair();
	assert_int_equal(om_link_session_local_node(&A.s, 2, true, VIRTIO_OM_NODE_JOINED), 0);
	assert_int_equal(push(&A, 2, 10, 1, 10), 0);
	/* Going down, its messages not yet numbered are dropped: they would come after. */
	settle();
	assert_int_equal(push(&A, 2, 10, 2, 10), 0);
	A.s.odst[0].credited = false; /* keep seq 2 in the outbox */
	assert_int_equal(om_link_session_local_node(&A.s, 2, false, VIRTIO_OM_NODE_DISCONNECTED), 1);
	A.s.odst[0].credited = true;
	/* Up, down, up about node 3 with nothing from it between: one event held. */
	assert_int_equal(om_link_session_local_node(&A.s, 3, true, VIRTIO_OM_NODE_JOINED), 0);
	assert_int_equal(om_link_session_local_node(&A.s, 3, false, VIRTIO_OM_NODE_EVICTED), 0);
	assert_int_equal(om_link_session_local_node(&A.s, 3, true, VIRTIO_OM_NODE_JOINED), 0);
	settle();
	it = om_link_session_held(&B.s, 10);
	assert_int_equal(it->type, OM_LINK_T_NODE);
	assert_int_equal(it->ev.node, 2);
	assert_int_equal(it->ev.state, OM_LINK_NODE_UP);
	it = TAILQ_NEXT(it, link);
	assert_int_equal(it->type, OM_LINK_T_DATA);
	assert_int_equal(it->h.seq, 1);
	it = TAILQ_NEXT(it, link);
	assert_int_equal(it->type, OM_LINK_T_NODE);
	assert_int_equal(it->ev.node, 2);
	assert_int_equal(it->ev.state, OM_LINK_NODE_DOWN);
	it = TAILQ_NEXT(it, link);
	assert_int_equal(it->type, OM_LINK_T_NODE);
	assert_int_equal(it->ev.node, 3);
	assert_int_equal(it->ev.state, OM_LINK_NODE_UP);
	assert_null(TAILQ_NEXT(it, link));
	/* Node 12 is down: nothing held for it, its state learnt when it comes. */
	assert_null(om_link_session_held(&B.s, 12));
	assert_false(om_link_session_out(&B.s, 2)->up);
	assert_true(om_link_session_out(&B.s, 3)->up);
	assert_int_equal(A.s.c.undeliverable, 1);
}

/* Feeds B one hand-made frame; the verdict. */
static enum om_link_verdict feed(struct side *x, const unsigned char *b)
{
	struct om_link_frame f;
	bool nomem;

	om_link_frame_decode(b, &f);
	assert_int_equal(om_link_check_header(&f), OM_LINK_OK);
	return om_link_session_input(&x->s, &f, b + OM_LINK_HDR_SIZE, &nomem);
}

static size_t data_frame(unsigned char *b, uint64_t seq, uint64_t ack, uint32_t src, uint32_t dst)
{
	struct om_msg_hdr h = { .version = VIRTIO_OM_PROTOCOL_VERSION,
				.type = VIRTIO_OM_T_TEST_DATA, .src_node = src, .dst_node = dst,
				.seq = seq, .len = 4 };
	size_t n = om_link_encode_data_header(b, seq, ack, &h);

	om_msg_hdr_encode(&h, b + n);
	memset(b + n + VIRTIO_OM_HDR_SIZE, (int)(seq & 0xff), 4);
	return n + VIRTIO_OM_HDR_SIZE + 4;
}

static void broken_rules_each_cut_for_their_reason(void **state)
{
	unsigned char b[256];
	struct om_link_hello_v h = { .max_payload = 65536, .session = 77, .tx_base = 0,
				     .range = { 1, 3 } };

	(void)state;
	init_pair(VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	assert_int_equal(om_link_session_connected(&B.s), 0);
	/* Anything before the HELLO. */
	om_link_encode_heartbeat(b, 0);
	assert_int_equal(feed(&B, b), OM_LINK_BAD_HELLO);
	/* A HELLO for another range than the peer was configured with. */
	h.range = (struct om_link_range){ 1, 4 };
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(feed(&B, b), OM_LINK_BAD_HELLO);
	h.range = (struct om_link_range){ 1, 3 };
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(feed(&B, b), OM_LINK_OK);
	/* Twice. */
	assert_int_equal(feed(&B, b), OM_LINK_BAD_HELLO);
	assert_int_equal(B.s.c.refused[OM_LINK_BAD_HELLO], 3);
	/* Acknowledging what B never sent. */
	om_link_encode_heartbeat(b, 1);
	assert_int_equal(feed(&B, b), OM_LINK_BAD_ACK);
	/* Speaking as B's own node 10, or as no one's. */
	data_frame(b, 1, 0, 10, 11);
	assert_int_equal(feed(&B, b), OM_LINK_FOREIGN_SOURCE);
	data_frame(b, 1, 0, 4, 11);
	assert_int_equal(feed(&B, b), OM_LINK_FOREIGN_SOURCE);
	assert_int_equal(B.s.c.refused[OM_LINK_FOREIGN_SOURCE], 2);
	/* A message for a node B does not serve. */
	data_frame(b, 1, 0, 1, 3);
	assert_int_equal(feed(&B, b), OM_LINK_BAD_DESTINATION);
	/* In order: 1, then 1 again (a duplicate, dropped), then a gap. */
	data_frame(b, 1, 0, 1, 11);
	assert_int_equal(feed(&B, b), OM_LINK_OK);
	assert_int_equal(feed(&B, b), OM_LINK_OK);
	assert_int_equal(B.s.c.duplicates, 1);
	assert_int_equal(B.s.idst[1].msgs, 1);
	data_frame(b, 3, 0, 1, 11);
	assert_int_equal(feed(&B, b), OM_LINK_BAD_SEQ);
	assert_int_equal(B.s.c.refused[OM_LINK_BAD_SEQ], 1);
	/* A resume claiming B dealt with more than it received. */
	cut();
	assert_int_equal(om_link_session_connected(&B.s), 0);
	h.tx_base = 5;
	h.peer_session = 0;
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(feed(&B, b), OM_LINK_BAD_HELLO);
	assert_int_equal(B.s.c.refused[OM_LINK_BAD_HELLO], 4);
}

static void large_frames_go_from_their_items_and_resume_whole(void **state)
{
	const uint32_t len = VIRTIO_OM_MAX_PAYLOAD;
	size_t frame = OM_LINK_HDR_SIZE + VIRTIO_OM_HDR_SIZE + len;
	unsigned char b[64];

	(void)state;
	init_pair(VIRTIO_OM_MAX_PAYLOAD, OM_LINK_CREDIT_BYTES);
	connect_pair();
	for (uint64_t q = 1; q <= 6; q++)
		assert_int_equal(push(&A, 2, 11, q, len), 0);
	assert_int_equal(om_link_session_pump(&A.s), 0);
	/* Two frames and half of the third arrive. */
	assert_int_equal(carry(&A, &B, 2 * frame + frame / 2), OM_LINK_OK);
	assert_int_equal(B.s.held_n, 2);
	/* An ack of the third, not written whole yet, is a lie: its item must stay. */
	om_link_encode_heartbeat(b, 3);
	assert_int_equal(feed(&A, b), OM_LINK_BAD_ACK);
	assert_int_equal(A.s.unacked_n, 6);
	/* The connection breaks mid-frame: all comes whole on the next, once. */
	cut();
	connect_pair();
	for (int i = 0; i < 6; i++) {
		deliver(&B, 11, 100);
		settle();
	}
	expect_got(&B, 2, 1, 6);
	assert_int_equal(A.s.unacked_n, 0);
	assert_int_equal(B.s.c.data_rx, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(messages_cross_in_order_acknowledged_once_delivered,
					  teardown),
		cmocka_unit_test_teardown(resume_after_a_cut_mid_frame_loses_and_doubles_nothing,
					  teardown),
		cmocka_unit_test_teardown(restarted_receiver_gets_what_it_had_not_delivered,
					  teardown),
		cmocka_unit_test_teardown(restarted_sender_leaves_what_the_receiver_holds_delivered,
					  teardown),
		cmocka_unit_test_teardown(a_destination_out_of_credit_holds_up_no_other, teardown),
		cmocka_unit_test_teardown(a_peer_beyond_its_credit_is_cut, teardown),
		cmocka_unit_test_teardown(node_events_come_in_order_with_data, teardown),
		cmocka_unit_test_teardown(broken_rules_each_cut_for_their_reason, teardown),
		cmocka_unit_test_teardown(large_frames_go_from_their_items_and_resume_whole,
					  teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
