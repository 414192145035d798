// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: what omtrace reads from files and sockets, and what
 * omhostd reads from a trace listener. The input's first byte picks the
 * reader: a capture file (host/trace/pcapng.c, anyone's file), a trace
 * ring as omhostd shares it (ring-reader.c: the input gives its tail, head
 * and bytes), or a control request line (omhostd's trace.c). Every
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
#include "ring-reader.h"

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
	} else if (size > 16 && data[0] % 3 == 1) {
		static _Alignas(64) unsigned char mem[OM_TRACE_RING_CTL_SIZE + OM_TRACE_BUFFER_MIN];
		struct om_trace_ring_ctl *ctl = (struct om_trace_ring_ctl *)mem;
		size_t n = size - 17 < OM_TRACE_BUFFER_MIN ? size - 17 : OM_TRACE_BUFFER_MIN;
		struct om_trace_ring_reader rr;

		memset(mem, 0, sizeof(mem));
		*ctl = (struct om_trace_ring_ctl){ .magic = OM_TRACE_RING_MAGIC,
						   .version = OM_TRACE_VERSION,
						   .data_off = OM_TRACE_RING_CTL_SIZE,
						   .ring_size = OM_TRACE_BUFFER_MIN };
		memcpy(&ctl->tail, data + 1, 8);
		memcpy(&ctl->head, data + 9, 8);
		memcpy(mem + OM_TRACE_RING_CTL_SIZE, data + 17, n);
		if (om_trace_ring_reader_init(&rr, mem, sizeof(mem)))
			abort();
		/* At most a ring's worth of records: the head never moves here. */
		for (int i = 0; i < 1024 && om_trace_ring_reader_next(&rr, &r) == 1; i++)
			fz_show(sink, &r);
	} else if (size) {
		size_t n = size - 1 < sizeof(line) - 1 ? size - 1 : sizeof(line) - 1;

		memcpy(line, data + 1, n);
		line[n] = '\0';
		om_trace_parse_request(line, &snap, &buf, err, sizeof(err));
	}
	fclose(sink);
	return 0;
}
