// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/om-kcom: ports for userspace tests and tools; the ABI is in
 * <uapi/linux/om_kcom.h>. An open file is a port with its own receive
 * queue, bounded to kcom_port_queue_bytes of messages (header + payload; a
 * queue always takes one message, however large). Node events are queued
 * for every file, apart from that bound, up to KCOM_PORT_MAX_EVENTS.
 *
 * When a message finds its port's queue full, the receive worker parks it
 * and stops taking messages (rx.c): the reader's reads kick the worker,
 * which tries again. If the reader reads nothing for kcom_port_stall_ms,
 * the message is dropped (counted as overflow) and the port is marked
 * overrun: while it stays overrun a message that does not fit is dropped
 * at once instead of stalling rx again. Reading the queue empty clears
 * the mark.
 *
 * kcom_ports_lock covers the bindings (an xarray from port number to port)
 * and the list of open files; the receive worker holds it while it queues,
 * so a file being released is never queued to. port->lock covers one
 * queue.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/xarray.h>

#include "kcom.h"

#define KCOM_PORT_MAX_EVENTS 256

struct kcom_port {
	u32 num;			/* bound port, 0 for none; kcom_ports_lock */
	struct list_head files;		/* on kcom_port_files; kcom_ports_lock */
	size_t limit;			/* queue bound, bytes */
	wait_queue_head_t wait;		/* readers and poll */
	spinlock_t lock;		/* the fields below */
	struct list_head queue;		/* struct om_kcom_msg, oldest first */
	size_t bytes;			/* of the data messages queued */
	unsigned int events;		/* node events queued */
	unsigned long last_read;	/* jiffies of the last message read */
	bool stalled;			/* rx waits for room here: kick it */
	bool overrun;			/* a message was dropped: no more stalls */
};

static DEFINE_MUTEX(kcom_ports_lock);
static DEFINE_XARRAY(kcom_ports);
static LIST_HEAD(kcom_port_files);

static size_t kcom_msg_size(const struct om_kcom_msg *msg)
{
	return VIRTIO_OM_HDR_SIZE + msg->hdr.len;
}

static bool kcom_msg_is_event(const struct om_kcom_msg *msg)
{
	return msg->hdr.src_node == VIRTIO_OM_NODE_HOST;
}

/**
 * kcom_port_deliver() - queue a message for the port named by its dst_pid
 * @msg: the message; queued, or left to the caller
 * @parked: whether the receive worker parked it already
 * @parked_at: when it was parked (jiffies)
 * @wait: with KCOM_FULL, how long the worker may wait before it asks again
 *
 * Return: how it went (enum kcom_delivery).
 */
enum kcom_delivery kcom_port_deliver(struct om_kcom_msg *msg, bool parked,
				     unsigned long parked_at, unsigned long *wait)
{
	unsigned long stall = msecs_to_jiffies(READ_ONCE(kcom_port_stall_ms));
	size_t size = kcom_msg_size(msg);
	enum kcom_delivery r;
	struct kcom_port *p;
	unsigned long since;

	mutex_lock(&kcom_ports_lock);
	p = msg->hdr.dst_pid ? xa_load(&kcom_ports, msg->hdr.dst_pid) : NULL;
	if (!p) {
		r = KCOM_NO_PORT;
		goto out;
	}
	spin_lock(&p->lock);
	if (!p->bytes || p->bytes + size <= p->limit) {
		list_add_tail(&msg->list, &p->queue);
		p->bytes += size;
		r = KCOM_DELIVERED;
	} else if (p->overrun) {
		r = KCOM_DROPPED;
	} else {
		/* The reader has stall jiffies from parking or its last read. */
		since = parked ? parked_at : jiffies;
		if (time_after(p->last_read, since))
			since = p->last_read;
		if (parked && time_after_eq(jiffies, since + stall)) {
			p->overrun = true;
			r = KCOM_DROPPED;
		} else {
			p->stalled = true;
			*wait = since + stall - jiffies;
			r = KCOM_FULL;
		}
	}
	spin_unlock(&p->lock);
	if (r == KCOM_DELIVERED)
		wake_up_interruptible_poll(&p->wait, EPOLLIN | EPOLLRDNORM);
out:
	mutex_unlock(&kcom_ports_lock);
	return r;
}

/* A node event: a copy for every open file. */
void kcom_port_event(const struct om_kcom_msg *msg)
{
	struct om_kcom_msg *copy;
	struct kcom_port *p;

	mutex_lock(&kcom_ports_lock);
	list_for_each_entry(p, &kcom_port_files, files) {
		copy = kcom_msg_alloc_copy(msg, GFP_KERNEL);
		spin_lock(&p->lock);
		if (copy && p->events < KCOM_PORT_MAX_EVENTS) {
			list_add_tail(&copy->list, &p->queue);
			p->events++;
			copy = NULL;
		} else {
			atomic64_inc(&kcom.stats.events_lost);
		}
		spin_unlock(&p->lock);
		om_kcom_msg_free(copy);
		wake_up_interruptible_poll(&p->wait, EPOLLIN | EPOLLRDNORM);
	}
	mutex_unlock(&kcom_ports_lock);
}

static void kcom_port_account(struct kcom_port *p, const struct om_kcom_msg *msg, bool add)
{
	lockdep_assert_held(&p->lock);
	if (kcom_msg_is_event(msg))
		p->events = add ? p->events + 1 : p->events - 1;
	else
		p->bytes = add ? p->bytes + kcom_msg_size(msg) : p->bytes - kcom_msg_size(msg);
}

static int kcom_port_open(struct inode *inode, struct file *file)
{
	struct kcom_port *p;
	u32 tgid;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	INIT_LIST_HEAD(&p->files);
	INIT_LIST_HEAD(&p->queue);
	spin_lock_init(&p->lock);
	init_waitqueue_head(&p->wait);
	p->limit = READ_ONCE(kcom_port_queue_bytes);
	p->last_read = jiffies;

	tgid = task_tgid_vnr(current);
	mutex_lock(&kcom_ports_lock);
	list_add_tail(&p->files, &kcom_port_files);
	/* A second file of the same process starts unbound. */
	if (tgid && !xa_insert(&kcom_ports, tgid, p, GFP_KERNEL))
		p->num = tgid;
	mutex_unlock(&kcom_ports_lock);

	file->private_data = p;
	return stream_open(inode, file);
}

static int kcom_port_release(struct inode *inode, struct file *file)
{
	struct kcom_port *p = file->private_data;
	struct om_kcom_msg *msg, *next;

	mutex_lock(&kcom_ports_lock);
	if (p->num)
		xa_erase(&kcom_ports, p->num);
	list_del(&p->files);
	mutex_unlock(&kcom_ports_lock);
	/* A message parked for this port now has no receiver: let rx go on. */
	if (p->stalled)
		kcom_rx_kick();
	list_for_each_entry_safe(msg, next, &p->queue, list)
		om_kcom_msg_free(msg);
	kfree(p);
	return 0;
}

/* Takes the oldest message if @room bytes hold it; NULL and *err otherwise. */
static struct om_kcom_msg *kcom_port_take(struct kcom_port *p, size_t room, int *err)
{
	struct om_kcom_msg *msg;
	bool kick = false;

	spin_lock(&p->lock);
	msg = list_first_entry_or_null(&p->queue, struct om_kcom_msg, list);
	if (!msg) {
		*err = -EAGAIN;
	} else if (kcom_msg_size(msg) > room) {
		*err = -EMSGSIZE;
		msg = NULL;
	} else {
		list_del_init(&msg->list);
		kcom_port_account(p, msg, false);
		p->last_read = jiffies;
		if (!p->bytes)
			p->overrun = false;
		kick = p->stalled;
		p->stalled = false;
	}
	spin_unlock(&p->lock);
	if (kick)
		kcom_rx_kick();
	return msg;
}

/* Puts a message back at the head (the reader's buffer faulted). */
static void kcom_port_untake(struct kcom_port *p, struct om_kcom_msg *msg)
{
	spin_lock(&p->lock);
	list_add(&msg->list, &p->queue);
	kcom_port_account(p, msg, true);
	spin_unlock(&p->lock);
}

static ssize_t kcom_port_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct kcom_port *p = iocb->ki_filp->private_data;
	size_t room = iov_iter_count(to);
	struct om_kcom_msg *msg;
	size_t size;
	int err;

	if (!room)
		return 0;
	for (;;) {
		msg = kcom_port_take(p, room, &err);
		if (msg)
			break;
		if (err != -EAGAIN)
			return err;
		if ((iocb->ki_flags & IOCB_NOWAIT) || (iocb->ki_filp->f_flags & O_NONBLOCK))
			return -EAGAIN;
		err = wait_event_interruptible(p->wait, !list_empty_careful(&p->queue));
		if (err)
			return err;
	}
	size = kcom_msg_size(msg);
	if (kcom_msg_to_iter(msg, to) != size) {
		kcom_port_untake(p, msg);
		return -EFAULT;
	}
	om_kcom_msg_free(msg);
	return size;
}

static ssize_t kcom_port_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct kcom_port *p = iocb->ki_filp->private_data;
	size_t count = iov_iter_count(from);
	unsigned int flags = 0;
	struct virtio_om_hdr w;
	struct om_kcom_hdr h;
	int rc;

	if (count < VIRTIO_OM_HDR_SIZE || count > OM_KCOM_MSG_MAX)
		return -EINVAL;
	if (copy_from_iter(&w, sizeof(w), from) != sizeof(w))
		return -EFAULT;
	kcom_hdr_decode(&w, &h);
	if (count - VIRTIO_OM_HDR_SIZE != h.len)
		return -EINVAL;
	if (!kcom_type_user_may_send(h.type))
		return -EPERM;
	if (w.reserved)
		return -EINVAL;
	/* version, seq and src_node are the driver's; src_pid is the port. */
	h.src_pid = READ_ONCE(p->num);
	if (!h.src_pid)
		return -ENOTCONN;
	if ((iocb->ki_flags & IOCB_NOWAIT) || (iocb->ki_filp->f_flags & O_NONBLOCK))
		flags |= OM_KCOM_NONBLOCK;
	rc = kcom_send(&h, from, NULL, 0, flags, NULL, NULL);
	return rc ? rc : count;
}

static __poll_t kcom_port_poll(struct file *file, poll_table *wait)
{
	struct kcom_port *p = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &p->wait, wait);
	poll_wait(file, &kcom.tx_wait, wait);
	if (!list_empty_careful(&p->queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (kcom_tx_writable())
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int kcom_port_bind(struct kcom_port *p, u32 num)
{
	int rc = 0;

	if (!num)
		return -EINVAL;
	mutex_lock(&kcom_ports_lock);
	if (p->num == num)
		goto out;
	rc = xa_insert(&kcom_ports, num, p, GFP_KERNEL);
	if (rc == -EBUSY)
		rc = -EADDRINUSE;
	if (rc)
		goto out;
	if (p->num)
		xa_erase(&kcom_ports, p->num);
	WRITE_ONCE(p->num, num);
out:
	mutex_unlock(&kcom_ports_lock);
	return rc;
}

static long kcom_port_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kcom_port *p = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct om_kcom_info info;
	struct om_kcom_node node;
	u32 num;

	switch (cmd) {
	case OM_KCOM_IOC_INFO:
		memset(&info, 0, sizeof(info));
		info.node_id = om_kcom_self();
		info.max_payload = om_kcom_max_payload();
		info.port = READ_ONCE(p->num);
		info.queue_bytes = min_t(size_t, p->limit, U32_MAX);
		return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
	case OM_KCOM_IOC_BIND:
		if (get_user(num, (u32 __user *)uarg))
			return -EFAULT;
		return kcom_port_bind(p, num);
	case OM_KCOM_IOC_NODE:
		if (copy_from_user(&node, uarg, sizeof(node)))
			return -EFAULT;
		if (node.node == VIRTIO_OM_NODE_HOST || node.node > VIRTIO_OM_MAX_NODES)
			return -EINVAL;
		node.state = kcom_node_state(node.node);
		return copy_to_user(uarg, &node, sizeof(node)) ? -EFAULT : 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kcom_port_fops = {
	.owner = THIS_MODULE,
	.open = kcom_port_open,
	.release = kcom_port_release,
	.read_iter = kcom_port_read_iter,
	.write_iter = kcom_port_write_iter,
	.poll = kcom_port_poll,
	.unlocked_ioctl = kcom_port_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice kcom_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "om-kcom",
	.fops = &kcom_port_fops,
	.mode = 0600,
};

int kcom_port_init(void)
{
	return misc_register(&kcom_miscdev);
}
