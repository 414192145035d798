// SPDX-License-Identifier: GPL-2.0-only
/*
 * omcluster stop, start and relay: one guest, or the relay, within a
 * running cluster. A stopped guest keeps its entry in the state (status
 * shows it dead) and start boots it again exactly as up did.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accel.h"
#include "control-client.h"
#include "omcluster.h"
#include "proc.h"
#include "relay.h"

#define DEFAULT_STOP_TIMEOUT_S 10
#define DEFAULT_BOOT_TIMEOUT_S 180

/*
 * Loads the cluster's state under the cluster lock: loaded once to say
 * "no such cluster" before making a lock file, again once locked, since
 * another command may have changed it meanwhile. 0, or 1 after telling.
 */
static int load_locked(const struct om_ctx *ctx, const char *cmd, struct om_cluster_state *st,
		       int *lock)
{
	*lock = -1;
	if (om_load_cluster(ctx, st))
		return 1;
	*lock = om_lock_cluster(ctx, cmd);
	if (*lock < 0)
		return 1;
	if (om_load_cluster(ctx, st)) {
		close(*lock);
		*lock = -1;
		return 1;
	}
	return 0;
}

static struct om_node_state *find_node(struct om_cluster_state *st, unsigned int node)
{
	return (struct om_node_state *)om_find_node(st, node);
}

static const char *stop_how(bool kill)
{
	return kill ? "SIGKILL" : "SIGTERM";
}

/* Stops a process as relay stop does: SIGTERM with a grace, or SIGKILL. */
static int stop_process(const struct om_proc_id *id, bool kill, unsigned int timeout_s)
{
	return kill ? om_proc_kill(id) : om_proc_stop(id, timeout_s * 1000);
}

/* How stop ended a node: a domain is destroyed, whatever signal libvirt sends. */
static const char *node_stop_how(const struct om_node_state *n, bool kill)
{
	if (n->domain[0])
		return kill ? "destroyed" : "SIGTERM, then destroyed if need be";
	return stop_how(kill);
}

int om_cmd_stop(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	unsigned int timeout_s = cli->timeout_s ? cli->timeout_s : DEFAULT_STOP_TIMEOUT_S;
	struct om_node_state *n;
	int status = 1, lock = -1;
	char what[128];

	if (!st) {
		om_error("out of memory");
		return 1;
	}
	if (load_locked(ctx, "stop", st, &lock))
		goto out;
	n = find_node(st, cli->node);
	if (!n)
		goto out;
	if (!om_node_running(n)) {
		om_error("node %u is not running (%s): nothing to stop", n->node,
			 om_node_gone(n, what, sizeof(what)));
		goto out;
	}
	if (om_node_stop(n, cli->kill, timeout_s * 1000)) {
		om_error("node %u: %s would not stop", n->node, om_node_runner(n, what, sizeof(what)));
		goto out;
	}
	/* Its entry stays: status shows it dead, start boots it again. */
	printf("node %u stopped (%s, %s)\n", n->node, om_node_runner(n, what, sizeof(what)),
	       node_stop_how(n, cli->kill));
	status = 0;
out:
	if (lock >= 0)
		close(lock);
	free(st);
	return status;
}

/* Keeps the previous boot's console as console.log.1; removes stale sockets. */
static int prepare_node_dir(const struct om_node_state *n)
{
	char path[PATH_MAX], old[PATH_MAX + 2];
	struct om_guest g;

	om_node_guest(n, &g);
	if (mkdir(n->dir, 0700) < 0 && errno != EEXIST) {
		om_error("cannot create %s: %s", n->dir, strerror(errno));
		return -errno;
	}
	if (om_guest_path(&g, OM_GUEST_CONSOLE, path, sizeof(path)))
		return -ENAMETOOLONG;
	snprintf(old, sizeof(old), "%s.1", path);
	if (rename(path, old) < 0 && errno != ENOENT) {
		om_error("cannot keep %s as %s: %s", path, old, strerror(errno));
		return -errno;
	}
	/* A killed QEMU leaves its listening sockets behind. */
	if (om_guest_path(&g, OM_GUEST_AGENT, path, sizeof(path)) == 0)
		unlink(path);
	if (om_guest_path(&g, OM_GUEST_QMP, path, sizeof(path)) == 0)
		unlink(path);
	return 0;
}

int om_cmd_start(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	struct om_booting_guest *boot = calloc(1, sizeof(*boot));
	unsigned int timeout_s = cli->timeout_s ? cli->timeout_s : DEFAULT_BOOT_TIMEOUT_S;
	long long t0 = om_now_ms();
	struct om_artifacts art;
	struct om_node_state *n;
	int status = 1, lock = -1, err;
	char release[80], what[128];

	if (!st || !boot) {
		om_error("out of memory");
		goto out;
	}
	if (load_locked(ctx, "start", st, &lock))
		goto out;
	n = find_node(st, cli->node);
	if (!n)
		goto out;
	if (om_node_running(n)) {
		om_error("node %u is already running (%s): stop it first (omcluster -c %s stop %u)",
			 n->node, om_node_runner(n, what, sizeof(what)), st->name, n->node);
		goto out;
	}
	/* Its virtio-om device waits for the relay: without one it would never boot. */
	if (!om_proc_alive(om_node_relay(st, om_last_node(st), n->node))) {
		om_error("the relay (omhostd) of node %u of cluster '%s' is not running: start it first (omcluster -c %s relay start)",
			 n->node, st->name, st->name);
		goto out;
	}
	if (om_recorded_artifacts(st, &art) || prepare_node_dir(n))
		goto out;
	om_catch_interrupts();
	if (cli->cpu)
		snprintf(n->cpu_model, sizeof(n->cpu_model), "%s", cli->cpu);
	err = om_spawn_guest(ctx, &art, st, n, om_last_node(st));
	if (err)
		goto out;
	err = om_state_save(st);
	if (err) {
		om_error("cannot write the cluster state in %s: %s", ctx->dir, strerror(-err));
		om_node_stop(n, false, 3000);
		goto out;
	}
	/* Recorded: other commands may go on while it boots. */
	close(lock);
	lock = -1;
	fprintf(stderr, "[start] node %u: %s (%s)\n", n->node, om_node_runner(n, what, sizeof(what)),
		om_accel_name(st->accel));
	if (!om_interrupted && om_wait_ready("start", n, 1, boot, timeout_s)) {
		om_info_value(boot->info, "release=", release, sizeof(release));
		printf("node %u is up: %s, kernel %s, in %.1f s\n", n->node,
		       om_node_runner(n, what, sizeof(what)), release,
		       (double)(om_now_ms() - t0) / 1000.0);
		status = 0;
		goto out;
	}
	if (om_interrupted)
		om_error("interrupted: stopping node %u", n->node);
	else
		om_report_failure(n, boot);
	om_booting_release(boot, 1);
	/* As up does with its guests: a guest that did not come up is not left half-booted. */
	if (om_node_stop(n, false, 3000))
		om_error("node %u: %s would not stop", n->node, om_node_runner(n, what, sizeof(what)));
out:
	om_booting_release(boot, boot ? 1 : 0);
	if (lock >= 0)
		close(lock);
	free(boot);
	free(st);
	return status;
}

static int relay_status(const struct om_ctx *ctx)
{
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	const size_t cap = 64 * 1024;
	char *answer = malloc(cap);
	int status = 1;

	if (!st || !answer) {
		om_error("out of memory");
		goto out;
	}
	if (om_load_cluster(ctx, st))
		goto out;
	if (om_relay_line(ctx, st, answer, cap)) {
		/* With hosts, each relay's links were printed with its line: the nodes' table then. */
		if (st->hosts)
			om_ctl_print_nodes(stdout, answer);
		else
			om_ctl_print_table(stdout, answer);
		status = 0;
	}
out:
	free(answer);
	free(st);
	return status;
}

/* Whether any (all: every) relay of the cluster runs. */
static bool any_relay(struct om_cluster_state *st, bool all)
{
	unsigned int alive = 0;

	for (unsigned int h = 1; h <= om_relays(st); h++)
		alive += om_proc_alive(om_relay_proc(st, h));
	return all ? alive == om_relays(st) : alive > 0;
}

/* "1-4", or with hosts host h's range, for messages. */
static const char *relay_nodes(const struct om_cluster_state *st, unsigned int h,
			       unsigned int last, char *buf, size_t cap)
{
	unsigned int first = 1;

	if (st->hosts)
		om_host_range(last, st->hosts, h, &first, &last);
	snprintf(buf, cap, "%u-%u", first, last);
	return buf;
}

/* Stops every relay of the cluster that runs (one, or one per host). */
static int relay_stop(struct om_cluster_state *st, bool kill, unsigned int timeout_s)
{
	for (unsigned int h = 1; h <= om_relays(st); h++) {
		const struct om_proc_id *id = om_relay_proc(st, h);

		if (!om_proc_alive(id))
			continue;
		if (stop_process(id, kill, timeout_s)) {
			om_error("the relay (omhostd pid %d) would not stop", (int)id->pid);
			return 1;
		}
		/* The record stays, as a stopped node's does: status shows it not running. */
		printf("relay stopped (omhostd pid %d, %s)\n", (int)id->pid, stop_how(kill));
	}
	return 0;
}

static int relay_start(const struct om_ctx *ctx, struct om_cluster_state *st,
		       unsigned int timeout_s)
{
	unsigned int last = om_last_node(st);

	if (!st->omhostd[0]) {
		om_error("the state of cluster '%s' does not say which omhostd up used (an older omcluster made it): `omcluster -c %s down`, then up again",
			 st->name, st->name);
		return 1;
	}
	if (om_check_artifact("omhostd", st->omhostd, true))
		return 1;
	if (om_start_relay(ctx, st, last, timeout_s * 1000, "relay"))
		return 1;
	for (unsigned int h = 1; h <= om_relays(st); h++) {
		char nodes[32];

		printf("relay started (omhostd pid %d, nodes %s)\n", (int)om_relay_proc(st, h)->pid,
		       relay_nodes(st, h, last, nodes, sizeof(nodes)));
	}
	return 0;
}

int om_cmd_relay(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	unsigned int timeout_s = cli->timeout_s ? cli->timeout_s : OM_RELAY_START_TIMEOUT_MS / 1000;
	struct om_cluster_state *st;
	int status = 1, lock = -1;
	bool running;

	if (cli->relay_action == OM_RELAY_STATUS)
		return relay_status(ctx);
	st = calloc(1, sizeof(*st));
	if (!st) {
		om_error("out of memory");
		return 1;
	}
	if (load_locked(ctx, "relay", st, &lock))
		goto out;
	/* With hosts: any of them (stop), all of them (start). */
	running = any_relay(st, false);
	switch (cli->relay_action) {
	case OM_RELAY_STOP:
		if (!running) {
			if (om_relay_proc(st, 1)->pid > 0)
				om_error("the relay is not running (omhostd pid %d is gone): nothing to stop",
					 (int)om_relay_proc(st, 1)->pid);
			else
				om_error("cluster '%s' has no relay: nothing to stop", st->name);
			break;
		}
		status = relay_stop(st, cli->kill, timeout_s);
		break;
	case OM_RELAY_START:
		if (any_relay(st, true)) {
			om_error("the relay is already running (omhostd pid %d): use `omcluster -c %s relay restart` to restart it",
				 (int)om_relay_proc(st, 1)->pid, st->name);
			break;
		}
		status = relay_start(ctx, st, timeout_s);
		break;
	case OM_RELAY_RESTART:
		/* Not running: a restart is a start. */
		if (running && relay_stop(st, cli->kill, timeout_s))
			break;
		status = relay_start(ctx, st, timeout_s);
		break;
	case OM_RELAY_STATUS:
		break;
	}
out:
	if (lock >= 0)
		close(lock);
	free(st);
	return status;
}
