// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay-bench's C: the real omhostd binary (--dir TMP --nodes 2) with two
 * synthetic vhost-user front-ends (tests/support/vu-frontend), node 1
 * sending to node 2, each in its own thread, buffers laid out as the guest
 * driver does. The sender fills its tx ring and kicks once; the receiver
 * keeps its rx ring stocked; EVENT_IDX is on. Phases of a size and a
 * length are driven by the main thread; omhostd's CPU time is read from
 * the scheduler's statistics. Also the round trip of one message
 * (relay-rtt.c) with an omhostd of its own.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay-bench.h"
#include "vu-frontend.h"
#include "proc-cpu.h"

/* A buffer in guest memory: header, payload (contiguous), indirect table. */
struct gbuf {
	uint8_t *hdr, *payload;
	uint64_t hdr_gpa, payload_gpa, table_gpa;
};

/*
 * The chain of a message (tx, len payload bytes) or a buffer (rx, len =
 * its capacity). Driver layout, as the guest driver builds them: the
 * header, then the payload in pieces of at most a page, as an indirect
 * table. Flat: header and payload in one descriptor.
 */
static unsigned int chain_of(const struct gbuf *b, uint32_t len, struct vuf_sg *sg,
			     uint64_t *table)
{
	unsigned int n = 0;

	if (g_opts.flat) {
		sg[0] = (struct vuf_sg){ b->hdr_gpa, HDR + len };
		*table = 0;
		return 1;
	}
	sg[n++] = (struct vuf_sg){ b->hdr_gpa, HDR };
	for (uint32_t off = 0; off < len; off += PAGE)
		sg[n++] = (struct vuf_sg){ b->payload_gpa + off, len - off < PAGE ? len - off : PAGE };
	*table = n > 1 ? b->table_gpa : 0;
	return n;
}

/* Guest-memory bytes per buffer. */
#define GBUF_STRIDE (MAX_PAYLOAD + PAGE)

static int gbufs_alloc(struct vuf *f, struct gbuf *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa;
		uint8_t *p = vuf_alloc(f, GBUF_STRIDE, PAGE, &gpa);

		if (!p)
			return -ENOMEM;
		/* Flat: the payload right after the header; driver: page-aligned pages. */
		if (g_opts.flat) {
			b[i].hdr = p;
			b[i].hdr_gpa = gpa;
		} else {
			b[i].hdr = p + MAX_PAYLOAD;
			b[i].hdr_gpa = gpa + MAX_PAYLOAD;
		}
		b[i].payload = g_opts.flat ? p + HDR : p;
		b[i].payload_gpa = g_opts.flat ? gpa + HDR : gpa;
		b[i].table_gpa = gpa + MAX_PAYLOAD + 64 * ((HDR + 63) / 64);
		memset(p, 0, GBUF_STRIDE);
	}
	return 0;
}

struct hd {
	/* Phases, driven by the main thread. */
	pthread_barrier_t start, end;
	uint32_t size;
	double seconds;
	bool quit;
	/* Within a phase. */
	_Atomic int64_t t0, t_end;
	atomic_bool sender_done;
	_Atomic uint64_t sent;	   /* messages of this phase, valid once sender_done */
	uint64_t received;	   /* receiver's, read after the end barrier */
	uint64_t received_all;	   /* over every phase of one omhostd, warm-ups too */
	_Atomic int64_t cpu_ends;  /* CPU ns of the sender and receiver threads */
	char dir[64];
};

static struct hd g_hd;

static struct vuf *hd_frontend(uint32_t node, bool manual_rx)
{
	struct vuf_opts vo = {
		.queue_size = (uint16_t)g_opts.queue,
		.region_size = (uint64_t)g_opts.queue * GBUF_STRIDE + 16 * MIB,
		.features = VUF_BIT(VUF_F_INDIRECT_DESC) | VUF_BIT(VUF_F_EVENT_IDX),
		.timeout_ms = STALL_MS,
		.rx_bufs = manual_rx ? 1 : 8,
		.tx_slots = 1,
		.flags = manual_rx ? VUF_O_MANUAL_RX : 0,
	};
	char path[128];
	struct vuf *f = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/node-%u.sock", g_hd.dir, node);
	r = vuf_new(&f, &vo);
	if (r == 0)
		r = vuf_connect(f, path);
	if (r == 0)
		r = vuf_handshake(f);
	if (r == 0 && vuf_node_id(f) != node)
		r = -EPROTO;
	if (r == 0 && !(vuf_features(f) & VUF_BIT(VUF_F_EVENT_IDX)))
		fprintf(stderr, "relay-bench: note: EVENT_IDX not negotiated with node %u\n", node);
	if (r < 0) {
		fail("omhostd: front-end of node %u: %s", node, strerror(-r));
		vuf_free(f);
		return NULL;
	}
	return f;
}

static void *hd_sender(void *arg)
{
	struct vuf *f = hd_frontend(SENDER_NODE, false);
	struct gbuf *b = calloc(g_opts.queue, sizeof(*b));
	uint16_t *free_slots = calloc(g_opts.queue, sizeof(*free_slots));
	struct vuf_used_elem *used = calloc(g_opts.queue, sizeof(*used));
	unsigned int nfree = 0;
	uint64_t seq = 0;

	(void)arg;
	if (!b || !free_slots || !used || (f && gbufs_alloc(f, b, g_opts.queue)))
		fail("omhostd: sender: out of guest memory");
	for (unsigned int i = 0; free_slots && i < g_opts.queue; i++)
		free_slots[nfree++] = (uint16_t)i;
	pthread_barrier_wait(&g_hd.start); /* ready */
	for (;;) {
		uint32_t size;
		uint64_t first = seq;
		int64_t deadline, stall_from, cpu0;

		pthread_barrier_wait(&g_hd.start);
		if (g_hd.quit)
			break;
		size = g_hd.size;
		if (!failed()) {
			for (unsigned int i = 0; i < g_opts.queue; i++)
				reset_payload(b[i].payload, size);
		}
		cpu0 = thread_cpu_ns();
		atomic_store(&g_hd.t0, now_ns());
		deadline = atomic_load(&g_hd.t0) + secs_ns(g_hd.seconds);
		stall_from = now_ns();
		while (!failed()) {
			int n = vuf_vq_harvest(f, VUF_TX, used, g_opts.queue);
			unsigned int added = 0;

			if (n < 0) {
				fail("omhostd: sender: tx used ring: %s", strerror(-n));
				break;
			}
			for (int i = 0; i < n; i++) {
				if (!used[i].known) {
					fail("omhostd: sender: used entry %u names no chain", used[i].id);
					break;
				}
				free_slots[nfree++] = (uint16_t)used[i].token;
			}
			if (n)
				stall_from = now_ns();
			if (now_ns() >= deadline) {
				if (vuf_vq_inflight(f, VUF_TX) == 0)
					break;
			} else {
				while (nfree) {
					struct vuf_sg sg[VUF_MAX_SEGS];
					uint16_t slot = free_slots[nfree - 1];
					struct gbuf *g = &b[slot];
					uint64_t table;
					unsigned int nsg = chain_of(g, size, sg, &table);
					int r;

					if (vuf_vq_free_descs(f, VUF_TX) < (table ? 1 : nsg))
						break;
					write_hdr(g->hdr, SENDER_NODE, RECEIVER_NODE, seq + 1, size);
					stamp_payload(g->payload, size, seq + 1);
					r = vuf_vq_add(f, VUF_TX, sg, nsg, NULL, 0, table, slot);
					if (r < 0) {
						fail("omhostd: sender: vuf_vq_add: %s", strerror(-r));
						break;
					}
					nfree--;
					seq++;
					added++;
				}
			}
			if (added) {
				int r = vuf_vq_notify(f, VUF_TX);

				if (r < 0)
					fail("omhostd: sender: kick: %s", strerror(-r));
				continue;
			}
			int r = vuf_vq_wait(f, VUF_TX, 100);

			if (r == -ETIMEDOUT) {
				if ((now_ns() - stall_from) / 1000000 > STALL_MS)
					fail("omhostd: no tx returned for %d ms (relay stuck)",
					     STALL_MS);
			} else if (r < 0) {
				fail("omhostd: sender: %s", r == -ECONNRESET ?
					"omhostd closed the connection" : strerror(-r));
			}
		}
		atomic_store(&g_hd.sent, seq - first);
		atomic_fetch_add(&g_hd.cpu_ends, thread_cpu_ns() - cpu0);
		atomic_store(&g_hd.sender_done, true);
		pthread_barrier_wait(&g_hd.end);
	}
	vuf_free(f);
	free(b);
	free(free_slots);
	free(used);
	return NULL;
}

/* Posts rx buffer i (its whole capacity). */
static int hd_post_rx(struct vuf *f, struct gbuf *b, unsigned int i)
{
	struct vuf_sg sg[VUF_MAX_SEGS];
	uint64_t table;
	unsigned int n = chain_of(&b[i], MAX_PAYLOAD, sg, &table);
	int r = vuf_vq_add(f, VUF_RX, NULL, 0, sg, n, table, i);

	return r < 0 ? r : 0;
}

/* A control message from the host (NODE_UP about the sender): skipped; NULL if fine. */
static const char *hd_control(const struct gbuf *g, uint32_t len)
{
	struct virtio_om_hdr h;

	memcpy(&h, g->hdr, sizeof(h));
	if (len < HDR || le32toh(h.src_node) != VIRTIO_OM_NODE_HOST)
		return NULL; /* not one: data */
	if (le16toh(h.type) == VIRTIO_OM_T_NODE_UP)
		return "";
	if (le16toh(h.type) == VIRTIO_OM_T_NODE_DOWN)
		return "the sender went down (NODE_DOWN)";
	return NULL; /* data with a wrong src_node: check_msg says so */
}

static void *hd_receiver(void *arg)
{
	struct vuf *f = hd_frontend(RECEIVER_NODE, true);
	struct gbuf *b = calloc(g_opts.queue, sizeof(*b));
	struct vuf_used_elem *used = calloc(g_opts.queue, sizeof(*used));
	uint64_t seq = 0;
	int r = 0;

	(void)arg;
	if (!b || !used || (f && gbufs_alloc(f, b, g_opts.queue)))
		fail("omhostd: receiver: out of guest memory");
	for (unsigned int i = 0; f && !failed() && i < g_opts.queue && r == 0; i++)
		r = hd_post_rx(f, b, i);
	if (f && !failed())
		r = r ? r : vuf_vq_notify(f, VUF_RX);
	if (r < 0)
		fail("omhostd: receiver: posting rx: %s", strerror(-r));
	pthread_barrier_wait(&g_hd.start); /* ready */
	for (;;) {
		uint32_t size;
		uint64_t got = 0;
		int64_t last_progress, cpu0;

		pthread_barrier_wait(&g_hd.start);
		if (g_hd.quit)
			break;
		size = g_hd.size;
		cpu0 = thread_cpu_ns();
		last_progress = now_ns();
		while (!failed()) {
			int n = vuf_vq_harvest(f, VUF_RX, used, g_opts.queue);

			if (n < 0) {
				fail("omhostd: receiver: rx used ring: %s", strerror(-n));
				break;
			}
			for (int i = 0; i < n && !failed(); i++) {
				struct gbuf *g;
				const char *why;

				if (!used[i].known) {
					fail("omhostd: receiver: used entry %u names no buffer",
					     used[i].id);
					break;
				}
				g = &b[used[i].token];
				why = hd_control(g, used[i].len);
				if (why && *why) {
					fail("omhostd: receiver: %s", why);
				} else if (!why) {
					seq++;
					got++;
					why = check_msg(g->hdr, g->payload, used[i].len, size, seq);
					if (why)
						fail("omhostd: message %" PRIu64 " (%u bytes): %s", seq,
						     size, why);
				}
				r = hd_post_rx(f, b, (unsigned int)used[i].token);
				if (r < 0)
					fail("omhostd: receiver: re-posting rx: %s", strerror(-r));
			}
			if (n > 0) {
				last_progress = now_ns();
				r = vuf_vq_notify(f, VUF_RX);
				if (r < 0)
					fail("omhostd: receiver: kick: %s", strerror(-r));
				if (atomic_load(&g_hd.sender_done) && got == atomic_load(&g_hd.sent)) {
					atomic_store(&g_hd.t_end, now_ns());
					break;
				}
				continue;
			}
			if (atomic_load(&g_hd.sender_done) && got >= atomic_load(&g_hd.sent)) {
				/* Everything came in an earlier batch. */
				if (got > atomic_load(&g_hd.sent))
					fail("omhostd: more messages received than sent");
				atomic_store(&g_hd.t_end, last_progress);
				break;
			}
			r = vuf_vq_wait(f, VUF_RX, 100);
			if (r == -ETIMEDOUT) {
				if ((now_ns() - last_progress) / 1000000 > STALL_MS)
					fail("omhostd: nothing received for %d ms (relay stuck)",
					     STALL_MS);
			} else if (r < 0) {
				fail("omhostd: receiver: %s", r == -ECONNRESET ?
					"omhostd closed the connection" : strerror(-r));
			}
		}
		g_hd.received = got;
		atomic_fetch_add(&g_hd.cpu_ends, thread_cpu_ns() - cpu0);
		pthread_barrier_wait(&g_hd.end);
	}
	vuf_free(f);
	free(b);
	free(used);
	return NULL;
}

static pid_t g_omhostd = -1;
static const char *g_omhostd_bin;

/*
 * How omhostd ended, said at once as well as failing the run: a crash
 * must show even when a front-end's error was the first failure.
 */
static void omhostd_ended(int st, const char *when)
{
	char what[96];

	if (WIFSIGNALED(st))
		snprintf(what, sizeof(what), "died of signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)), WCOREDUMP(st) ? ", core dumped" : "");
	else
		snprintf(what, sizeof(what), "exited with %d", WEXITSTATUS(st));
	fprintf(stderr, "relay-bench: omhostd %s %s %s\n", g_omhostd_bin, what, when);
	fail_cause("omhostd %s %s", what, when);
}

bool omhostd_dead(void)
{
	int st;

	if (g_omhostd < 0)
		return true;
	if (waitpid(g_omhostd, &st, WNOHANG) == g_omhostd) {
		omhostd_ended(st, "while relaying");
		g_omhostd = -1;
		return true;
	}
	return false;
}

int omhostd_start(const char *bin)
{
	char log[128];
	pid_t pid;

	strcpy(g_hd.dir, "/tmp/relay-bench.XXXXXX");
	if (!mkdtemp(g_hd.dir)) {
		fail("mkdtemp: %s", strerror(errno));
		g_hd.dir[0] = 0;
		return -1;
	}
	snprintf(log, sizeof(log), "%s/omhostd.log", g_hd.dir);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "--dir", g_hd.dir, "--nodes", "2", (char *)NULL);
		dprintf(2, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	g_omhostd = pid;
	g_omhostd_bin = bin;
	return 0;
}

int omhostd_wait_ready(void)
{
	int64_t end = now_ns() + secs_ns(STALL_MS / 1000.0);

	while (now_ns() < end) {
		char path[128];
		bool ready = true;

		for (uint32_t n = SENDER_NODE; n <= RECEIVER_NODE; n++) {
			snprintf(path, sizeof(path), "%s/node-%u.sock", g_hd.dir, n);
			ready = ready && access(path, F_OK) == 0;
		}
		if (ready)
			return 0;
		if (omhostd_dead())
			return -1;
		usleep(5000);
	}
	fail("omhostd: no sockets in %s after %d ms", g_hd.dir, STALL_MS);
	return -1;
}

static void omhostd_log_tail(void)
{
	char path[128], line[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/omhostd.log", g_hd.dir);
	fp = fopen(path, "r");
	if (!fp)
		return;
	fprintf(stderr, "relay-bench: omhostd's log:\n");
	while (fgets(line, sizeof(line), fp))
		fprintf(stderr, "  %s", line);
	fclose(fp);
}

unsigned int omhostd_log_count(const char *what)
{
	char path[128], line[512];
	unsigned int n = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/omhostd.log", g_hd.dir);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, what) != NULL;
	fclose(fp);
	return n;
}

const char *omhostd_dir(void)
{
	return g_hd.dir;
}

void omhostd_stop(void)
{
	char path[128];

	if (g_omhostd > 0) {
		pid_t got = 0;
		int st = 0;

		kill(g_omhostd, SIGTERM);
		for (int i = 0; i < 200 && (got = waitpid(g_omhostd, &st, WNOHANG)) == 0; i++)
			usleep(10000);
		if (got == 0) {
			kill(g_omhostd, SIGKILL);
			waitpid(g_omhostd, &st, 0);
			fail("omhostd did not stop within 2 s of SIGTERM");
		} else if (got == g_omhostd && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			omhostd_ended(st, "when told to stop (SIGTERM)");
		}
		g_omhostd = -1;
	}
	if (!g_hd.dir[0])
		return;
	if (failed())
		omhostd_log_tail();
	static const char *const files[] = { "omhostd.log", "node-1.sock", "node-2.sock",
					     "control.sock" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g_hd.dir, files[i]);
		unlink(path);
	}
	if (rmdir(g_hd.dir))
		fprintf(stderr, "relay-bench: cannot remove %s: %s\n", g_hd.dir, strerror(errno));
	g_hd.dir[0] = 0;
}

const uint64_t *hd_received(void)
{
	return &g_hd.received;
}

int hd_phase(uint32_t size, double seconds, struct result *res)
{
	struct cpu cpu;
	int64_t relay0;

	g_hd.size = size;
	g_hd.seconds = seconds;
	atomic_store(&g_hd.sender_done, false);
	atomic_store(&g_hd.sent, 0);
	atomic_store(&g_hd.t_end, 0);
	atomic_store(&g_hd.cpu_ends, 0);
	relay0 = proc_cpu_ns(g_omhostd);
	pthread_barrier_wait(&g_hd.start);
	pthread_barrier_wait(&g_hd.end);
	cpu = (struct cpu){ proc_cpu_ns(g_omhostd) - relay0, atomic_load(&g_hd.cpu_ends) };
	if (omhostd_dead() || failed())
		return -1;
	g_hd.received_all += g_hd.received;
	if (g_hd.received != atomic_load(&g_hd.sent)) {
		fail("omhostd: %" PRIu64 " messages sent, %" PRIu64 " received",
		     atomic_load(&g_hd.sent), g_hd.received);
		return -1;
	}
	if (res)
		keep_best(res, g_hd.received, g_hd.received * size,
			  atomic_load(&g_hd.t_end) - atomic_load(&g_hd.t0), &cpu);
	return 0;
}


/*
 * The memcpy baseline, when asked for, runs by turns with omhostd at 64
 * KiB: the machine's load changes over a run, and the ratio should compare
 * the two in the same minutes.
 */
int bench_omhostd(const char *bin, const uint32_t *sizes, unsigned int nsizes, unsigned int reps,
		  double *memcpy_by_turns, struct listen_rounds *lr, struct result *res)
{
	pthread_t ts, tr_thread;
	int rc = 0;

	if (access(bin, X_OK)) {
		fail("omhostd: %s: %s", bin, strerror(errno));
		return -1;
	}
	g_hd.quit = false;
	g_hd.received_all = 0;
	if (omhostd_start(bin) || omhostd_wait_ready()) {
		omhostd_stop();
		return -1;
	}
	pthread_barrier_init(&g_hd.start, NULL, 3);
	pthread_barrier_init(&g_hd.end, NULL, 3);
	if (pthread_create(&tr_thread, NULL, hd_receiver, NULL) ||
	    pthread_create(&ts, NULL, hd_sender, NULL)) {
		fail("pthread_create failed");
		omhostd_stop();
		exit(1);
	}
	pthread_barrier_wait(&g_hd.start); /* both front-ends up (or failed) */
	if (omhostd_dead() || failed())
		rc = -1;
	for (unsigned int s = 0; rc == 0 && s < nsizes; s++) {
		/* Warm-up: guest memory faulted in on omhostd's side, caches. */
		rc = hd_phase(sizes[s], g_opts.seconds < 1 ? g_opts.seconds / 4 : 0.25, NULL);
		for (unsigned int r = 0; rc == 0 && r < reps; r++) {
			if (memcpy_by_turns && sizes[s] == 64 * KIB &&
			    bench_memcpy(memcpy_by_turns, 1))
				rc = -1;
			if (rc == 0)
				rc = hd_phase(sizes[s], g_opts.seconds, &res[s]);
		}
		for (unsigned int r = 0; rc == 0 && lr && r < lr->rounds; r++)
			rc = listen_round(sizes[s], s, r, lr);
	}
	g_hd.quit = true;
	pthread_barrier_wait(&g_hd.start);
	pthread_join(ts, NULL);
	pthread_join(tr_thread, NULL);
	pthread_barrier_destroy(&g_hd.start);
	pthread_barrier_destroy(&g_hd.end);
	omhostd_dead();
	omhostd_stop();
	return failed() ? -1 : rc;
}

/* ================= C, one message at a time ================= */

int rtt_measure(struct relay_rtt *rtt)
{
	char why[160];
	int r;

	if (omhostd_start(g_opts.omhostd) || omhostd_wait_ready()) {
		omhostd_stop();
		return -1;
	}
	r = relay_rtt_run(g_hd.dir, RTT_SIZE, RTT_TRIPS, rtt, why, sizeof(why));
	if (r)
		fail("omhostd: round trip: %s", why);
	omhostd_dead();
	omhostd_stop();
	return failed() ? -1 : 0;
}
