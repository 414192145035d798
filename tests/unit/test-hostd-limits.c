// SPDX-License-Identifier: GPL-2.0-only
/*
 * omhostd as a process, its guards and limits (tests/support/hostd-fixture):
 * who may connect (SO_PEERCRED) and who sees trace payloads, the back-off
 * after evictions, rate-limited logs, RLIMIT_NOFILE, and what a receiver that
 * takes nothing costs the others: its queue, then the unresponsive rule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "hostd-fixture.h"

/* ------------------------------------------------------------------ */
/* 11. Who may connect, what a listener sees, back-off, log, fds       */

#define NOBODY 65534u

/*
 * Lets another user reach the sockets, as far as the file system goes:
 * what is tested is omhostd's own check, not the directory's permissions.
 */
static void open_up_sockets(const struct fx *fx)
{
	char path[128];

	assert_int_equal(chmod(fx->dir, 0755), 0);
	for (uint32_t n = 1; n <= NODES; n++) {
		node_path(fx, n, path, sizeof(path));
		assert_int_equal(chmod(path, 0777), 0);
	}
	ctl_path(fx, path, sizeof(path));
	assert_int_equal(chmod(path, 0777), 0);
}

/* In a forked child: becomes uid and gid NOBODY, with no other group. */
static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(120);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether omhostd closes fd within ms (it read nothing from us). */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* The exit status of a child that ran fn(fx) and exited with its result. */
static int in_child(struct fx *fx, int (*fn)(struct fx *fx))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(fx));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* As NOBODY: connects to node's socket; 0 when omhostd closes it at once, 1 when not. */
static int nobody_connects_to(struct fx *fx, uint32_t node)
{
	char path[128];
	int fd;

	become_nobody();
	node_path(fx, node, path, sizeof(path));
	fd = unix_connect(path);
	if (fd < 0)
		return 2;
	return closed_within(fd, 3000) ? 0 : 1;
}

static int nobody_connects(struct fx *fx)
{
	return nobody_connects_to(fx, 1);
}

static int nobody_connects_2(struct fx *fx)
{
	return nobody_connects_to(fx, 2);
}

/* Node NODE's log says uid 65534 was refused, and counts it; nothing connected. */
static void expect_nobody_refused(struct fx *fx, unsigned int node, long mark)
{
	char want[64], line[1024];
	struct nstat s;

	snprintf(want, sizeof(want), "node %u: refused a front-end of uid 65534", node);
	expect_logged(fx, mark, want, line, sizeof(line));
	assert_non_null(strstr(line, "only uid 0 or root may connect"));
	get_nstat(fx, node, &s);
	assert_int_equal(s.unauthorized, 1);
	assert_int_equal(s.connects, 0);
}

static void front_ends_of_another_user_refused(void **state)
{
	struct fx *fx = *state;
	long mark;

	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx); /* as root: root's front-ends (and only root's) are allowed */
	open_up_sockets(fx);
	mark = log_mark(fx);
	assert_int_equal(in_child(fx, nobody_connects), 0);
	expect_nobody_refused(fx, 1, mark);
	/* The allowed user's front-end is served as ever. */
	up_all(fx, NULL);
	check_relay(fx, 1, 2, 100);
	finish(fx);
}

static void front_ends_of_the_allowed_user_served(void **state)
{
	struct fx *fx = *state;
	struct nstat s;
	long mark;

	/* Node 1's front-end is nobody's; the others' stay root's. */
	fx->args[2] = "--allow-uid";
	fx->args[3] = "1=65534";
	hostd_start(fx);
	open_up_sockets(fx);
	assert_int_equal(in_child(fx, nobody_connects), 1);
	wait_state(fx, 1, "absent");
	get_nstat(fx, 1, &s);
	assert_int_equal(s.unauthorized, 0);
	assert_int_equal(s.connects, 1);
	mark = log_mark(fx);
	assert_int_equal(in_child(fx, nobody_connects_2), 0);
	expect_nobody_refused(fx, 2, mark);
	/* Root's still are. */
	up_all(fx, NULL);
	check_relay(fx, 2, 1, 100);
	finish(fx);
}

/* Asks for a trace with payloads on fd; the answer line in buf. */
static int ask_trace(struct fx *fx, char *buf, size_t cap)
{
	static const char req[] = "trace snaplen=1000\n";
	char path[128];
	size_t have = 0;
	int fd;

	ctl_path(fx, path, sizeof(path));
	fd = unix_connect(path);
	if (fd < 0 || send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
		return -1;
	/* The ring's fd comes with the line: recv without room for it discards it. */
	while (have < cap - 1 && !memchr(buf, '\n', have)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) != 1)
			break;
		n = recv(fd, buf + have, cap - 1 - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return fd;
}

/* As NOBODY: 0 when the trace answer gives headers only, 1 when payloads, 2 on error. */
static int nobody_traces(struct fx *fx)
{
	char buf[256];
	int fd;

	become_nobody();
	fd = ask_trace(fx, buf, sizeof(buf));
	if (fd < 0 || strncmp(buf, "ok trace ", 9))
		return 2;
	if (strstr(buf, " snaplen=0 ") && strstr(buf, " payloads=refused\n"))
		return 0;
	return strstr(buf, " snaplen=1000 ") && !strstr(buf, "payloads=") ? 1 : 2;
}

static void trace_payloads_only_for_root_or_the_group(void **state)
{
	struct fx *fx = *state;
	char buf[4096], line[1024];
	long mark;
	int fd;
	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx);
	open_up_sockets(fx);
	mark = log_mark(fx);
	assert_int_equal(in_child(fx, nobody_traces), 0);
	expect_logged(fx, mark, "trace: listener attached (snaplen 0,", line, sizeof(line));
	assert_non_null(strstr(line, "payloads refused, headers only"));
	hostd_status(fx, buf, sizeof(buf));
	assert_int_equal(field_u64(buf, "trace_payloads_refused"), 1);
	/* Root gets what it asks for. */
	fd = ask_trace(fx, buf, sizeof(buf));
	assert_true(fd >= 0);
	assert_non_null(strstr(buf, " snaplen=1000 "));
	assert_null(strstr(buf, "payloads="));
	close(fd);
	finish(fx);
}

static void trace_payloads_for_the_trace_group(void **state)
{
	struct fx *fx = *state;
	char buf[4096];

	fx->args[2] = "--trace-group";
	fx->args[3] = "65534";
	hostd_start(fx);
	open_up_sockets(fx);
	assert_int_equal(in_child(fx, nobody_traces), 1);
	hostd_status(fx, buf, sizeof(buf));
	assert_int_equal(field_u64(buf, "trace_payloads_refused"), 0);
	finish(fx);
}

/*
 * A front-end on node 3 that breaks a rule at once; waits for its eviction.
 * Returns the log's mark before it.
 */
static long evicted_at_once(struct fx *fx)
{
	struct vuf_opts small = fe_default_opts();
	long mark = log_mark(fx);

	small.region_size = 4u << 20;
	small.rx_bufs = 4;
	small.tx_slots = 4;
	fe_open(fx, 3, &small);
	wait_state(fx, 3, "connected");
	request_unknown(fx->f[3]);
	assert_int_equal(vuf_wait_disconnect(fx->f[3], FE_TIMEOUT_MS), 0);
	fe_drop(fx, 3);
	expect_evicted_for(fx, mark, 3, "refused vhost-user request 999");
	return mark;
}

/* The eviction logged after mark says how long reconnects are refused. */
static void backoff_logged(const struct fx *fx, long mark, unsigned int ms)
{
	char want[96];

	snprintf(want, sizeof(want), "; reconnects refused for %u ms", ms);
	assert_int_equal(count_logged(fx, mark, want), 1);
}

/* Whether a front-end on node 3 is turned away now, as backing off after n evictions. */
static void reconnect_refused(struct fx *fx, unsigned int evictions, uint64_t refused)
{
	char path[128], want[96], line[1024];
	long mark = log_mark(fx);
	struct nstat s;
	int fd;

	node_path(fx, 3, path, sizeof(path));
	fd = unix_connect(path);
	assert_true(fd >= 0);
	assert_true(closed_within(fd, FE_TIMEOUT_MS));
	close(fd);
	snprintf(want, sizeof(want), "node 3: refused a reconnect: backing off after %u eviction",
		 evictions);
	expect_logged(fx, mark, want, line, sizeof(line));
	get_nstat(fx, 3, &s);
	assert_int_equal(s.backoff_refused, refused);
	assert_int_equal(s.evictions, evictions);
	assert_int_equal(s.connects, evictions);
}

static void reconnects_back_off_after_evictions(void **state)
{
	struct fx *fx = *state;
	int64_t t;
	long mark;

	/* 2 s, doubling (1 s by default): room for a loaded machine's delays. */
	fx->args[1] = "2000";
	hostd_start(fx);
	fe_up(fx, 1, NULL);
	fe_up(fx, 2, NULL);
	mark = evicted_at_once(fx);
	t = mono_ms();
	reconnect_refused(fx, 1, 1);
	reconnect_refused(fx, 1, 2);
	backoff_logged(fx, mark, 2000);
	usleep((useconds_t)(2000 - (mono_ms() - t) + 100) * 1000);
	/* Served again once it is over; evicted again, it waits twice as long. */
	mark = evicted_at_once(fx);
	t = mono_ms();
	usleep(2100 * 1000);
	reconnect_refused(fx, 2, 3);
	backoff_logged(fx, mark, 4000);
	usleep((useconds_t)(4000 - (mono_ms() - t) + 100) * 1000);
	fe_up(fx, 3, NULL);
	finish(fx);
}

/* The highest fd omhostd has open. */
static int hostd_top_fd(const struct fx *fx)
{
	char path[64];
	struct dirent *e;
	int top = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)fx->pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) > top)
			top = atoi(e->d_name);
	closedir(d);
	return top;
}

/* CPU time omhostd has used, in ms (its threads' run time, from the scheduler). */
static long long hostd_cpu_ms(const struct fx *fx)
{
	char path[64];
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)fx->pid);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lld", &ns), 1);
	fclose(f);
	return ns / 1000000;
}

/*
 * With no fd left to accept with, a connection waiting on a listening
 * socket keeps it readable: polled again at once (the loop's polls are
 * level-triggered), omhostd spun on accept() taking all the CPU it got,
 * and said nothing. The socket rests instead (100 ms at a time, logged at
 * the log's rate), and is served again once fds are free.
 */
static void out_of_fds_listening_sockets_rest(void **state)
{
	struct fx *fx = *state;
	struct rlimit tight, old;
	char path[128], line[1024];
	long long cpu;
	int node_fd, ctl_fd;
	long mark;
	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx);
	mark = log_mark(fx);
	/* The soft limit only: raising it back needs no privilege. */
	assert_int_equal(prlimit(fx->pid, RLIMIT_NOFILE, NULL, &old), 0);
	tight = (struct rlimit){ .rlim_cur = (rlim_t)hostd_top_fd(fx) + 1, .rlim_max = old.rlim_max };
	assert_int_equal(prlimit(fx->pid, RLIMIT_NOFILE, &tight, NULL), 0);
	node_path(fx, 1, path, sizeof(path));
	node_fd = unix_connect(path);
	ctl_path(fx, path, sizeof(path));
	ctl_fd = unix_connect(path);
	assert_true(node_fd >= 0 && ctl_fd >= 0);
	expect_logged(fx, mark, "node 1: cannot accept a connection: Too many open files; "
		      "accepting again in 100 ms", line, sizeof(line));
	expect_logged(fx, mark, "control: cannot accept a connection: Too many open files; "
		      "accepting again in 100 ms", line, sizeof(line));
	cpu = hostd_cpu_ms(fx);
	usleep(1000 * 1000);
	cpu = hostd_cpu_ms(fx) - cpu;
	/* Resting, it wakes 10 times a second; spinning, it takes whatever CPU it gets. */
	if (cpu > 100)
		fail_msg("omhostd used %lld ms of CPU in 1 s with connections it cannot accept: "
			 "it does not rest its listening sockets", cpu);
	close(node_fd);
	close(ctl_fd);
	assert_int_equal(prlimit(fx->pid, RLIMIT_NOFILE, &old, NULL), 0);
	up_all(fx, NULL);
	check_relay(fx, 1, 2, 100);
	finish(fx);
}

/*
 * A front-end that makes omhostd log a line each time it connects (here:
 * a second front-end on a node in use) fills no log: 10 lines, then the
 * rest counted as suppressed.
 */
static void log_lines_a_front_end_causes_are_limited(void **state)
{
	struct fx *fx = *state;
	char path[128];
	struct nstat s;
	long mark;
	fx->args[0] = NULL; /* no evictions here */

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	node_path(fx, 1, path, sizeof(path));
	mark = log_mark(fx);
	for (int i = 0; i < 40; i++) {
		int fd = unix_connect(path);

		assert_true(fd >= 0);
		assert_true(closed_within(fd, FE_TIMEOUT_MS));
		close(fd);
	}
	get_nstat(fx, 1, &s);
	assert_int_equal(count_logged(fx, mark, "node 1: refused a second front-end"), 10);
	assert_int_equal(s.log_suppressed, 30);
	assert_int_equal(s.connects, 1);
	finish(fx);
}

/* omhostd's RLIMIT_NOFILE, soft and hard, from /proc. */
static void hostd_nofile(const struct fx *fx, unsigned long long *soft, unsigned long long *hard)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)fx->pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "Max open files %llu %llu", soft, hard) == 2;
	fclose(f);
	assert_true(found);
}

/* nodes 1-3: 64 + 3 * 24 fds. */
#define NOFILE_NEED 136ull

static void open_files_limit_raised(void **state)
{
	struct fx *fx = *state;
	unsigned long long soft, hard;
	char line[1024];
	fx->args[0] = NULL; /* no evictions here */

	fx->set_nofile = true;
	fx->nofile = (struct rlimit){ .rlim_cur = 40, .rlim_max = 4096 };
	hostd_start(fx);
	hostd_nofile(fx, &soft, &hard);
	assert_int_equal(soft, NOFILE_NEED);
	assert_int_equal(hard, 4096);
	expect_logged(fx, 0, "RLIMIT_NOFILE: soft limit raised from 40 to 136", line, sizeof(line));
	assert_int_equal(count_logged(fx, 0, "hard limit"), 0);
	hostd_stop(fx);
	/* A hard limit too low: raised to it, and said. */
	fx->nofile = (struct rlimit){ .rlim_cur = 40, .rlim_max = 100 };
	hostd_start(fx);
	hostd_nofile(fx, &soft, &hard);
	assert_int_equal(soft, 100);
	assert_int_equal(hard, 100);
	expect_logged(fx, 0, "RLIMIT_NOFILE: hard limit 100 is below the 136 fds 3 nodes may need",
		      line, sizeof(line));
	finish(fx);
}


/*
 * omhostd started (fx->args), nodes 1-3 up, every NODE_UP read but node
 * 2's (it posts no rx buffer until told); node 1 sends node 2 a message,
 * which waits, then node 3 one, which must come (how soon is the rule the
 * test checks). Returns omhostd's log mark from before the messages.
 */
static long up_with_node2_not_draining(struct fx *fx)
{
	struct vuf_opts ro = fe_default_opts();
	struct msg m;
	long mark;

	hostd_start(fx);
	fe_up(fx, 1, NULL);
	ro.flags = VUF_O_MANUAL_RX; /* node 2 posts no rx buffer until told */
	ro.rx_bufs = 8;
	fe_up(fx, 2, &ro);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);
	fe_up(fx, 3, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 2, VIRTIO_OM_NODE_JOINED);

	mark = log_mark(fx);
	send_data(fx, 1, 2, 100, NULL);
	wait_waiting(fx, 1, true);
	send_data(fx, 1, 3, 100, NULL);
	expect_data_from(fx, 3, 1, &m);
	return mark;
}

/*
 * A receiver that takes nothing holds up a sender only for a while: its
 * sender's next message, to another node, waits behind the one for it
 * (tx is in order) until --unresponsive-ms; then the receiver is marked
 * unresponsive, what is for it is dropped and counted, the rest flows,
 * and once it posts buffers it is served again.
 */
static void an_unresponsive_receiver_holds_up_no_one_for_long(void **state)
{
	struct fx *fx = *state;
	char line[1024];
	struct nstat s1, s2;
	long mark;

	fx->args[2] = "--unresponsive-ms";
	fx->args[3] = "500";
	/* Node 3's message comes, within the time-out (and a tick) plus slack. */
	mark = up_with_node2_not_draining(fx);
	expect_logged(fx, mark, "node 2 unresponsive: took no message for ", line, sizeof(line));
	assert_non_null(strstr(line, "while 1 sender waited"));
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.unresponsive, 1);
	assert_int_equal(s2.dropped_unresponsive, 1);
	/* What comes for it now is dropped at once; the rest flows. */
	send_data(fx, 1, 2, 100, NULL);
	fx->got[3][1] = fx->sent[1][3];
	check_relay(fx, 1, 3, 100);
	get_nstat(fx, 1, &s1);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.dropped_unresponsive, 2);
	assert_int_equal(s1.undeliverable, 2);
	assert_false(s1.waiting);

	/* Buffers at last: its events, then it is served again. */
	mark = log_mark(fx);
	assert_int_equal(vuf_rx_fill(fx->f[2]), 0);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_logged(fx, mark, "node 2 responsive again (2 messages to it dropped so far)", line,
		      sizeof(line));
	fx->got[2][1] = fx->sent[1][2]; /* the two dropped */
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 3, 2, 100);
	finish(fx);
}

/*
 * A receiver that does not drain costs only the messages sent to it: once
 * it took nothing for --queue-after-ms while a sender waited, its queue
 * opens (logged), what waits for it moves in, and its senders go on with
 * their other traffic at once (before queues they waited for
 * --unresponsive-ms, 30 s). A sender's share of the queue (a quarter)
 * full, that sender waits (queue_full); another still has its share.
 * Once it drains, it gets every message, each sender's in order.
 */
static void a_receiver_that_does_not_drain_costs_only_its_messages(void **state)
{
	struct fx *fx = *state;
	unsigned int from[NODES + 1] = { 0 };
	char line[1024];
	struct nstat s1, s2, s3;
	struct msg m;
	long mark;

	fx->args[2] = "--queue-after-ms";
	fx->args[3] = "200";
	fx->args[4] = "--queue-msgs";
	fx->args[5] = "8";
	mark = up_with_node2_not_draining(fx);
	expect_logged(fx, mark, "node 2 not draining: took no message for ", line, sizeof(line));
	assert_non_null(strstr(line, "messages for it are queued (up to 4194304 bytes, 8 messages)"));
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 1);
	assert_int_equal(s2.queued_total, 1);
	assert_int_equal(s2.unresponsive, 0);
	/* Its share (2 of 8) full, node 1 waits for node 2 again. */
	send_data(fx, 1, 2, 100, NULL);
	send_data(fx, 1, 2, 100, NULL);
	wait_waiting(fx, 1, true);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 2);
	assert_int_equal(s2.queue_full, 1);
	/* Node 3 has its own share: it goes on. */
	send_data(fx, 3, 2, 200, NULL);
	send_data(fx, 3, 2, 200, NULL);
	check_relay(fx, 3, 1, 300);
	get_nstat(fx, 3, &s3);
	assert_false(s3.waiting);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 4);

	/* Buffers at last: its events, then all five, each sender's in order. */
	assert_int_equal(vuf_rx_fill(fx->f[2]), 0);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 2, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	for (int i = 0; i < 5; i++) {
		expect_any_data(fx, 2, VIRTIO_OM_T_TEST_DATA, &m);
		from[m.src]++;
	}
	assert_int_equal(from[1], 3);
	assert_int_equal(from[3], 2);
	wait_waiting(fx, 1, false);
	get_nstat(fx, 1, &s1);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 0);
	assert_int_equal(s2.queued_total, 4);
	assert_int_equal(s2.queue_dropped, 0);
	assert_int_equal(s1.undeliverable, 0);
	check_relay(fx, 1, 2, 100);
	check_relay(fx, 1, 3, 100);
	finish(fx);
}

/*
 * Front-ends that go while messages wait in a queue: node 3, whose
 * messages wait in node 2's queue, hangs up (they are dropped, node 1's
 * stays), then node 2, the queue's owner (the rest goes). Each drop is
 * counted, and omhostd serves on and stops with 0. Also run against
 * bench's omhostd-notrace (tests/meson.build), the baseline of tracing's
 * cost, which was reported to crash in om_queue_drop on a disconnect.
 */
static void front_ends_that_go_with_messages_queued(void **state)
{
	struct fx *fx = *state;
	char line[1024];
	struct nstat s1, s2, s3;
	long mark;

	fx->args[2] = "--queue-after-ms";
	fx->args[3] = "200";
	mark = up_with_node2_not_draining(fx);
	expect_logged(fx, mark, "node 2 not draining: took no message for ", line, sizeof(line));
	send_data(fx, 3, 2, 200, NULL);
	send_data(fx, 3, 2, 200, NULL);
	check_relay(fx, 3, 1, 300); /* after its two in its ring: they are queued by now */
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 3);

	vuf_disconnect(fx->f[3]);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 3, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, 3, "absent");
	hostd_alive(fx);
	get_nstat(fx, 2, &s2);
	get_nstat(fx, 3, &s3);
	assert_int_equal(s2.queued, 1);
	assert_int_equal(s2.queue_dropped, 2);
	assert_int_equal(s3.undeliverable, 2);
	fe_drop(fx, 3);

	vuf_disconnect(fx->f[2]);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_DOWN, 2, VIRTIO_OM_NODE_DISCONNECTED);
	wait_state(fx, 2, "absent");
	hostd_alive(fx);
	get_nstat(fx, 1, &s1);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 0);
	assert_int_equal(s2.queue_dropped, 3);
	assert_int_equal(s1.undeliverable, 1);
	fe_drop(fx, 2);

	/* A new guest on node 3: node 1 is served as before. */
	fe_up(fx, 3, NULL);
	expect_event(fx, 1, VIRTIO_OM_T_NODE_UP, 3, VIRTIO_OM_NODE_JOINED);
	expect_event(fx, 3, VIRTIO_OM_T_NODE_UP, 1, VIRTIO_OM_NODE_JOINED);
	check_relay(fx, 1, 3, 1000);
	check_relay(fx, 3, 1, 1000);
	finish(fx);
}

/*
 * omhostd told to stop while a queue holds messages of two senders and
 * every front-end is still there: it frees them and ends with status 0
 * (under the sanitizers, LeakSanitizer's verdict included).
 */
static void stopped_with_messages_queued(void **state)
{
	struct fx *fx = *state;
	char line[1024];
	struct nstat s2;
	long mark;

	fx->args[2] = "--queue-after-ms";
	fx->args[3] = "200";
	mark = up_with_node2_not_draining(fx);
	expect_logged(fx, mark, "node 2 not draining: took no message for ", line, sizeof(line));
	send_data(fx, 3, 2, 200, NULL);
	check_relay(fx, 3, 1, 300);
	get_nstat(fx, 2, &s2);
	assert_int_equal(s2.queued, 2);
	hostd_stop(fx);
	for (uint32_t n = 1; n <= NODES; n++)
		fe_drop(fx, n);
	fx->done = true;
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(front_ends_of_another_user_refused),
		T(front_ends_of_the_allowed_user_served),
		T(trace_payloads_only_for_root_or_the_group),
		T(trace_payloads_for_the_trace_group),
		T(reconnects_back_off_after_evictions),
		T(log_lines_a_front_end_causes_are_limited),
		T(open_files_limit_raised),
		T(out_of_fds_listening_sockets_rest),
		T(an_unresponsive_receiver_holds_up_no_one_for_long),
		T(a_receiver_that_does_not_drain_costs_only_its_messages),
		T(front_ends_that_go_with_messages_queued),
		T(stopped_with_messages_queued),
	};
#undef T

	return hf_run("test-hostd-limits", tests, sizeof(tests) / sizeof(tests[0]));
}
