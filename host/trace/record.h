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

/* The largest record omhostd sends. */
#define OM_TRACE_REC_MAX (OM_TRACE_MSG_FIXED + VIRTIO_OM_MAX_PAYLOAD + OM_TRACE_ALIGN)

#endif /* OM_TRACE_RECORD_H */
