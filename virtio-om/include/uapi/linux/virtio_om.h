/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * virtio-om: the paravirtual device that carries omvm messages between a
 * guest and the host relay (omhostd). This header is the one definition of
 * the wire protocol, shared by the guest driver, the QEMU device and
 * omhostd; its documents are docs/protocol.md and docs/virtio-om-device.md.
 *
 * Every field is little-endian. Sizes are fixed and named below so that
 * every side can check a message's length before looking inside it.
 */
#ifndef _UAPI_LINUX_VIRTIO_OM_H
#define _UAPI_LINUX_VIRTIO_OM_H

#include <linux/types.h>

/* Version of the message format; a message of another version is refused. */
#define VIRTIO_OM_PROTOCOL_VERSION 1

/*
 * Provisional device ID: unassigned in the virtio specification and small
 * enough for virtio-pci (PCI device ID 0x1040 + 58). To be replaced by an
 * ID reserved with the specification's maintainers.
 */
#define VIRTIO_ID_OM 58

/* Virtqueues. Control messages travel on rx too, ordered with data. */
enum virtio_om_queue {
	VIRTIO_OM_QUEUE_RX = 0, /* host to guest: buffers the guest posts */
	VIRTIO_OM_QUEUE_TX = 1, /* guest to host: one message per chain */
	VIRTIO_OM_QUEUE_COUNT = 2,
};

/* Node ids: 0 is the host (sender of control messages), 1..MAX are guests. */
#define VIRTIO_OM_NODE_HOST 0u
#define VIRTIO_OM_MAX_NODES 1024u

/* The largest payload of one message, whatever the device offers. */
#define VIRTIO_OM_MAX_PAYLOAD (64u * 1024u)

struct virtio_om_config {
	__le32 node_id;	    /* this guest's node, set by the host; 0 until assigned */
	__le32 max_payload; /* payload bytes per message the host accepts */
};

/*
 * The header that starts every message. The host overwrites src_node with
 * the sending guest's node before relaying: a guest cannot speak as another.
 */
struct virtio_om_hdr {
	__le16 version;	 /* VIRTIO_OM_PROTOCOL_VERSION */
	__le16 type;	 /* enum virtio_om_type */
	__le32 flags;	 /* VIRTIO_OM_F_*; unknown bits are refused */
	__le32 src_node; /* stamped by the host */
	__le32 dst_node;
	__le32 src_pid;	 /* sending process (its home pid), 0 for none */
	__le32 dst_pid;	 /* receiving process (its home pid), 0 for none */
	__le64 seq;	 /* per (src_node, dst_node) pair, from 1, by the sender */
	__le64 reply_to; /* seq of the request this answers, 0 for none */
	__le32 len;	 /* payload bytes after the header */
	__le32 reserved; /* zero */
};

enum virtio_om_size {
	VIRTIO_OM_HDR_SIZE = 48,
	VIRTIO_OM_NODE_EVENT_SIZE = 8,
	VIRTIO_OM_PING_SIZE = 8,
	/* The engine's payloads, defined below. */
	VIRTIO_OM_MIG_BEGIN_SIZE = 3584,
	VIRTIO_OM_MIG_VMAS_SIZE = 8,	 /* + count * VIRTIO_OM_MIG_VMA_SIZE */
	VIRTIO_OM_MIG_VMA_SIZE = 80,
	VIRTIO_OM_MIG_PAGES_SIZE = 8,	 /* + count * 8 addresses + count pages */
	VIRTIO_OM_MIG_MARK_SIZE = 16,
	VIRTIO_OM_MIG_ACK_SIZE = 16,
	VIRTIO_OM_MIG_GO_SIZE = 8,
	VIRTIO_OM_COME_HOME_SIZE = 8,
	VIRTIO_OM_CPU_QUERY_SIZE = 8,
	VIRTIO_OM_CPU_INFO_SIZE = 48,
	VIRTIO_OM_HANDOVER_SIZE = 16,
	VIRTIO_OM_LOAD_SIZE = 8,	 /* + count * VIRTIO_OM_LOAD_ENTRY_SIZE */
	VIRTIO_OM_LOAD_ENTRY_SIZE = 56,
	VIRTIO_OM_PROC_FLAGS_SIZE = 8,
	VIRTIO_OM_SYSCALL_SIZE = 56,	 /* + F_PAGES' batch; F_OUT: + 1..4 OUT_SIZE */
	VIRTIO_OM_SYSCALL_OUT_SIZE = 16,
	VIRTIO_OM_SYSCALL_RET_SIZE = 16, /* + F_PAGES' batch */
	VIRTIO_OM_SIGNAL_SIZE = 136,
	VIRTIO_OM_EXIT_SIZE = 24,
	VIRTIO_OM_KILL_SIZE = 8,
	VIRTIO_OM_STOPPED_SIZE = 8,
	VIRTIO_OM_SIGSET_SIZE = 8,
	VIRTIO_OM_FORK_SIZE = 24,
	VIRTIO_OM_FORK_CANCEL_SIZE = 8,
	VIRTIO_OM_MEM_REQ_SIZE = 16,	 /* MEM_WRITE: + len bytes */
	VIRTIO_OM_MEM_DATA_SIZE = 8,	 /* + len bytes */
	VIRTIO_OM_MEM_PUSH_SIZE = 8,	 /* + count addresses (8 each) + count pages */
	/* A whole batch: MEM_PUSH's most, and what F_PAGES adds at most. */
	VIRTIO_OM_PUSH_BATCH_MAX_SIZE = 8 + 15 * (8 + 4096),
	VIRTIO_OM_PROC_READ_SIZE = 16,
	VIRTIO_OM_PROC_DATA_SIZE = 8,	 /* + len bytes */
	VIRTIO_OM_RFILE_OPEN_SIZE = 16,	 /* + path_len bytes */
	VIRTIO_OM_RFILE_INFO_SIZE = 64,	 /* + name_len bytes */
	VIRTIO_OM_RFILE_READ_SIZE = 16,
	VIRTIO_OM_RFILE_DATA_SIZE = 8,	 /* + len bytes */
	VIRTIO_OM_RFILE_CLOSE_SIZE = 8,
	VIRTIO_OM_RFILE_FORGET_SIZE = 8,
	VIRTIO_OM_DELEG_SIZE = 96,
	VIRTIO_OM_DELEG_FLUSH_SIZE = 32, /* + count offsets, nr_locks locks, count pages */
	VIRTIO_OM_DELEG_LOCK_SIZE = 24,
	VIRTIO_OM_DELEG_DONE_SIZE = 8,
	VIRTIO_OM_DELEG_RECALL_SIZE = 8,
	VIRTIO_OM_NAMES_SIZE = 8,
};

/* Header flags. */
#define VIRTIO_OM_F_REPLY 0x1u /* answers the request named by reply_to */
/*
 * For the engine's types: addressed to the process's deputy at its home
 * node (dst_node), not to the process itself. A node can be home to pid P
 * and host another node's pid P at once; this bit tells them apart.
 */
#define VIRTIO_OM_F_HOME  0x2u
#define VIRTIO_OM_F_ALL   (VIRTIO_OM_F_REPLY | VIRTIO_OM_F_HOME)

/*
 * Message types, one table for both directions, grouped by range. Each
 * range's owner defines its types as it is built; a receiver refuses a type
 * it does not know.
 */
enum virtio_om_type {
	/* 0x00xx: control, sent by the host (src_node 0) to guests. */
	VIRTIO_OM_T_NODE_UP = 0x0001,	/* payload: struct virtio_om_node_event */
	VIRTIO_OM_T_NODE_DOWN = 0x0002, /* payload: struct virtio_om_node_event */

	/* 0x001x: liveness and round trips between guests. */
	VIRTIO_OM_T_PING = 0x0010, /* payload: struct virtio_om_ping */
	VIRTIO_OM_T_PONG = 0x0011, /* the ping's payload, echoed; F_REPLY */

	/*
	 * 0x01xx: migration steps (the engine), in this order: BEGIN, VMAS,
	 * PAGES (and pending SIGNALs), SYNC now and then, COMMIT; each SYNC and
	 * the COMMIT is answered by an ACK; after a positive ACK to COMMIT the
	 * sender ends the transaction with GO (or ABORT). docs/engine.md.
	 */
	VIRTIO_OM_T_MIGRATION_FIRST = 0x0100,
	VIRTIO_OM_T_MIG_BEGIN = 0x0100,	 /* struct virtio_om_mig_begin + xstate */
	VIRTIO_OM_T_MIG_VMAS = 0x0101,	 /* struct virtio_om_mig_vmas + entries */
	VIRTIO_OM_T_MIG_PAGES = 0x0102,	 /* struct virtio_om_mig_pages + addrs + pages */
	VIRTIO_OM_T_MIG_SYNC = 0x0103,	 /* struct virtio_om_mig_mark, answered by ACK */
	VIRTIO_OM_T_MIG_COMMIT = 0x0104, /* struct virtio_om_mig_mark, answered by ACK */
	VIRTIO_OM_T_MIG_ACK = 0x0105,	 /* struct virtio_om_mig_ack; F_REPLY */
	VIRTIO_OM_T_MIG_GO = 0x0106,	 /* struct virtio_om_mig_go: run it */
	VIRTIO_OM_T_MIG_ABORT = 0x0107,	 /* struct virtio_om_mig_go: drop it */
	VIRTIO_OM_T_COME_HOME = 0x0108,	 /* struct virtio_om_come_home, deputy to process */
	VIRTIO_OM_T_MIG_RUNNING = 0x0109, /* struct virtio_om_mig_go: it runs here; F_REPLY to GO */
	VIRTIO_OM_T_CPU_QUERY = 0x010a,	 /* struct virtio_om_cpu_query, answered by CPU_INFO */
	VIRTIO_OM_T_CPU_INFO = 0x010b,	 /* struct virtio_om_cpu_info; F_REPLY */
	VIRTIO_OM_T_HANDOVER = 0x010c,	 /* struct virtio_om_handover, to the deputy; see below */
	VIRTIO_OM_T_LOAD = 0x010d,	 /* struct virtio_om_load + entries, node to node */
	VIRTIO_OM_T_PROC_FLAGS = 0x010e, /* struct virtio_om_proc_flags, either half to the other */
	VIRTIO_OM_T_MIGRATION_LAST = 0x01ff,
	/* 0x02xx: forwarded system calls and the process's life (the engine). */
	VIRTIO_OM_T_SYSCALL_FIRST = 0x0200,
	VIRTIO_OM_T_SYSCALL = 0x0200,	  /* struct virtio_om_syscall, to the deputy */
	VIRTIO_OM_T_SYSCALL_RET = 0x0201, /* struct virtio_om_syscall_ret; F_REPLY */
	VIRTIO_OM_T_SIGNAL = 0x0202,	  /* struct virtio_om_signal, to the process */
	VIRTIO_OM_T_EXIT = 0x0203,	  /* struct virtio_om_exit, to the deputy */
	VIRTIO_OM_T_KILL = 0x0204,	  /* struct virtio_om_kill, to the process */
	VIRTIO_OM_T_STOPPED = 0x0205,	  /* struct virtio_om_stopped, to the deputy */
	VIRTIO_OM_T_SIGMASK = 0x0206,	  /* struct virtio_om_sigset, to the deputy; answered */
	VIRTIO_OM_T_SIGWATCH = 0x0207,	  /* struct virtio_om_sigset, to the process */
	VIRTIO_OM_T_FORK = 0x0208,	  /* struct virtio_om_fork, answered by SYSCALL_RET */
	VIRTIO_OM_T_FORK_CANCEL = 0x0209, /* struct virtio_om_fork_cancel, to the deputy */
	VIRTIO_OM_T_SYSCALL_LAST = 0x02ff,
	/* 0x03xx: the deputy's access to a process's memory (the engine). */
	VIRTIO_OM_T_MEMORY_FIRST = 0x0300,
	VIRTIO_OM_T_MEM_READ = 0x0300,	/* struct virtio_om_mem_req, answered by MEM_DATA */
	VIRTIO_OM_T_MEM_DATA = 0x0301,	/* struct virtio_om_mem_data + bytes; F_REPLY */
	VIRTIO_OM_T_MEM_WRITE = 0x0302, /* struct virtio_om_mem_req + bytes */
	VIRTIO_OM_T_MEM_PUSH = 0x030b,	/* virtio_om_mem_push + addrs + pages, before a SYSCALL */
	VIRTIO_OM_T_PROC_READ = 0x0303, /* struct virtio_om_proc_read, to the process */
	VIRTIO_OM_T_PROC_DATA = 0x0304, /* struct virtio_om_proc_data + bytes; F_REPLY */
	VIRTIO_OM_T_RFILE_OPEN = 0x0305,  /* struct virtio_om_rfile_open + path, for RFILE_INFO */
	VIRTIO_OM_T_RFILE_INFO = 0x0306,  /* struct virtio_om_rfile_info + name; F_REPLY */
	VIRTIO_OM_T_RFILE_READ = 0x0307,  /* struct virtio_om_rfile_read, node to home node */
	VIRTIO_OM_T_RFILE_DATA = 0x0308,  /* struct virtio_om_rfile_data + bytes; F_REPLY */
	VIRTIO_OM_T_RFILE_CLOSE = 0x0309, /* struct virtio_om_rfile_close, to the deputy */
	VIRTIO_OM_T_RFILE_FORGET = 0x030a, /* struct virtio_om_rfile_forget, node to home node */
	VIRTIO_OM_T_DELEG_FLUSH = 0x030c,  /* struct virtio_om_deleg_flush + pages, node to home */
	VIRTIO_OM_T_DELEG_DONE = 0x030d,   /* struct virtio_om_deleg_done; F_REPLY */
	VIRTIO_OM_T_DELEG_RECALL = 0x030e, /* struct virtio_om_deleg_recall, home node to node */
	VIRTIO_OM_T_NAMES_DROP = 0x030f,   /* struct virtio_om_names, deputy to process; answered */
	VIRTIO_OM_T_NAMES_DROPPED = 0x0310, /* struct virtio_om_names, echoed; F_REPLY */
	VIRTIO_OM_T_MEMORY_LAST = 0x03ff,

	/* 0x7fxx: test traffic: an opaque payload its receiver checks. */
	VIRTIO_OM_T_TEST_DATA = 0x7f00,
};

/*
 * The same table as data, for every side that checks or names messages
 * (driver, omhostd, tracing): X(name, value, sender, min_len, max_len).
 * sender is HOST or GUEST; max_len VIRTIO_OM_LEN_ANY means up to the
 * device's max_payload. A type missing here is refused by its receiver.
 */
#define VIRTIO_OM_LEN_ANY 0xffffffffu
#define VIRTIO_OM_FOR_EACH_TYPE(X)					\
	X(NODE_UP, 0x0001, HOST, VIRTIO_OM_NODE_EVENT_SIZE, VIRTIO_OM_NODE_EVENT_SIZE) \
	X(NODE_DOWN, 0x0002, HOST, VIRTIO_OM_NODE_EVENT_SIZE, VIRTIO_OM_NODE_EVENT_SIZE) \
	X(PING, 0x0010, GUEST, VIRTIO_OM_PING_SIZE, VIRTIO_OM_PING_SIZE) \
	X(PONG, 0x0011, GUEST, VIRTIO_OM_PING_SIZE, VIRTIO_OM_PING_SIZE) \
	X(MIG_BEGIN, 0x0100, GUEST, VIRTIO_OM_MIG_BEGIN_SIZE, VIRTIO_OM_LEN_ANY) \
	X(MIG_VMAS, 0x0101, GUEST, VIRTIO_OM_MIG_VMAS_SIZE, VIRTIO_OM_LEN_ANY) \
	X(MIG_PAGES, 0x0102, GUEST, VIRTIO_OM_MIG_PAGES_SIZE, VIRTIO_OM_LEN_ANY) \
	X(MIG_SYNC, 0x0103, GUEST, VIRTIO_OM_MIG_MARK_SIZE, VIRTIO_OM_MIG_MARK_SIZE) \
	X(MIG_COMMIT, 0x0104, GUEST, VIRTIO_OM_MIG_MARK_SIZE, VIRTIO_OM_MIG_MARK_SIZE) \
	X(MIG_ACK, 0x0105, GUEST, VIRTIO_OM_MIG_ACK_SIZE, VIRTIO_OM_MIG_ACK_SIZE) \
	X(MIG_GO, 0x0106, GUEST, VIRTIO_OM_MIG_GO_SIZE, VIRTIO_OM_MIG_GO_SIZE) \
	X(MIG_ABORT, 0x0107, GUEST, VIRTIO_OM_MIG_GO_SIZE, VIRTIO_OM_MIG_GO_SIZE) \
	X(COME_HOME, 0x0108, GUEST, VIRTIO_OM_COME_HOME_SIZE, VIRTIO_OM_COME_HOME_SIZE) \
	X(MIG_RUNNING, 0x0109, GUEST, VIRTIO_OM_MIG_GO_SIZE, VIRTIO_OM_MIG_GO_SIZE) \
	X(CPU_QUERY, 0x010a, GUEST, VIRTIO_OM_CPU_QUERY_SIZE, VIRTIO_OM_CPU_QUERY_SIZE) \
	X(CPU_INFO, 0x010b, GUEST, VIRTIO_OM_CPU_INFO_SIZE, VIRTIO_OM_CPU_INFO_SIZE) \
	X(HANDOVER, 0x010c, GUEST, VIRTIO_OM_HANDOVER_SIZE, VIRTIO_OM_HANDOVER_SIZE) \
	X(LOAD, 0x010d, GUEST, VIRTIO_OM_LOAD_SIZE + VIRTIO_OM_LOAD_ENTRY_SIZE,		\
	  VIRTIO_OM_LOAD_SIZE + VIRTIO_OM_LOAD_MAX_ENTRIES * VIRTIO_OM_LOAD_ENTRY_SIZE) \
	X(PROC_FLAGS, 0x010e, GUEST, VIRTIO_OM_PROC_FLAGS_SIZE, VIRTIO_OM_PROC_FLAGS_SIZE) \
	X(SYSCALL, 0x0200, GUEST, VIRTIO_OM_SYSCALL_SIZE,				\
	  VIRTIO_OM_SYSCALL_SIZE + VIRTIO_OM_PUSH_BATCH_MAX_SIZE +			\
	  VIRTIO_OM_SYSCALL_OUT_MAX * VIRTIO_OM_SYSCALL_OUT_SIZE)			\
	X(SYSCALL_RET, 0x0201, GUEST, VIRTIO_OM_SYSCALL_RET_SIZE,			\
	  VIRTIO_OM_SYSCALL_RET_SIZE + VIRTIO_OM_DELEG_SIZE + 2 * VIRTIO_OM_NAMES_SIZE +	\
	  VIRTIO_OM_PUSH_BATCH_MAX_SIZE)						\
	X(SIGNAL, 0x0202, GUEST, VIRTIO_OM_SIGNAL_SIZE, VIRTIO_OM_SIGNAL_SIZE) \
	X(EXIT, 0x0203, GUEST, VIRTIO_OM_EXIT_SIZE, VIRTIO_OM_EXIT_SIZE) \
	X(KILL, 0x0204, GUEST, VIRTIO_OM_KILL_SIZE, VIRTIO_OM_KILL_SIZE) \
	X(STOPPED, 0x0205, GUEST, VIRTIO_OM_STOPPED_SIZE, VIRTIO_OM_STOPPED_SIZE) \
	X(SIGMASK, 0x0206, GUEST, VIRTIO_OM_SIGSET_SIZE, VIRTIO_OM_SIGSET_SIZE) \
	X(SIGWATCH, 0x0207, GUEST, VIRTIO_OM_SIGSET_SIZE, VIRTIO_OM_SIGSET_SIZE) \
	X(FORK, 0x0208, GUEST, VIRTIO_OM_FORK_SIZE, VIRTIO_OM_FORK_SIZE) \
	X(FORK_CANCEL, 0x0209, GUEST, VIRTIO_OM_FORK_CANCEL_SIZE, VIRTIO_OM_FORK_CANCEL_SIZE) \
	X(MEM_READ, 0x0300, GUEST, VIRTIO_OM_MEM_REQ_SIZE, VIRTIO_OM_MEM_REQ_SIZE) \
	X(MEM_DATA, 0x0301, GUEST, VIRTIO_OM_MEM_DATA_SIZE, VIRTIO_OM_LEN_ANY) \
	X(MEM_WRITE, 0x0302, GUEST, VIRTIO_OM_MEM_REQ_SIZE, VIRTIO_OM_LEN_ANY) \
	X(PROC_READ, 0x0303, GUEST, VIRTIO_OM_PROC_READ_SIZE, VIRTIO_OM_PROC_READ_SIZE) \
	X(PROC_DATA, 0x0304, GUEST, VIRTIO_OM_PROC_DATA_SIZE, VIRTIO_OM_LEN_ANY) \
	X(RFILE_OPEN, 0x0305, GUEST, VIRTIO_OM_RFILE_OPEN_SIZE, VIRTIO_OM_RFILE_OPEN_SIZE + 4096) \
	X(RFILE_INFO, 0x0306, GUEST, VIRTIO_OM_RFILE_INFO_SIZE, VIRTIO_OM_RFILE_INFO_SIZE + 255) \
	X(RFILE_READ, 0x0307, GUEST, VIRTIO_OM_RFILE_READ_SIZE, VIRTIO_OM_RFILE_READ_SIZE) \
	X(RFILE_DATA, 0x0308, GUEST, VIRTIO_OM_RFILE_DATA_SIZE, VIRTIO_OM_LEN_ANY) \
	X(RFILE_CLOSE, 0x0309, GUEST, VIRTIO_OM_RFILE_CLOSE_SIZE, VIRTIO_OM_RFILE_CLOSE_SIZE) \
	X(RFILE_FORGET, 0x030a, GUEST, VIRTIO_OM_RFILE_FORGET_SIZE, VIRTIO_OM_RFILE_FORGET_SIZE) \
	X(MEM_PUSH, 0x030b, GUEST, VIRTIO_OM_MEM_PUSH_SIZE + 8 + 4096,			\
	  VIRTIO_OM_PUSH_BATCH_MAX_SIZE)						\
	X(DELEG_FLUSH, 0x030c, GUEST, VIRTIO_OM_DELEG_FLUSH_SIZE, VIRTIO_OM_LEN_ANY) \
	X(DELEG_DONE, 0x030d, GUEST, VIRTIO_OM_DELEG_DONE_SIZE, VIRTIO_OM_DELEG_DONE_SIZE) \
	X(DELEG_RECALL, 0x030e, GUEST, VIRTIO_OM_DELEG_RECALL_SIZE, VIRTIO_OM_DELEG_RECALL_SIZE) \
	X(NAMES_DROP, 0x030f, GUEST, VIRTIO_OM_NAMES_SIZE, VIRTIO_OM_NAMES_SIZE) \
	X(NAMES_DROPPED, 0x0310, GUEST, VIRTIO_OM_NAMES_SIZE, VIRTIO_OM_NAMES_SIZE) \
	X(TEST_DATA, 0x7f00, GUEST, 0, VIRTIO_OM_LEN_ANY)

/* Why a node went down or came up. */
enum virtio_om_node_reason {
	VIRTIO_OM_NODE_JOINED = 1,	 /* its device connected to the host */
	VIRTIO_OM_NODE_RECONNECTED = 2,	 /* it, or the host relay, came back */
	VIRTIO_OM_NODE_DISCONNECTED = 3, /* its device went away (VM stopped or died) */
	VIRTIO_OM_NODE_EVICTED = 4,	 /* the host refused it: it broke the protocol */
};

struct virtio_om_node_event {
	__le32 node;
	__le32 reason; /* enum virtio_om_node_reason */
};

struct virtio_om_ping {
	__le64 cookie; /* echoed in the pong */
};

/*
 * The engine's payloads (types 0x01xx-0x03xx). The process is named by the
 * header: src_pid and dst_pid both carry its pid at its home node. What each
 * side does with them: docs/engine.md.
 */

/* Architectures a process can be migrated for; both ends must match. */
#define VIRTIO_OM_ARCH_X86_64 1u

/* The general registers of an x86_64 process, in user_regs_struct order. */
struct virtio_om_regs_x86_64 {
	__le64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	__le64 ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
	__le64 fs_base, gs_base;
};

struct virtio_om_sigaction {
	__le64 handler;
	__le64 flags;
	__le64 restorer;
	__le64 mask;
};

#define VIRTIO_OM_MIG_SIGNALS	64
#define VIRTIO_OM_MIG_RLIMITS	16
/* The auxiliary vector the kernel kept at exec (/proc/PID/auxv), in words. */
#define VIRTIO_OM_MIG_AUXV	64
#define VIRTIO_OM_MIG_GROUPS	32

/* MIG_BEGIN flags. */
#define VIRTIO_OM_MIG_F_HOME		0x1u /* the process is coming home to its deputy */
#define VIRTIO_OM_MIG_F_RESTORE_SIGMASK	0x2u /* saved_sigmask is restored after the call */
#define VIRTIO_OM_MIG_F_NO_NEW_PRIVS	0x4u /* prctl(PR_SET_NO_NEW_PRIVS) was set */
#define VIRTIO_OM_MIG_F_CALL		0x8u /* home for one call: back to the sender after it */
#define VIRTIO_OM_MIG_F_ELF		0x10u /* loaded as ELF: its core dumps are ELF's */
#define VIRTIO_OM_MIG_F_LOCKED		0x20u /* never moved automatically (PROC_F_LOCKED) */
/*
 * A live move: the process runs on at the sender while rounds of its pages
 * come; then a second MIG_BEGIN (F_FINAL) carries it as it is when frozen,
 * with its final mappings and the pages written since (docs/engine.md).
 * Coming home (F_HOME too), its deputy serves its calls between the rounds.
 */
#define VIRTIO_OM_MIG_F_LIVE		0x40u
#define VIRTIO_OM_MIG_F_FINAL		0x80u
#define VIRTIO_OM_MIG_F_ALL		0xffu

/* MIG_BEGIN mm_flags: what prctl() set of the process's address space. */
#define VIRTIO_OM_MIG_MM_NO_THP		0x1u /* PR_SET_THP_DISABLE */
#define VIRTIO_OM_MIG_MM_MDWE		0x2u /* PR_SET_MDWE: PR_MDWE_REFUSE_EXEC_GAIN */
#define VIRTIO_OM_MIG_MM_MDWE_NO_INHERIT 0x4u /* and PR_MDWE_NO_INHERIT (only with MDWE) */
#define VIRTIO_OM_MIG_MM_ALL		0x7u

/*
 * A system call the process was in when it left, to be restarted where it
 * arrives (its registers hold -ERESTART_RESTARTBLOCK): the restart block.
 */
enum virtio_om_restart_kind {
	VIRTIO_OM_RESTART_NONE = 0,	 /* none pending */
	VIRTIO_OM_RESTART_INTERRUPT = 1, /* restarting gives EINTR */
	VIRTIO_OM_RESTART_NANOSLEEP = 2, /* nanosleep/clock_nanosleep goes on */
	VIRTIO_OM_RESTART_FUTEX = 3,	 /* a futex wait with a time-out goes on */
	VIRTIO_OM_RESTART_AT_HOME = 4,	 /* the deputy holds it: a forwarded call's */
};

struct virtio_om_mig_restart {
	__le32 kind;	 /* enum virtio_om_restart_kind */
	__le32 clockid;	 /* NANOSLEEP, FUTEX: the clock the time is on */
	__le64 time_ns;	 /* ns left on MONOTONIC/BOOTTIME; REALTIME/TAI: the absolute time */
	__le64 addr;	 /* NANOSLEEP: where the time left goes (0: nowhere); FUTEX: the word */
	__le32 type;	 /* NANOSLEEP: how it goes (1 native, 2 compat); FUTEX: flags */
	__le32 val;	 /* FUTEX: the value waited on */
	__le32 bitset;	 /* FUTEX */
	__le32 reserved;
};

/* A CPU-time interval timer (ITIMER_PROF, ITIMER_VIRTUAL). */
struct virtio_om_mig_itimer {
	__le64 value_ns;    /* CPU time left until it fires, 0: off */
	__le64 interval_ns; /* then every */
};

/*
 * The first step: everything but memory. Followed in the same message by
 * xstate_size bytes of XSAVE-format (standard, uncompacted) FPU/vector state.
 */
struct virtio_om_mig_begin {
	__le32 arch;	      /* VIRTIO_OM_ARCH_* */
	__le32 flags;	      /* VIRTIO_OM_MIG_F_* */
	__le64 pages;	      /* pages that will follow, for progress and checks */
	__le32 vmas;	      /* mappings that will follow */
	__le32 personality;
	__le32 nice;	      /* -20..19, biased by 20 */
	__le32 exit_signal;
	__u8 comm[16];
	/* credentials (the initial user namespace) */
	__le32 uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
	__le32 securebits;
	__le32 ngroups;
	__le32 groups[VIRTIO_OM_MIG_GROUPS];
	__le64 cap_inheritable, cap_permitted, cap_effective, cap_bset, cap_ambient;
	/* signals */
	__le64 blocked;
	__le64 sas_ss_sp;
	__le64 sas_ss_size;
	__le32 sas_ss_flags;
	__le32 dumpable;      /* 0: not, 1: by its user, 2: by root only (as fs.suid_dumpable) */
	struct virtio_om_sigaction action[VIRTIO_OM_MIG_SIGNALS];
	/* resource limits, RLIMIT_* order */
	struct {
		__le64 cur;
		__le64 max;
	} rlim[VIRTIO_OM_MIG_RLIMITS];
	/* memory layout */
	__le64 start_code, end_code, start_data, end_data;
	__le64 start_brk, brk, start_stack;
	__le64 arg_start, arg_end, env_start, env_end;
	__le64 mmap_base, vdso;
	__le64 clear_child_tid, robust_list, robust_list_len;
	/* registers and FPU/vector state */
	struct virtio_om_regs_x86_64 regs;
	__le64 xfeatures;     /* the XSAVE features the state uses */
	__le32 xstate_size;   /* bytes after this struct */
	__le32 coredump_filter; /* /proc/PID/coredump_filter's bits */
	/* what goes on across the move */
	__le64 saved_sigmask; /* the mask a call restores (F_RESTORE_SIGMASK) */
	__le64 monotonic_ns;  /* the process's CLOCK_MONOTONIC when it left */
	__le64 boottime_ns;   /* and its CLOCK_BOOTTIME */
	__le64 utime_ns;      /* CPU time it has used, in user mode */
	__le64 stime_ns;      /* and in the kernel */
	struct virtio_om_mig_itimer itimer_prof, itimer_virt;
	__le64 rseq;	      /* its registered rseq area, 0: none */
	__le32 rseq_len;
	__le32 rseq_sig;
	struct virtio_om_mig_restart restart;
	__le64 auxv[VIRTIO_OM_MIG_AUXV]; /* type, value pairs up to AT_NULL; zero after */
	__le32 home_node;     /* its home; not the sender: a move between two nodes away */
	/* For the receiver's figures: */
	__le32 live_rounds;   /* a live move's final one: the rounds before the freeze */
	__le32 frozen_us;     /* how long the process had been frozen when this left */
	__le32 mm_flags;      /* VIRTIO_OM_MIG_MM_* */
	__u8 reserved2[8];    /* zero; pads the struct to VIRTIO_OM_MIG_BEGIN_SIZE */
};

/* A mapping: [start, end) with PROT_* bits. */
#define VIRTIO_OM_VMA_F_GROWSDOWN 0x1u /* a stack that grows down */
#define VIRTIO_OM_VMA_F_VDSO	  0x2u /* the vDSO: mapped from the receiver's own */
#define VIRTIO_OM_VMA_F_SHARED	  0x4u /* MAP_SHARED|MAP_ANONYMOUS, mapped by it alone */
/*
 * A private mapping of a file of home, which serves it to the receiver
 * (as RFILE_INFO's served id names it): mapped there from that file, its
 * pages read from home as they fault; only the pages the process wrote
 * (private copies) follow in MIG_PAGES.
 */
#define VIRTIO_OM_VMA_F_FILE	  0x8u
#define VIRTIO_OM_VMA_F_ALL	  (VIRTIO_OM_VMA_F_GROWSDOWN | VIRTIO_OM_VMA_F_VDSO | \
				   VIRTIO_OM_VMA_F_SHARED | VIRTIO_OM_VMA_F_FILE)

struct virtio_om_mig_vma {
	__le64 start;
	__le64 end;
	__le32 prot;	 /* PROT_READ | PROT_WRITE | PROT_EXEC */
	__le32 flags;	 /* VIRTIO_OM_VMA_F_* */
	__le32 served;	 /* F_FILE: home's id for the file (RFILE_READ, RFILE_FORGET) */
	__le32 reserved;
	__le64 pgoff;	 /* F_FILE: the file's page at start */
	__le64 size;	 /* F_FILE: the file's version, as in RFILE_INFO */
	__le64 dev;
	__le64 ino;
	__le64 mtime_ns;
	__le64 ctime_ns;
};

struct virtio_om_mig_vmas {
	__le32 count;	 /* struct virtio_om_mig_vma entries that follow */
	__le32 reserved;
};

/* count page addresses (__le64 each), then count pages of 4096 bytes (none if F_ZERO). */
#define VIRTIO_OM_PAGE_SIZE 4096u
struct virtio_om_mig_pages {
	__le32 count;
	__le32 flags;	 /* VIRTIO_OM_PAGES_F_* */
};

/* Addresses only, no page data: these pages read zero (a live move's final round). */
#define VIRTIO_OM_PAGES_F_ZERO	0x1u

/* SYNC and COMMIT: what was sent so far, for the receiver to check. */
struct virtio_om_mig_mark {
	__le64 pages;
	__le32 vmas;
	__le32 reserved;
};

struct virtio_om_mig_ack {
	__le32 error;	 /* 0, or a positive errno: the receiver refuses */
	__le32 reserved;
	__le64 pages;	 /* pages the receiver has taken in */
};

struct virtio_om_mig_go {
	__le32 error;	 /* ABORT: why (positive errno); GO: 0 */
	__le32 reserved;
};

struct virtio_om_cpu_query {
	__le32 arch;	 /* the asker's VIRTIO_OM_ARCH_* */
	__le32 reserved;
};

/*
 * What a node's CPU offers user space, asked before a process is sent
 * there: a process must not meet an instruction its CPU no longer has.
 * x86_64 words: CPUID 1.ECX, 1.EDX, 7.0.EBX, 7.0.ECX, 7.0.EDX,
 * 0x80000001.ECX, 0x80000001.EDX, 0xD.1.EAX, each reduced to the bits of
 * instructions user space can use.
 */
#define VIRTIO_OM_CPU_WORDS 8
struct virtio_om_cpu_info {
	__le32 arch;
	__le32 reserved;
	__le64 xfeatures; /* XSAVE components enabled for user space (XCR0) */
	__le32 words[VIRTIO_OM_CPU_WORDS];
};

/*
 * A move between two nodes away (B to C, home A), by B: once C holds all
 * of the process (its ACK of COMMIT), B asks the deputy to take C as the
 * process's node (answered by MIG_ACK); after C's RUNNING it says so
 * (F_DONE, not answered). A move that fails, before or after that, leaves
 * the process at B, which tells the deputy so, with why (F_BACK, node B,
 * answered). Until F_DONE the deputy goes back to B should C go down.
 */
#define VIRTIO_OM_HANDOVER_F_DONE 0x1u
#define VIRTIO_OM_HANDOVER_F_BACK 0x2u
struct virtio_om_handover {
	__le32 node;	 /* the process's node from now */
	__le32 flags;	 /* VIRTIO_OM_HANDOVER_F_* */
	__le32 error;	 /* F_BACK: why the move failed (a positive errno) */
	__le32 reserved;
};

/*
 * Load information (the balancer's, docs/engine.md "Load balancing"): each
 * node sends, about once a second, to one node chosen at random among those
 * up, its own entry first and then the freshest it knows of others (its
 * window), so a node learns of every other in a few rounds at a constant
 * cost. Not answered.
 */
#define VIRTIO_OM_LOAD_MAX_ENTRIES 8
/* An entry's bounds: CPUs and speed (a standard CPU's speed is 10000). */
#define VIRTIO_OM_LOAD_MAX_CPUS	   8192
#define VIRTIO_OM_LOAD_STD_SPEED   10000
#define VIRTIO_OM_LOAD_MAX_SPEED   10000000
/* Runnable processes at most (the kernel's own pid limit, PID_MAX_LIMIT). */
#define VIRTIO_OM_LOAD_MAX_RUNNABLE 4194304
/* The node takes no process from others (/proc/hpc/admin/block). */
#define VIRTIO_OM_LOAD_F_BLOCKED   0x1u
/* Its balancer is on (/proc/hpc/admin/balance). */
#define VIRTIO_OM_LOAD_F_BALANCING 0x2u
#define VIRTIO_OM_LOAD_F_ALL	   0x3u
struct virtio_om_load_entry {
	__le32 node;
	__le32 age_ms;	    /* how old these values were when sent (0 for the sender's own) */
	__le32 load;	    /* runnable processes x 1000, the fast decay */
	__le32 load_slow;   /* the same, the slow decay */
	__le32 speed;	    /* one CPU's speed, relative (a standard CPU: 10000) */
	__le32 ncpus;	    /* CPUs online */
	__le64 free_kib;    /* memory free or reclaimable */
	__le64 total_kib;   /* memory in all */
	__le32 flags;	    /* VIRTIO_OM_LOAD_F_* */
	__le32 hosted;	    /* processes of other nodes it runs */
	__le32 away;	    /* its own processes running at other nodes */
	__le32 runnable;    /* runnable when measured, not decayed: shows an arrival at once */
};

struct virtio_om_load {
	__le32 count;	 /* entries that follow (1..LOAD_MAX_ENTRIES), the sender's first */
	__le32 reserved;
	struct virtio_om_load_entry entries[];
};

/* Per-process settings a move carries, told the other half when they change. */
#define VIRTIO_OM_PROC_F_LOCKED 0x1u /* never moved automatically (/proc/PID/hpc/lock) */
#define VIRTIO_OM_PROC_F_ALL	0x1u
struct virtio_om_proc_flags {
	__le32 flags;	 /* VIRTIO_OM_PROC_F_* */
	__le32 reserved;
};

/* The process asked it itself (its own where): a live move only under om.live=2. */
#define VIRTIO_OM_COME_HOME_F_SELF 0x1u
#define VIRTIO_OM_COME_HOME_F_ALL  0x1u

struct virtio_om_come_home {
	__le32 then_node; /* where to go from home, 0 to stay there */
	__le32 flags;	  /* VIRTIO_OM_COME_HOME_F_* */
};

/*
 * A call's buffers travel with it (docs/engine.md, "Forwarded calls"):
 * MEM_PUSHes before the SYSCALL carry the pages it reads (with F_PAGES the
 * last batch rides in the SYSCALL itself, as the deputy's last batch of
 * pages written does in SYSCALL_RET: one message each way for a call of
 * at most VIRTIO_OM_MEM_PUSH_MAX pages), and with F_OUT
 * the SYSCALL names the ranges it writes in order from their start, as
 * read() and readv() do (1 to VIRTIO_OM_SYSCALL_OUT_MAX of them, after
 * the SYSCALL): pages wholly inside need not be fetched, and of what the
 * deputy puts there only the result's count of bytes is written back,
 * the first range filled before the next.
 */
#define VIRTIO_OM_SYSCALL_OUT_MAX 4
#define VIRTIO_OM_SYSCALL_F_OUT 0x1u
#define VIRTIO_OM_SYSCALL_F_BEHIND 0x2u /* not waited for: see virtio_om_syscall_ret */
/*
 * F_PAGES (SYSCALL and SYSCALL_RET): a batch as a MEM_PUSH's follows the
 * struct: its virtio_om_mem_push and addresses right after it (before a
 * SYSCALL's F_OUT ranges), its count pages last, ending the message.
 */
#define VIRTIO_OM_SYSCALL_F_PAGES 0x4u
#define VIRTIO_OM_SYSCALL_F_ALL 0x7u
struct virtio_om_syscall {
	__le32 nr;	 /* x86_64 system call number */
	__le32 flags;	 /* VIRTIO_OM_SYSCALL_F_* */
	__le64 args[6];
};

struct virtio_om_syscall_out {
	__le64 addr;
	__le64 len;
};

/* Pages of the process's memory, by address (page-aligned), each its page. */
#define VIRTIO_OM_MEM_PUSH_MAX 15
struct virtio_om_mem_push {
	__le32 count;	 /* 1..VIRTIO_OM_MEM_PUSH_MAX */
	__le32 writable; /* bit i: the process may write page i */
};

/*
 * Written behind (docs/engine.md, "Writes behind"): a write() or pwrite64()
 * to a regular file of home whose SYSCALL has F_BEHIND was not waited for;
 * the process took its full count as the result. The deputy keeps a
 * failure for the file's next fsync(), fdatasync() or close(). In the
 * answer to a write() or pwrite64(), RET_F_BEHIND says the file may go on
 * being written so, and RET_F_RELEASE_BEHIND that its record locks are
 * the kernel's own (no file system lock method). An fcntl() lock command
 * (F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW) with F_BEHIND releases a
 * lock of such a file (the process took 0); its answer without
 * RET_F_BEHIND says it failed. One answer may answer several calls
 * behind: `calls` of them, the call it replies to and those sent behind
 * just before it, which all went as sent; its flags are the call's it
 * replies to (which may have failed).
 */
#define VIRTIO_OM_SYSCALL_RET_F_BEHIND 0x1u
#define VIRTIO_OM_SYSCALL_RET_F_PAGES 0x2u /* pages the call wrote: as SYSCALL_F_PAGES */
#define VIRTIO_OM_SYSCALL_RET_F_RELEASE_BEHIND 0x4u
/* In the answer to an open: a struct virtio_om_deleg follows the struct (see below). */
#define VIRTIO_OM_SYSCALL_RET_F_DELEG 0x8u
/* In an answer -ENOENT to a lookup by absolute path: a struct virtio_om_names follows. */
#define VIRTIO_OM_SYSCALL_RET_F_NAMES 0x10u
/*
 * The call made a name that dropped names the node kept: a struct
 * virtio_om_names follows (after F_DELEG's and F_NAMES's), as NAMES_DROP's.
 */
#define VIRTIO_OM_SYSCALL_RET_F_NAMES_DROP 0x20u
#define VIRTIO_OM_SYSCALL_RET_F_ALL 0x3fu
struct virtio_om_syscall_ret {
	__le64 ret;	 /* the value, or -errno (restart codes included) */
	__le32 flags;	 /* VIRTIO_OM_SYSCALL_RET_F_* */
	__le32 calls;	 /* calls behind it answers, 1..32 (0: one, or none behind) */
};

/*
 * The process's group at home is orphaned: job-control stop signals
 * (SIGTSTP, SIGTTIN, SIGTTOU) with their default action do nothing.
 */
#define VIRTIO_OM_SIGNAL_F_ORPHANED 0x1u
struct virtio_om_signal {
	__le32 signo;
	__le32 flags;	 /* VIRTIO_OM_SIGNAL_F_* */
	__u8 info[128];	 /* siginfo_t, Linux x86_64 layout */
};

/* The process stopped where it runs; its deputy stops at home too. */
struct virtio_om_stopped {
	__le32 signo;	 /* the signal that stopped it */
	__le32 conts;	 /* SIGCONTs it had received from its deputy then */
};

/*
 * A set of signals, bit N-1 for signal N. SIGMASK: the process's blocked
 * signals away (its reply echoes them once the deputy has sent on what it
 * no longer holds); SIGWATCH: the signals a signalfd of the process at
 * home reads, so that the process tells its mask only when it matters.
 */
struct virtio_om_sigset {
	__le64 sigs;
};

/*
 * A process away forks (fork, or clone without CLONE_VM): its deputy forks
 * the child's deputy at home, which answers with the child's home pid
 * (SYSCALL_RET: the pid or -errno); the child runs where its parent does.
 */
struct virtio_om_fork {
	__le64 flags;	    /* clone flags the deputy's fork takes (VIRTIO_OM_FORK_HOME_FLAGS) */
	__le32 exit_signal; /* the signal the parent gets when the child ends (0: none) */
	__le32 serial;	    /* the asker's number for this fork, which a FORK_CANCEL names */
	__le64 blocked;	    /* the child's blocked signals, bit N-1 for signal N */
};

/*
 * The process gave up waiting for the answer to its FORK @serial (home
 * silent past the time-out) and failed the fork: a child's deputy made for
 * it ends unseen (no signal to its parent, no zombie to wait for). Sent
 * at once after that FORK, before anything else of the process; a deputy
 * that answered another message since, or another serial, ignores it.
 */
struct virtio_om_fork_cancel {
	__le32 serial;
	__le32 reserved;
};

/* CLONE_FS, CLONE_FILES, CLONE_SYSVSEM, CLONE_PARENT, CLONE_IO: shared at home. */
#define VIRTIO_OM_FORK_HOME_FLAGS 0x80048600ull

struct virtio_om_exit {
	__le32 code;	 /* as for wait(): exit status << 8, or the signal */
	__le32 reserved;
	__le64 utime_ns; /* CPU time the process used where it ran */
	__le64 stime_ns;
};

#define VIRTIO_OM_KILL_DEPUTY_EXITED 1u /* the process ended at home */
#define VIRTIO_OM_KILL_BROUGHT_DOWN  2u /* an administrator ended it */
#define VIRTIO_OM_KILL_NO_DEPUTY     3u /* no deputy answers for it: its move was undone */
struct virtio_om_kill {
	__le32 reason;
	__le32 reserved;
};

/* A MEM_READ's read-ahead: what fits in one MEM_DATA with the page asked. */
#define VIRTIO_OM_MEM_AHEAD_MAX 14

struct virtio_om_mem_req {
	__le64 addr;
	__le32 len;	 /* MEM_READ: at most one page, not across pages */
	/*
	 * MEM_READ: up to this many whole pages after addr's, of the same
	 * mapping, sent too (at most VIRTIO_OM_MEM_AHEAD_MAX); MEM_WRITE: 0.
	 */
	__le32 ahead;
};

#define VIRTIO_OM_MEM_F_WRITABLE 0x1u /* the process may write there */
/*
 * Pages read ahead, as a SYSCALL's F_PAGES batch: virtio_om_mem_push and
 * its addresses after the struct, then the bytes asked, then the pages.
 */
#define VIRTIO_OM_MEM_F_PAGES	 0x2u
struct virtio_om_mem_data {
	__le32 error;	 /* 0, or a positive errno (EFAULT: nothing mapped) */
	__le32 flags;	 /* VIRTIO_OM_MEM_F_* */
};

/*
 * What home's /proc shows of a process away is read where it runs: a
 * piece of the file of that name in the /proc of the node it runs on.
 */
enum virtio_om_proc_file {
	VIRTIO_OM_PROC_CMDLINE = 1,
	VIRTIO_OM_PROC_ENVIRON = 2,
	VIRTIO_OM_PROC_MAPS = 3,
	VIRTIO_OM_PROC_STATUS = 4,
	VIRTIO_OM_PROC_STAT = 5,
	VIRTIO_OM_PROC_STATM = 6,
	VIRTIO_OM_PROC_SMAPS = 7,
	VIRTIO_OM_PROC_SMAPS_ROLLUP = 8,
	VIRTIO_OM_PROC_AUXV = 9,
	VIRTIO_OM_PROC_MEM = 10, /* the offset is an address in the process */
};

struct virtio_om_proc_read {
	__le32 file;	 /* enum virtio_om_proc_file */
	__le32 len;	 /* at most this many bytes (the answer may be shorter) */
	__le64 offset;	 /* from this byte of the file */
};

struct virtio_om_proc_data {
	__le32 error;	 /* 0, or a positive errno */
	__le32 len;	 /* bytes that follow; fewer than asked: the file ends there */
};

/*
 * Files of the home node a process away runs or maps ("rfiles"): the deputy
 * opens one (RFILE_OPEN: a program to exec, by path at home, with exec's
 * checks; or an open file of the process, by fd, to map privately), says
 * what it is (RFILE_INFO: its identity, which names its version, and why it
 * must be used at home if it must). Home serves the file's bytes to that
 * node, not to the process: the node reads pages as they fault (RFILE_READ,
 * by the served id RFILE_INFO gave, answered by RFILE_DATA) into its page
 * cache, one per file and version, whatever process uses it, and tells home
 * when it no longer needs the file (RFILE_FORGET).
 */
enum virtio_om_rfile_kind {
	VIRTIO_OM_RFILE_EXEC = 1, /* path: a program (or interpreter) exec loads */
	VIRTIO_OM_RFILE_FD = 2,	  /* fd: an open file of the process, mapped privately */
};

struct virtio_om_rfile_open {
	__le32 kind;	 /* enum virtio_om_rfile_kind */
	__le32 fd;	 /* VIRTIO_OM_RFILE_FD */
	__le32 path_len; /* VIRTIO_OM_RFILE_EXEC: bytes of path that follow, no NUL */
	__le32 reserved;
};

/* Why a file must be used at home: the process goes home for the call. */
#define VIRTIO_OM_RFILE_F_SETID	 0x1u /* set-user or set-group id: credentials change */
#define VIRTIO_OM_RFILE_F_CAPS	 0x2u /* file capabilities */
#define VIRTIO_OM_RFILE_F_SCRIPT 0x4u /* begins with #!: its interpreter reads it by path */
#define VIRTIO_OM_RFILE_F_NOEXEC 0x8u /* on a noexec mount */
#define VIRTIO_OM_RFILE_F_LARGE	 0x10u /* over 1 GiB: not copied */
#define VIRTIO_OM_RFILE_F_SPECIAL 0x20u /* not a regular file (a device to map) */
#define VIRTIO_OM_RFILE_F_UNREADABLE 0x40u /* a program its caller may run but not read */
#define VIRTIO_OM_RFILE_F_BUSY	 0x80u /* home serves that node all it may, or no memory */
#define VIRTIO_OM_RFILE_F_HOME	 0xffu

struct virtio_om_rfile_info {
	__le32 error;	 /* 0, or a positive errno (the open's) */
	__le32 handle;	 /* names the open file in RFILE_READ and RFILE_CLOSE (not 0) */
	__le64 size;	 /* bytes */
	__le64 dev;	 /* identity and version: device, inode, times of change */
	__le64 ino;
	__le64 mtime_ns;
	__le64 ctime_ns;
	__le32 flags;	 /* VIRTIO_OM_RFILE_F_* */
	__le32 name_len; /* bytes of its name (last path component) that follow */
	__le32 served;	 /* names the file to this node in RFILE_READ and RFILE_FORGET */
	__le32 reserved;
};

struct virtio_om_rfile_read {
	__le32 served;
	__le32 len;	 /* at most VIRTIO_OM_MAX_PAYLOAD - 8 */
	__le64 offset;
};

struct virtio_om_rfile_data {
	__le32 error;	 /* 0, or a positive errno */
	__le32 len;	 /* bytes that follow; fewer than asked: the file ends there */
};

/* The process runs the program now: the deputy takes it as its exe, closes O_CLOEXEC files. */
#define VIRTIO_OM_RFILE_CLOSE_F_EXEC 0x1u
struct virtio_om_rfile_close {
	__le32 handle;
	__le32 flags;	 /* VIRTIO_OM_RFILE_CLOSE_F_* */
};

struct virtio_om_rfile_forget {
	__le32 served;
	__le32 reserved;
};

/*
 * A file delegated to the node a process runs on (docs/engine.md, "Files
 * served where the process runs"). The answer to an open(), openat() or
 * creat() that home may delegate carries a virtio_om_deleg: home took a
 * lease on the file, so no one else has it open there, and the node serves
 * the process's reads, writes, seeks, fstat() and record locks on that
 * descriptor itself, on a copy whose pages it reads from home as needed
 * (RFILE_READ of `served`, within the file's size then). Written pages,
 * the size, and for a return the offset and the record locks go home in
 * DELEG_FLUSH messages, in order; the one with F_LAST is answered by
 * DELEG_DONE. A flush with F_SYNC (F_DATASYNC: fdatasync's) is an fsync()
 * at home after (only with F_LAST); one with F_RETURN ends the delegation:
 * home then holds the file as the node left it, the locks the process's,
 * and unlocks its lease. A return without F_LAST is not answered: the node
 * sends one so at a close, when home lacks nothing of the file. Home
 * recalls a delegation (DELEG_RECALL) when another opener or a truncate
 * breaks its lease; the node then returns it.
 */
#define VIRTIO_OM_DELEG_F_READ	0x1u /* opened for reading */
#define VIRTIO_OM_DELEG_F_WRITE	0x2u /* opened for writing */
#define VIRTIO_OM_DELEG_F_ALL	0x3u
struct virtio_om_deleg {
	__le32 id;	 /* names it in DELEG_FLUSH and DELEG_RECALL (not 0) */
	__le32 flags;	 /* VIRTIO_OM_DELEG_F_* */
	__le32 served;	 /* home serves the file's bytes by this id (RFILE_READ) */
	__le32 mode;	 /* what fstat() said at home when it was opened */
	__le64 size;
	__le64 dev;	 /* new_encode_dev() */
	__le64 ino;
	__le64 rdev;
	__le32 nlink;
	__le32 uid;
	__le32 gid;
	__le32 blksize;
	__le64 blocks;
	__le64 atime_ns;
	__le64 mtime_ns;
	__le64 ctime_ns;
};

#define VIRTIO_OM_DELEG_FLUSH_F_LAST	 0x1u /* the flush's last message: answered */
#define VIRTIO_OM_DELEG_FLUSH_F_SYNC	 0x2u /* fsync() at home after */
#define VIRTIO_OM_DELEG_FLUSH_F_DATASYNC 0x4u /* with F_SYNC: fdatasync() */
#define VIRTIO_OM_DELEG_FLUSH_F_RETURN	 0x8u /* the delegation ends (last of the flush) */
/* With F_RETURN: no call reports a failure; the file's next fsync or close at home will */
#define VIRTIO_OM_DELEG_FLUSH_F_KEEP	 0x10u
#define VIRTIO_OM_DELEG_FLUSH_F_ALL	 0x1fu
struct virtio_om_deleg_flush {
	__le32 id;
	__le32 flags;	 /* VIRTIO_OM_DELEG_FLUSH_F_* */
	__le64 size;	 /* F_LAST: the file's size */
	__le64 pos;	 /* F_RETURN: the descriptor's offset */
	__le32 count;	 /* pages: count file offsets (8 each), then the locks, then the pages */
	__le32 nr_locks; /* F_RETURN: the process's record locks on the file */
};

#define VIRTIO_OM_DELEG_LOCK_OFD 0x1u /* an open file description's lock, not a process's */
struct virtio_om_deleg_lock {
	__le64 start;
	__le64 end;	 /* the last byte, inclusive (OFFSET_MAX: to the end) */
	__le32 type;	 /* F_RDLCK or F_WRLCK */
	__le32 flags;	 /* VIRTIO_OM_DELEG_LOCK_* */
};

struct virtio_om_deleg_done {
	__le32 error;	 /* 0, or a positive errno: the first failure of the flush */
	__le32 reserved;
};

struct virtio_om_deleg_recall {
	__le32 id;
	__le32 reserved;
};

/*
 * Names that do not exist at home (docs/engine.md, "Names that do not
 * exist"). In an answer with RET_F_NAMES: the node may answer -ENOENT for
 * the call's path itself, under the grant's id, until home drops it
 * (NAMES_DROP), unless a NAMES_DROP of a later epoch came first. Home sends
 * NAMES_DROP, with a new epoch, when a name may have appeared on such a
 * path (a name made in a directory of it, a directory's permissions, a
 * mount): the id of the one name it touched, or 0 for all of the
 * process's; the node forgets them and echoes it (NAMES_DROPPED) before
 * the change's maker goes on.
 */
struct virtio_om_names {
	__le32 epoch;
	__le32 id;	 /* a grant's: not 0; a drop's: 0 for all */
};

/*
 * Payload fields, for the tools that show messages (omtrace and the
 * Wireshark dissector generated from this header, host/trace/): one entry
 * X(type, struct, member, kind) names member of struct virtio_om_<struct>
 * as a field of type's payload, at the member's offset and of its size (1,
 * 2, 4 or 8 bytes, little-endian; any for STRING). A type's fields are
 * shown in the order listed; a type with no entry as opaque bytes. A field
 * must lie within its type's min_len (checked by a unit test).
 */
enum virtio_om_field_kind {
	VIRTIO_OM_FIELD_UINT = 1,	/* unsigned, shown in decimal */
	VIRTIO_OM_FIELD_SINT = 2,	/* signed, shown in decimal */
	VIRTIO_OM_FIELD_HEX = 3,	/* unsigned, shown in hex: addresses, cookies, flags */
	VIRTIO_OM_FIELD_NODE = 4,	/* a node id */
	VIRTIO_OM_FIELD_PID = 5,	/* a process id (its home pid) */
	VIRTIO_OM_FIELD_NODE_REASON = 6, /* enum virtio_om_node_reason */
	VIRTIO_OM_FIELD_SYSCALL = 7,	/* an x86_64 system call number */
	VIRTIO_OM_FIELD_RESULT = 8,	/* a system call's result: -4095..-1 is -errno */
	VIRTIO_OM_FIELD_ERRNO = 9,	/* a positive errno value, 0 for none */
	VIRTIO_OM_FIELD_SIGNAL = 10,	/* a signal number */
	VIRTIO_OM_FIELD_STRING = 11,	/* bytes of any size: text up to the first NUL */
};

/* member may be an array element (args[0]): the field is then named so. */
#define VIRTIO_OM_FOR_EACH_FIELD(X)				\
	X(NODE_UP, node_event, node, NODE)			\
	X(NODE_UP, node_event, reason, NODE_REASON)		\
	X(NODE_DOWN, node_event, node, NODE)			\
	X(NODE_DOWN, node_event, reason, NODE_REASON)		\
	X(PING, ping, cookie, HEX)				\
	X(PONG, ping, cookie, HEX)				\
	X(MIG_BEGIN, mig_begin, comm, STRING)			\
	X(MIG_BEGIN, mig_begin, flags, HEX)			\
	X(MIG_BEGIN, mig_begin, pages, UINT)			\
	X(MIG_BEGIN, mig_begin, vmas, UINT)			\
	X(MIG_BEGIN, mig_begin, uid, UINT)			\
	X(MIG_BEGIN, mig_begin, xstate_size, UINT)		\
	X(MIG_VMAS, mig_vmas, count, UINT)			\
	X(MIG_PAGES, mig_pages, count, UINT)			\
	X(MIG_PAGES, mig_pages, flags, HEX)			\
	X(MIG_SYNC, mig_mark, pages, UINT)			\
	X(MIG_SYNC, mig_mark, vmas, UINT)			\
	X(MIG_COMMIT, mig_mark, pages, UINT)			\
	X(MIG_COMMIT, mig_mark, vmas, UINT)			\
	X(MIG_ACK, mig_ack, error, ERRNO)			\
	X(MIG_ACK, mig_ack, pages, UINT)			\
	X(MIG_GO, mig_go, error, ERRNO)				\
	X(MIG_ABORT, mig_go, error, ERRNO)			\
	X(MIG_RUNNING, mig_go, error, ERRNO)			\
	X(COME_HOME, come_home, then_node, NODE)		\
	X(HANDOVER, handover, node, NODE)			\
	X(HANDOVER, handover, flags, HEX)			\
	X(HANDOVER, handover, error, ERRNO)			\
	X(LOAD, load, count, UINT)				\
	X(LOAD, load, entries[0].node, NODE)			\
	X(LOAD, load, entries[0].load, UINT)			\
	X(LOAD, load, entries[0].load_slow, UINT)		\
	X(LOAD, load, entries[0].speed, UINT)			\
	X(LOAD, load, entries[0].ncpus, UINT)			\
	X(LOAD, load, entries[0].free_kib, UINT)		\
	X(LOAD, load, entries[0].total_kib, UINT)		\
	X(LOAD, load, entries[0].flags, HEX)			\
	X(LOAD, load, entries[0].hosted, UINT)			\
	X(LOAD, load, entries[0].away, UINT)			\
	X(LOAD, load, entries[0].runnable, UINT)		\
	X(PROC_FLAGS, proc_flags, flags, HEX)			\
	X(CPU_QUERY, cpu_query, arch, UINT)			\
	X(CPU_INFO, cpu_info, arch, UINT)			\
	X(CPU_INFO, cpu_info, xfeatures, HEX)			\
	X(CPU_INFO, cpu_info, words[0], HEX)			\
	X(CPU_INFO, cpu_info, words[2], HEX)			\
	X(SYSCALL, syscall, nr, SYSCALL)			\
	X(SYSCALL, syscall, flags, HEX)				\
	X(SYSCALL, syscall, args[0], HEX)			\
	X(SYSCALL, syscall, args[1], HEX)			\
	X(SYSCALL, syscall, args[2], HEX)			\
	X(SYSCALL, syscall, args[3], HEX)			\
	X(SYSCALL, syscall, args[4], HEX)			\
	X(SYSCALL, syscall, args[5], HEX)			\
	X(SYSCALL_RET, syscall_ret, ret, RESULT)		\
	X(SYSCALL_RET, syscall_ret, flags, HEX)			\
	X(SIGNAL, signal, signo, SIGNAL)			\
	X(SIGNAL, signal, flags, HEX)				\
	X(EXIT, exit, code, HEX)				\
	X(EXIT, exit, utime_ns, UINT)				\
	X(EXIT, exit, stime_ns, UINT)				\
	X(KILL, kill, reason, UINT)				\
	X(STOPPED, stopped, signo, SIGNAL)			\
	X(STOPPED, stopped, conts, UINT)			\
	X(SIGMASK, sigset, sigs, HEX)				\
	X(SIGWATCH, sigset, sigs, HEX)				\
	X(FORK, fork, flags, HEX)				\
	X(FORK, fork, exit_signal, SIGNAL)			\
	X(FORK, fork, serial, UINT)				\
	X(FORK, fork, blocked, HEX)				\
	X(FORK_CANCEL, fork_cancel, serial, UINT)		\
	X(MEM_READ, mem_req, addr, HEX)				\
	X(MEM_READ, mem_req, len, UINT)				\
	X(MEM_READ, mem_req, ahead, UINT)			\
	X(MEM_DATA, mem_data, error, ERRNO)			\
	X(MEM_DATA, mem_data, flags, HEX)			\
	X(MEM_WRITE, mem_req, addr, HEX)			\
	X(MEM_WRITE, mem_req, len, UINT)			\
	X(MEM_PUSH, mem_push, count, UINT)			\
	X(MEM_PUSH, mem_push, writable, HEX)			\
	X(PROC_READ, proc_read, file, UINT)			\
	X(PROC_READ, proc_read, len, UINT)			\
	X(PROC_READ, proc_read, offset, UINT)			\
	X(PROC_DATA, proc_data, error, ERRNO)			\
	X(PROC_DATA, proc_data, len, UINT)			\
	X(RFILE_OPEN, rfile_open, kind, UINT)			\
	X(RFILE_OPEN, rfile_open, fd, UINT)			\
	X(RFILE_OPEN, rfile_open, path_len, UINT)		\
	X(RFILE_INFO, rfile_info, error, ERRNO)			\
	X(RFILE_INFO, rfile_info, handle, UINT)			\
	X(RFILE_INFO, rfile_info, size, UINT)			\
	X(RFILE_INFO, rfile_info, ino, UINT)			\
	X(RFILE_INFO, rfile_info, flags, HEX)			\
	X(RFILE_INFO, rfile_info, served, UINT)			\
	X(RFILE_READ, rfile_read, served, UINT)			\
	X(RFILE_READ, rfile_read, len, UINT)			\
	X(RFILE_READ, rfile_read, offset, UINT)			\
	X(RFILE_DATA, rfile_data, error, ERRNO)			\
	X(RFILE_DATA, rfile_data, len, UINT)			\
	X(RFILE_CLOSE, rfile_close, handle, UINT)		\
	X(RFILE_CLOSE, rfile_close, flags, HEX)			\
	X(RFILE_FORGET, rfile_forget, served, UINT)		\
	X(DELEG_FLUSH, deleg_flush, id, UINT)			\
	X(DELEG_FLUSH, deleg_flush, flags, HEX)			\
	X(DELEG_FLUSH, deleg_flush, size, UINT)			\
	X(DELEG_FLUSH, deleg_flush, count, UINT)		\
	X(DELEG_FLUSH, deleg_flush, nr_locks, UINT)		\
	X(DELEG_DONE, deleg_done, error, ERRNO)			\
	X(DELEG_RECALL, deleg_recall, id, UINT)			\
	X(NAMES_DROP, names, epoch, UINT)			\
	X(NAMES_DROP, names, id, UINT)				\
	X(NAMES_DROPPED, names, epoch, UINT)			\
	X(NAMES_DROPPED, names, id, UINT)

/* The names of enum virtio_om_node_reason, for the same tools. */
#define VIRTIO_OM_FOR_EACH_NODE_REASON(X)			\
	X(JOINED) X(RECONNECTED) X(DISCONNECTED) X(EVICTED)

#endif /* _UAPI_LINUX_VIRTIO_OM_H */
