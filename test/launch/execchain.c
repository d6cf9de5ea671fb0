/* execchain: every way into a new program, and the ways an exec fails.
 *
 *   execchain        (run in a writable, empty directory: it writes its scripts there)
 *
 * For each case it forks; the child enters a leaf fixture (or a script) and the parent
 * waits and prints `case NAME: exit=N`. The leaves print how they were entered (leaf.c).
 * Cases: a dynamic program, a static one (and the musl leaves when built), a chain
 * dynamic -> static -> dynamic, `#!/bin/sh`, a `#!` script whose interpreter is the static
 * leaf, execveat(AT_EMPTY_PATH) on an O_PATH fd, fexecve, execveat of a script on an fd
 * (the interpreter gets /dev/fd/N), execveat relative to a directory fd, vfork+exec
 * (posix_spawn).
 * Then, in this process, execs that fail: ENOENT, EACCES (mode 0644; a directory), ENOEXEC
 * (garbage with mode 0755), ENOENT for a missing #! interpreter, EBADF, EFAULT; each
 * prints `fail NAME: errno=ENAME` and the program carries on, and ends with 5 getppid calls
 * (the caller is still interposed: test/launch.test.ts counts them).
 *
 * Output and system calls are the same in every run (relative paths, no pids).
 * Built as build/test/launch/execchain-dyn and execchain-static (an exec from a static
 * program) and execchain-musl when musl-gcc exists (CMakeLists.txt, "launch fixtures"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

extern char **environ;
static char bin[PATH_MAX];                 /* the directory of the fixtures */

static const char *ename(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT"; case EACCES: return "EACCES"; case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF"; case EFAULT: return "EFAULT"; case ENOTDIR: return "ENOTDIR";
    case E2BIG: return "E2BIG"; case ELOOP: return "ELOOP"; case EINVAL: return "EINVAL";
    case 0: return "none";
    default: return "other";
    }
}

static void path(char *out, const char *name)
{
    size_t b = strlen(bin), n = strlen(name);
    if (b + 1 + n >= PATH_MAX) { fprintf(stderr, "execchain: path too long\n"); exit(2); }
    memcpy(out, bin, b);
    out[b] = '/';
    memcpy(out + b + 1, name, n + 1);
}

static void write_file(const char *name, const char *text, size_t len, mode_t mode)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) { perror(name); exit(2); }
    fchmod(fd, mode);
    close(fd);
}

static long raw_execveat(int dfd, const char *p, char *const *argv, char *const *envp, int flags)
{
    return syscall(SYS_execveat, dfd, p, argv, envp, flags);
}

/* runs fn in a child and prints how it ended */
static void run_case(const char *name, void (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        dprintf(1, "case %s: exec failed: %s\n", name, ename(errno));
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st)) printf("case %s: exit=%d\n", name, WEXITSTATUS(st));
    else printf("case %s: signal=%d\n", name, WTERMSIG(st));
    fflush(stdout);
}

static void c_dyn(void) { char p[PATH_MAX]; path(p, "leaf-dyn"); execv(p, (char *[]){"leaf-dyn", "a1", NULL}); }
static void c_static(void) { char p[PATH_MAX]; path(p, "leaf-static"); execv(p, (char *[]){"leaf-static", "a2", NULL}); }
static void c_musl(void) { char p[PATH_MAX]; path(p, "leaf-musl"); execv(p, (char *[]){"leaf-musl", "a3", NULL}); }
static void c_musl_static(void) { char p[PATH_MAX]; path(p, "leaf-musl-static"); execv(p, (char *[]){"leaf-musl-static", "a4", NULL}); }
static void c_chain(void)
{
    char d[PATH_MAX], s[PATH_MAX];
    path(d, "leaf-dyn");
    path(s, "leaf-static");
    execv(d, (char *[]){d, "exec", s, "exec", d, "end", NULL});
}
static void c_sh(void) { execv("./script-sh", (char *[]){"./script-sh", "x", NULL}); }
static void c_script_leaf(void) { execv("./script-leaf", (char *[]){"./script-leaf", "y", NULL}); }
static void c_execveat_opath(void)
{
    char p[PATH_MAX];
    path(p, "leaf-dyn");
    int fd = open(p, O_PATH | O_CLOEXEC);
    raw_execveat(fd, "", (char *[]){"leaf-dyn", "opath", NULL}, environ, AT_EMPTY_PATH);
}
static void c_fexecve(void)
{
    char p[PATH_MAX];
    path(p, "leaf-static");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    fexecve(fd, (char *[]){"leaf-static", "fexecve", NULL}, environ);
}
static void c_execveat_script(void)
{
    int fd = open("./script-leaf", O_RDONLY);   /* no O_CLOEXEC: the interpreter opens /dev/fd/N */
    raw_execveat(fd, "", (char *[]){"script-leaf", "z", NULL}, environ, AT_EMPTY_PATH);
}
static void c_execveat_dirfd(void)
{
    int dfd = open(bin, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    raw_execveat(dfd, "leaf-static", (char *[]){"leaf-static", "dirfd", NULL}, environ, 0);
}
static void c_spawn(void)
{
    char p[PATH_MAX];
    path(p, "leaf-static");
    pid_t pid;
    int r = posix_spawn(&pid, p, NULL, NULL, (char *[]){"leaf-static", "spawned", NULL}, environ);
    int st = 0;
    if (r == 0) waitpid(pid, &st, 0);
    _exit(r ? 100 : WIFEXITED(st) ? WEXITSTATUS(st) : 101);
}

static void fail(const char *name, long r)
{
    int e = errno;
    printf("fail %s: ret=%ld errno=%s\n", name, r, ename(r == -1 ? e : 0));
}

int main(void)
{
    ssize_t n = readlink("/proc/self/exe", bin, sizeof bin - 1);
    bin[n < 0 ? 0 : n] = 0;
    char *slash = strrchr(bin, '/');
    if (slash) *slash = 0;
    char text[PATH_MAX + 128], p[PATH_MAX];

    path(p, "leaf-dyn");
    int len = snprintf(text, sizeof text, "#!/bin/sh\necho \"sh: $0 $*\"\nexec %s from-sh\n", p);
    write_file("script-sh", text, (size_t)len, 0755);
    path(p, "leaf-static");
    len = snprintf(text, sizeof text, "#!%s interp-arg\n", p);
    write_file("script-leaf", text, (size_t)len, 0755);
    write_file("script-noint", "#!/nonexistent/interpreter\n", 27, 0755);
    write_file("not-executable", "#!/bin/sh\nexit 0\n", 17, 0644);
    write_file("garbage", "garbage\n\001\002\003\n", 12, 0755);

    run_case("dyn", c_dyn);
    run_case("static", c_static);
    path(p, "leaf-musl");
    if (access(p, X_OK) == 0) run_case("musl", c_musl);
    else printf("case musl: skipped (no musl-gcc)\n");
    path(p, "leaf-musl-static");
    if (access(p, X_OK) == 0) run_case("musl-static", c_musl_static);
    else printf("case musl-static: skipped (no musl-gcc)\n");
    run_case("chain", c_chain);
    run_case("sh-script", c_sh);
    run_case("leaf-script", c_script_leaf);
    run_case("execveat-opath", c_execveat_opath);
    run_case("fexecve", c_fexecve);
    run_case("execveat-script", c_execveat_script);
    run_case("execveat-dirfd", c_execveat_dirfd);
    run_case("posix-spawn", c_spawn);

    /* failures, in this process: each returns its error and we carry on */
    errno = 0;
    fail("enoent", execv("./does-not-exist", (char *[]){"x", NULL}));
    fail("eacces-mode", execv("./not-executable", (char *[]){"x", NULL}));
    fail("eacces-dir", execv(".", (char *[]){"x", NULL}));
    fail("enoexec", execv("./garbage", (char *[]){"x", NULL}));
    fail("enoent-interp", execv("./script-noint", (char *[]){"x", NULL}));
    fail("ebadf", raw_execveat(-1, "", (char *[]){"x", NULL}, environ, AT_EMPTY_PATH));
    fail("efault", syscall(SYS_execve, (char *)1, (char *[]){"x", NULL}, environ));
    long first = syscall(SYS_getppid), same = 1;
    for (int i = 1; i < 5; i++) same += syscall(SYS_getppid) == first;
    printf("after failures: getppid %ld/5\n", same);
    return 0;
}
