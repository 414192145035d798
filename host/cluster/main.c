// SPDX-License-Identifier: GPL-2.0-only
/*
 * omcluster: boots a cluster of omvm guests and drives it (see
 * docs/cluster-tool.md). This file resolves where things are and
 * dispatches; each command lives in its own file.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvirt-guests.h"
#include "omcluster.h"

void om_error(const char *fmt, ...)
{
	va_list ap;

	fputs("omcluster: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP ? rmdir(path) : unlink(path))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

int om_remove_tree(const char *dir)
{
	int r = nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	if (r < 0 && errno == ENOENT)
		return 0;
	return r < 0 ? -errno : r;
}

int om_load_cluster(const struct om_ctx *ctx, struct om_cluster_state *st)
{
	char err[256] = "";
	int r = om_state_load(ctx->dir, st, err, sizeof(err));

	if (r == -ENOENT) {
		om_error("no cluster '%s' is up (start one with: omcluster -c %s up)",
			 ctx->cli->cluster, ctx->cli->cluster);
		return 1;
	}
	if (r) {
		om_error("cannot read the state of cluster '%s' in %s: %s", ctx->cli->cluster,
			 ctx->dir, r == -EBADMSG ? err : strerror(-r));
		return 1;
	}
	/* Its guests are libvirt domains: every command asks libvirt about them. */
	if (st->libvirt_uri[0] && om_lv_connect(st->libvirt_uri, NULL, 0))
		return 1;
	return 0;
}

const struct om_node_state *om_find_node(const struct om_cluster_state *st, unsigned int node)
{
	const struct om_node_state *n = om_state_node(st, node);

	if (!n)
		om_error("unknown node %u: cluster '%s' has nodes 1-%u", node, st->name,
			 st->n_nodes);
	return n;
}

void om_node_guest(const struct om_node_state *n, struct om_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->node = n->node;
	snprintf(g->dir, sizeof(g->dir), "%s", n->dir);
}

static int resolve_dirs(const struct om_cli *cli, struct om_ctx *ctx)
{
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	int n;

	if (cli->run_dir && *cli->run_dir)
		n = snprintf(ctx->run_dir, sizeof(ctx->run_dir), "%s", cli->run_dir);
	else if (geteuid() == 0)
		n = snprintf(ctx->run_dir, sizeof(ctx->run_dir), "/run/omcluster");
	else if (runtime && *runtime)
		n = snprintf(ctx->run_dir, sizeof(ctx->run_dir), "%s/omcluster", runtime);
	else
		n = snprintf(ctx->run_dir, sizeof(ctx->run_dir), "/tmp/omcluster-%u",
			     (unsigned int)geteuid());
	if (n < 0 || (size_t)n >= sizeof(ctx->run_dir) ||
	    om_state_dir(ctx->run_dir, cli->cluster, ctx->dir, sizeof(ctx->dir)))
		return -ENAMETOOLONG;
	if (cache && *cache)
		n = snprintf(ctx->cache_dir, sizeof(ctx->cache_dir), "%s/omvm", cache);
	else
		n = snprintf(ctx->cache_dir, sizeof(ctx->cache_dir), "%s/.cache/omvm",
			     home && *home ? home : "/tmp");
	return n < 0 || (size_t)n >= sizeof(ctx->cache_dir) ? -ENAMETOOLONG : 0;
}

int main(int argc, char **argv)
{
	struct om_cli cli;
	struct om_ctx ctx = { .cli = &cli };
	char err[256];

	if (om_cli_parse(argc, argv, &cli, err, sizeof(err))) {
		om_error("%s", err);
		return 2;
	}
	switch (cli.cmd) {
	case OM_CMD_HELP:
		fputs(om_cli_usage(cli.help_topic), stdout);
		return 0;
	case OM_CMD_VERSION:
		printf("omcluster %s\n", OM_VERSION);
		return 0;
	default:
		break;
	}
	if (resolve_dirs(&cli, &ctx)) {
		om_error("the cluster directory path is too long");
		return 2;
	}
	int (*const cmds[])(const struct om_ctx *) = {
		[OM_CMD_UP] = om_cmd_up,	 [OM_CMD_DOWN] = om_cmd_down,
		[OM_CMD_STATUS] = om_cmd_status, [OM_CMD_EXEC] = om_cmd_exec,
		[OM_CMD_CP] = om_cmd_cp,	 [OM_CMD_CONSOLE] = om_cmd_console,
		[OM_CMD_STOP] = om_cmd_stop,	 [OM_CMD_START] = om_cmd_start,
		[OM_CMD_RELAY] = om_cmd_relay,
	};
	int status = 2;

	if ((size_t)cli.cmd < sizeof(cmds) / sizeof(cmds[0]) && cmds[cli.cmd])
		status = cmds[cli.cmd](&ctx);
	/* The connection a libvirt cluster's command opened. */
	om_lv_disconnect();
	return status;
}
