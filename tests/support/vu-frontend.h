/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vu-frontend: a synthetic vhost-user front-end for virtio-om. It plays
 * QEMU (the vhost-user front-end) and the guest driver (a split-virtqueue
 * driver) against a vhost-user back-end socket such as omhostd's, with no
 * VM: for unit and integration tests, fuzzing and benchmarks of the
 * back-end.
 *
 * What it does:
 *  - guest memory: one or more memfd regions at chosen guest-physical
 *    addresses, a bump allocator in them, gpa <-> pointer translation;
 *  - the handshake in QEMU 7.2's order (vhost_user_backend_init,
 *    vhost_dev_init, the device's GET_CONFIG, then starting the rings as
 *    vhost-user-gpio does, the model of virtio-om's QEMU device; or as
 *    plain vhost_dev_start does), with REPLY_ACK acks where QEMU asks for
 *    them (or on every request);
 *  - the driver side of the two split virtqueues (rx 0, tx 1): post
 *    chains (direct or indirect), kick, harvest used entries, wait for
 *    calls with a time-out;
 *  - virtio-om messages: vuf_send_msg() / vuf_recv_msg();
 *  - raw access for hostile tests: the rings themselves, descriptors taken
 *    out of the driver's hands, arbitrary (malformed) vhost-user messages
 *    or bytes, disconnect and reconnect (re-handshake with the same memory
 *    and SET_VRING_BASE = the used index, as QEMU does after its back-end
 *    went away).
 *
 * Every function returns 0 (or a count) or -errno; nothing exits or prints
 * (except with VUF_O_DEBUG, to stderr). Every wait has a time-out.
 *
 * Limits: one device with the two virtio-om queues; split rings only (no
 * packed ring); little-endian host; no dirty logging, postcopy, inflight
 * tracking, IOMMU, slave channel or in-band notifications; EVENT_IDX only
 * when asked for in vuf_opts.features. Not thread-safe: one thread drives
 * one struct vuf. Between a back-end crash and the reconnect, chains the
 * old back-end had taken but not returned are offered again (QEMU without
 * inflight tracking does the same): a tx message may then be sent twice.
 */
#ifndef OM_TESTS_VU_FRONTEND_H
#define OM_TESTS_VU_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

/* vhost-user requests (docs/interop/vhost-user.rst). */
enum vuf_request {
	VUF_REQ_GET_FEATURES = 1,
	VUF_REQ_SET_FEATURES = 2,
	VUF_REQ_SET_OWNER = 3,
	VUF_REQ_RESET_OWNER = 4,
	VUF_REQ_SET_MEM_TABLE = 5,
	VUF_REQ_SET_VRING_NUM = 8,
	VUF_REQ_SET_VRING_ADDR = 9,
	VUF_REQ_SET_VRING_BASE = 10,
	VUF_REQ_GET_VRING_BASE = 11,
	VUF_REQ_SET_VRING_KICK = 12,
	VUF_REQ_SET_VRING_CALL = 13,
	VUF_REQ_SET_VRING_ERR = 14,
	VUF_REQ_GET_PROTOCOL_FEATURES = 15,
	VUF_REQ_SET_PROTOCOL_FEATURES = 16,
	VUF_REQ_GET_QUEUE_NUM = 17,
	VUF_REQ_SET_VRING_ENABLE = 18,
	VUF_REQ_GET_CONFIG = 24,
	VUF_REQ_SET_CONFIG = 25,
	VUF_REQ_GET_MAX_MEM_SLOTS = 36,
	VUF_REQ_ADD_MEM_REG = 37,
	VUF_REQ_REM_MEM_REG = 38,
};

/* Header flags. */
#define VUF_MSG_VERSION	     0x1u
#define VUF_MSG_F_REPLY	     0x4u
#define VUF_MSG_F_NEED_REPLY 0x8u

/* SET_VRING_KICK/CALL/ERR payload: queue index in bits 0-7, "no fd" bit 8. */
#define VUF_VRING_IDX_MASK 0xffu
#define VUF_VRING_NOFD	   0x100u

/* Feature bits (virtio and vhost-user). */
#define VUF_F_NOTIFY_ON_EMPTY	  24
#define VUF_F_INDIRECT_DESC	  28 /* VIRTIO_RING_F_INDIRECT_DESC */
#define VUF_F_EVENT_IDX		  29 /* VIRTIO_RING_F_EVENT_IDX */
#define VUF_F_PROTOCOL_FEATURES	  30 /* VHOST_USER_F_PROTOCOL_FEATURES */
#define VUF_F_VERSION_1		  32
#define VUF_F_LOG_ALL		  26 /* VHOST_F_LOG_ALL */

/* Protocol feature bits. */
#define VUF_PF_MQ		   0
#define VUF_PF_LOG_SHMFD	   1
#define VUF_PF_REPLY_ACK	   3
#define VUF_PF_SLAVE_REQ	   5
#define VUF_PF_CONFIG		   9
#define VUF_PF_CONFIGURE_MEM_SLOTS 15

#define VUF_BIT(n) (1ull << (n))

/* Wire structures, as the specification lays them out (packed by design). */
struct vuf_msg_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes after the header */
};

struct vuf_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vuf_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_uva;
	uint64_t used_uva;
	uint64_t avail_uva;
	uint64_t log_gpa;
};

struct vuf_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
};

#define VUF_MAX_REGIONS 8 /* fds per SET_MEM_TABLE, like QEMU's baseline */

struct vuf_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vuf_mem_region regions[VUF_MAX_REGIONS];
};

struct vuf_config_msg {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[256];
};

#define VUF_CONFIG_HDR_SIZE 12u

/* Queues. */
#define VUF_RX 0u
#define VUF_TX 1u
#define VUF_NQUEUES 2u

/* The most payload segments a message can be split into. */
#define VUF_MAX_SEGS 64u

/* vuf_opts.flags */
#define VUF_O_ACK_ALL	     0x01u /* NEED_REPLY on every request without a reply (needs REPLY_ACK) */
#define VUF_O_MANUAL_RX	     0x02u /* the handshake does not stock rx: the test calls vuf_rx_fill */
#define VUF_O_SHARED_MEMFD   0x04u /* all regions in one memfd, at mmap offsets i * region_size */
#define VUF_O_DEBUG	     0x08u /* trace messages on stderr */
#define VUF_O_NO_CONFIG_REQ  0x10u /* do not require the CONFIG protocol feature */
/*
 * Start and stop the rings as vhost_dev_start/stop(vrings = true) without
 * guest-notifier masking: per queue NUM, BASE, ADDR, KICK, CALL, then
 * ENABLE; stop = ENABLE 0, GET_VRING_BASE. Default, vhost-user-gpio's
 * way: NUM, BASE, ADDR, KICK per queue, then CALL for each, then ENABLE;
 * stop = GET_VRING_BASE only.
 */
#define VUF_O_VHOST_GENERIC  0x20u

struct vuf_opts {
	unsigned int nregions;	    /* guest memory regions, 1..VUF_MAX_REGIONS; 0: 1 */
	uint64_t region_size;	    /* bytes per region, page multiple; 0: 16 MiB */
	uint64_t gpa_base;	    /* guest-physical address of region 0; 0: 1 MiB */
	uint64_t gpa_gap;	    /* hole between regions; 0: none (adjacent) */
	uint16_t queue_size;	    /* power of two, 2..32768; 0: 256 */
	uint64_t features;	    /* ring features to take if offered; 0: INDIRECT_DESC */
	uint64_t protocol_features; /* to take if offered; 0: MQ | REPLY_ACK | CONFIG */
	unsigned int flags;	    /* VUF_O_* */
	int timeout_ms;		    /* every wait; 0: 2000 */
	unsigned int rx_bufs;	    /* rx buffers; 0: min(64, queue_size) */
	uint32_t rx_buf_size;	    /* bytes per rx buffer; 0: 48 + 64 KiB */
	unsigned int rx_segs;	    /* descriptors per rx buffer, 1..VUF_MAX_SEGS; 0: 1 */
	unsigned int tx_slots;	    /* tx messages in flight (copy buffers); 0: min(32, queue_size) */
};

struct vuf;

/* Life cycle. vuf_new sets up memory and rings without connecting. */
int vuf_new(struct vuf **out, const struct vuf_opts *opts);
void vuf_free(struct vuf *f);

/* Connects to a back-end's socket, retrying until the time-out while it is absent. */
int vuf_connect(struct vuf *f, const char *path);
/* Adopts a connected stream socket (a socketpair in tests). */
int vuf_connect_fd(struct vuf *f, int fd);
/* Closes the connection without a word, like a QEMU that died; memory and rings stay. */
void vuf_disconnect(struct vuf *f);
bool vuf_connected(const struct vuf *f);
int vuf_socket(const struct vuf *f);

/*
 * The whole handshake (init, GET_CONFIG, start), then stocks rx (unless
 * VUF_O_MANUAL_RX) and kicks both queues.
 */
int vuf_handshake(struct vuf *f);
/*
 * Parts of it: what starting and stopping the device send (a guest driver
 * reset, a VM paused and continued). The bases GET_VRING_BASE returns are
 * sent back by the next start.
 */
int vuf_dev_start(struct vuf *f);
int vuf_dev_stop(struct vuf *f);
/* Connect (same path, or after vuf_connect_fd: fails) and handshake again. */
int vuf_reconnect(struct vuf *f);

/* Negotiated state. */
uint64_t vuf_features(const struct vuf *f);
uint64_t vuf_protocol_features(const struct vuf *f);
uint64_t vuf_offered_features(const struct vuf *f);
uint64_t vuf_offered_protocol_features(const struct vuf *f);
uint32_t vuf_node_id(const struct vuf *f);
uint32_t vuf_max_payload(const struct vuf *f);
/* The base last sent in SET_VRING_BASE, or got from GET_VRING_BASE. */
uint16_t vuf_vring_base(const struct vuf *f, unsigned int q);

/* Guest memory. */
int vuf_region(const struct vuf *f, unsigned int i, uint64_t *gpa, uint64_t *size, void **ptr);
/*
 * The memfd behind region i (still ours: do not close it) and where in it
 * the region starts: for hostile memory tables. -EINVAL for no region i.
 */
int vuf_region_fd(const struct vuf *f, unsigned int i, uint64_t *mmap_offset);
/* Bump allocation, in the first region with room; NULL when none has. */
void *vuf_alloc(struct vuf *f, size_t size, size_t align, uint64_t *gpa);
void *vuf_alloc_in(struct vuf *f, unsigned int region, size_t size, size_t align, uint64_t *gpa);
/* NULL unless [gpa, gpa + len) lies in one region. */
void *vuf_gpa_to_ptr(const struct vuf *f, uint64_t gpa, uint64_t len);
/* 0 and *gpa, or -EFAULT for a pointer outside guest memory. */
int vuf_ptr_to_gpa(const struct vuf *f, const void *p, uint64_t *gpa);

/* ---- The virtqueue driver ---- */

struct vuf_sg {
	uint64_t gpa;
	uint32_t len;
};

struct vuf_used_elem {
	uint32_t id;	 /* as the device wrote it */
	uint32_t len;	 /* as the device wrote it */
	uintptr_t token; /* the token given to vuf_vq_add, if known */
	bool known;	 /* id names a chain the driver has out */
};

/*
 * Publishes one chain: nout device-readable segments, then nin writable.
 * With indirect_gpa != 0 the chain is one descriptor pointing to a table
 * written at indirect_gpa ((nout + nin) * 16 bytes in guest memory).
 * Returns the head id, or -ENOSPC when the ring lacks descriptors. Does not
 * kick.
 */
int vuf_vq_add(struct vuf *f, unsigned int q, const struct vuf_sg *out, unsigned int nout,
	       const struct vuf_sg *in, unsigned int nin, uint64_t indirect_gpa, uintptr_t token);
/* Writes the kick eventfd. vuf_vq_notify does it unless the device said not to. */
int vuf_vq_kick(struct vuf *f, unsigned int q);
int vuf_vq_notify(struct vuf *f, unsigned int q);
/* Takes up to max used entries; returns how many. Freed chains return to the driver. */
int vuf_vq_harvest(struct vuf *f, unsigned int q, struct vuf_used_elem *out, unsigned int max);
/*
 * 0 once the used ring has entries not harvested; -ETIMEDOUT; -ECONNRESET
 * if the back-end left; -EPROTO if it sent a message nobody asked for
 * (read and dropped).
 */
int vuf_vq_wait(struct vuf *f, unsigned int q, int timeout_ms);
/* Chains out (published, not yet harvested), and free descriptors. */
unsigned int vuf_vq_inflight(const struct vuf *f, unsigned int q);
unsigned int vuf_vq_free_descs(const struct vuf *f, unsigned int q);

/* Raw access, for hostile tests and for tests that play the device. */
struct vuf_vq_view {
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail; /* ring[num], then used_event */
	struct vring_used *used;   /* ring[num], then avail_event */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd, call_fd;
	uint16_t avail_idx; /* the driver's next avail index */
	uint16_t last_used; /* the next used entry it will harvest */
};
int vuf_vq_view(const struct vuf *f, unsigned int q, struct vuf_vq_view *v);
/* Takes n descriptors from the driver for the caller to write as it likes. */
int vuf_vq_reserve(struct vuf *f, unsigned int q, unsigned int n, uint16_t *ids);
/* Puts any head value in the avail ring and publishes it (no tracking). */
int vuf_vq_publish_raw(struct vuf *f, unsigned int q, uint16_t head);
/* Sets the driver's avail index and avail->idx (e.g. far beyond the ring). */
int vuf_vq_set_avail_idx(struct vuf *f, unsigned int q, uint16_t idx);
/*
 * Before the first start: every index of the queue (avail, used, the
 * base) begins at idx instead of 0, to test 16-bit wrap-around soon.
 */
int vuf_vq_set_start(struct vuf *f, unsigned int q, uint16_t idx);

/* ---- virtio-om messages ---- */

/* vuf_msg_opts.chain */
#define VUF_CHAIN_MERGED   0x1u /* header and payload in one descriptor */
#define VUF_CHAIN_INDIRECT 0x2u /* the chain as one indirect table */

struct vuf_msg_opts {
	uint32_t flags;	   /* header flags (VIRTIO_OM_F_*) */
	uint32_t src_pid, dst_pid;
	uint64_t seq;	   /* 0: the next of this destination's sequence */
	uint64_t reply_to;
	unsigned int segs; /* payload descriptors, 1..VUF_MAX_SEGS; 0: 1 */
	unsigned int chain; /* VUF_CHAIN_* */
};

/* Posts every rx buffer not out yet, and kicks rx. */
int vuf_rx_fill(struct vuf *f);

/*
 * Sends one message: header (little-endian, src_node = our node) and
 * payload copied into guest memory, published on tx and kicked. Waits (up
 * to the time-out) for a free tx slot, never for delivery.
 */
int vuf_send_msg(struct vuf *f, uint32_t dst_node, uint16_t type, const void *payload, uint32_t len,
		 const struct vuf_msg_opts *o);
/* The same with a header taken as is (any field, any len), 48 bytes at hdr. */
int vuf_send_hdr(struct vuf *f, const void *hdr, const void *payload, uint32_t len,
		 const struct vuf_msg_opts *o);
/* Waits until the device returned every tx chain. */
int vuf_tx_flush(struct vuf *f, int timeout_ms);

/*
 * Receives one message: copies min(cap, length) bytes (header first) into
 * buf, re-posts the buffer and kicks rx. Returns the length the device
 * reported; -ETIMEDOUT; -EPROTO for a used entry that names no rx buffer
 * or a length beyond the buffer.
 */
int vuf_recv_msg(struct vuf *f, void *buf, size_t cap, int timeout_ms);

/* ---- Raw vhost-user ---- */

/* One message: header {request, VERSION, size} then size bytes; fds ride with it. */
int vuf_send_raw(struct vuf *f, uint32_t request, const void *payload, uint32_t size,
		 const int *fds, unsigned int nfds);
/* A header as given (any flags, any size) followed by len bytes. */
int vuf_send_raw_hdr(struct vuf *f, const struct vuf_msg_hdr *hdr, const void *payload, size_t len,
		     const int *fds, unsigned int nfds);
/* Any bytes (a cut header, garbage). */
int vuf_send_bytes(struct vuf *f, const void *buf, size_t len, const int *fds, unsigned int nfds);
/* Reads one message; returns the payload size (up to cap copied). Received fds are closed. */
int vuf_recv_raw(struct vuf *f, struct vuf_msg_hdr *hdr, void *payload, size_t cap, int timeout_ms);
/*
 * A request that expects a reply of the same request code: returns the
 * reply's payload size (up to cap copied into reply).
 */
int vuf_call(struct vuf *f, uint32_t request, const void *payload, uint32_t size, void *reply,
	     size_t cap);
/* 0 once the back-end closed the connection (e.g. evicted us); -ETIMEDOUT. */
int vuf_wait_disconnect(struct vuf *f, int timeout_ms);

#endif /* OM_TESTS_VU_FRONTEND_H */
