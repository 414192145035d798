// SPDX-License-Identifier: GPL-2.0-only
/*
 * link-bench: two omhostd relays linked as two hosts' (A: nodes 1-2, B:
 * nodes 3-4, TLS 1.3 PSK over TCP), synthetic front-ends as guests, in one
 * run:
 *   1. throughput of a stream of 64 KiB messages from node 1 (A) to node 3
 *      (B) across the link;
 *   2. a plain TCP stream of 64 KiB writes between the same two endpoints,
 *      and the same inside TLS 1.3 PSK (OpenSSL, as the link: its cost
 *      alone);
 *   3. the link's ratio to each, PASS or MISS against >= 0.7 for TCP (the
 *      target of issue 16);
 *   4. the round trip of a 64-byte message node 1 -> 3 -> 1 across the
 *      link, against node 1 -> 2 -> 1 through relay A alone.
 * The endpoints are loopback (127.0.0.1), or with --netns two network
 * namespaces made for the run and joined by a veth pair (10.231.0.1 and
 * .2/30), relay A in one, relay B in the other, and the TCP and TLS
 * streams between the same two namespaces. Figures: docs/benchmarks.md.
 *
 * With --rounds N the three streams run N times in turn and each one's
 * best is compared (the load of a shared machine drifts; each round is
 * printed too).
 *
 *   build/bench/link-bench --omhostd build/host/omhostd/omhostd [--seconds 3] [--rounds N] [--netns]
 *                          [--relay-opt --link-hold-ms=0]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <linux/virtio_om.h>

#include "control-client.h"
#include "link-tls.h"
#include "vu-frontend.h"

#define MSG (64u * 1024u)
#define RTT_N 2000u
#define TARGET 0.7
#define NS_A "omlb-a"
#define NS_B "omlb-b"
#define IP_A "10.231.0.1"
#define IP_B "10.231.0.2"

static struct {
	const char *omhostd;
	double seconds;
	unsigned int rounds; /* of the three streams, in turn: the load drifts */
	bool netns;
	const char *relay_opt; /* one more option for both relays (--link-hold-ms=0 ...) */
} g = { .seconds = 3, .rounds = 1 };

static char top[64];
static pid_t relay_a, relay_b;
static uint16_t port;
static const char *ip_a = "127.0.0.1", *ip_b = "127.0.0.1";
static struct om_link_key the_key;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void cleanup(void)
{
	char cmd[160];

	if (relay_a > 0)
		kill(relay_a, SIGTERM), waitpid(relay_a, NULL, 0);
	if (relay_b > 0)
		kill(relay_b, SIGTERM), waitpid(relay_b, NULL, 0);
	relay_a = relay_b = 0;
	if (g.netns && system("ip netns del " NS_A " 2>/dev/null; ip netns del " NS_B
			      " 2>/dev/null") != 0)
		fprintf(stderr, "link-bench: could not delete the namespaces\n");
	if (top[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
		if (system(cmd) != 0)
			fprintf(stderr, "link-bench: could not remove %s\n", top);
	}
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "link-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	cleanup();
	exit(1);
}

static int home_ns = -1; /* this process's network namespace at start */

/*
 * Moves the calling thread into namespace ns (NULL: back home); sockets
 * made then stay in it. Nothing without --netns.
 */
static void enter_ns(const char *ns)
{
	char path[96];
	int fd;

	if (!g.netns)
		return;
	if (!ns) {
		if (setns(home_ns, CLONE_NEWNET))
			die("setns home: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die("setns %s: %s", ns, strerror(errno));
	close(fd);
}

static void make_netns(void)
{
	static const char *const cmds[] = {
		"ip netns add " NS_A, "ip netns add " NS_B,
		"ip link add omlb-va type veth peer name omlb-vb",
		"ip link set omlb-va netns " NS_A, "ip link set omlb-vb netns " NS_B,
		"ip -n " NS_A " addr add " IP_A "/30 dev omlb-va",
		"ip -n " NS_B " addr add " IP_B "/30 dev omlb-vb",
		"ip -n " NS_A " link set omlb-va up", "ip -n " NS_B " link set omlb-vb up",
		"ip -n " NS_A " link set lo up", "ip -n " NS_B " link set lo up",
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (system(cmds[i]) != 0)
			die("'%s' failed (root and iproute2 needed for --netns)", cmds[i]);
	ip_a = IP_A;
	ip_b = IP_B;
}

static void write_key(const char *path, const char *peer)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%s ", peer);
	for (int i = 0; i < 32; i++)
		fprintf(f, "%02x", 0x30 + i);
	fprintf(f, "\n");
	fclose(f);
	chmod(path, 0600);
}

static pid_t start_relay(const char *sub, const char *name, const char *nodes, const char *peer,
			 const char *listen, const char *ns)
{
	char dir[96], psk[96], log[112], peer_arg[96];
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/%s", top, sub);
	snprintf(psk, sizeof(psk), "%s/%s.psk", top, sub);
	snprintf(log, sizeof(log), "%s/%s.log", top, sub);
	mkdir(dir, 0700);
	write_key(psk, strcmp(name, "hostA") ? "hostA" : "hostB");
	snprintf(peer_arg, sizeof(peer_arg), "%s", peer);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		char *argv[16] = { "omhostd", "--dir", dir, "--nodes", (char *)nodes, "--name",
				   (char *)name, "--psk-file", psk, "--peer", peer_arg };
		int i = 11, fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (listen) {
			argv[i++] = "--listen";
			argv[i++] = (char *)listen;
		}
		if (g.relay_opt)
			argv[i++] = (char *)g.relay_opt;
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		enter_ns(ns);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(g.omhostd, argv);
		_exit(127);
	}
	return pid;
}

/* Waits until the relay in sub has its link up. */
static void wait_linked(const char *sub)
{
	char path[112], buf[8192];
	double end = now_s() + 10;

	snprintf(path, sizeof(path), "%s/%s/control.sock", top, sub);
	while (now_s() < end) {
		if (!om_ctl_ask(path, "status\n", 1000, buf, sizeof(buf)) &&
		    strstr(buf, "state=up nodes="))
			return;
		usleep(20000);
	}
	die("relay %s: link not up within 10 s (log: %s/%s.log)", sub, top, sub);
}

static struct vuf *frontend(const char *sub, uint32_t node)
{
	struct vuf_opts o = { .timeout_ms = 5000 };
	char path[112];
	struct vuf *f;
	int r;

	snprintf(path, sizeof(path), "%s/%s/node-%u.sock", top, sub, node);
	if ((r = vuf_new(&f, &o)) || (r = vuf_connect(f, path)) || (r = vuf_handshake(f)))
		die("front-end of node %u: %s", node, strerror(-r));
	return f;
}

/* Takes messages until one of type from src (node events on the way are skipped). */
static int recv_from(struct vuf *f, uint32_t src, void *buf, size_t cap, int timeout_ms)
{
	for (;;) {
		int n = vuf_recv_msg(f, buf, cap, timeout_ms);
		struct virtio_om_hdr h;

		if (n < (int)VIRTIO_OM_HDR_SIZE)
			return n < 0 ? n : -EPROTO;
		memcpy(&h, buf, sizeof(h));
		if (le32toh(h.src_node) == src)
			return n;
	}
}

/* ---- 1. the link's stream ---- */

struct stream {
	struct vuf *tx, *rx;
	uint32_t to, from;
	volatile bool stop;
	uint64_t bytes;		 /* received, payload */
	double t0, t1;		 /* the measured window */
	int err;
};

static void *stream_sender(void *arg)
{
	struct stream *s = arg;
	static uint8_t payload[MSG];
	struct vuf_msg_opts o = { 0 };

	memset(payload, 0xa5, sizeof(payload));
	while (!s->stop) {
		int r = vuf_send_msg(s->tx, s->to, VIRTIO_OM_T_TEST_DATA, payload, MSG, &o);

		if (r) {
			s->err = r;
			break;
		}
		while (vuf_vq_harvest(s->tx, VUF_TX, (struct vuf_used_elem[32]){ 0 }, 32) > 0)
			;
	}
	return NULL;
}

static double link_stream(struct vuf *tx, struct vuf *rx, uint32_t to, uint32_t from)
{
	static uint8_t buf[VIRTIO_OM_HDR_SIZE + MSG];
	struct stream s = { .tx = tx, .rx = rx, .to = to, .from = from };
	double warm = now_s() + 0.5, end = warm + g.seconds;
	pthread_t t;
	bool counting = false;

	pthread_create(&t, NULL, stream_sender, &s);
	for (;;) {
		int n = recv_from(rx, from, buf, sizeof(buf), 5000);
		double now = now_s();

		if (n < 0) {
			s.stop = true;
			pthread_join(t, NULL);
			die("link stream: receive: %s (sender: %s)", strerror(-n), strerror(-s.err));
		}
		if (!counting && now >= warm) {
			counting = true;
			s.t0 = now;
		} else if (counting) {
			s.bytes += (uint64_t)n - VIRTIO_OM_HDR_SIZE;
		}
		if (now >= end) {
			s.t1 = now;
			break;
		}
	}
	s.stop = true;
	/* The sender may wait for a slot: drain until it ends. */
	while (pthread_tryjoin_np(t, NULL) == EBUSY)
		vuf_recv_msg(rx, buf, sizeof(buf), 10);
	return s.bytes / (s.t1 - s.t0) / 1e9;
}

/* ---- 2. TCP and TLS between the same endpoints ---- */

struct sock_side {
	int fd;
	SSL *ssl;
	const char *ns;
	bool tls, server;
	volatile bool *stop;
	uint64_t bytes;
	double t0, t1;
	int err;
};

static const struct om_link_key *bench_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "hostA") ? NULL : &the_key;
}

static void *sock_writer(void *arg)
{
	struct sock_side *w = arg;
	static uint8_t block[MSG];

	memset(block, 0x5a, sizeof(block));
	while (!*w->stop) {
		size_t done = 0;

		if (w->tls ? SSL_write_ex(w->ssl, block, sizeof(block), &done) != 1 :
			     write(w->fd, block, sizeof(block)) < 0)
			break;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* A stream from namespace A to namespace B over TCP, in TLS if tls; GB/s received. */
static double sock_stream(bool tls)
{
	static uint8_t buf[MSG];
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(port + 1) };
	int lfd, one = 1;
	volatile bool stop = false;
	struct sock_side w = { .tls = tls, .stop = &stop }, r = { .tls = tls, .fd = -1 };
	SSL_CTX *cctx = NULL, *sctx = NULL;
	double warm, end;
	bool counting = false;
	pthread_t t;

	/* The reader's end in B's namespace, the writer's in A's, as the relays. */
	inet_pton(AF_INET, ip_b, &at.sin_addr);
	enter_ns(NS_B);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&at, sizeof(at)) || listen(lfd, 1))
		die("listen on %s:%u: %s", ip_b, port + 1, strerror(errno));
	enter_ns(NS_A);
	w.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(w.fd, (struct sockaddr *)&at, sizeof(at)))
		die("connect: %s", strerror(errno));
	enter_ns(NULL);
	r.fd = accept(lfd, NULL, NULL);
	close(lfd);
	/* As the link: no Nagle (frames are written whole). */
	setsockopt(w.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(r.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls) {
		cctx = om_link_tls_new(0, NULL, NULL);
		sctx = om_link_tls_new(1, bench_lookup, NULL);
		w.ssl = om_link_tls_conn(cctx, w.fd, "hostA", &the_key);
		r.ssl = om_link_tls_conn(sctx, r.fd, NULL, NULL);
		if (!w.ssl || !r.ssl)
			die("TLS setup failed");
	}
	pthread_create(&t, NULL, sock_writer, &w);
	if (tls && SSL_accept(r.ssl) != 1)
		die("TLS handshake failed");
	warm = now_s() + 0.5;
	end = warm + g.seconds;
	for (;;) {
		size_t got = 0;
		ssize_t n;
		double now;

		if (tls) {
			n = SSL_read_ex(r.ssl, buf, sizeof(buf), &got) == 1 ? (ssize_t)got : -1;
		} else {
			n = read(r.fd, buf, sizeof(buf));
		}
		if (n <= 0)
			die("stream ended early");
		now = now_s();
		if (!counting && now >= warm) {
			counting = true;
			r.t0 = now;
		} else if (counting) {
			r.bytes += (uint64_t)n;
		}
		if (now >= end) {
			r.t1 = now;
			break;
		}
	}
	stop = true;
	/*
	 * The writer may be blocked in a write the reader will not make room
	 * for: its own socket shut for writing fails that write (EPIPE).
	 */
	shutdown(w.fd, SHUT_RDWR);
	shutdown(r.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	if (tls) {
		om_link_tls_free(w.ssl);
		om_link_tls_free(r.ssl);
		SSL_CTX_free(cctx);
		SSL_CTX_free(sctx);
	}
	close(w.fd);
	close(r.fd);
	return r.bytes / (r.t1 - r.t0) / 1e9;
}

/* ---- 4. round trips ---- */

struct echo {
	struct vuf *f;
	uint32_t peer;
	volatile bool stop;
};

static void *echo_run(void *arg)
{
	struct echo *e = arg;
	static uint8_t buf[VIRTIO_OM_HDR_SIZE + 64];
	struct vuf_msg_opts o = { 0 };

	while (!e->stop) {
		int n = recv_from(e->f, e->peer, buf, sizeof(buf), 100);

		if (n == -ETIMEDOUT)
			continue;
		if (n < 0 || vuf_send_msg(e->f, e->peer, VIRTIO_OM_T_TEST_DATA,
					  buf + VIRTIO_OM_HDR_SIZE, 64, &o))
			break;
		while (vuf_vq_harvest(e->f, VUF_TX, (struct vuf_used_elem[32]){ 0 }, 32) > 0)
			;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and p99 (µs) of RTT_N round trips from a to node b (echoed by fb). */
static void round_trips(struct vuf *a, uint32_t self, struct vuf *fb, uint32_t b, double *med,
			double *p99)
{
	static double us[RTT_N];
	static uint8_t payload[64], buf[VIRTIO_OM_HDR_SIZE + 64];
	struct echo e = { .f = fb, .peer = self };
	struct vuf_msg_opts o = { 0 };
	pthread_t t;

	pthread_create(&t, NULL, echo_run, &e);
	for (unsigned int i = 0; i < RTT_N + 100; i++) {
		double t0 = now_s();
		int n;

		uint64_t got;

		/* Numbered: what the stream left in flight is echoed too, and skipped. */
		memcpy(payload, &i, sizeof(i));
		if (vuf_send_msg(a, b, VIRTIO_OM_T_TEST_DATA, payload, sizeof(payload), &o))
			die("round trip: send");
		do {
			n = recv_from(a, b, buf, sizeof(buf), 5000);
			if (n < 0)
				die("round trip %u to node %u: %s", i, b, strerror(-n));
			got = 0;
			memcpy(&got, buf + VIRTIO_OM_HDR_SIZE, sizeof(i));
		} while (got != i);
		while (vuf_vq_harvest(a, VUF_TX, (struct vuf_used_elem[32]){ 0 }, 32) > 0)
			;
		if (i >= 100)
			us[i - 100] = (now_s() - t0) * 1e6;
	}
	e.stop = true;
	pthread_join(t, NULL);
	qsort(us, RTT_N, sizeof(us[0]), cmp_double);
	*med = us[RTT_N / 2];
	*p99 = us[RTT_N * 99 / 100];
}

static void usage(void)
{
	fprintf(stderr, "usage: link-bench --omhostd PATH [--seconds S] [--rounds N] [--netns] "
			"[--relay-opt --OPTION=VALUE]\n");
}

int main(int argc, char **argv)
{
	char peer_a[96], peer_b[96], listen_b[48];
	struct vuf *f1, *f2, *f3;
	double link = 0, tcp = 0, tls = 0, rtt_link, p99_link, rtt_local, p99_local;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--omhostd") && i + 1 < argc)
			g.omhostd = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			g.seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			g.rounds = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--netns"))
			g.netns = true;
		else if (!strcmp(argv[i], "--relay-opt") && i + 1 < argc)
			g.relay_opt = argv[++i];
		else {
			usage();
			return 2;
		}
	}
	if (!g.omhostd || g.seconds <= 0 || g.rounds < 1 || g.rounds > 100) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(top, sizeof(top), "/tmp/link-bench-XXXXXX");
	if (!mkdtemp(top))
		die("mkdtemp: %s", strerror(errno));
	port = (uint16_t)(40000 + getpid() % 10000);
	snprintf(the_key.name, sizeof(the_key.name), "hostA");
	for (int i = 0; i < 32; i++)
		the_key.key[i] = (unsigned char)(0x30 + i);
	the_key.len = 32;
	if (g.netns) {
		home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home_ns < 0)
			die("/proc/self/ns/net: %s", strerror(errno));
		make_netns();
	}
	snprintf(listen_b, sizeof(listen_b), "%s:%u", ip_b, port);
	snprintf(peer_a, sizeof(peer_a), "hostB=%s:%u:3-4", ip_b, port);
	snprintf(peer_b, sizeof(peer_b), "hostA=%s:1:1-2", ip_a);
	relay_b = start_relay("b", "hostB", "3-4", peer_b, listen_b, NS_B);
	relay_a = start_relay("a", "hostA", "1-2", peer_a, NULL, NS_A);
	wait_linked("a");
	wait_linked("b");
	f1 = frontend("a", 1);
	f2 = frontend("a", 2);
	f3 = frontend("b", 3);

	printf("link-bench: relays A (nodes 1-2) and B (3-4) linked over %s (TLS 1.3 PSK)%s%s;\n"
	       "each figure over %.1f s after 0.5 s of warm-up; GB/s = payload bytes / s / 1e9\n",
	       g.netns ? "a veth pair between two network namespaces" : "loopback TCP",
	       g.relay_opt ? ", relays with " : "", g.relay_opt ? g.relay_opt : "", g.seconds);
	/* With rounds, each stream's best: the moments the machine's other load left it most. */
	for (unsigned int r = 1; r <= g.rounds; r++) {
		double l = link_stream(f1, f3, 3, 1), t = sock_stream(false), s = sock_stream(true);

		if (g.rounds > 1)
			printf("   round %u: link %.3f, TCP %.3f, TLS %.3f GB/s: link / TCP %.2f\n", r, l,
			       t, s, l / t);
		link = l > link ? l : link;
		tcp = t > tcp ? t : tcp;
		tls = s > tls ? s : tls;
	}
	if (g.rounds > 1)
		printf("   (below: each stream's best of the %u rounds)\n", g.rounds);
	printf("1. link, node 1 -> node 3, 64 KiB messages:     %6.3f GB/s\n", link);
	printf("2. plain TCP, same endpoints, 64 KiB writes:     %6.3f GB/s\n", tcp);
	printf("   TLS 1.3 PSK over TCP, same endpoints:         %6.3f GB/s\n", tls);
	printf("3. link / TCP: %.2f (target >= %.1f): %s\n", link / tcp, TARGET,
	       link / tcp >= TARGET ? "PASS" : "MISS");
	printf("   link / TLS: %.2f\n", link / tls);
	round_trips(f1, 1, f3, 3, &rtt_link, &p99_link);
	round_trips(f1, 1, f2, 2, &rtt_local, &p99_local);
	printf("4. round trip, 64 B, %u timed: across the link (1 -> 3 -> 1) median %.1f us, "
	       "p99 %.1f us;\n   through relay A alone (1 -> 2 -> 1) median %.1f us, p99 %.1f us "
	       "(x%.1f)\n", RTT_N, rtt_link, p99_link, rtt_local, p99_local, rtt_link / rtt_local);
	vuf_free(f1);
	vuf_free(f2);
	vuf_free(f3);
	cleanup();
	return 0;
}
