// SPDX-License-Identifier: GPL-2.0-only
/* Linked omhostd processes for tests: see link-fixture.h. */
#include "link-fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "control-client.h"

long long lf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lf_mkdtemp(char *top, size_t cap)
{
	snprintf(top, cap, "/tmp/omlink-XXXXXX");
	return mkdtemp(top) ? 0 : -errno;
}

uint16_t lf_port(unsigned int salt)
{
	return (uint16_t)(20000 + (getpid() * 7 + salt * 131 + (unsigned int)lf_now_ms()) % 20000);
}

void lf_write_key(const char *path, const char *name, unsigned char fill)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "# test key\n%s ", name);
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", (unsigned int)(fill + i));
	fprintf(f, "\n");
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
}

void lf_relay_start(struct lf_relay *r)
{
	char log[96], listen_arg[48];
	const char *bin = getenv("OMHOSTD");
	pid_t parent = getpid();

	assert_non_null(bin);
	snprintf(log, sizeof(log), "%s/omhostd.log", r->dir);
	snprintf(listen_arg, sizeof(listen_arg), "%s:%u",
		 r->listen_addr[0] ? r->listen_addr : "127.0.0.1", r->listen_port);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		char *argv[24] = { "omhostd", "--dir", r->dir, "--nodes", r->nodes, "--name",
				   r->name, "--psk-file", r->psk, "--peer", r->peer };
		int i = 11;

		if (r->listen_port) {
			argv[i++] = "--listen";
			argv[i++] = listen_arg;
		}
		for (int k = 0; k < 4; k++)
			if (r->extra[k][0])
				argv[i++] = r->extra[k];
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (r->netns[0]) {
			char ns[96];
			int nfd;

			snprintf(ns, sizeof(ns), "/run/netns/%s", r->netns);
			nfd = open(ns, O_RDONLY | O_CLOEXEC);
			if (nfd < 0 || setns(nfd, CLONE_NEWNET)) {
				dprintf(2, "test: cannot enter %s: %s\n", ns, strerror(errno));
				_exit(124);
			}
			close(nfd);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		execv(bin, argv);
		_exit(127);
	}
}

void lf_relay_stop(struct lf_relay *r)
{
	int st;

	if (r->pid <= 0)
		return;
	kill(r->pid, SIGTERM);
	assert_int_equal(waitpid(r->pid, &st, 0), r->pid);
	r->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("%s (%s): stopped by SIGTERM, it ended %s %d (its log: %s/omhostd.log)",
			 r->name, r->dir, WIFEXITED(st) ? "with status" : "by signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), r->dir);
}

void lf_relay_kill(struct lf_relay *r)
{
	int st;

	assert_true(r->pid > 0);
	assert_int_equal(kill(r->pid, SIGKILL), 0);
	assert_int_equal(waitpid(r->pid, &st, 0), r->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	r->pid = 0;
}

void lf_status(const struct lf_relay *r, char *buf, size_t cap)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/control.sock", r->dir);
	if (om_ctl_ask(path, "status\n", 1000, buf, cap))
		buf[0] = '\0';
}

uint64_t lf_field(const char *buf, const char *line_start, const char *key)
{
	const char *l = strstr(buf, line_start), *v;
	char k[64];

	if (!l)
		return UINT64_MAX;
	snprintf(k, sizeof(k), " %s=", key);
	v = strstr(l, k);
	if (!v || (strchr(l, '\n') && v > strchr(l, '\n')))
		return UINT64_MAX;
	return strtoull(v + strlen(k), NULL, 10);
}

void lf_wait_status(const struct lf_relay *r, const char *want)
{
	long long deadline = lf_now_ms() + LF_TIMEOUT_MS;
	char buf[8192];

	for (;;) {
		lf_status(r, buf, sizeof(buf));
		if (strstr(buf, want))
			return;
		if (lf_now_ms() > deadline)
			fail_msg("%s: no '%s' in status:\n%s", r->dir, want, buf);
		usleep(10000);
	}
}

struct vuf *lf_frontend(const struct lf_relay *r, uint32_t node)
{
	struct vuf_opts o = { .timeout_ms = LF_TIMEOUT_MS };
	struct vuf *f;
	char path[128];

	assert_int_equal(vuf_new(&f, &o), 0);
	snprintf(path, sizeof(path), "%s/node-%u.sock", r->dir, node);
	assert_int_equal(vuf_connect(f, path), 0);
	assert_int_equal(vuf_handshake(f), 0);
	assert_int_equal(vuf_node_id(f), node);
	return f;
}

/* ---- the TCP relay ---- */

/* Each direction's bytes not yet passed on: enough for 80 MiB/s at 50 ms. */
#define LF_PROXY_BUF (4u << 20)
/* When each read's bytes are due: one mark per millisecond at most. */
#define LF_PROXY_MARKS 8192u

static volatile sig_atomic_t lf_cut_asked;

static void lf_on_usr1(int sig)
{
	(void)sig;
	lf_cut_asked = 1;
}

/* Ends a connection with a reset, as a broken network path or a firewall does. */
static void lf_reset(int *fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(*fd);
	*fd = -1;
}

/* One direction of the connection carried: bytes read, not yet written, and when they are due. */
struct lf_flow {
	unsigned char *ring;
	uint64_t in, out; /* bytes read and written since the connection began */
	uint64_t end[LF_PROXY_MARKS];
	long long due[LF_PROXY_MARKS];
	unsigned int tail, head; /* marks pending: tail..head - 1, modulo LF_PROXY_MARKS */
	bool blocked;		 /* its last write would have blocked */
};

static bool lf_flow_can_read(const struct lf_flow *f)
{
	return f->in - f->out < LF_PROXY_BUF && f->head - f->tail < LF_PROXY_MARKS;
}

/* Reads what from has into f, due delay_ms from now; false when from ended. */
static bool lf_flow_read(struct lf_flow *f, int from, unsigned int delay_ms,
			 struct lf_proxy_counts *c, int dir)
{
	while (lf_flow_can_read(f)) {
		uint64_t at = f->in % LF_PROXY_BUF, room = LF_PROXY_BUF - (f->in - f->out);
		ssize_t n = read(from, f->ring + at, room < LF_PROXY_BUF - at ? room : LF_PROXY_BUF - at);
		long long due = lf_now_ms() + delay_ms;
		unsigned int last = (f->head - 1) % LF_PROXY_MARKS;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		f->in += (uint64_t)n;
		__atomic_store_n(&c->in[dir], f->in, __ATOMIC_RELAXED);
		if (f->head != f->tail && f->due[last] == due) {
			f->end[last] = f->in;
		} else {
			f->end[f->head % LF_PROXY_MARKS] = f->in;
			f->due[f->head % LF_PROXY_MARKS] = due;
			f->head++;
		}
	}
	return true;
}

/* Writes to `to` what of f is due; false when `to` failed. */
static bool lf_flow_write(struct lf_flow *f, int to, struct lf_proxy_counts *c, int dir)
{
	long long now = lf_now_ms();

	f->blocked = false;
	while (f->head != f->tail && f->due[f->tail % LF_PROXY_MARKS] <= now) {
		uint64_t end = f->end[f->tail % LF_PROXY_MARKS], at = f->out % LF_PROXY_BUF;
		uint64_t len = end - f->out < LF_PROXY_BUF - at ? end - f->out : LF_PROXY_BUF - at;
		ssize_t w = write(to, f->ring + at, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			f->blocked = true;
			return true;
		}
		if (w <= 0)
			return false;
		f->out += (uint64_t)w;
		__atomic_store_n(&c->out[dir], f->out, __ATOMIC_RELAXED);
		if (f->out == end)
			f->tail++;
	}
	return true;
}

/* Milliseconds until f's next bytes are due; -1 when none wait. */
static long long lf_flow_wait(const struct lf_flow *f)
{
	long long d;

	if (f->head == f->tail || f->blocked)
		return -1;
	d = f->due[f->tail % LF_PROXY_MARKS] - lf_now_ms();
	return d < 0 ? 0 : d;
}

static void lf_proxy_setup_fd(int fd)
{
	int one = 1;

	/* Nagle on the relay's own sockets would add its delay to ours. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void lf_proxy_run(int lfd, uint16_t to_port, unsigned int delay_ms, int ack_fd,
			 struct lf_proxy_counts *c)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(to_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static struct lf_flow flow[2]; /* [0] a to b, [1] b to a */
	int a = -1, b = -1;

	for (int i = 0; i < 2; i++) {
		flow[i].ring = malloc(LF_PROXY_BUF);
		if (!flow[i].ring)
			_exit(4);
	}
	for (;;) {
		struct pollfd p[2];
		long long wait = 50;
		bool ok = true;

		if (lf_cut_asked) {
			lf_reset(&a);
			lf_reset(&b);
			lf_cut_asked = 0;
			if (write(ack_fd, "c", 1) != 1)
				_exit(3);
		}
		if (a < 0) {
			p[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
			if (poll(p, 1, 50) <= 0)
				continue;
			a = accept(lfd, NULL, NULL);
			if (a < 0)
				continue;
			b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (b < 0 || connect(b, (struct sockaddr *)&to, sizeof(to))) {
				lf_reset(&a);
				if (b >= 0)
					close(b);
				b = -1;
				continue;
			}
			lf_proxy_setup_fd(a);
			lf_proxy_setup_fd(b);
			for (int i = 0; i < 2; i++) {
				flow[i].in = flow[i].out = 0;
				flow[i].head = flow[i].tail = 0;
				flow[i].blocked = false;
			}
			__atomic_add_fetch(&c->accepted, 1, __ATOMIC_RELAXED);
			continue;
		}
		p[0] = (struct pollfd){ .fd = a, .events = (short)((lf_flow_can_read(&flow[0]) ? POLLIN : 0) |
								   (flow[1].blocked ? POLLOUT : 0)) };
		p[1] = (struct pollfd){ .fd = b, .events = (short)((lf_flow_can_read(&flow[1]) ? POLLIN : 0) |
								   (flow[0].blocked ? POLLOUT : 0)) };
		for (int i = 0; i < 2; i++) {
			long long w = lf_flow_wait(&flow[i]);

			if (w >= 0 && w < wait)
				wait = w;
		}
		if (poll(p, 2, (int)wait) < 0)
			continue; /* a signal: a cut, done at the top */
		if (p[0].revents & (POLLIN | POLLERR | POLLHUP))
			ok = lf_flow_read(&flow[0], a, delay_ms, c, 0);
		if (ok && p[1].revents & (POLLIN | POLLERR | POLLHUP))
			ok = lf_flow_read(&flow[1], b, delay_ms, c, 1);
		ok = ok && lf_flow_write(&flow[0], b, c, 0) && lf_flow_write(&flow[1], a, c, 1);
		if (!ok && !lf_cut_asked) {
			/* A side ended or failed: what waited dies with the connection, as on a wire. */
			lf_reset(&a);
			lf_reset(&b);
			__atomic_add_fetch(&c->ended, 1, __ATOMIC_RELAXED);
		}
	}
}

void lf_proxy_start(struct lf_proxy *p)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(p->listen_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, pfd[2];
	pid_t parent = getpid();

	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(lfd, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	p->counts = mmap(NULL, sizeof(*p->counts), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(p->counts != MAP_FAILED);
	memset(p->counts, 0, sizeof(*p->counts));
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		struct sigaction sa = { .sa_handler = lf_on_usr1 }; /* no SA_RESTART: I/O ends */

		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		lf_proxy_run(lfd, p->to_port, p->delay_ms, pfd[1], p->counts);
		_exit(0);
	}
	close(lfd);
	close(pfd[1]);
	p->ack_fd = pfd[0];
	p->cuts = 0;
}

struct lf_proxy_counts lf_proxy_counts(const struct lf_proxy *p)
{
	struct lf_proxy_counts c;

	for (int i = 0; i < 2; i++) {
		c.in[i] = __atomic_load_n(&p->counts->in[i], __ATOMIC_RELAXED);
		c.out[i] = __atomic_load_n(&p->counts->out[i], __ATOMIC_RELAXED);
	}
	c.accepted = __atomic_load_n(&p->counts->accepted, __ATOMIC_RELAXED);
	c.ended = __atomic_load_n(&p->counts->ended, __ATOMIC_RELAXED);
	return c;
}

void lf_proxy_cut(struct lf_proxy *p)
{
	struct pollfd q = { .fd = p->ack_fd, .events = POLLIN };
	char c;

	assert_int_equal(kill(p->pid, SIGUSR1), 0);
	if (poll(&q, 1, LF_TIMEOUT_MS) != 1 || read(p->ack_fd, &c, 1) != 1)
		fail_msg("the TCP relay did not cut within %d ms", LF_TIMEOUT_MS);
	p->cuts++;
}

void lf_proxy_stop(struct lf_proxy *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	close(p->ack_fd);
	munmap(p->counts, sizeof(*p->counts));
	p->counts = NULL;
	p->pid = 0;
}

/* ---- commands and network namespaces ---- */

static int lf_run(char *out, size_t cap, const char *line)
{
	long long deadline = lf_now_ms() + 10000;
	size_t len = 0;
	int pfd[2], st;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0); /* its own group: a time-out kills what it started too */
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd q = { .fd = pfd[0], .events = POLLIN };
		long long left = deadline - lf_now_ms();
		char sink[256];
		ssize_t n;

		if (left <= 0 || poll(&q, 1, (int)left) <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (out && len + 1 < cap)
			n = read(pfd[0], out + len, cap - 1 - len);
		else
			n = read(pfd[0], sink, sizeof(sink));
		if (n <= 0)
			break;
		if (out && len + 1 < cap)
			len += (size_t)n;
	}
	close(pfd[0]);
	if (out && cap)
		out[len] = '\0';
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int lf_sh(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return lf_run(NULL, 0, line);
}

int lf_sh_out(char *out, size_t cap, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return lf_run(out, cap, line);
}

int lf_netns_pair(const char *prefix, char *a, char *b, size_t cap, char *why, size_t whycap)
{
	char out[512];

	snprintf(a, cap, "%s-%d-a", prefix, (int)getpid());
	snprintf(b, cap, "%s-%d-b", prefix, (int)getpid());
	if (geteuid() != 0) {
		snprintf(why, whycap, "needs root (network namespaces)");
		return -1;
	}
	if (lf_sh("command -v ip") != 0) {
		snprintf(why, whycap, "needs iproute2's ip");
		return -1;
	}
	/* Names with this pid left by a killed run of an earlier process with it. */
	lf_netns_remove(a, b);
	/*
	 * One TCP segment a packet (gso_max_segs 1), as on a wire: otherwise a
	 * veth carries 64 KiB at once, and a packet dropped is that much.
	 */
	if (lf_sh_out(out, sizeof(out),
		      "ip netns add %s && ip netns add %s && "
		      "ip -n %s link add om0 type veth peer name om0 netns %s && "
		      "ip -n %s addr add " LF_NET_A "/24 dev om0 && ip -n %s addr add " LF_NET_B
		      "/24 dev om0 && ip -n %s link set om0 gso_max_segs 1 up && "
		      "ip -n %s link set om0 gso_max_segs 1 up && "
		      "ip -n %s link set lo up && ip -n %s link set lo up",
		      a, b, a, b, a, b, a, b, a, b) != 0) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(why, whycap, "cannot make network namespaces: %s", out);
		lf_netns_remove(a, b);
		return -1;
	}
	return 0;
}

void lf_netns_remove(const char *a, const char *b)
{
	/* Deleting a namespace deletes its end of the veth, and so the pair. */
	lf_sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; true", a, b);
}
