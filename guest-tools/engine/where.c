// SPDX-License-Identifier: GPL-2.0-only
#include "where.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* pid 0 is the caller itself, wherever it runs (its pid there is another). */
static void om_hpc_path(char *path, size_t size, pid_t pid, const char *file)
{
	if (pid)
		snprintf(path, size, "/proc/%d/hpc/%s", (int)pid, file);
	else
		snprintf(path, size, "/proc/self/hpc/%s", file);
}

int om_hpc_read(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	om_hpc_path(path, sizeof(path), pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

int om_where_write(pid_t pid, const char *s)
{
	char path[64];
	int fd, err = 0;

	om_hpc_path(path, sizeof(path), pid, "where");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

const char *om_where_error(int err)
{
	switch (-err) {
	case ENOENT:
	case ESRCH:
		return "no such process (or the kernel has no omvm engine)";
	case EINVAL:
		return "not a node: give a node id (1-1024) or 'home'";
	case EHOSTUNREACH:
		return "that node is not up in this cluster (see /proc/hpc/nodes)";
	case EBUSY:
		return "the process cannot move now (see its /proc/PID/hpc/stay)";
	case EPERM:
	case EACCES:
		return "not allowed to move that process";
	case ENOTCONN:
		return "this guest has no node id: is the virtio-om device up?";
	case EOPNOTSUPP:
		return "a process away from home can only be sent home from here";
	default:
		return strerror(-err);
	}
}
