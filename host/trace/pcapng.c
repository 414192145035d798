// SPDX-License-Identifier: GPL-2.0-only
#include "pcapng.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Block types and options of the pcapng specification used here. */
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_ISB 0x00000005u
#define PCAPNG_BOM 0x1a2b3c4du
#define OPT_END 0
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_ISB_STARTTIME 2
#define OPT_ISB_ENDTIME 3
#define OPT_ISB_IFRECV 4
#define OPT_ISB_IFDROP 5

/* A block being built: body bytes, little-endian, 4-byte padded. */
struct om_pcapng_block {
	unsigned char b[256 + OM_PCAPNG_LINK_PSEUDO_SIZE + OM_LINK_HDR_SIZE +
			OM_LINK_MAX_FRAME_PAYLOAD];
	size_t n;
};

static void put(struct om_pcapng_block *k, const void *p, size_t n)
{
	if (n) /* p may be NULL then (the end-of-options option) */
		memcpy(k->b + k->n, p, n);
	k->n += n;
}

static void put16(struct om_pcapng_block *k, uint16_t v)
{
	v = htole16(v);
	put(k, &v, 2);
}

static void put32(struct om_pcapng_block *k, uint32_t v)
{
	v = htole32(v);
	put(k, &v, 4);
}

static void put64(struct om_pcapng_block *k, uint64_t v)
{
	v = htole64(v);
	put(k, &v, 8);
}

static void pad4(struct om_pcapng_block *k)
{
	while (k->n % 4)
		k->b[k->n++] = 0;
}

static void put_opt(struct om_pcapng_block *k, uint16_t code, const void *p, uint16_t n)
{
	put16(k, code);
	put16(k, n);
	put(k, p, n);
	pad4(k);
}

static void put_opt64(struct om_pcapng_block *k, uint16_t code, uint64_t v)
{
	v = htole64(v);
	put_opt(k, code, &v, 8);
}

/* A timestamp option: high and low 32 bits of the count of units (ns). */
static void put_opt_ts(struct om_pcapng_block *k, uint16_t code, uint64_t ns)
{
	uint32_t v[2] = { htole32((uint32_t)(ns >> 32)), htole32((uint32_t)ns) };

	put_opt(k, code, v, sizeof(v));
}

static int emit(FILE *f, uint32_t type, const struct om_pcapng_block *k)
{
	uint32_t head[2] = { htole32(type), htole32((uint32_t)(k->n + 12)) };

	if (fwrite(head, sizeof(head), 1, f) != 1 || (k->n && fwrite(k->b, k->n, 1, f) != 1) ||
	    fwrite(&head[1], 4, 1, f) != 1)
		return errno ? -errno : -EIO;
	return 0;
}

int om_pcapng_start(struct om_pcapng_writer *w, FILE *f, const char *ifname,
		    uint32_t payload_snaplen)
{
	static const char appl[] = "omtrace (omvm)";
	static const char descr[] = "virtio-om messages relayed by omhostd";
	struct om_pcapng_block *k;
	uint8_t tsresol = 9;
	int err;

	memset(w, 0, sizeof(*w));
	w->f = f;
	k = w->blk = malloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->n = 0;
	put32(k, PCAPNG_BOM);
	put16(k, 1);
	put16(k, 0);
	put64(k, UINT64_MAX); /* section length not given */
	put_opt(k, OPT_SHB_USERAPPL, appl, sizeof(appl) - 1);
	put_opt(k, OPT_END, NULL, 0);
	err = emit(f, PCAPNG_SHB, k);
	if (!err) {
		k->n = 0;
		put16(k, OM_PCAPNG_LINKTYPE);
		put16(k, 0);
		/* A link's DATA frame is the longest packet: its header and a message's. */
		put32(k, OM_PCAPNG_LINK_PSEUDO_SIZE + OM_LINK_HDR_SIZE + VIRTIO_OM_HDR_SIZE +
				 payload_snaplen);
		put_opt(k, OPT_IF_NAME, ifname, (uint16_t)strnlen(ifname, 200));
		put_opt(k, OPT_IF_DESCRIPTION, descr, sizeof(descr) - 1);
		put_opt(k, OPT_IF_TSRESOL, &tsresol, 1);
		put_opt(k, OPT_END, NULL, 0);
		err = emit(f, PCAPNG_IDB, k);
	}
	if (err) {
		free(w->blk);
		w->blk = NULL;
	}
	return err;
}

int om_pcapng_write(struct om_pcapng_writer *w, const struct om_trace_rec *r)
{
	struct om_pcapng_block *k = w->blk;
	size_t data_len, orig_len;

	k->n = 0;
	put32(k, 0); /* interface */
	put32(k, (uint32_t)(r->time_ns >> 32));
	put32(k, (uint32_t)r->time_ns);
	if (r->kind == OM_TRACE_REC_MISSED) {
		data_len = orig_len = OM_PCAPNG_PSEUDO_SIZE + 16;
	} else if (r->kind == OM_TRACE_REC_LINK) {
		data_len = OM_PCAPNG_LINK_PSEUDO_SIZE + OM_LINK_HDR_SIZE + (size_t)r->caplen;
		orig_len = r->event == OM_TRACE_LINK_TX || r->event == OM_TRACE_LINK_RX ?
				   OM_PCAPNG_LINK_PSEUDO_SIZE + OM_LINK_HDR_SIZE + (size_t)r->link.len :
				   data_len;
	} else {
		data_len = OM_PCAPNG_PSEUDO_SIZE + VIRTIO_OM_HDR_SIZE + (size_t)r->caplen;
		orig_len = OM_PCAPNG_PSEUDO_SIZE + VIRTIO_OM_HDR_SIZE + (size_t)r->h.len;
	}
	put32(k, (uint32_t)data_len);
	put32(k, (uint32_t)orig_len);
	put16(k, OM_PCAPNG_PSEUDO_VERSION);
	put16(k, r->kind == OM_TRACE_REC_LINK ? OM_PCAPNG_LINK_PSEUDO_SIZE : OM_PCAPNG_PSEUDO_SIZE);
	if (r->kind == OM_TRACE_REC_LINK) {
		put32(k, r->event);
		put32(k, r->caplen);
		put32(k, 0);
		put(k, r->peer, OM_TRACE_PEER_SIZE);
		put(k, r->raw_link, OM_LINK_HDR_SIZE);
		put(k, r->payload, r->caplen);
	} else if (r->kind == OM_TRACE_REC_MISSED) {
		put32(k, OM_PCAPNG_MISSED);
		put32(k, 0);
		put32(k, 0);
		put64(k, r->missed);
		put64(k, r->missed_total);
	} else {
		put32(k, r->event);
		put32(k, r->caplen);
		put32(k, 0);
		put(k, r->raw_hdr, VIRTIO_OM_HDR_SIZE);
		put(k, r->payload, r->caplen);
	}
	pad4(k);
	put_opt(k, OPT_END, NULL, 0);
	if (!w->packets)
		w->first_ns = r->time_ns;
	w->last_ns = r->time_ns;
	w->packets++;
	return emit(w->f, PCAPNG_EPB, k);
}

int om_pcapng_finish(struct om_pcapng_writer *w, uint64_t received, uint64_t missed)
{
	struct om_pcapng_block *k = w->blk;
	int err;

	k->n = 0;
	put32(k, 0);
	put32(k, (uint32_t)(w->last_ns >> 32));
	put32(k, (uint32_t)w->last_ns);
	if (w->packets) {
		put_opt_ts(k, OPT_ISB_STARTTIME, w->first_ns);
		put_opt_ts(k, OPT_ISB_ENDTIME, w->last_ns);
	}
	put_opt64(k, OPT_ISB_IFRECV, received);
	put_opt64(k, OPT_ISB_IFDROP, missed);
	put_opt(k, OPT_END, NULL, 0);
	err = emit(w->f, PCAPNG_ISB, k);
	if (!err && fflush(w->f))
		err = -errno;
	free(w->blk);
	w->blk = NULL;
	return err;
}

/* ---- reading ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Reads a whole block into r->block: 1 (type and total length out), 0 at
 * a clean end of file, or an error.
 */
static int read_block(struct om_pcapng_reader *r, uint32_t *type, uint32_t *len, char *err,
		      size_t errlen)
{
	unsigned char head[8];
	size_t got = fread(head, 1, sizeof(head), r->f);

	if (got == 0 && feof(r->f))
		return 0;
	if (got != sizeof(head))
		return fail(err, errlen, -EPROTO, "file ends inside a block header");
	*type = om_trace_le32(head);
	*len = om_trace_le32(head + 4);
	if (*len < 12 || *len % 4 || *len > (16u << 20))
		return fail(err, errlen, -EPROTO, "block of %u bytes", *len);
	if (*len > r->cap) {
		unsigned char *b = realloc(r->block, *len);

		if (!b)
			return fail(err, errlen, -ENOMEM, "out of memory");
		r->block = b;
		r->cap = *len;
	}
	memcpy(r->block, head, sizeof(head));
	if (fread(r->block + 8, 1, *len - 8, r->f) != *len - 8)
		return fail(err, errlen, -EPROTO, "file ends inside a block");
	if (om_trace_le32(r->block + *len - 4) != *len)
		return fail(err, errlen, -EPROTO, "block lengths disagree");
	return 1;
}

static int parse_shb(struct om_pcapng_reader *r, uint32_t len, char *err, size_t errlen)
{
	if (len < 28)
		return fail(err, errlen, -EPROTO, "section header too short");
	if (om_trace_le32(r->block + 8) != PCAPNG_BOM)
		return fail(err, errlen, -EPROTO,
			    "not a little-endian pcapng section (only those are read)");
	if (om_trace_le16(r->block + 12) != 1)
		return fail(err, errlen, -EPROTO, "pcapng version %u.x", om_trace_le16(r->block + 12));
	r->n_ifaces = 0; /* interfaces belong to their section */
	return 0;
}

/* An interface: its link-layer type and timestamp resolution (option if_tsresol). */
static void parse_idb(struct om_pcapng_reader *r, uint32_t len)
{
	struct om_pcapng_iface *i = &r->ifaces[r->n_ifaces++];
	size_t off = 16, end = len - 4;

	*i = (struct om_pcapng_iface){ .linktype = om_trace_le16(r->block + 8), .tsres = 6 };
	while (off + 4 <= end) {
		uint16_t code = om_trace_le16(r->block + off), olen = om_trace_le16(r->block + off + 2);

		if (code == OPT_END || off + 4 + olen > end)
			break;
		if (code == OPT_IF_TSRESOL && olen >= 1) {
			i->tsres_pow2 = r->block[off + 4] & 0x80;
			i->tsres = r->block[off + 4] & 0x7f;
		}
		off += 4 + ((olen + 3u) & ~3u);
	}
}

static void parse_isb(struct om_pcapng_reader *r, uint32_t len)
{
	size_t off = 20, end = len - 4;

	while (off + 4 <= end) {
		uint16_t code = om_trace_le16(r->block + off), olen = om_trace_le16(r->block + off + 2);

		if (code == OPT_END || off + 4 + olen > end)
			break;
		if (code == OPT_ISB_IFRECV && olen == 8)
			r->stats_received = om_trace_le64(r->block + off + 4);
		if (code == OPT_ISB_IFDROP && olen == 8)
			r->stats_missed = om_trace_le64(r->block + off + 4);
		r->have_stats = true;
		off += 4 + ((olen + 3u) & ~3u);
	}
}

static uint64_t ts_to_ns(const struct om_pcapng_iface *i, uint64_t ts)
{
	unsigned __int128 v = ts;

	if (i->tsres_pow2)
		return (uint64_t)((v * 1000000000u) >> (i->tsres > 63 ? 63 : i->tsres));
	for (uint8_t d = i->tsres; d < 9; d++)
		v *= 10;
	for (uint8_t d = 9; d < i->tsres; d++)
		v /= 10;
	return (uint64_t)v;
}

/* A link packet's record, its pseudo-header (psize bytes) at d, caplen bytes in all. */
static int parse_link(const unsigned char *d, uint32_t psize, uint32_t caplen, uint32_t event,
		      struct om_trace_rec *rec, char *err, size_t errlen)
{
	if (psize < OM_PCAPNG_LINK_PSEUDO_SIZE || caplen - psize < OM_LINK_HDR_SIZE)
		return fail(err, errlen, -EPROTO, "link packet shorter than a frame header");
	rec->kind = OM_TRACE_REC_LINK;
	rec->event = event;
	memcpy(rec->peer, d + OM_PCAPNG_PSEUDO_SIZE, OM_TRACE_PEER_SIZE);
	memcpy(rec->raw_link, d + psize, OM_LINK_HDR_SIZE);
	rec->caplen = caplen - psize - OM_LINK_HDR_SIZE;
	rec->payload = d + psize + OM_LINK_HDR_SIZE;
	if (rec->caplen != om_trace_le32(d + 8) || om_trace_link_settle(rec))
		return fail(err, errlen, -EPROTO, "link packet malformed (peer name, or %u bytes captured of len %u)",
			    rec->caplen, om_trace_le32(d + psize + 4));
	return 1;
}

static int parse_epb(struct om_pcapng_reader *r, uint32_t len, struct om_trace_rec *rec,
		     char *err, size_t errlen)
{
	const unsigned char *b = r->block, *d = r->block + 28;
	uint32_t ifid, caplen, psize, event;
	const struct om_pcapng_iface *i;

	if (len < 32)
		return fail(err, errlen, -EPROTO, "packet block too short");
	ifid = om_trace_le32(b + 8);
	caplen = om_trace_le32(b + 20);
	if (ifid >= r->n_ifaces)
		return fail(err, errlen, -EPROTO, "packet of interface %u, not described", ifid);
	i = &r->ifaces[ifid];
	if (i->linktype != OM_PCAPNG_LINKTYPE)
		return fail(err, errlen, -EPROTO, "link-layer type %u: not an omvm trace (%u)",
			    i->linktype, OM_PCAPNG_LINKTYPE);
	if (caplen > len - 32)
		return fail(err, errlen, -EPROTO, "packet larger than its block");
	if (caplen < OM_PCAPNG_PSEUDO_SIZE || om_trace_le16(d) != OM_PCAPNG_PSEUDO_VERSION ||
	    (psize = om_trace_le16(d + 2)) < OM_PCAPNG_PSEUDO_SIZE || psize > caplen)
		return fail(err, errlen, -EPROTO, "packet without an omvm pseudo-header");
	memset(rec, 0, sizeof(*rec));
	rec->time_ns = ts_to_ns(i, ((uint64_t)om_trace_le32(b + 12) << 32) | om_trace_le32(b + 16));
	event = om_trace_le32(d + 4);
	if (event == OM_PCAPNG_MISSED) {
		if (caplen - psize < 16)
			return fail(err, errlen, -EPROTO, "missed-records packet too short");
		rec->kind = OM_TRACE_REC_MISSED;
		rec->missed = om_trace_le64(d + psize);
		rec->missed_total = om_trace_le64(d + psize + 8);
		return 1;
	}
	if (event >= OM_TRACE_LINK_TX && event <= OM_TRACE_LINK_DOWN)
		return parse_link(d, psize, caplen, event, rec, err, errlen);
	if (event != OM_TRACE_RELAYED && event != OM_TRACE_UNDELIVERABLE)
		return fail(err, errlen, -EPROTO, "unknown event %u", event);
	if (caplen - psize < VIRTIO_OM_HDR_SIZE)
		return fail(err, errlen, -EPROTO, "packet shorter than a message header");
	rec->kind = OM_TRACE_REC_MSG;
	rec->event = event;
	memcpy(rec->raw_hdr, d + psize, VIRTIO_OM_HDR_SIZE);
	om_msg_hdr_decode(rec->raw_hdr, &rec->h);
	rec->caplen = caplen - psize - VIRTIO_OM_HDR_SIZE;
	rec->payload = d + psize + VIRTIO_OM_HDR_SIZE;
	if (rec->caplen > rec->h.len || rec->caplen != om_trace_le32(d + 8))
		return fail(err, errlen, -EPROTO, "payload of %u bytes captured, len %u", rec->caplen,
			    rec->h.len);
	return 1;
}

int om_pcapng_open(struct om_pcapng_reader *r, FILE *f, char *err, size_t errlen)
{
	uint32_t type = 0, len;
	int rc;

	memset(r, 0, sizeof(*r));
	r->f = f;
	rc = read_block(r, &type, &len, err, errlen);
	if (rc <= 0 || type != PCAPNG_SHB) {
		om_pcapng_close(r);
		if (rc < 0 && type == PCAPNG_SHB)
			return rc; /* a section header, damaged: read_block said how */
		return fail(err, errlen, -EPROTO, "not a pcapng file");
	}
	rc = parse_shb(r, len, err, errlen);
	if (rc)
		om_pcapng_close(r);
	return rc;
}

int om_pcapng_next(struct om_pcapng_reader *r, struct om_trace_rec *rec, char *err,
		   size_t errlen)
{
	for (;;) {
		uint32_t type, len;
		int rc = read_block(r, &type, &len, err, errlen);

		if (rc <= 0)
			return rc;
		switch (type) {
		case PCAPNG_SHB:
			rc = parse_shb(r, len, err, errlen);
			if (rc)
				return rc;
			break;
		case PCAPNG_IDB:
			if (len < 20 || r->n_ifaces >= sizeof(r->ifaces) / sizeof(r->ifaces[0]))
				return fail(err, errlen, -EPROTO, "bad or too many interfaces");
			parse_idb(r, len);
			break;
		case PCAPNG_EPB:
			return parse_epb(r, len, rec, err, errlen);
		case PCAPNG_ISB:
			if (len >= 24)
				parse_isb(r, len);
			break;
		default:
			break; /* blocks of no concern to a trace (name resolution, comments) */
		}
	}
}

void om_pcapng_close(struct om_pcapng_reader *r)
{
	free(r->block);
	r->block = NULL;
	r->cap = 0;
}
