/* vfork children that call through the interposer (and a hook), then exit, exec or fail
 * to exec: the parent must be exactly as before.
 *   vfork HOW N     N vfork children (HOW = exit, exec, execfail), each making one getppid
 *                   call (exec: the exec'd program makes 10). The parent checks its own
 *                   state after each (registers, locals, the values its calls return) and
 *                   that calls from sites it never ran before still give what they gave
 *                   before any vfork (a hook that changes them still applies).
 *                   Prints "ok N" and exits 0.
 *   child           10 getppid calls, exit 0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;
#define FAIL(...) do { printf(__VA_ARGS__); printf("\n"); fflush(stdout); exit(1); } while (0)

/* a site of its own per use: the first execution of each traps */
#define FRESH(name, nr) static __attribute__((noinline)) long name(void) { long r; \
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)(nr)) : "rcx", "r11", "memory"); return r; }
FRESH(uid_before, SYS_getuid)
FRESH(ppid_before, SYS_getppid)
FRESH(uid_after, SYS_getuid)
FRESH(ppid_after, SYS_getppid)
FRESH(child_ppid, SYS_getppid)

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "child")) {
        for (int i = 0; i < 10; i++) getppid();
        return 0;
    }
    if (argc < 4 || strcmp(argv[1], "vfork")) { fprintf(stderr, "usage: vforkh vfork exit|exec|execfail N\n"); return 2; }
    const char *how = argv[2];
    long n = atol(argv[3]);
    int want = !strcmp(how, "exit") ? 7 : !strcmp(how, "exec") ? 0 : !strcmp(how, "execfail") ? 9 : -1;
    if (want < 0) FAIL("bad HOW %s", how);
    long uid0 = uid_before(), ppid0 = ppid_before();
    volatile long a = 11, b = 22;
    for (long i = 0; i < n; i++) {
        long r12v;
        __asm__ volatile("mov $0x1212121212, %%r12" : : : "r12");
        pid_t p = vfork();
        if (p == 0) {
            child_ppid();
            if (want == 7) _exit(7);
            char *args[] = { argv[0], (char *)"child", 0 };
            execve(want == 0 ? "/proc/self/exe" : "/nonexistent/vforkh", args, environ);
            _exit(errno == ENOENT ? 9 : 8);
        }
        __asm__ volatile("mov %%r12, %0" : "=r"(r12v));
        if (r12v != 0x1212121212) FAIL("r12 changed: %lx", r12v);
        if (p < 0) FAIL("vfork: %s", strerror(errno));
        int st;
        if (waitpid(p, &st, 0) != p) FAIL("waitpid");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != want) FAIL("child %ld status %x", i, st);
        if (a != 11 || b != 22) FAIL("locals changed");
        if (getppid() != ppid0) FAIL("getppid after child %ld", i);
    }
    long uid1 = uid_after(), ppid1 = ppid_after();
    if (uid1 != uid0 || ppid1 != ppid0)
        FAIL("after the vfork children: getuid %ld (was %ld), getppid %ld (was %ld)", uid1, uid0, ppid1, ppid0);
    printf("ok %ld\n", n);
    return 0;
}
