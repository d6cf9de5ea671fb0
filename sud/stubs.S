/* Assembly of the process model (sud/): a new thread's first steps (tl_clone_thread),
 * a thread's last (tl_exit_thread). */
#include <asm/unistd_64.h>
#include "core/tcb.h"
#include "core/frame_asm.h"

        .text

/* long tl_clone_thread(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags)
 * Performs clone/clone3 (nr in f->rax) with every register set to the program's values,
 * so the child starts with the program's state. The child returns on child_sp: it sets
 * up its own control block and SUD (tl_thread_child_init) before it runs a single
 * instruction of the program, then resumes at f->ret with rax = 0.
 * Below child_sp (unused memory): CH_RET, CH_FLAGS and CH_CLONE carry the resume address,
 * the flags and the clone flags to the child (core/tcb.h). */
        .globl tl_clone_thread
        .hidden tl_clone_thread
        .type tl_clone_thread, @function
        .p2align 4
tl_clone_thread:
        .cfi_startproc
        CLONE_PROLOGUE
        mov     F_RAX(%r11), %rax
        popfq
        .cfi_adjust_cfa_offset -8
        syscall
        test    %rax, %rax
        jz      .Lchild
        cld
        RESTORE_CALLEE
        ret
.Lchild:
        CFI_CLONE_CHILD
        lea     CH_FLAGS(%rsp), %rsp    /* rsp -> [flags][ret] */
        .cfi_adjust_cfa_offset -CH_FLAGS
        mov     (CH_CLONE - CH_FLAGS)(%rsp), %r11       /* clone flags (r11 is free: the kernel clobbers it) */
        PUSH_FRAME_GPRS 1
        mov     %rsp, %rbx
        .cfi_def_cfa_register %rbx
        and     $-TL_STACK_ALIGN, %rsp
        cld
        mov     %r11, %rdi
        call    tl_thread_child_init
        mov     %rbx, %rsp
        .cfi_def_cfa_register %rsp
        POP_GPRS 1
        mov     $0, %eax
        mov     (CH_RET - CH_FLAGS)(%rsp), %rcx
        popfq
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .size tl_clone_thread, .-tl_clone_thread

/* noreturn void tl_exit_thread(void *base, size_t len, long code, long nr)
 * Unmaps the thread's control block and stack, then exits, without touching memory. */
        .globl tl_exit_thread
        .hidden tl_exit_thread
        .type tl_exit_thread, @function
        .p2align 4
tl_exit_thread:
        .cfi_startproc
        mov     %rdx, %r8
        mov     %rcx, %r9
        mov     $__NR_munmap, %eax
        syscall
        .cfi_undefined %rip             /* our stack is gone */
        mov     %r8, %rdi
        mov     %r9, %rax
        syscall
        ud2
        .cfi_endproc
        .size tl_exit_thread, .-tl_exit_thread

        .section .note.GNU-stack,"",@progbits
