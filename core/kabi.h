/* Kernel ABI values trapline uses, named once (C and assembly): Syscall User Dispatch,
 * SIGSYS codes, audit architectures, and how a call reached the dispatch. */
#ifndef TRAPLINE_KABI_H
#define TRAPLINE_KABI_H

#define TL_PR_SET_SYSCALL_USER_DISPATCH 59
#define TL_PR_SYS_DISPATCH_OFF 0
#define TL_PR_SYS_DISPATCH_ON 1
#define TL_SUD_ALLOW 0                   /* SYSCALL_DISPATCH_FILTER_ALLOW */
#define TL_SUD_BLOCK 1                   /* SYSCALL_DISPATCH_FILTER_BLOCK */
#define TL_SI_SYS_USER_DISPATCH 2        /* SIGSYS si_code from SUD (SYS_USER_DISPATCH) */
#define TL_SI_SYS_SECCOMP 1              /* SIGSYS si_code from seccomp (SYS_SECCOMP) */
#define TL_AUDIT_ARCH_X86_64 0xc000003eu
#define TL_AUDIT_ARCH_I386 0x40000003u

/* How a call reached the dispatch (struct tl_frame's via; the first two are the public
 * TRAPLINE_VIA_TRAP / TRAPLINE_VIA_FAST of trapline.h) */
#define TL_VIA_TRAP 0                    /* SIGSYS: a site not rewritten */
#define TL_VIA_FAST 1                    /* a rewritten site (callq *%rax), handed to C */
#define TL_VIA_NULLCALL 2                /* a call or jump into page 0 from code we did not rewrite */
#define TL_VIA_I386 3                    /* int $0x80, redirected by the SIGSYS handler (sud/i386.c) */

#endif
