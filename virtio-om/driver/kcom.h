/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcom internals, shared by the files of the virtio-om driver:
 *
 *   core.c     the virtio driver: probe, remove, configuration
 *   msg.c      message rules: validation, byte order, duplicates (pure)
 *   buf.c      received messages (struct om_kcom_msg)
 *   tx.c       sending
 *   rx.c       receiving: rx buffers, checks, dispatch
 *   call.c     request/reply waits (om_kcom_call)
 *   handler.c  receivers of type ranges
 *   node.c     the node table, up/down events, notifiers
 *   port.c     /dev/om-kcom
 *   proc.c     /proc/hpc/nodes
 *
 * One device at a time: the API has no device argument, so the state lives
 * in one struct kcom, which outlives the device (node sequence numbers and
 * counters survive a remove and a new probe).
 *
 * Locks, and which may be taken with which held (never the other way):
 *   kcom.dev_lock (mutex): probe and remove; under it, node events reach
 *     the notifier chain and the ports (kcom_ports_lock).
 *   kcom_ports_lock (mutex): port bindings and the list of open files;
 *     under it, port->lock (spinlock): one file's receive queue.
 *   kcom_handlers_lock (mutex): the handler list, held while a handler
 *     runs; a handler may send (kcom.tx_lock).
 *   kcom.tx_lock (spinlock, irqsave): tx queue, backlog, nodes' tx_seq;
 *     under it, kcom_waiters_lock (spinlock, irqsave): om_kcom_call waits.
 *   kcom.rx_lock (spinlock, irqsave): rx queue and its buffer count; alone.
 * The receive worker (kcom.rx_work, ordered workqueue) is the only writer
 * of node states and rx_last while a device is bound; probe and remove
 * write them with the worker stopped. Counters are atomic64_t; a reader of
 * /proc sees each counter exact, the set not as one snapshot.
 */
#ifndef _VIRTIO_OM_KCOM_H
#define _VIRTIO_OM_KCOM_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/om_kcom.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/virtio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_om.h>

/* Why a message is refused (msg.c); KCOM_OK accepts it. */
enum kcom_verdict {
	KCOM_OK = 0,
	KCOM_SHORT,	/* the buffer holds less than header + len */
	KCOM_VERSION,	/* another protocol version */
	KCOM_TYPE,	/* unknown type */
	KCOM_SENDER,	/* a type its sender may not send (host/guest) */
	KCOM_FLAGS,	/* unknown flag bits */
	KCOM_RESERVED,	/* reserved field not zero */
	KCOM_LENGTH,	/* len against the type's rule or the limit */
	KCOM_REPLY,	/* F_REPLY without reply_to, or reply_to without it */
	KCOM_DEST,	/* destination: host, itself or out of range */
};

/* msg.c: the protocol's rules, free of device state (KUnit tests them). */
enum kcom_verdict kcom_check_rx(const struct virtio_om_hdr *w, size_t total,
				u32 max_payload);
enum kcom_verdict kcom_check_tx(const struct om_kcom_hdr *h, u32 self, u32 max_payload);
bool kcom_type_user_may_send(u16 type);
void kcom_hdr_decode(const struct virtio_om_hdr *w, struct om_kcom_hdr *h);
void kcom_hdr_encode(const struct om_kcom_hdr *h, struct virtio_om_hdr *w);
bool kcom_seq_accept(u64 *last, u64 seq);
const char *kcom_verdict_name(enum kcom_verdict v);

/*
 * A received message: the rx buffer it arrived in (header, then payload
 * pages), or a small message built by the driver (node events for ports),
 * whose payload sits in @data.
 */
struct om_kcom_msg {
	struct virtio_om_hdr wire; /* as received; first: the device writes it */
	struct om_kcom_hdr hdr;	   /* decoded, once the message is valid */
	struct list_head list;	   /* on a port's queue */
	u32 cap;		   /* payload bytes the buffer holds */
	void *data;		   /* payload of a built message, or NULL */
	unsigned int nr_pages;	   /* payload pages of an rx buffer */
	struct page *pages[];
};

/* buf.c */
struct om_kcom_msg *kcom_msg_alloc_rx(u32 cap, gfp_t gfp);
struct om_kcom_msg *kcom_msg_alloc_copy(const struct om_kcom_msg *src, gfp_t gfp);
struct om_kcom_msg *kcom_msg_build(const struct om_kcom_hdr *h, const void *payload,
				   gfp_t gfp);
unsigned int kcom_msg_rx_sg(struct om_kcom_msg *msg, struct scatterlist *sg,
			    unsigned int max);
size_t kcom_msg_to_iter(const struct om_kcom_msg *msg, struct iov_iter *to);
void kcom_rx_pool_drain(void);

/* The most sg entries of one rx buffer: the header and the payload pages. */
#define KCOM_RX_MAX_SG (1 + DIV_ROUND_UP(VIRTIO_OM_MAX_PAYLOAD, PAGE_SIZE))

enum kcom_node_state {
	KCOM_NODE_DOWN = 0,
	KCOM_NODE_UP = 1,
};

/* One node as this guest sees it. Index 0 (the host) holds no state. */
struct kcom_node {
	bool known;		/* seen in an event or traffic: listed in /proc */
	u8 state;		/* enum kcom_node_state; rx worker */
	u32 reason;		/* of the last event; rx worker */
	u64 tx_seq;		/* last seq sent to it; tx_lock */
	u64 rx_last;		/* last seq received from it; rx worker */
	atomic64_t tx_msgs, tx_bytes;
	atomic64_t rx_msgs, rx_bytes;
	atomic64_t rx_duplicates, rx_malformed;
};

/* Counters of this guest as a whole (/proc/hpc/nodes, last line). */
struct kcom_stats {
	atomic64_t tx_msgs, tx_bytes;
	atomic64_t rx_msgs, rx_bytes;	/* accepted messages, host's included */
	atomic64_t duplicates;		/* dropped: seq already received */
	atomic64_t malformed;		/* dropped: refused by kcom_check_rx */
	atomic64_t no_receiver;		/* dropped: no handler, waiter or port */
	atomic64_t overflow;		/* dropped: a port did not read in time */
	atomic64_t events_lost;		/* node events a port had no room for */
	atomic64_t pong_dropped;	/* pongs the tx backlog had no room for */
	atomic64_t rx_stalls;		/* times rx waited for a port to read */
	atomic64_t tx_late;		/* sent messages reclaimed with no interrupt for 1 s */
};

struct kcom {
	struct mutex dev_lock;		/* probe and remove */
	struct virtio_device *vdev;	/* dev_lock; READ_ONCE elsewhere */
	u32 self;			/* node id; READ_ONCE */
	u32 max_payload;		/* device limit; READ_ONCE */
	struct virtqueue *vqs[VIRTIO_OM_QUEUE_COUNT];	/* dev_lock */

	spinlock_t tx_lock;		/* the tx fields below, nodes' tx_seq */
	struct virtqueue *tx_vq;	/* NULL when no device */
	bool tx_indirect;		/* one descriptor per message */
	struct list_head tx_backlog;	/* driver replies waiting for room */
	unsigned int tx_backlog_len;
	wait_queue_head_t tx_wait;	/* senders waiting for room, poll */
	struct work_struct tx_work;	/* reclaims sent messages */
	struct delayed_work tx_check;	/* the same, a second after the ring was found full */

	spinlock_t rx_lock;		/* rx_vq, rx_posted */
	struct virtqueue *rx_vq;	/* NULL when no device */
	unsigned int rx_posted;		/* buffers in the rx queue */
	struct workqueue_struct *wq;	/* ordered: the receive worker */
	struct delayed_work rx_work;
	struct om_kcom_msg *rx_parked;	/* waits for its port to read */
	unsigned long rx_parked_at;	/* jiffies */

	struct kcom_node nodes[VIRTIO_OM_MAX_NODES + 1];
	struct kcom_stats stats;
};

extern struct kcom kcom;
extern unsigned int kcom_port_stall_ms;
extern unsigned int kcom_port_queue_bytes;
extern unsigned int kcom_rx_buffers;

/* tx.c */
struct kcom_waiter;
int kcom_out_prepare(const struct om_kcom_out *out, struct om_kcom_hdr *h,
		     struct iov_iter *iter);
int kcom_send(const struct om_kcom_hdr *h, struct iov_iter *copy,
	      const struct bio_vec *bvec, unsigned int nr_bvec, unsigned int flags,
	      struct kcom_waiter *w, u64 *seq);
void kcom_tx_pong(const struct om_kcom_msg *ping);
bool kcom_tx_writable(void);
void kcom_tx_done(struct virtqueue *vq);
void kcom_tx_start(struct virtqueue *vq, bool indirect);
void kcom_tx_stop(void);
void kcom_tx_drain(struct virtqueue *vq);
void kcom_tx_work(struct work_struct *work);
void kcom_tx_check(struct work_struct *work);

/* rx.c */
void kcom_rx_done(struct virtqueue *vq);
void kcom_rx_start(struct virtqueue *vq);
void kcom_rx_stop(void);
void kcom_rx_drain(struct virtqueue *vq);
void kcom_rx_kick(void);
void kcom_rx_work(struct work_struct *work);

/* call.c */
void kcom_call_arm(struct kcom_waiter *w, u32 node, u64 seq);
void kcom_call_disarm(struct kcom_waiter *w);
bool kcom_call_claim(struct om_kcom_msg *msg);
void kcom_call_abort_node(u32 node, int err);
void kcom_call_abort_all(int err);

/* handler.c */
bool kcom_handler_deliver(struct om_kcom_msg *msg);

/* node.c */
void kcom_nodes_reset(void);
void kcom_node_touch(u32 node);
void kcom_node_control(const struct om_kcom_msg *msg);
void kcom_nodes_all_down(u32 reason);
void kcom_notify(unsigned long event, u32 node, u32 reason);
u32 kcom_node_state(u32 node);

/* port.c */
enum kcom_delivery {
	KCOM_DELIVERED,	/* queued for its port */
	KCOM_NO_PORT,	/* nobody holds that port */
	KCOM_FULL,	/* the port's queue is full: park and retry */
	KCOM_DROPPED,	/* the port is full and may not stall rx any more */
};

enum kcom_delivery kcom_port_deliver(struct om_kcom_msg *msg, bool parked,
				     unsigned long parked_at, unsigned long *wait);
void kcom_port_event(const struct om_kcom_msg *msg);
int kcom_port_init(void);

/* proc.c */
int kcom_proc_init(void);

#endif /* _VIRTIO_OM_KCOM_H */
