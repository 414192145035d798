// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a write to /proc/PID/hpc/where means, and why a process must stay.
 * Pure functions of their input, so KUnit tests them (om_test.c).
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <linux/string.h>
#include <linux/user_namespace.h>

#include "om.h"

/* Longest accepted write: "home" or a node number, with a newline. */
#define OM_WHERE_MAX 16

/**
 * om_parse_where() - parse a write to /proc/PID/hpc/where
 * @buf: the bytes written (not NUL-terminated)
 * @len: their number
 * @node: the node asked for; 0 for home
 *
 * Accepts "home" or a decimal node id 1..VIRTIO_OM_MAX_NODES, optionally
 * followed by one newline.
 *
 * Return: 0, or -EINVAL for anything else (empty, too long, a sign, junk).
 */
int om_parse_where(const char *buf, size_t len, u32 *node)
{
	char s[OM_WHERE_MAX + 1];
	unsigned int v;
	size_t i;

	if (len && buf[len - 1] == '\n')
		len--;
	if (!len || len > OM_WHERE_MAX)
		return -EINVAL;
	memcpy(s, buf, len);
	s[len] = '\0';
	if (!strcmp(s, "home")) {
		*node = 0;
		return 0;
	}
	for (i = 0; i < len; i++)
		if (!isdigit(s[i]))
			return -EINVAL;
	if (kstrtouint(s, 10, &v) || !v || v > VIRTIO_OM_MAX_NODES)
		return -EINVAL;
	*node = v;
	return 0;
}

static size_t om_reason(char *buf, size_t size, size_t at, const char *why)
{
	if (at < size)
		at += scnprintf(buf + at, size - at, "%s\n", why);
	return at;
}

static bool om_mm_refuses(struct mm_struct *mm, const char **why)
{
	struct vm_area_struct *vma;

	VMA_ITERATOR(vmi, mm, 0);
	bool refuse = false;

	if (mmap_read_lock_killable(mm)) {
		*why = "busy (address space locked)";
		return true;
	}
	for_each_vma(vmi, vma) {
		if (om_arch_is_vdso(vma) || om_arch_is_vvar(vma))
			continue;
		if (vma->vm_flags & VM_LOCKED) {
			*why = "locked memory (mlock)";
			refuse = true;
		} else if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) {
			*why = "device memory mapped";
			refuse = true;
		} else if (vma->vm_flags & VM_SHARED) {
			*why = "shared memory mapping (MAP_SHARED)";
			refuse = true;
		} else if (vma->vm_flags & VM_HUGETLB) {
			*why = "huge pages (hugetlbfs)";
			refuse = true;
		}
		if (refuse)
			break;
	}
	mmap_read_unlock(mm);
	return refuse;
}

/**
 * om_stay_reasons() - why @task cannot move now, one reason a line
 * @task: a process (thread group leader)
 * @buf: where to write them
 * @size: its size
 *
 * Return: bytes written; 0 when it may move.
 */
int om_stay_reasons(struct task_struct *task, char *buf, size_t size)
{
	size_t at = 0;
	struct mm_struct *mm;
	const char *why;

	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return om_reason(buf, size, 0, "kernel thread");
	if (is_global_init(task))
		at = om_reason(buf, size, at, "init (pid 1)");
	if (!thread_group_empty(task))
		at = om_reason(buf, size, at, "threads (more than one thread shares its memory)");
	if (task->ptrace)
		at = om_reason(buf, size, at, "traced (ptrace)");
#ifdef CONFIG_SECCOMP
	if (task->seccomp.mode != SECCOMP_MODE_DISABLED)
		at = om_reason(buf, size, at, "seccomp filter");
#endif
	if (task_thread_info(task)->flags & _TIF_ADDR32)
		at = om_reason(buf, size, at, "32-bit process");
	if (task_cred_xxx(task, user_ns) != &init_user_ns)
		at = om_reason(buf, size, at, "user namespace");
	/* Threads share these too: they are named only for separate processes. */
	if (thread_group_empty(task) && refcount_read(&task->sighand->count) > 1)
		at = om_reason(buf, size, at, "signal handlers shared with another process");
	if (task_cred_xxx(task, group_info)->ngroups > VIRTIO_OM_MIG_GROUPS)
		at = om_reason(buf, size, at, "more than 32 supplementary groups");
	mm = get_task_mm(task);
	if (!mm) {
		at = om_reason(buf, size, at, "no address space");
	} else {
		if (thread_group_empty(task) && atomic_read(&mm->mm_users) > 2)
			at = om_reason(buf, size, at,
				       "memory shared with another process (CLONE_VM)");
		if (om_mm_refuses(mm, &why))
			at = om_reason(buf, size, at, why);
		mmput(mm);
	}
	return min(at, size);
}
