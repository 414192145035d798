// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd as a process, driven by synthetic vhost-user front-ends
 * (tests/support/vu-frontend: QEMU and the guest driver without a VM).
 *
 * Each test starts its own omhostd (--dir a fresh directory, --nodes 1-3),
 * plays up to three guests against its sockets, reads its counters on the
 * control socket as omhostctl does, and ends with finish(): every
 * front-end gone, omhostd must hold no more fds than when it started and
 * no guest memory; on SIGTERM it must exit by itself with status 0 (under
 * the sanitizers that includes LeakSanitizer's verdict), leaving only its
 * log in the directory; and this process must have no fd or child left.
 *
 * Every wait is bounded (front-end waits FE_TIMEOUT_MS, start and stop
 * START/STOP_TIMEOUT_MS): a hung omhostd fails the test, it does not hang
 * it. omhostd's path comes from $OMHOSTD (tests/meson.build). Payloads are
 * derived from (source, destination, seq, length) and a seed ($OMHF_SEED,
 * printed), so a receiver checks every byte without being told what was
 * sent. omhostd's log (DIR/omhostd.log) is printed when a test fails.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_om.h>

#include "control-client.h"
#include "vu-frontend.h"

#define NODES 3u		 /* omhostd serves 1..NODES */
#define FE_TIMEOUT_MS 5000	 /* every front-end wait */
#define START_TIMEOUT_MS 5000	 /* omhostd serving after fork */
#define STOP_TIMEOUT_MS 5000	 /* omhostd gone after SIGTERM */
#define STATE_TIMEOUT_MS 5000	 /* a node reaching a state */
#define TX_SLOTS 32u		 /* front-ends' tx messages in flight */
#define MAX_MSG (VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD)
#define PF_OFFERED (VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG))

static uint64_t seed = 0x6f6d686f73746466ull; /* $OMHF_SEED overrides */

/* ------------------------------------------------------------------ */
/* The fixture: one omhostd, its directory, up to three front-ends.     */

struct acct {
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes;
};

struct fx {
	char dir[64], log[96];
	pid_t pid;		/* the omhostd running, 0 for none */
	int self_fds;		/* our open fds before the test */
	int hostd_fds;		/* omhostd's fds once serving, before any front-end */
	int64_t first_start_us; /* wall clock before the first omhostd started */
	struct vuf *f[NODES + 1];		/* node i's front-end, or NULL */
	struct acct a[NODES + 1];		/* what each node sent and got, counted here */
	uint64_t sent[NODES + 1][NODES + 1];	/* last seq sent, [src][dst] */
	uint64_t got[NODES + 1][NODES + 1];	/* last seq received, [dst][src] */
	uint64_t ctl_seq[NODES + 1];		/* last control seq each node got */
	bool done;				/* the test reached its end */
	const char *args[6];	/* omhostd's options after --dir and --nodes, NULL-ended */
	bool set_nofile;
	struct rlimit nofile;	/* omhostd's RLIMIT_NOFILE, when set_nofile */
};

/* A received message, header in host byte order. */
struct msg {
	uint16_t version, type;
	uint32_t flags, src, dst, src_pid, dst_pid, len, reserved;
	uint64_t seq, reply_to;
	size_t total;	  /* the length the device reported */
	uint8_t *payload; /* valid until the next receive */
};

/* How a message is sent (fe_send). */
struct out {
	uint32_t flags, src_pid, dst_pid;
	uint64_t reply_to;
	bool lie;	      /* write claimed_src as src_node: the relay must stamp the truth */
	uint32_t claimed_src;
	unsigned int segs, chain; /* vuf_msg_opts */
};

/* A node's line of the status answer. */
struct nstat {
	char state[16];
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes, stalls, undeliverable, refused;
	uint64_t connects, disconnects, evictions, unauthorized, backoff_refused, log_suppressed;
	uint64_t unresponsive, dropped_unresponsive;
	uint64_t queued, queued_total, queue_full, queue_dropped;
	bool waiting;
};

static uint8_t rx_buf[MAX_MSG + 64], tx_buf[VIRTIO_OM_MAX_PAYLOAD], want_buf[VIRTIO_OM_MAX_PAYLOAD];

/* ---- time, fds, files ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Open fds of pid (0: this process, not counting the directory read). */
static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/fd");
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return pid ? n : n - 1;
}

/* Mappings of a front-end's guest memory (memfd "vuf-guest-mem") in pid. */
static int count_guest_maps(pid_t pid)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "vuf-guest-mem"))
			n++;
	fclose(f);
	return n;
}

/* Removes dir and what is in it; returns how many entries other than keep (if given) it had. */
static int remove_dir(const char *dir, const char *keep)
{
	struct dirent *e;
	int others = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (keep && strcmp(e->d_name, keep)) {
			fprintf(stderr, "left in %s: %s\n", dir, e->d_name);
			others++;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir))
		return -1;
	return others;
}

static void dump_log(const struct fx *fx)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(fx->log, "re");

	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", fx->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of log ----\n");
	fclose(f);
}

/* omhostd's log as it is now: what it logs next is looked for after this. */
static long log_mark(const struct fx *fx)
{
	struct stat st;

	return stat(fx->log, &st) ? 0 : (long)st.st_size;
}

/*
 * Waits (bounded) for omhostd to log that it evicted node, after mark, and
 * checks the reason names the rule the test broke, not another one.
 */
static void expect_evicted_for(const struct fx *fx, long mark, uint32_t node, const char *why)
{
	int64_t deadline = mono_ms() + STATE_TIMEOUT_MS;
	char want[32], line[512];

	snprintf(want, sizeof(want), "node %u evicted: ", node);
	for (;;) {
		FILE *f = fopen(fx->log, "re");
		const char *at = NULL;

		if (f && fseek(f, mark, SEEK_SET) == 0)
			while (!at && fgets(line, sizeof(line), f))
				at = strstr(line, want);
		if (f)
			fclose(f);
		if (at) {
			if (!strstr(at, why))
				fail_msg("%.*s: not for \"%s\"", (int)strcspn(at, "\n"), at, why);
			return;
		}
		if (mono_ms() > deadline)
			fail_msg("omhostd did not log the eviction of node %u (for \"%s\")", node,
				 why);
		usleep(2000);
	}
}


/* Lines of omhostd's log after mark that hold needle. */
static unsigned int count_logged(const struct fx *fx, long mark, const char *needle)
{
	char line[1024];
	unsigned int n = 0;
	FILE *f = fopen(fx->log, "re");

	if (!f)
		return 0;
	if (fseek(f, mark, SEEK_SET) == 0)
		while (fgets(line, sizeof(line), f))
			n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Waits (bounded) until omhostd logged a line holding needle after mark; the line, in line. */
static void expect_logged(const struct fx *fx, long mark, const char *needle, char *line,
			  size_t cap)
{
	int64_t deadline = mono_ms() + STATE_TIMEOUT_MS;

	for (;;) {
		FILE *f = fopen(fx->log, "re");
		bool found = false;

		if (f && fseek(f, mark, SEEK_SET) == 0)
			while (!found && fgets(line, (int)cap, f))
				found = strstr(line, needle) != NULL;
		if (f)
			fclose(f);
		if (found)
			return;
		if (mono_ms() > deadline)
			fail_msg("omhostd did not log \"%s\"", needle);
		usleep(2000);
	}
}

/* ---- payloads ---- */

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The bytes of message seq from src to dst of len bytes (a wrong len changes them all). */
static void fill(uint8_t *p, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len)
{
	uint64_t key = mix64(seed ^ ((uint64_t)src << 48) ^ ((uint64_t)dst << 40) ^ seq) ^ len;

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v = mix64(key + i);

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* Random sizes 1..max over every scale, both ends included. */
static uint32_t random_len(uint64_t *rng, uint32_t max)
{
	uint64_t h = mix64((*rng)++);
	uint32_t len;

	switch (h & 15) {
	case 0:
		len = max;
		break;
	case 1:
		len = 1;
		break;
	default:
		len = 1 + (uint32_t)((((h >> 8) & 0xffffu) % max) >> ((h >> 32) % 16));
		break;
	}
	return len;
}

/* ---- omhostd: start, stop, control socket ---- */

static void ctl_path(const struct fx *fx, char *buf, size_t cap)
{
	assert_int_equal(om_ctl_socket_path(fx->dir, buf, cap), 0);
}

static void node_path(const struct fx *fx, uint32_t node, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/node-%u.sock", fx->dir, node);

	assert_true(n > 0 && (size_t)n < cap);
}

/* The status answer (docs/omhostd.md); fails unless omhostd answers in time. */
static void hostd_status(const struct fx *fx, char *buf, size_t cap)
{
	char path[128];
	int r;

	ctl_path(fx, path, sizeof(path));
	r = om_ctl_ask(path, "status\n", 2000, buf, cap);
	if (r)
		fail_msg("control socket: %s", strerror(-r));
}

static uint64_t field_u64(const char *line, const char *key)
{
	char v[32], *end;
	const char *s = om_ctl_field(line, key, v, sizeof(v));
	unsigned long long x;

	if (!strcmp(s, "-"))
		fail_msg("status: no %s in '%.*s'", key, (int)strcspn(line, "\n"), line);
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		fail_msg("status: %s=%s is not a number", key, s);
	return x;
}

/* A counter an older omhostd lacks: UINT64_MAX when absent (its tests then fail on the value). */
static uint64_t field_u64_new(const char *line, const char *key)
{
	char v[32];

	return strcmp(om_ctl_field(line, key, v, sizeof(v)), "-") ? field_u64(line, key) : UINT64_MAX;
}

static void get_nstat(const struct fx *fx, uint32_t node, struct nstat *s)
{
	char buf[4096], v[16];
	const char *line;

	hostd_status(fx, buf, sizeof(buf));
	line = om_ctl_node_line(buf, node);
	if (!line)
		fail_msg("status: no line for node %u in:\n%s", node, buf);
	snprintf(s->state, sizeof(s->state), "%s", om_ctl_field(line, "state", v, sizeof(v)));
	s->tx_msgs = field_u64(line, "tx_msgs");
	s->tx_bytes = field_u64(line, "tx_bytes");
	s->rx_msgs = field_u64(line, "rx_msgs");
	s->rx_bytes = field_u64(line, "rx_bytes");
	s->stalls = field_u64(line, "stalls");
	s->undeliverable = field_u64(line, "undeliverable");
	s->refused = field_u64(line, "refused");
	s->connects = field_u64(line, "connects");
	s->disconnects = field_u64(line, "disconnects");
	s->evictions = field_u64(line, "evictions");
	s->unauthorized = field_u64_new(line, "unauthorized");
	s->backoff_refused = field_u64_new(line, "backoff_refused");
	s->log_suppressed = field_u64_new(line, "log_suppressed");
	s->unresponsive = field_u64_new(line, "unresponsive");
	s->dropped_unresponsive = field_u64_new(line, "dropped_unresponsive");
	s->queued = field_u64_new(line, "queued");
	s->queued_total = field_u64_new(line, "queued_total");
	s->queue_full = field_u64_new(line, "queue_full");
	s->queue_dropped = field_u64_new(line, "queue_dropped");
	s->waiting = !strcmp(om_ctl_field(line, "waiting", v, sizeof(v)), "yes");
}

/* Waits (bounded) until node is in state (absent, connected, up). */
static void wait_state(const struct fx *fx, uint32_t node, const char *state)
{
	int64_t deadline = mono_ms() + STATE_TIMEOUT_MS;
	struct nstat s;

	for (;;) {
		get_nstat(fx, node, &s);
		if (!strcmp(s.state, state))
			return;
		if (mono_ms() > deadline)
			fail_msg("node %u: state %s, not %s after %d ms", node, s.state, state,
				 STATE_TIMEOUT_MS);
		usleep(2000);
	}
}

/* Waits (bounded) until node's tx is stalled ("waiting=yes"), or no longer. */
static void wait_waiting(const struct fx *fx, uint32_t node, bool waiting)
{
	int64_t deadline = mono_ms() + STATE_TIMEOUT_MS;
	struct nstat s;

	for (;;) {
		get_nstat(fx, node, &s);
		if (s.waiting == waiting)
			return;
		if (mono_ms() > deadline)
			fail_msg("node %u: waiting=%s for %d ms", node, s.waiting ? "yes" : "no",
				 STATE_TIMEOUT_MS);
		usleep(2000);
	}
}

static void hostd_start(struct fx *fx)
{
	const char *bin = getenv("OMHOSTD");
	char *argv[6 + sizeof(fx->args) / sizeof(fx->args[0])] = { "omhostd", "--dir", fx->dir,
								    "--nodes", "1-3" };
	char path[128], want[48], buf[4096];
	pid_t parent = getpid(), pid;
	int64_t deadline;

	if (!bin || access(bin, X_OK))
		fail_msg("$OMHOSTD (%s) is not an executable omhostd", bin ? bin : "unset");
	for (size_t i = 0; i < sizeof(fx->args) / sizeof(fx->args[0]) && fx->args[i]; i++)
		argv[5 + i] = (char *)fx->args[i];
	assert_int_equal(fx->pid, 0);
	if (!fx->first_start_us)
		fx->first_start_us = wall_us();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(fx->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		close_range(3, ~0u, 0);
		if (fx->set_nofile && setrlimit(RLIMIT_NOFILE, &fx->nofile))
			_exit(124);
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		execv(bin, argv);
		_exit(127);
	}
	fx->pid = pid;
	/* Serving once the control socket answers as this pid. */
	ctl_path(fx, path, sizeof(path));
	snprintf(want, sizeof(want), "omhostd pid=%d ", (int)pid);
	deadline = mono_ms() + START_TIMEOUT_MS;
	for (;;) {
		int st;

		if (om_ctl_ask(path, "status\n", 500, buf, sizeof(buf)) == 0 &&
		    !strncmp(buf, want, strlen(want)))
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fx->pid = 0;
			fail_msg("omhostd exited at start (status %#x)", st);
		}
		if (mono_ms() > deadline)
			fail_msg("omhostd not serving after %d ms", START_TIMEOUT_MS);
		usleep(5000);
	}
	for (uint32_t n = 1; n <= NODES; n++) {
		struct stat st;

		node_path(fx, n, path, sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISSOCK(st.st_mode));
	}
	fx->hostd_fds = count_fds(pid);
	assert_true(fx->hostd_fds > 0);
}

/* Sends sig and reaps omhostd within timeout_ms; false if it did not end. */
static bool hostd_signal(struct fx *fx, int sig, int timeout_ms, int *status)
{
	int64_t deadline = mono_ms() + timeout_ms;

	assert_true(fx->pid > 0);
	assert_int_equal(kill(fx->pid, sig), 0);
	for (;;) {
		pid_t r = waitpid(fx->pid, status, WNOHANG);

		if (r == fx->pid) {
			fx->pid = 0;
			return true;
		}
		assert_int_equal(r, 0);
		if (mono_ms() > deadline)
			return false;
		usleep(2000);
	}
}

static void hostd_alive(const struct fx *fx)
{
	int st;

	assert_true(fx->pid > 0);
	assert_int_equal(waitpid(fx->pid, &st, WNOHANG), 0);
	assert_int_equal(kill(fx->pid, 0), 0);
}

/* SIGTERM: omhostd must end by itself, with status 0. */
static void hostd_stop(struct fx *fx)
{
	int st = 0;

	if (!hostd_signal(fx, SIGTERM, STOP_TIMEOUT_MS, &st)) {
		hostd_signal(fx, SIGKILL, STOP_TIMEOUT_MS, &st);
		fail_msg("omhostd still running %d ms after SIGTERM (killed)", STOP_TIMEOUT_MS);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("omhostd ended with %s %d on SIGTERM",
			 WIFEXITED(st) ? "exit status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* SIGKILL, as a crash. */
static void hostd_crash(struct fx *fx)
{
	int st = 0;

	assert_true(hostd_signal(fx, SIGKILL, STOP_TIMEOUT_MS, &st));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* ---- front-ends ---- */

static struct vuf_opts fe_default_opts(void)
{
	return (struct vuf_opts){ .timeout_ms = FE_TIMEOUT_MS, .tx_slots = TX_SLOTS };
}

/* A new guest on node's socket, connected, no handshake yet. */
static struct vuf *fe_open(struct fx *fx, uint32_t node, const struct vuf_opts *opts)
{
	struct vuf_opts o = opts ? *opts : fe_default_opts();
	char path[128];
	struct vuf *f = NULL;
	int r;

	assert_null(fx->f[node]);
	if (!o.timeout_ms)
		o.timeout_ms = FE_TIMEOUT_MS;
	assert_int_equal(vuf_new(&f, &o), 0);
	fx->f[node] = f;
	node_path(fx, node, path, sizeof(path));
	r = vuf_connect(f, path);
	if (r)
		fail_msg("node %u: connect: %s", node, strerror(-r));
	/* A new guest numbers from 1; what it gets next from a peer is the peer's next. */
	for (uint32_t p = 0; p <= NODES; p++) {
		fx->sent[node][p] = 0;
		fx->got[p][node] = 0;
		fx->got[node][p] = fx->sent[p][node];
	}
	return f;
}

/* A new guest on node, handshake done, up. */
static struct vuf *fe_up(struct fx *fx, uint32_t node, const struct vuf_opts *opts)
{
	struct vuf *f = fe_open(fx, node, opts);
	int r = vuf_handshake(f);

	if (r)
		fail_msg("node %u: handshake: %s", node, strerror(-r));
	assert_int_equal(vuf_node_id(f), node);
	wait_state(fx, node, "up");
	return f;
}

static void fe_drop(struct fx *fx, uint32_t node)
{
	vuf_free(fx->f[node]);
	fx->f[node] = NULL;
}

/* Sends one message from src to dst, seq the pair's next; returns the seq. */
static uint64_t fe_send(struct fx *fx, uint32_t src, uint32_t dst, uint16_t type,
			const void *payload, uint32_t len, const struct out *o)
{
	static const struct out none;
	struct vuf_msg_opts mo;
	struct virtio_om_hdr h;
	uint64_t seq;
	int r;

	assert_non_null(fx->f[src]);
	if (!o)
		o = &none;
	seq = ++fx->sent[src][dst];
	h = (struct virtio_om_hdr){
		.version = htole16(VIRTIO_OM_PROTOCOL_VERSION),
		.type = htole16(type),
		.flags = htole32(o->flags),
		.src_node = htole32(o->lie ? o->claimed_src : src),
		.dst_node = htole32(dst),
		.src_pid = htole32(o->src_pid),
		.dst_pid = htole32(o->dst_pid),
		.seq = htole64(seq),
		.reply_to = htole64(o->reply_to),
		.len = htole32(len),
	};
	mo = (struct vuf_msg_opts){ .segs = o->segs, .chain = o->chain };
	r = vuf_send_hdr(fx->f[src], &h, payload, len, &mo);
	if (r)
		fail_msg("node %u -> %u seq %" PRIu64 ": send: %s", src, dst, seq, strerror(-r));
	fx->a[src].tx_msgs++;
	fx->a[src].tx_bytes += VIRTIO_OM_HDR_SIZE + len;
	return seq;
}

/* A test-data message of len bytes whose payload the receiver can check. */
static uint64_t send_data(struct fx *fx, uint32_t src, uint32_t dst, uint32_t len,
			  const struct out *o)
{
	fill(tx_buf, src, dst, fx->sent[src][dst] + 1, len);
	return fe_send(fx, src, dst, VIRTIO_OM_T_TEST_DATA, tx_buf, len, o);
}

/*
 * Receives one message at node: 1, or what vuf_recv_msg said (-ETIMEDOUT,
 * -ECONNRESET). Checks what holds for every message, and that control
 * messages' seq goes on increasing (also across omhostd restarts).
 */
static int fe_try_recv(struct fx *fx, uint32_t node, struct msg *m, int timeout_ms)
{
	struct virtio_om_hdr h;
	int n;

	assert_non_null(fx->f[node]);
	n = vuf_recv_msg(fx->f[node], rx_buf, sizeof(rx_buf), timeout_ms);
	if (n < 0)
		return n;
	if (n < VIRTIO_OM_HDR_SIZE)
		fail_msg("node %u: a message of %d bytes", node, n);
	memcpy(&h, rx_buf, sizeof(h));
	*m = (struct msg){
		.version = le16toh(h.version),
		.type = le16toh(h.type),
		.flags = le32toh(h.flags),
		.src = le32toh(h.src_node),
		.dst = le32toh(h.dst_node),
		.src_pid = le32toh(h.src_pid),
		.dst_pid = le32toh(h.dst_pid),
		.len = le32toh(h.len),
		.reserved = le32toh(h.reserved),
		.seq = le64toh(h.seq),
		.reply_to = le64toh(h.reply_to),
		.total = (size_t)n,
		.payload = rx_buf + VIRTIO_OM_HDR_SIZE,
	};
	assert_int_equal(m->version, VIRTIO_OM_PROTOCOL_VERSION);
	assert_int_equal(m->dst, node);
	assert_int_equal(m->reserved, 0);
	assert_int_equal(m->total, VIRTIO_OM_HDR_SIZE + (size_t)m->len);
	if (m->src == VIRTIO_OM_NODE_HOST) {
		assert_true(m->type == VIRTIO_OM_T_NODE_UP || m->type == VIRTIO_OM_T_NODE_DOWN);
		assert_int_equal(m->len, sizeof(struct virtio_om_node_event));
		assert_int_equal(m->flags, 0);
		assert_int_equal(m->reply_to, 0);
		/* The host numbers from its start time in microseconds, ever upwards. */
		if (m->seq <= fx->ctl_seq[node] || m->seq <= (uint64_t)fx->first_start_us)
			fail_msg("node %u: control seq %" PRIu64 " after %" PRIu64
				 " (start %" PRId64 ")",
				 node, m->seq, fx->ctl_seq[node], fx->first_start_us);
		fx->ctl_seq[node] = m->seq;
	}
	fx->a[node].rx_msgs++;
	fx->a[node].rx_bytes += m->total;
	return 1;
}

static void fe_recv(struct fx *fx, uint32_t node, struct msg *m)
{
	int r = fe_try_recv(fx, node, m, FE_TIMEOUT_MS);

	if (r != 1)
		fail_msg("node %u: nothing received: %s", node, strerror(-r));
}

static const char *type_name(uint16_t t)
{
	switch (t) {
	case VIRTIO_OM_T_NODE_UP:
		return "NODE_UP";
	case VIRTIO_OM_T_NODE_DOWN:
		return "NODE_DOWN";
	case VIRTIO_OM_T_PING:
		return "PING";
	case VIRTIO_OM_T_PONG:
		return "PONG";
	case VIRTIO_OM_T_TEST_DATA:
		return "TEST_DATA";
	}
	return "?";
}

/* The next message at node must be the host's event type about node about. */
static void expect_event(struct fx *fx, uint32_t at, uint16_t type, uint32_t about, uint32_t reason)
{
	struct virtio_om_node_event ev;
	struct msg m;

	fe_recv(fx, at, &m);
	if (m.src != VIRTIO_OM_NODE_HOST || m.type != type)
		fail_msg("node %u: expected %s about %u, got %s from %u (seq %" PRIu64 ")", at,
			 type_name(type), about, type_name(m.type), m.src, m.seq);
	memcpy(&ev, m.payload, sizeof(ev));
	if (le32toh(ev.node) != about || le32toh(ev.reason) != reason)
		fail_msg("node %u: %s about %u reason %u, expected about %u reason %u", at,
			 type_name(type), le32toh(ev.node), le32toh(ev.reason), about, reason);
}

/*
 * The next message at node must be data from a peer, the pair's next seq,
 * the source stamped by the relay, the payload intact. Fills m.
 */
static void expect_any_data(struct fx *fx, uint32_t at, uint16_t type, struct msg *m)
{
	fe_recv(fx, at, m);
	if (m->src == VIRTIO_OM_NODE_HOST) {
		struct virtio_om_node_event ev;

		memcpy(&ev, m->payload, sizeof(ev));
		fail_msg("node %u: expected data, got %s about %u reason %u", at,
			 type_name(m->type), le32toh(ev.node), le32toh(ev.reason));
	}
	if (m->src < 1 || m->src > NODES || m->src == at)
		fail_msg("node %u: data stamped from node %u", at, m->src);
	assert_int_equal(m->type, type);
	if (m->seq != fx->got[at][m->src] + 1)
		fail_msg("node %u: from %u seq %" PRIu64 ", expected %" PRIu64, at, m->src, m->seq,
			 fx->got[at][m->src] + 1);
	fx->got[at][m->src] = m->seq;
	if (type == VIRTIO_OM_T_TEST_DATA) {
		fill(want_buf, m->src, at, m->seq, m->len);
		if (memcmp(m->payload, want_buf, m->len))
			fail_msg("node %u: from %u seq %" PRIu64 ": %u bytes not intact", at,
				 m->src, m->seq, m->len);
	}
}

static void expect_data_from(struct fx *fx, uint32_t at, uint32_t from, struct msg *m)
{
	expect_any_data(fx, at, VIRTIO_OM_T_TEST_DATA, m);
	assert_int_equal(m->src, from);
}

/*
 * a sends b a message, and it is the next thing b receives: nothing (an
 * event) was pending for b, and the relay serves them.
 */
static void check_relay(struct fx *fx, uint32_t a, uint32_t b, uint32_t len)
{
	struct msg m;

	send_data(fx, a, b, len, NULL);
	expect_data_from(fx, b, a, &m);
	assert_int_equal(m.len, len);
}

/* Nodes 1..3 up one after the other, every NODE_UP (JOINED) read. */
static void up_all(struct fx *fx, const struct vuf_opts *opts)
{
	for (uint32_t n = 1; n <= NODES; n++) {
		fe_up(fx, n, opts ? &opts[n] : NULL);
		for (uint32_t p = 1; p < n; p++) {
			expect_event(fx, n, VIRTIO_OM_T_NODE_UP, p, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, p, VIRTIO_OM_T_NODE_UP, n, VIRTIO_OM_NODE_JOINED);
		}
	}
}

/* Three kinds of guests: default; every request acked and vhost_dev_start's
 * order; three regions in one memfd, EVENT_IDX, rx buffers in 3 pieces. */
static void variant_opts(struct vuf_opts o[NODES + 1])
{
	for (uint32_t n = 0; n <= NODES; n++)
		o[n] = fe_default_opts();
	o[2].flags = VUF_O_ACK_ALL | VUF_O_VHOST_GENERIC;
	o[3].nregions = 3;
	o[3].region_size = 8u << 20;
	o[3].gpa_base = 0x40000000;
	o[3].gpa_gap = 0x100000;
	o[3].flags = VUF_O_SHARED_MEMFD;
	o[3].features = VUF_BIT(VUF_F_INDIRECT_DESC) | VUF_BIT(VUF_F_EVENT_IDX);
	o[3].rx_segs = 3;
	o[3].queue_size = 128;
}

/* omhostd's counters for node equal what the test sent and received. */
static void check_counters(const struct fx *fx, uint32_t node)
{
	struct nstat s;

	get_nstat(fx, node, &s);
	assert_int_equal(s.tx_msgs, fx->a[node].tx_msgs);
	assert_int_equal(s.tx_bytes, fx->a[node].tx_bytes);
	assert_int_equal(s.rx_msgs, fx->a[node].rx_msgs);
	assert_int_equal(s.rx_bytes, fx->a[node].rx_bytes);
	assert_int_equal(s.undeliverable, 0);
	assert_int_equal(s.refused, 0);
	assert_int_equal(s.evictions, 0);
	assert_false(s.waiting);
}

/*
 * The end of every test: the front-ends go; omhostd closes what it had of
 * them (fds, guest memory), stops cleanly on SIGTERM and leaves only its
 * log; we are left with the fds we had and no child.
 */
static void finish(struct fx *fx)
{
	int64_t deadline;
	int fds = -1, maps = -1;

	for (uint32_t n = 1; n <= NODES; n++)
		fe_drop(fx, n);
	for (uint32_t n = 1; n <= NODES; n++)
		wait_state(fx, n, "absent");
	deadline = mono_ms() + STATE_TIMEOUT_MS;
	while (mono_ms() < deadline) {
		fds = count_fds(fx->pid);
		maps = count_guest_maps(fx->pid);
		if (fds == fx->hostd_fds && maps == 0)
			break;
		usleep(5000);
	}
	if (fds != fx->hostd_fds || maps != 0)
		fail_msg("omhostd holds %d fds (%d when it started) and %d guest mappings", fds,
			 fx->hostd_fds, maps);
	hostd_alive(fx);
	hostd_stop(fx);
	if (remove_dir(fx->dir, "omhostd.log") != 0)
		fail_msg("%s: omhostd left files behind, or it cannot be removed", fx->dir);
	fx->dir[0] = '\0';
	assert_int_equal(count_fds(0), fx->self_fds);
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	fx->done = true;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->self_fds = count_fds(0);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/omhf-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->log, sizeof(fx->log), "%s/omhostd.log", fx->dir);
	/*
	 * Most tests evict and reconnect at once, to test the rule that fired,
	 * not the back-off after it (tested on its own, with the default).
	 */
	fx->args[0] = "--evict-backoff-ms";
	fx->args[1] = "0";
	*state = fx;
	return 0;
}

/* Cleans up whatever a failed test left; a passed test left nothing. */
static int teardown(void **state)
{
	struct fx *fx = *state;

	for (uint32_t n = 1; n <= NODES; n++)
		vuf_free(fx->f[n]);
	if (fx->pid > 0) {
		kill(fx->pid, SIGKILL);
		waitpid(fx->pid, NULL, 0);
	}
	if (!fx->done)
		dump_log(fx);
	if (fx->dir[0])
		remove_dir(fx->dir, NULL);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ */
/* 1. Handshake                                                        */

static void handshake_gives_node_ids_and_features(void **state)
{
	struct fx *fx = *state;
	struct vuf_opts o[NODES + 1];
	struct vuf_opts small = fe_default_opts();
	char buf[4096], want[128], path[128];
	struct vuf *extra = NULL;
	struct nstat s;

	hostd_start(fx);
	hostd_status(fx, buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "omhostd pid=%d nodes=1-3 max_payload=65536 trace_payloads_refused=0 "
		 "log_suppressed=0\n", (int)fx->pid);
	assert_memory_equal(buf, want, strlen(want));

	variant_opts(o);
	up_all(fx, o);
	for (uint32_t n = 1; n <= NODES; n++) {
		struct vuf *f = fx->f[n];
		uint64_t offered = vuf_offered_features(f);

		assert_int_equal(vuf_node_id(f), n);
		assert_int_equal(vuf_max_payload(f), VIRTIO_OM_MAX_PAYLOAD);
		/* Exactly REPLY_ACK and CONFIG, though MQ was asked for too. */
		assert_int_equal(vuf_offered_protocol_features(f), PF_OFFERED);
		assert_int_equal(vuf_protocol_features(f), PF_OFFERED);
		assert_true(offered & VUF_BIT(VUF_F_VERSION_1));
		assert_true(offered & VUF_BIT(VUF_F_PROTOCOL_FEATURES));
		assert_true(offered & VUF_BIT(VUF_F_INDIRECT_DESC));
		assert_true(offered & VUF_BIT(VUF_F_EVENT_IDX));
		/* What it asked for (vuf's default: INDIRECT_DESC), all offered. */
		assert_int_equal(vuf_features(f),
				 VUF_BIT(VUF_F_VERSION_1) | VUF_BIT(VUF_F_PROTOCOL_FEATURES) |
					 (o[n].features ? o[n].features :
							  VUF_BIT(VUF_F_INDIRECT_DESC)));
	}

	/* A second front-end on a socket in use is refused; the first goes on. */
	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 2;
	assert_int_equal(vuf_new(&extra, &small), 0);
	node_path(fx, 1, path, sizeof(path));
	assert_int_equal(vuf_connect(extra, path), 0);
	assert_int_equal(vuf_handshake(extra), -ECONNRESET);
	vuf_free(extra);
	get_nstat(fx, 1, &s);
	assert_string_equal(s.state, "up");
	assert_int_equal(s.connects, 1);
	assert_int_equal(s.disconnects, 0);

	/* Every kind of guest relays, both ways, up to the largest payload. */
	for (uint32_t a = 1; a <= NODES; a++)
		for (uint32_t b = 1; b <= NODES; b++)
			if (a != b) {
				check_relay(fx, a, b, 100);
				check_relay(fx, a, b, VIRTIO_OM_MAX_PAYLOAD);
			}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 2. NODE_UP                                                          */

static void node_up_to_and_about_a_late_joiner(void **state)
{
	struct fx *fx = *state;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);

	/* Connected but its queues not started: not up, nobody is told. */
	fe_open(fx, 3, NULL);
	wait_state(fx, 3, "connected");
	check_relay(fx, 1, 2, 10);
	check_relay(fx, 2, 1, 10);

	/* Started: it hears of each peer up, each peer hears of it. */
	assert_int_equal(vuf_handshake(fx->f[3]), 0);
	wait_state(fx, 3, "up");
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	/* Control messages before any data, and only these. */
	check_relay(fx, 3, 1, 10);
	check_relay(fx, 1, 3, 10);
	check_relay(fx, 2, 3, 10);
	for (uint32_t n = 1; n <= NODES; n++)
		check_counters(fx, n);
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 3. Traffic                                                          */

static void ping_and_pong(struct fx *fx)
{
	struct virtio_om_ping ping = { .cookie = htole64(0x0123456789abcdefull) }, echo;
	struct out po = { .src_pid = 101, .dst_pid = 303 };
	uint64_t pseq, qseq;
	struct msg m;

	pseq = fe_send(fx, 1, 3, VIRTIO_OM_T_PING, &ping, sizeof(ping), &po);
	expect_any_data(fx, 3, VIRTIO_OM_T_PING, &m);
	assert_int_equal(m.src, 1);
	assert_int_equal(m.seq, pseq);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.reply_to, 0);
	assert_int_equal(m.src_pid, 101);
	assert_int_equal(m.dst_pid, 303);
	assert_int_equal(m.len, sizeof(ping));
	assert_memory_equal(m.payload, &ping, sizeof(ping));

	memcpy(&echo, m.payload, sizeof(echo));
	po = (struct out){ .flags = VIRTIO_OM_F_REPLY, .reply_to = m.seq, .src_pid = 303,
			   .dst_pid = 101 };
	qseq = fe_send(fx, 3, 1, VIRTIO_OM_T_PONG, &echo, sizeof(echo), &po);
	expect_any_data(fx, 1, VIRTIO_OM_T_PONG, &m);
	assert_int_equal(m.src, 3);
	assert_int_equal(m.seq, qseq);
	assert_int_equal(m.flags, VIRTIO_OM_F_REPLY);
	assert_int_equal(m.reply_to, pseq);
	assert_int_equal(m.src_pid, 303);
	assert_int_equal(m.dst_pid, 101);
	assert_memory_equal(m.payload, &ping, sizeof(ping));
}

static void traffic_intact_in_order_and_counted(void **state)
{
	struct fx *fx = *state;
	const unsigned int rounds = 30;
	struct vuf_opts o[NODES + 1];
	uint64_t rng = seed, lies = 0, total = 0;

	hostd_start(fx);
	variant_opts(o);
	up_all(fx, o);
	ping_and_pong(fx);

	/*
	 * Rounds: every pair sends 1..4 messages (random sizes, segments and
	 * chain shapes, some with a false src_node), then every node reads
	 * what it was sent. At most 8 per node a round: within its rx buffers
	 * and tx slots, so the single-threaded test never waits on itself.
	 */
	for (unsigned int r = 0; r < rounds; r++) {
		unsigned int expect[NODES + 1] = { 0 };

		for (uint32_t a = 1; a <= NODES; a++)
			for (uint32_t b = 1; b <= NODES; b++) {
				unsigned int k = a == b ? 0 : 1 + (unsigned int)(mix64(rng++) % 4);

				for (unsigned int i = 0; i < k; i++) {
					static const uint32_t claims[] = {
						0, 999, 0xffffffffu, 1, 2, 3
					};
					uint64_t h = mix64(rng++);
					struct out so = {
						.segs = 1 + (unsigned int)(h % 8),
						.chain = (h >> 8) % 3 == 0 ? VUF_CHAIN_MERGED :
							 (h >> 8) % 3 == 1 ? VUF_CHAIN_INDIRECT : 0,
						.lie = (h >> 16) % 4 == 0,
						.claimed_src = claims[(h >> 24) % 6],
						.src_pid = (uint32_t)(h >> 32),
					};

					if (so.lie && so.claimed_src != a)
						lies++;
					send_data(fx, a, b, random_len(&rng, VIRTIO_OM_MAX_PAYLOAD),
						  &so);
					expect[b]++;
					total++;
				}
			}
		for (uint32_t b = 1; b <= NODES; b++)
			for (unsigned int i = 0; i < expect[b]; i++) {
				struct msg m;

				expect_any_data(fx, b, VIRTIO_OM_T_TEST_DATA, &m);
			}
	}
	print_message("traffic: %" PRIu64 " messages, %" PRIu64 " with a false src_node\n", total,
		      lies);
	assert_true(lies > 0);
	for (uint32_t a = 1; a <= NODES; a++)
		for (uint32_t b = 1; b <= NODES; b++)
			assert_int_equal(fx->got[b][a], fx->sent[a][b]);
	for (uint32_t n = 1; n <= NODES; n++) {
		struct nstat s;

		check_counters(fx, n);
		get_nstat(fx, n, &s);
		assert_string_equal(s.state, "up");
		assert_int_equal(s.connects, 1);
		assert_int_equal(s.disconnects, 0);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 4. Backpressure                                                     */

static void backpressure_loses_nothing(void **state)
{
	struct fx *fx = *state;
	struct vuf_opts ro = fe_default_opts();
	const unsigned int n = 200;
	uint64_t rng = seed ^ 4;
	unsigned int sent = 0, got = 0;
	struct vuf_used_elem e[TX_SLOTS];
	struct nstat s;

	/* Held in the ring, not queued: the receiver's queue never opens here. */
	fx->args[2] = "--queue-after-ms";
	fx->args[3] = "3600000";
	hostd_start(fx);
	fe_up(fx, 1, NULL);
	/* The receiver has 8 rx buffers, and posts none yet. */
	ro.flags = VUF_O_MANUAL_RX;
	ro.rx_bufs = 8;
	fe_up(fx, 2, &ro);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);

	/* The sender fills its tx: more than the receiver will ever post. */
	while (sent < TX_SLOTS) {
		send_data(fx, 1, 2, random_len(&rng, VIRTIO_OM_MAX_PAYLOAD), NULL);
		sent++;
	}
	wait_waiting(fx, 1, true);
	/* Held, not dropped: no tx chain comes back while it waits. */
	assert_int_equal(vuf_vq_wait(fx->f[1], VUF_TX, 300), -ETIMEDOUT);
	assert_int_equal(vuf_vq_harvest(fx->f[1], VUF_TX, e, TX_SLOTS), 0);
	assert_int_equal(vuf_vq_inflight(fx->f[1], VUF_TX), TX_SLOTS);
	get_nstat(fx, 1, &s);
	assert_true(s.stalls >= 1);
	assert_int_equal(s.undeliverable, 0);
	assert_int_equal(s.tx_msgs, 1); /* the head, taken and held */

	/* Buffers at last: its NODE_UP first, then everything, in order. */
	assert_int_equal(vuf_rx_fill(fx->f[2]), 0);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	while (got < n) {
		struct msg m;

		while (vuf_vq_harvest(fx->f[1], VUF_TX, e, TX_SLOTS) > 0)
			;
		while (sent < n && vuf_vq_inflight(fx->f[1], VUF_TX) < TX_SLOTS) {
			send_data(fx, 1, 2, random_len(&rng, VIRTIO_OM_MAX_PAYLOAD), NULL);
			sent++;
		}
		expect_data_from(fx, 2, 1, &m);
		got++;
	}
	assert_int_equal(fx->got[2][1], n);
	assert_int_equal(vuf_tx_flush(fx->f[1], FE_TIMEOUT_MS), 0);
	wait_waiting(fx, 1, false);
	get_nstat(fx, 1, &s);
	print_message("backpressure: %u messages through 8 rx buffers, %" PRIu64 " stalls\n", n,
		      s.stalls);
	assert_true(s.stalls > 1);
	check_counters(fx, 1);
	check_counters(fx, 2);
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 5. Disconnect and reconnect                                         */

static void disconnect_and_reconnect(void **state)
{
	struct fx *fx = *state;
	struct nstat s;

	hostd_start(fx);
	up_all(fx, NULL);

	/* Its QEMU dies: the peers are told, DISCONNECTED. */
	vuf_disconnect(fx->f[3]);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, 3, "absent");
	/* A message for it meanwhile is dropped and counted. */
	send_data(fx, 1, 3, 10, NULL);
	assert_int_equal(vuf_tx_flush(fx->f[1], FE_TIMEOUT_MS), 0);
	get_nstat(fx, 1, &s);
	assert_int_equal(s.undeliverable, 1);
	check_relay(fx, 1, 2, 10);

	/* A new guest there (fresh rings): JOINED both ways. */
	fe_drop(fx, 3);
	fe_up(fx, 3, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	check_relay(fx, 3, 1, 1000);
	check_relay(fx, 2, 3, 1000);

	/* The same guest's link lost and back, its rings in use: RECONNECTED. */
	vuf_disconnect(fx->f[3]);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, 3, "absent");
	assert_int_equal(vuf_reconnect(fx->f[3]), 0);
	wait_state(fx, 3, "up");
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_RECONNECTED);
	check_relay(fx, 1, 3, 1000);
	check_relay(fx, 3, 2, 1000);

	get_nstat(fx, 3, &s);
	assert_int_equal(s.connects, 3);
	assert_int_equal(s.disconnects, 2);
	assert_int_equal(s.evictions, 0);
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 6. Stop and start on one connection                                 */

/* node stops its device and starts it again (a VM paused, a driver reset). */
static void stop_and_start(struct fx *fx, uint32_t node)
{
	uint32_t a = node == 1 ? 2 : 1, b = node == 3 ? 2 : 3;
	struct nstat before, s;

	get_nstat(fx, node, &before);
	assert_int_equal(vuf_dev_stop(fx->f[node]), 0);
	assert_true(vuf_vring_base(fx->f[node], VUF_RX) > 0); /* its rings were used */
	expect_event(fx, a, VIRTIO_OM_T_NODE_DOWN, node, VIRTIO_OM_NODE_DISCONNECTED);
	expect_event(fx, b, VIRTIO_OM_T_NODE_DOWN, node, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, node, "connected");

	assert_int_equal(vuf_dev_start(fx->f[node]), 0);
	wait_state(fx, node, "up");
	expect_event(fx, a, VIRTIO_OM_T_NODE_UP, node, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, b, VIRTIO_OM_T_NODE_UP, node, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, node, VIRTIO_OM_T_NODE_UP, a < b ? a : b, VIRTIO_OM_NODE_RECONNECTED);
	expect_event(fx, node, VIRTIO_OM_T_NODE_UP, a < b ? b : a, VIRTIO_OM_NODE_RECONNECTED);

	/* Not evicted, not even disconnected: the same connection goes on. */
	get_nstat(fx, node, &s);
	assert_int_equal(s.evictions, 0);
	assert_int_equal(s.disconnects, before.disconnects);
	assert_int_equal(s.connects, before.connects);
	check_relay(fx, a, node, 5000);
	check_relay(fx, node, b, 5000);
	check_relay(fx, b, node, VIRTIO_OM_MAX_PAYLOAD);
	check_relay(fx, node, a, VIRTIO_OM_MAX_PAYLOAD);
}

static void stop_and_start_on_one_connection(void **state)
{
	struct fx *fx = *state;
	struct vuf_opts o[NODES + 1];

	hostd_start(fx);
	for (uint32_t n = 0; n <= NODES; n++)
		o[n] = fe_default_opts();
	o[3].flags = VUF_O_VHOST_GENERIC; /* stops by disabling its rings first */
	up_all(fx, o);
	stop_and_start(fx, 2);
	stop_and_start(fx, 3);
	stop_and_start(fx, 2);
	for (uint32_t n = 1; n <= NODES; n++) {
		struct nstat s;

		get_nstat(fx, n, &s);
		assert_int_equal(s.evictions, 0);
		assert_int_equal(s.undeliverable, 0);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 7. Hostile vhost-user messages                                      */

static void send_ok(int r)
{
	if (r)
		fail_msg("sending the hostile message: %s", strerror(-r));
}

static void bad_queue_index(struct vuf *f)
{
	struct vuf_vring_state s = { 7, 256 };

	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
}

static void ring_size_not_a_power_of_two(struct vuf *f)
{
	struct vuf_vring_state s = { VUF_TX, 100 };

	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
}

/* A descriptor table that starts in guest memory and runs past its end. */
static void ring_outside_memory(struct vuf *f)
{
	struct vuf_vring_state s = { VUF_RX, 256 };
	struct vuf_vq_view v;
	struct vuf_vring_addr a;
	uint64_t size;
	void *p;

	assert_int_equal(vuf_vq_view(f, VUF_RX, &v), 0);
	assert_int_equal(vuf_region(f, 0, NULL, &size, &p), 0);
	a = (struct vuf_vring_addr){ VUF_RX, 0, (uint64_t)(uintptr_t)p + size - 16,
				     (uint64_t)(uintptr_t)v.used, (uint64_t)(uintptr_t)v.avail, 0 };
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0));
}

/* libvhost-user answers VHOST_USER_NONE with exit(0). */
static void request_none(struct vuf *f)
{
	send_ok(vuf_send_raw(f, 0, NULL, 0, NULL, 0));
}

static void request_unknown(struct vuf *f)
{
	uint64_t v = 0;

	send_ok(vuf_send_raw(f, 999, &v, sizeof(v), NULL, 0));
}

static void protocol_features_not_offered(struct vuf *f)
{
	uint64_t v = PF_OFFERED | VUF_BIT(VUF_PF_SLAVE_REQ);

	send_ok(vuf_send_raw(f, VUF_REQ_SET_PROTOCOL_FEATURES, &v, sizeof(v), NULL, 0));
}

static void config_write(struct vuf *f)
{
	struct vuf_config_msg c = { .offset = 0, .size = sizeof(struct virtio_om_config) };
	struct virtio_om_config cfg = { .node_id = htole32(2), .max_payload = htole32(1) };

	memcpy(c.payload, &cfg, sizeof(cfg));
	send_ok(vuf_send_raw(f, VUF_REQ_SET_CONFIG, &c, VUF_CONFIG_HDR_SIZE + sizeof(cfg), NULL,
			     0));
}

/* A memfd of size bytes (sparse) with seals, as QEMU's memory-backend-memfd makes. */
static int test_memfd(uint64_t size, unsigned int seals)
{
	int fd = memfd_create("omhf-mem", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

#define QEMU_SEALS (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

/* SET_MEM_TABLE of one region at f's region 0 addresses: size bytes of fd from offset. */
static void send_table(struct vuf *f, int fd, uint64_t offset, uint64_t size)
{
	struct vuf_mem_table t = { .nregions = 1 };
	uint64_t gpa;
	void *p;

	assert_int_equal(vuf_region(f, 0, &gpa, NULL, &p), 0);
	t.regions[0] = (struct vuf_mem_region){ .gpa = gpa, .size = size,
						.uva = (uint64_t)(uintptr_t)p,
						.mmap_offset = offset };
	send_ok(vuf_send_raw(f, VUF_REQ_SET_MEM_TABLE, &t, 8 + sizeof(t.regions[0]), &fd, 1));
}

/* f's own memory table again, region 0 only, cut to size bytes. */
static void send_own_table(struct vuf *f, uint64_t size)
{
	uint64_t offset;
	int fd = vuf_region_fd(f, 0, &offset);

	assert_true(fd >= 0);
	send_table(f, fd, offset, size);
}

/*
 * Rx ring of num entries: descriptors and avail at the start of region 0,
 * its used ring at byte used_off of it.
 */
static void send_rx_ring(struct vuf *f, uint32_t num, uint64_t used_off)
{
	struct vuf_vring_state s = { VUF_RX, num };
	struct vuf_vring_addr a;
	char *p;

	assert_int_equal(vuf_region(f, 0, NULL, NULL, (void **)&p), 0);
	a = (struct vuf_vring_addr){ VUF_RX, 0, (uint64_t)(uintptr_t)p,
				     (uint64_t)(uintptr_t)(p + used_off),
				     (uint64_t)(uintptr_t)(p + 16 * num), 0 };
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0));
}

#define USED_BYTES(num) (6u + 8u * (num))

/* A ring that fits, its used ring at the very end of memory; then 32768 entries. */
static void ring_grown_past_memory(struct vuf *f)
{
	struct vuf_vring_state s = { VUF_RX, 32768 };
	uint64_t size;

	assert_int_equal(vuf_region(f, 0, NULL, &size, NULL), 0);
	send_own_table(f, size);
	send_rx_ring(f, 256, (size - USED_BYTES(256)) & ~3ull);
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_NUM, &s, sizeof(s), NULL, 0));
}

/* A ring that fits; then a memory table where its used ring starts but does not end. */
static void memory_shrunk_under_a_ring(struct vuf *f)
{
	uint64_t size;

	assert_int_equal(vuf_region(f, 0, NULL, &size, NULL), 0);
	send_own_table(f, size);
	send_rx_ring(f, 256, size - 8192);
	send_own_table(f, size - 8192 + USED_BYTES(256) / 2);
}

/* Mapping all of it would raise SIGBUS in omhostd when touched. */
static void mem_table_file_too_short(struct vuf *f)
{
	int fd = test_memfd(1 << 20, QEMU_SEALS);

	send_table(f, fd, 0, 2 << 20);
	close(fd);
}

/* Long enough now, but it could be cut short later (SIGBUS). */
static void mem_table_file_not_sealed(struct vuf *f)
{
	int fd = test_memfd(4 << 20, F_SEAL_GROW);

	send_table(f, fd, 0, 4 << 20);
	close(fd);
}

static void mem_table_not_a_file(struct vuf *f)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	send_table(f, p[0], 0, 4 << 20);
	close(p[0]);
	close(p[1]);
}

/* 128 GiB (sparse): more than omhostd maps for one node. */
static void mem_table_too_large(struct vuf *f)
{
	int fd = test_memfd(128ull << 30, QEMU_SEALS);

	send_table(f, fd, 0, 128ull << 30);
	close(fd);
}

/*
 * A file that passes every check but cannot be mapped writable (opened
 * read-only); 4 GiB of it: a stale mapping unmapped with that size would
 * take much of omhostd's address space with it.
 */
static void mem_table_mapping_fails(struct vuf *f)
{
	char path[64];
	int fd = test_memfd(4ull << 30, QEMU_SEALS), ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	send_table(f, ro, 0, 4ull << 30);
	close(ro);
	close(fd);
}

static void payload_bigger_than_any(struct vuf *f)
{
	struct vuf_msg_hdr h = { VUF_REQ_GET_FEATURES, VUF_MSG_VERSION, 1u << 16 };

	send_ok(vuf_send_raw_hdr(f, &h, NULL, 0, NULL, 0));
}

static void payload_cut_short_then_eof(struct vuf *f)
{
	struct vuf_msg_hdr h = { VUF_REQ_SET_VRING_NUM, VUF_MSG_VERSION, 8 };
	uint32_t half = VUF_TX;

	send_ok(vuf_send_raw_hdr(f, &h, &half, sizeof(half), NULL, 0));
	vuf_disconnect(f);
}

static void header_cut_short_then_eof(struct vuf *f)
{
	struct vuf_msg_hdr h = { VUF_REQ_GET_FEATURES, VUF_MSG_VERSION, 0 };

	send_ok(vuf_send_bytes(f, &h, 6, NULL, 0));
	vuf_disconnect(f);
}

/* An fd with a request that takes none: it would stay open in omhostd. */
static void fd_with_get_features(struct vuf *f)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	send_ok(vuf_send_raw(f, VUF_REQ_GET_FEATURES, NULL, 0, &fd, 1));
	close(fd);
}

/* A call "eventfd" that is a pipe: omhostd would write into a pipe no one reads. */
static void call_fd_a_pipe(struct vuf *f)
{
	uint64_t q = VUF_TX;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_CALL, &q, sizeof(q), &p[1], 1));
	close(p[0]);
	close(p[1]);
}

static void kick_nofd_with_an_fd(struct vuf *f)
{
	uint64_t q = VUF_RX | VUF_VRING_NOFD;
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	send_ok(vuf_send_raw(f, VUF_REQ_SET_VRING_KICK, &q, sizeof(q), &fd, 1));
	close(fd);
}

static const struct hostile {
	const char *name;
	void (*send)(struct vuf *f);
	bool closes;	 /* the front-end hangs up itself */
	const char *why; /* in the eviction omhostd logs: the rule that fired */
} hostiles[] = {
	{ "SET_VRING_NUM for queue 7", bad_queue_index, false,
	  "refused vhost-user request 8 (VHOST_USER_SET_VRING_NUM)" },
	{ "SET_VRING_NUM of 100", ring_size_not_a_power_of_two, false,
	  "SET_VRING_NUM: 100 entries, not a power of two" },
	{ "SET_VRING_ADDR outside the memory table", ring_outside_memory, false,
	  "SET_VRING_ADDR: queue 0's ring of 256 entries does not lie in guest memory" },
	{ "SET_VRING_NUM growing a ring past the end of memory", ring_grown_past_memory, false,
	  "SET_VRING_NUM: queue 0's ring of 32768 entries does not lie in guest memory" },
	{ "SET_MEM_TABLE cutting a ring short", memory_shrunk_under_a_ring, false,
	  "SET_MEM_TABLE: queue 0's ring no longer lies in guest memory" },
	{ "request 0 (VHOST_USER_NONE)", request_none, false,
	  "refused vhost-user request 0 (VHOST_USER_NONE)" },
	{ "request 999", request_unknown, false, "refused vhost-user request 999" },
	{ "SET_PROTOCOL_FEATURES not offered", protocol_features_not_offered, false,
	  "refused vhost-user request 16 (VHOST_USER_SET_PROTOCOL_FEATURES)" },
	{ "SET_CONFIG", config_write, false, "of read-only config" },
	{ "SET_MEM_TABLE with a short memfd", mem_table_file_too_short, false,
	  "SET_MEM_TABLE: region 0: file shorter than the mapping" },
	{ "SET_MEM_TABLE with a memfd not sealed", mem_table_file_not_sealed, false,
	  "SET_MEM_TABLE: region 0: file not sealed against shrinking" },
	{ "SET_MEM_TABLE with a pipe", mem_table_not_a_file, false,
	  "SET_MEM_TABLE: region 0: not a regular file" },
	{ "SET_MEM_TABLE of 128 GiB", mem_table_too_large, false,
	  "SET_MEM_TABLE: region 0: more guest memory than omhostd maps" },
	{ "SET_MEM_TABLE that cannot be mapped", mem_table_mapping_fails, false,
	  "SET_MEM_TABLE: region 0: cannot map it" },
	{ "GET_FEATURES with an fd", fd_with_get_features, false,
	  "VHOST_USER_GET_FEATURES): fds with a request that takes none (1 fds)" },
	{ "SET_VRING_CALL with a pipe", call_fd_a_pipe, false,
	  "VHOST_USER_SET_VRING_CALL): an fd that is not an eventfd" },
	{ "SET_VRING_KICK with the no-fd flag and an fd", kick_nofd_with_an_fd, false,
	  "VHOST_USER_SET_VRING_KICK): an fd with the no-fd flag" },
	{ "a payload bigger than any", payload_bigger_than_any, false,
	  "payload larger than any request's" },
	{ "a payload cut short, then EOF", payload_cut_short_then_eof, true, "payload cut short" },
	{ "a header cut short, then EOF", header_cut_short_then_eof, true, "header cut short" },
};

/*
 * A front-end on node 3 sends c, before its handshake or once up: it is
 * disconnected and evicted; its peers hear NODE_DOWN EVICTED if it was up,
 * nothing otherwise; omhostd goes on serving nodes 1 and 2.
 */
static void hostile_one(struct fx *fx, const struct hostile *c, bool up)
{
	struct vuf_opts small = fe_default_opts();
	struct nstat before, after;
	long mark;

	print_message("hostile front-end: %s, %s\n", c->name,
		      up ? "once up" : "before the handshake");
	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 4;
	get_nstat(fx, 3, &before);
	if (up) {
		fe_up(fx, 3, &small);
		expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
		expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	} else {
		fe_open(fx, 3, &small);
		wait_state(fx, 3, "connected");
	}
	mark = log_mark(fx);
	c->send(fx->f[3]);
	if (!c->closes)
		assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");
	expect_evicted_for(fx, mark, 3, c->why);
	get_nstat(fx, 3, &after);
	assert_int_equal(after.connects, before.connects + 1);
	assert_int_equal(after.disconnects, before.disconnects + 1);
	assert_int_equal(after.evictions, before.evictions + 1);
	if (up) {
		expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_EVICTED);
		expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_EVICTED);
	}
	/* Nothing else came, and the others are served. */
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 2, 1, 100);
	hostd_alive(fx);
}

static void hostile_vhost_user_messages(void **state)
{
	struct fx *fx = *state;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	for (size_t i = 0; i < sizeof(hostiles) / sizeof(hostiles[0]); i++) {
		hostile_one(fx, &hostiles[i], false);
		hostile_one(fx, &hostiles[i], true);
	}
	for (uint32_t n = 1; n <= 2; n++) {
		struct nstat s;

		get_nstat(fx, n, &s);
		assert_string_equal(s.state, "up");
		assert_int_equal(s.connects, 1);
		assert_int_equal(s.evictions, 0);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 8. Hostile rings, through real shared memory                       */

/* A valid header (to node 2, no payload) in guest memory. */
static uint64_t guest_hdr(struct vuf *f)
{
	struct virtio_om_hdr h = { .version = htole16(VIRTIO_OM_PROTOCOL_VERSION),
				   .type = htole16(VIRTIO_OM_T_TEST_DATA),
				   .dst_node = htole32(2), .seq = htole64(1) };
	uint64_t gpa;
	void *p = vuf_alloc(f, sizeof(h), 64, &gpa);

	assert_non_null(p);
	memcpy(p, &h, sizeof(h));
	return gpa;
}

static void publish(struct vuf *f, uint16_t head)
{
	assert_int_equal(vuf_vq_publish_raw(f, VUF_TX, head), 0);
	assert_int_equal(vuf_vq_kick(f, VUF_TX), 0);
}

static void looped_chain(struct vuf *f)
{
	uint64_t gpa = guest_hdr(f);
	struct vuf_vq_view v;
	uint16_t id[2];

	assert_int_equal(vuf_vq_reserve(f, VUF_TX, 2, id), 0);
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	v.desc[id[0]] = (struct vring_desc){ htole64(gpa), htole32(24), htole16(VRING_DESC_F_NEXT),
					     htole16(id[1]) };
	v.desc[id[1]] = (struct vring_desc){ htole64(gpa + 24), htole32(24),
					     htole16(VRING_DESC_F_NEXT), htole16(id[0]) };
	publish(f, id[0]);
}

static void descriptor_outside_memory(struct vuf *f)
{
	struct vuf_vq_view v;
	uint64_t gpa, size;
	uint16_t id;

	assert_int_equal(vuf_region(f, 0, &gpa, &size, NULL), 0);
	assert_int_equal(vuf_vq_reserve(f, VUF_TX, 1, &id), 0);
	assert_int_equal(vuf_vq_view(f, VUF_TX, &v), 0);
	v.desc[id] = (struct vring_desc){ htole64(gpa + size + (1u << 20)), htole32(48), 0, 0 };
	publish(f, id);
}

/* A well-formed chain whose message is one only the host may send. */
static void control_type_from_the_guest(struct vuf *f)
{
	struct virtio_om_node_event ev = { .node = htole32(3),
					   .reason = htole32(VIRTIO_OM_NODE_DISCONNECTED) };

	assert_int_equal(vuf_send_msg(f, 2, VIRTIO_OM_T_NODE_DOWN, &ev, sizeof(ev), NULL), 0);
}

static void hostile_rings(void **state)
{
	struct fx *fx = *state;
	static const struct {
		const char *name;
		void (*inject)(struct vuf *f);
		unsigned int refused; /* a malformed message, not a broken ring */
		const char *why;      /* in the eviction omhostd logs */
	} cases[] = {
		{ "a looped chain", looped_chain, 0, "Looped descriptor" },
		{ "a descriptor outside guest memory", descriptor_outside_memory, 0,
		  "invalid address for buffers" },
		{ "a NODE_DOWN from a guest", control_type_from_the_guest, 1,
		  "type unknown or not for guests" },
	};
	uint64_t refused = 0;

	hostd_start(fx);
	up_all(fx, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nstat s;
		long mark;

		print_message("hostile ring: %s\n", cases[i].name);
		if (i > 0) { /* a new guest on node 1 */
			fe_up(fx, 1, NULL);
			expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
			expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
			check_relay(fx, 1, 2, 10);
		}
		mark = log_mark(fx);
		cases[i].inject(fx->f[1]);
		assert_int_equal(vuf_wait_disconnect(fx->f[1], FE_TIMEOUT_MS), 0);
		expect_evicted_for(fx, mark, 1, cases[i].why);
		fe_drop(fx, 1);
		wait_state(fx, 1, "absent");
		expect_event(fx, 2, VIRTIO_OM_T_NODE_DOWN, 1, VIRTIO_OM_NODE_EVICTED);
		expect_event(fx, 3, VIRTIO_OM_T_NODE_DOWN, 1, VIRTIO_OM_NODE_EVICTED);
		check_relay(fx, 2, 3, 1000);
		check_relay(fx, 3, 2, 1000);
		refused += cases[i].refused;
		get_nstat(fx, 1, &s);
		assert_int_equal(s.evictions, i + 1);
		assert_int_equal(s.refused, refused);
		hostd_alive(fx);
	}
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 9. A front-end that stops mid-message, or does not read its replies */

/* Nodes 1 and 2 relay both ways, and the control socket answers, while node 3 holds on. */
static void others_served(struct fx *fx, const char *state3)
{
	struct nstat s;

	for (int i = 0; i < 5; i++) {
		check_relay(fx, 1, 2, 100);
		check_relay(fx, 2, 1, VIRTIO_OM_MAX_PAYLOAD);
	}
	get_nstat(fx, 3, &s);
	assert_string_equal(s.state, state3);
}

static void a_stalled_front_end_holds_up_no_one(void **state)
{
	struct fx *fx = *state;
	struct vuf_msg_hdr h = { VUF_REQ_GET_FEATURES, VUF_MSG_VERSION, 0 };
	struct vuf_opts small = fe_default_opts();
	unsigned int requests = 0;
	struct nstat s;
	long mark;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 4;

	/* 3 bytes of a header, and the connection held open: it waits, nobody else does. */
	fe_open(fx, 3, &small);
	wait_state(fx, 3, "connected");
	mark = log_mark(fx);
	send_ok(vuf_send_bytes(fx->f[3], &h, 3, NULL, 0));
	others_served(fx, "connected");
	/* Held longer than a front-end may take: dropped, and told why. */
	assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	expect_evicted_for(fx, mark, 3, "vhost-user message incomplete for 3000 ms (3 bytes");
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");

	/*
	 * Requests, and never a reply read: once its socket is full omhostd
	 * stops reading it, and the others go on.
	 */
	fe_open(fx, 3, &small);
	wait_state(fx, 3, "connected");
	mark = log_mark(fx);
	h.flags |= VUF_MSG_F_NEED_REPLY;
	for (;;) {
		struct pollfd p = { .fd = vuf_socket(fx->f[3]), .events = POLLOUT };

		if (send(p.fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(h)) {
			requests++;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		assert_true(requests < 1000000);
		/* Full: until omhostd has stopped taking requests for a while. */
		if (poll(&p, 1, 500) == 0)
			break;
	}
	print_message("a front-end not reading: omhostd stopped reading it after %u requests\n",
		      requests);
	others_served(fx, "connected");
	/* Its replies stay unread: watch for omhostd's hang-up without reading them. */
	{
		struct pollfd p = { .fd = vuf_socket(fx->f[3]), .events = POLLRDHUP };

		assert_int_equal(poll(&p, 1, FE_TIMEOUT_MS), 1);
		assert_true(p.revents & (POLLRDHUP | POLLHUP));
	}
	expect_evicted_for(fx, mark, 3, "did not take a reply for 3000 ms");
	fe_drop(fx, 3);
	wait_state(fx, 3, "absent");
	get_nstat(fx, 3, &s);
	assert_int_equal(s.evictions, 2);
	others_served(fx, "absent");
	finish(fx);
}

/* ------------------------------------------------------------------ */
/* 10. omhostd restarted mid-traffic                                   */

#define FLOW_MSGS 2000u
#define FLOW_MAX_LEN 2048u

/* Node 1 sends node 2 seqs 1..FLOW_MSGS; node 2 drops duplicates by seq. */
struct flow {
	uint64_t sent;	   /* seqs 1..sent are in node 1's tx ring or beyond */
	uint64_t next;	   /* the next seq node 2 has not seen */
	uint64_t dups;	   /* seqs seen again */
	uint64_t up_seq;   /* seq of the last NODE_UP about node 1 at node 2 */
	uint32_t up_reason;
	uint64_t rng;
};

/*
 * One step: node 1 sends while it has free tx slots (up to limit, never
 * waiting), node 2 takes one message (waiting up to wait_ms if nothing
 * was sent). Works with or without a back-end connected.
 */
static void flow_step(struct fx *fx, struct flow *fl, uint64_t limit, int wait_ms)
{
	struct vuf *s = fx->f[1];
	struct vuf_used_elem e[TX_SLOTS];
	bool sent = false;
	struct msg m;
	int r;

	while ((r = vuf_vq_harvest(s, VUF_TX, e, TX_SLOTS)) > 0)
		;
	assert_true(r >= 0);
	while (fl->sent < limit && vuf_vq_inflight(s, VUF_TX) < TX_SLOTS) {
		send_data(fx, 1, 2, random_len(&fl->rng, FLOW_MAX_LEN), NULL);
		fl->sent++;
		sent = true;
	}
	assert_int_equal(fl->sent, fx->sent[1][2]);
	r = fe_try_recv(fx, 2, &m, sent ? 0 : wait_ms);
	if (r == -ETIMEDOUT || r == -ECONNRESET)
		return;
	if (r != 1)
		fail_msg("node 2: receive: %s", strerror(-r));
	if (m.src == VIRTIO_OM_NODE_HOST) {
		struct virtio_om_node_event ev;

		memcpy(&ev, m.payload, sizeof(ev));
		assert_int_equal(m.type, VIRTIO_OM_T_NODE_UP);
		assert_int_equal(le32toh(ev.node), 1);
		fl->up_seq = m.seq;
		fl->up_reason = le32toh(ev.reason);
		return;
	}
	assert_int_equal(m.src, 1);
	assert_int_equal(m.type, VIRTIO_OM_T_TEST_DATA);
	if (m.seq == 0 || m.seq > fl->next)
		fail_msg("node 2: seq %" PRIu64 " while expecting %" PRIu64 ": lost messages",
			 m.seq, fl->next);
	fill(want_buf, 1, 2, m.seq, m.len);
	if (memcmp(m.payload, want_buf, m.len))
		fail_msg("node 2: seq %" PRIu64 " (%u bytes) not intact", m.seq, m.len);
	if (m.seq < fl->next)
		fl->dups++;
	else
		fl->next++;
}

/* Steps until sent messages are out and received in; fails if nothing moves for FE_TIMEOUT_MS. */
static void flow_until(struct fx *fx, struct flow *fl, uint64_t sent, uint64_t received)
{
	int64_t deadline = mono_ms() + FE_TIMEOUT_MS;

	while (fl->sent < sent || fl->next <= received) {
		uint64_t was_sent = fl->sent, was_next = fl->next;

		if (mono_ms() > deadline)
			fail_msg("traffic stuck: %" PRIu64 " sent, %" PRIu64 " received", fl->sent,
				 fl->next - 1);
		flow_step(fx, fl, sent, 100);
		if (fl->sent != was_sent || fl->next != was_next)
			deadline = mono_ms() + FE_TIMEOUT_MS;
	}
}

static void restart_mid_traffic(struct fx *fx, bool sender_first)
{
	struct flow fl = { .next = 1, .rng = seed ^ 9 };
	uint64_t ctl1, ctl2, before;
	uint32_t first = sender_first ? 1 : 2, second = sender_first ? 2 : 1;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	ctl1 = fx->ctl_seq[1];
	ctl2 = fx->ctl_seq[2];

	/* Half the messages sent, some received: traffic in flight both sides. */
	flow_until(fx, &fl, FLOW_MSGS / 2, FLOW_MSGS / 4);
	hostd_crash(fx);
	before = fl.next - 1;
	assert_int_equal(vuf_wait_disconnect(fx->f[1], FE_TIMEOUT_MS), 0);
	assert_int_equal(vuf_wait_disconnect(fx->f[2], FE_TIMEOUT_MS), 0);
	/* With no back-end: more messages wait in the ring, relayed ones are read. */
	for (int i = 0; i < 50; i++)
		flow_step(fx, &fl, fl.sent + 8, 0);

	/* A new omhostd on the same directory; the front-ends come back as QEMU does. */
	hostd_start(fx);
	assert_int_equal(vuf_reconnect(fx->f[first]), 0);
	wait_state(fx, first, "up");
	if (sender_first) {
		/* Its messages wait for node 2 (a restart's grace), none is dropped. */
		wait_waiting(fx, 1, true);
	}
	assert_int_equal(vuf_reconnect(fx->f[second]), 0);
	wait_state(fx, second, "up");
	flow_until(fx, &fl, FLOW_MSGS, FLOW_MSGS);

	print_message("restart, %s first: %u messages, %" PRIu64 " received before the crash, "
		      "%" PRIu64 " duplicates, %" PRIu64 " missing\n",
		      sender_first ? "sender" : "receiver", FLOW_MSGS, before, fl.dups,
		      FLOW_MSGS - (fl.next - 1));
	assert_int_equal(fl.next, FLOW_MSGS + 1);
	assert_true(fl.dups <= 1);
	fx->got[2][1] = FLOW_MSGS;

	/* Each side heard the other came back, numbered after the old relay's. */
	assert_int_equal(fl.up_reason, VIRTIO_OM_NODE_RECONNECTED);
	assert_true(fl.up_seq > ctl2);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_RECONNECTED);
	assert_true(fx->ctl_seq[1] > ctl1);
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 2, 1, 100);
	finish(fx);
}

static void restart_mid_traffic_sender_first(void **state)
{
	restart_mid_traffic(*state, true);
}

static void restart_mid_traffic_receiver_first(void **state)
{
	restart_mid_traffic(*state, false);
}


/* ------------------------------------------------------------------ */
/* 11. Who may connect, what a listener sees, back-off, log, fds       */

#define NOBODY 65534u

/*
 * Lets another user reach the sockets, as far as the file system goes:
 * what is tested is omhostd's own check, not the directory's permissions.
 */
static void open_up_sockets(const struct fx *fx)
{
	char path[128];

	assert_int_equal(chmod(fx->dir, 0755), 0);
	for (uint32_t n = 1; n <= NODES; n++) {
		node_path(fx, n, path, sizeof(path));
		assert_int_equal(chmod(path, 0777), 0);
	}
	ctl_path(fx, path, sizeof(path));
	assert_int_equal(chmod(path, 0777), 0);
}

/* In a forked child: becomes uid and gid NOBODY, with no other group. */
static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(120);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether omhostd closes fd within ms (it read nothing from us). */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* The exit status of a child that ran fn(fx) and exited with its result. */
static int in_child(struct fx *fx, int (*fn)(struct fx *fx))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(fx));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* As NOBODY: connects to node's socket; 0 when omhostd closes it at once, 1 when not. */
static int nobody_connects_to(struct fx *fx, uint32_t node)
{
	char path[128];
	int fd;

	become_nobody();
	node_path(fx, node, path, sizeof(path));
	fd = unix_connect(path);
	if (fd < 0)
		return 2;
	return closed_within(fd, 3000) ? 0 : 1;
}

static int nobody_connects(struct fx *fx)
{
	return nobody_connects_to(fx, 1);
}

static int nobody_connects_2(struct fx *fx)
{
	return nobody_connects_to(fx, 2);
}

/* Node NODE's log says uid 65534 was refused, and counts it; nothing connected. */
static void expect_nobody_refused(struct fx *fx, unsigned int node, long mark)
{
	char want[64], line[1024];
	struct nstat s;

	snprintf(want, sizeof(want), "node %u: refused a front-end of uid 65534", node);
	expect_logged(fx, mark, want, line, sizeof(line));
	assert_non_null(strstr(line, "only uid 0 or root may connect"));
	get_nstat(fx, node, &s);
	assert_int_equal(s.unauthorized, 1);
	assert_int_equal(s.connects, 0);
}

static void front_ends_of_another_user_refused(void **state)
{
	struct fx *fx = *state;
	long mark;

	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx); /* as root: root's front-ends (and only root's) are allowed */
	open_up_sockets(fx);
	mark = log_mark(fx);
	assert_int_equal(in_child(fx, nobody_connects), 0);
	expect_nobody_refused(fx, 1, mark);
	/* The allowed user's front-end is served as ever. */
	up_all(fx, NULL);
	check_relay(fx, 1, 2, 100);
	finish(fx);
}

static void front_ends_of_the_allowed_user_served(void **state)
{
	struct fx *fx = *state;
	struct nstat s;
	long mark;

	/* Node 1's front-end is nobody's; the others' stay root's. */
	fx->args[2] = "--allow-uid";
	fx->args[3] = "1=65534";
	hostd_start(fx);
	open_up_sockets(fx);
	assert_int_equal(in_child(fx, nobody_connects), 1);
	wait_state(fx, 1, "absent");
	get_nstat(fx, 1, &s);
	assert_int_equal(s.unauthorized, 0);
	assert_int_equal(s.connects, 1);
	mark = log_mark(fx);
	assert_int_equal(in_child(fx, nobody_connects_2), 0);
	expect_nobody_refused(fx, 2, mark);
	/* Root's still are. */
	up_all(fx, NULL);
	check_relay(fx, 2, 1, 100);
	finish(fx);
}

/* Asks for a trace with payloads on fd; the answer line in buf. */
static int ask_trace(struct fx *fx, char *buf, size_t cap)
{
	static const char req[] = "trace snaplen=1000\n";
	char path[128];
	size_t have = 0;
	int fd;

	ctl_path(fx, path, sizeof(path));
	fd = unix_connect(path);
	if (fd < 0 || send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
		return -1;
	/* The ring's fd comes with the line: recv without room for it discards it. */
	while (have < cap - 1 && !memchr(buf, '\n', have)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) != 1)
			break;
		n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return fd;
}

/* As NOBODY: 0 when the trace answer gives headers only, 1 when payloads, 2 on error. */
static int nobody_traces(struct fx *fx)
{
	char buf[256];
	int fd;

	become_nobody();
	fd = ask_trace(fx, buf, sizeof(buf));
	if (fd < 0 || strncmp(buf, "ok trace ", 9))
		return 2;
	if (strstr(buf, " snaplen=0 ") && strstr(buf, " payloads=refused\n"))
		return 0;
	return strstr(buf, " snaplen=1000 ") && !strstr(buf, "payloads=") ? 1 : 2;
}

static void trace_payloads_only_for_root_or_the_group(void **state)
{
	struct fx *fx = *state;
	char buf[4096], line[1024];
	long mark;
	int fd;
	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx);
	open_up_sockets(fx);
	mark = log_mark(fx);
	assert_int_equal(in_child(fx, nobody_traces), 0);
	expect_logged(fx, mark, "trace: listener attached (snaplen 0,", line, sizeof(line));
	assert_non_null(strstr(line, "payloads refused, headers only"));
	hostd_status(fx, buf, sizeof(buf));
	assert_int_equal(field_u64(buf, "trace_payloads_refused"), 1);
	/* Root gets what it asks for. */
	fd = ask_trace(fx, buf, sizeof(buf));
	assert_true(fd >= 0);
	assert_non_null(strstr(buf, " snaplen=1000 "));
	assert_null(strstr(buf, "payloads="));
	close(fd);
	finish(fx);
}

static void trace_payloads_for_the_trace_group(void **state)
{
	struct fx *fx = *state;
	char buf[4096];

	fx->args[2] = "--trace-group";
	fx->args[3] = "65534";
	hostd_start(fx);
	open_up_sockets(fx);
	assert_int_equal(in_child(fx, nobody_traces), 1);
	hostd_status(fx, buf, sizeof(buf));
	assert_int_equal(field_u64(buf, "trace_payloads_refused"), 0);
	finish(fx);
}

/*
 * A front-end on node 3 that breaks a rule at once; waits for its eviction.
 * Returns the log's mark before it.
 */
static long evicted_at_once(struct fx *fx)
{
	struct vuf_opts small = fe_default_opts();
	long mark = log_mark(fx);

	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 4;
	fe_open(fx, 3, &small);
	wait_state(fx, 3, "connected");
	request_unknown(fx->f[3]);
	assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	fe_drop(fx, 3);
	expect_evicted_for(fx, mark, 3, "refused vhost-user request 999");
	return mark;
}

/* The eviction logged after mark says how long reconnects are refused. */
static void backoff_logged(const struct fx *fx, long mark, unsigned int ms)
{
	char want[96];

	snprintf(want, sizeof(want), "; reconnects refused for %u ms", ms);
	assert_int_equal(count_logged(fx, mark, want), 1);
}

/* Whether a front-end on node 3 is turned away now, as backing off after n evictions. */
static void reconnect_refused(struct fx *fx, unsigned int evictions, uint64_t refused)
{
	char path[128], want[96], line[1024];
	long mark = log_mark(fx);
	struct nstat s;
	int fd;

	node_path(fx, 3, path, sizeof(path));
	fd = unix_connect(path);
	assert_true(fd >= 0);
	assert_true(closed_within(fd, FE_TIMEOUT_MS));
	close(fd);
	snprintf(want, sizeof(want), "node 3: refused a reconnect: backing off after %u eviction",
		 evictions);
	expect_logged(fx, mark, want, line, sizeof(line));
	get_nstat(fx, 3, &s);
	assert_int_equal(s.backoff_refused, refused);
	assert_int_equal(s.evictions, evictions);
	assert_int_equal(s.connects, evictions);
}

static void reconnects_back_off_after_evictions(void **state)
{
	struct fx *fx = *state;
	int64_t t;
	long mark;

	/* 2 s, doubling (1 s by default): room for a loaded machine's delays. */
	fx->args[1] = "2000";
	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	mark = evicted_at_once(fx);
	t = mono_ms();
	reconnect_refused(fx, 1, 1);
	reconnect_refused(fx, 1, 2);
	backoff_logged(fx, mark, 2000);
	usleep((useconds_t)(2000 - (mono_ms() - t) + 100) * 1000);
	/* Served again once it is over; evicted again, it waits twice as long. */
	mark = evicted_at_once(fx);
	t = mono_ms();
	usleep(2100 * 1000);
	reconnect_refused(fx, 2, 3);
	backoff_logged(fx, mark, 4000);
	usleep((useconds_t)(4000 - (mono_ms() - t) + 100) * 1000);
	fe_up(fx, 3, NULL);
	finish(fx);
}

/*
 * A front-end that makes omhostd log a line each time it connects (here:
 * a second front-end on a node in use) fills no log: 10 lines, then the
 * rest counted as suppressed.
 */
static void log_lines_a_front_end_causes_are_limited(void **state)
{
	struct fx *fx = *state;
	char path[128];
	struct nstat s;
	long mark;
	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	node_path(fx, 1, path, sizeof(path));
	mark = log_mark(fx);
	for (int i = 0; i < 40; i++) {
		int fd = unix_connect(path);

		assert_true(fd >= 0);
		assert_true(closed_within(fd, FE_TIMEOUT_MS));
		close(fd);
	}
	get_nstat(fx, 1, &s);
	assert_int_equal(count_logged(fx, mark, "node 1: refused a second front-end"), 10);
	assert_int_equal(s.log_suppressed, 30);
	assert_int_equal(s.connects, 1);
	finish(fx);
}

/* omhostd's RLIMIT_NOFILE, soft and hard, from /proc. */
static void hostd_nofile(const struct fx *fx, unsigned long long *soft, unsigned long long *hard)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)fx->pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "Max open files %llu %llu", soft, hard) == 2;
	fclose(f);
	assert_true(found);
}

/* nodes 1-3: 64 + 3 * 24 fds. */
#define NOFILE_NEED 136ull

static void open_files_limit_raised(void **state)
{
	struct fx *fx = *state;
	unsigned long long soft, hard;
	char line[1024];
	fx->args[0] = NULL; /* no evictions here */

	fx->set_nofile = true;
	fx->nofile = (struct rlimit){ .rlim_cur = 40, .rlim_max = 4096 };
	hostd_start(fx);
	hostd_nofile(fx, &soft, &hard);
	assert_int_equal(soft, NOFILE_NEED);
	assert_int_equal(hard, 4096);
	expect_logged(fx, 0, "RLIMIT_NOFILE: soft limit raised from 40 to 136", line, sizeof(line));
	assert_int_equal(count_logged(fx, 0, "hard limit"), 0);
	hostd_stop(fx);
	/* A hard limit too low: raised to it, and said. */
	fx->nofile = (struct rlimit){ .rlim_cur = 40, .rlim_max = 100 };
	hostd_start(fx);
	hostd_nofile(fx, &soft, &hard);
	assert_int_equal(soft, 100);
	assert_int_equal(hard, 100);
	expect_logged(fx, 0, "RLIMIT_NOFILE: hard limit 100 is below the 136 fds 3 nodes may need",
		      line, sizeof(line));
	finish(fx);
}


/*
 * omhostd started (fx->args), nodes 1-3 up, every NODE_UP read but node
 * 2's (it posts no rx buffer until told); node 1 sends node 2 a message,
 * which waits, then node 3 one, which must come (how soon is the rule the
 * test checks). Returns omhostd's log mark from before the messages.
 */
static long up_with_node2_not_draining(struct fx *fx)
{
	struct vuf_opts ro = fe_default_opts();
	struct msg m;
	long mark;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	ro.flags = VUF_O_MANUAL_RX; /* node 2 posts no rx buffer until told */
	ro.rx_bufs = 8;
	fe_up(fx, 2, &ro);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	fe_up(fx, 3, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);

	mark = log_mark(fx);
	send_data(fx, 1, 2, 100, NULL);
	wait_waiting(fx, 1, true);
	send_data(fx, 1, 3, 100, NULL);
	expect_data_from(fx, 3, 1, &m);
	return mark;
}

/*
 * A receiver that takes nothing holds up a sender only for a while: its
 * sender's next message, to another node, waits behind the one for it
 * (tx is in order) until --unresponsive-ms; then the receiver is marked
 * unresponsive, what is for it is dropped and counted, the rest flows,
 * and once it posts buffers it is served again.
 */
static void an_unresponsive_receiver_holds_up_no_one_for_long(void **state)
{
	struct fx *fx = *state;
	char line[1024];
	struct nstat s1, s2;
	long mark;

	fx->args[2] = "--unresponsive-ms";
	fx->args[3] = "500";
	/* Node 3's message comes, within the time-out (and a tick) plus slack. */
	mark = up_with_node2_not_draining(fx);
	expect_logged(fx, mark, "node 2 unresponsive: took no message for ", line, sizeof(line));
	assert_non_null(strstr(line, "while 1 sender waited"));
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.unresponsive, 1);
	assert_int_equal(s2.dropped_unresponsive, 1);
	/* What comes for it now is dropped at once; the rest flows. */
	send_data(fx, 1, 2, 100, NULL);
	fx->got[3][1] = fx->sent[1][3];
	check_relay(fx, 1, 3, 100);
	get_nstat(fx, 1, &s1);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.dropped_unresponsive, 2);
	assert_int_equal(s1.undeliverable, 2);
	assert_false(s1.waiting);

	/* Buffers at last: its events, then it is served again. */
	mark = log_mark(fx);
	assert_int_equal(vuf_rx_fill(fx->f[2]), 0);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_logged(fx, mark, "node 2 responsive again (2 messages to it dropped so far)", line,
		      sizeof(line));
	fx->got[2][1] = fx->sent[1][2]; /* the two dropped */
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 3, 2, 100);
	finish(fx);
}

/*
 * A receiver that does not drain costs only the messages sent to it: once
 * it took nothing for --queue-after-ms while a sender waited, its queue
 * opens (logged), what waits for it moves in, and its senders go on with
 * their other traffic at once (before queues they waited for
 * --unresponsive-ms, 30 s). A sender's share of the queue (a quarter)
 * full, that sender waits (queue_full); another still has its share.
 * Once it drains, it gets every message, each sender's in order.
 */
static void a_receiver_that_does_not_drain_costs_only_its_messages(void **state)
{
	struct fx *fx = *state;
	unsigned int from[NODES + 1] = { 0 };
	char line[1024];
	struct nstat s1, s2, s3;
	struct msg m;
	long mark;

	fx->args[2] = "--queue-after-ms";
	fx->args[3] = "200";
	fx->args[4] = "--queue-msgs";
	fx->args[5] = "8";
	mark = up_with_node2_not_draining(fx);
	expect_logged(fx, mark, "node 2 not draining: took no message for ", line, sizeof(line));
	assert_non_null(strstr(line, "messages for it are queued (up to 4194304 bytes, 8 messages)"));
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 1);
	assert_int_equal(s2.queued_total, 1);
	assert_int_equal(s2.unresponsive, 0);
	/* Its share (2 of 8) full, node 1 waits for node 2 again. */
	send_data(fx, 1, 2, 100, NULL);
	send_data(fx, 1, 2, 100, NULL);
	wait_waiting(fx, 1, true);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 2);
	assert_int_equal(s2.queue_full, 1);
	/* Node 3 has its own share: it goes on. */
	send_data(fx, 3, 2, 200, NULL);
	send_data(fx, 3, 2, 200, NULL);
	check_relay(fx, 3, 1, 300);
	get_nstat(fx, 3, &s3);
	assert_false(s3.waiting);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 4);

	/* Buffers at last: its events, then all five, each sender's in order. */
	assert_int_equal(vuf_rx_fill(fx->f[2]), 0);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	for (int i = 0; i < 5; i++) {
		expect_any_data(fx, 2, VIRTIO_OM_T_TEST_DATA, &m);
		from[m.src]++;
	}
	assert_int_equal(from[1], 3);
	assert_int_equal(from[3], 2);
	wait_waiting(fx, 1, false);
	get_nstat(fx, 1, &s1);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 0);
	assert_int_equal(s2.queued_total, 4);
	assert_int_equal(s2.queue_dropped, 0);
	assert_int_equal(s1.undeliverable, 0);
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 1, 3, 100);
	finish(fx);
}

int main(void)
{
	const char *s = getenv("OMHF_SEED");
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(handshake_gives_node_ids_and_features),
		T(node_up_to_and_about_a_late_joiner),
		T(traffic_intact_in_order_and_counted),
		T(backpressure_loses_nothing),
		T(disconnect_and_reconnect),
		T(stop_and_start_on_one_connection),
		T(hostile_vhost_user_messages),
		T(hostile_rings),
		T(a_stalled_front_end_holds_up_no_one),
		T(restart_mid_traffic_sender_first),
		T(restart_mid_traffic_receiver_first),
		T(front_ends_of_another_user_refused),
		T(front_ends_of_the_allowed_user_served),
		T(trace_payloads_only_for_root_or_the_group),
		T(trace_payloads_for_the_trace_group),
		T(reconnects_back_off_after_evictions),
		T(log_lines_a_front_end_causes_are_limited),
		T(open_files_limit_raised),
		T(an_unresponsive_receiver_holds_up_no_one_for_long),
		T(a_receiver_that_does_not_drain_costs_only_its_messages),
	};
#undef T

	if (s && *s)
		seed = strtoull(s, NULL, 0);
	/* $OMHF_ONLY: the tests whose names match this pattern (* and ?). */
	if (getenv("OMHF_ONLY"))
		cmocka_set_test_filter(getenv("OMHF_ONLY"));
	print_message("seed %#" PRIx64 " (set OMHF_SEED to repeat)\n", seed);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
