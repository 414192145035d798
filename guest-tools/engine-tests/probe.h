/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the engine test programs read of a process's engine state
 * (/proc/PID/hpc, through guest-tools/engine/where.h), and a computation
 * of a given wall-clock length.
 */
#ifndef OM_ENGINE_TESTS_PROBE_H
#define OM_ENGINE_TESTS_PROBE_H

#include <stddef.h>
#include <sys/types.h>

/* Where pid runs as its home says ("home", or a node); "" if unreadable. PID 0: self. */
void om_where_now(pid_t pid, char *buf, size_t size);
/* A counter of /proc/PID/hpc/debug; 0 before the process has engine state, -1 unreadable. */
long om_debug_count(pid_t pid, const char *key);
/*
 * Move the caller to @node (or "home"): 0 once where says it is there,
 * else -1 with why in @why.
 */
int om_go(const char *node, char *why, size_t size);
/* Wall-clock seconds of computing, wherever it runs (the clock continues). */
void om_spin(double seconds);

#endif
