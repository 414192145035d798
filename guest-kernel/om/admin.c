// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/hpc/admin: what an administrator reads and sets on this guest's
 * engine. The per-process interface lives under /proc/PID/hpc.
 */
#include <linux/init.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <uapi/linux/virtio_om.h>

#include "om.h"

static int om_version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "engine %s\nprotocol %u\narch %s\n", OM_ENGINE_VERSION,
		   VIRTIO_OM_PROTOCOL_VERSION, om_arch_name());
	return 0;
}

static int __init om_admin_init(void)
{
	struct proc_dir_entry *hpc, *admin;

	hpc = proc_mkdir("hpc", NULL);
	if (!hpc)
		return -ENOMEM;
	admin = proc_mkdir("admin", hpc);
	if (!admin)
		goto err_hpc;
	if (!proc_create_single("version", 0444, admin, om_version_show))
		goto err_hpc;
	return 0;

err_hpc:
	proc_remove(hpc);
	return -ENOMEM;
}
fs_initcall(om_admin_init);
