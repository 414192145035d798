// SPDX-License-Identifier: GPL-2.0-only
#include "trace-buf.h"
#include "msg.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int om_trace_buf_init(struct om_trace_buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->data = malloc(cap);
	if (!b->data)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

void om_trace_buf_free(struct om_trace_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = b->used = b->head = 0;
}

size_t om_trace_msg_size(uint32_t caplen)
{
	size_t n = OM_TRACE_MSG_FIXED + (size_t)caplen;

	return (n + OM_TRACE_ALIGN - 1) & ~(size_t)(OM_TRACE_ALIGN - 1);
}

static size_t om_trace_buf_room(const struct om_trace_buf *b)
{
	return b->cap - b->used;
}

/* Copies n bytes to the tail; the caller checked the room. No division: the relay's path. */
static void om_trace_buf_copy_in(struct om_trace_buf *b, const void *p, size_t n)
{
	size_t tail = b->head + b->used;
	size_t first;

	if (tail >= b->cap)
		tail -= b->cap;
	first = n < b->cap - tail ? n : b->cap - tail;
	memcpy(b->data + tail, p, first);
	if (n > first)
		memcpy(b->data, (const unsigned char *)p + first, n - first);
	b->used += n;
}

bool om_trace_buf_put_bytes(struct om_trace_buf *b, const void *p, size_t n)
{
	if (n > om_trace_buf_room(b))
		return false;
	om_trace_buf_copy_in(b, p, n);
	return true;
}

/* Copies len bytes from byte off of an iovec array to the tail; the caller checked the room. */
static void om_trace_buf_copy_iov(struct om_trace_buf *b, const struct iovec *iov, unsigned int n,
				  size_t off, size_t len)
{
	size_t tail = b->head + b->used;
	struct iovec dst[2];

	if (tail >= b->cap)
		tail -= b->cap;
	dst[0] = (struct iovec){ .iov_base = b->data + tail,
				 .iov_len = len < b->cap - tail ? len : b->cap - tail };
	dst[1] = (struct iovec){ .iov_base = b->data, .iov_len = len - dst[0].iov_len };
	if (om_iov_copy(dst, dst[1].iov_len ? 2 : 1, 0, iov, n, off, len) < len) {
		/* The payload is shorter than its header says (the relay checks it is not): zeros. */
		memset(dst[0].iov_base, 0, dst[0].iov_len);
		memset(dst[1].iov_base, 0, dst[1].iov_len);
	}
	b->used += len;
}

/* Writes a record's 16-byte head into p. */
static void om_trace_head(unsigned char *p, uint16_t kind, uint32_t size, uint64_t time_ns)
{
	uint16_t k = htole16(kind), r = 0;
	uint32_t s = htole32(size);
	uint64_t t = htole64(time_ns);

	memcpy(p, &k, 2);
	memcpy(p + 2, &r, 2);
	memcpy(p + 4, &s, 4);
	memcpy(p + 8, &t, 8);
}

static void om_trace_put_missed_record(struct om_trace_buf *b, uint64_t time_ns)
{
	unsigned char rec[OM_TRACE_MISSED_SIZE];
	uint64_t v[2] = { htole64(b->missed), htole64(b->missed_total) };

	om_trace_head(rec, OM_TRACE_REC_MISSED, OM_TRACE_MISSED_SIZE, time_ns);
	memcpy(rec + OM_TRACE_HEAD_SIZE, v, sizeof(v));
	om_trace_buf_copy_in(b, rec, sizeof(rec));
	b->missed = 0;
}

void om_trace_buf_put_missed(struct om_trace_buf *b, uint64_t time_ns)
{
	if (b->missed && om_trace_buf_room(b) >= OM_TRACE_MISSED_SIZE)
		om_trace_put_missed_record(b, time_ns);
}

bool om_trace_buf_put_msg(struct om_trace_buf *b, uint64_t time_ns, uint32_t event,
			  const unsigned char hdr[VIRTIO_OM_HDR_SIZE], const struct iovec *payload,
			  unsigned int n, size_t off, uint32_t caplen)
{
	static const unsigned char zeros[OM_TRACE_ALIGN];
	size_t size = om_trace_msg_size(caplen);
	size_t need = size + (b->missed ? OM_TRACE_MISSED_SIZE : 0);
	uint32_t fields[2] = { htole32(event), htole32(caplen) };
	unsigned char fixed[OM_TRACE_MSG_FIXED];
	size_t tail;

	if (need > om_trace_buf_room(b)) {
		b->missed++;
		b->missed_total++;
		return false;
	}
	if (b->missed)
		om_trace_put_missed_record(b, time_ns);
	tail = b->head + b->used;
	if (tail >= b->cap)
		tail -= b->cap;
	if (b->cap - tail >= size) {
		/* Room before the ring's end (nearly always): written in place. */
		unsigned char *p = b->data + tail;
		struct iovec dst = { .iov_base = p + OM_TRACE_MSG_FIXED, .iov_len = caplen };

		om_trace_head(p, OM_TRACE_REC_MSG, (uint32_t)size, time_ns);
		memcpy(p + OM_TRACE_HEAD_SIZE, fields, sizeof(fields));
		memcpy(p + OM_TRACE_HEAD_SIZE + sizeof(fields), hdr, VIRTIO_OM_HDR_SIZE);
		if (om_iov_copy(&dst, 1, 0, payload, n, off, caplen) < caplen)
			memset(dst.iov_base, 0, caplen); /* short payload: see om_trace_buf_copy_iov */
		memset(p + OM_TRACE_MSG_FIXED + caplen, 0, size - OM_TRACE_MSG_FIXED - caplen);
		b->used += size;
		b->records++;
		return true;
	}
	/* Across the end: the fixed part built here, then copied in pieces. */
	om_trace_head(fixed, OM_TRACE_REC_MSG, (uint32_t)size, time_ns);
	memcpy(fixed + OM_TRACE_HEAD_SIZE, fields, sizeof(fields));
	memcpy(fixed + OM_TRACE_HEAD_SIZE + sizeof(fields), hdr, VIRTIO_OM_HDR_SIZE);
	om_trace_buf_copy_in(b, fixed, sizeof(fixed));
	om_trace_buf_copy_iov(b, payload, n, off, caplen);
	if (size > OM_TRACE_MSG_FIXED + caplen)
		om_trace_buf_copy_in(b, zeros, size - OM_TRACE_MSG_FIXED - caplen);
	b->records++;
	return true;
}

unsigned int om_trace_buf_peek(const struct om_trace_buf *b, struct iovec iov[2])
{
	size_t first = b->used < b->cap - b->head ? b->used : b->cap - b->head;

	if (!b->used)
		return 0;
	iov[0] = (struct iovec){ .iov_base = b->data + b->head, .iov_len = first };
	if (first == b->used)
		return 1;
	iov[1] = (struct iovec){ .iov_base = b->data, .iov_len = b->used - first };
	return 2;
}

void om_trace_buf_consume(struct om_trace_buf *b, size_t n)
{
	if (n > b->used)
		n = b->used;
	b->head += n;
	if (b->head >= b->cap)
		b->head -= b->cap;
	b->used -= n;
	if (!b->used)
		b->head = 0; /* keeps the next records in one span */
}
