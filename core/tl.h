/* trapline internal header: shared by core/, sud/ and lazy/.
 * Everything here runs inside the target program. Rules for this code:
 *  - compiled with -mgeneral-regs-only: it never touches vector registers, so the
 *    interposition paths need not save them (only user hooks get a save: core/hooks.c);
 *  - after start-up it calls no libc function: system calls go through tl_sys*()
 *    (raw `syscall` instructions inside our text, which SUD always lets through). */
#ifndef TRAPLINE_TL_H
#define TRAPLINE_TL_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stddef.h>
#include <signal.h>
#include <sys/syscall.h>
#include "tcb.h"
#include "stats_layout.h"
_Static_assert(TL_ASM_NR_MAX == TL_NR_MAX, "entry.S counts numbers below TL_NR_MAX");
#include "trapline.h"
_Static_assert(TL_VIA_TRAP == TRAPLINE_VIA_TRAP && TL_VIA_FAST == TRAPLINE_VIA_FAST, "the public via values");

#define HIDDEN __attribute__((visibility("hidden")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
/* the highest address access_ok() accepts (4-level paging, as this kernel reports) */
#define TL_USER_PTR_MAX 0x7ffffffff000ull
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- raw system calls (never intercepted: they run from our text range) */
static inline long tl_sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
/* an i386 call (int $0x80): arguments in ebx ecx edx esi edi ebp. Inline, with no stack
 * use, like tl_sys6: a vfork child returns through the same frame (core/i386.c). */
static inline long tl_int80_6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r8 __asm__("r8") = f;
    long r;
    __asm__ volatile("mov %%rbp, %%r9\n\tmov %%r8, %%rbp\n\tint $0x80\n\tmov %%r9, %%rbp"
                     : "=a"(r) : "0"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), "r"(r8) : "r9", "memory");
    return r;
}
#define tl_sys0(n) tl_sys6((n), 0, 0, 0, 0, 0, 0)
#define tl_sys1(n, a) tl_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define tl_sys2(n, a, b) tl_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define tl_sys3(n, a, b, c) tl_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define tl_sys4(n, a, b, c, d) tl_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define tl_sys5(n, a, b, c, d, e) tl_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* ---- a spin lock (usable in any context; the holder never blocks) */
static inline void tl_spin_lock(int *l) { while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause(); }
static inline void tl_spin_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* ---- kernel sigaction layout (rt_sigaction syscall) */
struct tl_ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* ---- configuration (core/config.c) */
struct tl_config {
    int mode;                /* enum tl_mode */
    int mode_forced;         /* mode given explicitly by TRAPLINE_MODE */
    int mode_asked;          /* that mode, before any fallback (tl_cfg.mode is what runs) */
    const char *hook;        /* TRAPLINE_HOOK or NULL */
    const char *stats;       /* TRAPLINE_STATS or NULL (made absolute by tl_stats_open) */
    uint64_t stats_cookie;   /* TRAPLINE_STATS_COOKIE: join the segment with this run cookie; 0: create it */
    int quiet;               /* TRAPLINE_QUIET=1: no warnings */
    const char *plan;        /* TRAPLINE_PLAN: plan file or cache directory, or NULL */
    int policy;              /* TRAPLINE_REWRITE: enum tl_policy */
    int allow_null_reads;    /* TRAPLINE_ALLOW_NULL_READS=1: rewrite even if page 0 stays readable */
};
HIDDEN extern struct tl_config tl_cfg;
HIDDEN int tl_config_load(void);      /* 0, or -1 after printing an error */

/* ---- globals (core/init.c) */
HIDDEN extern int tl_active;           /* interposition is on */
HIDDEN extern int tl_zero_mapped;      /* trampoline at 0 in place */
HIDDEN extern uint64_t tl_text_lo, tl_text_hi;   /* our executable range (SUD allowed) */
HIDDEN extern uint64_t tl_vdso_lo, tl_vdso_hi;
HIDDEN extern uint8_t tl_special[TL_NR_MAX];     /* numbers the fast path hands to C */
HIDDEN extern uint64_t *tl_sites;      /* site table: return addresses (site + 2) */
HIDDEN extern int tl_pid;
HIDDEN extern const char *tl_self_name;

/* ---- output */
HIDDEN void tl_write_err(const char *s);
HIDDEN void tl_fmt_u64(char *buf, uint64_t v, int base);   /* buf >= 24 bytes */
HIDDEN void tl_error(const char *a, const char *b, const char *c);  /* "trapline: a b c\n" */
HIDDEN __attribute__((noreturn)) void tl_die(const char *a, const char *b, const char *c);
HIDDEN size_t tl_strlen(const char *s);
HIDDEN int tl_streq(const char *a, const char *b);
HIDDEN const char *tl_getenv(const char *name);
HIDDEN int tl_safe_read(uint64_t addr, void *out, size_t n);
HIDDEN int tl_safe_write(uint64_t addr, const void *in, size_t n);

/* ---- trampoline (core/trampoline.c) */
HIDDEN int tl_trampoline_map(void);     /* 0 ok, else -errno */
/* ---- pointer arguments into a readable page 0 (core/nullargs.c) */
HIDDEN extern int tl_nullargs_on;
HIDDEN void tl_nullargs_init(int page0_readable);
HIDDEN unsigned tl_nullargs_fix(long nr, uint64_t *args[6], uint64_t saved[6]);
HIDDEN void tl_nullargs_restore(uint64_t *args[6], const uint64_t saved[6], unsigned done);
/* ---- page 0 as unmapped to the program's calls (core/page0.c) */
HIDDEN int tl_page0_call(long nr, const uint64_t a[6], long *ret);   /* 1: answered in *ret */

/* ---- exec (core/exec.c) */
HIDDEN void tl_exec_setenv(const char *kv);   /* "TRAPLINE_X=v": what exec'd programs get */

/* ---- stats (core/stats.c) */
HIDDEN extern struct tl_stats_header *tl_stats;
HIDDEN extern struct tl_nr_counters *tl_nr;
HIDDEN int tl_stats_open(void);
struct tl_stats_geom;
HIDDEN extern struct tl_stats_geom tl_stats_geom_cur;   /* table offsets (never read from the file) */
HIDDEN uint64_t *tl_stats_thread_block(int *slot_out);
HIDDEN void tl_stats_thread_release(int slot);
HIDDEN void tl_stats_after_fork(struct tl_tcb *t);
HIDDEN void tl_count_slow(long nr, int via);
HIDDEN void tl_count_error(long nr);

/* ---- per-thread state (sud/thread.c) */
HIDDEN struct tl_tcb *tl_tcb_new(void);
HIDDEN void tl_tcb_install(struct tl_tcb *t);
HIDDEN int tl_sud_enable(struct tl_tcb *t);     /* 0 or -errno */
HIDDEN void tl_thread_child_init(uint64_t clone_flags);
HIDDEN void tl_signals_adopt(void);
HIDDEN void tl_after_fork_child(void);
static inline struct tl_tcb *tl_self(void)
{
    struct tl_tcb *t;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(t));
    return t;
}

/* ---- signals (sud/signals.c) */
HIDDEN int tl_signals_install(void);
HIDDEN long tl_virt_sigaction(long sig, const struct tl_ksigaction *act, struct tl_ksigaction *old, long size);
HIDDEN long tl_virt_sigpending(uint64_t *set, long size);
HIDDEN long tl_virt_sigaltstack(const stack_t *ss, stack_t *old);
HIDDEN long tl_virt_sigprocmask(long how, const uint64_t *set, uint64_t *old, long size);
HIDDEN __attribute__((noreturn)) void tl_raise_null_call(struct tl_frame *f);
HIDDEN uint64_t tl_frame_top(struct tl_tcb *t, uint64_t rsp);
HIDDEN uint64_t tl_null_target(const struct tl_frame *f, uint64_t rcx, uint64_t r11, uint32_t group);
HIDDEN long tl_virt_sud(long mode, uint64_t off, uint64_t len, uint64_t sel);
HIDDEN extern int tl_sigsys_noreturn;
HIDDEN int tl_signals_sigsys_noreturn(void);
HIDDEN __attribute__((noreturn)) void tl_sigsys_resume(const uint64_t *gregs);
HIDDEN int tl_app_sud_check(struct tl_frame *f);

/* ---- coverage records (core/coverage.c) */
HIDDEN void tl_cov_init(void);
HIDDEN void tl_cov_after_fork(void);
HIDDEN void tl_cov_exit(long status);
HIDDEN void tl_cov_reaped(long pid, int wait_status);
struct tl_mapping;
HIDDEN struct tl_site_rec *tl_cov_site(uint64_t site, int create, const struct tl_mapping *where);
HIDDEN void tl_cov_nr(struct tl_site_rec *s, long nr);
HIDDEN void tl_cov_state(struct tl_site_rec *s, int state, int reason);
HIDDEN void tl_cov_plan(struct tl_site_rec *s, int source, int state, int reason);
HIDDEN uint64_t *tl_cov_fast_counter(struct tl_site_rec *s, long nr);

/* ---- /proc/self/maps (lazy/maps.c) */
struct tl_mapping { uint64_t start, end, offset; int prot; int shared; char path[288]; };
HIDDEN int tl_maps_each(int (*fn)(const struct tl_mapping *, void *), void *arg);  /* fn returns 1 to stop */
HIDDEN int tl_maps_find(uint64_t addr, struct tl_mapping *out);                   /* 0 found */
HIDDEN int tl_maps_find_pid(int pid, uint64_t addr, struct tl_mapping *out);      /* 0 found */
/* ---- a tracer's view of its interposed tracees (core/ptrace.c) */
HIDDEN long tl_ptrace_call(long req, long pid, long addr, long data);
HIDDEN int tl_ptrace_hide_stop(long pid, int status);
HIDDEN const char *tl_exec_self_path(void);
/* ---- our own map of the address space (lazy/vmmap.c): use these, not the above */
HIDDEN int tl_vm_find(uint64_t addr, struct tl_mapping *out);                     /* 0 found */
HIDDEN int tl_vm_each(uint64_t lo, uint64_t hi, int (*fn)(const struct tl_mapping *, void *), void *arg);
HIDDEN void tl_vm_begin(void);                                  /* before a call that changes mappings */
HIDDEN void tl_vm_end(long nr, const uint64_t a[6], long ret);  /* after it */
HIDDEN void tl_vm_invalidate(void);                             /* changed in a way not modelled */
HIDDEN void tl_vm_after_fork(void);
HIDDEN extern int tl_vm_suspect;                                /* a hook may have changed mappings */

/* ---- sites (lazy/sites.c, lazy/rewrite.c) */
HIDDEN int tl_sites_init(void);
HIDDEN void *tl_alloc_big(uint64_t size);     /* zeroed, page-aligned private memory, or NULL */
HIDDEN int tl_site_known(uint64_t ret);
HIDDEN int tl_site_insert(uint64_t ret, uint64_t *hits);
HIDDEN int tl_rewrite_precheck(uint64_t site);
HIDDEN int tl_rewrite_site(uint64_t site, uint64_t *hits, const struct tl_mapping *where);   /* TL_REASON_NONE: rewritten; else why not */
HIDDEN void tl_rewrite_after_fork(void);
HIDDEN void tl_site_remove(uint64_t ret);
HIDDEN void tl_rewrite_lock(void);
HIDDEN void tl_rewrite_unlock(void);
HIDDEN void tl_rewrite_serialise(void);
HIDDEN uint32_t tl_rewrite_seq(void);                              /* odd: a page is held writable */
HIDDEN void tl_rewrite_transient(uint64_t page[2], int prot[2]);   /* which, and its real protection */
HIDDEN void tl_unrewrite_site(uint64_t site);
HIDDEN int tl_rewrite_planned(uint64_t site, uint64_t *hits, const struct tl_mapping *where);
HIDDEN int tl_rewrite_batch_begin(void);    /* 1: batch started (end it with tl_rewrite_batch_end) */
HIDDEN void tl_rewrite_batch_end(void);
HIDDEN int tl_threads_alone(void);
HIDDEN void tl_threads_pending(int delta);
/* ---- plans (lazy/plan.c) */
HIDDEN extern int tl_plan_active;
HIDDEN int tl_plan_init(void);
HIDDEN void tl_plan_apply(uint64_t addr, uint64_t len);
HIDDEN int tl_plan_source(uint64_t site, const struct tl_mapping *m);
HIDDEN uint32_t tl_elf_build_id(uint64_t base, uint8_t id[20]);
HIDDEN int tl_policy_refused(uint64_t site);
HIDDEN void tl_policy_refuse(uint64_t site);
/* ---- code that changes under us (lazy/jit.c) */
HIDDEN void tl_jit_note_site(uint64_t site);
HIDDEN void tl_jit_invalidate(uint64_t addr, uint64_t len, int restore);
HIDDEN void tl_tcb_register(struct tl_tcb *t);
HIDDEN void tl_tcbs_refresh_special(void);
HIDDEN void tl_tcb_unregister(struct tl_tcb *t);
HIDDEN void tl_jit_after_fork(struct tl_tcb *self);

/* ---- dispatch + hooks (core/dispatch.c, core/hooks.c) */
HIDDEN long tl_dispatch(struct tl_frame *f);
HIDDEN int tl_dispatch_handles(long nr);
HIDDEN int tl_dispatch_needs_frame(long nr);
HIDDEN long tl_perform_args(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN void tl_special_init(void);
HIDDEN int tl_hooks_load(void);
HIDDEN extern int tl_hook_loaded;
HIDDEN extern int tl_hook_loading;     /* the hook library is being loaded (tl_init) */
HIDDEN int tl_hook_program_site(uint64_t site);
HIDDEN __attribute__((noreturn)) void tl_hook_crashed(int sig);
HIDDEN long tl_hook_call(struct tl_frame *f, int *handled);
HIDDEN long tl_dispatch_hooked(struct tl_frame *f);

/* ---- 32-bit calls: int $0x80 (core/i386.c, core/entry_i386.S) */
HIDDEN int tl_i386_trap(const siginfo_t *si, void *uc);     /* 1: an i386 call, redirected */
HIDDEN long tl_dispatch_i386(struct tl_frame *f);
HIDDEN long tl_i386_perform_args(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN int tl_i386_needs_frame(long nr);
HIDDEN long tl_do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp);
HIDDEN long tl_perform_frame(struct tl_frame *f, int *action);
HIDDEN void tl_count_i386(long nr, int error);
HIDDEN extern char tl_i386_entry[];
HIDDEN long tl_clone_thread_i386(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags);
/* ---- the program's own seccomp (core/seccomp.c) */
HIDDEN extern int tl_seccomp_mode;
HIDDEN int tl_seccomp_allows(long nr, long a0, long a1, long a2);
HIDDEN int tl_seccomp_allows_rewrite(void);
HIDDEN long tl_seccomp_call(long nr, long a0, long a1, long a2, long a3, long a4);

/* ---- exec (core/exec.c) */
HIDDEN void tl_exec_init(void);
HIDDEN long tl_exec(long nr, long a1, long a2, long a3, long a4, long a5);
HIDDEN long tl_exec_i386(long nr, long a1, long a2, long a3, long a4, long a5);
HIDDEN extern int tl_follow_exec;
HIDDEN char **tl_exec_env_without_us(void);

/* ---- entry.S */
HIDDEN extern char tl_fast_entry[], tl_sud_entry[], tl_fix_entry[], tl_restorer[], tl_land_stubs[];
HIDDEN long tl_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN long tl_clone_thread(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags);
HIDDEN __attribute__((noreturn)) void tl_exit_thread(void *base, size_t len, long code, long nr);

/* ---- small libc replacements (no vector code) */
HIDDEN void *memcpy(void *d, const void *s, size_t n);
HIDDEN void *memset(void *d, int c, size_t n);

#endif
