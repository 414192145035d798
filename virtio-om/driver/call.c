// SPDX-License-Identifier: GPL-2.0-only
/*
 * Request and reply: om_kcom_call() sends a request and sleeps until the
 * message that answers it arrives (VIRTIO_OM_F_REPLY, from the request's
 * destination, reply_to equal to the request's seq). The waiter is armed
 * in the same locked step that gives the request its seq (tx.c), so a
 * reply can never arrive before its waiter. Few calls wait at once: a list
 * is enough.
 */
#include <linux/export.h>
#include <linux/list.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include "kcom.h"

struct kcom_waiter {
	struct list_head list;		/* on kcom_waiters while armed */
	u32 node;			/* the request's destination */
	u64 seq;			/* the request's seq */
	struct om_kcom_msg *reply;	/* set once, under kcom_waiters_lock */
	int error;			/* likewise: why no reply will come */
};

static LIST_HEAD(kcom_waiters);
static DEFINE_SPINLOCK(kcom_waiters_lock);
static DECLARE_WAIT_QUEUE_HEAD(kcom_call_wait);

/* Called by tx.c with kcom.tx_lock held, before the request is queued. */
void kcom_call_arm(struct kcom_waiter *w, u32 node, u64 seq)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom_waiters_lock, flags);
	w->node = node;
	w->seq = seq;
	list_add_tail(&w->list, &kcom_waiters);
	spin_unlock_irqrestore(&kcom_waiters_lock, flags);
}

/* The request could not be queued after all. */
void kcom_call_disarm(struct kcom_waiter *w)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom_waiters_lock, flags);
	list_del_init(&w->list);
	spin_unlock_irqrestore(&kcom_waiters_lock, flags);
}

/* Gives a reply to its waiter; false when no one waits for it. */
bool kcom_call_claim(struct om_kcom_msg *msg)
{
	struct kcom_waiter *w, *found = NULL;
	unsigned long flags;

	if (!(msg->hdr.flags & VIRTIO_OM_F_REPLY))
		return false;
	spin_lock_irqsave(&kcom_waiters_lock, flags);
	list_for_each_entry(w, &kcom_waiters, list) {
		if (w->node == msg->hdr.src_node && w->seq == msg->hdr.reply_to) {
			found = w;
			list_del_init(&w->list);
			WRITE_ONCE(w->reply, msg);
			break;
		}
	}
	spin_unlock_irqrestore(&kcom_waiters_lock, flags);
	if (found)
		wake_up_all(&kcom_call_wait);
	return found;
}

/* Fails one wait, unless its reply came already. */
static void kcom_call_fail(struct kcom_waiter *w, int err)
{
	unsigned long flags;

	spin_lock_irqsave(&kcom_waiters_lock, flags);
	if (!list_empty(&w->list)) {
		list_del_init(&w->list);
		WRITE_ONCE(w->error, err);
	}
	spin_unlock_irqrestore(&kcom_waiters_lock, flags);
}

/* Fails the waits for @node (0: every wait): no reply will come. */
void kcom_call_abort_node(u32 node, int err)
{
	struct kcom_waiter *w, *next;
	unsigned long flags;
	bool woke = false;

	spin_lock_irqsave(&kcom_waiters_lock, flags);
	list_for_each_entry_safe(w, next, &kcom_waiters, list) {
		if (node && w->node != node)
			continue;
		list_del_init(&w->list);
		WRITE_ONCE(w->error, err);
		woke = true;
	}
	spin_unlock_irqrestore(&kcom_waiters_lock, flags);
	if (woke)
		wake_up_all(&kcom_call_wait);
}

void kcom_call_abort_all(int err)
{
	kcom_call_abort_node(0, err);
}

static bool kcom_call_done(struct kcom_waiter *w)
{
	return READ_ONCE(w->reply) || READ_ONCE(w->error);
}

int om_kcom_call(const struct om_kcom_out *req, unsigned int flags, long timeout,
		 struct om_kcom_msg **reply)
{
	struct kcom_waiter w = { .list = LIST_HEAD_INIT(w.list) };
	struct om_kcom_hdr h;
	struct iov_iter iter;
	unsigned long irqflags;
	long left;
	int rc;

	*reply = NULL;
	if (req->flags & VIRTIO_OM_F_REPLY)
		return -EINVAL;
	rc = kcom_out_prepare(req, &h, &iter);
	if (rc)
		return rc;
	rc = kcom_send(&h, &iter, req->bvec, req->nr_bvec, flags, &w, NULL);
	if (rc)
		return rc;
	/*
	 * Armed after its node went down, no abort comes for it: it would wait
	 * its whole time-out. The state is set before the abort is made, so
	 * one of the two sees the other.
	 */
	if (!om_kcom_node_is_up(req->dst_node))
		kcom_call_fail(&w, -EHOSTDOWN);

	if (flags & OM_KCOM_SURE_REPLY)
		left = wait_event_timeout(kcom_call_wait, kcom_call_done(&w), timeout);
	else if (flags & OM_KCOM_KILLABLE)
		left = wait_event_killable_timeout(kcom_call_wait, kcom_call_done(&w), timeout);
	else
		left = wait_event_interruptible_timeout(kcom_call_wait, kcom_call_done(&w),
							timeout);

	/*
	 * Off the list, no one can set reply or error any more; both were set
	 * under the lock, so what they hold now is final.
	 */
	spin_lock_irqsave(&kcom_waiters_lock, irqflags);
	list_del_init(&w.list);
	spin_unlock_irqrestore(&kcom_waiters_lock, irqflags);
	if (w.reply) {
		*reply = w.reply;
		return 0;
	}
	if (w.error)
		return w.error;
	return left == 0 ? -ETIMEDOUT : -EINTR;
}
EXPORT_SYMBOL_GPL(om_kcom_call);
