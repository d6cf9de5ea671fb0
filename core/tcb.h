/* Per-thread control block, reached through %gs (arch_prctl ARCH_SET_GS) so that the
 * entry code needs no TLS of the program: it works for threads made by raw clone too.
 * Every offset and size the assembly (core/entry.S, sud/entry_i386.S, sud/stubs.S) uses is
 * named here and checked against the C layout below (_Static_assert): change one side and
 * the build fails until the other follows. */
#ifndef TRAPLINE_TCB_H
#define TRAPLINE_TCB_H
#include "core/kabi.h" /* TL_VIA_*, TL_PAGE_SIZE */

#define TL_ASM_NR_MAX 512 /* TL_NR_MAX (stats_layout.h, C only) for the assembly: checked in core.h */
#define T_SELF 0 /* struct tl_tcb *self */
#define T_COUNTS 8 /* uint64_t *fast counters (this thread's stats block) */
#define T_SITES 16 /* uint64_t *site table (return addresses of rewritten sites) */
#define T_SCR_RCX 24 /* scratch: only used to report a faithful NULL-call crash */
#define T_SCR_R11 32
#define T_SP 40 /* (unused: what is in use on our stack is derived from rsp) */
#define T_STK_LO 48
#define T_STK_HI 56
#define T_DEPTH 64 /* byte: shadow ring offset / 2 (wraps naturally) */
#define T_SELECTOR 65 /* byte: SUD selector */
#define T_LANDING 68 /* uint32: sled group of the last entry through page 0 (tl_land_stubs) */
#define TL_LAND_STUB 32 /* bytes per landing stub in tl_land_stubs */
#define T_SHADOW 128 /* TL_SHADOW_SLOTS x TL_SHADOW_SLOT: the shadow ring (drawn below) */
#define T_SPECIAL 1024 /* 512 bytes: numbers the fast path hands to C (copy of tl_special) */
#define T_RES_N 1536 /* uint32: reservations of our stack (see tl_res) */
#define T_RES 1544 /* TL_RES_MAX x TL_RES_SIZE: h, lo, sp */
#define TL_RES_MAX 16
#define T_POLONLY 2048 /* 512 bytes: 1 for a number that goes to C only for policies (core/policy.c) */

/* The shadow ring: where the entry code parks values before it has a stack (it never
 * writes below the program's rsp, which is the program's red zone).
 *
 *   T_DEPTH (one byte) = TL_DEPTH_STEP x slots in use; a slot's byte offset is
 *   TL_DEPTH_SCALE x T_DEPTH (the addressing mode's scale), so the ring wraps with the byte.
 *
 *   T_DEPTH before a claim:  0        16       32                240      (256 = 0)
 *                            |        |        |                  |
 *   %gs:T_SHADOW + ...       0        32       64       ...       480      512
 *                            +--------+--------+-------- ... -----+--------+
 *                            | slot 0 | slot 1 | slot 2           | slot 15|
 *                            +--------+--------+-------- ... -----+--------+
 *   one slot (TL_SHADOW_SLOT bytes):
 *     +0  S_NR     the number (rax)
 *     +8  S_AUX    spare
 *     +16 S_FLAGS  SLOW: ah = SF ZF AF PF CF (lahf), al = OF (seto)
 *     +24          spare
 *
 *   claim:     d = T_DEPTH + TL_DEPTH_STEP; T_DEPTH = d (published before the slot is
 *              written); the slot is SHADOW_TOP(field)(,d,TL_DEPTH_SCALE)
 *   give back: T_DEPTH -= TL_DEPTH_STEP (one instruction), after the slot was read back.
 * A signal handler that interrupts the entry code and enters itself takes the next slot;
 * the wrapper of every program handler (sud/signals.c, run_handler) puts T_DEPTH back as it
 * found it, so the interrupted code finds its slot where it left it. */
#define TL_SHADOW_SLOTS 16
#define TL_SHADOW_SLOT 32
#define TL_DEPTH_STEP 16
#define TL_DEPTH_SCALE 2
#define S_NR 0
#define S_AUX 8
#define S_FLAGS 16
/* the slot just claimed, with d = T_DEPTH in a register: SHADOW_TOP(S_NR)(,%reg,TL_DEPTH_SCALE) */
#define SHADOW_TOP(field) (T_SHADOW - TL_SHADOW_SLOT + (field))
/* the slot at d = T_DEPTH - TL_DEPTH_STEP (the one in use): SHADOW_AT(S_NR)(,%reg,TL_DEPTH_SCALE) */
#define SHADOW_AT(field) (T_SHADOW + (field))

/* a reservation (struct tl_res) in T_RES: with %reg = 3 x T_RES_N, the top one's field is
 * RES_TOP(R_H)(,%reg,8) */
#define TL_RES_SIZE 24
#define R_H 0
#define R_LO 8
#define R_SP 16
#define RES_TOP(field) (T_RES - TL_RES_SIZE + (field))

/* A pair (return address, pointer to the site's hit counter), 1 << TL_PAIR_SHIFT bytes: a
 * slot of the site table (core/sites.c). */
#define TL_PAIR_SHIFT 4
#define P_RET 0
#define P_HITS 8

/* this thread's block of fast-path counters (T_COUNTS -> struct tl_thread_block.fast):
 * errors[] follows fast[] */
#define TB_ERRORS (8 * TL_ASM_NR_MAX)

/* T_SPECIAL / tl_special[nr]: what the fast path does with number nr */
#define TL_SPECIAL_C 1 /* always to C (the slow path) */
#define TL_SPECIAL_ARG(i) (2 << (i)) /* i = 0..5: argument i must not point into page 0 (core/nullargs.c) */
#define TL_SPECIAL_ARGS_SHIFT 1 /* the six argument bits as a mask: mask << TL_SPECIAL_ARGS_SHIFT */
#define TL_SPECIAL_ARGS (0x3f << TL_SPECIAL_ARGS_SHIFT) /* any of them */
#define TL_SPECIAL_HOOK 0x80 /* a user hook is loaded: to .Lfast_hooked */

/* The return slot the program's `callq *%rax` wrote, as the fast path uses it:
 * return address | nr << TL_SLOT_NR_SHIFT (user addresses are below 2^47); after a failed
 * call the result's low 16 bits are parked at byte TL_SLOT_NR_BYTE instead of nr. */
#define TL_SLOT_NR_SHIFT 48
#define TL_SLOT_NR_BYTE 6

/* The site table (core/sites.c): 2^TL_SITE_BITS slots of (return address, hit counter),
 * at most TL_SITE_MAX used. A return address r's home slot keeps the sites of one code
 * page together: home = (h(page) + r) mod the table, h a hash of the page number, so one
 * code page's sites fill 256 consecutive slots (4 KiB of the table, a slot per 16 bytes of
 * code, neighbours sharing lines) and a program's hot sites touch the table as they touch
 * their code (TL_SITE_SLOT; entry.S computes it with r11 alone: the page number shifted
 * to the top, so that every bit of it counts, times an odd imm32; consecutive pages land
 * evenly spread). A taken slot sends the probe TL_SITE_STEP slots on, far away: a page with
 * more sites than slots (sites closer than 16 bytes) or two pages whose runs overlap
 * spill apart instead of piling up in a cluster. */
#define TL_SITE_BITS 20
#define TL_SITE_MAX (1u << 17)
#define TL_SITE_CHUNK_BITS (TL_SITE_BITS - 8)
#define TL_SITE_MUL32 0x61C8864F /* odd, below 2^31: an imm32 */
#define TL_SITE_STEP 648055 /* odd: the probe visits every slot; ~0.618 of the table */
#define TL_SITE_OFF_MASK ((1 << (TL_SITE_BITS + TL_PAIR_SHIFT)) - (1 << TL_PAIR_SHIFT)) /* a slot's byte offset */
#define TL_SITE_SLOT(r)                                                                                                            \
    ((((((r) & ~0xfffull) << 17) * (uint64_t)TL_SITE_MUL32 >> (52 - TL_SITE_CHUNK_BITS)) + (r)) & TL_SITE_OFF_MASK) >> TL_PAIR_SHIFT
#define TL_SITE_MUL 0x9E3779B97F4A7C15 /* 64-bit odd multiplier: top bits mix every bit */
/* a site's hit counter is tl_site_rec.fast_hits; from it the fast path reaches: */
#define TL_HITS_NR_FIRST 8 /* uint16_t nr_first */
#define TL_HITS_NRS 32 /* uint64_t nrs[8]: bitmap of numbers seen */
#define TL_HITS_POLICY 24 /* byte: no policy rule can apply at this site (tl_site_rec.policy) */
#define TL_NR_NONE 0xffff /* nr_first of a site that has seen no number yet */
#define TL_STACK_SIZE (256 * 1024)
#define TL_ALTSTACK_SIZE (64 * 1024)
/* a frame made while already on our stack goes this far below rsp (past the red zone of
 * the code interrupted there), 16-aligned */
#define TL_STACK_SKIP 256
#define TL_STACK_ALIGN 16

/* What the slow path's dispatch asks its way out to do (tl_dispatch, tl_dispatch_hooked,
 * tl_dispatch_i386 return it) */
#define TL_ACT_RESUME 0 /* resume the program at F_RET */
#define TL_ACT_SIGRETURN 1 /* rt_sigreturn on the program's stack (x86-64) */
#define TL_ACT_SIGRETURN_I386 2 /* sigreturn / rt_sigreturn by int $0x80 (via 3) */

/* The frame built by the slow entry on our stack (struct tl_frame; offsets from the
 * pointer passed to C), by .Lfast_hooked, or by the SIGSYS handler for int $0x80:
 *
 *   the program's stack                    our stack [T_STK_LO, T_STK_HI)
 *   |  caller frames    |
 *   |  (return address  |                  +-----------------------+ <- top, 16-aligned:
 *   |   of the site's   |                  | pad                   | 168  T_STK_HI, or
 *   |   function)       |                  | F_CS                  | 160  TL_STACK_SKIP below
 *   +-------------------+ <- program rsp   | F_R11                 | 152  rsp if already on
 *   |  red zone: never  |    = F_RSP       | F_RCX                 | 144  it, or a reservation
 *   |  written by us    |    = the CFA     | F_VIA   TL_VIA_*      | 136  (int $0x80: the three
 *                                          | F_RET   resume address| 128   above)
 *                                          | F_RSP   program rsp --+-+--> (the CFA)
 *                                          | F_OLDSP (unused)      | 112
 *                                          | F_FLAGS               | 104
 *                                          | F_RAX   nr, result    |  96
 *                                          | F_RDI F_RSI F_RDX     |  88 80 72
 *                                          | F_R10 F_R8 F_R9       |  64 56 48
 *                                          | F_RBX F_RBP           |  40 32
 *                                          | F_R12 .. F_R15        |  24 .. 0
 *                                          +-----------------------+ <- rsp at `call tl_dispatch`
 *                                                                       = struct tl_frame *f
 * Where rsp points (SLOW, core/entry.S):
 *   1. entry: the program's rsp; rcx = resume address (site + 2), rax = nr;
 *   2. nr and the flags parked in a shadow slot (r11 = its T_DEPTH); the top chosen (in rax);
 *   3. xchg: rax = the program's rsp, rsp = the top; pushes from F_VIA down to F_R15;
 *   4. rsp = the frame: `call tl_dispatch` (and through it the hook);
 *   5. tl_slow_exit pops F_R15 .. F_RAX (rsp -> F_FLAGS), takes F_RSP and F_RET, popfq,
 *      rsp = F_RSP, jmp *F_RET.
 * The CFI of each step (entry.S) tells a debugger where the program's rsp and return
 * address are, so a backtrace from a hook or from tl_dispatch reaches the program. */
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
#define F_RAX 96 /* nr in, result out; also the size of the twelve registers below it */
#define F_FLAGS 104 /* full rflags of the program */
#define F_OLDSP 112 /* unused */
#define F_RSP 120 /* program rsp to resume with */
#define F_RET 128 /* address to resume at (site + 2) */
#define F_VIA                                                                                                                      \
    136 /* TL_VIA_* (kabi.h): trap, rewritten site, call into the sled from a
                         non-site, or a 32-bit call (int $0x80) */
#define F_RCX 144 /* via 3 only: the program's rcx and r11, restored on the way out (int $0x80 */
#define F_R11 152 /* preserves them), and its code segment (a 32-bit one, or the 64-bit */
#define F_CS 160 /* one); unused by the other ways in */
#define F_SIZE 176

/* A clone trampoline (tl_clone_thread, tl_clone_thread_i386) leaves, just below the
 * child's stack pointer (unused memory), what the child needs to resume: */
#define CH_RET (-8) /* the resume address */
#define CH_FLAGS (-16) /* the program's flags */
#define CH_CLONE (-24) /* the clone flags */

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>
#include <signal.h>

struct tl_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r9, r8, r10, rdx, rsi, rdi, rax;
    uint64_t flags, oldsp, rsp, ret, via;
    uint64_t rcx, r11, cs, pad; /* via 3 (int $0x80) only */
};
/* every offset entry.S and entry_i386.S use, checked against the C layout */
_Static_assert(offsetof(struct tl_frame, r15) == F_R15 && offsetof(struct tl_frame, r14) == F_R14 &&
                   offsetof(struct tl_frame, r13) == F_R13 && offsetof(struct tl_frame, r12) == F_R12 &&
                   offsetof(struct tl_frame, rbp) == F_RBP && offsetof(struct tl_frame, rbx) == F_RBX &&
                   offsetof(struct tl_frame, r9) == F_R9 && offsetof(struct tl_frame, r8) == F_R8 &&
                   offsetof(struct tl_frame, r10) == F_R10 && offsetof(struct tl_frame, rdx) == F_RDX &&
                   offsetof(struct tl_frame, rsi) == F_RSI && offsetof(struct tl_frame, rdi) == F_RDI,
               "frame");
_Static_assert(offsetof(struct tl_frame, flags) == F_FLAGS && offsetof(struct tl_frame, rsp) == F_RSP &&
                   offsetof(struct tl_frame, ret) == F_RET,
               "frame");
_Static_assert(offsetof(struct tl_frame, rax) == F_RAX, "frame");
_Static_assert(offsetof(struct tl_frame, oldsp) == F_OLDSP, "frame");
_Static_assert(offsetof(struct tl_frame, via) == F_VIA, "frame");
_Static_assert(offsetof(struct tl_frame, rcx) == F_RCX && offsetof(struct tl_frame, r11) == F_R11 &&
                   offsetof(struct tl_frame, cs) == F_CS,
               "frame");
_Static_assert(sizeof(struct tl_frame) == F_SIZE, "frame");

struct tl_shadow {
    uint64_t nr, aux, flags, spare;
};
_Static_assert(offsetof(struct tl_shadow, nr) == S_NR && offsetof(struct tl_shadow, aux) == S_AUX &&
                   offsetof(struct tl_shadow, flags) == S_FLAGS && sizeof(struct tl_shadow) == TL_SHADOW_SLOT,
               "shadow slot");
_Static_assert(TL_SHADOW_SLOT == TL_DEPTH_SCALE * TL_DEPTH_STEP, "a slot's offset is T_DEPTH x the scale");
_Static_assert(TL_SHADOW_SLOTS *TL_DEPTH_STEP == 256, "the ring wraps with T_DEPTH, a byte");

/* A reservation of our stack: a program handler runs on an alternate stack [lo, ...)
 * with its signal frame at h, and our code it interrupted is live above sp. It holds
 * while the thread runs on that alternate stack below h (as the kernel decides whether an
 * alternate stack is in use: from the stack pointer), so a handler that leaves by
 * siglongjmp gives it back without running any code of ours. */
struct tl_res {
    uint64_t h, lo, sp;
};
_Static_assert(offsetof(struct tl_res, h) == R_H && offsetof(struct tl_res, lo) == R_LO && offsetof(struct tl_res, sp) == R_SP &&
                   sizeof(struct tl_res) == TL_RES_SIZE,
               "reservation");
_Static_assert(TL_RES_SIZE == 3 * 8, "entry.S indexes reservations as 3n x 8");

/* A saved register state for re-raising a fault faithfully. */
/* A signal we raise for the program (NULL call, its own SUD): the registers to present. */
struct tl_fault {
    int pending; /* 0, SIGSEGV or SIGSYS */
    uint64_t gregs[23]; /* indexed like ucontext REG_* */
};

struct tl_tcb {
    struct tl_tcb *self; /* 0 */
    uint64_t *counts; /* 8 */
    uint64_t *sites; /* 16 */
    uint64_t scr_rcx, scr_r11; /* 24, 32 */
    uint64_t sp, stk_lo, stk_hi; /* 40, 48, 56 */
    uint8_t depth; /* 64 */
    volatile uint8_t selector; /* 65 */
    uint8_t pad0[2];
    uint32_t landing; /* 68: sled group of the last entry through page 0 */
    int tid; /* 72 */
    int slot; /* 76: stats thread slot, -1 if none */
    int sigsys_blocked; /* 80: the program asked SIGSYS blocked (virtualised) */
    int in_rewrite; /* 84: this thread is inside a rewrite (re-entry guard) */
    void *map_base; /* 88: the single mapping holding tcb + stack */
    uint64_t map_len; /* 96 */
    uint64_t app_gs; /* 104: the program's virtual %gs base */
    void *hook_pending; /* 112: the call a user hook is handling (struct pending) */
    uint64_t pad1;
    struct tl_shadow shadow[TL_SHADOW_SLOTS]; /* 128 */
    struct tl_fault fault; /* 640 */
    stack_t app_ss; /* the program's sigaltstack as it set it (SS_DISABLE if none) */
    uint64_t alt_lo, alt_size; /* our signal stack (SIGSYS runs there) */
    int vfork_child; /* a CLONE_VFORK child on a stack of its own (posix_spawn) */
    int app_sud_on; /* the program's own Syscall User Dispatch (emulated) */
    uint64_t app_sud_off, app_sud_len, app_sud_sel;
    struct tl_tcb *vfork_tcb; /* the control block of this thread's vfork child (reaped on resume) */
    struct tl_tcb *vfork_parent; /* in a vfork child: the suspended parent's block */
    uint8_t pad2[1024 - 640 - sizeof(struct tl_fault) - sizeof(stack_t) - 64];
    uint8_t special[512]; /* 1024 */
    uint32_t res_n; /* 1536: reservations in use (LIFO) */
    uint32_t pad3;
    struct tl_res res[TL_RES_MAX]; /* 1544 */
    uint8_t pad4[2048 - 1544 - TL_RES_MAX * TL_RES_SIZE];
    uint8_t polonly[512]; /* 2048: a copy of tl_policy_only (cleared under the program's own SUD) */
    /* below: C only */
    siginfo_t sigsys_info; /* a SIGSYS sent while the program has it blocked */
    int sigsys_pend; /* 1: sigsys_info is pending (as the kernel would keep it) */
    int sigsys_resend; /* 1: sigsys_info is being re-sent to this thread */
    uint64_t sigsys_gen; /* the SIG_IGN generation when it was queued */
    struct tl_tcb *reg_prev, *reg_next; /* the thread registry (core/threads.c) */
    /* policies and the trace ring (core/policy.c) */
    struct tl_ring_ctl *ring; /* this thread's ring in the trace segment, NULL: none claimed */
    uint8_t *ring_data;
    uint64_t ring_pos; /* bytes reserved in it (head once every write is committed) */
    uint64_t ring_tail_seen; /* the reader's tail as last read: never above the real one */
    uint32_t ring_writing; /* writes in progress (a signal handler's nest in an outer one) */
    uint32_t ring_lost; /* records dropped since the last one written */
    uint64_t ring_retry; /* no ring could be claimed: try again after this (CLOCK_MONOTONIC ns) */
    int pol_pid; /* the process the ring was claimed in (0: not known yet) */
    int pol_inj, pol_used; /* a hook handles a call whose result a rule decided: pol_ret */
    long pol_nr, pol_ret;
    /* in a vfork child: the actions for SIGSYS and SIGSEGV it set itself (its own view:
     * the parent's stays as it was), as struct tl_ksigaction; vf_set: bit 0 SIGSYS, bit 1
     * SIGSEGV set. Its exec hands on what these say (sud/signals.c) */
    uint64_t vf_act[2][4];
    int vf_set;
};
_Static_assert(offsetof(struct tl_tcb, special) == T_SPECIAL, "tcb");
_Static_assert(offsetof(struct tl_tcb, polonly) == T_POLONLY && sizeof(((struct tl_tcb *)0)->polonly) == TL_ASM_NR_MAX, "tcb");
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
_Static_assert(sizeof(uint64_t[2]) == 1u << TL_PAIR_SHIFT && P_RET == 0 && P_HITS == 8, "a pair: return address, hit counter");
_Static_assert(sizeof(((struct tl_tcb *)0)->special) == TL_ASM_NR_MAX, "tcb: one special byte per number below NR_MAX");
_Static_assert(sizeof(((struct tl_tcb *)0)->shadow) == TL_SHADOW_SLOTS * TL_SHADOW_SLOT, "tcb: the shadow ring");
_Static_assert(TL_SPECIAL_ARG(5) < TL_SPECIAL_HOOK && (TL_SPECIAL_ARG(0) >> TL_SPECIAL_ARGS_SHIFT) == 1, "special bits");
_Static_assert(TL_SPECIAL_ARGS ==
                   (TL_SPECIAL_ARG(0) | TL_SPECIAL_ARG(1) | TL_SPECIAL_ARG(2) | TL_SPECIAL_ARG(3) | TL_SPECIAL_ARG(4) |
                    TL_SPECIAL_ARG(5)),
               "special bits");
_Static_assert(TL_SLOT_NR_SHIFT == 8 * TL_SLOT_NR_BYTE && (1ull << TL_SLOT_NR_SHIFT) > TL_TASK_SIZE_MAX, "the return slot");
_Static_assert(F_RAX == 12 * 8, "F_RAX is the size of the twelve registers PUSH_FRAME_GPRS pushes");
_Static_assert(F_SIZE % TL_STACK_ALIGN == 0 && TL_STACK_SKIP > 128 && TL_STACK_SKIP % TL_STACK_ALIGN == 0, "our stack");
_Static_assert(CH_FLAGS == CH_RET - 8 && CH_CLONE == CH_FLAGS - 8, "the clone trampolines' words below the child's stack");
#endif
#endif
