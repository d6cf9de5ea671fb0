/* Programs that reach trapline's limits (test/limits.test.ts):
 *   threads N K   N threads alive at once (more than the statistics segment's counter
 *                 blocks), each making K getppid calls from one site; prints "ok <calls>"
 *   sites N       N distinct syscall sites in JIT code (more than the set of rewritten
 *                 sites holds), each called twice; then the code is made writable and
 *                 must show its own bytes `0f 05` at every site; prints
 *                 "ok <sites> restored <n>"
 *   seccomp N     installs N allow-all seccomp filters, then makes a call from a site not
 *                 executed before; prints "site 0x<address of that syscall>" and "ok" */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

__attribute__((noinline)) static long site_getppid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
    return r;
}

static pthread_barrier_t all_alive;
static long K, ppid;
static long bad;

static void *body(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&all_alive);          /* every thread exists at once */
    for (long i = 0; i < K; i++) if (site_getppid() != ppid) __atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
    return 0;
}

static int threads(int n, long k)
{
    K = k;
    ppid = getppid();
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    pthread_barrier_init(&all_alive, 0, (unsigned)n);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &a, body, 0)) { printf("create failed at %d\n", i); return 1; }
    for (int i = 0; i < n; i++) pthread_join(t[i], 0);
    printf("ok %ld bad %ld\n", (long)n * k, bad);
    return bad != 0;
}

/* each site: mov $SYS_getppid, %eax; syscall; ret (8 bytes, the syscall at +5) */
static int sites(long n)
{
    size_t len = ((size_t)n * 8 + 4095) & ~(size_t)4095;
    unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    static const unsigned char code[8] = { 0xb8, SYS_getppid, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    for (long i = 0; i < n; i++) memcpy(p + 8 * i, code, 8);
    long want = getppid(), wrong = 0;
    for (int round = 0; round < 2; round++)
        for (long i = 0; i < n; i++) if (((long (*)(void))(p + 8 * i))() != want) wrong++;
    if (mprotect(p, len, PROT_READ | PROT_WRITE)) { perror("mprotect"); return 1; }
    long restored = 0;
    for (long i = 0; i < n; i++) restored += p[8 * i + 5] == 0x0f && p[8 * i + 6] == 0x05;
    printf("ok %ld restored %ld wrong %ld\n", n, restored, wrong);
    return wrong != 0;
}

static int filters(int n)
{
    struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
    struct sock_fprog prog = { 1, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { perror("prctl"); return 1; }
    for (int i = 0; i < n; i++)
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) { perror("seccomp"); return 1; }
    uint64_t at;
    long r = 0;
    for (int i = 0; i < 3; i++)
        __asm__ volatile("lea 0f(%%rip), %1\n0: syscall" : "=a"(r), "=r"(at) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
    printf("site 0x%llx\n%s\n", (unsigned long long)at, r == getppid() ? "ok" : "wrong");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "threads") == 0) return threads(atoi(argv[2]), atol(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "sites") == 0) return sites(atol(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "seccomp") == 0) return filters(atoi(argv[2]));
    fprintf(stderr, "usage: limits threads N K | sites N | seccomp N\n");
    return 2;
}
