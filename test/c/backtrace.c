/* A program a debugger stops inside trapline (test/backtrace.test.ts): main makes a call
 * from bt_make_call (with "int80": an `int $0x80` getpid from bt_make_call80; with
 * "special": rt_sigprocmask, a number the dispatch handles itself), stops at bt_marker
 * (where the debugger sets its breakpoint inside trapline: the first call has trapped, and
 * in lazy mode rewritten the site), then makes the same call again from the same site. A
 * backtrace taken inside trapline during the second call must reach bt_make_call and main. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

__attribute__((noinline)) long bt_make_call(long nr, long a1, long a2, long a3, long a4)
{
    register long r10 __asm__("r10") = a4;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10) : "rcx", "r11", "memory");
    return r;
}

__attribute__((noinline)) long bt_make_call80(long nr)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(nr) : "memory");
    return r;
}

__attribute__((noinline)) void bt_marker(void)
{
    __asm__ volatile("" ::: "memory");
}

static long call(const char *how)
{
    static unsigned long long old;
    if (strcmp(how, "int80") == 0) return bt_make_call80(20);      /* i386 20: getpid */
    if (strcmp(how, "special") == 0) return bt_make_call(SYS_rt_sigprocmask, SIG_BLOCK, 0, (long)&old, 8);
    return bt_make_call(SYS_getppid, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "plain";
    long a = call(how);
    bt_marker();
    long b = call(how);
    printf("same %d\n", a == b);
    return a == b ? 0 : 1;
}
