// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: what a guest writes into its rings, against omhostd's
 * relay (tests/support/relay-harness). The input is node 1's tx
 * descriptor table, its avail ring and its memory; optionally node 2's rx
 * ring too. Whatever it is, omhostd must neither crash nor leak, and a
 * node it did not evict must still relay a well-formed message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay-harness.h"

enum { FZ_NUM = 16, FZ_DESC = FZ_NUM * 16, FZ_AVAIL = 4 + 2 * FZ_NUM };

static void fz_copy(void *dst, size_t cap, const uint8_t **p, size_t *left)
{
	size_t n = *left < cap ? *left : cap;

	memcpy(dst, *p, n);
	*p += n;
	*left -= n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rh h;
	const uint8_t *p = data;
	size_t left = size;
	uint8_t mode = 0;
	struct om_msg_hdr hdr;
	unsigned char buf[128];

	if (rh_init(&h, 3, FZ_NUM))
		abort();
	for (uint32_t n = 1; n <= 3; n++)
		for (int i = 0; i < 4; i++)
			rh_post_rx(&h, n, VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD);
	fz_copy(&mode, 1, &p, &left);
	fz_copy(h.g[1].desc[VIRTIO_OM_QUEUE_TX], FZ_DESC, &p, &left);
	fz_copy(h.g[1].avail[VIRTIO_OM_QUEUE_TX], FZ_AVAIL, &p, &left);
	if (mode & 1) /* node 2's rx ring is hostile too */
		fz_copy(h.g[2].desc[VIRTIO_OM_QUEUE_RX], FZ_DESC, &p, &left);
	if (mode & 2)
		fz_copy(h.g[2].avail[VIRTIO_OM_QUEUE_RX], FZ_AVAIL, &p, &left);
	fz_copy(h.g[1].mem + RH_DATA_START, RH_MEM_SIZE - RH_DATA_START, &p, &left);
	for (int round = 0; round < 3; round++)
		rh_run(&h);
	/* Node 3 was never hostile: it must still be able to talk to node 1 or 2. */
	if (rh_node(&h, 3)->state != OM_NODE_UP)
		abort();
	for (uint32_t to = 1; to <= 2; to++) {
		if (rh_node(&h, to)->state != OM_NODE_UP)
			continue;
		hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, to, 4);
		rh_post_rx(&h, to, VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD);
		rh_send(&h, 3, &hdr, "abcd", 1);
	}
	rh_run(&h);
	while (rh_recv(&h, 2, buf, sizeof(buf)))
		;
	rh_free(&h);
	return 0;
}
