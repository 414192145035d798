// SPDX-License-Identifier: GPL-2.0-only
/*
 * Names that do not exist at home, known where the process runs
 * (docs/engine.md, "Names that do not exist"). A lookup by absolute path
 * that home answered -ENOENT, with its leave (SYSCALL_RET F_NAMES), is
 * answered here the next time, until home drops what it said (NAMES_DROP:
 * a directory of the path changed, or a mount did). A database that asks
 * twice a transaction whether its journal exists asks home once.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>

#include "om.h"

/**
 * om_names_path() - the path a lookup names, if its -ENOENT may be kept
 * @nr: the call
 * @args: its arguments
 *
 * Calls that only look a name up: -ENOENT means no such name, whatever the
 * call (stat, access, readlink, an open that creates nothing).
 *
 * Return: the user's path, or NULL.
 */
const char __user *om_names_path(long nr, const unsigned long args[6])
{
	switch (nr) {
	case __NR_stat:
	case __NR_lstat:
	case __NR_access:
	case __NR_readlink:
		return (const char __user *)args[0];
	case __NR_newfstatat:
	case __NR_statx:
	case __NR_faccessat:
	case __NR_faccessat2:
	case __NR_readlinkat:
		return (const char __user *)args[1];
	case __NR_open:
		return args[1] & (O_CREAT | __O_TMPFILE) ? NULL : (const char __user *)args[0];
	case __NR_openat:
		return args[2] & (O_CREAT | __O_TMPFILE) ? NULL : (const char __user *)args[1];
	}
	return NULL;
}

/* The call's path if it is one kept (absolute, short enough), into @buf. */
static bool om_names_copy(long nr, const unsigned long args[6], char *buf)
{
	const char __user *up = om_names_path(nr, args);
	long n;

	if (!up)
		return false;
	n = strncpy_from_user(buf, up, OM_NAMES_PATH_MAX);
	return n > 1 && n < OM_NAMES_PATH_MAX && buf[0] == '/';
}

/**
 * om_names_absent() - whether a lookup's name is one home said does not exist
 * @p: the process away, in its own context
 * @nr: the call
 * @args: its arguments
 *
 * Return: true if the call's answer is -ENOENT, known here.
 */
bool om_names_absent(struct om_proc *p, long nr, const unsigned long args[6])
{
	char buf[OM_NAMES_PATH_MAX];
	bool hit = false;
	int i;

	if (!READ_ONCE(p->names_kept) || !om_names_copy(nr, args, buf))
		return false;
	spin_lock(&p->lock);
	for (i = 0; i < OM_NAMES_MAX && !hit; i++)
		hit = p->names[i].path && !strcmp(p->names[i].path, buf);
	spin_unlock(&p->lock);
	if (hit)
		atomic64_inc(&p->stats.names_hits);
	return hit;
}

/* Forget the name home granted as @id, or every name for 0: under p->lock. */
static void om_names_clear(struct om_proc *p, u32 id)
{
	int i;

	for (i = 0; i < OM_NAMES_MAX; i++) {
		if (!p->names[i].path || (id && p->names[i].id != id))
			continue;
		kfree(p->names[i].path);
		p->names[i].path = NULL;
		p->names_kept--;
	}
}

/**
 * om_names_take() - keep the name a lookup's answer said does not exist
 * @p: the process away, in its own context
 * @nr: the call
 * @args: its arguments
 * @ret: its result
 *
 * Taken unless home dropped a later epoch meanwhile (its NAMES_DROP can
 * pass the answer on the way).
 */
void om_names_take(struct om_proc *p, long nr, const unsigned long args[6], long ret)
{
	u32 epoch = le32_to_cpu(p->names_grant.epoch), id = le32_to_cpu(p->names_grant.id);
	char buf[OM_NAMES_PATH_MAX];
	char *name;
	int i;

	if (ret != -ENOENT || !id || !om_names_copy(nr, args, buf))
		return;
	name = kstrdup(buf, GFP_KERNEL);
	if (!name)
		return;
	spin_lock(&p->lock);
	if ((s32)(epoch - p->names_epoch) < 0) {
		spin_unlock(&p->lock);
		kfree(name);
		return;
	}
	p->names_epoch = epoch;
	/* Home names a path it granted before by the same id. */
	for (i = 0; i < OM_NAMES_MAX; i++) {
		if (p->names[i].path && !strcmp(p->names[i].path, name)) {
			p->names[i].id = id;
			spin_unlock(&p->lock);
			kfree(name);
			return;
		}
	}
	/* A free place, else the oldest taken goes. */
	for (i = 0; i < OM_NAMES_MAX && p->names[i].path; i++)
		;
	if (i == OM_NAMES_MAX) {
		i = p->names_next;
		p->names_next = (i + 1) % OM_NAMES_MAX;
	} else {
		p->names_kept++;
	}
	swap(p->names[i].path, name);
	p->names[i].id = id;
	spin_unlock(&p->lock);
	kfree(name);
	atomic64_inc(&p->stats.names_granted);
}

/* Calls after which a name may resolve otherwise with no directory changed. */
static bool om_names_changes_view(long nr)
{
	switch (nr) {
	case __NR_chroot:
	case __NR_pivot_root:
	case __NR_execve:
	case __NR_execveat:
	case __NR_unshare:
	case __NR_setns:
	case __NR_prctl:
	case __NR_capset:
	case __NR_setuid:
	case __NR_setgid:
	case __NR_setreuid:
	case __NR_setregid:
	case __NR_setresuid:
	case __NR_setresgid:
	case __NR_setfsuid:
	case __NR_setfsgid:
	case __NR_setgroups:
	case __NR_mount:
	case __NR_umount2:
	case __NR_move_mount:
	case __NR_mount_setattr:
		return true;
	}
	return false;
}

/**
 * om_names_before() - forget the names before a call that changes the view
 * @p: the process away, in its own context
 * @nr: the call it makes
 *
 * Its root, its credentials (search permission) or its mounts: home's
 * watch of the directories does not see those.
 */
void om_names_before(struct om_proc *p, long nr)
{
	if (!READ_ONCE(p->names_kept) || !om_names_changes_view(nr))
		return;
	spin_lock(&p->lock);
	om_names_clear(p, 0);
	spin_unlock(&p->lock);
}

/* The process's half ends here. */
void om_names_forget(struct om_proc *p)
{
	spin_lock(&p->lock);
	om_names_clear(p, 0);
	spin_unlock(&p->lock);
}

/**
 * om_names_dropped() - forget what home dropped
 * @p: the process away
 * @n: the drop (NAMES_DROP's, or a call's answer's F_NAMES_DROP)
 */
void om_names_dropped(struct om_proc *p, const struct virtio_om_names *n)
{
	spin_lock(&p->lock);
	om_names_clear(p, le32_to_cpu(n->id));
	if ((s32)(le32_to_cpu(n->epoch) - p->names_epoch) > 0)
		p->names_epoch = le32_to_cpu(n->epoch);
	spin_unlock(&p->lock);
	atomic64_inc(&p->stats.names_drops);
}

/**
 * om_names_drop_recv() - home drops the names it said do not exist
 * @msg: NAMES_DROP (the caller frees it)
 *
 * Context: kcom's receive worker, whatever the process does meanwhile: the
 * maker of the change at home waits for the echo.
 */
void om_names_drop_recv(struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_names n;
	struct kvec kv = { &n, sizeof(n) };
	struct om_kcom_out out = {
		.dst_node = h->src_node,
		.type = VIRTIO_OM_T_NAMES_DROPPED,
		.flags = VIRTIO_OM_F_REPLY,
		.reply_to = h->seq,
		.src_pid = h->dst_pid,
		.dst_pid = h->dst_pid,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct om_proc *p;

	if (om_kcom_msg_copy(msg, 0, &n, sizeof(n)) != sizeof(n))
		return;
	/* Home names its own processes only: the key holds its node. */
	p = om_proc_find(false, h->src_node, h->dst_pid);
	if (p) {
		om_names_dropped(p, &n);
		om_proc_put(p);
	}
	/* Echoed even for a process gone from here: it holds no name then. */
	om_kcom_send(&out, OM_KCOM_NONBLOCK, NULL);
}
