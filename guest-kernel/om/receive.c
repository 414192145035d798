// SPDX-License-Identifier: GPL-2.0-only
/*
 * Taking a process in: the task that will run it (a new task on the
 * destination, or the deputy when the process comes home) reads the steps
 * from its inbox and rebuilds the process in itself. At COMMIT everything
 * that can fail is done (memory, registers, credentials prepared, time
 * namespace made), and undone if the move ends there; after GO only what
 * cannot fail is left, and then RUNNING tells the sender it may let go.
 */
#include <linux/binfmts.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/personality.h>
#include <linux/ptrace.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/uaccess.h>

#include "om.h"

struct om_receiver {
	struct om_proc *p;
	struct virtio_om_mig_begin *b;
	void *xstate;
	size_t xsize;
	u64 pages;
	u32 vmas;
	int err;
	bool committed;
	struct cred *cred;	/* prepared at COMMIT, committed at GO */
	struct pt_regs regs;	/* the receiver's own, until GO */
	kernel_siginfo_t *sigs;
	unsigned int nr_sigs;
	/*
	 * A live move: the rounds' mappings, mapped as they came; then, after
	 * the final MIG_BEGIN, the final ones, mapped once all came (those
	 * the rounds built and that did not change are kept with their pages).
	 */
	bool live;
	bool final;
	struct virtio_om_mig_vma *pre;
	u32 nr_pre;
	struct virtio_om_mig_vma *fin;
	bool fin_mapped;
	/*
	 * Coming home live: the deputy's stand-in address space, from which
	 * it serves the process's calls between the rounds (current->mm is
	 * the one being built), and the homecoming's figures for debug.
	 */
	struct mm_struct *standin;
	u64 round_pages;
	u64 calls;
	u64 final_at;		/* ktime_get_ns() when the (final) MIG_BEGIN came */
};

/**
 * om_begin_valid() - whether a MIG_BEGIN payload can be taken in here
 * @b: the payload's fixed part
 * @len: the payload's length
 * @xstate_size: this node's xstate size
 *
 * Context: any.
 * Return: true when its architecture, sizes and limits fit this node.
 */
bool om_begin_valid(const struct virtio_om_mig_begin *b, size_t len, size_t xstate_size)
{
	u32 xs = le32_to_cpu(b->xstate_size);
	unsigned int i;

	if (len < sizeof(*b) || le32_to_cpu(b->arch) != om_arch_id())
		return false;
	if (!xstate_size || xs != xstate_size || len != sizeof(*b) + xs)
		return false;
	if (le32_to_cpu(b->flags) & ~VIRTIO_OM_MIG_F_ALL)
		return false;
	if (le32_to_cpu(b->ngroups) > VIRTIO_OM_MIG_GROUPS || le32_to_cpu(b->nice) > 39)
		return false;
	if (!memchr(b->comm, '\0', sizeof(b->comm)))
		return false;
	if (le32_to_cpu(b->dumpable) > SUID_DUMP_ROOT ||
	    le32_to_cpu(b->coredump_filter) >> MMF_DUMP_FILTER_BITS)
		return false;
	/* NO_INHERIT only with MDWE, as prctl() has it. */
	if (le32_to_cpu(b->mm_flags) & ~VIRTIO_OM_MIG_MM_ALL ||
	    (le32_to_cpu(b->mm_flags) & VIRTIO_OM_MIG_MM_MDWE_NO_INHERIT &&
	     !(le32_to_cpu(b->mm_flags) & VIRTIO_OM_MIG_MM_MDWE)))
		return false;
	for (i = 0; i < sizeof(b->reserved2); i++)
		if (b->reserved2[i])
			return false;
	return om_carry_valid(b);
}

static int om_ack(struct om_receiver *r, const struct om_kcom_hdr *req)
{
	struct virtio_om_mig_ack ack = {
		.error = cpu_to_le32(-r->err),
		.pages = cpu_to_le64(r->pages),
	};
	struct kvec kv = { &ack, sizeof(ack) };

	return om_send(r->p, VIRTIO_OM_T_MIG_ACK, VIRTIO_OM_F_REPLY, req->seq, &kv, 1,
		       NULL, 0, NULL);
}

/*
 * A private mapping of a file of home, from home: this node's file of that
 * version, its pages read from home as they fault.
 */
static int om_map_file(struct om_receiver *r, const struct virtio_om_mig_vma *v)
{
	unsigned long start = le64_to_cpu(v->start), end = le64_to_cpu(v->end);
	u64 pgoff = le64_to_cpu(v->pgoff);
	unsigned long got;
	struct file *f;

	/* Only home serves its files: a node away sends such memory as its own. */
	if (r->p->peer_node != r->p->home_node || !v->served ||
	    le32_to_cpu(v->flags) & ~VIRTIO_OM_VMA_F_FILE ||
	    pgoff > (MAX_LFS_FILESIZE >> PAGE_SHIFT) - ((end - start) >> PAGE_SHIFT)) {
		if (v->served)
			om_rfile_forget(r->p->home_node, le32_to_cpu(v->served));
		return -EPROTO;
	}
	f = om_rfile_mapping(r->p, v);
	if (IS_ERR(f))
		return PTR_ERR(f);
	got = vm_mmap(f, start, end - start, le32_to_cpu(v->prot),
		      MAP_PRIVATE | MAP_FIXED_NOREPLACE, pgoff << PAGE_SHIFT);
	fput(f);
	if (IS_ERR_VALUE(got))
		return (int)got;
	return got == start ? 0 : -EADDRINUSE;
}

static int om_map_one(struct om_receiver *r, const struct virtio_om_mig_vma *v)
{
	unsigned long start = le64_to_cpu(v->start), end = le64_to_cpu(v->end);
	u32 prot = le32_to_cpu(v->prot), flags = le32_to_cpu(v->flags);
	unsigned long mflags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	unsigned long got;

	if (start >= end || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(end) || end > TASK_SIZE ||
	    prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC) || flags & ~VIRTIO_OM_VMA_F_ALL) {
		if (v->served)
			om_rfile_forget(r->p->home_node, le32_to_cpu(v->served));
		return -EINVAL;
	}
	if (flags & VIRTIO_OM_VMA_F_FILE)
		return om_map_file(r, v);
	if (flags & VIRTIO_OM_VMA_F_VDSO) {
		int err = om_arch_map_vdso(start);

		if (err)
			return err;
		return (unsigned long)current->mm->context.vdso == start ? 0 : -EADDRINUSE;
	}
	if (flags & VIRTIO_OM_VMA_F_GROWSDOWN)
		mflags |= MAP_GROWSDOWN;
	/* Its own again, as it was: no other process maps it (om_stay_reasons()). */
	if (flags & VIRTIO_OM_VMA_F_SHARED)
		mflags = (mflags & ~MAP_PRIVATE) | MAP_SHARED;
	got = vm_mmap(NULL, start, end - start, prot, mflags, 0);
	if (IS_ERR_VALUE(got))
		return (int)got;
	return got == start ? 0 : -EADDRINUSE;
}

/*
 * Home's ids for the file mappings of a MIG_VMAS not taken (from entry
 * @from on): home keeps serving what it told us of until we forget it.
 */
static void om_forget_vmas(struct om_receiver *r, struct om_kcom_msg *msg, u32 from)
{
	const size_t at = sizeof(struct virtio_om_mig_vmas);
	struct virtio_om_mig_vma v;
	u32 i, n;

	if (r->p->peer_node != r->p->home_node || om_kcom_msg_hdr(msg)->len < at)
		return;
	n = (om_kcom_msg_hdr(msg)->len - at) / sizeof(v);
	for (i = from; i < n; i++) {
		om_kcom_msg_copy(msg, at + i * sizeof(v), &v, sizeof(v));
		if ((le32_to_cpu(v.flags) & VIRTIO_OM_VMA_F_FILE) && v.served)
			om_rfile_forget(r->p->home_node, le32_to_cpu(v.served));
	}
}

/* Home's id for a file mapping never mapped here: home may stop serving it. */
static void om_forget_vma(struct om_receiver *r, const struct virtio_om_mig_vma *v)
{
	if (r->p->peer_node == r->p->home_node && (le32_to_cpu(v->flags) & VIRTIO_OM_VMA_F_FILE) &&
	    v->served)
		om_rfile_forget(r->p->home_node, le32_to_cpu(v->served));
}

/*
 * A live move's final mappings, all come: the rounds' mappings that are
 * not among them go, and those not kept from the rounds are mapped anew
 * (the sender decides alike: om_vma_kept()).
 */
static int om_map_final(struct om_receiver *r)
{
	u32 n = r->vmas, i, j;
	int err;

	r->fin_mapped = true;
	for (i = 0; i < r->nr_pre; i++) {
		const struct virtio_om_mig_vma *v = &r->pre[i];
		u64 start = le64_to_cpu(v->start);

		if (!om_vma_find(r->fin, n, v))
			vm_munmap(start, le64_to_cpu(v->end) - start);
	}
	for (i = 0; i < n; i++) {
		const struct virtio_om_mig_vma *v = &r->fin[i];

		if (om_vma_find(r->pre, r->nr_pre, v))
			continue;
		vm_munmap(le64_to_cpu(v->start), le64_to_cpu(v->end) - le64_to_cpu(v->start));
		/* Takes (or forgets) home's id for a file mapping, whatever it returns. */
		err = om_map_one(r, v);
		if (err) {
			for (j = i + 1; j < n; j++)
				om_forget_vma(r, &r->fin[j]);
			return err;
		}
	}
	return 0;
}

/* A live move's lists are searched: each must be in order, without overlaps. */
static bool om_vma_follows(const struct virtio_om_mig_vma *list, u32 n,
			   const struct virtio_om_mig_vma *v)
{
	return !n || le64_to_cpu(v->start) >= le64_to_cpu(list[n - 1].end);
}

static int om_take_vmas(struct om_receiver *r, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_mig_vmas hdr;
	struct virtio_om_mig_vma v;
	u32 n, i;
	int err;

	if (om_kcom_msg_copy(msg, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return -EPROTO;
	n = le32_to_cpu(hdr.count);
	if (h->len != sizeof(hdr) + (u64)n * sizeof(v) || r->vmas + n > le32_to_cpu(r->b->vmas)) {
		om_forget_vmas(r, msg, 0);
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		om_kcom_msg_copy(msg, sizeof(hdr) + i * sizeof(v), &v, sizeof(v));
		if (r->final) {
			/* Mapped once all came (om_map_final()). */
			if (!om_vma_follows(r->fin, r->vmas, &v)) {
				om_forget_vmas(r, msg, i);
				return -EPROTO;
			}
			r->fin[r->vmas++] = v;
			continue;
		}
		if (r->live && !om_vma_follows(r->pre, r->nr_pre, &v)) {
			om_forget_vmas(r, msg, i);
			return -EPROTO;
		}
		/* Takes (or forgets) home's id for a file mapping, whatever it returns. */
		err = om_map_one(r, &v);
		if (err) {
			om_forget_vmas(r, msg, i + 1);
			return err;
		}
		if (r->live)
			r->pre[r->nr_pre++] = v;
		r->vmas++;
	}
	if (r->final && r->vmas == le32_to_cpu(r->b->vmas))
		return om_map_final(r);
	return 0;
}

/*
 * A live move's final MIG_BEGIN: the process as it was frozen. It
 * replaces the first one whole; its mappings come next.
 */
static int om_take_final(struct om_receiver *r, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	const u32 want = VIRTIO_OM_MIG_F_LIVE | VIRTIO_OM_MIG_F_FINAL;
	struct virtio_om_mig_begin *b;
	u32 vmas;

	if (!r->live || r->final || h->len != sizeof(*b) + r->xsize)
		return -EPROTO;
	b = kmalloc(h->len, GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	if (om_kcom_msg_copy(msg, 0, b, h->len) != h->len || !om_begin_valid(b, h->len, r->xsize) ||
	    (le32_to_cpu(b->flags) & want) != want ||
	    (b->flags ^ r->b->flags) & cpu_to_le32(VIRTIO_OM_MIG_F_HOME)) {
		kfree(b);
		return -EPROTO;
	}
	vmas = le32_to_cpu(b->vmas);
	r->fin = kvcalloc(max(vmas, 1u), sizeof(*r->fin), GFP_KERNEL);
	if (!r->fin) {
		kfree(b);
		return -ENOMEM;
	}
	memcpy(r->b, b, h->len);
	kfree(b);
	r->final = true;
	r->final_at = ktime_get_ns();
	r->round_pages = r->pages;
	r->vmas = 0;
	om_carry_arrived(r->p, r->b);
	return 0;
}

/*
 * Write one page of the arriving process from @msg at @at (a page of
 * zeroes if @msg is NULL), read-only mappings included, straight from the
 * message's buffers: no bounce copy between.
 */
static int om_put_page(unsigned long addr, const struct om_kcom_msg *msg, size_t at)
{
	struct bio_vec bv;
	struct iov_iter it;
	struct page *page;
	int got, err = 0;

	iov_iter_ubuf(&it, ITER_DEST, (void __user *)addr, PAGE_SIZE);
	if (msg ? om_kcom_msg_copy_iter(msg, at, PAGE_SIZE, &it) == PAGE_SIZE :
		  !clear_user((void __user *)addr, PAGE_SIZE))
		return 0;
	/* Not writable by the process: write it as ptrace would. */
	mmap_read_lock(current->mm);
	got = get_user_pages(addr, 1, FOLL_WRITE | FOLL_FORCE, &page);
	mmap_read_unlock(current->mm);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	if (msg) {
		bvec_set_page(&bv, page, PAGE_SIZE, 0);
		iov_iter_bvec(&it, ITER_DEST, &bv, 1, PAGE_SIZE);
		if (om_kcom_msg_copy_iter(msg, at, PAGE_SIZE, &it) != PAGE_SIZE)
			err = -EPROTO;
	} else {
		clear_highpage(page);
	}
	set_page_dirty_lock(page);
	put_page(page);
	return err;
}

static int om_take_pages(struct om_receiver *r, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct virtio_om_mig_pages hdr;
	size_t data;
	bool zero;
	u32 n, i;
	int err;

	if (om_kcom_msg_copy(msg, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return -EPROTO;
	n = le32_to_cpu(hdr.count);
	data = sizeof(hdr) + (size_t)n * sizeof(__le64);
	zero = le32_to_cpu(hdr.flags) == VIRTIO_OM_PAGES_F_ZERO;
	/* Pages said to read zero: only a live move holds pages before its last round. */
	if (zero ? !r->live || h->len != data :
		   hdr.flags || h->len != data + (u64)n * VIRTIO_OM_PAGE_SIZE)
		return -EPROTO;
	if (!n)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		__le64 a;
		unsigned long addr;

		om_kcom_msg_copy(msg, sizeof(hdr) + i * sizeof(a), &a, sizeof(a));
		addr = le64_to_cpu(a);
		if (!PAGE_ALIGNED(addr) || addr >= TASK_SIZE)
			return -EPROTO;
		err = om_put_page(addr, zero ? NULL : msg, data + (size_t)i * PAGE_SIZE);
		if (err)
			return err;
		r->pages++;
	}
	return 0;
}

static void om_take_signal(struct om_receiver *r, struct om_kcom_msg *msg)
{
	struct virtio_om_signal s;
	int sig;

	if (om_kcom_msg_copy(msg, 0, &s, sizeof(s)) != sizeof(s) ||
	    r->nr_sigs == OM_MAX_TRAVEL_SIGNALS)
		return;
	sig = le32_to_cpu(s.signo);
	if (!valid_signal(sig) || !sig)
		return;
	memcpy(&r->sigs[r->nr_sigs], s.info, sizeof(r->sigs[0]));
	r->sigs[r->nr_sigs++].si_signo = sig;
	if (sig_kernel_stop(sig) && sig != SIGSTOP)
		r->p->home_orphaned = le32_to_cpu(s.flags) & VIRTIO_OM_SIGNAL_F_ORPHANED;
}

static int om_check_mark(struct om_receiver *r, struct om_kcom_msg *msg)
{
	struct virtio_om_mig_mark m;

	if (om_kcom_msg_copy(msg, 0, &m, sizeof(m)) != sizeof(m))
		return -EPROTO;
	if (le64_to_cpu(m.pages) != r->pages || le32_to_cpu(m.vmas) != r->vmas)
		return -EPROTO;
	return 0;
}

/*
 * What prctl() set of the process's address space, exactly as the sender
 * said: a new mm takes these from the receiver's own (mm_init()), which
 * must not decide; set none while its mappings are made, then the sender's.
 */
static void om_set_mm_flags(struct mm_struct *mm, u32 flags)
{
	assign_bit(MMF_DISABLE_THP, &mm->flags, flags & VIRTIO_OM_MIG_MM_NO_THP);
	assign_bit(MMF_HAS_MDWE, &mm->flags, flags & VIRTIO_OM_MIG_MM_MDWE);
	assign_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags, flags & VIRTIO_OM_MIG_MM_MDWE_NO_INHERIT);
}

static void om_set_mm_layout(const struct virtio_om_mig_begin *b)
{
	struct mm_struct *mm = current->mm;
	int i;

	mmap_write_lock(mm);
	mm->start_code = le64_to_cpu(b->start_code);
	mm->end_code = le64_to_cpu(b->end_code);
	mm->start_data = le64_to_cpu(b->start_data);
	mm->end_data = le64_to_cpu(b->end_data);
	mm->start_brk = le64_to_cpu(b->start_brk);
	mm->brk = le64_to_cpu(b->brk);
	mm->start_stack = le64_to_cpu(b->start_stack);
	mm->arg_start = le64_to_cpu(b->arg_start);
	mm->arg_end = le64_to_cpu(b->arg_end);
	mm->env_start = le64_to_cpu(b->env_start);
	mm->env_end = le64_to_cpu(b->env_end);
	mm->mmap_base = le64_to_cpu(b->mmap_base);
	for (i = 0; i < ARRAY_SIZE(mm->saved_auxv); i++)
		mm->saved_auxv[i] = le64_to_cpu(b->auxv[i]);
	/* Ends with AT_NULL, whatever the sender wrote (auxv_read() relies on it). */
	mm->saved_auxv[ARRAY_SIZE(mm->saved_auxv) - 2] = 0;
	mmap_write_unlock(mm);
	set_dumpable(mm, le32_to_cpu(b->dumpable));
	if (le32_to_cpu(b->flags) & VIRTIO_OM_MIG_F_ELF)
		set_binfmt(om_elf_format());
	set_mask_bits(&mm->flags, MMF_DUMP_FILTER_MASK,
		      (unsigned long)le32_to_cpu(b->coredump_filter) << MMF_DUMP_FILTER_SHIFT);
	om_set_mm_flags(mm, le32_to_cpu(b->mm_flags));
}

/* The process's credentials, for commit_creds() once it may run here. */
static struct cred *om_prepare_creds(const struct virtio_om_mig_begin *b)
{
	struct user_namespace *ns = &init_user_ns;
	struct group_info *gi;
	struct cred *c;
	u32 i, n = le32_to_cpu(b->ngroups);

	c = prepare_creds();
	if (!c)
		return NULL;
	c->uid = make_kuid(ns, le32_to_cpu(b->uid));
	c->euid = make_kuid(ns, le32_to_cpu(b->euid));
	c->suid = make_kuid(ns, le32_to_cpu(b->suid));
	c->fsuid = make_kuid(ns, le32_to_cpu(b->fsuid));
	c->gid = make_kgid(ns, le32_to_cpu(b->gid));
	c->egid = make_kgid(ns, le32_to_cpu(b->egid));
	c->sgid = make_kgid(ns, le32_to_cpu(b->sgid));
	c->fsgid = make_kgid(ns, le32_to_cpu(b->fsgid));
	c->securebits = le32_to_cpu(b->securebits);
	c->cap_inheritable.val = le64_to_cpu(b->cap_inheritable) & CAP_VALID_MASK;
	c->cap_permitted.val = le64_to_cpu(b->cap_permitted) & CAP_VALID_MASK;
	c->cap_effective.val = le64_to_cpu(b->cap_effective) & CAP_VALID_MASK;
	c->cap_bset.val = le64_to_cpu(b->cap_bset) & CAP_VALID_MASK;
	c->cap_ambient.val = le64_to_cpu(b->cap_ambient) & CAP_VALID_MASK;
	gi = groups_alloc(n);
	if (!gi) {
		abort_creds(c);
		return NULL;
	}
	for (i = 0; i < n; i++)
		gi->gid[i] = make_kgid(ns, le32_to_cpu(b->groups[i]));
	groups_sort(gi);
	set_groups(c, gi);
	put_group_info(gi);
	return c;
}

static void om_apply_signals(const struct virtio_om_mig_begin *b)
{
	struct sighand_struct *sh = current->sighand;
	const u64 never = sigmask(SIGKILL) | sigmask(SIGSTOP);
	int i;

	spin_lock_irq(&sh->siglock);
	for (i = 0; i < _NSIG; i++) {
		struct sigaction *sa = &sh->action[i].sa;

		sa->sa_handler = (__sighandler_t)(unsigned long)le64_to_cpu(b->action[i].handler);
		sa->sa_flags = le64_to_cpu(b->action[i].flags);
		sa->sa_restorer = (__sigrestore_t)(unsigned long)le64_to_cpu(b->action[i].restorer);
		sa->sa_mask.sig[0] = le64_to_cpu(b->action[i].mask) & ~never;
		if (i + 1 == SIGKILL || i + 1 == SIGSTOP)
			sa->sa_handler = SIG_DFL;
	}
	spin_unlock_irq(&sh->siglock);
	current->sas_ss_sp = le64_to_cpu(b->sas_ss_sp);
	current->sas_ss_size = le64_to_cpu(b->sas_ss_size);
	current->sas_ss_flags = le32_to_cpu(b->sas_ss_flags);
}

/*
 * At COMMIT: all that can fail, while the sender still holds the process.
 * The receiving task's registers are the process's from here; a move that
 * ends before GO gives them back (om_unprepare()).
 */
static int om_prepare(struct om_receiver *r)
{
	const struct virtio_om_mig_begin *b = r->b;
	int err;

	if (om_fault(OM_FAULT_COMMIT))
		return -ENOMEM;
	err = om_carry_prepare(r->p, le32_to_cpu(b->flags) & VIRTIO_OM_MIG_F_HOME);
	if (err)
		return err;
	r->cred = om_prepare_creds(b);
	if (!r->cred)
		return -ENOMEM;
	r->regs = *current_pt_regs();
	err = om_arch_restore(b, r->xstate, r->xsize);
	if (err) {
		*current_pt_regs() = r->regs;
		return err;
	}
	om_set_mm_layout(b);
	r->committed = true;
	return 0;
}

static void om_unprepare(struct om_receiver *r)
{
	if (r->cred)
		abort_creds(r->cred);
	r->cred = NULL;
	if (r->committed)
		*current_pt_regs() = r->regs;
	om_carry_cancel(r->p);
}

/*
 * At GO: the rest, which cannot fail (the blocked mask and the pending
 * signals come later: om_finish_arrival()).
 */
static void om_install(struct om_receiver *r)
{
	const struct virtio_om_mig_begin *b = r->b;
	struct task_struct *t = current;
	char comm[TASK_COMM_LEN];
	int i;

	/* A deputy runs the process from here: its node going down no longer ends it. */
	spin_lock(&r->p->lock);
	r->p->serving = false;
	spin_unlock(&r->p->lock);
	task_lock(t->group_leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		u64 cur = le64_to_cpu(b->rlim[i].cur), max = le64_to_cpu(b->rlim[i].max);

		t->signal->rlim[i].rlim_max = max;
		t->signal->rlim[i].rlim_cur = min(cur, max);
	}
	task_unlock(t->group_leader);
	/* Before the credentials: a time namespace needs the receiver's. */
	om_carry_apply(r->p, b, le32_to_cpu(b->flags) & VIRTIO_OM_MIG_F_HOME);
	commit_creds(r->cred);
	r->cred = NULL;
	om_apply_signals(b);
	memcpy(comm, b->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';
	set_task_comm(t, comm);
	t->personality = le32_to_cpu(b->personality);
	set_user_nice(t, (int)le32_to_cpu(b->nice) - 20);
	t->clear_child_tid = (int __user *)(unsigned long)le64_to_cpu(b->clear_child_tid);
#ifdef CONFIG_FUTEX
	t->robust_list = (struct robust_list_head __user *)
			 (unsigned long)le64_to_cpu(b->robust_list);
#endif
}

/* GO's answer: the process runs here, the sender may let its copy go. */
static int om_running(struct om_receiver *r, const struct om_kcom_hdr *go, int err)
{
	struct virtio_om_mig_go running = { .error = cpu_to_le32(-err) };
	struct kvec kv = { &running, sizeof(running) };

	if (!err && om_fault(OM_FAULT_RUNNING_LOST))
		return 0;
	return om_send(r->p, VIRTIO_OM_T_MIG_RUNNING, VIRTIO_OM_F_REPLY, go->seq, &kv, 1,
		       NULL, 0, NULL);
}

/**
 * om_finish_arrival() - the last of an arrival, on the way to user mode
 * @p: the half that took the process in
 *
 * Sets the blocked mask and queues the signals that were pending when the
 * process left: only now, so that no signal frame is built before the
 * registers are final.
 */
void om_finish_arrival(struct om_proc *p)
{
	sigset_t blocked;
	unsigned int i;

	if (!p->arrival)
		return;
	siginitset(&blocked, le64_to_cpu(p->arrival->blocked) &
			     ~(sigmask(SIGKILL) | sigmask(SIGSTOP)));
	set_current_blocked(&blocked);
	/* As its deputy took it when it left (om_tell_mask()). */
	p->told_blocked = blocked;
	for (i = 0; i < p->nr_arrival_signals; i++)
		send_sig_info(p->arrival_signals[i].si_signo, &p->arrival_signals[i], current);
	om_carry_finish(p->arrival);
	WRITE_ONCE(p->locked, le32_to_cpu(p->arrival->flags) & VIRTIO_OM_MIG_F_LOCKED);
	p->arrived_ns = ktime_get_ns();
	kfree(p->arrival_signals);
	p->arrival_signals = NULL;
	p->nr_arrival_signals = 0;
	kfree(p->arrival);
	p->arrival = NULL;
}

/* Why the sender gave up, as it says (-ECANCELED if it does not). */
static int om_abort_reason(struct om_kcom_msg *msg)
{
	struct virtio_om_mig_go a;

	if (om_kcom_msg_copy(msg, 0, &a, sizeof(a)) != sizeof(a))
		return -ECANCELED;
	return om_wire_errno(a.error) ?: -ECANCELED;
}

/*
 * A message of the process's own while it comes home live: it runs on at
 * its node meanwhile, and its calls are served as the deputy serves them,
 * from the stand-in address space; then the rounds' goes back in. What
 * the deputy's loop must see (an EXIT, a HANDOVER: the move is over at
 * the process's node) ends the homecoming and goes back to the loop.
 *
 * Return: 0, or -ECANCELED (@msg given back to the inbox).
 */
static int om_receive_serve(struct om_receiver *r, struct om_kcom_msg *msg)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(msg);
	struct om_proc *p = r->p;
	struct mm_struct *mm;
	bool served;

	/* As the deputy's loop drops them (a copy no longer the process's). */
	if (h->src_node != p->peer_node) {
		atomic64_inc(&p->stats.stale_dropped);
		om_reply_error(h, -ESRCH);
		om_kcom_msg_free(msg);
		return 0;
	}
	mm = om_mm_swap(r->standin);
	om_deputy_tend(p);
	served = om_deputy_serve(p, msg);
	/* Nothing of the rounds' waits on an answer owed to calls behind. */
	om_deputy_answer_owed(p);
	r->standin = om_mm_swap(mm);
	if (!served) {
		pr_info("omvm: pid %d: homecoming ended by a message of type %#x\n", p->home_pid,
			h->type);
		om_proc_putback(p, msg);
		return -ECANCELED;
	}
	r->calls++;
	return 0;
}

/*
 * The next message of a move. Coming home live, until the process is
 * frozen, a signal sent to it here wakes the wait and goes on to it.
 * Return: a message; NULL with 0 to ask again, or with -errno.
 */
static struct om_kcom_msg *om_receive_next(struct om_receiver *r, int *err)
{
	struct om_proc *p = r->p;
	long left = OM_STEP_TIMEOUT;

	/* Killed: not one more message, however many the sender queued. */
	if (fatal_signal_pending(current)) {
		*err = -EINTR;
		return NULL;
	}
	if (r->standin && !r->final) {
		/* Task work waits for a served call (om_deputy_tend(), the stand-in in). */
		if (test_thread_flag(TIF_NOTIFY_SIGNAL))
			clear_notify_signal();
		om_deputy_forward_signals(p);
		left = wait_event_interruptible_timeout(p->wait, om_proc_ready(p), OM_STEP_TIMEOUT);
		if (fatal_signal_pending(current)) {
			*err = -EINTR;
			return NULL;
		}
		if (left < 0) {
			/* Sent on next time round. */
			cond_resched();
			*err = 0;
			return NULL;
		}
		/* Ready, ended or timed out: said by the wait below at once. */
		left = max(left, 1L);
	}
	return om_proc_next(p, left, err);
}

/* A homecoming's figures, for debug at home (the sender's half ends). */
static void om_home_figures(const struct om_receiver *r)
{
	struct om_proc *p = r->p;
	u64 now = ktime_get_ns();

	p->last_home_rounds = r->final ? le32_to_cpu(r->b->live_rounds) : 0;
	p->last_home_round_pages = r->round_pages;
	p->last_home_pages = r->pages;
	p->last_home_calls = r->calls;
	/* The sender's part, then ours: from its (final) MIG_BEGIN to RUNNING. */
	p->last_home_freeze_ns = (u64)le32_to_cpu(r->b->frozen_us) * NSEC_PER_USEC +
				 now - r->final_at;
}

/* Read steps until GO (0) or the end of the attempt (-errno). */
static int om_receive_steps(struct om_receiver *r)
{
	struct om_kcom_msg *msg;
	int err;

	for (;;) {
		const struct om_kcom_hdr *h;

		msg = om_receive_next(r, &err);
		if (!msg && !err)
			continue;
		if (!msg)
			return err;
		h = om_kcom_msg_hdr(msg);
		switch (h->type) {
		case VIRTIO_OM_T_MIG_BEGIN:
			if (!r->err && !r->committed)
				r->err = om_take_final(r, msg);
			break;
		case VIRTIO_OM_T_MIG_VMAS:
			if (!r->err && !r->committed)
				r->err = om_take_vmas(r, msg);
			else
				om_forget_vmas(r, msg, 0);
			break;
		case VIRTIO_OM_T_MIG_PAGES:
			if (!r->err && !r->committed)
				r->err = om_take_pages(r, msg);
			break;
		case VIRTIO_OM_T_SIGNAL:
			om_take_signal(r, msg);
			break;
		case VIRTIO_OM_T_MIG_SYNC:
		case VIRTIO_OM_T_MIG_COMMIT:
			if (!r->err)
				r->err = om_check_mark(r, msg);
			/* A live move commits its final round only. */
			if (h->type == VIRTIO_OM_T_MIG_COMMIT && !r->err && r->live &&
			    !r->fin_mapped)
				r->err = -EPROTO;
			if (h->type == VIRTIO_OM_T_MIG_COMMIT && !r->err && !r->committed)
				r->err = om_prepare(r);
			err = om_ack(r, h);
			if (err && !r->err)
				r->err = err;
			break;
		case VIRTIO_OM_T_MIG_GO:
			if (!r->committed || r->err) {
				/* Out of order: the sender keeps the process. */
				om_running(r, h, -EPROTO);
				om_kcom_msg_free(msg);
				return -EPROTO;
			}
			om_install(r);
			om_running(r, h, 0);
			om_kcom_msg_free(msg);
			return 0;
		case VIRTIO_OM_T_MIG_ABORT:
			err = om_abort_reason(msg);
			om_kcom_msg_free(msg);
			return r->err ?: err;
		default:
			/* Coming home live: the process's calls between the rounds. */
			if (r->standin && !r->final) {
				err = om_receive_serve(r, msg);
				if (err)
					return r->err ?: err;
				continue;
			}
			/* Nothing else belongs in a move: a request gets an error. */
			om_reply_error(h, -EBUSY);
			break;
		}
		om_kcom_msg_free(msg);
	}
}

/**
 * om_receive_process() - take in the process whose MIG_BEGIN is @begin
 * @p: the receiving half (a new remote, or the deputy)
 * @begin: the MIG_BEGIN message; freed here
 *
 * On success the current task is the process (registers, memory, state),
 * the sender has been told (RUNNING), and the task runs the process on its
 * return to user mode. The caller still calls om_finish_arrival() on that
 * way. On failure the current task's mm, registers and credentials are as
 * before.
 *
 * Return: 0 or -errno.
 */
int om_receive_process(struct om_proc *p, struct om_kcom_msg *begin)
{
	const struct om_kcom_hdr *h = om_kcom_msg_hdr(begin);
	struct om_receiver r = {
		.p = p, .xsize = om_arch_xstate_size(), .final_at = ktime_get_ns()
	};
	struct mm_struct *old_mm = NULL, *mm;
	bool swapped = false;
	int err;

	if (h->type != VIRTIO_OM_T_MIG_BEGIN) {
		om_kcom_msg_free(begin);
		return -EPROTO;
	}
	r.b = kzalloc(sizeof(*r.b) + r.xsize, GFP_KERNEL);
	r.sigs = kcalloc(OM_MAX_TRAVEL_SIGNALS, sizeof(*r.sigs), GFP_KERNEL);
	if (!r.b || !r.sigs) {
		r.err = -ENOMEM;
	} else if (h->len != sizeof(*r.b) + r.xsize ||
		   om_kcom_msg_copy(begin, 0, r.b, h->len) != h->len ||
		   !om_begin_valid(r.b, h->len, r.xsize) ||
		   /* A live move's final MIG_BEGIN comes second; home, to the deputy. */
		   (le32_to_cpu(r.b->flags) & VIRTIO_OM_MIG_F_LIVE &&
		    (le32_to_cpu(r.b->flags) & VIRTIO_OM_MIG_F_FINAL ||
		     (le32_to_cpu(r.b->flags) & VIRTIO_OM_MIG_F_HOME && p->role != OM_DEPUTY)))) {
		r.err = -EPROTO;
	} else if (!(le32_to_cpu(r.b->flags) & VIRTIO_OM_MIG_F_HOME) && om_load_blocked()) {
		/* admin/block: no process of another node arrives; its own come home. */
		atomic64_inc(&om_node_stats.arrivals_refused);
		r.err = -ECONNREFUSED;
	}
	om_kcom_msg_free(begin);
	r.xstate = r.b ? (void *)(r.b + 1) : NULL;
	if (!r.err && le32_to_cpu(r.b->flags) & VIRTIO_OM_MIG_F_LIVE) {
		r.live = true;
		r.pre = kvcalloc(max(le32_to_cpu(r.b->vmas), 1u), sizeof(*r.pre), GFP_KERNEL);
		if (!r.pre)
			r.err = -ENOMEM;
	}
	if (!r.err)
		om_carry_arrived(p, r.b);

	if (!r.err) {
		mm = om_mm_new();
		if (!mm) {
			r.err = -ENOMEM;
		} else {
			/* Home again, in its rounds too: the stand-in kept its program. */
			if (p->role == OM_DEPUTY)
				om_mm_keep_exe(mm, current->mm);
			om_set_mm_flags(mm, 0);
			old_mm = om_mm_swap(mm);
			swapped = true;
		}
	}
	/*
	 * A deputy that refuses a live homecoming at once leaves it to its
	 * loop: the process's calls are served there meanwhile, and the
	 * rounds' messages refused (EBUSY), which ends them at its node.
	 */
	if (r.err && p->role == OM_DEPUTY &&
	    (!r.b || le32_to_cpu(r.b->flags) & VIRTIO_OM_MIG_F_LIVE)) {
		kvfree(r.pre);
		kfree(r.b);
		kfree(r.sigs);
		return r.err;
	}
	if (r.live && p->role == OM_DEPUTY)
		r.standin = old_mm;
	err = om_receive_steps(&r);
	/* Serving calls swapped it in and out: the same one, back out. */
	if (r.standin)
		old_mm = r.standin;
	kvfree(r.pre);
	if (r.fin && !r.fin_mapped) {
		u32 i;

		for (i = 0; i < r.vmas; i++)
			om_forget_vma(&r, &r.fin[i]);
	}
	kvfree(r.fin);
	if (err) {
		om_unprepare(&r);
		if (swapped && old_mm)
			mmput(om_mm_swap(old_mm));
		kfree(r.b);
		kfree(r.sigs);
		return err;
	}
	if (old_mm)
		mmput(old_mm);
	if (p->role == OM_DEPUTY)
		om_home_figures(&r);
	p->arrival = r.b;
	p->arrival_signals = r.sigs;
	p->nr_arrival_signals = r.nr_sigs;
	return 0;
}
