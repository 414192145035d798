/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cluster's relay: one omhostd serving every guest's virtio-om device
 * from CLUSTERDIR/relay (node-N.sock per node, control.sock, omhostd.log);
 * with up --hosts, one per host serving its nodes from CLUSTERDIR/hostH/relay.
 * Started by up and by `omcluster relay start`, in the same way.
 */
#ifndef OM_CLUSTER_RELAY_H
#define OM_CLUSTER_RELAY_H

#include <stddef.h>

#include "hosts.h"
#include "proc.h"
#include "state.h"

/* How long a starting relay may take to serve every node. */
#define OM_RELAY_START_TIMEOUT_MS 10000

enum om_relay_file {
	OM_RELAY_DIR,     /* CLUSTERDIR/relay: omhostd's --dir */
	OM_RELAY_LOG,     /* omhostd.log: its output */
	OM_RELAY_CONTROL, /* control.sock: its status */
};

/* The path of one of the files of the relay in BASE/relay; 0 or -ENAMETOOLONG. */
int om_relay_path(const char *base, enum om_relay_file f, char *out, size_t cap);

/*
 * Starts omhostd for nodes first..last in BASE/relay (BASE: the cluster's
 * directory, or with up --hosts the host's, CLUSTERDIR/hostH): makes the
 * relay directory, removes what a dead relay left there (its sockets), and
 * spawns omhostd in its own session, owned by owner (proc.h), with its
 * output appended to omhostd.log. Does not wait for it to serve (record id
 * first, then om_relay_wait). With qemu (QEMU runs as another user: up
 * --libvirt), the directory is that user's group's and setgid, omhostd's
 * umask 0007 makes its sockets the group's to connect to, and --allow-uid
 * lets that user's QEMU in. With link (up --hosts), it runs in link's
 * network namespace with link's options. 0 or -errno.
 */
int om_relay_spawn(const char *omhostd, const char *base, const struct om_owner *owner,
		   unsigned int first, unsigned int last, const struct om_qemu_user *qemu,
		   const struct om_relay_link *link, struct om_proc_id *id);

/*
 * Waits until the relay id serves: every node's socket exists and the
 * control socket answers, naming id's pid. 0; -ECHILD when it exited;
 * -ETIMEDOUT after timeout_ms.
 */
int om_relay_wait(const struct om_proc_id *id, const char *base, unsigned int first,
		  unsigned int last, unsigned int timeout_ms);

/* The relay's status answer (omhostd's key=value lines) into buf; 0 or -errno. */
int om_relay_status(const char *base, char *buf, size_t cap, int timeout_ms);

#endif /* OM_CLUSTER_RELAY_H */
