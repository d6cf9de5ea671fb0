/* getppid micro-benchmark (driven by bench/run.mjs).
 *
 *   getppid ITER                 ns per getppid made by one inline `syscall` site, after
 *                                1000 warm-up calls through that same site (so in lazy
 *                                mode it is already rewritten); best of 7 runs of ITER.
 *   getppid ITER libc            the same with libc's getppid() (its syscall instruction is
 *                                libc's: the cost of attributing a call to libc's caller,
 *                                docs/policies.md).
 *   getppid ITER rw              ITER calls alternating libc's read() of 1 byte from
 *                                /dev/zero and write() of it to /dev/null (two sites of
 *                                libc, as `dd bs=1` makes them, without dd's own work).
 *   getppid ITER sud-baseline    the same, after enabling Syscall User Dispatch ourselves
 *                                (no interposer) with all of user space allowed: the
 *                                kernel's slow syscall entry, the floor of any SUD user.
 *   getppid ITER first-site      cost of the first and second execution of each of 2000
 *                                fresh sites (`mov $110,%eax; syscall; ret` stubs in an
 *                                R-X anonymous mapping, written then mprotect'ed as a JIT
 *                                does); best of 3 fresh mappings. ITER is ignored.
 *   getppid ITER first-site-file the same stubs in a file, mapped MAP_PRIVATE R-X (fresh
 *                                mappings of it, as a loaded library's code).
 *   getppid ITER first-site-sud  first-site after enabling Syscall User Dispatch ourselves
 *                                (as sud-baseline): the kernel's floor for 2000 hot sites.
 * Output: "mode <what ran>" then "ns_per_call X" (the best) and "ns_reps X1 .. X7" (every
 * run), or "first_ns X" and "second_ns X". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define REPS 7
#define SITES 2000
#define ROUNDS 3

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One syscall instruction for the warm-up and every timed run: never inlined, so the
 * compiler cannot duplicate the site. */
__attribute__((noinline)) static void loop(long n)
{
    for (long i = 0; i < n; i++) {
        long r = 110; /* SYS_getppid */
        __asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
    }
}

__attribute__((noinline)) static void loop_libc(long n)
{
    for (long i = 0; i < n; i++) getppid();
}

static int rw_in = -1, rw_out = -1;
__attribute__((noinline)) static void loop_rw(long n)
{
    char b;
    for (long i = 0; i < n; i += 2) {
        if (read(rw_in, &b, 1) != 1 || write(rw_out, &b, 1) != 1) { perror("rw"); exit(1); }
    }
}

/* What actually ran, as far as we can tell from the environment. */
static const char *mode(void)
{
    const char *pre = getenv("LD_PRELOAD");
    if (!pre || !strstr(pre, "libtrapline")) return "uninterposed";
    const char *m = getenv("TRAPLINE_MODE");
    if (m && strcmp(m, "sud-only") == 0) return "sud-only";
    char buf[32] = "";
    FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
    if (f) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; fclose(f); }
    buf[strcspn(buf, "\n")] = 0;
    return strcmp(buf, "0") == 0 ? "lazy" : "sud-only (lazy unavailable: vm.mmap_min_addr != 0)";
}

static void sud_on(void)
{
    static volatile char selector = 0; /* SYSCALL_DISPATCH_FILTER_ALLOW */
    /* PR_SET_SYSCALL_USER_DISPATCH, ON, offset 0, length: all of user space */
    if (prctl(59, 1, 0, 0x7ffffffff000UL, &selector)) {
        perror("prctl(PR_SET_SYSCALL_USER_DISPATCH)");
        exit(1);
    }
}

static void first_site(int file)
{
    static const unsigned char stub[8] = { 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    double first = 1e300, second = 1e300;
    int fd = -1;
    if (file) {
        char path[] = "/tmp/trapline-bench-XXXXXX";
        unsigned char buf[SITES * 16];
        fd = mkstemp(path);
        if (fd < 0) { perror("mkstemp"); exit(1); }
        unlink(path);
        memset(buf, 0, sizeof buf);     /* the same bytes as the JIT variant's */
        for (int i = 0; i < SITES; i++) memcpy(buf + 16 * i, stub, sizeof stub);
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) { perror("write"); exit(1); }
    }
    for (int round = 0; round < ROUNDS; round++) {
        /* a fresh mapping each round (never unmapped: the addresses stay fresh) */
        unsigned char *p;
        if (file) {
            p = mmap(0, SITES * 16, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) { perror("mmap"); exit(1); }
            for (int i = 0; i < SITES * 16; i += 4096) (void)*(volatile unsigned char *)(p + i);   /* paged in, as for the JIT */
        } else {
            p = mmap(0, SITES * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) { perror("mmap"); exit(1); }
            for (int i = 0; i < SITES; i++) memcpy(p + 16 * i, stub, sizeof stub);
            if (mprotect(p, SITES * 16, PROT_READ | PROT_EXEC)) { perror("mprotect"); exit(1); }
        }
        double t[3];
        for (int pass = 0; pass < 2; pass++) {
            t[pass] = now_ns();
            for (int i = 0; i < SITES; i++) {
                long (*f)(void) = (long (*)(void))(p + 16 * i);
                if (f() < 0) { fprintf(stderr, "getppid failed\n"); exit(1); }
            }
        }
        t[2] = now_ns();
        if ((t[1] - t[0]) / SITES < first) first = (t[1] - t[0]) / SITES;
        if ((t[2] - t[1]) / SITES < second) second = (t[2] - t[1]) / SITES;
    }
    printf("first_ns %.1f\nsecond_ns %.1f\n", first, second);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || atol(argv[1]) <= 0) {
        fprintf(stderr, "usage: getppid ITER [first-site|first-site-file|first-site-sud|sud-baseline|libc|rw]\n");
        return 2;
    }
    long iter = atol(argv[1]);
    const char *what = argc == 3 ? argv[2] : "";
    int sud = strcmp(what, "sud-baseline") == 0;
    int file = strcmp(what, "first-site-file") == 0;
    int libc = strcmp(what, "libc") == 0;
    int rw = strcmp(what, "rw") == 0;
    int first_sud = strcmp(what, "first-site-sud") == 0;
    if (*what && !sud && !file && !libc && !rw && !first_sud && strcmp(what, "first-site") != 0) {
        fprintf(stderr, "getppid: unknown mode '%s'\n", what);
        return 2;
    }
    printf("mode %s\n", sud || first_sud ? "sud-baseline" : mode());
    if (sud || first_sud) sud_on();
    if (file || first_sud || strcmp(what, "first-site") == 0) {
        first_site(file);
        return 0;
    }
    if (rw) {
        rw_in = open("/dev/zero", O_RDONLY);
        rw_out = open("/dev/null", O_WRONLY);
        if (rw_in < 0 || rw_out < 0) { perror("open"); return 1; }
    }
    void (*run)(long) = rw ? loop_rw : libc ? loop_libc : loop;
    run(1000);
    double best = 1e300, all[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = now_ns();
        run(iter);
        double t = (now_ns() - t0) / iter;
        all[r] = t;
        if (t < best) best = t;
    }
    printf("ns_per_call %.2f\nns_reps", best);
    for (int r = 0; r < REPS; r++) printf(" %.2f", all[r]);
    printf("\n");
    return 0;
}
