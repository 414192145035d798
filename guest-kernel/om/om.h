/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The omvm engine's internal interface. A process that moves keeps a
 * struct om_proc on each node that holds one of its halves: at home the
 * process itself (before and after a trip) or its deputy (while it runs
 * away), and on the node it runs on, the process (called remote there).
 * docs/engine.md describes the whole.
 */
#ifndef _KERNEL_OM_OM_H
#define _KERNEL_OM_OM_H

#include <linux/bvec.h>
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/workqueue.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/om_kcom.h>
#include <uapi/linux/virtio_om.h>

#define OM_ENGINE_VERSION "0.2"

/* How long one side of a move waits for the other's next step. */
#define OM_STEP_TIMEOUT (60 * HZ)
/* How long a sender waits for RUNNING after GO before it takes the process back. */
#define OM_RUNNING_TIMEOUT_MS 10000
/* Files of home a deputy holds open for its process at once (rfile_home.c). */
#define OM_RFILES 8
/* Writes behind (behind.c): descriptors they may use, answers awaited at most. */
#define OM_BEHIND_FDS 256
#define OM_BEHIND_WINDOW 32
/* The largest file of home a process away maps; larger ones are used at home. */
#define OM_RFILE_MAX_SIZE BIT_ULL(30)
/* Delegated files (deleg.c): the largest, pages a flush message carries, locks a return. */
#define OM_DELEG_MAX_SIZE OM_RFILE_MAX_SIZE
#define OM_DELEG_FLUSH_PAGES 15
#define OM_DELEG_LOCKS_MAX 256
/* Names that do not exist at home (names.c): kept away per process, longest path, deepest. */
#define OM_NAMES_MAX 32
#define OM_NAMES_PATH_MAX 256
#define OM_NAMES_DEPTH_MAX 16
/* Signals pending at departure that travel with the process, at most. */
#define OM_MAX_TRAVEL_SIGNALS 64

struct pt_regs;
struct vm_area_struct;

enum om_role {
	OM_HOME,	/* the process at home, a move asked or done before */
	OM_DEPUTY,	/* at home, standing in for the process away */
	OM_REMOTE,	/* the process, running away from home */
};

/* Per-half statistics, shown by /proc/PID/hpc/debug. */
struct om_stats {
	atomic64_t migrations;	   /* moves this half sent out */
	atomic64_t syscalls;	   /* forwarded calls (remote: sent, deputy: run) */
	atomic64_t pages_fetched;  /* deputy: pages read from the process */
	atomic64_t pages_written;  /* deputy: pages written back */
	atomic64_t pages_pushed;   /* deputy: pages a call's process sent with it */
	atomic64_t pages_unfetched; /* deputy: pages a call filled, not fetched first */
	atomic64_t pages_ahead;	   /* deputy: pages read ahead with a fetched one */
	atomic64_t signals;	   /* signals forwarded to the process */
	atomic64_t home_calls;	   /* home: round trips home for a call that runs only there */
	atomic64_t home_calls_kept; /* home: of those, the ones after which it stayed home */
	atomic64_t forks;	   /* children born away (remote: here; deputy: their deputies) */
	atomic64_t stale_dropped;  /* deputy: messages of a copy no longer the process's */
	atomic64_t fwd_ns;	   /* remote: time its forwarded calls took, since it arrived */
	atomic64_t written_behind; /* deputy: writes run that the process did not wait for */
	atomic64_t behind_failed;  /* deputy: of those, the ones that failed (behind.c) */
	atomic64_t behind_answers; /* deputy: answers it sent to calls behind */
	atomic64_t forks_cancelled; /* deputy: children's deputies ended unseen (FORK_CANCEL) */
	atomic64_t deleg_files;	   /* files delegated (deputy: granted; remote: taken) */
	atomic64_t deleg_calls;	   /* remote: calls on them served here */
	atomic64_t deleg_fetched;  /* remote: their pages read from home */
	atomic64_t deleg_flushed;  /* remote: their pages written back home */
	atomic64_t deleg_returns;  /* remote: delegations given back (recalls among them) */
	atomic64_t deleg_recalls;  /* remote: of those, the ones home asked back */
	atomic64_t names_granted;  /* names said not to exist (deputy: granted; remote: kept) */
	atomic64_t names_hits;	   /* remote: lookups answered here with -ENOENT */
	atomic64_t names_drops;	   /* drops (deputy: asked; remote: done), of one name or all */
};

/**
 * struct om_proc - one half of a process the engine knows
 * @ref: references; the registry holds one while registered
 * @task: the local task (reference held)
 * @role: enum om_role, changed only by @task itself
 * @home_node: the node the process belongs to
 * @home_pid: its pid there
 * @peer_node: where the other half is (0: none, at home)
 * @prev_peer: a deputy: the node its process is moving from, between two
 *	nodes away, until the move is over (hop.c)
 * @hop_to: a remote: the node it is moving to, between two nodes away,
 *	while the move runs (its messages go there, not home)
 * @hop_held: a deputy: what the process's new node sent before the move
 *	between two nodes away was over, held until it is (under @lock)
 * @hop_lost: a deputy: nodes of such a move that went down, for the deputy
 *	itself to settle (om_hop_settle(); under @lock)
 * @hop_sigs: a deputy: the signals it sent the new node during such a move,
 *	sent to the old one again if the move is taken back (deputy only)
 * @target: a move asked through /proc (0: none; home node: come home)
 * @then_node: deputy: where to go once the process is back
 * @last_error: the last move's outcome (0 or -errno), for debug and tools
 * @lock: protects @inbox, @gone, @killed, @serving, @then_node, @cpu_lacks
 * @inbox: received messages (struct om_inmsg) waiting for @task
 * @wait: @task waits here for @inbox, @gone and @killed
 * @gone: the other half is lost (its node went down)
 * @killed: the other half ended; this one must end without a word
 * @silent: this half ends without telling the other
 * @running: a remote's arrival is complete: signals go straight to it
 * @serving: a deputy stands in for a process away (from its first call
 *	until the process runs at home again)
 * @work: task_work that moves the process at its next return to user
 * @work_queued: @work is queued
 * @resume_work: a remote's first return to user mode finishes its arrival (a
 *	child's deputy's: restores @resume_ax, which ret_from_fork cleared)
 * @resume_ax: a child's deputy: the process's ax when it came home
 * @arrival: a process being taken in: its MIG_BEGIN, until applied
 * @arrival_xstate: and its FPU/vector state
 * @arrival_signals: and the signals pending when it left
 * @nr_arrival_signals: their number
 * @node_by_task: in the registry by task
 * @node_by_key: in the registry by (role, home node, home pid)
 * @node_by_peer: a remote arriving from a node that is not its home: in the
 *	registry by that node too, until it runs
 * @by_peer: @node_by_peer is in use
 * @registered: in the registry
 * @stats: counters
 * @fetched: deputy: pages of the process read during the current call,
 *	by om_page_key() from @fetched_base
 * @pushed: deputy: pages the process sent for its next call (MEM_PUSH),
 *	by om_page_key() from @pushed_base
 * @fetched_base: the page number keys of @fetched count from
 * @pushed_base: the page number keys of @pushed count from
 * @nr_pushed: how many it holds (at most OM_PUSH_MAX_PAGES)
 * @fetch_next: deputy: in a call, where a fetch would continue the last
 *	one's (its page and those read ahead), 0 outside a call
 * @fetch_ahead: the pages the last fetch read ahead (doubled in order)
 * @fill: deputy: the ranges the current call fills in order (F_OUT)
 * @nr_fill: how many (0: none)
 * @asked_ns: when the last move was asked (ktime_get_ns())
 * @last_freeze_ns: the last move, from the process stopping to GO
 * @last_total_ns: the last move, from its asking to GO
 * @last_pages: pages the last move carried
 * @left_utime_ns: deputy: the process's user time when it left, or last heard
 * @left_stime_ns: and its system time
 * @arrival_monotonic_delta: an arrival's CLOCK_MONOTONIC less this node's
 * @arrival_boottime_delta: and its CLOCK_BOOTTIME less this node's
 * @arrival_nsproxy: an arrival's namespaces (its time namespace), until applied
 * @retry: asks the move again a little later (the process was in the vDSO)
 * @stop_work: a remote: tells the deputy it stopped (jobctl.c)
 * @stop_signr: the signal it stopped with
 * @stop_conts: @conts when it stopped
 * @conts: SIGCONTs a remote received from its deputy, or the deputy sent
 * @home_orphaned: a remote: its process group at home is orphaned
 * @cpu_lacks: what the last destination's CPU lacked (a refused move), for debug
 * @away_blocked: a deputy: the process's blocked signals, as it left or told
 * @watched: a deputy: the signals its signalfds read, as told the process
 * @home_watched: a remote: the signals a signalfd at home reads (SIGWATCH)
 * @told_blocked: a remote: its blocked signals as its deputy knows them
 * @for_call: a remote going home for one call (VIRTIO_OM_MIG_F_CALL)
 * @leaving: a remote that sent GO: a MIG_BEGIN for its process now is the
 *	process coming back, for a new half
 * @sending: om_send_process() runs for it (its memory is on its way out)
 * @back_node: home, after such a call: where the process goes back to
 * @last_home_call: home: the number of the last call it came home for
 * @left_ns: when the process last left this node (ktime_get_ns())
 * @rfiles: a deputy: files of home the process runs or maps, opened for it
 *	(rfile_home.c; index + 1 is the handle)
 * @rfile_exec: which of @rfiles were opened as programs (exec's write hold)
 * @rfile_comm: and the name exec would give the process for each
 * @exec_rfile: a remote: the program its execve() runs, until exec opens it
 *	(om_rfile_exec_file())
 * @locked: never moved by a balancer (/proc/PID/hpc/lock; travels with it)
 * @arrived_ns: when it last began to run here (ktime_get_ns()), 0: never moved
 * @live: at home, a live move in its rounds (live.c), or NULL
 * @asked_by_self: the process wrote its own where: its move is over when the write returns
 * @last_rounds: the last move's rounds before its freeze (0: stop-and-copy)
 * @last_round_pages: pages its rounds sent
 * @last_round_walks: its rounds planned by a walk of every page table (the
 *	first, and those where the log of its writes was not exact)
 * @last_freeze_walks: mappings its freeze walked for the same reason
 * @last_start_ns: its start's pause (BEGIN, the first round's walk, the
 *	soft-dirty bits cleared), before the process ran on during its rounds
 * @last_zero_skipped: pages of zeroes it did not send (they read zero there)
 * @last_zero_told: pages its destination held that it said read zero (F_ZERO)
 * @last_home_rounds: a deputy: its last homecoming's rounds (0: stop-and-copy)
 * @last_home_round_pages: pages it took in during them
 * @last_home_pages: pages it took in, all told
 * @last_home_calls: the process's messages it served during them
 * @last_home_freeze_ns: how long it was frozen: the sender's part, then to RUNNING
 * @fork_asks: a remote: its FORKs, numbered (the serial a FORK_CANCEL names)
 * @fork_serial: a deputy: the serial of the FORK it answered last
 * @fork_child: and the pid of the child's deputy it made for it (a
 *	reference), while a FORK_CANCEL may still come for it (NULL: none)
 * @behind_seqs: a remote: the seqs of the calls behind not yet answered,
 *	oldest at @behind_first (@behind_out of them)
 * @behind_first: where the oldest is in @behind_seqs
 * @owed_calls: a deputy: calls behind run, their answer not sent yet
 *	(om_deputy_answer_owed())
 * @owed_seq: the last of them
 * @owed_ret: its result
 * @owed_flags: its answer's flags
 */
struct om_proc {
	refcount_t ref;
	struct task_struct *task;
	enum om_role role;
	u32 home_node;
	pid_t home_pid;
	u32 peer_node;
	u32 prev_peer;
	u32 hop_to;
	struct list_head hop_held;
	u32 hop_lost[2];
	struct list_head hop_sigs;
	u32 target;
	u32 then_node;
	int last_error;
	spinlock_t lock; /* see @lock above */
	struct list_head inbox;
	wait_queue_head_t wait;
	bool gone;
	bool killed;
	bool silent;
	bool running;
	bool serving;
	struct callback_head work;
	atomic_t work_queued;
	struct callback_head resume_work;
	long resume_ax;
	struct virtio_om_mig_begin *arrival;
	void *arrival_xstate;
	kernel_siginfo_t *arrival_signals;
	unsigned int nr_arrival_signals;
	struct hlist_node node_by_task;
	struct hlist_node node_by_key;
	struct hlist_node node_by_peer;
	bool by_peer;
	bool registered;
	struct om_stats stats;
	struct xarray fetched;
	struct xarray pushed;
	unsigned long fetched_base;
	unsigned long pushed_base;
	unsigned int nr_pushed;
	unsigned long fetch_next;
	unsigned int fetch_ahead;
	struct om_fill {
		unsigned long addr, len;
	} fill[VIRTIO_OM_SYSCALL_OUT_MAX];
	unsigned int nr_fill;
	u64 asked_ns;
	u64 last_freeze_ns;
	u64 last_total_ns;
	u64 last_pages;
	u64 left_utime_ns;
	u64 left_stime_ns;
	s64 arrival_monotonic_delta;
	s64 arrival_boottime_delta;
	struct nsproxy *arrival_nsproxy;
	struct delayed_work retry;
	struct work_struct stop_work;
	int stop_signr;
	u32 stop_conts;
	atomic_t conts;
	bool home_orphaned;
	char cpu_lacks[192];
	sigset_t away_blocked;
	sigset_t watched;
	unsigned long home_watched;
	sigset_t told_blocked;
	bool for_call;
	bool leaving;
	bool sending;
	u32 back_node;
	long last_home_call;
	u64 left_ns;
	struct file *rfiles[OM_RFILES];
	unsigned long rfile_exec;
	char rfile_comm[OM_RFILES][TASK_COMM_LEN];
	struct file *exec_rfile;
	bool locked;
	u64 arrived_ns;
	struct om_live *live;
	bool asked_by_self;
	unsigned int last_rounds;
	u64 last_round_pages;
	unsigned int last_round_walks;
	unsigned int last_freeze_walks;
	u64 last_start_ns;
	u64 last_zero_skipped;
	u64 last_zero_told;
	unsigned int last_home_rounds;
	u64 last_home_round_pages;
	u64 last_home_pages;
	u64 last_home_calls;
	u64 last_home_freeze_ns;
	u32 fork_asks;
	u32 fork_serial;
	struct pid *fork_child;
	u64 behind_seqs[OM_BEHIND_WINDOW];
	unsigned int behind_first;
	unsigned long behind_fds[BITS_TO_LONGS(OM_BEHIND_FDS)];
	unsigned long release_fds[BITS_TO_LONGS(OM_BEHIND_FDS)];
	unsigned int behind_out;
	struct list_head behind_errs;
	struct list_head behind_pending; /* deputy: failures found off its context, under @lock */
	unsigned int owed_calls;
	u32 owed_flags;
	u64 owed_seq;
	long owed_ret;
	/* Away: its delegated files by descriptor (deleg.c); the grant an answer brought. */
	struct xarray delegs;
	struct virtio_om_deleg grant;
	bool granted;
	int deleg_close_err;
	/* Away: names home said do not exist (names.c), under @lock; a grant an answer brought. */
	struct om_name {
		u32 id;		/* home's */
		char *path;
	} names[OM_NAMES_MAX];
	unsigned int names_kept;
	unsigned int names_next;
	u32 names_epoch;
	struct virtio_om_names names_grant;
	bool names_granted;
	/* Deputy: the directories watched for those names (names_home.c). */
	struct om_names_home *names_home;
};

/* This node's counts since boot, for /proc/hpc/admin/stats (admin.c). */
struct om_node_stats {
	atomic64_t born;	/* children born here for processes away */
	atomic64_t execs;	/* programs exec'd here by processes away */
	atomic64_t maps;	/* private mappings of files of home made here */
	atomic64_t home_calls;	/* round trips home for a call, served here as home */
	atomic64_t load_sent;	/* LOAD messages sent, received, refused as malformed */
	atomic64_t load_received;
	atomic64_t load_refused;
	atomic64_t arrivals_refused; /* moves refused: arrivals blocked (admin/block) */
	atomic64_t balance_moves;    /* the balancer's moves: for load */
	atomic64_t balance_home;     /* a process away sent home for its calls' cost */
	atomic64_t balance_ushered;  /* moved off for want of memory */
	atomic64_t live_moves;	     /* moves sent from here live, that arrived */
};

extern struct om_node_stats om_node_stats;

/* A received message waiting in an inbox. */
struct om_inmsg {
	struct list_head list;
	struct om_kcom_msg *msg;
};

/*
 * A deputy's key for the page at @addr in @fetched or @pushed: its page
 * number less the xarray's base, modulo 2^64 (one key a page wherever it
 * lies). The base is the first page stored since the xarray was empty:
 * a call's pages lie together, so its keys stay small and the xarray a
 * node deep, where a user address's page number takes six levels of nodes
 * made and freed on every call.
 */
static inline unsigned long om_page_key(unsigned long base, unsigned long addr)
{
	return (addr >> PAGE_SHIFT) - base;
}

static inline unsigned long om_page_key_addr(unsigned long base, unsigned long key)
{
	return (key + base) << PAGE_SHIFT;
}

/* The key for storing the page at @addr in @xa, setting @base if it is empty. */
static inline unsigned long om_page_key_new(struct xarray *xa, unsigned long *base,
					    unsigned long addr)
{
	if (xa_empty(xa))
		*base = addr >> PAGE_SHIFT;
	return om_page_key(*base, addr);
}

/* registry.c */
struct om_proc *om_proc_alloc(struct task_struct *task, enum om_role role);
void om_proc_put(struct om_proc *p);
int om_proc_count(void);
int om_proc_register(struct om_proc *p);
void om_proc_unregister(struct om_proc *p);
void om_proc_unkey(struct om_proc *p);
int om_proc_attach(struct om_proc *p, struct task_struct *task);
bool om_proc_ready(struct om_proc *p);
struct om_kcom_msg *om_proc_try_next(struct om_proc *p);
void om_proc_rekey(struct om_proc *p, enum om_role role);
int om_proc_add_peer_key(struct om_proc *p);
void om_proc_set_peers(struct om_proc *p, u32 peer, u32 prev);
struct om_proc *om_proc_of_task(struct task_struct *task);
struct om_proc *om_proc_find(bool deputy, u32 node, pid_t pid);
typedef void (*om_proc_visit_t)(struct om_proc *p, void *arg);
void om_proc_for_each(om_proc_visit_t fn, void *arg);
void om_proc_enqueue(struct om_proc *p, struct om_kcom_msg *msg);
struct om_kcom_msg *om_proc_next(struct om_proc *p, long timeout, int *err);
void om_proc_putback(struct om_proc *p, struct om_kcom_msg *msg);
void om_proc_drain(struct om_proc *p);

/* link.c: messages between the two halves */
struct om_kcom_out om_out(const struct om_proc *p, u16 type, u32 flags, const struct kvec *kv,
			  unsigned int nr_kv);
struct om_kcom_out om_out_home(const struct om_proc *p, u16 type, const struct kvec *kv);
int om_link_init(void);
void om_link_deliver(struct om_kcom_msg *msg);
void om_send_last(struct om_proc *p, u16 type, const void *payload, size_t len);
int om_send(struct om_proc *p, u16 type, u32 flags, u64 reply_to, const struct kvec *kv,
	    unsigned int nr_kv, const struct bio_vec *bv, unsigned int nr_bv, u64 *seq);
int om_call(struct om_proc *p, u16 type, const struct kvec *kv, unsigned int nr_kv,
	    long timeout, struct om_kcom_msg **reply);
int om_call_expect(struct om_proc *p, u16 type, const struct kvec *kv, unsigned int nr_kv,
		   long timeout, u16 reply_type, void *fixed, size_t len,
		   struct om_kcom_msg **rest);

/* An error as the wire carries it (a positive errno, 0: none), as -errno. */
static inline int om_wire_errno(__le32 wire)
{
	u32 e = le32_to_cpu(wire);

	return !e ? 0 : e < MAX_ERRNO ? -(int)e : -EPROTO;
}

int om_reply_error(const struct om_kcom_hdr *req, int err);
int om_reply_read(struct om_kcom_out *out, ssize_t n, void *buf);
int om_send_kill(struct om_proc *p, u32 reason);
void om_send_lost(struct om_proc *p, unsigned int flags);
int om_send_signal(struct om_proc *p, const kernel_siginfo_t *info);
void om_deliver_signal(struct om_proc *p, struct om_kcom_msg *msg);

/* load.c: this node's load and what it knows of others' (balance.c's input) */
#define OM_LOAD_WINDOW 16	/* other nodes' values kept */
#define OM_LOAD_PENDING 4	/* recent moves to a node counted until it shows them */
#define OM_LOAD_STALE_MS 30000	/* values older than this are neither kept nor passed on */
/* A process moves by itself only after running this long where it is. */
#define OM_BAL_MIN_STAY_MS 2000
/* Forwarded calls longer than this are not taken as the cost of a call. */
#define OM_CALL_COST_MAX_NS (20 * NSEC_PER_MSEC)

/* One node's load, as measured there (CPU byte order). */
struct om_load_info {
	u32 node;
	u64 at_ns;	/* when measured, on this node's ktime_get_ns() */
	u32 load;	/* runnable x 1000, fast decay */
	u32 load_slow;	/* slow decay */
	u32 speed;
	u32 ncpus;
	u64 free_kib;
	u64 total_kib;
	u32 flags;	/* VIRTIO_OM_LOAD_F_* */
	u32 hosted;
	u32 away;
	u32 runnable;	/* runnable processes when measured, not decayed */
	u32 pending;	/* this node's moves there its values do not show yet */
};

enum om_load_control { OM_LOAD_BALANCE, OM_LOAD_BLOCK, OM_LOAD_SPEED, OM_LOAD_DECAY };

void om_load_self(struct om_load_info *self);
int om_load_others(struct om_load_info *out, u32 max_age_ms);
void om_load_moving(u32 dest);
void om_load_arrived(u32 dest);
struct om_kcom_msg;
int om_load_recv(struct om_kcom_msg *msg);
void om_load_forget(u32 node);
bool om_load_blocked(void);
bool om_balance_on(void);
void om_load_note_call(u64 ns);
u64 om_load_call_ns(void);
void om_load_note_move(u64 pages, u64 ns);
u64 om_load_move_cost(u64 pages);
int om_load_set(enum om_load_control c, u32 a, u32 b);
void om_load_get(enum om_load_control c, u32 *a, u32 *b);

/* proc.c */
int om_ask_move(struct task_struct *task, u32 node);

/* where.c: parsing /proc/PID/hpc/where */
int om_parse_where(const char *buf, size_t len, u32 *node);
int om_stay_reasons(struct task_struct *task, char *buf, size_t size);

/* migrate.c: sending a process away (the sender is the process itself) */
int om_send_process(struct om_proc *p, u32 dest, bool home);
void om_queue_move(struct om_proc *p);
void om_move_retry(struct work_struct *work);
void om_back_after_call(struct om_proc *p);
void om_move_on(struct om_proc *p, u32 target);
int om_move_cpu_check(struct om_proc *p, u32 dest);

/* live.c: a live move's rounds, before its freeze */
struct om_live;
bool om_live_wanted(struct om_proc *p, u32 dest);
int om_live_start(struct om_proc *p, u32 dest);
int om_live_step(struct om_proc *p);
void om_live_cancel(struct om_proc *p, int err, bool last);
void om_live_done(struct om_proc *p, int err);

/* pages.c: which pages cross; both sides of a live move decide alike */
bool om_vma_same(const struct virtio_om_mig_vma *a, const struct virtio_om_mig_vma *b);
const struct virtio_om_mig_vma *om_vma_find(const struct virtio_om_mig_vma *list, unsigned int n,
					    const struct virtio_om_mig_vma *v);

/* receive.c: taking a process in (in the receiving task's own context) */
int om_receive_process(struct om_proc *p, struct om_kcom_msg *begin);
int om_spawn_remote(struct om_proc *p);
void om_finish_arrival(struct om_proc *p);
bool om_begin_valid(const struct virtio_om_mig_begin *b, size_t len, size_t xstate_size);

/* continuity.c: what goes on across a move (clocks, CPU time, a call) */
int om_carry_save(struct virtio_om_mig_begin *b, struct om_proc *p);
void om_carry_left(struct om_proc *p, const struct virtio_om_mig_begin *b);
void om_carry_charge(struct om_proc *p, u64 utime_ns, u64 stime_ns);
void om_carry_arrived(struct om_proc *p, const struct virtio_om_mig_begin *b);
int om_carry_prepare(struct om_proc *p, bool home);
void om_carry_cancel(struct om_proc *p);
bool om_carry_valid(const struct virtio_om_mig_begin *b);
void om_carry_apply(struct om_proc *p, const struct virtio_om_mig_begin *b, bool home);
void om_carry_finish(const struct virtio_om_mig_begin *b);

/* fault.c: failures injected into moves, for tests (CONFIG_OM_FAULT_INJECTION) */
enum om_fault_step {
	OM_FAULT_PAGES,		/* the sender fails while sending pages, then aborts */
	OM_FAULT_COMMIT,	/* the receiver refuses COMMIT, as out of memory */
	OM_FAULT_GO_LOST,	/* GO never leaves the sender */
	OM_FAULT_RUNNING_LOST,	/* the receiver runs the process, RUNNING never leaves */
	OM_FAULT_FORK_LOST,	/* a deputy forks a child's deputy, its answer never leaves */
	OM_FAULT_FORK_LATE,	/* the same, its answer leaves fork_late_ms late */
	OM_FAULT_STEPS
};

#ifdef CONFIG_OM_FAULT_INJECTION
bool om_fault(enum om_fault_step step);
long om_running_timeout(void);
long om_fork_timeout(void);
unsigned int om_fork_late_ms(void);
#else
static inline bool om_fault(enum om_fault_step step)
{
	return false;
}

static inline long om_running_timeout(void)
{
	return msecs_to_jiffies(OM_RUNNING_TIMEOUT_MS);
}

static inline long om_fork_timeout(void)
{
	return OM_STEP_TIMEOUT;
}

static inline unsigned int om_fork_late_ms(void)
{
	return 0;
}
#endif

/* cpu_compat.c: a destination's CPU must offer all this one does */
void om_cpu_forget(u32 node);
void om_cpu_answer(const struct om_kcom_hdr *req);
int om_cpu_check(u32 node, char *why, size_t size);

/* jobctl.c: stops and SIGCONT of a process away */
void om_jobctl_init(struct om_proc *p);
u32 om_signal_flags(struct om_proc *p, int sig);
void om_signal_arrived(struct om_proc *p, int sig, u32 flags);
void om_deputy_stopped(struct om_proc *p, struct om_kcom_msg *msg);

/* hop.c: moves between two nodes away */
int om_move_away(struct om_proc *p, u32 dest);
/*
 * Never returns (the half ends with its task); not declared __noreturn
 * here: objtool knows only the kernel's own noreturn functions across
 * objects, and -O2 code would end at its call.
 */
void om_left_away(struct om_proc *p);
int om_handover(struct om_proc *p, u32 node, u32 flags, int error);
void om_deputy_handover(struct om_proc *p, struct om_kcom_msg *msg);
bool om_hop_hold(struct om_proc *p, struct om_kcom_msg *msg);
bool om_hop_note_lost(struct om_proc *p, u32 node);
bool om_hop_lost_pending(struct om_proc *p);
void om_hop_settle(struct om_proc *p);
void om_hop_drop_held(struct om_proc *p);
void om_hop_release_held(struct om_proc *p);
int om_hop_keep_signal(struct om_proc *p, const kernel_siginfo_t *info);
void om_hop_signals_over(struct om_proc *p, bool resend);

/* deputy.c */
u32 om_deputy_run(struct om_proc *p);
void om_deputy_drop_pushed(struct om_proc *p);

/* callbuf.c: a forwarded call's buffers sent with it */
#define OM_PUSH_MAX_PAGES 512	/* a call's pages pushed at most (2 MiB); the rest fault */
/* Writes behind (behind.c). */
void om_behind_before(struct om_proc *p, long nr, const unsigned long a[6]);
struct flock;
bool om_behind_may(struct om_proc *p, long nr, const unsigned long a[6]);
void om_behind_stop(struct om_proc *p);
bool om_behind_unlock_ok(unsigned long cmd, const struct flock *fl);
long om_behind_result(long nr, const unsigned long a[6]);
bool om_behind_call_ok(long nr);
bool om_behind_release_ok(const unsigned long a[6]);
void om_behind_answered(struct om_proc *p, long nr, const unsigned long a[6],
			const struct virtio_om_syscall_ret *r);
bool om_behind_done(struct om_proc *p, u64 reply_to, const struct virtio_om_syscall_ret *r);
struct file *om_behind_file(long nr, const unsigned long a[6]);
long om_behind_ran(struct om_proc *p, long nr, const unsigned long a[6], struct file *file,
		   bool behind, long ret, u32 *flags);
void om_behind_failed(struct om_proc *p, struct file *file, long ret);
void om_behind_forget(struct om_proc *p);
void om_behind_keep_pending(struct om_proc *p, struct file *file, int err);
void om_behind_take_pending(struct om_proc *p);
bool om_behind_home_call(struct om_proc *p, struct pt_regs *regs, long nr,
			 const unsigned long a[6]);
int om_behind_drain(struct om_proc *p);
bool om_deputy_write_pushed(struct om_proc *p, long nr, const unsigned long a[6], long *ret);
unsigned long om_deputy_filled_end(const struct om_proc *p, unsigned long addr, long ret);
int om_callbuf_send(struct om_proc *p, long nr, const unsigned long args[6], bool may_behind,
		    u64 *seq);
/* Whole pages of the process, a MEM_PUSH's, or the last riding with a call (F_PAGES). */
struct om_push_batch {
	struct virtio_om_mem_push hdr;
	__le64 addrs[VIRTIO_OM_MEM_PUSH_MAX];
	struct bio_vec bv[VIRTIO_OM_MEM_PUSH_MAX];
	unsigned int n;
};

bool om_push_batch_add(struct om_push_batch *b, unsigned long addr, struct page *page,
		       bool writable);
void om_push_batch_release(struct om_push_batch *b);
int om_send_batched(struct om_proc *p, u16 type, u32 flags, u64 reply_to,
		    const struct kvec *fixed, const struct kvec *tail, struct om_push_batch *b,
		    u64 *seq);
struct om_kcom_msg;
void om_callbuf_written(struct om_kcom_msg *msg, size_t off);
int om_mem_push_parse(struct om_kcom_msg *msg, size_t off, bool exact, __le64 *addrs,
		      u32 *writable);
void om_deputy_forward_signals(struct om_proc *p);
void om_deputy_tend(struct om_proc *p);
bool om_deputy_serve(struct om_proc *p, struct om_kcom_msg *msg);
void om_deputy_answer_owed(struct om_proc *p);

/* proc_away.c: home's /proc of a process away */
void om_proc_answer(struct om_proc *p, struct om_kcom_msg *msg);
ssize_t om_proc_merge_status(const char *home, size_t hlen, const char *there, size_t tlen,
			     char *out, size_t size);
ssize_t om_proc_merge_stat(const char *home, size_t hlen, const char *there, size_t tlen,
			   bool permitted, char *out, size_t size);

/* fork.c: children born away */
bool om_fork_away_flags(unsigned long flags);
long om_fork_away(struct om_proc *p, unsigned long flags, unsigned long newsp,
		  int __user *parent_tid, int __user *child_tid, unsigned long tls);
void om_deputy_fork(struct om_proc *p, struct om_kcom_msg *msg);
void om_deputy_fork_cancel(struct om_proc *p, struct om_kcom_msg *msg);
void om_deputy_fork_settled(struct om_proc *p);
struct clone_args;
long om_fork_away_clone3(struct om_proc *p, struct clone_args __user *uargs, size_t size);

/* rfile*.c: files of home a process away runs or maps */
long om_rfile_exec(struct om_proc *p, struct pt_regs *regs, const unsigned long args[6]);
long om_rfile_mmap(struct om_proc *p, const unsigned long args[6]);
void om_rfile_stats(u64 *files, u64 *pages, u64 *hits);
void om_rfile_node_lost(u32 node);
struct file *om_rfile_mapping(struct om_proc *p, const struct virtio_om_mig_vma *v);
int om_rfile_serve_mapping(u32 node, struct file *f, struct virtio_om_mig_vma *v);
void om_rfile_unserve(u32 node, unsigned long id);
struct file *om_rfile_file_new(u32 node, u32 served, loff_t size, const char *name);
int om_rfile_read(u32 node, u32 served, loff_t offset, u32 len, struct om_kcom_msg **reply,
		  u32 *got);
void om_rfile_forget(u32 node, u32 served);
void om_rfile_fs_stats(u64 *reads, u64 *pages);
int om_rfile_fs_init(void);
int om_rfile_serve(u32 node, struct file *f, u32 *id);
int om_rfile_serve_file(u32 node, struct file *f, u32 *id);
void om_rfile_serve_recv(struct om_kcom_msg *msg);
void om_rfile_serve_node_lost(u32 node);
unsigned long om_rfile_served(void);
int om_rfile_serve_init(void);

/* names.c, names_home.c: names that do not exist at home, known away */
struct om_names_home;
const char __user *om_names_path(long nr, const unsigned long args[6]);
bool om_names_absent(struct om_proc *p, long nr, const unsigned long args[6]);
void om_names_take(struct om_proc *p, long nr, const unsigned long args[6], long ret);
void om_names_forget(struct om_proc *p);
void om_names_before(struct om_proc *p, long nr);
void om_names_drop_recv(struct om_kcom_msg *msg);
int om_names_grant(struct om_proc *p, long nr, const unsigned long args[6], long ret,
		   struct virtio_om_names *g);
void om_names_home_forget(struct om_proc *p);
void om_names_call_begin(struct om_proc *p);
bool om_names_call_end(struct om_proc *p, struct virtio_om_names *dropped);
void om_names_dropped(struct om_proc *p, const struct virtio_om_names *n);
int om_names_home_init(void);

/* deleg.c, deleg_home.c: files served where the process runs */
int om_deleg_grant(struct om_proc *p, long nr, const unsigned long args[6], long fd,
		   struct virtio_om_deleg *g);
void om_deleg_home_recv(struct om_kcom_msg *msg);
int om_deleg_flush_valid(const struct virtio_om_deleg_flush *fh, size_t len);
bool om_deleg_offsets_valid(const __le64 *offs, u32 count);
bool om_deleg_grant_valid(long nr, long fd, const struct virtio_om_deleg *g);
void om_deleg_home_forget(const struct om_proc *deputy);
void om_deleg_home_node_lost(u32 node);
int om_deleg_home_init(void);
void om_deleg_take(struct om_proc *p, long nr, const unsigned long args[6], long fd,
		   const struct virtio_om_deleg *g);
long om_forward_call(struct om_proc *p, long nr, const unsigned long args[6]);
bool om_deleg_call(struct om_proc *p, long nr, const unsigned long args[6], int class, long *ret);
int om_deleg_return_all(struct om_proc *p);
void om_deleg_forget(struct om_proc *p);
void om_deleg_stat_path(struct om_proc *p, long nr, const unsigned long a[6]);
void om_deleg_recall_recv(struct om_kcom_msg *msg);
void om_deleg_node_lost(u32 node);
int om_deleg_init(void);
void om_rfile_home_serve_open(struct om_proc *p, struct om_kcom_msg *msg);
void om_rfile_home_close(struct om_proc *p, struct om_kcom_msg *msg);
void om_rfile_home_close_all(struct om_proc *p);

/* remote.c */
int om_go_home(struct om_proc *p, bool redo_syscall);
int om_come_home(struct om_proc *p);
long om_restart_at_home(struct restart_block *rb);

/* syscall_class.c */
enum om_syscall_class {
	OM_SC_HOME_FIRST = 0, /* go home, then run it there (the default) */
	OM_SC_LOCAL,	      /* run it where the process is */
	OM_SC_FORWARD,	      /* the deputy runs it at home */
	OM_SC_PID,	      /* answer the home pid */
	OM_SC_MMAP,	      /* local when anonymous, a private file's copy here, else home */
	OM_SC_ITIMER,	      /* ITIMER_REAL forwarded, the CPU-time ones local */
	OM_SC_RUSAGE,	      /* the children's forwarded (reaped at home), the rest local */
	OM_SC_TIMES,	      /* forwarded, then the process's own times put in here */
	OM_SC_SIGMASK,	      /* local, the mask told home if a signalfd there reads it */
	OM_SC_PRLIMIT,	      /* reading its own limits local, else home first */
	OM_SC_FORK,	      /* a child born here, its deputy at home (fork.c); else home first */
	OM_SC_MMAP_FILE,      /* a private mapping of a file of home, its copy here (rfile.c) */
	OM_SC_EXEC,	      /* the program's copy exec'd here (rfile.c), or home first */
	OM_SC_PRCTL,	      /* by option: local, forwarded, both or home first */
	OM_SC_BOTH,	      /* the deputy runs it at home, then it runs here too */
	OM_SC_PRIO,	      /* its own nice here (a new one at home too), others' at home */
	OM_SC_SIGACTION,      /* here; SIGCHLD's, at home too (its children's deputies) */
	OM_SC_PERSONALITY,    /* read here; set at home too (the calls run there) */
};

enum om_syscall_class om_syscall_class(long nr, const unsigned long args[6]);

/* mm.c: address spaces */
struct mm_struct *om_mm_new(void);
void om_mm_keep_exe(struct mm_struct *mm, struct mm_struct *from);
struct mm_struct *om_mm_swap(struct mm_struct *mm);
struct linux_binfmt *om_elf_format(void);

/* Provided by arch/<arch>/om/. */
const char *om_arch_name(void);
u32 om_arch_id(void);
size_t om_arch_xstate_size(void);
int om_arch_save(struct virtio_om_mig_begin *b, void *xstate, size_t size);
int om_arch_restore(const struct virtio_om_mig_begin *b, const void *xstate, size_t size);
int om_arch_map_vdso(unsigned long addr);
bool om_arch_is_vdso(struct vm_area_struct *vma);
bool om_arch_is_vvar(struct vm_area_struct *vma);
bool om_arch_in_vdso(const struct pt_regs *regs);
const char *om_arch_stay_reason(struct task_struct *task);
void om_arch_syscall_args(const struct pt_regs *regs, unsigned long args[6]);
long om_arch_syscall_run(const struct pt_regs *frozen, long nr, const unsigned long args[6]);
void om_arch_redo_syscall(struct pt_regs *regs);
void om_arch_cpu_info(struct virtio_om_cpu_info *ci);
int om_arch_cpu_lacks(const struct virtio_om_cpu_info *here,
		      const struct virtio_om_cpu_info *there, char *buf, size_t size);

#endif /* _KERNEL_OM_OM_H */
