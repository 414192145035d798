// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: what a peer relay sends over a link, after TLS
 * (docs/protocol.md, "Relay links"). The input's first byte sets how the
 * stream is cut into reads (bits 0-5: 1 to 63 bytes, 0: as much as the
 * reader takes) and what the local side does between frames (bit 6: hold
 * what came instead of delivering it; bit 7: node 2 down, node 3 not up
 * yet instead of all up); the rest is the
 * peer's byte stream, read by link-frame.c's reader and taken by one
 * link-session.c session (this side nodes 1-4, the peer 5-8), which has
 * sent a few messages of its own so that acknowledgements and credits
 * have something to act on. A frame that breaks a rule cuts the link:
 * the session disconnects and connects again, the stream goes on (as a
 * peer that reconnects). After each frame the session's invariants are
 * checked; nothing may crash, read out of bounds or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link-frame.h"
#include "link-session.h"

struct fz {
	uint8_t mode;
	uint64_t settled;
};

static enum om_link_dest_state fz_dest_state(void *ctx, uint32_t node)
{
	const struct fz *z = ctx;

	if (!(z->mode & 0x80))
		return OM_LINK_DEST_UP;
	return node == 2 ? OM_LINK_DEST_DOWN : node == 3 ? OM_LINK_DEST_AWAITED : OM_LINK_DEST_UP;
}

static void fz_settled(void *ctx, const struct om_link_item *it)
{
	struct fz *z = ctx;

	if (!it->token)
		abort(); /* only messages given a token are reported */
	z->settled++;
}

static const struct om_link_session_ops fz_ops = { .dest_state = fz_dest_state,
						    .settled = fz_settled };

/* What must hold whatever the peer sent. */
static void fz_check(const struct om_link_session *s)
{
	uint32_t held = 0;

	if (om_link_session_ack(s) > s->rx_seq || s->tx_acked > s->tx_seq ||
	    s->unacked_bytes > s->cfg.unacked_bytes_max + VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD)
		abort();
	for (uint32_t n = s->cfg.self.first; n <= s->cfg.self.last; n++) {
		const struct om_link_in_dest *in = om_link_session_in(s, n);
		const struct om_link_item *it;

		if (in->bytes > s->cfg.credit_bytes)
			abort(); /* a peer may never hold more of our memory than the credit */
		TAILQ_FOREACH(it, &in->held, link)
			held++;
	}
	if (held != s->held_n)
		abort();
}

/* Sends a message from local node src to the peer's node dst (a token for each). */
static void fz_push(struct om_link_session *s, uint32_t src, uint32_t dst, uint32_t len,
		    uint64_t token)
{
	static unsigned char payload[256];
	struct iovec iov = { payload, len };
	struct om_msg_hdr h = { .version = VIRTIO_OM_PROTOCOL_VERSION,
				.type = VIRTIO_OM_T_TEST_DATA, .src_node = src, .dst_node = dst,
				.seq = token, .len = len };

	om_link_session_push(s, &h, &iov, 1, 0, token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct om_link_reader rd; /* 64 KiB of payload: not on the stack */
	const size_t max_input = 1u << 18; /* a few whole frames of the largest */
	struct om_link_session_config cfg = {
		.self = { 1, 4 }, .peer = { 5, 8 }, .max_payload = VIRTIO_OM_MAX_PAYLOAD,
		.credit_bytes = 2 * (VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD),
		.outbox_bytes = 1u << 20, .outbox_msgs = 16, .unacked_bytes_max = 1u << 20,
	};
	struct om_link_session s;
	struct fz z = { 0 };
	size_t off = 1;

	if (!size || size > max_input)
		return 0;
	z.mode = data[0];
	if (om_link_session_init(&s, &cfg, &fz_ops, &z, 0x1234))
		abort();
	for (uint32_t i = 0; i < 6; i++)
		fz_push(&s, 1 + i % 4, 5 + i % 4, i * 40, i + 1);
	om_link_session_local_node(&s, 1, true, VIRTIO_OM_NODE_JOINED);
	om_link_session_connected(&s);
	om_link_reader_reset(&rd);
	while (off < size) {
		size_t chunk = (z.mode & 0x3f) ? (z.mode & 0x3f) : size - off, used = 0;
		enum om_link_verdict v = OM_LINK_OK;
		enum om_link_read r;
		bool nomem = false;
		const void *out;

		if (chunk > size - off)
			chunk = size - off;
		r = om_link_reader_feed(&rd, data + off, chunk, &used, &v);
		if (!used && r == OM_LINK_READ_MORE)
			abort(); /* a reader that takes nothing would hang its caller */
		off += used;
		if (r == OM_LINK_READ_FRAME)
			v = om_link_session_input(&s, &rd.f, rd.payload, &nomem);
		if (r == OM_LINK_READ_MORE)
			continue; /* nothing happened yet: the checks wait for a frame */
		if (v != OM_LINK_OK) {
			/* The link is cut; the peer connects again and the stream goes on. */
			om_link_session_disconnected(&s);
			om_link_session_connected(&s);
			om_link_reader_reset(&rd);
		}
		fz_check(&s);
		/* The local guests take what they were sent, or not (held: acks wait). */
		if (!(z.mode & 0x40))
			for (uint32_t n = 1; n <= 4; n++)
				while (om_link_session_held(&s, n))
					om_link_session_done(&s, n, false);
		if (om_link_session_pump(&s))
			abort(); /* no allocation fails here */
		om_link_session_written(&s, om_link_session_pending(&s, &out));
		fz_check(&s);
	}
	/* A peer gone for good: everything goes, each sent message settled once. */
	om_link_session_forget_peer(&s, 0x5678);
	if (z.settled != 6)
		abort();
	om_link_session_free(&s);
	return 0;
}
