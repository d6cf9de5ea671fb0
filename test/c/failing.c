/* N close(-1) calls from one site (-EBADF every time) and N getppid from another: the
 * errors must be counted on the fast path too. Prints "ok". */
#include <stdio.h>
#include <stdlib.h>

static long site(long nr, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a) : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    for (long i = 0; i < n; i++) if (site(3, -1) != -9) { printf("close(-1) did not fail\n"); return 1; }
    printf("ok\n");
    return 0;
}
