// SPDX-License-Identifier: GPL-2.0-only
#include "msg.h"

#include <endian.h>
#include <string.h>

enum om_msg_sender { OM_FROM_HOST, OM_FROM_GUEST };

struct om_type_rule {
	uint16_t type;
	enum om_msg_sender sender;
	uint32_t min_len, max_len;
};

/* The protocol header's table, as data. */
static const struct om_type_rule om_types[] = {
#define OM_TYPE_RULE(name, value, who, min, max) \
	{ VIRTIO_OM_T_##name, OM_FROM_##who, (min), (max) },
	VIRTIO_OM_FOR_EACH_TYPE(OM_TYPE_RULE)
#undef OM_TYPE_RULE
};

static const struct om_type_rule *om_type_rule(uint16_t type)
{
	for (size_t i = 0; i < sizeof(om_types) / sizeof(om_types[0]); i++)
		if (om_types[i].type == type)
			return &om_types[i];
	return NULL;
}

const char *om_msg_verdict_name(enum om_msg_verdict v)
{
	static const char *const names[OM_MSG_VERDICT_COUNT] = {
		[OM_MSG_OK] = "ok",
		[OM_MSG_SHORT] = "shorter than a header",
		[OM_MSG_VERSION] = "unknown protocol version",
		[OM_MSG_TYPE] = "type unknown or not for guests",
		[OM_MSG_FLAGS] = "unknown flags",
		[OM_MSG_RESERVED] = "reserved field not zero",
		[OM_MSG_LENGTH] = "length mismatch",
		[OM_MSG_DESTINATION] = "bad destination node",
	};
	return (unsigned int)v < OM_MSG_VERDICT_COUNT ? names[v] : "?";
}

bool om_msg_type_known(uint16_t type)
{
	return om_type_rule(type) != NULL;
}

bool om_msg_len_ok(uint16_t type, uint32_t len, uint32_t max_payload)
{
	const struct om_type_rule *r = om_type_rule(type);
	uint32_t max;

	if (!r)
		return false;
	max = r->max_len == VIRTIO_OM_LEN_ANY ? max_payload : r->max_len;
	return len >= r->min_len && len <= max && len <= VIRTIO_OM_MAX_PAYLOAD;
}

enum om_msg_verdict om_msg_check_from_guest(const struct om_msg_hdr *h, size_t total,
					    uint32_t from_node, uint32_t max_payload)
{
	const struct om_type_rule *r;

	if (total < VIRTIO_OM_HDR_SIZE)
		return OM_MSG_SHORT;
	if (h->version != VIRTIO_OM_PROTOCOL_VERSION)
		return OM_MSG_VERSION;
	r = om_type_rule(h->type);
	if (!r || r->sender != OM_FROM_GUEST)
		return OM_MSG_TYPE;
	if (h->flags & ~VIRTIO_OM_F_ALL)
		return OM_MSG_FLAGS;
	if (h->reserved)
		return OM_MSG_RESERVED;
	if (total - VIRTIO_OM_HDR_SIZE != h->len || !om_msg_len_ok(h->type, h->len, max_payload))
		return OM_MSG_LENGTH;
	if (h->dst_node == VIRTIO_OM_NODE_HOST || h->dst_node > VIRTIO_OM_MAX_NODES ||
	    h->dst_node == from_node)
		return OM_MSG_DESTINATION;
	return OM_MSG_OK;
}

size_t om_iov_size(const struct iovec *iov, unsigned int n)
{
	size_t sum = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (iov[i].iov_len > SIZE_MAX - sum)
			return SIZE_MAX;
		sum += iov[i].iov_len;
	}
	return sum;
}

/* Advances (*i, *off) past skip bytes; false when the list ends first. */
static bool om_iov_seek(const struct iovec *iov, unsigned int n, unsigned int *i, size_t *off,
			size_t skip)
{
	*i = 0;
	*off = skip;
	while (*i < n && *off >= iov[*i].iov_len) {
		*off -= iov[*i].iov_len;
		(*i)++;
	}
	return *i < n || *off == 0;
}

size_t om_iov_copy(const struct iovec *dst, unsigned int dst_n, size_t dst_off,
		   const struct iovec *src, unsigned int src_n, size_t src_off, size_t len)
{
	unsigned int di, si;
	size_t doff, soff, done = 0;

	if (!om_iov_seek(dst, dst_n, &di, &doff, dst_off) ||
	    !om_iov_seek(src, src_n, &si, &soff, src_off))
		return 0;
	while (done < len && di < dst_n && si < src_n) {
		size_t d_left = dst[di].iov_len - doff, s_left = src[si].iov_len - soff;
		size_t chunk = len - done;

		if (chunk > d_left)
			chunk = d_left;
		if (chunk > s_left)
			chunk = s_left;
		memcpy((char *)dst[di].iov_base + doff, (const char *)src[si].iov_base + soff, chunk);
		done += chunk;
		doff += chunk;
		soff += chunk;
		if (doff == dst[di].iov_len) {
			di++;
			doff = 0;
		}
		if (soff == src[si].iov_len) {
			si++;
			soff = 0;
		}
	}
	return done;
}

size_t om_iov_to_buf(void *buf, size_t len, const struct iovec *iov, unsigned int n, size_t off)
{
	struct iovec flat = { .iov_base = buf, .iov_len = len };

	return om_iov_copy(&flat, 1, 0, iov, n, off, len);
}

size_t om_iov_from_buf(const struct iovec *iov, unsigned int n, size_t off, const void *buf,
		       size_t len)
{
	struct iovec flat = { .iov_base = (void *)buf, .iov_len = len };

	return om_iov_copy(iov, n, off, &flat, 1, 0, len);
}
