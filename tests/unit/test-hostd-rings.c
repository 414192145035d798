// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd's relay against well-behaved and hostile guests, in-process
 * (tests/support/relay-harness): delivery, source stamping, order and
 * backpressure, and every kind of broken ring a guest can write. A guest
 * that breaks the rules is evicted, its peers are told, and the others go
 * on; nothing crashes or leaks (this suite also runs under ASan/UBSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay-harness.h"

static int setup(void **state)
{
	struct rh *h = calloc(1, sizeof(*h));

	if (!h || rh_init(h, 3, 16))
		return -1;
	for (uint32_t n = 1; n <= 3; n++)
		for (int i = 0; i < 4; i++)
			rh_post_rx(h, n, VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	rh_free(*state);
	free(*state);
	return 0;
}

/* The next message at node: header decoded, payload into p (64 KiB). */
static bool recv_msg(struct rh *h, uint32_t node, struct om_msg_hdr *hdr, unsigned char *p)
{
	static unsigned char buf[VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD];
	size_t n = rh_recv(h, node, buf, sizeof(buf));

	if (!n)
		return false;
	assert_true(n >= VIRTIO_OM_HDR_SIZE);
	om_msg_hdr_decode(buf, hdr);
	assert_int_equal(n, VIRTIO_OM_HDR_SIZE + hdr->len);
	if (p)
		memcpy(p, buf + VIRTIO_OM_HDR_SIZE, hdr->len);
	return true;
}

static void expect_node_event(struct rh *h, uint32_t at, uint16_t type, uint32_t about,
			      uint32_t reason)
{
	struct om_msg_hdr m;
	struct virtio_om_node_event ev;

	assert_true(recv_msg(h, at, &m, (unsigned char *)&ev));
	assert_int_equal(m.type, type);
	assert_int_equal(m.src_node, VIRTIO_OM_NODE_HOST);
	assert_int_equal(m.dst_node, at);
	assert_int_equal(le32toh(ev.node), about);
	assert_int_equal(le32toh(ev.reason), reason);
}

static void relays_intact_and_stamps_the_source(void **state)
{
	struct rh *h = *state;
	static unsigned char out[40000], in[VIRTIO_OM_MAX_PAYLOAD];
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 3, sizeof(out)), m;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + 3);
	hdr.src_node = 2; /* a lie: the relay writes the truth */
	hdr.src_pid = 42;
	hdr.seq = 9;
	rh_send(h, 1, &hdr, out, 3);
	rh_run(h);
	assert_true(recv_msg(h, 3, &m, in));
	assert_int_equal(m.src_node, 1);
	assert_int_equal(m.dst_node, 3);
	assert_int_equal(m.src_pid, 42);
	assert_int_equal(m.seq, 9);
	assert_int_equal(m.len, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(rh_tx_used(h, 1), 1);
	assert_false(recv_msg(h, 2, &m, NULL));
	assert_int_equal(rh_node(h, 1)->c.tx_msgs, 1);
	assert_int_equal(rh_node(h, 3)->c.rx_msgs, 1);
}

static void waits_for_rx_buffers_in_order(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr m;
	unsigned char p[8];

	/* Node 2 has 4 buffers: the 5th and 6th message wait, in order. */
	for (uint64_t s = 1; s <= 6; s++) {
		struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 8);

		hdr.seq = s;
		rh_send(h, 1, &hdr, &s, 1);
	}
	rh_run(h);
	assert_int_equal(rh_tx_used(h, 1), 4);
	assert_true(rh_node(h, 1)->stalled != NULL);
	for (uint64_t s = 1; s <= 4; s++) {
		assert_true(recv_msg(h, 2, &m, p));
		assert_int_equal(m.seq, s);
	}
	assert_false(recv_msg(h, 2, &m, p));
	rh_post_rx(h, 2, 4096);
	rh_post_rx(h, 2, 4096);
	rh_run(h);
	rh_run(h); /* the source, back of the line, sends its next one */
	for (uint64_t s = 5; s <= 6; s++) {
		assert_true(recv_msg(h, 2, &m, p));
		assert_int_equal(m.seq, s);
		assert_memory_equal(p, &s, 8);
	}
	assert_int_equal(rh_tx_used(h, 1), 6);
	assert_null(rh_node(h, 1)->stalled);
	assert_true(rh_node(h, 1)->c.stalls >= 1);
}

static void message_to_a_down_node_is_counted_not_kept(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 3, 0);

	rh_node(h, 3)->state = OM_NODE_CONNECTED; /* its driver has not started */
	rh_send(h, 1, &hdr, NULL, 1);
	rh_run(h);
	assert_int_equal(rh_tx_used(h, 1), 1);
	assert_int_equal(rh_node(h, 1)->c.undeliverable, 1);
	rh_node(h, 3)->state = OM_NODE_UP;
}

static void waits_for_a_node_not_yet_back_after_a_restart(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 3, 3), m;
	unsigned char p[3];

	/* As just after an omhostd restart: node 3 has not come back yet. */
	h->d.grace_until_ms = om_now_ms() + 60000;
	rh_node(h, 3)->ever_up = false;
	rh_node(h, 3)->state = OM_NODE_CONNECTED;
	rh_send(h, 1, &hdr, "abc", 1);
	rh_run(h);
	assert_int_equal(rh_tx_used(h, 1), 0);
	assert_int_equal(rh_node(h, 1)->c.undeliverable, 0);
	/* It comes up: told about its peers, then the message that waited. */
	rh_node(h, 3)->state = OM_NODE_UP;
	om_relay_node_up(rh_node(h, 3));
	rh_run(h);
	expect_node_event(h, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_node_event(h, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	assert_true(recv_msg(h, 3, &m, p));
	assert_int_equal(m.src_node, 1);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(rh_tx_used(h, 1), 1);
}

static void grace_over_drops_what_waits_for_an_absent_node(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 3, 3);

	h->d.grace_until_ms = om_now_ms() + 60000;
	rh_node(h, 3)->ever_up = false;
	rh_node(h, 3)->state = OM_NODE_CONNECTED;
	rh_send(h, 1, &hdr, "abc", 1);
	rh_run(h);
	assert_int_equal(rh_tx_used(h, 1), 0);
	h->d.grace_until_ms = 0;
	om_relay_grace_over(&h->d);
	rh_run(h);
	assert_int_equal(rh_tx_used(h, 1), 1);
	assert_int_equal(rh_node(h, 1)->c.undeliverable, 1);
	assert_null(rh_node(h, 1)->stalled);
	rh_node(h, 3)->state = OM_NODE_UP;
}

/*
 * After node bad broke a rule: evicted for the reason that names it (the
 * rule that fired, not another one the test tripped on the way), peers
 * told, the others still relay.
 */
static void assert_evicted(struct rh *h, uint32_t bad, const char *why)
{
	uint32_t a = bad == 1 ? 2 : 1, b = bad == 3 ? 2 : 3;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, b, 5), m;
	unsigned char p[5];

	if (!strstr(rh_node(h, bad)->evict_why, why))
		fail_msg("node %u evicted for \"%s\", not for \"%s\"", bad,
			 rh_node(h, bad)->evict_why, why);
	assert_int_equal(rh_node(h, bad)->state, OM_NODE_ABSENT);
	assert_int_equal(rh_node(h, bad)->c.evictions, 1);
	assert_true(h->g[bad].gone);
	expect_node_event(h, a, VIRTIO_OM_T_NODE_DOWN, bad, VIRTIO_OM_NODE_EVICTED);
	expect_node_event(h, b, VIRTIO_OM_T_NODE_DOWN, bad, VIRTIO_OM_NODE_EVICTED);
	rh_send(h, a, &hdr, "hello", 1);
	rh_run(h);
	assert_true(recv_msg(h, b, &m, p));
	assert_int_equal(m.src_node, a);
	assert_memory_equal(p, "hello", 5);
}

static void looped_chain(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 0);
	uint64_t gpa = rh_alloc(h, 1, 64);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, gpa, 48, VRING_DESC_F_NEXT, 1);
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 1, gpa, 48, VRING_DESC_F_NEXT, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "Looped descriptor");
}

static void head_index_beyond_the_queue(void **state)
{
	struct rh *h = *state;

	rh_make_avail(h, 2, VIRTIO_OM_QUEUE_TX, 16 + 5);
	rh_run(h);
	assert_evicted(h, 2, "index 21 is available");
}

static void next_index_beyond_the_queue(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 0);
	uint64_t gpa = rh_alloc(h, 1, 64);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, gpa, 48, VRING_DESC_F_NEXT, 200);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "Desc next is 200");
}

/*
 * Every avail entry names a valid message (descriptor 0), so only the
 * index running more than a ring ahead is wrong: taken as is, the same
 * entries would be read again.
 */
static void avail_index_jumps_past_the_ring(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 1, 0);
	uint64_t gpa = rh_alloc(h, 3, 64);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 3, gpa));
	rh_set_desc(h, 3, VIRTIO_OM_QUEUE_TX, 0, gpa, 48, 0, 0);
	h->g[3].avail[VIRTIO_OM_QUEUE_TX]->idx = htole16(16 + 1);
	rh_run(h);
	assert_evicted(h, 3, "past its 16-entry ring");
}

static void address_outside_guest_memory(void **state)
{
	struct rh *h = *state;

	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, RH_MEM_SIZE + 4096, 48, 0, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "invalid address for buffers");
}

static void address_straddling_the_end_of_memory(void **state)
{
	struct rh *h = *state;

	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, RH_MEM_SIZE - 16, 48, 0, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "invalid address for buffers");
}

static void lengths_that_overflow(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 16);
	uint64_t gpa = rh_alloc(h, 1, 64);

	/* The header says 16; the chain claims 4 GiB - 1 more. */
	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, gpa, 48, VRING_DESC_F_NEXT, 1);
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 1, RH_DATA_START, 0xffffffffu, 0, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "invalid address for buffers");
}

static void header_length_larger_than_the_chain(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 0xfffffff0u);
	uint64_t gpa = rh_alloc(h, 1, 64);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, gpa, 64, 0, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_int_equal(rh_node(h, 1)->c.refused[OM_MSG_LENGTH], 1);
	assert_evicted(h, 1, "message length mismatch");
}

/*
 * A table whose second entry is itself an indirect table. Read as a plain
 * buffer (libvhost-user's way), that entry would make a well-formed
 * message of header + 16 bytes: only the nesting is wrong.
 */
static void nested_indirect_tables(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, sizeof(struct vring_desc));
	uint64_t outer = rh_alloc(h, 1, 64), inner = rh_alloc(h, 1, 64), gpa = rh_alloc(h, 1, 64);
	struct vring_desc *t = rh_ptr(h, 1, outer), *u = rh_ptr(h, 1, inner);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	t[0] = (struct vring_desc){ .addr = htole64(gpa), .len = htole32(VIRTIO_OM_HDR_SIZE),
				    .flags = htole16(VRING_DESC_F_NEXT), .next = htole16(1) };
	t[1] = (struct vring_desc){ .addr = htole64(inner), .len = htole32(sizeof(*u)),
				    .flags = htole16(VRING_DESC_F_INDIRECT) };
	u[0] = (struct vring_desc){ .addr = htole64(gpa), .len = htole32(16) };
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, outer, 2 * sizeof(*t), VRING_DESC_F_INDIRECT, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "nested indirect table");
}

static void indirect_table_of_odd_size(void **state)
{
	struct rh *h = *state;

	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, rh_alloc(h, 1, 64), 17, VRING_DESC_F_INDIRECT, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "Invalid size for indirect buffer table");
}

/*
 * A well-formed message (header, then 299 one-byte pieces) in an indirect
 * table of 300 descriptors: only the chain's length, longer than the
 * 16-entry ring allows, is wrong.
 */
static void over_long_indirect_chain(void **state)
{
	struct rh *h = *state;
	const unsigned int n = 300;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, n - 1);
	uint64_t table = rh_alloc(h, 1, n * sizeof(struct vring_desc));
	uint64_t gpa = rh_alloc(h, 1, 64), data = rh_alloc(h, 1, 64);
	struct vring_desc *t = rh_ptr(h, 1, table);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	for (unsigned int i = 0; i < n; i++)
		t[i] = (struct vring_desc){ .addr = htole64(i ? data : gpa),
					    .len = htole32(i ? 1 : VIRTIO_OM_HDR_SIZE),
					    .flags = htole16(i + 1 < n ? VRING_DESC_F_NEXT : 0),
					    .next = htole16((uint16_t)(i + 1)) };
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, table, n * sizeof(*t), VRING_DESC_F_INDIRECT, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "indirect table of 300 descriptors, longer than its 16-entry ring");
}

static void writable_descriptor_in_tx(void **state)
{
	struct rh *h = *state;
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 0);
	uint64_t gpa = rh_alloc(h, 1, 64);

	om_msg_hdr_encode(&hdr, rh_ptr(h, 1, gpa));
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 0, gpa, 48, VRING_DESC_F_NEXT, 1);
	rh_set_desc(h, 1, VIRTIO_OM_QUEUE_TX, 1, gpa + 48, 16, VRING_DESC_F_WRITE, 0);
	rh_make_avail(h, 1, VIRTIO_OM_QUEUE_TX, 0);
	rh_run(h);
	assert_evicted(h, 1, "tx chain with 1 device-writable descriptors");
}

static void control_type_from_a_guest(void **state)
{
	struct rh *h = *state;
	struct virtio_om_node_event ev = { .node = htole32(3), .reason = htole32(3) };
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_NODE_DOWN, 2, sizeof(ev));

	rh_send(h, 1, &hdr, &ev, 1);
	rh_run(h);
	assert_int_equal(rh_node(h, 1)->c.refused[OM_MSG_TYPE], 1);
	assert_evicted(h, 1, "type unknown or not for guests");
}

static void rx_buffer_too_small_evicts_the_receiver(void **state)
{
	struct rh *h = *state;
	struct rh *fresh = calloc(1, sizeof(*fresh));
	struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, 100), m;
	unsigned char p[100] = { 0 };

	(void)h;
	assert_int_equal(rh_init(fresh, 3, 16), 0);
	rh_post_rx(fresh, 1, 4096);
	rh_post_rx(fresh, 3, 4096);
	rh_post_rx(fresh, 2, 64); /* smaller than header + max_payload allows */
	rh_send(fresh, 1, &hdr, p, 1);
	rh_run(fresh);
	assert_int_equal(rh_node(fresh, 2)->state, OM_NODE_ABSENT);
	assert_non_null(strstr(rh_node(fresh, 2)->evict_why, "rx buffer of 64 bytes"));
	assert_int_equal(rh_node(fresh, 1)->c.undeliverable, 1);
	assert_int_equal(rh_tx_used(fresh, 1), 1);
	assert_true(recv_msg(fresh, 1, &m, p));
	assert_int_equal(m.type, VIRTIO_OM_T_NODE_DOWN);
	rh_free(fresh);
	free(fresh);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(relays_intact_and_stamps_the_source),
		T(waits_for_rx_buffers_in_order),
		T(message_to_a_down_node_is_counted_not_kept),
		T(waits_for_a_node_not_yet_back_after_a_restart),
		T(grace_over_drops_what_waits_for_an_absent_node),
		T(looped_chain),
		T(head_index_beyond_the_queue),
		T(next_index_beyond_the_queue),
		T(avail_index_jumps_past_the_ring),
		T(address_outside_guest_memory),
		T(address_straddling_the_end_of_memory),
		T(lengths_that_overflow),
		T(header_length_larger_than_the_chain),
		T(nested_indirect_tables),
		T(indirect_table_of_odd_size),
		T(over_long_indirect_chain),
		T(writable_descriptor_in_tx),
		T(control_type_from_a_guest),
		T(rx_buffer_too_small_evicts_the_receiver),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
