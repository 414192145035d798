/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omhostd: the host relay of virtio-om. One process serves every guest of
 * a host: each guest node has its own vhost-user socket (the node id is
 * the socket's, never the guest's word), and messages taken from one
 * node's tx ring are written straight into the destination node's rx
 * buffers (one copy, guest memory to guest memory).
 *
 * Order and backpressure: a node's tx ring is drained in order; when the
 * head message's destination has no rx buffer, that node's tx waits
 * (stalls) until the destination posts buffers. A destination that takes
 * nothing for --queue-after-ms while senders wait gets a bounded queue
 * (queue.c): messages for it are copied there and their senders go on to
 * other destinations; what does not fit waits in its sender's ring. Nothing
 * is dropped except messages to a node that is down, or to one that held its
 * senders up, taking nothing, for --unresponsive-ms (counted). Rings are used
 * in order, so after an omhostd restart the front-ends resume from the used
 * index and nothing taken but not yet delivered is lost, except what was in
 * a queue (docs/omhostd.md).
 */
#ifndef OM_HOSTD_OMHOSTD_H
#define OM_HOSTD_OMHOSTD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "libvhost-user.h"
#include "loop.h"
#include "msg.h"
#include "trace-wire.h"

#define OM_HOSTD_QUEUE_SIZE_MAX 32768u
#define OM_HOSTD_MAX_WATCHES 4 /* kick fds libvhost-user may watch at once, per node */

struct om_hostd;

enum om_node_state {
	OM_NODE_ABSENT,	   /* no front-end connected */
	OM_NODE_CONNECTED, /* connected, queues not (all) started */
	OM_NODE_UP,	   /* relaying */
};

struct om_node_counters {
	uint64_t tx_msgs, tx_bytes;	/* taken from its tx ring */
	uint64_t rx_msgs, rx_bytes;	/* written into its rx ring (data and control) */
	uint64_t stalls;		/* times its tx waited for a destination's rx */
	uint64_t undeliverable;		/* its messages to a node that was down */
	uint64_t refused[OM_MSG_VERDICT_COUNT]; /* malformed messages it sent */
	uint64_t connects, disconnects, evictions;
	uint64_t unauthorized;		/* front-ends refused for their uid */
	uint64_t backoff_refused;	/* reconnects refused while backing off after an eviction */
	uint64_t log_suppressed;	/* log lines about it not written (rate limit) */
	uint64_t unresponsive;		/* times it was marked unresponsive */
	uint64_t dropped_unresponsive;	/* messages to it dropped while unresponsive */
	uint64_t queued_total;		/* messages for it put in its queue */
	uint64_t queue_full;		/* times a sender waited: its share of the queue was full */
	uint64_t queue_dropped;		/* messages dropped from its queue (down, unresponsive) */
	uint64_t tx_held_total;		/* its messages for a peer's node held until acknowledged */
	uint64_t tx_released;		/* of those, returned unacknowledged after --link-hold-ms */
};

/*
 * A tx chain taken from a node's ring (libvhost-user's element, first: the
 * relay pops tx chains as this), and, while the ring has chains held, its
 * place in the node's txhold list. A message for a peer relay keeps its
 * chain from the guest until the peer acknowledged it (docs/omhostd.md,
 * "Links between hosts"); rings are used in the order they are read, so a
 * chain done behind a held one waits with it.
 */
struct om_txhold {
	VuVirtqElement e;
	TAILQ_ENTRY(om_txhold) link;
	uint64_t serial;	/* its link message's token; 0: done locally */
	long long since_ms;	/* held since */
	bool pending;		/* its peer has not acknowledged it */
};

/* A message held in its destination's queue (queue.c), source stamped. */
struct om_queued {
	TAILQ_ENTRY(om_queued) link;
	struct om_msg_hdr h;
	unsigned char payload[]; /* h.len bytes */
};

/* What one source holds in one destination's queue. */
struct om_queue_share {
	uint32_t msgs;
	uint64_t bytes;
};

/*
 * A log line a front-end or client can cause at will (one per connection
 * or message) is rate-limited per node and rule: at most OM_LOG_BURST in
 * OM_LOG_WINDOW_MS; the next line written says how many were suppressed.
 */
#define OM_LOG_BURST 10u
#define OM_LOG_WINDOW_MS 5000

enum om_log_rule {
	OM_LOG_CONNECT,		/* connected, up, stopped, disconnected */
	OM_LOG_SECOND,		/* a second front-end refused */
	OM_LOG_PEER,		/* a front-end of the wrong uid refused */
	OM_LOG_BACKOFF,		/* a reconnect refused while backing off */
	OM_LOG_RESPONSIVE,	/* its queue opened, marked unresponsive, or responsive again */
	OM_LOG_RULES
};

struct om_log_limit {
	long long window_ms;	/* when the current window began */
	unsigned int lines;	/* written in it */
	uint64_t pending;	/* suppressed since the last line written */
};

/* A watch libvhost-user asked for (a kick eventfd). */
struct om_vu_watch {
	struct om_node *node;
	int fd;
	vu_watch_cb cb;
	void *data;
	struct om_watch *w;
};

struct om_ctl_event {
	uint16_t type;	/* VIRTIO_OM_T_NODE_UP or _DOWN */
	uint32_t node;
	uint32_t reason;
};

struct om_node {
	VuDev dev; /* first: libvhost-user callbacks get &dev */
	struct om_hostd *d;
	uint32_t id;
	enum om_node_state state;
	bool vu_ready;		/* vu_init done, vu_deinit owed */
	bool started[VIRTIO_OM_QUEUE_COUNT];
	bool resumed;		/* its rings were in use before this connection */
	bool ever_up;		/* it was up at some time since omhostd started */
	char sock_path[PATH_MAX];
	int listen_fd;
	struct om_watch *listen_w, *conn_w;
	bool accept_resting; /* accept() found no fd: listen_w dropped for a while (accept.c) */
	struct om_vu_watch watches[OM_HOSTD_MAX_WATCHES];

	/* Set when it broke the protocol; acted on outside libvhost-user. */
	bool evict;
	char evict_why[160]; /* kept after the eviction (tests read it) */

	/*
	 * The front-end's socket is never waited on: the message it is sending
	 * is gathered as it comes, libvhost-user's replies wait in out for
	 * room in the socket (node.c).
	 */
	int sock_fd;	/* the front-end's socket */
	int reply_fd;	/* where libvhost-user's replies come out */
	int timer_fd;	/* ends a wait on the front-end longer than OM_HOSTD_FRONTEND_WAIT_MS */
	struct om_watch *timer_w;
	bool timer_armed;
	struct {
		VhostUserMsg m;	/* header and payload as far as read */
		size_t have;	/* bytes of them read */
		int fds[VHOST_MEMORY_BASELINE_NREGIONS];
		int nfds;
		bool ready;	/* whole, for libvhost-user to take */
		long long since_ms; /* when its first bytes came */
	} in;
	unsigned char out[512]; /* one reply at most (the largest, GET_CONFIG, is 280 B) */
	size_t out_len, out_off;
	long long out_since_ms;	/* since when a reply waits */

	/* tx: the head message waiting for its destination's rx, if any. */
	VuVirtqElement *stalled;
	struct om_msg_hdr stalled_hdr;
	struct om_node *stalled_on;
	struct om_remote *stalled_remote; /* or for a peer's node's outbox (link.c) */
	TAILQ_ENTRY(om_node) wait_link;
	/* rx: the nodes whose stalled head is for this node, in arrival order. */
	TAILQ_HEAD(, om_node) waiters;

	/*
	 * Its tx chains done or sent to a peer and not returned, in ring order
	 * (held for link acknowledgements, relay.c); while empty, a chain is
	 * returned as soon as it is done.
	 */
	TAILQ_HEAD(, om_txhold) txhold;
	uint32_t txhold_n, txhold_pending;
	uint64_t txhold_serial; /* the last token given; never reset, so an old one matches none */

	/* Control messages for it, one per peer at most (the latest). */
	struct om_ctl_event *ctl;
	unsigned int ctl_n;
	uint64_t ctl_seq; /* last seq used for it; starts at the relay's start time */

	bool notify[VIRTIO_OM_QUEUE_COUNT];
	bool runnable;		/* its tx should be drained again */
	bool turn_taken;	/* its tx had its turn in this settle */
	struct om_node_counters c;
	struct om_log_limit log[OM_LOG_RULES];

	/*
	 * Back-off after an eviction: reconnects are refused until
	 * backoff_until_ms, for an interval that doubles with each eviction
	 * in a row (evict_streak), so an evicted front-end that comes back
	 * at once is not evicted again in a loop.
	 */
	unsigned int evict_streak;
	long long last_evict_ms, backoff_until_ms;

	/*
	 * A receiver that takes no message while senders wait for it holds
	 * them up (their tx is in order): after --unresponsive-ms it is marked
	 * unresponsive, what waits for it and what comes for it is dropped,
	 * until it takes a message again (posts rx buffers).
	 */
	bool unresponsive;
	long long waited_since_ms; /* when its first waiter came */
	long long last_rx_ms;	   /* when it last took a message */

	/*
	 * Its queue: copies of messages for it, taken out of their senders'
	 * rings (returned to them as sent) while it does not drain, oldest
	 * first, bounded (queue.c). Open once it took nothing for
	 * --queue-after-ms while senders waited; closed when empty again.
	 */
	TAILQ_HEAD(, om_queued) queue;
	uint32_t queued_msgs;
	uint64_t queued_bytes;	/* headers included */
	struct om_queue_share *queue_from; /* by source: [id - first_node] */
	bool queue_open;
};

/* A peer relay, as --peer gave it. */
struct om_link_peer_config {
	char name[64];
	struct sockaddr_storage addr; /* where it listens */
	socklen_t addr_len;
	char addr_str[80];
	uint32_t first_node, last_node;
};

#define OM_HOSTD_MAX_PEERS 16u
#define OM_HOSTD_PEER_DOWN_MS_DEFAULT 30000u

struct om_hostd_config {
	char dir[PATH_MAX];	 /* node-N.sock and control.sock live here */
	uint32_t first_node, last_node;
	uint32_t max_payload;
	uid_t allow_uid[VIRTIO_OM_MAX_NODES + 1]; /* whose front-ends may be node i's (and root's) */
	bool trace_gid_set;
	gid_t trace_gid;	  /* who besides root gets trace payloads */
	unsigned int backoff_ms; /* the first back-off after an eviction; 0: none */
	unsigned int unresponsive_ms; /* a receiver holding senders up this long is dropped; 0: never */
	/* A destination's queue: at most this many bytes (headers included) and messages; 0: none. */
	uint32_t queue_bytes, queue_msgs;
	unsigned int queue_after_ms; /* a receiver holding senders up this long gets its queue */
	/* A tx ring's turn, messages and bytes; 0: OM_HOSTD_TX_BUDGET_* (tests set less). */
	uint32_t tx_budget_msgs, tx_budget_bytes;
	/* Relay links (link.c): this relay's name, where peers connect, the keys, the peers. */
	char name[64];
	bool listen_set;
	struct sockaddr_storage listen_addr;
	socklen_t listen_len;
	char listen_str[80];
	char psk_file[PATH_MAX];
	unsigned int n_peers;
	struct om_link_peer_config peers[OM_HOSTD_MAX_PEERS];
	unsigned int peer_down_ms; /* a peer unlinked this long: its nodes are down */
	/*
	 * A message for a peer's node keeps its tx chain (and those after it)
	 * from the guest until acknowledged, at most this long; 0: returned at once.
	 */
	unsigned int link_hold_ms;
	unsigned int grace_ms;	   /* after start, messages wait for nodes not yet up */
};

#define OM_HOSTD_LINK_HOLD_MS_DEFAULT 1000u

#define OM_HOSTD_UNRESPONSIVE_MS_DEFAULT 30000u
#define OM_HOSTD_UNRESPONSIVE_MS_MAX 3600000u

/*
 * A destination's queue: 4 MiB and 1024 messages by default (64 max-size
 * messages; its memory is omhostd's, for each node served), opened after
 * 1 s without a message taken. One source may fill a quarter of each
 * bound (OM_HOSTD_QUEUE_SHARE), so a flooding sender leaves room for others.
 */
#define OM_HOSTD_QUEUE_BYTES_DEFAULT (4u << 20)
#define OM_HOSTD_QUEUE_BYTES_MAX (1u << 30)
#define OM_HOSTD_QUEUE_MSGS_DEFAULT 1024u
#define OM_HOSTD_QUEUE_MSGS_MAX (1u << 20)
#define OM_HOSTD_QUEUE_AFTER_MS_DEFAULT 1000u
#define OM_HOSTD_QUEUE_SHARE 4u

/*
 * A tx ring is drained at most this much a turn (messages, bytes; at
 * least one message): a guest that keeps its ring full then waits its turn
 * behind the others' kicks instead of holding the relay (om_hostd_settle).
 * As much as the largest ring (1024) holds: each turn ends with the
 * notifications of what it moved (eventfd writes, wake-ups), which at
 * 128 messages a turn halved relay-bench's 64 B rate.
 */
#define OM_HOSTD_TX_BUDGET_MSGS 1024u
#define OM_HOSTD_TX_BUDGET_BYTES (4u << 20)

/* The back-off after an eviction: the first, and at most (doubling between). */
#define OM_HOSTD_BACKOFF_MS_DEFAULT 1000u
#define OM_HOSTD_BACKOFF_MAX_MS 60000u
/* An eviction this long after the previous one starts the back-off afresh. */
#define OM_HOSTD_BACKOFF_FORGET_MS (2 * OM_HOSTD_BACKOFF_MAX_MS)

/* fds omhostd may need: this many for itself, this many more per node served. */
#define OM_HOSTD_FDS_BASE 64u
#define OM_HOSTD_FDS_PER_NODE 24u

struct om_hostd {
	struct om_hostd_config cfg;
	struct om_loop *loop;
	struct om_node *nodes[VIRTIO_OM_MAX_NODES + 1]; /* NULL: not served here */
	int control_fd;
	struct om_watch *control_w;
	bool control_accept_resting; /* as a node's accept_resting */
	/* Control clients connected, answer not yet sent, oldest first. */
	TAILQ_HEAD(, om_control_client) control_clients;
	unsigned int n_control_clients;
	bool stop;
	unsigned int n_served;
	/*
	 * Until then, a message for a node not yet seen up waits for it
	 * instead of being dropped: after an omhostd restart the front-ends
	 * come back one by one, and a sender may return before its receiver.
	 */
	long long grace_until_ms;
	int grace_fd;
	struct om_watch *grace_w;
	/* Looks for receivers to give a queue or to mark unresponsive, when on. */
	int responsive_fd;
	struct om_watch *responsive_w;
	/* Listening sockets resting after accept() found no fd (accept.c); -1: no timer. */
	int accept_rest_fd;
	struct om_watch *accept_rest_w;
	bool accept_rest_armed;
	struct om_log_limit accept_log;
	uint64_t accept_log_suppressed;
	/* A tx ring was left with messages at the end of its turn: settle again soon. */
	bool more_work;
	/*
	 * Trace listeners (trace.c), packed at the front; the relay's tap
	 * looks only at n_trace_listeners while there are none.
	 */
	struct om_trace_listener *trace[OM_TRACE_MAX_LISTENERS];
	unsigned int n_trace_listeners;
	uint64_t trace_clock_ns;     /* the time last read for a record */
	unsigned int trace_clock_age; /* records stamped with it */
	/* The control socket's lines a client can cause at will, rate-limited. */
	struct om_log_limit control_log;
	uint64_t control_log_suppressed;
	uint64_t trace_payloads_refused; /* listeners given headers only */
	/* Relay links (link.c); NULL without peers. */
	struct om_links *links;
};

/*
 * How long a front-end may take to finish a vhost-user message it began,
 * or to take a reply: QEMU writes and reads whole messages at once.
 */
#define OM_HOSTD_FRONTEND_WAIT_MS 3000

/* How long after start messages wait for nodes not yet seen up (--grace-ms). */
#define OM_HOSTD_GRACE_MS 10000

/* How long a listening socket rests after accept() found no fd or memory. */
#define OM_HOSTD_ACCEPT_REST_MS 100

/*
 * The watchdog's period: a system call of omhostd's that waits on what a
 * front-end holds (an eventfd it made blocking and full, or emptied under
 * omhostd's read) ends with EINTR within two periods.
 */
#define OM_HOSTD_WATCHDOG_MS 500

/* accept.c: listening sockets when fds run out. */
/* Whether accept()'s errno err says fds or memory ran out. */
bool om_accept_starved(int err);
/*
 * The socket named what (its watch *w) could not accept for want of fds
 * (err): it rests, *resting set, *w dropped, until the timer watches it
 * again. False when there is no timer (it is then polled as before).
 */
bool om_accept_rest(struct om_hostd *d, const char *what, int err, struct om_watch **w,
		    bool *resting);
/* The timer, made at start. 0 or -errno. */
int om_accept_open(struct om_hostd *d);
void om_accept_close(struct om_hostd *d);

/* node.c: sockets, the vhost-user side of a node, eviction. */
/*
 * A node of d with no socket and no front-end (om_node_open listens for
 * one; tests and fuzzers attach theirs): NULL without memory. Freed by
 * om_node_close().
 */
struct om_node *om_node_new(struct om_hostd *d, uint32_t id);
int om_node_open(struct om_hostd *d, uint32_t id);
/* Watches n's listening socket (again). 0 or -errno. */
int om_node_listen(struct om_node *n);
void om_node_close(struct om_node *n);
/* Serves a connected front-end on fd (accept's job; tests call it). 0 or -errno, fd taken. */
int om_node_attach(struct om_node *n, int fd);
/*
 * Reads what n's front-end sent, without waiting; handles its message once
 * whole (one a call). Its socket is readable, or the stream has ended.
 */
void om_node_dispatch(struct om_node *n);
/*
 * How long reconnects are refused after the streak-th eviction in a row:
 * first_ms doubled each time, at most OM_HOSTD_BACKOFF_MAX_MS; 0 when first_ms is.
 */
long long om_backoff_ms(unsigned int first_ms, unsigned int streak);
/* Marks n for disconnection (it broke the protocol); done by om_hostd_settle(). */
void om_node_evict(struct om_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* relay.c: moving messages. */
/* Takes src's tx messages, at most one turn's budget; more_work says it left some. */
void om_relay_drain_tx(struct om_node *src);
void om_relay_rx_ready(struct om_node *dst);
void om_relay_node_up(struct om_node *n);
void om_relay_node_down(struct om_node *n, uint32_t reason);
/*
 * Opens the queue of every receiver that held senders up, taking no
 * message, for --queue-after-ms by now_ms (their messages move into it),
 * and marks unresponsive those that did for --unresponsive-ms (what waits
 * for them goes).
 */
void om_relay_check_responsive(struct om_hostd *d, long long now_ms);
/* The grace after start ended: messages for nodes still not up go. */
void om_relay_grace_over(struct om_hostd *d);
/* Milliseconds on the monotonic clock. */
long long om_now_ms(void);
/* Puts the stalled head back in its ring (before a queue stops). */
void om_relay_unstall(struct om_node *n);
void om_relay_flush_notifications(struct om_hostd *d);

/*
 * Runs what callbacks left to do: evictions, tx drains (one turn each),
 * notifications. Sets d->more_work when a ring still has messages: the
 * caller then settles again after looking at its other events.
 */
void om_hostd_settle(struct om_hostd *d);

/*
 * A peer's node, as the relay sees it: the local senders waiting for room
 * in its outbox (link.c).
 */
struct om_remote {
	struct om_link_peer *peer;
	uint32_t id;
	TAILQ_HEAD(, om_node) waiters;
};

/* relay.c, for link.c. */
/* e is done: returned to src's ring, now or once the chains held before it are. */
void om_relay_complete_tx(struct om_node *src, VuVirtqElement *e);
/*
 * e went to a peer relay: held from src's ring until om_relay_tx_settled()
 * with the token returned (0: not held, e returned at once; out of memory
 * or --link-hold-ms 0).
 */
uint64_t om_relay_hold_tx(struct om_node *src, VuVirtqElement *e);
/* The peer acknowledged (or dropped) the message of token: its chain may go back. */
void om_relay_tx_settled(struct om_node *src, uint64_t token);
/* Returns every chain held (the front-end stops the ring or remaps memory). */
void om_relay_tx_release_all(struct om_node *src);
/* Forgets them unreturned: the front-end left, and is offered them again when back. */
void om_relay_tx_forget(struct om_node *src);
/* Returns the chains held for longer than --link-hold-ms by now_ms (counted). */
void om_relay_check_holds(struct om_hostd *d, long long now_ms);
/* src's message e waits for room in remote's outbox. */
void om_relay_stall_remote(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h,
			   struct om_remote *remote);
/* src's message e goes nowhere (its destination is down): counted, traced. */
void om_relay_drop(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h);
/* Queues a control message for dst about node (one per node, the latest). */
void om_relay_queue_ctl(struct om_node *dst, uint16_t type, uint32_t node, uint32_t reason);
/* Writes a message (header h, payload) into dst's rx; false when it has no buffer now. */
bool om_relay_deliver_copy(struct om_node *dst, const struct om_msg_hdr *h, const void *payload);
bool om_relay_node_usable(const struct om_node *n);
bool om_relay_node_awaited(const struct om_node *n);

/*
 * link.c: links to peer relays (docs/omhostd.md "Links between hosts").
 * All are no-ops without peers.
 */
int om_links_open(struct om_hostd *d);
void om_links_close(struct om_hostd *d);
/* The peer's node a message to id goes to, or NULL (not a peer's). */
struct om_remote *om_link_remote(struct om_hostd *d, uint32_t id);
/* Routes src's message e (header h) to a peer's node: false when src must wait. */
bool om_link_route(struct om_node *src, VuVirtqElement *e, const struct om_msg_hdr *h,
		   struct om_remote *r);
/* What peers sent for dst, as far as it has buffers (after its control messages and queue). */
void om_link_deliver(struct om_node *dst);
void om_link_node_up(struct om_node *n, uint32_t reason);
void om_link_node_down(struct om_node *n, uint32_t reason);
/* Writes what every link has due (after each settle). */
void om_links_flush(struct om_hostd *d);
/* The start's grace is over: peers hear which of our nodes did not come back. */
void om_links_grace_over(struct om_hostd *d);
/* The status lines of the links; 0 or -ENOSPC. */
int om_links_status(struct om_hostd *d, char *buf, size_t cap, size_t *len);

/* queue.c: a destination's queue (struct om_node). */
/* Whether a message of len payload bytes from node src fits in dst's queue. */
bool om_queue_fits(const struct om_node *dst, uint32_t src, uint32_t len);
/* Copies a message (header h, payload at byte off of iov) into dst's queue: 0 or -ENOMEM. */
int om_queue_push(struct om_node *dst, const struct om_msg_hdr *h, const struct iovec *iov,
		  unsigned int n, size_t off);
/* Takes q (delivered) out of dst's queue and frees it. */
void om_queue_remove(struct om_node *dst, struct om_queued *q);
/*
 * Drops the messages of dst's queue from node src (0: all), counted as
 * dst's queue_dropped and their sources' undeliverable; how many.
 */
uint32_t om_queue_drop(struct om_node *dst, uint32_t src);

/* The node served here, or NULL. */
static inline struct om_node *om_hostd_node(struct om_hostd *d, uint32_t id)
{
	return id <= VIRTIO_OM_MAX_NODES ? d->nodes[id] : NULL;
}

/* control.c: the control socket (status for omhostctl). */
int om_control_open(struct om_hostd *d);
/* Watches the control socket (again). 0 or -errno. */
int om_control_listen(struct om_hostd *d);
void om_control_close(struct om_hostd *d);
/* Writes the status text (docs/omhostd.md) into buf; 0 or -ENOSPC. */
int om_control_status(struct om_hostd *d, char *buf, size_t cap, size_t *len);

/*
 * trace.c: listeners of the relayed traffic (docs/tracing.md). The tap
 * costs one predictable branch while no one listens; a slow listener
 * misses records, counted, and never holds the relay up.
 */
static inline bool om_trace_on(const struct om_hostd *d)
{
	/* The switch's only use: no layout depends on it, objects built either way agree. */
#ifdef OM_HOSTD_NO_TRACE
	(void)d;
	return false; /* the tap compiled out: relay-bench's baseline */
#else
	return __builtin_expect(d->n_trace_listeners != 0, 0);
#endif
}
/*
 * Records a message for every listener: its header h as relayed, raw the
 * same encoded (or NULL), its payload at byte off of the iovec array.
 * Call only when om_trace_on().
 */
void om_trace_msg(struct om_hostd *d, enum om_trace_event event, const struct om_msg_hdr *h,
		  const unsigned char *raw, const struct iovec *iov, unsigned int n, size_t off);
/*
 * Records a relay link's frame or event for every listener (trace-wire.h,
 * OM_TRACE_REC_LINK): peer's name, the frame's 32-byte header (NULL for
 * LINK_UP and LINK_DOWN), its payload of len bytes, of which a listener
 * gets its snaplen beyond a message header's 48 (a DATA frame's message
 * header, then its snaplen of payload, as for a message); LINK_DOWN's
 * payload is why, as text. Call only when om_trace_on().
 */
void om_trace_link(struct om_hostd *d, enum om_trace_event event, const char *peer,
		   const unsigned char *hdr, const void *payload, uint32_t len);
/* Whether a control request line asks for a trace ("trace" and options). */
bool om_trace_is_request(const char *line);
/*
 * Parses "trace [snaplen=BYTES] [buffer=BYTES]": 0, or -EINVAL with a
 * message for the client in err.
 */
int om_trace_parse_request(const char *line, uint32_t *snaplen, uint32_t *buffer, char *err,
			   size_t errlen);
/*
 * Makes the control connection fd a listener for the request line, with
 * payloads or headers only. 0 (fd taken), or -errno with a message for the
 * client in err (fd not taken).
 */
int om_trace_attach(struct om_hostd *d, int fd, const char *line, bool payloads, char *err,
		    size_t errlen);
/* Sends what listeners have waiting, as far as their sockets take it. */
void om_trace_flush(struct om_hostd *d);
void om_trace_close_all(struct om_hostd *d);

void om_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The rate limit's verdict for one more line under l at now_ms: true to
 * write it, with *told the lines suppressed before it (to say so).
 */
bool om_log_allow(struct om_log_limit *l, long long now_ms, uint64_t *told);
/* om_log under l's rate limit; a line not written counts in *suppressed. */
void om_log_limited(struct om_log_limit *l, uint64_t *suppressed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* om_log_limited for node n's rule r. */
#define om_log_node(n, r, ...) om_log_limited(&(n)->log[(r)], &(n)->c.log_suppressed, __VA_ARGS__)

#endif /* OM_HOSTD_OMHOSTD_H */
