// SPDX-License-Identifier: GPL-2.0-only
/*
 * A trace listener's bounded buffer (host/omhostd/trace-buf.c): records
 * go in whole or not at all, around the end of the ring too; what does not
 * fit is counted, and the listener learns the count from a MISSED record
 * placed where the gap is, before the next record it gets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "record.h"
#include "trace-buf.h"

static unsigned char out[1 << 16];
static size_t out_len;

/* Takes up to max bytes out of the buffer, as sends would. */
static void take(struct om_trace_buf *b, size_t max)
{
	struct iovec iov[2];
	unsigned int n = om_trace_buf_peek(b, iov);
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < max; i++) {
		size_t c = iov[i].iov_len < max - done ? iov[i].iov_len : max - done;

		memcpy(out + out_len, iov[i].iov_base, c);
		out_len += c;
		done += c;
	}
	om_trace_buf_consume(b, done);
}

static void put(struct om_trace_buf *b, uint64_t seq, uint32_t caplen, bool fits)
{
	unsigned char hdr[VIRTIO_OM_HDR_SIZE], snap[256];
	/* The payload in two pieces, after 5 bytes of something else, as in a ring. */
	struct iovec iov[2] = { { snap, 20 }, { snap + 20, sizeof(snap) - 20 } };
	struct om_msg_hdr h = { .version = 1, .type = VIRTIO_OM_T_TEST_DATA, .src_node = 1,
				.dst_node = 2, .seq = seq, .len = 1000 };

	om_msg_hdr_encode(&h, hdr);
	for (uint32_t i = 0; i < caplen; i++)
		snap[5 + i] = (unsigned char)(seq * 7 + i);
	assert_int_equal(om_trace_buf_put_msg(b, seq * 10, OM_TRACE_RELAYED, hdr, iov, 2, 5, caplen),
			 fits);
}

/* Checks the records taken out: seqs in order, MISSED where a gap is. */
static void check_out(const uint64_t *want_seq, size_t n_want, uint64_t want_missed_at,
		      uint64_t want_missed)
{
	size_t off = 0, i = 0;
	struct om_trace_rec r;
	bool saw_missed = false;

	while (off < out_len) {
		long n = om_trace_rec_parse(out + off, out_len - off, &r);

		assert_true(n > 0);
		off += (size_t)n;
		if (r.kind == OM_TRACE_REC_MISSED) {
			assert_int_equal(r.missed, want_missed);
			assert_int_equal(i, want_missed_at); /* before the record after the gap */
			saw_missed = true;
			continue;
		}
		assert_true(i < n_want);
		assert_int_equal(r.h.seq, want_seq[i]);
		assert_int_equal(r.time_ns, want_seq[i] * 10);
		for (uint32_t k = 0; k < r.caplen; k++)
			assert_int_equal(r.payload[k], (unsigned char)(want_seq[i] * 7 + k));
		i++;
	}
	assert_int_equal(i, n_want);
	assert_int_equal(saw_missed, want_missed != 0);
}

static void records_wrap_around_the_ring(void **state)
{
	struct om_trace_buf b;
	uint64_t seqs[40];

	(void)state;
	out_len = 0;
	assert_int_equal(om_trace_buf_init(&b, 1000), 0);
	/* 136-byte records (caplen 61 pads to 8): take some, put more, across the end. */
	for (uint64_t s = 1; s <= 40; s++) {
		put(&b, s, 61, true);
		seqs[s - 1] = s;
		if (s % 3 == 0)
			take(&b, 3 * om_trace_msg_size(61)); /* 1000 is no multiple: records wrap */
	}
	take(&b, SIZE_MAX);
	check_out(seqs, 40, 0, 0);
	assert_int_equal(b.records, 40);
	assert_int_equal(b.missed_total, 0);
	om_trace_buf_free(&b);
}

static void full_buffer_counts_missed_and_says_so_at_the_gap(void **state)
{
	size_t cap = 5 * om_trace_msg_size(32);
	struct om_trace_buf b;
	uint64_t seqs[] = { 1, 2, 3, 4, 5, 9, 10 };

	(void)state;
	out_len = 0;
	assert_int_equal(om_trace_buf_init(&b, cap), 0);
	for (uint64_t s = 1; s <= 5; s++)
		put(&b, s, 32, true);
	for (uint64_t s = 6; s <= 8; s++)
		put(&b, s, 32, false); /* full: counted, not waited for */
	assert_int_equal(b.missed, 3);
	assert_int_equal(b.missed_total, 3);
	take(&b, 2 * om_trace_msg_size(32)); /* room for MISSED and one record */
	put(&b, 9, 32, true);
	assert_int_equal(b.missed, 0);
	take(&b, SIZE_MAX);
	put(&b, 10, 32, true);
	take(&b, SIZE_MAX);
	check_out(seqs, 7, 5, 3);
	assert_int_equal(b.missed_total, 3);
	om_trace_buf_free(&b);
}

static void missed_record_needs_room_too(void **state)
{
	size_t cap = 2 * om_trace_msg_size(0);
	struct om_trace_buf b;

	(void)state;
	assert_int_equal(om_trace_buf_init(&b, cap), 0);
	put(&b, 1, 0, true);
	put(&b, 2, 0, true);
	put(&b, 3, 0, false);
	/* One record's room is not enough for MISSED + the record: missed again. */
	out_len = 0;
	take(&b, om_trace_msg_size(0));
	put(&b, 4, 0, false);
	assert_int_equal(b.missed_total, 2);
	/* The listener caught up with no new record: the MISSED record goes alone. */
	take(&b, SIZE_MAX);
	om_trace_buf_put_missed(&b, 99);
	assert_int_equal(b.missed, 0);
	out_len = 0;
	take(&b, SIZE_MAX);
	{
		struct om_trace_rec r;

		assert_int_equal(om_trace_rec_parse(out, out_len, &r), OM_TRACE_MISSED_SIZE);
		assert_int_equal(r.kind, OM_TRACE_REC_MISSED);
		assert_int_equal(r.missed, 2);
		assert_int_equal(r.missed_total, 2);
		assert_int_equal(r.time_ns, 99);
	}
	om_trace_buf_free(&b);
}

static void raw_bytes_fit_or_not(void **state)
{
	struct om_trace_buf b;

	(void)state;
	assert_int_equal(om_trace_buf_init(&b, 16), 0);
	assert_true(om_trace_buf_put_bytes(&b, "ok trace\n", 9));
	assert_false(om_trace_buf_put_bytes(&b, "0123456789", 10));
	assert_int_equal(b.used, 9);
	om_trace_buf_free(&b);
}

static void malformed_stream_records_refused(void **state)
{
	unsigned char rec[OM_TRACE_MISSED_SIZE] = { 0 };
	struct om_trace_rec r;

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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_wrap_around_the_ring),
		cmocka_unit_test(full_buffer_counts_missed_and_says_so_at_the_gap),
		cmocka_unit_test(missed_record_needs_room_too),
		cmocka_unit_test(raw_bytes_fit_or_not),
		cmocka_unit_test(malformed_stream_records_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
