/* Numbers outside the syscall table, each from a site of its own, executed twice: the
 * first execution traps, the second goes through the rewritten site. Prints one line per
 * number with both results; the test compares the output with the uninterposed run.
 * Covers: past the table, beyond the sled (>= 4096), INT_MAX, -1, x32 bit, upper bits
 * (the kernel ignores them: 0x1_0000_0027 is getpid). */
#include <stdio.h>
#include <unistd.h>

#define SITE(name) __attribute__((noinline)) static long name(long nr) { long r; __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory"); return r; }
SITE(s0) SITE(s1) SITE(s2) SITE(s3) SITE(s4) SITE(s5) SITE(s6) SITE(s7) SITE(s8) SITE(s9)
static long (*sites[])(long) = { s0, s1, s2, s3, s4, s5, s6, s7, s8, s9 };

int main(void)
{
    long nrs[] = { 462 + 40, 512, 1000, 4095, 5000, 0x7fffffffL, -1L, 0x40000000L | 39, 0x100000000L | 39, (long)0x8000000000000027ULL };
    long pid = getpid();
    for (unsigned i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
        long a = sites[i](nrs[i]), b = sites[i](nrs[i]);
        if (a == pid) a = -10000;   /* print "pid" independent of the process */
        if (b == pid) b = -10000;
        printf("%#lx %ld %ld\n", (unsigned long)nrs[i], a, b);
    }
    return 0;
}
