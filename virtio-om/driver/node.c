// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster as this guest sees it: a table of nodes 1..VIRTIO_OM_MAX_NODES
 * with their state (from the host's NODE_UP / NODE_DOWN messages), the
 * duplicate filter's last seq and counters; and the notifier chain that
 * tells the engine when nodes come and go.
 */
#include <linux/export.h>
#include <linux/notifier.h>

#include "kcom.h"

static BLOCKING_NOTIFIER_HEAD(kcom_notifier);

int om_kcom_register_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&kcom_notifier, nb);
}
EXPORT_SYMBOL_GPL(om_kcom_register_notifier);

int om_kcom_unregister_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_unregister(&kcom_notifier, nb);
}
EXPORT_SYMBOL_GPL(om_kcom_unregister_notifier);

void kcom_notify(unsigned long event, u32 node, u32 reason)
{
	struct om_kcom_node_event ev = { .node = node, .reason = reason };

	blocking_notifier_call_chain(&kcom_notifier, event, &ev);
}

u32 om_kcom_self(void)
{
	return READ_ONCE(kcom.self);
}
EXPORT_SYMBOL_GPL(om_kcom_self);

u32 om_kcom_max_payload(void)
{
	return READ_ONCE(kcom.vdev) ? READ_ONCE(kcom.max_payload) : 0;
}
EXPORT_SYMBOL_GPL(om_kcom_max_payload);

/* enum om_kcom_node_state of @node (1..VIRTIO_OM_MAX_NODES). */
u32 kcom_node_state(u32 node)
{
	if (node && node == READ_ONCE(kcom.self))
		return OM_KCOM_NODE_SELF;
	if (node == VIRTIO_OM_NODE_HOST || node > VIRTIO_OM_MAX_NODES)
		return OM_KCOM_NODE_DOWN;
	return READ_ONCE(kcom.nodes[node].state) == KCOM_NODE_UP ? OM_KCOM_NODE_UP :
								   OM_KCOM_NODE_DOWN;
}

bool om_kcom_node_is_up(u32 node)
{
	return kcom_node_state(node) != OM_KCOM_NODE_DOWN;
}
EXPORT_SYMBOL_GPL(om_kcom_node_is_up);

/* @node takes part in traffic: list it in /proc/hpc/nodes. */
void kcom_node_touch(u32 node)
{
	if (node && node <= VIRTIO_OM_MAX_NODES && !READ_ONCE(kcom.nodes[node].known))
		WRITE_ONCE(kcom.nodes[node].known, true);
}

/*
 * A new device: what the host said about nodes no longer holds. Sequence
 * numbers sent keep counting (a peer may still remember them); received
 * ones restart, since peers that came back meanwhile start again from 1.
 * Called with the receive worker stopped.
 */
void kcom_nodes_reset(void)
{
	u32 i;

	for (i = 1; i <= VIRTIO_OM_MAX_NODES; i++) {
		WRITE_ONCE(kcom.nodes[i].state, KCOM_NODE_DOWN);
		kcom.nodes[i].reason = 0;
		kcom.nodes[i].rx_last = 0;
	}
}

/* Records an event, then tells the engine, the waiters and the ports. */
static void kcom_node_event(const struct om_kcom_msg *msg, u32 node, bool up, u32 reason)
{
	struct kcom_node *n = &kcom.nodes[node];

	kcom_node_touch(node);
	n->reason = reason;
	WRITE_ONCE(n->state, up ? KCOM_NODE_UP : KCOM_NODE_DOWN);
	/*
	 * A node that comes up afresh (JOINED: a new device, its seqs start
	 * again at 1) resets its duplicate filter. One that reconnected (or
	 * whose relay did) keeps counting, and the relay may deliver again
	 * what was already received, also after a NODE_DOWN the relay sent
	 * while it came back: NODE_DOWN keeps the filter too.
	 */
	if (up && reason != VIRTIO_OM_NODE_RECONNECTED)
		n->rx_last = 0;
	if (!up)
		kcom_call_abort_node(node, -EHOSTDOWN);
	kcom_notify(up ? OM_KCOM_EV_NODE_UP : OM_KCOM_EV_NODE_DOWN, node, reason);
	kcom_port_event(msg);
}

/*
 * A valid NODE_UP / NODE_DOWN from the host (the receive worker). An event
 * about node 0 or a node out of range is counted as malformed; one about
 * this node tells nothing new and is ignored.
 */
void kcom_node_control(const struct om_kcom_msg *msg)
{
	struct virtio_om_node_event ev;
	u32 node;

	if (om_kcom_msg_copy(msg, 0, &ev, sizeof(ev)) != sizeof(ev))
		goto bad;
	node = le32_to_cpu(ev.node);
	if (node == VIRTIO_OM_NODE_HOST || node > VIRTIO_OM_MAX_NODES)
		goto bad;
	if (node == READ_ONCE(kcom.self))
		return;
	kcom_node_event(msg, node, msg->hdr.type == VIRTIO_OM_T_NODE_UP, le32_to_cpu(ev.reason));
	return;
bad:
	atomic64_inc(&kcom.stats.malformed);
}

/* The device went away: every node is down as far as this guest knows. */
void kcom_nodes_all_down(u32 reason)
{
	struct virtio_om_node_event ev = { .reason = cpu_to_le32(reason) };
	struct om_kcom_hdr h = {
		.type = VIRTIO_OM_T_NODE_DOWN,
		.len = sizeof(ev),
	};
	struct om_kcom_msg *msg;
	u32 i;

	for (i = 1; i <= VIRTIO_OM_MAX_NODES; i++) {
		if (READ_ONCE(kcom.nodes[i].state) != KCOM_NODE_UP)
			continue;
		ev.node = cpu_to_le32(i);
		msg = kcom_msg_build(&h, &ev, GFP_KERNEL);
		if (msg) {
			kcom_node_event(msg, i, false, reason);
			om_kcom_msg_free(msg);
		} else {
			/* Without a message for the ports, still tell the rest. */
			WRITE_ONCE(kcom.nodes[i].state, KCOM_NODE_DOWN);
			kcom_call_abort_node(i, -EHOSTDOWN);
			kcom_notify(OM_KCOM_EV_NODE_DOWN, i, reason);
			atomic64_inc(&kcom.stats.events_lost);
		}
	}
}
