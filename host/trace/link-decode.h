/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a relay link's trace record says (OM_TRACE_REC_LINK; the frames are
 * <linux/om_link.h>'s, docs/protocol.md "Relay links"): the frame types'
 * names, and the fields of a frame's payload as far as it was captured,
 * as name and value strings that omtrace's line, its JSON and the
 * dissector's tables share. Decoding is for showing: a frame that broke a
 * rule (the one that cut a link) is shown as it came, fields and all.
 */
#ifndef OM_TRACE_LINK_DECODE_H
#define OM_TRACE_LINK_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct om_link_type_info {
	uint16_t value;
	const char *name; /* "HELLO" */
};
extern const struct om_link_type_info om_link_types[];
extern const size_t om_link_types_count;

/* A frame type's name, or "0xNNNN" in buf for one no one defined. */
const char *om_link_type_label(uint16_t type, char *buf, size_t cap);

/* "tx", "rx", "up", "down" for a link record's event; "?" otherwise. */
const char *om_link_event_name(uint32_t event);

/* One field of a frame's payload: its name and its value as text. */
struct om_link_field {
	const char *name;
	char value[96];
};

/* At most this many: a DATA frame's carried message header has seven. */
#define OM_LINK_FIELDS_MAX 8

/*
 * The fields of r's payload (a link record, LINK_TX or LINK_RX) into f,
 * as far as caplen holds them: HELLO's (magic, max_payload, session,
 * peer_session, tx_base, nodes), NODE's (node, state, reason), CREDIT's
 * (count, credits: "NODE/BUF_ALLOC/FWD_CNT ..."), DATA's carried message
 * header (src, dst, src_pid, dst_pid, type, len, seq). Returns how many.
 */
size_t om_link_fields(const struct om_trace_rec *r, struct om_link_field *f);

#endif /* OM_TRACE_LINK_DECODE_H */
