/* Machine probe for `trapline doctor` (linked into the N-API addon) — see probe.h.
 * SUD and address 0 are probed for real in short-lived forked children. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "core/kabi.h"
#include "probe.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/auxv.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* a raw call with five arguments; the sixth (r9: mmap's offset) is 0, never left over */
static long raw(long n, long a, long b, long c, long d, long e)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = 0;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return r;
}

static volatile char sel;
static void on_sys(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)uc;
    sel = 0; /* ALLOW from now on */
    raw(SYS_exit_group, si->si_code == TL_SI_SYS_USER_DISPATCH ? 42 : 43, 0, 0, 0, 0);
}

/* child: 0..255 exit code = result; 42 = SIGSYS seen; errno+100 if prctl failed */
static int child_sud(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    sel = 0;
    long r = raw(SYS_prctl, TL_PR_SET_SYSCALL_USER_DISPATCH, TL_PR_SYS_DISPATCH_ON, 0, 0, (long)&sel);
    if (r) raw(SYS_exit_group, 100 + (int)-r, 0, 0, 0, 0);
    sel = 1; /* BLOCK: the next call must trap */
    raw(SYS_getppid, 0, 0, 0, 0, 0);
    sel = 0;
    raw(SYS_exit_group, 44, 0, 0, 0, 0);
    return 0;
}

static int child_zero(void)
{
    long r = raw(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1);
    raw(SYS_exit_group, r == 0 ? 0 : (r < 0 && r > -4096 ? (int)-r : 99), 0, 0, 0, 0);
    return 0;
}

static int run_child(int (*fn)(void))
{
    pid_t p = fork();
    if (p == 0) {
        fn();
        _exit(98);
    }
    if (p < 0) return -1;
    int st;
    while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int tl_probe_machine(struct tl_probe *p)
{
    memset(p, 0, sizeof *p);
    struct utsname u;
    if (uname(&u) == 0) snprintf(p->kernel, sizeof p->kernel, "%s", u.release);

    int s = run_child(child_sud);
    p->sud = s == 42;
    p->sud_errno = s >= 100 && s < 200 ? s - 100 : (p->sud ? 0 : (s == 44 ? ENOSYS : EINVAL));

    p->mmap_min_addr = -1;
    FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
    if (f) {
        if (fscanf(f, "%ld", &p->mmap_min_addr) != 1) p->mmap_min_addr = -1;
        fclose(f);
    }
    int z = run_child(child_zero);
    p->zero_mappable = z == 0;
    p->zero_errno = z == 0 ? 0 : (z < 98 ? z : EPERM);

    long k = raw(SYS_pkey_alloc, 0, 0, 0, 0, 0);
    if (k >= 0) {
        p->pkeys = 1;
        raw(SYS_pkey_free, k, 0, 0, 0, 0);
    } else
        p->pkeys_errno = (int)-k;

    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (c & (1u << 27)) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        p->xcr0 = ((uint64_t)hi << 32) | lo;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
        p->xsave_size = b;
    }
    p->fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0;
    long m = raw(SYS_membarrier, 0 /* QUERY */, 0, 0, 0, 0);
    p->membarrier_sync_core = m > 0 && (m & 32);
    return 0;
}
