// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd's tap, in-process (tests/support/relay-harness): a listener
 * attached on one end of a socket pair, reading its ring with omtrace's
 * own code (host/trace/attach.c), gets a record of every message the relay
 * delivers or drops, with the stamped header and the payload's head; a
 * listener that does not read misses records, is told how many, and never
 * holds the relay up; one that goes away or breaks its ring is dropped;
 * bad requests are refused with a reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "attach.h"
#include "record.h"
#include "relay-harness.h"
#include "trace-ring.h"

#define RING 16
#define MAX_GOT 4096

/* A record the listener read, its payload copied (the ring's is lent until the next read). */
struct got {
	struct om_trace_rec r;
	unsigned char payload[256];
};

struct fx {
	struct rh h;
	struct om_trace_conn conn; /* the listener's end */
	bool listening;
	struct got *got;
	size_t n_got, next; /* records read; the next one a test looks at */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx || rh_init(&fx->h, 3, RING))
		return -1;
	fx->got = calloc(MAX_GOT, sizeof(*fx->got));
	*state = fx;
	return fx->got ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	om_trace_close_all(&fx->h.d);
	rh_free(&fx->h);
	if (fx->listening)
		om_trace_conn_close(&fx->conn);
	free(fx->got);
	free(fx);
	return 0;
}

/*
 * Attaches a listener with request req, its end of the socket given
 * sndbuf bytes of buffer (0: the default): 0 or the -errno of the refusal.
 */
static int attach(struct fx *fx, const char *req, int sndbuf)
{
	char err[200];
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (sndbuf)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	rc = om_trace_attach(&fx->h.d, sv[0], req, true, err, sizeof(err));
	if (rc) {
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	assert_int_equal(om_trace_conn_start(&fx->conn, sv[1], 1000, err, sizeof(err)), 0);
	fx->listening = true;
	fx->n_got = fx->next = 0;
	return 0;
}

/* Reads what the listener has been given so far (without waiting). */
static void drain_peer(struct fx *fx)
{
	struct om_trace_rec r;
	int rc;

	while ((rc = om_trace_conn_next(&fx->conn, &r, 0)) == 1) {
		struct got *g = &fx->got[fx->n_got++];

		assert_true(fx->n_got <= MAX_GOT);
		assert_true(r.caplen <= sizeof(g->payload));
		g->r = r;
		if (r.caplen) /* an empty payload may be NULL */
			memcpy(g->payload, r.payload, r.caplen);
		g->r.payload = g->payload;
	}
	assert_true(rc == -ETIMEDOUT || rc == 0);
}

/* The next record read (there must be one). */
static const struct om_trace_rec *next_rec(struct fx *fx)
{
	assert_true(fx->next < fx->n_got);
	return &fx->got[fx->next++].r;
}

/* omhostd's answer line starts with prefix. */
static void expect_ok(struct fx *fx, const char *prefix)
{
	assert_memory_equal(fx->conn.ok, prefix, strlen(prefix));
}

/* Sends count messages of len bytes from src to dst, in ring-sized batches, receiving them. */
static void traffic(struct fx *fx, uint32_t src, uint32_t dst, unsigned int count, uint32_t len,
		    bool deliverable)
{
	static unsigned char p[VIRTIO_OM_MAX_PAYLOAD], buf[VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD];
	unsigned int sent = 0, got = 0;

	while (sent < count) {
		/* 3 descriptors a message (header, 2 pieces): a batch fits the ring. */
		unsigned int batch = count - sent < RING / 4 ? count - sent : RING / 4;

		for (unsigned int i = 0; i < batch; i++) {
			struct om_msg_hdr h = rh_hdr(VIRTIO_OM_T_TEST_DATA, dst, len);

			h.seq = sent + i + 1;
			h.src_node = 77; /* the relay stamps the real one */
			for (uint32_t b = 0; b < len; b++)
				p[b] = (unsigned char)(h.seq + b);
			if (deliverable)
				rh_post_rx(&fx->h, dst, VIRTIO_OM_HDR_SIZE + len);
			rh_send(&fx->h, src, &h, p, 2);
		}
		rh_run(&fx->h);
		sent += batch;
		while (deliverable && rh_recv(&fx->h, dst, buf, sizeof(buf)))
			got++;
	}
	if (deliverable)
		assert_int_equal(got, count); /* whatever the listener did, all arrived */
}

static void no_listener_no_cost(void **state)
{
	struct fx *fx = *state;

	assert_false(om_trace_on(&fx->h.d));
	traffic(fx, 1, 2, 4, 32, true);
	assert_int_equal(fx->h.d.n_trace_listeners, 0);
}

static void records_carry_stamped_header_and_payload_head(void **state)
{
	struct fx *fx = *state;
	uint64_t last_t = 0;

	assert_int_equal(attach(fx, "trace snaplen=20", 0), 0);
	assert_true(om_trace_on(&fx->h.d));
	expect_ok(fx, "ok trace version=3 pid=");
	assert_non_null(strstr(fx->conn.ok, " snaplen=20 buffer=4194304"));
	traffic(fx, 1, 3, 10, 100, true);
	traffic(fx, 2, 1, 3, 8, true);
	drain_peer(fx);
	for (unsigned int i = 0; i < 13; i++) {
		const struct om_trace_rec *rp = next_rec(fx), r = *rp;
		bool first = i < 10;

		assert_int_equal(r.kind, OM_TRACE_REC_MSG);
		assert_int_equal(r.event, OM_TRACE_RELAYED);
		assert_true(r.time_ns >= last_t);
		last_t = r.time_ns;
		assert_int_equal(r.h.src_node, first ? 1 : 2);
		assert_int_equal(r.h.dst_node, first ? 3 : 1);
		assert_int_equal(r.h.type, VIRTIO_OM_T_TEST_DATA);
		assert_int_equal(r.h.seq, first ? i + 1 : i - 9);
		assert_int_equal(r.h.len, first ? 100 : 8);
		assert_int_equal(r.caplen, first ? 20 : 8);
		for (uint32_t b = 0; b < r.caplen; b++)
			assert_int_equal(r.payload[b], (unsigned char)(r.h.seq + b));
	}
	assert_int_equal(fx->next, fx->n_got); /* nothing more, nothing less */
}

static void undeliverable_messages_are_traced(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(attach(fx, "trace", 0), 0);
	expect_ok(fx, "ok trace ");
	/* Node 3 goes away: what node 1 sends it is dropped, and counted. */
	rh_node(&fx->h, 3)->evict = true;
	fx->h.g[3].gone = true;
	om_hostd_settle(&fx->h.d);
	traffic(fx, 1, 3, 2, 16, false);
	drain_peer(fx);
	for (unsigned int seen = 0; seen < 2;) {
		struct om_trace_rec r = *next_rec(fx);

		if (r.h.src_node == 0)
			continue; /* NODE_DOWN about node 3, to node 2 */
		assert_int_equal(r.event, OM_TRACE_UNDELIVERABLE);
		assert_int_equal(r.h.dst_node, 3);
		seen++;
	}
	assert_int_equal(rh_node(&fx->h, 1)->c.undeliverable, 2);
}

/*
 * A message held in its destination's queue is traced when it is
 * delivered from there (RELAYED, its payload from omhostd's copy), or
 * when the queue is dropped (UNDELIVERABLE), once either way.
 */
static void queued_messages_are_traced_once(void **state)
{
	struct fx *fx = *state;
	unsigned char p[24];

	fx->h.d.cfg.queue_msgs = 8;
	fx->h.d.cfg.queue_bytes = 1u << 16;
	assert_int_equal(attach(fx, "trace", 0), 0);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		struct om_msg_hdr h = rh_hdr(VIRTIO_OM_T_TEST_DATA, 3, sizeof(p));

		h.seq = seq;
		for (unsigned int b = 0; b < sizeof(p); b++)
			p[b] = (unsigned char)(seq + b);
		rh_send(&fx->h, 1, &h, p, 2);
	}
	rh_run(&fx->h); /* node 3 has no rx buffer: both queued */
	assert_int_equal(rh_node(&fx->h, 3)->queued_msgs, 2);
	drain_peer(fx);
	assert_int_equal(fx->n_got, 0);
	rh_post_rx(&fx->h, 3, VIRTIO_OM_HDR_SIZE + sizeof(p));
	rh_run(&fx->h);
	om_relay_node_down(rh_node(&fx->h, 3), VIRTIO_OM_NODE_DISCONNECTED);
	om_hostd_settle(&fx->h.d); /* publishes the records */
	drain_peer(fx);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		struct om_trace_rec r = *next_rec(fx);

		assert_int_equal(r.event, seq == 1 ? OM_TRACE_RELAYED : OM_TRACE_UNDELIVERABLE);
		assert_int_equal(r.h.src_node, 1);
		assert_int_equal(r.h.dst_node, 3);
		assert_int_equal(r.h.seq, seq);
		assert_int_equal(r.caplen, sizeof(p));
		for (uint32_t b = 0; b < r.caplen; b++)
			assert_int_equal(r.payload[b], (unsigned char)(seq + b));
	}
	assert_int_equal(fx->next, fx->n_got);
	assert_int_equal(rh_node(&fx->h, 3)->c.queue_dropped, 1);
}

static void control_messages_are_traced(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(attach(fx, "trace", 0), 0);
	expect_ok(fx, "ok trace ");
	rh_post_rx(&fx->h, 1, 256);
	rh_post_rx(&fx->h, 3, 256);
	rh_node(&fx->h, 2)->evict = true;
	fx->h.g[2].gone = true;
	om_hostd_settle(&fx->h.d);
	drain_peer(fx);
	/* Nodes 1 and 3 hear that node 2 went down (evicted). */
	for (uint32_t to = 1; to <= 3; to += 2) {
		struct om_trace_rec r = *next_rec(fx);

		assert_int_equal(r.h.type, VIRTIO_OM_T_NODE_DOWN);
		assert_int_equal(r.h.src_node, VIRTIO_OM_NODE_HOST);
		assert_int_equal(r.h.dst_node, to);
		assert_int_equal(r.caplen, VIRTIO_OM_NODE_EVENT_SIZE);
		assert_int_equal(r.payload[0], 2);
		assert_int_equal(r.payload[4], VIRTIO_OM_NODE_EVICTED);
	}
}

static void slow_listener_misses_counted_relay_unharmed(void **state)
{
	struct fx *fx = *state;
	uint64_t msgs = 0, missed = 0, missed_records = 0, last_seq = 0;
	const unsigned int count = 2000;

	/* A small ring: it cannot keep 2000 records without reading. */
	assert_int_equal(attach(fx, "trace snaplen=16 buffer=4096", 0), 0);
	traffic(fx, 1, 2, count, 64, true); /* all delivered: traffic() checks */
	assert_int_equal(fx->h.d.n_trace_listeners, 1);
	/*
	 * It reads again: its ring empties, and the MISSED record owed is
	 * written when omhostd next looks (after a callback, or its timer).
	 */
	for (int i = 0; i < 200 && msgs + missed < count; i++) {
		drain_peer(fx);
		while (fx->next < fx->n_got) {
			const struct om_trace_rec *r = next_rec(fx);

			if (r->kind == OM_TRACE_REC_MISSED) {
				missed_records++;
				missed += r->missed;
				assert_int_equal(r->missed_total, missed);
				continue;
			}
			/* In order; a gap only where a MISSED record says so. */
			assert_int_equal(r->kind, OM_TRACE_REC_MSG);
			assert_true(r->h.seq > last_seq);
			last_seq = r->h.seq;
			msgs++;
		}
		om_loop_run_once(fx->h.d.loop, 10);
	}
	assert_true(missed > 0);
	assert_true(missed_records > 0);
	assert_int_equal(msgs + missed, count);
}

static void gone_listener_is_dropped(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(attach(fx, "trace", 0), 0);
	assert_int_equal(fx->h.d.n_trace_listeners, 1);
	om_trace_conn_close(&fx->conn);
	fx->listening = false;
	traffic(fx, 1, 2, 4, 32, true);
	/* Its hang-up shows in the loop, or its wake-up byte fails (EPIPE). */
	for (int i = 0; i < 10 && fx->h.d.n_trace_listeners; i++)
		om_loop_run_once(fx->h.d.loop, 10);
	assert_int_equal(fx->h.d.n_trace_listeners, 0);
	assert_false(om_trace_on(&fx->h.d));
}

/* A listener that writes a tail it cannot have is let go; the relay goes on. */
static void listener_breaking_its_ring_is_dropped(void **state)
{
	struct fx *fx = *state;
	struct om_trace_ring_ctl *ctl;

	assert_int_equal(attach(fx, "trace snaplen=16 buffer=4096", 0), 0);
	ctl = fx->conn.map;
	ctl->tail = 12345; /* past head, and not a record's start */
	traffic(fx, 1, 2, 200, 64, true); /* all delivered: traffic() checks */
	assert_int_equal(fx->h.d.n_trace_listeners, 0);
}

/* A listener that sleeps is woken by one byte, once what it waits for came, and not before. */
static void sleeping_listener_is_woken_once(void **state)
{
	struct fx *fx = *state;
	struct pollfd p;
	char bytes[8];

	assert_int_equal(attach(fx, "trace snaplen=16 buffer=65536", 0), 0);
	/* Asleep until four records' bytes came: three are not enough. */
	assert_true(om_trace_ring_reader_sleep(&fx->conn.rd, 4 * om_trace_msg_size(16)));
	traffic(fx, 1, 2, 3, 16, true);
	p = (struct pollfd){ .fd = fx->conn.fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	traffic(fx, 1, 2, 3, 16, true);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(recv(fx->conn.fd, bytes, sizeof(bytes), MSG_DONTWAIT), 1);
	traffic(fx, 1, 2, 3, 16, true); /* still the same sleep: no second byte */
	assert_int_equal(recv(fx->conn.fd, bytes, sizeof(bytes), MSG_DONTWAIT), -1);
	om_trace_ring_reader_wake(&fx->conn.rd);
	drain_peer(fx);
	assert_int_equal(fx->n_got, 9);
}

/* Records keep coming to a listener that reads as they come, around its ring many times. */
static void listener_reading_along_gets_everything(void **state)
{
	struct fx *fx = *state;
	uint64_t seq = 0;

	assert_int_equal(attach(fx, "trace snaplen=64 buffer=4096", 0), 0);
	for (int round = 0; round < 50; round++) {
		traffic(fx, 1, 2, 8, 64, true);
		drain_peer(fx);
		while (fx->next < fx->n_got) {
			const struct om_trace_rec *r = next_rec(fx);

			assert_int_equal(r->kind, OM_TRACE_REC_MSG);
			seq++;
			assert_int_equal(r->h.seq, (seq - 1) % 8 + 1); /* each batch is seqs 1..8 */
		}
		fx->n_got = fx->next = 0;
	}
	assert_int_equal(seq, 400); /* 400 x 136 bytes: the 4 KiB ring went around 13 times */
}

static void bad_requests_refused_with_a_reason(void **state)
{
	static const char *const bad[] = {
		"trace snaplen=x", "trace snaplen=70000", "trace buffer=10", "trace buffer=99999999999",
		"trace color=red", "trace snaplen=", "trace snaplen=-1",
		"trace snaplen=65536 buffer=4096", /* cannot hold two records */
	};
	struct fx *fx = *state;
	uint32_t snap, buf;
	char err[200];

	(void)fx;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(om_trace_parse_request(bad[i], &snap, &buf, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 10);
	}
	assert_false(om_trace_is_request("tracer"));
	assert_false(om_trace_is_request("status"));
	assert_int_equal(om_trace_parse_request("trace", &snap, &buf, err, sizeof(err)), 0);
	assert_int_equal(snap, OM_TRACE_SNAPLEN_DEFAULT);
	assert_int_equal(buf, OM_TRACE_BUFFER_DEFAULT);
	assert_int_equal(om_trace_parse_request("trace snaplen=0 buffer=1048576", &snap, &buf, err,
						sizeof(err)), 0);
	assert_int_equal(snap, VIRTIO_OM_MAX_PAYLOAD); /* 0: whole payloads */
	assert_int_equal(buf, 1048576);
}

static void listeners_are_bounded(void **state)
{
	struct fx *fx = *state;
	struct om_trace_conn conns[OM_TRACE_MAX_LISTENERS];

	for (int i = 0; i < OM_TRACE_MAX_LISTENERS; i++) {
		assert_int_equal(attach(fx, "trace buffer=65536", 0), 0);
		conns[i] = fx->conn;
	}
	fx->listening = false;
	assert_int_equal(attach(fx, "trace", 0), -EBUSY);
	assert_int_equal(fx->h.d.n_trace_listeners, OM_TRACE_MAX_LISTENERS);
	for (int i = 0; i < OM_TRACE_MAX_LISTENERS; i++)
		om_trace_conn_close(&conns[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(no_listener_no_cost, setup, teardown),
		cmocka_unit_test_setup_teardown(records_carry_stamped_header_and_payload_head, setup,
						teardown),
		cmocka_unit_test_setup_teardown(undeliverable_messages_are_traced, setup, teardown),
		cmocka_unit_test_setup_teardown(queued_messages_are_traced_once, setup, teardown),
		cmocka_unit_test_setup_teardown(control_messages_are_traced, setup, teardown),
		cmocka_unit_test_setup_teardown(slow_listener_misses_counted_relay_unharmed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(gone_listener_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(listener_breaking_its_ring_is_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(listener_reading_along_gets_everything, setup,
						teardown),
		cmocka_unit_test_setup_teardown(sleeping_listener_is_woken_once, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_refused_with_a_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(listeners_are_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
