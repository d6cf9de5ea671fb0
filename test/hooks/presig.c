/* Not a hook: a library preloaded next to libtrapline whose constructor runs before
 * trapline's and installs a SIGUSR1 handler that blocks every signal while it runs
 * (SIGSYS included) and makes a system call from a site of its own (test/c/sigadopt.c).
 * trapline must adopt it: its SIGSYS stays deliverable, so the call is interposed. The
 * same handler for a real-time signal (SIGRTMIN + 2), which /proc/self/stat's signal
 * fields (signals 1-31 only) do not show. */
volatile long presig_result = -1;
volatile int presig_ran;
#define EARLYSIG_RESULT presig_result
#define EARLYSIG_RAN presig_ran
#include "test/c/earlysig.h"

__attribute__((constructor)) static void presig_init(void)
{
    earlysig_install(SIGUSR1);
    earlysig_install(SIGRTMIN + 2);
}
