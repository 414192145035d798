/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the sending side of a move shares between its files: migrate.c (the
 * transaction), pages.c (which pages cross, and how) and live.c (the rounds
 * of a live move before its freeze).
 */
#ifndef OM_MIGRATE_H
#define OM_MIGRATE_H

#include <linux/bvec.h>
#include <linux/mmu_notifier.h>
#include <linux/xarray.h>

#include "om.h"

/* Pages per MIG_PAGES message: what fits 64 KiB with their addresses. */
#define OM_PAGES_PER_MSG 15
/* MIG_PAGES messages between two MIG_SYNCs: bounds what the receiver queues. */
#define OM_MSGS_PER_SYNC 32
/* Addresses per MIG_PAGES F_ZERO message. */
#define OM_ZERO_PER_MSG 512

/*
 * The pages a process wrote, and those the kernel took from it, while a live
 * move's rounds went on (dirty_log.c).
 */
struct om_dirty_log {
	struct list_head list;	/* om_dirty_logs, RCU */
	struct mm_struct *mm;
	struct mmu_notifier mn;
	struct xarray written;	/* page index: a write fault since last taken */
	struct xarray zapped;	/* page index: taken from the process since the start */
	atomic_t nr;		/* entries of both */
	bool lost_written;	/* an entry of written could not be made */
	bool lost_zapped;	/* nor one of zapped (or its range) */
	spinlock_t lock;	/* ranges */
	struct {
		unsigned long start, end;
	} ranges[8];		/* larger takings (munmap, mremap, MADV_DONTNEED) */
	unsigned int nr_ranges;
};

struct om_dirty_log *om_dirty_log_start(struct mm_struct *mm);
void om_dirty_log_stop(struct om_dirty_log *log);
bool om_dirty_exact(struct om_dirty_log *log, unsigned long start, unsigned long end);
unsigned long om_dirty_count(struct om_dirty_log *log, unsigned long start, unsigned long end);
unsigned int om_dirty_list(struct om_dirty_log *log, bool zapped, unsigned long start,
			   unsigned long end, unsigned long *out, unsigned int max,
			   unsigned long *next, bool take);
bool om_dirty_written(struct om_dirty_log *log, unsigned long addr);
void om_dirty_forget_written(struct om_dirty_log *log, bool walked);

struct om_sender {
	struct om_proc *p;
	struct virtio_om_mig_vma *vmas;
	struct file **files;	/* from home: each mapping's file, to serve (or NULL) */
	/*
	 * A file's mapping (or shared memory) that travels as private memory:
	 * its pages are read at every address, as the file has them, not only
	 * where its page table has one.
	 */
	bool *by_address;
	unsigned int nr_vmas;
	unsigned int vmas_sent;	/* the destination owns the served ids of these */
	u64 pages;		/* pages sent, and pages said to read zero */
	u64 zero_skipped;	/* pages of zeroes not sent: they read zero there */
	u64 zero_told;		/* pages the destination held, said to read zero now */
	unsigned int since_sync;
	/* the batch being filled */
	__le64 addrs[OM_PAGES_PER_MSG];
	struct bio_vec bv[OM_PAGES_PER_MSG];
	unsigned int nr;
	unsigned long scan[64];	/* om_scan()'s entries */
	__le64 *zero;		/* addresses that now read zero, to send (F_ZERO) */
	unsigned int nr_zero;
	/* signals pending at departure */
	kernel_siginfo_t *sigs;
	unsigned int nr_sigs;
	/*
	 * A live move (live.c): the mappings its rounds sent (the destination
	 * maps them at the first MIG_BEGIN), and the pages it holds of them.
	 */
	bool live;
	bool begun;		/* its first MIG_BEGIN was sent */
	u32 old_peer;		/* the process's peer before the move began */
	struct virtio_om_mig_vma *pre;
	unsigned int nr_pre;
	struct xarray held;	/* index addr >> PAGE_SHIFT: the destination has it */
	/* Its final round lists what was written from here (live.c's) */
	struct om_dirty_log *log;
	unsigned int final_walks;	/* kept mappings it walked instead */
};

int om_wait_ack(struct om_proc *p, u16 type, struct om_sender *s);
int om_flush_pages(struct om_sender *s);
int om_send_one_page(struct om_sender *s, unsigned long addr, bool fresh);
int om_send_pages(struct om_sender *s);
bool om_vma_kept(const struct om_sender *s, const struct virtio_om_mig_vma *v);
unsigned int om_scan(struct mm_struct *mm, unsigned long start, unsigned long end,
		     unsigned long *out, unsigned int max, unsigned long *next);
/* om_scan() entries: a page's address, and whether it was written since the last clear. */
#define OM_SCAN_WRITTEN 0x1UL

int om_collect_vmas(struct om_sender *s, struct mm_struct *mm, u32 dest, bool pre);
struct om_sender *om_sender_new(struct om_proc *p);
void om_sender_free(struct om_sender *s);
int om_send_live_begin(struct om_sender *s, u32 dest);
struct om_sender *om_live_sender(struct om_proc *p);
unsigned int om_live_rounds(const struct om_proc *p);
u32 om_live_dest(const struct om_proc *p);

#endif
