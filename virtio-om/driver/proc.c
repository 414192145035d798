// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/hpc/nodes: the cluster as this guest sees it.
 *
 *   node state tx_msgs tx_bytes rx_msgs rx_bytes duplicates malformed
 *   1 self 10000 327680000 20000 655360000 0 0
 *   2 up ...
 *   all - <the six counters over every node, the host's messages included>
 *       no_receiver=N overflow=N events_lost=N pong_dropped=N rx_stalls=N
 *       tx_late=N
 *
 * (the "all" line is one line). One line per known node: this one, and
 * every node an event or traffic named. /proc/hpc belongs to the engine
 * (kernel/om/admin.c creates it at fs_initcall, before this driver's
 * device_initcall); without the engine the driver creates it.
 */
#include <linux/kconfig.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "kcom.h"

static const char *kcom_state_name(u32 node)
{
	switch (kcom_node_state(node)) {
	case OM_KCOM_NODE_SELF:
		return "self";
	case OM_KCOM_NODE_UP:
		return "up";
	default:
		return "down";
	}
}

static int kcom_nodes_show(struct seq_file *m, void *v)
{
	struct kcom_stats *s = &kcom.stats;
	u32 self = READ_ONCE(kcom.self);
	u32 i;

	seq_puts(m, "node state tx_msgs tx_bytes rx_msgs rx_bytes duplicates malformed\n");
	for (i = 1; i <= VIRTIO_OM_MAX_NODES; i++) {
		struct kcom_node *n = &kcom.nodes[i];

		if (i != self && !READ_ONCE(n->known))
			continue;
		seq_printf(m, "%u %s %lld %lld %lld %lld %lld %lld\n", i, kcom_state_name(i),
			   atomic64_read(&n->tx_msgs), atomic64_read(&n->tx_bytes),
			   atomic64_read(&n->rx_msgs), atomic64_read(&n->rx_bytes),
			   atomic64_read(&n->rx_duplicates), atomic64_read(&n->rx_malformed));
	}
	seq_printf(m, "all - %lld %lld %lld %lld %lld %lld", atomic64_read(&s->tx_msgs),
		   atomic64_read(&s->tx_bytes), atomic64_read(&s->rx_msgs),
		   atomic64_read(&s->rx_bytes), atomic64_read(&s->duplicates),
		   atomic64_read(&s->malformed));
	seq_printf(m, " no_receiver=%lld overflow=%lld events_lost=%lld pong_dropped=%lld rx_stalls=%lld",
		   atomic64_read(&s->no_receiver), atomic64_read(&s->overflow),
		   atomic64_read(&s->events_lost), atomic64_read(&s->pong_dropped),
		   atomic64_read(&s->rx_stalls));
	seq_printf(m, " tx_late=%lld\n", atomic64_read(&s->tx_late));
	return 0;
}

int kcom_proc_init(void)
{
	/* The engine made /proc/hpc at fs_initcall; a kernel without it has none. */
	if (!IS_ENABLED(CONFIG_OM) && !proc_mkdir("hpc", NULL))
		return -ENOMEM;
	return proc_create_single("hpc/nodes", 0444, NULL, kcom_nodes_show) ? 0 : -ENOMEM;
}
