/* execve / execveat: the new image must be interposed too, even when the program cleared
 * or replaced its environment (unless TRAPLINE_FOLLOW_EXEC=0). Two ways, tried in order:
 *   - entered at its first instruction (sud/inject.c): the kernel runs the new program
 *     with the environment the caller passed, minus what the preload way added to ours
 *     (TRAPLINE_*, our LD_PRELOAD entry); a helper loads the boot image into it before
 *     its first instruction (with a hook, loaded when its dynamic loader is done; a
 *     program without glibc's loader runs without the hook, which is said). Not for a
 *     set-user/group-ID program (a traced exec would drop its privileges);
 *   - preloaded: the environment passed to the kernel is the program's, with
 *     LD_PRELOAD made to start with libtrapline.so (kept as is if it already lists it)
 *     and every TRAPLINE_* variable replaced by the values this process started with.
 * A failed exec returns its error and changes nothing in the caller. */
#include "sud/sud.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>


/* A window of the program's memory read with one process_vm_readv (as much of the 4 KB
 * from its start as is mapped). The fix-up reads every pointer of the environment and the
 * start of every string: one call each was ~130 calls per exec for a 40-variable
 * environment (perf trace: the largest part of what an exec costs us besides the new
 * program's start-up); through the window it is a few. The window only answers when
 * every byte asked for was read; otherwise the byte-exact reads below decide. */
struct window {
    uint64_t lo, n; /* [lo, lo + n) is in buf */
    uint8_t buf[4096];
};

/* The n bytes at a, from the window (refilled from a if they are not in it), or NULL */
static const uint8_t *win_at(struct window *w, uint64_t a, size_t n)
{
    if (a >= w->lo && a - w->lo <= w->n && w->n - (a - w->lo) >= n) return w->buf + (a - w->lo);
    if (n > sizeof w->buf || (UNLIKELY(tl_seccomp_mode) && !tl_seccomp_allows(SYS_process_vm_readv, tl_pid, 0, 1))) return 0;
    struct {
        void *b;
        size_t l;
    } local = {w->buf, sizeof w->buf}, remote = {(void *)a, sizeof w->buf};
    long got = tl_sys6(SYS_process_vm_readv, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    w->lo = a;
    w->n = got > 0 ? (uint64_t)got : 0;
    return w->n >= n ? w->buf : 0;
}

/* Does the program's string at s start with p? 1 yes, 0 no, -1 unreadable (the kernel
 * will report EFAULT). Reads only up to the end of s's page at a time, so a valid short
 * string at the end of a mapping is read correctly. */
static int safe_starts(struct window *w, const char *s, const char *p)
{
    size_t n = tl_strlen(p), i = 0;
    const uint8_t *b = win_at(w, (uint64_t)s, n);
    if (b) {
        for (; i < n; i++)
            if (b[i] != (uint8_t)p[i]) return 0;
        return 1;
    }
    char buf[32];
    while (i < n) {
        uint64_t a = (uint64_t)s + i;
        size_t k = 4096 - (a & 4095);
        if (k > n - i) k = n - i;
        if (!tl_safe_read(a, buf, k)) return -1;
        for (size_t j = 0; j < k; j++, i++) {
            if (buf[j] != p[i]) return 0;
        }
    }
    return 1;
}

/* envp[i] (the program's pointer at a) through the window: 1 read, 0 unreadable */
static int read_ptr(struct window *w, uint64_t a, void *out, size_t n)
{
    const uint8_t *b = win_at(w, a, n);
    if (b) {
        memcpy(out, b, n);
        return 1;
    }
    return tl_safe_read(a, out, n);
}

/* Length of the program's string at s, or -1 if unreadable before its NUL or longer than
 * max (the kernel takes at most 32 pages per string: E2BIG). */
static long safe_strlen(const char *s, size_t max)
{
    char buf[256];
    size_t i = 0;
    while (i < max) {
        uint64_t a = (uint64_t)s + i;
        size_t k = 4096 - (a & 4095);
        if (k > sizeof buf) k = sizeof buf;
        if (!tl_safe_read(a, buf, k)) return -1;
        for (size_t j = 0; j < k; j++, i++)
            if (!buf[j]) return (long)i;
    }
    return -1;
}


/* does the LD_PRELOAD value list our library (separated by ':' or ' ')? */
static int lists_self(const char *v)
{
    const char *self = tl_lib_path();
    size_t n = tl_strlen(self);
    while (*v) {
        while (*v == ':' || *v == ' ') v++;
        const char *e = v;
        while (*e && *e != ':' && *e != ' ') e++;
        if ((size_t)(e - v) == n) {
            size_t i = 0;
            while (i < n && v[i] == self[i]) i++;
            if (i == n) return 1;
        }
        v = e;
    }
    return 0;
}


/* Performs execve (nr 59, path/argv/envp in a1..a3) or execveat (nr 322, dirfd/path/
 * argv/envp/flags in a1..a5) with the environment fixed up. */
#define PRELOAD_ROOM 131072 /* the program's own LD_PRELOAD value, at most */
#define PRELOAD_EQ_LEN (sizeof "LD_PRELOAD=" - 1)

/* What an entry of the program's environment is, for the exec fix-up: 1 TRAPLINE_*,
 * 2 LD_PRELOAD=, 0 anything else, -1 unreadable (the kernel fails the exec with EFAULT,
 * as without us). */
static int env_kind(struct window *w, const char *s)
{
    int t = safe_starts(w, s, "TRAPLINE_"), l = t == 0 ? safe_starts(w, s, "LD_PRELOAD=") : 0;
    if (l == 1 && safe_strlen(s, PRELOAD_ROOM) < 0) l = -1;
    return t < 0 || l < 0 ? -1 : t ? 1 : l ? 2 : 0;
}

/* Writes at p the LD_PRELOAD entry exec'd programs get: this library, then the program's
 * own value (app, after "LD_PRELOAD=", or NULL); p needs TL_SELF_PATH_MAX + 16 +
 * PRELOAD_ROOM bytes. Returns p. */
static char *preload_entry(char *p, const char *app)
{
    char *start = p;
    const char *q = "LD_PRELOAD=";
    while (*q) *p++ = *q++;
    for (q = tl_lib_path(); *q; q++) *p++ = *q;
    if (app && *app) {
        *p++ = ':';
        size_t room = PRELOAD_ROOM - 2;
        for (q = app; *q && room; q++, room--) *p++ = *q;
    }
    *p = 0;
    return start;
}

/* What the file an execve/execveat would run is, as far as entering it goes. */
/* What the file an execve/execveat would run is (sud/inject.c), and whether it is our own
 * launcher (same device and inode as build/lib/trapline-exec). */
static struct tl_target examine(long nr, long a1, long a2, long a5)
{
    int by_fd = nr == SYS_execveat && (a5 & AT_EMPTY_PATH);
    struct tl_target t = nr == SYS_execve ? tl_target_examine(AT_FDCWD, (const char *)a1, 0)
                                          : tl_target_examine(a1, by_fd ? 0 : (const char *)a2, a5);
    struct {
        uint64_t a[18];
    } ls;
    const char *l = tl_launcher_path();
    t.launcher = t.readable && l[0] && tl_sys4(SYS_newfstatat, AT_FDCWD, l, &ls, 0) == 0 && ls.a[0] == t.dev && ls.a[1] == t.ino;
    return t;
}

/* The exec itself. SIGSYS the program has blocked is blocked in its view only (the kernel
 * keeps it unblocked: sud/signals.c); a new program inherits the mask, so it is really
 * blocked across the exec (the new image's start-up takes it over, sud/init.c), and
 * unblocked again if the exec fails. */
static long do_exec(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    struct tl_tcb *t = tl_self();
    uint64_t sb = 1ull << (SIGSYS - 1);
    int block = t && t->sigsys_blocked;
    if (block) tl_sys4(SYS_rt_sigprocmask, SIG_BLOCK, &sb, 0, 8);
    long r = tl_sys6(nr, a1, a2, a3, a4, a5, a6);
    if (block) tl_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &sb, 0, 8);
    return r;
}

static int entered_warned, static_hook_warned, foreign_warned;

/* The first way: armed, then exec'd with envp (the caller's, or without our additions).
 * Returns the exec's error, or 1 if the way is not available (then the preload way). */
static long exec_entered(long nr, long a1, long a2, long a3, long a4, long a5, long envp, int no_hook, int is_static)
{
    int n_cfg;
    const char *const *cfg = tl_env_settings(&n_cfg);
    char ign_buf[TL_SIGIGN_MAX];
    const char *kept[64], *ign = tl_signals_exec_setting(ign_buf);
    if (no_hook || ign) { /* the settings without TRAPLINE_HOOK; what the program ignores */
        int k = 0;
        for (int i = 0; i < n_cfg && k < 61; i++)
            if (!no_hook || !tl_starts(cfg[i], "TRAPLINE_HOOK=")) kept[k++] = cfg[i];
        if (no_hook) kept[k++] = "TRAPLINE_HOOK_SKIPPED=1";
        if (ign) kept[k++] = ign;
        kept[k] = 0;
        cfg = kept;
    }
    struct tl_inject h;
    long e = tl_inject_arm(&h, tl_boot_path(), (char *const *)cfg);
    if (e) {
        if (!entered_warned && !tl_cfg.quiet) {
            /* "(ptrace: errno N); ...": one part, so that no space comes before the ';' */
            char why[128], num[24];
            tl_fmt_u64(num, (uint64_t)-e, 10);
            size_t k = tl_put(why, sizeof why, 0, "(ptrace: errno ");
            k = tl_put(why, sizeof why, k, num);
            tl_put(why, sizeof why, k,
                   is_static ? "); it is statically linked, so it runs without trapline"
                             : "); it starts from the preloaded library instead");
            tl_error("warning: cannot trace an exec'd program to enter it at its first instruction", why, 0);
        }
        entered_warned = 1;
        return 1;
    }
    long r = nr == SYS_execve ? do_exec(nr, a1, a2, envp, 0, 0, 0) : do_exec(nr, a1, a2, a3, envp, a5, 0);
    (void)a4;
    tl_inject_disarm(&h); /* only reached when the exec failed */
    return r;
}

/* The environment could not be built (no memory): the exec fails with ENOMEM rather than
 * start a program that might not be interposed. One line says why. */
static long no_room(void)
{
    tl_error("warning: out of memory for the environment that keeps an exec'd program interposed;", "the exec fails with ENOMEM",
             0);
    return -ENOMEM;
}

long tl_exec(long nr, long a1, long a2, long a3, long a4, long a5)
{
    tl_stats_fold_private(); /* a successful exec ends every thread */
    int n_cfg;
    const char *const *cfg_vars = tl_env_settings(&n_cfg);
    long envp_arg = nr == SYS_execve ? a3 : a4;
    if (!tl_follow_exec || !tl_self_path()[0]) return do_exec(nr, a1, a2, a3, a4, a5, 0);
    struct tl_target tg = examine(nr, a1, a2, a5);
    if (tg.launcher) {
        /* trapline inside trapline: the inner launcher enters its program itself (two
         * tracers cannot both have it); that run owns the processes it starts */
        return do_exec(nr, a1, a2, a3, a4, a5, 0);
    }
    if (tg.foreign) {
        /* not an x86-64 program: trapline cannot enter it (nor can the preloaded library,
         * which its loader would refuse with a message): it runs without us, said once */
        if (!foreign_warned && !tl_cfg.quiet)
            tl_error("warning: an exec'd program is not an x86-64 program (32-bit or another machine);", "it runs without trapline",
                     0);
        foreign_warned = 1;
    }
    int enter = tl_boot_path()[0] && tg.readable && !tg.secure && !tg.foreign && !tl_cfg.entry_preload, no_hook = 0;
    if (enter && tl_cfg.hook) {
        /* a hook is loaded by the new program's dynamic loader when it is done
         * (sud/boot.c); a static program has none, and musl's cannot: such a program is
         * entered without the hook, and that is said once */
        no_hook = tg.is_static || tg.other_loader;
        if (no_hook && !static_hook_warned && !tl_cfg.quiet)
            tl_error(tg.is_static ? "warning: an exec'd program is statically linked: the hook cannot be loaded into it;"
                                  : "warning: an exec'd program has musl's dynamic loader: the hook cannot be loaded into it;",
                     "it is interposed without the hook", 0);
        static_hook_warned |= no_hook;
    }
    if ((enter || tg.foreign) && tl_booted) {
        /* nothing of ours is in the environment of a program we entered */
        if (tg.foreign) return do_exec(nr, a1, a2, a3, a4, a5, 0);
        long r = exec_entered(nr, a1, a2, a3, a4, a5, envp_arg, no_hook, tg.is_static);
        if (r != 1) return r;
        enter = 0;
    }
    /* count the program's entries (a bad pointer: let the kernel report EFAULT) */
    const char *const *envp = (const char *const *)envp_arg;
    size_t n = 0;
    uint64_t v;
    struct window w;
    w.lo = w.n = 0;
    if (envp) {
        for (;; n++) {
            if (!read_ptr(&w, (uint64_t)(envp + n), &v, 8)) return do_exec(nr, a1, a2, a3, a4, a5, 0);
            if (!v) break;
        }
    }
    size_t cap = n + (size_t)n_cfg + 3;
    size_t bytes = cap * sizeof(char *) + TL_SELF_PATH_MAX + 16 + PRELOAD_ROOM;
    long m = tl_sys6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m < 0 && m > -4096) return no_room();
    const char **out = (const char **)m;
    char *preload = (char *)(m + (long)(cap * sizeof(char *)));
    size_t k = 0;
    const char *app_preload = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = envp[i];
        int kind = env_kind(&w, s);
        if (kind < 0) {
            tl_sys2(SYS_munmap, m, (long)bytes);
            return do_exec(nr, a1, a2, a3, a4, a5, 0);
        }
        if (kind == 1) continue;
        if (kind == 2) {
            app_preload = s + PRELOAD_EQ_LEN;
            continue;
        }
        out[k++] = s;
    }
    if (enter || tg.foreign) {
        /* the environment without what the preload way put in ours: TRAPLINE_* (left out
         * above) and our entry in LD_PRELOAD (the program's own entries stay) */
        if (app_preload) out[k++] = tl_preload_without_us(preload, 16 + PRELOAD_ROOM, app_preload) ? preload : 0;
        if (k && !out[k - 1]) k--;
        out[k] = 0;
        if (tg.foreign) {
            long r = nr == SYS_execve ? do_exec(nr, a1, a2, (long)out, 0, 0, 0) : do_exec(nr, a1, a2, a3, (long)out, a5, 0);
            tl_sys2(SYS_munmap, m, (long)bytes);
            return r;
        }
        long r = exec_entered(nr, a1, a2, a3, a4, a5, (long)out, no_hook, tg.is_static);
        if (r != 1) {
            tl_sys2(SYS_munmap, m, (long)bytes);
            return r;
        }
        k = 0; /* not available: the preload way, from the start */
        for (size_t i = 0; i < n; i++) {
            int kind = env_kind(&w, envp[i]);
            if (kind == 0) out[k++] = envp[i];
        }
    }
    for (int i = 0; i < n_cfg; i++) out[k++] = cfg_vars[i];
    /* SIGSYS/SIGSEGV the program ignores: SIG_IGN in the new program too (sud/signals.c) */
    char ign_buf[TL_SIGIGN_MAX];
    const char *ign = tl_signals_exec_setting(ign_buf);
    if (ign) out[k++] = ign;
    /* LD_PRELOAD=<self>[:<the program's value>] */
    out[k++] = app_preload && lists_self(app_preload) ? app_preload - PRELOAD_EQ_LEN : preload_entry(preload, app_preload);
    out[k] = 0;
    long r = nr == SYS_execve ? do_exec(nr, a1, a2, (long)out, 0, 0, 0) : do_exec(nr, a1, a2, a3, (long)out, a5, 0);
    tl_sys2(SYS_munmap, m, (long)bytes); /* only reached when the exec failed */
    return r;
}

/* The i386 execve (11) and execveat (358), from int $0x80 (sud/i386.c): the same fix-up,
 * with the compat layout: envp is an array of 32-bit pointers, so the new one, and the
 * strings it adds, live below 4 GiB (MAP_32BIT). Performed by int $0x80. */
long tl_exec_i386(long nr, long a1, long a2, long a3, long a4, long a5)
{
    tl_stats_fold_private();
    int n_cfg;
    const char *const *cfg_vars = tl_env_settings(&n_cfg);
    uint32_t envp_arg = (uint32_t)(nr == TL_NR32_EXECVE ? a3 : a4);
    if (!tl_follow_exec || !tl_self_path()[0]) return tl_int80_6(nr, a1, a2, a3, a4, a5, 0);
    const uint32_t *envp = (const uint32_t *)(uint64_t)envp_arg;
    size_t n = 0;
    uint32_t v;
    struct window w;
    w.lo = w.n = 0;
    if (envp) {
        for (;; n++) {
            if (!read_ptr(&w, (uint64_t)(envp + n), &v, 4)) return tl_int80_6(nr, a1, a2, a3, a4, a5, 0);
            if (!v) break;
        }
    }
    /* the settings, and SIGSYS/SIGSEGV the program ignores (sud/signals.c) */
    char ign_buf[TL_SIGIGN_MAX];
    const char *ign = tl_signals_exec_setting(ign_buf);
    int n_set = n_cfg + (ign != 0);
#define SETTING(i) ((i) < n_cfg ? cfg_vars[i] : ign)
    size_t cap = n + (size_t)n_set + 2, cfg_bytes = 0;
    for (int i = 0; i < n_set; i++) cfg_bytes += tl_strlen(SETTING(i)) + 1;
    size_t bytes = cap * 4 + (size_t)n_set * 4 + cfg_bytes + TL_SELF_PATH_MAX + 16 + PRELOAD_ROOM;
    long m = tl_sys6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (m < 0 && m > -4096) return no_room();
    uint32_t *out = (uint32_t *)m;
    uint32_t *cfg32 = out + cap; /* the TRAPLINE_* strings, copied below 4 GiB */
    char *strs = (char *)(cfg32 + n_set);
    for (int i = 0; i < n_set; i++) {
        size_t len = tl_strlen(SETTING(i)) + 1;
        memcpy(strs, SETTING(i), len);
        cfg32[i] = (uint32_t)(uint64_t)strs;
        strs += len;
    }
    char *preload = strs;
    size_t k = 0;
    const char *app_preload = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = (const char *)(uint64_t)envp[i];
        int kind = env_kind(&w, s);
        if (kind < 0) {
            tl_sys2(SYS_munmap, m, (long)bytes);
            return tl_int80_6(nr, a1, a2, a3, a4, a5, 0);
        }
        if (kind == 1) continue;
        if (kind == 2) {
            app_preload = s + PRELOAD_EQ_LEN;
            continue;
        }
        out[k++] = envp[i];
    }
#undef SETTING
    for (int i = 0; i < n_set; i++) out[k++] = cfg32[i];
    /* LD_PRELOAD=<self>[:<the program's value>]: the program's own entry is below 4 GiB
     * already (an i386 pointer) */
    out[k++] = (uint32_t)(uint64_t)(app_preload && lists_self(app_preload) ? app_preload - PRELOAD_EQ_LEN
                                                                           : preload_entry(preload, app_preload));
    out[k] = 0;
    long envp32 = (long)(uint32_t)(uint64_t)out;
    long r = nr == TL_NR32_EXECVE ? tl_int80_6(nr, a1, a2, envp32, 0, 0, 0) : tl_int80_6(nr, a1, a2, a3, envp32, a5, 0);
    tl_sys2(SYS_munmap, m, (long)bytes); /* only reached when the exec failed */
    return r;
}
