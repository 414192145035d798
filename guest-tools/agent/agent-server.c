// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's requests: run a command (streaming its stdin, stdout and
 * stderr, and reporting how it ended) or write a file. Requests on one
 * connection are served in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent-server.h"

#define MAX_ARGS 256
#define DRAIN_IDLE_MS 200
#define HOST_GONE_GRACE_MS 500


static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * True when the host has really gone. The port reports the host's connect
 * and disconnect on the control queue, which is not ordered with data: the
 * close of the previous connection may be seen after the first bytes of
 * the next one. A hang-up that clears within the grace was such a late one.
 */
static bool host_gone(int fd)
{
	for (int waited = 0; waited < HOST_GONE_GRACE_MS; waited += 20) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		struct timespec ts = { .tv_nsec = 20 * 1000000 };

		if (poll(&pfd, 1, 0) == 1 && !(pfd.revents & POLLHUP))
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* Returns 0, or -EPIPE when the host went away. */
static int port_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -errno;
			if ((pfd.revents & POLLHUP) && !(pfd.revents & POLLOUT) && host_gone(fd))
				return -EPIPE;
			continue;
		}
		return -EPIPE;
	}
	return 0;
}

/* Returns 0, -EPIPE when the host went away, or another -errno. */
static int port_read_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			if (host_gone(fd))
				return -EPIPE;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -errno;
			if ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN) && host_gone(fd))
				return -EPIPE;
			continue;
		}
		return -errno;
	}
	return 0;
}

static int send_frame(struct agent *a, enum oma_type type, const void *payload, size_t len)
{
	oma_encode_header(a->out, type, (uint32_t)len);
	if (len)
		memcpy(a->out + OMA_HEADER_SIZE, payload, len);
	return port_write_all(a->port, a->out, OMA_HEADER_SIZE + len);
}

static int send_error(struct agent *a, int err, const char *what)
{
	uint8_t msg[512];
	char text[480];
	int n;

	snprintf(text, sizeof(text), "%s: %s", what, strerror(err));
	n = oma_encode_error(msg, sizeof(msg), err, text);
	return send_frame(a, OMA_ERROR, msg, (size_t)n);
}

static int send_exit(struct agent *a, enum oma_exit_how how, int value)
{
	uint8_t msg[OMA_EXIT_SIZE];

	oma_encode_exit(msg, how, value);
	return send_frame(a, OMA_EXIT, msg, sizeof(msg));
}

static int read_frame(struct agent *a, struct oma_header *hdr)
{
	uint8_t raw[OMA_HEADER_SIZE];
	int err = port_read_all(a->port, raw, sizeof(raw));

	if (err)
		return err;
	err = oma_decode_header(raw, hdr);
	if (err)
		return err;
	return port_read_all(a->port, a->buf, hdr->len);
}

/* Forwards what fd has to the host as a frame of type; false at EOF. */
static bool forward_output(struct agent *a, int fd, enum oma_type type, int *err)
{
	ssize_t n = read(fd, a->buf, sizeof(a->buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	*err = send_frame(a, type, a->buf, (size_t)n);
	return true;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_pipes(int in[2], int out[2], int err[2], int status[2])
{
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
		close_fd(&status[i]);
	}
}

/* The forked command: never returns. */
static void exec_child(char **argv, int in, int out, int err, int status)
{
	sigset_t none;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGIO, SIG_DFL);
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (chdir("/root") < 0 && chdir("/") < 0)
		_exit(127);
	execvp(argv[0], argv);
	int e = errno;

	if (write(status, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

struct exec_run {
	pid_t pid;
	int pidfd, in, out, err;
	uint8_t pending[OMA_MAX_PAYLOAD]; /* stdin bytes not yet taken by the command */
	size_t pending_len, pending_off;
	bool stdin_eof, exited;
	int wstatus;
};

/* Takes one frame from the host during a command. Returns 0 or -errno. */
static int exec_take_input(struct agent *a, struct exec_run *r)
{
	struct oma_header hdr;
	int err = read_frame(a, &hdr);

	if (err)
		return err;
	if (hdr.type != OMA_STDIN || r->stdin_eof || r->pending_len)
		return -EPROTO;
	if (hdr.len == 0) {
		r->stdin_eof = true;
		close_fd(&r->in);
		return 0;
	}
	memcpy(r->pending, a->buf, hdr.len);
	r->pending_len = hdr.len;
	r->pending_off = 0;
	return 0;
}

static void exec_feed_stdin(struct exec_run *r)
{
	ssize_t n = write(r->in, r->pending + r->pending_off, r->pending_len - r->pending_off);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) { /* the command closed its stdin: what it did not take is dropped */
		close_fd(&r->in);
		r->pending_len = 0;
		return;
	}
	r->pending_off += (size_t)n;
	if (r->pending_off == r->pending_len)
		r->pending_len = 0;
	if (!r->pending_len && r->stdin_eof)
		close_fd(&r->in);
}

static int exec_loop(struct agent *a, struct exec_run *r, uint32_t timeout_ms)
{
	int64_t started = now_ms(), deadline = timeout_ms ? started + timeout_ms : 0;
	int64_t drain_until = 0;
	int err = 0;

	while (!err) {
		struct pollfd pfd[5];
		int n = 0, idx_port, idx_in = -1, idx_out = -1, idx_err = -1, idx_pid = -1;
		int wait_ms = -1;

		if (r->exited && r->out < 0 && r->err < 0)
			break;
		/*
		 * The port always: for input while the command takes it, and
		 * for the host's hang-up (reported whatever the events) always,
		 * so that a command whose caller went away does not outlive it.
		 * Only a hang-up within the grace of the start can be the
		 * previous connection's, seen late (host_gone()); one after it
		 * is this host's, even if the next host connects at once.
		 */
		idx_port = n;
		pfd[n++] = (struct pollfd){ .fd = a->port,
					    .events = !r->pending_len && !r->stdin_eof ? POLLIN : 0 };
		if (r->pending_len && r->in >= 0) {
			idx_in = n;
			pfd[n++] = (struct pollfd){ .fd = r->in, .events = POLLOUT };
		}
		if (r->out >= 0) {
			idx_out = n;
			pfd[n++] = (struct pollfd){ .fd = r->out, .events = POLLIN };
		}
		if (r->err >= 0) {
			idx_err = n;
			pfd[n++] = (struct pollfd){ .fd = r->err, .events = POLLIN };
		}
		if (!r->exited) {
			idx_pid = n;
			pfd[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		}
		if (r->exited) {
			/* Background children may hold the pipes open: stop when idle. */
			wait_ms = (int)(drain_until - now_ms());
			if (wait_ms <= 0)
				break;
		} else if (deadline) {
			wait_ms = (int)(deadline - now_ms());
			if (wait_ms <= 0) {
				kill(-r->pid, SIGKILL);
				waitpid(r->pid, NULL, 0);
				return send_exit(a, OMA_TIMED_OUT, 0);
			}
		}
		if (poll(pfd, (nfds_t)n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (pfd[idx_port].revents) {
			if (pfd[idx_port].revents & POLLIN)
				err = exec_take_input(a, r);
			else if (pfd[idx_port].revents & (POLLHUP | POLLERR) &&
				 (now_ms() - started >= HOST_GONE_GRACE_MS || host_gone(a->port)))
				err = -EPIPE;
		}
		if (!err && idx_in >= 0 && pfd[idx_in].revents)
			exec_feed_stdin(r);
		if (!err && idx_out >= 0 && pfd[idx_out].revents &&
		    !forward_output(a, r->out, OMA_STDOUT, &err))
			close_fd(&r->out);
		if (!err && idx_err >= 0 && pfd[idx_err].revents &&
		    !forward_output(a, r->err, OMA_STDERR, &err))
			close_fd(&r->err);
		if (idx_pid >= 0 && pfd[idx_pid].revents) {
			waitpid(r->pid, &r->wstatus, 0);
			r->exited = true;
		}
		if (r->exited)
			drain_until = now_ms() + DRAIN_IDLE_MS;
	}
	if (err) {
		/* Host gone or protocol broken: the command must not outlive it. */
		if (!r->exited) {
			kill(-r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
		}
		return err;
	}
	if (WIFSIGNALED(r->wstatus))
		return send_exit(a, OMA_SIGNALED, WTERMSIG(r->wstatus));
	return send_exit(a, OMA_EXITED, WEXITSTATUS(r->wstatus));
}

static int serve_exec(struct agent *a, size_t len)
{
	struct exec_run *r;
	char *argv[MAX_ARGS];
	uint32_t timeout_ms, flags;
	int in[2], out[2], errp[2], status[2], child_errno, err;
	ssize_t n;

	if (oma_decode_exec(a->buf, len, &timeout_ms, &flags, argv, MAX_ARGS) < 0 || flags)
		return -EPROTO;
	in[0] = in[1] = out[0] = out[1] = errp[0] = errp[1] = status[0] = status[1] = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(status, O_CLOEXEC) < 0) {
		err = errno;
		close_pipes(in, out, errp, status);
		return send_error(a, err, "pipe");
	}
	/* Per command: it holds a whole frame of stdin not yet taken. */
	r = calloc(1, sizeof(*r));
	if (!r) {
		close_pipes(in, out, errp, status);
		return send_error(a, ENOMEM, "exec");
	}
	r->pid = fork();
	if (r->pid < 0) {
		err = errno;
		close_pipes(in, out, errp, status);
		free(r);
		return send_error(a, err, "fork");
	}
	if (r->pid == 0)
		exec_child(argv, in[0], out[1], errp[1], status[1]);
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	close(status[1]);
	n = read(status[0], &child_errno, sizeof(child_errno));
	close(status[0]);
	r->in = in[1];
	r->out = out[0];
	r->err = errp[0];
	r->pidfd = -1;
	fcntl(r->in, F_SETFL, O_NONBLOCK);
	if (n == (ssize_t)sizeof(child_errno)) {
		/* Not run at all. Its stdin, if any, is dropped by the next read. */
		waitpid(r->pid, NULL, 0);
		err = send_error(a, child_errno, argv[0]);
		if (!err)
			err = send_exit(a, OMA_EXITED, 127);
		goto done;
	}
	r->pidfd = pidfd_open(r->pid, 0);
	if (r->pidfd < 0) {
		err = errno;
		kill(-r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		err = send_error(a, err, "pidfd_open");
		goto done;
	}
	err = exec_loop(a, r, timeout_ms);
done:
	close_fd(&r->pidfd);
	close_fd(&r->in);
	close_fd(&r->out);
	close_fd(&r->err);
	free(r);
	return err;
}

static int serve_put(struct agent *a, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	const char *p;
	uint32_t mode;
	int fd, err = 0, wrote_err = 0;

	if (oma_decode_put(a->buf, len, &mode, &p) < 0 || strlen(p) >= sizeof(path))
		return -EPROTO;
	strcpy(path, p);
	snprintf(tmp, sizeof(tmp), "%s.om-put", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		wrote_err = errno;
	for (;;) {
		struct oma_header hdr;

		err = read_frame(a, &hdr);
		if (err)
			break;
		if (hdr.type != OMA_STDIN) {
			err = -EPROTO;
			break;
		}
		if (hdr.len == 0)
			break;
		if (!wrote_err && write(fd, a->buf, hdr.len) != (ssize_t)hdr.len)
			wrote_err = errno ? errno : EIO;
	}
	if (fd >= 0) {
		if (close(fd) < 0 && !wrote_err)
			wrote_err = errno;
		if (!err && !wrote_err && fchmodat(AT_FDCWD, tmp, mode, 0) < 0)
			wrote_err = errno;
		if (!err && !wrote_err && rename(tmp, path) < 0)
			wrote_err = errno;
		if (err || wrote_err)
			unlink(tmp);
	}
	if (err)
		return err;
	if (wrote_err)
		return send_error(a, wrote_err, path);
	return send_frame(a, OMA_DONE, NULL, 0);
}

void agent_serve_connection(struct agent *a)
{
	for (;;) {
		struct oma_header hdr;
		int err = read_frame(a, &hdr);

		if (!err) {
			switch (hdr.type) {
			case OMA_HELLO:
				err = send_frame(a, OMA_HELLO, a->hello, strlen(a->hello));
				break;
			case OMA_EXEC:
				err = serve_exec(a, hdr.len);
				break;
			case OMA_PUT:
				err = serve_put(a, hdr.len);
				break;
			case OMA_STDIN:
				/* Input sent before the host saw the command end: drop it. */
				break;
			default:
				err = -EPROTO;
			}
		}
		if (err == -EPIPE)
			return;
		if (err) {
			/* Out of step with the host: say so, then wait for it to go. */
			send_error(a, -err, "agent protocol");
			fprintf(stderr, "om-agent: protocol error (%s), dropping the connection\n",
				strerror(-err));
			while (read(a->port, a->buf, sizeof(a->buf)) > 0 || errno == EINTR)
				;
			return;
		}
	}
}
