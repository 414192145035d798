// SPDX-License-Identifier: GPL-2.0-only
#include "qemu-user.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int om_qemu_user_parse(const char *s, struct om_qemu_user *u)
{
	struct passwd *pw;
	unsigned long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || *end || v >= UINT_MAX)
			return -EINVAL;
		pw = getpwuid((uid_t)v);
		u->uid = (uid_t)v;
		/* A bare uid (a container's, say) keeps its own number as its group. */
		u->gid = pw ? pw->pw_gid : (gid_t)v;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -ENOENT;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

bool om_qemu_user_is_us(const struct om_qemu_user *u)
{
	return u->uid == 0 || u->uid == geteuid();
}

static bool may_search(const struct om_qemu_user *u, const struct stat *sb)
{
	if (u->uid == 0)
		return true;
	if (sb->st_uid == u->uid)
		return sb->st_mode & S_IXUSR;
	if (sb->st_gid == u->gid)
		return sb->st_mode & S_IXGRP;
	return sb->st_mode & S_IXOTH;
}

int om_qemu_user_reaches(const struct om_qemu_user *u, const char *dir, char *blocker,
			 size_t cap)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	struct stat sb;

	if (dir[0] != '/' || len >= sizeof(path))
		return -EINVAL;
	if (stat("/", &sb) < 0)
		return -errno;
	if (!may_search(u, &sb)) {
		snprintf(blocker, cap, "/");
		return -EACCES;
	}
	/* Each prefix ending before a slash, then dir itself: /tmp, /tmp/x. */
	for (size_t i = 1; i <= len; i++) {
		if ((i < len && dir[i] != '/') || dir[i - 1] == '/')
			continue;
		memcpy(path, dir, i);
		path[i] = '\0';
		if (stat(path, &sb) < 0)
			return -errno;
		if (!may_search(u, &sb)) {
			snprintf(blocker, cap, "%s", path);
			return -EACCES;
		}
	}
	return 0;
}

int om_qemu_user_share(const struct om_qemu_user *u, const char *dir, mode_t mode)
{
	if (chown(dir, (uid_t)-1, u->gid) < 0 || chmod(dir, mode) < 0)
		return -errno;
	return 0;
}
