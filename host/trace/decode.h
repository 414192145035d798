/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a virtio-om message means, from the protocol header's tables
 * (<linux/virtio_om.h>: VIRTIO_OM_FOR_EACH_TYPE, _FIELD, _NODE_REASON):
 * type names, payload fields and how each kind of field reads. Shared by
 * omtrace and the generator of the Wireshark dissector, so both name and
 * show every message the same way; a type added to the header appears in
 * both with its name.
 */
#ifndef OM_TRACE_DECODE_H
#define OM_TRACE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_om.h>

struct om_type_info {
	uint16_t value;
	const char *name; /* "PING" */
	bool from_host;	  /* sent by the host (control) or by guests */
	uint32_t min_len, max_len; /* max_len VIRTIO_OM_LEN_ANY: up to max_payload */
};

struct om_field_info {
	uint16_t type;
	const char *name; /* the struct member's name */
	uint32_t offset, size;
	enum virtio_om_field_kind kind;
};

extern const struct om_type_info om_types[];
extern const size_t om_types_count;
extern const struct om_field_info om_fields[];
extern const size_t om_fields_count;

/* Generated from <asm/unistd_64.h> (gen-syscall-names.py); NULL holes. */
extern const char *const om_syscall_names[];
extern const unsigned int om_syscall_names_count;

/* The table's entry for a type, or NULL. */
const struct om_type_info *om_type_info(uint16_t type);
/* The type named name (case-insensitive), or NULL. */
const struct om_type_info *om_type_by_name(const char *name);

/* Ranges of the type space, as the header reserves them. */
struct om_type_range {
	const char *name; /* "migration" */
	uint16_t first, last;
};
extern const struct om_type_range om_type_ranges[];
extern const size_t om_type_ranges_count;
/* The range a type lies in, or NULL. */
const struct om_type_range *om_type_range_of(uint16_t type);
const struct om_type_range *om_type_range_by_name(const char *name);

/* A type's name; for one the table lacks, "RANGE:0xNNNN" or "0xNNNN" in buf. */
const char *om_type_label(uint16_t type, char *buf, size_t cap);

/* The system call's name, or NULL. */
const char *om_syscall_name(uint64_t nr);
/* The number of a system call by name, or -1. */
long om_syscall_by_name(const char *name);
/* "ENOENT" for an errno value, or NULL. */
const char *om_errno_name(uint64_t e);
/* "SIGKILL" for a signal number, in buf, or NULL. */
const char *om_signal_name(uint64_t sig, char *buf, size_t cap);
/* "JOINED" for a node event's reason, or NULL. */
const char *om_node_reason_name(uint64_t r);
/* The kind's name in the header ("SYSCALL"), or NULL. */
const char *om_field_kind_name(enum virtio_om_field_kind k);

/* How many fields a type has (its entries in om_fields, in order). */
size_t om_type_field_count(uint16_t type);

/* A numeric field's value as it lies in the payload (little-endian, f->size bytes). */
uint64_t om_field_raw(const struct om_field_info *f, const unsigned char *payload);

/*
 * A field's value as text, by its kind: decimal, 0x-hex, a reason, a
 * system call's, errno's or signal's name, a string (docs/tracing.md).
 * Returns buf.
 */
const char *om_field_text(const struct om_field_info *f, const unsigned char *payload, char *buf,
			  size_t cap);

/*
 * Every field of a message of type that lies within its caplen captured
 * payload bytes, as "name=value name=value" (empty when none). Shown alike
 * by omtrace and the dissector. Returns the length written.
 */
size_t om_fields_text(uint16_t type, const unsigned char *payload, uint32_t caplen, char *buf,
		      size_t cap);

#endif /* OM_TRACE_DECODE_H */
