/* membarrier as the program sees it (issue 15: trapline registers for
 * PRIVATE_EXPEDITED_SYNC_CORE itself, before the first thread, and must not show it).
 * Prints one line per query; test/membarrier.test.ts compares the transcript with the
 * uninterposed run's. Phases (argv[1]):
 *   (none)     unregistered: query, registrations, the expedited commands (EPERM), bad
 *              flags; then with a second thread and a fresh syscall site executed (a
 *              rewrite with threads running); a forked child (also with a thread); the
 *              program's own SYNC_CORE registration, then a forked child; the same
 *              queries by int $0x80; then exec of "after-exec"
 *   after-exec the registration gone with exec; a thread; the plain PRIVATE_EXPEDITED
 *              registration (SYNC_CORE still EPERM); exec of "rseq"
 *   rseq       a thread; the RSEQ registration (it shows PRIVATE_EXPEDITED too) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define QUERY 0
#define PRIVATE_EXPEDITED 8
#define REGISTER_PRIVATE_EXPEDITED 16
#define PRIVATE_EXPEDITED_SYNC_CORE 32
#define REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define REGISTER_PRIVATE_EXPEDITED_RSEQ 256
#define GET_REGISTRATIONS 512

static long mb(int cmd, unsigned flags)
{
    long r = syscall(SYS_membarrier, cmd, flags, 0);
    return r < 0 ? -errno : r;
}

/* the same by int $0x80 (i386 membarrier = 375) */
static long mb80(int cmd)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(375L), "b"((long)cmd), "c"(0L), "d"(0L) : "memory");
    return (int)r;
}

static void state(const char *where)
{
    printf("%s: registrations=%ld sync_core=%ld private_expedited=%ld\n", where, mb(GET_REGISTRATIONS, 0),
           mb(PRIVATE_EXPEDITED_SYNC_CORE, 0), mb(PRIVATE_EXPEDITED, 0));
}

/* fresh syscall sites (getppid), one per use: the first execution of each traps and is
 * rewritten, with a second thread running when the test wants one */
#define FRESH(n)                                                                                           \
    static __attribute__((noinline)) long fresh##n(void)                                                  \
    {                                                                                                      \
        long r;                                                                                            \
        __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");           \
        return r;                                                                                          \
    }
FRESH(0)
FRESH(1)
FRESH(2)
FRESH(3)

static int hold[2]; /* the second thread waits here until the process execs or exits */
static void *waiter(void *a)
{
    (void)a;
    char c;
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
    }
    return 0;
}

static void second_thread(void)
{
    pthread_t t;
    if (pipe(hold) || pthread_create(&t, 0, waiter, 0)) {
        printf("cannot create a thread\n");
        _exit(1);
    }
}

static void child(const char *where, int with_thread)
{
    pid_t p = fork();
    if (p == 0) {
        state(where);
        if (with_thread) {
            second_thread();
            fresh3();
            char w[64];
            snprintf(w, sizeof w, "%s, threaded", where);
            state(w);
        }
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("%s: status=0x%x\n", where, st);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0); /* one transcript across fork and exec */
    const char *phase = argc > 1 ? argv[1] : "";
    if (!strcmp(phase, "after-exec")) {
        state("after exec");
        second_thread();
        fresh0();
        state("after exec, threaded");
        printf("register private_expedited=%ld\n", mb(REGISTER_PRIVATE_EXPEDITED, 0));
        state("after exec, registered private_expedited");
        execl("/proc/self/exe", argv[0], "rseq", (char *)0);
        printf("exec failed: %s\n", strerror(errno));
        return 1;
    }
    if (!strcmp(phase, "rseq")) {
        second_thread();
        fresh0();
        state("rseq phase, threaded");
        long r = mb(REGISTER_PRIVATE_EXPEDITED_RSEQ, 0);
        printf("register rseq=%ld\n", r);
        state("rseq phase, registered rseq");
        return 0;
    }
    printf("query=0x%lx\n", mb(QUERY, 0));
    state("start");
    printf("bad flags: registrations=%ld sync_core=%ld register_sync_core=%ld\n", mb(GET_REGISTRATIONS, 1),
           mb(PRIVATE_EXPEDITED_SYNC_CORE, 1), mb(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 2));
    second_thread();
    fresh0();
    state("threaded");
    printf("int80: registrations=%ld sync_core=%ld\n", mb80(GET_REGISTRATIONS), mb80(PRIVATE_EXPEDITED_SYNC_CORE));
    fresh1();
    child("fork child", 1);
    printf("register sync_core=%ld\n", mb(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0));
    state("registered sync_core");
    printf("int80: registrations=%ld sync_core=%ld\n", mb80(GET_REGISTRATIONS), mb80(PRIVATE_EXPEDITED_SYNC_CORE));
    fresh2();
    child("fork child of a registered parent", 0);
    execl("/proc/self/exe", argv[0], "after-exec", (char *)0);
    printf("exec failed: %s\n", strerror(errno));
    return 1;
}
