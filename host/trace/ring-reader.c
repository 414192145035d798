// SPDX-License-Identifier: GPL-2.0-only
#include "ring-reader.h"

#include <errno.h>
#include <string.h>

int om_trace_ring_reader_init(struct om_trace_ring_reader *rd, void *mem, size_t len)
{
	struct om_trace_ring_ctl *ctl = mem;
	uint64_t size, tail;

	memset(rd, 0, sizeof(*rd));
	if (len < OM_TRACE_RING_CTL_SIZE || ctl->magic != OM_TRACE_RING_MAGIC ||
	    ctl->version != OM_TRACE_VERSION || ctl->data_off != OM_TRACE_RING_CTL_SIZE)
		return -EPROTO;
	size = ctl->ring_size;
	if (size < OM_TRACE_BUFFER_MIN || (size & (size - 1)) || len - OM_TRACE_RING_CTL_SIZE < size)
		return -EPROTO;
	tail = __atomic_load_n(&ctl->tail, __ATOMIC_RELAXED);
	rd->ctl = ctl;
	rd->data = (const unsigned char *)mem + OM_TRACE_RING_CTL_SIZE;
	rd->size = size;
	rd->pos = rd->head = rd->released = tail;
	return 0;
}

int om_trace_ring_reader_next(struct om_trace_ring_reader *rd, struct om_trace_rec *r)
{
	/* The previous record is read: its bytes are omhostd's again. */
	if (rd->released != rd->pos) {
		__atomic_store_n(&rd->ctl->tail, rd->pos, __ATOMIC_RELEASE);
		rd->released = rd->pos;
	}
	for (;;) {
		uint64_t at = rd->pos & (rd->size - 1), to_end = rd->size - at, avail;
		const unsigned char *p = rd->data + at;
		long n;

		if (rd->pos == rd->head) {
			rd->head = __atomic_load_n(&rd->ctl->head, __ATOMIC_ACQUIRE);
			if (rd->pos == rd->head)
				return 0;
		}
		avail = rd->head - rd->pos;
		if (avail > rd->size || avail % OM_TRACE_ALIGN)
			return -EPROTO; /* head impossible */
		if (avail > to_end)
			avail = to_end; /* records never cross the end */
		if (avail >= OM_TRACE_PAD_MIN && om_trace_le16(p) == OM_TRACE_REC_PAD) {
			if (om_trace_le32(p + 4) != to_end)
				return -EPROTO; /* a PAD goes to the end exactly */
			rd->pos += to_end;
			continue;
		}
		n = om_trace_rec_parse(p, (size_t)avail, r);
		if (n <= 0)
			return -EPROTO; /* published, so whole: a part record is malformed */
		rd->pos += (uint64_t)n;
		return 1;
	}
}

bool om_trace_ring_reader_sleep(struct om_trace_ring_reader *rd, uint64_t bytes)
{
	uint64_t wake_head = rd->pos + (bytes ? bytes : 1);

	if (++rd->sleep_no == 0)
		rd->sleep_no = 1;
	__atomic_store_n(&rd->ctl->wake_head, wake_head, __ATOMIC_RELAXED);
	__atomic_store_n(&rd->ctl->sleeping, rd->sleep_no, __ATOMIC_SEQ_CST);
	/* Pairs with omhostd's store of head and its load of sleeping (om_trace_ring_publish). */
	rd->head = __atomic_load_n(&rd->ctl->head, __ATOMIC_SEQ_CST);
	if (rd->head < wake_head)
		return true;
	om_trace_ring_reader_wake(rd);
	return false;
}

void om_trace_ring_reader_wake(struct om_trace_ring_reader *rd)
{
	__atomic_store_n(&rd->ctl->sleeping, 0, __ATOMIC_RELAXED);
}
