/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-om message header in host byte order, and its codec: the one
 * userspace reading of <linux/virtio_om.h>'s wire format, shared by the
 * host relay (omhostd) and the guest tools (om-ping, om-traffic).
 */
#ifndef OM_HDR_H
#define OM_HDR_H

#include <stdint.h>

#include <linux/virtio_om.h>

struct om_msg_hdr {
	uint16_t version, type;
	uint32_t flags, src_node, dst_node, src_pid, dst_pid;
	uint64_t seq, reply_to;
	uint32_t len, reserved;
};

/* Decodes the little-endian header at p (VIRTIO_OM_HDR_SIZE bytes). */
void om_msg_hdr_decode(const void *p, struct om_msg_hdr *h);
/* Encodes h into p (VIRTIO_OM_HDR_SIZE bytes), little-endian. */
void om_msg_hdr_encode(const struct om_msg_hdr *h, void *p);

#endif /* OM_HDR_H */
