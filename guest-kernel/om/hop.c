// SPDX-License-Identifier: GPL-2.0-only
/*
 * Moves between two nodes away: a process at node B (home A) asked to go
 * to node C goes there directly, its pages from B to C, never through A.
 * B runs the move as it runs any (migrate.c), talking to C; once C holds
 * all of the process (its ACK of COMMIT) B asks the deputy to take C as
 * the process's node (HANDOVER), sends C the signals the deputy sent B
 * meanwhile, then GO. A failure before the handover leaves the process at
 * B as any failed move does; after it, B takes the process back (HANDOVER
 * F_BACK) and the deputy ends C's copy. Until B says the move is over (F_DONE), the
 * deputy goes back to B should C go down (docs/engine.md "Moves between
 * nodes away").
 */
#include <linux/sched/signal.h>

#include "om.h"

/**
 * om_handover() - tell the deputy where the process runs from now
 * @p: the process's half here, moving between two nodes away
 * @node: the node it runs on from now (its destination, or here again)
 * @flags: VIRTIO_OM_HANDOVER_F_*; F_DONE is not answered
 * @error: with F_BACK, why the move failed (-errno)
 *
 * Return: 0, or -errno: the deputy's refusal or a lost home.
 */
int om_handover(struct om_proc *p, u32 node, u32 flags, int error)
{
	struct virtio_om_handover ho = {
		.node = cpu_to_le32(node),
		.flags = cpu_to_le32(flags),
		.error = cpu_to_le32(-error),
	};
	struct kvec kv = { &ho, sizeof(ho) };
	struct om_kcom_out out = om_out_home(p, VIRTIO_OM_T_HANDOVER, &kv);
	struct virtio_om_mig_ack ack;
	struct om_kcom_msg *reply;
	int err;

	if (flags & VIRTIO_OM_HANDOVER_F_DONE)
		return om_kcom_send(&out, OM_KCOM_KILLABLE, NULL);
	/* Its answer must be had: the deputy may have switched. */
	err = om_kcom_call(&out, OM_KCOM_KILLABLE | OM_KCOM_SURE_REPLY, OM_STEP_TIMEOUT, &reply);
	if (err)
		return err == -ERESTARTSYS ? -EINTR : err;
	if (om_kcom_msg_hdr(reply)->type != VIRTIO_OM_T_MIG_ACK ||
	    om_kcom_msg_copy(reply, 0, &ack, sizeof(ack)) != sizeof(ack))
		err = -EPROTO;
	else
		err = om_wire_errno(ack.error);
	om_kcom_msg_free(reply);
	return err;
}

/**
 * om_move_away() - move the current process, away from home, to @dest
 * @p: its half here (OM_REMOTE)
 * @dest: another node away from its home
 *
 * A move that cannot be, or fails, leaves the process here; its deputy
 * hears why (F_BACK), for `where` and om-migrate at home.
 *
 * Return: does not return on success of a stop-and-copy move (this half
 * ends); 0 when a live move's rounds began; -errno if the process stays.
 */
int om_move_away(struct om_proc *p, u32 dest)
{
	char why[sizeof(p->cpu_lacks)];
	int err = 0;

	if (dest == om_kcom_self())
		return 0;
	if (!om_kcom_node_is_up(dest))
		err = -EHOSTUNREACH;
	else if (om_stay_reasons(current, why, sizeof(why)))
		err = -EBUSY;
	if (!err)
		err = om_move_cpu_check(p, dest);
	if (err) {
		om_handover(p, om_kcom_self(), VIRTIO_OM_HANDOVER_F_BACK, err);
		return err;
	}
	/* Live: its rounds go on from the move's task work (live.c). */
	if (om_live_wanted(p, dest)) {
		/* Unless it was asked elsewhere meanwhile. */
		if (!READ_ONCE(p->target))
			WRITE_ONCE(p->target, dest);
		err = om_live_start(p, dest);
		if (err && READ_ONCE(p->target) == dest)
			WRITE_ONCE(p->target, 0);
		return err;
	}
	/* A failure has told the deputy (om_send_process()). */
	err = om_send_process(p, dest, false);
	if (err)
		return err;
	om_left_away(p);
	return 0;
}

/**
 * om_left_away() - the process runs at another node away now: this half ends
 * @p: its half here
 */
void __noreturn om_left_away(struct om_proc *p)
{
	p->silent = true;
	/* Back here later, it arrives as a new half. */
	om_proc_unkey(p);
	do_exit(0);
}

/**
 * om_hop_hold() - hold what the process's new node sends until its move is over
 * @p: the deputy's half
 * @msg: a message taken from its inbox
 *
 * Between the handover and F_DONE the destination may run a copy that B
 * still takes back (its RUNNING lost): the calls that copy forwards must
 * not run, or they would run twice. They wait; F_DONE lets them in order,
 * F_BACK drops them (the copy is ended).
 *
 * Return: true if @msg was held (the caller forgets it).
 */
bool om_hop_hold(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct om_inmsg *m;

	if (!READ_ONCE(p->prev_peer) || h->src_node == p->prev_peer ||
	    h->type == VIRTIO_OM_T_HANDOVER)
		return false;
	m = kmalloc(sizeof(*m), GFP_KERNEL);
	if (!m) {
		/* Losing it would break the pair: as a lost peer. */
		om_kcom_msg_free(msg);
		spin_lock(&p->lock);
		p->gone = true;
		spin_unlock(&p->lock);
		return true;
	}
	m->msg = msg;
	spin_lock(&p->lock);
	list_add_tail(&m->list, &p->hop_held);
	spin_unlock(&p->lock);
	return true;
}

/* The move is over: what was held comes first in the inbox, in order. */
void om_hop_release_held(struct om_proc *p)
{
	spin_lock(&p->lock);
	list_splice_init(&p->hop_held, &p->inbox);
	spin_unlock(&p->lock);
}

/* The copy that sent them is ended (or its node is down): dropped. */
void om_hop_drop_held(struct om_proc *p)
{
	struct om_inmsg *m, *tmp;
	LIST_HEAD(drop);

	spin_lock(&p->lock);
	list_splice_init(&p->hop_held, &drop);
	spin_unlock(&p->lock);
	list_for_each_entry_safe(m, tmp, &drop, list) {
		om_kcom_msg_free(m->msg);
		kfree(m);
	}
}

/* A signal the deputy sent the new node while the move may be taken back. */
struct om_hop_signal {
	struct list_head list;
	kernel_siginfo_t info;
};

/**
 * om_hop_keep_signal() - keep a signal sent to the new node until the move is over
 * @p: the deputy's half, between a handover and its end
 * @info: the signal
 *
 * If the move is taken back, the copy it went to is ended: the process, at
 * the old node again, must have it still (om_hop_signals_over()).
 *
 * Return: 0, or -ENOMEM (a signal would be lost: the caller ends the process).
 */
int om_hop_keep_signal(struct om_proc *p, const kernel_siginfo_t *info)
{
	struct om_hop_signal *s = kmalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	s->info = *info;
	list_add_tail(&s->list, &p->hop_sigs);
	return 0;
}

/* The move is over (@resend false) or taken back (@resend: to the old node, now the peer). */
void om_hop_signals_over(struct om_proc *p, bool resend)
{
	struct om_hop_signal *s, *tmp;

	list_for_each_entry_safe(s, tmp, &p->hop_sigs, list) {
		if (resend)
			om_send_signal(p, &s->info);
		list_del(&s->list);
		kfree(s);
	}
}

/**
 * om_hop_note_lost() - a node went down: is it one of a move between nodes away?
 * @p: a deputy's half
 * @node: the node that went down
 *
 * Context: the node event notifier. Only the deputy changes its peers, so
 * the deputy settles it (om_hop_settle()), in order with the HANDOVERs it
 * serves: done here, a loss racing F_DONE could leave it serving a node
 * that is gone.
 *
 * Return: true if noted (the deputy is woken); false if no such move runs.
 */
bool om_hop_note_lost(struct om_proc *p, u32 node)
{
	bool noted = false;

	spin_lock(&p->lock);
	if (READ_ONCE(p->prev_peer) &&
	    (READ_ONCE(p->peer_node) == node || READ_ONCE(p->prev_peer) == node)) {
		if (!p->hop_lost[0] || p->hop_lost[0] == node)
			p->hop_lost[0] = node;
		else
			p->hop_lost[1] = node;
		noted = true;
	}
	spin_unlock(&p->lock);
	if (noted)
		wake_up(&p->wait);
	return noted;
}

bool om_hop_lost_pending(struct om_proc *p)
{
	return READ_ONCE(p->hop_lost[0]);
}

/**
 * om_hop_settle() - the deputy settles the nodes of a move that went down
 * @p: the deputy's half
 *
 * The new node lost: the process is still the old one's (what the new one
 * sent was its copy's, dropped). The old one lost: the process is at the
 * new one (what it sent is let in). With the move over meanwhile, the
 * process's node lost is the process lost.
 */
void om_hop_settle(struct om_proc *p)
{
	u32 lost[ARRAY_SIZE(p->hop_lost)];
	unsigned int i;

	spin_lock(&p->lock);
	memcpy(lost, p->hop_lost, sizeof(lost));
	memset(p->hop_lost, 0, sizeof(p->hop_lost));
	spin_unlock(&p->lock);
	for (i = 0; i < ARRAY_SIZE(lost) && lost[i]; i++) {
		if (p->prev_peer && lost[i] == p->peer_node) {
			om_proc_set_peers(p, p->prev_peer, 0);
			om_hop_drop_held(p);
			om_hop_signals_over(p, true);
		} else if (p->prev_peer && lost[i] == p->prev_peer) {
			om_proc_set_peers(p, p->peer_node, 0);
			om_hop_release_held(p);
			om_hop_signals_over(p, false);
		} else if (lost[i] == p->peer_node) {
			pr_info("omvm: pid %d (home node %u) killed: node %u, where its process was, went down\n",
				p->home_pid, p->home_node, lost[i]);
			spin_lock(&p->lock);
			p->gone = true;
			p->silent = true;
			p->last_error = -EHOSTDOWN;
			spin_unlock(&p->lock);
		}
	}
}

static void om_deputy_handover_reply(struct om_proc *p, const struct om_kcom_hdr *h, int err)
{
	struct virtio_om_mig_ack ack = { .error = cpu_to_le32(-err) };
	struct kvec kv = { &ack, sizeof(ack) };
	struct om_kcom_out out = {
		.dst_node = h->src_node,
		.type = VIRTIO_OM_T_MIG_ACK,
		.flags = VIRTIO_OM_F_REPLY,
		.reply_to = h->seq,
		.src_pid = p->home_pid,
		.dst_pid = p->home_pid,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	/* To the node that asked, which is not always the process's node now. */
	om_kcom_send(&out, OM_KCOM_KILLABLE, NULL);
}

/**
 * om_deputy_handover() - a HANDOVER from the node the process was on
 * @p: the deputy's half
 * @msg: the request
 */
void om_deputy_handover(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_handover ho;
	u32 from = h->src_node, node, flags;
	int err = 0;

	if (om_kcom_msg_copy(msg, 0, &ho, sizeof(ho)) != sizeof(ho)) {
		om_deputy_handover_reply(p, h, -EPROTO);
		return;
	}
	node = le32_to_cpu(ho.node);
	flags = le32_to_cpu(ho.flags);
	if (flags & VIRTIO_OM_HANDOVER_F_DONE) {
		if (from == p->prev_peer && node == p->peer_node) {
			om_proc_set_peers(p, node, 0);
			om_hop_release_held(p);
			om_hop_signals_over(p, false);
		} else if (from == p->peer_node && node != from) {
			/* It ran at @node, which went down before this came: lost with it. */
			pr_info("omvm: pid %d killed: node %u, where it had just moved, went down\n",
				p->home_pid, node);
			spin_lock(&p->lock);
			p->gone = true;
			spin_unlock(&p->lock);
		}
		return;
	}
	if (flags & ~VIRTIO_OM_HANDOVER_F_BACK || ho.reserved) {
		err = -EINVAL;
	} else if (flags & VIRTIO_OM_HANDOVER_F_BACK) {
		/* The move failed: the process is at the sender (again), for why see debug. */
		if (node != from) {
			err = -EINVAL;
		} else if (from == p->prev_peer) {
			/* The destination may run a copy (its RUNNING lost): it ends. */
			om_send_kill(p, VIRTIO_OM_KILL_NO_DEPUTY);
			om_proc_set_peers(p, from, 0);
			om_hop_drop_held(p);
			/* What the copy was sent, the process has not had. */
			om_hop_signals_over(p, true);
		} else if (from != p->peer_node) {
			err = -EPERM;
		}
		if (!err) {
			spin_lock(&p->lock);
			p->then_node = 0;
			spin_unlock(&p->lock);
			p->last_error = om_wire_errno(ho.error);
		}
	} else if (from != p->peer_node || p->prev_peer) {
		err = -EPERM;
	} else if (!node || node == from || node == om_kcom_self()) {
		err = -EINVAL;
	} else if (!om_kcom_node_is_up(node)) {
		err = -EHOSTUNREACH;
	} else {
		om_proc_set_peers(p, node, from);
		/* Asked to go on to @node (COME_HOME): it went there itself. */
		spin_lock(&p->lock);
		if (p->then_node == node)
			p->then_node = 0;
		spin_unlock(&p->lock);
	}
	om_deputy_handover_reply(p, h, err);
}
