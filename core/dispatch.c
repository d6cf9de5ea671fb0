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
    SYS_rt_sigpending,
};

int tl_dispatch_handles(long nr)
{
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) if (handled[i] == nr) return 1;
    return 0;
}

void tl_special_init(void)
{
    for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) tl_special[handled[i]] = 1;
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

static long do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp)
{
    long nr = (long)f->rax;
    if ((flags & CLONE_VM) && child_sp) {
        tl_threads_pending(1);              /* before it exists: see tl_threads_alone */
        long r = tl_clone_thread(f, child_sp, flags);
        if (r < 0) tl_threads_pending(-1);
        if (flags & CLONE_VFORK) reap_vfork_child();
        return r;
    }
    long r = tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
    if (r == 0) {
        if (flags & CLONE_VM) vfork_child(f, flags);
        tl_after_fork_child();
    } else if ((flags & (CLONE_VM | CLONE_VFORK)) == (CLONE_VM | CLONE_VFORK)) {
        reap_vfork_child();
    }
    return r;
}

/* Performs call f (possibly with arguments changed by a hook). *action = 1 asks the
 * assembly to perform rt_sigreturn on the program's stack. */
static long perform(struct tl_frame *f, int *action)
{
    long nr = (long)f->rax;
    struct tl_tcb *t;
    switch (nr) {
    case SYS_rt_sigreturn:
        *action = 1;
        return 0;
    case SYS_rt_sigaction:
        return tl_virt_sigaction((long)f->rdi, (void *)f->rsi, (void *)f->rdx, (long)f->r10);
    case SYS_rt_sigprocmask:
        return tl_virt_sigprocmask((long)f->rdi, (void *)f->rsi, (void *)f->rdx, (long)f->r10);
    case SYS_execve:
    case SYS_execveat:
        return tl_exec(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8);
    case SYS_rt_sigpending:
        return tl_virt_sigpending((uint64_t *)f->rdi, (long)f->rsi);
    case SYS_sigaltstack:
        return tl_virt_sigaltstack((const stack_t *)f->rdi, (stack_t *)f->rsi);
    case SYS_clone:
        return do_clone(f, f->rdi, f->rsi);
    case SYS_clone3: {
        struct clone_args_ a;
        if (f->rsi < 64) return -EINVAL;
        memcpy(&a, (void *)f->rdi, sizeof a);
        return do_clone(f, a.flags, a.stack ? a.stack + a.stack_size : 0);
    }
    case SYS_fork:
        return do_clone(f, 0, 0);
    case SYS_vfork:
        return do_clone(f, CLONE_VM | CLONE_VFORK, 0);
    case SYS_exit: {
        t = tl_self();
        if (t->vfork_parent) t->vfork_parent->vfork_tcb = 0;    /* it unmaps itself */
        tl_stats_thread_release(t->slot);
        tl_tcb_unregister(t);
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
    case SYS_wait4: {
        long r = tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
        int st;
        if (r > 0 && f->rsi) { memcpy(&st, (void *)f->rsi, sizeof st); tl_cov_reaped(r, st); }
        return r;
    }
    case SYS_mprotect:
    case SYS_pkey_mprotect: {
        if (f->rdx & PROT_WRITE) tl_jit_invalidate(f->rdi, f->rsi, 1);
        long r = tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
        if (r == 0 && (f->rdx & PROT_EXEC) && !(f->rdx & PROT_WRITE)) tl_plan_apply(f->rdi, f->rsi);
        return r;
    }
    case SYS_munmap:
        tl_jit_invalidate(f->rdi, f->rsi, 0);
        break;
    case SYS_mmap: {
        if (f->r10 & (MAP_FIXED | MAP_FIXED_NOREPLACE)) tl_jit_invalidate(f->rdi, f->rsi, 0);
        long r = tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
        /* a file mapped executable (dlopen): its plan sites, if it has a plan */
        if ((unsigned long)r < -4096ul && (f->rdx & PROT_EXEC) && !(f->rdx & PROT_WRITE) && !(f->r10 & MAP_ANONYMOUS))
            tl_plan_apply((uint64_t)r, f->rsi);
        return r;
    }
    case SYS_mremap:
        tl_jit_invalidate(f->rdi, f->rsi, 0);
        break;
    case SYS_madvise:
        if (f->rdx == MADV_DONTNEED || f->rdx == MADV_REMOVE || f->rdx == MADV_FREE) tl_jit_invalidate(f->rdi, f->rsi, 0);
        break;
    case SYS_prctl:
        if (f->rdi == 59 /* PR_SET_SYSCALL_USER_DISPATCH */)
            return tl_virt_sud((long)f->rsi, f->rdx, f->r10, f->r8);
        break;
    case SYS_arch_prctl:
        /* %gs belongs to us; the program gets a virtual one */
        t = tl_self();
        if (f->rdi == ARCH_SET_GS) { t->app_gs = f->rsi; return 0; }
        if (f->rdi == ARCH_GET_GS) { *(uint64_t *)f->rsi = t->app_gs; return 0; }
        break;
    }
    return tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
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

/* Calls that need the program's own frame (a new stack, no return, or sigreturn): a hook
 * can only ask for them; they are performed after it returns. */
int tl_dispatch_needs_frame(long nr)
{
    return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork ||
           nr == SYS_exit || nr == SYS_rt_sigreturn;
}

long tl_dispatch(struct tl_frame *f)
{
    if (f->via == 2) tl_raise_null_call(f);
    /* the kernel takes the number as a 32-bit int (upper bits ignored): decide, count
     * and show hooks the call it will really perform */
    f->rax = (uint64_t)(long)(int)f->rax;
    long nr = (long)f->rax;
    int via = (int)f->via;
    if (via == 0) {
        /* a new site: one read of /proc/self/maps serves its record (module), the policy
         * (its plan entry) and its rewrite (page protection) */
        uint64_t site = f->ret - 2;
        struct tl_site_rec *s = tl_cov_site(site, 0, 0);
        int learn = !s || s->state != TL_SITE_REWRITTEN;
        int pre = learn ? tl_rewrite_precheck(site) : TL_REASON_NONE;
        int refused = learn && pre == TL_REASON_NONE && tl_cfg.policy != TL_POLICY_ALL && tl_policy_refused(site);
        int try_rewrite = learn && pre == TL_REASON_NONE && !refused;
        struct tl_mapping m, *where = 0;
        if ((!s && tl_stats) || try_rewrite) where = tl_maps_find(site, &m) == 0 ? &m : 0;
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
    } else if (via == 1 && tl_stats) {
        tl_cov_nr(tl_cov_site(f->ret - 2, 0, 0), (long)(int)f->rax);
    }
    if (UNLIKELY(tl_self()->app_sud_on) && tl_app_sud_check(f)) return 0;
    int action = 0;
    long ret;
    tl_count_slow(nr, via);
    if (tl_hook_loaded) {
        int pass = 0;
        ret = tl_hook_call(f, &pass);
        if (pass) ret = perform(f, &action);
    } else {
        ret = perform(f, &action);
    }
    if (ret < 0 && ret > -4096) tl_count_error(nr);
    f->rax = (uint64_t)ret;
    return action;
}
