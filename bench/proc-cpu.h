/* SPDX-License-Identifier: GPL-2.0-only */
/* The benchmarks' reading of another process's CPU time. */
#ifndef OM_BENCH_PROC_CPU_H
#define OM_BENCH_PROC_CPU_H

#include <stdint.h>
#include <sys/types.h>

/* CPU ns @pid ran so far (all its threads), from the scheduler's statistics; 0 if gone. */
int64_t proc_cpu_ns(pid_t pid);

#endif
