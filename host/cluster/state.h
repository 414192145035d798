/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A cluster's persistent state: which guests it has and which processes it
 * started, so that later commands (exec, status, down) find them and down
 * stops exactly those processes, and what up booted them with, so that
 * start and relay start do it again the same way. Kept in
 * RUN_DIR/NAME/cluster.state, one "key value" per line.
 */
#ifndef OM_CLUSTER_STATE_H
#define OM_CLUSTER_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli.h"
#include "hosts.h"
#include "qemu-user.h"

struct om_proc_id {
	pid_t pid;
	unsigned long long start; /* start time in clock ticks after boot: tells pid reuse apart */
	/*
	 * A pidfd on it, held from the spawn on within one omcluster run: a
	 * pid reused within one clock tick has the same start time. 0 when
	 * none (spawn keeps it above 2), never saved.
	 */
	int pidfd;
};

struct om_node_state {
	unsigned int node;
	struct om_proc_id qemu;
	char dir[PATH_MAX];
	char cpu_model[64]; /* up --node-cpu, start --cpu; empty: the default */
	char domain[96];    /* up --libvirt: its libvirt domain (qemu is then 0 0) */
};

struct om_cluster_state {
	char name[64];
	char dir[PATH_MAX];
	enum om_accel accel;
	char accel_reason[256];
	long long created; /* seconds since the epoch */
	unsigned int mem_mib, cpus;
	/* What up used: absolute paths, and the extra kernel arguments. */
	char kernel[PATH_MAX], initrd[PATH_MAX], qemu[PATH_MAX], omhostd[PATH_MAX];
	char append[1024];
	bool net; /* up --net: a virtio-net link between every pair of nodes */
	/*
	 * up --libvirt: the URI of the libvirt its guests are domains of (as
	 * libvirt named it), and whom libvirt runs their QEMU as. Empty: the
	 * guests are QEMUs of ours.
	 */
	char libvirt_uri[512];
	bool qemu_user_set;
	struct om_qemu_user qemu_user;
	struct om_proc_id relay; /* omhostd; pid 0 when none was started */
	/*
	 * up --hosts: how many hosts (hosts.h; 0: one, the relay above), and
	 * host h's relay in host_relay[h - 1] (pid 0: none started).
	 */
	unsigned int hosts;
	struct om_proc_id host_relay[OM_MAX_HOSTS];
	/* The cluster's cgroup (cgroup.h); empty when none could be made. */
	char cgroup[PATH_MAX];
	unsigned int n_nodes;
	struct om_node_state nodes[OM_MAX_NODES];
};

/* RUN_DIR/NAME: the cluster's directory. */
int om_state_dir(const char *run_dir, const char *name, char *out, size_t cap);

/*
 * Writes the state atomically (temp file + rename) into st->dir. -EINVAL
 * when a value holds a newline (it could not be read back).
 */
int om_state_save(const struct om_cluster_state *st);

/*
 * Reads the state from dir. -ENOENT when there is no cluster; -EBADMSG for
 * a file that does not parse (the message says where, in err).
 */
int om_state_load(const char *dir, struct om_cluster_state *st, char *err, size_t errlen);

/* The same, from an open stream (what load uses; tests feed text). */
int om_state_parse(FILE *f, struct om_cluster_state *st, char *err, size_t errlen);
int om_state_write(FILE *f, const struct om_cluster_state *st);

/* Whether name can be a node's domain in the state: letters, digits, - _ . */
bool om_state_domain_name_valid(const char *name);

/*
 * A short hash of a cluster's directory, naming what the cluster makes
 * outside it (its cgroup, up --hosts' namespaces): two clusters of one
 * name in two run directories get two of each.
 */
unsigned int om_dir_hash(const char *dir);

/* The node's entry, or NULL when the cluster has no such node. */
const struct om_node_state *om_state_node(const struct om_cluster_state *st, unsigned int node);

#endif /* OM_CLUSTER_STATE_H */
