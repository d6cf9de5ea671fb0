/* The few C library functions the launcher (launch/trapline-exec.c, with sud/inject.c)
 * uses, on raw system calls, and its _start. The launcher runs once per `trapline run`
 * and spawn(), before the program: linked statically with glibc it spent about 0.3 ms in
 * glibc's own start-up (CPU feature detection: some hundred `cpuid`, each a trap to the
 * hypervisor on a virtual machine, ~4 us here), more than the rest of entering a
 * program. Only what the launcher calls is here, with the formats it uses (%s, %.*s,
 * %d, %u, %llu, %llx, %zu, %%); a function it starts to use fails the link. */
#include "core/core.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

char **environ;
static int err_no;
int *__errno_location(void) { return &err_no; }
FILE *stderr = (FILE *)2; /* the only stream: fd 2 */

static long ret(long r)
{
    if (r < 0 && r > -4096) {
        err_no = (int)-r;
        return -1;
    }
    return r;
}

/* ---- memory and strings ---- */
void *memcpy(void *d, const void *s, size_t n)
{
    for (size_t i = 0; i < n; i++) ((char *)d)[i] = ((const char *)s)[i];
    return d;
}
void *memmove(void *d, const void *s, size_t n)
{
    if ((char *)d < (const char *)s) return memcpy(d, s, n);
    for (size_t i = n; i-- > 0;) ((char *)d)[i] = ((const char *)s)[i];
    return d;
}
void *memset(void *d, int c, size_t n)
{
    for (size_t i = 0; i < n; i++) ((char *)d)[i] = (char)c;
    return d;
}
int memcmp(const void *a, const void *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)a)[i] != ((const unsigned char *)b)[i])
            return ((const unsigned char *)a)[i] - ((const unsigned char *)b)[i];
    return 0;
}
size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
int strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i]) return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}
int strcmp(const char *a, const char *b) { return strncmp(a, b, (size_t)-1); }
char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) return (char *)s;
        if (!*s) return 0;
    }
}
char *strrchr(const char *s, int c)
{
    const char *r = 0;
    for (;; s++) {
        if (*s == (char)c) r = s;
        if (!*s) return (char *)r;
    }
}

/* ---- memory: a bump allocator (the launcher frees nothing that matters); each block
 * keeps its size in the 16 bytes before it, for realloc ---- */
static char *heap, *heap_end;
void *malloc(size_t n)
{
    n = ((n + 15) & ~(size_t)15) + 16;
    if (!heap || (size_t)(heap_end - heap) < n) {
        size_t len = n > (256u << 10) ? (n + 4095) & ~(size_t)4095 : 256u << 10;
        long m = tl_sys6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m < 0 && m > -4096) {
            err_no = ENOMEM;
            return 0;
        }
        heap = (char *)m;
        heap_end = heap + len;
    }
    size_t *p = (size_t *)heap;
    heap += n;
    p[0] = n - 16;
    return p + 2;
}
void *realloc(void *old, size_t n)
{
    void *p = malloc(n);
    if (p && old) {
        size_t had = ((size_t *)old)[-2];
        memcpy(p, old, had < n ? had : n);
    }
    return p;
}
void *calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size) return 0;
    return malloc(n * size); /* fresh anonymous memory: zero */
}
void free(void *p) { (void)p; }
char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : 0;
}

char *getenv(const char *name)
{
    size_t n = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return 0;
}

/* ---- system calls ---- */
long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a[6];
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    return ret(tl_sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}
int prctl(int op, ...)
{
    va_list ap;
    va_start(ap, op);
    long a[4];
    for (int i = 0; i < 4; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    return (int)ret(tl_sys5(SYS_prctl, op, a[0], a[1], a[2], a[3]));
}
int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
    va_end(ap);
    return (int)ret(tl_sys4(SYS_openat, AT_FDCWD, path, flags, mode));
}
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return (int)ret(tl_sys3(SYS_fcntl, fd, cmd, arg));
}
ssize_t read(int fd, void *buf, size_t n) { return ret(tl_sys3(SYS_read, fd, buf, n)); }
int close(int fd) { return (int)ret(tl_sys1(SYS_close, fd)); }
int fstat(int fd, struct stat *st) { return (int)ret(tl_sys2(SYS_fstat, fd, st)); }
int lstat(const char *path, struct stat *st) { return (int)ret(tl_sys4(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW)); }
uid_t getuid(void) { return (uid_t)tl_sys0(SYS_getuid); }
uid_t geteuid(void) { return (uid_t)tl_sys0(SYS_geteuid); }
gid_t getgid(void) { return (gid_t)tl_sys0(SYS_getgid); }
gid_t getegid(void) { return (gid_t)tl_sys0(SYS_getegid); }
static const unsigned long *auxv;
unsigned long getauxval(unsigned long type)
{
    for (const unsigned long *a = auxv; a && a[0]; a += 2)
        if (a[0] == type) return a[1];
    err_no = ENOENT;
    return 0;
}
void _exit(int status)
{
    tl_sys1(SYS_exit_group, status);
    __builtin_unreachable();
}
int stat(const char *path, struct stat *st) { return (int)ret(tl_sys4(SYS_newfstatat, AT_FDCWD, path, st, 0)); }
int access(const char *path, int mode) { return (int)ret(tl_sys4(SYS_faccessat, AT_FDCWD, path, mode, 0)); }
ssize_t readlink(const char *path, char *buf, size_t n) { return ret(tl_sys3(SYS_readlink, path, buf, n)); }
int execve(const char *path, char *const argv[], char *const envp[]) { return (int)ret(tl_sys3(SYS_execve, path, argv, envp)); }

/* ---- messages ---- */
static const char *const errs[] = {
    [1] = "Operation not permitted",
    [2] = "No such file or directory",
    [3] = "No such process",
    [4] = "Interrupted system call",
    [5] = "Input/output error",
    [6] = "No such device or address",
    [7] = "Argument list too long",
    [8] = "Exec format error",
    [9] = "Bad file descriptor",
    [10] = "No child processes",
    [11] = "Resource temporarily unavailable",
    [12] = "Cannot allocate memory",
    [13] = "Permission denied",
    [14] = "Bad address",
    [15] = "Block device required",
    [16] = "Device or resource busy",
    [17] = "File exists",
    [18] = "Invalid cross-device link",
    [19] = "No such device",
    [20] = "Not a directory",
    [21] = "Is a directory",
    [22] = "Invalid argument",
    [23] = "Too many open files in system",
    [24] = "Too many open files",
    [25] = "Inappropriate ioctl for device",
    [26] = "Text file busy",
    [27] = "File too large",
    [28] = "No space left on device",
    [29] = "Illegal seek",
    [30] = "Read-only file system",
    [31] = "Too many links",
    [32] = "Broken pipe",
    [33] = "Numerical argument out of domain",
    [34] = "Numerical result out of range",
    [35] = "Resource deadlock avoided",
    [36] = "File name too long",
    [37] = "No locks available",
    [38] = "Function not implemented",
    [39] = "Directory not empty",
    [40] = "Too many levels of symbolic links",
    [42] = "No message of desired type",
    [43] = "Identifier removed",
    [44] = "Channel number out of range",
    [45] = "Level 2 not synchronized",
    [46] = "Level 3 halted",
    [47] = "Level 3 reset",
    [48] = "Link number out of range",
    [49] = "Protocol driver not attached",
    [50] = "No CSI structure available",
    [51] = "Level 2 halted",
    [52] = "Invalid exchange",
    [53] = "Invalid request descriptor",
    [54] = "Exchange full",
    [55] = "No anode",
    [56] = "Invalid request code",
    [57] = "Invalid slot",
    [59] = "Bad font file format",
    [60] = "Device not a stream",
    [61] = "No data available",
    [62] = "Timer expired",
    [63] = "Out of streams resources",
    [64] = "Machine is not on the network",
    [65] = "Package not installed",
    [66] = "Object is remote",
    [67] = "Link has been severed",
    [68] = "Advertise error",
    [69] = "Srmount error",
    [70] = "Communication error on send",
    [71] = "Protocol error",
    [72] = "Multihop attempted",
    [73] = "RFS specific error",
    [74] = "Bad message",
    [75] = "Value too large for defined data type",
    [76] = "Name not unique on network",
    [77] = "File descriptor in bad state",
    [78] = "Remote address changed",
    [79] = "Can not access a needed shared library",
    [80] = "Accessing a corrupted shared library",
    [81] = ".lib section in a.out corrupted",
    [82] = "Attempting to link in too many shared libraries",
    [83] = "Cannot exec a shared library directly",
    [84] = "Invalid or incomplete multibyte or wide character",
    [85] = "Interrupted system call should be restarted",
    [86] = "Streams pipe error",
    [87] = "Too many users",
    [88] = "Socket operation on non-socket",
    [89] = "Destination address required",
    [90] = "Message too long",
    [91] = "Protocol wrong type for socket",
    [92] = "Protocol not available",
    [93] = "Protocol not supported",
    [94] = "Socket type not supported",
    [95] = "Operation not supported",
    [96] = "Protocol family not supported",
    [97] = "Address family not supported by protocol",
    [98] = "Address already in use",
    [99] = "Cannot assign requested address",
    [100] = "Network is down",
    [101] = "Network is unreachable",
    [102] = "Network dropped connection on reset",
    [103] = "Software caused connection abort",
    [104] = "Connection reset by peer",
    [105] = "No buffer space available",
    [106] = "Transport endpoint is already connected",
    [107] = "Transport endpoint is not connected",
    [108] = "Cannot send after transport endpoint shutdown",
    [109] = "Too many references: cannot splice",
    [110] = "Connection timed out",
    [111] = "Connection refused",
    [112] = "Host is down",
    [113] = "No route to host",
    [114] = "Operation already in progress",
    [115] = "Operation now in progress",
    [116] = "Stale file handle",
    [117] = "Structure needs cleaning",
    [118] = "Not a XENIX named type file",
    [119] = "No XENIX semaphores available",
    [120] = "Is a named type file",
    [121] = "Remote I/O error",
    [122] = "Disk quota exceeded",
    [123] = "No medium found",
    [124] = "Wrong medium type",
    [125] = "Operation canceled",
    [126] = "Required key not available",
    [127] = "Key has expired",
    [128] = "Key has been revoked",
    [129] = "Key was rejected by service",
    [130] = "Owner died",
    [131] = "State not recoverable",
    [132] = "Operation not possible due to RF-kill",
    [133] = "Memory page has hardware error",
};
char *strerror(int e)
{
    static char unknown[40];
    if (e > 0 && e < (int)(sizeof errs / sizeof errs[0]) && errs[e]) return (char *)errs[e];
    char num[24];
    tl_fmt_u64(num, (uint64_t)(unsigned)e, 10);
    memcpy(unknown, "Unknown error ", 14);
    memcpy(unknown + 14, num, strlen(num) + 1);
    return unknown;
}

struct out {
    char *p;
    size_t n, len; /* room (with the NUL), length it would have */
};
static void put(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len + 1 < o->n) o->p[o->len] = s[i];
}
static void put_u(struct out *o, unsigned long long v, int base)
{
    char b[24];
    int k = 24;
    do {
        b[--k] = "0123456789abcdef"[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    put(o, b + k, (size_t)(24 - k));
}
int vsnprintf(char *buf, size_t n, const char *f, va_list ap)
{
    struct out o = {buf, n, 0};
    for (; *f; f++) {
        if (*f != '%') {
            put(&o, f, 1);
            continue;
        }
        f++;
        int prec = -1, lng = 0;
        if (f[0] == '.' && f[1] == '*') {
            prec = va_arg(ap, int);
            f += 2;
        }
        while (*f == 'l' || *f == 'z') {
            lng++;
            f++;
        }
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t l = 0;
            while (s[l] && (prec < 0 || l < (size_t)prec)) l++;
            put(&o, s, l);
            break;
        }
        case 'd': {
            long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
            if (v < 0) put(&o, "-", 1);
            put_u(&o, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10);
            break;
        }
        case 'u':
        case 'x': put_u(&o, lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned), *f == 'x' ? 16 : 10); break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            put(&o, &c, 1);
            break;
        }
        case '%': put(&o, "%", 1); break;
        default: /* not used by the launcher */
            put(&o, "?", 1);
            if (!*f) f--;
        }
    }
    if (n) buf[o.len < n ? o.len : n - 1] = 0;
    return (int)o.len;
}
int snprintf(char *buf, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(buf, n, f, ap);
    va_end(ap);
    return r;
}
int sprintf(char *buf, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(buf, (size_t)-1 >> 1, f, ap);
    va_end(ap);
    return r;
}
/* one write per message: a line is never split by another writer's */
static int write_all(const char *s, size_t n)
{
    while (n) {
        long w = tl_sys3(SYS_write, 2, s, n);
        if (w == -EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}
int fprintf(FILE *fp, const char *f, ...)
{
    (void)fp;
    char b[4096];
    va_list ap;
    va_start(ap, f);
    int r = vsnprintf(b, sizeof b, f, ap);
    va_end(ap);
    write_all(b, r < (int)sizeof b ? (size_t)r : sizeof b - 1);
    return r;
}
size_t fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
    (void)fp;
    return write_all(p, size * n) == 0 ? n : 0;
}
int fputs(const char *s, FILE *fp)
{
    (void)fp;
    return write_all(s, strlen(s));
}
int fputc(int c, FILE *fp)
{
    char ch = (char)c;
    (void)fp;
    return write_all(&ch, 1) == 0 ? c : -1;
}
void perror(const char *s)
{
    int e = err_no;
    fprintf(stderr, "%s%s%s\n", s && *s ? s : "", s && *s ? ": " : "", strerror(e));
}

/* ---- start and end ---- */
int main(int argc, char **argv, char **envp);
void exit(int status)
{
    tl_sys1(SYS_exit_group, status);
    __builtin_unreachable();
}
__attribute__((used, noreturn)) static void start_c(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    environ = argv + argc + 1;
    char **e = environ;
    while (*e) e++;
    auxv = (const unsigned long *)(e + 1);
    exit(main(argc, argv, environ));
}
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call start_c\n"
        "  ud2\n");
