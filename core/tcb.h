/* Per-thread control block, reached through %gs (arch_prctl ARCH_SET_GS) so that the
 * entry code needs no TLS of the program: it works for threads made by raw clone too.
 * Offsets are shared with the assembly (core/entry.S): keep the two in step. */
#ifndef TRAPLINE_TCB_H
#define TRAPLINE_TCB_H

#define TL_ASM_NR_MAX 512 /* TL_NR_MAX (stats_layout.h, C only) for the assembly: checked below */
#define T_SELF      0     /* struct tl_tcb *self */
#define T_COUNTS    8     /* uint64_t *fast counters (this thread's stats block) */
#define T_SITES     16    /* uint64_t *site table (return addresses of rewritten sites) */
#define T_SCR_RCX   24    /* scratch: only used to report a faithful NULL-call crash */
#define T_SCR_R11   32
#define T_SP        40    /* (unused: what is in use on our stack is derived from rsp) */
#define T_STK_LO    48
#define T_STK_HI    56
#define T_DEPTH     64    /* byte: shadow ring offset / 2 (wraps naturally) */
#define T_SELECTOR  65    /* byte: SUD selector */
#define T_LANDING   68    /* uint32: sled group of the last entry through page 0 (tl_land_stubs) */
#define TL_LAND_STUB 32   /* bytes per landing stub in tl_land_stubs */
#define T_SHADOW    128   /* 16 slots x 32 bytes: nr, rdx, flags (ah:al), spare */
#define T_SPECIAL   1024  /* 512 bytes: numbers the fast path hands to C (copy of tl_special) */
#define T_RES_N     1536  /* uint32: reservations of our stack (see tl_res) */
#define T_RES       1544  /* TL_RES_MAX x 24: h, lo, sp */
#define TL_RES_MAX  16
#define T_CACHE     2048  /* 1024 x 16: known sites (direct-mapped): return address, hit counter */
#define TL_CACHE_BITS 10
/* Key of an empty cache entry in slot s: a value that does not hash to s, so no value the
 * fast path looks up there can equal it (0 hashes to slot 0; 1 does not). A jump into page 0
 * pops arbitrary data as its "return address", 0 and 1 included. */
#define TL_CACHE_EMPTY(s) ((s) == 0 ? 1ull : 0ull)

#define TL_SITE_BITS 18   /* site table: 2^18 slots of (return address, hit counter), at most half used */
#define TL_SITE_MUL 0x9E3779B97F4A7C15   /* 64-bit odd multiplier: top bits mix every bit */
/* a site's hit counter is tl_site_rec.fast_hits; from it the fast path reaches: */
#define TL_HITS_NR_FIRST 8    /* uint16_t nr_first */
#define TL_HITS_NRS 32        /* uint64_t nrs[8]: bitmap of numbers seen */
#define TL_STACK_SIZE (256 * 1024)
#define TL_ALTSTACK_SIZE (64 * 1024)

/* frame built by the slow entry on our stack (offsets from the pointer passed to C) */
#define F_R15 0
#define F_R14 8
#define F_R13 16
#define F_R12 24
#define F_RBP 32
#define F_RBX 40
#define F_R9 48
#define F_R8 56
#define F_R10 64
#define F_RDX 72
#define F_RSI 80
#define F_RDI 88
#define F_RAX 96      /* nr in, result out */
#define F_FLAGS 104   /* full rflags of the program */
#define F_OLDSP 112   /* unused */
#define F_RSP 120     /* program rsp to resume with */
#define F_RET 128     /* address to resume at (site + 2) */
#define F_VIA 136     /* TL_VIA_* (kabi.h): trap, rewritten site, call into the sled from a
                         non-site, or a 32-bit call (int $0x80) */
#define F_RCX 144     /* via 3 only: the program's rcx and r11, restored on the way out (int $0x80 */
#define F_R11 152     /* preserves them), and its code segment (a 32-bit one, or the 64-bit */
#define F_CS 160      /* one); unused by the other ways in */
#define F_SIZE 176
#include "core/kabi.h"       /* TL_VIA_* */

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>
#include <signal.h>

struct tl_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r9, r8, r10, rdx, rsi, rdi, rax;
    uint64_t flags, oldsp, rsp, ret, via;
    uint64_t rcx, r11, cs, pad;   /* via 3 (int $0x80) only */
};
/* every offset entry.S and entry_i386.S use, checked against the C layout */
_Static_assert(offsetof(struct tl_frame, r15) == F_R15 && offsetof(struct tl_frame, r14) == F_R14 &&
               offsetof(struct tl_frame, r13) == F_R13 && offsetof(struct tl_frame, r12) == F_R12 &&
               offsetof(struct tl_frame, rbp) == F_RBP && offsetof(struct tl_frame, rbx) == F_RBX &&
               offsetof(struct tl_frame, r9) == F_R9 && offsetof(struct tl_frame, r8) == F_R8 &&
               offsetof(struct tl_frame, r10) == F_R10 && offsetof(struct tl_frame, rdx) == F_RDX &&
               offsetof(struct tl_frame, rsi) == F_RSI && offsetof(struct tl_frame, rdi) == F_RDI, "frame");
_Static_assert(offsetof(struct tl_frame, flags) == F_FLAGS && offsetof(struct tl_frame, rsp) == F_RSP &&
               offsetof(struct tl_frame, ret) == F_RET, "frame");
_Static_assert(offsetof(struct tl_frame, rax) == F_RAX, "frame");
_Static_assert(offsetof(struct tl_frame, oldsp) == F_OLDSP, "frame");
_Static_assert(offsetof(struct tl_frame, via) == F_VIA, "frame");
_Static_assert(offsetof(struct tl_frame, rcx) == F_RCX && offsetof(struct tl_frame, r11) == F_R11 && offsetof(struct tl_frame, cs) == F_CS, "frame");
_Static_assert(sizeof(struct tl_frame) == F_SIZE, "frame");

struct tl_shadow { uint64_t nr, rdx, flags, spare; };

/* A reservation of our stack: a program handler runs on an alternate stack [lo, ...)
 * with its signal frame at h, and our code it interrupted is live above sp. It holds
 * while the thread runs on that alternate stack below h (as the kernel decides whether an
 * alternate stack is in use: from the stack pointer), so a handler that leaves by
 * siglongjmp gives it back without running any code of ours. */
struct tl_res { uint64_t h, lo, sp; };

/* A saved register state for re-raising a fault faithfully. */
/* A signal we raise for the program (NULL call, its own SUD): the registers to present. */
struct tl_fault {
    int      pending;     /* 0, SIGSEGV or SIGSYS */
    uint64_t gregs[23];   /* indexed like ucontext REG_* */
};

struct tl_tcb {
    struct tl_tcb *self;          /* 0 */
    uint64_t *counts;             /* 8 */
    uint64_t *sites;              /* 16 */
    uint64_t scr_rcx, scr_r11;    /* 24, 32 */
    uint64_t sp, stk_lo, stk_hi;  /* 40, 48, 56 */
    uint8_t depth;                /* 64 */
    volatile uint8_t selector;    /* 65 */
    uint8_t pad0[2];
    uint32_t landing;             /* 68: sled group of the last entry through page 0 */
    int tid;                      /* 72 */
    int slot;                     /* 76: stats thread slot, -1 if none */
    int sigsys_blocked;           /* 80: the program asked SIGSYS blocked (virtualised) */
    int in_rewrite;               /* 84: this thread is inside a rewrite (re-entry guard) */
    void *map_base;               /* 88: the single mapping holding tcb + stack */
    uint64_t map_len;             /* 96 */
    uint64_t app_gs;              /* 104: the program's virtual %gs base */
    void *hook_pending;           /* 112: the call a user hook is handling (struct pending) */
    uint64_t pad1;
    struct tl_shadow shadow[16];  /* 128 */
    struct tl_fault fault;        /* 640 */
    stack_t app_ss;               /* the program's sigaltstack as it set it (SS_DISABLE if none) */
    uint64_t alt_lo, alt_size;    /* our signal stack (SIGSYS runs there) */
    int vfork_child;              /* a CLONE_VFORK child on a stack of its own (posix_spawn) */
    int app_sud_on;               /* the program's own Syscall User Dispatch (emulated) */
    uint64_t app_sud_off, app_sud_len, app_sud_sel;
    struct tl_tcb *vfork_tcb;     /* the control block of this thread's vfork child (reaped on resume) */
    struct tl_tcb *vfork_parent;  /* in a vfork child: the suspended parent's block */
    uint8_t pad2[1024 - 640 - sizeof(struct tl_fault) - sizeof(stack_t) - 64];
    uint8_t special[512];         /* 1024 */
    uint32_t res_n;               /* 1536: reservations in use (LIFO) */
    uint32_t pad3;
    struct tl_res res[TL_RES_MAX];            /* 1544 */
    uint8_t pad4[2048 - 1544 - TL_RES_MAX * 24];
    uint64_t cache[2 << TL_CACHE_BITS];   /* 2048: pairs (return address, &site hits) */
    /* below: C only */
    siginfo_t sigsys_info;        /* a SIGSYS sent while the program has it blocked */
    int sigsys_pend;              /* 1: sigsys_info is pending (as the kernel would keep it) */
    int sigsys_resend;            /* 1: sigsys_info is being re-sent to this thread */
    uint64_t sigsys_gen;          /* the SIG_IGN generation when it was queued */
    struct tl_tcb *reg_prev, *reg_next;   /* the thread registry (core/threads.c) */
};
_Static_assert(offsetof(struct tl_tcb, special) == T_SPECIAL, "tcb");
_Static_assert(offsetof(struct tl_tcb, cache) == T_CACHE, "tcb");
_Static_assert(offsetof(struct tl_tcb, res_n) == T_RES_N, "tcb");
_Static_assert(offsetof(struct tl_tcb, res) == T_RES, "tcb");
_Static_assert(offsetof(struct tl_tcb, sp) == T_SP, "tcb");
_Static_assert(offsetof(struct tl_tcb, depth) == T_DEPTH, "tcb");
_Static_assert(offsetof(struct tl_tcb, selector) == T_SELECTOR, "tcb");
_Static_assert(offsetof(struct tl_tcb, landing) == T_LANDING, "tcb");
_Static_assert(offsetof(struct tl_tcb, shadow) == T_SHADOW, "tcb");
_Static_assert(offsetof(struct tl_tcb, counts) == T_COUNTS, "tcb");
_Static_assert(offsetof(struct tl_tcb, sites) == T_SITES, "tcb");
_Static_assert(offsetof(struct tl_tcb, self) == T_SELF, "tcb");
_Static_assert(offsetof(struct tl_tcb, scr_rcx) == T_SCR_RCX && offsetof(struct tl_tcb, scr_r11) == T_SCR_R11, "tcb");
_Static_assert(offsetof(struct tl_tcb, stk_lo) == T_STK_LO && offsetof(struct tl_tcb, stk_hi) == T_STK_HI, "tcb");
_Static_assert(sizeof(((struct tl_tcb *)0)->cache) == 16u << TL_CACHE_BITS, "tcb: cache entries of 16 bytes");
_Static_assert(sizeof(((struct tl_tcb *)0)->special) == 512, "tcb: one special byte per number below NR_MAX");
_Static_assert(sizeof(((struct tl_tcb *)0)->shadow) == 16 * 32, "tcb: 16 shadow slots of 32 bytes");
#endif
#endif
