/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which messages omtrace shows and writes: --node, --pid, --type,
 * --syscall. Each option takes a comma-separated list; a message passes
 * when it matches every option given (any item of each list). Records of
 * missed messages always pass.
 */
#ifndef OM_TRACE_FILTER_H
#define OM_TRACE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define OM_FILTER_MAX 32		/* items per option */
#define OM_FILTER_REPLY_SLOTS 4096	/* requests remembered to let their replies through */

struct om_filter {
	uint32_t nodes[OM_FILTER_MAX];
	unsigned int n_nodes;
	uint32_t pids[OM_FILTER_MAX];
	unsigned int n_pids;
	struct { uint16_t first, last; } types[OM_FILTER_MAX];
	unsigned int n_types;
	uint64_t syscalls[OM_FILTER_MAX];
	unsigned int n_syscalls;
	/*
	 * --syscall: the requests that matched, so that their replies (which
	 * carry a result, not the call's number) match too. Bounded: a reply
	 * to a request forgotten since does not match.
	 */
	struct { uint32_t src, dst; uint64_t seq; bool used; } replies[OM_FILTER_REPLY_SLOTS];
};

void om_filter_init(struct om_filter *f);

/*
 * Adds the items of a list: --node "1,3" (node ids), --pid "42,43",
 * --type "PING,syscall,0x7f00" (type names from the protocol header, range
 * names control, migration, syscall, memory, test, or numbers), --syscall
 * "openat,0" (x86_64 names or numbers). 0, or -EINVAL with a message in err.
 */
int om_filter_add_nodes(struct om_filter *f, const char *list, char *err, size_t errlen);
int om_filter_add_pids(struct om_filter *f, const char *list, char *err, size_t errlen);
int om_filter_add_types(struct om_filter *f, const char *list, char *err, size_t errlen);
int om_filter_add_syscalls(struct om_filter *f, const char *list, char *err, size_t errlen);

/* Whether r passes (it may remember r, for --syscall's replies). */
bool om_filter_match(struct om_filter *f, const struct om_trace_rec *r);

#endif /* OM_TRACE_FILTER_H */
