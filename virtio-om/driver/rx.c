// SPDX-License-Identifier: GPL-2.0-only
/*
 * Receiving. The rx queue holds up to kcom_rx_buffers buffers of
 * 48 + max_payload bytes (buf.c). The rx interrupt only schedules the
 * receive worker, which takes messages in order and, for each:
 *
 *  1. validates it (msg.c); a malformed one is dropped and counted;
 *  2. host control (NODE_UP / NODE_DOWN): updates the node table (node.c);
 *  3. drops a duplicate (seq not above the last one from that source);
 *  4. answers a PING with a PONG;
 *  5. gives a reply to its om_kcom_call() waiter, else the message to the
 *     handler of its type, else PONG and TEST_DATA to the /dev/om-kcom
 *     port named by dst_pid; what no one takes is dropped and counted.
 *
 * A port whose queue is full parks the message and stops the worker: rx
 * buffers are not returned, the host holds further messages for this guest
 * (backpressure) until the port's reader makes room. A reader that makes
 * no progress for kcom_port_stall_ms loses that message and the ones that
 * do not fit after it (counted as overflow), so a stuck test reader holds
 * the engine's traffic back for a bounded time only.
 */
#include <linux/jiffies.h>
#include <linux/scatterlist.h>
#include <linux/workqueue.h>

#include "kcom.h"

/* Retry delay when rx buffers cannot be allocated. */
#define KCOM_RX_REFILL_RETRY (HZ / 10)

static u32 kcom_rx_cap(void)
{
	u32 max = READ_ONCE(kcom.max_payload);

	/* At least a page: control messages must fit whatever the device says. */
	return clamp_t(u32, max, PAGE_SIZE, VIRTIO_OM_MAX_PAYLOAD);
}

/* Tops the rx queue up; false when it is empty and nothing could be added. */
static bool kcom_rx_refill(void)
{
	struct scatterlist sg[KCOM_RX_MAX_SG];
	struct om_kcom_msg *msg;
	unsigned long flags;
	bool kick = false, empty;
	unsigned int n;
	int rc;

	for (;;) {
		spin_lock_irqsave(&kcom.rx_lock, flags);
		n = kcom.rx_vq ? kcom.rx_posted : UINT_MAX;
		spin_unlock_irqrestore(&kcom.rx_lock, flags);
		if (n >= max(kcom_rx_buffers, 1U))
			break;
		msg = kcom_msg_alloc_rx(kcom_rx_cap(), GFP_KERNEL);
		if (!msg)
			break;
		n = kcom_msg_rx_sg(msg, sg, ARRAY_SIZE(sg));
		if (!n) {
			om_kcom_msg_free(msg);
			break;
		}
		spin_lock_irqsave(&kcom.rx_lock, flags);
		rc = kcom.rx_vq ? virtqueue_add_inbuf(kcom.rx_vq, sg, n, msg, GFP_ATOMIC) : -ENODEV;
		if (!rc) {
			kcom.rx_posted++;
			kick = true;
		}
		spin_unlock_irqrestore(&kcom.rx_lock, flags);
		if (rc) {
			om_kcom_msg_free(msg);
			break;
		}
	}
	spin_lock_irqsave(&kcom.rx_lock, flags);
	if (kick && kcom.rx_vq)
		virtqueue_kick(kcom.rx_vq);
	empty = kcom.rx_vq && !kcom.rx_posted;
	spin_unlock_irqrestore(&kcom.rx_lock, flags);
	return !empty;
}

static void kcom_rx_malformed(const struct om_kcom_msg *msg, enum kcom_verdict v)
{
	u32 src = le32_to_cpu(msg->wire.src_node);

	pr_debug("virtio-om: dropped a message from node %u: %s\n", src, kcom_verdict_name(v));
	atomic64_inc(&kcom.stats.malformed);
	if (src && src <= VIRTIO_OM_MAX_NODES)
		atomic64_inc(&kcom.nodes[src].rx_malformed);
}

/*
 * Delivers to a port; false when the message is parked (the worker must
 * stop). Takes ownership of @msg.
 */
static bool kcom_rx_to_port(struct om_kcom_msg *msg, bool parked, unsigned long parked_at)
{
	unsigned long wait = 0;

	switch (kcom_port_deliver(msg, parked, parked_at, &wait)) {
	case KCOM_DELIVERED:
		return true;
	case KCOM_FULL:
		if (!parked) {
			kcom.rx_parked_at = jiffies;
			atomic64_inc(&kcom.stats.rx_stalls);
		}
		kcom.rx_parked = msg;
		/*
		 * The reader kicks the worker when it makes room; this is the
		 * deadline. queue_, not mod_: a kick already queued must stand.
		 */
		queue_delayed_work(kcom.wq, &kcom.rx_work, wait);
		return false;
	case KCOM_DROPPED:
		atomic64_inc(&kcom.stats.overflow);
		break;
	case KCOM_NO_PORT:
		atomic64_inc(&kcom.stats.no_receiver);
		break;
	}
	om_kcom_msg_free(msg);
	return true;
}

/* Steps 4 and 5 of the list above. */
static bool kcom_rx_dispatch(struct om_kcom_msg *msg)
{
	if (msg->hdr.type == VIRTIO_OM_T_PING) {
		kcom_tx_pong(msg);
		om_kcom_msg_free(msg);
		return true;
	}
	if (kcom_call_claim(msg) || kcom_handler_deliver(msg))
		return true;
	if (msg->hdr.type == VIRTIO_OM_T_PONG || msg->hdr.type == VIRTIO_OM_T_TEST_DATA)
		return kcom_rx_to_port(msg, false, 0);
	atomic64_inc(&kcom.stats.no_receiver);
	om_kcom_msg_free(msg);
	return true;
}

/* One message the device wrote @used bytes of; false when it got parked. */
static bool kcom_rx_one(struct om_kcom_msg *msg, unsigned int used)
{
	struct kcom_node *node;
	enum kcom_verdict v;

	if (used > VIRTIO_OM_HDR_SIZE + msg->cap)
		v = KCOM_LENGTH; /* more than the buffer: not to be trusted */
	else
		v = kcom_check_rx(&msg->wire, used, READ_ONCE(kcom.max_payload));
	if (v != KCOM_OK) {
		kcom_rx_malformed(msg, v);
		om_kcom_msg_free(msg);
		return true;
	}
	kcom_hdr_decode(&msg->wire, &msg->hdr);

	if (msg->hdr.src_node == VIRTIO_OM_NODE_HOST) {
		/* Idempotent state: no duplicate filter (the relay's seqs restart with it). */
		atomic64_inc(&kcom.stats.rx_msgs);
		atomic64_add(msg->hdr.len, &kcom.stats.rx_bytes);
		kcom_node_control(msg);
		om_kcom_msg_free(msg);
		return true;
	}

	node = &kcom.nodes[msg->hdr.src_node];
	kcom_node_touch(msg->hdr.src_node);
	if (!kcom_seq_accept(&node->rx_last, msg->hdr.seq)) {
		atomic64_inc(&node->rx_duplicates);
		atomic64_inc(&kcom.stats.duplicates);
		om_kcom_msg_free(msg);
		return true;
	}
	atomic64_inc(&kcom.stats.rx_msgs);
	atomic64_add(msg->hdr.len, &kcom.stats.rx_bytes);
	atomic64_inc(&node->rx_msgs);
	atomic64_add(msg->hdr.len, &node->rx_bytes);
	return kcom_rx_dispatch(msg);
}

/* Retries a parked message; false while its port is still full. */
static bool kcom_rx_unpark(void)
{
	struct om_kcom_msg *msg = kcom.rx_parked;

	if (!msg)
		return true;
	kcom.rx_parked = NULL;
	return kcom_rx_to_port(msg, true, kcom.rx_parked_at);
}

/* Takes the next used buffer; re-arms the interrupt when there is none. */
static struct om_kcom_msg *kcom_rx_next(unsigned int *used, bool *stop)
{
	struct om_kcom_msg *msg = NULL;
	unsigned long flags;

	spin_lock_irqsave(&kcom.rx_lock, flags);
	if (!kcom.rx_vq) {
		*stop = true;
		goto out;
	}
	msg = virtqueue_get_buf(kcom.rx_vq, used);
	if (msg) {
		kcom.rx_posted--;
	} else if (virtqueue_enable_cb(kcom.rx_vq)) {
		*stop = true;
	} else {
		/* More arrived while enabling: keep going without the interrupt. */
		virtqueue_disable_cb(kcom.rx_vq);
	}
out:
	spin_unlock_irqrestore(&kcom.rx_lock, flags);
	return msg;
}

static bool kcom_rx_live(void)
{
	unsigned long flags;
	bool live;

	spin_lock_irqsave(&kcom.rx_lock, flags);
	live = kcom.rx_vq;
	spin_unlock_irqrestore(&kcom.rx_lock, flags);
	return live;
}

void kcom_rx_work(struct work_struct *work)
{
	struct om_kcom_msg *msg;
	unsigned int used, n = 0;
	bool stop = false;

	/*
	 * After kcom_rx_stop() a late kick finds no queue and leaves the
	 * parked message alone: kcom_rx_stop() frees it.
	 */
	if (!kcom_rx_live() || !kcom_rx_unpark())
		return;
	while (!stop) {
		msg = kcom_rx_next(&used, &stop);
		if (!msg)
			continue;
		if (!kcom_rx_one(msg, used))
			break;
		if (++n % 16 == 0) {
			kcom_rx_refill();
			cond_resched();
		}
	}
	if (!kcom_rx_refill())
		queue_delayed_work(kcom.wq, &kcom.rx_work, KCOM_RX_REFILL_RETRY);
}

/* Runs the worker now (the rx interrupt, or a port that made room). */
void kcom_rx_kick(void)
{
	mod_delayed_work(kcom.wq, &kcom.rx_work, 0);
}

void kcom_rx_done(struct virtqueue *vq)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom.rx_lock, flags);
	virtqueue_disable_cb(vq);
	spin_unlock_irqrestore(&kcom.rx_lock, flags);
	kcom_rx_kick();
}

void kcom_rx_start(struct virtqueue *vq)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom.rx_lock, flags);
	kcom.rx_vq = vq;
	kcom.rx_posted = 0;
	spin_unlock_irqrestore(&kcom.rx_lock, flags);
	kcom_rx_kick();
}

/* The worker no longer runs nor touches the queue once this returns. */
void kcom_rx_stop(void)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom.rx_lock, flags);
	kcom.rx_vq = NULL;
	spin_unlock_irqrestore(&kcom.rx_lock, flags);
	cancel_delayed_work_sync(&kcom.rx_work);
	om_kcom_msg_free(kcom.rx_parked);
	kcom.rx_parked = NULL;
}

/* After the device reset: free every buffer still in the queue. */
void kcom_rx_drain(struct virtqueue *vq)
{
	struct om_kcom_msg *msg;

	while ((msg = virtqueue_detach_unused_buf(vq)))
		om_kcom_msg_free(msg);
}
