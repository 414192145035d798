// SPDX-License-Identifier: GPL-2.0-only
/*
 * A process goes only to a node whose CPU has every user-visible feature
 * of its home's: it may have chosen its code (glibc's ifuncs, a library's
 * AVX2 loop) by what it found when it started. Each node is asked once
 * (CPU_QUERY, answered by CPU_INFO) and remembered until it goes down or
 * comes back, maybe on another CPU.
 */
#include <linux/slab.h>
#include <linux/xarray.h>

#include "om.h"

#define OM_CPU_QUERY_TIMEOUT (5 * HZ)

/* node -> struct virtio_om_cpu_info, as it answered; freed under its lock. */
static DEFINE_XARRAY(om_node_cpus);

void om_cpu_forget(u32 node)
{
	kfree(xa_erase(&om_node_cpus, node));
}

/* CPU_QUERY's answer, from the receive worker. */
void om_cpu_answer(const struct om_kcom_hdr *req)
{
	struct virtio_om_cpu_info ci;
	struct kvec kv = { &ci, sizeof(ci) };
	struct om_kcom_out out = {
		.dst_node = req->src_node,
		.type = VIRTIO_OM_T_CPU_INFO,
		.flags = VIRTIO_OM_F_REPLY,
		.reply_to = req->seq,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	om_arch_cpu_info(&ci);
	om_kcom_send(&out, OM_KCOM_NONBLOCK, NULL);
}

static bool om_cpu_known(u32 node, struct virtio_om_cpu_info *ci)
{
	struct virtio_om_cpu_info *c;

	xa_lock(&om_node_cpus);
	c = xa_load(&om_node_cpus, node);
	if (c)
		*ci = *c;
	xa_unlock(&om_node_cpus);
	return c;
}

static int om_cpu_ask(u32 node, struct virtio_om_cpu_info *ci)
{
	struct virtio_om_cpu_query q = { .arch = cpu_to_le32(om_arch_id()) };
	struct kvec kv = { &q, sizeof(q) };
	struct om_kcom_out out = {
		.dst_node = node,
		.type = VIRTIO_OM_T_CPU_QUERY,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct virtio_om_cpu_info *copy, *old;
	struct om_kcom_msg *reply;
	int err;

	err = om_kcom_call(&out, OM_KCOM_KILLABLE, OM_CPU_QUERY_TIMEOUT, &reply);
	if (err)
		return err;
	if (om_kcom_msg_hdr(reply)->type != VIRTIO_OM_T_CPU_INFO ||
	    om_kcom_msg_copy(reply, 0, ci, sizeof(*ci)) != sizeof(*ci))
		err = -EPROTO;
	om_kcom_msg_free(reply);
	if (err)
		return err;
	copy = kmemdup(ci, sizeof(*ci), GFP_KERNEL);
	if (copy) {
		old = xa_store(&om_node_cpus, node, copy, GFP_KERNEL);
		if (xa_is_err(old))
			kfree(copy);
		else
			kfree(old);
	}
	return 0;
}

/**
 * om_cpu_check() - whether a process of this node may run at @node
 * @node: the destination
 * @why: what it lacks, for debug (empty when nothing)
 * @size: @why's size
 *
 * Context: process context; may ask @node and wait for its answer.
 * Return: 0; -ENOEXEC when its CPU lacks a feature this one offers (or is
 * another architecture); or why it could not be asked (-ETIMEDOUT, ...).
 */
int om_cpu_check(u32 node, char *why, size_t size)
{
	struct virtio_om_cpu_info here, there;
	int err;

	if (size)
		why[0] = '\0';
	if (!om_cpu_known(node, &there)) {
		err = om_cpu_ask(node, &there);
		if (err)
			return err;
	}
	if (le32_to_cpu(there.arch) != om_arch_id()) {
		strscpy(why, "another architecture", size);
		return -ENOEXEC;
	}
	om_arch_cpu_info(&here);
	return om_arch_cpu_lacks(&here, &there, why, size) ? -ENOEXEC : 0;
}
