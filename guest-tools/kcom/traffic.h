/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * om-traffic's payload: what a TEST_DATA message carries so that its
 * receiver can check it without knowing the sender's options. Pure
 * functions, also built for the host (tests/unit/test-traffic.c).
 *
 * Layout, little-endian, TR_HDR_SIZE bytes then the pattern:
 *   0 magic "OMTR"  4 kind (u8), 3 zero bytes  8 src node  12 dst node
 *   16 seq (u64, per sender and receiver, from 1; 0 for HELLO/ACK)
 *   24 pattern seed (u64)  32 len (u32, the whole payload)
 *   36 CRC-32 of bytes 0..35
 *   40.. bytes of a xorshift64* stream seeded with the pattern seed
 *
 * A payload shorter than the header is a "short" message: just the first
 * len bytes of the stream of its pattern seed. It describes nothing, so
 * its receiver checks it against what the sender must send next (same
 * --seed on both sides: sizes and seeds derive from it).
 */
#ifndef OM_TRAFFIC_H
#define OM_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#define TR_MAGIC 0x52544d4fu /* "OMTR" in memory order */
#define TR_HDR_SIZE 40u

enum tr_kind {
	TR_HELLO = 1, /* "I am bound to the port; tell me you are" */
	TR_ACK = 2,   /* "I am bound too": data may flow to me */
	TR_DATA = 3,  /* a checked message */
};

struct tr_hdr {
	uint8_t kind;
	uint32_t src, dst;
	uint64_t seq;
	uint64_t pattern;
	uint32_t len;
};

enum tr_verdict {
	TR_OK = 0,
	TR_SHORT,	/* shorter than the header */
	TR_MAGIC_BAD,	/* not an om-traffic payload */
	TR_HDR_CRC,	/* header corrupted */
	TR_LEN,		/* length differs from what the header says */
	TR_PATTERN,	/* payload bytes corrupted */
};

uint32_t tr_crc32(uint32_t crc, const void *p, size_t n);

/* The pattern seed of one message: a mix of the run's seed and its identity. */
uint64_t tr_pattern_seed(uint64_t seed, uint32_t src, uint32_t dst, uint64_t seq);

/* Writes h->len bytes (at least TR_HDR_SIZE) into buf. */
void tr_build(void *buf, const struct tr_hdr *h);

/* Checks len bytes; fills h from the header when it is intact. */
enum tr_verdict tr_check(const void *buf, size_t len, struct tr_hdr *h);

const char *tr_verdict_name(enum tr_verdict v);

/* A short message (len < TR_HDR_SIZE): the stream's first len bytes. */
void tr_build_short(void *buf, uint32_t len, uint64_t pattern);
/* Whether len bytes are the short message of pattern. */
int tr_check_short(const void *buf, size_t len, uint64_t pattern);

/* A small deterministic generator for sizes and cookies. */
uint64_t tr_rand(uint64_t *state);

#endif /* OM_TRAFFIC_H */
