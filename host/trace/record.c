// SPDX-License-Identifier: GPL-2.0-only
#include "record.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

void om_trace_link_hdr_decode(const unsigned char *p, struct om_trace_link_hdr *h)
{
	h->version = om_trace_le16(p);
	h->type = om_trace_le16(p + 2);
	h->len = om_trace_le32(p + 4);
	h->seq = om_trace_le64(p + 8);
	h->ack = om_trace_le64(p + 16);
	h->flags = om_trace_le32(p + 24);
	h->reserved = om_trace_le32(p + 28);
}

int om_trace_link_settle(struct om_trace_rec *r)
{
	bool frame = r->event == OM_TRACE_LINK_TX || r->event == OM_TRACE_LINK_RX;

	if (!frame && r->event != OM_TRACE_LINK_UP && r->event != OM_TRACE_LINK_DOWN)
		return -EPROTO;
	/* The name ends within its field. */
	if (r->peer[OM_TRACE_PEER_SIZE - 1])
		return -EPROTO;
	om_trace_link_hdr_decode(r->raw_link, &r->link);
	if (frame ? r->caplen > r->link.len : r->caplen > 255)
		return -EPROTO;
	/* A DATA frame's message header, for the filters (whose fields only: not checked). */
	if (frame && r->link.type == OM_LINK_T_DATA && r->caplen >= VIRTIO_OM_HDR_SIZE)
		om_msg_hdr_decode(r->payload, &r->h);
	return 0;
}

/* A link record's fields, of size bytes at p; -EPROTO when malformed. */
static long om_trace_link_parse(const unsigned char *p, uint32_t size, struct om_trace_rec *r)
{
	if (size < OM_TRACE_LINK_FIXED)
		return -EPROTO;
	r->event = om_trace_le32(p + 16);
	r->caplen = om_trace_le32(p + 20);
	if ((uint64_t)OM_TRACE_LINK_FIXED + r->caplen > size)
		return -EPROTO;
	memcpy(r->peer, p + OM_TRACE_HEAD_SIZE + 8, OM_TRACE_PEER_SIZE);
	memcpy(r->raw_link, p + OM_TRACE_LINK_FIXED - OM_LINK_HDR_SIZE, OM_LINK_HDR_SIZE);
	r->payload = p + OM_TRACE_LINK_FIXED;
	if (om_trace_link_settle(r))
		return -EPROTO;
	return size;
}

long om_trace_rec_parse(const unsigned char *p, size_t avail, struct om_trace_rec *r)
{
	uint32_t size;

	if (avail < OM_TRACE_HEAD_SIZE)
		return 0;
	size = om_trace_le32(p + 4);
	if (size < OM_TRACE_HEAD_SIZE || size % OM_TRACE_ALIGN || size > OM_TRACE_REC_MAX ||
	    om_trace_le16(p + 2))
		return -EPROTO;
	if (avail < size)
		return 0;
	/*
	 * Each field set, rather than the whole record cleared first: at full
	 * speed clearing it was a third of a listener's cost per record.
	 */
	r->kind = om_trace_le16(p);
	r->time_ns = om_trace_le64(p + 8);
	r->missed = r->missed_total = 0;
	r->event = r->caplen = 0;
	r->payload = NULL;
	switch (r->kind) {
	case OM_TRACE_REC_MSG:
		if (size < OM_TRACE_MSG_FIXED)
			return -EPROTO;
		r->event = om_trace_le32(p + 16);
		r->caplen = om_trace_le32(p + 20);
		memcpy(r->raw_hdr, p + 24, VIRTIO_OM_HDR_SIZE);
		om_msg_hdr_decode(r->raw_hdr, &r->h);
		if ((uint64_t)OM_TRACE_MSG_FIXED + r->caplen > size || r->caplen > r->h.len ||
		    (r->event != OM_TRACE_RELAYED && r->event != OM_TRACE_UNDELIVERABLE))
			return -EPROTO;
		r->payload = p + OM_TRACE_MSG_FIXED;
		break;
	case OM_TRACE_REC_LINK:
		memset(&r->h, 0, sizeof(r->h));
		return om_trace_link_parse(p, size, r);
	case OM_TRACE_REC_MISSED:
		if (size != OM_TRACE_MISSED_SIZE)
			return -EPROTO;
		memset(r->raw_hdr, 0, sizeof(r->raw_hdr));
		memset(&r->h, 0, sizeof(r->h));
		r->missed = om_trace_le64(p + 16);
		r->missed_total = om_trace_le64(p + 24);
		break;
	default:
		return -EPROTO;
	}
	return size;
}
