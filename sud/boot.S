/* The boot image's entry (ELF e_entry of libtrapline-boot.so), reached once, from the
 * injector (sud/inject.c), in a program stopped at its first instruction:
 *   rdi = struct tl_boot_args * (sud/sud.h), rsp = a stack the injector mapped.
 * It relocates the image, starts trapline (tl_boot_main), unmaps the injector's block
 * if it mapped one (its own stack: nothing of it is touched after that call; a block on
 * the program's own stack is left there) and stops at int3 with
 * r12 = 1 (started) for the injector, which then restores the program's registers and
 * lets it run. tl_boot_gadget (e_entry + TL_BOOT_GADGET_OFF) is `syscall; int3` inside
 * our text, for any system call the injector would still make once SUD is on. */
#include <asm/unistd_64.h>
#include "sud/boot.h"

        .text
        .globl tl_boot_entry
        .hidden tl_boot_entry
        .type tl_boot_entry, @function
        .p2align 4
tl_boot_entry:
        jmp     1f
        .globl tl_boot_gadget
        .hidden tl_boot_gadget
tl_boot_gadget:                         /* e_entry + TL_BOOT_GADGET_OFF */
        syscall
        int3
1:      and     $-16, %rsp              /* 16-byte aligned at the calls */
        mov     %rdi, %rbx              /* the block (callee-saved across the calls) */
        mov     TL_BOOT_ARGS_FD(%rdi), %rdi
        call    tl_boot_map             /* our data segments, before anything touches them */
        test    %eax, %eax
        jnz     2f
        call    tl_boot_relocate
        mov     %rbx, %rdi
        call    tl_boot_main
        mov     %eax, %r12d             /* 1: started (a failure exited the process) */
        mov     TL_BOOT_ARGS_UNMAP(%rbx), %rsi
        test    %rsi, %rsi
        jz      3f
        mov     %rbx, %rdi
        mov     $__NR_munmap, %eax
        syscall
3:      int3
2:      mov     $2, %edi                /* cannot map its own data: the injector sees the exit */
        mov     $__NR_exit_group, %eax
        syscall
        .size tl_boot_entry, .-tl_boot_entry

        .section .note.GNU-stack,"",@progbits
