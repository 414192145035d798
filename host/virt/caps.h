/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whom libvirt runs QEMU as, from its capabilities: the DAC security
 * model's base label for a domain type (qemu.conf's user and group under
 * qemu:///system). omcluster up --libvirt needs it before any guest starts:
 * the relay must let that user's QEMU in, and the cluster's directories
 * must let it reach its sockets.
 */
#ifndef OM_VIRT_CAPS_H
#define OM_VIRT_CAPS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The uid and gid of domain_type's ("qemu" or "kvm") DAC base label in a
 * capabilities XML (virConnectGetCapabilities). 0; -ENOENT when libvirt
 * reports no DAC model (a session daemon: QEMU runs as the daemon's user);
 * -EBADMSG when the XML or the label is malformed.
 */
int omv_caps_qemu_user(const char *xml, size_t len, const char *domain_type, uid_t *uid,
		       gid_t *gid);

#endif /* OM_VIRT_CAPS_H */
