// SPDX-License-Identifier: GPL-2.0-only
#include "guest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "agent-proto.h"

static const char *const file_names[] = {
	[OM_GUEST_CONSOLE] = "console.log",
	[OM_GUEST_QEMU_LOG] = "qemu.log",
	[OM_GUEST_AGENT] = "agent.sock",
	[OM_GUEST_AGENT_LOCK] = "agent.lock",
	[OM_GUEST_QMP] = "qmp.sock",
};

int om_guest_path(const struct om_guest *g, enum om_guest_file f, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", g->dir, file_names[f]);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

bool om_cpu_model_valid(const char *model)
{
	size_t n = strlen(model);

	return n >= 1 && n < sizeof(((struct om_guest *)0)->cpu_model) &&
	       strspn(model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,=+-") == n;
}

int om_guest_set_cpu(struct om_guest *g, const char *model)
{
	if (!om_cpu_model_valid(model))
		return -EINVAL;
	snprintf(g->cpu_model, sizeof(g->cpu_model), "%s", model);
	return 0;
}

int om_guest_init(struct om_guest *g, unsigned int node, unsigned int mem_mib,
		  unsigned int cpus, enum om_accel accel, const char *dir, const char *append)
{
	char sock[PATH_MAX];
	int n;

	memset(g, 0, sizeof(*g));
	if (node < 1 || node > OM_MAX_NODES || accel == OM_ACCEL_AUTO)
		return -EINVAL;
	g->node = node;
	g->mem_mib = mem_mib;
	g->cpus = cpus;
	g->accel = accel;
	n = snprintf(g->dir, sizeof(g->dir), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(g->dir))
		return -ENAMETOOLONG;
	n = snprintf(g->append, sizeof(g->append), "%s", append ? append : "");
	if (n < 0 || (size_t)n >= sizeof(g->append))
		return -E2BIG;
	/* Unix socket paths must fit sun_path, or QEMU fails late and obscurely. */
	if (om_guest_path(g, OM_GUEST_AGENT, sock, sizeof(sock)) ||
	    strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int add_device(struct om_guest *g, enum om_guest_backend kind, const char *backend,
		      const char *device)
{
	struct om_guest_device *d;

	if (g->n_devices == OM_GUEST_MAX_DEVICES)
		return -ENOSPC;
	d = &g->devices[g->n_devices];
	d->backend_kind = backend ? kind : OM_BACKEND_NONE;
	if ((size_t)snprintf(d->backend, sizeof(d->backend), "%s", backend ? backend : "") >=
		    sizeof(d->backend) ||
	    (size_t)snprintf(d->device, sizeof(d->device), "%s", device) >= sizeof(d->device))
		return -E2BIG;
	g->n_devices++;
	return 0;
}

int om_guest_add_device(struct om_guest *g, const char *chardev, const char *device)
{
	return add_device(g, OM_BACKEND_CHARDEV, chardev, device);
}

int om_guest_add_net_device(struct om_guest *g, const char *netdev, const char *device)
{
	return add_device(g, OM_BACKEND_NETDEV, netdev, device);
}

/* dir/NAMEn.sock, a unix socket's path: 0 when it fits sun_path with its NUL. */
static int socket_path(char *out, size_t cap, const char *dir, const char *name, unsigned int n)
{
	int len = snprintf(out, cap, "%s/%s%u.sock", dir, name, n);

	if (len < 0 || (size_t)len >= cap ||
	    (size_t)len >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int om_guest_add_om_device(struct om_guest *g, const char *relay_dir)
{
	char sock[PATH_MAX], chardev[PATH_MAX + 64];
	int err = socket_path(sock, sizeof(sock), relay_dir, "node-", g->node);

	if (err)
		return err;
	snprintf(chardev, sizeof(chardev), "socket,id=om,path=%s,reconnect=1", sock);
	return om_guest_add_device(g, chardev, "vhost-user-om-pci,chardev=om");
}

void om_net_link_mac(unsigned int node, unsigned int peer, char out[18])
{
	snprintf(out, 18, "52:54:00:77:%02x:%02x", node & 0xff, peer & 0xff);
}

int om_guest_add_net_link(struct om_guest *g, unsigned int peer, const char *peer_dir)
{
	char local[PATH_MAX], remote[PATH_MAX], netdev[2 * PATH_MAX + 128], device[128], mac[18];
	int err;

	if (peer < 1 || peer > OM_MAX_NODES || peer == g->node)
		return -EINVAL;
	/* QEMU 7.2 reports an over-long path but goes on with a truncated one. */
	err = socket_path(local, sizeof(local), g->dir, "net-", peer);
	if (!err)
		err = socket_path(remote, sizeof(remote), peer_dir, "net-", g->node);
	if (err)
		return err;
	snprintf(netdev, sizeof(netdev),
		 "dgram,id=link%u,local.type=unix,local.path=%s,remote.type=unix,remote.path=%s",
		 peer, local, remote);
	om_net_link_mac(g->node, peer, mac);
	/* romfile=: no PXE option ROM; guests boot their kernel directly. */
	snprintf(device, sizeof(device), "virtio-net-pci,netdev=link%u,mac=%s,romfile=", peer, mac);
	return om_guest_add_net_device(g, netdev, device);
}

static int push(struct om_argv *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->argc + 1 >= OM_GUEST_MAX_ARGV)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(a->buf + a->used, sizeof(a->buf) - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(a->buf) - a->used)
		return -E2BIG;
	a->argv[a->argc++] = a->buf + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

#define PUSH(...)                                  \
	do {                                       \
		int err_ = push(out, __VA_ARGS__); \
		if (err_)                          \
			return err_;               \
	} while (0)

int om_guest_qemu_argv(const struct om_guest *g, const struct om_artifacts *art,
		       struct om_argv *out)
{
	char console[PATH_MAX], agent[PATH_MAX], qmp[PATH_MAX];
	bool kvm = g->accel == OM_ACCEL_KVM;

	out->argc = 0;
	out->used = 0;
	out->argv[0] = NULL;
	if (om_guest_path(g, OM_GUEST_CONSOLE, console, sizeof(console)) ||
	    om_guest_path(g, OM_GUEST_AGENT, agent, sizeof(agent)) ||
	    om_guest_path(g, OM_GUEST_QMP, qmp, sizeof(qmp)))
		return -ENAMETOOLONG;

	PUSH("%s", art->qemu);
	PUSH("-name");
	PUSH("om-node%u,process=om-node%u", g->node, g->node);
	PUSH("-nodefaults");
	PUSH("-no-user-config");
	PUSH("-display");
	PUSH("none");
	PUSH("-accel");
	PUSH("%s", kvm ? "kvm" : "tcg");
	PUSH("-cpu");
	/*
	 * KVM: 7.2 asserts on the host's arch-capabilities MSR on some hosts.
	 * TCG: without ERMS, since TCG runs a `rep movsb` one byte a loop (the
	 * kernel's copies to and from user memory, its page clearing and
	 * glibc's memcpy take it when offered): docs/benchmarks.md, "CPU model".
	 */
	PUSH("%s", g->cpu_model[0] ? g->cpu_model :
		   kvm ? "host,-arch-capabilities" : OM_GUEST_TCG_CPU);
	PUSH("-smp");
	PUSH("%u", g->cpus);
	PUSH("-m");
	PUSH("%u", g->mem_mib);
	/* Shared memory from the start: vhost-user back-ends map guest RAM. */
	PUSH("-object");
	PUSH("memory-backend-memfd,id=ram,size=%uM,share=on", g->mem_mib);
	PUSH("-machine");
	PUSH("pc,memory-backend=ram");
	for (size_t i = 0; i < 2; i++) {
		if (!art->firmware[i][0])
			continue;
		PUSH("-L");
		PUSH("%s", art->firmware[i]);
	}
	PUSH("-kernel");
	PUSH("%s", art->kernel);
	PUSH("-initrd");
	PUSH("%s", art->initrd);
	PUSH("-append");
	PUSH("console=ttyS0 loglevel=4 panic=-1 om.node=%u%s%s%s", g->node,
	     g->probe ? " om.probe=1" : "", g->append[0] ? " " : "", g->append);
	/* A panic (panic=-1 reboots) or a guest poweroff ends QEMU. */
	PUSH("-no-reboot");
	PUSH("-chardev");
	PUSH("file,id=console,path=%s", console);
	PUSH("-serial");
	PUSH("chardev:console");
	if (!g->probe) {
		PUSH("-qmp");
		PUSH("unix:%s,server=on,wait=off", qmp);
		PUSH("-device");
		PUSH("virtio-serial-pci,id=vser0");
		PUSH("-chardev");
		PUSH("socket,id=agent,path=%s,server=on,wait=off", agent);
		PUSH("-device");
		PUSH("virtserialport,bus=vser0.0,chardev=agent,name=%s", OMA_PORT_NAME);
	}
	for (unsigned int i = 0; i < g->n_devices; i++) {
		if (g->devices[i].backend_kind != OM_BACKEND_NONE) {
			PUSH("%s", g->devices[i].backend_kind == OM_BACKEND_NETDEV ? "-netdev" :
										 "-chardev");
			PUSH("%s", g->devices[i].backend);
		}
		PUSH("-device");
		PUSH("%s", g->devices[i].device);
	}
	return 0;
}
