// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-udp-ping: round trips of UDP datagrams to an echo server, printed as
 * om-ping prints its virtio-om round trips (same lines, same summary,
 * rtt-stats.h), to compare virtio-om with the ordinary network path
 * between the same guests (omcluster up --net: virtio-net, each guest's IP
 * stack, a user process at each end). Each request carries what om-ping's
 * PING carries, an 8-byte cookie (VIRTIO_OM_PING_SIZE); the server sends
 * every datagram back to where it came from. The options and the run
 * itself are om-ping's too (ping-run.h).
 *
 * usage: om-udp-ping [-c COUNT] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-p PORT] [-q] ADDRESS
 *        om-udp-ping -s [-p PORT] [ADDRESS]
 * ADDRESS is a numeric IPv4 or IPv6 address; the server's, by default
 * 0.0.0.0, is the one it listens on.
 * Exit, as om-ping: 0 when every request was answered, 1 when one was not
 * (timeout, nothing listening), 2 on a usage or setup error. The server
 * runs until killed; 2 when it cannot start, 1 when it cannot go on.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_om.h>

#include "mono-time.h"
#include "ping-run.h"

#define DEFAULT_PORT 7777

/* The server echoes datagrams of any size; the client's replies are this. */
static unsigned char buf[65536];

static void usage(FILE *f)
{
	fprintf(f, "usage: om-udp-ping [-c COUNT] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-p PORT] [-q] ADDRESS\n"
		   "       om-udp-ping -s [-p PORT] [ADDRESS]\n"
		   "  -s             serve: send every datagram back (on ADDRESS, default 0.0.0.0)\n"
		   "  -c COUNT       requests to send (default 1)\n"
		   "  -i INTERVAL_MS time between requests (default 1000)\n"
		   "  -t TIMEOUT_MS  how long to wait for each reply (default 1000)\n"
		   "  -p PORT        the server's UDP port (default %d)\n"
		   "  -q             print the summary only\n",
		   DEFAULT_PORT);
}

/* A numeric IPv4 or IPv6 address and a port; 0 or -EINVAL. */
static int parse_address(const char *s, uint16_t port, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static int serve(const struct sockaddr_storage *addr, socklen_t len, const char *name,
		 uint32_t port)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)addr, len) < 0) {
		fprintf(stderr, "om-udp-ping: cannot listen on %s port %u: %s\n", name, port,
			strerror(errno));
		return 2;
	}
	printf("om-udp-ping: echoing on %s port %u\n", name, port);
	fflush(stdout);
	for (;;) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "om-udp-ping: receive: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		/*
		 * An echo that cannot go is lost, as a datagram would be: the
		 * sender's time-out counts it. Said here, so it is not silent.
		 */
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, from_len) < 0)
			fprintf(stderr, "om-udp-ping: echo: %s\n", strerror(errno));
	}
}

/* The server the requests go to, over a connected socket. */
struct udp_peer {
	int fd;
	const char *name;
	uint32_t port;
	uint64_t cookie; /* of the request waiting for its echo */
	uint64_t rnd;
};

/* xorshift64*: the high half of each cookie, so a stale reply never matches. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

/* The peer's ICMP "port unreachable", reported on the connected socket. */
static enum ping_step nothing_listens(const struct udp_peer *p)
{
	fprintf(stderr, "om-udp-ping: nothing listens on %s port %u\n", p->name, p->port);
	return PING_STOP;
}

static enum ping_step send_request(void *ctx, uint32_t seq)
{
	struct udp_peer *p = ctx;
	uint64_t le;
	ssize_t n;

	p->cookie = (next_random(&p->rnd) & ~0xffffffffull) | seq;
	le = htole64(p->cookie);
	while ((n = send(p->fd, &le, sizeof(le), 0)) < 0 && errno == EINTR)
		;
	if (n < 0 && errno == ECONNREFUSED)
		return nothing_listens(p);
	if (n < 0) {
		fprintf(stderr, "om-udp-ping: send to %s: %s\n", p->name, strerror(errno));
		return PING_FATAL;
	}
	return PING_DONE;
}

/* Waits for the reply carrying the cookie until deadline (ms); older ones are skipped. */
static enum ping_step wait_reply(void *ctx, uint32_t seq, double deadline)
{
	struct udp_peer *p = ctx;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	(void)seq; /* the cookie carries it */
	for (;;) {
		double left = deadline - mono_now_ms();
		uint64_t echoed;
		ssize_t n;

		if (left <= 0)
			return PING_TIMEOUT;
		if (poll(&pfd, 1, (int)left + 1) < 0) {
			if (errno == EINTR)
				continue;
			perror("om-udp-ping: poll");
			return PING_STOP;
		}
		while ((n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			if (n != sizeof(echoed))
				continue;
			memcpy(&echoed, buf, sizeof(echoed));
			if (le64toh(echoed) == p->cookie)
				return PING_DONE;
		}
		if (errno == ECONNREFUSED)
			return nothing_listens(p);
		if (errno != EAGAIN && errno != EINTR) {
			perror("om-udp-ping: receive");
			return PING_STOP;
		}
	}
}

int main(int argc, char **argv)
{
	struct ping_run run = {
		.prog = "om-udp-ping",
		.what = "udp ping",
		.out = stdout,
		.opt = PING_OPTIONS_DEFAULTS,
	};
	struct udp_peer peer = { 0 };
	const struct ping_transport udp = { send_request, wait_reply, &peer };
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int rc;

	run.opt.port = DEFAULT_PORT;
	rc = ping_parse_options(argc, argv, run.prog, 65535, usage, &run.opt);
	if (rc != PING_OPTIONS_PARSED)
		return rc;
	if (optind < argc - 1 || (!run.opt.serve && optind != argc - 1)) {
		usage(stderr);
		return 2;
	}
	peer.name = optind < argc ? argv[optind] : "0.0.0.0";
	peer.port = run.opt.port;
	if (parse_address(peer.name, (uint16_t)peer.port, &addr, &addr_len)) {
		fprintf(stderr, "om-udp-ping: '%s' is not a numeric IPv4 or IPv6 address\n",
			peer.name);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (run.opt.serve)
		return serve(&addr, addr_len, peer.name, peer.port);

	rc = ping_run_prepare(&run);
	if (rc)
		return rc;
	/* Connected: only the server's datagrams arrive, and its ICMP errors. */
	peer.fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (peer.fd < 0 || connect(peer.fd, (struct sockaddr *)&addr, addr_len) < 0) {
		fprintf(stderr, "om-udp-ping: %s port %u: %s\n", peer.name, peer.port,
			strerror(errno));
		return 2;
	}
	peer.rnd = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ 0x9e3779b97f4a7c15ull;
	if (!run.opt.quiet)
		printf("PING %s port %u (udp): %d data bytes\n", peer.name, peer.port,
		       VIRTIO_OM_PING_SIZE);

	run.peer = peer.name;
	rc = ping_run(&run, &udp);
	close(peer.fd);
	return rc;
}
