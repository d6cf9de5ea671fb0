/* A handler installed by the executable's preinit function, which runs before any
 * constructor, trapline's included: for SIGUSR1 and a real-time signal, every signal
 * (SIGSYS too) blocked while it runs, and a system call from a site of its own. trapline
 * must adopt both (test/startup.test.ts). Raised twice each; prints "ok <runs>" or
 * "bad: why". */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile long result = -1;
static volatile int ran;

static void handler(int sig)
{
    (void)sig;
    long r = 110; /* getppid, from a site no other code runs */
    __asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
    result = r;
    ran++;
}

static void preinit(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    (void)envp;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGRTMIN + 3, &sa, 0);
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit_fn)(int, char **, char **) = preinit;

int main(void)
{
    for (int i = 0; i < 4; i++) {
        raise(i < 2 ? SIGUSR1 : SIGRTMIN + 3);
        if (result != getppid()) { printf("bad: the handler's call returned %ld\n", result); return 1; }
    }
    printf("ok %d\n", ran);
    return 0;
}
