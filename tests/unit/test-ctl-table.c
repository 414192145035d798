// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostctl status's tables (control-client.c), from a status answer: the
 * nodes; with relay links, each node's tx chains held for them and the
 * links. Exact text: scripts and people read the columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control-client.h"

static const char node1[] =
	"node=1 state=up tx_msgs=10 tx_bytes=4800 rx_msgs=12 rx_bytes=4896 stalls=0 "
	"undeliverable=0 refused=0 evictions=0 queued=0 queue_dropped=0 tx_held=3 "
	"tx_held_total=41 tx_released=2\n";
static const char link_h2[] =
	"link=hostB state=up nodes=9-16 connects=1 cuts=0 auth_failed=0 malformed=0 "
	"foreign_source=0 credit_exceeded=0 frames_tx=12 frames_rx=10 data_tx=4 data_rx=3 "
	"resent=0 duplicates=0 unacked=1 outbox=0 held=0 undeliverable=0 log_suppressed=0\n";

/* The table printed from status, into buf. */
static void table(const char *status, char *buf, size_t cap)
{
	FILE *f = fmemopen(buf, cap, "w");

	assert_non_null(f);
	om_ctl_print_table(f, status);
	fclose(f);
}

/* A relay without links: the nodes' table alone, no tx_held columns. */
static void without_links(void **state)
{
	char status[1024], buf[4096];

	(void)state;
	snprintf(status, sizeof(status), "omhostd pid=1 nodes=1-1\n%s", node1);
	table(status, buf, sizeof(buf));
	assert_string_equal(buf,
		"node       state      tx_msgs       tx_bytes      rx_msgs       rx_bytes      stalls        undeliverable refused       evictions     queued        queue_dropped \n"
		"1          up         10            4800          12            4896          0             0             0             0             0             0             \n");
	assert_null(strstr(buf, "tx_held"));
}

/* With a link: the chains each node has held for it, then the links. */
static void with_links(void **state)
{
	char status[2048], buf[8192];
	const char *held;

	(void)state;
	snprintf(status, sizeof(status), "omhostd pid=1 nodes=1-1\n%s%s", node1, link_h2);
	table(status, buf, sizeof(buf));
	held = strstr(buf, "\nnode       tx_held");
	assert_non_null(held);
	assert_non_null(strstr(held,
		"\nnode       tx_held        tx_held_total  tx_released    \n"
		"1          3              41             2              \n"
		"\nlink        state       nodes       connects       cuts           "));
	assert_non_null(strstr(buf, "\nhostB       up          9-16        1              0              "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(without_links),
		cmocka_unit_test(with_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
