/* The program's own SIGSYS handler and a seccomp filter with SECCOMP_RET_TRAP for getppid:
 * the SIGSYS must reach the program's handler with si_code SYS_SECCOMP and the right
 * number, its emulated result must come back, and sigaction(SIGSYS) must read back what
 * the program set. Prints a transcript compared with the uninterposed run. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ucontext.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static volatile long seen_nr, seen_code, count;

static void on_sys(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    seen_nr = si->si_syscall;
    seen_code = si->si_code;
    count++;
    uc->uc_mcontext.gregs[REG_RAX] = 777;
}

int main(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof f / sizeof f[0], f };
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    printf("filter: %d\n", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
    long a = getppid(), b = getppid(), c = getppid();
    printf("getppid -> %ld %ld %ld nr=%ld code=%ld count=%ld\n", a, b, c, seen_nr, seen_code, count);
    printf("getpid works: %d\n", getpid() > 0);
    sigaction(SIGSYS, 0, &old);
    printf("sigaction reads back the program's handler: %d\n", (void *)old.sa_sigaction == (void *)on_sys);
    return 0;
}
