/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A trace listener's side of omhostd's control socket: asks "trace ...",
 * reads the "ok trace ..." line, then the records (trace-wire.h).
 */
#ifndef OM_TRACE_ATTACH_H
#define OM_TRACE_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct om_trace_conn {
	int fd;
	unsigned char *buf;
	size_t cap, start, end; /* bytes start..end not yet parsed */
	char ok[200];		/* omhostd's answer line, without its newline */
};

/*
 * Connects to the control socket at path and asks for a trace with these
 * options (snaplen 0: whole payloads). 0, or -errno with a message in err
 * (omhostd's own when it refused).
 */
int om_trace_conn_open(struct om_trace_conn *c, const char *path, uint32_t snaplen,
		       uint32_t buffer, int timeout_ms, char *err, size_t errlen);
/*
 * Waits for the next record: 1, 0 when omhostd closed the stream, -EINTR
 * when a signal came, another -errno (-EPROTO: a malformed record).
 */
int om_trace_conn_next(struct om_trace_conn *c, struct om_trace_rec *r);
void om_trace_conn_close(struct om_trace_conn *c);

#endif /* OM_TRACE_ATTACH_H */
