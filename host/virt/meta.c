// SPDX-License-Identifier: GPL-2.0-only
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "omvirt.h"
#include "parse-u32.h"
#include <linux/virtio_om.h>

int omv_meta_check_relay_dir(const char *dir)
{
	return dir[0] == '/' && !strchr(dir, ',') ? 0 : -EINVAL;
}

xmlNodePtr omv_meta_add(xmlNodePtr parent, unsigned int node, const char *relay_dir)
{
	xmlNodePtr el = xmlNewChild(parent, NULL, BAD_CAST OMV_META_ELEMENT, NULL);
	xmlNsPtr ns;
	char id[16];

	if (!el)
		return NULL;
	ns = xmlNewNs(el, BAD_CAST OMV_META_NS, BAD_CAST OMV_META_PREFIX);
	if (!ns)
		return NULL;
	xmlSetNs(el, ns);
	snprintf(id, sizeof(id), "%u", node);
	if (!xmlNewProp(el, BAD_CAST "id", BAD_CAST id) ||
	    !xmlNewProp(el, BAD_CAST "relay-dir", BAD_CAST relay_dir))
		return NULL;
	return el;
}

static int is_om_element(xmlNodePtr n)
{
	return n->type == XML_ELEMENT_NODE && n->ns &&
	       !xmlStrcmp(n->ns->href, BAD_CAST OMV_META_NS) &&
	       !xmlStrcmp(n->name, BAD_CAST OMV_META_ELEMENT);
}

/* Both attributes present and valid, or -EINVAL: a half-written mark is not trusted. */
static int read_element(xmlNodePtr el, struct omv_meta *m)
{
	xmlChar *id = xmlGetNoNsProp(el, BAD_CAST "id");
	xmlChar *dir = xmlGetNoNsProp(el, BAD_CAST "relay-dir");
	uint32_t node;
	int err = -EINVAL;

	if (id && dir && !parse_u32((const char *)id, 1, VIRTIO_OM_MAX_NODES, &node) &&
	    !omv_meta_check_relay_dir((const char *)dir) &&
	    (size_t)snprintf(m->relay_dir, sizeof(m->relay_dir), "%s", (const char *)dir) <
		    sizeof(m->relay_dir)) {
		m->node = node;
		err = 0;
	}
	xmlFree(id);
	xmlFree(dir);
	return err;
}

/* No network, no entity expansion: the XML may come from anyone who can define a domain. */
static xmlDocPtr parse(const char *xml, size_t len)
{
	return xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
							       XML_PARSE_NOWARNING);
}

int omv_meta_from_domain_xml(const char *xml, size_t len, struct omv_meta *m)
{
	xmlDocPtr doc;
	xmlNodePtr root, n;
	int err = -ENOENT;

	if (len > INT_MAX)
		return -EBADMSG;
	doc = parse(xml, len);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcmp(root->name, BAD_CAST "domain")) {
		err = -EBADMSG;
		goto out;
	}
	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "metadata"))
			continue;
		for (xmlNodePtr c = n->children; c; c = c->next)
			if (is_om_element(c)) {
				err = read_element(c, m);
				goto out;
			}
	}
out:
	xmlFreeDoc(doc);
	return err;
}

int omv_meta_from_element_xml(const char *xml, struct omv_meta *m)
{
	xmlDocPtr doc = parse(xml, strlen(xml));
	xmlNodePtr root;
	int err;

	if (!doc)
		return -EINVAL;
	root = xmlDocGetRootElement(doc);
	/* libvirt hands the element back without its namespace: asked by it, it is ours. */
	err = root && (is_om_element(root) || (!root->ns && !xmlStrcmp(root->name,
								     BAD_CAST OMV_META_ELEMENT))) ?
		      read_element(root, m) :
		      -ENOENT;
	xmlFreeDoc(doc);
	return err;
}
