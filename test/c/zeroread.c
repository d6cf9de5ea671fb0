/* A data read of address 0 still faults (the trampoline is execute-only where the CPU has
 * protection keys). A SIGSEGV handler prints si_addr and exits 0; no fault prints
 * "readable". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char buf[96];
    int n = snprintf(buf, sizeof buf, "fault sig=%d addr=%p\n", sig, si->si_addr);
    write(1, buf, (size_t)n);
    _exit(0);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    volatile unsigned char *z = (volatile unsigned char *)0;
    unsigned char c;
    __asm__ volatile("movb (%1), %0" : "=r"(c) : "r"(z) : "memory");
    printf("readable %d\n", c);
    return 1;
}
