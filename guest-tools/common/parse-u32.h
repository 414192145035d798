/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Numeric arguments (counts, ports, node ids, times) of the guest tools,
 * and of omhostd's options and trace requests. Built for both.
 */
#ifndef OM_PARSE_U32_H
#define OM_PARSE_U32_H

#include <stdint.h>

/* A decimal in [min, max] and nothing else (no sign, no trailing text); 0 or -EINVAL. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif /* OM_PARSE_U32_H */
