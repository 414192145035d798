/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture of the tests of linked omhostd processes (test-hostd-links.c,
 * test-hostd-link-faults.c): relays as children with their own directories
 * and logs, their status read as omhostctl does, keys written as an
 * operator would, synthetic front-ends (vu-frontend) as their guests, and a
 * TCP relay between two omhostds that a test can sever. $OMHOSTD names the
 * omhostd under test. Every wait is bounded (LF_TIMEOUT_MS).
 */
#ifndef OM_TESTS_LINK_FIXTURE_H
#define OM_TESTS_LINK_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vu-frontend.h"

#define LF_TIMEOUT_MS 5000

struct lf_relay {
	char dir[64];
	pid_t pid;
	/* How it was started, for lf_relay_restart(). */
	char name[32], nodes[16], psk[96], peer[96], extra[4][32];
	uint16_t listen_port; /* 0: does not listen */
};

long long lf_now_ms(void);
/* A fresh directory under /tmp for a test's relays; its path in top (cap >= 32). */
int lf_mkdtemp(char *top, size_t cap);
/* A port of this run's own between 20000 and 39999, so parallel runs do not meet. */
uint16_t lf_port(unsigned int salt);
/* Writes a keys file for peer name (32 bytes from fill), mode 0600. */
void lf_write_key(const char *path, const char *name, unsigned char fill);
/*
 * Starts omhostd for r (its fields set: dir, name, nodes, psk, peer,
 * listen_port, extra options NULL-ended or empty strings), logging to
 * r->dir/omhostd.log.
 */
void lf_relay_start(struct lf_relay *r);
/* SIGTERM, and it must exit 0. */
void lf_relay_stop(struct lf_relay *r);
/* SIGKILL (as a crash), waited for. */
void lf_relay_kill(struct lf_relay *r);
/* The status answer of r ("" when it does not answer). */
void lf_status(const struct lf_relay *r, char *buf, size_t cap);
/* key's value on the first line starting with line_start; UINT64_MAX if absent. */
uint64_t lf_field(const char *buf, const char *line_start, const char *key);
/* Waits until r's status has want in it (fails the test after LF_TIMEOUT_MS). */
void lf_wait_status(const struct lf_relay *r, const char *want);
/* A front-end for node on r's socket, handshaken (fails the test otherwise). */
struct vuf *lf_frontend(const struct lf_relay *r, uint32_t node);

/*
 * A TCP relay (a child process) from 127.0.0.1:listen_port to
 * 127.0.0.1:to_port, one connection at a time; lf_proxy_cut() resets the
 * connection it carries (both sides see it end) and it accepts the next.
 */
struct lf_proxy {
	pid_t pid;
	uint16_t listen_port, to_port;
	int ack_fd; /* the proxy writes a byte here after each cut */
	unsigned int cuts;
};
void lf_proxy_start(struct lf_proxy *p);
/* Cuts what it carries now; returns once the proxy did (bounded wait). */
void lf_proxy_cut(struct lf_proxy *p);
void lf_proxy_stop(struct lf_proxy *p);

#endif /* OM_TESTS_LINK_FIXTURE_H */
