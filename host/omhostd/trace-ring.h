/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omhostd's side of a trace listener's ring (trace-wire.h): records are
 * written straight into memory the listener maps, and become its to read
 * when head is published. A record that does not fit is not waited for:
 * it is counted as missed, and a MISSED record tells the listener how many
 * before the next record it gets. The listener's tail is read, never
 * trusted: one that is impossible marks the ring broken. Memory work
 * only, no sockets: unit-tested.
 */
#ifndef OM_HOSTD_TRACE_RING_H
#define OM_HOSTD_TRACE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "trace-wire.h"

struct om_trace_ring {
	struct om_trace_ring_ctl *ctl; /* shared: the memory file's first page */
	unsigned char *data;	       /* shared: the ring */
	size_t map_len;
	uint64_t size;		/* ring bytes, a power of two */
	uint64_t head;		/* bytes written; published at om_trace_ring_publish() */
	uint64_t tail;		/* the listener's tail, as last read */
	uint32_t woken;		/* the listener's last sleep a wake-up was owed for */
	bool broken;		/* the listener wrote an impossible tail */
	uint64_t missed;	/* records lost since the last MISSED record written */
	uint64_t missed_total;	/* records lost since attach */
	uint64_t records;	/* message records written */
};

/* The ring's size for a requested buffer: rounded up to a power of two. */
uint64_t om_trace_ring_size(uint32_t buffer);

/*
 * Creates the memory file (sealed against shrinking and growing, so that
 * a listener cannot make omhostd's stores fault) with a ring of
 * om_trace_ring_size(buffer) bytes, maps it and sets its control page.
 * 0 and the file in *memfd (the caller passes it on, then closes it), or
 * -errno.
 */
int om_trace_ring_create(struct om_trace_ring *r, uint32_t buffer, int *memfd);
void om_trace_ring_destroy(struct om_trace_ring *r);

/* The size of a message record carrying caplen payload bytes. */
size_t om_trace_msg_size(uint32_t caplen);

/*
 * Writes a message record: hdr is the message's header in wire format,
 * its first caplen payload bytes are at byte off of the iovec array
 * (copied straight from there: guest memory, for the relay). A MISSED
 * record owed goes first. When the two do not fit, the record is counted
 * as missed: false.
 */
bool om_trace_ring_put_msg(struct om_trace_ring *r, uint64_t time_ns, uint32_t event,
			   const unsigned char hdr[VIRTIO_OM_HDR_SIZE], const struct iovec *payload,
			   unsigned int n, size_t off, uint32_t caplen);

/*
 * Writes a link record (trace-wire.h): event, the peer's name (cut at
 * OM_TRACE_PEER_SIZE - 1), the frame's header (NULL: zeros) and caplen
 * bytes of payload. As om_trace_ring_put_msg(): false when counted as missed.
 */
bool om_trace_ring_put_link(struct om_trace_ring *r, uint64_t time_ns, uint32_t event,
			    const char *peer, const unsigned char *hdr, const unsigned char *payload,
			    uint32_t caplen);

/* Writes the MISSED record owed, if any and if it fits (the listener caught up). */
void om_trace_ring_put_missed(struct om_trace_ring *r, uint64_t time_ns);

/*
 * Makes what was written visible to the listener. True when the listener
 * said it sleeps until head reaches a point head has reached, and was not
 * owed a wake-up for that sleep yet: the caller sends it one byte.
 */
bool om_trace_ring_publish(struct om_trace_ring *r);

/* Bytes written that the listener had not read when its tail was last looked at. */
static inline uint64_t om_trace_ring_unread(const struct om_trace_ring *r)
{
	return r->head - r->tail;
}

#endif /* OM_HOSTD_TRACE_RING_H */
