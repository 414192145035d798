/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The user a cluster's QEMUs run as when it is not omcluster's own (up
 * --libvirt: libvirt runs QEMU as qemu.conf's user, or as a session
 * daemon's). That user's QEMU must reach the relay's node sockets and, for
 * libvirt's console log and agent channel, the node's directory: the
 * cluster's directories are given its group, and the relay lets its uid in.
 */
#ifndef OM_CLUSTER_QEMU_USER_H
#define OM_CLUSTER_QEMU_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct om_qemu_user {
	uid_t uid;
	gid_t gid;
};

/*
 * A user name or a numeric uid into u, its gid the user's primary group
 * (a uid without a passwd entry keeps gid = uid). -EINVAL for an empty or
 * malformed name, -ENOENT when no such user exists.
 */
int om_qemu_user_parse(const char *s, struct om_qemu_user *u);

/* Whether QEMU runs as ourselves (or as root): nothing to open up then. */
bool om_qemu_user_is_us(const struct om_qemu_user *u);

/*
 * Whether u can search every directory from / down to dir (by the mode
 * bits; ACLs and supplementary groups are not looked at, so a no may be
 * too strict, never too lax). 0; -EACCES with the first directory that
 * stops it in blocker; -errno when a directory cannot be looked at.
 */
int om_qemu_user_reaches(const struct om_qemu_user *u, const char *dir, char *blocker,
			 size_t cap);

/*
 * Opens dir (which we made) to u's group: group u->gid, the given mode
 * (its setgid bit makes what is created inside, sockets too, the group's).
 * 0 or -errno.
 */
int om_qemu_user_share(const struct om_qemu_user *u, const char *dir, mode_t mode);

#endif /* OM_CLUSTER_QEMU_USER_H */
