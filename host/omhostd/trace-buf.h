/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A trace listener's bounded buffer (trace-wire.h records): omhostd
 * appends records as it relays and sends them when the listener's socket
 * takes them. A record that does not fit is not waited for: it is counted
 * as missed, and a MISSED record tells the listener how many before the
 * next record it gets. Pure memory work, no sockets: unit-tested.
 */
#ifndef OM_HOSTD_TRACE_BUF_H
#define OM_HOSTD_TRACE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "trace-wire.h"

struct om_trace_buf {
	unsigned char *data;
	size_t cap;		/* bytes */
	size_t head;		/* first byte not yet sent */
	size_t used;		/* bytes waiting to be sent */
	uint64_t missed;	/* records lost since the last MISSED record written */
	uint64_t missed_total;	/* records lost since attach */
	uint64_t records;	/* message records written */
};

/* 0 or -ENOMEM. */
int om_trace_buf_init(struct om_trace_buf *b, size_t cap);
void om_trace_buf_free(struct om_trace_buf *b);

/* The size of a message record carrying caplen payload bytes. */
size_t om_trace_msg_size(uint32_t caplen);

/* Appends n raw bytes (the answer line before the records); false when they do not fit. */
bool om_trace_buf_put_bytes(struct om_trace_buf *b, const void *p, size_t n);

/*
 * Appends a message record: hdr is the message's header in wire format,
 * its first caplen payload bytes are at byte off of the iovec array
 * (copied straight from there: guest memory, for the relay). A MISSED
 * record owed goes first. When the two do not fit, the record is counted
 * as missed: false.
 */
bool om_trace_buf_put_msg(struct om_trace_buf *b, uint64_t time_ns, uint32_t event,
			  const unsigned char hdr[VIRTIO_OM_HDR_SIZE], const struct iovec *payload,
			  unsigned int n, size_t off, uint32_t caplen);

/* Writes the MISSED record owed, if any and if it fits (the listener caught up). */
void om_trace_buf_put_missed(struct om_trace_buf *b, uint64_t time_ns);

/* The bytes waiting, as up to two spans (the ring wraps); returns how many spans. */
unsigned int om_trace_buf_peek(const struct om_trace_buf *b, struct iovec iov[2]);

/* Forgets the first n waiting bytes (sent). */
void om_trace_buf_consume(struct om_trace_buf *b, size_t n);

#endif /* OM_HOSTD_TRACE_BUF_H */
