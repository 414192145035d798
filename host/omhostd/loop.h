/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omhostd's event loop: readiness of file descriptors (sockets, kick
 * eventfds, signals) reported through io_uring poll requests. One loop,
 * one thread; callbacks run from om_loop_run_once().
 */
#ifndef OM_HOSTD_LOOP_H
#define OM_HOSTD_LOOP_H

#include <stdbool.h>

struct om_loop;
struct om_watch;

/* Called with the poll events (POLLIN...) that fired, or a -errno. */
typedef void (*om_watch_cb)(void *data, int revents);

/* 0 or -errno. */
int om_loop_new(struct om_loop **out);
void om_loop_free(struct om_loop *l);

/*
 * Calls cb whenever fd shows one of events (level-triggered: an fd still
 * ready after cb returns fires again). 0 or -errno.
 */
int om_loop_watch(struct om_loop *l, int fd, unsigned int events, om_watch_cb cb, void *data,
		  struct om_watch **out);

/*
 * Stops a watch; its callback is not called again, even for events already
 * reported. Safe from inside any callback, including the watch's own. The
 * fd may be closed right after.
 */
void om_loop_unwatch(struct om_loop *l, struct om_watch *w);

/* Waits for at least one event (timeout_ms < 0: no limit) and runs the callbacks. 0 or -errno. */
int om_loop_run_once(struct om_loop *l, int timeout_ms);

#endif /* OM_HOSTD_LOOP_H */
