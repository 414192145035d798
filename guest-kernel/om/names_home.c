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

/* A name granted: the node may hold it until dropped. */
struct om_names_rec {
	u32 id;
	char *path;
	struct inode *dirs[OM_NAMES_DEPTH_MAX];	/* its directories, root first (marked: held) */
	int nr_dirs;
};

struct om_names_home {
	struct fsnotify_group *group;
	spinlock_t lock;	/* epoch, recs, node */
	u32 epoch;		/* changes seen: a grant is good only if none came meanwhile */
	/* Every name the node may hold (never fewer: a full table drops all first). */
	struct om_names_rec recs[OM_NAMES_MAX];
	int nr_recs;
	u32 last_id;
	u32 node;		/* where */
	bool in_call;		/* the deputy runs a forwarded call, its process waits for it */
	bool pending;		/* a drop @dropped for that call's answer */
	struct virtio_om_names dropped;
	int watched;
	struct mutex drop_lock;	/* one drop at a time: the second waits for the first's echo */
	struct file *mounts;	/* /proc/self/mounts of the deputy: its poll wakes on a mount */
	wait_queue_head_t *mounts_wqh;
	wait_queue_entry_t mounts_wait;
	poll_table mounts_pt;
	struct work_struct mounts_work;
	struct om_proc *deputy;	/* held: its stats count the drops */
};

/* Whether a name made in @dir (NULL: @dir's permissions changed) may make @r's path resolve. */
static bool om_names_touches(const struct om_names_rec *r, const struct inode *dir,
			     const struct qstr *name)
{
	const char *comp = r->path + 1, *end;
	int i;

	for (i = 0; i < r->nr_dirs; i++, comp = end + 1) {
		end = strchrnul(comp, '/');
		if (r->dirs[i] == dir &&
		    (!name || (end - comp == name->len && !memcmp(comp, name->name, name->len))))
			return true;
		if (!*end)
			break;
	}
	return false;
}

/* Forget record @i: under w->lock. */
static void om_names_unrec(struct om_names_home *w, int i)
{
	kfree(w->recs[i].path);
	w->recs[i] = w->recs[--w->nr_recs];
	w->recs[w->nr_recs].path = NULL;
}

/*
 * A change: what it may have touched the node drops (every name if @all,
 * else those through @dir named @name), and the maker waits for its echo.
 */
static void om_names_drop(struct om_names_home *w, const struct inode *dir,
			  const struct qstr *name, bool all)
{
	struct virtio_om_names n = {};
	struct kvec kv = { &n, sizeof(n) };
	struct om_kcom_out out = {
		.type = VIRTIO_OM_T_NAMES_DROP,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct om_kcom_msg *reply = NULL;
	int err, i, touched = 0;
	u32 id = 0;

	mutex_lock(&w->drop_lock);
	spin_lock(&w->lock);
	w->epoch++;
	for (i = 0; i < w->nr_recs; i++) {
		if (all || om_names_touches(&w->recs[i], dir, name)) {
			id = w->recs[i].id;
			touched++;
		}
	}
	/* One name, by its id; more, all of them. */
	if (touched > 1)
		id = 0;
	for (i = w->nr_recs - 1; touched && i >= 0; i--)
		if (!id || w->recs[i].id == id)
			om_names_unrec(w, i);
	n.epoch = cpu_to_le32(w->epoch);
	n.id = cpu_to_le32(id);
	out.dst_node = w->node;
	/*
	 * Made by the deputy in the call its process waits for: the drop
	 * rides in the call's answer, which the process reads before it
	 * looks up anything again (one drop of all if two touched).
	 */
	if (touched && w->in_call && current == w->deputy->task) {
		if (w->pending && w->dropped.id != n.id)
			n.id = 0;
		w->dropped = n;
		w->pending = true;
		touched = 0;
		atomic64_inc(&w->deputy->stats.names_drops);
	}
	spin_unlock(&w->lock);
	if (touched) {
		out.src_pid = w->deputy->home_pid;
		out.dst_pid = w->deputy->home_pid;
		atomic64_inc(&w->deputy->stats.names_drops);
		err = om_kcom_call(&out, 0, OM_NAMES_DROP_TIMEOUT, &reply);
		if (!err && om_kcom_msg_hdr(reply)->type != VIRTIO_OM_T_NAMES_DROPPED)
			err = -EPROTO;
		om_kcom_msg_free(reply);
		/* A node that does not answer has lost the process, or is about to. */
		if (err)
			pr_warn_ratelimited("omvm: pid %d: node %u did not drop the names it kept: %d\n",
					    w->deputy->home_pid, out.dst_node, err);
	}
	mutex_unlock(&w->drop_lock);
}

/* A name made or moved in (@dir, @name), or the marked directory's attributes (@inode). */
static int om_names_event(struct fsnotify_mark *mark, u32 mask, struct inode *inode,
			  struct inode *dir, const struct qstr *name, u32 cookie)
{
	om_names_drop(mark->group->private, name ? dir : inode, name, false);
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
	om_names_drop(container_of(work, struct om_names_home, mounts_work), NULL, NULL, true);
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
	while (w->nr_recs)
		om_names_unrec(w, 0);
	om_proc_put(w->deputy);
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
	w->deputy = p;
	refcount_inc(&p->ref);
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

/*
 * Record a grant of *@path (taken over) at @node, under w->lock: the id a
 * path granted before keeps. Return: its id.
 */
static u32 om_names_rec(struct om_names_home *w, u32 node, char **path, struct inode **dirs,
			int nr_dirs)
{
	struct om_names_rec *r;
	int i;

	/* Moved on since: what its node held went with its half there. */
	if (w->node != node)
		while (w->nr_recs)
			om_names_unrec(w, 0);
	w->node = node;
	for (i = 0; i < w->nr_recs && strcmp(w->recs[i].path, *path); i++)
		;
	r = &w->recs[i];
	if (i == w->nr_recs) {
		w->nr_recs++;
		r->path = *path;
		*path = NULL;
		r->id = ++w->last_id ?: ++w->last_id;
	}
	memcpy(r->dirs, dirs, nr_dirs * sizeof(*dirs));
	r->nr_dirs = nr_dirs;
	return r->id;
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
	/* Every name the node may hold is recorded: a full table drops them all first. */
	if (READ_ONCE(w->nr_recs) == OM_NAMES_MAX)
		om_names_drop(w, NULL, NULL, true);
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
	err = w->epoch == epoch && w->nr_recs < OM_NAMES_MAX ? 0 : -EAGAIN;
	if (!err)
		g->id = cpu_to_le32(om_names_rec(w, p->peer_node, &path, dirs, nr_dirs));
	spin_unlock(&w->lock);
	if (!err) {
		g->epoch = cpu_to_le32(epoch);
		atomic64_inc(&p->stats.names_granted);
	}
out:
	kfree(path);
	return err;
}

/**
 * om_names_call_begin() - the deputy runs a call its process waits for
 * @p: the deputy, in its own context
 */
void om_names_call_begin(struct om_proc *p)
{
	struct om_names_home *w = p->names_home;

	if (w) {
		spin_lock(&w->lock);
		w->in_call = true;
		spin_unlock(&w->lock);
	}
}

/**
 * om_names_call_end() - the call ran: what it dropped, for its answer
 * @p: the deputy, in its own context
 * @dropped: filled in if the call made a name the node knew absent
 *
 * Return: true if @dropped goes with the answer (SYSCALL_RET F_NAMES_DROP).
 */
bool om_names_call_end(struct om_proc *p, struct virtio_om_names *dropped)
{
	struct om_names_home *w = p->names_home;
	bool pending;

	if (!w)
		return false;
	spin_lock(&w->lock);
	w->in_call = false;
	pending = w->pending;
	w->pending = false;
	*dropped = w->dropped;
	spin_unlock(&w->lock);
	return pending;
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
