/* Machine capability probe, shared by the interposer and the N-API addon (doctor). */
#ifndef TRAPLINE_PROBE_H
#define TRAPLINE_PROBE_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

struct tl_probe {
    int sud; /* 1: SUD enabled in a forked child and a blocked syscall raised SIGSYS */
    int sud_errno; /* errno of prctl(PR_SET_SYSCALL_USER_DISPATCH) when sud == 0 */
    long mmap_min_addr; /* /proc/sys/vm/mmap_min_addr, -1 if unreadable */
    int zero_mappable; /* 1: mmap(0, MAP_FIXED_NOREPLACE) succeeded in a child */
    int zero_errno; /* errno of that mmap when zero_mappable == 0 */
    int pkeys; /* 1: pkey_alloc works (execute-only trampoline possible) */
    int pkeys_errno;
    uint64_t xcr0; /* XSAVE feature mask enabled by the OS (0 if no xsave) */
    uint32_t xsave_size; /* bytes of the xsave area for xcr0 (cpuid 0xD.0 ebx) */
    int fsgsbase; /* CPU + kernel allow rdgsbase/wrgsbase (AT_HWCAP2 bit 1) */
    int membarrier_sync_core; /* MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE supported */
    char kernel[128]; /* uname release */
};

/* Fills *p. Forks short-lived children for the SUD and address-0 probes; safe to call
 * from a multi-threaded process (the children only make raw syscalls and _exit). */
int tl_probe_machine(struct tl_probe *p);

#ifdef __cplusplus
}
#endif
#endif
