/* Assembler macros for the register frame (struct tl_frame, core/tcb.h), shared by
 * core/entry.S and sud/entry_i386.S. */
#ifndef TRAPLINE_FRAME_ASM_H
#define TRAPLINE_FRAME_ASM_H

/* the frame's general registers below F_RAX, r15 at the bottom: pushed by the slow and
 * hooked entries (and, in the same order, by a new thread before tl_thread_child_init) */
.macro PUSH_FRAME_GPRS
        push    %rdi
        push    %rsi
        push    %rdx
        push    %r10
        push    %r8
        push    %r9
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
.endm

/* pops what PUSH_FRAME_GPRS pushed */
.macro POP_GPRS
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        pop     %r9
        pop     %r8
        pop     %r10
        pop     %rdx
        pop     %rsi
        pop     %rdi
.endm

/* pop the frame's general registers (F_R15 .. F_RAX); rsp then points at F_FLAGS */
.macro POP_FRAME_GPRS
        POP_GPRS
        pop     %rax
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

/* the C callee-saved registers, around a clone trampoline's parent path */
.macro SAVE_CALLEE
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
.endm
.macro RESTORE_CALLEE
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
.endm

/* A clone trampoline's start (tl_clone_thread, tl_clone_thread_i386; rdi = the frame,
 * rsi = the child's stack, rdx = the clone flags): the resume address, the program's flags
 * and the clone flags go just below the child's stack for the child, the flags onto ours
 * for the parent's popfq, and every register but rax, rcx and r11 takes the program's
 * value (r11 = the frame, for what the caller loads next). */
.macro CLONE_PROLOGUE
        SAVE_CALLEE
        mov     F_RET(%rdi), %rax
        mov     %rax, -8(%rsi)
        mov     F_FLAGS(%rdi), %rax
        mov     %rax, -16(%rsi)
        mov     %rdx, -24(%rsi)
        mov     %rdi, %r11
        pushq   F_FLAGS(%r11)
        LOAD_FRAME_GPRS %r11
.endm

#endif
