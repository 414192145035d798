// SPDX-License-Identifier: GPL-2.0-only
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-client.h"
#include "proc.h"

#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

static const char *const file_names[] = {
	[OM_RELAY_DIR] = "",
	[OM_RELAY_LOG] = "/omhostd.log",
	[OM_RELAY_CONTROL] = "/control.sock",
};

int om_relay_path(const char *base, enum om_relay_file f, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/relay%s", base, file_names[f]);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* BASE/relay/node-N.sock, which must fit a unix socket address. */
static int node_socket(const char *base, unsigned int node, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/relay/node-%u.sock", base, node);

	return n < 0 || (size_t)n >= cap || (size_t)n >= SUN_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Adds link's options (up --hosts) to argv from *argc; 0 or -E2BIG. */
static int link_args(const struct om_relay_link *link, char **argv, size_t cap, size_t *argc)
{
	char *const opts[] = { "--name",     (char *)link->name,     "--listen",
			       (char *)link->listen, "--psk-file", (char *)link->psk_file };

	if (*argc + sizeof(opts) / sizeof(opts[0]) + 2 * link->n_peers + 1 > cap)
		return -E2BIG;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		argv[(*argc)++] = opts[i];
	for (unsigned int i = 0; i < link->n_peers; i++) {
		argv[(*argc)++] = "--peer";
		argv[(*argc)++] = (char *)link->peers[i];
	}
	argv[*argc] = NULL;
	return 0;
}

int om_relay_spawn(const char *omhostd, const char *base, const struct om_owner *owner,
		   unsigned int first, unsigned int last, const struct om_qemu_user *qemu,
		   const struct om_relay_link *link, struct om_proc_id *id)
{
	struct om_owner in_ns = *owner;
	char dir[PATH_MAX], log[PATH_MAX], control[PATH_MAX], sock[PATH_MAX], nodes[32], uid[16];
	char *argv[16 + 2 * OM_MAX_HOSTS] = { (char *)omhostd, "--dir", dir, "--nodes", nodes };
	size_t argc = 5;
	mode_t mask;
	int err;

	if (first < 1 || first > last)
		return -EINVAL;
	if (om_relay_path(base, OM_RELAY_DIR, dir, sizeof(dir)) ||
	    om_relay_path(base, OM_RELAY_LOG, log, sizeof(log)) ||
	    om_relay_path(base, OM_RELAY_CONTROL, control, sizeof(control)) ||
	    strlen(control) >= SUN_PATH_MAX || node_socket(base, last, sock, sizeof(sock)))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (qemu) {
		/* setgid: the sockets omhostd binds inside are the group's too. */
		err = om_qemu_user_share(qemu, dir, 02750);
		if (err)
			return err;
		snprintf(uid, sizeof(uid), "%u", (unsigned int)qemu->uid);
		argv[argc++] = "--allow-uid";
		argv[argc++] = uid;
	}
	if (link) {
		err = link_args(link, argv, sizeof(argv) / sizeof(argv[0]), &argc);
		if (err)
			return err;
		in_ns.netns = link->netns;
	}
	/* A killed relay leaves its sockets: they must not pass for the new one's. */
	unlink(control);
	for (unsigned int node = first; node <= last; node++)
		if (node_socket(base, node, sock, sizeof(sock)) == 0)
			unlink(sock);
	snprintf(nodes, sizeof(nodes), "%u-%u", first, last);
	/* omhostd binds with the umask it inherits: group rw for QEMU's group. */
	if (!qemu)
		return om_proc_spawn(argv, log, &in_ns, id);
	mask = umask(0007);
	err = om_proc_spawn(argv, log, &in_ns, id);
	umask(mask);
	return err;
}

int om_relay_status(const char *base, char *buf, size_t cap, int timeout_ms)
{
	char control[PATH_MAX];

	if (om_relay_path(base, OM_RELAY_CONTROL, control, sizeof(control)))
		return -ENAMETOOLONG;
	return om_ctl_ask(control, "status\n", timeout_ms, buf, cap);
}

/* True when every node's socket is there and the control socket answers for id. */
static bool serving(const struct om_proc_id *id, const char *base, unsigned int first,
		    unsigned int last)
{
	char sock[PATH_MAX], answer[512], pid[32], want[32];
	struct stat sb;
	int r;

	for (unsigned int node = first; node <= last; node++)
		if (node_socket(base, node, sock, sizeof(sock)) || stat(sock, &sb) < 0 ||
		    !S_ISSOCK(sb.st_mode))
			return false;
	/* The answer has a line per node: only its first line matters here. */
	r = om_relay_status(base, answer, sizeof(answer), 1000);
	if (r && r != -EMSGSIZE)
		return false;
	snprintf(want, sizeof(want), "%d", (int)id->pid);
	return strncmp(answer, "omhostd ", 8) == 0 &&
	       strcmp(om_ctl_field(answer, "pid", pid, sizeof(pid)), want) == 0;
}

int om_relay_wait(const struct om_proc_id *id, const char *base, unsigned int first,
		  unsigned int last, unsigned int timeout_ms)
{
	long long deadline = om_now_ms() + timeout_ms;

	for (;;) {
		if (!om_proc_alive(id))
			return -ECHILD;
		if (serving(id, base, first, last))
			return 0;
		if (om_now_ms() >= deadline)
			return -ETIMEDOUT;
		om_sleep_ms(50);
	}
}
