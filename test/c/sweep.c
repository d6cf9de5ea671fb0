/* Every invalid number from 512 to 4200 through ONE rewritten site (warmed up with
 * getppid): each enters the sled at a different byte (or faults beyond it) and must
 * return -ENOSYS with the program's flags intact. Prints "ok <count>". */
#include <stdio.h>

__attribute__((noinline)) static long site(long nr, unsigned long *flags)
{
    long r;
    unsigned long f;
    __asm__ volatile("stc\n\t syscall\n\t pushfq\n\t pop %1" : "=a"(r), "=r"(f) : "0"(nr) : "rcx", "r11", "memory", "cc");
    *flags = f;
    return r;
}

int main(void)
{
    unsigned long fl;
    for (int i = 0; i < 3; i++) if (site(110, &fl) <= 0) { printf("getppid failed\n"); return 1; }
    int n = 0;
    for (long nr = 512; nr <= 4200; nr++, n++) {
        long r = site(nr, &fl);
        if (r != -38) { printf("nr %ld returned %ld\n", nr, r); return 1; }
        if (!(fl & 1)) { printf("nr %ld lost CF\n", nr); return 1; }
    }
    printf("ok %d\n", n);
    return 0;
}
