/* The calls the process model performs itself, for the dispatch (core/dispatch.c calls
 * tl_sud_emulate through tl_up.emulate): the program's view of signals (its handlers,
 * mask, pending set, alternate stack), of threads and processes (clone, clone3, fork,
 * vfork, exit) and of exec, its own Syscall User Dispatch, and membarrier as if
 * rewriting had made no registration (lazy/rewrite.c). */
#include "sud/sud.h"
#include <sched.h>
#include <errno.h>
#include <asm/prctl.h>

struct clone_args_ {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* The parent side of a CLONE_VFORK child, once it has exec'd or exited: its control
 * block (in our memory) and its statistics slot go. */
static void reap_vfork_child(void)
{
    struct tl_tcb *self = tl_self(), *c = self->vfork_tcb;
    self->vfork_tcb = 0;
    if (c) {
        tl_stats_thread_release(c);
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
        parent->vfork_tcb = t; /* the parent frees it when it resumes */
    }
    /* what the kernel gives the child: the signal mask, %gs, the alternate stack */
    t->sigsys_blocked = parent->sigsys_blocked;
    t->app_gs = parent->app_gs;
    t->app_ss = parent->app_ss;
    tl_tcb_register(t);
    if (tl_sys2(SYS_arch_prctl, ARCH_SET_GS, t)) tl_die("cannot point %gs at a vfork child's control block", 0, 0);
    if (t->app_ss.ss_flags & SS_DISABLE) {
        stack_t ss = {(void *)t->alt_lo, 0, t->alt_size};
        tl_sys2(SYS_sigaltstack, &ss, 0);
    }
    if (tl_sud_enable(t)) tl_die("cannot enable Syscall User Dispatch in a vfork child", 0, 0);
    if (copy.via == TL_VIA_I386) tl_i386_resume_frame(&copy); /* rcx, r11 and cs too */
    tl_resume_frame(&copy);
}

/* clone/clone3/fork/vfork (f->via == TL_VIA_I386: made by int $0x80, sud/i386.c). args3: for clone3, our checked copy of the program's struct
 * (size3 bytes), passed to the kernel in its place. */
static long do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp, uint8_t *args3, uint64_t size3)
{
    long nr = (long)f->rax;
    int i386 = f->via == TL_VIA_I386;
    if ((flags & CLONE_VM) && child_sp) {
        /* a thread (not a vfork child, which runs alone): while this one is still the
         * only user of the address space, rewriting's membarrier registration is cheap */
        if (!(flags & CLONE_VFORK)) tl_rewrite_before_thread();
        tl_threads_pending(1); /* before it exists: see tl_threads_alone */
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
        long ecx = (flags & CLONE_VM) || nr != TL_NR32_CLONE ? (long)f->rcx : 0;
        r = tl_int80_6(nr, (long)f->rbx, ecx, (long)f->rdx, (long)f->rsi, (long)f->rdi, (long)f->rbp);
    } else if (nr == SYS_clone3) {
        if (!(flags & CLONE_VM)) memset(args3 + 40, 0, 16); /* stack, stack_size */
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
    for (uint64_t off = n; off < size;) { /* a longer struct: its tail must be zero */
        uint8_t chunk[64];
        uint64_t k = size - off < sizeof chunk ? size - off : sizeof chunk;
        if (!tl_safe_read(uargs + off, chunk, k)) return -1;
        for (uint64_t i = 0; i < k; i++)
            if (chunk[i]) return -1;
        off += k;
    }
    *size3 = n;
    return 0;
}

long tl_do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp) { return do_clone(f, flags, child_sp, 0, 0); }

/* 1: call f performed here, its result in *ret (*action = TL_ACT_SIGRETURN: rt_sigreturn on the
 * program's stack); 0: not one of ours */
int tl_sud_emulate(struct tl_frame *f, long *ret, int *action)
{
    (void)action;
    long nr = (long)f->rax;
    struct tl_tcb *t;
    switch (nr) {
    case SYS_rt_sigaction: /* the kernel takes int sig, int how, int option: */
        *ret = tl_virt_sigaction((long)(int)f->rdi, (void *)f->rsi, (void *)f->rdx, (long)f->r10);
        return 1;
    case SYS_rt_sigprocmask: *ret = tl_virt_sigprocmask((long)(int)f->rdi, (void *)f->rsi, (void *)f->rdx, (long)f->r10); return 1;
    case SYS_rt_sigpending: *ret = tl_virt_sigpending((uint64_t *)f->rdi, (long)f->rsi); return 1;
    case SYS_sigaltstack: *ret = tl_virt_sigaltstack((const stack_t *)f->rdi, (stack_t *)f->rsi); return 1;
    case SYS_execve:
    case SYS_execveat: *ret = tl_exec(nr, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8); return 1;
    case SYS_clone: *ret = do_clone(f, f->rdi, f->rsi, 0, 0); return 1;
    case SYS_clone3: {
        uint8_t buf[128];
        uint64_t size3;
        if (clone3_copy(f->rdi, f->rsi, buf, sizeof buf, &size3)) return 0; /* the kernel fails it */
        struct clone_args_ a;
        memcpy(&a, buf, sizeof a);
        /* the kernel's clone3_stack_valid(), before our fork path drops the stack */
        if (a.stack ? (!a.stack_size || a.stack + a.stack_size < a.stack || a.stack + a.stack_size > TL_TASK_SIZE_MAX)
                    : a.stack_size != 0)
            *ret = -EINVAL;
        else
            *ret = do_clone(f, a.flags, a.stack ? a.stack + a.stack_size : 0, buf, size3);
        return 1;
    }
    case SYS_fork: *ret = do_clone(f, 0, 0, 0, 0); return 1;
    case SYS_vfork: *ret = do_clone(f, CLONE_VM | CLONE_VFORK, 0, 0, 0); return 1;
    case SYS_exit:
        t = tl_self();
        if (t->vfork_parent) t->vfork_parent->vfork_tcb = 0; /* it unmaps itself */
        tl_stats_thread_release(t);
        tl_policy_thread_exit(t);
        tl_tcb_unregister(t);
        if (!tl_seccomp_allows(SYS_rt_sigprocmask, SIG_SETMASK, 0, 0) || !tl_seccomp_allows(SYS_munmap, 0, 0, 0))
            tl_sys1(SYS_exit, (long)f->rdi); /* the program's seccomp: its state stays mapped */
        uint64_t all = ~0ull;
        tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
        tl_threads_settle(); /* a thread we just created may still read our block */
        tl_exit_thread(t->map_base, t->map_len, (long)f->rdi, SYS_exit);
    case SYS_membarrier: return tl_membarrier_virt((long)f->rdi, (long)f->rsi, (long)f->rdx, ret);
    case SYS_prctl:
        if ((int)f->rdi != TL_PR_SET_SYSCALL_USER_DISPATCH) return 0;
        *ret = tl_virt_sud((long)f->rsi, f->rdx, f->r10, f->r8);
        return 1;
    }
    return 0;
}
