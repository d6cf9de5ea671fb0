/* The boot image's entry (ELF e_entry of libtrapline-boot.so), reached once, from the
 * injector (sud/inject.c), in a program stopped at its first instruction:
 *   rdi = struct tl_boot_args * (sud/sud.h), rsp = a stack the injector mapped.
 * It relocates the image, starts trapline (tl_boot_main) and stops at int3 for the
 * injector, which then restores the program's registers and lets it run.
 * tl_boot_gadget (e_entry + TL_BOOT_GADGET_OFF) is `syscall; int3` inside our text: the
 * injector makes its last system calls there, once SUD is on (our text is allowed). */
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
1:      and     $-16, %rsp
        push    %rdi
        push    %rdi                    /* keeps rsp 16-byte aligned at the calls */
        call    tl_boot_relocate
        mov     (%rsp), %rdi
        call    tl_boot_main
        int3
        .size tl_boot_entry, .-tl_boot_entry

        .section .note.GNU-stack,"",@progbits
