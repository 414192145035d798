// SPDX-License-Identifier: GPL-2.0-only
/* Linked omhostd processes for tests: see link-fixture.h. */
#include "link-fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	char log[96], listen_arg[32];
	const char *bin = getenv("OMHOSTD");
	pid_t parent = getpid();

	assert_non_null(bin);
	snprintf(log, sizeof(log), "%s/omhostd.log", r->dir);
	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%u", r->listen_port);
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
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
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

/* Copies what from has into to; false when either ended (or a cut was asked). */
static bool lf_pass(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR && !lf_cut_asked;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0 && errno == EINTR && !lf_cut_asked)
			continue;
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void lf_proxy_run(int lfd, uint16_t to_port, int ack_fd)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(to_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int a = -1, b = -1;

	for (;;) {
		struct pollfd p[2];
		int n;

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
			b = socket(AF_INET, SOCK_STREAM, 0);
			if (b < 0 || connect(b, (struct sockaddr *)&to, sizeof(to))) {
				lf_reset(&a);
				if (b >= 0)
					close(b);
				b = -1;
			}
			continue;
		}
		p[0] = (struct pollfd){ .fd = a, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = b, .events = POLLIN };
		n = poll(p, 2, 50);
		if (n <= 0)
			continue;
		if ((p[0].revents && !lf_pass(a, b)) || (p[1].revents && !lf_pass(b, a))) {
			if (lf_cut_asked)
				continue; /* done at the top */
			lf_reset(&a);
			lf_reset(&b);
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
		lf_proxy_run(lfd, p->to_port, pfd[1]);
		_exit(0);
	}
	close(lfd);
	close(pfd[1]);
	p->ack_fd = pfd[0];
	p->cuts = 0;
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
	p->pid = 0;
}
