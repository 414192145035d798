// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which of a process's pages cross in a move, and how: only pages that
 * are there (a walk of its page tables, not of every address it could
 * use), no page of zeroes where the destination's page reads zero anyway,
 * fifteen pages a message. A live move's final round sends only what was
 * written since its rounds (soft-dirty bits, or the log of its writes:
 * dirty_log.c) and says which pages the
 * destination holds now read zero.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagewalk.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "migrate.h"

int om_wait_ack(struct om_proc *p, u16 type, struct om_sender *s)
{
	struct virtio_om_mig_mark mark = {
		.pages = cpu_to_le64(s->pages),
		.vmas = cpu_to_le32(s->nr_vmas),
	};
	struct kvec kv = { &mark, sizeof(mark) };
	struct virtio_om_mig_ack ack;
	int err;

	err = om_call_expect(p, type, &kv, 1, OM_STEP_TIMEOUT, VIRTIO_OM_T_MIG_ACK, &ack,
			     sizeof(ack), NULL);
	return err ?: om_wire_errno(ack.error);
}

/* One more MIG_PAGES message sent: every OM_MSGS_PER_SYNC, wait for the receiver. */
static int om_pages_sent(struct om_sender *s)
{
	if (++s->since_sync < OM_MSGS_PER_SYNC)
		return 0;
	s->since_sync = 0;
	return om_wait_ack(s->p, VIRTIO_OM_T_MIG_SYNC, s);
}

int om_flush_pages(struct om_sender *s)
{
	struct virtio_om_mig_pages hdr = { .count = cpu_to_le32(s->nr) };
	struct kvec kv[2] = {
		{ &hdr, sizeof(hdr) },
		{ s->addrs, s->nr * sizeof(s->addrs[0]) },
	};
	unsigned int i;
	int err;

	if (!s->nr)
		return 0;
	if (om_fault(OM_FAULT_PAGES))
		err = -EIO;
	else
		err = om_send(s->p, VIRTIO_OM_T_MIG_PAGES, 0, 0, kv, 2, s->bv, s->nr, NULL);
	for (i = 0; i < s->nr; i++)
		put_page(s->bv[i].bv_page);
	s->pages += s->nr;
	s->nr = 0;
	return err ?: om_pages_sent(s);
}

static int om_flush_zero(struct om_sender *s)
{
	struct virtio_om_mig_pages hdr = {
		.count = cpu_to_le32(s->nr_zero),
		.flags = cpu_to_le32(VIRTIO_OM_PAGES_F_ZERO),
	};
	struct kvec kv[2] = {
		{ &hdr, sizeof(hdr) },
		{ s->zero, s->nr_zero * sizeof(s->zero[0]) },
	};
	int err;

	if (!s->nr_zero)
		return 0;
	err = om_send(s->p, VIRTIO_OM_T_MIG_PAGES, 0, 0, kv, 2, NULL, 0, NULL);
	s->pages += s->nr_zero;
	s->nr_zero = 0;
	return err ?: om_pages_sent(s);
}

/* The destination holds the page at @addr, which now reads zero: say so. */
static int om_send_zero(struct om_sender *s, unsigned long addr)
{
	if (!s->zero) {
		s->zero = kmalloc_array(OM_ZERO_PER_MSG, sizeof(*s->zero), GFP_KERNEL);
		if (!s->zero)
			return -ENOMEM;
	}
	xa_erase(&s->held, addr >> PAGE_SHIFT);
	s->zero[s->nr_zero++] = cpu_to_le64(addr);
	s->zero_told++;
	return s->nr_zero == OM_ZERO_PER_MSG ? om_flush_zero(s) : 0;
}

static bool om_page_is_zero(struct page *page)
{
	void *v = kmap_local_page(page);
	bool zero = !memchr_inv(v, 0, PAGE_SIZE);

	kunmap_local(v);
	return zero;
}

/**
 * om_send_one_page() - send the current process's page at @addr, if it must cross
 * @s: the move
 * @addr: a page of a mapping being sent
 * @fresh: the destination maps it as new anonymous memory, which reads zero
 *	(not a file's private mapping, whose own pages it reads from home)
 *
 * Return: 0 or -errno.
 */
int om_send_one_page(struct om_sender *s, unsigned long addr, bool fresh)
{
	bool held = s->live && xa_load(&s->held, addr >> PAGE_SHIFT);
	struct page *page = get_dump_page(addr);
	int err;

	if (!page || (fresh && om_page_is_zero(page))) {
		if (page)
			put_page(page);
		if (held)
			return om_send_zero(s, addr);
		s->zero_skipped++;
		return 0;
	}
	/* A file's own page: the destination reads it from home. */
	if (!fresh && !PageAnon(page)) {
		put_page(page);
		return 0;
	}
	if (s->live && !held) {
		err = xa_err(xa_store(&s->held, addr >> PAGE_SHIFT, xa_mk_value(1), GFP_KERNEL));
		if (err) {
			put_page(page);
			return err;
		}
	}
	s->addrs[s->nr] = cpu_to_le64(addr);
	bvec_set_page(&s->bv[s->nr], page, PAGE_SIZE, 0);
	if (++s->nr == OM_PAGES_PER_MSG)
		return om_flush_pages(s);
	return 0;
}

struct om_scan_state {
	unsigned long *out;
	unsigned int max, n;
	unsigned long next;
};

/* Pages there are, with their soft-dirty bits; the shared zero page is none. */
static int om_scan_pmd(pmd_t *pmd, unsigned long addr, unsigned long end, struct mm_walk *walk)
{
	struct om_scan_state *sc = walk->private;
	unsigned long all = walk->vma->vm_flags & VM_SOFTDIRTY ? OM_SCAN_WRITTEN : 0;
	pte_t *start_pte, *pte;
	spinlock_t *ptl;	/* the page table's, from pte_offset_map_lock() */

	ptl = pmd_trans_huge_lock(pmd, walk->vma);
	if (ptl) {
		unsigned long w = all | (pmd_soft_dirty(*pmd) ? OM_SCAN_WRITTEN : 0);

		for (; addr < end && sc->n < sc->max; addr += PAGE_SIZE)
			sc->out[sc->n++] = addr | w;
		spin_unlock(ptl);
		goto out;
	}
	start_pte = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	pte = start_pte;
	if (!pte) {
		walk->action = ACTION_AGAIN;
		return 0;
	}
	for (; addr < end; pte++, addr += PAGE_SIZE) {
		pte_t ptent = ptep_get(pte);
		bool written;

		if (pte_none(ptent))
			continue;
		if (pte_present(ptent)) {
			if (is_zero_pfn(pte_pfn(ptent)))
				continue;
			written = pte_soft_dirty(ptent);
		} else {
			written = pte_swp_soft_dirty(ptent);
		}
		if (sc->n == sc->max)
			break;
		sc->out[sc->n++] = addr | all | (written ? OM_SCAN_WRITTEN : 0);
	}
	pte_unmap_unlock(start_pte, ptl);
out:
	if (addr < end) {
		sc->next = addr;
		return 1;
	}
	return 0;
}

static const struct mm_walk_ops om_scan_ops = {
	.pmd_entry = om_scan_pmd,
	.walk_lock = PGWALK_RDLOCK,
};

/**
 * om_scan() - the pages of @mm there are between @start and @end
 * @mm: the process's
 * @start: where to begin (page-aligned)
 * @end: where to stop
 * @out: the pages' addresses, with OM_SCAN_WRITTEN if written since the
 *	soft-dirty bits were last cleared (or ever, where they never were)
 * @max: room in @out
 * @next: where a next call goes on: every page there is below it is in @out
 *
 * Return: how many entries @out has.
 */
unsigned int om_scan(struct mm_struct *mm, unsigned long start, unsigned long end,
		     unsigned long *out, unsigned int max, unsigned long *next)
{
	struct om_scan_state sc = { .out = out, .max = max, .next = end };

	mmap_read_lock(mm);
	walk_page_range(mm, start, end, &om_scan_ops, &sc);
	mmap_read_unlock(mm);
	*next = sc.next;
	return sc.n;
}

/**
 * om_vma_same() - whether two mapping entries describe the same anonymous mapping
 * @a: one
 * @b: the other
 *
 * Both sides of a live move decide with it which mappings its final round
 * keeps as the rounds built them: a file's mapping never is.
 */
bool om_vma_same(const struct virtio_om_mig_vma *a, const struct virtio_om_mig_vma *b)
{
	return a->start == b->start && a->end == b->end && a->prot == b->prot &&
	       a->pgoff == b->pgoff && a->flags == b->flags &&
	       !(le32_to_cpu(a->flags) & VIRTIO_OM_VMA_F_FILE);
}

/* @list: @n entries sorted by start. Return: the one @v is the same as, or NULL. */
const struct virtio_om_mig_vma *om_vma_find(const struct virtio_om_mig_vma *list, unsigned int n,
					    const struct virtio_om_mig_vma *v)
{
	unsigned int lo = 0, hi = n;
	u64 start = le64_to_cpu(v->start);

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		u64 at = le64_to_cpu(list[mid].start);

		if (at == start)
			return om_vma_same(&list[mid], v) ? &list[mid] : NULL;
		if (at < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool om_vma_kept(const struct om_sender *s, const struct virtio_om_mig_vma *v)
{
	return s->live && om_vma_find(s->pre, s->nr_pre, v);
}

/*
 * A kept mapping's pages the destination holds between @from and @to that
 * are no longer here (unmapped, or the zero page again): they read zero.
 * @got: the pages there are in that range, in order.
 */
static int om_send_gone(struct om_sender *s, unsigned long from, unsigned long to,
			const unsigned long *got, unsigned int n)
{
	unsigned long idx;
	unsigned int i = 0;
	void *e;
	int err;

	if (from >= to)
		return 0;
	xa_for_each_range(&s->held, idx, e, from >> PAGE_SHIFT, (to - 1) >> PAGE_SHIFT) {
		unsigned long a = idx << PAGE_SHIFT;

		while (i < n && (got[i] & PAGE_MASK) < a)
			i++;
		if (i < n && (got[i] & PAGE_MASK) == a)
			continue;
		err = om_send_zero(s, a);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The pages of one list of a live move's log in [@start, @end) (dirty_log.c),
 * each sent as it is now or said to read zero; of the pages the kernel took
 * (@zapped), only those not written too (sent with the written).
 */
static int om_send_listed(struct om_sender *s, bool zapped, unsigned long start,
			  unsigned long end)
{
	unsigned long at, next;
	unsigned int n, i;
	int err;

	for (at = start; at < end; at = next) {
		n = om_dirty_list(s->log, zapped, at, end, s->scan, ARRAY_SIZE(s->scan), &next,
				  false);
		for (i = 0; i < n; i++) {
			if (fatal_signal_pending(current))
				return -EINTR;
			if (zapped && om_dirty_written(s->log, s->scan[i]))
				continue;
			err = om_send_one_page(s, s->scan[i], true);
			if (err)
				return err;
		}
	}
	return 0;
}

static int om_send_vma_pages(struct om_sender *s, unsigned int vma)
{
	const struct virtio_om_mig_vma *v = &s->vmas[vma];
	unsigned long at = le64_to_cpu(v->start), end = le64_to_cpu(v->end), next;
	u32 flags = le32_to_cpu(v->flags);
	bool kept = om_vma_kept(s, v), fresh = !(flags & VIRTIO_OM_VMA_F_FILE);
	struct mm_struct *mm = current->mm;
	unsigned int n, i;
	int err;

	for (; s->by_address[vma] && at < end; at += PAGE_SIZE) {
		if (fatal_signal_pending(current))
			return -EINTR;
		err = om_send_one_page(s, at, true);
		if (err)
			return err;
		cond_resched();
	}
	/* Where its log is exact, no walk: the freeze does not grow with the memory. */
	if (kept) {
		if (s->log && om_dirty_exact(s->log, at, end))
			return om_send_listed(s, false, at, end) ?:
			       om_send_listed(s, true, at, end);
		s->final_walks++;
	}
	while (at < end) {
		n = om_scan(mm, at, end, s->scan, ARRAY_SIZE(s->scan), &next);
		if (kept) {
			err = om_send_gone(s, at, next, s->scan, n);
			if (err)
				return err;
		}
		for (i = 0; i < n; i++) {
			if (fatal_signal_pending(current))
				return -EINTR;
			/* Unwritten since the rounds sent it: the destination has it. */
			if (kept && !(s->scan[i] & OM_SCAN_WRITTEN))
				continue;
			err = om_send_one_page(s, s->scan[i] & PAGE_MASK, fresh);
			if (err)
				return err;
		}
		at = next;
		cond_resched();
	}
	return 0;
}

/**
 * om_send_pages() - send the pages of every mapping of @s
 * @s: the move, its mappings collected
 *
 * In a live move's final round (@s->live), a mapping its rounds built and
 * that is unchanged gets only the pages written since, and word of those
 * it holds that now read zero; any other mapping is new there and gets all.
 *
 * Return: 0 or -errno.
 */
int om_send_pages(struct om_sender *s)
{
	unsigned int i;
	int err;

	for (i = 0; i < s->nr_vmas; i++) {
		if (le32_to_cpu(s->vmas[i].flags) & VIRTIO_OM_VMA_F_VDSO)
			continue;
		err = om_send_vma_pages(s, i);
		if (err)
			return err;
	}
	err = om_flush_pages(s);
	return err ?: om_flush_zero(s);
}
