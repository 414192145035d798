// SPDX-License-Identifier: GPL-2.0-only
#include "install-hook.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_NAME "omvm"

/* omvirt-hook beside our own executable: the build tree and an install alike. */
static int find_hook(char out[PATH_MAX])
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return -errno;
	self[n] = '\0';
	if ((size_t)snprintf(out, PATH_MAX, "%s/omvirt-hook", dirname(self)) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int mkdir_one(const char *dir)
{
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
}

static int write_script(const char *path, const char *hook)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	fprintf(f, "#!/bin/sh\n"
		   "# omvm: refuses to start an om domain whose relay (omhostd) does not\n"
		   "# serve its node (docs/libvirt.md). Written by omvirt install-hook.\n"
		   "exec '%s' \"$@\"\n",
		hook);
	/* fchmod: the mode must not depend on the installer's umask. */
	if (fflush(f) || fchmod(fd, 0755) || fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int omv_install_hook(const char *hooks_dir, const char *hook, char *path, size_t pathcap,
		     char *err, size_t errlen)
{
	char found[PATH_MAX], abs_hook[PATH_MAX], dir[PATH_MAX];
	int r;

	if (!hook) {
		r = find_hook(found);
		if (r) {
			snprintf(err, errlen, "cannot find omvirt-hook beside omvirt: %s", strerror(-r));
			return r;
		}
		hook = found;
	}
	if (!realpath(hook, abs_hook) || access(abs_hook, X_OK)) {
		r = -errno;
		snprintf(err, errlen, "hook program %s: %s", hook, strerror(-r));
		return r;
	}
	/* The script quotes it in single quotes. */
	if (strchr(abs_hook, '\'')) {
		snprintf(err, errlen, "hook program %s: a path with a quote is not supported",
			 abs_hook);
		return -EINVAL;
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/qemu.d", hooks_dir) >= sizeof(dir) ||
	    (size_t)snprintf(path, pathcap, "%s/" HOOK_NAME, dir) >= pathcap) {
		snprintf(err, errlen, "hooks directory %s: path too long", hooks_dir);
		return -ENAMETOOLONG;
	}
	r = mkdir_one(hooks_dir);
	if (!r)
		r = mkdir_one(dir);
	if (!r)
		r = write_script(path, abs_hook);
	if (r)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
	return r;
}
