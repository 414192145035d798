/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A trace listener's side of omhostd's control socket: asks "trace ...",
 * reads the "ok trace ..." line and the ring passed with it, then reads
 * records from the ring (ring-reader.h), sleeping on the socket when it
 * has caught up.
 */
#ifndef OM_TRACE_ATTACH_H
#define OM_TRACE_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "ring-reader.h"

struct om_trace_conn {
	int fd;
	void *map;
	size_t map_len;
	struct om_trace_ring_reader rd;
	bool eof;	    /* omhostd hung up: the records up to its last head are still read */
	bool busy;	    /* records came since it last slept */
	char ok[200];	    /* omhostd's answer line, without its newline */
};

/*
 * Connects to the control socket at path and asks for a trace with these
 * options (snaplen 0: whole payloads). 0, or -errno with a message in err
 * (omhostd's own when it refused).
 */
int om_trace_conn_open(struct om_trace_conn *c, const char *path, uint32_t snaplen,
		       uint32_t buffer, int timeout_ms, char *err, size_t errlen);
/*
 * The same on a connection fd that already sent its request (fd taken,
 * closed on failure): reads the answer and maps the ring.
 */
int om_trace_conn_start(struct om_trace_conn *c, int fd, int timeout_ms, char *err,
			size_t errlen);
/*
 * The next record, waiting up to timeout_ms (< 0: as long as it takes):
 * 1; 0 when omhostd ended the trace and every record was read; -EINTR
 * when a signal came; -ETIMEDOUT; another -errno (-EPROTO: malformed).
 * r->payload stays valid until the next call.
 */
int om_trace_conn_next(struct om_trace_conn *c, struct om_trace_rec *r, int timeout_ms);
void om_trace_conn_close(struct om_trace_conn *c);

#endif /* OM_TRACE_ATTACH_H */
