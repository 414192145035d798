/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One relay link's reliable stream, without I/O (docs/protocol.md, "Relay
 * links"): what this side sends (outboxes per destination waiting for
 * credit, sequenced frames kept until acknowledged, resent after a
 * reconnect), what it receives (checked, duplicates dropped, held per
 * local destination until the relay delivers them, acknowledged only
 * then), credits both ways. Frames come in decoded (link-frame.h) and go
 * out as bytes in an output buffer the caller writes to the connection;
 * the caller (link.c) owns sockets, TLS, timers and the relay.
 */
#ifndef OM_HOSTD_LINK_SESSION_H
#define OM_HOSTD_LINK_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include "link-frame.h"

/* A message or node event queued for the peer, unacknowledged, or held for a local node. */
struct om_link_item {
	TAILQ_ENTRY(om_link_item) link;
	uint64_t seq;	/* its frame's number; 0: not numbered yet, or held from a peer's old run */
	uint16_t type;	/* OM_LINK_T_DATA or OM_LINK_T_NODE */
	uint64_t token;	/* DATA sent from here: the caller's, for ops->settled (0: none) */
	struct om_link_node_v ev; /* NODE */
	struct om_msg_hdr h;	  /* DATA: the message's header, source stamped */
	/*
	 * DATA sent from here: its frame's header and the message's, encoded
	 * as it is queued; the payload right after them, so the frame is
	 * written whole from here, not copied into the output first.
	 */
	unsigned char frame[OM_LINK_HDR_SIZE + VIRTIO_OM_HDR_SIZE];
	unsigned char payload[];  /* DATA: h.len bytes */
};
TAILQ_HEAD(om_link_items, om_link_item);

/* What a local node's state means for a message from the peer to it. */
enum om_link_dest_state {
	OM_LINK_DEST_UP,      /* deliver (hold until it takes it) */
	OM_LINK_DEST_AWAITED, /* not up yet, may come (after a restart): hold */
	OM_LINK_DEST_DOWN,    /* drop, counted */
};

struct om_link_session_ops {
	enum om_link_dest_state (*dest_state)(void *ctx, uint32_t node);
	/*
	 * A message pushed with a token left this side: acknowledged by the
	 * peer, or dropped (counted). Optional. Not called by session_free.
	 */
	void (*settled)(void *ctx, const struct om_link_item *it);
	/*
	 * A frame (len bytes, header first) was queued for the connection:
	 * for the trace. Optional; it must not touch the session.
	 */
	void (*framed)(void *ctx, const unsigned char *frame, size_t len);
};

struct om_link_session_config {
	struct om_link_range self, peer;
	uint32_t max_payload;			/* this side's, <= 64 KiB */
	uint32_t credit_bytes;			/* buf_alloc per local node, >= 48 + max_payload */
	uint32_t outbox_bytes, outbox_msgs;	/* per peer node: what waits for its credit */
	uint64_t unacked_bytes_max;		/* sent and unacknowledged, in all */
};

#define OM_LINK_CREDIT_BYTES (1u << 20)
#define OM_LINK_OUTBOX_BYTES (1u << 20)
#define OM_LINK_OUTBOX_MSGS 256u
#define OM_LINK_UNACKED_BYTES_MAX (64ull << 20)
/* Encoded frames waiting for the connection: no more are made past this. */
#define OM_LINK_OUT_HIGH (256u << 10)
/* DATA frames with at least this much payload are written from their item. */
#define OM_LINK_OUT_DIRECT_MIN 4096u
/* How many such frames may wait at once (OUT_HIGH of them, and one more). */
#define OM_LINK_OUT_REFS (OM_LINK_OUT_HIGH / OM_LINK_OUT_DIRECT_MIN + 2)

/* A DATA frame to be written from its item, after the output's bytes before at. */
struct om_link_out_ref {
	struct om_link_item *it;
	size_t at;
};

struct om_link_counters {
	uint64_t frames_tx, frames_rx;
	uint64_t data_tx, data_rx;	/* messages sent (first time), received (not duplicates) */
	uint64_t resent;		/* frames sent again after a reconnect */
	uint64_t duplicates;		/* frames received again, dropped */
	uint64_t undeliverable;		/* messages dropped: a destination down, a peer given up */
	uint64_t refused[OM_LINK_VERDICT_COUNT]; /* frames that cut the link, by rule */
};

/* A peer's node: what waits to be sent to it, its credit, its state. */
struct om_link_out_dest {
	struct om_link_items outbox;
	uint32_t msgs;
	uint64_t bytes;
	uint32_t buf_alloc, fwd_cnt, tx_cnt; /* vsock's; tx_cnt counts what was numbered */
	bool credited;			     /* a credit came from this run of the peer */
	bool up;			     /* the peer said it is up */
	uint16_t reason;		     /* its last event's reason */
};

/* A local node: what came from the peer for it and waits for it. */
struct om_link_in_dest {
	struct om_link_items held;
	uint32_t msgs;
	uint64_t bytes;		/* credit used: DATA messages' whole lengths */
	uint32_t fwd_cnt, told_fwd;
	uint16_t own_reason;	/* 0: down; else the reason of its last NODE_UP (told to the peer) */
};

struct om_link_session {
	struct om_link_session_config cfg;
	const struct om_link_session_ops *ops;
	void *ctx;
	uint64_t session;	/* this side's run */
	uint64_t peer_session;	/* the peer's run whose frames rx_seq counts; 0: none */
	/* Sending. */
	uint64_t tx_seq;	/* the last number given */
	uint64_t tx_acked;	/* the peer dealt with all up to this */
	uint64_t tx_written_max; /* the highest number ever written to a connection */
	struct om_link_items unacked; /* numbered, not acknowledged, in order */
	struct om_link_item *send_next; /* the first of them not written on this connection */
	uint32_t unacked_n;
	uint64_t unacked_bytes;
	uint32_t outbox_n;
	uint32_t rr;		/* where the next round of outboxes starts */
	/* Receiving. */
	uint64_t rx_seq;	/* the last of the peer's frames taken in order */
	uint32_t held_n;
	struct om_link_item *rx_room; /* a DATA frame being read into it (om_link_session_rx_room) */
	/* This connection. */
	bool connected, hello_rx;
	bool credits_all;	/* every local node's credit is to be told */
	uint64_t ack_told;
	unsigned char *out;
	size_t out_off, out_len, out_cap; /* bytes out[out_off, out_len) wait for the connection */
	struct om_link_out_ref refs[OM_LINK_OUT_REFS]; /* and these frames, in order among them */
	uint32_t ref_head, ref_n;
	size_t ref_done;	/* bytes of the first one written */
	size_t ref_bytes;	/* bytes of them all not written */
	struct om_link_out_dest *odst; /* by peer node - peer.first */
	struct om_link_in_dest *idst;  /* by local node - self.first */
	struct om_link_counters c;
};

/* 0 or -ENOMEM / -EINVAL (ranges, credit). session: this side's run, not 0. */
int om_link_session_init(struct om_link_session *s, const struct om_link_session_config *cfg,
			 const struct om_link_session_ops *ops, void *ctx, uint64_t session);
void om_link_session_free(struct om_link_session *s);

/* A connection is up (TLS done): the HELLO goes first. 0 or -ENOMEM. */
int om_link_session_connected(struct om_link_session *s);
/* The connection is gone: what was not written is written again on the next. */
void om_link_session_disconnected(struct om_link_session *s);

/*
 * One whole frame from the peer (header checked by the reader). OM_LINK_OK,
 * or the rule it broke (counted in c.refused): the caller cuts the
 * connection. -ENOMEM is reported as OM_LINK_OK after cutting nothing: the
 * frame is not taken (not acknowledged) and comes again after a reconnect;
 * *nomem says so.
 */
enum om_link_verdict om_link_session_input(struct om_link_session *s, const struct om_link_frame *f,
					   const void *payload, bool *nomem);

/*
 * Where the payload of the DATA frame whose header f (checked) was just
 * read may go: into a message's item, which input then holds as it is (a
 * 64 KiB copy saved), or NULL (too small to matter, or no memory: the
 * reader's buffer then). The next input, or a disconnect, lets it go.
 */
unsigned char *om_link_session_rx_room(struct om_link_session *s, const struct om_link_frame *f);
/*
 * Makes the frames that are due: credits, messages their destination's
 * credit allows (in turns across destinations), resends, a heartbeat
 * carrying a new ack. Up to OM_LINK_OUT_HIGH waiting. 0 or -ENOMEM.
 */
int om_link_session_pump(struct om_link_session *s);
/* A HEARTBEAT now (nothing was sent for a while). 0 or -ENOMEM. */
int om_link_session_heartbeat(struct om_link_session *s);

/*
 * The next bytes waiting for the connection, in one place (more may wait
 * after them: call again once they are written); then how many of them
 * were written (at most what pending said).
 */
size_t om_link_session_pending(const struct om_link_session *s, const void **p);
void om_link_session_written(struct om_link_session *s, size_t n);

/* The ack this side owes: the peer's frames up to it are dealt with. */
uint64_t om_link_session_ack(const struct om_link_session *s);

/* Whether a message of len payload bytes to the peer's node dst fits its outbox. */
bool om_link_session_fits(const struct om_link_session *s, uint32_t dst, uint32_t len);
/*
 * Copies a message (header h, source stamped; payload at byte off of iov)
 * into its destination's outbox; token (not 0) is handed to ops->settled
 * once it leaves. 0, -ENOSPC (full: the sender waits), -EINVAL (not a
 * peer's node), -ENOMEM.
 */
int om_link_session_push(struct om_link_session *s, const struct om_msg_hdr *h,
			 const struct iovec *iov, unsigned int n, size_t off, uint64_t token);
static inline struct om_link_out_dest *om_link_session_out(const struct om_link_session *s,
							  uint32_t node)
{
	return om_link_in_range(&s->cfg.peer, node) ? &s->odst[node - s->cfg.peer.first] : NULL;
}
static inline struct om_link_in_dest *om_link_session_in(const struct om_link_session *s,
							uint32_t node)
{
	return om_link_in_range(&s->cfg.self, node) ? &s->idst[node - s->cfg.self.first] : NULL;
}

/*
 * A local node came up (reason JOINED or RECONNECTED) or went down: the
 * peer is told, in order with its messages. Going down, its messages not
 * numbered yet are dropped (they would arrive after the event; counted),
 * how many is returned. -ENOMEM when the event could not be queued.
 */
int om_link_session_local_node(struct om_link_session *s, uint32_t node, bool up, uint16_t reason);

/* The first thing held for local node dst, or NULL. */
static inline struct om_link_item *om_link_session_held(const struct om_link_session *s,
							uint32_t dst)
{
	struct om_link_in_dest *in = om_link_session_in(s, dst);

	return in ? TAILQ_FIRST(&in->held) : NULL;
}
/* The first held for dst was delivered (or dropped: dropped true, counted). */
void om_link_session_done(struct om_link_session *s, uint32_t dst, bool dropped);
/* Drops everything held for dst (it went down); how many messages. */
uint32_t om_link_session_drop_held(struct om_link_session *s, uint32_t dst);

/*
 * Gives the peer up (unlinked too long): everything queued, unacknowledged
 * or held goes (counted), its nodes are down, and this side starts a new
 * run (new_session) so that neither resumes the old numbering.
 */
void om_link_session_forget_peer(struct om_link_session *s, uint64_t new_session);

#endif /* OM_HOSTD_LINK_SESSION_H */
