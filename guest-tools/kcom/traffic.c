// SPDX-License-Identifier: GPL-2.0-only
#include "traffic.h"

#include <endian.h>
#include <string.h>

uint32_t tr_crc32(uint32_t crc, const void *p, size_t n)
{
	static uint32_t table[256];
	const unsigned char *b = p;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t tr_pattern_seed(uint64_t seed, uint32_t src, uint32_t dst, uint64_t seq)
{
	return splitmix64(splitmix64(seed ^ ((uint64_t)src << 32 | dst)) ^ seq);
}

uint64_t tr_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x2545f4914f6cdd1dull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Fills n bytes with the stream of seed (the same bytes for the same seed). */
static void tr_fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t state = splitmix64(seed), v;

	while (n >= 8) {
		v = htole64(tr_rand(&state));
		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		v = htole64(tr_rand(&state));
		memcpy(p, &v, n);
	}
}

static int tr_same(const unsigned char *p, size_t n, uint64_t seed)
{
	unsigned char block[4096];

	/* Regenerate the stream block by block, keeping its state. */
	uint64_t state = splitmix64(seed), v;

	while (n) {
		size_t chunk = n < sizeof(block) ? n : sizeof(block), i;

		for (i = 0; i + 8 <= chunk; i += 8) {
			v = htole64(tr_rand(&state));
			memcpy(block + i, &v, 8);
		}
		if (i < chunk) {
			v = htole64(tr_rand(&state));
			memcpy(block + i, &v, chunk - i);
		}
		if (memcmp(p, block, chunk))
			return 0;
		p += chunk;
		n -= chunk;
	}
	return 1;
}

void tr_build(void *buf, const struct tr_hdr *h)
{
	unsigned char *b = buf;
	uint32_t u32;
	uint64_t u64;

	memset(b, 0, TR_HDR_SIZE);
	u32 = htole32(TR_MAGIC);
	memcpy(b + 0, &u32, 4);
	b[4] = h->kind;
	u32 = htole32(h->src);
	memcpy(b + 8, &u32, 4);
	u32 = htole32(h->dst);
	memcpy(b + 12, &u32, 4);
	u64 = htole64(h->seq);
	memcpy(b + 16, &u64, 8);
	u64 = htole64(h->pattern);
	memcpy(b + 24, &u64, 8);
	u32 = htole32(h->len);
	memcpy(b + 32, &u32, 4);
	u32 = htole32(tr_crc32(0, b, 36));
	memcpy(b + 36, &u32, 4);
	tr_fill(b + TR_HDR_SIZE, h->len - TR_HDR_SIZE, h->pattern);
}

enum tr_verdict tr_check(const void *buf, size_t len, struct tr_hdr *h)
{
	const unsigned char *b = buf;
	uint32_t u32;
	uint64_t u64;

	if (len < TR_HDR_SIZE)
		return TR_SHORT;
	memcpy(&u32, b, 4);
	if (le32toh(u32) != TR_MAGIC)
		return TR_MAGIC_BAD;
	memcpy(&u32, b + 36, 4);
	if (le32toh(u32) != tr_crc32(0, b, 36) || b[5] || b[6] || b[7])
		return TR_HDR_CRC;
	h->kind = b[4];
	memcpy(&u32, b + 8, 4);
	h->src = le32toh(u32);
	memcpy(&u32, b + 12, 4);
	h->dst = le32toh(u32);
	memcpy(&u64, b + 16, 8);
	h->seq = le64toh(u64);
	memcpy(&u64, b + 24, 8);
	h->pattern = le64toh(u64);
	memcpy(&u32, b + 32, 4);
	h->len = le32toh(u32);
	if (h->len != len)
		return TR_LEN;
	if (!tr_same(b + TR_HDR_SIZE, len - TR_HDR_SIZE, h->pattern))
		return TR_PATTERN;
	return TR_OK;
}

const char *tr_verdict_name(enum tr_verdict v)
{
	switch (v) {
	case TR_OK:
		return "ok";
	case TR_SHORT:
		return "shorter than its header";
	case TR_MAGIC_BAD:
		return "not an om-traffic payload";
	case TR_HDR_CRC:
		return "header corrupted";
	case TR_LEN:
		return "length differs from its header";
	case TR_PATTERN:
		return "payload bytes corrupted";
	}
	return "?";
}

void tr_build_short(void *buf, uint32_t len, uint64_t pattern)
{
	tr_fill(buf, len, pattern);
}

int tr_check_short(const void *buf, size_t len, uint64_t pattern)
{
	return len < TR_HDR_SIZE && tr_same(buf, len, pattern);
}
