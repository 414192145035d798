// SPDX-License-Identifier: GPL-2.0-only
#include "relay-rtt.h"

#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/virtio_om.h>

#include "vu-frontend.h"

#define RTT_WARM_UP 200u    /* round trips not timed: caches, page faults, EVENT_IDX state */
#define RTT_WAIT_MS 5000

struct rtt_echo {
	struct vuf *f;
	uint32_t size;
	unsigned int n;
	int err;
	char why[128];
};

static int64_t rtt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct vuf *rtt_frontend(const char *dir, uint32_t node, int *err)
{
	struct vuf_opts vo = { .queue_size = 256,
			       .features = VUF_BIT(VUF_F_INDIRECT_DESC) | VUF_BIT(VUF_F_EVENT_IDX),
			       .timeout_ms = RTT_WAIT_MS, .rx_bufs = 16, .tx_slots = 4 };
	char path[128];
	struct vuf *f = NULL;

	snprintf(path, sizeof(path), "%s/node-%u.sock", dir, node);
	*err = vuf_new(&f, &vo);
	if (!*err)
		*err = vuf_connect(f, path);
	if (!*err)
		*err = vuf_handshake(f);
	if (*err) {
		vuf_free(f);
		return NULL;
	}
	return f;
}

/*
 * The next data message at f (NODE_UP and the like skipped), from node
 * from, size bytes, numbered i: 0 or -errno, what was wrong in why.
 */
static int rtt_recv(struct vuf *f, uint8_t *buf, size_t cap, uint32_t from, uint32_t size,
		    uint64_t i, char *why, size_t whylen)
{
	for (;;) {
		struct virtio_om_hdr h;
		uint64_t got;
		int n = vuf_recv_msg(f, buf, cap, RTT_WAIT_MS);

		if (n < 0) {
			snprintf(why, whylen, "receive: %s", strerror(-n));
			return n;
		}
		memcpy(&h, buf, sizeof(h));
		if (le32toh(h.src_node) == VIRTIO_OM_NODE_HOST)
			continue;
		memcpy(&got, buf + VIRTIO_OM_HDR_SIZE, sizeof(got));
		if (le32toh(h.src_node) != from || le32toh(h.len) != size ||
		    (size_t)n != VIRTIO_OM_HDR_SIZE + size || le64toh(got) != i) {
			snprintf(why, whylen, "message %llu: from %u, %u bytes, numbered %llu",
				 (unsigned long long)i, le32toh(h.src_node), le32toh(h.len),
				 (unsigned long long)le64toh(got));
			return -EPROTO;
		}
		return 0;
	}
}

/* Node 2: sends back what comes, as it comes. */
static void *rtt_echo_main(void *arg)
{
	struct rtt_echo *e = arg;
	size_t cap = VIRTIO_OM_HDR_SIZE + e->size;
	uint8_t *buf = malloc(cap);

	for (uint64_t i = 1; buf && i <= e->n && !e->err; i++) {
		e->err = rtt_recv(e->f, buf, cap, 1, e->size, i, e->why, sizeof(e->why));
		if (!e->err)
			e->err = vuf_send_msg(e->f, 1, VIRTIO_OM_T_TEST_DATA, buf + VIRTIO_OM_HDR_SIZE,
					      e->size, NULL);
	}
	if (!buf)
		e->err = -ENOMEM;
	free(buf);
	return NULL;
}

static int rtt_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int relay_rtt_run(const char *dir, uint32_t size, unsigned int n, struct relay_rtt *out,
		  char *err, size_t errlen)
{
	struct rtt_echo e = { .size = size < 8 ? 8 : size, .n = n + RTT_WARM_UP };
	size_t cap = VIRTIO_OM_HDR_SIZE + e.size;
	double *us = calloc(n ? n : 1, sizeof(*us));
	uint8_t *buf = malloc(cap), *p = calloc(1, e.size);
	struct vuf *f1 = NULL;
	pthread_t t;
	int r = 0;

	if (!us || !buf || !p || !n) {
		r = -EINVAL;
		snprintf(err, errlen, "no memory, or no round trip asked for");
		goto out;
	}
	e.f = rtt_frontend(dir, 2, &r);
	if (e.f)
		f1 = rtt_frontend(dir, 1, &r);
	if (!f1) {
		snprintf(err, errlen, "front-end: %s", strerror(-r));
		goto out;
	}
	if (pthread_create(&t, NULL, rtt_echo_main, &e)) {
		r = -EAGAIN;
		snprintf(err, errlen, "pthread_create failed");
		goto out;
	}
	for (uint64_t i = 1; i <= e.n && !r; i++) {
		uint64_t le = htole64(i);
		int64_t t0;

		memcpy(p, &le, sizeof(le));
		t0 = rtt_now_ns();
		r = vuf_send_msg(f1, 2, VIRTIO_OM_T_TEST_DATA, p, e.size, NULL);
		if (r) {
			snprintf(err, errlen, "send: %s", strerror(-r));
			break;
		}
		r = rtt_recv(f1, buf, cap, 2, e.size, i, err, errlen);
		if (!r && i > RTT_WARM_UP)
			us[i - RTT_WARM_UP - 1] = (double)(rtt_now_ns() - t0) / 1000.0;
	}
	pthread_join(t, NULL); /* after a failure here, it ends at its wait's time-out */
	if (!r && e.err) {
		r = e.err;
		snprintf(err, errlen, "node 2: %s", e.why[0] ? e.why : strerror(-r));
	}
	if (!r) {
		qsort(us, n, sizeof(*us), rtt_cmp);
		*out = (struct relay_rtt){ .n = n, .median_us = us[n / 2],
					   .p99_us = us[(size_t)n * 99 / 100], .min_us = us[0] };
	}
out:
	vuf_free(f1);
	vuf_free(e.f);
	free(us);
	free(buf);
	free(p);
	return r;
}
