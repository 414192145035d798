// SPDX-License-Identifier: GPL-2.0-only
/* The cluster state file: round trip, and refusal of anything malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static int parse_text(const char *text, struct om_cluster_state *st, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = om_state_parse(f, st, err, errlen);
	fclose(f);
	return r;
}

static void round_trip(void **state)
{
	static struct om_cluster_state a, b;
	char dir[] = "/tmp/om-state-XXXXXX", err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a.name, sizeof(a.name), "ci");
	snprintf(a.dir, sizeof(a.dir), "%s", dir);
	a.accel = OM_ACCEL_TCG;
	snprintf(a.accel_reason, sizeof(a.accel_reason), "a probe boot under KVM did not reach userland in 15 s");
	a.created = 1795519572;
	a.mem_mib = 512;
	a.cpus = 2;
	a.n_nodes = 3;
	for (unsigned int i = 0; i < 3; i++) {
		a.nodes[i].node = i + 1;
		a.nodes[i].qemu.pid = 1000 + (pid_t)i;
		a.nodes[i].qemu.start = 123456789ull + i;
		snprintf(a.nodes[i].dir, sizeof(a.nodes[i].dir), "%s/node %u", dir, i + 1);
	}
	assert_int_equal(om_state_save(&a), 0);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), 0);
	assert_string_equal(b.name, "ci");
	assert_string_equal(b.dir, dir);
	assert_int_equal(b.accel, OM_ACCEL_TCG);
	assert_string_equal(b.accel_reason, a.accel_reason);
	assert_int_equal(b.created, a.created);
	assert_int_equal(b.mem_mib, 512);
	assert_int_equal(b.cpus, 2);
	assert_int_equal(b.n_nodes, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(b.nodes[i].node, i + 1);
		assert_int_equal(b.nodes[i].qemu.pid, 1000 + (int)i);
		assert_int_equal(b.nodes[i].qemu.start, 123456789ull + i);
		/* A directory with a space survives. */
		assert_string_equal(b.nodes[i].dir, a.nodes[i].dir);
	}
	assert_non_null(om_state_node(&b, 2));
	assert_null(om_state_node(&b, 4));

	char path[PATH_MAX + 20];

	snprintf(path, sizeof(path), "%s/cluster.state", dir);
	unlink(path);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), -ENOENT);
	rmdir(dir);
}

static void refuses_malformed(void **state)
{
	static struct om_cluster_state st;
	char err[256];
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char text[1024];

	(void)state;
	assert_int_equal(parse_text("", &st, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_text("omcluster-state 2\n", &st, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_text("omcluster-state 1\nname x\n", &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "incomplete"));
	snprintf(text, sizeof(text), "%saccel xen\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 5"));
	snprintf(text, sizeof(text), "%snode 1 12 34 relative/dir\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 0 12 34 /d/n\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 1 -5 34 /d/n\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode 1 13 35 /d/n2\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "twice"));
	snprintf(text, sizeof(text), "%swhat ever\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unknown key"));
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1", head); /* no newline: truncated */
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_int_equal(st.n_nodes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
