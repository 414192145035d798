// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where each system call of a process away from home runs, decided once
 * per call number. Anything not listed goes home first and runs there, so
 * a call the engine does not know is never run in the wrong place.
 */
#include <linux/kernel.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/time.h>
#include <asm/unistd.h>

#include "om.h"

static const u8 om_syscall_table[__NR_syscalls] = {
	/* Memory, registers and signal state: the process's own, here. */
	[__NR_brk] = OM_SC_LOCAL,
	[__NR_munmap] = OM_SC_LOCAL,
	[__NR_mprotect] = OM_SC_LOCAL,
	[__NR_mremap] = OM_SC_LOCAL,
	[__NR_madvise] = OM_SC_LOCAL,
	[__NR_mincore] = OM_SC_LOCAL,
	[__NR_msync] = OM_SC_LOCAL,
	[__NR_rt_sigaction] = OM_SC_SIGACTION,
	[__NR_rt_sigprocmask] = OM_SC_SIGMASK,
	[__NR_rt_sigreturn] = OM_SC_LOCAL,
	[__NR_sigaltstack] = OM_SC_LOCAL,
	[__NR_rt_sigpending] = OM_SC_LOCAL,
	[__NR_rt_sigsuspend] = OM_SC_SIGMASK,
	[__NR_rt_sigtimedwait] = OM_SC_SIGMASK,
	[__NR_pause] = OM_SC_LOCAL,
	[__NR_arch_prctl] = OM_SC_LOCAL,
	[__NR_set_tid_address] = OM_SC_LOCAL,
	[__NR_set_robust_list] = OM_SC_LOCAL,
	[__NR_get_robust_list] = OM_SC_LOCAL,
	[__NR_futex] = OM_SC_LOCAL,
	[__NR_sched_yield] = OM_SC_LOCAL,
	[__NR_getrandom] = OM_SC_LOCAL,
	[__NR_membarrier] = OM_SC_LOCAL,
	[__NR_nanosleep] = OM_SC_LOCAL,
	[__NR_clock_nanosleep] = OM_SC_LOCAL,
	[__NR_clock_gettime] = OM_SC_LOCAL,
	[__NR_clock_getres] = OM_SC_LOCAL,
	[__NR_gettimeofday] = OM_SC_LOCAL,
	[__NR_time] = OM_SC_LOCAL,
	[__NR_getrusage] = OM_SC_RUSAGE,
	[__NR_times] = OM_SC_TIMES,
	[__NR_sched_getaffinity] = OM_SC_LOCAL,
	[__NR_getcpu] = OM_SC_LOCAL,
	[__NR_capget] = OM_SC_LOCAL,
	[__NR_prctl] = OM_SC_PRCTL,
	[__NR_getuid] = OM_SC_LOCAL,
	[__NR_geteuid] = OM_SC_LOCAL,
	[__NR_getgid] = OM_SC_LOCAL,
	[__NR_getegid] = OM_SC_LOCAL,
	[__NR_getresuid] = OM_SC_LOCAL,
	[__NR_getresgid] = OM_SC_LOCAL,
	[__NR_getgroups] = OM_SC_LOCAL,
	[__NR_getpriority] = OM_SC_PRIO,
	[__NR_getrlimit] = OM_SC_LOCAL,
	[__NR_prlimit64] = OM_SC_PRLIMIT,
	[__NR_personality] = OM_SC_PERSONALITY,
	[__NR_exit] = OM_SC_LOCAL,
	[__NR_exit_group] = OM_SC_LOCAL,
	/* Runs the restart block: the sleep's here, or one asking the deputy. */
	[__NR_restart_syscall] = OM_SC_LOCAL,
	[__NR_rseq] = OM_SC_LOCAL,
	[__NR_mmap] = OM_SC_MMAP,
	[__NR_getpid] = OM_SC_PID,
	[__NR_fork] = OM_SC_FORK,
	[__NR_clone] = OM_SC_FORK,
	[__NR_clone3] = OM_SC_FORK,
	[__NR_vfork] = OM_SC_FORK,
	[__NR_execve] = OM_SC_EXEC,
	[__NR_gettid] = OM_SC_PID,

	/* What the home node holds: files, directories, pipes, the terminal, ids. */
	[__NR_read] = OM_SC_FORWARD,
	[__NR_write] = OM_SC_FORWARD,
	[__NR_open] = OM_SC_FORWARD,
	[__NR_close] = OM_SC_FORWARD,
	[__NR_stat] = OM_SC_FORWARD,
	[__NR_fstat] = OM_SC_FORWARD,
	[__NR_lstat] = OM_SC_FORWARD,
	[__NR_poll] = OM_SC_FORWARD,
	[__NR_lseek] = OM_SC_FORWARD,
	[__NR_pread64] = OM_SC_FORWARD,
	[__NR_pwrite64] = OM_SC_FORWARD,
	[__NR_readv] = OM_SC_FORWARD,
	[__NR_writev] = OM_SC_FORWARD,
	[__NR_access] = OM_SC_FORWARD,
	[__NR_pipe] = OM_SC_FORWARD,
	[__NR_select] = OM_SC_FORWARD,
	[__NR_dup] = OM_SC_FORWARD,
	[__NR_dup2] = OM_SC_FORWARD,
	[__NR_dup3] = OM_SC_FORWARD,
	[__NR_pipe2] = OM_SC_FORWARD,
	[__NR_fcntl] = OM_SC_FORWARD,
	[__NR_flock] = OM_SC_FORWARD,
	[__NR_fsync] = OM_SC_FORWARD,
	[__NR_fdatasync] = OM_SC_FORWARD,
	[__NR_truncate] = OM_SC_FORWARD,
	[__NR_ftruncate] = OM_SC_FORWARD,
	[__NR_getdents] = OM_SC_FORWARD,
	[__NR_getdents64] = OM_SC_FORWARD,
	[__NR_getcwd] = OM_SC_FORWARD,
	[__NR_chdir] = OM_SC_FORWARD,
	[__NR_fchdir] = OM_SC_FORWARD,
	[__NR_rename] = OM_SC_FORWARD,
	[__NR_renameat] = OM_SC_FORWARD,
	[__NR_renameat2] = OM_SC_FORWARD,
	[__NR_mkdir] = OM_SC_FORWARD,
	[__NR_mkdirat] = OM_SC_FORWARD,
	[__NR_rmdir] = OM_SC_FORWARD,
	[__NR_creat] = OM_SC_FORWARD,
	[__NR_link] = OM_SC_FORWARD,
	[__NR_linkat] = OM_SC_FORWARD,
	[__NR_unlink] = OM_SC_FORWARD,
	[__NR_unlinkat] = OM_SC_FORWARD,
	[__NR_symlink] = OM_SC_FORWARD,
	[__NR_symlinkat] = OM_SC_FORWARD,
	[__NR_readlink] = OM_SC_FORWARD,
	[__NR_readlinkat] = OM_SC_FORWARD,
	[__NR_chmod] = OM_SC_FORWARD,
	[__NR_fchmod] = OM_SC_FORWARD,
	[__NR_fchmodat] = OM_SC_FORWARD,
	[__NR_chown] = OM_SC_FORWARD,
	[__NR_fchown] = OM_SC_FORWARD,
	[__NR_lchown] = OM_SC_FORWARD,
	[__NR_fchownat] = OM_SC_FORWARD,
	[__NR_umask] = OM_SC_FORWARD,
	[__NR_openat] = OM_SC_FORWARD,
	[__NR_newfstatat] = OM_SC_FORWARD,
	[__NR_statx] = OM_SC_FORWARD,
	[__NR_faccessat] = OM_SC_FORWARD,
	[__NR_faccessat2] = OM_SC_FORWARD,
	[__NR_utimensat] = OM_SC_FORWARD,
	[__NR_utime] = OM_SC_FORWARD,
	[__NR_utimes] = OM_SC_FORWARD,
	[__NR_futimesat] = OM_SC_FORWARD,
	[__NR_statfs] = OM_SC_FORWARD,
	[__NR_fstatfs] = OM_SC_FORWARD,
	[__NR_ioctl] = OM_SC_FORWARD,
	[__NR_ppoll] = OM_SC_FORWARD,
	[__NR_pselect6] = OM_SC_FORWARD,
	[__NR_sendfile] = OM_SC_FORWARD,
	[__NR_copy_file_range] = OM_SC_FORWARD,
	[__NR_splice] = OM_SC_FORWARD,
	[__NR_tee] = OM_SC_FORWARD,
	[__NR_fallocate] = OM_SC_FORWARD,
	[__NR_readahead] = OM_SC_FORWARD,
	[__NR_sync] = OM_SC_FORWARD,
	[__NR_syncfs] = OM_SC_FORWARD,
	[__NR_sync_file_range] = OM_SC_FORWARD,
	[__NR_fadvise64] = OM_SC_FORWARD,
	[__NR_close_range] = OM_SC_FORWARD,
	[__NR_socket] = OM_SC_FORWARD,
	[__NR_connect] = OM_SC_FORWARD,
	[__NR_accept] = OM_SC_FORWARD,
	[__NR_accept4] = OM_SC_FORWARD,
	[__NR_sendto] = OM_SC_FORWARD,
	[__NR_recvfrom] = OM_SC_FORWARD,
	[__NR_sendmsg] = OM_SC_FORWARD,
	[__NR_recvmsg] = OM_SC_FORWARD,
	[__NR_shutdown] = OM_SC_FORWARD,
	[__NR_bind] = OM_SC_FORWARD,
	[__NR_listen] = OM_SC_FORWARD,
	[__NR_getsockname] = OM_SC_FORWARD,
	[__NR_getpeername] = OM_SC_FORWARD,
	[__NR_socketpair] = OM_SC_FORWARD,
	[__NR_setsockopt] = OM_SC_FORWARD,
	[__NR_getsockopt] = OM_SC_FORWARD,
	[__NR_getppid] = OM_SC_FORWARD,
	[__NR_getpgrp] = OM_SC_FORWARD,
	[__NR_getpgid] = OM_SC_FORWARD,
	[__NR_setpgid] = OM_SC_FORWARD,
	[__NR_getsid] = OM_SC_FORWARD,
	[__NR_setsid] = OM_SC_FORWARD,
	[__NR_kill] = OM_SC_FORWARD,
	[__NR_tkill] = OM_SC_FORWARD,
	[__NR_tgkill] = OM_SC_FORWARD,
	[__NR_wait4] = OM_SC_FORWARD,
	[__NR_waitid] = OM_SC_FORWARD,
	[__NR_uname] = OM_SC_FORWARD,
	/* Home's uptime, loads and memory: what it saw before it left. */
	[__NR_sysinfo] = OM_SC_FORWARD,
	[__NR_alarm] = OM_SC_FORWARD,
	[__NR_setitimer] = OM_SC_ITIMER,
	[__NR_getitimer] = OM_SC_ITIMER,
	[__NR_sethostname] = OM_SC_FORWARD,
	[__NR_eventfd] = OM_SC_FORWARD,
	[__NR_eventfd2] = OM_SC_FORWARD,
	[__NR_epoll_create] = OM_SC_FORWARD,
	[__NR_epoll_create1] = OM_SC_FORWARD,
	[__NR_epoll_ctl] = OM_SC_FORWARD,
	[__NR_epoll_wait] = OM_SC_FORWARD,
	[__NR_epoll_pwait] = OM_SC_FORWARD,
	[__NR_epoll_pwait2] = OM_SC_FORWARD,
	[__NR_timerfd_create] = OM_SC_FORWARD,
	[__NR_timerfd_settime] = OM_SC_FORWARD,
	[__NR_timerfd_gettime] = OM_SC_FORWARD,
	[__NR_signalfd] = OM_SC_FORWARD,
	[__NR_signalfd4] = OM_SC_FORWARD,
	[__NR_setpriority] = OM_SC_PRIO,
	[__NR_chroot] = OM_SC_FORWARD,
};

/*
 * prctl() by option. Most act on the task or its memory where it runs. Its
 * parent's death and its orphans happen at home, to the deputy; ps and
 * /proc at home read the deputy's name and who may read it there, which
 * therefore change at both ends. What changes its credentials runs at
 * home, as capset() does, and so does PR_SET_MM (what /proc at home shows).
 */
static enum om_syscall_class om_prctl_class(unsigned long option, unsigned long arg2)
{
	switch (option) {
	case PR_SET_PDEATHSIG:
	case PR_GET_PDEATHSIG:
	case PR_SET_CHILD_SUBREAPER:
	case PR_GET_CHILD_SUBREAPER:
		return OM_SC_FORWARD;
	case PR_SET_NAME:
	case PR_SET_DUMPABLE:
		return OM_SC_BOTH;
	case PR_CAPBSET_DROP:
	case PR_SET_SECUREBITS:
	case PR_SET_KEEPCAPS:
	case PR_SET_MM:
		return OM_SC_HOME_FIRST;
	case PR_CAP_AMBIENT:
		return arg2 == PR_CAP_AMBIENT_IS_SET ? OM_SC_LOCAL : OM_SC_HOME_FIRST;
	default:
		return OM_SC_LOCAL;
	}
}

/**
 * om_syscall_class() - where a call of a process away from home runs
 * @nr: the call number
 * @args: its arguments (for calls whose place depends on them)
 *
 * Context: any.
 * Return: enum om_syscall_class.
 */
enum om_syscall_class om_syscall_class(long nr, const unsigned long args[6])
{
	enum om_syscall_class c;

	if (nr < 0 || nr >= ARRAY_SIZE(om_syscall_table))
		return OM_SC_HOME_FIRST;
	c = om_syscall_table[nr];
	if (c == OM_SC_PRCTL)
		return om_prctl_class(args[0], args[1]);
	if (c == OM_SC_PERSONALITY)
		/* Where it runs for its memory; at home for the calls run there (UNAME26). */
		return (unsigned int)args[0] == 0xffffffff ? OM_SC_LOCAL : OM_SC_BOTH;
	if (c == OM_SC_SIGACTION)
		/*
		 * Its children's deputies are the deputy's children: whether
		 * they are reaped unwaited (SIG_IGN, SA_NOCLDWAIT) and stops
		 * reported (SA_NOCLDSTOP) is decided there by SIGCHLD's action.
		 */
		return args[0] == SIGCHLD && args[1] ? OM_SC_BOTH : OM_SC_LOCAL;
	if (c == OM_SC_PRIO) {
		/* Process groups, users and other pids are home's. */
		if (args[0] != PRIO_PROCESS || args[1])
			return OM_SC_FORWARD;
		/* Its own nice rules where it runs; set, the deputy takes it too. */
		return nr == __NR_setpriority ? OM_SC_BOTH : OM_SC_LOCAL;
	}
	if (c == OM_SC_ITIMER)
		/* ITIMER_REAL counts wall time at home; the CPU-time ones count here. */
		return args[0] == ITIMER_REAL ? OM_SC_FORWARD : OM_SC_LOCAL;
	if (c == OM_SC_RUSAGE)
		return (int)args[0] == RUSAGE_CHILDREN ? OM_SC_FORWARD : OM_SC_LOCAL;
	if (c == OM_SC_PRLIMIT)
		/*
		 * Reading its own limits (glibc's getrlimit()) is local: they
		 * travel with it. Setting one rules its deputy's calls at home
		 * too (RLIMIT_NOFILE), and another pid is home's: home first.
		 */
		return !args[0] && !args[2] ? OM_SC_LOCAL : OM_SC_HOME_FIRST;
	if (c == OM_SC_FORK && nr == __NR_clone && !om_fork_away_flags(args[0]))
		/* Threads, vfork, namespaces, pidfds, tracing: at home. */
		return OM_SC_HOME_FIRST;
	if (c == OM_SC_MMAP)
		/*
		 * Anonymous private memory is the process's own; a private
		 * mapping of a file of home maps its copy here; a shared one
		 * is made at home.
		 */
		return (args[3] & MAP_TYPE) != MAP_PRIVATE ? OM_SC_HOME_FIRST :
		       args[3] & MAP_ANONYMOUS ? OM_SC_LOCAL : OM_SC_MMAP_FILE;
	return c;
}
