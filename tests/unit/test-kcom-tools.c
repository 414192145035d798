// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kcom test tools (guest-tools/kcom): om-traffic's payload, which must
 * catch any corruption, loss or reordering the transport could cause, the
 * tools' header codec, and the layout of the /dev/om-kcom ABI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <linux/om_kcom.h>

#include "kcom-dev.h"
#include "traffic.h"

static unsigned char buf[VIRTIO_OM_MAX_PAYLOAD];

static struct tr_hdr data_hdr(uint32_t len, uint64_t seq)
{
	return (struct tr_hdr) {
		.kind = TR_DATA, .src = 2, .dst = 3, .seq = seq,
		.pattern = tr_pattern_seed(42, 2, 3, seq), .len = len,
	};
}

static void crc32_known_value(void **state)
{
	(void)state;
	/* The standard check value of CRC-32 (IEEE 802.3). */
	assert_int_equal(tr_crc32(0, "123456789", 9), 0xcbf43926u);
}

static void payload_round_trip(void **state)
{
	static const uint32_t sizes[] = { TR_HDR_SIZE, TR_HDR_SIZE + 1, 4095, 4096, 4097,
					  VIRTIO_OM_MAX_PAYLOAD };
	struct tr_hdr in, out;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		in = data_hdr(sizes[i], i + 1);
		tr_build(buf, &in);
		assert_int_equal(tr_check(buf, sizes[i], &out), TR_OK);
		assert_int_equal(out.kind, TR_DATA);
		assert_int_equal(out.src, 2);
		assert_int_equal(out.dst, 3);
		assert_int_equal(out.seq, i + 1);
		assert_int_equal(out.len, sizes[i]);
	}
}

static void short_messages_are_the_stream_prefix(void **state)
{
	unsigned char a[TR_HDR_SIZE], b[TR_HDR_SIZE];
	uint64_t seed = tr_pattern_seed(7, 1, 2, 5);

	(void)state;
	for (uint32_t len = 1; len < TR_HDR_SIZE; len++) {
		tr_build_short(a, len, seed);
		assert_true(tr_check_short(a, len, seed));
		/* Another message's pattern, or one flipped bit, does not pass. */
		assert_false(tr_check_short(a, len, tr_pattern_seed(7, 1, 2, 6)));
		memcpy(b, a, len);
		b[len - 1] ^= 0x10;
		assert_false(tr_check_short(b, len, seed));
	}
	/* Its bytes are the same stream a long message carries after its header. */
	tr_build_short(a, 8, seed);
	tr_build_short(b, 16, seed);
	assert_memory_equal(a, b, 8);
	assert_false(tr_check_short(a, TR_HDR_SIZE, seed));
}

static void every_corruption_is_caught(void **state)
{
	struct tr_hdr h = data_hdr(10000, 7), out;

	(void)state;
	tr_build(buf, &h);
	/* Any single flipped byte, header or body. */
	for (uint32_t pos = 0; pos < h.len; pos += 97) {
		buf[pos] ^= 0x20;
		assert_int_not_equal(tr_check(buf, h.len, &out), TR_OK);
		buf[pos] ^= 0x20;
	}
	assert_int_equal(tr_check(buf, h.len, &out), TR_OK);
	/* Truncated, extended, or shorter than a header. */
	assert_int_equal(tr_check(buf, h.len - 1, &out), TR_LEN);
	assert_int_equal(tr_check(buf, h.len + 1, &out), TR_LEN);
	assert_int_equal(tr_check(buf, TR_HDR_SIZE - 1, &out), TR_SHORT);
	/* Another message's body under this header. */
	h.pattern ^= 1;
	tr_build(buf + 20000, &h);
	memcpy(buf + TR_HDR_SIZE, buf + 20000 + TR_HDR_SIZE, h.len - TR_HDR_SIZE);
	assert_int_equal(tr_check(buf, h.len, &out), TR_PATTERN);
}

static void seeds_differ_per_message(void **state)
{
	(void)state;
	assert_true(tr_pattern_seed(1, 2, 3, 4) != tr_pattern_seed(1, 2, 3, 5));
	assert_true(tr_pattern_seed(1, 2, 3, 4) != tr_pattern_seed(1, 3, 2, 4));
	assert_true(tr_pattern_seed(1, 2, 3, 4) != tr_pattern_seed(2, 2, 3, 4));
	assert_true(tr_pattern_seed(1, 2, 3, 4) == tr_pattern_seed(1, 2, 3, 4));
}

static void header_codec_is_little_endian(void **state)
{
	struct om_msg_hdr h = {
		.version = VIRTIO_OM_PROTOCOL_VERSION, .type = VIRTIO_OM_T_TEST_DATA,
		.flags = VIRTIO_OM_F_REPLY, .src_node = 1,
		.dst_node = 0x0203, .src_pid = 4, .dst_pid = 5, .seq = 0x0102030405060708ull,
		.reply_to = 9, .len = 10,
	}, back;
	unsigned char w[VIRTIO_OM_HDR_SIZE];

	(void)state;
	om_msg_hdr_encode(&h, w);
	assert_int_equal(w[0], VIRTIO_OM_PROTOCOL_VERSION);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 0x00);
	assert_int_equal(w[3], 0x7f);
	assert_int_equal(w[12], 0x03);
	assert_int_equal(w[13], 0x02);
	assert_int_equal(w[24], 0x08);
	assert_int_equal(w[31], 0x01);
	assert_int_equal(w[44] | w[45] | w[46] | w[47], 0);
	om_msg_hdr_decode(w, &back);
	assert_int_equal(back.type, h.type);
	assert_int_equal(back.flags, h.flags);
	assert_int_equal(back.src_node, h.src_node);
	assert_int_equal(back.dst_node, h.dst_node);
	assert_int_equal(back.src_pid, h.src_pid);
	assert_int_equal(back.dst_pid, h.dst_pid);
	assert_int_equal(back.seq, h.seq);
	assert_int_equal(back.reply_to, h.reply_to);
	assert_int_equal(back.len, h.len);
}

static void abi_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct om_kcom_info), 16);
	assert_int_equal(sizeof(struct om_kcom_node), 8);
	assert_int_equal(OM_KCOM_MSG_MAX, 48 + 65536);
	/* _IOR/_IOW encode direction, size, magic and number. */
	assert_int_equal(OM_KCOM_IOC_INFO, 0x8010be00u);
	assert_int_equal(OM_KCOM_IOC_BIND, 0x4004be01u);
	assert_int_equal(OM_KCOM_IOC_NODE, 0xc008be02u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_known_value),
		cmocka_unit_test(payload_round_trip),
		cmocka_unit_test(every_corruption_is_caught),
		cmocka_unit_test(short_messages_are_the_stream_prefix),
		cmocka_unit_test(seeds_differ_per_message),
		cmocka_unit_test(header_codec_is_little_endian),
		cmocka_unit_test(abi_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
