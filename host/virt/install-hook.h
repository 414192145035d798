/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `omvirt install-hook`: puts HOOKS_DIR/qemu.d/omvm, a two-line script that
 * runs omvirt-hook. In qemu.d, beside any hooks the host already has
 * (libvirt runs /etc/libvirt/hooks/qemu, then qemu.d/ in name order).
 */
#ifndef OM_VIRT_INSTALL_HOOK_H
#define OM_VIRT_INSTALL_HOOK_H

#include <stddef.h>

#define OMV_DEFAULT_HOOKS_DIR "/etc/libvirt/hooks"

/*
 * Writes the script (atomically, mode 0755) for hook, the omvirt-hook
 * program (NULL: the one beside this executable). Its path into path.
 * 0 or -errno with a message in err.
 */
int omv_install_hook(const char *hooks_dir, const char *hook, char *path, size_t pathcap,
		     char *err, size_t errlen);

#endif /* OM_VIRT_INSTALL_HOOK_H */
