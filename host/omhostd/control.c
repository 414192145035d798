// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket, DIR/control.sock: a client sends one request line
 * and reads the answer until the server closes. Requests: "status" (one
 * line about the daemon, then one per node, key=value fields; see
 * docs/omhostd.md). The answer is small and written without blocking: a
 * client that does not read loses its answer, the relay never waits.
 * "trace ..." turns the connection into a trace listener (trace.c): one
 * socket, one access rule and one request syntax for everything an
 * operator asks omhostd.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "omhostd.h"

struct om_control_client {
	TAILQ_ENTRY(om_control_client) link;
	struct om_hostd *d;
	int fd;
	struct om_watch *w;
	char line[128];
	size_t used;
};

static const char *om_node_state_name(enum om_node_state s)
{
	switch (s) {
	case OM_NODE_ABSENT:
		return "absent";
	case OM_NODE_CONNECTED:
		return "connected";
	case OM_NODE_UP:
		return "up";
	}
	return "?";
}

static int om_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -ENOSPC;
	*len += (size_t)n;
	return 0;
}

int om_control_status(struct om_hostd *d, char *buf, size_t cap, size_t *len)
{
	int err;

	*len = 0;
	err = om_appendf(buf, cap, len,
			 "omhostd pid=%ld nodes=%u-%u max_payload=%u trace_payloads_refused=%llu "
			 "log_suppressed=%llu\n",
			 (long)getpid(), d->cfg.first_node, d->cfg.last_node, d->cfg.max_payload,
			 (unsigned long long)d->trace_payloads_refused,
			 (unsigned long long)d->control_log_suppressed);
	for (uint32_t id = d->cfg.first_node; !err && id <= d->cfg.last_node; id++) {
		const struct om_node *n = om_hostd_node(d, id);
		const struct om_node_counters *c;
		uint64_t refused = 0;

		if (!n)
			continue;
		c = &n->c;
		for (unsigned int v = 0; v < OM_MSG_VERDICT_COUNT; v++)
			refused += c->refused[v];
		err = om_appendf(buf, cap, len,
				 "node=%u state=%s tx_msgs=%llu tx_bytes=%llu rx_msgs=%llu "
				 "rx_bytes=%llu stalls=%llu undeliverable=%llu refused=%llu "
				 "connects=%llu disconnects=%llu evictions=%llu unauthorized=%llu "
				 "backoff_refused=%llu log_suppressed=%llu unresponsive=%llu "
				 "dropped_unresponsive=%llu responding=%s waiting=%s queued=%u "
				 "queued_bytes=%llu queued_total=%llu queue_full=%llu "
				 "queue_dropped=%llu tx_held=%u tx_held_total=%llu tx_released=%llu\n",
				 n->id, om_node_state_name(n->state),
				 (unsigned long long)c->tx_msgs, (unsigned long long)c->tx_bytes,
				 (unsigned long long)c->rx_msgs, (unsigned long long)c->rx_bytes,
				 (unsigned long long)c->stalls, (unsigned long long)c->undeliverable,
				 (unsigned long long)refused, (unsigned long long)c->connects,
				 (unsigned long long)c->disconnects, (unsigned long long)c->evictions,
				 (unsigned long long)c->unauthorized,
				 (unsigned long long)c->backoff_refused,
				 (unsigned long long)c->log_suppressed,
				 (unsigned long long)c->unresponsive,
				 (unsigned long long)c->dropped_unresponsive,
				 n->unresponsive ? "no" : "yes", n->stalled ? "yes" : "no",
				 n->queued_msgs, (unsigned long long)n->queued_bytes,
				 (unsigned long long)c->queued_total, (unsigned long long)c->queue_full,
				 (unsigned long long)c->queue_dropped, n->txhold_pending,
				 (unsigned long long)c->tx_held_total,
				 (unsigned long long)c->tx_released);
	}
	if (!err)
		err = om_links_status(d, buf, cap, len);
	return err;
}

/*
 * Clients that connect and say nothing hold an fd each: at most this many;
 * a new one replaces the oldest, so status stays answerable.
 */
#define OM_CONTROL_MAX_CLIENTS 16

static void om_control_client_end(struct om_control_client *cl)
{
	TAILQ_REMOVE(&cl->d->control_clients, cl, link);
	cl->d->n_control_clients--;
	om_loop_unwatch(cl->d->loop, cl->w);
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl);
}

/*
 * Whether the client may have trace payloads: what guests send each other
 * is theirs, and anyone who can reach the directory can reach the socket.
 * Root, omhostd's own user (it maps the guests' memory: nothing is hidden
 * from it), or a member of --trace-group; others get headers only.
 */
static bool om_control_may_see_payloads(struct om_control_client *cl)
{
	const struct om_hostd_config *cfg = &cl->d->cfg;
	gid_t groups[256];
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || len != sizeof(cred))
		return false;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (!cfg->trace_gid_set)
		return false;
	if (cred.gid == cfg->trace_gid)
		return true;
	len = sizeof(groups);
	/* More groups than fit: refused (ERANGE), not guessed. */
	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (size_t i = 0; i < len / sizeof(groups[0]); i++)
		if (groups[i] == cfg->trace_gid)
			return true;
	return false;
}

static void om_control_answer(struct om_control_client *cl)
{
	size_t cap = 320 + 900 * (size_t)cl->d->n_served + 600 * (size_t)(cl->d->cfg.n_peers + 1),
	       len = 0;
	char *buf = malloc(cap);
	const char *req = cl->line;

	if (!buf)
		return;
	if (!strcmp(req, "status")) {
		if (om_control_status(cl->d, buf, cap, &len))
			len = (size_t)snprintf(buf, cap, "error status too long\n");
	} else if (om_trace_is_request(req)) {
		char err[200];

		if (!om_trace_attach(cl->d, cl->fd, req, om_control_may_see_payloads(cl), err,
				     sizeof(err))) {
			cl->fd = -1; /* the listener's now */
			free(buf);
			return;
		}
		len = (size_t)snprintf(buf, cap, "error trace: %s\n", err);
	} else {
		len = (size_t)snprintf(buf, cap, "error unknown request (try: status, trace)\n");
	}
	if (send(cl->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		om_log_limited(&cl->d->control_log, &cl->d->control_log_suppressed,
			       "control: answer not sent: %s", strerror(errno));
	free(buf);
}

static void om_control_readable(void *data, int revents)
{
	struct om_control_client *cl = data;
	ssize_t n;
	char *nl;

	if (revents < 0) {
		om_control_client_end(cl);
		return;
	}
	n = recv(cl->fd, cl->line + cl->used, sizeof(cl->line) - 1 - cl->used, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		om_control_client_end(cl);
		return;
	}
	cl->used += (size_t)n;
	cl->line[cl->used] = '\0';
	nl = strchr(cl->line, '\n');
	if (!nl && cl->used < sizeof(cl->line) - 1)
		return;
	if (nl)
		*nl = '\0';
	om_control_answer(cl);
	om_control_client_end(cl);
}

static void om_control_accept(void *data, int revents)
{
	struct om_hostd *d = data;
	struct om_control_client *cl;
	int fd;

	(void)revents;
	fd = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		int err = errno;

		if (om_accept_starved(err))
			om_accept_rest(d, "control", err, &d->control_w, &d->control_accept_resting);
		return;
	}
	if (d->n_control_clients >= OM_CONTROL_MAX_CLIENTS) {
		om_log_limited(&d->control_log, &d->control_log_suppressed,
			       "control: %u clients silent, the oldest dropped", d->n_control_clients);
		om_control_client_end(TAILQ_FIRST(&d->control_clients));
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->d = d;
	cl->fd = fd;
	if (om_loop_watch(d->loop, fd, POLLIN, om_control_readable, cl, &cl->w)) {
		close(fd);
		free(cl);
		return;
	}
	TAILQ_INSERT_TAIL(&d->control_clients, cl, link);
	d->n_control_clients++;
}

int om_control_listen(struct om_hostd *d)
{
	int err = om_loop_watch(d->loop, d->control_fd, POLLIN, om_control_accept, d, &d->control_w);

	if (!err)
		d->control_accept_resting = false;
	return err;
}

int om_control_open(struct om_hostd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", d->cfg.dir) >=
	    sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	TAILQ_INIT(&d->control_clients);
	d->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d->control_fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(d->control_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(d->control_fd, 8)) {
		err = -errno;
		close(d->control_fd);
		d->control_fd = -1;
		return err;
	}
	err = om_control_listen(d);
	if (err) {
		close(d->control_fd);
		d->control_fd = -1;
	}
	return err;
}

void om_control_close(struct om_hostd *d)
{
	char path[PATH_MAX];

	om_trace_close_all(d);
	if (d->control_fd < 0)
		return;
	while (!TAILQ_EMPTY(&d->control_clients))
		om_control_client_end(TAILQ_FIRST(&d->control_clients));
	om_loop_unwatch(d->loop, d->control_w);
	close(d->control_fd);
	d->control_fd = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/control.sock", d->cfg.dir) < sizeof(path))
		unlink(path);
}
