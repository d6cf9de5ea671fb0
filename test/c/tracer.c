/* A program that traces its own child with ptrace: the child stops itself once (SIGSTOP),
 * then makes calls from sites never executed before and exits. The tracer counts every
 * stop it sees by signal, resuming with PTRACE_CONT (or PTRACE_SYSCALL with "syscall",
 * counting syscall stops too), and prints the counts: natively one SIGSTOP stop, no SIGSYS.
 * "emulated": the child also uses its own SUD, whose SIGSYS stops the tracer must see.
 * "waitid": the tracer waits with waitid instead of waitpid. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile char sel;
static void on_sys(int s, siginfo_t *si, void *uc) { (void)s; (void)si; (void)uc; sel = 0; }

__attribute__((noinline)) static long fresh1(long nr)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory");
    return r;
}
__attribute__((noinline)) static long fresh2(long nr)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    int use_syscall = argc > 1 && strcmp(argv[1], "syscall") == 0;
    int use_waitid = argc > 1 && strcmp(argv[1], "waitid") == 0;
    int emulated = argc > 1 && strcmp(argv[1], "emulated") == 0;
    pid_t c = fork();
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        for (int i = 0; i < 5; i++) fresh1(SYS_getppid);
        fresh2(SYS_getpid);
        if (emulated) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = on_sys;
            sa.sa_flags = SA_SIGINFO;
            sigaction(SIGSYS, &sa, 0);
            prctl(59, 1, 0, 0, &sel);
            sel = 1;
            fresh2(SYS_getpid);          /* blocked by its own SUD: a SIGSYS, natively too */
            sel = 0;
            prctl(59, 0, 0, 0, 0);
        }
        _exit(3);
    }
    int st, stops[65] = { 0 }, sysstops = 0;
    for (;;) {
        if (use_waitid) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, c, &si, WEXITED | WSTOPPED) != 0 || si.si_pid != c) { printf("waitid failed\n"); return 1; }
            st = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_code == CLD_TRAPPED ? (si.si_status << 8) | 0x7f : si.si_status;
        } else if (waitpid(c, &st, 0) != c) { printf("waitpid failed\n"); return 1; }
        if (WIFEXITED(st)) break;
        if (!WIFSTOPPED(st)) { printf("child died: %d\n", st); return 1; }
        int sig = WSTOPSIG(st);
        if (sig == (SIGTRAP | 0x80)) { sysstops++; sig = 0; }
        else stops[sig]++;
        if (sig == SIGSTOP && stops[SIGSTOP] == 1 && use_syscall) ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD);
        if (sig == SIGSTOP) sig = 0;
        ptrace(use_syscall ? PTRACE_SYSCALL : PTRACE_CONT, c, 0, sig);
    }
    printf("exit=%d SIGSTOP=%d SIGSYS=%d others=", WEXITSTATUS(st), stops[SIGSTOP], stops[SIGSYS]);
    int others = 0;
    for (int s = 1; s <= 64; s++) if (s != SIGSTOP && s != SIGSYS) others += stops[s];
    printf("%d", others);
    if (use_syscall) printf(" syscall-stops>0=%d", sysstops > 0);
    printf("\n");
    return 0;
}
