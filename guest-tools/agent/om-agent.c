// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-agent: runs in every guest and serves the cluster tool on the host over
 * the virtio-serial port named OMA_PORT_NAME, one host connection at a time.
 *
 * The port is opened non-blocking because a blocking write on a virtio-serial
 * port whose host side has gone away waits forever; the kernel signals host
 * connect and disconnect with SIGIO, which wakes the idle wait.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent-server.h"

static int open_port(void)
{
	char name[64], path[300];
	struct dirent *de;
	DIR *d = opendir("/sys/class/virtio-ports");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    (name[strcspn(name, "\n")] = '\0', strcmp(name, OMA_PORT_NAME) == 0)) {
			fclose(f);
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			closedir(d);
			return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(d);
	return -ENOENT;
}

static void describe_guest(struct agent *a)
{
	char cmdline[4096] = "", node[16] = "?";
	struct utsname u;
	FILE *f = fopen("/proc/cmdline", "re");
	char *p;

	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	p = strstr(cmdline, "om.node=");
	if (p)
		sscanf(p + strlen("om.node="), "%15[0-9]", node);
	if (uname(&u) < 0)
		strcpy(u.release, "?");
	snprintf(a->hello, sizeof(a->hello), "node=%s\nrelease=%s\n", node, u.release);
}

static void on_sigio(int sig)
{
	(void)sig;
}

int main(void)
{
	static struct agent a;
	struct sigaction sa = { .sa_handler = on_sigio };
	sigset_t io;

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGIO, &sa, NULL);
	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	sigprocmask(SIG_BLOCK, &io, NULL);
	describe_guest(&a);
	a.port = open_port();
	if (a.port < 0) {
		fprintf(stderr, "om-agent: no virtio-serial port named %s: %s\n", OMA_PORT_NAME,
			strerror(-a.port));
		return 1;
	}
	fcntl(a.port, F_SETOWN, getpid());
	fcntl(a.port, F_SETFL, O_NONBLOCK | O_ASYNC);
	for (;;) {
		struct pollfd pfd = { .fd = a.port, .events = POLLIN };
		struct timespec idle = { .tv_sec = 1 };

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return 1;
		if (pfd.revents & POLLIN) {
			agent_serve_connection(&a);
			continue;
		}
		/* No host connected: sleep until SIGIO says one came (or 1 s). */
		sigtimedwait(&io, NULL, &idle);
	}
}
