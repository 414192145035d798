/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * up --libvirt: a cluster's guests as libvirt domains, through libvirt's C
 * API. Each node is a transient domain made from omvirt's domain XML
 * (host/virt/domain-xml.c, the omvm mark naming the cluster's relay
 * directory): it exists while its guest runs, as a QEMU of ours would, so
 * stop and down leave no definition behind. One connection per command,
 * opened by om_lv_connect.
 */
#ifndef OM_CLUSTER_LIBVIRT_GUESTS_H
#define OM_CLUSTER_LIBVIRT_GUESTS_H

#include <stdbool.h>
#include <stddef.h>

#include "guest.h"
#include "state.h"

/*
 * Opens the command's connection to libvirt at uri (NULL: libvirt's
 * default, LIBVIRT_DEFAULT_URI or its configuration deciding), once; the
 * URI libvirt says it reached goes to actual (may be NULL). 0, or -EIO
 * after telling the user.
 */
int om_lv_connect(const char *uri, char *actual, size_t cap);
void om_lv_disconnect(void);

/*
 * Whom libvirt runs QEMU as for domains of accel's type: user if given (a
 * name or uid), else libvirt's DAC label (qemu.conf's user), else (no DAC
 * model: a session daemon, which runs QEMU as itself) ourselves. 0, or
 * -errno after telling the user.
 */
int om_lv_qemu_user(enum om_accel accel, const char *user, struct om_qemu_user *out);

/* The domain of node of cluster: omc-CLUSTER-nodeN. 0 or -ENAMETOOLONG. */
int om_lv_domain_name(const char *cluster, unsigned int node, char *out, size_t cap);

/*
 * Starts n (its domain, dir and CPU model set) as a transient domain booted
 * as st says from art, its virtio-om device on relay_dir's node socket,
 * its console logged to and agent channel at the node's directory (as a
 * QEMU of ours has them). A name another cluster's domain holds is
 * refused. 0, or -errno after telling the user (libvirt's reason).
 */
int om_lv_boot(const struct om_cluster_state *st, const struct om_artifacts *art,
	       const struct om_node_state *n, const char *relay_dir);

/* Whether the domain name runs. */
bool om_lv_running(const char *name);

/*
 * Ends the domain name: with kill, virDomainDestroy at once (libvirt's
 * SIGTERM, then SIGKILL); else SIGTERM only and, if it is still there
 * after timeout_ms, the same destroy. 0 once it is gone, -EBUSY if not.
 */
int om_lv_stop(const char *name, bool kill, unsigned int timeout_ms);

/*
 * Ends every om domain whose mark names relay_dir, recorded or not (one
 * an up killed before it recorded it). Returns how many remain.
 */
unsigned int om_lv_sweep(const char *relay_dir, unsigned int timeout_ms);

#endif /* OM_CLUSTER_LIBVIRT_GUESTS_H */
