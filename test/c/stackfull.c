/* A rewritten site keeps working when the program's stack is nearly full: after the site
 * is rewritten (warm-up on the normal stack), rsp is moved to 16 bytes above a guard page
 * and the site is called there (the call takes 8 bytes, the rewritten callq the last 8).
 * Prints "ok" when the result matches getppid(). */
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

__asm__(".text\n site_fn:\n mov $110, %eax\n syscall\n ret\n");
long result;
uint64_t saved_rsp;

int main(void)
{
    for (int i = 0; i < 3; i++) __asm__ volatile("call site_fn\n mov %%rax, result(%%rip)" : : : "rax", "rcx", "r11", "memory");
    unsigned char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m, 4096, PROT_NONE);
    uint64_t top = (uint64_t)m + 4096 + 16;
    result = 0;
    __asm__ volatile(
        "mov %%rsp, saved_rsp(%%rip)\n\t"
        "mov %0, %%rsp\n\t"
        "call site_fn\n\t"
        "mov saved_rsp(%%rip), %%rsp\n\t"
        "mov %%rax, result(%%rip)\n\t"
        : : "r"(top) : "rax", "rcx", "r11", "memory");
    if (result != getppid()) { printf("result %ld\n", result); return 1; }
    printf("ok\n");
    return 0;
}
