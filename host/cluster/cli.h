/* SPDX-License-Identifier: GPL-2.0-only */
/* omcluster's command line: what the user asked for, validated. */
#ifndef OM_CLUSTER_CLI_H
#define OM_CLUSTER_CLI_H

#include <stdbool.h>
#include <stddef.h>

#define OM_MAX_NODES 64
/*
 * up --net links every pair of guests point to point, one NIC per peer in
 * each guest: the guest's device list (guest.h) bounds the cluster.
 */
#define OM_NET_MAX_NODES 8

enum om_command {
	OM_CMD_UP,
	OM_CMD_EXEC,
	OM_CMD_CP,
	OM_CMD_STATUS,
	OM_CMD_CONSOLE,
	OM_CMD_DOWN,
	OM_CMD_STOP,
	OM_CMD_START,
	OM_CMD_RELAY,
	OM_CMD_HELP,
	OM_CMD_VERSION,
};

enum om_accel {
	OM_ACCEL_AUTO,
	OM_ACCEL_KVM,
	OM_ACCEL_TCG,
};

enum om_relay_action {
	OM_RELAY_STATUS,
	OM_RELAY_START,
	OM_RELAY_STOP,
	OM_RELAY_RESTART,
};

struct om_cli {
	enum om_command cmd;
	const char *cluster;  /* -c NAME: which cluster (default "default") */
	const char *run_dir;  /* --run-dir: where cluster state lives */
	/* up */
	unsigned int nodes;
	unsigned int mem_mib;
	unsigned int cpus;
	enum om_accel accel;
	bool net; /* a virtio-net link between every pair of guests */
	/* up --hosts H: the nodes split over H relays in namespaces of their own (hosts.h); 0: one */
	unsigned int hosts;
	/*
	 * up --libvirt: the guests are libvirt domains, at --libvirt-uri (NULL:
	 * libvirt's default, LIBVIRT_DEFAULT_URI among it), whose QEMU runs as
	 * --qemu-user (NULL: as libvirt says, else as we do).
	 */
	bool libvirt;
	const char *libvirt_uri, *qemu_user;
	/* up --node-cpu N=MODEL, by node number (NULL: the default CPU) */
	const char *node_cpu[OM_MAX_NODES + 1];
	/* start --cpu MODEL (NULL: the node's CPU as before) */
	const char *cpu;
	const char *kernel, *initrd, *qemu, *omhostd, *append;
	/* up, exec, down, stop, start, relay: seconds; 0 means the command's default */
	unsigned int timeout_s;
	/* stop, relay: SIGKILL at once (a crash) instead of SIGTERM */
	bool kill;
	/* relay */
	enum om_relay_action relay_action;
	/* exec, cp, console, stop, start */
	unsigned int node;
	bool forward_stdin;
	char **argv; /* exec: the command, NULL-terminated */
	const char *src, *dst;
	unsigned int mode;
	bool mode_set;
	unsigned int lines;
	const char *help_topic;
};

/*
 * Parses argv into cli. Returns 0, or -EINVAL with a message for the user in
 * err. Node numbers are checked against OM_MAX_NODES here and against the
 * running cluster by the command.
 */
int om_cli_parse(int argc, char **argv, struct om_cli *cli, char *err, size_t errlen);

/* Parses "3" or "node3" into 3; -EINVAL for anything else or out of range. */
int om_parse_node(const char *s, unsigned int *node);

/* Strict unsigned parse in [min, max] (base 0 when octal is allowed). */
int om_parse_uint(const char *s, unsigned int min, unsigned int max, int base, unsigned int *out);

/* The usage text of a command (or of the tool for NULL); NULL if unknown. */
const char *om_cli_usage(const char *topic);

#endif /* OM_CLUSTER_CLI_H */
