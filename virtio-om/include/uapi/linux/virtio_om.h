/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * virtio-om: the paravirtual device that carries omvm messages between a
 * guest and the host relay (omhostd). This header is the one definition of
 * the wire protocol, shared by the guest driver, the QEMU device and
 * omhostd; its documents are docs/protocol.md and docs/virtio-om-device.md.
 *
 * Every field is little-endian. Sizes are fixed and named below so that
 * every side can check a message's length before looking inside it.
 */
#ifndef _UAPI_LINUX_VIRTIO_OM_H
#define _UAPI_LINUX_VIRTIO_OM_H

#include <linux/types.h>

/* Version of the message format; a message of another version is refused. */
#define VIRTIO_OM_PROTOCOL_VERSION 1

/*
 * Provisional device ID: unassigned in the virtio specification and small
 * enough for virtio-pci (PCI device ID 0x1040 + 58). To be replaced by an
 * ID reserved with the specification's maintainers.
 */
#define VIRTIO_ID_OM 58

/* Virtqueues. Control messages travel on rx too, ordered with data. */
enum virtio_om_queue {
	VIRTIO_OM_QUEUE_RX = 0, /* host to guest: buffers the guest posts */
	VIRTIO_OM_QUEUE_TX = 1, /* guest to host: one message per chain */
	VIRTIO_OM_QUEUE_COUNT = 2,
};

/* Node ids: 0 is the host (sender of control messages), 1..MAX are guests. */
#define VIRTIO_OM_NODE_HOST 0u
#define VIRTIO_OM_MAX_NODES 1024u

/* The largest payload of one message, whatever the device offers. */
#define VIRTIO_OM_MAX_PAYLOAD (64u * 1024u)

struct virtio_om_config {
	__le32 node_id;	    /* this guest's node, set by the host; 0 until assigned */
	__le32 max_payload; /* payload bytes per message the host accepts */
};

/*
 * The header that starts every message. The host overwrites src_node with
 * the sending guest's node before relaying: a guest cannot speak as another.
 */
struct virtio_om_hdr {
	__le16 version;	 /* VIRTIO_OM_PROTOCOL_VERSION */
	__le16 type;	 /* enum virtio_om_type */
	__le32 flags;	 /* VIRTIO_OM_F_*; unknown bits are refused */
	__le32 src_node; /* stamped by the host */
	__le32 dst_node;
	__le32 src_pid;	 /* sending process (its home pid), 0 for none */
	__le32 dst_pid;	 /* receiving process (its home pid), 0 for none */
	__le64 seq;	 /* per (src_node, dst_node) pair, from 1, by the sender */
	__le64 reply_to; /* seq of the request this answers, 0 for none */
	__le32 len;	 /* payload bytes after the header */
	__le32 reserved; /* zero */
};

enum virtio_om_size {
	VIRTIO_OM_HDR_SIZE = 48,
	VIRTIO_OM_NODE_EVENT_SIZE = 8,
	VIRTIO_OM_PING_SIZE = 8,
};

/* Header flags. */
#define VIRTIO_OM_F_REPLY 0x1u /* answers the request named by reply_to */
#define VIRTIO_OM_F_ALL   VIRTIO_OM_F_REPLY

/*
 * Message types, one table for both directions, grouped by range. Each
 * range's owner defines its types as it is built; a receiver refuses a type
 * it does not know.
 */
enum virtio_om_type {
	/* 0x00xx: control, sent by the host (src_node 0) to guests. */
	VIRTIO_OM_T_NODE_UP = 0x0001,	/* payload: struct virtio_om_node_event */
	VIRTIO_OM_T_NODE_DOWN = 0x0002, /* payload: struct virtio_om_node_event */

	/* 0x001x: liveness and round trips between guests. */
	VIRTIO_OM_T_PING = 0x0010, /* payload: struct virtio_om_ping */
	VIRTIO_OM_T_PONG = 0x0011, /* the ping's payload, echoed; F_REPLY */

	/* 0x01xx: migration steps (the engine). */
	VIRTIO_OM_T_MIGRATION_FIRST = 0x0100,
	VIRTIO_OM_T_MIGRATION_LAST = 0x01ff,
	/* 0x02xx: forwarded system calls (the engine). */
	VIRTIO_OM_T_SYSCALL_FIRST = 0x0200,
	VIRTIO_OM_T_SYSCALL_LAST = 0x02ff,
	/* 0x03xx: the deputy's access to a process's memory (the engine). */
	VIRTIO_OM_T_MEMORY_FIRST = 0x0300,
	VIRTIO_OM_T_MEMORY_LAST = 0x03ff,

	/* 0x7fxx: test traffic: an opaque payload its receiver checks. */
	VIRTIO_OM_T_TEST_DATA = 0x7f00,
};

/*
 * The same table as data, for every side that checks or names messages
 * (driver, omhostd, tracing): X(name, value, sender, min_len, max_len).
 * sender is HOST or GUEST; max_len VIRTIO_OM_LEN_ANY means up to the
 * device's max_payload. A type missing here is refused by its receiver.
 */
#define VIRTIO_OM_LEN_ANY 0xffffffffu
#define VIRTIO_OM_FOR_EACH_TYPE(X)					\
	X(NODE_UP, 0x0001, HOST, VIRTIO_OM_NODE_EVENT_SIZE, VIRTIO_OM_NODE_EVENT_SIZE) \
	X(NODE_DOWN, 0x0002, HOST, VIRTIO_OM_NODE_EVENT_SIZE, VIRTIO_OM_NODE_EVENT_SIZE) \
	X(PING, 0x0010, GUEST, VIRTIO_OM_PING_SIZE, VIRTIO_OM_PING_SIZE) \
	X(PONG, 0x0011, GUEST, VIRTIO_OM_PING_SIZE, VIRTIO_OM_PING_SIZE) \
	X(TEST_DATA, 0x7f00, GUEST, 0, VIRTIO_OM_LEN_ANY)

/* Why a node went down or came up. */
enum virtio_om_node_reason {
	VIRTIO_OM_NODE_JOINED = 1,	 /* its device connected to the host */
	VIRTIO_OM_NODE_RECONNECTED = 2,	 /* it, or the host relay, came back */
	VIRTIO_OM_NODE_DISCONNECTED = 3, /* its device went away (VM stopped or died) */
	VIRTIO_OM_NODE_EVICTED = 4,	 /* the host refused it: it broke the protocol */
};

struct virtio_om_node_event {
	__le32 node;
	__le32 reason; /* enum virtio_om_node_reason */
};

struct virtio_om_ping {
	__le64 cookie; /* echoed in the pong */
};

#endif /* _UAPI_LINUX_VIRTIO_OM_H */
