// SPDX-License-Identifier: GPL-2.0-only
#include "cli.h"
#include "guest.h"
#include "hosts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_main[] =
	"usage: omcluster [-c NAME] [--run-dir DIR] COMMAND [ARGS]\n"
	"\n"
	"Boots and drives a cluster of omvm guests.\n"
	"\n"
	"commands:\n"
	"  up        boot N guests and wait until each answers\n"
	"  exec      run a command in a guest, with its output and exit status\n"
	"  cp        copy a file into a guest\n"
	"  status    show the guests of the cluster\n"
	"  console   show the end of a guest's console log\n"
	"  down      stop every process of the cluster and remove its files\n"
	"  stop      stop one guest (it stays in the cluster, shown as dead)\n"
	"  start     boot a stopped guest again, as up did\n"
	"  relay     show, stop, start or restart the relay (omhostd)\n"
	"  help      show the help of a command\n"
	"\n"
	"options:\n"
	"  -c, --cluster NAME  the cluster to act on (default: $OMCLUSTER or \"default\")\n"
	"      --run-dir DIR   where cluster state lives (default: $OMCLUSTER_RUN_DIR,\n"
	"                      else /run/omcluster as root, else $XDG_RUNTIME_DIR/omcluster)\n"
	"  -h, --help          this text; `omcluster help COMMAND` for a command\n"
	"  -V, --version       the version\n";

static const char usage_up[] =
	"usage: omcluster up [-n N] [--mem MIB] [--cpus N] [--accel auto|kvm|tcg]\n"
	"                    [--timeout SEC] [--kernel FILE] [--initrd FILE] [--qemu FILE]\n"
	"                    [--omhostd FILE] [--append ARGS] [--net] [--node-cpu N=MODEL]...\n"
	"                    [--libvirt [--libvirt-uri URI] [--qemu-user USER]] [--hosts H]\n"
	"\n"
	"Starts the relay (omhostd), then boots N guests (nodes 1..N), each with a\n"
	"virtio-om device served by the relay, and waits until the agent in each\n"
	"answers. A guest that panics, exits or does not answer in time fails the\n"
	"command, which then stops every process it started.\n"
	"\n"
	"  -n, --nodes N     number of guests, 1-64 (default 3)\n"
	"      --mem MIB     memory per guest, 64-65536 (default 512)\n"
	"      --cpus N      virtual CPUs per guest, 1-64 (default 1)\n"
	"      --accel A     auto (default): KVM if a probe boot under KVM works, else TCG\n"
	"      --timeout SEC how long to wait for the guests, 1-3600 (default 180)\n"
	"      --kernel FILE guest kernel (default: the build's bzImage)\n"
	"      --initrd FILE guest initramfs (default: the build's initramfs)\n"
	"      --qemu FILE   QEMU binary (default: the build's patched QEMU)\n"
	"      --omhostd FILE the relay (default: the build's omhostd)\n"
	"      --append ARGS extra kernel command line arguments\n"
	"      --net         a virtio-net link between every pair of guests (at most 8),\n"
	"                    over unix datagram sockets: node N is 10.77.0.N\n"
	"      --node-cpu N=MODEL  boot node N on QEMU CPU model MODEL (qemu64, Nehalem...)\n"
	"                    instead of max (TCG) or the host's (KVM); repeatable\n"
	"      --libvirt     boot the guests as libvirt domains, through libvirt's API;\n"
	"                    every command then acts on them (not with --net)\n"
	"      --libvirt-uri URI  libvirt's connection (default: libvirt's own,\n"
	"                    $LIBVIRT_DEFAULT_URI, else qemu:///system as root)\n"
	"      --qemu-user USER  whom libvirt runs QEMU as (default: its DAC label,\n"
	"                    qemu.conf's user; without one, ourselves)\n"
	"      --hosts H     spread the nodes over H hosts of this machine, 2-8 (as root):\n"
	"                    each a network namespace with a relay of its own for its\n"
	"                    nodes, the relays linked over TLS through a bridge\n"
	"                    (host H is 10.78.0.H); not with --libvirt\n";

static const char usage_exec[] =
	"usage: omcluster exec [-i] [-t SEC] NODE [--] COMMAND [ARG...]\n"
	"\n"
	"Runs COMMAND in guest NODE (a number, or nodeN). Its stdout and stderr\n"
	"arrive on ours, and its exit status becomes ours: 128+N if it was killed\n"
	"by signal N, 124 if it ran out of time, 255 if it could not be run.\n"
	"\n"
	"  -i, --interactive  forward our stdin to the command (else it reads EOF)\n"
	"  -t, --timeout SEC  kill the command after SEC seconds, 1-86400 (default: none)\n";

static const char usage_cp[] =
	"usage: omcluster cp [--mode MODE] FILE NODE:PATH\n"
	"\n"
	"Copies FILE into guest NODE at the absolute PATH, replacing it atomically.\n"
	"\n"
	"  --mode MODE  permissions in octal (default: FILE's)\n";

static const char usage_status[] =
	"usage: omcluster status\n"
	"\n"
	"Shows the relay (omhostd: pid, running or not) and each guest: node, QEMU\n"
	"pid (up --libvirt: its domain), state (ready, busy, unresponsive, dead), the\n"
	"relay's view of it (absent, connected, up), kernel, and its CPU model (cpu\n"
	"MODEL) when up --node-cpu or start --cpu gave it one. With up --hosts, each\n"
	"host's nodes and relay, and each relay's links to the others. Exits 0 when\n"
	"every guest is ready and the relays run, 1 otherwise.\n";

static const char usage_console[] =
	"usage: omcluster console [-n LINES] NODE\n"
	"\n"
	"Prints the last LINES lines (default 40) of guest NODE's console log.\n";

static const char usage_down[] =
	"usage: omcluster down [--timeout SEC]\n"
	"\n"
	"Stops every process the cluster started (SIGTERM, then SIGKILL after SEC\n"
	"seconds, default 10) and removes its sockets, logs and state.\n";

static const char usage_stop[] =
	"usage: omcluster stop [--kill | --timeout SEC] NODE\n"
	"\n"
	"Stops guest NODE's QEMU: SIGTERM, then SIGKILL after SEC seconds (default\n"
	"10). The node stays in the cluster, shown as dead by status, until\n"
	"`omcluster start NODE` boots it again.\n"
	"\n"
	"      --kill         SIGKILL at once, as in a crash (up --libvirt: its domain\n"
	"                     is destroyed at once)\n"
	"  -t, --timeout SEC  how long SIGTERM may take, 1-3600 (default 10)\n";

static const char usage_start[] =
	"usage: omcluster start [--timeout SEC] [--cpu MODEL] NODE\n"
	"\n"
	"Boots the stopped guest NODE again exactly as up did (same kernel,\n"
	"initramfs, QEMU, memory, CPUs, accelerator and --append) and waits until\n"
	"its agent answers. Its previous console log is kept as console.log.1.\n"
	"The relay must be running. A guest that panics, exits or does not answer\n"
	"in time fails the command and is stopped again.\n"
	"\n"
	"  -t, --timeout SEC  how long to wait for the guest, 1-3600 (default 180)\n"
	"      --cpu MODEL    boot it on QEMU CPU model MODEL from now on (qemu64,\n"
	"                     Nehalem, max...), not the CPU it had\n";

static const char usage_relay[] =
	"usage: omcluster relay [--kill] [--timeout SEC] status|stop|start|restart\n"
	"\n"
	"The cluster's relay, omhostd, which serves every guest's virtio-om device\n"
	"(with up --hosts, one per host: each action acts on all of them).\n"
	"\n"
	"  status   its pid, and each node as the relay sees it (absent, connected, up)\n"
	"  stop     SIGTERM (SIGKILL after SEC seconds), or SIGKILL at once with --kill\n"
	"  start    start it as up did and wait until it serves every node\n"
	"  restart  stop it, then start it; the guests reconnect by themselves\n"
	"\n"
	"      --kill         stop with SIGKILL at once, as in a crash (stop, restart)\n"
	"  -t, --timeout SEC  how long SIGTERM may take, and how long to wait for a\n"
	"                     starting relay's sockets, 1-3600 (default 10)\n";

static const struct {
	const char *name;
	enum om_command cmd;
	const char *usage;
} commands[] = {
	{ "up", OM_CMD_UP, usage_up },
	{ "exec", OM_CMD_EXEC, usage_exec },
	{ "cp", OM_CMD_CP, usage_cp },
	{ "status", OM_CMD_STATUS, usage_status },
	{ "console", OM_CMD_CONSOLE, usage_console },
	{ "down", OM_CMD_DOWN, usage_down },
	{ "stop", OM_CMD_STOP, usage_stop },
	{ "start", OM_CMD_START, usage_start },
	{ "relay", OM_CMD_RELAY, usage_relay },
};

const char *om_cli_usage(const char *topic)
{
	if (!topic)
		return usage_main;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, topic) == 0)
			return commands[i].usage;
	return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int om_parse_uint(const char *s, unsigned int min, unsigned int max, int base, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int om_parse_node(const char *s, unsigned int *node)
{
	if (s && strncmp(s, "node", 4) == 0)
		s += 4;
	return om_parse_uint(s, 1, OM_MAX_NODES, 10, node);
}

enum {
	OPT_MEM = 256,
	OPT_CPUS,
	OPT_ACCEL,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_QEMU,
	OPT_APPEND,
	OPT_RUN_DIR,
	OPT_MODE,
	OPT_OMHOSTD,
	OPT_KILL,
	OPT_NET,
	OPT_NODE_CPU,
	OPT_CPU,
	OPT_LIBVIRT,
	OPT_LIBVIRT_URI,
	OPT_QEMU_USER,
	OPT_HOSTS,
};

static const struct option global_opts[] = {
	{ "cluster", required_argument, NULL, 'c' },
	{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static const struct option command_opts[] = {
	{ "nodes", required_argument, NULL, 'n' },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "timeout", required_argument, NULL, 't' },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "qemu", required_argument, NULL, OPT_QEMU },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "omhostd", required_argument, NULL, OPT_OMHOSTD },
	{ "kill", no_argument, NULL, OPT_KILL },
	{ "net", no_argument, NULL, OPT_NET },
	{ "node-cpu", required_argument, NULL, OPT_NODE_CPU },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "libvirt", no_argument, NULL, OPT_LIBVIRT },
	{ "libvirt-uri", required_argument, NULL, OPT_LIBVIRT_URI },
	{ "qemu-user", required_argument, NULL, OPT_QEMU_USER },
	{ "hosts", required_argument, NULL, OPT_HOSTS },
	{ "interactive", no_argument, NULL, 'i' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "lines", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Which options each command takes (short letter or long code). */
static int option_allowed(enum om_command cmd, int opt)
{
	switch (cmd) {
	case OM_CMD_UP:
		return opt == 'n' || opt == OPT_MEM || opt == OPT_CPUS || opt == OPT_ACCEL ||
		       opt == 't' || opt == OPT_KERNEL || opt == OPT_INITRD || opt == OPT_QEMU ||
		       opt == OPT_OMHOSTD || opt == OPT_APPEND || opt == OPT_NET ||
		       opt == OPT_NODE_CPU || opt == OPT_LIBVIRT || opt == OPT_LIBVIRT_URI ||
		       opt == OPT_QEMU_USER || opt == OPT_HOSTS;
	case OM_CMD_EXEC:
		return opt == 'i' || opt == 't';
	case OM_CMD_CP:
		return opt == OPT_MODE;
	case OM_CMD_CONSOLE:
		return opt == 'n' || opt == 'l';
	case OM_CMD_DOWN:
		return opt == 't';
	case OM_CMD_START:
		return opt == 't' || opt == OPT_CPU;
	case OM_CMD_STOP:
	case OM_CMD_RELAY:
		return opt == 't' || opt == OPT_KILL;
	default:
		return 0;
	}
}

static const char *option_name(int opt)
{
	for (const struct option *o = command_opts; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int parse_command_option(struct om_cli *cli, int opt, const char *arg, char *err,
				size_t errlen)
{
	unsigned int max_timeout = cli->cmd == OM_CMD_EXEC ? 86400 : 3600;

	switch (opt) {
	case 'n':
		if (cli->cmd == OM_CMD_CONSOLE) {
			if (om_parse_uint(arg, 1, 100000, 10, &cli->lines))
				return fail(err, errlen, "console: -n takes a line count, 1-100000, not '%s'", arg);
			return 0;
		}
		if (om_parse_uint(arg, 1, OM_MAX_NODES, 10, &cli->nodes))
			return fail(err, errlen, "up: -n takes a number of guests, 1-%d, not '%s'",
				    OM_MAX_NODES, arg);
		return 0;
	case 'l':
		if (om_parse_uint(arg, 1, 100000, 10, &cli->lines))
			return fail(err, errlen, "console: --lines takes a line count, 1-100000, not '%s'", arg);
		return 0;
	case OPT_MEM:
		if (om_parse_uint(arg, 64, 65536, 10, &cli->mem_mib))
			return fail(err, errlen, "up: --mem takes MiB, 64-65536, not '%s'", arg);
		return 0;
	case OPT_CPUS:
		if (om_parse_uint(arg, 1, 64, 10, &cli->cpus))
			return fail(err, errlen, "up: --cpus takes 1-64, not '%s'", arg);
		return 0;
	case OPT_ACCEL:
		if (strcmp(arg, "auto") == 0)
			cli->accel = OM_ACCEL_AUTO;
		else if (strcmp(arg, "kvm") == 0)
			cli->accel = OM_ACCEL_KVM;
		else if (strcmp(arg, "tcg") == 0)
			cli->accel = OM_ACCEL_TCG;
		else
			return fail(err, errlen, "up: --accel takes auto, kvm or tcg, not '%s'", arg);
		return 0;
	case 't':
		if (om_parse_uint(arg, 1, max_timeout, 10, &cli->timeout_s))
			return fail(err, errlen, "--timeout takes seconds, 1-%u, not '%s'", max_timeout, arg);
		return 0;
	case OPT_KERNEL:
	case OPT_INITRD:
	case OPT_QEMU:
	case OPT_OMHOSTD:
	case OPT_APPEND:
		/* Kept in the state file, one value per line. */
		if (strchr(arg, '\n'))
			return fail(err, errlen, "up: --%s must not contain a newline", option_name(opt));
		if (opt != OPT_APPEND && !*arg)
			return fail(err, errlen, "up: --%s needs a file", option_name(opt));
		if (opt == OPT_KERNEL)
			cli->kernel = arg;
		else if (opt == OPT_INITRD)
			cli->initrd = arg;
		else if (opt == OPT_QEMU)
			cli->qemu = arg;
		else if (opt == OPT_OMHOSTD)
			cli->omhostd = arg;
		else
			cli->append = arg;
		return 0;
	case OPT_NODE_CPU: {
		const char *eq = strchr(arg, '=');
		char node[16];
		unsigned int n;

		if (!eq || (size_t)(eq - arg) >= sizeof(node))
			return fail(err, errlen, "up: --node-cpu takes NODE=MODEL, not '%s'", arg);
		memcpy(node, arg, (size_t)(eq - arg));
		node[eq - arg] = '\0';
		if (om_parse_node(node, &n))
			return fail(err, errlen, "up: --node-cpu: '%s' is not a node (a number 1-%d)",
				    node, OM_MAX_NODES);
		if (!om_cpu_model_valid(eq + 1))
			return fail(err, errlen,
				    "up: --node-cpu: '%s' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)",
				    eq + 1);
		if (cli->node_cpu[n])
			return fail(err, errlen, "up: --node-cpu: node %u given twice", n);
		cli->node_cpu[n] = eq + 1;
		return 0;
	}
	case OPT_CPU:
		if (!om_cpu_model_valid(arg))
			return fail(err, errlen,
				    "start: --cpu: '%s' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)",
				    arg);
		cli->cpu = arg;
		return 0;
	case OPT_HOSTS:
		if (om_parse_uint(arg, 2, OM_MAX_HOSTS, 10, &cli->hosts))
			return fail(err, errlen, "up: --hosts takes a number of hosts, 2-%d, not '%s'",
				    OM_MAX_HOSTS, arg);
		return 0;
	case OPT_KILL:
		cli->kill = true;
		return 0;
	case OPT_NET:
		cli->net = true;
		return 0;
	case OPT_LIBVIRT:
		cli->libvirt = true;
		return 0;
	case OPT_LIBVIRT_URI:
	case OPT_QEMU_USER:
		/* Kept in the state file as one word. */
		if (!*arg || strpbrk(arg, " \t\n"))
			return fail(err, errlen, "up: --%s takes one word, not '%s'",
				    option_name(opt), arg);
		if (opt == OPT_LIBVIRT_URI)
			cli->libvirt_uri = arg;
		else
			cli->qemu_user = arg;
		return 0;
	case 'i':
		cli->forward_stdin = true;
		return 0;
	case OPT_MODE:
		if (om_parse_uint(arg, 0, 07777, 8, &cli->mode))
			return fail(err, errlen, "cp: --mode takes octal permissions, 0-7777, not '%s'", arg);
		cli->mode_set = true;
		return 0;
	}
	return fail(err, errlen, "internal: unhandled option %d", opt);
}

static int parse_operands(struct om_cli *cli, int argc, char **argv, char *err, size_t errlen)
{
	const char *name = commands[0].name;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cli->cmd)
			name = commands[i].name;

	switch (cli->cmd) {
	case OM_CMD_UP:
		/* Checked once every option is known: -n and --net come in any order. */
		if (cli->net && cli->nodes > OM_NET_MAX_NODES)
			return fail(err, errlen,
				    "up: --net gives each guest a NIC per other guest: at most %d guests, not %u",
				    OM_NET_MAX_NODES, cli->nodes);
		if (!cli->libvirt && (cli->libvirt_uri || cli->qemu_user))
			return fail(err, errlen, "up: --%s applies with --libvirt",
				    cli->libvirt_uri ? "libvirt-uri" : "qemu-user");
		/* libvirt 9.0 has no element for QEMU's dgram netdev the links use. */
		if (cli->libvirt && cli->net)
			return fail(err, errlen, "up: --net does not work with --libvirt yet");
		if (cli->hosts > cli->nodes)
			return fail(err, errlen, "up: --hosts %u needs at least as many nodes, not %u",
				    cli->hosts, cli->nodes);
		/* libvirt's QEMU and its relay check know one relay per cluster. */
		if (cli->hosts && cli->libvirt)
			return fail(err, errlen, "up: --hosts does not work with --libvirt yet");
		for (unsigned int n = cli->nodes + 1; n <= OM_MAX_NODES; n++)
			if (cli->node_cpu[n])
				return fail(err, errlen, "up: --node-cpu names node %u of %u", n,
					    cli->nodes);
		/* fall through */
	case OM_CMD_STATUS:
	case OM_CMD_DOWN:
		if (argc > 0)
			return fail(err, errlen, "%s: unexpected argument '%s'", name, argv[0]);
		return 0;
	case OM_CMD_EXEC:
		if (argc < 1)
			return fail(err, errlen, "exec: which node? (omcluster exec NODE -- COMMAND)");
		if (om_parse_node(argv[0], &cli->node))
			return fail(err, errlen, "exec: '%s' is not a node (a number 1-%d, or nodeN)",
				    argv[0], OM_MAX_NODES);
		if (argc > 1 && strcmp(argv[1], "--") == 0) {
			argv++;
			argc--;
		}
		if (argc < 2 || argv[1][0] == '\0')
			return fail(err, errlen, "exec: no command given");
		cli->argv = argv + 1;
		return 0;
	case OM_CMD_CONSOLE:
	case OM_CMD_STOP:
	case OM_CMD_START:
		if (argc < 1)
			return fail(err, errlen, "%s: which node? (omcluster %s NODE)", name, name);
		if (argc > 1)
			return fail(err, errlen, "%s: give exactly one node, not '%s' too", name,
				    argv[1]);
		if (om_parse_node(argv[0], &cli->node))
			return fail(err, errlen, "%s: '%s' is not a node (a number 1-%d, or nodeN)",
				    name, argv[0], OM_MAX_NODES);
		if (cli->cmd == OM_CMD_STOP && cli->kill && cli->timeout_s)
			return fail(err, errlen, "stop: --kill and --timeout exclude each other");
		return 0;
	case OM_CMD_RELAY: {
		static const struct {
			const char *name;
			enum om_relay_action action;
		} actions[] = {
			{ "status", OM_RELAY_STATUS },
			{ "stop", OM_RELAY_STOP },
			{ "start", OM_RELAY_START },
			{ "restart", OM_RELAY_RESTART },
		};
		size_t i;

		if (argc < 1)
			return fail(err, errlen, "relay: what? (omcluster relay status|stop|start|restart)");
		if (argc > 1)
			return fail(err, errlen, "relay: unexpected argument '%s'", argv[1]);
		for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (strcmp(argv[0], actions[i].name) == 0)
				break;
		if (i == sizeof(actions) / sizeof(actions[0]))
			return fail(err, errlen,
				    "relay: '%s' is not an action (status, stop, start or restart)",
				    argv[0]);
		cli->relay_action = actions[i].action;
		if (cli->kill && cli->relay_action != OM_RELAY_STOP &&
		    cli->relay_action != OM_RELAY_RESTART)
			return fail(err, errlen, "relay: --kill applies to stop and restart, not %s",
				    argv[0]);
		return 0;
	}
	case OM_CMD_CP: {
		const char *colon;
		char node[16];

		if (argc != 2)
			return fail(err, errlen, "cp: give a file and NODE:PATH");
		cli->src = argv[0];
		colon = strchr(argv[1], ':');
		if (!colon || (size_t)(colon - argv[1]) >= sizeof(node))
			return fail(err, errlen, "cp: '%s' is not NODE:PATH", argv[1]);
		memcpy(node, argv[1], (size_t)(colon - argv[1]));
		node[colon - argv[1]] = '\0';
		if (om_parse_node(node, &cli->node))
			return fail(err, errlen, "cp: '%s' is not a node (a number 1-%d, or nodeN)",
				    node, OM_MAX_NODES);
		cli->dst = colon + 1;
		if (cli->dst[0] != '/' || strlen(cli->dst) >= PATH_MAX)
			return fail(err, errlen, "cp: the guest path must be absolute, not '%s'", cli->dst);
		return 0;
	}
	case OM_CMD_HELP:
		if (argc > 1)
			return fail(err, errlen, "help: give at most one command");
		cli->help_topic = argc ? argv[0] : NULL;
		if (cli->help_topic && !om_cli_usage(cli->help_topic))
			return fail(err, errlen, "help: no command '%s'", cli->help_topic);
		return 0;
	case OM_CMD_VERSION:
		return 0;
	}
	return 0;
}

int om_cli_parse(int argc, char **argv, struct om_cli *cli, char *err, size_t errlen)
{
	const char *env_cluster = getenv("OMCLUSTER");
	int opt;

	memset(cli, 0, sizeof(*cli));
	cli->cluster = env_cluster && *env_cluster ? env_cluster : "default";
	cli->run_dir = getenv("OMCLUSTER_RUN_DIR");
	cli->nodes = 3;
	cli->mem_mib = 512;
	cli->cpus = 1;
	cli->lines = 40;
	cli->accel = OM_ACCEL_AUTO;

	opterr = 0;
	optind = 0; /* full reset: parse may run more than once (tests) */
	while ((opt = getopt_long(argc, argv, "+:c:hV", global_opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cli->cluster = optarg;
			break;
		case OPT_RUN_DIR:
			cli->run_dir = optarg;
			break;
		case 'h':
			cli->cmd = OM_CMD_HELP;
			return 0;
		case 'V':
			cli->cmd = OM_CMD_VERSION;
			return 0;
		case ':':
			return fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		default:
			return fail(err, errlen, "unknown option '%s' (see omcluster --help)",
				    argv[optind - 1]);
		}
	}
	for (const char *p = cli->cluster; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_')
			return fail(err, errlen, "cluster name '%s': use letters, digits, - and _",
				    cli->cluster);
	if (!cli->cluster[0] || strlen(cli->cluster) > 32)
		return fail(err, errlen, "cluster name must be 1-32 characters");
	if (optind >= argc)
		return fail(err, errlen, "no command given (see omcluster --help)");

	const char *name = argv[optind++];

	if (strcmp(name, "help") == 0) {
		cli->cmd = OM_CMD_HELP;
		return parse_operands(cli, argc - optind, argv + optind, err, errlen);
	}
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return fail(err, errlen, "unknown command '%s' (see omcluster --help)", name);
	cli->cmd = commands[i].cmd;

	/*
	 * exec's options stop at the first operand: its command keeps its own.
	 * The other commands take options after operands too (relay stop --kill).
	 */
	int sub_argc = argc - optind + 1;
	char **sub_argv = argv + optind - 1;
	const char *optstring = cli->cmd == OM_CMD_EXEC ? "+:n:t:il:h" : ":n:t:il:h";

	optind = 0;
	while ((opt = getopt_long(sub_argc, sub_argv, optstring, command_opts, NULL)) != -1) {
		if (opt == 'h') {
			cli->help_topic = commands[i].name;
			cli->cmd = OM_CMD_HELP;
			return 0;
		}
		if (opt == ':')
			return fail(err, errlen, "%s: option '%s' needs a value", name,
				    sub_argv[optind - 1]);
		if (opt == '?' || !option_allowed(cli->cmd, opt)) {
			if (opt == '?')
				return fail(err, errlen, "%s: unknown option '%s' (see omcluster help %s)",
					    name, sub_argv[optind - 1], name);
			return fail(err, errlen, "%s: option '%s' does not apply (see omcluster help %s)",
				    name, opt < 256 ? sub_argv[optind - 1] : option_name(opt), name);
		}
		int r = parse_command_option(cli, opt, optarg, err, errlen);

		if (r)
			return r;
	}
	return parse_operands(cli, sub_argc - optind, sub_argv + optind, err, errlen);
}
