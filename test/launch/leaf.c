/* leaf: a small exec target that says how it was entered, then optionally execs on.
 *
 *   leaf [ARGS...]                   prints one line and exits 0
 *   leaf exec PATH [ARGS...]         prints its line, then execv(PATH, [PATH, ARGS...])
 *   leaf exit N                      prints its line, exits N
 *
 * The line: `leaf <libc>-<linkage> argv=a0|a1|.. exe=<readlink /proc/self/exe>
 * execfn=<AT_EXECFN> comm=<comm> cmdline=<matches argv?> env=<count>`. Everything in it is
 * the same in every run of the same command (no pid, no address), so a test compares a
 * native run's output with an interposed one byte for byte.
 *
 * Built as build/test/launch/leaf-{dyn,static,static-pie} and, with musl-gcc,
 * leaf-{musl,musl-static} (CMakeLists.txt, "launch fixtures"). Used by execchain,
 * rawthreads and as the interpreter of #! scripts (test/launch.test.ts). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef LEAF_FLAVOUR
#define LEAF_FLAVOUR "unknown"
#endif

int main(int argc, char **argv, char **envp)
{
    char exe[4096] = "", comm[64] = "", cmd[8192];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, comm, sizeof comm - 1);
        comm[n < 0 ? 0 : n] = 0;
        comm[strcspn(comm, "\n")] = 0;
        close(fd);
    }
    /* /proc/self/cmdline is argv, NUL-separated */
    int cmdline_ok = 0;
    fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        size_t len = 0;
        while ((n = read(fd, cmd + len, sizeof cmd - len)) > 0) len += (size_t)n;
        close(fd);
        size_t want = 0;
        cmdline_ok = 1;
        for (int i = 0; i < argc; i++) {
            size_t l = strlen(argv[i]) + 1;
            if (want + l > len || memcmp(cmd + want, argv[i], l)) cmdline_ok = 0;
            want += l;
        }
        if (want != len) cmdline_ok = 0;
    }
    int envc = 0;
    while (envp[envc]) envc++;
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    char line[16384];
    int k = snprintf(line, sizeof line, "leaf %s argv=", LEAF_FLAVOUR);
    for (int i = 0; i < argc && k < (int)sizeof line; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, "%s%s", i ? "|" : "", argv[i]);
    if (k < (int)sizeof line)
        k += snprintf(line + k, sizeof line - (size_t)k, " exe=%s execfn=%s comm=%s cmdline=%s env=%d\n",
                      exe, execfn ? execfn : "(none)", comm, cmdline_ok ? "argv" : "DIFFERS", envc);
    if (k > (int)sizeof line) k = (int)sizeof line;
    if (write(1, line, (size_t)k) != k) return 125;
    if (argc >= 3 && !strcmp(argv[1], "exec")) {
        execv(argv[2], &argv[2]);
        dprintf(1, "leaf: exec %s failed\n", argv[2]);
        return 127;
    }
    if (argc >= 3 && !strcmp(argv[1], "exit")) return atoi(argv[2]);
    return 0;
}
