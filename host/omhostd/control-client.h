/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client side of omhostd's control socket (control.c): ask, and read
 * the key=value answer. Shared by omhostctl and omcluster, so both read the
 * daemon the same way.
 */
#ifndef OM_HOSTD_CONTROL_CLIENT_H
#define OM_HOSTD_CONTROL_CLIENT_H

#include <stddef.h>
#include <stdio.h>

/* DIR/control.sock into out (at most sun_path long); 0 or -ENAMETOOLONG. */
int om_ctl_socket_path(const char *dir, char *out, size_t cap);

/*
 * Sends req (one line, with its newline) to the control socket at path and
 * reads the answer until the daemon closes, NUL-terminated in buf. Each
 * wait is at most timeout_ms. Returns 0 or -errno (-ETIMEDOUT, -EMSGSIZE
 * when the answer does not fit, -ECONNREFUSED/-ENOENT when none listens).
 */
int om_ctl_ask(const char *path, const char *req, int timeout_ms, char *buf, size_t cap);

/*
 * The value of key in one line of key=value fields (the line ends at '\n'
 * or NUL), copied into out; "-" when the line has no such key.
 */
const char *om_ctl_field(const char *line, const char *key, char *out, size_t cap);

/*
 * The line about node in a status answer ("node=N ..."), or NULL. The line
 * runs to the next '\n'.
 */
const char *om_ctl_node_line(const char *status, unsigned int node);

/* The state (absent, connected, up) of node in a status answer, or "-". */
const char *om_ctl_node_state(const char *status, unsigned int node, char *out, size_t cap);

/* Prints a status answer's relay links (link= lines) as a table, if it has any. */
void om_ctl_print_links(FILE *out, const char *status);

/* Prints a status answer's nodes as a table, one row per node. */
void om_ctl_print_nodes(FILE *out, const char *status);

/*
 * Prints a status answer as a table, one row per node (omhostctl status);
 * with relay links, then each node's tx chains held for them (tx_held,
 * tx_held_total, tx_released) and the links' table.
 */
void om_ctl_print_table(FILE *out, const char *status);

#endif /* OM_HOSTD_CONTROL_CLIENT_H */
