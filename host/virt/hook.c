// SPDX-License-Identifier: GPL-2.0-only
/*
 * omvirt-hook: libvirt's qemu hook for om domains (installed by `omvirt
 * install-hook` as hooks/qemu.d/omvm). libvirt runs it as
 * `omvirt-hook DOMAIN OPERATION SUB-OPERATION EXTRA` with the domain's XML
 * on stdin, and at `prepare begin` a non-zero exit aborts the start with
 * what it wrote as the error. So an om domain whose relay does not serve
 * its node fails at once, saying why, instead of waiting in start-up for a
 * back-end. Every other domain and operation passes. It must not call
 * libvirt (the daemon waits for it): it reads the XML and omhostd only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meta.h"
#include "relay-check.h"

/* libvirt waits for the hook; omhostd answers in microseconds when it runs. */
#define HOOK_RELAY_TIMEOUT_MS 2000
#define HOOK_MAX_XML (16u << 20)

/* All of stdin: libvirt writes the whole XML whatever the operation. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 65536, used = 0;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;

	while (buf) {
		if (used == cap) {
			nbuf = cap < HOOK_MAX_XML ? realloc(buf, cap * 2) : NULL;
			if (!nbuf)
				break;
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0) {
				*len = used;
				return buf;
			}
			break;
		}
		used += (size_t)n;
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct omv_meta m;
	char msg[8192];
	size_t len = 0;
	char *xml;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: omvirt-hook DOMAIN OPERATION SUB-OPERATION [EXTRA] "
				"< DOMAIN-XML (run by libvirt)\n");
		return 2;
	}
	xml = read_all(STDIN_FILENO, &len);
	if (strcmp(argv[2], "prepare") || strcmp(argv[3], "begin")) {
		free(xml);
		return 0;
	}
	if (!xml) {
		fprintf(stderr, "omvm: domain %s: cannot read its XML from libvirt\n", argv[1]);
		return 1;
	}
	r = omv_meta_from_domain_xml(xml, len, &m);
	free(xml);
	/* Not an om domain (or not a domain libvirt could have written): not ours to stop. */
	if (r == -ENOENT || r == -EBADMSG)
		return 0;
	if (r) {
		fprintf(stderr, "omvm: domain %s: its omvm metadata is malformed (node id or "
				"relay-dir): define it again with omvirt\n", argv[1]);
		return 1;
	}
	if (omv_relay_check(m.relay_dir, m.node, HOOK_RELAY_TIMEOUT_MS, msg, sizeof(msg)) ==
	    OMV_RELAY_SERVES)
		return 0;
	fprintf(stderr, "%s\n", msg);
	return 1;
}
