// SPDX-License-Identifier: GPL-2.0-only
/*
 * Links to peer relays (docs/omhostd.md "Links between hosts"): one TCP
 * connection per peer in TLS 1.3 PSK (link-tls.c), the side whose name
 * sorts first dialling; a link's stream is link-session.c's. This file
 * does the I/O without ever waiting (non-blocking sockets and TLS, the
 * relay's loop), the timers (heartbeats, silence, redial, a peer given
 * up), and the glue to the relay: messages for a peer's nodes into its
 * outboxes (senders wait when full), what a peer sends to the local
 * guests, node events both ways.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <openssl/err.h>

#include "link-internal.h"

#define OM_LINK_HEARTBEAT_MS 1000
#define OM_LINK_SILENT_MS 5000
#define OM_LINK_HANDSHAKE_MS 5000
#define OM_LINK_TICK_MS 100
#define OM_LINK_REDIAL_MIN_MS 100
#define OM_LINK_REDIAL_MAX_MS 5000
/* How long a start waits for its listening address to be let go (om_link_listen). */
#define OM_LINK_LISTEN_RETRY_MS 3000
static void om_link_conn_io(void *data, int revents);

static uint64_t om_link_new_session(void)
{
	uint64_t s = 0;

	while (!s)
		if (getrandom(&s, sizeof(s), 0) != sizeof(s))
			s = (uint64_t)om_now_ms() * 2654435761u; /* never 0 for long: the clock moves */
	return s;
}

#define om_link_log(p, ...) om_log_limited(&(p)->log, &(p)->log_suppressed, __VA_ARGS__)

static const char *om_link_ssl_why(void)
{
	unsigned long e = ERR_get_error();
	static char buf[160]; /* one line at a time, the loop's only thread */

	if (!e)
		return "connection closed";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static enum om_link_dest_state om_link_dest_state(void *ctx, uint32_t node)
{
	struct om_link_peer *p = ctx;
	struct om_node *n = om_hostd_node(p->ls->d, node);

	if (om_relay_node_usable(n))
		return OM_LINK_DEST_UP;
	return om_relay_node_awaited(n) ? OM_LINK_DEST_AWAITED : OM_LINK_DEST_DOWN;
}

/* The peer acknowledged (or we dropped) a message of a local guest: its chain may go back. */
static void om_link_settled(void *ctx, const struct om_link_item *it)
{
	struct om_link_peer *p = ctx;
	struct om_node *n = om_hostd_node(p->ls->d, it->h.src_node);

	if (n)
		om_relay_tx_settled(n, it->token);
}

/* A frame for the peer: the trace's listeners see it as it is queued. */
static void om_link_framed(void *ctx, const unsigned char *frame, size_t len)
{
	struct om_link_peer *p = ctx;

	if (om_trace_on(p->ls->d))
		om_trace_link(p->ls->d, OM_TRACE_LINK_TX, p->cfg->name, frame,
			      frame + OM_LINK_HDR_SIZE, (uint32_t)(len - OM_LINK_HDR_SIZE));
}

static const struct om_link_session_ops om_link_ops = { .dest_state = om_link_dest_state,
							 .settled = om_link_settled,
							 .framed = om_link_framed };

/* The token src's next held chain will have (om_relay_hold_tx), or 0 when none is held. */
static uint64_t om_link_next_token(const struct om_node *src)
{
	return src->d->cfg.link_hold_ms ? src->txhold_serial + 1 : 0;
}

static const struct om_link_key *om_link_lookup(void *ctx, const char *name)
{
	struct om_links *ls = ctx;

	for (unsigned int i = 0; i < ls->n_peers; i++)
		if (!strcmp(ls->peers[i].cfg->name, name))
			return ls->peers[i].key;
	return NULL;
}

static void om_link_conn_free(struct om_link_conn *c)
{
	struct om_loop *loop = c->ls->d->loop;

	om_loop_unwatch(loop, c->rw);
	om_loop_unwatch(loop, c->ww);
	if (c->ssl)
		om_link_tls_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Ends p's connection; why for the log. Its session keeps all to resend. */
static void om_link_cut(struct om_link_peer *p, const char *why)
{
	if (!p->conn)
		return;
	if (p->state == OM_LINK_UP) {
		p->cuts++;
		p->down_since_ms = om_now_ms();
		om_link_session_disconnected(&p->s);
		om_link_log(p, "link %s: cut: %s", p->cfg->name, why);
		if (om_trace_on(p->ls->d))
			om_trace_link(p->ls->d, OM_TRACE_LINK_DOWN, p->cfg->name, NULL, why,
				      (uint32_t)strlen(why));
	} else {
		om_link_log(p, "link %s: connection failed: %s", p->cfg->name, why);
	}
	om_link_conn_free(p->conn);
	p->conn = NULL;
	p->state = OM_LINK_DOWN;
	p->next_dial_ms = om_now_ms() + p->redial_ms;
	p->redial_ms = p->redial_ms * 2 > OM_LINK_REDIAL_MAX_MS ? OM_LINK_REDIAL_MAX_MS :
								   p->redial_ms * 2;
}

/*
 * TLS writes each record of at most 16 KiB on its own: a write(2) each, a
 * TCP segment pushed each (TCP_NODELAY), 5 of them per 64 KiB message
 * written from its item (a frame is 80 bytes more). Its records are
 * gathered in a buffer instead, written when it is full and once all that
 * is due was given to TLS (om_link_flush): a copy of each record, cheaper
 * than the syscalls and segments it saves. 64 KiB measured best (relays'
 * CPU per GB: 32 KiB as good; 128 and 256 KiB little or no better than none).
 */
#define OM_LINK_WBUF (64u << 10)

static int om_link_buffer_writes(SSL *ssl)
{
	BIO *sock = SSL_get_wbio(ssl), *buf = BIO_new(BIO_f_buffer());

	if (!buf || !sock || !BIO_set_write_buffer_size(buf, OM_LINK_WBUF) || !BIO_up_ref(sock)) {
		BIO_free(buf);
		return -ENOMEM;
	}
	BIO_push(buf, sock);
	SSL_set0_wbio(ssl, buf); /* drops the reference SSL held on sock as its wbio */
	return 0;
}

/* The gathered records to the socket: 1 all written, 0 it is full (wait for room), -1 failed. */
static int om_link_flush(struct om_link_conn *c)
{
	BIO *b = SSL_get_wbio(c->ssl);

	if (!BIO_wpending(b))
		return 1;
	errno = 0;
	if (BIO_flush(b) > 0)
		return 1;
	return BIO_should_retry(b) ? 0 : -1;
}

/* Writes what p's session has due, as far as TLS takes it now. */
static void om_link_write(struct om_link_peer *p)
{
	struct om_link_conn *c = p->conn;

	if (!c || p->state != OM_LINK_UP)
		return;
	if (om_link_session_pump(&p->s)) {
		om_link_cut(p, "out of memory");
		return;
	}
	for (;;) {
		const void *buf;
		size_t len = om_link_session_pending(&p->s, &buf);
		size_t done = 0;
		int err;

		if (!len)
			break;
		if (c->write_len)
			len = c->write_len; /* TLS wants the same write again */
		if (len > INT32_MAX)
			len = INT32_MAX;
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, buf, len, &done)) {
			c->write_len = 0;
			om_link_session_written(&p->s, done);
			p->last_tx_ms = om_now_ms();
			/* Room in the output made: the session may have more. */
			if (om_link_session_pump(&p->s)) {
				om_link_cut(p, "out of memory");
				return;
			}
			continue;
		}
		err = SSL_get_error(c->ssl, 0);
		if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
			c->write_len = len;
			if (!c->ww && om_loop_watch(p->ls->d->loop, c->fd, POLLOUT, om_link_conn_io,
						    c, &c->ww))
				om_link_cut(p, "cannot watch the socket");
			return;
		}
		om_link_cut(p, om_link_ssl_why());
		return;
	}
	/* TLS took all: its records go to the socket together. */
	switch (om_link_flush(c)) {
	case 0:
		if (!c->ww && om_loop_watch(p->ls->d->loop, c->fd, POLLOUT, om_link_conn_io, c,
					    &c->ww))
			om_link_cut(p, "cannot watch the socket");
		return;
	case -1:
		om_link_cut(p, strerror(errno ? errno : EIO));
		return;
	}
	/* All written: no need to hear that the socket has room. */
	if (c->ww) {
		om_loop_unwatch(p->ls->d->loop, c->ww);
		c->ww = NULL;
	}
}

/* Moves the messages of r's waiters into its outbox, as far as it has room. */
static void om_link_release_waiters(struct om_remote *r)
{
	struct om_link_peer *p = r->peer;
	struct om_node *src;

	while ((src = TAILQ_FIRST(&r->waiters))) {
		VuVirtqElement *e = src->stalled;

		if (!om_link_session_fits(&p->s, r->id, src->stalled_hdr.len) ||
		    om_link_session_push(&p->s, &src->stalled_hdr, e->out_sg, e->out_num,
					 VIRTIO_OM_HDR_SIZE, om_link_next_token(src)))
			return;
		TAILQ_REMOVE(&r->waiters, src, wait_link);
		src->stalled = NULL;
		src->stalled_remote = NULL;
		om_relay_hold_tx(src, e);
		src->runnable = true;
	}
}

/* Drops the messages waiting for r (its node is down, or the peer given up). */
static void om_link_drop_waiters(struct om_remote *r)
{
	struct om_node *src;

	while ((src = TAILQ_FIRST(&r->waiters))) {
		TAILQ_REMOVE(&r->waiters, src, wait_link);
		om_relay_drop(src, src->stalled, &src->stalled_hdr);
		src->stalled = NULL;
		src->stalled_remote = NULL;
		src->runnable = true;
	}
}

static uint32_t om_link_npeer_nodes(const struct om_link_peer *p)
{
	return p->cfg->last_node - p->cfg->first_node + 1;
}

/* The handshake is done: which peer, its key proven; the session starts. */
static int om_link_attach(struct om_link_conn *c)
{
	struct om_links *ls = c->ls;
	struct om_link_peer *p = c->peer;

	if (!SSL_session_reused(c->ssl))
		return -EACCES; /* no PSK was used: nothing was proven */
	if (!p) {
		const char *name = om_link_tls_peer_name(c->ssl);

		for (unsigned int i = 0; i < ls->n_peers && !p; i++)
			if (!strcmp(ls->peers[i].cfg->name, name))
				p = &ls->peers[i];
		if (!p)
			return -EACCES;
		for (unsigned int i = 0; i < OM_LINK_MAX_PENDING; i++)
			if (ls->pending[i] == c)
				ls->pending[i] = NULL;
		/* The newer connection wins: the old one may be a half-open leftover. */
		if (p->conn)
			om_link_cut(p, "replaced by a new connection from the peer");
		c->peer = p;
		p->conn = c;
	}
	c->handshaken = true;
	p->state = OM_LINK_UP;
	p->given_up = false;
	p->connects++;
	p->redial_ms = OM_LINK_REDIAL_MIN_MS;
	p->last_rx_ms = p->last_tx_ms = om_now_ms();
	om_link_reader_reset(&p->reader);
	/* Before the HELLO the session queues now: the trace shows the link up, then its frames. */
	if (om_trace_on(ls->d))
		om_trace_link(ls->d, OM_TRACE_LINK_UP, p->cfg->name, NULL, NULL, 0);
	if (om_link_session_connected(&p->s))
		return -ENOMEM;
	om_link_log(p, "link %s: up (nodes %u-%u)", p->cfg->name, p->cfg->first_node,
		    p->cfg->last_node);
	return 0;
}

/* A handshake failed: counted on the peer when it is known, else on the listener. */
static void om_link_handshake_failed(struct om_link_conn *c, const char *why)
{
	struct om_links *ls = c->ls;
	struct om_link_peer *p = c->peer;
	const char *name = p ? p->cfg->name : om_link_tls_peer_name(c->ssl);

	if (!p)
		for (unsigned int i = 0; i < ls->n_peers; i++)
			if (!strcmp(ls->peers[i].cfg->name, name))
				p = &ls->peers[i];
	if (p) {
		p->auth_failed++;
		om_log_limited(&p->log, &p->log_suppressed,
			       "link %s: TLS handshake failed (wrong key?): %s", p->cfg->name, why);
	} else {
		ls->auth_failed++;
		om_log_limited(&ls->log, &ls->log_suppressed,
			       "link: refused a connection naming itself '%s': %s", name, why);
	}
}

static void om_link_close_pending(struct om_link_conn *c)
{
	for (unsigned int i = 0; i < OM_LINK_MAX_PENDING; i++)
		if (c->ls->pending[i] == c)
			c->ls->pending[i] = NULL;
	om_link_conn_free(c);
}

/* Fails a connection before it is a peer's link. */
static void om_link_conn_fail(struct om_link_conn *c, const char *why, bool auth)
{
	if (auth)
		om_link_handshake_failed(c, why);
	if (c->peer && c->peer->conn == c)
		om_link_cut(c->peer, why);
	else
		om_link_close_pending(c);
}

/* Bytes of frames one call takes from a connection: then the relay's other events get a turn. */
#define OM_LINK_READ_BUDGET (1u << 20)

/* The peer's frames: checked, taken; a broken rule cuts. */
static void om_link_read(struct om_link_peer *p)
{
	struct om_link_conn *c = p->conn;
	size_t budget = OM_LINK_READ_BUDGET;

	/*
	 * TLS writes straight into the frame reader: no copy between. Past
	 * the budget, what TLS already took off the socket is still read:
	 * the socket would not say it is there.
	 */
	while (p->conn == c && (budget || SSL_has_pending(c->ssl))) {
		enum om_link_verdict v = OM_LINK_OK;
		unsigned char *at;
		size_t want = om_link_reader_space(&p->reader, &at), got = 0;
		enum om_link_read r;
		bool nomem = false;
		int err;

		ERR_clear_error();
		if (!SSL_read_ex(c->ssl, at, want, &got)) {
			err = SSL_get_error(c->ssl, 0);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
				return;
			om_link_cut(p, err == SSL_ERROR_ZERO_RETURN ? "closed by the peer" :
								       om_link_ssl_why());
			return;
		}
		p->last_rx_ms = om_now_ms();
		budget -= got < budget ? got : budget;
		r = om_link_reader_took(&p->reader, got, &v);
		if (r == OM_LINK_READ_MORE) {
			/* A header just whole: a large message's payload is read into its item. */
			if (p->reader.have == OM_LINK_HDR_SIZE && p->reader.f.len) {
				unsigned char *to = om_link_session_rx_room(&p->s, &p->reader.f);

				if (to)
					om_link_reader_payload_to(&p->reader, to);
			}
			continue;
		}
		/* A header refused at once is traced too, without its payload: why the cut. */
		if (om_trace_on(p->ls->d))
			om_trace_link(p->ls->d, OM_TRACE_LINK_RX, p->cfg->name, p->reader.hdr,
				      om_link_reader_payload(&p->reader),
				      r == OM_LINK_READ_FRAME ? p->reader.f.len : 0);
		if (r == OM_LINK_READ_FRAME)
			v = om_link_session_input(&p->s, &p->reader.f,
						  om_link_reader_payload(&p->reader), &nomem);
		else
			p->s.c.refused[v]++;
		if (v != OM_LINK_OK || nomem) {
			char why[160];

			snprintf(why, sizeof(why), "%s (frame type 0x%02x, seq %llu)",
				 nomem ? "out of memory" : om_link_verdict_name(v),
				 p->reader.f.type, (unsigned long long)p->reader.f.seq);
			om_link_cut(p, why);
			return;
		}
	}
}

/* What the last frames changed: deliveries, remote nodes' state, room in outboxes. */
static void om_link_after_input(struct om_link_peer *p)
{
	struct om_hostd *d = p->ls->d;

	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);

		if (n && om_link_session_held(&p->s, id) && om_relay_node_usable(n))
			om_relay_rx_ready(n);
	}
	om_link_session_pump(&p->s); /* credits may let messages go */
	for (uint32_t i = 0; i < om_link_npeer_nodes(p); i++) {
		struct om_remote *r = &p->remote[i];

		if (TAILQ_EMPTY(&r->waiters))
			continue;
		if (om_link_session_out(&p->s, r->id)->up)
			om_link_release_waiters(r);
	}
}

static void om_link_conn_io(void *data, int revents)
{
	struct om_link_conn *c = data;
	struct om_hostd *d = c->ls->d; /* c may be freed below */
	struct om_link_peer *p;
	int err;

	(void)revents;
	if (c->tcp_connecting) {
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
			om_link_conn_fail(c, strerror(err ? err : errno), false);
			om_hostd_settle(d);
			return;
		}
		c->tcp_connecting = false;
	}
	if (!c->handshaken) {
		ERR_clear_error();
		if (SSL_do_handshake(c->ssl) != 1) {
			err = SSL_get_error(c->ssl, 0);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
				bool want_out = err == SSL_ERROR_WANT_WRITE;

				if (want_out && !c->ww)
					om_loop_watch(d->loop, c->fd, POLLOUT, om_link_conn_io, c, &c->ww);
				else if (!want_out && c->ww) {
					om_loop_unwatch(d->loop, c->ww);
					c->ww = NULL;
				}
				return;
			}
			/*
			 * A TLS error (an alert, a bad key) is an authentication
			 * failure; a connection that just ended mid-handshake (a
			 * peer restarting, a path cut) is not.
			 */
			bool auth = ERR_peek_error() != 0;

			om_link_conn_fail(c, om_link_ssl_why(), auth);
			om_hostd_settle(d);
			return;
		}
		err = om_link_attach(c);
		if (err) {
			om_link_conn_fail(c, err == -ENOMEM ? "out of memory" :
							     "no pre-shared key was used", err != -ENOMEM);
			om_hostd_settle(d);
			return;
		}
		if (c->ww) {
			om_loop_unwatch(d->loop, c->ww);
			c->ww = NULL;
		}
	}
	p = c->peer;
	om_link_read(p);
	if (p->conn == c) {
		om_link_after_input(p);
		om_link_write(p);
	}
	om_hostd_settle(p->ls->d);
}

static struct om_link_conn *om_link_conn_new(struct om_links *ls, int fd, struct om_link_peer *p)
{
	struct om_link_conn *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c) {
		close(fd);
		return NULL;
	}
	c->ls = ls;
	c->fd = fd;
	c->peer = p;
	c->since_ms = om_now_ms();
	/* Frames are written whole by TLS: no waiting to fill segments. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = om_link_tls_conn(p ? ls->client : ls->server, fd, p ? ls->d->cfg.name : NULL,
				  p ? p->key : NULL);
	if (!c->ssl || om_link_buffer_writes(c->ssl) ||
	    om_loop_watch(ls->d->loop, fd, POLLIN, om_link_conn_io, c, &c->rw)) {
		om_link_conn_free(c);
		return NULL;
	}
	return c;
}

static void om_link_dial(struct om_link_peer *p)
{
	const struct om_link_peer_config *cfg = p->cfg;
	int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct om_link_conn *c;

	p->next_dial_ms = om_now_ms() + p->redial_ms;
	if (fd < 0) {
		om_link_log(p, "link %s: socket: %s", cfg->name, strerror(errno));
		return;
	}
	if (connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len) &&
	    errno != EINPROGRESS) {
		om_link_log(p, "link %s: connect to %s: %s", cfg->name, cfg->addr_str,
			    strerror(errno));
		close(fd);
		p->redial_ms = p->redial_ms * 2 > OM_LINK_REDIAL_MAX_MS ? OM_LINK_REDIAL_MAX_MS :
									 p->redial_ms * 2;
		return;
	}
	c = om_link_conn_new(p->ls, fd, p);
	if (!c)
		return;
	c->tcp_connecting = true;
	/* Connected is writable: the handshake starts from there. */
	if (om_loop_watch(p->ls->d->loop, fd, POLLOUT, om_link_conn_io, c, &c->ww)) {
		om_link_conn_free(c);
		return;
	}
	p->conn = c;
	p->state = OM_LINK_CONNECTING;
}

static void om_link_accept(void *data, int revents)
{
	struct om_links *ls = data;
	int fd = accept4(ls->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	unsigned int slot = 0;

	(void)revents;
	if (fd < 0)
		return;
	ls->accepted++;
	/* At most a few unnamed at once: the oldest goes for a new one. */
	for (unsigned int i = 0; i < OM_LINK_MAX_PENDING; i++)
		if (!ls->pending[i] || (ls->pending[slot] &&
					ls->pending[i]->since_ms < ls->pending[slot]->since_ms))
			slot = i;
	if (ls->pending[slot])
		om_link_close_pending(ls->pending[slot]);
	ls->pending[slot] = om_link_conn_new(ls, fd, NULL);
}

/* The peer was unlinked for --peer-down-ms: its nodes are down for the local guests. */
static void om_link_give_up(struct om_link_peer *p)
{
	struct om_hostd *d = p->ls->d;

	om_link_log(p, "link %s: unlinked for %u ms: its nodes are down", p->cfg->name,
		    d->cfg.peer_down_ms);
	for (uint32_t i = 0; i < om_link_npeer_nodes(p); i++) {
		struct om_remote *r = &p->remote[i];

		om_link_drop_waiters(r);
		if (!om_link_session_out(&p->s, r->id)->up)
			continue;
		for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
			struct om_node *n = om_hostd_node(d, id);

			if (om_relay_node_usable(n))
				om_relay_queue_ctl(n, VIRTIO_OM_T_NODE_DOWN, r->id,
						   VIRTIO_OM_NODE_DISCONNECTED);
		}
	}
	/* Held messages go before the NODE_DOWNs are seen: none is delivered after. */
	om_link_session_forget_peer(&p->s, om_link_new_session());
	p->given_up = true;
}

static void om_link_tick(void *data, int revents)
{
	struct om_links *ls = data;
	long long now = om_now_ms();
	uint64_t ticks;

	(void)revents;
	if (read(ls->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		om_log("link timer: %s", strerror(errno));
	for (unsigned int i = 0; i < OM_LINK_MAX_PENDING; i++)
		if (ls->pending[i] && now - ls->pending[i]->since_ms > OM_LINK_HANDSHAKE_MS)
			om_link_close_pending(ls->pending[i]);
	om_relay_check_holds(ls->d, now);
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		struct om_link_peer *p = &ls->peers[i];

		if (p->state == OM_LINK_UP) {
			if (now - p->last_rx_ms > OM_LINK_SILENT_MS)
				om_link_cut(p, "nothing heard for 5000 ms");
			else if (now - p->last_tx_ms >= OM_LINK_HEARTBEAT_MS &&
				 !om_link_session_heartbeat(&p->s))
				om_link_write(p);
		} else if (p->state == OM_LINK_CONNECTING && p->conn &&
			   now - p->conn->since_ms > OM_LINK_HANDSHAKE_MS) {
			om_link_cut(p, "no handshake within 5000 ms");
		}
		if (p->state == OM_LINK_DOWN && p->dials && now >= p->next_dial_ms)
			om_link_dial(p);
		if (p->state != OM_LINK_UP && !p->given_up && ls->d->cfg.peer_down_ms &&
		    now - p->down_since_ms >= ls->d->cfg.peer_down_ms)
			om_link_give_up(p);
		/* After the start's grace, a peer's node not known up is not awaited. */
		if (now >= ls->d->grace_until_ms)
			for (uint32_t k = 0; k < om_link_npeer_nodes(p); k++)
				if (!om_link_session_out(&p->s, p->remote[k].id)->up)
					om_link_drop_waiters(&p->remote[k]);
	}
	om_hostd_settle(ls->d);
}

struct om_remote *om_link_remote(struct om_hostd *d, uint32_t id)
{
	struct om_links *ls = d->links;
	struct om_link_peer *p;

	if (!ls || !id || id > VIRTIO_OM_MAX_NODES || !(p = ls->peer_of[id]))
		return NULL;
	return &p->remote[id - p->cfg->first_node];
}

bool om_link_route(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h,
		   struct om_remote *r)
{
	struct om_link_peer *p = r->peer;

	if (!om_link_session_out(&p->s, r->id)->up) {
		/* After a restart the peer's nodes are known again only once linked. */
		if (om_now_ms() < src->d->grace_until_ms) {
			om_relay_stall_remote(src, e, h, r);
			return false;
		}
		om_relay_drop(src, e, h);
		return true;
	}
	if (!TAILQ_EMPTY(&r->waiters) || om_link_session_push(&p->s, h, e->out_sg, e->out_num,
							       VIRTIO_OM_HDR_SIZE,
							       om_link_next_token(src))) {
		om_relay_stall_remote(src, e, h, r);
		return false;
	}
	/* Its chain goes back once the peer acknowledged it: a kill of ours loses nothing. */
	om_relay_hold_tx(src, e);
	return true;
}

void om_link_deliver(struct om_node *dst)
{
	struct om_links *ls = dst->d->links;

	if (!ls)
		return;
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		struct om_link_peer *p = &ls->peers[i];
		struct om_link_item *it;
		bool moved = false;

		while (!dst->ctl_n && om_relay_node_usable(dst) &&
		       (it = om_link_session_held(&p->s, dst->id))) {
			if (it->type == OM_LINK_T_NODE) {
				om_relay_queue_ctl(dst, it->ev.state == OM_LINK_NODE_UP ?
						   VIRTIO_OM_T_NODE_UP : VIRTIO_OM_T_NODE_DOWN,
						   it->ev.node, it->ev.reason);
			} else if (!om_relay_deliver_copy(dst, &it->h, it->payload)) {
				break;
			}
			om_link_session_done(&p->s, dst->id, false);
			moved = true;
		}
		if (moved)
			om_link_write(p); /* acks and credits */
	}
}

void om_link_node_up(struct om_node *n, uint32_t reason)
{
	struct om_links *ls = n->d->links;

	if (!ls)
		return;
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		struct om_link_peer *p = &ls->peers[i];

		if (om_link_session_local_node(&p->s, n->id, true, (uint16_t)reason) < 0)
			om_link_cut(p, "out of memory");
		/* It hears of the peer's nodes up, as of local ones. */
		for (uint32_t k = 0; k < om_link_npeer_nodes(p); k++) {
			struct om_link_out_dest *od = om_link_session_out(&p->s, p->remote[k].id);

			if (od->up)
				om_relay_queue_ctl(n, VIRTIO_OM_T_NODE_UP, p->remote[k].id, od->reason);
		}
	}
}

void om_link_node_down(struct om_node *n, uint32_t reason)
{
	struct om_links *ls = n->d->links;

	if (!ls)
		return;
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		struct om_link_peer *p = &ls->peers[i];

		om_link_session_drop_held(&p->s, n->id);
		if (om_link_session_local_node(&p->s, n->id, false, (uint16_t)reason) < 0)
			om_link_cut(p, "out of memory");
	}
}

void om_links_grace_over(struct om_hostd *d)
{
	struct om_links *ls = d->links;

	if (!ls)
		return;
	/*
	 * A peer that knew our previous run still has our nodes up as it
	 * left them: those that did not come back within the grace are
	 * told down (a peer drops the event about a node it has down).
	 */
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		struct om_link_peer *p = &ls->peers[i];

		for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++)
			if (!om_link_session_in(&p->s, id)->own_reason &&
			    om_link_session_local_node(&p->s, id, false,
						       VIRTIO_OM_NODE_DISCONNECTED) < 0)
				om_link_cut(p, "out of memory");
	}
}

void om_links_flush(struct om_hostd *d)
{
	struct om_links *ls = d->links;

	if (!ls)
		return;
	for (unsigned int i = 0; i < ls->n_peers; i++)
		om_link_write(&ls->peers[i]);
}

static int om_link_listen(struct om_links *ls)
{
	const struct om_hostd_config *cfg = &ls->d->cfg;
	int one = 1, err;

	ls->listen_fd = socket(cfg->listen_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0);
	if (ls->listen_fd < 0)
		return -errno;
	setsockopt(ls->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/*
	 * A killed predecessor's io_uring lets go of its files (its listening
	 * socket too) only when the kernel tears the ring down, after the
	 * process is gone: the address may be taken for a moment yet.
	 */
	for (long long start = om_now_ms(), until = start + OM_LINK_LISTEN_RETRY_MS;;) {
		if (!bind(ls->listen_fd, (const struct sockaddr *)&cfg->listen_addr,
			  cfg->listen_len)) {
			if (om_now_ms() > start + 20)
				om_log("link: %s was in use for %lld ms", cfg->listen_str,
				       om_now_ms() - start);
			break;
		}
		if (errno != EADDRINUSE || om_now_ms() >= until)
			return -errno;
		usleep(20000); /* before the loop runs: no one waits on us yet */
	}
	if (listen(ls->listen_fd, 16))
		return -errno;
	err = om_loop_watch(ls->d->loop, ls->listen_fd, POLLIN, om_link_accept, ls, &ls->listen_w);
	return err;
}

int om_links_open(struct om_hostd *d)
{
	struct itimerspec t = { .it_interval = { 0, OM_LINK_TICK_MS * 1000000L },
				.it_value = { 0, OM_LINK_TICK_MS * 1000000L } };
	struct om_links *ls;
	char err[256];
	int e;

	if (!d->cfg.n_peers)
		return 0;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	d->links = ls;
	ls->d = d;
	ls->listen_fd = ls->timer_fd = -1;
	ls->started_ms = om_now_ms();
	e = om_link_keys_load(d->cfg.psk_file, ls->keys, OM_HOSTD_MAX_PEERS, &ls->n_keys, err,
			      sizeof(err));
	if (e) {
		om_log("%s", err);
		return e;
	}
	for (unsigned int i = 0; i < d->cfg.n_peers; i++) {
		const struct om_link_peer_config *pc = &d->cfg.peers[i];
		struct om_link_peer *p = &ls->peers[ls->n_peers];
		struct om_link_session_config sc = {
			.self = { d->cfg.first_node, d->cfg.last_node },
			.peer = { pc->first_node, pc->last_node },
			.max_payload = d->cfg.max_payload,
			.credit_bytes = OM_LINK_CREDIT_BYTES,
			.outbox_bytes = OM_LINK_OUTBOX_BYTES,
			.outbox_msgs = OM_LINK_OUTBOX_MSGS,
			.unacked_bytes_max = OM_LINK_UNACKED_BYTES_MAX,
		};

		p->ls = ls;
		p->cfg = pc;
		for (unsigned int k = 0; k < ls->n_keys; k++)
			if (!strcmp(ls->keys[k].name, pc->name))
				p->key = &ls->keys[k];
		if (!p->key) {
			om_log("--psk-file %s: no key for peer %s", d->cfg.psk_file, pc->name);
			return -ENOKEY;
		}
		p->dials = strcmp(d->cfg.name, pc->name) < 0;
		p->redial_ms = OM_LINK_REDIAL_MIN_MS;
		p->down_since_ms = om_now_ms();
		e = om_link_session_init(&p->s, &sc, &om_link_ops, p, om_link_new_session());
		if (e)
			return e;
		ls->n_peers++;
		p->remote = calloc(pc->last_node - pc->first_node + 1, sizeof(*p->remote));
		if (!p->remote)
			return -ENOMEM;
		for (uint32_t k = 0; k <= pc->last_node - pc->first_node; k++) {
			p->remote[k].peer = p;
			p->remote[k].id = pc->first_node + k;
			TAILQ_INIT(&p->remote[k].waiters);
			ls->peer_of[pc->first_node + k] = p;
		}
	}
	ls->client = om_link_tls_new(0, NULL, NULL);
	ls->server = om_link_tls_new(1, om_link_lookup, ls);
	if (!ls->client || !ls->server) {
		om_log("link: TLS setup failed: %s", om_link_ssl_why());
		return -EPROTO;
	}
	if (d->cfg.listen_set) {
		e = om_link_listen(ls);
		if (e) {
			om_log("link: cannot listen on %s: %s", d->cfg.listen_str, strerror(-e));
			return e;
		}
	}
	ls->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ls->timer_fd < 0 || timerfd_settime(ls->timer_fd, 0, &t, NULL))
		return -errno;
	return om_loop_watch(d->loop, ls->timer_fd, POLLIN, om_link_tick, ls, &ls->timer_w);
}

void om_links_close(struct om_hostd *d)
{
	struct om_links *ls = d->links;

	if (!ls)
		return;
	for (unsigned int i = 0; i < OM_LINK_MAX_PENDING; i++)
		if (ls->pending[i])
			om_link_conn_free(ls->pending[i]);
	for (unsigned int i = 0; i < ls->n_peers; i++) {
		struct om_link_peer *p = &ls->peers[i];

		if (p->conn)
			om_link_conn_free(p->conn);
		om_link_session_free(&p->s);
		free(p->remote);
	}
	if (ls->listen_fd >= 0) {
		om_loop_unwatch(d->loop, ls->listen_w);
		close(ls->listen_fd);
	}
	if (ls->timer_fd >= 0) {
		om_loop_unwatch(d->loop, ls->timer_w);
		close(ls->timer_fd);
	}
	SSL_CTX_free(ls->client);
	SSL_CTX_free(ls->server);
	free(ls);
	d->links = NULL;
}
