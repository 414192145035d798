/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omvirt's work against libvirt's C API: define an om domain, list them with
 * the relay's view of each node, undefine one. Each returns 0 or -errno with
 * a message for the user in err: -EEXIST (name or node taken), -ENOENT (no
 * such om domain), -EBUSY (running), -ESRCH (not running), -EIO (libvirt
 * refused; its reason).
 */
#ifndef OM_VIRT_OPS_H
#define OM_VIRT_OPS_H

#include <stddef.h>
#include <stdio.h>

#include <libvirt/libvirt.h>

#include "domain-xml.h"

/* NULL with a message when libvirt cannot be reached at uri (NULL: libvirt's default). */
virConnectPtr omv_connect(const char *uri, char *err, size_t errlen);

/* Defines d (its XML in xml) unless its name, or its node on its relay, is taken. */
int omv_define(virConnectPtr conn, const struct om_vdomain *d, const char *xml, char *err,
	       size_t errlen);

/* One line per om domain, by node: name, node, state, the relay's view, relay directory. */
int omv_list(virConnectPtr conn, FILE *out, char *err, size_t errlen);

/* Undefines the om domain name; refuses another domain or a running one. */
int omv_undefine(virConnectPtr conn, const char *name, char *err, size_t errlen);

/*
 * The host end of the running om domain name's guest agent channel into
 * sock; refuses another domain, and one that is not running.
 */
int omv_agent_socket(virConnectPtr conn, const char *name, char *sock, size_t cap, char *err,
		     size_t errlen);

#endif /* OM_VIRT_OPS_H */
