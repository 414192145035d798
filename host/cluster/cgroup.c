// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cgroup file system is used directly: libsystemd's public API makes
 * cgroups only as transient units over D-Bus, which needs a running
 * systemd, and omcluster runs in containers and CI without one.
 */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

/* After the grace time, how long the SIGKILLed members get to be gone. */
#define KILL_WAIT_MS 5000

/* The cgroup2 mount: its mount point and the cgroup path it shows as its root. */
static int cgroup2_mount(char *point, size_t pcap, char *root, size_t rcap)
{
	char line[4096];
	int r = -ENOENT;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (r == -ENOENT && fgets(line, sizeof(line), f)) {
		char mroot[PATH_MAX], mpoint[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mount-point ... - fstype ... */
		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", mroot, mpoint) != 2)
			continue;
		r = (size_t)snprintf(point, pcap, "%s", mpoint) >= pcap ||
				    (size_t)snprintf(root, rcap, "%s", mroot) >= rcap ?
			    -ENAMETOOLONG :
			    0;
	}
	fclose(f);
	return r;
}

int om_cgroup_parent(char *out, size_t cap)
{
	char point[PATH_MAX], root[PATH_MAX], line[PATH_MAX + 8], *own = NULL;
	const char *env = getenv(OM_CGROUP_PARENT_ENV);
	size_t rlen;
	FILE *f;
	int r;

	if (env && env[0]) {
		if (strcmp(env, "none") == 0)
			return -ENOTSUP;
		return (size_t)snprintf(out, cap, "%s", env) >= cap ? -ENAMETOOLONG : 0;
	}
	r = cgroup2_mount(point, sizeof(point), root, sizeof(root));
	if (r)
		return r;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	while (!own && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			own = line + 3;
	fclose(f);
	if (!own)
		return -ENOENT;
	own[strcspn(own, "\n")] = '\0';
	/* The mount may show a sub-tree: our path is then below its root. */
	rlen = strcmp(root, "/") ? strlen(root) : 0;
	if (strncmp(own, root, rlen) || (own[rlen] != '/' && own[rlen] != '\0'))
		return -ENOENT;
	own += rlen;
	return (size_t)snprintf(out, cap, "%s%s", point, strcmp(own, "/") ? own : "") >= cap ?
		       -ENAMETOOLONG :
		       0;
}

int om_cgroup_path(const char *parent, const char *name, const char *dir, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "%s/omcluster.%s.%08x", parent, name, om_dir_hash(dir)) >= cap ?
		       -ENAMETOOLONG :
		       0;
}

/* Reads dir/file whole, NUL-terminated, into a malloc'd buffer; -errno. */
static int read_file(const char *dir, const char *file, char **out)
{
	char path[PATH_MAX + 32];
	size_t cap = 4096, used = 0;
	char *buf = NULL;
	int fd, err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (!buf || used + 1 >= cap) {
			char *grown = realloc(buf, buf ? cap *= 2 : cap);

			if (!grown) {
				err = -ENOMEM;
				break;
			}
			buf = grown;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[used] = '\0';
	*out = buf;
	return 0;
}

/* Writes text to dir/file. Async-signal-safe (om_cgroup_enter runs in a forked child). */
static int write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 32];
	size_t dlen = strlen(dir), flen = strlen(file), tlen = strlen(text);
	ssize_t n;
	int fd, err = 0;

	if (dlen + 1 + flen + 1 > sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, dlen);
	path[dlen] = '/';
	memcpy(path + dlen + 1, file, flen + 1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, tlen);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != tlen)
		err = -EIO;
	close(fd);
	return err;
}

int om_cgroup_create(const char *path)
{
	char *procs;
	int r;

	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* A directory that is not a cgroup has no cgroup.procs. */
	r = read_file(path, "cgroup.procs", &procs);
	if (r)
		return r == -ENOENT ? -ENOTDIR : r;
	r = procs[0] ? -EBUSY : 0;
	free(procs);
	if (r)
		return r;
	/* Moving a process in needs write access here (and where it comes from). */
	if (access(path, W_OK) < 0) {
		r = -errno;
		rmdir(path);
	}
	return r;
}

int om_cgroup_enter(const char *path)
{
	return write_file(path, "cgroup.procs", "0");
}

/* The members' pids (at most cap); how many, or -errno. */
static int members(const char *path, int *pids, size_t cap)
{
	char *procs, *p, *end;
	size_t n = 0;
	int r = read_file(path, "cgroup.procs", &procs);

	if (r)
		return r;
	for (p = procs; n < cap; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0)
			pids[n++] = (int)pid;
	}
	free(procs);
	return (int)n;
}

static bool listed(const int *pids, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

#define MAX_MEMBERS 4096

/*
 * Sends sig to every member. A pid read from cgroup.procs may die and be
 * reused before it is signalled: its pidfd is opened first, and used only
 * if the pid is still listed after, which proves the pidfd's process is
 * the member (a process that took the pid over in between would be a
 * member too: only members fork into the cgroup). Returns how many were
 * signalled, or -errno.
 */
static int signal_members(const char *path, int sig)
{
	static const size_t cap = MAX_MEMBERS;
	int *before = calloc(cap, sizeof(int)), *after = calloc(cap, sizeof(int));
	int *fds = calloc(cap, sizeof(int));
	int nb, na = 0, sent = 0;

	if (!before || !after || !fds) {
		free(before);
		free(after);
		free(fds);
		return -ENOMEM;
	}
	nb = members(path, before, cap);
	for (int i = 0; i < nb; i++)
		fds[i] = pidfd_open(before[i], 0);
	if (nb > 0)
		na = members(path, after, cap);
	for (int i = 0; i < nb; i++) {
		if (fds[i] < 0)
			continue;
		if (na > 0 && listed(after, na, before[i]) &&
		    pidfd_send_signal(fds[i], sig, NULL, 0) == 0)
			sent++;
		close(fds[i]);
	}
	free(before);
	free(after);
	free(fds);
	return nb < 0 ? nb : na < 0 ? na : sent;
}

/* Whether the cgroup has no process left (cgroup.events says populated 0). */
static int empty(const char *path)
{
	char *events, *p;
	int r = read_file(path, "cgroup.events", &events);

	if (r)
		return r;
	p = strstr(events, "populated ");
	r = p ? p[10] == '0' : -EIO;
	free(events);
	return r;
}

static int wait_empty(const char *path, long long deadline)
{
	int r;

	while ((r = empty(path)) == 0 && om_now_ms() < deadline)
		om_sleep_ms(20);
	return r;
}

int om_cgroup_stop(const char *path, unsigned int timeout_ms)
{
	struct om_cgroup_usage u;
	long long deadline;
	int r;

	r = empty(path);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!r) {
		signal_members(path, SIGTERM);
		r = wait_empty(path, om_now_ms() + timeout_ms);
	}
	if (r == 0) {
		/* cgroup.kill (Linux 5.14) also gets what forks meanwhile. */
		if (write_file(path, "cgroup.kill", "1"))
			signal_members(path, SIGKILL);
		deadline = om_now_ms() + KILL_WAIT_MS;
		while ((r = empty(path)) == 0 && om_now_ms() < deadline) {
			om_sleep_ms(20);
			signal_members(path, SIGKILL);
		}
	}
	/* Removed meanwhile (an up tearing down beside a down): only an empty cgroup can be. */
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (r == 0)
		return om_cgroup_usage(path, &u) ? 1 : (int)(u.procs ? u.procs : 1);
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* The resident size of pid in bytes (VmRSS), 0 when it cannot be read. */
static unsigned long long rss_of(int pid)
{
	char path[64], *status, *p;
	unsigned long long kib = 0;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (read_file(path, "status", &status))
		return 0;
	p = strstr(status, "\nVmRSS:");
	if (p)
		sscanf(p + 7, "%llu", &kib);
	free(status);
	return kib * 1024;
}

int om_cgroup_usage(const char *path, struct om_cgroup_usage *u)
{
	int *pids = calloc(MAX_MEMBERS, sizeof(int));
	char *current;
	int n;

	if (!pids)
		return -ENOMEM;
	n = members(path, pids, MAX_MEMBERS);
	if (n < 0) {
		free(pids);
		return n;
	}
	u->procs = (unsigned int)n;
	u->memory = 0;
	/* memory.current exists only where the parent hands the memory controller down. */
	u->memory_is_rss = read_file(path, "memory.current", &current) != 0;
	if (!u->memory_is_rss) {
		u->memory = strtoull(current, NULL, 10);
		free(current);
	}
	for (int i = 0; u->memory_is_rss && i < n; i++)
		u->memory += rss_of(pids[i]);
	free(pids);
	return 0;
}
