/* SPDX-License-Identifier: GPL-2.0-only */
/* Starting, recognising and stopping the processes a cluster owns. */
#ifndef OM_CLUSTER_PROC_H
#define OM_CLUSTER_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* The environment variable that marks a process as a cluster's (owner: its directory). */
#define OM_PROC_OWNER_ENV "OMCLUSTER_OWNER"

/* Whose a spawned process is. */
struct om_owner {
	/* The cluster's cgroup: the process is put in it before it runs argv. */
	const char *cgroup;
	/* Without a cgroup, the cluster's directory: the mark OM_PROC_OWNER_ENV=dir. */
	const char *dir;
	/* When set, the network namespace it runs in (a file: /run/netns/NAME; up --hosts). */
	const char *netns;
};

/*
 * Starts argv in a session of its own (so it outlives us and our terminal's
 * signals), stdin from /dev/null, stdout and stderr appended to log_path,
 * in owner->cgroup or else marked as owner->dir's (none when owner is
 * NULL), in owner->netns when set, with a pidfd on it in id. Returns 0 with id filled, or -errno
 * (including the exec's own failure, or the cgroup's refusal).
 */
int om_proc_spawn(char *const argv[], const char *log_path, const struct om_owner *owner,
		  struct om_proc_id *id);

/* The start time of pid from /proc (clock ticks after boot), or -errno. */
int om_proc_start_time(pid_t pid, unsigned long long *start);

/*
 * True while id's process runs: with a pidfd, while that process has not
 * exited; else same pid, same start time, not a zombie.
 */
bool om_proc_alive(const struct om_proc_id *id);

/*
 * Stops id's process: SIGTERM, then SIGKILL after timeout_ms, then waits
 * for it to be gone. Signals go through a pidfd: id's own, else one opened
 * and checked against the start time, so a reused pid is never hit.
 * Returns 0 (also when it was already gone) or -ETIMEDOUT.
 */
int om_proc_stop(const struct om_proc_id *id, unsigned int timeout_ms);

/*
 * Without a cgroup only: stops every process that carries owner's mark in
 * its environment, down's sweep for those an up killed before it recorded
 * them. Weaker than a cgroup: a process that drops the mark escapes it and
 * one given the mark by hand is hit. Never a process by its command line.
 * Returns how many remain.
 */
unsigned int om_proc_stop_strays(const char *owner, unsigned int timeout_ms);

/* Stops id's process at once with SIGKILL (a crash) and waits for it to be gone. */
int om_proc_kill(const struct om_proc_id *id);

/* Closes id's pidfd, if any (the process itself is left as it is). */
void om_proc_release(struct om_proc_id *id);

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
