/* A call through a NULL or small function pointer must still crash with SIGSEGV, with
 * si_addr = the called address and the registers of the faulting call.
 * usage: nullcall ADDR [handler]
 *   handler: a SIGSEGV handler prints si_addr, si_code, rip, and whether rsp points at
 *            the return address of the call and rbx kept its value, then _exits 0.
 *   without: the process dies by SIGSEGV. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ucontext.h>
#include <stdint.h>

static volatile uint64_t expect_ret;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    uint64_t top = *(uint64_t *)g[REG_RSP];
    char buf[256];
    int n = snprintf(buf, sizeof buf, "sig=%d addr=%p code=%d rip=%llx ret_ok=%d rbx=%llx\n", sig, si->si_addr, si->si_code,
                     (unsigned long long)g[REG_RIP], top == expect_ret, (unsigned long long)g[REG_RBX]);
    write(1, buf, (size_t)n);
    _exit(0);
}

int main(int argc, char **argv)
{
    uint64_t addr = argc > 1 ? strtoull(argv[1], 0, 0) : 0;
    if (argc > 2 && strcmp(argv[2], "handler") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGSEGV, &sa, 0);
    }
    /* warm up: make sure the interposer is live and some sites are rewritten */
    for (int i = 0; i < 3; i++) getppid();
    __asm__ volatile(
        "lea 1f(%%rip), %%rcx\n\t mov %%rcx, expect_ret(%%rip)\n\t"
        "mov $0x1234567887654321, %%rbx\n\t"
        "call *%%rax\n"
        "1:\n\t"
        : : "a"(addr) : "rbx", "rcx", "memory");
    printf("returned?!\n");
    return 3;
}
