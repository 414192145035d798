// SPDX-License-Identifier: GPL-2.0-only
/*
 * Choosing the accelerator: the probe boot's verdicts (reached userland,
 * hung, QEMU died), its cache, and the refusals, with a stand-in QEMU that
 * behaves as told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accel.h"

struct fixture {
	char dir[64];
	char cache[96];
	struct om_artifacts art;
};

/* A stand-in QEMU: behaviour "ok" writes the probe marker to the console
 * file named by -chardev and waits; "hang" only waits; "die" exits. */
static void write_fake_qemu(struct fixture *f, const char *behaviour)
{
	FILE *q = fopen(f->art.qemu, "w");

	assert_non_null(q);
	fprintf(q, "#!/bin/sh\n"
		   "for a in \"$@\"; do case $a in file,id=console,path=*) con=${a#*path=};; esac; done\n"
		   "case %s in\n"
		   "ok) echo OM-PROBE-OK >\"$con\"; exec sleep 30;;\n"
		   "hang) exec sleep 30;;\n"
		   "die) echo 'qemu: cannot init KVM' >&2; exit 1;;\n"
		   "esac\n",
		behaviour);
	fclose(q);
	chmod(f->art.qemu, 0755);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/om-accel-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cache, sizeof(f->cache), "%s/cache/omvm", f->dir);
	snprintf(f->art.qemu, sizeof(f->art.qemu), "%s/qemu", f->dir);
	snprintf(f->art.kernel, sizeof(f->art.kernel), "%s/bzImage", f->dir);
	snprintf(f->art.initrd, sizeof(f->art.initrd), "%s/initrd", f->dir);
	fclose(fopen(f->art.kernel, "w"));
	fclose(fopen(f->art.initrd, "w"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void probe_that_reaches_userland_picks_kvm(void **state)
{
	struct fixture *f = *state;
	struct om_accel_choice c;

	write_fake_qemu(f, "ok");
	assert_int_equal(om_accel_choose_with(OM_ACCEL_AUTO, &f->art, f->cache, f->dir, "/dev/null",
					      5000, &c), 0);
	assert_int_equal(c.accel, OM_ACCEL_KVM);
	assert_false(c.cached);
	/* The answer is remembered for the same inputs... */
	assert_int_equal(om_accel_choose_with(OM_ACCEL_KVM, &f->art, f->cache, f->dir, "/dev/null",
					      5000, &c), 0);
	assert_int_equal(c.accel, OM_ACCEL_KVM);
	assert_true(c.cached);
	/* ...and the probe's files are gone. */
	char console[160];

	snprintf(console, sizeof(console), "%s/console.log", f->dir);
	assert_int_not_equal(access(console, F_OK), 0);
}

static void probe_that_hangs_picks_tcg(void **state)
{
	struct fixture *f = *state;
	struct om_accel_choice c;

	write_fake_qemu(f, "hang");
	assert_int_equal(om_accel_choose_with(OM_ACCEL_AUTO, &f->art, f->cache, f->dir, "/dev/null",
					      1000, &c), 0);
	assert_int_equal(c.accel, OM_ACCEL_TCG);
	assert_non_null(strstr(c.reason, "did not reach userland in 1 s"));
	/* Asked for KVM, a cached failure is a refusal with the reason. */
	assert_int_equal(om_accel_choose_with(OM_ACCEL_KVM, &f->art, f->cache, f->dir, "/dev/null",
					      1000, &c), -ENODEV);
	assert_true(c.cached);
	assert_non_null(strstr(c.reason, "did not reach userland"));
}

static void probe_whose_qemu_dies_picks_tcg(void **state)
{
	struct fixture *f = *state;
	struct om_accel_choice c;

	write_fake_qemu(f, "die");
	assert_int_equal(om_accel_choose_with(OM_ACCEL_AUTO, &f->art, f->cache, f->dir, "/dev/null",
					      5000, &c), 0);
	assert_int_equal(c.accel, OM_ACCEL_TCG);
	assert_non_null(strstr(c.reason, "QEMU exited"));
}

static void no_kvm_device(void **state)
{
	struct fixture *f = *state;
	struct om_accel_choice c;

	write_fake_qemu(f, "ok");
	assert_int_equal(om_accel_choose_with(OM_ACCEL_AUTO, &f->art, f->cache, f->dir,
					      "/nonexistent/kvm", 5000, &c), 0);
	assert_int_equal(c.accel, OM_ACCEL_TCG);
	assert_non_null(strstr(c.reason, "No such file"));
	assert_int_equal(om_accel_choose_with(OM_ACCEL_KVM, &f->art, f->cache, f->dir,
					      "/nonexistent/kvm", 5000, &c), -ENODEV);
	/* TCG asked for: no device check, no probe. */
	assert_int_equal(om_accel_choose_with(OM_ACCEL_TCG, &f->art, f->cache, f->dir,
					      "/nonexistent/kvm", 5000, &c), 0);
	assert_int_equal(c.accel, OM_ACCEL_TCG);
	assert_string_equal(c.reason, "requested");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(probe_that_reaches_userland_picks_kvm, setup, teardown),
		cmocka_unit_test_setup_teardown(probe_that_hangs_picks_tcg, setup, teardown),
		cmocka_unit_test_setup_teardown(probe_whose_qemu_dies_picks_tcg, setup, teardown),
		cmocka_unit_test_setup_teardown(no_kvm_device, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
