// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of msg.c: the checks of docs/protocol.md "Rules" on what
 * arrives and on what is sent, the header's byte order and the duplicate
 * filter. Run at boot with kunit.enable=1 (CONFIG_VIRTIO_OM_KUNIT_TEST).
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "kcom.h"

#define MAXP VIRTIO_OM_MAX_PAYLOAD

/* A valid header as the host would deliver it. */
static struct virtio_om_hdr rx_hdr(u16 type, u32 src, u32 len)
{
	struct om_kcom_hdr h = {
		.type = type,
		.src_node = src,
		.dst_node = 2,
		.seq = 1,
		.len = len,
	};
	struct virtio_om_hdr w;

	kcom_hdr_encode(&h, &w);
	return w;
}

static void rx_accepts_each_type(struct kunit *test)
{
	struct virtio_om_hdr w;

	w = rx_hdr(VIRTIO_OM_T_NODE_UP, 0, VIRTIO_OM_NODE_EVENT_SIZE);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_OK);
	w = rx_hdr(VIRTIO_OM_T_NODE_DOWN, 0, VIRTIO_OM_NODE_EVENT_SIZE);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_OK);
	w = rx_hdr(VIRTIO_OM_T_PING, 1, VIRTIO_OM_PING_SIZE);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_OK);
	w = rx_hdr(VIRTIO_OM_T_PONG, 1, VIRTIO_OM_PING_SIZE);
	w.flags = cpu_to_le32(VIRTIO_OM_F_REPLY);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_OK);
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, VIRTIO_OM_MAX_NODES, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_OK);
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, 3, MAXP);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48 + MAXP, MAXP), KCOM_OK);
}

static void rx_refuses_bad_headers(struct kunit *test)
{
	struct virtio_om_hdr w;

	w = rx_hdr(VIRTIO_OM_T_PING, 1, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 47, MAXP), KCOM_SHORT);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 0, MAXP), KCOM_SHORT);

	w.version = cpu_to_le16(VIRTIO_OM_PROTOCOL_VERSION + 1);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_VERSION);

	w = rx_hdr(0x1234, 1, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_TYPE);
	/* In the engine's ranges only the types the table defines pass. */
	w = rx_hdr(VIRTIO_OM_T_MIGRATION_LAST, 1, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_TYPE);
	w = rx_hdr(VIRTIO_OM_T_SYSCALL, 1, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_LENGTH);

	w = rx_hdr(VIRTIO_OM_T_PING, 0, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_SENDER);
	w = rx_hdr(VIRTIO_OM_T_NODE_UP, 4, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_SENDER);
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, VIRTIO_OM_MAX_NODES + 1, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_SENDER);

	w = rx_hdr(VIRTIO_OM_T_PING, 1, 8);
	w.flags = cpu_to_le32(0x4);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_FLAGS);

	w = rx_hdr(VIRTIO_OM_T_PING, 1, 8);
	w.reserved = cpu_to_le32(1);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 56, MAXP), KCOM_RESERVED);
}

static void rx_checks_lengths(struct kunit *test)
{
	struct virtio_om_hdr w;

	/* Exact sizes. */
	w = rx_hdr(VIRTIO_OM_T_NODE_UP, 0, 7);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 55, MAXP), KCOM_LENGTH);
	w = rx_hdr(VIRTIO_OM_T_NODE_DOWN, 0, 9);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 57, MAXP), KCOM_LENGTH);
	w = rx_hdr(VIRTIO_OM_T_PING, 1, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_LENGTH);
	/* Bounded by the device's limit and the protocol's. */
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, 1, 4097);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48 + 4097, 4096), KCOM_LENGTH);
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, 1, MAXP + 1);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48 + MAXP + 1, U32_MAX), KCOM_LENGTH);
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, 1, U32_MAX);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 48, MAXP), KCOM_LENGTH);
	/* The buffer must hold header + len. */
	w = rx_hdr(VIRTIO_OM_T_TEST_DATA, 1, 100);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 147, MAXP), KCOM_SHORT);
	KUNIT_EXPECT_EQ(test, kcom_check_rx(&w, 148, MAXP), KCOM_OK);
}

static struct om_kcom_hdr tx_hdr(u16 type, u32 dst, u32 len)
{
	return (struct om_kcom_hdr) { .type = type, .dst_node = dst, .len = len };
}

static void tx_checks(struct kunit *test)
{
	struct om_kcom_hdr h;

	h = tx_hdr(VIRTIO_OM_T_PING, 2, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_OK);
	h = tx_hdr(VIRTIO_OM_T_TEST_DATA, 2, 0);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_OK);

	/* Destinations: not the host, not itself, within 1..MAX. */
	h = tx_hdr(VIRTIO_OM_T_PING, 0, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_DEST);
	h = tx_hdr(VIRTIO_OM_T_PING, 1, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_DEST);
	h = tx_hdr(VIRTIO_OM_T_PING, VIRTIO_OM_MAX_NODES + 1, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_DEST);

	/* Types: guests do not send control messages, nor unknown types. */
	h = tx_hdr(VIRTIO_OM_T_NODE_UP, 2, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_SENDER);
	h = tx_hdr(0x7f01, 2, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_TYPE);

	/* F_REPLY if and only if reply_to. */
	h = tx_hdr(VIRTIO_OM_T_PONG, 2, 8);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_REPLY);
	h.flags = VIRTIO_OM_F_REPLY;
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_REPLY);
	h.reply_to = 7;
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_OK);
	h.flags = 0;
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_REPLY);
	h.flags = 0x80;
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_FLAGS);

	/* Lengths. */
	h = tx_hdr(VIRTIO_OM_T_PING, 2, 9);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, MAXP), KCOM_LENGTH);
	h = tx_hdr(VIRTIO_OM_T_TEST_DATA, 2, 1025);
	KUNIT_EXPECT_EQ(test, kcom_check_tx(&h, 1, 1024), KCOM_LENGTH);
}

static void hdr_is_little_endian(struct kunit *test)
{
	struct om_kcom_hdr h = {
		.type = 0x7f00, .flags = 1, .src_node = 0x01020304, .dst_node = 5,
		.src_pid = 6, .dst_pid = 7, .seq = 0x1122334455667788ull,
		.reply_to = 9, .len = 10,
	}, back;
	struct virtio_om_hdr w;
	const u8 *b = (const u8 *)&w;

	memset(&w, 0xff, sizeof(w));
	kcom_hdr_encode(&h, &w);
	KUNIT_EXPECT_EQ(test, b[0], 1);		/* version */
	KUNIT_EXPECT_EQ(test, b[1], 0);
	KUNIT_EXPECT_EQ(test, b[2], 0x00);	/* type */
	KUNIT_EXPECT_EQ(test, b[3], 0x7f);
	KUNIT_EXPECT_EQ(test, b[8], 0x04);	/* src_node */
	KUNIT_EXPECT_EQ(test, b[11], 0x01);
	KUNIT_EXPECT_EQ(test, b[24], 0x88);	/* seq */
	KUNIT_EXPECT_EQ(test, b[31], 0x11);
	KUNIT_EXPECT_EQ(test, b[40], 10);	/* len */
	KUNIT_EXPECT_EQ(test, le32_to_cpu(w.reserved), 0u);

	kcom_hdr_decode(&w, &back);
	KUNIT_EXPECT_EQ(test, memcmp(&h, &back, sizeof(h)), 0);
}

static void seq_filter(struct kunit *test)
{
	u64 last = 0;

	KUNIT_EXPECT_FALSE(test, kcom_seq_accept(&last, 0));
	KUNIT_EXPECT_TRUE(test, kcom_seq_accept(&last, 1));
	KUNIT_EXPECT_TRUE(test, kcom_seq_accept(&last, 2));
	KUNIT_EXPECT_FALSE(test, kcom_seq_accept(&last, 2));
	KUNIT_EXPECT_FALSE(test, kcom_seq_accept(&last, 1));
	KUNIT_EXPECT_EQ(test, last, 2ull);
	/* A gap is accepted (not the filter's business); older ones are not. */
	KUNIT_EXPECT_TRUE(test, kcom_seq_accept(&last, 5));
	KUNIT_EXPECT_FALSE(test, kcom_seq_accept(&last, 4));
	KUNIT_EXPECT_EQ(test, last, 5ull);
	/* When a node joins afresh the driver resets last: 1 is new again. */
	last = 0;
	KUNIT_EXPECT_TRUE(test, kcom_seq_accept(&last, 1));
}

static void user_types(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, kcom_type_user_may_send(VIRTIO_OM_T_PING));
	KUNIT_EXPECT_TRUE(test, kcom_type_user_may_send(VIRTIO_OM_T_TEST_DATA));
	KUNIT_EXPECT_FALSE(test, kcom_type_user_may_send(VIRTIO_OM_T_PONG));
	KUNIT_EXPECT_FALSE(test, kcom_type_user_may_send(VIRTIO_OM_T_NODE_UP));
	KUNIT_EXPECT_FALSE(test, kcom_type_user_may_send(VIRTIO_OM_T_MIGRATION_FIRST));
}

static struct kunit_case virtio_om_msg_cases[] = {
	KUNIT_CASE(rx_accepts_each_type),
	KUNIT_CASE(rx_refuses_bad_headers),
	KUNIT_CASE(rx_checks_lengths),
	KUNIT_CASE(tx_checks),
	KUNIT_CASE(hdr_is_little_endian),
	KUNIT_CASE(seq_filter),
	KUNIT_CASE(user_types),
	{}
};

static struct kunit_suite virtio_om_msg_suite = {
	.name = "virtio-om-msg",
	.test_cases = virtio_om_msg_cases,
};

kunit_test_suite(virtio_om_msg_suite);

MODULE_DESCRIPTION("KUnit tests of virtio-om's message rules");
MODULE_LICENSE("GPL");
