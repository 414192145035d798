// SPDX-License-Identifier: GPL-2.0-only
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "where.h"

void om_where_now(pid_t pid, char *buf, size_t size)
{
	if (om_hpc_read(pid, "where", buf, size))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int om_go(const char *node, char *why, size_t size)
{
	char now[32];
	int err = om_where_write(0, node);

	if (err) {
		snprintf(why, size, "write %s to where: %s", node, strerror(-err));
		return -1;
	}
	om_where_now(0, now, sizeof(now));
	if (strcmp(now, node)) {
		snprintf(why, size, "where says %s, not %s", now, node);
		return -1;
	}
	return 0;
}

long om_debug_count(pid_t pid, const char *key)
{
	char buf[8192], *at;
	size_t len = strlen(key);

	if (om_hpc_read(pid, "debug", buf, sizeof(buf)))
		return -1;
	for (at = buf; at; at = strchr(at, '\n'), at = at ? at + 1 : NULL)
		if (!strncmp(at, key, len) && at[len] == ':')
			return strtol(at + len + 1, NULL, 10);
	return 0;
}

void om_spin(double seconds)
{
	struct timespec a, b;
	volatile unsigned long x = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		for (int i = 0; i < 100000; i++)
			x += i;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while (b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) / 1e9 < seconds);
}
