// SPDX-License-Identifier: GPL-2.0-only
#include "attach.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * While traffic flows a listener reads in batches: woken when a
 * 1/OM_TRACE_BATCH_PART of its ring filled or after OM_TRACE_BATCH_MS,
 * rather than for every event-loop pass of omhostd (fewer wake-ups of both;
 * a live view lags by at most that).
 */
#define OM_TRACE_BATCH_PART 4
#define OM_TRACE_BATCH_MS 10

static int om_trace_conn_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

int om_trace_conn_open(struct om_trace_conn *c, const char *path, uint32_t snaplen,
		       uint32_t buffer, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[96];
	int fd, n, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	n = snprintf(req, sizeof(req), "trace snaplen=%u buffer=%u\n", snaplen, buffer);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	return om_trace_conn_start(c, fd, timeout_ms, err, errlen);
}

/* The answer line, and the memory file that comes with "ok" (-1 without one). */
static int om_trace_conn_answer(struct om_trace_conn *c, int timeout_ms, int *memfd, char *err,
				size_t errlen)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char line[sizeof(c->ok)];
	size_t have = 0;

	*memfd = -1;
	/* omhostd sends the line in one piece; a refusal's may be followed by its hang-up. */
	while (!memchr(line, '\n', have)) {
		struct iovec iov = { .iov_base = line + have, .iov_len = sizeof(line) - 1 - have };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *cm;
		ssize_t got;
		int rc;

		if (have == sizeof(line) - 1) {
			snprintf(err, errlen, "not omhostd's answer");
			return -EPROTO;
		}
		rc = om_trace_conn_wait(c->fd, timeout_ms);
		if (rc == -EINTR)
			continue;
		if (rc) {
			snprintf(err, errlen, "no answer: %s", strerror(-rc));
			return rc;
		}
		got = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(err, errlen, "%s",
				 got < 0 ? strerror(errno) : "omhostd closed without an answer");
			return got < 0 ? -errno : -ECONNRESET;
		}
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			int fd;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
			    cm->cmsg_len != CMSG_LEN(sizeof(int)))
				continue;
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			if (*memfd >= 0)
				close(*memfd);
			*memfd = fd;
		}
		have += (size_t)got;
	}
	*(char *)memchr(line, '\n', have) = '\0';
	snprintf(c->ok, sizeof(c->ok), "%s", line);
	return 0;
}

int om_trace_conn_start(struct om_trace_conn *c, int fd, int timeout_ms, char *err,
			size_t errlen)
{
	struct stat st;
	int memfd, rc;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	rc = om_trace_conn_answer(c, timeout_ms, &memfd, err, errlen);
	if (rc)
		goto fail;
	if (strncmp(c->ok, "ok trace ", 9)) {
		rc = strncmp(c->ok, "error", 5) ? -EPROTO : -EINVAL;
		snprintf(err, errlen, "omhostd says: %s", c->ok);
		goto fail;
	}
	if (memfd < 0 || fstat(memfd, &st) || st.st_size < OM_TRACE_RING_CTL_SIZE) {
		rc = -EPROTO;
		snprintf(err, errlen, "omhostd's answer came without its ring (an older omhostd?)");
		goto fail;
	}
	c->map_len = (size_t)st.st_size;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (c->map == MAP_FAILED) {
		rc = -errno;
		c->map = NULL;
		snprintf(err, errlen, "cannot map the ring: %s", strerror(-rc));
		goto fail;
	}
	close(memfd);
	memfd = -1;
	rc = om_trace_ring_reader_init(&c->rd, c->map, c->map_len);
	if (rc) {
		snprintf(err, errlen, "the ring is not of trace version %u", OM_TRACE_VERSION);
		goto fail;
	}
	return 0;
fail:
	if (memfd >= 0)
		close(memfd);
	om_trace_conn_close(c);
	return rc;
}

/* Takes the wake-up bytes waiting; notes omhostd's hang-up. */
static int om_trace_conn_drain(struct om_trace_conn *c)
{
	char bytes[64];

	for (;;) {
		ssize_t n = recv(c->fd, bytes, sizeof(bytes), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
			c->eof = true;
			return 0;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int om_trace_conn_next(struct om_trace_conn *c, struct om_trace_rec *r, int timeout_ms)
{
	for (;;) {
		int rc = om_trace_ring_reader_next(&c->rd, r), wait_ms = timeout_ms;
		uint64_t want = OM_TRACE_ALIGN; /* any record */

		if (rc == 1)
			c->busy = true;
		if (rc)
			return rc;
		if (c->eof)
			return 0; /* it hung up after publishing its last head: all read */
		/*
		 * Records came since the last sleep: traffic flows, so sleep
		 * until a part of the ring filled or a short while passed, and
		 * read them in one go; after a quiet while, until the next one.
		 */
		if (c->busy) {
			want = c->rd.size / OM_TRACE_BATCH_PART;
			if (wait_ms < 0 || wait_ms > OM_TRACE_BATCH_MS)
				wait_ms = OM_TRACE_BATCH_MS;
		}
		c->busy = false;
		if (!om_trace_ring_reader_sleep(&c->rd, want))
			continue;
		rc = om_trace_conn_wait(c->fd, wait_ms);
		om_trace_ring_reader_wake(&c->rd);
		if (rc == -ETIMEDOUT && wait_ms != timeout_ms)
			continue; /* its own batching time, not the caller's */
		if (rc)
			return rc;
		rc = om_trace_conn_drain(c);
		if (rc)
			return rc;
	}
}

void om_trace_conn_close(struct om_trace_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->map)
		munmap(c->map, c->map_len);
	c->map = NULL;
}
