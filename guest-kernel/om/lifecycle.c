// SPDX-License-Identifier: GPL-2.0-only
/*
 * The end of a half (do_exit's hook) and the engine's start.
 */
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/sched/cputime.h>
#include <linux/om.h>

#include "om.h"

/* A dying task cannot wait for room: retry for a while, without signals. */
void om_send_last(struct om_proc *p, u16 type, const void *payload, size_t len)
{
	struct kvec kv = { (void *)payload, len };
	struct om_kcom_out out = om_out(p, type, 0, &kv, 1);
	int tries;

	for (tries = 0; tries < 10000; tries++) {
		if (om_kcom_send(&out, OM_KCOM_NONBLOCK, NULL) != -EAGAIN)
			return;
		usleep_range(1000, 2000);
	}
}

void om_task_exit(struct task_struct *tsk, long code)
{
	struct om_proc *p = om_proc_of_task(tsk);

	if (!p)
		return;
	/* Exiting in a live move's rounds: the copy its destination built ends. */
	om_live_cancel(p, -ESRCH, true);
	if (!p->silent && p->role == OM_REMOTE) {
		struct virtio_om_exit e = { .code = cpu_to_le32(code) };
		u64 ut, st;

		/* What it wrote to delegated files reaches home before its end does. */
		om_deleg_return_all(p);
		task_cputime_adjusted(tsk, &ut, &st);
		e.utime_ns = cpu_to_le64(ut);
		e.stime_ns = cpu_to_le64(st);
		om_send_last(p, VIRTIO_OM_T_EXIT, &e, sizeof(e));
	} else if (!p->silent && p->role == OM_DEPUTY) {
		struct virtio_om_kill k = { .reason = cpu_to_le32(VIRTIO_OM_KILL_DEPUTY_EXITED) };

		om_send_last(p, VIRTIO_OM_T_KILL, &k, sizeof(k));
	}
	/* Its files delegated to the process's node end with it, silent or not. */
	if (p->role == OM_DEPUTY)
		om_deleg_home_forget(p);
	/* Home's watch of names it said do not exist, whether the process came home or not. */
	om_names_home_forget(p);
	om_proc_unregister(p);
	om_proc_put(p);
}

static int __init om_engine_init(void)
{
	int err = om_link_init();

	if (err)
		pr_err("omvm: engine not started: %d\n", err);
	return err;
}
late_initcall(om_engine_init);
