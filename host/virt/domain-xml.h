/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An om node as a libvirt domain: its description and the domain XML made
 * from it with libxml2's tree API (every string escaped by libxml2). libvirt's
 * own elements for all it models; only the virtio-om device, which libvirt
 * has no element for, goes in <qemu:commandline> (docs/libvirt.md).
 */
#ifndef OM_VIRT_DOMAIN_XML_H
#define OM_VIRT_DOMAIN_XML_H

#include <stdbool.h>

struct om_vdomain {
	const char *name;
	unsigned int node;       /* 1..VIRTIO_OM_MAX_NODES */
	unsigned int mem_mib;
	unsigned int vcpus;
	bool kvm;                /* domain type kvm; else qemu (TCG) */
	const char *emulator;    /* absolute paths from here on */
	const char *kernel;      /* NULL: boot from the disk */
	const char *initrd;      /* NULL: none */
	const char *append;      /* extra kernel arguments, or NULL */
	const char *disk;        /* NULL: none */
	const char *disk_format; /* raw or qcow2 */
	const char *relay_dir;   /* omhostd's --dir */
	const char *agent_socket; /* NULL: libvirt picks the path */
	const char *console_log; /* NULL: none; else the serial console is also logged there */
	const char *cpu_model;   /* NULL: the default CPU; else this libvirt CPU model (qemu64...) */
	const char *firmware[2]; /* -L directories; NULL entries are skipped */
};

/*
 * The domain XML for d into *out (malloc'd, NUL-terminated; free()).
 * 0; -EINVAL when the node or the relay directory cannot be (with
 * -ENAMETOOLONG when the node's socket path is too long for a unix socket);
 * -ENOMEM.
 */
int om_vdomain_xml(const struct om_vdomain *d, char **out);

#endif /* OM_VIRT_DOMAIN_XML_H */
