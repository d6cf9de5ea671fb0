/* trapline: 32-bit system calls (`int $0x80`) made by 64-bit code. See sud/i386.c.
 *
 * The SIGSYS handler builds a full frame (struct tl_frame, via 3, rcx and r11 included)
 * on our stack and resumes the thread at tl_i386_entry with rsp = that frame. The call
 * is then dispatched and performed outside the handler by a real `int $0x80` in our
 * text (SUD lets it through), so the kernel applies its own i386 semantics: argument
 * truncation, result, EINTR and restarts. `int $0x80` changes no register but rax, so
 * the way out restores every other register, rcx and r11 included, and the flags, with
 * iretq: it loads rip, cs, rflags and rsp at once, without a free register and without
 * writing anything below the program's rsp, and returns to 32-bit code (a compatibility
 * code segment) as well as to 64-bit code.
 */
#include "core/tcb.h"
#include "core/frame_asm.h"

/* the frame iretq pops (the CPU's layout) */
#define IRET_RIP 0
#define IRET_CS 8
#define IRET_RFLAGS 16
#define IRET_RSP 24
#define IRET_SS 32
#define IRET_SIZE 40

        .text

/* rsp = a via-3 frame (CFI: a signal frame whose program state is the frame's) */
        .globl tl_i386_entry
        .hidden tl_i386_entry
        .type tl_i386_entry, @function
        .p2align 4
tl_i386_entry:
        .cfi_startproc
        .cfi_signal_frame
        CFI_FRAME_REGS 0, 1
        cld
        mov     %rsp, %rdi
        call    tl_dispatch_i386
        cmp     $TL_ACT_SIGRETURN_I386, %eax    /* else TL_ACT_RESUME */
        je      tl_i386_sigreturn
        jmp     tl_i386_exit
        .cfi_endproc
        .size tl_i386_entry, .-tl_i386_entry

/* noreturn void tl_i386_resume_frame(struct tl_frame *f): resume from a via-3 frame */
        .globl tl_i386_resume_frame
        .hidden tl_i386_resume_frame
        .type tl_i386_resume_frame, @function
        .p2align 4
tl_i386_resume_frame:
        .cfi_startproc
        mov     %rdi, %rsp
        CFI_FRAME_REGS 0, 1
        jmp     tl_i386_exit
        .cfi_endproc
        .size tl_i386_resume_frame, .-tl_i386_resume_frame

/* rsp = a via-3 frame: restore everything and resume the program at F_RET */
#define FR(f) (IRET_SIZE + (f))(%rsp)
        .globl tl_i386_exit
        .hidden tl_i386_exit
        .type tl_i386_exit, @function
        .p2align 4
tl_i386_exit:
        .cfi_startproc
        .cfi_signal_frame
        CFI_FRAME_REGS 0, 1
        sub     $IRET_SIZE, %rsp                /* iretq frame below ours: rip cs rflags rsp ss */
        CFI_FRAME_REGS -IRET_SIZE, 1
        mov     FR(F_RET), %rax
        mov     %rax, IRET_RIP(%rsp)
        mov     FR(F_CS), %rax                  /* the program's: 64-bit, or a 32-bit segment */
        mov     %rax, IRET_CS(%rsp)
        mov     FR(F_FLAGS), %rax
        mov     %rax, IRET_RFLAGS(%rsp)
        mov     FR(F_RSP), %rax
        mov     %rax, IRET_RSP(%rsp)
        mov     %ss, %rax
        mov     %rax, IRET_SS(%rsp)
        mov     FR(F_R15), %r15
        mov     FR(F_R14), %r14
        mov     FR(F_R13), %r13
        mov     FR(F_R12), %r12
        mov     FR(F_RBP), %rbp
        mov     FR(F_RBX), %rbx
        mov     FR(F_R9), %r9
        mov     FR(F_R8), %r8
        mov     FR(F_R10), %r10
        mov     FR(F_RDX), %rdx
        mov     FR(F_RSI), %rsi
        mov     FR(F_RDI), %rdi
        mov     FR(F_RCX), %rcx
        mov     FR(F_R11), %r11
        mov     FR(F_RAX), %rax
        iretq
        .cfi_endproc
        .size tl_i386_exit, .-tl_i386_exit
#undef FR

/* i386 sigreturn / rt_sigreturn (119, 173): performed with every register and rsp as the
 * program had them, so the kernel reads the same signal frame it would without us. */
        .globl tl_i386_sigreturn
        .hidden tl_i386_sigreturn
        .type tl_i386_sigreturn, @function
        .p2align 4
tl_i386_sigreturn:
        .cfi_startproc
        .cfi_signal_frame
        CFI_FRAME_REGS 0, 1
        LOAD_FRAME_GPRS %rsp
        mov     F_RCX(%rsp), %rcx
        mov     F_R11(%rsp), %r11
        mov     F_RAX(%rsp), %rax
        pushq   F_FLAGS(%rsp)
        CFI_FRAME_REGS -8, 1
        popfq
        CFI_FRAME_REGS 0, 1
        mov     F_RSP(%rsp), %rsp
        .cfi_def_cfa %rsp, 0
        .cfi_undefined %rip                     /* sigreturn: the kernel decides */
        int     $0x80
        ud2
        .cfi_endproc
        .size tl_i386_sigreturn, .-tl_i386_sigreturn

/* long tl_clone_thread_i386(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags)
 * The i386 clone (120) that starts a thread on a new stack, made by `int $0x80` with
 * every register set to the program's values (so the kernel applies the i386 argument
 * order and TLS semantics). Like tl_clone_thread, the child sets up its control block and
 * SUD before running any program instruction, then resumes at f->ret with rax = 0 and
 * every other register, rcx and r11 included, as the program had them: `int $0x80` keeps
 * them in the child too. Below child_sp: CH_RET, CH_FLAGS, CH_CLONE (core/tcb.h). */
        .globl tl_clone_thread_i386
        .hidden tl_clone_thread_i386
        .type tl_clone_thread_i386, @function
        .p2align 4
tl_clone_thread_i386:
        .cfi_startproc
        CLONE_PROLOGUE
        mov     F_RCX(%r11), %rcx
        mov     F_RAX(%r11), %rax
        mov     F_R11(%r11), %r11
        popfq
        .cfi_adjust_cfa_offset -8
        int     $0x80
        test    %rax, %rax
        jz      .Lchild32
        cld
        RESTORE_CALLEE
        ret
.Lchild32:
        CFI_CLONE_CHILD
        lea     CH_CLONE(%rsp), %rsp    /* rsp -> [clone flags][flags][ret] */
        .cfi_adjust_cfa_offset -CH_CLONE
        push    %rcx
        .cfi_adjust_cfa_offset 8
        push    %r11
        .cfi_adjust_cfa_offset 8
        PUSH_FRAME_GPRS 1
        mov     (F_RAX + 2 * 8)(%rsp), %rdi     /* clone flags: above the 12 registers, r11 and rcx */
        mov     %rsp, %rbx
        .cfi_def_cfa_register %rbx
        and     $-TL_STACK_ALIGN, %rsp
        cld
        call    tl_thread_child_init
        mov     %rbx, %rsp
        .cfi_def_cfa_register %rsp
        POP_GPRS 1
        pop     %r11
        .cfi_adjust_cfa_offset -8
        pop     %rcx
        .cfi_adjust_cfa_offset -8
        lea     (CH_FLAGS - CH_CLONE)(%rsp), %rsp       /* rsp -> [flags][ret] */
        .cfi_adjust_cfa_offset -(CH_FLAGS - CH_CLONE)
        mov     $0, %eax
        popfq
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .size tl_clone_thread_i386, .-tl_clone_thread_i386

        .section .note.GNU-stack,"",@progbits
