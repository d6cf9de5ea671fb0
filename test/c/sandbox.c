/* A program that confines itself with seccomp, then runs. Its output and exit status are
 * compared with the uninterposed run (test/seccomp.test.ts).
 *
 *   sandbox strict      SECCOMP_MODE_STRICT (read, write, exit, rt_sigreturn only), then
 *                       writes from a site never executed before, and leaves by SYS_exit
 *   sandbox tight       a filter allowing exactly write, getppid, exit_group (everything
 *                       else: EPERM, or the process killed for anything but getpid);
 *                       every call after it goes through one syscall site warmed up
 *                       before the filter
 *   sandbox tight-fresh the same, but the calls after the filter come from a site never
 *                       executed before (a trap): allowed besides: rt_sigreturn
 *   sandbox thread      a filter allowing what a thread's start and exit need besides the
 *                       program's own calls; a thread is created and joined
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* one syscall instruction for everything after the filter */
__attribute__((noinline)) static long warm(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

__attribute__((noinline)) static long fresh(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

#define ALLOW(n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void install(struct sock_filter *f, unsigned short n)
{
    struct sock_fprog p = { n, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { perror("no_new_privs"); _exit(3); }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p)) { perror("seccomp"); _exit(3); }
}

static long (*call)(long, long, long, long);

static void say(const char *s) { call(SYS_write, 1, (long)s, (long)strlen(s)); }

static int tight(int use_fresh, int sigreturn)
{
    call = use_fresh ? fresh : warm;
    warm(SYS_getppid, 0, 0, 0);              /* the warm site: executed (and rewritten) now */
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_write),
        ALLOW(SYS_getppid),
        ALLOW(SYS_exit_group),
        ALLOW(sigreturn ? SYS_rt_sigreturn : SYS_write),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    install(f, sizeof f / sizeof f[0]);
    char buf[64];
    long pp = call(SYS_getppid, 0, 0, 0);
    long u = call(SYS_getuid, 0, 0, 0);
    snprintf(buf, sizeof buf, "getppid ok=%d getuid=%ld\n", pp > 0, u);
    say(buf);
    for (int i = 0; i < 3; i++) say("inside the filter\n");
    call(SYS_exit_group, 5, 0, 0);
    return 99;
}

static void *thread_fn(void *a) { (void)a; return (void *)syscall(SYS_getppid); }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, 0, _IONBF, 0);
    if (strcmp(mode, "strict") == 0) {
        printf("before\n");
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) { perror("strict"); return 3; }
        static const char m[] = "in strict mode\n";
        for (int i = 0; i < 3; i++) fresh(SYS_write, 1, (long)m, sizeof m - 1);
        fresh(SYS_exit, 4, 0, 0);
        return 99;
    }
    if (strcmp(mode, "tight") == 0) return tight(0, 0);
    if (strcmp(mode, "tight-fresh") == 0) return tight(1, 1);
    if (strcmp(mode, "thread") == 0) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            /* the program's own calls (glibc's pthread_create/join, write, exit) */
            ALLOW(SYS_write), ALLOW(SYS_getppid), ALLOW(SYS_exit_group), ALLOW(SYS_exit), ALLOW(SYS_mmap),
            ALLOW(SYS_munmap), ALLOW(SYS_mprotect), ALLOW(SYS_rt_sigprocmask), ALLOW(SYS_clone3), ALLOW(SYS_clone),
            ALLOW(SYS_futex), ALLOW(SYS_set_robust_list), ALLOW(SYS_rseq), ALLOW(SYS_madvise), ALLOW(SYS_rt_sigreturn),
            /* what trapline needs to start a thread (docs/design.md) */
            ALLOW(SYS_arch_prctl), ALLOW(SYS_sigaltstack), ALLOW(SYS_prctl), ALLOW(SYS_gettid),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        };
        install(f, sizeof f / sizeof f[0]);
        pthread_t t;
        void *r;
        if (pthread_create(&t, 0, thread_fn, 0)) { printf("pthread_create failed\n"); return 1; }
        pthread_join(t, &r);
        printf("thread ok=%d\n", (long)r == getppid());
        return 0;
    }
    return 2;
}
