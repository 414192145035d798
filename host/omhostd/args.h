/* SPDX-License-Identifier: GPL-2.0-only */
/* omhostd's command line, parsed without side effects (unit-tested). */
#ifndef OM_HOSTD_ARGS_H
#define OM_HOSTD_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "omhostd.h"

enum om_hostd_action { OM_HOSTD_RUN, OM_HOSTD_HELP, OM_HOSTD_VERSION };

/*
 * Fills cfg from argv. Returns the action, or -EINVAL with a message for
 * the user in err.
 */
int om_hostd_parse_args(int argc, char **argv, struct om_hostd_config *cfg, char *err,
			size_t errlen);

/* "N" (nodes 1..N) or "A-B"; 0 or -EINVAL. */
int om_parse_node_range(const char *s, uint32_t *first, uint32_t *last);

extern const char om_hostd_usage[];

#endif /* OM_HOSTD_ARGS_H */
