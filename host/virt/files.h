/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The files a domain boots from: the build's own unless given, each checked
 * to exist and made absolute, since libvirt's daemon opens them from its own
 * working directory, later, maybe as another user.
 */
#ifndef OM_VIRT_FILES_H
#define OM_VIRT_FILES_H

#include <limits.h>
#include <stddef.h>

#include "domain-xml.h"

struct omv_files {
	char emulator[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX], disk[PATH_MAX];
};

/*
 * Fills in d's defaults (the build's QEMU, kernel and initramfs; the
 * firmware directories), checks every file exists (the emulator
 * executable) and points d at their absolute paths, kept in f. 0, or
 * -ENOENT/-EACCES with a message naming the file in err.
 */
int omv_files_resolve(struct om_vdomain *d, struct omv_files *f, char *err, size_t errlen);

#endif /* OM_VIRT_FILES_H */
