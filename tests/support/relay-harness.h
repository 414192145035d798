/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omhostd's relay with its guests simulated in-process: each node's
 * "guest memory" is an anonymous mapping holding its two split rings and
 * its buffers, wired into libvhost-user's VuDev as QEMU's handshake would
 * leave it. No sockets, no threads: a test (or the fuzzer) writes rings,
 * runs the relay, and reads what it did. For hostile-ring tests and
 * fuzzing; the socket-level path is covered with tests/support/vu-frontend.
 */
#ifndef OM_TESTS_RELAY_HARNESS_H
#define OM_TESTS_RELAY_HARNESS_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "omhostd.h"

#define RH_MAX_NODES 3
#define RH_MEM_SIZE (1u << 20)
#define RH_DATA_START 0x8000u /* below: the rings, 16 KiB per queue */

struct rh_guest {
	unsigned char *mem; /* guest-physical 0 .. RH_MEM_SIZE */
	bool gone;	    /* evicted: the relay unmapped its memory */
	uint16_t num;
	struct vring_desc *desc[VIRTIO_OM_QUEUE_COUNT];
	struct vring_avail *avail[VIRTIO_OM_QUEUE_COUNT];
	struct vring_used *used[VIRTIO_OM_QUEUE_COUNT];
	uint16_t next_desc[VIRTIO_OM_QUEUE_COUNT]; /* simple allocator: descriptors in turn */
	uint16_t used_seen[VIRTIO_OM_QUEUE_COUNT];
	size_t bump; /* next free byte of the data area */
};

struct rh {
	struct om_hostd d;
	struct rh_guest g[RH_MAX_NODES + 1]; /* by node id, 1.. */
	unsigned int n_nodes;
};

/* Nodes 1..n_nodes, up, rings of num entries; 0 or -errno. */
int rh_init(struct rh *h, unsigned int n_nodes, uint16_t num);
void rh_free(struct rh *h);

struct om_node *rh_node(struct rh *h, uint32_t id);

/* A buffer of len bytes in node's data area: its guest-physical address. */
uint64_t rh_alloc(struct rh *h, uint32_t node, size_t len);
void *rh_ptr(struct rh *h, uint32_t node, uint64_t gpa);

/* Writes descriptor i of queue q (raw: any values) and makes head available. */
void rh_set_desc(struct rh *h, uint32_t node, unsigned int q, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next);
void rh_make_avail(struct rh *h, uint32_t node, unsigned int q, uint16_t head);

/* Well-behaved driver: posts one rx buffer of len bytes. */
void rh_post_rx(struct rh *h, uint32_t node, size_t len);
/* Sends hdr + payload, the payload split in segs pieces (>= 1). */
void rh_send(struct rh *h, uint32_t node, const struct om_msg_hdr *hdr, const void *payload,
	     unsigned int segs);
/* A header ready to send: version, type, destination, len. */
struct om_msg_hdr rh_hdr(uint16_t type, uint32_t dst, uint32_t len);

/* Lets the relay work as the kicks would: tx of every node, then rx, until nothing is left to do. */
void rh_run(struct rh *h);

/*
 * The next message written into node's rx ring, copied into buf (cap
 * bytes): its length, or 0 when there is none.
 */
size_t rh_recv(struct rh *h, uint32_t node, void *buf, size_t cap);
/*
 * The next message at node, its header decoded into hdr and its payload
 * (up to cap bytes) into p: false when there is none or it is not a
 * whole message (fewer bytes than its header says).
 */
bool rh_recv_msg(struct rh *h, uint32_t node, struct om_msg_hdr *hdr, void *p, size_t cap);
/* How many tx elements of node the relay has returned (used) so far. */
uint16_t rh_tx_used(struct rh *h, uint32_t node);

#endif /* OM_TESTS_RELAY_HARNESS_H */
