/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest's description and the QEMU command line made from it. Devices
 * beyond the fixed ones (console, agent port) are entries in a list, so a
 * new device (virtio-om) is one more entry, not a new code path.
 */
#ifndef OM_CLUSTER_GUEST_H
#define OM_CLUSTER_GUEST_H

#include <limits.h>
#include <stddef.h>

#include "cli.h"

#define OM_GUEST_MAX_DEVICES 8
#define OM_GUEST_MAX_ARGV 96

struct om_artifacts {
	char qemu[PATH_MAX];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char omhostd[PATH_MAX];     /* the relay, virtio-om's back-end */
	char firmware[2][PATH_MAX]; /* -L directories; empty entries are skipped */
};

/* One extra device: its -chardev (optional) and -device option values. */
struct om_guest_device {
	char chardev[512];
	char device[512];
};

struct om_guest {
	unsigned int node;
	unsigned int mem_mib;
	unsigned int cpus;
	enum om_accel accel; /* resolved: OM_ACCEL_KVM or OM_ACCEL_TCG */
	char dir[PATH_MAX];  /* the guest's own directory: logs, sockets */
	char append[1024];   /* extra kernel command line */
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

/* Fills g for node with the cluster-wide settings and the guest's directory. */
int om_guest_init(struct om_guest *g, unsigned int node, unsigned int mem_mib,
		  unsigned int cpus, enum om_accel accel, const char *dir, const char *append);

/* Appends a device; -ENOSPC when the list is full, -E2BIG when too long. */
int om_guest_add_device(struct om_guest *g, const char *chardev, const char *device);

/*
 * Appends the guest's virtio-om device (vhost-user-om-pci), connected to
 * the relay's socket for its node, relay_dir/node-N.sock, and reconnecting
 * by itself when the relay restarts. -ENAMETOOLONG when that path does not
 * fit a unix socket address; else as om_guest_add_device.
 */
int om_guest_add_om_device(struct om_guest *g, const char *relay_dir);

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
