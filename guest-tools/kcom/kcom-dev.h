/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the kcom test tools (om-ping, om-traffic) around /dev/om-kcom:
 * open and bind a port, send one message, receive one message. The device's
 * ABI is <linux/om_kcom.h>; messages are <linux/virtio_om.h>'s, whose
 * header is little-endian on the wire and in host order here.
 */
#ifndef OM_KCOM_DEV_H
#define OM_KCOM_DEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/om_kcom.h>
#include <linux/virtio_om.h>

#include "om_hdr.h"

/* The device path; $OM_KCOM_DEV overrides it (for tests). */
const char *kc_dev_path(void);

/*
 * Opens the device (O_RDWR | O_CLOEXEC | extra_flags) and, when port is not
 * 0, binds that port. Returns the fd or -errno.
 */
int kc_open(uint32_t port, int extra_flags);

/* OM_KCOM_IOC_INFO; 0 or -errno. */
int kc_info(int fd, struct om_kcom_info *info);

/* OM_KCOM_IOC_NODE: enum om_kcom_node_state of node, or -errno. */
int kc_node_state(int fd, uint32_t node);

/*
 * Sends one message: h (len is set from the payload) and len payload bytes.
 * Returns 0 or -errno (-EAGAIN on a non-blocking fd whose queue is full).
 */
int kc_send(int fd, struct om_msg_hdr *h, const void *payload, size_t len);

/*
 * Receives one message into buf (cap bytes, OM_KCOM_MSG_MAX always enough):
 * decodes its header into h and returns the payload's offset in buf
 * (VIRTIO_OM_HDR_SIZE), or -errno (-EAGAIN when none is queued on a
 * non-blocking fd, -EMSGSIZE when buf is too small).
 */
int kc_recv(int fd, struct om_msg_hdr *h, void *buf, size_t cap);


/* "joined", "reconnected", ... for enum virtio_om_node_reason. */
const char *kc_reason_name(uint32_t reason);

#endif /* OM_KCOM_DEV_H */
