// SPDX-License-Identifier: GPL-2.0-only
/* Starting, recognising and stopping processes, as up and down do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
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
	assert_int_equal(om_proc_spawn(sleeper, "/dev/null", &(struct om_owner){ .dir = dir }, &ours), 0);
	assert_int_equal(om_proc_spawn(sleeper, "/dev/null", &(struct om_owner){ .dir = other }, &theirs),
			 0);
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

/* Starts argv as a user would, not through omcluster, with extra_env added; its pid. */
static pid_t user_process(char *const argv[], const char *extra_env)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (extra_env)
			putenv((char *)extra_env);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Whether pid is there and not a zombie (our own children are reaped first). */
static bool runs(pid_t pid)
{
	struct om_proc_id id = { .pid = pid };

	return om_proc_start_time(pid, &id.start) == 0 && om_proc_alive(&id);
}

/* A cgroup of the test's own for a cluster's, or skips where cgroup v2 is not ours. */
static void test_cgroup(char *out, size_t cap)
{
	char parent[PATH_MAX];
	int r = om_cgroup_parent(parent, sizeof(parent));

	if (!r)
		r = om_cgroup_path(parent, "test-proc", "/test", out, cap);
	if (!r)
		r = om_cgroup_create(out);
	if (r == -ENOENT || r == -EACCES || r == -EPERM || r == -EROFS || r == -ENOTSUP) {
		print_message("cgroup v2 not writable here (%s): skipped\n", strerror(-r));
		skip();
	}
	assert_int_equal(r, 0);
}

/*
 * The mark in the environment is no proof of ownership: a user's process
 * that carries OMCLUSTER_OWNER=DIR (a shell started from a guest's helper,
 * a copy-pasted environment) is not omcluster's, and a helper a spawned
 * process starts with a clean environment is. Stopping the cluster's
 * cgroup stops exactly what omcluster started, its descendants included,
 * and removes the cgroup.
 */
static void sweep_stops_exactly_what_we_started(void **state)
{
	char dir[] = "/tmp/omproc-XXXXXX", file[64], log[64], mark[128], cg[PATH_MAX];
	pid_t tail_pid, marked_pid, helper_pid = 0;
	struct om_cgroup_usage u;
	struct om_proc_id ours;
	FILE *f;

	(void)state;
	test_cgroup(cg, sizeof(cg));
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/helper.pid", dir);
	snprintf(log, sizeof(log), "%s/omhostd.log", dir);
	f = fopen(log, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(mark, sizeof(mark), OM_PROC_OWNER_ENV "=%s", dir);
	char *tail[] = { "/usr/bin/tail", "-f", log, NULL };
	char *sleeper[] = { "/bin/sleep", "30", NULL };
	char helper_cmd[256];

	snprintf(helper_cmd, sizeof(helper_cmd),
		 "env -i /bin/sleep 30 & echo $! > %s; exec /bin/sleep 30", file);
	char *with_helper[] = { "/bin/sh", "-c", helper_cmd, NULL };

	tail_pid = user_process(tail, NULL);
	marked_pid = user_process(sleeper, mark);
	assert_int_equal(om_proc_spawn(with_helper, "/dev/null",
				       &(struct om_owner){ .cgroup = cg, .dir = dir }, &ours),
			 0);
	for (int i = 0; i < 200 && !helper_pid; i++) {
		f = fopen(file, "r");
		if (!f || fscanf(f, "%d", &helper_pid) != 1)
			helper_pid = 0;
		if (f)
			fclose(f);
		om_sleep_ms(10);
	}
	assert_true(helper_pid > 0);
	assert_int_equal(om_cgroup_usage(cg, &u), 0);
	assert_int_equal(u.procs, 2); /* the shell's sleep and its helper */
	assert_int_equal(om_cgroup_stop(cg, 2000), 0);
	bool tail_survived = runs(tail_pid), marked_survived = runs(marked_pid),
	     ours_gone = !om_proc_alive(&ours), helper_gone = !runs(helper_pid);

	kill(tail_pid, SIGKILL);
	kill(marked_pid, SIGKILL);
	kill(helper_pid, SIGKILL);
	om_proc_kill(&ours);
	waitpid(tail_pid, NULL, 0);
	waitpid(marked_pid, NULL, 0);
	unlink(file);
	unlink(log);
	rmdir(dir);
	assert_true(tail_survived);
	assert_true(ours_gone);
	/* What was not in the tool before: */
	assert_true(marked_survived);
	assert_true(helper_gone);
	assert_int_equal(access(cg, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

/* A cgroup that is not there: nothing runs, and spawn says why. */
static void spawn_into_a_missing_cgroup_fails(void **state)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct om_proc_id id;

	(void)state;
	assert_int_equal(om_proc_spawn(argv, "/dev/null",
				       &(struct om_owner){ .cgroup = "/nonexistent/cgroup" }, &id),
			 -ENOENT);
}

/* A member that ignores SIGTERM is killed after the grace time, and the cgroup goes. */
static void cgroup_stop_escalates_to_kill(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done", NULL };
	char cg[PATH_MAX];
	struct om_proc_id id;
	long long t0;

	(void)state;
	test_cgroup(cg, sizeof(cg));
	assert_int_equal(om_proc_spawn(argv, "/dev/null", &(struct om_owner){ .cgroup = cg }, &id),
			 0);
	om_sleep_ms(200);
	t0 = om_now_ms();
	assert_int_equal(om_cgroup_stop(cg, 300), 0);
	assert_true(om_now_ms() - t0 >= 300);
	assert_false(om_proc_alive(&id));
	assert_int_equal(access(cg, F_OK), -1);
	/* Gone already: fine. */
	assert_int_equal(om_cgroup_stop(cg, 300), 0);
}

/*
 * A pid that comes back within the same clock tick has the same pid and
 * start time as the process that had it: only a pidfd held since the spawn
 * tells them apart. Recycles the pid through ns_last_pid (root only).
 */
static void recycled_pid_is_not_signalled(void **state)
{
	char *sleeper[] = { "/bin/sleep", "30", NULL };
	unsigned long long start;
	pid_t imposter = -1;
	struct om_proc_id id;
	bool survived;
	int tries;

	(void)state;
	if (access("/proc/sys/kernel/ns_last_pid", W_OK) != 0)
		skip(); /* not root: the pid cannot be recycled on purpose */
	for (tries = 0; tries < 200; tries++) {
		FILE *f;

		assert_int_equal(om_proc_spawn(sleeper, "/dev/null", NULL, &id), 0);
		kill(id.pid, SIGKILL);
		waitpid(id.pid, NULL, 0);
		f = fopen("/proc/sys/kernel/ns_last_pid", "w");
		assert_non_null(f);
		fprintf(f, "%d", (int)id.pid - 1);
		fclose(f);
		imposter = user_process(sleeper, NULL);
		if (imposter == id.pid && om_proc_start_time(imposter, &start) == 0 &&
		    start == id.start)
			break;
		kill(imposter, SIGKILL);
		waitpid(imposter, NULL, 0);
	}
	assert_true(tries < 200);
	/* Its pid and start time are those recorded for ours: the tool cannot tell by them. */
	assert_int_equal(om_proc_stop(&id, 500), 0);
	survived = runs(imposter);
	kill(imposter, SIGKILL);
	waitpid(imposter, NULL, 0);
	assert_true(survived);
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
		cmocka_unit_test(sweep_stops_exactly_what_we_started),
		cmocka_unit_test(recycled_pid_is_not_signalled),
		cmocka_unit_test(spawn_into_a_missing_cgroup_fails),
		cmocka_unit_test(cgroup_stop_escalates_to_kill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
