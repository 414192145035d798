/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One trace record (host/omhostd/trace-wire.h) as omtrace works with it,
 * whether it came from omhostd's stream or from a capture file, and the
 * parser of the stream's records.
 */
#ifndef OM_TRACE_RECORD_H
#define OM_TRACE_RECORD_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "om_hdr.h"
#include "trace-wire.h"

struct om_trace_rec {
	enum om_trace_rec_kind kind;
	uint64_t time_ns; /* since the epoch */
	/* OM_TRACE_REC_MSG */
	uint32_t event;	  /* enum om_trace_event */
	unsigned char raw_hdr[VIRTIO_OM_HDR_SIZE]; /* as on the wire */
	struct om_msg_hdr h;
	uint32_t caplen;		/* payload bytes captured, <= h.len */
	const unsigned char *payload;	/* caplen bytes, owned by the reader */
	/* OM_TRACE_REC_MISSED */
	uint64_t missed, missed_total;
	/*
	 * OM_TRACE_REC_LINK: event (OM_TRACE_LINK_*), the peer, the frame's
	 * header (raw and decoded; zeros for LINK_UP, LINK_DOWN), and caplen
	 * bytes of its payload in payload (LINK_DOWN: why, as text).
	 */
	char peer[OM_TRACE_PEER_SIZE];
	unsigned char raw_link[OM_LINK_HDR_SIZE];
	struct om_trace_link_hdr {
		uint16_t version, type;
		uint32_t len;
		uint64_t seq, ack;
		uint32_t flags, reserved;
	} link;
};

/* Little-endian fields of records, at any alignment. */
static inline uint16_t om_trace_le16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t om_trace_le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t om_trace_le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/*
 * Parses the record at p (avail bytes of a trace stream): its size in
 * bytes, 0 when p holds only part of it, -EPROTO when it is malformed.
 * r->payload points into p.
 */
long om_trace_rec_parse(const unsigned char *p, size_t avail, struct om_trace_rec *r);

/* Decodes a link frame's 32-byte header as it is on the wire. */
void om_trace_link_hdr_decode(const unsigned char *p, struct om_trace_link_hdr *h);

/*
 * A link record read from anywhere (event, peer, raw_link, caplen and
 * payload set): checks what no record of omhostd's breaks (a known event,
 * the name terminated, no more payload than the header's len, or 255
 * bytes of text) and decodes the header, and a DATA frame's message
 * header into h. 0 or -EPROTO.
 */
int om_trace_link_settle(struct om_trace_rec *r);

/* The largest record omhostd sends: a link's DATA frame whole (snaplen 0). */
#define OM_TRACE_REC_MAX (OM_TRACE_LINK_FIXED + OM_LINK_MAX_FRAME_PAYLOAD + OM_TRACE_ALIGN)

#endif /* OM_TRACE_RECORD_H */
