// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-deleg: files of home delegated to the node a process runs on
 * (docs/engine.md, "Files served where the process runs").
 *
 *   om-deleg files NODE DIR   a file of DIR at home opened away: reads,
 *                             writes, fstat, seeks and record locks served
 *                             at NODE (the deputy runs none of them), also
 *                             through a dup of its descriptor, and a stat
 *                             by path says the size written away; a call
 *                             not served there (sendfile) goes on from the
 *                             offset reads left there; a
 *                             process at home that opens it meanwhile sees
 *                             every byte and the lock; a new file's size
 *                             and bytes after fsync, ftruncate and close
 *                             (5 MiB: more than a node keeps unsent); a file
 *                             of home cut into and grown again away; a
 *                             file someone at home has open is not
 *                             delegated (every write seen at once); what a
 *                             process wrote and never closed reaches home
 *                             when it ends away
 *   om-deleg names NODE DIR   a name of DIR that does not exist, looked up
 *                             away, is known not to exist at NODE (stat,
 *                             access, open answered there) until a process
 *                             at home makes it, moves a file to it, makes
 *                             the directory it was missing, or mounts over
 *                             its directory, or the process makes it
 *                             itself: then it is seen at once (a mount:
 *                             within 2 s), while another name of that
 *                             directory stays known; a path through a
 *                             symbolic link is not kept
 *   om-deleg hold NODE PATH   a new file at NODE: 5000 bytes written and
 *                             synced, 3000 more written; prints "holding"
 *                             and waits (for its node's death)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "probe.h"
#include "where.h"

#define PAGE 4096
/* The old file: three pages and a bit. */
#define OLD_SIZE (3 * PAGE + 100)
#define SMALL_WRITES 200
/* Past the pages a node keeps unsent (1,024): some go home unasked. */
#define CLOSED_SIZE (5 << 20)

static char pattern(long i)
{
	return (char)(i * 7 % 251);
}

static void go(const char *node)
{
	char why[128];

	CHECK(!om_go(node, why, sizeof(why)), "%s", why);
}

static void make_old(const char *path)
{
	char buf[OLD_SIZE];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	long i;

	for (i = 0; i < OLD_SIZE; i++)
		buf[i] = pattern(i);
	CHECK(fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf) && !close(fd),
	      "make %s: %s", path, strerror(errno));
}

/* The byte the file holds at @off once the process away wrote what it writes. */
static char expected(long off)
{
	if (off >= 8190 && off < 8195)
		return "HELLO"[off - 8190];
	if (off >= 8195 && off < 8198)
		return "DUP"[off - 8195];
	if (off >= 20000)
		return (char)('a' + (off - 20000) / 16 % 26);
	if (off >= OLD_SIZE)
		return 0;
	return pattern(off);
}

/*
 * The helper at home: for each command line from the process away, open
 * the file it names as another process would, and answer "ok" or why not.
 */
static void helper(int in, int out, const char *dir)
{
	char cmd[16], path[256], buf[65536], why[256];
	struct flock fl;
	struct stat st;
	ssize_t n;
	long i;
	int fd;

	while ((n = read(in, cmd, sizeof(cmd) - 1)) > 0) {
		cmd[n] = 0;
		why[0] = 0;
		if (!strcmp(cmd, "old")) {
			snprintf(path, sizeof(path), "%s/old", dir);
			/* This open waits while the node gives the file back. */
			fd = open(path, O_RDONLY);
			n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf), 0);
			if (n != 20000 + SMALL_WRITES * 16)
				snprintf(why, sizeof(why), "old: %zd bytes (%s)", n, strerror(errno));
			for (i = 0; !why[0] && i < n; i++)
				if (buf[i] != expected(i))
					snprintf(why, sizeof(why), "old: byte %ld is %d, not %d", i,
						 buf[i], expected(i));
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_RDLCK;
			fl.l_len = 100;
			if (!why[0] && (fcntl(fd, F_GETLK, &fl) || fl.l_type != F_WRLCK ||
					fl.l_start || fl.l_len != 100))
				snprintf(why, sizeof(why), "old: the lock away not seen: type %d %lld+%lld",
					 fl.l_type, (long long)fl.l_start, (long long)fl.l_len);
			close(fd);
		} else if (!strcmp(cmd, "new")) {
			snprintf(path, sizeof(path), "%s/new", dir);
			/* After fsync the size is home's before anyone opens it. */
			if (stat(path, &st) || st.st_size != 10000)
				snprintf(why, sizeof(why), "new: stat size %lld before open",
					 (long long)st.st_size);
			fd = open(path, O_RDONLY);
			n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
			if (!why[0] && n != 10000)
				snprintf(why, sizeof(why), "new: %zd bytes", n);
			for (i = 0; !why[0] && i < n; i++)
				if (buf[i] != (char)('A' + i / PAGE))
					snprintf(why, sizeof(why), "new: byte %ld is %d", i, buf[i]);
			close(fd);
		} else if (!strcmp(cmd, "cut")) {
			/* Cut to 5000 away, then grown to 20000: zeros past 5000. */
			snprintf(path, sizeof(path), "%s/cut", dir);
			fd = open(path, O_RDONLY);
			n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
			if (n != 20000)
				snprintf(why, sizeof(why), "cut: %zd bytes", n);
			for (i = 0; !why[0] && i < n; i++)
				if (buf[i] != (i < 5000 ? 'x' : 0))
					snprintf(why, sizeof(why), "cut: byte %ld is %d", i, buf[i]);
			close(fd);
		} else if (!strcmp(cmd, "closed")) {
			snprintf(path, sizeof(path), "%s/closed", dir);
			fd = open(path, O_RDONLY);
			for (i = 0; fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0; i += n)
				if (memchr(buf, 0, n) || buf[0] != 'c' || buf[n - 1] != 'c')
					break;
			if (i != CLOSED_SIZE)
				snprintf(why, sizeof(why), "closed: %ld bytes of 'c' after close away", i);
			close(fd);
		} else if (!strcmp(cmd, "shared")) {
			/* Open here all along: each write away is in it at once. */
			snprintf(path, sizeof(path), "%s/shared", dir);
			fd = open(path, O_RDONLY);
			if (fd < 0 || write(out, "open", 4) != 4)
				snprintf(why, sizeof(why), "shared: open: %s", strerror(errno));
			n = read(in, cmd, sizeof(cmd) - 1);
			n = pread(fd, buf, 64, 0);
			if (!why[0] && (n != 6 || memcmp(buf, "shared", 6)))
				snprintf(why, sizeof(why), "shared: %zd bytes before close away", n);
			close(fd);
		} else {
			snprintf(why, sizeof(why), "unknown command %s", cmd);
		}
		n = why[0] ? (ssize_t)strlen(why) : 2;
		if (write(out, why[0] ? why : "ok", n) != n)
			break;
	}
	_exit(0);
}

/* Ask the helper to check @what; its answer is "ok" or why not. */
static void ask(int to, int from, const char *what)
{
	char ans[256];
	ssize_t n;

	CHECK(write(to, what, strlen(what)) == (ssize_t)strlen(what), "ask %s", what);
	n = read(from, ans, sizeof(ans) - 1);
	ans[n > 0 ? n : 0] = 0;
	CHECK(!strcmp(ans, "ok"), "%s", ans);
}

/* A process that writes a file away and ends without closing it. */
static void unclosed(const char *node, const char *path)
{
	char buf[3000];
	int fd, status;
	pid_t pid = fork();

	if (!pid) {
		go(node);
		fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		memset(buf, 'u', sizeof(buf));
		if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf) ||
		    om_debug_count(0, "deleg_files") < 1)
			_exit(3);
		_exit(failures ? 4 : 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "the writer away: status %#x", status);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 3000 && buf[0] == 'u' && buf[2999] == 'u',
	      "after its end away, %s is not what it wrote", path);
	close(fd);
}

static int test_files(const char *node, const char *dir)
{
	char path[256], buf[PAGE * 3], old_path[256];
	int to[2], from[2], pfd[2], fd, fd2;
	long probe, calls, granted, i;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 100 };
	struct stat home_st, st;
	pid_t helper_pid;

	snprintf(old_path, sizeof(old_path), "%s/old", dir);
	make_old(old_path);
	snprintf(path, sizeof(path), "%s/cut", dir);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	memset(buf, 'x', sizeof(buf));
	CHECK(fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf) && !close(fd), "make %s",
	      path);
	CHECK(!stat(old_path, &home_st), "stat %s", old_path);
	CHECK(!pipe(to) && !pipe(from), "pipes");
	helper_pid = fork();
	if (!helper_pid) {
		close(to[1]);
		close(from[0]);
		helper(to[0], from[1], dir);
	}
	close(to[0]);
	close(from[1]);
	go(node);

	/* What reading debug costs in calls the deputy runs. */
	calls = om_debug_count(0, "syscalls");
	probe = om_debug_count(0, "syscalls") - calls;
	granted = om_debug_count(0, "deleg_files");
	calls = om_debug_count(0, "syscalls");
	fd = open(old_path, O_RDWR);
	CHECK(fd >= 0, "open %s away: %s", old_path, strerror(errno));
	CHECK(om_debug_count(0, "deleg_files") == granted + 1, "the file was not delegated");
	CHECK(pread(fd, buf, 100, 5000) == 100 && buf[0] == pattern(5000) &&
	      buf[99] == pattern(5099), "pread of home's bytes away");
	CHECK(pwrite(fd, "HELLO", 5, 8190) == 5, "pwrite across a page");
	for (i = 0; i < SMALL_WRITES; i++) {
		memset(buf, 'a' + i % 26, 16);
		CHECK(pwrite(fd, buf, 16, 20000 + i * 16) == 16, "pwrite %ld", i);
	}
	CHECK(!fstat(fd, &st) && st.st_size == 20000 + SMALL_WRITES * 16 &&
	      st.st_ino == home_st.st_ino && st.st_dev == home_st.st_dev &&
	      st.st_mode == home_st.st_mode, "fstat away: size %lld ino %llu",
	      (long long)st.st_size, (unsigned long long)st.st_ino);
	/* A stat by path goes home: its size and times are still the copy's. */
	CHECK(!stat(old_path, &st) && st.st_size == 20000 + SMALL_WRITES * 16 &&
	      st.st_ino == home_st.st_ino, "stat away: size %lld", (long long)st.st_size);
	CHECK(lseek(fd, 0, SEEK_END) == 20000 + SMALL_WRITES * 16, "lseek to the end");
	CHECK(read(fd, buf, 10) == 0, "read at the end");
	CHECK(lseek(fd, 8188, SEEK_SET) == 8188 && read(fd, buf, 8) == 8 &&
	      !memcmp(buf + 2, "HELLO", 5) && buf[0] == pattern(8188), "read back across a page");
	/* A second descriptor for it (dup) shares the delegation, and a close of it keeps it. */
	fd2 = dup(fd);
	CHECK(fd2 > fd && pwrite(fd2, "DUP", 3, 8195) == 3 && !close(fd2), "dup: %s",
	      strerror(errno));
	CHECK(!fcntl(fd, F_SETLK, &fl), "F_SETLK: %s", strerror(errno));
	fl.l_type = F_WRLCK;
	CHECK(!fcntl(fd, F_GETLK, &fl) && fl.l_type == F_UNLCK, "F_GETLK: type %d", fl.l_type);
	fl.l_type = F_WRLCK;
	/* Home's rules for the descriptor's mode hold: written-only locks need writing. */
	calls = om_debug_count(0, "syscalls") - calls - probe * 3;
	/* The open, the stat, the dup and its close ran at home, no call on the file. */
	CHECK(calls <= 4, "%ld calls ran at home for %d served away", calls, SMALL_WRITES + 10);

	/* Someone at home opens it: the node gives it back, bytes and lock. */
	ask(to[1], from[0], "old");
	CHECK(pwrite(fd, "AFTER", 5, 0) == 5 && pread(fd, buf, 5, 0) == 5 &&
	      !memcmp(buf, "AFTER", 5), "the file used from home after its recall");
	CHECK(!fdatasync(fd) && !close(fd), "fdatasync and close: %s", strerror(errno));

	/*
	 * A call the node does not serve (sendfile) gives the file back first,
	 * its offset with it: it goes on from where the reads here left it.
	 */
	fd = open(old_path, O_RDONLY);
	CHECK(fd >= 0 && pipe(pfd) == 0, "open again and a pipe: %s", strerror(errno));
	CHECK(read(fd, buf, 100) == 100 && !memcmp(buf, "AFTER", 5), "read away");
	CHECK(sendfile(pfd[1], fd, NULL, 10) == 10 && read(pfd[0], buf, 10) == 10 &&
	      buf[0] == expected(100) && buf[9] == expected(109), "sendfile after reads away");
	CHECK(read(fd, buf, 10) == 10 && buf[0] == expected(110), "read after sendfile");
	close(pfd[0]);
	close(pfd[1]);
	close(fd);

	/* A new file: written, cut, synced; then written and closed. */
	snprintf(path, sizeof(path), "%s/new", dir);
	granted = om_debug_count(0, "deleg_files");
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	CHECK(om_debug_count(0, "deleg_files") == granted + 1, "the new file was not delegated");
	for (i = 0; i < 3; i++) {
		memset(buf + i * PAGE, 'A' + i, PAGE);
	}
	CHECK(write(fd, buf, sizeof(buf)) == sizeof(buf), "write the new file");
	CHECK(!ftruncate(fd, 10000), "ftruncate: %s", strerror(errno));
	CHECK(!fstat(fd, &st) && st.st_size == 10000, "fstat after ftruncate: %lld",
	      (long long)st.st_size);
	CHECK(!fsync(fd), "fsync: %s", strerror(errno));
	ask(to[1], from[0], "new");
	CHECK(!close(fd), "close new");

	/* A file of home cut into, then grown again, away. */
	snprintf(path, sizeof(path), "%s/cut", dir);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && !ftruncate(fd, 5000) && !ftruncate(fd, 20000), "cut and grow: %s",
	      strerror(errno));
	CHECK(pread(fd, buf, PAGE, PAGE) == PAGE && buf[0] == 'x' && buf[5000 - PAGE - 1] == 'x' &&
	      !buf[5000 - PAGE] && !buf[PAGE - 1], "the page cut into, read away");
	CHECK(!fsync(fd) && !close(fd), "fsync and close: %s", strerror(errno));
	ask(to[1], from[0], "cut");

	snprintf(path, sizeof(path), "%s/closed", dir);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	memset(buf, 'c', PAGE);
	for (i = 0; i < CLOSED_SIZE; i += PAGE)
		CHECK(write(fd, buf, PAGE) == PAGE, "write at %ld: %s", i, strerror(errno));
	CHECK(!close(fd), "close: %s", strerror(errno));
	ask(to[1], from[0], "closed");

	/* A file the helper has open at home is not delegated. */
	snprintf(path, sizeof(path), "%s/shared", dir);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	CHECK(write(to[1], "shared", 6) == 6 && read(from[0], buf, 4) == 4, "the helper opens");
	close(fd);
	granted = om_debug_count(0, "deleg_files");
	fd = open(path, O_RDWR);
	CHECK(om_debug_count(0, "deleg_files") == granted, "a file open at home was delegated");
	CHECK(write(fd, "shared", 6) == 6, "write the shared file");
	ask(to[1], from[0], "go");
	close(fd);

	close(to[1]);
	waitpid(helper_pid, NULL, 0);
	snprintf(path, sizeof(path), "%s/unclosed", dir);
	unclosed(node, path);
	go("home");
	return 0;
}

static int test_hold(const char *node, const char *path)
{
	char buf[5000];
	int fd;

	go(node);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	memset(buf, 'S', sizeof(buf));
	CHECK(fd >= 0 && write(fd, buf, 5000) == 5000 && !fsync(fd), "write and fsync: %s",
	      strerror(errno));
	memset(buf, 'U', 3000);
	CHECK(write(fd, buf, 3000) == 3000, "write: %s", strerror(errno));
	CHECK(om_debug_count(0, "deleg_files") >= 1, "the file was not delegated");
	if (failures)
		return 1;
	printf("holding\n");
	for (;;)
		pause();
}

/* The helper at home for names: each command changes DIR as another process would. */
static void names_helper(int in, int out, const char *dir)
{
	char cmd[16], a[300], b[300];
	const char *why;
	ssize_t n;
	int fd;

	while ((n = read(in, cmd, sizeof(cmd) - 1)) > 0) {
		cmd[n] = 0;
		why = "ok";
		if (!strcmp(cmd, "make")) {
			snprintf(a, sizeof(a), "%s/made", dir);
			fd = open(a, O_CREAT | O_WRONLY, 0644);
			if (fd < 0 || close(fd))
				why = "make: open failed";
		} else if (!strcmp(cmd, "rename")) {
			snprintf(a, sizeof(a), "%s/.moving", dir);
			snprintf(b, sizeof(b), "%s/moved", dir);
			fd = open(a, O_CREAT | O_WRONLY, 0644);
			if (fd < 0 || close(fd) || rename(a, b))
				why = "rename failed";
		} else if (!strcmp(cmd, "mkdir")) {
			snprintf(a, sizeof(a), "%s/dir", dir);
			snprintf(b, sizeof(b), "%s/dir/in", dir);
			fd = mkdir(a, 0755) ? -1 : open(b, O_CREAT | O_WRONLY, 0644);
			if (fd < 0 || close(fd))
				why = "mkdir failed";
		} else if (!strcmp(cmd, "mount")) {
			snprintf(a, sizeof(a), "%s/sub", dir);
			snprintf(b, sizeof(b), "%s/sub/mounted", dir);
			fd = mount("om-names", a, "tmpfs", 0, "size=1m") ? -1 :
			     open(b, O_CREAT | O_WRONLY, 0644);
			if (fd < 0 || close(fd))
				why = "mount failed";
		} else if (!strcmp(cmd, "umount")) {
			snprintf(a, sizeof(a), "%s/sub", dir);
			if (umount(a))
				why = "umount failed";
		} else {
			why = "unknown command";
		}
		if (write(out, why, strlen(why)) != (ssize_t)strlen(why))
			break;
	}
	_exit(0);
}

/* stat() of @dir/@name away: 0 or the errno. */
static int stat_errno(const char *dir, const char *name)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? errno : 0;
}

/* @name does not exist, and the node was told it may say so itself. */
static void kept(const char *dir, const char *name)
{
	long granted = om_debug_count(0, "names_granted");
	int err = stat_errno(dir, name);

	CHECK(err == ENOENT, "stat %s/%s: %s, not ENOENT", dir, name, strerror(err));
	CHECK(om_debug_count(0, "names_granted") == granted + 1,
	      "home did not say %s/%s does not exist (names_granted %ld)", dir, name, granted);
}

static int test_names(const char *node, const char *top)
{
	char dir[256], path[300];
	long calls, probe, drops, granted;
	int to[2], from[2], fd, err, i;
	pid_t helper_pid;

	snprintf(dir, sizeof(dir), "%s/om-names.%d", top, (int)getpid());
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK(!mkdir(dir, 0755) && !mkdir(path, 0755), "mkdir %s", path);
	snprintf(path, sizeof(path), "%s/link", dir);
	CHECK(!symlink("sub", path), "symlink %s", path);
	CHECK(!pipe(to) && !pipe(from), "pipes");
	helper_pid = fork();
	if (!helper_pid) {
		close(to[1]);
		close(from[0]);
		names_helper(to[0], from[1], dir);
	}
	close(to[0]);
	close(from[1]);
	go(node);

	/* Asked again, by stat, access and open: answered here (the deputy runs none). */
	kept(dir, "made");
	calls = om_debug_count(0, "syscalls");
	probe = om_debug_count(0, "syscalls") - calls;
	calls = om_debug_count(0, "syscalls");
	snprintf(path, sizeof(path), "%s/made", dir);
	CHECK(stat_errno(dir, "made") == ENOENT, "stat again: not ENOENT");
	CHECK(access(path, F_OK) && errno == ENOENT, "access: not ENOENT");
	CHECK(open(path, O_RDONLY) < 0 && errno == ENOENT, "open: not ENOENT");
	calls = om_debug_count(0, "syscalls") - calls - probe;
	CHECK(!calls, "stat, access and open of a name known absent: %ld ran at home, not 0",
	      calls);

	/* Made at home by another process: seen the moment it returns. */
	kept(dir, "other");
	drops = om_debug_count(0, "names_drops");
	ask(to[1], from[0], "make");
	err = stat_errno(dir, "made");
	CHECK(!err, "made at home, stat away says %s", strerror(err));
	CHECK(om_debug_count(0, "names_drops") > drops, "home's change dropped nothing here");
	/* Only the name made was dropped: another of that directory is still known absent. */
	calls = om_debug_count(0, "syscalls");
	err = stat_errno(dir, "other");
	calls = om_debug_count(0, "syscalls") - calls - probe;
	CHECK(err == ENOENT && !calls, "a name made beside it: stat of the other says %s, %ld at home",
	      strerror(err), calls);

	/* Made by the process itself. */
	kept(dir, "own");
	snprintf(path, sizeof(path), "%s/own", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && !close(fd), "create %s", path);
	err = stat_errno(dir, "own");
	CHECK(!err, "made away, stat away says %s", strerror(err));

	/* Moved in at home (rename). */
	kept(dir, "moved");
	ask(to[1], from[0], "rename");
	err = stat_errno(dir, "moved");
	CHECK(!err, "renamed to at home, stat away says %s", strerror(err));

	/* Its missing directory made at home. */
	kept(dir, "dir/in");
	ask(to[1], from[0], "mkdir");
	err = stat_errno(dir, "dir/in");
	CHECK(!err, "its directory made at home, stat away says %s", strerror(err));

	/* A file system mounted over its directory at home: the drop follows the mount. */
	kept(dir, "sub/mounted");
	ask(to[1], from[0], "mount");
	for (i = 0; i < 200 && (err = stat_errno(dir, "sub/mounted")) == ENOENT; i++)
		usleep(10000);
	CHECK(!err, "mounted over at home, stat away says %s after %d ms", strerror(err), i * 10);
	ask(to[1], from[0], "umount");

	/* Through a symbolic link: not kept (its target may change elsewhere). */
	granted = om_debug_count(0, "names_granted");
	err = stat_errno(dir, "link/none");
	CHECK(err == ENOENT && om_debug_count(0, "names_granted") == granted,
	      "through a link: %s, names_granted %ld -> %ld", strerror(err), granted,
	      om_debug_count(0, "names_granted"));

	close(to[1]);
	waitpid(helper_pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "files"))
		test_files(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "names"))
		test_names(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "hold"))
		test_hold(argv[2], argv[3]);
	else {
		fprintf(stderr, "usage: see the comment at the top of om-deleg.c\n");
		return 2;
	}
	printf("%s: %d failures\n", argv[1], failures);
	return failures ? 1 : 0;
}
