// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pages a process writes while a live move's rounds go on, logged as
 * it writes them, so that the next round and the freeze read a list
 * instead of walking every page table of the process (live.c, pages.c).
 *
 * Two sources: its mm's write faults (core patch 0015; each page a round
 * sent is write-protected again by clearing its soft-dirty bit, so its next
 * write faults), and what the kernel takes from its mm meanwhile, as an
 * MMU notifier hears it (MADV_DONTNEED, reclaim, munmap, mremap): pages the
 * destination holds that may now read zero.
 *
 * The log is a hint wherever it may have missed a write: then the caller
 * walks the page tables as before (om_dirty_exact() says where).
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/om.h>
#include <linux/rculist.h>
#include <linux/sched/coredump.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>

#include "migrate.h"

/* Pages logged at most (written and taken together); past it, walks. */
#define OM_DIRTY_MAX 65536
/* A taking of more pages than this at once is kept as a range. */
#define OM_DIRTY_RANGE_PAGES 64

DEFINE_STATIC_KEY_FALSE(om_write_log_on);

/* The logs of the live moves going on (few: one per process moving). */
static LIST_HEAD(om_dirty_logs);
static DEFINE_SPINLOCK(om_dirty_logs_lock);

static void om_dirty_add(struct om_dirty_log *log, struct xarray *xa, unsigned long idx,
			 bool *lost)
{
	int err;

	if (READ_ONCE(*lost) || xa_load(xa, idx))
		return;
	if (atomic_inc_return(&log->nr) > OM_DIRTY_MAX) {
		WRITE_ONCE(*lost, true);
		return;
	}
	/* In a fault or an MMU notifier: no sleeping; failing costs a walk. */
	err = xa_insert(xa, idx, xa_mk_value(1), GFP_NOWAIT | __GFP_NOWARN);
	if (err == -EBUSY)
		atomic_dec(&log->nr);
	else if (err)
		WRITE_ONCE(*lost, true);
}

/* Core patch 0015: a write fault in @mm, while some live move logs. */
void om_write_fault_note(struct mm_struct *mm, unsigned long address)
{
	struct om_dirty_log *log;

	rcu_read_lock();
	list_for_each_entry_rcu(log, &om_dirty_logs, list) {
		if (log->mm == mm) {
			om_dirty_add(log, &log->written, address >> PAGE_SHIFT, &log->lost_written);
			break;
		}
	}
	rcu_read_unlock();
}

/* Pages of [@start, @end) taken from the process: each, or the range. */
static void om_dirty_taken(struct om_dirty_log *log, unsigned long start, unsigned long end)
{
	unsigned long idx;
	unsigned int i;

	start &= PAGE_MASK;
	if (end <= start)
		return;
	if ((end - start) >> PAGE_SHIFT <= OM_DIRTY_RANGE_PAGES) {
		for (idx = start >> PAGE_SHIFT; idx < PAGE_ALIGN(end) >> PAGE_SHIFT; idx++)
			om_dirty_add(log, &log->zapped, idx, &log->lost_zapped);
		return;
	}
	spin_lock(&log->lock);
	for (i = 0; i < log->nr_ranges; i++) {
		/* Overlapping or touching: one range. */
		if (start <= log->ranges[i].end && log->ranges[i].start <= end) {
			log->ranges[i].start = min(log->ranges[i].start, start);
			log->ranges[i].end = max(log->ranges[i].end, end);
			break;
		}
	}
	if (i == log->nr_ranges) {
		if (i < ARRAY_SIZE(log->ranges)) {
			log->ranges[i].start = start;
			log->ranges[i].end = end;
			log->nr_ranges++;
		} else {
			WRITE_ONCE(log->lost_zapped, true);
		}
	}
	spin_unlock(&log->lock);
}

static int om_dirty_invalidate(struct mmu_notifier *mn, const struct mmu_notifier_range *r)
{
	struct om_dirty_log *log = container_of(mn, struct om_dirty_log, mn);

	switch (r->event) {
	case MMU_NOTIFY_CLEAR:	/* zapped, reclaimed, replaced by a copy */
	case MMU_NOTIFY_UNMAP:	/* munmap, or moved away by mremap */
		om_dirty_taken(log, r->start, r->end);
		break;
	default:
		/* Protections, migration, soft-dirty clearing: the contents stay. */
		break;
	}
	return 0;
}

static void om_dirty_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct om_dirty_log *log = container_of(mn, struct om_dirty_log, mn);

	WRITE_ONCE(log->lost_zapped, true);
}

static const struct mmu_notifier_ops om_dirty_ops = {
	.invalidate_range_start = om_dirty_invalidate,
	.release = om_dirty_release,
};

/**
 * om_dirty_log_start() - log the pages @mm's process writes from now on
 * @mm: the current process's
 *
 * Return: the log, or an ERR_PTR.
 */
struct om_dirty_log *om_dirty_log_start(struct mm_struct *mm)
{
	struct om_dirty_log *log = kzalloc(sizeof(*log), GFP_KERNEL);
	int err;

	if (!log)
		return ERR_PTR(-ENOMEM);
	log->mm = mm;
	xa_init(&log->written);
	xa_init(&log->zapped);
	spin_lock_init(&log->lock);
	log->mn.ops = &om_dirty_ops;
	err = mmu_notifier_register(&log->mn, mm);
	if (err) {
		kfree(log);
		return ERR_PTR(err);
	}
	spin_lock(&om_dirty_logs_lock);
	list_add_rcu(&log->list, &om_dirty_logs);
	spin_unlock(&om_dirty_logs_lock);
	static_branch_inc(&om_write_log_on);
	return log;
}

/**
 * om_dirty_log_stop() - end a log
 * @log: om_dirty_log_start()'s, or NULL
 */
void om_dirty_log_stop(struct om_dirty_log *log)
{
	if (!log)
		return;
	static_branch_dec(&om_write_log_on);
	spin_lock(&om_dirty_logs_lock);
	list_del_rcu(&log->list);
	spin_unlock(&om_dirty_logs_lock);
	/* Its notifier's last call has returned once this does. */
	mmu_notifier_unregister(&log->mn, log->mm);
	/* And the last write fault that found it. */
	synchronize_rcu();
	xa_destroy(&log->written);
	xa_destroy(&log->zapped);
	kfree(log);
}

/**
 * om_dirty_exact() - whether the log has every page written and taken in a range
 * @log: the log
 * @start: the range's start
 * @end: its end
 *
 * Not where an entry was lost, the kernel took many pages at once, a
 * mapping was made or grown (VM_SOFTDIRTY: its pages count as written
 * without a fault), a mapping is registered with a userfaultfd (another
 * process may fill its pages, UFFDIO_COPY, without a fault of this one), a
 * page may be pinned (its soft-dirty bit is not cleared, so its writes do
 * not fault), or a huge page's one fault covers many pages.
 *
 * Return: true if a list of pages from the log is exact there.
 */
bool om_dirty_exact(struct om_dirty_log *log, unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	bool exact = true;
	unsigned int i;

	VMA_ITERATOR(vmi, log->mm, start);

	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) || READ_ONCE(log->lost_written) ||
	    READ_ONCE(log->lost_zapped) || test_bit(MMF_HAS_PINNED, &log->mm->flags))
		return false;
	spin_lock(&log->lock);
	for (i = 0; i < log->nr_ranges; i++)
		if (log->ranges[i].start < end && start < log->ranges[i].end)
			exact = false;
	spin_unlock(&log->lock);
	if (!exact)
		return false;
	mmap_read_lock(log->mm);
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_flags & VM_SOFTDIRTY || userfaultfd_armed(vma)) {
			exact = false;
			break;
		}
	}
	mmap_read_unlock(log->mm);
	return exact;
}

/**
 * om_dirty_count() - pages written in a range since they were last taken
 * @log: the log
 * @start: the range's start
 * @end: its end
 *
 * Return: how many.
 */
unsigned long om_dirty_count(struct om_dirty_log *log, unsigned long start, unsigned long end)
{
	unsigned long idx, n = 0;
	void *e;

	xa_for_each_range(&log->written, idx, e, start >> PAGE_SHIFT, (end - 1) >> PAGE_SHIFT)
		n++;
	return n;
}

/**
 * om_dirty_list() - pages of the log in a range, in address order
 * @log: the log
 * @zapped: the pages taken from the process (else those written)
 * @start: the range's start
 * @end: its end
 * @out: their addresses
 * @max: room in @out
 * @next: where a next call goes on (@end when all were listed)
 * @take: remove those listed from the log (the written only)
 *
 * Return: how many entries @out has.
 */
unsigned int om_dirty_list(struct om_dirty_log *log, bool zapped, unsigned long start,
			   unsigned long end, unsigned long *out, unsigned int max,
			   unsigned long *next, bool take)
{
	struct xarray *xa = zapped ? &log->zapped : &log->written;
	unsigned int n = 0;
	unsigned long idx;
	void *e;

	*next = end;
	xa_for_each_range(xa, idx, e, start >> PAGE_SHIFT, (end - 1) >> PAGE_SHIFT) {
		if (n == max) {
			*next = idx << PAGE_SHIFT;
			break;
		}
		out[n++] = idx << PAGE_SHIFT;
		if (take && !zapped) {
			xa_erase(xa, idx);
			atomic_dec(&log->nr);
		}
	}
	return n;
}

bool om_dirty_written(struct om_dirty_log *log, unsigned long addr)
{
	return xa_load(&log->written, addr >> PAGE_SHIFT);
}

/**
 * om_dirty_forget_written() - forget the pages written
 * @log: the log
 * @walked: a walk of the page tables found them, and the caller clears
 *	every soft-dirty bit next: a write the log lost no longer matters
 *
 * What was taken from the process stays, for the freeze.
 */
void om_dirty_forget_written(struct om_dirty_log *log, bool walked)
{
	unsigned long idx;
	void *e;

	xa_for_each(&log->written, idx, e) {
		xa_erase(&log->written, idx);
		atomic_dec(&log->nr);
	}
	if (walked)
		WRITE_ONCE(log->lost_written, false);
}
