// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace listeners: a control connection that asked "trace ..." gets a
 * ring in shared memory (trace-wire.h, trace-ring.h) and from then on
 * reads a record of every message the relay writes into a guest's rx ring
 * or drops as undeliverable, in place, with no copy through the kernel.
 * The relay writes records and moves on; after each event-loop callback
 * (or a quarter of a ring on) the records are published, and a listener
 * that said it sleeps gets one byte on its socket. A listener that does
 * not read fills its ring; then its records are counted as missed and it
 * is told how many. Nothing here ever waits.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "omhostd.h"
#include "parse-u32.h"
#include "trace-ring.h"

/* A listener owed a MISSED record and silent: how soon omhostd looks whether it caught up. */
#define OM_TRACE_MISSED_RETRY_MS 20

struct om_trace_listener {
	struct om_hostd *d;
	int fd; /* the control connection: hang-up, wake-up bytes */
	uint32_t snaplen;
	struct om_trace_ring ring;
	uint64_t published; /* ring.head as last published */
	struct om_watch *in_w;
	int retry_fd;		   /* timerfd: a MISSED record owed */
	struct om_watch *retry_w;
	bool retry_armed;
	bool dead;		   /* its socket failed or its ring broke: freed by the next flush */
};

static uint64_t om_trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void om_trace_listener_free(struct om_trace_listener *l)
{
	om_loop_unwatch(l->d->loop, l->in_w);
	om_loop_unwatch(l->d->loop, l->retry_w);
	if (l->retry_fd >= 0)
		close(l->retry_fd);
	om_trace_ring_destroy(&l->ring);
	free(l);
}

static void om_trace_end(struct om_trace_listener *l)
{
	struct om_hostd *d = l->d;
	unsigned int i;

	for (i = 0; i < d->n_trace_listeners && d->trace[i] != l; i++)
		;
	if (i == d->n_trace_listeners)
		return;
	memmove(&d->trace[i], &d->trace[i + 1], (d->n_trace_listeners - i - 1) * sizeof(d->trace[0]));
	d->trace[--d->n_trace_listeners] = NULL;
	if (l->ring.broken)
		om_log("trace: a listener wrote an impossible ring tail: dropping it");
	om_log("trace: listener detached (%llu records, %llu missed)",
	       (unsigned long long)l->ring.records, (unsigned long long)l->ring.missed_total);
	close(l->fd);
	om_trace_listener_free(l);
}

/* Makes l's records visible, and wakes it if it sleeps. */
static void om_trace_publish(struct om_trace_listener *l)
{
	l->published = l->ring.head;
	if (!om_trace_ring_publish(&l->ring))
		return; /* not asleep, or its ring broke: ended by the caller's flush or retry */
	/* Full (EAGAIN): it has wake-up bytes it has not read, and will wake for those. */
	if (send(l->fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR)
		l->dead = true;
}

/* Writes the MISSED record l is owed if it has room now; else looks again later. */
static void om_trace_settle_missed(struct om_trace_listener *l)
{
	struct itimerspec its = { .it_value = { .tv_nsec = OM_TRACE_MISSED_RETRY_MS * 1000000L } };

	om_trace_ring_put_missed(&l->ring, om_trace_now_ns());
	if (l->ring.missed && !l->retry_armed && !l->ring.broken)
		l->retry_armed = !timerfd_settime(l->retry_fd, 0, &its, NULL);
}

static void om_trace_retry(void *data, int revents)
{
	struct om_trace_listener *l = data;
	uint64_t expirations;

	if (revents < 0 || (read(l->retry_fd, &expirations, sizeof(expirations)) < 0 &&
			    errno != EAGAIN && errno != EINTR)) {
		l->dead = true;
	} else {
		l->retry_armed = false;
		om_trace_settle_missed(l);
		if (l->ring.head != l->published)
			om_trace_publish(l);
	}
	if (l->dead || l->ring.broken)
		om_trace_end(l);
}

/* A listener sends nothing after its request: readable means it went away. */
static void om_trace_readable(void *data, int revents)
{
	struct om_trace_listener *l = data;
	char sink[256];
	ssize_t n;

	if (revents >= 0) {
		n = recv(l->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
			return;
	}
	om_trace_end(l);
}

/*
 * Reading the clock is a third of a record's cost: the first record of each
 * event-loop callback reads it, and then every OM_TRACE_CLOCK_EVERY-th; the
 * records between share a reading (a few microseconds at full speed).
 */
#define OM_TRACE_CLOCK_EVERY 16

static uint64_t om_trace_stamp(struct om_hostd *d)
{
	if (d->trace_clock_age == 0 || d->trace_clock_age >= OM_TRACE_CLOCK_EVERY) {
		d->trace_clock_ns = om_trace_now_ns();
		d->trace_clock_age = 0;
	}
	d->trace_clock_age++;
	return d->trace_clock_ns;
}

void om_trace_msg(struct om_hostd *d, enum om_trace_event event, const struct om_msg_hdr *h,
		  const unsigned char *raw, const struct iovec *iov, unsigned int n, size_t off)
{
	unsigned char hdr[VIRTIO_OM_HDR_SIZE];
	uint64_t now = om_trace_stamp(d);

	if (!raw) {
		om_msg_hdr_encode(h, hdr);
		raw = hdr;
	}
	for (unsigned int i = 0; i < d->n_trace_listeners; i++) {
		struct om_trace_listener *l = d->trace[i];
		uint32_t caplen = h->len < l->snaplen ? h->len : l->snaplen;

		if (l->dead)
			continue;
		om_trace_ring_put_msg(&l->ring, now, event, raw, iov, n, off, caplen);
		/* A long callback: a quarter of a ring is not kept from the listener until its end. */
		if (l->ring.head - l->published >= l->ring.size / 4)
			om_trace_publish(l);
	}
}

void om_trace_link(struct om_hostd *d, enum om_trace_event event, const char *peer,
		   const unsigned char *hdr, const void *payload, uint32_t len)
{
	uint64_t now = om_trace_stamp(d);

	for (unsigned int i = 0; i < d->n_trace_listeners; i++) {
		struct om_trace_listener *l = d->trace[i];
		/* A listener refused payloads has snaplen 0: a DATA frame's message header only. */
		uint32_t cap = hdr ? VIRTIO_OM_HDR_SIZE + l->snaplen : len;

		if (l->dead)
			continue;
		om_trace_ring_put_link(&l->ring, now, event, peer, hdr, payload,
				       len < cap ? len : cap);
		if (l->ring.head - l->published >= l->ring.size / 4)
			om_trace_publish(l);
	}
}

void om_trace_flush(struct om_hostd *d)
{
	unsigned int i = 0;

	d->trace_clock_age = 0; /* the next callback's first record reads the clock */
	while (i < d->n_trace_listeners) {
		struct om_trace_listener *l = d->trace[i];

		if (!l->dead && l->ring.missed)
			om_trace_settle_missed(l);
		if (!l->dead && l->ring.head != l->published)
			om_trace_publish(l);
		if (l->dead || l->ring.broken)
			om_trace_end(l); /* the next one moved into slot i */
		else
			i++;
	}
}

bool om_trace_is_request(const char *line)
{
	return !strncmp(line, "trace", 5) && (line[5] == '\0' || line[5] == ' ');
}

int om_trace_parse_request(const char *line, uint32_t *snaplen, uint32_t *buffer, char *err,
			   size_t errlen)
{
	char copy[128], *save = NULL, *tok;

	*snaplen = OM_TRACE_SNAPLEN_DEFAULT;
	*buffer = OM_TRACE_BUFFER_DEFAULT;
	if (!om_trace_is_request(line) || strlen(line) >= sizeof(copy)) {
		snprintf(err, errlen, "not a trace request");
		return -EINVAL;
	}
	strcpy(copy, line + 5);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "snaplen=", 8)) {
			if (parse_u32(tok + 8, 0, VIRTIO_OM_MAX_PAYLOAD, snaplen)) {
				snprintf(err, errlen, "snaplen takes 0..%u bytes (0: whole payloads)",
					 VIRTIO_OM_MAX_PAYLOAD);
				return -EINVAL;
			}
		} else if (!strncmp(tok, "buffer=", 7)) {
			if (parse_u32(tok + 7, OM_TRACE_BUFFER_MIN, OM_TRACE_BUFFER_MAX,
					       buffer)) {
				snprintf(err, errlen, "buffer takes %u..%u bytes", OM_TRACE_BUFFER_MIN,
					 OM_TRACE_BUFFER_MAX);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "unknown option '%.40s' (try: trace [snaplen=BYTES] "
				 "[buffer=BYTES])", tok);
			return -EINVAL;
		}
	}
	if (*snaplen == 0)
		*snaplen = VIRTIO_OM_MAX_PAYLOAD;
	/* Room for the answer line, a MISSED record and two of the largest records. */
	if (*buffer < 256 + OM_TRACE_MISSED_SIZE + 2 * om_trace_msg_size(*snaplen)) {
		snprintf(err, errlen, "buffer=%u cannot hold two records of snaplen=%u (give at least %zu)",
			 *buffer, *snaplen, 256 + OM_TRACE_MISSED_SIZE + 2 * om_trace_msg_size(*snaplen));
		return -EINVAL;
	}
	return 0;
}

/* The answer line, with the ring's memory file attached. 0 or -errno. */
static int om_trace_send_answer(int fd, const char *line, size_t len, int memfd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)line, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n;

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &memfd, sizeof(int));
	do
		n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE; /* a fresh connection takes a line whole */
}

int om_trace_attach(struct om_hostd *d, int fd, const char *line, bool payloads, char *err,
		    size_t errlen)
{
	struct om_trace_listener *l;
	uint32_t snaplen, buffer;
	int rc, n, memfd = -1;
	char ok[160];

	rc = om_trace_parse_request(line, &snaplen, &buffer, err, errlen);
	if (rc)
		return rc;
	if (d->n_trace_listeners >= OM_TRACE_MAX_LISTENERS) {
		snprintf(err, errlen, "%u trace listeners already (at most %u)", d->n_trace_listeners,
			 OM_TRACE_MAX_LISTENERS);
		return -EBUSY;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!payloads)
		snaplen = 0; /* headers only: every record says so by its caplen */
	*l = (struct om_trace_listener){ .d = d, .fd = fd, .snaplen = snaplen, .retry_fd = -1 };
	rc = om_trace_ring_create(&l->ring, buffer, &memfd);
	if (rc) {
		snprintf(err, errlen, "cannot make a ring of %u bytes: %s", buffer, strerror(-rc));
		goto fail;
	}
	l->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->retry_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot make a timer: %s", strerror(-rc));
		goto fail;
	}
	rc = om_loop_watch(d->loop, fd, POLLIN, om_trace_readable, l, &l->in_w);
	if (!rc)
		rc = om_loop_watch(d->loop, l->retry_fd, POLLIN, om_trace_retry, l, &l->retry_w);
	if (rc) {
		snprintf(err, errlen, "cannot watch the connection: %s", strerror(-rc));
		goto fail;
	}
	n = snprintf(ok, sizeof(ok), "ok trace version=%u pid=%ld nodes=%u-%u snaplen=%u buffer=%llu%s\n",
		     OM_TRACE_VERSION, (long)getpid(), d->cfg.first_node, d->cfg.last_node, snaplen,
		     (unsigned long long)l->ring.size, payloads ? "" : " payloads=refused");
	rc = om_trace_send_answer(fd, ok, (size_t)n, memfd);
	if (rc) {
		snprintf(err, errlen, "cannot pass the ring: %s", strerror(-rc));
		goto fail;
	}
	close(memfd);
	d->trace[d->n_trace_listeners++] = l;
	if (!payloads)
		d->trace_payloads_refused++;
	/*
	 * Not rate-limited: at most 8 listeners at once, and each attach has
	 * its detach logged (tests/e2e/trace.sh counts both).
	 */
	om_log("trace: listener attached (snaplen %u, ring %llu bytes)%s", snaplen,
	       (unsigned long long)l->ring.size,
	       payloads ? "" : ": payloads refused, headers only (neither root, omhostd's "
			       "user nor in --trace-group)");
	return 0;
fail:
	if (memfd >= 0)
		close(memfd);
	om_trace_listener_free(l);
	return rc;
}

void om_trace_close_all(struct om_hostd *d)
{
	while (d->n_trace_listeners) {
		struct om_trace_listener *l = d->trace[0];

		/* Its last records and what it missed: it reads them after the hang-up. */
		if (!l->dead) {
			om_trace_ring_put_missed(&l->ring, om_trace_now_ns());
			om_trace_publish(l);
		}
		om_trace_end(l);
	}
}
