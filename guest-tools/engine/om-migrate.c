// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-migrate: move a process to another node (or home) and wait until it
 * is there.
 *
 *   om-migrate PID NODE|home [--timeout SECONDS] [--no-wait]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "where.h"

static void usage(void)
{
	fprintf(stderr, "usage: om-migrate PID NODE|home [--timeout SECONDS] [--no-wait]\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The engine's last_error for the process, from its debug file. */
static int last_error(pid_t pid)
{
	char buf[1024], *at;

	if (om_hpc_read(pid, "debug", buf, sizeof(buf)))
		return 0;
	at = strstr(buf, "last_error: ");
	return at ? atoi(at + 12) : 0;
}

int main(int argc, char **argv)
{
	double timeout = 60, start;
	int wait_for_it = 1, err, i;
	char want[32], where[32], *end;
	long pid;

	if (argc < 3)
		usage();
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0)
		usage();
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--no-wait")) {
			wait_for_it = 0;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = strtod(argv[++i], &end);
			if (*end || timeout <= 0)
				usage();
		} else {
			usage();
		}
	}
	err = om_where_write((pid_t)pid, argv[2]);
	if (err) {
		fprintf(stderr, "om-migrate: %ld to %s: %s\n", pid, argv[2], om_where_error(err));
		return 1;
	}
	if (!wait_for_it)
		return 0;
	snprintf(want, sizeof(want), "%s\n", argv[2]);
	start = now();
	for (;;) {
		err = om_hpc_read((pid_t)pid, "where", where, sizeof(where));
		if (err) {
			fprintf(stderr, "om-migrate: %ld: %s\n", pid, om_where_error(err));
			return 1;
		}
		if (!strcmp(where, want))
			break;
		err = last_error((pid_t)pid);
		if (err) {
			fprintf(stderr, "om-migrate: %ld to %s failed: %s; it stays where it was\n",
				pid, argv[2], strerror(-err));
			return 1;
		}
		if (now() - start > timeout) {
			fprintf(stderr, "om-migrate: %ld still %s after %.0f s (it moves on its next return to user mode)\n",
				pid, strtok(where, "\n"), timeout);
			return 1;
		}
		usleep(20000);
	}
	printf("%ld: %s", pid, where);
	return 0;
}
