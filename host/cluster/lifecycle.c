// SPDX-License-Identifier: GPL-2.0-only
/*
 * omcluster up, down and status: a cluster's life from boot to teardown;
 * and what start and relay share with up (booting a guest, the relay).
 */
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
#include "cgroup.h"
#include "control-client.h"
#include "hosts.h"
#include "libvirt-guests.h"
#include "omcluster.h"
#include "proc.h"
#include "readiness.h"
#include "relay.h"

/* The device QEMU must offer: virtio-om's front-end (qemu-patches/). */
#define OM_QEMU_DEVICE "vhost-user-om-pci"

/* Set by SIGINT/SIGTERM during up or start: stop booting and clean up. */
volatile sig_atomic_t om_interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	om_interrupted = 1;
}

void om_catch_interrupts(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int om_lock_cluster(const struct om_ctx *ctx, const char *cmd)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/cluster.lock", ctx->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		om_error("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	fprintf(stderr, "[%s] waiting for another omcluster command on cluster '%s' to finish\n",
		cmd, ctx->cli->cluster);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			om_error("cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int om_check_artifact(const char *what, const char *path, bool program)
{
	if (access(path, R_OK) != 0) {
		om_error("%s not found at %s (%s): build it with `meson compile -C %s`, or say where it is",
			 what, path, strerror(errno), OM_BUILD_ROOT);
		return -ENOENT;
	}
	if (program && access(path, X_OK) != 0) {
		om_error("%s at %s is not executable", what, path);
		return -EACCES;
	}
	return 0;
}

/* What a guest boots from: kernel, initramfs, QEMU. */
static int check_guest_artifacts(const struct om_artifacts *art)
{
	if (om_check_artifact("guest kernel", art->kernel, false) ||
	    om_check_artifact("guest initramfs", art->initrd, false) ||
	    om_check_artifact("QEMU", art->qemu, true))
		return -ENOENT;
	return 0;
}

static const char *pick(const char *option, const char *env, const char *fallback)
{
	const char *e = getenv(env);

	if (option)
		return option;
	return e && *e ? e : fallback;
}

/*
 * path as an absolute path (relative to the current directory), so that
 * later commands, run from elsewhere, find the same file.
 */
static int absolute(char *out, size_t cap, const char *path)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(out, cap, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, cap, "%s/%s", cwd, path);
	else
		return -errno;
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static void firmware_dirs(struct om_artifacts *art)
{
	snprintf(art->firmware[0], sizeof(art->firmware[0]), "%s", OM_FIRMWARE_DIR_BIOS);
	snprintf(art->firmware[1], sizeof(art->firmware[1]), "%s", OM_FIRMWARE_DIR_ROMS);
}

static int resolve_artifacts(const struct om_cli *cli, struct om_artifacts *art)
{
	const struct {
		char *dst;
		const char *path;
	} files[] = {
		{ art->kernel, pick(cli->kernel, "OMCLUSTER_KERNEL", OM_DEFAULT_KERNEL) },
		{ art->initrd, pick(cli->initrd, "OMCLUSTER_INITRD", OM_DEFAULT_INITRD) },
		{ art->qemu, pick(cli->qemu, "OMCLUSTER_QEMU", OM_DEFAULT_QEMU) },
		{ art->omhostd, pick(cli->omhostd, "OMCLUSTER_OMHOSTD", OM_DEFAULT_OMHOSTD) },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (strchr(files[i].path, '\n') || absolute(files[i].dst, PATH_MAX, files[i].path)) {
			om_error("unusable path '%s'", files[i].path);
			return -EINVAL;
		}
	}
	firmware_dirs(art);
	if (check_guest_artifacts(art) || om_check_artifact("omhostd", art->omhostd, true))
		return -ENOENT;
	return 0;
}

int om_recorded_artifacts(const struct om_cluster_state *st, struct om_artifacts *art)
{
	memset(art, 0, sizeof(*art));
	if (!st->kernel[0] || !st->initrd[0] || !st->qemu[0]) {
		om_error("the state of cluster '%s' does not say what it was booted with (an older omcluster made it): `omcluster -c %s down`, then up again",
			 st->name, st->name);
		return 1;
	}
	snprintf(art->kernel, sizeof(art->kernel), "%s", st->kernel);
	snprintf(art->initrd, sizeof(art->initrd), "%s", st->initrd);
	snprintf(art->qemu, sizeof(art->qemu), "%s", st->qemu);
	snprintf(art->omhostd, sizeof(art->omhostd), "%s", st->omhostd);
	firmware_dirs(art);
	return check_guest_artifacts(art) ? 1 : 0;
}

/* QEMU must have virtio-om's front-end, or every guest would fail to start. */
static int check_qemu_device(const char *qemu)
{
	char *argv[] = { (char *)qemu, "-device", "help", NULL };
	const size_t cap = 1 << 20;
	char *out = malloc(cap);
	int r;

	if (!out) {
		om_error("out of memory");
		return -ENOMEM;
	}
	/* Its list names each device in quotes: name "vhost-user-om-pci", bus PCI */
	r = om_proc_capture(argv, out, cap, 10000);
	if (r < 0) {
		om_error("cannot ask QEMU at %s for its devices: %s", qemu, strerror(-r));
	} else if (!strstr(out, "\"" OM_QEMU_DEVICE "\"")) {
		/* A QEMU that failed to list anything says why on its first line. */
		om_error("QEMU at %s has no " OM_QEMU_DEVICE " device: rebuild (meson compile -C %s)%s%.*s",
			 qemu, OM_BUILD_ROOT, r ? "; it said: " : "",
			 r ? (int)strcspn(out, "\n") : 0, out);
		r = -ENODEV;
	} else {
		r = 0;
	}
	free(out);
	return r;
}

bool om_node_running(const struct om_node_state *n)
{
	return n->domain[0] ? om_lv_running(n->domain) : om_proc_alive(&n->qemu);
}

int om_node_stop(const struct om_node_state *n, bool kill, unsigned int timeout_ms)
{
	if (n->domain[0])
		return om_lv_stop(n->domain, kill, timeout_ms);
	return kill ? om_proc_kill(&n->qemu) : om_proc_stop(&n->qemu, timeout_ms);
}

const char *om_node_runner(const struct om_node_state *n, char *buf, size_t cap)
{
	if (n->domain[0])
		snprintf(buf, cap, "domain %s", n->domain);
	else
		snprintf(buf, cap, "QEMU pid %d", (int)n->qemu.pid);
	return buf;
}

const char *om_node_gone(const struct om_node_state *n, char *buf, size_t cap)
{
	if (n->domain[0])
		snprintf(buf, cap, "its domain %s is not running", n->domain);
	else
		snprintf(buf, cap, "its QEMU, pid %d, is gone", (int)n->qemu.pid);
	return buf;
}

const struct om_qemu_user *om_foreign_qemu_user(const struct om_cluster_state *st)
{
	return st->qemu_user_set && !om_qemu_user_is_us(&st->qemu_user) ? &st->qemu_user : NULL;
}

static bool any_alive(struct om_cluster_state *st)
{
	for (unsigned int h = 1; h <= om_relays(st); h++)
		if (om_proc_alive(om_relay_proc(st, h)))
			return true;
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (om_node_running(&st->nodes[i]))
			return true;
	return false;
}

unsigned int om_last_node(const struct om_cluster_state *st)
{
	unsigned int last = 0;

	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].node > last)
			last = st->nodes[i].node;
	return last;
}

/*
 * Stops every process of the cluster: those recorded in the state, then
 * every other member of its cgroup (one started by an up that was killed
 * before it could record it, or by one of ours), removing the cgroup; in a
 * cluster without a cgroup, any process carrying its mark. Returns how
 * many remain.
 */
static unsigned int stop_all(struct om_cluster_state *st, const char *name, const char *dir,
			     unsigned int timeout_ms)
{
	char relay_dir[PATH_MAX];
	unsigned int left = 0;
	int r;

	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (om_node_stop(&st->nodes[i], false, timeout_ms))
			left++;
	/* Domains carry the relay directory in their mark: those not recorded too. */
	if (om_relay_path(dir, OM_RELAY_DIR, relay_dir, sizeof(relay_dir)) == 0)
		left += om_lv_sweep(relay_dir, timeout_ms);
	/* The relays last, once no guest is left to lose its back-end. */
	for (unsigned int h = 1; h <= om_relays(st); h++)
		if (om_proc_stop(om_relay_proc(st, h), timeout_ms))
			left++;
	if (!st->cgroup[0]) {
		left += om_proc_stop_strays(dir, timeout_ms);
	} else {
		r = om_cgroup_stop(st->cgroup, timeout_ms);
		if (r < 0)
			om_error("cannot stop the processes of cgroup %s: %s", st->cgroup,
				 strerror(-r));
		left += r < 0 ? 1 : (unsigned int)r;
	}
	/* up --hosts: its namespaces, by name, whatever the state says; veths go with them. */
	if (!left)
		left += om_hosts_remove(name, dir);
	return left;
}

/*
 * Makes the cluster's cgroup into st->cgroup. Where that cannot be done,
 * says so once and leaves it empty: the processes are then known by pid,
 * start time and the OMCLUSTER_OWNER mark.
 */
static void make_cgroup(struct om_cluster_state *st)
{
	char parent[PATH_MAX];
	int r = om_cgroup_parent(parent, sizeof(parent));

	if (!r)
		r = om_cgroup_path(parent, st->name, st->dir, st->cgroup, sizeof(st->cgroup));
	if (!r)
		r = om_cgroup_create(st->cgroup);
	if (!r)
		return;
	fprintf(stderr,
		"[up] no cgroup for the cluster (%s%s%s): its processes are known by pid, start time and the " OM_PROC_OWNER_ENV " mark instead; down cannot end what drops the mark\n",
		r == -ENOTSUP ? OM_CGROUP_PARENT_ENV "=none" : st->cgroup[0] ? st->cgroup : "no cgroup v2 hierarchy",
		r == -ENOTSUP ? "" : ": ", r == -ENOTSUP ? "" : strerror(-r));
	st->cgroup[0] = '\0';
}

void om_report_failure(const struct om_node_state *n, const struct om_booting_guest *b)
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
	if (b->verdict == OM_GUEST_EXITED && n->domain[0])
		fprintf(stderr, "--- QEMU's own output is in libvirt's log of domain %s\n",
			n->domain);
	else if (b->verdict == OM_GUEST_EXITED &&
		 om_console_tail(path, 10, tail, sizeof(tail)) == 0 && tail[0])
		fprintf(stderr, "--- QEMU's own output (%s):\n%s--- end\n", path, tail);
}

/* One look at a booting guest: console, process, agent. */
static void observe(const struct om_node_state *n, struct om_booting_guest *b, long long elapsed,
		    long long timeout)
{
	struct om_guest_observation o = { .elapsed_ms = elapsed, .timeout_ms = timeout };
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/console.log", n->dir);
	om_console_scan(path, &b->console_offset, &b->panic);
	o.console_panic = b->panic;
	o.process_alive = om_node_running(n);
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

void om_info_value(const char *info, const char *key, char *out, size_t cap)
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

bool om_wait_ready(const char *cmd, const struct om_node_state *nodes, unsigned int count,
		   struct om_booting_guest *b, unsigned int timeout_s)
{
	long long start = om_now_ms(), timeout = (long long)timeout_s * 1000;
	bool tty = isatty(STDERR_FILENO);
	unsigned int shown = ~0u;

	for (;;) {
		unsigned int ready = 0, failed = 0;
		long long elapsed = om_now_ms() - start;

		for (unsigned int i = 0; i < count; i++) {
			if (b[i].verdict == OM_GUEST_BOOTING)
				observe(&nodes[i], &b[i], elapsed, timeout);
			ready += b[i].verdict == OM_GUEST_READY;
			failed += b[i].verdict != OM_GUEST_READY && b[i].verdict != OM_GUEST_BOOTING;
		}
		if (tty)
			fprintf(stderr, "\r[%s] booting %u guest%s: %u ready, %lld s ", cmd, count,
				count == 1 ? "" : "s", ready, elapsed / 1000);
		else if (ready != shown)
			fprintf(stderr, "[%s] booting %u guest%s: %u ready, %lld s\n", cmd, count,
				count == 1 ? "" : "s", ready, elapsed / 1000);
		shown = ready;
		if (failed || ready == count || om_interrupted) {
			if (tty)
				fputc('\n', stderr);
			return !failed && !om_interrupted;
		}
		om_sleep_ms(100);
	}
}

void om_booting_release(struct om_booting_guest *b, unsigned int count)
{
	for (unsigned int i = 0; b && i < count; i++)
		if (b[i].connected) {
			om_agent_close(&b[i].agent);
			b[i].connected = false;
		}
}

static int prepare_dir(const struct om_ctx *ctx)
{
	struct om_cluster_state *old = calloc(1, sizeof(*old));
	char err[256];

	if (!old) {
		om_error("out of memory");
		return 1;
	}
	if (mkdir(ctx->run_dir, 0755) < 0 && errno != EEXIST) {
		om_error("cannot create %s: %s", ctx->run_dir, strerror(errno));
		free(old);
		return 1;
	}
	if (om_state_load(ctx->dir, old, err, sizeof(err)) == 0 && any_alive(old)) {
		om_error("cluster '%s' is already up (%u guests): use it, or `omcluster -c %s down` first",
			 ctx->cli->cluster, old->n_nodes, ctx->cli->cluster);
		free(old);
		return 1;
	}
	free(old);
	/* Leftovers of a cluster whose processes are gone: clear them. */
	if (access(ctx->dir, F_OK) == 0) {
		struct om_cluster_state none = { .n_nodes = 0 };

		stop_all(&none, ctx->cli->cluster, ctx->dir, 2000);
		om_remove_tree(ctx->dir);
	}
	if (mkdir(ctx->dir, 0700) < 0) {
		om_error("cannot create %s: %s", ctx->dir, strerror(errno));
		return 1;
	}
	return 0;
}

/* The directory of node's files: CLUSTERDIR/nodeN. */
static int node_dir(const struct om_ctx *ctx, unsigned int node, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/node%u", ctx->dir, node);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* With --net: node's NICs, one per other node of 1..last. */
static int add_net_links(const struct om_ctx *ctx, struct om_guest *g, unsigned int last)
{
	char peer_dir[PATH_MAX];
	int err = 0;

	for (unsigned int peer = 1; peer <= last && !err; peer++) {
		if (peer == g->node)
			continue;
		err = node_dir(ctx, peer, peer_dir, sizeof(peer_dir));
		if (!err)
			err = om_guest_add_net_link(g, peer, peer_dir);
	}
	return err;
}

int om_spawn_guest(const struct om_ctx *ctx, const struct om_artifacts *art,
		   const struct om_cluster_state *st, struct om_node_state *n, unsigned int last)
{
	const struct om_owner owner = { .cgroup = st->cgroup[0] ? st->cgroup : NULL, .dir = ctx->dir };
	struct om_argv *argv;
	char log[PATH_MAX], relay_dir[PATH_MAX];
	struct om_guest g;
	unsigned int node = n->node;
	int err;

	if (om_node_relay_dir(ctx->dir, st, last, node, relay_dir, sizeof(relay_dir))) {
		om_error("node %u: the path of the relay's directory is too long", node);
		return -ENAMETOOLONG;
	}
	if (st->libvirt_uri[0]) {
		n->qemu = (struct om_proc_id){ 0 };
		return om_lv_boot(st, art, n, relay_dir);
	}
	err = om_guest_init(&g, node, st->mem_mib, st->cpus, st->accel, n->dir, st->append);
	if (!err && n->cpu_model[0])
		err = om_guest_set_cpu(&g, n->cpu_model);
	if (!err)
		err = om_guest_add_om_device(&g, relay_dir);
	if (!err && st->net)
		err = add_net_links(ctx, &g, last);
	if (err == -ENAMETOOLONG) {
		om_error("node %u: socket paths under %s are too long for unix sockets; use a shorter --run-dir",
			 node, ctx->dir);
		return err;
	}
	if (err) {
		om_error("node %u: bad guest description: %s", node, strerror(-err));
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
	err = om_proc_spawn(argv->argv, log, &owner, &n->qemu);
	free(argv);
	if (err)
		om_error("node %u: cannot start %s: %s", node, art->qemu, strerror(-err));
	return err;
}

static int start_guest(const struct om_ctx *ctx, const struct om_artifacts *art,
		       struct om_cluster_state *st, unsigned int node, unsigned int last)
{
	struct om_node_state *n = &st->nodes[st->n_nodes];
	char dir[PATH_MAX];
	int err;

	if (node_dir(ctx, node, dir, sizeof(dir))) {
		om_error("node %u: the path of its directory is too long", node);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) < 0) {
		err = -errno;
		om_error("cannot create %s: %s", dir, strerror(errno));
		return err;
	}
	/* libvirt's QEMU makes its agent socket there, its virtlogd the console log. */
	err = om_foreign_qemu_user(st) ? om_qemu_user_share(om_foreign_qemu_user(st), dir, 02770) : 0;
	if (err) {
		om_error("cannot open %s to QEMU's group: %s", dir, strerror(-err));
		return err;
	}
	memset(n, 0, sizeof(*n));
	n->node = node;
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	if (ctx->cli->node_cpu[node])
		snprintf(n->cpu_model, sizeof(n->cpu_model), "%s", ctx->cli->node_cpu[node]);
	if (st->libvirt_uri[0] && om_lv_domain_name(st->name, node, n->domain, sizeof(n->domain))) {
		om_error("node %u: its domain's name is too long", node);
		return -ENAMETOOLONG;
	}
	err = om_spawn_guest(ctx, art, st, n, last);
	if (err)
		return err;
	st->n_nodes++;
	/* Recorded at once: a down (or the next up) finds it even if we die now. */
	err = om_state_save(st);
	if (err)
		om_error("cannot write the cluster state in %s: %s", ctx->dir, strerror(-err));
	return err;
}

/*
 * up --libvirt: whom libvirt runs QEMU as, recorded in st; when that is not
 * us, the cluster's directory opened to its group, once it can reach it.
 * 0, or -errno after telling the user.
 */
static int libvirt_qemu_user(const struct om_ctx *ctx, struct om_cluster_state *st)
{
	char blocker[PATH_MAX];
	int r = om_lv_qemu_user(st->accel, ctx->cli->qemu_user, &st->qemu_user);

	if (r)
		return r;
	st->qemu_user_set = true;
	if (!om_foreign_qemu_user(st))
		return 0;
	r = om_qemu_user_reaches(&st->qemu_user, ctx->run_dir, blocker, sizeof(blocker));
	if (r == -EACCES) {
		om_error("libvirt runs QEMU as uid %u, which cannot reach the relay's sockets under %s: %s is closed to it (let it search there, e.g. chmod o+x %s, or use another --run-dir)",
			 (unsigned int)st->qemu_user.uid, ctx->run_dir, blocker, blocker);
		return r;
	}
	if (!r)
		r = om_qemu_user_share(&st->qemu_user, ctx->dir, 0710);
	if (r)
		om_error("cannot open %s to QEMU's group (gid %u): %s", ctx->dir,
			 (unsigned int)st->qemu_user.gid, strerror(-r));
	return r;
}

/* up --hosts: the hosts' namespaces, their network and the relays' key. 0 or 1. */
static int make_hosts(const struct om_cluster_state *st)
{
	char err[512];
	int r = om_hosts_create(st->name, st->dir, st->hosts, err, sizeof(err));

	if (r) {
		om_error("cannot make the cluster's %u hosts: %s", st->hosts, err);
		return 1;
	}
	fprintf(stderr, "[up] hosts: %u network namespaces on a bridge, " OM_HOSTS_NET "1-%u, key %s/" OM_HOSTS_PSK_FILE "\n",
		st->hosts, st->hosts, st->dir);
	return 0;
}

/* up --hosts: which host serves which nodes, and where (up and status say it). */
void om_hosts_lines(const struct om_cluster_state *st)
{
	unsigned int last = om_last_node(st);

	for (unsigned int h = 1; h <= st->hosts; h++) {
		unsigned int first, end;
		char ns[128];

		om_host_range(last, st->hosts, h, &first, &end);
		if (om_hosts_netns(st->name, st->dir, h, ns, sizeof(ns)))
			ns[0] = '\0';
		printf("host h%u: nodes %u-%u, netns %s, relay at " OM_HOSTS_NET "%u:%u\n", h, first,
		       end, ns, h, OM_HOSTS_PORT);
	}
}

/* The column that says what runs a node: its QEMU's pid, or its domain. */
static int runner_width(const struct om_cluster_state *st)
{
	int w = 8;

	for (unsigned int i = 0; st->libvirt_uri[0] && i < st->n_nodes; i++)
		if ((int)strlen(st->nodes[i].domain) + 1 > w)
			w = (int)strlen(st->nodes[i].domain) + 1;
	return w;
}

static const char *node_column(const struct om_node_state *n, char *buf, size_t cap)
{
	if (n->domain[0])
		snprintf(buf, cap, "%s", n->domain);
	else
		snprintf(buf, cap, "%d", (int)n->qemu.pid);
	return buf;
}

int om_cmd_up(const struct om_ctx *ctx)
{
	const struct om_cli *cli = ctx->cli;
	struct om_cluster_state *st;
	struct om_booting_guest *boot;
	struct om_accel_choice accel;
	struct om_artifacts art;
	long long t0 = om_now_ms();
	unsigned int timeout_s = cli->timeout_s ? cli->timeout_s : 180;
	int status = 1, lock = -1, r;

	char uri[sizeof(st->libvirt_uri)] = "";

	if (resolve_artifacts(cli, &art) || check_qemu_device(art.qemu))
		return 1;
	/* Before the leftovers are cleared: a killed up's domains are among them. */
	if (cli->libvirt && om_lv_connect(cli->libvirt_uri, uri, sizeof(uri)))
		return 1;
	if (cli->libvirt && strpbrk(uri, " \n")) {
		om_error("libvirt's URI '%s' cannot be kept in the cluster state", uri);
		return 1;
	}
	if (prepare_dir(ctx))
		return 1;
	lock = om_lock_cluster(ctx, "up");
	if (lock < 0) {
		om_remove_tree(ctx->dir);
		return 1;
	}
	om_catch_interrupts();

	fprintf(stderr, "[up] choosing the accelerator%s\n",
		cli->accel == OM_ACCEL_TCG ? "" : " (a probe boot under KVM, once per build)");
	r = om_accel_choose(cli->accel, &art, ctx->cache_dir, ctx->dir, &accel);
	if (r) {
		om_error("KVM was asked for but does not work here: %s", accel.reason);
		om_remove_tree(ctx->dir);
		close(lock);
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
	st->net = cli->net;
	snprintf(st->kernel, sizeof(st->kernel), "%s", art.kernel);
	snprintf(st->initrd, sizeof(st->initrd), "%s", art.initrd);
	snprintf(st->qemu, sizeof(st->qemu), "%s", art.qemu);
	snprintf(st->omhostd, sizeof(st->omhostd), "%s", art.omhostd);
	snprintf(st->libvirt_uri, sizeof(st->libvirt_uri), "%s", uri);
	if (cli->libvirt && libvirt_qemu_user(ctx, st))
		goto teardown;
	if (cli->libvirt)
		fprintf(stderr, "[up] libvirt: %s, QEMU as uid %u\n", uri,
			(unsigned int)st->qemu_user.uid);
	if ((size_t)snprintf(st->append, sizeof(st->append), "%s", cli->append ? cli->append : "") >=
	    sizeof(st->append)) {
		om_error("--append is too long (at most %zu characters)", sizeof(st->append) - 1);
		goto teardown;
	}
	make_cgroup(st);
	st->hosts = cli->hosts;
	r = om_state_save(st);
	if (r) {
		om_error("cannot write the cluster state in %s: %s", ctx->dir, strerror(-r));
		goto teardown;
	}
	if (st->hosts && make_hosts(st))
		goto teardown;
	/* The relay first: each guest's virtio-om device connects to it as QEMU starts. */
	if (om_start_relay(ctx, st, cli->nodes, OM_RELAY_START_TIMEOUT_MS, "up"))
		goto teardown;
	for (unsigned int node = 1; node <= cli->nodes && !om_interrupted; node++)
		if (start_guest(ctx, &art, st, node, cli->nodes))
			goto teardown;
	if (!om_interrupted && om_wait_ready("up", st->nodes, st->n_nodes, boot, timeout_s)) {
		printf("cluster '%s' is up: %u guests (%s) in %.1f s\n", st->name, st->n_nodes,
		       om_accel_name(st->accel), (double)(om_now_ms() - t0) / 1000.0);
		printf("%-6s %-*s %s\n", "NODE", runner_width(st), st->libvirt_uri[0] ? "DOMAIN" : "PID",
		       "KERNEL");
		for (unsigned int i = 0; i < st->n_nodes; i++) {
			char release[80], runner[96];

			om_info_value(boot[i].info, "release=", release, sizeof(release));
			printf("%-6u %-*s %s\n", st->nodes[i].node, runner_width(st),
			       node_column(&st->nodes[i], runner, sizeof(runner)), release);
		}
		if (st->net)
			printf("net: a virtio-net link between every pair of guests; node N is " OM_NET_ADDRESS_PATTERN "\n");
		if (st->hosts)
			om_hosts_lines(st);
		status = 0;
		goto out;
	}
	if (om_interrupted)
		om_error("interrupted: stopping the guests");
	for (unsigned int i = 0; i < st->n_nodes; i++)
		if (boot[i].verdict != OM_GUEST_READY && boot[i].verdict != OM_GUEST_BOOTING)
			om_report_failure(&st->nodes[i], &boot[i]);
teardown:
	om_booting_release(boot, boot ? cli->nodes : 0);
	if (stop_all(st, st->name, ctx->dir, 3000))
		om_error("some processes of cluster '%s' would not stop; see %s", st->name, ctx->dir);
	else
		om_remove_tree(ctx->dir);
out:
	om_booting_release(boot, boot ? cli->nodes : 0);
	free(boot);
	free(st);
	if (lock >= 0)
		close(lock);
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
		char parent[PATH_MAX];

		om_error("cluster state in %s unreadable (%s); stopping the processes of its cgroup, or carrying its mark",
			 ctx->dir, r == -EBADMSG ? err : strerror(-r));
		memset(st, 0, sizeof(*st));
		/* Where up would have made it, if down runs where up ran. */
		if (om_cgroup_parent(parent, sizeof(parent)) ||
		    om_cgroup_path(parent, ctx->cli->cluster, ctx->dir, st->cgroup,
				   sizeof(st->cgroup)) ||
		    access(st->cgroup, F_OK))
			st->cgroup[0] = '\0';
	}
	/* Its domains are libvirt's to end: without libvirt, keep everything for another try. */
	if (st->libvirt_uri[0] && om_lv_connect(st->libvirt_uri, NULL, 0)) {
		om_error("cluster '%s' is left as it is: its guests are domains of %s",
			 ctx->cli->cluster, st->libvirt_uri);
		free(st);
		return 1;
	}
	left = stop_all(st, ctx->cli->cluster, ctx->dir, timeout_s * 1000);
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
	if (st->hosts)
		printf("cluster '%s' is down: %u guests, %u relays and their hosts' namespaces stopped\n",
		       ctx->cli->cluster, st->n_nodes, st->hosts);
	else
		printf("cluster '%s' is down: %u guests%s stopped\n", ctx->cli->cluster, st->n_nodes,
		       st->relay.pid > 0 ? " and the relay" : "");
	free(st);
	return 0;
}

static const char *node_status(const struct om_node_state *n, char *release, size_t cap)
{
	char sock[PATH_MAX + 16], lock[PATH_MAX + 16], info[128];
	struct om_agent a;
	int fd, r;

	snprintf(release, cap, "-");
	if (!om_node_running(n))
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
	om_info_value(info, "release=", release, cap);
	return "ready";
}

static void cgroup_line(const struct om_cluster_state *st)
{
	struct om_cgroup_usage u;
	int r;

	if (!st->cgroup[0]) {
		printf("cgroup: none (processes known by pid, start time and the " OM_PROC_OWNER_ENV " mark)\n");
		return;
	}
	r = om_cgroup_usage(st->cgroup, &u);
	if (r)
		printf("cgroup: %s, unreadable: %s\n", st->cgroup, strerror(-r));
	else
		printf("cgroup: %s, %u processes, %.1f MiB%s\n", st->cgroup, u.procs,
		       (double)u.memory / (1024.0 * 1024.0),
		       u.memory_is_rss ? " resident (no memory controller there)" : "");
}

int om_cmd_status(const struct om_ctx *ctx)
{
	struct om_cluster_state *st = calloc(1, sizeof(*st));
	char *answer = malloc(64 * 1024);
	unsigned int ready = 0;
	bool relay_ok;
	long long up;
	int r;

	if (!st || !answer) {
		om_error("out of memory");
		free(st);
		free(answer);
		return 1;
	}
	r = om_load_cluster(ctx, st);
	if (r) {
		free(st);
		free(answer);
		return r;
	}
	up = (long long)time(NULL) - st->created;
	printf("cluster '%s': %u guests, %s (%s), up %lldm%02llds, in %s\n", st->name, st->n_nodes,
	       om_accel_name(st->accel), st->accel_reason, up / 60, up % 60, st->dir);
	if (st->net)
		printf("net: a virtio-net link between every pair of guests; node N is " OM_NET_ADDRESS_PATTERN "\n");
	if (st->hosts)
		om_hosts_lines(st);
	if (st->libvirt_uri[0])
		printf("libvirt: %s, QEMU as uid %u\n", st->libvirt_uri,
		       (unsigned int)st->qemu_user.uid);
	cgroup_line(st);
	relay_ok = om_relay_line(ctx, st, answer, 64 * 1024);
	printf("%-6s %-*s %-13s %-10s %s\n", "NODE", runner_width(st),
	       st->libvirt_uri[0] ? "DOMAIN" : "PID", "STATE", "RELAY", "KERNEL");
	for (unsigned int i = 0; i < st->n_nodes; i++) {
		char release[80], relay[16], runner[96];
		const char *s = node_status(&st->nodes[i], release, sizeof(release));

		ready += strcmp(s, "ready") == 0;
		printf("%-6u %-*s %-13s %-10s %s%s%s\n", st->nodes[i].node, runner_width(st),
		       node_column(&st->nodes[i], runner, sizeof(runner)), s,
		       om_ctl_node_state(answer, st->nodes[i].node, relay, sizeof(relay)), release,
		       st->nodes[i].cpu_model[0] ? " cpu " : "", st->nodes[i].cpu_model);
	}
	r = ready == st->n_nodes && relay_ok ? 0 : 1;
	free(answer);
	free(st);
	return r;
}
