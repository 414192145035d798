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
#include <sys/timerfd.h>
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
		n->runnable = true; /* drained in its turn: om_hostd_settle() follows every kick */
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
		om_log_node(n, OM_LOG_CONNECT, "node %u up%s", n->id, n->resumed ? " (resumed)" : "");
		om_relay_node_up(n);
	} else if (!started && n->state == OM_NODE_UP) {
		/* The driver stopped (guest reset or shut down). */
		om_log_node(n, OM_LOG_CONNECT, "node %u stopped", n->id);
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
	/* The old mappings go: give back the elements we hold in them. */
	om_relay_unstall(n);
	om_relay_tx_release_all(n);
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
		/*
		 * The stalled head is not consumed: the base must say so. Chains
		 * held for a peer's acknowledgement go back (their copies are in
		 * the link's memory): the base tells the front-end all before it
		 * were used, so what it does not get now it never would.
		 */
		if (ok && m->payload.state.index == VIRTIO_OM_QUEUE_TX) {
			om_relay_unstall(n);
			om_relay_tx_release_all(n);
		}
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		ok = om_node_check_state(m);
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		ok = m->size == sizeof(m->payload.u64) &&
		     (m->payload.u64 & VHOST_USER_VRING_IDX_MASK) < VIRTIO_OM_QUEUE_COUNT;
		/*
		 * libvhost-user reads and writes it from our only thread: it must
		 * not wait (QEMU's are non-blocking already; a front-end that
		 * clears the flag later is stopped by the watchdog, main.c).
		 */
		if (ok && m->fd_num)
			ok = fcntl(m->fds[0], F_SETFL, fcntl(m->fds[0], F_GETFL) | O_NONBLOCK) == 0;
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

/* The front-end's socket: ready for it, and what to call. */
static int om_node_watch_conn(struct om_node *n, unsigned int events);

static void om_node_in_reset(struct om_node *n)
{
	for (int i = 0; i < n->in.nfds; i++)
		close(n->in.fds[i]);
	n->in.nfds = 0;
	n->in.have = 0;
	n->in.ready = false;
}

/*
 * Arms the connection's timer for the earliest wait on the front-end (a
 * message begun, a reply not taken), or disarms it.
 */
static void om_node_rearm(struct om_node *n)
{
	long long due = 0, left;
	struct itimerspec t = { 0 };

	if (n->in.have)
		due = n->in.since_ms + OM_HOSTD_FRONTEND_WAIT_MS;
	if (n->out_len && (!due || n->out_since_ms + OM_HOSTD_FRONTEND_WAIT_MS < due))
		due = n->out_since_ms + OM_HOSTD_FRONTEND_WAIT_MS;
	if (!due && !n->timer_armed)
		return;
	if (due) {
		left = due - om_now_ms();
		if (left < 1)
			left = 1;
		t.it_value.tv_sec = left / 1000;
		t.it_value.tv_nsec = (left % 1000) * 1000000L;
	}
	if (timerfd_settime(n->timer_fd, 0, &t, NULL) == 0)
		n->timer_armed = due != 0;
}

static void om_node_timer_fired(void *data, int revents)
{
	struct om_node *n = data;
	long long now = om_now_ms();
	uint64_t ticks;

	(void)revents;
	if (read(n->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		om_node_evict(n, "timer: %s", strerror(errno));
	n->timer_armed = false;
	if (n->in.have && now - n->in.since_ms >= OM_HOSTD_FRONTEND_WAIT_MS)
		om_node_evict(n, "vhost-user message incomplete for %d ms (%zu bytes of it came)",
			      OM_HOSTD_FRONTEND_WAIT_MS, n->in.have);
	else if (n->out_len && now - n->out_since_ms >= OM_HOSTD_FRONTEND_WAIT_MS)
		om_node_evict(n, "did not take a reply for %d ms (%zu bytes left)",
			      OM_HOSTD_FRONTEND_WAIT_MS, n->out_len - n->out_off);
	else
		om_node_rearm(n);
	om_hostd_settle(n->d);
}

/* Keeps the fds of one received chunk; false when there are more than any request passes. */
static bool om_node_take_fds(struct om_node *n, struct msghdr *msg)
{
	bool fit = true;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		int fds[VHOST_MEMORY_BASELINE_NREGIONS + 1];
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > sizeof(fds) / sizeof(fds[0]))
			k = sizeof(fds) / sizeof(fds[0]); /* cannot be: the buffer holds no more */
		memcpy(fds, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (n->in.nfds < VHOST_MEMORY_BASELINE_NREGIONS) {
				n->in.fds[n->in.nfds++] = fds[i];
			} else {
				close(fds[i]);
				fit = false;
			}
		}
	}
	return fit && !(msg->msg_flags & MSG_CTRUNC);
}

/*
 * Reads what the front-end sent of its next message, never past it and
 * never waiting: 1 once the message is whole (n->in.ready), 0 while part
 * of it has yet to come, -1 when the front-end went away between two
 * messages (a QEMU that stopped or died: its peers hear DISCONNECTED).
 * Anything else is the front-end breaking the protocol (a header announcing
 * more than any request carries, more fds than any request passes, a
 * message cut short by the end of the stream): n is evicted, -1. Unlike
 * libvhost-user's reader, which blocks until a message is whole, a partial
 * message here holds up no one (docs/omhostd.md); the timer ends one that
 * stays partial.
 */
static int om_node_read_some(struct om_node *n)
{
	char control[CMSG_SPACE((VHOST_MEMORY_BASELINE_NREGIONS + 1) * sizeof(int))];
	const char *broken = NULL;
	VhostUserMsg *m = &n->in.m;

	while (!n->in.ready) {
		size_t want = n->in.have < VHOST_USER_HDR_SIZE ? VHOST_USER_HDR_SIZE - n->in.have :
			      VHOST_USER_HDR_SIZE + m->size - n->in.have;
		struct iovec iov = { .iov_base = (char *)m + n->in.have, .iov_len = want };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
				      .msg_controllen = sizeof(control) };
		ssize_t r;

		if (!want) {
			n->in.ready = true;
			break;
		}
		r = recvmsg(n->sock_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0 && n->in.have == 0)
			return -1; /* end of stream, or an error: gone, not misbehaving */
		if (r <= 0) {
			broken = n->in.have < VHOST_USER_HDR_SIZE ? "header cut short" :
								    "payload cut short";
			break;
		}
		if (!n->in.have)
			n->in.since_ms = om_now_ms();
		n->in.have += (size_t)r;
		if (!om_node_take_fds(n, &msg)) {
			broken = "more fds than any request passes";
			break;
		}
		if (n->in.have == VHOST_USER_HDR_SIZE && m->size > sizeof(m->payload)) {
			broken = "payload larger than any request's";
			break;
		}
	}
	if (!broken)
		return 1;
	om_node_evict(n, "vhost-user message: %s (request %u, size %u)", broken,
		      n->in.have >= sizeof(m->request) ? (unsigned int)m->request : 0,
		      n->in.have >= VHOST_USER_HDR_SIZE ? m->size : 0);
	om_node_in_reset(n);
	return -1;
}

/* libvhost-user's reader: hands over the message om_node_read_some made whole. */
static bool om_node_read_msg(VuDev *dev, int fd, VhostUserMsg *m)
{
	struct om_node *n = om_node_of(dev);

	(void)fd;
	if (!n->in.ready)
		return false;
	memcpy(m, &n->in.m, VHOST_USER_HDR_SIZE + n->in.m.size);
	memcpy(m->fds, n->in.fds, (size_t)n->in.nfds * sizeof(int));
	m->fd_num = n->in.nfds;
	m->data = NULL;
	n->in.nfds = 0; /* libvhost-user's now */
	om_node_in_reset(n);
	return true;
}

static const VuDevIface om_node_iface = {
	.get_features = om_node_get_features,
	.process_msg = om_node_process_msg,
	.queue_set_started = om_node_queue_set_started,
	.queue_is_processed_in_order = om_node_in_order,
	.get_config = om_node_get_config,
	.set_config = om_node_set_config,
};

/*
 * Sends what replies wait, as far as the front-end's socket takes them:
 * 0, or -1 when the front-end is gone. A front-end that does not read
 * stops being read (its requests wait behind its replies), so at most one
 * reply is ever held here; the timer ends one that never reads.
 */
static int om_node_flush_out(struct om_node *n)
{
	bool was_pending = n->out_off < n->out_len;

	for (;;) {
		ssize_t r;

		if (n->out_off == n->out_len) {
			n->out_off = n->out_len = 0;
			r = recv(n->reply_fd, n->out, sizeof(n->out), MSG_DONTWAIT);
			if (r <= 0)
				break; /* EAGAIN: libvhost-user wrote nothing more */
			n->out_len = (size_t)r;
		}
		r = send(n->sock_fd, n->out + n->out_off, n->out_len - n->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!was_pending)
				n->out_since_ms = om_now_ms();
			return om_node_watch_conn(n, POLLOUT) ? -1 : 0;
		}
		if (r < 0)
			return -1;
		n->out_off += (size_t)r;
	}
	if (was_pending)
		return om_node_watch_conn(n, POLLIN) ? -1 : 0;
	return 0;
}

static void om_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Ends the connection of n's front-end; its socket keeps listening. The
 * replies still waiting go with it.
 */
static void om_node_disconnect(struct om_node *n, uint32_t reason, const char *why)
{
	if (n->state == OM_NODE_ABSENT)
		return;
	om_log_node(n, OM_LOG_CONNECT, "node %u disconnected: %s", n->id, why);
	om_relay_tx_forget(n);
	om_relay_node_down(n, reason);
	om_loop_unwatch(n->d->loop, n->conn_w);
	n->conn_w = NULL;
	om_loop_unwatch(n->d->loop, n->timer_w);
	n->timer_w = NULL;
	if (n->vu_ready)
		vu_deinit(&n->dev); /* closes the reply socket, the ring fds, unmaps memory */
	n->vu_ready = false;
	om_node_in_reset(n);
	om_close_fd(&n->sock_fd);
	om_close_fd(&n->reply_fd);
	om_close_fd(&n->timer_fd);
	n->out_len = n->out_off = 0;
	n->timer_armed = false;
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
	int r;

	if (n->state == OM_NODE_ABSENT || n->out_len)
		return; /* its requests wait until it took its replies */
	r = om_node_read_some(n);
	if (r > 0) {
		/* libvhost-user answers into the reply socket; sent on from there. */
		if (!vu_dispatch(&n->dev) && !n->evict)
			om_node_evict(n, "vhost-user: request not handled");
		if (!n->evict && om_node_flush_out(n) < 0)
			r = -1;
	}
	if (r < 0 && !n->evict)
		om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "front-end closed the connection");
	else if (n->state != OM_NODE_ABSENT)
		om_node_rearm(n);
}

static void om_node_conn_ready(void *data, int revents)
{
	struct om_node *n = data;

	if (revents < 0 || ((revents & (POLLHUP | POLLERR)) && !(revents & (POLLIN | POLLOUT))))
		om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "hang-up");
	else if (n->out_len && om_node_flush_out(n) < 0)
		om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "hang-up");
	else if (n->out_len)
		om_node_rearm(n);
	else
		om_node_dispatch(n);
	om_hostd_settle(n->d);
}

static int om_node_watch_conn(struct om_node *n, unsigned int events)
{
	om_loop_unwatch(n->d->loop, n->conn_w);
	n->conn_w = NULL;
	return om_loop_watch(n->d->loop, n->sock_fd, events, om_node_conn_ready, n, &n->conn_w);
}

int om_node_attach(struct om_node *n, int fd)
{
	int pair[2] = { -1, -1 }, err;

	if (n->state != OM_NODE_ABSENT) {
		om_log_node(n, OM_LOG_SECOND, "node %u: refused a second front-end", n->id);
		close(fd);
		return -EBUSY;
	}
	n->sock_fd = fd;
	n->reply_fd = -1;
	n->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (n->timer_fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	/*
	 * libvhost-user writes each reply whole, waiting (or spinning) while
	 * the socket is full: it writes into a socket pair of ours instead,
	 * and omhostd passes the replies on without waiting.
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		err = -errno;
		goto fail;
	}
	n->reply_fd = pair[1];
	if (fcntl(n->reply_fd, F_SETFL, O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	memset(&n->dev, 0, sizeof(n->dev));
	if (!vu_init(&n->dev, VIRTIO_OM_QUEUE_COUNT, pair[0], om_node_panic, om_node_read_msg,
		     om_node_set_watch, om_node_remove_watch, &om_node_iface)) {
		err = -ENOMEM;
		goto fail;
	}
	pair[0] = -1; /* libvhost-user's */
	n->vu_ready = true;
	err = om_loop_watch(n->d->loop, fd, POLLIN, om_node_conn_ready, n, &n->conn_w);
	if (!err)
		err = om_loop_watch(n->d->loop, n->timer_fd, POLLIN, om_node_timer_fired, n,
				    &n->timer_w);
	if (err)
		goto fail;
	n->state = OM_NODE_CONNECTED;
	n->c.connects++;
	om_log_node(n, OM_LOG_CONNECT, "node %u connected", n->id);
	return 0;
fail:
	om_log_node(n, OM_LOG_CONNECT, "node %u: cannot serve its front-end: %s", n->id,
		    strerror(-err));
	om_loop_unwatch(n->d->loop, n->conn_w);
	om_loop_unwatch(n->d->loop, n->timer_w);
	n->conn_w = n->timer_w = NULL;
	if (n->vu_ready)
		vu_deinit(&n->dev);
	n->vu_ready = false;
	om_close_fd(&pair[0]);
	om_close_fd(&n->reply_fd);
	om_close_fd(&n->timer_fd);
	om_close_fd(&n->sock_fd);
	return err;
}

/*
 * Whether the front-end on fd may be node n's: the socket's path names
 * the node, so who may connect to it must be checked here (the directory's
 * permissions are not omhostd's to trust). Its uid must be the one allowed
 * for the node (--allow-uid) or root's: root can reach omhostd's memory
 * anyway.
 */
static bool om_node_peer_allowed(struct om_node *n, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred)) {
		n->c.unauthorized++;
		om_log_node(n, OM_LOG_PEER, "node %u: refused a front-end: no peer credentials: %s",
			    n->id, strerror(errno));
		return false;
	}
	if (cred.uid == n->d->cfg.allow_uid[n->id] || cred.uid == 0)
		return true;
	n->c.unauthorized++;
	om_log_node(n, OM_LOG_PEER,
		    "node %u: refused a front-end of uid %u (pid %d): only uid %u or root may connect",
		    n->id, (unsigned int)cred.uid, (int)cred.pid, (unsigned int)n->d->cfg.allow_uid[n->id]);
	return false;
}

/*
 * After an eviction, reconnects are refused for a while (see struct
 * om_node): a front-end that breaks the rules again at once would
 * otherwise cost an eviction, and its peers a NODE_UP/NODE_DOWN, per try.
 */
static bool om_node_backing_off(struct om_node *n)
{
	long long left = n->backoff_until_ms - om_now_ms();

	if (left <= 0)
		return false;
	n->c.backoff_refused++;
	om_log_node(n, OM_LOG_BACKOFF,
		    "node %u: refused a reconnect: backing off after %u eviction%s in a row, "
		    "%lld ms left", n->id, n->evict_streak, n->evict_streak == 1 ? "" : "s", left);
	return true;
}

static void om_node_accept(void *data, int revents)
{
	struct om_node *n = data;
	int fd;

	(void)revents;
	fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		char what[32];

		snprintf(what, sizeof(what), "node %u", n->id);
		if (om_accept_starved(err))
			om_accept_rest(n->d, what, err, &n->listen_w, &n->accept_resting);
		return;
	}
	if (!om_node_peer_allowed(n, fd) || om_node_backing_off(n))
		close(fd);
	else
		om_node_attach(n, fd);
}

int om_node_listen(struct om_node *n)
{
	int err = om_loop_watch(n->d->loop, n->listen_fd, POLLIN, om_node_accept, n, &n->listen_w);

	if (!err)
		n->accept_resting = false;
	return err;
}

long long om_backoff_ms(unsigned int first_ms, unsigned int streak)
{
	long long ms = first_ms;

	for (unsigned int i = 1; i < streak && ms && ms < OM_HOSTD_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < OM_HOSTD_BACKOFF_MAX_MS ? ms : OM_HOSTD_BACKOFF_MAX_MS;
}

/* Counts an eviction of n and starts its back-off. */
static void om_node_evicted(struct om_node *n)
{
	long long now = om_now_ms(), backoff;

	if (n->evict_streak && now - n->last_evict_ms > OM_HOSTD_BACKOFF_FORGET_MS)
		n->evict_streak = 0;
	n->evict_streak++;
	n->last_evict_ms = now;
	backoff = om_backoff_ms(n->d->cfg.backoff_ms, n->evict_streak);
	n->backoff_until_ms = now + backoff;
	n->c.evictions++;
	/* Not rate-limited: the back-off bounds how often a node is evicted. */
	om_log("node %u evicted: %s; reconnects refused for %lld ms", n->id, n->evict_why, backoff);
}

struct om_node *om_node_new(struct om_hostd *d, uint32_t id)
{
	uint32_t nodes = d->cfg.last_node - d->cfg.first_node + 1, known = nodes;
	struct om_node *n = calloc(1, sizeof(*n));
	struct timespec now;

	if (!n)
		return NULL;
	/* ctl holds one event per node it may hear of: the peers' nodes too. */
	for (unsigned int i = 0; i < d->cfg.n_peers; i++)
		known += d->cfg.peers[i].last_node - d->cfg.peers[i].first_node + 1;
	n->ctl = calloc(known, sizeof(*n->ctl));
	n->queue_from = calloc(nodes, sizeof(*n->queue_from));
	if (!n->ctl || !n->queue_from) {
		free(n->ctl);
		free(n->queue_from);
		free(n);
		return NULL;
	}
	n->d = d;
	n->id = id;
	n->listen_fd = -1;
	n->sock_fd = n->reply_fd = n->timer_fd = -1;
	TAILQ_INIT(&n->waiters);
	TAILQ_INIT(&n->queue);
	TAILQ_INIT(&n->txhold);
	/* Control messages' seq goes on increasing across omhostd restarts. */
	clock_gettime(CLOCK_REALTIME, &now);
	n->ctl_seq = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
	return n;
}

int om_node_open(struct om_hostd *d, uint32_t id)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct om_node *n;
	int err;

	n = om_node_new(d, id);
	if (!n)
		return -ENOMEM;
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
	err = om_node_listen(n);
	if (err)
		goto fail;
	d->nodes[id] = n;
	return 0;
fail:
	if (n->listen_fd >= 0)
		close(n->listen_fd);
	free(n->ctl);
	free(n->queue_from);
	free(n);
	return err;
}

void om_node_close(struct om_node *n)
{
	if (!n)
		return;
	om_node_disconnect(n, VIRTIO_OM_NODE_DISCONNECTED, "omhostd stops");
	om_loop_unwatch(n->d->loop, n->listen_w);
	if (n->listen_fd >= 0) {
		close(n->listen_fd);
		unlink(n->sock_path);
	}
	n->d->nodes[n->id] = NULL;
	free(n->ctl);
	free(n->queue_from);
	free(n);
}

/*
 * Every runnable node's tx gets one turn (OM_HOSTD_TX_BUDGET_*) a pass,
 * in node order; a ring left with messages waits for the next settle,
 * which the main loop runs once it has looked at the other events: a
 * guest that keeps its ring full cannot keep a quiet one's kick unseen.
 */
void om_hostd_settle(struct om_hostd *d)
{
	bool again = true;

	d->more_work = false;
	while (again) {
		again = false;
		for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
			struct om_node *n = om_hostd_node(d, id);

			if (!n)
				continue;
			if (n->evict) {
				om_node_evicted(n);
				om_node_disconnect(n, VIRTIO_OM_NODE_EVICTED, "evicted");
				again = true;
			} else if (n->runnable && !n->turn_taken) {
				/* Made runnable by others (a waiter released) or by its kick. */
				n->turn_taken = true;
				om_relay_drain_tx(n);
				again = true;
			}
		}
	}
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);

		if (!n)
			continue;
		n->turn_taken = false;
		d->more_work = d->more_work || n->runnable;
	}
	om_links_flush(d);
	om_relay_flush_notifications(d);
	if (om_trace_on(d))
		om_trace_flush(d);
}
