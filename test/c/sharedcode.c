/* A syscall site in shared memory must never be rewritten: the store would reach the file
 * on disk, or the other views of the memory. usage: sharedcode KIND N DIR
 *   file-rw  a file opened read-write, mapped MAP_SHARED r-x
 *   file-ro  the same, opened read-only
 *   memfd    a memfd mapped twice, MAP_SHARED: r-x to run, r-- to look
 *   fork     a file mapped MAP_SHARED r-x, run by a parent and its forked child
 *   private  control: a file mapped MAP_PRIVATE r-x (its copy may be rewritten)
 * The code is `mov $110,%eax; syscall; ret` (getppid), called N times per process. Prints
 * whether every call returned getppid's value and whether the bytes (file and views) are
 * unchanged afterwards. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const unsigned char code[] = { 0xb8, 0x6e, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3 };

static int run(const unsigned char *at, int n)
{
    long (*f)(void) = (long (*)(void))(const void *)at;
    long want = getppid();
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= f() == want;
    return ok;
}

static int same(const unsigned char *p) { return memcmp(p, code, sizeof code) == 0; }

static int file_same(const char *path)
{
    unsigned char b[sizeof code];
    int fd = open(path, O_RDONLY);
    int ok = fd >= 0 && read(fd, b, sizeof b) == (ssize_t)sizeof b && memcmp(b, code, sizeof b) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    const char *kind = argv[1];
    int n = atoi(argv[2]);
    char path[4096];
    snprintf(path, sizeof path, "%s/code-%s.bin", argv[3], kind);
    unsigned char page[4096];
    memset(page, 0xcc, sizeof page);
    memcpy(page, code, sizeof code);
    int ok, view_same = 1;
    if (strcmp(kind, "memfd") == 0) {
        int fd = memfd_create("code", 0);
        if (fd < 0 || write(fd, page, sizeof page) != (ssize_t)sizeof page) return 3;
        unsigned char *x = mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        unsigned char *r = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (x == MAP_FAILED || r == MAP_FAILED) return 4;
        ok = run(x, n);
        view_same = same(r) && same(x);
        printf("%s calls_ok=%d views_same=%d\n", kind, ok, view_same);
        return 0;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, page, sizeof page) != (ssize_t)sizeof page) return 3;
    close(fd);
    fd = open(path, strcmp(kind, "file-ro") == 0 ? O_RDONLY : O_RDWR);
    int flags = strcmp(kind, "private") == 0 ? MAP_PRIVATE : MAP_SHARED;
    unsigned char *x = mmap(0, 4096, PROT_READ | PROT_EXEC, flags, fd, 0);
    if (x == MAP_FAILED) return 4;
    if (strcmp(kind, "fork") == 0) {
        pid_t c = fork();
        if (c == 0) _exit(run(x, n) ? 0 : 1);
        ok = run(x, n);
        int st;
        waitpid(c, &st, 0);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    } else {
        ok = run(x, n);
    }
    munmap(x, 4096);
    close(fd);
    printf("%s calls_ok=%d file_same=%d\n", kind, ok, file_same(path));
    return 0;
}
