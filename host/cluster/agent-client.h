/* SPDX-License-Identifier: GPL-2.0-only */
/* The host side of the guest agent's protocol (guest-tools/agent). */
#ifndef OM_CLUSTER_AGENT_CLIENT_H
#define OM_CLUSTER_AGENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "agent-proto.h"

struct om_agent {
	int fd;
	int lock_fd;
	uint8_t frame[OMA_HEADER_SIZE + OMA_MAX_PAYLOAD]; /* incoming */
	size_t have; /* bytes of an incoming frame read so far */
	uint8_t out[OMA_HEADER_SIZE + OMA_MAX_PAYLOAD]; /* outgoing */
};

/*
 * Connects to the agent socket. With lock_path, first takes that lock so
 * that requests to one guest are served one client at a time. Returns 0 or
 * -errno (-ECONNREFUSED / -ENOENT while QEMU is not listening yet).
 */
int om_agent_open(struct om_agent *a, const char *sock_path, const char *lock_path);
void om_agent_close(struct om_agent *a);

/* Sends a hello (non-blocking: for poll loops). */
int om_agent_send_hello(struct om_agent *a);

/*
 * Reads what is there of the hello's answer without blocking. Returns 1 with
 * info filled ("node=N\nrelease=R\n") once it is whole, 0 while incomplete,
 * or -errno (-EPIPE when the agent's side closed).
 */
int om_agent_poll_hello(struct om_agent *a, char *info, size_t cap);

/* Hello and its answer, waiting at most timeout_ms. */
int om_agent_hello(struct om_agent *a, char *info, size_t cap, unsigned int timeout_ms);

struct om_exec_result {
	enum oma_exit_how how;
	int value;
	char error[512]; /* the agent's message when it could not run the command */
};

/*
 * Runs argv in the guest: in_fd (or -1 for none) streams to the command's
 * stdin, its stdout and stderr go to out_fd and err_fd. The guest kills the
 * command after timeout_ms (0: never); we give up on a guest that has not
 * answered grace_ms after that. Returns 0 with res filled, or -errno.
 */
int om_agent_exec(struct om_agent *a, char *const argv[], unsigned int timeout_ms,
		  unsigned int grace_ms, int in_fd, int out_fd, int err_fd,
		  struct om_exec_result *res);

/* Writes the content of src_fd to path in the guest with mode. */
int om_agent_put(struct om_agent *a, int src_fd, const char *path, unsigned int mode,
		 unsigned int timeout_ms, char *error, size_t error_cap);

/* The exit status a shell would give for res (124 timed out, 128+N signals). */
int om_exec_status(const struct om_exec_result *res);

#endif /* OM_CLUSTER_AGENT_CLIENT_H */
