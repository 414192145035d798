// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sending a process away: the process itself, in its own context on its
 * way back to user mode, describes itself to the destination and sends its
 * pages. It is a transaction to its end: until the destination answers GO
 * with RUNNING, nothing here is given up, and on any failure (a refusal, a
 * lost message, a time-out, a node or the relay gone) the process goes on
 * where it was; a copy the destination may have started is ended.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/mutex.h>
#include <linux/futex.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/personality.h>
#include <linux/ptrace.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "migrate.h"

static u32 om_prot(vm_flags_t f)
{
	return (f & VM_READ ? PROT_READ : 0) | (f & VM_WRITE ? PROT_WRITE : 0) |
	       (f & VM_EXEC ? PROT_EXEC : 0);
}

/*
 * The mappings, as they will be rebuilt; vvar comes back with the vDSO.
 * Leaving home (@dest away), a private mapping of a file is served to
 * @dest, which maps the file and reads its pages from here as they fault;
 * one that cannot be served travels as private memory. For the rounds of
 * a live move (@pre), the anonymous ones only: a file's mapping is served
 * when the process is frozen (live.c).
 */
int om_collect_vmas(struct om_sender *s, struct mm_struct *mm, u32 dest, bool pre)
{
	struct vm_area_struct *vma;
	unsigned int n = 0, i;

	VMA_ITERATOR(vmi, mm, 0);

	mmap_read_lock(mm);
	s->vmas = kvcalloc(mm->map_count, sizeof(*s->vmas), GFP_KERNEL);
	s->files = dest ? kvcalloc(mm->map_count, sizeof(*s->files), GFP_KERNEL) : NULL;
	s->by_address = kvcalloc(mm->map_count, sizeof(*s->by_address), GFP_KERNEL);
	if (!s->vmas || (dest && !s->files) || !s->by_address) {
		mmap_read_unlock(mm);
		return -ENOMEM;
	}
	for_each_vma(vmi, vma) {
		struct virtio_om_mig_vma *v;

		if (om_arch_is_vvar(vma) || (pre && vma->vm_file))
			continue;
		if (n == mm->map_count)
			break;
		if (dest && !pre && vma->vm_file &&
		    !(vma->vm_flags & (VM_SHARED | VM_IO | VM_PFNMAP)))
			s->files[n] = get_file(vma->vm_file);
		s->by_address[n] = !!vma->vm_file;
		v = &s->vmas[n++];
		v->start = cpu_to_le64(vma->vm_start);
		v->end = cpu_to_le64(vma->vm_end);
		v->prot = cpu_to_le32(om_prot(vma->vm_flags));
		v->pgoff = cpu_to_le64(vma->vm_pgoff);
		v->flags = cpu_to_le32((vma->vm_flags & VM_GROWSDOWN ?
					VIRTIO_OM_VMA_F_GROWSDOWN : 0) |
				       (om_arch_is_vdso(vma) ? VIRTIO_OM_VMA_F_VDSO : 0) |
				       (vma->vm_flags & VM_SHARED ? VIRTIO_OM_VMA_F_SHARED : 0));
	}
	mmap_read_unlock(mm);
	s->nr_vmas = n;
	/* Opening and serving may sleep on the filesystem: not under mmap_lock. */
	for (i = 0; s->files && i < n; i++) {
		if (!s->files[i])
			continue;
		if (!om_rfile_serve_mapping(dest, s->files[i], &s->vmas[i])) {
			s->vmas[i].flags |= cpu_to_le32(VIRTIO_OM_VMA_F_FILE);
			s->by_address[i] = false;
		}
		fput(s->files[i]);
		s->files[i] = NULL;
	}
	return 0;
}

/*
 * The move failed: the files served to @dest for mappings it was never
 * told of are forgotten here. Those it was told of are its own to forget
 * (it may keep their versions: om_forget_vmas() in receive.c).
 */
static void om_unserve_vmas(struct om_sender *s, u32 dest)
{
	unsigned int i;

	for (i = s->vmas_sent; i < s->nr_vmas; i++)
		if (le32_to_cpu(s->vmas[i].flags) & VIRTIO_OM_VMA_F_FILE)
			om_rfile_unserve(dest, le32_to_cpu(s->vmas[i].served));
}

static void om_fill_creds(struct virtio_om_mig_begin *b)
{
	const struct cred *c = current_cred();
	int i;

	b->uid = cpu_to_le32(from_kuid_munged(&init_user_ns, c->uid));
	b->euid = cpu_to_le32(from_kuid_munged(&init_user_ns, c->euid));
	b->suid = cpu_to_le32(from_kuid_munged(&init_user_ns, c->suid));
	b->fsuid = cpu_to_le32(from_kuid_munged(&init_user_ns, c->fsuid));
	b->gid = cpu_to_le32(from_kgid_munged(&init_user_ns, c->gid));
	b->egid = cpu_to_le32(from_kgid_munged(&init_user_ns, c->egid));
	b->sgid = cpu_to_le32(from_kgid_munged(&init_user_ns, c->sgid));
	b->fsgid = cpu_to_le32(from_kgid_munged(&init_user_ns, c->fsgid));
	b->securebits = cpu_to_le32(c->securebits);
	b->ngroups = cpu_to_le32(min_t(int, c->group_info->ngroups, VIRTIO_OM_MIG_GROUPS));
	for (i = 0; i < c->group_info->ngroups && i < VIRTIO_OM_MIG_GROUPS; i++)
		b->groups[i] = cpu_to_le32(from_kgid_munged(&init_user_ns, c->group_info->gid[i]));
	b->cap_inheritable = cpu_to_le64(c->cap_inheritable.val);
	b->cap_permitted = cpu_to_le64(c->cap_permitted.val);
	b->cap_effective = cpu_to_le64(c->cap_effective.val);
	b->cap_bset = cpu_to_le64(c->cap_bset.val);
	b->cap_ambient = cpu_to_le64(c->cap_ambient.val);
}

static void om_fill_signals(struct virtio_om_mig_begin *b)
{
	struct sighand_struct *sh = current->sighand;
	int i;

	BUILD_BUG_ON(VIRTIO_OM_MIG_SIGNALS < _NSIG);
	BUILD_BUG_ON(_NSIG_WORDS != 1);
	spin_lock_irq(&sh->siglock);
	b->blocked = cpu_to_le64(current->blocked.sig[0]);
	for (i = 0; i < _NSIG; i++) {
		const struct sigaction *sa = &sh->action[i].sa;

		b->action[i].handler = cpu_to_le64((unsigned long)sa->sa_handler);
		b->action[i].flags = cpu_to_le64(sa->sa_flags);
		b->action[i].restorer = cpu_to_le64((unsigned long)sa->sa_restorer);
		b->action[i].mask = cpu_to_le64(sa->sa_mask.sig[0]);
	}
	spin_unlock_irq(&sh->siglock);
	b->sas_ss_sp = cpu_to_le64(current->sas_ss_sp);
	b->sas_ss_size = cpu_to_le64(current->sas_ss_size);
	b->sas_ss_flags = cpu_to_le32(current->sas_ss_flags);
}

static void om_fill_mm(struct virtio_om_mig_begin *b, struct mm_struct *mm)
{
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(mm->saved_auxv) > VIRTIO_OM_MIG_AUXV);
	for (i = 0; i < ARRAY_SIZE(mm->saved_auxv); i++)
		b->auxv[i] = cpu_to_le64(mm->saved_auxv[i]);
	mmap_read_lock(mm);
	b->start_code = cpu_to_le64(mm->start_code);
	b->end_code = cpu_to_le64(mm->end_code);
	b->start_data = cpu_to_le64(mm->start_data);
	b->end_data = cpu_to_le64(mm->end_data);
	b->start_brk = cpu_to_le64(mm->start_brk);
	b->brk = cpu_to_le64(mm->brk);
	b->start_stack = cpu_to_le64(mm->start_stack);
	b->arg_start = cpu_to_le64(mm->arg_start);
	b->arg_end = cpu_to_le64(mm->arg_end);
	b->env_start = cpu_to_le64(mm->env_start);
	b->env_end = cpu_to_le64(mm->env_end);
	b->mmap_base = cpu_to_le64(mm->mmap_base);
	b->vdso = cpu_to_le64((unsigned long)mm->context.vdso);
	mmap_read_unlock(mm);
	/* Who may dump and trace it, and what a core holds: the new mm would forget. */
	if (mm->binfmt && mm->binfmt == om_elf_format())
		b->flags |= cpu_to_le32(VIRTIO_OM_MIG_F_ELF);
	b->dumpable = cpu_to_le32(get_dumpable(mm));
	b->coredump_filter =
		cpu_to_le32((mm->flags & MMF_DUMP_FILTER_MASK) >> MMF_DUMP_FILTER_SHIFT);
	/* A sandbox (MDWE) must not be shed by moving, nor a THP opt-out forgotten. */
	b->mm_flags = cpu_to_le32((test_bit(MMF_DISABLE_THP, &mm->flags) ?
				   VIRTIO_OM_MIG_MM_NO_THP : 0) |
				  (test_bit(MMF_HAS_MDWE, &mm->flags) ? VIRTIO_OM_MIG_MM_MDWE : 0) |
				  (test_bit(MMF_HAS_MDWE_NO_INHERIT, &mm->flags) ?
				   VIRTIO_OM_MIG_MM_MDWE_NO_INHERIT : 0));
}

static int om_fill_begin(struct om_sender *s, struct virtio_om_mig_begin *b, bool home,
			 void *xstate, size_t xsize)
{
	struct task_struct *t = current;
	u64 span = 0;
	unsigned int i;

	b->arch = cpu_to_le32(om_arch_id());
	b->home_node = cpu_to_le32(s->p->home_node);
	b->flags = cpu_to_le32((home ? VIRTIO_OM_MIG_F_HOME : 0) |
			       (home && s->p->for_call ? VIRTIO_OM_MIG_F_CALL : 0) |
			       (READ_ONCE(s->p->locked) ? VIRTIO_OM_MIG_F_LOCKED : 0));
	for (i = 0; i < s->nr_vmas; i++)
		span += (le64_to_cpu(s->vmas[i].end) - le64_to_cpu(s->vmas[i].start)) >> PAGE_SHIFT;
	b->pages = cpu_to_le64(span);
	b->vmas = cpu_to_le32(s->nr_vmas);
	b->personality = cpu_to_le32(t->personality);
	b->nice = cpu_to_le32(task_nice(t) + 20);
	b->exit_signal = cpu_to_le32(t->exit_signal);
	__get_task_comm((char *)b->comm, sizeof(b->comm), t);
	om_fill_creds(b);
	om_fill_signals(b);
	BUILD_BUG_ON(RLIM_NLIMITS > VIRTIO_OM_MIG_RLIMITS);
	task_lock(t->group_leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		b->rlim[i].cur = cpu_to_le64(t->signal->rlim[i].rlim_cur);
		b->rlim[i].max = cpu_to_le64(t->signal->rlim[i].rlim_max);
	}
	task_unlock(t->group_leader);
	om_fill_mm(b, t->mm);
	b->clear_child_tid = cpu_to_le64((unsigned long)t->clear_child_tid);
#ifdef CONFIG_FUTEX
	b->robust_list = cpu_to_le64((unsigned long)t->robust_list);
	b->robust_list_len = cpu_to_le64(sizeof(*t->robust_list));
#endif
	return om_arch_save(b, xstate, xsize);
}

/* Signals pending now travel with the process (put back if it stays). */
static int om_take_signals(struct om_sender *s)
{
	sigset_t keep;
	enum pid_type type;
	int sig;

	if (!s->sigs)
		s->sigs = kcalloc(OM_MAX_TRAVEL_SIGNALS, sizeof(*s->sigs), GFP_KERNEL);
	if (!s->sigs)
		return -ENOMEM;
	/* SIGKILL and SIGSTOP stay: they act here, now. */
	siginitset(&keep, sigmask(SIGKILL) | sigmask(SIGSTOP));
	spin_lock_irq(&current->sighand->siglock);
	while (s->nr_sigs < OM_MAX_TRAVEL_SIGNALS) {
		sig = dequeue_signal(&keep, &s->sigs[s->nr_sigs], &type);
		if (!sig)
			break;
		s->nr_sigs++;
	}
	recalc_sigpending();
	spin_unlock_irq(&current->sighand->siglock);
	return 0;
}

static void om_return_signals(struct om_sender *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_sigs; i++)
		send_sig_info(s->sigs[i].si_signo, &s->sigs[i], current);
	s->nr_sigs = 0;
}

static int om_send_vmas(struct om_sender *s)
{
	const unsigned int per = (VIRTIO_OM_MAX_PAYLOAD - sizeof(struct virtio_om_mig_vmas)) /
				 sizeof(struct virtio_om_mig_vma);
	unsigned int at = 0;
	int err;

	while (at < s->nr_vmas) {
		unsigned int n = min(per, s->nr_vmas - at);
		struct virtio_om_mig_vmas hdr = { .count = cpu_to_le32(n) };
		struct kvec kv[2] = {
			{ &hdr, sizeof(hdr) },
			{ &s->vmas[at], n * sizeof(s->vmas[0]) },
		};

		err = om_send(s->p, VIRTIO_OM_T_MIG_VMAS, 0, 0, kv, 2, NULL, 0, NULL);
		if (err)
			return err;
		at += n;
		s->vmas_sent = at;
	}
	return 0;
}

/*
 * GO, and its answer: the process runs at the destination. A lost GO
 * (injected: it never leaves) waits out the answer as a lost one would.
 */
static int om_go(struct om_proc *p)
{
	struct virtio_om_mig_go go = {};
	struct kvec kv = { &go, sizeof(go) };
	struct virtio_om_mig_go running;
	int err;

	if (om_fault(OM_FAULT_GO_LOST)) {
		if (schedule_timeout_killable(om_running_timeout()))
			return -EINTR;
		return -ETIMEDOUT;
	}
	err = om_call_expect(p, VIRTIO_OM_T_MIG_GO, &kv, 1, om_running_timeout(),
			     VIRTIO_OM_T_MIG_RUNNING, &running, sizeof(running), NULL);
	return err ?: om_wire_errno(running.error);
}

static void om_end(struct om_proc *p, u16 type, int err)
{
	struct virtio_om_mig_go go = { .error = cpu_to_le32(-err) };
	struct kvec kv = { &go, sizeof(go) };

	/* If this fails the destination times out and drops the process. */
	om_send(p, type, 0, 0, &kv, 1, NULL, 0, NULL);
}

/*
 * No RUNNING came: the process stays here, and the copy the destination may
 * run must end. Away, ABORT tells the deputy; if it took the process after
 * all, it answers with KILL, and this copy ends. At home, KILL ends the
 * other copy, wherever it got to; its messages to a deputy that is no more
 * are answered with KILL too (om_kill_orphan()).
 */
static void om_take_back(struct om_proc *p, bool home, int err)
{
	pr_info("omvm: pid %d: no answer to GO from node %u (%d): it goes on here\n",
		p->home_pid, p->peer_node, err);
	if (home) {
		om_end(p, VIRTIO_OM_T_MIG_ABORT, err);
		return;
	}
	om_proc_rekey(p, OM_HOME);
	om_send_kill(p, VIRTIO_OM_KILL_NO_DEPUTY);
	/* What the other copy sent its deputy meanwhile is answered by its end. */
	om_proc_drain(p);
}

/*
 * A move between two nodes away failed at or after the handover: the
 * process is here again for its deputy, which ends the copy the
 * destination may run (hop.c).
 */
static void om_hop_back(struct om_proc *p, int err)
{
	int back;

	pr_info("omvm: pid %d: the move to node %u failed (%d): it goes on here\n",
		p->home_pid, p->hop_to, err);
	back = om_handover(p, om_kcom_self(), VIRTIO_OM_HANDOVER_F_BACK, err);
	if (back)
		pr_warn("omvm: pid %d: its deputy did not take it back (%d)\n", p->home_pid, back);
}

/**
 * om_send_process() - move the current process to @dest
 * @p: its half here (OM_HOME, or OM_REMOTE going home or to another node
 *	away: hop.c)
 * @dest: the destination node
 * @home: @dest is the process's home, where its deputy waits
 *
 * On success the destination runs the process: the caller turns this half
 * into a deputy (at home) or ends it (away). On failure nothing changed;
 * between two nodes away the deputy heard why (HANDOVER F_BACK).
 *
 * Return: 0 or -errno: -EHOSTDOWN/-ENOTCONN (destination unreachable),
 * -ETIMEDOUT, -EINTR (fatal signal), -ENOMEM, or what the destination refused
 * with.
 */
int om_send_process(struct om_proc *p, u32 dest, bool home)
{
	size_t xsize = om_arch_xstate_size();
	u64 stopped = ktime_get_ns();
	bool hop = !home && p->role == OM_REMOTE, told = false, final = false;
	/* The freeze of a live move: its rounds sent most pages already. */
	struct om_sender *s = om_live_sender(p);
	bool live = s;
	struct virtio_om_mig_begin *b = NULL;
	void *xstate;
	u32 old_peer = live ? s->old_peer : p->peer_node;
	unsigned int i, sent;
	int err;

	WRITE_ONCE(p->sending, true);
	err = om_kcom_node_is_up(dest) ? 0 : -EHOSTUNREACH;
	/* Away: its writes behind answered first (behind.c); they are its deputy's. */
	if (!err && p->role == OM_REMOTE)
		err = om_behind_drain(p);
	/* Its delegated files go home: the next node has no copy (a failure is logged). */
	if (!err && p->role == OM_REMOTE)
		om_deleg_return_all(p);
	if (err)
		goto undo_files;
	/* At home: nothing a copy of an earlier, taken-back move sent (om_take_back()). */
	if (!home && !hop && !live)
		om_proc_drain(p);
	if (live) {
		s->pre = s->vmas;
		s->nr_pre = s->nr_vmas;
		s->vmas = NULL;
		s->nr_vmas = 0;
		kvfree(s->by_address);
		s->by_address = NULL;
		s->vmas_sent = 0;
	} else {
		s = om_sender_new(p);
	}
	b = kzalloc(sizeof(*b) + xsize, GFP_KERNEL);
	if (!s || !b) {
		err = -ENOMEM;
		goto undo_files;
	}
	xstate = b + 1;
	err = om_collect_vmas(s, current->mm, !home && !hop ? dest : 0, false);
	if (err)
		goto undo_files;
	err = om_fill_begin(s, b, home, xstate, xsize);
	if (!err)
		err = om_carry_save(b, p);
	if (!err)
		err = om_take_signals(s);
	if (err)
		goto undo_files;
	if (live) {
		b->flags |= cpu_to_le32(VIRTIO_OM_MIG_F_LIVE | VIRTIO_OM_MIG_F_FINAL);
		b->live_rounds = cpu_to_le32(om_live_rounds(p));
	}
	b->frozen_us = cpu_to_le32(div_u64(ktime_get_ns() - stopped, NSEC_PER_USEC));

	/* Between two nodes away the deputy stays the peer until the handover. */
	if (hop)
		WRITE_ONCE(p->hop_to, dest);
	else
		p->peer_node = dest;
	final = true;
	{
		struct kvec kv[2] = { { b, sizeof(*b) }, { xstate, xsize } };

		err = om_send(p, VIRTIO_OM_T_MIG_BEGIN, 0, 0, kv, 2, NULL, 0, NULL);
	}
	if (err) {
		/* The rounds' copy there ends (it may have this BEGIN). */
		if (live)
			om_end(p, VIRTIO_OM_T_MIG_ABORT, err);
		goto undo;
	}
	err = om_send_vmas(s);
	for (i = 0; !err && i < s->nr_sigs; i++)
		err = om_send_signal(p, &s->sigs[i]);
	if (!err)
		err = om_send_pages(s);
	if (!err)
		err = om_wait_ack(p, VIRTIO_OM_T_MIG_COMMIT, s);
	/*
	 * Coming home live, the deputy sent signals on until it took the
	 * final MIG_BEGIN: those that came after this node took its signals
	 * (all before the COMMIT's answer) go home with it too.
	 */
	if (!err && home && live) {
		sent = s->nr_sigs;
		err = om_take_signals(s);
		for (i = sent; !err && i < s->nr_sigs; i++)
			err = om_send_signal(p, &s->sigs[i]);
	}
	/*
	 * Between two nodes away (hop.c): the deputy takes the destination as
	 * the process's node; what it sent here until then (all of it came
	 * before its answer) goes on there too.
	 */
	if (!err && hop) {
		err = om_handover(p, dest, 0, 0);
		sent = s->nr_sigs;
		if (!err)
			err = om_take_signals(s);
		for (i = sent; !err && i < s->nr_sigs; i++)
			err = om_send_signal(p, &s->sigs[i]);
		/* Refused, or unknown whether it switched: it must be back here. */
		if (err) {
			om_hop_back(p, err);
			told = true;
		}
	}
	if (err) {
		om_end(p, VIRTIO_OM_T_MIG_ABORT, err);
		goto undo;
	}
	/*
	 * The destination holds all of it and can no longer fail. At home we
	 * are the deputy from GO on, before the process can call on us; until
	 * RUNNING, this copy is kept.
	 */
	if (!home && !hop)
		om_proc_rekey(p, OM_DEPUTY);
	else
		WRITE_ONCE(p->leaving, true);
	err = om_go(p);
	if (err) {
		WRITE_ONCE(p->leaving, false);
		if (hop) {
			om_hop_back(p, err);
			told = true;
		} else {
			om_take_back(p, home, err);
		}
		goto undo;
	}
	if (hop)
		om_handover(p, dest, VIRTIO_OM_HANDOVER_F_DONE, 0);
	else if (!home)
		om_carry_left(p, b);
	atomic64_inc(&p->stats.migrations);
	p->last_freeze_ns = ktime_get_ns() - stopped;
	p->last_total_ns = p->asked_ns ? ktime_get_ns() - p->asked_ns : p->last_freeze_ns;
	p->last_pages = s->pages;
	p->last_zero_skipped = s->zero_skipped;
	p->last_zero_told = s->zero_told;
	if (!live) {
		p->last_rounds = 0;
		p->last_round_pages = 0;
		p->last_round_walks = 0;
		p->last_freeze_walks = 0;
		p->last_start_ns = 0;
	}
	/* What moves cost, for the balancer (asked by it or by hand alike). */
	if (p->asked_ns)
		om_load_note_move(p->last_pages, p->last_total_ns);
	om_load_arrived(dest);
	p->asked_ns = 0;
	p->left_ns = ktime_get_ns();
	goto out;

undo:
	WRITE_ONCE(p->hop_to, 0);
	p->peer_node = old_peer;
	om_return_signals(s);
undo_files:
	/* A live move failing before its final BEGIN: the rounds' copy there ends. */
	if (live && !final) {
		if (hop)
			WRITE_ONCE(p->hop_to, dest);
		om_end(p, VIRTIO_OM_T_MIG_ABORT, err);
		WRITE_ONCE(p->hop_to, 0);
		p->peer_node = old_peer;
	}
	/* Between two nodes away the deputy hears why the process stays. */
	if (hop && !told)
		om_handover(p, om_kcom_self(), VIRTIO_OM_HANDOVER_F_BACK, err);
	if (s && s->vmas)
		om_unserve_vmas(s, dest);
out:
	/* A live move's sender is its own (live.c). */
	if (!live)
		om_sender_free(s);
	kfree(b);
	WRITE_ONCE(p->sending, false);
	return err;
}

struct om_sender *om_sender_new(struct om_proc *p)
{
	struct om_sender *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->p = p;
	xa_init(&s->held);
	return s;
}

void om_sender_free(struct om_sender *s)
{
	if (!s)
		return;
	kfree(s->sigs);
	kvfree(s->vmas);
	kvfree(s->files);
	kvfree(s->by_address);
	kvfree(s->pre);
	kfree(s->zero);
	xa_destroy(&s->held);
	kfree(s);
}

/**
 * om_send_live_begin() - begin a live move of the current process to @dest
 * @s: the move (om_sender_new()), marked live
 * @dest: where it goes
 *
 * The first MIG_BEGIN and its anonymous mappings, for the rounds to fill;
 * the process runs on here. Its signals, registers and final mappings go
 * when it is frozen (om_send_process()).
 *
 * Return: 0 or -errno.
 */
int om_send_live_begin(struct om_sender *s, u32 dest)
{
	size_t xsize = om_arch_xstate_size();
	struct virtio_om_mig_begin *b = kzalloc(sizeof(*b) + xsize, GFP_KERNEL);
	int err;

	if (!b)
		return -ENOMEM;
	err = om_collect_vmas(s, current->mm, 0, true);
	if (!err)
		err = om_fill_begin(s, b, s->p->role == OM_REMOTE && dest == s->p->home_node,
				    b + 1, xsize);
	if (!err) {
		struct kvec kv[2] = { { b, sizeof(*b) }, { b + 1, xsize } };

		b->flags |= cpu_to_le32(VIRTIO_OM_MIG_F_LIVE);
		/* Away, the caller routes the move's messages (live.c). */
		if (s->p->role != OM_REMOTE)
			s->p->peer_node = dest;
		s->begun = true;
		err = om_send(s->p, VIRTIO_OM_T_MIG_BEGIN, 0, 0, kv, 2, NULL, 0, NULL);
	}
	if (!err)
		err = om_send_vmas(s);
	kfree(b);
	return err;
}

/**
 * om_move_cpu_check() - whether @dest's CPU can run the process
 * @p: its half at home
 * @dest: where it would go
 *
 * A refusal says why in the kernel log and in debug (cpu_lacks).
 * Return: 0 or -errno (om_cpu_check()).
 */
int om_move_cpu_check(struct om_proc *p, u32 dest)
{
	char why[sizeof(p->cpu_lacks)];
	int err = om_cpu_check(dest, why, sizeof(why));

	spin_lock(&p->lock);
	strscpy(p->cpu_lacks, why, sizeof(p->cpu_lacks));
	spin_unlock(&p->lock);
	if (err == -ENOEXEC)
		pr_info("omvm: pid %d stays: node %u's CPU lacks %s\n", p->home_pid, dest, why);
	return err;
}

static int om_may_leave(void)
{
	char *why = kmalloc(PAGE_SIZE, GFP_KERNEL);
	int n;

	if (!why)
		return -ENOMEM;
	n = om_stay_reasons(current, why, PAGE_SIZE);
	if (n)
		pr_debug("omvm: pid %d stays: %.*s", task_pid_nr(current), n, why);
	kfree(why);
	return n ? -EBUSY : 0;
}

static void om_live_go_on(struct om_proc *p);

static void om_move_work(struct callback_head *cb)
{
	struct om_proc *p = container_of(cb, struct om_proc, work);

	atomic_set(&p->work_queued, 0);
	/*
	 * The work's reference goes now: the deputy below, or om_go_home(),
	 * may never return (the process ends away, or runs at home). Until
	 * this task exits, the registry keeps its half alive.
	 */
	if (current->flags & PF_EXITING) {
		/* Pending task work also runs at exit: an exiting process goes nowhere. */
		om_proc_put(p);
		return;
	}
	/*
	 * Asked again while it was leaving: its deputy runs this (deputy.c),
	 * and a move of a process away is asked of it through COME_HOME.
	 */
	if (p->role == OM_DEPUTY) {
		om_proc_put(p);
		return;
	}
	/* Let it leave the vDSO first: ask again in a tick (the retry holds a ref). */
	if (om_arch_in_vdso(current_pt_regs())) {
		if (!schedule_delayed_work(&p->retry, 1))
			om_proc_put(p);
		return;
	}
	om_proc_put(p);
	if (p->live) {
		om_live_go_on(p);
		return;
	}
	if (p->role == OM_REMOTE) {
		u32 to = p->target;

		p->target = 0;
		/* Straight to another node away (hop.c, maybe live), or home. */
		if (to && to != p->home_node)
			p->last_error = om_move_away(p, to);
		else
			p->last_error = om_come_home(p);
		return;
	}
	om_move_on(p, p->target);
}

/**
 * om_move_on() - move the process at home to @target, and on from there
 * @p: its half at home
 * @target: where it goes (0 or this node: nowhere)
 *
 * Returns when the process runs here again and is to stay (it may have
 * come home and gone out again, as its deputy was asked).
 */
void om_move_on(struct om_proc *p, u32 target)
{
	int err;

	while (target && target != om_kcom_self()) {
		/* What holds it now, not only when the move was asked. */
		err = om_may_leave();
		if (!err)
			err = om_move_cpu_check(p, target);
		if (!err && om_live_wanted(p, target)) {
			err = om_live_start(p, target);
			p->last_error = err;
			/* Its rounds go on from the move's task work (om_live_go_on()). */
			if (!err)
				return;
			break;
		}
		if (!err)
			err = om_send_process(p, target, false);
		p->last_error = err;
		if (err)
			break;
		/* Back here when the process comes home, maybe to go on. */
		target = om_deputy_run(p);
	}
	p->target = 0;
}

/*
 * A slice of a live move's rounds, or its freeze; asked elsewhere
 * meanwhile, the move that was live ends and the new one begins.
 */
static void om_live_go_on(struct om_proc *p)
{
	u32 dest = om_live_dest(p);
	int err = om_live_step(p);

	if (!err)
		return;
	if (err == 1) {
		/* What holds it away never keeps it from home. */
		bool home = p->role == OM_REMOTE && dest == p->home_node;

		/* Asked elsewhere during its last slice: that move, not this one. */
		if (READ_ONCE(p->target) != dest)
			err = -ECANCELED;
		else
			err = home ? 0 : om_may_leave();
		if (!err)
			err = om_send_process(p, dest, home);
		else
			om_live_cancel(p, err, false);
		om_live_done(p, err);
		p->last_error = err;
		/* Away, this half ends; at home it is the process's deputy now. */
		if (!err && p->role == OM_REMOTE) {
			om_left_away(p);
			return;
		}
		if (!err) {
			om_move_on(p, om_deputy_run(p));
			return;
		}
	} else {
		p->last_error = err;
	}
	if (err == -ECANCELED && p->target && p->target != om_kcom_self()) {
		/* Away, the move asked now runs from its own task work. */
		if (p->role == OM_REMOTE)
			om_queue_move(p);
		else
			om_move_on(p, p->target);
		return;
	}
	p->target = 0;
}

/* Queue the move on @p's task, once; @notify: TWA_SIGNAL wakes a sleep, TWA_RESUME waits. */
static void om_queue_move_work(struct om_proc *p, enum task_work_notify_mode notify)
{
	if (atomic_cmpxchg(&p->work_queued, 0, 1))
		return;
	refcount_inc(&p->ref);
	init_task_work(&p->work, om_move_work);
	if (task_work_add(p->task, &p->work, notify)) {
		atomic_set(&p->work_queued, 0);
		om_proc_put(p);
	}
}

/**
 * om_back_after_call() - a process home for one call goes back after it
 * @p: its half at home, whose @back_node says where it was
 *
 * Called as the call starts: the move is queued to run as the call
 * returns to user mode, without interrupting it (it may sleep), and goes
 * only if no stay reason holds then (a call like execve may leave one).
 */
void om_back_after_call(struct om_proc *p)
{
	clear_task_syscall_work(current, OM);
	p->target = p->back_node;
	p->back_node = 0;
	om_queue_move_work(p, TWA_RESUME);
}

void om_move_retry(struct work_struct *work)
{
	struct om_proc *p = container_of(to_delayed_work(work), struct om_proc, retry);

	om_queue_move(p);
	om_proc_put(p);
}

/*
 * Move at the next return to user mode; the work holds a reference. Like
 * a signal, it interrupts an interruptible sleep: the call then restarts
 * where the process arrives, or ends as after a signal with SA_RESTART.
 */
void om_queue_move(struct om_proc *p)
{
	om_queue_move_work(p, TWA_SIGNAL);
}
