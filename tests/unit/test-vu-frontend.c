// SPDX-License-Identifier: GPL-2.0-only
/*
 * The synthetic vhost-user front-end (tests/support/vu-frontend), tested
 * against itself and against a tiny fake back-end: the ring logic with the
 * test playing the device, the handshake's messages as a back-end reads
 * them, and messages carried end to end by a fake device that maps the
 * memory it was given (so the addresses sent must be the right ones).
 *
 * The fake back-end runs in a thread; it never asserts (cmocka must fail on
 * the main thread): it logs what it read and notes its first error, which
 * the test checks after joining it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_om.h>

#include "vu-frontend.h"

/* ------------------------------------------------------------------ */
/* Helpers for the ring tests: the test plays the device.              */

static struct vuf *new_standalone(uint16_t qsize)
{
	struct vuf_opts o = { .queue_size = qsize, .region_size = 1u << 20, .rx_bufs = 4,
			      .rx_buf_size = 256, .tx_slots = 4, .timeout_ms = 500 };
	struct vuf *f = NULL;

	assert_int_equal(vuf_new(&f, &o), 0);
	assert_non_null(f);
	return f;
}

static void dev_push_used(struct vuf_vq_view *v, uint32_t id, uint32_t len)
{
	uint16_t idx = v->used->idx;

	v->used->ring[idx & (v->num - 1)].id = id;
	v->used->ring[idx & (v->num - 1)].len = len;
	__atomic_store_n(&v->used->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static uint64_t read_counter(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static void memory_alloc_and_translate(void **state)
{
	struct vuf_opts o = { .nregions = 3, .region_size = 64 * 1024, .gpa_base = 0x200000,
			      .gpa_gap = 0x10000, .rx_bufs = 1, .rx_buf_size = 64,
			      .tx_slots = 1, .queue_size = 4 };
	struct vuf *f = NULL;
	uint64_t gpa, size, g2;
	void *ptr, *p;

	(void)state;
	/* A tx slot (72 KiB) does not fit a 64 KiB region. */
	assert_int_equal(vuf_new(&f, &o), -ENOMEM);
	o.region_size = 128 * 1024;
	assert_int_equal(vuf_new(&f, &o), 0);

	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(vuf_region(f, i, &gpa, &size, &ptr), 0);
		assert_int_equal(gpa, 0x200000 + i * (128 * 1024 + 0x10000));
		assert_int_equal(size, 128 * 1024);
		assert_ptr_equal(vuf_gpa_to_ptr(f, gpa, size), ptr);
		assert_null(vuf_gpa_to_ptr(f, gpa, size + 1));
		assert_null(vuf_gpa_to_ptr(f, gpa - 1, 1));
		assert_ptr_equal(vuf_gpa_to_ptr(f, gpa + size - 1, 1), (char *)ptr + size - 1);
		assert_int_equal(vuf_ptr_to_gpa(f, (char *)ptr + 5, &g2), 0);
		assert_int_equal(g2, gpa + 5);
	}
	assert_int_equal(vuf_region(f, 3, NULL, NULL, NULL), -EINVAL);
	/* The holes between regions translate to nothing. */
	assert_null(vuf_gpa_to_ptr(f, 0x200000 + 128 * 1024, 1));
	assert_null(vuf_gpa_to_ptr(f, UINT64_MAX, 2));
	assert_int_equal(vuf_ptr_to_gpa(f, &o, &g2), -EFAULT);

	p = vuf_alloc_in(f, 2, 100, 4096, &gpa);
	assert_non_null(p);
	assert_int_equal(gpa & 4095, 0);
	assert_ptr_equal(vuf_gpa_to_ptr(f, gpa, 100), p);
	memset(p, 0x5a, 100);
	/* Bump: the next allocation follows, never overlaps. */
	uint64_t gpa2;
	void *q = vuf_alloc_in(f, 2, 10, 1, &gpa2);

	assert_non_null(q);
	assert_true(gpa2 >= gpa + 100);
	/* Exhaustion: NULL, not a wrap. */
	assert_null(vuf_alloc_in(f, 2, 128 * 1024, 1, &gpa));
	assert_null(vuf_alloc(f, 1u << 30, 1, &gpa));
	assert_null(vuf_alloc_in(f, 1, 1, 3, &gpa)); /* alignment not a power of two */
	vuf_free(f);
}

static void ring_post_and_harvest(void **state)
{
	struct vuf *f = new_standalone(8);
	struct vuf_vq_view v;
	struct vuf_used_elem e[8];
	uint64_t g;
	struct vuf_sg out[2], in[1];
	int h1, h2;

	(void)state;
	assert_non_null(vuf_alloc(f, 512, 16, &g));
	out[0] = (struct vuf_sg){ g, 48 };
	out[1] = (struct vuf_sg){ g + 64, 100 };
	in[0] = (struct vuf_sg){ g + 256, 200 };
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	assert_int_equal(v.num, 8);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 8);

	h1 = vuf_vq_add(f, VUF_TX, out, 2, in, 1, 0, 111);
	assert_true(h1 >= 0 && h1 < 8);
	/* The chain as the device reads it. */
	uint16_t d = (uint16_t)h1;

	assert_int_equal(v.desc[d].addr, g);
	assert_int_equal(v.desc[d].len, 48);
	assert_int_equal(v.desc[d].flags, VRING_DESC_F_NEXT);
	d = v.desc[d].next;
	assert_int_equal(v.desc[d].addr, g + 64);
	assert_int_equal(v.desc[d].len, 100);
	assert_int_equal(v.desc[d].flags, VRING_DESC_F_NEXT);
	d = v.desc[d].next;
	assert_int_equal(v.desc[d].addr, g + 256);
	assert_int_equal(v.desc[d].len, 200);
	assert_int_equal(v.desc[d].flags, VRING_DESC_F_WRITE);
	assert_int_equal(v.avail->idx, 1);
	assert_int_equal(v.avail->ring[0], h1);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 5);
	assert_int_equal(vuf_vq_inflight(f, VUF_TX), 1);

	h2 = vuf_vq_add(f, VUF_TX, out, 1, NULL, 0, 0, 222);
	assert_true(h2 >= 0 && h2 != h1);
	assert_int_equal(v.avail->idx, 2);
	assert_int_equal(v.avail->ring[1], h2);

	/* Nothing used yet. */
	assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 8), 0);
	/* The device returns them out of order. */
	dev_push_used(&v, (uint32_t)h2, 0);
	dev_push_used(&v, (uint32_t)h1, 77);
	assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 1), 1);
	assert_int_equal(e[0].id, h2);
	assert_true(e[0].known);
	assert_int_equal(e[0].token, 222);
	assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 8), 1);
	assert_int_equal(e[0].id, h1);
	assert_int_equal(e[0].len, 77);
	assert_int_equal(e[0].token, 111);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 8);
	assert_int_equal(vuf_vq_inflight(f, VUF_TX), 0);

	/* A used entry naming no chain out (again, or beyond the ring). */
	dev_push_used(&v, (uint32_t)h1, 1);
	dev_push_used(&v, 1000, 2);
	assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 8), 2);
	assert_false(e[0].known);
	assert_false(e[1].known);
	assert_int_equal(e[1].id, 1000);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 8);
	/* A used index far ahead of what could be out. */
	v.used->idx = (uint16_t)(v.used->idx + 9);
	assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 8), -EPROTO);
	vuf_free(f);
}

static void ring_full_and_reuse(void **state)
{
	struct vuf *f = new_standalone(4);
	struct vuf_vq_view v;
	struct vuf_used_elem e[4];
	struct vuf_sg sg[5];
	uint64_t g;

	(void)state;
	assert_non_null(vuf_alloc(f, 4096, 16, &g));
	for (int i = 0; i < 5; i++)
		sg[i] = (struct vuf_sg){ g + (uint64_t)i * 64, 64 };
	assert_int_equal(vuf_vq_view(f, VUF_RX, &v), 0);
	assert_int_equal(vuf_vq_add(f, VUF_RX, NULL, 0, sg, 5, 0, 0), -ENOSPC);
	assert_int_equal(vuf_vq_add(f, VUF_RX, NULL, 0, NULL, 0, 0, 0), -EINVAL);
	for (int round = 0; round < 50; round++) {
		int h[4];

		for (int i = 0; i < 4; i++) {
			h[i] = vuf_vq_add(f, VUF_RX, NULL, 0, &sg[i], 1, 0, (uintptr_t)i);
			assert_true(h[i] >= 0);
		}
		assert_int_equal(vuf_vq_add(f, VUF_RX, NULL, 0, sg, 1, 0, 9), -ENOSPC);
		for (int i = 3; i >= 0; i--)
			dev_push_used(&v, (uint32_t)h[i], (uint32_t)i);
		assert_int_equal(vuf_vq_harvest(f, VUF_RX, e, 4), 4);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(e[i].id, h[3 - i]);
			assert_int_equal(e[i].token, 3 - i);
		}
	}
	/* Two-descriptor chains: two fit. */
	assert_true(vuf_vq_add(f, VUF_RX, NULL, 0, sg, 2, 0, 0) >= 0);
	assert_true(vuf_vq_add(f, VUF_RX, NULL, 0, sg, 2, 0, 0) >= 0);
	assert_int_equal(vuf_vq_add(f, VUF_RX, NULL, 0, sg, 1, 0, 0), -ENOSPC);
	vuf_free(f);
}

static void ring_wraps_16_bit_indices(void **state)
{
	struct vuf *f = new_standalone(8);
	struct vuf_vq_view v;
	struct vuf_used_elem e[8];
	struct vuf_sg sg;
	uint64_t g;
	uint16_t expect_avail = 65530;

	(void)state;
	assert_non_null(vuf_alloc(f, 64, 16, &g));
	sg = (struct vuf_sg){ g, 64 };
	assert_int_equal(vuf_vq_set_start(f, VUF_TX, 65530), 0);
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	assert_int_equal(v.avail->idx, 65530);
	assert_int_equal(v.used->idx, 65530);
	for (int i = 0; i < 40; i++) {
		int h = vuf_vq_add(f, VUF_TX, &sg, 1, NULL, 0, 0, (uintptr_t)i);
		int h2 = vuf_vq_add(f, VUF_TX, &sg, 1, NULL, 0, 0, (uintptr_t)(i + 100));

		assert_true(h >= 0 && h2 >= 0);
		/* The slot is the index modulo the ring size. */
		assert_int_equal(v.avail->ring[expect_avail & 7], h);
		assert_int_equal(v.avail->ring[(uint16_t)(expect_avail + 1) & 7], h2);
		expect_avail = (uint16_t)(expect_avail + 2);
		assert_int_equal(v.avail->idx, expect_avail);
		dev_push_used(&v, (uint32_t)h, 10);
		dev_push_used(&v, (uint32_t)h2, 20);
		assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 8), 2);
		assert_int_equal(e[0].token, i);
		assert_int_equal(e[1].token, i + 100);
		assert_int_equal(e[1].len, 20);
	}
	assert_int_equal(v.avail->idx, (uint16_t)(65530 + 80));
	assert_int_equal(vuf_vq_inflight(f, VUF_TX), 0);
	/* Only before the queue starts, and with nothing out. */
	assert_true(vuf_vq_add(f, VUF_TX, &sg, 1, NULL, 0, 0, 0) >= 0);
	assert_int_equal(vuf_vq_set_start(f, VUF_TX, 0), -EBUSY);
	vuf_free(f);
}

static void ring_indirect(void **state)
{
	struct vuf *f = new_standalone(4);
	struct vuf_vq_view v;
	struct vuf_sg out[3], in[2];
	uint64_t g, t;
	struct vring_desc *table;

	(void)state;
	assert_non_null(vuf_alloc(f, 1024, 16, &g));
	table = vuf_alloc(f, 5 * sizeof(*table), 16, &t);
	assert_non_null(table);
	for (int i = 0; i < 3; i++)
		out[i] = (struct vuf_sg){ g + (uint64_t)i * 100, (uint32_t)(10 + i) };
	for (int i = 0; i < 2; i++)
		in[i] = (struct vuf_sg){ g + 500 + (uint64_t)i * 100, (uint32_t)(20 + i) };
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	int h = vuf_vq_add(f, VUF_TX, out, 3, in, 2, t, 5);

	assert_true(h >= 0);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 3); /* one descriptor for five buffers */
	assert_int_equal(v.desc[h].flags, VRING_DESC_F_INDIRECT);
	assert_int_equal(v.desc[h].addr, t);
	assert_int_equal(v.desc[h].len, 5 * 16);
	for (int i = 0; i < 5; i++) {
		uint16_t fl = (i < 3 ? 0 : VRING_DESC_F_WRITE) | (i < 4 ? VRING_DESC_F_NEXT : 0);

		assert_int_equal(table[i].flags, fl);
		assert_int_equal(table[i].len, i < 3 ? 10 + i : 20 + i - 3);
		if (i < 4)
			assert_int_equal(table[i].next, i + 1);
	}
	/* A table outside guest memory is refused before anything is published. */
	assert_int_equal(vuf_vq_add(f, VUF_TX, out, 1, NULL, 0, 0x10, 0), -EFAULT);
	assert_int_equal(v.avail->idx, 1);
	vuf_free(f);
}

static void ring_raw_access(void **state)
{
	struct vuf *f = new_standalone(8);
	struct vuf_vq_view v;
	struct vuf_used_elem e[2];
	uint16_t ids[3];

	(void)state;
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	assert_int_equal(vuf_vq_reserve(f, VUF_TX, 3, ids), 0);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 5);
	assert_int_equal(vuf_vq_reserve(f, VUF_TX, 6, ids), -ENOSPC);
	/* A looped chain, written by hand and published untracked. */
	v.desc[ids[0]] = (struct vring_desc){ v.desc_gpa, 16, VRING_DESC_F_NEXT, ids[1] };
	v.desc[ids[1]] = (struct vring_desc){ v.desc_gpa, 16, VRING_DESC_F_NEXT, ids[0] };
	assert_int_equal(vuf_vq_publish_raw(f, VUF_TX, ids[0]), 0);
	assert_int_equal(vuf_vq_publish_raw(f, VUF_TX, 4000), 0); /* a head beyond the ring */
	assert_int_equal(v.avail->idx, 2);
	assert_int_equal(v.avail->ring[0], ids[0]);
	assert_int_equal(v.avail->ring[1], 4000);
	assert_int_equal(vuf_vq_set_avail_idx(f, VUF_TX, 60000), 0);
	assert_int_equal(v.avail->idx, 60000);
	assert_int_equal(vuf_vq_set_avail_idx(f, VUF_TX, 2), 0);
	/* Their used entries are reported, as unknown, and free nothing. */
	dev_push_used(&v, ids[0], 3);
	assert_int_equal(vuf_vq_harvest(f, VUF_TX, e, 2), 1);
	assert_false(e[0].known);
	assert_int_equal(vuf_vq_free_descs(f, VUF_TX), 5);
	assert_int_equal(vuf_vq_view(f, 2, &v), -EINVAL);
	vuf_free(f);
}

static void ring_kick_and_wait(void **state)
{
	struct vuf *f = new_standalone(8);
	struct vuf_vq_view v;
	struct vuf_sg sg;
	uint64_t g, one = 1;
	struct timespec a, b;

	(void)state;
	assert_non_null(vuf_alloc(f, 64, 16, &g));
	sg = (struct vuf_sg){ g, 64 };
	assert_int_equal(vuf_vq_view(f, VUF_RX, &v), 0);
	assert_int_equal(vuf_vq_kick(f, VUF_RX), 0);
	assert_int_equal(read_counter(v.kick_fd), 1);
	/* The device asks not to be kicked: notify skips it. */
	v.used->flags = VRING_USED_F_NO_NOTIFY;
	assert_int_equal(vuf_vq_notify(f, VUF_RX), 0);
	assert_int_equal(read_counter(v.kick_fd), 0);
	v.used->flags = 0;
	assert_int_equal(vuf_vq_notify(f, VUF_RX), 0);
	assert_int_equal(read_counter(v.kick_fd), 1);

	/* Nothing used: a time-out, on time. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(vuf_vq_wait(f, VUF_RX, 100), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;

	assert_true(ms >= 90 && ms < 1000);
	/* A call without a used entry is not a completion... */
	assert_int_equal(write(v.call_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(vuf_vq_wait(f, VUF_RX, 50), -ETIMEDOUT);
	/* ...a used entry is, call or not. */
	int h = vuf_vq_add(f, VUF_RX, NULL, 0, &sg, 1, 0, 0);

	assert_true(h >= 0);
	dev_push_used(&v, (uint32_t)h, 5);
	assert_int_equal(vuf_vq_wait(f, VUF_RX, 50), 0);
	vuf_free(f);
}

/* The test writes a message into a posted rx buffer, like a device would. */
static void messages_through_rings(void **state)
{
	struct vuf_opts o = { .queue_size = 8, .region_size = 1u << 20, .rx_bufs = 2,
			      .rx_buf_size = 48 + 100, .rx_segs = 3, .tx_slots = 2,
			      .timeout_ms = 300 };
	struct vuf *f = NULL;
	struct vuf_vq_view rx, tx;
	uint8_t payload[100], got[200];
	struct virtio_om_hdr h;
	struct vuf_msg_opts mo = { .segs = 3, .src_pid = 11, .dst_pid = 12 };

	(void)state;
	for (int i = 0; i < 100; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_rx_fill(f), 0);
	assert_int_equal(vuf_vq_view(f, VUF_RX, &rx), 0);
	assert_int_equal(vuf_vq_view(f, VUF_TX, &tx), 0);
	assert_int_equal(rx.avail->idx, 2);
	assert_int_equal(vuf_vq_inflight(f, VUF_RX), 2);
	assert_int_equal(read_counter(rx.kick_fd), 1);

	/* tx: header then three payload segments, read-only. */
	assert_int_equal(vuf_send_msg(f, 5, VIRTIO_OM_T_TEST_DATA, payload, 100, &mo), 0);
	assert_int_equal(read_counter(tx.kick_fd), 1);
	uint16_t d = tx.avail->ring[0];
	uint8_t msg[200];
	size_t n = 0;
	unsigned int ndesc = 0;

	for (;;) {
		void *p = vuf_gpa_to_ptr(f, tx.desc[d].addr, tx.desc[d].len);

		assert_non_null(p);
		assert_false(tx.desc[d].flags & VRING_DESC_F_WRITE);
		assert_true(n + tx.desc[d].len <= sizeof(msg));
		if (ndesc == 0)
			assert_int_equal(tx.desc[d].len, 48);
		memcpy(msg + n, p, tx.desc[d].len);
		n += tx.desc[d].len;
		ndesc++;
		if (!(tx.desc[d].flags & VRING_DESC_F_NEXT))
			break;
		d = tx.desc[d].next;
	}
	assert_int_equal(ndesc, 4);
	assert_int_equal(n, 148);
	memcpy(&h, msg, sizeof(h));
	assert_int_equal(h.version, VIRTIO_OM_PROTOCOL_VERSION);
	assert_int_equal(h.type, VIRTIO_OM_T_TEST_DATA);
	assert_int_equal(h.dst_node, 5);
	assert_int_equal(h.src_pid, 11);
	assert_int_equal(h.dst_pid, 12);
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.len, 100);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.reserved, 0);
	assert_memory_equal(msg + 48, payload, 100);
	/* The next message to the same node takes the next seq. */
	dev_push_used(&tx, tx.avail->ring[0], 0);
	mo.chain = VUF_CHAIN_MERGED;
	assert_int_equal(vuf_send_msg(f, 5, VIRTIO_OM_T_PING, payload, 8, &mo), 0);
	d = tx.avail->ring[1];
	assert_int_equal(tx.desc[d].len, 56);
	assert_false(tx.desc[d].flags & VRING_DESC_F_NEXT);
	memcpy(&h, vuf_gpa_to_ptr(f, tx.desc[d].addr, 48), 48);
	assert_int_equal(h.seq, 2);
	assert_int_equal(h.type, VIRTIO_OM_T_PING);
	/* Indirect: one descriptor, the table holds header + segments. */
	mo.chain = VUF_CHAIN_INDIRECT;
	mo.segs = 2;
	assert_int_equal(vuf_tx_flush(f, 10), -ETIMEDOUT); /* one still out */
	dev_push_used(&tx, tx.avail->ring[1], 0);
	assert_int_equal(vuf_tx_flush(f, 10), 0);
	assert_int_equal(vuf_send_msg(f, 6, VIRTIO_OM_T_TEST_DATA, payload, 100, &mo), 0);
	d = tx.avail->ring[2];
	assert_int_equal(tx.desc[d].flags, VRING_DESC_F_INDIRECT);
	assert_int_equal(tx.desc[d].len, 3 * 16);
	struct vring_desc *t = vuf_gpa_to_ptr(f, tx.desc[d].addr, 48);

	assert_non_null(t);
	assert_int_equal(t[0].len, 48);
	assert_int_equal(t[1].len, 50);
	assert_int_equal(t[2].len, 50);
	assert_memory_equal(vuf_gpa_to_ptr(f, t[2].addr, 50), payload + 50, 50);
	memcpy(&h, vuf_gpa_to_ptr(f, t[0].addr, 48), 48);
	assert_int_equal(h.seq, 1); /* node 6's own sequence */

	/* Two slots, both out: the third send waits, then gives up. */
	assert_int_equal(vuf_send_msg(f, 6, VIRTIO_OM_T_TEST_DATA, payload, 1, NULL), 0);
	assert_int_equal(vuf_send_msg(f, 6, VIRTIO_OM_T_TEST_DATA, payload, 1, NULL), -EAGAIN);

	/* rx: the device scatters a message over the three segments. */
	uint16_t head = rx.avail->ring[0];
	struct virtio_om_hdr in = { .version = 1, .type = VIRTIO_OM_T_TEST_DATA, .src_node = 3,
				    .dst_node = 5, .seq = 9, .len = 100 };
	uint8_t whole[148];
	size_t off = 0;

	memcpy(whole, &in, 48);
	memcpy(whole + 48, payload, 100);
	d = head;
	for (;;) {
		assert_true(rx.desc[d].flags & VRING_DESC_F_WRITE);
		memcpy(vuf_gpa_to_ptr(f, rx.desc[d].addr, rx.desc[d].len), whole + off,
		       rx.desc[d].len);
		off += rx.desc[d].len;
		if (!(rx.desc[d].flags & VRING_DESC_F_NEXT))
			break;
		d = rx.desc[d].next;
	}
	assert_int_equal(off, 148);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), 10), -ETIMEDOUT);
	dev_push_used(&rx, head, 148);
	memset(got, 0, sizeof(got));
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), 10), 148);
	assert_memory_equal(got, whole, 148);
	/* The buffer went back: same head, next avail slot, kicked. */
	assert_int_equal(rx.avail->idx, 3);
	assert_int_equal(rx.avail->ring[2], head);
	assert_int_equal(vuf_vq_inflight(f, VUF_RX), 2);
	assert_int_equal(read_counter(rx.kick_fd), 1);
	/* A short cap takes the start; the length says what came. */
	dev_push_used(&rx, head, 148);
	assert_int_equal(vuf_recv_msg(f, got, 10, 10), 148);
	/* A length beyond the buffer, or a used id no buffer has: -EPROTO. */
	dev_push_used(&rx, rx.avail->ring[1], 5000);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), 10), -EPROTO);
	dev_push_used(&rx, 7, 1);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), 10), -EPROTO);
	vuf_free(f);
}

/* Declared after the fake back-end, which this test needs for a handshake. */
static void event_idx_driver_side(void **state);

/* ------------------------------------------------------------------ */
/* The fake back-end.                                                  */

#define LOG_MAX 160

struct logent {
	uint32_t req, flags, size;
	unsigned int nfds;
	uint8_t payload[48];
	int conn;
};

struct fake_region {
	uint64_t gpa, size, uva, off;
	uint8_t *map;
	size_t maplen;
};

struct fake_vq {
	uint32_t num;
	uint16_t last_avail;
	uint64_t desc_uva, avail_uva, used_uva;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	int kick, call;
	bool enabled;
	bool started; /* from SET_VRING_KICK to GET_VRING_BASE, as in libvhost-user */
};

struct fake {
	int sock, listen_fd;
	char path[108];
	/* behaviour */
	uint64_t features, pfeatures;
	uint32_t node_id, max_payload;
	uint32_t nack_request;	 /* ack this one with 1 */
	uint32_t silent_request; /* never answer this one */
	uint32_t close_on;	 /* close the connection on reading this one */
	bool config_fails;	 /* GET_CONFIG answered with size 0 */
	bool reply_no_flag;	 /* replies without the reply flag */
	uint16_t base_bias;	 /* added to GET_VRING_BASE answers (chains taken, not used) */
	bool loopback;		 /* relay tx chains into rx buffers */
	unsigned int crash_after; /* on the first connection, close after relaying N */
	unsigned int conns;	 /* connections to serve when listening */
	/* what it saw */
	struct logent log[LOG_MAX];
	unsigned int nlog;
	unsigned int relayed;
	bool addr_ok;
	char err[256];
	/* state */
	struct fake_region reg[VUF_MAX_REGIONS];
	unsigned int nreg;
	struct fake_vq vq[2];
	int conn;
	pthread_t thread;
};

static void be_fail(struct fake *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void be_fail(struct fake *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
}

static void fake_unmap(struct fake *b)
{
	for (unsigned int i = 0; i < b->nreg; i++)
		munmap(b->reg[i].map, b->reg[i].maplen);
	b->nreg = 0;
	for (int q = 0; q < 2; q++) {
		struct fake_vq *v = &b->vq[q];

		if (v->kick >= 0)
			close(v->kick);
		if (v->call >= 0)
			close(v->call);
		*v = (struct fake_vq){ .kick = -1, .call = -1 };
	}
}

static void *fake_uva(struct fake *b, uint64_t uva, uint64_t len)
{
	for (unsigned int i = 0; i < b->nreg; i++) {
		struct fake_region *r = &b->reg[i];

		if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
			return r->map + r->off + (uva - r->uva);
	}
	return NULL;
}

static void *fake_gpa(struct fake *b, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < b->nreg; i++) {
		struct fake_region *r = &b->reg[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->map + r->off + (gpa - r->gpa);
	}
	return NULL;
}

static int read_all(int fd, void *buf, size_t len, int *fds, unsigned int *nfds)
{
	size_t got = 0;

	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 5000) <= 0)
			return -ETIMEDOUT;
		ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			unsigned int k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			if (c->cmsg_type != SCM_RIGHTS)
				continue;
			for (unsigned int i = 0; i < k; i++) {
				int fd2;

				memcpy(&fd2, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (nfds && *nfds < 8)
					fds[(*nfds)++] = fd2;
				else
					close(fd2);
			}
		}
		got += (size_t)n;
	}
	return 0;
}

static void reply(struct fake *b, uint32_t req, const void *payload, uint32_t size)
{
	struct vuf_msg_hdr h = { req, VUF_MSG_VERSION | (b->reply_no_flag ? 0 : VUF_MSG_F_REPLY), size };
	uint8_t buf[sizeof(h) + 512];

	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	if (send(b->sock, buf, sizeof(h) + size, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + size))
		be_fail(b, "reply %u: send failed", req);
}

static void reply_u64(struct fake *b, uint32_t req, uint64_t v)
{
	reply(b, req, &v, sizeof(v));
}

static bool is_get(uint32_t req)
{
	return req == VUF_REQ_GET_FEATURES || req == VUF_REQ_GET_PROTOCOL_FEATURES ||
	       req == VUF_REQ_GET_QUEUE_NUM || req == VUF_REQ_GET_CONFIG ||
	       req == VUF_REQ_GET_VRING_BASE || req == VUF_REQ_GET_MAX_MEM_SLOTS;
}

static void map_ring(struct fake *b, unsigned int q)
{
	struct fake_vq *v = &b->vq[q];

	v->desc = fake_uva(b, v->desc_uva, 16ull * v->num);
	v->avail = fake_uva(b, v->avail_uva, 6 + 2ull * v->num);
	v->used = fake_uva(b, v->used_uva, 6 + 8ull * v->num);
	if (!v->desc || !v->avail || !v->used)
		be_fail(b, "ring %u addresses outside the memory table", q);
	else
		b->addr_ok = true;
}

static void add_region(struct fake *b, const struct vuf_mem_region *m, int fd)
{
	struct fake_region *r = &b->reg[b->nreg];

	r->gpa = m->gpa;
	r->size = m->size;
	r->uva = m->uva;
	r->off = m->mmap_offset;
	r->maplen = m->size + m->mmap_offset;
	r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		be_fail(b, "mmap region %u failed", b->nreg);
		return;
	}
	b->nreg++;
}

/* Returns false when the connection is over. */
static bool fake_message(struct fake *b)
{
	struct vuf_msg_hdr h;
	union {
		uint8_t bytes[512];
		uint64_t u64;
		struct vuf_vring_state st;
		struct vuf_vring_addr addr;
		struct vuf_mem_table mem;
		struct vuf_config_msg cfg;
		struct {
			uint64_t padding;
			struct vuf_mem_region r;
		} reg;
	} p;
	int fds[8];
	unsigned int nfds = 0;
	int r = read_all(b->sock, &h, sizeof(h), fds, &nfds);

	if (r == -ECONNRESET)
		return false;
	if (r < 0) {
		be_fail(b, "reading a header: %d", r);
		return false;
	}
	if (h.size > sizeof(p)) {
		be_fail(b, "request %u: size %u", h.request, h.size);
		return false;
	}
	memset(&p, 0, sizeof(p));
	if (h.size && read_all(b->sock, &p, h.size, NULL, NULL) < 0) {
		be_fail(b, "request %u: short payload", h.request);
		return false;
	}
	if (b->nlog < LOG_MAX) {
		struct logent *l = &b->log[b->nlog++];

		*l = (struct logent){ h.request, h.flags, h.size, nfds, { 0 }, b->conn };
		memcpy(l->payload, p.bytes, sizeof(l->payload));
	}
	if (h.request == b->close_on) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return false;
	}
	if (h.request == b->silent_request) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return true;
	}
	switch (h.request) {
	case VUF_REQ_GET_FEATURES:
		reply_u64(b, h.request, b->features);
		break;
	case VUF_REQ_GET_PROTOCOL_FEATURES:
		reply_u64(b, h.request, b->pfeatures);
		break;
	case VUF_REQ_GET_QUEUE_NUM:
		reply_u64(b, h.request, 2);
		break;
	case VUF_REQ_GET_MAX_MEM_SLOTS:
		reply_u64(b, h.request, 32);
		break;
	case VUF_REQ_GET_CONFIG: {
		struct virtio_om_config c = { b->node_id, b->max_payload };

		if (b->config_fails) {
			reply(b, h.request, NULL, 0);
			break;
		}
		if (p.cfg.size != sizeof(c) || p.cfg.offset != 0)
			be_fail(b, "GET_CONFIG offset %u size %u", p.cfg.offset, p.cfg.size);
		memcpy(p.cfg.payload, &c, sizeof(c));
		reply(b, h.request, &p, h.size);
		break;
	}
	case VUF_REQ_GET_VRING_BASE:
		if (p.st.index < 2) {
			struct fake_vq *v = &b->vq[p.st.index];

			p.st.num = (uint16_t)(v->last_avail + (b->base_bias ? b->base_bias + p.st.index : 0));
			/* Stopped: like libvhost-user, drop both notifiers. */
			v->started = false;
			if (v->kick >= 0)
				close(v->kick);
			if (v->call >= 0)
				close(v->call);
			v->kick = v->call = -1;
		}
		reply(b, h.request, &p.st, sizeof(p.st));
		break;
	case VUF_REQ_SET_MEM_TABLE:
		for (unsigned int i = 0; i < b->nreg; i++)
			munmap(b->reg[i].map, b->reg[i].maplen);
		b->nreg = 0;
		if (p.mem.nregions != nfds || nfds == 0)
			be_fail(b, "SET_MEM_TABLE: %u regions, %u fds", p.mem.nregions, nfds);
		for (unsigned int i = 0; i < nfds && i < p.mem.nregions; i++)
			add_region(b, &p.mem.regions[i], fds[i]);
		nfds = 0;
		for (unsigned int q = 0; q < 2; q++)
			if (b->vq[q].desc_uva)
				map_ring(b, q); /* the old mapping is gone */
		break;
	case VUF_REQ_ADD_MEM_REG:
		if (nfds != 1)
			be_fail(b, "ADD_MEM_REG: %u fds", nfds);
		else
			add_region(b, &p.reg.r, fds[0]);
		nfds = 0;
		for (unsigned int q = 0; q < 2; q++)
			if (b->vq[q].desc_uva)
				map_ring(b, q);
		break;
	case VUF_REQ_SET_VRING_NUM:
		if (p.st.index < 2)
			b->vq[p.st.index].num = p.st.num;
		break;
	case VUF_REQ_SET_VRING_BASE:
		if (p.st.index < 2)
			b->vq[p.st.index].last_avail = (uint16_t)p.st.num;
		break;
	case VUF_REQ_SET_VRING_ADDR:
		if (p.addr.index < 2) {
			b->vq[p.addr.index].desc_uva = p.addr.desc_uva;
			b->vq[p.addr.index].avail_uva = p.addr.avail_uva;
			b->vq[p.addr.index].used_uva = p.addr.used_uva;
			map_ring(b, p.addr.index);
		}
		break;
	case VUF_REQ_SET_VRING_KICK:
	case VUF_REQ_SET_VRING_CALL: {
		unsigned int q = (unsigned int)(p.u64 & VUF_VRING_IDX_MASK);
		int *slot;

		if (q >= 2 || nfds != 1) {
			be_fail(b, "request %u: queue %u, %u fds", h.request, q, nfds);
			break;
		}
		slot = h.request == VUF_REQ_SET_VRING_KICK ? &b->vq[q].kick : &b->vq[q].call;
		if (*slot >= 0)
			close(*slot);
		*slot = fds[0];
		nfds = 0;
		if (h.request == VUF_REQ_SET_VRING_KICK)
			b->vq[q].started = true;
		break;
	}
	case VUF_REQ_SET_VRING_ENABLE:
		if (p.st.index < 2)
			b->vq[p.st.index].enabled = p.st.num;
		break;
	default:
		break;
	}
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if ((h.flags & VUF_MSG_F_NEED_REPLY) && !is_get(h.request))
		reply_u64(b, h.request, h.request == b->nack_request ? 1 : 0);
	return true;
}

/* Copies a chain's readable bytes out (indirect tables followed). */
static long fake_gather(struct fake *b, struct fake_vq *v, uint16_t head, uint8_t *buf, size_t cap)
{
	struct vring_desc *table = v->desc;
	uint32_t n = v->num, i = head, steps = 0;
	size_t got = 0;

	if (head >= v->num)
		return -1;
	if (table[i].flags & VRING_DESC_F_INDIRECT) {
		n = table[i].len / 16;
		table = fake_gpa(b, table[i].addr, table[i].len);
		i = 0;
		if (!table)
			return -1;
	}
	for (;;) {
		uint8_t *p = fake_gpa(b, table[i].addr, table[i].len);

		if (!p || got + table[i].len > cap || (table[i].flags & VRING_DESC_F_WRITE))
			return -1;
		memcpy(buf + got, p, table[i].len);
		got += table[i].len;
		if (!(table[i].flags & VRING_DESC_F_NEXT))
			return (long)got;
		i = table[i].next;
		if (i >= n || ++steps > n)
			return -1;
	}
}

static long fake_scatter(struct fake *b, struct fake_vq *v, uint16_t head, const uint8_t *buf,
			 size_t len)
{
	uint32_t i = head, steps = 0;
	size_t put = 0;

	if (head >= v->num)
		return -1;
	while (put < len) {
		uint32_t n = v->desc[i].len;
		uint8_t *p = fake_gpa(b, v->desc[i].addr, n);

		if (!p || !(v->desc[i].flags & VRING_DESC_F_WRITE))
			return -1;
		if (n > len - put)
			n = (uint32_t)(len - put);
		memcpy(p, buf + put, n);
		put += n;
		if (put < len && !(v->desc[i].flags & VRING_DESC_F_NEXT))
			return -1;
		i = v->desc[i].next;
		if (i >= v->num || ++steps > v->num)
			break;
	}
	return put == len ? (long)len : -1;
}

static void fake_used(struct fake_vq *v, uint16_t id, uint32_t len)
{
	uint16_t idx = v->used->idx;

	v->used->ring[idx % v->num] = (struct vring_used_elem){ id, len };
	__atomic_store_n(&v->used->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

/* The loopback device: every tx message goes to the next rx buffer. */
static bool fake_relay(struct fake *b)
{
	struct fake_vq *rx = &b->vq[0], *tx = &b->vq[1];
	static uint8_t buf[48 + VIRTIO_OM_MAX_PAYLOAD + 64];
	bool any = false;
	uint64_t one = 1;

	/* Nothing moves until both rings run and can be signalled: the
	 * calls may come after the kicks (vhost-user-gpio's order). */
	if (!rx->used || !tx->used || !rx->enabled || !tx->enabled || !rx->started ||
	    !tx->started || rx->call < 0 || tx->call < 0)
		return true;
	while (tx->last_avail != __atomic_load_n(&tx->avail->idx, __ATOMIC_ACQUIRE)) {
		if (rx->last_avail == __atomic_load_n(&rx->avail->idx, __ATOMIC_ACQUIRE))
			break; /* no rx buffer: hold the message */
		if (b->crash_after && b->conn == 0 && b->relayed == b->crash_after)
			return false;
		uint16_t th = tx->avail->ring[tx->last_avail % tx->num];
		uint16_t rh = rx->avail->ring[rx->last_avail % rx->num];
		long n = fake_gather(b, tx, th, buf, sizeof(buf));

		if (n < 0 || fake_scatter(b, rx, rh, buf, (size_t)n) < 0) {
			be_fail(b, "relay: bad chain (tx %u rx %u)", th, rh);
			return false;
		}
		fake_used(rx, rh, (uint32_t)n);
		fake_used(tx, th, 0);
		tx->last_avail++;
		rx->last_avail++;
		b->relayed++;
		any = true;
	}
	if (any) {
		if (write(rx->call, &one, sizeof(one)) < 0 || write(tx->call, &one, sizeof(one)) < 0)
			be_fail(b, "call failed");
	}
	return true;
}

static void *fake_main(void *arg)
{
	struct fake *b = arg;

	for (b->conn = 0;; b->conn++) {
		if (b->listen_fd >= 0) {
			struct pollfd p = { b->listen_fd, POLLIN, 0 };

			if (poll(&p, 1, 5000) <= 0) {
				be_fail(b, "no connection %d", b->conn);
				break;
			}
			b->sock = accept(b->listen_fd, NULL, NULL);
			if (b->sock < 0) {
				be_fail(b, "accept failed");
				break;
			}
		}
		for (;;) {
			struct pollfd p[3] = { { b->sock, POLLIN, 0 }, { b->vq[0].kick, POLLIN, 0 },
					       { b->vq[1].kick, POLLIN, 0 } };
			int r = poll(p, b->loopback ? 3 : 1, 5000);

			if (r == 0) {
				be_fail(b, "idle for 5 s");
				break;
			}
			if (r < 0)
				break;
			if (p[0].revents && !fake_message(b))
				break;
			for (int q = 0; q < 2 && b->loopback; q++) {
				uint64_t v;

				/* (a message may have just closed or replaced it) */
				if (p[q + 1].revents && b->vq[q].kick == p[q + 1].fd &&
				    read(p[q + 1].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					be_fail(b, "kick read");
			}
			if (b->loopback && !fake_relay(b))
				break;
		}
		close(b->sock);
		b->sock = -1;
		fake_unmap(b);
		if (b->listen_fd < 0 || (unsigned int)b->conn + 1 >= b->conns)
			break;
	}
	return NULL;
}

static void fake_defaults(struct fake *b)
{
	memset(b, 0, sizeof(*b));
	b->sock = b->listen_fd = -1;
	b->features = VUF_BIT(VUF_F_VERSION_1) | VUF_BIT(VUF_F_PROTOCOL_FEATURES) |
		      VUF_BIT(VUF_F_INDIRECT_DESC) | VUF_BIT(VUF_F_EVENT_IDX) |
		      VUF_BIT(VUF_F_NOTIFY_ON_EMPTY) | VUF_BIT(VUF_F_LOG_ALL);
	b->pfeatures = VUF_BIT(VUF_PF_MQ) | VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG) |
		       VUF_BIT(VUF_PF_LOG_SHMFD) | VUF_BIT(VUF_PF_SLAVE_REQ) |
		       VUF_BIT(VUF_PF_CONFIGURE_MEM_SLOTS);
	b->node_id = 7;
	b->max_payload = 4096;
	b->conns = 1;
	for (int q = 0; q < 2; q++)
		b->vq[q].kick = b->vq[q].call = -1;
}

/* Starts the fake on a socketpair; returns the front-end's end. */
static int fake_start_pair(struct fake *b)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	b->sock = sv[1];
	assert_int_equal(pthread_create(&b->thread, NULL, fake_main, b), 0);
	return sv[0];
}

static void fake_start_listen(struct fake *b, char *dir, size_t dirlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(dir, dirlen, "/tmp/vuf-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(b->path, sizeof(b->path), "%s/sock", dir);
	strcpy(a.sun_path, b->path);
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(b->listen_fd >= 0);
	assert_int_equal(bind(b->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(b->listen_fd, 4), 0);
	assert_int_equal(pthread_create(&b->thread, NULL, fake_main, b), 0);
}

static void fake_join(struct fake *b, const char *dir)
{
	assert_int_equal(pthread_join(b->thread, NULL), 0);
	if (b->listen_fd >= 0) {
		close(b->listen_fd);
		unlink(b->path);
		rmdir(dir);
	}
	if (b->err[0])
		fail_msg("fake back-end: %s", b->err);
}

/* What the log should hold, entry by entry: request, flags, size, fds. */
struct expect {
	uint32_t req, flags, size;
	unsigned int nfds;
};

static void check_log(const struct fake *b, unsigned int from, const struct expect *e, unsigned int n)
{
	assert_true(b->nlog >= from + n);
	for (unsigned int i = 0; i < n; i++) {
		const struct logent *l = &b->log[from + i];

		if (l->req != e[i].req || l->flags != e[i].flags || l->size != e[i].size ||
		    l->nfds != e[i].nfds)
			fail_msg("message %u: request %u flags %#x size %u fds %u; expected %u %#x %u %u",
				 from + i, l->req, l->flags, l->size, l->nfds, e[i].req, e[i].flags,
				 e[i].size, e[i].nfds);
	}
}

static uint64_t log_u64(const struct logent *l)
{
	uint64_t v;

	memcpy(&v, l->payload, sizeof(v));
	return v;
}

static struct vuf_vring_state log_state(const struct logent *l)
{
	struct vuf_vring_state s;

	memcpy(&s, l->payload, sizeof(s));
	return s;
}

#define V VUF_MSG_VERSION
#define NR VUF_MSG_F_NEED_REPLY

/* EVENT_IDX negotiated: kicks follow avail_event, used_event follows harvest. */
static void event_idx_driver_side(void **state)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	struct vuf_opts o = { .queue_size = 8, .region_size = 1u << 20, .rx_bufs = 2,
			      .rx_buf_size = 64, .tx_slots = 4, .timeout_ms = 200,
			      .features = VUF_BIT(VUF_F_EVENT_IDX) | VUF_BIT(VUF_F_INDIRECT_DESC) };
	struct vuf *f = NULL;
	struct vuf_vq_view tx, rx;
	uint16_t *avail_event, *used_event;

	(void)state;
	fake_defaults(&b);
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), 0);
	assert_true(vuf_features(f) & VUF_BIT(VUF_F_EVENT_IDX));
	assert_int_equal(vuf_vq_view(f, VUF_TX, &tx), 0);
	assert_int_equal(vuf_vq_view(f, VUF_RX, &rx), 0);
	(void)read_counter(tx.kick_fd); /* the handshake's kicks */
	(void)read_counter(rx.kick_fd);
	avail_event = (uint16_t *)&tx.used->ring[tx.num];
	used_event = &tx.avail->ring[tx.num];

	/* The device wants a kick when entry 0 is made available... */
	*avail_event = 0;
	assert_int_equal(vuf_send_msg(f, 2, VIRTIO_OM_T_PING, "12345678", 8, NULL), 0);
	assert_int_equal(read_counter(tx.kick_fd), 1);
	/* ...and not again until it moves avail_event. */
	assert_int_equal(vuf_send_msg(f, 2, VIRTIO_OM_T_PING, "12345678", 8, NULL), 0);
	assert_int_equal(read_counter(tx.kick_fd), 0);
	*avail_event = 2;
	assert_int_equal(vuf_send_msg(f, 2, VIRTIO_OM_T_PING, "12345678", 8, NULL), 0);
	assert_int_equal(read_counter(tx.kick_fd), 1);
	/* Harvest publishes how far the driver got; a wait asks for the next. */
	dev_push_used(&tx, tx.avail->ring[0], 0);
	dev_push_used(&tx, tx.avail->ring[1], 0);
	assert_int_equal(vuf_tx_flush(f, 50), -ETIMEDOUT);
	assert_int_equal(*used_event, 2);
	dev_push_used(&tx, tx.avail->ring[2], 0);
	assert_int_equal(vuf_tx_flush(f, 50), 0);
	assert_int_equal(*used_event, 3);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	vuf_free(f);
}

/* The whole handshake, message by message, in either ring start order. */
static void handshake_in_order(bool generic)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	struct vuf_opts o = { .queue_size = 16, .region_size = 2u << 20, .nregions = 2,
			      .gpa_gap = 1u << 20, .rx_bufs = 4, .tx_slots = 2,
			      .timeout_ms = 2000, .flags = generic ? VUF_O_VHOST_GENERIC : 0 };
	struct vuf *f = NULL;
	uint64_t rg0;
	void *rp0;

	fake_defaults(&b);
	b.base_bias = 1000;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), 0);
	assert_int_equal(vuf_node_id(f), 7);
	assert_int_equal(vuf_max_payload(f), 4096);
	/* Only what we want of what is offered: not EVENT_IDX, LOG_ALL... */
	assert_int_equal(vuf_features(f), VUF_BIT(VUF_F_VERSION_1) | VUF_BIT(VUF_F_PROTOCOL_FEATURES) |
						  VUF_BIT(VUF_F_INDIRECT_DESC));
	assert_int_equal(vuf_protocol_features(f),
			 VUF_BIT(VUF_PF_MQ) | VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG));
	assert_int_equal(vuf_offered_features(f), b.features);
	assert_int_equal(vuf_offered_protocol_features(f), b.pfeatures);
	assert_int_equal(vuf_dev_stop(f), 0);
	assert_int_equal(vuf_vring_base(f, VUF_RX), 1000);
	assert_int_equal(vuf_vring_base(f, VUF_TX), 1001);
	/* Started again: the bases the back-end gave, not the used indexes. */
	assert_int_equal(vuf_dev_start(f), 0);
	vuf_disconnect(f);
	assert_false(vuf_connected(f));
	fake_join(&b, NULL);
	unsigned int later = 0;

	for (unsigned int i = 0; i < b.nlog; i++) {
		if (b.log[i].req != VUF_REQ_SET_VRING_BASE || later++ < 2)
			continue;
		assert_int_equal(log_state(&b.log[i]).num, 1000 + log_state(&b.log[i]).index);
	}
	assert_int_equal(later, 4);

	struct expect want[40];
	unsigned int n = 0, ring0 = 11, rlen = generic ? 5 : 4;
	const struct expect init[] = {
		{ VUF_REQ_GET_FEATURES, V, 0, 0 },
		{ VUF_REQ_GET_PROTOCOL_FEATURES, V, 0, 0 },
		{ VUF_REQ_SET_PROTOCOL_FEATURES, V, 8, 0 },
		{ VUF_REQ_GET_QUEUE_NUM, V, 0, 0 },
		{ VUF_REQ_SET_OWNER, V, 0, 0 },
		{ VUF_REQ_GET_FEATURES, V, 0, 0 },
		{ VUF_REQ_SET_VRING_CALL, V, 8, 1 },
		{ VUF_REQ_SET_VRING_CALL, V, 8, 1 },
		{ VUF_REQ_GET_CONFIG, V, 12 + 8, 0 },
		{ VUF_REQ_SET_FEATURES, V, 8, 0 },
		{ VUF_REQ_SET_MEM_TABLE, V | NR, 8 + 2 * 32, 2 },
	};

	memcpy(want, init, sizeof(init));
	n = sizeof(init) / sizeof(init[0]);
	for (unsigned int q = 0; q < 2; q++) {
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_NUM, V, 8, 0 };
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_BASE, V, 8, 0 };
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_ADDR, V, 40, 0 };
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_KICK, V, 8, 1 };
		if (generic)
			want[n++] = (struct expect){ VUF_REQ_SET_VRING_CALL, V, 8, 1 };
	}
	for (unsigned int q = 0; q < 2 && !generic; q++)
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_CALL, V, 8, 1 };
	for (unsigned int q = 0; q < 2; q++)
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_ENABLE, V, 8, 0 };
	/* vuf_dev_stop */
	for (unsigned int q = 0; q < 2 && generic; q++)
		want[n++] = (struct expect){ VUF_REQ_SET_VRING_ENABLE, V, 8, 0 };
	for (unsigned int q = 0; q < 2; q++)
		want[n++] = (struct expect){ VUF_REQ_GET_VRING_BASE, V, 8, 0 };

	check_log(&b, 0, want, n);
	/* then the second start, from SET_FEATURES to the ENABLEs */
	assert_int_equal(b.nlog, n + 2 + 2 * rlen + (generic ? 0 : 2) + 2);
	assert_int_equal(b.log[n].req, VUF_REQ_SET_FEATURES);
	assert_int_equal(log_u64(&b.log[2]),
			 VUF_BIT(VUF_PF_MQ) | VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG));
	assert_int_equal(log_u64(&b.log[6]), 0);
	assert_int_equal(log_u64(&b.log[7]), 1);
	assert_int_equal(log_u64(&b.log[9]), vuf_features(f));

	/* The memory table: both regions, at their gpa, our mapping as uva. */
	struct vuf_mem_table mt;

	memcpy(&mt, b.log[10].payload, sizeof(b.log[10].payload));
	assert_int_equal(mt.nregions, 2);
	assert_int_equal(vuf_region(f, 0, &rg0, NULL, &rp0), 0);
	assert_int_equal(mt.regions[0].gpa, rg0);
	assert_int_equal(mt.regions[0].size, 2u << 20);
	assert_int_equal(mt.regions[0].uva, (uintptr_t)rp0);
	assert_int_equal(mt.regions[0].mmap_offset, 0);
	/* (region 1 lies past the 48 logged bytes; the fake's mapping checks it) */
	assert_true(b.addr_ok);

	for (unsigned int q = 0; q < 2; q++) {
		const struct logent *l = &b.log[ring0 + q * rlen];
		const struct logent *call = generic ? &l[4] : &b.log[ring0 + 2 * rlen + q];
		const struct logent *en = &b.log[ring0 + 2 * rlen + (generic ? 0 : 2) + q];
		const struct logent *get = &en[generic ? 4 : 2];
		struct vuf_vring_addr a;
		struct vuf_vq_view v;

		assert_int_equal(log_state(&l[0]).index, q);
		assert_int_equal(log_state(&l[0]).num, 16);
		assert_int_equal(log_state(&l[1]).index, q);
		assert_int_equal(log_state(&l[1]).num, 0);
		memcpy(&a, l[2].payload, sizeof(a));
		assert_int_equal(vuf_vq_view(f, q, &v), 0);
		assert_int_equal(a.index, q);
		assert_int_equal(a.flags, 0);
		assert_int_equal(a.desc_uva, (uintptr_t)v.desc);
		assert_int_equal(a.avail_uva, (uintptr_t)v.avail);
		assert_int_equal(a.used_uva, (uintptr_t)v.used);
		assert_int_equal(log_u64(&l[3]), q);
		assert_int_equal(call->req, VUF_REQ_SET_VRING_CALL);
		assert_int_equal(log_u64(call), q);
		assert_int_equal(log_state(en).index, q);
		assert_int_equal(log_state(en).num, 1);
		if (generic)
			assert_int_equal(log_state(&en[2]).num, 0);
		assert_int_equal(log_state(get).index, q);
	}
	vuf_free(f);
}

static void handshake_messages(void **state)
{
	(void)state;
	handshake_in_order(false);
}

static void handshake_messages_generic(void **state)
{
	(void)state;
	handshake_in_order(true);
}

static void handshake_variants(void **state)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	struct vuf_opts o = { .queue_size = 16, .region_size = 1u << 20, .nregions = 3,
			      .rx_bufs = 4, .tx_slots = 2, .timeout_ms = 2000,
			      .flags = VUF_O_ACK_ALL | VUF_O_SHARED_MEMFD,
			      .protocol_features = VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG) |
						   VUF_BIT(VUF_PF_CONFIGURE_MEM_SLOTS) };
	struct vuf *f = NULL;

	(void)state;
	/* Acks on everything, regions one by one (ADD_MEM_REG), one memfd. */
	fake_defaults(&b);
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), 0);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	const struct expect want[] = {
		{ VUF_REQ_GET_FEATURES, V, 0, 0 },
		{ VUF_REQ_GET_PROTOCOL_FEATURES, V, 0, 0 },
		{ VUF_REQ_SET_PROTOCOL_FEATURES, V | NR, 8, 0 },
		{ VUF_REQ_GET_MAX_MEM_SLOTS, V, 0, 0 },
		{ VUF_REQ_SET_OWNER, V | NR, 0, 0 },
		{ VUF_REQ_GET_FEATURES, V, 0, 0 },
		{ VUF_REQ_SET_VRING_CALL, V | NR, 8, 1 },
		{ VUF_REQ_SET_VRING_CALL, V | NR, 8, 1 },
		{ VUF_REQ_GET_CONFIG, V, 20, 0 },
		{ VUF_REQ_SET_FEATURES, V | NR, 8, 0 },
		{ VUF_REQ_ADD_MEM_REG, V | NR, 40, 1 },
		{ VUF_REQ_ADD_MEM_REG, V | NR, 40, 1 },
		{ VUF_REQ_ADD_MEM_REG, V | NR, 40, 1 },
		{ VUF_REQ_SET_VRING_NUM, V | NR, 8, 0 },
	};
	check_log(&b, 0, want, sizeof(want) / sizeof(want[0]));
	struct vuf_mem_region r2;

	memcpy(&r2, b.log[12].payload + 8, sizeof(r2));
	assert_int_equal(r2.mmap_offset, 2u << 20);
	assert_int_equal(r2.size, 1u << 20);
	assert_int_equal(r2.gpa, (1u << 20) + (2u << 20));
	assert_true(b.addr_ok);
	vuf_free(f);

	/* No REPLY_ACK offered: no acks asked, even for the memory table. */
	fake_defaults(&b);
	b.pfeatures = VUF_BIT(VUF_PF_CONFIG);
	o = (struct vuf_opts){ .queue_size = 16, .region_size = 1u << 20, .rx_bufs = 2,
			       .tx_slots = 1, .flags = VUF_O_ACK_ALL };
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), 0);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	for (unsigned int i = 0; i < b.nlog; i++)
		assert_int_equal(b.log[i].flags, V);
	assert_int_equal(b.log[3].req, VUF_REQ_SET_OWNER); /* no MQ: no GET_QUEUE_NUM */
	vuf_free(f);

	/* Without protocol features: no GET_PROTOCOL_FEATURES, no ENABLE... */
	fake_defaults(&b);
	b.features = VUF_BIT(VUF_F_VERSION_1);
	o.flags = VUF_O_NO_CONFIG_REQ;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), 0);
	assert_int_equal(vuf_node_id(f), 0);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	assert_int_equal(b.log[1].req, VUF_REQ_SET_OWNER);
	for (unsigned int i = 0; i < b.nlog; i++) {
		assert_int_not_equal(b.log[i].req, VUF_REQ_SET_VRING_ENABLE);
		assert_int_not_equal(b.log[i].req, VUF_REQ_GET_CONFIG);
	}
	vuf_free(f);
}

static void handshake_failures(void **state)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	struct vuf_opts o = { .queue_size = 16, .region_size = 1u << 20, .rx_bufs = 2,
			      .tx_slots = 1, .timeout_ms = 300 };
	struct vuf *f = NULL;
	struct timespec t0, t1;

	(void)state;
	/* CONFIG missing: refused, like QEMU does for a device with config. */
	fake_defaults(&b);
	b.pfeatures = VUF_BIT(VUF_PF_REPLY_ACK);
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), -EPROTO);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	assert_int_equal(b.nlog, 2);
	vuf_free(f);

	/* Not a virtio 1 device. */
	fake_defaults(&b);
	b.features = VUF_BIT(VUF_F_PROTOCOL_FEATURES);
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), -EPROTO);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	vuf_free(f);

	/* The memory table refused (non-zero ack). */
	fake_defaults(&b);
	b.nack_request = VUF_REQ_SET_MEM_TABLE;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), -EREMOTEIO);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	assert_int_equal(b.log[b.nlog - 1].req, VUF_REQ_SET_MEM_TABLE);
	vuf_free(f);

	/* A reply without the reply flag is not a reply. */
	fake_defaults(&b);
	b.reply_no_flag = true;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), -EPROTO);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	vuf_free(f);

	/* GET_CONFIG failing the specified way (size 0). */
	fake_defaults(&b);
	b.config_fails = true;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), -EREMOTEIO);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	vuf_free(f);

	/* A back-end that never answers: a time-out, on time. */
	fake_defaults(&b);
	b.silent_request = VUF_REQ_GET_CONFIG;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vuf_handshake(f), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;

	assert_true(ms >= 250 && ms < 2000);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	vuf_free(f);

	/* A back-end that hangs up mid-handshake. */
	fake_defaults(&b);
	b.close_on = VUF_REQ_SET_OWNER;
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), -ECONNRESET);
	assert_false(vuf_connected(f));
	fake_join(&b, NULL);
	assert_int_equal(vuf_handshake(f), -ENOTCONN);
	assert_int_equal(vuf_reconnect(f), -EDESTADDRREQ); /* no path to go back to */
	vuf_free(f);

	/* Nobody listening: vuf_connect retries until the time-out. */
	assert_int_equal(vuf_new(&f, &o), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(vuf_connect(f, "/tmp/vuf-test-nonexistent/sock"), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 2000);
	vuf_free(f);
}

static void raw_messages(void **state)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	struct vuf_opts o = { .queue_size = 16, .region_size = 1u << 20, .rx_bufs = 2,
			      .tx_slots = 1 };
	struct vuf *f = NULL;
	int efd = eventfd(0, EFD_CLOEXEC);
	int fds[2] = { efd, efd };
	struct vuf_msg_hdr h = { VUF_REQ_SET_VRING_NUM, 0x70000001, 8 };
	uint64_t feat = 0;

	(void)state;
	fake_defaults(&b);
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_send_raw(f, 99, "abc", 3, fds, 2), 0);
	assert_int_equal(vuf_send_raw_hdr(f, &h, "12345678", 8, NULL, 0), 0);
	assert_int_equal(vuf_call(f, VUF_REQ_GET_FEATURES, NULL, 0, &feat, sizeof(feat)), 8);
	assert_int_equal(feat, b.features);
	assert_int_equal(vuf_send_raw(f, VUF_REQ_GET_QUEUE_NUM, NULL, 0, NULL, 0), 0);
	struct vuf_msg_hdr rh;
	uint64_t v = 0;

	assert_int_equal(vuf_recv_raw(f, &rh, &v, sizeof(v), 1000), 8);
	assert_int_equal(rh.request, VUF_REQ_GET_QUEUE_NUM);
	assert_int_equal(rh.flags, VUF_MSG_VERSION | VUF_MSG_F_REPLY);
	assert_int_equal(v, 2);
	/* Half a header, then the back-end must notice the hang-up. */
	assert_int_equal(vuf_send_bytes(f, "\x01\x00\x00", 3, NULL, 0), 0);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	close(efd);
	assert_int_equal(b.nlog, 4);
	assert_int_equal(b.log[0].req, 99);
	assert_int_equal(b.log[0].size, 3);
	assert_int_equal(b.log[0].nfds, 2);
	assert_memory_equal(b.log[0].payload, "abc", 3);
	assert_int_equal(b.log[1].flags, 0x70000001);
	assert_int_equal(b.log[3].req, VUF_REQ_GET_QUEUE_NUM);
	assert_int_equal(vuf_send_raw(f, 1, NULL, 0, NULL, 0), -ENOTCONN);
	vuf_free(f);
}

/* Messages through the fake device, which reads and writes guest memory
 * through the mappings and addresses the handshake gave it. */
static void loopback(struct vuf_opts *o, uint16_t start)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	struct vuf *f = NULL;
	static uint8_t payload[VIRTIO_OM_MAX_PAYLOAD + 64], got[48 + VIRTIO_OM_MAX_PAYLOAD + 16];
	const struct {
		uint32_t len;
		unsigned int segs, chain;
	} shapes[] = {
		{ 0, 1, 0 },	{ 1, 1, 0 },	{ 100, 1, 0 },	 { 100, 7, 0 },
		{ 1000, 1, VUF_CHAIN_MERGED },	{ 4096, 64, 0 }, { 4096, 3, VUF_CHAIN_INDIRECT },
		{ VIRTIO_OM_MAX_PAYLOAD, 5, 0 }, { VIRTIO_OM_MAX_PAYLOAD, 64, VUF_CHAIN_INDIRECT },
	};

	fake_defaults(&b);
	b.loopback = true;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + (i >> 8));
	assert_int_equal(vuf_new(&f, o), 0);
	/* tx starts 3 ahead of rx: the queues' indexes are independent. */
	assert_int_equal(vuf_vq_set_start(f, VUF_RX, start), 0);
	assert_int_equal(vuf_vq_set_start(f, VUF_TX, (uint16_t)(start + 3)), 0);
	assert_int_equal(vuf_connect_fd(f, fake_start_pair(&b)), 0);
	assert_int_equal(vuf_handshake(f), 0);
	for (int round = 0; round < 5; round++) {
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			struct vuf_msg_opts mo = { .segs = shapes[s].segs, .chain = shapes[s].chain,
						   .src_pid = (uint32_t)s };
			struct virtio_om_hdr h;
			uint32_t len = shapes[s].len;

			/* payload + s: each shape carries other bytes. */
			assert_int_equal(vuf_send_msg(f, 7, VIRTIO_OM_T_TEST_DATA, payload + s, len, &mo), 0);
			int n = vuf_recv_msg(f, got, sizeof(got), -1);

			assert_int_equal(n, 48 + (int)len);
			memcpy(&h, got, sizeof(h));
			assert_int_equal(h.src_pid, s);
			assert_int_equal(h.len, (uint32_t)(n - 48));
			assert_memory_equal(got + 48, payload + s, (size_t)(n - 48));
		}
	}
	assert_int_equal(vuf_tx_flush(f, -1), 0);
	assert_int_equal(vuf_dev_stop(f), 0);
	/* GET_VRING_BASE: where the device left off. */
	unsigned int sent = 5 * (unsigned int)(sizeof(shapes) / sizeof(shapes[0]));

	assert_int_equal(vuf_vring_base(f, VUF_TX), (uint16_t)(start + 3 + sent));
	assert_int_equal(vuf_vring_base(f, VUF_RX), (uint16_t)(start + sent));
	/* Started again (a VM paused and continued): carries on from there. */
	assert_int_equal(vuf_dev_start(f), 0);
	assert_int_equal(vuf_send_msg(f, 7, VIRTIO_OM_T_TEST_DATA, "again", 5, NULL), 0);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), -1), 48 + 5);
	assert_memory_equal(got + 48, "again", 5);
	vuf_disconnect(f);
	fake_join(&b, NULL);
	assert_int_equal(b.relayed, sent + 1);
	/* The bases sent: the start indexes, then what GET_VRING_BASE said. */
	unsigned int nbase = 0;

	for (unsigned int i = 0; i < b.nlog; i++)
		if (b.log[i].req == VUF_REQ_SET_VRING_BASE) {
			struct vuf_vring_state st = log_state(&b.log[i]);
			uint16_t want = (uint16_t)(start + (st.index == VUF_TX ? 3 : 0) +
						   (nbase >= 2 ? sent : 0));

			assert_int_equal(st.num, want);
			nbase++;
		}
	assert_int_equal(nbase, 4);
	vuf_free(f);
}

static void loopback_one_region(void **state)
{
	struct vuf_opts o = { .queue_size = 128, .timeout_ms = 2000 };

	(void)state;
	loopback(&o, 0);
}

static void loopback_regions_segments_wrap(void **state)
{
	struct vuf_opts o = { .queue_size = 128, .nregions = 3, .region_size = 4u << 20,
			      .gpa_base = 0x10000000, .gpa_gap = 0x100000, .rx_bufs = 8,
			      .rx_segs = 5, .tx_slots = 4, .timeout_ms = 2000,
			      .flags = VUF_O_SHARED_MEMFD | VUF_O_ACK_ALL };

	(void)state;
	loopback(&o, 65500); /* the 45 messages cross 65535 */
}

/* A back-end lost and back: the same memory, SET_VRING_BASE from the used
 * index, chains posted meanwhile carried by the new back-end. */
static void reconnect_after_backend_crash(void **state)
{
	static struct fake b; /* outlives a failed test whose thread still runs */
	char dir[64];
	struct vuf_opts o = { .queue_size = 16, .region_size = 4u << 20, .rx_bufs = 8,
			      .tx_slots = 8, .timeout_ms = 2000 };
	struct vuf *f = NULL;
	uint8_t got[256];
	char text[32];

	(void)state;
	fake_defaults(&b);
	b.loopback = true;
	b.crash_after = 3;
	b.conns = 2;
	fake_start_listen(&b, dir, sizeof(dir));
	assert_int_equal(vuf_new(&f, &o), 0);
	assert_int_equal(vuf_connect(f, b.path), 0);
	assert_int_equal(vuf_handshake(f), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "before %d", i);
		assert_int_equal(vuf_send_msg(f, 7, VIRTIO_OM_T_TEST_DATA, text, 9, NULL), 0);
		assert_int_equal(vuf_recv_msg(f, got, sizeof(got), -1), 48 + 9);
		assert_memory_equal(got + 48, text, 9);
	}
	/* The fourth makes the back-end "crash" before relaying it. */
	assert_int_equal(vuf_send_msg(f, 7, VIRTIO_OM_T_TEST_DATA, "after 0..", 9, NULL), 0);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), -1), -ECONNRESET);
	assert_int_equal(vuf_wait_disconnect(f, 1000), 0);
	assert_false(vuf_connected(f));
	/* Sent while no back-end is there: they wait in the ring. */
	assert_int_equal(vuf_send_msg(f, 7, VIRTIO_OM_T_TEST_DATA, "after 1..", 9, NULL), 0);
	assert_int_equal(vuf_reconnect(f), 0);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), -1), 48 + 9);
	assert_memory_equal(got + 48, "after 0..", 9);
	assert_int_equal(vuf_recv_msg(f, got, sizeof(got), -1), 48 + 9);
	assert_memory_equal(got + 48, "after 1..", 9);
	struct virtio_om_hdr h;

	memcpy(&h, got, sizeof(h));
	assert_int_equal(h.seq, 5);
	assert_int_equal(vuf_vring_base(f, VUF_TX), 3);
	assert_int_equal(vuf_vring_base(f, VUF_RX), 3);
	vuf_disconnect(f);
	fake_join(&b, dir);
	/* The second handshake: same memory table, bases = used indexes. */
	unsigned int first = 0, mt[2] = { 0, 0 }, nmt = 0;

	for (unsigned int i = 0; i < b.nlog; i++) {
		if (b.log[i].req == VUF_REQ_SET_MEM_TABLE && nmt < 2)
			mt[nmt++] = i;
		if (b.log[i].conn == 1 && !first)
			first = i;
	}
	assert_int_equal(nmt, 2);
	assert_true(first > 0);
	assert_int_equal(b.log[first].req, VUF_REQ_GET_FEATURES);
	assert_memory_equal(b.log[mt[0]].payload, b.log[mt[1]].payload, sizeof(b.log[0].payload));
	for (unsigned int i = first; i < b.nlog; i++)
		if (b.log[i].req == VUF_REQ_SET_VRING_BASE)
			assert_int_equal(log_state(&b.log[i]).num, 3);
	assert_int_equal(b.relayed, 5);
	vuf_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memory_alloc_and_translate),
		cmocka_unit_test(ring_post_and_harvest),
		cmocka_unit_test(ring_full_and_reuse),
		cmocka_unit_test(ring_wraps_16_bit_indices),
		cmocka_unit_test(ring_indirect),
		cmocka_unit_test(ring_raw_access),
		cmocka_unit_test(ring_kick_and_wait),
		cmocka_unit_test(messages_through_rings),
		cmocka_unit_test(event_idx_driver_side),
		cmocka_unit_test(handshake_messages),
		cmocka_unit_test(handshake_messages_generic),
		cmocka_unit_test(handshake_variants),
		cmocka_unit_test(handshake_failures),
		cmocka_unit_test(raw_messages),
		cmocka_unit_test(loopback_one_region),
		cmocka_unit_test(loopback_regions_segments_wrap),
		cmocka_unit_test(reconnect_after_backend_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
