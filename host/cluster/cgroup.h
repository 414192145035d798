/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A cluster's cgroup (v2): every process omcluster starts for a cluster is
 * put in it before it runs its program, so that down ends exactly those
 * processes and whatever they started, and nothing else, whatever its
 * command line or environment says.
 */
#ifndef OM_CLUSTER_CGROUP_H
#define OM_CLUSTER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

/* Names the cgroup clusters' cgroups are made in (a cgroup v2 directory), or "none". */
#define OM_CGROUP_PARENT_ENV "OMCLUSTER_CGROUP_PARENT"

/*
 * Where clusters' cgroups are made: $OMCLUSTER_CGROUP_PARENT, else the
 * cgroup v2 directory omcluster runs in (from /proc/self/cgroup and the
 * cgroup2 mount). -ENOTSUP when the variable says "none", -ENOENT when
 * there is no cgroup v2 hierarchy, -ENAMETOOLONG.
 */
int om_cgroup_parent(char *out, size_t cap);

/*
 * PARENT/omcluster.NAME.HASH, HASH from the cluster's directory: two
 * clusters of one name in two run directories get two cgroups.
 */
int om_cgroup_path(const char *parent, const char *name, const char *dir, char *out, size_t cap);

/*
 * Makes the cgroup at path (one left empty by a killed up is taken over;
 * -EBUSY when it has processes) and checks that processes can be moved in.
 * -errno: -EACCES/-EPERM/-EROFS when cgroup v2 is not ours to write.
 */
int om_cgroup_create(const char *path);

/*
 * Moves the calling process into path. Async-signal-safe: a spawned child
 * calls it between fork and exec, so nothing runs outside the cgroup.
 */
int om_cgroup_enter(const char *path);

struct om_cgroup_usage {
	unsigned int procs;
	unsigned long long memory; /* bytes */
	bool memory_is_rss; /* no memory controller here: the members' resident sizes summed */
};

/* How many processes the cgroup has and the memory they use; -ENOENT when it is gone. */
int om_cgroup_usage(const char *path, struct om_cgroup_usage *u);

/*
 * Ends every member of the cgroup, then removes it: SIGTERM to each, then
 * after timeout_ms whatever is left is killed (cgroup.kill, or SIGKILL to
 * each member where the kernel has no cgroup.kill), for at most 5 s more.
 * Members are signalled through pidfds checked to be in the cgroup, so a
 * pid reused meanwhile is never hit. 0 when the cgroup is gone (or was not
 * there), else how many processes remain, or -errno.
 */
int om_cgroup_stop(const char *path, unsigned int timeout_ms);

#endif /* OM_CLUSTER_CGROUP_H */
