// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address spaces for a process that arrives, and for its deputy: a fresh,
 * empty mm, and swapping the current task's mm the way exec does, keeping
 * the old one (a deputy gets its stand-in back when a homecoming fails);
 * and the loader the arrival was loaded with.
 */
#include <linux/binfmts.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mmu_context.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <asm/mmu_context.h>

#include "om.h"

struct mm_struct *om_mm_new(void)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return NULL;
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	return mm;
}

/**
 * om_mm_keep_exe() - @mm runs the program @from runs
 * @mm: a new mm, not yet used
 * @from: the mm whose exe file it takes
 *
 * /proc/PID/exe names it, and it stays busy for writers (ETXTBSY), as
 * while the process ran in @from. @from denies writers already, so this
 * cannot fail.
 */
void om_mm_keep_exe(struct mm_struct *mm, struct mm_struct *from)
{
	struct file *exe = get_mm_exe_file(from);

	if (exe) {
		WARN_ON_ONCE(set_mm_exe_file(mm, exe));
		fput(exe);
	}
}

/*
 * Make @mm (a reference the caller gives) the current task's address space
 * and return the one it had (a reference the caller now owns, or NULL).
 * Like exec_mmap() but without ending the old mm's users: the caller
 * decides what becomes of it.
 */
struct mm_struct *om_mm_swap(struct mm_struct *mm)
{
	struct task_struct *tsk = current;
	struct mm_struct *old_mm = tsk->mm, *active_mm;

	/* Its concurrency id was the old mm's (rseq reads it): as execve does. */
	sched_mm_cid_before_execve(tsk);
	/* /proc readers and ptrace look at tsk->mm under this lock. */
	down_write(&tsk->signal->exec_update_lock);
	if (old_mm)
		mmap_read_lock(old_mm);
	task_lock(tsk);
	local_irq_disable();
	active_mm = tsk->active_mm;
	tsk->active_mm = mm;
	tsk->mm = mm;
	mm_init_cid(mm);
	if (!IS_ENABLED(CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM))
		local_irq_enable();
	activate_mm(active_mm, mm);
	if (IS_ENABLED(CONFIG_ARCH_WANT_IRQS_OFF_ACTIVATE_MM))
		local_irq_enable();
	task_unlock(tsk);
	if (old_mm) {
		mmap_read_unlock(old_mm);
		/* The old mm stays referenced by the caller (our tsk->mm reference). */
	} else {
		mmdrop_lazy_tlb(active_mm);
	}
	up_write(&tsk->signal->exec_update_lock);
	sched_mm_cid_after_execve(tsk);
	return old_mm;
}

/*
 * The ELF loader, found as the one this node's init was loaded with. A
 * process that arrives was loaded by ELF's too (VIRTIO_OM_MIG_F_ELF); a new
 * mm has no loader (exec sets it), and without one no core is dumped.
 * Built in, it never goes away: found once, kept.
 */
struct linux_binfmt *om_elf_format(void)
{
	static struct linux_binfmt *elf;
	struct linux_binfmt *f = READ_ONCE(elf);
	struct task_struct *init;
	struct mm_struct *mm;

	if (f)
		return f;
	rcu_read_lock();
	init = find_task_by_pid_ns(1, &init_pid_ns);
	if (init)
		get_task_struct(init);
	rcu_read_unlock();
	if (!init)
		return NULL;
	mm = get_task_mm(init);
	put_task_struct(init);
	if (!mm)
		return NULL;
	f = mm->binfmt;
	mmput(mm);
	if (f)
		WRITE_ONCE(elf, f);
	return f;
}
