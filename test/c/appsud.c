/* The program uses Syscall User Dispatch itself: its own selector, allowed range and
 * SIGSYS handler must behave as on a kernel without trapline, and turning SUD off must
 * work (and must not switch trapline off). Prints a transcript compared with the
 * uninterposed run. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ucontext.h>
#include <sys/prctl.h>

static volatile char sel;
static volatile long seen_nr, seen_code, call_ok;

static void on_sys(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    seen_nr = si->si_syscall;
    seen_code = si->si_code;
    call_ok = (uint64_t)si->si_call_addr == (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    uc->uc_mcontext.gregs[REG_RAX] = 4242;     /* emulate the call */
    sel = 0;   /* as any SUD user must: the return (rt_sigreturn in libc) would be blocked */
}

static long raw_getppid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(110L) : "rcx", "r11", "memory");
    return r;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    long real = getppid();
    sel = 0;
    printf("bad mode: %d\n", prctl(59, 7, 0, 0, 0) == -1);
    printf("on: %d\n", prctl(59, 1, 0, 0, &sel));
    sel = 1;
    long r = raw_getppid();
    sel = 0;
    printf("blocked call -> %ld nr=%ld code=%ld call_addr_ok=%ld\n", r, seen_nr, seen_code, call_ok);
    printf("allowed call real: %d\n", raw_getppid() == real);
    printf("off: %d\n", prctl(59, 0, 0, 0, 0));
    sel = 1;
    printf("after off real: %d\n", raw_getppid() == real);
    struct sigaction old;
    sigaction(SIGSYS, 0, &old);
    printf("sigaction reads back the program's handler: %d\n", (void *)old.sa_sigaction == (void *)on_sys);
    return 0;
}
