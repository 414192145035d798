// SPDX-License-Identifier: GPL-2.0-only
/*
 * Job control for a process away. Stop signals reach it through its deputy
 * (a shell's ^Z, kill -STOP at home); where it runs it stops, or not, as
 * its own actions and mask decide, and tells the deputy, which stops at
 * home with the same signal: the parent's wait(WUNTRACED), ps and a shell's
 * jobs/fg/bg see the process as stopped where they are. SIGCONT at home
 * wakes the deputy, which sends it on.
 *
 * A stop and a SIGCONT can cross: STOPPED says how many SIGCONTs the
 * process had received, and the deputy stops only if it sent no more.
 */
#include <linux/cgroup.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/tty.h>
#include <linux/workqueue.h>
#include <linux/om.h>

#include "om.h"

static void om_stopped_work(struct work_struct *work)
{
	struct om_proc *p = container_of(work, struct om_proc, stop_work);
	struct virtio_om_stopped st = {
		.signo = cpu_to_le32(READ_ONCE(p->stop_signr)),
		.conts = cpu_to_le32(READ_ONCE(p->stop_conts)),
	};
	struct kvec kv = { &st, sizeof(st) };

	om_send(p, VIRTIO_OM_T_STOPPED, 0, 0, &kv, 1, NULL, 0, NULL);
	om_proc_put(p);
}

void om_jobctl_init(struct om_proc *p)
{
	INIT_WORK(&p->stop_work, om_stopped_work);
}

/*
 * do_signal_stop()'s hook: the current task has just stopped (it is
 * TASK_STOPPED and must not sleep), so the message goes from a work item.
 */
void om_task_stopped(int signr)
{
	struct om_proc *p;

	if (!test_task_syscall_work(current, OM))
		return;
	p = om_proc_of_task(current);
	if (!p)
		return;
	if (p->role == OM_REMOTE && READ_ONCE(p->running)) {
		WRITE_ONCE(p->stop_signr, signr);
		WRITE_ONCE(p->stop_conts, atomic_read(&p->conts));
		refcount_inc(&p->ref);
		if (!queue_work(system_wq, &p->stop_work))
			om_proc_put(p);
	}
	om_proc_put(p);
}

/*
 * get_signal()'s hook for SIGTSTP, SIGTTIN and SIGTTOU: away, the process's
 * group is the one at home, which its deputy described with the signal.
 */
bool om_pgrp_orphaned(void)
{
	struct om_proc *p = NULL;
	bool orphaned;

	if (test_task_syscall_work(current, OM))
		p = om_proc_of_task(current);
	if (!p || p->role != OM_REMOTE)
		orphaned = is_current_pgrp_orphaned();
	else
		orphaned = READ_ONCE(p->home_orphaned);
	om_proc_put(p);
	return orphaned;
}

/* What a signal sent to the process carries about its group at home. */
u32 om_signal_flags(struct om_proc *p, int sig)
{
	if (p->role == OM_REMOTE || !sig_kernel_stop(sig) || sig == SIGSTOP)
		return 0;
	return is_current_pgrp_orphaned() ? VIRTIO_OM_SIGNAL_F_ORPHANED : 0;
}

/* A signal reached the process away (om_deliver_signal()). */
void om_signal_arrived(struct om_proc *p, int sig, u32 flags)
{
	if (sig == SIGCONT)
		atomic_inc(&p->conts);
	if (sig_kernel_stop(sig) && sig != SIGSTOP)
		WRITE_ONCE(p->home_orphaned, flags & VIRTIO_OM_SIGNAL_F_ORPHANED);
}

/**
 * om_deputy_stopped() - the process away stopped: stop here as well
 * @p: the deputy's half
 * @msg: its STOPPED message (freed by the caller)
 *
 * Returns once the deputy is continued (SIGCONT, which then goes on to the
 * process) or killed.
 */
void om_deputy_stopped(struct om_proc *p, struct om_kcom_msg *msg)
{
	struct virtio_om_stopped st;
	int sig;

	if (om_kcom_msg_copy(msg, 0, &st, sizeof(st)) != sizeof(st))
		return;
	sig = le32_to_cpu(st.signo);
	if (!valid_signal(sig) || !sig_kernel_stop(sig))
		return;
	/* Continued since: it runs again already. */
	if (le32_to_cpu(st.conts) != (u32)atomic_read(&p->conts))
		return;
	if (!om_signal_stop(sig) || !cgroup_task_frozen(current))
		return;
	/*
	 * A stop marks the task frozen for its cgroup, which keeps a signal
	 * pending until get_signal() sees it run again; the deputy never goes
	 * there, and each call it ran for the process would end at once with
	 * -ERESTARTSYS. Leave it as get_signal() would.
	 */
	cgroup_leave_frozen(false);
	spin_lock_irq(&current->sighand->siglock);
	recalc_sigpending();
	spin_unlock_irq(&current->sighand->siglock);
}
