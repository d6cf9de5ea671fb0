/* Makes exactly N getppid calls spread over K distinct syscall instructions (sites).
 * usage: count N   (K = 4: the calls rotate over four inline sites)
 * Prints "ok <sum>" where sum is the sum of returned parent pids / N (== getppid()). */
#include <stdio.h>
#include <stdlib.h>

/* distinct code in each (the k in rdi), so the compiler cannot fold them into one */
#define SITE(name, k) static long name(void) { long r; __asm__ volatile("mov $" #k ", %%edi\n\tsyscall" : "=a"(r) : "0"(110L) : "rdi", "rcx", "r11", "memory"); return r; }
SITE(s0, 0) SITE(s1, 1) SITE(s2, 2) SITE(s3, 3)
__attribute__((noinline)) static long call(int k)
{
    switch (k & 3) { case 0: return s0(); case 1: return s1(); case 2: return s2(); default: return s3(); }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    long first = -1;
    for (long i = 0; i < n; i++) {
        long r = call((int)i);
        if (first < 0) first = r;
        if (r != first) { printf("mismatch %ld %ld\n", r, first); return 1; }
    }
    printf("ok %ld\n", first);
    return 0;
}
