// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-self: engine tests a process runs on itself. Each moves itself by
 * writing /proc/self/hpc/where and checks what it sees.
 *
 *   om-self file NODE PATH        a file opened at home, used away; a new one
 *   om-self pipe NODE             a read that blocks at home, plain and signalled
 *   om-self threads               a second thread forbids moving
 *   om-self badwhere              refused writes change nothing
 *   om-self ids NODE              pid, ppid and tid stay home's
 *   om-self homecall NODE         a call that runs only at home (syslog) takes
 *                                 it home, and back to NODE after it; a second
 *                                 one at once keeps it home (too short a stay)
 *   om-self vanish NODE MIB       a move whose destination dies midway: the
 *                                 process goes on at home, memory intact
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
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "probe.h"
#include "where.h"

/* Move to node (or "home") and check we got there. */
static void go(const char *node)
{
	char now[32];
	int err = om_where_write(0, node);

	CHECK(!err, "write %s to where: %s", node, strerror(-err));
	om_where_now(0, now, sizeof(now));
	CHECK(!strcmp(now, node), "where says %s, not %s", now, node);
	printf("at %s\n", now);
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

static int test_ids(const char *node)
{
	pid_t pid = getpid(), ppid = getppid(), tid = (pid_t)syscall(SYS_gettid);

	go(node);
	CHECK(getpid() == pid, "getpid %d away, %d at home", getpid(), pid);
	CHECK(getppid() == ppid, "getppid %d away, %d at home", getppid(), ppid);
	CHECK((pid_t)syscall(SYS_gettid) == tid, "gettid away");
	printf("ids: pid %d ppid %d\n", getpid(), getppid());
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
	else if (argc == 3 && !strcmp(argv[1], "homecall"))
		test_homecall(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "vanish"))
		test_vanish(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "relay"))
		test_relay(argv[2], atol(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "behind"))
		test_behind(argv[2], argv[3]);
	else if (argc == 5 && !strcmp(argv[1], "mapped"))
		test_mapped(argv[2], argv[3], atol(argv[4]));
	else {
		fprintf(stderr, "usage: see the comment at the top of om-self.c\n");
		return 2;
	}
	printf("%s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
