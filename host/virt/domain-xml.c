// SPDX-License-Identifier: GPL-2.0-only
#include "domain-xml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "agent-proto.h"
#include "guest.h"
#include "meta.h"
#include "omvirt.h"
#include <linux/virtio_om.h>

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/*
 * XML 1.0 cannot carry control characters, even escaped, and libxml2 would
 * write broken UTF-8 as it came: both would only fail later, in libvirt.
 */
static bool text_ok(const char *s)
{
	if (!s)
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return xmlCheckUTF8((const xmlChar *)s);
}

/* Small helpers so that each element below reads as the XML it makes. */
static xmlNodePtr el(xmlNodePtr parent, const char *name)
{
	return parent ? xmlNewChild(parent, NULL, BAD_CAST name, NULL) : NULL;
}

/* An element with text: xmlNewTextChild escapes it (xmlNewChild would not). */
static xmlNodePtr text(xmlNodePtr parent, const char *name, const char *value)
{
	return parent ? xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST value) : NULL;
}

/* Sets attributes from NULL-terminated name, value pairs; returns n, or NULL on failure. */
static xmlNodePtr attrs(xmlNodePtr n, ...)
{
	va_list ap;
	const char *k;

	if (!n)
		return NULL;
	va_start(ap, n);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		if (!xmlNewProp(n, BAD_CAST k, BAD_CAST v)) {
			n = NULL;
			break;
		}
	}
	va_end(ap);
	return n;
}

static bool qemu_arg(xmlNodePtr cmdline, xmlNsPtr ns, const char *value)
{
	xmlNodePtr a = xmlNewChild(cmdline, ns, BAD_CAST "arg", NULL);

	return a && xmlNewProp(a, BAD_CAST "value", BAD_CAST value);
}

static bool add_os(xmlNodePtr dom, const struct om_vdomain *d)
{
	xmlNodePtr os = el(dom, "os");
	char cmdline[2048];
	int n;

	/* machine pc, as omcluster's QEMU command line has it. */
	if (!attrs(text(os, "type", "hvm"), "arch", "x86_64", "machine", "pc", NULL))
		return false;
	if (!d->kernel)
		return attrs(el(os, "boot"), "dev", "hd", NULL);
	/* The guest's agent reads om.node to say which node it is. */
	n = snprintf(cmdline, sizeof(cmdline), "console=ttyS0 loglevel=4 panic=-1 om.node=%u%s%s",
		     d->node, d->append && d->append[0] ? " " : "", d->append ? d->append : "");
	if (n < 0 || (size_t)n >= sizeof(cmdline))
		return false;
	return text(os, "kernel", d->kernel) && (!d->initrd || text(os, "initrd", d->initrd)) &&
	       text(os, "cmdline", cmdline);
}

static bool add_cpu(xmlNodePtr dom, const struct om_vdomain *d)
{
	xmlNodePtr cpu = el(dom, "cpu");

	/*
	 * omcluster's --node-cpu/start --cpu: the node offers that model's
	 * features and no more, to see the engine refuse what home's CPU has.
	 */
	if (d->cpu_model)
		return attrs(cpu, "mode", "custom", "match", "exact", "check", "none", NULL) &&
		       attrs(text(cpu, "model", d->cpu_model), "fallback", "forbid", NULL);
	/* omcluster's -cpu: max less ERMS under TCG (TCG runs `rep movsb` a
	 * byte a loop); the host's under KVM, without the arch-capabilities
	 * MSR QEMU 7.2 asserts on with some hosts. */
	if (!d->kvm)
		return attrs(cpu, "mode", "maximum", "check", "none", NULL) &&
		       attrs(el(cpu, "feature"), "policy", "disable", "name", "erms", NULL);
	return attrs(cpu, "mode", "host-passthrough", "check", "none", NULL) &&
	       attrs(el(cpu, "feature"), "policy", "disable", "name", "arch-capabilities", NULL);
}

static bool add_devices(xmlNodePtr dom, const struct om_vdomain *d)
{
	xmlNodePtr devs = el(dom, "devices"), n;

	if (!text(devs, "emulator", d->emulator))
		return false;
	if (d->disk) {
		n = attrs(el(devs, "disk"), "type", "file", "device", "disk", NULL);
		if (!attrs(el(n, "driver"), "name", "qemu", "type", d->disk_format, NULL) ||
		    !attrs(el(n, "source"), "file", d->disk, NULL) ||
		    !attrs(el(n, "target"), "dev", "vda", "bus", "virtio", NULL))
			return false;
	}
	/* Nothing omcluster's guests lack: no USB, no balloon (-nodefaults). */
	if (!attrs(el(devs, "controller"), "type", "usb", "model", "none", NULL))
		return false;
	/* The serial console: a pty for virsh console, and a log if asked. */
	n = attrs(el(devs, "serial"), "type", "pty", NULL);
	if (!attrs(el(n, "target"), "port", "0", NULL) ||
	    (d->console_log && !attrs(el(n, "log"), "file", d->console_log, "append", "on", NULL)))
		return false;
	n = attrs(el(devs, "console"), "type", "pty", NULL);
	if (!attrs(el(n, "target"), "type", "serial", "port", "0", NULL))
		return false;
	/* The agent's virtio-serial port, by the name the guest agent opens. */
	n = attrs(el(devs, "channel"), "type", "unix", NULL);
	if (!attrs(el(n, "source"), "mode", "bind", d->agent_socket ? "path" : NULL,
		   d->agent_socket, NULL) ||
	    !attrs(el(n, "target"), "type", "virtio", "name", OMA_PORT_NAME, NULL))
		return false;
	return attrs(el(devs, "memballoon"), "model", "none", NULL);
}

/*
 * The device in QEMU's JSON -device form, as libvirt 9.0 writes its own:
 * QEMU 7.2 creates every legacy-form -device before all JSON ones, so in
 * omcluster's form it would take the first free PCI slot ahead of libvirt's
 * devices, and QEMU refuses the start when libvirt's virtio-serial-pci
 * then asks for that slot (0x2). As the last JSON -device it takes a slot
 * libvirt left free.
 */
#define OM_DEVICE_JSON "{\"driver\":\"vhost-user-om-pci\",\"chardev\":\"om\"}"

/*
 * Only what libvirt cannot say: the firmware directories of a QEMU built
 * without a firmware path, and the virtio-om device with its chardev, the
 * chardev as omcluster gives it to QEMU (om_guest_add_om_device).
 */
static int add_qemu_commandline(xmlNodePtr dom, const struct om_vdomain *d)
{
	struct om_guest g;
	xmlNsPtr ns = xmlNewNs(dom, BAD_CAST QEMU_NS, BAD_CAST "qemu");
	xmlNodePtr cmd = ns ? xmlNewChild(dom, ns, BAD_CAST "commandline", NULL) : NULL;
	int err;

	if (!cmd)
		return -ENOMEM;
	memset(&g, 0, sizeof(g));
	g.node = d->node;
	err = om_guest_add_om_device(&g, d->relay_dir);
	if (err)
		return err;
	for (size_t i = 0; i < 2; i++)
		if (d->firmware[i] && (!qemu_arg(cmd, ns, "-L") || !qemu_arg(cmd, ns, d->firmware[i])))
			return -ENOMEM;
	if (!qemu_arg(cmd, ns, "-chardev") || !qemu_arg(cmd, ns, g.devices[0].backend) ||
	    !qemu_arg(cmd, ns, "-device") || !qemu_arg(cmd, ns, OM_DEVICE_JSON))
		return -ENOMEM;
	return 0;
}

static int build(xmlNodePtr dom, const struct om_vdomain *d)
{
	char num[16];
	xmlNodePtr mb;

	if (!attrs(dom, "type", d->kvm ? "kvm" : "qemu", NULL) || !text(dom, "name", d->name) ||
	    !omv_meta_add(el(dom, "metadata"), d->node, d->relay_dir))
		return -ENOMEM;
	snprintf(num, sizeof(num), "%u", d->mem_mib);
	if (!attrs(text(dom, "memory", num), "unit", "MiB", NULL))
		return -ENOMEM;
	snprintf(num, sizeof(num), "%u", d->vcpus);
	if (!text(dom, "vcpu", num))
		return -ENOMEM;
	/* vhost-user: omhostd maps guest RAM, a memfd shared with it. */
	mb = el(dom, "memoryBacking");
	if (!attrs(el(mb, "source"), "type", "memfd", NULL) ||
	    !attrs(el(mb, "access"), "mode", "shared", NULL))
		return -ENOMEM;
	if (!add_os(dom, d))
		return -E2BIG;
	/* ACPI on, as in omcluster's QEMU (libvirt would pass -no-acpi without it). */
	if (!el(el(dom, "features"), "acpi") || !add_cpu(dom, d))
		return -ENOMEM;
	/* A guest that reboots or panics (panic=-1) ends, as -no-reboot does. */
	if (!text(dom, "on_poweroff", "destroy") || !text(dom, "on_reboot", "destroy") ||
	    !text(dom, "on_crash", "destroy"))
		return -ENOMEM;
	if (!add_devices(dom, d))
		return -ENOMEM;
	return add_qemu_commandline(dom, d);
}

static int serialize(xmlDocPtr doc, char **out)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlSaveCtxtPtr save;
	int err = -ENOMEM;

	if (!buf)
		return -ENOMEM;
	save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
	if (save && xmlSaveDoc(save, doc) >= 0 && xmlSaveClose(save) >= 0) {
		save = NULL;
		*out = strdup((const char *)xmlBufferContent(buf));
		err = *out ? 0 : -ENOMEM;
	}
	if (save)
		xmlSaveClose(save);
	xmlBufferFree(buf);
	return err;
}

int om_vdomain_xml(const struct om_vdomain *d, char **out)
{
	const char *texts[] = { d->name, d->emulator, d->kernel, d->initrd, d->append,
				d->disk, d->relay_dir, d->agent_socket, d->console_log,
				d->cpu_model };
	xmlDocPtr doc;
	xmlNodePtr dom;
	int err;

	*out = NULL;
	if (d->node < 1 || d->node > VIRTIO_OM_MAX_NODES || omv_meta_check_relay_dir(d->relay_dir))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!text_ok(texts[i]))
			return -EINVAL;
	doc = xmlNewDoc(BAD_CAST "1.0");
	dom = doc ? xmlNewNode(NULL, BAD_CAST "domain") : NULL;
	if (!dom) {
		xmlFreeDoc(doc);
		return -ENOMEM;
	}
	xmlDocSetRootElement(doc, dom);
	err = build(dom, d);
	if (!err)
		err = serialize(doc, out);
	xmlFreeDoc(doc);
	return err;
}
