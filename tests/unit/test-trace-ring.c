// SPDX-License-Identifier: GPL-2.0-only
/*
 * A trace listener's ring, both sides: omhostd's writer
 * (host/omhostd/trace-ring.c) and the listener's reader
 * (host/trace/ring-reader.c), each on its own mapping of the same memory
 * file, as in two processes. Records go in whole or not at all, around the
 * ring's end too; what does not fit is counted, and the listener learns the
 * count from a MISSED record placed where the gap is. A tail the listener
 * could not have written breaks the ring; the memory cannot be resized;
 * each sleep the listener announces is owed one wake-up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "record.h"
#include "ring-reader.h"
#include "trace-ring.h"

struct fx {
	struct om_trace_ring w; /* omhostd's side */
	void *map;		/* the listener's mapping */
	size_t map_len;
	struct om_trace_ring_reader rd;
	int memfd;
};

static void fx_open(struct fx *fx, uint32_t buffer)
{
	assert_int_equal(om_trace_ring_create(&fx->w, buffer, &fx->memfd), 0);
	fx->map_len = OM_TRACE_RING_CTL_SIZE + fx->w.size;
	fx->map = mmap(NULL, fx->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fx->memfd, 0);
	assert_true(fx->map != MAP_FAILED);
	assert_int_equal(om_trace_ring_reader_init(&fx->rd, fx->map, fx->map_len), 0);
}

static void fx_close(struct fx *fx)
{
	munmap(fx->map, fx->map_len);
	close(fx->memfd);
	om_trace_ring_destroy(&fx->w);
}

static void put(struct fx *fx, uint64_t seq, uint32_t caplen, bool fits)
{
	unsigned char hdr[VIRTIO_OM_HDR_SIZE], snap[300];
	/* The payload in two pieces, after 5 bytes of something else, as in a ring. */
	struct iovec iov[2] = { { snap, 20 }, { snap + 20, sizeof(snap) - 20 } };
	struct om_msg_hdr h = { .version = 1, .type = VIRTIO_OM_T_TEST_DATA, .src_node = 1,
				.dst_node = 2, .seq = seq, .len = 1000 };

	om_msg_hdr_encode(&h, hdr);
	for (uint32_t i = 0; i < caplen; i++)
		snap[5 + i] = (unsigned char)(seq * 7 + i);
	assert_int_equal(om_trace_ring_put_msg(&fx->w, seq * 10, OM_TRACE_RELAYED, hdr, iov, 2, 5,
					       caplen),
			 fits);
}

/*
 * Reads up to max published records, checking each: the next expected seq
 * (*next, moved on; a MISSED record must come where the seq jumps and say
 * by how much). Returns how many records were read.
 */
static unsigned int take(struct fx *fx, unsigned int max, uint64_t *next, uint64_t *missed_seen)
{
	struct om_trace_rec r;
	unsigned int n = 0;
	uint64_t owed = 0;

	om_trace_ring_publish(&fx->w);
	while (n < max && om_trace_ring_reader_next(&fx->rd, &r) == 1) {
		if (r.kind == OM_TRACE_REC_MISSED) {
			owed = r.missed;
			*missed_seen += r.missed;
			continue;
		}
		assert_int_equal(r.kind, OM_TRACE_REC_MSG);
		assert_int_equal(r.h.seq, *next + owed); /* a gap only where MISSED says */
		assert_int_equal(r.time_ns, r.h.seq * 10);
		for (uint32_t k = 0; k < r.caplen; k++)
			assert_int_equal(r.payload[k], (unsigned char)(r.h.seq * 7 + k));
		*next = r.h.seq + 1;
		owed = 0;
		n++;
	}
	return n;
}

static void records_wrap_around_the_ring(void **state)
{
	struct fx fx;
	uint64_t next = 1, missed = 0, s;
	unsigned int got = 0;

	(void)state;
	fx_open(&fx, 4096);
	/* Records of several sizes, so that some would cross the end: a PAD goes there. */
	for (s = 1; s <= 400; s++) {
		put(&fx, s, (uint32_t)(s % 5) * 61, true);
		if (s % 3 == 0)
			got += take(&fx, 3, &next, &missed);
	}
	got += take(&fx, 1000, &next, &missed);
	assert_int_equal(got, 400);
	assert_int_equal(next, 401);
	assert_int_equal(missed, 0);
	assert_int_equal(fx.w.records, 400);
	assert_true(fx.w.head > 4 * fx.w.size); /* went around several times */
	fx_close(&fx);
}

static void full_ring_counts_missed_and_says_so_at_the_gap(void **state)
{
	size_t rec = om_trace_msg_size(200);
	uint64_t s = 1, next = 1, missed = 0;
	unsigned int fitting;
	struct fx fx;

	(void)state;
	fx_open(&fx, 4096);
	fitting = (unsigned int)(4096 / rec);
	for (; s <= fitting; s++)
		put(&fx, s, 200, true);
	for (unsigned int i = 0; i < 3; i++, s++)
		put(&fx, s, 200, false); /* full: counted, not waited for */
	assert_int_equal(fx.w.missed, 3);
	assert_int_equal(fx.w.missed_total, 3);
	/* Two records given back (the third is still being read): room for MISSED, PAD, one. */
	assert_int_equal(take(&fx, 3, &next, &missed), 3);
	put(&fx, s++, 200, true);
	assert_int_equal(fx.w.missed, 0);
	assert_int_equal(take(&fx, 1000, &next, &missed), fitting - 3 + 1);
	put(&fx, s++, 200, true);
	assert_int_equal(take(&fx, 1000, &next, &missed), 1);
	assert_int_equal(missed, 3);
	assert_int_equal(next, s);
	fx_close(&fx);
}

static void missed_record_needs_room_too(void **state)
{
	size_t rec = om_trace_msg_size(0);
	uint64_t next = 1, missed = 0, s;
	unsigned int fitting = (unsigned int)(4096 / rec);
	struct om_trace_rec r;
	struct fx fx;

	(void)state;
	fx_open(&fx, 4096);
	for (s = 1; s <= fitting; s++)
		put(&fx, s, 0, true);
	put(&fx, s++, 0, false);
	/* One record's room is not enough for MISSED + the record: missed again. */
	assert_int_equal(take(&fx, 1, &next, &missed), 1);
	put(&fx, s++, 0, false);
	assert_int_equal(fx.w.missed_total, 2);
	/* The listener caught up with no new record: the MISSED record goes alone. */
	assert_int_equal(take(&fx, 1000, &next, &missed), fitting - 1);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), 0);
	om_trace_ring_put_missed(&fx.w, 99);
	assert_int_equal(fx.w.missed, 0);
	om_trace_ring_publish(&fx.w);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), 1);
	assert_int_equal(r.kind, OM_TRACE_REC_MISSED);
	assert_int_equal(r.missed, 2);
	assert_int_equal(r.missed_total, 2);
	assert_int_equal(r.time_ns, 99);
	fx_close(&fx);
}

/* A listener writes a tail it cannot have: behind its last one, mid-record, or past head. */
static void impossible_tail_breaks_the_ring(void **state)
{
	static const int64_t bad[] = { -8, 1, 1 << 20 };
	unsigned char hdr[VIRTIO_OM_HDR_SIZE] = { 0 };
	struct om_trace_ring_ctl *ctl;
	struct om_trace_rec r;
	struct fx fx;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t s = 1;
		int tries = 0;

		fx_open(&fx, 4096);
		ctl = fx.map;
		/* The listener reads a few; the writer fills on until it has looked at the tail. */
		for (; s <= 10; s++)
			put(&fx, s, 100, true);
		om_trace_ring_publish(&fx.w);
		for (int k = 0; k < 5; k++)
			assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), 1);
		while (!fx.w.tail)
			put(&fx, s++, 100, true);
		assert_false(fx.w.broken);
		ctl->tail = (uint64_t)((int64_t)fx.w.tail + bad[i]);
		/* It looks again when a record does not fit as last seen. */
		while (!fx.w.broken && tries++ < 100)
			(void)om_trace_ring_put_msg(&fx.w, 1, OM_TRACE_RELAYED, hdr, NULL, 0, 0, 0);
		assert_true(fx.w.broken);
		assert_false(om_trace_ring_put_msg(&fx.w, 1, OM_TRACE_RELAYED, hdr, NULL, 0, 0, 0));
		assert_false(om_trace_ring_publish(&fx.w)); /* nothing more for it */
		fx_close(&fx);
	}
}

static void each_sleep_is_owed_one_wakeup(void **state)
{
	size_t rec = om_trace_msg_size(8);
	struct om_trace_rec r;
	struct fx fx;
	uint64_t next = 1, missed = 0;

	(void)state;
	fx_open(&fx, 4096);
	assert_false(om_trace_ring_publish(&fx.w)); /* it does not sleep */
	assert_true(om_trace_ring_reader_sleep(&fx.rd, OM_TRACE_ALIGN));
	put(&fx, 1, 8, true);
	assert_true(om_trace_ring_publish(&fx.w)); /* one byte for this sleep */
	put(&fx, 2, 8, true);
	assert_false(om_trace_ring_publish(&fx.w)); /* not two */
	om_trace_ring_reader_wake(&fx.rd);
	assert_int_equal(take(&fx, 10, &next, &missed), 2);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), 0);
	/* A new sleep, until three records came: no byte for two, one for the third. */
	assert_true(om_trace_ring_reader_sleep(&fx.rd, 3 * rec));
	put(&fx, 3, 8, true);
	put(&fx, 4, 8, true);
	assert_false(om_trace_ring_publish(&fx.w));
	put(&fx, 5, 8, true);
	assert_true(om_trace_ring_publish(&fx.w));
	om_trace_ring_reader_wake(&fx.rd);
	/* What it waits for came before it sleeps: it does not sleep. */
	put(&fx, 6, 8, true);
	om_trace_ring_publish(&fx.w);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), 1);
	assert_false(om_trace_ring_reader_sleep(&fx.rd, 3 * rec));
	/* Not all of it: it sleeps. */
	assert_true(om_trace_ring_reader_sleep(&fx.rd, 10 * rec));
	fx_close(&fx);
}

static void ring_memory_cannot_be_resized(void **state)
{
	struct fx fx;

	(void)state;
	fx_open(&fx, 5000);
	assert_int_equal(fx.w.size, 8192); /* rounded up to a power of two */
	assert_int_equal(ftruncate(fx.memfd, 4096), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(fx.memfd, 1 << 20), -1);
	assert_int_equal(errno, EPERM);
	fx_close(&fx);
}

static void malformed_records_refused(void **state)
{
	unsigned char rec[OM_TRACE_MISSED_SIZE] = { 0 };
	struct om_trace_ring_ctl *ctl;
	struct om_trace_rec r;
	struct fx fx;

	(void)state;
	rec[0] = OM_TRACE_REC_MISSED;
	rec[4] = OM_TRACE_MISSED_SIZE;
	assert_int_equal(om_trace_rec_parse(rec, sizeof(rec), &r), OM_TRACE_MISSED_SIZE);
	assert_int_equal(om_trace_rec_parse(rec, sizeof(rec) - 1, &r), 0); /* needs more */
	rec[4] = 12; /* shorter than a head */
	assert_int_equal(om_trace_rec_parse(rec, sizeof(rec), &r), -EPROTO);
	rec[4] = 33; /* not aligned */
	assert_int_equal(om_trace_rec_parse(rec, sizeof(rec), &r), -EPROTO);
	rec[4] = OM_TRACE_MISSED_SIZE;
	rec[0] = 9; /* unknown kind */
	assert_int_equal(om_trace_rec_parse(rec, sizeof(rec), &r), -EPROTO);
	rec[0] = OM_TRACE_REC_MSG; /* a message record too short */
	assert_int_equal(om_trace_rec_parse(rec, sizeof(rec), &r), -EPROTO);

	/* In a ring: a published record cut short, a PAD not to the end, a head too far. */
	fx_open(&fx, 4096);
	ctl = fx.map;
	rec[0] = OM_TRACE_REC_MISSED;
	memcpy((unsigned char *)fx.map + OM_TRACE_RING_CTL_SIZE, rec, sizeof(rec));
	ctl->head = 16;
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), -EPROTO);
	ctl->head = sizeof(rec);
	assert_int_equal(om_trace_ring_reader_init(&fx.rd, fx.map, fx.map_len), 0);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), 1);
	rec[0] = OM_TRACE_REC_PAD;
	memcpy((unsigned char *)fx.map + OM_TRACE_RING_CTL_SIZE + sizeof(rec), rec, sizeof(rec));
	ctl->head = 2 * sizeof(rec);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), -EPROTO);
	ctl->head = 4096 + 8;
	assert_int_equal(om_trace_ring_reader_init(&fx.rd, fx.map, fx.map_len), 0);
	assert_int_equal(om_trace_ring_reader_next(&fx.rd, &r), -EPROTO);
	fx_close(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_wrap_around_the_ring),
		cmocka_unit_test(full_ring_counts_missed_and_says_so_at_the_gap),
		cmocka_unit_test(missed_record_needs_room_too),
		cmocka_unit_test(impossible_tail_breaks_the_ring),
		cmocka_unit_test(each_sleep_is_owed_one_wakeup),
		cmocka_unit_test(ring_memory_cannot_be_resized),
		cmocka_unit_test(malformed_records_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
