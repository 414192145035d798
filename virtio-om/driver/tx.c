// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sending. A message is one descriptor chain: the 48-byte header, then the
 * payload as page segments. Kernel memory (kvec) and user memory (write())
 * are copied into pages of the driver's; pages given as bio_vec are sent in
 * place with a reference held until the device has used the chain.
 *
 * The seq of a message is taken under kcom.tx_lock in the same step that
 * puts it in the ring, so seqs reach the host in order even with many
 * senders. A full ring puts senders to sleep on kcom.tx_wait; the tx
 * interrupt schedules kcom.tx_work, which reclaims used chains in process
 * context (pages are released there, never in the interrupt) and wakes
 * them. A ring found full also looks again a second later (tx_check): a
 * notification the host never sent (seen once under heavy load) must not
 * stop this node's traffic for good; what that finds is counted (tx_late).
 */
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/om_kcom.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include "kcom.h"

/* Driver replies (pongs) held while the ring is full; beyond, dropped. */
#define KCOM_TX_BACKLOG_MAX 64

/* The most pages a copied payload takes. */
#define KCOM_TX_COPY_PAGES DIV_ROUND_UP(VIRTIO_OM_MAX_PAYLOAD, PAGE_SIZE)

struct kcom_tx {
	struct virtio_om_hdr wire;	/* first: the device reads it first */
	struct list_head list;		/* on the backlog or a reclaim list */
	u32 dst_node;
	u32 len;
	struct kcom_waiter *waiter;	/* armed when the seq is known */
	unsigned int nr_sg;		/* header included */
	struct scatterlist sg[];	/* [1..] each holds a page reference */
};

static struct kcom_tx *kcom_tx_alloc(unsigned int max_sg)
{
	struct kcom_tx *tx = kzalloc(struct_size(tx, sg, max_sg), GFP_KERNEL);

	if (!tx)
		return NULL;
	INIT_LIST_HEAD(&tx->list);
	sg_init_table(tx->sg, max_sg);
	sg_set_buf(&tx->sg[0], &tx->wire, sizeof(tx->wire));
	tx->nr_sg = 1;
	return tx;
}

static void kcom_tx_free(struct kcom_tx *tx)
{
	unsigned int i;

	for (i = 1; i < tx->nr_sg; i++)
		put_page(sg_page(&tx->sg[i]));
	kfree(tx);
}

/* Copies @len bytes from @from into fresh pages appended to the chain. */
static int kcom_tx_copy(struct kcom_tx *tx, struct iov_iter *from, size_t len)
{
	while (len) {
		size_t chunk = min_t(size_t, len, PAGE_SIZE);
		struct page *page = alloc_page(GFP_KERNEL);

		if (!page)
			return -ENOMEM;
		sg_set_page(&tx->sg[tx->nr_sg++], page, chunk, 0);
		if (copy_page_from_iter(page, 0, chunk, from) != chunk)
			return -EFAULT;
		len -= chunk;
	}
	return 0;
}

/* Appends the caller's pages, each with a reference of the driver's. */
static void kcom_tx_ref(struct kcom_tx *tx, const struct bio_vec *bvec, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!bvec[i].bv_len)
			continue;
		get_page(bvec[i].bv_page);
		sg_set_page(&tx->sg[tx->nr_sg++], bvec[i].bv_page, bvec[i].bv_len,
			    bvec[i].bv_offset);
	}
}

/*
 * Puts @tx in the ring: takes the destination's next seq, arms the waiter
 * of om_kcom_call() under the same lock (so a fast reply finds it), adds the
 * chain and notifies the device. -ENOSPC when the ring is full.
 */
static int kcom_tx_add_locked(struct kcom_tx *tx, u64 *seq)
{
	struct virtqueue *vq = kcom.tx_vq;
	struct kcom_node *node = &kcom.nodes[tx->dst_node];
	u64 next = node->tx_seq + 1;
	int rc;

	lockdep_assert_held(&kcom.tx_lock);
	if (!vq)
		return -ENODEV;
	tx->wire.seq = cpu_to_le64(next);
	if (tx->waiter)
		kcom_call_arm(tx->waiter, tx->dst_node, next);
	rc = virtqueue_add_outbuf(vq, tx->sg, tx->nr_sg, tx, GFP_ATOMIC);
	if (rc) {
		if (tx->waiter)
			kcom_call_disarm(tx->waiter);
		/* An empty ring that cannot take it never will. */
		if (rc == -ENOSPC && vq->num_free == virtqueue_get_vring_size(vq))
			rc = -EMSGSIZE;
		return rc;
	}
	node->tx_seq = next;
	if (seq)
		*seq = next;
	atomic64_inc(&node->tx_msgs);
	atomic64_add(tx->len, &node->tx_bytes);
	atomic64_inc(&kcom.stats.tx_msgs);
	atomic64_add(tx->len, &kcom.stats.tx_bytes);
	virtqueue_kick(vq);
	return 0;
}

static int kcom_tx_try(struct kcom_tx *tx, u64 *seq)
{
	unsigned long flags;
	int rc;

	spin_lock_irqsave(&kcom.tx_lock, flags);
	rc = kcom_tx_add_locked(tx, seq);
	spin_unlock_irqrestore(&kcom.tx_lock, flags);
	if (rc == -ENOSPC)
		schedule_delayed_work(&kcom.tx_check, HZ);
	return rc;
}

/* Puts @tx in the ring, sleeping while it is full unless OM_KCOM_NONBLOCK. */
static int kcom_tx_submit(struct kcom_tx *tx, unsigned int flags, u64 *seq)
{
	int rc, err;

	rc = kcom_tx_try(tx, seq);
	if (rc != -ENOSPC)
		return rc;
	if (flags & OM_KCOM_NONBLOCK)
		return -EAGAIN;
	if (flags & OM_KCOM_KILLABLE)
		err = wait_event_killable(kcom.tx_wait, (rc = kcom_tx_try(tx, seq)) != -ENOSPC);
	else
		err = wait_event_interruptible(kcom.tx_wait,
					       (rc = kcom_tx_try(tx, seq)) != -ENOSPC);
	/* On a signal the last try failed: the message was not queued. */
	return err ? err : rc;
}

static size_t kcom_kvec_len(const struct kvec *kvec, unsigned int n)
{
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (kvec[i].iov_len > VIRTIO_OM_MAX_PAYLOAD)
			return SIZE_MAX;
		len += kvec[i].iov_len;
	}
	return len;
}

static int kcom_bvec_len(const struct bio_vec *bvec, unsigned int n, size_t *len)
{
	unsigned int i;

	*len = 0;
	if (n > OM_KCOM_MAX_BVEC)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!bvec[i].bv_page || bvec[i].bv_len > VIRTIO_OM_MAX_PAYLOAD ||
		    bvec[i].bv_offset + bvec[i].bv_len > page_size(bvec[i].bv_page))
			return -EINVAL;
		*len += bvec[i].bv_len;
	}
	return 0;
}

/**
 * kcom_send() - send one message (all senders end here)
 * @h: the header; src_node, seq and version are the driver's to set
 * @copy: payload to copy (kernel or user memory), or NULL
 * @bvec: payload pages sent in place, after the copied bytes
 * @nr_bvec: entries in @bvec
 * @flags: OM_KCOM_NONBLOCK, OM_KCOM_KILLABLE
 * @w: an om_kcom_call() waiter to arm with the seq, or NULL
 * @seq: where to store the seq, or NULL
 *
 * @h->len must be the payload length: iov_iter_count(@copy) plus the
 * @bvec bytes.
 *
 * Return: 0 or a negative errno (see om_kcom_send()).
 */
int kcom_send(const struct om_kcom_hdr *h, struct iov_iter *copy,
	      const struct bio_vec *bvec, unsigned int nr_bvec, unsigned int flags,
	      struct kcom_waiter *w, u64 *seq)
{
	size_t copy_len = copy ? iov_iter_count(copy) : 0, page_len;
	u32 self = READ_ONCE(kcom.self);
	struct om_kcom_hdr hdr = *h;
	struct kcom_tx *tx;
	int rc;

	if (!READ_ONCE(kcom.vdev))
		return -ENODEV;
	if (!self)
		return -ENOTCONN;
	rc = kcom_bvec_len(bvec, nr_bvec, &page_len);
	if (rc)
		return rc;
	if (copy_len > VIRTIO_OM_MAX_PAYLOAD || copy_len + page_len != h->len)
		return -EINVAL;
	if (kcom_check_tx(h, self, READ_ONCE(kcom.max_payload)) != KCOM_OK)
		return -EINVAL;

	tx = kcom_tx_alloc(1 + DIV_ROUND_UP(copy_len, PAGE_SIZE) + nr_bvec);
	if (!tx)
		return -ENOMEM;
	hdr.src_node = self;
	hdr.seq = 0;
	kcom_hdr_encode(&hdr, &tx->wire);
	tx->dst_node = h->dst_node;
	tx->len = h->len;
	tx->waiter = w;
	if (copy_len) {
		rc = kcom_tx_copy(tx, copy, copy_len);
		if (rc)
			goto err;
	}
	kcom_tx_ref(tx, bvec, nr_bvec);
	sg_mark_end(&tx->sg[tx->nr_sg - 1]);
	kcom_node_touch(h->dst_node);

	rc = kcom_tx_submit(tx, flags, seq);
	if (rc)
		goto err;
	return 0;
err:
	kcom_tx_free(tx);
	return rc;
}

/* The header and payload iterator of @out; the payload not checked yet. */
int kcom_out_prepare(const struct om_kcom_out *out, struct om_kcom_hdr *h,
		     struct iov_iter *iter)
{
	size_t kvec_len = kcom_kvec_len(out->kvec, out->nr_kvec), bvec_len;
	int rc;

	rc = kcom_bvec_len(out->bvec, out->nr_bvec, &bvec_len);
	if (rc)
		return rc;
	if (kvec_len > VIRTIO_OM_MAX_PAYLOAD || bvec_len > VIRTIO_OM_MAX_PAYLOAD)
		return -EINVAL;
	*h = (struct om_kcom_hdr) {
		.type = out->type,
		.flags = out->flags,
		.dst_node = out->dst_node,
		.src_pid = out->src_pid,
		.dst_pid = out->dst_pid,
		.reply_to = out->reply_to,
		.len = kvec_len + bvec_len,
	};
	iov_iter_kvec(iter, ITER_SOURCE, out->kvec, out->nr_kvec, kvec_len);
	return 0;
}

int om_kcom_send(const struct om_kcom_out *out, unsigned int flags, u64 *seq)
{
	struct om_kcom_hdr h;
	struct iov_iter iter;
	int rc;

	rc = kcom_out_prepare(out, &h, &iter);
	if (rc)
		return rc;
	return kcom_send(&h, &iter, out->bvec, out->nr_bvec, flags, NULL, seq);
}
EXPORT_SYMBOL_GPL(om_kcom_send);

/*
 * Answers a ping from the receive worker, which must not sleep on a full
 * ring: a pong that does not fit waits in the backlog, which tx_work
 * drains before waking other senders.
 */
void kcom_tx_pong(const struct om_kcom_msg *ping)
{
	struct om_kcom_hdr h = {
		.type = VIRTIO_OM_T_PONG,
		.flags = VIRTIO_OM_F_REPLY,
		.dst_node = ping->hdr.src_node,
		.src_pid = ping->hdr.dst_pid,
		.dst_pid = ping->hdr.src_pid,
		.reply_to = ping->hdr.seq,
		.len = VIRTIO_OM_PING_SIZE,
	};
	struct virtio_om_ping payload;
	struct kvec kv = { .iov_base = &payload, .iov_len = sizeof(payload) };
	struct iov_iter iter;
	struct kcom_tx *tx;
	unsigned long flags;
	u32 self = READ_ONCE(kcom.self);
	int rc;

	if (!self || kcom_check_tx(&h, self, READ_ONCE(kcom.max_payload)) != KCOM_OK ||
	    om_kcom_msg_copy(ping, 0, &payload, sizeof(payload)) != sizeof(payload))
		goto drop;
	tx = kcom_tx_alloc(2);
	if (!tx)
		goto drop;
	h.src_node = self;
	kcom_hdr_encode(&h, &tx->wire);
	tx->dst_node = h.dst_node;
	tx->len = h.len;
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, sizeof(payload));
	if (kcom_tx_copy(tx, &iter, sizeof(payload))) {
		kcom_tx_free(tx);
		goto drop;
	}
	sg_mark_end(&tx->sg[tx->nr_sg - 1]);

	spin_lock_irqsave(&kcom.tx_lock, flags);
	rc = list_empty(&kcom.tx_backlog) ? kcom_tx_add_locked(tx, NULL) : -ENOSPC;
	if (rc == -ENOSPC && kcom.tx_backlog_len < KCOM_TX_BACKLOG_MAX) {
		list_add_tail(&tx->list, &kcom.tx_backlog);
		kcom.tx_backlog_len++;
		rc = 0;
	}
	spin_unlock_irqrestore(&kcom.tx_lock, flags);
	if (!rc)
		return;
	kcom_tx_free(tx);
drop:
	atomic64_inc(&kcom.stats.pong_dropped);
}

/*
 * Whether a write() of any size would fit in the ring now (for poll): a
 * copied message takes the header and at most KCOM_TX_COPY_PAGES pages.
 */
bool kcom_tx_writable(void)
{
	unsigned int need = 1 + KCOM_TX_COPY_PAGES;
	unsigned long flags;
	bool ok = false;

	spin_lock_irqsave(&kcom.tx_lock, flags);
	if (kcom.tx_vq && list_empty(&kcom.tx_backlog)) {
		if (kcom.tx_indirect)
			need = 1;
		need = min(need, virtqueue_get_vring_size(kcom.tx_vq));
		ok = kcom.tx_vq->num_free >= need;
	}
	spin_unlock_irqrestore(&kcom.tx_lock, flags);
	return ok;
}

/* The tx interrupt: reclaim in process context. */
void kcom_tx_done(struct virtqueue *vq)
{
	schedule_work(&kcom.tx_work);
}

/* Frees the chains the device used, refills from the backlog; how many. */
static unsigned int kcom_tx_reclaim(void)
{
	struct kcom_tx *tx, *next;
	unsigned int len, n = 0;
	unsigned long flags;
	LIST_HEAD(done);

	spin_lock_irqsave(&kcom.tx_lock, flags);
	if (kcom.tx_vq) {
		while ((tx = virtqueue_get_buf(kcom.tx_vq, &len)))
			list_add_tail(&tx->list, &done);
		while (!list_empty(&kcom.tx_backlog)) {
			tx = list_first_entry(&kcom.tx_backlog, struct kcom_tx, list);
			if (kcom_tx_add_locked(tx, NULL))
				break;
			list_del_init(&tx->list);
			kcom.tx_backlog_len--;
		}
	}
	spin_unlock_irqrestore(&kcom.tx_lock, flags);

	list_for_each_entry_safe(tx, next, &done, list) {
		kcom_tx_free(tx);
		n++;
	}
	wake_up_all(&kcom.tx_wait);
	return n;
}

void kcom_tx_work(struct work_struct *work)
{
	kcom_tx_reclaim();
}

/* A second after a sender found the ring full: what the interrupt did not reclaim. */
void kcom_tx_check(struct work_struct *work)
{
	unsigned int n = kcom_tx_reclaim();

	if (n) {
		atomic64_add(n, &kcom.stats.tx_late);
		pr_warn_ratelimited("virtio-om: %u sent messages reclaimed with no interrupt for a second\n",
				    n);
	}
}

void kcom_tx_start(struct virtqueue *vq, bool indirect)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom.tx_lock, flags);
	kcom.tx_indirect = indirect;
	kcom.tx_vq = vq;
	spin_unlock_irqrestore(&kcom.tx_lock, flags);
}

/* No sender touches the ring once this returns; waiting ones get -ENODEV. */
void kcom_tx_stop(void)
{
	struct kcom_tx *tx, *next;
	unsigned long flags;
	LIST_HEAD(backlog);

	spin_lock_irqsave(&kcom.tx_lock, flags);
	kcom.tx_vq = NULL;
	list_splice_init(&kcom.tx_backlog, &backlog);
	kcom.tx_backlog_len = 0;
	spin_unlock_irqrestore(&kcom.tx_lock, flags);
	wake_up_all(&kcom.tx_wait);
	cancel_work_sync(&kcom.tx_work);
	cancel_delayed_work_sync(&kcom.tx_check);
	list_for_each_entry_safe(tx, next, &backlog, list)
		kcom_tx_free(tx);
}

/* After the device reset: free every chain still in the ring. */
void kcom_tx_drain(struct virtqueue *vq)
{
	struct kcom_tx *tx;

	while ((tx = virtqueue_detach_unused_buf(vq)))
		kcom_tx_free(tx);
}
