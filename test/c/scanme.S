/* Fixture for the static scanner (test/scan.test.ts, docs/scan.md): functions whose
 * system-call byte pairs have known classes.
 *
 *   site_plain     mov $39,%eax; syscall; ret                      1 confirmed
 *   site_imm       0f 05 and 0f 34 inside immediates, then a real   2 ambiguous, 1 confirmed
 *                  getpid syscall
 *   scanme_blob    data bytes 0f 05 0f 34 in .text, no function     2 ambiguous
 *   site_redzone   stores below %rsp, then a syscall                1 redzone
 *   site_sysenter  a real sysenter instruction (never called)       1 confirmed
 *   site_desync    a data byte 0xb8 right before it makes the       1 ambiguous
 *                  linear sweep decode through the function
 *                  misaligned (never called)
 *
 * Every function has .type/.size and CFI, so .symtab and .eh_frame both cover it. */
        .text

        .p2align 4
        .globl  site_plain
        .type   site_plain, @function
site_plain:                             /* long site_plain(void): getpid() */
        .cfi_startproc
        mov     $39, %eax
        syscall
        ret
        .cfi_endproc
        .size   site_plain, .-site_plain

        .p2align 4
        .globl  site_imm
        .type   site_imm, @function
site_imm:                               /* long site_imm(void): getpid() */
        .cfi_startproc
        mov     $0x050f, %r8d           /* 41 b8 0f 05 00 00: syscall bytes in an immediate */
        movabs  $0x00340f0000000000, %rdx   /* 48 ba .. 0f 34 ..: sysenter bytes in an immediate */
        mov     $39, %eax
        syscall
        ret
        .cfi_endproc
        .size   site_imm, .-site_imm

        /* data in .text between functions: no function symbol or FDE covers it */
        .globl  scanme_blob
        .type   scanme_blob, @object
scanme_blob:
        .byte   0x0f, 0x05, 0x0f, 0x34
        .size   scanme_blob, 4

        .p2align 4
        .globl  site_redzone
        .type   site_redzone, @function
site_redzone:                           /* long site_redzone(long a, long b): getpid(), or -1
                                           if a or b did not survive below %rsp */
        .cfi_startproc
        mov     %rdi, -8(%rsp)
        mov     %rsi, -16(%rsp)
        mov     $39, %eax
        syscall
        cmp     -8(%rsp), %rdi
        jne     1f
        cmp     -16(%rsp), %rsi
        jne     1f
        ret
1:      mov     $-1, %rax
        ret
        .cfi_endproc
        .size   site_redzone, .-site_redzone

        .p2align 4
        .globl  site_sysenter
        .type   site_sysenter, @function
site_sysenter:                          /* never called */
        .cfi_startproc
        sysenter
        ret
        .cfi_endproc
        .size   site_sysenter, .-site_sysenter

        /* One byte of data (the opcode of mov $imm32,%eax) right before a function: a
         * linear sweep decodes b8 b8 27 00 00, then 00 0f, then 05 c3 .. and so never sees
         * site_desync's syscall, which the decoding from the symbol finds. Last in the
         * file, so the sweep resynchronises in the padding after it. */
        .p2align 4
        .byte   0xb8
        .globl  site_desync
        .type   site_desync, @function
site_desync:                            /* never called */
        .cfi_startproc
        mov     $39, %eax
        syscall
        ret
        .cfi_endproc
        .size   site_desync, .-site_desync

        .section .note.GNU-stack, "", @progbits
