/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monotonic clock in milliseconds, which the guest tools time round
 * trips, deadlines and pacing with. Also built for the host
 * (tests/unit/test-guest-common.c).
 */
#ifndef OM_MONO_TIME_H
#define OM_MONO_TIME_H

/* CLOCK_MONOTONIC, in milliseconds. */
double mono_now_ms(void);

/* Sleeps until mono_now_ms() reaches when_ms; returns at once if it has. */
void mono_sleep_until_ms(double when_ms);

#endif /* OM_MONO_TIME_H */
