// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes behind. A write() or pwrite64() of a process away to a regular
 * file of home costs a round trip, though its result is known before it
 * runs unless the file fails (no space, quota, I/O error). Once a write to
 * a file descriptor came back whole and its deputy said the file may be
 * written behind (a regular file, not O_SYNC, O_DSYNC or O_DIRECT), the
 * next writes to it whose buffer went whole with them (callbuf.c) are not
 * waited for: the process takes the full count and runs on, at most
 * OM_BEHIND_WINDOW of them unanswered. The deputy runs them in order with
 * every other call, so whatever the process asks next sees them done.
 *
 * A write behind that fails at home is kept by the deputy for the file's
 * next fsync(), fdatasync() or close() (by any descriptor of that open
 * file), which returns its error, as an NFS client reports a failed write
 * behind and as the kernel reports a failed writeback; the process then
 * waits for every write again until a whole one says otherwise. A call
 * that may change what its descriptors are at home (dup2, execve,
 * fcntl(F_SETFL) ...) makes it wait again for all of them, and before a
 * move, a fork or a call that goes home, every write behind is answered
 * first. At home, the deputy writes a write's pushed pages straight to
 * the file, behind or not (om_deputy_write_pushed()). docs/engine.md,
 * "Writes behind".
 *
 * A record lock's release (fcntl F_SETLK and friends with F_UNLCK) of such
 * a file goes behind too: it cannot block, and with a range home cannot
 * refuse its result is 0.
 */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/sched/xacct.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <asm/unistd.h>

#include "om.h"

/*
 * om.write_behind=0 (or 0 written to /sys/module/om/parameters/write_behind
 * at the node the process runs on): every write waits for its result.
 */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
static bool om_behind_on = true;
module_param_named(write_behind, om_behind_on, bool, 0644);
MODULE_PARM_DESC(write_behind, "Writes to regular files of home are not waited for");

/* A write behind that failed, kept for its file's next fsync or close. */
struct om_behind_err {
	struct list_head node;
	struct file *file;
	int err;
};

static bool om_behind_is_write(long nr)
{
	return nr == __NR_write || nr == __NR_pwrite64;
}

/*
 * Whether a call the process forwards leaves its descriptors at home what
 * they were (new ones aside); close() forgets its own.
 */
static bool om_behind_keeps(struct om_proc *p, long nr, const unsigned long a[6])
{
	switch (nr) {
	case __NR_close:
		if (a[0] < OM_BEHIND_FDS) {
			clear_bit(a[0], p->behind_fds);
			clear_bit(a[0], p->release_fds);
		}
		return true;
	case __NR_fcntl:
		/* F_SETFL may set O_DIRECT: whether a write is whole changes. */
		return a[1] != F_SETFL;
	case __NR_read:
	case __NR_write:
	case __NR_pread64:
	case __NR_pwrite64:
	case __NR_readv:
	case __NR_writev:
	case __NR_preadv:
	case __NR_pwritev:
	case __NR_preadv2:
	case __NR_pwritev2:
	case __NR_lseek:
	case __NR_fstat:
	case __NR_stat:
	case __NR_lstat:
	case __NR_newfstatat:
	case __NR_statx:
	case __NR_fsync:
	case __NR_fdatasync:
	case __NR_flock:
	case __NR_ftruncate:
	case __NR_fallocate:
	case __NR_open:
	case __NR_openat:
	case __NR_creat:
	case __NR_unlink:
	case __NR_unlinkat:
	case __NR_rename:
	case __NR_renameat:
	case __NR_renameat2:
	case __NR_access:
	case __NR_faccessat:
	case __NR_faccessat2:
	case __NR_getdents64:
	case __NR_mkdir:
	case __NR_mkdirat:
	case __NR_rmdir:
	case __NR_readlink:
	case __NR_readlinkat:
	case __NR_fchmod:
	case __NR_fchown:
	case __NR_utimensat:
	case __NR_sendto:
	case __NR_recvfrom:
		return true;
	}
	return false;
}

/**
 * om_behind_before() - what a forwarded call waited for changes of writes behind
 * @p: the process's half away
 * @nr: the call
 * @a: its arguments
 */
void om_behind_before(struct om_proc *p, long nr, const unsigned long a[6])
{
	if (!om_behind_keeps(p, nr, a))
		om_behind_stop(p);
}

/**
 * om_behind_stop() - every descriptor waits again, until a write says otherwise
 * @p: the process's half away
 */
void om_behind_stop(struct om_proc *p)
{
	bitmap_zero(p->behind_fds, OM_BEHIND_FDS);
	bitmap_zero(p->release_fds, OM_BEHIND_FDS);
}

static bool om_behind_is_setlk(unsigned long cmd)
{
	return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

/**
 * om_behind_unlock_ok() - whether a lock command's result is 0 before it runs
 * @cmd: fcntl's command
 * @fl: its struct flock
 *
 * A release of a range from the file's start that fcntl_setlk() takes as
 * it is: no whence to resolve at home, no overflow, no pid where an open
 * file description's lock wants none.
 */
bool om_behind_unlock_ok(unsigned long cmd, const struct flock *fl)
{
	return om_behind_is_setlk(cmd) && fl->l_type == F_UNLCK && fl->l_whence == SEEK_SET &&
	       fl->l_start >= 0 && fl->l_len >= 0 && fl->l_start <= OFFSET_MAX - fl->l_len &&
	       (cmd == F_SETLK || cmd == F_SETLKW || !fl->l_pid);
}

/**
 * om_behind_release_ok() - fcntl(@a) is a release whose result is 0 before it runs
 * @a: its arguments; at home its struct flock came with it (not fetched)
 *
 * Both sides ask: the process before sending it behind, the deputy before
 * running what came so.
 */
bool om_behind_release_ok(const unsigned long a[6])
{
	struct flock fl;

	return om_behind_is_setlk(a[1]) &&
	       !copy_from_user(&fl, (const void __user *)a[2], sizeof(fl)) &&
	       om_behind_unlock_ok(a[1], &fl);
}

/**
 * om_behind_may() - whether a call may go behind, its buffer sent whole
 * @p: the process's half away
 * @nr: the call
 * @a: its arguments
 */
bool om_behind_may(struct om_proc *p, long nr, const unsigned long a[6])
{
	if (!READ_ONCE(om_behind_on))
		return false;
	/* A release, where the deputy said the file's locks are the kernel's own. */
	if (nr == __NR_fcntl)
		return a[0] < OM_BEHIND_FDS && test_bit(a[0], p->release_fds) &&
		       om_behind_release_ok(a);
	return om_behind_is_write(nr) && a[0] < OM_BEHIND_FDS && test_bit(a[0], p->behind_fds) &&
	       a[2] && a[2] <= MAX_RW_COUNT;
}

/**
 * om_behind_result() - what a call sent behind returns at once
 * @nr: the call (om_behind_may() said it may)
 * @a: its arguments
 */
long om_behind_result(long nr, const unsigned long a[6])
{
	return nr == __NR_fcntl ? 0 : (long)a[2];
}

/**
 * om_behind_call_ok() - whether a call may come with SYSCALL F_BEHIND
 * @nr: the call (an fcntl then passes om_behind_release_ok() too)
 */
bool om_behind_call_ok(long nr)
{
	return om_behind_is_write(nr) || nr == __NR_fcntl;
}

/**
 * om_behind_answered() - the deputy's answer to a call the process waited for
 * @p: the process's half away
 * @nr: the call
 * @a: its arguments
 * @r: the answer
 *
 * A whole write whose file may be written behind lets the next ones to
 * its descriptor go so; any other answer to a write makes them wait.
 */
void om_behind_answered(struct om_proc *p, long nr, const unsigned long a[6],
			const struct virtio_om_syscall_ret *r)
{
	if (!om_behind_is_write(nr) || a[0] >= OM_BEHIND_FDS)
		return;
	if (le32_to_cpu(r->flags) & VIRTIO_OM_SYSCALL_RET_F_BEHIND)
		set_bit(a[0], p->behind_fds);
	else
		clear_bit(a[0], p->behind_fds);
	if (le32_to_cpu(r->flags) & VIRTIO_OM_SYSCALL_RET_F_RELEASE_BEHIND)
		set_bit(a[0], p->release_fds);
	else
		clear_bit(a[0], p->release_fds);
}

/**
 * om_behind_done() - the deputy's answer to calls sent behind
 * @p: the process's half away
 * @reply_to: the call it answers
 * @r: the answer: it says how many calls behind it answers (@r->calls),
 *	@reply_to the last of them
 *
 * They are answered in order, so those are the oldest unanswered. One that
 * did not go as sent (it failed, or its file changed) makes every
 * descriptor wait again.
 *
 * Return: false if @r answers none of them (a stale answer), taken for
 * nothing.
 */
bool om_behind_done(struct om_proc *p, u64 reply_to, const struct virtio_om_syscall_ret *r)
{
	u32 calls = max(le32_to_cpu(r->calls), 1U);

	if (calls > p->behind_out ||
	    p->behind_seqs[(p->behind_first + calls - 1) % OM_BEHIND_WINDOW] != reply_to)
		return false;
	p->behind_first = (p->behind_first + calls) % OM_BEHIND_WINDOW;
	p->behind_out -= calls;
	if (!(le32_to_cpu(r->flags) & VIRTIO_OM_SYSCALL_RET_F_BEHIND))
		om_behind_stop(p);
	return true;
}

/* Deputy: the failure kept for @file, if any. */
static struct om_behind_err *om_behind_err_of(struct om_proc *p, struct file *file)
{
	struct om_behind_err *e;

	list_for_each_entry(e, &p->behind_errs, node)
		if (e->file == file)
			return e;
	return NULL;
}

/* Whether a write to @file may go behind: its result is known before it runs. */
static bool om_behind_file_ok(struct file *file)
{
	struct inode *inode = file_inode(file);

	return S_ISREG(inode->i_mode) && (file->f_mode & FMODE_WRITE) &&
	       !(file->f_flags & (O_DSYNC | __O_SYNC | O_DIRECT)) && !IS_SYNC(inode);
}

/**
 * om_behind_file() - the open file a call needs for writes behind
 * @nr: the call about to run at home
 * @a: its arguments
 *
 * Return: a reference to the file of a write, fsync, fdatasync or close
 * (taken before it runs: close drops the descriptor), or NULL.
 */
struct file *om_behind_file(long nr, const unsigned long a[6])
{
	switch (nr) {
	case __NR_write:
	case __NR_pwrite64:
	case __NR_fsync:
	case __NR_fdatasync:
	case __NR_close:
		return fget((unsigned int)a[0]);
	}
	return NULL;
}

/**
 * om_behind_ran() - a call ran at home: its part in writes behind
 * @p: the deputy's half, or the process's at home with failures kept
 * @nr: the call
 * @a: its arguments
 * @file: om_behind_file()'s answer, released here
 * @behind: the process did not wait for it
 * @ret: its result
 * @flags: VIRTIO_OM_SYSCALL_RET_F_BEHIND set if its file may be written behind
 *
 * Return: the result for the process: a kept failure for its file's fsync,
 * fdatasync or close that did not fail itself.
 */
long om_behind_ran(struct om_proc *p, long nr, const unsigned long a[6], struct file *file,
		   bool behind, long ret, u32 *flags)
{
	struct om_behind_err *e;

	*flags = 0;
	if (nr == __NR_fcntl && behind) {
		/* Nothing of the file's to report it to: said, and counted. */
		if (ret) {
			atomic64_inc(&p->stats.behind_failed);
			pr_warn_ratelimited("omvm: pid %d: a lock released behind failed (%ld)\n",
					    p->home_pid, ret);
		} else {
			*flags = VIRTIO_OM_SYSCALL_RET_F_BEHIND;
		}
	}
	if (!file)
		return ret;
	if (om_behind_is_write(nr)) {
		if (ret != (long)a[2] && behind)
			om_behind_failed(p, file, ret);
		else if (ret == (long)a[2] && om_behind_file_ok(file))
			*flags = VIRTIO_OM_SYSCALL_RET_F_BEHIND |
				 /* Its locks the kernel's own: a release cannot wait or fail. */
				 (file->f_op->lock ? 0 : VIRTIO_OM_SYSCALL_RET_F_RELEASE_BEHIND);
	} else {
		e = om_behind_err_of(p, file);
		if (e) {
			if (ret >= 0)
				ret = e->err;
			list_del(&e->node);
			fput(e->file);
			kfree(e);
		}
	}
	fput(file);
	return ret;
}

/**
 * om_behind_failed() - keep a write behind's failure for its file
 * @p: the deputy's half
 * @file: the file
 * @ret: what the write returned: -errno, or a short count
 *
 * The first failure is what the file's next fsync or close returns.
 */
void om_behind_failed(struct om_proc *p, struct file *file, long ret)
{
	int err = ret < 0 ? (int)ret : -EIO;
	struct om_behind_err *e;

	/* A signal that stopped it is no failure of the file's. */
	if (err == -ERESTARTSYS || err == -ERESTARTNOINTR || err == -ERESTARTNOHAND ||
	    err == -ERESTART_RESTARTBLOCK)
		err = -EINTR;
	atomic64_inc(&p->stats.behind_failed);
	pr_info_ratelimited("omvm: pid %d: a write behind failed (%ld): the file's next fsync or close says so\n",
			    p->home_pid, ret);
	if (om_behind_err_of(p, file))
		return;
	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		/* Nowhere to keep it: the file's own writeback error then. */
		mapping_set_error(file->f_mapping, err);
		return;
	}
	e->file = get_file(file);
	e->err = err;
	list_add(&e->node, &p->behind_errs);
}

/**
 * om_behind_keep_pending() - a failure for a file of the deputy's, found elsewhere
 * @p: the deputy's half
 * @file: the file
 * @err: -errno
 *
 * Context: any process context but the deputy's (a delegated file's pages
 * written back by a worker, deleg_home.c). The deputy takes it as its own
 * (om_behind_take_pending()) before its next call and on coming home.
 */
void om_behind_keep_pending(struct om_proc *p, struct file *file, int err)
{
	struct om_behind_err *e = kmalloc(sizeof(*e), GFP_KERNEL);

	if (!e) {
		mapping_set_error(file->f_mapping, err);
		return;
	}
	e->file = get_file(file);
	e->err = err;
	spin_lock(&p->lock);
	list_add_tail(&e->node, &p->behind_pending);
	spin_unlock(&p->lock);
}

/**
 * om_behind_take_pending() - the failures found elsewhere, kept as the deputy's
 * @p: the deputy's half, in its own context
 */
void om_behind_take_pending(struct om_proc *p)
{
	struct om_behind_err *e, *next;
	LIST_HEAD(taken);

	if (list_empty_careful(&p->behind_pending))
		return;
	spin_lock(&p->lock);
	list_splice_init(&p->behind_pending, &taken);
	spin_unlock(&p->lock);
	list_for_each_entry_safe(e, next, &taken, node) {
		om_behind_failed(p, e->file, e->err);
		fput(e->file);
		kfree(e);
	}
}

/**
 * om_behind_forget() - let go of the failures kept
 * @p: the half, ending
 */
void om_behind_forget(struct om_proc *p)
{
	struct om_behind_err *e, *next;

	list_splice_init(&p->behind_pending, &p->behind_errs);
	list_for_each_entry_safe(e, next, &p->behind_errs, node) {
		pr_info("omvm: pid %d: a failed write behind was not reported: no fsync or close followed\n",
			p->home_pid);
		list_del(&e->node);
		fput(e->file);
		kfree(e);
	}
}

/**
 * om_behind_home_call() - at home, the calls that report a kept failure
 * @p: the process's half at home, with failures kept from away
 * @regs: its registers
 * @nr: the call
 * @a: its arguments
 *
 * Return: true if the call ran here, its result in @regs->ax.
 */
bool om_behind_home_call(struct om_proc *p, struct pt_regs *regs, long nr,
			 const unsigned long a[6])
{
	struct file *file;
	u32 flags;

	if (nr != __NR_fsync && nr != __NR_fdatasync && nr != __NR_close)
		return false;
	file = om_behind_file(nr, a);
	regs->ax = om_behind_ran(p, nr, a, file, false, om_arch_syscall_run(regs, nr, a), &flags);
	if (list_empty(&p->behind_errs) && !p->back_node)
		clear_task_syscall_work(current, OM);
	return true;
}

/**
 * om_deputy_write_pushed() - a write run from the pages pushed with it
 * @p: the deputy's half
 * @nr: the call: write or pwrite64
 * @a: its arguments
 *
 * A write to a regular file whose buffer came whole with the call is
 * written from those pages as they are, as the system call would from
 * user memory, without mapping them into the deputy's stand-in address
 * space (a fault, then a zap, per page): most of what a deputy spends on a
 * write of a page.
 *
 * Return: true if it ran, its result in @ret; false if the call must run
 * as any other.
 */
bool om_deputy_write_pushed(struct om_proc *p, long nr, const unsigned long a[6], long *ret)
{
	unsigned long addr = a[1], len = a[2], off = offset_in_page(addr), left = len, i, n;
	bool pwrite = nr == __NR_pwrite64;
	loff_t pos = (loff_t)a[3], *ppos;
	struct bio_vec *bv;
	struct iov_iter it;
	struct file *file;
	bool ran = false;
	struct fd f;

	if ((nr != __NR_write && !pwrite) || !len || len > MAX_RW_COUNT ||
	    len > (unsigned long)OM_PUSH_MAX_PAGES << PAGE_SHIFT || addr + len < addr ||
	    (pwrite && pos < 0))
		return false;
	n = DIV_ROUND_UP(off + len, PAGE_SIZE);
	bv = kmalloc_array(n, sizeof(*bv), GFP_KERNEL);
	if (!bv)
		return false;
	for (i = 0; i < n; i++) {
		struct page *page = xa_load(&p->pushed,
					    om_page_key(p->pushed_base, addr + i * PAGE_SIZE));
		unsigned int at = i ? 0 : off, part = min(PAGE_SIZE - at, left);

		if (!page) {
			kfree(bv);
			return false;
		}
		bvec_set_page(&bv[i], page, part, at);
		left -= part;
	}
	iov_iter_bvec(&it, ITER_SOURCE, bv, n, len);
	f = pwrite ? fdget(a[0]) : fdget_pos(a[0]);
	file = fd_file(f);
	/* Other files (pipes, sockets, devices) run as the call: their ways differ. */
	if (file && S_ISREG(file_inode(file)->i_mode) && file->f_op->write_iter &&
	    (!pwrite || (file->f_mode & FMODE_PWRITE))) {
		ppos = pwrite ? &pos : (file->f_mode & FMODE_STREAM ? NULL : &pos);
		if (!pwrite)
			pos = file->f_pos;
		*ret = vfs_iter_write(file, &it, ppos, 0);
		if (*ret > 0)
			add_wchar(current, *ret);
		inc_syscw(current);
		if (!pwrite && *ret >= 0 && ppos)
			file->f_pos = pos;
		ran = true;
	}
	if (pwrite)
		fdput(f);
	else
		fdput_pos(f);
	kfree(bv);
	return ran;
}
