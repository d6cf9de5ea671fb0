/* The boot image's entry (ELF e_entry of libtrapline-boot.so), reached once, from the
 * injector (sud/inject.c), in a program stopped at its first instruction:
 *   rdi = struct tl_boot_args * (sud/sud.h), rsp = a stack the injector mapped.
 * It relocates the image, starts trapline (tl_boot_main), unmaps the injector's block
 * if it mapped one, or drops the pages of one it placed on the program's stack below
 * the initial stack pointer (as unused stack natively, they read as zero: no setting is
 * left there); its own stack either way: nothing of it is touched after that call. It
 * stops at int3 with
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
        mov     %rbx, %rdi
        mov     $__NR_munmap, %eax
        test    %rsi, %rsi
        jnz     3f
        mov     TL_BOOT_ARGS_DROP(%rbx), %rsi /* on the program's stack: its pages dropped, */
        mov     $4, %edx                /* as natively (MADV_DONTNEED: zero if used) */
        mov     $__NR_madvise, %eax
3:      syscall
        int3
2:      mov     $2, %edi                /* cannot map its own data: the injector sees the exit */
        mov     $__NR_exit_group, %eax
        syscall
        .size tl_boot_entry, .-tl_boot_entry

        .section .note.GNU-stack,"",@progbits
