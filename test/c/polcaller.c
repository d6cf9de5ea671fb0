/* Calls through libc from the main program and from a dlopen'd plugin, for the caller
 * attribution of policy scopes (test/policy-caller.test.ts, docs/policies.md, Scope).
 *   polcaller LIB PATH [N]   dlopen()s LIB (test/hooks/polcallplug.c), then main makes
 *                            socket(), fopen(PATH), connect() through libc, then LIB's
 *                            polcaller_calls makes the same: "main socket: ok|ERRNO", ...,
 *                            "plugin connect: ..." (connect natively fails: ENOENT);
 *                            with N, then N getppid() through libc's syscall(): "loop done"
 *   polcaller LIB thread     LIB's polcaller_thread: pthread_create and join, "plugin thread: ok"
 * The plugin is loaded first so that a rule on the main program's openat does not deny
 * the dynamic loader's (dlopen is main's call). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    default: return "E?";
    }
}

/* main's own copy of the plugin's calls: the same source */
#include "../hooks/polcallplug.c"

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 1;
    }
    if (!strcmp(argv[2], "thread")) {
        int (*th)(const char *) = (int (*)(const char *))dlsym(h, "polcaller_thread");
        return th("plugin");
    }
    int (*plugin)(const char *, const char *, const char *(*)(int)) =
        (int (*)(const char *, const char *, const char *(*)(int)))dlsym(h, "polcaller_calls");
    polcaller_calls("main", argv[2], ename);
    plugin("plugin", argv[2], ename);
    if (argc > 3) {
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++) syscall(SYS_getppid);
        printf("loop done\n");
    }
    return 0;
}
