/* rawthreads: a static program whose threads are made the way Go's runtime makes them,
 * with a signal storm like Go's preemption, then fork and exec into a dynamic program
 * and back into a static one.
 *
 *   rawthreads          the whole run (below)
 *   rawthreads leaf     one raw thread, 3 + 3 signals, then exit (the end of the exec chain)
 *
 * 1. NT threads by the raw clone system call (inline assembly, not the libc's clone or
 *    pthread_create), each on a stack of its own from mmap; the child's first act is
 *    arch_prctl(ARCH_SET_FS) to a TLS block of its own (as Go's settls), then a
 *    sigaltstack of its own (as Go's minit), then an unblocked mask. Thread code uses raw
 *    system calls only (no libc, no errno).
 * 2. SIGURG (Go's preemption signal) by tgkill to the main thread 10 times and to each
 *    thread PHASE_A + PHASE_B times, with SA_ONSTACK|SA_SIGINFO|SA_RESTART: every handler
 *    checks it runs on its own thread's alternate stack and makes one system call. Phase A:
 *    the thread takes them in rt_sigsuspend (one each); phase B: unblocked, they arrive
 *    while it makes WORK getppid calls or spins. The sender waits for each delivery by
 *    spinning (no futex), one thread at a time, so the counts are exact: every run makes
 *    the same system calls, in number and kind.
 * 3. Each thread then checks that sigaltstack and ARCH_GET_FS still answer its own values
 *    and exits with the raw exit call; the main thread sees its tid cleared
 *    (CLONE_CHILD_CLEARTID) by spinning.
 * 4. fork; the child execs build/test/launch/leaf-dyn, which execs this program again
 *    as `rawthreads leaf` (static -> dynamic -> static); the parent waits and prints the
 *    child's status.
 * Output: deterministic lines; the last is `rawthreads: ok`.
 *
 * Built static: build/test/launch/rawthreads-static (glibc) and rawthreads-musl-static
 * when musl-gcc exists (CMakeLists.txt, "launch fixtures"). -fno-stack-protector. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NT 3
#define PHASE_A 20               /* signals taken in sigsuspend */
#define PHASE_B 20               /* signals taken while running (getppid calls, spinning) */
#define WORK 200
#define STACK (128 * 1024)
#define ALT (64 * 1024)

#define CLONE_FLAGS (0x100 /* VM */ | 0x200 /* FS */ | 0x400 /* FILES */ | 0x800 /* SIGHAND */ | \
                     0x10000 /* THREAD */ | 0x40000 /* SYSVSEM */ | 0x200000 /* CHILD_CLEARTID */ | \
                     0x100000 /* PARENT_SETTID */)
#define URG_BIT (1UL << (SIGURG - 1))

struct thr;
struct tls {                     /* what %fs points to in a raw thread */
    struct tls *self;            /* 0x00: the TCB's self pointer, as every x86-64 ABI has it */
    struct thr *thr;             /* 0x08 */
    uint64_t pad[3];
    uint64_t canary;             /* 0x28 */
    uint64_t ptrguard;           /* 0x30 */
};

struct thr {
    struct tls tls;
    volatile int tid;            /* set by the kernel (PARENT_SETTID), cleared at exit */
    int index;
    char *stack, *alt;
    volatile int ready, go_b, worked;
    int a, b;                    /* signals of each phase */
    volatile int sigs, bad_stack;
    long ppid_calls, ppid_ok;
    int fs_ok, alt_ok;
};

static struct thr thr[NT];
static volatile int stop;
static char main_alt[ALT];
static volatile int main_sigs, main_bad;
static long my_pid;

static inline long sys1(long n, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a) : "rcx", "r11", "memory");
    return r;
}
static inline long sys2(long n, long a, long b)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
    return r;
}
static inline long sys4(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}

/* clone(flags, stack, ptid, ctid, 0); the child pops fn and arg from its new stack, calls
 * fn(arg) and makes the raw exit call: it never returns into this frame */
static long raw_clone(long flags, char *stack_top, volatile int *ptid, volatile int *ctid, void (*fn)(struct thr *), struct thr *arg)
{
    void **sp = (void **)((uintptr_t)stack_top & ~(uintptr_t)15);
    *--sp = arg;
    *--sp = (void *)fn;
    long r;
    register long r10 __asm__("r10") = (long)ctid;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "pop %%rax\n\t"
        "pop %%rdi\n\t"
        "call *%%rax\n\t"
        "mov $60, %%eax\n\t"
        "xor %%edi, %%edi\n\t"
        "syscall\n\t"
        "ud2\n"
        "1:"
        : "=a"(r)
        : "0"((long)SYS_clone), "D"(flags), "S"(sp), "d"(ptid), "r"(r10), "r"(r8)
        : "rcx", "r11", "memory");
    return r;
}

static void on_urg(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    char here;
    struct tls *fs;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(fs));
    struct thr *t = NULL;
    for (int i = 0; i < NT; i++) if (fs == &thr[i].tls) t = &thr[i];
    char *lo = t ? t->alt : main_alt;
    int on_alt = &here >= lo && &here < lo + ALT;
    sys1(SYS_getpid, 0);                       /* one call per handler */
    if (t) { if (!on_alt) t->bad_stack++; __atomic_add_fetch(&t->sigs, 1, __ATOMIC_RELEASE); }
    else { if (!on_alt) main_bad++; __atomic_add_fetch(&main_sigs, 1, __ATOMIC_RELEASE); }
}

static void wait_for(volatile int *v, int want)
{
    while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want) __asm__ volatile("pause");
}

static void thread_main(struct thr *t)
{
    sys2(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, (long)&t->tls);
    stack_t ss = { .ss_sp = t->alt, .ss_size = ALT, .ss_flags = 0 };
    sys2(SYS_sigaltstack, (long)&ss, 0);
    uint64_t urg = URG_BIT, none = 0;
    sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&urg, 0, 8);
    __atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
    /* phase A: SIGURG is blocked but in sigsuspend, so each call takes exactly one */
    for (int k = 0; k < t->a; k++) sys2(SYS_rt_sigsuspend, (long)&none, 8);
    /* phase B: unblocked, arriving wherever the thread is: in a call, or spinning */
    wait_for(&t->go_b, 1);
    sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, 8);
    __atomic_store_n(&t->go_b, 2, __ATOMIC_RELEASE);
    long ppid = sys1(SYS_getppid, 0);
    t->ppid_calls = 1;
    t->ppid_ok = 1;
    for (int i = 1; i < WORK; i++) { t->ppid_ok += sys1(SYS_getppid, 0) == ppid; t->ppid_calls++; }
    wait_for(&t->sigs, t->a + t->b);
    sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&urg, 0, 8);
    stack_t old;
    sys2(SYS_sigaltstack, 0, (long)&old);
    t->alt_ok = old.ss_sp == t->alt && old.ss_size == ALT && old.ss_flags == 0;
    uint64_t fs = 0;
    sys2(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, (long)&fs);
    t->fs_ok = fs == (uint64_t)&t->tls;
    __atomic_store_n(&t->worked, 1, __ATOMIC_RELEASE);
}

static void start_threads(int n, int a, int b)
{
    uint64_t canary, guard;
    __asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
    __asm__ volatile("mov %%fs:0x30, %0" : "=r"(guard));
    for (int i = 0; i < n; i++) {
        struct thr *t = &thr[i];
        t->index = i;
        t->a = a;
        t->b = b;
        t->tls.self = &t->tls;
        t->tls.thr = t;
        t->tls.canary = canary;
        t->tls.ptrguard = guard;
        t->stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        t->alt = mmap(NULL, ALT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (t->stack == MAP_FAILED || t->alt == MAP_FAILED) { puts("rawthreads: mmap failed"); exit(1); }
        long r = raw_clone(CLONE_FLAGS, t->stack + STACK, &t->tid, &t->tid, thread_main, t);
        if (r < 0) { printf("rawthreads: clone failed %ld\n", r); exit(1); }
    }
    for (int i = 0; i < n; i++) wait_for(&thr[i].ready, 1);
}

/* the storm, one thread at a time (the others wait in sigsuspend, so no two threads spin
 * for one CPU): each signal is sent when the previous one was handled, so none merges
 * with another and every run takes the same number; then each thread exits and is joined */
static int storm_and_join(int n)
{
    for (int i = 0; i < n; i++) {
        struct thr *t = &thr[i];
        for (int k = 0; k < t->a + t->b; k++) {
            if (k == t->a) {
                __atomic_store_n(&t->go_b, 1, __ATOMIC_RELEASE);
                wait_for(&t->go_b, 2);
            }
            sys4(SYS_tgkill, my_pid, t->tid, SIGURG, 0);
            wait_for(&t->sigs, k + 1);
        }
        wait_for(&t->worked, 1);
        while (__atomic_load_n(&t->tid, __ATOMIC_ACQUIRE) != 0) __asm__ volatile("pause");
    }
    int ok = 1;
    for (int i = 0; i < n; i++) {
        struct thr *t = &thr[i];
        printf("thread %d: signals=%d off-altstack=%d getppid=%ld/%ld altstack-kept=%d fs-kept=%d\n",
               i, t->sigs, t->bad_stack, t->ppid_ok, t->ppid_calls, t->alt_ok, t->fs_ok);
        ok &= t->sigs == t->a + t->b && !t->bad_stack && t->ppid_ok == WORK && t->alt_ok && t->fs_ok;
        munmap(t->stack, STACK);
        munmap(t->alt, ALT);
    }
    return ok;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    my_pid = getpid();
    stack_t ss = { .ss_sp = main_alt, .ss_size = ALT, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_urg;
    sa.sa_flags = SA_ONSTACK | SA_SIGINFO | SA_RESTART;
    sigaction(SIGURG, &sa, NULL);
    sigset_t urg, old;
    sigemptyset(&urg);
    sigaddset(&urg, SIGURG);
    sigprocmask(SIG_BLOCK, &urg, &old);        /* threads start with it blocked */

    if (argc > 1 && !strcmp(argv[1], "leaf")) {
        start_threads(1, 3, 3);
        int ok = storm_and_join(1);
        printf("rawthreads leaf: %s\n", ok ? "ok" : "FAILED");
        return ok ? 0 : 1;
    }

    start_threads(NT, PHASE_A, PHASE_B);
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (int r = 0; r < 10; r++) {             /* the main thread too: taken before tgkill returns */
        sys4(SYS_tgkill, my_pid, my_pid, SIGURG, 0);
        wait_for(&main_sigs, r + 1);
    }
    int ok = storm_and_join(NT);
    printf("main: signals=%d off-altstack=%d\n", main_sigs, main_bad);
    ok &= main_sigs == 10 && !main_bad;

    char self[PATH_MAX], dir[PATH_MAX], leaf[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n < 0 ? 0 : n] = 0;
    strcpy(dir, self);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(leaf, sizeof leaf, "%s/leaf-dyn", dir);
    pid_t pid = fork();
    if (pid == 0) {
        printf("child: forked\n");
        execv(leaf, (char *[]){leaf, "exec", self, "leaf", NULL});
        printf("child: exec failed\n");
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("parent: child exit=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("rawthreads: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
