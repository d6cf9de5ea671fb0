/* Run under an audit module that installed a SIGUSR1 handler (test/hooks/audsig.c):
 * raises it twice; the handler's system call must not kill the process. Prints "ok" or
 * "bad: why". */
#include <signal.h>
#include <stdio.h>

int main(void)
{
    struct sigaction old;
    if (sigaction(SIGUSR1, 0, &old) || old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) { puts("bad: no handler"); return 1; }
    raise(SIGUSR1);
    raise(SIGUSR1);
    puts("ok");
    return 0;
}
