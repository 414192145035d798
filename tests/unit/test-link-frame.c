// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay links' frames (host/omhostd/link-frame.c): the layout pinned to
 * <linux/om_link.h>, round trips, and every rule a peer's frame must pass,
 * each refused for its own reason; the stream reader with frames cut
 * anywhere and headers that must be refused before their payload.
 */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "link-frame.h"

static const struct om_link_range peer = { 10, 19 }, self = { 1, 9 };

static void layout_is_the_headers(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct om_link_hdr), OM_LINK_HDR_SIZE);
	assert_int_equal(sizeof(struct om_link_hello), OM_LINK_HELLO_SIZE);
	assert_int_equal(sizeof(struct om_link_node), OM_LINK_NODE_SIZE);
	assert_int_equal(sizeof(struct om_link_credits), OM_LINK_CREDITS_SIZE);
	assert_int_equal(sizeof(struct om_link_credit), OM_LINK_CREDIT_SIZE);
	assert_int_equal(offsetof(struct om_link_hdr, seq), 8);
	assert_int_equal(offsetof(struct om_link_hdr, ack), 16);
	assert_int_equal(offsetof(struct om_link_hdr, flags), 24);
	assert_int_equal(offsetof(struct om_link_hello, session), 8);
	assert_int_equal(offsetof(struct om_link_hello, tx_base), 24);
	assert_int_equal(offsetof(struct om_link_hello, first_node), 32);
	assert_int_equal(OM_LINK_MAX_FRAME_PAYLOAD, 65584);
}

static void header_round_trip_is_little_endian(void **state)
{
	struct om_link_frame f = { .version = 1, .type = OM_LINK_T_DATA, .len = 0x01020304,
				   .seq = 0x1122334455667788ull, .ack = 7 }, g;
	unsigned char b[OM_LINK_HDR_SIZE];

	(void)state;
	om_link_frame_encode(&f, b);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[2], OM_LINK_T_DATA);
	assert_int_equal(b[4], 0x04);
	assert_int_equal(b[8], 0x88);
	om_link_frame_decode(b, &g);
	assert_memory_equal(&f, &g, sizeof(f));
}

static struct om_link_frame hdr(uint16_t type, uint32_t len, uint64_t seq)
{
	return (struct om_link_frame){ .version = OM_LINK_VERSION, .type = type, .len = len,
				       .seq = seq };
}

static void header_rules_each_refused_for_its_reason(void **state)
{
	struct om_link_frame f;

	(void)state;
	f = hdr(OM_LINK_T_HEARTBEAT, 0, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_OK);
	f.version = 2;
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_VERSION);
	f = hdr(0x06, 0, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_TYPE);
	f = hdr(0, 0, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_TYPE);
	f = hdr(OM_LINK_T_HEARTBEAT, 0, 0);
	f.flags = 1;
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_FLAGS);
	f.flags = 0;
	f.reserved = 0x80000000u;
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_FLAGS);
	f = hdr(OM_LINK_T_HEARTBEAT, 1, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_HELLO, OM_LINK_HELLO_SIZE + 1, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_DATA, 47, 1);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_DATA, OM_LINK_MAX_FRAME_PAYLOAD + 1, 1);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_DATA, 0xffffffffu, 1);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_DATA, OM_LINK_MAX_FRAME_PAYLOAD, 1);
	assert_int_equal(om_link_check_header(&f), OM_LINK_OK);
	f = hdr(OM_LINK_T_CREDIT, OM_LINK_CREDITS_SIZE + OM_LINK_CREDIT_SIZE + 1, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_CREDIT, OM_LINK_CREDITS_SIZE, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	f = hdr(OM_LINK_T_CREDIT, OM_LINK_CREDITS_SIZE + 1025 * OM_LINK_CREDIT_SIZE, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_LENGTH);
	/* Sequenced types are numbered, the others not. */
	f = hdr(OM_LINK_T_DATA, 48, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_SEQ);
	f = hdr(OM_LINK_T_NODE, OM_LINK_NODE_SIZE, 0);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_SEQ);
	f = hdr(OM_LINK_T_HEARTBEAT, 0, 5);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_SEQ);
	f = hdr(OM_LINK_T_HELLO, OM_LINK_HELLO_SIZE, 1);
	assert_int_equal(om_link_check_header(&f), OM_LINK_BAD_SEQ);
}

static void hello_round_trip_and_rules(void **state)
{
	struct om_link_hello_v h, g;
	unsigned char b[OM_LINK_HDR_SIZE + OM_LINK_HELLO_SIZE];
	unsigned char *p = b + OM_LINK_HDR_SIZE;
	struct om_link_frame f;

	(void)state;
	/* Whole, padding too: the two are compared byte by byte below. */
	memset(&h, 0, sizeof(h));
	memset(&g, 0, sizeof(g));
	h.max_payload = 65536;
	h.session = 42;
	h.peer_session = 7;
	h.tx_base = 99;
	h.range.first = 10;
	h.range.last = 19;
	assert_int_equal(om_link_encode_hello(b, 3, &h), sizeof(b));
	om_link_frame_decode(b, &f);
	assert_int_equal(om_link_check_header(&f), OM_LINK_OK);
	assert_int_equal(f.ack, 3);
	assert_int_equal(om_link_decode_hello(p, f.len, &g), OM_LINK_OK);
	assert_memory_equal(&g, &h, sizeof(h));

	p[0] ^= 1; /* magic */
	assert_int_equal(om_link_decode_hello(p, f.len, &g), OM_LINK_BAD_HELLO);
	p[0] ^= 1;
	h.session = 0;
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(om_link_decode_hello(p, f.len, &g), OM_LINK_BAD_HELLO);
	h.session = 1;
	h.range = (struct om_link_range){ 5, 4 };
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(om_link_decode_hello(p, f.len, &g), OM_LINK_BAD_HELLO);
	h.range = (struct om_link_range){ 1, 1025 };
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(om_link_decode_hello(p, f.len, &g), OM_LINK_BAD_HELLO);
	h.range = (struct om_link_range){ 1, 2 };
	h.max_payload = 65537;
	om_link_encode_hello(b, 0, &h);
	assert_int_equal(om_link_decode_hello(p, f.len, &g), OM_LINK_BAD_HELLO);
	assert_int_equal(om_link_decode_hello(p, 39, &g), OM_LINK_BAD_LENGTH);
}

static size_t data_frame(unsigned char *b, uint32_t src, uint32_t dst, uint32_t len)
{
	struct om_msg_hdr h = { .version = VIRTIO_OM_PROTOCOL_VERSION,
				.type = VIRTIO_OM_T_TEST_DATA, .src_node = src, .dst_node = dst,
				.seq = 1, .len = len };
	size_t n = om_link_encode_data_header(b, 1, 0, &h);

	om_msg_hdr_encode(&h, b + n);
	memset(b + n + VIRTIO_OM_HDR_SIZE, 0x5a, len);
	return n + VIRTIO_OM_HDR_SIZE + len;
}

static enum om_link_verdict decode_data(unsigned char *b, uint32_t max_payload)
{
	struct om_link_frame f;
	struct om_msg_hdr h;

	om_link_frame_decode(b, &f);
	return om_link_decode_data(b + OM_LINK_HDR_SIZE, f.len, &peer, &self, max_payload, &h);
}

static void data_rules_source_message_destination(void **state)
{
	static unsigned char b[OM_LINK_HDR_SIZE + OM_LINK_MAX_FRAME_PAYLOAD];
	struct om_msg_hdr h;

	(void)state;
	data_frame(b, 10, 1, 100);
	assert_int_equal(decode_data(b, 65536), OM_LINK_OK);
	/* A peer speaks only for its own nodes: 9 and 20 are not its. */
	data_frame(b, 9, 1, 100);
	assert_int_equal(decode_data(b, 65536), OM_LINK_FOREIGN_SOURCE);
	data_frame(b, 20, 1, 100);
	assert_int_equal(decode_data(b, 65536), OM_LINK_FOREIGN_SOURCE);
	data_frame(b, 0, 1, 100);
	assert_int_equal(decode_data(b, 65536), OM_LINK_FOREIGN_SOURCE);
	/* Not for this side's nodes. */
	data_frame(b, 10, 12, 100);
	assert_int_equal(decode_data(b, 65536), OM_LINK_BAD_DESTINATION);
	data_frame(b, 10, 0, 100);
	assert_int_equal(decode_data(b, 65536), OM_LINK_BAD_MESSAGE);
	/* Larger than this side's max payload. */
	data_frame(b, 10, 1, 4097);
	assert_int_equal(decode_data(b, 4096), OM_LINK_BAD_MESSAGE);
	/* The message's own rules: a host-only type, flags, version, length. */
	data_frame(b, 10, 1, 8);
	om_msg_hdr_decode(b + OM_LINK_HDR_SIZE, &h);
	h.type = VIRTIO_OM_T_NODE_UP;
	om_msg_hdr_encode(&h, b + OM_LINK_HDR_SIZE);
	assert_int_equal(decode_data(b, 65536), OM_LINK_BAD_MESSAGE);
	h.type = VIRTIO_OM_T_TEST_DATA;
	h.flags = 0x80;
	om_msg_hdr_encode(&h, b + OM_LINK_HDR_SIZE);
	assert_int_equal(decode_data(b, 65536), OM_LINK_BAD_MESSAGE);
	h.flags = 0;
	h.len = 9; /* the frame carries 8 */
	om_msg_hdr_encode(&h, b + OM_LINK_HDR_SIZE);
	assert_int_equal(decode_data(b, 65536), OM_LINK_BAD_MESSAGE);
}

static void node_and_credit_rules(void **state)
{
	unsigned char b[OM_LINK_HDR_SIZE + OM_LINK_CREDITS_SIZE + 3 * OM_LINK_CREDIT_SIZE];
	struct om_link_node_v n = { .node = 12, .state = OM_LINK_NODE_UP,
				    .reason = VIRTIO_OM_NODE_JOINED }, m;
	struct om_link_credit_v c[3] = { { 10, 1 << 20, 5 }, { 19, 70000, 0 }, { 11, 65584, 1 } };
	static struct om_link_credit_v got[OM_LINK_MAX_CREDITS];
	struct om_link_frame f;
	uint32_t count;

	(void)state;
	om_link_encode_node(b, 4, 0, &n);
	assert_int_equal(om_link_decode_node(b + OM_LINK_HDR_SIZE, 8, &peer, &m), OM_LINK_OK);
	assert_memory_equal(&n, &m, sizeof(n));
	n.node = 3;
	om_link_encode_node(b, 4, 0, &n);
	assert_int_equal(om_link_decode_node(b + OM_LINK_HDR_SIZE, 8, &peer, &m),
			 OM_LINK_FOREIGN_SOURCE);
	n.node = 12;
	n.reason = VIRTIO_OM_NODE_EVICTED; /* a down reason with UP */
	om_link_encode_node(b, 4, 0, &n);
	assert_int_equal(om_link_decode_node(b + OM_LINK_HDR_SIZE, 8, &peer, &m),
			 OM_LINK_BAD_NODE_EVENT);
	n.state = 3;
	om_link_encode_node(b, 4, 0, &n);
	assert_int_equal(om_link_decode_node(b + OM_LINK_HDR_SIZE, 8, &peer, &m),
			 OM_LINK_BAD_NODE_EVENT);

	assert_int_equal(om_link_encode_credits(b, 0, c, 3), sizeof(b));
	om_link_frame_decode(b, &f);
	assert_int_equal(om_link_check_header(&f), OM_LINK_OK);
	assert_int_equal(om_link_decode_credits(b + OM_LINK_HDR_SIZE, f.len, &peer, got, &count),
			 OM_LINK_OK);
	assert_int_equal(count, 3);
	assert_memory_equal(got, c, sizeof(c));
	/* count not matching the length */
	b[OM_LINK_HDR_SIZE] = 2;
	assert_int_equal(om_link_decode_credits(b + OM_LINK_HDR_SIZE, f.len, &peer, got, &count),
			 OM_LINK_BAD_LENGTH);
	b[OM_LINK_HDR_SIZE] = 3;
	/* a node not the peer's: it gives credit only for its own */
	c[1].node = 5;
	om_link_encode_credits(b, 0, c, 3);
	assert_int_equal(om_link_decode_credits(b + OM_LINK_HDR_SIZE, f.len, &peer, got, &count),
			 OM_LINK_FOREIGN_SOURCE);
	c[1].node = 19;
	c[2].buf_alloc = 48;
	om_link_encode_credits(b, 0, c, 3);
	assert_int_equal(om_link_decode_credits(b + OM_LINK_HDR_SIZE, f.len, &peer, got, &count),
			 OM_LINK_BAD_CREDIT);
	c[2].buf_alloc = 65584;
	om_link_encode_credits(b, 0, c, 3);
	b[OM_LINK_HDR_SIZE + 4] = 1; /* reserved */
	assert_int_equal(om_link_decode_credits(b + OM_LINK_HDR_SIZE, f.len, &peer, got, &count),
			 OM_LINK_BAD_CREDIT);
}

static void reader_takes_frames_cut_anywhere(void **state)
{
	static unsigned char stream[3 * (OM_LINK_HDR_SIZE + 48 + 1000)];
	static struct om_link_reader r;
	size_t len = 0, off = 0, frames = 0;
	enum om_link_verdict v;

	(void)state;
	len += data_frame(stream + len, 10, 1, 1000);
	len += om_link_encode_heartbeat(stream + len, 9);
	len += data_frame(stream + len, 11, 2, 0);
	om_link_reader_reset(&r);
	/* One byte, then 7, then 13... at a time. */
	for (size_t step = 1; off < len; step = step * 7 % 23 + 1) {
		size_t chunk = step < len - off ? step : len - off, used = 0;

		while (chunk) {
			enum om_link_read res = om_link_reader_feed(&r, stream + off, chunk, &used, &v);

			assert_int_not_equal(res, OM_LINK_READ_BAD);
			off += used;
			chunk -= used;
			if (res == OM_LINK_READ_FRAME) {
				frames++;
				if (frames == 1) {
					assert_int_equal(r.f.type, OM_LINK_T_DATA);
					assert_int_equal(r.f.len, 1048);
					assert_int_equal(r.payload[48 + 999], 0x5a);
				} else if (frames == 2) {
					assert_int_equal(r.f.type, OM_LINK_T_HEARTBEAT);
					assert_int_equal(r.f.ack, 9);
				}
			}
		}
	}
	assert_int_equal(frames, 3);
}

static void reader_refuses_a_bad_header_before_its_payload(void **state)
{
	unsigned char b[OM_LINK_HDR_SIZE];
	static struct om_link_reader r;
	struct om_link_frame f = hdr(OM_LINK_T_DATA, 0x7fffffffu, 1);
	enum om_link_verdict v = OM_LINK_OK;
	size_t used;

	(void)state;
	om_link_frame_encode(&f, b);
	om_link_reader_reset(&r);
	assert_int_equal(om_link_reader_feed(&r, b, 20, &used, &v), OM_LINK_READ_MORE);
	assert_int_equal(used, 20);
	assert_int_equal(om_link_reader_feed(&r, b + 20, 12, &used, &v), OM_LINK_READ_BAD);
	assert_int_equal(v, OM_LINK_BAD_LENGTH);
}

/* Read in place (link.c): never asked for more than the frame, the header first, checked alone. */
static void reader_in_place_asks_no_further_than_the_frame(void **state)
{
	static unsigned char stream[2 * (OM_LINK_HDR_SIZE + 48 + 1000)];
	static struct om_link_reader r;
	struct om_link_frame bad = hdr(OM_LINK_T_DATA, 0x7fffffffu, 1);
	enum om_link_verdict v = OM_LINK_OK;
	unsigned char *at;
	size_t len = data_frame(stream, 10, 1, 1000), want;

	(void)state;
	len += om_link_encode_heartbeat(stream + len, 9);
	om_link_reader_reset(&r);
	want = om_link_reader_space(&r, &at);
	assert_int_equal(want, OM_LINK_HDR_SIZE);
	assert_ptr_equal(at, r.hdr);
	memcpy(at, stream, 5);
	assert_int_equal(om_link_reader_took(&r, 5, &v), OM_LINK_READ_MORE);
	assert_int_equal(om_link_reader_space(&r, &at), OM_LINK_HDR_SIZE - 5);
	memcpy(at, stream + 5, OM_LINK_HDR_SIZE - 5);
	assert_int_equal(om_link_reader_took(&r, OM_LINK_HDR_SIZE - 5, &v), OM_LINK_READ_MORE);
	/* Then exactly the payload, into the payload. */
	assert_int_equal(om_link_reader_space(&r, &at), 48 + 1000);
	assert_ptr_equal(at, r.payload);
	memcpy(at, stream + OM_LINK_HDR_SIZE, 48 + 1000);
	assert_int_equal(om_link_reader_took(&r, 48 + 1000, &v), OM_LINK_READ_FRAME);
	assert_int_equal(r.payload[48 + 999], 0x5a);
	/* The next frame, a heartbeat: its header alone is the frame. */
	assert_int_equal(om_link_reader_space(&r, &at), OM_LINK_HDR_SIZE);
	memcpy(at, stream + len - OM_LINK_HDR_SIZE, OM_LINK_HDR_SIZE);
	assert_int_equal(om_link_reader_took(&r, OM_LINK_HDR_SIZE, &v), OM_LINK_READ_FRAME);
	assert_int_equal(r.f.type, OM_LINK_T_HEARTBEAT);
	/* A header whose length breaks the rules is refused before any payload is asked for. */
	om_link_reader_space(&r, &at);
	om_link_frame_encode(&bad, at);
	assert_int_equal(om_link_reader_took(&r, OM_LINK_HDR_SIZE, &v), OM_LINK_READ_BAD);
	assert_int_equal(v, OM_LINK_BAD_LENGTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_is_the_headers),
		cmocka_unit_test(header_round_trip_is_little_endian),
		cmocka_unit_test(header_rules_each_refused_for_its_reason),
		cmocka_unit_test(hello_round_trip_and_rules),
		cmocka_unit_test(data_rules_source_message_destination),
		cmocka_unit_test(node_and_credit_rules),
		cmocka_unit_test(reader_takes_frames_cut_anywhere),
		cmocka_unit_test(reader_refuses_a_bad_header_before_its_payload),
		cmocka_unit_test(reader_in_place_asks_no_further_than_the_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
