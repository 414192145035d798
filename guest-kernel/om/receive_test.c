// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the engine's receive path: what a peer may send in any
 * order, twice after a relay restart, or malformed, to halves that do not
 * exist, have no task yet, or are taking a process in. Nothing may crash,
 * touch a task that is not there, or change the receiving task.
 */
#include <kunit/test.h>
#include <linux/file.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/shmem_fs.h>
#include <linux/signal.h>
#include <linux/slab.h>

#include "om.h"

/* A node no test cluster has: what the engine answers there goes nowhere. */
#define T_NODE 1021
#define T_PID 0x3ffffff0

#define T_FROM_HOST true
#define T_FROM_GUEST false

/* The type table's length rules, to build messages just long enough. */
static const struct {
	u16 type;
	bool from_host;
	u32 min, max;
} t_rules[] = {
#define T_RULE(name, value, who, min, max)					\
	{ VIRTIO_OM_T_##name + BUILD_BUG_ON_ZERO(VIRTIO_OM_T_##name != (value)), \
	  T_FROM_##who, (min), (max) },
	VIRTIO_OM_FOR_EACH_TYPE(T_RULE)
#undef T_RULE
};

/* The shortest payload a peer may send with @type. */
static u32 t_min_len(u16 type)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t_rules); i++)
		if (t_rules[i].type == type && !t_rules[i].from_host)
			return t_rules[i].min;
	return 0;
}

static struct om_kcom_msg *t_msg_from(struct kunit *test, u32 node, u16 type, u32 flags,
				      const void *payload, u32 len)
{
	struct om_kcom_hdr h = {
		.type = type,
		.flags = flags,
		.src_node = node,
		.dst_node = om_kcom_self(),
		.src_pid = T_PID,
		.dst_pid = T_PID,
		.seq = 1,
		.reply_to = flags & VIRTIO_OM_F_REPLY ? 1 : 0,
		.len = len,
	};
	struct om_kcom_msg *m = om_kcom_msg_build(&h, payload, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	return m;
}

static struct om_kcom_msg *t_msg(struct kunit *test, u16 type, u32 flags, const void *payload,
				 u32 len)
{
	return t_msg_from(test, T_NODE, type, flags, payload, len);
}

static const u16 t_types[] = {
	VIRTIO_OM_T_MIG_VMAS,	 VIRTIO_OM_T_MIG_PAGES,	  VIRTIO_OM_T_MIG_SYNC,
	VIRTIO_OM_T_MIG_COMMIT,	 VIRTIO_OM_T_MIG_ACK,	  VIRTIO_OM_T_MIG_GO,
	VIRTIO_OM_T_MIG_ABORT,	 VIRTIO_OM_T_COME_HOME,	  VIRTIO_OM_T_MIG_RUNNING,
	VIRTIO_OM_T_HANDOVER,	 VIRTIO_OM_T_LOAD,	  VIRTIO_OM_T_PROC_FLAGS,
	VIRTIO_OM_T_SYSCALL,	 VIRTIO_OM_T_SYSCALL_RET, VIRTIO_OM_T_SIGNAL,
	VIRTIO_OM_T_EXIT,	 VIRTIO_OM_T_KILL,	  VIRTIO_OM_T_STOPPED,
	VIRTIO_OM_T_SIGMASK,	 VIRTIO_OM_T_SIGWATCH,	  VIRTIO_OM_T_FORK,
	VIRTIO_OM_T_FORK_CANCEL,
	VIRTIO_OM_T_MEM_READ,	 VIRTIO_OM_T_MEM_DATA,	  VIRTIO_OM_T_MEM_WRITE,
	VIRTIO_OM_T_PROC_READ,	 VIRTIO_OM_T_PROC_DATA,	  VIRTIO_OM_T_RFILE_OPEN,
	VIRTIO_OM_T_RFILE_INFO,	 VIRTIO_OM_T_RFILE_READ,  VIRTIO_OM_T_RFILE_DATA,
	VIRTIO_OM_T_RFILE_CLOSE, VIRTIO_OM_T_RFILE_FORGET, VIRTIO_OM_T_MEM_PUSH,
};

/* Every type, to a process and to a deputy, for halves that do not exist. */
static void om_test_no_half(struct kunit *test)
{
	static const u32 flags[] = { 0, VIRTIO_OM_F_HOME, VIRTIO_OM_F_REPLY,
				     VIRTIO_OM_F_HOME | VIRTIO_OM_F_REPLY };
	/* The longest least payload: a MEM_PUSH of one page. */
	void *zero = kunit_kzalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	unsigned int i, j;

	KUNIT_ASSERT_NOT_NULL(test, zero);
	for (i = 0; i < ARRAY_SIZE(t_types); i++)
		for (j = 0; j < ARRAY_SIZE(flags); j++)
			om_link_deliver(t_msg(test, t_types[i], flags[j], zero,
					      t_min_len(t_types[i])));
	KUNIT_EXPECT_NULL(test, om_proc_find(false, T_NODE, T_PID));
	KUNIT_EXPECT_NULL(test, om_proc_find(true, T_NODE, T_PID));
}

/* A remote registered for an arrival whose task has not attached yet. */
static void om_test_unattached(struct kunit *test)
{
	struct virtio_om_signal sig = { .signo = cpu_to_le32(SIGUSR1) };
	struct virtio_om_come_home self = { .flags = cpu_to_le32(VIRTIO_OM_COME_HOME_F_SELF) };
	struct virtio_om_come_home odd = { .flags = cpu_to_le32(0x2) };
	void *zero = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct om_kcom_msg *m;
	struct om_proc *p;
	unsigned int i, n = 0;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, zero);
	p = om_proc_alloc(NULL, OM_REMOTE);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->home_node = T_NODE;
	p->home_pid = T_PID;
	p->peer_node = T_NODE;
	KUNIT_ASSERT_EQ(test, om_proc_register(p), 0);

	/* A signal before it runs waits for the arrival. */
	om_link_deliver(t_msg(test, VIRTIO_OM_T_SIGNAL, 0, &sig, sizeof(sig)));
	/* A homecoming asked before it runs is remembered, not started. */
	om_link_deliver(t_msg(test, VIRTIO_OM_T_COME_HOME, 0, zero, VIRTIO_OM_COME_HOME_SIZE));
	KUNIT_EXPECT_EQ(test, p->target, (u32)T_NODE);
	KUNIT_EXPECT_FALSE(test, p->asked_by_self);
	KUNIT_EXPECT_EQ(test, atomic_read(&p->work_queued), 0);
	/* Asked by itself (F_SELF): its move is not live under om.live=1. */
	p->target = 0;
	om_link_deliver(t_msg(test, VIRTIO_OM_T_COME_HOME, 0, &self, sizeof(self)));
	KUNIT_EXPECT_EQ(test, p->target, (u32)T_NODE);
	KUNIT_EXPECT_TRUE(test, p->asked_by_self);
	/* A flag it does not know: dropped, nothing asked. */
	p->target = 0;
	om_link_deliver(t_msg(test, VIRTIO_OM_T_COME_HOME, 0, &odd, sizeof(odd)));
	KUNIT_EXPECT_EQ(test, p->target, 0u);
	p->target = T_NODE;
	/* A MIG_BEGIN again (a duplicate after a relay restart): no second half. */
	om_link_deliver(t_msg(test, VIRTIO_OM_T_MIG_BEGIN, 0, zero, 64));
	/* Every type with no payload at all. */
	for (i = 0; i < ARRAY_SIZE(t_types); i++)
		if (t_types[i] != VIRTIO_OM_T_KILL)
			om_link_deliver(t_msg(test, t_types[i], 0, zero, 0));
	/* KILL before the task attached: it sees @killed when it does. */
	om_link_deliver(t_msg(test, VIRTIO_OM_T_KILL, 0, zero, VIRTIO_OM_KILL_SIZE));
	KUNIT_EXPECT_TRUE(test, p->killed);
	KUNIT_EXPECT_NULL(test, p->task);

	/* Running, with no task: a signal out of range must not reach for it. */
	WRITE_ONCE(p->running, true);
	sig.signo = cpu_to_le32(0);
	om_link_deliver(t_msg(test, VIRTIO_OM_T_SIGNAL, 0, &sig, sizeof(sig)));
	sig.signo = cpu_to_le32(_NSIG + 1);
	om_link_deliver(t_msg(test, VIRTIO_OM_T_SIGNAL, 0, &sig, sizeof(sig)));
	sig.signo = cpu_to_le32(0xffffffff);
	om_link_deliver(t_msg(test, VIRTIO_OM_T_SIGNAL, 0, &sig, sizeof(sig)));

	m = om_proc_next(p, 0, &err);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_EQ(test, om_kcom_msg_hdr(m)->type, VIRTIO_OM_T_SIGNAL);
	om_kcom_msg_free(m);
	m = om_proc_next(p, 0, &err);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_EQ(test, om_kcom_msg_hdr(m)->type, VIRTIO_OM_T_MIG_BEGIN);
	om_kcom_msg_free(m);
	while ((m = om_proc_next(p, 0, &err))) {
		n++;
		om_kcom_msg_free(m);
	}
	/* The empty ones queued after it, then the news of its end. */
	KUNIT_EXPECT_GT(test, n, 0u);
	KUNIT_EXPECT_EQ(test, err, -ECONNRESET);
	om_proc_unregister(p);
	om_proc_put(p);
	KUNIT_EXPECT_NULL(test, om_proc_find(false, T_NODE, T_PID));
}

/* A half taking a process in; its messages queued in the order given. */
static struct om_proc *t_receiver(struct kunit *test)
{
	struct om_proc *p = om_proc_alloc(NULL, OM_REMOTE);

	KUNIT_ASSERT_NOT_NULL(test, p);
	p->home_node = T_NODE;
	p->home_pid = T_PID;
	p->peer_node = T_NODE;
	return p;
}

static int t_receive(struct kunit *test, struct om_proc *p, struct om_kcom_msg *first)
{
	struct pt_regs before = *current_pt_regs();
	struct mm_struct *mm = current->mm;
	const struct cred *cred = current_cred();
	int err = om_receive_process(p, first);

	/* A refused arrival leaves the receiving task as it was. */
	KUNIT_EXPECT_EQ(test, memcmp(&before, current_pt_regs(), sizeof(before)), 0);
	KUNIT_EXPECT_PTR_EQ(test, current->mm, mm);
	KUNIT_EXPECT_PTR_EQ(test, current_cred(), cred);
	KUNIT_EXPECT_NULL(test, p->arrival);
	return err;
}

static void om_test_arrival_out_of_order(struct kunit *test)
{
	size_t blen = sizeof(struct virtio_om_mig_begin) + om_arch_xstate_size();
	struct virtio_om_mig_begin *b = kunit_kzalloc(test, blen, GFP_KERNEL);
	struct virtio_om_mig_mark mark = {};
	struct virtio_om_mig_go go = { .error = cpu_to_le32(EIO) };
	struct om_proc *p;

	KUNIT_ASSERT_NOT_NULL(test, b);
	/* Valid but for its architecture: refused, whatever follows. */
	b->arch = cpu_to_le32(om_arch_id() + 1);
	b->xstate_size = cpu_to_le32(om_arch_xstate_size());
	b->nice = cpu_to_le32(20);

	/* Not a MIG_BEGIN first. */
	p = t_receiver(test);
	KUNIT_EXPECT_EQ(test, t_receive(test, p, t_msg(test, VIRTIO_OM_T_MIG_VMAS, 0, &mark, 8)),
			-EPROTO);
	om_proc_put(p);

	/* GO straight after a refused MIG_BEGIN: no process to run. */
	p = t_receiver(test);
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_MIG_GO, 0, &go, sizeof(go)));
	KUNIT_EXPECT_EQ(test, t_receive(test, p, t_msg(test, VIRTIO_OM_T_MIG_BEGIN, 0, b, blen)),
			-EPROTO);
	om_proc_put(p);

	/* COMMIT with marks that match nothing, pages for no mapping, then GO. */
	p = t_receiver(test);
	mark.pages = cpu_to_le64(99);
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_MIG_PAGES, 0, &mark, 8));
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_MIG_COMMIT, 0, &mark, sizeof(mark)));
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_MIG_COMMIT, 0, &mark, sizeof(mark)));
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_SYSCALL, 0, b, VIRTIO_OM_SYSCALL_SIZE));
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_MIG_GO, 0, &go, sizeof(go)));
	KUNIT_EXPECT_EQ(test, t_receive(test, p, t_msg(test, VIRTIO_OM_T_MIG_BEGIN, 0, b, blen)),
			-EPROTO);
	om_proc_put(p);

	/* A MIG_BEGIN too short, then ABORT: the receiver's own reason wins. */
	p = t_receiver(test);
	om_proc_enqueue(p, t_msg(test, VIRTIO_OM_T_MIG_ABORT, 0, &go, sizeof(go)));
	KUNIT_EXPECT_EQ(test, t_receive(test, p, t_msg(test, VIRTIO_OM_T_MIG_BEGIN, 0, b, 100)),
			-EPROTO);
	om_proc_put(p);

	/* The other half ended while it arrived. */
	p = t_receiver(test);
	p->killed = true;
	KUNIT_EXPECT_EQ(test, t_receive(test, p, t_msg(test, VIRTIO_OM_T_MIG_BEGIN, 0, b, blen)),
			-ECONNRESET);
	om_proc_put(p);
}

/* RFILE_FORGET of @id as @node sends it. */
static void t_forget(struct kunit *test, u32 node, u32 id)
{
	struct virtio_om_rfile_forget fg = { .served = cpu_to_le32(id) };

	om_link_deliver(t_msg_from(test, node, VIRTIO_OM_T_RFILE_FORGET, 0, &fg, sizeof(fg)));
}

/*
 * Files home serves a node (rfile_serve.c): a node forgets only its own,
 * a node that goes down is forgotten whole, and one node cannot make home
 * hold more than its share open.
 */
static void om_test_rfile_serve(struct kunit *test)
{
	struct file *f = shmem_kernel_file_setup("om-test-rfile", PAGE_SIZE, 0);
	unsigned long before = om_rfile_served();
	u32 id, other, i;
	int err = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	KUNIT_ASSERT_EQ(test, om_rfile_serve(T_NODE, f, &id), 0);
	KUNIT_ASSERT_EQ(test, om_rfile_serve(T_NODE + 1, f, &other), 0);
	KUNIT_EXPECT_NE(test, id, other);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before + 2);
	/* Another node's id, and an id never given: nothing is closed. */
	t_forget(test, T_NODE + 1, id);
	t_forget(test, T_NODE, 0x7ffffff0);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before + 2);
	t_forget(test, T_NODE, id);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before + 1);
	t_forget(test, T_NODE, id);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before + 1);
	om_rfile_serve_node_lost(T_NODE + 1);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before);
	for (i = 0; !err && i < 2000; i++)
		err = om_rfile_serve(T_NODE, f, &id);
	KUNIT_EXPECT_EQ(test, err, -ENFILE);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before + i - 1);
	om_rfile_serve_node_lost(T_NODE);
	KUNIT_EXPECT_EQ(test, om_rfile_served(), before);
	fput(f);
}

/* What the window holds of @node, or NULL. */
static struct om_load_info *t_known(struct kunit *test, u32 node)
{
	struct om_load_info *o = kunit_kcalloc(test, OM_LOAD_WINDOW, sizeof(*o), GFP_KERNEL);
	int i, n;

	KUNIT_ASSERT_NOT_NULL(test, o);
	n = om_load_others(o, OM_LOAD_STALE_MS);
	for (i = 0; i < n; i++)
		if (o[i].node == node)
			return &o[i];
	return NULL;
}

/* The load the window holds of @node, or -1 if nothing. */
static s64 t_known_load(struct kunit *test, u32 node)
{
	struct om_load_info *i = t_known(test, node);

	return i ? (s64)i->load : -1;
}

struct t_load {
	struct virtio_om_load l;
	struct virtio_om_load_entry e[VIRTIO_OM_LOAD_MAX_ENTRIES + 1];
};

static void t_load_entry(struct virtio_om_load_entry *e, u32 node, u32 age_ms, u32 load)
{
	memset(e, 0, sizeof(*e));
	e->node = cpu_to_le32(node);
	e->age_ms = cpu_to_le32(age_ms);
	e->load = cpu_to_le32(load);
	e->speed = cpu_to_le32(VIRTIO_OM_LOAD_STD_SPEED);
	e->ncpus = cpu_to_le32(1);
	e->free_kib = cpu_to_le64(1000);
	e->total_kib = cpu_to_le64(2000);
}

/* Deliver @m (@n entries, or @len bytes if not 0) from T_NODE: om_load_recv()'s result. */
static int t_load_send(struct kunit *test, struct t_load *m, u32 n, u32 len)
{
	struct om_kcom_msg *msg;
	int err;

	m->l.count = cpu_to_le32(n);
	msg = t_msg_from(test, T_NODE, VIRTIO_OM_T_LOAD, 0, m,
			 len ?: sizeof(m->l) + n * sizeof(m->e[0]));
	err = om_load_recv(msg);
	om_kcom_msg_free(msg);
	return err;
}

/*
 * LOAD: a node's own entry first, then what it heard; the freshest value
 * of a node is kept; a message with any entry out of bounds is refused
 * whole, and counted.
 */
static void om_test_load(struct kunit *test)
{
	struct t_load *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	s64 refused = atomic64_read(&om_node_stats.load_refused);
	const u32 other = T_NODE + 1;

	KUNIT_ASSERT_NOT_NULL(test, m);
	t_load_entry(&m->e[0], T_NODE, 0, 3000);
	t_load_entry(&m->e[1], other, 100, 1000);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, t_known_load(test, T_NODE), 3000);
	KUNIT_EXPECT_EQ(test, t_known_load(test, other), 1000);
	/* Older news of a node does not replace fresher. */
	t_load_entry(&m->e[0], T_NODE, 0, 2000);
	t_load_entry(&m->e[1], other, 20000, 5000);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, t_known_load(test, T_NODE), 2000);
	KUNIT_EXPECT_EQ(test, t_known_load(test, other), 1000);
	KUNIT_EXPECT_EQ(test, atomic64_read(&om_node_stats.load_refused), refused);

	/* Each of these is refused whole: nothing it says is kept. */
	t_load_entry(&m->e[1], other, 10, 7000);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 0, sizeof(m->l) + sizeof(m->e[0])), -EPROTO);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, sizeof(m->l) + sizeof(m->e[0])), -EPROTO);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, VIRTIO_OM_LOAD_MAX_ENTRIES + 1, 0), -EPROTO);
	m->e[0].node = cpu_to_le32(other);	/* not the sender's own first */
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[0], T_NODE, 5, 2000);	/* its own, but not fresh */
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[0], T_NODE, 0, 2000);
	m->e[1].node = cpu_to_le32(T_NODE);	/* speaking for itself twice */
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[1], other, 10, 7000);
	m->e[1].flags = cpu_to_le32(0x80);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[1], other, 10, 7000);
	m->e[1].ncpus = 0;
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[1], other, 10, 7000);
	m->e[1].free_kib = cpu_to_le64(3000);	/* more free than in all */
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[1], other, 10, 7000);
	m->e[1].node = cpu_to_le32(VIRTIO_OM_MAX_NODES + 1);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	t_load_entry(&m->e[1], other, 10, 7000);
	m->e[1].runnable = cpu_to_le32(VIRTIO_OM_LOAD_MAX_RUNNABLE + 1);
	KUNIT_EXPECT_EQ(test, t_load_send(test, m, 2, 0), -EPROTO);
	KUNIT_EXPECT_EQ(test, atomic64_read(&om_node_stats.load_refused), refused + 11);
	KUNIT_EXPECT_EQ(test, t_known_load(test, other), 1000);

	/* A node gone is forgotten, and what others say of it again is news. */
	om_load_forget(T_NODE);
	om_load_forget(other);
	KUNIT_EXPECT_EQ(test, t_known_load(test, T_NODE), -1);
	KUNIT_EXPECT_EQ(test, t_known_load(test, other), -1);
}

/*
 * A move of this node's is counted at its destination while on its way and
 * until figures the destination measured after its arrival come in, which
 * show it in their runnable count; not for a fixed time.
 */
static void om_test_load_pending(struct kunit *test)
{
	struct t_load *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	t_load_entry(&m->e[0], T_NODE, 0, 1000);
	m->e[0].runnable = cpu_to_le32(1);
	KUNIT_ASSERT_EQ(test, t_load_send(test, m, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->runnable, 1);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 0);

	/* Asked: on its way. Arrived: still, until later figures come. */
	om_load_moving(T_NODE);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 1);
	om_load_moving(T_NODE);
	om_load_arrived(T_NODE);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 2);
	/* Figures measured after the first arrival: only the second is pending. */
	t_load_entry(&m->e[0], T_NODE, 0, 1000);
	m->e[0].runnable = cpu_to_le32(2);
	KUNIT_ASSERT_EQ(test, t_load_send(test, m, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->runnable, 2);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 1);
	om_load_arrived(T_NODE);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 1);
	KUNIT_ASSERT_EQ(test, t_load_send(test, m, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 0);

	/* A move by hand is counted from its arrival. */
	om_load_arrived(T_NODE);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 1);
	KUNIT_ASSERT_EQ(test, t_load_send(test, m, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, t_known(test, T_NODE)->pending, 0);
	om_load_forget(T_NODE);
}

static struct kunit_case om_receive_test_cases[] = {
	KUNIT_CASE(om_test_no_half),
	KUNIT_CASE(om_test_unattached),
	KUNIT_CASE(om_test_arrival_out_of_order),
	KUNIT_CASE(om_test_rfile_serve),
	KUNIT_CASE(om_test_load),
	KUNIT_CASE(om_test_load_pending),
	{}
};

static struct kunit_suite om_receive_test_suite = {
	.name = "omvm-engine-receive",
	.test_cases = om_receive_test_cases,
};

kunit_test_suite(om_receive_test_suite);
