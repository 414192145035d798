// SPDX-License-Identifier: GPL-2.0-only
/*
 * A node: its listening socket, the vhost-user connection of its front-end
 * (libvhost-user does the protocol; we check every message first, since
 * libvhost-user trusts its master more than we do), and its life cycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "omhostd.h"

/* The vhost-user protocol features we offer: no others are accepted. */
#define OM_PROTOCOL_FEATURES \
	((1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | (1ull << VHOST_USER_PROTOCOL_F_CONFIG))

static struct om_node *om_node_of(VuDev *dev)
{
	return (struct om_node *)dev;
}

void om_node_evict(struct om_node *n, const char *fmt, ...)
{
	va_list ap;

	if (n->evict)
		return;
	n->evict = true;
	va_start(ap, fmt);
	vsnprintf(n->evict_why, sizeof(n->evict_why), fmt, ap);
	va_end(ap);
}

/* libvhost-user's watches: kick eventfds. */
static void om_node_watch_fired(void *data, int revents)
{
	struct om_vu_watch *vw = data;
	struct om_node *n = vw->node;

	if (revents < 0) {
		om_node_evict(n, "watch on fd %d failed: %s", vw->fd, strerror(-revents));
	} else if (!n->evict) {
		vw->cb(&n->dev, revents, vw->data);
	}
	om_hostd_settle(n->d);
}

static struct om_vu_watch *om_node_find_watch(struct om_node *n, int fd)
{
	for (unsigned int i = 0; i < OM_HOSTD_MAX_WATCHES; i++)
		if (n->watches[i].w && n->watches[i].fd == fd)
			return &n->watches[i];
	return NULL;
}

static void om_node_remove_watch(VuDev *dev, int fd)
{
	struct om_node *n = om_node_of(dev);
	struct om_vu_watch *vw = om_node_find_watch(n, fd);

	if (!vw)
		return;
	om_loop_unwatch(n->d->loop, vw->w);
	vw->w = NULL;
}

static void om_node_set_watch(VuDev *dev, int fd, int condition, vu_watch_cb cb, void *data)
{
	struct om_node *n = om_node_of(dev);
	struct om_vu_watch *vw;
	int err;

	om_node_remove_watch(dev, fd);
	vw = NULL;
	for (unsigned int i = 0; !vw && i < OM_HOSTD_MAX_WATCHES; i++)
		if (!n->watches[i].w)
			vw = &n->watches[i];
	if (!vw) {
		om_node_evict(n, "too many watched fds");
		return;
	}
	*vw = (struct om_vu_watch){ .node = n, .fd = fd, .cb = cb, .data = data };
	err = om_loop_watch(n->d->loop, fd, (unsigned int)condition, om_node_watch_fired, vw, &vw->w);
	if (err) {
		vw->w = NULL;
		om_node_evict(n, "cannot watch fd %d: %s", fd, strerror(-err));
	}
}

static void om_node_panic(VuDev *dev, const char *err)
{
	om_node_evict(om_node_of(dev), "vhost-user: %s", err ? err : "error");
}

static uint64_t om_node_get_features(VuDev *dev)
{
	(void)dev;
	return (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ull << VIRTIO_RING_F_EVENT_IDX);
}

static void om_node_queue_handler(VuDev *dev, int qidx)
{
	struct om_node *n = om_node_of(dev);

	if (qidx == VIRTIO_OM_QUEUE_TX)
		om_relay_drain_tx(n);
	else
		om_relay_rx_ready(n);
}

static void om_node_queue_set_started(VuDev *dev, int qidx, bool started)
{
	struct om_node *n = om_node_of(dev);
	VuVirtq *vq = &dev->vq[qidx];
	bool all = true;

	if (qidx < 0 || qidx >= VIRTIO_OM_QUEUE_COUNT)
		return;
	if (started) {
		/* Rings that were in use: the relay or the link came back. */
		if (vq->last_avail_idx || vq->used_idx)
			n->resumed = true;
		vu_set_queue_handler(dev, vq, om_node_queue_handler);
	} else {
		vu_set_queue_handler(dev, vq, NULL);
	}
	n->started[qidx] = started;
	for (unsigned int q = 0; q < VIRTIO_OM_QUEUE_COUNT; q++)
		all = all && n->started[q];
	if (all && n->state == OM_NODE_CONNECTED) {
		n->state = OM_NODE_UP;
		om_log("node %u up%s", n->id, n->resumed ? " (resumed)" : "");
		om_relay_node_up(n);
	} else if (!started && n->state == OM_NODE_UP) {
		/* The driver stopped (guest reset or shut down). */
		om_log("node %u stopped", n->id);
		om_relay_node_down(n, VIRTIO_OM_NODE_DISCONNECTED);
		n->state = OM_NODE_CONNECTED;
		n->resumed = false;
	}
}

static bool om_node_in_order(VuDev *dev, int qidx)
{
	(void)dev;
	(void)qidx;
	return true; /* see omhostd.h: both rings are used in order */
}

static int om_node_get_config(VuDev *dev, uint8_t *config, uint32_t len)
{
	struct om_node *n = om_node_of(dev);
	struct virtio_om_config c = {
		.node_id = htole32(n->id),
		.max_payload = htole32(n->d->cfg.max_payload),
	};

	if (len > sizeof(c))
		len = sizeof(c);
	memcpy(config, &c, len);
	return 0;
}

static int om_node_set_config(VuDev *dev, const uint8_t *data, uint32_t offset, uint32_t size,
			      uint32_t flags)
{
	(void)data;
	(void)flags;
	om_node_evict(om_node_of(dev), "wrote %u bytes of read-only config at %u", size, offset);
	return -1;
}

static bool om_node_check_state(const VhostUserMsg *m)
{
	return m->size == sizeof(m->payload.state) && m->payload.state.index < VIRTIO_OM_QUEUE_COUNT;
}

/*
 * Where [addr, addr+len) of the front-end's address space is mapped here,
 * or NULL unless it lies wholly in one region.
 */
static void *om_node_qva_to_va(const VuDev *dev, uint64_t addr, uint64_t len)
{
	for (uint32_t i = 0; i < dev->nregions; i++) {
		const VuDevRegion *r = &dev->regions[i];

		if (addr >= r->qva && addr - r->qva <= r->size && len <= r->size - (addr - r->qva))
			return (void *)(uintptr_t)(r->mmap_addr + r->mmap_offset + (addr - r->qva));
	}
	return NULL;
}

/*
 * Points a ring at its addresses in the current memory table, num entries
 * each part (the split virtqueue layout, with the event index words).
 * False, the ring unset, when a part does not lie wholly in one region:
 * libvhost-user checks only where each part starts, and writes used
 * entries anywhere up to used->ring[num - 1].
 */
static bool om_node_map_ring(VuDev *dev, VuVirtq *vq, const struct vhost_vring_addr *a,
			     uint64_t num)
{
	void *desc = om_node_qva_to_va(dev, a->desc_user_addr, 16 * num);
	void *avail = om_node_qva_to_va(dev, a->avail_user_addr, 6 + 2 * num);
	void *used = om_node_qva_to_va(dev, a->used_user_addr, 6 + 8 * num);

	if (!num || !desc || !avail || !used) {
		vq->vring.desc = NULL;
		vq->vring.avail = NULL;
		vq->vring.used = NULL;
		return false;
	}
	vq->vring.desc = desc;
	vq->vring.avail = avail;
	vq->vring.used = used;
	return true;
}

/*
 * Guest memory a front-end may have mapped here, all regions together:
 * each node's costs omhostd address space, and a front-end names the size.
 */
#define OM_HOSTD_MEM_MAX (64ull << 30)

/*
 * Why region r, passed as fd, cannot be mapped safely, or NULL. The file
 * must be a regular file (a memfd) at least as long as the mapping and
 * sealed against shrinking: memory past a file's end raises SIGBUS when
 * touched, and omhostd touches guest memory everywhere; the seal keeps the
 * size checked here from changing later. QEMU's memory-backend-memfd seals
 * so by default (seal=on).
 */
static const char *om_node_region_unsafe(const VhostUserMemoryRegion *r, int fd, uint64_t *total)
{
	uint64_t len = r->mmap_offset + r->memory_size;
	struct stat st;
	int seals;

	if (!r->memory_size || r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->userspace_addr + r->memory_size < r->userspace_addr || len < r->mmap_offset)
		return "empty or wraps around";
	if (len > OM_HOSTD_MEM_MAX - *total)
		return "more guest memory than omhostd maps for a node";
	*total += len;
	if (fstat(fd, &st))
		return "fstat failed";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if ((uint64_t)st.st_size < len)
		return "file shorter than the mapping";
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return "file not sealed against shrinking (F_SEAL_SHRINK)";
	return NULL;
}

static void om_node_unmap_regions(VuDevRegion *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		munmap((void *)(uintptr_t)r[i].mmap_addr, r[i].mmap_offset + r[i].size);
}

/*
 * SET_MEM_TABLE, done here rather than by libvhost-user, which keeps a
 * failed mapping's old address to unmap later with the new size, and
 * re-points the rings without checking they still fit. The new table is
 * mapped whole before the old one goes; every ring set is checked against
 * it. Takes the message's fds; evicts n when any of it fails.
 */
static void om_node_set_mem_table(struct om_node *n, VhostUserMsg *m)
{
	VuDevRegion regions[VHOST_MEMORY_BASELINE_NREGIONS];
	VhostUserMemory mem_copy, *mem = &mem_copy;
	VuDev *dev = &n->dev;
	const char *why = NULL;
	uint64_t total = 0;
	uint32_t i, mapped = 0;
	int err = 0;

	memcpy(mem, &m->payload, sizeof(*mem)); /* the message is packed */
	if (m->size < offsetof(VhostUserMemory, regions) || mem->nregions == 0 ||
	    mem->nregions > VHOST_MEMORY_BASELINE_NREGIONS || (int)mem->nregions != m->fd_num ||
	    m->size != offsetof(VhostUserMemory, regions) + mem->nregions * sizeof(mem->regions[0])) {
		om_node_evict(n, "SET_MEM_TABLE: %u regions with %d fds in %u bytes", mem->nregions,
			      m->fd_num, m->size);
		goto out;
	}
	for (i = 0; i < mem->nregions && !why; i++)
		why = om_node_region_unsafe(&mem->regions[i], m->fds[i], &total);
	if (why) {
		om_node_evict(n, "SET_MEM_TABLE: region %u: %s", i - 1, why);
		goto out;
	}
	for (mapped = 0; mapped < mem->nregions; mapped++) {
		const VhostUserMemoryRegion *r = &mem->regions[mapped];
		/* From the file's start, as libvhost-user lays regions out (vu_deinit unmaps them). */
		void *p = mmap(NULL, r->mmap_offset + r->memory_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, m->fds[mapped], 0);

		if (p == MAP_FAILED) {
			err = errno;
			break;
		}
		regions[mapped] = (VuDevRegion){ .gpa = r->guest_phys_addr, .size = r->memory_size,
						 .qva = r->userspace_addr,
						 .mmap_offset = r->mmap_offset,
						 .mmap_addr = (uint64_t)(uintptr_t)p };
	}
	if (err) {
		om_node_unmap_regions(regions, mapped);
		om_node_evict(n, "SET_MEM_TABLE: region %u: cannot map it: %s", mapped,
			      strerror(err));
		goto out;
	}
	/* The old mappings go: give back the element we hold in them. */
	om_relay_unstall(n);
	om_node_unmap_regions(dev->regions, dev->nregions);
	memcpy(dev->regions, regions, mapped * sizeof(regions[0]));
	dev->nregions = mapped;
	for (unsigned int q = 0; q < VIRTIO_OM_QUEUE_COUNT; q++) {
		VuVirtq *vq = &dev->vq[q];

		if (vq->vring.desc && !om_node_map_ring(dev, vq, &vq->vra, vq->vring.num))
			om_node_evict(n, "SET_MEM_TABLE: queue %u's ring no longer lies in guest memory",
				      q);
	}
out:
	for (int f = 0; f < m->fd_num; f++)
		close(m->fds[f]);
	m->fd_num = 0;
}

/* SET_VRING_ADDR: the ring must fit at its new addresses. */
static bool om_node_check_vring_addr(struct om_node *n, const VhostUserMsg *m)
{
	struct vhost_vring_addr addr, *a = &addr;
	VuVirtq probe;

	memcpy(a, &m->payload, sizeof(*a)); /* the message is packed */
	if (m->size != sizeof(*a) || a->index >= VIRTIO_OM_QUEUE_COUNT)
		return false;
	if (!om_node_map_ring(&n->dev, &probe, a, n->dev.vq[a->index].vring.num)) {
		om_node_evict(n, "SET_VRING_ADDR: queue %u's ring of %u entries does not lie in "
			      "guest memory", a->index, n->dev.vq[a->index].vring.num);
		return false;
	}
	return true;
}

/*
 * SET_VRING_NUM: a power of two up to 32768, and a ring whose addresses
 * are set must still fit with it (libvhost-user just takes the new size).
 */
static bool om_node_check_vring_num(struct om_node *n, const VhostUserMsg *m)
{
	uint32_t num = m->payload.state.num;
	VuVirtq *vq;

	if (!om_node_check_state(m))
		return false;
	if (!num || num > OM_HOSTD_QUEUE_SIZE_MAX || (num & (num - 1))) {
		om_node_evict(n, "SET_VRING_NUM: %u entries, not a power of two up to %u", num,
			      OM_HOSTD_QUEUE_SIZE_MAX);
		return false;
	}
	vq = &n->dev.vq[m->payload.state.index];
	if (vq->vring.desc && !om_node_map_ring(&n->dev, vq, &vq->vra, num)) {
		om_node_evict(n, "SET_VRING_NUM: queue %u's ring of %u entries does not lie in "
			      "guest memory", m->payload.state.index, num);
		return false;
	}
	return true;
}

/*
 * Whether fd is an eventfd. Kick and call fds are polled and written as
 * eventfds (a pipe would fill, and a socket or file is something else);
 * their inodes are anonymous, told apart only by the name /proc gives.
 */
static bool om_node_is_eventfd(int fd)
{
	static const char want[] = "anon_inode:[eventfd]";
	char path[48], target[sizeof(want) + 1];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, target, sizeof(target));
	return len == (ssize_t)sizeof(want) - 1 && !memcmp(target, want, sizeof(want) - 1);
}

/*
 * Why the fds passed with m are not what its request takes, or NULL: each
 * fd is then owned by whoever handles the request (libvhost-user keeps the
 * ring fds, SET_MEM_TABLE closes its own), and none is left over.
 */
static const char *om_node_fds_wrong(const VhostUserMsg *m)
{
	switch (m->request) {
	case VHOST_USER_SET_MEM_TABLE:
		return NULL; /* one per region: om_node_set_mem_table checks */
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		if (m->size == sizeof(m->payload.u64) && (m->payload.u64 & VHOST_USER_VRING_NOFD_MASK))
			return m->fd_num ? "an fd with the no-fd flag" : NULL;
		if (m->fd_num != 1)
			return "not exactly one fd";
		return om_node_is_eventfd(m->fds[0]) ? NULL : "an fd that is not an eventfd";
	default:
		return m->fd_num ? "fds with a request that takes none" : NULL;
	}
}

/*
 * Called by libvhost-user before it handles a message: refuse what we do
 * not offer and what it would trust blindly. Returns 1 when handled here.
 */
static int om_node_process_msg(VuDev *dev, VhostUserMsg *m, int *do_reply)
{
	struct om_node *n = om_node_of(dev);
	const char *fds_wrong = om_node_fds_wrong(m);
	bool ok;

	if (fds_wrong) {
		om_node_evict(n, "vhost-user request %u (%s): %s (%d fds)", m->request,
			      vu_request_to_string(m->request), fds_wrong, m->fd_num);
		goto refuse;
	}
	switch (m->request) {
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		m->payload.u64 = OM_PROTOCOL_FEATURES;
		m->size = sizeof(m->payload.u64);
		m->fd_num = 0;
		*do_reply = 1;
		return 1;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		ok = m->size == sizeof(m->payload.u64) && !(m->payload.u64 & ~OM_PROTOCOL_FEATURES);
		break;
	case VHOST_USER_SET_FEATURES:
		ok = m->size == sizeof(m->payload.u64) &&
		     !(m->payload.u64 & ~(om_node_get_features(dev) |
					  (1ull << VHOST_USER_F_PROTOCOL_FEATURES)));
		break;
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_GET_QUEUE_NUM:
		ok = true;
		break;
	case VHOST_USER_SET_MEM_TABLE:
		om_node_set_mem_table(n, m);
		*do_reply = 0; /* acked by libvhost-user if asked, unless evicted */
		return 1;
	case VHOST_USER_SET_VRING_NUM:
		ok = om_node_check_vring_num(n, m);
		break;
	case VHOST_USER_SET_VRING_ADDR:
		ok = om_node_check_vring_addr(n, m);
		break;
	case VHOST_USER_SET_VRING_BASE:
		ok = om_node_check_state(m) && m->payload.state.num <= 0xffff;
		break;
	case VHOST_USER_GET_VRING_BASE:
		ok = om_node_check_state(m);
		/* The stalled head is not consumed: the base must say so. */
		if (ok && m->payload.state.index == VIRTIO_OM_QUEUE_TX)
			om_relay_unstall(n);
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		ok = om_node_check_state(m);
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		ok = m->size == sizeof(m->payload.u64) &&
		     (m->payload.u64 & VHOST_USER_VRING_IDX_MASK) < VIRTIO_OM_QUEUE_COUNT;
		break;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		ok = m->size >= offsetof(VhostUserConfig, region) &&
		     m->payload.config.size <= VHOST_USER_MAX_CONFIG_SIZE &&
		     m->size == offsetof(VhostUserConfig, region) + m->payload.config.size;
		break;
	default:
		ok = false;
		break;
	}
	if (ok)
		return 0;
	om_node_evict(n, "refused vhost-user request %u (%s), size %u, %d fds", m->request,
		      vu_request_to_string(m->request), m->size, m->fd_num);
refuse:
	for (int i = 0; i < m->fd_num; i++)
		close(m->fds[i]);
	m->fd_num = 0;
	*do_reply = 0;
	return 1;
}

/* Reads exactly len bytes; false on EOF, error or a short stream. */
static bool om_node_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/*
 * Reads one vhost-user message (header with any passed fds, then the
 * payload). libvhost-user's own reader asserts on a short payload and
 * takes end-of-stream for a message; a broken stream must only end the
 * connection.
 *
 * The end of the stream between two messages is the front-end going away
 * (a QEMU that stopped or died: its peers hear DISCONNECTED). Anything
 * else that fails here is the front-end breaking the protocol: a header
 * announcing more than any request carries, more fds than any request
 * passes, a message cut short. Those evict it (EVICTED, counted), as a
 * malformed request does in om_node_process_msg; before this they were
 * taken for a plain hang-up.
 */
static bool om_node_read_msg(VuDev *dev, int fd, VhostUserMsg *m)
{
	char control[CMSG_SPACE(VHOST_MEMORY_BASELINE_NREGIONS * sizeof(int))];
	struct iovec iov = { .iov_base = m, .iov_len = VHOST_USER_HDR_SIZE };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct om_node *node = om_node_of(dev);
	const char *broken = NULL;
	struct cmsghdr *c;
	ssize_t n;

	m->fd_num = 0;
	do {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
		size_t bytes;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		bytes = c->cmsg_len - CMSG_LEN(0);
		m->fd_num = (int)(bytes / sizeof(int));
		memcpy(m->fds, CMSG_DATA(c), (size_t)m->fd_num * sizeof(int));
		break;
	}
	if (n <= 0)
		; /* end of stream, or an error: gone, not misbehaving */
	else if (msg.msg_flags & MSG_CTRUNC)
		broken = "more fds than any request passes";
	else if ((size_t)n < VHOST_USER_HDR_SIZE &&
		 !om_node_read_full(fd, (char *)m + n, VHOST_USER_HDR_SIZE - (size_t)n))
		broken = "header cut short";
	else if (m->size > sizeof(m->payload))
		broken = "payload larger than any request's";
	else if (!om_node_read_full(fd, &m->payload, m->size))
		broken = "payload cut short";
	else
		return true;
	if (broken)
		om_node_evict(node, "vhost-user message: %s (request %u, size %u)", broken,
			      n >= (ssize_t)sizeof(m->request) ? (unsigned int)m->request : 0,
			      (size_t)n >= VHOST_USER_HDR_SIZE ? m->size : 0);
	for (int i = 0; i < m->fd_num; i++)
		close(m->fds[i]);
	m->fd_num = 0;
	return false;
}

static const VuDevIface om_node_iface = {
	.get_features = om_node_get_features,
	.process_msg = om_node_process_msg,
	.queue_set_started = om_node_queue_set_started,
	.queue_is_processed_in_order = om_node_in_order,
	.get_config = om_node_get_config,
	.set_config = om_node_set_config,
};

/* Ends the connection of n's front-end; its socket keeps listening. */
static void om_node_disconnect(struct om_node *n, uint32_t reason, const char *why)
{
	if (n->state == OM_NODE_ABSENT)
		return;
	om_log("node %u disconnected: %s", n->id, why);
	om_relay_node_down(n, reason);
	om_loop_unwatch(n->d->loop, n->conn_w);
	n->conn_w = NULL;
	if (n->vu_ready)
		vu_deinit(&n->dev); /* closes the socket and the ring fds, unmaps memory */
	n->vu_ready = false;
	for (unsigned int i = 0; i < OM_HOSTD_MAX_WATCHES; i++)
		if (n->watches[i].w)
			om_loop_unwatch(n->d->loop, n->watches[i].w);
	memset(n->watches, 0, sizeof(n->watches));
	memset(n->started, 0, sizeof(n->started));
	memset(n->notify, 0, sizeof(n->notify));
	n->state = OM_NODE_ABSENT;
	n->resumed = false;
	n->runnable = false;
	n->evict = false;
	n->c.disconnects++;
}

void om_node_dispatch(struct om_node *n)
{
	if (!vu_dispatch(&n->dev) && !n->evict)
		om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "front-end closed the connection");
}

static void om_node_readable(void *data, int revents)
{
	struct om_node *n = data;

	if (revents < 0 || ((revents & (POLLHUP | POLLERR)) && !(revents & POLLIN)))
		om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "hang-up");
	else
		om_node_dispatch(n);
	om_hostd_settle(n->d);
}

int om_node_attach(struct om_node *n, int fd)
{
	int err;

	if (n->state != OM_NODE_ABSENT) {
		om_log("node %u: refused a second front-end", n->id);
		close(fd);
		return -EBUSY;
	}
	memset(&n->dev, 0, sizeof(n->dev));
	if (!vu_init(&n->dev, VIRTIO_OM_QUEUE_COUNT, fd, om_node_panic, om_node_read_msg,
		     om_node_set_watch,
		     om_node_remove_watch, &om_node_iface)) {
		om_log("node %u: vu_init failed", n->id);
		close(fd);
		return -ENOMEM;
	}
	n->vu_ready = true;
	err = om_loop_watch(n->d->loop, fd, POLLIN, om_node_readable, n, &n->conn_w);
	if (err) {
		vu_deinit(&n->dev); /* closes fd */
		n->vu_ready = false;
		return err;
	}
	n->state = OM_NODE_CONNECTED;
	n->c.connects++;
	om_log("node %u connected", n->id);
	return 0;
}

static void om_node_accept(void *data, int revents)
{
	struct om_node *n = data;
	int fd;

	(void)revents;
	fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		om_node_attach(n, fd);
}

int om_node_open(struct om_hostd *d, uint32_t id)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec now;
	struct om_node *n;
	int err;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->ctl = calloc(d->cfg.last_node - d->cfg.first_node + 1, sizeof(*n->ctl));
	if (!n->ctl) {
		free(n);
		return -ENOMEM;
	}
	n->d = d;
	n->id = id;
	n->listen_fd = -1;
	TAILQ_INIT(&n->waiters);
	/* Control messages' seq goes on increasing across omhostd restarts. */
	clock_gettime(CLOCK_REALTIME, &now);
	n->ctl_seq = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
	if ((size_t)snprintf(n->sock_path, sizeof(n->sock_path), "%s/node-%u.sock", d->cfg.dir, id) >=
		    sizeof(sa.sun_path)) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, n->sock_path, strlen(n->sock_path) + 1);
	n->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->listen_fd < 0) {
		err = -errno;
		goto fail;
	}
	unlink(n->sock_path); /* a previous omhostd's: front-ends reconnect to the new one */
	if (bind(n->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(n->listen_fd, 4)) {
		err = -errno;
		goto fail;
	}
	err = om_loop_watch(d->loop, n->listen_fd, POLLIN, om_node_accept, n, &n->listen_w);
	if (err)
		goto fail;
	d->nodes[id] = n;
	return 0;
fail:
	if (n->listen_fd >= 0)
		close(n->listen_fd);
	free(n->ctl);
	free(n);
	return err;
}

void om_node_close(struct om_node *n)
{
	if (!n)
		return;
	om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "omhostd stops");
	om_loop_unwatch(n->d->loop, n->listen_w);
	close(n->listen_fd);
	unlink(n->sock_path);
	n->d->nodes[n->id] = NULL;
	free(n->ctl);
	free(n);
}

void om_hostd_settle(struct om_hostd *d)
{
	bool again = true;

	while (again) {
		again = false;
		for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
			struct om_node *n = om_hostd_node(d, id);

			if (!n)
				continue;
			if (n->evict) {
				om_log("node %u evicted: %s", n->id, n->evict_why);
				n->c.evictions++;
				om_node_disconnect(n, VIRTIO_OM_NODE_EVICTED, "evicted");
				again = true;
			} else if (n->runnable) {
				om_relay_drain_tx(n);
				again = true;
			}
		}
	}
	om_relay_flush_notifications(d);
	if (om_trace_on(d))
		om_trace_flush(d);
}
