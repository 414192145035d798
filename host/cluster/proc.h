/* SPDX-License-Identifier: GPL-2.0-only */
/* Starting, recognising and stopping the processes a cluster owns. */
#ifndef OM_CLUSTER_PROC_H
#define OM_CLUSTER_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* The environment variable that marks a process as a cluster's (owner: its directory). */
#define OM_PROC_OWNER_ENV "OMCLUSTER_OWNER"

/*
 * Starts argv in a session of its own (so it outlives us and our terminal's
 * signals), stdin from /dev/null, stdout and stderr appended to log_path,
 * marked as owner's (OM_PROC_OWNER_ENV=owner in its environment) unless
 * owner is NULL. Returns 0 with id filled, or -errno (including the exec's
 * own failure).
 */
int om_proc_spawn(char *const argv[], const char *log_path, const char *owner,
		  struct om_proc_id *id);

/* The start time of pid from /proc (clock ticks after boot), or -errno. */
int om_proc_start_time(pid_t pid, unsigned long long *start);

/* True while id's process runs: same pid, same start time, not a zombie. */
bool om_proc_alive(const struct om_proc_id *id);

/*
 * Stops id's process: SIGTERM, then SIGKILL after timeout_ms, then waits
 * for it to be gone. Returns 0 (also when it was already gone) or -ETIMEDOUT.
 */
int om_proc_stop(const struct om_proc_id *id, unsigned int timeout_ms);

/*
 * Stops every process om_proc_spawn started for owner, found by the mark
 * in its environment: down's sweep for those an up killed before it
 * recorded them could not. Never one it did not start, whatever its
 * command line. Returns how many remain.
 */
unsigned int om_proc_stop_strays(const char *owner, unsigned int timeout_ms);

/* Stops id's process at once with SIGKILL (a crash) and waits for it to be gone. */
int om_proc_kill(const struct om_proc_id *id);

/*
 * Runs argv (stdin from /dev/null) and collects its stdout and stderr into
 * out (NUL-terminated; what does not fit is read and dropped). Returns its
 * exit status (0-255, 128+N for a signal), or -errno: -ETIMEDOUT when it
 * ran longer than timeout_ms (it is killed), -ENOENT etc. when it could not
 * be started.
 */
int om_proc_capture(char *const argv[], char *out, size_t cap, unsigned int timeout_ms);

/* Milliseconds on the monotonic clock. */
long long om_now_ms(void);

/* Sleeps about ms milliseconds (a signal may end it early). */
void om_sleep_ms(unsigned int ms);

#endif /* OM_CLUSTER_PROC_H */
