/* trapline statistics segment: binary layout, version 1.
 *
 * The segment is a file (TRAPLINE_STATS=path, mode 0600) mapped MAP_SHARED by every
 * interposed process of a run, so fork/exec children report into the same segment.
 * All integers are little-endian, naturally aligned. Readers must check magic,
 * version and total_size before trusting any offset. See docs/stats.md.
 */
#ifndef TRAPLINE_STATS_LAYOUT_H
#define TRAPLINE_STATS_LAYOUT_H
#include <stdint.h>

#define TL_STATS_MAGIC "TRAPLINE"   /* 8 bytes, no NUL */
#define TL_STATS_VERSION 1u
#define TL_NR_MAX 512u               /* syscall numbers counted individually: 0..511 */
#define TL_THREAD_SLOTS 1024u        /* per-thread fast-path counter blocks */

enum tl_mode { TL_MODE_LAZY = 0, TL_MODE_SUD_ONLY = 1 };

/* header.flags */
#define TL_FLAG_ZERO_MAPPED   1u     /* trampoline at address 0 is mapped */
#define TL_FLAG_XONLY         2u     /* trampoline is execute-only (protection key) */
#define TL_FLAG_HOOK          4u     /* a user hook library is loaded */

struct tl_stats_header {
    char     magic[8];          /* "TRAPLINE" */
    uint32_t version;           /* TL_STATS_VERSION */
    uint32_t header_size;       /* sizeof(struct tl_stats_header) */
    uint64_t total_size;        /* bytes of the whole segment */
    uint32_t mode;              /* enum tl_mode of the first process */
    uint32_t flags;             /* TL_FLAG_* */
    uint64_t start_ns;          /* CLOCK_REALTIME at creation */
    uint32_t nr_max;            /* TL_NR_MAX */
    uint32_t thread_slots;      /* TL_THREAD_SLOTS */
    uint64_t nr_off;            /* offset of struct tl_nr_counters[nr_max] */
    uint64_t thread_off;        /* offset of struct tl_thread_block[thread_slots] */
    uint64_t other_trap;        /* calls with a number >= nr_max (or negative) via trap */
    uint64_t other_fast;        /* ... via the rewritten fast path */
    uint64_t sites_rewritten;   /* sites rewritten to callq *%rax */
    uint64_t sites_trapping;    /* sites left on the SUD path (vDSO, straddles, policy, sud-only) */
    uint64_t processes;         /* processes that attached to this segment */
    uint64_t reserved[8];
};

/* Counts taken on the trap (SIGSYS) path and on the slow C path of a rewritten site. */
struct tl_nr_counters {
    uint64_t trap;              /* calls that arrived by SIGSYS */
    uint64_t fast;              /* calls that arrived by a rewritten site, slow C path */
    uint64_t errors;            /* calls (either way, slow path) that returned -4095..-1 */
    uint64_t reserved;
};

/* Per-thread block, written only by its owning thread (plain increments: no locked
 * instruction on the fast path). A reader sums all blocks plus tl_nr_counters.fast.
 * When a thread exits its counts are folded into tl_nr_counters.fast atomically and
 * the block is zeroed and released. */
struct tl_thread_block {
    uint64_t owner;             /* 0 = free; else (pid << 32 | tid) of the owner */
    uint64_t reserved[7];
    uint64_t fast[TL_NR_MAX];   /* fast-path (pure asm) calls per number */
};

#endif
