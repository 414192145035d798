// SPDX-License-Identifier: GPL-2.0-only
/*
 * The balancer: once a second, while /proc/hpc/admin/balance is 1, this
 * node looks at the processes it runs and moves at most one:
 *  - memory first: short of memory, the largest movable process goes to
 *    the node with the most to spare (MOSIX's memory ushering);
 *  - then a process away whose forwarded calls take more of its time than
 *    its computing goes home;
 *  - then load: a CPU-bound process goes where, counted there, it would
 *    get more CPU than here by a margin, and would finish sooner even after
 *    the cost of its move (what it has computed so far is taken as what is
 *    left, as MOSIX does), counting the cost of its forwarded calls there.
 * No process moves before it has run OM_BAL_MIN_STAY_MS where it is; a
 * locked one (/proc/PID/hpc/lock) never moves by itself. Inputs: load.c.
 */
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched/cputime.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "om.h"

/* Processes looked at in one round, at most. */
#define OM_BAL_MAX_SEEN 256
/* CPU-bound: runnable (running or waiting to) this much of 1024, lately. */
#define OM_BAL_BUSY 700
/*
 * A destination must offer this much more CPU than here, per mille: enough
 * that 2 against 1 runnable stays put (equal shares), little enough that 3
 * against 1 moves even with short commands counted at either node.
 */
#define OM_BAL_MARGIN_PM 200
/* Away, forwarded calls taking more of its time than this (per mille): home. */
#define OM_BAL_IO_HOME_PM 500
/* Forwarded calls foreseen to cost at most this many times its computing. */
#define OM_BAL_IO_MAX_PM 1000000
/* A node with less free memory than this share (per mille) is short of it. */
#define OM_BAL_MEM_LOW_PM 100
/* Ushered, a process holds at least this share (per mille) of the node's memory. */
#define OM_BAL_MEM_MOVE_PM 20
/* Load values older than this are not acted on. */
#define OM_BAL_FRESH_MS 5000

enum om_bal_why { OM_BAL_NONE, OM_BAL_MEMORY, OM_BAL_IO, OM_BAL_LOAD };

struct om_bal_proc {
	struct task_struct *task;
	struct om_proc *p;	/* NULL for a process that never moved */
	bool remote;
	u64 work_ns;		/* CPU time so far: the estimate of what is left */
	u64 rss_kib;
	u32 io_pm;		/* its forwarded calls' time against its computing, per mille */
	unsigned long runnable; /* of 1024 */
};

struct om_bal_choice {
	struct om_bal_proc *proc;
	u32 dest;
	s64 gain_ns;
	enum om_bal_why why;
	u32 share_here;		/* per mille of a CPU: load moves, for the log */
	u32 share_there;
};

static void om_balance_round(struct work_struct *w);
static DECLARE_DELAYED_WORK(om_balance_work, om_balance_round);

/*
 * Per mille of a CPU a process gets on a node of @ncpus running @load
 * (x 1000, the process counted).
 */
static u64 om_bal_share(u32 ncpus, u64 load)
{
	return min_t(u64, 1000, div64_u64((u64)ncpus * 1000 * 1000, max_t(u64, load, 1000)));
}

static bool om_bal_short_of_mem(const struct om_load_info *self)
{
	return self->free_kib * 1000 < self->total_kib * OM_BAL_MEM_LOW_PM;
}

/*
 * Whether @task may be moved by the balancer now; fills @b if so. Its stay
 * reasons (a walk of its mappings) are read only if it could be picked:
 * CPU-bound, away, or any when this node is short of memory.
 */
static bool om_bal_look(struct task_struct *task, struct om_bal_proc *b, u64 now,
			bool short_of_mem)
{
	struct om_proc *p = om_proc_of_task(task);
	struct mm_struct *mm;
	u64 since, ut, st, age;
	char *why;
	int n;

	if (p && (p->role == OM_DEPUTY || READ_ONCE(p->locked) || p->target ||
		  atomic_read(&p->work_queued) || (p->role == OM_REMOTE && !READ_ONCE(p->running))))
		goto no;
	since = p && p->arrived_ns ? p->arrived_ns : task->start_time;
	if (now - since < OM_BAL_MIN_STAY_MS * NSEC_PER_MSEC)
		goto no;
	b->task = task;
	b->p = p;
	b->remote = p && p->role == OM_REMOTE;
	b->runnable = READ_ONCE(task->se.avg.runnable_avg);
	task_cputime(task, &ut, &st);
	b->work_ns = ut + st;
	mm = get_task_mm(task);
	if (!mm)
		goto no;
	b->rss_kib = get_mm_rss(mm) << (PAGE_SHIFT - 10);
	mmput(mm);
	if (b->remote) {
		b->io_pm = min_t(u64, 1000, div64_u64(atomic64_read(&p->stats.fwd_ns) * 1000,
						      now - since));
	} else {
		u64 calls = 0;

#ifdef CONFIG_TASK_XACCT
		/* Reads and writes: what would be forwarded from a node away. */
		calls = task->ioac.syscr + task->ioac.syscw;
#endif
		age = max_t(u64, now - task->start_time, 1);
		/* Not capped at 1000: forwarded, they may take many times its computing. */
		b->io_pm = min_t(u64, OM_BAL_IO_MAX_PM,
				 mul_u64_u64_div_u64(calls * 1000, om_load_call_ns(), age));
	}
	if (!short_of_mem && !b->remote && b->runnable < OM_BAL_BUSY)
		goto no;
	why = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!why)
		goto no;
	n = om_stay_reasons(task, why, PAGE_SIZE);
	kfree(why);
	if (n)
		goto no;
	return true;
no:
	om_proc_put(p);
	return false;
}

/* The node with the most memory to spare for @b, or 0. */
static u32 om_bal_roomiest(const struct om_load_info *o, int nr, const struct om_bal_proc *b)
{
	u64 best = 0;
	u32 node = 0;
	int i;

	for (i = 0; i < nr; i++) {
		u64 low = div64_u64(o[i].total_kib * OM_BAL_MEM_LOW_PM, 1000);

		if ((o[i].flags & VIRTIO_OM_LOAD_F_BLOCKED) || !om_kcom_node_is_up(o[i].node))
			continue;
		if (o[i].free_kib > b->rss_kib + low && o[i].free_kib - b->rss_kib > best) {
			best = o[i].free_kib - b->rss_kib;
			node = o[i].node;
		}
	}
	return node;
}

/*
 * @o's load (x 1000) as a destination: the decayed load shows an arrival
 * seconds late, the runnable count at once (a move still on its way or
 * after @o measured is @o->pending); the higher of the two.
 */
static u64 om_bal_dest_load(const struct om_load_info *o)
{
	return max_t(u64, o->load, (u64)o->runnable * 1000);
}

/*
 * The time @b would save at @o (ns), counting the move and its forwarded
 * calls there, or a negative number; 0 when @o's CPU is not enough better.
 */
static s64 om_bal_gain(const struct om_load_info *self, const struct om_load_info *o,
		       const struct om_bal_proc *b, u32 *here, u32 *there)
{
	u64 share_here = om_bal_share(self->ncpus, max_t(u64, self->load, 1000));
	u64 share_there = om_bal_share(o->ncpus, om_bal_dest_load(o) + 1000ULL * (o->pending + 1));
	u64 rate_here = share_here * self->speed, rate_there = share_there * o->speed;
	u64 low = div64_u64(o->total_kib * OM_BAL_MEM_LOW_PM, 1000);
	u64 t_here, t_there;
	u32 io_pm = b->remote ? 0 : b->io_pm;

	*here = share_here;
	*there = share_there;
	if ((o->flags & VIRTIO_OM_LOAD_F_BLOCKED) || o->free_kib < b->rss_kib + low)
		return 0;
	if (rate_there * 1000 < rate_here * (1000 + OM_BAL_MARGIN_PM))
		return 0;
	/* What is left, at each speed and share; there, its calls' waits too. */
	t_here = div64_u64(b->work_ns * 1000, share_here);
	t_there = div64_u64(div64_u64(b->work_ns * self->speed, o->speed) * 1000, share_there);
	t_there = t_there * (1000 + io_pm) / 1000 + om_load_move_cost(b->rss_kib >> 2);
	return (s64)t_here - (s64)t_there;
}

static void om_bal_consider(const struct om_load_info *self, const struct om_load_info *o,
			    int nr, struct om_bal_proc *b, struct om_bal_choice *c)
{
	bool short_of_mem = om_bal_short_of_mem(self);
	u32 here, there;
	int i;

	/* Only a process whose leaving relieves the node: not a small daemon. */
	if (short_of_mem && b->rss_kib * 1000 >= self->total_kib * OM_BAL_MEM_MOVE_PM &&
	    (c->why != OM_BAL_MEMORY || b->rss_kib > c->proc->rss_kib)) {
		u32 dest = om_bal_roomiest(o, nr, b);

		if (dest) {
			*c = (struct om_bal_choice){ b, dest, 0, OM_BAL_MEMORY };
			return;
		}
	}
	if (c->why == OM_BAL_MEMORY)
		return;
	if (b->remote && b->io_pm > OM_BAL_IO_HOME_PM) {
		if (c->why != OM_BAL_IO || b->io_pm > c->proc->io_pm)
			*c = (struct om_bal_choice){ b, b->p->home_node, 0, OM_BAL_IO };
		return;
	}
	if (c->why == OM_BAL_IO || b->runnable < OM_BAL_BUSY)
		return;
	for (i = 0; i < nr; i++) {
		s64 gain;

		if (!om_kcom_node_is_up(o[i].node))
			continue;
		gain = om_bal_gain(self, &o[i], b, &here, &there);
		if (gain > 0 && gain > c->gain_ns)
			*c = (struct om_bal_choice){ b, o[i].node, gain, OM_BAL_LOAD, here, there };
	}
}

/* Move as the choice says; the move runs in the process's own context. */
static void om_bal_move(struct om_bal_choice *c)
{
	struct om_bal_proc *b = c->proc;
	int err;

	if (b->remote) {
		b->p->target = c->dest;
		WRITE_ONCE(b->p->asked_by_self, false);
		om_queue_move(b->p);
		err = 0;
	} else {
		err = om_ask_move(b->task, c->dest);
	}
	if (err) {
		pr_debug("omvm: balancer: pid %d not moved to node %u: %d\n",
			 task_pid_nr(b->task), c->dest, err);
		return;
	}
	om_load_moving(c->dest);
	if (c->why == OM_BAL_MEMORY)
		atomic64_inc(&om_node_stats.balance_ushered);
	else if (c->why == OM_BAL_IO)
		atomic64_inc(&om_node_stats.balance_home);
	else
		atomic64_inc(&om_node_stats.balance_moves);
	/* Named by its home: bench/balance-bench.sh counts each process's moves so. */
	pr_info("omvm: balancer: pid %d of node %u (%s) to node %u (%s; CPU share %u/1000 here, %u there)\n",
		b->remote ? b->p->home_pid : task_tgid_nr(b->task),
		b->remote ? b->p->home_node : om_kcom_self(), b->task->comm, c->dest,
		c->why == OM_BAL_MEMORY ? "memory" : c->why == OM_BAL_IO ? "its calls" : "load",
		c->share_here, c->share_there);
}

/*
 * Resident memory of the processes leaving this node now (asked to move,
 * their move not ended): it is still in use here until each has left,
 * which takes seconds for hundreds of MiB.
 */
static u64 om_bal_leaving_kib(struct task_struct **seen, int nr)
{
	u64 kib = 0;
	int i;

	for (i = 0; i < nr; i++) {
		struct om_proc *p = om_proc_of_task(seen[i]);
		struct mm_struct *mm;

		if (!p)
			continue;
		if (p->role != OM_DEPUTY && (p->target || atomic_read(&p->work_queued) ||
					     READ_ONCE(p->sending))) {
			mm = get_task_mm(seen[i]);
			if (mm) {
				kib += get_mm_rss(mm) << (PAGE_SHIFT - 10);
				mmput(mm);
			}
		}
		om_proc_put(p);
	}
	return kib;
}

static void om_balance_round(struct work_struct *w)
{
	struct om_load_info self, *others = NULL;
	struct task_struct **seen = NULL, *t;
	struct om_bal_proc *procs = NULL;
	struct om_bal_choice c = {};
	int nr_seen = 0, nr, i, nr_procs = 0;
	u64 now;

	if (!om_balance_on() || !om_kcom_self())
		goto again;
	others = kcalloc(OM_LOAD_WINDOW, sizeof(*others), GFP_KERNEL);
	seen = kcalloc(OM_BAL_MAX_SEEN, sizeof(*seen), GFP_KERNEL);
	procs = kcalloc(OM_BAL_MAX_SEEN, sizeof(*procs), GFP_KERNEL);
	if (!others || !seen || !procs)
		goto again;
	om_load_self(&self);
	nr = om_load_others(others, OM_BAL_FRESH_MS);
	if (!nr)
		goto again;
	rcu_read_lock();
	for_each_process(t) {
		if (nr_seen == OM_BAL_MAX_SEEN)
			break;
		if ((t->flags & (PF_KTHREAD | PF_EXITING | PF_IO_WORKER)) || is_global_init(t) ||
		    !thread_group_empty(t) || !t->mm)
			continue;
		get_task_struct(t);
		seen[nr_seen++] = t;
	}
	rcu_read_unlock();
	/* Memory on its way out counts as free: one short spell, one ushering. */
	self.free_kib = min(self.free_kib + om_bal_leaving_kib(seen, nr_seen), self.total_kib);
	now = ktime_get_ns();
	for (i = 0; i < nr_seen; i++) {
		if (om_bal_look(seen[i], &procs[nr_procs], now, om_bal_short_of_mem(&self)))
			om_bal_consider(&self, others, nr, &procs[nr_procs++], &c);
	}
	if (c.why != OM_BAL_NONE && om_balance_on())
		om_bal_move(&c);
	for (i = 0; i < nr_procs; i++)
		om_proc_put(procs[i].p);
	for (i = 0; i < nr_seen; i++)
		put_task_struct(seen[i]);
again:
	kfree(procs);
	kfree(seen);
	kfree(others);
	schedule_delayed_work(&om_balance_work, msecs_to_jiffies(875 + get_random_u32_below(250)));
}

static int __init om_balance_init(void)
{
	schedule_delayed_work(&om_balance_work, 2 * HZ);
	return 0;
}
late_initcall(om_balance_init);
