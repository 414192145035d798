/* SPDX-License-Identifier: GPL-2.0-only */
/* omvirt's command line: what the user asked for, validated. */
#ifndef OM_VIRT_ARGS_H
#define OM_VIRT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "domain-xml.h"

enum omv_cmd {
	OMV_CMD_DEFINE,
	OMV_CMD_XML, /* define's XML, printed instead of defined */
	OMV_CMD_LIST,
	OMV_CMD_UNDEFINE,
	OMV_CMD_INSTALL_HOOK,
	OMV_CMD_EXEC, /* a command in the guest, through its agent */
	OMV_CMD_CP,   /* a file into the guest, through its agent */
	OMV_CMD_HELP,
};

struct omv_args {
	enum omv_cmd cmd;
	const char *uri;         /* --connect; NULL: libvirt's default */
	struct om_vdomain dom;   /* define, xml; undefine: the name */
	const char *hooks_dir;   /* install-hook */
	const char *hook;        /* install-hook: the program the hook runs */
	/* exec (and cp: the domain in dom.name) */
	char **argv;             /* the command, NULL-terminated */
	unsigned int timeout_s;  /* -t: 1-86400; 0: none */
	bool forward_stdin;      /* -i */
	/* cp FILE NAME:PATH */
	const char *src, *dst;
	unsigned int mode;       /* --mode, octal; else the file's */
	bool mode_set;
	char cp_name[65];        /* NAME of NAME:PATH (dom.name points here) */
};

extern const char omv_usage[];

/*
 * Parses argv into a. Returns 0, or -EINVAL with a message for the user in
 * err (the caller exits OMV_EXIT_USAGE). File paths are taken as given;
 * omv_files_resolve checks them.
 */
int omv_args_parse(int argc, char **argv, struct omv_args *a, char *err, size_t errlen);

#endif /* OM_VIRT_ARGS_H */
