/* Our signal handlers and the virtualisation of the program's view of them.
 *
 * SIGSYS  (SUD trap): the handler only redirects the thread to tl_sud_entry (rcx = the
 *         resume address, rax = nr); the call itself then runs outside the handler, on
 *         our stack, through the same dispatch as rewritten sites.
 * SIGSEGV: (a) a rewritten site given a number outside the sled (>= 4088, negative,
 *         non-canonical) faults; we recognise it and emulate the call (-ENOSYS or
 *         whatever the kernel answers). (b) re-raise of a NULL/small function-pointer call
 *         that landed in the sled from code we did not rewrite. (c) anything else goes to
 *         the program's own SIGSEGV action.
 * The program's sigaction() for SIGSYS/SIGSEGV is recorded and reported back as it set
 * it; SIGSYS is removed from every mask the program installs (blocked SIGSYS would make
 * the kernel kill the process on the next trapped call) and reported back as set. */
#include "sud/sud.h"
#include <ucontext.h>
#include <errno.h>
#include <fcntl.h>

#define SIGBIT(s) (1ull << ((s)-1))
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)
#endif

static struct tl_ksigaction virt[65]; /* the program's actions, as it set them */
/* signals whose virt[] entry is known. For the others the kernel's action is the
 * program's own (we never changed it): it is learned from the kernel on the program's
 * first sigaction() for the signal, in the same call when it installs one. */
static uint64_t virt_known;
#define KNOWN(s) (virt_known & SIGBIT(s))


static long kaction(int sig, void *h, unsigned long flags, uint64_t mask)
{
    struct tl_ksigaction a = {h, flags | SA_RESTORER, tl_restorer, mask};
    return tl_sys4(SYS_rt_sigaction, sig, &a, 0, 8);
}

static void on_sigsys(int, siginfo_t *, void *);
static void on_sigsegv(int, siginfo_t *, void *);

uint64_t tl_loader_brk;
int (*tl_loader_hit)(void *uc);

static long register_segv(void)
{
    const struct tl_ksigaction *a = &virt[SIGSEGV];
    unsigned long fl = SA_SIGINFO | (a->flags & (SA_ONSTACK | SA_NODEFER));
    return kaction(SIGSEGV, (void *)on_sigsegv, fl, a->mask & ~SIGBIT(SIGSYS));
}

/* The program is about to install a seccomp filter that denies rt_sigreturn. A trap can
 * then not return through it: SIGSYS is re-registered so that its delivery changes
 * nothing that only rt_sigreturn could undo (SA_NODEFER, an empty sa_mask), and the
 * handler leaves by restoring the vector state and the registers itself. 0 on success. */
int tl_signals_sigsys_noreturn(void)
{
    /* with a user shadow stack, the handler's token must be consumed by rt_sigreturn */
    uint64_t shstk = 0;
    if (tl_sys2(SYS_arch_prctl, TL_ARCH_SHSTK_STATUS, &shstk) == 0 && (shstk & TL_ARCH_SHSTK_SHSTK)) return -1;
    if (kaction(SIGSYS, (void *)on_sigsys, SA_SIGINFO | SA_ONSTACK | SA_NODEFER, 0)) return -1;
    __atomic_store_n(&tl_sigsys_noreturn, 1, __ATOMIC_RELEASE);
    return 0;
}

/* Leaves our SIGSYS handler without rt_sigreturn: the interrupted vector state back from
 * the signal frame (xrstor or fxrstor), then every register, and on to tl_sud_entry. */
static __attribute__((noreturn)) void leave_without_sigreturn(ucontext_t *uc)
{
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    if (fp) {
        uint32_t magic1;
        uint64_t xfeatures;
        memcpy(&magic1, fp + TL_FPX_SW_BYTES, 4); /* struct _fpx_sw_bytes in sw_reserved */
        memcpy(&xfeatures, fp + TL_FPX_SW_BYTES + TL_FPX_XFEATURES, 8);
        if (magic1 == TL_FP_XSTATE_MAGIC1)
            __asm__ volatile("xrstor64 (%0)" : : "r"(fp), "a"((uint32_t)xfeatures), "d"((uint32_t)(xfeatures >> 32)) : "memory");
        else
            __asm__ volatile("fxrstor64 (%0)" : : "r"(fp) : "memory");
    }
    tl_sigsys_resume((const uint64_t *)uc->uc_mcontext.gregs);
}

static int status_signals(uint64_t *blocked);
static uint64_t caught_at_start = ~0ull; /* the signals with a handler before us; ~0: unknown */
int tl_signals_none_caught;

int tl_signals_install(void)
{
    /* remember what the program (or its libraries' constructors) already installed: the
     * former action comes back from the call that installs ours */
    uint64_t all = ~0ull & ~(SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGFPE));
    struct tl_ksigaction sys = {(void *)on_sigsys, SA_SIGINFO | SA_ONSTACK | SA_RESTORER, tl_restorer, all};
    if (tl_sys4(SYS_rt_sigaction, SIGSYS, &sys, &virt[SIGSYS], 8)) return -1;
    struct tl_ksigaction segv = {(void *)on_sigsegv, SA_SIGINFO | SA_RESTORER, tl_restorer, 0};
    if (tl_sys4(SYS_rt_sigaction, SIGSEGV, &segv, &virt[SIGSEGV], 8)) return -1;
    virt_known |= SIGBIT(SIGSYS) | SIGBIT(SIGSEGV);
    /* exec'd by a program of the run that had them ignored: natively SIG_IGN survives the
     * exec, but the kernel held our handler and reset it to SIG_DFL (TRAPLINE_SIGIGN,
     * sud/exec.c). The program's view is SIG_IGN as the kernel leaves it after an exec (no
     * flags, an empty mask); ours stays installed: deliver() drops a sent signal and lets
     * a fault kill, as the kernel does with an ignored one. */
    for (int i = 0; i < 2; i++) {
        int sig = i ? SIGSEGV : SIGSYS;
        if ((tl_cfg.exec_sigign & (i ? TL_IGN_SEGV : TL_IGN_SYS)) && virt[sig].handler == SIG_DFL) {
            memset(&virt[sig], 0, sizeof virt[sig]);
            virt[sig].handler = SIG_IGN;
        }
    }
    /* a SIGSYS blocked when the program started (inherited across its exec): blocked in
     * its view, unblocked in the kernel (a blocked SIGSYS makes a trapped call fatal) */
    uint64_t cur = 0, sb = SIGBIT(SIGSYS);
    int none = tl_booted || tl_signals_none_caught; /* sud/init.c */
    if (none) caught_at_start = 0;
    if (((!none && status_signals(&cur) == 0) || tl_sys4(SYS_rt_sigprocmask, SIG_BLOCK, 0, &cur, 8) == 0) && (cur & sb)) {
        tl_self()->sigsys_blocked = 1;
        tl_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &sb, 0, 8);
    }
    /* an earlier SIGSEGV action's SA_ONSTACK, SA_NODEFER or mask shape ours */
    if (((virt[SIGSEGV].flags & (SA_ONSTACK | SA_NODEFER)) || (virt[SIGSEGV].mask & ~SIGBIT(SIGSYS))) && register_segv()) return -1;
    return 0;
}

/* The setting that tells an exec'd program which of SIGSYS and SIGSEGV this one has set
 * to SIG_IGN (they survive an exec natively; the kernel holds our handler for them, which
 * it resets), or NULL if neither: sud/exec.c adds it to the settings of a program it
 * interposes. */
_Static_assert(sizeof(((struct tl_tcb *)0)->vf_act[0]) == sizeof(struct tl_ksigaction), "vf_act");

/* The program's action for SIGSYS or SIGSEGV as this thread sees it: a vfork child's own,
 * once it set one (tl_virt_sigaction), else the process's. */
static struct tl_ksigaction *own_view(struct tl_tcb *t, int sig)
{
    int i = sig == SIGSEGV;
    return t && (t->vf_set & (1 << i)) ? (struct tl_ksigaction *)(void *)t->vf_act[i] : &virt[sig];
}

const char *tl_signals_exec_setting(char *buf)
{
    struct tl_tcb *t = tl_self();
    int sys = own_view(t, SIGSYS)->handler == SIG_IGN, segv = own_view(t, SIGSEGV)->handler == SIG_IGN;
    if (!sys && !segv) return 0;
    /* "TRAPLINE_SIGIGN=<pid>:<signals>": the exec keeps the pid, so the new image can tell
     * the setting was made for it, and not left in an environment by an earlier program
     * (the preload way puts it there, and an exec trapline does not follow keeps it) */
    char pid[24];
    tl_fmt_u64(pid, (uint64_t)tl_sys0(SYS_getpid), 10);
    size_t k = tl_put(buf, TL_SIGIGN_MAX, 0, "TRAPLINE_SIGIGN=");
    k = tl_put(buf, TL_SIGIGN_MAX, k, pid);
    tl_put(buf, TL_SIGIGN_MAX, k, sys && segv ? ":sys,segv" : sys ? ":sys" : ":segv");
    return buf;
}

/* A SIGSYS sent (kill, tgkill, sigqueue...) while the program has SIGSYS blocked is kept
 * here, pending, as the kernel would keep it: we cannot let the kernel keep it blocked
 * (a blocked SIGSYS makes the next trapped call fatal). A standard signal is pending
 * once; setting SIG_IGN discards it (a generation count: queued under an older one is
 * gone). On unblock it is re-sent to the thread with a marker code, and on_sigsys
 * presents the original siginfo. */
#define TL_SI_RESEND (-0x7452) /* si_code of our re-send (a value no libc uses) */
static uint64_t sigsys_ign_gen;

static int sigsys_pending(const struct tl_tcb *t)
{
    return t->sigsys_pend && t->sigsys_gen == __atomic_load_n(&sigsys_ign_gen, __ATOMIC_RELAXED);
}

static void sigsys_resend(struct tl_tcb *t)
{
    if (!t->sigsys_pend) return;
    int live = sigsys_pending(t);
    t->sigsys_pend = 0;
    if (!live) return;
    siginfo_t m;
    memset(&m, 0, sizeof m);
    m.si_signo = SIGSYS;
    m.si_code = TL_SI_RESEND;
    long pid = tl_sys0(SYS_getpid); /* a vfork child is not tl_pid */
    m.si_pid = (int)pid;
    t->sigsys_resend = 1;
    tl_sys4(SYS_rt_tgsigqueueinfo, pid, tl_sys0(SYS_gettid), SIGSYS, &m); /* delivered on return */
    t->sigsys_resend = 0;
}

long tl_virt_sigpending(uint64_t *set, long size)
{
    long r = tl_sys2(SYS_rt_sigpending, set, size);
    if (r == 0 && size == 8 && sigsys_pending(tl_self())) {
        uint64_t v; /* the kernel just wrote it, but another thread may unmap it meanwhile */
        if (!tl_safe_read((uint64_t)set, &v, 8)) return -EFAULT;
        v |= SIGBIT(SIGSYS);
        if (!tl_safe_write((uint64_t)set, &v, 8)) return -EFAULT;
    }
    return r;
}

/* Every handler the program installs runs through this wrapper. It keeps the
 * interposer's invariants whatever the signal interrupted:
 *  - the SUD selector is BLOCK while the program's handler runs (a signal arriving while a
 *    user hook runs with ALLOW must not let the handler's calls escape);
 *  - if the signal interrupted our own code on our stack and the handler runs on an
 *    alternate stack, a reservation (struct tl_res) keeps the calls the handler makes
 *    below the interrupted frame for as long as the thread is on that alternate stack
 *    below the signal frame. It is derived from the stack pointer, so a handler that
 *    leaves by siglongjmp gives it back without any code of ours running;
 *  - the shadow-ring depth is given back as found, so entry code the signal interrupted
 *    finds its slot where it left it;
 *  - SIGSYS is virtually blocked as the handler's mask says, and the mask the handler sees
 *    in uc_sigmask has SIGSYS as the program set it (a change to it is taken over).
 * All of it is restored when the handler returns; none of it needs restoring when it
 * does not. */
static void run_handler(int sig, siginfo_t *si, ucontext_t *uc)
{
    struct tl_tcb *t = tl_self();
    uint8_t sel = t->selector, depth = t->depth;
    uint32_t n = t->res_n, k = TL_RES_MAX;
    struct tl_res saved = {0, 0, 0};
    uint64_t rsp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
    uint64_t here = (uint64_t)__builtin_frame_address(0);
    if (rsp - t->stk_lo < TL_STACK_SIZE && here - t->stk_lo >= TL_STACK_SIZE) {
        uint64_t lo = 0; /* the alternate stack the handler runs on (0: not known) */
        uint64_t alo = (uint64_t)t->app_ss.ss_sp;
        if (!(t->app_ss.ss_flags & SS_DISABLE) && here - alo < t->app_ss.ss_size)
            lo = alo;
        else if (here - t->alt_lo < t->alt_size)
            lo = t->alt_lo;
        k = n;
        while (k && !(here >= t->res[k - 1].lo && here < t->res[k - 1].h)) k--; /* gone */
        if (k == TL_RES_MAX) k--;
        saved = t->res[k];
        t->res[k].h = (uint64_t)uc;
        t->res[k].lo = lo;
        t->res[k].sp = (rsp - TL_STACK_SKIP) & ~(uint64_t)(TL_STACK_ALIGN - 1);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        t->res_n = k + 1;
    }
    int blocked = t->sigsys_blocked;
    struct tl_ksigaction *a = &virt[sig];
    uint64_t *um = (uint64_t *)&uc->uc_sigmask;
    if (blocked) *um |= SIGBIT(SIGSYS);
    if ((a->mask & SIGBIT(SIGSYS)) || (sig == SIGSYS && !(a->flags & SA_NODEFER))) t->sigsys_blocked = 1;
    t->selector = TL_SUD_BLOCK;
    void *h = a->handler;
    if (a->flags & SA_RESETHAND) {
        a->handler = SIG_DFL;
        a->flags &= ~SA_SIGINFO;
    }
    /* the kernel passes (sig, info, uc) whatever SA_SIGINFO says: so do we */
    if (h != SIG_DFL && h != SIG_IGN) {
        ((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
        /* natively the handler returns into the program's restorer, whose rt_sigreturn is
         * a system call of the program's: ours performs it, so it is counted here (a
         * handler that leaves by siglongjmp makes none, natively either) */
        tl_count_slow(SYS_rt_sigreturn, TL_VIA_TRAP);
    }
    t->res_n = n;
    if (k < TL_RES_MAX) t->res[k] = saved;
    t->depth = depth;
    t->selector = sel;
    /* sigreturn restores the mask from uc_sigmask: SIGSYS as the program left it there */
    t->sigsys_blocked = (*um & SIGBIT(SIGSYS)) != 0;
    *um &= ~SIGBIT(SIGSYS);
    if (!t->sigsys_blocked) sigsys_resend(t);
}

static void tl_sig_wrapper(int sig, siginfo_t *si, void *uc) { run_handler(sig, si, (ucontext_t *)uc); }


/* Hand a signal to the program's own action for it. */
static void deliver(int sig, siginfo_t *si, ucontext_t *uc)
{
    struct tl_ksigaction *a = &virt[sig];
    void *h = a->handler;
    if (h == SIG_IGN && si->si_code <= 0) return; /* sent by kill/queue: ignored */
    if (h == SIG_DFL || h == SIG_IGN) {
        /* default action: let the kernel perform it (fault again, or re-sent) */
        kaction(sig, SIG_DFL, 0, 0);
        uint64_t m = SIGBIT(sig);
        tl_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, 0, 8);
        if (si->si_code <= 0 || sig == SIGSYS) tl_sys3(SYS_tgkill, tl_pid, tl_sys0(SYS_gettid), sig);
        return;
    }
    if (sig == SIGSYS) {
        /* We are inside our own SIGSYS handler, which runs with nearly every signal
         * blocked. The program's handler gets the mask it would have natively: the
         * interrupted mask plus its sa_mask. SIGSYS stays unblocked in the kernel (a call
         * the handler makes may trap into our SUD), and is blocked in the program's view
         * unless SA_NODEFER. */
        struct tl_tcb *t = tl_self();
        int vb = t->sigsys_blocked;
        uint64_t m = (uc->uc_sigmask.__val[0] | a->mask) & ~SIGBIT(SIGSYS);
        if (tl_seccomp_allows(SYS_rt_sigprocmask, SIG_SETMASK, 0, 0)) tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &m, 0, 8);
        t->sigsys_blocked = vb || (a->mask & SIGBIT(SIGSYS)) || !(a->flags & SA_NODEFER);
        run_handler(sig, si, uc);
        t->sigsys_blocked = vb;
        return; /* our sigreturn restores the interrupted mask */
    }
    run_handler(sig, si, uc);
    if (sig == SIGSEGV && virt[SIGSEGV].handler == SIG_DFL) register_segv(); /* SA_RESETHAND */
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    struct tl_tcb *t = tl_self();
    if (t->fault.pending == SIGSYS) {
        /* the program's own SUD blocked a call: present its state at the syscall */
        t->fault.pending = 0;
        greg_t *g = uc->uc_mcontext.gregs;
        for (int i = 0; i <= REG_EFL; i++) g[i] = (greg_t)t->fault.gregs[i];
        deliver(sig, si, uc);
        return;
    }
    if (si->si_code == TL_SI_SYS_USER_DISPATCH && tl_active) {
        if (tl_i386_trap(si, uc)) { /* int $0x80: sud/i386.c */
            if (UNLIKELY(tl_sigsys_noreturn)) leave_without_sigreturn(uc);
            return;
        }
        uc->uc_mcontext.gregs[REG_RCX] = (greg_t)si->si_call_addr;
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)tl_sud_entry;
        if (UNLIKELY(tl_sigsys_noreturn)) leave_without_sigreturn(uc);
        return;
    }
    if (si->si_code == TL_SI_RESEND && t->sigsys_resend) {
        /* a SIGSYS kept pending while blocked, now unblocked: its own siginfo */
        t->sigsys_resend = 0;
        *si = t->sigsys_info;
    } else if (si->si_code <= 0 && t->sigsys_blocked) {
        /* sent while the program has SIGSYS blocked: pending, as in the kernel (a standard
         * signal is pending once: a second one is dropped) */
        if (!sigsys_pending(t)) {
            t->sigsys_info = *si;
            t->sigsys_gen = __atomic_load_n(&sigsys_ign_gen, __ATOMIC_RELAXED);
            t->sigsys_pend = 1;
        }
        return;
    }
    deliver(sig, si, uc);
}

static int noncanonical(uint64_t a)
{
    uint64_t top = a >> 47;
    return top != 0 && top != 0x1ffff;
}

static void on_sigsegv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    struct tl_tcb *t = tl_self();
    if (UNLIKELY(tl_hook_loading) && si->si_code > 0) tl_hook_crashed(sig); /* the hook's start-up faulted */
    /* the boot image's hlt in the program's dynamic loader, waiting to load a hook */
    if (UNLIKELY(tl_loader_brk) && si->si_code == SI_KERNEL && (uint64_t)g[REG_RIP] == tl_loader_brk && tl_loader_hit &&
        tl_loader_hit(uc))
        return;
    if (t->fault.pending == SIGSEGV) {
        /* our re-raise of a call into the sled from a non-site: present the program's
         * registers at the faulting call */
        t->fault.pending = 0;
        for (int i = 0; i <= REG_EFL; i++) g[i] = (greg_t)t->fault.gregs[i];
        deliver(sig, si, uc);
        return;
    }
    uint64_t rip = (uint64_t)g[REG_RIP], rax = (uint64_t)g[REG_RAX], rsp = (uint64_t)g[REG_RSP];
    if (tl_zero_mapped && si->si_code > 0) {
        uint64_t ret;
        /* (a) callq *%rax from a rewritten site to an address outside the sled */
        if (rip == rax && rip >= SLED_FAULT_LO && tl_safe_read(rsp, &ret, 8) && tl_site_known(ret)) {
            g[REG_RCX] = (greg_t)ret;
            g[REG_RSP] = (greg_t)(rsp + 8);
            g[REG_RIP] = (greg_t)tl_fix_entry;
            return;
        }
        /* (a') non-canonical target: #GP is reported on the callq itself */
        if (si->si_code == SI_KERNEL && noncanonical(rax) && tl_site_known(rip + 2)) {
            uint8_t b[2];
            if (tl_safe_read(rip, b, 2) && b[0] == 0xff && b[1] == 0xd0) {
                g[REG_RCX] = (greg_t)(rip + 2);
                g[REG_RIP] = (greg_t)tl_fix_entry;
                return;
            }
        }
    }
    /* a call to 4088..4095 from a non-site decodes the sled's last REX bytes and faults
     * at 4096: report the called address, as without us */
    if (tl_zero_mapped && rip >= SLED_FAULT_LO && rip < 4096 && (uint64_t)si->si_addr == 4096) si->si_addr = (void *)rip;
    /* page 0 is ours; to the program it is unmapped. A data access there faults with
     * SEGV_PKUERR (execute-only through a protection key) or SEGV_ACCERR (a write; any
     * access where it is readable), where natively it is SEGV_MAPERR on a page that is
     * not present: present the native fault (si_code, no key, error code without the
     * protection and key bits). */
    if (tl_zero_mapped && (si->si_code == SEGV_ACCERR || si->si_code == SEGV_PKUERR) && (uint64_t)si->si_addr < 4096) {
        si->si_code = TL_SEGV_MAPERR;
        si->si_pkey = 0;
        g[REG_ERR] &= ~(greg_t)(TL_PF_PROT | TL_PF_PK);
    }
    deliver(sig, si, uc);
}

/* The program's registers from a slow-path frame, for a signal we raise on its behalf
 * (the handler then presents them in the ucontext). */
static void save_program_regs(struct tl_tcb *t, const struct tl_frame *f, uint64_t rcx, uint64_t r11, uint64_t rip)
{
    uint64_t *g = t->fault.gregs;
    g[REG_R8] = f->r8;
    g[REG_R9] = f->r9;
    g[REG_R10] = f->r10;
    g[REG_R11] = r11;
    g[REG_R12] = f->r12;
    g[REG_R13] = f->r13;
    g[REG_R14] = f->r14;
    g[REG_R15] = f->r15;
    g[REG_RDI] = f->rdi;
    g[REG_RSI] = f->rsi;
    g[REG_RBP] = f->rbp;
    g[REG_RBX] = f->rbx;
    g[REG_RDX] = f->rdx;
    g[REG_RAX] = f->rax;
    g[REG_RCX] = rcx;
    g[REG_RSP] = f->rsp;
    g[REG_RIP] = rip;
    g[REG_EFL] = f->flags;
}

void tl_raise_null_call(struct tl_frame *f)
{
    struct tl_tcb *t = tl_self();
    uint64_t target = tl_null_target(f, t->scr_rcx, t->scr_r11, t->landing);
    save_program_regs(t, f, t->scr_rcx, t->scr_r11, target);
    /* a fault cannot be blocked: the kernel would unblock it and use the default action */
    uint64_t cur = 0, m = SIGBIT(SIGSEGV);
    tl_sys4(SYS_rt_sigprocmask, SIG_BLOCK, 0, &cur, 8);
    if (cur & m) {
        virt[SIGSEGV].handler = SIG_DFL;
        kaction(SIGSEGV, SIG_DFL, 0, 0);
        tl_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, 0, 8);
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGSEGV;
    si.si_code = TL_SEGV_MAPERR;
    si.si_addr = (void *)target;
    t->fault.pending = SIGSEGV;
    tl_sys4(SYS_rt_tgsigqueueinfo, tl_pid, tl_sys0(SYS_gettid), SIGSEGV, &si);
    /* delivered on return from the call above; the handler resumes the program */
    tl_sys1(SYS_exit_group, 128 + SIGSEGV);
    __builtin_unreachable();
}

/* The kernel-level action standing for the program's action a on signal sig. */
static struct tl_ksigaction kernel_view(const struct tl_ksigaction *a)
{
    struct tl_ksigaction k = *a;
    k.mask &= ~SIGBIT(SIGSYS);
    if (a->handler != SIG_DFL && a->handler != SIG_IGN) {
        k.handler = (void *)tl_sig_wrapper;
        k.flags = a->flags | SA_SIGINFO | SA_RESTORER;
        k.restorer = tl_restorer;
    }
    return k;
}

/* The signals caught (a handler installed) and blocked now, from /proc/self/status
 * (SigCgt, SigBlk: all 64; /proc/self/stat, cheaper to format, masks its signal fields
 * to signals 1-31 and would miss a real-time handler). Read once by the preloaded
 * library's start-up, unless no code that could install one ran before it (sud/init.c;
 * the boot image's program has none yet); -1 if unreadable. */
static int status_signals(uint64_t *blocked)
{
    long fd = tl_sys4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    char buf[4096];
    long got; /* one read: the kernel formats the whole file at once (~1.4 KB) */
    do got = tl_sys3(SYS_read, fd, buf, sizeof buf - 1);
    while (got == -EINTR);
    tl_sys1(SYS_close, fd);
    if (got <= 0) return -1;
    buf[got] = 0;
    int found = 0;
    uint64_t caught = 0;
    for (char *p = buf; *p;) {
        uint64_t *to = tl_starts(p, "SigBlk:\t") ? blocked : tl_starts(p, "SigCgt:\t") ? &caught : 0;
        if (to) {
            uint64_t v = 0;
            int digits = 0;
            for (p += 8; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++, digits++)
                v = v * 16 + (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
            if (digits != 16 || *p != '\n') return -1;
            *to = v;
            found |= to == blocked ? 1 : 2;
        }
        while (*p && *p != '\n') p++;
        if (*p) p++;
    }
    if (found != 3) return -1;
    caught_at_start = caught;
    return 0;
}

/* At start-up: take over handlers installed before us (other preloads' or libraries'
 * constructors). Only signals with a handler need our wrapper; the dispositions of the
 * others are not queried (the kernel's are the program's: see virt_known). */
void tl_signals_adopt(void)
{
    /* entered at the first instruction: the exec reset every handler, none is caught */
    uint64_t caught = caught_at_start; /* known by tl_signals_install */
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGSYS || sig == SIGSEGV || sig == SIGKILL || sig == SIGSTOP) continue;
        if (!(caught & SIGBIT(sig))) continue;
        if (tl_sys4(SYS_rt_sigaction, sig, 0, &virt[sig], 8)) continue;
        virt_known |= SIGBIT(sig);
        if (virt[sig].handler != SIG_DFL && virt[sig].handler != SIG_IGN) {
            struct tl_ksigaction k = kernel_view(&virt[sig]);
            tl_sys4(SYS_rt_sigaction, sig, &k, 0, 8);
        }
    }
}

/* The flags the kernel keeps (UAPI_SA_FLAGS on x86-64): others are cleared, so that a
 * program can detect flags this kernel does not support. */
#define UAPI_SA_FLAGS_                                                                                                             \
    (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | TL_SA_EXPOSE_TAGBITS |       \
     SA_RESTORER)

long tl_virt_sigaction(long sig, const struct tl_ksigaction *act, struct tl_ksigaction *old, long size)
{
    if (size != 8 || sig < 1 || sig > 64) return tl_sys4(SYS_rt_sigaction, sig, act, old, size);
    struct tl_ksigaction a;
    if (act && !tl_safe_read((uint64_t)act, &a, sizeof a)) return -EFAULT;
    if (act && (sig == SIGKILL || sig == SIGSTOP)) return -EINVAL;
    /* as the kernel stores it: unknown flags cleared, SIGKILL/SIGSTOP never in a mask */
    a.flags &= UAPI_SA_FLAGS_;
    a.mask &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    struct tl_tcb *t = tl_self();
    /* a vfork child shares our memory with its parent: its changes must not reach the
     * parent's virtual table (it will exec or exit soon) */
    int vforked = t->vfork_child || (int)tl_sys0(SYS_gettid) != t->tid;
    struct tl_ksigaction prev = virt[sig];
    int known = KNOWN(sig) != 0;
    if (sig == SIGSYS || sig == SIGSEGV) {
        /* a vfork child's own view (read back by it, handed on by its exec) */
        if (vforked) prev = *own_view(t, sig);
        if (act && vforked) {
            memcpy(t->vf_act[sig == SIGSEGV], &a, sizeof a);
            t->vf_set |= 1 << (sig == SIGSEGV);
        } else if (act) {
            if (sig == SIGSYS && a.handler == SIG_IGN) __atomic_add_fetch(&sigsys_ign_gen, 1, __ATOMIC_RELAXED);
            virt[sig] = a;
            if (sig == SIGSEGV) register_segv();
        }
    } else if (act) {
        struct tl_ksigaction k = vforked ? a : kernel_view(&a);
        if (vforked) k.mask &= ~SIGBIT(SIGSYS);
        long r = tl_sys4(SYS_rt_sigaction, sig, &k, known ? 0 : &prev, 8);
        if (r) return r;
        if (!vforked) {
            virt[sig] = a;
            __atomic_or_fetch(&virt_known, SIGBIT(sig), __ATOMIC_RELAXED);
        }
    } else if (sig == SIGKILL || sig == SIGSTOP || old) {
        long r = tl_sys4(SYS_rt_sigaction, sig, 0, known ? 0 : &prev, 8); /* validates the number */
        if (r) return r;
    }
    /* the old action is written after the new one is in place, as the kernel does: a bad
     * pointer gives EFAULT with the change made */
    if (old && !tl_safe_write((uint64_t)old, &prev, sizeof prev)) return -EFAULT;
    return 0;
}

long tl_virt_sigprocmask(long how, const uint64_t *set, uint64_t *old, long size)
{
    if (size != 8) return tl_sys4(SYS_rt_sigprocmask, how, set, old, size);
    struct tl_tcb *t = tl_self();
    uint64_t s = 0, sb = SIGBIT(SIGSYS);
    if (set && !tl_safe_read((uint64_t)set, &s, 8)) return -EFAULT;
    int v = t->sigsys_blocked;
    if (set) {
        if (how == SIG_BLOCK) {
            if (s & sb) v = 1;
        } else if (how == SIG_UNBLOCK) {
            if (s & sb) v = 0;
        } else if (how == SIG_SETMASK)
            v = (s & sb) != 0;
    }
    uint64_t k = s & ~sb;
    /* the kernel writes the old mask itself, after the change: a bad pointer gives EFAULT
     * with the mask set (our copy of the new one is always readable) */
    long r = tl_sys4(SYS_rt_sigprocmask, how, set ? &k : 0, old, 8);
    if (r && r != -EFAULT) return r;
    /* EFAULT writing the old mask: the new one is in force all the same, as natively */
    if (r == 0 && old) { /* just written by the kernel; read back safely all the same */
        uint64_t o;
        if (tl_safe_read((uint64_t)old, &o, 8)) {
            o = (o & ~sb) | (t->sigsys_blocked ? sb : 0);
            if (!tl_safe_write((uint64_t)old, &o, 8)) r = -EFAULT;
        } else {
            r = -EFAULT;
        }
    }
    t->sigsys_blocked = v;
    if (!v) sigsys_resend(t); /* a pending SIGSYS is delivered on unblock */
    return r;
}

/* sigaltstack: the program sees (and gets) its own alternate stack; while it has none,
 * ours stays registered so that SIGSYS never needs room on the program's stack. */
long tl_virt_sigaltstack(const stack_t *ss, stack_t *old)
{
    struct tl_tcb *t = tl_self();
    stack_t n, cur;
    if (ss && !tl_safe_read((uint64_t)ss, &n, sizeof n)) return -EFAULT;
    long r = tl_sys2(SYS_sigaltstack, 0, &cur);
    if (r) return r;
    /* what the kernel reports: the stack as set, SS_DISABLE when there is none, else
     * SS_ONSTACK while on it; plus SS_AUTODISARM if it was set */
    stack_t view = t->app_ss;
    int disabled = (view.ss_flags & SS_DISABLE) != 0;
    view.ss_flags = (disabled ? SS_DISABLE : (cur.ss_flags & SS_ONSTACK)) | (t->app_ss.ss_flags & SS_AUTODISARM);
    if (disabled) {
        view.ss_sp = 0;
        view.ss_size = 0;
    }
    if (ss) {
        if (cur.ss_flags & SS_ONSTACK) return -EPERM; /* as the kernel: not while on it */
        int mode = n.ss_flags & ~SS_AUTODISARM;
        if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0) return -EINVAL;
        if (mode == SS_DISABLE) {
            stack_t ours = {(void *)t->alt_lo, 0, t->alt_size};
            tl_sys2(SYS_sigaltstack, &ours, 0);
            t->app_ss.ss_flags = n.ss_flags; /* SS_DISABLE, and SS_AUTODISARM if given */
            t->app_ss.ss_sp = 0;
            t->app_ss.ss_size = 0;
        } else {
            r = tl_sys2(SYS_sigaltstack, &n, 0);
            if (r) return r;
            t->app_ss = n;
            t->app_ss.ss_flags &= SS_AUTODISARM;
        }
    }
    /* written after the change, as the kernel does */
    if (old && !tl_safe_write((uint64_t)old, &view, sizeof view)) return -EFAULT;
    return 0;
}

/* ---- the program's own Syscall User Dispatch, emulated on top of ours ---- */

long tl_virt_sud(long mode, uint64_t off, uint64_t len, uint64_t sel)
{
    struct tl_tcb *t = tl_self();
    /* the kernel's checks (kernel/entry/syscall_user_dispatch.c), in its order */
    switch (mode) {
    case TL_PR_SYS_DISPATCH_OFF:
        if (off || len || sel) return -EINVAL;
        t->app_sud_on = 0;
        memcpy(t->special, tl_special, sizeof t->special);
        memcpy(t->polonly, tl_policy_only, sizeof t->polonly);
        return 0;
    case TL_PR_SYS_DISPATCH_ON: /* PR_SYS_DISPATCH_EXCLUSIVE_ON */
        if (off && off + len <= off) return -EINVAL;
        break;
    case TL_PR_SYS_DISPATCH_INCLUSIVE_ON:
        if (len == 0 || off + len <= off) return -EINVAL;
        off = off + len; /* the range inverted (wraps) */
        len = -len;
        break;
    default: return -EINVAL;
    }
    /* access_ok(): an address check only; an unmapped selector is accepted and kills
     * the thread with SIGSEGV at its next call */
    if (sel && sel > TL_TASK_SIZE_MAX) return -EFAULT;
    t->app_sud_on = 1;
    t->app_sud_off = off;
    t->app_sud_len = len;
    t->app_sud_sel = sel;
    memset(t->special, TL_SPECIAL_C, sizeof t->special); /* every call to the dispatch */
    memset(t->polonly, 0, sizeof t->polonly); /* policies' exemptions too */
    return 0;
}

/* force_exit_sig(): the thread group dies by sig whatever the program's action or mask */
static __attribute__((noreturn)) void force_exit(int sig)
{
    kaction(sig, SIG_DFL, 0, 0);
    uint64_t m = SIGBIT(sig);
    tl_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &m, 0, 8);
    tl_sys3(SYS_tgkill, tl_pid, tl_sys0(SYS_gettid), sig);
    tl_sys1(SYS_exit_group, 128 + sig);
    __builtin_unreachable();
}

/* 1 if the program's SUD blocks this call (and it has been turned into a SIGSYS for the
 * program, which does not return here), 0 to perform it. */
int tl_app_sud_check(struct tl_frame *f)
{
    struct tl_tcb *t = tl_self();
    if (f->ret - t->app_sud_off < t->app_sud_len) return 0;
    if (t->app_sud_sel) {
        uint8_t b = TL_SUD_BLOCK;
        if (!tl_safe_read(t->app_sud_sel, &b, 1)) force_exit(SIGSEGV);
        if (b == TL_SUD_ALLOW) return 0;
        if (b != TL_SUD_BLOCK) force_exit(SIGSYS);
    }
    /* force_sig_info(): a blocked SIGSYS (by the program's mask, or because its SIGSYS
     * handler is running) or an ignored one kills, as a default action would */
    if (t->sigsys_blocked || virt[SIGSYS].handler == SIG_IGN || virt[SIGSYS].handler == SIG_DFL) force_exit(SIGSYS);
    int i386 = f->via == TL_VIA_I386; /* int $0x80 keeps rcx and r11 */
    save_program_regs(t, f, i386 ? f->rcx : f->ret, i386 ? f->r11 : f->flags, f->ret); /* rcx, r11 as the kernel leaves them */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGSYS;
    si.si_code = TL_SI_SYS_USER_DISPATCH;
    si.si_call_addr = (void *)f->ret;
    si.si_syscall = (int)f->rax;
    si.si_arch = i386 ? TL_AUDIT_ARCH_I386 : TL_AUDIT_ARCH_X86_64;
    t->fault.pending = SIGSYS;
    tl_sys4(SYS_rt_tgsigqueueinfo, tl_pid, tl_sys0(SYS_gettid), SIGSYS, &si);
    tl_sys1(SYS_exit_group, 128 + SIGSYS); /* not reached */
    return 1;
}
