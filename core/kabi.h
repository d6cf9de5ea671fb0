/* Kernel and CPU ABI values trapline uses, named once (C and assembly): Syscall User
 * Dispatch, SIGSYS and SIGSEGV codes, audit architectures, prctl/arch_prctl options, the
 * flags register, the signal frame, and how a call reached the dispatch. Values that a
 * system header also defines are checked against it where C includes that header
 * (core/kabi_check.c), so the two can never differ. */
#ifndef TRAPLINE_KABI_H
#define TRAPLINE_KABI_H
#include <asm/processor-flags.h> /* X86_EFLAGS_* (usable in assembly) */

#define TL_PAGE_SIZE 4096
/* the kernel's TASK_SIZE_MAX (4-level paging): the highest address access_ok() accepts */
#define TL_TASK_SIZE_MAX 0x7ffffffff000ull
/* a system call's error results are -TL_MAX_ERRNO..-1; the fast path tests a result with
 * (rax + TL_MAX_ERRNO + 1) >> TL_MAX_ERRNO_SHIFT == 0 */
#define TL_MAX_ERRNO 4095
#define TL_MAX_ERRNO_SHIFT 12

/* ---- Syscall User Dispatch (prctl) */
#define TL_PR_SET_SYSCALL_USER_DISPATCH 59
#define TL_PR_SYS_DISPATCH_OFF 0
#define TL_PR_SYS_DISPATCH_ON 1 /* = PR_SYS_DISPATCH_EXCLUSIVE_ON */
#define TL_PR_SYS_DISPATCH_INCLUSIVE_ON 2 /* Linux 6.16: the range is the one dispatched */
#define TL_SUD_ALLOW 0 /* SYSCALL_DISPATCH_FILTER_ALLOW */
#define TL_SUD_BLOCK 1 /* SYSCALL_DISPATCH_FILTER_BLOCK */
#define TL_PTRACE_GET_SUD_CONFIG 0x4211 /* PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG */

/* ---- signal codes */
#define TL_SI_SYS_USER_DISPATCH 2 /* SIGSYS si_code from SUD (SYS_USER_DISPATCH) */
#define TL_SI_SYS_SECCOMP 1 /* SIGSYS si_code from seccomp (SYS_SECCOMP) */
#define TL_SEGV_MAPERR 1 /* SIGSEGV si_code: address not mapped */
#define TL_PF_PROT 0x1 /* page-fault error code (REG_ERR): a protection fault */
#define TL_PF_PK 0x20 /* ... caused by a protection key */
#define TL_AUDIT_ARCH_X86_64 0xc000003eu
#define TL_AUDIT_ARCH_I386 0x40000003u
#define TL_SA_EXPOSE_TAGBITS 0x800 /* sigaction flag (Linux 5.11) */

/* ---- prctl / arch_prctl options and flags not every libc names */
#define TL_PR_SET_SECCOMP 22
#define TL_ARCH_SHSTK_ENABLE 0x5001 /* arch_prctl: enable user shadow stack features */
#define TL_ARCH_SHSTK_STATUS 0x5005 /* arch_prctl: user shadow stack features enabled */
#define TL_ARCH_SHSTK_SHSTK 1 /* ... bit: the shadow stack */
#define TL_ARCH_MAP_VDSO_X32 0x2001 /* arch_prctl: map a new vDSO (x32, 32, 64) */
#define TL_ARCH_MAP_VDSO_64 0x2003
#define TL_CLONE_VFORK 0x4000
#define TL_MAP_SHARED_VALIDATE 3
#define TL_MAP_FIXED_NOREPLACE 0x100000
#define TL_MREMAP_FIXED 2
#define TL_MREMAP_DONTUNMAP 4
#define TL_NR_MSEAL 462 /* SYS_mseal, for older headers */

/* ---- seccomp */
#define TL_SECCOMP_MODE_DISABLED 0 /* prctl(PR_SET_SECCOMP, mode); tl_seccomp_mode */
#define TL_SECCOMP_MODE_STRICT 1
#define TL_SECCOMP_MODE_FILTER 2
#define TL_SECCOMP_SET_MODE_STRICT 0 /* seccomp(op, ...) */
#define TL_SECCOMP_SET_MODE_FILTER 1
#define TL_SECCOMP_RET_KILL_THREAD 0u
#define TL_SECCOMP_RET_ALLOW 0x7fff0000u
#define TL_SECCOMP_RET_LOG 0x7ffc0000u
#define TL_SECCOMP_RET_ACTION_FULL 0xffff0000u
#define TL_BPF_MAXINSNS 4096
#define TL_BPF_RET_K 0x06 /* BPF_RET | BPF_K: ret #k */

/* ---- membarrier */
#define TL_MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED 4
#define TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED 8
#define TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED 16
#define TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE 32
#define TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ 256
#define TL_MEMBARRIER_CMD_GET_REGISTRATIONS 512

/* ---- i386 system call numbers (int $0x80) that trapline treats itself (the x86-64 ones
 * come from <sys/syscall.h>; both tables cannot be included in one file) */
#define TL_NR32_EXIT 1
#define TL_NR32_FORK 2
#define TL_NR32_EXECVE 11
#define TL_NR32_GETPID 20
#define TL_NR32_OLD_MMAP 90 /* mmap(struct mmap_arg_struct *) */
#define TL_NR32_MUNMAP 91
#define TL_NR32_IPC 117
#define TL_NR32_SIGRETURN 119
#define TL_NR32_CLONE 120
#define TL_NR32_MPROTECT 125
#define TL_NR32_SIGPROCMASK 126
#define TL_NR32_MREMAP 163
#define TL_NR32_PRCTL 172
#define TL_NR32_RT_SIGRETURN 173
#define TL_NR32_RT_SIGPROCMASK 175
#define TL_NR32_VFORK 190
#define TL_NR32_MMAP2 192
#define TL_NR32_MADVISE 219
#define TL_NR32_EXIT_GROUP 252
#define TL_NR32_REMAP_FILE_PAGES 257
#define TL_NR32_EXECVEAT 358
#define TL_NR32_MEMBARRIER 375
#define TL_NR32_PKEY_MPROTECT 380
#define TL_NR32_SHMAT 397
#define TL_NR32_SHMDT 398
#define TL_NR32_CLONE3 435

/* ---- the flags register (lahf/sahf and the fast path's flag tricks) */
/* the arithmetic flags a call may see changed: CF PF AF ZF SF OF */
#define TL_EFLAGS_ARITH (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)
/* those lahf/sahf move through ah (all but OF) */
#define TL_EFLAGS_AH (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | X86_EFLAGS_SF)
/* OF alone in a byte (the flags' second byte), and what to add to that byte so that the
 * addition overflows, setting OF, exactly when OF's bit is set */
#define TL_OF_IN_BYTE (X86_EFLAGS_OF >> 8)
#define TL_OF_TO_OVERFLOW (0x80 - TL_OF_IN_BYTE)

/* ---- the signal frame (x86-64): where the kernel's ucontext keeps the registers */
#define TL_UC_GREGS 40 /* offsetof(ucontext_t, uc_mcontext.gregs) */
/* indices into gregs (REG_* of <sys/ucontext.h>, which assembly cannot include) */
#define TL_GREG_R8 0
#define TL_GREG_R9 1
#define TL_GREG_R10 2
#define TL_GREG_R11 3
#define TL_GREG_R12 4
#define TL_GREG_R13 5
#define TL_GREG_R14 6
#define TL_GREG_R15 7
#define TL_GREG_RDI 8
#define TL_GREG_RSI 9
#define TL_GREG_RBP 10
#define TL_GREG_RBX 11
#define TL_GREG_RDX 12
#define TL_GREG_RAX 13
#define TL_GREG_RCX 14
#define TL_GREG_RSP 15
#define TL_GREG_RIP 16
#define TL_GREG_EFL 17
/* the fpstate's software bytes (struct _fpx_sw_bytes, in sw_reserved): magic1 says an
 * xsave area follows, xfeatures which components it holds */
#define TL_FPX_SW_BYTES 464
#define TL_FP_XSTATE_MAGIC1 0x46505853u
#define TL_FPX_XFEATURES 8 /* offset of xfeatures in _fpx_sw_bytes */

/* How a call reached the dispatch (struct tl_frame's via; the first two are the public
 * TRAPLINE_VIA_TRAP / TRAPLINE_VIA_FAST of trapline.h) */
#define TL_VIA_TRAP 0 /* SIGSYS: a site not rewritten */
#define TL_VIA_FAST 1 /* a rewritten site (callq *%rax), handed to C */
#define TL_VIA_NULLCALL 2 /* a call or jump into page 0 from code we did not rewrite */
#define TL_VIA_I386 3 /* int $0x80, redirected by the SIGSYS handler (sud/i386.c) */

/* DWARF register numbers (x86-64 psABI), for the hand-written CFI of the entry code */
#define TL_DW_RAX 0
#define TL_DW_RDX 1
#define TL_DW_RCX 2
#define TL_DW_RBX 3
#define TL_DW_RSI 4
#define TL_DW_RDI 5
#define TL_DW_RBP 6
#define TL_DW_RSP 7
#define TL_DW_R8 8
#define TL_DW_R9 9
#define TL_DW_R10 10
#define TL_DW_R11 11
#define TL_DW_R12 12
#define TL_DW_R13 13
#define TL_DW_R14 14
#define TL_DW_R15 15
#define TL_DW_RIP 16

#endif
