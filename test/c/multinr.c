/* One syscall instruction (site) serving several numbers: getppid, getpid, getuid,
 * gettid and the unknown number 1000, in turn, N rounds.
 * usage: multinr N. Prints "ok" when every result matches the number's own answer. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

__attribute__((noinline)) static long sys(long nr)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    const long nrs[] = { SYS_getppid, SYS_getpid, SYS_getuid, SYS_gettid, 1000 };
    const long want[] = { getppid(), getpid(), getuid(), getpid(), -38 /* -ENOSYS */ };
    for (long i = 0; i < n; i++)
        for (int k = 0; k < 5; k++) {
            long r = sys(nrs[k]);
            if (r != want[k]) { printf("round %ld: nr %ld gave %ld, expected %ld\n", i, nrs[k], r, want[k]); return 1; }
        }
    printf("ok\n");
    return 0;
}
