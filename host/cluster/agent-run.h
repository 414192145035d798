/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A command run, or a file copied, in one guest through its agent, with the
 * messages and exit statuses of `omcluster exec` and `cp`: shared by
 * omcluster (a node of a cluster) and omvirt (an om libvirt domain), which
 * differ only in how they find the agent's socket and name the guest.
 */
#ifndef OM_CLUSTER_AGENT_RUN_H
#define OM_CLUSTER_AGENT_RUN_H

#include <stdbool.h>

/* Exit status when the command could not be run at all (as ssh does). */
#define OM_EXEC_FAILED 255

struct om_agent_target {
	const char *who;  /* "node 2", "domain om-node2": how messages name the guest */
	const char *sock; /* the agent's port on the host */
	const char *lock; /* taken first so that one client at a time talks; or NULL */
	/* Tells the user one line (the tool's own prefix, then the message). */
	void (*say)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

/*
 * Runs argv in the guest: our stdin forwarded if forward_stdin (else it
 * reads EOF), its stdout and stderr on ours. The guest kills it after
 * timeout_s seconds (0: never); a guest that has not answered 30 s past
 * that fails the call. Returns the command's status (128+N for signal N,
 * 124 timed out), or OM_EXEC_FAILED when it could not be run, said why.
 */
int om_agent_run(const struct om_agent_target *t, char *const argv[], unsigned int timeout_s,
		 bool forward_stdin);

/*
 * Copies the regular file src into the guest at the absolute path dst
 * (atomically replaced), with mode if mode_set, else src's. 0, or 1 after
 * saying why.
 */
int om_agent_copy(const struct om_agent_target *t, const char *src, const char *dst,
		  bool mode_set, unsigned int mode);

#endif /* OM_CLUSTER_AGENT_RUN_H */
