// SPDX-License-Identifier: GPL-2.0-only
/*
 * omtrace's reading of messages (host/trace/): the protocol header's
 * tables as decoded (every field fits its type, names are unique), field
 * values by kind, names of system calls against the kernel headers,
 * filters, request/reply latency and the summary's percentiles.
 */
#include <asm/unistd_64.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"
#include "filter.h"
#include "stats.h"

static void field_table_fits_the_type_table(void **state)
{
	(void)state;
	assert_true(om_types_count > 0);
	for (size_t i = 0; i < om_fields_count; i++) {
		const struct om_field_info *f = &om_fields[i];
		const struct om_type_info *t = om_type_info(f->type);

		assert_non_null(t);
		assert_non_null(om_field_kind_name(f->kind));
		/* Every message of the type carries the field whole. */
		assert_true(f->offset + f->size <= t->min_len);
		if (f->kind != VIRTIO_OM_FIELD_STRING)
			assert_true(f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8);
		for (size_t k = 0; k < i; k++)
			assert_false(om_fields[k].type == f->type && !strcmp(om_fields[k].name, f->name));
	}
	for (size_t i = 0; i < om_types_count; i++) {
		for (size_t k = 0; k < i; k++) {
			assert_int_not_equal(om_types[k].value, om_types[i].value);
			assert_string_not_equal(om_types[k].name, om_types[i].name);
		}
		/* Every type lies in a range the header reserves. */
		assert_non_null(om_type_range_of(om_types[i].value));
	}
}

static void types_by_name_and_label(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(om_type_by_name("ping")->value, VIRTIO_OM_T_PING);
	assert_int_equal(om_type_by_name("TEST_DATA")->value, VIRTIO_OM_T_TEST_DATA);
	assert_null(om_type_by_name("nosuch"));
	assert_string_equal(om_type_label(VIRTIO_OM_T_NODE_UP, buf, sizeof(buf)), "NODE_UP");
	assert_string_equal(om_type_label(VIRTIO_OM_T_MEMORY_LAST, buf, sizeof(buf)),
			    om_type_info(VIRTIO_OM_T_MEMORY_LAST) ? om_type_info(VIRTIO_OM_T_MEMORY_LAST)->name
								   : "memory:0x03ff");
	assert_string_equal(om_type_label(0x5000, buf, sizeof(buf)), "0x5000");
}

static void syscall_names_are_the_kernel_headers(void **state)
{
	(void)state;
	assert_string_equal(om_syscall_name(__NR_read), "read");
	assert_string_equal(om_syscall_name(__NR_openat), "openat");
	assert_string_equal(om_syscall_name(__NR_exit_group), "exit_group");
	assert_int_equal(om_syscall_by_name("clone3"), __NR_clone3);
	assert_int_equal(om_syscall_by_name("no_such_call"), -1);
	assert_null(om_syscall_name(100000));
}

static void fields_read_by_kind(void **state)
{
	unsigned char p[8] = { 0 };
	char buf[256];
	struct om_field_info f = { .offset = 0, .size = 4 };

	(void)state;
	/* A node event: node 3, EVICTED. */
	p[0] = 3;
	p[4] = VIRTIO_OM_NODE_EVICTED;
	assert_int_equal(om_fields_text(VIRTIO_OM_T_NODE_DOWN, p, 8, buf, sizeof(buf)),
			 strlen("node=3 reason=EVICTED"));
	assert_string_equal(buf, "node=3 reason=EVICTED");
	/* Cut at 4 captured bytes: the reason is not shown. */
	om_fields_text(VIRTIO_OM_T_NODE_DOWN, p, 4, buf, sizeof(buf));
	assert_string_equal(buf, "node=3");
	om_fields_text(VIRTIO_OM_T_TEST_DATA, p, 8, buf, sizeof(buf));
	assert_string_equal(buf, "");

	f.kind = VIRTIO_OM_FIELD_RESULT;
	f.size = 8;
	memset(p, 0xff, 8);
	p[0] = (unsigned char)-ENOENT;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "-ENOENT");
	memset(p, 0, 8);
	p[0] = 42;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "42");
	memset(p, 0xff, 8);
	p[1] = 0xef; /* -4097: not an error code */
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "-4097");
	memset(p, 0, 8);
	p[7] = 0x80; /* INT64_MIN: not an error code, and not negated (UB) */
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "-9223372036854775808");

	f.kind = VIRTIO_OM_FIELD_SINT;
	f.size = 4;
	memset(p, 0xff, 8);
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "-1");
	f.kind = VIRTIO_OM_FIELD_HEX;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "0xffffffff");
	f.kind = VIRTIO_OM_FIELD_UINT;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "4294967295");
	f.kind = VIRTIO_OM_FIELD_SYSCALL;
	memset(p, 0, 8);
	p[0] = __NR_openat & 0xff;
	p[1] = __NR_openat >> 8;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "openat");
	p[0] = 0xff;
	p[1] = 0xff; /* no such call: its number */
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "65535");
	f.kind = VIRTIO_OM_FIELD_ERRNO;
	memset(p, 0, 8);
	p[0] = EAGAIN;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "EAGAIN");
	p[0] = 0;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "0");
	f.kind = VIRTIO_OM_FIELD_SIGNAL;
	p[0] = 9;
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "SIGKILL");
	f.kind = VIRTIO_OM_FIELD_STRING;
	f.size = 8;
	memcpy(p, "a b\"c\0zz", 8); /* to the NUL; space and quote as '.' */
	assert_string_equal(om_field_text(&f, p, buf, sizeof(buf)), "a.b.c");
}

static struct om_trace_rec msg(uint32_t src, uint32_t dst, uint16_t type, uint64_t seq,
			       const unsigned char *payload, uint32_t len)
{
	struct om_trace_rec r = {
		.kind = OM_TRACE_REC_MSG, .event = OM_TRACE_RELAYED,
		.h = { .version = 1, .type = type, .src_node = src, .dst_node = dst,
		       .src_pid = src * 100, .dst_pid = dst * 100, .seq = seq, .len = len },
		.caplen = len, .payload = payload,
	};
	return r;
}

static void filters_by_node_pid_and_type(void **state)
{
	static struct om_filter f;
	unsigned char p[8] = { 0 };
	struct om_trace_rec a = msg(1, 2, VIRTIO_OM_T_PING, 1, p, 8);
	struct om_trace_rec b = msg(3, 2, VIRTIO_OM_T_TEST_DATA, 1, p, 8);
	struct om_trace_rec missed = { .kind = OM_TRACE_REC_MISSED, .missed = 1 };
	char err[512];

	(void)state;
	om_filter_init(&f);
	assert_true(om_filter_match(&f, &a));
	assert_int_equal(om_filter_add_nodes(&f, "1,4", err, sizeof(err)), 0);
	assert_true(om_filter_match(&f, &a));
	assert_false(om_filter_match(&f, &b));
	assert_true(om_filter_match(&f, &missed)); /* gaps always shown */

	om_filter_init(&f);
	assert_int_equal(om_filter_add_pids(&f, "300", err, sizeof(err)), 0);
	assert_false(om_filter_match(&f, &a));
	assert_true(om_filter_match(&f, &b));

	om_filter_init(&f);
	assert_int_equal(om_filter_add_types(&f, "test", err, sizeof(err)), 0);
	assert_false(om_filter_match(&f, &a));
	assert_true(om_filter_match(&f, &b));
	assert_int_equal(om_filter_add_types(&f, "PING", err, sizeof(err)), 0);
	assert_true(om_filter_match(&f, &a));
	om_filter_init(&f);
	assert_int_equal(om_filter_add_types(&f, "0x10", err, sizeof(err)), 0);
	assert_true(om_filter_match(&f, &a));
	assert_int_equal(om_filter_add_nodes(&f, "3", err, sizeof(err)), 0);
	assert_false(om_filter_match(&f, &a)); /* options combine: all must match */
}

static void bad_filter_arguments_say_why(void **state)
{
	static struct om_filter f;
	char err[512];

	(void)state;
	om_filter_init(&f);
	assert_int_equal(om_filter_add_nodes(&f, "1,x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'x'"));
	assert_int_equal(om_filter_add_nodes(&f, "2000", err, sizeof(err)), -EINVAL);
	assert_int_equal(om_filter_add_nodes(&f, "", err, sizeof(err)), -EINVAL);
	assert_int_equal(om_filter_add_pids(&f, "-3", err, sizeof(err)), -EINVAL);
	assert_int_equal(om_filter_add_types(&f, "PINGG", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "PING")); /* the choices are listed */
	assert_int_equal(om_filter_add_syscalls(&f, "opn", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'opn'"));
}

/* A message of a type with a SYSCALL field, if the header has one. */
static const struct om_field_info *syscall_field(void)
{
	for (size_t i = 0; i < om_fields_count; i++)
		if (om_fields[i].kind == VIRTIO_OM_FIELD_SYSCALL)
			return &om_fields[i];
	return NULL;
}

static void syscall_filter_takes_calls_and_their_replies(void **state)
{
	static struct om_filter f;
	const struct om_field_info *sf = syscall_field();
	static unsigned char call[VIRTIO_OM_MAX_PAYLOAD], other[VIRTIO_OM_MAX_PAYLOAD];
	struct om_trace_rec req, req2, reply, reply2;
	uint32_t len;
	char err[512];

	(void)state;
	if (!sf) {
		skip(); /* the header defines no forwarded call yet */
		return;
	}
	len = om_type_info(sf->type)->min_len;
	call[sf->offset] = __NR_openat & 0xff;
	call[sf->offset + 1] = __NR_openat >> 8;
	other[sf->offset] = __NR_read;
	req = msg(2, 1, sf->type, 5, call, len);
	req2 = msg(2, 1, sf->type, 6, other, len);
	reply = msg(1, 2, VIRTIO_OM_T_TEST_DATA, 9, call, 0);
	reply.h.flags = VIRTIO_OM_F_REPLY;
	reply.h.reply_to = 5;
	reply2 = reply;
	reply2.h.reply_to = 6;
	om_filter_init(&f);
	assert_int_equal(om_filter_add_syscalls(&f, "openat", err, sizeof(err)), 0);
	assert_true(om_filter_match(&f, &req));
	assert_false(om_filter_match(&f, &req2));
	assert_true(om_filter_match(&f, &reply));   /* the reply to the openat */
	assert_false(om_filter_match(&f, &reply2)); /* the reply to the read */
	assert_false(om_filter_match(&f, &reply));  /* once */
}

static void latency_matches_reply_to_request(void **state)
{
	static struct om_latency l;
	unsigned char p[8] = { 0 };
	struct om_trace_rec ping = msg(1, 3, VIRTIO_OM_T_PING, 7, p, 8);
	struct om_trace_rec pong = msg(3, 1, VIRTIO_OM_T_PONG, 4, p, 8);
	struct om_trace_rec stray = pong;
	uint64_t ns = 0;
	uint16_t type = 0;

	(void)state;
	om_latency_init(&l);
	ping.time_ns = 1000;
	pong.time_ns = 251000;
	pong.h.flags = VIRTIO_OM_F_REPLY;
	pong.h.reply_to = 7;
	stray.h.flags = VIRTIO_OM_F_REPLY;
	stray.h.reply_to = 8;
	stray.time_ns = 300000;
	assert_false(om_latency_note(&l, &ping, &ns, &type));
	assert_false(om_latency_note(&l, &stray, &ns, &type)); /* nothing asked 8 */
	assert_true(om_latency_note(&l, &pong, &ns, &type));
	assert_int_equal(ns, 250000);
	assert_int_equal(type, VIRTIO_OM_T_PING);
	assert_false(om_latency_note(&l, &pong, &ns, &type)); /* answered once */
	/* A reply from another pair does not match. */
	ping.time_ns = 5;
	assert_false(om_latency_note(&l, &ping, &ns, &type));
	pong.h.src_node = 2;
	assert_false(om_latency_note(&l, &pong, &ns, &type));
}

static void percentiles_within_a_bucket(void **state)
{
	static struct om_hist h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(om_hist_percentile(&h, 50), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		om_hist_add(&h, v * 1000); /* 1 us .. 1 ms */
	assert_int_equal(h.n, 1000);
	assert_int_equal(h.min, 1000);
	assert_int_equal(om_hist_percentile(&h, 100), 1000000);
	for (int p = 10; p <= 99; p += 89) {
		uint64_t want = (uint64_t)p * 10 * 1000, got = om_hist_percentile(&h, p);

		assert_true(got >= want);
		assert_true(got <= want + want / OM_HIST_SUB);
	}
	memset(&h, 0, sizeof(h));
	for (uint64_t v = 0; v < 64; v++)
		om_hist_add(&h, v); /* exact below 64 */
	assert_int_equal(om_hist_percentile(&h, 50), 31);
}

static void summary_counts_per_type_and_pair(void **state)
{
	struct om_summary s;
	unsigned char p[64] = { 0 };
	struct om_trace_rec a = msg(1, 2, VIRTIO_OM_T_TEST_DATA, 1, p, 64);
	struct om_trace_rec b = msg(2, 1, VIRTIO_OM_T_TEST_DATA, 1, p, 10);
	struct om_trace_rec ping = msg(1, 2, VIRTIO_OM_T_PING, 2, p, 8);
	struct om_trace_rec missed = { .kind = OM_TRACE_REC_MISSED, .missed = 5 };

	(void)state;
	om_summary_init(&s);
	assert_int_equal(om_summary_add(&s, &a, false, 0, 0), 0);
	assert_int_equal(om_summary_add(&s, &a, false, 0, 0), 0);
	assert_int_equal(om_summary_add(&s, &b, false, 0, 0), 0);
	assert_int_equal(om_summary_add(&s, &ping, true, 500, VIRTIO_OM_T_PING), 0);
	assert_int_equal(om_summary_add(&s, &missed, false, 0, 0), 0);
	assert_int_equal(s.msgs, 4);
	assert_int_equal(s.bytes, 64 + 64 + 10 + 8);
	assert_int_equal(s.missed, 5);
	assert_int_equal(s.n_types, 2);
	assert_int_equal(s.types[0].type, VIRTIO_OM_T_PING); /* sorted by value */
	assert_int_equal(s.types[0].latency.n, 1);
	assert_int_equal(s.types[1].msgs, 3);
	assert_int_equal(s.n_pairs, 3);
	assert_int_equal(s.pairs[0].src, 1);
	assert_int_equal(s.pairs[0].type, VIRTIO_OM_T_PING);
	assert_int_equal(s.pairs[1].msgs, 2);
	assert_int_equal(s.pairs[2].src, 2);
	om_summary_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_table_fits_the_type_table),
		cmocka_unit_test(types_by_name_and_label),
		cmocka_unit_test(syscall_names_are_the_kernel_headers),
		cmocka_unit_test(fields_read_by_kind),
		cmocka_unit_test(filters_by_node_pid_and_type),
		cmocka_unit_test(bad_filter_arguments_say_why),
		cmocka_unit_test(syscall_filter_takes_calls_and_their_replies),
		cmocka_unit_test(latency_matches_reply_to_request),
		cmocka_unit_test(percentiles_within_a_bucket),
		cmocka_unit_test(summary_counts_per_type_and_pair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
