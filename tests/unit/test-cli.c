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
}

static void up_options(void **state)
{
	struct om_cli cli;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&cli, err, "-c", "ci-7", "up", "-n", "5", "--mem", "1024",
			       "--cpus", "2", "--accel", "tcg", "--timeout", "60", "--kernel",
			       "/k", "--initrd", "/i", "--qemu", "/q", "--append", "quiet"),
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(up_defaults, setup),
		cmocka_unit_test_setup(up_options, setup),
		cmocka_unit_test_setup(up_refuses_bad_values, setup),
		cmocka_unit_test_setup(exec_parses_node_and_command, setup),
		cmocka_unit_test_setup(exec_refusals, setup),
		cmocka_unit_test_setup(cp_and_console, setup),
		cmocka_unit_test_setup(global_options_and_help, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
