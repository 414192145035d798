// SPDX-License-Identifier: GPL-2.0-only
/*
 * Listening sockets (the node sockets, the control socket) when accept()
 * fails for want of fds or memory. The connection stays in the socket's
 * backlog, so the socket stays readable, and the loop's level-triggered
 * polls would call accept() again at once: omhostd would spin until an fd
 * is freed. Instead the socket rests: its watch is dropped, and every
 * resting socket is watched again OM_HOSTD_ACCEPT_REST_MS later, by one
 * timer made at start (one made then would need the fd that is missing).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "omhostd.h"

bool om_accept_starved(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static int om_accept_arm(struct om_hostd *d)
{
	struct itimerspec t = {
		.it_value = { .tv_sec = OM_HOSTD_ACCEPT_REST_MS / 1000,
			      .tv_nsec = (OM_HOSTD_ACCEPT_REST_MS % 1000) * 1000000L },
	};

	if (d->accept_rest_armed)
		return 0;
	if (timerfd_settime(d->accept_rest_fd, 0, &t, NULL))
		return -errno;
	d->accept_rest_armed = true;
	return 0;
}

bool om_accept_rest(struct om_hostd *d, const char *what, int err, struct om_watch **w,
		    bool *resting)
{
	/* Without the timer (tests, fuzzers) nothing would wake it: it goes on as before. */
	if (d->accept_rest_fd < 0 || om_accept_arm(d))
		return false;
	om_loop_unwatch(d->loop, *w);
	*w = NULL;
	*resting = true;
	om_log_limited(&d->accept_log, &d->accept_log_suppressed,
		       "%s: cannot accept a connection: %s; accepting again in %d ms", what,
		       strerror(err), OM_HOSTD_ACCEPT_REST_MS);
	return true;
}

static void om_accept_rest_over(void *data, int revents)
{
	struct om_hostd *d = data;
	uint64_t ticks;
	bool again = false;

	(void)revents;
	if (read(d->accept_rest_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		om_log("accept timer: %s", strerror(errno));
	d->accept_rest_armed = false;
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		struct om_node *n = om_hostd_node(d, id);

		if (n && n->accept_resting && om_node_listen(n))
			again = true;
	}
	if (d->control_accept_resting && om_control_listen(d))
		again = true;
	/* Watching needs memory too: without it, another rest. */
	if (again) {
		int e = om_accept_arm(d);

		if (e)
			om_log("accept timer: %s", strerror(-e));
	}
}

int om_accept_open(struct om_hostd *d)
{
	d->accept_rest_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->accept_rest_fd < 0)
		return -errno;
	return om_loop_watch(d->loop, d->accept_rest_fd, POLLIN, om_accept_rest_over, d,
			     &d->accept_rest_w);
}

void om_accept_close(struct om_hostd *d)
{
	if (d->accept_rest_fd < 0)
		return;
	om_loop_unwatch(d->loop, d->accept_rest_w);
	close(d->accept_rest_fd);
	d->accept_rest_fd = -1;
}
