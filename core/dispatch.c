/* The one dispatch point of the slow path: every call that arrives by trap, every call
 * from a rewritten site whose number the fast path hands over (tl_special, bad numbers,
 * or all of them while a user hook is loaded). Runs on our per-thread stack. */
#include "tl.h"
#include <sched.h>
#include <errno.h>
#include <asm/prctl.h>
#include <sys/mman.h>
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

uint8_t tl_special[TL_NR_MAX];

/* The calls the dispatch performs itself (see perform()): the fast path hands them to C,
 * and a hook that passes one on through api->syscall gets it performed here, after the
 * hook returns, never as a raw call. One list for both. */
static const short handled[] = {
    SYS_rt_sigreturn, SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_sigaltstack,
    SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_exit, SYS_exit_group,
    SYS_execve, SYS_execveat, SYS_wait4, SYS_prctl, SYS_arch_prctl,
    SYS_mprotect, SYS_pkey_mprotect, SYS_munmap, SYS_mmap, SYS_mremap, SYS_madvise,
    /* calls on address ranges that page 0 must answer as unmapped (core/page0.c) */
    SYS_msync, SYS_mincore, SYS_mlock, SYS_mlock2, SYS_munlock, SYS_shmat, 462 /* mseal */,
    SYS_seccomp, SYS_ptrace, SYS_waitid,
    SYS_rt_sigpending,
    /* seen so that our map of the address space stays true (lazy/vmmap.c) */
    SYS_shmdt,
};

static uint8_t handled_map[TL_NR_MAX];   /* handled[] by number: one load per hook call */

int tl_dispatch_handles(long nr)
{
    return (unsigned long)nr < TL_NR_MAX && handled_map[nr];
}

void tl_special_init(void)
{
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        _Static_assert(TL_NR_MAX > 462, "handled[] numbers fit the map");
        tl_special[handled[i]] = 1;
        handled_map[handled[i]] = 1;
    }
}

struct clone_args_ {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

HIDDEN void tl_resume_frame(struct tl_frame *f) __attribute__((noreturn));

/* The parent side of a CLONE_VFORK child, once it has exec'd or exited: its control
 * block (in our memory) and its statistics slot go. */
static void reap_vfork_child(void)
{
    struct tl_tcb *self = tl_self(), *c = self->vfork_tcb;
    self->vfork_tcb = 0;
    if (c) {
        tl_stats_thread_release(c->slot);
        tl_tcb_unregister(c);
        tl_sys2(SYS_munmap, c->map_base, c->map_len);
    }
}

/* A child sharing our memory on the parent's stack (vfork, or clone(CLONE_VM) without a
 * new stack). It shares nothing of ours it could corrupt: it gets a control block of its
 * own (SUD selector, statistics slot, per-thread state, stack), so its calls, a hook it
 * runs, its exit or exec leave the parent exactly as it was. Its C code here runs below
 * the parent's frames on our stack (the parent is suspended); it resumes the program
 * from a copy of the frame. */
static __attribute__((noreturn)) void vfork_child(struct tl_frame *f, uint64_t flags)
{
    struct tl_tcb *parent = tl_self();
    struct tl_frame copy = *f;
    copy.rax = 0;
    struct tl_tcb *t = tl_tcb_new();
    if (!t) tl_die("cannot allocate per-thread state for a vfork child", 0, 0);
    t->vfork_child = (flags & CLONE_VFORK) != 0;
    if (flags & CLONE_VFORK) {
        t->vfork_parent = parent;
        parent->vfork_tcb = t;          /* the parent frees it when it resumes */
    }
    /* what the kernel gives the child: the signal mask, %gs, the alternate stack */
    t->sigsys_blocked = parent->sigsys_blocked;
    t->app_gs = parent->app_gs;
    t->app_ss = parent->app_ss;
    tl_tcb_register(t);
    tl_sys2(SYS_arch_prctl, ARCH_SET_GS, t);
    if (t->app_ss.ss_flags & SS_DISABLE) {
        stack_t ss = { (void *)t->alt_lo, 0, t->alt_size };
        tl_sys2(SYS_sigaltstack, &ss, 0);
    }
    if (tl_sud_enable(t)) tl_die("cannot enable Syscall User Dispatch in a vfork child", 0, 0);
    tl_resume_frame(&copy);
}

#define TL_TASK_SIZE_MAX 0x7ffffffff000ull     /* 4-level paging: the kernel's TASK_SIZE_MAX */

/* clone/clone3/fork/vfork (f->via == TL_VIA_I386: made by int $0x80, core/i386.c). args3: for clone3, our checked copy of the program's struct
 * (size3 bytes), passed to the kernel in its place. */
static long do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp, uint8_t *args3, uint64_t size3)
{
    long nr = (long)f->rax;
    int i386 = f->via == TL_VIA_I386;
    if ((flags & CLONE_VM) && child_sp) {
        tl_threads_pending(1);              /* before it exists: see tl_threads_alone */
        long r = i386 ? tl_clone_thread_i386(f, child_sp, flags) : tl_clone_thread(f, child_sp, flags);
        if (r < 0) tl_threads_pending(-1);
        if (flags & CLONE_VFORK) reap_vfork_child();
        return r;
    }
    /* A fork, possibly onto a new stack. The child is a copy: it returns here, on its
     * copy of our stack, and resumes the program on the new stack from its frame. So the
     * kernel is asked for no stack switch. */
    long r;
    if (i386) {
        /* i386 clone (120): ecx is the new stack; clone3 (435): ecx is the struct's size */
        long ecx = (flags & CLONE_VM) || nr != 120 ? (long)f->rcx : 0;
        r = tl_int80_6(nr, (long)f->rbx, ecx, (long)f->rdx, (long)f->rsi, (long)f->rdi, (long)f->rbp);
    } else if (nr == SYS_clone3) {
        if (!(flags & CLONE_VM)) memset(args3 + 40, 0, 16);     /* stack, stack_size */
        r = tl_sys2(nr, (long)args3, (long)size3);
    } else {
        r = tl_sys6(nr, f->rdi, (flags & CLONE_VM) ? f->rsi : 0, f->rdx, f->r10, f->r8, f->r9);
    }
    if (r == 0) {
        if (flags & CLONE_VM) vfork_child(f, flags);
        tl_after_fork_child();
        if (child_sp) f->rsp = child_sp;
    } else if ((flags & (CLONE_VM | CLONE_VFORK)) == (CLONE_VM | CLONE_VFORK)) {
        reap_vfork_child();
    }
    return r;
}

/* clone3: the kernel's checks of the argument struct that come before a child exists,
 * made on a copy. 0: buf/size3 hold the struct to pass; else the call is left to the
 * kernel, which fails it the same way (bad size, unreadable, non-zero tail). */
static int clone3_copy(uint64_t uargs, uint64_t size, uint8_t *buf, uint64_t cap, uint64_t *size3)
{
    if (size < 64 || size > 4096) return -1;
    uint64_t n = size < cap ? size : cap;
    memset(buf, 0, cap);
    if (!tl_safe_read(uargs, buf, n)) return -1;
    for (uint64_t off = n; off < size;) {          /* a longer struct: its tail must be zero */
        uint8_t chunk[64];
        uint64_t k = size - off < sizeof chunk ? size - off : sizeof chunk;
        if (!tl_safe_read(uargs + off, chunk, k)) return -1;
        for (uint64_t i = 0; i < k; i++) if (chunk[i]) return -1;
        off += k;
    }
    *size3 = n;
    return 0;
}

/* A call that changes mappings, performed with our map of them kept true. */
static long mapping_call(struct tl_frame *f, const uint64_t args[6])
{
    tl_vm_begin();
    long r = tl_sys6((long)f->rax, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
    tl_vm_end((long)f->rax, args, r);
    return r;
}

/* Performs call f (possibly with arguments changed by a hook). *action = 1 asks the
 * assembly to perform rt_sigreturn on the program's stack. */
static long perform_call(struct tl_frame *f, int *action)
{
    long nr = (long)f->rax;
    struct tl_tcb *t;
    const uint64_t args[6] = { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 };
    long p0;
    if (tl_page0_call(nr, args, &p0)) {
        /* munmap/madvise/mremap over page 0 act on (or check) the part above it: rewritten
         * sites there are forgotten and our map of the address space re-read */
        if (nr == SYS_munmap || nr == SYS_madvise || nr == SYS_mremap) {
            if (args[1] > 4096) tl_jit_invalidate(4096, args[1] - 4096, 0);
            tl_vm_invalidate();
        }
        return p0;
    }
    switch (nr) {
    case SYS_rt_sigreturn:
        *action = 1;
        return 0;
    case SYS_rt_sigaction:       /* the kernel takes int sig, int how, int option: */
        return tl_virt_sigaction((long)(int)f->rdi, (void *)f->rsi, (void *)f->rdx, (long)f->r10);
    case SYS_rt_sigprocmask:
        return tl_virt_sigprocmask((long)(int)f->rdi, (void *)f->rsi, (void *)f->rdx, (long)f->r10);
    case SYS_execve:
    case SYS_execveat:
        return tl_exec(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8);
    case SYS_rt_sigpending:
        return tl_virt_sigpending((uint64_t *)f->rdi, (long)f->rsi);
    case SYS_sigaltstack:
        return tl_virt_sigaltstack((const stack_t *)f->rdi, (stack_t *)f->rsi);
    case SYS_clone:
        return do_clone(f, f->rdi, f->rsi, 0, 0);
    case SYS_clone3: {
        uint8_t buf[128];
        uint64_t size3;
        if (clone3_copy(f->rdi, f->rsi, buf, sizeof buf, &size3)) break;
        struct clone_args_ a;
        memcpy(&a, buf, sizeof a);
        /* the kernel's clone3_stack_valid(), before our fork path drops the stack */
        if (a.stack ? (!a.stack_size || a.stack + a.stack_size < a.stack || a.stack + a.stack_size > TL_TASK_SIZE_MAX)
                    : a.stack_size != 0)
            return -EINVAL;
        return do_clone(f, a.flags, a.stack ? a.stack + a.stack_size : 0, buf, size3);
    }
    case SYS_fork:
        return do_clone(f, 0, 0, 0, 0);
    case SYS_vfork:
        return do_clone(f, CLONE_VM | CLONE_VFORK, 0, 0, 0);
    case SYS_exit: {
        t = tl_self();
        if (t->vfork_parent) t->vfork_parent->vfork_tcb = 0;    /* it unmaps itself */
        tl_stats_thread_release(t->slot);
        tl_tcb_unregister(t);
        if (!tl_seccomp_allows(SYS_rt_sigprocmask, SIG_SETMASK, 0, 0) || !tl_seccomp_allows(SYS_munmap, 0, 0, 0))
            tl_sys1(SYS_exit, (long)f->rdi);      /* the program's seccomp: its state stays mapped */
        uint64_t all = ~0ull;
        tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
        tl_exit_thread(t->map_base, t->map_len, (long)f->rdi, SYS_exit);
    }
    case SYS_exit_group:
        t = tl_self();
        if (!t->vfork_child) tl_cov_exit((long)f->rdi);   /* a vfork child's status is not its parent's */
        tl_stats_thread_release(t->slot);
        t->slot = -1;
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
            if (r == 0 && si.si_pid && si.si_code == CLD_TRAPPED &&
                tl_ptrace_hide_stop(si.si_pid, (si.si_status << 8) | 0x7f)) continue;
            if (r == 0 && f->rdx && !tl_safe_write(f->rdx, &si, sizeof si)) return -EFAULT;
            return r;
        }
    case SYS_ptrace:
        return tl_ptrace_call((long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10);
    case SYS_mprotect:
    case SYS_pkey_mprotect: {
        if (f->rdx & PROT_WRITE) tl_jit_invalidate(f->rdi, f->rsi, 1);
        long r = mapping_call(f, args);
        if (r == 0 && (f->rdx & PROT_EXEC) && !(f->rdx & PROT_WRITE) && !tl_hook_loading) tl_plan_apply(f->rdi, f->rsi);
        return r;
    }
    case SYS_munmap:
        tl_jit_invalidate(f->rdi, f->rsi, 0);
        return mapping_call(f, args);
    case SYS_mmap: {
        if (f->r10 & (MAP_FIXED | MAP_FIXED_NOREPLACE)) tl_jit_invalidate(f->rdi, f->rsi, 0);
        long r = mapping_call(f, args);
        /* a file mapped executable (dlopen): its plan sites, if it has a plan */
        if ((unsigned long)r < -4096ul && (f->rdx & PROT_EXEC) && !(f->rdx & PROT_WRITE) && !(f->r10 & MAP_ANONYMOUS) && !tl_hook_loading)
            tl_plan_apply((uint64_t)r, f->rsi);
        return r;
    }
    case SYS_mremap:
        tl_jit_invalidate(f->rdi, f->rsi, 0);
        return mapping_call(f, args);
    case SYS_shmat:
    case SYS_shmdt:
        return mapping_call(f, args);
    case SYS_madvise:
        if (f->rdx == MADV_DONTNEED || f->rdx == MADV_REMOVE || f->rdx == MADV_FREE) tl_jit_invalidate(f->rdi, f->rsi, 0);
        if (f->rdx == MADV_DONTFORK || f->rdx == MADV_WIPEONFORK) return mapping_call(f, args);
        break;
    case SYS_prctl:
        if ((int)f->rdi == TL_PR_SET_SYSCALL_USER_DISPATCH)
            return tl_virt_sud((long)f->rsi, f->rdx, f->r10, f->r8);
        if ((int)f->rdi == 22 /* PR_SET_SECCOMP */)
            return tl_seccomp_call(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8);
        break;
    case SYS_seccomp:
        return tl_seccomp_call(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, 0, 0);
    case SYS_arch_prctl:
        /* %gs belongs to us; the program gets a virtual one */
        t = tl_self();
        if ((int)f->rdi == ARCH_SET_GS) {
            if (f->rsi >= TL_TASK_SIZE_MAX) return -EPERM;    /* as the kernel */
            t->app_gs = f->rsi;
            return 0;
        }
        if ((int)f->rdi == ARCH_GET_GS) return tl_safe_write(f->rsi, &t->app_gs, 8) ? 0 : -EFAULT;
        if ((int)f->rdi >= 0x2001 && (int)f->rdi <= 0x2003) {      /* ARCH_MAP_VDSO_*: a new vDSO */
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
    uint64_t *args[6] = { &f->rdi, &f->rsi, &f->rdx, &f->r10, &f->r8, &f->r9 };
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
    fr.rax = (uint64_t)nr; fr.rdi = (uint64_t)a1; fr.rsi = (uint64_t)a2; fr.rdx = (uint64_t)a3;
    fr.r10 = (uint64_t)a4; fr.r8 = (uint64_t)a5; fr.r9 = (uint64_t)a6;
    int action = 0;
    return perform(&fr, &action);
}

/* for the i386 calls (core/i386.c) */
long tl_perform_frame(struct tl_frame *f, int *action) { return perform(f, action); }
long tl_do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp) { return do_clone(f, flags, child_sp, 0, 0); }

/* Calls that need the program's own frame (a new stack, no return, or sigreturn): a hook
 * can only ask for them; they are performed after it returns. */
int tl_dispatch_needs_frame(long nr)
{
    return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork ||
           nr == SYS_exit || nr == SYS_rt_sigreturn;
}

long tl_dispatch(struct tl_frame *f)
{
    if (f->via == TL_VIA_NULLCALL) tl_raise_null_call(f);
    if (f->via == TL_VIA_I386) return tl_dispatch_i386(f);
    /* the kernel takes the number as a 32-bit int (upper bits ignored): decide, count
     * and show hooks the call it will really perform */
    f->rax = (uint64_t)(long)(int)f->rax;
    long nr = (long)f->rax;
    int via = (int)f->via;
    if (UNLIKELY(tl_hook_loading) && !tl_hook_program_site(f->ret - 2)) {
        /* the loader's or the hook's own call while the hook loads: performed (with our
         * handling of signal set-up and the like), neither counted nor rewritten */
        int action = 0;
        if (nr == SYS_execve || nr == SYS_execveat)      /* as the hook asked: its environment */
            f->rax = (uint64_t)tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
        else
            f->rax = (uint64_t)perform(f, &action);
        return action;
    }
    if (via == TL_VIA_TRAP) {
        /* a new site: one look-up in our map of the address space (lazy/vmmap.c) serves
         * its record (module), the policy (its plan entry) and its rewrite (protection) */
        uint64_t site = f->ret - 2;
        struct tl_site_rec *s = tl_cov_site(site, 0, 0);
        /* a site in shared memory stays trapping until its mapping changes (it then
         * becomes stale and is learned again): no maps read per trap */
        int learn = !s || (s->state != TL_SITE_REWRITTEN && !(s->state == TL_SITE_TRAPPING && s->reason == TL_REASON_SHARED));
        /* exit_group ends the process: rewriting its site (a map of the address space, an
         * mprotect pair) could only pay off if a hook suppressed the call. Without
         * statistics (no record to keep) it is not learned; it would be on its next trap. */
        if (nr == SYS_exit_group && !tl_stats) learn = 0;
        int pre = learn ? tl_rewrite_precheck(site) : TL_REASON_NONE;
        int refused = learn && pre == TL_REASON_NONE && tl_cfg.policy != TL_POLICY_ALL && tl_policy_refused(site);
        int try_rewrite = learn && pre == TL_REASON_NONE && !refused;
        struct tl_mapping m, *where = 0;
        if ((!s && tl_stats) || try_rewrite) where = tl_vm_find(site, &m) == 0 ? &m : 0;
        if (try_rewrite && tl_cfg.policy != TL_POLICY_ALL &&
            !(tl_cfg.policy == TL_POLICY_VERIFIED && tl_plan_source(site, where) == 2)) {
            /* not a scanner-confirmed site: the policy keeps it on the trap path */
            try_rewrite = 0;
            refused = 1;
            tl_policy_refuse(site);
            if (tl_stats) __atomic_add_fetch(&tl_stats->policy_refused, 1, __ATOMIC_RELAXED);
        }
        if (!s) s = tl_cov_site(site, 1, where);
        if (s) __atomic_add_fetch(&s->trap_hits, 1, __ATOMIC_RELAXED);
        tl_cov_nr(s, (long)(int)f->rax);
        if (learn) {
            int why = try_rewrite ? tl_rewrite_site(site, tl_cov_fast_counter(s, nr), where) : refused ? TL_REASON_POLICY : pre;
            tl_cov_state(s, why == TL_REASON_NONE ? TL_SITE_REWRITTEN : TL_SITE_TRAPPING, why);
        }
    } else if (via == TL_VIA_FAST && tl_stats) {
        tl_cov_nr(tl_cov_site(f->ret - 2, 0, 0), (long)(int)f->rax);
    }
    if (UNLIKELY(tl_self()->app_sud_on) && tl_app_sud_check(f)) return 0;
    int action = 0;
    long ret;
    tl_count_slow(nr, via);
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
