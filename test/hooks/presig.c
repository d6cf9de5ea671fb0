/* Not a hook: a library preloaded next to libtrapline whose constructor runs before
 * trapline's and installs a SIGUSR1 handler that blocks every signal while it runs
 * (SIGSYS included) and makes a system call from a site of its own (test/c/sigadopt.c).
 * trapline must adopt it: its SIGSYS stays deliverable, so the call is interposed. The
 * same handler for a real-time signal (SIGRTMIN + 2), which /proc/self/stat's signal
 * fields (signals 1-31 only) do not show. */
#include <signal.h>
#include <string.h>

volatile long presig_result = -1;
volatile int presig_ran;

static void handler(int sig)
{
    (void)sig;
    long r = 110;   /* getppid, from a site no other code runs */
    __asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
    presig_result = r;
    presig_ran++;
}

__attribute__((constructor)) static void presig_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGRTMIN + 2, &sa, 0);
}
