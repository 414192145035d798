// SPDX-License-Identifier: GPL-2.0-only
#include "proc.h"

#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long om_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void om_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Reads state and start time (fields 3 and 22) of /proc/PID/stat. */
static int read_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	unsigned int field = 2;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The name (field 2) may hold spaces and parentheses: skip to its end. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	while (*p && field < 22) {
		while (*p == ' ')
			p++;
		field++;
		if (field == 3)
			*state = *p;
		if (field == 22)
			break;
		while (*p && *p != ' ')
			p++;
	}
	if (field != 22 || sscanf(p, "%llu", start) != 1)
		return -EIO;
	return 0;
}

int om_proc_start_time(pid_t pid, unsigned long long *start)
{
	char state;

	return read_stat(pid, &state, start);
}

/* Whether the process of pidfd has exited (its pidfd reads ready then). */
static bool pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

bool om_proc_alive(const struct om_proc_id *id)
{
	unsigned long long start;
	char state;

	if (id->pid <= 0)
		return false;
	/* Our own child that exited is a zombie until reaped: reap it. */
	waitpid(id->pid, NULL, WNOHANG);
	if (id->pidfd > 0)
		return !pidfd_exited(id->pidfd);
	if (read_stat(id->pid, &state, &start))
		return false;
	return start == id->start && state != 'Z' && state != 'X';
}

/*
 * Sends sig to id's process, never to another that took its pid: through
 * its pidfd, else through one opened now and kept only if the pid still
 * has id's start time after (then the pidfd is that process's: a process
 * that had the pid before it would not have it now). 0, or -ESRCH when it
 * is gone.
 */
static int send_signal(const struct om_proc_id *id, int sig)
{
	unsigned long long start;
	char state;
	int fd, err = 0;

	if (id->pidfd > 0)
		return pidfd_send_signal(id->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
	fd = pidfd_open(id->pid, 0);
	if (fd < 0)
		return -errno;
	if (read_stat(id->pid, &state, &start) || start != id->start)
		err = -ESRCH;
	else if (pidfd_send_signal(fd, sig, NULL, 0) < 0)
		err = -errno;
	close(fd);
	return err;
}

void om_proc_release(struct om_proc_id *id)
{
	if (id->pidfd > 0)
		close(id->pidfd);
	id->pidfd = 0;
}

/*
 * In a forked child: runs argv when ready, else (or when exec fails) tells
 * the parent errno through status_fd. Never returns.
 */
static _Noreturn void exec_or_report(char *const argv[], bool ready, int status_fd)
{
	int child_errno;

	if (ready)
		execv(argv[0], argv);
	child_errno = errno;
	if (write(status_fd, &child_errno, sizeof(child_errno)) < 0)
		_exit(126);
	_exit(127);
}

/*
 * In the parent: 0 once pid's exec succeeded (status closes unwritten), or
 * the child's -errno after reaping it.
 */
static int exec_result(pid_t pid, int status[2])
{
	int child_errno = 0;
	ssize_t n;

	close(status[1]);
	n = read(status[0], &child_errno, sizeof(child_errno));
	close(status[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		return -child_errno;
	}
	return 0;
}

int om_proc_spawn(char *const argv[], const char *log_path, const struct om_owner *owner,
		  struct om_proc_id *id)
{
	const char *cgroup = owner ? owner->cgroup : NULL;
	const char *mark = owner && !cgroup ? owner->dir : NULL;
	int status[2], err, fd;
	pid_t pid;

	if (pipe2(status, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(status[0]);
		close(status[1]);
		return err;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		bool ready = in >= 0 && log >= 0;
		sigset_t none;

		/* In the cgroup before argv runs: nothing of ours is ever outside it. */
		if (ready && cgroup) {
			int r = om_cgroup_enter(cgroup);

			if (r) {
				errno = -r;
				ready = false;
			}
		}
		if (ready && mark)
			ready = setenv(OM_PROC_OWNER_ENV, mark, 1) == 0;
		if (ready && owner && owner->netns) {
			int ns = open(owner->netns, O_RDONLY | O_CLOEXEC);

			ready = ns >= 0 && setns(ns, CLONE_NEWNET) == 0;
			if (ns >= 0)
				close(ns);
		}
		if (ready) {
			setsid();
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			ready = dup2(in, 0) >= 0 && dup2(log, 1) >= 0 && dup2(log, 2) >= 0;
		}
		exec_or_report(argv, ready, status[1]);
	}
	/* Our child, not reaped yet: its pid cannot be anyone else's now. */
	fd = pidfd_open(pid, 0);
	err = exec_result(pid, status);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	*id = (struct om_proc_id){ .pid = pid };
	/* Above 2, so that 0 can mean none. */
	if (fd >= 0) {
		id->pidfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		if (id->pidfd < 0)
			id->pidfd = 0;
	}
	if (om_proc_start_time(pid, &id->start)) {
		/* It exited already; its start time is gone with it. */
		waitpid(pid, NULL, 0);
		om_proc_release(id);
		return -ECHILD;
	}
	return 0;
}

static bool wait_gone(const struct om_proc_id *id, long long deadline)
{
	while (om_proc_alive(id)) {
		if (om_now_ms() >= deadline)
			return false;
		om_sleep_ms(20);
	}
	return true;
}

int om_proc_stop(const struct om_proc_id *id, unsigned int timeout_ms)
{
	if (!om_proc_alive(id))
		return 0;
	send_signal(id, SIGTERM);
	if (wait_gone(id, om_now_ms() + timeout_ms))
		return 0;
	if (om_proc_alive(id))
		send_signal(id, SIGKILL);
	return wait_gone(id, om_now_ms() + 5000) ? 0 : -ETIMEDOUT;
}

int om_proc_kill(const struct om_proc_id *id)
{
	if (!om_proc_alive(id))
		return 0;
	send_signal(id, SIGKILL);
	return wait_gone(id, om_now_ms() + 5000) ? 0 : -ETIMEDOUT;
}

int om_proc_capture(char *const argv[], char *out, size_t cap, unsigned int timeout_ms)
{
	long long deadline = om_now_ms() + timeout_ms;
	int pipefd[2], status[2], wstatus, err = 0;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	if (cap == 0)
		return -EINVAL;
	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(status, O_CLOEXEC) < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		close(status[0]);
		close(status[1]);
		return err;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);

		exec_or_report(argv, in >= 0 && dup2(in, 0) >= 0 && dup2(pipefd[1], 1) >= 0 &&
					     dup2(pipefd[1], 2) >= 0,
			       status[1]);
	}
	close(pipefd[1]);
	err = exec_result(pid, status);
	if (err) {
		close(pipefd[0]);
		return err;
	}
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		long long left = deadline - om_now_ms();
		char drop[4096];
		int r;

		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -ETIMEDOUT;
			break;
		}
		if (used < cap - 1)
			n = read(pipefd[0], out + used, cap - 1 - used);
		else
			n = read(pipefd[0], drop, sizeof(drop));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		if (used < cap - 1)
			used += (size_t)n;
	}
	out[used] = '\0';
	close(pipefd[0]);
	/* Its output ended: it should end too, within the same time limit. */
	while (!err) {
		pid_t r = waitpid(pid, &wstatus, WNOHANG);

		if (r == pid)
			return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (om_now_ms() >= deadline)
			err = -ETIMEDOUT;
		else
			om_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return err;
}

/*
 * Whether pid was started by om_proc_spawn for owner: its environment at
 * exec holds OMCLUSTER_OWNER=owner, which only omcluster puts there. Its
 * command line proves nothing: any `tail -f` names a cluster's files.
 */
static bool owned_by(pid_t pid, const char *owner)
{
	char path[64], want[PATH_MAX + 32];
	size_t cap = 1 << 16, used = 0, wlen;
	char *env = NULL;
	bool found = false;
	int fd;

	wlen = (size_t)snprintf(want, sizeof(want), OM_PROC_OWNER_ENV "=%s", owner) + 1;
	if (wlen > sizeof(want))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* gone, or another user's: not ours */
	for (;;) {
		char *grown;
		ssize_t n;

		if (used == cap || !env) {
			grown = realloc(env, env ? cap *= 2 : cap);
			if (!grown || cap > (1u << 24))
				break;
			env = grown;
		}
		n = read(fd, env + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	/* Entries are NUL-terminated: compare each whole, the NUL included. */
	for (size_t at = 0; env && at < used && !found;) {
		size_t len = strnlen(env + at, used - at);

		found = len + 1 == wlen && !memcmp(env + at, want, wlen);
		at += len + 1;
	}
	free(env);
	return found;
}

unsigned int om_proc_stop_strays(const char *owner, unsigned int timeout_ms)
{
	unsigned int left = 0;
	struct dirent *de;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return left;
	while ((de = readdir(proc))) {
		struct om_proc_id id = { 0 };

		id.pid = (pid_t)atoi(de->d_name);
		if (id.pid <= 0 || id.pid == getpid())
			continue;
		if (om_proc_start_time(id.pid, &id.start) || !owned_by(id.pid, owner))
			continue;
		if (om_proc_stop(&id, timeout_ms))
			left++;
	}
	closedir(proc);
	return left;
}
