// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files delegated to the node a process of home runs on, home's half
 * (docs/engine.md, "Files served where the process runs"). When the deputy
 * opens a regular file for its process away and no one else has it open,
 * it takes a write lease on it and the node serves the process's calls on
 * that descriptor from a copy (deleg.c). The lease is what keeps the copy
 * true: any other open, or a truncate by path, breaks it, and the node is
 * asked to give the file back (DELEG_RECALL) before that opener goes on.
 * What the node wrote comes back in DELEG_FLUSH messages, applied here in
 * the order they came, by a worker of their own: the deputy may be the
 * very opener that waits for the file.
 */
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/filelock.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kref.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/security.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/xarray.h>
#include <asm/unistd.h>

#include "om.h"

/*
 * om.delegate=0 (or 0 written to /sys/module/om/parameters/delegate at
 * home): no file is delegated, every call on it is forwarded.
 */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
static bool om_deleg_on = true;
module_param_named(delegate, om_deleg_on, bool, 0644);
MODULE_PARM_DESC(delegate, "Files a process away opens alone are served where it runs");

struct om_deleg_rec {
	struct kref ref;
	u32 id;
	u32 node;		/* where the process runs: the only sender of its flushes */
	u32 served;		/* its bytes, by RFILE_READ */
	struct om_proc *deputy;	/* held: failures kept for its calls */
	struct file *file;	/* the deputy's file, held until the last put */
	fl_owner_t posix_owner;	/* the deputy's files: its record locks' owner */
	pid_t posix_pid;
	int err;		/* the first failure since the last answered flush */
	bool recalled;
	struct delayed_work recall; /* until it ends: a recall may come before the node took it */
};

static DEFINE_XARRAY_ALLOC1(om_deleg_recs);
static u32 om_deleg_next;
/* Flushes applied one at a time, in arrival order: a node's pages before its return. */
static struct workqueue_struct *om_deleg_wq;

static void om_deleg_rec_release(struct kref *ref)
{
	struct om_deleg_rec *r = container_of(ref, struct om_deleg_rec, ref);

	fput(r->file);
	om_proc_put(r->deputy);
	kfree(r);
}

static void om_deleg_rec_put(struct om_deleg_rec *r)
{
	kref_put(&r->ref, om_deleg_rec_release);
}

static struct om_deleg_rec *om_deleg_rec_get(u32 id)
{
	struct om_deleg_rec *r;

	xa_lock(&om_deleg_recs);
	r = xa_load(&om_deleg_recs, id);
	if (r)
		kref_get(&r->ref);
	xa_unlock(&om_deleg_recs);
	return r;
}

/* Whether @r is still delegated (not ended by a return, the deputy's end or a node lost). */
static bool om_deleg_rec_listed(struct om_deleg_rec *r)
{
	return xa_load(&om_deleg_recs, r->id) == r;
}

/*
 * Sent again each second until the delegation ends: the node drops a recall
 * that comes before the open's answer made it take the delegation, or one
 * lost on the way.
 */
#define OM_DELEG_RECALL_AGAIN HZ

static void om_deleg_recall_work(struct work_struct *work)
{
	struct om_deleg_rec *r = container_of(to_delayed_work(work), struct om_deleg_rec, recall);
	struct virtio_om_deleg_recall rc = { .id = cpu_to_le32(r->id) };
	struct kvec kv = { &rc, sizeof(rc) };
	struct om_kcom_out out = {
		.dst_node = r->node,
		.type = VIRTIO_OM_T_DELEG_RECALL,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	if (!om_deleg_rec_listed(r)) {
		om_deleg_rec_put(r);
		return;
	}
	/* A node gone cannot answer: its loss ends the delegation (below). */
	if (om_kcom_send(&out, 0, NULL))
		pr_debug("omvm: recall of delegation %u from node %u not sent\n", r->id, r->node);
	/* The work keeps its reference while it comes again. */
	schedule_delayed_work(&r->recall, OM_DELEG_RECALL_AGAIN);
}

/* Another opener, or a truncate: ask the node for the file back (under flc_lock). */
static bool om_deleg_lm_break(struct file_lease *fl)
{
	struct om_deleg_rec *r = fl->c.flc_owner;

	if (!r->recalled) {
		r->recalled = true;
		kref_get(&r->ref);
		schedule_delayed_work(&r->recall, 0);
	}
	/* The lease stays until the node gave the file back (or lease-break-time passed). */
	return false;
}

static const struct lease_manager_operations om_deleg_lmops = {
	.lm_break = om_deleg_lm_break,
	.lm_change = lease_modify,
};

/* Whether the lease is still ours: a break past lease-break-time removes it. */
static bool om_deleg_lease_held(struct om_deleg_rec *r)
{
	struct file_lock_context *ctx = locks_inode_context(file_inode(r->file));
	struct file_lock_core *flc;
	bool held = false;

	if (!ctx)
		return false;
	spin_lock(&ctx->flc_lock);
	list_for_each_entry(flc, &ctx->flc_lease, flc_list)
		/* Past lease-break-time a reader's break downgrades it: no longer ours alone. */
		if (flc->flc_owner == r && flc->flc_file == r->file && flc->flc_type == F_WRLCK)
			held = true;
	spin_unlock(&ctx->flc_lock);
	return held;
}

/* The delegation ends: the lease goes, the file is no longer served. */
static void om_deleg_end(struct om_deleg_rec *r)
{
	void *owner = r;
	bool mine;

	/* Whoever takes it off the table ends it: a return, the deputy's end, a node lost. */
	xa_lock(&om_deleg_recs);
	mine = xa_load(&om_deleg_recs, r->id) == r;
	if (mine)
		__xa_erase(&om_deleg_recs, r->id);
	xa_unlock(&om_deleg_recs);
	if (!mine)
		return;
	kernel_setlease(r->file, F_UNLCK, NULL, &owner);
	om_rfile_unserve(r->node, r->served);
	om_deleg_rec_put(r);
}

/*
 * A file of a disk's file system, or of tmpfs: its size and bytes are what
 * reading it gives (not /proc's or sysfs's), and its pages are its own.
 */
static bool om_deleg_fs(struct file *f)
{
	return S_ISREG(file_inode(f)->i_mode) &&
	       ((file_inode(f)->i_sb->s_type->fs_flags & FS_REQUIRES_DEV) ||
		shmem_mapping(f->f_mapping));
}

static bool om_deleg_open_call(long nr)
{
	return nr == __NR_open || nr == __NR_openat || nr == __NR_creat;
}

/**
 * om_deleg_grant() - delegate a file the deputy just opened, if it may be
 * @p: the deputy, in its own context
 * @nr: the call it ran (open, openat or creat)
 * @args: its arguments
 * @fd: its result, the new descriptor
 * @g: filled in for the answer
 *
 * Return: 0 (delegated), or -errno: the file is used at home as before.
 */
int om_deleg_grant(struct om_proc *p, long nr, const unsigned long args[6], long fd,
		   struct virtio_om_deleg *g)
{
	struct file_lease *lease;
	struct om_deleg_rec *r;
	struct kstat st;
	struct file *f;
	int err;

	if (!om_deleg_on || !om_deleg_open_call(nr) || fd < 0)
		return -EINVAL;
	f = fget(fd);
	if (!f)
		return -EBADF;
	err = -EINVAL;
	/*
	 * Appends and synchronous writes are the file system's to order,
	 * a file shared with another descriptor is not the process's alone.
	 */
	if (!om_deleg_fs(f) || (f->f_flags & (O_APPEND | O_DIRECT | O_DSYNC | __O_SYNC | O_PATH)) ||
	    file_count(f) != 2)
		goto out_put;
	err = vfs_getattr(&f->f_path, &st, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out_put;
	err = -EFBIG;
	if (st.size > OM_DELEG_MAX_SIZE)
		goto out_put;
	/* Its bytes are read from home through it: a write-only one must be empty. */
	err = -EINVAL;
	if (st.size && !(f->f_mode & FMODE_CAN_READ))
		goto out_put;
	err = -ENOMEM;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		goto out_put;
	kref_init(&r->ref);
	INIT_DELAYED_WORK(&r->recall, om_deleg_recall_work);
	r->node = p->peer_node;
	r->deputy = p;
	refcount_inc(&p->ref);
	r->file = f;
	r->posix_owner = current->files;
	r->posix_pid = current->tgid;
	err = om_rfile_serve_file(r->node, f, &r->served);
	if (err) {
		om_proc_put(p);
		kfree(r);
		goto out_put;
	}
	err = xa_alloc_cyclic(&om_deleg_recs, &r->id, NULL, xa_limit_31b, &om_deleg_next,
			      GFP_KERNEL);
	if (err < 0)
		goto out_unserve;
	lease = locks_alloc_lease();
	err = -ENOMEM;
	if (!lease)
		goto out_erase;
	lease->c.flc_flags = FL_LEASE;
	lease->c.flc_type = F_WRLCK;
	lease->c.flc_file = f;
	lease->c.flc_owner = r;
	lease->c.flc_pid = current->tgid;
	lease->fl_lmops = &om_deleg_lmops;
	/* Refused when anyone else has the file open, for reading too. */
	err = kernel_setlease(f, F_WRLCK, &lease, NULL);
	if (lease)
		locks_free_lease(lease);
	if (err)
		goto out_erase;
	xa_store(&om_deleg_recs, r->id, r, GFP_KERNEL);
	atomic64_inc(&p->stats.deleg_files);

	memset(g, 0, sizeof(*g));
	g->id = cpu_to_le32(r->id);
	g->flags = cpu_to_le32((f->f_mode & FMODE_READ ? VIRTIO_OM_DELEG_F_READ : 0) |
			       (f->f_mode & FMODE_WRITE ? VIRTIO_OM_DELEG_F_WRITE : 0));
	g->served = cpu_to_le32(r->served);
	g->mode = cpu_to_le32(st.mode);
	g->size = cpu_to_le64(st.size);
	g->dev = cpu_to_le64(new_encode_dev(st.dev));
	g->ino = cpu_to_le64(st.ino);
	g->rdev = cpu_to_le64(new_encode_dev(st.rdev));
	g->nlink = cpu_to_le32(st.nlink);
	g->uid = cpu_to_le32(from_kuid_munged(current_user_ns(), st.uid));
	g->gid = cpu_to_le32(from_kgid_munged(current_user_ns(), st.gid));
	g->blksize = cpu_to_le32(st.blksize);
	g->blocks = cpu_to_le64(st.blocks);
	g->atime_ns = cpu_to_le64(timespec64_to_ns(&st.atime));
	g->mtime_ns = cpu_to_le64(timespec64_to_ns(&st.mtime));
	g->ctime_ns = cpu_to_le64(timespec64_to_ns(&st.ctime));
	return 0;

out_erase:
	xa_erase(&om_deleg_recs, r->id);
out_unserve:
	om_rfile_unserve(r->node, r->served);
	om_proc_put(p);
	kfree(r);
out_put:
	fput(f);
	return err;
}

/* Pages of a file a node may send: whole pages within what is delegated. */
bool om_deleg_offsets_valid(const __le64 *offs, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++)
		if (offset_in_page(le64_to_cpu(offs[i])) ||
		    le64_to_cpu(offs[i]) >= OM_DELEG_MAX_SIZE)
			return false;
	return true;
}

/* Write @count pages at their offsets: the first failure is kept. */
static void om_deleg_write_pages(struct om_deleg_rec *r, struct om_kcom_msg *msg, size_t off,
				 const __le64 *offs, u32 count, void *buf)
{
	loff_t pos;
	ssize_t n;
	u32 i;

	for (i = 0; i < count; i++) {
		pos = le64_to_cpu(offs[i]);
		if (om_kcom_msg_copy(msg, off + (size_t)i * PAGE_SIZE, buf, PAGE_SIZE) !=
		    PAGE_SIZE) {
			r->err = r->err ?: -EPROTO;
			return;
		}
		n = kernel_write(r->file, buf, PAGE_SIZE, &pos);
		if (n != PAGE_SIZE && !r->err)
			r->err = n < 0 ? n : -EIO;
	}
}

/* The process's record locks, as it held them on the node's copy. */
static void om_deleg_set_locks(struct om_deleg_rec *r, const struct virtio_om_deleg_lock *l,
			       u32 n)
{
	struct file_lock fl;
	u32 i, type;
	int err;

	for (i = 0; i < n; i++) {
		type = le32_to_cpu(l[i].type);
		if ((type != F_RDLCK && type != F_WRLCK) ||
		    (le32_to_cpu(l[i].flags) & ~VIRTIO_OM_DELEG_LOCK_OFD) ||
		    (s64)le64_to_cpu(l[i].start) < 0 ||
		    (s64)le64_to_cpu(l[i].end) < (s64)le64_to_cpu(l[i].start)) {
			r->err = r->err ?: -EPROTO;
			continue;
		}
		locks_init_lock(&fl);
		if (le32_to_cpu(l[i].flags) & VIRTIO_OM_DELEG_LOCK_OFD) {
			fl.c.flc_flags = FL_OFDLCK;
			fl.c.flc_owner = r->file;
			fl.c.flc_pid = -1;
		} else {
			fl.c.flc_flags = FL_POSIX;
			fl.c.flc_owner = r->posix_owner;
			fl.c.flc_pid = r->posix_pid;
		}
		fl.c.flc_type = type;
		fl.c.flc_file = r->file;
		fl.fl_start = le64_to_cpu(l[i].start);
		fl.fl_end = le64_to_cpu(l[i].end);
		err = vfs_lock_file(r->file, F_SETLK, &fl, NULL);
		locks_release_private(&fl);
		if (err && !r->err)
			r->err = err;
	}
}

/* The size the node left: set when it differs (only a writer changes it). */
static void om_deleg_set_size(struct om_deleg_rec *r, loff_t size)
{
	struct file *f = r->file;
	int err;

	if (size == i_size_read(file_inode(f)))
		return;
	if (!(f->f_mode & FMODE_WRITE) || size < 0) {
		r->err = r->err ?: -EPROTO;
		return;
	}
	sb_start_write(file_inode(f)->i_sb);
	err = security_file_truncate(f);
	if (!err)
		err = do_truncate(file_mnt_idmap(f), f->f_path.dentry, size,
				  ATTR_MTIME | ATTR_CTIME, f);
	sb_end_write(file_inode(f)->i_sb);
	if (err && !r->err)
		r->err = err;
}

struct om_deleg_flush_work {
	struct work_struct work;
	struct om_kcom_msg *msg;
};

static int om_deleg_reply(const struct om_kcom_hdr *h, int err)
{
	struct virtio_om_deleg_done d = { .error = cpu_to_le32(-err) };
	struct kvec kv = { &d, sizeof(d) };
	struct om_kcom_out out = {
		.dst_node = h->src_node,
		.type = VIRTIO_OM_T_DELEG_DONE,
		.flags = VIRTIO_OM_F_REPLY,
		.reply_to = h->seq,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	return om_kcom_send(&out, 0, NULL);
}

/**
 * om_deleg_flush_valid() - whether a DELEG_FLUSH is well formed
 * @fh: its struct
 * @len: its payload's length
 *
 * Return: 0, or -EPROTO: unknown flags, F_SYNC or F_KEEP out of place, more
 * pages or locks than a message may carry, or a length not their sum.
 */
int om_deleg_flush_valid(const struct virtio_om_deleg_flush *fh, size_t len)
{
	u32 flags = le32_to_cpu(fh->flags), count = le32_to_cpu(fh->count);
	u32 nr_locks = le32_to_cpu(fh->nr_locks);

	if ((flags & ~VIRTIO_OM_DELEG_FLUSH_F_ALL) || count > OM_DELEG_FLUSH_PAGES ||
	    nr_locks > OM_DELEG_LOCKS_MAX ||
	    len != sizeof(*fh) + (size_t)count * (sizeof(__le64) + PAGE_SIZE) +
		   (size_t)nr_locks * sizeof(struct virtio_om_deleg_lock) ||
	    ((flags & VIRTIO_OM_DELEG_FLUSH_F_SYNC) && !(flags & VIRTIO_OM_DELEG_FLUSH_F_LAST)) ||
	    ((flags & VIRTIO_OM_DELEG_FLUSH_F_KEEP) && !(flags & VIRTIO_OM_DELEG_FLUSH_F_RETURN)) ||
	    (nr_locks && !(flags & VIRTIO_OM_DELEG_FLUSH_F_RETURN)))
		return -EPROTO;
	return 0;
}

static void om_deleg_flush_work(struct work_struct *work)
{
	struct om_deleg_flush_work *w = container_of(work, struct om_deleg_flush_work, work);
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(w->msg);
	struct virtio_om_deleg_lock *locks = NULL;
	struct virtio_om_deleg_flush fh;
	struct om_deleg_rec *r = NULL;
	__le64 *offs = NULL;
	u32 flags, count, nr_locks;
	void *buf = NULL;
	int err = 0;

	memset(&fh, 0, sizeof(fh));
	om_kcom_msg_copy(w->msg, 0, &fh, sizeof(fh));
	flags = le32_to_cpu(fh.flags);
	count = le32_to_cpu(fh.count);
	nr_locks = le32_to_cpu(fh.nr_locks);
	err = om_deleg_flush_valid(&fh, h->len);
	if (err)
		goto answer;
	r = om_deleg_rec_get(le32_to_cpu(fh.id));
	/* Only the node it was delegated to flushes it. */
	if (!r || r->node != h->src_node) {
		err = -EBADF;
		goto answer;
	}
	offs = kmalloc_array(count + 1, sizeof(*offs), GFP_KERNEL);
	locks = kmalloc_array(nr_locks + 1, sizeof(*locks), GFP_KERNEL);
	buf = count ? kmalloc(PAGE_SIZE, GFP_KERNEL) : NULL;
	if (!offs || !locks || (count && !buf)) {
		r->err = r->err ?: -ENOMEM;
		goto last;
	}
	/* Revoked for taking too long (lease-break-time): what it sends is too late. */
	if (!om_deleg_lease_held(r)) {
		r->err = r->err ?: -EIO;
		goto last;
	}
	om_kcom_msg_copy(w->msg, sizeof(fh), offs, count * sizeof(*offs));
	if (!om_deleg_offsets_valid(offs, count) ||
	    ((flags & (VIRTIO_OM_DELEG_FLUSH_F_LAST | VIRTIO_OM_DELEG_FLUSH_F_RETURN)) &&
	     le64_to_cpu(fh.size) > OM_DELEG_MAX_SIZE)) {
		r->err = r->err ?: -EPROTO;
		goto last;
	}
	om_kcom_msg_copy(w->msg, sizeof(fh) + count * sizeof(*offs), locks,
			 nr_locks * sizeof(*locks));
	om_deleg_write_pages(r, w->msg, sizeof(fh) + count * sizeof(*offs) +
			     nr_locks * sizeof(*locks), offs, count, buf);
	if (!(flags & (VIRTIO_OM_DELEG_FLUSH_F_LAST | VIRTIO_OM_DELEG_FLUSH_F_RETURN)))
		goto out;
	om_deleg_set_size(r, le64_to_cpu(fh.size));
	if (flags & VIRTIO_OM_DELEG_FLUSH_F_SYNC) {
		err = vfs_fsync(r->file, !!(flags & VIRTIO_OM_DELEG_FLUSH_F_DATASYNC));
		if (err && !r->err)
			r->err = err;
	}
	if (flags & VIRTIO_OM_DELEG_FLUSH_F_RETURN) {
		loff_t pos = le64_to_cpu(fh.pos);

		if (pos < 0 || vfs_llseek(r->file, pos, SEEK_SET) != pos)
			r->err = r->err ?: -EPROTO;
		om_deleg_set_locks(r, locks, nr_locks);
	}
last:
	if (flags & VIRTIO_OM_DELEG_FLUSH_F_RETURN)
		om_deleg_end(r);
	err = r->err;
	r->err = 0;
	/* Its pages failed and no call of the process says so: its next fsync or close will. */
	if (err && (flags & VIRTIO_OM_DELEG_FLUSH_F_KEEP))
		om_behind_keep_pending(r->deputy, r->file, err);
answer:
	/* Only a last message is waited for. */
	if (flags & VIRTIO_OM_DELEG_FLUSH_F_LAST)
		om_deleg_reply(h, err);
out:
	if (r)
		om_deleg_rec_put(r);
	kfree(offs);
	kfree(locks);
	kfree(buf);
	om_kcom_msg_free(w->msg);
	kfree(w);
}

/**
 * om_deleg_home_recv() - DELEG_FLUSH from a node
 * @msg: the message, consumed
 *
 * Context: kcom's receive worker: the flush is queued, never done here.
 */
void om_deleg_home_recv(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct om_deleg_flush_work *w;

	if (h->flags & VIRTIO_OM_F_REPLY) {
		om_kcom_msg_free(msg);
		return;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		om_deleg_reply(h, -ENOMEM);
		om_kcom_msg_free(msg);
		return;
	}
	w->msg = msg;
	INIT_WORK(&w->work, om_deleg_flush_work);
	queue_work(om_deleg_wq, &w->work);
}

/* End every delegation @match picks (a deputy's at its end, a node's at its loss). */
static void om_deleg_end_matching(const struct om_proc *deputy, u32 node)
{
	struct om_deleg_rec *r;
	unsigned long id;

	xa_for_each(&om_deleg_recs, id, r) {
		r = om_deleg_rec_get(id);
		if (!r)
			continue;
		if ((deputy && r->deputy == deputy) || (node && r->node == node))
			om_deleg_end(r);
		om_deleg_rec_put(r);
	}
}

/* The deputy ends: its process gave its files back before, or is gone with them. */
void om_deleg_home_forget(const struct om_proc *deputy)
{
	om_deleg_end_matching(deputy, 0);
}

/* A node went down: what it had not sent back is lost with it. */
void om_deleg_home_node_lost(u32 node)
{
	om_deleg_end_matching(NULL, node);
}

int __init om_deleg_home_init(void)
{
	om_deleg_wq = alloc_ordered_workqueue("om_deleg", 0);
	return om_deleg_wq ? 0 : -ENOMEM;
}
