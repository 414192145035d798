// SPDX-License-Identifier: GPL-2.0-only
/*
 * A process away from home: the task that runs it here, its system calls
 * (run here, at home through the deputy, or after going home first), and
 * its answers to the deputy's reads and writes of its memory.
 */
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/sched/cputime.h>
#include <linux/slab.h>
#include <linux/times.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/om.h>
#include <asm/unistd.h>

#include "om.h"

/* The first return to user mode: after ret_from_fork has cleared ax. */
static void om_remote_resume(struct callback_head *cb)
{
	struct om_proc *p = container_of(cb, struct om_proc, resume_work);

	struct om_kcom_msg *msg;

	current_pt_regs()->ax = le64_to_cpu(p->arrival->regs.ax);
	om_finish_arrival(p);
	WRITE_ONCE(p->running, true);
	/* Signals forwarded while it was arriving. */
	while ((msg = om_proc_try_next(p))) {
		if (om_kcom_msg_hdr(msg)->type == VIRTIO_OM_T_SIGNAL)
			om_deliver_signal(p, msg);
		om_kcom_msg_free(msg);
	}
	/* Asked to move on (COME_HOME) while it was arriving. */
	if (p->target)
		om_queue_move(p);
	om_proc_put(p);
}

static int om_remote_main(void *arg)
{
	struct om_proc *p = arg;
	struct om_kcom_msg *begin;
	int err;

	/* Run anywhere, like the process did, not where the receive worker was. */
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	err = om_proc_attach(p, current);
	if (!err) {
		begin = om_proc_next(p, OM_STEP_TIMEOUT, &err);
		if (begin)
			err = om_receive_process(p, begin);
	}
	/* From a node away (hop.c): it runs here, its deputy is its peer now. */
	if (!err && p->peer_node != p->home_node)
		om_proc_set_peers(p, p->home_node, 0);
	if (err) {
		p->silent = true;
		om_proc_unregister(p);
		om_proc_put(p);
		/* Never seen by anyone: kthreadd reaps it. */
		do_exit(0);
	}
	set_task_syscall_work(current, OM);
	init_task_work(&p->resume_work, om_remote_resume);
	/* The reference we hold passes to the resume work. */
	if (task_work_add(current, &p->resume_work, TWA_RESUME)) {
		om_proc_put(p);
		do_exit(SIGKILL);
	}
	/* ret_from_fork takes us to user mode with the process's registers. */
	return 0;
}

/**
 * om_spawn_remote() - start the task that takes in an arriving process
 * @p: its registered half, whose inbox holds the MIG_BEGIN
 *
 * The task is a child of kthreadd (which reaps it), as a usermode helper is.
 *
 * Return: 0 or -errno.
 */
int om_spawn_remote(struct om_proc *p)
{
	pid_t pid;

	refcount_inc(&p->ref);
	pid = user_mode_thread(om_remote_main, p, CLONE_PARENT | SIGCHLD);
	if (pid < 0) {
		om_proc_put(p);
		return pid;
	}
	return 0;
}

/**
 * om_go_home() - send the current process home
 * @p: its half here
 * @redo_syscall: it is in a system call that must run at home: it resumes
 *	there at the call's instruction, so the call runs again, at home
 *
 * Return: does not return on success (this half ends); -errno if the
 * process stays.
 */
int om_go_home(struct om_proc *p, bool redo_syscall)
{
	struct pt_regs *regs = current_pt_regs();
	struct pt_regs saved = *regs;
	/* Asked home (its homecoming in its rounds, or queued): it stays there. */
	bool asked = READ_ONCE(p->target) == p->home_node;
	int err;

	/* In a live move's rounds (a call that runs only at home, a core): it ends first. */
	if (p->live)
		om_live_cancel(p, -ECANCELED, false);
	if (redo_syscall)
		om_arch_redo_syscall(regs);
	/* For a call, home sends it back here once the call ran. */
	p->for_call = redo_syscall && !asked;
	err = om_send_process(p, p->home_node, true);
	p->for_call = false;
	if (err) {
		*regs = saved;
		return err;
	}
	p->silent = true;
	/* Back here at once (home for one call), it arrives as a new half. */
	om_proc_unkey(p);
	do_exit(0);
}

/**
 * om_come_home() - send the current process home, as its deputy asked
 * @p: its half here
 *
 * Live by om.live's policy here (live.c): the process runs on while its
 * pages go, and its deputy serves its calls meanwhile.
 *
 * Return: does not return on success of a stop-and-copy move (this half
 * ends); 0 when a live move's rounds began; -errno if the process stays.
 */
int om_come_home(struct om_proc *p)
{
	int err;

	/* Unless it was asked elsewhere meanwhile. */
	if (!READ_ONCE(p->target))
		WRITE_ONCE(p->target, p->home_node);
	if (om_live_wanted(p, p->home_node))
		err = om_live_start(p, p->home_node);
	else
		err = om_go_home(p, false);
	/* It stays: no move asked any more. */
	if (err && READ_ONCE(p->target) == p->home_node)
		WRITE_ONCE(p->target, 0);
	return err;
}

/**
 * om_coredump_home() - a process away dumps its core at home
 * @info: the signal that dumps it, just dequeued
 *
 * Context: get_signal(), about to dump core (core patch 0013). The signal is
 * queued again and travels home with the process, which dumps there as any
 * process of home would: in its cwd there, by home's core_pattern, within
 * its RLIMIT_CORE. Returns only when the current task is no process away,
 * or it could not go home: it then dumps here.
 */
void om_coredump_home(const struct kernel_siginfo *info)
{
	struct om_proc *p = om_proc_of_task(current);
	kernel_siginfo_t again;
	int err;

	if (!p)
		return;
	om_proc_put(p); /* the registry keeps it while we run */
	if (p->role != OM_REMOTE)
		return;
	copy_siginfo(&again, info);
	current->flags &= ~PF_SIGNALED;
	err = force_sig_info(&again);
	if (!err)
		err = om_go_home(p, false);
	current->flags |= PF_SIGNALED;
	pr_warn("omvm: pid %d (home node %u) dumps core here: it could not go home (%d)\n",
		p->home_pid, p->home_node, err);
}

/*
 * Up to @n whole pages after @addr's, of its mapping, into @b (the deputy
 * reads on in order: a call's buffer past what it pushed). Not populated
 * for writing: a page never touched goes as the zero page.
 */
static void om_read_ahead(struct om_push_batch *b, unsigned long addr, u32 n, bool writable)
{
	struct vm_area_struct *vma;
	unsigned long a, end;
	struct page *page;

	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, addr);
	end = vma ? min(vma->vm_end, (addr & PAGE_MASK) + (n + 1UL) * PAGE_SIZE) : 0;
	mmap_read_unlock(current->mm);
	for (a = (addr & PAGE_MASK) + PAGE_SIZE; a < end; a += PAGE_SIZE) {
		if (get_user_pages_fast(a, 1, 0, &page) != 1)
			break;
		om_push_batch_add(b, a, page, writable);
	}
}

static int om_serve_read(struct om_proc *p, struct om_kcom_msg *msg, void *buf)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_mem_req req;
	struct virtio_om_mem_data data = {};
	struct om_push_batch *b = NULL;
	struct vm_area_struct *vma;
	unsigned long addr;
	u32 len, ahead;
	struct kvec kv[2] = { { &data, sizeof(data) }, { buf, 0 } };
	bool writable = false;
	int err;

	om_kcom_msg_copy(msg, 0, &req, sizeof(req));
	addr = le64_to_cpu(req.addr);
	len = le32_to_cpu(req.len);
	ahead = le32_to_cpu(req.ahead);
	if (!len || len > PAGE_SIZE || (addr & ~PAGE_MASK) + len > PAGE_SIZE ||
	    ahead > VIRTIO_OM_MEM_AHEAD_MAX) {
		data.error = cpu_to_le32(EINVAL);
	} else if (copy_from_user(buf, (const void __user *)addr, len)) {
		data.error = cpu_to_le32(EFAULT);
	} else {
		kv[1].iov_len = len;
		mmap_read_lock(current->mm);
		vma = vma_lookup(current->mm, addr);
		writable = vma && (vma->vm_flags & VM_WRITE);
		mmap_read_unlock(current->mm);
		if (writable)
			data.flags = cpu_to_le32(VIRTIO_OM_MEM_F_WRITABLE);
		/* Without memory for it, no read-ahead: the page asked goes all the same. */
		b = ahead ? kzalloc(sizeof(*b), GFP_KERNEL) : NULL;
		if (b)
			om_read_ahead(b, addr, ahead, writable);
	}
	if (!b)
		return om_send(p, VIRTIO_OM_T_MEM_DATA, VIRTIO_OM_F_REPLY, h->seq, kv,
			       kv[1].iov_len ? 2 : 1, NULL, 0, NULL);
	/* As a SYSCALL's F_PAGES: the batch's addresses, the page asked, then the batch. */
	if (b->n)
		data.flags |= cpu_to_le32(VIRTIO_OM_MEM_F_PAGES);
	err = om_send_batched(p, VIRTIO_OM_T_MEM_DATA, VIRTIO_OM_F_REPLY, h->seq, &kv[0], &kv[1],
			      b, NULL);
	kfree(b);
	return err;
}

static void om_serve_write(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_mem_req req;
	struct iov_iter it;
	unsigned long addr;
	u32 len;

	om_kcom_msg_copy(msg, 0, &req, sizeof(req));
	addr = le64_to_cpu(req.addr);
	len = le32_to_cpu(req.len);
	if (!len || len > PAGE_SIZE || h->len != sizeof(req) + len)
		return;
	/* The deputy only writes back what the process may write. */
	iov_iter_ubuf(&it, ITER_DEST, (void __user *)addr, len);
	if (om_kcom_msg_copy_iter(msg, sizeof(req), len, &it) != len)
		pr_debug("omvm: write-back to %lx failed\n", addr);
}

/*
 * Serve the deputy's asks until the answer to the call sent as @seq comes
 * (into @r), or with @seq 0 until at most @behind writes behind are
 * unanswered. The deputy answers in order: a call's answer comes after
 * those of the writes behind sent before it.
 *
 * Return: 0, -EINTR (a fatal signal) or -EIO (home lost).
 */
static int om_remote_wait(struct om_proc *p, u64 seq, struct virtio_om_syscall_ret *r,
			  unsigned int behind, void *buf)
{
	struct virtio_om_syscall_ret a;
	struct om_kcom_msg *msg;
	int err = 0;

	while (seq || p->behind_out > behind) {
		const struct om_kcom_hdr *h;

		msg = om_proc_next(p, MAX_SCHEDULE_TIMEOUT, &err);
		if (!msg) {
			/* Fatal signal or lost home: the exit path ends us. */
			return err == -EINTR ? -EINTR : -EIO;
		}
		h = om_kcom_msg_hdr(msg);
		switch (h->type) {
		case VIRTIO_OM_T_MEM_READ:
			om_serve_read(p, msg, buf);
			break;
		case VIRTIO_OM_T_MEM_WRITE:
			om_serve_write(msg);
			break;
		case VIRTIO_OM_T_MEM_PUSH:
			om_callbuf_written(msg, 0);
			break;
		case VIRTIO_OM_T_SIGNAL:
			om_deliver_signal(p, msg);
			break;
		case VIRTIO_OM_T_SYSCALL_RET:
			memset(&a, 0, sizeof(a));
			/* The driver checked its length; short, it says the call failed. */
			if (om_kcom_msg_copy(msg, 0, &a, sizeof(a)) != sizeof(a))
				a.ret = cpu_to_le64(-EIO);
			if (seq && h->reply_to == seq) {
				size_t off = sizeof(a);

				/* A delegated file (deleg.c), taken once the call returns. */
				if (le32_to_cpu(a.flags) & VIRTIO_OM_SYSCALL_RET_F_DELEG) {
					p->granted = om_kcom_msg_copy(msg, off, &p->grant,
								      sizeof(p->grant)) ==
						     sizeof(p->grant);
					off += sizeof(p->grant);
				}
				/* A name home says does not exist (names.c). */
				if (le32_to_cpu(a.flags) & VIRTIO_OM_SYSCALL_RET_F_NAMES) {
					p->names_granted =
						om_kcom_msg_copy(msg, off, &p->names_grant,
								 sizeof(p->names_grant)) ==
						sizeof(p->names_grant);
					off += sizeof(p->names_grant);
				}
				/* Names the call made: forgotten before any next lookup. */
				if (le32_to_cpu(a.flags) & VIRTIO_OM_SYSCALL_RET_F_NAMES_DROP) {
					struct virtio_om_names n;

					if (om_kcom_msg_copy(msg, off, &n, sizeof(n)) == sizeof(n))
						om_names_dropped(p, &n);
					off += sizeof(n);
				}
				/* The last of the pages the call wrote came with it. */
				if (le32_to_cpu(a.flags) & VIRTIO_OM_SYSCALL_RET_F_PAGES)
					om_callbuf_written(msg, off);
				*r = a;
				om_kcom_msg_free(msg);
				return 0;
			}
			/*
			 * Not the call's: the oldest calls behind's (they are
			 * answered in order), else a stale answer (a fork's
			 * after its time-out), dropped.
			 */
			if (!om_behind_done(p, h->reply_to, &a))
				pr_info_ratelimited("omvm: pid %d: a stale answer (to message %llu) dropped\n",
						    p->home_pid, h->reply_to);
			break;
		default:
			om_reply_error(h, -EBUSY);
			break;
		}
		om_kcom_msg_free(msg);
	}
	return 0;
}

/**
 * om_behind_drain() - wait until every write behind is answered
 * @p: the process's half away, in its own context
 *
 * Before a move, a fork or a call that does more than run at home: what
 * the deputy runs or sends after must find those writes done, and answers
 * to them must not reach what waits for something else.
 *
 * Return: 0, or -EINTR/-EIO (the process is ending).
 */
int om_behind_drain(struct om_proc *p)
{
	void *buf;
	int err;

	om_behind_stop(p);
	if (!p->behind_out)
		return 0;
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = om_remote_wait(p, 0, NULL, 0, buf);
	kfree(buf);
	return err;
}

/* Forward a call to the deputy and serve its memory accesses until it answers. */
static long om_forward(struct om_proc *p, long nr, const unsigned long args[6])
{
	struct virtio_om_syscall_ret r = {};
	bool behind;
	u64 seq, sent;
	void *buf;
	int err;

	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	sent = ktime_get_ns();
	behind = om_behind_may(p, nr, args);
	if (behind && p->behind_out >= OM_BEHIND_WINDOW) {
		err = om_remote_wait(p, 0, NULL, OM_BEHIND_WINDOW - 1, buf);
		if (err)
			goto out;
		/* An answer meanwhile may have stopped calls behind. */
		behind = om_behind_may(p, nr, args);
	}
	if (!behind)
		om_behind_before(p, nr, args);
	/* Its buffers go with it: the deputy then faults for none of them. */
	err = om_callbuf_send(p, nr, args, behind, &seq);
	if (err < 0) {
		kfree(buf);
		return err == -ERESTARTSYS ? -EINTR : -EIO;
	}
	behind = err;
	atomic64_inc(&p->stats.syscalls);
	if (behind) {
		p->behind_seqs[(p->behind_first + p->behind_out) % OM_BEHIND_WINDOW] = seq;
		p->behind_out++;
		kfree(buf);
		return om_behind_result(nr, args);
	}
	err = om_remote_wait(p, seq, &r, 0, buf);
out:
	kfree(buf);
	if (err)
		return err;
	om_behind_answered(p, nr, args, &r);
	if (p->granted) {
		p->granted = false;
		om_deleg_take(p, nr, args, (long)le64_to_cpu(r.ret), &p->grant);
	}
	if (p->names_granted) {
		p->names_granted = false;
		om_names_take(p, nr, args, (long)le64_to_cpu(r.ret));
	}
	/* What its calls cost it here: the balancer weighs it. */
	sent = ktime_get_ns() - sent;
	atomic64_add(sent, &p->stats.fwd_ns);
	/* A call that waited on something else says nothing of the link. */
	if (sent < OM_CALL_COST_MAX_NS)
		om_load_note_call(sent);
	return (long)le64_to_cpu(r.ret);
}

/**
 * om_restart_at_home() - restart_syscall for a call the deputy ran
 * @rb: the process's restart block here (its data lives at the deputy)
 *
 * A forwarded call that ended with -ERESTART_RESTARTBLOCK left its restart
 * block with the deputy: the restart runs there, as the call did.
 *
 * Return: the restarted call's result.
 */
long om_restart_at_home(struct restart_block *rb)
{
	struct om_proc *p = om_proc_of_task(current);
	unsigned long args[6] = {};
	long ret;

	rb->fn = do_no_restart_syscall;
	if (!p)
		return -EINTR;
	ret = p->role == OM_REMOTE ? om_forward(p, __NR_restart_syscall, args) : -EINTR;
	om_proc_put(p);
	return ret;
}

/*
 * The signal mask a call takes for its duration (ppoll, pselect6,
 * epoll_pwait): it rules here, where signals are delivered, as it would at
 * home. Return: the user's sigset and its size, or NULL.
 */
static const sigset_t __user *om_call_sigmask(long nr, const unsigned long args[6], size_t *size)
{
	struct {
		unsigned long p;
		size_t size;
	} pselect;

	switch (nr) {
	case __NR_ppoll:
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
		*size = nr == __NR_ppoll ? args[4] : args[5];
		return (const sigset_t __user *)(nr == __NR_ppoll ? args[3] : args[4]);
	case __NR_pselect6:
		if (!args[5] || copy_from_user(&pselect, (void __user *)args[5], sizeof(pselect)))
			return NULL;
		*size = pselect.size;
		return (const sigset_t __user *)pselect.p;
	}
	return NULL;
}

/* A forwarded call, with what it does to the signal mask done here. */
long om_forward_call(struct om_proc *p, long nr, const unsigned long args[6])
{
	const sigset_t __user *umask;
	size_t size;
	long ret;

	umask = om_call_sigmask(nr, args, &size);
	if (umask) {
		ret = set_user_sigmask(umask, size);
		if (ret)
			return ret;
	}
	ret = om_forward(p, nr, args);
	if (umask)
		/* As poll_select_finish() and do_epoll_pwait() decide. */
		restore_saved_sigmask_unless(nr == __NR_epoll_pwait || nr == __NR_epoll_pwait2 ?
					     ret == -EINTR : ret == -ERESTARTNOHAND);
	/* The restart block is the deputy's: restart_syscall asks it. */
	if (ret == -ERESTART_RESTARTBLOCK)
		set_restart_fn(&current->restart_block, om_restart_at_home);
	return ret;
}

/*
 * A call that runs only at home: go home and run it there. A homecoming
 * that fails for a reason that passes (a time-out, memory short at home, a
 * lost message) is tried again, after 10 ms doubling up to 1 s: the call
 * does not fail for the cluster's trouble. A signal meanwhile restarts the
 * call after its handler, as any restartable call; home lost ends the
 * process (SIGKILL). Only a homecoming that can never work (home's CPU
 * cannot run it, or home refuses it as malformed) fails the call.
 */
static long om_go_home_for_call(struct om_proc *p)
{
	unsigned int delay = 10;
	int err;

	for (;;) {
		err = om_go_home(p, true);
		if (err == -ENOEXEC || err == -EINVAL || err == -EPROTO)
			return err;
		if (signal_pending(current) || msleep_interruptible(delay))
			return -ERESTARTNOINTR;
		delay = min(delay * 2, 1000u);
	}
}

/*
 * times() away: the clock it returns and the children's times are home's
 * (the children are reaped there, by forwarded waits); the process's own
 * times are here.
 */
static long om_times_away(struct om_proc *p, long nr, const unsigned long args[6])
{
	struct tms __user *buf = (struct tms __user *)args[0];
	long ret = om_forward_call(p, nr, args);
	u64 utime, stime;

	if (!buf || IS_ERR_VALUE(ret))
		return ret;
	thread_group_cputime_adjusted(current, &utime, &stime);
	if (put_user(nsec_to_clock_t(utime), &buf->tms_utime) ||
	    put_user(nsec_to_clock_t(stime), &buf->tms_stime))
		return -EFAULT;
	return ret;
}

/*
 * The process's blocked signals, told its deputy when they changed on one
 * a signalfd at home reads (SIGWATCH): home holds those it blocks
 * (om_deputy_held()). The deputy answers once it has sent on what it no
 * longer holds, so a signal unblocked here arrives before the call that
 * unblocked it returns, as at home.
 */
static void om_tell_mask(struct om_proc *p, const sigset_t *blocked)
{
	struct virtio_om_sigset s, echo;
	struct kvec kv = { &s, sizeof(s) };

	BUILD_BUG_ON(_NSIG_WORDS != 1);
	if (!((blocked->sig[0] ^ p->told_blocked.sig[0]) & READ_ONCE(p->home_watched)))
		return;
	p->told_blocked = *blocked;
	s.sigs = cpu_to_le64(blocked->sig[0]);
	/* A lost home ends the process: nothing to do about a failure here. */
	om_call_expect(p, VIRTIO_OM_T_SIGMASK, &kv, 1, OM_STEP_TIMEOUT, VIRTIO_OM_T_SIGMASK, &echo,
		       sizeof(echo), NULL);
}

/*
 * rt_sigprocmask, rt_sigsuspend and rt_sigtimedwait, run here: the mask
 * they leave is told after, the one they wait with before they sleep
 * (sigtimedwait waits for its set as if unblocked).
 */
static long om_sigmask_call(struct om_proc *p, const struct pt_regs *regs, long nr,
			    const unsigned long args[6])
{
	size_t size = nr == __NR_rt_sigtimedwait ? args[3] : args[1];
	sigset_t during;
	long ret;

	if (nr != __NR_rt_sigprocmask && size == sizeof(sigset_t) &&
	    !copy_from_user(&during, (const sigset_t __user *)args[0], sizeof(during))) {
		if (nr == __NR_rt_sigtimedwait)
			sigandnsets(&during, &current->blocked, &during);
		om_tell_mask(p, &during);
	}
	ret = om_arch_syscall_run(regs, nr, args);
	/* sigsuspend's own mask stays until its handler ran: told at the next call. */
	if (nr != __NR_rt_sigsuspend)
		om_tell_mask(p, &current->blocked);
	return ret;
}

long om_syscall_enter(struct pt_regs *regs, long nr)
{
	struct om_proc *p = om_proc_of_task(current);
	unsigned long args[6];
	int class;

	if (!p)
		return nr;
	/* The registry keeps our own half alive until we exit. */
	om_proc_put(p);
	if (p->role == OM_HOME) {
		if (p->back_node) {
			om_back_after_call(p);
			/* Failures of writes behind still to report here. */
			if (!list_empty(&p->behind_errs))
				set_task_syscall_work(current, OM);
			return nr;
		}
		om_arch_syscall_args(regs, args);
		if (!list_empty(&p->behind_errs) && om_behind_home_call(p, regs, nr, args))
			return -1;
		return nr;
	}
	if (p->role != OM_REMOTE)
		return nr;
	om_arch_syscall_args(regs, args);
	/* A handler's mask, or one sigsuspend left: told before the next call. */
	om_tell_mask(p, &current->blocked);
	class = om_syscall_class(nr, args);
	/* Names home said do not exist: not after a change of root, ids or mounts. */
	om_names_before(p, nr);
	/* Its delegated files: served here, or given back before the call goes home. */
	if (!xa_empty(&p->delegs)) {
		long ret;

		if (om_deleg_call(p, nr, args, class, &ret)) {
			regs->ax = ret;
			return -1;
		}
	}
	/*
	 * Writes behind are done before what does more than run here or at
	 * home: a fork, an exec, a file mapped, a call that goes home.
	 */
	if (p->behind_out && (class == OM_SC_HOME_FIRST || class == OM_SC_FORK ||
			      class == OM_SC_EXEC || class == OM_SC_MMAP_FILE))
		om_behind_drain(p);
	switch (class) {
	case OM_SC_LOCAL:
		break;
	case OM_SC_SIGMASK:
		regs->ax = om_sigmask_call(p, regs, nr, args);
		nr = -1;
		break;
	case OM_SC_PID:
		regs->ax = p->home_pid;
		nr = -1;
		break;
	case OM_SC_FORWARD:
		/* A name home said does not exist: no round trip to hear it again. */
		if (om_names_absent(p, nr, args)) {
			regs->ax = -ENOENT;
			nr = -1;
			break;
		}
		regs->ax = om_forward_call(p, nr, args);
		/* Home's stat of a file delegated here lacks what was written here. */
		if (!regs->ax && !xa_empty(&p->delegs) &&
		    (nr == __NR_stat || nr == __NR_lstat || nr == __NR_newfstatat ||
		     nr == __NR_statx))
			om_deleg_stat_path(p, nr, args);
		/* A delegated file's close: what its pages met on their way home. */
		if (p->deleg_close_err) {
			if (!IS_ERR_VALUE(regs->ax))
				regs->ax = p->deleg_close_err;
			p->deleg_close_err = 0;
		}
		nr = -1;
		break;
	case OM_SC_BOTH: {
		long ret = om_forward_call(p, nr, args);

		/* Done at home: now here (else its error, and nothing here). */
		if (IS_ERR_VALUE(ret)) {
			regs->ax = ret;
			nr = -1;
		}
		break;
	}
	case OM_SC_TIMES:
		regs->ax = om_times_away(p, nr, args);
		nr = -1;
		break;
	case OM_SC_FORK:
		/* x86_64's clone: flags, stack, parent_tid, child_tid, tls. */
		if (nr == __NR_fork || nr == __NR_vfork)
			regs->ax = om_fork_away(p, nr == __NR_fork ? SIGCHLD :
						CLONE_VM | CLONE_VFORK | SIGCHLD, 0, NULL, NULL, 0);
		else if (nr == __NR_clone3)
			regs->ax = om_fork_away_clone3(p, (struct clone_args __user *)args[0],
						       args[1]);
		else
			regs->ax = om_fork_away(p, args[0], args[1], (int __user *)args[2],
						(int __user *)args[3], args[4]);
		/* Threads, pidfds, namespaces: clone3 runs at home. */
		if (regs->ax == -EXDEV)
			regs->ax = om_go_home_for_call(p);
		nr = -1;
		break;
	case OM_SC_EXEC:
	case OM_SC_MMAP_FILE:
		regs->ax = nr == __NR_execve ? om_rfile_exec(p, regs, args) :
					       om_rfile_mmap(p, args);
		/* A set-id program, a script, a noexec mount: that call runs at home. */
		if (regs->ax == -EXDEV)
			regs->ax = om_go_home_for_call(p);
		nr = -1;
		break;
	default:
		/* Returns only if the process cannot go home (or a signal came first). */
		regs->ax = om_go_home_for_call(p);
		nr = -1;
		break;
	}
	return nr;
}
