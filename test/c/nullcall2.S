/* Calls and jumps into page 0 through every register and through memory (nullcall2.c).
 * nc_run loads every general register from nc_regs (by encoding number: rax rcx rdx rbx
 * rsp(unused) rbp rsi rdi r8..r15), puts 0x5a5a5a5a and then nc_ptr's value on top of the stack, records
 * rsp, and jumps to the stub nc_stub names. Each stub is one indirect call or jump. */
        .data
        .p2align 4
        .globl nc_regs, nc_stub, nc_saved_rsp, nc_ptr
nc_regs:        .skip 16 * 8
nc_stub:        .quad 0
nc_saved_rsp:   .quad 0
nc_ptr:         .quad 0

        .text
        .globl nc_run
nc_run:
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        pushq   $0x5a5a5a5a
        pushq   nc_ptr(%rip)
        mov     %rsp, nc_saved_rsp(%rip)
        mov     nc_regs + 8 * 0(%rip), %rax
        mov     nc_regs + 8 * 1(%rip), %rcx
        mov     nc_regs + 8 * 2(%rip), %rdx
        mov     nc_regs + 8 * 3(%rip), %rbx
        mov     nc_regs + 8 * 5(%rip), %rbp
        mov     nc_regs + 8 * 6(%rip), %rsi
        mov     nc_regs + 8 * 7(%rip), %rdi
        mov     nc_regs + 8 * 8(%rip), %r8
        mov     nc_regs + 8 * 9(%rip), %r9
        mov     nc_regs + 8 * 10(%rip), %r10
        mov     nc_regs + 8 * 11(%rip), %r11
        mov     nc_regs + 8 * 12(%rip), %r12
        mov     nc_regs + 8 * 13(%rip), %r13
        mov     nc_regs + 8 * 14(%rip), %r14
        mov     nc_regs + 8 * 15(%rip), %r15
        jmp     *nc_stub(%rip)

.macro STUB name, insn:vararg
        .globl \name
        .p2align 4
\name:  \insn
        ud2
.endm
        .globl nc_stubs_lo
nc_stubs_lo:
        STUB nc_call_rax, call *%rax
        STUB nc_call_rcx, call *%rcx
        STUB nc_call_rdx, call *%rdx
        STUB nc_call_rbx, call *%rbx
        STUB nc_call_rbp, call *%rbp
        STUB nc_call_rsi, call *%rsi
        STUB nc_call_rdi, call *%rdi
        STUB nc_call_r8, call *%r8
        STUB nc_call_r9, call *%r9
        STUB nc_call_r10, call *%r10
        STUB nc_call_r11, call *%r11
        STUB nc_call_r12, call *%r12
        STUB nc_call_r13, call *%r13
        STUB nc_call_r14, call *%r14
        STUB nc_call_r15, call *%r15
        STUB nc_jmp_rax, jmp *%rax
        STUB nc_jmp_rcx, jmp *%rcx
        STUB nc_jmp_rdx, jmp *%rdx
        STUB nc_jmp_rbx, jmp *%rbx
        STUB nc_jmp_rbp, jmp *%rbp
        STUB nc_jmp_rsi, jmp *%rsi
        STUB nc_jmp_rdi, jmp *%rdi
        STUB nc_jmp_r8, jmp *%r8
        STUB nc_jmp_r9, jmp *%r9
        STUB nc_jmp_r10, jmp *%r10
        STUB nc_jmp_r11, jmp *%r11
        STUB nc_jmp_r12, jmp *%r12
        STUB nc_jmp_r13, jmp *%r13
        STUB nc_jmp_r14, jmp *%r14
        STUB nc_jmp_r15, jmp *%r15
        /* through memory: nc_ptr holds the target; rbx = &nc_ptr, r13 = &nc_ptr - 8,
         * r12 = &nc_ptr - 0x1000, rcx = 0 (set by the driver) */
        STUB nc_call_rip, call *nc_ptr(%rip)
        STUB nc_call_mrbx, call *(%rbx)
        STUB nc_call_mr13d8, call *8(%r13)
        STUB nc_call_mr12d32, call *0x1000(%r12)
        STUB nc_call_sib, call *(%rbx,%rcx,8)
        STUB nc_call_mrsp, call *(%rsp)
        STUB nc_call_seg, notrack call *%ds:(%rbx)
        STUB nc_jmp_rip, jmp *nc_ptr(%rip)
        STUB nc_jmp_mrbx, jmp *(%rbx)
        STUB nc_ret, ret
        .globl nc_stubs_hi
nc_stubs_hi:
        .section .note.GNU-stack,"",@progbits
