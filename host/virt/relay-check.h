/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whether omhostd serves a node, asked before its guest starts: a guest
 * whose relay is not there would wait in start-up for its virtio-om
 * back-end (QEMU retries the socket) instead of failing. The libvirt hook
 * (hook.c) refuses the start with the verdict's message.
 */
#ifndef OM_VIRT_RELAY_CHECK_H
#define OM_VIRT_RELAY_CHECK_H

#include <stddef.h>

enum omv_relay_verdict {
	OMV_RELAY_SERVES,      /* omhostd serves the node; no front-end holds it yet */
	OMV_RELAY_NO_SOCKET,   /* no DIR/node-N.sock: no omhostd there, or not for N */
	OMV_RELAY_NOT_RUNNING, /* the sockets are left, nothing answers on them */
	OMV_RELAY_NOT_SERVED,  /* the omhostd that answers does not serve N */
	OMV_RELAY_NODE_TAKEN,  /* another front-end (guest) already is node N */
};

/* DIR/node-N.sock into out; 0 or -ENAMETOOLONG (longer than a unix socket path). */
int omv_relay_node_socket(const char *dir, unsigned int node, char *out, size_t cap);

/*
 * Looks at relay directory dir for node: its socket, then omhostd's answer
 * on control.sock (each wait at most timeout_ms). Never connects to the
 * node's socket: omhostd would take that for the guest's front-end. The
 * verdict; unless OMV_RELAY_SERVES, msg says what is wrong and how to start
 * the relay.
 */
enum omv_relay_verdict omv_relay_check(const char *dir, unsigned int node, int timeout_ms,
				       char *msg, size_t cap);

#endif /* OM_VIRT_RELAY_CHECK_H */
