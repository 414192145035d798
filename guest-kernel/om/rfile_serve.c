// SPDX-License-Identifier: GPL-2.0-only
/*
 * Home's files served to the nodes its processes run on (docs/engine.md
 * "Programs and file mappings away"). A file a deputy opened for its
 * process (a program, or a file it maps privately) is served to the node
 * the process runs on under an id of its own, for as long as that node
 * keeps it, whatever became of the process: the node reads its pages as
 * they fault (RFILE_READ), for any of its processes, and forgets it when
 * none uses it any more (RFILE_FORGET). A node reads only the files opened
 * for it, and a node that goes down is forgotten whole.
 */
#include <linux/file.h>
#include <linux/kdev_t.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "om.h"

/* Files served to one node at most: a node that never forgets is bounded. */
#define OM_SERVED_PER_NODE 1024

struct om_served {
	u32 node;
	struct file *file; /* home's file, opened for reading with its opener's credentials */
};

/* Served files by id, and how many each node has (xa_mk_value()). */
static DEFINE_XARRAY_ALLOC1(om_served);
/* Ids are given in turn, not reused at once: a late FORGET names no other file. */
static u32 om_served_next;
static DEFINE_XARRAY(om_served_nodes);
/* Reads run here: kernel_read() may sleep long, never in kcom's receive worker. */
static struct workqueue_struct *om_serve_wq;
/*
 * Reads queued at most: each faulting task of a node waits for its own, so
 * more means a node floods; those are refused (EBUSY), not queued.
 */
#define OM_SERVE_PENDING_MAX 256
static atomic_t om_serve_pending = ATOMIC_INIT(0);

/* A node's count of served files moved by @delta (under om_served's lock). */
static int om_served_count(u32 node, int delta)
{
	unsigned long n = xa_to_value(xa_load(&om_served_nodes, node) ?: xa_mk_value(0));

	if (delta > 0 && n >= OM_SERVED_PER_NODE)
		return -ENFILE;
	n += delta;
	if (!n) {
		xa_erase(&om_served_nodes, node);
		return 0;
	}
	return xa_err(xa_store(&om_served_nodes, node, xa_mk_value(n), GFP_ATOMIC));
}

/* Serve @own (a reference given) to @node; dropped on failure. */
static int om_rfile_serve_own(u32 node, struct file *own, u32 *id)
{
	struct om_served *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int err;

	if (!s) {
		fput(own);
		return -ENOMEM;
	}
	s->file = own;
	s->node = node;
	xa_lock(&om_served);
	err = om_served_count(node, 1);
	if (!err) {
		err = __xa_alloc_cyclic(&om_served, id, s, xa_limit_31b, &om_served_next,
					GFP_ATOMIC);
		if (err < 0)
			om_served_count(node, -1);
		else
			err = 0;
	}
	xa_unlock(&om_served);
	if (err) {
		fput(s->file);
		kfree(s);
	}
	return err;
}

/**
 * om_rfile_serve() - serve a file of home to a node
 * @node: the node a process of home runs on
 * @f: the file its deputy opened for it
 * @id: set to the id the node reads it by
 *
 * Return: 0, or -errno (-ENFILE: that node has too many).
 */
int om_rfile_serve(u32 node, struct file *f, u32 *id)
{
	/* A file of its own: not the process's (its offset, O_DIRECT), nor exec's hold. */
	struct file *own = dentry_open(&f->f_path, O_RDONLY | O_LARGEFILE, f->f_cred);

	if (IS_ERR(own))
		return PTR_ERR(own);
	return om_rfile_serve_own(node, own, id);
}

/**
 * om_rfile_serve_file() - serve a file the process has open, that very one
 * @node: the node it runs on
 * @f: the deputy's file (delegated: another open would break its lease)
 * @id: set to the id the node reads it by
 *
 * Reads use their own offsets, never the file's.
 * Return: 0, or -errno.
 */
int om_rfile_serve_file(u32 node, struct file *f, u32 *id)
{
	return om_rfile_serve_own(node, get_file(f), id);
}

/* Forget @id for @node (0: whatever node it is served to). */
void om_rfile_unserve(u32 node, unsigned long id)
{
	struct om_served *s;

	xa_lock(&om_served);
	s = xa_load(&om_served, id);
	if (s && (!node || s->node == node)) {
		__xa_erase(&om_served, id);
		om_served_count(s->node, -1);
	} else {
		s = NULL;
	}
	xa_unlock(&om_served);
	if (s) {
		fput(s->file);
		kfree(s);
	}
}

/**
 * om_rfile_serve_mapping() - serve a file a private mapping of a process
 *	leaving home maps, to the node it goes to
 * @node: that node
 * @f: the mapping's file
 * @v: its description for the move: its id and version are filled in
 *
 * Return: 0, or -errno: then the mapping travels as private memory.
 */
int om_rfile_serve_mapping(u32 node, struct file *f, struct virtio_om_mig_vma *v)
{
	struct kstat st;
	u32 id;
	int err;

	if (!S_ISREG(file_inode(f)->i_mode) || !(f->f_mode & FMODE_READ))
		return -EINVAL;
	err = vfs_getattr(&f->f_path, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	if (!err && st.size > OM_RFILE_MAX_SIZE)
		err = -EFBIG;
	if (!err)
		err = om_rfile_serve(node, f, &id);
	if (err)
		return err;
	v->served = cpu_to_le32(id);
	v->size = cpu_to_le64(st.size);
	v->dev = cpu_to_le64(new_encode_dev(st.dev));
	v->ino = cpu_to_le64(st.ino);
	v->mtime_ns = cpu_to_le64(timespec64_to_ns(&st.mtime));
	v->ctime_ns = cpu_to_le64(timespec64_to_ns(&st.ctime));
	return 0;
}

/* A node went down: what it read is forgotten. */
void om_rfile_serve_node_lost(u32 node)
{
	struct om_served *s;
	unsigned long id;

	/* om_rfile_unserve() checks the node under the lock: @s may be freed meanwhile. */
	xa_for_each(&om_served, id, s)
		om_rfile_unserve(node, id);
}

/* How many files home serves now, to all nodes. */
unsigned long om_rfile_served(void)
{
	struct om_served *s;
	unsigned long id, n = 0;

	xa_for_each(&om_served, id, s)
		n++;
	return n;
}

struct om_serve_read {
	struct work_struct work;
	u32 node;
	u64 seq;
	struct virtio_om_rfile_read rd;
};

/*
 * @len bytes from @pos, or fewer only where the file ends: a read cut
 * short by an error is that error, never a short page the node would
 * take for the file's end and fill with zeros.
 */
static ssize_t om_serve_read_all(struct file *f, char *buf, size_t len, loff_t pos)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = kernel_read(f, buf + got, len - got, &pos);
		if (n < 0)
			return n;
		if (!n)
			break;
		got += n;
	}
	return got;
}

static void om_serve_read_work(struct work_struct *work)
{
	struct om_serve_read *r = container_of(work, struct om_serve_read, work);
	u32 len = le32_to_cpu(r->rd.len);
	loff_t pos = le64_to_cpu(r->rd.offset);
	struct om_kcom_out out = {
		.dst_node = r->node,
		.type = VIRTIO_OM_T_RFILE_DATA,
		.flags = VIRTIO_OM_F_REPLY,
		.reply_to = r->seq,
	};
	struct file *f = NULL;
	struct om_served *s;
	void *buf = NULL;
	ssize_t n;

	xa_lock(&om_served);
	s = xa_load(&om_served, le32_to_cpu(r->rd.served));
	/* Only the node it was opened for reads it. */
	if (s && s->node == r->node)
		f = get_file(s->file);
	xa_unlock(&om_served);
	if (!f) {
		n = -EBADF;
	} else if (!len || (u64)len + sizeof(struct virtio_om_rfile_data) > om_kcom_max_payload() ||
		   pos < 0) {
		n = -EINVAL;
	} else {
		buf = kvmalloc(len, GFP_KERNEL);
		n = buf ? om_serve_read_all(f, buf, len, pos) : -ENOMEM;
	}
	if (f)
		fput(f);
	om_reply_read(&out, n, buf);
	kvfree(buf);
	kfree(r);
	atomic_dec(&om_serve_pending);
}

/**
 * om_rfile_serve_recv() - RFILE_READ or RFILE_FORGET from a node
 * @msg: the message (the caller frees it)
 *
 * Context: kcom's receive worker: a read is queued, never done here.
 */
void om_rfile_serve_recv(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_rfile_forget fg;
	struct om_serve_read *r;

	if (h->flags & VIRTIO_OM_F_REPLY)
		return;
	if (h->type == VIRTIO_OM_T_RFILE_FORGET) {
		if (om_kcom_msg_copy(msg, 0, &fg, sizeof(fg)) == sizeof(fg))
			om_rfile_unserve(h->src_node, le32_to_cpu(fg.served));
		return;
	}
	if (atomic_inc_return(&om_serve_pending) > OM_SERVE_PENDING_MAX) {
		atomic_dec(&om_serve_pending);
		om_reply_error(h, -EBUSY);
		return;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		atomic_dec(&om_serve_pending);
		om_reply_error(h, -ENOMEM);
		return;
	}
	/* Its length was checked by kcom against the type's table. */
	om_kcom_msg_copy(msg, 0, &r->rd, sizeof(r->rd));
	r->node = h->src_node;
	r->seq = h->seq;
	INIT_WORK(&r->work, om_serve_read_work);
	queue_work(om_serve_wq, &r->work);
}

int __init om_rfile_serve_init(void)
{
	/* A few reads at once: one node's faults cannot hold every worker. */
	om_serve_wq = alloc_workqueue("om_rfile_serve", WQ_UNBOUND, 4);
	return om_serve_wq ? 0 : -ENOMEM;
}
