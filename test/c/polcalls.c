/* Programs for the policy tests (test/policy.test.ts): each mode makes a known sequence of
 * system calls and prints what it got back, so that a run under trapline's rules and a run
 * under strace's can be compared by their output.
 *   polcalls open PATH N      open(PATH) N times: "open I: FD" or "open I: ERRNO-NAME"
 *   polcalls read PATH        reads PATH to its end: "read N bytes: TEXT"
 *   polcalls write            writes "hello\n" (6 bytes) once: "write returned N" on stderr
 *   polcalls signal N         getpid N times with a SIGUSR1 handler: "handler ran K times"
 *   polcalls delay            getppid once: "slow" if it took >= 100 ms, else "fast"
 *   polcalls getppid N        getppid N times from one inline site, then "done N"
 *   polcalls fifo N PATH      as getppid N, then writes "done" into the FIFO PATH, reads a
 *                             byte back from it and makes one more getppid ("done N+1")
 *   polcalls plugin LIB       socket() from main, then from LIB's plugin_socket: "main: R" "plugin: R"
 *   polcalls plugin-loop LIB N  getppid N times from main, N times from LIB's plugin_getppid,
 *                             N times from main again: "main failed A, plugin failed B"
 *   polcalls jit              getppid from main, then from anonymous code: "main: R" "jit: R"
 *   polcalls threads T N      T threads making N getppid each: "threads done"
 *   polcalls seq              a fixed sequence (paths, reads, writes, a fork), for comparing
 *                             the trace with strace -f of a native run */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EIO: return "EIO";
    case ENOSYS: return "ENOSYS";
    default: return "E?";
    }
}

static long raw0(long nr)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory");
    return r;
}

static volatile int handled;
static void on_usr1(int sig) { (void)sig; handled++; }

static void *worker(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < n; i++) raw0(SYS_getppid);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const char *m = argv[1];
    if (!strcmp(m, "open") && argc == 4) {
        int n = atoi(argv[3]);
        for (int i = 1; i <= n; i++) {
            int fd = open(argv[2], O_RDONLY);
            if (fd < 0) printf("open %d: %s\n", i, ename(errno));
            else { printf("open %d: ok\n", i); close(fd); }
        }
        return 0;
    }
    if (!strcmp(m, "read") && argc == 3) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) { printf("open: %s\n", ename(errno)); return 1; }
        char buf[4096];
        long total = 0, k;
        while ((k = read(fd, buf + total, sizeof buf - 1 - total)) > 0) total += k;
        buf[total] = 0;
        printf("read %ld bytes: %s\n", total, buf);
        return 0;
    }
    if (!strcmp(m, "write")) {
        long r = write(1, "hello\n", 6);
        fprintf(stderr, "write returned %ld\n", r);
        return 0;
    }
    if (!strcmp(m, "signal") && argc == 3) {
        signal(SIGUSR1, on_usr1);
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) raw0(SYS_getpid);
        printf("handler ran %d times\n", handled);
        return 0;
    }
    if (!strcmp(m, "delay")) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        raw0(SYS_getppid);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ns = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
        printf("%s\n", ns >= 100000000L ? "slow" : "fast");
        return 0;
    }
    if ((!strcmp(m, "getppid") && argc == 3) || (!strcmp(m, "fifo") && argc == 4)) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) raw0(SYS_getppid);
        if (argc == 4) {
            /* "done" into the FIFO; then wait for the reader's byte back, and make one
             * more call (the first the ring has room for again) */
            int fd = open(argv[3], O_WRONLY);
            if (fd < 0 || write(fd, "done", 4) != 4) return 1;
            close(fd);
            char c;
            fd = open(argv[3], O_RDONLY);
            if (fd < 0 || read(fd, &c, 1) != 1) return 1;
            close(fd);
            raw0(SYS_getppid);
            n++;
        }
        printf("done %ld\n", n);
        return 0;
    }
    if (!strcmp(m, "plugin") && argc == 3) {
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "0"(41L), "D"(1L), "S"(1L), "d"(0L) : "rcx", "r11", "memory");
        printf("main: %s\n", r >= 0 ? "ok" : ename((int)-r));
        void *h = dlopen(argv[2], RTLD_NOW);
        if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
        long (*ps)(void) = (long (*)(void))dlsym(h, "plugin_socket");
        r = ps();
        printf("plugin: %s\n", r >= 0 ? "ok" : ename((int)-r));
        return 0;
    }
    if (!strcmp(m, "plugin-loop") && argc == 4) {
        /* getppid N times from main's site, then N times from LIB's: how many failed */
        long n = atol(argv[3]), bad_main = 0, bad_plugin = 0;
        for (long i = 0; i < n; i++) if (raw0(SYS_getppid) < 0) bad_main++;
        void *h = dlopen(argv[2], RTLD_NOW);
        if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
        long (*pg)(void) = (long (*)(void))dlsym(h, "plugin_getppid");
        for (long i = 0; i < n; i++) if (pg() < 0) bad_plugin++;
        for (long i = 0; i < n; i++) if (raw0(SYS_getppid) < 0) bad_main++;
        printf("main failed %ld, plugin failed %ld\n", bad_main, bad_plugin);
        return 0;
    }
    if (!strcmp(m, "jit")) {
        long r = raw0(SYS_getppid);
        printf("main: %s\n", r >= 0 ? "ok" : ename((int)-r));
        static const unsigned char stub[] = { 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };   /* mov $110,%eax; syscall; ret */
        unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 1;
        memcpy(p, stub, sizeof stub);
        if (mprotect(p, 4096, PROT_READ | PROT_EXEC)) return 1;
        r = ((long (*)(void))p)();
        printf("jit: %s\n", r >= 0 ? "ok" : ename((int)-r));
        return 0;
    }
    if (!strcmp(m, "threads") && argc == 4) {
        int t = atoi(argv[2]);
        long n = atol(argv[3]);
        pthread_t th[64];
        if (t > 64) return 2;
        for (int i = 0; i < t; i++) pthread_create(&th[i], 0, worker, (void *)n);
        for (int i = 0; i < t; i++) pthread_join(th[i], 0);
        printf("threads done\n");
        return 0;
    }
    if (!strcmp(m, "seq")) {
        char buf[64];
        raw0(SYS_getppid);                                   /* the marker: compared from here on */
        int fd = open("/etc/passwd", O_RDONLY);
        long k = read(fd, buf, 16);
        close(fd);
        open("/nonexistent/trapline-policy-test", O_RDONLY);
        access("/etc/hostname", R_OK);
        write(1, "seq\n", 4);
        (void)k;
        pid_t c = fork();
        if (c == 0) {
            int f = open("/dev/null", O_WRONLY);
            write(f, "child", 5);
            close(f);
            _exit(3);
        }
        int st;
        waitpid(c, &st, 0);
        mkdir("/nonexistent/dir", 0700);
        return 0;
    }
    return 2;
}
