// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two omhostd processes linked over loopback TCP, as two hosts' relays
 * (docs/omhostd.md "Links between hosts"): relay A serves nodes 1-2, relay
 * B nodes 3-4; synthetic front-ends (vu-frontend) play the guests. Node
 * events cross the link, messages cross both ways intact, once and in
 * order; a relay with the wrong key is refused and counted on both sides.
 * $OMHOSTD names the omhostd under test.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_om.h>

#include "control-client.h"
#include "vu-frontend.h"

#define TIMEOUT_MS 5000

struct relay {
	char dir[64];
	pid_t pid;
};

static char top[32];
static struct relay ra, rb;
static struct vuf *fe[5];
static uint16_t port;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_key(const char *path, const char *name, unsigned char fill)
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

static void relay_start(struct relay *r, const char *name, const char *nodes, const char *psk,
			const char *peer, bool listen)
{
	char log[96], listen_arg[32];
	const char *bin = getenv("OMHOSTD");
	pid_t parent = getpid();

	assert_non_null(bin);
	snprintf(log, sizeof(log), "%s/omhostd.log", r->dir);
	snprintf(listen_arg, sizeof(listen_arg), "127.0.0.1:%u", port);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		char *argv[16] = { "omhostd", "--dir", r->dir, "--nodes", (char *)nodes, "--name",
				   (char *)name, "--psk-file", (char *)psk, "--peer", (char *)peer };
		int i = 11;

		if (listen) {
			argv[i++] = "--listen";
			argv[i++] = listen_arg;
		}
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		execv(bin, argv);
		_exit(127);
	}
}

static void relay_stop(struct relay *r)
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

static void status(const struct relay *r, char *buf, size_t cap)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/control.sock", r->dir);
	if (om_ctl_ask(path, "status\n", 1000, buf, cap))
		buf[0] = '\0';
}

static uint64_t field(const char *buf, const char *line_start, const char *key)
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

/* Waits until r's status has want in it. */
static void wait_status(const struct relay *r, const char *want)
{
	long long deadline = now_ms() + TIMEOUT_MS;
	char buf[8192];

	for (;;) {
		status(r, buf, sizeof(buf));
		if (strstr(buf, want))
			return;
		if (now_ms() > deadline)
			fail_msg("%s: no '%s' in status:\n%s", r->dir, want, buf);
		usleep(10000);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/omlink-XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(ra.dir, sizeof(ra.dir), "%s/a", top);
	snprintf(rb.dir, sizeof(rb.dir), "%s/b", top);
	mkdir(ra.dir, 0700);
	mkdir(rb.dir, 0700);
	/* A port of our own per run: tests of parallel runs must not meet. */
	port = (uint16_t)(20000 + (getpid() * 7 + (unsigned int)now_ms()) % 20000);
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	for (int i = 0; i < 5; i++) {
		vuf_free(fe[i]);
		fe[i] = NULL;
	}
	if (ra.pid > 0)
		kill(ra.pid, SIGKILL), waitpid(ra.pid, NULL, 0);
	if (rb.pid > 0)
		kill(rb.pid, SIGKILL), waitpid(rb.pid, NULL, 0);
	ra.pid = rb.pid = 0;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void start_linked(unsigned char key_a, unsigned char key_b)
{
	char pa[96], pb[96], peer_a[64], peer_b[64];

	snprintf(pa, sizeof(pa), "%s/psk-a", top);
	snprintf(pb, sizeof(pb), "%s/psk-b", top);
	write_key(pa, "relay-b", key_a);
	write_key(pb, "relay-a", key_b);
	/* relay-a sorts first: it dials relay-b, which listens. */
	snprintf(peer_a, sizeof(peer_a), "relay-b=127.0.0.1:%u:3-4", port);
	snprintf(peer_b, sizeof(peer_b), "relay-a=127.0.0.1:1:1-2");
	relay_start(&rb, "relay-b", "3-4", pb, peer_b, true);
	wait_status(&rb, "listen=");
	relay_start(&ra, "relay-a", "1-2", pa, peer_a, false);
}

static struct vuf *frontend(const struct relay *r, uint32_t node)
{
	struct vuf *f;
	char path[128];

	assert_int_equal(vuf_new(&f, NULL), 0);
	snprintf(path, sizeof(path), "%s/node-%u.sock", r->dir, node);
	assert_int_equal(vuf_connect(f, path), 0);
	assert_int_equal(vuf_handshake(f), 0);
	assert_int_equal(vuf_node_id(f), node);
	return f;
}

static uint8_t buf[VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD];

/* The next message at f: its header (host order) and payload in buf. */
static void recv_msg(struct vuf *f, struct virtio_om_hdr *h)
{
	int n = vuf_recv_msg(f, buf, sizeof(buf), TIMEOUT_MS);

	if (n < (int)VIRTIO_OM_HDR_SIZE)
		fail_msg("no message within %d ms (%d)", TIMEOUT_MS, n);
	memcpy(h, buf, sizeof(*h));
	assert_int_equal(le32toh(h->len) + VIRTIO_OM_HDR_SIZE, (uint32_t)n);
}

static void expect_node_up(struct vuf *f, uint32_t about)
{
	struct virtio_om_hdr h;
	struct virtio_om_node_event ev;

	recv_msg(f, &h);
	assert_int_equal(le16toh(h.type), VIRTIO_OM_T_NODE_UP);
	assert_int_equal(le32toh(h.src_node), VIRTIO_OM_NODE_HOST);
	memcpy(&ev, buf + VIRTIO_OM_HDR_SIZE, sizeof(ev));
	assert_int_equal(le32toh(ev.node), about);
}

static void fill(uint8_t *p, uint32_t src, uint64_t seq, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(src * 31 + seq * 7 + i);
}

static void nodes_and_messages_cross_the_link_both_ways(void **state)
{
	static uint8_t payload[VIRTIO_OM_MAX_PAYLOAD], want[VIRTIO_OM_MAX_PAYLOAD];
	uint64_t next[5] = { 0, 1, 0, 1, 0 };
	char st[8192];

	(void)state;
	start_linked(0x11, 0x11);
	wait_status(&ra, "link=relay-b state=up");
	wait_status(&rb, "link=relay-a state=up");
	fe[1] = frontend(&ra, 1);
	fe[3] = frontend(&rb, 3);
	/* Each hears of the other, a node of another host, as of a local one. */
	expect_node_up(fe[3], 1);
	expect_node_up(fe[1], 3);
	/* Rounds of 16 each way, sizes up to the largest. */
	for (unsigned int round = 0; round < 25; round++) {
		for (uint32_t src = 1; src <= 3; src += 2) {
			uint32_t dst = 4 - src;

			for (unsigned int i = 0; i < 16; i++) {
				uint64_t seq = next[src]++;
				uint32_t len = (uint32_t)((seq * 2654435761u) % VIRTIO_OM_MAX_PAYLOAD);
				struct vuf_msg_opts o = { .seq = seq };

				fill(payload, src, seq, len);
				assert_int_equal(vuf_send_msg(fe[src], dst, VIRTIO_OM_T_TEST_DATA,
							      payload, len, &o), 0);
			}
		}
		for (uint32_t dst = 1; dst <= 3; dst += 2) {
			uint32_t src = 4 - dst;

			for (unsigned int i = 0; i < 16; i++) {
				struct virtio_om_hdr h;
				uint64_t seq = next[src] - 16 + i;
				uint32_t len = (uint32_t)((seq * 2654435761u) % VIRTIO_OM_MAX_PAYLOAD);

				recv_msg(fe[dst], &h);
				assert_int_equal(le16toh(h.type), VIRTIO_OM_T_TEST_DATA);
				assert_int_equal(le32toh(h.src_node), src);
				assert_int_equal(le32toh(h.dst_node), dst);
				assert_int_equal(le64toh(h.seq), seq);
				assert_int_equal(le32toh(h.len), len);
				fill(want, src, seq, len);
				assert_memory_equal(buf + VIRTIO_OM_HDR_SIZE, want, len);
			}
		}
	}
	status(&ra, st, sizeof(st));
	assert_int_equal(field(st, "link=relay-b", "data_tx"), 400);
	assert_int_equal(field(st, "link=relay-b", "data_rx"), 400);
	assert_int_equal(field(st, "link=relay-b", "cuts"), 0);
	assert_int_equal(field(st, "link=relay-b", "undeliverable"), 0);
	relay_stop(&ra);
	relay_stop(&rb);
}

static void a_relay_with_the_wrong_key_is_refused_and_counted(void **state)
{
	char st[8192];
	long long deadline;

	(void)state;
	start_linked(0x11, 0x22);
	deadline = now_ms() + TIMEOUT_MS;
	for (;;) {
		uint64_t a, b;

		/* (UINT64_MAX: that relay does not answer yet.) */
		status(&ra, st, sizeof(st));
		a = field(st, "link=relay-b", "auth_failed");
		assert_true(field(st, "link=relay-b", "connects") == 0 || a == UINT64_MAX);
		status(&rb, st, sizeof(st));
		b = field(st, "link=relay-a", "auth_failed");
		assert_true(field(st, "link=relay-a", "connects") == 0 || b == UINT64_MAX);
		if (a != UINT64_MAX && b != UINT64_MAX && a >= 2 && b >= 2)
			break;
		if (now_ms() > deadline)
			fail_msg("wrong key not refused twice on both sides:\n%s", st);
		usleep(20000);
	}
	relay_stop(&ra);
	relay_stop(&rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nodes_and_messages_cross_the_link_both_ways, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_relay_with_the_wrong_key_is_refused_and_counted,
						setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
