/* Every call trapline performs or emulates itself, with valid, bad-pointer and bad-value
 * arguments: one line per case, "name = result", where result is the raw kernel return
 * (a value or -errno) followed by what the case observed afterwards. The transcript of a
 * run under trapline must equal the uninterposed one (test/emul.test.ts).
 *
 * No case touches page 0 (the NULL page is trapline's trampoline; its cases are elsewhere).
 * A "bad" pointer is a PROT_NONE page mapped for the purpose; a "ro" pointer a read-only page.
 *
 *   emul [GROUP]      run the table (or only the cases whose name starts with GROUP)
 *   emul threads      used by the exec-from-a-thread case: starts threads that make calls
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)
#endif
#include <asm/prctl.h>
#include <linux/sched.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char *bad, *ro, *rw;
static const char *only;
static const char *self_exe;

static long sc6(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define sc(...) sc_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define sc_(nr, a, b, c, d, e, f, ...) sc6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static int want(const char *name)
{
    return !only || strncmp(name, only, strlen(only)) == 0;
}

#define CASE(name, ...) do { if (want(name)) { printf("%s = ", name); __VA_ARGS__; printf("\n"); fflush(stdout); } } while (0)

/* ---------------------------------------------------------------- signals */
struct ksa { void *h; unsigned long flags; void *restorer; uint64_t mask; };
static void h1(int s) { (void)s; }

static void show_ksa(int sig)
{
    struct ksa o;
    memset(&o, 0, sizeof o);
    long r = sc(SYS_rt_sigaction, sig, 0, &o, 8);
    printf(" get=%ld h=%s flags=%#lx mask=%#llx", r, o.h == (void *)h1 ? "h1" : o.h == SIG_DFL ? "dfl" : o.h == SIG_IGN ? "ign" : "?",
           o.flags & ~0x04000000ul, (unsigned long long)o.mask);
}

static void signals(void)
{
    struct ksa a = { (void *)h1, 0x04000000 /* SA_RESTORER */ | SA_RESTART, 0, 1ull << (SIGUSR2 - 1) };
    struct ksa dfl = { SIG_DFL, 0, 0, 0 };
    int sigs[] = { SIGUSR1, SIGSYS, SIGSEGV };
    const char *names[] = { "usr1", "sys", "segv" };
    for (int i = 0; i < 3; i++) {
        int s = sigs[i];
        char n[64];
        snprintf(n, sizeof n, "sigaction.%s.set", names[i]);
        CASE(n, printf("%ld", sc(SYS_rt_sigaction, s, &a, 0, 8)); show_ksa(s));
        snprintf(n, sizeof n, "sigaction.%s.act-bad", names[i]);
        CASE(n, printf("%ld", sc(SYS_rt_sigaction, s, bad, 0, 8)); show_ksa(s));
        snprintf(n, sizeof n, "sigaction.%s.old-bad", names[i]);
        CASE(n, printf("%ld", sc(SYS_rt_sigaction, s, &dfl, bad, 8)); show_ksa(s));
        snprintf(n, sizeof n, "sigaction.%s.old-ro", names[i]);
        CASE(n, printf("%ld", sc(SYS_rt_sigaction, s, 0, ro, 8)); show_ksa(s));
        snprintf(n, sizeof n, "sigaction.%s.size4", names[i]);
        CASE(n, printf("%ld", sc(SYS_rt_sigaction, s, &a, 0, 4)); show_ksa(s));
        snprintf(n, sizeof n, "sigaction.%s.flags-unknown", names[i]);
        struct ksa u = a;
        u.flags |= 0x00000200;      /* not an SA_ flag */
        CASE(n, printf("%ld", sc(SYS_rt_sigaction, s, &u, 0, 8)); show_ksa(s));
        sc(SYS_rt_sigaction, s, &dfl, 0, 8);
    }
    CASE("sigaction.sig0", printf("%ld", sc(SYS_rt_sigaction, 0, &a, 0, 8)));
    CASE("sigaction.sig65", printf("%ld", sc(SYS_rt_sigaction, 65, 0, rw, 8)));
    CASE("sigaction.sig-upper", printf("%ld", sc(SYS_rt_sigaction, 0x100000000l | SIGUSR1, 0, rw, 8)));
    CASE("sigaction.kill.set", printf("%ld", sc(SYS_rt_sigaction, SIGKILL, &a, 0, 8)));
    CASE("sigaction.kill.get", printf("%ld", sc(SYS_rt_sigaction, SIGKILL, 0, rw, 8)); show_ksa(SIGKILL));

    uint64_t set = 1ull << (SIGUSR1 - 1), sys = 1ull << (SIGSYS - 1), old = 0, none = 0;
    sc(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
#define SHOWMASK() do { uint64_t m = 0; long g = sc(SYS_rt_sigprocmask, SIG_BLOCK, 0, &m, 8); printf(" get=%ld mask=%#llx", g, (unsigned long long)m); } while (0)
    CASE("sigprocmask.block", printf("%ld", sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8)); SHOWMASK());
    CASE("sigprocmask.set-bad", printf("%ld", sc(SYS_rt_sigprocmask, SIG_SETMASK, bad, 0, 8)); SHOWMASK());
    CASE("sigprocmask.old-bad", printf("%ld", sc(SYS_rt_sigprocmask, SIG_BLOCK, &sys, bad, 8)); SHOWMASK());
    CASE("sigprocmask.old-ro", printf("%ld", sc(SYS_rt_sigprocmask, SIG_UNBLOCK, &sys, ro, 8)); SHOWMASK());
    CASE("sigprocmask.how-bad", printf("%ld", sc(SYS_rt_sigprocmask, 99, &set, 0, 8)); SHOWMASK());
    CASE("sigprocmask.how-bad-noset", printf("%ld", sc(SYS_rt_sigprocmask, 99, 0, &old, 8)); SHOWMASK());
    CASE("sigprocmask.size4", printf("%ld", sc(SYS_rt_sigprocmask, SIG_BLOCK, &set, 0, 4)); SHOWMASK());
    CASE("sigprocmask.sys", printf("%ld", sc(SYS_rt_sigprocmask, SIG_SETMASK, &sys, 0, 8)); SHOWMASK());
    sc(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);

    stack_t ss = { rw, 0, 65536 }, o;
#define SHOWSS() do { memset(&o, 0x55, sizeof o); long g = sc(SYS_sigaltstack, 0, &o); \
        printf(" get=%ld sp=%s flags=%d size=%zu", g, o.ss_sp == rw ? "rw" : o.ss_sp ? "?" : "0", o.ss_flags, o.ss_size); } while (0)
    CASE("sigaltstack.get", SHOWSS());
    CASE("sigaltstack.set", printf("%ld", sc(SYS_sigaltstack, &ss, 0)); SHOWSS());
    CASE("sigaltstack.ss-bad", printf("%ld", sc(SYS_sigaltstack, bad, 0)); SHOWSS());
    stack_t dis = { 0, SS_DISABLE, 0 };
    CASE("sigaltstack.old-bad", printf("%ld", sc(SYS_sigaltstack, &dis, bad)); SHOWSS());
    CASE("sigaltstack.old-ro", printf("%ld", sc(SYS_sigaltstack, 0, ro)); SHOWSS());
    stack_t f3 = { rw, 3, 65536 };
    CASE("sigaltstack.flags-bad", printf("%ld", sc(SYS_sigaltstack, &f3, 0)); SHOWSS());
    stack_t small = { rw, 0, 512 };
    CASE("sigaltstack.too-small", printf("%ld", sc(SYS_sigaltstack, &small, 0)); SHOWSS());
    stack_t ad = { rw, SS_AUTODISARM, 65536 };
    CASE("sigaltstack.autodisarm", printf("%ld", sc(SYS_sigaltstack, &ad, 0)); SHOWSS());
    stack_t dis2 = { rw, SS_DISABLE | SS_AUTODISARM, 0 };
    CASE("sigaltstack.disable", printf("%ld", sc(SYS_sigaltstack, &dis2, 0)); SHOWSS());
}

/* ---------------------------------------------------------------- processes */
static void report_wait(long pid)
{
    int st = 0;
    long w = pid > 0 ? sc(SYS_wait4, pid, &st, 0, 0) : 0;
    printf(" waited=%d status=%#x", w == pid, st);
}

static char child_stack[65536] __attribute__((aligned(16)));

/* a clone child on a stack of its own: proves where it runs, then exits */
static void on_new_stack(void)
{
    char here;
    long ok = &here > child_stack && &here < child_stack + sizeof child_stack;
    sc(SYS_exit_group, ok ? 42 : 43);
}

static long clone_newstack(long flags, char *top)
{
    /* the child returns from the syscall on top: call on_new_stack there */
    long r;
    register long r10 __asm__("r10") = 0, r8 __asm__("r8") = 0;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "and $-16, %%rsp\n\t"
                     "call *%[fn]\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(r) : "0"((long)SYS_clone), "D"(flags), "S"(top), "d"(0L), "r"(r10), "r"(r8), [fn] "r"(on_new_stack)
                     : "rcx", "r11", "memory");
    return r;
}

static long clone3_newstack(struct clone_args *ca, size_t size)
{
    long r;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "and $-16, %%rsp\n\t"
                     "call *%[fn]\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(r) : "0"((long)SYS_clone3), "D"(ca), "S"(size), [fn] "r"(on_new_stack)
                     : "rcx", "r11", "memory");
    return r;
}

static void exit_child(long code) { sc(SYS_exit_group, code); }

/* An environment whose strings and pointer array end where a mapping ends (an unmapped
 * page after each): shorter strings than the prefixes the exec fix-up compares
 * (TRAPLINE_, LD_PRELOAD=), read up to the last byte. The new program prints the X_*
 * entries it got (through a pipe) and the status. */
static void env_page_end(void)
{
    int fd[2];
    if (pipe(fd)) { printf("pipe failed"); return; }
    fflush(stdout);
    long r = sc(SYS_fork);
    if (r == 0) {
        char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *q = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p + 4096, 4096);
        munmap(q + 4096, 4096);
        char *lng = p + 4096 - 16, *shrt = p + 4096 - 4;
        memcpy(lng, "X_LONGER=22", 12); /* ends where "X=1" starts */
        memcpy(shrt, "X=1", 4);
        char **env = (char **)(q + 4096 - 3 * sizeof(char *));
        env[0] = lng;
        env[1] = shrt;
        env[2] = 0;
        char *av[] = { (char *)self_exe, "print-env", 0 };
        dup2(fd[1], 1);
        sc(SYS_execve, self_exe, av, env);
        exit_child(99);
    }
    close(fd[1]);
    char buf[256];
    long n, got = 0;
    while ((n = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
    buf[got] = 0;
    close(fd[0]);
    int st = 0;
    waitpid((pid_t)r, &st, 0);
    printf("%s status=0x%x", buf, st);
}

static void processes(void)
{
    long r;
    CASE("fork", r = sc(SYS_fork); if (r == 0) exit_child(7); printf("%d", r > 0); report_wait(r));
    CASE("vfork", r = sc(SYS_vfork); if (r == 0) exit_child(8); printf("%d", r > 0); report_wait(r));
    CASE("clone.fork", r = sc(SYS_clone, SIGCHLD, 0, 0, 0, 0); if (r == 0) exit_child(9); printf("%d", r > 0); report_wait(r));
    CASE("clone.newstack", r = clone_newstack(SIGCHLD, child_stack + sizeof child_stack); printf("%d", r > 0); report_wait(r));
    CASE("clone.vfork-newstack", r = clone_newstack(CLONE_VFORK | SIGCHLD, child_stack + sizeof child_stack); printf("%d", r > 0); report_wait(r));
    CASE("clone.sighand-novm", printf("%ld", sc(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0)));
    CASE("clone.thread-novm", printf("%ld", sc(SYS_clone, CLONE_THREAD | CLONE_SIGHAND, 0, 0, 0, 0)));

    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    CASE("clone3.fork", r = sc(SYS_clone3, &ca, sizeof ca); if (r == 0) exit_child(10); printf("%d", r > 0); report_wait(r));
    CASE("clone3.size-small", printf("%ld", sc(SYS_clone3, &ca, 32)));
    CASE("clone3.size-huge", printf("%ld", sc(SYS_clone3, &ca, 8192)));
    CASE("clone3.struct-bad", printf("%ld", sc(SYS_clone3, bad, sizeof ca)));
    CASE("clone3.struct-bad-small", printf("%ld", sc(SYS_clone3, bad, 16)));
    /* a struct straddling into an unreadable page */
    struct clone_args *edge = (struct clone_args *)(bad - 40);
    CASE("clone3.struct-straddle", printf("%ld", sc(SYS_clone3, edge, sizeof ca)));
    /* a larger struct whose tail is not zero: E2BIG */
    char big[256];
    memset(big, 0, sizeof big);
    memcpy(big, &ca, sizeof ca);
    big[200] = 1;
    CASE("clone3.tail-nonzero", printf("%ld", sc(SYS_clone3, big, sizeof big)));
    big[200] = 0;
    CASE("clone3.tail-zero", r = sc(SYS_clone3, big, sizeof big); if (r == 0) exit_child(11); printf("%d", r > 0); report_wait(r));
    struct clone_args s0 = ca;
    s0.stack = (uint64_t)child_stack;
    CASE("clone3.stack-size0", printf("%ld", sc(SYS_clone3, &s0, sizeof s0)));
    s0.stack = 0;
    s0.stack_size = 4096;
    CASE("clone3.size-nostack", printf("%ld", sc(SYS_clone3, &s0, sizeof s0)));
    s0.stack = 0x7ffffffff000ull - 4096;
    s0.stack_size = 8192;
    CASE("clone3.stack-beyond", printf("%ld", sc(SYS_clone3, &s0, sizeof s0)));
    s0.stack = (uint64_t)child_stack;
    s0.stack_size = sizeof child_stack;
    CASE("clone3.newstack", r = clone3_newstack(&s0, sizeof s0); printf("%d", r > 0); report_wait(r));
    struct clone_args es = ca;
    es.exit_signal = 0x100;
    CASE("clone3.exit-signal-bad", printf("%ld", sc(SYS_clone3, &es, sizeof es)));
    es = ca;
    es.flags = 1ull << 40;
    CASE("clone3.flags-bad", printf("%ld", sc(SYS_clone3, &es, sizeof es)));

    int st;
    CASE("wait4.nochild", printf("%ld", sc(SYS_wait4, -1, &st, WNOHANG, 0)));
    CASE("wait4.status-bad", r = sc(SYS_fork); if (r == 0) exit_child(12); long w = sc(SYS_wait4, r, bad, 0, 0);
         printf("%ld", w == r ? 1 : w); printf(" then=%ld", sc(SYS_wait4, r, 0, WNOHANG, 0)));
    CASE("wait4.options-bad", printf("%ld", sc(SYS_wait4, -1, &st, 0x7777, 0)));

    char *argv[] = { "/nonexistent", 0 }, *envp[] = { 0 };
    CASE("execve.enoent", printf("%ld", sc(SYS_execve, "/nonexistent/x", argv, envp)));
    CASE("execve.path-bad", printf("%ld", sc(SYS_execve, bad, argv, envp)));
    CASE("execve.argv-bad", printf("%ld", sc(SYS_execve, self_exe, bad, envp)));
    CASE("execve.envp-bad", printf("%ld", sc(SYS_execve, self_exe, argv, bad)));
    char *envbad[] = { "A=1", bad, 0 };
    CASE("execve.envp-entry-bad", printf("%ld", sc(SYS_execve, self_exe, argv, envbad)));
    CASE("execve.env-page-end", env_page_end());
    CASE("execveat.flags-bad", printf("%ld", sc(SYS_execveat, AT_FDCWD, self_exe, argv, envp, 0x7)));
    CASE("execveat.dirfd-bad", printf("%ld", sc(SYS_execveat, 9999, "x", argv, envp, 0)));
}

/* ---------------------------------------------------------------- arch_prctl, prctl */
static void gs_get(void)
{
    uint64_t v = 0x5555;
    long g = sc(SYS_arch_prctl, ARCH_GET_GS, &v);
    printf(" get=%ld gs=%#llx", g, (unsigned long long)v);
}

/* results of a case run in a child, in memory shared with the parent (the child may be
 * unable to make any call once its own SUD is on) */
static struct shared { long r, next, code, nr; } *sh;
static char sel_allow = 0, sel_block = 1, sel_bad = 7;

static void sys_handler(int s, siginfo_t *si, void *uc)
{
    (void)s; (void)uc;
    sh->code = si->si_code;
    sh->nr = si->si_syscall;
    sel_block = 0;
    sel_bad = 0;
    sc(SYS_exit_group, 0);      /* blocked (and fatal) when there is no selector */
}

static void sud_case(const long *a)
{
    memset(sh, 0, sizeof *sh);
    sh->r = sh->next = sh->code = sh->nr = -999;
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        sh->r = sc(SYS_prctl, 59, a[0], a[1], a[2], a[3]);
        sh->next = sc(SYS_getppid) > 0;
        sc(SYS_exit_group, 0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("%ld next=%ld sigsys=%ld/%ld", sh->r, sh->next, sh->code, sh->nr);
    if (WIFSIGNALED(st)) printf(" [killed by %d]", WTERMSIG(st));
    else if (WEXITSTATUS(st)) printf(" [exit %d]", WEXITSTATUS(st));
}

static void *gs_in_thread(void *a)
{
    (void)a;
    uint64_t v = 0x5555;
    sc(SYS_arch_prctl, ARCH_GET_GS, &v);
    return (void *)v;
}

static void archprctl(void)
{
    CASE("arch_prctl.get_gs", gs_get());
    CASE("arch_prctl.get_gs-bad", printf("%ld", sc(SYS_arch_prctl, ARCH_GET_GS, bad)));
    CASE("arch_prctl.get_gs-ro", printf("%ld", sc(SYS_arch_prctl, ARCH_GET_GS, ro)));
    CASE("arch_prctl.set_gs", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_GS, 0x12345000)); gs_get());
    CASE("arch_prctl.set_gs-top", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_GS, 0x7ffffffff000)); gs_get());
    CASE("arch_prctl.set_gs-below-top", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_GS, 0x7fffffffefff)); gs_get());
    CASE("arch_prctl.set_gs-noncanonical", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_GS, 0x800000000000)); gs_get());
    CASE("arch_prctl.set_gs-kernel", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_GS, 0xffffffff81000000)); gs_get());
    CASE("arch_prctl.set_gs-upper-option", printf("%ld", sc(SYS_arch_prctl, 0x100000000l | ARCH_SET_GS, 0x22222000)); gs_get());
    CASE("arch_prctl.get_gs-upper-option", uint64_t v = 0; printf("%ld %#llx", sc(SYS_arch_prctl, 0x100000000l | ARCH_GET_GS, &v), (unsigned long long)v));
    CASE("arch_prctl.set_gs-thread", void *v; pthread_t th; sc(SYS_arch_prctl, ARCH_SET_GS, 0x33333000);
         pthread_create(&th, 0, gs_in_thread, 0); pthread_join(th, &v); printf("thread gs=%#llx", (unsigned long long)(uint64_t)v));
    CASE("arch_prctl.set_gs-zero", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_GS, 0)); gs_get());
    uint64_t fs = 0, fs2 = 0;
    CASE("arch_prctl.get_fs", long g = sc(SYS_arch_prctl, ARCH_GET_FS, &fs); printf("%ld nonzero=%d", g, fs != 0));
    CASE("arch_prctl.set_fs-same", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_FS, fs)); sc(SYS_arch_prctl, ARCH_GET_FS, &fs2); printf(" same=%d", fs == fs2));
    CASE("arch_prctl.set_fs-noncanonical", printf("%ld", sc(SYS_arch_prctl, ARCH_SET_FS, 0x800000000000)));
    CASE("arch_prctl.get_fs-bad", printf("%ld", sc(SYS_arch_prctl, ARCH_GET_FS, bad)));
    CASE("arch_prctl.code-bad", printf("%ld", sc(SYS_arch_prctl, 0x9999, 0)));
    CASE("arch_prctl.get_cpuid", printf("%ld", sc(SYS_arch_prctl, ARCH_GET_CPUID, 0)));

    /* the program's own Syscall User Dispatch: each case in a child (some kill it) */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sys_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    static struct { const char *name; long a[4]; } sud[] = {
        { "prctl.sud.off", { 0, 0, 0, 0 } },
        { "prctl.sud.off-args", { 0, 1, 0, 0 } },
        { "prctl.sud.off-sel", { 0, 0, 0, 1 } },
        { "prctl.sud.mode-bad", { 3, 0, 0, 0 } },
        { "prctl.sud.excl-nosel", { 1, 0, 0, 0 } },
        { "prctl.sud.excl-allow", { 1, 0, 0, -1 } },
        { "prctl.sud.excl-block", { 1, 0, 0, -2 } },
        { "prctl.sud.excl-selbad", { 1, 0, 0, -3 } },
        { "prctl.sud.excl-off-len0", { 1, 0x1000, 0, 0 } },
        { "prctl.sud.excl-wrap", { 1, 0x1000, -0x1000, 0 } },
        { "prctl.sud.excl-off0-lenmax", { 1, 0, -1, 0 } },
        { "prctl.sud.excl-unmapped-sel", { 1, 0, 0, 0x12345000 } },
        { "prctl.sud.excl-sel-top", { 1, 0, 0, 0x7ffffffff000 } },
        { "prctl.sud.excl-sel-beyond", { 1, 0, 0, 0x7ffffffff001 } },
        { "prctl.sud.excl-sel-kernel", { 1, 0, 0, -0x1000 } },
        { "prctl.sud.incl-len0", { 2, 0x1000, 0, 0 } },
        { "prctl.sud.incl-wrap", { 2, 0x1000, -0x1000, 0 } },
        { "prctl.sud.incl-elsewhere", { 2, 0x1000, 0x1000, 0 } },
        { "prctl.sud.incl-everything", { 2, 0x1000, 0x7ffffffff000 - 0x1000, 0 } },
    };
    for (unsigned i = 0; i < sizeof sud / sizeof sud[0]; i++) {
        long a[4];
        memcpy(a, sud[i].a, sizeof a);
        if (a[3] == -1) a[3] = (long)&sel_allow;
        if (a[3] == -2) a[3] = (long)&sel_block;
        if (a[3] == -3) a[3] = (long)&sel_bad;
        CASE(sud[i].name, sud_case(a));
    }
    CASE("prctl.option-upper", printf("%ld", sc(SYS_prctl, 0x100000000l | PR_GET_DUMPABLE, 0, 0, 0, 0)));
    CASE("prctl.sud-upper-option", printf("%ld", sc(SYS_prctl, 0x100000000l | 59, 3, 0, 0, 0)));
    signal(SIGSYS, SIG_DFL);
}

/* ---------------------------------------------------------------- memory (never page 0) */
static void memory(void)
{
    char *m = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CASE("mprotect.ok", printf("%ld", sc(SYS_mprotect, m, 4096, PROT_READ)));
    CASE("mprotect.unaligned", printf("%ld", sc(SYS_mprotect, m + 1, 4096, PROT_READ)));
    CASE("mprotect.prot-bad", printf("%ld", sc(SYS_mprotect, m, 4096, 0x1000)));
    CASE("mprotect.unmapped", printf("%ld", sc(SYS_mprotect, 0x7ffff0000000ul - 4096 * 7, 4096, PROT_READ)));
    CASE("mprotect.kernel", printf("%ld", sc(SYS_mprotect, 0xffffffff81000000ul, 4096, PROT_READ)));
    CASE("mprotect.wrap", printf("%ld", sc(SYS_mprotect, m, -4096l, PROT_READ)));
    CASE("pkey_mprotect.key-bad", printf("%ld", sc(SYS_pkey_mprotect, m, 4096, PROT_READ, 99)));
    CASE("mmap.flags-bad", printf("%ld", sc(SYS_mmap, 0, 4096, PROT_READ, 0, -1, 0)));
    CASE("mmap.len0", printf("%ld", sc(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)));
    CASE("mmap.fd-bad", printf("%ld", sc(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 9999, 0)));
    CASE("mmap.fixed-unaligned", printf("%ld", sc(SYS_mmap, m + 1, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)));
    CASE("mmap.fixed-ok", long r = sc(SYS_mmap, m + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0); printf("%d", r == (long)(m + 4096)));
    CASE("mmap.noreplace-taken", printf("%ld", sc(SYS_mmap, m + 4096, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)));
    CASE("munmap.unaligned", printf("%ld", sc(SYS_munmap, m + 1, 4096)));
    CASE("munmap.len0", printf("%ld", sc(SYS_munmap, m, 0)));
    CASE("munmap.kernel", printf("%ld", sc(SYS_munmap, 0xffffffff81000000ul, 4096)));
    CASE("mremap.flags-bad", printf("%ld", sc(SYS_mremap, m, 4096, 8192, 0x100, 0)));
    CASE("mremap.unaligned", printf("%ld", sc(SYS_mremap, m + 1, 4096, 8192, 0, 0)));
    CASE("mremap.shrink", long r = sc(SYS_mremap, m + 2 * 4096, 2 * 4096, 4096, 0, 0); printf("%d", r == (long)(m + 2 * 4096)));
    CASE("madvise.advice-bad", printf("%ld", sc(SYS_madvise, m, 4096, 9999)));
    CASE("madvise.unaligned", printf("%ld", sc(SYS_madvise, m + 1, 4096, MADV_DONTNEED)));
    CASE("madvise.dontneed", printf("%ld", sc(SYS_madvise, m + 4096, 4096, MADV_DONTNEED)));
    CASE("madvise.unmapped", printf("%ld", sc(SYS_madvise, 0x7ffff0000000ul - 4096 * 7, 4096, MADV_DONTNEED)));
    CASE("munmap.ok", printf("%ld", sc(SYS_munmap, m, 4 * 4096)));
}

/* ---------------------------------------------------------------- threads after exec */
static void *thread_calls(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) sc(SYS_getppid);
    return (void *)sc(SYS_getppid);
}

static int run_threads(void)
{
    long ppid = sc(SYS_getppid);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, thread_calls, 0);
    int ok = 1;
    for (int i = 0; i < 4; i++) { void *r; pthread_join(t[i], &r); ok &= (long)r == ppid; }
    printf("threads after exec: %s\n", ok ? "ok" : "wrong");
    return 0;
}

static void *exec_from_thread(void *arg)
{
    (void)arg;
    char *argv[] = { (char *)self_exe, "threads", 0 };
    extern char **environ;
    execve(self_exe, argv, environ);
    printf("exec failed: %s\n", strerror(errno));
    exit(1);
}

static void thread_exec(void)
{
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, 0, exec_from_thread, 0);
    pthread_join(t, 0);      /* never returns: the exec replaces the process */
}

int main(int argc, char **argv)
{
    self_exe = argv[0];
    if (argc > 1 && strcmp(argv[1], "threads") == 0) return run_threads();
    if (argc > 1 && strcmp(argv[1], "thread-exec") == 0) { thread_exec(); return 1; }
    if (argc > 1 && strcmp(argv[1], "print-env") == 0) { /* for execve.env-page-end */
        extern char **environ;
        for (char **e = environ; *e; e++)
            if (!strncmp(*e, "X", 1)) printf("%s ", *e);
        return 0;
    }
    if (argc > 1) only = argv[1];
    bad = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sh = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    rw = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    setvbuf(stdout, 0, _IOFBF, 1 << 16);
    signals();
    processes();
    archprctl();
    memory();
    return 0;
}
