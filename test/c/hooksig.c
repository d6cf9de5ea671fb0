/* With test/hooks/sighook.c: the SIGUSR1 handler runs while the hook is active; its
 * getpid must still be intercepted. Prints "handler ran <n>". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int ran;
static void on_usr1(int s) { (void)s; getpid(); ran++; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    getppid();
    printf("handler ran %d\n", ran);
    return 0;
}
