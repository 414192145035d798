// SPDX-License-Identifier: GPL-2.0-only
/*
 * Failures injected into moves, for tests: the kernel's fault-injection
 * framework decides when (debugfs fail_om_move/: probability, interval,
 * times, verbose), "steps" says where (a mask of enum om_fault_step), and
 * "running_timeout_ms" shortens the wait for RUNNING so that a loop of lost
 * messages runs in minutes, "fork_timeout_ms" the wait for a FORK's answer,
 * "fork_late_ms" how late a FORK's answer leaves (fork-late).
 * docs/engine.md shows how a test uses it.
 */
#include <linux/bits.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/init.h>

#include "om.h"

static DECLARE_FAULT_ATTR(om_fail_move);
static u32 om_fail_steps;
static u32 om_running_timeout_ms = OM_RUNNING_TIMEOUT_MS;
static u32 om_fork_timeout_ms = OM_STEP_TIMEOUT / HZ * MSEC_PER_SEC;
static u32 om_fork_late = 3000;

static const char *const om_fault_names[OM_FAULT_STEPS] = {
	[OM_FAULT_PAGES] = "pages",
	[OM_FAULT_COMMIT] = "commit",
	[OM_FAULT_GO_LOST] = "go-lost",
	[OM_FAULT_RUNNING_LOST] = "running-lost",
	[OM_FAULT_FORK_LOST] = "fork-lost",
	[OM_FAULT_FORK_LATE] = "fork-late",
};

/**
 * om_fault() - whether a failure is injected at @step now
 * @step: where the caller is in a move
 *
 * Context: process context.
 * Return: true when the caller must fail as that step says.
 */
bool om_fault(enum om_fault_step step)
{
	if (!(READ_ONCE(om_fail_steps) & BIT(step)) || !should_fail(&om_fail_move, 1))
		return false;
	pr_info("omvm: pid %d: fault injected: %s\n", task_pid_nr(current), om_fault_names[step]);
	return true;
}

long om_running_timeout(void)
{
	return msecs_to_jiffies(clamp(READ_ONCE(om_running_timeout_ms), 100u, 600000u));
}

long om_fork_timeout(void)
{
	return msecs_to_jiffies(clamp(READ_ONCE(om_fork_timeout_ms), 100u, 600000u));
}

unsigned int om_fork_late_ms(void)
{
	return min(READ_ONCE(om_fork_late), 600000u);
}

static int __init om_fault_init(void)
{
	struct dentry *dir = fault_create_debugfs_attr("fail_om_move", NULL, &om_fail_move);

	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_x32("steps", 0600, dir, &om_fail_steps);
	debugfs_create_u32("running_timeout_ms", 0600, dir, &om_running_timeout_ms);
	debugfs_create_u32("fork_timeout_ms", 0600, dir, &om_fork_timeout_ms);
	debugfs_create_u32("fork_late_ms", 0600, dir, &om_fork_late);
	return 0;
}
late_initcall(om_fault_init);
