// SPDX-License-Identifier: GPL-2.0-only
/*
 * Names that do not exist, said by home to a process away (docs/engine.md,
 * "Names that do not exist"). A lookup by absolute path the deputy ran
 * returned -ENOENT: every directory of the path is watched (an fsnotify
 * mark of the deputy's group: a name made, moved in, or the directory's
 * permissions changed) and so are the deputy's mounts (the poll of
 * /proc/self/mounts); the answer then says the node may keep the name
 * (SYSCALL_RET F_NAMES, with the epoch it was looked at in). A change
 * drops every name kept (NAMES_DROP, a new epoch) and waits for the node's
 * echo: the process that made the name returns after the node forgot it.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify_backend.h>
#include <linux/moduleparam.h>
#include <linux/namei.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "om.h"

/* om.names: 0 stops new grants (a benchmark's baseline); those made stand until dropped. */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
static bool om_names_on = true;
module_param_named(names, om_names_on, bool, 0644);

/* What may make a name appear in a watched directory, or let it be searched otherwise. */
#define OM_NAMES_EVENTS (FS_CREATE | FS_MOVED_TO | FS_ATTRIB)
/* Directories one deputy watches, at most. */
#define OM_NAMES_WATCH_MAX 64
/* How long a change waits for the node's echo. */
#define OM_NAMES_DROP_TIMEOUT (10 * HZ)

struct om_names_home {
	struct fsnotify_group *group;
	spinlock_t lock;	/* epoch, granted, node */
	u32 epoch;		/* changes seen: a grant is good only if none came meanwhile */
	bool granted;		/* the node may hold names of this epoch */
	u32 node;		/* where */
	pid_t pid;		/* the process's (home) pid */
	int watched;
	struct mutex drop_lock;	/* one drop at a time: the second waits for the first's echo */
	struct file *mounts;	/* /proc/self/mounts of the deputy: its poll wakes on a mount */
	wait_queue_head_t *mounts_wqh;
	wait_queue_entry_t mounts_wait;
	poll_table mounts_pt;
	struct work_struct mounts_work;
	atomic64_t *drops;	/* the deputy's names_drops */
};

/* Drop what the node holds (if anything) and wait for its echo. */
static void om_names_drop(struct om_names_home *w)
{
	struct virtio_om_names n = {};
	struct kvec kv = { &n, sizeof(n) };
	struct om_kcom_out out = {
		.type = VIRTIO_OM_T_NAMES_DROP,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct om_kcom_msg *reply = NULL;
	bool granted;
	int err;

	mutex_lock(&w->drop_lock);
	spin_lock(&w->lock);
	w->epoch++;
	granted = w->granted;
	w->granted = false;
	n.epoch = cpu_to_le32(w->epoch);
	out.dst_node = w->node;
	spin_unlock(&w->lock);
	if (granted) {
		out.src_pid = w->pid;
		out.dst_pid = w->pid;
		atomic64_inc(w->drops);
		err = om_kcom_call(&out, 0, OM_NAMES_DROP_TIMEOUT, &reply);
		if (!err && om_kcom_msg_hdr(reply)->type != VIRTIO_OM_T_NAMES_DROPPED)
			err = -EPROTO;
		om_kcom_msg_free(reply);
		/* A node that does not answer has lost the process, or is about to. */
		if (err)
			pr_warn_ratelimited("omvm: pid %d: node %u did not drop the names it kept: %d\n",
					    w->pid, out.dst_node, err);
	}
	mutex_unlock(&w->drop_lock);
}

static int om_names_event(struct fsnotify_mark *mark, u32 mask, struct inode *inode,
			  struct inode *dir, const struct qstr *name, u32 cookie)
{
	om_names_drop(mark->group->private);
	return 0;
}

static void om_names_free_mark(struct fsnotify_mark *mark)
{
	kfree(mark);
}

static const struct fsnotify_ops om_names_fsn_ops = {
	.handle_inode_event = om_names_event,
	.free_mark = om_names_free_mark,
};

static void om_names_mounts_work(struct work_struct *work)
{
	om_names_drop(container_of(work, struct om_names_home, mounts_work));
}

/* A mount or unmount in the deputy's namespace (atomic: the drop is queued). */
static int om_names_mounts_wake(struct wait_queue_entry *wait, unsigned int mode, int sync,
				void *key)
{
	struct om_names_home *w = container_of(wait, struct om_names_home, mounts_wait);

	spin_lock(&w->lock);
	w->epoch++;
	spin_unlock(&w->lock);
	schedule_work(&w->mounts_work);
	return 0;
}

static void om_names_mounts_queue(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct om_names_home *w = container_of(pt, struct om_names_home, mounts_pt);

	if (w->mounts_wqh)
		return;
	w->mounts_wqh = wqh;
	init_waitqueue_func_entry(&w->mounts_wait, om_names_mounts_wake);
	add_wait_queue(wqh, &w->mounts_wait);
}

static void om_names_home_free(struct om_names_home *w)
{
	if (w->mounts_wqh)
		remove_wait_queue(w->mounts_wqh, &w->mounts_wait);
	cancel_work_sync(&w->mounts_work);
	if (w->mounts)
		fput(w->mounts);
	if (w->group)
		fsnotify_destroy_group(w->group);
	kfree(w);
}

/* The deputy's watcher, made at its first grant (in its context: its mounts). */
static struct om_names_home *om_names_watcher(struct om_proc *p)
{
	struct om_names_home *w = p->names_home;

	if (w)
		return w;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return NULL;
	spin_lock_init(&w->lock);
	mutex_init(&w->drop_lock);
	INIT_WORK(&w->mounts_work, om_names_mounts_work);
	w->pid = p->home_pid;
	w->drops = &p->stats.names_drops;
	w->group = fsnotify_alloc_group(&om_names_fsn_ops, 0);
	if (IS_ERR(w->group)) {
		w->group = NULL;
		goto fail;
	}
	w->group->private = w;
	w->mounts = filp_open("/proc/self/mounts", O_RDONLY, 0);
	if (IS_ERR(w->mounts)) {
		w->mounts = NULL;
		goto fail;
	}
	init_poll_funcptr(&w->mounts_pt, om_names_mounts_queue);
	vfs_poll(w->mounts, &w->mounts_pt);
	if (!w->mounts_wqh)
		goto fail;
	p->names_home = w;
	return w;
fail:
	om_names_home_free(w);
	return NULL;
}

/* Watch @inode (a directory of a path) for names made in it. */
static int om_names_watch(struct om_names_home *w, struct inode *inode)
{
	struct fsnotify_mark *mark = fsnotify_find_inode_mark(inode, w->group);
	int err;

	if (mark) {
		fsnotify_put_mark(mark);
		return 0;
	}
	if (w->watched >= OM_NAMES_WATCH_MAX)
		return -ENOSPC;
	mark = kzalloc(sizeof(*mark), GFP_KERNEL);
	if (!mark)
		return -ENOMEM;
	fsnotify_init_mark(mark, w->group);
	mark->mask = OM_NAMES_EVENTS;
	err = fsnotify_add_inode_mark(mark, inode, 0);
	fsnotify_put_mark(mark);
	if (!err)
		w->watched++;
	return err;
}

/* One directory of a path: 1 if it does not exist, -EINVAL if not a directory. */
static int om_names_dir(struct om_names_home *w, const char *prefix, struct inode **dirs, int *nr,
			bool watch)
{
	struct path pp;
	int err = kern_path(prefix, 0, &pp);

	/* Missing: a name made in the directory before it is seen there. */
	if (err == -ENOENT)
		return 1;
	if (err)
		return err;
	/* A symbolic link's target may be made by a change elsewhere. */
	if (*nr == OM_NAMES_DEPTH_MAX || !d_is_dir(pp.dentry)) {
		path_put(&pp);
		return -EINVAL;
	}
	dirs[(*nr)++] = d_inode(pp.dentry);
	err = watch ? om_names_watch(w, d_inode(pp.dentry)) : 0;
	path_put(&pp);
	return err;
}

/*
 * The directories of @path from the root to the last name's, as far as
 * they exist, into @dirs (watched first if @watch).
 */
static int om_names_dirs(struct om_names_home *w, char *path, struct inode **dirs, int *nr,
			 bool watch)
{
	char *slash;
	int err;

	*nr = 0;
	err = om_names_dir(w, "/", dirs, nr, watch);
	for (slash = strchr(path + 1, '/'); slash && !err; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		err = om_names_dir(w, path, dirs, nr, watch);
		*slash = '/';
	}
	return err < 0 ? err : 0;
}

/* An absolute path of plain names: no empty, "." or ".." component, no trailing slash. */
static bool om_names_plain(const char *path)
{
	const char *c = path;

	while (*c == '/') {
		const char *end = strchrnul(c + 1, '/');
		size_t len = end - c - 1;

		if (!len || (len == 1 && c[1] == '.') || (len == 2 && c[1] == '.' && c[2] == '.'))
			return false;
		c = end;
	}
	return !*c;
}

/**
 * om_names_grant() - let the node keep a lookup's "no such name"
 * @p: the deputy, in its own context, after the call
 * @nr: the call it ran
 * @args: its arguments
 * @ret: its result
 * @g: filled in for the answer
 *
 * Return: 0 (the node may keep it), or -errno.
 */
int om_names_grant(struct om_proc *p, long nr, const unsigned long args[6], long ret,
		   struct virtio_om_names *g)
{
	struct inode *dirs[OM_NAMES_DEPTH_MAX], *again[OM_NAMES_DEPTH_MAX];
	const struct cred *c = current_cred();
	const char __user *up;
	int nr_dirs, nr_again, err;
	struct om_names_home *w;
	struct path pp;
	char *path;
	u32 epoch;
	long n;

	up = om_names_path(nr, args);
	if (!om_names_on || ret != -ENOENT || !up || !p->peer_node)
		return -EINVAL;
	/* One set of ids: search permission is the same whichever lookup asks (access()). */
	if (!uid_eq(c->uid, c->euid) || !uid_eq(c->uid, c->fsuid) ||
	    !gid_eq(c->gid, c->egid) || !gid_eq(c->gid, c->fsgid))
		return -EPERM;
	path = kmalloc(OM_NAMES_PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	n = strncpy_from_user(path, up, OM_NAMES_PATH_MAX);
	err = -EINVAL;
	if (n < 2 || n >= OM_NAMES_PATH_MAX || path[0] != '/' || !om_names_plain(path))
		goto out;
	err = -ENOMEM;
	w = om_names_watcher(p);
	if (!w)
		goto out;
	/* Watched before they are looked at: a change after shows in the epoch. */
	err = om_names_dirs(w, path, dirs, &nr_dirs, true);
	if (err)
		goto out;
	spin_lock(&w->lock);
	epoch = w->epoch;
	spin_unlock(&w->lock);
	/* Looked at again after the epoch was read: a change before shows here. */
	err = om_names_dirs(w, path, again, &nr_again, false);
	if (err)
		goto out;
	err = -EAGAIN;
	if (nr_again != nr_dirs || memcmp(dirs, again, nr_dirs * sizeof(*dirs)))
		goto out;
	err = kern_path(path, 0, &pp);
	if (!err) {
		path_put(&pp);
		err = -EEXIST;
		goto out;
	}
	if (err != -ENOENT)
		goto out;
	spin_lock(&w->lock);
	err = w->epoch == epoch ? 0 : -EAGAIN;
	if (!err) {
		w->granted = true;
		w->node = p->peer_node;
	}
	spin_unlock(&w->lock);
	if (!err) {
		g->epoch = cpu_to_le32(epoch);
		g->reserved = 0;
		atomic64_inc(&p->stats.names_granted);
	}
out:
	kfree(path);
	return err;
}

/* The deputy ends: no name it said stands any more. */
void om_names_home_forget(struct om_proc *p)
{
	struct om_names_home *w = p->names_home;

	if (!w)
		return;
	p->names_home = NULL;
	om_names_home_free(w);
}
