// SPDX-License-Identifier: GPL-2.0-only
/*
 * Children born away: a process running away from home that forks (fork,
 * or clone without CLONE_VM) gets its child where it runs, and the child
 * gets a deputy at home, forked by the parent's deputy. So the child has
 * a home pid, its parent at home is the parent's deputy (wait, SIGCHLD,
 * orphans, process groups and sessions work there as on one machine), and
 * it runs, and can be moved, like any process away.
 *
 * The steps (docs/engine.md "Children born away"): the parent makes the
 * child here first, held in the kernel before it ever runs; then asks its
 * deputy (FORK), which forks the child's deputy and answers with its pid;
 * then lets the child go. A failure at home drops the held child, so a
 * fork either makes both halves or none; an answer that never comes fails
 * the fork, and a FORK_CANCEL then ends a child's deputy home made for it.
 *
 * vfork (CLONE_VM with CLONE_VFORK) shares the parent's memory here, and
 * the parent waits until the child execs, ends or leaves this node, as
 * vfork's parent does: posix_spawn()'s child reports a failed exec through
 * that memory.
 */
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/sched.h>
#include <uapi/linux/wait.h>

#include "om.h"

/* The clone flags a fork away takes: the rest go home first (om_syscall_class()). */
#define OM_FORK_AWAY_FLAGS (CSIGNAL | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | \
			    CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_VFORK | CLONE_VM | \
			    VIRTIO_OM_FORK_HOME_FLAGS)

/* A fork that failed at home for a pending signal is asked again this often. */
#define OM_FORK_TRIES 5

bool om_fork_away_flags(unsigned long flags)
{
	BUILD_BUG_ON(VIRTIO_OM_FORK_HOME_FLAGS !=
		     (CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_PARENT | CLONE_IO));
	/* Shared memory without the parent waiting is a thread: at home. */
	if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
		return false;
	return !(flags & ~(unsigned long)OM_FORK_AWAY_FLAGS) &&
	       valid_signal(flags & CSIGNAL);
}

/* What the parent's deputy hands the child's deputy it forks. */
struct om_deputy_birth {
	struct completion registered;
	struct om_proc *cp;
	sigset_t blocked;
	int err;
};

/* Back at home, the process's ax as its move left it (ret_from_fork cleared it). */
static void om_child_home_resume(struct callback_head *cb)
{
	struct om_proc *p = container_of(cb, struct om_proc, resume_work);

	current_pt_regs()->ax = p->resume_ax;
}

/*
 * The child's deputy: registers, lets its parent answer, and serves the
 * child until it comes home; then the task returns to user mode as the
 * process (ret_from_fork), or ends with it.
 */
static int om_deputy_child(void *arg)
{
	struct om_deputy_birth *birth = arg;
	struct om_proc *cp = birth->cp;
	sigset_t blocked = birth->blocked;
	int err;

	get_task_struct(current);
	cp->task = current;
	cp->home_pid = task_tgid_nr(current);
	err = om_proc_register(cp);
	birth->err = err;
	/* birth is the parent's and gone once it hears. */
	complete(&birth->registered);
	/* The registry holds the half until this task ends. */
	om_proc_put(cp);
	if (err)
		do_exit(SIGKILL);
	/* The deputy starts from the child's mask (om_deputy_run() takes it as the process's). */
	set_current_blocked(&blocked);
	om_move_on(cp, om_deputy_run(cp));
	cp->resume_ax = current_pt_regs()->ax;
	init_task_work(&cp->resume_work, om_child_home_resume);
	/*
	 * As a signal: get_signal() runs it first, so a call the process was
	 * in restarts (or a handler's frame saves ax) as after any homecoming.
	 */
	if (task_work_add(current, &cp->resume_work, TWA_SIGNAL))
		do_exit(SIGKILL);
	return 0;
}

static long om_deputy_clone(struct om_proc *p, const struct virtio_om_fork *f, pid_t *pid)
{
	struct om_deputy_birth birth = {};
	struct kernel_clone_args args = {
		/*
		 * CLONE_VM: the child's deputy makes its own stand-in at once
		 * (om_deputy_run()), so a copy of this one would be made and
		 * dropped for nothing. It runs no user code until then.
		 */
		.flags = le64_to_cpu(f->flags) | CLONE_VM,
		.exit_signal = le32_to_cpu(f->exit_signal),
		.fn = om_deputy_child,
		.fn_arg = &birth,
	};
	struct om_proc *cp;
	pid_t nr;

	if (le64_to_cpu(f->flags) & ~VIRTIO_OM_FORK_HOME_FLAGS || !valid_signal(args.exit_signal))
		return -EINVAL;
	cp = om_proc_alloc(NULL, OM_DEPUTY);
	if (!cp)
		return -ENOMEM;
	cp->home_node = p->home_node;
	cp->peer_node = p->peer_node;
	/* Serving from the start: the child's node going down ends it. */
	cp->serving = true;
	/* The parent's way out is the child's best guess (om_home_for_call()). */
	cp->last_total_ns = p->last_total_ns;
	cp->left_ns = ktime_get_ns();
	init_completion(&birth.registered);
	birth.cp = cp;
	siginitset(&birth.blocked,
		   le64_to_cpu(f->blocked) & ~(sigmask(SIGKILL) | sigmask(SIGSTOP)));
	nr = kernel_clone(&args);
	if (nr < 0) {
		om_proc_put(cp);
		return nr;
	}
	/* The child takes cp over: it puts the reference once registered. */
	wait_for_completion(&birth.registered);
	if (birth.err)
		return birth.err;
	*pid = nr;
	return 0;
}

/**
 * om_deputy_fork() - a FORK from the process away: fork its child's deputy
 * @p: the deputy's half
 * @msg: the request
 *
 * Answers with the child's pid here, or -errno.
 */
void om_deputy_fork(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_syscall_ret r = {};
	struct kvec kv = { &r, sizeof(r) };
	struct virtio_om_fork f;
	pid_t pid = 0;
	long ret = -EPROTO;
	int tries;

	if (om_kcom_msg_copy(msg, 0, &f, sizeof(f)) == sizeof(f)) {
		for (tries = 0; tries < OM_FORK_TRIES; tries++) {
			/* A signal pending here fails a fork (-ERESTARTNOINTR): send it on. */
			om_deputy_forward_signals(p);
			ret = om_deputy_clone(p, &f, &pid);
			if (ret != -ERESTARTNOINTR)
				break;
		}
	}
	if (!ret) {
		ret = pid;
		atomic64_inc(&p->stats.forks);
		/* Until another message comes, a FORK_CANCEL may end it. */
		om_deputy_fork_settled(p);
		p->fork_serial = le32_to_cpu(f.serial);
		p->fork_child = find_get_pid(pid);
	}
	if (om_fault(OM_FAULT_FORK_LOST))
		return;
	if (om_fault(OM_FAULT_FORK_LATE))
		msleep(om_fork_late_ms());
	r.ret = cpu_to_le64(ret);
	om_send(p, VIRTIO_OM_T_SYSCALL_RET, VIRTIO_OM_F_REPLY, h->seq, &kv, 1, NULL, 0, NULL);
}

/**
 * om_deputy_fork_settled() - no FORK_CANCEL can come for the last fork any more
 * @p: the deputy's half
 */
void om_deputy_fork_settled(struct om_proc *p)
{
	put_pid(p->fork_child);
	p->fork_child = NULL;
}

/*
 * A child's deputy that is not to be: it ends, and is reaped here unseen.
 * @pid names the very task forked (a pid number could have been reused).
 * Only a child of this task's own: with CLONE_PARENT it is the parent's,
 * which reaps it, and is left alone (it then lingers as a child's deputy
 * without its process until that parent ends).
 */
static void om_deputy_unmake(struct pid *pid)
{
	struct task_struct *child = get_pid_task(pid, PIDTYPE_PID);
	bool ours;
	int i;

	if (!child)
		return;
	/* No SIGCHLD: exit_notify() signals the parent with exit_signal. */
	write_lock_irq(&tasklist_lock);
	ours = child->real_parent == current;
	if (ours)
		child->exit_signal = 0;
	write_unlock_irq(&tasklist_lock);
	if (ours)
		send_sig(SIGKILL, child, 1);
	put_task_struct(child);
	if (!ours)
		return;
	/*
	 * Reaped here, by pid (a clone child: only __WALL waits see it).
	 * Polled: a wait that sleeps ends at once while a signal is pending,
	 * and a deputy's signals wait for it to forward them.
	 */
	for (i = 0; i < 1000; i++) {
		if (kernel_wait4(pid_nr(pid), NULL, WNOHANG | __WALL, NULL))
			break;
		schedule_timeout_killable(msecs_to_jiffies(10));
	}
}

/**
 * om_deputy_fork_cancel() - the process failed a fork whose answer did not come
 * @p: the deputy's half
 * @msg: the FORK_CANCEL
 *
 * The child's deputy made for that fork, if any, ends unseen: the process
 * was told its fork failed (EAGAIN), so no child of it may appear.
 */
void om_deputy_fork_cancel(struct om_proc *p, struct om_kcom_msg *msg)
{
	struct virtio_om_fork_cancel c;

	if (om_kcom_msg_copy(msg, 0, &c, sizeof(c)) == sizeof(c) && !c.reserved &&
	    p->fork_child && le32_to_cpu(c.serial) == p->fork_serial) {
		pr_info("omvm: pid %d: fork %u not answered in time away: child's deputy %d ends\n",
			p->home_pid, p->fork_serial, pid_nr(p->fork_child));
		om_deputy_unmake(p->fork_child);
		atomic64_inc(&p->stats.forks_cancelled);
	}
	om_deputy_fork_settled(p);
}

/* What the parent hands the child it makes here. */
struct om_remote_birth {
	struct completion go;
	struct om_proc *cp;	/* registered, with a reference for the child */
	int err;		/* 0: run; -errno: end unseen */
	unsigned long flags;
	pid_t pid;
	int __user *child_tid;
	/* vfork's child keeps the parent's sigaltstack (copy_process() resets it for CLONE_VM). */
	unsigned long sas_ss_sp;
	size_t sas_ss_size;
	unsigned int sas_ss_flags;
	size_t xsize;
	struct virtio_om_mig_begin b; /* the parent's registers; its xstate follows */
};

static void om_remote_birth_free(struct om_remote_birth *birth)
{
	kvfree(birth);
}

/* A child registered here that will not run: its deputy ends (as killed). */
static void om_child_lost(struct om_proc *cp)
{
	om_send_lost(cp, OM_KCOM_KILLABLE);
	om_proc_unregister(cp);
}

/* The child here: it waits for its parent's word, then runs as the child. */
static int om_remote_child(void *arg)
{
	struct om_remote_birth *birth = arg;
	struct om_proc *cp;
	struct om_kcom_msg *msg;
	int err;

	wait_for_completion(&birth->go);
	cp = birth->cp;
	if (birth->err) {
		/* Home made no deputy: this task ends unseen (kthreadd reaps it). */
		om_remote_birth_free(birth);
		do_exit(0);
	}
	err = om_proc_attach(cp, current);
	if (err) {
		om_child_lost(cp);
		om_proc_put(cp);
		om_remote_birth_free(birth);
		do_exit(0);
	}
	/* From here its end (om_task_exit()) tells its deputy, which ends the same. */
	err = om_arch_restore(&birth->b, birth + 1, birth->xsize);
	if (!err && (birth->flags & CLONE_CHILD_SETTID) &&
	    put_user(birth->pid, birth->child_tid))
		err = -EFAULT;
	if (err) {
		pr_warn("omvm: pid %d: the child cannot start here (%d): killed\n", cp->home_pid,
			err);
		om_proc_put(cp);
		om_remote_birth_free(birth);
		do_exit(SIGKILL);
	}
	if (birth->flags & CLONE_CHILD_CLEARTID)
		current->clear_child_tid = birth->child_tid;
	if (birth->flags & CLONE_VM) {
		current->sas_ss_sp = birth->sas_ss_sp;
		current->sas_ss_size = birth->sas_ss_size;
		current->sas_ss_flags = birth->sas_ss_flags;
	}
	om_remote_birth_free(birth);
	set_task_syscall_work(current, OM);
	cp->told_blocked = current->blocked;
	WRITE_ONCE(cp->running, true);
	/* Signals its deputy sent before it ran. */
	while ((msg = om_proc_try_next(cp))) {
		if (om_kcom_msg_hdr(msg)->type == VIRTIO_OM_T_SIGNAL)
			om_deliver_signal(cp, msg);
		om_kcom_msg_free(msg);
	}
	if (READ_ONCE(cp->killed))
		force_sig(SIGKILL);
	om_proc_put(cp);
	/* ret_from_fork returns to user mode with ax 0: the child's fork() result. */
	return 0;
}

/*
 * vfork's wait, as kernel_clone() does it for CLONE_VFORK: the child (held,
 * not yet run) completes @vfork as it releases its memory, by exec or exit
 * (or by leaving this node). NULL if the child is gone already.
 */
static struct task_struct *om_vfork_prepare(pid_t nr, struct completion *vfork)
{
	struct task_struct *child = find_get_task_by_vpid(nr);

	if (!child)
		return NULL;
	init_completion(vfork);
	task_lock(child);
	child->vfork_done = vfork;
	task_unlock(child);
	return child;
}

static void om_vfork_wait(struct task_struct *child, struct completion *vfork)
{
	cgroup_enter_frozen();
	if (wait_for_completion_state(vfork, TASK_KILLABLE | TASK_FREEZABLE)) {
		task_lock(child);
		child->vfork_done = NULL;
		task_unlock(child);
	}
	cgroup_leave_frozen(false);
	put_task_struct(child);
}

/* The fork @serial failed here unanswered: a child's deputy home made for it ends. */
static void om_cancel_fork(struct om_proc *p, u32 serial)
{
	struct virtio_om_fork_cancel c = { .serial = cpu_to_le32(serial) };
	struct kvec kv = { &c, sizeof(c) };

	pr_info("omvm: pid %d: home did not answer fork %u: it fails (EAGAIN)\n", p->home_pid,
		serial);
	om_send(p, VIRTIO_OM_T_FORK_CANCEL, 0, 0, &kv, 1, NULL, 0, NULL);
}

/*
 * Ask the deputy for the child's deputy: its pid, or -errno. Once asked, the
 * answer is awaited whatever signal comes: a deputy made at home must
 * learn of its child. Only home lost or silent for OM_STEP_TIMEOUT ends the
 * wait: the fork fails with EAGAIN, and FORK_CANCEL tells home to end a
 * child's deputy it made meanwhile.
 */
static long om_ask_fork(struct om_proc *p, unsigned long flags)
{
	struct virtio_om_fork f = {
		.flags = cpu_to_le64(flags & VIRTIO_OM_FORK_HOME_FLAGS),
		.exit_signal = cpu_to_le32(flags & CSIGNAL),
		.blocked = cpu_to_le64(current->blocked.sig[0]),
	};
	struct kvec kv = { &f, sizeof(f) };
	struct om_kcom_out out = om_out(p, VIRTIO_OM_T_FORK, 0, &kv, 1);
	struct virtio_om_syscall_ret r = {};
	struct om_kcom_msg *reply;
	long ret;
	int err;

	for (;;) {
		f.serial = cpu_to_le32(++p->fork_asks);
		err = om_kcom_call(&out, OM_KCOM_KILLABLE | OM_KCOM_SURE_REPLY, om_fork_timeout(),
				   &reply);
		if (err == -ERESTARTSYS)
			return -ERESTARTNOINTR;
		if (err) {
			om_cancel_fork(p, le32_to_cpu(f.serial));
			return -EAGAIN;
		}
		ret = -EPROTO;
		if (om_kcom_msg_hdr(reply)->type == VIRTIO_OM_T_SYSCALL_RET &&
		    om_kcom_msg_copy(reply, 0, &r, sizeof(r)) == sizeof(r))
			ret = (long)le64_to_cpu(r.ret);
		om_kcom_msg_free(reply);
		/* Home kept getting signals: restart the call if one is for us, else ask again. */
		if (ret != -ERESTARTNOINTR || signal_pending(current))
			return ret;
	}
}

/**
 * om_fork_away_clone3() - clone3() of a process away: a fork here if it is one
 * @p: the caller's half here
 * @uargs: its struct clone_args
 * @size: their size
 *
 * Return: the child's home pid or -errno, or -EXDEV when the call must run
 * at home (threads, pidfds, cgroups, chosen pids, namespaces).
 */
long om_fork_away_clone3(struct om_proc *p, struct clone_args __user *uargs, size_t size)
{
	struct clone_args a;
	int err;

	if (size < CLONE_ARGS_SIZE_VER0 || size > PAGE_SIZE)
		return -EINVAL;
	err = copy_struct_from_user(&a, sizeof(a), uargs, size);
	if (err)
		return err;
	if (a.exit_signal & ~CSIGNAL || a.set_tid || a.set_tid_size || a.pidfd ||
	    (a.flags & CLONE_INTO_CGROUP) || a.flags & CSIGNAL ||
	    !om_fork_away_flags(a.flags | a.exit_signal) ||
	    (a.stack_size && !a.stack) || (a.stack && !a.stack_size))
		return -EXDEV;
	return om_fork_away(p, a.flags | a.exit_signal, a.stack ? a.stack + a.stack_size : 0,
			    u64_to_user_ptr(a.parent_tid), u64_to_user_ptr(a.child_tid), a.tls);
}

/**
 * om_fork_away() - fork a process running away from home, here
 * @p: the parent's half here (OM_REMOTE)
 * @flags: clone flags (om_fork_away_flags() holds)
 * @newsp: the child's stack pointer, 0 for the parent's
 * @parent_tid: where CLONE_PARENT_SETTID writes the child's pid
 * @child_tid: where CLONE_CHILD_SETTID writes it, CLONE_CHILD_CLEARTID clears it
 * @tls: the child's thread pointer for CLONE_SETTLS
 *
 * Return: the child's home pid, or -errno (nothing was made).
 */
long om_fork_away(struct om_proc *p, unsigned long flags, unsigned long newsp,
		  int __user *parent_tid, int __user *child_tid, unsigned long tls)
{
	size_t xsize = om_arch_xstate_size();
	struct om_remote_birth *birth;
	struct kernel_clone_args args = {
		/*
		 * A child of kthreadd here, which reaps it; its parent is at
		 * home. vfork's child shares the memory (om_fork_away_flags():
		 * CLONE_VM comes with CLONE_VFORK, whose wait is om_vfork_wait()).
		 */
		.flags = CLONE_PARENT | CLONE_UNTRACED | (flags & CLONE_VM),
		.fn = om_remote_child,
	};
	struct task_struct *child = NULL;
	struct completion vfork;
	struct om_proc *cp;
	long ret;
	pid_t nr;

	birth = kvzalloc(sizeof(*birth) + xsize, GFP_KERNEL);
	cp = om_proc_alloc(NULL, OM_REMOTE);
	if (!birth || !cp) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = om_arch_save(&birth->b, birth + 1, xsize);
	if (ret)
		goto fail;
	if (newsp)
		birth->b.regs.sp = cpu_to_le64(newsp);
	if (flags & CLONE_SETTLS)
		birth->b.regs.fs_base = cpu_to_le64(tls);
	init_completion(&birth->go);
	birth->xsize = xsize;
	birth->flags = flags;
	birth->child_tid = child_tid;
	birth->sas_ss_sp = current->sas_ss_sp;
	birth->sas_ss_size = current->sas_ss_size;
	birth->sas_ss_flags = current->sas_ss_flags;
	cp->home_node = p->home_node;
	cp->peer_node = p->home_node;

	/* The child here first, held: if it cannot be made, home never hears of it. */
	args.fn_arg = birth;
	nr = kernel_clone(&args);
	if (nr < 0) {
		ret = nr;
		goto fail;
	}
	/* From here the child owns birth, and frees it. */
	ret = om_ask_fork(p, flags);
	if (!ret)
		ret = -EPROTO;
	if (ret > 0) {
		cp->home_pid = ret;
		birth->pid = ret;
		if (om_proc_register(cp)) {
			/* Only if a half of that pid lingers here: its deputy ends. */
			pr_warn("omvm: pid %d: child %ld has a half here already\n",
				p->home_pid, ret);
			om_child_lost(cp);
			ret = -EAGAIN;
		}
	}
	if (ret > 0) {
		refcount_inc(&cp->ref);
		birth->cp = cp;
		atomic64_inc(&p->stats.forks);
		atomic64_inc(&om_node_stats.born);
		if (flags & CLONE_VFORK)
			child = om_vfork_prepare(nr, &vfork);
	} else {
		birth->err = ret;
	}
	complete(&birth->go);
	om_proc_put(cp);
	if (ret > 0 && (flags & CLONE_PARENT_SETTID) && put_user((pid_t)ret, parent_tid))
		ret = -EFAULT;
	if (child)
		om_vfork_wait(child, &vfork);
	return ret;

fail:
	om_proc_put(cp);
	kvfree(birth);
	return ret;
}
