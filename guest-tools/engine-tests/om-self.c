// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-self: engine tests a process runs on itself. Each moves itself by
 * writing /proc/self/hpc/where and checks what it sees.
 *
 *   om-self file NODE PATH        a file opened at home, used away; a new one
 *   om-self pipe NODE             a read that blocks at home, plain and signalled
 *   om-self threads               a second thread forbids moving
 *   om-self badwhere              refused writes change nothing
 *   om-self ids NODE              pid, ppid and tid stay home's; its exe stays
 *                                 its program (and busy for writers) away
 *                                 and home again
 *   om-self mmflags NODE          THP switched off and MDWE (prctl) hold away
 *                                 and home again
 *   om-self prctl NODE            its own nice, personality and SIGCHLD's
 *                                 action set away, and prctl away whose
 *                                 effect is at home: the name ps sees, a
 *                                 subreaper's orphans, a parent's death
 *                                 signal, who may read its /proc
 *   om-self homecall NODE         a call that runs only at home (syslog) takes
 *                                 it home, and back to NODE after it; a second
 *                                 one at once keeps it home (too short a stay)
 *   om-self vanish NODE MIB       a move whose destination dies midway: the
 *                                 process goes on at home, memory intact
 *   om-self ownwhere NODE MIB     its own write to where while another's live
 *                                 move of it is in its rounds: it is at NODE
 *                                 when that write returns, memory intact
 *   om-self relay NODE MIB        a move while the relay dies and comes back:
 *                                 it ends at NODE or home, memory intact
 *   om-self mapped NODE PATH MIB  a file of home (made MIB MiB) mapped privately
 *                                 and read at home, then moved (only its written
 *                                 page travels), and mapped again away: its pages
 *                                 as at home, writes stay the process's, a page
 *                                 home changes before it is read there is seen
 *                                 changed (as MAP_PRIVATE sees it)
 *   om-self behind NODE DIR       writes behind to a file of home in DIR, a
 *                                 filesystem of 64 KiB that fills: each write
 *                                 away returns its count, the failure comes
 *                                 once, at the file's next fsync or close, or
 *                                 at fsync at home after it went home
 *   om-self rewrite NODE PATH     writes behind from one buffer, rewritten as
 *                                 soon as each write returns: the file holds
 *                                 what each write gave
 *   om-self unlock NODE PATH      releases of a record lock on a file written
 *                                 behind go behind: 0 at once, released at
 *                                 home before what comes next
 *   om-self reap NODE             wait4 and waitid of children born away: the
 *                                 status, siginfo and rusage come back with
 *                                 the answer (no page of the process fetched)
 *   om-self calls NODE PATH       calls whose structs travel with them (locks,
 *                                 pipes, poll, select, epoll, sendmsg/recvmsg,
 *                                 getcwd, uname, statfs, socket names): right
 *                                 results, no page of the process fetched
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "probe.h"
#include "where.h"

/* Move to node (or "home") and check we got there. */
static void go(const char *node)
{
	char why[128];

	if (om_go(node, why, sizeof(why)))
		CHECK(0, "%s", why);
	else
		printf("at %s\n", node);
}

static int test_file(const char *node, const char *path)
{
	char buf[64] = "", newpath[256];
	int fd = open(path, O_RDWR), fd2;

	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	CHECK(read(fd, buf, 6) == 6 && !memcmp(buf, "first ", 6), "first read: %s", buf);
	go(node);
	CHECK(read(fd, buf, 7) == 7 && !memcmp(buf, "second\n", 7), "read away: %.7s", buf);
	CHECK(write(fd, "written away\n", 13) == 13, "write away: %s", strerror(errno));
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek away");
	memset(buf, 0, sizeof(buf));
	CHECK(read(fd, buf, sizeof(buf) - 1) == 26, "reread: '%s'", buf);
	CHECK(!strcmp(buf, "first second\nwritten away\n"), "content: '%s'", buf);
	snprintf(newpath, sizeof(newpath), "%s.new", path);
	fd2 = open(newpath, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd2 >= 0, "create %s away: %s", newpath, strerror(errno));
	CHECK(write(fd2, "made away\n", 10) == 10, "write new file");
	close(fd2);
	close(fd);
	go("home");
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int test_pipe(const char *node)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char buf[16] = "";
	int p[2], status;
	ssize_t n;
	pid_t child;

	CHECK(!pipe(p), "pipe");
	child = fork();
	if (!child) {
		/* At home: write twice, late enough that the reads block. */
		sleep(3);
		(void)!write(p[1], "hello", 5);
		sleep(4);
		(void)!write(p[1], "again", 5);
		_exit(0);
	}
	close(p[1]);
	go(node);
	/* Blocks at home until the child writes. */
	n = read(p[0], buf, sizeof(buf));
	CHECK(n == 5 && !memcmp(buf, "hello", 5), "blocked read got %zd '%.5s'", n, buf);
	printf("read: %.5s\n", buf);
	/* A signal during the block, no SA_RESTART: EINTR. */
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	n = read(p[0], buf, sizeof(buf));
	CHECK(n == -1 && errno == EINTR, "interrupted read: %zd errno %d", n, errno);
	printf("interrupted: %s\n", n < 0 ? strerror(errno) : "no");
	/* With SA_RESTART the read restarts and gets the second write. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	n = read(p[0], buf, sizeof(buf));
	CHECK(n == 5 && !memcmp(buf, "again", 5), "restarted read: %zd '%.5s'", n, buf);
	printf("restarted read: %.5s\n", buf);
	go("home");
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "child");
	return 0;
}

static void *idle_thread(void *arg)
{
	pause();
	return arg;
}

static int test_threads(void)
{
	char stay[512] = "";
	pthread_t t;
	int fd, err;

	CHECK(!pthread_create(&t, NULL, idle_thread, NULL), "pthread_create");
	err = om_where_write(0, "2");
	CHECK(err == -EBUSY, "moving a threaded process: %s", strerror(-err));
	printf("where: %s\n", strerror(-err));
	fd = open("/proc/self/hpc/stay", O_RDONLY);
	CHECK(fd >= 0 && read(fd, stay, sizeof(stay) - 1) > 0, "read stay");
	CHECK(strstr(stay, "threads") != NULL, "stay: '%s'", stay);
	printf("stay: %s", stay);
	return 0;
}

static int test_badwhere(void)
{
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		{ "abc", EINVAL }, { "", EINVAL }, { "-1", EINVAL }, { "0", EINVAL },
		{ "1025", EINVAL }, { "99", EHOSTUNREACH },
		{ "2222222222222222222222222222222222222222", EINVAL },
	};
	char now[32];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = om_where_write(0, bad[i].s);

		CHECK(err == -bad[i].err, "'%s': %s, not %s", bad[i].s, strerror(-err),
		      strerror(bad[i].err));
		printf("'%s': %s\n", bad[i].s, strerror(-err));
		om_where_now(0, now, sizeof(now));
		CHECK(!strcmp(now, "home"), "after '%s' where is %s", bad[i].s, now);
	}
	return 0;
}

/* Its program, as /proc/self/exe names it: "" if it names none. */
static void exe_of_self(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
}

/* Its program is busy for writers (ETXTBSY), as any running program: 0 if so. */
static int exe_busy(const char *exe)
{
	int fd = open(exe, O_WRONLY);

	if (fd >= 0) {
		close(fd);
		return EEXIST;
	}
	return errno == ETXTBSY ? 0 : errno;
}

static int test_ids(const char *node)
{
	pid_t pid = getpid(), ppid = getppid(), tid = (pid_t)syscall(SYS_gettid);
	char exe[256], now[256];

	exe_of_self(exe, sizeof(exe));
	CHECK(exe[0] && !exe_busy(exe), "at home before it moves: exe '%s', busy: %s", exe,
	      strerror(exe_busy(exe)));
	go(node);
	CHECK(getpid() == pid, "getpid %d away, %d at home", getpid(), pid);
	CHECK(getppid() == ppid, "getppid %d away, %d at home", getppid(), ppid);
	CHECK((pid_t)syscall(SYS_gettid) == tid, "gettid away");
	exe_of_self(now, sizeof(now));
	CHECK(!strcmp(now, exe), "away, /proc/self/exe names '%s', not '%s'", now, exe);
	CHECK(!exe_busy(exe), "away, its program is not busy for writers: %s",
	      strerror(exe_busy(exe)));
	printf("ids: pid %d ppid %d, exe %s\n", getpid(), getppid(), now);
	go("home");
	/* Home again in a new address space: the program is still its own. */
	exe_of_self(now, sizeof(now));
	CHECK(!strcmp(now, exe), "home again, /proc/self/exe names '%s', not '%s'", now, exe);
	CHECK(!exe_busy(exe), "home again, its program is not busy for writers: %s",
	      strerror(exe_busy(exe)));
	return 0;
}

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN 1UL
#endif

/* What prctl() set of its address space holds @where: each failure a line. */
static void mm_flags_as_set(const char *where)
{
	void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int err;

	CHECK(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1, "%s: PR_GET_THP_DISABLE %d", where,
	      prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	CHECK(prctl(PR_GET_MDWE, 0, 0, 0, 0) == (int)PR_MDWE_REFUSE_EXEC_GAIN,
	      "%s: PR_GET_MDWE %d", where, prctl(PR_GET_MDWE, 0, 0, 0, 0));
	CHECK(m != MAP_FAILED, "%s: mmap: %s", where, strerror(errno));
	if (m == MAP_FAILED)
		return;
	/* MDWE holds: a mapping that was not executable cannot become so. */
	err = mprotect(m, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
	CHECK(err == EACCES, "%s: mprotect to PROT_EXEC under MDWE: %s (EACCES expected)", where,
	      strerror(err));
	munmap(m, 4096);
}

/*
 * THP switched off and memory-deny-write-execute (prctl) travel with the
 * process: a sandbox is not shed by moving, away or home again.
 */
static int test_mmflags(const char *node)
{
	CHECK(!prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0), "PR_SET_THP_DISABLE: %s", strerror(errno));
	CHECK(!prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0), "PR_SET_MDWE: %s",
	      strerror(errno));
	mm_flags_as_set("at home");
	go(node);
	mm_flags_as_set("away");
	go("home");
	mm_flags_as_set("home again");
	printf("THP off and MDWE kept away and home again\n");
	return 0;
}

static void on_usr1(int sig)
{
	(void)sig;
	_exit(42);
}

/* The nice /proc/self/stat shows (field 19), -100 if unread. */
static long stat_nice(void)
{
	char buf[1024], *p;
	long nice = -100;
	int fd = open("/proc/self/stat", O_RDONLY), i;
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return nice;
	buf[n] = '\0';
	/* After the name's ')': field 3 on. */
	p = strrchr(buf, ')');
	for (i = 2; p && i < 19; i++)
		p = strchr(p + 1, ' ');
	if (p)
		nice = strtol(p + 1, NULL, 10);
	return nice;
}

/* Who owns its /proc files at home: root once it is not dumpable. */
static long proc_owner(void)
{
	struct stat st;

	return stat("/proc/self/status", &st) ? -1 : (long)st.st_uid;
}

/*
 * prctl() away, where its effect is at home: its name there (ps,
 * /proc/PID/comm), a subreaper's orphans, a parent's death signal, and who
 * may read its /proc (dumpable).
 */
static int test_prctl(const char *node)
{
	char name[32] = "", now[32];
	int sync[2], status, fd, v;
	pid_t b, c;
	ssize_t n;

	go(node);
	/* Its own nice, set away: where it runs (getpriority) and at home (stat's field 19). */
	CHECK(!setpriority(PRIO_PROCESS, 0, 7), "setpriority: %s", strerror(errno));
	errno = 0;
	v = getpriority(PRIO_PROCESS, 0);
	CHECK(v == 7 && !errno, "getpriority away: %d (7 set)", v);
	CHECK(stat_nice() == 7, "/proc/self/stat at home: nice %ld (7 set)", stat_nice());
	/* A personality set away rules the calls run at home too: uname's UNAME26. */
	{
		struct utsname u;
		int was = personality(0xffffffff);

		CHECK(personality(was | UNAME26) == was, "personality: %s", strerror(errno));
		CHECK(personality(0xffffffff) == (was | UNAME26), "personality away reads %#x",
		      personality(0xffffffff));
		CHECK(!uname(&u) && !strncmp(u.release, "2.6.", 4),
		      "uname with UNAME26 set away: release %s", u.release);
		personality(was);
		CHECK(!uname(&u) && strncmp(u.release, "2.6.", 4),
		      "uname with UNAME26 cleared away: release %s", u.release);
	}
	CHECK(!prctl(PR_SET_NAME, "om-renamed", 0, 0, 0), "PR_SET_NAME: %s", strerror(errno));
	fd = open("/proc/self/comm", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, name, sizeof(name) - 1);
	if (fd >= 0)
		close(fd);
	name[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(name, "om-renamed\n"), "/proc/self/comm at home says '%s'", name);

	CHECK(!prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "PR_SET_CHILD_SUBREAPER: %s",
	      strerror(errno));
	v = 0;
	CHECK(!prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0) && v == 1,
	      "PR_GET_CHILD_SUBREAPER: %d", v);
	/* A grandchild orphaned by its parent's end: ours to reap, killed by PDEATHSIG. */
	CHECK(!pipe(sync), "pipe: %s", strerror(errno));
	b = fork();
	if (!b) {
		c = fork();
		if (!c) {
			signal(SIGUSR1, on_usr1);
			if (prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0))
				_exit(11);
			v = 0;
			if (prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0) || v != SIGUSR1)
				_exit(12);
			if (write(sync[1], "r", 1) != 1)
				_exit(13);
			sleep(20);
			_exit(14);
		}
		if (read(sync[0], name, 1) != 1)
			_exit(15);
		_exit(0);
	}
	CHECK(b > 0 && waitpid(b, &status, 0) == b && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the parent: status %#x", status);
	alarm(30);
	c = waitpid(-1, &status, 0);
	alarm(0);
	CHECK(c > 0, "no orphan came to its subreaper: %s", strerror(errno));
	CHECK(c > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 42,
	      "the orphan: status %#x (42: its parent's death signal came)", status);
	close(sync[0]);
	close(sync[1]);
	printf("name at home, subreaper and parent-death signal: as set away\n");

	/* SIGCHLD ignored away: its children are reaped unwaited at home too. */
	signal(SIGCHLD, SIG_IGN);
	b = fork();
	if (!b)
		_exit(3);
	alarm(30);
	c = waitpid(-1, &status, 0);
	v = errno;
	alarm(0);
	CHECK(c == -1 && v == ECHILD, "SIGCHLD ignored away: wait gave %d (%s), not ECHILD", c,
	      strerror(v));
	signal(SIGCHLD, SIG_DFL);
	b = fork();
	if (!b)
		_exit(4);
	CHECK(b > 0 && waitpid(b, &status, 0) == b && WIFEXITED(status) && WEXITSTATUS(status) == 4,
	      "SIGCHLD back to its default away: status %#x", status);
	printf("SIGCHLD ignored away: children reaped unwaited, then waited again\n");

	/* Dumpable, seen by who owns its /proc at home (root once not). */
	b = fork();
	if (!b) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(21);
		om_where_now(0, now, sizeof(now));
		if (strcmp(now, node)) {
			/* Home for the call, and kept there: its own where needs it dumpable. */
			if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) || om_where_write(0, node))
				_exit(22);
			om_where_now(0, now, sizeof(now));
			if (strcmp(now, node))
				_exit(23);
		}
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
			_exit(24);
		if (proc_owner() != 65534)
			_exit(25);
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
			_exit(26);
		if (proc_owner() != 0)
			_exit(27);
		_exit(0);
	}
	CHECK(b > 0 && waitpid(b, &status, 0) == b && WIFEXITED(status) && !WEXITSTATUS(status),
	      "dumpable set away and /proc at home: status %#x (25: not made dumpable at home, "
	      "27: still dumpable there)", status);
	printf("dumpable set away rules /proc at home\n");
	go("home");
	return 0;
}

/* A call that runs only at home: the size of home's kernel log buffer. */
static long home_call(void)
{
	long n = syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);

	return n < 0 ? -errno : n;
}

static int test_homecall(const char *node)
{
	char now[32];
	long up;

	long calls = om_debug_count(0, "home_calls");
	long kept = om_debug_count(0, "home_calls_kept");

	go(node);
	/* Away long enough (ten moves' time and more) for a round trip to pay. */
	om_spin(4);
	up = home_call();
	CHECK(up > 0, "syslog: %s", strerror((int)-up));
	om_where_now(0, now, sizeof(now));
	CHECK(!strcmp(now, node), "after the call at home the parent is back at %s: %s", node, now);
	CHECK(om_debug_count(0, "home_calls") == calls + 1 &&
	      om_debug_count(0, "home_calls_kept") == kept,
	      "debug counts one round trip home for a call: %ld (was %ld), %ld kept home (was %ld)",
	      om_debug_count(0, "home_calls"), calls, om_debug_count(0, "home_calls_kept"), kept);
	CHECK(om_debug_count(0, "last_home_call") == SYS_syslog, "last_home_call %ld, not syslog",
	      om_debug_count(0, "last_home_call"));
	printf("syslog at home (a %ld-byte log), back at %s\n", up, now);
	/* At once again: too short a stay for the round trip to pay, it stays home. */
	up = home_call();
	CHECK(up > 0, "syslog: %s", strerror((int)-up));
	om_where_now(0, now, sizeof(now));
	CHECK(!strcmp(now, "home"), "calling again at once, it stays home: %s", now);
	CHECK(om_debug_count(0, "home_calls") == calls + 2 &&
	      om_debug_count(0, "home_calls_kept") == kept + 1,
	      "debug counts it kept home: %ld calls (was %ld), %ld kept (was %ld)",
	      om_debug_count(0, "home_calls"), calls, om_debug_count(0, "home_calls_kept"), kept);
	printf("called again at once: stays %s\n", now);
	return 0;
}

static unsigned long long last_error(void)
{
	return (unsigned long long)-om_debug_count(0, "last_error");
}

/* MIB MiB of a known pattern, then a move to NODE asked: NULL if no memory. */
static unsigned long long *mem_moving(const char *node, long mib)
{
	size_t len = (size_t)mib << 20, i;
	unsigned long long *mem = malloc(len);
	int err;

	CHECK(mem != NULL, "malloc %ld MiB", mib);
	if (!mem)
		return NULL;
	for (i = 0; i < len / 8; i++)
		mem[i] = i ^ 0x5a5a5a5a5a5a5a5aull;
	printf("moving %ld MiB to node %s\n", mib, node);
	err = om_where_write(0, node);
	CHECK(!err, "write %s: %s", node, strerror(-err));
	return mem;
}

/*
 * A move of at least om.live_min_kib is live: it goes on while the
 * process runs here. Wait for its outcome: there, or an error (10 min).
 */
static void settle(const char *node, char *now, size_t size)
{
	int i;

	for (i = 0; i < 60000; i++) {
		om_where_now(0, now, size);
		if (!strcmp(now, node) || last_error())
			return;
		usleep(10000);
	}
}

/* The first byte of mem_moving()'s memory that is not as written, or len. */
static size_t mem_first_bad(const unsigned long long *mem, size_t len)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (mem[i] != (i ^ 0x5a5a5a5a5a5a5a5aull))
			break;
	return i * 8;
}

static int test_vanish(const char *node, long mib)
{
	size_t len = (size_t)mib << 20;
	unsigned long long *mem = mem_moving(node, mib);
	char now[32];

	if (!mem)
		return 0;
	settle(node, now, sizeof(now));
	CHECK(!strcmp(now, "home"), "where says %s after the destination died", now);
	printf("still at %s, the move failed with: %s\n", now, strerror((int)last_error()));
	CHECK(last_error() != 0, "the failed move left no error");
	CHECK(mem_first_bad(mem, len) == len, "memory differs at byte %zu", mem_first_bad(mem, len));
	return 0;
}

static int test_relay(const char *node, long mib)
{
	size_t len = (size_t)mib << 20;
	unsigned long long *mem = mem_moving(node, mib);
	char now[32];

	if (!mem)
		return 0;
	/* Done, or taken back. */
	settle(node, now, sizeof(now));
	printf("after the relay's restart: at %s (%s)\n", now,
	       last_error() ? strerror((int)last_error()) : "moved");
	CHECK(!strcmp(now, node) || (!strcmp(now, "home") && last_error()),
	      "at %s, last error %llu", now, last_error());
	CHECK(mem_first_bad(mem, len) == len, "memory differs at byte %zu", mem_first_bad(mem, len));
	if (strcmp(now, "home"))
		go("home");
	CHECK(mem_first_bad(mem, len) == len, "at home, memory differs at byte %zu",
	      mem_first_bad(mem, len));
	return 0;
}

/*
 * Its own write to where while another's live move of it to NODE is in its
 * rounds: that write returns with the process at NODE, as its own moves
 * do (om.live=1), the move it ends being the live one (rounds counted).
 */
static int test_ownwhere(const char *node, long mib)
{
	size_t len = (size_t)mib << 20, i;
	unsigned long long *mem = malloc(len);
	pid_t self = getpid(), c;
	bool rounds = false;
	char now[32] = "";
	int status, k, err;

	CHECK(mem != NULL, "malloc %ld MiB", mib);
	if (!mem)
		return 0;
	for (i = 0; i < len / 8; i++)
		mem[i] = i ^ 0x5a5a5a5a5a5a5a5aull;
	c = fork();
	if (!c)
		_exit(om_where_write(self, node) ? 1 : 0);
	CHECK(c > 0 && waitpid(c, &status, 0) == c && WIFEXITED(status) && !WEXITSTATUS(status),
	      "another's write of %s to its where: status %#x", node, status);
	/* Its rounds go on as it runs: it writes every page again meanwhile (the same values). */
	for (k = 0; k < 1000 && !rounds; k++) {
		for (i = 0; i < len / 8; i += 512)
			mem[i] = i ^ 0x5a5a5a5a5a5a5a5aull;
		om_where_now(0, now, sizeof(now));
		rounds = !strcmp(now, "home") && om_debug_count(0, "target") == atol(node);
	}
	CHECK(rounds, "no live move to %s in its rounds seen: where says %s", node, now);
	if (!rounds)
		return 0;
	err = om_where_write(0, node);
	om_where_now(0, now, sizeof(now));
	CHECK(!err && !strcmp(now, node),
	      "its own write of %s during the rounds: %s, and where says %s when it returns",
	      node, strerror(-err), now);
	CHECK(om_debug_count(0, "last_rounds") >= 1,
	      "the move that ended was not the live one: %ld rounds",
	      om_debug_count(0, "last_rounds"));
	printf("its own write returned at %s, the live move's %ld rounds done\n", now,
	       om_debug_count(0, "last_rounds"));
	CHECK(mem_first_bad(mem, len) == len, "memory differs at byte %zu", mem_first_bad(mem, len));
	go("home");
	CHECK(mem_first_bad(mem, len) == len, "at home, memory differs at byte %zu",
	      mem_first_bad(mem, len));
	return 0;
}

/* What word @w of page @pg of the mapped file holds. */
static uint64_t mapped_word(size_t pg, size_t w)
{
	return ((uint64_t)pg << 32) ^ w ^ 0x5a5a0000a5a5ull;
}

static bool mapped_page_ok(const uint64_t *page, size_t pg)
{
	size_t w;

	for (w = 0; w < 4096 / sizeof(uint64_t); w++)
		if (page[w] != mapped_word(pg, w))
			return false;
	return true;
}

static int test_mapped(const char *node, const char *path, long mib)
{
	size_t pages = (size_t)mib * 256, pg, w, cow = pages / 7, changed = pages * 5 / 8;
	uint64_t buf[4096 / sizeof(uint64_t)], *m, *m2;
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644), touched = 0;
	long sent;

	CHECK(fd >= 0 && pages >= 64, "open %s: %s", path, strerror(errno));
	for (pg = 0; pg < pages; pg++) {
		for (w = 0; w < 4096 / sizeof(uint64_t); w++)
			buf[w] = mapped_word(pg, w);
		CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf), "write: %s", strerror(errno));
	}
	/* Mapped at home, every page read there, one written: then it moves. */
	m = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap at home: %s", strerror(errno));
	if (m == MAP_FAILED)
		return 1;
	for (pg = 0; pg < pages; pg++)
		CHECK(mapped_page_ok(m + pg * 512, pg), "page %zu at home", pg);
	m[cow * 512] = 42;
	go(node);
	/* What was home's file stays home's: only the written page travelled. */
	sent = om_debug_count(0, "last_move_pages");
	CHECK(sent >= 1 && sent < (long)pages / 4, "the move sent %ld pages (the file has %zu)", sent,
	      pages);
	CHECK(m[cow * 512] == 42, "the page written at home reads %#llx away",
	      (unsigned long long)m[cow * 512]);
	/* Eight pages far apart: each faults alone, beyond the others' readahead. */
	for (pg = 0; pg < pages; pg += pages / 7, touched++)
		CHECK(pg == cow || mapped_page_ok(m + pg * 512, pg), "page %zu is not home's", pg);
	/* Mapped again away: the same version, its pages already here read again. */
	m2 = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m2 != MAP_FAILED, "mmap away: %s", strerror(errno));
	if (m2 == MAP_FAILED)
		return 1;
	CHECK(mapped_page_ok(m2 + cow * 512, cow), "page %zu mapped again away", cow);
	/* A write away is the process's own: the file at home stays as it was. */
	m2[(cow + 1) * 512] = 43;
	CHECK(m2[(cow + 1) * 512] == 43 && mapped_page_ok(m + (cow + 1) * 512, cow + 1),
	      "a page written away reads %#llx", (unsigned long long)m2[(cow + 1) * 512]);
	CHECK(pread(fd, buf, sizeof(buf), (cow + 1) * 4096) == sizeof(buf) &&
	      buf[0] == mapped_word(cow + 1, 0),
	      "the file at home changed under a private write: %#llx", (unsigned long long)buf[0]);
	/* Home changes a page it has not read yet: both mappings read the change. */
	memset(buf, 0x77, sizeof(buf));
	CHECK(pwrite(fd, buf, sizeof(buf), changed * 4096) == sizeof(buf), "pwrite at home: %s",
	      strerror(errno));
	CHECK(m[changed * 512] == 0x7777777777777777ull && m2[changed * 512 + 511] == buf[511],
	      "page %zu changed at home reads %#llx", changed, (unsigned long long)m[changed * 512]);
	CHECK(mapped_page_ok(m2 + (changed + 1) * 512, changed + 1), "page %zu after it",
	      changed + 1);
	printf("mapped %zu pages: the move sent %ld pages; read %d of them away and 3 more\n",
	       pages, sent, touched);
	munmap(m, pages * 4096);
	munmap(m2, pages * 4096);
	close(fd);
	go("home");
	return 0;
}

/*
 * 64 writes of 4 KiB to @fd on a filesystem of 64 KiB: the first ones return
 * their count (those behind that fail at home too), and once the process
 * knows of a failure the next ones wait and fail themselves, with ENOSPC.
 * Return: how many returned their count.
 */
static int write_blocks(int fd, const char *why)
{
	char block[4096];
	int i, whole = 0;
	ssize_t n;

	memset(block, 'b', sizeof(block));
	for (i = 0; i < 64; i++) {
		errno = 0;
		n = write(fd, block, sizeof(block));
		if (n == sizeof(block) && whole == i)
			whole++;
		else
			CHECK(n == -1 && errno == ENOSPC && whole,
			      "%s: write %d returned %zd (%s), after %d whole", why, i, n,
			      strerror(errno), whole);
	}
	/* 16 fit: more than that whole means writes behind that failed at home. */
	CHECK(whole > 16, "%s: %d writes whole, not more than fit", why, whole);
	printf("%s: %d writes returned their count, %d failed waiting\n", why, whole, 64 - whole);
	return whole;
}

static int test_behind(const char *node, const char *dir)
{
	long behind, failed;
	char path[256];
	int fd, ret, whole;

	snprintf(path, sizeof(path), "%s/behind", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	go(node);
	behind = om_debug_count(0, "written_behind");
	failed = om_debug_count(0, "behind_failed");
	/* The first waits and says the file may be written behind. */
	whole = write_blocks(fd, "filling");
	behind = om_debug_count(0, "written_behind") - behind;
	failed = om_debug_count(0, "behind_failed") - failed;
	printf("written behind %ld, failed %ld\n", behind, failed);
	CHECK(behind == whole - 1, "all whole writes but the first went behind: %ld of %d", behind,
	      whole);
	CHECK(failed > 0 && failed < behind, "some went behind and failed at home: %ld of %ld",
	      failed, behind);
	errno = 0;
	ret = fsync(fd);
	CHECK(ret == -1 && errno == ENOSPC, "fsync after failed writes behind: %d (%s), not ENOSPC",
	      ret, strerror(errno));
	CHECK(fsync(fd) == 0, "the failure is told once: a second fsync: %s", strerror(errno));
	/* close() tells a failure too. */
	CHECK(!ftruncate(fd, 0) && !lseek(fd, 0, SEEK_SET), "truncate: %s", strerror(errno));
	write_blocks(fd, "filling again");
	errno = 0;
	ret = close(fd);
	CHECK(ret == -1 && errno == ENOSPC, "close after failed writes behind: %d (%s), not ENOSPC",
	      ret, strerror(errno));
	/* And at home, after it went home with a failure not yet told. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0, "open %s again: %s", path, strerror(errno));
	write_blocks(fd, "filling before going home");
	go("home");
	errno = 0;
	ret = fdatasync(fd);
	CHECK(ret == -1 && errno == ENOSPC,
	      "fdatasync at home after failed writes behind away: %d (%s), not ENOSPC", ret,
	      strerror(errno));
	CHECK(fdatasync(fd) == 0, "told once at home too: %s", strerror(errno));
	close(fd);
	unlink(path);
	return 0;
}

/* The byte block @i of test_rewrite() is filled with: next blocks differ. */
static unsigned char rewrite_fill(int i)
{
	return (unsigned char)(i * 37 + 1);
}

/*
 * A write behind returns before home has its bytes; the process may then
 * rewrite its buffer at once, as stdio does. Each write must still carry
 * what the buffer held when it was made.
 */
static int test_rewrite(const char *node, const char *path)
{
	enum { BLOCKS = 256, LEN = 4096 };
	static unsigned char buf[3 * 4096] __attribute__((aligned(4096)));
	unsigned char *b = buf + 100, in[LEN];	/* across two pages */
	int fd, i, j, bad = 0, first = -1, held = 0;
	long behind;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	go(node);
	behind = om_debug_count(0, "written_behind");
	for (i = 0; i < BLOCKS; i++) {
		memset(b, rewrite_fill(i), LEN);
		CHECK(write(fd, b, LEN) == LEN, "write %d: %s", i, strerror(errno));
	}
	memset(b, 0, LEN);
	behind = om_debug_count(0, "written_behind") - behind;
	printf("%d writes of one buffer, %ld behind\n", BLOCKS, behind);
	CHECK(behind == BLOCKS - 1, "all writes but the first went behind: %ld of %d", behind,
	      BLOCKS);
	CHECK(fsync(fd) == 0, "fsync: %s", strerror(errno));
	for (i = 0; i < BLOCKS; i++) {
		CHECK(pread(fd, in, LEN, (off_t)i * LEN) == LEN, "pread %d: %s", i, strerror(errno));
		for (j = 0; j < LEN && in[j] == rewrite_fill(i); j++)
			;
		if (j == LEN)
			continue;
		if (!bad++) {
			first = i;
			held = in[j];
		}
	}
	CHECK(!bad, "%d of %d blocks hold bytes written later (block %d: 0x%02x, not 0x%02x)", bad,
	      BLOCKS, first, held, first >= 0 ? rewrite_fill(first) : 0);
	printf("blocks as written: %d of %d\n", BLOCKS - bad, BLOCKS);
	close(fd);
	unlink(path);
	go("home");
	return 0;
}

/*
 * A record lock's release on a file written behind returns 0 at once, the
 * deputy releasing it in order; one home would refuse waits for its error.
 */
static int test_unlock(const char *node, const char *path)
{
	struct flock fl = { .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	char block[4096];
	int fd, i, status = -1;
	long behind;
	pid_t child;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	go(node);
	/* Waited for: the deputy's answer says the file may be written behind. */
	memset(block, 'u', sizeof(block));
	CHECK(write(fd, block, sizeof(block)) == sizeof(block), "write: %s", strerror(errno));
	behind = om_debug_count(0, "written_behind");
	for (i = 0; i < 10; i++) {
		fl.l_type = F_WRLCK;
		CHECK(!fcntl(fd, F_SETLK, &fl), "lock %d: %s", i, strerror(errno));
		fl.l_type = F_UNLCK;
		CHECK(!fcntl(fd, F_SETLK, &fl), "release %d: %s", i, strerror(errno));
	}
	behind = om_debug_count(0, "written_behind") - behind;
	printf("releases behind: %ld of 10\n", behind);
	CHECK(behind == 10, "%ld of 10 releases went behind", behind);
	/* Released at home: another process (a child, its own deputy) sees no lock. */
	child = fork();
	if (!child) {
		struct flock g = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 100 };

		_exit(fcntl(fd, F_GETLK, &g) || g.l_type != F_UNLCK);
	}
	CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "a child still sees the lock: status 0x%x", status);
	/* A release home refuses is not sent behind: its error comes back. */
	fl.l_type = F_UNLCK;
	fl.l_start = -1;
	errno = 0;
	CHECK(fcntl(fd, F_SETLK, &fl) == -1 && errno == EINVAL,
	      "a release from offset -1: %s, not EINVAL", strerror(errno));
	close(fd);
	unlink(path);
	go("home");
	return 0;
}

/* A child that computes for @secs then exits with @code. */
static pid_t spawn_exit(double secs, int code)
{
	pid_t child = fork();

	if (!child) {
		om_spin(secs);
		_exit(code);
	}
	CHECK(child > 0, "fork: %s", strerror(errno));
	return child;
}

static long rusage_ms(const struct rusage *ru)
{
	return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
}

/*
 * A parent away reaps its children born away. The status, rusage and
 * siginfo wait4 and waitid write travel with the call and its answer: the
 * deputy fetches no page of the process for them.
 */
static int test_reap(const char *node)
{
	struct rusage ru;
	siginfo_t si;
	long f0, f1, probe;
	int status = 0;
	pid_t child;
	long r;

	go(node);
	/* What reading debug fetches by itself, taken off below. */
	f0 = om_debug_count(0, "pages_fetched");
	probe = om_debug_count(0, "pages_fetched") - f0;

	child = spawn_exit(0.3, 7);
	memset(&ru, 0, sizeof(ru));
	f0 = om_debug_count(0, "pages_fetched");
	r = wait4(child, &status, 0, &ru);
	f1 = om_debug_count(0, "pages_fetched");
	CHECK(r == child, "wait4: %ld (%s), not %d", r, strerror(errno), child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "wait4 status 0x%x, not exit 7",
	      status);
	CHECK(rusage_ms(&ru) >= 100, "wait4 rusage: %ld ms of CPU for 300 ms of computing",
	      rusage_ms(&ru));
	CHECK(f1 - f0 - probe == 0, "wait4 fetched %ld pages of the process", f1 - f0 - probe);
	printf("wait4: exit %d, %ld ms of CPU, %ld pages fetched\n", WEXITSTATUS(status),
	       rusage_ms(&ru), f1 - f0 - probe);

	child = spawn_exit(0.3, 9);
	memset(&ru, 0, sizeof(ru));
	memset(&si, 0, sizeof(si));
	f0 = om_debug_count(0, "pages_fetched");
	/* The system call itself: glibc's waitid() has no rusage. */
	r = syscall(SYS_waitid, P_PID, child, &si, WEXITED, &ru);
	f1 = om_debug_count(0, "pages_fetched");
	CHECK(r == 0, "waitid: %s", strerror(errno));
	CHECK(si.si_pid == child && si.si_code == CLD_EXITED && si.si_status == 9,
	      "waitid siginfo: pid %d code %d status %d, not %d CLD_EXITED 9", si.si_pid, si.si_code,
	      si.si_status, child);
	CHECK(rusage_ms(&ru) >= 100, "waitid rusage: %ld ms of CPU for 300 ms of computing",
	      rusage_ms(&ru));
	CHECK(f1 - f0 - probe == 0, "waitid fetched %ld pages of the process", f1 - f0 - probe);
	printf("waitid: exit %d, %ld ms of CPU, %ld pages fetched\n", si.si_status, rusage_ms(&ru),
	       f1 - f0 - probe);
	go("home");
	return 0;
}

/* Pages of the process the deputy fetched for @call, less what reading debug fetches. */
#define FETCHED_BY(probe, call)                                              \
	({                                                                   \
		long f0_ = om_debug_count(0, "pages_fetched");               \
		call;                                                        \
		om_debug_count(0, "pages_fetched") - f0_ - (probe);          \
	})

/* A child born away reads the lock its parent holds on @fd at home. */
static int calls_lock_seen(int fd, long probe)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	int r, before = failures;
	long fetched;

	fetched = FETCHED_BY(probe, r = fcntl(fd, F_GETLK, &fl));
	CHECK(!r && fl.l_type == F_WRLCK && fl.l_pid == getppid() && fl.l_start == 10 &&
	      fl.l_len == 20, "F_GETLK in a child: %d, type %d pid %d (parent %d) %lld+%lld", r,
	      fl.l_type, fl.l_pid, getppid(), (long long)fl.l_start, (long long)fl.l_len);
	CHECK(!fetched, "F_GETLK fetched %ld pages", fetched);
	return failures - before;
}

/*
 * A sendmsg whose header, vector and two buffers lie in one page: the page
 * goes once, not once for each of them.
 */
static void calls_one_page(const int sv[2])
{
	static union {
		char page[4096];
		struct {
			struct msghdr mh;
			struct iovec iov[2];
			char a[2], b[4];
		} m;
	} one __attribute__((aligned(4096)));
	long pushed, probe;
	char in[8];
	int r;

	one.m.iov[0] = (struct iovec){ one.m.a, 2 };
	one.m.iov[1] = (struct iovec){ one.m.b, 4 };
	memcpy(one.m.a, "gh", 2);
	memcpy(one.m.b, "ijkl", 4);
	one.m.mh = (struct msghdr){ .msg_iov = one.m.iov, .msg_iovlen = 2 };
	pushed = om_debug_count(0, "pages_pushed");
	probe = om_debug_count(0, "pages_pushed") - pushed;
	pushed = om_debug_count(0, "pages_pushed");
	r = sendmsg(sv[0], &one.m.mh, 0);
	pushed = om_debug_count(0, "pages_pushed") - pushed - probe;
	CHECK(r == 6 && recv(sv[1], in, sizeof(in), 0) == 6 && !memcmp(in, "ghijkl", 6),
	      "sendmsg from one page: %d (%s)", r, strerror(errno));
	CHECK(pushed == 1, "sendmsg from one page pushed %ld pages, not 1", pushed);
}

/*
 * Calls whose arguments point at structs the table knows: each sends them
 * with the call and takes back what it wrote, so the deputy fetches none
 * of the process's pages, and each still answers as at home.
 */
static int test_calls(const char *node, const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 20 };
	struct sockaddr_un sun = { .sun_family = AF_UNIX }, got;
	char cwd_home[256], cwd[256], in1[8] = "", in2[8] = "", ctl[64];
	struct utsname u_home, u;
	struct statfs sf_home, sf;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234567890ull }, evs[4];
	struct iovec out_iov[2] = { { "ab", 2 }, { "cdef", 4 } };
	struct iovec in_iov[2] = { { in1, 2 }, { in2, 6 } };
	struct msghdr mh = { .msg_iov = out_iov, .msg_iovlen = 2 };
	struct pollfd pfd;
	socklen_t len = sizeof(got);
	fd_set rset;
	struct timeval tv = { 1, 0 };
	long probe, f;
	int fd, pfds[2], sv[2], s, ep, r, status, val = 0;
	socklen_t vlen = sizeof(val);
	pid_t child;

	CHECK(getcwd(cwd_home, sizeof(cwd_home)) && !uname(&u_home) && !statfs("/tmp", &sf_home),
	      "at home: %s", strerror(errno));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	go(node);
	f = om_debug_count(0, "pages_fetched");
	probe = om_debug_count(0, "pages_fetched") - f;

	f = FETCHED_BY(probe, r = fcntl(fd, F_SETLK, &fl));
	CHECK(!r && !f, "F_SETLK: %d (%s), %ld pages fetched", r, strerror(errno), f);
	child = fork();
	if (!child)
		_exit(calls_lock_seen(fd, probe));
	CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "the child saw the lock: status 0x%x", status);
	fl.l_type = F_UNLCK;
	f = FETCHED_BY(probe, r = fcntl(fd, F_SETLK, &fl));
	CHECK(!r && !f, "F_UNLCK: %d (%s), %ld pages fetched", r, strerror(errno), f);

	f = FETCHED_BY(probe, r = pipe2(pfds, O_CLOEXEC));
	CHECK(!r && !f && pfds[0] > 2 && pfds[1] > 2, "pipe2: %d [%d %d], %ld pages fetched", r,
	      pfds[0], pfds[1], f);
	CHECK(write(pfds[1], "x", 1) == 1, "write to the pipe: %s", strerror(errno));
	pfd = (struct pollfd){ .fd = pfds[0], .events = POLLIN };
	f = FETCHED_BY(probe, r = poll(&pfd, 1, 1000));
	CHECK(r == 1 && pfd.revents == POLLIN && !f, "poll: %d revents 0x%x, %ld pages fetched", r,
	      pfd.revents, f);
	FD_ZERO(&rset);
	FD_SET(pfds[0], &rset);
	f = FETCHED_BY(probe, r = select(pfds[0] + 1, &rset, NULL, NULL, &tv));
	CHECK(r == 1 && FD_ISSET(pfds[0], &rset) && !f, "select: %d, %ld pages fetched", r, f);
	ep = epoll_create1(EPOLL_CLOEXEC);
	f = FETCHED_BY(probe, r = epoll_ctl(ep, EPOLL_CTL_ADD, pfds[0], &ev));
	CHECK(ep >= 0 && !r && !f, "epoll_ctl: %d (%s), %ld pages fetched", r, strerror(errno), f);
	memset(evs, 0, sizeof(evs));
	f = FETCHED_BY(probe, r = epoll_wait(ep, evs, 4, 1000));
	CHECK(r == 1 && evs[0].events == EPOLLIN && evs[0].data.u64 == 0x1234567890ull && !f,
	      "epoll_wait: %d events 0x%x data 0x%llx, %ld pages fetched", r, evs[0].events,
	      (unsigned long long)evs[0].data.u64, f);
	close(ep);
	close(pfds[0]);
	close(pfds[1]);

	f = FETCHED_BY(probe, r = socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	CHECK(!r && !f, "socketpair: %d (%s), %ld pages fetched", r, strerror(errno), f);
	f = FETCHED_BY(probe, r = sendmsg(sv[0], &mh, 0));
	CHECK(r == 6 && !f, "sendmsg: %d (%s), %ld pages fetched", r, strerror(errno), f);
	mh = (struct msghdr){ .msg_iov = in_iov, .msg_iovlen = 2, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	f = FETCHED_BY(probe, r = recvmsg(sv[1], &mh, 0));
	CHECK(r == 6 && !memcmp(in1, "ab", 2) && !memcmp(in2, "cdef", 4) && mh.msg_controllen == 0 &&
	      !f, "recvmsg: %d '%.2s' '%.4s' controllen %zu, %ld pages fetched", r, in1, in2,
	      (size_t)mh.msg_controllen, f);
	calls_one_page(sv);
	close(sv[0]);
	close(sv[1]);

	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	memcpy(sun.sun_path, "\0om-self-calls", 15);
	f = FETCHED_BY(probe, r = bind(s, (struct sockaddr *)&sun,
				       offsetof(struct sockaddr_un, sun_path) + 15));
	CHECK(!r && !f, "bind: %d (%s), %ld pages fetched", r, strerror(errno), f);
	f = FETCHED_BY(probe, r = getsockname(s, (struct sockaddr *)&got, &len));
	CHECK(!r && len == offsetof(struct sockaddr_un, sun_path) + 15 &&
	      !memcmp(got.sun_path, sun.sun_path, 15) && !f,
	      "getsockname: %d len %u, %ld pages fetched", r, len, f);
	f = FETCHED_BY(probe, r = getsockopt(s, SOL_SOCKET, SO_TYPE, &val, &vlen));
	CHECK(!r && val == SOCK_DGRAM && vlen == sizeof(val) && !f,
	      "getsockopt: %d type %d, %ld pages fetched", r, val, f);
	close(s);

	f = FETCHED_BY(probe, r = getcwd(cwd, sizeof(cwd)) ? 0 : -1);
	CHECK(!r && !strcmp(cwd, cwd_home) && !f, "getcwd: '%s', not '%s', %ld pages fetched", cwd,
	      cwd_home, f);
	f = FETCHED_BY(probe, r = uname(&u));
	CHECK(!r && !strcmp(u.nodename, u_home.nodename) && !strcmp(u.release, u_home.release) &&
	      !f, "uname: %s %s, %ld pages fetched", u.nodename, u.release, f);
	f = FETCHED_BY(probe, r = statfs("/tmp", &sf));
	CHECK(!r && sf.f_type == sf_home.f_type && sf.f_bsize == sf_home.f_bsize && !f,
	      "statfs: type 0x%lx, %ld pages fetched", (long)sf.f_type, f);
	printf("calls: %d failures, each with %ld pages of its own to read debug\n", failures,
	       probe);
	close(fd);
	unlink(path);
	go("home");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "file"))
		test_file(argv[2], argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "pipe"))
		test_pipe(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "threads"))
		test_threads();
	else if (argc == 2 && !strcmp(argv[1], "badwhere"))
		test_badwhere();
	else if (argc == 3 && !strcmp(argv[1], "ids"))
		test_ids(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "mmflags"))
		test_mmflags(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "prctl"))
		test_prctl(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "homecall"))
		test_homecall(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "vanish"))
		test_vanish(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "ownwhere"))
		test_ownwhere(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "relay"))
		test_relay(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "behind"))
		test_behind(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "rewrite"))
		test_rewrite(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "unlock"))
		test_unlock(argv[2], argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "reap"))
		test_reap(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "calls"))
		test_calls(argv[2], argv[3]);
	else if (argc == 5 && !strcmp(argv[1], "mapped"))
		test_mapped(argv[2], argv[3], atol(argv[4]));
	else {
		fprintf(stderr, "usage: see the comment at the top of om-self.c\n");
		return 2;
	}
	printf("%s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
