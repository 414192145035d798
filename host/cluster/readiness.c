// SPDX-License-Identifier: GPL-2.0-only
#include "readiness.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum om_guest_verdict om_readiness_verdict(const struct om_guest_observation *o)
{
	if (o->console_panic)
		return OM_GUEST_PANICKED;
	if (!o->process_alive)
		return OM_GUEST_EXITED;
	if (o->agent_answered)
		return OM_GUEST_READY;
	if (o->elapsed_ms >= o->timeout_ms)
		return OM_GUEST_TIMED_OUT;
	return OM_GUEST_BOOTING;
}

const char *om_verdict_name(enum om_guest_verdict v)
{
	switch (v) {
	case OM_GUEST_BOOTING:
		return "booting";
	case OM_GUEST_READY:
		return "ready";
	case OM_GUEST_PANICKED:
		return "kernel panic";
	case OM_GUEST_EXITED:
		return "QEMU exited";
	case OM_GUEST_TIMED_OUT:
		return "no answer in time";
	}
	return "?";
}

static const char *const panic_markers[] = {
	"Kernel panic - not syncing",
	"---[ end Kernel panic",
};

bool om_console_shows_panic(const char *text, size_t len)
{
	for (size_t m = 0; m < sizeof(panic_markers) / sizeof(panic_markers[0]); m++)
		if (memmem(text, len, panic_markers[m], strlen(panic_markers[m])))
			return true;
	return false;
}

int om_console_scan(const char *path, long long *offset, bool *panic)
{
	/* Overlap reads by the longest marker so one split across reads is seen. */
	char buf[8192];
	const size_t overlap = 64;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		long long from = *offset > (long long)overlap ? *offset - (long long)overlap : 0;

		n = pread(fd, buf, sizeof(buf), from);
		if (n <= 0)
			break;
		if (om_console_shows_panic(buf, (size_t)n))
			*panic = true;
		if (from + n <= *offset)
			break;
		*offset = from + n;
		if ((size_t)n < sizeof(buf))
			break;
	}
	close(fd);
	return n < 0 ? -errno : 0;
}

int om_console_tail(const char *path, unsigned int lines, char *out, size_t cap)
{
	struct stat st;
	off_t from;
	ssize_t n;
	char *p;
	int fd;

	if (cap == 0)
		return -EINVAL;
	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	from = st.st_size > (off_t)(cap - 1) ? st.st_size - (off_t)(cap - 1) : 0;
	n = pread(fd, out, cap - 1, from);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	/* Keep the last `lines` lines: walk back over that many newlines. */
	p = out + n;
	if (p > out && p[-1] == '\n')
		p--;
	for (unsigned int seen = 0; p > out; p--) {
		if (p[-1] == '\n' && ++seen == lines)
			break;
	}
	memmove(out, p, (size_t)(out + n - p) + 1);
	return 0;
}
