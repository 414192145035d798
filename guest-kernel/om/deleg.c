// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files delegated to this node for a process away (docs/engine.md, "Files
 * served where the process runs"), the node's half. Home answered the
 * process's open with a delegation (deleg_home.c): no one else has the file
 * open there, and a lease tells home when someone wants it. The process's
 * reads, writes, seeks, fstat(), ftruncate() and record locks on that
 * descriptor then run here, on a copy in memory (shmem) that is the file
 * as the process sees it: pages of home's file are read into it when a call
 * first needs them, pages it writes stay here until an fsync(), a close(),
 * a move, the process's end, or a recall from home sends them back. Any
 * other call on the descriptor gives the file back first, then goes home as
 * before; so does a fork, an exec, or a call that runs at home.
 */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/filelock.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include <linux/ioctl.h>
#include <linux/termios.h>
#include <linux/kdev_t.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <asm/unistd.h>

#include "om.h"

/* A descriptor of the process's table that exec closes (FD_CLOEXEC at home). */
#define OM_DELEG_CLOEXEC XA_MARK_0

/* Pages written and not sent home, at most, before they are sent unasked. */
#define OM_DELEG_DIRTY_MAX 1024

struct om_deleg {
	struct kref ref;
	struct mutex lock;	/* the process's calls, and a recall's return */
	u32 home, id, served;
	u32 flags;		/* VIRTIO_OM_DELEG_F_* */
	bool ended;		/* given back (or home lost): calls go home */
	bool recalled;		/* ended by home's asking */
	struct file *copy;	/* the file as the process sees it */
	loff_t home_size;	/* pages below it are home's until read in */
	struct xarray have;	/* pages of the copy that hold the file's bytes */
	struct xarray dirty;	/* pages written here, not yet sent home */
	unsigned long nr_dirty;
	fl_owner_t owner;	/* the process's record locks' owner here */
	struct virtio_om_deleg st; /* what fstat() said at home */
	struct timespec64 mtime; /* changed here: the times are ours */
	bool changed;
	bool unsent;		/* written or cut since home last answered a flush */
	unsigned int fds;	/* the process's descriptors for it (dup shares it) */
	int err;		/* a failure sending pages home, for the next fsync/close */
	struct work_struct recall;
};

/* Delegations here by home node and id, for recalls. */
static DEFINE_XARRAY(om_delegs);
static struct workqueue_struct *om_deleg_wq;

static unsigned long om_deleg_key(u32 home, u32 id)
{
	return ((unsigned long)home << 32) | id;
}

static void om_deleg_release(struct kref *ref)
{
	struct om_deleg *d = container_of(ref, struct om_deleg, ref);

	/* Its locks went home with it; the copy's go with the copy. */
	locks_remove_posix(d->copy, d->owner);
	fput(d->copy);
	xa_destroy(&d->have);
	xa_destroy(&d->dirty);
	kfree(d);
}

static void om_deleg_put(struct om_deleg *d)
{
	kref_put(&d->ref, om_deleg_release);
}

static void om_deleg_unlist(struct om_deleg *d)
{
	xa_cmpxchg(&om_delegs, om_deleg_key(d->home, d->id), d, NULL, GFP_KERNEL);
}

static int om_deleg_mark(struct xarray *xa, pgoff_t first, pgoff_t last, unsigned long *count)
{
	pgoff_t i;
	void *old;

	for (i = first; i <= last; i++) {
		old = xa_store(xa, i, xa_mk_value(1), GFP_KERNEL);
		if (xa_is_err(old))
			return xa_err(old);
		if (!old && count)
			(*count)++;
	}
	return 0;
}

/*
 * Home's bytes of page @index into the copy (@len of them, zeros after),
 * straight into its page cache: the process's RLIMIT_FSIZE is for its own
 * writes, not for the node filling its copy.
 */
static int om_deleg_fill(struct om_deleg *d, pgoff_t index, const void *data, size_t len)
{
	struct folio *folio;
	int err;

	err = shmem_get_folio(file_inode(d->copy), index, (loff_t)(index + 1) << PAGE_SHIFT, &folio,
			      SGP_WRITE);
	if (err)
		return err;
	if (folio_test_large(folio)) {
		err = -EOPNOTSUPP;
	} else {
		memcpy_to_folio(folio, 0, data, len);
		folio_zero_range(folio, len, PAGE_SIZE - len);
		folio_mark_uptodate(folio);
		folio_mark_dirty(folio);
	}
	folio_unlock(folio);
	folio_put(folio);
	return err;
}

/*
 * Read home's bytes of pages @first..@last the copy does not have yet, a
 * message of up to OM_DELEG_FLUSH_PAGES pages at a time, reading ahead
 * within a run of missing pages. Past home's size the copy is already right.
 */
static int om_deleg_fetch(struct om_proc *p, struct om_deleg *d, pgoff_t first, pgoff_t last)
{
	pgoff_t end = DIV_ROUND_UP(d->home_size, PAGE_SIZE), i, n, k;
	struct om_kcom_msg *reply;
	void *buf = NULL;
	u32 got;
	int err = 0;

	for (i = first; i <= last && i < end && !err; i += n) {
		if (xa_load(&d->have, i)) {
			n = 1;
			continue;
		}
		for (n = 1; n < OM_DELEG_FLUSH_PAGES && i + n < end && !xa_load(&d->have, i + n);)
			n++;
		if (!buf)
			buf = kvmalloc(OM_DELEG_FLUSH_PAGES * PAGE_SIZE, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		err = om_rfile_read(d->home, d->served, (loff_t)i << PAGE_SHIFT, n * PAGE_SIZE,
				    &reply, &got);
		if (!err) {
			om_kcom_msg_copy(reply, sizeof(struct virtio_om_rfile_data), buf, got);
			om_kcom_msg_free(reply);
			/* Home's file ends where it says; the copy's size is the process's. */
			got = min_t(loff_t, got, d->home_size - ((loff_t)i << PAGE_SHIFT));
			for (k = 0; k < n && !err; k++)
				err = om_deleg_fill(d, i + k, buf + k * PAGE_SIZE,
						    min_t(u32, got - min_t(u32, got, k * PAGE_SIZE),
							  PAGE_SIZE));
		}
		if (!err) {
			err = om_deleg_mark(&d->have, i, i + n - 1, NULL);
			atomic64_add(n, &p->stats.deleg_fetched);
		}
	}
	kvfree(buf);
	/* The call fails as a read of home's file that fails would. */
	return err ? -EIO : 0;
}

static int om_deleg_send(struct om_deleg *d, u32 flags, const __le64 *offs, u32 count,
			 void *pages, const struct virtio_om_deleg_lock *locks, u32 nr_locks)
{
	struct virtio_om_deleg_flush fh = {
		.id = cpu_to_le32(d->id),
		.flags = cpu_to_le32(flags),
		.size = cpu_to_le64(i_size_read(file_inode(d->copy))),
		.pos = cpu_to_le64(d->copy->f_pos),
		.count = cpu_to_le32(count),
		.nr_locks = cpu_to_le32(nr_locks),
	};
	struct kvec kv[4] = {
		{ &fh, sizeof(fh) },
		{ (void *)offs, count * sizeof(*offs) },
		{ (void *)locks, nr_locks * sizeof(*locks) },
		{ pages, count * PAGE_SIZE },
	};
	struct om_kcom_out out = {
		.dst_node = d->home,
		.type = VIRTIO_OM_T_DELEG_FLUSH,
		.kvec = kv,
		.nr_kvec = ARRAY_SIZE(kv),
	};
	struct virtio_om_deleg_done done;
	struct om_kcom_msg *reply = NULL;
	int err;

	/* Pages on their way, or a clean file given back: no answer awaited. */
	if (!(flags & VIRTIO_OM_DELEG_FLUSH_F_LAST))
		return om_kcom_send(&out, 0, NULL);
	/* Not killable: a process ending sends its pages home first. */
	err = om_kcom_call(&out, 0, OM_STEP_TIMEOUT, &reply);
	if (!err && (om_kcom_msg_hdr(reply)->type != VIRTIO_OM_T_DELEG_DONE ||
		     om_kcom_msg_copy(reply, 0, &done, sizeof(done)) != sizeof(done)))
		err = -EPROTO;
	if (!err)
		err = om_wire_errno(done.error);
	om_kcom_msg_free(reply);
	return err;
}

/* The process's record locks on the copy, as home is to hold them. */
static int om_deleg_locks(struct om_deleg *d, struct virtio_om_deleg_lock *l)
{
	struct file_lock_context *ctx = locks_inode_context(file_inode(d->copy));
	struct file_lock_core *flc;
	int n = 0;

	if (!ctx)
		return 0;
	spin_lock(&ctx->flc_lock);
	list_for_each_entry(flc, &ctx->flc_posix, flc_list) {
		struct file_lock *fl = container_of(flc, struct file_lock, c);

		if (n == OM_DELEG_LOCKS_MAX) {
			n = -ENOLCK;
			break;
		}
		l[n].start = cpu_to_le64(fl->fl_start);
		l[n].end = cpu_to_le64(fl->fl_end);
		l[n].type = cpu_to_le32(flc->flc_type);
		l[n].flags = cpu_to_le32(flc->flc_flags & FL_OFDLCK ? VIRTIO_OM_DELEG_LOCK_OFD : 0);
		n++;
	}
	spin_unlock(&ctx->flc_lock);
	return n;
}

/*
 * Send home every page written here, then the size (and with F_RETURN the
 * offset and the locks) in the last message, which home answers. Under
 * d->lock.
 */
static int om_deleg_flush(struct om_stats *st, struct om_deleg *d, u32 flags)
{
	loff_t size = i_size_read(file_inode(d->copy)), pos;
	struct virtio_om_deleg_lock *locks = NULL;
	__le64 offs[OM_DELEG_FLUSH_PAGES];
	int nr_locks = 0, err = 0;
	unsigned long index;
	void *pages, *entry;
	u32 n = 0;
	ssize_t r;

	pages = kvmalloc(OM_DELEG_FLUSH_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	xa_for_each(&d->dirty, index, entry) {
		xa_erase(&d->dirty, index);
		d->nr_dirty--;
		pos = (loff_t)index << PAGE_SHIFT;
		/* Past the end (truncated since): nothing to send. */
		if (pos >= size)
			continue;
		r = kernel_read(d->copy, pages + n * PAGE_SIZE, PAGE_SIZE, &pos);
		if (r < 0) {
			err = err ?: r;
			continue;
		}
		memset(pages + n * PAGE_SIZE + r, 0, PAGE_SIZE - r);
		offs[n++] = cpu_to_le64((u64)index << PAGE_SHIFT);
		if (n < OM_DELEG_FLUSH_PAGES)
			continue;
		err = om_deleg_send(d, 0, offs, n, pages, NULL, 0) ?: err;
		if (st)
			atomic64_add(n, &st->deleg_flushed);
		n = 0;
	}
	if (flags & VIRTIO_OM_DELEG_FLUSH_F_RETURN) {
		locks = kmalloc_array(OM_DELEG_LOCKS_MAX, sizeof(*locks), GFP_KERNEL);
		nr_locks = locks ? om_deleg_locks(d, locks) : -ENOMEM;
		if (nr_locks < 0) {
			err = err ?: nr_locks;
			nr_locks = 0;
		}
	}
	/*
	 * Given back by its close with nothing home lacks (no page, size or
	 * lock since its last answer): not waited for. Home's lease holds any
	 * other opener until it is applied; the descriptor is gone at home
	 * after the close, so nothing the process does next depends on it (a
	 * return before another call on it waits: home's worker sets the
	 * offset, which that call may move).
	 */
	if (!(flags & VIRTIO_OM_DELEG_FLUSH_F_RETURN) || (flags & VIRTIO_OM_DELEG_FLUSH_F_KEEP) ||
	    n || nr_locks || d->unsent || err)
		flags |= VIRTIO_OM_DELEG_FLUSH_F_LAST;
	err = om_deleg_send(d, flags, offs, n, pages, locks, nr_locks) ?: err;
	if (!err && (flags & VIRTIO_OM_DELEG_FLUSH_F_LAST))
		d->unsent = false;
	if (st)
		atomic64_add(n, &st->deleg_flushed);
	kfree(locks);
	kvfree(pages);
	return err;
}

/* Give the file back (under d->lock): home holds it as the process left it. */
static int om_deleg_give_back(struct om_stats *st, struct om_deleg *d, bool told)
{
	u32 flags = VIRTIO_OM_DELEG_FLUSH_F_RETURN;
	int err;

	if (d->ended)
		return 0;
	/* No call of the process reports a failure: home keeps it for the file's next fsync. */
	if (!told)
		flags |= VIRTIO_OM_DELEG_FLUSH_F_KEEP;
	err = om_deleg_flush(st, d, flags);
	d->ended = true;
	om_deleg_unlist(d);
	err = err ?: d->err;
	d->err = 0;
	return err;
}

/* @fd's delegation off the process's table (in its own context). */
static void om_deleg_drop(struct om_proc *p, unsigned long fd, struct om_deleg *d)
{
	xa_erase(&p->delegs, fd);
	atomic64_inc(&p->stats.deleg_returns);
	if (d->recalled)
		atomic64_inc(&p->stats.deleg_recalls);
	om_deleg_put(d);
}

static int om_deleg_return_fd(struct om_proc *p, unsigned long fd)
{
	struct om_deleg *d = fd <= INT_MAX ? xa_load(&p->delegs, fd) : NULL;
	int err;

	if (!d)
		return 0;
	mutex_lock(&d->lock);
	err = om_deleg_give_back(&p->stats, d, false);
	mutex_unlock(&d->lock);
	om_deleg_drop(p, fd, d);
	if (err)
		pr_warn_ratelimited("omvm: pid %d: a delegated file went home with an error: %d\n",
				    p->home_pid, err);
	return err;
}

/**
 * om_deleg_return_all() - give every delegated file of the process back
 * @p: the process away, in its own context
 *
 * Before a move, a fork, an exec, a call at home, and its end.
 * Return: 0, or the first error of a file's pages sent home.
 */
int om_deleg_return_all(struct om_proc *p)
{
	struct om_deleg *d;
	unsigned long fd;
	int err = 0, e;

	xa_for_each(&p->delegs, fd, d) {
		e = om_deleg_return_fd(p, fd);
		err = err ?: e;
	}
	return err;
}

/* The half's end: what was not given back is dropped (home lost, or a copy ends). */
void om_deleg_forget(struct om_proc *p)
{
	struct om_deleg *d;
	unsigned long fd;

	xa_for_each(&p->delegs, fd, d) {
		xa_erase(&p->delegs, fd);
		om_deleg_unlist(d);
		om_deleg_put(d);
	}
	xa_destroy(&p->delegs);
}

/* Home asked for the file back: the process may be in any call meanwhile. */
static void om_deleg_recall_work(struct work_struct *work)
{
	struct om_deleg *d = container_of(work, struct om_deleg, recall);
	int err;

	mutex_lock(&d->lock);
	if (!d->ended) {
		d->recalled = true;
		err = om_deleg_give_back(NULL, d, false);
		/* No call of the process to fail: its file is home's again, as the node left it. */
		if (err)
			pr_warn_ratelimited("omvm: a recalled file went home with an error: %d\n",
					    err);
	}
	mutex_unlock(&d->lock);
	om_deleg_put(d);
}

/**
 * om_deleg_grant_valid() - whether a delegation home sent may be taken
 * @nr: the call it answers
 * @fd: the call's result
 * @g: the delegation
 *
 * Return: true for an open's new descriptor, a known mode, a size the node
 * takes (home is a peer: what it sends is checked).
 */
bool om_deleg_grant_valid(long nr, long fd, const struct virtio_om_deleg *g)
{
	u32 flags = le32_to_cpu(g->flags);
	s64 size = le64_to_cpu(g->size);

	return (nr == __NR_open || nr == __NR_openat || nr == __NR_creat) && fd >= 0 &&
	       fd <= INT_MAX && g->id && flags && !(flags & ~VIRTIO_OM_DELEG_F_ALL) &&
	       size >= 0 && size <= OM_DELEG_MAX_SIZE;
}

/* Give back a delegation this node cannot take: home's file as it is. */
static void om_deleg_refuse(u32 home, const struct virtio_om_deleg *g)
{
	struct virtio_om_deleg_flush fh = {
		.id = g->id,
		.flags = cpu_to_le32(VIRTIO_OM_DELEG_FLUSH_F_LAST | VIRTIO_OM_DELEG_FLUSH_F_RETURN),
		.size = g->size,
	};
	struct kvec kv = { &fh, sizeof(fh) };
	struct om_kcom_out out = {
		.dst_node = home,
		.type = VIRTIO_OM_T_DELEG_FLUSH,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct om_kcom_msg *reply = NULL;

	if (!om_kcom_call(&out, 0, OM_STEP_TIMEOUT, &reply))
		om_kcom_msg_free(reply);
}

/**
 * om_deleg_take() - take the delegation an open's answer brought
 * @p: the process away, in its own context
 * @nr: the call (open, openat or creat)
 * @args: its arguments
 * @fd: its result
 * @g: the delegation, as home sent it (checked here)
 */
void om_deleg_take(struct om_proc *p, long nr, const unsigned long args[6], long fd,
		   const struct virtio_om_deleg *g)
{
	u32 flags = le32_to_cpu(g->flags);
	loff_t size = le64_to_cpu(g->size);
	struct om_deleg *d = NULL;
	int err = -EPROTO;

	if (!om_deleg_grant_valid(nr, fd, g))
		goto refuse;
	/* A descriptor still delegated cannot be opened again: it was closed here first. */
	if (xa_load(&p->delegs, fd))
		goto refuse;
	err = -ENOMEM;
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		goto refuse;
	kref_init(&d->ref);
	mutex_init(&d->lock);
	xa_init(&d->have);
	xa_init(&d->dirty);
	INIT_WORK(&d->recall, om_deleg_recall_work);
	d->home = p->home_node;
	d->id = le32_to_cpu(g->id);
	d->served = le32_to_cpu(g->served);
	d->flags = flags;
	d->home_size = size;
	d->st = *g;
	d->owner = current->files;
	d->fds = 1;
	d->copy = shmem_kernel_file_setup("om-deleg", 0, VM_NORESERVE);
	if (IS_ERR(d->copy)) {
		err = PTR_ERR(d->copy);
		kfree(d);
		goto refuse;
	}
	/* Holes until read: the node sizes its copy, whatever the process's RLIMIT_FSIZE. */
	d->copy->f_flags |= O_LARGEFILE;
	inode_lock(file_inode(d->copy));
	i_size_write(file_inode(d->copy), size);
	inode_unlock(file_inode(d->copy));
	err = xa_insert(&om_delegs, om_deleg_key(d->home, d->id), d, GFP_KERNEL);
	if (!err) {
		err = xa_insert(&p->delegs, fd, d, GFP_KERNEL);
		if (err)
			om_deleg_unlist(d);
	}
	if (err) {
		om_deleg_put(d);
		goto refuse;
	}
	/* Its table holds it; the recall table's entry shares that reference. */
	if ((nr == __NR_openat ? args[2] : nr == __NR_open ? args[1] : 0) & O_CLOEXEC)
		xa_set_mark(&p->delegs, fd, OM_DELEG_CLOEXEC);
	atomic64_inc(&p->stats.deleg_files);
	return;
refuse:
	pr_debug("omvm: pid %d: delegation %u not taken: %d\n", p->home_pid,
		 le32_to_cpu(g->id), err);
	om_deleg_refuse(p->home_node, g);
}

enum om_deleg_way {
	OM_DELEG_SERVED,	/* done here */
	OM_DELEG_KEEP,		/* goes home, the file stays delegated (it reads no byte of it) */
	OM_DELEG_RETURN,	/* goes home once the file is given back */
};

static void om_deleg_touch(struct om_deleg *d)
{
	d->changed = true;
	d->unsent = true;
	ktime_get_real_ts64(&d->mtime);
}

/* read, write, pread64, pwrite64 on the copy; -EXDEV: past what is delegated, at home. */
static long om_deleg_rw(struct om_proc *p, struct om_deleg *d, bool write, char __user *buf,
			size_t n, loff_t *ppos)
{
	loff_t *at = ppos ?: &d->copy->f_pos, pos = *at, end;
	ssize_t ret;
	int err;

	if (!(d->flags & (write ? VIRTIO_OM_DELEG_F_WRITE : VIRTIO_OM_DELEG_F_READ)))
		return -EBADF;
	if (pos < 0)
		return -EINVAL;
	n = min_t(size_t, n, MAX_RW_COUNT);
	if (!n)
		return 0;
	if (write && (pos > OM_DELEG_MAX_SIZE || n > OM_DELEG_MAX_SIZE - pos))
		return -EXDEV;
	end = pos + n;
	if (!write) {
		end = min(end, i_size_read(file_inode(d->copy)));
		err = end > pos ? om_deleg_fetch(p, d, pos >> PAGE_SHIFT,
						 (end - 1) >> PAGE_SHIFT) : 0;
	} else {
		/* Whole pages written need not be read first; the edges do. */
		err = offset_in_page(pos) ? om_deleg_fetch(p, d, pos >> PAGE_SHIFT,
							   pos >> PAGE_SHIFT) : 0;
		if (!err && offset_in_page(end))
			err = om_deleg_fetch(p, d, end >> PAGE_SHIFT, end >> PAGE_SHIFT);
	}
	if (err)
		return err;
	ret = write ? vfs_write(d->copy, buf, n, at) : vfs_read(d->copy, buf, n, at);
	if (!write || ret <= 0)
		return ret;
	/*
	 * Cut short (a fault in the buffer, the node's memory full) inside a
	 * page of home's never read: its tail here is zeros, not home's bytes.
	 * That page is not the process's write: a shorter one, ending before it.
	 */
	end = pos + ret;
	if (ret < n && offset_in_page(end) && end < d->home_size &&
	    !xa_load(&d->have, end >> PAGE_SHIFT)) {
		ret = (end & PAGE_MASK) - pos;
		*at = pos + ret;
		/* Nothing before it: home's page back, and the fault (shmem has no quota here). */
		if (!ret) {
			err = om_deleg_fetch(p, d, end >> PAGE_SHIFT, end >> PAGE_SHIFT);
			return err ?: -EFAULT;
		}
	}
	om_deleg_touch(d);
	err = om_deleg_mark(&d->have, pos >> PAGE_SHIFT, (pos + ret - 1) >> PAGE_SHIFT, NULL) ?:
	      om_deleg_mark(&d->dirty, pos >> PAGE_SHIFT, (pos + ret - 1) >> PAGE_SHIFT,
			    &d->nr_dirty);
	if (err)
		return err;
	/* Bounded here: past that, the pages go home unasked. */
	if (d->nr_dirty > OM_DELEG_DIRTY_MAX) {
		err = om_deleg_flush(&p->stats, d, 0);
		if (err)
			d->err = d->err ?: err;
	}
	return ret;
}

/* fstat(), and newfstatat() of the descriptor itself: home's answer, with what changed here. */
static int om_deleg_stat_fill(struct om_deleg *d, struct stat *sp)
{
	loff_t size = i_size_read(file_inode(d->copy));
	const struct virtio_om_deleg *g = &d->st;
	struct timespec64 t;
	struct stat s;

	if (d->ended)
		return -EBADF;
	memset(&s, 0, sizeof(s));
	s.st_dev = le64_to_cpu(g->dev);
	s.st_ino = le64_to_cpu(g->ino);
	s.st_nlink = le32_to_cpu(g->nlink);
	s.st_mode = le32_to_cpu(g->mode);
	s.st_uid = le32_to_cpu(g->uid);
	s.st_gid = le32_to_cpu(g->gid);
	s.st_rdev = le64_to_cpu(g->rdev);
	s.st_size = size;
	s.st_blksize = le32_to_cpu(g->blksize);
	/* Home allocates what was written here once it is there: its blocks then. */
	s.st_blocks = size == (loff_t)le64_to_cpu(g->size) ? le64_to_cpu(g->blocks) :
		      DIV_ROUND_UP(size, 512);
	t = ns_to_timespec64(le64_to_cpu(g->atime_ns));
	s.st_atime = t.tv_sec;
	s.st_atime_nsec = t.tv_nsec;
	t = d->changed ? d->mtime : ns_to_timespec64(le64_to_cpu(g->mtime_ns));
	s.st_mtime = t.tv_sec;
	s.st_mtime_nsec = t.tv_nsec;
	t = d->changed ? d->mtime : ns_to_timespec64(le64_to_cpu(g->ctime_ns));
	s.st_ctime = t.tv_sec;
	s.st_ctime_nsec = t.tv_nsec;
	*sp = s;
	return 0;
}

static long om_deleg_stat(struct om_deleg *d, struct stat __user *ubuf)
{
	struct stat s;
	int err = om_deleg_stat_fill(d, &s);

	return err ?: copy_to_user(ubuf, &s, sizeof(s)) ? -EFAULT : 0;
}

/* Record locks on the copy: no one else can hold one on the file (home's lease). */
static long om_deleg_lock(struct om_deleg *d, unsigned int cmd, struct flock __user *ufl)
{
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	loff_t base, start, end;
	struct file_lock fl;
	struct flock f;
	int err;

	if (copy_from_user(&f, ufl, sizeof(f)))
		return -EFAULT;
	if ((f.l_type != F_RDLCK && f.l_type != F_WRLCK && f.l_type != F_UNLCK) ||
	    (ofd && f.l_pid) || (get && f.l_type == F_UNLCK))
		return -EINVAL;
	switch (f.l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = d->copy->f_pos;
		break;
	case SEEK_END:
		base = i_size_read(file_inode(d->copy));
		break;
	default:
		return -EINVAL;
	}
	/* As the kernel reads a struct flock (flock_to_posix_lock()). */
	if (f.l_start > OFFSET_MAX - base)
		return -EOVERFLOW;
	start = base + f.l_start;
	if (start < 0)
		return -EINVAL;
	if (f.l_len > 0) {
		if (f.l_len - 1 > OFFSET_MAX - start)
			return -EOVERFLOW;
		end = start + f.l_len - 1;
	} else if (f.l_len < 0) {
		end = start - 1;
		start += f.l_len;
		if (start < 0)
			return -EINVAL;
	} else {
		end = OFFSET_MAX;
	}
	if (!get && ((f.l_type == F_RDLCK && !(d->flags & VIRTIO_OM_DELEG_F_READ)) ||
		     (f.l_type == F_WRLCK && !(d->flags & VIRTIO_OM_DELEG_F_WRITE))))
		return -EBADF;
	locks_init_lock(&fl);
	fl.c.flc_flags = ofd ? FL_OFDLCK : FL_POSIX;
	fl.c.flc_owner = ofd ? (fl_owner_t)d->copy : d->owner;
	fl.c.flc_pid = current->tgid;
	fl.c.flc_file = d->copy;
	fl.c.flc_type = f.l_type;
	fl.fl_start = start;
	fl.fl_end = end;
	if (get) {
		err = vfs_test_lock(d->copy, &fl);
		/* The process's own locks never conflict: F_UNLCK, as at home. */
		if (!err) {
			f.l_type = fl.c.flc_type;
			if (copy_to_user(ufl, &f, sizeof(f)))
				err = -EFAULT;
		}
	} else {
		err = vfs_lock_file(d->copy, F_SETLK, &fl, NULL);
	}
	locks_release_private(&fl);
	return err;
}

static long om_deleg_truncate(struct om_proc *p, struct om_deleg *d, loff_t len)
{
	unsigned long index;
	void *entry;
	long err;

	err = vfs_truncate(&d->copy->f_path, len);
	if (err)
		return err;
	om_deleg_touch(d);
	xa_for_each_start(&d->have, index, entry, DIV_ROUND_UP(len, PAGE_SIZE))
		xa_erase(&d->have, index);
	if (len >= d->home_size)
		return 0;
	/*
	 * Cut into bytes home has: home cuts its file at once (a flush says
	 * the size), so that grown again it reads zeros there, as here, and a
	 * page partly cut reads as home cut it.
	 */
	d->home_size = len;
	return om_deleg_flush(&p->stats, d, 0);
}

/* A new descriptor for the same open file (dup): the delegation is its too. */
static void om_deleg_share(struct om_proc *p, struct om_deleg *d, long fd, bool cloexec)
{
	if (fd > INT_MAX || xa_insert(&p->delegs, fd, d, GFP_KERNEL)) {
		/* Not kept for it: the file goes home at the next call that names it. */
		om_deleg_give_back(&p->stats, d, false);
		return;
	}
	if (cloexec)
		xa_set_mark(&p->delegs, fd, OM_DELEG_CLOEXEC);
	kref_get(&d->ref);
	d->fds++;
}

/* One of its descriptors closed at home; the others keep it. */
static void om_deleg_unshare(struct om_proc *p, struct om_deleg *d, unsigned long fd)
{
	xa_erase(&p->delegs, fd);
	d->fds--;
	om_deleg_put(d);
}

/*
 * A regular file's ioctls that stdio asks (isatty()'s TCGETS): a file of a
 * disk or tmpfs is no terminal, as its ioctl at home would answer; FIONREAD
 * is what is left to read. The rest go home with the file.
 */
static enum om_deleg_way om_deleg_ioctl(struct om_deleg *d, unsigned int cmd, unsigned long arg,
					long *ret)
{
	loff_t left;

	switch (cmd) {
	case FIONREAD:
		left = i_size_read(file_inode(d->copy)) - d->copy->f_pos;
		*ret = put_user((int)clamp_t(loff_t, left, 0, INT_MAX), (int __user *)arg);
		return OM_DELEG_SERVED;
	case FIONBIO:
	case FIOASYNC:
	case FIOCLEX:
	case FIONCLEX:
	case FIOQSIZE:
		return OM_DELEG_RETURN;
	}
	if (_IOC_TYPE(cmd) != 'T')
		return OM_DELEG_RETURN;
	*ret = -ENOTTY;
	return OM_DELEG_SERVED;
}

/* What fchown() or fchmod() at home changed, in what fstat() here says. */
static void om_deleg_attrs(struct om_deleg *d, long nr, const unsigned long a[6])
{
	u32 mode = le32_to_cpu(d->st.mode);

	if (nr == __NR_fchmod) {
		mode = (mode & S_IFMT) | (a[1] & S_IALLUGO);
	} else {
		if ((u32)a[1] != (u32)-1)
			d->st.uid = cpu_to_le32(a[1]);
		if ((u32)a[2] != (u32)-1)
			d->st.gid = cpu_to_le32(a[2]);
		/* A change of owner drops set-user-ID (and set-group-ID when group-executable). */
		if (!S_ISDIR(mode))
			mode &= ~(S_ISUID | ((mode & 0010) ? S_ISGID : 0));
	}
	d->st.mode = cpu_to_le32(mode);
	d->st.ctime_ns = cpu_to_le64(ktime_get_real_ns());
}

/* How a call on a delegated descriptor runs; SERVED sets @ret. Under d->lock. */
static enum om_deleg_way om_deleg_serve(struct om_proc *p, struct om_deleg *d, long nr,
					const unsigned long a[6], long *ret)
{
	loff_t pos = a[3];
	u32 flags;
	char c;

	switch (nr) {
	case __NR_read:
	case __NR_write:
		*ret = om_deleg_rw(p, d, nr == __NR_write, (char __user *)a[1], a[2], NULL);
		break;
	case __NR_pread64:
	case __NR_pwrite64:
		*ret = om_deleg_rw(p, d, nr == __NR_pwrite64, (char __user *)a[1], a[2], &pos);
		break;
	case __NR_lseek:
		/* SEEK_DATA and SEEK_HOLE would read the copy's holes as the file's. */
		if (a[2] != SEEK_SET && a[2] != SEEK_CUR && a[2] != SEEK_END)
			return OM_DELEG_RETURN;
		*ret = vfs_llseek(d->copy, (loff_t)a[1], a[2]);
		break;
	case __NR_fstat:
		*ret = om_deleg_stat(d, (struct stat __user *)a[1]);
		break;
	case __NR_newfstatat:
		/* glibc's fstat(): the descriptor itself, by an empty path. */
		if (!(a[3] & AT_EMPTY_PATH) ||
		    (a[3] & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) ||
		    (a[1] && (get_user(c, (const char __user *)a[1]) || c)))
			return OM_DELEG_RETURN;
		*ret = om_deleg_stat(d, (struct stat __user *)a[2]);
		break;
	case __NR_fcntl:
		switch (a[1]) {
		case F_GETLK:
		case F_SETLK:
		case F_SETLKW:
		case F_OFD_GETLK:
		case F_OFD_SETLK:
		case F_OFD_SETLKW:
			*ret = om_deleg_lock(d, a[1], (struct flock __user *)a[2]);
			break;
		case F_DUPFD:
		case F_DUPFD_CLOEXEC:
			*ret = om_forward_call(p, nr, a);
			if (*ret >= 0)
				om_deleg_share(p, d, *ret, a[1] == F_DUPFD_CLOEXEC);
			break;
		case F_SETFD:
			/* Home's descriptor flag; exec here must know which it closes. */
			*ret = om_forward_call(p, nr, a);
			if (!*ret && (a[2] & FD_CLOEXEC))
				xa_set_mark(&p->delegs, a[0], OM_DELEG_CLOEXEC);
			else if (!*ret)
				xa_clear_mark(&p->delegs, a[0], OM_DELEG_CLOEXEC);
			break;
		case F_GETFD:
		case F_GETFL:
			/* Home's descriptor flags: nothing of the file's bytes. */
			return OM_DELEG_KEEP;
		default:
			return OM_DELEG_RETURN;
		}
		break;
	case __NR_fsync:
	case __NR_fdatasync:
		flags = VIRTIO_OM_DELEG_FLUSH_F_SYNC;
		if (nr == __NR_fdatasync)
			flags |= VIRTIO_OM_DELEG_FLUSH_F_DATASYNC;
		*ret = om_deleg_flush(&p->stats, d, flags);
		if (!*ret && d->err)
			*ret = d->err;
		d->err = 0;
		break;
	case __NR_ftruncate:
		if (!(d->flags & VIRTIO_OM_DELEG_F_WRITE) || (long)a[1] > OM_DELEG_MAX_SIZE)
			return OM_DELEG_RETURN;
		*ret = (long)a[1] < 0 ? -EINVAL : om_deleg_truncate(p, d, a[1]);
		break;
	case __NR_fchown:
	case __NR_fchmod:
		/* Run at home on its file (no lease breaks for it); fstat here says so after. */
		*ret = om_forward_call(p, nr, a);
		if (!*ret)
			om_deleg_attrs(d, nr, a);
		break;
	case __NR_close:
		if (d->fds == 1)
			return OM_DELEG_RETURN;
		/* Another descriptor keeps it; a close drops the process's record locks. */
		locks_remove_posix(d->copy, d->owner);
		*ret = om_forward_call(p, nr, a);
		if (!*ret)
			om_deleg_unshare(p, d, a[0]);
		break;
	case __NR_dup:
	case __NR_dup2:
	case __NR_dup3:
		*ret = om_forward_call(p, nr, a);
		if (*ret >= 0 && *ret != (long)a[0])
			om_deleg_share(p, d, *ret, nr == __NR_dup3 && (a[2] & O_CLOEXEC));
		break;
	case __NR_ioctl:
		return om_deleg_ioctl(d, a[1], a[2], ret);
	case __NR_fadvise64:
	case __NR_readahead:
	case __NR_fstatfs:
	case __NR_flock:
		/* Advice, the file system's figures, whole-file locks no one else can take. */
		return OM_DELEG_KEEP;
	default:
		return OM_DELEG_RETURN;
	}
	return *ret == -EXDEV ? OM_DELEG_RETURN : OM_DELEG_SERVED;
}

/*
 * Calls whose first argument is a descriptor that may name the file itself
 * (an *at() call with an empty path acts on it); socket(), kill() and the
 * like take a number that only looks like one.
 */
static bool om_deleg_fd_first(long nr)
{
	switch (nr) {
	case __NR_read: case __NR_write: case __NR_close: case __NR_fstat: case __NR_lseek:
	case __NR_pread64: case __NR_pwrite64: case __NR_readv: case __NR_writev:
	case __NR_preadv: case __NR_pwritev: case __NR_preadv2: case __NR_pwritev2:
	case __NR_ioctl: case __NR_fcntl: case __NR_flock: case __NR_fsync: case __NR_fdatasync:
	case __NR_ftruncate: case __NR_getdents: case __NR_getdents64: case __NR_fchdir:
	case __NR_fchmod: case __NR_fchown: case __NR_fstatfs: case __NR_sendfile:
	case __NR_fallocate: case __NR_readahead: case __NR_fadvise64:
	case __NR_sync_file_range: case __NR_syncfs: case __NR_dup: case __NR_dup2:
	case __NR_dup3: case __NR_newfstatat: case __NR_statx: case __NR_fchownat:
	case __NR_fchmodat: case __NR_utimensat: case __NR_futimesat: case __NR_faccessat:
	case __NR_faccessat2: case __NR_linkat: case __NR_name_to_handle_at:
	case __NR_fgetxattr: case __NR_fsetxattr: case __NR_flistxattr: case __NR_fremovexattr:
	case __NR_copy_file_range: case __NR_splice: case __NR_tee:
		return true;
	default:
		return false;
	}
}

/**
 * om_deleg_call() - run a call of a process with delegated files
 * @p: the process away, in its own context
 * @nr: the call
 * @args: its arguments
 * @class: where it runs (om_syscall_class())
 * @ret: its result, when served here
 *
 * Return: true if served here; false: it runs as its class says, any
 * delegated file it names (or all, for what runs at home) given back first.
 */
bool om_deleg_call(struct om_proc *p, long nr, const unsigned long args[6], int class, long *ret)
{
	enum om_deleg_way way;
	struct om_deleg *d;
	unsigned long fd;
	int err;

	switch (class) {
	case OM_SC_FORWARD:
	case OM_SC_BOTH:
	case OM_SC_TIMES:
		break;
	case OM_SC_LOCAL:
	case OM_SC_SIGMASK:
	case OM_SC_PID:
		return false;
	case OM_SC_MMAP_FILE:
		om_deleg_return_fd(p, args[4]);
		return false;
	case OM_SC_EXEC:
		/*
		 * The program runs here on the same descriptors: those exec
		 * closes at home go home first, the others stay delegated.
		 */
		xa_for_each_marked(&p->delegs, fd, d, OM_DELEG_CLOEXEC)
			om_deleg_return_fd(p, fd);
		return false;
	default:
		/* A fork, an exec, a call at home: the files go home first. */
		om_deleg_return_all(p);
		return false;
	}
	/* Calls naming descriptors past their first, or passing them on. */
	switch (nr) {
	case __NR_dup2:
	case __NR_dup3:
		/* The descriptor it replaces is closed at home: its file goes first. */
		if (args[1] != args[0])
			om_deleg_return_fd(p, args[1]);
		break;
	case __NR_sendfile:
	case __NR_tee:
		om_deleg_return_fd(p, args[1]);
		break;
	case __NR_copy_file_range:
	case __NR_splice:
	case __NR_epoll_ctl:
		om_deleg_return_fd(p, args[2]);
		break;
	case __NR_sendmsg:
	case __NR_close_range:
		om_deleg_return_all(p);
		return false;
	}
	d = om_deleg_fd_first(nr) && args[0] <= INT_MAX ? xa_load(&p->delegs, args[0]) : NULL;
	if (!d)
		return false;
	mutex_lock(&d->lock);
	if (d->ended) {
		/* Recalled by home meanwhile: its pages went home, so can the call. */
		mutex_unlock(&d->lock);
		om_deleg_drop(p, args[0], d);
		return false;
	}
	way = om_deleg_serve(p, d, nr, args, ret);
	if (way == OM_DELEG_SERVED) {
		mutex_unlock(&d->lock);
		atomic64_inc(&p->stats.deleg_calls);
		return true;
	}
	if (way == OM_DELEG_KEEP) {
		mutex_unlock(&d->lock);
		return false;
	}
	if (nr == __NR_close) {
		/* Its close ends its record locks: none to set at home first. */
		locks_remove_posix(d->copy, d->owner);
		locks_remove_posix(d->copy, (fl_owner_t)d->copy);
	}
	err = om_deleg_give_back(&p->stats, d, nr == __NR_close);
	mutex_unlock(&d->lock);
	om_deleg_drop(p, args[0], d);
	/* A close reports what its pages' trip home met, as a close of NFS does. */
	if (nr == __NR_close && err)
		p->deleg_close_err = err;
	return false;
}

/* The delegation of the file home's (dev, ino) names, if the process holds one. */
static struct om_deleg *om_deleg_by_ino(struct om_proc *p, u64 dev, u64 ino)
{
	struct om_deleg *d;
	unsigned long fd;

	xa_for_each(&p->delegs, fd, d)
		if (!d->ended && le64_to_cpu(d->st.dev) == dev && le64_to_cpu(d->st.ino) == ino)
			return d;
	return NULL;
}

/**
 * om_deleg_stat_path() - a stat by path home answered, of a delegated file
 * @p: the process away, in its own context
 * @nr: the call (stat, lstat, newfstatat or statx), which returned 0
 * @a: its arguments
 *
 * Home's file lacks what was written here since its last flush: the size,
 * blocks and times the process sees are its copy's, as fstat() says.
 */
void om_deleg_stat_path(struct om_proc *p, long nr, const unsigned long a[6])
{
	struct stat __user *us = (struct stat __user *)(nr == __NR_newfstatat ? a[2] : a[1]);
	struct statx __user *ux = (struct statx __user *)a[4];
	struct stat s;
	struct statx x;
	struct om_deleg *d;

	if (nr == __NR_statx) {
		if (copy_from_user(&x, ux, sizeof(x)))
			return;
		d = om_deleg_by_ino(p, new_encode_dev(MKDEV(x.stx_dev_major, x.stx_dev_minor)),
				    x.stx_ino);
		if (!d)
			return;
		mutex_lock(&d->lock);
		if (om_deleg_stat_fill(d, &s) == 0) {
			x.stx_size = s.st_size;
			x.stx_blocks = s.st_blocks;
			x.stx_mtime.tv_sec = s.st_mtime;
			x.stx_mtime.tv_nsec = s.st_mtime_nsec;
			x.stx_ctime.tv_sec = s.st_ctime;
			x.stx_ctime.tv_nsec = s.st_ctime_nsec;
			if (copy_to_user(ux, &x, sizeof(x)))
				pr_debug("omvm: statx buffer gone\n");
		}
		mutex_unlock(&d->lock);
		return;
	}
	if (copy_from_user(&s, us, sizeof(s)))
		return;
	d = om_deleg_by_ino(p, s.st_dev, s.st_ino);
	if (!d)
		return;
	mutex_lock(&d->lock);
	/* lstat of a symlink to it names the link, not the file: the ino differs. */
	if (!om_deleg_stat_fill(d, &s) && copy_to_user(us, &s, sizeof(s)))
		pr_debug("omvm: stat buffer gone\n");
	mutex_unlock(&d->lock);
}

/**
 * om_deleg_recall_recv() - home wants a delegated file back
 * @msg: DELEG_RECALL (the caller frees it)
 *
 * Context: kcom's receive worker: the return is queued, never done here.
 */
void om_deleg_recall_recv(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_deleg_recall rc;
	struct om_deleg *d;

	if (om_kcom_msg_copy(msg, 0, &rc, sizeof(rc)) != sizeof(rc))
		return;
	xa_lock(&om_delegs);
	/* Home names its own delegations only: the key holds its node. */
	d = xa_load(&om_delegs, om_deleg_key(h->src_node, le32_to_cpu(rc.id)));
	if (d)
		kref_get(&d->ref);
	xa_unlock(&om_delegs);
	if (d && !queue_work(om_deleg_wq, &d->recall))
		om_deleg_put(d);
}

/* Home went down: its files are lost to the process, which ends with it. */
void om_deleg_node_lost(u32 node)
{
	struct om_deleg *d;
	unsigned long key;

	xa_for_each_range(&om_delegs, key, d, om_deleg_key(node, 0), om_deleg_key(node, U32_MAX))
		xa_erase(&om_delegs, key);
}

int __init om_deleg_init(void)
{
	om_deleg_wq = alloc_workqueue("om_deleg_recall", WQ_UNBOUND, 0);
	return om_deleg_wq ? 0 : -ENOMEM;
}
