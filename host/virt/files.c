// SPDX-License-Identifier: GPL-2.0-only
#include "files.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char build_hint[] = "; build it (meson compile -C " OM_BUILD_ROOT ") or give its path";

/*
 * path made absolute, symlinks kept: the build's QEMU is a link into a
 * cache whose trees come and go, the link stays.
 */
static int absolute(const char *path, char out[PATH_MAX])
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return (size_t)snprintf(out, PATH_MAX, "%s", path) < PATH_MAX ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return (size_t)snprintf(out, PATH_MAX, "%s/%s", cwd, path) < PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* path's absolute form into out if it is a regular file we may read (or run). */
static int resolve(const char *what, const char *given, const char *def, int mode,
		   char out[PATH_MAX], char *err, size_t errlen)
{
	const char *path = given ? given : def, *hint = given ? "" : build_hint;
	struct stat st;
	int r = absolute(path, out);

	if (r || stat(out, &st)) {
		int e = r ? -r : errno;

		snprintf(err, errlen, "%s %s: %s%s", what, path,
			 e == ENOENT ? "no such file" : strerror(e), hint);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		return -EINVAL;
	}
	if (access(out, mode)) {
		int e = errno;

		snprintf(err, errlen, "%s %s: %s", what, path,
			 mode == X_OK ? "not executable" : strerror(e));
		return -e;
	}
	return 0;
}

int omv_files_resolve(struct om_vdomain *d, struct omv_files *f, char *err, size_t errlen)
{
	/* A kernel boots unless only a disk is given; its initramfs comes with it. */
	bool boot_kernel = d->kernel || !d->disk;
	int r;

	r = resolve("emulator", d->emulator, OM_DEFAULT_QEMU, X_OK, f->emulator, err, errlen);
	if (!r && boot_kernel)
		r = resolve("kernel", d->kernel, OM_DEFAULT_KERNEL, R_OK, f->kernel, err, errlen);
	if (!r && boot_kernel)
		r = resolve("initramfs", d->initrd, OM_DEFAULT_INITRD, R_OK, f->initrd, err,
			    errlen);
	if (!r && d->disk)
		r = resolve("disk", d->disk, NULL, R_OK, f->disk, err, errlen);
	if (r)
		return r;
	d->emulator = f->emulator;
	d->kernel = boot_kernel ? f->kernel : NULL;
	d->initrd = boot_kernel ? f->initrd : NULL;
	d->disk = d->disk ? f->disk : NULL;
	d->firmware[0] = OM_FIRMWARE_DIR_BIOS;
	d->firmware[1] = OM_FIRMWARE_DIR_ROMS;
	return 0;
}
