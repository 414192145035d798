// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent protocol end to end on the host: the real agent request handler
 * (guest-tools/agent/agent-server.c) serves a unix socket, the real client
 * (host/cluster/agent-client.c) talks to it; exec and cp as omcluster and
 * omvirt run them (agent-run.c): statuses and messages exactly. Plus the
 * frame codec's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-proto.h"
#include "agent-run.h"
#include "agent-server.h"
#include "proc.h"

struct fixture {
	char dir[64];
	char sock[96];
	pid_t server;
	struct om_agent agent;
};

/* Forks a server for one connection on a fresh socket; the client is not connected. */
static int setup_serving(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/om-agent-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/agent.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	f->server = fork();
	assert_true(f->server >= 0);
	if (f->server == 0) {
		static struct agent a;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		signal(SIGPIPE, SIG_IGN);
		a.port = fd;
		snprintf(a.hello, sizeof(a.hello), "node=5\nrelease=test\n");
		agent_serve_connection(&a);
		_exit(0);
	}
	close(lfd);
	f->agent.fd = -1;
	f->agent.lock_fd = -1;
	*state = f;
	return 0;
}

/* The same, connected. */
static int setup(void **state)
{
	struct fixture *f;

	setup_serving(state);
	f = *state;
	assert_int_equal(om_agent_open(&f->agent, f->sock, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int status;

	om_agent_close(&f->agent);
	/* The server ends when its connection closes; it must not hang. */
	for (int i = 0; i < 500 && waitpid(f->server, &status, WNOHANG) == 0; i++)
		om_sleep_ms(10);
	if (waitpid(f->server, &status, WNOHANG) == 0) {
		kill(f->server, SIGKILL);
		waitpid(f->server, &status, 0);
		fail_msg("agent server did not end after the client closed");
	}
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int tmpfile_fd(void)
{
	char path[] = "/tmp/om-out-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static char *slurp(int fd, size_t *len)
{
	static char buf[1 << 20];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static int run(struct fixture *f, char **argv, unsigned int timeout_ms, int in_fd,
	       struct om_exec_result *res, int *out, int *err)
{
	*out = tmpfile_fd();
	*err = tmpfile_fd();
	return om_agent_exec(&f->agent, argv, timeout_ms, 5000, in_fd, *out, *err, res);
}

static void hello(void **state)
{
	struct fixture *f = *state;
	char info[128];

	assert_int_equal(om_agent_hello(&f->agent, info, sizeof(info), 2000), 0);
	assert_string_equal(info, "node=5\nrelease=test\n");
}

static void exec_output_and_status(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct om_exec_result res;
	int out, err;

	assert_int_equal(run(f, argv, 0, -1, &res, &out, &err), 0);
	assert_int_equal(res.how, OMA_EXITED);
	assert_int_equal(res.value, 3);
	assert_int_equal(om_exec_status(&res), 3);
	assert_string_equal(slurp(out, NULL), "out\n");
	assert_string_equal(slurp(err, NULL), "err\n");
	close(out);
	close(err);

	/* A second request on the same connection is served too. */
	char *argv2[] = { "true", NULL };

	assert_int_equal(run(f, argv2, 0, -1, &res, &out, &err), 0);
	assert_int_equal(om_exec_status(&res), 0);
	close(out);
	close(err);
}

static void exec_signal(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct om_exec_result res;
	int out, err;

	assert_int_equal(run(f, argv, 0, -1, &res, &out, &err), 0);
	assert_int_equal(res.how, OMA_SIGNALED);
	assert_int_equal(res.value, SIGTERM);
	assert_int_equal(om_exec_status(&res), 128 + SIGTERM);
	close(out);
	close(err);
}

static void exec_stdin(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "cat", NULL };
	struct om_exec_result res;
	int p[2], out, err;
	static char big[200000];

	/* More than one frame and more than a pipe holds, both ways. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(pipe(p), 0);
	pid_t w = fork();

	if (w == 0) {
		close(p[0]);
		if (write(p[1], big, sizeof(big)) != (ssize_t)sizeof(big))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(run(f, argv, 10000, p[0], &res, &out, &err), 0);
	close(p[0]);
	waitpid(w, NULL, 0);
	assert_int_equal(om_exec_status(&res), 0);

	size_t len;
	char *got = slurp(out, &len);

	assert_int_equal(len, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	close(out);
	close(err);
}

static void exec_missing_command(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "/nonexistent/command", NULL };
	struct om_exec_result res;
	int out, err;

	assert_int_equal(run(f, argv, 0, -1, &res, &out, &err), 0);
	assert_int_equal(res.how, OMA_EXITED);
	assert_int_equal(res.value, 127);
	assert_non_null(strstr(res.error, "/nonexistent/command"));
	assert_non_null(strstr(res.error, "No such file"));
	close(out);
	close(err);
}

static void exec_timeout_kills(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	struct om_exec_result res;
	long long t0 = om_now_ms();
	int out, err;

	assert_int_equal(run(f, argv, 300, -1, &res, &out, &err), 0);
	assert_int_equal(res.how, OMA_TIMED_OUT);
	assert_int_equal(om_exec_status(&res), 124);
	assert_true(om_now_ms() - t0 < 5000);
	close(out);
	close(err);
}

static void exec_large_output(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "head", "-c", "300000", "/dev/zero", NULL };
	struct om_exec_result res;
	size_t len;
	int out, err;

	assert_int_equal(run(f, argv, 10000, -1, &res, &out, &err), 0);
	assert_int_equal(om_exec_status(&res), 0);
	slurp(out, &len);
	assert_int_equal(len, 300000);
	close(out);
	close(err);
}

static void put_file(void **state)
{
	struct fixture *f = *state;
	char dst[160], error[256];
	const char *text = "payload\n";
	struct stat st;
	int src = tmpfile_fd();

	assert_int_equal(write(src, text, strlen(text)), (ssize_t)strlen(text));
	lseek(src, 0, SEEK_SET);
	snprintf(dst, sizeof(dst), "%s/copied", f->dir);
	assert_int_equal(om_agent_put(&f->agent, src, dst, 0640, 5000, error, sizeof(error)), 0);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	int fd = open(dst, O_RDONLY);

	assert_string_equal(slurp(fd, NULL), text);
	close(fd);
	unlink(dst);

	/* A path that cannot be written: a clear error, and the connection goes on. */
	lseek(src, 0, SEEK_SET);
	assert_int_equal(om_agent_put(&f->agent, src, "/nonexistent/dir/file", 0644, 5000, error,
				      sizeof(error)),
			 -ENOENT);
	assert_non_null(strstr(error, "/nonexistent/dir/file"));
	char info[128];

	assert_int_equal(om_agent_hello(&f->agent, info, sizeof(info), 2000), 0);
	close(src);
}

static void codec_refusals(void **state)
{
	uint8_t hdr[OMA_HEADER_SIZE], payload[64];
	struct oma_header h;
	char *argv[8];
	uint32_t t, fl, mode;
	const char *path;

	(void)state;
	oma_encode_header(hdr, OMA_EXEC, 10);
	assert_int_equal(oma_decode_header(hdr, &h), 0);
	assert_int_equal(h.type, OMA_EXEC);
	assert_int_equal(h.len, 10);
	hdr[0] ^= 1;
	assert_int_equal(oma_decode_header(hdr, &h), -EPROTO);
	oma_encode_header(hdr, OMA_EXEC, OMA_MAX_PAYLOAD + 1);
	assert_int_equal(oma_decode_header(hdr, &h), -EMSGSIZE);
	oma_encode_header(hdr, (enum oma_type)(OMA_TYPE_MAX + 1), 0);
	assert_int_equal(oma_decode_header(hdr, &h), -EPROTO);
	oma_encode_header(hdr, OMA_HELLO, 0);
	hdr[6] = 1; /* flags must be zero */
	assert_int_equal(oma_decode_header(hdr, &h), -EPROTO);

	char *cmd[] = { "ls", "-l", NULL };
	int n = oma_encode_exec(payload, sizeof(payload), 5, 0, cmd);

	assert_true(n > 0);
	assert_int_equal(oma_decode_exec(payload, (size_t)n, &t, &fl, argv, 8), 2);
	assert_string_equal(argv[1], "-l");
	assert_int_equal(oma_decode_exec(payload, (size_t)n, &t, &fl, argv, 2), -E2BIG);
	payload[n - 1] = 'x'; /* unterminated */
	assert_int_equal(oma_decode_exec(payload, (size_t)n, &t, &fl, argv, 8), -EINVAL);
	assert_int_equal(oma_decode_exec(payload, 8, &t, &fl, argv, 8), -EINVAL);
	assert_int_equal(oma_encode_exec(payload, 10, 5, 0, cmd), -E2BIG);

	n = oma_encode_put(payload, sizeof(payload), 0644, "/etc/x");
	assert_int_equal(oma_decode_put(payload, (size_t)n, &mode, &path), 0);
	assert_string_equal(path, "/etc/x");
	n = oma_encode_put(payload, sizeof(payload), 0644, "relative");
	assert_int_equal(oma_decode_put(payload, (size_t)n, &mode, &path), -EINVAL);
	n = oma_encode_put(payload, sizeof(payload), 010000, "/x");
	assert_int_equal(oma_decode_put(payload, (size_t)n, &mode, &path), -EINVAL);

	enum oma_exit_how how;
	int32_t v;

	oma_encode_exit(payload, OMA_SIGNALED, 9);
	assert_int_equal(oma_decode_exit(payload, OMA_EXIT_SIZE, &how, &v), 0);
	assert_int_equal(how, OMA_SIGNALED);
	assert_int_equal(v, 9);
	assert_int_equal(oma_decode_exit(payload, 7, &how, &v), -EINVAL);
	payload[0] = 7;
	assert_int_equal(oma_decode_exit(payload, OMA_EXIT_SIZE, &how, &v), -EINVAL);
}

/* ---- agent-run.c: exec and cp as omcluster and omvirt give them ---- */

static char said[2048];

static void say(const char *fmt, ...)
{
	size_t n = strlen(said);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(said + n, sizeof(said) - n, fmt, ap);
	va_end(ap);
	n = strlen(said);
	snprintf(said + n, sizeof(said) - n, "\n");
}

/* om_agent_run with its stdout on a file; the command's status. */
static int run_to(const struct om_agent_target *t, char **argv, unsigned int timeout_s, int out)
{
	int saved = dup(STDOUT_FILENO), status;

	assert_true(saved >= 0);
	fflush(stdout);
	dup2(out, STDOUT_FILENO);
	status = om_agent_run(t, argv, timeout_s, false);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	return status;
}

static void run_status(void **state)
{
	struct fixture *f = *state;
	struct om_agent_target t = { .who = "domain om-5", .sock = f->sock, .say = say };
	char *argv[] = { "sh", "-c", "echo out; exit 3", NULL };
	int out = tmpfile_fd();

	said[0] = '\0';
	assert_int_equal(run_to(&t, argv, 0, out), 3);
	assert_string_equal(slurp(out, NULL), "out\n");
	assert_string_equal(said, "");
	close(out);
}

static void run_missing_command(void **state)
{
	struct fixture *f = *state;
	struct om_agent_target t = { .who = "domain om-5", .sock = f->sock, .say = say };
	char *argv[] = { "/nonexistent/command", NULL };
	int out = tmpfile_fd();

	said[0] = '\0';
	assert_int_equal(run_to(&t, argv, 0, out), OM_EXEC_FAILED);
	assert_string_equal(said, "domain om-5: /nonexistent/command: No such file or directory\n");
	close(out);
}

static void run_timed_out(void **state)
{
	struct fixture *f = *state;
	struct om_agent_target t = { .who = "node 5", .sock = f->sock, .say = say };
	char *argv[] = { "sleep", "30", NULL };
	int out = tmpfile_fd();

	said[0] = '\0';
	assert_int_equal(run_to(&t, argv, 1, out), 124);
	assert_string_equal(said, "node 5: `sleep` killed after 1 s\n");
	close(out);
}

static void run_unreachable(void **state)
{
	struct om_agent_target t = { .who = "domain om-9", .sock = "/nonexistent/agent.sock",
				     .say = say };
	char *argv[] = { "true", NULL };

	(void)state;
	said[0] = '\0';
	assert_int_equal(om_agent_run(&t, argv, 0, false), OM_EXEC_FAILED);
	assert_string_equal(said, "domain om-9: cannot reach the guest agent at "
				  "/nonexistent/agent.sock: No such file or directory\n");
	said[0] = '\0';
	assert_int_equal(om_agent_copy(&t, "/nonexistent/file", "/tmp/x", false, 0), 1);
	assert_string_equal(said, "cp: /nonexistent/file: No such file or directory\n");
	said[0] = '\0';
	assert_int_equal(om_agent_copy(&t, "/tmp", "/tmp/x", false, 0), 1);
	assert_string_equal(said, "cp: /tmp is not a regular file\n");
	said[0] = '\0';
	assert_int_equal(om_agent_copy(&t, "/dev/null", "/tmp/x", false, 0), 1);
	assert_string_equal(said, "cp: /dev/null is not a regular file\n");
}

static void copy_file(void **state)
{
	struct fixture *f = *state;
	struct om_agent_target t = { .who = "domain om-5", .sock = f->sock, .say = say };
	char src[] = "/tmp/om-cp-XXXXXX", dst[160];
	struct stat st;
	int fd = mkstemp(src);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "copied\n", 7), 7);
	close(fd);
	snprintf(dst, sizeof(dst), "%s/copied", f->dir);
	said[0] = '\0';
	assert_int_equal(om_agent_copy(&t, src, dst, true, 0604), 0);
	assert_string_equal(said, "");
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(st.st_size, 7);
	unlink(dst);
	unlink(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hello, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_output_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_stdin, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_missing_command, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_timeout_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_large_output, setup, teardown),
		cmocka_unit_test_setup_teardown(put_file, setup, teardown),
		cmocka_unit_test(codec_refusals),
		cmocka_unit_test_setup_teardown(run_status, setup_serving, teardown),
		cmocka_unit_test_setup_teardown(run_missing_command, setup_serving, teardown),
		cmocka_unit_test_setup_teardown(run_timed_out, setup_serving, teardown),
		cmocka_unit_test(run_unreachable),
		cmocka_unit_test_setup_teardown(copy_file, setup_serving, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
