/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * virtio-om: the paravirtual device that carries omvm messages between a
 * guest and the host relay. This header is the one definition of the wire
 * protocol, shared by the guest driver, the QEMU device and omhostd; its
 * document is docs/protocol.md.
 */
#ifndef _UAPI_LINUX_VIRTIO_OM_H
#define _UAPI_LINUX_VIRTIO_OM_H

/* Version of the message format; a peer with another version is refused. */
#define VIRTIO_OM_PROTOCOL_VERSION 1

#endif /* _UAPI_LINUX_VIRTIO_OM_H */
