// SPDX-License-Identifier: GPL-2.0-only
#include "relay-check.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control-client.h"

int omv_relay_node_socket(const char *dir, unsigned int node, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/node-%u.sock", dir, node);

	return n < 0 || (size_t)n >= cap ||
			       (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path) ?
		       -ENAMETOOLONG :
		       0;
}

/* Every refusal ends with what to do about it. */
static enum omv_relay_verdict say(enum omv_relay_verdict v, char *msg, size_t cap,
				  const char *dir, unsigned int node, const char *what)
{
	if (v == OMV_RELAY_NODE_TAKEN)
		snprintf(msg, cap,
			 "omvm: node %u: %s; another guest is node %u: stop it, or give this "
			 "domain another node",
			 node, what, node);
	else
		snprintf(msg, cap,
			 "omvm: node %u: %s; start omhostd for node %u (the omhostd service, "
			 "or: omhostd --dir %s --nodes %u; docs/libvirt.md), then start the "
			 "domain again",
			 node, what, node, dir, node);
	return v;
}

enum omv_relay_verdict omv_relay_check(const char *dir, unsigned int node, int timeout_ms,
				       char *msg, size_t cap)
{
	char sock[PATH_MAX], ctl[PATH_MAX], what[PATH_MAX + 256], status[65536], v1[32], v2[64];
	struct stat st;
	int r;

	msg[0] = '\0';
	if (omv_relay_node_socket(dir, node, sock, sizeof(sock)) ||
	    om_ctl_socket_path(dir, ctl, sizeof(ctl))) {
		snprintf(what, sizeof(what), "the relay directory %s is too long for a socket path",
			 dir);
		return say(OMV_RELAY_NO_SOCKET, msg, cap, dir, node, what);
	}
	r = lstat(sock, &st) ? errno : !S_ISSOCK(st.st_mode) ? ENOTSOCK : 0;
	if (r) {
		snprintf(what, sizeof(what), "omhostd is not serving it: %s %s", sock,
			 r == ENOENT ? "does not exist" : r == ENOTSOCK ? "is not a socket" :
			 strerror(r));
		return say(OMV_RELAY_NO_SOCKET, msg, cap, dir, node, what);
	}
	/* Ask for the whole status; a line cut short would not be trusted. */
	r = om_ctl_ask(ctl, "status\n", timeout_ms, status, sizeof(status));
	if (r) {
		snprintf(what, sizeof(what), "omhostd is not running: nothing answers on %s (%s)",
			 ctl, strerror(-r));
		return say(OMV_RELAY_NOT_RUNNING, msg, cap, dir, node, what);
	}
	if (!om_ctl_node_line(status, node)) {
		snprintf(what, sizeof(what), "the omhostd on %s (pid %s) serves nodes %s, not %u",
			 dir, om_ctl_field(status, "pid", v1, sizeof(v1)),
			 om_ctl_field(status, "nodes", v2, sizeof(v2)), node);
		return say(OMV_RELAY_NOT_SERVED, msg, cap, dir, node, what);
	}
	if (strcmp(om_ctl_node_state(status, node, v1, sizeof(v1)), "absent")) {
		snprintf(what, sizeof(what), "omhostd on %s already has a front-end for it (state %s)",
			 dir, v1);
		return say(OMV_RELAY_NODE_TAKEN, msg, cap, dir, node, what);
	}
	return OMV_RELAY_SERVES;
}
