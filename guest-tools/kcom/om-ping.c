// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-ping: round trips to another node over virtio-om, like ping(8). Each
 * PING carries a cookie; the receiving kernel answers with a PONG that
 * echoes it, addressed to this process's port.
 *
 * usage: om-ping [-c COUNT] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-q] NODE
 * Exit: 0 when every ping was answered, 1 when one was not (timeout, node
 * down), 2 on a usage or setup error.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kcom-dev.h"
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
	fprintf(f, "usage: om-ping [-c COUNT] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-q] NODE\n"
		   "  -c COUNT       pings to send (default 1)\n"
		   "  -i INTERVAL_MS time between pings (default 1000)\n"
		   "  -t TIMEOUT_MS  how long to wait for each pong (default 1000)\n"
		   "  -q             print the summary only\n");
}

enum wait_result { GOT_PONG, TIMED_OUT, NODE_DOWN, FAILED };

/* Waits for the pong carrying cookie, until deadline (ms). */
static enum wait_result wait_pong(int fd, uint32_t node, uint64_t cookie, double deadline)
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
			if (h.type == VIRTIO_OM_T_PONG && h.src_node == node &&
			    h.len == sizeof(echoed)) {
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

int main(int argc, char **argv)
{
	uint32_t count = 1, interval = 1000, timeout = 1000, node, sent = 0, got = 0;
	double rtt_min = 0, rtt_max = 0, rtt_sum = 0;
	struct om_kcom_info info;
	uint64_t rnd;
	int opt, fd, rc, quiet = 0;

	while ((opt = getopt(argc, argv, "c:i:t:qh")) != -1) {
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
		case 'q':
			quiet = 1;
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
	if (optind != argc - 1 ||
	    kc_parse_u32(argv[optind], 1, VIRTIO_OM_MAX_NODES, &node)) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

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
	if (!quiet)
		printf("PING node %u from node %u: %d data bytes\n", node, info.node_id,
		       VIRTIO_OM_PING_SIZE);

	for (uint32_t i = 1; i <= count; i++) {
		struct om_msg_hdr h = { .type = VIRTIO_OM_T_PING, .dst_node = node };
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
		r = wait_pong(fd, node, cookie, t0 + timeout);
		if (r == GOT_PONG) {
			double rtt = now_ms() - t0;

			got++;
			rtt_sum += rtt;
			if (got == 1 || rtt < rtt_min)
				rtt_min = rtt;
			if (rtt > rtt_max)
				rtt_max = rtt;
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
	printf("%u transmitted, %u received, %u%% loss", sent, got,
	       sent ? (sent - got) * 100 / sent : 0);
	if (got)
		printf(", rtt min/avg/max = %.3f/%.3f/%.3f ms", rtt_min, rtt_sum / got, rtt_max);
	printf("\n");
	close(fd);
	return got == count ? 0 : 1;
}
