// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-compute: a deterministic computation for the engine's tests. It keeps
 * state in integer, x87/SSE double, SSE and AVX vector registers and in
 * thread-local storage (a __thread variable and errno) across long loops,
 * writes a line every so often, and ends with one hash of everything: a run
 * that moved must print the same lines and result as one that did not.
 *
 *   om-compute STEPS [LINE_EVERY] [OUT_FILE]
 */
#include <errno.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread uint64_t tls_steps = 0x5eed;

typedef double v2d __attribute__((vector_size(16)));

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

__attribute__((target("avx2"))) static uint64_t avx_round(uint64_t seed, long n)
{
	__m256d a = _mm256_set_pd(1.0 + seed % 7, 2.5, 3.25, 0.125);
	__m256d b = _mm256_set1_pd(1.0000001);
	__m256i acc = _mm256_set1_epi64x((long long)seed);
	double out[4];
	long i;

	for (i = 0; i < n; i++) {
		a = _mm256_mul_pd(a, b);
		a = _mm256_add_pd(a, _mm256_set1_pd(1e-9 * (double)i));
		acc = _mm256_xor_si256(acc, _mm256_castpd_si256(a));
		acc = _mm256_add_epi64(acc, _mm256_set1_epi64x(i));
	}
	_mm256_storeu_pd(out, a);
	seed = mix(seed, (uint64_t)_mm256_extract_epi64(acc, 0));
	seed = mix(seed, (uint64_t)_mm256_extract_epi64(acc, 3));
	memcpy(&i, &out[2], sizeof(i));
	return mix(seed, (uint64_t)i);
}

static uint64_t sse_round(uint64_t seed, long n)
{
	v2d x = { 1.0 + (double)(seed % 13), 0.5 }, y = { 0.999999, 1.000001 };
	double d = 1.0;
	uint64_t bits[2];
	long i;

	for (i = 0; i < n; i++) {
		x = x * y + (v2d){ 1e-7, -1e-7 };
		d = d * 1.0000003 + 1e-12 * (double)i;
	}
	memcpy(bits, &x, sizeof(bits));
	seed = mix(seed, bits[0] ^ bits[1]);
	memcpy(bits, &d, sizeof(d));
	return mix(seed, bits[0]);
}

int main(int argc, char **argv)
{
	long steps, every, s;
	int avx = !!__builtin_cpu_supports("avx2");
	uint64_t h = 0x0123456789abcdefull;
	FILE *out = NULL;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: om-compute STEPS [LINE_EVERY] [OUT_FILE]\n");
		return 2;
	}
	steps = atol(argv[1]);
	every = argc > 2 ? atol(argv[2]) : 1;
	if (steps <= 0 || every <= 0)
		return 2;
	if (argc > 3) {
		out = fopen(argv[3], "w");
		if (!out) {
			perror(argv[3]);
			return 1;
		}
		setvbuf(out, NULL, _IOLBF, 0);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (s = 1; s <= steps; s++) {
		errno = (int)(s % 97) + 1;
		tls_steps = mix(tls_steps, (uint64_t)s);
		h = sse_round(h, 20000);
		if (avx)
			h = avx_round(h, 20000);
		/* TLS and errno must be what this thread left there. */
		if (errno != (int)(s % 97) + 1) {
			printf("errno changed at step %ld: %d\n", s, errno);
			return 3;
		}
		h = mix(h, tls_steps);
		if (s % every == 0) {
			printf("step %ld %016llx\n", s, (unsigned long long)h);
			if (out)
				fprintf(out, "step %ld %016llx\n", s, (unsigned long long)h);
		}
	}
	printf("result %016llx avx=%d\n", (unsigned long long)h, avx);
	if (out)
		fclose(out);
	return 0;
}
