// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-mon: the cluster's load as this node knows it (/proc/hpc/loads), a
 * line per node, redrawn every second like mosmon or top; and this node's
 * balancer counts (/proc/hpc/admin/stats).
 *
 *   om-mon [-d SECONDS] [-n COUNT] [-b]
 *     -d  between two views (default 1)
 *     -n  views, then exit (default: until interrupted)
 *     -b  batch: do not clear the screen (for logs and scripts)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "loads.h"
#include "parse-u32.h"

static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* The balancer's counts from admin/stats, on one line. */
static void print_stats(void)
{
	static const char *const keys[] = { "balance_moves", "balance_home", "balance_ushered",
					    "arrivals_refused", "halves" };
	char buf[4096], *line, *save = NULL;
	unsigned int i;

	if (read_file("/proc/hpc/admin/stats", buf, sizeof(buf)))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    line[strlen(keys[i])] == ' ')
				printf("%s  ", line);
	printf("\n");
}

int main(int argc, char **argv)
{
	uint32_t delay = 1, count = 0, i;
	static char text[65536];
	struct om_loads l;
	struct winsize ws;
	int batch = 0, c, err;
	char clock[16];
	time_t now;

	while ((c = getopt(argc, argv, "d:n:b")) != -1) {
		if (c == 'd' && !parse_u32(optarg, 1, 3600, &delay))
			continue;
		if (c == 'n' && !parse_u32(optarg, 1, UINT32_MAX, &count))
			continue;
		if (c == 'b') {
			batch = 1;
			continue;
		}
		fprintf(stderr, "usage: om-mon [-d SECONDS] [-n COUNT] [-b]\n");
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: om-mon [-d SECONDS] [-n COUNT] [-b]\n");
		return 2;
	}
	if (!isatty(STDOUT_FILENO))
		batch = 1;
	for (i = 0; !count || i < count; i++) {
		if (i)
			sleep(delay);
		err = read_file("/proc/hpc/loads", text, sizeof(text));
		if (err) {
			fprintf(stderr, "om-mon: /proc/hpc/loads: %s (not an om guest?)\n",
				strerror(-err));
			return 1;
		}
		if (om_loads_parse(text, &l)) {
			fprintf(stderr, "om-mon: /proc/hpc/loads: not in the form this om-mon reads\n");
			return 1;
		}
		om_loads_sort(&l);
		if (!batch)
			fputs("\033[H\033[2J", stdout);
		now = time(NULL);
		strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
		printf("om-mon: %u nodes known, %s\n", l.n, clock);
		om_loads_draw(stdout, &l,
			      !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col ? ws.ws_col : 80);
		print_stats();
		fflush(stdout);
	}
	return 0;
}
