// SPDX-License-Identifier: GPL-2.0-only
/*
 * om-continue: what a process was doing goes on across a move, exactly as
 * if it had not moved. The end-to-end test moves it from outside, signals
 * it, and reads what it prints; each mode checks what it sees itself and
 * ends with status 0 only if every check held.
 *
 *   om-continue sleep KIND [FIFO]  blocked in a call, moved while blocked,
 *                                  then signalled, stopped and continued;
 *                                  KIND: nanosleep, futex, read (FIFO), pause
 *   om-continue clocks SECONDS     reads CLOCK_MONOTONIC and CLOCK_BOOTTIME
 *                                  in a loop: the largest step back and forward
 *   om-continue cputime NODE       a child computes at home and at NODE: its
 *                                  CPU time in times(), getrusage() and the
 *                                  parent's wait4()
 *   om-continue itimer NODE        ITIMER_VIRTUAL and ITIMER_PROF set at home
 *                                  fire at NODE, and back home
 *   om-continue sigmask NODE       a ppoll() with a signal mask, interrupted
 *                                  away, leaves the process's mask intact
 *   om-continue shared NODE        MAP_SHARED|MAP_ANONYMOUS memory it alone maps
 *                                  moves; shared with a child, it stays
 *   om-continue sandbox NODE       no_new_privs travels with it
 *   om-continue jobctl NODE        a child away is stopped and continued from
 *                                  home: its parent's waitpid(WUNTRACED /
 *                                  WCONTINUED) and /proc at home see it
 *   om-continue signalfd NODE      a signalfd at home reads the signals sent to
 *                                  it away; the other blocked ones stay pending;
 *                                  one held at home reaches it once unblocked
 *                                  away (sigprocmask, sigsuspend, sigtimedwait)
 *
 * The harness waits for the line "phase N" before acting on phase N.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "where.h"

static volatile sig_atomic_t usr1, usr2, vtalrm, prof, alrm;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2++;
}

static void on_vtalrm(int sig)
{
	(void)sig;
	vtalrm++;
}

static void on_prof(int sig)
{
	(void)sig;
	prof++;
}

static void on_alrm(int sig)
{
	(void)sig;
	alrm++;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL)) {
		perror("sigaction");
		exit(2);
	}
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int where_write(const char *node)
{
	return om_where_write(0, node);
}

static void where_read(char *buf, size_t size)
{
	if (om_hpc_read(0, "where", buf, size))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Moves itself and waits until it runs there (the move is at the next return). */
static int go(const char *node)
{
	char now[32];
	int err = where_write(node), i;

	if (err) {
		printf("where <- %s: %s\n", node, strerror(-err));
		return err;
	}
	for (i = 0; i < 3000; i++) {
		where_read(now, sizeof(now));
		if (!strcmp(now, node))
			return 0;
		usleep(10000);
	}
	printf("where stays %s, not %s\n", now, node);
	return -ETIMEDOUT;
}

static void phase(int n)
{
	printf("phase %d\n", n);
}

/* The errno of a failed call, or 0: restart codes (512..516) must never show. */
static int err_of(long rc)
{
	return rc < 0 ? errno : 0;
}

static long futex_wait(uint32_t *word, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, *word, timeout, NULL, 0);
}

/*
 * phase 1: blocked in the call; the harness moves it away while it is.
 * phase 2: the harness sends SIGUSR1 (handler, SA_RESTART), then SIGUSR2
 *          (handler, no SA_RESTART) where the call restarts on the first.
 * phase 3: the harness stops and continues it, then sends SIGUSR2.
 */
static void sleep_nanosleep(void)
{
	struct timespec ts = { 8, 0 }, rem = { 0, 0 };
	double t0 = mono_now(), took;
	long rc;

	phase(1);
	rc = nanosleep(&ts, &rem);
	took = mono_now() - t0;
	CHECK(rc == 0, "a sleep moved midway ends normally, got errno %d", err_of(rc));
	CHECK(took >= 8.0, "it slept its whole 8 s, took %.3f s", took);
	printf("slept 8 s in %.3f s, moved midway\n", took);

	phase(2);
	ts.tv_sec = 60;
	rc = nanosleep(&ts, &rem);
	CHECK(rc == -1 && errno == EINTR, "a handler ends a sleep with EINTR, got %ld errno %d",
	      rc, err_of(rc));
	CHECK(rem.tv_sec > 0 && rem.tv_sec < 60, "the time left is told, got %ld s", (long)rem.tv_sec);
	CHECK(usr1 == 1, "the handler ran once, ran %d", (int)usr1);

	phase(3);
	t0 = mono_now();
	ts.tv_sec = 6;
	rc = nanosleep(&ts, &rem);
	took = mono_now() - t0;
	CHECK(rc == 0, "stopped and continued, the sleep goes on, got errno %d", err_of(rc));
	CHECK(took >= 6.0, "and lasts its whole 6 s, took %.3f s", took);
}

static void sleep_futex(void)
{
	static uint32_t word;
	struct timespec ts = { 8, 0 };
	double t0 = mono_now(), took;
	long rc;

	phase(1);
	rc = futex_wait(&word, &ts);
	took = mono_now() - t0;
	CHECK(rc == -1 && errno == ETIMEDOUT, "a timed wait moved midway times out, got errno %d",
	      err_of(rc));
	CHECK(took >= 8.0, "after its whole 8 s, took %.3f s", took);
	printf("waited 8 s in %.3f s, moved midway\n", took);

	phase(2);
	rc = futex_wait(&word, NULL);
	CHECK(rc == -1 && errno == EINTR, "SIGUSR2 (no SA_RESTART) ends the wait with EINTR, got errno %d",
	      err_of(rc));
	CHECK(usr1 == 1 && usr2 == 1, "SIGUSR1 (SA_RESTART) restarted it: handlers ran %d and %d",
	      (int)usr1, (int)usr2);

	phase(3);
	rc = futex_wait(&word, NULL);
	CHECK(rc == -1 && errno == EINTR, "stopped, continued, then SIGUSR2: EINTR, got errno %d",
	      err_of(rc));
	CHECK(usr2 == 2, "SIGUSR2's handler ran, %d", (int)usr2);
}

static void sleep_read(const char *fifo)
{
	int fd = open(fifo, O_RDWR);
	char c = 0;
	long rc;

	if (fd < 0) {
		perror(fifo);
		exit(2);
	}
	phase(1);
	rc = read(fd, &c, 1);
	CHECK(rc == 1 && c == 'a', "a read moved midway gets what is written later, got %ld '%c' errno %d",
	      rc, c, err_of(rc));

	phase(2);
	rc = read(fd, &c, 1);
	CHECK(rc == 1 && c == 'b', "SIGUSR1 (SA_RESTART) restarts the read, got %ld '%c' errno %d",
	      rc, c, err_of(rc));
	CHECK(usr1 == 1, "its handler ran, %d", (int)usr1);

	phase(3);
	rc = read(fd, &c, 1);
	CHECK(rc == -1 && errno == EINTR, "stopped, continued, then SIGUSR2: EINTR, got %ld errno %d",
	      rc, err_of(rc));
	close(fd);
}

static void sleep_pause(void)
{
	long rc;

	phase(1);
	rc = pause();
	CHECK(rc == -1 && errno == EINTR, "pause moved midway ends with EINTR after SIGUSR1, got errno %d",
	      err_of(rc));
	CHECK(usr1 == 1, "SIGUSR1's handler ran, %d", (int)usr1);

	phase(2);
	rc = pause();
	CHECK(rc == -1 && errno == EINTR, "SIGUSR2 ends the next pause, got errno %d", err_of(rc));

	phase(3);
	rc = pause();
	CHECK(rc == -1 && errno == EINTR, "stopped, continued, then SIGUSR2: EINTR, got errno %d",
	      err_of(rc));
	CHECK(usr2 == 2, "SIGUSR2's handler ran twice, %d", (int)usr2);
}

static int mode_sleep(const char *kind, const char *fifo)
{
	handle(SIGUSR1, on_usr1, SA_RESTART);
	handle(SIGUSR2, on_usr2, 0);
	if (!strcmp(kind, "nanosleep"))
		sleep_nanosleep();
	else if (!strcmp(kind, "futex"))
		sleep_futex();
	else if (!strcmp(kind, "read") && fifo)
		sleep_read(fifo);
	else if (!strcmp(kind, "pause"))
		sleep_pause();
	else
		return 2;
	return 0;
}

/* Reads both clocks for SECONDS of CLOCK_MONOTONIC: the steps it saw. */
static int mode_clocks(int seconds)
{
	static const clockid_t ids[2] = { CLOCK_MONOTONIC, CLOCK_BOOTTIME };
	static const char *const names[2] = { "monotonic", "boottime" };
	struct timespec ts;
	int64_t last[2] = { 0, 0 }, back[2] = { 0, 0 }, leap[2] = { 0, 0 }, start = 0, now;
	int i;

	for (;;) {
		for (i = 0; i < 2; i++) {
			clock_gettime(ids[i], &ts);
			now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
			if (last[i] && last[i] - now > back[i])
				back[i] = last[i] - now;
			if (last[i] && now - last[i] > leap[i])
				leap[i] = now - last[i];
			last[i] = now;
			if (i == 0 && !start)
				start = now;
		}
		if (last[0] - start >= seconds * 1000000000LL)
			break;
	}
	for (i = 0; i < 2; i++)
		printf("%s: largest step back %lld ns, largest step forward %lld ns\n", names[i],
		       (long long)back[i], (long long)leap[i]);
	return 0;
}

static void spin_cpu(double seconds)
{
	double t0 = cpu_now();
	volatile unsigned long x = 0;

	while (cpu_now() - t0 < seconds)
		x++;
}

/* Spins in user mode only (the vDSO reads the clock): what ITIMER_VIRTUAL counts. */
static void spin_user(volatile sig_atomic_t *until, double seconds)
{
	double t0 = mono_now();
	volatile unsigned long x = 0;

	while (!(until && *until) && mono_now() - t0 < seconds)
		x++;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* A child spins 2 s of CPU at home and 3 s at NODE, then ends at home. */
static int mode_cputime(const char *node)
{
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 2;
	if (!pid) {
		struct tms t;
		long hz = sysconf(_SC_CLK_TCK);
		double used;

		spin_cpu(2);
		if (go(node))
			_exit(3);
		spin_cpu(3);
		if (go("home"))
			_exit(3);
		times(&t);
		used = (double)(t.tms_utime + t.tms_stime) / hz;
		printf("child: times() says %.2f s of CPU\n", used);
		CHECK(used >= 4.5, "times() at home counts the time away: %.2f s of 5", used);
		getrusage(RUSAGE_SELF, &ru);
		used = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
		CHECK(used >= 4.5, "getrusage() at home counts it: %.2f s of 5", used);
		/* Away again to end there: the parent's wait4() must see it all. */
		if (go(node))
			_exit(3);
		spin_cpu(1);
		_exit(failures ? 1 : 0);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		return 2;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks held (status %#x)",
	      status);
	printf("parent: wait4() says the child used %.2f s user, %.2f s system\n",
	       tv_s(ru.ru_utime), tv_s(ru.ru_stime));
	CHECK(tv_s(ru.ru_utime) + tv_s(ru.ru_stime) >= 5.4,
	      "the parent's wait4() counts all 6 s, 4 of them away: %.2f s",
	      tv_s(ru.ru_utime) + tv_s(ru.ru_stime));
	/* Away, the parent still counts the child it reaped at home. */
	if (go(node))
		return 2;
	{
		struct tms t;
		long hz = sysconf(_SC_CLK_TCK);
		double kids;

		times(&t);
		kids = (double)(t.tms_cutime + t.tms_cstime) / hz;
		printf("parent away: times() says its children used %.2f s\n", kids);
		CHECK(kids >= 5.4, "times() away counts the child reaped at home: %.2f s of 6", kids);
		getrusage(RUSAGE_CHILDREN, &ru);
		kids = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
		CHECK(kids >= 5.4, "getrusage(RUSAGE_CHILDREN) away counts it: %.2f s of 6", kids);
		getrusage(RUSAGE_SELF, &ru);
		CHECK(tv_s(ru.ru_utime) + tv_s(ru.ru_stime) < 3.0,
		      "and its own time stays its own: %.2f s", tv_s(ru.ru_utime) + tv_s(ru.ru_stime));
	}
	if (go("home"))
		return 2;
	return 0;
}

static double itimer_left(int which)
{
	struct itimerval v;

	getitimer(which, &v);
	return tv_s(v.it_value);
}

/* ITIMER_VIRTUAL and ITIMER_PROF count CPU time wherever it runs. */
static int mode_itimer(const char *node)
{
	struct itimerval v = { .it_value = { 1, 500000 } };
	double left, t0;

	handle(SIGVTALRM, on_vtalrm, SA_RESTART);
	handle(SIGPROF, on_prof, SA_RESTART);
	setitimer(ITIMER_VIRTUAL, &v, NULL);
	v.it_value.tv_sec = 2;
	v.it_interval.tv_sec = 1;
	setitimer(ITIMER_PROF, &v, NULL);
	spin_user(NULL, 0.5);
	if (go(node))
		return 3;
	left = itimer_left(ITIMER_VIRTUAL);
	printf("at %s: ITIMER_VIRTUAL has %.3f s left, ITIMER_PROF %.3f s\n", node, left,
	       itimer_left(ITIMER_PROF));
	CHECK(left > 0 && left < 1.5, "getitimer away agrees with setitimer at home: %.3f s left",
	      left);
	/* Under TCG a guest's user time is a share of its wall time: bounded by the latter. */
	spin_user(&vtalrm, 60);
	CHECK(vtalrm == 1, "ITIMER_VIRTUAL fired away after its CPU time (%d)", (int)vtalrm);
	t0 = cpu_now();
	while (prof < 2 && cpu_now() - t0 < 8)
		;
	CHECK(prof >= 2, "ITIMER_PROF fired away, and again by its interval (%d)", (int)prof);
	if (go("home"))
		return 3;
	left = itimer_left(ITIMER_PROF);
	CHECK(left > 0 && left <= 1.05, "back home, ITIMER_PROF goes on: %.3f s left", left);
	t0 = cpu_now();
	prof = 0;
	while (!prof && cpu_now() - t0 < 5)
		;
	CHECK(prof == 1, "and fires at home (%d)", (int)prof);
	return 0;
}

/*
 * A ppoll() whose mask lets SIGALRM in, interrupted away by the alarm,
 * which is set at home (alarm() is forwarded) and goes off there.
 */
static int mode_sigmask(const char *node)
{
	sigset_t block, during, now;
	struct timespec ts = { 30, 0 };
	struct pollfd pfd;
	int fds[2];
	long rc;

	handle(SIGALRM, on_usr1, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&during);
	if (pipe(fds))
		return 2;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	if (go(node))
		return 3;
	alarm(2);
	rc = ppoll(&pfd, 1, &ts, &during);
	CHECK(rc == -1 && errno == EINTR, "SIGALRM, let in by ppoll's mask, ends it with EINTR, got %ld errno %d",
	      rc, err_of(rc));
	CHECK(usr1 == 1, "its handler ran away, %d", (int)usr1);
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK(sigismember(&now, SIGALRM) && sigismember(&now, SIGUSR2),
	      "after the call the process's own mask is back");
	if (go("home"))
		return 3;
	sigprocmask(SIG_SETMASK, NULL, &now);
	CHECK(sigismember(&now, SIGALRM) && sigismember(&now, SIGUSR2),
	      "and back home it is still its own");
	return 0;
}

/* MAP_SHARED|MAP_ANONYMOUS: the process's own moves; shared, it stays. */
static int mode_shared(const char *node)
{
	size_t size = 64 * 4096, i;
	unsigned char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fds[2], err;
	pid_t child;
	char c;

	if (m == MAP_FAILED || pipe(fds))
		return 2;
	for (i = 0; i < size; i++)
		m[i] = (unsigned char)(i * 7);
	if (go(node))
		return 3;
	for (i = 0; i < size; i++)
		if (m[i] != (unsigned char)(i * 7))
			break;
	CHECK(i == size, "its content arrived intact (first difference at %zu)", i);
	for (i = 0; i < size; i += 4096)
		m[i] = 0xaa;
	if (go("home"))
		return 3;
	CHECK(m[0] == 0xaa && m[size - 4096] == 0xaa, "what it wrote away came home");
	/* Shared with a child now: the mapping is a reason to stay. */
	child = fork();
	if (!child) {
		m[1] = 0x55;
		(void)!write(fds[1], "x", 1);
		pause();
		_exit(0);
	}
	CHECK(read(fds[0], &c, 1) == 1 && m[1] == 0x55, "the child's write is seen: it is shared");
	err = where_write(node);
	CHECK(err == -EBUSY, "shared with a child, it must stay: %s", strerror(-err));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}

/* A process that gave up privileges keeps having given them up. */
static int mode_sandbox(const char *node)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return 2;
	if (go(node))
		return 3;
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs holds away");
	if (go("home"))
		return 3;
	CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "and back home");
	return 0;
}

/* The state letter of /proc/PID/stat (R, S, T...), '?' if unreadable. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* waitpid() with a deadline: 0 if nothing was reported in time. */
static pid_t wait_for(pid_t pid, int *status, int flags, double seconds)
{
	double end = mono_now() + seconds;
	pid_t got;

	do {
		got = waitpid(pid, status, flags | WNOHANG);
		if (got)
			return got;
		usleep(20000);
	} while (mono_now() < end);
	return 0;
}

/*
 * The last count the child wrote within @seconds (or, with @first, as soon
 * as one comes), or -1 if it wrote none.
 */
static long progress(int fd, double seconds, int first)
{
	double end = mono_now() + seconds;
	char buf[4096], *nl;
	long last = -1;
	ssize_t n;

	while (mono_now() < end && !(first && last >= 0)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 50) != 1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			break;
		while (n > 0 && buf[n - 1] == '\n')
			n--;
		buf[n] = '\0';
		nl = strrchr(buf, '\n');
		last = atol(nl ? nl + 1 : buf);
	}
	return last;
}

/* A child that computes away and writes a count to @fd every ~50 ms. */
static void jobctl_child(const char *node, int fd)
{
	long n = 0;

	/* Its own group, whose parent is elsewhere in the session: not orphaned. */
	setpgid(0, 0);
	if (go(node))
		_exit(3);
	for (;;) {
		spin_cpu(0.05);
		dprintf(fd, "%ld\n", ++n);
	}
}

static int jobctl_stop(pid_t pid, int fd, int sig)
{
	int status = 0;
	pid_t got;

	kill(pid, sig);
	got = wait_for(pid, &status, WUNTRACED, 20);
	CHECK(got == pid && WIFSTOPPED(status) && WSTOPSIG(status) == sig,
	      "%s: the parent's waitpid(WUNTRACED) sees the stop (got %d, status %#x)",
	      strsignal(sig), (int)got, status);
	CHECK(proc_state(pid) == 'T', "%s: /proc at home shows it stopped: %c", strsignal(sig),
	      proc_state(pid));
	progress(fd, 0.5, 0);
	CHECK(progress(fd, 1.5, 0) < 0, "%s: stopped, it computes no more", strsignal(sig));
	kill(pid, SIGCONT);
	got = wait_for(pid, &status, WCONTINUED, 20);
	CHECK(got == pid && WIFCONTINUED(status),
	      "%s: waitpid(WCONTINUED) sees SIGCONT (got %d, status %#x)", strsignal(sig),
	      (int)got, status);
	CHECK(progress(fd, 10, 1) > 0, "%s: continued, it computes again", strsignal(sig));
	return 0;
}

/*
 * Away, with SIGUSR1 blocked and so held at home for the signalfd there,
 * the process unblocks it (sigprocmask), waits for it (sigsuspend) and
 * takes it (sigtimedwait): each time the one held at home reaches it before
 * the call returns, as at home. SIGALRM ends a wait that would never end.
 */
static void signalfd_unblocked_away(const sigset_t *usr1_set)
{
	struct timespec five = { 5, 0 };
	sigset_t during;
	long rc;

	handle(SIGUSR1, on_usr1, 0);
	handle(SIGALRM, on_alrm, 0);
	kill(getpid(), SIGUSR1);
	sigprocmask(SIG_UNBLOCK, usr1_set, NULL);
	CHECK(usr1 == 1, "sigprocmask: a SIGUSR1 held at home reaches its handler as it is unblocked away (%d)",
	      (int)usr1);
	sigprocmask(SIG_BLOCK, usr1_set, NULL);
	kill(getpid(), SIGUSR1);
	sigfillset(&during);
	sigdelset(&during, SIGUSR1);
	sigdelset(&during, SIGALRM);
	alarm(5);
	rc = sigsuspend(&during);
	alarm(0);
	CHECK(rc == -1 && errno == EINTR && usr1 == 2 && !alrm,
	      "sigsuspend: a SIGUSR1 held at home ends it (%ld, errno %d, SIGUSR1 %d, SIGALRM %d)", rc,
	      err_of(rc), (int)usr1, (int)alrm);
	kill(getpid(), SIGUSR1);
	rc = sigtimedwait(usr1_set, NULL, &five);
	CHECK(rc == SIGUSR1, "sigtimedwait: takes a SIGUSR1 held at home (%ld, errno %d)", rc, err_of(rc));
	signal(SIGUSR1, SIG_DFL);
}

/*
 * SIGUSR1 and SIGUSR2 blocked, a signalfd for SIGUSR1 (at home, with the
 * process's files): away, SIGUSR1 sent to it is read from the signalfd,
 * SIGUSR2 stays pending for the process; both as at home.
 */
static int mode_signalfd(const char *node)
{
	struct signalfd_siginfo si;
	sigset_t block, usr1, pending;
	struct timespec none = { 0, 0 };
	int fd;
	long rc;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	fd = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0 || go(node))
		return 2;
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR2);
	rc = read(fd, &si, sizeof(si));
	CHECK(rc == sizeof(si) && si.ssi_signo == SIGUSR1 && (pid_t)si.ssi_pid == getpid(),
	      "away, the signalfd reads SIGUSR1 from pid %d: got %ld bytes, signal %u from %u (errno %d)",
	      (int)getpid(), rc, rc > 0 ? si.ssi_signo : 0, rc > 0 ? si.ssi_pid : 0, err_of(rc));
	rc = read(fd, &si, sizeof(si));
	CHECK(rc == -1 && errno == EAGAIN, "and nothing more (got %ld, errno %d)", rc, err_of(rc));
	sigpending(&pending);
	CHECK(sigismember(&pending, SIGUSR2) && !sigismember(&pending, SIGUSR1),
	      "SIGUSR2 is pending for the process, SIGUSR1 no more");
	signalfd_unblocked_away(&usr1);
	kill(getpid(), SIGUSR1);
	if (go("home"))
		return 3;
	rc = read(fd, &si, sizeof(si));
	CHECK(rc == sizeof(si) && si.ssi_signo == SIGUSR1,
	      "held at home while away, the next SIGUSR1 is read at home (%ld, errno %d)", rc,
	      err_of(rc));
	rc = sigtimedwait(&block, NULL, &none);
	CHECK(rc == SIGUSR2, "back home, SIGUSR2 is still pending (%ld, errno %d)", rc, err_of(rc));
	close(fd);
	return 0;
}

static int mode_jobctl(const char *node)
{
	char where[32];
	int fds[2], status = 0, i;
	pid_t pid, got;

	if (pipe(fds))
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (!pid) {
		close(fds[0]);
		jobctl_child(node, fds[1]);
	}
	close(fds[1]);
	for (i = 0; i < 300; i++) {
		if (!om_hpc_read(pid, "where", where, sizeof(where)) &&
		    !strncmp(where, node, strlen(node)) && where[strlen(node)] == '\n')
			break;
		usleep(100000);
	}
	CHECK(i < 300, "the child went to node %s", node);
	CHECK(progress(fds[0], 10, 1) > 0, "it computes there");
	phase(1);
	jobctl_stop(pid, fds[0], SIGSTOP);
	phase(2);
	jobctl_stop(pid, fds[0], SIGTSTP);
	phase(3);
	/* A stop and a continue that cross: it must end up running. */
	kill(pid, SIGSTOP);
	kill(pid, SIGCONT);
	sleep(2);
	while (wait_for(pid, &status, WUNTRACED | WCONTINUED, 0.2) > 0)
		;
	progress(fds[0], 0.5, 0);
	CHECK(proc_state(pid) != 'T' && progress(fds[0], 10, 1) > 0,
	      "after SIGSTOP and SIGCONT at once it runs (state %c)", proc_state(pid));
	CHECK(!om_hpc_read(pid, "where", where, sizeof(where)) &&
	      !strncmp(where, node, strlen(node)), "it was away all along (where %s)", where);
	kill(pid, SIGTERM);
	got = wait_for(pid, &status, 0, 20);
	CHECK(got == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	      "SIGTERM ends it, as the parent's wait() says (status %#x)", status);
	return 0;
}

int main(int argc, char **argv)
{
	/* The modes that take a node to go to. */
	static const struct {
		const char *name;
		int (*run)(const char *node);
	} node_modes[] = {
		{ "cputime", mode_cputime }, { "itimer", mode_itimer },
		{ "sigmask", mode_sigmask }, { "shared", mode_shared },
		{ "sandbox", mode_sandbox }, { "jobctl", mode_jobctl },
		{ "signalfd", mode_signalfd },
	};
	int rc = 2;
	size_t i;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "sleep"))
		rc = mode_sleep(argv[2], argc > 3 ? argv[3] : NULL);
	else if (argc == 3 && !strcmp(argv[1], "clocks"))
		rc = mode_clocks(atoi(argv[2]));
	for (i = 0; argc == 3 && i < sizeof(node_modes) / sizeof(node_modes[0]); i++)
		if (!strcmp(argv[1], node_modes[i].name))
			rc = node_modes[i].run(argv[2]);
	if (rc == 2) {
		fprintf(stderr, "usage: see the head of om-continue.c\n");
		return 2;
	}
	if (rc || failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
