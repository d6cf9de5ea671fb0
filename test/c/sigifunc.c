/* A handler installed by an IFUNC resolver of the executable, which ld.so calls while
 * relocating it, before any constructor (trapline's included), though no other library
 * is loaded and there is no preinit function: SIGUSR1, every signal (SIGSYS too) blocked
 * while it runs, a system call from a site of its own. trapline must adopt it
 * (test/startup.test.ts). Prints "ok <runs>" or "bad: why". */
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

static int answer(void) { return 42; }

static int (*resolve(void))(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, 0);
    return answer;
}
int early_answer(void) __attribute__((ifunc("resolve")));

int main(void)
{
    if (early_answer() != 42) { puts("bad: the IFUNC"); return 1; }
    for (int i = 0; i < 2; i++) {
        raise(SIGUSR1);
        if (result != getppid()) { printf("bad: the handler's call returned %ld\n", result); return 1; }
    }
    printf("ok %d\n", ran);
    return 0;
}
