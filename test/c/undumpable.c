/* undumpable PROG ARGS...: makes itself not dumpable (prctl PR_SET_DUMPABLE 0), then execs
 * PROG. A tracer without CAP_SYS_PTRACE is then refused (EPERM) when it attaches, as under
 * Yama's ptrace_scope 1 before the tracee names it: inside a run, the exec is entered by a
 * helper that must ask for, and then do without, the attach (sud/inject.c). */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: undumpable PROG ARGS...\n");
        return 2;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
        perror("prctl(PR_SET_DUMPABLE)");
        return 1;
    }
    execv(argv[1], argv + 1);
    perror("execv");
    return 127;
}
