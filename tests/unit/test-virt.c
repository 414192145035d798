// SPDX-License-Identifier: GPL-2.0-only
/*
 * omvirt without libvirt: its command line, the domain XML it writes (read
 * back element by element), the omvm metadata mark, and the hook's verdict
 * on fake relay directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "agent-channel.h"
#include "args.h"
#include "caps.h"
#include "domain-xml.h"
#include "files.h"
#include "meta.h"
#include "omvirt.h"
#include "relay-check.h"

/* ---- command line ---- */

static int parse(struct omv_args *a, char *err, size_t cap, ...)
{
	char *argv[32] = { "omvirt" };
	int argc = 1;
	va_list ap;

	va_start(ap, cap);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	err[0] = '\0';
	return omv_args_parse(argc, argv, a, err, cap);
}

static void args_define(void **state)
{
	struct omv_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), "--connect", "qemu:///system", "define",
			       "--node", "7", "--name", "om-7", "--memory", "1024", "--vcpus", "2",
			       "--accel", "kvm", "--relay-dir", "/run/r", "--append", "quiet", NULL),
			 0);
	assert_int_equal(a.cmd, OMV_CMD_DEFINE);
	assert_string_equal(a.uri, "qemu:///system");
	assert_int_equal(a.dom.node, 7);
	assert_string_equal(a.dom.name, "om-7");
	assert_int_equal(a.dom.mem_mib, 1024);
	assert_int_equal(a.dom.vcpus, 2);
	assert_true(a.dom.kvm);
	assert_string_equal(a.dom.relay_dir, "/run/r");
	assert_string_equal(a.dom.append, "quiet");
	/* Defaults. */
	assert_int_equal(parse(&a, err, sizeof(err), "xml", "--node", "1024", "--name", "n", NULL), 0);
	assert_int_equal(a.cmd, OMV_CMD_XML);
	assert_null(a.uri);
	assert_int_equal(a.dom.mem_mib, 512);
	assert_int_equal(a.dom.vcpus, 1);
	assert_false(a.dom.kvm);
	assert_string_equal(a.dom.relay_dir, OMV_DEFAULT_RELAY_DIR);
	assert_string_equal(a.dom.disk_format, "raw");
	assert_null(a.dom.kernel);
	assert_int_equal(parse(&a, err, sizeof(err), "undefine", "om-7", "-c", "test:///default",
			       NULL),
			 0);
	assert_int_equal(a.cmd, OMV_CMD_UNDEFINE);
	assert_string_equal(a.dom.name, "om-7");
	assert_string_equal(a.uri, "test:///default");
}

static void args_errors(void **state)
{
	static const struct {
		const char *argv[12];
		const char *err;
	} cases[] = {
		{ { "define", "--node", "0", "--name", "a" }, "--node '0': give a node id, 1-1024" },
		{ { "define", "--node", "1025", "--name", "a" }, "--node '1025': give a node id, 1-1024" },
		{ { "define", "--node", "3x", "--name", "a" }, "--node '3x': give a node id, 1-1024" },
		{ { "define", "--name", "a" }, "--node N is required" },
		{ { "define", "--node", "1" }, "--name NAME is required" },
		{ { "define", "--node", "1", "--name", "a/b" },
		  "--name 'a/b': 1-64 letters, digits and _ . + -, not first . or -" },
		{ { "define", "--node", "1", "--name", "a", "--relay-dir", "/r,x" },
		  "--relay-dir '/r,x': give an absolute path without a comma" },
		{ { "define", "--node", "1", "--name", "a", "--relay-dir", "run" },
		  "--relay-dir 'run': give an absolute path without a comma" },
		{ { "define", "--node", "1", "--name", "a", "--memory", "63" },
		  "--memory '63': give MiB, 64-65536" },
		{ { "define", "--node", "1", "--name", "a", "--accel", "hvf" },
		  "--accel 'hvf': give tcg or kvm" },
		{ { "define", "--node", "1", "--name", "a", "--agent-socket", "a.sock" },
		  "'a.sock': give an absolute path" },
		{ { "define", "--node", "1", "--name", "a", "--disk", "/d", "--initrd", "/i" },
		  "--initrd needs --kernel when a --disk is given" },
		{ { "list", "--node", "1" }, "'--node' does not apply to this command" },
		{ { "define", "--nope" }, "unknown option or missing value: '--nope'" },
		{ { "undefine" }, "undefine takes one domain name" },
		{ { "start", "a" }, "unknown command 'start'" },
		{ { "list", "extra" }, "unexpected argument 'extra'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[14] = { "omvirt" }, err[256] = "";
		struct omv_args a;
		int argc = 1;

		for (size_t j = 0; cases[i].argv[j]; j++)
			argv[argc++] = (char *)cases[i].argv[j];
		assert_int_equal(omv_args_parse(argc, argv, &a, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
}

/*
 * exec and cp keep pointers into argv (the command, the file): an argv that
 * outlives the call, unlike parse()'s.
 */
static char *kept[32];

static int parse_kept(struct omv_args *a, char *err, size_t cap, const char *const *args)
{
	int argc = 1;

	kept[0] = "omvirt";
	for (size_t i = 0; args[i]; i++)
		kept[argc++] = (char *)args[i];
	kept[argc] = NULL;
	err[0] = '\0';
	return omv_args_parse(argc, kept, a, err, cap);
}

static void args_exec(void **state)
{
	struct omv_args a;
	char err[256];

	(void)state;
	/* Options before and after the name; the command keeps its own. */
	assert_int_equal(parse_kept(&a, err, sizeof(err),
				    (const char *[]){ "-c", "qemu:///system", "exec", "-i", "om-1",
						      "-t", "30", "--", "ls", "-l", "--", NULL }),
			 0);
	assert_int_equal(a.cmd, OMV_CMD_EXEC);
	assert_string_equal(a.uri, "qemu:///system");
	assert_string_equal(a.dom.name, "om-1");
	assert_int_equal(a.timeout_s, 30);
	assert_true(a.forward_stdin);
	assert_string_equal(a.argv[0], "ls");
	assert_string_equal(a.argv[1], "-l");
	assert_string_equal(a.argv[2], "--");
	assert_null(a.argv[3]);
	/* Without --: the first word after the name starts the command. */
	assert_int_equal(parse_kept(&a, err, sizeof(err),
				    (const char *[]){ "exec", "--timeout", "86400", "om-1", "uname",
						      "-t", "5", NULL }),
			 0);
	assert_string_equal(a.dom.name, "om-1");
	assert_int_equal(a.timeout_s, 86400);
	assert_false(a.forward_stdin);
	assert_null(a.uri);
	assert_string_equal(a.argv[0], "uname");
	assert_string_equal(a.argv[1], "-t");
	/* --connect after the command's name, -- before the domain's. */
	assert_int_equal(parse_kept(&a, err, sizeof(err),
				    (const char *[]){ "exec", "--connect", "test:///default", "--",
						      "om-2", "true", NULL }),
			 0);
	assert_string_equal(a.uri, "test:///default");
	assert_string_equal(a.dom.name, "om-2");
	assert_string_equal(a.argv[0], "true");
	assert_int_equal(a.timeout_s, 0);
	assert_int_equal(parse_kept(&a, err, sizeof(err),
				    (const char *[]){ "exec", "om-1", "--help", NULL }),
			 0);
	assert_int_equal(a.cmd, OMV_CMD_HELP);
}

static void args_exec_errors(void **state)
{
	static const struct {
		const char *argv[8];
		const char *err;
	} cases[] = {
		{ { "exec" }, "exec: which domain? (omvirt exec NAME -- COMMAND)" },
		{ { "exec", "-t", "5" }, "exec: which domain? (omvirt exec NAME -- COMMAND)" },
		{ { "exec", "om-1" }, "exec: no command given" },
		{ { "exec", "om-1", "--" }, "exec: no command given" },
		{ { "exec", "om-1", "--", "" }, "exec: no command given" },
		{ { "exec", "a/b", "--", "ls" }, "'a/b' cannot be an om domain's name" },
		{ { "exec", "om-1", "-t", "0", "--", "ls" }, "-t '0': give seconds, 1-86400" },
		{ { "exec", "om-1", "-t", "86401", "ls" }, "-t '86401': give seconds, 1-86400" },
		{ { "exec", "om-1", "-t", "1s", "ls" }, "-t '1s': give seconds, 1-86400" },
		{ { "exec", "om-1", "-t" }, "unknown option or missing value: '-t'" },
		{ { "exec", "om-1", "-x", "ls" }, "unknown option or missing value: '-x'" },
		{ { "exec", "--node", "1", "om-1", "ls" }, "'--node' does not apply to this command" },
		{ { "exec", "om-1", "--mode", "600", "ls" }, "'--mode' does not apply to this command" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct omv_args a;
		char err[256];

		assert_int_equal(parse_kept(&a, err, sizeof(err), cases[i].argv), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
}

static void args_cp(void **state)
{
	static const struct {
		const char *argv[8];
		const char *err;
	} bad[] = {
		{ { "cp" }, "cp takes FILE NAME:PATH" },
		{ { "cp", "f" }, "cp takes FILE NAME:PATH" },
		{ { "cp", "f", "om-1:/x", "g" }, "cp takes FILE NAME:PATH" },
		{ { "cp", "", "om-1:/x" }, "cp takes FILE NAME:PATH" },
		{ { "cp", "f", "om-1" },
		  "'om-1' is not NAME:PATH (an om domain's name, a colon, an absolute path in the guest)" },
		{ { "cp", "f", "om-1:x" },
		  "'om-1:x' is not NAME:PATH (an om domain's name, a colon, an absolute path in the guest)" },
		{ { "cp", "f", ":/x" },
		  "':/x' is not NAME:PATH (an om domain's name, a colon, an absolute path in the guest)" },
		{ { "cp", "f", "a/b:/x" },
		  "'a/b:/x' is not NAME:PATH (an om domain's name, a colon, an absolute path in the guest)" },
		{ { "cp", "--mode", "8", "f", "om-1:/x" }, "--mode '8': give octal permissions, 0-7777" },
		{ { "cp", "--mode", "10000", "f", "om-1:/x" },
		  "--mode '10000': give octal permissions, 0-7777" },
		{ { "cp", "--mode", "", "f", "om-1:/x" }, "--mode '': give octal permissions, 0-7777" },
		{ { "cp", "-t", "5", "f", "om-1:/x" }, "unknown option or missing value: '-t'" },
		{ { "cp", "--node", "1", "f", "om-1:/x" }, "'--node' does not apply to this command" },
	};
	struct omv_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse_kept(&a, err, sizeof(err),
				    (const char *[]){ "cp", "./prog", "om-1:/usr/bin/prog:2", "--mode",
						      "0755", "-c", "qemu:///session", NULL }),
			 0);
	assert_int_equal(a.cmd, OMV_CMD_CP);
	assert_string_equal(a.src, "./prog");
	assert_string_equal(a.dom.name, "om-1");
	assert_string_equal(a.dst, "/usr/bin/prog:2");
	assert_true(a.mode_set);
	assert_int_equal(a.mode, 0755);
	assert_string_equal(a.uri, "qemu:///session");
	assert_int_equal(parse_kept(&a, err, sizeof(err),
				    (const char *[]){ "cp", "f", "om-2:/tmp/f", NULL }),
			 0);
	assert_false(a.mode_set);
	assert_string_equal(a.dom.name, "om-2");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_kept(&a, err, sizeof(err), bad[i].argv), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
}

/* ---- files ---- */

static void files_missing_kernel(void **state)
{
	struct om_vdomain d = { .name = "a", .node = 1, .emulator = "/bin/sh",
				.kernel = "/nonexistent/bzImage" };
	char plain[] = "/tmp/om-virt-file-XXXXXX", err[512], want[512];
	struct omv_files f;
	int fd = mkstemp(plain);

	(void)state;
	assert_true(fd >= 0);
	close(fd); /* mode 0600: not executable */
	assert_int_equal(omv_files_resolve(&d, &f, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "kernel /nonexistent/bzImage: no such file");
	d.kernel = d.initrd = d.emulator = plain;
	assert_int_equal(omv_files_resolve(&d, &f, err, sizeof(err)), -EACCES);
	snprintf(want, sizeof(want), "emulator %s: not executable", plain);
	assert_string_equal(err, want);
	/* A disk alone boots from the disk: no kernel, no initramfs. */
	d = (struct om_vdomain){ .name = "a", .node = 1, .emulator = "/bin/sh", .disk = plain };
	assert_int_equal(omv_files_resolve(&d, &f, err, sizeof(err)), 0);
	assert_null(d.kernel);
	assert_null(d.initrd);
	assert_string_equal(d.disk, plain);
	unlink(plain);
	assert_string_equal(d.firmware[0], "/usr/share/seabios");
	assert_string_equal(d.firmware[1], "/usr/share/qemu");
}

/* ---- the domain XML ---- */

static const struct om_vdomain sample = {
	.name = "om-node3",
	.node = 3,
	.mem_mib = 768,
	.vcpus = 2,
	.emulator = "/b/qemu-system-x86_64",
	.kernel = "/b/bzImage",
	.initrd = "/b/initramfs.cpio.gz",
	.append = "quiet x=<a&b>",
	.disk_format = "raw",
	.relay_dir = "/run/omhostd",
	.firmware = { "/usr/share/seabios", "/usr/share/qemu" },
};

struct xdoc {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static void xdoc_open(struct xdoc *x, const char *xml)
{
	x->doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
	assert_non_null(x->doc);
	x->ctx = xmlXPathNewContext(x->doc);
	xmlXPathRegisterNs(x->ctx, BAD_CAST "qemu",
			   BAD_CAST "http://libvirt.org/schemas/domain/qemu/1.0");
	xmlXPathRegisterNs(x->ctx, BAD_CAST "omvm", BAD_CAST OMV_META_NS);
}

static void xdoc_close(struct xdoc *x)
{
	xmlXPathFreeContext(x->ctx);
	xmlFreeDoc(x->doc);
}

/* The string value of an XPath expression ("" when it selects nothing). */
static const char *xs(struct xdoc *x, const char *expr)
{
	static char out[1024];
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, x->ctx);
	xmlChar *s;

	assert_non_null(o);
	s = xmlXPathCastToString(o);
	snprintf(out, sizeof(out), "%s", (const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	return out;
}

static void domain_xml_elements(void **state)
{
	char *xml;
	struct xdoc x;

	(void)state;
	assert_int_equal(om_vdomain_xml(&sample, &xml), 0);
	xdoc_open(&x, xml);
	assert_string_equal(xs(&x, "/domain/@type"), "qemu");
	assert_string_equal(xs(&x, "/domain/name"), "om-node3");
	assert_string_equal(xs(&x, "/domain/metadata/omvm:node/@id"), "3");
	assert_string_equal(xs(&x, "/domain/metadata/omvm:node/@relay-dir"), "/run/omhostd");
	assert_string_equal(xs(&x, "/domain/memory"), "768");
	assert_string_equal(xs(&x, "/domain/memory/@unit"), "MiB");
	assert_string_equal(xs(&x, "/domain/vcpu"), "2");
	assert_string_equal(xs(&x, "/domain/memoryBacking/source/@type"), "memfd");
	assert_string_equal(xs(&x, "/domain/memoryBacking/access/@mode"), "shared");
	assert_string_equal(xs(&x, "/domain/os/type"), "hvm");
	assert_string_equal(xs(&x, "/domain/os/type/@machine"), "pc");
	assert_string_equal(xs(&x, "/domain/os/kernel"), "/b/bzImage");
	assert_string_equal(xs(&x, "/domain/os/initrd"), "/b/initramfs.cpio.gz");
	/* omcluster's kernel arguments, then --append, escaped and back intact. */
	assert_string_equal(xs(&x, "/domain/os/cmdline"),
			    "console=ttyS0 loglevel=4 panic=-1 om.node=3 quiet x=<a&b>");
	assert_string_equal(xs(&x, "count(/domain/features/acpi)"), "1");
	assert_string_equal(xs(&x, "/domain/cpu/@mode"), "maximum");
	assert_string_equal(xs(&x, "/domain/cpu/feature[@name='erms']/@policy"), "disable");
	assert_string_equal(xs(&x, "/domain/on_reboot"), "destroy");
	assert_string_equal(xs(&x, "/domain/on_crash"), "destroy");
	assert_string_equal(xs(&x, "/domain/devices/emulator"), "/b/qemu-system-x86_64");
	assert_string_equal(xs(&x, "count(/domain/devices/disk)"), "0");
	assert_string_equal(xs(&x, "/domain/devices/console/@type"), "pty");
	assert_string_equal(xs(&x, "/domain/devices/console/target/@type"), "serial");
	assert_string_equal(xs(&x, "/domain/devices/serial/@type"), "pty");
	assert_string_equal(xs(&x, "/domain/devices/channel/@type"), "unix");
	assert_string_equal(xs(&x, "/domain/devices/channel/source/@mode"), "bind");
	assert_string_equal(xs(&x, "count(/domain/devices/channel/source/@path)"), "0");
	assert_string_equal(xs(&x, "/domain/devices/channel/target/@type"), "virtio");
	assert_string_equal(xs(&x, "/domain/devices/channel/target/@name"), "org.omvm.agent");
	assert_string_equal(xs(&x, "/domain/devices/memballoon/@model"), "none");
	/* Only firmware paths and the virtio-om device pass through; the device in JSON form. */
	assert_string_equal(xs(&x, "count(/domain/qemu:commandline/qemu:arg)"), "8");
	static const char *const args[] = {
		"-L", "/usr/share/seabios", "-L", "/usr/share/qemu", "-chardev",
		"socket,id=om,path=/run/omhostd/node-3.sock,reconnect=1", "-device",
		"{\"driver\":\"vhost-user-om-pci\",\"chardev\":\"om\"}",
	};
	for (size_t i = 0; i < 8; i++) {
		char expr[128];

		snprintf(expr, sizeof(expr), "/domain/qemu:commandline/qemu:arg[%zu]/@value", i + 1);
		assert_string_equal(xs(&x, expr), args[i]);
	}
	xdoc_close(&x);
	free(xml);
}

static void domain_xml_variants(void **state)
{
	struct om_vdomain d = sample;
	struct xdoc x;
	char *xml;

	(void)state;
	d.kvm = true;
	d.kernel = d.initrd = NULL;
	d.disk = "/img/n3.qcow2";
	d.disk_format = "qcow2";
	d.agent_socket = "/run/om/n3/agent.sock";
	d.console_log = "/run/om/n3/console.log";
	assert_int_equal(om_vdomain_xml(&d, &xml), 0);
	xdoc_open(&x, xml);
	assert_string_equal(xs(&x, "/domain/@type"), "kvm");
	assert_string_equal(xs(&x, "/domain/cpu/@mode"), "host-passthrough");
	assert_string_equal(xs(&x, "/domain/cpu/feature[@policy='disable']/@name"),
			    "arch-capabilities");
	assert_string_equal(xs(&x, "count(/domain/os/kernel)"), "0");
	assert_string_equal(xs(&x, "/domain/os/boot/@dev"), "hd");
	assert_string_equal(xs(&x, "/domain/devices/disk/source/@file"), "/img/n3.qcow2");
	assert_string_equal(xs(&x, "/domain/devices/disk/driver/@type"), "qcow2");
	assert_string_equal(xs(&x, "/domain/devices/disk/target/@bus"), "virtio");
	assert_string_equal(xs(&x, "/domain/devices/channel/source/@path"), "/run/om/n3/agent.sock");
	assert_string_equal(xs(&x, "/domain/devices/serial/log/@file"), "/run/om/n3/console.log");
	xdoc_close(&x);
	free(xml);
}

/* omcluster's --node-cpu/start --cpu: libvirt's CPU model, nothing more offered. */
static void domain_xml_cpu_model(void **state)
{
	struct om_vdomain d = sample;
	struct xdoc x;
	char *xml;

	(void)state;
	d.cpu_model = "qemu64";
	assert_int_equal(om_vdomain_xml(&d, &xml), 0);
	xdoc_open(&x, xml);
	assert_string_equal(xs(&x, "/domain/cpu/@mode"), "custom");
	assert_string_equal(xs(&x, "/domain/cpu/@match"), "exact");
	assert_string_equal(xs(&x, "/domain/cpu/@check"), "none");
	assert_string_equal(xs(&x, "/domain/cpu/model"), "qemu64");
	assert_string_equal(xs(&x, "/domain/cpu/model/@fallback"), "forbid");
	xdoc_close(&x);
	free(xml);
	d.cpu_model = "qemu64\n";
	assert_int_equal(om_vdomain_xml(&d, &xml), -EINVAL);
}

/* ---- whom libvirt runs QEMU as, from its capabilities ---- */

static void caps_qemu_user(void **state)
{
	static const char dac[] =
		"<capabilities><host><secmodel><model>none</model><doi>0</doi></secmodel>"
		"<secmodel><model>dac</model><doi>0</doi>"
		"<baselabel type='kvm'>+64055:+108</baselabel>"
		"<baselabel type='qemu'>+64056:+109</baselabel></secmodel></host></capabilities>";
	static const char session[] =
		"<capabilities><host><secmodel><model>none</model><doi>0</doi></secmodel>"
		"</host></capabilities>";
	static const char bad_label[] =
		"<capabilities><host><secmodel><model>dac</model>"
		"<baselabel type='qemu'>libvirt-qemu:kvm</baselabel></secmodel></host></capabilities>";
	uid_t uid = 1;
	gid_t gid = 1;

	(void)state;
	assert_int_equal(omv_caps_qemu_user(dac, strlen(dac), "qemu", &uid, &gid), 0);
	assert_int_equal(uid, 64056);
	assert_int_equal(gid, 109);
	assert_int_equal(omv_caps_qemu_user(dac, strlen(dac), "kvm", &uid, &gid), 0);
	assert_int_equal(uid, 64055);
	assert_int_equal(gid, 108);
	/* A session daemon reports no DAC model: QEMU runs as the daemon. */
	assert_int_equal(omv_caps_qemu_user(session, strlen(session), "qemu", &uid, &gid), -ENOENT);
	assert_int_equal(omv_caps_qemu_user(bad_label, strlen(bad_label), "qemu", &uid, &gid),
			 -EBADMSG);
	assert_int_equal(omv_caps_qemu_user("<domain/>", 9, "qemu", &uid, &gid), -EBADMSG);
	assert_int_equal(omv_caps_qemu_user("<capab", 6, "qemu", &uid, &gid), -EBADMSG);
}

static void domain_xml_refusals(void **state)
{
	struct om_vdomain d = sample;
	char dir[200], *xml;

	(void)state;
	d.append = "a\nb"; /* XML cannot carry it */
	assert_int_equal(om_vdomain_xml(&d, &xml), -EINVAL);
	assert_null(xml);
	d = sample;
	d.name = "\xc3\x28"; /* not UTF-8 */
	assert_int_equal(om_vdomain_xml(&d, &xml), -EINVAL);
	d = sample;
	d.relay_dir = "/run/a,b";
	assert_int_equal(om_vdomain_xml(&d, &xml), -EINVAL);
	d = sample;
	d.node = 1025;
	assert_int_equal(om_vdomain_xml(&d, &xml), -EINVAL);
	/* DIR/node-3.sock must fit a unix socket's 108 bytes. */
	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	d = sample;
	d.relay_dir = dir;
	assert_int_equal(om_vdomain_xml(&d, &xml), -ENAMETOOLONG);
}

/* ---- the metadata mark ---- */

static void meta_round_trip(void **state)
{
	struct omv_meta m;
	char *xml;

	(void)state;
	assert_int_equal(om_vdomain_xml(&sample, &xml), 0);
	assert_int_equal(omv_meta_from_domain_xml(xml, strlen(xml), &m), 0);
	assert_int_equal(m.node, 3);
	assert_string_equal(m.relay_dir, "/run/omhostd");
	free(xml);
	/* As virDomainGetMetadata gives it back: without the namespace. */
	assert_int_equal(omv_meta_from_element_xml("<node id=\"9\" relay-dir=\"/r\"/>", &m), 0);
	assert_int_equal(m.node, 9);
	assert_string_equal(m.relay_dir, "/r");
}

static void meta_refusals(void **state)
{
	static const char other[] = "<domain type='qemu'><name>x</name><metadata>"
				    "<a:node xmlns:a='urn:other' id='1' relay-dir='/r'/>"
				    "</metadata></domain>";
	static const char bad_id[] = "<domain><metadata><o:node xmlns:o='" OMV_META_NS
				     "' id='0' relay-dir='/r'/></metadata></domain>";
	static const char no_dir[] = "<domain><metadata><o:node xmlns:o='" OMV_META_NS
				     "' id='2'/></metadata></domain>";
	static const char rel_dir[] = "<domain><metadata><o:node xmlns:o='" OMV_META_NS
				      "' id='2' relay-dir='r'/></metadata></domain>";
	struct omv_meta m;

	(void)state;
	assert_int_equal(omv_meta_from_domain_xml(other, strlen(other), &m), -ENOENT);
	assert_int_equal(omv_meta_from_domain_xml(bad_id, strlen(bad_id), &m), -EINVAL);
	assert_int_equal(omv_meta_from_domain_xml(no_dir, strlen(no_dir), &m), -EINVAL);
	assert_int_equal(omv_meta_from_domain_xml(rel_dir, strlen(rel_dir), &m), -EINVAL);
	assert_int_equal(omv_meta_from_domain_xml("<domain", 7, &m), -EBADMSG);
	assert_int_equal(omv_meta_from_domain_xml("<network/>", 10, &m), -EBADMSG);
	assert_int_equal(omv_meta_from_element_xml("<other id='1' relay-dir='/r'/>", &m), -ENOENT);
}

/* ---- the agent channel's socket ---- */

static void agent_channel_path(void **state)
{
	/* As a running domain's XML has it: libvirt's path filled in, other channels around. */
	static const char live[] =
		"<domain type='qemu' id='3'><name>om-1</name><devices>"
		"<channel type='pty'><target type='virtio' name='org.omvm.agent'/></channel>"
		"<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/"
		"target/domain-3-om-1/org.qemu.guest_agent.0'/>"
		"<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
		"<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/"
		"target/domain-3-om-1/org.omvm.agent'/>"
		"<target type='virtio' name='org.omvm.agent' state='connected'/></channel>"
		"</devices></domain>";
	struct om_vdomain d = sample;
	char path[PATH_MAX], *xml, longer[512];
	int n;

	(void)state;
	assert_int_equal(omv_agent_socket_from_xml(live, strlen(live), path, sizeof(path)), 0);
	assert_string_equal(path,
			    "/var/lib/libvirt/qemu/channel/target/domain-3-om-1/org.omvm.agent");
	/* omvirt's own XML without --agent-socket: no path until libvirt picks one. */
	assert_int_equal(om_vdomain_xml(&d, &xml), 0);
	assert_int_equal(omv_agent_socket_from_xml(xml, strlen(xml), path, sizeof(path)), -ENOENT);
	free(xml);
	/* With --agent-socket: that path. */
	d.agent_socket = "/run/om/a.sock";
	assert_int_equal(om_vdomain_xml(&d, &xml), 0);
	assert_int_equal(omv_agent_socket_from_xml(xml, strlen(xml), path, sizeof(path)), 0);
	assert_string_equal(path, "/run/om/a.sock");
	free(xml);
	/* Not a domain's XML; no devices; a path longer than a unix socket's. */
	assert_int_equal(omv_agent_socket_from_xml("<network/>", 10, path, sizeof(path)), -EBADMSG);
	assert_int_equal(omv_agent_socket_from_xml("<domain", 7, path, sizeof(path)), -EBADMSG);
	assert_int_equal(omv_agent_socket_from_xml("<domain/>", 9, path, sizeof(path)), -ENOENT);
	n = snprintf(longer, sizeof(longer),
		     "<domain><devices><channel type='unix'><source mode='bind' path='/%0120d'/>"
		     "<target type='virtio' name='org.omvm.agent'/></channel></devices></domain>",
		     0);
	assert_int_equal(omv_agent_socket_from_xml(longer, (size_t)n, path, sizeof(path)),
			 -ENAMETOOLONG);
}

/* ---- the hook's verdict on a fake relay directory ---- */

struct fake_relay {
	char dir[64];
	int ctl; /* control.sock's listening fd, or -1 */
	const char *status;
	pthread_t thread;
};

static int bind_unix(const char *dir, const char *name, bool listening)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* omhostd's control socket, as far as the check asks: one status answer. */
static void *serve_status(void *arg)
{
	struct fake_relay *r = arg;
	char req[64];
	int c = accept(r->ctl, NULL, NULL);

	if (c >= 0) {
		ssize_t n = read(c, req, sizeof(req));

		if (n == 7 && !memcmp(req, "status\n", 7))
			(void)!write(c, r->status, strlen(r->status));
		close(c);
	}
	return NULL;
}

static void relay_open(struct fake_relay *r, bool node_sock, const char *status)
{
	snprintf(r->dir, sizeof(r->dir), "/tmp/om-virt-relay-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	r->ctl = -1;
	r->status = status;
	if (node_sock)
		close(bind_unix(r->dir, "node-3.sock", true));
	if (status) {
		r->ctl = bind_unix(r->dir, "control.sock", true);
		assert_int_equal(pthread_create(&r->thread, NULL, serve_status, r), 0);
	}
}

static void relay_close(struct fake_relay *r)
{
	char cmd[128];

	if (r->ctl >= 0) {
		pthread_join(r->thread, NULL);
		close(r->ctl);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
}

static const char status_node3_absent[] =
	"omhostd pid=4242 nodes=1-3 max_payload=65536\n"
	"node=1 state=up tx_msgs=0\n"
	"node=3 state=absent tx_msgs=0\n";

static void hook_relay_serves(void **state)
{
	struct fake_relay r;
	char msg[1024];

	(void)state;
	relay_open(&r, true, status_node3_absent);
	assert_int_equal(omv_relay_check(r.dir, 3, 2000, msg, sizeof(msg)), OMV_RELAY_SERVES);
	assert_string_equal(msg, "");
	relay_close(&r);
}

static void hook_relay_absent(void **state)
{
	struct fake_relay r;
	char msg[1024], want[1024];

	(void)state;
	relay_open(&r, false, NULL);
	assert_int_equal(omv_relay_check(r.dir, 3, 2000, msg, sizeof(msg)), OMV_RELAY_NO_SOCKET);
	snprintf(want, sizeof(want),
		 "omvm: node 3: omhostd is not serving it: %s/node-3.sock does not exist; "
		 "start omhostd for node 3 (the omhostd service, or: omhostd --dir %s --nodes 3; "
		 "docs/libvirt.md), then start the domain again",
		 r.dir, r.dir);
	assert_string_equal(msg, want);
	relay_close(&r);
}

/* A relay killed (SIGKILL) leaves its sockets, with nobody listening. */
static void hook_relay_not_listening(void **state)
{
	struct fake_relay r;
	char msg[1024], want[1024];

	(void)state;
	relay_open(&r, false, NULL);
	close(bind_unix(r.dir, "node-3.sock", false));
	close(bind_unix(r.dir, "control.sock", false));
	assert_int_equal(omv_relay_check(r.dir, 3, 2000, msg, sizeof(msg)),
			 OMV_RELAY_NOT_RUNNING);
	snprintf(want, sizeof(want),
		 "omvm: node 3: omhostd is not running: nothing answers on %s/control.sock "
		 "(Connection refused); start omhostd for node 3 (the omhostd service, or: "
		 "omhostd --dir %s --nodes 3; docs/libvirt.md), then start the domain again",
		 r.dir, r.dir);
	assert_string_equal(msg, want);
	relay_close(&r);
}

static void hook_relay_other_nodes(void **state)
{
	struct fake_relay r;
	char msg[1024], want[1024];

	(void)state;
	relay_open(&r, true, "omhostd pid=77 nodes=1-2 max_payload=65536\n"
			     "node=1 state=up\nnode=2 state=absent\n");
	assert_int_equal(omv_relay_check(r.dir, 3, 2000, msg, sizeof(msg)), OMV_RELAY_NOT_SERVED);
	snprintf(want, sizeof(want),
		 "omvm: node 3: the omhostd on %s (pid 77) serves nodes 1-2, not 3; start "
		 "omhostd for node 3 (the omhostd service, or: omhostd --dir %s --nodes 3; "
		 "docs/libvirt.md), then start the domain again",
		 r.dir, r.dir);
	assert_string_equal(msg, want);
	relay_close(&r);
}

static void hook_relay_node_taken(void **state)
{
	struct fake_relay r;
	char msg[1024], want[1024];

	(void)state;
	relay_open(&r, true, "omhostd pid=77 nodes=1-3\nnode=3 state=up\n");
	assert_int_equal(omv_relay_check(r.dir, 3, 2000, msg, sizeof(msg)), OMV_RELAY_NODE_TAKEN);
	snprintf(want, sizeof(want),
		 "omvm: node 3: omhostd on %s already has a front-end for it (state up); "
		 "another guest is node 3: stop it, or give this domain another node",
		 r.dir);
	assert_string_equal(msg, want);
	relay_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(args_define),
		cmocka_unit_test(args_errors),
		cmocka_unit_test(args_exec),
		cmocka_unit_test(args_exec_errors),
		cmocka_unit_test(args_cp),
		cmocka_unit_test(files_missing_kernel),
		cmocka_unit_test(domain_xml_elements),
		cmocka_unit_test(domain_xml_variants),
		cmocka_unit_test(domain_xml_refusals),
		cmocka_unit_test(domain_xml_cpu_model),
		cmocka_unit_test(caps_qemu_user),
		cmocka_unit_test(meta_round_trip),
		cmocka_unit_test(meta_refusals),
		cmocka_unit_test(agent_channel_path),
		cmocka_unit_test(hook_relay_serves),
		cmocka_unit_test(hook_relay_absent),
		cmocka_unit_test(hook_relay_not_listening),
		cmocka_unit_test(hook_relay_other_nodes),
		cmocka_unit_test(hook_relay_node_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
