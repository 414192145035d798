/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace records to and from pcapng files (docs/tracing.md, "Capture
 * format"). Hand-written: Debian 12's libpcap (1.10) writes only the old
 * pcap format and cannot carry the per-file statistics used here; the
 * only pcapng writer packaged, Wireshark's libwiretap, is an internal
 * library with no stable API. The subset needed is a few dozen lines.
 *
 * One section, one interface of link-layer type LINKTYPE_USER0 (147),
 * nanosecond timestamps. Each record is an Enhanced Packet Block whose
 * data is a 16-byte pseudo-header, then the virtio-om message (48-byte
 * header and the captured payload), or for a MISSED record two counters.
 * The file ends with an Interface Statistics Block: records received and
 * records the listener missed (isb_ifrecv, isb_ifdrop).
 */
#ifndef OM_TRACE_PCAPNG_H
#define OM_TRACE_PCAPNG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

#define OM_PCAPNG_LINKTYPE 147 /* LINKTYPE_USER0: private use, see docs/tracing.md */

/*
 * The pseudo-header, little-endian: 0 version (u16, 1), 2 its size (u16,
 * 16), 4 event (u32: enum om_trace_event, or OM_PCAPNG_MISSED), 8 payload
 * bytes captured (u32), 12 reserved (u32, 0).
 */
#define OM_PCAPNG_PSEUDO_VERSION 1
#define OM_PCAPNG_PSEUDO_SIZE 16
#define OM_PCAPNG_MISSED 3 /* followed by count (u64) and total (u64) */
/*
 * A relay link's frame or event (events OM_TRACE_LINK_*, 4-7): the
 * pseudo-header is longer, its size 80, the peer's name (64 bytes,
 * NUL-padded) after its 16; then the frame's 32-byte header and the
 * payload bytes captured (LINK_DOWN: why, as text).
 */
#define OM_PCAPNG_LINK_PSEUDO_SIZE (OM_PCAPNG_PSEUDO_SIZE + OM_TRACE_PEER_SIZE)

struct om_pcapng_writer {
	FILE *f;
	uint64_t first_ns, last_ns;
	uint64_t packets;
	struct om_pcapng_block *blk; /* the block being built (up to a whole message) */
};

/* Writes the section and interface blocks. 0 or -errno; on success, finish it. */
int om_pcapng_start(struct om_pcapng_writer *w, FILE *f, const char *ifname,
		    uint32_t payload_snaplen);
/* One record as one packet. 0 or -errno. */
int om_pcapng_write(struct om_pcapng_writer *w, const struct om_trace_rec *r);
/* The statistics block, then flushes (f stays open) and frees w's buffer. 0 or -errno. */
int om_pcapng_finish(struct om_pcapng_writer *w, uint64_t received, uint64_t missed);

struct om_pcapng_iface {
	uint16_t linktype;
	bool tsres_pow2;  /* units are 2^-tsres s, else 10^-tsres s */
	uint8_t tsres;
};

struct om_pcapng_reader {
	FILE *f;
	unsigned char *block;
	size_t cap;
	struct om_pcapng_iface ifaces[16];
	unsigned int n_ifaces;
	bool have_stats;
	uint64_t stats_received, stats_missed; /* from the statistics block, if any */
};

/* Reads the section header. 0, or -errno with a message in err. */
int om_pcapng_open(struct om_pcapng_reader *r, FILE *f, char *err, size_t errlen);
/*
 * The next record: 1, 0 at the end of the file, -errno with a message in
 * err. rec->payload points into the reader's buffer until the next call.
 */
int om_pcapng_next(struct om_pcapng_reader *r, struct om_trace_rec *rec, char *err,
		   size_t errlen);
void om_pcapng_close(struct om_pcapng_reader *r);

#endif /* OM_TRACE_PCAPNG_H */
