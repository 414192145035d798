// SPDX-License-Identifier: GPL-2.0-only
#include "proc-cpu.h"

#include <dirent.h>
#include <stdio.h>

int64_t proc_cpu_ns(pid_t pid)
{
	char path[64];
	int64_t sum = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char p[64 + 256 + 16];
		long long ns;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		fp = fopen(p, "r");
		if (!fp)
			continue;
		if (fscanf(fp, "%lld", &ns) == 1)
			sum += ns;
		fclose(fp);
	}
	closedir(d);
	return sum;
}
