// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files of home that a process away runs or maps ("rfiles"), where it
 * runs: the programs it execs (and their interpreters), and the files it
 * maps privately (a dynamic program's libraries). Their deputy opens them
 * at home with home's rules; here each file is kept as a copy in memory,
 * one per file and version (home node, device, inode, size and change
 * times), made on first use and shared by every process that uses that
 * version. A file home changes is a new version, fetched again; a copy no
 * one maps may be dropped to keep the cache within its bound.
 *
 * Exec runs here on the copy: execve() of the caller's path, which opens
 * the copy (core patch 0012), so every rule of exec holds and the new
 * program is named as at home; the deputy then does at home what exec
 * does there (rfile_home.c).
 * What must run at home goes home for the call: set-id programs, file
 * capabilities, #! scripts, files on noexec mounts, shared mappings, and
 * the exec of a caller whose credentials exec would change.
 */
#include <linux/binfmts.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/om.h>
#include <asm/unistd.h>

#include "om.h"

/* The copies kept at most, in bytes, whatever memory the node has. */
#define OM_RFILE_CACHE_MIN (64ULL << 20)

struct om_rfile {
	struct hlist_node hash;
	struct list_head lru;	/* most recently used first */
	struct kref ref;	/* the cache's while listed, and each waiter's */
	struct completion filled; /* its fetch is over: @file set, or @err */
	int err;
	u32 node;
	u64 dev, ino, size;
	s64 mtime_ns, ctime_ns;
	struct file *file;	/* the copy: a shmem file, filled (NULL while it fills) */
};

/*
 * The cache of copies, under om_rfile_lock; a copy fills without it, so
 * one slow fetch holds up only those that want the same version.
 */
static DEFINE_MUTEX(om_rfile_lock);
static DEFINE_HASHTABLE(om_rfiles, 6);
static LIST_HEAD(om_rfile_lru);
static u64 om_rfile_bytes;
static atomic64_t om_rfile_fetched = ATOMIC64_INIT(0);
static atomic64_t om_rfile_hits = ATOMIC64_INIT(0);

/* /proc/hpc/admin/stats: the cache's state. */
void om_rfile_stats(u64 *files, u64 *bytes, u64 *fetched, u64 *hits)
{
	struct om_rfile *r;

	*files = 0;
	mutex_lock(&om_rfile_lock);
	list_for_each_entry(r, &om_rfile_lru, lru)
		(*files)++;
	*bytes = om_rfile_bytes;
	mutex_unlock(&om_rfile_lock);
	*fetched = atomic64_read(&om_rfile_fetched);
	*hits = atomic64_read(&om_rfile_hits);
}

static u64 om_rfile_cache_max(void)
{
	return max_t(u64, OM_RFILE_CACHE_MIN, (totalram_pages() << PAGE_SHIFT) / 8);
}

static u32 om_rfile_key(u32 node, const struct virtio_om_rfile_info *i)
{
	return hash_64(le64_to_cpu(i->ino) ^ (le64_to_cpu(i->dev) << 20) ^ node, 32);
}

static bool om_rfile_same(const struct om_rfile *r, u32 node, const struct virtio_om_rfile_info *i)
{
	return r->node == node && r->dev == le64_to_cpu(i->dev) && r->ino == le64_to_cpu(i->ino) &&
	       r->size == le64_to_cpu(i->size) && r->mtime_ns == (s64)le64_to_cpu(i->mtime_ns) &&
	       r->ctime_ns == (s64)le64_to_cpu(i->ctime_ns);
}

static void om_rfile_free(struct kref *ref)
{
	struct om_rfile *r = container_of(ref, struct om_rfile, ref);

	/* Mappings and programs of it keep their own references. */
	if (r->file)
		fput(r->file);
	kfree(r);
}

/* Off the cache (under om_rfile_lock); freed with its last waiter. */
static void om_rfile_unlist(struct om_rfile *r)
{
	hash_del(&r->hash);
	list_del(&r->lru);
	om_rfile_bytes -= r->size;
	kref_put(&r->ref, om_rfile_free);
}

/* Make room for @size more bytes: the least recently used copies go, not one that fills. */
static void om_rfile_make_room(u64 size)
{
	struct om_rfile *r, *tmp;

	list_for_each_entry_safe_reverse(r, tmp, &om_rfile_lru, lru) {
		if (om_rfile_bytes + size <= om_rfile_cache_max())
			break;
		if (r->file)
			om_rfile_unlist(r);
	}
}

/* Fill @copy with the file the deputy holds as @handle, @size bytes. */
static int om_rfile_fetch(struct om_proc *p, __le32 handle, struct file *copy, u64 size)
{
	const u32 chunk = VIRTIO_OM_MAX_PAYLOAD - sizeof(struct virtio_om_rfile_data);
	struct virtio_om_rfile_read rq = { .handle = handle };
	struct kvec kv = { &rq, sizeof(rq) };
	struct virtio_om_rfile_data data;
	struct om_kcom_msg *reply;
	void *buf = kvmalloc(chunk, GFP_KERNEL);
	loff_t pos = 0;
	u32 len;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (!err && pos < size) {
		rq.offset = cpu_to_le64(pos);
		rq.len = cpu_to_le32(min_t(u64, chunk, size - pos));
		err = om_call_expect(p, VIRTIO_OM_T_RFILE_READ, &kv, 1, OM_STEP_TIMEOUT,
				     VIRTIO_OM_T_RFILE_DATA, &data, sizeof(data), &reply);
		if (err)
			break;
		len = le32_to_cpu(data.len);
		err = om_wire_errno(data.error);
		/* Shorter than its size said: changed at home meanwhile. */
		if (!err && (!len || len > le32_to_cpu(rq.len) ||
			     om_kcom_msg_copy(reply, sizeof(data), buf, len) != len))
			err = -ESTALE;
		om_kcom_msg_free(reply);
		if (!err && kernel_write(copy, buf, len, &pos) != len)
			err = -ENOMEM;
		cond_resched();
	}
	kvfree(buf);
	return err;
}

/*
 * Wait for the copy another process fills. NULL: its fetch failed (the
 * caller tries itself: the failure may have been that process's, a signal).
 */
static struct file *om_rfile_wait(struct om_rfile *r)
{
	struct file *copy = NULL;
	int err = wait_for_completion_killable(&r->filled);

	if (!err && r->file)
		copy = get_file(r->file);
	kref_put(&r->ref, om_rfile_free);
	if (err)
		return ERR_PTR(-EINTR);
	if (copy)
		atomic64_inc(&om_rfile_hits);
	return copy;
}

/*
 * Fill @r, listed already, with the file the deputy holds; -errno unlists
 * it. Takes the caller's reference to @r.
 */
static struct file *om_rfile_fill(struct om_proc *p, struct om_rfile *r, __le32 handle,
				  const char *name)
{
	struct file *copy = shmem_kernel_file_setup(name, r->size, VM_NORESERVE);
	int err = PTR_ERR_OR_ZERO(copy);

	if (!err)
		err = om_rfile_fetch(p, handle, copy, r->size);
	/*
	 * Filled, it is home's file as it is: no one writes it again, root
	 * included (reopened through /proc/PID/fd or /proc/PID/exe, a copy
	 * every later exec of that version runs would otherwise be open to
	 * anyone on this node).
	 */
	if (!err)
		SHMEM_I(file_inode(copy))->seals |= F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
						     F_SEAL_WRITE;
	mutex_lock(&om_rfile_lock);
	if (err) {
		r->err = err;
		om_rfile_unlist(r);
	} else {
		r->file = get_file(copy);
	}
	mutex_unlock(&om_rfile_lock);
	complete_all(&r->filled);
	kref_put(&r->ref, om_rfile_free);
	if (err) {
		if (!IS_ERR(copy))
			fput(copy);
		return ERR_PTR(err);
	}
	atomic64_inc(&om_rfile_fetched);
	return copy;
}

/* The copy of the file home described in @info: found, or fetched now. */
static struct file *om_rfile_copy(struct om_proc *p, const struct virtio_om_rfile_info *info,
				  const char *name)
{
	u32 key = om_rfile_key(p->home_node, info);
	struct om_rfile *r;
	struct file *copy;

again:
	if (mutex_lock_killable(&om_rfile_lock))
		return ERR_PTR(-EINTR);
	hash_for_each_possible(om_rfiles, r, hash, key) {
		if (!om_rfile_same(r, p->home_node, info))
			continue;
		list_move(&r->lru, &om_rfile_lru);
		if (r->file) {
			copy = get_file(r->file);
			mutex_unlock(&om_rfile_lock);
			atomic64_inc(&om_rfile_hits);
			return copy;
		}
		kref_get(&r->ref);
		mutex_unlock(&om_rfile_lock);
		copy = om_rfile_wait(r);
		if (!copy)
			goto again;
		return copy;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		mutex_unlock(&om_rfile_lock);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&r->ref);
	init_completion(&r->filled);
	r->node = p->home_node;
	r->dev = le64_to_cpu(info->dev);
	r->ino = le64_to_cpu(info->ino);
	r->size = le64_to_cpu(info->size);
	r->mtime_ns = le64_to_cpu(info->mtime_ns);
	r->ctime_ns = le64_to_cpu(info->ctime_ns);
	om_rfile_make_room(r->size);
	hash_add(om_rfiles, &r->hash, key);
	list_add(&r->lru, &om_rfile_lru);
	om_rfile_bytes += r->size;
	kref_get(&r->ref); /* the filler's */
	mutex_unlock(&om_rfile_lock);
	return om_rfile_fill(p, r, info->handle, name);
}

static void om_rfile_close(struct om_proc *p, __le32 handle, u32 flags)
{
	struct virtio_om_rfile_close c = { .handle = handle, .flags = cpu_to_le32(flags) };
	struct kvec kv = { &c, sizeof(c) };

	/* Lost only with home: the deputy then ends, and with it what it held. */
	om_send(p, VIRTIO_OM_T_RFILE_CLOSE, 0, 0, &kv, 1, NULL, 0, NULL);
}

/*
 * Have the deputy open a file of home (@kind: by @path, or the process's
 * @fd) and give its copy here. On success the deputy still holds it as
 * *@handle, for the caller to close. -EXDEV: it must be used at home.
 */
static struct file *om_rfile_get(struct om_proc *p, u32 kind, int fd, const char *path,
				 __le32 *handle)
{
	struct virtio_om_rfile_open o = {
		.kind = cpu_to_le32(kind),
		.fd = cpu_to_le32(fd),
		.path_len = cpu_to_le32(path ? strlen(path) : 0),
	};
	struct kvec kv[2] = { { &o, sizeof(o) }, { (void *)path, path ? strlen(path) : 0 } };
	struct virtio_om_rfile_info info;
	char name[NAME_MAX + 1];
	struct om_kcom_msg *reply;
	struct file *copy;
	u32 len;
	int err;

	err = om_call_expect(p, VIRTIO_OM_T_RFILE_OPEN, kv, path ? 2 : 1, OM_STEP_TIMEOUT,
			     VIRTIO_OM_T_RFILE_INFO, &info, sizeof(info), &reply);
	if (err)
		return ERR_PTR(err == -EINTR ? -EINTR : -EIO);
	len = le32_to_cpu(info.name_len);
	err = om_wire_errno(info.error);
	if (!err && (len > NAME_MAX || om_kcom_msg_copy(reply, sizeof(info), name, len) != len))
		err = -EPROTO;
	om_kcom_msg_free(reply);
	if (info.handle)
		*handle = info.handle;
	if (!err && (le32_to_cpu(info.flags) & VIRTIO_OM_RFILE_F_HOME))
		err = -EXDEV;
	if (err) {
		if (info.handle)
			om_rfile_close(p, info.handle, 0);
		return ERR_PTR(err);
	}
	name[len] = '\0';
	copy = om_rfile_copy(p, &info, len ? name : "rfile");
	if (IS_ERR(copy))
		om_rfile_close(p, info.handle, 0);
	return copy;
}

/* A copy opened as exec opens a program (do_open_execat()); takes @copy's reference. */
static struct file *om_rfile_open_copy(struct file *copy)
{
	struct file *f = dentry_open(&copy->f_path, O_RDONLY | O_LARGEFILE | __FMODE_EXEC,
				     current_cred());

	fput(copy);
	if (!IS_ERR(f) && exe_file_deny_write_access(f)) {
		fput(f);
		f = ERR_PTR(-ETXTBSY);
	}
	return f;
}

/**
 * om_rfile_open_exec() - open_exec() for a process away: its program's
 *	interpreter (an ELF's PT_INTERP), from home
 * @name: the path, as the program names it
 *
 * Return: NULL if the current task is no process away (open_exec() opens
 * the path here); else the copy opened as open_exec() would open it, or
 * an ERR_PTR.
 */
struct file *om_rfile_open_exec(const char *name)
{
	struct om_proc *p = om_proc_of_task(current);
	struct file *copy;
	__le32 handle = 0;

	if (!p)
		return NULL;
	om_proc_put(p); /* the registry keeps it while we run */
	if (p->role != OM_REMOTE)
		return NULL;
	copy = om_rfile_get(p, VIRTIO_OM_RFILE_EXEC, 0, name, &handle);
	if (IS_ERR(copy))
		/* One that must be used at home cannot be, from the middle of an exec. */
		return PTR_ERR(copy) == -EXDEV ? ERR_PTR(-EACCES) : copy;
	om_rfile_close(p, handle, 0);
	return om_rfile_open_copy(copy);
}

/**
 * om_rfile_exec_file() - the program a process away's execve() runs (alloc_bprm())
 *
 * om_rfile_exec() fetched it and runs execve() with the caller's own path,
 * so the exec names it as at home (AT_EXECFN, the name it takes).
 *
 * Return: NULL if the current task execs no such program; else it, opened
 * as exec opens a program, or an ERR_PTR.
 */
struct file *om_rfile_exec_file(void)
{
	struct om_proc *p = om_proc_of_task(current);
	struct file *copy = NULL;

	if (!p)
		return NULL;
	/* Only the task itself sets and takes it. */
	if (p->role == OM_REMOTE) {
		copy = p->exec_copy;
		p->exec_copy = NULL;
	}
	om_proc_put(p);
	return copy ? om_rfile_open_copy(copy) : NULL;
}

/*
 * Whether exec leaves the caller's credentials as they are: the deputy
 * keeps them at home and runs the new program's calls with them, so an
 * exec that would change them (capabilities it drops or gains, set ids
 * that differ) runs at home instead. True for root with every capability
 * of its bounding set and for a user without capabilities, the same ids
 * throughout.
 */
static bool om_exec_keeps_creds(const struct cred *c)
{
	bool same_ids = uid_eq(c->uid, c->euid) && uid_eq(c->uid, c->suid) &&
			uid_eq(c->uid, c->fsuid) && gid_eq(c->gid, c->egid) &&
			gid_eq(c->gid, c->sgid) && gid_eq(c->gid, c->fsgid);

	if (!same_ids || !cap_isclear(c->cap_ambient))
		return false;
	if (uid_eq(c->uid, GLOBAL_ROOT_UID))
		return !c->securebits && cap_issubset(c->cap_bset, c->cap_permitted) &&
		       cap_issubset(c->cap_permitted, c->cap_effective) &&
		       cap_issubset(c->cap_permitted, c->cap_bset);
	return cap_isclear(c->cap_permitted) && cap_isclear(c->cap_effective);
}

/**
 * om_rfile_exec() - execve() of a process away, run where it is
 * @p: its half here
 * @regs: its registers, at the call
 * @args: execve's arguments
 *
 * Return: the call's result (0: the new program runs), or -EXDEV when the
 * program must be exec'd at home.
 */
long om_rfile_exec(struct om_proc *p, struct pt_regs *regs, const unsigned long args[6])
{
	const char __user *upath = (const char __user *)args[0];
	struct file *copy;
	__le32 handle = 0;
	char *path;
	long len, ret;

	if (!om_exec_keeps_creds(current_cred()))
		return -EXDEV;
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	len = strncpy_from_user(path, upath, PATH_MAX);
	ret = len < 0 ? len : len == PATH_MAX ? -ENAMETOOLONG : !len ? -ENOENT : 0;
	if (!ret) {
		copy = om_rfile_get(p, VIRTIO_OM_RFILE_EXEC, 0, path, &handle);
		ret = PTR_ERR_OR_ZERO(copy);
	}
	kfree(path);
	if (ret)
		return ret;
	/* execve() itself, which opens the copy for this path (om_rfile_exec_file()). */
	p->exec_copy = copy;
	ret = om_arch_syscall_run(regs, __NR_execve, args);
	if (p->exec_copy) {
		/* Failed before it opened the program (-EAGAIN for RLIMIT_NPROC, say). */
		fput(p->exec_copy);
		p->exec_copy = NULL;
	}
	if (ret) {
		om_rfile_close(p, handle, 0);
		return ret;
	}
	/* The new program runs: home does exec's part. */
	om_rfile_close(p, handle, VIRTIO_OM_RFILE_CLOSE_F_EXEC);
	atomic64_inc(&om_node_stats.execs);
	return 0;
}

/**
 * om_rfile_mmap() - a private mapping of a file of home, for a process away
 * @p: its half here
 * @args: mmap's arguments (a file, MAP_PRIVATE)
 *
 * Return: the address, or -errno; -EXDEV when the mapping must be made at
 * home.
 */
long om_rfile_mmap(struct om_proc *p, const unsigned long args[6])
{
	struct file *copy;
	__le32 handle = 0;
	long ret;

	if (args[5] & ~PAGE_MASK)
		return -EINVAL;
	copy = om_rfile_get(p, VIRTIO_OM_RFILE_FD, (int)args[4], NULL, &handle);
	if (IS_ERR(copy))
		return PTR_ERR(copy);
	om_rfile_close(p, handle, 0);
	ret = vm_mmap(copy, args[0], args[1], args[2], args[3], args[5]);
	fput(copy);
	if (!IS_ERR_VALUE(ret))
		atomic64_inc(&om_node_stats.maps);
	return ret;
}
