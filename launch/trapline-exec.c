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
 * environment) with TRAPLINE_ENTRY=preload, when PROG is set-user-ID or set-group-ID (a
 * traced exec would drop its privileges), and, with one line on stderr, when the program cannot be traced here (ptrace refused).
 * Exit status if PROG cannot be run: 127 (not found) or 126 (found, not runnable), with
 * one line, as a shell. Run by the CLI and the API (ts/src/run.ts); not meant for users.
 *
 * With a file capability (`trapline setup`: cap_sys_rawio+ep, docs/security.md) an ordinary
 * user's run can map the trampoline at address 0 under vm.mmap_min_addr > 0. The kernel
 * then starts this file with AT_SECURE: its environment is the user's, untrusted, and
 * nothing here uses the capability but one step. Only when the program is entered at its
 * first instruction, CAP_SYS_RAWIO is made ambient just before the execve, with the
 * helper already tracing (PTRACE_O_EXITKILL: if the helper dies, so does the program);
 * the boot code maps page 0 and drops every capability before anything else (sud/init.c),
 * and the helper kills the program unless /proc/PID/status shows none left (sud/inject.c).
 * Every other way drops every capability before the execve. */
#include "sud/sud.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/sysmacros.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

/* what sud/inject.c needs from core/util.c, here with libc */
void tl_fmt_u64(char *buf, uint64_t v, int base) { snprintf(buf, 24, base == 16 ? "%llx" : "%llu", (unsigned long long)v); }
void tl_error(const char *a, const char *b, const char *c)
{
    fprintf(stderr, "trapline: %s%s%s%s%s\n", a, b ? " " : "", b ? b : "", c ? " " : "", c ? c : "");
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* ---- the file capability (trapline setup) ------------------------------------------- */

extern char **environ;
static int capped; /* started with the file capability: CAP_SYS_RAWIO held, AT_SECURE */

static int caps_set(uint32_t prm, uint32_t eff, uint32_t inh)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{eff, prm, inh}, {0, 0, 0}};
    return (int)syscall(SYS_capset, &h, d);
}

/* every capability gone (permitted, effective, inheritable, ambient), checked; a failure
 * stops here: nothing runs with a capability it was not meant to have */
static void drop_all(void)
{
    if (!capped) return;
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{1, 1, 1}, {1, 1, 1}};
    caps_set(0, 0, 0);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (syscall(SYS_capget, &h, d) != 0 ||
        d[0].permitted | d[0].effective | d[0].inheritable | d[1].permitted | d[1].effective | d[1].inheritable ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_RAWIO, 0, 0) != 0) {
        fprintf(stderr, "trapline: cannot drop the launcher's capabilities; stopping\n");
        _exit(2);
    }
    capped = 0;
}

/* A directory or file a capability may trust: owned by root, not writable by group or
 * others (a directory may be if sticky: no one else can move root's entries in it). */
static int root_safe(const char *path, int dir)
{
    struct stat st;
    if (lstat(path, &st) != 0 || st.st_uid != 0) return 0;
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) return 0;
    return !(st.st_mode & 022) || (dir && (st.st_mode & 01000));
}

/* The launcher, its images and every directory above them must be root's: else a user
 * could swap the boot image that runs holding the capability. */
static const char *unsafe_install(const char *self, const char *boot)
{
    if (!root_safe(self, 0)) return self;
    if (!root_safe(boot, 0)) return boot;
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", self);
    for (char *s; (s = strrchr(d, '/'));) {
        if (s == d) {
            d[1] = 0;
            return root_safe(d, 1) ? NULL : "/";
        }
        *s = 0;
        if (!root_safe(d, 1)) {
            static char bad[PATH_MAX];
            snprintf(bad, sizeof bad, "%s", d);
            return bad;
        }
    }
    return NULL;
}

/* The environment as the user gave it: /proc/self/environ holds the strings as the kernel
 * put them (glibc would have deleted some, LD_PRELOAD, TMPDIR, ..., from the array main
 * gets under AT_SECURE; our launch/minilibc.c does not, but the kernel's copy is the one
 * to trust). NULL if it cannot be read. */
static char **original_env(void)
{
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t r; buf; len += (size_t)r) {
        if (len == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            r = 0;
        else if (r <= 0) {
            close(fd);
            buf[len] = 0;
            size_t n = 0;
            for (size_t i = 0; i < len; i++)
                if (!buf[i]) n++;
            char **env = calloc(n + 2, sizeof *env);
            if (!env) return NULL;
            size_t k = 0;
            for (size_t i = 0; i < len; i += strlen(buf + i) + 1) env[k++] = buf + i;
            env[k] = NULL;
            return env;
        }
    }
    close(fd);
    return NULL;
}

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
    if (getauxval(AT_SECURE) && getuid() != 0) {
        /* a file capability (trapline setup); never set-user/group-ID */
        if (getuid() != geteuid() || getgid() != getegid()) {
            fprintf(stderr,
                    "trapline: trapline-exec must not be set-user-ID or set-group-ID (trapline setup gives it a file "
                    "capability instead); stopping\n");
            return 2;
        }
        capped = 1;
        /* the launcher's own C library (launch/minilibc.c) opens no fd and trims no
         * variable under AT_SECURE, as glibc's would */
        /* nothing effective until the one step that needs it; CAP_SYS_RAWIO only */
        if (caps_set(1u << CAP_SYS_RAWIO, 0, 0) != 0) drop_all();
        /* the exec made us non-dumpable: our /proc files are root's, and the helper could
         * not trace us. Dumpable, we are still out of reach of the user's processes: to
         * trace or read a process, the kernel also wants every capability it has */
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        char **orig = original_env();
        if (!orig) {
            drop_all();
            fprintf(stderr, "trapline: cannot read the environment (/proc/self/environ); stopping\n");
            return 2;
        }
        envp = environ = orig;
    }
    int i = 1;
    const char *argv0 = NULL;
    if (i + 1 < argc && strcmp(argv[i], "--argv0") == 0) {
        argv0 = argv[i + 1];
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--") == 0) i++;
    if (i >= argc) {
        drop_all();
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
        drop_all();
        perror("trapline: /proc/self/exe");
        return 2;
    }
    self[n] = 0;
    snprintf(dir, sizeof dir, "%s", self);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(boot, sizeof boot, "%s/libtrapline-boot.so", dir);
    snprintf(lib, sizeof lib, "%s/libtrapline.so", dir);
    const char *unsafe = capped ? unsafe_install(self, boot) : NULL;
    if (unsafe) {
        drop_all();
        fprintf(stderr,
                "trapline: warning: %s is not root's alone (owned by root, not writable by others); the launcher's "
                "capability is not used\n",
                unsafe);
    }

    /* the settings, and the program's environment without them */
    size_t ne = 0;
    while (envp[ne]) ne++;
    char **settings = calloc(ne + 3, sizeof *settings), **env = calloc(ne + 3, sizeof *env);
    if (!settings || !env) {
        perror("trapline");
        return 2;
    }
    size_t ns = 0, nv = 0;
    int hook = 0, preload = 0;
    const char *app_preload = NULL;
    for (size_t k = 0; k < ne; k++) {
        if (starts(envp[k], "TRAPLINE_")) {
            if (starts(envp[k], "TRAPLINE_CAPS=")) continue; /* ours to set, below */
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
        drop_all();
        fprintf(stderr, "trapline: %s: command not found\n", prog);
        return 127;
    }
    struct tl_target tg = tl_target_examine(AT_FDCWD, path, 0);
    if (hook && (tg.is_static || tg.other_loader)) {
        drop_all();
        /* no loader will ever load the hook into it: refused (an exec from inside a run is
         * entered without the hook instead, and says so: sud/exec.c) */
        fprintf(stderr,
                tg.is_static ? "trapline: %s is statically linked: a hook needs the program's dynamic loader "
                               "(docs/hooks.md); run it without the hook\n"
                             : "trapline: %s has musl's dynamic loader, which cannot give a hook a namespace of its own "
                               "(no dlmopen; docs/hooks.md); run it without the hook\n",
                prog);
        return 2;
    }
    if (tg.foreign) {
        /* trapline interposes x86-64 programs: this one runs without it (the preloaded
         * library would only make its loader complain) */
        drop_all();
        fprintf(stderr, "trapline: warning: %s is not an x86-64 program (32-bit or another machine); it runs without trapline\n",
                prog);
        execve(path, args, env);
        int err = errno;
        fprintf(stderr, "trapline: cannot run %s: %s\n", prog, strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    if (!tg.secure && !preload) {
        struct tl_inject h;
        int added = capped;
        if (capped) {
            /* the boot maps page 0, then drops every capability (TRAPLINE_CAPS=drop); the
             * helper traces with PTRACE_O_EXITKILL from the start and checks, and it needs
             * CAP_SYS_RAWIO effective to open the memory of a program holding it */
            settings[ns++] = "TRAPLINE_CAPS=drop";
            if (caps_set(1u << CAP_SYS_RAWIO, 1u << CAP_SYS_RAWIO, 1u << CAP_SYS_RAWIO) != 0) drop_all();
        }
        int e = tl_inject_arm(&h, boot, settings);
        if (e == 0 && capped) {
            /* ambient: the program (no file capability, not set-ID) keeps it across the
             * execve, without AT_SECURE */
            if (caps_set(1u << CAP_SYS_RAWIO, 0, 1u << CAP_SYS_RAWIO) != 0 ||
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_RAWIO, 0, 0) != 0)
                drop_all(); /* then sud-only, with the usual line */
        }
        if (e == 0) {
            execve(path, args, env);
            int err = errno;
            if (added) {
                /* the helper kills us if it goes (EXITKILL): exit, and it leaves */
                drop_all();
                fprintf(stderr, "trapline: cannot run %s: %s\n", prog, strerror(err));
                return err == ENOENT ? 127 : 126;
            }
            tl_inject_disarm(&h);
            fprintf(stderr, "trapline: cannot run %s: %s\n", prog, strerror(err));
            return err == ENOENT ? 127 : 126;
        }
        if (added) {
            ns--; /* not TRAPLINE_CAPS=drop: the preload way runs without any capability */
            settings[ns] = NULL;
            drop_all();
        }
        int quiet = 0;
        for (size_t k = 0; k < ns; k++) quiet |= strcmp(settings[k], "TRAPLINE_QUIET=1") == 0;
        if (!quiet)
            fprintf(stderr,
                    "trapline: warning: cannot trace %s to enter it at its first instruction (ptrace: %s); "
                    "it starts from the preloaded library, which does not see the calls made before its constructor\n",
                    prog, strerror(-e));
    }
    /* the preload way: the settings stay in the environment, libtrapline.so first in
     * LD_PRELOAD; the loader and the hook never run with a capability */
    drop_all();
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
