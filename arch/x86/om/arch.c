// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86_64 parts of the omvm engine: what the generic engine in kernel/om
 * asks of the architecture.
 */
#include "om.h"

const char *om_arch_name(void)
{
	return "x86_64";
}
