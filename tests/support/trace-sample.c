// SPDX-License-Identifier: GPL-2.0-only
/*
 * trace-sample CAPTURE EXPECTED: writes a pcapng capture (omtrace's
 * writer) holding a message of every type in the protocol header's table,
 * its fields set to values of their kinds (names that exist, errors,
 * strings), and the cases a trace has: a reply, an undeliverable message,
 * a payload cut at the snap length, a relay link's frames of every type
 * and its going up and down, a record of missed messages. EXPECTED gets,
 * per packet, what a decoder must show: type name and decoded fields, or
 * "link" and the frame decoded as omtrace does, tab-separated (the
 * dissector's test compares tshark with it).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "link-decode.h"
#include "pcapng.h"

static unsigned char payload[VIRTIO_OM_MAX_PAYLOAD];

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void put_le(unsigned char *p, uint32_t size, uint64_t v)
{
	for (uint32_t i = 0; i < size; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A value of the field's kind that names something when the kind has names. */
static void fill_field(const struct om_field_info *f, unsigned char *p, uint64_t *seed, unsigned int i)
{
	static const char *const calls[] = { "openat", "read", "write", "getpid", "clone3" };
	uint64_t v = rnd(seed);

	switch (f->kind) {
	case VIRTIO_OM_FIELD_STRING:
		memset(p + f->offset, 0, f->size);
		memcpy(p + f->offset, "omvm test", f->size < 9 ? f->size : 9);
		return;
	case VIRTIO_OM_FIELD_NODE_REASON:
		v = VIRTIO_OM_NODE_JOINED + i % 4;
		break;
	case VIRTIO_OM_FIELD_SYSCALL:
		v = (uint64_t)om_syscall_by_name(calls[i % 5]);
		break;
	case VIRTIO_OM_FIELD_ERRNO:
		v = i % 2 ? ENOENT : 0;
		break;
	case VIRTIO_OM_FIELD_RESULT:
		v = i % 2 ? (uint64_t)-(int64_t)EBADF : 3;
		break;
	case VIRTIO_OM_FIELD_SIGNAL:
		v = 9;
		break;
	case VIRTIO_OM_FIELD_NODE:
		v = 1 + i % 3;
		break;
	case VIRTIO_OM_FIELD_SINT:
		v = i % 2 ? (uint64_t)-12345 : 12345;
		break;
	default:
		break;
	}
	put_le(p + f->offset, f->size, v);
}

static int emit(struct om_pcapng_writer *w, FILE *exp, struct om_trace_rec *r)
{
	char name[32], fields[1024];

	r->payload = payload;
	om_msg_hdr_encode(&r->h, r->raw_hdr);
	if (r->kind == OM_TRACE_REC_MSG) {
		om_fields_text(r->h.type, payload, r->caplen, fields, sizeof(fields));
		fprintf(exp, "%s\t%s\n", om_type_label(r->h.type, name, sizeof(name)), fields);
	} else {
		fprintf(exp, "missed\t%llu\n", (unsigned long long)r->missed);
	}
	return om_pcapng_write(w, r);
}

/*
 * A link record (rec.event, peer set) of a frame of type with seq, ack and
 * a payload of len bytes (in payload) whole; for an event, len bytes of text.
 */
static int emit_link(struct om_pcapng_writer *w, FILE *exp, struct om_trace_rec *r, uint16_t type,
		     uint64_t seq, uint64_t ack, uint32_t len)
{
	struct om_link_field f[OM_LINK_FIELDS_MAX];
	bool frame = r->event == OM_TRACE_LINK_TX || r->event == OM_TRACE_LINK_RX;
	char name[16];
	size_t n;

	r->kind = OM_TRACE_REC_LINK;
	r->payload = payload;
	r->caplen = len;
	memset(r->raw_link, 0, sizeof(r->raw_link));
	if (frame) {
		put_le(r->raw_link, 2, OM_LINK_VERSION);
		put_le(r->raw_link + 2, 2, type);
		put_le(r->raw_link + 4, 4, len);
		put_le(r->raw_link + 8, 8, seq);
		put_le(r->raw_link + 16, 8, ack);
	}
	if (om_trace_link_settle(r))
		return -EINVAL;
	if (!frame) {
		fprintf(exp, "link\t%s%s%.*s\n", om_link_event_name(r->event), len ? ": " : "",
			(int)len, (const char *)payload);
		return om_pcapng_write(w, r);
	}
	fprintf(exp, "link\t%s", om_link_type_label(type, name, sizeof(name)));
	n = om_link_fields(r, f);
	for (size_t i = 0; i < n; i++)
		fprintf(exp, " %s=%s", f[i].name, f[i].value);
	fputc('\n', exp);
	return om_pcapng_write(w, r);
}

/* A link's life: up, the HELLOs, credits, a node event, a message and its reply, a heartbeat, cut. */
static int emit_link_frames(struct om_pcapng_writer *w, FILE *exp, uint64_t *t)
{
	struct om_trace_rec r = { .time_ns = *t };
	struct om_msg_hdr m = { .version = VIRTIO_OM_PROTOCOL_VERSION, .type = VIRTIO_OM_T_PING,
				.src_node = 1, .dst_node = 3, .src_pid = 42, .seq = 9,
				.len = VIRTIO_OM_PING_SIZE };
	static const char why[] = "closed by the peer";
	int err;

	snprintf(r.peer, sizeof(r.peer), "hostB");
	r.event = OM_TRACE_LINK_UP;
	err = emit_link(w, exp, &r, 0, 0, 0, 0);
	for (int side = 0; side < 2 && !err; side++) {
		r.event = side ? OM_TRACE_LINK_RX : OM_TRACE_LINK_TX;
		put_le(payload, 4, OM_LINK_MAGIC);
		put_le(payload + 4, 4, VIRTIO_OM_MAX_PAYLOAD);
		put_le(payload + 8, 8, side ? 0xfedcba9876543210ull : 0x0123456789abcdefull);
		put_le(payload + 16, 8, side ? 0x0123456789abcdefull : 0);
		put_le(payload + 24, 8, 0);
		put_le(payload + 32, 4, side ? 3 : 1);
		put_le(payload + 36, 4, side ? 4 : 2);
		r.time_ns += 1000;
		err = emit_link(w, exp, &r, OM_LINK_T_HELLO, 0, 0, OM_LINK_HELLO_SIZE);
	}
	memset(payload, 0, 8 + 2 * 16);
	put_le(payload, 4, 2);
	for (uint32_t i = 0; i < 2; i++) {
		put_le(payload + 8 + 16 * i, 4, 1 + i);
		put_le(payload + 12 + 16 * i, 4, 1u << 20);
		put_le(payload + 16 + 16 * i, 4, 4096 * i);
	}
	r.event = OM_TRACE_LINK_TX;
	r.time_ns += 1000;
	if (!err)
		err = emit_link(w, exp, &r, OM_LINK_T_CREDIT, 0, 0, 8 + 2 * 16);
	put_le(payload, 4, 1);
	put_le(payload + 4, 2, OM_LINK_NODE_UP);
	put_le(payload + 6, 2, VIRTIO_OM_NODE_JOINED);
	r.time_ns += 1000;
	if (!err)
		err = emit_link(w, exp, &r, OM_LINK_T_NODE, 1, 0, OM_LINK_NODE_SIZE);
	om_msg_hdr_encode(&m, payload);
	put_le(payload + VIRTIO_OM_HDR_SIZE, 8, 0x1122334455667788ull);
	r.time_ns += 1000;
	if (!err)
		err = emit_link(w, exp, &r, OM_LINK_T_DATA, 2, 0, VIRTIO_OM_HDR_SIZE + m.len);
	m = (struct om_msg_hdr){ .version = VIRTIO_OM_PROTOCOL_VERSION, .type = VIRTIO_OM_T_PONG,
				 .flags = VIRTIO_OM_F_REPLY, .src_node = 3, .dst_node = 1,
				 .dst_pid = 42, .seq = 4, .reply_to = 9, .len = VIRTIO_OM_PING_SIZE };
	om_msg_hdr_encode(&m, payload);
	r.event = OM_TRACE_LINK_RX;
	r.time_ns += 1000;
	if (!err)
		err = emit_link(w, exp, &r, OM_LINK_T_DATA, 1, 2, VIRTIO_OM_HDR_SIZE + m.len);
	r.event = OM_TRACE_LINK_TX;
	r.time_ns += 1000;
	if (!err)
		err = emit_link(w, exp, &r, OM_LINK_T_HEARTBEAT, 0, 1, 0);
	memcpy(payload, why, sizeof(why) - 1);
	r.event = OM_TRACE_LINK_DOWN;
	r.time_ns += 1000;
	if (!err)
		err = emit_link(w, exp, &r, 0, 0, 0, sizeof(why) - 1);
	*t = r.time_ns;
	return err;
}

int main(int argc, char **argv)
{
	struct om_pcapng_writer w;
	struct om_trace_rec r;
	uint64_t seed = 0x9e3779b97f4a7c15ull, t = 1700000000000000000ull, seq = 1;
	FILE *cap, *exp;
	int err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: trace-sample CAPTURE EXPECTED\n");
		return 2;
	}
	cap = fopen(argv[1], "wb");
	exp = fopen(argv[2], "w");
	if (!cap || !exp || om_pcapng_start(&w, cap, "trace-sample", VIRTIO_OM_MAX_PAYLOAD)) {
		fprintf(stderr, "trace-sample: cannot write %s or %s\n", argv[1], argv[2]);
		return 1;
	}
	for (size_t ti = 0; ti < om_types_count && !err; ti++) {
		const struct om_type_info *ty = &om_types[ti];
		uint32_t len = ty->min_len ? ty->min_len : 16;

		for (uint32_t i = 0; i < len; i++)
			payload[i] = (unsigned char)rnd(&seed);
		for (size_t k = 0; k < om_fields_count; k++)
			if (om_fields[k].type == ty->value)
				fill_field(&om_fields[k], payload, &seed, (unsigned int)k);
		r = (struct om_trace_rec){
			.kind = OM_TRACE_REC_MSG, .time_ns = t += 1000, .event = OM_TRACE_RELAYED,
			.h = { .version = VIRTIO_OM_PROTOCOL_VERSION, .type = ty->value,
			       .src_node = ty->from_host ? 0 : 1, .dst_node = 2, .src_pid = 100,
			       .dst_pid = 200, .seq = seq++, .len = len },
			.caplen = len,
		};
		err = emit(&w, exp, &r);
		if (!err && ty->value == VIRTIO_OM_T_PING) { /* its reply */
			r.h.type = VIRTIO_OM_T_PONG;
			r.h.flags = VIRTIO_OM_F_REPLY;
			r.h.reply_to = r.h.seq;
			r.h.src_node = 2;
			r.h.dst_node = 1;
			r.time_ns = t += 5000;
			err = emit(&w, exp, &r);
		}
	}
	/* Undeliverable; cut at the snap length (a field beyond it is not shown). */
	r = (struct om_trace_rec){
		.kind = OM_TRACE_REC_MSG, .time_ns = t += 1000, .event = OM_TRACE_UNDELIVERABLE,
		.h = { .version = VIRTIO_OM_PROTOCOL_VERSION, .type = VIRTIO_OM_T_TEST_DATA,
		       .src_node = 3, .dst_node = 1, .seq = seq++, .len = 5000 },
		.caplen = 5000,
	};
	if (!err)
		err = emit(&w, exp, &r);
	r.event = OM_TRACE_RELAYED;
	r.h.type = VIRTIO_OM_T_PING;
	r.h.len = VIRTIO_OM_PING_SIZE;
	r.caplen = 4;
	r.h.seq = seq++;
	if (!err)
		err = emit(&w, exp, &r);
	if (!err)
		err = emit_link_frames(&w, exp, &t);
	r = (struct om_trace_rec){ .kind = OM_TRACE_REC_MISSED, .time_ns = t += 1000, .missed = 7,
				   .missed_total = 7 };
	if (!err)
		err = emit(&w, exp, &r);
	if (!err)
		err = om_pcapng_finish(&w, w.packets - 1, 7);
	if (err || fclose(cap) || fclose(exp)) {
		fprintf(stderr, "trace-sample: writing failed: %s\n", strerror(err ? -err : errno));
		return 1;
	}
	return 0;
}
