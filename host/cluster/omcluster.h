/* SPDX-License-Identifier: GPL-2.0-only */
/* What omcluster's commands share: where the cluster lives and its inputs. */
#ifndef OM_CLUSTER_OMCLUSTER_H
#define OM_CLUSTER_OMCLUSTER_H

#include <limits.h>

#include "cli.h"
#include "guest.h"
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

#endif /* OM_CLUSTER_OMCLUSTER_H */
