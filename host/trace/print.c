// SPDX-License-Identifier: GPL-2.0-only
#include "print.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "link-decode.h"

static const char *om_event_name(uint32_t event)
{
	return event == OM_TRACE_UNDELIVERABLE ? "undeliverable" : "relayed";
}

/* Local wall-clock time of day, to the nanosecond. */
static const char *om_clock(uint64_t ns, char *buf, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;

	localtime_r(&s, &tm);
	snprintf(buf, cap, "%02d:%02d:%02d.%09u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(ns % 1000000000u));
	return buf;
}

/* A link record's line: the link's event, or the frame's header and what its payload says. */
static void om_print_link_text(FILE *out, const struct om_trace_rec *r)
{
	struct om_link_field f[OM_LINK_FIELDS_MAX];
	const struct om_trace_link_hdr *l = &r->link;
	char t[32], name[16];
	size_t n;

	fprintf(out, "%s link %s %s", om_clock(r->time_ns, t, sizeof(t)), r->peer,
		om_link_event_name(r->event));
	if (r->event == OM_TRACE_LINK_DOWN)
		fprintf(out, ": %.*s", (int)r->caplen, (const char *)r->payload);
	if (r->event != OM_TRACE_LINK_TX && r->event != OM_TRACE_LINK_RX) {
		fputc('\n', out);
		return;
	}
	fprintf(out, " %s seq %" PRIu64 " ack %" PRIu64 " len %" PRIu32,
		om_link_type_label(l->type, name, sizeof(name)), l->seq, l->ack, l->len);
	/* A header that broke a rule shows how. */
	if (l->version != OM_LINK_VERSION || l->flags || l->reserved)
		fprintf(out, " version %u flags 0x%x reserved 0x%x", l->version, l->flags,
			l->reserved);
	n = om_link_fields(r, f);
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s %s", f[i].name, f[i].value);
	fputc('\n', out);
}

void om_print_text(FILE *out, const struct om_trace_rec *r, const struct om_reply_info *ri)
{
	const struct om_msg_hdr *h = &r->h;
	char t[32], name[32], fields[512];

	if (r->kind == OM_TRACE_REC_LINK) {
		om_print_link_text(out, r);
		return;
	}

	if (r->kind == OM_TRACE_REC_MISSED) {
		fprintf(out, "%s *** missed %" PRIu64 " messages here (%" PRIu64
			" in all): this listener fell behind\n",
			om_clock(r->time_ns, t, sizeof(t)), r->missed, r->missed_total);
		return;
	}
	om_fields_text(h->type, r->payload, r->caplen, fields, sizeof(fields));
	fprintf(out, "%s %u -> %u pid %u -> %u %s len %u seq %" PRIu64,
		om_clock(r->time_ns, t, sizeof(t)), h->src_node, h->dst_node, h->src_pid,
		h->dst_pid, om_type_label(h->type, name, sizeof(name)), h->len, h->seq);
	if (h->flags & VIRTIO_OM_F_REPLY)
		fprintf(out, " reply_to %" PRIu64, h->reply_to);
	if (fields[0])
		fprintf(out, " %s", fields);
	if (ri && ri->known)
		fprintf(out, " latency %.1fus", (double)ri->ns / 1e3);
	if (r->event == OM_TRACE_UNDELIVERABLE)
		fputs(" UNDELIVERABLE", out);
	fputc('\n', out);
}

/* Field values are strings: names, 0x-hex, and 64-bit numbers a double cannot hold. */
static void om_json_fields(FILE *out, const struct om_trace_rec *r)
{
	bool first = true;

	fputs("\"fields\":{", out);
	for (size_t i = 0; i < om_fields_count; i++) {
		const struct om_field_info *f = &om_fields[i];
		char v[128];

		if (f->type != r->h.type || f->offset + f->size > r->caplen)
			continue;
		fprintf(out, "%s\"%s\":\"%s\"", first ? "" : ",", f->name,
			om_field_text(f, r->payload, v, sizeof(v)));
		first = false;
	}
	fputc('}', out);
}

/* The payload's captured bytes as hex, the record's last member. */
static void om_json_head(FILE *out, const struct om_trace_rec *r)
{
	fputs(",\"head\":\"", out);
	for (uint32_t i = 0; i < r->caplen; i++)
		fprintf(out, "%02x", r->payload[i]);
	fputs("\"}\n", out);
}

/* Names and values are ours (field names, numbers, type names): none needs escaping. */
static void om_print_link_json(FILE *out, const struct om_trace_rec *r)
{
	struct om_link_field f[OM_LINK_FIELDS_MAX];
	const struct om_trace_link_hdr *l = &r->link;
	size_t n = om_link_fields(r, f);
	char name[16];

	fprintf(out, "{\"time_ns\":%" PRIu64 ",\"event\":\"link_%s\",\"peer\":\"", r->time_ns,
		om_link_event_name(r->event));
	/* A peer's name is checked by omhostd (letters, digits, . - _), but a capture is anyone's. */
	for (const unsigned char *c = (const unsigned char *)r->peer; *c; c++) {
		if (*c == '"' || *c == '\\' || *c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fprintf(out, "\",\"link_type\":\"%s\",\"link_type_value\":%u,\"link_seq\":%" PRIu64
		",\"link_ack\":%" PRIu64 ",\"link_len\":%" PRIu32 ",\"link_version\":%u,"
		"\"link_flags\":%" PRIu32 ",\"caplen\":%" PRIu32 ",\"link_fields\":{",
		r->event == OM_TRACE_LINK_TX || r->event == OM_TRACE_LINK_RX ?
			om_link_type_label(l->type, name, sizeof(name)) : "",
		l->type, l->seq, l->ack, l->len, l->version, l->flags, r->caplen);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\"%s\":\"%s\"", i ? "," : "", f[i].name, f[i].value);
	fputc('}', out);
	om_json_head(out, r);
}

void om_print_json(FILE *out, const struct om_trace_rec *r, const struct om_reply_info *ri)
{
	const struct om_msg_hdr *h = &r->h;
	char name[32];

	if (r->kind == OM_TRACE_REC_LINK) {
		om_print_link_json(out, r);
		return;
	}

	if (r->kind == OM_TRACE_REC_MISSED) {
		fprintf(out, "{\"time_ns\":%" PRIu64 ",\"event\":\"missed\",\"missed\":%" PRIu64
			",\"missed_total\":%" PRIu64 "}\n", r->time_ns, r->missed, r->missed_total);
		return;
	}
	fprintf(out, "{\"time_ns\":%" PRIu64 ",\"event\":\"%s\",\"src\":%u,\"dst\":%u,"
		"\"src_pid\":%u,\"dst_pid\":%u,\"type\":\"%s\",\"type_value\":%u,\"flags\":%u,"
		"\"seq\":%" PRIu64 ",\"reply_to\":%" PRIu64 ",\"len\":%u,\"caplen\":%u,",
		r->time_ns, om_event_name(r->event), h->src_node, h->dst_node, h->src_pid,
		h->dst_pid, om_type_label(h->type, name, sizeof(name)), h->type, h->flags, h->seq,
		h->reply_to, h->len, r->caplen);
	om_json_fields(out, r);
	if (ri && ri->known)
		fprintf(out, ",\"latency_ns\":%" PRIu64 ",\"request_type\":\"%s\"", ri->ns,
			om_type_label(ri->req_type, name, sizeof(name)));
	om_json_head(out, r);
}
