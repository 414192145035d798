// SPDX-License-Identifier: GPL-2.0-only
/* omcluster exec, cp and console: acting on one guest of a running cluster. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-run.h"
#include "omcluster.h"
#include "proc.h"
#include "readiness.h"

/* Loads the cluster and finds a running node; 0 or an exit status. */
static int running_node(const struct om_ctx *ctx, struct om_cluster_state *st,
			const struct om_node_state **n, int fail_status)
{
	if (om_load_cluster(ctx, st))
		return fail_status;
	*n = om_find_node(st, ctx->cli->node);
	if (!*n)
		return fail_status;
	if (!om_node_running(*n)) {
		char gone[128];

		om_error("node %u is not running (%s): see `omcluster console %u`", (*n)->node,
			 om_node_gone(*n, gone, sizeof(gone)), (*n)->node);
		return fail_status;
	}
	return 0;
}

/* Where a node's agent answers, and its lock: what agent-run.c needs. */
struct agent_at {
	char who[32], sock[PATH_MAX], lock[PATH_MAX];
	struct om_agent_target t;
};

static int agent_of(const struct om_node_state *n, struct agent_at *at)
{
	struct om_guest g;

	om_node_guest(n, &g);
	snprintf(at->who, sizeof(at->who), "node %u", n->node);
	if (om_guest_path(&g, OM_GUEST_AGENT, at->sock, sizeof(at->sock)) ||
	    om_guest_path(&g, OM_GUEST_AGENT_LOCK, at->lock, sizeof(at->lock))) {
		om_error("node %u: its directory's path is too long", n->node);
		return -ENAMETOOLONG;
	}
	at->t = (struct om_agent_target){ .who = at->who, .sock = at->sock, .lock = at->lock,
					  .say = om_error };
	return 0;
}

int om_cmd_exec(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	const struct om_node_state *n;
	struct agent_at at;
	int status = OM_EXEC_FAILED;

	if (!st) {
		om_error("out of memory");
		return status;
	}
	if (!running_node(ctx, st, &n, OM_EXEC_FAILED) && !agent_of(n, &at))
		status = om_agent_run(&at.t, cli->argv, cli->timeout_s, cli->forward_stdin);
	free(st);
	return status;
}

int om_cmd_cp(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	const struct om_node_state *n;
	struct agent_at at;
	int status = 1;

	if (!st) {
		om_error("out of memory");
		return status;
	}
	if (!running_node(ctx, st, &n, 1) && !agent_of(n, &at))
		status = om_agent_copy(&at.t, cli->src, cli->dst, cli->mode_set, cli->mode);
	free(st);
	return status;
}

int om_cmd_console(const struct om_ctx *ctx)
{
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	const struct om_node_state *n;
	char path[PATH_MAX];
	struct om_guest g;
	char *tail = NULL;
	size_t cap = 0;
	int status = 1, err;

	if (!st || om_load_cluster(ctx, st))
		goto out;
	n = om_find_node(st, ctx->cli->node);
	if (!n)
		goto out;
	om_node_guest(n, &g);
	om_guest_path(&g, OM_GUEST_CONSOLE, path, sizeof(path));
	cap = (size_t)ctx->cli->lines * 256 + 1;
	tail = malloc(cap);
	if (!tail)
		goto out;
	err = om_console_tail(path, ctx->cli->lines, tail, cap);
	if (err) {
		om_error("node %u: %s: %s", n->node, path, strerror(-err));
		goto out;
	}
	fputs(tail, stdout);
	status = 0;
out:
	free(tail);
	free(st);
	return status;
}
