// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/PID/hpc: where (read: "home" or the node the process runs on;
 * write: a node id or "home"), stay (why it cannot move, a reason a line)
 * and debug (the engine's view of it). fs/proc/base.c lists the entries.
 */
#include <linux/fs.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/om.h>

#include "../../fs/proc/internal.h"
#include "om.h"

static ssize_t om_where_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct task_struct *task = get_proc_task(file_inode(file));
	struct om_proc *p;
	char s[24] = "home\n";

	if (!task)
		return -ESRCH;
	p = om_proc_of_task(task);
	/*
	 * Only once it runs there: until RUNNING a move can still be taken
	 * back (between two nodes away, until the sender says it is over).
	 */
	if (p && p->role == OM_DEPUTY && READ_ONCE(p->serving))
		scnprintf(s, sizeof(s), "%u\n", READ_ONCE(p->prev_peer) ?: p->peer_node);
	else if (p && p->role == OM_REMOTE)
		scnprintf(s, sizeof(s), "%u\n", om_kcom_self());
	om_proc_put(p);
	put_task_struct(task);
	return simple_read_from_buffer(buf, count, ppos, s, strlen(s));
}

static int om_send_come_home(struct om_proc *p, u32 then_node, bool self)
{
	struct virtio_om_come_home c = {
		.then_node = cpu_to_le32(then_node),
		.flags = cpu_to_le32(self ? VIRTIO_OM_COME_HOME_F_SELF : 0),
	};
	struct kvec kv = { &c, sizeof(c) };

	return om_send(p, VIRTIO_OM_T_COME_HOME, 0, 0, &kv, 1, NULL, 0, NULL);
}

/* The half of a process of this node that has none yet. */
static struct om_proc *om_proc_new_home(struct task_struct *task)
{
	struct om_proc *p = om_proc_alloc(task, OM_HOME);
	int err;

	if (!p)
		return ERR_PTR(-ENOMEM);
	p->home_node = om_kcom_self();
	p->home_pid = task_tgid_nr(task);
	err = om_proc_register(p);
	if (err) {
		om_proc_put(p);
		return ERR_PTR(err);
	}
	return p;
}

/* A move asked of a process at home. */
static int om_where_at_home(struct task_struct *task, struct om_proc *p, u32 node)
{
	char *why;
	int n;

	if (!node) {
		p->target = 0; /* cancels a move not yet begun */
		return 0;
	}
	why = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!why)
		return -ENOMEM;
	n = om_stay_reasons(task, why, PAGE_SIZE);
	kfree(why);
	if (n)
		return -EBUSY;
	n = om_move_cpu_check(p, node);
	if (n)
		return n;
	p->target = node;
	p->asked_by_self = task == current;
	p->asked_ns = ktime_get_ns();
	/* last_error is the outcome of this move from now on. */
	p->last_error = 0;
	om_queue_move(p);
	return 0;
}

/**
 * om_ask_move() - ask @task to move, as a write to its where does
 * @task: a process of this node, at home or away from it
 * @node: where to (0 or this node: home)
 *
 * Away from home a process can only be sent home from here.
 *
 * Return: 0 or -errno: -ENOTCONN in no cluster, -EHOSTUNREACH for a node
 * not up, -EBUSY with a stay reason, -EAGAIN while it is leaving, as a
 * CPU check refuses, -EOPNOTSUPP for another node away.
 */
int om_ask_move(struct task_struct *task, u32 node)
{
	u32 self = om_kcom_self();
	struct om_proc *p;
	int err = 0;

	if (!self)
		return -ENOTCONN; /* this guest is in no cluster (yet) */
	if (node == self)
		node = 0;
	if (node && !om_kcom_node_is_up(node))
		return -EHOSTUNREACH;
	p = om_proc_of_task(task);
	if (!p) {
		if (!node)
			return 0; /* home already */
		p = om_proc_new_home(task);
		if (IS_ERR(p))
			return PTR_ERR(p);
	}
	switch (p->role) {
	case OM_HOME:
		err = om_where_at_home(task, p, node);
		break;
	case OM_DEPUTY:
		/* On its way out: until it runs there, ask again later. */
		if (!READ_ONCE(p->serving)) {
			err = -EAGAIN;
			break;
		}
		if (node == p->peer_node)
			break;
		spin_lock(&p->lock);
		p->then_node = node;
		spin_unlock(&p->lock);
		p->last_error = 0;
		/* The deputy runs the process's own write to where as itself. */
		err = om_send_come_home(p, node, task == current);
		break;
	case OM_REMOTE:
		if (node && node != p->home_node) {
			err = -EOPNOTSUPP;
			break;
		}
		p->target = p->home_node;
		WRITE_ONCE(p->asked_by_self, task == current);
		om_queue_move(p);
		break;
	}
	om_proc_put(p);
	return err;
}

/* A copy of the user's bytes, NUL-terminated, at most @size - 1 of them. */
static int om_proc_write_buf(const char __user *ubuf, size_t count, char *buf, size_t size)
{
	if (count > size - 1)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	return 0;
}

static ssize_t om_where_write(struct file *file, const char __user *ubuf, size_t count,
			      loff_t *ppos)
{
	struct task_struct *task;
	char buf[32];
	u32 node;
	int err;

	err = om_proc_write_buf(ubuf, count, buf, sizeof(buf)) ?: om_parse_where(buf, count, &node);
	if (err)
		return err;
	task = get_proc_task(file_inode(file));
	if (!task)
		return -ESRCH;
	if (!ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS))
		err = -EPERM;
	else
		err = om_ask_move(task, node);
	put_task_struct(task);
	return err ? err : count;
}

const struct file_operations om_proc_where_operations = {
	.read = om_where_read,
	.write = om_where_write,
	.llseek = default_llseek,
};

static ssize_t om_lock_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct task_struct *task = get_proc_task(file_inode(file));
	struct om_proc *p;
	char s[4] = "0\n";

	if (!task)
		return -ESRCH;
	p = om_proc_of_task(task);
	if (p && READ_ONCE(p->locked))
		s[0] = '1';
	om_proc_put(p);
	put_task_struct(task);
	return simple_read_from_buffer(buf, count, ppos, s, 2);
}

/* The other half learns of it too: the one away is the one that balances. */
static int om_lock_set(struct task_struct *task, bool locked)
{
	struct virtio_om_proc_flags f = {
		.flags = cpu_to_le32(locked ? VIRTIO_OM_PROC_F_LOCKED : 0),
	};
	struct kvec kv = { &f, sizeof(f) };
	struct om_proc *p = om_proc_of_task(task);
	int err = 0;

	if (!p) {
		if (!locked)
			return 0;
		p = om_proc_new_home(task);
		if (IS_ERR(p))
			return PTR_ERR(p);
	}
	/* Leaving: its MIG_BEGIN carries the old value; ask again later. */
	if (p->role == OM_DEPUTY && !READ_ONCE(p->serving)) {
		err = -EAGAIN;
	} else {
		WRITE_ONCE(p->locked, locked);
		if (p->role != OM_HOME)
			err = om_send(p, VIRTIO_OM_T_PROC_FLAGS, 0, 0, &kv, 1, NULL, 0, NULL);
	}
	om_proc_put(p);
	return err;
}

static ssize_t om_lock_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	struct task_struct *task;
	char buf[4];
	int err;

	err = om_proc_write_buf(ubuf, count, buf, sizeof(buf));
	if (err)
		return err;
	if (strcmp(buf, "0") && strcmp(buf, "0\n") && strcmp(buf, "1") && strcmp(buf, "1\n"))
		return -EINVAL;
	task = get_proc_task(file_inode(file));
	if (!task)
		return -ESRCH;
	if (!ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS))
		err = -EPERM;
	else
		err = om_lock_set(task, buf[0] == '1');
	put_task_struct(task);
	return err ? err : count;
}

const struct file_operations om_proc_lock_operations = {
	.read = om_lock_read,
	.write = om_lock_write,
	.llseek = default_llseek,
};

int om_proc_stay_show(struct seq_file *m, struct pid_namespace *ns, struct pid *pid,
		      struct task_struct *task)
{
	char *why = kmalloc(PAGE_SIZE, GFP_KERNEL);
	int n;

	if (!why)
		return -ENOMEM;
	n = om_stay_reasons(task, why, PAGE_SIZE);
	seq_write(m, why, n);
	kfree(why);
	return 0;
}

static const char *om_role_name(enum om_role r)
{
	switch (r) {
	case OM_HOME:
		return "home";
	case OM_DEPUTY:
		return "deputy";
	default:
		return "remote";
	}
}

int om_proc_debug_show(struct seq_file *m, struct pid_namespace *ns, struct pid *pid,
		       struct task_struct *task)
{
	struct om_proc *p = om_proc_of_task(task);

	if (!p) {
		seq_puts(m, "role: home\nmigrations: 0\n");
		return 0;
	}
	seq_printf(m, "role: %s\nhome: node %u pid %d\npeer: %u\ntarget: %u\n",
		   om_role_name(p->role), p->home_node, p->home_pid, p->peer_node, p->target);
	seq_printf(m, "last_error: %d\nmigrations: %lld\nsyscalls: %lld\n", p->last_error,
		   atomic64_read(&p->stats.migrations), atomic64_read(&p->stats.syscalls));
	seq_printf(m, "pages_fetched: %lld\npages_written: %lld\nsignals: %lld\n",
		   atomic64_read(&p->stats.pages_fetched), atomic64_read(&p->stats.pages_written),
		   atomic64_read(&p->stats.signals));
	seq_printf(m, "pages_pushed: %lld\npages_unfetched: %lld\npages_ahead: %lld\n",
		   atomic64_read(&p->stats.pages_pushed), atomic64_read(&p->stats.pages_unfetched),
		   atomic64_read(&p->stats.pages_ahead));
	seq_printf(m, "last_move_pages: %llu\nlast_freeze_ns: %llu\nlast_total_ns: %llu\n",
		   p->last_pages, p->last_freeze_ns, p->last_total_ns);
	seq_printf(m, "last_rounds: %u\nlast_round_pages: %llu\nlast_zero_skipped: %llu\n",
		   p->last_rounds, p->last_round_pages, p->last_zero_skipped);
	seq_printf(m, "last_round_walks: %u\nlast_freeze_walks: %u\nlast_start_ns: %llu\n",
		   p->last_round_walks, p->last_freeze_walks, p->last_start_ns);
	seq_printf(m, "last_home_rounds: %u\nlast_home_round_pages: %llu\nlast_home_pages: %llu\n",
		   p->last_home_rounds, p->last_home_round_pages, p->last_home_pages);
	seq_printf(m, "last_home_calls: %llu\nlast_home_freeze_ns: %llu\n",
		   p->last_home_calls, p->last_home_freeze_ns);
	seq_printf(m, "last_zero_told: %llu\n", p->last_zero_told);
	seq_printf(m, "home_calls: %lld\nhome_calls_kept: %lld\nlast_home_call: %ld\n",
		   atomic64_read(&p->stats.home_calls), atomic64_read(&p->stats.home_calls_kept),
		   p->last_home_call);
	seq_printf(m, "forks: %lld\nforks_cancelled: %lld\nstale_dropped: %lld\n",
		   atomic64_read(&p->stats.forks), atomic64_read(&p->stats.forks_cancelled),
		   atomic64_read(&p->stats.stale_dropped));
	seq_printf(m, "locked: %d\nforwarded_ns: %lld\n", READ_ONCE(p->locked),
		   atomic64_read(&p->stats.fwd_ns));
	seq_printf(m, "written_behind: %lld\nbehind_failed: %lld\nbehind_answers: %lld\n",
		   atomic64_read(&p->stats.written_behind), atomic64_read(&p->stats.behind_failed),
		   atomic64_read(&p->stats.behind_answers));
	seq_printf(m, "deleg_files: %lld\ndeleg_calls: %lld\ndeleg_fetched: %lld\n",
		   atomic64_read(&p->stats.deleg_files), atomic64_read(&p->stats.deleg_calls),
		   atomic64_read(&p->stats.deleg_fetched));
	seq_printf(m, "deleg_flushed: %lld\ndeleg_returns: %lld\ndeleg_recalls: %lld\n",
		   atomic64_read(&p->stats.deleg_flushed), atomic64_read(&p->stats.deleg_returns),
		   atomic64_read(&p->stats.deleg_recalls));
	seq_printf(m, "names_granted: %lld\nnames_hits: %lld\nnames_drops: %lld\n",
		   atomic64_read(&p->stats.names_granted), atomic64_read(&p->stats.names_hits),
		   atomic64_read(&p->stats.names_drops));
	spin_lock(&p->lock);
	if (p->cpu_lacks[0])
		seq_printf(m, "cpu_lacks: %s\n", p->cpu_lacks);
	spin_unlock(&p->lock);
	om_proc_put(p);
	return 0;
}
