// SPDX-License-Identifier: GPL-2.0-only
/*
 * One relay link's reliable stream (link-session.h): numbering,
 * acknowledgement on delivery, resend after a reconnect, duplicates,
 * credits per destination. No I/O and no clock: driven by link.c, and by
 * the unit tests frame by frame.
 */
#include "link-session.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* What a message costs its destination's credit: its whole length. */
static uint32_t om_link_cost(const struct om_link_item *it)
{
	return it->type == OM_LINK_T_DATA ? VIRTIO_OM_HDR_SIZE + it->h.len : 0;
}

static uint32_t om_link_range_size(const struct om_link_range *r)
{
	return r->last - r->first + 1;
}

int om_link_session_init(struct om_link_session *s, const struct om_link_session_config *cfg,
			 const struct om_link_session_ops *ops, void *ctx, uint64_t session)
{
	memset(s, 0, sizeof(*s));
	if (!session || !cfg->self.first || cfg->self.first > cfg->self.last ||
	    cfg->self.last > VIRTIO_OM_MAX_NODES || !cfg->peer.first ||
	    cfg->peer.first > cfg->peer.last || cfg->peer.last > VIRTIO_OM_MAX_NODES ||
	    !cfg->max_payload || cfg->max_payload > VIRTIO_OM_MAX_PAYLOAD ||
	    cfg->credit_bytes < VIRTIO_OM_HDR_SIZE + cfg->max_payload)
		return -EINVAL;
	s->cfg = *cfg;
	s->ops = ops;
	s->ctx = ctx;
	s->session = session;
	TAILQ_INIT(&s->unacked);
	s->odst = calloc(om_link_range_size(&cfg->peer), sizeof(*s->odst));
	s->idst = calloc(om_link_range_size(&cfg->self), sizeof(*s->idst));
	if (!s->odst || !s->idst) {
		free(s->odst);
		free(s->idst);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < om_link_range_size(&cfg->peer); i++)
		TAILQ_INIT(&s->odst[i].outbox);
	for (uint32_t i = 0; i < om_link_range_size(&cfg->self); i++)
		TAILQ_INIT(&s->idst[i].held);
	return 0;
}

static void om_link_free_items(struct om_link_items *l)
{
	struct om_link_item *it;

	while ((it = TAILQ_FIRST(l))) {
		TAILQ_REMOVE(l, it, link);
		free(it);
	}
}

void om_link_session_free(struct om_link_session *s)
{
	if (!s->odst)
		return;
	om_link_free_items(&s->unacked);
	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.peer); i++)
		om_link_free_items(&s->odst[i].outbox);
	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self); i++)
		om_link_free_items(&s->idst[i].held);
	free(s->odst);
	free(s->idst);
	free(s->out);
	free(s->rx_room);
	s->rx_room = NULL;
	s->odst = NULL;
	s->idst = NULL;
	s->out = NULL;
}

uint64_t om_link_session_ack(const struct om_link_session *s)
{
	uint64_t ack = s->rx_seq;

	/* Held frames are received, not dealt with: the ack stops below the oldest. */
	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self); i++) {
		struct om_link_item *it;

		TAILQ_FOREACH(it, &s->idst[i].held, link)
			if (it->seq) {
				if (it->seq - 1 < ack)
					ack = it->seq - 1;
				break; /* in order: the first numbered is the oldest */
			}
	}
	return ack;
}

_Static_assert(offsetof(struct om_link_item, payload) ==
	       offsetof(struct om_link_item, frame) + OM_LINK_HDR_SIZE + VIRTIO_OM_HDR_SIZE,
	       "a DATA frame is whole in its item");

static size_t om_link_frame_size(const struct om_link_item *it)
{
	return OM_LINK_HDR_SIZE + VIRTIO_OM_HDR_SIZE + (size_t)it->h.len;
}

/* All that waits for the connection, output bytes and frames written from their items. */
static size_t om_link_out_queued(const struct om_link_session *s)
{
	return s->out_len - s->out_off + s->ref_bytes;
}

static void om_link_out_clear(struct om_link_session *s)
{
	s->out_off = s->out_len = 0;
	s->ref_head = s->ref_n = 0;
	s->ref_done = s->ref_bytes = 0;
}

/* The output's unwritten bytes moved to its start; the frames between them with them. */
static void om_link_out_rebase(struct om_link_session *s)
{
	if (!s->out_off)
		return;
	memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
	for (uint32_t i = 0; i < s->ref_n; i++)
		s->refs[(s->ref_head + i) % OM_LINK_OUT_REFS].at -= s->out_off;
	s->out_len -= s->out_off;
	s->out_off = 0;
}

/* Room for len more bytes of output. */
static int om_link_out_reserve(struct om_link_session *s, size_t len)
{
	size_t cap;
	unsigned char *p;

	if (s->out_off == s->out_len)
		om_link_out_rebase(s);
	if (s->out_len + len <= s->out_cap)
		return 0;
	if (s->out_off) {
		om_link_out_rebase(s);
		if (s->out_len + len <= s->out_cap)
			return 0;
	}
	cap = s->out_cap ? s->out_cap : 4096;
	while (cap < s->out_len + len)
		cap *= 2;
	p = realloc(s->out, cap);
	if (!p)
		return -ENOMEM;
	s->out = p;
	s->out_cap = cap;
	return 0;
}

size_t om_link_session_pending(const struct om_link_session *s, const void **p)
{
	const struct om_link_out_ref *r = s->ref_n ? &s->refs[s->ref_head] : NULL;

	if (r && r->at == s->out_off) {
		*p = r->it->frame + s->ref_done;
		return om_link_frame_size(r->it) - s->ref_done;
	}
	*p = s->out + s->out_off;
	return (r ? r->at : s->out_len) - s->out_off;
}

void om_link_session_written(struct om_link_session *s, size_t n)
{
	while (n) {
		const struct om_link_out_ref *r = s->ref_n ? &s->refs[s->ref_head] : NULL;
		size_t k;

		if (r && r->at == s->out_off) {
			k = om_link_frame_size(r->it) - s->ref_done;
			k = n < k ? n : k;
			s->ref_done += k;
			s->ref_bytes -= k;
			if (s->ref_done == om_link_frame_size(r->it)) {
				s->ref_head = (s->ref_head + 1) % OM_LINK_OUT_REFS;
				s->ref_n--;
				s->ref_done = 0;
			}
		} else {
			k = (r ? r->at : s->out_len) - s->out_off;
			k = n < k ? n : k;
			if (!k)
				break; /* more than waited: nothing left */
			s->out_off += k;
		}
		n -= k;
	}
	if (!s->ref_n && s->out_off >= s->out_len)
		s->out_off = s->out_len = 0;
}

/* Whether ack covers a frame not written yet: no honest peer has it. */
static bool om_link_ack_unwritten(const struct om_link_session *s, uint64_t ack)
{
	return s->ref_n && ack >= s->refs[s->ref_head].it->seq;
}

/* A frame of len bytes was written at the end of the output: it counts, and the caller hears. */
static void om_link_queued(struct om_link_session *s, size_t len)
{
	s->out_len += len;
	s->c.frames_tx++;
	if (s->ops->framed)
		s->ops->framed(s->ctx, s->out + s->out_len - len, len);
}

static int om_link_emit_hello(struct om_link_session *s)
{
	struct om_link_hello_v h = {
		.max_payload = s->cfg.max_payload,
		.session = s->session,
		.peer_session = s->peer_session,
		.tx_base = s->tx_acked,
		.range = s->cfg.self,
	};
	int err = om_link_out_reserve(s, OM_LINK_HDR_SIZE + OM_LINK_HELLO_SIZE);

	if (err)
		return err;
	s->ack_told = om_link_session_ack(s);
	om_link_queued(s, om_link_encode_hello(s->out + s->out_len, s->ack_told, &h));
	return 0;
}

int om_link_session_connected(struct om_link_session *s)
{
	s->connected = true;
	s->hello_rx = false;
	om_link_out_clear(s);
	s->send_next = NULL;
	return om_link_emit_hello(s);
}

void om_link_session_disconnected(struct om_link_session *s)
{
	free(s->rx_room);
	s->rx_room = NULL;
	s->connected = false;
	s->hello_rx = false;
	om_link_out_clear(s);
	s->send_next = NULL;
}

/* A message of ours leaves this side's memory (acknowledged, or dropped): its sender hears. */
static void om_link_item_gone(struct om_link_session *s, struct om_link_item *it)
{
	if (it->token && s->ops->settled)
		s->ops->settled(s->ctx, it);
	free(it);
}

/* The peer dealt with every frame up to ack: they are forgotten. */
static void om_link_apply_ack(struct om_link_session *s, uint64_t ack)
{
	struct om_link_item *it;

	while ((it = TAILQ_FIRST(&s->unacked)) && it->seq <= ack) {
		if (s->send_next == it)
			s->send_next = TAILQ_NEXT(it, link);
		TAILQ_REMOVE(&s->unacked, it, link);
		s->unacked_n--;
		s->unacked_bytes -= om_link_cost(it);
		om_link_item_gone(s, it);
	}
	if (ack > s->tx_acked)
		s->tx_acked = ack;
}

static void om_link_append_unacked(struct om_link_session *s, struct om_link_item *it)
{
	it->seq = ++s->tx_seq;
	TAILQ_INSERT_TAIL(&s->unacked, it, link);
	s->unacked_n++;
	s->unacked_bytes += om_link_cost(it);
	if (s->connected && s->hello_rx && !s->send_next)
		s->send_next = it;
}

static int om_link_queue_node_event(struct om_link_session *s, uint32_t node, uint16_t state,
				    uint16_t reason)
{
	struct om_link_item *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	it->type = OM_LINK_T_NODE;
	it->ev = (struct om_link_node_v){ .node = node, .state = state, .reason = reason };
	om_link_append_unacked(s, it);
	return 0;
}

/*
 * The peer's HELLO: where each side resumes. Its run and ours, as each
 * remembers the other, decide what is resent and where numbering goes on.
 */
static enum om_link_verdict om_link_take_hello(struct om_link_session *s,
					       const struct om_link_frame *f, const void *payload,
					       bool *nomem)
{
	struct om_link_hello_v h;
	enum om_link_verdict v;
	bool knows_us, same_peer;

	if (s->hello_rx)
		return OM_LINK_BAD_HELLO;
	v = om_link_decode_hello(payload, f->len, &h);
	if (v != OM_LINK_OK)
		return v;
	if (h.range.first != s->cfg.peer.first || h.range.last != s->cfg.peer.last)
		return OM_LINK_BAD_HELLO;
	knows_us = h.peer_session == s->session;
	same_peer = s->peer_session && h.session == s->peer_session;
	if (knows_us && f->ack > s->tx_seq)
		return OM_LINK_BAD_ACK;
	/* It cannot have been told more was dealt with than was received. */
	if (same_peer && h.tx_base > s->rx_seq)
		return OM_LINK_BAD_HELLO;
	if (knows_us) {
		om_link_apply_ack(s, f->ack);
	} else {
		struct om_link_item *it;

		/*
		 * A new run of the peer: it knows nothing of ours. All not
		 * acknowledged is resent; what it holds is counted afresh from
		 * those, until its credits come; our nodes' state goes again.
		 */
		for (uint32_t i = 0; i < om_link_range_size(&s->cfg.peer); i++) {
			s->odst[i].credited = false;
			s->odst[i].tx_cnt = 0;
		}
		TAILQ_FOREACH(it, &s->unacked, link)
			if (it->type == OM_LINK_T_DATA)
				om_link_session_out(s, it->h.dst_node)->tx_cnt += om_link_cost(it);
		for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self); i++)
			if (s->idst[i].own_reason &&
			    om_link_queue_node_event(s, s->cfg.self.first + i, OM_LINK_NODE_UP,
						     VIRTIO_OM_NODE_RECONNECTED)) {
				*nomem = true;
				return OM_LINK_OK;
			}
	}
	if (!same_peer) {
		/*
		 * Frames held from its old run are still delivered, outside the
		 * ack (no one will resend them); their bytes stay counted in the
		 * credit it starts with.
		 */
		for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self); i++) {
			struct om_link_in_dest *in = &s->idst[i];
			struct om_link_item *it;

			TAILQ_FOREACH(it, &in->held, link)
				it->seq = 0;
			in->fwd_cnt = (uint32_t)(0 - in->bytes);
			in->told_fwd = in->fwd_cnt;
		}
		s->peer_session = h.session;
		s->rx_seq = h.tx_base;
	}
	s->hello_rx = true;
	s->credits_all = true;
	s->send_next = TAILQ_FIRST(&s->unacked);
	return OM_LINK_OK;
}

/* Appends a node event for local node dst, replacing one about the same node not followed by its data. */
static bool om_link_hold_event(struct om_link_session *s, struct om_link_in_dest *in,
			       const struct om_link_node_v *ev, uint64_t seq)
{
	struct om_link_item *it, *prev, *e = calloc(1, sizeof(*e));

	if (!e)
		return false;
	e->type = OM_LINK_T_NODE;
	e->ev = *ev;
	e->seq = seq;
	/*
	 * An older event about that node with none of its messages after it
	 * says nothing the new one does not: it goes. So events held stay
	 * bounded by the messages held, whatever the peer sends.
	 */
	for (it = TAILQ_LAST(&in->held, om_link_items); it; it = prev) {
		prev = TAILQ_PREV(it, om_link_items, link);
		if (it->type == OM_LINK_T_DATA && it->h.src_node == ev->node)
			break;
		if (it->type == OM_LINK_T_NODE && it->ev.node == ev->node) {
			TAILQ_REMOVE(&in->held, it, link);
			s->held_n--;
			free(it);
			break;
		}
	}
	TAILQ_INSERT_TAIL(&in->held, e, link);
	s->held_n++;
	return true;
}

static enum om_link_verdict om_link_take_node(struct om_link_session *s,
					      const struct om_link_frame *f, const void *payload,
					      bool *nomem)
{
	struct om_link_node_v ev;
	enum om_link_verdict v = om_link_decode_node(payload, f->len, &s->cfg.peer, &ev);
	struct om_link_out_dest *od;

	if (v != OM_LINK_OK)
		return v;
	if (f->seq <= s->rx_seq) {
		s->c.duplicates++;
		return OM_LINK_OK;
	}
	od = om_link_session_out(s, ev.node);
	/* DOWN about a node not up here tells the guests nothing (a restarted peer's absent ones). */
	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self) &&
			     (ev.state == OM_LINK_NODE_UP || od->up); i++) {
		uint32_t dst = s->cfg.self.first + i;

		if (s->ops->dest_state(s->ctx, dst) != OM_LINK_DEST_UP)
			continue; /* told the peer's nodes' state when it comes up */
		if (!om_link_hold_event(s, &s->idst[i], &ev, f->seq)) {
			*nomem = true;
			return OM_LINK_OK;
		}
	}
	od->up = ev.state == OM_LINK_NODE_UP;
	od->reason = ev.reason;
	s->rx_seq = f->seq;
	return OM_LINK_OK;
}

static enum om_link_verdict om_link_take_data(struct om_link_session *s,
					      const struct om_link_frame *f, const void *payload,
					      bool *nomem)
{
	struct om_msg_hdr h;
	enum om_link_verdict v = om_link_decode_data(payload, f->len, &s->cfg.peer, &s->cfg.self,
						     s->cfg.max_payload, &h);
	struct om_link_in_dest *in;
	struct om_link_item *it;
	uint32_t cost;

	if (v != OM_LINK_OK)
		return v;
	if (f->seq <= s->rx_seq) {
		s->c.duplicates++;
		return OM_LINK_OK;
	}
	in = om_link_session_in(s, h.dst_node);
	cost = VIRTIO_OM_HDR_SIZE + h.len;
	if (s->ops->dest_state(s->ctx, h.dst_node) == OM_LINK_DEST_DOWN) {
		/* Dealt with: dropped as the relay drops a message to a node that is down. */
		s->c.undeliverable++;
		s->c.data_rx++;
		in->fwd_cnt += cost;
		s->rx_seq = f->seq;
		return OM_LINK_OK;
	}
	if (in->bytes + cost > s->cfg.credit_bytes)
		return OM_LINK_CREDIT_EXCEEDED;
	if (s->rx_room && payload == s->rx_room->frame + OM_LINK_HDR_SIZE) {
		it = s->rx_room; /* read into it already: f->len = 48 + h.len, its room */
		s->rx_room = NULL;
	} else {
		it = malloc(sizeof(*it) + h.len);
		if (!it) {
			*nomem = true;
			return OM_LINK_OK;
		}
		memcpy(it->payload, (const unsigned char *)payload + VIRTIO_OM_HDR_SIZE, h.len);
	}
	memset(it, 0, offsetof(struct om_link_item, frame));
	it->type = OM_LINK_T_DATA;
	it->seq = f->seq;
	it->h = h;
	TAILQ_INSERT_TAIL(&in->held, it, link);
	in->msgs++;
	in->bytes += cost;
	s->held_n++;
	s->c.data_rx++;
	s->rx_seq = f->seq;
	return OM_LINK_OK;
}

static enum om_link_verdict om_link_take_credits(struct om_link_session *s,
						 const struct om_link_frame *f, const void *payload)
{
	struct om_link_credit_v c[OM_LINK_MAX_CREDITS];
	uint32_t n;
	enum om_link_verdict v = om_link_decode_credits(payload, f->len, &s->cfg.peer, c, &n);

	if (v != OM_LINK_OK)
		return v;
	for (uint32_t i = 0; i < n; i++) {
		struct om_link_out_dest *od = om_link_session_out(s, c[i].node);

		od->buf_alloc = c[i].buf_alloc;
		od->fwd_cnt = c[i].fwd_cnt;
		od->credited = true;
	}
	return OM_LINK_OK;
}

unsigned char *om_link_session_rx_room(struct om_link_session *s, const struct om_link_frame *f)
{
	free(s->rx_room);
	s->rx_room = NULL;
	if (f->type != OM_LINK_T_DATA || f->len < VIRTIO_OM_HDR_SIZE + OM_LINK_OUT_DIRECT_MIN)
		return NULL;
	s->rx_room = malloc(sizeof(*s->rx_room) + f->len - VIRTIO_OM_HDR_SIZE);
	return s->rx_room ? s->rx_room->frame + OM_LINK_HDR_SIZE : NULL;
}

enum om_link_verdict om_link_session_input(struct om_link_session *s, const struct om_link_frame *f,
					   const void *payload, bool *nomem)
{
	enum om_link_verdict v;

	*nomem = false;
	if (f->type == OM_LINK_T_HELLO) {
		v = om_link_take_hello(s, f, payload, nomem);
	} else if (!s->hello_rx) {
		v = OM_LINK_BAD_HELLO;
	} else if (f->ack > s->tx_seq || om_link_ack_unwritten(s, f->ack)) {
		v = OM_LINK_BAD_ACK;
	} else if (om_link_sequenced(f->type) && f->seq > s->rx_seq + 1) {
		/* A sequenced frame is the next one, or one already had (a resend). */
		v = OM_LINK_BAD_SEQ;
	} else {
		om_link_apply_ack(s, f->ack);
		switch (f->type) {
		case OM_LINK_T_DATA:
			v = om_link_take_data(s, f, payload, nomem);
			break;
		case OM_LINK_T_NODE:
			v = om_link_take_node(s, f, payload, nomem);
			break;
		case OM_LINK_T_CREDIT:
			v = om_link_take_credits(s, f, payload);
			break;
		case OM_LINK_T_HEARTBEAT:
			v = OM_LINK_OK;
			break;
		default:
			v = OM_LINK_BAD_TYPE; /* the reader refuses it first */
		}
	}
	if (v != OM_LINK_OK)
		s->c.refused[v]++;
	else if (!*nomem)
		s->c.frames_rx++;
	/* Not held (a duplicate, dropped, refused): the caller's payload is gone with it. */
	free(s->rx_room);
	s->rx_room = NULL;
	return v;
}

/* Credits of local nodes that moved a quarter of their room since last told (or all). */
static int om_link_emit_credits(struct om_link_session *s)
{
	struct om_link_credit_v c[OM_LINK_MAX_CREDITS];
	uint32_t n = 0;
	int err;

	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self); i++) {
		struct om_link_in_dest *in = &s->idst[i];

		if (!s->credits_all && in->fwd_cnt - in->told_fwd < s->cfg.credit_bytes / 4)
			continue;
		c[n++] = (struct om_link_credit_v){ .node = s->cfg.self.first + i,
						    .buf_alloc = s->cfg.credit_bytes,
						    .fwd_cnt = in->fwd_cnt };
	}
	if (!n)
		return 0;
	err = om_link_out_reserve(s, OM_LINK_HDR_SIZE + OM_LINK_CREDITS_SIZE +
					     (size_t)n * OM_LINK_CREDIT_SIZE);
	if (err)
		return err;
	s->ack_told = om_link_session_ack(s);
	om_link_queued(s, om_link_encode_credits(s->out + s->out_len, s->ack_told, c, n));
	for (uint32_t i = 0; i < n; i++)
		om_link_session_in(s, c[i].node)->told_fwd = c[i].fwd_cnt;
	s->credits_all = false;
	return 0;
}

/* Whether the head of od's outbox fits the credit its node gave. */
static bool om_link_credit_allows(const struct om_link_session *s,
				  const struct om_link_out_dest *od, const struct om_link_item *it)
{
	uint32_t in_flight = od->tx_cnt - od->fwd_cnt;
	uint32_t cost = om_link_cost(it);

	/* A fwd_cnt ahead of what was sent is the peer's error: no credit from it. */
	if (in_flight > od->buf_alloc)
		return false;
	return od->credited && cost <= od->buf_alloc - in_flight &&
	       s->unacked_bytes + cost <= s->cfg.unacked_bytes_max;
}

/* Numbers messages their destination's credit allows, one per destination a round. */
static void om_link_number_messages(struct om_link_session *s)
{
	uint32_t n = om_link_range_size(&s->cfg.peer);
	bool moved = true;

	while (moved && s->outbox_n) {
		moved = false;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = (s->rr + k) % n;
			struct om_link_out_dest *od = &s->odst[i];
			struct om_link_item *it = TAILQ_FIRST(&od->outbox);

			if (!it || !om_link_credit_allows(s, od, it))
				continue;
			TAILQ_REMOVE(&od->outbox, it, link);
			od->msgs--;
			od->bytes -= om_link_cost(it);
			s->outbox_n--;
			od->tx_cnt += om_link_cost(it);
			om_link_append_unacked(s, it);
			moved = true;
		}
		s->rr = (s->rr + 1) % n;
	}
}

/*
 * A large DATA frame is written from its item (a 64 KiB copy saved); it
 * stays there until acknowledged, and an ack of it before it was written
 * whole is refused (om_link_ack_unwritten), so it cannot go meanwhile.
 */
static bool om_link_emit_direct(struct om_link_session *s, struct om_link_item *it)
{
	struct om_link_out_ref *r;

	if (it->type != OM_LINK_T_DATA || it->h.len < OM_LINK_OUT_DIRECT_MIN ||
	    s->ref_n == OM_LINK_OUT_REFS)
		return false;
	s->ack_told = om_link_session_ack(s);
	om_link_encode_data_header(it->frame, it->seq, s->ack_told, &it->h);
	om_msg_hdr_encode(&it->h, it->frame + OM_LINK_HDR_SIZE);
	r = &s->refs[(s->ref_head + s->ref_n++) % OM_LINK_OUT_REFS];
	*r = (struct om_link_out_ref){ .it = it, .at = s->out_len };
	s->ref_bytes += om_link_frame_size(it);
	s->c.frames_tx++;
	if (s->ops->framed)
		s->ops->framed(s->ctx, it->frame, om_link_frame_size(it));
	return true;
}

static int om_link_emit_item(struct om_link_session *s, struct om_link_item *it)
{
	size_t need = it->type == OM_LINK_T_DATA ? om_link_frame_size(it) :
						   OM_LINK_HDR_SIZE + OM_LINK_NODE_SIZE;
	unsigned char *p;
	int err;

	if (om_link_emit_direct(s, it))
		goto counted;
	err = om_link_out_reserve(s, need);
	if (err)
		return err;
	p = s->out + s->out_len;
	s->ack_told = om_link_session_ack(s);
	if (it->type == OM_LINK_T_DATA) {
		p += om_link_encode_data_header(p, it->seq, s->ack_told, &it->h);
		om_msg_hdr_encode(&it->h, p);
		memcpy(p + VIRTIO_OM_HDR_SIZE, it->payload, it->h.len);
	} else {
		om_link_encode_node(p, it->seq, s->ack_told, &it->ev);
	}
	om_link_queued(s, need);
counted:
	if (it->seq <= s->tx_written_max) {
		s->c.resent++;
	} else {
		s->tx_written_max = it->seq;
		if (it->type == OM_LINK_T_DATA)
			s->c.data_tx++;
	}
	return 0;
}

int om_link_session_heartbeat(struct om_link_session *s)
{
	int err;

	if (!s->connected)
		return 0;
	err = om_link_out_reserve(s, OM_LINK_HDR_SIZE);
	if (err)
		return err;
	s->ack_told = om_link_session_ack(s);
	om_link_queued(s, om_link_encode_heartbeat(s->out + s->out_len, s->ack_told));
	return 0;
}

int om_link_session_pump(struct om_link_session *s)
{
	size_t before = om_link_out_queued(s);
	int err;

	om_link_number_messages(s);
	if (!s->connected || !s->hello_rx)
		return 0;
	err = om_link_emit_credits(s);
	while (!err && s->send_next && om_link_out_queued(s) < OM_LINK_OUT_HIGH) {
		err = om_link_emit_item(s, s->send_next);
		if (!err)
			s->send_next = TAILQ_NEXT(s->send_next, link);
	}
	/* Nothing else carried the new ack: a heartbeat does. */
	if (!err && om_link_out_queued(s) == before && om_link_session_ack(s) != s->ack_told)
		err = om_link_session_heartbeat(s);
	return err;
}

bool om_link_session_fits(const struct om_link_session *s, uint32_t dst, uint32_t len)
{
	const struct om_link_out_dest *od = om_link_session_out(s, dst);

	return od && od->msgs < s->cfg.outbox_msgs &&
	       od->bytes + VIRTIO_OM_HDR_SIZE + len <= s->cfg.outbox_bytes;
}

int om_link_session_push(struct om_link_session *s, const struct om_msg_hdr *h,
			 const struct iovec *iov, unsigned int n, size_t off, uint64_t token)
{
	struct om_link_out_dest *od = om_link_session_out(s, h->dst_node);
	struct om_link_item *it;

	if (!od)
		return -EINVAL;
	if (!om_link_session_fits(s, h->dst_node, h->len))
		return -ENOSPC;
	it = malloc(sizeof(*it) + h->len);
	if (!it)
		return -ENOMEM;
	memset(it, 0, sizeof(*it));
	it->type = OM_LINK_T_DATA;
	it->token = token;
	it->h = *h;
	om_iov_to_buf(it->payload, h->len, iov, n, off);
	TAILQ_INSERT_TAIL(&od->outbox, it, link);
	od->msgs++;
	od->bytes += om_link_cost(it);
	s->outbox_n++;
	return 0;
}

int om_link_session_local_node(struct om_link_session *s, uint32_t node, bool up, uint16_t reason)
{
	struct om_link_in_dest *in = om_link_session_in(s, node);
	int dropped = 0;

	if (!in)
		return -EINVAL;
	in->own_reason = up ? reason : 0;
	if (!up) {
		/* Not numbered yet: they would reach the peer after this event. */
		for (uint32_t i = 0; i < om_link_range_size(&s->cfg.peer); i++) {
			struct om_link_out_dest *od = &s->odst[i];
			struct om_link_item *it, *next;

			for (it = TAILQ_FIRST(&od->outbox); it; it = next) {
				next = TAILQ_NEXT(it, link);
				if (it->h.src_node != node)
					continue;
				TAILQ_REMOVE(&od->outbox, it, link);
				od->msgs--;
				od->bytes -= om_link_cost(it);
				s->outbox_n--;
				s->c.undeliverable++;
				om_link_item_gone(s, it);
				dropped++;
			}
		}
	}
	if (om_link_queue_node_event(s, node, up ? OM_LINK_NODE_UP : OM_LINK_NODE_DOWN, reason))
		return -ENOMEM;
	return dropped;
}

void om_link_session_done(struct om_link_session *s, uint32_t dst, bool dropped)
{
	struct om_link_in_dest *in = om_link_session_in(s, dst);
	struct om_link_item *it = in ? TAILQ_FIRST(&in->held) : NULL;

	if (!it)
		return;
	TAILQ_REMOVE(&in->held, it, link);
	s->held_n--;
	if (it->type == OM_LINK_T_DATA) {
		in->msgs--;
		in->bytes -= om_link_cost(it);
		in->fwd_cnt += om_link_cost(it);
		if (dropped)
			s->c.undeliverable++;
	}
	free(it);
}

uint32_t om_link_session_drop_held(struct om_link_session *s, uint32_t dst)
{
	struct om_link_in_dest *in = om_link_session_in(s, dst);
	uint32_t n = in ? in->msgs : 0;

	while (in && !TAILQ_EMPTY(&in->held))
		om_link_session_done(s, dst, true);
	return n;
}

void om_link_session_forget_peer(struct om_link_session *s, uint64_t new_session)
{
	struct om_link_item *it;

	while ((it = TAILQ_FIRST(&s->unacked))) {
		TAILQ_REMOVE(&s->unacked, it, link);
		if (it->type == OM_LINK_T_DATA)
			s->c.undeliverable++;
		om_link_item_gone(s, it);
	}
	s->unacked_n = 0;
	s->unacked_bytes = 0;
	s->send_next = NULL;
	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.peer); i++) {
		struct om_link_out_dest *od = &s->odst[i];

		s->c.undeliverable += od->msgs;
		while ((it = TAILQ_FIRST(&od->outbox))) {
			TAILQ_REMOVE(&od->outbox, it, link);
			om_link_item_gone(s, it);
		}
		*od = (struct om_link_out_dest){ 0 };
		TAILQ_INIT(&od->outbox);
	}
	s->outbox_n = 0;
	for (uint32_t i = 0; i < om_link_range_size(&s->cfg.self); i++) {
		struct om_link_in_dest *in = &s->idst[i];

		om_link_session_drop_held(s, s->cfg.self.first + i);
		in->fwd_cnt = in->told_fwd = 0;
	}
	/* Frames to write refer to the items gone: the caller cut the connection, if any. */
	om_link_out_clear(s);
	s->session = new_session;
	s->peer_session = 0;
	s->tx_seq = s->tx_acked = s->tx_written_max = 0;
	s->rx_seq = 0;
}
