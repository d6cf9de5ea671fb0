/* 32-bit system calls (int $0x80) from 64-bit code, sysenter, and x32 numbers.
 * Each subcommand prints lines that must be identical natively and under trapline (no
 * pids, times or addresses in them), and "FAIL ..." plus exit 1 on a broken expectation.
 *
 *   regs      int $0x80 calls through one site: getpid, write from low memory, EFAULT,
 *             EBADF, bad numbers, upper bits, i386 numbers that are special x86-64 ones
 *             (time=13, unlink=10, chdir=12, chmod=15, umask=60, sched_yield=158, 56);
 *             every register but rax (rcx and r11 included) and every flag kept
 *   eintr     a blocking i386 read interrupted by a handler without SA_RESTART: -EINTR
 *   restart   the same with SA_RESTART: the read completes; the handler makes int $0x80
 *             calls of its own (nested)
 *   sigsuspend  i386 rt_sigsuspend with a pending signal: -EINTR, handler ran once
 *   special   i386 fork, vfork, clone (a thread on a new stack) and exit, then
 *             exit_group(3): registers kept in parents and children
 *   hooked    i386 getpid with ebx = 0x4242 (a hook may answer it), getpid, getppid
 *   sysenter  sysenter from 64-bit code with a SIGILL handler: signal and registers
 *   sysenter-die  the same without a handler
 *   compat    int $0x80 from 32-bit code (a far jump to the 32-bit user code segment):
 *             getpid and write, then back to 64-bit code
 *   emulated  i386 calls whose x86-64 twins trapline handles: rt_sigprocmask and
 *             sigprocmask blocking SIGSYS, mprotect making rewritten code writable, prctl turning the
 *             program's Syscall User Dispatch off; calls after them are still interposed
 *   exec      i386 execve of this program with an empty environment (compat layout:
 *             32-bit pointer arrays); the child ("exec-child") says whether LD_PRELOAD
 *             and TRAPLINE_* reached it, makes an i386 getpid, says whether SIGSYS and
 *             SIGSEGV are ignored, and exits 4
 *   exec-ign  the same with SIGSYS and SIGSEGV set to SIG_IGN first (which survives it)
 *   x32       syscall with x32 numbers (bit 30) on a site's first execution and after
 *             the site served (and, in lazy mode, was rewritten for) a valid number
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define FAIL(...) do { printf("FAIL "); printf(__VA_ARGS__); printf("\n"); exit(1); } while (0)

/* all general registers and rflags, loaded before and stored after one instruction */
struct regs { uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15, flags; };
static const char *rname[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "flags" };

/* void NAME(struct regs *in, struct regs *out): every register from in, INSN, every
 * register to out. NAME_site is the address after INSN. */
#define CALLSITE(name, insn) \
__asm__(".text\n.p2align 4\n" #name ":\n" \
    " push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n" \
    " push %rsi\n push 120(%rdi)\n" \
    " mov 0(%rdi),%rax; mov 8(%rdi),%rbx; mov 16(%rdi),%rcx; mov 24(%rdi),%rdx; mov 32(%rdi),%rsi\n" \
    " mov 48(%rdi),%rbp; mov 56(%rdi),%r8; mov 64(%rdi),%r9; mov 72(%rdi),%r10; mov 80(%rdi),%r11\n" \
    " mov 88(%rdi),%r12; mov 96(%rdi),%r13; mov 104(%rdi),%r14; mov 112(%rdi),%r15; mov 40(%rdi),%rdi\n" \
    " popfq\n " insn "\n" #name "_site:\n" \
    " pushfq\n push %rdi\n mov 16(%rsp),%rdi\n" \
    " mov %rax,0(%rdi); mov %rbx,8(%rdi); mov %rcx,16(%rdi); mov %rdx,24(%rdi); mov %rsi,32(%rdi)\n" \
    " mov %rbp,48(%rdi); mov %r8,56(%rdi); mov %r9,64(%rdi); mov %r10,72(%rdi); mov %r11,80(%rdi)\n" \
    " mov %r12,88(%rdi); mov %r13,96(%rdi); mov %r14,104(%rdi); mov %r15,112(%rdi)\n" \
    " pop %rax; mov %rax,40(%rdi); pop %rax; mov %rax,120(%rdi)\n" \
    " cld\n pop %rsi\n pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n ret\n"); \
void name(struct regs *in, struct regs *out); extern char name##_site[];

CALLSITE(site80, "int $0x80")
CALLSITE(site80b, "int $0x80")
CALLSITE(sitesys_a, "syscall")
CALLSITE(sitesys_b, "syscall")
CALLSITE(sitesysenter, "sysenter")

#define ARITH 0x8d5ull           /* CF PF AF ZF SF OF */
#define DF 0x400ull
static const uint64_t flag_pats[2] = { 0x202 | ARITH, 0x202 | DF };

static void pattern(struct regs *r, uint64_t nr, int p)
{
    uint64_t *g = (uint64_t *)r;
    for (int i = 0; i < 16; i++) g[i] = 0x1111111111111111ull * (uint64_t)(i + 1) ^ 0x0f1e2d3c00000000ull;
    r->rax = nr;
    r->flags = flag_pats[p & 1];
}

/* Compares out with in: every register but rax must be unchanged (and flags); prints
 * the case and rax as given by show (symbolic, so native and interposed runs compare). */
static void expect_kept(const char *what, const struct regs *in, const struct regs *out)
{
    const uint64_t *a = (const uint64_t *)in, *b = (const uint64_t *)out;
    for (int i = 1; i < 15; i++)
        if (a[i] != b[i]) FAIL("%s: %s changed %#lx -> %#lx", what, rname[i], (unsigned long)a[i], (unsigned long)b[i]);
    uint64_t m = ARITH | DF;
    if ((a[15] & m) != (b[15] & m)) FAIL("%s: flags %#lx -> %#lx", what, (unsigned long)a[15], (unsigned long)b[15]);
}

static char *low;                /* a page below 4 GiB: i386 pointers are 32-bit */

/* one i386 call with the register pattern p: returns rax, checks every other register */
static long call80_6(void (*site)(struct regs *, struct regs *), const char *what, uint64_t nr, int p,
                     uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
    struct regs in, out;
    pattern(&in, nr, p);
    in.rbx = a1; in.rcx = a2; in.rdx = a3; in.rsi = a4; in.rdi = a5; in.rbp = a6;
    site(&in, &out);
    expect_kept(what, &in, &out);
    return (long)out.rax;
}

/* the same with three arguments (the others hold the pattern) */
static long call80(void (*site)(struct regs *, struct regs *), const char *what, uint64_t nr, int p,
                   uint64_t a1, uint64_t a2, uint64_t a3)
{
    struct regs in;
    pattern(&in, nr, p);
    return call80_6(site, what, nr, p, a1, a2, a3, in.rsi, in.rdi, in.rbp);
}

#define HI(x) ((uint64_t)(x) | 0xdead000000000000ull)   /* upper bits the kernel ignores */

/* an i386 clone3 (435) that forks: ebx = the struct (below 4 GiB), ecx = its size */
static int cmd_clone3fork(void)
{
    uint64_t *a = (uint64_t *)low;
    memset(a, 0, 64);
    a[4] = SIGCHLD;                       /* exit_signal */
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(435L), "b"((long)(uint32_t)(uint64_t)a), "c"(64L) : "memory");
    if (r == 0) _exit(7);
    if (r < 0) { printf("clone3 fork -> %ld\n", r); return 0; }
    int st = 0;
    waitpid((pid_t)r, &st, 0);
    printf("clone3 fork: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

/* i386 mmap2/mremap onto or from page 0 (where trapline keeps its trampoline): one line
 * each, then calls from rewritten sites must still work */
static int cmd_page0(void)
{
    long r = call80_6(site80, "mmap2 fixed 0", 192, 0, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (uint32_t)-1, 0);
    printf("mmap2(0, MAP_FIXED) -> %s\n", r == 0 ? "mapped" : r == -EPERM ? "EPERM" : "other");
    if (r == 0) munmap(0, 4096);
    r = call80_6(site80, "mremap from 0", 163, 0, 0, 4096, 8192, MREMAP_MAYMOVE, 0, 0);
    printf("mremap(0, ...) -> %s\n", r == -EFAULT ? "EFAULT" : "other");
    long ok = 1, want = getppid();
    for (int i = 0; i < 10; i++) ok &= syscall(SYS_getppid) == want;
    printf("calls after: %s\n", ok ? "ok" : "WRONG");
    return 0;
}

static int cmd_regs(void)
{
    long pid = getpid();
    int pfd[2];
    if (pipe(pfd)) FAIL("pipe");
    for (int p = 0; p < 2; p++) {
        long r = call80(site80, "getpid", 20, p, 0, 0, 0);
        printf("getpid: %s\n", r == pid ? "pid" : "WRONG");
        r = call80(site80, "getpid upper bits", 0x100000000ull | 20, p, 0, 0, 0);
        printf("getpid nr 0x100000014: %s\n", r == pid ? "pid" : "WRONG");
        strcpy(low, "int80 write\n");
        r = call80(site80, "write", 4, p, HI(pfd[1]), HI(low), 12);
        char got[16] = "";
        if (read(pfd[0], got, 12) != 12) FAIL("pipe read");
        printf("write low buffer: %ld, the pipe got \"%.11s\"\n", r, got);
        char stackbuf[16] = "stack\n";
        r = call80(site80, "write stack", 4, p, (uint64_t)pfd[1], (uint64_t)stackbuf, 6);
        printf("write stack buffer (above 4 GiB): %ld\n", r);
        r = call80(site80, "write badfd", 4, p, 999, (uint64_t)low, 1);
        printf("write fd 999: %ld\n", r);
        r = call80(site80, "nr 1000", 1000, p, 0, 0, 0);
        printf("nr 1000: %ld\n", r);
        r = call80(site80, "nr -1", (uint64_t)-1, p, 0, 0, 0);
        printf("nr -1: %ld\n", r);
        r = call80(site80, "nr x32|20", 0x40000000 | 20, p, 0, 0, 0);
        printf("nr 0x40000014: %ld\n", r);
        /* i386 numbers that are special x86-64 numbers */
        uint32_t *t = (uint32_t *)(low + 512);
        *t = 0;
        r = call80(site80, "time", 13, p, (uint64_t)t, 0, 0);
        printf("i386 time (x86-64 rt_sigaction): %s\n", r > 0 && r == (long)*t ? "stored and returned" : "WRONG");
        umask(022);
        r = call80(site80, "umask", 60, p, 077, 0, 0);
        printf("i386 umask (x86-64 exit): old %lo, now %o\n", r, umask(022));
        r = call80(site80, "sched_yield", 158, p, 0, 0, 0);
        printf("i386 sched_yield (x86-64 arch_prctl): %ld\n", r);
        r = call80(site80, "nr 56", 56, p, 0, 0, 0);
        printf("i386 56 (x86-64 clone): %ld\n", r);
        char path[] = "/tmp/trapline-int80-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) FAIL("mkstemp");
        close(fd);
        strcpy(low + 1024, path);
        r = call80(site80b, "chmod", 15, p, (uint64_t)(low + 1024), 0640, 0);
        struct stat st;
        stat(path, &st);
        printf("i386 chmod (x86-64 rt_sigreturn): %ld, mode %o\n", r, st.st_mode & 0777);
        r = call80(site80b, "unlink", 10, p, (uint64_t)(low + 1024), 0, 0);
        printf("i386 unlink (x86-64 mprotect): %ld, exists %d\n", r, access(path, F_OK) == 0);
        strcpy(low + 2048, "/");
        if (chdir("/tmp")) FAIL("chdir");
        r = call80(site80b, "chdir", 12, p, (uint64_t)(low + 2048), 0, 0);
        char cwd[64];
        printf("i386 chdir (x86-64 brk): %ld, cwd %s\n", r, getcwd(cwd, sizeof cwd));
    }
    /* the instruction is never rewritten */
    const volatile uint8_t *sb = (const volatile uint8_t *)((uintptr_t)site80_site - 2);
    printf("site bytes: %02x %02x\n", sb[0], sb[1]);
    return 0;
}

/* ---------------------------------------------------------------- signals */
static atomic_int handled, main_done, nested_ok = 1;
static pid_t main_tid;

static void on_usr1(int s)
{
    (void)s;
    /* an int $0x80 call inside a handler that interrupted one */
    long r = call80(site80b, "nested getpid", 20, 1, 0, 0, 0);
    if (r != getpid()) nested_ok = 0;
    atomic_fetch_add(&handled, 1);
}

static void *kicker(void *a)
{
    long arg = (long)a;
    int restart = arg & 0xff, wfd = (int)(arg >> 8);
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
    pthread_t th;
    pthread_create(&th, 0, kicker, (void *)(long)(restart | (pfd[1] << 8)));
    long r = call80(site80, "read", 3, 0, (uint64_t)pfd[0], (uint64_t)low, 1);
    atomic_store(&main_done, 1);
    pthread_join(th, 0);
    if (restart) printf("i386 read with SA_RESTART: %ld, byte %c, handler ran: %s, nested calls %s\n", r, low[0],
                        handled >= 1 ? "yes" : "no", nested_ok ? "ok" : "WRONG");
    else printf("i386 read without SA_RESTART: %ld, handler ran: %s, nested calls %s\n", r, handled >= 1 ? "yes" : "no",
                nested_ok ? "ok" : "WRONG");
    return 0;
}

static int cmd_sigsuspend(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, 0);
    raise(SIGUSR1);
    uint64_t *empty = (uint64_t *)(low + 256);
    *empty = 0;
    long r = call80(site80, "rt_sigsuspend", 179, 0, (uint64_t)empty, 8, 0);
    printf("i386 rt_sigsuspend: %ld, handler ran %d time(s), nested calls %s\n", r, (int)handled, nested_ok ? "ok" : "WRONG");
    return 0;
}

/* ---------------------------------------------------------------- fork, vfork, clone, exit */
/* child of an i386 fork/vfork: i386 exit(code) at once; the parent gets the child's pid */
static long fork80(uint64_t nr, int code, struct regs *in, struct regs *out)
{
    pattern(in, nr, 0);
    in->rbx = (uint64_t)code;
    __asm__ volatile(
        " push %%rbx; push %%rbp; push %%r12; push %%r13; push %%r14; push %%r15\n"
        " push %%rsi\n push 120(%%rdi)\n"
        " mov 0(%%rdi),%%rax; mov 8(%%rdi),%%rbx; mov 16(%%rdi),%%rcx; mov 24(%%rdi),%%rdx; mov 32(%%rdi),%%rsi\n"
        " mov 48(%%rdi),%%rbp; mov 56(%%rdi),%%r8; mov 64(%%rdi),%%r9; mov 72(%%rdi),%%r10; mov 80(%%rdi),%%r11\n"
        " mov 88(%%rdi),%%r12; mov 96(%%rdi),%%r13; mov 104(%%rdi),%%r14; mov 112(%%rdi),%%r15; mov 40(%%rdi),%%rdi\n"
        " popfq\n int $0x80\n pushfq\n"
        " test %%eax, %%eax\n jnz 1f\n"
        " mov $1, %%eax\n int $0x80\n ud2\n"           /* child: i386 exit(ebx) */
        "1: push %%rdi\n mov 16(%%rsp),%%rdi\n"
        " mov %%rax,0(%%rdi); mov %%rbx,8(%%rdi); mov %%rcx,16(%%rdi); mov %%rdx,24(%%rdi); mov %%rsi,32(%%rdi)\n"
        " mov %%rbp,48(%%rdi); mov %%r8,56(%%rdi); mov %%r9,64(%%rdi); mov %%r10,72(%%rdi); mov %%r11,80(%%rdi)\n"
        " mov %%r12,88(%%rdi); mov %%r13,96(%%rdi); mov %%r14,104(%%rdi); mov %%r15,112(%%rdi)\n"
        " pop %%rax; mov %%rax,40(%%rdi); pop %%rax; mov %%rax,120(%%rdi)\n"
        " cld\n pop %%rsi\n pop %%r15; pop %%r14; pop %%r13; pop %%r12; pop %%rbp; pop %%rbx\n"
        : : "D"(in), "S"(out) : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
    return (long)out->rax;
}

/* the child thread of an i386 clone stores its registers here, then i386 exit(0) */
struct child_out { struct regs r; uint32_t tid_slot; uint32_t done; };
struct regs *g_cout __attribute__((used));      /* read by the child thread (a global: its stack is new) */

static int cmd_special(void)
{
    struct regs in, out;
    int st;
    /* i386 fork (x86-64 2 = open) */
    long pid = fork80(2, 7, &in, &out);
    expect_kept("fork parent", &in, &out);
    if (pid <= 0) FAIL("i386 fork returned %ld", pid);
    waitpid((pid_t)pid, &st, 0);
    printf("i386 fork: child exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    /* i386 vfork (x86-64 190 = fsetxattr) */
    pid = fork80(190, 5, &in, &out);
    expect_kept("vfork parent", &in, &out);
    if (pid <= 0) FAIL("i386 vfork returned %ld", pid);
    waitpid((pid_t)pid, &st, 0);
    printf("i386 vfork: child exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    /* i386 clone (x86-64 120 = getresgid): a thread on a stack below 4 GiB; i386 order:
     * flags, stack, parent_tid, tls, child_tid */
    struct child_out *co = (struct child_out *)(low + 2048);
    memset(co, 0, sizeof *co);
    char *stack = low + 4096 * 16;        /* top of the low area's stack part */
    uint32_t flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                     CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    pattern(&in, 120, 0);
    in.rbx = flags; in.rcx = (uint64_t)stack; in.rdx = (uint64_t)&co->tid_slot; in.rsi = 0; in.rdi = (uint64_t)&co->tid_slot;
    struct regs *cin = &in;
    g_cout = &co->r;
    __asm__ volatile(
        " push %%rbx; push %%rbp; push %%r12; push %%r13; push %%r14; push %%r15\n"
        " push %%rsi\n push %%rdi\n push 120(%%rdi)\n"
        " mov 0(%%rdi),%%rax; mov 8(%%rdi),%%rbx; mov 16(%%rdi),%%rcx; mov 24(%%rdi),%%rdx; mov 32(%%rdi),%%rsi\n"
        " mov 48(%%rdi),%%rbp; mov 56(%%rdi),%%r8; mov 64(%%rdi),%%r9; mov 72(%%rdi),%%r10; mov 80(%%rdi),%%r11\n"
        " mov 88(%%rdi),%%r12; mov 96(%%rdi),%%r13; mov 104(%%rdi),%%r14; mov 112(%%rdi),%%r15; mov 40(%%rdi),%%rdi\n"
        " popfq\n int $0x80\n"
        " test %%eax, %%eax\n jnz 1f\n"
        /* child: on the new stack, every register as loaded but rax (flags: test changed
         * them). Store them through a pointer that lives in the low area (co - 8). */
        " push %%rdi\n mov g_cout(%%rip), %%rdi\n"
        " mov %%rax,0(%%rdi); mov %%rbx,8(%%rdi); mov %%rcx,16(%%rdi); mov %%rdx,24(%%rdi); mov %%rsi,32(%%rdi)\n"
        " mov %%rbp,48(%%rdi); mov %%r8,56(%%rdi); mov %%r9,64(%%rdi); mov %%r10,72(%%rdi); mov %%r11,80(%%rdi)\n"
        " mov %%r12,88(%%rdi); mov %%r13,96(%%rdi); mov %%r14,104(%%rdi); mov %%r15,112(%%rdi)\n"
        " pop %%rax; mov %%rax,40(%%rdi)\n"
        " mov %%rsp, %%rax; mov %%rax, 120(%%rdi)\n"      /* flags slot: the child's rsp */
        " movl $1, %c[done](%%rdi)\n"
        " mov $1, %%eax\n xor %%ebx, %%ebx\n int $0x80\n ud2\n"
        "1: pop %%rdi\n pop %%rsi\n"
        " mov %%rax, 0(%%rsi)\n"
        " cld\n pop %%r15; pop %%r14; pop %%r13; pop %%r12; pop %%rbp; pop %%rbx\n"
        : : "D"(cin), "S"(&out), [done] "i"(offsetof(struct child_out, done))
        : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
    long tid = (long)out.rax;
    if (tid <= 0) FAIL("i386 clone returned %ld", tid);
    /* wait for the thread's exit: CLONE_CHILD_CLEARTID clears the slot and wakes us */
    for (;;) {
        uint32_t v = __atomic_load_n(&co->tid_slot, __ATOMIC_ACQUIRE);
        if (v == 0) break;
        syscall(SYS_futex, &co->tid_slot, FUTEX_WAIT, v, 0, 0, 0);
    }
    int kept = 1;
    const uint64_t *a = (const uint64_t *)&in, *b = (const uint64_t *)&co->r;
    for (int i = 1; i < 15; i++) if (a[i] != b[i]) { kept = 0; printf("clone child: %s %#lx -> %#lx\n", rname[i], (unsigned long)a[i], (unsigned long)b[i]); }
    printf("i386 clone: thread ran %d, child rax %ld, child registers %s, child rsp %s\n", co->done, (long)co->r.rax,
           kept ? "kept" : "CHANGED", co->r.flags == (uint64_t)stack ? "the new stack" : "WRONG");
    fflush(stdout);
    /* i386 exit_group (x86-64 252 = ioprio_get) */
    call80(site80, "exit_group", 252, 0, 3, 0, 0);
    FAIL("exit_group returned");
}

/* a native hook may answer ebx == 0x4242 itself (test/hooks/abihook.c) */
static int cmd_hooked(void)
{
    long pid = getpid();
    long r = call80(site80, "getpid 0x4242", 20, 0, 0x4242, 0, 0);
    printf("i386 getpid(ebx=0x4242): %s\n", r == pid ? "pid" : r == 4242 ? "4242 (answered by the hook)" : "WRONG");
    r = call80(site80, "getpid", 20, 0, 0, 0, 0);
    printf("i386 getpid: %s\n", r == pid ? "pid" : r == 777777 ? "777777 (run as x86-64 writev)" : "WRONG");
    r = call80(site80, "getppid", 64, 0, 0, 0, 0);
    printf("i386 getppid: %s\n", r == getppid() ? "ppid" : "WRONG");
    return 0;
}

/* ---------------------------------------------------------------- sysenter */
static struct regs sysenter_in;
static void on_sigill(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    uint64_t at = (uint64_t)sitesysenter_site - 2;
    printf("signal %d code %d si_addr %s rip %s\n", sig, si->si_code, (uint64_t)si->si_addr == at ? "at sysenter" : "ELSEWHERE",
           (uint64_t)g[REG_RIP] == at ? "at sysenter" : "ELSEWHERE");
    static const int idx[16] = { REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_R8, REG_R9, REG_R10,
                                 REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_EFL };
    const uint64_t *a = (const uint64_t *)&sysenter_in;
    int kept = 1;
    for (int i = 0; i < 15; i++) if ((uint64_t)g[idx[i]] != a[i]) { kept = 0; printf("  %s %#lx -> %#lx\n", rname[i], (unsigned long)a[i], (unsigned long)g[idx[i]]); }
    if (((uint64_t)g[REG_EFL] & (ARITH | DF)) != (a[15] & (ARITH | DF))) { kept = 0; printf("  flags changed\n"); }
    printf("registers at the signal: %s\n", kept ? "as loaded" : "CHANGED");
    g[REG_RIP] += 2;
}

static int cmd_sysenter(int handler)
{
    if (handler) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigill;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGILL, &sa, 0);
        sigaction(SIGSEGV, &sa, 0);
    }
    struct regs out;
    for (int p = 0; p < 2; p++) {
        pattern(&sysenter_in, 39, p);
        sitesysenter(&sysenter_in, &out);
        expect_kept("after sysenter", &sysenter_in, &out);
        printf("after sysenter: rax %s\n", out.rax == 39 ? "unchanged" : "CHANGED");
    }
    return 0;
}

/* ---------------------------------------------------------------- 32-bit code */
/* In low memory: 64-bit entry: push $0x23; push $code32; lretq. 32-bit code: an i386
 * call (eax, ebx, ecx, edx from a parameter block, through %ds = the user data segment),
 * eax stored, ljmp $0x33 back to a 64-bit `ret`. The 32-bit part uses no stack. */
static long run32(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3)
{
    static uint8_t *code;
    uint32_t *blk = (uint32_t *)(low + 3072);            /* nr a1 a2 a3 result, then a saved rsp */
    if (!code) {
        code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (code == MAP_FAILED) FAIL("mmap code");
        uint8_t *p = code;
        uint32_t c32 = (uint32_t)(uintptr_t)code + 64, back = (uint32_t)(uintptr_t)code + 128, b = (uint32_t)(uintptr_t)blk;
        uint32_t slot = b + 32;                                      /* the 64-bit rsp, kept here */
        *p++ = 0x55; *p++ = 0x56; *p++ = 0x57;                       /* push %rbp, %rsi, %rdi */
        *p++ = 0x48; *p++ = 0x89; *p++ = 0x24; *p++ = 0x25; memcpy(p, &slot, 4); p += 4;   /* mov %rsp, slot */
        *p++ = 0x6a; *p++ = 0x23;                                    /* push $0x23 */
        *p++ = 0x68; memcpy(p, &c32, 4); p += 4;                     /* push $code32 */
        *p++ = 0x48; *p++ = 0xcb;                                    /* lretq */
        p = code + 64;                                               /* 32-bit code */
        *p++ = 0xb8; *p++ = 0x2b; *p++ = 0; *p++ = 0; *p++ = 0;      /* mov $0x2b, %eax (user data) */
        *p++ = 0x8e; *p++ = 0xd8;                                    /* mov %eax, %ds */
        *p++ = 0xa1; memcpy(p, &b, 4); p += 4;                       /* mov blk, %eax */
        uint32_t b1 = b + 4, b2 = b + 8, b3 = b + 12, b4 = b + 16;
        *p++ = 0x8b; *p++ = 0x1d; memcpy(p, &b1, 4); p += 4;         /* mov blk+4, %ebx */
        *p++ = 0x8b; *p++ = 0x0d; memcpy(p, &b2, 4); p += 4;         /* mov blk+8, %ecx */
        *p++ = 0x8b; *p++ = 0x15; memcpy(p, &b3, 4); p += 4;         /* mov blk+12, %edx */
        *p++ = 0xcd; *p++ = 0x80;                                    /* int $0x80 */
        *p++ = 0xa3; memcpy(p, &b4, 4); p += 4;                      /* mov %eax, blk+16 */
        *p++ = 0xea; memcpy(p, &back, 4); p += 4; *p++ = 0x33; *p++ = 0;   /* ljmp $0x33, $back */
        p = code + 128;                                              /* 64-bit again */
        *p++ = 0x31; *p++ = 0xc0; *p++ = 0x8e; *p++ = 0xd8;          /* %ds = 0, as it was */
        /* 32-bit code keeps only the low halves of rsp and the other registers it names */
        *p++ = 0x48; *p++ = 0x8b; *p++ = 0x24; *p++ = 0x25; memcpy(p, &slot, 4); p += 4;   /* mov slot, %rsp */
        *p++ = 0x5f; *p++ = 0x5e; *p++ = 0x5d;                       /* pop %rdi, %rsi, %rbp */
        *p++ = 0xc3;                                                 /* ret */
    }
    blk[0] = nr; blk[1] = a1; blk[2] = a2; blk[3] = a3; blk[4] = 0xdeadbeef;
    __asm__ volatile("call *%0" : : "r"(code) : "rax", "rbx", "rcx", "rdx", "memory", "cc");
    return (long)(int32_t)blk[4];
}

static int cmd_compat(void)
{
    int pfd[2];
    if (pipe(pfd)) FAIL("pipe");
    for (int i = 0; i < 2; i++) {
        long r = run32(20, 0, 0, 0);
        printf("32-bit code: i386 getpid: %s\n", r == getpid() ? "pid" : "WRONG");
        strcpy(low + 3584, "from 32-bit code");
        r = run32(4, (uint32_t)pfd[1], (uint32_t)(uintptr_t)(low + 3584), 16);
        char got[20] = "";
        if (read(pfd[0], got, 16) != 16) FAIL("pipe read");
        printf("32-bit code: i386 write: %ld \"%s\"\n", r, got);
        r = run32(4, 999, 0, 1);
        printf("32-bit code: i386 write fd 999: %ld\n", r);
    }
    return 0;
}

/* ---------------------------------------------------------------- emulated calls */
static int cmd_emulated(void)
{
    /* rt_sigprocmask (175): SIGSYS blocked, as the program sees it; calls go on */
    uint64_t *set = (uint64_t *)(low + 256), *old = set + 1, *cur = set + 2;
    *set = 1ull << (SIGSYS - 1);
    long r = call80_6(site80, "rt_sigprocmask", 175, 0, SIG_BLOCK, (uint64_t)set, (uint64_t)old, 8, 0, 0);
    long a = getppid(), b = getppid(), c = getppid();
    printf("i386 rt_sigprocmask(SIG_BLOCK, SIGSYS): %ld; getppid after it: %s\n", r, a == b && b == c && a > 0 ? "ok" : "WRONG");
    r = call80_6(site80, "rt_sigprocmask", 175, 0, SIG_BLOCK, 0, (uint64_t)cur, 8, 0, 0);
    sigset_t ls;
    sigprocmask(SIG_BLOCK, 0, &ls);
    printf("read back: i386 %ld, SIGSYS blocked %d; libc: %d\n", r, (int)((*cur >> (SIGSYS - 1)) & 1), sigismember(&ls, SIGSYS));
    r = call80_6(site80, "rt_sigprocmask", 175, 0, SIG_SETMASK, (uint64_t)old, 0, 8, 0, 0);
    /* sigprocmask (126): the old 32-bit set. SIG_SETMASK keeps signals 33..64 */
    uint32_t *set32 = (uint32_t *)(low + 384), *old32 = set32 + 1;
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, 39);
    sigprocmask(SIG_BLOCK, &rt, 0);
    *set32 = 1u << (SIGSYS - 1) | 1u << (SIGUSR2 - 1);
    *old32 = 0xdead;
    r = call80(site80, "sigprocmask", 126, 0, SIG_SETMASK, (uint64_t)set32, (uint64_t)old32);
    a = getppid();
    r = call80(site80, "sigprocmask", 126, 0, SIG_BLOCK, 0, (uint64_t)old32);
    sigprocmask(SIG_BLOCK, 0, &ls);
    printf("i386 sigprocmask(SIG_SETMASK, SIGSYS|SIGUSR2): %ld; getppid after it: %s; read back %#x; libc: SIGSYS %d SIGUSR2 %d 39 %d\n",
           r, a > 0 ? "ok" : "WRONG", *old32, sigismember(&ls, SIGSYS), sigismember(&ls, SIGUSR2), sigismember(&ls, 39));
    *set32 = 0;
    r = call80(site80, "sigprocmask", 126, 0, SIG_SETMASK, (uint64_t)set32, 0);
    sigprocmask(SIG_UNBLOCK, &rt, 0);
    /* mprotect (125): code below 4 GiB, executed twice (rewritten in lazy mode), then
     * made writable by an i386 call: its bytes are the program's */
    uint8_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    static const uint8_t fn[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };   /* mov $39,%eax; syscall; ret */
    memcpy(code, fn, sizeof fn);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    long (*f)(void) = (long (*)(void))code;
    long p1 = f(), p2 = f();
    r = call80(site80, "mprotect", 125, 0, (uint64_t)code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    uint8_t b5 = code[5], b6 = code[6];
    long p3 = f();
    printf("i386 mprotect(rwx): %ld; calls before %s; bytes at the site: %02x %02x; a call after: %s\n", r,
           p1 == getpid() && p2 == p1 ? "ok" : "WRONG", b5, b6, p3 == p1 ? "ok" : "WRONG");
    /* prctl (172) PR_SET_SYSCALL_USER_DISPATCH off: a no-op natively (it was off) */
    r = call80_6(site80, "prctl", 172, 0, 59, 0, 0, 0, 0, 0);
    long ppid = getppid();
    int same = 1;
    for (int i = 0; i < 5; i++) {
        struct regs in, out;
        pattern(&in, 110, i);
        sitesys_a(&in, &out);
        if ((long)out.rax != ppid) same = 0;
    }
    printf("i386 prctl(PR_SET_SYSCALL_USER_DISPATCH, off): %ld; 5 getppid from a new site: %s\n", r, same ? "ok" : "WRONG");
    return 0;
}

/* ---------------------------------------------------------------- exec */
static int cmd_exec(int ign)
{
    if (ign) { /* SIG_IGN survives the exec natively: the child says it in "ignored" */
        signal(SIGSYS, SIG_IGN);
        signal(SIGSEGV, SIG_IGN);
    }
    char *path = low + 1024;
    ssize_t n = readlink("/proc/self/exe", path, 1000);
    if (n <= 0) FAIL("readlink");
    path[n] = 0;
    strcpy(low + 2048, "exec-child");
    uint32_t *argv32 = (uint32_t *)(low + 3072), *envp32 = argv32 + 4;
    argv32[0] = (uint32_t)(uintptr_t)path; argv32[1] = (uint32_t)(uintptr_t)(low + 2048); argv32[2] = 0;
    envp32[0] = 0;
    long r = call80(site80, "execve", 11, 0, (uint64_t)path, (uint64_t)argv32, (uint64_t)envp32);
    FAIL("i386 execve returned %ld", r);
}

extern char **environ;
static int cmd_exec_child(void)
{
    int tl = 0;
    for (char **e = environ; *e; e++) if (!strncmp(*e, "TRAPLINE_", 9)) tl++;
    const char *pre = getenv("LD_PRELOAD");
    long r = call80(site80, "getpid", 20, 0, 0, 0, 0);
    struct sigaction sys, segv;
    sigaction(SIGSYS, 0, &sys);
    sigaction(SIGSEGV, 0, &segv);
    printf("exec child: LD_PRELOAD %s, TRAPLINE_* %s, i386 getpid %s, ignored SIGSYS %d SIGSEGV %d\n",
           pre && strstr(pre, "libtrapline") ? "ours" : "none", tl ? "present" : "none", r == getpid() ? "pid" : "WRONG",
           sys.sa_handler == SIG_IGN, segv.sa_handler == SIG_IGN);
    return 4;
}

/* ---------------------------------------------------------------- x32 */
static void x32_case(void (*site)(struct regs *, struct regs *), char *after, const char *what, uint64_t nr, int p)
{
    struct regs in, out;
    pattern(&in, nr, p);
    site(&in, &out);
    const uint64_t *a = (const uint64_t *)&in, *b = (const uint64_t *)&out;
    for (int i = 1; i < 15; i++)
        if (i != 2 && i != 10 && a[i] != b[i]) FAIL("%s: %s changed", what, rname[i]);
    if ((a[15] & (ARITH | DF)) != (b[15] & (ARITH | DF))) FAIL("%s: flags changed", what);
    printf("%s nr %#lx: %ld (0: the pid), rcx %s\n", what, (unsigned long)nr, (long)out.rax == getpid() ? 0L : (long)out.rax,
           out.rcx == (uint64_t)after ? "= next instruction" : "WRONG");
}

static int cmd_x32(void)
{
    /* site a: first executed with an x32 number (the trap path), then again */
    for (int i = 0; i < 2; i++) x32_case(sitesys_a, sitesys_a_site, "site a", 0x40000000 | 39, i);
    x32_case(sitesys_a, sitesys_a_site, "site a", 0x40000000 | 1, 0);
    x32_case(sitesys_a, sitesys_a_site, "site a", 0x40000000 | 512, 1);
    /* site b: first a valid number (the site is learned; lazy mode rewrites it) */
    x32_case(sitesys_b, sitesys_b_site, "site b", 39 | 0, 0);
    for (int i = 0; i < 2; i++) x32_case(sitesys_b, sitesys_b_site, "site b", 0x40000000 | 39, i);
    x32_case(sitesys_b, sitesys_b_site, "site b", 0x40000000 | 512, 1);
    x32_case(sitesys_b, sitesys_b_site, "site b", 0x40000000 | 0x3fffffff, 0);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IONBF, 0);
    if (argc < 2) { fprintf(stderr, "usage: int80 regs|eintr|restart|sigsuspend|special|hooked|sysenter|sysenter-die|x32\n"); return 2; }
    low = mmap(0, 4096 * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED || (uint64_t)low >= (1ull << 32) - 4096 * 16) FAIL("no memory below 4 GiB");
    const char *c = argv[1];
    if (!strcmp(c, "regs")) return cmd_regs();
    if (!strcmp(c, "page0")) return cmd_page0();
    if (!strcmp(c, "clone3fork")) return cmd_clone3fork();
    if (!strcmp(c, "eintr")) return cmd_eintr(0);
    if (!strcmp(c, "restart")) return cmd_eintr(1);
    if (!strcmp(c, "sigsuspend")) return cmd_sigsuspend();
    if (!strcmp(c, "special")) return cmd_special();
    if (!strcmp(c, "hooked")) return cmd_hooked();
    if (!strcmp(c, "sysenter")) return cmd_sysenter(1);
    if (!strcmp(c, "sysenter-die")) return cmd_sysenter(0);
    if (!strcmp(c, "x32")) return cmd_x32();
    if (!strcmp(c, "compat")) return cmd_compat();
    if (!strcmp(c, "emulated")) return cmd_emulated();
    if (!strcmp(c, "exec")) return cmd_exec(0);
    if (!strcmp(c, "exec-ign")) return cmd_exec(1);
    if (!strcmp(c, "exec-child")) return cmd_exec_child();
    fprintf(stderr, "int80: unknown subcommand %s\n", c);
    return 2;
}
