/* trapline statistics segment: binary layout, version 4.
 *
 * The segment is a file (TRAPLINE_STATS=path, mode 0600) created exclusively by the first
 * interposed process of a run and mapped MAP_SHARED by every process of that run, so
 * fork/exec children report into the same segment. Exec'd children join it only if its
 * run_cookie equals their TRAPLINE_STATS_COOKIE (docs/security.md).
 * All integers are little-endian, naturally aligned. Readers must check magic,
 * version and total_size before trusting any offset. See docs/stats.md.
 */
#ifndef TRAPLINE_STATS_LAYOUT_H
#define TRAPLINE_STATS_LAYOUT_H
#include <stdint.h>

#define TL_STATS_MAGIC "TRAPLINE" /* 8 bytes, no NUL */
#define TL_STATS_VERSION 4u
#define TL_NR_MAX 512u /* syscall numbers counted individually: 0..511 */
#define TL_THREAD_SLOTS 1024u /* per-thread fast-path counter blocks */
#define TL_PROC_CAP 1024u /* process records */
#define TL_MODULE_CAP 4096u /* module records */
#define TL_SITE_CAP 65536u /* site records */

enum tl_mode { TL_MODE_LAZY = 0, TL_MODE_SUD_ONLY = 1 };

/* header.flags */
#define TL_FLAG_ZERO_MAPPED 1u /* trampoline at address 0 is mapped */
#define TL_FLAG_XONLY 2u /* trampoline is execute-only (protection key) */
#define TL_FLAG_HOOK 4u /* a user hook library is loaded */
#define TL_FLAG_PLAN 8u /* a rewrite plan (file or cache directory) is in use */
#define TL_FLAG_PROC_FULL 16u /* the process table filled: proc_count - proc_cap were dropped */
#define TL_FLAG_MODULE_FULL 32u /* the module table filled: sites of later modules have none */
#define TL_FLAG_SITE_FULL 64u /* the site table filled: site_count - site_cap were dropped */
#define TL_FLAG_PLAN_UNRECORDED 128u /* skipped plan sites were counted but not recorded (half full) */
#define TL_FLAG_NULL_READS 256u /* page 0 is readable: the run opted in (--allow-null-reads) */
/* a limit was reached or a step failed; each also says so once on stderr (unless quiet) */
#define TL_FLAG_PROT_KEPT                                                                                                          \
    512u /* a rewrite could not give a page back its protection (it stayed
                                        writable), or a rewritten site its bytes before its page turned writable */
#define TL_FLAG_REWRITE_FULL 1024u /* the set of rewritten sites filled: later sites stay on the trap path */
#define TL_FLAG_THREAD_FULL                                                                                                        \
    2048u /* more threads at once than counter blocks: the others count in
                                        private blocks, added to the segment as they exit */
#define TL_FLAG_PLAN_FULL 4096u /* the plan cache held its maximum of modules: later ones are not planned */
#define TL_FLAG_SECCOMP_FULL                                                                                                       \
    8192u /* more seccomp filters than trapline keeps copies of: it assumes
                                        the others forbid every call of its own it can go without */
#define TL_FLAG_PRELOADED                                                                                                          \
    16384u /* a process started from the preloaded library's constructor
                                        (its loader's and earlier constructors' calls unseen) */
#define TL_FLAG_ENTERED 32768u /* a process was entered at its first instruction (sud/boot.c) */
#define TL_FLAG_HOOK_SKIPPED 65536u /* a process ran without the requested hook (statically linked) */
#define TL_FLAG_CAP_SUD 131072u /* an exec'd program ran sud-only: page 0 had needed the launcher's capability (trapline setup) */

/* header.policy: which sites may be rewritten (TRAPLINE_REWRITE) */
enum tl_policy {
    TL_POLICY_ALL = 0, /* every executed site (learned) and every planned site */
    TL_POLICY_VERIFIED = 1, /* only planned sites the scanner confirmed */
    TL_POLICY_NONE = 2, /* nothing: every call traps */
};

struct tl_stats_header {
    char magic[8]; /* "TRAPLINE" */
    uint32_t version; /* TL_STATS_VERSION */
    uint32_t header_size; /* sizeof(struct tl_stats_header) */
    uint64_t total_size; /* bytes of the whole segment */
    uint32_t mode; /* enum tl_mode of the first process */
    uint32_t flags; /* TL_FLAG_* */
    uint64_t start_ns; /* CLOCK_REALTIME at creation */
    uint32_t nr_max; /* TL_NR_MAX */
    uint32_t thread_slots; /* TL_THREAD_SLOTS */
    uint64_t nr_off; /* offset of struct tl_nr_counters[nr_max] */
    uint64_t thread_off; /* offset of struct tl_thread_block[thread_slots] */
    uint64_t other_trap; /* calls with a number >= nr_max (or negative) via trap */
    uint64_t other_fast; /* ... via the rewritten fast path */
    uint64_t sites_rewritten; /* sites rewritten to callq *%rax */
    uint64_t run_cookie; /* random, nonzero: processes join only with this value (docs/security.md) */
    uint64_t processes; /* processes that attached to this segment */
    uint64_t sites_stale; /* sites forgotten because their code changed or went away */
    uint64_t proc_off; /* struct tl_proc_rec[proc_cap] */
    uint32_t proc_cap, proc_count;
    uint64_t module_off; /* struct tl_module_rec[module_cap] */
    uint32_t module_cap, module_count;
    uint64_t site_off; /* struct tl_site_rec[site_cap] */
    uint32_t site_cap, site_count;
    uint64_t plan_rewritten; /* sites rewritten ahead of time from a plan */
    uint64_t plan_skipped; /* plan sites not rewritten (bytes differ, policy, straddle) */
    uint64_t policy_refused; /* sites that trapped and were refused a rewrite by the policy */
    uint32_t policy; /* enum tl_policy of the first process */
    uint32_t caller_fallback; /* calls through libc a scoped rule checked by their site: no CFI (core/policy.c) */
    /* version 4: 32-bit calls (int $0x80) by number, in the i386 table */
    uint64_t i386_off; /* offset of struct tl_nr_counters[nr_max], indexed by i386 number */
    uint64_t other_i386; /* i386 calls with a number >= nr_max (or negative) */
};

/* One per process of the run (the first one, forks, exec'd programs). */
#define TL_STATUS_RUNNING (-1) /* tl_proc_rec.status: running or unknown */
#define TL_STATUS_SIGNALED 256 /* ... TL_STATUS_SIGNALED + n: killed by signal n (else 0..255: exited) */
struct tl_proc_rec {
    uint32_t pid, ppid;
    int32_t status; /* TL_STATUS_RUNNING; 0..255 exit status; TL_STATUS_SIGNALED + n killed by signal n */
    uint32_t mode; /* enum tl_mode this process ran in */
    uint64_t start_ns; /* CLOCK_REALTIME when it attached */
    char exe[232]; /* NUL-terminated, truncated */
};

enum tl_origin {
    TL_ORIGIN_MAIN = 0, /* the main program */
    TL_ORIGIN_STARTUP = 1, /* a library loaded before main (DT_NEEDED, LD_PRELOAD) */
    TL_ORIGIN_DLOPEN = 2, /* a file mapped later (dlopen) */
    TL_ORIGIN_ANON = 3, /* anonymous executable memory: JIT code, memfd */
    TL_ORIGIN_VDSO = 4,
};

/* One per (process, module) in which a site was seen. */
struct tl_module_rec {
    uint32_t pid;
    uint32_t origin; /* enum tl_origin */
    uint64_t base; /* load address: file mapping start - file offset; region start for anonymous */
    uint64_t reserved;
    uint8_t build_id[20];
    uint32_t build_id_len; /* 0 if none was found */
    char path[272]; /* NUL-terminated; "" for anonymous memory, "[vdso]" */
};

#define TL_MODULE_NONE 0xffffffffu /* tl_site_rec.module: no module record */

enum tl_site_state {
    TL_SITE_REWRITTEN = 0,
    TL_SITE_TRAPPING = 1, /* executed and left on the SUD path (reason says why) */
    TL_SITE_STALE = 2,
    TL_SITE_SKIPPED = 3, /* a plan site that was not rewritten and has not trapped */
};
enum tl_site_reason {
    TL_REASON_NONE = 0, /* rewritten */
    TL_REASON_VDSO = 1, /* in the vDSO (not writable) */
    TL_REASON_STRADDLE = 2, /* the two bytes straddle a 64-byte line */
    TL_REASON_SUD_ONLY = 3, /* sud-only mode */
    TL_REASON_NOT_SYSCALL = 4, /* the bytes are not 0f 05 (sysenter, changed code) */
    TL_REASON_FULL = 5, /* the site set is full */
    TL_REASON_STALE = 6, /* its code changed or was unmapped after rewriting */
    TL_REASON_NESTED = 7, /* trapped inside a rewrite (a signal handler); retried later */
    TL_REASON_POLICY = 8, /* the rewrite policy refused it (verified: not confirmed; none) */
    TL_REASON_PLAN_MISMATCH = 9, /* a plan site whose bytes are not 0f 05 (plan for other code) */
    TL_REASON_INT80 = 10, /* an int $0x80 (i386) site: never rewritten; its nrs are i386 numbers */
    TL_REASON_REDZONE = 11, /* its code may keep data below %rsp across the call (lazy/redzone.c) */
    TL_REASON_SHARED = 12, /* in a shared mapping: a store would reach the file or the other views */
    TL_REASON_SECCOMP = 13, /* the program's seccomp forbids the calls a rewrite makes */
};

/* where a site record came from */
enum tl_site_source {
    TL_SOURCE_TRAP = 0, /* learned: it trapped (SIGSYS) */
    TL_SOURCE_PLAN_CONFIRMED = 1, /* from a plan, confirmed by the scanner */
    TL_SOURCE_PLAN_LEARNED = 2, /* from a plan, learned in an earlier run */
    TL_SOURCE_PLAN_UNVERIFIED = 3, /* from a plan, learned but not verified: never rewritten ahead of time */
};

/* One per (process, site) that trapped at least once or was rewritten from a plan.
 * Hits are plain increments by the calling thread (exact for one thread; may lose a
 * count when threads collide). 128 bytes; fast_hits, nr_first and nrs share the
 * offsets the fast path uses (it holds a pointer to fast_hits). */
struct tl_site_rec {
    uint64_t addr; /* address of the syscall instruction */
    uint32_t pid;
    uint32_t module; /* index into the module table, TL_MODULE_NONE if unknown */
    uint64_t offset; /* addr - module base: the file offset for file-backed code */
    uint64_t trap_hits; /* calls that arrived by SIGSYS */
    uint64_t fast_hits; /* calls through the rewritten site */
    uint16_t nr_first; /* first number seen, 0xffff none (the fast path's check) */
    uint16_t source; /* enum tl_site_source */
    uint32_t nrs_other; /* calls with a number outside 0..511 */
    uint32_t state; /* enum tl_site_state */
    uint32_t reason; /* enum tl_site_reason */
    uint64_t policy; /* byte 0: 1 when no policy rule can apply to this site's calls
                                   (core/policy.c): the fast path keeps them (the entry reads it) */
    uint64_t nrs[TL_NR_MAX / 64]; /* bitmap: numbers 0..511 seen at this site, on every path */
};

/* Counts taken on the trap (SIGSYS) path and on the slow C path of a rewritten site.
 * The i386 table (header.i386_off) uses the same record: trap and errors (an int $0x80
 * call always traps, so fast stays 0). */
struct tl_nr_counters {
    uint64_t trap; /* calls that arrived by SIGSYS */
    uint64_t fast; /* calls that arrived by a rewritten site, slow C path */
    uint64_t errors; /* calls (either way, slow path) that returned -4095..-1 */
    uint64_t reserved;
};

/* Per-thread block, written only by its owning thread (plain increments: no locked
 * instruction on the fast path). A reader sums all blocks plus tl_nr_counters.fast.
 * When a thread exits its counts are folded into tl_nr_counters.fast atomically and
 * the block is zeroed and released. */
struct tl_thread_block {
    uint64_t owner; /* 0 = free; else (pid << 32 | tid) of the owner */
    uint64_t reserved[7];
    uint64_t fast[TL_NR_MAX]; /* fast-path (pure asm) calls per number */
    uint64_t errors[TL_NR_MAX]; /* ... of which returned an error (-4096..-1) */
};

#endif
