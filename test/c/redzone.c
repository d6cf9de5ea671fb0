/* The 128-byte red zone below rsp survives an intercepted syscall: the red-zone rule
 * (lazy/redzone.c) keeps this site on the trap path, so even rsp-8, where a rewritten
 * `callq *%rax` would push its return address, survives; in sud-only mode too.
 * First execution (trap) and later ones. usage: redzone [strict] [hidden]
 *   strict: rsp-8 must survive too;
 *   hidden: the pointer below rsp goes through memory (stash), which the rule cannot
 *           follow (a documented limit): the site is rewritten and only rsp-8 changes.
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

uint64_t stash;

__attribute__((noinline)) static long call_with_hidden_redzone(void)
{
    long r;
    __asm__ volatile(
        "mov %%rsp, stash(%%rip)\n\t"
        "mov stash(%%rip), %%rdi\n\t lea -128(%%rdi), %%rdi\n\t"
        "xor %%ecx, %%ecx\n"
        "1: mov $0x5a5a5a5a00000000, %%rdx\n\t add %%rcx, %%rdx\n\t mov %%rdx, (%%rdi,%%rcx,8)\n\t"
        "inc %%ecx\n\t cmp $16, %%ecx\n\t jne 1b\n\t"
        "xor %%edi, %%edi\n\t"
        "mov $110, %%eax\n\t syscall\n\t"
        "mov stash(%%rip), %%rdi\n\t lea -128(%%rdi), %%rdi\n\t"
        "xor %%ecx, %%ecx\n"
        "2: mov (%%rdi,%%rcx,8), %%rdx\n\t lea saved(%%rip), %%rsi\n\t mov %%rdx, (%%rsi,%%rcx,8)\n\t"
        "inc %%ecx\n\t cmp $16, %%ecx\n\t jne 2b\n\t"
        : "=a"(r) : : "rcx", "rdx", "rsi", "rdi", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    int strict = 0, hidden = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "strict") == 0) strict = 1;
        else if (strcmp(argv[i], "hidden") == 0) hidden = 1;
    }
    int bad = 0;
    for (int round = 0; round < 3; round++) {
        long r = hidden ? call_with_hidden_redzone() : call_with_redzone();
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
