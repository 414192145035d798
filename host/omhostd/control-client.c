// SPDX-License-Identifier: GPL-2.0-only
#include "control-client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int om_ctl_socket_path(const char *dir, char *out, size_t cap)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
	int n = snprintf(out, cap, "%s/control.sock", dir);

	return n < 0 || (size_t)n >= cap || (size_t)n >= max ? -ENAMETOOLONG : 0;
}

/*
 * Connects fd (non-blocking) within timeout_ms (< 0: no limit, as poll).
 * A daemon that stopped accepting (hung) lets its listen backlog fill up,
 * and a blocking connect() then waits for ever: against "each wait is at
 * most timeout_ms", and omhostctl or omcluster would hang with the
 * daemon. A non-blocking AF_UNIX connect says EAGAIN instead: try again
 * until the time-out.
 */
static int om_ctl_connect(int fd, const struct sockaddr_un *sa, int timeout_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout_ms >= 0 &&
		    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
			    timeout_ms)
			return -ETIMEDOUT;
		usleep(5000);
	}
}

int om_ctl_ask(const char *path, const char *req, int timeout_ms, char *buf, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t used = 0;
	int fd, err = 0;

	if (cap == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	err = om_ctl_connect(fd, &sa, timeout_ms);
	if (err)
		goto out;
	/* One short line into an empty socket buffer: it does not block. */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0) {
			err = -ETIMEDOUT;
			break;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == cap - 1) {
			err = -EMSGSIZE;
			break;
		}
	}
	buf[used] = '\0';
out:
	close(fd);
	return err;
}

const char *om_ctl_field(const char *line, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key), len = strcspn(line, "\n");
	const char *p = line;

	while ((p = strstr(p, key)) && p < line + len) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \n");

			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return out;
		}
		p += klen;
	}
	return "-";
}

const char *om_ctl_node_line(const char *status, unsigned int node)
{
	for (const char *line = status; line && *line;) {
		const char *next = strchr(line, '\n');
		char v[16];

		if (!strncmp(line, "node=", 5)) {
			char want[16];

			snprintf(want, sizeof(want), "%u", node);
			if (!strcmp(om_ctl_field(line, "node", v, sizeof(v)), want))
				return line;
		}
		line = next ? next + 1 : NULL;
	}
	return NULL;
}

const char *om_ctl_node_state(const char *status, unsigned int node, char *out, size_t cap)
{
	const char *line = om_ctl_node_line(status, node);

	return line ? om_ctl_field(line, "state", out, cap) : "-";
}

/* Prints the lines starting with prefix as a table of cols, each width wide (first ones narrow). */
static void om_ctl_print_rows(FILE *out, const char *status, const char *prefix,
			      const char *const *cols, size_t ncols, size_t narrow, int wide_w,
			      int narrow_w)
{
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < ncols; i++)
		fprintf(out, "%-*s", i < narrow ? narrow_w : wide_w, cols[i]);
	fputc('\n', out);
	for (const char *line = status; line && *line;) {
		const char *next = strchr(line, '\n');
		char v[64];

		if (!strncmp(line, prefix, plen)) {
			for (size_t i = 0; i < ncols; i++)
				fprintf(out, "%-*s", i < narrow ? narrow_w : wide_w,
					om_ctl_field(line, cols[i], v, sizeof(v)));
			fputc('\n', out);
		}
		line = next ? next + 1 : NULL;
	}
}

void om_ctl_print_links(FILE *out, const char *status)
{
	static const char *const cols[] = { "link", "state", "nodes", "connects", "cuts",
					    "auth_failed", "malformed", "foreign_source",
					    "data_tx", "data_rx", "resent", "unacked", "held" };

	if (!strstr(status, "\nlink="))
		return;
	fputc('\n', out);
	om_ctl_print_rows(out, status, "link=", cols, sizeof(cols) / sizeof(cols[0]), 3, 15, 12);
}

void om_ctl_print_nodes(FILE *out, const char *status)
{
	static const char *const cols[] = { "node", "state", "tx_msgs", "tx_bytes", "rx_msgs",
					    "rx_bytes", "stalls", "undeliverable", "refused",
					    "evictions", "queued", "queue_dropped" };

	om_ctl_print_rows(out, status, "node=", cols, sizeof(cols) / sizeof(cols[0]), 2, 14, 11);
}

void om_ctl_print_table(FILE *out, const char *status)
{
	/* With links: each node's tx chains held until the peer acknowledged them. */
	static const char *const held[] = { "node", "tx_held", "tx_held_total", "tx_released" };

	om_ctl_print_nodes(out, status);
	if (!strstr(status, "\nlink="))
		return;
	fputc('\n', out);
	om_ctl_print_rows(out, status, "node=", held, sizeof(held) / sizeof(held[0]), 1, 15, 11);
	om_ctl_print_links(out, status);
}
