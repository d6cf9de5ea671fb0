/* The i386 system call numbers of core/kabi.h (TL_NR32_*), checked against this machine's
 * <asm/unistd_32.h>: a file of its own, since the x86-64 table (<sys/syscall.h>, which
 * core/core.h includes) defines the same __NR_ names. No code. */
#include "core/kabi.h"
#include <asm/unistd_32.h>

#define SAME(ours, theirs) _Static_assert((ours) == (theirs), #ours " is " #theirs)

SAME(TL_NR32_EXIT, __NR_exit);
SAME(TL_NR32_FORK, __NR_fork);
SAME(TL_NR32_EXECVE, __NR_execve);
SAME(TL_NR32_GETPID, __NR_getpid);
SAME(TL_NR32_OLD_MMAP, __NR_mmap);
SAME(TL_NR32_MUNMAP, __NR_munmap);
SAME(TL_NR32_IPC, __NR_ipc);
SAME(TL_NR32_SIGRETURN, __NR_sigreturn);
SAME(TL_NR32_CLONE, __NR_clone);
SAME(TL_NR32_MPROTECT, __NR_mprotect);
SAME(TL_NR32_SIGPROCMASK, __NR_sigprocmask);
SAME(TL_NR32_MREMAP, __NR_mremap);
SAME(TL_NR32_PRCTL, __NR_prctl);
SAME(TL_NR32_RT_SIGRETURN, __NR_rt_sigreturn);
SAME(TL_NR32_RT_SIGPROCMASK, __NR_rt_sigprocmask);
SAME(TL_NR32_VFORK, __NR_vfork);
SAME(TL_NR32_MMAP2, __NR_mmap2);
SAME(TL_NR32_MADVISE, __NR_madvise);
SAME(TL_NR32_EXIT_GROUP, __NR_exit_group);
SAME(TL_NR32_REMAP_FILE_PAGES, __NR_remap_file_pages);
SAME(TL_NR32_EXECVEAT, __NR_execveat);
SAME(TL_NR32_PKEY_MPROTECT, __NR_pkey_mprotect);
SAME(TL_NR32_SHMAT, __NR_shmat);
SAME(TL_NR32_SHMDT, __NR_shmdt);
SAME(TL_NR32_CLONE3, __NR_clone3);
