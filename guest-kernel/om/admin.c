// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/hpc/admin: what an administrator reads and sets on this guest's
 * engine (version; stats: what it holds now; bring: every process of this
 * node that runs away comes home; expel: every process this node runs for
 * another goes home), and
 * /proc/hpc/remote: the processes this node runs for others. The
 * per-process interface lives under /proc/PID/hpc.
 */
#include <linux/init.h>
#include <linux/proc_fs.h>
#include <linux/sched/cputime.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "om.h"

static int om_version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "engine %s\nprotocol %u\narch %s\n", OM_ENGINE_VERSION,
		   VIRTIO_OM_PROTOCOL_VERSION, om_arch_name());
	return 0;
}

struct om_node_stats om_node_stats;

/*
 * A half is freed when its process ends: a count that does not come back
 * down leaks. The rest count since boot, and the files of home this node
 * keeps (rfile.c, rfile_fs.c) or serves others (rfile_serve.c).
 */
static int om_stats_show(struct seq_file *m, void *v)
{
	u64 files, pages, hits, reads, read_pages;

	seq_printf(m, "halves %d\n", om_proc_count());
	seq_printf(m, "born_here %lld\nexecs_here %lld\nmaps_here %lld\nhome_calls %lld\n",
		   atomic64_read(&om_node_stats.born), atomic64_read(&om_node_stats.execs),
		   atomic64_read(&om_node_stats.maps), atomic64_read(&om_node_stats.home_calls));
	om_rfile_stats(&files, &pages, &hits);
	om_rfile_fs_stats(&reads, &read_pages);
	seq_printf(m, "rfile_files %llu\nrfile_pages %llu\nrfile_hits %llu\n", files, pages, hits);
	seq_printf(m, "rfile_reads %llu\nrfile_read_pages %llu\nrfile_served %lu\n", reads,
		   read_pages, om_rfile_served());
	seq_printf(m, "load_sent %lld\nload_received %lld\nload_refused %lld\n",
		   atomic64_read(&om_node_stats.load_sent),
		   atomic64_read(&om_node_stats.load_received),
		   atomic64_read(&om_node_stats.load_refused));
	seq_printf(m, "arrivals_refused %lld\nbalance_moves %lld\nbalance_home %lld\n",
		   atomic64_read(&om_node_stats.arrivals_refused),
		   atomic64_read(&om_node_stats.balance_moves),
		   atomic64_read(&om_node_stats.balance_home));
	seq_printf(m, "balance_ushered %lld\nlive_moves %lld\n",
		   atomic64_read(&om_node_stats.balance_ushered),
		   atomic64_read(&om_node_stats.live_moves));
	return 0;
}

struct om_admin_count {
	unsigned int asked;
	int err;
};

static void om_bring_one(struct om_proc *p, void *arg)
{
	struct om_admin_count *c = arg;
	struct virtio_om_come_home ch = {};
	struct kvec kv = { &ch, sizeof(ch) };
	int err;

	if (p->role != OM_DEPUTY)
		return;
	spin_lock(&p->lock);
	p->then_node = 0;
	spin_unlock(&p->lock);
	err = om_send(p, VIRTIO_OM_T_COME_HOME, 0, 0, &kv, 1, NULL, 0, NULL);
	if (err)
		c->err = err;
	else
		c->asked++;
}

static void om_expel_one(struct om_proc *p, void *arg)
{
	struct om_admin_count *c = arg;

	if (p->role != OM_REMOTE || !p->task)
		return;
	p->target = p->home_node;
	WRITE_ONCE(p->asked_by_self, false);
	om_queue_move(p);
	c->asked++;
}

/* Any write acts; the bytes written are not looked at beyond their size. */
static ssize_t om_admin_write(const char __user *buf, size_t count, om_proc_visit_t fn)
{
	struct om_admin_count c = {};

	if (!count || count > 16)
		return -EINVAL;
	om_proc_for_each(fn, &c);
	return c.err && !c.asked ? c.err : count;
}

static ssize_t om_bring_write(struct file *f, const char __user *buf, size_t count, loff_t *pos)
{
	return om_admin_write(buf, count, om_bring_one);
}

static ssize_t om_expel_write(struct file *f, const char __user *buf, size_t count, loff_t *pos)
{
	return om_admin_write(buf, count, om_expel_one);
}

static const struct proc_ops om_bring_ops = {
	.proc_write = om_bring_write,
	.proc_lseek = noop_llseek,
};

static const struct proc_ops om_expel_ops = {
	.proc_write = om_expel_write,
	.proc_lseek = noop_llseek,
};

static void om_remote_line(struct om_proc *p, void *arg)
{
	struct seq_file *m = arg;
	u64 ut, st;

	if (p->role != OM_REMOTE || !p->task)
		return;
	task_cputime_adjusted(p->task, &ut, &st);
	seq_printf(m, "%u\t%d\t%d\t%llu\t%llu\t%s\n", p->home_node, p->home_pid,
		   task_pid_nr(p->task), ut / NSEC_PER_MSEC, st / NSEC_PER_MSEC, p->task->comm);
}

static int om_remote_show(struct seq_file *m, void *v)
{
	seq_puts(m, "home_node\thome_pid\tpid\tutime_ms\tstime_ms\tcomm\n");
	om_proc_for_each(om_remote_line, m);
	return 0;
}

static int __init om_admin_init(void)
{
	struct proc_dir_entry *hpc, *admin;

	hpc = proc_mkdir("hpc", NULL);
	if (!hpc)
		return -ENOMEM;
	admin = proc_mkdir("admin", hpc);
	if (!admin)
		goto err_hpc;
	if (!proc_create_single("version", 0444, admin, om_version_show) ||
	    !proc_create_single("stats", 0444, admin, om_stats_show) ||
	    !proc_create("bring", 0200, admin, &om_bring_ops) ||
	    !proc_create("expel", 0200, admin, &om_expel_ops) ||
	    !proc_create_single("remote", 0444, hpc, om_remote_show))
		goto err_hpc;
	return 0;

err_hpc:
	proc_remove(hpc);
	return -ENOMEM;
}
fs_initcall(om_admin_init);
