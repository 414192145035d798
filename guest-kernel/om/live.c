// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live moves: the process runs on at home while rounds of its pages cross,
 * and is frozen only for what it wrote since (soft-dirty bits, cleared at
 * each round), its registers and its final mappings (om_send_process()).
 * After the first round, what it wrote comes from a log of its write
 * faults (dirty_log.c) wherever that log is exact, so that neither a round's
 * planning nor the freeze walks every page table: the freeze does not grow
 * with the memory.
 *
 * The rounds run in the process's own context, a few milliseconds at a
 * time on its way back to user mode, so nothing else touches its memory
 * while a round is planned: a guest here has one CPU, which a sending
 * thread would share with the process all the same. Between two slices
 * the process runs for a tick.
 *
 * Moves from home, between two nodes away and home can be live
 * (docs/engine.md). Away, the process's calls between slices go to its
 * deputy as always: only the move's own code talks to the destination;
 * coming home, the deputy is the destination too, and serves them between
 * the rounds it takes in. A failure anywhere ends the copy the destination
 * built (MIG_ABORT) and the process goes on here; away, its deputy hears
 * why.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/om.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "migrate.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
/*
 * om.live: 0 never; 1 for a process of at least om.live_min_kib resident
 * anonymous memory moved by another (om-migrate, a balancer, a write to
 * its where; its own write during such a move's rounds ends them in that
 * write); 2 always, its own writes to where included (which then return
 * while the rounds go on). Writable at /sys/module/om/parameters/.
 */
static unsigned int om_live_mode = 1;
module_param_named(live, om_live_mode, uint, 0644);
MODULE_PARM_DESC(live, "Moves from home are live: 0 never, 1 from live_min_kib resident, 2 always");
static unsigned int om_live_min_kib = 4096;
module_param_named(live_min_kib, om_live_min_kib, uint, 0644);
MODULE_PARM_DESC(live_min_kib, "Anonymous memory (KiB) from which om.live=1 moves a process live");

/* At most this many rounds; fewer pages written than this in one: freeze. */
#define OM_LIVE_ROUNDS 8
#define OM_LIVE_ENOUGH 256
/* One slice sends for this long, then the process runs a tick. */
#define OM_LIVE_SLICE_NS (4 * NSEC_PER_MSEC)

struct om_live {
	struct om_sender *s;
	struct mm_struct *mm;	/* the process's at the start (compared, not held) */
	u32 dest;
	unsigned int round;
	unsigned long *plan;	/* this round's pages */
	unsigned int nr_plan, at, cap;
	unsigned int last_found;	/* pages the previous round found written */
	u64 round_pages;
	struct om_dirty_log *log;	/* what it writes meanwhile */
	unsigned int walks;	/* rounds planned by a walk of its page tables */
	bool away;		/* between two nodes away (hop.c); not home */
	u64 start_ns;		/* the start's pause: its first walk and clearing */
};

struct om_sender *om_live_sender(struct om_proc *p)
{
	return p->live ? p->live->s : NULL;
}

/* Where a live move goes (0: none in its rounds). */
u32 om_live_dest(const struct om_proc *p)
{
	return p->live ? p->live->dest : 0;
}

/* The rounds a live move sent so far (its final MIG_BEGIN tells them). */
unsigned int om_live_rounds(const struct om_proc *p)
{
	return p->live ? p->live->round : 0;
}

/**
 * om_live_wanted() - whether the current process's move should be live
 * @p: its half here (at home, or away from it)
 * @dest: where it goes
 *
 * Return: true by om.live's policy, here.
 */
bool om_live_wanted(struct om_proc *p, u32 dest)
{
	unsigned int mode = READ_ONCE(om_live_mode);
	unsigned long anon;

	if (p->role == OM_DEPUTY || !mode || !IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		return false;
	/* It asked for its own move: it expects to be there when its write returns. */
	if (mode == 1 && READ_ONCE(p->asked_by_self))
		return false;
	/* What its rounds would send: a file's pages are read from home. */
	anon = get_mm_counter(current->mm, MM_ANONPAGES) +
	       get_mm_counter(current->mm, MM_SHMEMPAGES);
	return mode >= 2 || anon << (PAGE_SHIFT - 10) >= READ_ONCE(om_live_min_kib);
}

/*
 * Away, the process's peer stays its deputy, for its calls between slices:
 * only the move's own code talks to the destination, as om_send_process()
 * does between two nodes away (hop_to). At home the destination is its
 * peer for the move's time.
 */
static void om_live_enter(struct om_proc *p)
{
	if (p->live->away)
		WRITE_ONCE(p->hop_to, p->live->dest);
}

static void om_live_leave(struct om_proc *p)
{
	if (p->live->away)
		WRITE_ONCE(p->hop_to, 0);
}

static void om_live_free(struct om_proc *p)
{
	struct om_live *l = p->live;

	p->live = NULL;
	if (!l)
		return;
	om_dirty_log_stop(l->log);
	l->s->log = NULL;
	om_sender_free(l->s);
	kvfree(l->plan);
	kfree(l);
	WRITE_ONCE(p->sending, false);
}

/**
 * om_live_cancel() - end a live move before its freeze
 * @p: its half here
 * @err: why
 * @last: the process is exiting: no wait for room to send
 *
 * The destination drops what the rounds built; the process stays here.
 */
void om_live_cancel(struct om_proc *p, int err, bool last)
{
	struct virtio_om_mig_go abort = { .error = cpu_to_le32(-err) };

	struct om_live *l = p->live;

	if (!l)
		return;
	pr_info("omvm: pid %d: live move to node %u ends before its freeze (%d)\n",
		p->home_pid, l->dest, err);
	om_live_enter(p);
	if (!l->s->begun) {
		/* Its first MIG_BEGIN never left. */
	} else if (last || fatal_signal_pending(current)) {
		/* A killable send would give up at once: the destination must hear. */
		om_send_last(p, VIRTIO_OM_T_MIG_ABORT, &abort, sizeof(abort));
	} else {
		struct kvec kv = { &abort, sizeof(abort) };

		om_send(p, VIRTIO_OM_T_MIG_ABORT, 0, 0, &kv, 1, NULL, 0, NULL);
	}
	om_live_leave(p);
	if (!l->away)
		p->peer_node = l->s->old_peer;
	/* Away, its deputy hears why it stays, unless a new move takes over. */
	else if (!last && err != -ECANCELED)
		om_handover(p, om_kcom_self(), VIRTIO_OM_HANDOVER_F_BACK, err);
	om_live_free(p);
}

static int om_live_add(struct om_live *l, unsigned long addr)
{
	if (l->nr_plan == l->cap) {
		unsigned int cap = max(l->cap * 2, 1024u);
		unsigned long *n = kvmalloc_array(cap, sizeof(*n), GFP_KERNEL);

		if (!n)
			return -ENOMEM;
		if (l->plan)
			memcpy(n, l->plan, l->nr_plan * sizeof(*n));
		kvfree(l->plan);
		l->plan = n;
		l->cap = cap;
	}
	l->plan[l->nr_plan++] = addr;
	return 0;
}

/*
 * A round's plan: every page there is (the first round), or those written
 * since the soft-dirty bits were last cleared. The caller clears them
 * next; the process is in the kernel here, in this code, so nothing
 * writes in between.
 */
static int om_live_plan(struct om_live *l)
{
	struct om_sender *s = l->s;
	unsigned int i, n, j;
	int err;

	l->nr_plan = 0;
	l->at = 0;
	for (i = 0; i < s->nr_vmas; i++) {
		unsigned long at = le64_to_cpu(s->vmas[i].start), end = le64_to_cpu(s->vmas[i].end);

		if (le32_to_cpu(s->vmas[i].flags) & VIRTIO_OM_VMA_F_VDSO)
			continue;
		while (at < end) {
			n = om_scan(l->mm, at, end, s->scan, ARRAY_SIZE(s->scan), &at);
			for (j = 0; j < n; j++) {
				if (l->round && !(s->scan[j] & OM_SCAN_WRITTEN))
					continue;
				err = om_live_add(l, s->scan[j] & PAGE_MASK);
				if (err)
					return err;
			}
			cond_resched();
		}
	}
	return 0;
}

/*
 * The log begins where a walk is about to clear every soft-dirty bit. It
 * may not (mmu_notifier_register() gives way to a signal pending, with
 * -EINTR): the rounds then walk, and the next walk tries again.
 */
static void om_live_log_start(struct om_live *l)
{
	struct om_dirty_log *log;

	if (l->log)
		return;
	log = om_dirty_log_start(l->mm);
	if (IS_ERR(log))
		return;
	l->log = log;
	l->s->log = log;
}

/* Whether the log has every page written in the rounds' mappings. */
static bool om_live_exact(struct om_live *l)
{
	struct om_sender *s = l->s;
	unsigned int i;

	if (!l->log)
		return false;
	for (i = 0; i < s->nr_vmas; i++) {
		if (le32_to_cpu(s->vmas[i].flags) & VIRTIO_OM_VMA_F_VDSO)
			continue;
		if (!om_dirty_exact(l->log, le64_to_cpu(s->vmas[i].start),
				    le64_to_cpu(s->vmas[i].end)))
			return false;
	}
	return true;
}

/*
 * A round's plan from the log: the pages of the rounds' mappings written
 * since the last, taken from it (in address order); or, without @take, only
 * how many. What it logged elsewhere is no round's (a mapping made since
 * goes whole at the freeze): it stays until a walk forgets it.
 */
static int om_live_plan_logged(struct om_live *l, bool take)
{
	struct om_sender *s = l->s;
	unsigned long at, end;
	unsigned int i, n, j;
	int err;

	l->nr_plan = 0;
	l->at = 0;
	for (i = 0; i < s->nr_vmas; i++) {
		if (le32_to_cpu(s->vmas[i].flags) & VIRTIO_OM_VMA_F_VDSO)
			continue;
		at = le64_to_cpu(s->vmas[i].start);
		end = le64_to_cpu(s->vmas[i].end);
		if (!take) {
			l->nr_plan += om_dirty_count(l->log, at, end);
			continue;
		}
		while (at < end) {
			n = om_dirty_list(l->log, false, at, end, s->scan, ARRAY_SIZE(s->scan),
					  &at, true);
			for (j = 0; j < n; j++) {
				err = om_live_add(l, s->scan[j]);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* Send on from the plan for a slice. Return: 1 when the round is done, 0, or -errno. */
static int om_live_slice(struct om_live *l)
{
	u64 until = ktime_get_ns() + OM_LIVE_SLICE_NS;
	struct om_sender *s = l->s;
	u64 before = s->pages;
	int err = 0;

	while (l->at < l->nr_plan && ktime_get_ns() < until) {
		if (fatal_signal_pending(current))
			return -EINTR;
		err = om_send_one_page(s, l->plan[l->at++], true);
		if (err)
			return err;
	}
	if (l->at == l->nr_plan)
		err = om_flush_pages(s);
	l->round_pages += s->pages - before;
	if (err)
		return err;
	return l->at == l->nr_plan;
}

/* The process runs a tick, then the next slice (the retry holds a reference). */
static void om_live_later(struct om_proc *p)
{
	refcount_inc(&p->ref);
	if (!schedule_delayed_work(&p->retry, 1))
		om_proc_put(p);
}

/**
 * om_live_start() - begin a live move of the current process to @dest
 * @p: its half here: at home, or away (then @dest is another node away)
 * @dest: where it goes
 *
 * Return: 0 (its rounds go on from om_live_step()) or -errno (nothing
 * changed; the destination was told to drop what it got and, away, the
 * deputy why the process stays).
 */
int om_live_start(struct om_proc *p, u32 dest)
{
	u64 t0 = ktime_get_ns();
	struct om_live *l;
	int err;

	/* At home, what a copy of an earlier, taken-back move sent; away, its deputy's. */
	if (p->role == OM_HOME)
		om_proc_drain(p);
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (l)
		l->s = om_sender_new(p);
	if (!om_kcom_node_is_up(dest))
		err = -EHOSTUNREACH;
	else if (!l || !l->s)
		err = -ENOMEM;
	else
		err = 0;
	if (err) {
		if (l)
			om_sender_free(l->s);
		kfree(l);
		if (p->role == OM_REMOTE)
			om_handover(p, om_kcom_self(), VIRTIO_OM_HANDOVER_F_BACK, err);
		return err;
	}
	l->s->live = true;
	l->s->old_peer = p->peer_node;
	l->mm = current->mm;
	l->dest = dest;
	l->away = p->role == OM_REMOTE && dest != p->home_node;
	p->live = l;
	WRITE_ONCE(p->sending, true);
	om_live_enter(p);
	err = om_send_live_begin(l->s, dest);
	/* The first round: every page there is, found by a walk. */
	if (!err) {
		l->walks++;
		err = om_live_plan(l);
	}
	if (!err) {
		om_live_log_start(l);
		err = mm_clear_soft_dirty(l->mm);
	}
	om_live_leave(p);
	if (err) {
		om_live_cancel(p, err, false);
		return err;
	}
	l->start_ns = ktime_get_ns() - t0;
	om_live_later(p);
	return 0;
}

/*
 * Freeze now? After the last round allowed, or when few pages were
 * written, or when the rounds no longer gain (three quarters as many
 * written as the round before).
 */
static bool om_live_converged(struct om_live *l)
{
	u64 found = l->nr_plan;

	if (l->round >= OM_LIVE_ROUNDS || found <= OM_LIVE_ENOUGH)
		return true;
	return l->round > 1 && found * 4 > (u64)l->last_found * 3;
}

/*
 * The next round's plan: the pages written during the last, from the log
 * where it is exact, else by a walk of the soft-dirty bits (which also
 * starts the log afresh). Each page planned is write-protected again, for
 * its next write to be logged.
 *
 * Return: 1 to freeze now (the bits and the log stay for the final round
 * to read), 0 or -errno.
 */
static int om_live_next_round(struct om_live *l)
{
	int err;

	l->last_found = l->round ? l->nr_plan : 0;
	l->round++;
	if (om_live_exact(l)) {
		err = om_live_plan_logged(l, false);
		if (err || om_live_converged(l))
			return err ?: 1;
		err = om_live_plan_logged(l, true);
		return err ?: mm_clear_soft_dirty_pages(l->mm, l->plan, l->nr_plan);
	}
	l->walks++;
	err = om_live_plan(l);
	if (err || om_live_converged(l))
		return err ?: 1;
	if (l->log)
		om_dirty_forget_written(l->log, true);
	else
		om_live_log_start(l);
	return mm_clear_soft_dirty(l->mm);
}

/**
 * om_live_step() - the next slice of a live move, from the move's task work
 * @p: its half here
 *
 * Return: 0 while rounds go on (the next slice is queued); 1 when the
 * process is to be frozen and sent now (om_send_process(), then
 * om_live_done()); -errno when the move ended and the process stays here.
 */
int om_live_step(struct om_proc *p)
{
	struct om_live *l = p->live;
	/*
	 * The process asked for this move itself while another's was in its
	 * rounds: as for its own stop-and-copy move, it is there when its
	 * write returns. The rounds go on back to back, with the process
	 * writing nothing meanwhile, to the freeze.
	 */
	bool finish = READ_ONCE(p->asked_by_self) && READ_ONCE(om_live_mode) < 2;
	int err = 0;

	/* exec'd meanwhile, or asked elsewhere: this move is over. */
	if (current->mm != l->mm || p->target != l->dest)
		err = -ECANCELED;
	om_live_enter(p);
	while (!err) {
		err = om_live_slice(l);
		/* A round done: plan the next from what was written meanwhile. */
		if (err == 1)
			err = om_live_next_round(l);
		if (!finish)
			break;
		cond_resched();
	}
	om_live_leave(p);
	if (err == 1)
		return 1;
	if (!err) {
		om_live_later(p);
		return 0;
	}
	om_live_cancel(p, err, false);
	return err;
}

/**
 * om_live_done() - the end of a live move's freeze
 * @p: its half here
 * @err: om_send_process()'s result; it told the destination of a failure
 */
void om_live_done(struct om_proc *p, int err)
{
	struct om_live *l = p->live;

	if (!l)
		return;
	if (!err) {
		atomic64_inc(&om_node_stats.live_moves);
		p->last_rounds = l->round;
		p->last_round_pages = l->round_pages;
		p->last_round_walks = l->walks;
		p->last_start_ns = l->start_ns;
		p->last_freeze_walks = l->s->final_walks;
	}
	om_live_free(p);
}
