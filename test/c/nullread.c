/* Data reads and writes through NULL and small pointers (offsets 0..4095, 1/2/4/8 bytes)
 * must fault exactly as without trapline: SIGSEGV with the same si_addr, si_code and
 * error code. For each access kind one line: how many faulted, the first fault, and a
 * hash over every (offset, si_addr, si_code, err); an access that did not fault is
 * counted as readable (with its value folded into the hash). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf env;
static volatile uint64_t f_addr, f_code, f_err;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    f_addr = (uint64_t)si->si_addr;
    f_code = (uint64_t)si->si_code;
    f_err = (uint64_t)uc->uc_mcontext.gregs[REG_ERR];
    siglongjmp(env, 1);
}

static uint64_t touch(int write, int size, uint64_t a)
{
    uint64_t v = 0;
    if (write) {
        switch (size) {
        case 1: __asm__ volatile("movb $1, (%0)" : : "r"(a) : "memory"); break;
        case 2: __asm__ volatile("movw $1, (%0)" : : "r"(a) : "memory"); break;
        case 4: __asm__ volatile("movl $1, (%0)" : : "r"(a) : "memory"); break;
        default: __asm__ volatile("movq $1, (%0)" : : "r"(a) : "memory"); break;
        }
    } else {
        switch (size) {
        case 1: __asm__ volatile("movzbq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
        case 2: __asm__ volatile("movzwq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
        case 4: __asm__ volatile("movl (%1), %k0" : "=r"(v) : "r"(a) : "memory"); break;
        default: __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(a) : "memory"); break;
        }
    }
    return v;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    static const int sizes[] = { 1, 2, 4, 8 };
    for (int write = 0; write < 2; write++)
        for (int k = 0; k < 4; k++) {
            volatile uint64_t hash = 1469598103934665603ull, faults = 0, readable = 0;
            char first[96] = "none";
            for (volatile uint64_t off = 0; off < 4096; off++) {
                uint64_t h[4];
                if (sigsetjmp(env, 1) == 0) {
                    uint64_t v = touch(write, sizes[k], off);
                    readable++;
                    h[0] = off; h[1] = v; h[2] = ~0ull; h[3] = ~0ull;
                } else {
                    if (!faults++) snprintf(first, sizeof first, "off=%llu addr=%#llx code=%llu err=%#llx",
                                            (unsigned long long)off, (unsigned long long)f_addr,
                                            (unsigned long long)f_code, (unsigned long long)f_err);
                    h[0] = off; h[1] = f_addr; h[2] = f_code; h[3] = f_err;
                }
                for (int i = 0; i < 4; i++) { hash ^= h[i]; hash *= 1099511628211ull; }
            }
            printf("%s%d faults=%llu readable=%llu first: %s hash=%016llx\n", write ? "write" : "read", sizes[k],
                   (unsigned long long)faults, (unsigned long long)readable, first, (unsigned long long)hash);
        }
    return 0;
}
