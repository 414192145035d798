// SPDX-License-Identifier: GPL-2.0-only
#include "decode.h"

#include <endian.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OM_SENT_BY_HOST true
#define OM_SENT_BY_GUEST false
const struct om_type_info om_types[] = {
#define OM_TYPE_INFO(name, value, who, min, max) \
	{ VIRTIO_OM_T_##name, #name, OM_SENT_BY_##who, (min), (max) },
	VIRTIO_OM_FOR_EACH_TYPE(OM_TYPE_INFO)
#undef OM_TYPE_INFO
};
const size_t om_types_count = sizeof(om_types) / sizeof(om_types[0]);

/* Offsets and sizes are the structs' own: the table cannot disagree with them. */
const struct om_field_info om_fields[] = {
#define OM_FIELD_INFO(type, st, member, kind)                                              \
	{ VIRTIO_OM_T_##type, #member, offsetof(struct virtio_om_##st, member),            \
	  sizeof(((struct virtio_om_##st *)0)->member), VIRTIO_OM_FIELD_##kind },
	VIRTIO_OM_FOR_EACH_FIELD(OM_FIELD_INFO)
#undef OM_FIELD_INFO
};
const size_t om_fields_count = sizeof(om_fields) / sizeof(om_fields[0]);

/* The header's ranges: the engine's by their bounds, the others by its comments. */
const struct om_type_range om_type_ranges[] = {
	{ "control", 0x0000, 0x000f },
	{ "liveness", 0x0010, 0x00ff },
	{ "migration", VIRTIO_OM_T_MIGRATION_FIRST, VIRTIO_OM_T_MIGRATION_LAST },
	{ "syscall", VIRTIO_OM_T_SYSCALL_FIRST, VIRTIO_OM_T_SYSCALL_LAST },
	{ "memory", VIRTIO_OM_T_MEMORY_FIRST, VIRTIO_OM_T_MEMORY_LAST },
	{ "test", 0x7f00, 0x7fff },
};
const size_t om_type_ranges_count = sizeof(om_type_ranges) / sizeof(om_type_ranges[0]);

const struct om_type_info *om_type_info(uint16_t type)
{
	for (size_t i = 0; i < om_types_count; i++)
		if (om_types[i].value == type)
			return &om_types[i];
	return NULL;
}

const struct om_type_info *om_type_by_name(const char *name)
{
	for (size_t i = 0; i < om_types_count; i++)
		if (!strcasecmp(om_types[i].name, name))
			return &om_types[i];
	return NULL;
}

const struct om_type_range *om_type_range_of(uint16_t type)
{
	for (size_t i = 0; i < om_type_ranges_count; i++)
		if (type >= om_type_ranges[i].first && type <= om_type_ranges[i].last)
			return &om_type_ranges[i];
	return NULL;
}

const struct om_type_range *om_type_range_by_name(const char *name)
{
	for (size_t i = 0; i < om_type_ranges_count; i++)
		if (!strcasecmp(om_type_ranges[i].name, name))
			return &om_type_ranges[i];
	return NULL;
}

const char *om_type_label(uint16_t type, char *buf, size_t cap)
{
	const struct om_type_info *t = om_type_info(type);
	const struct om_type_range *r;

	if (t)
		return t->name;
	r = om_type_range_of(type);
	if (r)
		snprintf(buf, cap, "%s:0x%04x", r->name, type);
	else
		snprintf(buf, cap, "0x%04x", type);
	return buf;
}

const char *om_syscall_name(uint64_t nr)
{
	return nr < om_syscall_names_count ? om_syscall_names[nr] : NULL;
}

long om_syscall_by_name(const char *name)
{
	for (unsigned int i = 0; i < om_syscall_names_count; i++)
		if (om_syscall_names[i] && !strcmp(om_syscall_names[i], name))
			return (long)i;
	return -1;
}

const char *om_errno_name(uint64_t e)
{
	/* glibc's table of the Linux errno names: the guests' numbers too. */
	return e && e <= 4095 ? strerrorname_np((int)e) : NULL;
}

const char *om_signal_name(uint64_t sig, char *buf, size_t cap)
{
	const char *abbrev = sig && sig < 65 ? sigabbrev_np((int)sig) : NULL;

	if (!abbrev)
		return NULL;
	snprintf(buf, cap, "SIG%s", abbrev);
	return buf;
}

const char *om_node_reason_name(uint64_t r)
{
#define OM_REASON_NAME(name) \
	if (r == VIRTIO_OM_NODE_##name) \
		return #name;
	VIRTIO_OM_FOR_EACH_NODE_REASON(OM_REASON_NAME)
#undef OM_REASON_NAME
	return NULL;
}

const char *om_field_kind_name(enum virtio_om_field_kind k)
{
	switch (k) {
	case VIRTIO_OM_FIELD_UINT:
		return "UINT";
	case VIRTIO_OM_FIELD_SINT:
		return "SINT";
	case VIRTIO_OM_FIELD_HEX:
		return "HEX";
	case VIRTIO_OM_FIELD_NODE:
		return "NODE";
	case VIRTIO_OM_FIELD_PID:
		return "PID";
	case VIRTIO_OM_FIELD_NODE_REASON:
		return "NODE_REASON";
	case VIRTIO_OM_FIELD_SYSCALL:
		return "SYSCALL";
	case VIRTIO_OM_FIELD_RESULT:
		return "RESULT";
	case VIRTIO_OM_FIELD_ERRNO:
		return "ERRNO";
	case VIRTIO_OM_FIELD_SIGNAL:
		return "SIGNAL";
	case VIRTIO_OM_FIELD_STRING:
		return "STRING";
	}
	return NULL;
}

size_t om_type_field_count(uint16_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < om_fields_count; i++)
		n += om_fields[i].type == type;
	return n;
}

uint64_t om_field_raw(const struct om_field_info *f, const unsigned char *payload)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < f->size && i < 8; i++)
		v |= (uint64_t)payload[f->offset + i] << (8 * i);
	return v;
}

/* The raw value sign-extended from the field's size. */
static int64_t om_field_signed(const struct om_field_info *f, uint64_t v)
{
	unsigned int bits = 8 * f->size;

	if (bits < 64 && (v & (1ull << (bits - 1))))
		v |= ~0ull << bits;
	return (int64_t)v;
}

/*
 * Text up to the first NUL; bytes other than printable ASCII, and the
 * space, quote and backslash (which would break a "name=value" list or a
 * JSON string), as '.'.
 */
static const char *om_field_string(const struct om_field_info *f, const unsigned char *payload,
				   char *buf, size_t cap)
{
	size_t n = 0;

	for (uint32_t i = 0; i < f->size && payload[f->offset + i] && n + 1 < cap; i++) {
		unsigned char c = payload[f->offset + i];

		buf[n++] = c > ' ' && c < 0x7f && c != '"' && c != '\\' ? (char)c : '.';
	}
	if (cap)
		buf[n] = '\0';
	return buf;
}

const char *om_field_text(const struct om_field_info *f, const unsigned char *payload, char *buf,
			  size_t cap)
{
	uint64_t v = f->kind == VIRTIO_OM_FIELD_STRING ? 0 : om_field_raw(f, payload);
	const char *name = NULL;
	char sig[16];
	int64_t s;

	switch (f->kind) {
	case VIRTIO_OM_FIELD_STRING:
		return om_field_string(f, payload, buf, cap);
	case VIRTIO_OM_FIELD_SIGNAL:
		name = om_signal_name(v, sig, sizeof(sig));
		break;
	case VIRTIO_OM_FIELD_SINT:
		snprintf(buf, cap, "%" PRId64, om_field_signed(f, v));
		return buf;
	case VIRTIO_OM_FIELD_HEX:
		snprintf(buf, cap, "0x%0*" PRIx64, (int)(2 * f->size), v);
		return buf;
	case VIRTIO_OM_FIELD_NODE_REASON:
		name = om_node_reason_name(v);
		break;
	case VIRTIO_OM_FIELD_SYSCALL:
		name = om_syscall_name(v);
		break;
	case VIRTIO_OM_FIELD_ERRNO:
		name = om_errno_name(v);
		break;
	case VIRTIO_OM_FIELD_RESULT:
		s = om_field_signed(f, v);
		/* 0 - (uint64_t)s: -s overflows for INT64_MIN (fuzz-trace found it). */
		name = s < 0 ? om_errno_name(0 - (uint64_t)s) : NULL;
		if (name)
			snprintf(buf, cap, "-%s", name);
		else
			snprintf(buf, cap, "%" PRId64, s);
		return buf;
	case VIRTIO_OM_FIELD_UINT:
	case VIRTIO_OM_FIELD_NODE:
	case VIRTIO_OM_FIELD_PID:
		break;
	}
	if (name)
		snprintf(buf, cap, "%s", name);
	else
		snprintf(buf, cap, "%" PRIu64, v);
	return buf;
}

size_t om_fields_text(uint16_t type, const unsigned char *payload, uint32_t caplen, char *buf,
		      size_t cap)
{
	size_t len = 0;

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < om_fields_count; i++) {
		const struct om_field_info *f = &om_fields[i];
		char v[128];
		int w;

		if (f->type != type || f->offset + f->size > caplen)
			continue;
		w = snprintf(buf + len, cap - len, "%s%s=%s", len ? " " : "", f->name,
			     om_field_text(f, payload, v, sizeof(v)));
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	return len;
}
