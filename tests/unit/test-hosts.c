// SPDX-License-Identifier: GPL-2.0-only
/*
 * up --hosts (host/cluster/hosts.c): which host serves which nodes, the
 * namespaces' names, and the link options each host's relay gets. Making
 * the namespaces needs root and iproute2: the e2e test hosts.sh does it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hosts.h"

/* Contiguous ranges covering 1..nodes once, the first hosts one more when uneven. */
static void ranges(void **state)
{
	static const struct {
		unsigned int nodes, hosts, first[8], last[8];
	} cases[] = {
		{ 4, 2, { 1, 3 }, { 2, 4 } },
		{ 5, 2, { 1, 4 }, { 3, 5 } },
		{ 7, 3, { 1, 4, 6 }, { 3, 5, 7 } },
		{ 2, 2, { 1, 2 }, { 1, 2 } },
		{ 64, 8, { 1, 9, 17, 25, 33, 41, 49, 57 }, { 8, 16, 24, 32, 40, 48, 56, 64 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (unsigned int h = 1; h <= cases[i].hosts; h++) {
			unsigned int first, last;

			om_host_range(cases[i].nodes, cases[i].hosts, h, &first, &last);
			assert_int_equal(first, cases[i].first[h - 1]);
			assert_int_equal(last, cases[i].last[h - 1]);
			for (unsigned int n = first; n <= last; n++)
				assert_int_equal(om_node_host(cases[i].nodes, cases[i].hosts, n), h);
		}
	}
	assert_int_equal(om_node_host(4, 2, 0), 0);
	assert_int_equal(om_node_host(4, 2, 5), 0);
}

/* Named after the cluster and its directory: another run directory, other names. */
static void names(void **state)
{
	char a[128], b[128], sw[128], tiny[16];

	(void)state;
	assert_int_equal(om_hosts_netns("c1", "/run/omcluster/c1", 2, a, sizeof(a)), 0);
	assert_int_equal(om_hosts_netns("c1", "/tmp/x/c1", 2, b, sizeof(b)), 0);
	assert_int_equal(om_hosts_netns("c1", "/run/omcluster/c1", 0, sw, sizeof(sw)), 0);
	assert_int_equal(strncmp(a, "omc-c1-", 7), 0);
	assert_int_equal(strlen(a), strlen("omc-c1-01234567-h2"));
	assert_string_equal(a + strlen(a) - 3, "-h2");
	assert_string_equal(sw + strlen(sw) - 3, "-sw");
	assert_int_equal(strncmp(a, sw, strlen("omc-c1-01234567-")), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(om_hosts_netns("c1", "/d", 1, tiny, sizeof(tiny)), -ENAMETOOLONG);
}

/* Host 2 of 3, nodes 1-7: its name, address, key file and its two peers with their ranges. */
static void relay_link(void **state)
{
	struct om_relay_link link;
	char ns[128], want[PATH_MAX + 16];

	(void)state;
	assert_int_equal(om_hosts_relay_link("c1", "/run/omcluster/c1", 7, 3, 2, &link), 0);
	assert_int_equal(om_hosts_netns("c1", "/run/omcluster/c1", 2, ns, sizeof(ns)), 0);
	snprintf(want, sizeof(want), "/run/netns/%s", ns);
	assert_string_equal(link.netns, want);
	assert_string_equal(link.name, "h2");
	assert_string_equal(link.listen, "10.78.0.2:7740");
	assert_string_equal(link.psk_file, "/run/omcluster/c1/link.psk");
	assert_int_equal(link.n_peers, 2);
	assert_string_equal(link.peers[0], "h1=10.78.0.1:7740:1-3");
	assert_string_equal(link.peers[1], "h3=10.78.0.3:7740:6-7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges),
		cmocka_unit_test(names),
		cmocka_unit_test(relay_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
