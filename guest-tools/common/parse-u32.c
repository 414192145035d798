// SPDX-License-Identifier: GPL-2.0-only
#include "parse-u32.h"

#include <errno.h>
#include <stdlib.h>

int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would skip blanks and take a sign (negating '-' into a large value). */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}
