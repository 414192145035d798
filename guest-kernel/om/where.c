// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a write to /proc/PID/hpc/where means, and why a process must stay.
 * Pure functions of their input, so KUnit tests them (om_test.c).
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/posix-timers.h>
#include <linux/shmem_fs.h>
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

/*
 * A MAP_SHARED|MAP_ANONYMOUS object no other process maps is the process's
 * own: it moves as private memory does. No file descriptor can reach one.
 */
static bool om_vma_shared_anon_own(struct vm_area_struct *vma)
{
	struct address_space *mapping;
	struct vm_area_struct *v;
	bool own = true;

	if (!(vma->vm_flags & VM_SHARED) || !vma_is_shmem(vma) || !vma->vm_file ||
	    !IS_PRIVATE(file_inode(vma->vm_file)))
		return false;
	mapping = vma->vm_file->f_mapping;
	i_mmap_lock_read(mapping);
	vma_interval_tree_foreach(v, &mapping->i_mmap, 0, ULONG_MAX) {
		if (v->vm_mm != vma->vm_mm) {
			own = false;
			break;
		}
	}
	i_mmap_unlock_read(mapping);
	return own;
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
		} else if ((vma->vm_flags & VM_SHARED) && !om_vma_shared_anon_own(vma)) {
			*why = vma->vm_file && !IS_PRIVATE(file_inode(vma->vm_file)) ?
			       "shared file mapping (MAP_SHARED of a file, shmem or memfd)" :
			       "memory shared with another process (MAP_SHARED)";
			refuse = true;
		} else if ((vma->vm_flags & VM_SHARED) && !(vma->vm_flags & VM_WRITE)) {
			*why = "read-only shared memory (MAP_SHARED without PROT_WRITE)";
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

/* Namespaces but the initial ones: its ids and view would change (time moves). */
static bool om_task_namespaced(struct task_struct *task)
{
	struct nsproxy *ns;
	bool other = false;

	task_lock(task);
	ns = task->nsproxy;
	if (ns)
		other = ns->uts_ns != init_nsproxy.uts_ns || ns->ipc_ns != init_nsproxy.ipc_ns ||
			ns->mnt_ns != init_nsproxy.mnt_ns ||
			ns->pid_ns_for_children != init_nsproxy.pid_ns_for_children ||
			ns->net_ns != init_nsproxy.net_ns;
	task_unlock(task);
	return other || task_active_pid_ns(task) != &init_pid_ns;
}

/* A timer_create() timer on a CPU clock counts where the process is. */
static bool om_task_cpu_timers(struct task_struct *task)
{
	bool any = false;
	unsigned long flags;
	int i;

	if (!lock_task_sighand(task, &flags))
		return false;
	for (i = 0; i < CPUCLOCK_MAX; i++)
		if (timerqueue_getnext(&task->signal->posix_cputimers.bases[i].tqhead) ||
		    timerqueue_getnext(&task->posix_cputimers.bases[i].tqhead))
			any = true;
	unlock_task_sighand(task, &flags);
	return any;
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
	if (om_task_namespaced(task))
		at = om_reason(buf, size, at, "namespaces (mount, UTS, IPC, network or pid)");
	if (om_task_cpu_timers(task))
		at = om_reason(buf, size, at, "CPU-time POSIX timers (timer_create)");
#ifdef CONFIG_IO_URING
	if (task->io_uring)
		at = om_reason(buf, size, at, "io_uring");
#endif
	why = om_arch_stay_reason(task);
	if (why)
		at = om_reason(buf, size, at, why);
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
