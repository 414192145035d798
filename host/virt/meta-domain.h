/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The om mark of a domain libvirt knows, through its API: what omvirt and
 * omcluster up --libvirt use to tell their domains (meta.h reads the
 * element; this asks libvirt for it, which the hook must not do).
 */
#ifndef OM_VIRT_META_DOMAIN_H
#define OM_VIRT_META_DOMAIN_H

#include <libvirt/libvirt.h>

#include "meta.h"

/* dom's mark into m; -ENOENT when it has none, -EINVAL when malformed. */
int omv_meta_of_domain(virDomainPtr dom, struct omv_meta *m);

#endif /* OM_VIRT_META_DOMAIN_H */
