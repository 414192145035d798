// SPDX-License-Identifier: GPL-2.0-only
/*
 * Files of home as the node a process runs on sees them: an inode of an
 * internal filesystem per file and version, whose pages are read from home
 * as they fault (RFILE_READ to the home node, which serves the file by an
 * id: rfile_serve.c) into this node's page cache, where any process that
 * runs or maps that version finds them; the kernel reclaims them as any
 * clean page cache, and reads them again if needed. When no one uses the
 * inode any more, home is told to forget the file (RFILE_FORGET).
 *
 * Nothing here writes such a file: no write method, and every change of
 * its attributes (a truncation, a mode) is refused, root's too. What a
 * private mapping writes is the process's own memory, as always.
 */
#include <linux/backing-dev.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/highmem.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>

#include "om.h"

#define OM_RFILE_MAGIC 0x6f6d7266 /* "omrf" */
/* Pages one RFILE_READ brings, at most: what fits one message. */
#define OM_RFILE_BATCH ((VIRTIO_OM_MAX_PAYLOAD - sizeof(struct virtio_om_rfile_data)) / PAGE_SIZE)

/* Where an inode's pages come from (its i_private). */
struct om_rfile_src {
	u32 node;   /* home */
	u32 served; /* home's id for the file */
};

static struct vfsmount *om_rfile_mnt;
static atomic64_t om_rfile_reads = ATOMIC64_INIT(0);
static atomic64_t om_rfile_pages_read = ATOMIC64_INIT(0);

/* Since boot: RFILE_READ round trips, and the pages they brought. */
void om_rfile_fs_stats(u64 *reads, u64 *pages)
{
	*reads = atomic64_read(&om_rfile_reads);
	*pages = atomic64_read(&om_rfile_pages_read);
}

/* Tell @node it may close what it serves as @served. */
void om_rfile_forget(u32 node, u32 served)
{
	struct virtio_om_rfile_forget fg = { .served = cpu_to_le32(served) };
	struct kvec kv = { &fg, sizeof(fg) };
	struct om_kcom_out out = {
		.dst_node = node,
		.type = VIRTIO_OM_T_RFILE_FORGET,
		.kvec = &kv,
		.nr_kvec = 1,
	};

	/* Lost only with home, which then has nothing to forget. */
	om_kcom_send(&out, 0, NULL);
}

/*
 * Fill @n folios in a row (single pages: large folios are not enabled on
 * these mappings) from home, in one RFILE_READ, and unlock them. Past the
 * end of the file at home (it shrank since), a page reads as zeros.
 */
/**
 * om_rfile_read() - read bytes of a file home serves this node
 * @node: home
 * @served: home's id for the file
 * @offset: from this byte
 * @len: at most this many (at most what one message holds)
 * @reply: set to the answer on success: its bytes start at
 *	sizeof(struct virtio_om_rfile_data); freed by the caller
 * @got: set to how many came (fewer: the file ends there)
 *
 * Return: 0, or -errno (home's, or -EPROTO for a malformed answer).
 */
int om_rfile_read(u32 node, u32 served, loff_t offset, u32 len, struct om_kcom_msg **reply,
		  u32 *got)
{
	struct virtio_om_rfile_read rq = {
		.served = cpu_to_le32(served),
		.len = cpu_to_le32(len),
		.offset = cpu_to_le64(offset),
	};
	struct kvec kv = { &rq, sizeof(rq) };
	struct om_kcom_out out = {
		.dst_node = node,
		.type = VIRTIO_OM_T_RFILE_READ,
		.kvec = &kv,
		.nr_kvec = 1,
	};
	struct virtio_om_rfile_data d;
	int err;

	*reply = NULL;
	*got = 0;
	err = om_kcom_call(&out, OM_KCOM_KILLABLE, OM_STEP_TIMEOUT, reply);
	if (!err) {
		if (om_kcom_msg_hdr(*reply)->type != VIRTIO_OM_T_RFILE_DATA ||
		    om_kcom_msg_copy(*reply, 0, &d, sizeof(d)) != sizeof(d))
			err = -EPROTO;
		else
			err = om_wire_errno(d.error);
		if (!err && (le32_to_cpu(d.len) > len ||
			     om_kcom_msg_hdr(*reply)->len != sizeof(d) + le32_to_cpu(d.len)))
			err = -EPROTO;
	}
	if (err) {
		om_kcom_msg_free(*reply);
		*reply = NULL;
		return err;
	}
	*got = le32_to_cpu(d.len);
	return 0;
}

/*
 * Fill @n folios in a row (single pages: large folios are not enabled on
 * these mappings) from home, in one RFILE_READ, and unlock them. Past the
 * end of the file at home (it shrank since), a page reads as zeros.
 */
static void om_rfile_fill(const struct om_rfile_src *src, struct folio **folios, unsigned int n)
{
	struct om_kcom_msg *reply;
	unsigned int i;
	size_t have;
	u32 got;
	void *va;
	int err;

	err = om_rfile_read(src->node, src->served, folio_pos(folios[0]), n * PAGE_SIZE, &reply,
			    &got);
	atomic64_inc(&om_rfile_reads);
	for (i = 0; i < n; i++) {
		if (!err) {
			have = got > i * PAGE_SIZE ? got - i * PAGE_SIZE : 0;
			have = min_t(size_t, have, PAGE_SIZE);
			va = kmap_local_folio(folios[i], 0);
			if (have)
				om_kcom_msg_copy(reply, sizeof(struct virtio_om_rfile_data) +
						 i * PAGE_SIZE, va, have);
			memset(va + have, 0, PAGE_SIZE - have);
			kunmap_local(va);
		}
		folio_end_read(folios[i], !err);
	}
	if (!err)
		atomic64_add(n, &om_rfile_pages_read);
	else
		pr_debug("omvm: pages of a file of node %u not read: %d\n", src->node, err);
	om_kcom_msg_free(reply);
}

static int om_rfile_read_folio(struct file *file, struct folio *folio)
{
	om_rfile_fill(folio->mapping->host->i_private, &folio, 1);
	return folio_test_uptodate(folio) ? 0 : -EIO;
}

/* The readahead window, a message's worth of pages per round trip. */
static void om_rfile_readahead(struct readahead_control *ractl)
{
	const struct om_rfile_src *src = ractl->mapping->host->i_private;
	/* What this device carries in one message, at most OM_RFILE_BATCH pages. */
	size_t room = om_kcom_max_payload();
	unsigned int max = room > sizeof(struct virtio_om_rfile_data) + PAGE_SIZE ?
			   min_t(size_t, (room - sizeof(struct virtio_om_rfile_data)) / PAGE_SIZE,
				 OM_RFILE_BATCH) : 1;
	struct folio *batch[OM_RFILE_BATCH];
	struct folio *folio;
	unsigned int n = 0;

	while ((folio = readahead_folio(ractl))) {
		batch[n++] = folio;
		if (n == max) {
			om_rfile_fill(src, batch, n);
			n = 0;
		}
	}
	if (n)
		om_rfile_fill(src, batch, n);
}

static const struct address_space_operations om_rfile_aops = {
	.read_folio = om_rfile_read_folio,
	.readahead = om_rfile_readahead,
};

static const struct file_operations om_rfile_fops = {
	.llseek = generic_file_llseek,
	.read_iter = generic_file_read_iter,
	.mmap = generic_file_readonly_mmap,
	.splice_read = filemap_splice_read,
};

/* Home's file as it is: no truncation, no mode or owner of this node's. */
static int om_rfile_setattr(struct mnt_idmap *idmap, struct dentry *dentry, struct iattr *attr)
{
	return -EPERM;
}

static const struct inode_operations om_rfile_iops = {
	.setattr = om_rfile_setattr,
	.getattr = simple_getattr,
};

static void om_rfile_evict_inode(struct inode *inode)
{
	struct om_rfile_src *src = inode->i_private;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (src) {
		om_rfile_forget(src->node, src->served);
		kfree(src);
	}
}

static const struct super_operations om_rfile_sops = {
	.statfs = simple_statfs,
	.drop_inode = generic_delete_inode,
	.evict_inode = om_rfile_evict_inode,
};

/**
 * om_rfile_file_new() - a file of home, its pages read as they fault
 * @node: home
 * @served: home's id for it; the file takes it (home is told to forget
 *	it when the file is no longer used, or at once on failure)
 * @size: its size, as home said
 * @name: its name (the last component of home's path)
 *
 * Return: the file, or an ERR_PTR.
 */
struct file *om_rfile_file_new(u32 node, u32 served, loff_t size, const char *name)
{
	struct om_rfile_src *src = kmalloc(sizeof(*src), GFP_KERNEL);
	struct inode *inode = NULL;
	struct file *f;

	if (src && om_rfile_mnt)
		inode = new_inode(om_rfile_mnt->mnt_sb);
	if (!inode) {
		kfree(src);
		om_rfile_forget(node, served);
		return ERR_PTR(-ENOMEM);
	}
	src->node = node;
	src->served = served;
	inode->i_private = src;
	inode->i_ino = get_next_ino();
	inode->i_mode = S_IFREG | 0555;
	inode->i_op = &om_rfile_iops;
	inode->i_fop = &om_rfile_fops;
	inode->i_mapping->a_ops = &om_rfile_aops;
	simple_inode_init_ts(inode);
	i_size_write(inode, size);
	f = alloc_file_pseudo(inode, om_rfile_mnt, name, O_RDONLY, &om_rfile_fops);
	if (IS_ERR(f)) {
		iput(inode); /* evicted: home forgets it */
		return f;
	}
	/* As an open does (a pseudo file has none): mapped, it reads around a fault. */
	file_ra_state_init(&f->f_ra, f->f_mapping);
	return f;
}

static int om_rfile_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, OM_RFILE_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->ops = &om_rfile_sops;
	return 0;
}

static struct file_system_type om_rfile_fs_type = {
	.name = "omvm_rfile",
	.init_fs_context = om_rfile_init_fs_context,
	.kill_sb = kill_anon_super,
};

int __init om_rfile_fs_init(void)
{
	struct vfsmount *mnt = kern_mount(&om_rfile_fs_type);
	int err = PTR_ERR_OR_ZERO(mnt);

	/*
	 * A backing device of its own, for its readahead window: a fault or a
	 * read brings its neighbours in the same round trips, where a pseudo
	 * filesystem's would read one page per round trip.
	 */
	if (!err) {
		err = super_setup_bdi(mnt->mnt_sb);
		if (err)
			kern_unmount(mnt);
	}
	if (!err)
		om_rfile_mnt = mnt;
	return err;
}
