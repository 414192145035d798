// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every half of a process the engine knows, found by its task or by its
 * key: a deputy by its pid at this node (the home node), a remote by its
 * home node and home pid. Messages from the other half land in the
 * half's inbox, which its own task reads.
 */
#include <linux/hash.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include <linux/nsproxy.h>

#include "om.h"

#define OM_HASH_BITS 8

static DEFINE_SPINLOCK(om_registry_lock);
static DEFINE_HASHTABLE(om_by_task, OM_HASH_BITS);
static DEFINE_HASHTABLE(om_by_key, OM_HASH_BITS);
static DEFINE_HASHTABLE(om_by_peer, OM_HASH_BITS);

static u32 om_key(bool deputy, u32 node, pid_t pid)
{
	return hash_32(((u32)pid * 2654435761u) ^ (node << 1) ^ deputy, 32);
}

static bool om_is_deputy_key(const struct om_proc *p)
{
	return p->role != OM_REMOTE;
}

/* Halves allocated and not yet freed, for /proc/hpc/admin/stats. */
static atomic_t om_halves = ATOMIC_INIT(0);

int om_proc_count(void)
{
	return atomic_read(&om_halves);
}

struct om_proc *om_proc_alloc(struct task_struct *task, enum om_role role)
{
	struct om_proc *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	atomic_inc(&om_halves);
	refcount_set(&p->ref, 1);
	p->task = task;
	if (task)
		get_task_struct(task);
	p->role = role;
	spin_lock_init(&p->lock);
	INIT_LIST_HEAD(&p->inbox);
	INIT_LIST_HEAD(&p->hop_held);
	INIT_LIST_HEAD(&p->hop_sigs);
	INIT_LIST_HEAD(&p->behind_errs);
	INIT_LIST_HEAD(&p->behind_pending);
	xa_init(&p->fetched);
	xa_init(&p->pushed);
	xa_init(&p->delegs);
	init_waitqueue_head(&p->wait);
	INIT_HLIST_NODE(&p->node_by_task);
	INIT_HLIST_NODE(&p->node_by_key);
	INIT_HLIST_NODE(&p->node_by_peer);
	INIT_DELAYED_WORK(&p->retry, om_move_retry);
	om_jobctl_init(p);
	return p;
}

void om_proc_put(struct om_proc *p)
{
	if (!p || !refcount_dec_and_test(&p->ref))
		return;
	om_proc_drain(p);
	om_deputy_drop_pushed(p);
	om_hop_drop_held(p);
	om_hop_signals_over(p, false);
	om_rfile_home_close_all(p);
	om_behind_forget(p);
	om_deleg_forget(p);
	om_names_forget(p);
	om_deputy_fork_settled(p);
	if (p->arrival_nsproxy)
		put_nsproxy(p->arrival_nsproxy);
	if (p->task)
		put_task_struct(p->task);
	kfree(p);
	atomic_dec(&om_halves);
}

/* Register @p under its task (if set) and key; -EEXIST if taken. */
int om_proc_register(struct om_proc *p)
{
	bool deputy = om_is_deputy_key(p);
	struct om_proc *q;
	u32 key = om_key(deputy, p->role == OM_REMOTE ? p->home_node : 0, p->home_pid);

	spin_lock(&om_registry_lock);
	hash_for_each_possible(om_by_key, q, node_by_key, key) {
		if (om_is_deputy_key(q) == deputy && q->home_pid == p->home_pid &&
		    (deputy || q->home_node == p->home_node)) {
			spin_unlock(&om_registry_lock);
			return -EEXIST;
		}
	}
	if (p->task) {
		hash_for_each_possible(om_by_task, q, node_by_task, hash_ptr(p->task, 32)) {
			if (q->task == p->task) {
				spin_unlock(&om_registry_lock);
				return -EEXIST;
			}
		}
		hash_add(om_by_task, &p->node_by_task, hash_ptr(p->task, 32));
	}
	hash_add(om_by_key, &p->node_by_key, key);
	refcount_inc(&p->ref);
	p->registered = true;
	spin_unlock(&om_registry_lock);
	return 0;
}

/* Give a registered half without a task (an arrival) its task. */
int om_proc_attach(struct om_proc *p, struct task_struct *task)
{
	struct om_proc *q;

	spin_lock(&om_registry_lock);
	hash_for_each_possible(om_by_task, q, node_by_task, hash_ptr(task, 32)) {
		if (q->task == task) {
			spin_unlock(&om_registry_lock);
			return -EEXIST;
		}
	}
	if (!p->registered || p->task) {
		spin_unlock(&om_registry_lock);
		return -EINVAL;
	}
	get_task_struct(task);
	p->task = task;
	hash_add(om_by_task, &p->node_by_task, hash_ptr(task, 32));
	spin_unlock(&om_registry_lock);
	return 0;
}

void om_proc_unregister(struct om_proc *p)
{
	bool was;

	spin_lock(&om_registry_lock);
	was = p->registered;
	if (was) {
		hash_del(&p->node_by_key);
		if (!hlist_unhashed(&p->node_by_task))
			hash_del(&p->node_by_task);
		p->registered = false;
	}
	if (p->by_peer) {
		hash_del(&p->node_by_peer);
		p->by_peer = false;
	}
	spin_unlock(&om_registry_lock);
	if (was)
		om_proc_put(p);
}

/*
 * A half whose process left for good (a remote gone home): no message is
 * for it any more, and the next arrival of the same process here must not
 * find it while its task ends. Its task still finds it, to end it.
 */
void om_proc_unkey(struct om_proc *p)
{
	spin_lock(&om_registry_lock);
	hash_del(&p->node_by_key);
	if (p->by_peer) {
		hash_del(&p->node_by_peer);
		p->by_peer = false;
	}
	spin_unlock(&om_registry_lock);
}

/*
 * A registered remote arriving from a node that is not its home (a move
 * between two nodes away): found by that node's messages too until it
 * runs. -EEXIST if another remote of that pid is known by that node.
 */
int om_proc_add_peer_key(struct om_proc *p)
{
	u32 key = om_key(false, p->peer_node, p->home_pid);
	struct om_proc *q;
	int err = 0;

	spin_lock(&om_registry_lock);
	hash_for_each_possible(om_by_peer, q, node_by_peer, key)
		if (q->home_pid == p->home_pid && q->peer_node == p->peer_node)
			err = -EEXIST;
	hash_for_each_possible(om_by_key, q, node_by_key, key)
		if (!om_is_deputy_key(q) && q->home_pid == p->home_pid &&
		    q->home_node == p->peer_node)
			err = -EEXIST;
	if (!err) {
		hash_add(om_by_peer, &p->node_by_peer, key);
		p->by_peer = true;
	}
	spin_unlock(&om_registry_lock);
	return err;
}

/*
 * The node the other half is on, and a deputy's previous one (hop.c): set
 * together, as om_proc_find() reads them. A remote's peer key goes.
 */
void om_proc_set_peers(struct om_proc *p, u32 peer, u32 prev)
{
	spin_lock(&om_registry_lock);
	p->peer_node = peer;
	p->prev_peer = prev;
	if (p->by_peer) {
		hash_del(&p->node_by_peer);
		p->by_peer = false;
	}
	spin_unlock(&om_registry_lock);
}

/* Give @p a new role, moving it to the matching key. */
void om_proc_rekey(struct om_proc *p, enum om_role role)
{
	spin_lock(&om_registry_lock);
	if (p->registered)
		hash_del(&p->node_by_key);
	p->role = role;
	if (p->registered)
		hash_add(om_by_key, &p->node_by_key,
			 om_key(om_is_deputy_key(p), role == OM_REMOTE ? p->home_node : 0,
				p->home_pid));
	spin_unlock(&om_registry_lock);
}

/* Also used to attach a task to a registered half (a remote's new task). */
static struct om_proc *om_proc_get_locked(struct om_proc *p)
{
	if (p)
		refcount_inc(&p->ref);
	return p;
}

struct om_proc *om_proc_of_task(struct task_struct *task)
{
	struct om_proc *q, *found = NULL;

	spin_lock(&om_registry_lock);
	hash_for_each_possible(om_by_task, q, node_by_task, hash_ptr(task, 32)) {
		if (q->task == task) {
			found = om_proc_get_locked(q);
			break;
		}
	}
	spin_unlock(&om_registry_lock);
	return found;
}

struct om_proc *om_proc_find(bool deputy, u32 node, pid_t pid)
{
	struct om_proc *q, *found = NULL;

	spin_lock(&om_registry_lock);
	hash_for_each_possible(om_by_key, q, node_by_key, om_key(deputy, deputy ? 0 : node, pid)) {
		if (om_is_deputy_key(q) != deputy || q->home_pid != pid)
			continue;
		/*
		 * A remote is known by its home; a deputy by where its process
		 * is, or was while it moves between two nodes away.
		 */
		if (deputy ? (q->role == OM_DEPUTY &&
			      (q->peer_node == node || (q->prev_peer && q->prev_peer == node))) :
			     q->home_node == node) {
			found = om_proc_get_locked(q);
			break;
		}
	}
	/* An arrival from a node away, by that node. */
	if (!found && !deputy) {
		hash_for_each_possible(om_by_peer, q, node_by_peer, om_key(false, node, pid)) {
			if (q->home_pid == pid && q->peer_node == node) {
				found = om_proc_get_locked(q);
				break;
			}
		}
	}
	spin_unlock(&om_registry_lock);
	return found;
}

void om_proc_for_each(om_proc_visit_t fn, void *arg)
{
	struct om_proc **all, *q;
	unsigned int n = 0, i, bkt;
	unsigned int cap = 0;

	/* Collect references first: @fn may sleep. */
	spin_lock(&om_registry_lock);
	hash_for_each(om_by_key, bkt, q, node_by_key)
		cap++;
	spin_unlock(&om_registry_lock);
	all = kcalloc(cap + 16, sizeof(*all), GFP_KERNEL);
	if (!all)
		return;
	spin_lock(&om_registry_lock);
	hash_for_each(om_by_key, bkt, q, node_by_key) {
		if (n == cap + 16)
			break;
		all[n++] = om_proc_get_locked(q);
	}
	spin_unlock(&om_registry_lock);
	for (i = 0; i < n; i++) {
		fn(all[i], arg);
		om_proc_put(all[i]);
	}
	kfree(all);
}

/* @msg in @p's inbox: last, or first (@front) to be taken again. */
static void om_proc_queue(struct om_proc *p, struct om_kcom_msg *msg, bool front)
{
	struct om_inmsg *m = kmalloc(sizeof(*m), GFP_KERNEL);

	if (!m) {
		om_kcom_msg_free(msg);
		/* Losing a message would break the pair: treat it as a lost peer. */
		spin_lock(&p->lock);
		p->gone = true;
		spin_unlock(&p->lock);
		wake_up(&p->wait);
		return;
	}
	m->msg = msg;
	spin_lock(&p->lock);
	if (front)
		list_add(&m->list, &p->inbox);
	else
		list_add_tail(&m->list, &p->inbox);
	spin_unlock(&p->lock);
	wake_up(&p->wait);
}

void om_proc_enqueue(struct om_proc *p, struct om_kcom_msg *msg)
{
	om_proc_queue(p, msg, false);
}

/**
 * om_proc_putback() - give back the message just taken, to be taken first again
 * @p: the half whose inbox it came from
 * @msg: the message
 */
void om_proc_putback(struct om_proc *p, struct om_kcom_msg *msg)
{
	om_proc_queue(p, msg, true);
}

static struct om_kcom_msg *om_proc_pop(struct om_proc *p)
{
	struct om_inmsg *m;
	struct om_kcom_msg *msg = NULL;

	spin_lock(&p->lock);
	m = list_first_entry_or_null(&p->inbox, struct om_inmsg, list);
	if (m)
		list_del(&m->list);
	spin_unlock(&p->lock);
	if (m) {
		msg = m->msg;
		kfree(m);
	}
	return msg;
}

bool om_proc_ready(struct om_proc *p)
{
	bool r;

	spin_lock(&p->lock);
	r = !list_empty(&p->inbox) || p->gone || p->killed;
	spin_unlock(&p->lock);
	return r;
}

/*
 * The next message for @p, waiting up to @timeout jiffies. Only a fatal
 * signal interrupts. NULL with *err: -ETIMEDOUT, -EHOSTDOWN (the other
 * half's node went down), -ECONNRESET (the other half ended), -EINTR.
 * Queued messages come before news of the end.
 */
struct om_kcom_msg *om_proc_try_next(struct om_proc *p)
{
	return om_proc_pop(p);
}

struct om_kcom_msg *om_proc_next(struct om_proc *p, long timeout, int *err)
{
	struct om_kcom_msg *msg;
	long left;

	for (;;) {
		msg = om_proc_pop(p);
		if (msg) {
			*err = 0;
			return msg;
		}
		if (p->killed) {
			*err = -ECONNRESET;
			return NULL;
		}
		if (p->gone) {
			*err = -EHOSTDOWN;
			return NULL;
		}
		left = wait_event_killable_timeout(p->wait, om_proc_ready(p), timeout);
		if (left < 0) {
			*err = -EINTR;
			return NULL;
		}
		if (!left && !om_proc_ready(p)) {
			*err = -ETIMEDOUT;
			return NULL;
		}
		if (left)
			timeout = left;
	}
}

void om_proc_drain(struct om_proc *p)
{
	struct om_kcom_msg *msg;

	while ((msg = om_proc_pop(p)))
		om_kcom_msg_free(msg);
}
