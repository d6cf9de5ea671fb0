/* Not a hook: the plugin test/c/polcaller.c dlopen()s. Unlike test/hooks/polplugin.c it
 * makes its calls through libc (socket, fopen, connect), so every syscall instruction is
 * libc's: a rule scoped to this library selects them by their caller (docs/policies.md,
 * Scope). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The calls main makes too, reported as "WHO CALL: ok|ERRNO" (test/c/polcaller.c). */
int polcaller_calls(const char *who, const char *path, const char *(*ename)(int))
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("%s socket: %s\n", who, s >= 0 ? "ok" : ename(errno));
    FILE *f = fopen(path, "r"); /* openat, several frames deep in libc */
    printf("%s fopen: %s\n", who, f ? "ok" : ename(errno));
    if (f) fclose(f);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, "/nonexistent/polcaller.sock");
    int r = connect(s, (struct sockaddr *)&a, sizeof a); /* a cancellation point: another wrapper */
    printf("%s connect: %s\n", who, r == 0 ? "ok" : ename(errno));
    if (s >= 0) close(s);
    fflush(stdout);
    return 0;
}

static void *thread_main(void *arg) { return arg; }

/* A thread: glibc's pthread_create makes clone3 at a site its CFI does not cover (the
 * caller cannot be found: the call is checked against libc, and counted). */
int polcaller_thread(const char *who)
{
    pthread_t t;
    int r = pthread_create(&t, 0, thread_main, 0);
    if (!r) pthread_join(t, 0);
    printf("%s thread: %s\n", who, r ? "failed" : "ok");
    fflush(stdout);
    return r;
}
