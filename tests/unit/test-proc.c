// SPDX-License-Identifier: GPL-2.0-only
/* Starting, recognising and stopping processes, as up and down do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

static void spawn_alive_stop(void **state)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct om_proc_id id;

	(void)state;
	assert_int_equal(om_proc_spawn(argv, "/dev/null", NULL, &id), 0);
	assert_true(id.pid > 0);
	assert_true(om_proc_alive(&id));
	/* The same pid with another start time is another process. */
	struct om_proc_id other = { .pid = id.pid, .start = id.start + 1 };

	assert_false(om_proc_alive(&other));
	assert_int_equal(om_proc_stop(&id, 2000), 0);
	assert_false(om_proc_alive(&id));
	/* Stopping what is gone is fine. */
	assert_int_equal(om_proc_stop(&id, 100), 0);
}

static void stop_escalates_to_kill(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done", NULL };
	struct om_proc_id id;
	long long t0;

	(void)state;
	assert_int_equal(om_proc_spawn(argv, "/dev/null", NULL, &id), 0);
	om_sleep_ms(200); /* let the shell install its trap */
	t0 = om_now_ms();
	assert_int_equal(om_proc_stop(&id, 300), 0);
	assert_false(om_proc_alive(&id));
	assert_true(om_now_ms() - t0 >= 300);
}

static void spawn_reports_exec_failure(void **state)
{
	char *argv[] = { "/nonexistent/qemu", NULL };
	struct om_proc_id id;

	(void)state;
	assert_int_equal(om_proc_spawn(argv, "/dev/null", NULL, &id), -ENOENT);
	assert_int_equal(om_proc_spawn(argv, "/nonexistent/dir/log", NULL, &id), -ENOENT);
}

static void spawn_logs_output(void **state)
{
	char log[] = "/tmp/om-log-XXXXXX", buf[64] = "";
	char *argv[] = { "/bin/sh", "-c", "echo to-out; echo to-err >&2", NULL };
	struct om_proc_id id;
	int fd = mkstemp(log);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(om_proc_spawn(argv, log, NULL, &id), 0);
	for (int i = 0; i < 200 && om_proc_alive(&id); i++)
		om_sleep_ms(10);
	assert_false(om_proc_alive(&id));
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	assert_string_equal(buf, "to-out\nto-err\n");
	close(fd);
	unlink(log);
}

static void dead_pid(void **state)
{
	struct om_proc_id none = { .pid = 0 }, self = { .pid = getpid() };

	(void)state;
	assert_false(om_proc_alive(&none));
	assert_int_equal(om_proc_start_time(getpid(), &self.start), 0);
	assert_true(om_proc_alive(&self));
	assert_true(om_proc_start_time(-1, &self.start) < 0);
}

static void kill_is_at_once(void **state)
{
	/* A process that ignores SIGTERM still dies at once: no grace is given. */
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done", NULL };
	struct om_proc_id id;
	long long t0;

	(void)state;
	assert_int_equal(om_proc_spawn(argv, "/dev/null", NULL, &id), 0);
	om_sleep_ms(200);
	t0 = om_now_ms();
	assert_int_equal(om_proc_kill(&id), 0);
	assert_false(om_proc_alive(&id));
	assert_true(om_now_ms() - t0 < 1000);
	assert_int_equal(om_proc_kill(&id), 0); /* gone already: fine */
}

static void capture_output_and_status(void **state)
{
	char *echo[] = { "/bin/sh", "-c", "echo 'name \"x-pci\"'; echo err >&2; exit 3", NULL };
	char *big[] = { "/bin/sh", "-c", "yes | head -c 100000; echo done >&2", NULL };
	char *hang[] = { "/bin/sh", "-c", "exec sleep 30", NULL };
	char *quiet_hang[] = { "/bin/sh", "-c", "exec sleep 30 >/dev/null 2>&1", NULL };
	char *missing[] = { "/nonexistent/qemu", "-device", "help", NULL };
	char out[64];
	long long t0;

	(void)state;
	assert_int_equal(om_proc_capture(echo, out, sizeof(out), 5000), 3);
	assert_string_equal(out, "name \"x-pci\"\nerr\n");
	/* More than fits: the start is kept, the rest drained, the status still comes. */
	assert_int_equal(om_proc_capture(big, out, sizeof(out), 5000), 0);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_int_equal(om_proc_capture(missing, out, sizeof(out), 5000), -ENOENT);
	t0 = om_now_ms();
	assert_int_equal(om_proc_capture(hang, out, sizeof(out), 300), -ETIMEDOUT);
	assert_int_equal(om_proc_capture(quiet_hang, out, sizeof(out), 300), -ETIMEDOUT);
	assert_true(om_now_ms() - t0 < 3000);
}

/*
 * down's sweep for processes not in the state stops only what omcluster
 * started for that cluster: a user's `tail -f` on a file of the cluster's
 * directory names that directory on its command line, and must survive;
 * so must a process of another cluster.
 */
static void strays_are_only_what_we_started(void **state)
{
	char dir[] = "/tmp/omproc-XXXXXX", file[64], other[64];
	struct om_proc_id decoy, ours, theirs;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/omhostd.log", dir);
	snprintf(other, sizeof(other), "%s-other", dir);
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fclose(f);
	char *tail[] = { "/usr/bin/tail", "-f", file, NULL };
	char *sleeper[] = { "/bin/sleep", "30", NULL };

	/* Started as a user would, not by omcluster. */
	assert_int_equal(om_proc_spawn(tail, "/dev/null", NULL, &decoy), 0);
	assert_int_equal(om_proc_spawn(sleeper, "/dev/null", dir, &ours), 0);
	assert_int_equal(om_proc_spawn(sleeper, "/dev/null", other, &theirs), 0);
	assert_int_equal(om_proc_stop_strays(dir, 2000), 0);
	bool decoy_survived = om_proc_alive(&decoy), ours_gone = !om_proc_alive(&ours),
	     theirs_survived = om_proc_alive(&theirs);

	om_proc_kill(&decoy);
	om_proc_kill(&ours);
	om_proc_kill(&theirs);
	unlink(file);
	rmdir(dir);
	assert_true(decoy_survived);
	assert_true(ours_gone);
	assert_true(theirs_survived);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn_alive_stop),
		cmocka_unit_test(stop_escalates_to_kill),
		cmocka_unit_test(spawn_reports_exec_failure),
		cmocka_unit_test(spawn_logs_output),
		cmocka_unit_test(dead_pid),
		cmocka_unit_test(kill_is_at_once),
		cmocka_unit_test(capture_output_and_status),
		cmocka_unit_test(strays_are_only_what_we_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
