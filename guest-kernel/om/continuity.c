// SPDX-License-Identifier: GPL-2.0-only
/*
 * What goes on across a move, so that a process cannot tell it moved: its
 * clocks (a time namespace makes up for nodes booted at different times),
 * its CPU time and the timers and limits counting it, a system call it was
 * in (its restart block and saved signal mask), its rseq registration and
 * no_new_privs. The sender fills these fields of MIG_BEGIN; the receiver
 * applies them before the process runs again.
 */
#include <linux/delay.h>
#include <linux/mutex.h>
#include <linux/futex.h>
#include <linux/hrtimer.h>
#include <linux/nsproxy.h>
#include <linux/posix-timers.h>
#include <linux/ptrace.h>
#include <linux/rseq.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/time_namespace.h>
#include <linux/timekeeping.h>
#include <asm/syscall.h>

#include "om.h"
#include "../futex/futex.h"

/* A homecoming waits at most this long for home's clock to catch up. */
#define OM_CLOCK_CATCH_UP_MAX_NS (2 * NSEC_PER_SEC)

/* The time now on @clockid's host clock, as restart blocks keep it. */
static s64 om_host_now(clockid_t clockid)
{
	switch (clockid) {
	case CLOCK_MONOTONIC:
		return ktime_get();
	case CLOCK_BOOTTIME:
		return ktime_get_boottime();
	case CLOCK_REALTIME:
		return ktime_get_real();
	case CLOCK_TAI:
		return ktime_get_clocktai();
	}
	return -1;
}

/* Clocks whose host time differs between nodes travel as time left. */
static bool om_clock_is_relative(clockid_t clockid)
{
	return clockid == CLOCK_MONOTONIC || clockid == CLOCK_BOOTTIME;
}

static s64 om_time_out(clockid_t clockid, s64 when)
{
	return om_clock_is_relative(clockid) ? max_t(s64, when - om_host_now(clockid), 0) : when;
}

static s64 om_time_in(clockid_t clockid, s64 t)
{
	return om_clock_is_relative(clockid) ? om_host_now(clockid) + t : t;
}

static bool om_restart_pending(const struct pt_regs *regs)
{
	return syscall_get_nr(current, (struct pt_regs *)regs) != -1 &&
	       syscall_get_error(current, (struct pt_regs *)regs) == -ERESTART_RESTARTBLOCK;
}

/* The sender's restart block, or -EAGAIN when it cannot go on elsewhere. */
static int om_save_restart(struct virtio_om_mig_begin *b, const struct om_proc *p)
{
	struct restart_block *rb = &current->restart_block;
	struct virtio_om_mig_restart *r = &b->restart;
	struct pt_regs *regs = current_pt_regs();
	unsigned long args[6];

	if (!om_restart_pending(regs))
		return 0;
	om_arch_syscall_args(regs, args);
	if (rb->fn == do_no_restart_syscall) {
		r->kind = cpu_to_le32(VIRTIO_OM_RESTART_INTERRUPT);
	} else if (rb->fn == hrtimer_nanosleep_restart) {
		if (om_host_now(rb->nanosleep.clockid) < 0 || rb->nanosleep.type == TT_COMPAT)
			return -EAGAIN;
		r->kind = cpu_to_le32(VIRTIO_OM_RESTART_NANOSLEEP);
		r->clockid = cpu_to_le32(rb->nanosleep.clockid);
		r->time_ns = cpu_to_le64(om_time_out(rb->nanosleep.clockid, rb->nanosleep.expires));
		r->addr = cpu_to_le64((unsigned long)rb->nanosleep.rmtp);
		r->type = cpu_to_le32(rb->nanosleep.type);
	} else if (rb->fn == futex_wait_restart) {
		clockid_t clk = rb->futex.flags & FLAGS_CLOCKRT ? CLOCK_REALTIME : CLOCK_MONOTONIC;

		/* A shared futex's word is not the process's own memory. */
		if (rb->futex.flags & FLAGS_SHARED)
			return -EAGAIN;
		r->kind = cpu_to_le32(VIRTIO_OM_RESTART_FUTEX);
		r->clockid = cpu_to_le32(clk);
		r->time_ns = cpu_to_le64(rb->futex.flags & FLAGS_HAS_TIMEOUT ?
					 om_time_out(clk, rb->futex.time) : 0);
		r->addr = cpu_to_le64((unsigned long)rb->futex.uaddr);
		r->type = cpu_to_le32(rb->futex.flags);
		r->val = cpu_to_le32(rb->futex.val);
		r->bitset = cpu_to_le32(rb->futex.bitset);
	} else if (rb->fn == om_restart_at_home ||
		   (p->role == OM_HOME && om_syscall_class(regs->orig_ax, args) == OM_SC_FORWARD)) {
		/*
		 * Away, a call the deputy ran; at home, a call that will run
		 * at the deputy when restarted: the deputy, this very task at
		 * home, keeps the block.
		 */
		r->kind = cpu_to_le32(VIRTIO_OM_RESTART_AT_HOME);
	} else {
		return -EAGAIN;
	}
	return 0;
}

/* om_carry_valid() checked the block when MIG_BEGIN came: nothing here can fail. */
static void om_apply_restart(const struct virtio_om_mig_begin *b, bool home)
{
	const struct virtio_om_mig_restart *r = &b->restart;
	struct restart_block *rb = &current->restart_block;
	clockid_t clk = le32_to_cpu(r->clockid);
	u32 type = le32_to_cpu(r->type);

	switch (le32_to_cpu(r->kind)) {
	case VIRTIO_OM_RESTART_NONE:
		break;
	case VIRTIO_OM_RESTART_INTERRUPT:
		set_restart_fn(rb, do_no_restart_syscall);
		break;
	case VIRTIO_OM_RESTART_NANOSLEEP:
		rb->nanosleep.clockid = clk;
		rb->nanosleep.type = type;
		rb->nanosleep.rmtp = u64_to_user_ptr(le64_to_cpu(r->addr));
		rb->nanosleep.expires = om_time_in(clk, le64_to_cpu(r->time_ns));
		set_restart_fn(rb, hrtimer_nanosleep_restart);
		break;
	case VIRTIO_OM_RESTART_FUTEX:
		rb->futex.uaddr = u64_to_user_ptr(le64_to_cpu(r->addr));
		rb->futex.val = le32_to_cpu(r->val);
		rb->futex.flags = type;
		rb->futex.bitset = le32_to_cpu(r->bitset);
		rb->futex.time = type & FLAGS_HAS_TIMEOUT ?
				 om_time_in(clk, le64_to_cpu(r->time_ns)) : 0;
		set_restart_fn(rb, futex_wait_restart);
		break;
	case VIRTIO_OM_RESTART_AT_HOME:
		/* At home the block is where the call left it; away it is asked for. */
		if (!home)
			set_restart_fn(rb, om_restart_at_home);
		break;
	}
}

/* A CPU-time interval timer, as setitimer() sets it (under siglock). */
static void om_set_cpu_itimer(unsigned int clock, u64 value, u64 interval)
{
	struct cpu_itimer *it = &current->signal->it[clock];
	u64 old;

	spin_lock_irq(&current->sighand->siglock);
	old = it->expires;
	if (old || value)
		set_process_cpu_timer(current, clock, &value, &old);
	it->expires = value;
	it->incr = interval;
	spin_unlock_irq(&current->sighand->siglock);
}

static void om_get_cpu_itimer(unsigned int clock, struct virtio_om_mig_itimer *out)
{
	struct cpu_itimer *it = &current->signal->it[clock];
	u64 value, samples[CPUCLOCK_MAX];

	spin_lock_irq(&current->sighand->siglock);
	value = it->expires;
	if (value) {
		thread_group_sample_cputime(current, samples);
		/* As getitimer() says: one tick left when it is about to fire. */
		value = value > samples[clock] ? value - samples[clock] : TICK_NSEC;
	}
	out->value_ns = cpu_to_le64(value);
	out->interval_ns = cpu_to_le64(it->incr);
	spin_unlock_irq(&current->sighand->siglock);
}

/**
 * om_carry_save() - fill what goes on across the move
 * @b: the MIG_BEGIN being made, by the process itself
 * @p: its half here
 *
 * Return: 0, or -EAGAIN when it is in a system call whose restart cannot
 * go on elsewhere (it moves once the call is over).
 */
int om_carry_save(struct virtio_om_mig_begin *b, struct om_proc *p)
{
	struct timespec64 ts;
	u64 ut, st;
	u32 flags = le32_to_cpu(b->flags);
	int err;

	err = om_save_restart(b, p);
	if (err)
		return err;
	if (test_restore_sigmask()) {
		flags |= VIRTIO_OM_MIG_F_RESTORE_SIGMASK;
		b->saved_sigmask = cpu_to_le64(current->saved_sigmask.sig[0]);
	}
	if (task_no_new_privs(current))
		flags |= VIRTIO_OM_MIG_F_NO_NEW_PRIVS;
	b->flags = cpu_to_le32(flags);

	/* The clocks as the process reads them, its time namespace included. */
	ktime_get_ts64(&ts);
	timens_add_monotonic(&ts);
	b->monotonic_ns = cpu_to_le64(timespec64_to_ns(&ts));
	ktime_get_boottime_ts64(&ts);
	timens_add_boottime(&ts);
	b->boottime_ns = cpu_to_le64(timespec64_to_ns(&ts));

	task_cputime_adjusted(current, &ut, &st);
	b->utime_ns = cpu_to_le64(ut);
	b->stime_ns = cpu_to_le64(st);
	om_get_cpu_itimer(CPUCLOCK_PROF, &b->itimer_prof);
	om_get_cpu_itimer(CPUCLOCK_VIRT, &b->itimer_virt);
#ifdef CONFIG_RSEQ
	b->rseq = cpu_to_le64((unsigned long)current->rseq);
	b->rseq_len = cpu_to_le32(current->rseq_len);
	b->rseq_sig = cpu_to_le32(current->rseq_sig);
#endif
	return 0;
}

/**
 * om_carry_left() - the sender's half after the process has left home
 * @p: the deputy's half
 * @b: what was sent
 *
 * The CPU-time timers run where the process runs, not at the deputy; the
 * CPU time it leaves with is what its time away is counted from.
 */
void om_carry_left(struct om_proc *p, const struct virtio_om_mig_begin *b)
{
	p->left_utime_ns = le64_to_cpu(b->utime_ns);
	p->left_stime_ns = le64_to_cpu(b->stime_ns);
	om_set_cpu_itimer(CPUCLOCK_PROF, 0, 0);
	om_set_cpu_itimer(CPUCLOCK_VIRT, 0, 0);
}

/**
 * om_carry_charge() - charge the deputy with the process's time away
 * @p: the deputy's half
 * @utime_ns: the process's user time, as it reports it (all of it)
 * @stime_ns: and its system time
 */
void om_carry_charge(struct om_proc *p, u64 utime_ns, u64 stime_ns)
{
	u64 ut = utime_ns > p->left_utime_ns ? utime_ns - p->left_utime_ns : 0;
	u64 st = stime_ns > p->left_stime_ns ? stime_ns - p->left_stime_ns : 0;

	account_moved_cputime(current, ut, st);
	p->left_utime_ns = utime_ns;
	p->left_stime_ns = stime_ns;
}

/*
 * Note the process's clocks against this node's when its MIG_BEGIN arrives:
 * from then on, they advance with this node's.
 */
void om_carry_arrived(struct om_proc *p, const struct virtio_om_mig_begin *b)
{
	struct timespec64 ts;

	ktime_get_ts64(&ts);
	timens_add_monotonic(&ts);
	p->arrival_monotonic_delta = (s64)le64_to_cpu(b->monotonic_ns) - timespec64_to_ns(&ts);
	ktime_get_boottime_ts64(&ts);
	timens_add_boottime(&ts);
	p->arrival_boottime_delta = (s64)le64_to_cpu(b->boottime_ns) - timespec64_to_ns(&ts);
}

/**
 * om_carry_prepare() - what an arrival needs that can fail, before GO
 * @p: the receiving half
 * @home: the process is coming home
 *
 * Away, a time namespace of its own, whose clocks continue home's. Made
 * while the sender still holds the process, so a failure refuses the move.
 *
 * Return: 0 or -errno.
 */
int om_carry_prepare(struct om_proc *p, bool home)
{
#ifdef CONFIG_TIME_NS
	struct time_namespace *ns;
	struct nsproxy *nsp;
	int err;

	if (home || p->arrival_nsproxy)
		return 0;
	err = unshare_nsproxy_namespaces(CLONE_NEWTIME, &nsp, NULL, current->fs);
	if (err)
		return err;
	ns = nsp->time_ns_for_children;
	ns->offsets.monotonic = ns_to_timespec64(p->arrival_monotonic_delta);
	ns->offsets.boottime = ns_to_timespec64(p->arrival_boottime_delta);
	get_time_ns(ns);
	put_time_ns(nsp->time_ns);
	nsp->time_ns = ns;
	p->arrival_nsproxy = nsp;
	return 0;
#else
	return home ? 0 : -EOPNOTSUPP;
#endif
}

/* A prepared arrival that did not happen. */
void om_carry_cancel(struct om_proc *p)
{
	if (p->arrival_nsproxy) {
		put_nsproxy(p->arrival_nsproxy);
		p->arrival_nsproxy = NULL;
	}
}

static void om_enter_time_ns(struct om_proc *p)
{
#ifdef CONFIG_TIME_NS
	struct nsproxy *nsp = p->arrival_nsproxy;

	if (!nsp)
		return;
	p->arrival_nsproxy = NULL;
	switch_task_namespaces(current, nsp);
	/* Freezes the offsets and remaps vvar: the vDSO reads them too. */
	timens_commit(current, nsp->time_ns);
#endif
}

/**
 * om_carry_valid() - whether what goes on across a move makes sense here
 * @b: an arriving MIG_BEGIN
 *
 * Context: any.
 * Return: true when its restart block can be taken in.
 */
bool om_carry_valid(const struct virtio_om_mig_begin *b)
{
	const struct virtio_om_mig_restart *r = &b->restart;
	u32 clk = le32_to_cpu(r->clockid), type = le32_to_cpu(r->type);

	if (r->reserved)
		return false;
	switch (le32_to_cpu(r->kind)) {
	case VIRTIO_OM_RESTART_NONE:
	case VIRTIO_OM_RESTART_INTERRUPT:
	case VIRTIO_OM_RESTART_AT_HOME:
		return true;
	case VIRTIO_OM_RESTART_NANOSLEEP:
		return (clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME || clk == CLOCK_REALTIME ||
			clk == CLOCK_TAI) && (type == TT_NONE || type == TT_NATIVE);
	case VIRTIO_OM_RESTART_FUTEX:
		if (type & FLAGS_SHARED)
			return false;
		if (clk == CLOCK_REALTIME)
			return type & FLAGS_CLOCKRT;
		return clk == CLOCK_MONOTONIC && !(type & FLAGS_CLOCKRT);
	}
	return false;
}

/**
 * om_carry_apply() - make the arriving process go on as it left
 * @p: the receiving half
 * @b: its MIG_BEGIN
 * @home: it is coming home (the deputy takes it in)
 *
 * Context: the receiving task, with the process's memory, before its
 * credentials are set (a time namespace needs the receiver's), after GO:
 * it cannot fail.
 */
void om_carry_apply(struct om_proc *p, const struct virtio_om_mig_begin *b, bool home)
{
	u64 ut = le64_to_cpu(b->utime_ns), st = le64_to_cpu(b->stime_ns);
	unsigned long cpu_limit;

	om_apply_restart(b, home);
	if (home) {
		s64 ahead = max(p->arrival_monotonic_delta, p->arrival_boottime_delta);

		/*
		 * Home's clocks are the process's own; if the node it comes
		 * from ran a little fast, wait rather than let them go back.
		 */
		if (ahead > 0 && ahead <= OM_CLOCK_CATCH_UP_MAX_NS)
			fsleep(div_u64(ahead, NSEC_PER_USEC) + 1);
		else if (ahead > 0)
			pr_warn("omvm: pid %d comes home %lld ns ahead of home's clock\n",
				p->home_pid, ahead);
		om_carry_charge(p, ut, st);
	} else {
		om_enter_time_ns(p);
		account_moved_cputime(current, ut, st);
	}
	om_set_cpu_itimer(CPUCLOCK_PROF, le64_to_cpu(b->itimer_prof.value_ns),
			  le64_to_cpu(b->itimer_prof.interval_ns));
	om_set_cpu_itimer(CPUCLOCK_VIRT, le64_to_cpu(b->itimer_virt.value_ns),
			  le64_to_cpu(b->itimer_virt.interval_ns));
	if (le32_to_cpu(b->flags) & VIRTIO_OM_MIG_F_NO_NEW_PRIVS)
		task_set_no_new_privs(current);
#ifdef CONFIG_RSEQ
	current->rseq = u64_to_user_ptr(le64_to_cpu(b->rseq));
	current->rseq_len = current->rseq ? le32_to_cpu(b->rseq_len) : 0;
	current->rseq_sig = current->rseq ? le32_to_cpu(b->rseq_sig) : 0;
	/* Its cpu and node ids are this node's from its first return. */
	rseq_set_notify_resume(current);
#endif
	cpu_limit = READ_ONCE(current->signal->rlim[RLIMIT_CPU].rlim_cur);
	if (cpu_limit != RLIM_INFINITY)
		update_rlimit_cpu(current, cpu_limit);
}

/**
 * om_carry_finish() - the call the process was in, on its way to user mode
 * @b: its MIG_BEGIN
 *
 * A call that was interrupted by the move (or by a signal that travelled
 * with it) restarts, returns EINTR or runs a handler exactly as the signal
 * code decides here, as it would have at the sender: make it look.
 */
void om_carry_finish(const struct virtio_om_mig_begin *b)
{
	struct pt_regs *regs = current_pt_regs();
	long err = syscall_get_error(current, regs);

	if (le32_to_cpu(b->flags) & VIRTIO_OM_MIG_F_RESTORE_SIGMASK) {
		current->saved_sigmask.sig[0] = le64_to_cpu(b->saved_sigmask) &
						~(sigmask(SIGKILL) | sigmask(SIGSTOP));
		set_restore_sigmask();
	}
	if (syscall_get_nr(current, regs) != -1 &&
	    (err == -ERESTARTSYS || err == -ERESTARTNOINTR || err == -ERESTARTNOHAND ||
	     err == -ERESTART_RESTARTBLOCK))
		set_notify_signal(current);
}
