// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostctl: asks a running omhostd through its control socket and shows
 * the answer: `status` as a table, `raw` as omhostd wrote it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control-client.h"

static const char usage[] =
	"usage: omhostctl (-d DIR | -s SOCKET) [status|raw]\n"
	"\n"
	"Shows a running omhostd's nodes and counters.\n"
	"  -d, --dir DIR        omhostd's --dir (its control socket is DIR/control.sock)\n"
	"  -s, --socket SOCKET  the control socket itself\n"
	"  -t, --timeout MS     give up after MS milliseconds (default 5000)\n"
	"  status               one line per node (default)\n"
	"  raw                  the daemon's key=value lines, for scripts\n";

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
			if (om_ctl_socket_path(optarg, path, sizeof(path))) {
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
	err = om_ctl_ask(path, "status\n", timeout_ms, buf, sizeof(buf));
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
		om_ctl_print_table(stdout, buf);
	return 0;
}
