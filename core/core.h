/* core/: the bottom layer of the code that runs inside the target program. What it
 * offers the layers above (lazy/, then sud/: see docs/design.md, "Layers"):
 *   raw system calls and output (util.c), configuration (config.c), the statistics
 *   segment and coverage records (stats.c, coverage.c), the trampoline at address 0
 *   (trampoline.c) and the entry stubs (entry.S), the per-thread control block (tcb.h)
 *   and the registry of threads (threads.c), the table of rewritten sites (sites.c),
 *   our map of the address space and the readers of /proc/<pid>/maps and of mapped ELF
 *   images (vmmap.c, maps.c, elf.c), the one dispatch point of the slow path and the
 *   calls it performs itself (dispatch.c, page0.c, nullargs.c, seccomp.c, ptrace.c), and
 *   user hooks in their own namespace (hooks.c).
 * core/ includes no header of lazy/ or sud/. It reaches them only through tl_up (below),
 * which sud/init.c fills in at start-up.
 *
 * Rules for all code in core/, lazy/ and sud/:
 *  - compiled with -mgeneral-regs-only: it never touches vector registers, so the
 *    interposition paths need not save them (only user hooks get a save: core/hooks.c);
 *  - after start-up it calls no libc function: system calls go through tl_sys*()
 *    (raw `syscall` instructions inside our text, which SUD always lets through). */
#ifndef TRAPLINE_CORE_H
#define TRAPLINE_CORE_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stddef.h>
#include <signal.h>
#include <sys/syscall.h>
#include "core/kabi.h"
#include "core/tcb.h"
#include "core/stats_layout.h"
#include "core/sled.h"
_Static_assert(TL_ASM_NR_MAX == TL_NR_MAX, "entry.S counts numbers below TL_NR_MAX");
#include "include/trapline.h"
_Static_assert(TL_VIA_TRAP == TRAPLINE_VIA_TRAP && TL_VIA_FAST == TRAPLINE_VIA_FAST, "the public via values");

#define HIDDEN __attribute__((visibility("hidden")))
/* a large zeroed table: placed after the other variables (.lbss follows .bss), so that
 * those the start-up touches share a few pages instead of one each between tables */
#define TL_COLD __attribute__((section(".lbss")))
/* exit statuses of a process trapline stops itself */
#define TL_EXIT_SETUP 2 /* it cannot run as asked (bad settings, no SUD, a hook refused): one line */
#define TL_EXIT_INTERNAL 127 /* tl_die: trapline cannot go on (one line says why) */
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- raw system calls (never intercepted: they run from our text range) */
static inline long tl_sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return r;
}
/* an i386 call (int $0x80): arguments in ebx ecx edx esi edi ebp. Inline, with no stack
 * use, like tl_sys6: a vfork child returns through the same frame (sud/i386.c). */
static inline long tl_int80_6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r8 __asm__("r8") = f;
    long r;
    __asm__ volatile("mov %%rbp, %%r9\n\tmov %%r8, %%rbp\n\tint $0x80\n\tmov %%r9, %%rbp"
                     : "=a"(r)
                     : "0"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), "r"(r8)
                     : "r9", "memory");
    return r;
}
#define tl_sys0(n) tl_sys6((n), 0, 0, 0, 0, 0, 0)
#define tl_sys1(n, a) tl_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define tl_sys2(n, a, b) tl_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define tl_sys3(n, a, b, c) tl_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define tl_sys4(n, a, b, c, d) tl_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define tl_sys5(n, a, b, c, d, e) tl_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* ---- a spin lock (usable in any context; the holder never blocks) */
/* a waiter that has spun a while gives its CPU away: with more threads than CPUs, the
 * holder may be the one waiting for a CPU (tl_spin_yield, core/util.c) */
HIDDEN void tl_spin_yield(void);
static inline void tl_spin_lock(int *l)
{
    for (unsigned n = 1; __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE); n++) {
        __builtin_ia32_pause();
        if (UNLIKELY((n & 255) == 0)) tl_spin_yield();
    }
}
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
    int mode; /* enum tl_mode */
    int mode_forced; /* mode given explicitly by TRAPLINE_MODE */
    int mode_asked; /* that mode, before any fallback (tl_cfg.mode is what runs) */
    const char *hook; /* TRAPLINE_HOOK or NULL */
    const char *stats; /* TRAPLINE_STATS or NULL (made absolute by tl_stats_open) */
    uint64_t stats_cookie; /* TRAPLINE_STATS_COOKIE: join the segment with this run cookie; 0: create it */
    int quiet; /* TRAPLINE_QUIET=1: no warnings */
    const char *plan; /* TRAPLINE_PLAN: plan file or cache directory, or NULL */
    int policy; /* TRAPLINE_REWRITE: enum tl_policy */
    int allow_null_reads; /* TRAPLINE_ALLOW_NULL_READS=1: rewrite even if page 0 stays readable */
    int vdso_off; /* TRAPLINE_VDSO=off: the vDSO hidden from programs we enter */
    int hook_skipped; /* TRAPLINE_HOOK_SKIPPED=1: a hook was asked for, this program cannot have it */
    int entry_preload; /* TRAPLINE_ENTRY=preload: exec'd programs start the preload way too */
    const char *policy_file; /* TRAPLINE_POLICY: the policy file (core/policy.c), or NULL */
    int caps; /* TRAPLINE_CAPS: 0, TL_CAPS_DROP or TL_CAPS_DROPPED (the launcher's file capability) */
    int exec_sigign; /* TRAPLINE_SIGIGN: TL_IGN_SYS | TL_IGN_SEGV, ignored by the program that exec'd us */
};
#define TL_IGN_SYS 1
#define TL_IGN_SEGV 2
#define TL_CAPS_DROP 1
#define TL_CAPS_DROPPED 2
HIDDEN extern struct tl_config tl_cfg;
HIDDEN int tl_config_load(void); /* 0, or -1 after printing an error */

/* ---- process-wide facts, set at start-up (sud/init.c) */
HIDDEN extern int tl_active; /* interposition is on */
HIDDEN extern int tl_zero_mapped; /* trampoline at 0 in place (core/trampoline.c) */
HIDDEN extern uint64_t tl_text_lo, tl_text_hi; /* our executable range (SUD allowed) */
HIDDEN extern uint64_t tl_vdso_lo, tl_vdso_hi;
HIDDEN extern int tl_pid;
HIDDEN extern const char *tl_self_name;
HIDDEN extern char **tl_env; /* our settings: environ, or the boot block (sud/boot.c) */
HIDDEN extern const uint64_t *tl_auxv; /* the auxiliary vector the kernel gave the process */
HIDDEN extern int tl_booted; /* entered at the program's first instruction */
HIDDEN uint64_t tl_auxv_get(uint64_t type); /* 0 if absent */

/* ---- output */
HIDDEN void tl_write_err(const char *s);
HIDDEN void tl_fmt_u64(char *buf, uint64_t v, int base); /* buf >= 24 bytes */
HIDDEN void tl_error(const char *a, const char *b, const char *c); /* "trapline: a b c\n" */
HIDDEN __attribute__((noreturn)) void tl_die(const char *a, const char *b, const char *c);
HIDDEN void tl_limit(uint32_t flag, const char *a, const char *b, const char *c); /* TL_FLAG_*, said once */
HIDDEN char *tl_fmt_hex(char *buf, uint64_t v); /* "0x..." (buf >= 24 bytes) */
HIDDEN size_t tl_strlen(const char *s);
/* s appended to buf at k (buf holds cap bytes; what does not fit is cut), NUL-terminated:
 * the new length */
HIDDEN size_t tl_put(char *buf, size_t cap, size_t k, const char *s);
HIDDEN int tl_streq(const char *a, const char *b);
HIDDEN const char *tl_getenv(const char *name);
HIDDEN int tl_safe_read(uint64_t addr, void *out, size_t n);
HIDDEN int tl_safe_write(uint64_t addr, const void *in, size_t n);

/* ---- trampoline (core/trampoline.c) */
HIDDEN int tl_trampoline_map(void); /* 0 ok, else -errno */
/* ---- pointer arguments into a readable page 0 (core/nullargs.c) */
HIDDEN extern int tl_nullargs_on;
/* 0, or -1: out of memory; none: TL_NULLARGS_NONE bytes already PROT_NONE, or 0 to map them */
HIDDEN int tl_nullargs_init(int page0_readable, uint64_t none);
#define TL_NULLARGS_NONE 8192
HIDDEN unsigned tl_nullargs_fix(long nr, uint64_t *args[6], uint64_t saved[6]);
HIDDEN void tl_nullargs_restore(uint64_t *args[6], const uint64_t saved[6], unsigned done);
/* ---- page 0 as unmapped to the program's calls (core/page0.c) */
HIDDEN int tl_page0_call(long nr, const uint64_t a[6], long *ret); /* 1: answered in *ret */

/* ---- the environment we run with and hand on (core/env.c) */
#define TL_SELF_PATH_MAX 1024
HIDDEN void tl_env_init(void);
HIDDEN void tl_env_set(const char *kv); /* "TRAPLINE_X=v": what exec'd programs get */
HIDDEN const char *const *tl_env_settings(int *n);
HIDDEN const char *tl_self_path(void); /* this image's path, "" if unknown */
HIDDEN const char *tl_lib_path(void); /* libtrapline.so beside it ("" if unknown) */
HIDDEN const char *tl_boot_path(void); /* libtrapline-boot.so beside it ("" if unknown) */
HIDDEN const char *tl_launcher_path(void); /* trapline-exec beside it ("" if unknown) */
HIDDEN int tl_starts(const char *s, const char *prefix);
HIDDEN size_t tl_preload_without_us(char *out, size_t room, const char *list); /* 0: no entry left */
HIDDEN extern int tl_follow_exec;

/* ---- stats (core/stats.c) */
HIDDEN extern struct tl_stats_header *tl_stats;
HIDDEN extern struct tl_nr_counters *tl_nr;
HIDDEN int tl_stats_open(void);
struct tl_stats_geom;
HIDDEN extern struct tl_stats_geom tl_stats_geom_cur; /* table offsets (never read from the file) */
HIDDEN uint64_t *tl_stats_thread_block(int *slot_out);
HIDDEN void tl_stats_thread_release(struct tl_tcb *t); /* a thread exits: its counts go in */
HIDDEN void tl_stats_fold_private(void); /* the process exits or execs */
HIDDEN void tl_stats_after_fork(struct tl_tcb *t);
HIDDEN void tl_count_slow(long nr, int via);
HIDDEN void tl_count_error(long nr);
HIDDEN void tl_count_i386(long nr, int error);

static inline struct tl_tcb *tl_self(void)
{
    struct tl_tcb *t;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(t));
    return t;
}

/* ---- the registry of threads (core/threads.c) */
HIDDEN void tl_tcb_register(struct tl_tcb *t);
HIDDEN void tl_tcb_unregister(struct tl_tcb *t);
HIDDEN void tl_threads_each(void (*fn)(struct tl_tcb *, void *), void *arg);
HIDDEN void tl_tcbs_refresh_special(void);
HIDDEN int tl_threads_alone(void);
HIDDEN void tl_threads_pending(int delta);
HIDDEN void tl_threads_settle(void); /* until no thread being created can still read our block */
HIDDEN void tl_threads_after_fork(struct tl_tcb *self);

/* ---- coverage records (core/coverage.c) */
HIDDEN void tl_cov_init(void);
HIDDEN extern int tl_cov_loader_phase; /* entered in the dynamic loader, not out of it yet */
HIDDEN void tl_cov_loader_call(uint64_t site); /* a call from site during that phase */
HIDDEN void tl_cov_after_fork(void);
HIDDEN void tl_cov_exit(long status);
HIDDEN void tl_cov_reaped(long pid, int wait_status);
struct tl_mapping;
HIDDEN struct tl_site_rec *tl_cov_site(uint64_t site, int create, const struct tl_mapping *where);
HIDDEN void tl_cov_nr(struct tl_site_rec *s, long nr);
HIDDEN void tl_cov_state(struct tl_site_rec *s, int state, int reason);
HIDDEN void tl_cov_plan(struct tl_site_rec *s, int source, int state, int reason);
HIDDEN uint64_t *tl_cov_fast_counter(struct tl_site_rec *s, long nr);
HIDDEN extern int tl_cov_want_origins; /* classify modules even without a segment (policies) */
struct tl_mapping;
HIDDEN uint32_t tl_cov_origin(const struct tl_mapping *m); /* enum tl_origin of the code in m */
HIDDEN int tl_cov_own_counter(const uint64_t *hits); /* not the shared overflow record */

/* ---- /proc/self/maps (core/maps.c) */
struct tl_mapping {
    uint64_t start, end, offset;
    int prot;
    int shared;
    char path[288];
};
HIDDEN int tl_maps_each(int (*fn)(const struct tl_mapping *, void *), void *arg); /* fn returns 1 to stop */
HIDDEN int tl_maps_find(uint64_t addr, struct tl_mapping *out); /* 0 found */
HIDDEN int tl_maps_find_pid(int pid, uint64_t addr, struct tl_mapping *out); /* 0 found */
/* ---- mapped ELF images (core/elf.c) */
HIDDEN uint32_t tl_elf_build_id(uint64_t base, uint8_t id[20]);
HIDDEN uint64_t tl_elf_symbol(uint64_t base, const void *dyn, const char *name); /* 0 if undefined */
/* one frame up by the module's .eh_frame (core/policy.c's callers): never faults */
struct tl_unwind {
    uint64_t pc, rsp, rbp; /* the frame: its pc (the first: the site itself), rsp, rbp */
    int first;
    uint64_t direct_lo, direct_hi; /* the stack read in place: the mapping holding rsp */
    uint64_t win_lo, win_len; /* else the stack above the first rsp, read at once */
    uint8_t win[1024];
};
HIDDEN void tl_unwind_begin(struct tl_unwind *u, uint64_t pc, uint64_t rsp, uint64_t rbp);
HIDDEN int tl_unwind_step(struct tl_unwind *u, uint32_t gen); /* 0: u is the caller's frame; 1: none
                                                                  (the outermost frame); -1: no usable CFI */
/* ---- a tracer's view of its interposed tracees (core/ptrace.c) */
HIDDEN long tl_ptrace_call(long req, long pid, long addr, long data);
HIDDEN int tl_ptrace_hide_stop(long pid, int status);
/* ---- our own map of the address space (core/vmmap.c): use these, not the above */
HIDDEN int tl_vm_find(uint64_t addr, struct tl_mapping *out); /* 0 found */
HIDDEN int tl_vm_each(uint64_t lo, uint64_t hi, int (*fn)(const struct tl_mapping *, void *), void *arg);
HIDDEN void tl_vm_begin(void); /* before a call that changes mappings */
HIDDEN void tl_vm_end(long nr, const uint64_t a[6], long ret); /* after it */
HIDDEN void tl_vm_invalidate(void); /* changed in a way not modelled */
HIDDEN void tl_vm_after_fork(void);
HIDDEN extern int tl_vm_suspect;
HIDDEN extern int tl_vm_want_paths; /* keep module paths (plans) */
/* a page held writable for a rewrite: a seqlock for readers of /proc (odd while held) */
HIDDEN void tl_vm_hold_begin(uint64_t p1, int prot1, uint64_t p2, int prot2);
HIDDEN void tl_vm_hold_end(void);
HIDDEN uint32_t tl_vm_hold_seq(void);
HIDDEN void tl_vm_held(uint64_t page[2], int prot[2]); /* which, and its real protection */ /* a hook may have changed mappings */

/* ---- the set of rewritten sites, which the fast path checks (core/sites.c) */
HIDDEN extern uint64_t *tl_sites; /* site table: return addresses (site + 2) */
HIDDEN int tl_sites_init(void);
HIDDEN void *tl_alloc_big(uint64_t size); /* zeroed, page-aligned private memory, or NULL */
HIDDEN int tl_site_known(uint64_t ret);
HIDDEN int tl_site_known_to_insert(uint64_t ret); /* tl_site_known, its slots made writable */
HIDDEN int tl_site_insert(uint64_t ret, uint64_t *hits);
HIDDEN void tl_site_remove(uint64_t ret);
HIDDEN uint64_t *tl_site_hits(uint64_t ret); /* its hit counter, NULL if not rewritten */

/* ---- "is trapline already here?": an arch_prctl code no kernel knows (it fails with
 * EINVAL natively), which a running trapline answers with TL_PROBE_MAGIC, uncounted. A
 * preloaded copy asks in its constructor and stands down if the process was entered. */
#define TL_PROBE_PRESENT 0x54524150 /* "TRAP" */
#define TL_PROBE_MAGIC 0x746c706eL

/* ---- dispatch + hooks (core/dispatch.c, core/hooks.c) */
HIDDEN extern uint8_t tl_special[TL_NR_MAX]; /* numbers the fast path hands to C */
HIDDEN long tl_dispatch(struct tl_frame *f);
HIDDEN extern uint8_t tl_handled_map[TL_NR_MAX]; /* the numbers tl_dispatch handles, by number */
/* tl_dispatch handles nr itself (a superset of tl_dispatch_needs_frame's numbers): inline,
 * one load on the hook's `next` path */
static inline int tl_dispatch_handles(long nr) { return (unsigned long)nr < TL_NR_MAX && tl_handled_map[nr]; }
HIDDEN int tl_dispatch_needs_frame(long nr);
HIDDEN long tl_perform_args(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN long tl_perform_frame(struct tl_frame *f, int *action);
HIDDEN void tl_special_init(void);
/* what loading a hook needs of the process's dynamic loader and libc: linked in the
 * preloaded library, found in the program's link map by the boot image (sud/boot.c) */
struct tl_dl {
    void *(*dlmopen)(long ns, const char *file, int mode);
    void *(*dlsym)(void *handle, const char *name);
    int (*dlinfo)(void *handle, int request, void *arg);
    char *(*dlerror)(void);
    int (*iterate_phdr)(int (*cb)(void *info, size_t size, void *data), void *data);
    char **envp; /* the program's environment */
    const char *argv0; /* its argv[0], for the hook's libc, which cannot learn it (boot image); or 0 */
};
HIDDEN int tl_hooks_load_dl(const struct tl_dl *dl);
HIDDEN int tl_hooks_load(void); /* the preloaded library's: tl_hooks_load_dl with libc's */
HIDDEN extern int tl_hook_loaded;
HIDDEN extern int tl_hook_loading; /* the hook library is being loaded (sud/init.c) */
HIDDEN int tl_hook_program_site(uint64_t site);
HIDDEN int tl_hook_program_call(const struct tl_frame *f); /* the program's, made by the loader while the hook loads */
HIDDEN __attribute__((noreturn)) void tl_hook_crashed(int sig);
HIDDEN long tl_hook_call(struct tl_frame *f, int *handled);
HIDDEN long tl_dispatch_hooked(struct tl_frame *f);

/* ---- built-in policies: trace, inject, deny (core/policy.c, docs/policies.md) */
#define TL_POLICY_RULES 64 /* rules per policy file (a 64-bit mask) */
HIDDEN extern int tl_policy_on; /* a policy file with rules is in force */
HIDDEN extern uint64_t tl_policy_rules_of[TL_NR_MAX]; /* bit r: rule r selects the number */
HIDDEN extern uint64_t tl_policy_rules_of32[TL_NR_MAX]; /* ... the i386 number (int $0x80) */
HIDDEN extern uint8_t tl_policy_only[TL_NR_MAX]; /* to C for policies alone (T_POLONLY) */
HIDDEN int tl_policy_init(void); /* reads TRAPLINE_POLICY: 0, or -1 after one error line */
HIDDEN void tl_policy_start(struct tl_tcb *t); /* the first thread: an exec's pending record */
/* a call some rule selects: 1 if a rule applied (result in *ret), 0 to dispatch it as usual */
HIDDEN int tl_policy_call(struct tl_frame *f, long *ret, int *action);
HIDDEN int tl_policy_call_i386(struct tl_frame *f, long (*perform)(struct tl_frame *, int *), long *ret, int *action);
HIDDEN int tl_policy_hook_result(long nr, long *ret); /* api->syscall: the decided result */
HIDDEN void tl_policy_code_changed(void); /* code was unmapped: sites are looked up again */
HIDDEN void tl_policy_after_fork(struct tl_tcb *t);
HIDDEN void tl_policy_thread_exit(struct tl_tcb *t);
HIDDEN void tl_policy_process_exit(void);

/* ---- the program's own seccomp (core/seccomp.c) */
HIDDEN extern int tl_seccomp_mode;
HIDDEN extern int tl_sigsys_noreturn; /* a filter denies rt_sigreturn: SIGSYS leaves without it */
HIDDEN int tl_seccomp_allows(long nr, long a0, long a1, long a2);
HIDDEN int tl_seccomp_allows_rewrite(void);
HIDDEN long tl_seccomp_call(long nr, long a0, long a1, long a2, long a3, long a4);

/* ---- what core calls in the layers above: the only way it reaches them. sud/init.c
 * fills this in before interposition starts; every member is then set. */
struct tl_upcalls {
    /* lazy/learn.c: a call trapped at a site not yet rewritten: record, policy, rewrite */
    void (*learn)(struct tl_frame *f, long nr);
    /* lazy/jit.c: [addr, addr+len) is about to change; restore 1: it becomes writable
     * (rewritten sites get their `0f 05` back), 0: it goes away */
    void (*code_changing)(uint64_t addr, uint64_t len, int restore);
    /* lazy/plan.c: [addr, addr+len) became executable and read-only: its plan's sites */
    void (*code_mapped)(uint64_t addr, uint64_t len);
    /* sud/emulate.c: a handled call the process model performs itself (signals, threads,
     * processes, exec, the program's SUD). 1: performed, result in *ret */
    int (*emulate)(struct tl_frame *f, long *ret, int *action);
    /* sud/signals.c: a call or jump into page 0 from code we did not rewrite */
    __attribute__((noreturn)) void (*null_call)(struct tl_frame *f);
    /* sud/signals.c: the program's own SUD selects this call: 1 if it was redirected */
    int (*app_sud_check)(struct tl_frame *f);
    /* sud/signals.c: make SIGSYS leave its handler without rt_sigreturn */
    int (*sigsys_noreturn)(void);
    /* sud/i386.c: an i386 call a native hook asks for, and whether it needs a frame */
    long (*i386_perform)(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
    int (*i386_needs_frame)(long nr);
};
HIDDEN extern struct tl_upcalls tl_up;

/* ---- entry.S */
HIDDEN extern char tl_fast_entry[], tl_sud_entry[], tl_fix_entry[], tl_restorer[], tl_land_stubs[];
HIDDEN long tl_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN __attribute__((noreturn)) void tl_resume_frame(struct tl_frame *f);
HIDDEN __attribute__((noreturn)) void tl_sigsys_resume(const uint64_t *gregs);
/* the frame's top of our stack for a slow-path entry at rsp, as entry.S chooses it */
HIDDEN uint64_t tl_frame_top(struct tl_tcb *t, uint64_t rsp);

/* ---- small libc replacements (no vector code) */
HIDDEN void *memcpy(void *d, const void *s, size_t n);
HIDDEN void *memset(void *d, int c, size_t n);

#endif
