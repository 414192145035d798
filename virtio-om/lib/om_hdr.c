// SPDX-License-Identifier: GPL-2.0-only
#include "om_hdr.h"

#include <endian.h>
#include <string.h>

void om_msg_hdr_decode(const void *p, struct om_msg_hdr *h)
{
	struct virtio_om_hdr w;

	memcpy(&w, p, sizeof(w));
	h->version = le16toh(w.version);
	h->type = le16toh(w.type);
	h->flags = le32toh(w.flags);
	h->src_node = le32toh(w.src_node);
	h->dst_node = le32toh(w.dst_node);
	h->src_pid = le32toh(w.src_pid);
	h->dst_pid = le32toh(w.dst_pid);
	h->seq = le64toh(w.seq);
	h->reply_to = le64toh(w.reply_to);
	h->len = le32toh(w.len);
	h->reserved = le32toh(w.reserved);
}

void om_msg_hdr_encode(const struct om_msg_hdr *h, void *p)
{
	struct virtio_om_hdr w = {
		.version = htole16(h->version),
		.type = htole16(h->type),
		.flags = htole32(h->flags),
		.src_node = htole32(h->src_node),
		.dst_node = htole32(h->dst_node),
		.src_pid = htole32(h->src_pid),
		.dst_pid = htole32(h->dst_pid),
		.seq = htole64(h->seq),
		.reply_to = htole64(h->reply_to),
		.len = htole32(h->len),
		.reserved = htole32(h->reserved),
	};

	memcpy(p, &w, sizeof(w));
}
