// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd's checks of what a guest sends (docs/protocol.md "Rules"), its
 * header codec and its scatter-gather copies, which move every payload.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "args.h"
#include "msg.h"
#include "omhostd.h"

static struct om_msg_hdr good_hdr(uint16_t type, uint32_t len)
{
	return (struct om_msg_hdr){
		.version = VIRTIO_OM_PROTOCOL_VERSION,
		.type = type,
		.src_node = 1,
		.dst_node = 2,
		.seq = 1,
		.len = len,
	};
}

static enum om_msg_verdict check(const struct om_msg_hdr *h)
{
	return om_msg_check_from_guest(h, VIRTIO_OM_HDR_SIZE + (size_t)h->len, 1,
				       VIRTIO_OM_MAX_PAYLOAD);
}

static void accepts_well_formed_messages(void **state)
{
	struct om_msg_hdr h = good_hdr(VIRTIO_OM_T_TEST_DATA, 0);

	(void)state;
	assert_int_equal(check(&h), OM_MSG_OK);
	h.len = VIRTIO_OM_MAX_PAYLOAD;
	assert_int_equal(check(&h), OM_MSG_OK);
	h = good_hdr(VIRTIO_OM_T_PING, VIRTIO_OM_PING_SIZE);
	assert_int_equal(check(&h), OM_MSG_OK);
	h = good_hdr(VIRTIO_OM_T_PONG, VIRTIO_OM_PING_SIZE);
	h.flags = VIRTIO_OM_F_REPLY;
	h.reply_to = 7;
	assert_int_equal(check(&h), OM_MSG_OK);
}

static void refuses_each_broken_rule(void **state)
{
	struct om_msg_hdr h;

	(void)state;
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 4);
	assert_int_equal(om_msg_check_from_guest(&h, VIRTIO_OM_HDR_SIZE - 1, 1, 65536), OM_MSG_SHORT);
	h.version = 2;
	assert_int_equal(check(&h), OM_MSG_VERSION);
	h = good_hdr(0x7777, 4);
	assert_int_equal(check(&h), OM_MSG_TYPE);
	/* Control types are the host's: a guest may not send them. */
	h = good_hdr(VIRTIO_OM_T_NODE_DOWN, VIRTIO_OM_NODE_EVENT_SIZE);
	assert_int_equal(check(&h), OM_MSG_TYPE);
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 4);
	h.flags = 0x4;
	assert_int_equal(check(&h), OM_MSG_FLAGS);
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 4);
	h.reserved = 1;
	assert_int_equal(check(&h), OM_MSG_RESERVED);
	/* len disagrees with the chain, with the type, with the limit. */
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 4);
	assert_int_equal(om_msg_check_from_guest(&h, VIRTIO_OM_HDR_SIZE + 5, 1, 65536), OM_MSG_LENGTH);
	h = good_hdr(VIRTIO_OM_T_PING, VIRTIO_OM_PING_SIZE + 1);
	assert_int_equal(check(&h), OM_MSG_LENGTH);
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 2000);
	assert_int_equal(om_msg_check_from_guest(&h, VIRTIO_OM_HDR_SIZE + 2000, 1, 1024),
			 OM_MSG_LENGTH);
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 0xffffffffu);
	assert_int_equal(om_msg_check_from_guest(&h, SIZE_MAX, 1, 65536), OM_MSG_LENGTH);
	/* To the host, to itself, beyond the last node. */
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 0);
	h.dst_node = VIRTIO_OM_NODE_HOST;
	assert_int_equal(check(&h), OM_MSG_DESTINATION);
	h.dst_node = 1;
	assert_int_equal(check(&h), OM_MSG_DESTINATION);
	h.dst_node = VIRTIO_OM_MAX_NODES + 1;
	assert_int_equal(check(&h), OM_MSG_DESTINATION);
	/* src_node is the host's to stamp: whatever the guest wrote is not checked. */
	h = good_hdr(VIRTIO_OM_T_TEST_DATA, 0);
	h.src_node = 3;
	assert_int_equal(check(&h), OM_MSG_OK);
}

static void header_codec_is_little_endian_and_round_trips(void **state)
{
	struct om_msg_hdr h = good_hdr(VIRTIO_OM_T_TEST_DATA, 0x01020304), back;
	unsigned char raw[VIRTIO_OM_HDR_SIZE];

	(void)state;
	h.seq = 0x1122334455667788ull;
	h.src_pid = 0xa1b2c3d4;
	om_msg_hdr_encode(&h, raw);
	assert_int_equal(raw[offsetof(struct virtio_om_hdr, type)], 0x00);
	assert_int_equal(raw[offsetof(struct virtio_om_hdr, type) + 1], 0x7f);
	assert_int_equal(raw[offsetof(struct virtio_om_hdr, len)], 0x04);
	assert_int_equal(raw[offsetof(struct virtio_om_hdr, seq)], 0x88);
	om_msg_hdr_decode(raw, &back);
	assert_memory_equal(&h, &back, sizeof(h));
}

static void type_table_matches_the_header(void **state)
{
	(void)state;
	assert_true(om_msg_type_known(VIRTIO_OM_T_NODE_UP));
	assert_true(om_msg_type_known(VIRTIO_OM_T_TEST_DATA));
	assert_false(om_msg_type_known(VIRTIO_OM_T_MIGRATION_LAST));
	assert_true(om_msg_type_known(VIRTIO_OM_T_MIG_BEGIN));
	assert_true(om_msg_len_ok(VIRTIO_OM_T_NODE_UP, VIRTIO_OM_NODE_EVENT_SIZE, 65536));
	assert_false(om_msg_len_ok(VIRTIO_OM_T_NODE_UP, 0, 65536));
	assert_true(om_msg_len_ok(VIRTIO_OM_T_TEST_DATA, 100, 100));
	assert_false(om_msg_len_ok(VIRTIO_OM_T_TEST_DATA, 101, 100));
}

static void iov_copy_crosses_segments_on_both_sides(void **state)
{
	char a[3], b[5], c[9], d[4], e[13];
	struct iovec src[] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec dst[] = { { d, sizeof(d) }, { e, sizeof(e) } };
	char flat_src[17], flat_dst[17];

	(void)state;
	for (size_t i = 0; i < sizeof(flat_src); i++)
		flat_src[i] = (char)('a' + i);
	assert_int_equal(om_iov_from_buf(src, 3, 0, flat_src, sizeof(flat_src)), 17);
	assert_int_equal(om_iov_size(src, 3), 17);
	/* From offset 2 of the source into offset 1 of the destination. */
	memset(d, '.', sizeof(d));
	memset(e, '.', sizeof(e));
	assert_int_equal(om_iov_copy(dst, 2, 1, src, 3, 2, 14), 14);
	assert_int_equal(om_iov_to_buf(flat_dst, 17, dst, 2, 0), 17);
	assert_memory_equal(flat_dst, ".cdefghijklmnop..", 17);
	/* A side too short: copies what fits and says so. */
	assert_int_equal(om_iov_copy(dst, 2, 10, src, 3, 0, 17), 7);
	assert_int_equal(om_iov_copy(dst, 2, 0, src, 3, 16, 5), 1);
	/* Offsets past the end copy nothing. */
	assert_int_equal(om_iov_copy(dst, 2, 18, src, 3, 0, 1), 0);
	assert_int_equal(om_iov_copy(dst, 2, 0, src, 3, 18, 1), 0);
}

static void iov_size_reports_overflow(void **state)
{
	struct iovec v[] = { { NULL, SIZE_MAX - 1 }, { NULL, 2 } };

	(void)state;
	assert_int_equal(om_iov_size(v, 1), SIZE_MAX - 1);
	assert_int_equal(om_iov_size(v, 2), SIZE_MAX);
}

static int parse(struct om_hostd_config *cfg, char *err, size_t n, ...)
{
	char *argv[16] = { "omhostd" };
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, n);
	while ((a = va_arg(ap, char *)))
		argv[argc++] = a;
	va_end(ap);
	return om_hostd_parse_args(argc, argv, cfg, err, n);
}

static void arguments(void **state)
{
	struct om_hostd_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--dir", "/tmp", "--nodes", "3", NULL),
			 OM_HOSTD_RUN);
	assert_int_equal(cfg.first_node, 1);
	assert_int_equal(cfg.last_node, 3);
	assert_int_equal(cfg.max_payload, VIRTIO_OM_MAX_PAYLOAD);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "5-9", "-p", "4096", NULL),
			 OM_HOSTD_RUN);
	assert_int_equal(cfg.first_node, 5);
	assert_int_equal(cfg.last_node, 9);
	assert_int_equal(cfg.max_payload, 4096);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--help", NULL), OM_HOSTD_HELP);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--dir", "/x", NULL), -EINVAL);
	assert_non_null(strstr(err, "required"));
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "0", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "1025", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "4-2", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "1-", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "-3", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "-p", "65537", NULL),
			 -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "-p", "0", NULL),
			 -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "extra", NULL), -EINVAL);
	assert_non_null(strstr(err, "extra"));
	/* Whose front-ends may connect, who sees trace payloads, the back-off. */
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", NULL), OM_HOSTD_RUN);
	assert_int_equal(cfg.allow_uid[1], geteuid());
	assert_int_equal(cfg.allow_uid[VIRTIO_OM_MAX_NODES], geteuid());
	assert_false(cfg.trace_gid_set);
	assert_int_equal(cfg.backoff_ms, OM_HOSTD_BACKOFF_MS_DEFAULT);
	assert_int_equal(cfg.unresponsive_ms, OM_HOSTD_UNRESPONSIVE_MS_DEFAULT);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--allow-uid", "107",
			       "--trace-group", "42", "--evict-backoff-ms", "0", "--unresponsive-ms",
			       "0", NULL),
			 OM_HOSTD_RUN);
	assert_int_equal(cfg.allow_uid[1], 107);
	assert_int_equal(cfg.allow_uid[VIRTIO_OM_MAX_NODES], 107);
	assert_true(cfg.trace_gid_set);
	assert_int_equal(cfg.trace_gid, 42);
	assert_int_equal(cfg.backoff_ms, 0);
	assert_int_equal(cfg.unresponsive_ms, 0);
	/* Per node: the last that names a node counts; "N=" is node N alone. */
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "5", "--allow-uid", "107",
			       "--allow-uid", "2-4=108", "--allow-uid", "3=109", NULL),
			 OM_HOSTD_RUN);
	assert_int_equal(cfg.allow_uid[1], 107);
	assert_int_equal(cfg.allow_uid[2], 108);
	assert_int_equal(cfg.allow_uid[3], 109);
	assert_int_equal(cfg.allow_uid[4], 108);
	assert_int_equal(cfg.allow_uid[5], 107);
	static const char *const bad[] = { "3-2=1", "x=1", "1=", "=1", "0=1", "1025=1", "1=x",
					   "1-=1", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--allow-uid",
				       bad[i], NULL),
				 -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--unresponsive-ms",
			       "3600001", NULL),
			 -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--allow-uid", "qemu",
			       NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "--allow-uid"));
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--allow-uid",
			       "4294967295", NULL),
			 -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--trace-group", "",
			       NULL),
			 -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--evict-backoff-ms",
			       "60001", NULL),
			 -EINVAL);
	/* Destination queues: defaults, values, bounds and the message of each. */
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", NULL), OM_HOSTD_RUN);
	assert_int_equal(cfg.queue_bytes, OM_HOSTD_QUEUE_BYTES_DEFAULT);
	assert_int_equal(cfg.queue_msgs, OM_HOSTD_QUEUE_MSGS_DEFAULT);
	assert_int_equal(cfg.queue_after_ms, OM_HOSTD_QUEUE_AFTER_MS_DEFAULT);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--queue-bytes", "0",
			       "--queue-msgs", "16", "--queue-after-ms", "0", NULL),
			 OM_HOSTD_RUN);
	assert_int_equal(cfg.queue_bytes, 0);
	assert_int_equal(cfg.queue_msgs, 16);
	assert_int_equal(cfg.queue_after_ms, 0);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--queue-bytes",
			       "1073741825", NULL),
			 -EINVAL);
	assert_string_equal(err, "--queue-bytes '1073741825': give 0..1073741824");
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--queue-msgs", "-1",
			       NULL),
			 -EINVAL);
	assert_string_equal(err, "--queue-msgs '-1': give 0..1048576");
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--queue-after-ms",
			       "1s", NULL),
			 -EINVAL);
	assert_string_equal(err, "--queue-after-ms '1s': give 0..3600000");
	assert_int_equal(parse(&cfg, err, sizeof(err), "--bogus", NULL), -EINVAL);
	assert_int_equal(parse(&cfg, err, sizeof(err), "--dir", NULL), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
}

/* The back-off after evictions in a row: doubling, capped, none when off. */
static void link_arguments_and_their_errors(void **state)
{
	struct om_hostd_config cfg;
	char err[256];
	static const struct {
		const char *args[12];
		const char *says; /* in the error message */
	} bad[] = {
		{ { "--name", "a", NULL }, "are for --peer" },
		{ { "--listen", "127.0.0.1:1", NULL }, "are for --peer" },
		{ { "--peer", "b=127.0.0.1:1:4-5", NULL }, "needs --name and --psk-file" },
		{ { "--name", "a", "--peer", "b=127.0.0.1:1:4-5", NULL }, "needs --name" },
		{ { "--name", "a", "--psk-file", "k", "--peer", "a=127.0.0.1:1:4-5", NULL },
		  "own --name" },
		{ { "--name", "a", "--psk-file", "k", "--peer", "b=127.0.0.1:1:3-5", NULL },
		  "overlap --nodes" },
		{ { "--name", "a", "--psk-file", "k", "--peer", "b=127.0.0.1:1:4-5", "--peer",
		    "c=127.0.0.1:2:5-6", NULL },
		  "overlapping" },
		{ { "--name", "c", "--psk-file", "k", "--peer", "b=127.0.0.1:1:4-5", NULL },
		  "--listen is needed" },
		{ { "--name", "a b", NULL }, "--name" },
		{ { "--name", "a", "--psk-file", "k", "--peer", "b=localhost:1:4-5", NULL }, "--peer" },
		{ { "--name", "a", "--psk-file", "k", "--peer", "b=127.0.0.1:1:0-5", NULL }, "--peer" },
		{ { "--listen", "127.0.0.1", NULL }, "--listen" },
		{ { "--link-hold-ms", "3600001", NULL }, "--link-hold-ms" },
		{ { "--link-hold-ms", "x", NULL }, "--link-hold-ms" },
		{ { "--grace-ms", "-1", NULL }, "--grace-ms" },
		{ { "--peer-down-ms", "3600001", NULL }, "--peer-down-ms" },
	};

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", NULL), OM_HOSTD_RUN);
	assert_int_equal(cfg.link_hold_ms, OM_HOSTD_LINK_HOLD_MS_DEFAULT);
	assert_int_equal(cfg.grace_ms, OM_HOSTD_GRACE_MS);
	assert_int_equal(cfg.peer_down_ms, OM_HOSTD_PEER_DOWN_MS_DEFAULT);
	assert_int_equal(parse(&cfg, err, sizeof(err), "-d", "/x", "-n", "3", "--name", "a",
			       "--psk-file", "k", "--peer", "b=127.0.0.1:7740:4-5",
			       "--link-hold-ms", "0", "--grace-ms", "250", NULL),
			 OM_HOSTD_RUN);
	assert_int_equal(cfg.n_peers, 1);
	assert_int_equal(cfg.peers[0].first_node, 4);
	assert_int_equal(cfg.peers[0].last_node, 5);
	assert_int_equal(cfg.link_hold_ms, 0);
	assert_int_equal(cfg.grace_ms, 250);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[20] = { "omhostd", "-d", "/x", "-n", "3" };
		int argc = 5;

		for (int k = 0; bad[i].args[k]; k++)
			argv[argc++] = (char *)bad[i].args[k];
		err[0] = '\0';
		assert_int_equal(om_hostd_parse_args(argc, argv, &cfg, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].says))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].says);
	}
}

static void backoff_doubles_up_to_a_cap(void **state)
{
	(void)state;
	assert_int_equal(om_backoff_ms(1000, 1), 1000);
	assert_int_equal(om_backoff_ms(1000, 2), 2000);
	assert_int_equal(om_backoff_ms(1000, 6), 32000);
	assert_int_equal(om_backoff_ms(1000, 7), OM_HOSTD_BACKOFF_MAX_MS);
	assert_int_equal(om_backoff_ms(1000, 4000000000u), OM_HOSTD_BACKOFF_MAX_MS);
	assert_int_equal(om_backoff_ms(OM_HOSTD_BACKOFF_MAX_MS, 3), OM_HOSTD_BACKOFF_MAX_MS);
	assert_int_equal(om_backoff_ms(0, 5), 0);
}

/*
 * The log's rate limit: OM_LOG_BURST lines a window, the rest suppressed
 * and counted; the first line of a later window says how many.
 */
static void log_rate_limit_counts_and_tells(void **state)
{
	struct om_log_limit l = { 0 };
	uint64_t told;
	long long t = 1000000;

	(void)state;
	for (unsigned int i = 0; i < OM_LOG_BURST; i++) {
		assert_true(om_log_allow(&l, t + i, &told));
		assert_int_equal(told, 0);
	}
	for (unsigned int i = 0; i < 25; i++)
		assert_false(om_log_allow(&l, t + OM_LOG_WINDOW_MS - 1, &told));
	assert_true(om_log_allow(&l, t + OM_LOG_WINDOW_MS, &told));
	assert_int_equal(told, 25);
	/* Told once only. */
	assert_true(om_log_allow(&l, t + OM_LOG_WINDOW_MS + 1, &told));
	assert_int_equal(told, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_well_formed_messages),
		cmocka_unit_test(refuses_each_broken_rule),
		cmocka_unit_test(header_codec_is_little_endian_and_round_trips),
		cmocka_unit_test(type_table_matches_the_header),
		cmocka_unit_test(iov_copy_crosses_segments_on_both_sides),
		cmocka_unit_test(iov_size_reports_overflow),
		cmocka_unit_test(arguments),
		cmocka_unit_test(link_arguments_and_their_errors),
		cmocka_unit_test(backoff_doubles_up_to_a_cap),
		cmocka_unit_test(log_rate_limit_counts_and_tells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
