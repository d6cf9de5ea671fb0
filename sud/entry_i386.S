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

        .text

        .globl tl_i386_entry
        .hidden tl_i386_entry
        .type tl_i386_entry, @function
        .p2align 4
tl_i386_entry:
        cld
        mov     %rsp, %rdi
        call    tl_dispatch_i386
        /* rax: 0 = resume the program, 2 = perform an i386 sigreturn on its stack */
        cmp     $2, %eax
        je      tl_i386_sigreturn
        jmp     tl_i386_exit
        .size tl_i386_entry, .-tl_i386_entry

/* noreturn void tl_i386_resume_frame(struct tl_frame *f): resume from a via-3 frame */
        .globl tl_i386_resume_frame
        .hidden tl_i386_resume_frame
        .p2align 4
tl_i386_resume_frame:
        mov     %rdi, %rsp
        jmp     tl_i386_exit

/* rsp = a via-3 frame: restore everything and resume the program at F_RET */
        .globl tl_i386_exit
        .hidden tl_i386_exit
        .p2align 4
tl_i386_exit:
        sub     $40, %rsp                       /* iretq frame below ours: rip cs rflags rsp ss */
        mov     40+F_RET(%rsp), %rax
        mov     %rax, 0(%rsp)
        mov     40+F_CS(%rsp), %rax             /* the program's: 64-bit, or a 32-bit segment */
        mov     %rax, 8(%rsp)
        mov     40+F_FLAGS(%rsp), %rax
        mov     %rax, 16(%rsp)
        mov     40+F_RSP(%rsp), %rax
        mov     %rax, 24(%rsp)
        mov     %ss, %rax
        mov     %rax, 32(%rsp)
        mov     40+F_R15(%rsp), %r15
        mov     40+F_R14(%rsp), %r14
        mov     40+F_R13(%rsp), %r13
        mov     40+F_R12(%rsp), %r12
        mov     40+F_RBP(%rsp), %rbp
        mov     40+F_RBX(%rsp), %rbx
        mov     40+F_R9(%rsp), %r9
        mov     40+F_R8(%rsp), %r8
        mov     40+F_R10(%rsp), %r10
        mov     40+F_RDX(%rsp), %rdx
        mov     40+F_RSI(%rsp), %rsi
        mov     40+F_RDI(%rsp), %rdi
        mov     40+F_RCX(%rsp), %rcx
        mov     40+F_R11(%rsp), %r11
        mov     40+F_RAX(%rsp), %rax
        iretq

/* i386 sigreturn / rt_sigreturn (119, 173): performed with every register and rsp as the
 * program had them, so the kernel reads the same signal frame it would without us. */
        .globl tl_i386_sigreturn
        .hidden tl_i386_sigreturn
        .p2align 4
tl_i386_sigreturn:
        mov     F_R15(%rsp), %r15
        mov     F_R14(%rsp), %r14
        mov     F_R13(%rsp), %r13
        mov     F_R12(%rsp), %r12
        mov     F_RBP(%rsp), %rbp
        mov     F_RBX(%rsp), %rbx
        mov     F_R9(%rsp), %r9
        mov     F_R8(%rsp), %r8
        mov     F_R10(%rsp), %r10
        mov     F_RDX(%rsp), %rdx
        mov     F_RSI(%rsp), %rsi
        mov     F_RDI(%rsp), %rdi
        mov     F_RCX(%rsp), %rcx
        mov     F_R11(%rsp), %r11
        mov     F_RAX(%rsp), %rax
        pushq   F_FLAGS(%rsp)
        popfq
        mov     F_RSP(%rsp), %rsp
        int     $0x80
        ud2

/* long tl_clone_thread_i386(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags)
 * The i386 clone (120) that starts a thread on a new stack, made by `int $0x80` with
 * every register set to the program's values (so the kernel applies the i386 argument
 * order and TLS semantics). Like tl_clone_thread, the child sets up its control block and
 * SUD before running any program instruction, then resumes at f->ret with rax = 0 and
 * every other register, rcx and r11 included, as the program had them: `int $0x80` keeps
 * them in the child too. [child_sp - 8] and [child_sp - 16] carry the resume address and
 * flags, [child_sp - 24] the clone flags. */
        .globl tl_clone_thread_i386
        .hidden tl_clone_thread_i386
        .type tl_clone_thread_i386, @function
        .p2align 4
tl_clone_thread_i386:
        CLONE_PROLOGUE
        mov     F_RCX(%r11), %rcx
        mov     F_RAX(%r11), %rax
        mov     F_R11(%r11), %r11
        popfq
        int     $0x80
        test    %rax, %rax
        jz      .Lchild32
        cld
        RESTORE_CALLEE
        ret
.Lchild32:
        lea     -24(%rsp), %rsp         /* rsp -> [clone flags][flags][ret] */
        push    %rcx
        push    %r11
        PUSH_FRAME_GPRS
        mov     14*8(%rsp), %rdi        /* clone flags */
        mov     %rsp, %rbx
        and     $-16, %rsp
        cld
        call    tl_thread_child_init
        mov     %rbx, %rsp
        POP_GPRS
        pop     %r11
        pop     %rcx
        lea     8(%rsp), %rsp           /* rsp -> [flags][ret] */
        mov     $0, %eax
        popfq
        ret
        .size tl_clone_thread_i386, .-tl_clone_thread_i386

        .section .note.GNU-stack,"",@progbits
