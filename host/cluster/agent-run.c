// SPDX-License-Identifier: GPL-2.0-only
#include "agent-run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-client.h"

/* Patience with a guest past the command's own time-out, in ms. */
#define GRACE_MS 30000
/* A copy of any size a guest takes within this, or the guest is in trouble. */
#define PUT_TIMEOUT_MS 120000

static int open_agent(const struct om_agent_target *t, struct om_agent *a)
{
	int err = om_agent_open(a, t->sock, t->lock);

	if (err)
		t->say("%s: cannot reach the guest agent at %s: %s", t->who, t->sock,
		       strerror(-err));
	return err;
}

int om_agent_run(const struct om_agent_target *t, char *const argv[], unsigned int timeout_s,
		 bool forward_stdin)
{
	/* Two 64 KiB frame buffers: not on the stack. */
	struct om_agent *a = calloc(1, sizeof(*a));
	struct om_exec_result res;
	int status = OM_EXEC_FAILED, err;

	if (!a) {
		t->say("out of memory");
		return status;
	}
	if (open_agent(t, a))
		goto out;
	/* A reader of ours that goes away must not kill us before the guest's answer. */
	signal(SIGPIPE, SIG_IGN);
	err = om_agent_exec(a, argv, timeout_s * 1000u, GRACE_MS,
			    forward_stdin ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO, &res);
	om_agent_close(a);
	if (err == -ETIMEDOUT)
		t->say("%s: the guest did not answer within 30 s of the command's time-out", t->who);
	else if (err == -EPIPE)
		t->say("%s: the guest agent went away (the guest died or restarted?)", t->who);
	else if (err)
		t->say("%s: agent protocol failure: %s", t->who, strerror(-err));
	if (err)
		goto out;
	if (res.error[0])
		t->say("%s: %s", t->who, res.error);
	if (res.how == OMA_TIMED_OUT)
		t->say("%s: `%s` killed after %u s", t->who, argv[0], timeout_s);
	status = res.error[0] && res.how == OMA_EXITED ? OM_EXEC_FAILED : om_exec_status(&res);
out:
	free(a);
	return status;
}

int om_agent_copy(const struct om_agent_target *t, const char *src, const char *dst,
		  bool mode_set, unsigned int mode)
{
	struct om_agent *a = calloc(1, sizeof(*a));
	char error[512];
	struct stat sb;
	int fd, status = 1, err;

	if (!a) {
		t->say("out of memory");
		return status;
	}
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		t->say("cp: %s: %s", src, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		t->say("cp: %s is not a regular file", src);
		goto out;
	}
	if (open_agent(t, a))
		goto out;
	err = om_agent_put(a, fd, dst, mode_set ? mode : sb.st_mode & 07777, PUT_TIMEOUT_MS,
			   error, sizeof(error));
	om_agent_close(a);
	if (err) {
		t->say("cp: %s: %s", t->who, error[0] ? error : strerror(-err));
		goto out;
	}
	status = 0;
out:
	if (fd >= 0)
		close(fd);
	free(a);
	return status;
}
