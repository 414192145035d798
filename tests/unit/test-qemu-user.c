// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user libvirt's QEMU runs as (up --libvirt): a name or uid read, and
 * whether it can reach a cluster's directory through every directory above.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu-user.h"

static void parse_names_and_uids(void **state)
{
	struct om_qemu_user u;
	struct passwd *nobody = getpwnam("nobody");

	(void)state;
	assert_non_null(nobody);
	assert_int_equal(om_qemu_user_parse("nobody", &u), 0);
	assert_int_equal(u.uid, nobody->pw_uid);
	assert_int_equal(u.gid, nobody->pw_gid);
	assert_int_equal(om_qemu_user_parse("0", &u), 0);
	assert_int_equal(u.uid, 0);
	assert_true(om_qemu_user_is_us(&u));
	/* A uid without a passwd entry: its own number as its group. */
	assert_null(getpwuid(4000123));
	assert_int_equal(om_qemu_user_parse("4000123", &u), 0);
	assert_int_equal(u.uid, 4000123);
	assert_int_equal(u.gid, 4000123);
	assert_int_equal(om_qemu_user_parse("no-such-user-here", &u), -ENOENT);
	assert_int_equal(om_qemu_user_parse("", &u), -EINVAL);
	assert_int_equal(om_qemu_user_parse("12x", &u), -EINVAL);
	assert_int_equal(om_qemu_user_parse("4294967295", &u), -EINVAL);
}

static void reaches_through_every_directory(void **state)
{
	struct om_qemu_user other = { .uid = 4000123, .gid = 4000123 };
	char top[] = "/tmp/om-qu-XXXXXX", mid[64], low[96], blocker[PATH_MAX];

	(void)state;
	assert_non_null(mkdtemp(top));
	snprintf(mid, sizeof(mid), "%s/run", top);
	snprintf(low, sizeof(low), "%s/cluster", mid);
	assert_int_equal(mkdir(mid, 0700), 0);
	assert_int_equal(mkdir(low, 0700), 0);
	assert_int_equal(chmod(top, 0711), 0);
	/* mid is ours alone: it stops the other user, whatever low allows. */
	assert_int_equal(om_qemu_user_reaches(&other, low, blocker, sizeof(blocker)), -EACCES);
	assert_string_equal(blocker, mid);
	assert_int_equal(chmod(mid, 0711), 0);
	assert_int_equal(om_qemu_user_reaches(&other, mid, blocker, sizeof(blocker)), 0);
	assert_int_equal(om_qemu_user_reaches(&other, low, blocker, sizeof(blocker)), -EACCES);
	assert_string_equal(blocker, low);
	/* Its group's, searchable by the group: as the cluster's directory is made. */
	if (geteuid() == 0) {
		assert_int_equal(om_qemu_user_share(&other, low, 0710), 0);
		assert_int_equal(om_qemu_user_reaches(&other, low, blocker, sizeof(blocker)), 0);
	}
	assert_int_equal(om_qemu_user_reaches(&other, "/nonexistent/dir", blocker, sizeof(blocker)),
			 -ENOENT);
	assert_int_equal(om_qemu_user_reaches(&other, "relative", blocker, sizeof(blocker)),
			 -EINVAL);
	rmdir(low);
	rmdir(mid);
	rmdir(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_names_and_uids),
		cmocka_unit_test(reaches_through_every_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
