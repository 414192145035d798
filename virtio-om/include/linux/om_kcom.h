/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kcom: the omvm engine's message transport, carried by the virtio-om
 * device (drivers/virtio/om). Messages are those of <linux/virtio_om.h>; the
 * driver validates what it receives, drops duplicates, answers pings and
 * tracks which nodes are up. docs/virtio-om-device.md, "Guest driver",
 * describes it.
 *
 * Context: every function here may sleep unless said otherwise; none may be
 * called from a handler's or notifier's callback in a way that waits for
 * rx (see struct om_kcom_handler).
 */
#ifndef _LINUX_OM_KCOM_H
#define _LINUX_OM_KCOM_H

#include <linux/bits.h>
#include <linux/bvec.h>
#include <linux/list.h>
#include <linux/notifier.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <uapi/linux/om_kcom.h>
#include <uapi/linux/virtio_om.h>

/**
 * struct om_kcom_hdr - a message header, in CPU byte order
 * @type: enum virtio_om_type
 * @flags: VIRTIO_OM_F_*
 * @src_node: the sender's node, as stamped by the host
 * @dst_node: the destination node
 * @src_pid: the sending process's home pid, 0 for none
 * @dst_pid: the receiving process's home pid, 0 for none
 * @seq: the sender's sequence number for this (source, destination) pair
 * @reply_to: with VIRTIO_OM_F_REPLY, the seq of the request answered
 * @len: payload bytes
 */
struct om_kcom_hdr {
	u16 type;
	u32 flags;
	u32 src_node;
	u32 dst_node;
	u32 src_pid;
	u32 dst_pid;
	u64 seq;
	u64 reply_to;
	u32 len;
};

/**
 * struct om_kcom_out - a message to send
 * @dst_node: destination, 1..VIRTIO_OM_MAX_NODES, not this node
 * @type: a type the protocol table lets guests send
 * @flags: VIRTIO_OM_F_*; VIRTIO_OM_F_REPLY if and only if @reply_to is set
 * @reply_to: the seq of the request this answers, else 0
 * @src_pid: the sending process's home pid, 0 for none
 * @dst_pid: the receiving process's home pid, 0 for none
 * @kvec: payload from kernel memory, copied at send time
 * @nr_kvec: entries in @kvec
 * @bvec: payload pages, sent in place after the @kvec bytes: the driver
 *	holds a reference on each page until the device has taken the
 *	message, and the caller must not change their content meanwhile
 * @nr_bvec: entries in @bvec, at most %OM_KCOM_MAX_BVEC
 *
 * The payload is the @kvec bytes followed by the @bvec bytes; its length must
 * fit the type's rule and the device's max_payload.
 */
struct om_kcom_out {
	u32 dst_node;
	u16 type;
	u32 flags;
	u64 reply_to;
	u32 src_pid;
	u32 dst_pid;
	const struct kvec *kvec;
	unsigned int nr_kvec;
	const struct bio_vec *bvec;
	unsigned int nr_bvec;
};

#define OM_KCOM_MAX_BVEC 32

/* Sending flags. Without either, a sender waits interruptibly for room. */
#define OM_KCOM_NONBLOCK BIT(0) /* -EAGAIN instead of waiting for room */
#define OM_KCOM_KILLABLE BIT(1) /* wait, but only a fatal signal interrupts */
/*
 * om_kcom_call(): once sent, wait for the reply whatever signal comes (up to
 * the time-out): the request has effects its sender must learn of.
 */
#define OM_KCOM_SURE_REPLY BIT(2)

/**
 * om_kcom_send() - send one message
 * @out: the message
 * @flags: OM_KCOM_NONBLOCK or OM_KCOM_KILLABLE, or 0
 * @seq: where to store the message's seq (may be NULL)
 *
 * The driver fills the version, seq (per destination, from 1, +1 each
 * message, in ring order) and src_node. When the transmit queue is full the
 * caller sleeps until there is room. Returns once the device has the
 * message, not when it is delivered.
 *
 * Return: 0; -EINVAL for a message the protocol refuses; -ENODEV without a
 * device; -ENOTCONN while this node has no id; -EAGAIN with
 * OM_KCOM_NONBLOCK; -ERESTARTSYS on a signal (a fatal one only with
 * OM_KCOM_KILLABLE); -ENOMEM; -EMSGSIZE when the message can never fit the
 * queue.
 */
int om_kcom_send(const struct om_kcom_out *out, unsigned int flags, u64 *seq);

struct om_kcom_msg;

/**
 * om_kcom_call() - send a request and wait for its reply
 * @req: the request (VIRTIO_OM_F_REPLY not set)
 * @flags: as for om_kcom_send(); OM_KCOM_KILLABLE also applies to the wait,
 *	unless OM_KCOM_SURE_REPLY makes it uninterruptible
 * @timeout: in jiffies, or MAX_SCHEDULE_TIMEOUT
 * @reply: on success, the reply: a message from @req->dst_node with
 *	VIRTIO_OM_F_REPLY and reply_to equal to the request's seq. The caller
 *	owns it and frees it with om_kcom_msg_free().
 *
 * The reply goes to the caller whatever its type and dst_pid, before any
 * handler or port sees it.
 *
 * Return: 0, an error of om_kcom_send(), -ETIMEDOUT, -EINTR on a signal,
 * -EHOSTDOWN when the destination went down, -ENODEV when the device went
 * away.
 */
int om_kcom_call(const struct om_kcom_out *req, unsigned int flags, long timeout,
		 struct om_kcom_msg **reply);

/**
 * om_kcom_msg_hdr() - a received message's header
 * @msg: the message
 *
 * Return: the header, valid until the message is freed.
 */
const struct om_kcom_hdr *om_kcom_msg_hdr(const struct om_kcom_msg *msg);

/**
 * om_kcom_msg_copy() - copy part of a received message's payload
 * @msg: the message
 * @offset: first payload byte to copy
 * @buf: destination
 * @len: bytes wanted
 *
 * Context: any.
 * Return: the bytes copied, less than @len when the payload ends first.
 */
size_t om_kcom_msg_copy(const struct om_kcom_msg *msg, size_t offset, void *buf, size_t len);

struct iov_iter;

/**
 * om_kcom_msg_copy_iter() - copy part of a message's payload to an iterator
 * @msg: the message
 * @offset: first payload byte to copy
 * @len: bytes wanted
 * @to: destination: user memory, or pages (no bounce buffer between)
 *
 * Context: process context if @to is user memory (it may fault).
 * Return: the bytes copied: less than @len when the payload ends first or
 * @to faults.
 */
size_t om_kcom_msg_copy_iter(const struct om_kcom_msg *msg, size_t offset, size_t len,
			     struct iov_iter *to);

/**
 * om_kcom_msg_free() - free a received message
 * @msg: the message, or NULL
 *
 * Context: any.
 */
void om_kcom_msg_free(struct om_kcom_msg *msg);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * om_kcom_msg_build() - a message as if it had been received, for tests
 * @h: its header (not checked: tests feed malformed messages too)
 * @payload: @h->len bytes
 * @gfp: allocation flags
 *
 * Return: the message, freed with om_kcom_msg_free(), or NULL.
 */
struct om_kcom_msg *om_kcom_msg_build(const struct om_kcom_hdr *h, const void *payload,
				      gfp_t gfp);
#endif

/**
 * struct om_kcom_handler - receiver of a range of message types
 * @first: first type of the range
 * @last: last type of the range (inclusive)
 * @recv: called for each valid, non-duplicate message of the range that is
 *	not a reply claimed by om_kcom_call(); it owns @msg and frees it with
 *	om_kcom_msg_free()
 * @list: private to the driver
 *
 * @recv runs in process context, on the driver's receive worker, one
 * message at a time, in arrival order. It must not sleep for long: while it
 * runs no message is received. It may send with OM_KCOM_NONBLOCK or hand
 * the message to its own work; it must not call om_kcom_call(), nor
 * (un)register handlers.
 */
struct om_kcom_handler {
	u16 first;
	u16 last;
	void (*recv)(struct om_kcom_handler *h, struct om_kcom_msg *msg);
	struct list_head list;
};

/**
 * om_kcom_register_handler() - receive a range of message types
 * @h: the handler, with @first, @last and @recv set
 *
 * Ranges must lie within the engine's (VIRTIO_OM_T_MIGRATION_FIRST ..
 * VIRTIO_OM_T_MEMORY_LAST) or be VIRTIO_OM_T_TEST_DATA alone (which then no
 * longer reaches /dev/om-kcom).
 *
 * Return: 0, -EINVAL for a bad range, -EBUSY when it overlaps another.
 */
int om_kcom_register_handler(struct om_kcom_handler *h);

/**
 * om_kcom_unregister_handler() - stop receiving
 * @h: a registered handler
 *
 * On return no call of @h->recv is running or will start.
 */
void om_kcom_unregister_handler(struct om_kcom_handler *h);

/*
 * Node notifications, called in process context (the receive worker, or
 * the driver's remove) in the order the host reported them.
 * The data is a struct om_kcom_node_event.
 */
enum om_kcom_event {
	OM_KCOM_EV_NODE_UP = 1,	  /* a node came up (reason: enum virtio_om_node_reason) */
	OM_KCOM_EV_NODE_DOWN = 2, /* a node went down (reason likewise) */
	OM_KCOM_EV_SELF = 3,	  /* this guest's node id changed (0: none) */
};

/**
 * struct om_kcom_node_event - what a node notification is about
 * @node: the node (for OM_KCOM_EV_SELF, the new id)
 * @reason: enum virtio_om_node_reason, 0 for OM_KCOM_EV_SELF
 */
struct om_kcom_node_event {
	u32 node;
	u32 reason;
};

/**
 * om_kcom_register_notifier() - be told when nodes come and go
 * @nb: notifier block; its callback gets an enum om_kcom_event and a
 *	struct om_kcom_node_event. It must not sleep for long (see
 *	struct om_kcom_handler).
 *
 * Return: 0 or a negative error.
 */
int om_kcom_register_notifier(struct notifier_block *nb);

/**
 * om_kcom_unregister_notifier() - stop being told
 * @nb: a registered notifier block
 *
 * Return: 0 or -ENOENT.
 */
int om_kcom_unregister_notifier(struct notifier_block *nb);

/**
 * om_kcom_self() - this guest's node id
 *
 * Context: any.
 * Return: the id the host assigned, 0 when none (yet) or no device.
 */
u32 om_kcom_self(void);

/**
 * om_kcom_max_payload() - the largest payload the device accepts
 *
 * Context: any.
 * Return: bytes, 0 with no device.
 */
u32 om_kcom_max_payload(void);

/**
 * om_kcom_node_is_up() - whether the host announced a node up
 * @node: a node id
 *
 * Context: any.
 * Return: true for a node up or for this node, false otherwise.
 */
bool om_kcom_node_is_up(u32 node);

#endif /* _LINUX_OM_KCOM_H */
