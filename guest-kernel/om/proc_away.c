// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc at home of a process away: its cmdline, environ, maps, status and
 * stat describe the process where it runs, not the deputy's stand-in.
 *
 * Home asks the node the process runs on for that file of its own /proc
 * (PROC_READ, a piece at a time); that node reads it in a worker, from a
 * kernel mount of proc (cmdline and environ from the process's memory, as
 * proc does), as it would show them to root. Who may read what is
 * decided at home, for the reader, as for any process: the same ptrace
 * checks as the files' own. cmdline, environ and maps are read whole at
 * open; status and stat are home's own text with what belongs to the
 * process where it runs (its state, memory, signals, CPU time) taken from
 * there, and what stays at home (pids, parent, terminal, files, children)
 * from home.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/om.h>

#include "../../fs/proc/internal.h"
#include "om.h"

/* The most of one file home reads from the other node. */
#define OM_PROC_MAX		(512 * 1024)
/* A piece: what fits in one message. */
#define OM_PROC_CHUNK		(VIRTIO_OM_MAX_PAYLOAD - VIRTIO_OM_PROC_DATA_SIZE)
/* A reader waits this long for a piece, then gets an error. */
#define OM_PROC_TIMEOUT		(5 * HZ)

static struct vfsmount *om_proc_mnt;

static const char *const om_proc_names[] = {
	[VIRTIO_OM_PROC_CMDLINE] = "cmdline",
	[VIRTIO_OM_PROC_ENVIRON] = "environ",
	[VIRTIO_OM_PROC_MAPS] = "maps",
	[VIRTIO_OM_PROC_STATUS] = "status",
	[VIRTIO_OM_PROC_STAT] = "stat",
	[VIRTIO_OM_PROC_STATM] = "statm",
	[VIRTIO_OM_PROC_SMAPS] = "smaps",
	[VIRTIO_OM_PROC_SMAPS_ROLLUP] = "smaps_rollup",
	[VIRTIO_OM_PROC_AUXV] = "auxv",
	[VIRTIO_OM_PROC_MEM] = "mem",
};

/* --- The node the process runs on: answering PROC_READ --- */

struct om_proc_answer {
	struct work_struct work;
	struct om_proc *p;
	u32 node;
	u64 seq;
	struct virtio_om_proc_read rd;
};

/*
 * cmdline and environ have no read_iter for kernel_read(): read as their
 * /proc files do, from the process's memory. A command line whose last
 * byte is not a NUL (the process wrote over it) goes on into the
 * environment up to the first NUL, as proc shows it.
 */
static ssize_t om_proc_read_args(struct task_struct *task, u32 what, loff_t pos, char *buf,
				 size_t len)
{
	struct mm_struct *mm = get_task_mm(task);
	unsigned long start, end, arg_end, env_start, env_end;
	bool to_nul = false;
	ssize_t done = 0;
	char c = 0;

	if (!mm)
		return 0;
	spin_lock(&mm->arg_lock);
	start = what == VIRTIO_OM_PROC_CMDLINE ? mm->arg_start : mm->env_start;
	arg_end = mm->arg_end;
	env_start = mm->env_start;
	env_end = mm->env_end;
	spin_unlock(&mm->arg_lock);
	end = what == VIRTIO_OM_PROC_CMDLINE ? arg_end : env_end;
	if (what == VIRTIO_OM_PROC_CMDLINE && end > start &&
	    access_remote_vm(mm, end - 1, &c, 1, FOLL_FORCE) == 1 && c &&
	    env_end > arg_end && env_start == arg_end) {
		end = env_end;
		to_nul = true;
	}
	if (start >= end || pos >= end - start)
		goto out;
	len = min_t(size_t, len, end - start - pos);
	done = access_remote_vm(mm, start + pos, buf, len, FOLL_FORCE);
	if (done > 0 && to_nul && start + pos + done > arg_end) {
		/* Past the command line proper: up to the first NUL only. */
		size_t from = start + pos >= arg_end ? 0 : arg_end - start - pos;
		char *nul = memchr(buf + from, 0, done - from);

		if (nul)
			done = nul - buf;
	}
out:
	mmput(mm);
	return done;
}

/* auxv is read as its /proc file does: the vector the kernel kept at exec. */
static ssize_t om_proc_read_auxv(struct task_struct *task, loff_t pos, char *buf, size_t len)
{
	struct mm_struct *mm = get_task_mm(task);
	size_t size;

	if (!mm)
		return 0;
	/* Up to its AT_NULL pair, as auxv_read() shows it. */
	for (size = 0; size < ARRAY_SIZE(mm->saved_auxv) && mm->saved_auxv[size]; size += 2)
		;
	size = min(size + 2, ARRAY_SIZE(mm->saved_auxv)) * sizeof(mm->saved_auxv[0]);
	if (pos < size) {
		len = min_t(size_t, len, size - pos);
		memcpy(buf, (char *)mm->saved_auxv + pos, len);
	} else {
		len = 0;
	}
	mmput(mm);
	return len;
}

/* mem: the process's memory at address @pos, as mem_read() reads it. */
static ssize_t om_proc_read_mem(struct task_struct *task, loff_t pos, char *buf, size_t len)
{
	struct mm_struct *mm = get_task_mm(task);
	int n;

	if (!mm)
		return 0;
	n = access_remote_vm(mm, pos, buf, len, FOLL_FORCE);
	mmput(mm);
	return n > 0 ? n : -EIO;
}

static ssize_t om_proc_read_own(struct om_proc *p, u32 what, loff_t pos, char *buf, size_t len)
{
	struct task_struct *task = READ_ONCE(p->task);
	struct file *file;
	char path[32];
	ssize_t n, done = 0;

	if (!task || !READ_ONCE(p->running))
		return -ESRCH;
	if (what == VIRTIO_OM_PROC_CMDLINE || what == VIRTIO_OM_PROC_ENVIRON)
		return om_proc_read_args(task, what, pos, buf, len);
	if (what == VIRTIO_OM_PROC_AUXV)
		return om_proc_read_auxv(task, pos, buf, len);
	if (what == VIRTIO_OM_PROC_MEM)
		return om_proc_read_mem(task, pos, buf, len);
	snprintf(path, sizeof(path), "%d/%s", task_tgid_nr(task), om_proc_names[what]);
	file = file_open_root_mnt(om_proc_mnt, path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/*
	 * These are seq_files read with seq_read, not read_iter, which
	 * kernel_read() wants: read them through seq_read_iter() directly.
	 */
	if (file->f_op->read != seq_read)
		done = -EINVAL;
	while (done >= 0 && done < len) {
		struct kvec kv = { buf + done, len - done };
		struct iov_iter iter;
		struct kiocb kiocb;

		init_sync_kiocb(&kiocb, file);
		kiocb.ki_pos = pos;
		iov_iter_kvec(&iter, ITER_DEST, &kv, 1, kv.iov_len);
		n = seq_read_iter(&kiocb, &iter);
		if (n <= 0) {
			if (n < 0 && !done)
				done = n;
			break;
		}
		pos = kiocb.ki_pos;
		done += n;
	}
	fput(file);
	return done;
}

static void om_proc_answer_work(struct work_struct *work)
{
	struct om_proc_answer *a = container_of(work, struct om_proc_answer, work);
	u32 what = le32_to_cpu(a->rd.file), len = le32_to_cpu(a->rd.len);
	loff_t pos = le64_to_cpu(a->rd.offset);
	struct om_kcom_out out = {
		.dst_node = a->node,
		.type = VIRTIO_OM_T_PROC_DATA,
		.flags = VIRTIO_OM_F_REPLY | VIRTIO_OM_F_HOME,
		.reply_to = a->seq,
		.src_pid = a->p->home_pid,
		.dst_pid = a->p->home_pid,
	};
	char *buf = NULL;
	ssize_t n;

	if (what >= ARRAY_SIZE(om_proc_names) || !om_proc_names[what] || !len ||
	    len > OM_PROC_CHUNK || pos < 0 ||
	    pos > (what == VIRTIO_OM_PROC_MEM ? TASK_SIZE_MAX : OM_PROC_MAX)) {
		n = -EINVAL;
	} else if (!om_proc_mnt) {
		n = -ENODEV;
	} else {
		buf = kvmalloc(len, GFP_KERNEL);
		n = buf ? om_proc_read_own(a->p, what, pos, buf, len) : -ENOMEM;
	}
	om_reply_read(&out, n, buf);
	kvfree(buf);
	om_proc_put(a->p);
	kfree(a);
}

/**
 * om_proc_answer() - answer home's PROC_READ for the process running here
 * @p: its half here (a remote)
 * @msg: the request (the caller frees it)
 *
 * Reading /proc takes the process's locks: done in a worker, not in the
 * receive path that other halves' messages wait on.
 */
void om_proc_answer(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct om_proc_answer *a;

	if (p->role != OM_REMOTE) {
		om_reply_error(h, -ESRCH);
		return;
	}
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a) {
		om_reply_error(h, -ENOMEM);
		return;
	}
	if (om_kcom_msg_copy(msg, 0, &a->rd, sizeof(a->rd)) != sizeof(a->rd)) {
		kfree(a);
		om_reply_error(h, -EPROTO);
		return;
	}
	refcount_inc(&p->ref);
	a->p = p;
	a->node = h->src_node;
	a->seq = h->seq;
	INIT_WORK(&a->work, om_proc_answer_work);
	queue_work(system_unbound_wq, &a->work);
}

/* --- Home: asking, and showing --- */

/* The deputy's half of @task while its process runs away, and where. */
static struct om_proc *om_away_half(struct task_struct *task, u32 *node)
{
	struct om_proc *p = om_proc_of_task(task);

	if (p && READ_ONCE(p->role) == OM_DEPUTY) {
		spin_lock(&p->lock);
		*node = READ_ONCE(p->peer_node);
		if (p->serving && *node) {
			spin_unlock(&p->lock);
			return p;
		}
		spin_unlock(&p->lock);
	}
	om_proc_put(p);
	return NULL;
}

/*
 * One piece of @what of the process away: up to @want bytes from @pos into
 * @buf. Return: the bytes read (fewer: the file ends), or -errno (-ESRCH:
 * it no longer runs there).
 */
static ssize_t om_away_read(struct om_proc *p, u32 node, u32 what, u64 pos, char *buf, u32 want)
{
	struct virtio_om_proc_read rd = {
		.file = cpu_to_le32(what),
		.len = cpu_to_le32(want),
		.offset = cpu_to_le64(pos),
	};
	struct kvec kv = { &rd, sizeof(rd) };
	struct om_kcom_out out = {
		.dst_node = node,
		.type = VIRTIO_OM_T_PROC_READ,
		.src_pid = p->home_pid,
		.dst_pid = p->home_pid,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct virtio_om_proc_data d;
	struct om_kcom_msg *reply;
	u32 got = 0;
	int err;

	err = om_kcom_call(&out, OM_KCOM_KILLABLE, OM_PROC_TIMEOUT, &reply);
	if (err)
		return err == -ERESTARTSYS ? -EINTR : err;
	if (om_kcom_msg_hdr(reply)->type != VIRTIO_OM_T_PROC_DATA ||
	    om_kcom_msg_copy(reply, 0, &d, sizeof(d)) != sizeof(d)) {
		err = -EPROTO;
	} else {
		err = om_wire_errno(d.error);
		got = le32_to_cpu(d.len);
		if (!err && (got > want || om_kcom_msg_copy(reply, sizeof(d), buf, got) != got))
			err = -EPROTO;
	}
	om_kcom_msg_free(reply);
	return err ?: got;
}

/*
 * Read @what of the process away, whole (up to OM_PROC_MAX bytes), into a
 * buffer the caller frees with kvfree(). -ESRCH: it no longer runs there.
 */
static int om_away_fetch(struct om_proc *p, u32 node, u32 what, char **text, size_t *len)
{
	char *buf = NULL, *grown;
	size_t size = 0;
	ssize_t got;

	while (size < OM_PROC_MAX) {
		u32 want = min_t(size_t, OM_PROC_CHUNK, OM_PROC_MAX - size);

		/* Most files fit one piece: grow only for the longer ones. */
		grown = buf ? kvrealloc(buf, size + want, GFP_KERNEL) :
			      kvmalloc(want, GFP_KERNEL);
		if (!grown) {
			kvfree(buf);
			return -ENOMEM;
		}
		buf = grown;
		got = om_away_read(p, node, what, size, buf + size, want);
		if (got < 0) {
			kvfree(buf);
			return got;
		}
		size += got;
		if (got < want)
			break;
	}
	*text = buf;
	*len = size;
	return 0;
}

struct om_proc_snapshot {
	char *text;
	size_t len;
};

static ssize_t om_snapshot_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct om_proc_snapshot *s = file->private_data;

	return simple_read_from_buffer(buf, count, ppos, s->text, s->len);
}

static int om_snapshot_release(struct inode *inode, struct file *file)
{
	struct om_proc_snapshot *s = file->private_data;

	kvfree(s->text);
	kfree(s);
	return 0;
}

static const struct file_operations om_proc_snapshot_fops = {
	.read = om_snapshot_read,
	.llseek = default_llseek,
	.release = om_snapshot_release,
};

/*
 * mem of a process away: each read asks its node for that much (up to a
 * message), read there as mem reads it; the deputy's stand-in is never
 * touched. Once home again, the process's memory is read here.
 */
static ssize_t om_mem_read(struct file *file, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct task_struct *task = get_proc_task(file_inode(file));
	unsigned long addr = *ppos;
	struct om_proc *p;
	ssize_t n = -ESRCH;
	char *buf;
	u32 node;

	if (!task)
		return 0;
	count = min_t(size_t, count, OM_PROC_CHUNK);
	buf = count ? kvmalloc(count, GFP_KERNEL) : NULL;
	if (!buf) {
		put_task_struct(task);
		return count ? -ENOMEM : 0;
	}
	p = om_away_half(task, &node);
	if (p) {
		n = om_away_read(p, node, VIRTIO_OM_PROC_MEM, addr, buf, count);
		om_proc_put(p);
	}
	if (n == -ESRCH) {
		n = access_process_vm(task, addr, buf, count, FOLL_FORCE);
		n = n > 0 ? n : -EIO;
	}
	if (n > 0 && copy_to_user(ubuf, buf, n))
		n = -EFAULT;
	if (n > 0)
		*ppos += n;
	kvfree(buf);
	put_task_struct(task);
	return n;
}

/* Writing a process away's memory from home is not done (yet): said plainly. */
static ssize_t om_mem_write(struct file *file, const char __user *ubuf, size_t count,
			    loff_t *ppos)
{
	return -EOPNOTSUPP;
}

/* As mem_lseek(): any address, told apart from an error. */
static loff_t om_mem_lseek(struct file *file, loff_t offset, int orig)
{
	switch (orig) {
	case SEEK_CUR:
		offset += file->f_pos;
		fallthrough;
	case SEEK_SET:
		if ((unsigned long long)offset >= -MAX_ERRNO)
			return -EINVAL;
		file->f_pos = offset;
		break;
	default:
		return -EINVAL;
	}
	force_successful_syscall_return();
	return offset;
}

static const struct file_operations om_proc_mem_fops = {
	.read = om_mem_read,
	.write = om_mem_write,
	.llseek = om_mem_lseek,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

/**
 * om_proc_away_open() - open /proc/PID/@what of a process away
 * @inode: the file's inode
 * @file: the file being opened
 * @what: enum virtio_om_proc_file
 * @mode: the ptrace access the file's own open asks (0: none)
 * @err: the open's result when handled
 *
 * Return: false if the process is not away (the caller opens the file as
 * usual); true if handled, the file then reads what the process's node
 * showed at open.
 */
bool om_proc_away_open(struct inode *inode, struct file *file, u32 what, unsigned int mode,
		       int *err)
{
	struct task_struct *task = get_proc_task(inode);
	struct om_proc_snapshot *s = NULL;
	struct om_proc *p;
	u32 node;

	if (!task)
		return false;
	p = om_away_half(task, &node);
	if (!p) {
		put_task_struct(task);
		return false;
	}
	if (mode && !ptrace_may_access(task, mode | PTRACE_MODE_FSCREDS)) {
		*err = -EACCES;
		goto out;
	}
	if (what == VIRTIO_OM_PROC_MEM) {
		replace_fops(file, &om_proc_mem_fops);
		*err = 0;
		goto out;
	}
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	*err = s ? om_away_fetch(p, node, what, &s->text, &s->len) : -ENOMEM;
	if (*err == -ESRCH) {
		/* Home again (or never there): the file is home's own. */
		kfree(s);
		om_proc_put(p);
		put_task_struct(task);
		return false;
	}
	if (!*err) {
		file->private_data = s;
		replace_fops(file, &om_proc_snapshot_fops);
		s = NULL;
	}
	kfree(s);
out:
	om_proc_put(p);
	put_task_struct(task);
	return true;
}

/* The line of @text (@len bytes) that starts with @key and ':', or NULL. */
static const char *om_status_line(const char *text, size_t len, const char *key, size_t klen,
				  size_t *llen)
{
	const char *end = text + len, *line, *nl;

	for (line = text; line < end; line = nl + 1) {
		nl = memchr(line, '\n', end - line);
		if (!nl)
			nl = end;
		if (nl - line > klen && !memcmp(line, key, klen) && line[klen] == ':') {
			*llen = nl - line;
			return line;
		}
	}
	return NULL;
}

/* What status says of the process at home: who it is, its family, its files. */
static const char *const om_status_home_keys[] = {
	"Umask", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid", "FDSize",
	"Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "Kthread",
};

static bool om_status_home_key(const char *key, size_t klen)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(om_status_home_keys); i++)
		if (strlen(om_status_home_keys[i]) == klen &&
		    !memcmp(om_status_home_keys[i], key, klen))
			return true;
	return false;
}

static bool om_put(char *out, size_t size, size_t *pos, const char *s, size_t len)
{
	if (*pos + len > size)
		return false;
	memcpy(out + *pos, s, len);
	*pos += len;
	return true;
}

/**
 * om_proc_merge_status() - /proc/PID/status of a process away
 * @home: the text home's status gave (the deputy's)
 * @hlen: its length
 * @there: the text of the node the process runs on
 * @tlen: its length
 * @out: where the result goes
 * @size: @out's size
 *
 * The lines of @there, in its order, except those of home's keys (who the
 * process is, its family, its files), taken from @home.
 *
 * Return: the result's length, or -ENOSPC if @out is too small.
 */
ssize_t om_proc_merge_status(const char *home, size_t hlen, const char *there, size_t tlen,
			     char *out, size_t size)
{
	const char *end = there + tlen, *line, *nl, *colon;
	size_t pos = 0;

	for (line = there; line < end; line = nl + 1) {
		const char *use = line;
		size_t ulen;

		nl = memchr(line, '\n', end - line);
		if (!nl)
			nl = end;
		ulen = nl - line;
		colon = memchr(line, ':', ulen);
		if (colon && om_status_home_key(line, colon - line)) {
			const char *h = om_status_line(home, hlen, line, colon - line, &ulen);

			if (!h)
				continue;
			use = h;
		}
		if (!om_put(out, size, &pos, use, ulen) || !om_put(out, size, &pos, "\n", 1))
			return -ENOSPC;
	}
	return pos;
}

#define OM_STAT_FIELDS 52

/* stat's fields, 1-based: where each starts in the text, and its length. */
struct om_stat_fields {
	u16 at[OM_STAT_FIELDS + 1];
	u16 len[OM_STAT_FIELDS + 1];
};

/* Split stat's text into its fields (the comm, field 2, whole). */
static int om_stat_split(const char *text, size_t len, struct om_stat_fields *f)
{
	const char *end = text + len, *open, *close, *s;
	int n;

	while (end > text && end[-1] == '\n')
		end--;
	if (end - text > U16_MAX)
		return -EINVAL;
	open = memchr(text, '(', end - text);
	if (!open || open == text)
		return -EINVAL;
	/* The comm may hold ')': it ends at the last one. */
	for (close = end - 1; close > open && *close != ')'; close--)
		;
	if (close == open)
		return -EINVAL;
	f->at[1] = 0;
	f->len[1] = open - 1 - text;
	f->at[2] = open - text;
	f->len[2] = close + 1 - open;
	n = 2;
	for (s = close + 1; s < end && n < OM_STAT_FIELDS;) {
		const char *sp;

		while (s < end && *s == ' ')
			s++;
		if (s >= end)
			break;
		sp = memchr(s, ' ', end - s);
		if (!sp)
			sp = end;
		n++;
		f->at[n] = s - text;
		f->len[n] = sp - s;
		s = sp;
	}
	return n;
}

/*
 * Fields of stat that stay home's: pid, ppid, pgrp, session, tty, tpgid,
 * the children's (cminflt, cmajflt, cutime, cstime, cguest_time), the start
 * time, the limit, exit signal, processor and exit code. 26-30, 35 and
 * 45-51 are addresses shown only to who may ptrace the process: the other
 * node's when the reader may, else home's (zeros). Others are the process's
 * where it runs.
 */
static int om_stat_source(int field, bool permitted)
{
	switch (field) {
	case 1: case 4: case 5: case 6: case 7: case 8: case 11: case 13: case 16: case 17:
	case 22: case 25: case 38: case 39: case 44: case 52:
		return 0;
	case 26: case 27: case 28: case 29: case 30: case 35:
	case 45: case 46: case 47: case 48: case 49: case 50: case 51:
		return permitted;
	default:
		return 1;
	}
}

/**
 * om_proc_merge_stat() - /proc/PID/stat of a process away
 * @home: the text home's stat gave (the deputy's)
 * @hlen: its length
 * @there: the text of the node the process runs on
 * @tlen: its length
 * @permitted: the reader may see the process's addresses
 * @out: where the result goes
 * @size: @out's size
 *
 * Return: the result's length, -EINVAL if a text is not a stat line, or
 * -ENOSPC if @out is too small.
 */
ssize_t om_proc_merge_stat(const char *home, size_t hlen, const char *there, size_t tlen,
			   bool permitted, char *out, size_t size)
{
	struct om_stat_fields hf, tf;
	int hn = om_stat_split(home, hlen, &hf);
	int tn = om_stat_split(there, tlen, &tf);
	size_t pos = 0;
	int i;

	if (hn < 0 || tn < 0 || hn != tn)
		return -EINVAL;
	for (i = 1; i <= hn; i++) {
		bool from_there = om_stat_source(i, permitted);
		const char *text = from_there ? there + tf.at[i] : home + hf.at[i];

		if ((i > 1 && !om_put(out, size, &pos, " ", 1)) ||
		    !om_put(out, size, &pos, text, from_there ? tf.len[i] : hf.len[i]))
			return -ENOSPC;
	}
	if (!om_put(out, size, &pos, "\n", 1))
		return -ENOSPC;
	return pos;
}

/**
 * om_proc_away_merge() - finish home's status, stat or statm of a process away
 * @m: the file, whose text from @from on is home's
 * @from: where home's text starts
 * @task: the task the file describes
 * @what: VIRTIO_OM_PROC_STATUS, _STAT or _STATM (memory only: all from there)
 *
 * Leaves home's text as it is if the process is not away or its node does
 * not answer; a result too long for the buffer makes seq_file try again
 * with a larger one.
 */
void om_proc_away_merge(struct seq_file *m, size_t from, struct task_struct *task, u32 what)
{
	size_t hlen = m->count - from, tlen, size;
	struct om_proc *p;
	char *there, *out;
	ssize_t n;
	u32 node;

	if (seq_has_overflowed(m))
		return;
	p = om_away_half(task, &node);
	if (!p)
		return;
	if (om_away_fetch(p, node, what, &there, &tlen))
		goto put;
	size = hlen + tlen + 1;
	out = kvmalloc(size, GFP_KERNEL);
	if (!out)
		goto free;
	if (what == VIRTIO_OM_PROC_STATUS) {
		n = om_proc_merge_status(m->buf + from, hlen, there, tlen, out, size);
	} else if (what == VIRTIO_OM_PROC_STATM) {
		memcpy(out, there, tlen);
		n = tlen;
	} else {
		n = om_proc_merge_stat(m->buf + from, hlen, there, tlen,
				       ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS |
							 PTRACE_MODE_NOAUDIT),
				       out, size);
	}
	if (n >= 0 && from + n > m->size) {
		m->count = m->size;	/* seq_file retries with a larger buffer */
	} else if (n >= 0) {
		memcpy(m->buf + from, out, n);
		m->count = from + n;
	}
	kvfree(out);
free:
	kvfree(there);
put:
	om_proc_put(p);
}

static int __init om_proc_away_init(void)
{
	struct file_system_type *proc = get_fs_type("proc");
	struct vfsmount *mnt;

	if (!proc)
		return -ENODEV;
	mnt = kern_mount(proc);
	put_filesystem(proc);
	if (IS_ERR(mnt)) {
		pr_err("omvm: no proc mount for the processes of other nodes: %pe\n", mnt);
		return PTR_ERR(mnt);
	}
	om_proc_mnt = mnt;
	return 0;
}
late_initcall(om_proc_away_init);
