// SPDX-License-Identifier: GPL-2.0-only
/*
 * One-shot poll requests, re-armed after each callback: level-triggered,
 * so a callback that consumes only part of what is ready (one vhost-user
 * message of several) is called again. A watch is freed only when no
 * request for it is left in the ring. The re-armed requests go to the
 * kernel with the next wait (one system call a round); requests that must
 * be there at once (a new watch, whose fd its caller may close, and the
 * removal of one) are submitted at once.
 */
#include "loop.h"

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>

struct om_watch {
	struct om_watch *prev, *next; /* every watch not yet freed, for om_loop_free */
	int fd;
	unsigned int events;
	om_watch_cb cb;
	void *data;
	bool armed; /* a poll request for it is in the ring */
	bool dead;  /* unwatched: free once not armed */
};

struct om_loop {
	struct io_uring ring;
	struct om_watch *watches;
};

static void om_loop_link(struct om_loop *l, struct om_watch *w)
{
	w->next = l->watches;
	if (w->next)
		w->next->prev = w;
	l->watches = w;
}

static void om_loop_release(struct om_loop *l, struct om_watch *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		l->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w);
}

/* user_data of requests whose completion carries nothing to do. */
#define OM_LOOP_IGNORE 0

int om_loop_new(struct om_loop **out)
{
	struct om_loop *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	err = io_uring_queue_init(256, &l->ring, 0);
	if (err < 0) {
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void om_loop_free(struct om_loop *l)
{
	if (!l)
		return;
	/* The ring goes, and with it every request still in it. */
	io_uring_queue_exit(&l->ring);
	while (l->watches)
		om_loop_release(l, l->watches);
	free(l);
}

/* An SQE, submitting what is queued when the submission ring is full. */
static struct io_uring_sqe *om_loop_sqe(struct om_loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static int om_loop_arm(struct om_loop *l, struct om_watch *w)
{
	struct io_uring_sqe *sqe = om_loop_sqe(l);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, w->fd, w->events);
	io_uring_sqe_set_data(sqe, w);
	w->armed = true;
	return 0;
}

int om_loop_watch(struct om_loop *l, int fd, unsigned int events, om_watch_cb cb, void *data,
		  struct om_watch **out)
{
	struct om_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	*w = (struct om_watch){ .fd = fd, .events = events, .cb = cb, .data = data };
	err = om_loop_arm(l, w);
	if (err) {
		free(w);
		return err;
	}
	om_loop_link(l, w);
	/* Armed before the caller may close fd: the request holds the file. */
	io_uring_submit(&l->ring);
	if (out)
		*out = w;
	return 0;
}

void om_loop_unwatch(struct om_loop *l, struct om_watch *w)
{
	struct io_uring_sqe *sqe;

	if (!w || w->dead)
		return;
	w->dead = true;
	if (!w->armed)
		return; /* inside its own callback: freed when it returns */
	sqe = om_loop_sqe(l);
	if (sqe) {
		io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)w);
		io_uring_sqe_set_data64(sqe, OM_LOOP_IGNORE);
		io_uring_submit(&l->ring);
	}
	/* Freed when the cancelled (or already completed) poll's CQE is seen. */
}

static void om_loop_complete(struct om_loop *l, struct om_watch *w, int res)
{
	w->armed = false;
	if (!w->dead && res != -ECANCELED)
		w->cb(w->data, res);
	if (w->dead) {
		om_loop_release(l, w);
		return;
	}
	if (om_loop_arm(l, w)) {
		/* No room even after submitting: report it as an error event. */
		w->cb(w->data, -EBUSY);
	}
}

int om_loop_run_once(struct om_loop *l, int timeout_ms)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000,
					.tv_nsec = (long long)(timeout_ms % 1000) * 1000000 };
	struct io_uring_cqe *cqe;
	int err;

	err = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, timeout_ms < 0 ? NULL : &ts, NULL);
	if (err < 0 && err != -ETIME && err != -EINTR)
		return err;
	/*
	 * Callbacks may queue new requests, never reap: walk what is there
	 * now, then let the ring move on.
	 */
	for (;;) {
		struct om_watch *w;
		int res;

		if (io_uring_peek_cqe(&l->ring, &cqe) != 0)
			break;
		w = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&l->ring, cqe);
		if (w)
			om_loop_complete(l, w, res);
	}
	/* The re-armed polls are submitted by the next wait. */
	return 0;
}
