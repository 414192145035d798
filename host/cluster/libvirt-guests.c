// SPDX-License-Identifier: GPL-2.0-only
#include "libvirt-guests.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "accel.h"
#include "caps.h"
#include "domain-xml.h"
#include "meta-domain.h"
#include "omcluster.h"
#include "omvirt.h"
#include "proc.h"

static virConnectPtr conn;

/* libvirt prints every error on stderr by default; ours say what failed. */
static void quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();

	return m ? m : "unknown error";
}

int om_lv_connect(const char *uri, char *actual, size_t cap)
{
	char *got;

	if (!conn) {
		virSetErrorFunc(NULL, quiet);
		conn = virConnectOpen(uri);
		if (!conn) {
			om_error("cannot reach libvirt at %s: %s (is libvirtd running?)",
				 uri ? uri : "its default URI", last_error());
			return -EIO;
		}
	}
	if (actual) {
		got = virConnectGetURI(conn);
		if (!got) {
			om_error("libvirt does not say which URI it answers at: %s", last_error());
			return -EIO;
		}
		snprintf(actual, cap, "%s", got);
		free(got);
	}
	return 0;
}

void om_lv_disconnect(void)
{
	if (conn)
		virConnectClose(conn);
	conn = NULL;
}

int om_lv_qemu_user(enum om_accel accel, const char *user, struct om_qemu_user *out)
{
	char *caps;
	int r;

	if (user) {
		r = om_qemu_user_parse(user, out);
		if (r)
			om_error("--qemu-user: no user '%s' here", user);
		return r;
	}
	caps = virConnectGetCapabilities(conn);
	if (!caps) {
		om_error("cannot read libvirt's capabilities: %s", last_error());
		return -EIO;
	}
	r = omv_caps_qemu_user(caps, strlen(caps), accel == OM_ACCEL_KVM ? "kvm" : "qemu",
			       &out->uid, &out->gid);
	free(caps);
	if (r == -ENOENT) {
		/* No DAC model: a session daemon runs QEMU as its own user, taken as ours. */
		out->uid = geteuid();
		out->gid = getegid();
		return 0;
	}
	if (r)
		om_error("libvirt's capabilities give QEMU's user in a form not understood (%s)",
			 strerror(-r));
	return r;
}

int om_lv_domain_name(const char *cluster, unsigned int node, char *out, size_t cap)
{
	int n = snprintf(out, cap, "omc-%s-node%u", cluster, node);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/*
 * Whether a domain of that name exists that is not this cluster's: not an
 * om domain, another relay's, or a defined one (ours are transient).
 */
static bool name_taken(const char *name, const char *relay_dir)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);
	struct omv_meta m;
	bool om, taken;

	if (!dom)
		return false;
	om = omv_meta_of_domain(dom, &m) == 0;
	taken = !om || strcmp(m.relay_dir, relay_dir) != 0 || virDomainIsPersistent(dom) == 1;
	if (taken && !om)
		om_error("libvirt already has a domain %s, not an om domain: use another cluster name (-c)",
			 name);
	else if (taken)
		om_error("libvirt already has a domain %s, of the relay in %s: use another cluster name (-c)",
			 name, m.relay_dir);
	virDomainFree(dom);
	return taken;
}

int om_lv_boot(const struct om_cluster_state *st, const struct om_artifacts *art,
	       const struct om_node_state *n, const char *relay_dir)
{
	char console[PATH_MAX], agent[PATH_MAX];
	struct om_vdomain d = {
		.name = n->domain,
		.node = n->node,
		.mem_mib = st->mem_mib,
		.vcpus = st->cpus,
		.kvm = st->accel == OM_ACCEL_KVM,
		.emulator = art->qemu,
		.kernel = art->kernel,
		.initrd = art->initrd,
		.append = st->append[0] ? st->append : NULL,
		.relay_dir = relay_dir,
		.agent_socket = agent,
		.console_log = console,
		.cpu_model = n->cpu_model[0] ? n->cpu_model : NULL,
		.firmware = { art->firmware[0][0] ? art->firmware[0] : NULL,
			      art->firmware[1][0] ? art->firmware[1] : NULL },
	};
	struct om_guest g;
	virDomainPtr dom;
	char *xml;
	int err;

	/* The files a QEMU of ours has: om_wait_ready, status, exec and console read them. */
	om_node_guest(n, &g);
	if (om_guest_path(&g, OM_GUEST_CONSOLE, console, sizeof(console)) ||
	    om_guest_path(&g, OM_GUEST_AGENT, agent, sizeof(agent))) {
		om_error("node %u: the path of its directory is too long", n->node);
		return -ENAMETOOLONG;
	}
	if (name_taken(n->domain, relay_dir))
		return -EEXIST;
	err = om_vdomain_xml(&d, &xml);
	if (err) {
		om_error("node %u: no domain XML for it: %s", n->node,
			 err == -ENAMETOOLONG ? "its relay socket's path is too long; use a shorter --run-dir" :
						strerror(-err));
		return err;
	}
	/* Transient: it lives as long as its guest, as a QEMU of ours would. */
	dom = virDomainCreateXML(conn, xml, VIR_DOMAIN_START_VALIDATE);
	free(xml);
	if (!dom) {
		om_error("node %u: libvirt did not start domain %s: %s", n->node, n->domain,
			 last_error());
		return -EIO;
	}
	virDomainFree(dom);
	return 0;
}

bool om_lv_running(const char *name)
{
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	bool running;

	if (!dom)
		return false;
	running = virDomainIsActive(dom) == 1;
	virDomainFree(dom);
	return running;
}

static int stop_domain(virDomainPtr dom, bool kill, unsigned int timeout_ms)
{
	long long deadline = om_now_ms() + timeout_ms;

	if (virDomainIsActive(dom) != 1)
		return 0;
	if (!kill) {
		/* SIGTERM only; libvirt waits for QEMU a while itself. */
		virDomainDestroyFlags(dom, VIR_DOMAIN_DESTROY_GRACEFUL);
		while (virDomainIsActive(dom) == 1 && om_now_ms() < deadline)
			om_sleep_ms(50);
	}
	if (virDomainIsActive(dom) == 1)
		virDomainDestroy(dom);
	return virDomainIsActive(dom) == 1 ? -EBUSY : 0;
}

int om_lv_stop(const char *name, bool kill, unsigned int timeout_ms)
{
	virDomainPtr dom = conn ? virDomainLookupByName(conn, name) : NULL;
	int r;

	if (!dom)
		return conn ? 0 : -ENOTCONN;
	r = stop_domain(dom, kill, timeout_ms);
	virDomainFree(dom);
	return r;
}

unsigned int om_lv_sweep(const char *relay_dir, unsigned int timeout_ms)
{
	virDomainPtr *doms = NULL;
	unsigned int left = 0;
	int all;

	if (!conn)
		return 0;
	all = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	for (int i = 0; i < all; i++) {
		struct omv_meta m;

		if (!omv_meta_of_domain(doms[i], &m) && strcmp(m.relay_dir, relay_dir) == 0 &&
		    stop_domain(doms[i], false, timeout_ms))
			left++;
		virDomainFree(doms[i]);
	}
	free(doms);
	return left;
}
