// SPDX-License-Identifier: GPL-2.0-only
/* The cluster state file: round trip, and refusal of anything malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static struct om_cluster_state st_unused;

static int parse_text(const char *text, struct om_cluster_state *st, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = om_state_parse(f, st, err, errlen);
	fclose(f);
	return r;
}

static void round_trip(void **state)
{
	static struct om_cluster_state a, b;
	char dir[] = "/tmp/om-state-XXXXXX", err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a.name, sizeof(a.name), "ci");
	snprintf(a.dir, sizeof(a.dir), "%s", dir);
	a.accel = OM_ACCEL_TCG;
	snprintf(a.accel_reason, sizeof(a.accel_reason), "a probe boot under KVM did not reach userland in 15 s");
	a.created = 1795519572;
	a.mem_mib = 512;
	a.cpus = 2;
	snprintf(a.kernel, sizeof(a.kernel), "/b/guest-kernel/bzImage");
	snprintf(a.initrd, sizeof(a.initrd), "/b/guest image/initramfs.cpio.gz");
	snprintf(a.qemu, sizeof(a.qemu), "/b/qemu-patches/qemu-system-x86_64");
	snprintf(a.omhostd, sizeof(a.omhostd), "/b/host/omhostd/omhostd");
	snprintf(a.append, sizeof(a.append), "quiet  om.debug=1 rdinit=/sbin/init ");
	a.net = true;
	a.relay.pid = 4242;
	a.relay.start = 987654321012ull;
	snprintf(a.cgroup, sizeof(a.cgroup), "/sys/fs/cgroup/omcluster.t.0badf00d");
	a.n_nodes = 3;
	for (unsigned int i = 0; i < 3; i++) {
		a.nodes[i].node = i + 1;
		a.nodes[i].qemu.pid = 1000 + (pid_t)i;
		a.nodes[i].qemu.start = 123456789ull + i;
		snprintf(a.nodes[i].dir, sizeof(a.nodes[i].dir), "%s/node %u", dir, i + 1);
	}
	snprintf(a.nodes[1].cpu_model, sizeof(a.nodes[1].cpu_model), "qemu64");
	assert_int_equal(om_state_save(&a), 0);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), 0);
	assert_string_equal(b.name, "ci");
	assert_string_equal(b.nodes[0].cpu_model, "");
	assert_string_equal(b.nodes[1].cpu_model, "qemu64");
	assert_string_equal(b.nodes[2].cpu_model, "");
	assert_string_equal(b.dir, dir);
	assert_int_equal(b.accel, OM_ACCEL_TCG);
	assert_string_equal(b.accel_reason, a.accel_reason);
	assert_int_equal(b.created, a.created);
	assert_int_equal(b.mem_mib, 512);
	assert_int_equal(b.cpus, 2);
	/* What start and relay start need to do again what up did. */
	assert_string_equal(b.kernel, a.kernel);
	assert_string_equal(b.initrd, a.initrd);
	assert_string_equal(b.qemu, a.qemu);
	assert_string_equal(b.omhostd, a.omhostd);
	assert_string_equal(b.append, a.append); /* spaces kept as they were */
	assert_true(b.net);
	assert_int_equal(b.relay.pid, 4242);
	assert_int_equal(b.relay.start, 987654321012ull);
	assert_string_equal(b.cgroup, a.cgroup);
	assert_int_equal(b.n_nodes, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(b.nodes[i].node, i + 1);
		assert_int_equal(b.nodes[i].qemu.pid, 1000 + (int)i);
		assert_int_equal(b.nodes[i].qemu.start, 123456789ull + i);
		/* A directory with a space survives. */
		assert_string_equal(b.nodes[i].dir, a.nodes[i].dir);
	}
	assert_non_null(om_state_node(&b, 2));
	assert_null(om_state_node(&b, 4));

	char path[PATH_MAX + 20];

	snprintf(path, sizeof(path), "%s/cluster.state", dir);
	unlink(path);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), -ENOENT);

	/* Without a relay, --append or --net, their lines are absent, and read back as such. */
	a.relay.pid = 0;
	a.relay.start = 0;
	a.append[0] = '\0';
	a.net = false;
	assert_int_equal(om_state_save(&a), 0);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), 0);
	assert_int_equal(b.relay.pid, 0);
	assert_string_equal(b.append, "");
	assert_false(b.net);
	assert_string_equal(b.omhostd, a.omhostd);

	/* A value with a newline could not be read back: refused, nothing written. */
	snprintf(a.append, sizeof(a.append), "quiet\nrelay 1 2");
	assert_int_equal(om_state_save(&a), -EINVAL);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), 0);
	assert_int_equal(b.relay.pid, 0);
	assert_string_equal(b.append, "");
	/* So could a CPU model that is not one: refused as well. */
	a.append[0] = '\0';
	snprintf(a.nodes[2].cpu_model, sizeof(a.nodes[2].cpu_model), "max\nrelay 1 2");
	assert_int_equal(om_state_save(&a), -EINVAL);
	snprintf(a.nodes[2].cpu_model, sizeof(a.nodes[2].cpu_model), "max -S");
	assert_int_equal(om_state_save(&a), -EINVAL);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), 0);
	assert_string_equal(b.nodes[2].cpu_model, "");
	unlink(path);
	rmdir(dir);
}

static void written_relay_line(void **state)
{
	static struct om_cluster_state st;
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	snprintf(st.name, sizeof(st.name), "x");
	snprintf(st.dir, sizeof(st.dir), "/d");
	st.accel = OM_ACCEL_KVM;
	st.relay.pid = 77;
	st.relay.start = 1234;
	assert_int_equal(om_state_write(f, &st), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\nrelay 77 1234\n"));
	/* Nothing up did not record is written. */
	assert_null(strstr(buf, "append"));
	assert_null(strstr(buf, "kernel"));
	assert_null(strstr(buf, "net"));
}

static void net_line(void **state)
{
	static struct om_cluster_state st;
	static const char *const bad_lines[] = {
		"net ",		/* empty */
		"net star",	/* no such topology */
		"net mesh ",
		"net Mesh",
		"net mesh\nnet mesh", /* listed twice */
	};
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char err[256], text[1024], buf[4096] = "";
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, bad_lines[i]);
		if (parse_text(text, &st, err, sizeof(err)) != -EBADMSG)
			fail_msg("accepted '%s'", bad_lines[i]);
	}
	snprintf(text, sizeof(text), "%snet mesh\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_true(st.net);
	/* Written as read. */
	f = fmemopen(buf, sizeof(buf) - 1, "w");
	assert_non_null(f);
	assert_int_equal(om_state_write(f, &st), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\nnet mesh\n"));
}

static void refuses_malformed(void **state)
{
	static struct om_cluster_state st;
	char err[256];
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char text[1024];

	(void)state;
	assert_int_equal(parse_text("", &st, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_text("omcluster-state 2\n", &st, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_text("omcluster-state 1\nname x\n", &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "incomplete"));
	snprintf(text, sizeof(text), "%saccel xen\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 5"));
	snprintf(text, sizeof(text), "%snode 1 12 34 relative/dir\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 0 12 34 /d/n\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 1 -5 34 /d/n\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode 1 13 35 /d/n2\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "twice"));
	snprintf(text, sizeof(text), "%swhat ever\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unknown key"));
	snprintf(text, sizeof(text), "%snode-cpu 1 qemu64\nnode 1 12 34 /d/n1\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "node-cpu for node 1, not listed before"));
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode-cpu 1 qemu64 -S\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "node-cpu model 'qemu64 -S'"));
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode-cpu 1 qemu64\nnode-cpu 1 max\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 7: node-cpu for node 1 listed twice");
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode-cpu +1 qemu64\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "node-cpu entry '+1 qemu64' (want: NODE MODEL)"));
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode-cpu 1\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "node-cpu entry '1' (want: NODE MODEL)"));
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode-cpu 1 qemu64\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_string_equal(st.nodes[0].cpu_model, "qemu64");
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1", head); /* no newline: truncated */
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_int_equal(st.n_nodes, 1);
	assert_int_equal(st.relay.pid, 0);
}

static void refuses_malformed_relay(void **state)
{
	static struct om_cluster_state st;
	static const char *const bad_relays[] = {
		"relay",		/* no value at all */
		"relay ",		/* empty */
		"relay 12",		/* no start time */
		"relay 12 ",		/* no start time, trailing blank */
		"relay 12 34 ",		/* trailing blank */
		"relay 12 34 56",	/* a field too many */
		"relay 12  34",		/* two blanks */
		"relay  12 34",		/* leading blank */
		"relay 0 34",		/* pid 0 is not a process */
		"relay -12 34",
		"relay +12 34",
		"relay 12 -34",
		"relay 12x 34",
		"relay 12 34x",
		"relay 0x1f 34",
		"relay 2147483648 34",	/* beyond pid_t */
		"relay 12 18446744073709551616", /* beyond 64 bits */
	};
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char err[256], text[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_relays) / sizeof(bad_relays[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, bad_relays[i]);
		err[0] = '\0';
		if (parse_text(text, &st, err, sizeof(err)) != -EBADMSG)
			fail_msg("accepted '%s'", bad_relays[i]);
		assert_non_null(strstr(err, "line 5"));
	}
	snprintf(text, sizeof(text), "%srelay 12 34\nrelay 13 35\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 6: relay listed twice"));

	/* The largest values that fit are taken. */
	snprintf(text, sizeof(text), "%srelay 2147483647 18446744073709551615\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_int_equal(st.relay.pid, 2147483647);
	assert_true(st.relay.start == 18446744073709551615ull);
	snprintf(text, sizeof(text), "%srelay 9 0\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_int_equal(st.relay.pid, 9);
	assert_true(st.relay.start == 0);
}

/* up --hosts: how many, and a relay per host, read back; malformed ones refused with their line. */
static void hosts_lines(void **state)
{
	static struct om_cluster_state st, back;
	static const struct {
		const char *lines, *why;
	} bad[] = {
		{ "hosts 1", "line 5: hosts '1' (want: 2-8)" },
		{ "hosts 9", "line 5: hosts '9' (want: 2-8)" },
		{ "hosts 2\nhosts 3", "line 6: hosts listed twice" },
		{ "host-relay 1 12 34", "line 5: host-relay entry '1 12 34' (want: HOST PID START, HOST of 1-0)" },
		{ "hosts 2\nhost-relay 3 12 34", "line 6: host-relay entry '3 12 34' (want: HOST PID START, HOST of 1-2)" },
		{ "hosts 2\nhost-relay 0 12 34", "line 6: host-relay entry '0 12 34' (want: HOST PID START, HOST of 1-2)" },
		{ "hosts 2\nhost-relay 1 0 34", "line 6: host-relay entry '1 0 34' (want: HOST PID START)" },
		{ "hosts 2\nhost-relay 1 12", "line 6: host-relay entry '1 12' (want: HOST PID START)" },
		{ "hosts 2\nhost-relay 1 12 34\nhost-relay 1 13 35", "line 7: host-relay for host 1 listed twice" },
		{ "relay 5 6\nhosts 2", "line 6: relay and hosts together: a cluster across hosts has a relay per host" },
	};
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char buf[4096] = "", err[256], text[1024];
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	snprintf(st.name, sizeof(st.name), "x");
	snprintf(st.dir, sizeof(st.dir), "/d");
	st.mem_mib = 512;
	st.cpus = 1;
	st.hosts = 3;
	st.host_relay[0] = (struct om_proc_id){ .pid = 71, .start = 1 };
	st.host_relay[2] = (struct om_proc_id){ .pid = 73, .start = 3 };
	assert_int_equal(om_state_write(f, &st), 0);
	fclose(f);
	/* Host 2's relay not started: no line. */
	assert_non_null(strstr(buf, "\nhosts 3\nhost-relay 1 71 1\nhost-relay 3 73 3\n"));
	assert_null(strstr(buf, "host-relay 2"));
	assert_null(strstr(buf, "\nrelay "));
	if (parse_text(buf, &back, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(back.hosts, 3);
	assert_int_equal(back.host_relay[0].pid, 71);
	assert_int_equal(back.host_relay[1].pid, 0);
	assert_int_equal(back.host_relay[2].pid, 73);
	assert_true(back.host_relay[2].start == 3);
	assert_int_equal(back.relay.pid, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, bad[i].lines);
		err[0] = '\0';
		if (parse_text(text, &back, err, sizeof(err)) != -EBADMSG)
			fail_msg("accepted '%s'", bad[i].lines);
		assert_string_equal(err, bad[i].why);
	}
}

static void refuses_malformed_artifacts(void **state)
{
	static struct om_cluster_state st;
	static const char *const bad_lines[] = {
		"kernel relative/bzImage", /* later commands run from anywhere */
		"initrd ",
		"qemu qemu-system-x86_64",
		"omhostd ./omhostd",
		"append ",
		"kernel /a\nkernel /b", /* listed twice */
		"omhostd /a\nomhostd /b",
		"append x\nappend y",
	};
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char err[256], text[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, bad_lines[i]);
		if (parse_text(text, &st, err, sizeof(err)) != -EBADMSG)
			fail_msg("accepted '%s'", bad_lines[i]);
	}
	snprintf(text, sizeof(text),
		 "%skernel /k\ninitrd /i\nqemu /q\nomhostd /o\nappend a b\n", head);
	assert_int_equal(parse_text(text, &st, err, sizeof(err)), 0);
	assert_string_equal(st.kernel, "/k");
	assert_string_equal(st.initrd, "/i");
	assert_string_equal(st.qemu, "/q");
	assert_string_equal(st.omhostd, "/o");
	assert_string_equal(st.append, "a b");
}

/* up --libvirt: the URI, QEMU's user and each node's domain, read back. */
static void libvirt_lines(void **state)
{
	static struct om_cluster_state a, b;
	char dir[] = "/tmp/om-state-XXXXXX", err[256], path[PATH_MAX];
	const char *head = "omcluster-state 1\nname x\ndir /d\naccel tcg\n";
	char text[1024];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a.name, sizeof(a.name), "lv");
	snprintf(a.dir, sizeof(a.dir), "%s", dir);
	a.accel = OM_ACCEL_TCG;
	a.mem_mib = 512;
	a.cpus = 1;
	snprintf(a.libvirt_uri, sizeof(a.libvirt_uri), "qemu+unix:///session?socket=/t/s");
	a.qemu_user_set = true;
	a.qemu_user = (struct om_qemu_user){ .uid = 65534, .gid = 65533 };
	a.n_nodes = 2;
	for (unsigned int i = 0; i < 2; i++) {
		a.nodes[i].node = i + 1;
		snprintf(a.nodes[i].dir, sizeof(a.nodes[i].dir), "%s/node%u", dir, i + 1);
		snprintf(a.nodes[i].domain, sizeof(a.nodes[i].domain), "omc-lv-node%u", i + 1);
	}
	assert_int_equal(om_state_save(&a), 0);
	assert_int_equal(om_state_load(dir, &b, err, sizeof(err)), 0);
	assert_string_equal(b.libvirt_uri, "qemu+unix:///session?socket=/t/s");
	assert_true(b.qemu_user_set);
	assert_int_equal(b.qemu_user.uid, 65534);
	assert_int_equal(b.qemu_user.gid, 65533);
	assert_string_equal(b.nodes[1].domain, "omc-lv-node2");
	assert_int_equal(b.nodes[1].qemu.pid, 0);
	/* Nothing a state write could not read back. */
	snprintf(a.nodes[0].domain, sizeof(a.nodes[0].domain), "omc lv");
	assert_int_equal(om_state_save(&a), -EINVAL);
	snprintf(a.nodes[0].domain, sizeof(a.nodes[0].domain), "omc-lv-node1");
	snprintf(a.libvirt_uri, sizeof(a.libvirt_uri), "qemu:///a b");
	assert_int_equal(om_state_save(&a), -EINVAL);
	snprintf(path, sizeof(path), "%s/cluster.state", dir);
	unlink(path);
	rmdir(dir);

	snprintf(text, sizeof(text), "%slibvirt qemu:///system\nlibvirt qemu:///session\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 6: libvirt listed twice");
	snprintf(text, sizeof(text), "%slibvirt qemu:///system\nnode 1 0 0 /d/n1\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 6: node 1 of a libvirt cluster has no node-domain");
	snprintf(text, sizeof(text), "%snode 1 12 34 /d/n1\nnode-domain 1 omc-x-node1\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 6: node-domain for node 1 of a cluster without libvirt");
	snprintf(text, sizeof(text), "%slibvirt qemu:///system\nnode-domain 1 omc-x-node1\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 6: node-domain for node 1, not listed before");
	snprintf(text, sizeof(text),
		 "%slibvirt qemu:///system\nnode 1 0 0 /d/n1\nnode-domain 1 a/b\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 7: node-domain name 'a/b'");
	snprintf(text, sizeof(text),
		 "%slibvirt qemu:///system\nnode 1 0 0 /d/n1\nnode-domain 1 a\nnode-domain 1 b\n",
		 head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 8: node-domain for node 1 listed twice");
	snprintf(text, sizeof(text), "%sqemu-user 65534\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 5: qemu-user '65534' (want: UID GID)");
	snprintf(text, sizeof(text), "%sqemu-user 1 -2\n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 5: qemu-user '1 -2' (want: UID GID)");
	snprintf(text, sizeof(text), "%slibvirt \n", head);
	assert_int_equal(parse_text(text, &st_unused, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "line 5: libvirt URI ''");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refuses_malformed),
		cmocka_unit_test(written_relay_line),
		cmocka_unit_test(refuses_malformed_relay),
		cmocka_unit_test(hosts_lines),
		cmocka_unit_test(refuses_malformed_artifacts),
		cmocka_unit_test(net_line),
		cmocka_unit_test(libvirt_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
