// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-traffic: traffic generator and verifier for virtio-om. Run on every
 * node with the same options; each sends COUNT TEST_DATA messages of
 * random sizes to port PORT of every peer, and at the same time receives
 * and checks what every peer sends it: each message intact (traffic.h),
 * each peer's messages in order, none missing, none twice.
 *
 *   om-traffic --port 7000 --peers 1,2,3 --count 10000 --max-size 65536 --seed 1
 *
 * Before sending data to a peer it exchanges HELLO/ACK with it, so that no
 * message goes to a port not yet bound (which the kernel would drop). One
 * thread drives a non-blocking descriptor with poll(): it never stops
 * reading while it waits to send, so no load deadlocks it.
 *
 * Prints "to N: S sent" and "from N: K ok, B bad, M missing, O out-of-order,
 * D duplicates" per peer, then PASS or FAIL. Exit: 0 on PASS, 1 on FAIL,
 * 2 on a usage or setup error. A peer that goes down is waited for
 * --down-grace seconds: if it comes back RECONNECTED (the relay or its link
 * restarted) the exchange goes on; if it comes back afresh (JOINED: its
 * om-traffic is gone) or stays down longer, it is given up and the run
 * fails. --events prints node up/down events as they
 * arrive; with no --peers it only does that, until --timeout or a signal.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcom-dev.h"
#include "mono-time.h"
#include "parse-u32.h"
#include "traffic.h"

#define HELLO_INTERVAL_MS 200
#define READ_BUDGET 256
#define SEND_BUDGET 64
#define MAX_BAD_REPORTS 10

struct peer {
	uint32_t node;
	bool acked;	  /* it is bound to the port: data may go */
	bool need_ack;	  /* it said hello: answer */
	bool down;	  /* it is down now: wait for it to reconnect */
	double down_at;	  /* when it went down (ms) */
	bool lost;	  /* it came back afresh: its om-traffic is gone */
	uint64_t next;	  /* next seq to send, 1..count */
	uint64_t sent;
	uint8_t *seen;	  /* bit per seq received */
	uint64_t ok, bad, dup, ooo, max_seen;
};

static struct {
	uint32_t port, count, max_size, min_size, timeout_s, down_grace_s, self;
	uint64_t seed;
	bool events, timeout_set;
	struct peer *peers;
	unsigned int npeers;
	struct peer *by_node[VIRTIO_OM_MAX_NODES + 1];
	uint64_t stray, bad_reports;
	unsigned int rr; /* round-robin position for data */
} t = {
	.port = 7000, .count = 1000, .max_size = 65536, .min_size = 1,
	.timeout_s = 60, .down_grace_s = 10, .seed = 1,
};

static unsigned char rbuf[OM_KCOM_MSG_MAX];
static unsigned char sbuf[VIRTIO_OM_MAX_PAYLOAD];
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: om-traffic [--port P] [--peers N,N,...] [--count C] [--max-size B]\n"
		"                  [--min-size B] [--seed S] [--timeout SEC] [--down-grace SEC]\n"
		"                  [--events]\n"
		"  --port P      port to bind and to send to (default 7000)\n"
		"  --peers LIST  nodes to exchange with; this node is skipped\n"
		"  --count C     messages to send to each peer (default 1000)\n"
		"  --max-size B  largest payload (default 65536, at most the device's)\n"
		"  --min-size B  smallest payload (default 1)\n"
		"  --seed S      seed of sizes and contents, the same on every node (default 1)\n"
		"  --timeout SEC give up after SEC s without progress (default 60;\n"
		"                with --events alone, stop after SEC s; 0: never)\n"
		"  --down-grace SEC  how long a peer may stay down and come back\n"
		"                (reconnected) before it is given up (default 10)\n"
		"  --events      print node up/down events as they arrive\n");
}

static int parse_peers(char *list)
{
	char *save = NULL, *tok;
	uint32_t node;

	t.peers = calloc(VIRTIO_OM_MAX_NODES, sizeof(*t.peers));
	if (!t.peers)
		return -ENOMEM;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_u32(tok, 1, VIRTIO_OM_MAX_NODES, &node))
			return -EINVAL;
		if (t.by_node[node])
			continue;
		t.peers[t.npeers].node = node;
		t.by_node[node] = &t.peers[t.npeers++];
	}
	return 0;
}

/* Drops this node from the peers (the same command runs on every node). */
static int setup_peers(void)
{
	unsigned int i, j = 0;

	memset(t.by_node, 0, sizeof(t.by_node));
	for (i = 0; i < t.npeers; i++) {
		if (t.peers[i].node == t.self)
			continue;
		t.peers[j] = t.peers[i];
		t.peers[j].next = 1;
		t.peers[j].seen = calloc(t.count / 8 + 1, 1);
		if (!t.peers[j].seen)
			return -ENOMEM;
		t.by_node[t.peers[j].node] = &t.peers[j];
		j++;
	}
	t.npeers = j;
	return 0;
}

/* The size of data message seq from src to dst: the same on both sides. */
static uint32_t msg_size(uint32_t src, uint32_t dst, uint64_t seq)
{
	uint64_t r = tr_pattern_seed(t.seed ^ 0x5153u, src, dst, seq);

	return t.min_size + (uint32_t)(r % (t.max_size - t.min_size + 1));
}

static int send_ctl(int fd, struct peer *p, enum tr_kind kind)
{
	struct tr_hdr th = { .kind = kind, .src = t.self, .dst = p->node, .len = TR_HDR_SIZE };
	struct om_msg_hdr h = { .type = VIRTIO_OM_T_TEST_DATA, .dst_node = p->node, .dst_pid = t.port };
	unsigned char b[TR_HDR_SIZE];

	tr_build(b, &th);
	return kc_send(fd, &h, b, sizeof(b));
}

/* The message prepared in sbuf, kept across EAGAIN. */
static struct {
	struct peer *p;
	uint32_t len;
} prep;

static bool data_left(const struct peer *p)
{
	return p->acked && !p->down && !p->lost && p->next <= t.count;
}

/* One message to send: an ACK first, else the next data message. */
static int send_one(int fd)
{
	struct om_msg_hdr h = { .type = VIRTIO_OM_T_TEST_DATA, .dst_pid = t.port };
	unsigned int i;
	int rc;

	for (i = 0; i < t.npeers; i++) {
		struct peer *p = &t.peers[i];

		if (p->need_ack && !p->down && !p->lost) {
			rc = send_ctl(fd, p, TR_ACK);
			if (!rc)
				p->need_ack = false;
			return rc;
		}
	}
	if (prep.p && !data_left(prep.p))
		prep.p = NULL; /* went down meanwhile: built again when it is back */
	if (!prep.p) {
		for (i = 0; i < t.npeers; i++) {
			struct peer *p = &t.peers[(t.rr + i) % t.npeers];
			struct tr_hdr th = { .kind = TR_DATA, .src = t.self };

			if (!data_left(p))
				continue;
			th.dst = p->node;
			th.seq = p->next;
			th.pattern = tr_pattern_seed(t.seed, t.self, p->node, p->next);
			th.len = msg_size(t.self, p->node, p->next);
			if (th.len < TR_HDR_SIZE)
				tr_build_short(sbuf, th.len, th.pattern);
			else
				tr_build(sbuf, &th);
			prep.p = p;
			prep.len = th.len;
			t.rr = (t.rr + i + 1) % t.npeers;
			break;
		}
		if (!prep.p)
			return -ENOENT; /* nothing to send now */
	}
	h.dst_node = prep.p->node;
	rc = kc_send(fd, &h, sbuf, prep.len);
	if (rc == -EAGAIN)
		return rc;
	if (rc) {
		fprintf(stderr, "om-traffic: send to node %u: %s\n", prep.p->node, strerror(-rc));
		return rc;
	}
	prep.p->next++;
	prep.p->sent++;
	prep.p = NULL;
	return 0;
}

static void report_bad(uint32_t node, const char *what)
{
	if (t.bad_reports++ < MAX_BAD_REPORTS)
		fprintf(stderr, "om-traffic: bad message from node %u: %s\n", node, what);
}

static void on_data(struct peer *p, const struct tr_hdr *th)
{
	uint64_t seq = th->seq;

	if (th->src != p->node || th->dst != t.self || seq < 1 || seq > t.count) {
		p->bad++;
		report_bad(p->node, "wrong source, destination or seq");
		return;
	}
	if (p->seen[seq / 8] & (1u << (seq % 8))) {
		p->dup++;
		return;
	}
	p->seen[seq / 8] |= 1u << (seq % 8);
	p->ok++;
	if (seq < p->max_seen)
		p->ooo++;
	else
		p->max_seen = seq;
}

static void on_event(const struct om_msg_hdr *h, const unsigned char *payload)
{
	struct virtio_om_node_event ev;
	bool up = h->type == VIRTIO_OM_T_NODE_UP;
	uint32_t node, reason;
	struct peer *p;

	if (h->len != sizeof(ev))
		return;
	memcpy(&ev, payload, sizeof(ev));
	node = le32toh(ev.node);
	reason = le32toh(ev.reason);
	if (t.events)
		printf("event: node %u %s (%s)\n", node, up ? "up" : "down", kc_reason_name(reason));
	p = node <= VIRTIO_OM_MAX_NODES ? t.by_node[node] : NULL;
	if (!p || p->lost)
		return;
	if (!up && !p->down) {
		p->down = true;
		p->down_at = mono_now_ms();
		fprintf(stderr, "om-traffic: peer %u went down (%s)\n", node,
			kc_reason_name(reason));
	} else if (up && p->down) {
		/* Reconnected: it kept its state. Anything else is a new node. */
		p->down = false;
		p->lost = reason != VIRTIO_OM_NODE_RECONNECTED;
		fprintf(stderr, "om-traffic: peer %u is back (%s)%s\n", node,
			kc_reason_name(reason), p->lost ? ": giving up on it" : "");
	}
}

static void on_message(int fd, const struct om_msg_hdr *h, const unsigned char *payload)
{
	struct tr_hdr th;
	enum tr_verdict v;
	struct peer *p;

	(void)fd;
	if (h->src_node == VIRTIO_OM_NODE_HOST) {
		on_event(h, payload);
		return;
	}
	p = h->src_node <= VIRTIO_OM_MAX_NODES ? t.by_node[h->src_node] : NULL;
	if (h->type != VIRTIO_OM_T_TEST_DATA || !p) {
		t.stray++;
		return;
	}
	if (h->len < TR_HDR_SIZE) {
		/* Short: it must be the next one this peer sends, exactly. */
		uint64_t seq = p->max_seen + 1;

		th = (struct tr_hdr){ .kind = TR_DATA, .src = p->node, .dst = t.self, .seq = seq,
				      .len = h->len };
		if (seq > t.count || h->len != msg_size(p->node, t.self, seq) ||
		    !tr_check_short(payload, h->len,
				    tr_pattern_seed(t.seed, p->node, t.self, seq))) {
			p->bad++;
			report_bad(p->node, "short message is not the next one expected");
			return;
		}
		on_data(p, &th);
		return;
	}
	v = tr_check(payload, h->len, &th);
	if (v != TR_OK) {
		p->bad++;
		report_bad(p->node, tr_verdict_name(v));
		return;
	}
	switch (th.kind) {
	case TR_HELLO:
		p->need_ack = true;
		break;
	case TR_ACK:
		p->acked = true;
		break;
	case TR_DATA:
		on_data(p, &th);
		break;
	default:
		p->bad++;
		report_bad(p->node, "unknown kind");
	}
}

static bool finished(void)
{
	unsigned int i;

	if (!t.npeers)
		return false; /* events only: until a signal or the timeout */
	for (i = 0; i < t.npeers; i++) {
		const struct peer *p = &t.peers[i];

		if (p->lost)
			continue;
		if (p->down || p->need_ack || p->next <= t.count || p->ok < t.count)
			return false;
	}
	return true;
}

static bool want_send(void)
{
	unsigned int i;

	if (prep.p)
		return true;
	for (i = 0; i < t.npeers; i++)
		if ((t.peers[i].need_ack && !t.peers[i].down && !t.peers[i].lost) ||
		    data_left(&t.peers[i]))
			return true;
	return false;
}

static int run(int fd)
{
	double last_progress = mono_now_ms(), next_hello = 0, now;
	struct pollfd pfd = { .fd = fd };
	struct om_msg_hdr h;
	unsigned int i;
	int rc, wait_ms;

	while (!finished() && !stop_signal) {
		now = mono_now_ms();
		if (now >= next_hello) {
			for (i = 0; i < t.npeers; i++)
				if (!t.peers[i].acked && !t.peers[i].down && !t.peers[i].lost)
					send_ctl(fd, &t.peers[i], TR_HELLO);
			next_hello = now + HELLO_INTERVAL_MS;
		}
		for (i = 0; i < t.npeers; i++) {
			struct peer *p = &t.peers[i];

			if (p->down && !p->lost && now - p->down_at > t.down_grace_s * 1e3) {
				p->lost = true;
				fprintf(stderr, "om-traffic: peer %u down for %u s: giving up on it\n",
					p->node, t.down_grace_s);
			}
		}
		if (t.timeout_s && now - last_progress > t.timeout_s * 1e3) {
			if (t.npeers)
				fprintf(stderr, "om-traffic: no progress for %u s, giving up\n",
					t.timeout_s);
			return t.npeers ? -ETIMEDOUT : 0;
		}

		pfd.events = POLLIN | (want_send() ? POLLOUT : 0);
		wait_ms = t.npeers ? (int)(next_hello - now) + 1 : 1000;
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
			perror("om-traffic: poll");
			return -errno;
		}

		for (i = 0; i < READ_BUDGET; i++) {
			rc = kc_recv(fd, &h, rbuf, sizeof(rbuf));
			if (rc == -EAGAIN)
				break;
			if (rc < 0) {
				fprintf(stderr, "om-traffic: read: %s\n", strerror(-rc));
				return rc;
			}
			on_message(fd, &h, rbuf + rc);
			if (t.npeers)
				last_progress = mono_now_ms();
		}
		for (i = 0; i < SEND_BUDGET; i++) {
			rc = send_one(fd);
			if (rc == -EAGAIN || rc == -ENOENT)
				break;
			if (rc < 0)
				return rc;
			last_progress = mono_now_ms();
		}
	}
	return 0;
}

static bool summary(void)
{
	bool pass = true;
	unsigned int i;

	for (i = 0; i < t.npeers; i++) {
		const struct peer *p = &t.peers[i];
		uint64_t missing = t.count - p->ok;

		printf("to %u: %llu sent\n", p->node, (unsigned long long)p->sent);
		printf("from %u: %llu ok, %llu bad, %llu missing, %llu out-of-order, %llu duplicates%s\n",
		       p->node, (unsigned long long)p->ok, (unsigned long long)p->bad,
		       (unsigned long long)missing, (unsigned long long)p->ooo,
		       (unsigned long long)p->dup,
		       p->down ? " (peer down)" : p->lost ? " (peer restarted)" : "");
		if (p->sent != t.count || missing || p->bad || p->ooo || p->dup || p->down ||
		    p->lost)
			pass = false;
	}
	if (t.stray) {
		printf("stray: %llu messages from non-peers or of other types\n",
		       (unsigned long long)t.stray);
		pass = false;
	}
	printf("om-traffic: %s\n", pass ? "PASS" : "FAIL");
	return pass;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "peers", required_argument, NULL, 'P' },
		{ "count", required_argument, NULL, 'c' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "min-size", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "down-grace", required_argument, NULL, 'g' },
		{ "events", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct om_kcom_info info;
	struct sigaction sa = { .sa_handler = on_signal };
	char *peers = NULL, *end;
	int opt, rc = 0, fd;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			rc = parse_u32(optarg, 1, UINT32_MAX, &t.port);
			break;
		case 'P':
			peers = optarg;
			break;
		case 'c':
			rc = parse_u32(optarg, 0, 1u << 30, &t.count);
			break;
		case 'M':
			rc = parse_u32(optarg, 1, VIRTIO_OM_MAX_PAYLOAD, &t.max_size);
			break;
		case 'm':
			rc = parse_u32(optarg, 1, VIRTIO_OM_MAX_PAYLOAD, &t.min_size);
			break;
		case 's':
			errno = 0;
			t.seed = strtoull(optarg, &end, 0);
			rc = errno || !*optarg || *end ? -EINVAL : 0;
			break;
		case 't':
			rc = parse_u32(optarg, 0, 86400, &t.timeout_s);
			t.timeout_set = true;
			break;
		case 'g':
			rc = parse_u32(optarg, 0, 86400, &t.down_grace_s);
			break;
		case 'e':
			t.events = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc) {
			fprintf(stderr, "om-traffic: bad value '%s'\n", optarg);
			return 2;
		}
	}
	if (optind != argc || (!peers && !t.events) || t.min_size > t.max_size) {
		usage(stderr);
		return 2;
	}
	if (peers && parse_peers(peers)) {
		fprintf(stderr, "om-traffic: bad --peers list\n");
		return 2;
	}
	if (!peers && !t.timeout_set)
		t.timeout_s = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = kc_open(t.port, O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "om-traffic: %s, port %u: %s\n", kc_dev_path(), t.port,
			strerror(-fd));
		return 2;
	}
	rc = kc_info(fd, &info);
	if (rc || !info.node_id) {
		fprintf(stderr, "om-traffic: %s\n", rc ? strerror(-rc) : "this node has no id yet");
		return 2;
	}
	t.self = info.node_id;
	if (t.max_size > info.max_payload)
		t.max_size = info.max_payload;
	if (t.min_size > t.max_size) {
		fprintf(stderr, "om-traffic: --min-size above the device's limit %u\n",
			info.max_payload);
		return 2;
	}
	if (setup_peers()) {
		perror("om-traffic");
		return 2;
	}
	if (t.npeers)
		printf("om-traffic: node %u port %u: %u messages of %u..%u bytes to each of %u peers\n",
		       t.self, t.port, t.count, t.min_size, t.max_size, t.npeers);

	rc = run(fd);
	close(fd);
	if (!t.npeers)
		return rc ? 1 : 0;
	if (rc && rc != -ETIMEDOUT)
		fprintf(stderr, "om-traffic: stopped: %s\n", strerror(-rc));
	return summary() && !rc ? 0 : 1;
}
