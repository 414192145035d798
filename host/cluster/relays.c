// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster's relays as its commands see them: the one relay, or with
 * up --hosts one per host, each in its host's namespace serving its nodes.
 * Starting them as up does, and their lines in status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control-client.h"
#include "hosts.h"
#include "omcluster.h"
#include "proc.h"
#include "relay.h"

unsigned int om_relays(const struct om_cluster_state *st)
{
	return st->hosts ? st->hosts : 1;
}

/* Host h's relay, or the one relay, of a cluster only read. */
static const struct om_proc_id *relay_of(const struct om_cluster_state *st, unsigned int h)
{
	return st->hosts ? &st->host_relay[h - 1] : &st->relay;
}

struct om_proc_id *om_relay_proc(struct om_cluster_state *st, unsigned int h)
{
	return (struct om_proc_id *)relay_of(st, h);
}

const struct om_proc_id *om_node_relay(const struct om_cluster_state *st, unsigned int last,
				       unsigned int node)
{
	unsigned int h = st->hosts ? om_node_host(last, st->hosts, node) : 1;

	return h ? relay_of(st, h) : &st->relay;
}

int om_relay_base(const char *dir, const struct om_cluster_state *st, unsigned int h, char *out,
		  size_t cap)
{
	int n = st->hosts ? snprintf(out, cap, "%s/host%u", dir, h) : snprintf(out, cap, "%s", dir);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int om_node_relay_dir(const char *dir, const struct om_cluster_state *st, unsigned int last,
		      unsigned int node, char *out, size_t cap)
{
	char base[PATH_MAX];
	unsigned int h = st->hosts ? om_node_host(last, st->hosts, node) : 1;

	if (!h || om_relay_base(dir, st, h, base, sizeof(base)))
		return -ENAMETOOLONG;
	return om_relay_path(base, OM_RELAY_DIR, out, cap);
}

/* The end (at most cap - 1 bytes) of what was appended to path after offset. */
static void log_since(const char *path, off_t offset, char *out, size_t cap)
{
	struct stat sb;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	if (fstat(fd, &sb) == 0 && sb.st_size > offset) {
		if (sb.st_size - offset > (off_t)(cap - 1))
			offset = sb.st_size - (off_t)(cap - 1);
		n = pread(fd, out, cap - 1, offset);
	}
	close(fd);
	out[n > 0 ? n : 0] = '\0';
}

/* What a relay is called in messages: "the relay", "host 2's relay". */
static const char *relay_name(const struct om_cluster_state *st, unsigned int h, char *buf,
			      size_t cap)
{
	if (st->hosts)
		snprintf(buf, cap, "host %u's relay", h);
	else
		snprintf(buf, cap, "the relay");
	return buf;
}

/* Starts host h's relay (h 1 and no hosts: the one relay) for its nodes of 1..last. */
static int start_one(const struct om_ctx *ctx, struct om_cluster_state *st, unsigned int h,
		     unsigned int last, unsigned int timeout_ms, const char *cmd)
{
	const struct om_owner owner = { .cgroup = st->cgroup[0] ? st->cgroup : NULL, .dir = ctx->dir };
	struct om_proc_id *id = om_relay_proc(st, h);
	struct om_relay_link link;
	char base[PATH_MAX], log[PATH_MAX], tail[2048], what[32];
	unsigned int first = 1;
	struct stat sb;
	off_t log_start;
	int err, r;

	relay_name(st, h, what, sizeof(what));
	err = om_relay_base(ctx->dir, st, h, base, sizeof(base));
	if (!err && st->hosts) {
		/* Its peers' ranges are of the whole cluster, 1..last. */
		err = om_hosts_relay_link(st->name, ctx->dir, last, st->hosts, h, &link);
		om_host_range(last, st->hosts, h, &first, &last);
	}
	if (!err && st->hosts && mkdir(base, 0700) < 0 && errno != EEXIST)
		err = -errno;
	if (err) {
		om_error("cannot make %s's directory %s: %s", what, base, strerror(-err));
		return err;
	}
	om_relay_path(base, OM_RELAY_LOG, log, sizeof(log));
	/* The log is kept across restarts: a failure shows this start's lines. */
	log_start = stat(log, &sb) == 0 ? sb.st_size : 0;
	err = om_relay_spawn(st->omhostd, base, &owner, first, last, om_foreign_qemu_user(st),
			     st->hosts ? &link : NULL, id);
	if (err) {
		om_error("cannot start %s %s: %s", what, st->omhostd,
			 err == -ENAMETOOLONG ? "its socket paths are too long for unix sockets; use a shorter --run-dir" :
						strerror(-err));
		return err;
	}
	/* Recorded at once: a down finds it even if we die now. */
	r = om_state_save(st);
	if (r) {
		om_error("cannot write the cluster state in %s: %s", ctx->dir, strerror(-r));
		om_proc_stop(id, 2000);
		return r;
	}
	err = om_relay_wait(id, base, first, last, timeout_ms);
	if (!err) {
		fprintf(stderr, "[%s] %s: omhostd pid %d serving nodes %u-%u%s%s\n", cmd,
			st->hosts ? what : "relay", (int)id->pid, first, last,
			st->hosts ? " at " : "", st->hosts ? link.listen : "");
		return 0;
	}
	if (err == -ECHILD)
		om_error("%s (omhostd, pid %d) exited before it served nodes %u-%u", what,
			 (int)id->pid, first, last);
	else
		om_error("%s (omhostd, pid %d) did not serve nodes %u-%u within %u s", what,
			 (int)id->pid, first, last, timeout_ms / 1000);
	log_since(log, log_start, tail, sizeof(tail));
	if (tail[0])
		fprintf(stderr, "--- what it wrote to its log (%s):\n%s%s--- end\n", log, tail,
			tail[strlen(tail) - 1] == '\n' ? "" : "\n");
	else
		fprintf(stderr, "--- it wrote nothing to its log (%s)\n", log);
	om_proc_stop(id, 2000);
	return err;
}

int om_start_relay(const struct om_ctx *ctx, struct om_cluster_state *st, unsigned int last,
		   unsigned int timeout_ms, const char *cmd)
{
	if (last == 0) {
		om_error("cluster '%s' has no nodes to relay for", st->name);
		return -EINVAL;
	}
	for (unsigned int h = 1; h <= om_relays(st); h++) {
		int err;

		if (om_proc_alive(om_relay_proc(st, h)))
			continue;
		err = start_one(ctx, st, h, last, timeout_ms, cmd);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Host h's relay line; its answer appended to answer (whose node= lines
 * are each node's, whatever host serves it). True when it runs and answered.
 */
static bool relay_line(const struct om_ctx *ctx, const struct om_cluster_state *st,
		       unsigned int h, char *answer, size_t cap)
{
	const struct om_proc_id *id = relay_of(st, h);
	size_t used = strlen(answer);
	char base[PATH_MAX], log[PATH_MAX], tag[32] = "relay";
	int r;

	if (st->hosts)
		snprintf(tag, sizeof(tag), "relay h%u", h);
	if (om_relay_base(ctx->dir, st, h, base, sizeof(base)))
		return false;
	om_relay_path(base, OM_RELAY_LOG, log, sizeof(log));
	if (id->pid <= 0) {
		printf("%s: none started (start it with: omcluster -c %s relay start)\n", tag,
		       st->name);
		return false;
	}
	if (!om_proc_alive(id)) {
		printf("%s: omhostd pid %d, not running (see %s; omcluster -c %s relay start)\n", tag,
		       (int)id->pid, log, st->name);
		return false;
	}
	r = om_relay_status(base, answer + used, cap - used, 3000);
	if (r) {
		printf("%s: omhostd pid %d, running, not answering: %s (see %s)\n", tag,
		       (int)id->pid, strerror(-r), log);
		answer[used] = '\0';
		return false;
	}
	printf("%s: omhostd pid %d, running, log %s\n", tag, (int)id->pid, log);
	return true;
}

bool om_relay_line(const struct om_ctx *ctx, const struct om_cluster_state *st, char *answer,
		   size_t cap)
{
	bool all = true;

	answer[0] = '\0';
	for (unsigned int h = 1; h <= om_relays(st); h++) {
		size_t used = strlen(answer);

		if (!relay_line(ctx, st, h, answer, cap))
			all = false;
		else if (st->hosts)
			/* Each host's peers and links, as omhostd tells them. */
			om_ctl_print_links(stdout, answer + used);
	}
	return all;
}
