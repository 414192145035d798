/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture of the tests of the omhostd process (test-hostd-frontends.c,
 * -hostile.c, -limits.c): omhostd as a child, driven by synthetic
 * vhost-user front-ends (tests/support/vu-frontend: QEMU and the guest
 * driver without a VM). Each function is described where it is defined
 * (hostd-fixture.c).
 *
 * Each test starts its own omhostd (--dir a fresh directory, --nodes 1-3),
 * plays up to three guests against its sockets, reads its counters on the
 * control socket as omhostctl does, and ends with finish(): every
 * front-end gone, omhostd must hold no more fds than when it started and
 * no guest memory; on SIGTERM it must exit by itself with status 0 (under
 * the sanitizers that includes LeakSanitizer's verdict), leaving only its
 * log in the directory; and this process must have no fd or child left.
 *
 * Every wait is bounded (front-end waits FE_TIMEOUT_MS, start and stop
 * START/STOP_TIMEOUT_MS): a hung omhostd fails the test, it does not hang
 * it. omhostd's path comes from $OMHOSTD (tests/meson.build). Payloads are
 * derived from (source, destination, seq, length) and a seed ($OMHF_SEED,
 * printed), so a receiver checks every byte without being told what was
 * sent. omhostd's log (DIR/omhostd.log) is printed when a test fails.
 */
#ifndef OM_TESTS_HOSTD_FIXTURE_H
#define OM_TESTS_HOSTD_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <cmocka.h>

#include <linux/virtio_om.h>

#include "control-client.h"
#include "vu-frontend.h"

#define NODES 3u		 /* omhostd serves 1..NODES */
#define FE_TIMEOUT_MS 5000	 /* every front-end wait */
#define START_TIMEOUT_MS 5000	 /* omhostd serving after fork */
#define STOP_TIMEOUT_MS 5000	 /* omhostd gone after SIGTERM */
#define STATE_TIMEOUT_MS 5000	 /* a node reaching a state */
#define TX_SLOTS 32u		 /* front-ends' tx messages in flight */
#define MAX_MSG (VIRTIO_OM_HDR_SIZE + VIRTIO_OM_MAX_PAYLOAD)
#define PF_OFFERED (VUF_BIT(VUF_PF_REPLY_ACK) | VUF_BIT(VUF_PF_CONFIG))

struct acct {
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes;
};

struct fx {
	char dir[64], log[96];
	pid_t pid;		/* the omhostd running, 0 for none */
	int self_fds;		/* our open fds before the test */
	int hostd_fds;		/* omhostd's fds once serving, before any front-end */
	int64_t first_start_us; /* wall clock before the first omhostd started */
	struct vuf *f[NODES + 1];		/* node i's front-end, or NULL */
	struct acct a[NODES + 1];		/* what each node sent and got, counted here */
	uint64_t sent[NODES + 1][NODES + 1];	/* last seq sent, [src][dst] */
	uint64_t got[NODES + 1][NODES + 1];	/* last seq received, [dst][src] */
	uint64_t ctl_seq[NODES + 1];		/* last control seq each node got */
	bool done;				/* the test reached its end */
	const char *args[6];	/* omhostd's options after --dir and --nodes, NULL-ended */
	bool set_nofile;
	struct rlimit nofile;	/* omhostd's RLIMIT_NOFILE, when set_nofile */
};

/* A received message, header in host byte order. */
struct msg {
	uint16_t version, type;
	uint32_t flags, src, dst, src_pid, dst_pid, len, reserved;
	uint64_t seq, reply_to;
	size_t total;	  /* the length the device reported */
	uint8_t *payload; /* valid until the next receive */
};

/* How a message is sent (fe_send). */
struct out {
	uint32_t flags, src_pid, dst_pid;
	uint64_t reply_to;
	bool lie;	      /* write claimed_src as src_node: the relay must stamp the truth */
	uint32_t claimed_src;
	unsigned int segs, chain; /* vuf_msg_opts */
};

/* A node's line of the status answer. */
struct nstat {
	char state[16];
	uint64_t tx_msgs, tx_bytes, rx_msgs, rx_bytes, stalls, undeliverable, refused;
	uint64_t connects, disconnects, evictions, unauthorized, backoff_refused, log_suppressed;
	uint64_t unresponsive, dropped_unresponsive;
	uint64_t queued, queued_total, queue_full, queue_dropped;
	bool waiting;
};

extern uint64_t seed; /* payloads and random lengths derive from it ($OMHF_SEED) */
extern uint8_t rx_buf[MAX_MSG + 64], tx_buf[VIRTIO_OM_MAX_PAYLOAD], want_buf[VIRTIO_OM_MAX_PAYLOAD];

int64_t mono_ms(void);
int64_t wall_us(void);
int count_fds(pid_t pid);
int count_guest_maps(pid_t pid);
int remove_dir(const char *dir, const char *keep);
void dump_log(const struct fx *fx);
long log_mark(const struct fx *fx);
void expect_evicted_for(const struct fx *fx, long mark, uint32_t node, const char *why);
unsigned int count_logged(const struct fx *fx, long mark, const char *needle);
void expect_logged(const struct fx *fx, long mark, const char *needle, char *line,
		   size_t cap);
uint64_t mix64(uint64_t x);
void fill(uint8_t *p, uint32_t src, uint32_t dst, uint64_t seq, uint32_t len);
uint32_t random_len(uint64_t *rng, uint32_t max);
void ctl_path(const struct fx *fx, char *buf, size_t cap);
void node_path(const struct fx *fx, uint32_t node, char *buf, size_t cap);
void hostd_status(const struct fx *fx, char *buf, size_t cap);
uint64_t field_u64(const char *line, const char *key);
uint64_t field_u64_new(const char *line, const char *key);
void get_nstat(const struct fx *fx, uint32_t node, struct nstat *s);
void wait_state(const struct fx *fx, uint32_t node, const char *state);
void wait_waiting(const struct fx *fx, uint32_t node, bool waiting);
void hostd_start(struct fx *fx);
bool hostd_signal(struct fx *fx, int sig, int timeout_ms, int *status);
void hostd_alive(const struct fx *fx);
void hostd_stop(struct fx *fx);
void hostd_crash(struct fx *fx);
struct vuf_opts fe_default_opts(void);
struct vuf *fe_open(struct fx *fx, uint32_t node, const struct vuf_opts *opts);
struct vuf *fe_up(struct fx *fx, uint32_t node, const struct vuf_opts *opts);
void fe_drop(struct fx *fx, uint32_t node);
uint64_t fe_send(struct fx *fx, uint32_t src, uint32_t dst, uint16_t type,
		 const void *payload, uint32_t len, const struct out *o);
uint64_t send_data(struct fx *fx, uint32_t src, uint32_t dst, uint32_t len,
		   const struct out *o);
int fe_try_recv(struct fx *fx, uint32_t node, struct msg *m, int timeout_ms);
void fe_recv(struct fx *fx, uint32_t node, struct msg *m);
const char *type_name(uint16_t t);
void expect_event(struct fx *fx, uint32_t at, uint16_t type, uint32_t about, uint32_t reason);
void expect_any_data(struct fx *fx, uint32_t at, uint16_t type, struct msg *m);
void expect_data_from(struct fx *fx, uint32_t at, uint32_t from, struct msg *m);
void check_relay(struct fx *fx, uint32_t a, uint32_t b, uint32_t len);
void up_all(struct fx *fx, const struct vuf_opts *opts);
void variant_opts(struct vuf_opts o[NODES + 1]);
void check_counters(const struct fx *fx, uint32_t node);
void finish(struct fx *fx);
int setup(void **state);
int teardown(void **state);
void send_ok(int r);
void request_unknown(struct vuf *f);

/*
 * Runs tests (each with setup and teardown), as the tests' main(): the seed
 * from $OMHF_SEED, the tests whose names match $OMHF_ONLY (* and ?).
 */
int hf_run(const char *group, const struct CMUnitTest *tests, size_t n);

#endif /* OM_TESTS_HOSTD_FIXTURE_H */
