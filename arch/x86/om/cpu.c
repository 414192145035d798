// SPDX-License-Identifier: GPL-2.0-only
/*
 * What this CPU offers user space, for the check before a move: the CPUID
 * bits of instructions a process may use (and may have tested for once, at
 * start), and the XSAVE components enabled for it. A process goes only
 * where all of its home's are.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/processor.h>

#include "om.h"

enum { W_1_ECX, W_1_EDX, W_7_EBX, W_7_ECX, W_7_EDX, W_X1_ECX, W_X1_EDX, W_D1_EAX };

struct om_cpu_bit {
	u8 word;
	u8 bit;
	const char *name;
};

/* User-visible instruction sets, named as /proc/cpuinfo names them. */
static const struct om_cpu_bit om_cpu_bits[] = {
	{ W_1_ECX, 0, "pni" },		{ W_1_ECX, 1, "pclmulqdq" },
	{ W_1_ECX, 9, "ssse3" },	{ W_1_ECX, 12, "fma" },
	{ W_1_ECX, 13, "cx16" },	{ W_1_ECX, 19, "sse4_1" },
	{ W_1_ECX, 20, "sse4_2" },	{ W_1_ECX, 22, "movbe" },
	{ W_1_ECX, 23, "popcnt" },	{ W_1_ECX, 25, "aes" },
	{ W_1_ECX, 26, "xsave" },	{ W_1_ECX, 28, "avx" },
	{ W_1_ECX, 29, "f16c" },	{ W_1_ECX, 30, "rdrand" },
	{ W_1_EDX, 0, "fpu" },		{ W_1_EDX, 4, "tsc" },
	{ W_1_EDX, 8, "cx8" },		{ W_1_EDX, 15, "cmov" },
	{ W_1_EDX, 19, "clflush" },	{ W_1_EDX, 23, "mmx" },
	{ W_1_EDX, 24, "fxsr" },	{ W_1_EDX, 25, "sse" },
	{ W_1_EDX, 26, "sse2" },	{ W_7_EBX, 0, "fsgsbase" },
	{ W_7_EBX, 3, "bmi1" },		{ W_7_EBX, 4, "hle" },
	{ W_7_EBX, 5, "avx2" },		{ W_7_EBX, 8, "bmi2" },
	{ W_7_EBX, 9, "erms" },		{ W_7_EBX, 11, "rtm" },
	{ W_7_EBX, 16, "avx512f" },	{ W_7_EBX, 17, "avx512dq" },
	{ W_7_EBX, 18, "rdseed" },	{ W_7_EBX, 19, "adx" },
	{ W_7_EBX, 21, "avx512ifma" },	{ W_7_EBX, 23, "clflushopt" },
	{ W_7_EBX, 24, "clwb" },	{ W_7_EBX, 28, "avx512cd" },
	{ W_7_EBX, 29, "sha_ni" },	{ W_7_EBX, 30, "avx512bw" },
	{ W_7_EBX, 31, "avx512vl" },	{ W_7_ECX, 1, "avx512vbmi" },
	{ W_7_ECX, 5, "waitpkg" },	{ W_7_ECX, 6, "avx512_vbmi2" },
	{ W_7_ECX, 8, "gfni" },		{ W_7_ECX, 9, "vaes" },
	{ W_7_ECX, 10, "vpclmulqdq" },	{ W_7_ECX, 11, "avx512_vnni" },
	{ W_7_ECX, 12, "avx512_bitalg" }, { W_7_ECX, 14, "avx512_vpopcntdq" },
	{ W_7_ECX, 22, "rdpid" },	{ W_7_ECX, 27, "movdiri" },
	{ W_7_ECX, 28, "movdir64b" },	{ W_7_EDX, 4, "fsrm" },
	{ W_7_EDX, 8, "avx512_vp2intersect" }, { W_7_EDX, 14, "serialize" },
	{ W_7_EDX, 22, "amx_bf16" },	{ W_7_EDX, 23, "avx512_fp16" },
	{ W_7_EDX, 24, "amx_tile" },	{ W_7_EDX, 25, "amx_int8" },
	{ W_X1_ECX, 0, "lahf_lm" },	{ W_X1_ECX, 5, "abm" },
	{ W_X1_ECX, 6, "sse4a" },	{ W_X1_ECX, 8, "3dnowprefetch" },
	{ W_X1_ECX, 11, "xop" },	{ W_X1_ECX, 16, "fma4" },
	{ W_X1_ECX, 21, "tbm" },	{ W_X1_EDX, 27, "rdtscp" },
	{ W_X1_EDX, 29, "lm" },		{ W_D1_EAX, 0, "xsaveopt" },
	{ W_D1_EAX, 1, "xsavec" },	{ W_D1_EAX, 2, "xgetbv1" },
};

static u32 om_cpu_mask(unsigned int word)
{
	u32 mask = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(om_cpu_bits); i++)
		if (om_cpu_bits[i].word == word)
			mask |= BIT(om_cpu_bits[i].bit);
	return mask;
}

/**
 * om_arch_cpu_info() - what this CPU offers user space
 * @ci: filled in, little-endian, as CPU_INFO carries it
 */
void om_arch_cpu_info(struct virtio_om_cpu_info *ci)
{
	u32 w[VIRTIO_OM_CPU_WORDS] = {}, eax, ebx, ecx, edx;
	unsigned int i;

	BUILD_BUG_ON(W_D1_EAX + 1 != VIRTIO_OM_CPU_WORDS);
	memset(ci, 0, sizeof(*ci));
	ci->arch = cpu_to_le32(om_arch_id());
	cpuid(1, &eax, &ebx, &w[W_1_ECX], &w[W_1_EDX]);
	if (boot_cpu_data.cpuid_level >= 7)
		cpuid_count(7, 0, &eax, &w[W_7_EBX], &w[W_7_ECX], &w[W_7_EDX]);
	if (boot_cpu_data.cpuid_level >= 0xd)
		cpuid_count(0xd, 1, &w[W_D1_EAX], &ebx, &ecx, &edx);
	if (boot_cpu_data.extended_cpuid_level >= 0x80000001)
		cpuid(0x80000001, &eax, &ebx, &w[W_X1_ECX], &w[W_X1_EDX]);
	for (i = 0; i < VIRTIO_OM_CPU_WORDS; i++)
		ci->words[i] = cpu_to_le32(w[i] & om_cpu_mask(i));
	/* Without XSAVE, x87 and SSE state as FXSAVE holds them. */
	ci->xfeatures = cpu_to_le64(boot_cpu_has(X86_FEATURE_OSXSAVE) ?
				    xgetbv(XCR_XFEATURE_ENABLED_MASK) :
				    XFEATURE_MASK_FP | XFEATURE_MASK_SSE);
}

/**
 * om_arch_cpu_lacks() - what @there lacks of @here
 * @here: this node's CPU
 * @there: another node's (a CPU_INFO it sent)
 * @buf: the missing features' names, space-separated (truncated to fit)
 * @size: @buf's size
 *
 * The XSAVE components must be the same on both sides, not only there: a
 * process carries its XSAVE image, laid out as its home's CPU lays it out.
 *
 * Return: the number of features missing there, and XSAVE components that
 * differ (named "xstate:N" when missing there, "+xstate:N" when only there).
 */
int om_arch_cpu_lacks(const struct virtio_om_cpu_info *here,
		      const struct virtio_om_cpu_info *there, char *buf, size_t size)
{
	u64 xhere = le64_to_cpu(here->xfeatures), xthere = le64_to_cpu(there->xfeatures);
	size_t at = 0;
	unsigned int i;
	int n = 0;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(om_cpu_bits); i++) {
		const struct om_cpu_bit *c = &om_cpu_bits[i];
		u32 had = le32_to_cpu(here->words[c->word]);
		u32 has = le32_to_cpu(there->words[c->word]);

		if (!(had & ~has & BIT(c->bit)))
			continue;
		n++;
		if (at < size)
			at += scnprintf(buf + at, size - at, "%s%s", at ? " " : "", c->name);
	}
	for (i = 0; i < 64; i++) {
		if (!((xhere ^ xthere) & BIT_ULL(i)))
			continue;
		n++;
		if (at < size)
			at += scnprintf(buf + at, size - at, "%s%sxstate:%u", at ? " " : "",
					xthere & BIT_ULL(i) ? "+" : "", i);
	}
	return n;
}
