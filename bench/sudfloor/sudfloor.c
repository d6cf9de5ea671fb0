/* libsudfloor.so, the "SUD floor" of `dd` and the real programs (bench/run.mjs): an
 * LD_PRELOAD library that switches Syscall User Dispatch on in the program's main
 * thread, in every thread it creates with pthread_create and in every child it forks,
 * and does nothing else. What it costs over native is what any interposer built on SUD
 * and LD_PRELOAD pays before doing any work: one more library loaded per exec, the
 * kernel's slow system call entry and exit (the syscall-work check), one prctl per
 * thread. All of user space is the exempt region, as trapline's own text is for the
 * calls it makes: the selector is never read and no call traps. The getppid loop's
 * equivalent is `getppid ITER sud-baseline`. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>

static volatile char selector; /* SYSCALL_DISPATCH_FILTER_ALLOW */

static void sud_on(void)
{
    /* PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, [0, 2^47 - 4096) exempt */
    prctl(59, 1, 0, 0x7ffffffff000UL, &selector);
}

__attribute__((constructor)) static void init(void)
{
    sud_on();
    pthread_atfork(0, 0, sud_on); /* SUD is not inherited by a forked child */
}

struct start {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_start(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    sud_on(); /* nor by a new thread */
    return s.fn(s.arg);
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real) real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(RTLD_NEXT, "pthread_create");
    struct start *s = malloc(sizeof *s);
    if (!s) return real(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int r = real(th, attr, thread_start, s);
    if (r) free(s);
    return r;
}
