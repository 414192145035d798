/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture of the tests of linked omhostd processes (test-hostd-links.c,
 * test-hostd-link-faults.c): relays as children with their own directories
 * and logs, their status read as omhostctl does, keys written as an
 * operator would, synthetic front-ends (vu-frontend) as their guests, a
 * TCP relay between two omhostds that a test can sever or make slow, and
 * network namespaces for relays to run in. $OMHOSTD names the omhostd under
 * test. Every wait is bounded (LF_TIMEOUT_MS).
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
	char listen_addr[32]; /* "": 127.0.0.1 */
	char netns[64];	      /* a namespace of `ip netns` to run in; "": this one */
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
 * With delay_ms, each byte is passed on delay_ms after it was read, in
 * order; it never drops a byte it read while both sides stay connected
 * (when its buffer is full it stops reading: TCP's own backpressure), so
 * a message lost through it is the relays' doing.
 */
struct lf_proxy_counts {
	/*
	 * Bytes of the connection carried now (from 0 at each one) read from
	 * a side and written to the other: [0] dialler to listener, [1] back.
	 */
	uint64_t in[2], out[2];
	/* Connections taken, and ended by a side or a failure (a cut is not counted). */
	uint32_t accepted, ended;
};
struct lf_proxy {
	pid_t pid;
	uint16_t listen_port, to_port;
	unsigned int delay_ms;
	int ack_fd; /* the proxy writes a byte here after each cut */
	unsigned int cuts;
	struct lf_proxy_counts *counts; /* the child's, shared */
};
void lf_proxy_start(struct lf_proxy *p);
/* What the proxy carried so far (a snapshot of its counts). */
struct lf_proxy_counts lf_proxy_counts(const struct lf_proxy *p);
/* Cuts what it carries now; returns once the proxy did (bounded wait). */
void lf_proxy_cut(struct lf_proxy *p);
void lf_proxy_stop(struct lf_proxy *p);

/*
 * Network namespaces for relays: two (a and b) joined by a veth pair,
 * LF_NET_A and LF_NET_B on it. Names made of prefix and this process's
 * pid. 0, or -1 with why in why (no root, no ip, a namespace refused):
 * the caller skips. lf_netns_remove() deletes them (bounded), whatever
 * lf_netns_pair() made.
 */
#define LF_NET_A "10.79.0.1"
#define LF_NET_B "10.79.0.2"
int lf_netns_pair(const char *prefix, char *a, char *b, size_t cap, char *why, size_t whycap);
void lf_netns_remove(const char *a, const char *b);
/* Runs a shell command line (at most 10 s); its exit status, -1 when it did not end so. */
int lf_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, its output (at most cap - 1 bytes) in out. */
int lf_sh_out(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* OM_TESTS_LINK_FIXTURE_H */
