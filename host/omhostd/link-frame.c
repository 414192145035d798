// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay links' frames: codec and checks (link-frame.h). Everything a peer
 * sends passes here before the link acts on it; nothing here trusts a
 * length or a field it has not checked.
 */
#include "link-frame.h"

#include <endian.h>
#include <string.h>

const char *om_link_verdict_name(enum om_link_verdict v)
{
	static const char *const names[OM_LINK_VERDICT_COUNT] = {
		[OM_LINK_OK] = "ok",
		[OM_LINK_BAD_VERSION] = "unknown frame version",
		[OM_LINK_BAD_TYPE] = "unknown frame type",
		[OM_LINK_BAD_FLAGS] = "flags or reserved not zero",
		[OM_LINK_BAD_LENGTH] = "length not allowed for the type",
		[OM_LINK_BAD_SEQ] = "sequence number out of order",
		[OM_LINK_BAD_ACK] = "acknowledges a frame never sent",
		[OM_LINK_BAD_HELLO] = "HELLO missing, repeated or not matching the peer",
		[OM_LINK_BAD_NODE_EVENT] = "node event malformed",
		[OM_LINK_BAD_CREDIT] = "credit malformed",
		[OM_LINK_BAD_MESSAGE] = "carried message malformed",
		[OM_LINK_FOREIGN_SOURCE] = "speaks for a node the peer does not own",
		[OM_LINK_BAD_DESTINATION] = "message for a node not served here",
		[OM_LINK_CREDIT_EXCEEDED] = "more than the destination's credit",
	};
	return (unsigned int)v < OM_LINK_VERDICT_COUNT ? names[v] : "?";
}

static uint16_t get16(const unsigned char *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return le64toh(v);
}

static void put16(unsigned char *p, size_t off, uint16_t v)
{
	v = htole16(v);
	memcpy(p + off, &v, sizeof(v));
}

static void put32(unsigned char *p, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(p + off, &v, sizeof(v));
}

static void put64(unsigned char *p, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(p + off, &v, sizeof(v));
}

void om_link_frame_decode(const void *p, struct om_link_frame *f)
{
	const unsigned char *b = p;

	f->version = get16(b, offsetof(struct om_link_hdr, version));
	f->type = get16(b, offsetof(struct om_link_hdr, type));
	f->len = get32(b, offsetof(struct om_link_hdr, len));
	f->seq = get64(b, offsetof(struct om_link_hdr, seq));
	f->ack = get64(b, offsetof(struct om_link_hdr, ack));
	f->flags = get32(b, offsetof(struct om_link_hdr, flags));
	f->reserved = get32(b, offsetof(struct om_link_hdr, reserved));
}

void om_link_frame_encode(const struct om_link_frame *f, void *p)
{
	unsigned char *b = p;

	put16(b, offsetof(struct om_link_hdr, version), f->version);
	put16(b, offsetof(struct om_link_hdr, type), f->type);
	put32(b, offsetof(struct om_link_hdr, len), f->len);
	put64(b, offsetof(struct om_link_hdr, seq), f->seq);
	put64(b, offsetof(struct om_link_hdr, ack), f->ack);
	put32(b, offsetof(struct om_link_hdr, flags), f->flags);
	put32(b, offsetof(struct om_link_hdr, reserved), f->reserved);
}

enum om_link_verdict om_link_check_header(const struct om_link_frame *f)
{
	bool ok;

	if (f->version != OM_LINK_VERSION)
		return OM_LINK_BAD_VERSION;
	if (f->flags || f->reserved)
		return OM_LINK_BAD_FLAGS;
	switch (f->type) {
	case OM_LINK_T_HELLO:
		ok = f->len == OM_LINK_HELLO_SIZE;
		break;
	case OM_LINK_T_DATA:
		ok = f->len >= VIRTIO_OM_HDR_SIZE && f->len <= OM_LINK_MAX_FRAME_PAYLOAD;
		break;
	case OM_LINK_T_NODE:
		ok = f->len == OM_LINK_NODE_SIZE;
		break;
	case OM_LINK_T_CREDIT:
		ok = f->len >= OM_LINK_CREDITS_SIZE + OM_LINK_CREDIT_SIZE &&
		     f->len <= OM_LINK_CREDITS_SIZE + OM_LINK_MAX_CREDITS * OM_LINK_CREDIT_SIZE &&
		     (f->len - OM_LINK_CREDITS_SIZE) % OM_LINK_CREDIT_SIZE == 0;
		break;
	case OM_LINK_T_HEARTBEAT:
		ok = f->len == 0;
		break;
	default:
		return OM_LINK_BAD_TYPE;
	}
	if (!ok)
		return OM_LINK_BAD_LENGTH;
	/* Sequenced frames are numbered from 1; the others carry none. */
	if (om_link_sequenced(f->type) ? f->seq == 0 : f->seq != 0)
		return OM_LINK_BAD_SEQ;
	return OM_LINK_OK;
}

static bool om_link_range_valid(const struct om_link_range *r)
{
	return r->first >= 1 && r->first <= r->last && r->last <= VIRTIO_OM_MAX_NODES;
}

enum om_link_verdict om_link_decode_hello(const void *p, uint32_t len, struct om_link_hello_v *out)
{
	const unsigned char *b = p;

	if (len != OM_LINK_HELLO_SIZE)
		return OM_LINK_BAD_LENGTH;
	if (get32(b, offsetof(struct om_link_hello, magic)) != OM_LINK_MAGIC)
		return OM_LINK_BAD_HELLO;
	out->max_payload = get32(b, offsetof(struct om_link_hello, max_payload));
	out->session = get64(b, offsetof(struct om_link_hello, session));
	out->peer_session = get64(b, offsetof(struct om_link_hello, peer_session));
	out->tx_base = get64(b, offsetof(struct om_link_hello, tx_base));
	out->range.first = get32(b, offsetof(struct om_link_hello, first_node));
	out->range.last = get32(b, offsetof(struct om_link_hello, last_node));
	if (!out->session || !out->max_payload || out->max_payload > VIRTIO_OM_MAX_PAYLOAD ||
	    !om_link_range_valid(&out->range))
		return OM_LINK_BAD_HELLO;
	return OM_LINK_OK;
}

enum om_link_verdict om_link_decode_data(const void *p, uint32_t len,
					 const struct om_link_range *peer,
					 const struct om_link_range *self, uint32_t max_payload,
					 struct om_msg_hdr *out)
{
	if (len < VIRTIO_OM_HDR_SIZE || len > OM_LINK_MAX_FRAME_PAYLOAD)
		return OM_LINK_BAD_LENGTH;
	om_msg_hdr_decode(p, out);
	/*
	 * Source first: a peer speaking for a node it does not own is the
	 * rule that matters most, whatever else is wrong with the message.
	 */
	if (!om_link_in_range(peer, out->src_node))
		return OM_LINK_FOREIGN_SOURCE;
	if (om_msg_check_from_guest(out, len, out->src_node, max_payload) != OM_MSG_OK)
		return OM_LINK_BAD_MESSAGE;
	if (!om_link_in_range(self, out->dst_node))
		return OM_LINK_BAD_DESTINATION;
	return OM_LINK_OK;
}

enum om_link_verdict om_link_decode_node(const void *p, uint32_t len,
					 const struct om_link_range *peer,
					 struct om_link_node_v *out)
{
	const unsigned char *b = p;
	bool up_reason, down_reason;

	if (len != OM_LINK_NODE_SIZE)
		return OM_LINK_BAD_LENGTH;
	out->node = get32(b, offsetof(struct om_link_node, node));
	out->state = get16(b, offsetof(struct om_link_node, state));
	out->reason = get16(b, offsetof(struct om_link_node, reason));
	if (!om_link_in_range(peer, out->node))
		return OM_LINK_FOREIGN_SOURCE;
	up_reason = out->reason == VIRTIO_OM_NODE_JOINED || out->reason == VIRTIO_OM_NODE_RECONNECTED;
	down_reason = out->reason == VIRTIO_OM_NODE_DISCONNECTED ||
		      out->reason == VIRTIO_OM_NODE_EVICTED;
	if (!(out->state == OM_LINK_NODE_UP && up_reason) &&
	    !(out->state == OM_LINK_NODE_DOWN && down_reason))
		return OM_LINK_BAD_NODE_EVENT;
	return OM_LINK_OK;
}

enum om_link_verdict om_link_decode_credits(const void *p, uint32_t len,
					    const struct om_link_range *peer,
					    struct om_link_credit_v *out, uint32_t *n)
{
	const unsigned char *b = p;
	uint32_t count;

	if (len < OM_LINK_CREDITS_SIZE)
		return OM_LINK_BAD_LENGTH;
	count = get32(b, offsetof(struct om_link_credits, count));
	if (!count || count > OM_LINK_MAX_CREDITS ||
	    len != OM_LINK_CREDITS_SIZE + (uint64_t)count * OM_LINK_CREDIT_SIZE)
		return OM_LINK_BAD_LENGTH;
	if (get32(b, offsetof(struct om_link_credits, reserved)))
		return OM_LINK_BAD_CREDIT;
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *e = b + OM_LINK_CREDITS_SIZE + (size_t)i * OM_LINK_CREDIT_SIZE;

		out[i].node = get32(e, offsetof(struct om_link_credit, node));
		out[i].buf_alloc = get32(e, offsetof(struct om_link_credit, buf_alloc));
		out[i].fwd_cnt = get32(e, offsetof(struct om_link_credit, fwd_cnt));
		if (!om_link_in_range(peer, out[i].node))
			return OM_LINK_FOREIGN_SOURCE;
		if (get32(e, offsetof(struct om_link_credit, reserved)) ||
		    out[i].buf_alloc < VIRTIO_OM_HDR_SIZE + 1)
			return OM_LINK_BAD_CREDIT;
	}
	*n = count;
	return OM_LINK_OK;
}

static size_t om_link_put_header(void *p, uint16_t type, uint32_t len, uint64_t seq, uint64_t ack)
{
	struct om_link_frame f = { .version = OM_LINK_VERSION, .type = type, .len = len,
				   .seq = seq, .ack = ack };

	om_link_frame_encode(&f, p);
	return OM_LINK_HDR_SIZE;
}

size_t om_link_encode_hello(void *p, uint64_t ack, const struct om_link_hello_v *h)
{
	unsigned char *b = (unsigned char *)p + om_link_put_header(p, OM_LINK_T_HELLO,
								   OM_LINK_HELLO_SIZE, 0, ack);

	put32(b, offsetof(struct om_link_hello, magic), OM_LINK_MAGIC);
	put32(b, offsetof(struct om_link_hello, max_payload), h->max_payload);
	put64(b, offsetof(struct om_link_hello, session), h->session);
	put64(b, offsetof(struct om_link_hello, peer_session), h->peer_session);
	put64(b, offsetof(struct om_link_hello, tx_base), h->tx_base);
	put32(b, offsetof(struct om_link_hello, first_node), h->range.first);
	put32(b, offsetof(struct om_link_hello, last_node), h->range.last);
	return OM_LINK_HDR_SIZE + OM_LINK_HELLO_SIZE;
}

size_t om_link_encode_node(void *p, uint64_t seq, uint64_t ack, const struct om_link_node_v *n)
{
	unsigned char *b = (unsigned char *)p + om_link_put_header(p, OM_LINK_T_NODE,
								   OM_LINK_NODE_SIZE, seq, ack);

	put32(b, offsetof(struct om_link_node, node), n->node);
	put16(b, offsetof(struct om_link_node, state), n->state);
	put16(b, offsetof(struct om_link_node, reason), n->reason);
	return OM_LINK_HDR_SIZE + OM_LINK_NODE_SIZE;
}

size_t om_link_encode_heartbeat(void *p, uint64_t ack)
{
	return om_link_put_header(p, OM_LINK_T_HEARTBEAT, 0, 0, ack);
}

size_t om_link_encode_credits(void *p, uint64_t ack, const struct om_link_credit_v *c, uint32_t n)
{
	uint32_t len = OM_LINK_CREDITS_SIZE + n * OM_LINK_CREDIT_SIZE;
	unsigned char *b = (unsigned char *)p + om_link_put_header(p, OM_LINK_T_CREDIT, len, 0, ack);

	put32(b, offsetof(struct om_link_credits, count), n);
	put32(b, offsetof(struct om_link_credits, reserved), 0);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char *e = b + OM_LINK_CREDITS_SIZE + (size_t)i * OM_LINK_CREDIT_SIZE;

		put32(e, offsetof(struct om_link_credit, node), c[i].node);
		put32(e, offsetof(struct om_link_credit, buf_alloc), c[i].buf_alloc);
		put32(e, offsetof(struct om_link_credit, fwd_cnt), c[i].fwd_cnt);
		put32(e, offsetof(struct om_link_credit, reserved), 0);
	}
	return OM_LINK_HDR_SIZE + len;
}

size_t om_link_encode_data_header(void *p, uint64_t seq, uint64_t ack, const struct om_msg_hdr *h)
{
	return om_link_put_header(p, OM_LINK_T_DATA, VIRTIO_OM_HDR_SIZE + h->len, seq, ack);
}

void om_link_reader_reset(struct om_link_reader *r)
{
	r->have = 0;
	r->whole = false;
	r->to = NULL;
}

size_t om_link_reader_space(struct om_link_reader *r, unsigned char **p)
{
	if (r->whole)
		om_link_reader_reset(r);
	if (r->have < OM_LINK_HDR_SIZE) {
		*p = r->hdr + r->have;
		return OM_LINK_HDR_SIZE - r->have;
	}
	*p = om_link_reader_payload(r) + (r->have - OM_LINK_HDR_SIZE);
	return OM_LINK_HDR_SIZE + r->f.len - r->have;
}

enum om_link_read om_link_reader_took(struct om_link_reader *r, size_t n,
				      enum om_link_verdict *verdict)
{
	bool had_hdr = r->have >= OM_LINK_HDR_SIZE;

	r->have += n;
	if (r->have < OM_LINK_HDR_SIZE)
		return OM_LINK_READ_MORE;
	if (!had_hdr) {
		om_link_frame_decode(r->hdr, &r->f);
		*verdict = om_link_check_header(&r->f);
		if (*verdict != OM_LINK_OK)
			return OM_LINK_READ_BAD;
	}
	/* The header passed: its len is at most OM_LINK_MAX_FRAME_PAYLOAD. */
	if (r->have < OM_LINK_HDR_SIZE + (size_t)r->f.len)
		return OM_LINK_READ_MORE;
	r->whole = true;
	return OM_LINK_READ_FRAME;
}

enum om_link_read om_link_reader_feed(struct om_link_reader *r, const void *buf, size_t len,
				      size_t *used, enum om_link_verdict *verdict)
{
	const unsigned char *b = buf;
	enum om_link_read res = OM_LINK_READ_MORE;

	*used = 0;
	do {
		unsigned char *p;
		size_t take = om_link_reader_space(r, &p);

		if (take > len - *used)
			take = len - *used;
		memcpy(p, b + *used, take);
		*used += take;
		res = om_link_reader_took(r, take, verdict);
	} while (res == OM_LINK_READ_MORE && *used < len);
	return res;
}
