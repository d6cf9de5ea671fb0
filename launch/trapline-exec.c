/* trapline-exec: starts a program interposed from its first instruction.
 *
 *   trapline-exec [--argv0 NAME] PROG [ARGS...]
 *
 * The settings come from this process's environment (TRAPLINE_*, as for the preloaded
 * library: core/config.c). This process becomes the program (same pid): it arms the
 * injector (sud/inject.c), which traces it across the execve and loads the boot image
 * into the program before its first instruction, then execs PROG with the environment
 * without the settings. PROG is looked up in PATH if it has no '/'.
 *
 * A hook is loaded into the program when its dynamic loader is done (sud/boot.c); a
 * program without glibc's loader (static, musl) is refused with a hook, in one line.
 * The preload way is used instead (LD_PRELOAD=libtrapline.so, the settings in the
 * environment) with TRAPLINE_ENTRY=preload, when PROG is set-user-ID or set-group-ID (a traced exec would drop its privileges), and, with
 * one line on stderr, when the program cannot be traced here (ptrace refused).
 * Exit status if PROG cannot be run: 127 (not found) or 126 (found, not runnable), with
 * one line, as a shell. Run by the CLI and the API (ts/src/run.ts); not meant for users. */
#include "sud/sud.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* what sud/inject.c needs from core/util.c, here with libc */
void tl_fmt_u64(char *buf, uint64_t v, int base) { snprintf(buf, 24, base == 16 ? "%llx" : "%llu", (unsigned long long)v); }
void tl_error(const char *a, const char *b, const char *c)
{
    fprintf(stderr, "trapline: %s%s%s%s%s\n", a, b ? " " : "", b ? b : "", c ? " " : "", c ? c : "");
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* PROG as execvp would find it: the first executable candidate in PATH; else the first
 * that exists (its exec then reports why), else NULL */
static char *find(const char *prog)
{
    if (strchr(prog, '/')) return strdup(prog);
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/bin:/usr/bin";
    char *found = NULL;
    for (const char *p = path;; p++) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *cand = malloc(n + strlen(prog) + 3);
        if (!cand) return NULL;
        snprintf(cand, n + strlen(prog) + 3, "%.*s%s%s", (int)n, p, n ? "/" : "", prog);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                free(found);
                return cand;
            }
            if (!found) {
                found = cand;
                cand = NULL;
            }
        }
        free(cand);
        if (!e) break;
        p = e;
    }
    return found;
}

/* "LD_PRELOAD=" + the entries of list other than lib, or NULL if none is left */
static char *without(const char *list, const char *lib)
{
    char *out = malloc(strlen(list) + 12), *p;
    if (!out) return NULL;
    p = out + sprintf(out, "LD_PRELOAD=");
    char *vals = p;
    for (const char *v = list; *v;) {
        while (*v == ':' || *v == ' ') v++;
        const char *w = v;
        while (*w && *w != ':' && *w != ' ') w++;
        if (w > v && !((size_t)(w - v) == strlen(lib) && strncmp(v, lib, strlen(lib)) == 0)) {
            if (p > vals) *p++ = ':';
            memcpy(p, v, (size_t)(w - v));
            p += w - v;
        }
        v = w;
    }
    *p = 0;
    if (p == vals) {
        free(out);
        return NULL;
    }
    return out;
}

int main(int argc, char **argv, char **envp)
{
    int i = 1;
    const char *argv0 = NULL;
    if (i + 1 < argc && strcmp(argv[i], "--argv0") == 0) {
        argv0 = argv[i + 1];
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0) i++;
    if (i >= argc) {
        fprintf(stderr, "usage: trapline-exec [--argv0 NAME] PROG [ARGS...]\n");
        return 2;
    }
    const char *prog = argv[i];
    char **args = &argv[i];
    if (argv0) args[0] = (char *)argv0;

    /* the images beside this executable */
    char self[PATH_MAX], dir[PATH_MAX], boot[PATH_MAX + 32], lib[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        perror("trapline: /proc/self/exe");
        return 2;
    }
    self[n] = 0;
    snprintf(dir, sizeof dir, "%s", self);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(boot, sizeof boot, "%s/libtrapline-boot.so", dir);
    snprintf(lib, sizeof lib, "%s/libtrapline.so", dir);

    /* the settings, and the program's environment without them */
    size_t ne = 0;
    while (envp[ne]) ne++;
    char **settings = calloc(ne + 2, sizeof *settings), **env = calloc(ne + 3, sizeof *env);
    if (!settings || !env) {
        perror("trapline");
        return 2;
    }
    size_t ns = 0, nv = 0;
    int hook = 0, preload = 0;
    const char *app_preload = NULL;
    for (size_t k = 0; k < ne; k++) {
        if (starts(envp[k], "TRAPLINE_")) {
            settings[ns++] = envp[k];
            if (starts(envp[k], "TRAPLINE_HOOK=") && envp[k][14]) hook = 1;
            if (strcmp(envp[k], "TRAPLINE_ENTRY=preload") == 0) preload = 1;
        } else {
            if (starts(envp[k], "LD_PRELOAD=")) {
                /* the program's own entries; ours (from an outer run) is not one of them */
                char *v = without(envp[k] + 11, lib);
                if (!v) continue;
                app_preload = v + 11;
                env[nv++] = v;
                continue;
            }
            env[nv++] = envp[k];
        }
    }
    char *path = find(prog);
    if (!path) {
        fprintf(stderr, "trapline: %s: command not found\n", prog);
        return 127;
    }
    struct tl_target tg = tl_target_examine(AT_FDCWD, path, 0);
    if (hook && (tg.is_static || tg.other_loader)) {
        /* no loader will ever load the hook into it: refused (an exec from inside a run is
         * entered without the hook instead, and says so: sud/exec.c) */
        fprintf(stderr,
                tg.is_static ? "trapline: %s is statically linked: a hook needs the program's dynamic loader "
                               "(docs/hooks.md); run it without the hook\n"
                             : "trapline: %s has a dynamic loader other than glibc's (musl?), which cannot give a hook a "
                               "namespace of its own (docs/hooks.md); run it without the hook\n",
                prog);
        return 2;
    }
    if (tg.foreign) {
        /* trapline interposes x86-64 programs: this one runs without it (the preloaded
         * library would only make its loader complain) */
        fprintf(stderr, "trapline: warning: %s is not an x86-64 program (32-bit or another machine); it runs without trapline\n",
                prog);
        execve(path, args, env);
        int err = errno;
        fprintf(stderr, "trapline: cannot run %s: %s\n", prog, strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    if (!tg.secure && !preload) {
        struct tl_inject h;
        int e = tl_inject_arm(&h, boot, settings);
        if (e == 0) {
            execve(path, args, env);
            int err = errno;
            tl_inject_disarm(&h);
            fprintf(stderr, "trapline: cannot run %s: %s\n", prog, strerror(err));
            return err == ENOENT ? 127 : 126;
        }
        const char *q = getenv("TRAPLINE_QUIET");
        if (!q || strcmp(q, "1") != 0)
            fprintf(stderr,
                    "trapline: warning: cannot trace %s to enter it at its first instruction (ptrace: %s); "
                    "it starts from the preloaded library, which does not see the calls made before its constructor\n",
                    prog, strerror(-e));
    }
    /* the preload way: the settings stay in the environment, libtrapline.so first in
     * LD_PRELOAD */
    char **penv = calloc(ne + 3, sizeof *penv);
    if (!penv) {
        perror("trapline");
        return 2;
    }
    size_t np = 0;
    for (size_t k = 0; k < nv; k++)
        if (!starts(env[k], "LD_PRELOAD=")) penv[np++] = env[k];
    for (size_t k = 0; k < ns; k++) penv[np++] = settings[k];
    size_t pl = strlen(lib) + (app_preload ? strlen(app_preload) : 0) + 16;
    char *pre = malloc(pl);
    if (!pre) {
        perror("trapline");
        return 2;
    }
    snprintf(pre, pl, "LD_PRELOAD=%s%s%s", lib, app_preload && *app_preload ? ":" : "", app_preload ? app_preload : "");
    penv[np++] = pre;
    execve(path, args, penv);
    int err = errno;
    fprintf(stderr, "trapline: cannot run %s: %s\n", prog, strerror(err));
    return err == ENOENT ? 127 : 126;
}
