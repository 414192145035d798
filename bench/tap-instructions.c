// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tap's cost in instructions: omhostd's relay, in-process with its
 * guests simulated (tests/support/relay-harness.c), moves COUNT 64-byte
 * messages from node 1 to node 2 in batches, as a burst of kicks would;
 * with --listen a trace listener is attached and reads every record
 * between batches. relay-bench runs it under callgrind, counting only
 * inside rh_run() (the relay's work: rings, copies, the tap, publishing),
 * once built with the tap compiled out (tap-instructions-notrace), once
 * idle, once with the listener: instruction counts repeat exactly from
 * run to run, where this machine's timings spread by ±20 %.
 *
 * usage: tap-instructions [--listen] [COUNT]   (default 20000)
 * Exit status 0 when every message arrived intact (and, with --listen,
 * every record was read), 1 otherwise, with a message on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attach.h"
#include "parse-u32.h"
#include "relay-harness.h"

#define RING 256
#define BATCH (RING / 4) /* 3 descriptors a message: a batch fits the ring */
#define PAYLOAD 64

struct listener {
	struct om_trace_conn conn;
	unsigned long long records;
};

static int listener_attach(struct rh *h, struct listener *l)
{
	char err[200];
	int sv[2], null_fd, err_fd, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	/* The attach is logged on stderr: not this program's output. */
	err_fd = dup(2);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd >= 0)
		dup2(null_fd, 2);
	rc = om_trace_attach(&h->d, sv[0], "trace snaplen=128 buffer=4194304", true, err,
			     sizeof(err));
	if (err_fd >= 0) {
		dup2(err_fd, 2);
		close(err_fd);
	}
	if (null_fd >= 0)
		close(null_fd);
	if (rc) {
		fprintf(stderr, "tap-instructions: attach: %s\n", err);
		close(sv[0]);
		close(sv[1]);
		return rc;
	}
	rc = om_trace_conn_start(&l->conn, sv[1], 1000, err, sizeof(err));
	if (rc)
		fprintf(stderr, "tap-instructions: listener: %s\n", err);
	return rc;
}

static int listener_read(struct listener *l)
{
	struct om_trace_rec r;
	int rc;

	while ((rc = om_trace_conn_next(&l->conn, &r, 0)) == 1)
		l->records += r.kind == OM_TRACE_REC_MSG && r.h.src_node == 1;
	return rc == -ETIMEDOUT ? 0 : rc;
}

int main(int argc, char **argv)
{
	static unsigned char payload[PAYLOAD], buf[VIRTIO_OM_HDR_SIZE + PAYLOAD];
	struct listener l = { .records = 0 };
	bool listen = argc > 1 && !strcmp(argv[1], "--listen");
	uint32_t count = 20000;
	unsigned long long sent = 0, got = 0;
	struct rh h;
	int rc;

	if (argc > 1 + listen && (argc > 2 + listen || parse_u32(argv[1 + listen], 1, 1u << 30,
								  &count))) {
		fprintf(stderr, "usage: tap-instructions [--listen] [COUNT]\n");
		return 2;
	}
	rc = rh_init(&h, 2, RING);
	if (rc) {
		fprintf(stderr, "tap-instructions: %s\n", strerror(-rc));
		return 1;
	}
	if (listen && listener_attach(&h, &l)) {
		rh_free(&h);
		return 1;
	}
	while (sent < count) {
		unsigned int batch = count - sent < BATCH ? (unsigned int)(count - sent) : BATCH;

		for (unsigned int i = 0; i < batch; i++) {
			struct om_msg_hdr hdr = rh_hdr(VIRTIO_OM_T_TEST_DATA, 2, PAYLOAD);

			hdr.seq = sent + i + 1;
			memcpy(payload, &hdr.seq, sizeof(hdr.seq));
			rh_post_rx(&h, 2, VIRTIO_OM_HDR_SIZE + PAYLOAD);
			rh_send(&h, 1, &hdr, payload, 1); /* as the driver sends it */
		}
		rh_run(&h);
		sent += batch;
		for (size_t n; (n = rh_recv(&h, 2, buf, sizeof(buf))); got++) {
			unsigned long long seq;

			memcpy(&seq, buf + VIRTIO_OM_HDR_SIZE, sizeof(seq));
			if (n != sizeof(buf) || seq != got + 1) {
				fprintf(stderr, "tap-instructions: message %llu arrived wrong\n", got + 1);
				return 1;
			}
		}
		if (listen && listener_read(&l)) {
			fprintf(stderr, "tap-instructions: the listener's ring broke\n");
			return 1;
		}
	}
	if (got != count || (listen && l.records != count)) {
		fprintf(stderr, "tap-instructions: %llu of %u messages arrived, %llu records read\n",
			got, count, l.records);
		return 1;
	}
	printf("%llu messages relayed%s\n", got, listen ? ", each traced and read" : "");
	if (listen) {
		om_trace_close_all(&h.d);
		om_trace_conn_close(&l.conn);
	}
	rh_free(&h);
	return 0;
}
