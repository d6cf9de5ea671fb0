/* Red-zone fixtures: one leaf function per form, each `long f(long a)` returning 0 if the
 * value it kept in [rsp-8, rsp) across its syscall survived, -1 if not. Self-contained
 * (no rip-relative references, no calls), so the block rz_begin..rz_end can be copied
 * into anonymous executable memory and run there (JIT). rz_<form>_site labels the
 * syscall. Also built into test/hooks/librzlib.so (dlopen) by test/hooks/rzlib.S.
 *
 *   rz_plain    no red zone                                      rewritten
 *   rz_before   uses the red zone only before the syscall         rewritten
 *   rz_direct   mov %rdi,-8(%rsp) ... syscall ... cmp -8(%rsp)    redzone
 *   rz_copy     mov %rsp,%rbx; -8(%rbx) across the syscall        redzone
 *   rz_lea      lea -16(%rsp),%r12; 8(%r12) across the syscall    redzone
 *   rz_rbp      push %rbp; mov %rsp,%rbp; -8(%rbp) (-O0 leaf)     redzone
 *   rz_kernel   clock_gettime into -16(%rsp): the kernel writes   redzone
 *               the red zone (tv_nsec at rsp-8)                                     */
#define FN(name) .globl name; .type name, @function; .p2align 4; name: .cfi_startproc
#define END(name) .cfi_endproc; .size name, .-name
#define SITE(name) .globl name; name:

        .text
        .globl  rz_begin
rz_begin:

FN(rz_plain)
        mov     $110, %eax
SITE(rz_plain_site)
        syscall
        xor     %eax, %eax
        ret
END(rz_plain)

FN(rz_before)
        mov     %rdi, -8(%rsp)
        mov     -8(%rsp), %rdx
        mov     $110, %eax
SITE(rz_before_site)
        syscall
        xor     %eax, %eax
        cmp     %rdx, %rdi
        je      1f
        mov     $-1, %rax
1:      ret
END(rz_before)

FN(rz_direct)
        mov     %rdi, -8(%rsp)
        mov     $110, %eax
SITE(rz_direct_site)
        syscall
        xor     %eax, %eax
        cmp     -8(%rsp), %rdi
        je      1f
        mov     $-1, %rax
1:      ret
END(rz_direct)

FN(rz_copy)
        push    %rbx
        mov     %rsp, %rbx
        mov     %rdi, -8(%rbx)
        mov     $110, %eax
SITE(rz_copy_site)
        syscall
        xor     %eax, %eax
        cmp     -8(%rbx), %rdi
        je      1f
        mov     $-1, %rax
1:      pop     %rbx
        ret
END(rz_copy)

FN(rz_lea)
        push    %r12
        lea     -16(%rsp), %r12
        mov     %rdi, 8(%r12)
        mov     $110, %eax
SITE(rz_lea_site)
        syscall
        xor     %eax, %eax
        cmp     8(%r12), %rdi
        je      1f
        mov     $-1, %rax
1:      pop     %r12
        ret
END(rz_lea)

FN(rz_rbp)
        push    %rbp
        mov     %rsp, %rbp
        mov     %rdi, -8(%rbp)
        mov     $110, %eax
SITE(rz_rbp_site)
        syscall
        xor     %eax, %eax
        cmp     -8(%rbp), %rdi
        je      1f
        mov     $-1, %rax
1:      pop     %rbp
        ret
END(rz_rbp)

FN(rz_kernel)
        lea     -16(%rsp), %rsi
        mov     $1, %edi                /* CLOCK_MONOTONIC */
        mov     $228, %eax
SITE(rz_kernel_site)
        syscall
        test    %rax, %rax
        jne     1f
        cmpq    $1000000000, -8(%rsp)   /* tv_nsec */
        jae     1f
        xor     %eax, %eax
        ret
1:      mov     $-1, %rax
        ret
END(rz_kernel)

        .globl  rz_end
rz_end:
        .section .note.GNU-stack, "", @progbits
