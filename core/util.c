/* Output and tiny libc replacements usable from any context (signal handlers, hooks,
 * the fast path's C fallback): raw write(2) only, no vector instructions. */
#include "core/core.h"

/* process-wide facts (core/core.h), set at start-up by sud/init.c */
int tl_active;
int tl_pid;
uint64_t tl_text_lo, tl_text_hi, tl_vdso_lo, tl_vdso_hi;
const char *tl_self_name; /* the path we were loaded by (LD_PRELOAD's entry, or the boot image's) */
char **tl_env; /* where our settings come from: environ, or the boot block */
const uint64_t *tl_auxv; /* the process's auxiliary vector (as the kernel gave it) */
int tl_booted; /* entered at the program's first instruction (sud/boot.c) */
#include <errno.h>

void *memcpy(void *d, const void *s, size_t n)
{
    void *r = d;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return r;
}

void *memset(void *d, int c, size_t n)
{
    void *r = d;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return r;
}

size_t tl_strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

size_t tl_put(char *buf, size_t cap, size_t k, const char *s)
{
    while (*s && k + 1 < cap) buf[k++] = *s++;
    if (k < cap) buf[k] = 0;
    return k;
}

int tl_streq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

void tl_write_err(const char *s)
{
    size_t n = tl_strlen(s);
    while (n > 0) {
        long r = tl_sys3(SYS_write, 2, s, n);
        if (r == -4) continue;
        if (r <= 0) return;
        s += r;
        n -= (size_t)r;
    }
}

void tl_fmt_u64(char *buf, uint64_t v, int base)
{
    char tmp[24];
    int i = 0;
    do {
        int d = (int)(v % (unsigned)base);
        tmp[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= (unsigned)base;
    } while (v);
    int j = 0;
    while (i) buf[j++] = tmp[--i];
    buf[j] = 0;
}

void tl_error(const char *a, const char *b, const char *c)
{
    /* one write so concurrent processes do not interleave the line */
    char line[512];
    size_t n = 0;
    const char *parts[4] = {"trapline: ", a, b, c};
    for (int i = 0; i < 4; i++) {
        if (!parts[i]) continue;
        if (i > 1 && n < sizeof line - 2) line[n++] = ' ';
        for (const char *p = parts[i]; *p && n < sizeof line - 2; p++) line[n++] = *p;
    }
    line[n++] = '\n';
    line[n] = 0;
    tl_write_err(line);
}

/* sched_yield for a spin lock's waiter, unless the program's seccomp filter may forbid
 * it (then the waiter just spins on) */
void tl_spin_yield(void)
{
    if (!tl_seccomp_mode || tl_seccomp_allows(SYS_sched_yield, 0, 0, 0)) tl_sys0(SYS_sched_yield);
}

/* A limit was reached or a step failed in a way the run's report must show: flag (a
 * TL_FLAG_*) is set in the statistics segment's header, and the first time in this
 * process (per flag) one line says what happened, unless TRAPLINE_QUIET. */
void tl_limit(uint32_t flag, const char *a, const char *b, const char *c)
{
    static uint32_t said;
    if (tl_stats && !(__atomic_load_n(&tl_stats->flags, __ATOMIC_RELAXED) & flag))
        __atomic_or_fetch(&tl_stats->flags, flag, __ATOMIC_RELAXED);
    if (__atomic_fetch_or(&said, flag, __ATOMIC_RELAXED) & flag) return;
    if (!tl_cfg.quiet) tl_error(a, b, c);
}

/* "0x<hex>" of v into buf (>= 24 bytes); returns buf */
char *tl_fmt_hex(char *buf, uint64_t v)
{
    buf[0] = '0';
    buf[1] = 'x';
    tl_fmt_u64(buf + 2, v, 16);
    return buf;
}

void tl_die(const char *a, const char *b, const char *c)
{
    tl_error(a, b, c);
    tl_sys1(SYS_exit_group, TL_EXIT_INTERNAL);
    __builtin_unreachable();
}

extern char **environ;
/* the value of auxiliary vector entry type, 0 if absent: from the vector the boot block
 * points at (sud/boot.c), else libc's copy */
#ifndef TL_BOOT
#include <sys/auxv.h>
#endif
uint64_t tl_auxv_get(uint64_t type)
{
#ifndef TL_BOOT
    if (!tl_auxv) return getauxval(type);
#endif
    for (const uint64_t *a = tl_auxv; a && a[0]; a += 2)
        if (a[0] == type) return a[1];
    return 0;
}

const char *tl_getenv(const char *name)
{
    size_t n = tl_strlen(name);
    for (char **e = tl_env; e && *e; e++) {
        const char *s = *e;
        size_t i = 0;
        while (i < n && s[i] == name[i]) i++;
        if (i == n && s[i] == '=') return s + n + 1;
    }
    return NULL;
}

/* Reads n bytes at addr without faulting: 1 if all were readable. */
int tl_safe_read(uint64_t addr, void *out, size_t n)
{
    if (UNLIKELY(!tl_seccomp_allows(SYS_process_vm_readv, tl_pid, 0, 1))) {
        /* the program's seccomp forbids the call: read directly (a bad pointer faults) */
        memcpy(out, (const void *)addr, n);
        return 1;
    }
    struct {
        void *b;
        size_t l;
    } local = {out, n}, remote = {(void *)addr, n};
    long r = tl_sys6(SYS_process_vm_readv, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    if (r == (long)n) return 1;
    if (r >= 0 || r == -EFAULT) return 0;
    /* the call itself is refused (EPERM: a vfork child reading through its parent's pid
     * under Yama, ENOSYS): read directly */
    memcpy(out, (const void *)addr, n);
    return 1;
}

/* Writes n bytes at addr without faulting: 1 if all were writable (as copy_to_user). */
int tl_safe_write(uint64_t addr, const void *in, size_t n)
{
    if (UNLIKELY(!tl_seccomp_allows(SYS_process_vm_writev, tl_pid, 0, 1))) {
        memcpy((void *)addr, in, n);
        return 1;
    }
    struct {
        const void *b;
        size_t l;
    } local = {in, n}, remote = {(void *)addr, n};
    long r = tl_sys6(SYS_process_vm_writev, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    if (r == (long)n) return 1;
    if (r >= 0 || r == -EFAULT) return 0;
    memcpy((void *)addr, in, n);
    return 1;
}
