// SPDX-License-Identifier: GPL-2.0-only
/*
 * Moving messages between nodes: tx of the source, rx of the destination,
 * control messages from the host. See omhostd.h for the ordering rules.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omhostd.h"

static VuVirtq *om_vq(struct om_node *n, unsigned int q)
{
	return &n->dev.vq[q];
}

static bool om_node_usable(const struct om_node *n)
{
	return n && n->state == OM_NODE_UP && !n->evict;
}

long long om_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A node not up yet that may still come back after an omhostd restart. */
static bool om_node_awaited(const struct om_node *n)
{
	return n && !n->ever_up && !n->evict && om_now_ms() < n->d->grace_until_ms;
}

bool om_relay_node_usable(const struct om_node *n)
{
	return om_node_usable(n);
}

bool om_relay_node_awaited(const struct om_node *n)
{
	return om_node_awaited(n);
}

/* Copies len bytes at guest-physical gpa, across regions; false if any lies outside. */
static bool om_guest_read(VuDev *dev, uint64_t gpa, void *buf, size_t len)
{
	while (len) {
		uint64_t plen = len;
		const void *p = vu_gpa_to_va(dev, &plen, gpa);

		if (!p || !plen)
			return false;
		memcpy(buf, p, plen);
		buf = (char *)buf + plen;
		gpa += plen;
		len -= plen;
	}
	return true;
}

/*
 * What libvhost-user's pop does not check in the next available chain of
 * queue q (virtio 1.1, 2.6.5.3.1 and 2.6.6): the avail index may run at
 * most a ring ahead (it would take stale entries again); an indirect head
 * has no NEXT, its table is no longer than the ring and holds no indirect
 * descriptor. libvhost-user reads the table again after this: a guest
 * rewriting it meanwhile only changes how its own chain is read, each
 * descriptor still checked against guest memory. Evicts n and returns
 * false when a rule is broken.
 */
static bool om_relay_ring_ok(struct om_node *n, unsigned int q)
{
	VuVirtq *vq = om_vq(n, q);
	unsigned int num = vq->vring.num;
	uint16_t avail_idx, ahead, head;
	struct vring_desc d;
	uint64_t entries;

	if (!vq->vring.avail || !num)
		return true;
	avail_idx = le16toh(((volatile struct vring_avail *)vq->vring.avail)->idx);
	ahead = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (ahead > num) {
		om_node_evict(n, "queue %u: avail index %u runs %u entries ahead of %u, "
			      "past its %u-entry ring", q, avail_idx, ahead, vq->last_avail_idx, num);
		return false;
	}
	if (!ahead)
		return true;
	head = le16toh(((volatile struct vring_avail *)vq->vring.avail)
			       ->ring[vq->last_avail_idx % num]);
	if (head >= num)
		return true; /* libvhost-user refuses it */
	memcpy(&d, (const void *)&vq->vring.desc[head], sizeof(d));
	if (!(le16toh(d.flags) & VRING_DESC_F_INDIRECT))
		return true;
	if (le16toh(d.flags) & VRING_DESC_F_NEXT) {
		om_node_evict(n, "queue %u: indirect descriptor %u also has NEXT", q, head);
		return false;
	}
	entries = le32toh(d.len) / sizeof(struct vring_desc);
	if (entries > num) {
		om_node_evict(n, "queue %u: indirect table of %llu descriptors, "
			      "longer than its %u-entry ring", q, (unsigned long long)entries, num);
		return false;
	}
	for (uint64_t i = 0; i < entries; i++) {
		struct vring_desc t;

		if (!om_guest_read(&n->dev, le64toh(d.addr) + i * sizeof(t), &t, sizeof(t)))
			return true; /* outside guest memory: libvhost-user refuses it */
		if (le16toh(t.flags) & VRING_DESC_F_INDIRECT) {
			om_node_evict(n, "queue %u: nested indirect table (entry %llu "
				      "of descriptor %u's)", q, (unsigned long long)i, head);
			return false;
		}
	}
	return true;
}

/* Returns a tx element to its ring as consumed. */
static void om_relay_push_tx(struct om_node *src, VuVirtqElement *e)
{
	vu_queue_push(&src->dev, om_vq(src, VIRTIO_OM_QUEUE_TX), e, 0);
	free(e);
	src->notify[VIRTIO_OM_QUEUE_TX] = true;
}

/* Returns the chains at the head of src's held list that are done, in ring order. */
static void om_relay_retire_tx(struct om_node *src)
{
	struct om_txhold *t;

	while ((t = TAILQ_FIRST(&src->txhold)) && !t->pending) {
		TAILQ_REMOVE(&src->txhold, t, link);
		src->txhold_n--;
		om_relay_push_tx(src, &t->e);
	}
}

/*
 * Tx elements are popped as struct om_txhold (om_relay_drain_tx): e is done.
 * Behind a held chain it waits its turn, since the ring is used in order.
 */
void om_relay_complete_tx(struct om_node *src, VuVirtqElement *e)
{
	struct om_txhold *t = (struct om_txhold *)e;

	if (TAILQ_EMPTY(&src->txhold)) {
		om_relay_push_tx(src, e);
		return;
	}
	t->serial = 0;
	t->pending = false;
	TAILQ_INSERT_TAIL(&src->txhold, t, link);
	src->txhold_n++;
}

uint64_t om_relay_hold_tx(struct om_node *src, VuVirtqElement *e)
{
	struct om_txhold *t = (struct om_txhold *)e;

	if (!src->d->cfg.link_hold_ms) {
		om_relay_complete_tx(src, e);
		return 0;
	}
	t->serial = ++src->txhold_serial;
	t->pending = true;
	t->since_ms = om_now_ms();
	TAILQ_INSERT_TAIL(&src->txhold, t, link);
	src->txhold_n++;
	src->txhold_pending++;
	src->c.tx_held_total++;
	return t->serial;
}

void om_relay_tx_settled(struct om_node *src, uint64_t token)
{
	struct om_txhold *t;

	/* A token of an earlier connection matches none: its chains were given up. */
	TAILQ_FOREACH(t, &src->txhold, link) {
		if (t->serial > token)
			return;
		if (t->serial == token && t->pending) {
			t->pending = false;
			src->txhold_pending--;
			om_relay_retire_tx(src);
			return;
		}
	}
}

void om_relay_tx_release_all(struct om_node *src)
{
	struct om_txhold *t;

	TAILQ_FOREACH(t, &src->txhold, link)
		if (t->pending) {
			t->pending = false;
			src->c.tx_released++;
		}
	src->txhold_pending = 0;
	om_relay_retire_tx(src);
}

/*
 * The front-end is gone: what it had not got back is offered again when it
 * reconnects (libvhost-user resumes an in-order ring from its used index),
 * so the held chains are forgotten, not returned.
 */
void om_relay_tx_forget(struct om_node *src)
{
	struct om_txhold *t;

	while ((t = TAILQ_FIRST(&src->txhold))) {
		TAILQ_REMOVE(&src->txhold, t, link);
		free(t);
	}
	src->txhold_n = src->txhold_pending = 0;
}

void om_relay_check_holds(struct om_hostd *d, long long now_ms)
{
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);
		struct om_txhold *t;
		bool released = false;

		if (!n || !n->txhold_pending)
			continue;
		TAILQ_FOREACH(t, &n->txhold, link) {
			if (!t->pending)
				continue;
			if (now_ms - t->since_ms < (long long)d->cfg.link_hold_ms)
				break; /* held in order: the later ones are younger */
			t->pending = false;
			n->txhold_pending--;
			n->c.tx_released++;
			released = true;
		}
		if (released)
			om_relay_retire_tx(n);
	}
}

/*
 * Takes one rx buffer of dst able to hold a message of len payload bytes.
 * NULL when dst has none posted, or when dst broke the rules (then it is
 * marked for eviction).
 */
static VuVirtqElement *om_relay_take_rx(struct om_node *dst, uint32_t len)
{
	VuVirtqElement *r;
	size_t cap;

	if (!om_relay_ring_ok(dst, VIRTIO_OM_QUEUE_RX))
		return NULL;
	r = vu_queue_pop(&dst->dev, om_vq(dst, VIRTIO_OM_QUEUE_RX), sizeof(*r));
	if (!r) {
		if (dst->dev.broken)
			om_node_evict(dst, "its rx ring is malformed");
		return NULL;
	}
	cap = om_iov_size(r->in_sg, r->in_num);
	if (r->out_num || cap < VIRTIO_OM_HDR_SIZE + (size_t)len) {
		om_node_evict(dst, "rx buffer of %zu bytes (%u read-only), a message needs %zu",
			      cap, r->out_num, VIRTIO_OM_HDR_SIZE + (size_t)len);
		free(r);
		return NULL;
	}
	return r;
}

static void om_relay_put_rx(struct om_node *dst, VuVirtqElement *r, size_t len)
{
	vu_queue_push(&dst->dev, om_vq(dst, VIRTIO_OM_QUEUE_RX), r, len);
	free(r);
	dst->notify[VIRTIO_OM_QUEUE_RX] = true;
	dst->c.rx_msgs++;
	dst->c.rx_bytes += len;
	dst->last_rx_ms = om_now_ms();
}

/* Writes a message (header h, stamped; payload at byte off of iov) into dst's buffer r. */
static void om_relay_write(struct om_node *dst, VuVirtqElement *r, const struct om_msg_hdr *h,
			   const struct iovec *iov, unsigned int n, size_t off)
{
	unsigned char hdr[VIRTIO_OM_HDR_SIZE];

	om_msg_hdr_encode(h, hdr);
	om_iov_from_buf(r->in_sg, r->in_num, 0, hdr, sizeof(hdr));
	om_iov_copy(r->in_sg, r->in_num, VIRTIO_OM_HDR_SIZE, iov, n, off, h->len);
	om_relay_put_rx(dst, r, VIRTIO_OM_HDR_SIZE + (size_t)h->len);
	if (om_trace_on(dst->d))
		om_trace_msg(dst->d, OM_TRACE_RELAYED, h, hdr, iov, n, off);
}

/* Writes src's message e (header h) into dst's buffer r. */
static void om_relay_copy(struct om_node *dst, VuVirtqElement *r, const VuVirtqElement *e,
			  const struct om_msg_hdr *h)
{
	om_relay_write(dst, r, h, e->out_sg, e->out_num, VIRTIO_OM_HDR_SIZE);
}

/* src's message e goes nowhere: its destination is down. Counted, and traced. */
void om_relay_drop(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h)
{
	src->c.undeliverable++;
	if (om_trace_on(src->d))
		om_trace_msg(src->d, OM_TRACE_UNDELIVERABLE, h, NULL, e->out_sg, e->out_num,
			     VIRTIO_OM_HDR_SIZE);
	om_relay_complete_tx(src, e);
}

static void om_relay_stall(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h,
			   struct om_node *dst)
{
	src->stalled = e;
	src->stalled_hdr = *h;
	src->stalled_on = dst;
	if (TAILQ_EMPTY(&dst->waiters) && !dst->queued_msgs)
		dst->waited_since_ms = om_now_ms();
	TAILQ_INSERT_TAIL(&dst->waiters, src, wait_link);
	src->c.stalls++;
}

void om_relay_stall_remote(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h,
			   struct om_remote *remote)
{
	src->stalled = e;
	src->stalled_hdr = *h;
	src->stalled_remote = remote;
	TAILQ_INSERT_TAIL(&remote->waiters, src, wait_link);
	src->c.stalls++;
}

bool om_relay_deliver_copy(struct om_node *dst, const struct om_msg_hdr *h, const void *payload)
{
	struct iovec flat = { .iov_base = (void *)payload, .iov_len = h->len };
	VuVirtqElement *r = om_relay_take_rx(dst, h->len);

	if (!r)
		return false;
	om_relay_write(dst, r, h, &flat, 1, 0);
	return true;
}

/* How long dst, with messages waiting for it, has taken none. */
static long long om_relay_idle_ms(const struct om_node *dst, long long now_ms)
{
	return now_ms - (dst->last_rx_ms > dst->waited_since_ms ? dst->last_rx_ms :
								    dst->waited_since_ms);
}

/* Whether dst's queue opens now: it held senders up for --queue-after-ms. */
static bool om_relay_queue_opens(const struct om_node *dst, long long now_ms)
{
	const struct om_hostd_config *cfg = &dst->d->cfg;

	return !dst->queue_open && cfg->queue_msgs && cfg->queue_bytes &&
	       (!cfg->queue_after_ms ||
		(!TAILQ_EMPTY(&dst->waiters) && om_relay_idle_ms(dst, now_ms) >= cfg->queue_after_ms));
}

/*
 * Moves the messages of dst's waiters into its queue, as far as their
 * shares have room: their senders go on. In their order of arrival.
 */
static void om_relay_queue_waiters(struct om_node *dst)
{
	struct om_node *src, *next;

	for (src = TAILQ_FIRST(&dst->waiters); src; src = next) {
		next = TAILQ_NEXT(src, wait_link);
		if (!om_queue_fits(dst, src->id, src->stalled_hdr.len) ||
		    om_queue_push(dst, &src->stalled_hdr, src->stalled->out_sg, src->stalled->out_num,
				  VIRTIO_OM_HDR_SIZE))
			continue;
		TAILQ_REMOVE(&dst->waiters, src, wait_link);
		om_relay_complete_tx(src, src->stalled);
		src->stalled = NULL;
		src->stalled_on = NULL;
		src->runnable = true;
	}
}

/* Opens dst's queue, when its time came: its waiters' messages move in. */
static void om_relay_maybe_open_queue(struct om_node *dst, long long now_ms)
{
	if (!om_relay_queue_opens(dst, now_ms))
		return;
	dst->queue_open = true;
	if (!TAILQ_EMPTY(&dst->waiters))
		om_log_node(dst, OM_LOG_RESPONSIVE,
			    "node %u not draining: took no message for %lld ms while senders "
			    "waited; messages for it are queued (up to %u bytes, %u messages)",
			    dst->id, om_relay_idle_ms(dst, now_ms), dst->d->cfg.queue_bytes,
			    dst->d->cfg.queue_msgs);
	om_relay_queue_waiters(dst);
}

/*
 * e cannot go to dst now: into dst's queue if it is open and src's share
 * has room (true: src goes on), else src's tx waits for dst (false).
 */
static bool om_relay_queue_or_stall(struct om_node *src, VuVirtqElement *e,
				    const struct om_msg_hdr *h, struct om_node *dst)
{
	if (!dst->queue_open)
		om_relay_maybe_open_queue(dst, om_now_ms());
	if (dst->queue_open) {
		/* Waited for since now, if nothing else was: the time-outs count from it. */
		if (!dst->queued_msgs && TAILQ_EMPTY(&dst->waiters))
			dst->waited_since_ms = om_now_ms();
		if (om_queue_fits(dst, src->id, h->len) &&
		    !om_queue_push(dst, h, e->out_sg, e->out_num, VIRTIO_OM_HDR_SIZE)) {
			om_relay_complete_tx(src, e);
			return true;
		}
		dst->c.queue_full++;
	}
	om_relay_stall(src, e, h, dst);
	return false;
}

/* Delivers or drops e; false when it had to stall instead. */
static bool om_relay_route(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h)
{
	struct om_node *dst = om_hostd_node(src->d, h->dst_node);
	struct om_remote *remote;
	VuVirtqElement *r;

	if (!dst && (remote = om_link_remote(src->d, h->dst_node)))
		return om_link_route(src, e, h, remote);
	if (om_node_awaited(dst) && !om_node_usable(dst)) {
		om_relay_stall(src, e, h, dst);
		return false;
	}
	if (!om_node_usable(dst)) {
		om_relay_drop(src, e, h);
		return true;
	}
	if (dst->unresponsive) {
		dst->c.dropped_unresponsive++;
		om_relay_drop(src, e, h);
		return true;
	}
	/* dst's control messages, its queue and whoever waits for it go first. */
	if (TAILQ_EMPTY(&dst->waiters) && !dst->ctl_n && !dst->queued_msgs) {
		r = om_relay_take_rx(dst, h->len);
		if (r) {
			om_relay_copy(dst, r, e, h);
			om_relay_complete_tx(src, e);
			return true;
		}
		if (!om_node_usable(dst)) {
			om_relay_drop(src, e, h);
			return true;
		}
	}
	return om_relay_queue_or_stall(src, e, h, dst);
}

void om_relay_drain_tx(struct om_node *src)
{
	const struct om_hostd_config *cfg = &src->d->cfg;
	uint32_t max_msgs = cfg->tx_budget_msgs ? cfg->tx_budget_msgs : OM_HOSTD_TX_BUDGET_MSGS;
	size_t max_bytes = cfg->tx_budget_bytes ? cfg->tx_budget_bytes : OM_HOSTD_TX_BUDGET_BYTES;
	unsigned int msgs = 0;
	size_t bytes = 0;
	VuVirtq *vq;

	src->runnable = false;
	if (!om_node_usable(src) || !src->started[VIRTIO_OM_QUEUE_TX])
		return;
	vq = om_vq(src, VIRTIO_OM_QUEUE_TX);
	while (!src->stalled && !src->evict) {
		unsigned char raw[VIRTIO_OM_HDR_SIZE];
		enum om_msg_verdict v;
		struct om_msg_hdr h;
		VuVirtqElement *e;
		size_t total;

		/* Its turn is over: the others' go first (om_hostd_settle). */
		if (msgs >= max_msgs || bytes >= max_bytes) {
			src->runnable = true;
			return;
		}
		if (!om_relay_ring_ok(src, VIRTIO_OM_QUEUE_TX))
			return;
		/* Popped with room for its place among held chains (om_relay_complete_tx). */
		e = vu_queue_pop(&src->dev, vq, sizeof(struct om_txhold));
		if (!e) {
			if (src->dev.broken)
				om_node_evict(src, "its tx ring is malformed");
			return;
		}
		total = om_iov_size(e->out_sg, e->out_num);
		if (e->in_num) {
			om_node_evict(src, "tx chain with %u device-writable descriptors", e->in_num);
			free(e);
			return;
		}
		memset(raw, 0, sizeof(raw));
		om_iov_to_buf(raw, sizeof(raw), e->out_sg, e->out_num, 0);
		om_msg_hdr_decode(raw, &h); /* read once: the guest may rewrite its copy */
		v = om_msg_check_from_guest(&h, total, src->id, src->d->cfg.max_payload);
		if (v != OM_MSG_OK) {
			src->c.refused[v]++;
			om_node_evict(src, "message %s (type 0x%04x, len %u, %zu bytes, to %u)",
				      om_msg_verdict_name(v), h.type, h.len, total, h.dst_node);
			free(e);
			return;
		}
		h.src_node = src->id;
		src->c.tx_msgs++;
		src->c.tx_bytes += total;
		msgs++;
		bytes += total;
		if (!om_relay_route(src, e, &h))
			return;
	}
}

/* Delivers dst's pending control messages while it has buffers. */
static void om_relay_flush_ctl(struct om_node *dst)
{
	while (dst->ctl_n && om_node_usable(dst)) {
		struct virtio_om_node_event ev;
		unsigned char buf[VIRTIO_OM_HDR_SIZE + sizeof(ev)];
		struct om_msg_hdr h = {
			.version = VIRTIO_OM_PROTOCOL_VERSION,
			.type = dst->ctl[0].type,
			.src_node = VIRTIO_OM_NODE_HOST,
			.dst_node = dst->id,
			.seq = dst->ctl_seq + 1,
			.len = sizeof(ev),
		};
		VuVirtqElement *r = om_relay_take_rx(dst, h.len);

		if (!r)
			return;
		ev.node = htole32(dst->ctl[0].node);
		ev.reason = htole32(dst->ctl[0].reason);
		om_msg_hdr_encode(&h, buf);
		memcpy(buf + VIRTIO_OM_HDR_SIZE, &ev, sizeof(ev));
		om_iov_from_buf(r->in_sg, r->in_num, 0, buf, sizeof(buf));
		om_relay_put_rx(dst, r, sizeof(buf));
		if (om_trace_on(dst->d)) {
			struct iovec flat = { .iov_base = buf, .iov_len = sizeof(buf) };

			om_trace_msg(dst->d, OM_TRACE_RELAYED, &h, buf, &flat, 1, VIRTIO_OM_HDR_SIZE);
		}
		dst->ctl_seq++;
		memmove(&dst->ctl[0], &dst->ctl[1], (dst->ctl_n - 1) * sizeof(dst->ctl[0]));
		dst->ctl_n--;
	}
}

void om_relay_rx_ready(struct om_node *dst)
{
	struct om_queued *q;
	struct om_node *src;

	/* It posted buffers (or came up): it takes messages again. */
	if (dst->unresponsive) {
		dst->unresponsive = false;
		om_log_node(dst, OM_LOG_RESPONSIVE,
			    "node %u responsive again (%llu messages to it dropped so far)", dst->id,
			    (unsigned long long)dst->c.dropped_unresponsive);
	}

	om_relay_flush_ctl(dst);
	/* Its queue holds what came before any waiter's message. */
	while (!dst->ctl_n && om_node_usable(dst) && (q = TAILQ_FIRST(&dst->queue))) {
		struct iovec flat = { .iov_base = q->payload, .iov_len = q->h.len };
		VuVirtqElement *r = om_relay_take_rx(dst, q->h.len);

		if (!r)
			break;
		om_relay_write(dst, r, &q->h, &flat, 1, 0);
		om_queue_remove(dst, q);
	}
	/* Then what peer relays sent it (in order per link, events with their data). */
	if (!dst->ctl_n && !dst->queued_msgs && om_node_usable(dst))
		om_link_deliver(dst);
	while (!dst->ctl_n && !dst->queued_msgs && om_node_usable(dst) &&
	       (src = TAILQ_FIRST(&dst->waiters))) {
		VuVirtqElement *r = om_relay_take_rx(dst, src->stalled_hdr.len);

		if (!r)
			break; /* om_node_down() releases the waiters if dst was evicted */
		TAILQ_REMOVE(&dst->waiters, src, wait_link);
		om_relay_copy(dst, r, src->stalled, &src->stalled_hdr);
		om_relay_complete_tx(src, src->stalled);
		src->stalled = NULL;
		src->stalled_on = NULL;
		/* Back of the line: its next message waits behind the others. */
		src->runnable = true;
	}
	if (!dst->queue_open || !om_node_usable(dst))
		return;
	/* Room it made in its queue lets waiting senders go on; empty, it closes. */
	om_relay_queue_waiters(dst);
	if (!dst->queued_msgs && TAILQ_EMPTY(&dst->waiters))
		dst->queue_open = false;
}

/* Replaces an older event about node. */
void om_relay_queue_ctl(struct om_node *dst, uint16_t type, uint32_t node, uint32_t reason)
{
	unsigned int i;

	for (i = 0; i < dst->ctl_n; i++)
		if (dst->ctl[i].node == node)
			break;
	if (i < dst->ctl_n) {
		memmove(&dst->ctl[i], &dst->ctl[i + 1], (dst->ctl_n - i - 1) * sizeof(dst->ctl[0]));
		dst->ctl_n--;
	}
	/* ctl holds one entry per node served here or by a peer: there is always room. */
	dst->ctl[dst->ctl_n++] = (struct om_ctl_event){ .type = type, .node = node, .reason = reason };
	om_relay_flush_ctl(dst);
}

void om_relay_node_up(struct om_node *n)
{
	uint32_t reason = n->resumed ? VIRTIO_OM_NODE_RECONNECTED : VIRTIO_OM_NODE_JOINED;

	for (uint32_t id = n->d->cfg.first_node; id <= n->d->cfg.last_node; id++) {
		struct om_node *p = om_hostd_node(n->d, id);

		if (p == n || !om_node_usable(p))
			continue;
		om_relay_queue_ctl(p, VIRTIO_OM_T_NODE_UP, n->id, reason);
		om_relay_queue_ctl(n, VIRTIO_OM_T_NODE_UP, p->id, reason);
	}
	om_link_node_up(n, reason);
	n->ever_up = true;
	n->runnable = true;
	om_relay_rx_ready(n); /* messages that waited for it */
}

void om_relay_unstall(struct om_node *n)
{
	if (!n->stalled)
		return;
	if (n->stalled_remote)
		TAILQ_REMOVE(&n->stalled_remote->waiters, n, wait_link);
	else
		TAILQ_REMOVE(&n->stalled_on->waiters, n, wait_link);
	n->stalled_remote = NULL;
	vu_queue_unpop(&n->dev, om_vq(n, VIRTIO_OM_QUEUE_TX), n->stalled, 0);
	free(n->stalled);
	n->stalled = NULL;
	n->stalled_on = NULL;
}

/* Messages waiting for n cannot be delivered: they go, counted. */
static void om_relay_drop_waiters(struct om_node *n)
{
	struct om_node *src;

	while ((src = TAILQ_FIRST(&n->waiters))) {
		TAILQ_REMOVE(&n->waiters, src, wait_link);
		om_relay_drop(src, src->stalled, &src->stalled_hdr);
		src->stalled = NULL;
		src->stalled_on = NULL;
		src->runnable = true;
	}
}

void om_relay_check_responsive(struct om_hostd *d, long long now_ms)
{
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);
		unsigned int waiting = 0;
		uint32_t queued;
		struct om_node *src;
		long long idle;

		if (!n || n->unresponsive || !om_node_usable(n) ||
		    (TAILQ_EMPTY(&n->waiters) && !n->queued_msgs))
			continue;
		om_relay_maybe_open_queue(n, now_ms);
		idle = om_relay_idle_ms(n, now_ms);
		if (!d->cfg.unresponsive_ms || idle < d->cfg.unresponsive_ms)
			continue;
		TAILQ_FOREACH(src, &n->waiters, wait_link)
			waiting++;
		queued = n->queued_msgs;
		n->unresponsive = true;
		n->c.unresponsive++;
		n->c.dropped_unresponsive += waiting + queued;
		om_log_node(n, OM_LOG_RESPONSIVE,
			    "node %u unresponsive: took no message for %lld ms while %u sender%s "
			    "waited and %u message%s were queued; messages to it are dropped until "
			    "it takes one", n->id, idle, waiting, waiting == 1 ? "" : "s", queued,
			    queued == 1 ? "" : "s");
		om_queue_drop(n, 0);
		n->queue_open = false;
		om_relay_drop_waiters(n);
	}
}

void om_relay_grace_over(struct om_hostd *d)
{
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);

		if (n && !om_node_usable(n))
			om_relay_drop_waiters(n);
	}
}

void om_relay_node_down(struct om_node *n, uint32_t reason)
{
	/* Its own head goes back to its ring: taken again if it returns. */
	om_relay_unstall(n);
	/*
	 * Chains held for a peer go back to a ring its front-end stopped
	 * (the base it asks for says all before were used); a front-end
	 * gone had them forgotten first (om_node_disconnect).
	 */
	om_relay_tx_release_all(n);
	om_relay_drop_waiters(n);
	om_queue_drop(n, 0);
	n->queue_open = false;
	n->ctl_n = 0;
	n->unresponsive = false;
	if (n->state == OM_NODE_UP)
		om_link_node_down(n, reason);
	for (uint32_t id = n->d->cfg.first_node; id <= n->d->cfg.last_node; id++) {
		struct om_node *p = om_hostd_node(n->d, id);

		if (!p || p == n)
			continue;
		/* Its queued messages would reach p after the NODE_DOWN about it. */
		if (om_queue_drop(p, n->id) && !p->queued_msgs && TAILQ_EMPTY(&p->waiters))
			p->queue_open = false;
		if (n->state == OM_NODE_UP && om_node_usable(p))
			om_relay_queue_ctl(p, VIRTIO_OM_T_NODE_DOWN, n->id, reason);
	}
}

void om_relay_flush_notifications(struct om_hostd *d)
{
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);

		if (!n || !n->vu_ready)
			continue;
		for (unsigned int q = 0; q < VIRTIO_OM_QUEUE_COUNT; q++) {
			/*
			 * A restarted ring gets its call fd after its kick fd:
			 * the notification waits for it.
			 */
			if (!n->notify[q] || om_vq(n, q)->call_fd < 0)
				continue;
			vu_queue_notify(&n->dev, om_vq(n, q));
			n->notify[q] = false;
		}
	}
}
