/* Calls through libc from the main program and from a dlopen'd plugin, for the caller
 * attribution of policy scopes (test/policy-caller.test.ts, docs/policies.md, Scope).
 *   polcaller LIB PATH [N]   dlopen()s LIB (test/hooks/polcallplug.c), then main makes
 *                            socket(), fopen(PATH), connect() through libc, then LIB's
 *                            polcaller_calls makes the same: "main socket: ok|ERRNO", ...,
 *                            "plugin connect: ..." (connect natively fails: ENOENT);
 *                            with N, then N getppid() through libc's syscall(): "loop done"
 *   polcaller LIB thread     LIB's polcaller_thread: pthread_create and join, "plugin thread: ok"
 *   polcaller LIB jit        getppid() through libc from main, then from anonymous code (a
 *                            stub that calls libc's getppid): "main: ok|ERRNO" "jit: ok|ERRNO"
 * The plugin is loaded first so that a rule on the main program's openat does not deny
 * the dynamic loader's (dlopen is main's call). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/mman.h>
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
    if (!strcmp(argv[2], "jit")) {
        /* glibc's getppid() returns the kernel's result as it is (it cannot fail) */
        long r = getppid();
        printf("main: %s\n", r > 0 ? "ok" : ename((int)-r));
        /* sub $8,%rsp; movabs $getppid,%rax; call *%rax; add $8,%rsp; ret */
        unsigned char code[] = {0x48, 0x83, 0xec, 0x08, 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3};
        uint64_t fn = (uint64_t)(uintptr_t)&getppid;
        memcpy(code + 6, &fn, 8);
        unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 1;
        memcpy(p, code, sizeof code);
        if (mprotect(p, 4096, PROT_READ | PROT_EXEC)) return 1;
        int v = ((int (*)(void))p)();
        printf("jit: %s\n", v > 0 ? "ok" : ename(-v));
        return 0;
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
