// SPDX-License-Identifier: GPL-2.0-only
/* omhostd: the virtio-om host relay. See omhostd.h and docs/omhostd.md. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <systemd/sd-daemon.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "args.h"
#include "omhostd.h"

struct om_signals {
	struct om_hostd *d;
	int fd;
	struct om_watch *w;
};

static void om_signal_fired(void *data, int revents)
{
	struct om_signals *s = data;
	struct signalfd_siginfo si;

	(void)revents;
	if (read(s->fd, &si, sizeof(si)) == sizeof(si)) {
		om_log("signal %u: stopping", si.ssi_signo);
		s->d->stop = true;
	}
}

static void om_grace_over(void *data, int revents)
{
	struct om_hostd *d = data;

	(void)revents;
	om_loop_unwatch(d->loop, d->grace_w);
	close(d->grace_fd);
	d->grace_fd = -1;
	om_relay_grace_over(d);
	om_links_grace_over(d);
	om_hostd_settle(d);
}

static void om_responsive_tick(void *data, int revents)
{
	struct om_hostd *d = data;
	uint64_t ticks;

	(void)revents;
	if (read(d->responsive_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		om_log("unresponsive-receiver timer: %s", strerror(errno));
	om_relay_check_responsive(d, om_now_ms());
	om_hostd_settle(d);
}

/*
 * Looks for receivers to give a queue (--queue-after-ms) or to mark
 * unresponsive (--unresponsive-ms) a few times per the shorter time (so
 * either comes at most a quarter late), at least once a second.
 */
static int om_responsive_start(struct om_hostd *d)
{
	bool queues = d->cfg.queue_msgs && d->cfg.queue_bytes;
	unsigned int ms = d->cfg.unresponsive_ms;
	struct itimerspec t;

	if (queues && (!ms || d->cfg.queue_after_ms < ms))
		ms = d->cfg.queue_after_ms;
	if (!d->cfg.unresponsive_ms && !queues)
		return 0;
	ms /= 4;
	if (ms < 25)
		ms = 25;
	if (ms > 1000)
		ms = 1000;
	t.it_value = t.it_interval =
		(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	d->responsive_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->responsive_fd < 0 || timerfd_settime(d->responsive_fd, 0, &t, NULL))
		return -errno;
	return om_loop_watch(d->loop, d->responsive_fd, POLLIN, om_responsive_tick, d,
			     &d->responsive_w);
}

/* Ends the start-up grace (omhostd.h) with a one-shot timer. */
static int om_grace_start(struct om_hostd *d)
{
	unsigned int ms = d->cfg.grace_ms ? d->cfg.grace_ms : 1; /* 0: over at once */
	struct itimerspec t = { .it_value = { .tv_sec = ms / 1000,
					      .tv_nsec = (ms % 1000) * 1000000L } };

	d->grace_until_ms = om_now_ms() + d->cfg.grace_ms;
	d->grace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->grace_fd < 0 || timerfd_settime(d->grace_fd, 0, &t, NULL))
		return -errno;
	return om_loop_watch(d->loop, d->grace_fd, POLLIN, om_grace_over, d, &d->grace_w);
}

/*
 * Raises the soft limit on open files to what the nodes served may need
 * (each holds its sockets, timers, eventfds and the fds of a message in
 * transit), up to the hard limit; says so when the hard limit is short,
 * since front-ends would then be refused for want of fds (EMFILE).
 */
static void om_hostd_raise_nofile(const struct om_hostd *d)
{
	rlim_t need = OM_HOSTD_FDS_BASE +
		      (rlim_t)OM_HOSTD_FDS_PER_NODE * (d->cfg.last_node - d->cfg.first_node + 1);
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		om_log("RLIMIT_NOFILE: cannot read it: %s", strerror(errno));
		return;
	}
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		om_log("RLIMIT_NOFILE: hard limit %llu is below the %llu fds %u nodes may need: "
		       "some front-ends may be refused (raise it: ulimit -Hn, LimitNOFILE=)",
		       (unsigned long long)rl.rlim_max, (unsigned long long)need,
		       d->cfg.last_node - d->cfg.first_node + 1);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
		return;
	was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
	if (rl.rlim_cur <= was)
		return;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		om_log("RLIMIT_NOFILE: cannot raise the soft limit to %llu: %s",
		       (unsigned long long)rl.rlim_cur, strerror(errno));
	else
		om_log("RLIMIT_NOFILE: soft limit raised from %llu to %llu", (unsigned long long)was,
		       (unsigned long long)rl.rlim_cur);
}

/* Does nothing: being caught without SA_RESTART is what ends a waiting call. */
static void om_watchdog_tick(int sig)
{
	(void)sig;
}

/*
 * Every OM_HOSTD_WATCHDOG_MS a signal ends whatever system call waits:
 * libvhost-user reads and writes a front-end's eventfds, which that
 * front-end can make blocking at any time (the flags are shared). The
 * call then fails, libvhost-user panics and that front-end is evicted;
 * the loop's own wait just goes round.
 */
static int om_watchdog_start(void)
{
	struct sigaction sa = { .sa_handler = om_watchdog_tick };
	struct itimerval it = { .it_interval = { 0, OM_HOSTD_WATCHDOG_MS * 1000 },
				.it_value = { 0, OM_HOSTD_WATCHDOG_MS * 1000 } };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return -errno;
	return 0;
}

static int om_hostd_start(struct om_hostd *d, struct om_signals *sig)
{
	struct stat st;
	sigset_t set;
	int err;

	if (stat(d->cfg.dir, &st) || !S_ISDIR(st.st_mode)) {
		om_log("--dir %s: not a directory", d->cfg.dir);
		return -ENOTDIR;
	}
	om_hostd_raise_nofile(d);
	err = om_loop_new(&d->loop);
	if (err) {
		om_log("io_uring setup failed: %s", strerror(-err));
		return err;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig->d = d;
	sig->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig->fd < 0)
		return -errno;
	err = om_loop_watch(d->loop, sig->fd, POLLIN, om_signal_fired, sig, &sig->w);
	if (err)
		return err;
	err = om_accept_open(d);
	if (err) {
		om_log("accept timer: %s", strerror(-err));
		return err;
	}
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++) {
		err = om_node_open(d, id);
		if (err) {
			om_log("node %u: cannot listen in %s: %s", id, d->cfg.dir, strerror(-err));
			return err;
		}
		d->n_served++;
	}
	err = om_control_open(d);
	if (err) {
		om_log("control socket in %s: %s", d->cfg.dir, strerror(-err));
		return err;
	}
	err = om_links_open(d);
	if (err) {
		om_log("links to peers: %s", strerror(-err));
		return err;
	}
	err = om_grace_start(d);
	if (err) {
		om_log("start-up timer: %s", strerror(-err));
		return err;
	}
	err = om_responsive_start(d);
	if (err) {
		om_log("unresponsive-receiver timer: %s", strerror(-err));
		return err;
	}
	err = om_watchdog_start();
	if (err)
		om_log("watchdog timer: %s", strerror(-err));
	return err;
}

static void om_hostd_stop(struct om_hostd *d, struct om_signals *sig)
{
	for (uint32_t id = d->cfg.first_node; id <= d->cfg.last_node; id++)
		om_node_close(om_hostd_node(d, id));
	om_links_close(d); /* after the nodes: their going down tells the links */
	om_control_close(d);
	om_accept_close(d);
	if (d->grace_fd >= 0) {
		om_loop_unwatch(d->loop, d->grace_w);
		close(d->grace_fd);
	}
	if (d->responsive_fd >= 0) {
		om_loop_unwatch(d->loop, d->responsive_w);
		close(d->responsive_fd);
	}
	if (sig->fd >= 0) {
		om_loop_unwatch(d->loop, sig->w);
		close(sig->fd);
	}
	om_loop_free(d->loop);
}

/*
 * Every node socket listens and the control socket answers: tell systemd
 * (Type=notify), so that units ordered after omhostd, libvirtd's guests,
 * start against a serving relay.
 */
static void om_hostd_notify_ready(const struct om_hostd *d)
{
	int err = sd_notifyf(0, "READY=1\nSTATUS=serving nodes %u-%u in %s", d->cfg.first_node,
			     d->cfg.last_node, d->cfg.dir);

	if (err < 0)
		om_log("cannot tell systemd omhostd is ready: %s", strerror(-err));
}

int main(int argc, char **argv)
{
	struct om_hostd d = { .control_fd = -1, .grace_fd = -1, .responsive_fd = -1,
			      .accept_rest_fd = -1 };
	struct om_signals sig = { .fd = -1 };
	char err[256];
	int rc = 0;

	switch (om_hostd_parse_args(argc, argv, &d.cfg, err, sizeof(err))) {
	case OM_HOSTD_RUN:
		break;
	case OM_HOSTD_HELP:
		fputs(om_hostd_usage, stdout);
		return 0;
	case OM_HOSTD_VERSION:
		printf("omhostd %s, virtio-om protocol %u\n", OM_VERSION, VIRTIO_OM_PROTOCOL_VERSION);
		return 0;
	default:
		fprintf(stderr, "omhostd: %s\n%s", err, om_hostd_usage);
		return 2;
	}
	/*
	 * Link messages (up to 64 KiB each, copied into outboxes and held
	 * for guests) are allocated and freed in turn: with glibc's default
	 * 128 KiB trim threshold each free gave the heap's top back to the
	 * kernel and the next allocation faulted it in again, page by page
	 * (a quarter of a receiving relay's time in link-bench). What the
	 * links hold is bounded (outboxes, credits), so keep what was used.
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (om_hostd_start(&d, &sig)) {
		rc = 1;
	} else {
		om_log("serving nodes %u-%u in %s", d.cfg.first_node, d.cfg.last_node, d.cfg.dir);
		om_hostd_notify_ready(&d);
		while (!d.stop) {
			/* Rings left with messages: look at the other events, then go on. */
			int e = om_loop_run_once(d.loop, d.more_work ? 0 : -1);

			if (e) {
				om_log("event loop: %s", strerror(-e));
				rc = 1;
				break;
			}
			if (d.more_work)
				om_hostd_settle(&d);
		}
	}
	/* Without NOTIFY_SOCKET (not under systemd) sd_notify() does nothing. */
	if (sd_notify(0, "STOPPING=1") < 0)
		om_log("cannot tell systemd omhostd stops");
	om_hostd_stop(&d, &sig);
	return rc;
}
