// SPDX-License-Identifier: GPL-2.0-only
/* om-mon's reading of /proc/hpc/loads, and its view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loads.h"

#define HEADER "node\tage_ms\tload\tload_slow\tspeed\tncpus\tfree_kib\ttotal_kib\tstate\thosted\taway\tpending\trunnable\n"

static void parses_the_engines_view(void **state)
{
	const char *text = HEADER
		"2\t0\t2150\t1250\t10000\t1\t476000\t503052\tself,balancing\t2\t0\t0\t3\n"
		"1\t683\t83\t59\t10000\t1\t476580\t503052\tbalancing,blocked\t0\t4\t1\t0\n"
		"3\t760\t7\t19\t20000\t2\t469184\t503052\tstill\t0\t0\t0\t1\n";
	static struct om_loads l;

	(void)state;
	assert_int_equal(om_loads_parse(text, &l), 0);
	assert_int_equal(l.n, 3);
	assert_true(l.row[0].self);
	assert_int_equal(l.row[0].node, 2);
	assert_int_equal(l.row[0].load, 2150);
	assert_int_equal(l.row[0].hosted, 2);
	assert_int_equal(l.row[0].runnable, 3);
	assert_true(l.row[1].blocked && l.row[1].balancing && !l.row[1].self);
	assert_int_equal(l.row[1].away, 4);
	assert_int_equal(l.row[1].age_ms, 683);
	assert_false(l.row[2].balancing);
	assert_int_equal(l.row[2].ncpus, 2);
	assert_int_equal(l.row[2].speed, 20000);
	om_loads_sort(&l);
	assert_int_equal(l.row[0].node, 1);
	assert_int_equal(l.row[2].node, 3);
}

static void refuses_other_text(void **state)
{
	static struct om_loads l;

	(void)state;
	assert_int_equal(om_loads_parse("", &l), -EPROTO);
	assert_int_equal(om_loads_parse(HEADER, &l), -EPROTO); /* not even this node */
	assert_int_equal(om_loads_parse("node\tload\n1\t2\n", &l), -EPROTO);
	assert_int_equal(om_loads_parse(HEADER "1\t0\t2\t3\t4\t5\t6\t7\tself\t0\t0\t0\n", &l),
			 -EPROTO); /* a column short */
	assert_int_equal(om_loads_parse(HEADER "1\t0\t2\t3\t4\t5\t6\t7\tself\t0\t0\t0\t0\tx\n", &l),
			 -EPROTO); /* one too many */
	assert_int_equal(om_loads_parse(HEADER "1\t0\t2\t3\t4\t5\t6\t7\tweird\t0\t0\t0\t0\n", &l),
			 -EPROTO); /* a state it does not know */
	assert_int_equal(om_loads_parse(HEADER "0\t0\t2\t3\t4\t5\t6\t7\tself\t0\t0\t0\t0\n", &l),
			 -EPROTO); /* node 0 */
}

static void draws_a_line_a_node(void **state)
{
	const char *text = HEADER
		"1\t0\t2150\t1250\t10000\t1\t476000\t503052\tself,balancing\t2\t3\t0\t3\n"
		"2\t1500\t0\t0\t10000\t1\t1024\t2048\tstill,blocked\t0\t0\t0\t0\n";
	static struct om_loads l;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	(void)state;
	assert_non_null(f);
	assert_int_equal(om_loads_parse(text, &l), 0);
	om_loads_draw(f, &l, 100);
	fclose(f);
	assert_non_null(strstr(out, "\n1*        2.15    1.25    3     1  10000           464/491      2     3    0.0s balancing #####################\n"));
	assert_non_null(strstr(out, "\n2         0.00    0.00    0     1  10000               1/2      0     0    1.5s still,blocked \n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_engines_view),
		cmocka_unit_test(refuses_other_text),
		cmocka_unit_test(draws_a_line_a_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
