/* A handler installed by an IFUNC resolver of the executable, which ld.so calls while
 * relocating it, before any constructor (trapline's included), though no other library
 * is loaded and there is no preinit function: SIGUSR1, every signal (SIGSYS too) blocked
 * while it runs, a system call from a site of its own. trapline must adopt it
 * (test/startup.test.ts). Prints "ok <runs>" or "bad: why". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "test/c/earlysig.h"

static int answer(void) { return 42; }

static int (*resolve(void))(void)
{
    earlysig_install(SIGUSR1);
    return answer;
}
int early_answer(void) __attribute__((ifunc("resolve")));

int main(void)
{
    if (early_answer() != 42) { puts("bad: the IFUNC"); return 1; }
    for (int i = 0; i < 2; i++) {
        raise(SIGUSR1);
        if (earlysig_result != getppid()) { printf("bad: the handler's call returned %ld\n", earlysig_result); return 1; }
    }
    printf("ok %d\n", earlysig_ran);
    return 0;
}
