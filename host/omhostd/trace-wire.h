/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The trace stream: what omhostd sends a trace listener (omtrace) on the
 * control socket after it answered "trace ..." with "ok trace ...\n".
 * Shared by omhostd (trace.c) and its readers (host/trace/); described in
 * docs/tracing.md.
 *
 * A stream of records, little-endian, each starting with the same 16-byte
 * head and OM_TRACE_ALIGN-aligned in size:
 *   0 kind (u16)  2 reserved (u16, 0)  4 size (u32, the whole record)
 *   8 time (u64, ns since the epoch, CLOCK_REALTIME, when omhostd relayed
 *     it; read at most 16 records apart within one event-loop callback, the
 *     records between share the reading)
 * then, for OM_TRACE_REC_MSG:
 *   16 event (u32, enum om_trace_event)  20 caplen (u32: payload bytes here)
 *   24 the message's 48-byte virtio-om header, as relayed (src_node stamped)
 *   72 the first caplen bytes of its payload, zero padding to the size
 * and for OM_TRACE_REC_MISSED (records this listener lost, its buffer full):
 *   16 count (u64, lost since the previous record)  24 total (u64, since attach)
 */
#ifndef OM_HOSTD_TRACE_WIRE_H
#define OM_HOSTD_TRACE_WIRE_H

#include <linux/virtio_om.h>

#define OM_TRACE_VERSION 1

enum om_trace_rec_kind {
	OM_TRACE_REC_MSG = 1,
	OM_TRACE_REC_MISSED = 2,
};

/* What happened to a message. */
enum om_trace_event {
	OM_TRACE_RELAYED = 1,	    /* written into its destination's rx ring */
	OM_TRACE_UNDELIVERABLE = 2, /* dropped: its destination is down (counted as undeliverable) */
};

enum om_trace_wire_size {
	OM_TRACE_ALIGN = 8,
	OM_TRACE_HEAD_SIZE = 16,
	OM_TRACE_MSG_FIXED = OM_TRACE_HEAD_SIZE + 8 + VIRTIO_OM_HDR_SIZE, /* 72 */
	OM_TRACE_MISSED_SIZE = OM_TRACE_HEAD_SIZE + 16,
};

/* A listener's request: "trace [snaplen=BYTES] [buffer=BYTES]\n". */
#define OM_TRACE_SNAPLEN_DEFAULT 128u
#define OM_TRACE_BUFFER_DEFAULT (4u << 20)
#define OM_TRACE_BUFFER_MIN (4u << 10)
#define OM_TRACE_BUFFER_MAX (64u << 20)
/* Listeners at once; one more is refused with an error line. */
#define OM_TRACE_MAX_LISTENERS 8

#endif /* OM_HOSTD_TRACE_WIRE_H */
