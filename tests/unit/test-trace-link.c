// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay links in the trace: omhostd's link records (trace-ring.c's
 * om_trace_ring_put_link) read by omtrace's ring reader, what omtrace
 * prints of each (the line and the JSON, exactly), its filters, a capture
 * written and read back, and records it must refuse as malformed (a peer
 * relay is untrusted, and so is a capture file).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "filter.h"
#include "link-decode.h"
#include "pcapng.h"
#include "print.h"
#include "record.h"
#include "ring-reader.h"
#include "trace-ring.h"

/* 00:00:01 UTC plus 5 ns: the line's clock is local time, TZ=UTC below. */
#define T0 1000000005ull

static unsigned char frame[OM_LINK_HDR_SIZE + 256];

static void put_le(unsigned char *p, unsigned int size, uint64_t v)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A frame in frame[]: header, then len payload bytes already there. */
static void frame_hdr(uint16_t type, uint32_t len, uint64_t seq, uint64_t ack)
{
	memset(frame, 0, OM_LINK_HDR_SIZE);
	put_le(frame, 2, OM_LINK_VERSION);
	put_le(frame + 2, 2, type);
	put_le(frame + 4, 4, len);
	put_le(frame + 8, 8, seq);
	put_le(frame + 16, 8, ack);
}

struct fx {
	struct om_trace_ring w;
	void *map;
	size_t map_len;
	struct om_trace_ring_reader rd;
	int memfd;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	setenv("TZ", "UTC", 1);
	assert_int_equal(om_trace_ring_create(&fx->w, 64 << 10, &fx->memfd), 0);
	fx->map_len = OM_TRACE_RING_CTL_SIZE + fx->w.size;
	fx->map = mmap(NULL, fx->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fx->memfd, 0);
	assert_true(fx->map != MAP_FAILED);
	assert_int_equal(om_trace_ring_reader_init(&fx->rd, fx->map, fx->map_len), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	munmap(fx->map, fx->map_len);
	close(fx->memfd);
	om_trace_ring_destroy(&fx->w);
	free(fx);
	return 0;
}

/* Writes a link record as omhostd does, and reads it back as omtrace does. */
static void through_ring(struct fx *fx, uint32_t event, const char *peer, bool with_hdr,
			 uint32_t caplen, struct om_trace_rec *r)
{
	assert_true(om_trace_ring_put_link(&fx->w, T0, event, peer, with_hdr ? frame : NULL,
					   with_hdr ? frame + OM_LINK_HDR_SIZE : frame, caplen));
	om_trace_ring_publish(&fx->w);
	assert_int_equal(om_trace_ring_reader_next(&fx->rd, r), 1);
	assert_int_equal(r->kind, OM_TRACE_REC_LINK);
	assert_int_equal(r->event, event);
}

static void text_of(const struct om_trace_rec *r, char *buf, size_t cap, bool json)
{
	FILE *f = fmemopen(buf, cap, "w");

	assert_non_null(f);
	if (json)
		om_print_json(f, r, NULL);
	else
		om_print_text(f, r, NULL);
	fclose(f);
}

/* Each frame type and event: the line omtrace prints, exactly. */
static void lines(void **state)
{
	struct fx *fx = *state;
	unsigned char *p = frame + OM_LINK_HDR_SIZE;
	struct om_msg_hdr m = { .version = VIRTIO_OM_PROTOCOL_VERSION, .type = VIRTIO_OM_T_PING,
				.src_node = 1, .dst_node = 3, .src_pid = 42, .seq = 9,
				.len = VIRTIO_OM_PING_SIZE };
	struct om_trace_rec r;
	char buf[1024];

	through_ring(fx, OM_TRACE_LINK_UP, "hostB", false, 0, &r);
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB up\n");

	put_le(p, 4, OM_LINK_MAGIC);
	put_le(p + 4, 4, 65536);
	put_le(p + 8, 8, 0xabcdef);
	put_le(p + 16, 8, 0);
	put_le(p + 24, 8, 7);
	put_le(p + 32, 4, 9);
	put_le(p + 36, 4, 16);
	frame_hdr(OM_LINK_T_HELLO, OM_LINK_HELLO_SIZE, 0, 3);
	through_ring(fx, OM_TRACE_LINK_RX, "hostB", true, OM_LINK_HELLO_SIZE, &r);
	assert_string_equal(r.peer, "hostB");
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB rx HELLO seq 0 ack 3 len 40 magic 0x4b4c4d4f max_payload 65536 session 0x0000000000abcdef peer_session 0x0000000000000000 tx_base 7 nodes 9-16\n");

	put_le(p, 4, 2);
	put_le(p + 4, 2, OM_LINK_NODE_DOWN);
	put_le(p + 6, 2, VIRTIO_OM_NODE_EVICTED);
	frame_hdr(OM_LINK_T_NODE, OM_LINK_NODE_SIZE, 5, 4);
	through_ring(fx, OM_TRACE_LINK_TX, "hostB", true, OM_LINK_NODE_SIZE, &r);
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB tx NODE seq 5 ack 4 len 8 node 2 state DOWN reason EVICTED\n");

	/* CREDIT: three entries, two captured. */
	memset(p, 0, 8 + 3 * 16);
	put_le(p, 4, 3);
	for (unsigned int i = 0; i < 3; i++) {
		put_le(p + 8 + 16 * i, 4, 1 + i);
		put_le(p + 12 + 16 * i, 4, 1u << 20);
		put_le(p + 16 + 16 * i, 4, 100 * i);
	}
	frame_hdr(OM_LINK_T_CREDIT, 8 + 3 * 16, 0, 4);
	through_ring(fx, OM_TRACE_LINK_TX, "hostB", true, 8 + 2 * 16, &r);
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB tx CREDIT seq 0 ack 4 len 56 count 3 credits 1/1048576/0 2/1048576/100\n");

	/* DATA: the carried message's header; its payload is not the frame's business. */
	om_msg_hdr_encode(&m, p);
	frame_hdr(OM_LINK_T_DATA, VIRTIO_OM_HDR_SIZE + m.len, 6, 4);
	through_ring(fx, OM_TRACE_LINK_TX, "hostB", true, VIRTIO_OM_HDR_SIZE, &r);
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB tx DATA seq 6 ack 4 len 56 src 1 dst 3 src_pid 42 dst_pid 0 type PING len 8 seq 9\n");
	text_of(&r, buf, sizeof(buf), true);
	assert_string_equal(buf, "{\"time_ns\":1000000005,\"event\":\"link_tx\",\"peer\":\"hostB\",\"link_type\":\"DATA\",\"link_type_value\":2,\"link_seq\":6,\"link_ack\":4,\"link_len\":56,\"link_version\":1,\"link_flags\":0,\"caplen\":48,\"link_fields\":{\"src\":\"1\",\"dst\":\"3\",\"src_pid\":\"42\",\"dst_pid\":\"0\",\"type\":\"PING\",\"len\":\"8\",\"seq\":\"9\"},\"head\":\"010010000000000001000000030000002a00000000000000090000000000000000000000000000000800000000000000\"}\n"
);

	/* A header that broke a rule (the frame that cut a link) shows how. */
	frame_hdr(0x77, 0, 0, 0);
	put_le(frame, 2, 9);
	put_le(frame + 24, 4, 1);
	through_ring(fx, OM_TRACE_LINK_RX, "hostB", true, 0, &r);
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB rx 0x0077 seq 0 ack 0 len 0 version 9 flags 0x1 reserved 0x0\n");

	memcpy(frame, "closed by the peer", 18);
	through_ring(fx, OM_TRACE_LINK_DOWN, "hostB", false, 18, &r);
	text_of(&r, buf, sizeof(buf), false);
	assert_string_equal(buf, "00:00:01.000000005 link hostB down: closed by the peer\n");
}

/* A peer's name longer than a record holds is cut, still terminated. */
static void long_peer_name(void **state)
{
	struct fx *fx = *state;
	char name[100];
	struct om_trace_rec r;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	through_ring(fx, OM_TRACE_LINK_UP, name, false, 0, &r);
	assert_int_equal(strlen(r.peer), OM_TRACE_PEER_SIZE - 1);
}

/* A capture is anyone's: a peer name with a quote or a control byte stays valid JSON. */
static void json_peer_escaped(void **state)
{
	struct fx *fx = *state;
	struct om_trace_rec r;
	char buf[1024];

	through_ring(fx, OM_TRACE_LINK_UP, "a\"b\\c\n", false, 0, &r);
	text_of(&r, buf, sizeof(buf), true);
	assert_non_null(strstr(buf, "\"event\":\"link_up\",\"peer\":\"a\\u0022b\\u005cc\\u000a\",\"link_type\":\"\","));
}

/* A DATA frame is its message to the filters; other frames pass only when no message filter is set. */
static void filters(void **state)
{
	struct fx *fx = *state;
	struct om_msg_hdr m = { .version = VIRTIO_OM_PROTOCOL_VERSION, .type = VIRTIO_OM_T_PING,
				.src_node = 1, .dst_node = 3, .len = VIRTIO_OM_PING_SIZE };
	struct om_trace_rec data, beat;
	struct om_filter f;
	char err[128];

	om_msg_hdr_encode(&m, frame + OM_LINK_HDR_SIZE);
	frame_hdr(OM_LINK_T_DATA, VIRTIO_OM_HDR_SIZE + m.len, 1, 0);
	through_ring(fx, OM_TRACE_LINK_TX, "hostB", true, VIRTIO_OM_HDR_SIZE, &data);
	assert_int_equal(data.h.dst_node, 3);
	/* The next record overwrites the reader's view: keep this one's header. */
	om_filter_init(&f);
	assert_true(om_filter_match(&f, &data));
	assert_int_equal(om_filter_add_nodes(&f, "3", err, sizeof(err)), 0);
	assert_true(om_filter_match(&f, &data));
	om_filter_init(&f);
	assert_int_equal(om_filter_add_nodes(&f, "2", err, sizeof(err)), 0);
	assert_false(om_filter_match(&f, &data));
	om_filter_init(&f);
	assert_int_equal(om_filter_add_types(&f, "PONG", err, sizeof(err)), 0);
	assert_false(om_filter_match(&f, &data));

	frame_hdr(OM_LINK_T_HEARTBEAT, 0, 0, 1);
	through_ring(fx, OM_TRACE_LINK_TX, "hostB", true, 0, &beat);
	assert_false(om_filter_match(&f, &beat));
	om_filter_init(&f);
	assert_true(om_filter_match(&f, &beat));
}

/* What a reader refuses: the record's bytes changed after omhostd wrote them. */
static void malformed(void **state)
{
	static const struct {
		size_t off;
		uint32_t value, size;
		const char *what;
	} cases[] = {
		{ 16, 3, 4, "an event that is not a link's" },
		{ 16, 99, 4, "an unknown event" },
		{ 24 + OM_TRACE_PEER_SIZE - 1, 'x', 1, "a peer name not terminated" },
		{ 20, 41, 4, "more payload than the frame's len" },
		{ 20, 4096, 4, "more payload than the record" },
	};
	unsigned char rec[OM_TRACE_LINK_FIXED + 48];
	struct om_trace_rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(rec, 0, sizeof(rec));
		put_le(rec, 2, OM_TRACE_REC_LINK);
		put_le(rec + 4, 4, sizeof(rec));
		put_le(rec + 16, 4, OM_TRACE_LINK_RX);
		put_le(rec + 20, 4, 40);
		memcpy(rec + 24, "hostB", 5);
		put_le(rec + 88 + 2, 2, OM_LINK_T_HELLO);
		put_le(rec + 88 + 4, 4, 40);
		assert_int_equal(om_trace_rec_parse(rec, sizeof(rec), &r), (long)sizeof(rec));
		put_le(rec + cases[i].off, cases[i].size, cases[i].value);
		if (om_trace_rec_parse(rec, sizeof(rec), &r) != -EPROTO)
			fail_msg("accepted %s", cases[i].what);
	}
	/* An event's text is at most 255 bytes. */
	unsigned char big[OM_TRACE_LINK_FIXED + 264] = { 0 };

	put_le(big, 2, OM_TRACE_REC_LINK);
	put_le(big + 4, 4, sizeof(big));
	put_le(big + 16, 4, OM_TRACE_LINK_DOWN);
	put_le(big + 20, 4, 256);
	assert_int_equal(om_trace_rec_parse(big, sizeof(big), &r), -EPROTO);
	put_le(big + 20, 4, 255);
	assert_int_equal(om_trace_rec_parse(big, sizeof(big), &r), (long)sizeof(big));
}

/* Written into a capture and read back: the same record. */
static void capture_round_trip(void **state)
{
	struct fx *fx = *state;
	struct om_pcapng_writer w;
	struct om_pcapng_reader rd;
	struct om_trace_rec r, back;
	char *buf = NULL, err[200];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	put_le(frame + OM_LINK_HDR_SIZE, 4, 4);
	put_le(frame + OM_LINK_HDR_SIZE + 4, 2, OM_LINK_NODE_UP);
	put_le(frame + OM_LINK_HDR_SIZE + 6, 2, VIRTIO_OM_NODE_RECONNECTED);
	frame_hdr(OM_LINK_T_NODE, OM_LINK_NODE_SIZE, 12, 11);
	through_ring(fx, OM_TRACE_LINK_RX, "relay-2.example", true, OM_LINK_NODE_SIZE, &r);
	assert_int_equal(om_pcapng_start(&w, f, "test", 128), 0);
	assert_int_equal(om_pcapng_write(&w, &r), 0);
	assert_int_equal(om_pcapng_finish(&w, 0, 0), 0);
	fclose(f);
	f = fmemopen(buf, len, "r");
	assert_int_equal(om_pcapng_open(&rd, f, err, sizeof(err)), 0);
	assert_int_equal(om_pcapng_next(&rd, &back, err, sizeof(err)), 1);
	assert_int_equal(back.kind, OM_TRACE_REC_LINK);
	assert_int_equal(back.event, OM_TRACE_LINK_RX);
	assert_string_equal(back.peer, "relay-2.example");
	assert_memory_equal(back.raw_link, r.raw_link, OM_LINK_HDR_SIZE);
	assert_int_equal(back.link.seq, 12);
	assert_int_equal(back.caplen, OM_LINK_NODE_SIZE);
	assert_memory_equal(back.payload, r.payload, OM_LINK_NODE_SIZE);
	assert_true(back.time_ns == T0);
	om_pcapng_close(&rd);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lines, setup, teardown),
		cmocka_unit_test_setup_teardown(long_peer_name, setup, teardown),
		cmocka_unit_test_setup_teardown(json_peer_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(filters, setup, teardown),
		cmocka_unit_test(malformed),
		cmocka_unit_test_setup_teardown(capture_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
