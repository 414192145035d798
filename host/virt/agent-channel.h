/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where an om domain's guest agent answers on the host: the unix socket of
 * its org.omvm.agent channel, read from the domain's XML. The running
 * domain's XML names it even when omvirt define was given no
 * --agent-socket (libvirt picks the path when it starts the domain), so
 * nothing more needs to be kept in omvirt's metadata.
 */
#ifndef OM_VIRT_AGENT_CHANNEL_H
#define OM_VIRT_AGENT_CHANNEL_H

#include <stddef.h>

/*
 * The channel's socket path from a domain's XML into out. 0; -ENOENT when
 * the domain has no such channel or it has no path yet (not running);
 * -EBADMSG when the XML is not a domain's; -ENAMETOOLONG when the path
 * does not fit out or a unix socket address.
 */
int omv_agent_socket_from_xml(const char *xml, size_t len, char *out, size_t cap);

#endif /* OM_VIRT_AGENT_CHANNEL_H */
