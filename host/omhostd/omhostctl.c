// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostctl: asks a running omhostd through its control socket and shows
 * the answer: `status` as a table, `raw` as omhostd wrote it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char usage[] =
	"usage: omhostctl (-d DIR | -s SOCKET) [status|raw]\n"
	"\n"
	"Shows a running omhostd's nodes and counters.\n"
	"  -d, --dir DIR        omhostd's --dir (its control socket is DIR/control.sock)\n"
	"  -s, --socket SOCKET  the control socket itself\n"
	"  -t, --timeout MS     give up after MS milliseconds (default 5000)\n"
	"  status               one line per node (default)\n"
	"  raw                  the daemon's key=value lines, for scripts\n";

static int om_ask(const char *path, const char *req, int timeout_ms, char *buf, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t used = 0;
	int fd, err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) == 0) {
			err = -ETIMEDOUT;
			break;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
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

/* The value of key in a line of key=value fields, or "-". */
static const char *om_field(const char *line, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key))) {
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

static void om_print_table(const char *text)
{
	static const char *const cols[] = { "node", "state", "tx_msgs", "tx_bytes", "rx_msgs",
					    "rx_bytes", "stalls", "undeliverable", "refused",
					    "evictions" };
	const size_t ncols = sizeof(cols) / sizeof(cols[0]);
	const char *line = text;

	for (size_t i = 0; i < ncols; i++)
		printf("%-*s", i < 2 ? 11 : 14, cols[i]);
	putchar('\n');
	while (line && *line) {
		const char *next = strchr(line, '\n');
		char l[1024], v[64];
		size_t n = next ? (size_t)(next - line) : strlen(line);

		if (n >= sizeof(l))
			n = sizeof(l) - 1;
		memcpy(l, line, n);
		l[n] = '\0';
		if (!strncmp(l, "node=", 5)) {
			for (size_t i = 0; i < ncols; i++)
				printf("%-*s", i < 2 ? 11 : 14, om_field(l, cols[i], v, sizeof(v)));
			putchar('\n');
		}
		line = next ? next + 1 : NULL;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char path[108] = "", buf[1 << 20];
	const char *cmd = "status";
	int c, timeout_ms = 5000, err;

	while ((c = getopt_long(argc, argv, "d:s:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if ((size_t)snprintf(path, sizeof(path), "%s/control.sock", optarg) >= sizeof(path)) {
				fprintf(stderr, "omhostctl: --dir path too long\n");
				return 2;
			}
			break;
		case 's':
			if ((size_t)snprintf(path, sizeof(path), "%s", optarg) >= sizeof(path)) {
				fprintf(stderr, "omhostctl: --socket path too long\n");
				return 2;
			}
			break;
		case 't':
			timeout_ms = atoi(optarg);
			if (timeout_ms <= 0) {
				fprintf(stderr, "omhostctl: --timeout takes milliseconds > 0\n");
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (!path[0] || optind < argc || (strcmp(cmd, "status") && strcmp(cmd, "raw"))) {
		fputs(usage, stderr);
		return 2;
	}
	err = om_ask(path, "status\n", timeout_ms, buf, sizeof(buf));
	if (err) {
		fprintf(stderr, "omhostctl: %s: %s\n", path, strerror(-err));
		return 1;
	}
	if (!strncmp(buf, "error", 5)) {
		fprintf(stderr, "omhostctl: omhostd says: %s", buf);
		return 1;
	}
	if (!strcmp(cmd, "raw"))
		fputs(buf, stdout);
	else
		om_print_table(buf);
	return 0;
}
