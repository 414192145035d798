/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A trace listener's side of its ring (host/omhostd/trace-wire.h): records
 * read in place from the memory omhostd shares, and the positions and
 * sleep numbers the listener writes back. Memory work only: attach.c does
 * the socket and the waiting.
 */
#ifndef OM_TRACE_RING_READER_H
#define OM_TRACE_RING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct om_trace_ring_reader {
	struct om_trace_ring_ctl *ctl;
	const unsigned char *data;
	uint64_t size;	   /* ring bytes */
	uint64_t pos;	   /* the next byte to read */
	uint64_t head;	   /* omhostd's head, as last read */
	uint64_t released; /* the tail as last stored */
	uint32_t sleep_no; /* the last number stored in sleeping */
};

/*
 * Checks the control page of the len bytes mapped at mem (the whole
 * memory file) and starts reading at the ring's tail. 0, or -EPROTO when
 * it is not a ring of this version or does not fit len.
 */
int om_trace_ring_reader_init(struct om_trace_ring_reader *rd, void *mem, size_t len);

/*
 * The next record: 1, 0 when omhostd has published none yet, -EPROTO
 * when what it published is malformed. r->payload points into the ring
 * and stays valid until the next call, which gives the record's bytes back.
 */
int om_trace_ring_reader_next(struct om_trace_ring_reader *rd, struct om_trace_rec *r);

/*
 * About to sleep until at least bytes more bytes of records came (8: any
 * record): says so to omhostd with a new sleep number, then looks at head
 * again. True when they have not come (sleep, until a byte on the socket);
 * false when they have (the sleep is called off).
 */
bool om_trace_ring_reader_sleep(struct om_trace_ring_reader *rd, uint64_t bytes);
/* Awake again: omhostd need not send more bytes. */
void om_trace_ring_reader_wake(struct om_trace_ring_reader *rd);

#endif /* OM_TRACE_RING_READER_H */
