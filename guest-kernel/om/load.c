// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load information, the balancer's input (balance.c): this node's load
 * (runnable processes sampled four times a second, with a fast and a slow
 * decay), its speed, memory and CPUs, and a window of the freshest values
 * other nodes sent. Once a second this node sends its own entry and the
 * freshest of its window to one node chosen at random among those up
 * (VIRTIO_OM_T_LOAD), so news spreads in a few rounds at a constant cost
 * per node whatever the fleet's size. docs/engine.md, "Load balancing".
 */
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/sched/stat.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "om.h"

/* Samples of the run queues a second, and the time between two. */
#define OM_LOAD_SAMPLES_PER_SEC 4
#define OM_LOAD_SAMPLE_MS (1000 / OM_LOAD_SAMPLES_PER_SEC)

/*
 * A move this node's balancer asked for and that has not arrived yet is
 * counted at its destination for this long at most (a move that fails
 * never arrives): under TCG with every vCPU busy a process arrives up to a
 * second after it is asked.
 */
#define OM_LOAD_IN_FLIGHT_NS (4 * NSEC_PER_SEC)

/* om.balance=0 on the command line: this node's balancer starts off. */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
static bool om_balance_boot = true;
module_param_named(balance, om_balance_boot, bool, 0444);
MODULE_PARM_DESC(balance, "The balancer's state at boot (then /proc/hpc/admin/balance)");
/* om.gossip=0: this node sends no LOAD (for tests that count every message). */
static bool om_gossip = true;
module_param_named(gossip, om_gossip, bool, 0444);
MODULE_PARM_DESC(gossip, "Send this node's load to the others (LOAD)");

/* A move from this node to a slot's node, until that node's figures show it. */
struct om_load_move {
	u64 asked_ns;		/* 0: none */
	u64 arrived_ns;		/* 0: on its way */
};

struct om_load_slot {
	struct om_load_info info;
	struct om_load_move moves[OM_LOAD_PENDING]; /* newest last */
};

static struct {
	spinlock_t lock;	/* everything below */
	u64 fast;		/* runnable x 1000, << 16, the fast decay */
	u64 slow;		/* and the slow one */
	u32 keep_fast;		/* part of the value a sample keeps, << 16 */
	u32 keep_slow;
	u32 decay_fast;		/* per mille kept after a second */
	u32 decay_slow;
	u32 speed;
	u32 speed_measured;	/* 0 until measured */
	bool speed_set;		/* by /proc/hpc/admin/speed: kept over the measure */
	bool blocked;
	bool balance;
	u64 call_ns;		/* a forwarded call's round trip, averaged */
	u64 move_base_ns;	/* a move's fixed cost, and per page */
	u64 move_page_ns;
	struct om_load_slot window[OM_LOAD_WINDOW];
} om_load = {
	.lock = __SPIN_LOCK_UNLOCKED(om_load.lock),
	.decay_fast = 500,
	.decay_slow = 950,
	.speed = VIRTIO_OM_LOAD_STD_SPEED,
	.call_ns = 400 * NSEC_PER_USEC,
	.move_base_ns = 50 * NSEC_PER_MSEC,
	.move_page_ns = 40 * NSEC_PER_USEC,
};

static void om_load_sample(struct work_struct *w);
static void om_load_gossip(struct work_struct *w);
static void om_load_speed_run(struct work_struct *w);
static DECLARE_DELAYED_WORK(om_load_sample_work, om_load_sample);
static DECLARE_DELAYED_WORK(om_load_gossip_work, om_load_gossip);
static DECLARE_DELAYED_WORK(om_load_speed_work, om_load_speed_run);

/*
 * Speed: a fixed chain of dependent integer steps, timed; the best of
 * OM_SPEED_RUNS runs a while apart, so that a run the hypervisor or a
 * neighbour interrupted does not count. A standard CPU
 * (VIRTIO_OM_LOAD_STD_SPEED) takes OM_SPEED_STD_PS a step.
 */
#define OM_SPEED_STEPS BIT(17)
#define OM_SPEED_RUNS 8
#define OM_SPEED_GAP_MS 250
#define OM_SPEED_STD_PS 2000

static unsigned int om_speed_runs_done;
static u64 om_speed_best_ns = U64_MAX;

static u64 om_load_speed_once(void)
{
	u64 x = 0x9e3779b97f4a7c15ULL, t0, t;
	u32 i;

	preempt_disable();
	t0 = ktime_get_ns();
	for (i = 0; i < OM_SPEED_STEPS; i++) {
		/* xorshift64: each step needs the last, so it cannot be overlapped. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	t = ktime_get_ns() - t0;
	preempt_enable();
	/* Keep the result alive: the loop must not be optimised away. */
	OPTIMIZER_HIDE_VAR(x);
	return x ? t : t + 1;
}

static void om_load_speed_run(struct work_struct *w)
{
	u64 ns = om_load_speed_once(), speed;

	om_speed_best_ns = min(om_speed_best_ns, max_t(u64, ns, 1));
	if (++om_speed_runs_done < OM_SPEED_RUNS) {
		schedule_delayed_work(&om_load_speed_work, msecs_to_jiffies(OM_SPEED_GAP_MS));
		return;
	}
	speed = div64_u64((u64)VIRTIO_OM_LOAD_STD_SPEED * OM_SPEED_STD_PS * OM_SPEED_STEPS,
			  om_speed_best_ns * 1000);
	speed = clamp_t(u64, speed, 1, VIRTIO_OM_LOAD_MAX_SPEED);
	spin_lock(&om_load.lock);
	om_load.speed_measured = speed;
	if (!om_load.speed_set)
		om_load.speed = speed;
	spin_unlock(&om_load.lock);
	pr_info("omvm: this CPU's speed: %llu (a standard CPU's: %u)\n", speed,
		VIRTIO_OM_LOAD_STD_SPEED);
}

/* The share a sample keeps so that @per_mille is kept after a second, << 16. */
static u32 om_load_keep(u32 per_mille)
{
	unsigned long v = (unsigned long)per_mille * 65536 / 1000;

	BUILD_BUG_ON(OM_LOAD_SAMPLES_PER_SEC != 4);
	/* The fourth root, as two square roots in 16.16 fixed point. */
	v = int_sqrt(v << 16);
	return int_sqrt(v << 16);
}

/* @v (<< 16) decayed by a sample of @sample runnable x 1000. */
static u64 om_load_decay(u64 v, u32 keep, u64 sample)
{
	return (v * keep + (sample << 16) * (65536 - keep)) >> 16;
}

static void om_load_sample(struct work_struct *w)
{
	/* This worker is running, and counted: the others are the load. */
	u64 n = nr_running();

	n = (n ? n - 1 : 0) * 1000;
	spin_lock(&om_load.lock);
	om_load.fast = om_load_decay(om_load.fast, om_load.keep_fast, n);
	om_load.slow = om_load_decay(om_load.slow, om_load.keep_slow, n);
	spin_unlock(&om_load.lock);
	schedule_delayed_work(&om_load_sample_work, msecs_to_jiffies(OM_LOAD_SAMPLE_MS));
}

static void om_load_count_proc(struct om_proc *p, void *arg)
{
	u32 *counts = arg;

	if (p->role == OM_REMOTE && p->task)
		counts[0]++;
	else if (p->role == OM_DEPUTY && READ_ONCE(p->serving))
		counts[1]++;
}

/**
 * om_load_self() - this node's values now
 * @self: filled in
 */
void om_load_self(struct om_load_info *self)
{
	u32 counts[2] = {};

	om_proc_for_each(om_load_count_proc, counts);
	memset(self, 0, sizeof(*self));
	self->node = om_kcom_self();
	self->at_ns = ktime_get_ns();
	self->ncpus = num_online_cpus();
	self->free_kib = (u64)si_mem_available() << (PAGE_SHIFT - 10);
	self->total_kib = (u64)totalram_pages() << (PAGE_SHIFT - 10);
	self->hosted = counts[0];
	self->away = counts[1];
	/* The caller is running, and counted: the others are the load. */
	self->runnable = min_t(unsigned int, max(nr_running(), 1U) - 1,
			       VIRTIO_OM_LOAD_MAX_RUNNABLE);
	spin_lock(&om_load.lock);
	self->load = min_t(u64, om_load.fast >> 16, U32_MAX);
	self->load_slow = min_t(u64, om_load.slow >> 16, U32_MAX);
	self->speed = om_load.speed;
	self->flags = (om_load.blocked ? VIRTIO_OM_LOAD_F_BLOCKED : 0) |
		      (om_load.balance ? VIRTIO_OM_LOAD_F_BALANCING : 0);
	spin_unlock(&om_load.lock);
}

/*
 * This node's moves to @s its figures do not show yet; under om_load.lock.
 * Figures measured after a process arrived show it in their runnable count
 * at once (om_load_dest_load()); those measured before do not.
 */
static u32 om_load_pending(const struct om_load_slot *s, u64 now)
{
	const struct om_load_move *m;
	u32 n = 0;

	for (m = s->moves; m < s->moves + OM_LOAD_PENDING; m++) {
		if (!m->asked_ns)
			continue;
		if (m->arrived_ns ? m->arrived_ns > s->info.at_ns :
				    m->asked_ns + OM_LOAD_IN_FLIGHT_NS > now)
			n++;
	}
	return n;
}

/**
 * om_load_others() - what this node knows of the others, freshest first
 * @out: at least OM_LOAD_WINDOW entries
 * @max_age_ms: leave out values older than this
 *
 * Each entry's @pending is the number of this node's moves there its values
 * do not show yet.
 *
 * Return: the number of entries filled.
 */
int om_load_others(struct om_load_info *out, u32 max_age_ms)
{
	u64 now = ktime_get_ns();
	int i, j, n = 0;

	spin_lock(&om_load.lock);
	for (i = 0; i < OM_LOAD_WINDOW; i++) {
		struct om_load_slot *s = &om_load.window[i];

		if (!s->info.node || now - s->info.at_ns > (u64)max_age_ms * NSEC_PER_MSEC)
			continue;
		/* Insertion by freshness: the window is small. */
		for (j = n; j > 0 && out[j - 1].at_ns < s->info.at_ns; j--)
			out[j] = out[j - 1];
		out[j] = s->info;
		out[j].pending = om_load_pending(s, now);
		n++;
	}
	spin_unlock(&om_load.lock);
	return n;
}

/* The slot of @node, or NULL; under om_load.lock. */
static struct om_load_slot *om_load_slot(u32 node)
{
	int i;

	for (i = 0; i < OM_LOAD_WINDOW; i++)
		if (om_load.window[i].info.node == node)
			return &om_load.window[i];
	return NULL;
}

/**
 * om_load_moving() - this node's balancer asked a process to move to @dest
 * @dest: the destination
 *
 * This node counts one runnable process less at once, and @dest one more
 * until @dest's figures show it (om_load_arrived()).
 */
void om_load_moving(u32 dest)
{
	struct om_load_slot *s;
	u64 one = 1000ULL << 16;

	spin_lock(&om_load.lock);
	om_load.fast = om_load.fast > one ? om_load.fast - one : 0;
	om_load.slow = om_load.slow > one ? om_load.slow - one : 0;
	s = om_load_slot(dest);
	if (s) {
		memmove(s->moves, s->moves + 1, sizeof(s->moves) - sizeof(s->moves[0]));
		s->moves[OM_LOAD_PENDING - 1] = (struct om_load_move){ ktime_get_ns(), 0 };
	}
	spin_unlock(&om_load.lock);
}

/**
 * om_load_arrived() - a process this node sent now runs at @dest
 * @dest: the destination
 *
 * The oldest move to @dest still on its way arrived; a move asked by hand
 * is counted from now. Either way @dest counts one more until figures it
 * measured from now on come in.
 */
void om_load_arrived(u32 dest)
{
	struct om_load_slot *s;
	struct om_load_move *m;
	u64 now = ktime_get_ns();

	spin_lock(&om_load.lock);
	s = om_load_slot(dest);
	if (!s)
		goto out;
	for (m = s->moves; m < s->moves + OM_LOAD_PENDING; m++) {
		if (m->asked_ns && !m->arrived_ns && m->asked_ns + OM_LOAD_IN_FLIGHT_NS > now) {
			m->arrived_ns = now;
			goto out;
		}
	}
	memmove(s->moves, s->moves + 1, sizeof(s->moves) - sizeof(s->moves[0]));
	s->moves[OM_LOAD_PENDING - 1] = (struct om_load_move){ now, now };
out:
	spin_unlock(&om_load.lock);
}

static bool om_load_entry_valid(const struct virtio_om_load_entry *e)
{
	u32 node = le32_to_cpu(e->node);

	return node && node <= VIRTIO_OM_MAX_NODES && le32_to_cpu(e->ncpus) &&
	       le32_to_cpu(e->ncpus) <= VIRTIO_OM_LOAD_MAX_CPUS && le32_to_cpu(e->speed) &&
	       le32_to_cpu(e->speed) <= VIRTIO_OM_LOAD_MAX_SPEED &&
	       !(le32_to_cpu(e->flags) & ~VIRTIO_OM_LOAD_F_ALL) &&
	       le64_to_cpu(e->free_kib) <= le64_to_cpu(e->total_kib) &&
	       le32_to_cpu(e->runnable) <= VIRTIO_OM_LOAD_MAX_RUNNABLE;
}

/* Keep @e, measured at @at, if fresher than what the window holds; under the lock. */
static void om_load_merge(const struct virtio_om_load_entry *e, u64 at)
{
	u32 node = le32_to_cpu(e->node);
	struct om_load_slot *s = om_load_slot(node);
	int i;

	if (!s) {
		struct om_load_slot *stalest = NULL;

		/* A free slot, else the stalest, if older than this. */
		for (i = 0; i < OM_LOAD_WINDOW && !s; i++) {
			struct om_load_slot *c = &om_load.window[i];

			if (!c->info.node)
				s = c;
			else if (!stalest || c->info.at_ns < stalest->info.at_ns)
				stalest = c;
		}
		if (!s) {
			if (stalest->info.at_ns >= at)
				return;
			s = stalest;
		}
		memset(s, 0, sizeof(*s));
	} else if (s->info.at_ns >= at) {
		return;
	}
	s->info.node = node;
	s->info.at_ns = at;
	s->info.load = le32_to_cpu(e->load);
	s->info.load_slow = le32_to_cpu(e->load_slow);
	s->info.speed = le32_to_cpu(e->speed);
	s->info.ncpus = le32_to_cpu(e->ncpus);
	s->info.free_kib = le64_to_cpu(e->free_kib);
	s->info.total_kib = le64_to_cpu(e->total_kib);
	s->info.flags = le32_to_cpu(e->flags);
	s->info.hosted = le32_to_cpu(e->hosted);
	s->info.away = le32_to_cpu(e->away);
	s->info.runnable = le32_to_cpu(e->runnable);
}

/**
 * om_load_recv() - take in a node's LOAD
 * @msg: the message (kcom checked its length against the type's bounds)
 *
 * The first entry must be the sender's own, the others of other nodes; a
 * message with any entry out of bounds is refused whole (counted).
 *
 * Return: 0 or -EPROTO.
 */
int om_load_recv(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_load_entry e[VIRTIO_OM_LOAD_MAX_ENTRIES];
	struct virtio_om_load l;
	u32 self = om_kcom_self(), i, n;
	u64 now = ktime_get_ns();

	if (om_kcom_msg_copy(msg, 0, &l, sizeof(l)) != sizeof(l))
		goto bad;
	n = le32_to_cpu(l.count);
	if (!n || n > VIRTIO_OM_LOAD_MAX_ENTRIES || l.reserved ||
	    h->len != sizeof(l) + n * sizeof(e[0]) ||
	    om_kcom_msg_copy(msg, sizeof(l), e, n * sizeof(e[0])) != n * sizeof(e[0]))
		goto bad;
	for (i = 0; i < n; i++) {
		if (!om_load_entry_valid(&e[i]))
			goto bad;
		/* A node speaks first for itself, then passes on what it heard. */
		if ((le32_to_cpu(e[i].node) == h->src_node) != !i || (!i && e[i].age_ms))
			goto bad;
	}
	spin_lock(&om_load.lock);
	for (i = 0; i < n; i++) {
		u32 age = le32_to_cpu(e[i].age_ms);

		if (le32_to_cpu(e[i].node) == self || age > OM_LOAD_STALE_MS)
			continue;
		/* Soon after boot a value may be older than this clock. */
		om_load_merge(&e[i], now - min(now, (u64)age * NSEC_PER_MSEC));
	}
	spin_unlock(&om_load.lock);
	atomic64_inc(&om_node_stats.load_received);
	return 0;
bad:
	atomic64_inc(&om_node_stats.load_refused);
	pr_warn_ratelimited("omvm: a malformed LOAD from node %u refused\n", h->src_node);
	return -EPROTO;
}

static void om_load_entry_fill(struct virtio_om_load_entry *e, const struct om_load_info *i,
			       u64 now)
{
	e->node = cpu_to_le32(i->node);
	e->age_ms = cpu_to_le32(div_u64(now - min(now, i->at_ns), NSEC_PER_MSEC));
	e->load = cpu_to_le32(i->load);
	e->load_slow = cpu_to_le32(i->load_slow);
	e->speed = cpu_to_le32(i->speed);
	e->ncpus = cpu_to_le32(i->ncpus);
	e->free_kib = cpu_to_le64(i->free_kib);
	e->total_kib = cpu_to_le64(i->total_kib);
	e->flags = cpu_to_le32(i->flags);
	e->hosted = cpu_to_le32(i->hosted);
	e->away = cpu_to_le32(i->away);
	e->runnable = cpu_to_le32(i->runnable);
}

/* A node up other than this one, chosen at random; 0 for none. */
static u32 om_load_random_node(u32 self)
{
	u32 node, up = 0, pick;

	for (node = 1; node <= VIRTIO_OM_MAX_NODES; node++)
		up += node != self && om_kcom_node_is_up(node);
	if (!up)
		return 0;
	pick = get_random_u32_below(up);
	for (node = 1; node <= VIRTIO_OM_MAX_NODES; node++)
		if (node != self && om_kcom_node_is_up(node) && !pick--)
			return node;
	return 0;
}

static void om_load_gossip(struct work_struct *w)
{
	struct {
		struct virtio_om_load l;
		struct virtio_om_load_entry e[VIRTIO_OM_LOAD_MAX_ENTRIES];
	} m = {};
	struct om_load_info *known = kcalloc(OM_LOAD_WINDOW, sizeof(*known), GFP_KERNEL);
	struct om_load_info self;
	struct kvec kv = { &m };
	struct om_kcom_out out = { .type = VIRTIO_OM_T_LOAD, .kvec = &kv, .nr_kvec = 1 };
	u64 now = ktime_get_ns();
	u32 n = 1;
	int i, nr;

	om_load_self(&self);
	out.dst_node = self.node && om_gossip ? om_load_random_node(self.node) : 0;
	if (known && out.dst_node) {
		om_load_entry_fill(&m.e[0], &self, now);
		nr = om_load_others(known, OM_LOAD_STALE_MS);
		for (i = 0; i < nr && n < VIRTIO_OM_LOAD_MAX_ENTRIES; i++)
			if (known[i].node != out.dst_node)
				om_load_entry_fill(&m.e[n++], &known[i], now);
		m.l.count = cpu_to_le32(n);
		kv.iov_len = sizeof(m.l) + n * sizeof(m.e[0]);
		/* Never wait for room: a full ring drops this round's news only. */
		if (!om_kcom_send(&out, OM_KCOM_NONBLOCK, NULL))
			atomic64_inc(&om_node_stats.load_sent);
	}
	kfree(known);
	/* About a second, at random, so nodes do not send in step. */
	schedule_delayed_work(&om_load_gossip_work,
			      msecs_to_jiffies(875 + get_random_u32_below(250)));
}

/**
 * om_load_forget() - forget what is known of @node's load
 * @node: a node gone
 */
void om_load_forget(u32 node)
{
	struct om_load_slot *s;

	spin_lock(&om_load.lock);
	s = om_load_slot(node);
	if (s)
		memset(s, 0, sizeof(*s));
	spin_unlock(&om_load.lock);
}

/* A node went down: what it said goes with it. */
static int om_load_event(struct notifier_block *nb, unsigned long ev, void *data)
{
	struct om_kcom_node_event *e = data;

	if (ev == OM_KCOM_EV_NODE_DOWN)
		om_load_forget(e->node);
	return NOTIFY_OK;
}

static struct notifier_block om_load_nb = {
	.notifier_call = om_load_event,
};

bool om_load_blocked(void)
{
	return READ_ONCE(om_load.blocked);
}

bool om_balance_on(void)
{
	return READ_ONCE(om_load.balance);
}

/* Averages over about the last eight, in ns. */
static void om_load_average(u64 *avg, u64 v)
{
	*avg = (*avg * 7 + v) / 8;
}

/* A forwarded call of a process here took @ns from its sending to its result. */
void om_load_note_call(u64 ns)
{
	spin_lock(&om_load.lock);
	om_load_average(&om_load.call_ns, ns);
	spin_unlock(&om_load.lock);
}

u64 om_load_call_ns(void)
{
	return READ_ONCE(om_load.call_ns);
}

/*
 * A move from this node carried @pages in @ns (asked to GO): the cost of
 * the next ones. A move of few pages measures the fixed cost, a large one
 * the cost a page.
 */
void om_load_note_move(u64 pages, u64 ns)
{
	spin_lock(&om_load.lock);
	if (pages < 1024) {
		om_load_average(&om_load.move_base_ns, ns);
	} else {
		u64 per = div64_u64(ns > om_load.move_base_ns ? ns - om_load.move_base_ns : 0,
				    pages);

		om_load_average(&om_load.move_page_ns, per);
	}
	spin_unlock(&om_load.lock);
}

/* What a move of @pages is expected to cost, in ns. */
u64 om_load_move_cost(u64 pages)
{
	u64 ns;

	spin_lock(&om_load.lock);
	ns = om_load.move_base_ns + pages * om_load.move_page_ns;
	spin_unlock(&om_load.lock);
	return ns;
}

/* The controls of /proc/hpc/admin (om_load_proc_init()). */
static int om_load_set_decay(u32 fast, u32 slow)
{
	if (fast > 999 || slow > 999)
		return -ERANGE;
	spin_lock(&om_load.lock);
	om_load.decay_fast = fast;
	om_load.decay_slow = slow;
	om_load.keep_fast = om_load_keep(fast);
	om_load.keep_slow = om_load_keep(slow);
	spin_unlock(&om_load.lock);
	return 0;
}

int om_load_set(enum om_load_control c, u32 a, u32 b)
{
	switch (c) {
	case OM_LOAD_BALANCE:
		if (a > 1)
			return -EINVAL;
		WRITE_ONCE(om_load.balance, a);
		return 0;
	case OM_LOAD_BLOCK:
		if (a > 1)
			return -EINVAL;
		WRITE_ONCE(om_load.blocked, a);
		return 0;
	case OM_LOAD_SPEED:
		if (a > VIRTIO_OM_LOAD_MAX_SPEED)
			return -ERANGE;
		spin_lock(&om_load.lock);
		/* 0: back to the measured speed (the standard until measured). */
		om_load.speed_set = a;
		om_load.speed = a ?: om_load.speed_measured ?: VIRTIO_OM_LOAD_STD_SPEED;
		spin_unlock(&om_load.lock);
		return 0;
	case OM_LOAD_DECAY:
		return om_load_set_decay(a, b);
	}
	return -EINVAL;
}

void om_load_get(enum om_load_control c, u32 *a, u32 *b)
{
	spin_lock(&om_load.lock);
	*b = 0;
	switch (c) {
	case OM_LOAD_BALANCE:
		*a = om_load.balance;
		break;
	case OM_LOAD_BLOCK:
		*a = om_load.blocked;
		break;
	case OM_LOAD_SPEED:
		*a = om_load.speed;
		break;
	case OM_LOAD_DECAY:
		*a = om_load.decay_fast;
		*b = om_load.decay_slow;
		break;
	}
	spin_unlock(&om_load.lock);
}

static int __init om_load_init(void)
{
	int err;

	om_load_set_decay(om_load.decay_fast, om_load.decay_slow);
	om_load.balance = om_balance_boot;
	err = om_kcom_register_notifier(&om_load_nb);
	if (err)
		return err;
	schedule_delayed_work(&om_load_sample_work, msecs_to_jiffies(OM_LOAD_SAMPLE_MS));
	schedule_delayed_work(&om_load_gossip_work, HZ);
	schedule_delayed_work(&om_load_speed_work, HZ);
	return 0;
}
late_initcall(om_load_init);
