/* /proc/self/maps, read with raw calls (usable from the dispatch and signal context). */
#include "core/core.h"
#include <fcntl.h>
#include <errno.h>
#include <sys/mman.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static const char *hex(const char *p, uint64_t *v)
{
    int d;
    *v = 0;
    while ((d = hexval(*p)) >= 0) *v = *v * 16 + (uint64_t)d, p++;
    return p;
}

/* Parses one maps line into *m. 0 on success. */
static int parse(const char *line, struct tl_mapping *m)
{
    const char *p = hex(line, &m->start);
    if (*p++ != '-') return -1;
    p = hex(p, &m->end);
    if (*p++ != ' ') return -1;
    m->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
    m->shared = p[3] == 's';
    p += 5;
    p = hex(p, &m->offset);
    for (int fields = 0; fields < 2; fields++) { /* dev, inode */
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
    }
    while (*p == ' ') p++;
    size_t k = 0;
    while (p[k] && k < sizeof m->path - 1) {
        m->path[k] = p[k];
        k++;
    }
    m->path[k] = 0;
    return 0;
}

static int maps_each_in(const char *file, int (*fn)(const struct tl_mapping *, void *), void *arg);

int tl_maps_each(int (*fn)(const struct tl_mapping *, void *), void *arg) { return maps_each_in("/proc/self/maps", fn, arg); }

struct pid_find_arg {
    uint64_t addr;
    struct tl_mapping *out;
    int found;
};
static int pid_find_cb(const struct tl_mapping *m, void *a)
{
    struct pid_find_arg *f = a;
    if (f->addr >= m->start && f->addr < m->end) {
        *f->out = *m;
        f->found = 1;
        return 1;
    }
    return 0;
}

/* The mapping holding addr in process pid (/proc/PID/maps). 0 found. */
int tl_maps_find_pid(int pid, uint64_t addr, struct tl_mapping *out)
{
    char file[40], num[24];
    tl_fmt_u64(num, (uint64_t)pid, 10);
    size_t k = tl_put(file, sizeof file, 0, "/proc/");
    k = tl_put(file, sizeof file, k, num);
    tl_put(file, sizeof file, k, "/maps");
    struct pid_find_arg f = {addr, out, 0};
    maps_each_in(file, pid_find_cb, &f);
    return f.found ? 0 : -1;
}

static int maps_each_in(const char *file, int (*fn)(const struct tl_mapping *, void *), void *arg)
{
    /* under the program's seccomp, only if the filter allows the reads */
    if (UNLIKELY(tl_seccomp_mode) &&
        !(tl_seccomp_allows(SYS_openat, AT_FDCWD, 0, O_RDONLY | O_CLOEXEC) && tl_seccomp_allows(SYS_read, 0, 0, 0) &&
          tl_seccomp_allows(SYS_close, 0, 0, 0)))
        return -1;
    long fd = tl_sys4(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    char buf[4096], line[600];
    size_t ll = 0;
    int stop = 0;
    struct tl_mapping m;
    while (!stop) {
        long n = tl_sys3(SYS_read, fd, buf, sizeof buf);
        if (n == -EINTR) continue;
        if (n <= 0) break;
        for (long i = 0; i < n && !stop; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof line - 1) line[ll++] = buf[i];
                continue;
            }
            line[ll] = 0;
            ll = 0;
            if (parse(line, &m) == 0) stop = fn(&m, arg);
        }
    }
    tl_sys1(SYS_close, fd);
    return stop ? 0 : 1;
}

struct find_arg {
    uint64_t addr;
    struct tl_mapping *out;
};
static int find_cb(const struct tl_mapping *m, void *a)
{
    struct find_arg *f = a;
    if (f->addr < m->start || f->addr >= m->end) return 0;
    *f->out = *m;
    return 1;
}

int tl_maps_find(uint64_t addr, struct tl_mapping *out)
{
    struct find_arg f = {addr, out};
    return tl_maps_each(find_cb, &f) == 0 ? 0 : -1;
}
