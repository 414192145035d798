// SPDX-License-Identifier: GPL-2.0-only
#include "agent-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proc.h"

int om_agent_open(struct om_agent *a, const char *sock_path, const char *lock_path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	a->fd = -1;
	a->lock_fd = -1;
	a->have = 0;
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock_path);
	if (lock_path) {
		a->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (a->lock_fd < 0)
			return -errno;
		if (flock(a->lock_fd, LOCK_EX) < 0) {
			err = -errno;
			goto fail;
		}
	}
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->fd < 0) {
		err = -errno;
		goto fail;
	}
	if (connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	om_agent_close(a);
	return err;
}

void om_agent_close(struct om_agent *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	a->fd = -1;
	a->lock_fd = -1;
}

/* Writes all of buf, waiting for room until deadline (0: forever). */
static int write_all(int fd, const uint8_t *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int wait = deadline ? (int)(deadline - om_now_ms()) : -1;

			if (deadline && wait <= 0)
				return -ETIMEDOUT;
			if (poll(&p, 1, wait) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return -errno;
	}
	return 0;
}

static int send_frame(struct om_agent *a, enum oma_type type, const void *payload, size_t len,
		      long long deadline)
{
	uint8_t hdr[OMA_HEADER_SIZE];
	int err;

	oma_encode_header(hdr, type, (uint32_t)len);
	err = write_all(a->fd, hdr, sizeof(hdr), deadline);
	if (!err && len)
		err = write_all(a->fd, payload, len, deadline);
	return err;
}

/*
 * Reads what is available towards the next frame. Returns 1 when a whole
 * frame is in a->frame (hdr filled; the caller then clears a->have), 0 when
 * more is needed, -EPIPE at EOF, -EPROTO for a malformed frame.
 */
static int read_frame_step(struct om_agent *a, struct oma_header *hdr)
{
	for (;;) {
		size_t want = OMA_HEADER_SIZE;
		ssize_t n;

		if (a->have >= OMA_HEADER_SIZE) {
			int err = oma_decode_header(a->frame, hdr);

			if (err)
				return -EPROTO;
			want = OMA_HEADER_SIZE + hdr->len;
			if (a->have == want)
				return 1;
		}
		n = recv(a->fd, a->frame + a->have, want - a->have, 0);
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EAGAIN ? 0 : errno == EINTR ? 0 : -errno;
		a->have += (size_t)n;
	}
}

/* Waits for a whole frame until deadline (0: forever). */
static int read_frame(struct om_agent *a, struct oma_header *hdr, long long deadline)
{
	for (;;) {
		int r = read_frame_step(a, hdr);

		if (r)
			return r < 0 ? r : 0;
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		int wait = deadline ? (int)(deadline - om_now_ms()) : -1;

		if (deadline && wait <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return -errno;
	}
}

static const uint8_t *payload(const struct om_agent *a)
{
	return a->frame + OMA_HEADER_SIZE;
}

int om_agent_send_hello(struct om_agent *a)
{
	return send_frame(a, OMA_HELLO, NULL, 0, om_now_ms() + 1000);
}

static int take_hello(struct om_agent *a, const struct oma_header *hdr, char *info, size_t cap)
{
	size_t n = hdr->len < cap - 1 ? hdr->len : cap - 1;

	a->have = 0;
	if (hdr->type != OMA_HELLO)
		return -EPROTO;
	memcpy(info, payload(a), n);
	info[n] = '\0';
	return 1;
}

int om_agent_poll_hello(struct om_agent *a, char *info, size_t cap)
{
	struct oma_header hdr;
	int r = read_frame_step(a, &hdr);

	if (r <= 0)
		return r;
	return take_hello(a, &hdr, info, cap);
}

int om_agent_hello(struct om_agent *a, char *info, size_t cap, unsigned int timeout_ms)
{
	long long deadline = om_now_ms() + timeout_ms;
	struct oma_header hdr;
	int err = send_frame(a, OMA_HELLO, NULL, 0, deadline);

	if (!err)
		err = read_frame(a, &hdr, deadline);
	if (err)
		return err;
	err = take_hello(a, &hdr, info, cap);
	return err < 0 ? err : 0;
}

int om_exec_status(const struct om_exec_result *res)
{
	switch (res->how) {
	case OMA_EXITED:
		return res->value & 0xff;
	case OMA_SIGNALED:
		return 128 + (res->value & 0x7f);
	case OMA_TIMED_OUT:
		return 124;
	}
	return 255;
}

static int write_out(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Handles one frame of a running command's answer; 1 once it has ended. */
static int take_exec_frame(struct om_agent *a, const struct oma_header *hdr, int out_fd,
			   int err_fd, struct om_exec_result *res)
{
	int32_t err;

	switch (hdr->type) {
	case OMA_STDOUT:
		/* Our reader may be gone (a closed pipe): keep going, like a shell. */
		write_out(out_fd, payload(a), hdr->len);
		return 0;
	case OMA_STDERR:
		write_out(err_fd, payload(a), hdr->len);
		return 0;
	case OMA_ERROR:
		if (oma_decode_error(payload(a), hdr->len, &err, res->error, sizeof(res->error)))
			return -EPROTO;
		return 0;
	case OMA_EXIT: {
		int32_t v;

		if (oma_decode_exit(payload(a), hdr->len, &res->how, &v))
			return -EPROTO;
		res->value = v;
		return 1;
	}
	default:
		return -EPROTO;
	}
}

int om_agent_exec(struct om_agent *a, char *const argv[], unsigned int timeout_ms,
		  unsigned int grace_ms, int in_fd, int out_fd, int err_fd,
		  struct om_exec_result *res)
{
	uint8_t *req = a->out + OMA_HEADER_SIZE, *stdin_buf = a->out;
	long long deadline = timeout_ms ? om_now_ms() + timeout_ms + grace_ms : 0;
	size_t pending = 0, pending_off = 0;
	bool stdin_done = in_fd < 0;
	int len, err;

	memset(res, 0, sizeof(*res));
	len = oma_encode_exec(req, OMA_MAX_PAYLOAD, timeout_ms, 0, argv);
	if (len < 0)
		return len;
	err = send_frame(a, OMA_EXEC, req, (size_t)len, deadline);
	if (!err && stdin_done)
		err = send_frame(a, OMA_STDIN, NULL, 0, deadline);
	while (!err) {
		struct pollfd p[2] = { { .fd = a->fd, .events = POLLIN }, { .fd = -1 } };
		int wait = deadline ? (int)(deadline - om_now_ms()) : -1;

		/* Stdin goes out only as the socket takes it: never block on it. */
		if (pending)
			p[0].events |= POLLOUT;
		else if (!stdin_done)
			p[1] = (struct pollfd){ .fd = in_fd, .events = POLLIN };
		if (deadline && wait <= 0)
			return -ETIMEDOUT;
		if (poll(p, 2, wait) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[1].revents) {
			ssize_t n = read(in_fd, stdin_buf + OMA_HEADER_SIZE, OMA_MAX_PAYLOAD);

			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				n = 0;
				stdin_done = true;
			}
			oma_encode_header(stdin_buf, OMA_STDIN, (uint32_t)n);
			pending = OMA_HEADER_SIZE + (size_t)n;
			pending_off = 0;
		}
		if (pending && (p[0].revents & POLLOUT)) {
			ssize_t n = send(a->fd, stdin_buf + pending_off, pending - pending_off,
					 MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			if (n > 0) {
				pending_off += (size_t)n;
				if (pending_off == pending)
					pending = 0;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct oma_header hdr;
			int r;

			while ((r = read_frame_step(a, &hdr)) == 1) {
				a->have = 0;
				r = take_exec_frame(a, &hdr, out_fd, err_fd, res);
				if (r)
					return r < 0 ? r : 0;
			}
			if (r < 0)
				return r;
		}
	}
	return err;
}

int om_agent_put(struct om_agent *a, int src_fd, const char *path, unsigned int mode,
		 unsigned int timeout_ms, char *error, size_t error_cap)
{
	uint8_t *buf = a->out + OMA_HEADER_SIZE;
	long long deadline = om_now_ms() + timeout_ms;
	struct oma_header hdr;
	int len, err;

	error[0] = '\0';
	len = oma_encode_put(buf, OMA_MAX_PAYLOAD, mode, path);
	if (len < 0)
		return len;
	err = send_frame(a, OMA_PUT, buf, (size_t)len, deadline);
	while (!err) {
		ssize_t n = read(src_fd, buf, OMA_MAX_PAYLOAD);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		err = send_frame(a, OMA_STDIN, buf, (size_t)n, deadline);
		if (n == 0)
			break;
	}
	if (!err)
		err = read_frame(a, &hdr, deadline);
	if (err)
		return err;
	a->have = 0;
	if (hdr.type == OMA_DONE)
		return 0;
	if (hdr.type == OMA_ERROR) {
		int32_t e;

		if (oma_decode_error(payload(a), hdr.len, &e, error, error_cap))
			return -EPROTO;
		return e > 0 ? -e : -EIO;
	}
	return -EPROTO;
}
