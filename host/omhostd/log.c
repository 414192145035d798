// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "omhostd.h"

static void om_vlog(const char *fmt, va_list ap, unsigned long long suppressed)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "omhostd[%lld.%03ld]: ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	vfprintf(stderr, fmt, ap);
	if (suppressed)
		fprintf(stderr, " (%llu similar lines suppressed)", suppressed);
	fputc('\n', stderr);
}

/* One line on stderr, with wall-clock time: omcluster keeps it in omhostd.log. */
void om_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	om_vlog(fmt, ap, 0);
	va_end(ap);
}

bool om_log_allow(struct om_log_limit *l, long long now_ms, uint64_t *told)
{
	*told = 0;
	if (!l->lines || now_ms - l->window_ms >= OM_LOG_WINDOW_MS) {
		l->window_ms = now_ms;
		l->lines = 0;
	}
	if (l->lines >= OM_LOG_BURST) {
		l->pending++;
		return false;
	}
	l->lines++;
	*told = l->pending;
	l->pending = 0;
	return true;
}

void om_log_limited(struct om_log_limit *l, uint64_t *suppressed, const char *fmt, ...)
{
	uint64_t told;
	va_list ap;

	if (!om_log_allow(l, om_now_ms(), &told)) {
		(*suppressed)++;
		return;
	}
	va_start(ap, fmt);
	om_vlog(fmt, ap, told);
	va_end(ap);
}
