/* A program that confines itself with seccomp, then runs. Its output and exit status are
 * compared with the uninterposed run (test/seccomp.test.ts).
 *
 *   sandbox strict      SECCOMP_MODE_STRICT (read, write, exit, rt_sigreturn only), then
 *                       writes from a site never executed before, and leaves by SYS_exit
 *   sandbox tight       a filter allowing exactly write, getppid, exit_group (everything
 *                       else: EPERM, or the process killed for getpid); every call after
 *                       it goes through one syscall site warmed up before the filter,
 *                       then one from a fresh site checks the registers survive
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
#include <stdint.h>
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
static int regs_survive(void);

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
    say(regs_survive() ? "registers, vector registers and flags intact\n" : "REGISTERS CHANGED\n");
    call(SYS_exit_group, 5, 0, 0);
    return 99;
}

/* After the filter: one getppid with known values in every register the kernel preserves
 * (and xmm0/xmm15, CF); 1 if they all survived. Only getppid runs. */
struct blk { uint64_t in[9], out[9], pat[2], x0[2], x15[2], cf; };
static int regs_survive(void)
{
    static struct blk b = {
        { 0x1111111111111111, 0x2222222222222222, 0x3333333333333333, 0x4444444444444444, 0x5555555555555555,
          0x6666666666666666, 0x7777777777777777, 0x8888888888888888, 0x9999999999999999 },
        { 0 }, { 0x0123456789abcdef, 0xfedcba9876543210 }, { 0 }, { 0 }, 0 };
    __asm__ volatile(
        "movdqu 144(%%rsi), %%xmm0\n\t"
        "movdqu 144(%%rsi), %%xmm15\n\t"
        "push %%rbp\n\t"
        "mov 0(%%rsi), %%rbx\n\t mov 8(%%rsi), %%r12\n\t mov 16(%%rsi), %%r13\n\t"
        "mov 24(%%rsi), %%r14\n\t mov 32(%%rsi), %%r15\n\t mov 40(%%rsi), %%rbp\n\t"
        "mov 48(%%rsi), %%r8\n\t mov 56(%%rsi), %%r9\n\t mov 64(%%rsi), %%r10\n\t"
        "mov $110, %%eax\n\t"
        "stc\n\t"
        "syscall\n\t"
        "setc %%al\n\t"
        "movzbl %%al, %%eax\n\t mov %%rax, 192(%%rsi)\n\t"
        "mov %%rbx, 72(%%rsi)\n\t mov %%r12, 80(%%rsi)\n\t mov %%r13, 88(%%rsi)\n\t mov %%r14, 96(%%rsi)\n\t"
        "mov %%r15, 104(%%rsi)\n\t mov %%rbp, 112(%%rsi)\n\t mov %%r8, 120(%%rsi)\n\t mov %%r9, 128(%%rsi)\n\t"
        "mov %%r10, 136(%%rsi)\n\t"
        "pop %%rbp\n\t"
        "movdqu %%xmm0, 160(%%rsi)\n\t"
        "movdqu %%xmm15, 176(%%rsi)\n\t"
        :
        : "S"(&b)
        : "rax", "rbx", "rcx", "rdx", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
          "xmm0", "xmm15", "memory", "cc");
    return memcmp(b.in, b.out, sizeof b.in) == 0 && memcmp(b.x0, b.pat, 16) == 0 && memcmp(b.x15, b.pat, 16) == 0 && b.cf == 1;
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
    if (strcmp(mode, "tight-int80") == 0) {
        /* a filter without rt_sigreturn, and an i386 getpid (20) made by int $0x80, which
         * SUD traps (it is never rewritten) */
        call = warm;
        warm(SYS_getppid, 0, 0, 0);
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            ALLOW(SYS_write),
            ALLOW(SYS_exit_group),
            ALLOW(20),                      /* i386 getpid */
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        };
        install(f, sizeof f / sizeof f[0]);
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "0"(20L) : "memory");
        char buf[64];
        snprintf(buf, sizeof buf, "int80 getpid ok=%d\n", r > 0);
        say(buf);
        call(SYS_exit_group, 6, 0, 0);
        return 99;
    }
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
