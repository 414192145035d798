// SPDX-License-Identifier: GPL-2.0-only
/*
 * The balancer's controls in /proc/hpc/admin (balance, block, speed,
 * decay: each reads back as it is written) and /proc/hpc/loads, this
 * node's load and what it knows of the others' (om-mon reads it).
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "om.h"

/* Longest write: two numbers and a newline. */
#define OM_CONTROL_MAX 32

static int om_control_show(struct seq_file *m, void *v)
{
	enum om_load_control c = (uintptr_t)m->private;
	u32 a, b;

	om_load_get(c, &a, &b);
	if (c == OM_LOAD_DECAY)
		seq_printf(m, "%u %u\n", a, b);
	else
		seq_printf(m, "%u\n", a);
	return 0;
}

static int om_control_open(struct inode *inode, struct file *file)
{
	return single_open(file, om_control_show, pde_data(inode));
}

/* "N" (or "F S" for decay), decimal, an optional newline. */
static ssize_t om_control_write(struct file *file, const char __user *ubuf, size_t count,
				loff_t *ppos)
{
	enum om_load_control c = (uintptr_t)pde_data(file_inode(file));
	char buf[OM_CONTROL_MAX + 1], *s = buf, *word;
	u32 v[2] = {};
	int n = 0, err;

	if (!count || count > OM_CONTROL_MAX)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (buf[count - 1] == '\n')
		buf[count - 1] = '\0';
	while ((word = strsep(&s, " ")) != NULL) {
		if (n == (c == OM_LOAD_DECAY ? 2 : 1) || kstrtou32(word, 10, &v[n]))
			return -EINVAL;
		n++;
	}
	if (n != (c == OM_LOAD_DECAY ? 2 : 1))
		return -EINVAL;
	err = om_load_set(c, v[0], v[1]);
	return err ? err : count;
}

static const struct proc_ops om_control_ops = {
	.proc_open = om_control_open,
	.proc_read = seq_read,
	.proc_write = om_control_write,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static void om_loads_line(struct seq_file *m, const struct om_load_info *i, u64 now, bool self)
{
	seq_printf(m, "%u\t%llu\t%u\t%u\t%u\t%u\t%llu\t%llu\t%s%s%s\t%u\t%u\t%u\t%u\n", i->node,
		   div_u64(now - min(now, i->at_ns), NSEC_PER_MSEC), i->load, i->load_slow,
		   i->speed, i->ncpus, i->free_kib, i->total_kib, self ? "self," : "",
		   i->flags & VIRTIO_OM_LOAD_F_BALANCING ? "balancing" : "still",
		   i->flags & VIRTIO_OM_LOAD_F_BLOCKED ? ",blocked" : "", i->hosted, i->away,
		   i->pending, i->runnable);
}

static int om_loads_show(struct seq_file *m, void *v)
{
	struct om_load_info self, *o = kcalloc(OM_LOAD_WINDOW, sizeof(*o), GFP_KERNEL);
	u64 now = ktime_get_ns();
	int i, n;

	if (!o)
		return -ENOMEM;
	om_load_self(&self);
	n = om_load_others(o, OM_LOAD_STALE_MS);
	seq_puts(m, "node\tage_ms\tload\tload_slow\tspeed\tncpus\tfree_kib\ttotal_kib\tstate\thosted\taway\tpending\trunnable\n");
	om_loads_line(m, &self, now, true);
	for (i = 0; i < n; i++)
		om_loads_line(m, &o[i], now, false);
	kfree(o);
	return 0;
}

static int __init om_admin_load_init(void)
{
	static const struct {
		const char *name;
		enum om_load_control c;
	} controls[] = {
		{ "hpc/admin/balance", OM_LOAD_BALANCE },
		{ "hpc/admin/block", OM_LOAD_BLOCK },
		{ "hpc/admin/speed", OM_LOAD_SPEED },
		{ "hpc/admin/decay", OM_LOAD_DECAY },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(controls); i++)
		if (!proc_create_data(controls[i].name, 0644, NULL, &om_control_ops,
				      (void *)(uintptr_t)controls[i].c))
			return -ENOMEM;
	if (!proc_create_single("hpc/loads", 0444, NULL, om_loads_show))
		return -ENOMEM;
	return 0;
}
late_initcall(om_admin_load_init);
