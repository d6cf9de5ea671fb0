/* Two runs that differ, for the HTML report's comparison view: N getppid calls from the
 * site in htmlcmp_getppid; with "more", also N sched_yield calls from a second site, in
 * htmlcmp_yield. usage: htmlcmp N [more]. Prints "ok". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) long htmlcmp_getppid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(110L) : "rcx", "r11", "memory");
    return r;
}

__attribute__((noinline)) long htmlcmp_yield(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(24L) : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    int more = argc > 2 && strcmp(argv[2], "more") == 0;
    for (long i = 0; i < n; i++) {
        if (htmlcmp_getppid() <= 0) return 1;
        if (more && htmlcmp_yield() != 0) return 1;
    }
    printf("ok\n");
    return 0;
}
