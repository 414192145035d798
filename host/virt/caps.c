// SPDX-License-Identifier: GPL-2.0-only
#include "caps.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

/* "+UID:+GID", libvirt's numeric DAC label; -EBADMSG for anything else. */
static int parse_label(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char *end;

	if (s[0] != '+' || s[1] < '0' || s[1] > '9')
		return -EBADMSG;
	errno = 0;
	u = strtoul(s + 1, &end, 10);
	if (errno || end[0] != ':' || end[1] != '+' || end[2] < '0' || end[2] > '9' ||
	    u > UINT_MAX - 1)
		return -EBADMSG;
	g = strtoul(end + 2, &end, 10);
	if (errno || *end || g > UINT_MAX - 1)
		return -EBADMSG;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int omv_caps_qemu_user(const char *xml, size_t len, const char *domain_type, uid_t *uid,
		       gid_t *gid)
{
	char expr[128];
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr res = NULL;
	xmlChar *label = NULL;
	int r = -EBADMSG;

	if (len > INT_MAX || strchr(domain_type, '\''))
		return -EINVAL;
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -EBADMSG;
	if (!xmlDocGetRootElement(doc) ||
	    strcmp((const char *)xmlDocGetRootElement(doc)->name, "capabilities"))
		goto out;
	snprintf(expr, sizeof(expr),
		 "/capabilities/host/secmodel[model='dac']/baselabel[@type='%s']", domain_type);
	ctx = xmlXPathNewContext(doc);
	res = ctx ? xmlXPathEvalExpression(BAD_CAST expr, ctx) : NULL;
	if (!res)
		goto out;
	if (!res->nodesetval || res->nodesetval->nodeNr == 0) {
		r = -ENOENT;
		goto out;
	}
	label = xmlNodeGetContent(res->nodesetval->nodeTab[0]);
	r = label ? parse_label((const char *)label, uid, gid) : -EBADMSG;
out:
	xmlFree(label);
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return r;
}
