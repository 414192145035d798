/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The element that marks a libvirt domain as an om node, in the domain's
 * <metadata>: <omvm:node id="N" relay-dir="DIR"/> in OMV_META_NS. omvirt
 * writes it, `omvirt list` and the libvirt hook read it: a domain is an
 * om node because it says so, not because of its name.
 */
#ifndef OM_VIRT_META_H
#define OM_VIRT_META_H

#include <limits.h>
#include <stddef.h>

#include <libxml/tree.h>

#define OMV_META_ELEMENT "node"

struct omv_meta {
	unsigned int node;
	char relay_dir[PATH_MAX];
};

/*
 * Whether dir can be a relay directory in a domain: absolute, and without a
 * comma (QEMU's option syntax would split the chardev's path there).
 * 0 or -EINVAL.
 */
int omv_meta_check_relay_dir(const char *dir);

/* Adds the element under parent (a domain's <metadata>); NULL when out of memory. */
xmlNodePtr omv_meta_add(xmlNodePtr parent, unsigned int node, const char *relay_dir);

/*
 * Reads the om element out of a whole domain's XML (what a libvirt hook
 * gets on stdin). 0; -ENOENT when the domain has none (not an om domain);
 * -EINVAL when the element is malformed; -EBADMSG when the XML is not a
 * domain's.
 */
int omv_meta_from_domain_xml(const char *xml, size_t len, struct omv_meta *m);

/*
 * The same from the element alone, as virDomainGetMetadata returns it for
 * OMV_META_NS (without the namespace).
 */
int omv_meta_from_element_xml(const char *xml, struct omv_meta *m);

#endif /* OM_VIRT_META_H */
