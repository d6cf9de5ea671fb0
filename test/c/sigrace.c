/* Signals against trapline's own code: storms, non-local exits, single-stepped delivery,
 * and SIGSYS the program sends itself.
 *   storm N               50 us interval timer whose handler makes calls, while the main
 *                         loop makes N calls; every result checked. "ok N"
 *   ljmp HOW N [alt] [nested]
 *                         N times: a signal delivered when a call returns (HOW = raise,
 *                         kill, pthread_kill, timer), its handler leaves by siglongjmp.
 *                         alt: handler on a sigaltstack; nested: the handler raises a
 *                         second signal whose handler leaves by siglongjmp out of both.
 *                         "ok N"
 *   step ROUNDS           fork a child and single-step it with ptrace; at every step
 *                         inside trapline's entry/exit/dispatch/hook code the child is
 *                         given a signal whose handler makes calls. "ok <steps-signalled>"
 *   sigsys CASE           SIGSYS sent to itself while blocked (CASE = kill, tgkill,
 *                         pthread_kill, sigqueue, ignore, default, twice); prints what
 *                         it observes (compared with the native run)
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>

#define FAIL(...) do { printf(__VA_ARGS__); printf("\n"); fflush(stdout); _exit(1); } while (0)

static long ppid_expect, pid_expect;

/* one fixed inline site: rewritten after its first call (lazy), trapping in sud-only */
static inline long site_getppid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
    return r;
}
static inline long site_getpid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getpid) : "rcx", "r11", "memory");
    return r;
}

/* ---------------------------------------------------------------- storm */
static volatile long storm_handled;
static void on_alarm(int s)
{
    (void)s;
    int e = errno;
    if (site_getpid() != pid_expect) FAIL("handler getpid");
    if (getppid() != ppid_expect) FAIL("handler getppid");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    storm_handled++;
    errno = e;
}

static int cmd_storm(long n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = { { 0, 50 }, { 0, 50 } };
    setitimer(ITIMER_REAL, &it, 0);
    for (long i = 0; i < n; i++) {
        long r = site_getppid();
        if (r != ppid_expect) FAIL("getppid %ld at %ld", r, i);
        if ((i & 1023) == 0 && getpid() != pid_expect) FAIL("getpid at %ld", i);
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, 0);
    printf("ok %ld\n", n);
    return 0;
}

/* ---------------------------------------------------------------- siglongjmp */
static sigjmp_buf jb;
static volatile int nested_mode;
static timer_t tmr;

static void on_inner(int s) { (void)s; getppid(); siglongjmp(jb, 2); }
static void on_ljmp(int s)
{
    (void)s;
    if (getppid() != ppid_expect) FAIL("handler getppid");
    if (nested_mode) raise(SIGUSR2);
    siglongjmp(jb, 1);
}

static void fire(const char *how)
{
    if (!strcmp(how, "raise")) raise(SIGUSR1);
    else if (!strcmp(how, "kill")) kill(getpid(), SIGUSR1);
    else if (!strcmp(how, "pthread_kill")) pthread_kill(pthread_self(), SIGUSR1);
    else if (!strcmp(how, "timer")) {
        /* a timer already expired: it fires on the way back from the call that armed it */
        struct itimerspec its = { { 0, 0 }, { 0, 1 } };
        timer_settime(tmr, 0, &its, 0);
        for (;;) site_getppid();   /* not reached in practice; a call per turn if it is */
    } else FAIL("bad how %s", how);
}

static int cmd_ljmp(const char *how, long n, int alt, int nested)
{
    nested_mode = nested;
    if (alt) {
        stack_t ss = { mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 0, 65536 };
        if (sigaltstack(&ss, 0)) FAIL("sigaltstack");
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_ljmp;
    sa.sa_flags = alt ? SA_ONSTACK : 0;
    sigaction(SIGUSR1, &sa, 0);
    sa.sa_handler = on_inner;
    sigaction(SIGUSR2, &sa, 0);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    if (timer_create(CLOCK_MONOTONIC, &sev, &tmr)) FAIL("timer_create");
    volatile long done = 0;
    for (long i = 0; i < n; i++) {
        int v = sigsetjmp(jb, 1);
        if (v == 0) { fire(how); FAIL("no signal at %ld", i); }
        if (v != (nested ? 2 : 1)) FAIL("wrong jump %d", v);
        done++;
        if (site_getppid() != ppid_expect) FAIL("getppid after %ld", i);
    }
    sigset_t cur;
    sigprocmask(SIG_BLOCK, 0, &cur);
    if (sigismember(&cur, SIGUSR1) || sigismember(&cur, SIGUSR2)) FAIL("mask not restored");
    printf("ok %ld\n", (long)done);
    return 0;
}

/* ---------------------------------------------------------------- single-step */
struct range { uint64_t lo, hi; };
static struct range ranges[16];
static int nranges;

/* trapline's entry/exit code and the C around it, from libtrapline.so's symbol table */
static void find_ranges(pid_t pid)
{
    char path[64], line[512], lib[400] = "";
    uint64_t base = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "r");
    if (!f) FAIL("maps");
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e, off;
        char perm[8], file[400] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %399s", &s, &e, perm, &off, file) < 4) continue;
        if ((strstr(file, "libtrapline.so") || strstr(file, "libtrapline-boot.so")) && off == 0 && !base) { base = s; strcpy(lib, file); }
    }
    fclose(f);
    if (!base) FAIL("libtrapline.so (or its boot image) not mapped in the child");
    int fd = open(lib, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) FAIL("open %s", lib);
    uint8_t *m = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)m;
    Elf64_Shdr *sh = (Elf64_Shdr *)(m + eh->e_shoff);
    static const char *want[] = { "tl_fast_entry", "tl_hook_call", "run_handler", "tl_sig_wrapper", 0 };
    uint64_t fast = 0, restorer = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB) continue;
        Elf64_Sym *sym = (Elf64_Sym *)(m + sh[i].sh_offset);
        const char *str = (const char *)(m + sh[sh[i].sh_link].sh_offset);
        for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++) {
            const char *nm = str + sym[k].st_name;
            if (!strcmp(nm, "tl_fast_entry")) fast = sym[k].st_value;
            if (!strcmp(nm, "tl_restorer")) restorer = sym[k].st_value;
            for (int w = 1; want[w]; w++)
                if (!strcmp(nm, want[w]) && sym[k].st_size && nranges < 15) {
                    ranges[nranges].lo = base + sym[k].st_value;
                    ranges[nranges].hi = base + sym[k].st_value + sym[k].st_size;
                    nranges++;
                }
        }
    }
    if (!fast || !restorer || restorer < fast) FAIL("no entry symbols in %s", lib);
    ranges[nranges].lo = base + fast;           /* fast path, slow entry, slow exit */
    ranges[nranges].hi = base + restorer + 16;  /* ... and the signal restorer */
    nranges++;
}

static int in_ranges(uint64_t ip)
{
    for (int i = 0; i < nranges; i++) if (ip >= ranges[i].lo && ip < ranges[i].hi) return 1;
    return 0;
}

static volatile long step_handled;
static void on_step(int s)
{
    (void)s;
    if (site_getpid() != pid_expect) FAIL("step handler getpid");
    if (getppid() != ppid_expect) FAIL("step handler getppid");
    step_handled++;
    __asm__ volatile("int3");  /* the mark: the tracer single-steps again from here */
}

static int cmd_step(long rounds)
{
    pid_t c = fork();
    if (c == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_step;
        sigaction(SIGUSR1, &sa, 0);
        ppid_expect = getppid();
        pid_expect = getpid();
        /* the sites are learned (rewritten in lazy mode) before the tracer steps */
        if (site_getppid() != ppid_expect || getpid() != pid_expect || syscall(SYS_kill, pid_expect, 0)) FAIL("warm-up");
        if (ptrace(PTRACE_TRACEME, 0, 0, 0)) FAIL("traceme");
        syscall(SYS_kill, pid_expect, SIGSTOP);
        for (long i = 0; i < rounds; i++) {
            if (site_getppid() != ppid_expect) FAIL("getppid round %ld", i);
            if (getpid() != pid_expect) FAIL("getpid round %ld", i);
        }
        __asm__ volatile("int3");       /* the end: the tracer lets go */
        if (step_handled == 0) FAIL("no signal was delivered");
        _exit(0);
    }
    int st;
    if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st)) FAIL("child did not stop");
    find_ranges(c);
    long signalled = 0;
    int sig = 0;
    uint64_t back_ip = 0, back_sp = 0;      /* where the last signal returns to */
    long since = 0, steps = 0;
    for (;;) {
        if (ptrace(PTRACE_SINGLESTEP, c, 0, sig)) FAIL("singlestep");
        steps++;
        if (getenv("STEP_DEBUG") && steps % 5000 == 0) fprintf(stderr, "steps %ld signalled %ld\n", steps, signalled);
        sig = 0;
        if (waitpid(c, &st, 0) != c) FAIL("waitpid");
        if (WIFEXITED(st)) { if (WEXITSTATUS(st)) FAIL("child exit %d", WEXITSTATUS(st)); break; }
        if (WIFSIGNALED(st)) FAIL("child killed by signal %d", WTERMSIG(st));
        int s = WSTOPSIG(st);
        if (s != SIGTRAP) { sig = s; continue; } /* SIGSYS of SUD, ...: passed on */
        siginfo_t si;
        if (ptrace(PTRACE_GETSIGINFO, c, 0, &si)) FAIL("getsiginfo");
        if (si.si_code == SI_KERNEL) {          /* the child's int3: done */
            if (ptrace(PTRACE_DETACH, c, 0, 0)) FAIL("detach");
            if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) FAIL("child status %x", st);
            break;
        }
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, c, 0, &regs)) FAIL("getregs");
        if (back_ip) {
            /* not again until the last handler has returned to where it interrupted */
            if ((regs.rip == back_ip && regs.rsp == back_sp) || regs.rsp > back_sp || ++since > 100000) back_ip = 0;
            continue;          /* (this instruction has had its signal) */
        }
        if (!in_ranges(regs.rip)) continue;
        uint64_t blk = 0;
        if (ptrace(PTRACE_GETSIGMASK, c, (void *)8, &blk)) FAIL("getsigmask");
        if (blk & (1ull << (SIGUSR1 - 1))) continue;    /* it could not land here */
        /* SIGUSR1, pending when the child resumes, is delivered at this instruction; the
         * handler runs at full speed up to its mark, then is stepped back to here. (Not
         * injected through PTRACE_CONT's data: at the first instruction of a handler that
         * stop is a notification, and the kernel drops the signal.) */
        signalled++;
        back_ip = regs.rip;
        back_sp = regs.rsp;
        since = 0;
        if (syscall(SYS_tgkill, c, c, SIGUSR1)) FAIL("tgkill");
        if (ptrace(PTRACE_CONT, c, 0, 0)) FAIL("cont");
        for (;;) {
            if (waitpid(c, &st, 0) != c) FAIL("waitpid 2");
            if (!WIFSTOPPED(st)) FAIL("child ended inside the handler (status %x)", st);
            if (WSTOPSIG(st) == SIGTRAP) break;  /* the handler's int3 mark (SIGTRAP dropped) */
            if (ptrace(PTRACE_CONT, c, 0, WSTOPSIG(st))) FAIL("cont 2");
        }
    }
    fprintf(stderr, "step: %ld signals delivered, %ld steps\n", signalled, steps);
    printf("ok %s\n", signalled > 50 ? "many" : "few");
    return 0;
}

/* ---------------------------------------------------------------- SIGSYS to itself */
static volatile int sys_seen, sys_code, sys_pid_ok, sys_val;
static void on_sys(int s, siginfo_t *si, void *uc)
{
    (void)s; (void)uc;
    sys_seen++;
    sys_code = si->si_code;
    sys_pid_ok = si->si_pid == getpid();
    sys_val = si->si_value.sival_int;
}

static void *nothing(void *a) { return a; }

static int cmd_sigsys(const char *c)
{
    sigset_t b, p;
    sigemptyset(&b);
    sigaddset(&b, SIGSYS);
    sigprocmask(SIG_BLOCK, &b, 0);
    if (!strcmp(c, "kill") || !strcmp(c, "ignore") || !strcmp(c, "default") || !strcmp(c, "twice")) kill(getpid(), SIGSYS);
    else if (!strcmp(c, "tgkill")) syscall(SYS_tgkill, getpid(), gettid(), SIGSYS);
    else if (!strcmp(c, "pthread_kill")) pthread_kill(pthread_self(), SIGSYS);
    else if (!strcmp(c, "sigqueue")) { union sigval v = { .sival_int = 1234 }; sigqueue(getpid(), SIGSYS, v); }
    else FAIL("bad case %s", c);
    if (!strcmp(c, "twice")) kill(getpid(), SIGSYS);
    /* some calls while it is pending: still interposed, not fatal */
    pthread_t th;
    pthread_create(&th, 0, nothing, 0);
    pthread_join(th, 0);
    sigpending(&p);
    printf("survived, pending %d\n", sigismember(&p, SIGSYS));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (!strcmp(c, "ignore")) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGSYS, &sa, 0);
        sigpending(&p);
        printf("after SIG_IGN pending %d\n", sigismember(&p, SIGSYS));
    }
    if (!strcmp(c, "default")) {
        fflush(stdout);
        sigprocmask(SIG_UNBLOCK, &b, 0);
        printf("not reached\n");
        return 0;
    }
    sa.sa_sigaction = on_sys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    sigprocmask(SIG_UNBLOCK, &b, 0);
    sigpending(&p);
    printf("handler ran %d code %d pid-ok %d value %d pending %d\n", sys_seen, sys_seen ? sys_code : 99,
           sys_pid_ok, sys_seen && sys_code == SI_QUEUE ? sys_val : 0, sigismember(&p, SIGSYS));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    ppid_expect = getppid();
    pid_expect = getpid();
    const char *c = argc > 1 ? argv[1] : "";
    long n = argc > 2 ? atol(argv[2]) : 0;
    if (!strcmp(c, "storm")) return cmd_storm(argc > 2 ? n : 300000);
    if (!strcmp(c, "ljmp")) {
        int alt = 0, nested = 0;
        for (int i = 4; i < argc; i++) { if (!strcmp(argv[i], "alt")) alt = 1; if (!strcmp(argv[i], "nested")) nested = 1; }
        return cmd_ljmp(argv[2], atol(argv[3]), alt, nested);
    }
    if (!strcmp(c, "step")) return cmd_step(argc > 2 ? n : 3);
    if (!strcmp(c, "sigsys")) return cmd_sigsys(argc > 2 ? argv[2] : "");
    fprintf(stderr, "usage: sigrace storm|ljmp|step|sigsys ...\n");
    return 2;
}
