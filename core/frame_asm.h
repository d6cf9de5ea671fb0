/* Assembler macros for the register frame (struct tl_frame, core/tcb.h) and for the call
 * frame information (CFI) of the entry code, shared by core/entry.S, sud/entry_i386.S and
 * sud/stubs.S. */
#ifndef TRAPLINE_FRAME_ASM_H
#define TRAPLINE_FRAME_ASM_H
#include "core/tcb.h"

/* ---- CFI: how a debugger (any DWARF unwinder) gets from our code back to the program.
 * The entry code is not entered by a call and may run on another stack than the program,
 * so its CFI says, at each step, where the program's stack pointer (the CFA) and its
 * resume address (the return-address column, rip) are: in a register, in the return
 * slot, or in the frame on our stack (DWARF expressions, written with .cfi_escape).
 * The program's callee-saved registers (rbx, rbp, r12..r15) are never changed before C
 * runs, which saves them itself: no rule is needed for them. A frame whose CFA is on
 * another stack than its callee's is marked .cfi_signal_frame (it was interrupted, not
 * called): debuggers then skip their "frame inner to this frame" check across the stack
 * switch and use the resume address as it is (no "return address - 1"). */
#define DW_CFA_def_cfa_expression 0x0f
#define DW_CFA_expression 0x10
#define DW_CFA_val_expression 0x16
#define DW_OP_deref 0x06
#define DW_OP_shl 0x24
#define DW_OP_shr 0x25
#define DW_OP_lit(n) (0x30 + (n))
#define DW_OP_breg(r) (0x70 + (r))
/* a constant 0 <= x < 8192 as a 2-byte SLEB128 */
#define SLEB2(x) ((((x)&0x7f) | 0x80)), ((((x) >> 7) & 0x7f))

/* rsp = (the frame) + \k: the program's rsp is the frame's F_RSP, its resume address is
 * stored at F_RET */
.macro CFI_FRAME_AT k
        .if (F_RSP - (\k)) < 0 || (F_RET - (\k)) < 0 || F_RET >= 8192
        .error "CFI_FRAME_AT: offset out of range"
        .endif
        .cfi_escape DW_CFA_def_cfa_expression, 4, DW_OP_breg(TL_DW_RSP), SLEB2(F_RSP - (\k)), DW_OP_deref
        .cfi_escape DW_CFA_expression, TL_DW_RIP, 3, DW_OP_breg(TL_DW_RSP), SLEB2(F_RET - (\k))
.endm

/* one of the program's registers saved in the frame at rsp + \k - k (see CFI_FRAME_AT) */
.macro CFI_REG_AT dw, f, k
        .cfi_escape DW_CFA_expression, \dw, 3, DW_OP_breg(TL_DW_RSP), SLEB2((\f) - (\k))
.endm

/* CFI_FRAME_AT, and every register of the program the frame holds: a debugger shows the
 * program's registers in its frame (rcx and r11 only in a via-3 frame, int $0x80: i386=1) */
.macro CFI_FRAME_REGS k, i386=0
        CFI_FRAME_AT \k
        CFI_REG_AT TL_DW_RAX, F_RAX, \k
        CFI_REG_AT TL_DW_RDX, F_RDX, \k
        CFI_REG_AT TL_DW_RBX, F_RBX, \k
        CFI_REG_AT TL_DW_RSI, F_RSI, \k
        CFI_REG_AT TL_DW_RDI, F_RDI, \k
        CFI_REG_AT TL_DW_RBP, F_RBP, \k
        CFI_REG_AT TL_DW_R8, F_R8, \k
        CFI_REG_AT TL_DW_R9, F_R9, \k
        CFI_REG_AT TL_DW_R10, F_R10, \k
        CFI_REG_AT TL_DW_R12, F_R12, \k
        CFI_REG_AT TL_DW_R13, F_R13, \k
        CFI_REG_AT TL_DW_R14, F_R14, \k
        CFI_REG_AT TL_DW_R15, F_R15, \k
        .if \i386
        CFI_REG_AT TL_DW_RCX, F_RCX, \k
        CFI_REG_AT TL_DW_R11, F_R11, \k
        .endif
.endm

/* the way out, which reloads the program's registers from the frame: from here on they
 * are (or become, before they matter) the program's own */
.macro CFI_FRAME_FORGET_REGS
        .irp reg, rax, rdx, rbx, rsi, rdi, rbp, r8, r9, r10, r12, r13, r14, r15, rcx, r11
        .cfi_same_value %\reg
        .endr
.endm

/* the program's rsp is rsp + \cfa, its resume address is in rcx */
.macro CFI_RA_IN_RCX cfa
        .cfi_def_cfa %rsp, \cfa
        .cfi_register %rip, %rcx
.endm

/* just after a call (or jump) into our code: the return address at [rsp] */
.macro CFI_CALLED
        .cfi_def_cfa %rsp, 8
        .cfi_offset %rip, -8
.endm

/* the fast path's return slot at [rsp] holds the resume address with the number (or a
 * parked result) in its top bits: resume address = [rsp] << 16 >> 16, CFA = rsp + 8 */
.macro CFI_RA_IN_SLOT
        .cfi_def_cfa %rsp, 8
        .cfi_escape DW_CFA_val_expression, TL_DW_RIP, 7, DW_OP_breg(TL_DW_RSP), 0, DW_OP_deref, \
                    DW_OP_lit(64 - TL_SLOT_NR_SHIFT), DW_OP_shl, DW_OP_lit(64 - TL_SLOT_NR_SHIFT), DW_OP_shr
.endm

/* ---- the frame's registers */

/* the frame's general registers below F_RAX, r15 at the bottom: pushed by the slow and
 * hooked entries (and, in the same order, by a new thread before tl_thread_child_init).
 * cfi=1: the CFA is rsp-based (each push moves it by 8) */
.macro PUSH_FRAME_GPRS cfi=0
        .irp reg, rdi, rsi, rdx, r10, r8, r9, rbx, rbp, r12, r13, r14, r15
        push    %\reg
        .if \cfi
        .cfi_adjust_cfa_offset 8
        .endif
        .endr
.endm

/* pops what PUSH_FRAME_GPRS pushed. cfi=1: the CFA is rsp-based; cfi=2: the frame's CFI
 * (CFI_FRAME_AT), rsp starting at the frame (k = 0) */
.macro POP_GPRS cfi=0
        .if \cfi == 2
        CFI_FRAME_FORGET_REGS
        .endif
        .set tl_pop_k, 0
        .irp reg, r15, r14, r13, r12, rbp, rbx, r9, r8, r10, rdx, rsi, rdi
        pop     %\reg
        .set tl_pop_k, tl_pop_k + 8
        .if \cfi == 1
        .cfi_adjust_cfa_offset -8
        .elseif \cfi == 2
        CFI_FRAME_AT tl_pop_k
        .endif
        .endr
.endm

/* pop the frame's general registers (F_R15 .. F_RAX); rsp then points at F_FLAGS.
 * cfi=2: rsp started at the frame, whose CFI (CFI_FRAME_AT) follows it */
.macro POP_FRAME_GPRS cfi=0
        POP_GPRS \cfi
        pop     %rax
        .if \cfi == 2
        CFI_FRAME_AT F_FLAGS
        .endif
.endm

/* loads the program's registers r15 .. rdi from the frame at \base (not rax, rcx, r11) */
.macro LOAD_FRAME_GPRS base
        mov     F_R15(\base), %r15
        mov     F_R14(\base), %r14
        mov     F_R13(\base), %r13
        mov     F_R12(\base), %r12
        mov     F_RBP(\base), %rbp
        mov     F_RBX(\base), %rbx
        mov     F_R9(\base), %r9
        mov     F_R8(\base), %r8
        mov     F_R10(\base), %r10
        mov     F_RDX(\base), %rdx
        mov     F_RSI(\base), %rsi
        mov     F_RDI(\base), %rdi
.endm

/* the C callee-saved registers, around a clone trampoline's parent path (a C function:
 * the CFA is rsp-based) */
.macro SAVE_CALLEE
        .irp reg, rbx, rbp, r12, r13, r14, r15
        push    %\reg
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %\reg, 0
        .endr
.endm
.macro RESTORE_CALLEE
        .irp reg, r15, r14, r13, r12, rbp, rbx
        pop     %\reg
        .cfi_adjust_cfa_offset -8
        .cfi_restore %\reg
        .endr
.endm

/* A clone trampoline's start (tl_clone_thread, tl_clone_thread_i386; rdi = the frame,
 * rsi = the child's stack, rdx = the clone flags): the resume address, the program's flags
 * and the clone flags go just below the child's stack for the child (CH_RET, CH_FLAGS,
 * CH_CLONE), the flags onto ours for the parent's popfq, and every register but rax, rcx
 * and r11 takes the program's value (r11 = the frame, for what the caller loads next). */
.macro CLONE_PROLOGUE
        SAVE_CALLEE
        mov     F_RET(%rdi), %rax
        mov     %rax, CH_RET(%rsi)
        mov     F_FLAGS(%rdi), %rax
        mov     %rax, CH_FLAGS(%rsi)
        mov     %rdx, CH_CLONE(%rsi)
        mov     %rdi, %r11
        pushq   F_FLAGS(%r11)
        .cfi_adjust_cfa_offset 8
        LOAD_FRAME_GPRS %r11
.endm

/* the child of a clone trampoline, just after the call: rsp = the child's stack, the
 * resume address at CH_RET below it (the program's rsp is the CFA) */
.macro CFI_CLONE_CHILD
        .cfi_def_cfa %rsp, 0
        .cfi_offset %rip, CH_RET
        .irp reg, rbx, rbp, r12, r13, r14, r15
        .cfi_same_value %\reg          /* the program's: the child loaded them */
        .endr
.endm

#endif
