/* SPDX-License-Identifier: GPL-2.0-only */
/* What omcluster's commands share: where the cluster lives and its inputs. */
#ifndef OM_CLUSTER_OMCLUSTER_H
#define OM_CLUSTER_OMCLUSTER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>

#include "agent-client.h"
#include "cli.h"
#include "guest.h"
#include "readiness.h"
#include "state.h"

struct om_ctx {
	const struct om_cli *cli;
	char run_dir[PATH_MAX];   /* where clusters live */
	char dir[PATH_MAX];       /* this cluster's directory */
	char cache_dir[PATH_MAX]; /* kept between runs (accelerator probe) */
};

/* Each returns the process exit status and has told the user what went wrong. */
int om_cmd_up(const struct om_ctx *ctx);
int om_cmd_down(const struct om_ctx *ctx);
int om_cmd_status(const struct om_ctx *ctx);
int om_cmd_exec(const struct om_ctx *ctx);
int om_cmd_cp(const struct om_ctx *ctx);
int om_cmd_console(const struct om_ctx *ctx);
int om_cmd_stop(const struct om_ctx *ctx);
int om_cmd_start(const struct om_ctx *ctx);
int om_cmd_relay(const struct om_ctx *ctx);

/* Prints "omcluster: <message>" on stderr. */
void om_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Loads the running cluster's state, saying what is wrong when it cannot.
 * Returns 0, or an exit status to end the command with.
 */
int om_load_cluster(const struct om_ctx *ctx, struct om_cluster_state *st);

/* The state's node, or NULL after telling the user which nodes exist. */
const struct om_node_state *om_find_node(const struct om_cluster_state *st, unsigned int node);

/* A guest description of a recorded node, enough to name its files. */
void om_node_guest(const struct om_node_state *n, struct om_guest *g);

/* Removes dir and everything below it; 0 or -errno. */
int om_remove_tree(const char *dir);

/*
 * lifecycle.c: booting guests and the relay, as up does it; start and
 * relay do it again the same way.
 */

/* Set by SIGINT, SIGTERM and SIGHUP once om_catch_interrupts() ran. */
extern volatile sig_atomic_t om_interrupted;
void om_catch_interrupts(void);

/*
 * Serialises the commands that change a running cluster (up, start, stop,
 * relay) with CLUSTERDIR/cluster.lock, waiting for another one to finish.
 * Returns the lock's fd (closing it releases the lock), or -1 after telling
 * the user why. down takes no lock: it must be able to end anything.
 */
int om_lock_cluster(const struct om_ctx *ctx, const char *cmd);

/*
 * Checks that a file up needs is there (and executable for a program); a
 * clear error names what is missing and how to build it. 0 or -errno.
 */
int om_check_artifact(const char *what, const char *path, bool program);

/*
 * The artifacts up recorded in st, those a guest boots from (kernel,
 * initramfs, QEMU) checked. Returns 0, or 1 after telling the user what
 * is missing.
 */
int om_recorded_artifacts(const struct om_cluster_state *st, struct om_artifacts *art);

/*
 * Starts node n as st describes it (memory, CPUs, accelerator, --append),
 * with its files in n->dir, its virtio-om device connected to the relay
 * and, with --net, a link to each other node of the cluster's nodes
 * 1..last, on CPU n->cpu_model (empty: the default): a QEMU of ours, whose
 * id goes to n->qemu, or in a libvirt cluster the domain n->domain. 0 or
 * -errno after telling the user.
 */
int om_spawn_guest(const struct om_ctx *ctx, const struct om_artifacts *art,
		   const struct om_cluster_state *st, struct om_node_state *n, unsigned int last);

/*
 * A node's guest, whichever runs it: a QEMU of ours (by pid and start
 * time) or a libvirt domain (by name, through the command's connection).
 */
bool om_node_running(const struct om_node_state *n);

/*
 * Ends it: SIGTERM, SIGKILL after timeout_ms, or with kill at once; a
 * domain is destroyed (libvirt_guests.h, om_lv_stop). 0 once it is gone.
 */
int om_node_stop(const struct om_node_state *n, bool kill, unsigned int timeout_ms);

/* For messages: "QEMU pid P" or "domain NAME". */
const char *om_node_runner(const struct om_node_state *n, char *buf, size_t cap);

/* For messages: "its QEMU, pid P, is gone" or "its domain NAME is not running". */
const char *om_node_gone(const struct om_node_state *n, char *buf, size_t cap);

/* Whom the cluster's QEMUs run as when it is not us (up --libvirt), else NULL. */
const struct om_qemu_user *om_foreign_qemu_user(const struct om_cluster_state *st);

/* A guest being waited for: its agent connection and what was seen. */
struct om_booting_guest {
	struct om_agent agent;
	bool connected;
	long long console_offset;
	bool panic;
	enum om_guest_verdict verdict;
	char info[128];
};

/*
 * Waits until the agent of each of count nodes answers, with a progress
 * line tagged cmd; true when all are ready. b[i] (zeroed by the caller)
 * tells how each ended.
 */
bool om_wait_ready(const char *cmd, const struct om_node_state *nodes, unsigned int count,
		   struct om_booting_guest *b, unsigned int timeout_s);

/* Says why node n failed to boot, with its console's last lines. */
void om_report_failure(const struct om_node_state *n, const struct om_booting_guest *b);

/* Closes what om_wait_ready left open. */
void om_booting_release(struct om_booting_guest *b, unsigned int count);

/* The value of key ("release=") in an agent's hello, or "?". */
void om_info_value(const char *info, const char *key, char *out, size_t cap);

/*
 * relays.c: the cluster's relays, the one or one per host (up --hosts).
 */

/* How many relays the cluster has: 1, or one per host. */
unsigned int om_relays(const struct om_cluster_state *st);

/* Relay h (1..om_relays): host h's, or the one relay. */
struct om_proc_id *om_relay_proc(struct om_cluster_state *st, unsigned int h);

/* The relay serving node of a cluster of nodes 1..last. */
const struct om_proc_id *om_node_relay(const struct om_cluster_state *st, unsigned int last,
				       unsigned int node);

/* What relay h's directory is in (relay.h's BASE): dir, or dir/hostH. 0 or -ENAMETOOLONG. */
int om_relay_base(const char *dir, const struct om_cluster_state *st, unsigned int h, char *out,
		  size_t cap);

/* The directory of the relay serving node (its sockets), in a cluster of 1..last. */
int om_node_relay_dir(const char *dir, const struct om_cluster_state *st, unsigned int last,
		      unsigned int node, char *out, size_t cap);

/*
 * Prints each relay's line of status (pid, running or not, its log; with
 * hosts each one's links). True when all run and answered, with their
 * status answers (omhostd's key=value lines, one per node) in answer.
 */
bool om_relay_line(const struct om_ctx *ctx, const struct om_cluster_state *st, char *answer,
		   size_t cap);

/* up --hosts: a line per host, its nodes, namespace and relay's address. */
void om_hosts_lines(const struct om_cluster_state *st);

/* The highest node of the cluster: the relays serve 1..that. */
unsigned int om_last_node(const struct om_cluster_state *st);

/*
 * Starts each relay of the cluster not running (nodes 1..last, split by
 * host with up --hosts) as up does, records it in st (saved at once), and
 * waits until it serves them, at most timeout_ms. Prints a progress line
 * tagged cmd. Returns 0, or -errno after telling the user (with the tail
 * of omhostd's log) and stopping the relay that failed.
 */
int om_start_relay(const struct om_ctx *ctx, struct om_cluster_state *st, unsigned int last,
		   unsigned int timeout_ms, const char *cmd);

#endif /* OM_CLUSTER_OMCLUSTER_H */
