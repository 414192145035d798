// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the vhost-user messages a front-end sends, against an
 * omhostd node (its checks, then libvhost-user). The input is the byte
 * stream on the node's socket; omhostd must answer, refuse or disconnect,
 * and never crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "omhostd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_hostd d = { .control_fd = -1, .grace_fd = -1 };
	struct om_node *n;
	int sv[2];

	d.cfg = (struct om_hostd_config){ .dir = "/nonexistent", .first_node = 1, .last_node = 1,
					  .max_payload = VIRTIO_OM_MAX_PAYLOAD };
	if (om_loop_new(&d.loop) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	n = calloc(1, sizeof(*n));
	n->ctl = calloc(1, sizeof(*n->ctl));
	n->d = &d;
	n->id = 1;
	n->listen_fd = -1;
	n->sock_fd = n->reply_fd = n->timer_fd = -1;
	TAILQ_INIT(&n->waiters);
	d.nodes[1] = n;
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	if (om_node_attach(n, sv[0]) == 0) {
		/* Each call reads one message; the stream ends with EOF. */
		for (int i = 0; i < 64 && n->state != OM_NODE_ABSENT; i++) {
			om_node_dispatch(n);
			om_hostd_settle(&d);
		}
	}
	om_node_close(n);
	close(sv[1]);
	om_loop_free(d.loop);
	return 0;
}
