/* SIG_IGN across exec: natively an ignored signal stays ignored in the exec'd program
 * (only caught ones are reset to SIG_DFL). Under trapline the kernel holds trapline's own
 * handler for SIGSYS and SIGSEGV, so the program's SIG_IGN is handed on by trapline
 * (TRAPLINE_SIGIGN, sud/exec.c). The arguments are steps, done in order:
 *   ign | ign-sys | ign-segv   set SIGSYS and SIGSEGV (or one) to SIG_IGN, exec the rest
 *   dfl                        set both to SIG_DFL, exec the rest
 *   spawn-dfl   posix_spawn the rest with POSIX_SPAWN_SETSIGDEF for both (its vfork
 *               child sets them to SIG_DFL before its exec), wait, exit as it did
 *   vfork-ign   vfork; the child sets both to SIG_IGN and execs the rest; wait, exit so
 *   show    print "sys_ign=S segv_ign=G", send itself each ignored one with kill() and
 *           print "kill-survived" (an ignored signal sent is dropped)
 *   env     print "sigign_env=1" if TRAPLINE_SIGIGN is in its environment, else 0
 *   fault   write to address 16: a real fault kills with SIGSEGV even when ignored (the
 *           kernel forces the default action); "fault-survived" and exit 3 if not */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ignored(int sig)
{
    struct sigaction a;
    if (sigaction(sig, 0, &a)) return -1;
    return a.sa_handler == SIG_IGN;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int ign = !strcmp(s, "ign"), sys = ign || !strcmp(s, "ign-sys"), segv = ign || !strcmp(s, "ign-segv");
        if (sys || segv || !strcmp(s, "dfl")) {
            if (sys || !strcmp(s, "dfl")) signal(SIGSYS, sys ? SIG_IGN : SIG_DFL);
            if (segv || !strcmp(s, "dfl")) signal(SIGSEGV, segv ? SIG_IGN : SIG_DFL);
            argv[i] = "sigign";
            fflush(stdout);
            execv("/proc/self/exe", argv + i);
            perror("exec");
            return 9;
        } else if (!strcmp(s, "spawn-dfl") || !strcmp(s, "vfork-ign")) {
            argv[i] = "sigign";
            fflush(stdout);
            pid_t pid;
            if (!strcmp(s, "spawn-dfl")) {
                posix_spawnattr_t at;
                sigset_t def;
                sigemptyset(&def);
                sigaddset(&def, SIGSYS);
                sigaddset(&def, SIGSEGV);
                posix_spawnattr_init(&at);
                posix_spawnattr_setsigdefault(&at, &def);
                posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
                if (posix_spawn(&pid, "/proc/self/exe", 0, &at, argv + i, environ)) return 9;
            } else {
                pid = vfork();
                if (pid == 0) {
                    signal(SIGSYS, SIG_IGN);
                    signal(SIGSEGV, SIG_IGN);
                    execv("/proc/self/exe", argv + i);
                    _exit(9);
                }
            }
            int st;
            if (pid < 0 || waitpid(pid, &st, 0) != pid) return 9;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        } else if (!strcmp(s, "show")) {
            int a = ignored(SIGSYS), b = ignored(SIGSEGV);
            printf("sys_ign=%d segv_ign=%d\n", a, b);
            fflush(stdout);
            if (a == 1) kill(getpid(), SIGSYS);
            if (b == 1) kill(getpid(), SIGSEGV);
            printf("kill-survived\n");
        } else if (!strcmp(s, "env")) {
            printf("sigign_env=%d\n", getenv("TRAPLINE_SIGIGN") != 0);
        } else if (!strcmp(s, "fault")) {
            fflush(stdout);
            volatile int *volatile bad = (volatile int *)16; /* through a variable: no warning */
            *bad = 1;
            printf("fault-survived\n");
            return 3;
        } else {
            fprintf(stderr, "sigign: unknown step %s\n", s);
            return 2;
        }
    }
    return 0;
}
