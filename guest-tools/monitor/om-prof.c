// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-prof: where this guest's CPUs go, for a while. Samples every CPU's
 * clock (perf_event_open, cpu-clock, kernel and user) at a fixed rate and
 * prints the kernel functions and the programs the samples fell in, most
 * first: the guest has no perf, and the engine's costs (a deputy's work for
 * a process away, the messages of a forwarded call) are kernel work.
 *
 * usage: om-prof [-d SECONDS] [-n TOP] [-f HZ] [-- COMMAND...]
 *   with a COMMAND, samples until it ends instead of for SECONDS.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING_PAGES 128 /* per CPU, a power of two: 512 KiB */

struct sym {
	uint64_t addr;
	char name[64];
};

struct count {
	char name[80];
	unsigned long n;
};

struct counts {
	struct count *v;
	size_t n, cap;
};

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int by_count(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

/* The kernel's text symbols, sorted: 0 if none can be read. */
static size_t load_kallsyms(struct sym **out)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	struct sym *v = NULL;
	size_t n = 0, cap = 0;
	char line[256], type, name[64];
	unsigned long long addr;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %63s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (n == cap) {
			struct sym *nv;

			cap = cap ? cap * 2 : 65536;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].addr = addr;
		memcpy(v[n].name, name, sizeof(v[n].name));
		n++;
	}
	fclose(f);
	qsort(v, n, sizeof(*v), by_addr);
	*out = v;
	return n;
}

static const char *kernel_sym(const struct sym *v, size_t n, uint64_t ip)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid].addr <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? v[lo - 1].name : "?";
}

static int count_add(struct counts *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!strcmp(c->v[i].name, name)) {
			c->v[i].n++;
			return 0;
		}
	}
	if (c->n == c->cap) {
		struct count *nv;

		c->cap = c->cap ? c->cap * 2 : 1024;
		nv = realloc(c->v, c->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
	}
	snprintf(c->v[c->n].name, sizeof(c->v[c->n].name), "%s", name);
	c->v[c->n++].n = 1;
	return 0;
}

static void comm_of(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(buf, size, "pid %u", pid);
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

struct sample {
	struct perf_event_header h;
	uint64_t ip;
	uint32_t pid, tid;
};

/* Reads one CPU's ring into the counts; returns the samples lost. */
static unsigned long drain(void *ring, const struct sym *syms, size_t nsyms, struct counts *k,
			   struct counts *u, unsigned long *total, unsigned long *idle)
{
	struct perf_event_mmap_page *meta = ring;
	char *data = (char *)ring + sysconf(_SC_PAGESIZE);
	uint64_t size = meta->data_size, head = meta->data_head, tail = meta->data_tail;
	unsigned long lost = 0;
	char name[80];

	__sync_synchronize();
	while (tail < head) {
		struct perf_event_header h;
		struct sample s;

		memcpy(&h, data + tail % size, sizeof(h));
		if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(s)) {
			size_t i, off = tail % size;

			for (i = 0; i < sizeof(s); i++)
				((char *)&s)[i] = data[(off + i) % size];
			(*total)++;
			if (!s.pid) {
				const char *fn = kernel_sym(syms, nsyms, s.ip);

				/* The idle task halts; what else it runs is interrupts' work. */
				if (strstr(fn, "idle") || strstr(fn, "halt")) {
					(*idle)++;
				} else {
					count_add(k, fn);
					count_add(u, "[interrupts, in the idle task]");
				}
			} else if (s.ip >= 0xffff800000000000ull) {
				count_add(k, kernel_sym(syms, nsyms, s.ip));
				comm_of(s.pid, name, sizeof(name));
				count_add(u, name);
			} else {
				comm_of(s.pid, name, sizeof(name));
				count_add(u, name);
			}
		} else if (h.type == PERF_RECORD_LOST) {
			uint64_t l[3];
			size_t i, off = tail % size;

			for (i = 0; i < sizeof(l); i++)
				((char *)l)[i] = data[(off + i) % size];
			lost += l[2];
		}
		if (!h.size)
			break;
		tail += h.size;
	}
	meta->data_tail = tail;
	return lost;
}

static void print_top(const char *title, struct counts *c, unsigned long total, int top)
{
	int i;

	qsort(c->v, c->n, sizeof(c->v[0]), by_count);
	printf("%s\n", title);
	for (i = 0; i < top && (size_t)i < c->n; i++)
		printf("  %6lu %5.1f%%  %s\n", c->v[i].n, 100.0 * c->v[i].n / total, c->v[i].name);
}

int main(int argc, char **argv)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), top = 30, opt, cpu;
	unsigned long total = 0, idle = 0, lost = 0, hz = 1000, secs = 10;
	struct counts k = {}, u = {};
	struct sym *syms = NULL;
	size_t nsyms;
	int *fds;
	void **rings;
	pid_t child = 0;

	while ((opt = getopt(argc, argv, "d:n:f:")) != -1) {
		switch (opt) {
		case 'd':
			secs = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			top = atoi(optarg);
			break;
		case 'f':
			hz = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: om-prof [-d SECONDS] [-n TOP] [-f HZ] [-- COMMAND...]\n");
			return 2;
		}
	}
	nsyms = load_kallsyms(&syms);
	if (!nsyms)
		fprintf(stderr, "om-prof: no kernel symbols (/proc/kallsyms): addresses only\n");
	fds = calloc(ncpu, sizeof(*fds));
	rings = calloc(ncpu, sizeof(*rings));
	if (!fds || !rings)
		return 1;
	for (cpu = 0; cpu < ncpu; cpu++) {
		struct perf_event_attr a = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(a),
			.config = PERF_COUNT_SW_CPU_CLOCK,
			.sample_freq = hz,
			.freq = 1,
			.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID,
			.disabled = 1,
		};

		fds[cpu] = syscall(SYS_perf_event_open, &a, -1, cpu, -1, 0);
		if (fds[cpu] < 0) {
			fprintf(stderr, "om-prof: perf_event_open on CPU %d: %s\n", cpu,
				strerror(errno));
			return 1;
		}
		rings[cpu] = mmap(NULL, (RING_PAGES + 1) * sysconf(_SC_PAGESIZE),
				  PROT_READ | PROT_WRITE, MAP_SHARED, fds[cpu], 0);
		if (rings[cpu] == MAP_FAILED) {
			fprintf(stderr, "om-prof: mmap: %s\n", strerror(errno));
			return 1;
		}
	}
	for (cpu = 0; cpu < ncpu; cpu++)
		ioctl(fds[cpu], PERF_EVENT_IOC_ENABLE, 0);
	if (optind < argc) {
		child = fork();
		if (!child) {
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
	}
	for (;;) {
		struct timespec t = { .tv_nsec = 100000000 };
		int status;

		/* Drained every 0.1 s: a ring holds seconds of samples. */
		nanosleep(&t, NULL);
		for (cpu = 0; cpu < ncpu; cpu++)
			lost += drain(rings[cpu], syms, nsyms, &k, &u, &total, &idle);
		if (child > 0 ? waitpid(child, &status, WNOHANG) == child : total >= secs * hz * ncpu)
			break;
	}
	for (cpu = 0; cpu < ncpu; cpu++)
		ioctl(fds[cpu], PERF_EVENT_IOC_DISABLE, 0);
	printf("%lu samples on %d CPUs, %lu idle (%.1f%% busy), %lu lost\n", total, ncpu, idle,
	       total ? 100.0 * (total - idle) / total : 0.0, lost);
	print_top("programs (kernel and user time):", &u, total, top);
	print_top("kernel functions:", &k, total, top);
	return 0;
}
