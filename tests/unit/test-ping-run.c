// SPDX-License-Identifier: GPL-2.0-only
/*
 * The options and the run om-ping and om-udp-ping share (ping-run.h),
 * driven through a scripted transport: what they print, what they count,
 * how they end and how they pace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mono-time.h"
#include "ping-run.h"

#define MAX_SEQ 8

static FILE *usage_stream;

static void record_usage(FILE *f)
{
	usage_stream = f;
}

/* ping_parse_options on a fresh getopt, with its messages silenced. */
static int parse(int argc, char **argv, uint32_t port_max, struct ping_options *o)
{
	optind = 0;
	opterr = 0;
	usage_stream = NULL;
	return ping_parse_options(argc, argv, "test", port_max, record_usage, o);
}

static void options_and_their_defaults(void **state)
{
	char *none[] = { "test", "node", NULL };
	char *all[] = { "test", "-c", "3", "-i", "0", "-t", "50", "-p", "9", "-q", "-s", "node", NULL };
	struct ping_options o = PING_OPTIONS_DEFAULTS;

	(void)state;
	o.port = 7;
	assert_int_equal(parse(2, none, 10, &o), PING_OPTIONS_PARSED);
	assert_int_equal(o.count, 1);
	assert_int_equal(o.interval_ms, 1000);
	assert_int_equal(o.timeout_ms, 1000);
	assert_int_equal(o.port, 7);
	assert_false(o.quiet || o.serve);
	assert_string_equal(none[optind], "node");

	assert_int_equal(parse(12, all, 10, &o), PING_OPTIONS_PARSED);
	assert_int_equal(o.count, 3);
	assert_int_equal(o.interval_ms, 0);
	assert_int_equal(o.timeout_ms, 50);
	assert_int_equal(o.port, 9);
	assert_true(o.quiet && o.serve);
	assert_string_equal(all[optind], "node");
}

static void bad_options_and_help(void **state)
{
	char *no_count[] = { "test", "-c", "0", NULL };
	char *long_interval[] = { "test", "-i", "3600001", NULL };
	char *no_timeout[] = { "test", "-t", "0", NULL };
	char *high_port[] = { "test", "-p", "11", NULL };
	char *unknown[] = { "test", "-x", NULL };
	char *help[] = { "test", "-h", NULL };
	struct ping_options o = PING_OPTIONS_DEFAULTS;

	(void)state;
	assert_int_equal(parse(3, no_count, 10, &o), 2);
	assert_int_equal(parse(3, long_interval, 10, &o), 2);
	assert_int_equal(parse(3, no_timeout, 10, &o), 2);
	assert_int_equal(parse(3, high_port, 10, &o), 2);
	/* A bad value is said in one line; the usage is for unknown options. */
	assert_null(usage_stream);
	assert_int_equal(parse(2, unknown, 10, &o), 2);
	assert_ptr_equal(usage_stream, stderr);
	assert_int_equal(parse(2, help, 10, &o), 0);
	assert_ptr_equal(usage_stream, stdout);
}

/* A transport that answers each step as scripted, and notes when it was asked. */
struct scripted {
	enum ping_step send[MAX_SEQ], wait[MAX_SEQ]; /* [seq - 1] */
	uint32_t sends, waits;
	double deadline[MAX_SEQ];
	double send_at[MAX_SEQ];
};

static enum ping_step scripted_send(void *ctx, uint32_t seq)
{
	struct scripted *s = ctx;

	assert_int_equal(seq, ++s->sends);
	s->send_at[seq - 1] = mono_now_ms();
	return s->send[seq - 1];
}

static enum ping_step scripted_wait(void *ctx, uint32_t seq, double deadline_ms)
{
	struct scripted *s = ctx;

	assert_int_equal(seq, ++s->waits);
	s->deadline[seq - 1] = deadline_ms;
	return s->wait[seq - 1];
}

/* Whether text is pattern, where '#' stands for a number such as 0.012. */
static int matches(const char *pattern, const char *text)
{
	for (; *pattern; pattern++) {
		if (*pattern != '#') {
			if (*text++ != *pattern)
				return 0;
			continue;
		}
		if (!strchr("0123456789", *text))
			return 0;
		while (*text && strchr("0123456789.", *text))
			text++;
	}
	return !*text;
}

/* Runs count requests through s; what the run printed, to free, and its exit status. */
static char *run_scripted(struct scripted *s, uint32_t count, uint32_t interval_ms, bool quiet,
			  int *status)
{
	struct ping_run run = {
		.prog = "test",
		.peer = "node 3",
		.what = "ping",
		.opt = PING_OPTIONS_DEFAULTS,
	};
	const struct ping_transport t = { scripted_send, scripted_wait, s };
	char *out = NULL;
	size_t len;

	run.opt.count = count;
	run.opt.interval_ms = interval_ms;
	run.opt.timeout_ms = 250;
	run.opt.quiet = quiet;
	run.out = open_memstream(&out, &len);
	assert_non_null(run.out);
	assert_int_equal(ping_run_prepare(&run), 0);
	*status = ping_run(&run, &t);
	fclose(run.out);
	return out;
}

static void every_round_trip_then_the_summary(void **state)
{
	struct scripted s = {
		.send = { PING_DONE, PING_DONE, PING_DONE },
		.wait = { PING_DONE, PING_TIMEOUT, PING_DONE },
	};
	int status;
	char *out = run_scripted(&s, 3, 0, false, &status);

	(void)state;
	assert_true(matches("8 bytes from node 3: seq=1 time=# ms\n"
			    "no reply from node 3: seq=2 (timeout 250 ms)\n"
			    "8 bytes from node 3: seq=3 time=# ms\n"
			    "--- node 3 ping statistics ---\n"
			    "3 transmitted, 2 received, 33% loss, rtt min/avg/max = #/#/# ms\n"
			    "rtt min/median/p99/mean = #/#/#/# ms\n",
			    out));
	assert_int_equal(status, 1);
	assert_int_equal(s.sends, 3);
	free(out);

	memset(&s, 0, sizeof(s)); /* PING_DONE throughout */
	out = run_scripted(&s, 2, 0, true, &status);
	assert_true(matches("--- node 3 ping statistics ---\n"
			    "2 transmitted, 2 received, 0% loss, rtt min/avg/max = #/#/# ms\n"
			    "rtt min/median/p99/mean = #/#/#/# ms\n",
			    out));
	assert_int_equal(status, 0);
	free(out);
}

static void a_stop_ends_the_run_with_its_summary(void **state)
{
	/* The echo will not come: the request counts as sent. */
	struct scripted gone = {
		.send = { PING_DONE, PING_DONE },
		.wait = { PING_DONE, PING_STOP },
	};
	/* It could not go (nothing listens): it does not count. */
	struct scripted unsent = {
		.send = { PING_DONE, PING_STOP },
		.wait = { PING_DONE },
	};
	int status;
	char *out;

	(void)state;
	out = run_scripted(&gone, 4, 0, true, &status);
	assert_true(matches("--- node 3 ping statistics ---\n"
			    "2 transmitted, 1 received, 50% loss, rtt min/avg/max = #/#/# ms\n"
			    "rtt min/median/p99/mean = #/#/#/# ms\n",
			    out));
	assert_int_equal(status, 1);
	assert_int_equal(gone.sends, 2);
	free(out);

	out = run_scripted(&unsent, 4, 0, true, &status);
	assert_true(matches("--- node 3 ping statistics ---\n"
			    "1 transmitted, 1 received, 0% loss, rtt min/avg/max = #/#/# ms\n"
			    "rtt min/median/p99/mean = #/#/#/# ms\n",
			    out));
	assert_int_equal(status, 1);
	assert_int_equal(unsent.sends, 2);
	assert_int_equal(unsent.waits, 1);
	free(out);
}

static void a_fatal_send_ends_it_without_summary(void **state)
{
	struct scripted s = { .send = { PING_DONE, PING_FATAL } };
	int status;
	char *out = run_scripted(&s, 3, 0, false, &status);

	(void)state;
	assert_true(matches("8 bytes from node 3: seq=1 time=# ms\n", out));
	assert_int_equal(status, 2);
	free(out);
}

static void requests_are_paced_from_each_start(void **state)
{
	struct scripted s = { 0 };
	int status;
	char *out = run_scripted(&s, 3, 20, true, &status);

	(void)state;
	assert_int_equal(status, 0);
	for (uint32_t i = 0; i < 3; i++) {
		/* Each deadline is its request's start (before its send) plus the timeout. */
		assert_true(s.deadline[i] <= s.send_at[i] + 250);
		assert_true(s.deadline[i] > s.send_at[i] + 200);
		if (i)
			assert_true(s.deadline[i] - s.deadline[i - 1] >= 20 - 1e-6);
	}
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_and_their_defaults),
		cmocka_unit_test(bad_options_and_help),
		cmocka_unit_test(every_round_trip_then_the_summary),
		cmocka_unit_test(a_stop_ends_the_run_with_its_summary),
		cmocka_unit_test(a_fatal_send_ends_it_without_summary),
		cmocka_unit_test(requests_are_paced_from_each_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
