/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The omvm engine's hooks in the core kernel (guest-kernel/patches): what
 * kernel/entry, kernel/exit.c, kernel/signal.c, fs/proc and mm/memory.c call.
 * The engine itself is kernel/om and arch/x86/om.
 */
#ifndef _LINUX_OM_H
#define _LINUX_OM_H

#include <linux/jump_label.h>
#include <linux/types.h>
#include <uapi/linux/virtio_om.h> /* enum virtio_om_proc_file */

struct file;
struct inode;
struct mm_struct;
struct pt_regs;
struct task_struct;
struct kernel_siginfo;
struct seq_file;
struct pid_namespace;
struct pid;

int is_current_pgrp_orphaned(void);

#ifdef CONFIG_MEM_SOFT_DIRTY
/* fs/proc/task_mmu.c: write-protect these pages again, for their next write to fault. */
int mm_clear_soft_dirty_pages(struct mm_struct *mm, const unsigned long *addrs,
			      unsigned int nr);
#endif

#ifdef CONFIG_OM
/*
 * For a task with SYSCALL_WORK_OM (a process running away from home): run
 * the call here (returns @nr, possibly changed) or elsewhere (returns -1
 * with the result in regs->ax).
 */
long om_syscall_enter(struct pt_regs *regs, long nr);

/* @tsk is exiting with @code (do_exit's): tell the other half. */
void om_task_exit(struct task_struct *tsk, long code);

/* Job control (kernel/signal.c): the current task just stopped with @signr. */
void om_task_stopped(int signr);
/* Whether job-control stops do nothing: away, as its group at home says. */
bool om_pgrp_orphaned(void);
/* A deputy stops as its process did (kernel/signal.c). */
bool om_signal_stop(int signr);

/* /proc/PID/hpc. */
extern const struct file_operations om_proc_where_operations;
extern const struct file_operations om_proc_lock_operations;
int om_proc_stay_show(struct seq_file *m, struct pid_namespace *ns,
		      struct pid *pid, struct task_struct *task);
int om_proc_debug_show(struct seq_file *m, struct pid_namespace *ns,
		       struct pid *pid, struct task_struct *task);

/* /proc/PID of a process away describes it where it runs (fs/proc). */
bool om_proc_away_open(struct inode *inode, struct file *file, u32 what, unsigned int mode,
		       int *err);
void om_proc_away_merge(struct seq_file *m, size_t from, struct task_struct *task, u32 what);

/*
 * open_exec() for a process away (fs/exec.c): the interpreter from home.
 * NULL: not one, open the path here.
 */
struct file *om_rfile_open_exec(const char *name);
/* And the program itself, opened from home before the exec (NULL: not one). */
struct file *om_rfile_exec_file(void);

/* A process away about to dump core goes home to dump it (kernel/signal.c). */
void om_coredump_home(const struct kernel_siginfo *info);

/*
 * A write fault in @mm at @address (mm/memory.c): a live move logs the pages
 * its process writes (kernel/om/dirty_log.c). Off while no move is live.
 */
DECLARE_STATIC_KEY_FALSE(om_write_log_on);
void om_write_fault_note(struct mm_struct *mm, unsigned long address);
static inline void om_write_fault(struct mm_struct *mm, unsigned long address)
{
	if (static_branch_unlikely(&om_write_log_on))
		om_write_fault_note(mm, address);
}
#else
static inline long om_syscall_enter(struct pt_regs *regs, long nr)
{
	return nr;
}

static inline void om_task_exit(struct task_struct *tsk, long code)
{
}

static inline void om_task_stopped(int signr)
{
}

static inline bool om_pgrp_orphaned(void)
{
	return is_current_pgrp_orphaned();
}

static inline bool om_proc_away_open(struct inode *inode, struct file *file, u32 what,
				     unsigned int mode, int *err)
{
	return false;
}

static inline void om_proc_away_merge(struct seq_file *m, size_t from, struct task_struct *task,
				      u32 what)
{
}

static inline struct file *om_rfile_open_exec(const char *name)
{
	return NULL;
}

static inline struct file *om_rfile_exec_file(void)
{
	return NULL;
}

static inline void om_coredump_home(const struct kernel_siginfo *info)
{
}

static inline void om_write_fault(struct mm_struct *mm, unsigned long address)
{
}
#endif

#endif /* _LINUX_OM_H */
