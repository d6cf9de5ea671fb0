/* A jump (not a call) to an unmapped address above page 0 with 0, then 1, on top of the
 * stack: what the SIGSEGV handler sees (si_addr, rip) must be as without trapline, where
 * 0 and 1 are also the site table's marks for empty and forgotten slots (core/sites.c).
 * Prints one line per case. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf back;

static void handler(int sig, siginfo_t *si, void *u)
{
    ucontext_t *uc = u;
    printf("sig %d addr %#lx rip %#llx\n", sig, (unsigned long)si->si_addr, (unsigned long long)uc->uc_mcontext.gregs[REG_RIP]);
    siglongjmp(back, 1);
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    /* an address surely unmapped: reserved, then released */
    void *p = mmap((void *)0x10000000, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != MAP_FAILED) munmap(p, 4096);
    getppid(); /* a rewritten site exists */
    if (!sigsetjmp(back, 1)) __asm__ volatile("push $0\n\tmov $0x10000000, %%rax\n\tjmp *%%rax" ::: "rax", "memory");
    if (!sigsetjmp(back, 1)) __asm__ volatile("push $1\n\tmov $0x10000000, %%rax\n\tjmp *%%rax" ::: "rax", "memory");
    return 0;
}
