// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-udp-ping: round trips of UDP datagrams to an echo server, printed as
 * om-ping prints its virtio-om round trips (same lines, same summary,
 * rtt-stats.h), to compare virtio-om with the ordinary network path
 * between the same guests (omcluster up --net: virtio-net, each guest's IP
 * stack, a user process at each end). Each request carries what om-ping's
 * PING carries, an 8-byte cookie (VIRTIO_OM_PING_SIZE); the server sends
 * every datagram back to where it came from.
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
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_om.h>

#include "rtt-stats.h"

#define DEFAULT_PORT 7777

/* The server echoes datagrams of any size; the client's replies are this. */
static unsigned char buf[65536];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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

/* Decimal in [min, max], nothing else; 0 or -EINVAL. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
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

enum wait_result { GOT_REPLY, TIMED_OUT, NO_SERVER, FAILED };

/* Waits for the reply carrying cookie, until deadline (ms); older ones are skipped. */
static enum wait_result wait_reply(int fd, uint64_t cookie, double deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		double left = deadline - now_ms();
		uint64_t echoed;
		ssize_t n;

		if (left <= 0)
			return TIMED_OUT;
		if (poll(&p, 1, (int)left + 1) < 0) {
			if (errno == EINTR)
				continue;
			perror("om-udp-ping: poll");
			return FAILED;
		}
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			if (n != sizeof(echoed))
				continue;
			memcpy(&echoed, buf, sizeof(echoed));
			if (le64toh(echoed) == cookie)
				return GOT_REPLY;
		}
		/* The peer's ICMP "port unreachable", reported on a connected socket. */
		if (errno == ECONNREFUSED)
			return NO_SERVER;
		if (errno != EAGAIN && errno != EINTR) {
			perror("om-udp-ping: receive");
			return FAILED;
		}
	}
}

/* xorshift64*: the high half of each cookie, so a stale reply never matches. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

int main(int argc, char **argv)
{
	uint32_t count = 1, interval = 1000, timeout = 1000, port = DEFAULT_PORT, sent = 0;
	int opt, fd, rc, quiet = 0, server = 0;
	const char *name;
	struct sockaddr_storage addr;
	struct rtt_samples rtts;
	socklen_t addr_len;
	uint64_t rnd;

	while ((opt = getopt(argc, argv, "c:i:t:p:qsh")) != -1) {
		rc = 0;
		switch (opt) {
		case 'c':
			rc = parse_u32(optarg, 1, UINT32_MAX, &count);
			break;
		case 'i':
			rc = parse_u32(optarg, 0, 3600000, &interval);
			break;
		case 't':
			rc = parse_u32(optarg, 1, 3600000, &timeout);
			break;
		case 'p':
			rc = parse_u32(optarg, 1, 65535, &port);
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			server = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc) {
			fprintf(stderr, "om-udp-ping: bad value for -%c: %s\n", opt, optarg);
			return 2;
		}
	}
	if (optind < argc - 1 || (!server && optind != argc - 1)) {
		usage(stderr);
		return 2;
	}
	name = optind < argc ? argv[optind] : "0.0.0.0";
	if (parse_address(name, (uint16_t)port, &addr, &addr_len)) {
		fprintf(stderr, "om-udp-ping: '%s' is not a numeric IPv4 or IPv6 address\n", name);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (server)
		return serve(&addr, addr_len, name, port);

	/* Every time is kept: the median and p99 need them all. */
	if (rtt_samples_init(&rtts, count)) {
		fprintf(stderr, "om-udp-ping: no memory to keep %u round-trip times\n", count);
		return 2;
	}
	/* Connected: only the server's datagrams arrive, and its ICMP errors. */
	fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addr_len) < 0) {
		fprintf(stderr, "om-udp-ping: %s port %u: %s\n", name, port, strerror(errno));
		return 2;
	}
	rnd = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ 0x9e3779b97f4a7c15ull;
	if (!quiet)
		printf("PING %s port %u (udp): %d data bytes\n", name, port, VIRTIO_OM_PING_SIZE);

	for (uint32_t i = 1; i <= count; i++) {
		uint64_t cookie = (next_random(&rnd) & ~0xffffffffull) | i, le = htole64(cookie);
		double t0 = now_ms();
		enum wait_result r;
		ssize_t n;

		while ((n = send(fd, &le, sizeof(le), 0)) < 0 && errno == EINTR)
			;
		if (n < 0 && errno == ECONNREFUSED) {
			r = NO_SERVER;
		} else if (n < 0) {
			fprintf(stderr, "om-udp-ping: send to %s: %s\n", name, strerror(errno));
			return 2;
		} else {
			sent++;
			r = wait_reply(fd, cookie, t0 + timeout);
		}
		if (r == GOT_REPLY) {
			double rtt = now_ms() - t0;

			rtt_samples_add(&rtts, rtt); /* one per request: never beyond count */
			if (!quiet)
				printf("%d bytes from %s: seq=%u time=%.3f ms\n", VIRTIO_OM_PING_SIZE,
				       name, i, rtt);
		} else if (r == TIMED_OUT) {
			if (!quiet)
				printf("no reply from %s: seq=%u (timeout %u ms)\n", name, i, timeout);
		} else {
			if (r == NO_SERVER)
				fprintf(stderr, "om-udp-ping: nothing listens on %s port %u\n", name,
					port);
			break;
		}
		if (i < count && interval) {
			double until = t0 + interval;

			while (now_ms() < until)
				usleep((useconds_t)((until - now_ms()) * 1000) + 1);
		}
	}

	printf("--- %s udp ping statistics ---\n", name);
	rtt_print_summary(stdout, sent, &rtts);
	rc = rtts.n == count ? 0 : 1;
	rtt_samples_free(&rtts);
	close(fd);
	return rc;
}
