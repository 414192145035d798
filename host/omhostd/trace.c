// SPDX-License-Identifier: GPL-2.0-only
/*
 * Trace listeners: a control connection that asked "trace ..." stays open
 * and receives a record of every message the relay writes into a guest's
 * rx ring or drops as undeliverable (trace-wire.h). Each listener has its
 * own bounded buffer (trace-buf.h): the relay appends and moves on; the
 * buffer goes out with non-blocking sends after each event-loop callback,
 * or at once when half full. A listener that does not read fills its socket,
 * then its buffer; then its records are counted as missed and it is told
 * how many. Nothing here ever waits.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "omhostd.h"
#include "parse-u32.h"
#include "trace-buf.h"

struct om_trace_listener {
	struct om_hostd *d;
	int fd;
	uint32_t snaplen;
	struct om_trace_buf buf;
	struct om_watch *in_w;	/* hang-up */
	struct om_watch *out_w; /* armed while its socket is full */
	bool dead;		/* its socket failed: freed by the next flush */
};

static uint64_t om_trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	om_loop_unwatch(d->loop, l->in_w);
	om_loop_unwatch(d->loop, l->out_w);
	close(l->fd);
	om_log("trace: listener detached (%llu records, %llu missed)",
	       (unsigned long long)l->buf.records, (unsigned long long)l->buf.missed_total);
	om_trace_buf_free(&l->buf);
	free(l);
}

static void om_trace_writable(void *data, int revents);

/* Sends what l has waiting, without blocking; arms a POLLOUT watch when its socket is full. */
static void om_trace_send(struct om_trace_listener *l)
{
	while (!l->dead) {
		struct iovec iov[2];
		struct msghdr m = { .msg_iov = iov };
		ssize_t n;

		if (!l->buf.used)
			om_trace_buf_put_missed(&l->buf, om_trace_now_ns());
		m.msg_iovlen = om_trace_buf_peek(&l->buf, iov);
		if (!m.msg_iovlen)
			break;
		n = sendmsg(l->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			om_trace_buf_consume(&l->buf, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!l->out_w && om_loop_watch(l->d->loop, l->fd, POLLOUT, om_trace_writable, l,
						       &l->out_w))
				l->dead = true; /* cannot wait for it: let it go */
			return;
		} else {
			l->dead = true;
		}
	}
	if (l->out_w && !l->buf.used) {
		om_loop_unwatch(l->d->loop, l->out_w);
		l->out_w = NULL;
	}
}

static void om_trace_writable(void *data, int revents)
{
	struct om_trace_listener *l = data;

	if (revents < 0)
		l->dead = true;
	else
		om_trace_send(l);
	if (l->dead)
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
		om_trace_buf_put_msg(&l->buf, now, event, raw, iov, n, off, caplen);
		/* Half full: send now rather than after the callback, unless it is slow. */
		if (!l->out_w && l->buf.used >= l->buf.cap / 2)
			om_trace_send(l);
	}
}

void om_trace_flush(struct om_hostd *d)
{
	unsigned int i = 0;

	d->trace_clock_age = 0; /* the next callback's first record reads the clock */
	while (i < d->n_trace_listeners) {
		struct om_trace_listener *l = d->trace[i];

		if (!l->out_w)
			om_trace_send(l);
		if (l->dead)
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

int om_trace_attach(struct om_hostd *d, int fd, const char *line, char *err, size_t errlen)
{
	struct om_trace_listener *l;
	uint32_t snaplen, buffer;
	char ok[160];
	int rc, n;

	rc = om_trace_parse_request(line, &snaplen, &buffer, err, errlen);
	if (rc)
		return rc;
	if (d->n_trace_listeners >= OM_TRACE_MAX_LISTENERS) {
		snprintf(err, errlen, "%u trace listeners already (at most %u)", d->n_trace_listeners,
			 OM_TRACE_MAX_LISTENERS);
		return -EBUSY;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		goto nomem;
	*l = (struct om_trace_listener){ .d = d, .fd = fd, .snaplen = snaplen };
	if (om_trace_buf_init(&l->buf, buffer)) {
		free(l);
		goto nomem;
	}
	n = snprintf(ok, sizeof(ok), "ok trace version=%u pid=%ld nodes=%u-%u snaplen=%u buffer=%u\n",
		     OM_TRACE_VERSION, (long)getpid(), d->cfg.first_node, d->cfg.last_node, snaplen,
		     buffer);
	om_trace_buf_put_bytes(&l->buf, ok, (size_t)n); /* the buffer holds 256 bytes and more */
	rc = om_loop_watch(d->loop, fd, POLLIN, om_trace_readable, l, &l->in_w);
	if (rc) {
		om_trace_buf_free(&l->buf);
		free(l);
		snprintf(err, errlen, "cannot watch the connection: %s", strerror(-rc));
		return rc;
	}
	d->trace[d->n_trace_listeners++] = l;
	om_log("trace: listener attached (snaplen %u, buffer %u)", snaplen, buffer);
	om_trace_send(l);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void om_trace_close_all(struct om_hostd *d)
{
	while (d->n_trace_listeners) {
		struct om_trace_listener *l = d->trace[0];

		om_trace_send(l); /* the last records, if its socket takes them */
		om_trace_end(l);
	}
}
