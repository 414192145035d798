// SPDX-License-Identifier: GPL-2.0-only
/*
 * vu-frontend: a synthetic vhost-user front-end (QEMU + guest driver) for
 * testing virtio-om back-ends. See vu-frontend.h for what it is for and
 * its limits. Written from the vhost-user and virtio specifications.
 */
#include "vu-frontend.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_om.h>

#define DEFAULT_REGION_SIZE (16ull << 20)
#define DEFAULT_GPA_BASE    (1ull << 20)
#define DEFAULT_QUEUE_SIZE  256u
#define DEFAULT_TIMEOUT_MS  2000
#define PAGE		    4096ull

/* Bytes between scattered segments: a device that writes or reads past a
 * descriptor's length lands in a gap, and the receiver sees it. */
#define GUARD 64u
#define GUARD_BYTE 0xa5

/* A tx slot: header, payload segments with gaps, an indirect table. */
#define TX_HDR_AREA 64u
#define TX_TABLE_SIZE ((VUF_MAX_SEGS + 1) * sizeof(struct vring_desc))
#define TX_SLOT_SIZE                                                                        \
	((TX_HDR_AREA + VIRTIO_OM_MAX_PAYLOAD + VUF_MAX_SEGS * GUARD + 16 + TX_TABLE_SIZE + \
	  4095) & ~4095u)

/* The largest reply payload we read into memory; beyond it, discarded. */
#define MAX_REPLY 4096u

enum head_kind { KIND_USER, KIND_RX, KIND_TX };

struct vuf_region_s {
	int fd;		      /* memfd (shared by all regions with VUF_O_SHARED_MEMFD) */
	uint8_t *ptr;	      /* our mapping of the region */
	uint64_t gpa, size;
	uint64_t mmap_offset; /* where the region starts in fd */
	uint64_t used;	      /* bump pointer */
};

struct vuf_head {
	uintptr_t token;
	uint16_t ndesc; /* descriptors in the chain (1 if indirect) */
	uint8_t kind;
	bool busy;
};

struct vuf_vq {
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx;  /* next avail slot we fill */
	uint16_t last_used;  /* next used entry we harvest */
	uint16_t kicked_idx; /* avail_idx at the last notify */
	uint16_t base;	     /* last SET_VRING_BASE sent or GET_VRING_BASE got */
	bool base_valid;     /* base came from GET_VRING_BASE: use it next start */
	/* Kept privately, not in the shared table: the device (or a test)
	 * may scribble on the table, the driver's bookkeeping stays sane. */
	uint16_t *free_ids;
	unsigned int nfree;
	uint16_t *chain; /* next descriptor of a chain */
	struct vuf_head *heads;
	unsigned int inflight;
	int kick_fd, call_fd;
};

struct rx_buf {
	unsigned int nseg;
	struct vuf_sg seg[VUF_MAX_SEGS];
	uint32_t size;
	bool posted;
};

struct tx_slot {
	uint8_t *ptr;
	uint64_t gpa;
	bool busy;
};

struct vuf {
	struct vuf_opts o;
	struct vuf_region_s r[VUF_MAX_REGIONS];
	unsigned int nregions;
	uint8_t *shared_map; /* with VUF_O_SHARED_MEMFD: the one mapping */
	uint64_t shared_len;

	int sock;
	bool have_path;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	uint64_t offered, features, offered_pf, pf;
	uint32_t node_id, max_payload;
	bool started, event_idx;

	struct vuf_vq vq[VUF_NQUEUES];
	struct rx_buf *rx;
	unsigned int nrx;
	struct tx_slot *tx;
	unsigned int ntx;
	uint64_t seq[VIRTIO_OM_MAX_NODES + 1]; /* last seq sent per destination */
};

static void dbg(const struct vuf *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void dbg(const struct vuf *f, const char *fmt, ...)
{
	va_list ap;

	if (!(f->o.flags & VUF_O_DEBUG))
		return;
	va_start(ap, fmt);
	fputs("vuf: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- time ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_of(const struct vuf *f, int timeout_ms)
{
	return now_ms() + (timeout_ms < 0 ? f->o.timeout_ms : timeout_ms);
}

static int remaining(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left <= 0 ? 0 : (left > INT_MAX ? INT_MAX : (int)left);
}

/* ---- guest memory ---- */

static void *region_alloc(struct vuf_region_s *r, size_t size, size_t align, uint64_t *gpa)
{
	uint64_t at;

	if (align == 0)
		align = 1;
	if (align & (align - 1))
		return NULL;
	at = (r->used + align - 1) & ~(uint64_t)(align - 1);
	if (at > r->size || size > r->size - at)
		return NULL;
	r->used = at + size;
	if (gpa)
		*gpa = r->gpa + at;
	return r->ptr + at;
}

void *vuf_alloc_in(struct vuf *f, unsigned int region, size_t size, size_t align, uint64_t *gpa)
{
	if (!f || region >= f->nregions)
		return NULL;
	return region_alloc(&f->r[region], size, align, gpa);
}

void *vuf_alloc(struct vuf *f, size_t size, size_t align, uint64_t *gpa)
{
	for (unsigned int i = 0; f && i < f->nregions; i++) {
		void *p = region_alloc(&f->r[i], size, align, gpa);

		if (p)
			return p;
	}
	return NULL;
}

/* Spreads buffers over the regions (i-th buffer preferably in region i mod n)
 * so that a back-end's translation is exercised across all of them. */
static void *alloc_spread(struct vuf *f, unsigned int i, size_t size, size_t align, uint64_t *gpa)
{
	void *p = region_alloc(&f->r[i % f->nregions], size, align, gpa);

	return p ? p : vuf_alloc(f, size, align, gpa);
}

void *vuf_gpa_to_ptr(const struct vuf *f, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; f && i < f->nregions; i++) {
		const struct vuf_region_s *r = &f->r[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->ptr + (gpa - r->gpa);
	}
	return NULL;
}

int vuf_ptr_to_gpa(const struct vuf *f, const void *p, uint64_t *gpa)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned int i = 0; f && i < f->nregions; i++) {
		const struct vuf_region_s *r = &f->r[i];
		uintptr_t b = (uintptr_t)r->ptr;

		if (a >= b && a - b < r->size) {
			*gpa = r->gpa + (a - b);
			return 0;
		}
	}
	return -EFAULT;
}

int vuf_region(const struct vuf *f, unsigned int i, uint64_t *gpa, uint64_t *size, void **ptr)
{
	if (!f || i >= f->nregions)
		return -EINVAL;
	if (gpa)
		*gpa = f->r[i].gpa;
	if (size)
		*size = f->r[i].size;
	if (ptr)
		*ptr = f->r[i].ptr;
	return 0;
}

int vuf_region_fd(const struct vuf *f, unsigned int i, uint64_t *mmap_offset)
{
	if (!f || i >= f->nregions)
		return -EINVAL;
	if (mmap_offset)
		*mmap_offset = f->r[i].mmap_offset;
	return f->shared_map ? f->r[0].fd : f->r[i].fd;
}

/* The user address QEMU would send: ours is simply our own mapping. */
static uint64_t uva_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/*
 * A memfd of size bytes sealed as QEMU's memory-backend-memfd seals its
 * own (seal=on, the default): it can neither shrink nor grow. -errno.
 */
static int mem_fd(uint64_t size)
{
	int fd = memfd_create("vuf-guest-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING), e;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int mem_setup(struct vuf *f)
{
	uint64_t size = f->o.region_size;

	if (f->o.flags & VUF_O_SHARED_MEMFD) {
		int fd;

		f->shared_len = size * f->nregions;
		fd = mem_fd(f->shared_len);
		if (fd < 0)
			return fd;
		f->shared_map = mmap(NULL, f->shared_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (f->shared_map == MAP_FAILED) {
			int e = -errno;

			f->shared_map = NULL;
			close(fd);
			return e;
		}
		for (unsigned int i = 0; i < f->nregions; i++) {
			f->r[i].fd = i == 0 ? fd : -1; /* closed once, sent for each region */
			f->r[i].ptr = f->shared_map + i * size;
			f->r[i].mmap_offset = i * size;
		}
	} else {
		for (unsigned int i = 0; i < f->nregions; i++) {
			struct vuf_region_s *r = &f->r[i];

			r->fd = mem_fd(size);
			if (r->fd < 0)
				return r->fd;
			r->ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
			if (r->ptr == MAP_FAILED) {
				r->ptr = NULL;
				return -errno;
			}
		}
	}
	for (unsigned int i = 0; i < f->nregions; i++) {
		f->r[i].size = size;
		f->r[i].gpa = f->o.gpa_base + i * (size + f->o.gpa_gap);
	}
	return 0;
}

static int region_fd(const struct vuf *f, unsigned int i)
{
	return (f->o.flags & VUF_O_SHARED_MEMFD) ? f->r[0].fd : f->r[i].fd;
}

/* ---- the split virtqueue, driver side ---- */

static void vq_reset_free(struct vuf_vq *vq)
{
	/* Pushed in reverse so that fresh chains take ids 0, 1, 2... */
	vq->nfree = 0;
	for (unsigned int i = vq->num; i-- > 0;)
		vq->free_ids[vq->nfree++] = (uint16_t)i;
}

static int vq_setup(struct vuf *f, unsigned int q)
{
	struct vuf_vq *vq = &f->vq[q];
	uint16_t num = f->o.queue_size;

	vq->num = num;
	vq->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vq->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vq->kick_fd < 0 || vq->call_fd < 0)
		return -errno;
	/* The layout virtio 1.0 allows: three separate areas, aligned. */
	vq->desc = vuf_alloc_in(f, 0, sizeof(struct vring_desc) * num, 4096, &vq->desc_gpa);
	vq->avail = vuf_alloc_in(f, 0, sizeof(uint16_t) * (3 + num), 64, &vq->avail_gpa);
	vq->used = vuf_alloc_in(f, 0, sizeof(uint16_t) * 3 + sizeof(struct vring_used_elem) * num,
				4096, &vq->used_gpa);
	vq->free_ids = calloc(num, sizeof(*vq->free_ids));
	vq->chain = calloc(num, sizeof(*vq->chain));
	vq->heads = calloc(num, sizeof(*vq->heads));
	if (!vq->desc || !vq->avail || !vq->used)
		return -ENOMEM;
	if (!vq->free_ids || !vq->chain || !vq->heads)
		return -ENOMEM;
	vq_reset_free(vq);
	return 0;
}

static struct vuf_vq *get_vq(const struct vuf *f, unsigned int q)
{
	return (f && q < VUF_NQUEUES) ? (struct vuf_vq *)&f->vq[q] : NULL;
}

static uint16_t used_idx_acquire(const struct vuf_vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
}

static void avail_idx_release(struct vuf_vq *vq)
{
	/* The ring entry (and the descriptors) before the index. */
	__atomic_store_n(&vq->avail->idx, htole16(vq->avail_idx), __ATOMIC_RELEASE);
}

static uint16_t *used_event(struct vuf_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static uint16_t *avail_event(struct vuf_vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

static int vq_add(struct vuf *f, unsigned int q, const struct vuf_sg *out, unsigned int nout,
		  const struct vuf_sg *in, unsigned int nin, uint64_t indirect_gpa, uintptr_t token,
		  enum head_kind kind)
{
	struct vuf_vq *vq = get_vq(f, q);
	unsigned int total = nout + nin;
	uint16_t head, prev = 0;

	if (!vq || total == 0 || (nout && !out) || (nin && !in))
		return -EINVAL;
	if (indirect_gpa) {
		struct vring_desc *t = vuf_gpa_to_ptr(f, indirect_gpa, (uint64_t)total * sizeof(*t));

		if (!t)
			return -EFAULT;
		if (vq->nfree < 1)
			return -ENOSPC;
		for (unsigned int i = 0; i < total; i++) {
			const struct vuf_sg *s = i < nout ? &out[i] : &in[i - nout];
			uint16_t fl = i < nout ? 0 : VRING_DESC_F_WRITE;

			if (i + 1 < total)
				fl |= VRING_DESC_F_NEXT;
			t[i].addr = htole64(s->gpa);
			t[i].len = htole32(s->len);
			t[i].flags = htole16(fl);
			t[i].next = htole16(i + 1 < total ? (uint16_t)(i + 1) : 0);
		}
		head = vq->free_ids[--vq->nfree];
		vq->desc[head].addr = htole64(indirect_gpa);
		vq->desc[head].len = htole32(total * (uint32_t)sizeof(struct vring_desc));
		vq->desc[head].flags = htole16(VRING_DESC_F_INDIRECT);
		vq->desc[head].next = 0;
		vq->chain[head] = head;
		vq->heads[head] = (struct vuf_head){ token, 1, (uint8_t)kind, true };
	} else {
		if (vq->nfree < total)
			return -ENOSPC;
		head = vq->free_ids[vq->nfree - 1];
		for (unsigned int i = 0; i < total; i++) {
			const struct vuf_sg *s = i < nout ? &out[i] : &in[i - nout];
			uint16_t id = vq->free_ids[--vq->nfree];
			uint16_t fl = i < nout ? 0 : VRING_DESC_F_WRITE;

			if (i + 1 < total)
				fl |= VRING_DESC_F_NEXT;
			vq->desc[id].addr = htole64(s->gpa);
			vq->desc[id].len = htole32(s->len);
			vq->desc[id].flags = htole16(fl);
			vq->desc[id].next = 0;
			if (i > 0) {
				vq->desc[prev].next = htole16(id);
				vq->chain[prev] = id;
			}
			prev = id;
		}
		vq->chain[prev] = prev;
		vq->heads[head] = (struct vuf_head){ token, (uint16_t)total, (uint8_t)kind, true };
	}
	vq->inflight++;
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = htole16(head);
	vq->avail_idx++;
	avail_idx_release(vq);
	return head;
}

int vuf_vq_add(struct vuf *f, unsigned int q, const struct vuf_sg *out, unsigned int nout,
	       const struct vuf_sg *in, unsigned int nin, uint64_t indirect_gpa, uintptr_t token)
{
	return vq_add(f, q, out, nout, in, nin, indirect_gpa, token, KIND_USER);
}

int vuf_vq_kick(struct vuf *f, unsigned int q)
{
	struct vuf_vq *vq = get_vq(f, q);
	uint64_t one = 1;

	if (!vq)
		return -EINVAL;
	vq->kicked_idx = vq->avail_idx;
	if (write(vq->kick_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return errno == EAGAIN ? 0 : -errno; /* a saturated counter is still a kick */
	return 0;
}

int vuf_vq_notify(struct vuf *f, unsigned int q)
{
	struct vuf_vq *vq = get_vq(f, q);
	bool need;

	if (!vq)
		return -EINVAL;
	/* The avail index is out before we read the device's suppression. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (f->event_idx) {
		uint16_t ev = le16toh(__atomic_load_n(avail_event(vq), __ATOMIC_RELAXED));

		need = vring_need_event(ev, vq->avail_idx, vq->kicked_idx);
	} else {
		need = !(le16toh(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED)) &
			 VRING_USED_F_NO_NOTIFY);
	}
	if (!need) {
		vq->kicked_idx = vq->avail_idx;
		return 0;
	}
	return vuf_vq_kick(f, q);
}

static void free_chain(struct vuf *f, struct vuf_vq *vq, uint16_t head)
{
	struct vuf_head *h = &vq->heads[head];
	uint16_t id = head;

	/* Stacked so that the head comes out first again: a chain re-posted
	 * at once reuses the same descriptors, like a simple driver's. */
	for (unsigned int i = 0; i < h->ndesc; i++) {
		vq->free_ids[vq->nfree + h->ndesc - 1 - i] = id;
		id = vq->chain[id];
	}
	vq->nfree += h->ndesc;
	h->busy = false;
	vq->inflight--;
	if (h->kind == KIND_TX && h->token < f->ntx)
		f->tx[h->token].busy = false;
	else if (h->kind == KIND_RX && h->token < f->nrx)
		f->rx[h->token].posted = false;
}

int vuf_vq_harvest(struct vuf *f, unsigned int q, struct vuf_used_elem *out, unsigned int max)
{
	struct vuf_vq *vq = get_vq(f, q);
	uint16_t idx;
	unsigned int n = 0;

	if (!vq || (max && !out))
		return -EINVAL;
	idx = used_idx_acquire(vq);
	/* More entries than the ring holds: the device broke the ring. */
	if ((uint16_t)(idx - vq->last_used) > vq->num)
		return -EPROTO;
	while (vq->last_used != idx && n < max) {
		const struct vring_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
		uint32_t id = le32toh(e->id);
		struct vuf_used_elem *o = &out[n++];

		o->id = id;
		o->len = le32toh(e->len);
		o->known = id < vq->num && vq->heads[id].busy;
		o->token = o->known ? vq->heads[id].token : 0;
		if (o->known)
			free_chain(f, vq, (uint16_t)id);
		vq->last_used++;
	}
	if (f->event_idx)
		__atomic_store_n(used_event(vq), htole16(vq->last_used), __ATOMIC_RELAXED);
	return (int)n;
}

static bool vq_pending(const struct vuf_vq *vq)
{
	return used_idx_acquire(vq) != vq->last_used;
}

static int sock_check(struct vuf *f);

int vuf_vq_wait(struct vuf *f, unsigned int q, int timeout_ms)
{
	struct vuf_vq *vq = get_vq(f, q);
	int64_t deadline;

	if (!vq)
		return -EINVAL;
	deadline = deadline_of(f, timeout_ms);
	for (;;) {
		struct pollfd p[2] = { { vq->call_fd, POLLIN, 0 }, { f->sock, POLLIN, 0 } };
		int left, r;

		if (vq_pending(vq))
			return 0;
		if (f->event_idx) {
			/* Ask for a call at the next entry, then look again: it
			 * may have come before the device saw our request. */
			__atomic_store_n(used_event(vq), htole16(vq->last_used), __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (vq_pending(vq))
				return 0;
		}
		left = remaining(deadline);
		if (left == 0)
			return -ETIMEDOUT;
		r = poll(p, f->sock >= 0 ? 2 : 1, left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (p[0].revents & POLLIN)) {
			uint64_t v;

			if (read(vq->call_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
		}
		if (r > 0 && f->sock >= 0 && p[1].revents) {
			r = sock_check(f);
			if (r < 0)
				return r;
		}
	}
}

unsigned int vuf_vq_inflight(const struct vuf *f, unsigned int q)
{
	const struct vuf_vq *vq = get_vq(f, q);

	return vq ? vq->inflight : 0;
}

unsigned int vuf_vq_free_descs(const struct vuf *f, unsigned int q)
{
	const struct vuf_vq *vq = get_vq(f, q);

	return vq ? vq->nfree : 0;
}

int vuf_vq_view(const struct vuf *f, unsigned int q, struct vuf_vq_view *v)
{
	const struct vuf_vq *vq = get_vq(f, q);

	if (!vq || !v)
		return -EINVAL;
	*v = (struct vuf_vq_view){
		.num = vq->num,
		.desc = vq->desc,
		.avail = vq->avail,
		.used = vq->used,
		.desc_gpa = vq->desc_gpa,
		.avail_gpa = vq->avail_gpa,
		.used_gpa = vq->used_gpa,
		.kick_fd = vq->kick_fd,
		.call_fd = vq->call_fd,
		.avail_idx = vq->avail_idx,
		.last_used = vq->last_used,
	};
	return 0;
}

int vuf_vq_reserve(struct vuf *f, unsigned int q, unsigned int n, uint16_t *ids)
{
	struct vuf_vq *vq = get_vq(f, q);

	if (!vq || (n && !ids))
		return -EINVAL;
	if (vq->nfree < n)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++)
		ids[i] = vq->free_ids[--vq->nfree];
	return 0;
}

int vuf_vq_publish_raw(struct vuf *f, unsigned int q, uint16_t head)
{
	struct vuf_vq *vq = get_vq(f, q);

	if (!vq)
		return -EINVAL;
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = htole16(head);
	vq->avail_idx++;
	avail_idx_release(vq);
	return 0;
}

int vuf_vq_set_avail_idx(struct vuf *f, unsigned int q, uint16_t idx)
{
	struct vuf_vq *vq = get_vq(f, q);

	if (!vq)
		return -EINVAL;
	vq->avail_idx = idx;
	avail_idx_release(vq);
	return 0;
}

int vuf_vq_set_start(struct vuf *f, unsigned int q, uint16_t idx)
{
	struct vuf_vq *vq = get_vq(f, q);

	if (!vq)
		return -EINVAL;
	if (f->started || vq->inflight)
		return -EBUSY;
	vq->avail_idx = vq->last_used = vq->kicked_idx = vq->base = idx;
	vq->base_valid = false;
	vq->avail->idx = htole16(idx);
	vq->used->idx = htole16(idx);
	return 0;
}

/* ---- rx buffers and tx slots ---- */

static int bufs_setup(struct vuf *f)
{
	f->nrx = f->o.rx_bufs;
	f->ntx = f->o.tx_slots;
	f->rx = calloc(f->nrx, sizeof(*f->rx));
	f->tx = calloc(f->ntx, sizeof(*f->tx));
	if (!f->rx || !f->tx)
		return -ENOMEM;
	for (unsigned int i = 0; i < f->nrx; i++) {
		struct rx_buf *b = &f->rx[i];
		uint32_t segs = f->o.rx_segs, size = f->o.rx_buf_size;

		b->size = size;
		b->nseg = segs;
		for (uint32_t s = 0; s < segs; s++) {
			uint32_t len = size / segs + (s == segs - 1 ? size % segs : 0);
			uint8_t *p = alloc_spread(f, i, len + GUARD, 8, &b->seg[s].gpa);

			if (!p)
				return -ENOMEM;
			memset(p + len, GUARD_BYTE, GUARD);
			b->seg[s].len = len;
		}
	}
	for (unsigned int i = 0; i < f->ntx; i++) {
		f->tx[i].ptr = alloc_spread(f, i, TX_SLOT_SIZE, 64, &f->tx[i].gpa);
		if (!f->tx[i].ptr)
			return -ENOMEM;
	}
	return 0;
}

static int rx_post(struct vuf *f, unsigned int i)
{
	struct rx_buf *b = &f->rx[i];
	int r = vq_add(f, VUF_RX, NULL, 0, b->seg, b->nseg, 0, i, KIND_RX);

	if (r >= 0)
		b->posted = true;
	return r;
}

int vuf_rx_fill(struct vuf *f)
{
	int r = 0;

	if (!f)
		return -EINVAL;
	for (unsigned int i = 0; i < f->nrx && r >= 0; i++) {
		if (!f->rx[i].posted)
			r = rx_post(f, i);
	}
	if (r == -ENOSPC)
		r = 0; /* the ring is as full as it gets */
	if (r < 0)
		return r;
	return vuf_vq_notify(f, VUF_RX);
}

/* ---- vhost-user messaging ---- */

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void drop_conn(struct vuf *f)
{
	if (f->sock >= 0) {
		dbg(f, "connection closed");
		close(f->sock);
		f->sock = -1;
	}
	f->started = false;
}

/* Waits for the socket to be ready for ev; 0, -ETIMEDOUT, -errno. */
static int sock_wait(struct vuf *f, short ev, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { f->sock, ev, 0 };
		int r = poll(&p, 1, remaining(deadline));

		if (r > 0)
			return 0; /* errors and hang-ups show in the next call */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int send_iov(struct vuf *f, struct iovec *iov, unsigned int niov, const int *fds,
		    unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VUF_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	int64_t deadline = deadline_of(f, -1);
	bool fds_sent = false;

	if (f->sock < 0)
		return -ENOTCONN;
	if (nfds > VUF_MAX_REGIONS)
		return -EINVAL;
	while (niov > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = niov };
		ssize_t n;

		if (nfds && !fds_sent) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			m.msg_control = ctl.buf;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&m);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(f->sock, &m, MSG_NOSIGNAL);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN) {
				int r = sock_wait(f, POLLOUT, deadline);

				if (r < 0)
					return r;
				continue;
			}
			if (e == EPIPE || e == ECONNRESET) {
				drop_conn(f);
				return -ECONNRESET;
			}
			return -e;
		}
		fds_sent = true; /* they ride with the first byte */
		while (niov > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			niov--;
		}
		if (niov > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int vuf_send_bytes(struct vuf *f, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	struct iovec iov = { (void *)buf, len };

	if (!f || (len && !buf))
		return -EINVAL;
	return send_iov(f, &iov, len ? 1 : 0, fds, nfds);
}

int vuf_send_raw_hdr(struct vuf *f, const struct vuf_msg_hdr *hdr, const void *payload, size_t len,
		     const int *fds, unsigned int nfds)
{
	struct vuf_msg_hdr h;
	struct iovec iov[2];

	if (!f || !hdr || (len && !payload))
		return -EINVAL;
	h = *hdr;
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)payload, len };
	dbg(f, "-> request %u flags %#x size %u (+%zu bytes, %u fds)", h.request, h.flags, h.size,
	    len, nfds);
	return send_iov(f, iov, len ? 2 : 1, fds, nfds);
}

static int send_msg(struct vuf *f, uint32_t request, uint32_t flags, const void *payload,
		    uint32_t size, const int *fds, unsigned int nfds)
{
	struct vuf_msg_hdr h = { request, VUF_MSG_VERSION | flags, size };

	return vuf_send_raw_hdr(f, &h, payload, size, fds, nfds);
}

int vuf_send_raw(struct vuf *f, uint32_t request, const void *payload, uint32_t size,
		 const int *fds, unsigned int nfds)
{
	return send_msg(f, request, 0, payload, size, fds, nfds);
}

/* Reads exactly len bytes (fds, if any come, are closed). */
static int recv_full(struct vuf *f, void *buf, size_t len, int64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 16)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(f->sock, &m, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN) {
				int r = sock_wait(f, POLLIN, deadline);

				if (r < 0)
					return r;
				continue;
			}
			if (e == ECONNRESET) {
				drop_conn(f);
				return -ECONNRESET;
			}
			return -e;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				unsigned int k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
				int fds[16];

				memcpy(fds, CMSG_DATA(c), sizeof(int) * (k > 16 ? 16 : k));
				close_fds(fds, k > 16 ? 16 : k);
			}
		}
		if (n == 0) {
			drop_conn(f);
			return -ECONNRESET;
		}
		got += (size_t)n;
	}
	return 0;
}

static int recv_msg_deadline(struct vuf *f, struct vuf_msg_hdr *hdr, void *payload, size_t cap,
			     int64_t deadline)
{
	uint32_t left;
	int r;

	if (f->sock < 0)
		return -ENOTCONN;
	r = recv_full(f, hdr, sizeof(*hdr), deadline);
	if (r < 0)
		return r;
	if (hdr->size > INT_MAX)
		return -EPROTO;
	left = hdr->size;
	if (cap > left)
		cap = left;
	if (cap) {
		r = recv_full(f, payload, cap, deadline);
		if (r < 0)
			return r;
		left -= (uint32_t)cap;
	}
	while (left) {
		char sink[256];
		size_t n = left < sizeof(sink) ? left : sizeof(sink);

		r = recv_full(f, sink, n, deadline);
		if (r < 0)
			return r;
		left -= (uint32_t)n;
	}
	dbg(f, "<- request %u flags %#x size %u", hdr->request, hdr->flags, hdr->size);
	return (int)hdr->size;
}

int vuf_recv_raw(struct vuf *f, struct vuf_msg_hdr *hdr, void *payload, size_t cap, int timeout_ms)
{
	if (!f || !hdr || (cap && !payload))
		return -EINVAL;
	return recv_msg_deadline(f, hdr, payload, cap, deadline_of(f, timeout_ms));
}

/* A reply must name our request, carry the reply flag and version 1. */
static int recv_reply(struct vuf *f, uint32_t request, void *payload, size_t cap)
{
	struct vuf_msg_hdr h;
	int r = recv_msg_deadline(f, &h, payload, cap, deadline_of(f, -1));

	if (r < 0)
		return r;
	if (h.request != request || !(h.flags & VUF_MSG_F_REPLY) ||
	    (h.flags & 0x3u) != VUF_MSG_VERSION) {
		dbg(f, "bad reply to %u: request %u flags %#x", request, h.request, h.flags);
		return -EPROTO;
	}
	return r;
}

int vuf_call(struct vuf *f, uint32_t request, const void *payload, uint32_t size, void *reply,
	     size_t cap)
{
	int r;

	if (!f || (cap && !reply))
		return -EINVAL;
	r = send_msg(f, request, 0, payload, size, NULL, 0);
	if (r < 0)
		return r;
	return recv_reply(f, request, reply, cap);
}

static int call_u64(struct vuf *f, uint32_t request, uint64_t *out)
{
	int r = vuf_call(f, request, NULL, 0, out, sizeof(*out));

	if (r < 0)
		return r;
	return r == (int)sizeof(*out) ? 0 : -EPROTO;
}

/*
 * A request without a reply of its own. With REPLY_ACK negotiated, it asks
 * for an ack where QEMU does (qemu_acks) or on every request (VUF_O_ACK_ALL)
 * and waits for it: a non-zero ack is the back-end's refusal.
 */
static int set_req(struct vuf *f, uint32_t request, const void *payload, uint32_t size,
		   const int *fds, unsigned int nfds, bool qemu_acks)
{
	bool ack = (f->pf & VUF_BIT(VUF_PF_REPLY_ACK)) && (qemu_acks || (f->o.flags & VUF_O_ACK_ALL));
	uint64_t v = 0;
	int r = send_msg(f, request, ack ? VUF_MSG_F_NEED_REPLY : 0, payload, size, fds, nfds);

	if (r < 0 || !ack)
		return r;
	r = recv_reply(f, request, &v, sizeof(v));
	if (r < 0)
		return r;
	if (r != (int)sizeof(v))
		return -EPROTO;
	return v == 0 ? 0 : -EREMOTEIO;
}

static int set_u64(struct vuf *f, uint32_t request, uint64_t v, bool qemu_acks)
{
	return set_req(f, request, &v, sizeof(v), NULL, 0, qemu_acks);
}

static int set_state(struct vuf *f, uint32_t request, uint32_t index, uint32_t num)
{
	struct vuf_vring_state s = { index, num };

	return set_req(f, request, &s, sizeof(s), NULL, 0, false);
}

static int set_file(struct vuf *f, uint32_t request, unsigned int q, int fd)
{
	uint64_t v = q | (fd < 0 ? VUF_VRING_NOFD : 0);

	return set_req(f, request, &v, sizeof(v), &fd, fd < 0 ? 0 : 1, false);
}

/* Data from the back-end outside a request: an EOF, or a message nobody asked for. */
static int sock_check(struct vuf *f)
{
	char c;
	ssize_t n = recv(f->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		drop_conn(f);
		return -ECONNRESET;
	}
	if (n > 0) {
		struct vuf_msg_hdr h;
		int r = recv_msg_deadline(f, &h, NULL, 0, deadline_of(f, -1));

		dbg(f, "unsolicited message %u dropped", h.request);
		return r < 0 ? r : -EPROTO;
	}
	return 0;
}

int vuf_wait_disconnect(struct vuf *f, int timeout_ms)
{
	int64_t deadline;

	if (!f)
		return -EINVAL;
	deadline = deadline_of(f, timeout_ms);
	while (f->sock >= 0) {
		int r = sock_wait(f, POLLIN, deadline);

		if (r < 0)
			return r;
		r = sock_check(f);
		if (r < 0 && r != -ECONNRESET && r != -EPROTO)
			return r;
	}
	return 0;
}

/* ---- connection ---- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int connect_path(struct vuf *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int64_t deadline = deadline_of(f, -1);

	memcpy(a.sun_path, f->path, sizeof(a.sun_path));
	for (;;) {
		/* Non-blocking: a back-end that stopped accepting (hung) fills
		 * its backlog, and a blocking connect would wait for ever; this
		 * one says EAGAIN, retried until the time-out. */
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int e;

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			int r = set_nonblock(fd);

			if (r < 0) {
				close(fd);
				return r;
			}
			f->sock = fd;
			dbg(f, "connected to %s", f->path);
			return 0;
		}
		e = errno;
		close(fd);
		/* The back-end may be (re)starting: retry until the time-out. */
		if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN && e != EINTR)
			return -e;
		if (remaining(deadline) == 0)
			return -ETIMEDOUT;
		usleep(10 * 1000);
	}
}

int vuf_connect(struct vuf *f, const char *path)
{
	if (!f || !path)
		return -EINVAL;
	if (strlen(path) >= sizeof(f->path))
		return -ENAMETOOLONG;
	if (f->sock >= 0)
		return -EISCONN;
	memset(f->path, 0, sizeof(f->path));
	strcpy(f->path, path);
	f->have_path = true;
	return connect_path(f);
}

int vuf_connect_fd(struct vuf *f, int fd)
{
	int r;

	if (!f || fd < 0)
		return -EINVAL;
	if (f->sock >= 0)
		return -EISCONN;
	r = set_nonblock(fd);
	if (r < 0)
		return r;
	f->sock = fd;
	f->have_path = false;
	return 0;
}

void vuf_disconnect(struct vuf *f)
{
	if (f)
		drop_conn(f);
}

bool vuf_connected(const struct vuf *f)
{
	return f && f->sock >= 0;
}

int vuf_socket(const struct vuf *f)
{
	return f ? f->sock : -1;
}

/* ---- the handshake ---- */

/* vhost_user_backend_init + vhost_dev_init + the device's GET_CONFIG. */
static int dev_init(struct vuf *f)
{
	uint64_t again;
	int r;

	r = call_u64(f, VUF_REQ_GET_FEATURES, &f->offered);
	if (r < 0)
		return r;
	if (!(f->offered & VUF_BIT(VUF_F_VERSION_1)))
		return -EPROTO; /* virtio-om is a virtio 1 device */
	f->pf = 0;
	f->offered_pf = 0;
	if (f->offered & VUF_BIT(VUF_F_PROTOCOL_FEATURES)) {
		r = call_u64(f, VUF_REQ_GET_PROTOCOL_FEATURES, &f->offered_pf);
		if (r < 0)
			return r;
		f->pf = f->offered_pf & f->o.protocol_features;
	}
	/* Like QEMU for a device with config space: CONFIG or nothing. */
	if ((f->o.protocol_features & VUF_BIT(VUF_PF_CONFIG)) && !(f->o.flags & VUF_O_NO_CONFIG_REQ) &&
	    !(f->pf & VUF_BIT(VUF_PF_CONFIG)))
		return -EPROTO;
	if (f->offered & VUF_BIT(VUF_F_PROTOCOL_FEATURES)) {
		r = set_u64(f, VUF_REQ_SET_PROTOCOL_FEATURES, f->pf, false);
		if (r < 0)
			return r;
	}
	if (f->pf & VUF_BIT(VUF_PF_MQ)) {
		uint64_t n;

		r = call_u64(f, VUF_REQ_GET_QUEUE_NUM, &n);
		if (r < 0)
			return r;
		if (n < VUF_NQUEUES)
			return -EPROTO;
	}
	if (f->pf & VUF_BIT(VUF_PF_CONFIGURE_MEM_SLOTS)) {
		uint64_t n;

		r = call_u64(f, VUF_REQ_GET_MAX_MEM_SLOTS, &n);
		if (r < 0)
			return r;
		if (n < f->nregions)
			return -EPROTO;
	}
	r = set_req(f, VUF_REQ_SET_OWNER, NULL, 0, NULL, 0, false);
	if (r < 0)
		return r;
	r = call_u64(f, VUF_REQ_GET_FEATURES, &again);
	if (r < 0)
		return r;
	if (again != f->offered)
		return -EPROTO;
	/* vhost_virtqueue_init: the call notifier before the rings exist. */
	for (unsigned int q = 0; q < VUF_NQUEUES; q++) {
		r = set_file(f, VUF_REQ_SET_VRING_CALL, q, f->vq[q].call_fd);
		if (r < 0)
			return r;
	}
	f->node_id = 0;
	f->max_payload = VIRTIO_OM_MAX_PAYLOAD;
	if (f->pf & VUF_BIT(VUF_PF_CONFIG)) {
		struct vuf_config_msg c = { .offset = 0, .size = sizeof(struct virtio_om_config) };
		struct virtio_om_config cfg;
		uint32_t size = VUF_CONFIG_HDR_SIZE + (uint32_t)sizeof(cfg);

		r = send_msg(f, VUF_REQ_GET_CONFIG, 0, &c, size, NULL, 0);
		if (r < 0)
			return r;
		r = recv_reply(f, VUF_REQ_GET_CONFIG, &c, sizeof(c));
		if (r < 0)
			return r;
		if (r == 0)
			return -EREMOTEIO; /* the back-end's way to say it failed */
		if ((uint32_t)r != size)
			return -EPROTO;
		memcpy(&cfg, c.payload, sizeof(cfg));
		f->node_id = le32toh(cfg.node_id);
		f->max_payload = le32toh(cfg.max_payload);
		dbg(f, "config: node %u max_payload %u", f->node_id, f->max_payload);
	}
	return 0;
}

static int send_mem(struct vuf *f)
{
	struct vuf_mem_region reg[VUF_MAX_REGIONS];
	int fds[VUF_MAX_REGIONS];

	for (unsigned int i = 0; i < f->nregions; i++) {
		reg[i] = (struct vuf_mem_region){ f->r[i].gpa, f->r[i].size,
						  uva_of(f->r[i].ptr), f->r[i].mmap_offset };
		fds[i] = region_fd(f, i);
	}
	if (f->pf & VUF_BIT(VUF_PF_CONFIGURE_MEM_SLOTS)) {
		for (unsigned int i = 0; i < f->nregions; i++) {
			struct {
				uint64_t padding;
				struct vuf_mem_region r;
			} m = { 0, reg[i] };
			int r = set_req(f, VUF_REQ_ADD_MEM_REG, &m, sizeof(m), &fds[i], 1, true);

			if (r < 0)
				return r;
		}
		return 0;
	} else {
		struct vuf_mem_table t = { .nregions = f->nregions };
		uint32_t size = 8 + f->nregions * (uint32_t)sizeof(struct vuf_mem_region);

		memcpy(t.regions, reg, sizeof(reg[0]) * f->nregions);
		return set_req(f, VUF_REQ_SET_MEM_TABLE, &t, size, fds, f->nregions, true);
	}
}

int vuf_dev_start(struct vuf *f)
{
	int r;

	if (!f)
		return -EINVAL;
	if (f->sock < 0)
		return -ENOTCONN;
	f->features = VUF_BIT(VUF_F_VERSION_1) | (f->offered & VUF_BIT(VUF_F_PROTOCOL_FEATURES)) |
		      (f->offered & f->o.features);
	f->event_idx = f->features & VUF_BIT(VUF_F_EVENT_IDX);
	r = set_u64(f, VUF_REQ_SET_FEATURES, f->features, false);
	if (r < 0)
		return r;
	r = send_mem(f);
	if (r < 0)
		return r;
	for (unsigned int q = 0; q < VUF_NQUEUES; q++) {
		struct vuf_vq *vq = &f->vq[q];
		struct vuf_vring_addr a = { q, 0, uva_of(vq->desc), uva_of(vq->used),
					    uva_of(vq->avail), 0 };

		r = set_state(f, VUF_REQ_SET_VRING_NUM, q, vq->num);
		if (r < 0)
			return r;
		/* After a clean stop, where the back-end left off; after a
		 * lost back-end, the used index (QEMU's
		 * virtio_queue_restore_last_avail_idx). */
		if (!vq->base_valid)
			vq->base = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
		vq->base_valid = false;
		r = set_state(f, VUF_REQ_SET_VRING_BASE, q, vq->base);
		if (r < 0)
			return r;
		r = set_req(f, VUF_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, false);
		if (r < 0)
			return r;
		r = set_file(f, VUF_REQ_SET_VRING_KICK, q, vq->kick_fd);
		if (r < 0)
			return r;
		if (f->o.flags & VUF_O_VHOST_GENERIC) {
			r = set_file(f, VUF_REQ_SET_VRING_CALL, q, vq->call_fd);
			if (r < 0)
				return r;
		}
	}
	/* vu_gpio_start: the notifiers unmasked once every ring is started. */
	for (unsigned int q = 0; q < VUF_NQUEUES && !(f->o.flags & VUF_O_VHOST_GENERIC); q++) {
		r = set_file(f, VUF_REQ_SET_VRING_CALL, q, f->vq[q].call_fd);
		if (r < 0)
			return r;
	}
	/* Without protocol features the rings start enabled. */
	if (f->features & VUF_BIT(VUF_F_PROTOCOL_FEATURES)) {
		for (unsigned int q = 0; q < VUF_NQUEUES; q++) {
			r = set_state(f, VUF_REQ_SET_VRING_ENABLE, q, 1);
			if (r < 0)
				return r;
		}
	}
	f->started = true;
	return 0;
}

int vuf_dev_stop(struct vuf *f)
{
	int r;

	if (!f)
		return -EINVAL;
	if (f->sock < 0)
		return -ENOTCONN;
	/* vu_gpio_stop calls vhost_dev_stop(vrings = false): no disabling. */
	if ((f->o.flags & VUF_O_VHOST_GENERIC) && (f->features & VUF_BIT(VUF_F_PROTOCOL_FEATURES))) {
		for (unsigned int q = 0; q < VUF_NQUEUES; q++) {
			r = set_state(f, VUF_REQ_SET_VRING_ENABLE, q, 0);
			if (r < 0)
				return r;
		}
	}
	for (unsigned int q = 0; q < VUF_NQUEUES; q++) {
		struct vuf_vring_state s = { q, 0 };

		r = vuf_call(f, VUF_REQ_GET_VRING_BASE, &s, sizeof(s), &s, sizeof(s));
		if (r < 0)
			return r;
		if (r != (int)sizeof(s) || s.index != q || s.num > 0xffff)
			return -EPROTO;
		f->vq[q].base = (uint16_t)s.num;
		f->vq[q].base_valid = true;
	}
	f->started = false;
	return 0;
}

int vuf_handshake(struct vuf *f)
{
	int r;

	if (!f)
		return -EINVAL;
	if (f->sock < 0)
		return -ENOTCONN;
	r = dev_init(f);
	if (r < 0)
		return r;
	r = vuf_dev_start(f);
	if (r < 0)
		return r;
	if (!(f->o.flags & VUF_O_MANUAL_RX)) {
		r = vuf_rx_fill(f);
		if (r < 0)
			return r;
	}
	/* Chains may wait from before (a reconnect): look at both queues. */
	r = vuf_vq_kick(f, VUF_RX);
	if (r == 0)
		r = vuf_vq_kick(f, VUF_TX);
	return r;
}

int vuf_reconnect(struct vuf *f)
{
	int r;

	if (!f)
		return -EINVAL;
	if (!f->have_path)
		return -EDESTADDRREQ;
	drop_conn(f);
	r = connect_path(f);
	if (r < 0)
		return r;
	return vuf_handshake(f);
}

uint64_t vuf_features(const struct vuf *f)
{
	return f->features;
}

uint64_t vuf_protocol_features(const struct vuf *f)
{
	return f->pf;
}

uint64_t vuf_offered_features(const struct vuf *f)
{
	return f->offered;
}

uint64_t vuf_offered_protocol_features(const struct vuf *f)
{
	return f->offered_pf;
}

uint32_t vuf_node_id(const struct vuf *f)
{
	return f->node_id;
}

uint32_t vuf_max_payload(const struct vuf *f)
{
	return f->max_payload;
}

uint16_t vuf_vring_base(const struct vuf *f, unsigned int q)
{
	const struct vuf_vq *vq = get_vq(f, q);

	return vq ? vq->base : 0;
}

/* ---- messages ---- */

static void tx_reap(struct vuf *f)
{
	struct vuf_used_elem e[16];

	/* free_chain releases the slots; unknown entries are only skipped. */
	while (vuf_vq_harvest(f, VUF_TX, e, 16) == 16)
		;
}

static int tx_slot_get(struct vuf *f, unsigned int ndesc, int64_t deadline)
{
	if (ndesc > f->vq[VUF_TX].num)
		return -ENOSPC; /* would never fit */
	for (;;) {
		tx_reap(f);
		if (f->vq[VUF_TX].nfree >= ndesc) {
			for (unsigned int i = 0; i < f->ntx; i++)
				if (!f->tx[i].busy)
					return (int)i;
		}
		int r = vuf_vq_wait(f, VUF_TX, remaining(deadline));

		if (r < 0)
			return r == -ETIMEDOUT ? -EAGAIN : r;
	}
}

int vuf_send_hdr(struct vuf *f, const void *hdr, const void *payload, uint32_t len,
		 const struct vuf_msg_opts *o)
{
	static const struct vuf_msg_opts none;
	struct vuf_sg sg[VUF_MAX_SEGS + 1];
	unsigned int nsg = 0, segs;
	uint64_t table = 0;
	struct tx_slot *s;
	uint32_t off;
	int slot, r;

	if (!f || !hdr || (len && !payload))
		return -EINVAL;
	if (!o)
		o = &none;
	if (len > VIRTIO_OM_MAX_PAYLOAD)
		return -EMSGSIZE;
	segs = o->segs ? o->segs : 1;
	if (segs > VUF_MAX_SEGS)
		return -EINVAL;
	if (segs > len)
		segs = len; /* no empty segments; none at all for len 0 */
	if (o->chain & VUF_CHAIN_MERGED)
		segs = 0;
	slot = tx_slot_get(f, (o->chain & VUF_CHAIN_INDIRECT) ? 1 : segs + 1, deadline_of(f, -1));
	if (slot < 0)
		return slot;
	s = &f->tx[slot];
	memcpy(s->ptr, hdr, VIRTIO_OM_HDR_SIZE);
	if (o->chain & VUF_CHAIN_MERGED) {
		if (len)
			memcpy(s->ptr + VIRTIO_OM_HDR_SIZE, payload, len);
		sg[nsg++] = (struct vuf_sg){ s->gpa, VIRTIO_OM_HDR_SIZE + len };
		off = VIRTIO_OM_HDR_SIZE + len;
	} else {
		sg[nsg++] = (struct vuf_sg){ s->gpa, VIRTIO_OM_HDR_SIZE };
		memset(s->ptr + VIRTIO_OM_HDR_SIZE, GUARD_BYTE, TX_HDR_AREA - VIRTIO_OM_HDR_SIZE);
		off = TX_HDR_AREA;
		for (unsigned int i = 0; i < segs; i++) {
			uint32_t n = len / segs + (i == segs - 1 ? len % segs : 0);
			uint32_t at = len / segs * i;

			memcpy(s->ptr + off, (const uint8_t *)payload + at, n);
			memset(s->ptr + off + n, GUARD_BYTE, GUARD);
			sg[nsg++] = (struct vuf_sg){ s->gpa + off, n };
			off += n + GUARD;
		}
	}
	if (o->chain & VUF_CHAIN_INDIRECT)
		table = s->gpa + ((off + 15) & ~15u);
	r = vq_add(f, VUF_TX, sg, nsg, NULL, 0, table, (uintptr_t)slot, KIND_TX);
	if (r < 0)
		return r;
	s->busy = true;
	return vuf_vq_notify(f, VUF_TX);
}

int vuf_send_msg(struct vuf *f, uint32_t dst_node, uint16_t type, const void *payload, uint32_t len,
		 const struct vuf_msg_opts *o)
{
	static const struct vuf_msg_opts none;
	struct virtio_om_hdr h;
	uint64_t seq;

	if (!f)
		return -EINVAL;
	if (!o)
		o = &none;
	seq = o->seq;
	if (!seq && dst_node <= VIRTIO_OM_MAX_NODES)
		seq = f->seq[dst_node] + 1;
	h = (struct virtio_om_hdr){
		.version = htole16(VIRTIO_OM_PROTOCOL_VERSION),
		.type = htole16(type),
		.flags = htole32(o->flags),
		.src_node = htole32(f->node_id),
		.dst_node = htole32(dst_node),
		.src_pid = htole32(o->src_pid),
		.dst_pid = htole32(o->dst_pid),
		.seq = htole64(seq),
		.reply_to = htole64(o->reply_to),
		.len = htole32(len),
		.reserved = 0,
	};
	int r = vuf_send_hdr(f, &h, payload, len, o);

	if (r == 0 && dst_node <= VIRTIO_OM_MAX_NODES)
		f->seq[dst_node] = seq;
	return r;
}

int vuf_tx_flush(struct vuf *f, int timeout_ms)
{
	int64_t deadline;

	if (!f)
		return -EINVAL;
	deadline = deadline_of(f, timeout_ms);
	for (;;) {
		tx_reap(f);
		if (f->vq[VUF_TX].inflight == 0)
			return 0;
		int r = vuf_vq_wait(f, VUF_TX, remaining(deadline));

		if (r < 0)
			return r;
	}
}

int vuf_recv_msg(struct vuf *f, void *buf, size_t cap, int timeout_ms)
{
	int64_t deadline;

	if (!f || (cap && !buf))
		return -EINVAL;
	deadline = deadline_of(f, timeout_ms);
	for (;;) {
		struct vuf_used_elem e;
		int r = vuf_vq_harvest(f, VUF_RX, &e, 1);

		if (r < 0)
			return r;
		if (r == 1) {
			struct rx_buf *b;
			size_t copied = 0;

			if (!e.known || f->vq[VUF_RX].heads[e.id].kind != KIND_RX)
				return -EPROTO;
			b = &f->rx[e.token];
			for (unsigned int i = 0; i < b->nseg && copied < cap && copied < e.len; i++) {
				size_t n = b->seg[i].len;

				if (n > cap - copied)
					n = cap - copied;
				if (n > e.len - copied)
					n = e.len - copied;
				memcpy((uint8_t *)buf + copied, vuf_gpa_to_ptr(f, b->seg[i].gpa, n), n);
				copied += n;
			}
			r = rx_post(f, (unsigned int)e.token);
			if (r >= 0)
				r = vuf_vq_notify(f, VUF_RX);
			if (r < 0)
				return r;
			if (e.len > b->size || e.len > INT_MAX)
				return -EPROTO;
			return (int)e.len;
		}
		r = vuf_vq_wait(f, VUF_RX, remaining(deadline));
		if (r < 0)
			return r;
	}
}

/* ---- life cycle ---- */

static bool pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

int vuf_new(struct vuf **out, const struct vuf_opts *opts)
{
	static const struct vuf_opts none;
	struct vuf *f;
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->sock = -1;
	for (unsigned int i = 0; i < VUF_MAX_REGIONS; i++)
		f->r[i].fd = -1;
	for (unsigned int q = 0; q < VUF_NQUEUES; q++)
		f->vq[q].kick_fd = f->vq[q].call_fd = -1;
	f->o = opts ? *opts : none;
	if (!f->o.nregions)
		f->o.nregions = 1;
	if (!f->o.region_size)
		f->o.region_size = DEFAULT_REGION_SIZE;
	f->o.region_size = (f->o.region_size + PAGE - 1) & ~(PAGE - 1);
	if (!f->o.gpa_base)
		f->o.gpa_base = DEFAULT_GPA_BASE;
	if (!f->o.queue_size)
		f->o.queue_size = DEFAULT_QUEUE_SIZE;
	if (!f->o.features)
		f->o.features = VUF_BIT(VUF_F_INDIRECT_DESC);
	if (!f->o.protocol_features)
		f->o.protocol_features =
			VUF_BIT(VUF_PF_MQ) | VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG);
	if (f->o.timeout_ms <= 0)
		f->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!f->o.rx_bufs)
		f->o.rx_bufs = f->o.queue_size < 64 ? f->o.queue_size : 64;
	if (!f->o.rx_buf_size)
		f->o.rx_buf_size = VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD;
	if (!f->o.rx_segs)
		f->o.rx_segs = 1;
	if (!f->o.tx_slots)
		f->o.tx_slots = f->o.queue_size < 32 ? f->o.queue_size : 32;
	r = -EINVAL;
	if (f->o.nregions > VUF_MAX_REGIONS || !pow2(f->o.queue_size) || f->o.queue_size < 2 ||
	    f->o.queue_size > 32768 || f->o.rx_segs > VUF_MAX_SEGS ||
	    f->o.rx_segs > f->o.rx_buf_size)
		goto fail;
	f->nregions = f->o.nregions;
	r = mem_setup(f);
	for (unsigned int q = 0; r == 0 && q < VUF_NQUEUES; q++)
		r = vq_setup(f, q);
	if (r == 0)
		r = bufs_setup(f);
	if (r < 0)
		goto fail;
	*out = f;
	return 0;
fail:
	vuf_free(f);
	return r;
}

void vuf_free(struct vuf *f)
{
	if (!f)
		return;
	drop_conn(f);
	for (unsigned int q = 0; q < VUF_NQUEUES; q++) {
		struct vuf_vq *vq = &f->vq[q];

		if (vq->kick_fd >= 0)
			close(vq->kick_fd);
		if (vq->call_fd >= 0)
			close(vq->call_fd);
		free(vq->free_ids);
		free(vq->chain);
		free(vq->heads);
	}
	if (f->shared_map)
		munmap(f->shared_map, f->shared_len);
	for (unsigned int i = 0; i < VUF_MAX_REGIONS; i++) {
		if (!f->shared_map && f->r[i].ptr)
			munmap(f->r[i].ptr, f->r[i].size ? f->r[i].size : f->o.region_size);
		if (f->r[i].fd >= 0)
			close(f->r[i].fd);
	}
	free(f->rx);
	free(f->tx);
	free(f);
}
