// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: what omtrace reads from files and sockets, and what
 * omhostd reads from a trace listener. The input's first byte picks the
 * reader: a capture file (host/trace/pcapng.c, anyone's file), a trace
 * stream (record.c), or a control request line (omhostd's trace.c). Every
 * record read is decoded and printed as omtrace would. Nothing may crash,
 * read out of bounds or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "omhostd.h"
#include "pcapng.h"
#include "print.h"

static void fz_show(FILE *sink, const struct om_trace_rec *r)
{
	char fields[1024];

	if (r->kind == OM_TRACE_REC_MSG)
		om_fields_text(r->h.type, r->payload, r->caplen, fields, sizeof(fields));
	om_print_text(sink, r, NULL);
	om_print_json(sink, r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *sink = fopen("/dev/null", "w");
	struct om_pcapng_reader rd;
	struct om_trace_rec r;
	char err[256], line[200];
	uint32_t snap, buf;

	if (!sink)
		abort();
	if (size && data[0] % 3 == 0) {
		FILE *f = fmemopen((void *)(data + 1), size - 1, "rb");

		if (f && !om_pcapng_open(&rd, f, err, sizeof(err))) {
			while (om_pcapng_next(&rd, &r, err, sizeof(err)) == 1)
				fz_show(sink, &r);
			om_pcapng_close(&rd);
		}
		if (f)
			fclose(f);
	} else if (size && data[0] % 3 == 1) {
		size_t off = 1;
		long n;

		while ((n = om_trace_rec_parse(data + off, size - off, &r)) > 0) {
			fz_show(sink, &r);
			off += (size_t)n;
		}
	} else if (size) {
		size_t n = size - 1 < sizeof(line) - 1 ? size - 1 : sizeof(line) - 1;

		memcpy(line, data + 1, n);
		line[n] = '\0';
		om_trace_parse_request(line, &snap, &buf, err, sizeof(err));
	}
	fclose(sink);
	return 0;
}
