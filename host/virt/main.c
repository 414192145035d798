// SPDX-License-Identifier: GPL-2.0-only
/* omvirt: om-enabled libvirt domains (docs/libvirt.md). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "agent-run.h"
#include "args.h"
#include "files.h"
#include "install-hook.h"
#include "omvirt.h"
#include "virt-ops.h"

/* libvirt prints every error to stderr by default; we say each once, our way. */
static void quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

static int die(int status, const char *msg)
{
	fprintf(stderr, "omvirt: %s\n", msg);
	return status;
}

/* agent-run.c's messages, ours in form: "omvirt: ..." */
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("omvirt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * exec and cp: the running domain's agent socket from libvirt, then the
 * same work as omcluster's. No lock file as omcluster's agent.lock: QEMU
 * takes one connection on the channel at a time, later ones wait in its
 * listen queue. exec's status is the command's (255: not run), cp's omvirt's.
 */
static int through_agent(const struct omv_args *a, virConnectPtr conn, char *err,
			 size_t errlen)
{
	char sock[PATH_MAX], who[96];
	struct om_agent_target t = { .who = who, .sock = sock, .say = say };
	int r = omv_agent_socket(conn, a->dom.name, sock, sizeof(sock), err, errlen);

	if (r) {
		if (a->cmd == OMV_CMD_EXEC)
			return OM_EXEC_FAILED;
		return r == -ENOENT ? OMV_EXIT_NO_DOMAIN : OMV_EXIT_FAIL;
	}
	snprintf(who, sizeof(who), "domain %s", a->dom.name);
	if (a->cmd == OMV_CMD_EXEC)
		return om_agent_run(&t, a->argv, a->timeout_s, a->forward_stdin);
	return om_agent_copy(&t, a->src, a->dst, a->mode_set, a->mode) ? OMV_EXIT_FAIL :
									  OMV_EXIT_OK;
}

static int exit_for(int err)
{
	switch (err) {
	case 0: return OMV_EXIT_OK;
	case -EEXIST: return OMV_EXIT_EXISTS;
	case -ENOENT: return OMV_EXIT_NO_DOMAIN;
	default: return OMV_EXIT_FAIL;
	}
}

/* define and xml: the files checked, the XML made. */
static int make_xml(struct omv_args *a, struct omv_files *f, char **xml, char *err,
		    size_t errlen)
{
	int r;

	if (omv_files_resolve(&a->dom, f, err, errlen))
		return OMV_EXIT_NO_FILE;
	r = om_vdomain_xml(&a->dom, xml);
	if (r == -ENAMETOOLONG)
		snprintf(err, errlen, "--relay-dir %s: node %u's socket path is too long for a "
				      "unix socket (108 bytes)",
			 a->dom.relay_dir, a->dom.node);
	else if (r == -EINVAL || r == -E2BIG)
		snprintf(err, errlen, "%s", "a name, path or --append holds control characters, "
					    "invalid UTF-8, or is too long");
	else if (r)
		snprintf(err, errlen, "cannot make the domain XML: %s", strerror(-r));
	return r == -ENOMEM ? OMV_EXIT_FAIL : r ? OMV_EXIT_USAGE : OMV_EXIT_OK;
}

static int run(struct omv_args *a, char *err, size_t errlen)
{
	struct omv_files *f = NULL;
	virConnectPtr conn = NULL;
	char *xml = NULL, path[PATH_MAX];
	int status = OMV_EXIT_OK, r = 0;

	if (a->cmd == OMV_CMD_INSTALL_HOOK) {
		if (omv_install_hook(a->hooks_dir ? a->hooks_dir : OMV_DEFAULT_HOOKS_DIR, a->hook,
				     path, sizeof(path), err, errlen))
			return OMV_EXIT_FAIL;
		/* libvirtd looks for hook scripts when it starts or reloads. */
		printf("installed %s; restart libvirtd (or send it SIGHUP) if it runs, so that "
		       "it finds the hook\n",
		       path);
		return OMV_EXIT_OK;
	}
	if (a->cmd == OMV_CMD_DEFINE || a->cmd == OMV_CMD_XML) {
		f = malloc(sizeof(*f));
		if (!f)
			return die(OMV_EXIT_FAIL, "out of memory");
		status = make_xml(a, f, &xml, err, errlen);
		if (status || a->cmd == OMV_CMD_XML) {
			if (!status)
				fputs(xml, stdout);
			goto out;
		}
	}
	conn = omv_connect(a->uri, err, errlen);
	if (!conn) {
		status = a->cmd == OMV_CMD_EXEC ? OM_EXEC_FAILED : OMV_EXIT_NO_LIBVIRT;
		goto out;
	}
	if (a->cmd == OMV_CMD_EXEC || a->cmd == OMV_CMD_CP) {
		/* Their failures are told as they happen (err stays empty) or in err. */
		status = through_agent(a, conn, err, errlen);
		goto out;
	}
	switch (a->cmd) {
	case OMV_CMD_DEFINE:
		r = omv_define(conn, &a->dom, xml, err, errlen);
		if (!r)
			printf("defined domain %s: node %u, relay %s\n", a->dom.name, a->dom.node,
			       a->dom.relay_dir);
		break;
	case OMV_CMD_LIST:
		r = omv_list(conn, stdout, err, errlen);
		break;
	case OMV_CMD_UNDEFINE:
		r = omv_undefine(conn, a->dom.name, err, errlen);
		if (!r)
			printf("undefined domain %s\n", a->dom.name);
		break;
	default:
		break;
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	status = exit_for(r);
out:
	if (conn)
		virConnectClose(conn);
	free(xml);
	free(f);
	return status;
}

int main(int argc, char **argv)
{
	struct omv_args a;
	char err[4096] = "";
	int status;

	if (omv_args_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, "omvirt: %s (omvirt help)\n", err);
		return OMV_EXIT_USAGE;
	}
	if (a.cmd == OMV_CMD_HELP) {
		fputs(omv_usage, stdout);
		return OMV_EXIT_OK;
	}
	virSetErrorFunc(NULL, quiet);
	status = run(&a, err, sizeof(err));
	if (status && err[0])
		die(status, err);
	return status;
}
