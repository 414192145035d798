// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-ping: round trips to another node over virtio-om, like ping(8). Each
 * PING carries a cookie; the receiving kernel answers with a PONG that
 * echoes it, addressed to this process's port.
 *
 * With -p PORT the echo comes from a process instead: the request is a
 * TEST_DATA message to PORT at NODE, where `om-ping -s -p PORT` sends it
 * back to its sender's port. That is the shape of a UDP ping-pong between
 * two processes (om-udp-ping), for comparing the two transports like for
 * like; the payload is the same 8-byte cookie either way.
 *
 * usage: om-ping [-c COUNT] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-p PORT] [-q] NODE
 *        om-ping -s -p PORT
 * Prints each round trip, then the summary om-udp-ping prints too
 * (rtt-stats.h), so the two transports compare line for line.
 * Exit: 0 when every ping was answered, 1 when one was not (timeout, node
 * down), 2 on a usage or setup error. The server runs until killed; 2 when
 * it cannot start, 1 when it cannot go on.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kcom-dev.h"
#include "rtt-stats.h"
#include "traffic.h"

static unsigned char buf[OM_KCOM_MSG_MAX];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: om-ping [-c COUNT] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-p PORT] [-q] NODE\n"
		   "       om-ping -s -p PORT\n"
		   "  -c COUNT       pings to send (default 1)\n"
		   "  -i INTERVAL_MS time between pings (default 1000)\n"
		   "  -t TIMEOUT_MS  how long to wait for each pong (default 1000)\n"
		   "  -p PORT        the echo comes from `om-ping -s -p PORT` at NODE,\n"
		   "                 not from NODE's kernel\n"
		   "  -s             serve: send every 8-byte TEST_DATA to PORT back\n"
		   "  -q             print the summary only\n");
}

enum wait_result { GOT_PONG, TIMED_OUT, NODE_DOWN, FAILED };

/*
 * Waits for the echo of cookie from node, until deadline (ms): a PONG from
 * its kernel, or with port set, a TEST_DATA from that port.
 */
static enum wait_result wait_pong(int fd, uint32_t node, uint32_t port, uint64_t cookie,
				  double deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct virtio_om_node_event ev;
	struct om_msg_hdr h;
	uint64_t echoed;
	int off;

	for (;;) {
		double left = deadline - now_ms();

		if (left <= 0)
			return TIMED_OUT;
		if (poll(&p, 1, (int)left + 1) < 0) {
			if (errno == EINTR)
				continue;
			perror("om-ping: poll");
			return FAILED;
		}
		while ((off = kc_recv(fd, &h, buf, sizeof(buf))) >= 0) {
			bool echo = port ? h.type == VIRTIO_OM_T_TEST_DATA && h.src_pid == port :
					   h.type == VIRTIO_OM_T_PONG;

			if (echo && h.src_node == node && h.len == sizeof(echoed)) {
				memcpy(&echoed, buf + off, sizeof(echoed));
				if (le64toh(echoed) == cookie)
					return GOT_PONG;
			} else if (h.type == VIRTIO_OM_T_NODE_DOWN && h.len == sizeof(ev)) {
				memcpy(&ev, buf + off, sizeof(ev));
				if (le32toh(ev.node) == node) {
					fprintf(stderr, "om-ping: node %u went down (%s)\n", node,
						kc_reason_name(le32toh(ev.reason)));
					return NODE_DOWN;
				}
			}
		}
		if (off != -EAGAIN) {
			fprintf(stderr, "om-ping: read: %s\n", strerror(-off));
			return FAILED;
		}
	}
}

/* -s: sends every ping-sized TEST_DATA to port back where it came from. */
static int serve(uint32_t port)
{
	int fd = kc_open(port, 0), rc;

	if (fd < 0) {
		fprintf(stderr, "om-ping: %s, port %u: %s\n", kc_dev_path(), port, strerror(-fd));
		return 2;
	}
	printf("om-ping: echoing on port %u\n", port);
	fflush(stdout);
	for (;;) {
		struct om_msg_hdr h, reply = { .type = VIRTIO_OM_T_TEST_DATA };

		rc = kc_recv(fd, &h, buf, sizeof(buf));
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "om-ping: read: %s\n", strerror(-rc));
			close(fd);
			return 1;
		}
		/* Node events arrive on every port: only requests are answered. */
		if (h.type != VIRTIO_OM_T_TEST_DATA || h.len != VIRTIO_OM_PING_SIZE)
			continue;
		reply.dst_node = h.src_node;
		reply.dst_pid = h.src_pid;
		/*
		 * An echo that cannot go is lost, as a datagram would be: the
		 * sender's time-out counts it. Said here, so it is not silent.
		 */
		rc = kc_send(fd, &reply, buf + rc, h.len);
		if (rc)
			fprintf(stderr, "om-ping: echo to node %u: %s\n", h.src_node, strerror(-rc));
	}
}

int main(int argc, char **argv)
{
	uint32_t count = 1, interval = 1000, timeout = 1000, port = 0, node, sent = 0;
	struct rtt_samples rtts;
	struct om_kcom_info info;
	uint64_t rnd;
	int opt, fd, rc, quiet = 0, server = 0;

	while ((opt = getopt(argc, argv, "c:i:t:p:qsh")) != -1) {
		switch (opt) {
		case 'c':
			rc = kc_parse_u32(optarg, 1, UINT32_MAX, &count);
			break;
		case 'i':
			rc = kc_parse_u32(optarg, 0, 3600000, &interval);
			break;
		case 't':
			rc = kc_parse_u32(optarg, 1, 3600000, &timeout);
			break;
		case 'p':
			rc = kc_parse_u32(optarg, 1, UINT32_MAX, &port);
			break;
		case 'q':
			quiet = 1;
			rc = 0;
			break;
		case 's':
			server = 1;
			rc = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc) {
			fprintf(stderr, "om-ping: bad value for -%c: %s\n", opt, optarg);
			return 2;
		}
	}
	if (server) {
		if (optind != argc || !port) {
			usage(stderr);
			return 2;
		}
		return serve(port);
	}
	if (optind != argc - 1 ||
	    kc_parse_u32(argv[optind], 1, VIRTIO_OM_MAX_NODES, &node)) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Every time is kept: the median and p99 need them all. */
	if (rtt_samples_init(&rtts, count)) {
		fprintf(stderr, "om-ping: no memory to keep %u round-trip times\n", count);
		return 2;
	}

	fd = kc_open(0, O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "om-ping: %s: %s\n", kc_dev_path(), strerror(-fd));
		return 2;
	}
	rc = kc_info(fd, &info);
	if (rc || !info.port) {
		fprintf(stderr, "om-ping: %s\n", rc ? strerror(-rc) : "no port bound");
		return 2;
	}
	rnd = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	if (!quiet && port)
		printf("PING node %u port %u from node %u: %d data bytes\n", node, port,
		       info.node_id, VIRTIO_OM_PING_SIZE);
	else if (!quiet)
		printf("PING node %u from node %u: %d data bytes\n", node, info.node_id,
		       VIRTIO_OM_PING_SIZE);

	for (uint32_t i = 1; i <= count; i++) {
		struct om_msg_hdr h = {
			.type = port ? VIRTIO_OM_T_TEST_DATA : VIRTIO_OM_T_PING,
			.dst_node = node,
			.dst_pid = port,
		};
		uint64_t cookie = (tr_rand(&rnd) & ~0xffffffffull) | i, le = htole64(cookie);
		double t0 = now_ms();
		enum wait_result r;

		rc = kc_send(fd, &h, &le, sizeof(le));
		if (rc == -EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, (int)timeout);
			rc = kc_send(fd, &h, &le, sizeof(le));
		}
		if (rc) {
			fprintf(stderr, "om-ping: send to node %u: %s\n", node, strerror(-rc));
			return 2;
		}
		sent++;
		r = wait_pong(fd, node, port, cookie, t0 + timeout);
		if (r == GOT_PONG) {
			double rtt = now_ms() - t0;

			rtt_samples_add(&rtts, rtt); /* one per ping: never beyond count */
			if (!quiet)
				printf("%d bytes from node %u: seq=%u time=%.3f ms\n",
				       VIRTIO_OM_PING_SIZE, node, i, rtt);
		} else if (r == TIMED_OUT) {
			if (!quiet)
				printf("no reply from node %u: seq=%u (timeout %u ms)\n", node, i,
				       timeout);
		} else {
			break;
		}
		if (i < count && interval) {
			double until = t0 + interval;

			while (now_ms() < until)
				usleep((useconds_t)((until - now_ms()) * 1000) + 1);
		}
	}

	printf("--- node %u ping statistics ---\n", node);
	rtt_print_summary(stdout, sent, &rtts);
	rc = rtts.n == count ? 0 : 1;
	rtt_samples_free(&rtts);
	close(fd);
	return rc;
}
