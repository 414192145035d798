// SPDX-License-Identifier: GPL-2.0-only
/*
 * A destination's queue: copies of messages for a node that does not
 * drain, taken out of their senders' rings so that those go on with
 * their traffic to other nodes. Bounded twice: the whole queue
 * (--queue-bytes, --queue-msgs), and each source's share of it (a quarter
 * of each), so that one sender flooding a stuck node cannot take the room
 * another needs for its few messages there. When and what is queued is
 * relay.c's; this file keeps the queue and its accounting.
 */
#include <errno.h>
#include <stdlib.h>

#include "omhostd.h"

/* What a message costs the queue: its copy, header included. */
static uint64_t om_queue_cost(uint32_t len)
{
	return VIRTIO_OM_HDR_SIZE + (uint64_t)len;
}

static uint64_t om_queue_share_of(uint64_t bound)
{
	return (bound + OM_HOSTD_QUEUE_SHARE - 1) / OM_HOSTD_QUEUE_SHARE;
}

static struct om_queue_share *om_queue_share(const struct om_node *dst, uint32_t src)
{
	return &dst->queue_from[src - dst->d->cfg.first_node];
}

bool om_queue_fits(const struct om_node *dst, uint32_t src, uint32_t len)
{
	const struct om_hostd_config *cfg = &dst->d->cfg;
	const struct om_queue_share *s = om_queue_share(dst, src);
	uint64_t cost = om_queue_cost(len);

	return dst->queued_msgs < cfg->queue_msgs && dst->queued_bytes + cost <= cfg->queue_bytes &&
	       s->msgs < om_queue_share_of(cfg->queue_msgs) &&
	       s->bytes + cost <= om_queue_share_of(cfg->queue_bytes);
}

int om_queue_push(struct om_node *dst, const struct om_msg_hdr *h, const struct iovec *iov,
		  unsigned int n, size_t off)
{
	struct om_queued *q = malloc(sizeof(*q) + h->len);
	struct om_queue_share *s = om_queue_share(dst, h->src_node);

	if (!q)
		return -ENOMEM;
	q->h = *h;
	om_iov_to_buf(q->payload, h->len, iov, n, off);
	TAILQ_INSERT_TAIL(&dst->queue, q, link);
	dst->queued_msgs++;
	dst->queued_bytes += om_queue_cost(h->len);
	s->msgs++;
	s->bytes += om_queue_cost(h->len);
	dst->c.queued_total++;
	return 0;
}

void om_queue_remove(struct om_node *dst, struct om_queued *q)
{
	struct om_queue_share *s = om_queue_share(dst, q->h.src_node);

	TAILQ_REMOVE(&dst->queue, q, link);
	dst->queued_msgs--;
	dst->queued_bytes -= om_queue_cost(q->h.len);
	s->msgs--;
	s->bytes -= om_queue_cost(q->h.len);
	free(q);
}

uint32_t om_queue_drop(struct om_node *dst, uint32_t src)
{
	struct om_queued *q, *next;
	uint32_t dropped = 0;

	for (q = TAILQ_FIRST(&dst->queue); q; q = next) {
		struct om_node *from = om_hostd_node(dst->d, q->h.src_node);

		next = TAILQ_NEXT(q, link);
		if (src && q->h.src_node != src)
			continue;
		if (from)
			from->c.undeliverable++;
		if (om_trace_on(dst->d)) {
			struct iovec flat = { .iov_base = q->payload, .iov_len = q->h.len };

			om_trace_msg(dst->d, OM_TRACE_UNDELIVERABLE, &q->h, NULL, &flat, 1, 0);
		}
		om_queue_remove(dst, q);
		dropped++;
	}
	dst->c.queue_dropped += dropped;
	return dropped;
}
