// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files of home that a process away runs or maps ("rfiles"), where it
 * runs: the programs it execs (and their interpreters), and the files it
 * maps privately (a dynamic program's libraries). Their deputy opens them
 * at home with home's rules, and home serves them to this node
 * (rfile_serve.c); here each file and version (home node, device, inode,
 * size and change times) is one file whose pages are read from home as
 * they fault (rfile_fs.c), shared by every process that uses that version.
 * A file home changes is a new version.
 *
 * Exec runs here on that file: execve() of the caller's path, which opens
 * it (core patch 0012), so every rule of exec holds and the new program is
 * named as at home; the deputy then does at home what exec does there
 * (rfile_home.c).
 * What must run at home goes home for the call: set-id programs, file
 * capabilities, #! scripts, files on noexec mounts, shared mappings, and
 * the exec of a caller whose credentials exec would change.
 */
#include <linux/binfmts.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/om.h>
#include <asm/unistd.h>

#include "om.h"

/*
 * Versions kept at most. Their pages are clean page cache, which the
 * kernel reclaims as it needs; a version dropped here lives on in the
 * processes that still run or map it.
 */
#define OM_RFILE_CACHE_FILES 256

struct om_rfile {
	struct hlist_node hash;
	struct list_head lru;	/* most recently used first */
	u32 node;
	u64 dev, ino, size;
	s64 mtime_ns, ctime_ns;
	struct file *file;	/* its pages read from home as they fault */
};

/* The versions this node keeps, under om_rfile_lock. */
static DEFINE_MUTEX(om_rfile_lock);
static DEFINE_HASHTABLE(om_rfiles, 6);
static LIST_HEAD(om_rfile_lru);
static unsigned int om_rfile_count;
static atomic64_t om_rfile_hits = ATOMIC64_INIT(0);

/* /proc/hpc/admin/stats: versions kept, their pages in memory, how often one was found. */
void om_rfile_stats(u64 *files, u64 *pages, u64 *hits)
{
	struct om_rfile *r;
	u64 n = 0;

	mutex_lock(&om_rfile_lock);
	*files = om_rfile_count;
	list_for_each_entry(r, &om_rfile_lru, lru)
		n += READ_ONCE(r->file->f_mapping->nrpages);
	mutex_unlock(&om_rfile_lock);
	*pages = n;
	*hits = atomic64_read(&om_rfile_hits);
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

/* Off the cache (under om_rfile_lock); its users keep the file. */
static void om_rfile_drop(struct om_rfile *r)
{
	hash_del(&r->hash);
	list_del(&r->lru);
	om_rfile_count--;
	fput(r->file);
	kfree(r);
}

/* Home @node went down: its files can no longer be read, later ones are new. */
void om_rfile_node_lost(u32 node)
{
	struct om_rfile *r, *tmp;

	mutex_lock(&om_rfile_lock);
	list_for_each_entry_safe(r, tmp, &om_rfile_lru, lru)
		if (r->node == node)
			om_rfile_drop(r);
	mutex_unlock(&om_rfile_lock);
}

/*
 * The file of the version home described in @info: the one kept here, or
 * a new one. Home's id for what it opened is used, or forgotten.
 */
static struct file *om_rfile_version(struct om_proc *p, const struct virtio_om_rfile_info *info,
				     const char *name)
{
	u32 key = om_rfile_key(p->home_node, info), served = le32_to_cpu(info->served);
	struct om_rfile *r;
	struct file *f;

	mutex_lock(&om_rfile_lock);
	hash_for_each_possible(om_rfiles, r, hash, key) {
		if (!om_rfile_same(r, p->home_node, info))
			continue;
		list_move(&r->lru, &om_rfile_lru);
		f = get_file(r->file);
		mutex_unlock(&om_rfile_lock);
		atomic64_inc(&om_rfile_hits);
		om_rfile_forget(p->home_node, served);
		return f;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	f = r ? om_rfile_file_new(p->home_node, served, le64_to_cpu(info->size), name) :
		ERR_PTR(-ENOMEM);
	if (IS_ERR(f)) {
		mutex_unlock(&om_rfile_lock);
		if (!r)
			om_rfile_forget(p->home_node, served);
		kfree(r);
		return f;
	}
	r->node = p->home_node;
	r->dev = le64_to_cpu(info->dev);
	r->ino = le64_to_cpu(info->ino);
	r->size = le64_to_cpu(info->size);
	r->mtime_ns = le64_to_cpu(info->mtime_ns);
	r->ctime_ns = le64_to_cpu(info->ctime_ns);
	r->file = f;
	hash_add(om_rfiles, &r->hash, key);
	list_add(&r->lru, &om_rfile_lru);
	if (++om_rfile_count > OM_RFILE_CACHE_FILES)
		om_rfile_drop(list_last_entry(&om_rfile_lru, struct om_rfile, lru));
	f = get_file(f);
	mutex_unlock(&om_rfile_lock);
	return f;
}

/**
 * om_rfile_mapping() - the file a mapping carried by a move from home maps
 * @p: the arriving process's half
 * @v: the mapping (VIRTIO_OM_VMA_F_FILE): home's id and the file's version
 *
 * Return: this node's file of that version (home's id taken), or an ERR_PTR.
 */
struct file *om_rfile_mapping(struct om_proc *p, const struct virtio_om_mig_vma *v)
{
	struct virtio_om_rfile_info info = {
		.served = v->served,
		.size = v->size,
		.dev = v->dev,
		.ino = v->ino,
		.mtime_ns = v->mtime_ns,
		.ctime_ns = v->ctime_ns,
	};

	return om_rfile_version(p, &info, "rfile");
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
 * @fd) and give this node's file of that version. On success the deputy
 * still holds it as *@handle, for the caller to close. -EXDEV: it must be
 * used at home.
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
	struct file *rf;
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
	if (!err && !info.served)
		err = -EPROTO;
	if (err) {
		if (info.served)
			om_rfile_forget(p->home_node, le32_to_cpu(info.served));
		if (info.handle)
			om_rfile_close(p, info.handle, 0);
		return ERR_PTR(err);
	}
	name[len] = '\0';
	rf = om_rfile_version(p, &info, len ? name : "rfile");
	if (IS_ERR(rf))
		om_rfile_close(p, info.handle, 0);
	return rf;
}

/* @rf opened as exec opens a program (do_open_execat()); takes @rf's reference. */
static struct file *om_rfile_open_program(struct file *rf)
{
	struct file *f = dentry_open(&rf->f_path, O_RDONLY | O_LARGEFILE | __FMODE_EXEC,
				     current_cred());

	fput(rf);
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
 * the path here); else home's file opened as open_exec() would open it, or
 * an ERR_PTR.
 */
struct file *om_rfile_open_exec(const char *name)
{
	struct om_proc *p = om_proc_of_task(current);
	struct file *rf;
	__le32 handle = 0;

	if (!p)
		return NULL;
	om_proc_put(p); /* the registry keeps it while we run */
	if (p->role != OM_REMOTE)
		return NULL;
	rf = om_rfile_get(p, VIRTIO_OM_RFILE_EXEC, 0, name, &handle);
	if (IS_ERR(rf))
		/* One that must be used at home cannot be, from the middle of an exec. */
		return PTR_ERR(rf) == -EXDEV ? ERR_PTR(-EACCES) : rf;
	om_rfile_close(p, handle, 0);
	return om_rfile_open_program(rf);
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
	struct file *rf = NULL;

	if (!p)
		return NULL;
	/* Only the task itself sets and takes it. */
	if (p->role == OM_REMOTE) {
		rf = p->exec_rfile;
		p->exec_rfile = NULL;
	}
	om_proc_put(p);
	return rf ? om_rfile_open_program(rf) : NULL;
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
	struct file *rf;
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
		rf = om_rfile_get(p, VIRTIO_OM_RFILE_EXEC, 0, path, &handle);
		ret = PTR_ERR_OR_ZERO(rf);
	}
	kfree(path);
	if (ret)
		return ret;
	/* execve() itself, which opens that file for this path (om_rfile_exec_file()). */
	p->exec_rfile = rf;
	ret = om_arch_syscall_run(regs, __NR_execve, args);
	if (p->exec_rfile) {
		/* Failed before it opened the program (-EAGAIN for RLIMIT_NPROC, say). */
		fput(p->exec_rfile);
		p->exec_rfile = NULL;
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
	struct file *rf;
	__le32 handle = 0;
	long ret;

	if (args[5] & ~PAGE_MASK)
		return -EINVAL;
	rf = om_rfile_get(p, VIRTIO_OM_RFILE_FD, (int)args[4], NULL, &handle);
	if (IS_ERR(rf))
		return PTR_ERR(rf);
	om_rfile_close(p, handle, 0);
	ret = vm_mmap(rf, args[0], args[1], args[2], args[3], args[5]);
	fput(rf);
	if (!IS_ERR_VALUE(ret))
		atomic64_inc(&om_node_stats.maps);
	return ret;
}
