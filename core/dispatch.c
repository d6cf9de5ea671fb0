/* The one dispatch point of the slow path: every call that arrives by trap, every call
 * from a rewritten site whose number the fast path hands over (tl_special, bad numbers,
 * or all of them while a user hook is loaded). Runs on our per-thread stack. */
#include "core/core.h"
#include <sched.h>
#include <errno.h>
#include <sys/wait.h>
#include <asm/prctl.h>
#include <sys/mman.h>

uint8_t tl_special[TL_NR_MAX];
struct tl_upcalls tl_up;

/* The calls the dispatch performs itself (see perform()): the fast path hands them to C,
 * and a hook that passes one on through api->syscall gets it performed here, after the
 * hook returns, never as a raw call. One list for both. */
static const short handled[] = {
    SYS_rt_sigreturn,
    SYS_rt_sigaction,
    SYS_rt_sigprocmask,
    SYS_sigaltstack,
    SYS_clone,
    SYS_clone3,
    SYS_fork,
    SYS_vfork,
    SYS_exit,
    SYS_exit_group,
    SYS_execve,
    SYS_execveat,
    SYS_wait4,
    SYS_prctl,
    SYS_arch_prctl,
    SYS_mprotect,
    SYS_pkey_mprotect,
    SYS_munmap,
    SYS_mmap,
    SYS_mremap,
    SYS_madvise,
    /* calls on address ranges that page 0 must answer as unmapped (core/page0.c) */
    SYS_msync,
    SYS_mincore,
    SYS_mlock,
    SYS_mlock2,
    SYS_munlock,
    SYS_shmat,
    TL_NR_MSEAL,
    SYS_seccomp,
    SYS_ptrace,
    SYS_waitid,
    SYS_rt_sigpending,
    /* seen so that our map of the address space stays true (core/vmmap.c) */
    SYS_shmdt,
    /* answered as if rewriting had not registered for SYNC_CORE (lazy/rewrite.c) */
    SYS_membarrier,
};

uint8_t tl_handled_map[TL_NR_MAX]; /* handled[] by number: one load per hook call */

void tl_special_init(void)
{
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        _Static_assert(TL_NR_MAX > TL_NR_MSEAL, "handled[] numbers fit the map");
        tl_special[handled[i]] = TL_SPECIAL_C;
        tl_handled_map[handled[i]] = 1;
    }
}

/* Where the slow path would put its next frame for a thread at rsp: the C twin of the
 * SLOW macro in core/entry.S (below rsp on our stack; else below the live frame a
 * reservation keeps, dropping those that no longer hold; else the top). For a frame built
 * in a signal handler (sud/i386.c). */
uint64_t tl_frame_top(struct tl_tcb *t, uint64_t rsp)
{
    if (rsp - t->stk_lo < TL_STACK_SIZE) return rsp - TL_STACK_SKIP;
    while (t->res_n) {
        const struct tl_res *r = &t->res[t->res_n - 1];
        if (rsp < r->h && rsp >= r->lo) return r->sp;
        t->res_n--;
    }
    return t->stk_hi;
}

/* A call that changes mappings, performed with our map of them kept true (and the
 * policies' view of which module a site is in, core/policy.c). */
static long mapping_call(struct tl_frame *f, const uint64_t args[6])
{
    tl_vm_begin();
    long r = tl_sys6((long)f->rax, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
    tl_vm_end((long)f->rax, args, r);
    /* code may have gone from an address: policies look its sites up again */
    if (UNLIKELY(tl_policy_on) &&
        (f->rax == SYS_munmap || f->rax == SYS_mremap || f->rax == SYS_shmdt || f->rax == SYS_shmat ||
         (f->rax == SYS_mmap && (f->r10 & (MAP_FIXED | TL_MAP_FIXED_NOREPLACE)))))
        tl_policy_code_changed();
    return r;
}

/* Performs call f (possibly with arguments changed by a hook). *action = TL_ACT_SIGRETURN
 * asks the assembly to perform rt_sigreturn on the program's stack. */
static long perform_call(struct tl_frame *f, int *action)
{
    long nr = (long)f->rax;
    struct tl_tcb *t;
    const uint64_t args[6] = {f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9};
    long p0;
    if (tl_page0_call(nr, args, &p0)) {
        /* munmap/madvise/mremap over page 0 act on (or check) the part above it: rewritten
         * sites there are forgotten and our map of the address space re-read */
        if (nr == SYS_munmap || nr == SYS_madvise || nr == SYS_mremap) {
            if (args[1] > 4096) tl_up.code_changing(4096, args[1] - 4096, 0);
            tl_vm_invalidate();
        }
        return p0;
    }
    long r;
    if (LIKELY((unsigned long)nr < TL_NR_MAX) && tl_handled_map[nr] && tl_up.emulate(f, &r, action)) return r;
    switch (nr) {
    case SYS_rt_sigreturn: *action = TL_ACT_SIGRETURN; return 0;
    case SYS_exit_group:
        t = tl_self();
        if (!t->vfork_child) tl_cov_exit((long)f->rdi); /* a vfork child's status is not its parent's */
        tl_stats_fold_private();
        tl_stats_thread_release(t);
        if (tl_policy_on) tl_policy_process_exit();
        break;
    case SYS_wait4:
        for (;;) {
            /* the status in our memory first: a stop our SUD caused in an interposed
             * tracee is resumed and not reported (core/ptrace.c) */
            int st = 0;
            long r = tl_sys6(nr, f->rdi, (long)&st, f->rdx, f->r10, f->r8, f->r9);
            if (r > 0 && tl_ptrace_hide_stop(r, st)) continue;
            if (r > 0) tl_cov_reaped(r, st);
            if (r > 0 && f->rsi && !tl_safe_write(f->rsi, &st, sizeof st)) return -EFAULT;
            return r;
        }
    case SYS_waitid:
        for (;;) {
            /* as wait4: the siginfo in our memory first (a NULL infop is allowed) */
            siginfo_t si;
            memset(&si, 0, sizeof si);
            long r = tl_sys6(nr, f->rdi, f->rsi, (long)&si, f->r10, f->r8, f->r9);
            if (r == 0 && si.si_pid && si.si_code == CLD_TRAPPED && tl_ptrace_hide_stop(si.si_pid, W_STOPCODE(si.si_status)))
                continue;
            if (r == 0 && f->rdx && !tl_safe_write(f->rdx, &si, sizeof si)) return -EFAULT;
            return r;
        }
    case SYS_ptrace: return tl_ptrace_call((long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10);
    case SYS_mprotect:
    case SYS_pkey_mprotect: {
        if (f->rdx & PROT_WRITE) tl_up.code_changing(f->rdi, f->rsi, 1);
        long r = mapping_call(f, args);
        if (r == 0 && (f->rdx & PROT_EXEC) && !(f->rdx & PROT_WRITE) && !tl_hook_loading) tl_up.code_mapped(f->rdi, f->rsi);
        return r;
    }
    case SYS_munmap: tl_up.code_changing(f->rdi, f->rsi, 0); return mapping_call(f, args);
    case SYS_mmap: {
        if (f->r10 & (MAP_FIXED | TL_MAP_FIXED_NOREPLACE)) tl_up.code_changing(f->rdi, f->rsi, 0);
        long r = mapping_call(f, args);
        /* a file mapped executable (dlopen): its plan sites, if it has a plan */
        if ((unsigned long)r < -4096ul && (f->rdx & PROT_EXEC) && !(f->rdx & PROT_WRITE) && !(f->r10 & MAP_ANONYMOUS) &&
            !tl_hook_loading)
            tl_up.code_mapped((uint64_t)r, f->rsi);
        return r;
    }
    case SYS_mremap: tl_up.code_changing(f->rdi, f->rsi, 0); return mapping_call(f, args);
    case SYS_shmat:
    case SYS_shmdt: return mapping_call(f, args);
    case SYS_madvise:
        if (f->rdx == MADV_DONTNEED || f->rdx == MADV_REMOVE || f->rdx == MADV_FREE) tl_up.code_changing(f->rdi, f->rsi, 0);
        if (f->rdx == MADV_DONTFORK || f->rdx == MADV_WIPEONFORK) return mapping_call(f, args);
        break;
    case SYS_prctl:
        if ((int)f->rdi == TL_PR_SET_SECCOMP)
            return tl_seccomp_call(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8);
        break;
    case SYS_seccomp: return tl_seccomp_call(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, 0, 0);
    case SYS_arch_prctl:
        /* %gs belongs to us; the program gets a virtual one */
        t = tl_self();
        if ((int)f->rdi == ARCH_SET_GS) {
            if (f->rsi >= TL_TASK_SIZE_MAX) return -EPERM; /* as the kernel */
            t->app_gs = f->rsi;
            return 0;
        }
        if ((int)f->rdi == ARCH_GET_GS) return tl_safe_write(f->rsi, &t->app_gs, 8) ? 0 : -EFAULT;
        if ((int)f->rdi == TL_ARCH_SHSTK_ENABLE && (f->rsi & TL_ARCH_SHSTK_SHSTK) && tl_zero_mapped) {
            /* the rewriting mode returns from its entries by jump, which a user shadow
             * stack does not allow: the program runs without one, as on a kernel or CPU
             * without them (glibc goes on without it; sud-only mode keeps it), said once */
            static int said;
            if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED) && !tl_cfg.quiet)
                tl_error("note: the program asked for a user shadow stack, which trapline's rewriting mode cannot keep;",
                         "it runs without one (in sud-only mode it keeps it)", 0);
            return -EINVAL;
        }
        if ((int)f->rdi >= TL_ARCH_MAP_VDSO_X32 && (int)f->rdi <= TL_ARCH_MAP_VDSO_64) { /* a new vDSO */
            long r = tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
            tl_vm_invalidate();
            return r;
        }
        break;
    }
    return tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
}

/* perform_call, with pointer arguments into a readable page 0 made to fault as natively
 * for the call only (core/nullargs.c; the program's registers are kept). */
static long perform(struct tl_frame *f, int *action)
{
    uint64_t *args[6] = {&f->rdi, &f->rsi, &f->rdx, &f->r10, &f->r8, &f->r9};
    uint64_t saved[6];
    unsigned fixed = tl_nullargs_fix((long)f->rax, args, saved);
    long r = perform_call(f, action);
    if (fixed) tl_nullargs_restore(args, saved, fixed);
    return r;
}

/* A handled call that does not need the program's frame, with a hook's arguments:
 * performed now, through the same code, its real result returned to the hook. */
long tl_perform_args(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    struct tl_frame fr;
    memset(&fr, 0, sizeof fr);
    fr.rax = (uint64_t)nr;
    fr.rdi = (uint64_t)a1;
    fr.rsi = (uint64_t)a2;
    fr.rdx = (uint64_t)a3;
    fr.r10 = (uint64_t)a4;
    fr.r8 = (uint64_t)a5;
    fr.r9 = (uint64_t)a6;
    int action = TL_ACT_RESUME;
    return perform(&fr, &action);
}

/* for the i386 calls (sud/i386.c) and the hook path (core/hooks.c) */
long tl_perform_frame(struct tl_frame *f, int *action) { return perform(f, action); }

/* Calls that need the program's own frame (a new stack, no return, or sigreturn): a hook
 * can only ask for them; they are performed after it returns. All are in handled[]:
 * next_common (core/hooks.c) looks here only for a number tl_dispatch_handles. */
int tl_dispatch_needs_frame(long nr)
{
    return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork || nr == SYS_exit || nr == SYS_rt_sigreturn;
}

long tl_dispatch(struct tl_frame *f)
{
    if (f->via == TL_VIA_NULLCALL) tl_up.null_call(f);
    if (UNLIKELY(f->rax == SYS_arch_prctl) && (int)f->rdi == TL_PROBE_PRESENT) {
        f->rax = (uint64_t)TL_PROBE_MAGIC; /* a second copy of trapline asking: not the program's */
        return 0;
    }
    /* the kernel takes the number as a 32-bit int (upper bits ignored): decide, count
     * and show hooks the call it will really perform */
    f->rax = (uint64_t)(long)(int)f->rax;
    long nr = (long)f->rax;
    int via = (int)f->via;
    if (UNLIKELY(tl_hook_loading) && !tl_hook_program_site(f->ret - 2) && !tl_hook_program_call(f)) {
        /* the loader's or the hook's own call while the hook loads: performed (with our
         * handling of signal set-up and the like), neither counted nor rewritten */
        int action = TL_ACT_RESUME;
        if (nr == SYS_execve || nr == SYS_execveat) /* as the hook asked: its environment */
            f->rax = (uint64_t)tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
        else
            f->rax = (uint64_t)perform(f, &action);
        return action;
    }
    if (via == TL_VIA_TRAP) {
        tl_up.learn(f, nr);
    } else if (UNLIKELY(tl_cov_loader_phase) && via == TL_VIA_FAST) {
        tl_cov_loader_call(f->ret - 2);
        if (tl_stats) tl_cov_nr(tl_cov_site(f->ret - 2, 0, 0), (long)(int)f->rax);
    } else if (via == TL_VIA_FAST && tl_stats) {
        tl_cov_nr(tl_cov_site(f->ret - 2, 0, 0), (long)(int)f->rax);
    }
    if (UNLIKELY(tl_self()->app_sud_on) && tl_up.app_sud_check(f)) return 0;
    int action = TL_ACT_RESUME;
    long ret;
    tl_count_slow(nr, via);
    /* a number some rule selects: its policy, the hook and the call (core/policy.c) */
    if (UNLIKELY(tl_policy_on) && (unsigned long)nr < TL_NR_MAX && tl_policy_rules_of[nr] && tl_policy_call(f, &ret, &action)) {
        if (ret < 0 && ret > -4096) tl_count_error(nr);
        f->rax = (uint64_t)ret;
        return action;
    }
    if (tl_hook_loaded) {
        int pass = 0;
        ret = tl_hook_call(f, &pass);
        /* the hook's own calls ran unseen (SUD allowed them): mappings may have changed */
        if (!tl_vm_suspect) __atomic_store_n(&tl_vm_suspect, 1, __ATOMIC_RELAXED);
        if (pass) ret = perform(f, &action);
    } else {
        ret = perform(f, &action);
    }
    if (ret < 0 && ret > -4096) tl_count_error(nr);
    f->rax = (uint64_t)ret;
    return action;
}
