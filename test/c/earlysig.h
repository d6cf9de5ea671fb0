/* For fixtures whose signal handler is installed before trapline's start-up (an IFUNC
 * resolver, a preinit function, a library's or an audit module's constructor:
 * test/startup.test.ts, test/c/sigadopt.c): a handler that makes a system call (getppid)
 * from a site of its own, installed with every signal (SIGSYS too) blocked while it runs.
 * trapline must adopt it, else that call is fatal. Static: each fixture has its own copy,
 * so its own site. The handler counts its runs and keeps the call's result in
 * EARLYSIG_RAN and EARLYSIG_RESULT, which an includer may name (presig.c exports its). */
#ifndef TRAPLINE_TEST_EARLYSIG_H
#define TRAPLINE_TEST_EARLYSIG_H
#include <signal.h>
#include <string.h>

#ifndef EARLYSIG_RESULT
#define EARLYSIG_RESULT earlysig_result
#define EARLYSIG_RAN earlysig_ran
static volatile long earlysig_result = -1;
static volatile int earlysig_ran;
#endif

static void earlysig_handler(int sig)
{
    (void)sig;
    long r = 110; /* getppid, from a site no other code runs */
    __asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
    EARLYSIG_RESULT = r;
    EARLYSIG_RAN++;
}

static void earlysig_install(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = earlysig_handler;
    sigfillset(&sa.sa_mask);
    sigaction(sig, &sa, 0);
}
#endif
