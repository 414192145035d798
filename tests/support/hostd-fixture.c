// SPDX-License-Identifier: GPL-2.0-only
/* The fixture of the omhostd process tests: see hostd-fixture.h. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hostd-fixture.h"

uint64_t seed = 0x6f6d686f73746466ull; /* $OMHF_SEED overrides */

uint8_t rx_buf[MAX_MSG + 64], tx_buf[VIRTIO_OM_MAX_PAYLOAD], want_buf[VIRTIO_OM_MAX_PAYLOAD];

/* ---- time, fds, files ---- */

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Open fds of pid (0: this process, not counting the directory read). */
int count_fds(pid_t pid)
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
int count_guest_maps(pid_t pid)
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
int remove_dir(const char *dir, const char *keep)
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

void dump_log(const struct fx *fx)
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
long log_mark(const struct fx *fx)
{
	struct stat st;

	return stat(fx->log, &st) ? 0 : (long)st.st_size;
}

/*
 * Waits (bounded) for omhostd to log that it evicted node, after mark, and
 * checks the reason names the rule the test broke, not another one.
 */
void expect_evicted_for(const struct fx *fx, long mark, uint32_t node, const char *why)
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
unsigned int count_logged(const struct fx *fx, long mark, const char *needle)
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
void expect_logged(const struct fx *fx, long mark, const char *needle, char *line,
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

uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The bytes of message seq from src to dst of len bytes (a wrong len changes them all). */
void fill(uint8_t *p, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len)
{
	uint64_t key = mix64(seed ^ ((uint64_t)src << 48) ^ ((uint64_t)dst << 40) ^ seq) ^ len;

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v = mix64(key + i);

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* Random sizes 1..max over every scale, both ends included. */
uint32_t random_len(uint64_t *rng, uint32_t max)
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

void ctl_path(const struct fx *fx, char *buf, size_t cap)
{
	assert_int_equal(om_ctl_socket_path(fx->dir, buf, cap), 0);
}

void node_path(const struct fx *fx, uint32_t node, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/node-%u.sock", fx->dir, node);

	assert_true(n > 0 && (size_t)n < cap);
}

/*
 * Fails saying how omhostd ended, if it did: a crash then reads as one,
 * not as the refused connection or the timeout it leads to.
 */
static void hostd_not_gone(const struct fx *fx)
{
	int st;

	if (fx->pid <= 0 || waitpid(fx->pid, &st, WNOHANG) != fx->pid)
		return;
	((struct fx *)fx)->pid = 0; /* reaped: teardown must not signal its pid */
	if (WIFSIGNALED(st))
		fail_msg("omhostd died of signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	fail_msg("omhostd exited with status %d", WEXITSTATUS(st));
}

/* The status answer (docs/omhostd.md); fails unless omhostd answers in time. */
void hostd_status(const struct fx *fx, char *buf, size_t cap)
{
	char path[128];
	int r;

	ctl_path(fx, path, sizeof(path));
	r = om_ctl_ask(path, "status\n", 2000, buf, cap);
	if (r) {
		hostd_not_gone(fx);
		fail_msg("control socket: %s", strerror(-r));
	}
}

uint64_t field_u64(const char *line, const char *key)
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
uint64_t field_u64_new(const char *line, const char *key)
{
	char v[32];

	return strcmp(om_ctl_field(line, key, v, sizeof(v)), "-") ? field_u64(line, key) : UINT64_MAX;
}

void get_nstat(const struct fx *fx, uint32_t node, struct nstat *s)
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
void wait_state(const struct fx *fx, uint32_t node, const char *state)
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
void wait_waiting(const struct fx *fx, uint32_t node, bool waiting)
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

void hostd_start(struct fx *fx)
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
bool hostd_signal(struct fx *fx, int sig, int timeout_ms, int *status)
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

void hostd_alive(const struct fx *fx)
{
	assert_true(fx->pid > 0);
	hostd_not_gone(fx);
	assert_int_equal(kill(fx->pid, 0), 0);
}

/* SIGTERM: omhostd must end by itself, with status 0. */
void hostd_stop(struct fx *fx)
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
void hostd_crash(struct fx *fx)
{
	int st = 0;

	assert_true(hostd_signal(fx, SIGKILL, STOP_TIMEOUT_MS, &st));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* ---- front-ends ---- */

struct vuf_opts fe_default_opts(void)
{
	return (struct vuf_opts){ .timeout_ms = FE_TIMEOUT_MS, .tx_slots = TX_SLOTS };
}

/* A new guest on node's socket, connected, no handshake yet. */
struct vuf *fe_open(struct fx *fx, uint32_t node, const struct vuf_opts *opts)
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
struct vuf *fe_up(struct fx *fx, uint32_t node, const struct vuf_opts *opts)
{
	struct vuf *f = fe_open(fx, node, opts);
	int r = vuf_handshake(f);

	if (r)
		fail_msg("node %u: handshake: %s", node, strerror(-r));
	assert_int_equal(vuf_node_id(f), node);
	wait_state(fx, node, "up");
	return f;
}

void fe_drop(struct fx *fx, uint32_t node)
{
	vuf_free(fx->f[node]);
	fx->f[node] = NULL;
}

/* Sends one message from src to dst, seq the pair's next; returns the seq. */
uint64_t fe_send(struct fx *fx, uint32_t src, uint32_t dst, uint16_t type,
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
uint64_t send_data(struct fx *fx, uint32_t src, uint32_t dst, uint32_t len,
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
int fe_try_recv(struct fx *fx, uint32_t node, struct msg *m, int timeout_ms)
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

void fe_recv(struct fx *fx, uint32_t node, struct msg *m)
{
	int r = fe_try_recv(fx, node, m, FE_TIMEOUT_MS);

	if (r != 1)
		fail_msg("node %u: nothing received: %s", node, strerror(-r));
}

const char *type_name(uint16_t t)
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
void expect_event(struct fx *fx, uint32_t at, uint16_t type, uint32_t about, uint32_t reason)
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
void expect_any_data(struct fx *fx, uint32_t at, uint16_t type, struct msg *m)
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

void expect_data_from(struct fx *fx, uint32_t at, uint32_t from, struct msg *m)
{
	expect_any_data(fx, at, VIRTIO_OM_T_TEST_DATA, m);
	assert_int_equal(m->src, from);
}

/*
 * a sends b a message, and it is the next thing b receives: nothing (an
 * event) was pending for b, and the relay serves them.
 */
void check_relay(struct fx *fx, uint32_t a, uint32_t b, uint32_t len)
{
	struct msg m;

	send_data(fx, a, b, len, NULL);
	expect_data_from(fx, b, a, &m);
	assert_int_equal(m.len, len);
}

/* Nodes 1..3 up one after the other, every NODE_UP (JOINED) read. */
void up_all(struct fx *fx, const struct vuf_opts *opts)
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
void variant_opts(struct vuf_opts o[NODES + 1])
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
void check_counters(const struct fx *fx, uint32_t node)
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
void finish(struct fx *fx)
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

int setup(void **state)
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
int teardown(void **state)
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

/* A hostile message must at least be sent. */
void send_ok(int r)
{
	if (r)
		fail_msg("sending the hostile message: %s", strerror(-r));
}

/* A request no one defined (999): the front-end that sends it is evicted. */
void request_unknown(struct vuf *f)
{
	uint64_t v = 0;

	send_ok(vuf_send_raw(f, 999, &v, sizeof(v), NULL, 0));
}

int hf_run(const char *group, const struct CMUnitTest *tests, size_t n)
{
	const char *s = getenv("OMHF_SEED");

	if (s && *s)
		seed = strtoull(s, NULL, 0);
	/* $OMHF_ONLY: the tests whose names match this pattern (* and ?). */
	if (getenv("OMHF_ONLY"))
		cmocka_set_test_filter(getenv("OMHF_ONLY"));
	print_message("seed %#" PRIx64 " (set OMHF_SEED to repeat)\n", seed);
	return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}
