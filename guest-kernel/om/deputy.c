// SPDX-License-Identifier: GPL-2.0-only
/*
 * The deputy: what stays at home while the process runs away. It keeps
 * the process's pid, files, cwd, parent and terminal, runs the system calls
 * the process forwards, in its own context, and forwards the signals it
 * receives.
 *
 * Its memory: the process's memory is away, so the deputy gets a stand-in
 * address space, one mapping over all of user space whose pages are fetched
 * from the process when a system call touches them. After each call, the
 * pages the call changed are written back and all are dropped. Every
 * uaccess path works unchanged.
 */
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/signalfd.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uio.h>
#include <asm/unistd.h>

#include "om.h"

/*
 * om.fetch_ahead (/sys/module/om/parameters/fetch_ahead at home): the most
 * pages a fetch reads ahead of the one a call faulted on, while the call's
 * faults go in order; 0: one page a fetch, as a benchmark's baseline.
 */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "om."
static unsigned int om_fetch_ahead_max = VIRTIO_OM_MEM_AHEAD_MAX;
module_param_named(fetch_ahead, om_fetch_ahead_max, uint, 0644);
MODULE_PARM_DESC(fetch_ahead, "Pages a deputy's fetch reads ahead at most (0-14)");

/* A handler value the deputy never runs: signals are only forwarded. */
#define OM_DEPUTY_HANDLER ((__sighandler_t)2)

static int om_deputy_push(struct om_proc *p, struct om_kcom_msg *msg, size_t off, bool ahead);

/*
 * The page at @addr, read from the process into @buf, and up to @ahead
 * pages after it, kept as pushed ones for the call.
 *
 * Return: the pages read ahead, or -errno.
 */
static int om_fetch(struct om_proc *p, unsigned long addr, void *buf, bool *writable, u32 ahead)
{
	struct virtio_om_mem_req req = {
		.addr = cpu_to_le64(addr),
		.len = cpu_to_le32(PAGE_SIZE),
		.ahead = cpu_to_le32(ahead),
	};
	struct kvec kv = { &req, sizeof(req) };
	struct virtio_om_mem_data data;
	struct om_kcom_msg *reply;
	size_t at = sizeof(data);
	int err, got = 0;
	u32 flags;

	err = om_call_expect(p, VIRTIO_OM_T_MEM_READ, &kv, 1, OM_STEP_TIMEOUT,
			     VIRTIO_OM_T_MEM_DATA, &data, sizeof(data), &reply);
	if (err)
		return err;
	flags = le32_to_cpu(data.flags);
	/* The pages read ahead, as a SYSCALL's F_PAGES: the page asked after their addresses. */
	if (!data.error && (flags & VIRTIO_OM_MEM_F_PAGES)) {
		got = om_deputy_push(p, reply, at, true);
		at += VIRTIO_OM_MEM_PUSH_SIZE + max(got, 0) * sizeof(__le64);
	}
	if (data.error)
		err = -EFAULT;
	else if (got < 0 || (flags & ~(VIRTIO_OM_MEM_F_WRITABLE | VIRTIO_OM_MEM_F_PAGES)) ||
		 om_kcom_msg_copy(reply, at, buf, PAGE_SIZE) != PAGE_SIZE)
		err = -EPROTO;
	if (!err) {
		*writable = flags & VIRTIO_OM_MEM_F_WRITABLE;
		atomic64_inc(&p->stats.pages_fetched);
	}
	om_kcom_msg_free(reply);
	return err ?: got;
}

/* A page the process pushed for this call, taken; NULL if none fits the fault. */
static struct page *om_deputy_take_pushed(struct om_proc *p, unsigned long addr, bool write,
					  bool *writable)
{
	unsigned long idx = om_page_key(p->pushed_base, addr);
	struct page *page;

	*writable = xa_get_mark(&p->pushed, idx, XA_MARK_0);
	page = xa_erase(&p->pushed, idx);
	if (page)
		p->nr_pushed--;
	if (page && write && !*writable) {
		/* Pushed for reading, written: fetch it, the process says if it may. */
		put_page(page);
		page = NULL;
	}
	return page;
}

/* Whether the page at @addr lies wholly in fill range @f. */
static bool om_fill_holds(const struct om_fill *f, unsigned long addr)
{
	return addr >= f->addr && addr + PAGE_SIZE <= f->addr + f->len;
}

/* Whether the page at @addr lies wholly in a range the call fills. */
static bool om_deputy_fills(struct om_proc *p, unsigned long addr)
{
	unsigned int i;

	for (i = 0; i < p->nr_fill; i++)
		if (om_fill_holds(&p->fill[i], addr))
			return true;
	return false;
}

/**
 * om_deputy_filled_end() - where a call's filling of a page ended
 * @p: the deputy's half, with the call's fill ranges
 * @addr: a page wholly inside one of them
 * @ret: the call's result
 *
 * The ranges fill in order, as readv's do: @ret bytes, the first range
 * whole before the next.
 *
 * Return: the address in [@addr, @addr + PAGE_SIZE] up to which the call
 * filled it (@addr: nothing of it).
 */
unsigned long om_deputy_filled_end(const struct om_proc *p, unsigned long addr, long ret)
{
	unsigned long left = ret > 0 ? ret : 0, done;
	unsigned int i;

	for (i = 0; i < p->nr_fill; i++) {
		done = min(left, p->fill[i].len);
		if (om_fill_holds(&p->fill[i], addr))
			return clamp(p->fill[i].addr + done, addr, addr + PAGE_SIZE);
		left -= done;
	}
	return addr;
}

static vm_fault_t om_deputy_fault(struct vm_fault *vmf)
{
	struct om_proc *p = vmf->vma->vm_private_data;
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long key;
	bool write = vmf->flags & FAULT_FLAG_WRITE, writable = false, fresh = false;
	struct page *page, *old;

	/*
	 * Exiting, the deputy has no use for the process's memory (a
	 * clear_child_tid or robust list written at exit is the process's,
	 * away): fail at once rather than ask a process that may be gone.
	 */
	if (current->flags & PF_EXITING)
		return VM_FAULT_SIGBUS;
	page = om_deputy_take_pushed(p, addr, write, &writable);
	if (!page && om_deputy_fills(p, addr)) {
		/* The call writes it whole, or says how much it wrote: no fetch. */
		page = alloc_page(GFP_HIGHUSER | __GFP_ZERO);
		if (!page)
			return VM_FAULT_OOM;
		writable = true;
		fresh = true;
		atomic64_inc(&p->stats.pages_unfetched);
	} else if (!page) {
		/* In a call, read on ahead while its faults go in order, more each time. */
		u32 most = min_t(u32, READ_ONCE(om_fetch_ahead_max), VIRTIO_OM_MEM_AHEAD_MAX);
		u32 ahead = most && addr == p->fetch_next ? clamp(p->fetch_ahead * 2, 1U, most) : 0;
		int got;

		page = alloc_page(GFP_HIGHUSER);
		if (!page)
			return VM_FAULT_OOM;
		got = om_fetch(p, addr, page_address(page), &writable, ahead);
		if (got < 0 || (write && !writable)) {
			/* What the process has not mapped (or not writable) faults as at home. */
			put_page(page);
			return VM_FAULT_SIGBUS;
		}
		if (p->fetch_next) {
			p->fetch_ahead = ahead;
			p->fetch_next = addr + (got + 1UL) * PAGE_SIZE;
		}
	}
	get_page(page);
	key = om_page_key_new(&p->fetched, &p->fetched_base, addr);
	old = xa_store(&p->fetched, key, page, GFP_KERNEL);
	if (xa_is_err(old)) {
		put_page(page);
		put_page(page);
		return VM_FAULT_OOM;
	}
	if (old)
		put_page(old);
	if (writable)
		xa_set_mark(&p->fetched, key, XA_MARK_0);
	if (fresh)
		xa_set_mark(&p->fetched, key, XA_MARK_1);
	vmf->page = page;
	return 0;
}

/**
 * om_deputy_drop_pushed() - forget the pages pushed for a call
 * @p: the deputy's half
 */
void om_deputy_drop_pushed(struct om_proc *p)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&p->pushed, idx, page) {
		xa_erase(&p->pushed, idx);
		put_page(page);
	}
	p->nr_pushed = 0;
	/* Out of a call: no read-ahead (nothing would drop what it read). */
	p->fetch_next = 0;
	p->fetch_ahead = 0;
}

/*
 * MEM_PUSH (@off 0), or the batch in a SYSCALL with F_PAGES (@off after
 * its struct), or in a MEM_DATA with F_PAGES (@ahead: read ahead): pages
 * of the process for the call. Up to OM_PUSH_MAX_PAGES held at once; a
 * malformed batch is dropped whole (the call then fetches what it needs,
 * as without it).
 *
 * Return: the batch's count of pages, or -EPROTO.
 */
static int om_deputy_push(struct om_proc *p, struct om_kcom_msg *msg, size_t off, bool ahead)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	__le64 addrs[VIRTIO_OM_MEM_PUSH_MAX];
	u32 writable, i;
	int n = om_mem_push_parse(msg, off, !off, addrs, &writable);
	size_t at;

	if (n < 0)
		goto bad;
	at = h->len - (size_t)n * PAGE_SIZE;
	for (i = 0; i < n; i++, at += PAGE_SIZE) {
		unsigned long addr = le64_to_cpu(addrs[i]), idx;
		struct page *page, *old;

		if (p->nr_pushed >= OM_PUSH_MAX_PAGES)
			break;
		page = alloc_page(GFP_HIGHUSER);
		if (!page)
			break;
		if (om_kcom_msg_copy(msg, at, page_address(page), PAGE_SIZE) != PAGE_SIZE) {
			put_page(page);
			break;
		}
		idx = om_page_key_new(&p->pushed, &p->pushed_base, addr);
		old = xa_store(&p->pushed, idx, page, GFP_KERNEL);
		if (xa_is_err(old)) {
			put_page(page);
			break;
		}
		if (old)
			put_page(old);
		else
			p->nr_pushed++;
		if (writable & BIT(i))
			xa_set_mark(&p->pushed, idx, XA_MARK_0);
		else
			xa_clear_mark(&p->pushed, idx, XA_MARK_0);
		atomic64_inc(ahead ? &p->stats.pages_ahead : &p->stats.pages_pushed);
	}
	return n;
bad:
	pr_warn_ratelimited("omvm: pid %d: a malformed MEM_PUSH from node %u dropped\n",
			    p->home_pid, h->src_node);
	return -EPROTO;
}

static const char *om_deputy_vma_name(struct vm_area_struct *vma)
{
	return "[omvm deputy]";
}

/* The mapping holds a reference to its half: the mm may outlive the registry's. */
static void om_deputy_vma_close(struct vm_area_struct *vma)
{
	om_proc_put(vma->vm_private_data);
}

static const struct vm_operations_struct om_deputy_vm_ops = {
	.fault = om_deputy_fault,
	.close = om_deputy_vma_close,
	.name = om_deputy_vma_name,
};

/**
 * om_deputy_mm() - the deputy's stand-in address space
 * @p: the deputy's half
 *
 * Return: a new mm with one private mapping over user space, or NULL.
 */
static struct mm_struct *om_deputy_mm(struct om_proc *p)
{
	struct mm_struct *mm = om_mm_new();
	struct vm_area_struct *vma;
	vm_flags_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_DONTEXPAND |
			   VM_DONTCOPY | VM_DONTDUMP | VM_NORESERVE;

	if (!mm)
		return NULL;
	/* The program stays the process's at home. */
	om_mm_keep_exe(mm, current->mm);
	vma = vm_area_alloc(mm);
	if (!vma)
		goto fail;
	vma->vm_start = PAGE_SIZE;
	vma->vm_end = TASK_SIZE;
	vma->vm_pgoff = 0;
	vm_flags_init(vma, flags);
	vma->vm_page_prot = vm_get_page_prot(flags);
	vma->vm_ops = &om_deputy_vm_ops;
	vma->vm_private_data = p;
	mmap_write_lock(mm);
	if (insert_vm_struct(mm, vma)) {
		mmap_write_unlock(mm);
		vm_area_free(vma);
		goto fail;
	}
	refcount_inc(&p->ref);
	mmap_write_unlock(mm);
	return mm;
fail:
	mmput(mm);
	return NULL;
}

/* Write back @len bytes of @page from @off, at the process's @addr + @off. */
static int om_deputy_write_back(struct om_proc *p, unsigned long addr, struct page *page,
				unsigned int off, unsigned int len)
{
	struct virtio_om_mem_req req = {
		.addr = cpu_to_le64(addr + off),
		.len = cpu_to_le32(len),
	};
	struct kvec kv = { &req, sizeof(req) };
	struct bio_vec bv;

	bvec_set_page(&bv, page, len, off);
	atomic64_inc(&p->stats.pages_written);
	return om_send(p, VIRTIO_OM_T_MEM_WRITE, 0, 0, &kv, 1, &bv, 1, NULL);
}

/*
 * Whole pages a call wrote go back together: a full batch in a MEM_PUSH
 * at once, the last in the call's SYSCALL_RET (F_PAGES).
 */
static int om_write_back_page(struct om_proc *p, struct om_push_batch *wb, unsigned long addr,
			      struct page *page)
{
	get_page(page);
	atomic64_inc(&p->stats.pages_written);
	if (!om_push_batch_add(wb, addr, page, false))
		return 0;
	return om_send_batched(p, VIRTIO_OM_T_MEM_PUSH, 0, 0, NULL, NULL, wb, NULL);
}

/*
 * After a call that returned @ret: write back what it changed (whole pages
 * in batches, the last left in @wb for the call's answer; the part of a
 * page a call filled by MEM_WRITE), then forget every page. Of a page the
 * call filled without a fetch, only what the result says it filled goes
 * back: the rest of it the deputy never had.
 */
static int om_deputy_flush(struct om_proc *p, long ret, struct om_push_batch *wb)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct page *page;
	unsigned long idx;
	int err = 0;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, PAGE_SIZE);
	xa_for_each(&p->fetched, idx, page) {
		unsigned long addr = om_page_key_addr(p->fetched_base, idx), end;
		struct page *now;

		if (!err && xa_get_mark(&p->fetched, idx, XA_MARK_0) &&
		    get_user_pages(addr, 1, 0, &now) == 1) {
			/* A write made the mapping private: the page there is a copy. */
			end = xa_get_mark(&p->fetched, idx, XA_MARK_1) ?
				      om_deputy_filled_end(p, addr, ret) : addr + PAGE_SIZE;
			if (now != page && end == addr + PAGE_SIZE && wb)
				err = om_write_back_page(p, wb, addr, now);
			else if (now != page && end > addr)
				err = om_deputy_write_back(p, addr, now, 0, end - addr);
			put_page(now);
		}
		if (vma)
			zap_page_range_single(vma, addr, PAGE_SIZE, NULL);
		xa_erase(&p->fetched, idx);
		put_page(page);
	}
	mmap_read_unlock(mm);
	/* A write-back failed: what is left does not go either. */
	if (err && wb)
		om_push_batch_release(wb);
	om_deputy_drop_pushed(p);
	p->nr_fill = 0;
	return err;
}

static int om_signalfd_mask(const void *arg, struct file *file, unsigned int fd)
{
	sigset_t *all = (sigset_t *)arg, mask;

	if (signalfd_file_mask(file, &mask))
		sigorsets(all, all, &mask);
	return 0;
}

/*
 * The signals the deputy holds at home rather than send on: those the
 * process blocks that a signalfd of its (at home, with its files) reads.
 * There a forwarded read or poll of the signalfd finds them, as it would
 * had the process never left; the others go to the process, whose mask
 * and handlers rule. The process learns which signals these are
 * (SIGWATCH), and tells its mask whenever it changes on one of them
 * (SIGMASK, om_deputy_sigmask()).
 */
static void om_deputy_held(struct om_proc *p, sigset_t *held)
{
	struct virtio_om_sigset s;
	struct kvec kv = { &s, sizeof(s) };
	sigset_t readable;

	sigemptyset(&readable);
	iterate_fd(current->files, 0, om_signalfd_mask, &readable);
	sigdelsetmask(&readable, sigmask(SIGKILL) | sigmask(SIGSTOP));
	if (!sigequalsets(&readable, &p->watched)) {
		p->watched = readable;
		s.sigs = cpu_to_le64(readable.sig[0]);
		om_send(p, VIRTIO_OM_T_SIGWATCH, 0, 0, &kv, 1, NULL, 0, NULL);
	}
	sigandsets(held, &readable, &p->away_blocked);
}

/**
 * om_deputy_forward_signals() - send the deputy's pending signals on
 * @p: the deputy's half
 *
 * SIGKILL stays: it ends the deputy, and with it the process. The signals
 * held at home (om_deputy_held()) stay too, blocked in the deputy so they
 * do not wake it.
 */
void om_deputy_forward_signals(struct om_proc *p)
{
	kernel_siginfo_t info;
	enum pid_type type;
	sigset_t keep, held;
	int sig;

	om_deputy_held(p, &held);
	if (!sigequalsets(&held, &current->blocked))
		set_current_blocked(&held);
	keep = held;
	sigaddset(&keep, SIGKILL);
	for (;;) {
		spin_lock_irq(&current->sighand->siglock);
		sig = dequeue_signal(&keep, &info, &type);
		spin_unlock_irq(&current->sighand->siglock);
		if (!sig)
			break;
		/* Counted before it leaves: a STOPPED that crosses it is stale (jobctl.c). */
		if (sig == SIGCONT)
			atomic_inc(&p->conts);
		/* Sent to a node the move may still be taken back from (hop.c). */
		if (p->prev_peer && om_hop_keep_signal(p, &info))
			send_sig(SIGKILL, current, 1);
		om_send_signal(p, &info);
	}
}

/*
 * A SYSCALL's parts past its struct: F_PAGES' batch (kept for the call),
 * then F_OUT's ranges (in p->fill). Anything else there is malformed.
 *
 * Return: 0, or -EPROTO.
 */
static int om_deputy_call_parts(struct om_proc *p, struct om_kcom_msg *msg, u32 flags)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_syscall_out out[VIRTIO_OM_SYSCALL_OUT_MAX];
	size_t at = sizeof(struct virtio_om_syscall), end = h->len, outs;
	int i, n;

	p->nr_fill = 0;
	if (flags & VIRTIO_OM_SYSCALL_F_PAGES) {
		n = om_deputy_push(p, msg, at, false);
		if (n < 0)
			return n;
		at += VIRTIO_OM_MEM_PUSH_SIZE + n * sizeof(__le64);
		end -= (size_t)n * PAGE_SIZE;
	}
	outs = (end - at) / sizeof(out[0]);
	if (!(flags & VIRTIO_OM_SYSCALL_F_OUT))
		return end == at ? 0 : -EPROTO;
	/* F_OUT: the ranges the call fills in order (callbuf.c), whole or none. */
	if (!outs || outs > VIRTIO_OM_SYSCALL_OUT_MAX || (end - at) % sizeof(out[0]))
		return -EPROTO;
	om_kcom_msg_copy(msg, at, out, outs * sizeof(out[0]));
	for (i = 0; i < outs; i++) {
		struct om_fill *f = &p->fill[i];

		f->addr = le64_to_cpu(out[i].addr);
		f->len = le64_to_cpu(out[i].len);
		if (f->len > TASK_SIZE || f->addr > TASK_SIZE - f->len)
			f->len = 0;
	}
	p->nr_fill = outs;
	return 0;
}

/*
 * Calls behind answered as one: while more of the process's messages wait,
 * a call behind that went as sent is not answered at once; the next answer
 * says it went (SYSCALL_RET calls), sent before the deputy takes anything
 * but another call behind, or waits. At most this many an answer, half of
 * what the process may have unanswered, so it need not wait for room.
 */
#define OM_BEHIND_OWED_MAX (OM_BEHIND_WINDOW / 2)

/**
 * om_deputy_answer_owed() - send the answer owed to calls behind, if any
 * @p: the deputy's half
 */
void om_deputy_answer_owed(struct om_proc *p)
{
	struct virtio_om_syscall_ret r = {
		.ret = cpu_to_le64(p->owed_ret),
		.flags = cpu_to_le32(p->owed_flags),
		.calls = cpu_to_le32(p->owed_calls),
	};
	struct kvec kv = { &r, sizeof(r) };

	if (!p->owed_calls)
		return;
	p->owed_calls = 0;
	atomic64_inc(&p->stats.behind_answers);
	om_send(p, VIRTIO_OM_T_SYSCALL_RET, VIRTIO_OM_F_REPLY, p->owed_seq, &kv, 1, NULL, 0, NULL);
}

static void om_deputy_syscall(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_syscall sc;
	struct virtio_om_syscall_ret r = {};
	struct virtio_om_deleg grant;
	struct virtio_om_names names, dropped;
	/* The struct, then what the flags say follows it, in the UAPI's order. */
	u8 head[sizeof(r) + sizeof(grant) + sizeof(names) + sizeof(dropped)];
	struct kvec kv = { head, sizeof(r) };
	struct om_push_batch *wb;
	unsigned long args[6];
	bool forwarded, behind, names_ok, names_dropped;
	struct file *file;
	long ret, nr;
	u32 flags = 0, sc_flags;
	int i, err;

	/* Failures of delegated files' pages found by home's worker: this call may say so. */
	om_behind_take_pending(p);
	om_kcom_msg_copy(msg, 0, &sc, sizeof(sc));
	nr = le32_to_cpu(sc.nr);
	sc_flags = le32_to_cpu(sc.flags);
	for (i = 0; i < 6; i++)
		args[i] = le64_to_cpu(sc.args[i]);
	/* Only a write, a pwrite64 or a lock's release goes behind (behind.c). */
	behind = sc_flags & VIRTIO_OM_SYSCALL_F_BEHIND;
	/* A call waited for is answered after the calls behind before it. */
	if (!behind)
		om_deputy_answer_owed(p);
	/* The pages written back: the last batch rides with the answer. */
	wb = kzalloc(sizeof(*wb), GFP_KERNEL);
	if ((sc_flags & ~VIRTIO_OM_SYSCALL_F_ALL) ||
	    (behind && !om_behind_call_ok(nr)) ||
	    om_deputy_call_parts(p, msg, sc_flags) ||
	    (behind && nr == __NR_fcntl && !om_behind_release_ok(args))) {
		ret = -EPROTO;
		goto answer;
	}
	/*
	 * Only what a process away forwards runs here: nothing else is asked,
	 * but the restart of a forwarded call, whose block lives here.
	 */
	switch (om_syscall_class(nr, args)) {
	case OM_SC_FORWARD:
	case OM_SC_TIMES:
	case OM_SC_BOTH:
		forwarded = true;
		break;
	default:
		forwarded = nr == __NR_restart_syscall;
		break;
	}
	if (!forwarded) {
		ret = -EPROTO;
	} else {
		atomic64_inc(&p->stats.syscalls);
		/* Its faults may read ahead (om_deputy_fault()): no page address. */
		p->fetch_next = 1;
		if (behind)
			atomic64_inc(&p->stats.written_behind);
		file = om_behind_file(nr, args);
		/* A name it makes that the node knows absent: dropped in the answer. */
		if (!behind)
			om_names_call_begin(p);
		if (!om_deputy_write_pushed(p, nr, args, &ret))
			ret = om_arch_syscall_run(current_pt_regs(), nr, args);
		names_dropped = !behind && om_names_call_end(p, &dropped);
		/*
		 * A call that takes a signal mask (ppoll, pselect6, epoll_pwait)
		 * set it here too; the process's own mask is its business
		 * (om_forward_call()): the deputy's goes back as it was.
		 */
		if (test_restore_sigmask()) {
			clear_restore_sigmask();
			set_current_blocked(&current->saved_sigmask);
		}
		/*
		 * A name that does not exist: the node may say so itself
		 * (names_home.c). Its path is read before the call's pages are
		 * dropped: a page fetched after would stay for the next call.
		 */
		names_ok = !behind && ret == -ENOENT && !om_names_grant(p, nr, args, ret, &names);
		err = om_deputy_flush(p, ret, wb);
		if (err && ret >= 0)
			ret = -EIO;
		ret = om_behind_ran(p, nr, args, file, behind, ret, &flags);
		/* A file only the process has open is served where it runs (deleg_home.c). */
		if (!behind && ret >= 0 && !(wb && wb->n) &&
		    !om_deleg_grant(p, nr, args, ret, &grant))
			flags |= VIRTIO_OM_SYSCALL_RET_F_DELEG;
		if (names_ok && ret == -ENOENT)
			flags |= VIRTIO_OM_SYSCALL_RET_F_NAMES;
		if (names_dropped)
			flags |= VIRTIO_OM_SYSCALL_RET_F_NAMES_DROP;
	}
answer:
	p->nr_fill = 0;
	om_deputy_drop_pushed(p);
	/* Signals the call raised reach the process before its result. */
	om_deputy_forward_signals(p);
	r.ret = cpu_to_le64(ret);
	if (wb && wb->n)
		flags |= VIRTIO_OM_SYSCALL_RET_F_PAGES;
	if (behind) {
		/* Gone as sent, and more of the process's messages wait: answered with them. */
		if ((flags & (VIRTIO_OM_SYSCALL_RET_F_BEHIND | VIRTIO_OM_SYSCALL_RET_F_PAGES)) ==
		    VIRTIO_OM_SYSCALL_RET_F_BEHIND && p->owed_calls + 1 < OM_BEHIND_OWED_MAX &&
		    om_proc_ready(p)) {
			p->owed_calls++;
			p->owed_seq = h->seq;
			p->owed_ret = ret;
			p->owed_flags = flags;
			kfree(wb);
			return;
		}
		/* This answer says the owed ones went as sent too. */
		r.calls = cpu_to_le32(p->owed_calls + 1);
		p->owed_calls = 0;
		atomic64_inc(&p->stats.behind_answers);
	}
	r.flags = cpu_to_le32(flags);
	memcpy(head, &r, sizeof(r));
	if (flags & VIRTIO_OM_SYSCALL_RET_F_DELEG) {
		memcpy(head + kv.iov_len, &grant, sizeof(grant));
		kv.iov_len += sizeof(grant);
	}
	if (flags & VIRTIO_OM_SYSCALL_RET_F_NAMES) {
		memcpy(head + kv.iov_len, &names, sizeof(names));
		kv.iov_len += sizeof(names);
	}
	if (flags & VIRTIO_OM_SYSCALL_RET_F_NAMES_DROP) {
		memcpy(head + kv.iov_len, &dropped, sizeof(dropped));
		kv.iov_len += sizeof(dropped);
	}
	if (wb) {
		om_send_batched(p, VIRTIO_OM_T_SYSCALL_RET, VIRTIO_OM_F_REPLY, h->seq, &kv, NULL,
				wb, NULL);
		kfree(wb);
	} else {
		om_send(p, VIRTIO_OM_T_SYSCALL_RET, VIRTIO_OM_F_REPLY, h->seq, &kv, 1, NULL, 0,
			NULL);
	}
}

/*
 * The process's mask changed away on a signal a signalfd here reads: hold
 * what it now blocks, send on what it no longer does, then answer, so
 * those arrive before its call returns.
 */
static void om_deputy_sigmask(struct om_proc *p, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_sigset s = {};
	struct kvec kv = { &s, sizeof(s) };

	om_kcom_msg_copy(msg, 0, &s, sizeof(s));
	siginitset(&p->away_blocked, le64_to_cpu(s.sigs));
	om_deputy_forward_signals(p);
	om_send(p, VIRTIO_OM_T_SIGMASK, VIRTIO_OM_F_REPLY, h->seq, &kv, 1, NULL, 0, NULL);
}

static void om_deputy_enter(struct om_proc *p, struct mm_struct *mm)
{
	struct sighand_struct *sh = current->sighand;
	sigset_t none;
	int i;

	mmput(om_mm_swap(mm));
	spin_lock_irq(&sh->siglock);
	for (i = 1; i <= _NSIG; i++) {
		struct sigaction *sa = &sh->action[i - 1].sa;

		if (i == SIGKILL || i == SIGSTOP)
			continue;
		/* An ignored SIGCHLD keeps reaping children here, where they are. */
		if (i == SIGCHLD && (sa->sa_handler == SIG_IGN || (sa->sa_flags & SA_NOCLDWAIT)))
			continue;
		sa->sa_handler = OM_DEPUTY_HANDLER;
		sa->sa_flags = 0;
		sigemptyset(&sa->sa_mask);
	}
	spin_unlock_irq(&sh->siglock);
	/* The process's mask as it left: what a signalfd at home may hold. */
	p->away_blocked = current->blocked;
	sigemptyset(&p->watched);
	sigemptyset(&none);
	set_current_blocked(&none);
	om_proc_rekey(p, OM_DEPUTY);
}

/* Away for less than this many times the way out, it stays home after a call. */
#define OM_BACK_MIN_STAYS	10

/*
 * The process came home for a call that runs only here: it goes back to
 * @from once the call ran (om_back_after_call(), from its next system
 * call: the one it came for, run again), unless it had run there for less
 * than OM_BACK_MIN_STAYS times what its way out took: moves would cost
 * more than they gain (a shell forking in a loop), so it stays home.
 * Counted for debug.
 */
static void om_home_for_call(struct om_proc *p, u32 from)
{
	u64 away = ktime_get_ns() - p->left_ns;

	/* The call it is in, which it runs again here. */
	p->last_home_call = (long)le64_to_cpu(p->arrival->regs.orig_ax);
	atomic64_inc(&p->stats.home_calls);
	atomic64_inc(&om_node_stats.home_calls);
	if (away < OM_BACK_MIN_STAYS * p->last_total_ns) {
		atomic64_inc(&p->stats.home_calls_kept);
		pr_debug("omvm: pid %d stays home after a call: %llu ms away, its way out took %llu ms\n",
			 p->home_pid, away / NSEC_PER_MSEC, p->last_total_ns / NSEC_PER_MSEC);
		return;
	}
	p->back_node = from;
	set_task_syscall_work(current, OM);
}

/**
 * om_deputy_tend() - what the deputy does before it takes a message
 * @p: the deputy's half
 *
 * Task work queued meanwhile (a move asked again as it left, a file's last
 * close) keeps signal_pending() true, and a wait from ever sleeping: it
 * runs here, as the return to user mode would run it. Signals sent to the
 * process at home go on to it.
 */
void om_deputy_tend(struct om_proc *p)
{
	if (test_thread_flag(TIF_NOTIFY_SIGNAL))
		clear_notify_signal();
	if (task_work_pending(current))
		task_work_run();
	om_deputy_forward_signals(p);
}

/**
 * om_deputy_serve() - serve one message of the process's calls
 * @p: the deputy's half
 * @msg: a message from the process's node
 *
 * Also a live homecoming's receiver's, between the rounds (receive.c).
 *
 * Return: true if @msg was one (served and freed), false if not (kept).
 */
bool om_deputy_serve(struct om_proc *p, struct om_kcom_msg *msg)
{
	u16 type = om_kcom_msg_hdr(msg)->type;

	/* A FORK_CANCEL comes next after its FORK, or not at all. */
	if (type != VIRTIO_OM_T_FORK_CANCEL)
		om_deputy_fork_settled(p);
	/* Anything but a call (or its pages) comes after the calls behind are answered. */
	if (type != VIRTIO_OM_T_SYSCALL && type != VIRTIO_OM_T_MEM_PUSH)
		om_deputy_answer_owed(p);
	switch (type) {
	case VIRTIO_OM_T_SYSCALL:
		om_deputy_syscall(p, msg);
		break;
	case VIRTIO_OM_T_MEM_PUSH:
		om_deputy_push(p, msg, 0, false);
		break;
	case VIRTIO_OM_T_STOPPED:
		om_deputy_stopped(p, msg);
		break;
	case VIRTIO_OM_T_SIGMASK:
		om_deputy_sigmask(p, msg);
		break;
	case VIRTIO_OM_T_FORK:
		om_deputy_fork(p, msg);
		break;
	case VIRTIO_OM_T_FORK_CANCEL:
		om_deputy_fork_cancel(p, msg);
		break;
	case VIRTIO_OM_T_RFILE_OPEN:
		om_rfile_home_serve_open(p, msg);
		break;
	case VIRTIO_OM_T_RFILE_CLOSE:
		om_rfile_home_close(p, msg);
		break;
	default:
		return false;
	}
	om_kcom_msg_free(msg);
	return true;
}

static bool om_deputy_woken(struct om_proc *p)
{
	return om_proc_ready(p) || signal_pending(current) || om_hop_lost_pending(p);
}

/**
 * om_deputy_run() - be the deputy until the process comes home
 * @p: the half at home, whose process was just sent to p->peer_node
 *
 * Does not return if the process ends away (the deputy exits with its
 * status) or its node goes down (the deputy dies of SIGKILL).
 *
 * Return: where the process should go next (0: stay home).
 */
u32 om_deputy_run(struct om_proc *p)
{
	struct mm_struct *mm = om_deputy_mm(p);
	struct om_kcom_msg *msg;
	u32 next;

	if (!mm) {
		/* The process runs away already but cannot be served: end it. */
		om_send_kill(p, VIRTIO_OM_KILL_DEPUTY_EXITED);
		p->silent = true;
		do_group_exit(SIGKILL);
	}
	om_deputy_enter(p, mm);
	atomic_set(&p->conts, 0);
	spin_lock(&p->lock);
	p->serving = true;
	spin_unlock(&p->lock);
	for (;;) {
		const struct om_kcom_hdr *h;

		om_deputy_tend(p);
		if (fatal_signal_pending(current))
			do_group_exit(SIGKILL);
		om_hop_settle(p);
		if (p->gone) {
			p->silent = true;
			do_group_exit(SIGKILL);
		}
		msg = om_proc_try_next(p);
		if (!msg) {
			om_deputy_answer_owed(p);
			wait_event_interruptible(p->wait, om_deputy_woken(p));
			/* A wait cut short never slept: let others run. */
			cond_resched();
			continue;
		}
		/* From a node the process may not stay on yet (hop.c). */
		if (om_hop_hold(p, msg))
			continue;
		h = om_kcom_msg_hdr(msg);
		/*
		 * Queued before its node stopped being the process's (a move
		 * taken back, its copy ended): not the process's to run.
		 */
		if (h->src_node != p->peer_node && h->src_node != p->prev_peer &&
		    h->type != VIRTIO_OM_T_HANDOVER) {
			atomic64_inc(&p->stats.stale_dropped);
			om_reply_error(h, -ESRCH);
			om_kcom_msg_free(msg);
			continue;
		}
		if (om_deputy_serve(p, msg))
			continue;
		switch (h->type) {
		case VIRTIO_OM_T_HANDOVER:
			om_deputy_handover(p, msg);
			break;
		case VIRTIO_OM_T_EXIT: {
			struct virtio_om_exit e = {};

			om_kcom_msg_copy(msg, 0, &e, sizeof(e));
			om_kcom_msg_free(msg);
			/* Its time away is its own: the parent's wait4() sees it. */
			om_carry_charge(p, le64_to_cpu(e.utime_ns), le64_to_cpu(e.stime_ns));
			p->silent = true;
			do_group_exit(le32_to_cpu(e.code) & 0xffff);
		}
		case VIRTIO_OM_T_MIG_BEGIN: {
			u32 from = p->peer_node;
			int err = om_receive_process(p, msg);

			if (!err) {
				/* Home again: the process runs here on our return. */
				om_rfile_home_close_all(p);
				om_proc_rekey(p, OM_HOME);
				p->peer_node = 0;
				/* Failures of writes behind: its fsync or close here says so. */
				om_behind_take_pending(p);
				if (!list_empty(&p->behind_errs))
					set_task_syscall_work(current, OM);
				if (le32_to_cpu(p->arrival->flags) & VIRTIO_OM_MIG_F_CALL)
					om_home_for_call(p, from);
				om_finish_arrival(p);
				spin_lock(&p->lock);
				next = p->then_node;
				p->then_node = 0;
				spin_unlock(&p->lock);
				return next;
			}
			/* It stays away (the message is freed): why, for om-migrate. */
			p->last_error = err;
			continue;
		}
		default:
			om_reply_error(h, -EBUSY);
			break;
		}
		om_kcom_msg_free(msg);
	}
}
