/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * /dev/om-kcom: the userspace door to kcom, the guest's virtio-om message
 * transport, for tests and tools (om-ping, om-traffic). The engine uses
 * the in-kernel API (<linux/om_kcom.h>) instead. docs/virtio-om-device.md,
 * "Guest driver", describes the interface; the messages are those of
 * <linux/virtio_om.h>.
 *
 * An open file is a port: it receives the messages whose dst_pid is its
 * port number, and every node up/down event. At open it is bound to the
 * opener's process id (its tgid) when no other file holds that port, else
 * it starts unbound; OM_KCOM_IOC_BIND binds it to another port.
 *
 * write() sends one message: a struct virtio_om_hdr followed by exactly len
 * payload bytes. Userspace may send VIRTIO_OM_T_PING and
 * VIRTIO_OM_T_TEST_DATA only (other types: EPERM). The driver sets version,
 * seq, src_node and src_pid (the file's port); what the caller wrote there
 * is ignored. A malformed header or a total length other than header + len
 * is EINVAL, an unbound file ENOTCONN, no device ENODEV, no node id yet
 * ENOTCONN, a full transmit queue EAGAIN with O_NONBLOCK (else write
 * sleeps).
 *
 * read() returns one whole message, header and payload, as it arrived
 * (little-endian). A buffer too small for the next message is EMSGSIZE and
 * the message stays queued: OM_KCOM_MSG_MAX bytes always suffice. Node
 * events arrive as VIRTIO_OM_T_NODE_UP / VIRTIO_OM_T_NODE_DOWN messages from
 * node 0. O_NONBLOCK and poll() work as usual: POLLIN when a message is
 * queued, POLLOUT when a message of any size fits in the transmit queue.
 */
#ifndef _UAPI_LINUX_OM_KCOM_H
#define _UAPI_LINUX_OM_KCOM_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/virtio_om.h>

/* A read() buffer of this size holds any message. */
#define OM_KCOM_MSG_MAX (VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD)

/* What OM_KCOM_IOC_INFO reports about this guest and this file. */
struct om_kcom_info {
	__u32 node_id;	   /* this guest's node; 0 when not assigned or no device */
	__u32 max_payload; /* largest payload the device accepts; 0 with no device */
	__u32 port;	   /* the port this file is bound to; 0 when unbound */
	__u32 queue_bytes; /* this file's receive queue limit, in payload bytes */
};

/* A node's state, as OM_KCOM_IOC_NODE reports it. */
enum om_kcom_node_state {
	OM_KCOM_NODE_DOWN = 0, /* not up: never announced, or went down */
	OM_KCOM_NODE_UP = 1,   /* announced up by the host */
	OM_KCOM_NODE_SELF = 2, /* this guest */
};

struct om_kcom_node {
	__u32 node;  /* in: a node id, 1..VIRTIO_OM_MAX_NODES */
	__u32 state; /* out: enum om_kcom_node_state */
};

#define OM_KCOM_IOC_MAGIC 0xBE
/* This guest's node id and limits, and this file's port. */
#define OM_KCOM_IOC_INFO _IOR(OM_KCOM_IOC_MAGIC, 0x00, struct om_kcom_info)
/* Bind this file to a port (non-zero); EADDRINUSE when another file has it. */
#define OM_KCOM_IOC_BIND _IOW(OM_KCOM_IOC_MAGIC, 0x01, __u32)
/* A node's state; EINVAL for an id outside 1..VIRTIO_OM_MAX_NODES. */
#define OM_KCOM_IOC_NODE _IOWR(OM_KCOM_IOC_MAGIC, 0x02, struct om_kcom_node)

#endif /* _UAPI_LINUX_OM_KCOM_H */
