// SPDX-License-Identifier: GPL-2.0-only
#include "mono-time.h"

#include <time.h>
#include <unistd.h>

double mono_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void mono_sleep_until_ms(double when_ms)
{
	/* A signal may end a sleep early; the extra microsecond rounds up. */
	while (mono_now_ms() < when_ms)
		usleep((useconds_t)((when_ms - mono_now_ms()) * 1000) + 1);
}
