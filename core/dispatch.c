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

static inline uint64_t current_sp(void)
{
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

/* vfork-like child: shares memory, our stack and control block with its suspended
 * parent. It must not return through the parent's frame (that would restore T_SP to
 * above the parent's live frame): resume from a copy further down, with T_SP below it. */
static __attribute__((noreturn)) void vfork_child(struct tl_frame *f)
{
    struct tl_tcb *t = tl_self();
    struct tl_frame copy = *f;
    copy.rax = 0;
    copy.oldsp = (current_sp() - 512) & ~15ull;
    if (tl_sud_enable(t)) tl_die("cannot enable Syscall User Dispatch in a vfork child", 0, 0);
    tl_resume_frame(&copy);
}

/* f->via == TL_VIA_I386: an i386 clone/fork/vfork, made by int $0x80 (core/i386.c) */
static long do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp)
{
    long nr = (long)f->rax;
    int i386 = f->via == TL_VIA_I386;
    if ((flags & CLONE_VM) && child_sp) {
        tl_threads_pending(1);              /* before it exists: see tl_threads_alone */
        long r = i386 ? tl_clone_thread_i386(f, child_sp, flags) : tl_clone_thread(f, child_sp, flags);
        if (r < 0) tl_threads_pending(-1);
        if (flags & CLONE_VFORK) {
            /* the child has exec'd or exited: its control block, in our memory, goes */
            struct tl_tcb *self = tl_self(), *c = self->vfork_tcb;
            self->vfork_tcb = 0;
            if (c) {
                tl_stats_thread_release(c->slot);
                tl_tcb_unregister(c);
                tl_sys2(SYS_munmap, c->map_base, c->map_len);
            }
        }
        return r;
    }
    long r = i386 ? tl_int80_6(nr, (long)f->rbx, (long)f->rcx, (long)f->rdx, (long)f->rsi, (long)f->rdi, (long)f->rbp)
                  : tl_sys6(nr, f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9);
    if (r == 0) {
        if (flags & CLONE_VM) vfork_child(f);
        tl_after_fork_child();
    }
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
    if (tl_page0_call(nr, args, &p0)) return p0;
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
        tl_cov_exit((long)f->rdi);
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
long tl_do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp) { return do_clone(f, flags, child_sp); }

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
    if (f->via == TL_VIA_I386) return tl_dispatch_i386(f);
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
        /* a site in shared memory stays trapping until its mapping changes (it then
         * becomes stale and is learned again): no maps read per trap */
        int learn = !s || (s->state != TL_SITE_REWRITTEN && !(s->state == TL_SITE_TRAPPING && s->reason == TL_REASON_SHARED));
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
