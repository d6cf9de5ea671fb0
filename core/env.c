/* The environment trapline runs with and hands on: the TRAPLINE_* settings this process
 * started with (exec'd programs get them back, with the statistics segment's absolute
 * path and cookie and any mode a fallback chose), the path of this library, and the
 * environment without us (what a hook's own namespace sees). Used by sud/exec.c, by the
 * statistics (core/stats.c), by hooks (core/hooks.c) and by a tracer's view (core/ptrace.c). */
#include "core/core.h"
#include <sys/mman.h>

static char self_path[TL_SELF_PATH_MAX]; /* path of this image (libtrapline.so or the boot image) */
static char lib_path[TL_SELF_PATH_MAX]; /* libtrapline.so, for a program started the preload way */
static char boot_path[TL_SELF_PATH_MAX]; /* libtrapline-boot.so, for one entered at its first instruction */
static char launcher_path[TL_SELF_PATH_MAX]; /* trapline-exec, the launcher */
static const char **cfg_vars; /* "TRAPLINE_X=value" ... copied at start-up, any size */
static int n_cfg, cap_cfg; /* entries, room (tl_env_set adds a few) */
#define CFG_SPARE 8
int tl_follow_exec = 1;

int tl_starts(const char *s, const char *p)
{
    while (*p)
        if (*s++ != *p++) return 0;
    return 1;
}

/* A setting exec'd programs are given as this process got it: every TRAPLINE_* but
 * TRAPLINE_SIGIGN, which says what the program that exec'd this one ignored; this one
 * hands on its own (sud/exec.c), so it never reaches further than one exec. */
static int handed_on(const char *e) { return tl_starts(e, "TRAPLINE_") && !tl_starts(e, "TRAPLINE_SIGIGN="); }

void tl_env_init(void)
{
    /* our own path: as ld.so loaded us if absolute (no file read), else from the mapping
     * holding our code */
    struct tl_mapping m;
    if (tl_self_name && tl_self_name[0] == '/' && tl_strlen(tl_self_name) < sizeof self_path)
        memcpy(self_path, tl_self_name, tl_strlen(tl_self_name) + 1);
    else if (tl_vm_find(tl_text_lo, &m) == 0 && m.path[0] == '/')
        memcpy(self_path, m.path, sizeof self_path < sizeof m.path ? sizeof self_path : sizeof m.path);
    self_path[sizeof self_path - 1] = 0;
    /* the two images are built side by side (build/lib/) */
    size_t n = tl_strlen(self_path), dir = n;
    while (dir && self_path[dir - 1] != '/') dir--;
    const char *lib = "libtrapline.so", *boot = "libtrapline-boot.so";
    if (dir && dir + tl_strlen(boot) < sizeof boot_path) {
        memcpy(lib_path, self_path, dir);
        memcpy(lib_path + dir, lib, tl_strlen(lib) + 1);
        memcpy(boot_path, self_path, dir);
        memcpy(boot_path + dir, boot, tl_strlen(boot) + 1);
        memcpy(launcher_path, self_path, dir);
        memcpy(launcher_path + dir, "trapline-exec", sizeof "trapline-exec");
    }
    /* every TRAPLINE_* variable, whatever its size: one block holding the pointers and
     * the strings (a copy: the program may change its environment) */
    size_t count = 0, bytes = 0;
    for (char **e = tl_env; e && *e; e++)
        if (handed_on(*e)) {
            count++;
            bytes += tl_strlen(*e) + 1;
        }
    {
        cap_cfg = (int)count + CFG_SPARE;
        size_t total = (size_t)cap_cfg * sizeof(char *) + bytes;
        /* the usual few settings fit in a static block (no mapping of their own) */
        static uint64_t small[128];
        long m = total <= sizeof small
            ? (long)small
            : tl_sys6(SYS_mmap, 0, (long)total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m < 0 && m > -4096) tl_die("cannot copy the TRAPLINE_* settings for exec", 0, 0);
        cfg_vars = (const char **)m;
        char *str = (char *)(m + (long)((size_t)cap_cfg * sizeof(char *)));
        for (char **e = tl_env; e && *e; e++) {
            if (!handed_on(*e)) continue;
            size_t len = tl_strlen(*e) + 1;
            memcpy(str, *e, len);
            cfg_vars[n_cfg++] = str;
            str += len;
        }
    }
    const char *f = tl_getenv("TRAPLINE_FOLLOW_EXEC");
    tl_follow_exec = !(f && tl_streq(f, "0"));
}

/* Replaces (or adds) one TRAPLINE_* variable of those exec'd programs are given
 * ("TRAPLINE_X=value", a string that stays valid): the statistics segment's absolute path
 * and run cookie, known only after start-up; the mode a fallback chose, so that a run
 * says why it fell back once, not once per exec. */
void tl_env_set(const char *kv)
{
    size_t n = 0;
    while (kv[n] && kv[n] != '=') n++;
    for (int i = 0; i < n_cfg; i++) {
        size_t j = 0;
        while (j <= n && cfg_vars[i][j] == kv[j]) j++;
        if (j > n) {
            cfg_vars[i] = kv;
            return;
        }
    }
    /* CFG_SPARE covers every variable set here (three: the segment's path and cookie, the
     * mode): more would be a bug of ours, never dropped in silence */
    if (n_cfg >= cap_cfg) tl_die("internal error: no room for a setting for exec'd programs:", kv, 0);
    cfg_vars[n_cfg++] = kv;
}

const char *tl_self_path(void) { return self_path; }
const char *tl_lib_path(void) { return lib_path; }
const char *tl_boot_path(void) { return boot_path; }
const char *tl_launcher_path(void) { return launcher_path; }

/* the TRAPLINE_* settings exec'd programs get: *n entries */
const char *const *tl_env_settings(int *n)
{
    *n = n_cfg;
    return cfg_vars;
}

/* Is v[0..n) our library's entry in an LD_PRELOAD list: libtrapline.so by its path, or the
 * entry the loader was given for us? */
static int preload_entry_is_ours(const char *v, size_t n)
{
    const char *names[2] = {lib_path, tl_self_name};
    for (int k = 0; k < 2; k++) {
        const char *s = names[k];
        if (!s || !s[0] || tl_strlen(s) != n) continue;
        size_t i = 0;
        while (i < n && v[i] == s[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

/* Writes at out "LD_PRELOAD=" and the entries of list (a value, after "LD_PRELOAD=") that
 * are not ours, joined by ':'; entries that do not fit in room bytes are left out. Its
 * length with the NUL, or 0 (nothing written) if no entry is left. */
size_t tl_preload_without_us(char *out, size_t room, const char *list)
{
    static const char key[] = "LD_PRELOAD=";
    if (room < sizeof key + 1) return 0;
    char *p = out, *vals;
    for (const char *q = key; *q; q++) *p++ = *q;
    vals = p;
    room -= sizeof key; /* the key and the NUL */
    for (const char *v = list; *v;) {
        while (*v == ':' || *v == ' ') v++;
        const char *w = v;
        while (*w && *w != ':' && *w != ' ') w++;
        size_t n = (size_t)(w - v), need = n + (p > vals);
        if (n && !preload_entry_is_ours(v, n) && need <= room) {
            if (p > vals) *p++ = ':';
            room -= need;
            while (v < w) *p++ = *v++;
        }
        v = w;
    }
    if (p == vals) return 0;
    *p++ = 0;
    return (size_t)(p - out);
}
