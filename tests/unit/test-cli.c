// SPDX-License-Identifier: GPL-2.0-only
/* omcluster's command line: defaults, every option, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Parses the NULL-terminated arguments after "omcluster". */
static int parse_args(struct om_cli *cli, char *err, size_t errlen, ...)
{
	static char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "omcluster";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return om_cli_parse(argc, argv, cli, err, errlen);
}

#define PARSE(cli, err, ...) parse_args(cli, err, sizeof(err), __VA_ARGS__, (char *)NULL)

static int setup(void **state)
{
	(void)state;
	unsetenv("OMCLUSTER");
	unsetenv("OMCLUSTER_RUN_DIR");
	return 0;
}

static void up_defaults(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "up"), 0);
	assert_int_equal(cli.cmd, OM_CMD_UP);
	assert_string_equal(cli.cluster, "default");
	assert_int_equal(cli.nodes, 3);
	assert_int_equal(cli.mem_mib, 512);
	assert_int_equal(cli.cpus, 1);
	assert_int_equal(cli.accel, OM_ACCEL_AUTO);
	assert_int_equal(cli.timeout_s, 0);
	assert_null(cli.kernel);
	assert_null(cli.omhostd);
	assert_false(cli.kill);
	assert_false(cli.net);
}

static void up_options(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "-c", "ci-7", "up", "-n", "5", "--mem", "1024",
			       "--cpus", "2", "--accel", "tcg", "--timeout", "60", "--kernel",
			       "/k", "--initrd", "/i", "--qemu", "/q", "--omhostd", "/o",
			       "--append", "quiet"),
			 0);
	assert_string_equal(cli.cluster, "ci-7");
	assert_int_equal(cli.nodes, 5);
	assert_int_equal(cli.mem_mib, 1024);
	assert_int_equal(cli.cpus, 2);
	assert_int_equal(cli.accel, OM_ACCEL_TCG);
	assert_int_equal(cli.timeout_s, 60);
	assert_string_equal(cli.kernel, "/k");
	assert_string_equal(cli.initrd, "/i");
	assert_string_equal(cli.qemu, "/q");
	assert_string_equal(cli.omhostd, "/o");
	assert_string_equal(cli.append, "quiet");
}

static void up_refuses_bad_values(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "up", "-n", "0"), -EINVAL);
	assert_non_null(strstr(err, "1-64"));
	assert_int_equal(PARSE(&cli, err, "up", "-n", "65"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "-n", "-3"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "-n", "3x"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "-n", ""), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "-n", "99999999999999999999"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "--mem", "63"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "--accel", "xen"), -EINVAL);
	assert_non_null(strstr(err, "auto, kvm or tcg"));
	assert_int_equal(PARSE(&cli, err, "up", "--timeout", "0"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "-n"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(&cli, err, "up", "extra"), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument 'extra'"));
	/* An option of another command is refused, not ignored. */
	assert_int_equal(PARSE(&cli, err, "up", "-i"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));
	assert_int_equal(PARSE(&cli, err, "up", "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "unknown option '--bogus'"));
	/* Kept in the state file one per line: a newline cannot be. */
	assert_int_equal(PARSE(&cli, err, "up", "--append", "a\nrelay 1 2"), -EINVAL);
	assert_non_null(strstr(err, "--append must not contain a newline"));
	assert_int_equal(PARSE(&cli, err, "up", "--omhostd", "/o\n"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "up", "--omhostd", ""), -EINVAL);
	assert_non_null(strstr(err, "--omhostd needs a file"));
	assert_int_equal(PARSE(&cli, err, "up", "--omhostd"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(&cli, err, "up", "--kill"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));
}

static void up_net(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "up", "-n", "2", "--net"), 0);
	assert_true(cli.net);
	assert_int_equal(cli.nodes, 2);
	/* The default cluster (3) has links too; the limit holds in either order. */
	assert_int_equal(PARSE(&cli, err, "up", "--net"), 0);
	assert_true(cli.net);
	assert_int_equal(PARSE(&cli, err, "up", "--net", "-n", "8"), 0);
	assert_int_equal(PARSE(&cli, err, "up", "-n", "8", "--net"), 0);
	assert_int_equal(PARSE(&cli, err, "up", "--net", "-n", "9"), -EINVAL);
	assert_non_null(strstr(err, "at most 8 guests, not 9"));
	assert_int_equal(PARSE(&cli, err, "up", "-n", "9", "--net"), -EINVAL);
	assert_non_null(strstr(err, "at most 8 guests"));
	/* Without --net, the usual limit. */
	assert_int_equal(PARSE(&cli, err, "up", "-n", "9"), 0);
	assert_false(cli.net);
	/* A flag: no value, and not an option of other commands. */
	assert_int_equal(PARSE(&cli, err, "up", "--net=yes"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "start", "--net", "1"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));
	assert_int_equal(PARSE(&cli, err, "exec", "--net", "1", "ls"), -EINVAL);
	assert_non_null(strstr(om_cli_usage("up"), "--net"));
}

/* A smaller CPU for some nodes: up --node-cpu N=MODEL, start --cpu MODEL. */
/* up --libvirt: the URI and QEMU's user, only with it; not with --net. */
static void up_libvirt(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "up", "-n", "2"), 0);
	assert_false(cli.libvirt);
	assert_null(cli.libvirt_uri);
	assert_null(cli.qemu_user);
	assert_int_equal(PARSE(&cli, err, "up", "--libvirt"), 0);
	assert_true(cli.libvirt);
	assert_null(cli.libvirt_uri); /* libvirt's default, LIBVIRT_DEFAULT_URI among it */
	assert_int_equal(PARSE(&cli, err, "up", "--libvirt-uri", "qemu+unix:///session?socket=/t/s",
			       "--qemu-user", "nobody", "--libvirt", "-n", "3"),
			 0);
	assert_true(cli.libvirt);
	assert_string_equal(cli.libvirt_uri, "qemu+unix:///session?socket=/t/s");
	assert_string_equal(cli.qemu_user, "nobody");
	assert_int_equal(PARSE(&cli, err, "up", "--libvirt-uri", "qemu:///system"), -EINVAL);
	assert_string_equal(err, "up: --libvirt-uri applies with --libvirt");
	assert_int_equal(PARSE(&cli, err, "up", "--qemu-user", "nobody"), -EINVAL);
	assert_string_equal(err, "up: --qemu-user applies with --libvirt");
	assert_int_equal(PARSE(&cli, err, "up", "--libvirt", "--net", "-n", "2"), -EINVAL);
	assert_string_equal(err, "up: --net does not work with --libvirt yet");
	assert_int_equal(PARSE(&cli, err, "up", "--libvirt", "--libvirt-uri", "qemu:///a b"),
			 -EINVAL);
	assert_string_equal(err, "up: --libvirt-uri takes one word, not 'qemu:///a b'");
	assert_int_equal(PARSE(&cli, err, "up", "--libvirt", "--qemu-user", ""), -EINVAL);
	assert_string_equal(err, "up: --qemu-user takes one word, not ''");
	assert_int_equal(PARSE(&cli, err, "start", "--libvirt", "1"), -EINVAL);
	assert_string_equal(err, "start: option 'libvirt' does not apply (see omcluster help start)");
	assert_non_null(strstr(om_cli_usage("up"), "[--libvirt [--libvirt-uri URI] [--qemu-user USER]]"));
}

/* up --hosts H: 2-8, at most one host per node, not with --libvirt, only for up. */
static void up_hosts(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "up", "-n", "4"), 0);
	assert_int_equal(cli.hosts, 0);
	assert_int_equal(PARSE(&cli, err, "up", "--hosts", "2", "-n", "4"), 0);
	assert_int_equal(cli.hosts, 2);
	assert_int_equal(cli.nodes, 4);
	assert_int_equal(PARSE(&cli, err, "up", "-n", "8", "--hosts", "8", "--net"), 0);
	assert_int_equal(PARSE(&cli, err, "up", "--hosts", "1"), -EINVAL);
	assert_string_equal(err, "up: --hosts takes a number of hosts, 2-8, not '1'");
	assert_int_equal(PARSE(&cli, err, "up", "--hosts", "9", "-n", "9"), -EINVAL);
	assert_string_equal(err, "up: --hosts takes a number of hosts, 2-8, not '9'");
	/* Checked against -n in either order: the default 3 too. */
	assert_int_equal(PARSE(&cli, err, "up", "--hosts", "4"), -EINVAL);
	assert_string_equal(err, "up: --hosts 4 needs at least as many nodes, not 3");
	assert_int_equal(PARSE(&cli, err, "up", "-n", "2", "--hosts", "3"), -EINVAL);
	assert_string_equal(err, "up: --hosts 3 needs at least as many nodes, not 2");
	assert_int_equal(PARSE(&cli, err, "up", "--hosts", "2", "--libvirt"), -EINVAL);
	assert_string_equal(err, "up: --hosts does not work with --libvirt yet");
	assert_int_equal(PARSE(&cli, err, "start", "--hosts", "2", "1"), -EINVAL);
	assert_string_equal(err, "start: option 'hosts' does not apply (see omcluster help start)");
	assert_non_null(strstr(om_cli_usage("up"), "[--hosts H]"));
}

static void node_cpu_models(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "2=qemu64", "--node-cpu", "3=Nehalem-v2"), 0);
	assert_null(cli.node_cpu[1]);
	assert_string_equal(cli.node_cpu[2], "qemu64");
	assert_string_equal(cli.node_cpu[3], "Nehalem-v2");
	/* Checked against -n in either order. */
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "4=qemu64", "-n", "4"), 0);
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "4=qemu64"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu names node 4 of 3");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "qemu64"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu takes NODE=MODEL, not 'qemu64'");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "0=qemu64"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: '0' is not a node (a number 1-64)");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "2="), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: '' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "2=max -device x"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: 'max -device x' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)");
	/* 63 characters are a name; 64 are too many. */
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu",
			       "1=a12345678901234567890123456789012345678901234567890123456789012"), 0);
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu",
			       "1=a123456789012345678901234567890123456789012345678901234567890123"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: 'a123456789012345678901234567890123456789012345678901234567890123' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "=qemu64"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: '' is not a node (a number 1-64)");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "x=qemu64"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: 'x' is not a node (a number 1-64)");
	/* nodeN, as the other commands take it. */
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "node3=qemu64"), 0);
	assert_string_equal(cli.node_cpu[3], "qemu64");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu"), -EINVAL);
	assert_string_equal(err, "up: option '--node-cpu' needs a value");
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "2=a", "--node-cpu", "2=b"), -EINVAL);
	assert_string_equal(err, "up: --node-cpu: node 2 given twice");
	/* Features may follow the model, as QEMU takes them. */
	assert_int_equal(PARSE(&cli, err, "up", "--node-cpu", "1=max,-avx2"), 0);
	assert_string_equal(cli.node_cpu[1], "max,-avx2");

	assert_int_equal(PARSE(&cli, err, "start", "--cpu", "qemu64", "2"), 0);
	assert_string_equal(cli.cpu, "qemu64");
	assert_int_equal(cli.node, 2);
	assert_int_equal(PARSE(&cli, err, "start", "2"), 0);
	assert_null(cli.cpu);
	assert_int_equal(PARSE(&cli, err, "start", "--cpu", "a;b", "2"), -EINVAL);
	assert_string_equal(err, "start: --cpu: 'a;b' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)");
	assert_int_equal(PARSE(&cli, err, "start", "--cpu", "", "2"), -EINVAL);
	assert_string_equal(err, "start: --cpu: '' is not a CPU model name (1-63 of A-Z a-z 0-9 _ . , = + -)");
	/* Each to its own command. */
	assert_int_equal(PARSE(&cli, err, "start", "--node-cpu", "2=qemu64", "2"), -EINVAL);
	assert_string_equal(err, "start: option 'node-cpu' does not apply (see omcluster help start)");
	assert_int_equal(PARSE(&cli, err, "up", "--cpu", "qemu64"), -EINVAL);
	assert_string_equal(err, "up: option 'cpu' does not apply (see omcluster help up)");
	assert_non_null(strstr(om_cli_usage("up"), "--node-cpu N=MODEL"));
	assert_non_null(strstr(om_cli_usage("start"), "--cpu MODEL"));
}

static void stop_and_start(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "stop", "2"), 0);
	assert_int_equal(cli.cmd, OM_CMD_STOP);
	assert_int_equal(cli.node, 2);
	assert_false(cli.kill);
	assert_int_equal(cli.timeout_s, 0);
	assert_int_equal(PARSE(&cli, err, "stop", "--kill", "node3"), 0);
	assert_int_equal(cli.cmd, OM_CMD_STOP);
	assert_int_equal(cli.node, 3);
	assert_true(cli.kill);
	/* Options may follow the node. */
	assert_int_equal(PARSE(&cli, err, "stop", "4", "--kill"), 0);
	assert_int_equal(cli.node, 4);
	assert_true(cli.kill);
	assert_int_equal(PARSE(&cli, err, "stop", "-t", "5", "1"), 0);
	assert_int_equal(cli.timeout_s, 5);
	assert_false(cli.kill);

	assert_int_equal(PARSE(&cli, err, "stop"), -EINVAL);
	assert_non_null(strstr(err, "stop: which node?"));
	assert_int_equal(PARSE(&cli, err, "stop", "1", "2"), -EINVAL);
	assert_non_null(strstr(err, "exactly one node"));
	assert_int_equal(PARSE(&cli, err, "stop", "0"), -EINVAL);
	assert_non_null(strstr(err, "stop: '0' is not a node"));
	assert_int_equal(PARSE(&cli, err, "stop", "65"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "stop", "nodex"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "stop", "--kill", "-t", "3", "1"), -EINVAL);
	assert_non_null(strstr(err, "exclude each other"));
	assert_int_equal(PARSE(&cli, err, "stop", "-t", "0", "1"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "stop", "--mem", "64", "1"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));

	assert_int_equal(PARSE(&cli, err, "start", "node2"), 0);
	assert_int_equal(cli.cmd, OM_CMD_START);
	assert_int_equal(cli.node, 2);
	assert_int_equal(cli.timeout_s, 0);
	assert_int_equal(PARSE(&cli, err, "start", "--timeout", "300", "5"), 0);
	assert_int_equal(cli.node, 5);
	assert_int_equal(cli.timeout_s, 300);
	assert_int_equal(PARSE(&cli, err, "start"), -EINVAL);
	assert_non_null(strstr(err, "start: which node?"));
	assert_int_equal(PARSE(&cli, err, "start", "1", "2"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "start", "abc"), -EINVAL);
	assert_non_null(strstr(err, "start: 'abc' is not a node"));
	/* start boots as up did: up's own options do not apply. */
	assert_int_equal(PARSE(&cli, err, "start", "--kill", "1"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));
	assert_int_equal(PARSE(&cli, err, "start", "--append", "x", "1"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));
	assert_int_equal(PARSE(&cli, err, "start", "--timeout", "3601", "1"), -EINVAL);
}

static void relay(void **state)
{
	static const struct {
		const char *word;
		enum om_relay_action action;
	} actions[] = {
		{ "status", OM_RELAY_STATUS },
		{ "stop", OM_RELAY_STOP },
		{ "start", OM_RELAY_START },
		{ "restart", OM_RELAY_RESTART },
	};
	struct om_cli cli;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		/* A previous parse must not leak into this one. */
		assert_int_equal(PARSE(&cli, err, "relay", "restart"), 0);
		assert_int_equal(PARSE(&cli, err, "relay", actions[i].word), 0);
		assert_int_equal(cli.cmd, OM_CMD_RELAY);
		assert_int_equal(cli.relay_action, actions[i].action);
		assert_false(cli.kill);
	}
	assert_int_equal(PARSE(&cli, err, "relay", "--kill", "stop"), 0);
	assert_int_equal(cli.relay_action, OM_RELAY_STOP);
	assert_true(cli.kill);
	assert_int_equal(PARSE(&cli, err, "relay", "restart", "--kill"), 0);
	assert_int_equal(cli.relay_action, OM_RELAY_RESTART);
	assert_true(cli.kill);
	assert_int_equal(PARSE(&cli, err, "relay", "-t", "20", "start"), 0);
	assert_int_equal(cli.relay_action, OM_RELAY_START);
	assert_int_equal(cli.timeout_s, 20);

	assert_int_equal(PARSE(&cli, err, "relay"), -EINVAL);
	assert_non_null(strstr(err, "relay: what?"));
	assert_int_equal(PARSE(&cli, err, "relay", "reload"), -EINVAL);
	assert_non_null(strstr(err, "'reload' is not an action"));
	assert_int_equal(PARSE(&cli, err, "relay", "Stop"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "relay", "stop", "start"), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument 'start'"));
	assert_int_equal(PARSE(&cli, err, "relay", "--kill", "start"), -EINVAL);
	assert_non_null(strstr(err, "--kill applies to stop and restart"));
	assert_int_equal(PARSE(&cli, err, "relay", "--kill", "status"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "relay", "-n", "3", "start"), -EINVAL);
	assert_non_null(strstr(err, "does not apply"));
	assert_int_equal(PARSE(&cli, err, "relay", "-t", "0", "stop"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "relay", "-t"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
}

static void exec_parses_node_and_command(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "exec", "2", "--", "ls", "-l", "/"), 0);
	assert_int_equal(cli.cmd, OM_CMD_EXEC);
	assert_int_equal(cli.node, 2);
	assert_string_equal(cli.argv[0], "ls");
	assert_string_equal(cli.argv[1], "-l");
	assert_string_equal(cli.argv[2], "/");
	assert_null(cli.argv[3]);
	assert_false(cli.forward_stdin);

	/* Without --, options after the node still belong to the command. */
	assert_int_equal(PARSE(&cli, err, "exec", "-i", "-t", "9", "node3", "uname", "-r"), 0);
	assert_int_equal(cli.node, 3);
	assert_true(cli.forward_stdin);
	assert_int_equal(cli.timeout_s, 9);
	assert_string_equal(cli.argv[0], "uname");
	assert_string_equal(cli.argv[1], "-r");
}

static void exec_refusals(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "exec"), -EINVAL);
	assert_non_null(strstr(err, "which node"));
	assert_int_equal(PARSE(&cli, err, "exec", "2"), -EINVAL);
	assert_non_null(strstr(err, "no command"));
	assert_int_equal(PARSE(&cli, err, "exec", "2", "--"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "exec", "abc", "ls"), -EINVAL);
	assert_non_null(strstr(err, "'abc' is not a node"));
	assert_int_equal(PARSE(&cli, err, "exec", "0", "ls"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "exec", "node", "ls"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "exec", "-5", "ls"), -EINVAL);
}

static void cp_and_console(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "cp", "--mode", "0755", "/tmp/x", "2:/usr/bin/x"), 0);
	assert_int_equal(cli.cmd, OM_CMD_CP);
	assert_int_equal(cli.node, 2);
	assert_string_equal(cli.src, "/tmp/x");
	assert_string_equal(cli.dst, "/usr/bin/x");
	assert_true(cli.mode_set);
	assert_int_equal(cli.mode, 0755);
	assert_int_equal(PARSE(&cli, err, "cp", "/tmp/x", "2:relative"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "cp", "/tmp/x", "/abs"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "cp", "--mode", "999", "/tmp/x", "1:/x"), -EINVAL);

	assert_int_equal(PARSE(&cli, err, "console", "-n", "7", "node1"), 0);
	assert_int_equal(cli.cmd, OM_CMD_CONSOLE);
	assert_int_equal(cli.lines, 7);
	assert_int_equal(cli.node, 1);
}

static void global_options_and_help(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	setenv("OMCLUSTER", "fromenv", 1);
	assert_int_equal(PARSE(&cli, err, "status"), 0);
	assert_string_equal(cli.cluster, "fromenv");
	unsetenv("OMCLUSTER");
	assert_int_equal(PARSE(&cli, err, "--run-dir", "/tmp/r", "down", "-t", "3"), 0);
	assert_string_equal(cli.run_dir, "/tmp/r");
	assert_int_equal(cli.timeout_s, 3);
	assert_int_equal(PARSE(&cli, err, "-c", "bad/name", "status"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "-c", "", "status"), -EINVAL);
	assert_int_equal(PARSE(&cli, err, "frobnicate"), -EINVAL);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
	assert_int_equal(PARSE(&cli, err, "--help"), 0);
	assert_int_equal(cli.cmd, OM_CMD_HELP);
	assert_int_equal(PARSE(&cli, err, "help", "exec"), 0);
	assert_string_equal(cli.help_topic, "exec");
	assert_int_equal(PARSE(&cli, err, "up", "--help"), 0);
	assert_int_equal(cli.cmd, OM_CMD_HELP);
	assert_string_equal(cli.help_topic, "up");
	assert_int_equal(PARSE(&cli, err, "help", "nope"), -EINVAL);
	assert_non_null(om_cli_usage("down"));
	assert_null(om_cli_usage("nope"));
	/* The new commands have their help, and the tool's lists them. */
	assert_non_null(strstr(om_cli_usage("stop"), "omcluster stop [--kill"));
	assert_non_null(strstr(om_cli_usage("start"), "omcluster start [--timeout SEC] [--cpu MODEL] NODE"));
	assert_non_null(strstr(om_cli_usage("relay"), "status|stop|start|restart"));
	assert_non_null(strstr(om_cli_usage("up"), "--omhostd FILE"));
	assert_non_null(strstr(om_cli_usage(NULL), "\n  relay "));
	assert_non_null(strstr(om_cli_usage(NULL), "\n  start "));
	assert_non_null(strstr(om_cli_usage(NULL), "\n  stop "));
	assert_int_equal(PARSE(&cli, err, "help", "relay"), 0);
	assert_string_equal(cli.help_topic, "relay");
	assert_int_equal(PARSE(&cli, err, "relay", "--help"), 0);
	assert_int_equal(cli.cmd, OM_CMD_HELP);
	assert_string_equal(cli.help_topic, "relay");
	assert_int_equal(PARSE(&cli, err, "stop", "-h"), 0);
	assert_string_equal(cli.help_topic, "stop");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(up_defaults, setup),
		cmocka_unit_test_setup(up_options, setup),
		cmocka_unit_test_setup(up_refuses_bad_values, setup),
		cmocka_unit_test_setup(up_net, setup),
		cmocka_unit_test_setup(up_libvirt, setup),
		cmocka_unit_test_setup(node_cpu_models, setup),
		cmocka_unit_test_setup(exec_parses_node_and_command, setup),
		cmocka_unit_test_setup(exec_refusals, setup),
		cmocka_unit_test_setup(stop_and_start, setup),
		cmocka_unit_test_setup(relay, setup),
		cmocka_unit_test_setup(up_hosts, setup),
		cmocka_unit_test_setup(cp_and_console, setup),
		cmocka_unit_test_setup(global_options_and_help, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
