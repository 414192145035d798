// SPDX-License-Identifier: GPL-2.0-only
#include "link-decode.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decode.h"

const struct om_link_type_info om_link_types[] = {
	{ OM_LINK_T_HELLO, "HELLO" },	{ OM_LINK_T_DATA, "DATA" },
	{ OM_LINK_T_NODE, "NODE" },	{ OM_LINK_T_CREDIT, "CREDIT" },
	{ OM_LINK_T_HEARTBEAT, "HEARTBEAT" },
};
const size_t om_link_types_count = sizeof(om_link_types) / sizeof(om_link_types[0]);

const char *om_link_type_label(uint16_t type, char *buf, size_t cap)
{
	for (size_t i = 0; i < om_link_types_count; i++)
		if (om_link_types[i].value == type)
			return om_link_types[i].name;
	snprintf(buf, cap, "0x%04x", type);
	return buf;
}

const char *om_link_event_name(uint32_t event)
{
	switch (event) {
	case OM_TRACE_LINK_TX:
		return "tx";
	case OM_TRACE_LINK_RX:
		return "rx";
	case OM_TRACE_LINK_UP:
		return "up";
	case OM_TRACE_LINK_DOWN:
		return "down";
	}
	return "?";
}

/* Adds a field; printf's format for its value. */
static size_t add(struct om_link_field *f, size_t n, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t add(struct om_link_field *f, size_t n, const char *name, const char *fmt, ...)
{
	va_list ap;

	f[n].name = name;
	va_start(ap, fmt);
	vsnprintf(f[n].value, sizeof(f[n].value), fmt, ap);
	va_end(ap);
	return n + 1;
}

static size_t hello_fields(const unsigned char *p, struct om_link_field *f)
{
	size_t n = 0;

	n = add(f, n, "magic", "0x%08" PRIx32, om_trace_le32(p));
	n = add(f, n, "max_payload", "%" PRIu32, om_trace_le32(p + 4));
	n = add(f, n, "session", "0x%016" PRIx64, om_trace_le64(p + 8));
	n = add(f, n, "peer_session", "0x%016" PRIx64, om_trace_le64(p + 16));
	n = add(f, n, "tx_base", "%" PRIu64, om_trace_le64(p + 24));
	return add(f, n, "nodes", "%" PRIu32 "-%" PRIu32, om_trace_le32(p + 32),
		   om_trace_le32(p + 36));
}

static size_t node_fields(const unsigned char *p, struct om_link_field *f)
{
	uint16_t state = om_trace_le16(p + 4), reason = om_trace_le16(p + 6);
	const char *rn = om_node_reason_name(reason);
	size_t n = add(f, 0, "node", "%" PRIu32, om_trace_le32(p));

	n = add(f, n, "state", "%s",
		state == OM_LINK_NODE_UP ? "UP" : state == OM_LINK_NODE_DOWN ? "DOWN" : "?");
	if (rn)
		return add(f, n, "reason", "%s", rn);
	return add(f, n, "reason", "%u", reason);
}

/* CREDIT: its count, and the entries captured, "NODE/BUF_ALLOC/FWD_CNT" each. */
static size_t credit_fields(const unsigned char *p, uint32_t caplen, struct om_link_field *f)
{
	size_t n = add(f, 0, "count", "%" PRIu32, om_trace_le32(p)), used = 0;
	char *v = f[n].value;

	f[n].name = "credits";
	v[0] = '\0';
	for (uint32_t at = OM_LINK_CREDITS_SIZE; at + OM_LINK_CREDIT_SIZE <= caplen;
	     at += OM_LINK_CREDIT_SIZE) {
		int w = snprintf(v + used, sizeof(f[n].value) - used, "%s%" PRIu32 "/%" PRIu32 "/%" PRIu32,
				 used ? " " : "", om_trace_le32(p + at), om_trace_le32(p + at + 4),
				 om_trace_le32(p + at + 8));

		if (w < 0 || (size_t)w >= sizeof(f[n].value) - used) {
			v[used] = '\0'; /* what does not fit is left out whole */
			break;
		}
		used += (size_t)w;
	}
	return n + 1;
}

static size_t data_fields(const unsigned char *p, struct om_link_field *f)
{
	struct om_msg_hdr h;
	char name[32];
	size_t n = 0;

	om_msg_hdr_decode(p, &h);
	n = add(f, n, "src", "%" PRIu32, h.src_node);
	n = add(f, n, "dst", "%" PRIu32, h.dst_node);
	n = add(f, n, "src_pid", "%" PRIu32, h.src_pid);
	n = add(f, n, "dst_pid", "%" PRIu32, h.dst_pid);
	n = add(f, n, "type", "%s", om_type_label(h.type, name, sizeof(name)));
	n = add(f, n, "len", "%" PRIu32, h.len);
	return add(f, n, "seq", "%" PRIu64, h.seq);
}

size_t om_link_fields(const struct om_trace_rec *r, struct om_link_field *f)
{
	if (r->kind != OM_TRACE_REC_LINK ||
	    (r->event != OM_TRACE_LINK_TX && r->event != OM_TRACE_LINK_RX))
		return 0;
	switch (r->link.type) {
	case OM_LINK_T_HELLO:
		return r->caplen >= OM_LINK_HELLO_SIZE ? hello_fields(r->payload, f) : 0;
	case OM_LINK_T_NODE:
		return r->caplen >= OM_LINK_NODE_SIZE ? node_fields(r->payload, f) : 0;
	case OM_LINK_T_CREDIT:
		return r->caplen >= OM_LINK_CREDITS_SIZE ? credit_fields(r->payload, r->caplen, f) :
							    0;
	case OM_LINK_T_DATA:
		return r->caplen >= VIRTIO_OM_HDR_SIZE ? data_fields(r->payload, f) : 0;
	}
	return 0;
}
