/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest's description and the QEMU command line made from it. Devices
 * beyond the fixed ones (console, agent port) are entries in a list, so a
 * new device (virtio-om, a network link) is one more entry, not a new code
 * path.
 */
#ifndef OM_CLUSTER_GUEST_H
#define OM_CLUSTER_GUEST_H

#include <limits.h>
#include <stddef.h>

#include "cli.h"

#define OM_GUEST_MAX_DEVICES 8
#define OM_GUEST_MAX_ARGV 96
/* A guest's CPU under TCG: QEMU's most, less ERMS (guest.c says why). */
#define OM_GUEST_TCG_CPU "max,-erms"

/* The address the guest's init gives node N on its links (--net). */
#define OM_NET_ADDRESS_PATTERN "10.77.0.N"

/* With --net, a guest has virtio-om and a NIC for each of the others. */
_Static_assert(1 + (OM_NET_MAX_NODES - 1) <= OM_GUEST_MAX_DEVICES,
	       "the device list must hold virtio-om and a link to every peer");

struct om_artifacts {
	char qemu[PATH_MAX];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char omhostd[PATH_MAX];     /* the relay, virtio-om's back-end */
	char firmware[2][PATH_MAX]; /* -L directories; empty entries are skipped */
};

/* What feeds a device: nothing, a -chardev or a -netdev. */
enum om_guest_backend {
	OM_BACKEND_NONE,
	OM_BACKEND_CHARDEV,
	OM_BACKEND_NETDEV,
};

/* One extra device: its back-end's and its own (-device) option values. */
struct om_guest_device {
	enum om_guest_backend backend_kind;
	char backend[512];
	char device[512];
};

struct om_guest {
	unsigned int node;
	unsigned int mem_mib;
	unsigned int cpus;
	enum om_accel accel; /* resolved: OM_ACCEL_KVM or OM_ACCEL_TCG */
	char dir[PATH_MAX];  /* the guest's own directory: logs, sockets */
	char append[1024];   /* extra kernel command line */
	char cpu_model[64];  /* -cpu MODEL; empty: max,-erms (TCG) or the host's (KVM) */
	bool probe;          /* an accelerator probe boot, not a cluster member */
	unsigned int n_devices;
	struct om_guest_device devices[OM_GUEST_MAX_DEVICES];
};

/* Paths of the guest's files, under its directory. */
enum om_guest_file {
	OM_GUEST_CONSOLE,   /* console.log: serial console */
	OM_GUEST_QEMU_LOG,  /* qemu.log: QEMU's own stdout and stderr */
	OM_GUEST_AGENT,     /* agent.sock: the guest agent's port */
	OM_GUEST_AGENT_LOCK, /* agent.lock: one agent client at a time */
	OM_GUEST_QMP,       /* qmp.sock: QEMU's monitor */
};
int om_guest_path(const struct om_guest *g, enum om_guest_file f, char *out, size_t cap);

/*
 * Whether MODEL can be a QEMU CPU model name (qemu64, Nehalem, max...): 1-63
 * characters of letters, digits and _ . , = + -. QEMU itself says whether it
 * knows it.
 */
bool om_cpu_model_valid(const char *model);

/* Boots the guest on CPU MODEL; -EINVAL if it cannot be one. */
int om_guest_set_cpu(struct om_guest *g, const char *model);

/* Fills g for node with the cluster-wide settings and the guest's directory. */
int om_guest_init(struct om_guest *g, unsigned int node, unsigned int mem_mib,
		  unsigned int cpus, enum om_accel accel, const char *dir, const char *append);

/*
 * Appends a device fed by a chardev (none when chardev is NULL); -ENOSPC
 * when the list is full, -E2BIG when a value is too long.
 */
int om_guest_add_device(struct om_guest *g, const char *chardev, const char *device);

/* The same with a -netdev as its back-end. */
int om_guest_add_net_device(struct om_guest *g, const char *netdev, const char *device);

/*
 * Appends the guest's virtio-om device (vhost-user-om-pci), connected to
 * the relay's socket for its node, relay_dir/node-N.sock, and reconnecting
 * by itself when the relay restarts. -ENAMETOOLONG when that path does not
 * fit a unix socket address; else as om_guest_add_device.
 */
int om_guest_add_om_device(struct om_guest *g, const char *relay_dir);

/*
 * Appends the guest's end of its network link to peer: a virtio-net NIC
 * whose frames go, as datagrams on a unix socket, straight to the peer's
 * QEMU (QEMU's dgram netdev: no host network, no root, no port to pick).
 * This end binds g->dir/net-PEER.sock and sends to peer_dir/net-NODE.sock,
 * which the peer binds. The NIC's MAC, 52:54:00:77:NN:PP (the node and
 * the peer, in hex), tells the guest which peer the NIC leads to; its init
 * gives node N the address 10.77.0.N and a route to each peer through its
 * NIC (guest-image/rootfs/etc/init.d/rcS).
 * -EINVAL when peer is the node itself or not a node; -ENAMETOOLONG when a
 * socket path does not fit a unix socket address; else as om_guest_add_device.
 */
int om_guest_add_net_link(struct om_guest *g, unsigned int peer, const char *peer_dir);

/* The MAC address of node's NIC on its link to peer. */
void om_net_link_mac(unsigned int node, unsigned int peer, char out[18]);

/*
 * Builds QEMU's argv for g into argv (at most OM_GUEST_MAX_ARGV entries,
 * NULL-terminated), with the strings kept in buf. Returns 0, or -E2BIG.
 */
struct om_argv {
	char *argv[OM_GUEST_MAX_ARGV];
	char buf[16384];
	size_t argc, used;
};
int om_guest_qemu_argv(const struct om_guest *g, const struct om_artifacts *art,
		       struct om_argv *out);

#endif /* OM_CLUSTER_GUEST_H */
