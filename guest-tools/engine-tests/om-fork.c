// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-fork: children born away. The process moves itself to NODE, forks
 * there, and checks that its children are born and run at NODE (their
 * deputies at home say so), that it never went home for the forks, and
 * that everything a parent sees of its children is as on one machine:
 * exit codes, death by a signal with the core-dump flag (the core at home,
 * in its cwd there), SIGCHLD, CPU time in wait4's usage, memory copied not
 * shared, an orphan's new parent, a child moved on its own to OTHER, a
 * child brought home asleep (its sleep goes on), vfork and posix_spawn
 * (clone3) with an exec away and sharing their parent's memory, and
 * a program exec'd away named as at home (AT_EXECFN, its name, its exe),
 * and an exec that changes the caller's credentials run at home.
 *
 *   om-fork away NODE OTHER
 *   om-fork named PATH      (exec'd by the above)
 *   om-fork creds           (exec'd by the above, its credentials changed by exec)
 *   om-fork unanswered NODE a fork at NODE whose answer home never sends
 *                           (armed by the test: fault fork-lost at home,
 *                           fork_timeout_ms shortened at NODE)
 *   om-fork late NODE       the same, its answer sent after NODE gave up
 *                           (fault fork-late at home): dropped there
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "probe.h"
#include "where.h"

extern char **environ;

static volatile sig_atomic_t sigchld_seen;

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld_seen++;
}

/* Move to @node and check we are there. */
static void go(const char *node)
{
	char why[128];

	CHECK(!om_go(node, why, sizeof(why)), "%s", why);
}

/*
 * A child that exits at once leaves a grandchild, which waits to be
 * orphaned and writes its new parent's pid to fd.
 */
static void orphan_maker(int fd)
{
	pid_t first = getpid(), g = fork();

	if (g < 0)
		_exit(2);
	if (g) {
		_exit(0);
	}
	for (int i = 0; i < 500 && getppid() == first; i++)
		usleep(10000);
	dprintf(fd, "%d\n", (int)getppid());
	_exit(0);
}

/* The pid an orphan gets as its parent here, read from the pipe. */
static pid_t orphan_parent(void)
{
	char buf[32] = "";
	int p[2], status;
	pid_t c;
	ssize_t n;

	if (pipe(p))
		return -1;
	c = fork();
	if (!c) {
		close(p[0]);
		orphan_maker(p[1]);
	}
	close(p[1]);
	CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the orphan maker: %s", strerror(errno));
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	return n > 0 ? (pid_t)atoi(buf) : -1;
}

static int test_away(const char *node, const char *other)
{
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	struct rlimit core = { RLIM_INFINITY, RLIM_INFINITY };
	static char shared[4096] = "parent's";
	char coredir[64], corefile[80];
	struct stat st;
	long calls, forks;
	pid_t orphan_home, orphan_away, c;
	struct rusage ru;
	char now[32];
	int status, err;

	/* The reference: an orphan's new parent when all of it runs here. */
	orphan_home = orphan_parent();
	/* Limits travel with the process: children dump core wherever they run. */
	setrlimit(RLIMIT_CORE, &core);
	sigaction(SIGCHLD, &sa, NULL);
	go(node);
	calls = om_debug_count(0, "home_calls");
	forks = om_debug_count(0, "forks");

	/* An exit code, the child's CPU time, and where it ran. */
	c = fork();
	if (!c) {
		strcpy(shared, "child's");
		om_spin(1.5);
		_exit(strcmp(shared, "child's") ? 1 : 7);
	}
	CHECK(c > 0, "fork: %s", strerror(errno));
	om_where_now(c, now, sizeof(now));
	CHECK(!strcmp(now, node), "the child runs at %s, not %s", now, node);
	printf("child %d born at %s\n", (int)c, now);
	om_where_now(getpid(), now, sizeof(now));
	CHECK(!strcmp(now, node), "after fork the parent is at %s, not %s", now, node);
	CHECK(wait4(c, &status, 0, &ru) == c, "wait4: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "exit status %#x, not 7", status);
	CHECK(!strcmp(shared, "parent's"), "the child's write reached the parent: %s", shared);
	CHECK(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec >= 1,
	      "wait4 charges the child's CPU time: %ld.%06ld s user",
	      (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	printf("exit 7, %ld.%03ld s user\n", (long)ru.ru_utime.tv_sec,
	       (long)ru.ru_utime.tv_usec / 1000);
	CHECK(sigchld_seen > 0, "no SIGCHLD reached the parent");

	/* Killed by a signal it sent itself (kill runs at home). */
	c = fork();
	if (!c) {
		kill(getpid(), SIGTERM);
		pause();
		_exit(1);
	}
	CHECK(waitpid(c, &status, 0) == c, "waitpid: %s", strerror(errno));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM && !WCOREDUMP(status),
	      "status %#x, not killed by SIGTERM", status);

	/* Killed by its parent. */
	c = fork();
	if (!c) {
		for (;;)
			pause();
	}
	usleep(200000);
	CHECK(!kill(c, SIGKILL), "kill: %s", strerror(errno));
	CHECK(waitpid(c, &status, 0) == c, "waitpid: %s", strerror(errno));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x, not SIGKILL",
	      status);

	/*
	 * A crash with a core dump: the flag reaches the parent, and the core
	 * is at home, in the child's cwd there (every path below is home's).
	 */
	snprintf(coredir, sizeof(coredir), "/tmp/om-fork-core.%d", (int)getpid());
	CHECK(!mkdir(coredir, 0700), "mkdir %s: %s", coredir, strerror(errno));
	c = fork();
	if (!c) {
		if (chdir(coredir))
			_exit(1);
		abort();
	}
	CHECK(waitpid(c, &status, 0) == c, "waitpid: %s", strerror(errno));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && WCOREDUMP(status),
	      "status %#x, not SIGABRT with a core dump", status);
	snprintf(corefile, sizeof(corefile), "%s/core", coredir);
	CHECK(!stat(corefile, &st) && st.st_size > 0, "no core at home in the child's cwd (%s): %s",
	      corefile, strerror(errno));
	unlink(corefile);
	rmdir(coredir);
	printf("signals: SIGTERM, SIGKILL, SIGABRT (core dumped at home) reach the parent\n");

	/* Orphans: reparented at home as they would be with nothing moved. */
	orphan_away = orphan_parent();
	CHECK(orphan_away == orphan_home && orphan_away > 0,
	      "an orphan born away gets parent %d, at home %d", (int)orphan_away,
	      (int)orphan_home);
	printf("an orphan's new parent: %d (%d with nothing moved)\n", (int)orphan_away,
	       (int)orphan_home);

	/* A child moved on its own. */
	c = fork();
	if (!c) {
		om_spin(4);
		_exit(9);
	}
	usleep(300000);
	err = om_where_write(c, other);
	CHECK(!err, "moving the child to %s: %s", other, strerror(-err));
	for (int i = 0; i < 100; i++) {
		om_where_now(c, now, sizeof(now));
		if (!strcmp(now, other))
			break;
		usleep(50000);
	}
	CHECK(!strcmp(now, other), "the child moved to %s, where says %s", other, now);
	printf("a child moved on its own to %s\n", now);
	CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 9,
	      "the moved child: status %#x", status);

	/*
	 * A child brought home while it sleeps (nanosleep, run where it is):
	 * its sleep goes on at home, restarted as after any move, and lasts
	 * what it asked (its first homecoming is its deputy's first return).
	 */
	{
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		c = fork();
		if (!c) {
			struct timespec nap = { 2, 0 };
			int r = nanosleep(&nap, NULL);

			if (r)
				printf("the child's nanosleep: %d, errno %d\n", r, errno);
			_exit(r ? 1 : 10);
		}
		usleep(500000);
		err = om_where_write(c, "home");
		CHECK(!err, "bringing the child home: %s", strerror(-err));
		for (int i = 0; i < 100; i++) {
			om_where_now(c, now, sizeof(now));
			if (!strcmp(now, "home"))
				break;
			usleep(20000);
		}
		CHECK(!strcmp(now, "home"), "the child came home, where says %s", now);
		CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 10,
		      "the child brought home asleep: status %#x", status);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK(t1.tv_sec - t0.tv_sec >= 2, "its 2 s sleep ended after %ld s",
		      (long)(t1.tv_sec - t0.tv_sec));
		printf("a child brought home asleep: its sleep goes on at home\n");
	}

	/* vfork, and posix_spawn (glibc's clone3 with CLONE_VM|CLONE_VFORK), exec'ing away. */
	c = vfork();
	if (!c) {
		execl("/bin/sh", "sh", "-c", "exit 5", (char *)NULL);
		_exit(127);
	}
	CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 5,
	      "vfork and exec: status %#x", status);
	{
		char *argv[] = { "sh", "-c", "exit 6", NULL };

		err = posix_spawn(&c, "/bin/sh", NULL, NULL, argv, environ);
		CHECK(!err, "posix_spawn: %s", strerror(err));
		CHECK(!err && waitpid(c, &status, 0) == c && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 6, "posix_spawn'd: status %#x", status);
	}
	printf("vfork and posix_spawn: children exec'd, exit 5 and 6\n");

	/*
	 * vfork's child shares its parent's memory, here as at home: what it
	 * writes before it ends the parent reads, and posix_spawn's child
	 * reports a failed exec through it (the errno, not an exit of 127).
	 */
	{
		static volatile int written;
		char *argv[] = { "missing", NULL };

		c = vfork();
		if (!c) {
			written = 42;
			_exit(0);
		}
		CHECK(c > 0 && waitpid(c, &status, 0) == c && written == 42,
		      "vfork's child wrote 42 in the memory it shares: the parent reads %d", written);
		err = posix_spawn(&c, "/nonexistent/program", NULL, NULL, argv, environ);
		CHECK(err == ENOENT, "posix_spawn of a missing program: %s (ENOENT expected)",
		      strerror(err));
		if (!err)
			waitpid(c, &status, 0);
		/*
		 * A call that runs only at home (setrlimit) takes a vfork'd
		 * child home with a copy of the memory: the parent goes on as
		 * the child leaves, and the child comes back for what follows.
		 */
		c = vfork();
		if (!c) {
			struct rlimit rl;

			if (getrlimit(RLIMIT_CORE, &rl) || setrlimit(RLIMIT_CORE, &rl))
				_exit(11);
			_exit(7);
		}
		CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 7, "a vfork'd child home for a call: status %#x", status);
	}
	printf("vfork shares memory: the child's write seen, posix_spawn's ENOENT returned, "
	       "a child home for a call\n");

	/* A program exec'd away is named as at home: AT_EXECFN, its name, its exe. */
	{
		char self[256] = "";
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		CHECK(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
		c = fork();
		if (!c) {
			execl(self, "om-fork", "named", self, (char *)NULL);
			_exit(127);
		}
		CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0, "exec'd away, named as at home: status %#x", status);
		printf("exec'd away: AT_EXECFN, name and exe as at home (%s)\n", self);

		/*
		 * An exec that would change the caller's credentials runs at
		 * home: root without CAP_NET_RAW in its permitted set gets it
		 * back by exec, as only an exec at home computes.
		 */
		c = fork();
		if (!c) {
			struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
			struct __user_cap_data_struct d[2];

			if (syscall(SYS_capget, &h, d))
				_exit(11);
			d[0].permitted &= ~(1u << CAP_NET_RAW);
			d[0].effective &= ~(1u << CAP_NET_RAW);
			/* capset runs at home: then here again, for the exec. */
			if (syscall(SYS_capset, &h, d))
				_exit(12);
			om_where_write(0, node);
			om_where_now(0, now, sizeof(now));
			if (strcmp(now, node))
				_exit(13);
			execl(self, "om-fork", "creds", (char *)NULL);
			_exit(127);
		}
		CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0, "an exec that changes credentials: status %#x",
		      status);
		printf("an exec that gives back a capability ran at home\n");
	}

	om_where_now(getpid(), now, sizeof(now));
	CHECK(!strcmp(now, node), "the parent ends at %s, not %s", now, node);
	CHECK(om_debug_count(0, "home_calls") == calls, "the parent went home %ld times for forks",
	      om_debug_count(0, "home_calls") - calls);
	/*
	 * Fourteen forks here: eight children, the orphan maker (the grandchild
	 * is its fork), three vfork'd and two spawned.
	 */
	CHECK(om_debug_count(0, "forks") == forks + 14, "debug counts %ld forks here, not 14",
	      om_debug_count(0, "forks") - forks);
	printf("forks away: %ld, home calls: %ld\n", om_debug_count(0, "forks") - forks,
	       om_debug_count(0, "home_calls") - calls);
	err = om_where_write(getpid(), "home");
	CHECK(!err, "coming home: %s", strerror(-err));
	return 0;
}

/* Exec'd as "om-fork named PATH": it names itself as exec at home would. */
static int test_named(const char *path)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	char comm[17] = "", exe[256] = "";
	ssize_t n;

	CHECK(execfn && !strcmp(execfn, path), "AT_EXECFN is %s, not %s", execfn ?: "(none)",
	      path);
	prctl(PR_GET_NAME, comm);
	CHECK(!strcmp(comm, "om-fork"), "its name is %s, not om-fork", comm);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0 && !strcmp(exe, path), "/proc/self/exe is %s, not %s", exe, path);
	return 0;
}

/* Exec'd as "om-fork creds" by a caller whose credentials exec changes. */
static int test_creds(void)
{
	long calls = om_debug_count(0, "home_calls"), last = om_debug_count(0, "last_home_call");
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	CHECK(last == SYS_execve, "the last call that went home is %ld, not execve", last);
	CHECK(calls >= 2, "%ld calls went home, not capset and execve", calls);
	CHECK(!syscall(SYS_capget, &h, d) && (d[0].permitted & (1u << CAP_NET_RAW)),
	      "exec did not give CAP_NET_RAW back");
	return 0;
}

/*
 * Home forks the child's deputy but its answer never comes: the fork fails
 * with EAGAIN once the wait times out, and no child of the process appears
 * at home (nothing to wait for, no SIGCHLD): the child's deputy made there
 * ended unseen (FORK_CANCEL). The next fork works.
 */
/*
 * A fork whose answer never comes, or comes after @node gave up (late):
 * the late answer must be taken for no later call's (the debug reads below
 * are forwarded calls), and the FORK_CANCEL still ends the child's deputy.
 */
static int test_unanswered(const char *node)
{
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	long cancelled;
	char now[32];
	int status, err;
	pid_t c;

	sigaction(SIGCHLD, &sa, NULL);
	go(node);
	cancelled = om_debug_count(0, "forks_cancelled");
	errno = 0;
	c = fork();
	if (!c)
		_exit(0);
	CHECK(c == -1 && errno == EAGAIN, "fork without an answer: %d (%s), not EAGAIN", c,
	      strerror(errno));
	printf("fork without an answer: %s\n", c < 0 ? strerror(errno) : "a child");
	/* FORK_CANCEL went before this call: home acted on it first. */
	cancelled = om_debug_count(0, "forks_cancelled") - cancelled;
	CHECK(cancelled == 1, "the deputy ended %ld children's deputies, not 1", cancelled);
	errno = 0;
	c = waitpid(-1, &status, WNOHANG);
	CHECK(c == -1 && errno == ECHILD,
	      "waitpid(-1, WNOHANG) after the failed fork: %d (%s), not ECHILD: a child at home",
	      c, strerror(errno));
	usleep(300000);
	CHECK(!sigchld_seen, "SIGCHLD %d times for a fork that failed", (int)sigchld_seen);
	c = fork();
	if (!c)
		_exit(5);
	CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 5, "the next fork: %d, status 0x%x", c, status);
	om_where_now(getpid(), now, sizeof(now));
	CHECK(!strcmp(now, node), "where says %s after the forks, not %s", now, node);
	err = om_where_write(getpid(), "home");
	CHECK(!err, "write home to where: %s", strerror(-err));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "away"))
		test_away(argv[2], argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "named"))
		test_named(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "creds"))
		test_creds();
	else if (argc == 3 && (!strcmp(argv[1], "unanswered") || !strcmp(argv[1], "late")))
		test_unanswered(argv[2]);
	else {
		fprintf(stderr, "usage: see the comment at the top of om-fork.c\n");
		return 2;
	}
	printf("%s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
