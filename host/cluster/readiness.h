/* SPDX-License-Identifier: GPL-2.0-only */
/* Is a booting guest ready, still booting, or lost? */
#ifndef OM_CLUSTER_READINESS_H
#define OM_CLUSTER_READINESS_H

#include <stdbool.h>
#include <stddef.h>

enum om_guest_verdict {
	OM_GUEST_BOOTING,
	OM_GUEST_READY,
	OM_GUEST_PANICKED,
	OM_GUEST_EXITED,
	OM_GUEST_TIMED_OUT,
};

/* What was observed of one guest at one moment. */
struct om_guest_observation {
	bool process_alive;  /* its QEMU still runs */
	bool agent_answered; /* its agent answered a hello */
	bool console_panic;  /* its console shows a kernel panic */
	long long elapsed_ms;
	long long timeout_ms;
};

/*
 * The verdict, most telling first: a panic is reported as such even though
 * QEMU then exits; an answer means ready; time runs out last.
 */
enum om_guest_verdict om_readiness_verdict(const struct om_guest_observation *o);

const char *om_verdict_name(enum om_guest_verdict v);

/* True when text (console output) shows a kernel panic. */
bool om_console_shows_panic(const char *text, size_t len);

/*
 * Scans a console log from *offset on for a panic, advancing *offset, so a
 * poll loop reads each byte once. Sets *panic when one shows.
 */
int om_console_scan(const char *path, long long *offset, bool *panic);

/* Copies the last `lines` lines of path into out (NUL-terminated). */
int om_console_tail(const char *path, unsigned int lines, char *out, size_t cap);

#endif /* OM_CLUSTER_READINESS_H */
