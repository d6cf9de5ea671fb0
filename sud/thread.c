/* Per-thread state: control block + our stack in one mapping, %gs pointing at it, and
 * Syscall User Dispatch switched on for the thread. SUD is not inherited by threads or
 * fork children and is cleared by execve: every new task passes through here before it
 * runs an instruction of the program. */
#include "sud/sud.h"
#include <sys/mman.h>
#include <sys/prctl.h>
#include <asm/prctl.h>


/* one mapping: [guard][signal stack][guard][stack][control block] */
static size_t tcb_len(void)
{
    size_t tcb_sz = (sizeof(struct tl_tcb) + 4095) & ~4095ul;
    return 4096 + TL_ALTSTACK_SIZE + 4096 + TL_STACK_SIZE + tcb_sz;
}

static uint64_t reserved; /* the main thread's, taken by its tl_tcb_new */

/* Start-up: the main thread's block, from the arena of large private tables (no mapping
 * of its own), preceded by `none` bytes left PROT_NONE for the caller (core/nullargs.c's
 * stand-in for page 0) that the same call that makes the first guard page sets. Two
 * mprotect calls in all. Returns the address of those bytes (or of the block if none),
 * 0 if out of memory. */
uint64_t tl_tcb_reserve(uint64_t none)
{
    size_t len = tcb_len();
    uint64_t p = (uint64_t)tl_alloc_big(none + len);
    if (!p) return 0;
    if (tl_sys3(SYS_mprotect, p, none + 4096, PROT_NONE) ||
        tl_sys3(SYS_mprotect, p + none + 4096 + TL_ALTSTACK_SIZE, 4096, PROT_NONE))
        return 0;
    reserved = p + none;
    return p;
}

struct tl_tcb *tl_tcb_new(void)
{
    size_t tcb_sz = (sizeof(struct tl_tcb) + 4095) & ~4095ul;
    size_t len = tcb_len();
    long p = (long)reserved;
    if (p)
        reserved = 0; /* guard pages already in place */
    else {
        p = tl_sys6(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p < 0 && p > -4096) return NULL;
        /* the guard pages: a stack that overflows must fault, never run into its neighbour */
        if (tl_sys3(SYS_mprotect, p, 4096, PROT_NONE) || tl_sys3(SYS_mprotect, p + 4096 + TL_ALTSTACK_SIZE, 4096, PROT_NONE)) {
            tl_sys2(SYS_munmap, p, len);
            return NULL;
        }
    }
    struct tl_tcb *t = (struct tl_tcb *)(p + len - tcb_sz);
    t->alt_lo = (uint64_t)p + 4096;
    t->alt_size = TL_ALTSTACK_SIZE;
    t->app_ss.ss_flags = SS_DISABLE;
    t->self = t;
    t->map_base = (void *)p;
    t->map_len = len;
    t->stk_lo = (uint64_t)p + 4096 + TL_ALTSTACK_SIZE + 4096;
    t->stk_hi = (uint64_t)t;
    t->sp = t->stk_hi;
    t->sites = tl_sites;
    t->selector = TL_SUD_ALLOW;
    t->tid = tl_active ? (int)tl_sys0(SYS_gettid) : tl_pid; /* start-up: the main thread */
    t->counts = tl_stats_thread_block(&t->slot);
    memcpy(t->special, tl_special, sizeof t->special);
    memcpy(t->polonly, tl_policy_only, sizeof t->polonly);
    return t;
}

void tl_tcb_install(struct tl_tcb *t)
{
    tl_tcb_register(t);
    /* %gs is how every entry finds its thread's block: without it nothing can run */
    if (tl_sys2(SYS_arch_prctl, ARCH_SET_GS, t)) tl_die("cannot point %gs at a thread's control block", 0, 0);
    /* our signal stack, used by SIGSYS while the program has none of its own */
    stack_t ss = {(void *)t->alt_lo, 0, t->alt_size};
    tl_sys2(SYS_sigaltstack, &ss, 0);
}

int tl_sud_enable(struct tl_tcb *t)
{
    t->selector = TL_SUD_BLOCK;
    long r = tl_sys5(SYS_prctl, TL_PR_SET_SYSCALL_USER_DISPATCH, TL_PR_SYS_DISPATCH_ON, tl_text_lo, tl_text_hi - tl_text_lo,
                     &t->selector);
    if (r) t->selector = TL_SUD_ALLOW;
    return (int)r;
}

/* Called by tl_clone_thread on the new thread's stack, before any program code. */
void tl_thread_child_init(uint64_t clone_flags)
{
    struct tl_tcb *parent = tl_self(); /* %gs is still the parent's */
    struct tl_tcb *t = tl_tcb_new();
    if (!t) tl_die("cannot allocate per-thread state for a new thread", 0, 0);
    t->sigsys_blocked = parent->sigsys_blocked; /* the signal mask is inherited */
    if (clone_flags & TL_CLONE_VFORK) {
        /* the parent resumes once we exec or exit, and frees this block then */
        t->vfork_child = 1;
        t->vfork_parent = parent;
        parent->vfork_tcb = t;
    }
    t->app_gs = parent->app_gs; /* a new thread inherits the %gs base, as natively */
    tl_tcb_install(t);
    tl_threads_pending(-1);
    if (tl_sud_enable(t)) tl_die("cannot enable Syscall User Dispatch in a new thread", 0, 0);
}

/* fork / clone without CLONE_VM: memory is a copy, our control block too; the child
 * needs its own statistics block and SUD again. */
void tl_after_fork_child(void)
{
    struct tl_tcb *t = tl_self();
    tl_pid = (int)tl_sys0(SYS_getpid);
    t->tid = (int)tl_sys0(SYS_gettid);
    tl_rewrite_after_fork();
    tl_vm_after_fork();
    tl_threads_after_fork(t);
    tl_stats_after_fork(t);
    tl_policy_after_fork(t);
    t->app_sud_on = 0; /* SUD is not inherited: the program's own neither */
    t->sigsys_pend = 0; /* nor are pending signals */
    memcpy(t->special, tl_special, sizeof t->special);
    memcpy(t->polonly, tl_policy_only, sizeof t->polonly);
    if (tl_stats) __atomic_add_fetch(&tl_stats->processes, 1, __ATOMIC_RELAXED);
    tl_cov_after_fork();
    if (tl_sud_enable(t)) tl_die("cannot enable Syscall User Dispatch in a forked child", 0, 0);
}
