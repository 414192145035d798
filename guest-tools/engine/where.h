/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading and writing /proc/PID/hpc, shared by om-migrate and om-ps. */
#ifndef OM_GUEST_WHERE_H
#define OM_GUEST_WHERE_H

#include <stddef.h>
#include <sys/types.h>

/* Read /proc/PID/hpc/FILE into buf (NUL-terminated); 0 or -errno. PID 0: self. */
int om_hpc_read(pid_t pid, const char *file, char *buf, size_t size);
/* Write s to /proc/PID/hpc/where; 0 or -errno (the engine's answer). */
int om_where_write(pid_t pid, const char *s);
/* One line explaining an errno the engine gives for a move. */
const char *om_where_error(int err);

#endif
