/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omtrace's output of one record: a line for people, or a JSON object on
 * one line for scripts (docs/tracing.md gives both formats).
 */
#ifndef OM_TRACE_PRINT_H
#define OM_TRACE_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

/* The latency of a reply, when its request was seen. */
struct om_reply_info {
	bool known;
	uint64_t ns;
	uint16_t req_type;
};

void om_print_text(FILE *out, const struct om_trace_rec *r, const struct om_reply_info *ri);
void om_print_json(FILE *out, const struct om_trace_rec *r, const struct om_reply_info *ri);

#endif /* OM_TRACE_PRINT_H */
