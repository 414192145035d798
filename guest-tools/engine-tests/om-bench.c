// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-bench: the engine's measurements, run by bench/engine-bench.sh.
 *
 *   om-bench move NODE MIB [wide] freeze and total time of a move to NODE with
 *                                MIB of resident memory, writing a page a
 *                                millisecond (dropping every 64th) until it
 *                                runs there, and of the way back, writing
 *                                until it runs at home (every byte checked
 *                                after); with "wide", also dropping 128
 *                                pages at once as the move begins
 *   om-bench syscall NODE COUNT  a no-op system call run here, then
 *                                forwarded home from NODE
 *   om-bench write MIB           MIB of memory written as move's writer does,
 *                                until killed (what CRIU checkpoints beside it)
 *   om-bench hold MIB SECONDS    MIB of memory written, held asleep, then
 *                                checked (the balancer's memory ushering)
 *   om-bench io NODE KIB         one write() then one read() of KIB of a file
 *                                at home, here and then from NODE: times, the
 *                                round trips each call took, the pages the
 *                                deputy fetched, and the bytes read
 *   om-bench behind NODE COUNT   COUNT pwrite64() of a page each to a file at
 *                                home (as a database writes its pages), then
 *                                fsync(), here and then from NODE: the time
 *                                a write, how many went behind and how many
 *                                answers they took, and the file checked
 *
 * Times of a move come from the engine (/proc/self/hpc/debug): from the
 * process stopping (freeze) or the move being asked (total) to the
 * destination being told to run it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int where(const char *node)
{
	int fd = open("/proc/self/hpc/where", O_WRONLY), err = 0;

	if (fd < 0 || write(fd, node, strlen(node)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "om-bench: move to %s: %s\n", node, strerror(err));
	return err ? -1 : 0;
}

/* A field of /proc/self/hpc/debug (read at home, or forwarded there). */
static unsigned long long debug_field(const char *name)
{
	char buf[4096], *at;
	int fd = open("/proc/self/hpc/debug", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	at = strstr(buf, name);
	return at ? strtoull(at + strlen(name) + 2, NULL, 10) : 0;
}

/* Where the process runs now, as its home sees it ("home" or a node). */
static int where_is(char *buf, size_t size)
{
	int fd = open("/proc/self/hpc/where", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Drop @n pages from @first on: they read zero again. */
static void drop(uint64_t *mem, size_t first, size_t n, uint32_t *count, uint8_t *zeroed)
{
	size_t i;

	if (madvise(&mem[first * 512], n * 4096, MADV_DONTNEED))
		return;
	for (i = first; i < first + n; i++) {
		zeroed[i] = 1;
		count[i] = 0;
	}
}

/*
 * The writer the process is while it moves: one page written every
 * millisecond, in turn through its memory (4 MiB/s), until it runs at
 * @node (forever if NULL); each write counted in @count, for the check
 * after. Every 64th page is dropped instead (MADV_DONTNEED: it reads zero
 * again), and marked in @zeroed. @wide: 128 pages in its middle are
 * dropped first, at once.
 */
static int write_while_moving(const char *node, uint64_t *mem, size_t pages, uint32_t *count,
			      uint8_t *zeroed, int wide)
{
	double next = now_us(), end = next + 600e6;
	size_t at = 0;
	char now[32];

	if (wide && pages >= 256)
		drop(mem, pages / 2, 128, count, zeroed);
	for (;;) {
		if (node && where_is(now, sizeof(now)))
			return -1;
		if (node && !strcmp(now, node))
			return 0;
		if (node && now_us() > end) {
			fprintf(stderr, "om-bench: still at %s after 600 s\n", now);
			return -1;
		}
		while (now_us() < next)
			;
		next += 1000;
		if (at % 64 == 63) {
			drop(mem, at, 1, count, zeroed);
		} else {
			mem[at * 512]++;
			count[at]++;
		}
		at = (at + 1) % pages;
	}
}

/* MIB of memory filled, then written as a moving process writes it, until killed (CRIU's). */
static int bench_writer(long mib)
{
	size_t len = (size_t)mib << 20, i, pages = len / 4096;
	uint64_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t *count = calloc(pages, sizeof(*count));
	uint8_t *zeroed = calloc(pages, 1);

	if (mem == MAP_FAILED || !count || !zeroed) {
		perror("om-bench: mmap");
		return 1;
	}
	for (i = 0; i < len / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ull;
	printf("writing %ld MiB\n", mib);
	fflush(stdout);
	return write_while_moving(NULL, mem, pages, count, zeroed, 0) ? 1 : 0;
}

static int bench_move(const char *node, long mib, int wide)
{
	size_t len = (size_t)mib << 20, i, pages = len / 4096;
	uint64_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t *count = calloc(pages, sizeof(*count));
	uint8_t *zeroed = calloc(pages, 1);
	unsigned long long freeze, total, moved, rounds, round_pages, zero, told, walks, fwalks, start;
	double t0, back;

	if (mem == MAP_FAILED || !count || !zeroed) {
		perror("om-bench: mmap");
		return 1;
	}
	for (i = 0; i < len / 8; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ull;
	if (where(node) || write_while_moving(node, mem, pages, count, zeroed, wide))
		return 1;
	freeze = debug_field("last_freeze_ns");
	total = debug_field("last_total_ns");
	moved = debug_field("last_move_pages");
	rounds = debug_field("last_rounds");
	round_pages = debug_field("last_round_pages");
	zero = debug_field("last_zero_skipped");
	told = debug_field("last_zero_told");
	walks = debug_field("last_round_walks");
	fwalks = debug_field("last_freeze_walks");
	start = debug_field("last_start_ns");
	/* The way back, writing on until it runs at home (a live one returns at once). */
	t0 = now_us();
	if (where("home") || write_while_moving("home", mem, pages, count, zeroed, 0))
		return 1;
	back = now_us() - t0;
	for (i = 0; i < len / 8; i++)
		if (mem[i] != (zeroed[i / 512] ? 0 : i * 0x9e3779b97f4a7c15ull) +
			      (i % 512 ? 0 : count[i / 512])) {
			printf("om-bench: memory differs at byte %zu after the round trip\n", i * 8);
			return 1;
		}
	printf("move %ld MiB %s: %llu pages (%llu in %llu rounds, %llu planned by a walk, "
	       "%llu zero not sent, %llu dropped meanwhile said zero), start %.1f ms, freeze %.1f ms "
	       "(mappings walked: %llu), total %.1f ms, way back %.1f ms\n",
	       mib, rounds ? "live" : "stop-and-copy", moved, round_pages, rounds, walks, zero, told,
	       start / 1e6, freeze / 1e6, fwalks, total / 1e6, back / 1e3);
	/* As its deputy took it in: the sender's half ended with the move. */
	rounds = debug_field("last_home_rounds");
	printf("home %ld MiB %s: %llu pages (%llu in %llu rounds, %llu calls served during them), "
	       "freeze %.1f ms, total %.1f ms\n",
	       mib, rounds ? "live" : "stop-and-copy", debug_field("last_home_pages"),
	       debug_field("last_home_round_pages"), rounds, debug_field("last_home_calls"),
	       debug_field("last_home_freeze_ns") / 1e6, back / 1e3);
	free(count);
	free(zeroed);
	munmap(mem, len);
	return 0;
}

static int bench_syscall(const char *node, long count)
{
	double t0, local, away;
	long i;

	t0 = now_us();
	for (i = 0; i < count; i++)
		getppid();
	local = (now_us() - t0) / count;
	if (where(node))
		return 1;
	t0 = now_us();
	for (i = 0; i < count; i++)
		getppid();
	away = (now_us() - t0) / count;
	if (where("home"))
		return 1;
	printf("syscall getppid x%ld: local %.2f us, forwarded %.1f us, ratio %.0f\n",
	       count, local, away, away / local);
	return 0;
}

/* What the deputy counted for the calls, from one read of debug. */
struct call_counts {
	unsigned long long trips;	/* calls run plus pages fetched: each a wait */
	unsigned long long fetched, pushed, unfetched, written;
};

static const char *const call_fields[] = {
	"syscalls", "pages_fetched", "pages_pushed", "pages_unfetched", "pages_written",
};

/* At home (no deputy) every count reads 0. */
static void call_counts(struct call_counts *c)
{
	unsigned long long v[5] = { 0 };
	char buf[4096], *at;
	int fd = open("/proc/self/hpc/debug", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	size_t i;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (i = 0; i < 5; i++) {
		at = strstr(buf, call_fields[i]);
		v[i] = at ? strtoull(at + strlen(call_fields[i]) + 2, NULL, 10) : 0;
	}
	c->trips = v[0] + v[1];
	c->fetched = v[1];
	c->pushed = v[2];
	c->unfetched = v[3];
	c->written = v[4];
}

/* @sum += @b - @a - @probe: what happened between two reads, less the reading. */
static void call_counts_add(struct call_counts *sum, const struct call_counts *a,
			    const struct call_counts *b, const struct call_counts *probe)
{
	sum->trips += b->trips - a->trips - probe->trips;
	sum->fetched += b->fetched - a->fetched - probe->fetched;
	sum->pushed += b->pushed - a->pushed - probe->pushed;
	sum->unfetched += b->unfetched - a->unfetched - probe->unfetched;
	sum->written += b->written - a->written - probe->written;
}

struct io_figures {
	double w_us, r_us, v_us, s_us;	/* best of the runs */
	struct call_counts w, r, v, s;	/* summed over the runs */
};

/* readv() of @len bytes at @fd into two buffers of @in: a third, then the rest. */
static int io_readv(int fd, const unsigned char *out, unsigned char *in, size_t len,
		    double *us)
{
	struct iovec iov[2] = { { in, len / 3 }, { in + len / 3 + 8, len - len / 3 } };
	double t0 = now_us();

	if (readv(fd, iov, 2) != (ssize_t)len)
		return -1;
	*us = now_us() - t0;
	if (memcmp(in, out, len / 3) || memcmp(in + len / 3 + 8, out + len / 3, len - len / 3)) {
		printf("om-bench: what readv() gave differs from what write() wrote\n");
		return -1;
	}
	return 0;
}

/* recvfrom() at @fd of @len bytes sent to it, with the sender's address. */
static int io_recvfrom(int fd, const unsigned char *out, unsigned char *in, size_t len,
		       double *us)
{
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	double t0 = now_us();

	if (recvfrom(fd, in, len, MSG_WAITALL, (struct sockaddr *)&from, &fromlen) !=
	    (ssize_t)len)
		return -1;
	*us = now_us() - t0;
	/* The sender is bound to "\0om-bench": its name comes back with the data. */
	if (memcmp(in, out, len) || fromlen != offsetof(struct sockaddr_un, sun_path) + 9 ||
	    memcmp(((struct sockaddr_un *)&from)->sun_path, "\0om-bench", 9)) {
		printf("om-bench: what recvfrom() gave differs from what was sent\n");
		return -1;
	}
	return 0;
}

#define IO_RUNS 5

/*
 * The best of a few runs of one write() and one read() of @len bytes at
 * @fd, and what each took of the link. Reading debug costs calls of its
 * own (@probe: two reads with nothing between), taken off each count.
 */
static int io_round(int fd, const int sv[2], const unsigned char *out, unsigned char *in,
		    size_t len, struct io_figures *f)
{
	struct call_counts zero = { 0 }, probe = { 0 }, c0, c1, c2, c3;
	double t0, w, r, v, sk;
	int i;

	call_counts(&c0);
	call_counts(&c1);
	call_counts_add(&probe, &c0, &c1, &zero);
	memset(f, 0, sizeof(*f));
	f->w_us = f->r_us = f->v_us = f->s_us = 1e18;
	for (i = 0; i < IO_RUNS; i++) {
		memset(in, 0, len);
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		call_counts(&c0);
		t0 = now_us();
		if (write(fd, out, len) != (ssize_t)len)
			return -1;
		w = now_us() - t0;
		call_counts(&c1);
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		call_counts(&c2);
		t0 = now_us();
		if (read(fd, in, len) != (ssize_t)len)
			return -1;
		r = now_us() - t0;
		call_counts(&c3);
		if (memcmp(in, out, len)) {
			printf("om-bench: what read() gave differs from what write() wrote\n");
			return -1;
		}
		f->w_us = w < f->w_us ? w : f->w_us;
		f->r_us = r < f->r_us ? r : f->r_us;
		call_counts_add(&f->w, &c0, &c1, &probe);
		call_counts_add(&f->r, &c2, &c3, &probe);
		memset(in, 0, len + 8);
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		call_counts(&c0);
		if (io_readv(fd, out, in, len, &v))
			return -1;
		call_counts(&c1);
		/* At most 64 KiB: what a socket's buffer holds at once. */
		if (send(sv[0], out, len < 65536 ? len : 65536, 0) < 0)
			return -1;
		memset(in, 0, len);
		call_counts(&c2);
		if (io_recvfrom(sv[1], out, in, len < 65536 ? len : 65536, &sk))
			return -1;
		call_counts(&c3);
		call_counts_add(&f->v, &c0, &c1, &probe);
		call_counts_add(&f->s, &c2, &c3, &probe);
		f->v_us = v < f->v_us ? v : f->v_us;
		f->s_us = sk < f->s_us ? sk : f->s_us;
	}
	return 0;
}

static int bench_io(const char *node, long kib)
{
	size_t len = (size_t)kib << 10, i;
	/* Not page-aligned on purpose: a call's buffer seldom is. */
	unsigned char *out = malloc(len + 64), *in = malloc(len + 64);
	struct sockaddr_un sender = { .sun_family = AF_UNIX, .sun_path = "\0om-bench" };
	struct io_figures here, away;
	char path[64];
	int fd, sv[2];

	if (!out || !in)
		return 1;
	out += 24;
	in += 40;
	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(i * 7 + i / 4096);
	/* A socket pair at home: recvfrom()'s data and sender's address. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    bind(sv[0], (struct sockaddr *)&sender, offsetof(struct sockaddr_un, sun_path) + 9)) {
		perror("om-bench: socketpair");
		return 1;
	}
	snprintf(path, sizeof(path), "/tmp/om-bench-io.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("om-bench: open");
		return 1;
	}
	unlink(path);
	if (io_round(fd, sv, out, in, len, &here)) {
		perror("om-bench: io here");
		return 1;
	}
	if (where(node))
		return 1;
	if (io_round(fd, sv, out, in, len, &away)) {
		perror("om-bench: io away");
		return 1;
	}
	/* Counts are per call, averaged over the runs. */
	printf("io %ld KiB: write here %.1f us, away %.1f us (%.1fx); read here %.1f us, away %.1f us (%.1fx); "
	       "round trips away: write %.1f, read %.1f; "
	       "a write and a read away: fetched %.1f pages, pushed %.1f, not fetched %.1f, written back %.1f\n",
	       kib, here.w_us, away.w_us, away.w_us / here.w_us, here.r_us, away.r_us,
	       away.r_us / here.r_us, away.w.trips / (double)IO_RUNS, away.r.trips / (double)IO_RUNS,
	       (away.w.fetched + away.r.fetched) / (double)IO_RUNS,
	       (away.w.pushed + away.r.pushed) / (double)IO_RUNS,
	       (away.w.unfetched + away.r.unfetched) / (double)IO_RUNS,
	       (away.w.written + away.r.written) / (double)IO_RUNS);
	printf("io %ld KiB vectors: readv into two buffers here %.1f us, away %.1f us (%.1fx); "
	       "recvfrom of %ld KiB with its sender here %.1f us, away %.1f us (%.1fx); "
	       "round trips away: readv %.1f, recvfrom %.1f; pages fetched away: by readv %.1f, by recvfrom %.1f\n",
	       kib, here.v_us, away.v_us, away.v_us / here.v_us, kib < 64 ? kib : 64, here.s_us,
	       away.s_us, away.s_us / here.s_us, away.v.trips / (double)IO_RUNS,
	       away.s.trips / (double)IO_RUNS, away.v.fetched / (double)IO_RUNS,
	       away.s.fetched / (double)IO_RUNS);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	return where("home") ? 1 : 0;
}

/* The writes' pages: page @i of a pass holds its own number and the pass's. */
#define BEHIND_PAGES 256

static void behind_page(unsigned char *pg, long i, int pass)
{
	memset(pg, 'a' + pass, 4096);
	memcpy(pg, &i, sizeof(i));
}

/* @count pwrite64() of a page, cycling over BEHIND_PAGES, then fsync(). */
static int behind_pass(int fd, long count, int pass, double *us)
{
	unsigned char pg[4096];
	double t0 = now_us();
	long i;

	for (i = 0; i < count; i++) {
		behind_page(pg, i % BEHIND_PAGES, pass);
		if (pwrite(fd, pg, sizeof(pg), (i % BEHIND_PAGES) * 4096) != sizeof(pg))
			return -1;
	}
	if (fsync(fd))
		return -1;
	*us = (now_us() - t0) / count;
	return 0;
}

/* Pages of the file that do not hold what pass @pass wrote. */
static long behind_check(int fd, int pass)
{
	unsigned char pg[4096], want[4096];
	long i, bad = 0;

	for (i = 0; i < BEHIND_PAGES; i++) {
		behind_page(want, i, pass);
		bad += pread(fd, pg, sizeof(pg), i * 4096) != sizeof(pg) ||
		       memcmp(pg, want, sizeof(pg));
	}
	return bad;
}

static int bench_behind(const char *node, long count)
{
	unsigned long long behind0, answers0, behind, answers;
	double here, away;
	long bad;
	int fd = open("/tmp/om-bench-behind", O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || behind_pass(fd, count, 0, &here)) {
		perror("om-bench: behind here");
		return 1;
	}
	if (where(node))
		return 1;
	behind0 = debug_field("written_behind");
	answers0 = debug_field("behind_answers");
	if (behind_pass(fd, count, 1, &away)) {
		perror("om-bench: behind away");
		return 1;
	}
	behind = debug_field("written_behind") - behind0;
	answers = debug_field("behind_answers") - answers0;
	if (where("home"))
		return 1;
	bad = behind_check(fd, 1);
	close(fd);
	unlink("/tmp/om-bench-behind");
	printf("behind %ld page writes: here %.1f us a write, away %.1f us (%.1fx); "
	       "%llu behind, in %llu answers; %ld pages wrong\n",
	       count, here, away, away / here, behind, answers, bad);
	return bad != 0;
}

/* Each page holds its own number, so a page lost or swapped on a move shows. */
static int hold(long mib, long seconds)
{
	size_t pages = (size_t)mib * 256, i, bad = 0;
	uint64_t *m = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long s;

	if (m == MAP_FAILED) {
		perror("om-bench: mmap");
		return 1;
	}
	for (i = 0; i < pages; i++)
		m[i * 512] = i * 2654435761u;
	printf("holding %ld MiB\n", mib);
	for (s = 0; s < seconds; s++)
		sleep(1);
	for (i = 0; i < pages; i++)
		bad += m[i * 512] != i * 2654435761u;
	printf("held %ld MiB: %zu pages wrong\n", mib, bad);
	return bad != 0;
}

int main(int argc, char **argv)
{
	long n = argc >= 4 ? atol(argv[3]) : 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && atol(argv[2]) > 0 && !strcmp(argv[1], "write"))
		return bench_writer(atol(argv[2]));
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "wide"))) && n > 0 &&
	    !strcmp(argv[1], "move"))
		return bench_move(argv[2], n, argc == 5);
	if (argc == 4 && n > 0 && !strcmp(argv[1], "syscall"))
		return bench_syscall(argv[2], n);
	if (argc == 4 && n > 0 && atol(argv[2]) > 0 && !strcmp(argv[1], "hold"))
		return hold(atol(argv[2]), n);
	if (argc == 4 && n > 0 && n <= 65536 && !strcmp(argv[1], "io"))
		return bench_io(argv[2], n);
	if (argc == 4 && n > 0 && !strcmp(argv[1], "behind"))
		return bench_behind(argv[2], n);
	fprintf(stderr, "usage: om-bench move NODE MIB [wide] | om-bench syscall NODE COUNT | "
		"om-bench write MIB | om-bench hold MIB SECONDS | om-bench io NODE KIB | "
		"om-bench behind NODE COUNT\n");
	return 2;
}
