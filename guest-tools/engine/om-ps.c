// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-ps: where this node's processes run, and which processes of other
 * nodes run here.
 *
 *   om-ps [-a]     -a: also processes at home
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "where.h"

static void comm_of(const char *pid, char *buf, size_t size)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

int main(int argc, char **argv)
{
	int all = argc > 1 && !strcmp(argv[1], "-a"), away = 0;
	char where[32], comm[32], line[256];
	struct dirent *d;
	DIR *proc;
	FILE *f;

	if (argc > 2 || (argc == 2 && !all)) {
		fprintf(stderr, "usage: om-ps [-a]\n");
		return 2;
	}
	proc = opendir("/proc");
	if (!proc) {
		perror("om-ps: /proc");
		return 1;
	}
	printf("PID\tWHERE\tCOMM\n");
	while ((d = readdir(proc))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		if (om_hpc_read(atoi(d->d_name), "where", where, sizeof(where)))
			continue;
		where[strcspn(where, "\n")] = '\0';
		if (!all && !strcmp(where, "home"))
			continue;
		comm_of(d->d_name, comm, sizeof(comm));
		printf("%s\t%s\t%s\n", d->d_name, where, comm);
		away++;
	}
	closedir(proc);
	f = fopen("/proc/hpc/remote", "r");
	if (!f) {
		fprintf(stderr, "om-ps: /proc/hpc/remote: %s (no omvm engine?)\n", strerror(errno));
		return 1;
	}
	printf("\nrunning here for other nodes:\n");
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
	return 0;
}
