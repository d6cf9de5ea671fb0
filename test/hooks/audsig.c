/* Not a hook: an audit module (ld.so --audit), loaded into a namespace of its own, which
 * dl_iterate_phdr does not show, whose constructor runs before trapline's: it installs a
 * SIGUSR1 handler that blocks every signal while it runs (SIGSYS included) and makes a
 * system call from a site of its own (test/c/sigaudit.c). trapline must adopt it. */
#define _GNU_SOURCE
#include <link.h>
#include <signal.h>
#include <string.h>

unsigned la_version(unsigned version)
{
    (void)version;
    return LAV_CURRENT;
}

static void handler(int sig)
{
    (void)sig;
    long r = 110; /* getppid, from a site no other code runs */
    __asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
}

__attribute__((constructor)) static void audsig_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, 0);
}
