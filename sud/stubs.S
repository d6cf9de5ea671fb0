/* Assembly of the process model (sud/): a new thread's first steps (tl_clone_thread),
 * a thread's last (tl_exit_thread). */
#include "core/tcb.h"
#include "core/frame_asm.h"

        .text

/* long tl_clone_thread(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags)
 * Performs clone/clone3 (nr in f->rax) with every register set to the program's values,
 * so the child starts with the program's state. The child returns on child_sp: it sets
 * up its own control block and SUD (tl_thread_child_init) before it runs a single
 * instruction of the program, then resumes at f->ret with rax = 0.
 * [child_sp - 8] and [child_sp - 16] (below the child's stack pointer, unused) carry
 * the resume address and flags to the child. */
        .globl tl_clone_thread
        .hidden tl_clone_thread
        .type tl_clone_thread, @function
        .p2align 4
tl_clone_thread:
        CLONE_PROLOGUE
        mov     F_RAX(%r11), %rax
        popfq
        syscall
        test    %rax, %rax
        jz      .Lchild
        cld
        RESTORE_CALLEE
        ret
.Lchild:
        lea     -16(%rsp), %rsp         /* rsp -> [flags][ret] */
        mov     -8(%rsp), %r11          /* clone flags (r11 is free: the kernel clobbers it) */
        PUSH_FRAME_GPRS
        mov     %rsp, %rbx
        and     $-16, %rsp
        cld
        mov     %r11, %rdi
        call    tl_thread_child_init
        mov     %rbx, %rsp
        POP_GPRS
        mov     $0, %eax
        mov     8(%rsp), %rcx
        popfq
        ret
        .size tl_clone_thread, .-tl_clone_thread

/* noreturn void tl_exit_thread(void *base, size_t len, long code, long nr)
 * Unmaps the thread's control block and stack, then exits, without touching memory. */
        .globl tl_exit_thread
        .hidden tl_exit_thread
        .p2align 4
tl_exit_thread:
        mov     %rdx, %r8
        mov     %rcx, %r9
        mov     $11, %eax
        syscall
        mov     %r8, %rdi
        mov     %r9, %rax
        syscall
        ud2

        .section .note.GNU-stack,"",@progbits
