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
 * Prints each round trip, then the summary om-udp-ping prints too: the two
 * share their options and the run itself (ping-run.h), so the two
 * transports compare line for line.
 * Exit: 0 when every ping was answered, 1 when one was not (timeout, node
 * down), 2 on a usage or setup error. The server runs until killed; 2 when
 * it cannot start, 1 when it cannot go on.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kcom-dev.h"
#include "mono-time.h"
#include "parse-u32.h"
#include "ping-run.h"
#include "traffic.h"

static unsigned char buf[OM_KCOM_MSG_MAX];

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

/* The node pinged, through this process's port on /dev/om-kcom. */
struct kcom_peer {
	int fd;
	uint32_t node;
	uint32_t port;	     /* with -p, the echoing process's; 0: node's kernel */
	uint32_t timeout_ms; /* also how long a full send queue is waited on */
	uint64_t cookie;     /* of the ping waiting for its echo */
	uint64_t rnd;
};

static enum ping_step send_ping(void *ctx, uint32_t seq)
{
	struct kcom_peer *p = ctx;
	struct om_msg_hdr h = {
		.type = p->port ? VIRTIO_OM_T_TEST_DATA : VIRTIO_OM_T_PING,
		.dst_node = p->node,
		.dst_pid = p->port,
	};
	uint64_t le;
	int rc;

	p->cookie = (tr_rand(&p->rnd) & ~0xffffffffull) | seq;
	le = htole64(p->cookie);
	rc = kc_send(p->fd, &h, &le, sizeof(le));
	if (rc == -EAGAIN) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };

		poll(&pfd, 1, (int)p->timeout_ms);
		rc = kc_send(p->fd, &h, &le, sizeof(le));
	}
	if (rc) {
		fprintf(stderr, "om-ping: send to node %u: %s\n", p->node, strerror(-rc));
		return PING_FATAL;
	}
	return PING_DONE;
}

/*
 * Waits for the echo of the cookie from the node, until deadline (ms): a
 * PONG from its kernel, or with a port, a TEST_DATA from that port.
 */
static enum ping_step wait_pong(void *ctx, uint32_t seq, double deadline)
{
	const struct kcom_peer *p = ctx;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	struct virtio_om_node_event ev;
	struct om_msg_hdr h;
	uint64_t echoed;
	int off;

	(void)seq; /* the cookie carries it */
	for (;;) {
		double left = deadline - mono_now_ms();

		if (left <= 0)
			return PING_TIMEOUT;
		if (poll(&pfd, 1, (int)left + 1) < 0) {
			if (errno == EINTR)
				continue;
			perror("om-ping: poll");
			return PING_STOP;
		}
		while ((off = kc_recv(p->fd, &h, buf, sizeof(buf))) >= 0) {
			bool echo = p->port ?
				h.type == VIRTIO_OM_T_TEST_DATA && h.src_pid == p->port :
				h.type == VIRTIO_OM_T_PONG;

			if (echo && h.src_node == p->node && h.len == sizeof(echoed)) {
				memcpy(&echoed, buf + off, sizeof(echoed));
				if (le64toh(echoed) == p->cookie)
					return PING_DONE;
			} else if (h.type == VIRTIO_OM_T_NODE_DOWN && h.len == sizeof(ev)) {
				memcpy(&ev, buf + off, sizeof(ev));
				if (le32toh(ev.node) == p->node) {
					fprintf(stderr, "om-ping: node %u went down (%s)\n", p->node,
						kc_reason_name(le32toh(ev.reason)));
					return PING_STOP;
				}
			}
		}
		if (off != -EAGAIN) {
			fprintf(stderr, "om-ping: read: %s\n", strerror(-off));
			return PING_STOP;
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
	struct ping_run run = {
		.prog = "om-ping",
		.what = "ping",
		.out = stdout,
		.opt = PING_OPTIONS_DEFAULTS,
	};
	struct kcom_peer peer = { 0 };
	const struct ping_transport kcom = { send_ping, wait_pong, &peer };
	struct om_kcom_info info;
	char peer_name[sizeof("node 4294967295")];
	int rc;

	rc = ping_parse_options(argc, argv, run.prog, UINT32_MAX, usage, &run.opt);
	if (rc != PING_OPTIONS_PARSED)
		return rc;
	peer.port = run.opt.port;
	peer.timeout_ms = run.opt.timeout_ms;
	if (run.opt.serve) {
		if (optind != argc || !peer.port) {
			usage(stderr);
			return 2;
		}
		return serve(peer.port);
	}
	if (optind != argc - 1 || parse_u32(argv[optind], 1, VIRTIO_OM_MAX_NODES, &peer.node)) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = ping_run_prepare(&run);
	if (rc)
		return rc;

	peer.fd = kc_open(0, O_NONBLOCK);
	if (peer.fd < 0) {
		fprintf(stderr, "om-ping: %s: %s\n", kc_dev_path(), strerror(-peer.fd));
		return 2;
	}
	rc = kc_info(peer.fd, &info);
	if (rc || !info.port) {
		fprintf(stderr, "om-ping: %s\n", rc ? strerror(-rc) : "no port bound");
		return 2;
	}
	peer.rnd = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	if (!run.opt.quiet && peer.port)
		printf("PING node %u port %u from node %u: %d data bytes\n", peer.node, peer.port,
		       info.node_id, VIRTIO_OM_PING_SIZE);
	else if (!run.opt.quiet)
		printf("PING node %u from node %u: %d data bytes\n", peer.node, info.node_id,
		       VIRTIO_OM_PING_SIZE);

	snprintf(peer_name, sizeof(peer_name), "node %u", peer.node);
	run.peer = peer_name;
	rc = ping_run(&run, &kcom);
	close(peer.fd);
	return rc;
}
