/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Relay links' frames (<linux/om_link.h>, docs/protocol.md "Relay
 * links"): the codec, and every check a frame from a peer must pass
 * before anything acts on it. Pure functions, no state beyond a reader's
 * buffer: unit-tested with hostile frames.
 */
#ifndef OM_HOSTD_LINK_FRAME_H
#define OM_HOSTD_LINK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/om_link.h>

#include "msg.h"

/* The header in host byte order. */
struct om_link_frame {
	uint16_t version, type;
	uint32_t len;
	uint64_t seq, ack;
	uint32_t flags, reserved;
};

/* A node range, first..last. */
struct om_link_range {
	uint32_t first, last;
};

static inline bool om_link_in_range(const struct om_link_range *r, uint32_t node)
{
	return node >= r->first && node <= r->last;
}

struct om_link_hello_v {
	uint32_t max_payload;
	uint64_t session, peer_session, tx_base;
	struct om_link_range range;
};

struct om_link_node_v {
	uint32_t node;
	uint16_t state, reason;
};

struct om_link_credit_v {
	uint32_t node, buf_alloc, fwd_cnt;
};

/* Why a peer's frame was refused: each cuts the link and has its counter. */
enum om_link_verdict {
	OM_LINK_OK = 0,
	OM_LINK_BAD_VERSION,	/* another frame version */
	OM_LINK_BAD_TYPE,	/* a type no one defined */
	OM_LINK_BAD_FLAGS,	/* flags or reserved not zero */
	OM_LINK_BAD_LENGTH,	/* len not what the type allows */
	OM_LINK_BAD_SEQ,	/* seq on an unsequenced type, or a gap */
	OM_LINK_BAD_ACK,	/* acknowledges a frame never sent */
	OM_LINK_BAD_HELLO,	/* HELLO missing, twice, or not matching what the peer is */
	OM_LINK_BAD_NODE_EVENT,	/* a NODE frame's state or reason unknown */
	OM_LINK_BAD_CREDIT,	/* a CREDIT frame's entries malformed */
	OM_LINK_BAD_MESSAGE,	/* the carried virtio-om message fails omhostd's checks */
	OM_LINK_FOREIGN_SOURCE,	/* as a node the peer does not own */
	OM_LINK_BAD_DESTINATION, /* a message for a node not served here */
	OM_LINK_CREDIT_EXCEEDED, /* more for a node than its credit allowed */
	OM_LINK_VERDICT_COUNT
};

const char *om_link_verdict_name(enum om_link_verdict v);

void om_link_frame_decode(const void *p, struct om_link_frame *f);
void om_link_frame_encode(const struct om_link_frame *f, void *p);

/* Whether a frame of this type carries a sequence number. */
static inline bool om_link_sequenced(uint16_t type)
{
	return type == OM_LINK_T_DATA || type == OM_LINK_T_NODE;
}

/* The header's own rules (version, type, flags, length for the type, seq 0 where due). */
enum om_link_verdict om_link_check_header(const struct om_link_frame *f);

/* Payload decoders: each checks the payload whole against the type's rules. */
enum om_link_verdict om_link_decode_hello(const void *p, uint32_t len, struct om_link_hello_v *out);
/*
 * A DATA frame's message: from a node of peer, to a node of self, passing
 * the checks of a guest's message with payloads up to max_payload.
 */
enum om_link_verdict om_link_decode_data(const void *p, uint32_t len,
					 const struct om_link_range *peer,
					 const struct om_link_range *self, uint32_t max_payload,
					 struct om_msg_hdr *out);
enum om_link_verdict om_link_decode_node(const void *p, uint32_t len,
					 const struct om_link_range *peer,
					 struct om_link_node_v *out);
/* Entries into out (room for OM_LINK_MAX_CREDITS), their number in *n. */
enum om_link_verdict om_link_decode_credits(const void *p, uint32_t len,
					    const struct om_link_range *peer,
					    struct om_link_credit_v *out, uint32_t *n);

/* Encoders: append one whole frame at p (room for OM_LINK_HDR_SIZE + payload); its size. */
size_t om_link_encode_hello(void *p, uint64_t ack, const struct om_link_hello_v *h);
size_t om_link_encode_node(void *p, uint64_t seq, uint64_t ack, const struct om_link_node_v *n);
size_t om_link_encode_heartbeat(void *p, uint64_t ack);
/* n entries, 1..OM_LINK_MAX_CREDITS. */
size_t om_link_encode_credits(void *p, uint64_t ack, const struct om_link_credit_v *c, uint32_t n);
/* The DATA frame's header only: the message (48 + h->len bytes) follows it. */
size_t om_link_encode_data_header(void *p, uint64_t seq, uint64_t ack, const struct om_msg_hdr *h);

/*
 * A frame reader over a byte stream: feed what came, take whole frames.
 * The header is checked as soon as it is whole, so a peer cannot make it
 * wait for (or allocate) a payload the header's rules forbid.
 */
struct om_link_reader {
	unsigned char hdr[OM_LINK_HDR_SIZE];
	size_t have;		/* bytes of the current frame read (header, then payload) */
	struct om_link_frame f;	/* once the header is whole */
	bool whole;		/* the frame was handed out: the next feed starts another */
	unsigned char *to;	/* where this frame's payload goes, if not to payload */
	unsigned char payload[OM_LINK_MAX_FRAME_PAYLOAD];
};

/* The current frame's payload. */
static inline unsigned char *om_link_reader_payload(struct om_link_reader *r)
{
	return r->to ? r->to : r->payload;
}

/*
 * The current frame's payload goes to to (room for f.len) instead: given
 * once its header is whole, before any of its payload was taken.
 */
static inline void om_link_reader_payload_to(struct om_link_reader *r, unsigned char *to)
{
	r->to = to;
}

enum om_link_read {
	OM_LINK_READ_MORE,	/* all of buf taken, no whole frame yet */
	OM_LINK_READ_FRAME,	/* a whole frame in r->f and r->payload */
	OM_LINK_READ_BAD,	/* the header broke a rule: *verdict says which */
};

void om_link_reader_reset(struct om_link_reader *r);
/*
 * Takes bytes of buf (len) into r, stopping after one whole frame; *used
 * says how many were taken. After READ_FRAME, the next call starts the next
 * frame.
 */
enum om_link_read om_link_reader_feed(struct om_link_reader *r, const void *buf, size_t len,
				      size_t *used, enum om_link_verdict *verdict);
/*
 * The same without a copy: where the current frame's next bytes go and
 * how many it still needs (the rest of its header, then of its payload,
 * never past the frame: a header is checked before any of its payload is
 * asked for); then how many were put there. After READ_FRAME, the next
 * call starts the next frame. feed is these two.
 */
size_t om_link_reader_space(struct om_link_reader *r, unsigned char **p);
enum om_link_read om_link_reader_took(struct om_link_reader *r, size_t n,
				      enum om_link_verdict *verdict);

#endif /* OM_HOSTD_LINK_FRAME_H */
