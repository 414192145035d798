// SPDX-License-Identifier: GPL-2.0-only
#include "relay-harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>


static void rh_panic(VuDev *dev, const char *err)
{
	om_node_evict((struct om_node *)dev, "vhost-user: %s", err ? err : "error");
}

static void rh_set_watch(VuDev *dev, int fd, int condition, vu_watch_cb cb, void *data)
{
	(void)dev;
	(void)fd;
	(void)condition;
	(void)cb;
	(void)data;
}

static void rh_remove_watch(VuDev *dev, int fd)
{
	(void)dev;
	(void)fd;
}

static const VuDevIface rh_iface;

struct om_node *rh_node(struct rh *h, uint32_t id)
{
	return om_hostd_node(&h->d, id);
}

static int rh_node_init(struct rh *h, uint32_t id, uint16_t num)
{
	struct rh_guest *g = &h->g[id];
	struct om_node *n;
	VuDev *dev;

	n = om_node_new(&h->d, id); /* no socket: rings wired in */
	if (!n)
		return -ENOMEM;
	g->mem = mmap(NULL, RH_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		om_node_close(n);
		return -ENOMEM;
	}
	g->num = num;
	g->bump = RH_DATA_START;
	dev = &n->dev;
	dev->sock = -1;
	dev->slave_fd = -1;
	dev->log_call_fd = -1;
	dev->inflight_info.fd = -1;
	dev->postcopy_ufd = -1;
	pthread_mutex_init(&dev->slave_mutex, NULL);
	dev->panic = rh_panic;
	dev->set_watch = rh_set_watch;
	dev->remove_watch = rh_remove_watch;
	dev->iface = &rh_iface;
	dev->features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	dev->nregions = 1;
	dev->regions[0] = (VuDevRegion){ .gpa = 0, .size = RH_MEM_SIZE, .qva = 0x7f0000000000ull,
					 .mmap_addr = (uint64_t)(uintptr_t)g->mem };
	dev->max_queues = VIRTIO_OM_QUEUE_COUNT;
	dev->vq = calloc(VIRTIO_OM_QUEUE_COUNT, sizeof(*dev->vq));
	if (!dev->vq)
		return -ENOMEM;
	for (unsigned int q = 0; q < VIRTIO_OM_QUEUE_COUNT; q++) {
		VuVirtq *vq = &dev->vq[q];

		g->desc[q] = (struct vring_desc *)(g->mem + 0x4000u * q);
		g->avail[q] = (struct vring_avail *)(g->mem + 0x4000u * q + 0x1000u);
		g->used[q] = (struct vring_used *)(g->mem + 0x4000u * q + 0x2000u);
		vq->vring.num = num;
		vq->vring.desc = g->desc[q];
		vq->vring.avail = g->avail[q];
		vq->vring.used = g->used[q];
		vq->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		vq->kick_fd = -1;
		vq->err_fd = -1;
		vq->enable = 1;
		vq->started = true;
		vq->notification = true;
		n->started[q] = true;
	}
	n->vu_ready = true;
	n->state = OM_NODE_UP;
	n->ever_up = true;
	h->d.nodes[id] = n;
	h->d.n_served++;
	return 0;
}

int rh_init(struct rh *h, unsigned int n_nodes, uint16_t num)
{
	int err;

	memset(h, 0, sizeof(*h));
	if (!n_nodes || n_nodes > RH_MAX_NODES || !num || num > 256 || (num & (num - 1)))
		return -EINVAL;
	h->n_nodes = n_nodes;
	h->d.control_fd = -1;
	h->d.grace_fd = -1;
	h->d.cfg = (struct om_hostd_config){ .dir = "/nonexistent", .first_node = 1,
					     .last_node = n_nodes,
					     .max_payload = VIRTIO_OM_MAX_PAYLOAD };
	err = om_loop_new(&h->d.loop);
	if (err)
		return err;
	for (uint32_t id = 1; id <= n_nodes; id++) {
		err = rh_node_init(h, id, num);
		if (err)
			return err;
	}
	return 0;
}

void rh_free(struct rh *h)
{
	for (uint32_t id = 1; id <= h->n_nodes; id++) {
		struct om_node *n = rh_node(h, id);

		if (!n)
			continue;
		/* Its memory goes with vu_deinit, as a real front-end's would. */
		om_node_close(n);
		h->g[id].gone = true;
	}
	om_loop_free(h->d.loop);
}

uint64_t rh_alloc(struct rh *h, uint32_t node, size_t len)
{
	struct rh_guest *g = &h->g[node];
	uint64_t gpa;

	if (g->bump + len > RH_MEM_SIZE)
		g->bump = RH_DATA_START; /* wrap: tests keep few buffers alive at once */
	gpa = g->bump;
	g->bump += (len + 63) & ~(size_t)63;
	return gpa;
}

void *rh_ptr(struct rh *h, uint32_t node, uint64_t gpa)
{
	return h->g[node].mem + gpa;
}

void rh_set_desc(struct rh *h, uint32_t node, unsigned int q, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = &h->g[node].desc[q][i % h->g[node].num];

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

void rh_make_avail(struct rh *h, uint32_t node, unsigned int q, uint16_t head)
{
	struct rh_guest *g = &h->g[node];
	uint16_t idx = le16toh(g->avail[q]->idx);

	g->avail[q]->ring[idx % g->num] = htole16(head);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	g->avail[q]->idx = htole16((uint16_t)(idx + 1));
}

static uint16_t rh_take_desc(struct rh_guest *g, unsigned int q)
{
	return g->next_desc[q]++ % g->num;
}

void rh_post_rx(struct rh *h, uint32_t node, size_t len)
{
	struct rh_guest *g = &h->g[node];
	uint16_t i = rh_take_desc(g, VIRTIO_OM_QUEUE_RX);

	rh_set_desc(h, node, VIRTIO_OM_QUEUE_RX, i, rh_alloc(h, node, len), (uint32_t)len,
		    VRING_DESC_F_WRITE, 0);
	rh_make_avail(h, node, VIRTIO_OM_QUEUE_RX, i);
}

struct om_msg_hdr rh_hdr(uint16_t type, uint32_t dst, uint32_t len)
{
	return (struct om_msg_hdr){ .version = VIRTIO_OM_PROTOCOL_VERSION, .type = type,
				    .dst_node = dst, .seq = 1, .len = len };
}

void rh_send(struct rh *h, uint32_t node, const struct om_msg_hdr *hdr, const void *payload,
	     unsigned int segs)
{
	struct rh_guest *g = &h->g[node];
	const unsigned char *p = payload;
	uint16_t head, prev;
	uint64_t gpa;
	size_t off = 0;

	head = rh_take_desc(g, VIRTIO_OM_QUEUE_TX);
	gpa = rh_alloc(h, node, VIRTIO_OM_HDR_SIZE);
	om_msg_hdr_encode(hdr, rh_ptr(h, node, gpa));
	rh_set_desc(h, node, VIRTIO_OM_QUEUE_TX, head, gpa, VIRTIO_OM_HDR_SIZE, 0, 0);
	prev = head;
	for (unsigned int s = 0; s < segs && hdr->len; s++) {
		size_t n = s + 1 == segs ? hdr->len - off : hdr->len / segs;
		uint16_t i = rh_take_desc(g, VIRTIO_OM_QUEUE_TX);

		gpa = rh_alloc(h, node, n);
		memcpy(rh_ptr(h, node, gpa), p + off, n);
		off += n;
		rh_set_desc(h, node, VIRTIO_OM_QUEUE_TX, i, gpa, (uint32_t)n, 0, 0);
		g->desc[VIRTIO_OM_QUEUE_TX][prev].flags |= htole16(VRING_DESC_F_NEXT);
		g->desc[VIRTIO_OM_QUEUE_TX][prev].next = htole16(i);
		prev = i;
	}
	rh_make_avail(h, node, VIRTIO_OM_QUEUE_TX, head);
}

void rh_run(struct rh *h)
{
	for (uint32_t id = 1; id <= h->n_nodes; id++) {
		struct om_node *n = rh_node(h, id);

		if (n && n->state == OM_NODE_UP)
			om_relay_drain_tx(n);
	}
	for (uint32_t id = 1; id <= h->n_nodes; id++) {
		struct om_node *n = rh_node(h, id);

		if (n && n->state == OM_NODE_UP)
			om_relay_rx_ready(n);
	}
	for (uint32_t id = 1; id <= h->n_nodes; id++) {
		struct om_node *n = rh_node(h, id);

		if (n && n->evict)
			h->g[id].gone = true; /* settle below unmaps its memory */
	}
	/* Every ring's turns, until none has messages left. */
	do
		om_hostd_settle(&h->d);
	while (h->d.more_work);
}

size_t rh_recv(struct rh *h, uint32_t node, void *buf, size_t cap)
{
	struct rh_guest *g = &h->g[node];
	struct vring_used_elem e;
	uint64_t addr;
	uint16_t i;
	size_t len;

	if (!rh_node(h, node)->vu_ready || g->used_seen[VIRTIO_OM_QUEUE_RX] == le16toh(g->used[VIRTIO_OM_QUEUE_RX]->idx))
		return 0;
	i = g->used_seen[VIRTIO_OM_QUEUE_RX]++ % g->num;
	e = g->used[VIRTIO_OM_QUEUE_RX]->ring[i];
	len = le32toh(e.len);
	if (len > cap)
		len = cap;
	/* A test's own (possibly hostile) ring: read only what lies in memory. */
	if (le32toh(e.id) >= g->num)
		return 0;
	addr = le64toh(g->desc[VIRTIO_OM_QUEUE_RX][le32toh(e.id)].addr);
	if (addr > RH_MEM_SIZE || len > RH_MEM_SIZE - addr)
		return 0;
	memcpy(buf, rh_ptr(h, node, addr), len);
	return len;
}

bool rh_recv_msg(struct rh *h, uint32_t node, struct om_msg_hdr *hdr, void *p, size_t cap)
{
	static unsigned char buf[VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD];
	size_t n = rh_recv(h, node, buf, sizeof(buf));

	if (n < VIRTIO_OM_HDR_SIZE)
		return false;
	om_msg_hdr_decode(buf, hdr);
	if (n != VIRTIO_OM_HDR_SIZE + (size_t)hdr->len)
		return false;
	if (p && cap) /* memcpy(NULL, ..., 0) is undefined */
		memcpy(p, buf + VIRTIO_OM_HDR_SIZE, hdr->len < cap ? hdr->len : cap);
	return true;
}

uint16_t rh_tx_used(struct rh *h, uint32_t node)
{
	struct rh_guest *g = &h->g[node];

	return !rh_node(h, node)->vu_ready ? 0 : le16toh(g->used[VIRTIO_OM_QUEUE_TX]->idx);
}
