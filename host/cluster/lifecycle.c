// SPDX-License-Identifier: GPL-2.0-only
/* omcluster up, down and status: a cluster's life from boot to teardown. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "agent-client.h"
#include "omcluster.h"
#include "proc.h"
#include "readiness.h"

/* Set by SIGINT/SIGTERM during up: stop booting and clean up. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int check_artifact(const char *what, const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	om_error("%s not found at %s (%s): build it with `meson compile -C %s`, or say where it is",
		 what, path, strerror(errno), OM_BUILD_ROOT);
	return -ENOENT;
}

static const char *pick(const char *option, const char *env, const char *fallback)
{
	const char *e = getenv(env);

	if (option)
		return option;
	return e && *e ? e : fallback;
}

static int resolve_artifacts(const struct om_cli *cli, struct om_artifacts *art)
{
	snprintf(art->kernel, sizeof(art->kernel), "%s",
		 pick(cli->kernel, "OMCLUSTER_KERNEL", OM_DEFAULT_KERNEL));
	snprintf(art->initrd, sizeof(art->initrd), "%s",
		 pick(cli->initrd, "OMCLUSTER_INITRD", OM_DEFAULT_INITRD));
	snprintf(art->qemu, sizeof(art->qemu), "%s",
		 pick(cli->qemu, "OMCLUSTER_QEMU", OM_DEFAULT_QEMU));
	snprintf(art->firmware[0], sizeof(art->firmware[0]), "%s", OM_FIRMWARE_DIR_BIOS);
	snprintf(art->firmware[1], sizeof(art->firmware[1]), "%s", OM_FIRMWARE_DIR_ROMS);
	if (check_artifact("guest kernel", art->kernel) ||
	    check_artifact("guest initramfs", art->initrd) ||
	    check_artifact("QEMU", art->qemu))
		return -ENOENT;
	if (access(art->qemu, X_OK) != 0) {
		om_error("QEMU at %s is not executable", art->qemu);
		return -EACCES;
	}
	return 0;
}

static bool any_alive(const struct om_cluster_state *st)
{
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (om_proc_alive(&st->nodes[i].qemu))
			return true;
	return false;
}

/*
 * Stops every process of the cluster: those recorded in the state, then any
 * other whose command line names the cluster's directory (one started by an
 * up that was killed before it could record it). Returns how many remain.
 */
static unsigned int stop_all(const struct om_cluster_state *st, const char *dir,
			     unsigned int timeout_ms)
{
	unsigned int left = 0;
	char needle[PATH_MAX + 2];
	struct dirent *de;
	DIR *proc;

	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (om_proc_stop(&st->nodes[i].qemu, timeout_ms))
			left++;
	snprintf(needle, sizeof(needle), "%s/", dir);
	proc = opendir("/proc");
	if (!proc)
		return left;
	while ((de = readdir(proc))) {
		char path[64], cmd[8192];
		struct om_proc_id id;
		ssize_t n;
		int fd;

		id.pid = (pid_t)atoi(de->d_name);
		if (id.pid <= 0 || id.pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)id.pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
		if (!strstr(cmd, needle) || om_proc_start_time(id.pid, &id.start))
			continue;
		if (om_proc_stop(&id, timeout_ms))
			left++;
	}
	closedir(proc);
	return left;
}

struct booting_guest {
	struct om_agent agent;
	bool connected;
	long long console_offset;
	bool panic;
	enum om_guest_verdict verdict;
	char info[128];
};

static void report_failure(const struct om_node_state *n, const struct booting_guest *b)
{
	char tail[4096], path[PATH_MAX + 16];

	om_error("node %u: %s", n->node, om_verdict_name(b->verdict));
	snprintf(path, sizeof(path), "%s/console.log", n->dir);
	if (om_console_tail(path, 25, tail, sizeof(tail)) == 0 && tail[0])
		fprintf(stderr, "--- last lines of node %u's console (%s):\n%s--- end\n", n->node,
			path, tail);
	else
		fprintf(stderr, "--- node %u's console (%s) is empty\n", n->node, path);
	snprintf(path, sizeof(path), "%s/qemu.log", n->dir);
	if (b->verdict == OM_GUEST_EXITED && om_console_tail(path, 10, tail, sizeof(tail)) == 0 &&
	    tail[0])
		fprintf(stderr, "--- QEMU's own output (%s):\n%s--- end\n", path, tail);
}

/* One look at a booting guest: console, process, agent. */
static void observe(const struct om_node_state *n, struct booting_guest *b, long long elapsed,
		    long long timeout)
{
	struct om_guest_observation o = { .elapsed_ms = elapsed, .timeout_ms = timeout };
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/console.log", n->dir);
	om_console_scan(path, &b->console_offset, &b->panic);
	o.console_panic = b->panic;
	o.process_alive = om_proc_alive(&n->qemu);
	if (o.process_alive && !b->connected) {
		snprintf(path, sizeof(path), "%s/agent.sock", n->dir);
		/* QEMU listens once it has set up: until then, try again next round. */
		if (om_agent_open(&b->agent, path, NULL) == 0) {
			b->connected = om_agent_send_hello(&b->agent) == 0;
			if (!b->connected)
				om_agent_close(&b->agent);
		}
	}
	if (o.process_alive && b->connected) {
		int r = om_agent_poll_hello(&b->agent, b->info, sizeof(b->info));

		if (r == 1)
			o.agent_answered = true;
		else if (r < 0) {
			om_agent_close(&b->agent);
			b->connected = false;
		}
	}
	b->verdict = om_readiness_verdict(&o);
	if (b->verdict != OM_GUEST_BOOTING && b->connected) {
		om_agent_close(&b->agent);
		b->connected = false;
	}
}

static void info_value(const char *info, const char *key, char *out, size_t cap)
{
	const char *p = strstr(info, key);
	size_t n;

	snprintf(out, cap, "?");
	if (!p)
		return;
	p += strlen(key);
	n = strcspn(p, "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Waits for every guest; true when all are ready. */
static bool wait_ready(const struct om_cluster_state *st, struct booting_guest *b,
		       unsigned int timeout_s)
{
	long long start = om_now_ms(), timeout = (long long)timeout_s * 1000;
	bool tty = isatty(STDERR_FILENO);
	unsigned int shown = ~0u;

	for (;;) {
		unsigned int ready = 0, failed = 0;
		long long elapsed = om_now_ms() - start;

		for (unsigned int i = 0; i < st->n_nodes; i++) {
			if (b[i].verdict == OM_GUEST_BOOTING)
				observe(&st->nodes[i], &b[i], elapsed, timeout);
			ready += b[i].verdict == OM_GUEST_READY;
			failed += b[i].verdict != OM_GUEST_READY && b[i].verdict != OM_GUEST_BOOTING;
		}
		if (tty)
			fprintf(stderr, "\r[up] booting %u guests: %u ready, %lld s ", st->n_nodes,
				ready, elapsed / 1000);
		else if (ready != shown)
			fprintf(stderr, "[up] booting %u guests: %u ready, %lld s\n", st->n_nodes,
				ready, elapsed / 1000);
		shown = ready;
		if (failed || ready == st->n_nodes || interrupted) {
			if (tty)
				fputc('\n', stderr);
			return !failed && !interrupted;
		}
		om_sleep_ms(100);
	}
}

static int prepare_dir(const struct om_ctx *ctx)
{
	struct om_cluster_state old;
	char err[256];

	if (mkdir(ctx->run_dir, 0755) < 0 && errno != EEXIST) {
		om_error("cannot create %s: %s", ctx->run_dir, strerror(errno));
		return 1;
	}
	if (om_state_load(ctx->dir, &old, err, sizeof(err)) == 0 && any_alive(&old)) {
		om_error("cluster '%s' is already up (%u guests): use it, or `omcluster -c %s down` first",
			 ctx->cli->cluster, old.n_nodes, ctx->cli->cluster);
		return 1;
	}
	/* Leftovers of a cluster whose processes are gone: clear them. */
	if (access(ctx->dir, F_OK) == 0) {
		struct om_cluster_state none = { .n_nodes = 0 };

		stop_all(&none, ctx->dir, 2000);
		om_remove_tree(ctx->dir);
	}
	if (mkdir(ctx->dir, 0700) < 0) {
		om_error("cannot create %s: %s", ctx->dir, strerror(errno));
		return 1;
	}
	return 0;
}

static int start_guest(const struct om_ctx *ctx, const struct om_artifacts *art,
		       struct om_cluster_state *st, unsigned int node)
{
	const struct om_cli *cli = ctx->cli;
	struct om_node_state *n = &st->nodes[st->n_nodes];
	struct om_argv *argv;
	char dir[PATH_MAX], log[PATH_MAX];
	struct om_guest g;
	int err;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/node%u", ctx->dir, node) >= sizeof(dir))
		return -ENAMETOOLONG;
	err = om_guest_init(&g, node, cli->mem_mib, cli->cpus, st->accel, dir, cli->append);
	if (err == -ENAMETOOLONG) {
		om_error("node %u: socket paths under %s are too long for unix sockets; use a shorter --run-dir",
			 node, dir);
		return err;
	}
	if (err) {
		om_error("node %u: bad guest description: %s", node, strerror(-err));
		return err;
	}
	if (mkdir(dir, 0700) < 0) {
		err = -errno;
		om_error("cannot create %s: %s", dir, strerror(errno));
		return err;
	}
	argv = calloc(1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	err = om_guest_qemu_argv(&g, art, argv);
	if (err) {
		free(argv);
		om_error("node %u: QEMU command line too long", node);
		return err;
	}
	om_guest_path(&g, OM_GUEST_QEMU_LOG, log, sizeof(log));
	err = om_proc_spawn(argv->argv, log, &n->qemu);
	free(argv);
	if (err) {
		om_error("node %u: cannot start %s: %s", node, art->qemu, strerror(-err));
		return err;
	}
	n->node = node;
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	st->n_nodes++;
	/* Recorded at once: a down (or the next up) finds it even if we die now. */
	err = om_state_save(st);
	if (err)
		om_error("cannot write the cluster state in %s: %s", ctx->dir, strerror(-err));
	return err;
}

int om_cmd_up(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct sigaction sa = { .sa_handler = on_interrupt };
	struct om_cluster_state *st;
	struct booting_guest *boot;
	struct om_accel_choice accel;
	struct om_artifacts art;
	long long t0 = om_now_ms();
	unsigned int timeout_s = cli->timeout_s ? cli->timeout_s : 180;
	int status = 1, r;

	if (resolve_artifacts(cli, &art))
		return 1;
	if (prepare_dir(ctx))
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fprintf(stderr, "[up] choosing the accelerator%s\n",
		cli->accel == OM_ACCEL_TCG ? "" : " (a probe boot under KVM, once per build)");
	r = om_accel_choose(cli->accel, &art, ctx->cache_dir, ctx->dir, &accel);
	if (r) {
		om_error("KVM was asked for but does not work here: %s", accel.reason);
		om_remove_tree(ctx->dir);
		return 1;
	}
	fprintf(stderr, "[up] accelerator: %s (%s%s)\n", om_accel_name(accel.accel), accel.reason,
		accel.cached ? ", remembered from an earlier probe" : "");

	st = calloc(1, sizeof(*st));
	boot = calloc(cli->nodes, sizeof(*boot));
	if (!st || !boot) {
		om_error("out of memory");
		goto out;
	}
	snprintf(st->name, sizeof(st->name), "%s", cli->cluster);
	snprintf(st->dir, sizeof(st->dir), "%s", ctx->dir);
	st->accel = accel.accel;
	snprintf(st->accel_reason, sizeof(st->accel_reason), "%s", accel.reason);
	st->created = (long long)time(NULL);
	st->mem_mib = cli->mem_mib;
	st->cpus = cli->cpus;
	if (om_state_save(st)) {
		om_error("cannot write the cluster state in %s", ctx->dir);
		goto out;
	}
	for (unsigned int node = 1; node <= cli->nodes && !interrupted; node++)
		if (start_guest(ctx, &art, st, node))
			goto teardown;
	if (!interrupted && wait_ready(st, boot, timeout_s)) {
		printf("cluster '%s' is up: %u guests (%s) in %.1f s\n", st->name, st->n_nodes,
		       om_accel_name(st->accel), (double)(om_now_ms() - t0) / 1000.0);
		printf("%-6s %-8s %s\n", "NODE", "PID", "KERNEL");
		for (unsigned int i = 0; i < st->n_nodes; i++) {
			char release[80];

			info_value(boot[i].info, "release=", release, sizeof(release));
			printf("%-6u %-8d %s\n", st->nodes[i].node, (int)st->nodes[i].qemu.pid,
			       release);
		}
		status = 0;
		goto out;
	}
	if (interrupted)
		om_error("interrupted: stopping the guests");
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (boot[i].verdict != OM_GUEST_READY && boot[i].verdict != OM_GUEST_BOOTING)
			report_failure(&st->nodes[i], &boot[i]);
teardown:
	if (stop_all(st, ctx->dir, 3000))
		om_error("some processes of cluster '%s' would not stop; see %s", st->name, ctx->dir);
	else
		om_remove_tree(ctx->dir);
out:
	if (boot)
		for (unsigned int i = 0; i < cli->nodes; i++)
			if (boot[i].connected)
				om_agent_close(&boot[i].agent);
	free(boot);
	free(st);
	return status;
}

int om_cmd_down(const struct om_ctx *ctx)
{
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	unsigned int timeout_s = ctx->cli->timeout_s ? ctx->cli->timeout_s : 10;
	char err[256];
	unsigned int left;
	int r;

	if (!st) {
		om_error("out of memory");
		return 1;
	}
	r = om_state_load(ctx->dir, st, err, sizeof(err));
	if (r == -ENOENT && access(ctx->dir, F_OK) != 0) {
		printf("no cluster '%s' is up\n", ctx->cli->cluster);
		free(st);
		return 0;
	}
	if (r) {
		/* Without a state, the directory scan still finds its processes. */
		om_error("cluster state in %s unreadable (%s); stopping what names that directory",
			 ctx->dir, r == -EBADMSG ? err : strerror(-r));
		memset(st, 0, sizeof(*st));
	}
	left = stop_all(st, ctx->dir, timeout_s * 1000);
	if (left) {
		om_error("%u processes of cluster '%s' would not stop; its files stay in %s", left,
			 ctx->cli->cluster, ctx->dir);
		free(st);
		return 1;
	}
	r = om_remove_tree(ctx->dir);
	if (r) {
		om_error("cannot remove %s: %s", ctx->dir, strerror(-r));
		free(st);
		return 1;
	}
	printf("cluster '%s' is down: %u guests stopped\n", ctx->cli->cluster, st->n_nodes);
	free(st);
	return 0;
}

static const char *node_status(const struct om_node_state *n, char *release, size_t cap)
{
	char sock[PATH_MAX + 16], lock[PATH_MAX + 16], info[128];
	struct om_agent a;
	int fd, r;

	snprintf(release, cap, "-");
	if (!om_proc_alive(&n->qemu))
		return "dead";
	snprintf(lock, sizeof(lock), "%s/agent.lock", n->dir);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return "busy";
	}
	snprintf(sock, sizeof(sock), "%s/agent.sock", n->dir);
	r = om_agent_open(&a, sock, NULL);
	if (!r) {
		r = om_agent_hello(&a, info, sizeof(info), 3000);
		om_agent_close(&a);
	}
	if (fd >= 0)
		close(fd);
	if (r)
		return "unresponsive";
	info_value(info, "release=", release, cap);
	return "ready";
}

int om_cmd_status(const struct om_ctx *ctx)
{
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	unsigned int ready = 0;
	long long up;
	int r;

	if (!st) {
		om_error("out of memory");
		return 1;
	}
	r = om_load_cluster(ctx, st);
	if (r) {
		free(st);
		return r;
	}
	up = (long long)time(NULL) - st->created;
	printf("cluster '%s': %u guests, %s (%s), up %lldm%02llds, in %s\n", st->name, st->n_nodes,
	       om_accel_name(st->accel), st->accel_reason, up / 60, up % 60, st->dir);
	printf("%-6s %-8s %-13s %s\n", "NODE", "PID", "STATE", "KERNEL");
	for (unsigned int i = 0; i < st->n_nodes; i++) {
		char release[80];
		const char *s = node_status(&st->nodes[i], release, sizeof(release));

		ready += strcmp(s, "ready") == 0;
		printf("%-6u %-8d %-13s %s\n", st->nodes[i].node, (int)st->nodes[i].qemu.pid, s,
		       release);
	}
	r = ready == st->n_nodes ? 0 : 1;
	free(st);
	return r;
}
