// SPDX-License-Identifier: GPL-2.0-only
/*
 * omtrace's pcapng writer and reader (host/trace/pcapng.c): what is
 * written reads back the same, record for record, with the statistics
 * block; files that are not omvm captures, or are cut short, are refused
 * with a reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pcapng.h"

#define N 50

static unsigned char payloads[N][300];

static struct om_trace_rec make(unsigned int i)
{
	struct om_trace_rec r = { .time_ns = 1700000000123456789ull + i * 1001ull };

	if (i % 17 == 16) {
		r.kind = OM_TRACE_REC_MISSED;
		r.missed = i;
		r.missed_total = 1000 + i;
		return r;
	}
	r.kind = OM_TRACE_REC_MSG;
	r.event = i % 5 == 4 ? OM_TRACE_UNDELIVERABLE : OM_TRACE_RELAYED;
	r.h = (struct om_msg_hdr){ .version = 1, .type = VIRTIO_OM_T_TEST_DATA, .flags = i % 2,
				   .src_node = 1 + i % 3, .dst_node = 3 - i % 3, .src_pid = i,
				   .dst_pid = 2 * i, .seq = i + 1, .reply_to = i, .len = 10 * i + 300 };
	r.caplen = i * 6 % 301; /* 0..300, some padded */
	for (uint32_t b = 0; b < r.caplen; b++)
		payloads[i][b] = (unsigned char)(i ^ b);
	r.payload = payloads[i];
	om_msg_hdr_encode(&r.h, r.raw_hdr);
	return r;
}

static FILE *write_sample(void)
{
	struct om_pcapng_writer w;
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(om_pcapng_start(&w, f, "omhostd:/tmp/x", 300), 0);
	for (unsigned int i = 0; i < N; i++) {
		struct om_trace_rec r = make(i);

		assert_int_equal(om_pcapng_write(&w, &r), 0);
	}
	assert_int_equal(om_pcapng_finish(&w, 47, 3), 0);
	rewind(f);
	return f;
}

static void round_trip(void **state)
{
	struct om_pcapng_reader rd;
	struct om_trace_rec got;
	char err[200];
	FILE *f = write_sample();

	(void)state;
	assert_int_equal(om_pcapng_open(&rd, f, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < N; i++) {
		struct om_trace_rec want = make(i);

		assert_int_equal(om_pcapng_next(&rd, &got, err, sizeof(err)), 1);
		assert_int_equal(got.kind, want.kind);
		assert_int_equal(got.time_ns, want.time_ns);
		if (want.kind == OM_TRACE_REC_MISSED) {
			assert_int_equal(got.missed, want.missed);
			assert_int_equal(got.missed_total, want.missed_total);
			continue;
		}
		assert_int_equal(got.event, want.event);
		assert_memory_equal(got.raw_hdr, want.raw_hdr, VIRTIO_OM_HDR_SIZE);
		assert_int_equal(got.h.seq, want.h.seq);
		assert_int_equal(got.h.len, want.h.len);
		assert_int_equal(got.caplen, want.caplen);
		if (want.caplen)
			assert_memory_equal(got.payload, want.payload, want.caplen);
	}
	assert_int_equal(om_pcapng_next(&rd, &got, err, sizeof(err)), 0);
	assert_true(rd.have_stats);
	assert_int_equal(rd.stats_received, 47);
	assert_int_equal(rd.stats_missed, 3);
	om_pcapng_close(&rd);
	fclose(f);
}

/* The sample's bytes, to damage. */
static unsigned char *sample_bytes(size_t *len)
{
	FILE *f = write_sample();
	unsigned char *b;

	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	b = malloc(*len);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

/* Reads bytes as a capture: 0 when all read, or the error. */
static int read_all(const unsigned char *b, size_t len, char *err, size_t errlen)
{
	struct om_pcapng_reader rd;
	struct om_trace_rec r;
	FILE *f = fmemopen((void *)b, len, "rb");
	int rc;

	assert_non_null(f);
	rc = om_pcapng_open(&rd, f, err, errlen);
	while (!rc && (rc = om_pcapng_next(&rd, &r, err, errlen)) == 1)
		rc = 0;
	om_pcapng_close(&rd); /* also after a failed open: it left nothing to free */
	fclose(f);
	return rc;
}

static void damaged_files_refused(void **state)
{
	size_t len, idb;
	unsigned char *b = sample_bytes(&len);
	char err[200] = "";

	(void)state;
	assert_int_equal(read_all(b, len, err, sizeof(err)), 0);
	/* Cut inside a block. */
	assert_int_equal(read_all(b, len - 10, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "ends inside"));
	/* Not pcapng at all. */
	assert_int_equal(read_all((const unsigned char *)"GIF89a....", 10, err, sizeof(err)), -EPROTO);
	/* Another link-layer type: not an omvm trace. */
	idb = b[4] | b[5] << 8; /* the section header's length */
	b[idb + 8] = 1;		/* LINKTYPE_ETHERNET */
	assert_int_equal(read_all(b, len, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "link-layer type 1"));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(damaged_files_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
