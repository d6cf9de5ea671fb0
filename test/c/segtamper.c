/* Statistics-segment trust checks (issue 12), one per subcommand; prints "ok" and exits 0.
 *
 *   offsets   rewrites the table offsets in its own segment's header (TRAPLINE_STATS) to
 *             point far outside the file, then runs a fresh syscall site and forks a child
 *             that runs another: the interposer must keep writing inside the segment
 *   forks N   forks N children one after the other, each exits at once */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static long fresh_site(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(110L) : "rcx", "r11", "memory");
    return r;
}

static long fresh_site2(void)
{
    long r;
    __asm__ volatile("nop\n\tsyscall" : "=a"(r) : "0"(39L) : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "offsets")) {
        const char *p = getenv("TRAPLINE_STATS");
        if (!p) { printf("no TRAPLINE_STATS\n"); return 1; }
        int fd = open(p, O_RDWR);
        if (fd < 0) { perror("open"); return 1; }
        unsigned char *h = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (h == MAP_FAILED) { perror("mmap"); return 1; }
        uint64_t far = 0x7f0000000000ull;
        memcpy(h + 112, &far, 8);   /* proc_off */
        memcpy(h + 128, &far, 8);   /* module_off */
        memcpy(h + 144, &far, 8);   /* site_off */
        uint32_t cap = 0xffffffffu;
        memcpy(h + 120, &cap, 4);   /* proc_cap */
        memcpy(h + 152, &cap, 4);   /* site_cap */
        if (fresh_site() != getppid()) { printf("bad getppid\n"); return 1; }
        pid_t c = fork();
        if (c == 0) _exit(fresh_site2() == getpid() ? 0 : 1);
        int st;
        if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) { printf("child failed %x\n", st); return 1; }
        printf("ok\n");
        return 0;
    }
    if (!strcmp(argv[1], "forks") && argc > 2) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++) {
            pid_t c = fork();
            if (c < 0) { perror("fork"); return 1; }
            if (c == 0) _exit(0);
            int st;
            if (waitpid(c, &st, 0) != c || st != 0) { printf("child %ld failed\n", i); return 1; }
        }
        printf("ok\n");
        return 0;
    }
    return 2;
}
