/* A handler installed before trapline started (test/hooks/presig.c, preloaded): raised
 * twice, and the same for a real-time signal (SIGRTMIN + 2); it must run and its own
 * system call must return getppid's value. Prints
 * "ok <runs>" or "bad: why". */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    volatile long *result = dlsym(RTLD_DEFAULT, "presig_result");
    volatile int *ran = dlsym(RTLD_DEFAULT, "presig_ran");
    if (!result || !ran) { puts("bad: presig is not preloaded"); return 1; }
    struct sigaction old;
    if (sigaction(SIGUSR1, 0, &old) || old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) { puts("bad: no handler"); return 1; }
    if (sigaction(SIGRTMIN + 2, 0, &old) || old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) { puts("bad: no RT handler"); return 1; }
    for (int i = 0; i < 4; i++) {
        raise(i < 2 ? SIGUSR1 : SIGRTMIN + 2);
        if (*result != getppid()) { printf("bad: the handler's call returned %ld\n", *result); return 1; }
    }
    printf("ok %d\n", *ran);
    return 0;
}
