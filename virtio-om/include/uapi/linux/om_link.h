/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * omvm relay links: the frames two omhostd relays on different hosts
 * exchange, inside TLS 1.3, to carry virtio-om messages between their
 * guests. This header is the one definition of that wire format; its
 * document is docs/protocol.md, "Relay links". Every field is
 * little-endian, every size fixed and named, so a receiver checks a
 * frame's length before looking inside it. The peer is untrusted: every
 * rule below is checked on every frame, and a frame that breaks one cuts
 * the link.
 */
#ifndef _UAPI_LINUX_OM_LINK_H
#define _UAPI_LINUX_OM_LINK_H

#include <linux/types.h>

/* Version of the frame format; a frame of another version cuts the link. */
#define OM_LINK_VERSION 1

/* "OMLK" read as a little-endian u32: what a HELLO starts with. */
#define OM_LINK_MAGIC 0x4b4c4d4fu

/*
 * The header of every frame. seq numbers the sequenced frames (DATA,
 * NODE) of one direction of a link, from 1, by 1, across reconnects of the
 * same pair of relay sessions; ack tells the peer that every sequenced
 * frame of its own up to ack has been dealt with here (delivered to the
 * guest, or dropped by the relay's rules), so it may forget them.
 */
struct om_link_hdr {
	__le16 version;	 /* OM_LINK_VERSION */
	__le16 type;	 /* enum om_link_type */
	__le32 len;	 /* payload bytes after this header */
	__le64 seq;	 /* sequenced types: this frame's number; others: 0 */
	__le64 ack;	 /* the peer's frames dealt with here, cumulative; 0: none yet */
	__le32 flags;	 /* none defined: 0 */
	__le32 reserved; /* 0 */
};

enum om_link_type {
	OM_LINK_T_HELLO = 0x01,	    /* struct om_link_hello; first frame each way, once */
	OM_LINK_T_DATA = 0x02,	    /* a virtio-om message (header + payload); sequenced */
	OM_LINK_T_NODE = 0x03,	    /* struct om_link_node: a node up or down; sequenced */
	OM_LINK_T_CREDIT = 0x04,    /* struct om_link_credits + entries: room for its nodes */
	OM_LINK_T_HEARTBEAT = 0x05, /* no payload: alive, and the header's ack */
};

/*
 * Sent first by each side once TLS is up. session names the sender's run
 * (random, never 0, new at each start); peer_session the receiver's run
 * that the header's ack and this frame's tx_base refer to (0: the sender
 * remembers none, it starts afresh). tx_base: the sender's sequenced
 * frames up to tx_base need no resending (acknowledged, or never sent);
 * it resends from tx_base + 1.
 */
struct om_link_hello {
	__le32 magic;	    /* OM_LINK_MAGIC */
	__le32 max_payload; /* the largest virtio-om payload the sender relays (<= 64 KiB) */
	__le64 session;
	__le64 peer_session;
	__le64 tx_base;
	__le32 first_node;  /* the nodes the sender serves: first..last, 1..1024 */
	__le32 last_node;
};

/* One of the sender's nodes changed state; reasons are virtio-om's. */
struct om_link_node {
	__le32 node;   /* within the sender's range */
	__le16 state;  /* OM_LINK_NODE_UP or OM_LINK_NODE_DOWN */
	__le16 reason; /* VIRTIO_OM_NODE_JOINED..EVICTED, matching state */
};

#define OM_LINK_NODE_UP	  1
#define OM_LINK_NODE_DOWN 2

/*
 * Credits, as virtio-vsock's buf_alloc/fwd_cnt, per destination node of
 * the sender of this frame: it holds up to buf_alloc bytes of messages for
 * node, and has taken fwd_cnt bytes for it off the link (delivered or
 * dropped), counted modulo 2^32. The peer may have at most buf_alloc -
 * (its bytes sent to node - fwd_cnt) more in flight for it; a message
 * costs its whole length (48-byte header + payload).
 */
struct om_link_credits {
	__le32 count;	 /* entries that follow, 1..1024 */
	__le32 reserved; /* 0 */
};

struct om_link_credit {
	__le32 node;	  /* within the sender's range */
	__le32 buf_alloc; /* >= 48 + the sender's max_payload */
	__le32 fwd_cnt;
	__le32 reserved;  /* 0 */
};

enum om_link_size {
	OM_LINK_HDR_SIZE = 32,
	OM_LINK_HELLO_SIZE = 40,
	OM_LINK_NODE_SIZE = 8,
	OM_LINK_CREDITS_SIZE = 8,  /* + count * OM_LINK_CREDIT_SIZE */
	OM_LINK_CREDIT_SIZE = 16,
};

/*
 * The largest frame payload of any type: a DATA frame holding the largest
 * virtio-om message (its 48-byte header and 64 KiB). A CREDIT is at most
 * 8 + 1024 * 16 bytes.
 */
#define OM_LINK_MAX_FRAME_PAYLOAD (48u + 65536u)
#define OM_LINK_MAX_CREDITS 1024u

#endif /* _UAPI_LINUX_OM_LINK_H */
