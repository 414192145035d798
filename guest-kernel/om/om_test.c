// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the engine's pure logic: where-writes, the system call
 * table, the checks of an arriving process's MIG_BEGIN, what another
 * node's CPU lacks, home's /proc status and stat of a process away, and
 * what a deputy writes back of the ranges a call fills, which writes go
 * behind, and the batches of pages a call's messages carry.
 */
#include <kunit/test.h>
#include <linux/prctl.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/mman.h>
#include <linux/mmu_notifier.h>
#include <linux/om.h>
#include <linux/sched/mm.h>
#include <linux/resource.h>
#include <linux/mutex.h>
#include <linux/futex.h>
#include <linux/time.h>
#include <linux/slab.h>
#include <asm/unistd.h>

#include "migrate.h"
#include "../futex/futex.h"

static void om_test_where(struct kunit *test)
{
	u32 node = 99;

	KUNIT_EXPECT_EQ(test, om_parse_where("home", 4, &node), 0);
	KUNIT_EXPECT_EQ(test, node, 0u);
	KUNIT_EXPECT_EQ(test, om_parse_where("home\n", 5, &node), 0);
	KUNIT_EXPECT_EQ(test, om_parse_where("2\n", 2, &node), 0);
	KUNIT_EXPECT_EQ(test, node, 2u);
	KUNIT_EXPECT_EQ(test, om_parse_where("1024", 4, &node), 0);
	KUNIT_EXPECT_EQ(test, node, 1024u);
	node = 7;
	KUNIT_EXPECT_EQ(test, om_parse_where("", 0, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("\n", 1, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("abc", 3, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("-1", 2, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("+2", 2, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("0", 1, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("1025", 4, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("2 ", 2, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("2\n\n", 3, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("homex", 5, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("99999999999999999", 17, &node), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_parse_where("00000000000000002", 17, &node), -EINVAL);
	/* A refused write changes nothing. */
	KUNIT_EXPECT_EQ(test, node, 7u);
}

static void om_test_syscall_class(struct kunit *test)
{
	static const unsigned long anon[6] = { 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
					       -1UL, 0 };
	static const unsigned long file[6] = { 0, 4096, PROT_READ, MAP_PRIVATE, 3, 0 };
	static const unsigned long shared[6] = { 0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS,
						 -1UL, 0 };
	static const unsigned long file_shared[6] = { 0, 4096, PROT_READ, MAP_SHARED, 3, 0 };
	static const unsigned long fork_like[6] = { CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
						    SIGCHLD };
	static const unsigned long vfork_like[6] = { CLONE_VM | CLONE_VFORK | SIGCHLD, 0x1000 };
	static const unsigned long pr_get_name[6] = { PR_GET_NAME, 0x1000 };
	static const unsigned long pr_set_name[6] = { PR_SET_NAME, 0x1000 };
	static const unsigned long pr_pdeathsig[6] = { PR_SET_PDEATHSIG, SIGUSR1 };
	static const unsigned long pr_capbset_drop[6] = { PR_CAPBSET_DROP, 13 };
	static const unsigned long pr_ambient_is_set[6] = { PR_CAP_AMBIENT,
							    PR_CAP_AMBIENT_IS_SET, 13 };
	static const unsigned long pr_ambient_raise[6] = { PR_CAP_AMBIENT,
							   PR_CAP_AMBIENT_RAISE, 13 };
	static const unsigned long personality_read[6] = { 0xffffffff };
	static const unsigned long sigchld_set[6] = { SIGCHLD, 0x1000, 0, 8 };
	static const unsigned long sigchld_get[6] = { SIGCHLD, 0, 0x1000, 8 };
	static const unsigned long sigusr1_set[6] = { SIGUSR1, 0x1000, 0, 8 };
	static const unsigned long prio_self[6] = { PRIO_PROCESS, 0, 7 };
	static const unsigned long prio_pgrp[6] = { PRIO_PGRP, 0 };
	static const unsigned long prio_other[6] = { PRIO_PROCESS, 42, 7 };
	static const unsigned long thread[6] = { CLONE_VM | CLONE_FS | CLONE_FILES |
						 CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
						 CLONE_SETTLS };
	static const unsigned long vm_only[6] = { CLONE_VM | SIGCHLD };
	static const unsigned long new_ns[6] = { CLONE_NEWNS | SIGCHLD };
	static const unsigned long pidfd[6] = { CLONE_PIDFD | SIGCHLD };
	static const unsigned long none[6] = {};
	static const unsigned long itimer_virt[6] = { ITIMER_VIRTUAL };
	static const unsigned long itimer_prof[6] = { ITIMER_PROF };
	static const unsigned long children[6] = { (unsigned long)RUSAGE_CHILDREN };
	static const unsigned long prlimit_set[6] = { 0, RLIMIT_NOFILE, 0x1000, 0 };
	static const unsigned long prlimit_other[6] = { 42, RLIMIT_NOFILE, 0, 0x1000 };

	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_read, none), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_write, none), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_openat, none), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getppid, none), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getpid, none), OM_SC_PID);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_gettid, none), OM_SC_PID);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_brk, none), OM_SC_LOCAL);
	/* The children's usage is home's, where they are reaped. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getrusage, none), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getrusage, children), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_times, none), OM_SC_TIMES);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigreturn, none), OM_SC_LOCAL);
	/* Run here, the mask told home when a signalfd there reads it. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigprocmask, none), OM_SC_SIGMASK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigsuspend, none), OM_SC_SIGMASK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigtimedwait, none), OM_SC_SIGMASK);
	/* Its own limits read here (glibc's getrlimit), set at home. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prlimit64, none), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prlimit64, prlimit_set), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prlimit64, prlimit_other), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_exit_group, none), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_mmap, anon), OM_SC_LOCAL);
	/* A private file mapping maps home's file's copy here; a shared one is home's. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_mmap, file), OM_SC_MMAP_FILE);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_mmap, shared), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_mmap, file_shared), OM_SC_HOME_FIRST);
	/* Children are born where the process runs; threads and namespaces at home. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_fork, none), OM_SC_FORK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_vfork, none), OM_SC_FORK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone3, none), OM_SC_FORK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone, fork_like), OM_SC_FORK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone, vfork_like), OM_SC_FORK);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone, thread), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone, vm_only), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone, new_ns), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_clone, pidfd), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_execve, none), OM_SC_EXEC);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_execveat, none), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_sysinfo, none), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_ptrace, none), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_setuid, none), OM_SC_HOME_FIRST);
	/* ITIMER_REAL counts wall time at home; the CPU-time timers count here. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_setitimer, none), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_setitimer, itimer_virt), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getitimer, itimer_prof), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_restart_syscall, none), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rseq, none), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_ppoll, none), OM_SC_FORWARD);
	/* prctl by option: its task here, its parent and /proc at home, its credentials. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prctl, pr_get_name), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prctl, pr_set_name), OM_SC_BOTH);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prctl, pr_pdeathsig), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prctl, pr_capbset_drop), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prctl, pr_ambient_is_set), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_prctl, pr_ambient_raise), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_personality, none), OM_SC_BOTH);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_personality, personality_read), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigaction, sigchld_set), OM_SC_BOTH);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigaction, sigchld_get), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_rt_sigaction, sigusr1_set), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getpriority, prio_self), OM_SC_LOCAL);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_setpriority, prio_self), OM_SC_BOTH);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_getpriority, prio_pgrp), OM_SC_FORWARD);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_setpriority, prio_other), OM_SC_FORWARD);
	/* Numbers the table does not know go home first. */
	KUNIT_EXPECT_EQ(test, om_syscall_class(-1, none), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(__NR_syscalls, none), OM_SC_HOME_FIRST);
	KUNIT_EXPECT_EQ(test, om_syscall_class(100000, none), OM_SC_HOME_FIRST);
}

static void om_test_begin(struct kunit *test)
{
	size_t xs = 1024, len = sizeof(struct virtio_om_mig_begin) + xs;
	struct virtio_om_mig_begin *b = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	BUILD_BUG_ON(sizeof(*b) != VIRTIO_OM_MIG_BEGIN_SIZE);
	b->arch = cpu_to_le32(om_arch_id());
	b->xstate_size = cpu_to_le32(xs);
	b->nice = cpu_to_le32(20);
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len - 1, xs));
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs + 64));
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, 0));
	b->arch = cpu_to_le32(77);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	b->arch = cpu_to_le32(om_arch_id());
	b->flags = cpu_to_le32(VIRTIO_OM_MIG_F_ALL + 1);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	b->flags = 0;
	b->ngroups = cpu_to_le32(VIRTIO_OM_MIG_GROUPS + 1);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	b->ngroups = 0;
	memset(b->comm, 'x', sizeof(b->comm));
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	b->comm[15] = '\0';
	b->reserved2[3] = 1;
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	b->reserved2[3] = 0;
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	b->mm_flags = cpu_to_le32(VIRTIO_OM_MIG_MM_ALL);
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	b->mm_flags = cpu_to_le32(VIRTIO_OM_MIG_MM_ALL + 1);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	/* PR_MDWE_NO_INHERIT without MDWE is no state prctl() makes. */
	b->mm_flags = cpu_to_le32(VIRTIO_OM_MIG_MM_MDWE_NO_INHERIT);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	b->mm_flags = 0;
	b->flags = cpu_to_le32(VIRTIO_OM_MIG_F_ALL);
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	b->flags = 0;
}

/* A restart block from another node: only what this kernel can go on with. */
static void om_test_restart(struct kunit *test)
{
	size_t xs = 1024, len = sizeof(struct virtio_om_mig_begin) + xs;
	struct virtio_om_mig_begin *b = kunit_kzalloc(test, len, GFP_KERNEL);
	struct virtio_om_mig_restart *r;

	KUNIT_ASSERT_NOT_NULL(test, b);
	r = &b->restart;
	b->arch = cpu_to_le32(om_arch_id());
	b->xstate_size = cpu_to_le32(xs);
	b->nice = cpu_to_le32(20);
	r->kind = cpu_to_le32(VIRTIO_OM_RESTART_NANOSLEEP);
	r->clockid = cpu_to_le32(CLOCK_MONOTONIC);
	r->type = cpu_to_le32(TT_NATIVE);
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	r->type = cpu_to_le32(TT_COMPAT);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	r->type = cpu_to_le32(TT_NONE);
	r->clockid = cpu_to_le32(CLOCK_PROCESS_CPUTIME_ID);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	r->kind = cpu_to_le32(VIRTIO_OM_RESTART_FUTEX);
	r->clockid = cpu_to_le32(CLOCK_MONOTONIC);
	r->type = cpu_to_le32(FLAGS_HAS_TIMEOUT | FLAGS_SIZE_32);
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	/* A realtime wait says so in its flags, a monotonic one does not. */
	r->clockid = cpu_to_le32(CLOCK_REALTIME);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	r->type = cpu_to_le32(FLAGS_HAS_TIMEOUT | FLAGS_CLOCKRT);
	KUNIT_EXPECT_TRUE(test, om_begin_valid(b, len, xs));
	/* A shared futex's word is not the process's own memory. */
	r->type = cpu_to_le32(FLAGS_HAS_TIMEOUT | FLAGS_CLOCKRT | FLAGS_SHARED);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	r->kind = cpu_to_le32(VIRTIO_OM_RESTART_AT_HOME + 1);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
	r->kind = cpu_to_le32(VIRTIO_OM_RESTART_AT_HOME);
	r->reserved = cpu_to_le32(1);
	KUNIT_EXPECT_FALSE(test, om_begin_valid(b, len, xs));
}

/* What a destination's CPU lacks: user instruction sets, XSAVE layout. */
static void om_test_cpu_lacks(struct kunit *test)
{
	struct virtio_om_cpu_info here = {}, there;
	char why[96];

	here.arch = cpu_to_le32(om_arch_id());
	here.words[0] = cpu_to_le32(BIT(20));		/* 1.ECX: sse4_2 */
	here.words[2] = cpu_to_le32(BIT(5) | BIT(8));	/* 7.0.EBX: avx2, bmi2 */
	here.xfeatures = cpu_to_le64(7);
	there = here;
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&here, &there, why, sizeof(why)), 0);
	KUNIT_EXPECT_STREQ(test, why, "");
	there.words[0] = 0;
	there.words[2] = cpu_to_le32(BIT(8));
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&here, &there, why, sizeof(why)), 2);
	KUNIT_EXPECT_STREQ(test, why, "sse4_2 avx2");
	/* More there is no matter. */
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&there, &here, why, sizeof(why)), 0);
	/* A bit of no user instruction (1.ECX 31: a hypervisor) is not compared. */
	there = here;
	here.words[0] |= cpu_to_le32(BIT(31));
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&here, &there, why, sizeof(why)), 0);
	/* The XSAVE layouts must agree both ways. */
	there.xfeatures = cpu_to_le64(3);
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&here, &there, why, sizeof(why)), 1);
	KUNIT_EXPECT_STREQ(test, why, "xstate:2");
	there.xfeatures = cpu_to_le64(0xf);
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&here, &there, why, sizeof(why)), 1);
	KUNIT_EXPECT_STREQ(test, why, "+xstate:3");
	/* A short buffer is cut; the count is whole. */
	there = here;
	there.words[0] = 0;
	there.words[2] = 0;
	KUNIT_EXPECT_EQ(test, om_arch_cpu_lacks(&here, &there, why, 8), 3);
	KUNIT_EXPECT_LT(test, strlen(why), (size_t)8);
}

static void om_test_proc_status(struct kunit *test)
{
	static const char home[] = "Name:\tom-compute\nUmask:\t0022\nState:\tS (sleeping)\n"
				   "Tgid:\t120\nPid:\t120\nPPid:\t99\nFDSize:\t64\n"
				   "VmRSS:\t      4 kB\nSigBlk:\t0000000000000000\n";
	static const char there[] = "Name:\tcrunch\nUmask:\t0077\nState:\tR (running)\n"
				    "Tgid:\t57\nPid:\t57\nPPid:\t2\nFDSize:\t4\n"
				    "VmRSS:\t   8192 kB\nSigBlk:\t0000000000010000\n";
	static const char want[] = "Name:\tcrunch\nUmask:\t0022\nState:\tR (running)\n"
				   "Tgid:\t120\nPid:\t120\nPPid:\t99\nFDSize:\t64\n"
				   "VmRSS:\t   8192 kB\nSigBlk:\t0000000000010000\n";
	char out[sizeof(home) + sizeof(there)];
	ssize_t n;

	n = om_proc_merge_status(home, strlen(home), there, strlen(there), out, sizeof(out));
	KUNIT_ASSERT_EQ(test, n, (ssize_t)strlen(want));
	KUNIT_EXPECT_MEMEQ(test, out, want, n);
	/* A home key home does not have is left out; a last line without '\n' gets one. */
	n = om_proc_merge_status("Name:\tx\n", 8, "Pid:\t5\nState:\tR", 15, out, sizeof(out));
	KUNIT_ASSERT_EQ(test, n, 9);
	KUNIT_EXPECT_MEMEQ(test, out, "State:\tR\n", 9);
	KUNIT_EXPECT_EQ(test, om_proc_merge_status(home, strlen(home), there, strlen(there), out,
						   10), -ENOSPC);
}

/* A stat line of 52 fields: field i is @base + i, the comm field 2. */
static char *t_stat_line(struct kunit *test, const char *comm, int base, const char *pick,
			 int other)
{
	char *line = kunit_kzalloc(test, 512, GFP_KERNEL);
	int i, n = 0;

	KUNIT_ASSERT_NOT_NULL(test, line);
	for (i = 1; i <= 52; i++) {
		/* With @pick: field i from the other line where pick[i - 1] is 't'. */
		int from = pick && pick[i - 1] == 't' ? other : base;

		if (i == 2)
			n += scnprintf(line + n, 512 - n, " %s", from == base ? comm : "(c) d)");
		else
			n += scnprintf(line + n, 512 - n, "%s%d", i > 1 ? " " : "", from + i);
	}
	scnprintf(line + n, 512 - n, "\n");
	return line;
}

static void om_test_proc_stat(struct kunit *test)
{
	/*
	 * Field by field, where it comes from: h home, t the node the process
	 * runs on. The addresses (26-30, 35, 45-51) only for a reader who may
	 * ptrace the process.
	 */
	static const char hidden[] = "htthhhhhtththtthhtttthtthhhhhhtttthtthhtttthhhhhhhhh";
	static const char shown[] = "htthhhhhtththtthhtttthtthtttttttttttthhtttthttttttth";
	char *home = t_stat_line(test, "(a b))", 1000, NULL, 0);
	char *there = t_stat_line(test, "(c) d)", 2000, NULL, 0);
	char *want = t_stat_line(test, "(a b))", 1000, hidden, 2000);
	char out[512];
	ssize_t n;

	KUNIT_ASSERT_EQ(test, strlen(hidden), (size_t)52);
	KUNIT_ASSERT_EQ(test, strlen(shown), (size_t)52);
	n = om_proc_merge_stat(home, strlen(home), there, strlen(there), false, out, sizeof(out));
	KUNIT_ASSERT_EQ(test, n, (ssize_t)strlen(want));
	KUNIT_EXPECT_MEMEQ(test, out, want, n);
	want = t_stat_line(test, "(a b))", 1000, shown, 2000);
	n = om_proc_merge_stat(home, strlen(home), there, strlen(there), true, out, sizeof(out));
	KUNIT_ASSERT_EQ(test, n, (ssize_t)strlen(want));
	KUNIT_EXPECT_MEMEQ(test, out, want, n);
	/* Not a stat line, or fields that do not match: nothing is made up. */
	KUNIT_EXPECT_EQ(test, om_proc_merge_stat(home, strlen(home), "57 R 2", 6, true, out,
						 sizeof(out)), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_proc_merge_stat(home, strlen(home), "57 (x) R 2\n", 11, true,
						 out, sizeof(out)), -EINVAL);
	KUNIT_EXPECT_EQ(test, om_proc_merge_stat(home, strlen(home), there, strlen(there), true,
						 out, 40), -ENOSPC);
}

/* A readv's ranges fill in order: what each page of them gets back. */
static void om_test_filled_end(struct kunit *test)
{
	struct om_proc *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	unsigned long a = 0x10000, b = 0x40000;

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->fill[0].addr = a + 100;	/* pages a+4K, a+8K wholly inside */
	p->fill[0].len = 3 * PAGE_SIZE;
	p->fill[1].addr = b;		/* pages b, b+4K */
	p->fill[1].len = 2 * PAGE_SIZE;
	p->nr_fill = 2;
	/* Nothing read, or an error: nothing written back. */
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, a + PAGE_SIZE, 0), a + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, b, -EFAULT), b);
	/* Into the first range's second page: its start, none of the next range. */
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, a + PAGE_SIZE, PAGE_SIZE),
			a + 100 + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, a + 2 * PAGE_SIZE, PAGE_SIZE),
			a + 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, b, PAGE_SIZE), b);
	/* The first range whole, then 100 bytes of the second. */
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, a + 2 * PAGE_SIZE, 3 * PAGE_SIZE + 100),
			a + 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, b, 3 * PAGE_SIZE + 100), b + 100);
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, b + PAGE_SIZE, 3 * PAGE_SIZE + 100),
			b + PAGE_SIZE);
	/* More than both hold (a bad result): no page past its own end. */
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, b + PAGE_SIZE, 100 * PAGE_SIZE),
			b + 2 * PAGE_SIZE);
	/* A page in no range: nothing. */
	KUNIT_EXPECT_EQ(test, om_deputy_filled_end(p, 0x80000, 100 * PAGE_SIZE), 0x80000UL);
}

/* The seqs of @n calls behind from @seq, the window wrapping at its end. */
static void om_test_behind_out(struct om_proc *p, u64 seq, unsigned int n)
{
	unsigned int i;

	p->behind_first = OM_BEHIND_WINDOW - 1;
	for (i = 0; i < n; i++)
		p->behind_seqs[(p->behind_first + i) % OM_BEHIND_WINDOW] = seq + i;
	p->behind_out = n;
}

/* Which writes a process away may send behind, as answers and calls come. */
static void om_test_behind(struct kunit *test)
{
	struct om_proc *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	struct virtio_om_syscall_ret yes = { .flags = cpu_to_le32(VIRTIO_OM_SYSCALL_RET_F_BEHIND) };
	struct virtio_om_syscall_ret no = {};
	unsigned long w5[6] = { 5, 0, 4096 }, w7[6] = { 7, 0, 4096 }, none[6] = { 5, 0, 0 };
	unsigned long dup[6] = { 3, 5 }, close7[6] = { 7 }, setfl[6] = { 5, F_SETFL };
	unsigned long lock[6] = { 5, F_SETLK }, big[6] = { OM_BEHIND_FDS, 0, 4096 };

	KUNIT_ASSERT_NOT_NULL(test, p);
	/* Nothing known yet: every write waits. */
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w5));
	/* A whole write whose file may: the next to that descriptor goes behind. */
	om_behind_answered(p, __NR_write, w5, &yes);
	om_behind_answered(p, __NR_pwrite64, w7, &yes);
	KUNIT_EXPECT_TRUE(test, om_behind_may(p, __NR_write, w5));
	KUNIT_EXPECT_TRUE(test, om_behind_may(p, __NR_pwrite64, w5));
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_writev, w5));
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, none));
	/* A descriptor past the bitmap is never known. */
	om_behind_answered(p, __NR_write, big, &yes);
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, big));
	/* Calls that keep descriptors as they are change nothing; close forgets its own. */
	om_behind_before(p, __NR_fcntl, lock);
	om_behind_before(p, __NR_fsync, w5);
	om_behind_before(p, __NR_close, close7);
	KUNIT_EXPECT_TRUE(test, om_behind_may(p, __NR_write, w5));
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w7));
	/* fcntl(F_SETFL) and dup2 may change what a descriptor is: all wait. */
	om_behind_before(p, __NR_fcntl, setfl);
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w5));
	om_behind_answered(p, __NR_write, w5, &yes);
	om_behind_before(p, __NR_dup2, dup);
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w5));
	/* A whole write without the deputy's word: its descriptor waits. */
	om_behind_answered(p, __NR_write, w5, &yes);
	om_behind_answered(p, __NR_write, w5, &no);
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w5));
	/* Answers to writes behind: one fewer out each; a failed one stops all. */
	om_behind_answered(p, __NR_write, w5, &yes);
	om_behind_answered(p, __NR_write, w7, &yes);
	om_test_behind_out(p, 30, 2);
	KUNIT_EXPECT_TRUE(test, om_behind_done(p, 30, &yes));
	KUNIT_EXPECT_EQ(test, p->behind_out, 1u);
	KUNIT_EXPECT_TRUE(test, om_behind_may(p, __NR_write, w7));
	KUNIT_EXPECT_TRUE(test, om_behind_done(p, 31, &no));
	KUNIT_EXPECT_EQ(test, p->behind_out, 0u);
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w5));
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w7));
	/* An answer with none out changes no count. */
	KUNIT_EXPECT_FALSE(test, om_behind_done(p, 32, &yes));
	KUNIT_EXPECT_EQ(test, p->behind_out, 0u);
}

/* One answer for several calls behind (SYSCALL_RET calls): the oldest ones, in order. */
static void om_test_behind_answers(struct kunit *test)
{
	struct om_proc *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	struct virtio_om_syscall_ret three = {
		.flags = cpu_to_le32(VIRTIO_OM_SYSCALL_RET_F_BEHIND), .calls = cpu_to_le32(3),
	};
	struct virtio_om_syscall_ret two_failed = { .calls = cpu_to_le32(2) };
	unsigned long w5[6] = { 5, 0, 4096 };

	KUNIT_ASSERT_NOT_NULL(test, p);
	set_bit(5, p->behind_fds);
	om_test_behind_out(p, 100, 6);
	/* Three answered: the answer replies to the third. */
	KUNIT_EXPECT_FALSE(test, om_behind_done(p, 100, &three));
	KUNIT_EXPECT_FALSE(test, om_behind_done(p, 103, &three));
	KUNIT_EXPECT_EQ(test, p->behind_out, 6u);
	KUNIT_EXPECT_TRUE(test, om_behind_done(p, 102, &three));
	KUNIT_EXPECT_EQ(test, p->behind_out, 3u);
	KUNIT_EXPECT_EQ(test, p->behind_first, 2u);
	KUNIT_EXPECT_TRUE(test, om_behind_may(p, __NR_write, w5));
	/* More than are out is no answer of theirs. */
	three.calls = cpu_to_le32(4);
	KUNIT_EXPECT_FALSE(test, om_behind_done(p, 106, &three));
	KUNIT_EXPECT_EQ(test, p->behind_out, 3u);
	/* The last of two failed: both answered, and writes wait again. */
	KUNIT_EXPECT_TRUE(test, om_behind_done(p, 104, &two_failed));
	KUNIT_EXPECT_EQ(test, p->behind_out, 1u);
	KUNIT_EXPECT_FALSE(test, om_behind_may(p, __NR_write, w5));
	/* calls 0 is one. */
	two_failed.calls = 0;
	KUNIT_EXPECT_TRUE(test, om_behind_done(p, 105, &two_failed));
	KUNIT_EXPECT_EQ(test, p->behind_out, 0u);
}

/* Which lock commands' results are 0 before they run (a release behind). */
/* A delegation and its flushes come from a peer: each malformed field refused. */
static void om_test_deleg_valid(struct kunit *test)
{
	static const size_t page = sizeof(__le64) + PAGE_SIZE;
	struct virtio_om_deleg g = {
		.id = cpu_to_le32(7),
		.flags = cpu_to_le32(VIRTIO_OM_DELEG_F_READ | VIRTIO_OM_DELEG_F_WRITE),
		.size = cpu_to_le64(4096),
	};
	struct virtio_om_deleg bad;
	struct virtio_om_deleg_flush fh = { .id = cpu_to_le32(7) };
	size_t base = sizeof(fh);
	__le64 offs[2];

	KUNIT_EXPECT_TRUE(test, om_deleg_grant_valid(__NR_openat, 3, &g));
	KUNIT_EXPECT_TRUE(test, om_deleg_grant_valid(__NR_creat, 0, &g));
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_read, 3, &g));
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_openat, -2, &g));
	bad = g;
	bad.id = 0;
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_openat, 3, &bad));
	bad = g;
	bad.flags = 0;
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_openat, 3, &bad));
	bad.flags = cpu_to_le32(0x4);
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_openat, 3, &bad));
	bad = g;
	bad.size = cpu_to_le64(-1ll);
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_openat, 3, &bad));
	bad.size = cpu_to_le64(OM_DELEG_MAX_SIZE + 1);
	KUNIT_EXPECT_FALSE(test, om_deleg_grant_valid(__NR_openat, 3, &bad));

	/* Pages on their way, a last message, a return with its locks. */
	fh.count = cpu_to_le32(2);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base + 2 * page), 0);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base + 2 * page - 1), -EPROTO);
	fh.count = cpu_to_le32(OM_DELEG_FLUSH_PAGES + 1);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base + (OM_DELEG_FLUSH_PAGES + 1) * page),
			-EPROTO);
	fh.count = 0;
	fh.flags = cpu_to_le32(VIRTIO_OM_DELEG_FLUSH_F_LAST | VIRTIO_OM_DELEG_FLUSH_F_SYNC);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base), 0);
	fh.flags = cpu_to_le32(VIRTIO_OM_DELEG_FLUSH_F_SYNC);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base), -EPROTO);
	fh.flags = cpu_to_le32(VIRTIO_OM_DELEG_FLUSH_F_KEEP);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base), -EPROTO);
	fh.flags = cpu_to_le32(0x20);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base), -EPROTO);
	fh.nr_locks = cpu_to_le32(1);
	fh.flags = cpu_to_le32(VIRTIO_OM_DELEG_FLUSH_F_LAST);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base + VIRTIO_OM_DELEG_LOCK_SIZE), -EPROTO);
	fh.flags = cpu_to_le32(VIRTIO_OM_DELEG_FLUSH_F_RETURN | VIRTIO_OM_DELEG_FLUSH_F_KEEP);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base + VIRTIO_OM_DELEG_LOCK_SIZE), 0);
	/* Whole pages within what may be delegated. */
	offs[0] = cpu_to_le64(0);
	offs[1] = cpu_to_le64(OM_DELEG_MAX_SIZE - PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, om_deleg_offsets_valid(offs, 2));
	offs[1] = cpu_to_le64(100);
	KUNIT_EXPECT_FALSE(test, om_deleg_offsets_valid(offs, 2));
	offs[1] = cpu_to_le64(OM_DELEG_MAX_SIZE);
	KUNIT_EXPECT_FALSE(test, om_deleg_offsets_valid(offs, 2));
	fh.nr_locks = cpu_to_le32(OM_DELEG_LOCKS_MAX + 1);
	KUNIT_EXPECT_EQ(test, om_deleg_flush_valid(&fh, base + (OM_DELEG_LOCKS_MAX + 1) *
						    VIRTIO_OM_DELEG_LOCK_SIZE), -EPROTO);
}

static void om_test_behind_unlock(struct kunit *test)
{
	struct flock un = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 20 };
	struct flock fl;

	KUNIT_EXPECT_TRUE(test, om_behind_unlock_ok(F_SETLK, &un));
	KUNIT_EXPECT_TRUE(test, om_behind_unlock_ok(F_SETLKW, &un));
	KUNIT_EXPECT_TRUE(test, om_behind_unlock_ok(F_OFD_SETLK, &un));
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_GETLK, &un));
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETFL, &un));
	/* Up to the end of the file (length 0) from anywhere. */
	fl = un;
	fl.l_len = 0;
	fl.l_start = OFFSET_MAX;
	KUNIT_EXPECT_TRUE(test, om_behind_unlock_ok(F_SETLK, &fl));
	/* A lock taken, not released, may block or fail. */
	fl = un;
	fl.l_type = F_WRLCK;
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETLK, &fl));
	fl.l_type = F_RDLCK;
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETLK, &fl));
	/* What home may refuse (EINVAL, EOVERFLOW) or resolve by its file position. */
	fl = un;
	fl.l_whence = SEEK_CUR;
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETLK, &fl));
	fl = un;
	fl.l_start = -1;
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETLK, &fl));
	fl = un;
	fl.l_len = -5;
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETLK, &fl));
	fl = un;
	fl.l_start = OFFSET_MAX;
	fl.l_len = 1;
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_SETLK, &fl));
	/* An open file description's lock with a pid: EINVAL there. */
	fl = un;
	fl.l_pid = 7;
	KUNIT_EXPECT_TRUE(test, om_behind_unlock_ok(F_SETLK, &fl));
	KUNIT_EXPECT_FALSE(test, om_behind_unlock_ok(F_OFD_SETLK, &fl));
}

/* The kernel takes [@from, @to) pages of @base from @mm, as @event. */
static void om_test_take(struct mm_struct *mm, enum mmu_notifier_event event,
			 unsigned long base, unsigned long from, unsigned long to)
{
	struct mmu_notifier_range r;

	mmu_notifier_range_init(&r, event, 0, mm, base + from * PAGE_SIZE, base + to * PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&r);
	mmu_notifier_invalidate_range_end(&r);
}

/* A live move's log: writes, and takings as pages or ranges; where it is exact. */
static void om_test_dirty_log(struct kunit *test)
{
	const unsigned long base = 0x10000000, end = base + 16 * PAGE_SIZE;
	struct mm_struct *mm = mm_alloc(), *other = mm_alloc();
	struct om_dirty_log *log;
	unsigned long out[8], next;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, mm);
	KUNIT_ASSERT_NOT_NULL(test, other);
	log = om_dirty_log_start(mm);
	KUNIT_ASSERT_FALSE(test, IS_ERR(log));
	/* Write faults, two in one page; another mm's are not this log's. */
	om_write_fault(mm, base + 5 * PAGE_SIZE + 12);
	om_write_fault(mm, base + 5 * PAGE_SIZE);
	om_write_fault(mm, base + 2 * PAGE_SIZE);
	om_write_fault(other, base + 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_dirty_count(log, base, end), 2UL);
	KUNIT_EXPECT_TRUE(test, om_dirty_exact(log, base, end));
	/* In address order, at most as many as there is room for; taking empties it. */
	KUNIT_EXPECT_EQ(test, om_dirty_list(log, false, base, end, out, 1, &next, false), 1u);
	KUNIT_EXPECT_EQ(test, next, base + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_dirty_list(log, false, base, end, out, 8, &next, true), 2u);
	KUNIT_EXPECT_EQ(test, out[0], base + 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, out[1], base + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, next, end);
	KUNIT_EXPECT_EQ(test, om_dirty_count(log, base, end), 0UL);
	/* A small taking is kept page by page, and the log stays exact. */
	om_test_take(mm, MMU_NOTIFY_CLEAR, base, 1, 3);
	KUNIT_EXPECT_EQ(test, om_dirty_list(log, true, base, end, out, 8, &next, false), 2u);
	KUNIT_EXPECT_EQ(test, out[0], base + PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, om_dirty_exact(log, base, end));
	/* New protections or a migration keep the contents: nothing logged. */
	om_test_take(mm, MMU_NOTIFY_PROTECTION_VMA, base, 0, 16);
	om_test_take(mm, MMU_NOTIFY_MIGRATE, base, 8, 9);
	KUNIT_EXPECT_EQ(test, om_dirty_list(log, true, base, end, out, 8, &next, false), 2u);
	/* A large one is a range: not exact where it is, exact elsewhere. */
	om_test_take(mm, MMU_NOTIFY_UNMAP, base, 100, 200);
	KUNIT_EXPECT_FALSE(test, om_dirty_exact(log, base + 150 * PAGE_SIZE,
						base + 300 * PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, om_dirty_exact(log, base, base + 100 * PAGE_SIZE));
	/* Touching ranges are one; past eight, none is exact, even after a walk. */
	om_test_take(mm, MMU_NOTIFY_CLEAR, base, 200, 300);
	KUNIT_EXPECT_EQ(test, log->nr_ranges, 1u);
	for (i = 0; i < 8; i++)
		om_test_take(mm, MMU_NOTIFY_CLEAR, base, 1000 + 200 * i, 1100 + 200 * i);
	KUNIT_EXPECT_FALSE(test, om_dirty_exact(log, base, end));
	om_dirty_forget_written(log, true);
	KUNIT_EXPECT_FALSE(test, om_dirty_exact(log, base, end));
	om_dirty_log_stop(log);
	mmput(other);
	mmput(mm);
}

/* A message of @type with @len bytes of @payload, as from node 2. */
static struct om_kcom_msg *om_test_msg(struct kunit *test, u16 type, const void *payload, u32 len)
{
	struct om_kcom_hdr h = { .type = type, .src_node = 2, .len = len };
	struct om_kcom_msg *m = om_kcom_msg_build(&h, payload, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	return m;
}

/*
 * A batch of pages inside a SYSCALL (F_PAGES: its header and addresses
 * after the struct, F_OUT's range next, the pages last) and alone (a
 * MEM_PUSH, nothing else in it): what om_mem_push_parse() takes and refuses.
 */
static void om_test_push_parse(struct kunit *test)
{
	const size_t sc = sizeof(struct virtio_om_syscall), hdr = VIRTIO_OM_MEM_PUSH_SIZE;
	const size_t len = sc + hdr + 2 * 8 + VIRTIO_OM_SYSCALL_OUT_SIZE + 2 * PAGE_SIZE;
	u8 *buf = kunit_kzalloc(test, len, GFP_KERNEL);
	struct virtio_om_mem_push *m = (void *)(buf + sc);
	__le64 *a = (void *)(buf + sc + hdr), addrs[VIRTIO_OM_MEM_PUSH_MAX];
	struct om_kcom_msg *msg;
	u32 writable;
	u8 c;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	m->count = cpu_to_le32(2);
	m->writable = cpu_to_le32(2);
	a[0] = cpu_to_le64(0x400000);
	a[1] = cpu_to_le64(0x7ff000);
	buf[len - 2 * PAGE_SIZE] = 0xa1;
	buf[len - PAGE_SIZE] = 0xb2;
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), 2);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(addrs[1]), 0x7ff000ull);
	KUNIT_EXPECT_EQ(test, writable, 2u);
	/* The pages are the message's last: the second page's first byte. */
	om_kcom_msg_copy(msg, len - PAGE_SIZE, &c, 1);
	KUNIT_EXPECT_EQ(test, c, 0xb2);
	/* With the range after the addresses, it is not the batch alone. */
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, true, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);

	/* Too short for the pages it counts. */
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len - PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);

	/* A count of 0 or past VIRTIO_OM_MEM_PUSH_MAX, a writable bit past it. */
	m->count = 0;
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
	m->count = cpu_to_le32(VIRTIO_OM_MEM_PUSH_MAX + 1);
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
	m->count = cpu_to_le32(2);
	m->writable = cpu_to_le32(4);
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
	m->writable = 0;

	/* Addresses: not page-aligned, the zero page, past user space. */
	a[1] = cpu_to_le64(0x7ff010);
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
	a[1] = 0;
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
	a[1] = cpu_to_le64(TASK_SIZE);
	msg = om_test_msg(test, VIRTIO_OM_T_SYSCALL, buf, len);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, sc, false, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
	a[1] = cpu_to_le64(0x7ff000);

	/* A MEM_PUSH of one page: exactly header, address and page. */
	m->count = cpu_to_le32(1);
	msg = om_test_msg(test, VIRTIO_OM_T_MEM_PUSH, m, hdr + 8 + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, 0, true, addrs, &writable), 1);
	om_kcom_msg_free(msg);
	msg = om_test_msg(test, VIRTIO_OM_T_MEM_PUSH, m, hdr + 8 + PAGE_SIZE + 1);
	KUNIT_EXPECT_EQ(test, om_mem_push_parse(msg, 0, true, addrs, &writable), -EPROTO);
	om_kcom_msg_free(msg);
}

static struct kunit_case om_test_cases[] = {
	KUNIT_CASE(om_test_where),
	KUNIT_CASE(om_test_syscall_class),
	KUNIT_CASE(om_test_begin),
	KUNIT_CASE(om_test_restart),
	KUNIT_CASE(om_test_cpu_lacks),
	KUNIT_CASE(om_test_proc_status),
	KUNIT_CASE(om_test_proc_stat),
	KUNIT_CASE(om_test_filled_end),
	KUNIT_CASE(om_test_behind),
	KUNIT_CASE(om_test_behind_answers),
	KUNIT_CASE(om_test_behind_unlock),
	KUNIT_CASE(om_test_deleg_valid),
	KUNIT_CASE(om_test_dirty_log),
	KUNIT_CASE(om_test_push_parse),
	{}
};

static struct kunit_suite om_test_suite = {
	.name = "omvm-engine",
	.test_cases = om_test_cases,
};

kunit_test_suite(om_test_suite);
