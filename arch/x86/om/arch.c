// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86_64 parts of the omvm engine: registers, FPU/vector state, TLS bases,
 * the vDSO and system call arguments, as the generic engine in kernel/om
 * asks for them (kernel/om/om.h).
 */
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/sched/task_stack.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/regset.h>
#include <asm/fpu/types.h>
#include <asm/fsgsbase.h>
#include <asm/prctl.h>
#include <asm/processor-flags.h>
#include <asm/proto.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/syscall.h>
#include <asm/vdso.h>

#include "om.h"

/* The xstate functions that take a kernel buffer live in fpu's own headers. */
#include "../../kernel/fpu/internal.h"
#include "../../kernel/fpu/xstate.h"

/* The flags a process may set itself (as ptrace allows). */
#define OM_USER_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
		       X86_EFLAGS_SF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_OF | \
		       X86_EFLAGS_RF | X86_EFLAGS_AC | X86_EFLAGS_NT)

const char *om_arch_name(void)
{
	return "x86_64";
}

u32 om_arch_id(void)
{
	return VIRTIO_OM_ARCH_X86_64;
}

size_t om_arch_xstate_size(void)
{
	return cpu_feature_enabled(X86_FEATURE_XSAVE) ? fpu_user_cfg.max_size : 0;
}

int om_arch_save(struct virtio_om_mig_begin *b, void *xstate, size_t size)
{
	struct pt_regs *regs = current_pt_regs();
	struct virtio_om_regs_x86_64 *r = &b->regs;
	struct xregs_state *xs = xstate;

	if (size != om_arch_xstate_size() || !size)
		return -EOPNOTSUPP;
	r->r15 = cpu_to_le64(regs->r15);
	r->r14 = cpu_to_le64(regs->r14);
	r->r13 = cpu_to_le64(regs->r13);
	r->r12 = cpu_to_le64(regs->r12);
	r->bp = cpu_to_le64(regs->bp);
	r->bx = cpu_to_le64(regs->bx);
	r->r11 = cpu_to_le64(regs->r11);
	r->r10 = cpu_to_le64(regs->r10);
	r->r9 = cpu_to_le64(regs->r9);
	r->r8 = cpu_to_le64(regs->r8);
	r->ax = cpu_to_le64(regs->ax);
	r->cx = cpu_to_le64(regs->cx);
	r->dx = cpu_to_le64(regs->dx);
	r->si = cpu_to_le64(regs->si);
	r->di = cpu_to_le64(regs->di);
	/* With ax, whether and how a call it was in restarts (signal code). */
	r->orig_ax = cpu_to_le64(regs->orig_ax);
	r->ip = cpu_to_le64(regs->ip);
	r->cs = cpu_to_le64(regs->cs);
	r->flags = cpu_to_le64(regs->flags);
	r->sp = cpu_to_le64(regs->sp);
	r->ss = cpu_to_le64(regs->ss);
	r->fs_base = cpu_to_le64(x86_fsbase_read_task(current));
	r->gs_base = cpu_to_le64(x86_gsbase_read_task(current));

	/* The same path ptrace's PTRACE_GETREGSET takes, XSAVE layout. */
	memset(xstate, 0, size);
	xstateregs_get(current, NULL, (struct membuf){ .p = xstate, .left = size });
	b->xfeatures = cpu_to_le64(xs->header.xfeatures);
	b->xstate_size = cpu_to_le32(size);
	return 0;
}

static bool om_user_addr(u64 a)
{
	return a < TASK_SIZE_MAX;
}

int om_arch_restore(const struct virtio_om_mig_begin *b, const void *xstate, size_t size)
{
	const struct virtio_om_regs_x86_64 *r = &b->regs;
	struct pt_regs *regs = current_pt_regs();
	struct fpu *fpu = &current->thread.fpu;
	u64 fs = le64_to_cpu(r->fs_base), gs = le64_to_cpu(r->gs_base);
	long orig_ax;
	int err;

	if (size != om_arch_xstate_size() || !size)
		return -EOPNOTSUPP;
	if (!om_user_addr(fs) || !om_user_addr(gs) || !om_user_addr(le64_to_cpu(r->ip)))
		return -EINVAL;

	/*
	 * The registers are not live while TIF_NEED_FPU_LOAD is set: write the
	 * saved state and make sure it is what returns to user mode.
	 */
	fpregs_lock();
	if (!test_thread_flag(TIF_NEED_FPU_LOAD))
		set_thread_flag(TIF_NEED_FPU_LOAD);
	fpu->last_cpu = -1;
	fpregs_unlock();
	err = copy_uabi_from_kernel_to_xstate(fpu->fpstate, xstate, &current->thread.pkru);
	if (err)
		return err;

	regs->r15 = le64_to_cpu(r->r15);
	regs->r14 = le64_to_cpu(r->r14);
	regs->r13 = le64_to_cpu(r->r13);
	regs->r12 = le64_to_cpu(r->r12);
	regs->bp = le64_to_cpu(r->bp);
	regs->bx = le64_to_cpu(r->bx);
	regs->r11 = le64_to_cpu(r->r11);
	regs->r10 = le64_to_cpu(r->r10);
	regs->r9 = le64_to_cpu(r->r9);
	regs->r8 = le64_to_cpu(r->r8);
	regs->ax = le64_to_cpu(r->ax);
	regs->cx = le64_to_cpu(r->cx);
	regs->dx = le64_to_cpu(r->dx);
	regs->si = le64_to_cpu(r->si);
	regs->di = le64_to_cpu(r->di);
	regs->ip = le64_to_cpu(r->ip);
	regs->sp = le64_to_cpu(r->sp);
	/*
	 * Inside the call it was in, if any, so that the signal code restarts
	 * or ends it here as it would have there (om_carry_finish()).
	 */
	orig_ax = le64_to_cpu(r->orig_ax);
	regs->orig_ax = orig_ax >= 0 && orig_ax < NR_syscalls ? orig_ax : -1;
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	regs->flags = (le64_to_cpu(r->flags) & OM_USER_FLAGS) | X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	/* arch_prctl's own path: it loads the bases into the CPU for current. */
	err = do_arch_prctl_64(current, ARCH_SET_FS, fs);
	if (!err)
		err = do_arch_prctl_64(current, ARCH_SET_GS, gs);
	return err;
}

int om_arch_map_vdso(unsigned long addr)
{
	/* map_vdso_once() takes the start of vvar, which precedes the text. */
	return map_vdso_once(&vdso_image_64, addr + vdso_image_64.sym_vvar_start);
}

bool om_arch_is_vdso(struct vm_area_struct *vma)
{
	return vma->vm_mm->context.vdso &&
	       vma->vm_start == (unsigned long)vma->vm_mm->context.vdso;
}

/*
 * In the vDSO, a clock read may have chosen its path by the time namespace
 * it runs in (and hold pointers into vvar): it must not resume elsewhere.
 */
bool om_arch_in_vdso(const struct pt_regs *regs)
{
	unsigned long text = (unsigned long)current->mm->context.vdso;

	return text && regs->ip >= text && regs->ip < text + vdso_image_64.size;
}

bool om_arch_is_vvar(struct vm_area_struct *vma)
{
	unsigned long text = (unsigned long)vma->vm_mm->context.vdso;

	return text && vma->vm_end == text && (vma->vm_flags & VM_PFNMAP);
}

/* What x86 state the engine does not carry: an LDT, protection keys. */
const char *om_arch_stay_reason(struct task_struct *task)
{
	const char *why = NULL;
	struct mm_struct *mm = get_task_mm(task);

	if (!mm)
		return NULL;
#ifdef CONFIG_MODIFY_LDT_SYSCALL
	if (READ_ONCE(mm->context.ldt))
		why = "a local descriptor table (modify_ldt)";
#endif
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	if (mm->context.pkey_allocation_map != 1)
		why = "memory protection keys (pkey_alloc)";
#endif
	mmput(mm);
	return why;
}

void om_arch_syscall_args(const struct pt_regs *regs, unsigned long args[6])
{
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
}

long om_arch_syscall_run(const struct pt_regs *frozen, long nr, const unsigned long args[6])
{
	struct pt_regs regs = *frozen;

	if (nr < 0 || nr >= NR_syscalls)
		return -EINVAL;
	regs.orig_ax = nr;
	regs.di = args[0];
	regs.si = args[1];
	regs.dx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	return x64_sys_call(&regs, nr);
}

void om_arch_redo_syscall(struct pt_regs *regs)
{
	/* As the signal code restarts a call: back over the 2-byte syscall. */
	regs->ax = regs->orig_ax;
	regs->ip -= 2;
}
