// SPDX-License-Identifier: GPL-2.0-only
#include "agent-channel.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "agent-proto.h"

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !xmlStrcmp(c->name, BAD_CAST name))
			return c;
	return NULL;
}

static int attr_is(xmlNodePtr n, const char *name, const char *want)
{
	xmlChar *v = n ? xmlGetNoNsProp(n, BAD_CAST name) : NULL;
	int same = v && !xmlStrcmp(v, BAD_CAST want);

	xmlFree(v);
	return same;
}

/* The agent's channel: a unix one whose virtio target has the agent's port name. */
static int is_agent_channel(xmlNodePtr ch)
{
	xmlNodePtr target = child(ch, "target");

	return attr_is(ch, "type", "unix") && attr_is(target, "type", "virtio") &&
	       attr_is(target, "name", OMA_PORT_NAME);
}

int omv_agent_socket_from_xml(const char *xml, size_t len, char *out, size_t cap)
{
	xmlDocPtr doc;
	xmlNodePtr root, ch;
	xmlChar *path = NULL;
	int err = -ENOENT;

	if (len > INT_MAX)
		return -EBADMSG;
	/* No network, no entities: the XML is whatever the domain's definer wrote. */
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcmp(root->name, BAD_CAST "domain")) {
		err = -EBADMSG;
		goto out;
	}
	for (ch = child(root, "devices") ? child(root, "devices")->children : NULL; ch;
	     ch = ch->next) {
		if (ch->type != XML_ELEMENT_NODE || xmlStrcmp(ch->name, BAD_CAST "channel") ||
		    !is_agent_channel(ch))
			continue;
		path = xmlGetNoNsProp(child(ch, "source"), BAD_CAST "path");
		break;
	}
	if (path && path[0]) {
		size_t n = strlen((const char *)path);

		if (n >= cap || n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			err = -ENAMETOOLONG;
		} else {
			memcpy(out, path, n + 1);
			err = 0;
		}
	}
out:
	xmlFree(path);
	xmlFreeDoc(doc);
	return err;
}
