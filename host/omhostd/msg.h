/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What omhostd checks and does to a message, independent of rings and
 * sockets: header validation (docs/protocol.md "Rules"), source stamping,
 * and copies between scatter-gather lists. Pure functions, so unit tests
 * and the fuzzer drive them directly.
 */
#ifndef OM_HOSTD_MSG_H
#define OM_HOSTD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "om_hdr.h"

/* Why a message was refused; each has its own counter and log text. */
enum om_msg_verdict {
	OM_MSG_OK = 0,
	OM_MSG_SHORT,	     /* fewer bytes than a header */
	OM_MSG_VERSION,	     /* another protocol version */
	OM_MSG_TYPE,	     /* a type no one defined, or one a guest may not send */
	OM_MSG_FLAGS,	     /* unknown flag bits */
	OM_MSG_RESERVED,     /* reserved field not zero */
	OM_MSG_LENGTH,	     /* len does not match the bytes, the type, or the limit */
	OM_MSG_DESTINATION,  /* to the host, to itself, or outside 1..MAX_NODES */
	OM_MSG_VERDICT_COUNT
};

const char *om_msg_verdict_name(enum om_msg_verdict v);

/*
 * Checks a message a guest sent: total is the bytes of the whole chain
 * (header + payload), from_node the sender's node, max_payload the limit
 * this host accepts.
 */
enum om_msg_verdict om_msg_check_from_guest(const struct om_msg_hdr *h, size_t total,
					    uint32_t from_node, uint32_t max_payload);

/* The payload length rule of a type: exact, or bounded by max. */
bool om_msg_type_known(uint16_t type);
bool om_msg_len_ok(uint16_t type, uint32_t len, uint32_t max_payload);

/* Sum of the lengths of an iovec array; SIZE_MAX when it overflows. */
size_t om_iov_size(const struct iovec *iov, unsigned int n);

/*
 * Copies len bytes starting off bytes into src, to dst starting at dst_off.
 * Returns the bytes copied (less than len only when one side is too short).
 */
size_t om_iov_copy(const struct iovec *dst, unsigned int dst_n, size_t dst_off,
		   const struct iovec *src, unsigned int src_n, size_t src_off, size_t len);

/* Copies into/from a flat buffer; same return rule. */
size_t om_iov_to_buf(void *buf, size_t len, const struct iovec *iov, unsigned int n, size_t off);
size_t om_iov_from_buf(const struct iovec *iov, unsigned int n, size_t off, const void *buf,
		       size_t len);

#endif /* OM_HOSTD_MSG_H */
