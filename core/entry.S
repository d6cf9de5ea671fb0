/* trapline entry code (x86-64, GNU as).
 *
 * Three ways in:
 *   tl_fast_entry  from a rewritten site: `callq *%rax` landed in the sled at address nr,
 *                  the sled jumped here. [rsp] = return address (site + 2), rax = nr,
 *                  every other register is the program's.
 *   tl_sud_entry   from the SIGSYS handler (site not rewritten): rcx = site + 2, rax = nr,
 *                  rsp = the program's, flags = the program's.
 *   tl_fix_entry   from the SIGSEGV handler: a rewritten site called with a number outside
 *                  the sled (>= 4092, negative, non-canonical). Same registers as tl_sud_entry.
 *
 * ABI kept for the program: only rax (result), rcx (= return address) and r11 change;
 * rflags, every other register and the vector state are preserved. The fast path uses no
 * stack at all: it keeps its state in a 16-slot ring in the per-thread block at %gs, so it
 * never writes below the program's rsp beyond the 8 bytes `callq` itself pushed.
 * The slow path (C dispatch) runs on a per-thread stack of ours.
 */
#include "core/tcb.h"
#include "core/sled.h"
#include "core/frame_asm.h"

#define NR_MAX TL_ASM_NR_MAX

        .text

/* ---------------------------------------------------------------- fast path
 * State lives in rax (nr), rcx (return address), r11 (scratch) and in the 8-byte slot
 * the program's `callq` wrote: the return address is popped into rcx and the program's
 * flags are pushed into that same slot. Nothing else below rsp is written, nothing is
 * shared with a nested signal handler's entry. */
/* T_SPECIAL bit `bit` set for this number: the argument in `reg` must not point into page
 * 0, else the call goes to C (core/nullargs.c). Flags are free (saved in the slot). */
.macro ARG_NOT_IN_PAGE0 bit, reg
        testb   $\bit, %gs:T_SPECIAL(%rax)
        jz      1f
        cmp     $4096, \reg
        jb      .Lfast_to_slow
1:
.endm

        .globl tl_fast_entry
        .hidden tl_fast_entry
        .type tl_fast_entry, @function
        .p2align 6
tl_fast_entry:
        /* rcx and r11 are kept only to re-raise a NULL-call crash faithfully */
        mov     %rcx, %gs:T_SCR_RCX
        mov     %r11, %gs:T_SCR_R11
        pop     %rcx                    /* rcx = return address (site + 2) */
        pushfq                          /* the slot now holds the program's flags */
        /* only sites we rewrote may enter: per-thread cache of known return addresses */
        movabs  $TL_SITE_MUL, %r11
        imul    %rcx, %r11
        shr     $(64 - TL_CACHE_BITS), %r11
        shl     $4, %r11
        cmp     %rcx, %gs:T_CACHE(%r11)
        jne     .Lmiss
        mov     %gs:T_CACHE+8(%r11), %r11
.Lknown:                                /* r11 = this site's hit counter */
        incq    (%r11)
        cmp     $NR_MAX, %rax
        jae     .Lfast_to_slow
        cmpb    $0, %gs:T_SPECIAL(%rax)
        jne     .Lfast_special
.Lfast_checked:
        /* the site's numbers: most sites serve one, recorded when it trapped */
        cmp     %ax, TL_HITS_NR_FIRST(%r11)
        jne     .Lnr_more
.Lnr_known:
        mov     %gs:T_COUNTS, %r11
        incq    (%r11,%rax,8)
        /* slot := return address | nr << 48 (the number is needed again only if the call
         * fails); flags restored without popfq: ah = SF ZF AF PF CF (sahf), OF from bit 11
         * via a signed overflow */
        mov     (%rsp), %r11
        shl     $48, %rax
        or      %rcx, %rax
        mov     %rax, (%rsp)
        shr     $48, %rax
        mov     %rax, %rcx
        mov     %r11d, %eax
        rol     $8, %ax
        and     $8, %al
        add     $0x78, %al
        sahf
        mov     %rcx, %rax
        .globl tl_fast_syscall_insn
        .hidden tl_fast_syscall_insn
tl_fast_syscall_insn:
        syscall
        /* From here on nothing may change the flags (the kernel restored the program's):
         * only mov, lea, BMI2 shifts and jrcxz. An error result is -4096..-1, i.e.
         * (rax + 4096) >> 12 == 0. */
        lea     4096(%rax), %rcx
        mov     $12, %r11d
        shrx    %r11, %rcx, %rcx
        jrcxz   .Lfast_error
.Lfast_done:
        mov     (%rsp), %rcx
        mov     $16, %r11d
        shlx    %r11, %rcx, %rcx
        shrx    %r11, %rcx, %rcx        /* the return address (user addresses < 2^47) */
        mov     %rcx, (%rsp)            /* rcx = address after the site, as the kernel sets it */
        ret
.Lfast_error:
        movzwl  6(%rsp), %r11d          /* nr */
        mov     %ax, 6(%rsp)            /* park the result (-4096..-1: its low 16 bits suffice) */
        mov     %gs:T_COUNTS, %rcx
        mov     8 * NR_MAX(%rcx,%r11,8), %rax
        lea     1(%rax), %rax
        mov     %rax, 8 * NR_MAX(%rcx,%r11,8)   /* this thread's errors[nr] += 1 */
        movswq  6(%rsp), %rax
        jmp     .Lfast_done

.Lnr_more:                              /* another number (0..511): set its bit once */
        cmpw    $0xffff, TL_HITS_NR_FIRST(%r11)
        jne     1f
        mov     %ax, TL_HITS_NR_FIRST(%r11)     /* a planned site's first call: the hint */
1:      bt      %rax, TL_HITS_NRS(%r11)
        jc      .Lnr_known
        lock bts %rax, TL_HITS_NRS(%r11)
        jmp     .Lnr_known

.Lmiss:
        /* look the return address up in the global site set. Flags are safe in the slot;
         * rax and rdx are parked in a shadow-ring slot (never below rsp: that is the
         * program's red zone). The slot is claimed (T_DEPTH published) before it is
         * written and read back before it is given back: a signal handler that interrupts
         * any of these instructions and enters here itself takes the next slot, and the
         * wrapper of every program handler (sud/signals.c) puts T_DEPTH back as it found
         * it when the handler returns. */
        movzbl  %gs:T_DEPTH, %r11d
        add     $16, %r11d
        mov     %r11b, %gs:T_DEPTH
        mov     %rax, %gs:T_SHADOW-32(,%r11,2)
        mov     %rdx, %gs:T_SHADOW-24(,%r11,2)
        mov     %gs:T_SITES, %rdx
        cmp     $4096, %rcx             /* no site returns below 4096; 0 and 1 mark empty and */
        jb      3f                      /* forgotten slots (a jump pops any data as "return address") */
        movabs  $TL_SITE_MUL, %rax
        imul    %rcx, %rax
        shr     $(64 - TL_SITE_BITS), %rax
        shl     $4, %eax                /* byte offset of the slot (return address, hit counter) */
1:      cmp     (%rdx,%rax), %rcx
        je      2f
        cmpq    $0, (%rdx,%rax)
        je      3f
        add     $16, %eax
        and     $((16 << TL_SITE_BITS) - 1), %eax
        jmp     1b
2:      /* known: fill the cache (return address, hit counter) */
        mov     8(%rdx,%rax), %r11
        movabs  $TL_SITE_MUL, %rax
        imul    %rcx, %rax
        shr     $(64 - TL_CACHE_BITS), %rax
        shl     $4, %rax
        mov     %r11, %gs:T_CACHE+8(%rax)
        mov     %rcx, %gs:T_CACHE(%rax)
        movzbl  %gs:T_DEPTH, %eax
        add     $240, %eax              /* our slot: T_DEPTH - 16, modulo 256 */
        movzbl  %al, %eax
        mov     %gs:T_SHADOW+8(,%rax,2), %rdx
        mov     %gs:T_SHADOW(,%rax,2), %rax
        subb    $16, %gs:T_DEPTH        /* give the slot back (one instruction) */
        jmp     .Lknown
3:      movzbl  %gs:T_DEPTH, %r11d
        add     $240, %r11d
        movzbl  %r11b, %r11d
        mov     %gs:T_SHADOW(,%r11,2), %rax
        mov     %gs:T_SHADOW+8(,%r11,2), %rdx
        subb    $16, %gs:T_DEPTH
        /* Not a site we rewrote: a call through a small function pointer. Restore the
         * program's state exactly (rsp pointing at the pushed return address, as a real
         * faulting call leaves it) and let C re-raise SIGSEGV at address rax. */
        popfq
        push    %rcx
        mov     %rax, %rcx              /* the frame's "ret" field carries the called address */
        jmp     tl_slow_via2

.Lfast_special:
        /* T_SPECIAL bit 0: the call goes to C. Bits 1..6 (only with --allow-null-reads,
         * page 0 readable): arguments 1..6 that must not point into page 0; C makes such a
         * call fault as natively (core/nullargs.c). Flags are safe in the slot. */
        testb   $1, %gs:T_SPECIAL(%rax)
        jnz     .Lfast_to_slow
        ARG_NOT_IN_PAGE0 2, %rdi
        ARG_NOT_IN_PAGE0 4, %rsi
        ARG_NOT_IN_PAGE0 8, %rdx
        ARG_NOT_IN_PAGE0 16, %r10
        ARG_NOT_IN_PAGE0 32, %r8
        ARG_NOT_IN_PAGE0 64, %r9
        testb   $0x80, %gs:T_SPECIAL(%rax)    /* bit 7: a user hook is loaded */
        jz      .Lfast_checked
        /* fall through */

/* A call from a rewritten site while a user hook is loaded, of a number the dispatch
 * does not handle itself (those have bit 0 and take the slow path): the frame is the slow
 * path's (struct tl_frame), built without its shadow-ring bookkeeping, since the flags
 * are already safe in the slot; tl_dispatch_hooked runs the hook. The way out writes the
 * return address back into the slot and returns with `ret`, as the fast path does (the
 * return predictor stays in step with the program's callq).
 * In: rax = nr (< 512), rcx = return address, [rsp] = the program's flags (the slot),
 * r11 free. */
.Lfast_hooked:
        /* our stack: below the current rsp if we are already on it (a signal handler
         * interrupted our code), else the top, as SLOW chooses; while a reservation may
         * hold (a handler on an alternate stack interrupted our code), SLOW decides */
        mov     %rsp, %r11
        sub     %gs:T_STK_LO, %r11
        cmp     $TL_STACK_SIZE, %r11
        jb      1f
        cmpl    $0, %gs:T_RES_N
        jne     .Lfast_to_slow
        mov     %gs:T_STK_HI, %r11
        jmp     2f
1:      lea     -256(%rsp), %r11
2:      and     $-16, %r11
        xchg    %r11, %rsp                      /* r11 = the slot's address */
        sub     $32, %rsp                       /* F_RCX, F_R11, F_CS: used by via 3 only */
        pushq   $TL_VIA_FAST                    /* F_VIA: a rewritten site */
        push    %rcx                            /* F_RET */
        lea     8(%r11), %rcx
        push    %rcx                            /* F_RSP: as after the return */
        pushq   $0                              /* F_OLDSP (unused) */
        pushq   (%r11)                          /* F_FLAGS: the program's, from the slot */
        push    %rax                            /* F_RAX */
        PUSH_FRAME_GPRS
        cld
        mov     %rsp, %rdi
        call    tl_dispatch_hooked
        test    %eax, %eax
        jnz     tl_slow_exit                    /* rt_sigreturn asked for by the hook */
        POP_FRAME_GPRS
        /* rsp -> flags, oldsp, rsp, ret, via. Flags without popfq (~6 ns): only the
         * arithmetic flags and DF can differ from the program's (cld above) */
        mov     16(%rsp), %r11
        mov     24(%rsp), %rcx
        mov     %rcx, -8(%r11)                  /* the slot holds the return address again */
        mov     (%rsp), %rcx
        bt      $10, %rcx
        jnc     1f
        std
1:      mov     %rax, 32(%rsp)                  /* the result, parked in F_VIA */
        mov     %ecx, %eax                      /* ah = SF ZF AF PF CF (sahf), OF via a signed overflow */
        rol     $8, %ax
        and     $8, %al
        add     $0x78, %al
        sahf
        mov     32(%rsp), %rax                  /* from here on: mov and lea only */
        mov     -8(%r11), %rcx                  /* rcx = address after the site, as the kernel sets it */
        lea     -8(%r11), %rsp
        ret

.Lfast_to_slow:
        popfq                           /* program flags; rsp = the program's rsp */
        jmp     tl_slow_via1
        .size tl_fast_entry, .-tl_fast_entry

/* ---------------------------------------------------------------- landing stubs
 * One per sled group, reached from the group's landing slot: notes the group (which 11
 * bytes of page 0 the call entered) and goes to the fast path. Only a call or jump into
 * page 0 from code we did not rewrite reads it (tl_raise_null_call). TL_LAND_STUB bytes
 * each. */
        .p2align 5
        .globl tl_land_stubs
        .hidden tl_land_stubs
tl_land_stubs:
        .set grp, 0
        .rept SLED_GROUPS
        movl    $grp, %gs:T_LANDING
        jmp     tl_fast_entry
        .org    tl_land_stubs + TL_LAND_STUB * (grp + 1), 0xcc
        .set grp, grp + 1
        .endr

/* ---------------------------------------------------------------- slow path
 * In: rax = nr, rcx = resume address, rsp = program rsp to resume with, flags and all
 * other registers the program's. r11 is free. */
.macro SLOW via
        /* park nr, resume address and flags in a shadow slot, claimed before it is written
         * (see .Lmiss): flag-free instructions until lahf has read the flags */
        movzbl  %gs:T_DEPTH, %r11d
        lea     16(%r11), %r11d
        mov     %r11b, %gs:T_DEPTH
        mov     %rax, %gs:T_SHADOW-32(,%r11,2)
        mov     %rcx, %gs:T_SHADOW-24(,%r11,2)
        lahf
        seto    %al
        mov     %ax, %gs:T_SHADOW-16(,%r11,2)
        /* our stack. Already on it (a signal handler running on it interrupted our code,
         * or the hook path): below the current rsp. Otherwise what is in use is derived
         * from the stack pointer, never from a count that only a return gives back: a
         * reservation (made by the handler wrapper for a handler running on an alternate
         * stack while our code it interrupted is live) holds while rsp is on that
         * alternate stack below the handler's signal frame; one that does not hold is
         * gone (the handler returned or left by siglongjmp). None left: the top. */
        mov     %rsp, %rcx
        sub     %gs:T_STK_LO, %rcx
        cmp     $TL_STACK_SIZE, %rcx
        jb      1f
        mov     %gs:T_STK_HI, %rcx
3:      mov     %gs:T_RES_N, %eax
        test    %eax, %eax
        jz      2f
        lea     (%rax,%rax,2), %eax             /* 3n: the top entry is at T_RES + 8 * (3n - 3) */
        cmp     %gs:T_RES-24(,%rax,8), %rsp     /* below its signal frame (h) */
        jae     4f
        cmp     %gs:T_RES-16(,%rax,8), %rsp     /* on its alternate stack (lo) */
        jb      4f
        mov     %gs:T_RES-8(,%rax,8), %rcx      /* below the interrupted frame (sp) */
        jmp     2f
4:      decl    %gs:T_RES_N                     /* a reservation that no longer holds */
        jmp     3b
1:      lea     -256(%rsp), %rcx
2:      and     $-16, %rcx
        mov     %rsp, %rax
        mov     %rcx, %rsp
        sub     $32, %rsp                       /* F_RCX, F_R11, F_CS: used by via 3 only */
        pushq   $\via                           /* F_VIA */
        pushq   %gs:T_SHADOW-24(,%r11,2)        /* F_RET */
        push    %rax                            /* F_RSP */
        pushq   $0                              /* F_OLDSP (unused) */
        pushfq                                  /* F_FLAGS (arithmetic bits patched below) */
        pushq   %gs:T_SHADOW-32(,%r11,2)        /* F_RAX */
        PUSH_FRAME_GPRS
        /* flags = (pushed & ~0x8d5) | SF ZF AF PF CF from ah | OF from al */
        movzwl  %gs:T_SHADOW-16(,%r11,2), %eax
        sub     $16, %r11d
        mov     %r11b, %gs:T_DEPTH              /* give the shadow slot back */
        movzbl  %ah, %ecx
        and     $0xd5, %ecx
        movzbl  %al, %eax
        shl     $11, %eax
        or      %eax, %ecx
        mov     F_FLAGS(%rsp), %rax
        and     $~0x8d5, %rax
        or      %rcx, %rax
        mov     %rax, F_FLAGS(%rsp)
        cld
        mov     %rsp, %rdi
        call    tl_dispatch
        jmp     tl_slow_exit
.endm

        .globl tl_sud_entry
        .hidden tl_sud_entry
        .type tl_sud_entry, @function
        .p2align 4
tl_sud_entry:
        SLOW TL_VIA_TRAP
        .size tl_sud_entry, .-tl_sud_entry

        .globl tl_fix_entry
        .hidden tl_fix_entry
        .p2align 4
tl_fix_entry:
tl_slow_via1:
        SLOW TL_VIA_FAST

        .p2align 4
tl_slow_via2:
        SLOW TL_VIA_NULLCALL


/* rax from tl_dispatch: 0 = resume the program, 1 = perform rt_sigreturn on its stack.
 * (A via-3 frame, int $0x80, leaves through sud/entry_i386.S instead.) */
        .globl tl_slow_exit
        .hidden tl_slow_exit
        .p2align 4
tl_slow_exit:
        cmp     $1, %eax
        je      .Lsigreturn
        POP_FRAME_GPRS
        /* rsp -> flags, oldsp, rsp, ret, via */
        mov     16(%rsp), %r11
        mov     24(%rsp), %rcx
        popfq
        mov     %r11, %rsp
        jmp     *%rcx

.Lsigreturn:
        POP_FRAME_GPRS
        mov     16(%rsp), %r11
        popfq
        mov     %r11, %rsp
        mov     $15, %eax
        syscall
        ud2

/* noreturn void tl_resume_frame(struct tl_frame *f): resume the program from a frame */
        .globl tl_resume_frame
        .hidden tl_resume_frame
        .p2align 4
tl_resume_frame:
        mov     %rdi, %rsp
        xor     %eax, %eax
        jmp     tl_slow_exit

/* ---------------------------------------------------------------- helpers */

/* noreturn void tl_sigsys_resume(const uint64_t *gregs): leave the SIGSYS handler without
 * rt_sigreturn (a seccomp filter denies it). gregs is the ucontext's register array
 * (REG_R8 = 0 ... REG_RIP = 16, REG_EFL = 17) with rcx = the call's resume address and
 * rip = tl_sud_entry (or, for int $0x80, rsp = its frame and rip = tl_i386_entry). The delivery changed neither the signal mask (SA_NODEFER, empty
 * sa_mask) nor, for us, anything else rt_sigreturn would restore; the vector state has
 * been restored by the caller. */
        .globl tl_sigsys_resume
        .hidden tl_sigsys_resume
        .p2align 4
tl_sigsys_resume:
        mov     %rdi, %r11
        mov     0*8(%r11), %r8
        mov     1*8(%r11), %r9
        mov     2*8(%r11), %r10
        mov     4*8(%r11), %r12
        mov     5*8(%r11), %r13
        mov     6*8(%r11), %r14
        mov     7*8(%r11), %r15
        mov     8*8(%r11), %rdi
        mov     9*8(%r11), %rsi
        mov     10*8(%r11), %rbp
        mov     11*8(%r11), %rbx
        mov     12*8(%r11), %rdx
        mov     13*8(%r11), %rax
        mov     14*8(%r11), %rcx
        pushq   17*8(%r11)
        popfq                           /* from here: no flag-changing instruction */
        mov     15*8(%r11), %rsp
        jmp     *16*8(%r11)             /* REG_RIP: tl_sud_entry, or tl_i386_entry for int $0x80 */

/* signal restorer for our own handlers: inside our text, so SUD lets it through */
        .globl tl_restorer
        .hidden tl_restorer
        .p2align 4
tl_restorer:
        mov     $15, %eax
        syscall
        /* rt_sigreturn failed: the program's seccomp filter denied it */
        mov     %rax, %rdi
        and     $-16, %rsp
        call    tl_sigreturn_denied
        ud2

/* long tl_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
        .globl tl_raw_syscall
        .hidden tl_raw_syscall
        .type tl_raw_syscall, @function
        .p2align 4
tl_raw_syscall:
        mov     %rdi, %rax
        mov     %rsi, %rdi
        mov     %rdx, %rsi
        mov     %rcx, %rdx
        mov     %r8, %r10
        mov     %r9, %r8
        mov     8(%rsp), %r9
        syscall
        ret
        .size tl_raw_syscall, .-tl_raw_syscall

        .section .note.GNU-stack,"",@progbits
