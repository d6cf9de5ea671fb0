/* A handler installed by the executable's preinit function, which runs before any
 * constructor, trapline's included: for SIGUSR1 and a real-time signal, every signal
 * (SIGSYS too) blocked while it runs, and a system call from a site of its own. trapline
 * must adopt both (test/startup.test.ts). Raised twice each; prints "ok <runs>" or
 * "bad: why". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "test/c/earlysig.h"

static void preinit(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    (void)envp;
    earlysig_install(SIGUSR1);
    earlysig_install(SIGRTMIN + 3);
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit_fn)(int, char **, char **) = preinit;

int main(void)
{
    for (int i = 0; i < 4; i++) {
        raise(i < 2 ? SIGUSR1 : SIGRTMIN + 3);
        if (earlysig_result != getppid()) { printf("bad: the handler's call returned %ld\n", earlysig_result); return 1; }
    }
    printf("ok %d\n", earlysig_ran);
    return 0;
}
