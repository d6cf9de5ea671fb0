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
#include <asm/unistd_64.h>
#include "core/tcb.h"
#include "core/sled.h"
#include "core/frame_asm.h"

#define NR_MAX TL_ASM_NR_MAX

        .text

/* ---------------------------------------------------------------- fast path
 * State lives in rax (nr), rcx (return address), r11 (scratch) and in the 8-byte slot
 * the program's `callq` wrote: the return address is popped into rcx and the program's
 * flags are pushed into that same slot. Nothing else below rsp is written, nothing is
 * shared with a nested signal handler's entry.
 * CFI: the program's rsp is rsp + 8 (past the slot) throughout; the return address is on
 * the stack at entry, then in rcx, then in the slot tagged with the number (CFI_RA_IN_SLOT),
 * then in the slot alone again for the `ret`. */
/* T_SPECIAL bit TL_SPECIAL_ARG(i) set for this number: the argument in `reg` must not
 * point into page 0, else the call goes to C (core/nullargs.c). Flags are free (saved in
 * the slot). */
.macro ARG_NOT_IN_PAGE0 i, reg
        testb   $TL_SPECIAL_ARG(\i), %gs:T_SPECIAL(%rax)
        jz      1f
        cmp     $TL_PAGE_SIZE, \reg
        jb      .Lfast_to_slow
1:
.endm

/* the flags in \src (a 32-bit register) back into rflags without popfq: ah = SF ZF AF PF
 * CF for sahf, OF from its byte (the flags' second) by a signed overflow. Clobbers eax. */
.macro FLAGS_FROM src
        mov     \src, %eax
        rol     $8, %ax                         /* ah = the low byte, al = the second */
        and     $TL_OF_IN_BYTE, %al
        add     $TL_OF_TO_OVERFLOW, %al         /* sets OF exactly when it was set */
        sahf
.endm

        .globl tl_fast_entry
        .hidden tl_fast_entry
        .type tl_fast_entry, @function
        .p2align 6
tl_fast_entry:
        .cfi_startproc                  /* a call: the return address at [rsp] */
        /* rcx and r11 are kept only to re-raise a NULL-call crash faithfully */
        mov     %rcx, %gs:T_SCR_RCX
        mov     %r11, %gs:T_SCR_R11
        pop     %rcx                    /* rcx = return address (site + 2) */
        CFI_RA_IN_RCX 0
        pushfq                          /* the slot now holds the program's flags */
        CFI_RA_IN_RCX 8
        /* only sites we rewrote may enter: look the return address up in the site table
         * (core/sites.c, TL_SITE_SLOT): the slot's address from rcx alone, with r11 */
        cmp     $TL_PAGE_SIZE, %rcx     /* no site returns below page 1; 0 and 1 mark empty */
        jb      .Lnot_site              /* and forgotten slots (a jump pops any data as "return address") */
        mov     %rcx, %r11
        and     $-TL_PAGE_SIZE, %r11
        shl     $17, %r11               /* the page number at the top */
        imul    $TL_SITE_MUL32, %r11, %r11
        shr     $(52 - TL_SITE_CHUNK_BITS), %r11
        add     %rcx, %r11
        and     $TL_SITE_OFF_MASK, %r11
        add     %gs:T_SITES, %r11
.Lprobe:
        cmp     %rcx, P_RET(%r11)
        jne     .Lprobe_next
        mov     P_HITS(%r11), %r11
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
        /* slot := return address | nr << TL_SLOT_NR_SHIFT (the number is needed again only
         * if the call fails); flags restored without popfq (FLAGS_FROM) */
        mov     (%rsp), %r11
        shl     $TL_SLOT_NR_SHIFT, %rax
        or      %rcx, %rax
        mov     %rax, (%rsp)
        CFI_RA_IN_SLOT
        shr     $TL_SLOT_NR_SHIFT, %rax
        mov     %rax, %rcx
        FLAGS_FROM %r11d
        mov     %rcx, %rax
        .globl tl_fast_syscall_insn
        .hidden tl_fast_syscall_insn
tl_fast_syscall_insn:
        syscall
        /* From here on nothing may change the flags (the kernel restored the program's):
         * only mov, lea, BMI2 shifts and jrcxz. An error result is -TL_MAX_ERRNO-1..-1,
         * i.e. (rax + TL_MAX_ERRNO + 1) >> TL_MAX_ERRNO_SHIFT == 0. */
        lea     (TL_MAX_ERRNO + 1)(%rax), %rcx
        mov     $TL_MAX_ERRNO_SHIFT, %r11d
        shrx    %r11, %rcx, %rcx
        jrcxz   .Lfast_error
.Lfast_done:
        mov     (%rsp), %rcx
        mov     $(64 - TL_SLOT_NR_SHIFT), %r11d
        shlx    %r11, %rcx, %rcx
        shrx    %r11, %rcx, %rcx        /* the return address (user addresses < 2^47) */
        mov     %rcx, (%rsp)            /* rcx = address after the site, as the kernel sets it */
        /* back by an indirect jump, not `ret`: the kernel refilled the return stack
         * buffer on the way back from the syscall (RSB filling), so a `ret` here would
         * mispredict (~5 ns); the jump is predicted from its own history. The slot
         * keeps the return address, as a `ret` leaves it. */
        lea     8(%rsp), %rsp
        CFI_RA_IN_RCX 0
        jmp     *%rcx
.Lfast_error:
        CFI_RA_IN_SLOT
        movzwl  TL_SLOT_NR_BYTE(%rsp), %r11d    /* nr */
        mov     %ax, TL_SLOT_NR_BYTE(%rsp)      /* park the result (-4096..-1: its low 16 bits suffice) */
        mov     %gs:T_COUNTS, %rcx
        mov     TB_ERRORS(%rcx,%r11,8), %rax
        lea     1(%rax), %rax
        mov     %rax, TB_ERRORS(%rcx,%r11,8)    /* this thread's errors[nr] += 1 */
        movswq  TL_SLOT_NR_BYTE(%rsp), %rax
        jmp     .Lfast_done

.Lnr_more:                              /* another number (0..511): set its bit once */
        CFI_RA_IN_RCX 8
        cmpw    $TL_NR_NONE, TL_HITS_NR_FIRST(%r11)
        jne     1f
        mov     %ax, TL_HITS_NR_FIRST(%r11)     /* a planned site's first call: the hint */
1:      bt      %rax, TL_HITS_NRS(%r11)
        jc      .Lnr_known
        lock bts %rax, TL_HITS_NRS(%r11)
        jmp     .Lnr_known

.Lprobe_next:                           /* another site's slot, or an empty one: not a site */
        CFI_RA_IN_RCX 8
        cmpq    $0, P_RET(%r11)
        je      .Lnot_site
        sub     %gs:T_SITES, %r11       /* the next slot to probe, wrapping around the table */
        add     $(TL_SITE_STEP << TL_PAIR_SHIFT), %r11
        and     $TL_SITE_OFF_MASK, %r11
        add     %gs:T_SITES, %r11
        jmp     .Lprobe
.Lnot_site:
        /* Not a site we rewrote: a call through a small function pointer. Restore the
         * program's state exactly (rsp pointing at the pushed return address, as a real
         * faulting call leaves it) and let C re-raise SIGSEGV at address rax. */
        popfq
        CFI_RA_IN_RCX 0
        push    %rcx
        CFI_CALLED
        mov     %rax, %rcx              /* the frame's "ret" field carries the called address */
        jmp     tl_slow_via2

.Lfast_special:
        /* T_SPECIAL bit TL_SPECIAL_C: the call goes to C. Bits TL_SPECIAL_ARG(0..5) (only
         * with --allow-null-reads, page 0 readable): arguments 1..6 that must not point into
         * page 0; C makes such a call fault as natively (core/nullargs.c). Flags are safe
         * in the slot. */
        CFI_RA_IN_RCX 8
        testb   $TL_SPECIAL_C, %gs:T_SPECIAL(%rax)
        jz      1f
        /* to C only because a policy rule selects the number (T_POLONLY), and none can
         * apply to this site (its record says so, core/policy.c): the fast path keeps it */
        testb   $1, %gs:T_POLONLY(%rax)
        jz      .Lfast_to_slow
        testb   $1, TL_HITS_POLICY(%r11)
        jz      .Lfast_to_slow
1:      testb   $TL_SPECIAL_ARGS, %gs:T_SPECIAL(%rax)   /* none to check: one test */
        jz      2f
        ARG_NOT_IN_PAGE0 0, %rdi
        ARG_NOT_IN_PAGE0 1, %rsi
        ARG_NOT_IN_PAGE0 2, %rdx
        ARG_NOT_IN_PAGE0 3, %r10
        ARG_NOT_IN_PAGE0 4, %r8
        ARG_NOT_IN_PAGE0 5, %r9
2:      testb   $TL_SPECIAL_HOOK, %gs:T_SPECIAL(%rax)
        jz      .Lfast_checked
        /* fall through */
        .cfi_endproc

/* A call from a rewritten site while a user hook is loaded, of a number the dispatch
 * does not handle itself (those have TL_SPECIAL_C and take the slow path): the frame is
 * the slow path's (struct tl_frame), built without its shadow-ring bookkeeping, since the
 * flags are already safe in the slot; tl_dispatch_hooked runs the hook. The way out writes
 * the return address back into the slot and returns with `jmp *%rcx`, as the fast path
 * does (after the syscall a `ret` would mispredict: the kernel's RSB filling).
 * In: rax = nr (< 512), rcx = return address, [rsp] = the program's flags (the slot),
 * r11 free. CFI: the program's rsp is in r11 once we are on our stack (a signal frame:
 * the CFA is on another stack than the hook's frames). */
.Lfast_hooked:
        .cfi_startproc
        .cfi_signal_frame
        CFI_RA_IN_RCX 8
        /* counted as the fast path counts (the site's numbers, this thread's block):
         * r11 = the site's hit counter, already incremented */
        cmp     %ax, TL_HITS_NR_FIRST(%r11)
        je      4f
        cmpw    $TL_NR_NONE, TL_HITS_NR_FIRST(%r11)
        jne     3f
        mov     %ax, TL_HITS_NR_FIRST(%r11)
3:      bt      %rax, TL_HITS_NRS(%r11)
        jc      4f
        lock bts %rax, TL_HITS_NRS(%r11)
4:      mov     %gs:T_COUNTS, %r11
        incq    (%r11,%rax,8)
        /* our stack: below the current rsp if we are already on it (a signal handler
         * interrupted our code), else the top, as SLOW chooses; while a reservation may
         * hold (a handler on an alternate stack interrupted our code), SLOW decides */
        mov     %rsp, %r11
        sub     %gs:T_STK_LO, %r11
        cmp     $TL_STACK_SIZE, %r11
        jb      1f
        cmpl    $0, %gs:T_RES_N
        jne     .Lhooked_to_slow
        mov     %gs:T_STK_HI, %r11
        jmp     2f
1:      lea     -TL_STACK_SKIP(%rsp), %r11
2:      and     $-TL_STACK_ALIGN, %r11
        xchg    %r11, %rsp                      /* r11 = the slot's address */
        .cfi_def_cfa %r11, 8
        sub     $(F_SIZE - F_RCX), %rsp         /* F_RCX, F_R11, F_CS: used by via 3 only */
        pushq   $TL_VIA_FAST                    /* F_VIA: a rewritten site */
        push    %rcx                            /* F_RET */
        lea     8(%r11), %r11                   /* the program's rsp, as after the return */
        .cfi_def_cfa %r11, 0
        push    %r11                            /* F_RSP */
        pushq   $0                              /* F_OLDSP (unused) */
        pushq   -8(%r11)                        /* F_FLAGS: the program's, from the slot */
        push    %rax                            /* F_RAX */
        PUSH_FRAME_GPRS
        CFI_FRAME_REGS 0
        cld
        mov     %rsp, %rdi
        call    tl_dispatch_hooked
        test    %eax, %eax
        jnz     tl_slow_exit                    /* rt_sigreturn asked for by the hook */
        POP_FRAME_GPRS 2
        /* rsp -> flags, oldsp, rsp, ret, via. Flags without popfq (~6 ns): only the
         * arithmetic flags and DF can differ from the program's (cld above) */
        mov     (F_RSP - F_FLAGS)(%rsp), %r11
        .cfi_def_cfa %r11, 0
        mov     (F_RET - F_FLAGS)(%rsp), %rcx
        mov     %rcx, -8(%r11)                  /* the slot holds the return address again */
        .cfi_offset %rip, -8
        mov     (%rsp), %rcx
        bt      $X86_EFLAGS_DF_BIT, %rcx
        jnc     1f
        std
1:      mov     %rax, (F_VIA - F_FLAGS)(%rsp)   /* the result, parked in F_VIA */
        FLAGS_FROM %ecx
        mov     (F_VIA - F_FLAGS)(%rsp), %rax   /* from here on: mov and lea only */
        mov     -8(%r11), %rcx                  /* rcx = address after the site, as the kernel sets it */
        mov     %r11, %rsp                      /* and back by a jump, as the fast path */
        CFI_RA_IN_RCX 0
        jmp     *%rcx
        .cfi_endproc

.Lhooked_to_slow:                       /* the slow path counts the call itself */
        .cfi_startproc
        CFI_RA_IN_RCX 8
        mov     %gs:T_COUNTS, %r11
        decq    (%r11,%rax,8)
        jmp     .Lfast_to_slow
        .cfi_endproc

.Lfast_to_slow:
        .cfi_startproc
        CFI_RA_IN_RCX 8
        popfq                           /* program flags; rsp = the program's rsp */
        CFI_RA_IN_RCX 0
        jmp     tl_slow_via1
        .cfi_endproc
        .size tl_fast_entry, .-tl_fast_entry

/* The return of the C functions that return across a system call (core/hooks.c,
 * RETURNS_ACROSS_SYSCALL, reached by `jmp` with the return address at [rsp]): an indirect
 * jump instead of `ret`, which after the kernel's RSB filling would mispredict. rcx is
 * free at a return (caller-saved, no return value). */
        .globl __x86_return_thunk
        .hidden __x86_return_thunk
        .type __x86_return_thunk, @function
        .p2align 4
__x86_return_thunk:
        .cfi_startproc
        pop     %rcx
        .cfi_adjust_cfa_offset -8
        .cfi_register %rip, %rcx
        jmp     *%rcx
        .cfi_endproc
        .size __x86_return_thunk, .-__x86_return_thunk

/* ---------------------------------------------------------------- landing stubs
 * One per sled group, reached from the group's landing slot: notes the group (which 11
 * bytes of page 0 the call entered) and goes to the fast path. Only a call or jump into
 * page 0 from code we did not rewrite reads it (tl_raise_null_call). TL_LAND_STUB bytes
 * each. Entered by a call (through page 0): the return address at [rsp]. */
        .balign TL_LAND_STUB
        .globl tl_land_stubs
        .hidden tl_land_stubs
tl_land_stubs:
        .cfi_startproc
        .set grp, 0
        .rept SLED_GROUPS
        movl    $grp, %gs:T_LANDING
        jmp     tl_fast_entry
        .org    tl_land_stubs + TL_LAND_STUB * (grp + 1), 0xcc
        .set grp, grp + 1
        .endr
        .cfi_endproc

/* ---------------------------------------------------------------- slow path
 * In: rax = nr, rcx = resume address, rsp = program rsp to resume with, flags and all
 * other registers the program's. r11 is free. The frame and the steps: core/tcb.h.
 * CFI (a signal frame: the program was interrupted at its call, and the frame moves to
 * our stack): the program's rsp is rsp, then rax, then the frame's F_RSP; its resume
 * address is in rcx, then at the frame's F_RET. */
.macro SLOW via
        .cfi_startproc
        .cfi_signal_frame
        CFI_RA_IN_RCX 0
        /* park nr and flags in a shadow slot, claimed before it is written (core/tcb.h):
         * flag-free instructions until lahf has read the flags */
        movzbl  %gs:T_DEPTH, %r11d
        lea     TL_DEPTH_STEP(%r11), %r11d
        mov     %r11b, %gs:T_DEPTH
        mov     %rax, %gs:SHADOW_TOP(S_NR)(,%r11,TL_DEPTH_SCALE)
        lahf
        seto    %al
        mov     %ax, %gs:SHADOW_TOP(S_FLAGS)(,%r11,TL_DEPTH_SCALE)
        /* our stack (its top into rax; r11 keeps our slot). Already on it (a signal
         * handler running on it interrupted our code, or the hook path): below the current
         * rsp. Otherwise what is in use is derived from the stack pointer, never from a
         * count that only a return gives back: a reservation (made by the handler wrapper
         * for a handler running on an alternate stack while our code it interrupted is
         * live) holds while rsp is on that alternate stack below the handler's signal
         * frame; one that does not hold is gone (the handler returned or left by
         * siglongjmp). None left: the top. */
        mov     %rsp, %rax
        sub     %gs:T_STK_LO, %rax
        cmp     $TL_STACK_SIZE, %rax
        jb      1f
3:      mov     %gs:T_RES_N, %eax
        test    %eax, %eax
        jz      5f
        lea     (%rax,%rax,2), %eax             /* 3n: the top entry is RES_TOP(field)(,3n,8) */
        cmp     %gs:RES_TOP(R_H)(,%rax,8), %rsp         /* below its signal frame (h) */
        jae     4f
        cmp     %gs:RES_TOP(R_LO)(,%rax,8), %rsp        /* on its alternate stack (lo) */
        jb      4f
        mov     %gs:RES_TOP(R_SP)(,%rax,8), %rax        /* below the interrupted frame (sp) */
        jmp     2f
4:      decl    %gs:T_RES_N                     /* a reservation that no longer holds */
        jmp     3b
5:      mov     %gs:T_STK_HI, %rax
        jmp     2f
1:      lea     -TL_STACK_SKIP(%rsp), %rax
2:      and     $-TL_STACK_ALIGN, %rax
        xchg    %rax, %rsp                      /* rax = the program's rsp */
        .cfi_def_cfa %rax, 0
        sub     $(F_SIZE - F_RCX), %rsp         /* F_RCX, F_R11, F_CS: used by via 3 only */
        pushq   $\via                           /* F_VIA */
        push    %rcx                            /* F_RET */
        push    %rax                            /* F_RSP */
        pushq   $0                              /* F_OLDSP (unused) */
        pushfq                                  /* F_FLAGS (arithmetic bits patched below) */
        pushq   %gs:SHADOW_TOP(S_NR)(,%r11,TL_DEPTH_SCALE)      /* F_RAX */
        PUSH_FRAME_GPRS
        CFI_FRAME_REGS 0
        /* flags = (pushed & ~TL_EFLAGS_ARITH) | SF ZF AF PF CF from ah | OF from al */
        movzwl  %gs:SHADOW_TOP(S_FLAGS)(,%r11,TL_DEPTH_SCALE), %eax
        sub     $TL_DEPTH_STEP, %r11d
        mov     %r11b, %gs:T_DEPTH              /* give the shadow slot back */
        movzbl  %ah, %ecx
        and     $TL_EFLAGS_AH, %ecx
        movzbl  %al, %eax
        shl     $X86_EFLAGS_OF_BIT, %eax
        or      %eax, %ecx
        mov     F_FLAGS(%rsp), %rax
        and     $~TL_EFLAGS_ARITH, %rax
        or      %rcx, %rax
        mov     %rax, F_FLAGS(%rsp)
        cld
        mov     %rsp, %rdi
        call    tl_dispatch
        jmp     tl_slow_exit
        .cfi_endproc
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
        .type tl_fix_entry, @function
        .p2align 4
tl_fix_entry:
tl_slow_via1:
        SLOW TL_VIA_FAST
        .size tl_fix_entry, .-tl_fix_entry

        .type tl_slow_via2, @function
        .p2align 4
tl_slow_via2:
        SLOW TL_VIA_NULLCALL
        .size tl_slow_via2, .-tl_slow_via2


/* rax from tl_dispatch: TL_ACT_RESUME = resume the program, TL_ACT_SIGRETURN = perform
 * rt_sigreturn on its stack. (A via-3 frame, int $0x80, leaves through
 * sud/entry_i386.S instead.) In: rsp = the frame. */
        .globl tl_slow_exit
        .hidden tl_slow_exit
        .type tl_slow_exit, @function
        .p2align 4
tl_slow_exit:
        .cfi_startproc
        .cfi_signal_frame
        CFI_FRAME_REGS 0
        cmp     $TL_ACT_SIGRETURN, %eax
        je      .Lsigreturn
        POP_FRAME_GPRS 2
        /* rsp -> flags, oldsp, rsp, ret, via */
        mov     (F_RSP - F_FLAGS)(%rsp), %r11
        .cfi_def_cfa %r11, 0
        mov     (F_RET - F_FLAGS)(%rsp), %rcx
        .cfi_register %rip, %rcx
        popfq
        mov     %r11, %rsp
        .cfi_def_cfa %rsp, 0
        jmp     *%rcx

.Lsigreturn:
        CFI_FRAME_REGS 0
        POP_FRAME_GPRS 2
        mov     (F_RSP - F_FLAGS)(%rsp), %r11
        .cfi_def_cfa %r11, 0
        .cfi_undefined %rip                     /* rt_sigreturn: the kernel decides */
        popfq
        mov     %r11, %rsp
        .cfi_def_cfa %rsp, 0
        mov     $__NR_rt_sigreturn, %eax
        syscall
        ud2
        .cfi_endproc
        .size tl_slow_exit, .-tl_slow_exit

/* noreturn void tl_resume_frame(struct tl_frame *f): resume the program from a frame */
        .globl tl_resume_frame
        .hidden tl_resume_frame
        .type tl_resume_frame, @function
        .p2align 4
tl_resume_frame:
        .cfi_startproc
        mov     %rdi, %rsp
        CFI_FRAME_REGS 0
        xor     %eax, %eax                      /* TL_ACT_RESUME */
        jmp     tl_slow_exit
        .cfi_endproc
        .size tl_resume_frame, .-tl_resume_frame

/* ---------------------------------------------------------------- helpers */

/* noreturn void tl_sigsys_resume(const uint64_t *gregs): leave the SIGSYS handler without
 * rt_sigreturn (a seccomp filter denies it). gregs is the ucontext's register array
 * (indexed by TL_GREG_*, kabi.h) with rcx = the call's resume address and rip =
 * tl_sud_entry (or, for int $0x80, rsp = its frame and rip = tl_i386_entry). The delivery
 * changed neither the signal mask (SA_NODEFER, empty sa_mask) nor, for us, anything else
 * rt_sigreturn would restore; the vector state has been restored by the caller. */
#define G(r) (TL_GREG_##r * 8)(%r11)
        .globl tl_sigsys_resume
        .hidden tl_sigsys_resume
        .type tl_sigsys_resume, @function
        .p2align 4
tl_sigsys_resume:
        .cfi_startproc
        mov     %rdi, %r11
        mov     G(R8), %r8
        mov     G(R9), %r9
        mov     G(R10), %r10
        mov     G(R12), %r12
        mov     G(R13), %r13
        mov     G(R14), %r14
        mov     G(R15), %r15
        mov     G(RDI), %rdi
        mov     G(RSI), %rsi
        mov     G(RBP), %rbp
        mov     G(RBX), %rbx
        mov     G(RDX), %rdx
        mov     G(RAX), %rax
        mov     G(RCX), %rcx
        pushq   G(EFL)
        .cfi_adjust_cfa_offset 8
        popfq                           /* from here: no flag-changing instruction */
        .cfi_adjust_cfa_offset -8
        mov     G(RSP), %rsp
        .cfi_undefined %rip             /* the program's state: tl_sud_entry's CFI takes over */
        jmp     *G(RIP)                 /* tl_sud_entry, or tl_i386_entry for int $0x80 */
        .cfi_endproc
        .size tl_sigsys_resume, .-tl_sigsys_resume
#undef G

/* Signal restorer for our own handlers: inside our text, so SUD lets it through. Its CFI
 * describes the signal frame (rsp = the ucontext: the interrupted registers are in its
 * gregs) so that a debugger unwinds from a handler into the interrupted code, as for
 * libc's __restore_rt; and its bytes are those debuggers recognise as a restorer
 * (mov $15, %rax; syscall). The FDE starts one byte early (the nop): an unwinder looks up
 * a return address minus one. */
#define UC(r) SLEB2(TL_UC_GREGS + 8 * TL_GREG_##r)
#define CFI_UC(dw, r) .cfi_escape DW_CFA_expression, dw, 3, DW_OP_breg(TL_DW_RSP), UC(r)
        .p2align 4
        .cfi_startproc
        .cfi_signal_frame
        .cfi_escape DW_CFA_def_cfa_expression, 4, DW_OP_breg(TL_DW_RSP), UC(RSP), DW_OP_deref
        CFI_UC(TL_DW_R8, R8)
        CFI_UC(TL_DW_R9, R9)
        CFI_UC(TL_DW_R10, R10)
        CFI_UC(TL_DW_R11, R11)
        CFI_UC(TL_DW_R12, R12)
        CFI_UC(TL_DW_R13, R13)
        CFI_UC(TL_DW_R14, R14)
        CFI_UC(TL_DW_R15, R15)
        CFI_UC(TL_DW_RDI, RDI)
        CFI_UC(TL_DW_RSI, RSI)
        CFI_UC(TL_DW_RBP, RBP)
        CFI_UC(TL_DW_RBX, RBX)
        CFI_UC(TL_DW_RDX, RDX)
        CFI_UC(TL_DW_RAX, RAX)
        CFI_UC(TL_DW_RCX, RCX)
        CFI_UC(TL_DW_RIP, RIP)
        nop
        .globl tl_restorer
        .hidden tl_restorer
        .type tl_restorer, @function
tl_restorer:
        mov     $__NR_rt_sigreturn, %rax
        syscall
        /* rt_sigreturn failed: the program's seccomp filter denied it */
        mov     %rax, %rdi
        and     $-TL_STACK_ALIGN, %rsp
        call    tl_sigreturn_denied
        ud2
        .cfi_endproc
        .size tl_restorer, .-tl_restorer
#undef CFI_UC
#undef UC

/* long tl_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
        .globl tl_raw_syscall
        .hidden tl_raw_syscall
        .type tl_raw_syscall, @function
        .p2align 4
tl_raw_syscall:
        .cfi_startproc
        mov     %rdi, %rax
        mov     %rsi, %rdi
        mov     %rdx, %rsi
        mov     %rcx, %rdx
        mov     %r8, %r10
        mov     %r9, %r8
        mov     8(%rsp), %r9
        syscall
        ret
        .cfi_endproc
        .size tl_raw_syscall, .-tl_raw_syscall

        .section .note.GNU-stack,"",@progbits
