/* 32-bit system calls made by 64-bit code with `int $0x80` (i386 numbers, arguments in
 * ebx ecx edx esi edi ebp). Under SUD they trap like `syscall`, with si_arch ==
 * AUDIT_ARCH_I386. They are never rewritten and never run as the x86-64 call of the same
 * number: the SIGSYS handler hands them to tl_i386_entry (sud/entry_i386.S) with a full
 * frame, the dispatch below counts them in the i386 table, shows them to a native hook
 * marked TRAPLINE_ABI_I386, and performs them with a real `int $0x80` from our text, so
 * the kernel's own i386 semantics apply. See docs/design.md, "32-bit calls". */
#include "sud/sud.h"
#include <ucontext.h>
#include <sched.h>
#include <errno.h>
#include <sys/mman.h>


int tl_i386_trap(const siginfo_t *si, void *ucv)
{
    if ((uint32_t)si->si_arch != TL_AUDIT_ARCH_I386) return 0;
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    struct tl_tcb *t = tl_self();
    uint64_t rsp = (uint64_t)g[REG_RSP];
    /* our stack, as the slow entry picks it (from rsp and the reservations) */
    uint64_t top = tl_frame_top(t, rsp);
    struct tl_frame *f = (struct tl_frame *)((top & ~15ull) - sizeof(struct tl_frame));
    f->r15 = (uint64_t)g[REG_R15];
    f->r14 = (uint64_t)g[REG_R14];
    f->r13 = (uint64_t)g[REG_R13];
    f->r12 = (uint64_t)g[REG_R12];
    f->rbp = (uint64_t)g[REG_RBP];
    f->rbx = (uint64_t)g[REG_RBX];
    f->r9 = (uint64_t)g[REG_R9];
    f->r8 = (uint64_t)g[REG_R8];
    f->r10 = (uint64_t)g[REG_R10];
    f->rdx = (uint64_t)g[REG_RDX];
    f->rsi = (uint64_t)g[REG_RSI];
    f->rdi = (uint64_t)g[REG_RDI];
    f->rax = (uint64_t)g[REG_RAX]; /* the number as the program set it (the kernel uses eax) */
    f->rcx = (uint64_t)g[REG_RCX];
    f->r11 = (uint64_t)g[REG_R11];
    f->flags = (uint64_t)g[REG_EFL];
    f->cs = (uint64_t)g[REG_CSGSFS] & 0xffff; /* 64-bit code, or 32-bit code (a compat segment) */
    f->oldsp = 0; /* unused: what is in use follows from rsp */
    f->rsp = rsp;
    f->ret = (uint64_t)si->si_call_addr; /* where the kernel resumes after the call */
    f->via = TL_VIA_I386;
    g[REG_RSP] = (greg_t)f;
    g[REG_RIP] = (greg_t)tl_i386_entry;
    uint64_t cs; /* our code is 64-bit, whatever the program's */
    __asm__("mov %%cs, %0" : "=r"(cs));
    g[REG_CSGSFS] = (greg_t)(((uint64_t)g[REG_CSGSFS] & ~0xffffull) | (cs & 0xffff));
    return 1;
}

static inline uint64_t a32(uint64_t v) { return (uint32_t)v; }

/* i386 sigprocmask (126): old_sigset_t holds signals 1..32; SIG_SETMASK keeps the others
 * (measured natively). Through the virtual mask, so that SIGSYS is never really blocked. */
static long sigprocmask_old(int how, uint64_t set_p, uint64_t old_p)
{
    uint64_t cur;
    long r = tl_virt_sigprocmask(SIG_BLOCK, 0, &cur, 8);
    if (r) return r;
    if (set_p) {
        uint32_t set;
        if (!tl_safe_read(set_p, &set, 4)) return -EFAULT;
        uint64_t n = set;
        if (how == SIG_SETMASK)
            n |= cur & ~0xffffffffull;
        else if (how != SIG_BLOCK && how != SIG_UNBLOCK)
            return -EINVAL;
        r = tl_virt_sigprocmask(how, &n, 0, 8);
        if (r) return r;
    }
    if (old_p) {
        uint32_t o = (uint32_t)cur;
        struct {
            void *b;
            size_t l;
        } local = {&o, 4}, remote = {(void *)old_p, 4};
        if (tl_sys6(SYS_process_vm_writev, tl_pid, (long)&local, 1, (long)&remote, 1, 0) != 4) return -EFAULT;
    }
    return 0;
}

/* An i386 call with the given arguments, performed now (not the calls that need the
 * program's frame: see tl_i386_needs_frame). */
long tl_i386_perform_args(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    /* Calls whose x86-64 twin trapline handles itself, with the same arguments (32-bit
     * values, zero-extended) and the same effect: performed through that handling, so
     * that an i386 call cannot undo the interposer. */
    uint64_t b1 = a32((uint64_t)a1), b2 = a32((uint64_t)a2), b3 = a32((uint64_t)a3);
    switch ((int)nr) {
    case TL_NR32_EXIT_GROUP: /* our exit bookkeeping (x86-64 exit_group takes an int too) */
        return tl_perform_args(SYS_exit_group, (int)a1, 0, 0, 0, 0, 0);
    case TL_NR32_MUNMAP: /* rewritten sites in the range are forgotten first */
        return tl_perform_args(SYS_munmap, (long)b1, (long)b2, 0, 0, 0, 0);
    case TL_NR32_MPROTECT: /* ... or given back their 0f 05 before they turn writable */
        return tl_perform_args(SYS_mprotect, (long)b1, (long)b2, (long)b3, 0, 0, 0);
    case TL_NR32_MADVISE: return tl_perform_args(SYS_madvise, (long)b1, (long)b2, (long)(int)a3, 0, 0, 0);
    case TL_NR32_SIGPROCMASK: return sigprocmask_old((int)a1, b2, b3);
    case TL_NR32_RT_SIGPROCMASK: /* compat_sigset_t is the same 8 bytes: SIGSYS stays virtual */
        return tl_virt_sigprocmask((int)a1, (const uint64_t *)b2, (uint64_t *)b3, (long)a32((uint64_t)a4));
    case TL_NR32_EXECVE: /* the new program is interposed too (sud/exec.c) */
    case TL_NR32_EXECVEAT: return tl_exec_i386(nr, a1, a2, a3, a4, a5);
    case TL_NR32_MMAP2: /* page 0 is ours: mapping it is refused as natively without */
        if (tl_zero_mapped && b1 == 0 && (a32((uint64_t)a4) & (MAP_FIXED | TL_MAP_FIXED_NOREPLACE))) /* CAP_SYS_RAWIO */
            return -EPERM;
        goto unmodelled;
    case TL_NR32_OLD_MMAP: {
        uint32_t args[4]; /* addr, len, prot, flags */
        if (tl_zero_mapped && tl_safe_read(b1, args, sizeof args) && args[0] == 0 &&
            (args[3] & (MAP_FIXED | TL_MAP_FIXED_NOREPLACE)))
            return -EPERM;
        goto unmodelled;
    }
    case TL_NR32_MREMAP: /* from page 0 (a hole natively) or onto it */
        if (tl_zero_mapped && b1 == 0 && b2 != 0) return -EFAULT;
        if (tl_zero_mapped && (a32((uint64_t)a4) & TL_MREMAP_FIXED) && a32((uint64_t)a5) == 0) return -EPERM;
        goto unmodelled;
    case TL_NR32_MEMBARRIER: { /* as if rewriting had not registered (lazy/rewrite.c) */
        long r;
        if (tl_membarrier_virt((int)a1, (long)b2, (int)a3, &r)) return r;
        break;
    }
    case TL_NR32_PRCTL: /* the program's own Syscall User Dispatch stays virtual */
        if ((int)a1 == TL_PR_SET_SYSCALL_USER_DISPATCH) return tl_virt_sud((long)b2, b3, a32((uint64_t)a4), a32((uint64_t)a5));
        break;
    case TL_NR32_IPC:
    case TL_NR32_REMAP_FILE_PAGES:
    case TL_NR32_PKEY_MPROTECT:
    case TL_NR32_SHMAT:
    case TL_NR32_SHMDT:
    unmodelled : {
        /* old_mmap, mmap2, mremap (above), ipc, remap_file_pages, pkey_mprotect, shmat,
         * shmdt: not modelled in our map of the address space, which is re-read on next need */
        long r = tl_int80_6(nr, a1, a2, a3, a4, a5, a6);
        tl_vm_invalidate();
        return r;
    }
    }
    return tl_int80_6(nr, a1, a2, a3, a4, a5, a6);
}

int tl_i386_needs_frame(long nr)
{
    int n = (int)nr;
    return n == TL_NR32_EXIT || n == TL_NR32_FORK || n == TL_NR32_VFORK || n == TL_NR32_CLONE || n == TL_NR32_CLONE3 ||
        n == TL_NR32_SIGRETURN || n == TL_NR32_RT_SIGRETURN;
}

/* Performs the i386 call in frame f. *action = TL_ACT_SIGRETURN_I386: an i386 sigreturn on the program's stack. */
static long perform_i386(struct tl_frame *f, int *action)
{
    int nr = (int)f->rax;
    switch (nr) {
    case TL_NR32_SIGRETURN:
    case TL_NR32_RT_SIGRETURN: *action = TL_ACT_SIGRETURN_I386; return 0;
    case TL_NR32_EXIT: {
        /* a thread exit: our control block and statistics slot go with it, as for the
         * x86-64 exit (the same call, taking an int). A vfork child without a stack of
         * its own runs on its parent's block: it leaves it alone. */
        if ((int)tl_sys0(SYS_gettid) != tl_self()->tid) return tl_int80_6(TL_NR32_EXIT, (long)f->rbx, 0, 0, 0, 0, 0);
        struct tl_frame x = *f;
        x.rax = SYS_exit;
        x.rdi = a32(f->rbx);
        int a = TL_ACT_RESUME;
        return tl_perform_frame(&x, &a);
    }
    case TL_NR32_FORK: return tl_do_clone(f, 0, 0);
    case TL_NR32_VFORK: return tl_do_clone(f, CLONE_VM | CLONE_VFORK, 0);
    case TL_NR32_CLONE:
        /* i386 order: flags, stack, parent_tid, tls (a struct user_desc *), child_tid;
         * the kernel takes them as 32-bit values */
        return tl_do_clone(f, a32(f->rbx), a32(f->rcx));
    case TL_NR32_CLONE3: {
        /* struct clone_args has the same 64-bit layout in both tables */
        struct {
            uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        } a;
        if (a32(f->rcx) < sizeof a) return -EINVAL;
        if (!tl_safe_read(a32(f->rbx), &a, sizeof a)) return -EFAULT;
        return tl_do_clone(f, a.flags, a.stack ? a.stack + a.stack_size : 0);
    }
    }
    return tl_i386_perform_args((long)f->rax, (long)f->rbx, (long)f->rcx, (long)f->rdx, (long)f->rsi, (long)f->rdi, (long)f->rbp);
}

long tl_dispatch_i386(struct tl_frame *f)
{
    long nr = (long)(int)f->rax; /* the kernel decides on eax, as a signed int */
    uint64_t site = f->ret - 2;
    uint8_t b[2];
    if (tl_stats && tl_safe_read(site, b, 2) && b[0] == 0xcd && b[1] == 0x80) {
        /* a record for the site (state trapping, reason int80; its numbers are i386
         * numbers), never a rewrite */
        struct tl_site_rec *s = tl_cov_site(site, 0, 0);
        if (!s) {
            struct tl_mapping m;
            s = tl_cov_site(site, 1, tl_vm_find(site, &m) == 0 ? &m : 0);
            tl_cov_state(s, TL_SITE_TRAPPING, TL_REASON_INT80);
        }
        if (s) __atomic_add_fetch(&s->trap_hits, 1, __ATOMIC_RELAXED);
        tl_cov_nr(s, nr);
    }
    if (UNLIKELY(tl_self()->app_sud_on) && tl_app_sud_check(f)) return 0;
    tl_count_i386(nr, 0);
    int action = TL_ACT_RESUME;
    long ret;
    /* a number some rule selects in the i386 table: its policy, the hook and the call */
    if (UNLIKELY(tl_policy_on) && (unsigned long)nr < TL_NR_MAX && tl_policy_rules_of32[nr] &&
        tl_policy_call_i386(f, perform_i386, &ret, &action)) {
        if (ret < 0 && ret > -4096) tl_count_i386(nr, 1);
        f->rax = (uint64_t)ret;
        return action;
    }
    if (tl_hook_loaded) {
        int pass = 0;
        ret = tl_hook_call(f, &pass);
        if (!tl_vm_suspect) __atomic_store_n(&tl_vm_suspect, 1, __ATOMIC_RELAXED); /* see tl_dispatch */
        if (pass) ret = perform_i386(f, &action);
    } else {
        ret = perform_i386(f, &action);
    }
    if (ret < 0 && ret > -4096) tl_count_i386(nr, 1);
    f->rax = (uint64_t)ret;
    return action;
}
