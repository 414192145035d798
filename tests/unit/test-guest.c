// SPDX-License-Identifier: GPL-2.0-only
/* The guest description and the QEMU command line made from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "agent-proto.h"
#include "guest.h"

static struct om_artifacts art = {
	.qemu = "/b/qemu-system-x86_64",
	.kernel = "/b/bzImage",
	.initrd = "/b/initramfs.cpio.gz",
	.firmware = { "/usr/share/seabios", "/usr/share/qemu" },
};

/* The value following option `opt` (the n-th occurrence), or NULL. */
static const char *option(const struct om_argv *a, const char *opt, int n)
{
	for (size_t i = 0; i + 1 < a->argc; i++)
		if (strcmp(a->argv[i], opt) == 0 && n-- == 0)
			return a->argv[i + 1];
	return NULL;
}

static bool has_value(const struct om_argv *a, const char *opt, const char *needle)
{
	for (int n = 0; option(a, opt, n); n++)
		if (strstr(option(a, opt, n), needle))
			return true;
	return false;
}

static void tcg_guest_argv(void **state)
{
	static struct om_argv a;
	struct om_guest g;

	(void)state;
	assert_int_equal(om_guest_init(&g, 2, 512, 1, OM_ACCEL_TCG, "/run/omcluster/t/node2", NULL), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_string_equal(a.argv[0], art.qemu);
	assert_null(a.argv[a.argc]);
	assert_string_equal(option(&a, "-accel", 0), "tcg");
	assert_string_equal(option(&a, "-cpu", 0), "max,-erms");
	assert_string_equal(option(&a, "-m", 0), "512");
	assert_string_equal(option(&a, "-smp", 0), "1");
	assert_string_equal(option(&a, "-kernel", 0), art.kernel);
	assert_string_equal(option(&a, "-initrd", 0), art.initrd);
	assert_string_equal(option(&a, "-L", 0), "/usr/share/seabios");
	assert_string_equal(option(&a, "-L", 1), "/usr/share/qemu");
	/* The node identity reaches the guest, and a panic ends QEMU. */
	assert_non_null(strstr(option(&a, "-append", 0), "om.node=2"));
	assert_non_null(strstr(option(&a, "-append", 0), "panic=-1"));
	assert_null(strstr(option(&a, "-append", 0), "om.probe"));
	/* Guest RAM is shareable with vhost-user back-ends. */
	assert_true(has_value(&a, "-object", "memory-backend-memfd,id=ram,size=512M,share=on"));
	assert_true(has_value(&a, "-chardev", "file,id=console,path=/run/omcluster/t/node2/console.log"));
	assert_true(has_value(&a, "-chardev", "path=/run/omcluster/t/node2/agent.sock,server=on,wait=off"));
	assert_true(has_value(&a, "-device", "name=" OMA_PORT_NAME));
	assert_true(has_value(&a, "-qmp", "/run/omcluster/t/node2/qmp.sock"));
}

static void kvm_and_append(void **state)
{
	static struct om_argv a;
	struct om_guest g;

	(void)state;
	assert_int_equal(om_guest_init(&g, 7, 2048, 4, OM_ACCEL_KVM, "/d", "quiet om.x=1"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_string_equal(option(&a, "-accel", 0), "kvm");
	assert_string_equal(option(&a, "-cpu", 0), "host,-arch-capabilities");
	assert_string_equal(option(&a, "-smp", 0), "4");
	assert_non_null(strstr(option(&a, "-append", 0), "om.node=7 quiet om.x=1"));
}

/* A node on a CPU model of its own, under TCG or KVM alike. */
static void cpu_model(void **state)
{
	static struct om_argv a;
	struct om_guest g;

	(void)state;
	assert_int_equal(om_guest_init(&g, 3, 512, 1, OM_ACCEL_TCG, "/d", NULL), 0);
	assert_int_equal(om_guest_set_cpu(&g, "qemu64"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_string_equal(option(&a, "-cpu", 0), "qemu64");
	assert_null(option(&a, "-cpu", 1));
	assert_int_equal(om_guest_init(&g, 3, 512, 1, OM_ACCEL_KVM, "/d", NULL), 0);
	assert_int_equal(om_guest_set_cpu(&g, "Nehalem,-sse4.2"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_string_equal(option(&a, "-cpu", 0), "Nehalem,-sse4.2");
	/* Nothing that could be another argument or too long for QEMU's name. */
	assert_int_equal(om_guest_set_cpu(&g, ""), -EINVAL);
	assert_int_equal(om_guest_set_cpu(&g, "qemu64 -S"), -EINVAL);
	assert_int_equal(om_guest_set_cpu(&g, "a\nb"), -EINVAL);
	assert_int_equal(om_guest_set_cpu(&g,
		"a123456789012345678901234567890123456789012345678901234567890123"), -EINVAL);
	assert_string_equal(g.cpu_model, "Nehalem,-sse4.2");
}

static void probe_guest_has_no_agent(void **state)
{
	static struct om_argv a;
	struct om_guest g;

	(void)state;
	assert_int_equal(om_guest_init(&g, 1, 256, 1, OM_ACCEL_KVM, "/p", NULL), 0);
	g.probe = true;
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_non_null(strstr(option(&a, "-append", 0), "om.probe=1"));
	assert_false(has_value(&a, "-device", "virtserialport"));
}

static void devices_are_appended(void **state)
{
	static struct om_argv a;
	struct om_guest g;

	(void)state;
	assert_int_equal(om_guest_init(&g, 1, 256, 1, OM_ACCEL_TCG, "/d", NULL), 0);
	assert_int_equal(om_guest_add_device(&g, "socket,id=om,path=/h/om.sock", "vhost-user-om-pci,chardev=om"), 0);
	assert_int_equal(om_guest_add_device(&g, NULL, "virtio-rng-pci"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_true(has_value(&a, "-chardev", "socket,id=om,path=/h/om.sock"));
	assert_true(has_value(&a, "-device", "vhost-user-om-pci,chardev=om"));
	assert_true(has_value(&a, "-device", "virtio-rng-pci"));
	for (int i = 2; i < OM_GUEST_MAX_DEVICES; i++)
		assert_int_equal(om_guest_add_device(&g, NULL, "x"), 0);
	assert_int_equal(om_guest_add_device(&g, NULL, "one-too-many"), -ENOSPC);
}

/* The value of the -chardev whose id= is id, or NULL. */
static const char *chardev(const struct om_argv *a, const char *id)
{
	char want[32];

	snprintf(want, sizeof(want), ",id=%s,", id);
	for (int n = 0; option(a, "-chardev", n); n++)
		if (strstr(option(a, "-chardev", n), want))
			return option(a, "-chardev", n);
	return NULL;
}

static void om_device_connects_to_the_relay(void **state)
{
	static struct om_argv a;
	struct om_guest g;
	int devices = 0;

	(void)state;
	assert_int_equal(om_guest_init(&g, 2, 512, 1, OM_ACCEL_TCG, "/run/omcluster/t/node2", NULL), 0);
	assert_int_equal(om_guest_add_om_device(&g, "/run/omcluster/t/relay"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	/* Its own node's socket, reconnecting when the relay restarts. */
	assert_non_null(chardev(&a, "om"));
	assert_string_equal(chardev(&a, "om"),
			    "socket,id=om,path=/run/omcluster/t/relay/node-2.sock,reconnect=1");
	for (int n = 0; option(&a, "-device", n); n++)
		devices += strcmp(option(&a, "-device", n), "vhost-user-om-pci,chardev=om") == 0;
	assert_int_equal(devices, 1);
	/* The chardev comes before the device that names it. */
	size_t at_chardev = a.argc, at_device = a.argc;

	for (size_t i = 0; i < a.argc; i++) {
		if (strncmp(a.argv[i], "socket,id=om,", 13) == 0)
			at_chardev = i;
		if (strcmp(a.argv[i], "vhost-user-om-pci,chardev=om") == 0)
			at_device = i;
	}
	assert_true(at_chardev < at_device);
	assert_true(at_device < a.argc);
	/* Guest RAM is shared, as the vhost-user back-end needs. */
	assert_true(has_value(&a, "-object", "share=on"));

	/* Another node, another socket. */
	assert_int_equal(om_guest_init(&g, 17, 512, 1, OM_ACCEL_TCG, "/c/node17", NULL), 0);
	assert_int_equal(om_guest_add_om_device(&g, "/c/relay"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	assert_string_equal(chardev(&a, "om"), "socket,id=om,path=/c/relay/node-17.sock,reconnect=1");
}

static void om_device_socket_must_fit(void **state)
{
	struct sockaddr_un sa;
	char relay[sizeof(sa.sun_path) + 8];
	struct om_guest g;
	size_t fits;

	(void)state;
	assert_int_equal(om_guest_init(&g, 1, 256, 1, OM_ACCEL_TCG, "/d", NULL), 0);
	/* "/node-1.sock" is 12 characters: the longest relay dir that fits leaves the NUL. */
	fits = sizeof(sa.sun_path) - 1 - strlen("/node-1.sock");
	memset(relay, 'r', sizeof(relay));
	relay[0] = '/';
	relay[fits] = '\0';
	assert_int_equal(om_guest_add_om_device(&g, relay), 0);
	assert_int_equal(g.n_devices, 1);
	relay[fits] = 'r';
	relay[fits + 1] = '\0';
	assert_int_equal(om_guest_add_om_device(&g, relay), -ENAMETOOLONG);
	assert_int_equal(g.n_devices, 1); /* nothing half-added */
	/* Node 10's socket name is one longer: the same dir no longer fits. */
	relay[fits] = '\0';
	assert_int_equal(om_guest_init(&g, 10, 256, 1, OM_ACCEL_TCG, "/d", NULL), 0);
	assert_int_equal(om_guest_add_om_device(&g, relay), -ENAMETOOLONG);
	assert_int_equal(g.n_devices, 0);
}

static void net_link_reaches_the_peer(void **state)
{
	static struct om_argv a;
	struct om_guest g;
	size_t at_netdev = 0, at_device = 0;
	char mac[18];

	(void)state;
	assert_int_equal(om_guest_init(&g, 1, 512, 1, OM_ACCEL_TCG, "/c/node1", NULL), 0);
	assert_int_equal(om_guest_add_om_device(&g, "/c/relay"), 0);
	assert_int_equal(om_guest_add_net_link(&g, 2, "/c/node2"), 0);
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	/* This end binds its own socket and sends to the one the peer binds. */
	assert_string_equal(option(&a, "-netdev", 0),
			    "dgram,id=link2,local.type=unix,local.path=/c/node1/net-2.sock,"
			    "remote.type=unix,remote.path=/c/node2/net-1.sock");
	/* The MAC names node and peer: the guest's init reads it. */
	assert_true(has_value(&a, "-device",
			      "virtio-net-pci,netdev=link2,mac=52:54:00:77:01:02,romfile="));
	/* virtio-om is still fed by a chardev, not a netdev. */
	assert_string_equal(chardev(&a, "om"), "socket,id=om,path=/c/relay/node-1.sock,reconnect=1");
	assert_null(option(&a, "-netdev", 1));
	/* The netdev comes before the device that names it. */
	for (size_t i = 0; i < a.argc; i++) {
		if (strncmp(a.argv[i], "dgram,id=link2,", 15) == 0)
			at_netdev = i;
		if (strncmp(a.argv[i], "virtio-net-pci,netdev=link2,", 28) == 0)
			at_device = i;
	}
	assert_true(at_netdev > 0 && at_netdev < at_device);
	assert_string_equal(a.argv[at_netdev - 1], "-netdev");

	/* The peer's end mirrors it; hex in the MAC from node 10 on. */
	om_net_link_mac(2, 1, mac);
	assert_string_equal(mac, "52:54:00:77:02:01");
	om_net_link_mac(12, 64, mac);
	assert_string_equal(mac, "52:54:00:77:0c:40");
}

static void net_links_fill_the_device_list(void **state)
{
	static struct om_argv a;
	struct om_guest g;
	char dir[32];

	(void)state;
	/* A cluster of OM_NET_MAX_NODES: virtio-om and a link to each peer fit. */
	assert_int_equal(om_guest_init(&g, 3, 512, 1, OM_ACCEL_TCG, "/c/node3", NULL), 0);
	assert_int_equal(om_guest_add_om_device(&g, "/c/relay"), 0);
	for (unsigned int peer = 1; peer <= OM_NET_MAX_NODES; peer++) {
		if (peer == 3)
			continue;
		snprintf(dir, sizeof(dir), "/c/node%u", peer);
		assert_int_equal(om_guest_add_net_link(&g, peer, dir), 0);
	}
	assert_int_equal(om_guest_qemu_argv(&g, &art, &a), 0);
	for (int i = 0; i < OM_NET_MAX_NODES - 1; i++)
		assert_non_null(option(&a, "-netdev", i));
	assert_null(option(&a, "-netdev", OM_NET_MAX_NODES - 1));
	assert_true(has_value(&a, "-netdev", "id=link8,local.type=unix,local.path=/c/node3/net-8.sock,"));
	assert_true(has_value(&a, "-device", "netdev=link8,mac=52:54:00:77:03:08,"));
	assert_int_equal(om_guest_add_net_link(&g, 9, "/c/node9"), -ENOSPC);
}

static void net_link_refusals(void **state)
{
	struct sockaddr_un sa;
	char peer_dir[sizeof(sa.sun_path) + 8];
	struct om_guest g;
	size_t fits;

	(void)state;
	assert_int_equal(om_guest_init(&g, 4, 256, 1, OM_ACCEL_TCG, "/c/node4", NULL), 0);
	/* Not to itself, and only to a node. */
	assert_int_equal(om_guest_add_net_link(&g, 4, "/c/node4"), -EINVAL);
	assert_int_equal(om_guest_add_net_link(&g, 0, "/c/node0"), -EINVAL);
	assert_int_equal(om_guest_add_net_link(&g, OM_MAX_NODES + 1, "/c/x"), -EINVAL);
	assert_int_equal(g.n_devices, 0);
	/* The peer's socket, peer_dir/net-4.sock, must fit sun_path too. */
	fits = sizeof(sa.sun_path) - 1 - strlen("/net-4.sock");
	memset(peer_dir, 'p', sizeof(peer_dir));
	peer_dir[0] = '/';
	peer_dir[fits] = '\0';
	assert_int_equal(om_guest_add_net_link(&g, 5, peer_dir), 0);
	peer_dir[fits] = 'p';
	peer_dir[fits + 1] = '\0';
	assert_int_equal(om_guest_add_net_link(&g, 6, peer_dir), -ENAMETOOLONG);
	assert_int_equal(g.n_devices, 1); /* nothing half-added */
}

static void refusals(void **state)
{
	char longdir[200];
	struct om_guest g;

	(void)state;
	assert_int_equal(om_guest_init(&g, 0, 256, 1, OM_ACCEL_TCG, "/d", NULL), -EINVAL);
	assert_int_equal(om_guest_init(&g, OM_MAX_NODES + 1, 256, 1, OM_ACCEL_TCG, "/d", NULL), -EINVAL);
	/* auto must have been resolved before a guest is described */
	assert_int_equal(om_guest_init(&g, 1, 256, 1, OM_ACCEL_AUTO, "/d", NULL), -EINVAL);
	/* A socket path beyond sun_path is refused up front. */
	memset(longdir, 'x', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(om_guest_init(&g, 1, 256, 1, OM_ACCEL_TCG, longdir, NULL), -ENAMETOOLONG);
}

static void paths(void **state)
{
	struct om_guest g;
	char p[PATH_MAX];

	(void)state;
	assert_int_equal(om_guest_init(&g, 3, 256, 1, OM_ACCEL_TCG, "/c/node3", NULL), 0);
	assert_int_equal(om_guest_path(&g, OM_GUEST_AGENT_LOCK, p, sizeof(p)), 0);
	assert_string_equal(p, "/c/node3/agent.lock");
	assert_int_equal(om_guest_path(&g, OM_GUEST_QEMU_LOG, p, 8), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcg_guest_argv),
		cmocka_unit_test(kvm_and_append),
		cmocka_unit_test(cpu_model),
		cmocka_unit_test(probe_guest_has_no_agent),
		cmocka_unit_test(devices_are_appended),
		cmocka_unit_test(om_device_connects_to_the_relay),
		cmocka_unit_test(om_device_socket_must_fit),
		cmocka_unit_test(net_link_reaches_the_peer),
		cmocka_unit_test(net_links_fill_the_device_list),
		cmocka_unit_test(net_link_refusals),
		cmocka_unit_test(refusals),
		cmocka_unit_test(paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
