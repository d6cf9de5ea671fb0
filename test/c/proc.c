/* Process-model checks, one per subcommand. Each prints "ok ..." on success and exits 0,
 * or prints what went wrong and exits 1. No sleeps: threads synchronise with barriers,
 * futex-free spin flags and joins.
 *
 *   race N M        N threads released together call ONE fresh site M times each
 *   racepage N      N threads each call their own fresh site on one page, together
 *   rawclone        clone(CLONE_VM|CLONE_THREAD|...) on a caller stack, no TLS
 *   fork            fork; the child makes calls and starts a thread; parent waits
 *   vfork           vfork; the parent's locals and registers survive the child
 *   eintr           blocking read interrupted by a handler without SA_RESTART
 *   restart         the same with SA_RESTART: the read completes, no EINTR
 *   sigstate        a signal delivered inside an intercepted call: registers intact
 *   nested          a handler interrupted by another signal; both make calls
 *   altstack        SA_ONSTACK handler on the program's sigaltstack
 *   mask            sigprocmask(all) reads back what was set; calls still work
 *   signalfd        a blocked signal read through signalfd
 *   spawn           posix_spawn, system() and popen() children (vfork-style clones)
 *   spawnleak N     N posix_spawn children: prints "ok <maps-before> <maps-after>"
 *   longjmp N       siglongjmp out of a SIGSEGV handler N times, then calls
 *   exitrace        exit_group from a thread while others block in read
 *   forkbusy N      fork N times while 4 threads trap on fresh sites
 *   storm N         8 threads x N rounds of fork+exec, signals and calls
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const char *self_exe;

#define FAIL(...) do { printf(__VA_ARGS__); printf("\n"); exit(1); } while (0)

static long raw1(long nr, long a)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a) : "rcx", "r11", "memory");
    return r;
}

/* fresh syscall sites made at run time: "mov $110,%eax; syscall; ret" each */
static unsigned char *make_sites(int n, int spacing)
{
    size_t len = ((size_t)n * (size_t)spacing + 4095) & ~4095ul;
    unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static const unsigned char code[] = { 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    for (int i = 0; i < n; i++) memcpy(p + (size_t)i * (size_t)spacing, code, sizeof code);
    mprotect(p, len, PROT_READ | PROT_EXEC);
    return p;
}

/* ---------------------------------------------------------------- rewrite races */
static pthread_barrier_t bar;
static long (*shared_site)(void);
static int iters;
static atomic_long bad;

static void *race_body(void *a)
{
    long want = (long)a;
    pthread_barrier_wait(&bar);
    for (int i = 0; i < iters; i++) if (shared_site() != want) atomic_fetch_add(&bad, 1);
    return 0;
}

static int cmd_race(int n, int m)
{
    unsigned char *p = make_sites(1, 16);
    shared_site = (long (*)(void))p;
    iters = m;
    pthread_t t[64];
    pthread_barrier_init(&bar, 0, (unsigned)n);
    for (int i = 0; i < n; i++) pthread_create(&t[i], 0, race_body, (void *)(long)getppid());
    for (int i = 0; i < n; i++) pthread_join(t[i], 0);
    if (bad) FAIL("%ld wrong results", (long)bad);
    printf("ok %d\n", n * m);
    return 0;
}

static unsigned char *page_sites;
static void *racepage_body(void *a)
{
    long i = (long)a;
    long (*f)(void) = (long (*)(void))(page_sites + i * 64);
    pthread_barrier_wait(&bar);
    for (int k = 0; k < 1000; k++) if (f() != getppid()) atomic_fetch_add(&bad, 1);
    return 0;
}

static int cmd_racepage(int n)
{
    page_sites = make_sites(n, 64);
    pthread_t t[64];
    pthread_barrier_init(&bar, 0, (unsigned)n);
    for (long i = 0; i < n; i++) pthread_create(&t[i], 0, racepage_body, (void *)i);
    for (int i = 0; i < n; i++) pthread_join(t[i], 0);
    if (bad) FAIL("%ld wrong results", (long)bad);
    printf("ok %d\n", n * 1000);
    return 0;
}

/* ---------------------------------------------------------------- raw clone */
static volatile int child_done;
static volatile long child_pid_seen;

static int rawclone_child(void *arg)
{
    (void)arg;
    /* no TLS of ours here: only raw calls */
    child_pid_seen = raw1(SYS_getppid, 0);
    for (int i = 0; i < 100; i++) raw1(SYS_getppid, 0);
    child_done = 1;
    raw1(SYS_exit, 0);
    return 0;
}

static int cmd_rawclone(void)
{
    size_t sz = 256 * 1024;
    char *stk = mmap(0, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(rawclone_child, stk + sz, flags, 0) < 0) FAIL("clone: %s", strerror(errno));
    while (!child_done) sched_yield();
    if (child_pid_seen != getppid()) FAIL("child saw ppid %ld", child_pid_seen);
    printf("ok\n");
    return 0;
}

/* ---------------------------------------------------------------- fork */
static void *fork_thread(void *a) { (void)a; for (int i = 0; i < 50; i++) getppid(); return (void *)(long)getppid(); }

static int cmd_fork(void)
{
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < 50; i++) getppid();
        pthread_t t;
        void *r;
        pthread_create(&t, 0, fork_thread, 0);
        pthread_join(t, &r);
        _exit((long)r == (long)getppid() ? 0 : 3);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st)) FAIL("child status %x", st);
    printf("ok\n");
    return 0;
}

/* ---------------------------------------------------------------- vfork */
static int cmd_vfork(void)
{
    volatile long a = 11, b = 22;
    long r12v;
    for (int i = 0; i < 20; i++) {
        __asm__ volatile("mov $0x1212121212, %%r12" : : : "r12");
        pid_t p = vfork();
        if (p == 0) {
            getppid();
            _exit(0);
        }
        __asm__ volatile("mov %%r12, %0" : "=r"(r12v));
        if (r12v != 0x1212121212) FAIL("r12 changed: %lx", r12v);
        int st;
        waitpid(p, &st, 0);
        if (st) FAIL("vfork child status %x", st);
        if (a != 11 || b != 22) FAIL("locals changed");
    }
    printf("ok\n");
    return 0;
}

/* ---------------------------------------------------------------- signals */
static atomic_int handled, main_done;
static pid_t main_tid;
static void on_usr1(int s) { (void)s; getppid(); atomic_fetch_add(&handled, 1); }

static void *kicker(void *a)
{
    long restart = (long)a;
    int wfd = restart >> 8;
    restart &= 0xff;
    while (!atomic_load(&main_done)) {
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        if (restart && atomic_load(&handled) >= 20) { if (write(wfd, "x", 1) != 1) break; return 0; }
        sched_yield();
    }
    return 0;
}

static int cmd_eintr(int restart)
{
    int pfd[2];
    if (pipe(pfd)) FAIL("pipe");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, 0);
    main_tid = (pid_t)syscall(SYS_gettid);
    pthread_t t;
    pthread_create(&t, 0, kicker, (void *)(long)(restart | (pfd[1] << 8)));
    char c;
    ssize_t r;
    if (restart) {
        r = read(pfd[0], &c, 1);
        if (r != 1) FAIL("read returned %zd (%s) with SA_RESTART", r, strerror(errno));
    } else {
        do r = read(pfd[0], &c, 1); while (0);
        if (r != -1 || errno != EINTR) FAIL("read returned %zd errno %d, expected EINTR", r, errno);
    }
    atomic_store(&main_done, 1);
    pthread_join(t, 0);
    printf("ok %s\n", restart ? "restarted" : "EINTR");
    return 0;
}

static volatile uint64_t sig_rbx, sig_r12;
static void on_usr2(int s) { (void)s; getppid(); getpid(); }

static int cmd_sigstate(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, 0);
    long tid = syscall(SYS_gettid), pid = getpid();
    for (int i = 0; i < 200; i++) {
        uint64_t rbx, r12, fl;
        long r;
        /* tgkill to ourselves: the signal is delivered while the call returns through
         * trapline's code; registers and flags must come back intact */
        __asm__ volatile(
            "mov $0x5555aaaa5555aaaa, %%rbx\n\t mov $0x1234123412341234, %%r12\n\t"
            "stc\n\t syscall\n\t pushfq\n\t pop %3\n\t mov %%rbx, %1\n\t mov %%r12, %2"
            : "=a"(r), "=r"(rbx), "=r"(r12), "=r"(fl)
            : "0"((long)SYS_tgkill), "D"(pid), "S"(tid), "d"((long)SIGUSR2)
            : "rbx", "r12", "rcx", "r11", "memory", "cc");
        if (r != 0 || rbx != 0x5555aaaa5555aaaaull || r12 != 0x1234123412341234ull || !(fl & 1))
            FAIL("round %d: r=%ld rbx=%lx r12=%lx flags=%lx", i, r, rbx, r12, fl);
    }
    printf("ok\n");
    return 0;
}

static atomic_int inner;
static void on_inner(int s) { (void)s; getppid(); atomic_fetch_add(&inner, 1); }
static void on_outer(int s)
{
    (void)s;
    getppid();
    raise(SIGUSR2);          /* nested: delivered inside this handler */
    getppid();
}

static int cmd_nested(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_inner;
    sigaction(SIGUSR2, &sa, 0);
    sa.sa_handler = on_outer;
    sigaction(SIGUSR1, &sa, 0);
    for (int i = 0; i < 100; i++) raise(SIGUSR1);
    if (inner != 100) FAIL("inner handler ran %d times", (int)inner);
    printf("ok\n");
    return 0;
}

static char *alt_base;
static volatile int on_alt;
static void on_alt_handler(int s)
{
    char here;
    (void)s;
    on_alt = &here >= alt_base && &here < alt_base + 65536;
    getppid();
}

static int cmd_altstack(void)
{
    alt_base = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = { alt_base, 0, 65536 }, old;
    if (sigaltstack(&ss, 0)) FAIL("sigaltstack");
    if (sigaltstack(0, &old) || old.ss_sp != alt_base || old.ss_size != 65536 || old.ss_flags) FAIL("sigaltstack reads back %p %zu %d", old.ss_sp, old.ss_size, old.ss_flags);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alt_handler;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    if (!on_alt) FAIL("handler did not run on the program's alternate stack");
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, 0);
    sigaltstack(0, &old);
    if (!(old.ss_flags & SS_DISABLE)) FAIL("disable not read back");
    printf("ok\n");
    return 0;
}

static int cmd_mask(void)
{
    sigset_t all, back;
    sigfillset(&all);
    if (sigprocmask(SIG_SETMASK, &all, 0)) FAIL("sigprocmask");
    sigprocmask(SIG_SETMASK, 0, &back);
    for (int s = 1; s < 65; s++) {
        if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33) continue;   /* glibc keeps 32, 33 */
        if (!sigismember(&back, s)) FAIL("signal %d not read back as blocked", s);
    }
    /* trapped calls on fresh sites still work while "everything" is blocked */
    unsigned char *p = make_sites(4, 16);
    for (int i = 0; i < 4; i++) if (((long (*)(void))(p + 16 * i))() != getppid()) FAIL("call failed");
    sigemptyset(&all);
    sigaddset(&all, SIGSYS);
    sigprocmask(SIG_SETMASK, &all, 0);
    sigprocmask(SIG_SETMASK, 0, &back);
    if (!sigismember(&back, SIGSYS) || sigismember(&back, SIGUSR1)) FAIL("SIGSYS-only mask not read back");
    printf("ok\n");
    return 0;
}

static int cmd_signalfd(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, 0);
    int fd = signalfd(-1, &m, 0);
    if (fd < 0) FAIL("signalfd: %s", strerror(errno));
    raise(SIGUSR1);
    struct signalfd_siginfo si;
    if (read(fd, &si, sizeof si) != (ssize_t)sizeof si || si.ssi_signo != SIGUSR1) FAIL("signalfd read");
    printf("ok\n");
    return 0;
}

extern char **environ;
static int map_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    if (!f) return -1;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static int cmd_spawnleak(long n)
{
    char *argv[] = { (char *)self_exe, "child", 0 };
    int before = map_count();
    for (long i = 0; i < n; i++) {
        pid_t p;
        int st;
        if (posix_spawn(&p, self_exe, 0, 0, argv, environ)) FAIL("posix_spawn");
        if (waitpid(p, &st, 0) != p || st) FAIL("spawned child status %x", st);
    }
    printf("ok %d %d\n", before, map_count());
    return 0;
}

static int cmd_spawn(void)
{
    volatile long canary = 0x600dcafe;
    char *argv[] = { (char *)self_exe, "child", 0 };
    pid_t p;
    if (posix_spawn(&p, self_exe, 0, 0, argv, environ)) FAIL("posix_spawn");
    int st;
    waitpid(p, &st, 0);
    if (st) FAIL("spawned child status %x", st);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s child", self_exe);
    if (system(cmd)) FAIL("system");
    FILE *f = popen(cmd, "r");
    if (!f || pclose(f)) FAIL("popen");
    if (canary != 0x600dcafe) FAIL("parent stack changed");
    printf("ok\n");
    return 0;
}

static sigjmp_buf jb;
static void on_segv(int s) { (void)s; siglongjmp(jb, 1); }

static int cmd_longjmp(int n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, 0);
    volatile int count = 0;
    for (volatile int i = 0; i < n; i++) {
        if (sigsetjmp(jb, 1) == 0) {
            getppid();
            volatile int *bad_ptr = (volatile int *)(uintptr_t)atoi("8");
            *bad_ptr = 1;                /* fault */
            FAIL("no fault");
        }
        count++;
    }
    unsigned char *p = make_sites(8, 16);
    for (int i = 0; i < 8; i++) if (((long (*)(void))(p + 16 * i))() != getppid()) FAIL("call after longjmp failed");
    printf("ok %d\n", (int)count);
    return 0;
}

static int rfd;
static void *block_read(void *a) { char c; (void)a; if (read(rfd, &c, 1) < 0) return 0; return 0; }
static void *exiter(void *a) { (void)a; syscall(SYS_exit_group, 3); return 0; }

static int cmd_exitrace(void)
{
    int pfd[2];
    if (pipe(pfd)) FAIL("pipe");
    rfd = pfd[0];
    pthread_t t;
    for (int i = 0; i < 6; i++) pthread_create(&t, 0, block_read, 0);
    pthread_create(&t, 0, exiter, 0);
    for (;;) getppid();
}

static atomic_int stop_busy;
static void *busy(void *a)
{
    (void)a;
    while (!atomic_load(&stop_busy)) {
        unsigned char *p = make_sites(16, 16);
        for (int i = 0; i < 16; i++) ((long (*)(void))(p + 16 * i))();
        munmap(p, 4096);
    }
    return 0;
}

static int cmd_forkbusy(int n)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, busy, 0);
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            /* a fresh site in the child: takes the rewrite path (and its lock) */
            unsigned char *s = make_sites(1, 16);
            _exit(((long (*)(void))s)() == getppid() ? 0 : 4);
        }
        int st;
        waitpid(p, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) FAIL("child %d status %x", i, st);
    }
    atomic_store(&stop_busy, 1);
    for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
    printf("ok %d\n", n);
    return 0;
}

static int storm_rounds;
static void *storm_body(void *a)
{
    (void)a;
    for (int i = 0; i < storm_rounds; i++) {
        pid_t p = fork();
        if (p == 0) {
            execl(self_exe, self_exe, "child", (char *)0);
            _exit(126);
        }
        raise(SIGUSR1);
        for (int k = 0; k < 20; k++) getppid();
        int st;
        waitpid(p, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { printf("storm child status %x\n", st); exit(1); }
    }
    return 0;
}

static int cmd_storm(int n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, 0);
    storm_rounds = n;
    pthread_t t[8];
    for (int i = 0; i < 8; i++) pthread_create(&t[i], 0, storm_body, 0);
    for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
    if (handled != 8 * n) FAIL("handled %d signals", (int)handled);
    printf("ok %d\n", 8 * n);
    return 0;
}

int main(int argc, char **argv)
{
    self_exe = "/proc/self/exe";
    static char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) { exe[k] = 0; self_exe = exe; }
    if (argc < 2) return 2;
    const char *c = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 8, m = argc > 3 ? atoi(argv[3]) : 1000;
    if (!strcmp(c, "child")) { for (int i = 0; i < 10; i++) getppid(); return 0; }
    if (!strcmp(c, "race")) return cmd_race(n, m);
    if (!strcmp(c, "racepage")) return cmd_racepage(n);
    if (!strcmp(c, "rawclone")) return cmd_rawclone();
    if (!strcmp(c, "fork")) return cmd_fork();
    if (!strcmp(c, "vfork")) return cmd_vfork();
    if (!strcmp(c, "eintr")) return cmd_eintr(0);
    if (!strcmp(c, "restart")) return cmd_eintr(1);
    if (!strcmp(c, "sigstate")) return cmd_sigstate();
    if (!strcmp(c, "nested")) return cmd_nested();
    if (!strcmp(c, "altstack")) return cmd_altstack();
    if (!strcmp(c, "mask")) return cmd_mask();
    if (!strcmp(c, "longjmp")) return cmd_longjmp(n);
    if (!strcmp(c, "signalfd")) return cmd_signalfd();
    if (!strcmp(c, "spawn")) return cmd_spawn();
    if (!strcmp(c, "spawnleak")) return cmd_spawnleak(argc > 2 ? atol(argv[2]) : 100);
    if (!strcmp(c, "exitrace")) return cmd_exitrace();
    if (!strcmp(c, "forkbusy")) return cmd_forkbusy(n);
    if (!strcmp(c, "storm")) return cmd_storm(n);
    return 2;
}
