// SPDX-License-Identifier: GPL-2.0-only
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "omvirt.h"
#include "parse-u32.h"
#include <linux/virtio_om.h>

const char omv_usage[] =
	"usage: omvirt [--connect URI] COMMAND [OPTIONS]\n"
	"\n"
	"om-enabled libvirt domains: guests whose virtio-om device is served by\n"
	"omhostd (docs/libvirt.md).\n"
	"\n"
	"  define --node N --name NAME [--memory MIB] [--vcpus N] [--accel tcg|kvm]\n"
	"         [--kernel PATH] [--initrd PATH] [--append ARGS]\n"
	"         [--disk PATH [--disk-format raw|qcow2]] [--emulator PATH]\n"
	"         [--relay-dir DIR] [--agent-socket PATH] [--console-log PATH]\n"
	"                  defines the domain of node N (1-1024); memory 64-65536 MiB\n"
	"                  (default 512), 1-64 vCPUs (default 1), TCG unless --accel kvm;\n"
	"                  kernel and initramfs default to the build's, unless --disk is\n"
	"                  given without --kernel (then the disk boots); the emulator to\n"
	"                  the build's QEMU; the relay directory to " OMV_DEFAULT_RELAY_DIR "\n"
	"  xml    [define's options]   prints the XML define would give libvirt\n"
	"  list                        om domains: node, state, the relay's view of the node\n"
	"  undefine NAME               removes an om domain (not running)\n"
	"  exec [-i] [-t SEC] NAME [--] COMMAND [ARG...]\n"
	"                  runs COMMAND in the running om domain NAME through its guest\n"
	"                  agent: its output and exit status become ours (128+N killed by\n"
	"                  signal N, 124 past -t SEC (1-86400), 255 it could not be run);\n"
	"                  -i forwards our stdin (else it reads EOF)\n"
	"  cp [--mode MODE] FILE NAME:PATH\n"
	"                  copies FILE into om domain NAME at the absolute PATH\n"
	"                  (atomically replaced), with octal MODE or FILE's\n"
	"  install-hook [--hooks-dir DIR] [--hook PATH]\n"
	"                  installs DIR/qemu.d/omvm (default /etc/libvirt/hooks), which\n"
	"                  runs omvirt-hook: starting an om domain whose relay is not\n"
	"                  serving its node then fails at once, saying so\n"
	"\n"
	"Exit status: 0 done; 1 failed; 2 bad command line; 3 a file is missing;\n"
	"4 libvirt cannot be reached; 5 the name or the node is taken; 6 no such om\n"
	"domain. exec: the command's own, 255 when it could not be run.\n";

enum {
	OPT_NODE = 256, OPT_NAME, OPT_MEMORY, OPT_VCPUS, OPT_ACCEL, OPT_KERNEL, OPT_INITRD,
	OPT_APPEND, OPT_DISK, OPT_DISK_FORMAT, OPT_EMULATOR, OPT_RELAY_DIR, OPT_AGENT_SOCKET,
	OPT_CONSOLE_LOG, OPT_HOOKS_DIR, OPT_HOOK, OPT_MODE, OPT_CONNECT, OPT_HELP,
};

static const struct option opts[] = {
	{ "node", required_argument, NULL, OPT_NODE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "disk-format", required_argument, NULL, OPT_DISK_FORMAT },
	{ "emulator", required_argument, NULL, OPT_EMULATOR },
	{ "relay-dir", required_argument, NULL, OPT_RELAY_DIR },
	{ "agent-socket", required_argument, NULL, OPT_AGENT_SOCKET },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "hooks-dir", required_argument, NULL, OPT_HOOKS_DIR },
	{ "hook", required_argument, NULL, OPT_HOOK },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

static const struct {
	const char *name;
	enum omv_cmd cmd;
} commands[] = {
	{ "define", OMV_CMD_DEFINE },	    { "xml", OMV_CMD_XML },
	{ "list", OMV_CMD_LIST },	    { "undefine", OMV_CMD_UNDEFINE },
	{ "install-hook", OMV_CMD_INSTALL_HOOK }, { "exec", OMV_CMD_EXEC },
	{ "cp", OMV_CMD_CP },		    { "help", OMV_CMD_HELP },
};

/* A name for files and logs as well as for libvirt: no separators, no spaces. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 && s[0] != '-' && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

/* Which options each command takes: a misplaced one is an error, not ignored. */
static bool takes(enum omv_cmd cmd, int opt)
{
	switch (cmd) {
	case OMV_CMD_DEFINE:
	case OMV_CMD_XML:
		return opt >= OPT_NODE && opt <= OPT_CONSOLE_LOG;
	case OMV_CMD_INSTALL_HOOK:
		return opt == OPT_HOOKS_DIR || opt == OPT_HOOK;
	case OMV_CMD_CP:
		return opt == OPT_MODE;
	default:
		return false;
	}
}

static int parse_define_opt(int opt, const char *arg, struct om_vdomain *d, char *err,
			    size_t errlen)
{
	uint32_t v;

	switch (opt) {
	case OPT_NODE:
		if (parse_u32(arg, 1, VIRTIO_OM_MAX_NODES, &v))
			return fail(err, errlen, "--node '%s': give a node id, 1-1024", arg);
		d->node = v;
		return 0;
	case OPT_NAME:
		if (!name_ok(arg))
			return fail(err, errlen,
				    "--name '%s': 1-64 letters, digits and _ . + -, not first . or -",
				    arg);
		d->name = arg;
		return 0;
	case OPT_MEMORY:
		if (parse_u32(arg, 64, 65536, &v))
			return fail(err, errlen, "--memory '%s': give MiB, 64-65536", arg);
		d->mem_mib = v;
		return 0;
	case OPT_VCPUS:
		if (parse_u32(arg, 1, 64, &v))
			return fail(err, errlen, "--vcpus '%s': give 1-64", arg);
		d->vcpus = v;
		return 0;
	case OPT_ACCEL:
		if (strcmp(arg, "tcg") && strcmp(arg, "kvm"))
			return fail(err, errlen, "--accel '%s': give tcg or kvm", arg);
		d->kvm = !strcmp(arg, "kvm");
		return 0;
	case OPT_DISK_FORMAT:
		if (strcmp(arg, "raw") && strcmp(arg, "qcow2"))
			return fail(err, errlen, "--disk-format '%s': give raw or qcow2", arg);
		d->disk_format = arg;
		return 0;
	case OPT_RELAY_DIR:
		if (arg[0] != '/' || strchr(arg, ','))
			return fail(err, errlen,
				    "--relay-dir '%s': give an absolute path without a comma", arg);
		d->relay_dir = arg;
		return 0;
	case OPT_KERNEL: d->kernel = arg; return 0;
	case OPT_INITRD: d->initrd = arg; return 0;
	case OPT_APPEND: d->append = arg; return 0;
	case OPT_DISK: d->disk = arg; return 0;
	case OPT_EMULATOR: d->emulator = arg; return 0;
	case OPT_AGENT_SOCKET:
	case OPT_CONSOLE_LOG:
		/* Made by libvirt's daemon, whose working directory is not ours. */
		if (arg[0] != '/')
			return fail(err, errlen, "'%s': give an absolute path", arg);
		if (opt == OPT_AGENT_SOCKET)
			d->agent_socket = arg;
		else
			d->console_log = arg;
		return 0;
	}
	return -EINVAL;
}

/* An option of some command, by its long name: for "does not apply" rather than "unknown". */
static const char *known_long(const char *s)
{
	if (strncmp(s, "--", 2))
		return NULL;
	for (const struct option *o = opts; o->name; o++)
		if (!strcmp(s + 2, o->name))
			return o->name;
	return NULL;
}

/*
 * exec [-i] [-t SEC] NAME [-i] [-t SEC] [--] COMMAND [ARG...]: our options
 * end at "--" or at the command's first word, which keeps its own.
 */
static int parse_exec(int argc, char **argv, struct omv_args *a, char *err, size_t errlen)
{
	const char *name = NULL;
	bool uri;
	uint32_t v;
	int i = 0;

	while (i < argc) {
		const char *s = argv[i];

		if (!strcmp(s, "--")) {
			i++;
			if (!name && i < argc)
				name = argv[i++];
			break;
		}
		if (s[0] != '-' || !s[1]) {
			if (name)
				break;
			name = s;
			i++;
			continue;
		}
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			a->cmd = OMV_CMD_HELP;
			return 0;
		}
		if (!strcmp(s, "-i") || !strcmp(s, "--interactive")) {
			a->forward_stdin = true;
			i++;
			continue;
		}
		uri = !strcmp(s, "-c") || !strcmp(s, "--connect");
		if (!uri && strcmp(s, "-t") && strcmp(s, "--timeout")) {
			if (known_long(s))
				return fail(err, errlen, "'%s' does not apply to this command", s);
			return fail(err, errlen, "unknown option or missing value: '%s'", s);
		}
		if (i + 1 >= argc)
			return fail(err, errlen, "unknown option or missing value: '%s'", s);
		if (uri) {
			a->uri = argv[i + 1];
		} else {
			if (parse_u32(argv[i + 1], 1, 86400, &v))
				return fail(err, errlen, "-t '%s': give seconds, 1-86400", argv[i + 1]);
			a->timeout_s = v;
		}
		i += 2;
	}
	if (!name)
		return fail(err, errlen, "%s", "exec: which domain? (omvirt exec NAME -- COMMAND)");
	if (!name_ok(name))
		return fail(err, errlen, "'%s' cannot be an om domain's name", name);
	if (i >= argc || !argv[i][0])
		return fail(err, errlen, "%s", "exec: no command given");
	a->dom.name = name;
	a->argv = argv + i;
	return 0;
}

/* --mode: octal permissions, as chmod takes them. */
static int parse_mode(const char *s, unsigned int *mode)
{
	size_t n = strlen(s);
	unsigned int m = 0;

	if (n < 1 || n > 5 || strspn(s, "01234567") != n)
		return -EINVAL;
	for (; *s; s++)
		m = m * 8 + (unsigned int)(*s - '0');
	if (m > 07777)
		return -EINVAL;
	*mode = m;
	return 0;
}

/* cp's operands: FILE NAME:PATH, PATH absolute. */
static int parse_cp(int argc, char **argv, struct omv_args *a, char *err, size_t errlen)
{
	const char *colon;
	size_t n;

	if (argc != 2 || !argv[0][0])
		return fail(err, errlen, "%s", "cp takes FILE NAME:PATH");
	colon = strchr(argv[1], ':');
	n = colon ? (size_t)(colon - argv[1]) : 0;
	if (colon && n < sizeof(a->cp_name)) {
		memcpy(a->cp_name, argv[1], n);
		a->cp_name[n] = '\0';
	}
	if (!colon || n >= sizeof(a->cp_name) || !name_ok(a->cp_name) || colon[1] != '/')
		return fail(err, errlen,
			    "'%s' is not NAME:PATH (an om domain's name, a colon, an absolute "
			    "path in the guest)",
			    argv[1]);
	a->src = argv[0];
	a->dst = colon + 1;
	a->dom.name = a->cp_name;
	return 0;
}

int omv_args_parse(int argc, char **argv, struct omv_args *a, char *err, size_t errlen)
{
	int i = 1, opt, idx;
	bool found = false;

	memset(a, 0, sizeof(*a));
	a->dom.mem_mib = 512;
	a->dom.vcpus = 1;
	a->dom.disk_format = "raw";
	a->dom.relay_dir = OMV_DEFAULT_RELAY_DIR;
	/* Global options come before the command: --connect URI, -c URI. */
	while (i < argc && (!strcmp(argv[i], "--connect") || !strcmp(argv[i], "-c"))) {
		if (i + 1 >= argc)
			return fail(err, errlen, "%s needs a URI", argv[i]);
		a->uri = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return fail(err, errlen, "%s", "no command given (define, xml, list, undefine, exec, cp, install-hook, help)");
	if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
		a->cmd = OMV_CMD_HELP;
		return 0;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[i], commands[c].name)) {
			a->cmd = commands[c].cmd;
			found = true;
		}
	if (!found)
		return fail(err, errlen, "unknown command '%s'", argv[i]);
	if (a->cmd == OMV_CMD_EXEC)
		return parse_exec(argc - i - 1, argv + i + 1, a, err, errlen);

	/*
	 * getopt from the command on (argv[i] stands for argv[0]); options may
	 * follow operands (`undefine NAME -c URI`).
	 */
	optind = 1;
	opterr = 0;
	while ((idx = -1, opt = getopt_long(argc - i, argv + i, "c:", opts, &idx)) != -1) {
		if (opt == '?')
			return fail(err, errlen, "unknown option or missing value: '%s'",
				    argv[i + optind - 1]);
		if (opt == OPT_HELP) {
			a->cmd = OMV_CMD_HELP;
			return 0;
		}
		if (opt == OPT_CONNECT || opt == 'c') {
			a->uri = optarg;
			continue;
		}
		if (!takes(a->cmd, opt))
			return fail(err, errlen, "'--%s' does not apply to this command",
				    opts[idx].name);
		if (opt == OPT_MODE) {
			if (parse_mode(optarg, &a->mode))
				return fail(err, errlen, "--mode '%s': give octal permissions, 0-7777",
					    optarg);
			a->mode_set = true;
		} else if (opt == OPT_HOOKS_DIR)
			a->hooks_dir = optarg;
		else if (opt == OPT_HOOK)
			a->hook = optarg;
		else if (parse_define_opt(opt, optarg, &a->dom, err, errlen))
			return -EINVAL;
	}
	argc -= i + optind;
	argv += i + optind;

	switch (a->cmd) {
	case OMV_CMD_DEFINE:
	case OMV_CMD_XML:
		if (!a->dom.node)
			return fail(err, errlen, "%s", "--node N is required");
		if (!a->dom.name)
			return fail(err, errlen, "%s", "--name NAME is required");
		if (a->dom.initrd && !a->dom.kernel && a->dom.disk)
			return fail(err, errlen, "%s", "--initrd needs --kernel when a --disk is given");
		break;
	case OMV_CMD_UNDEFINE:
		if (argc != 1)
			return fail(err, errlen, "%s", "undefine takes one domain name");
		if (!name_ok(argv[0]))
			return fail(err, errlen, "'%s' cannot be an om domain's name", argv[0]);
		a->dom.name = argv[0];
		return 0;
	case OMV_CMD_CP:
		return parse_cp(argc, argv, a, err, errlen);
	default:
		break;
	}
	if (argc > 0)
		return fail(err, errlen, "unexpected argument '%s'", argv[0]);
	return 0;
}
