/* sigsysmask: SIGSYS blocked across exec, as a program may start with it (trapline traps
 * with SIGSYS, so it keeps it unblocked in the kernel and blocked in the program's view).
 *
 *   sigsysmask block PROG ARGS...   blocks SIGSYS, then execs PROG
 *   sigsysmask show                 prints sigsys-blocked=0|1 (its mask as sigprocmask
 *                                   says), makes a few calls, exits 0
 *   sigsysmask unblock              the same, after unblocking SIGSYS itself
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int blocked(void)
{
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    return sigismember(&s, SIGSYS);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "block") == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSYS);
        sigprocmask(SIG_BLOCK, &s, NULL);
        execv(argv[2], argv + 2);
        perror("execv");
        return 127;
    }
    if (argc > 1 && strcmp(argv[1], "unblock") == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSYS);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    }
    long n = 0;
    for (int i = 0; i < 100; i++) n += syscall(SYS_getppid) > 0;
    printf("sigsys-blocked=%d calls=%ld\n", blocked(), n);
    return 0;
}
