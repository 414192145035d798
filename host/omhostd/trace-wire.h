/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A trace listener's ring: what omhostd shares with a trace listener
 * (omtrace) after it asked "trace ..." on the control socket. Shared by
 * omhostd (trace.c, trace-ring.c) and its readers (host/trace/); described
 * in docs/tracing.md.
 *
 * omhostd answers "ok trace ...\n" and passes, with that line (SCM_RIGHTS),
 * a memory file sealed against resizing: a control page (struct
 * om_trace_ring_ctl), then the ring, ring_size bytes (a power of two).
 * omhostd writes records into the ring and moves head; the listener reads
 * them in place and moves tail. Both count bytes since the attach (u64,
 * never wrapping); a position's place in the ring is pos & (ring_size - 1).
 * A record never crosses the ring's end: where the next one would, omhostd
 * writes a PAD record to the end (of which only kind and size count).
 * After the answer the socket carries one byte from omhostd for each time
 * the listener said it sleeps and the records it waits for came; omhostd
 * closing it ends the trace (the records before head are still to be read).
 *
 * Records, little-endian, each starting with the same 16-byte head and
 * OM_TRACE_ALIGN-aligned in size:
 *   0 kind (u16)  2 reserved (u16, 0)  4 size (u32, the whole record)
 *   8 time (u64, ns since the epoch, CLOCK_REALTIME, when omhostd relayed
 *     it; read at most 16 records apart within one event-loop callback, the
 *     records between share the reading)
 * then, for OM_TRACE_REC_MSG:
 *   16 event (u32, enum om_trace_event)  20 caplen (u32: payload bytes here)
 *   24 the message's 48-byte virtio-om header, as relayed (src_node stamped)
 *   72 the first caplen bytes of its payload, zero padding to the size
 * and for OM_TRACE_REC_LINK (a relay link's frame, or the link going up or
 * down; protocol.md, "Relay links"):
 *   16 event (u32, OM_TRACE_LINK_*)  20 caplen (u32: bytes here after the header)
 *   24 the peer relay's name (OM_TRACE_PEER_SIZE bytes, NUL-padded)
 *   88 the frame's 32-byte header as on the wire (LINK_UP, LINK_DOWN: zeros)
 *   120 the first caplen bytes of the frame's payload (LINK_DOWN: why, as
 *     text), zero padding to the size
 * and for OM_TRACE_REC_MISSED (records this listener lost, its ring full):
 *   16 count (u64, lost since the previous record)  24 total (u64, since attach)
 * A PAD record (OM_TRACE_REC_PAD) may be 8 bytes: kind, reserved and size.
 */
#ifndef OM_HOSTD_TRACE_WIRE_H
#define OM_HOSTD_TRACE_WIRE_H

#include <linux/om_link.h>
#include <linux/virtio_om.h>

#include <stdint.h>

/* 3: OM_TRACE_REC_LINK records (a version 2 reader would take them for malformed). */
#define OM_TRACE_VERSION 3

/* The shared memory's first page; the ring follows at data_off. */
#define OM_TRACE_RING_MAGIC 0x52544d4fu /* "OMTR" */
#define OM_TRACE_RING_CTL_SIZE 4096u

/*
 * Each side writes only its own fields, on cache lines of their own, so
 * that neither side's stores slow the other's reads of its own line.
 */
struct om_trace_ring_ctl {
	/* Written by omhostd before the listener sees it, then constant. */
	uint32_t magic;
	uint32_t version;
	uint32_t data_off;  /* OM_TRACE_RING_CTL_SIZE */
	uint32_t ring_size; /* bytes, a power of two */
	uint8_t reserved0[48];
	/* omhostd's: bytes written since attach, stored with release order. */
	uint64_t head;
	uint8_t reserved1[56];
	/* The listener's: bytes read since attach (omhostd checks it: tail <= head). */
	uint64_t tail;
	/*
	 * The listener's: 0 while it runs; before it sleeps in poll() on the
	 * socket, wake_head (wake me once head reaches it), then a new nonzero
	 * number here, then head read again (seq_cst). omhostd, after moving
	 * head to wake_head or past it, sends one byte for each number it sees.
	 */
	uint32_t sleeping;
	uint32_t reserved2;
	uint64_t wake_head;
	uint8_t reserved3[40];
};

_Static_assert(sizeof(struct om_trace_ring_ctl) == 192, "om_trace_ring_ctl layout");

enum om_trace_rec_kind {
	OM_TRACE_REC_MSG = 1,
	OM_TRACE_REC_MISSED = 2,
	OM_TRACE_REC_PAD = 3, /* to the ring's end */
	OM_TRACE_REC_LINK = 4,
};

/* What happened to a message. */
enum om_trace_event {
	OM_TRACE_RELAYED = 1,	    /* written into its destination's rx ring */
	OM_TRACE_UNDELIVERABLE = 2, /* dropped: its destination is down (counted as undeliverable) */
	/* 3 is a capture's missed-records packet (tracing.md, "Capture format"). */
	/* What happened on a relay link (OM_TRACE_REC_LINK). */
	OM_TRACE_LINK_TX = 4,	    /* a frame queued for the peer (sent as TLS takes it) */
	OM_TRACE_LINK_RX = 5,	    /* a frame received whole from the peer, before its checks */
	OM_TRACE_LINK_UP = 6,	    /* the link is up: TLS done, its HELLO goes */
	OM_TRACE_LINK_DOWN = 7,	    /* the link was cut; the payload says why */
};

/* A peer relay's name in a link record: --name's at most 63 characters and a NUL. */
#define OM_TRACE_PEER_SIZE 64

enum om_trace_wire_size {
	OM_TRACE_ALIGN = 8,
	OM_TRACE_HEAD_SIZE = 16,
	OM_TRACE_MSG_FIXED = OM_TRACE_HEAD_SIZE + 8 + VIRTIO_OM_HDR_SIZE, /* 72 */
	OM_TRACE_MISSED_SIZE = OM_TRACE_HEAD_SIZE + 16,
	OM_TRACE_LINK_FIXED = OM_TRACE_HEAD_SIZE + 8 + OM_TRACE_PEER_SIZE + OM_LINK_HDR_SIZE, /* 120 */
	OM_TRACE_PAD_MIN = 8,
};

/*
 * A listener's request: "trace [snaplen=BYTES] [buffer=BYTES]\n"; the ring
 * is the buffer rounded up to a power of two.
 */
#define OM_TRACE_SNAPLEN_DEFAULT 128u
#define OM_TRACE_BUFFER_DEFAULT (4u << 20)
#define OM_TRACE_BUFFER_MIN (4u << 10)
#define OM_TRACE_BUFFER_MAX (64u << 20)
/* Listeners at once; one more is refused with an error line. */
#define OM_TRACE_MAX_LISTENERS 8

#endif /* OM_HOSTD_TRACE_WIRE_H */
