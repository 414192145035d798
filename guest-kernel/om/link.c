// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's side of kcom: every engine message arrives here and goes to
 * the half it is for; node events end the halves whose other half was on
 * a node that went down.
 */
#include <linux/init.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "om.h"

/*
 * A message from this half to the other: both halves name the process by
 * its home pid; what the process sends home goes to its deputy (F_HOME).
 * A process moving between two nodes away talks to where it goes.
 */
struct om_kcom_out om_out(const struct om_proc *p, u16 type, u32 flags, const struct kvec *kv,
			  unsigned int nr_kv)
{
	u32 dst = READ_ONCE(p->hop_to) ?: p->peer_node;

	return (struct om_kcom_out){
		.dst_node = dst,
		.type = type,
		.flags = flags | (p->role == OM_REMOTE && dst == p->home_node ?
				  VIRTIO_OM_F_HOME : 0),
		.src_pid = p->home_pid,
		.dst_pid = p->home_pid,
		.kvec = kv,
		.nr_kvec = nr_kv,
	};
}

/* A message of the process to its deputy, whatever node it talks to now (hop.c). */
struct om_kcom_out om_out_home(const struct om_proc *p, u16 type, const struct kvec *kv)
{
	return (struct om_kcom_out){
		.dst_node = p->home_node,
		.type = type,
		.flags = VIRTIO_OM_F_HOME,
		.src_pid = p->home_pid,
		.dst_pid = p->home_pid,
		.kvec = kv,
		.nr_kvec = 1,
	};
}

int om_send(struct om_proc *p, u16 type, u32 flags, u64 reply_to, const struct kvec *kv,
	    unsigned int nr_kv, const struct bio_vec *bv, unsigned int nr_bv, u64 *seq)
{
	struct om_kcom_out out = om_out(p, type, flags, kv, nr_kv);

	out.reply_to = reply_to;
	out.bvec = bv;
	out.nr_bvec = nr_bv;
	return om_kcom_send(&out, OM_KCOM_KILLABLE, seq);
}

/**
 * om_reply_read() - answer a read (PROC_READ, RFILE_READ)
 * @out: the answer's header (type PROC_DATA or RFILE_DATA, both { error, len } + bytes)
 * @n: the bytes read, or -errno
 * @buf: the bytes
 *
 * Return: om_kcom_send()'s.
 */
int om_reply_read(struct om_kcom_out *out, ssize_t n, void *buf)
{
	struct virtio_om_rfile_data d = {};
	struct kvec kv[2] = { { &d, sizeof(d) }, { buf, n > 0 ? n : 0 } };

	BUILD_BUG_ON(sizeof(struct virtio_om_proc_data) != sizeof(d));
	if (n < 0)
		d.error = cpu_to_le32(-n);
	else
		d.len = cpu_to_le32(n);
	out->kvec = kv;
	out->nr_kvec = n > 0 ? 2 : 1;
	return om_kcom_send(out, 0, NULL);
}

/* Answer a request no half wants with an error, so its sender does not wait. */
int om_reply_error(const struct om_kcom_hdr *req, int err)
{
	struct virtio_om_mig_ack ack = { .error = cpu_to_le32(-err) };
	struct virtio_om_syscall_ret ret = { .ret = cpu_to_le64((s64)err) };
	struct virtio_om_mem_data data = { .error = cpu_to_le32(-err) };
	struct virtio_om_rfile_info info = { .error = cpu_to_le32(-err) };
	struct kvec kv;
	struct om_kcom_out out = {
		.dst_node = req->src_node,
		.flags = VIRTIO_OM_F_REPLY | (req->flags & VIRTIO_OM_F_HOME ? 0 : VIRTIO_OM_F_HOME),
		.reply_to = req->seq,
		.src_pid = req->dst_pid,
		.dst_pid = req->src_pid,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	/* An answer is never answered: two halves gone would echo for ever. */
	if (req->flags & VIRTIO_OM_F_REPLY)
		return 0;
	switch (req->type) {
	case VIRTIO_OM_T_MIG_SYNC:
	case VIRTIO_OM_T_MIG_COMMIT:
	case VIRTIO_OM_T_HANDOVER:
		out.type = VIRTIO_OM_T_MIG_ACK;
		kv = (struct kvec){ &ack, sizeof(ack) };
		break;
	case VIRTIO_OM_T_SYSCALL:
	case VIRTIO_OM_T_FORK:
		out.type = VIRTIO_OM_T_SYSCALL_RET;
		kv = (struct kvec){ &ret, sizeof(ret) };
		break;
	case VIRTIO_OM_T_SIGMASK:
		/* Its echo: the mask a deputy no longer holds for (8 zero bytes). */
		out.type = VIRTIO_OM_T_SIGMASK;
		kv = (struct kvec){ &data, sizeof(data) };
		break;
	case VIRTIO_OM_T_MEM_READ:
	case VIRTIO_OM_T_PROC_READ:
	case VIRTIO_OM_T_RFILE_READ:
		/* The same payload: an error, then a word the error makes moot. */
		out.type = req->type == VIRTIO_OM_T_MEM_READ ? VIRTIO_OM_T_MEM_DATA :
			   req->type == VIRTIO_OM_T_PROC_READ ? VIRTIO_OM_T_PROC_DATA :
								 VIRTIO_OM_T_RFILE_DATA;
		kv = (struct kvec){ &data, sizeof(data) };
		break;
	case VIRTIO_OM_T_RFILE_OPEN:
		out.type = VIRTIO_OM_T_RFILE_INFO;
		kv = (struct kvec){ &info, sizeof(info) };
		break;
	default:
		return 0;
	}
	return om_kcom_send(&out, OM_KCOM_NONBLOCK, NULL);
}

/*
 * The process will not run (a child never started, an arrival whose sender
 * went down): its deputy ends as if it had been killed, and its parent at
 * home sees that. @flags: om_kcom_send()'s.
 */
void om_send_lost(struct om_proc *p, unsigned int flags)
{
	struct virtio_om_exit e = { .code = cpu_to_le32(SIGKILL) };
	struct kvec kv = { &e, sizeof(e) };
	struct om_kcom_out out = om_out_home(p, VIRTIO_OM_T_EXIT, &kv);

	om_kcom_send(&out, flags, NULL);
}

/* The process must end (VIRTIO_OM_KILL_* @reason says why). */
int om_send_kill(struct om_proc *p, u32 reason)
{
	struct virtio_om_kill k = { .reason = cpu_to_le32(reason) };
	struct kvec kv = { &k, sizeof(k) };

	return om_send(p, VIRTIO_OM_T_KILL, 0, 0, &kv, 1, NULL, 0, NULL);
}

int om_send_signal(struct om_proc *p, const kernel_siginfo_t *info)
{
	struct virtio_om_signal s = {
		.signo = cpu_to_le32(info->si_signo),
		.flags = cpu_to_le32(om_signal_flags(p, info->si_signo)),
	};
	struct kvec kv = { &s, sizeof(s) };

	BUILD_BUG_ON(sizeof(kernel_siginfo_t) > sizeof(s.info));
	memcpy(s.info, info, sizeof(*info));
	atomic64_inc(&p->stats.signals);
	return om_send(p, VIRTIO_OM_T_SIGNAL, 0, 0, &kv, 1, NULL, 0, NULL);
}

/* A forwarded signal, to the process this node runs. */
void om_deliver_signal(struct om_proc *p, struct om_kcom_msg *msg)
{
	struct virtio_om_signal s;
	kernel_siginfo_t info;
	int sig;

	if (om_kcom_msg_copy(msg, 0, &s, sizeof(s)) != sizeof(s))
		return;
	sig = le32_to_cpu(s.signo);
	if (!valid_signal(sig) || !sig)
		return;
	memcpy(&info, s.info, sizeof(info));
	info.si_signo = sig;
	om_signal_arrived(p, sig, le32_to_cpu(s.flags));
	send_sig_info(sig, &info, p->task);
}

static void om_mark_killed(struct om_proc *p)
{
	spin_lock(&p->lock);
	p->killed = true;
	p->silent = true;
	spin_unlock(&p->lock);
	/* A remote still arriving may have no task yet: it sees @killed. */
	if (p->role == OM_REMOTE && READ_ONCE(p->task))
		send_sig(SIGKILL, p->task, 1);
	wake_up(&p->wait);
}

/*
 * A message for a deputy that is not here: its sender is a copy of a process
 * with no deputy to serve it (a move that was taken back, a deputy that
 * ended). It must end, as a process whose deputy dies does.
 */
static void om_kill_orphan(const struct om_kcom_hdr *req)
{
	struct virtio_om_kill k = { .reason = cpu_to_le32(VIRTIO_OM_KILL_NO_DEPUTY) };
	struct kvec kv = { &k, sizeof(k) };
	struct om_kcom_out out = {
		.dst_node = req->src_node,
		.type = VIRTIO_OM_T_KILL,
		.src_pid = req->dst_pid,
		.dst_pid = req->src_pid,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	pr_debug("omvm: pid %d at node %u has no deputy here: ended\n", req->src_pid,
		 req->src_node);
	om_kcom_send(&out, OM_KCOM_NONBLOCK, NULL);
}

/*
 * The home of the process an arriving MIG_BEGIN brings: the sender, or the
 * node it names (a move between two nodes away).
 */
static u32 om_begin_home(struct om_kcom_msg *msg, u32 sender)
{
	__le32 home = 0;

	om_kcom_msg_copy(msg, offsetof(struct virtio_om_mig_begin, home_node), &home,
			 sizeof(home));
	return le32_to_cpu(home) && le32_to_cpu(home) != om_kcom_self() ? le32_to_cpu(home) :
									   sender;
}

/**
 * om_link_deliver() - give a received engine message to the half it is for
 * @msg: the message, validated by kcom for its header and length only;
 *	consumed
 *
 * Context: the kcom receive worker (or a test).
 */
void om_link_deliver(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *hdr = om_kcom_msg_hdr(msg);
	bool to_deputy = hdr->flags & VIRTIO_OM_F_HOME;
	struct om_proc *p;
	bool begin;
	u32 home;

	/* Not for a process: a node asks what this one's CPU offers. */
	if (hdr->type == VIRTIO_OM_T_CPU_QUERY) {
		om_cpu_answer(hdr);
		om_kcom_msg_free(msg);
		return;
	}
	/* Nor for one: a node reads or forgets a file home serves it. */
	if (hdr->type == VIRTIO_OM_T_RFILE_READ || hdr->type == VIRTIO_OM_T_RFILE_FORGET) {
		om_rfile_serve_recv(msg);
		om_kcom_msg_free(msg);
		return;
	}
	/* Nor for one: a delegated file's pages and return, or its recall (deleg*.c). */
	if (hdr->type == VIRTIO_OM_T_DELEG_FLUSH) {
		om_deleg_home_recv(msg);
		return;
	}
	if (hdr->type == VIRTIO_OM_T_DELEG_RECALL) {
		om_deleg_recall_recv(msg);
		om_kcom_msg_free(msg);
		return;
	}
	/* Names home said do not exist, dropped (names.c); an echo come too late. */
	if (hdr->type == VIRTIO_OM_T_NAMES_DROP || hdr->type == VIRTIO_OM_T_NAMES_DROPPED) {
		if (hdr->type == VIRTIO_OM_T_NAMES_DROP)
			om_names_drop_recv(msg);
		om_kcom_msg_free(msg);
		return;
	}
	/* Nor for one: a node's load, and what it heard of others' (load.c). */
	if (hdr->type == VIRTIO_OM_T_LOAD) {
		om_load_recv(msg);
		om_kcom_msg_free(msg);
		return;
	}
	begin = !to_deputy && hdr->type == VIRTIO_OM_T_MIG_BEGIN;
	home = begin ? om_begin_home(msg, hdr->src_node) : hdr->src_node;
	p = om_proc_find(to_deputy, home, hdr->dst_pid);
	/*
	 * Its half here sent GO and has not ended yet: this is the process
	 * sent back at once (home for one call, or back from a node away), a
	 * new arrival.
	 */
	if (p && begin && READ_ONCE(p->leaving)) {
		om_proc_unkey(p);
		om_proc_put(p);
		p = NULL;
	}
	if (!p && begin) {
		p = om_proc_alloc(NULL, OM_REMOTE);
		if (p) {
			p->home_node = home;
			p->home_pid = hdr->dst_pid;
			p->peer_node = hdr->src_node;
			if (om_proc_register(p) ||
			    (home != hdr->src_node && om_proc_add_peer_key(p))) {
				om_proc_unregister(p);
				om_proc_put(p);
				p = NULL;
			}
		}
		if (!p) {
			om_kcom_msg_free(msg);
			return;
		}
		om_proc_enqueue(p, msg);
		if (om_spawn_remote(p))
			om_proc_unregister(p);
		om_proc_put(p);
		return;
	}
	if (!p) {
		/* A request to a deputy gone is answered too: its sender waits. */
		if (to_deputy)
			om_kill_orphan(hdr);
		om_reply_error(hdr, -ESRCH);
		om_kcom_msg_free(msg);
		return;
	}
	switch (hdr->type) {
	case VIRTIO_OM_T_SIGNAL:
		/* Until it runs, the arrival takes its signals from the inbox. */
		if (p->role == OM_REMOTE && READ_ONCE(p->running)) {
			om_deliver_signal(p, msg);
			om_kcom_msg_free(msg);
		} else {
			om_proc_enqueue(p, msg);
		}
		break;
	case VIRTIO_OM_T_KILL:
		om_kcom_msg_free(msg);
		om_mark_killed(p);
		break;
	case VIRTIO_OM_T_PROC_READ:
		om_proc_answer(p, msg);
		om_kcom_msg_free(msg);
		break;
	case VIRTIO_OM_T_SIGWATCH:
		if (p->role == OM_REMOTE) {
			struct virtio_om_sigset s;

			om_kcom_msg_copy(msg, 0, &s, sizeof(s));
			WRITE_ONCE(p->home_watched, le64_to_cpu(s.sigs));
		}
		om_kcom_msg_free(msg);
		break;
	case VIRTIO_OM_T_PROC_FLAGS: {
		struct virtio_om_proc_flags f = {};

		om_kcom_msg_copy(msg, 0, &f, sizeof(f));
		om_kcom_msg_free(msg);
		if (!(le32_to_cpu(f.flags) & ~VIRTIO_OM_PROC_F_ALL) && !f.reserved)
			WRITE_ONCE(p->locked, le32_to_cpu(f.flags) & VIRTIO_OM_PROC_F_LOCKED);
		break;
	}
	case VIRTIO_OM_T_COME_HOME: {
		struct virtio_om_come_home ch = {};

		om_kcom_msg_copy(msg, 0, &ch, sizeof(ch));
		om_kcom_msg_free(msg);
		if (le32_to_cpu(ch.flags) & ~VIRTIO_OM_COME_HOME_F_ALL) {
			pr_warn_ratelimited("omvm: pid %d: COME_HOME with unknown flags %#x dropped\n",
					    p->home_pid, le32_to_cpu(ch.flags));
		} else if (p->role == OM_REMOTE) {
			/* Straight on to another node away, or home (hop.c). */
			p->target = le32_to_cpu(ch.then_node) ?: p->home_node;
			WRITE_ONCE(p->asked_by_self,
				   !!(le32_to_cpu(ch.flags) & VIRTIO_OM_COME_HOME_F_SELF));
			/* Not yet running: its arrival queues the move when done. */
			if (READ_ONCE(p->running))
				om_queue_move(p);
		}
		break;
	}
	default:
		om_proc_enqueue(p, msg);
		break;
	}
	om_proc_put(p);
}

static void om_link_recv(struct om_kcom_handler *h, struct om_kcom_msg *msg)
{
	om_link_deliver(msg);
}

static struct om_kcom_handler om_link_handler = {
	.first = VIRTIO_OM_T_MIGRATION_FIRST,
	.last = VIRTIO_OM_T_MEMORY_LAST,
	.recv = om_link_recv,
};

static void om_node_lost(struct om_proc *p, void *arg)
{
	u32 node = *(u32 *)arg;

	/* A move between two nodes away not yet over: the deputy settles it (hop.c). */
	if (p->role == OM_DEPUTY && om_hop_note_lost(p, node))
		return;
	/* A remote is lost with its home too (it came from a node away). */
	if (!(p->role == OM_DEPUTY && p->peer_node == node) &&
	    !(p->role == OM_REMOTE && (p->peer_node == node || p->home_node == node)))
		return;
	/*
	 * Arriving from a node away that went down, it is lost with it: its
	 * deputy, if it took this node as the process's already, ends (else
	 * it answers with KILL, which finds no one).
	 */
	if (p->role == OM_REMOTE && p->home_node != node)
		om_send_lost(p, OM_KCOM_NONBLOCK);
	spin_lock(&p->lock);
	/* A move from home not yet answered is taken back (om_take_back()). */
	if (p->role == OM_DEPUTY && !p->serving) {
		spin_unlock(&p->lock);
		return;
	}
	p->gone = true;
	p->silent = true;
	p->last_error = -EHOSTDOWN;
	spin_unlock(&p->lock);
	/*
	 * openMosix's rule: the process dies with the node that held either
	 * half, as killed by SIGKILL; a deputy blocked in a call for it wakes.
	 */
	pr_info("omvm: pid %d (home node %u) killed: node %u, where its %s was, went down\n",
		p->home_pid, p->home_node, node,
		p->role == OM_DEPUTY ? "process" : node == p->home_node ? "deputy" : "sender");
	if (p->task)
		send_sig(SIGKILL, p->task, 1);
	wake_up(&p->wait);
}

static int om_link_event(struct notifier_block *nb, unsigned long ev, void *data)
{
	struct om_kcom_node_event *e = data;
	u32 node = e->node;

	/* Down, or back (maybe on another CPU): ask it again next time. */
	om_cpu_forget(node);
	if (ev == OM_KCOM_EV_NODE_DOWN) {
		om_proc_for_each(om_node_lost, &node);
		/* The files it served this node, and those this node served it. */
		om_rfile_node_lost(node);
		om_rfile_serve_node_lost(node);
		om_deleg_home_node_lost(node);
		om_deleg_node_lost(node);
	}
	return NOTIFY_OK;
}

static struct notifier_block om_link_nb = {
	.notifier_call = om_link_event,
};

int __init om_link_init(void)
{
	int err = om_rfile_fs_init() ?: om_rfile_serve_init() ?: om_deleg_home_init() ?:
		  om_deleg_init() ?: om_kcom_register_handler(&om_link_handler);

	if (err)
		return err;
	err = om_kcom_register_notifier(&om_link_nb);
	if (err)
		om_kcom_unregister_handler(&om_link_handler);
	return err;
}

/* A request to the other half and its reply (a MIG_ACK, MEM_DATA ...). */
int om_call(struct om_proc *p, u16 type, const struct kvec *kv, unsigned int nr_kv,
	    long timeout, struct om_kcom_msg **reply)
{
	struct om_kcom_out out = om_out(p, type, 0, kv, nr_kv);

	return om_kcom_call(&out, OM_KCOM_KILLABLE, timeout, reply);
}

/*
 * om_call() for a reply of @reply_type whose payload starts with @len bytes
 * copied to @fixed, within @timeout jiffies. With @rest the reply is kept
 * for the caller (who frees it), else freed here. -EPROTO for a reply of
 * another type or too short.
 */
int om_call_expect(struct om_proc *p, u16 type, const struct kvec *kv, unsigned int nr_kv,
		   long timeout, u16 reply_type, void *fixed, size_t len,
		   struct om_kcom_msg **rest)
{
	struct om_kcom_msg *reply;
	int err = om_call(p, type, kv, nr_kv, timeout, &reply);

	if (err)
		return err;
	if (om_kcom_msg_hdr(reply)->type != reply_type ||
	    om_kcom_msg_copy(reply, 0, fixed, len) != len) {
		om_kcom_msg_free(reply);
		return -EPROTO;
	}
	if (rest)
		*rest = reply;
	else
		om_kcom_msg_free(reply);
	return 0;
}
