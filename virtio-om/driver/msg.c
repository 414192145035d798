// SPDX-License-Identifier: GPL-2.0-only
/*
 * The protocol's rules for one message (docs/protocol.md, "Rules"), free of
 * device state so that KUnit drives them directly: validation of what
 * arrives and of what is about to be sent, byte order, and the duplicate
 * filter.
 */
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/types.h>

#include "kcom.h"

enum kcom_sender {
	KCOM_FROM_HOST,
	KCOM_FROM_GUEST,
};

struct kcom_type_rule {
	u16 type;
	enum kcom_sender sender;
	u32 min_len;
	u32 max_len; /* VIRTIO_OM_LEN_ANY: up to the device's max_payload */
};

/* The protocol header's type table, as data; the build checks each value. */
static const struct kcom_type_rule kcom_types[] = {
#define KCOM_TYPE_RULE(name, value, who, min, max)				\
	{ VIRTIO_OM_T_##name + BUILD_BUG_ON_ZERO(VIRTIO_OM_T_##name != (value)), \
	  KCOM_FROM_##who, (min), (max) },
	VIRTIO_OM_FOR_EACH_TYPE(KCOM_TYPE_RULE)
#undef KCOM_TYPE_RULE
};

static const struct kcom_type_rule *kcom_type_rule(u16 type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kcom_types); i++)
		if (kcom_types[i].type == type)
			return &kcom_types[i];
	return NULL;
}

static bool kcom_len_ok(const struct kcom_type_rule *r, u32 len, u32 max_payload)
{
	u32 max = r->max_len == VIRTIO_OM_LEN_ANY ? max_payload : r->max_len;

	return len >= r->min_len && len <= max && len <= max_payload &&
	       len <= VIRTIO_OM_MAX_PAYLOAD;
}

/**
 * kcom_check_rx() - check a message the device delivered
 * @w: its header, as received
 * @total: bytes the device wrote into the buffer (header included)
 * @max_payload: this device's payload limit
 *
 * Checks, in the order of docs/protocol.md: the header fits, version, a
 * known type sent by the side allowed to send it (the host for control
 * types, a guest for the others), no unknown flags, reserved zero, len
 * within the type's rule and the limit, and header + len within @total.
 *
 * Return: KCOM_OK or why the message is refused.
 */
enum kcom_verdict kcom_check_rx(const struct virtio_om_hdr *w, size_t total,
				u32 max_payload)
{
	const struct kcom_type_rule *r;
	u32 len, src;

	if (total < VIRTIO_OM_HDR_SIZE)
		return KCOM_SHORT;
	if (le16_to_cpu(w->version) != VIRTIO_OM_PROTOCOL_VERSION)
		return KCOM_VERSION;
	r = kcom_type_rule(le16_to_cpu(w->type));
	if (!r)
		return KCOM_TYPE;
	src = le32_to_cpu(w->src_node);
	if (r->sender == KCOM_FROM_HOST ? src != VIRTIO_OM_NODE_HOST :
	    src == VIRTIO_OM_NODE_HOST || src > VIRTIO_OM_MAX_NODES)
		return KCOM_SENDER;
	if (le32_to_cpu(w->flags) & ~VIRTIO_OM_F_ALL)
		return KCOM_FLAGS;
	if (w->reserved)
		return KCOM_RESERVED;
	len = le32_to_cpu(w->len);
	if (!kcom_len_ok(r, len, max_payload))
		return KCOM_LENGTH;
	if (total - VIRTIO_OM_HDR_SIZE < len)
		return KCOM_SHORT;
	return KCOM_OK;
}

/**
 * kcom_check_tx() - check a message before it is sent
 * @h: its header
 * @self: this node's id (non-zero)
 * @max_payload: this device's payload limit
 *
 * The host disconnects a guest that sends a malformed message, so the
 * driver refuses one first: a type guests may send, known flags, reply_to
 * set exactly with VIRTIO_OM_F_REPLY (which a PONG must carry), len within
 * the type's rule, and a destination that is a guest other than this one.
 *
 * Return: KCOM_OK or why the message is refused.
 */
enum kcom_verdict kcom_check_tx(const struct om_kcom_hdr *h, u32 self, u32 max_payload)
{
	const struct kcom_type_rule *r = kcom_type_rule(h->type);

	if (!r)
		return KCOM_TYPE;
	if (r->sender != KCOM_FROM_GUEST)
		return KCOM_SENDER;
	if (h->flags & ~VIRTIO_OM_F_ALL)
		return KCOM_FLAGS;
	if (!(h->flags & VIRTIO_OM_F_REPLY) != !h->reply_to ||
	    (h->type == VIRTIO_OM_T_PONG && !(h->flags & VIRTIO_OM_F_REPLY)))
		return KCOM_REPLY;
	if (!kcom_len_ok(r, h->len, max_payload))
		return KCOM_LENGTH;
	if (h->dst_node == VIRTIO_OM_NODE_HOST || h->dst_node > VIRTIO_OM_MAX_NODES ||
	    h->dst_node == self)
		return KCOM_DEST;
	return KCOM_OK;
}

/* The types /dev/om-kcom may send: the kernel answers pings itself. */
bool kcom_type_user_may_send(u16 type)
{
	return type == VIRTIO_OM_T_PING || type == VIRTIO_OM_T_TEST_DATA;
}

void kcom_hdr_decode(const struct virtio_om_hdr *w, struct om_kcom_hdr *h)
{
	h->type = le16_to_cpu(w->type);
	h->flags = le32_to_cpu(w->flags);
	h->src_node = le32_to_cpu(w->src_node);
	h->dst_node = le32_to_cpu(w->dst_node);
	h->src_pid = le32_to_cpu(w->src_pid);
	h->dst_pid = le32_to_cpu(w->dst_pid);
	h->seq = le64_to_cpu(w->seq);
	h->reply_to = le64_to_cpu(w->reply_to);
	h->len = le32_to_cpu(w->len);
}

/* Encodes @h with this protocol's version and reserved zero. */
void kcom_hdr_encode(const struct om_kcom_hdr *h, struct virtio_om_hdr *w)
{
	w->version = cpu_to_le16(VIRTIO_OM_PROTOCOL_VERSION);
	w->type = cpu_to_le16(h->type);
	w->flags = cpu_to_le32(h->flags);
	w->src_node = cpu_to_le32(h->src_node);
	w->dst_node = cpu_to_le32(h->dst_node);
	w->src_pid = cpu_to_le32(h->src_pid);
	w->dst_pid = cpu_to_le32(h->dst_pid);
	w->seq = cpu_to_le64(h->seq);
	w->reply_to = cpu_to_le64(h->reply_to);
	w->len = cpu_to_le32(h->len);
	w->reserved = 0;
}

/**
 * kcom_seq_accept() - the duplicate filter of one source
 * @last: the last seq accepted from it (0: none since it joined)
 * @seq: the seq of a message from it
 *
 * A source's messages come in order, so a seq not above the last one is a
 * copy the relay sent again after it restarted.
 *
 * Return: true and @last updated for a new message, false for a duplicate.
 */
bool kcom_seq_accept(u64 *last, u64 seq)
{
	if (seq <= *last)
		return false;
	*last = seq;
	return true;
}

const char *kcom_verdict_name(enum kcom_verdict v)
{
	static const char *const names[] = {
		[KCOM_OK] = "ok",
		[KCOM_SHORT] = "shorter than header + len",
		[KCOM_VERSION] = "unknown protocol version",
		[KCOM_TYPE] = "unknown type",
		[KCOM_SENDER] = "type not for this sender",
		[KCOM_FLAGS] = "unknown flags",
		[KCOM_RESERVED] = "reserved field not zero",
		[KCOM_LENGTH] = "length against the type or limit",
		[KCOM_REPLY] = "reply flag and reply_to disagree",
		[KCOM_DEST] = "bad destination node",
	};

	return (unsigned int)v < ARRAY_SIZE(names) ? names[v] : "?";
}
