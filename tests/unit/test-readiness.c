// SPDX-License-Identifier: GPL-2.0-only
/* Readiness verdicts, panic detection in console logs, and console tails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readiness.h"

static void verdicts(void **state)
{
	struct om_guest_observation o = { .process_alive = true, .elapsed_ms = 10, .timeout_ms = 1000 };

	(void)state;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_BOOTING);
	o.agent_answered = true;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_READY);
	/* An answer in the last moment still counts as ready. */
	o.elapsed_ms = 5000;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_READY);
	o.agent_answered = false;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_TIMED_OUT);
	o.elapsed_ms = 999;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_BOOTING);
	o.elapsed_ms = 1000;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_TIMED_OUT);
	/* A dead QEMU is reported before a time-out... */
	o.process_alive = false;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_EXITED);
	/* ...and a panic before the exit it causes. */
	o.console_panic = true;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_PANICKED);
	o.process_alive = true;
	o.agent_answered = true;
	assert_int_equal(om_readiness_verdict(&o), OM_GUEST_PANICKED);
	assert_string_equal(om_verdict_name(OM_GUEST_PANICKED), "kernel panic");
}

static void panic_text(void **state)
{
	const char *ok = "[    0.1] Run /init as init process\nom-guest: node 1 up\n";
	const char *bad = "[    1.2] Kernel panic - not syncing: VFS: Unable to mount root fs\n";

	(void)state;
	assert_false(om_console_shows_panic(ok, strlen(ok)));
	assert_true(om_console_shows_panic(bad, strlen(bad)));
	assert_false(om_console_shows_panic(bad, 10));
}

static void write_file(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void scan_is_incremental(void **state)
{
	char path[] = "/tmp/om-console-XXXXXX";
	long long off = 0;
	bool panic = false;
	int fd = mkstemp(path);
	static char filler[20000];

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* Missing file: nothing yet, no error. */
	assert_int_equal(om_console_scan("/nonexistent/console.log", &off, &panic), 0);
	memset(filler, 'a', sizeof(filler) - 1);
	write_file(path, filler, "w");
	assert_int_equal(om_console_scan(path, &off, &panic), 0);
	assert_false(panic);
	assert_int_equal(off, (long long)sizeof(filler) - 1);
	/* A marker written in two pieces across two scans is still found. */
	write_file(path, "\nKernel pan", "a");
	assert_int_equal(om_console_scan(path, &off, &panic), 0);
	assert_false(panic);
	write_file(path, "ic - not syncing: boom\n", "a");
	assert_int_equal(om_console_scan(path, &off, &panic), 0);
	assert_true(panic);
	unlink(path);
}

static void tail_lines(void **state)
{
	char path[] = "/tmp/om-tail-XXXXXX", out[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "one\ntwo\nthree\nfour\n", "w");
	assert_int_equal(om_console_tail(path, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "three\nfour\n");
	assert_int_equal(om_console_tail(path, 10, out, sizeof(out)), 0);
	assert_string_equal(out, "one\ntwo\nthree\nfour\n");
	write_file(path, "no newline at end", "w");
	assert_int_equal(om_console_tail(path, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "no newline at end");
	/* A small buffer keeps the end of the file. */
	write_file(path, "0123456789\nabcdef\n", "w");
	assert_int_equal(om_console_tail(path, 5, out, 8), 0);
	assert_string_equal(out, "abcdef\n");
	unlink(path);
	assert_true(om_console_tail(path, 5, out, sizeof(out)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdicts),
		cmocka_unit_test(panic_text),
		cmocka_unit_test(scan_is_incremental),
		cmocka_unit_test(tail_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
