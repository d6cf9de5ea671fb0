/* The 128-byte red zone below rsp survives an intercepted syscall, except the 8 bytes at
 * rsp-8 that the rewritten `callq *%rax` itself pushes (documented in docs/design.md).
 * First execution (trap) and later ones (fast path); also in sud-only mode, where even
 * rsp-8 survives. usage: redzone [strict]  (strict: rsp-8 must survive too)
 * Prints "ok" or the damaged offsets. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

uint64_t saved[16];

__attribute__((noinline)) static long call_with_redzone(void)
{
    long r;
    __asm__ volatile(
        "lea -128(%%rsp), %%rdi\n\t"
        "xor %%ecx, %%ecx\n"
        "1: mov $0x5a5a5a5a00000000, %%rdx\n\t add %%rcx, %%rdx\n\t mov %%rdx, (%%rdi,%%rcx,8)\n\t"
        "inc %%ecx\n\t cmp $16, %%ecx\n\t jne 1b\n\t"
        "mov $110, %%eax\n\t syscall\n\t"
        "lea -128(%%rsp), %%rdi\n\t"
        "xor %%ecx, %%ecx\n"
        "2: mov (%%rdi,%%rcx,8), %%rdx\n\t lea saved(%%rip), %%rsi\n\t mov %%rdx, (%%rsi,%%rcx,8)\n\t"
        "inc %%ecx\n\t cmp $16, %%ecx\n\t jne 2b\n\t"
        : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    int strict = argc > 1 && strcmp(argv[1], "strict") == 0;
    int bad = 0;
    for (int round = 0; round < 3; round++) {
        long r = call_with_redzone();
        if (r <= 0) { printf("getppid %ld\n", r); return 1; }
        for (int k = 0; k < 16; k++) {           /* saved[k] was at rsp - 128 + 8k */
            if (k == 15 && !strict) continue;    /* rsp - 8: the callq slot */
            if (saved[k] != 0x5a5a5a5a00000000ull + (uint64_t)k) { printf("round %d: rsp-%d changed\n", round, 128 - 8 * k); bad = 1; }
        }
    }
    if (bad) return 1;
    printf("ok\n");
    return 0;
}
