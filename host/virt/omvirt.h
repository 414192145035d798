/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * omvirt: om-enabled libvirt domains. What its parts share: exit statuses
 * (each failure a script may want to tell apart has its own), the metadata
 * namespace that marks a domain as an om node, and the defaults.
 */
#ifndef OM_VIRT_H
#define OM_VIRT_H

enum omv_exit {
	OMV_EXIT_OK = 0,
	OMV_EXIT_FAIL = 1,      /* libvirt refused, or anything not below */
	OMV_EXIT_USAGE = 2,     /* bad command line (a bad node id among them) */
	OMV_EXIT_NO_FILE = 3,   /* kernel, initramfs, disk or emulator missing */
	OMV_EXIT_NO_LIBVIRT = 4, /* libvirt cannot be reached at the URI */
	OMV_EXIT_EXISTS = 5,    /* the name, or the node on that relay, is taken */
	OMV_EXIT_NO_DOMAIN = 6, /* no such domain, or not an om domain */
};

/*
 * The namespace of omvm's element in a domain's <metadata>. A URN: it names
 * the format and is not meant to be fetched; bump the last field if the
 * element changes incompatibly.
 */
#define OMV_META_NS "urn:omvm:libvirt:domain:1"
#define OMV_META_PREFIX "omvm"

/* Where omhostd's sockets are when it runs as a service (dist/omhostd.service). */
#define OMV_DEFAULT_RELAY_DIR "/run/omhostd"

#endif /* OM_VIRT_H */
