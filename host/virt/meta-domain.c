// SPDX-License-Identifier: GPL-2.0-only
#include "meta-domain.h"

#include <errno.h>
#include <stdlib.h>

#include "omvirt.h"

int omv_meta_of_domain(virDomainPtr dom, struct omv_meta *m)
{
	char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, OMV_META_NS, 0);
	int r;

	if (!xml)
		return -ENOENT;
	r = omv_meta_from_element_xml(xml, m);
	free(xml);
	return r;
}
