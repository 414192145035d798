// SPDX-License-Identifier: GPL-2.0-only
#include "trace-ring.h"
#include "msg.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

uint64_t om_trace_ring_size(uint32_t buffer)
{
	uint64_t size = OM_TRACE_BUFFER_MIN;

	while (size < buffer)
		size <<= 1;
	return size;
}

int om_trace_ring_create(struct om_trace_ring *r, uint32_t buffer, int *memfd)
{
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	uint64_t size = om_trace_ring_size(buffer);
	size_t len = OM_TRACE_RING_CTL_SIZE + size;
	void *mem;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	fd = memfd_create("omhostd-trace", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		rc = -errno;
		goto fail;
	}
	/* Faulted in now, at attach, rather than one page at a time in the relay's path. */
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, seals)) {
		rc = -errno;
		munmap(mem, len);
		goto fail;
	}
	r->ctl = mem;
	r->data = (unsigned char *)mem + OM_TRACE_RING_CTL_SIZE;
	r->map_len = len;
	r->size = size;
	r->ctl->magic = OM_TRACE_RING_MAGIC;
	r->ctl->version = OM_TRACE_VERSION;
	r->ctl->data_off = OM_TRACE_RING_CTL_SIZE;
	r->ctl->ring_size = (uint32_t)size;
	*memfd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

void om_trace_ring_destroy(struct om_trace_ring *r)
{
	if (r->ctl)
		munmap(r->ctl, r->map_len);
	r->ctl = NULL;
	r->data = NULL;
}

size_t om_trace_msg_size(uint32_t caplen)
{
	size_t n = OM_TRACE_MSG_FIXED + (size_t)caplen;

	return (n + OM_TRACE_ALIGN - 1) & ~(size_t)(OM_TRACE_ALIGN - 1);
}

/*
 * Reads the listener's tail. It may only have moved forward, up to head,
 * in whole records: anything else and the ring is broken (the listener
 * goes), and nothing more is written into it.
 */
static void om_trace_ring_read_tail(struct om_trace_ring *r)
{
	uint64_t t = __atomic_load_n(&r->ctl->tail, __ATOMIC_ACQUIRE);

	if (t < r->tail || t > r->head || t % OM_TRACE_ALIGN) {
		r->broken = true;
		return;
	}
	r->tail = t;
}

/* Ring bytes len1 and then len2 (0: none) take, with a PAD where one would cross the end. */
static uint64_t om_trace_ring_span(const struct om_trace_ring *r, size_t len1, size_t len2)
{
	uint64_t pos = r->head, to_end = r->size - (pos & (r->size - 1));

	if (len1 > to_end)
		pos += to_end;
	pos += len1;
	to_end = r->size - (pos & (r->size - 1));
	if (len2 > to_end)
		pos += to_end;
	return pos + len2 - r->head;
}

/* Whether len1 and len2 fit; the tail is read again only when they do not as last seen. */
static bool om_trace_ring_fits(struct om_trace_ring *r, size_t len1, size_t len2)
{
	uint64_t need = om_trace_ring_span(r, len1, len2);

	if (r->broken)
		return false;
	if (need <= r->size - om_trace_ring_unread(r))
		return true;
	om_trace_ring_read_tail(r);
	return !r->broken && need <= r->size - om_trace_ring_unread(r);
}

/* Writes a record's 16-byte head into p. */
static void om_trace_head(unsigned char *p, uint16_t kind, uint32_t size, uint64_t time_ns)
{
	uint16_t k = htole16(kind), res = 0;
	uint32_t s = htole32(size);
	uint64_t t = htole64(time_ns);

	memcpy(p, &k, 2);
	memcpy(p + 2, &res, 2);
	memcpy(p + 4, &s, 4);
	memcpy(p + 8, &t, 8);
}

/* Where a record of len bytes goes (room checked): after a PAD to the end if it must. */
static unsigned char *om_trace_ring_claim(struct om_trace_ring *r, size_t len)
{
	uint64_t at = r->head & (r->size - 1), to_end = r->size - at;

	if (len > to_end) {
		uint16_t k = htole16(OM_TRACE_REC_PAD), res = 0;
		uint32_t s = htole32((uint32_t)to_end);
		unsigned char *p = r->data + at;

		memcpy(p, &k, 2);
		memcpy(p + 2, &res, 2);
		memcpy(p + 4, &s, 4);
		r->head += to_end;
		at = 0;
	}
	r->head += len;
	return r->data + at;
}

static void om_trace_ring_write_missed(struct om_trace_ring *r, uint64_t time_ns)
{
	unsigned char *p = om_trace_ring_claim(r, OM_TRACE_MISSED_SIZE);
	uint64_t v[2] = { htole64(r->missed), htole64(r->missed_total) };

	om_trace_head(p, OM_TRACE_REC_MISSED, OM_TRACE_MISSED_SIZE, time_ns);
	memcpy(p + OM_TRACE_HEAD_SIZE, v, sizeof(v));
	r->missed = 0;
}

void om_trace_ring_put_missed(struct om_trace_ring *r, uint64_t time_ns)
{
	if (r->missed && om_trace_ring_fits(r, OM_TRACE_MISSED_SIZE, 0))
		om_trace_ring_write_missed(r, time_ns);
}

/* The payload's first len bytes at byte off of iov into dst; zeros where it is short. */
static void om_trace_copy_payload(unsigned char *dst, const struct iovec *iov, unsigned int n,
				  size_t off, size_t len)
{
	struct iovec d = { .iov_base = dst, .iov_len = len };

	/* Nearly always the payload's head is in one piece: the first buffer or the next. */
	if (n && off + len <= iov[0].iov_len) {
		memcpy(dst, (const unsigned char *)iov[0].iov_base + off, len);
		return;
	}
	if (n > 1 && off == iov[0].iov_len && len <= iov[1].iov_len) {
		memcpy(dst, iov[1].iov_base, len);
		return;
	}
	/* The payload is shorter than its header says (the relay checks it is not): zeros. */
	if (om_iov_copy(&d, 1, 0, iov, n, off, len) < len)
		memset(dst, 0, len);
}

/*
 * Where a message record of size bytes goes when the fast path of
 * om_trace_ring_put_msg() does not apply: after the MISSED record owed, a
 * PAD to the end, or the tail read again. NULL when it does not fit: the
 * record is counted as missed.
 */
static unsigned char *om_trace_ring_reserve_slow(struct om_trace_ring *r, size_t size,
						 uint64_t time_ns)
{
	if (!om_trace_ring_fits(r, r->missed ? OM_TRACE_MISSED_SIZE : 0, size)) {
		r->missed++;
		r->missed_total++;
		return NULL;
	}
	if (r->missed)
		om_trace_ring_write_missed(r, time_ns);
	return om_trace_ring_claim(r, size);
}

bool om_trace_ring_put_msg(struct om_trace_ring *r, uint64_t time_ns, uint32_t event,
			   const unsigned char hdr[VIRTIO_OM_HDR_SIZE], const struct iovec *payload,
			   unsigned int n, size_t off, uint32_t caplen)
{
	size_t size = om_trace_msg_size(caplen);
	uint64_t at = r->head & (r->size - 1);
	uint32_t fields[2] = { htole32(event), htole32(caplen) };
	unsigned char *p;

	/*
	 * Nearly always, at full speed: nothing owed, room as the tail was
	 * last seen, short of the ring's end. Once for every message relayed
	 * while one listens: the checks of om_trace_ring_fits() would be a
	 * seventh of the tap's instructions.
	 */
	if (__builtin_expect(!r->missed && !r->broken && size <= r->size - at &&
			     om_trace_ring_unread(r) + size <= r->size, 1)) {
		p = r->data + at;
		r->head += size;
	} else {
		p = om_trace_ring_reserve_slow(r, size, time_ns);
		if (!p)
			return false;
	}
	om_trace_head(p, OM_TRACE_REC_MSG, (uint32_t)size, time_ns);
	memcpy(p + OM_TRACE_HEAD_SIZE, fields, sizeof(fields));
	memcpy(p + OM_TRACE_HEAD_SIZE + sizeof(fields), hdr, VIRTIO_OM_HDR_SIZE);
	om_trace_copy_payload(p + OM_TRACE_MSG_FIXED, payload, n, off, caplen);
	if (size > OM_TRACE_MSG_FIXED + caplen)
		memset(p + OM_TRACE_MSG_FIXED + caplen, 0, size - OM_TRACE_MSG_FIXED - caplen);
	r->records++;
	return true;
}

/* Link records are rare (a frame carries many messages' worth): no fast path. */
bool om_trace_ring_put_link(struct om_trace_ring *r, uint64_t time_ns, uint32_t event,
			    const char *peer, const unsigned char *hdr, const unsigned char *payload,
			    uint32_t caplen)
{
	size_t size = (OM_TRACE_LINK_FIXED + (size_t)caplen + OM_TRACE_ALIGN - 1) &
		      ~(size_t)(OM_TRACE_ALIGN - 1);
	uint32_t fields[2] = { htole32(event), htole32(caplen) };
	size_t name_len = strnlen(peer, OM_TRACE_PEER_SIZE - 1);
	unsigned char *p = om_trace_ring_reserve_slow(r, size, time_ns);

	if (!p)
		return false;
	/* Cleared first: the name's and the record's padding are zeros. */
	memset(p, 0, size);
	om_trace_head(p, OM_TRACE_REC_LINK, (uint32_t)size, time_ns);
	memcpy(p + OM_TRACE_HEAD_SIZE, fields, sizeof(fields));
	memcpy(p + OM_TRACE_HEAD_SIZE + sizeof(fields), peer, name_len);
	if (hdr)
		memcpy(p + OM_TRACE_LINK_FIXED - OM_LINK_HDR_SIZE, hdr, OM_LINK_HDR_SIZE);
	if (caplen)
		memcpy(p + OM_TRACE_LINK_FIXED, payload, caplen);
	r->records++;
	return true;
}

bool om_trace_ring_publish(struct om_trace_ring *r)
{
	uint32_t sleeping;

	if (r->broken)
		return false;
	__atomic_store_n(&r->ctl->head, r->head, __ATOMIC_RELEASE);
	/* Pairs with the listener's store of sleeping and load of head: one of us sees the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sleeping = __atomic_load_n(&r->ctl->sleeping, __ATOMIC_ACQUIRE);
	if (!sleeping || sleeping == r->woken)
		return false;
	/* Any number will do: a listener that writes nonsense only oversleeps or wakes early. */
	if (r->head < __atomic_load_n(&r->ctl->wake_head, __ATOMIC_RELAXED))
		return false;
	r->woken = sleeping;
	return true;
}
