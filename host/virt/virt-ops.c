// SPDX-License-Identifier: GPL-2.0-only
#include "virt-ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "agent-channel.h"
#include "agent-proto.h"
#include "control-client.h"
#include "meta-domain.h"
#include "omvirt.h"

/* omhostd answers at once when it runs; list should not stall on a hung one. */
#define LIST_RELAY_TIMEOUT_MS 1000

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown error";
}

virConnectPtr omv_connect(const char *uri, char *err, size_t errlen)
{
	virConnectPtr c = virConnectOpen(uri);

	if (!c)
		snprintf(err, errlen, "cannot reach libvirt at %s: %s (is libvirtd running?)",
			 uri ? uri : "its default URI", last_error());
	return c;
}

struct om_entry {
	virDomainPtr dom;
	struct omv_meta m;
};

static int by_node(const void *a, const void *b)
{
	const struct om_entry *x = a, *y = b;

	if (x->m.node != y->m.node)
		return x->m.node < y->m.node ? -1 : 1;
	return strcmp(virDomainGetName(x->dom), virDomainGetName(y->dom));
}

/* The om domains, sorted by node; *n of them. Free with free_entries. */
static int om_domains(virConnectPtr conn, struct om_entry **out, size_t *n, char *err,
		      size_t errlen)
{
	virDomainPtr *doms = NULL;
	struct om_entry *e;
	int all = virConnectListAllDomains(conn, &doms, 0);

	*n = 0;
	if (all < 0) {
		snprintf(err, errlen, "cannot list libvirt's domains: %s", last_error());
		return -EIO;
	}
	e = calloc((size_t)all + 1, sizeof(*e));
	if (!e) {
		for (int i = 0; i < all; i++)
			virDomainFree(doms[i]);
		free(doms);
		return -ENOMEM;
	}
	for (int i = 0; i < all; i++) {
		if (omv_meta_of_domain(doms[i], &e[*n].m)) {
			virDomainFree(doms[i]);
			continue;
		}
		e[(*n)++].dom = doms[i];
	}
	free(doms);
	qsort(e, *n, sizeof(*e), by_node);
	*out = e;
	return 0;
}

static void free_entries(struct om_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		virDomainFree(e[i].dom);
	free(e);
}

int omv_define(virConnectPtr conn, const struct om_vdomain *d, const char *xml, char *err,
	       size_t errlen)
{
	virDomainPtr dom = virDomainLookupByName(conn, d->name);
	struct om_entry *e;
	size_t n;
	int r;

	if (dom) {
		virDomainFree(dom);
		snprintf(err, errlen, "a domain named %s already exists", d->name);
		return -EEXIST;
	}
	/* Two guests on one node socket: the second would be refused by omhostd. */
	r = om_domains(conn, &e, &n, err, errlen);
	if (r)
		return r;
	for (size_t i = 0; i < n && !r; i++)
		if (e[i].m.node == d->node && !strcmp(e[i].m.relay_dir, d->relay_dir)) {
			snprintf(err, errlen, "node %u on relay %s is already domain %s", d->node,
				 d->relay_dir, virDomainGetName(e[i].dom));
			r = -EEXIST;
		}
	free_entries(e, n);
	if (r)
		return r;
	/* VALIDATE: libvirt checks the XML against its schema too. */
	dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!dom) {
		snprintf(err, errlen, "libvirt refused domain %s: %s", d->name, last_error());
		return -EIO;
	}
	virDomainFree(dom);
	return 0;
}

static const char *state_name(virDomainPtr dom)
{
	/* virsh's words, so both listings read alike. */
	static const char *const names[] = {
		[VIR_DOMAIN_NOSTATE] = "no state",   [VIR_DOMAIN_RUNNING] = "running",
		[VIR_DOMAIN_BLOCKED] = "idle",       [VIR_DOMAIN_PAUSED] = "paused",
		[VIR_DOMAIN_SHUTDOWN] = "in shutdown", [VIR_DOMAIN_SHUTOFF] = "shut off",
		[VIR_DOMAIN_CRASHED] = "crashed",    [VIR_DOMAIN_PMSUSPENDED] = "pmsuspended",
	};
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) || state < 0 ||
	    (size_t)state >= sizeof(names) / sizeof(names[0]) || !names[state])
		return "unknown";
	return names[state];
}

/* What omhostd on dir says of node: absent, connected, up; or not-served, no-relay. */
static const char *relay_view(const char *dir, unsigned int node, char *buf, size_t cap,
			      char *out, size_t outcap)
{
	char ctl[PATH_MAX];

	if (om_ctl_socket_path(dir, ctl, sizeof(ctl)) ||
	    om_ctl_ask(ctl, "status\n", LIST_RELAY_TIMEOUT_MS, buf, cap))
		return "no-relay";
	if (!om_ctl_node_line(buf, node))
		return "not-served";
	return om_ctl_node_state(buf, node, out, outcap);
}

int omv_list(virConnectPtr conn, FILE *out, char *err, size_t errlen)
{
	const size_t cap = 1 << 20; /* a status of 1024 nodes, with room */
	char *status = malloc(cap), view[32];
	struct om_entry *e;
	size_t n;
	int r;

	if (!status)
		return -ENOMEM;
	r = om_domains(conn, &e, &n, err, errlen);
	if (r) {
		free(status);
		return r;
	}
	fprintf(out, "%-24s %5s  %-12s %-11s %s\n", "NAME", "NODE", "STATE", "RELAY",
		"RELAY-DIR");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-24s %5u  %-12s %-11s %s\n", virDomainGetName(e[i].dom), e[i].m.node,
			state_name(e[i].dom),
			relay_view(e[i].m.relay_dir, e[i].m.node, status, cap, view, sizeof(view)),
			e[i].m.relay_dir);
	free_entries(e, n);
	free(status);
	return 0;
}

int omv_undefine(virConnectPtr conn, const char *name, char *err, size_t errlen)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	struct omv_meta m;
	int r = 0;

	if (!dom) {
		snprintf(err, errlen, "no domain named %s", name);
		return -ENOENT;
	}
	if (omv_meta_of_domain(dom, &m)) {
		snprintf(err, errlen, "domain %s is not an om domain (no omvm metadata): "
				      "omvirt leaves it alone",
			 name);
		r = -ENOENT;
	} else if (virDomainIsActive(dom) == 1) {
		snprintf(err, errlen, "domain %s is running: stop it first (virsh destroy %s)",
			 name, name);
		r = -EBUSY;
	} else if (virDomainUndefine(dom)) {
		snprintf(err, errlen, "libvirt refused to undefine %s: %s", name, last_error());
		r = -EIO;
	}
	virDomainFree(dom);
	return r;
}

int omv_agent_socket(virConnectPtr conn, const char *name, char *sock, size_t cap, char *err,
		     size_t errlen)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	struct omv_meta m;
	char *xml = NULL;
	int r = 0;

	if (!dom) {
		snprintf(err, errlen, "no domain named %s", name);
		return -ENOENT;
	}
	if (omv_meta_of_domain(dom, &m)) {
		snprintf(err, errlen, "domain %s is not an om domain (no omvm metadata)", name);
		r = -ENOENT;
	} else if (virDomainIsActive(dom) != 1) {
		snprintf(err, errlen, "domain %s is not running (virsh start %s)", name, name);
		r = -ESRCH;
	} else if (!(xml = virDomainGetXMLDesc(dom, 0))) {
		snprintf(err, errlen, "cannot read domain %s's XML: %s", name, last_error());
		r = -EIO;
	} else {
		/* The live XML: libvirt has filled in a path it picked. */
		r = omv_agent_socket_from_xml(xml, strlen(xml), sock, cap);
		if (r == -ENAMETOOLONG)
			snprintf(err, errlen, "domain %s: its agent socket's path is too long",
				 name);
		else if (r)
			snprintf(err, errlen, "domain %s has no guest agent channel (%s): "
					      "define it with omvirt",
				 name, OMA_PORT_NAME);
	}
	free(xml);
	virDomainFree(dom);
	return r;
}
