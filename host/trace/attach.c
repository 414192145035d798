// SPDX-License-Identifier: GPL-2.0-only
#include "attach.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Room for the largest record and many small ones per read. */
#define OM_TRACE_CONN_BUF (OM_TRACE_REC_MAX + (1u << 20))

static int om_trace_conn_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

int om_trace_conn_open(struct om_trace_conn *c, const char *path, uint32_t snaplen,
		       uint32_t buffer, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[96], *nl = NULL;
	size_t have = 0;
	int n, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c->buf = malloc(OM_TRACE_CONN_BUF);
	if (!c->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->cap = OM_TRACE_CONN_BUF;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	n = snprintf(req, sizeof(req), "trace snaplen=%u buffer=%u\n", snaplen, buffer);
	if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	/* The answer line; records may follow it in the same read. */
	while (!nl) {
		ssize_t got;

		rc = om_trace_conn_wait(c->fd, POLLIN, timeout_ms);
		if (rc) {
			snprintf(err, errlen, "%s: no answer: %s", path, strerror(-rc));
			goto fail;
		}
		got = recv(c->fd, c->buf + have, c->cap - have, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = got < 0 ? -errno : -ECONNRESET;
			snprintf(err, errlen, "%s: %s", path,
				 got < 0 ? strerror(errno) : "omhostd closed without an answer");
			goto fail;
		}
		have += (size_t)got;
		nl = memchr(c->buf, '\n', have);
		if (!nl && have >= sizeof(c->ok)) {
			rc = -EPROTO;
			snprintf(err, errlen, "%s: not omhostd's answer", path);
			goto fail;
		}
	}
	*nl = '\0';
	snprintf(c->ok, sizeof(c->ok), "%s", (char *)c->buf);
	if (strncmp(c->ok, "ok trace ", 9)) {
		rc = strncmp(c->ok, "error", 5) ? -EPROTO : -EINVAL;
		snprintf(err, errlen, "omhostd says: %s", c->ok);
		goto fail;
	}
	c->start = (size_t)(nl + 1 - (char *)c->buf);
	c->end = have;
	return 0;
fail:
	om_trace_conn_close(c);
	return rc;
}

int om_trace_conn_next(struct om_trace_conn *c, struct om_trace_rec *r)
{
	for (;;) {
		long n = om_trace_rec_parse(c->buf + c->start, c->end - c->start, r);
		ssize_t got;

		if (n < 0)
			return (int)n;
		if (n > 0) {
			c->start += (size_t)n;
			return 1;
		}
		if (c->start && c->cap - c->end < OM_TRACE_REC_MAX) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		got = recv(c->fd, c->buf + c->end, c->cap - c->end, 0);
		if (got < 0)
			return -errno;
		if (got == 0)
			return c->end == c->start ? 0 : -EPROTO; /* ended inside a record */
		c->end += (size_t)got;
	}
}

void om_trace_conn_close(struct om_trace_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}
