// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forwarded calls that carry their buffers. The deputy runs a call with
 * a stand-in address space whose pages it fetches from the process on
 * fault, a round trip each (deputy.c): 256 of them for a write() of 1 MiB.
 * For the calls this table knows, the process sends the pages the call
 * reads before it (MEM_PUSH; the last batch inside the SYSCALL, F_PAGES),
 * and names the ranges a read-like call fills
 * from its start (SYSCALL F_OUT): the deputy neither fetches the pages
 * wholly inside it nor writes back more of them than the call's result
 * says it filled. Other calls, and pages past OM_PUSH_MAX_PAGES, are
 * fetched on fault as before. docs/engine.md, "Forwarded calls".
 */
#include <linux/fcntl.h>
#include <linux/highmem.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/resource.h>
#include <linux/moduleparam.h>
#include <linux/socket.h>
#include <linux/stat.h>
#include <linux/statfs.h>
#include <linux/sysinfo.h>
#include <linux/time_types.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/utsname.h>
#include <asm/unistd.h>
#include <uapi/linux/eventpoll.h>

#include "om.h"

/*
 * om.callbuf=0 (or 0 written to /sys/module/om/parameters/callbuf at the
 * process's node): calls go without their buffers, every page fetched on
 * fault, as a benchmark's baseline in the same run.
 */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
static bool om_callbuf_on = true;
module_param_named(callbuf, om_callbuf_on, bool, 0644);
MODULE_PARM_DESC(callbuf, "Forwarded calls carry their buffers (MEM_PUSH, F_OUT)");

/* Ranges a call reads (or writes in place: struct stat), at most. */
#define OM_CALLBUF_RANGES 8

/* Arrays of entries (poll's, epoll_wait's) pushed whole up to this many. */
#define OM_CALLBUF_ENTRIES 1024

struct om_callbuf {
	struct {
		unsigned long addr, len;
	} r[OM_CALLBUF_RANGES];
	int n;
	/* F_OUT: filled in order from their start, as read() and readv() do */
	struct {
		unsigned long addr, len;
	} fill[VIRTIO_OM_SYSCALL_OUT_MAX];
	int nr_fill;
};

static void om_cb_fill(struct om_callbuf *cb, unsigned long addr, unsigned long len)
{
	if (cb->nr_fill == VIRTIO_OM_SYSCALL_OUT_MAX)
		return;
	cb->fill[cb->nr_fill].addr = addr;
	cb->fill[cb->nr_fill].len = len;
	cb->nr_fill++;
}

/* A range the call reads or writes in place; none for a NULL pointer (optional arguments). */
static void om_cb_add(struct om_callbuf *cb, unsigned long addr, unsigned long len)
{
	if (!addr || !len || cb->n == OM_CALLBUF_RANGES)
		return;
	cb->r[cb->n].addr = addr;
	cb->r[cb->n].len = len;
	cb->n++;
}

/* A path argument: its bytes up to its NUL, if it is one. */
static void om_cb_path(struct om_callbuf *cb, unsigned long addr)
{
	long n = strnlen_user((const char __user *)addr, PATH_MAX);

	if (n > 0)
		om_cb_add(cb, addr, n);
}

/*
 * A vector call: the vector goes with it, and the first buffers it names
 * as what the call reads (writev, pwritev, sendmsg: as many as there are
 * ranges left, seven for writev) or as the ranges it fills in order
 * (readv, preadv, recvmsg: the first four). Pages of the others are
 * fetched on fault.
 */
static void om_cb_iov(struct om_callbuf *cb, unsigned long vec, unsigned long cnt, bool fills)
{
	struct iovec iov[OM_CALLBUF_RANGES];
	unsigned long i, n;

	BUILD_BUG_ON(VIRTIO_OM_SYSCALL_OUT_MAX > OM_CALLBUF_RANGES);
	if (cnt > UIO_MAXIOV)
		return;
	om_cb_add(cb, vec, cnt * sizeof(struct iovec));
	n = fills ? VIRTIO_OM_SYSCALL_OUT_MAX : OM_CALLBUF_RANGES - cb->n;
	n = min(n, cnt);
	if (copy_from_user(iov, (const void __user *)vec, n * sizeof(iov[0])))
		return;
	for (i = 0; i < n; i++) {
		if (fills)
			om_cb_fill(cb, (unsigned long)iov[i].iov_base, iov[i].iov_len);
		else
			om_cb_add(cb, (unsigned long)iov[i].iov_base, iov[i].iov_len);
	}
}

/*
 * A buffer the call writes in place and the length it may write, which it
 * also writes (recvfrom's sender address, accept's, getsockopt's value):
 * both sent, the buffer up to @max bytes.
 */
static void om_cb_lenbuf(struct om_callbuf *cb, unsigned long addr, unsigned long lenp, int max)
{
	int len;

	if (!lenp)
		return;
	om_cb_add(cb, lenp, sizeof(int));
	if (addr && !get_user(len, (int __user *)lenp) && len > 0)
		om_cb_add(cb, addr, min(len, max));
}

static void om_cb_sockaddr(struct om_callbuf *cb, unsigned long addr, unsigned long lenp)
{
	om_cb_lenbuf(cb, addr, lenp, sizeof(struct __kernel_sockaddr_storage));
}

/* An array of @cnt entries of @size, if not larger than OM_CALLBUF_ENTRIES. */
static void om_cb_array(struct om_callbuf *cb, unsigned long addr, unsigned long cnt,
			size_t size)
{
	if (cnt <= OM_CALLBUF_ENTRIES)
		om_cb_add(cb, addr, cnt * size);
}

/* select's three sets of @n descriptors (each as long as the kernel reads) and its timeout. */
static void om_cb_select(struct om_callbuf *cb, const unsigned long a[6], size_t tsize)
{
	unsigned long n = a[0], i;

	if (n > OM_CALLBUF_ENTRIES * BITS_PER_LONG)
		return;
	for (i = 1; i <= 3; i++)
		om_cb_add(cb, a[i], DIV_ROUND_UP(n, BITS_PER_LONG) * sizeof(long));
	om_cb_add(cb, a[4], tsize);
}

/* fcntl's argument, for the commands that point at a struct. */
static void om_cb_fcntl(struct om_callbuf *cb, unsigned long cmd, unsigned long arg)
{
	switch (cmd) {
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		om_cb_add(cb, arg, sizeof(struct flock));
		break;
	case F_GETOWN_EX:
	case F_SETOWN_EX:
		om_cb_add(cb, arg, sizeof(struct f_owner_ex));
		break;
	}
}

/*
 * sendmsg and recvmsg: the header (recvmsg writes its lengths and flags
 * back), its vector and the buffers it names (recvmsg: the ranges it
 * fills in order), the address and the control data.
 */
static void om_cb_msg(struct om_callbuf *cb, unsigned long addr, bool fills)
{
	struct user_msghdr m;

	om_cb_add(cb, addr, sizeof(m));
	if (copy_from_user(&m, (const void __user *)addr, sizeof(m)))
		return;
	om_cb_add(cb, (unsigned long)m.msg_name,
		  min_t(u32, m.msg_namelen, sizeof(struct __kernel_sockaddr_storage)));
	om_cb_add(cb, (unsigned long)m.msg_control,
		  min_t(__kernel_size_t, m.msg_controllen, PAGE_SIZE));
	om_cb_iov(cb, (unsigned long)m.msg_iov, m.msg_iovlen, fills);
}

/* What the table knows of call @nr with @a, into @cb (zeroed by the caller). */
static void om_callbuf_of(long nr, const unsigned long a[6], struct om_callbuf *cb)
{
	switch (nr) {
	case __NR_read:
	case __NR_pread64:
	case __NR_getdents64:
		om_cb_fill(cb, a[1], a[2]);
		break;
	case __NR_readv:
	case __NR_preadv:
	case __NR_preadv2:
		om_cb_iov(cb, a[1], a[2], true);
		break;
	case __NR_recvfrom:
		om_cb_fill(cb, a[1], a[2]);
		om_cb_sockaddr(cb, a[4], a[5]);
		break;
	case __NR_readlink:
		om_cb_path(cb, a[0]);
		om_cb_fill(cb, a[1], a[2]);
		break;
	case __NR_readlinkat:
		om_cb_path(cb, a[1]);
		om_cb_fill(cb, a[2], a[3]);
		break;
	case __NR_write:
	case __NR_pwrite64:
		om_cb_add(cb, a[1], a[2]);
		break;
	case __NR_writev:
	case __NR_pwritev:
		om_cb_iov(cb, a[1], a[2], false);
		break;
	case __NR_sendto:
		om_cb_add(cb, a[1], a[2]);
		om_cb_add(cb, a[4], a[5]);
		break;
	case __NR_open:
	case __NR_creat:
	case __NR_unlink:
	case __NR_rmdir:
	case __NR_mkdir:
	case __NR_chdir:
	case __NR_access:
	case __NR_chmod:
	case __NR_truncate:
		om_cb_path(cb, a[0]);
		break;
	case __NR_openat:
	case __NR_unlinkat:
	case __NR_mkdirat:
	case __NR_faccessat:
	case __NR_faccessat2:
	case __NR_fchmodat:
		om_cb_path(cb, a[1]);
		break;
	case __NR_rename:
	case __NR_link:
	case __NR_symlink:
		om_cb_path(cb, a[0]);
		om_cb_path(cb, a[1]);
		break;
	case __NR_renameat:
	case __NR_renameat2:
		om_cb_path(cb, a[1]);
		om_cb_path(cb, a[3]);
		break;
	case __NR_fcntl:
		om_cb_fcntl(cb, a[1], a[2]);
		break;
	case __NR_pipe:
	case __NR_pipe2:
		om_cb_add(cb, a[0], 2 * sizeof(int));
		break;
	case __NR_socketpair:
		om_cb_add(cb, a[3], 2 * sizeof(int));
		break;
	case __NR_poll:
		om_cb_array(cb, a[0], a[1], sizeof(struct pollfd));
		break;
	case __NR_ppoll:
		om_cb_array(cb, a[0], a[1], sizeof(struct pollfd));
		om_cb_add(cb, a[2], sizeof(struct __kernel_timespec));
		break;
	case __NR_select:
		om_cb_select(cb, a, sizeof(struct __kernel_old_timeval));
		break;
	case __NR_pselect6:
		om_cb_select(cb, a, sizeof(struct __kernel_timespec));
		break;
	case __NR_epoll_ctl:
		om_cb_add(cb, a[3], sizeof(struct epoll_event));
		break;
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
		if ((long)a[2] > 0)
			om_cb_array(cb, a[1], a[2], sizeof(struct epoll_event));
		break;
	case __NR_getcwd:
		/* It fills from the start, and answers the length with its NUL. */
		om_cb_fill(cb, a[0], a[1]);
		break;
	case __NR_uname:
		om_cb_add(cb, a[0], sizeof(struct new_utsname));
		break;
	case __NR_sysinfo:
		om_cb_add(cb, a[0], sizeof(struct sysinfo));
		break;
	case __NR_statfs:
		om_cb_path(cb, a[0]);
		om_cb_add(cb, a[1], sizeof(struct statfs));
		break;
	case __NR_fstatfs:
		om_cb_add(cb, a[1], sizeof(struct statfs));
		break;
	case __NR_utimensat:
		om_cb_path(cb, a[1]);
		om_cb_add(cb, a[2], 2 * sizeof(struct __kernel_timespec));
		break;
	case __NR_chown:
	case __NR_lchown:
		om_cb_path(cb, a[0]);
		break;
	case __NR_fchownat:
		om_cb_path(cb, a[1]);
		break;
	case __NR_linkat:
		om_cb_path(cb, a[1]);
		om_cb_path(cb, a[3]);
		break;
	case __NR_symlinkat:
		om_cb_path(cb, a[0]);
		om_cb_path(cb, a[2]);
		break;
	case __NR_connect:
	case __NR_bind:
		om_cb_add(cb, a[1], min_t(unsigned long, a[2],
					  sizeof(struct __kernel_sockaddr_storage)));
		break;
	case __NR_accept:
	case __NR_accept4:
	case __NR_getsockname:
	case __NR_getpeername:
		om_cb_sockaddr(cb, a[1], a[2]);
		break;
	case __NR_setsockopt:
		om_cb_add(cb, a[3], min_t(unsigned long, a[4], PAGE_SIZE));
		break;
	case __NR_getsockopt:
		om_cb_lenbuf(cb, a[3], a[4], PAGE_SIZE);
		break;
	case __NR_sendmsg:
		om_cb_msg(cb, a[1], false);
		break;
	case __NR_recvmsg:
		om_cb_msg(cb, a[1], true);
		break;
	case __NR_wait4:
		/* What it writes in place: the status and the usage, if asked. */
		om_cb_add(cb, a[1], sizeof(int));
		om_cb_add(cb, a[3], sizeof(struct rusage));
		break;
	case __NR_waitid:
		om_cb_add(cb, a[2], sizeof(siginfo_t));
		om_cb_add(cb, a[4], sizeof(struct rusage));
		break;
	case __NR_stat:
	case __NR_lstat:
		om_cb_path(cb, a[0]);
		om_cb_add(cb, a[1], sizeof(struct stat));
		break;
	case __NR_fstat:
		om_cb_add(cb, a[1], sizeof(struct stat));
		break;
	case __NR_newfstatat:
		om_cb_path(cb, a[1]);
		om_cb_add(cb, a[2], sizeof(struct stat));
		break;
	case __NR_statx:
		om_cb_path(cb, a[1]);
		om_cb_add(cb, a[4], sizeof(struct statx));
		break;
	}
}

/**
 * om_push_batch_add() - add a whole page to a batch
 * @b: the batch
 * @addr: the page's address in the process
 * @page: the page; the batch takes this reference
 * @writable: whether the process may write it
 *
 * Return: true once the batch is full (to be sent before the next).
 */
bool om_push_batch_add(struct om_push_batch *b, unsigned long addr, struct page *page,
		       bool writable)
{
	b->addrs[b->n] = cpu_to_le64(addr);
	bvec_set_page(&b->bv[b->n], page, PAGE_SIZE, 0);
	if (writable)
		b->hdr.writable |= cpu_to_le32(BIT(b->n));
	return ++b->n == VIRTIO_OM_MEM_PUSH_MAX;
}

/* Let go of the batch's pages unsent. */
void om_push_batch_release(struct om_push_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		put_page(b->bv[i].bv_page);
	b->n = 0;
	b->hdr.writable = 0;
}

/**
 * om_send_batched() - send a message with a batch of pages in it
 * @p: the half that sends
 * @type: SYSCALL or SYSCALL_RET (its struct says F_PAGES), or MEM_PUSH
 * @flags: kcom header flags
 * @reply_to: the request answered, or 0
 * @fixed: the type's struct, or nothing (MEM_PUSH: length 0)
 * @tail: what follows the batch's addresses (a SYSCALL's F_OUT ranges), or NULL
 * @b: the batch, empty or not: its pages go last and are let go after
 * @seq: if not NULL, the message's sequence number
 *
 * One message for a call and its last pages, each way: the layout is the
 * UAPI's (VIRTIO_OM_SYSCALL_F_PAGES).
 *
 * Return: om_send()'s.
 */
int om_send_batched(struct om_proc *p, u16 type, u32 flags, u64 reply_to,
		    const struct kvec *fixed, const struct kvec *tail, struct om_push_batch *b,
		    u64 *seq)
{
	struct kvec kv[4];
	unsigned int n = 0;
	int err;

	BUILD_BUG_ON(VIRTIO_OM_PUSH_BATCH_MAX_SIZE !=
		     sizeof(b->hdr) + VIRTIO_OM_MEM_PUSH_MAX * (sizeof(b->addrs[0]) + PAGE_SIZE));
	if (fixed && fixed->iov_len)
		kv[n++] = *fixed;
	if (b->n) {
		b->hdr.count = cpu_to_le32(b->n);
		kv[n].iov_base = &b->hdr;
		kv[n++].iov_len = sizeof(b->hdr);
		kv[n].iov_base = b->addrs;
		kv[n++].iov_len = b->n * sizeof(b->addrs[0]);
	}
	if (tail && tail->iov_len)
		kv[n++] = *tail;
	err = om_send(p, type, flags, reply_to, kv, n, b->bv, b->n, seq);
	om_push_batch_release(b);
	return err;
}

struct om_pusher {
	struct om_proc *p;
	struct om_push_batch b;
	unsigned int total;
	unsigned int missed; /* pages not sent: past the cap, or not mapped */
	bool copy; /* the call may go behind: send copies, not its pages in place */
	int err;
	/* What was pushed: a page two ranges share (sendmsg's header, name) goes once. */
	struct {
		unsigned long start, end;
	} spans[OM_CALLBUF_RANGES + 2 * VIRTIO_OM_SYSCALL_OUT_MAX];
	unsigned int nr_spans;
};

/* A full batch goes ahead as a MEM_PUSH; the last rides with the call. */
static void om_push_flush(struct om_pusher *ps)
{
	if (!ps->err)
		ps->err = om_send_batched(ps->p, VIRTIO_OM_T_MEM_PUSH, 0, 0, NULL, NULL, &ps->b,
					  NULL);
	else
		om_push_batch_release(&ps->b);
}

/*
 * One page of the process's, if mapped (the deputy faults for any other),
 * writable if the process may write it, as MEM_DATA says of a fetched
 * one: a page a call reads may hold what it writes too (a path and a
 * struct stat on one stack page), and the deputy writes back only pages
 * it was told are writable.
 */
static void om_push_page(struct om_pusher *ps, unsigned long addr)
{
	bool write = true;
	struct page *page;

	if (ps->err || ps->total == OM_PUSH_MAX_PAGES) {
		ps->missed++;
		return;
	}
	if (get_user_pages_fast(addr, 1, FOLL_WRITE, &page) != 1) {
		if (get_user_pages_fast(addr, 1, 0, &page) != 1) {
			ps->missed++;
			return;
		}
		write = false;
	}
	/*
	 * kcom sends pages in place, read by the device after om_send()
	 * returns: a call not waited for must not send what the process
	 * may write again meanwhile (its stdio buffer, the next write's).
	 */
	if (ps->copy) {
		struct page *copy = alloc_page(GFP_HIGHUSER);

		if (!copy) {
			put_page(page);
			ps->missed++;
			return;
		}
		copy_highpage(copy, page);
		put_page(page);
		page = copy;
	}
	ps->total++;
	if (om_push_batch_add(&ps->b, addr, page, write))
		om_push_flush(ps);
}

/* The pages of [@addr, @addr + @len) not pushed yet for this call. */
static void om_push_range(struct om_pusher *ps, unsigned long addr, unsigned long len)
{
	unsigned long a, end;
	unsigned int i;

	if (check_add_overflow(addr, len, &end) || end > TASK_SIZE)
		return;
	for (a = addr & PAGE_MASK; a < end; a += PAGE_SIZE) {
		for (i = 0; i < ps->nr_spans; i++)
			if (a >= ps->spans[i].start && a < ps->spans[i].end)
				break;
		if (i == ps->nr_spans)
			om_push_page(ps, a);
	}
	if (ps->nr_spans < ARRAY_SIZE(ps->spans)) {
		ps->spans[ps->nr_spans].start = addr & PAGE_MASK;
		ps->spans[ps->nr_spans++].end = end;
	}
}

/*
 * Whether the process may write all of [@addr, @end): a fill the deputy
 * would take on trust must fail with EFAULT here as at home otherwise.
 */
static bool om_cb_writable(unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool ok = true;

	mmap_read_lock(mm);
	while (ok && addr < end) {
		vma = vma_lookup(mm, addr);
		ok = vma && (vma->vm_flags & VM_WRITE);
		if (ok)
			addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ok;
}

/*
 * Whether fill ranges @i and @j (checked against overflow) share no byte.
 * A page they share is partly filled by each, so pushed and written back
 * whole; a page wholly inside one must be written from that one only.
 */
static bool om_cb_apart(const struct om_callbuf *cb, int i, int j)
{
	unsigned long a = cb->fill[i].addr, b = cb->fill[j].addr;

	return a + cb->fill[i].len <= b || b + cb->fill[j].len <= a;
}

/**
 * om_callbuf_send() - send a call about to be forwarded, with its buffers
 * @p: the process's half away
 * @nr: the call
 * @args: its arguments
 * @may_behind: whether it may go behind (behind.c), if all it reads goes with it
 * @seq: the SYSCALL's sequence number, filled in
 *
 * The pages the call reads go first, in MEM_PUSHes of a full batch, and
 * the last batch in the SYSCALL (F_PAGES); a read-like call names the
 * ranges it fills (F_OUT).
 *
 * Return: 1 if it went behind, 0 if its answer is to be waited for, or the
 * error sending failed with.
 */
int om_callbuf_send(struct om_proc *p, long nr, const unsigned long args[6], bool may_behind,
		    u64 *seq)
{
	struct virtio_om_syscall sc = { .nr = cpu_to_le32(nr) };
	struct virtio_om_syscall_out out[VIRTIO_OM_SYSCALL_OUT_MAX] = {};
	struct kvec fixed = { &sc, sizeof(sc) }, tail = { out, 0 };
	struct om_pusher *ps;
	struct om_callbuf cb = {};
	unsigned long end;
	bool fills = true, behind;
	int i, j, err;

	for (i = 0; i < 6; i++)
		sc.args[i] = cpu_to_le64(args[i]);
	if (READ_ONCE(om_callbuf_on))
		om_callbuf_of(nr, args, &cb);
	/* Without the table, or without memory, the deputy fetches what it needs. */
	ps = cb.n || cb.nr_fill ? kzalloc(sizeof(*ps), GFP_KERNEL) : NULL;
	if (!ps)
		goto send;
	ps->p = p;
	ps->copy = may_behind;
	for (i = 0; i < cb.n; i++)
		om_push_range(ps, cb.r[i].addr, cb.r[i].len);
	/*
	 * Each range must be the process's to write, and no two may overlap,
	 * or none is named.
	 */
	for (i = 0; i < cb.nr_fill && fills; i++) {
		fills = !check_add_overflow(cb.fill[i].addr, cb.fill[i].len, &end) &&
			end <= TASK_SIZE && om_cb_writable(cb.fill[i].addr, end);
		for (j = 0; j < i && fills; j++)
			fills = om_cb_apart(&cb, i, j);
	}
	for (i = 0; i < cb.nr_fill && fills; i++) {
		end = cb.fill[i].addr + cb.fill[i].len;
		/* Its pages partly filled are the process's around the fill: pushed. */
		if (offset_in_page(cb.fill[i].addr))
			om_push_range(ps, cb.fill[i].addr & PAGE_MASK, 1);
		if (offset_in_page(end) && (end & PAGE_MASK) >= PAGE_ALIGN(cb.fill[i].addr))
			om_push_range(ps, end & PAGE_MASK, 1);
		out[i].addr = cpu_to_le64(cb.fill[i].addr);
		out[i].len = cpu_to_le64(cb.fill[i].len);
	}
	if (fills && cb.nr_fill) {
		sc.flags |= cpu_to_le32(VIRTIO_OM_SYSCALL_F_OUT);
		tail.iov_len = cb.nr_fill * sizeof(out[0]);
	}
send:
	/* A write whose buffer did not all go (too large, unmapped) waits. */
	behind = may_behind && ps && cb.n && !ps->missed && !tail.iov_len;
	if (behind)
		sc.flags |= cpu_to_le32(VIRTIO_OM_SYSCALL_F_BEHIND);
	if (ps && ps->err) {
		err = ps->err;
		om_push_batch_release(&ps->b);
	} else if (ps) {
		if (ps->b.n)
			sc.flags |= cpu_to_le32(VIRTIO_OM_SYSCALL_F_PAGES);
		err = om_send_batched(p, VIRTIO_OM_T_SYSCALL, 0, 0, &fixed, &tail, &ps->b, seq);
	} else {
		err = om_send(p, VIRTIO_OM_T_SYSCALL, 0, 0, &fixed, 1, NULL, 0, seq);
	}
	kfree(ps);
	return err ?: behind;
}

/**
 * om_mem_push_parse() - check a batch of pages, either way, and read its addresses
 * @msg: the message: a MEM_PUSH, or a SYSCALL or SYSCALL_RET with F_PAGES
 * @off: where the batch's virtio_om_mem_push is
 * @exact: nothing but the pages may follow the addresses (all but a SYSCALL)
 * @addrs: VIRTIO_OM_MEM_PUSH_MAX addresses, filled in
 * @writable: its writable bits, filled in
 *
 * The pages are the message's last count pages.
 *
 * Return: the count of pages, or -EPROTO for a count out of range, a
 * writable bit past it, a length that cannot hold them (or, @exact, not
 * just them), or an address not page-aligned, 0 or past user space.
 */
int om_mem_push_parse(struct om_kcom_msg *msg, size_t off, bool exact, __le64 *addrs,
		      u32 *writable)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_mem_push m;
	size_t need;
	u32 n, i;

	if (om_kcom_msg_copy(msg, off, &m, sizeof(m)) != sizeof(m))
		return -EPROTO;
	n = le32_to_cpu(m.count);
	*writable = le32_to_cpu(m.writable);
	if (!n || n > VIRTIO_OM_MEM_PUSH_MAX || (*writable >> n))
		return -EPROTO;
	need = off + sizeof(m) + n * (sizeof(addrs[0]) + PAGE_SIZE);
	if (h->len < need || (exact && h->len != need) ||
	    om_kcom_msg_copy(msg, off + sizeof(m), addrs, n * sizeof(addrs[0])) !=
		    n * sizeof(addrs[0]))
		return -EPROTO;
	for (i = 0; i < n; i++) {
		u64 a = le64_to_cpu(addrs[i]);

		if (offset_in_page(a) || a < PAGE_SIZE || a >= TASK_SIZE)
			return -EPROTO;
	}
	return n;
}

/**
 * om_callbuf_written() - take in whole pages a forwarded call wrote
 * @msg: a MEM_PUSH from the deputy, or the call's SYSCALL_RET with F_PAGES
 * @off: where the batch is in it (0, or after the virtio_om_syscall_ret)
 *
 * The deputy writes back whole pages in batches this way (partial ones
 * by MEM_WRITE); a malformed batch is dropped whole, and what the process
 * may not write is not written (copy_to_user), as for MEM_WRITE.
 */
void om_callbuf_written(struct om_kcom_msg *msg, size_t off)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	__le64 addrs[VIRTIO_OM_MEM_PUSH_MAX];
	u32 writable, i;
	int n = om_mem_push_parse(msg, off, true, addrs, &writable);

	if (n < 0 || writable)
		goto bad;
	for (i = 0; i < n; i++) {
		size_t at = h->len - (size_t)(n - i) * PAGE_SIZE;
		void __user *to = u64_to_user_ptr(le64_to_cpu(addrs[i]));
		struct iov_iter it;

		/* Straight from the message's buffers to the process's page. */
		iov_iter_ubuf(&it, ITER_DEST, to, PAGE_SIZE);
		if (om_kcom_msg_copy_iter(msg, at, PAGE_SIZE, &it) != PAGE_SIZE)
			pr_debug("omvm: write-back to %p failed\n", to);
	}
	return;
bad:
	pr_warn_ratelimited("omvm: a malformed write-back from node %u dropped\n", h->src_node);
}
