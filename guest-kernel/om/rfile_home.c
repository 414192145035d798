// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files a process away runs or maps, at home: its deputy opens them with
 * the rules they would be opened by here (exec's checks and its hold
 * against writers, or the process's own open file), says what they are and
 * has them served to the process's node (rfile_serve.c; docs/engine.md
 * "Programs and file mappings away").
 */
#include <linux/binfmts.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "om.h"

static void om_rfile_release(struct file *f, bool exec)
{
	if (exec)
		exe_file_allow_write_access(f);
	fput(f);
}

/* Close every file the deputy holds for its process (it ends, or the process came home). */
void om_rfile_home_close_all(struct om_proc *p)
{
	unsigned int i;

	for (i = 0; i < OM_RFILES; i++) {
		if (p->rfiles[i])
			om_rfile_release(p->rfiles[i], p->rfile_exec & BIT(i));
		p->rfiles[i] = NULL;
	}
	p->rfile_exec = 0;
}

/* Why @f must be used at home (VIRTIO_OM_RFILE_F_*), for an exec or a mapping. */
static u32 om_rfile_home_only(struct file *f, bool exec, loff_t size)
{
	struct inode *inode = file_inode(f);
	u32 flags = 0;
	char magic[2];
	loff_t pos = 0;

	if (path_noexec(&f->f_path))
		flags |= VIRTIO_OM_RFILE_F_NOEXEC;
	if (size > OM_RFILE_MAX_SIZE)
		flags |= VIRTIO_OM_RFILE_F_LARGE;
	/* Exec opens only regular files; a mapping of a device is made at home. */
	if (!S_ISREG(inode->i_mode))
		return flags | VIRTIO_OM_RFILE_F_SPECIAL;
	if (!exec)
		return flags;
	if ((inode->i_mode & S_ISUID) || ((inode->i_mode & (S_ISGID | 0010)) == (S_ISGID | 0010)))
		flags |= VIRTIO_OM_RFILE_F_SETID;
	/*
	 * Execute-only for the caller: exec at home makes the process
	 * undumpable (would_dump()); read where it runs, it would not be.
	 */
	if (inode_permission(file_mnt_idmap(f), inode, MAY_READ))
		flags |= VIRTIO_OM_RFILE_F_UNREADABLE;
	if (vfs_getxattr(file_mnt_idmap(f), f->f_path.dentry, XATTR_NAME_CAPS, NULL, 0) > 0)
		flags |= VIRTIO_OM_RFILE_F_CAPS;
	if (kernel_read(f, magic, sizeof(magic), &pos) == sizeof(magic) &&
	    magic[0] == '#' && magic[1] == '!')
		flags |= VIRTIO_OM_RFILE_F_SCRIPT;
	return flags;
}

static struct file *om_rfile_home_open(struct om_kcom_msg *msg,
				       const struct virtio_om_rfile_open *o, bool *exec, char *comm)
{
	u32 kind = le32_to_cpu(o->kind), len = le32_to_cpu(o->path_len);
	struct file *f;
	char *path;

	*exec = kind == VIRTIO_OM_RFILE_EXEC;
	if (o->reserved)
		return ERR_PTR(-EINVAL);
	if (kind == VIRTIO_OM_RFILE_FD) {
		f = fget(le32_to_cpu(o->fd));
		if (!f)
			return ERR_PTR(-EBADF);
		/* What mmap() asks of a file for a private mapping. */
		if (!(f->f_mode & FMODE_READ)) {
			fput(f);
			return ERR_PTR(-EACCES);
		}
		return f;
	}
	if (kind != VIRTIO_OM_RFILE_EXEC || !len || len >= PATH_MAX ||
	    om_kcom_msg_hdr(msg)->len != sizeof(*o) + len)
		return ERR_PTR(-EINVAL);
	path = kmalloc(len + 1, GFP_KERNEL);
	if (!path)
		return ERR_PTR(-ENOMEM);
	om_kcom_msg_copy(msg, sizeof(*o), path, len);
	path[len] = '\0';
	/* Relative to the process's cwd, with exec's checks; writers get ETXTBSY. */
	f = strlen(path) == len ? open_exec(path) : ERR_PTR(-EINVAL);
	/* Its name, should it be exec'd: what the path calls it (a link's name). */
	if (!IS_ERR(f))
		strscpy(comm, kbasename(path), TASK_COMM_LEN);
	kfree(path);
	return f;
}

/**
 * om_rfile_home_serve_open() - RFILE_OPEN from the process: open and describe
 * @p: the deputy's half
 * @msg: the request
 */
void om_rfile_home_serve_open(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_rfile_info info = {};
	struct virtio_om_rfile_open o;
	struct kvec kv[2] = { { &info, sizeof(info) } };
	struct file *f = ERR_PTR(-EPROTO);
	const unsigned char *name;
	unsigned int i, n = 1;
	char comm[TASK_COMM_LEN] = "";
	struct kstat st;
	bool exec = false;
	u32 flags, served = 0;
	int err;

	if (om_kcom_msg_copy(msg, 0, &o, sizeof(o)) == sizeof(o))
		f = om_rfile_home_open(msg, &o, &exec, comm);
	err = PTR_ERR_OR_ZERO(f);
	if (!err) {
		for (i = 0; i < OM_RFILES && p->rfiles[i]; i++)
			;
		err = i == OM_RFILES ? -EMFILE : vfs_getattr(&f->f_path, &st, STATX_BASIC_STATS,
							       AT_STATX_SYNC_AS_STAT);
		flags = err ? 0 : om_rfile_home_only(f, exec, st.size);
		/*
		 * Served to the process's node, which reads its pages from now
		 * on; one that cannot be (too many served there) is used at home.
		 */
		if (!err && !flags && om_rfile_serve(h->src_node, f, &served))
			flags = VIRTIO_OM_RFILE_F_BUSY;
		if (err) {
			om_rfile_release(f, exec);
		} else {
			p->rfiles[i] = f;
			memcpy(p->rfile_comm[i], comm, TASK_COMM_LEN);
			if (exec)
				p->rfile_exec |= BIT(i);
			else
				p->rfile_exec &= ~BIT(i);
			name = f->f_path.dentry->d_name.name;
			info.handle = cpu_to_le32(i + 1);
			info.size = cpu_to_le64(st.size);
			info.dev = cpu_to_le64(new_encode_dev(st.dev));
			info.ino = cpu_to_le64(st.ino);
			info.mtime_ns = cpu_to_le64(timespec64_to_ns(&st.mtime));
			info.ctime_ns = cpu_to_le64(timespec64_to_ns(&st.ctime));
			info.flags = cpu_to_le32(flags);
			info.served = cpu_to_le32(served);
			info.name_len = cpu_to_le32(min_t(size_t, strlen(name), NAME_MAX));
			kv[1] = (struct kvec){ (void *)name, le32_to_cpu(info.name_len) };
			n = 2;
		}
	}
	info.error = cpu_to_le32(-err);
	om_send(p, VIRTIO_OM_T_RFILE_INFO, VIRTIO_OM_F_REPLY, h->seq, kv, n, NULL, 0, NULL);
}

static struct file *om_rfile_home_file(struct om_proc *p, __le32 handle, unsigned int *idx)
{
	u32 h = le32_to_cpu(handle);

	if (!h || h > OM_RFILES || !p->rfiles[h - 1])
		return NULL;
	*idx = h - 1;
	return p->rfiles[h - 1];
}

/**
 * om_rfile_home_close() - RFILE_CLOSE: the process is done with a file
 * @p: the deputy's half
 * @msg: the message
 *
 * With VIRTIO_OM_RFILE_CLOSE_F_EXEC the process exec'd the program where it
 * runs: at home, as exec would have done here, the program becomes the
 * process's exe (/proc/PID/exe, and ETXTBSY for writers), the files it
 * opened close-on-exec close, and its name becomes the program's.
 */
void om_rfile_home_close(struct om_proc *p, struct om_kcom_msg *msg)
{
	struct virtio_om_rfile_close c;
	unsigned int idx;
	struct file *f;

	if (om_kcom_msg_copy(msg, 0, &c, sizeof(c)) != sizeof(c))
		return;
	f = om_rfile_home_file(p, c.handle, &idx);
	if (!f)
		return;
	if ((le32_to_cpu(c.flags) & VIRTIO_OM_RFILE_CLOSE_F_EXEC) && (p->rfile_exec & BIT(idx))) {
		if (replace_mm_exe_file(current->mm, f))
			pr_debug("omvm: pid %d: exe at home not replaced\n", p->home_pid);
		/* As exec does: a table shared with another (CLONE_FILES) is copied first. */
		if (!unshare_files())
			do_close_on_exec(current->files);
		else
			pr_warn("omvm: pid %d: out of memory: close-on-exec files stay open at home\n",
				p->home_pid);
		set_task_comm(current, p->rfile_comm[idx]);
	}
	om_rfile_release(f, p->rfile_exec & BIT(idx));
	p->rfiles[idx] = NULL;
	p->rfile_exec &= ~BIT(idx);
}
