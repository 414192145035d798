// SPDX-License-Identifier: GPL-2.0-only
/* omcluster exec, cp and console: acting on one guest of a running cluster. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-client.h"
#include "omcluster.h"
#include "proc.h"
#include "readiness.h"

/* Exit status when the command could not be run at all (as ssh does). */
#define EXEC_FAILED 255

/* Loads the cluster and finds a running node; 0 or an exit status. */
static int running_node(const struct om_ctx *ctx, struct om_cluster_state *st,
			const struct om_node_state **n, int fail_status)
{
	if (om_load_cluster(ctx, st))
		return fail_status;
	*n = om_find_node(st, ctx->cli->node);
	if (!*n)
		return fail_status;
	if (!om_proc_alive(&(*n)->qemu)) {
		om_error("node %u is not running (its QEMU, pid %d, is gone): see `omcluster console %u`",
			 (*n)->node, (int)(*n)->qemu.pid, (*n)->node);
		return fail_status;
	}
	return 0;
}

static int open_agent(const struct om_node_state *n, struct om_agent *a)
{
	char sock[PATH_MAX], lock[PATH_MAX];
	struct om_guest g;
	int err;

	om_node_guest(n, &g);
	if (om_guest_path(&g, OM_GUEST_AGENT, sock, sizeof(sock)) ||
	    om_guest_path(&g, OM_GUEST_AGENT_LOCK, lock, sizeof(lock)))
		return -ENAMETOOLONG;
	err = om_agent_open(a, sock, lock);
	if (err)
		om_error("node %u: cannot reach the guest agent at %s: %s", n->node, sock,
			 strerror(-err));
	return err;
}

int om_cmd_exec(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	const struct om_node_state *n;
	struct om_exec_result res;
	struct om_agent *a = calloc(1, sizeof(*a));
	int status = EXEC_FAILED, err;

	if (!st || !a) {
		om_error("out of memory");
		goto out;
	}
	if (running_node(ctx, st, &n, EXEC_FAILED) || open_agent(n, a))
		goto out;
	signal(SIGPIPE, SIG_IGN);
	/* A guest that stops answering fails the command 30 s past its time-out. */
	err = om_agent_exec(a, cli->argv, cli->timeout_s * 1000u, 30000,
			    cli->forward_stdin ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO,
			    &res);
	om_agent_close(a);
	if (err == -ETIMEDOUT)
		om_error("node %u: the guest did not answer within 30 s of the command's time-out",
			 n->node);
	else if (err == -EPIPE)
		om_error("node %u: the guest agent went away (the guest died or restarted?)",
			 n->node);
	else if (err)
		om_error("node %u: agent protocol failure: %s", n->node, strerror(-err));
	if (err)
		goto out;
	if (res.error[0])
		om_error("node %u: %s", n->node, res.error);
	if (res.how == OMA_TIMED_OUT)
		om_error("node %u: `%s` killed after %u s", n->node, cli->argv[0], cli->timeout_s);
	status = res.error[0] && res.how == OMA_EXITED ? EXEC_FAILED : om_exec_status(&res);
out:
	free(a);
	free(st);
	return status;
}

int om_cmd_cp(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	struct om_agent *a = calloc(1, sizeof(*a));
	const struct om_node_state *n;
	char error[512];
	struct stat sb;
	int fd = -1, status = 1, err;

	if (!st || !a) {
		om_error("out of memory");
		goto out;
	}
	fd = open(cli->src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		om_error("cp: %s: %s", cli->src, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		om_error("cp: %s is not a regular file", cli->src);
		goto out;
	}
	if (running_node(ctx, st, &n, 1) || open_agent(n, a))
		goto out;
	err = om_agent_put(a, fd, cli->dst, cli->mode_set ? cli->mode : sb.st_mode & 07777,
			   120000, error, sizeof(error));
	om_agent_close(a);
	if (err) {
		om_error("cp: node %u: %s", n->node, error[0] ? error : strerror(-err));
		goto out;
	}
	status = 0;
out:
	if (fd >= 0)
		close(fd);
	free(a);
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
