/* selfview: prints what a program can see of itself, one `key=value` per line, so that a
 * run under trapline can be compared with a native run (test/launch.test.ts, issue 14).
 *
 * Built in several flavours (CMakeLists.txt, "launch fixtures"): build/test/launch/
 * selfview-{dyn,nopie,static,static-pie,execstack,musl,musl-static}. The same source
 * compiles with glibc and musl; SELFVIEW_DYNAMIC is defined for dynamically linked ones.
 *
 * Keys, by how a test compares them:
 *   var.*   differ between any two runs (pid, ppid): compared by presence only;
 *   addr.*  addresses the kernel chose at exec (AT_PHDR, AT_ENTRY, AT_BASE, AT_RANDOM,
 *           AT_EXECFN, the vDSO, the initial stack): with ASLR compared by presence only,
 *           with ASLR off (setarch -R) equal between two runs of the same command;
 *   others  facts independent of ASLR (offsets, relations, contents): equal.
 * Every fact about an address is also printed as an ASLR-independent relation (an offset
 * from the executable's base, "is it the interpreter's first mapping", ...).
 *
 * Read from the initial stack (past argv and the environment the kernel gave, as
 * /proc/self/environ counts it: the auxiliary vector),
 * from getauxval and from /proc/self/auxv, and checked against each other.
 * The program's own LD_PRELOAD / LD_LIBRARY_PATH / LD_AUDIT: when they name the fixture
 * libraries libselfpreload.so / libselfdep.so / libselfaudit.so (test/launch/), the
 * `ld.*` keys say whether each took effect. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SELFVIEW_DYNAMIC
#include <dlfcn.h>
#endif

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif
#ifndef AT_RSEQ_ALIGN
#define AT_RSEQ_ALIGN 28
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

/* glibc >= 2.35 exports these when it registered rseq; musl has neither */
extern const unsigned int __rseq_size __attribute__((weak));
extern const ptrdiff_t __rseq_offset __attribute__((weak));

static void put_esc(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') fputs("\\\\", stdout);
        else if (c < 0x20 || c >= 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
}

static void kv(const char *k, const char *v)
{
    printf("%s=", k);
    put_esc(v, strlen(v));
    putchar('\n');
}

static void kvn(const char *k, const char *v, size_t n)
{
    printf("%s=", k);
    put_esc(v, n);
    putchar('\n');
}

static void kx(const char *k, unsigned long v) { printf("%s=0x%lx\n", k, v); }
static void kd(const char *k, long v) { printf("%s=%ld\n", k, v); }

/* a whole /proc file (NUL-terminated; *len without the NUL) */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = 0;
    if (len) *len = n;
    return b;
}

/* ---- /proc/self/maps ---------------------------------------------------------------- */
struct map { unsigned long lo, hi, off; char perms[5]; char path[PATH_MAX]; };
static struct map *maps;
static int nmaps;

static void read_maps(void)
{
    char *b = slurp("/proc/self/maps", NULL), *line = b;
    int cap = 64;
    maps = calloc((size_t)cap, sizeof *maps);
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (nmaps == cap) maps = realloc(maps, sizeof *maps * (size_t)(cap *= 2));
        struct map *m = &maps[nmaps];
        int pos = 0;
        if (sscanf(line, "%lx-%lx %4s %lx %*s %*s %n", &m->lo, &m->hi, m->perms, &m->off, &pos) >= 4) {
            snprintf(m->path, sizeof m->path, "%s", pos ? line + pos : "");
            nmaps++;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(b);
}

static const struct map *map_at(unsigned long a)
{
    for (int i = 0; i < nmaps; i++) if (a >= maps[i].lo && a < maps[i].hi) return &maps[i];
    return NULL;
}

static const struct map *map_named(const char *path)   /* lowest mapping of a file */
{
    for (int i = 0; i < nmaps; i++) if (!strcmp(maps[i].path, path)) return &maps[i];
    return NULL;
}

static int mapped_basename(const char *base)
{
    for (int i = 0; i < nmaps; i++) {
        const char *s = strrchr(maps[i].path, '/');
        if (s && !strcmp(s + 1, base)) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- the auxiliary vector -------------------------------------------------------------- */
static const char *at_name(unsigned long t)
{
    switch (t) {
    case AT_IGNORE: return "AT_IGNORE"; case AT_EXECFD: return "AT_EXECFD"; case AT_PHDR: return "AT_PHDR";
    case AT_PHENT: return "AT_PHENT"; case AT_PHNUM: return "AT_PHNUM"; case AT_PAGESZ: return "AT_PAGESZ";
    case AT_BASE: return "AT_BASE"; case AT_FLAGS: return "AT_FLAGS"; case AT_ENTRY: return "AT_ENTRY";
    case AT_NOTELF: return "AT_NOTELF"; case AT_UID: return "AT_UID"; case AT_EUID: return "AT_EUID";
    case AT_GID: return "AT_GID"; case AT_EGID: return "AT_EGID"; case AT_PLATFORM: return "AT_PLATFORM";
    case AT_HWCAP: return "AT_HWCAP"; case AT_CLKTCK: return "AT_CLKTCK"; case AT_SECURE: return "AT_SECURE";
    case AT_BASE_PLATFORM: return "AT_BASE_PLATFORM"; case AT_RANDOM: return "AT_RANDOM";
    case AT_HWCAP2: return "AT_HWCAP2"; case AT_RSEQ_FEATURE_SIZE: return "AT_RSEQ_FEATURE_SIZE";
    case AT_RSEQ_ALIGN: return "AT_RSEQ_ALIGN"; case AT_EXECFN: return "AT_EXECFN";
    case AT_SYSINFO: return "AT_SYSINFO"; case AT_SYSINFO_EHDR: return "AT_SYSINFO_EHDR";
    case AT_MINSIGSTKSZ: return "AT_MINSIGSTKSZ";
    default: return NULL;
    }
}

static int at_is_addr(unsigned long t)
{
    return t == AT_PHDR || t == AT_BASE || t == AT_ENTRY || t == AT_PLATFORM || t == AT_BASE_PLATFORM ||
           t == AT_RANDOM || t == AT_EXECFN || t == AT_SYSINFO || t == AT_SYSINFO_EHDR;
}

static const unsigned long *auxv;       /* from the initial stack */
static unsigned long aux(unsigned long t, int *found)
{
    for (const unsigned long *a = auxv; a[0] != AT_NULL; a += 2)
        if (a[0] == t) { if (found) *found = 1; return a[1]; }
    if (found) *found = 0;
    return 0;
}

static void show_auxv(char **envp, char **argv, int argc)
{
    /* The kernel laid out argc, argv, NULL, envp, NULL, auxv. Count the environment it gave
     * from /proc/self/environ (the strings area), not by envp's first NULL: code that ran
     * before main may have removed entries from the array in place. */
    size_t elen = 0;
    char *ev = slurp("/proc/self/environ", &elen);
    long kenvc = 0;
    for (size_t i = 0; ev && i < elen; i++) if (!ev[i]) kenvc++;
    free(ev);
    char **kenvp = argv + argc + 1;
    int intact = kenvp[kenvc] == NULL;
    for (long i = 0; i < kenvc; i++) if (!kenvp[i]) intact = 0;
    kd("env.kernel_count", kenvc);
    kd("env.kernel_array_intact", intact);
    kd("env.main_envp_is_kernel_envp", envp == kenvp);
    auxv = (const unsigned long *)(kenvp + kenvc + 1);
    size_t n = 0;
    char types[1024] = "";
    for (const unsigned long *a = auxv; a[0] != AT_NULL; a += 2, n++) {
        char key[64], num[24];
        const char *nm = at_name(a[0]);
        if (!nm) { snprintf(num, sizeof num, "AT_%lu", a[0]); nm = num; }
        snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s", n ? "," : "", nm);
        if (at_is_addr(a[0]) && a[1]) { snprintf(key, sizeof key, "addr.auxv.%s", nm); kx(key, a[1]); }
        else { snprintf(key, sizeof key, "auxv.%s", nm); kx(key, a[1]); }
    }
    kv("auxv.types", types);
    kd("auxv.count", (long)n);

    /* the three sources agree */
    size_t plen = 0;
    char *p = slurp("/proc/self/auxv", &plen);
    size_t slen = (n + 1) * 2 * sizeof(unsigned long);
    kd("auxv.proc_equals_stack", p && plen == slen && !memcmp(p, auxv, slen));
    free(p);
    /* the types for which getauxval answers other than the stack (glibc answers AT_HWCAP
     * and AT_HWCAP2 from its own CPU probe: a property of the libc, the same in every run) */
    char differ[256] = "";
    for (const unsigned long *a = auxv; a[0] != AT_NULL; a += 2) {
        if (a[0] == AT_IGNORE || getauxval(a[0]) == aux(a[0], NULL)) continue;
        const char *nm = at_name(a[0]);
        snprintf(differ + strlen(differ), sizeof differ - strlen(differ), "%s%s", *differ ? "," : "", nm ? nm : "?");
    }
    kv("auxv.getauxval_differs", differ);

    /* strings and bytes the auxv points to */
    int f;
    unsigned long v = aux(AT_EXECFN, &f);
    if (f) kv("auxv.AT_EXECFN.str", (const char *)v);
    v = aux(AT_PLATFORM, &f);
    if (f) kv("auxv.AT_PLATFORM.str", (const char *)v);
    v = aux(AT_BASE_PLATFORM, &f);
    if (f) kv("auxv.AT_BASE_PLATFORM.str", (const char *)v);
    v = aux(AT_RANDOM, &f);
    if (f) {
        const unsigned char *r = (const unsigned char *)v;
        int nz = 0;
        for (int i = 0; i < 16; i++) nz |= r[i];
        kd("auxv.AT_RANDOM.nonzero", nz != 0);
        /* the stack protector's canary, as each libc derives it from AT_RANDOM */
        unsigned long canary, ptrguard, r0, r1;
        __asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
        __asm__ volatile("mov %%fs:0x30, %0" : "=r"(ptrguard));
        memcpy(&r0, r, 8);
        memcpy(&r1, r + 8, 8);
        const char *how = canary == (r0 & ~0xffUL) ? "glibc" : canary == (r0 & ~0xff00UL) ? "musl" : "neither";
        kv("auxv.AT_RANDOM.canary", how);
        kd("auxv.AT_RANDOM.pointer_guard", ptrguard == r1);
    }
    /* where the kernel put things, as relations (ASLR-independent) */
    const struct map *stk = map_at((unsigned long)argv);
    kv("stack.holds_argv", stk ? stk->path : "(unmapped)");
    kd("stack.holds_execfn", stk && map_at(aux(AT_EXECFN, NULL)) == stk);
    kd("stack.holds_random", stk && map_at(aux(AT_RANDOM, NULL)) == stk);
    kd("stack.holds_auxv", stk && map_at((unsigned long)auxv) == stk);
    kd("stack.argc_below_argv", ((long *)argv)[-1] == argc);
    kx("addr.initial_sp", (unsigned long)(argv - 1));
    if (stk) {
        /* the kernel puts the strings at the top, then lowers the stack pointer by a random
         * 0..8 KiB under ASLR (arch_align_stack) */
        kx("addr.stack.top_minus_argv", stk->hi - (unsigned long)argv);
        kx("stack.top_minus_execfn", stk->hi - aux(AT_EXECFN, NULL));
    }
    v = aux(AT_SYSINFO_EHDR, &f);
    const struct map *vd = NULL;
    for (int i = 0; i < nmaps; i++) if (!strcmp(maps[i].path, "[vdso]")) vd = &maps[i];
    kd("vdso.mapped", vd != NULL);
    kd("vdso.at_sysinfo_ehdr_is_vdso", f && vd && vd->lo == v);
}

/* ---- the executable and its interpreter ------------------------------------------------ */
static void show_image(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    kv("exe", exe);
    const struct map *em = map_named(exe);
    unsigned long base = em ? em->lo : 0;
    kd("exe.mapped", em != NULL);
    if (!em) return;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    kv("exe.type", eh->e_type == ET_EXEC ? "EXEC" : eh->e_type == ET_DYN ? "DYN" : "other");
    if (eh->e_type == ET_EXEC) kx("exe.base_fixed", base);
    else kx("addr.exe.base", base);
    unsigned long phdr = getauxval(AT_PHDR), entry = getauxval(AT_ENTRY);
    kx("exe.at_phdr_minus_base", phdr - base);
    kx("exe.at_entry_minus_base", entry - base);
    kd("exe.at_phdr_is_e_phoff", phdr - base == eh->e_phoff);
    /* the load bias and the end of bss, from the program headers the kernel pointed us to */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)phdr;
    unsigned long phnum = getauxval(AT_PHNUM), bias = 0, bss_end = 0;
    const char *interp = NULL, *gnu_stack = "absent";
    for (unsigned long i = 0; i < phnum; i++) if (ph[i].p_type == PT_PHDR) bias = phdr - ph[i].p_vaddr;
    if (eh->e_type == ET_DYN && !bias) bias = base;    /* no PT_PHDR: first PT_LOAD at 0 */
    for (unsigned long i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > bss_end) bss_end = ph[i].p_vaddr + ph[i].p_memsz;
        if (ph[i].p_type == PT_INTERP) interp = (const char *)(bias + ph[i].p_vaddr);
        if (ph[i].p_type == PT_GNU_STACK) gnu_stack = (ph[i].p_flags & PF_X) ? "RWX" : "RW";
    }
    bss_end += bias;
    kx("exe.bias_minus_base", bias - base);
    kv("exe.pt_gnu_stack", gnu_stack);
    kv("exe.interp", interp ? interp : "(none)");
    unsigned long at_base = getauxval(AT_BASE);
    if (interp) {
        char real[PATH_MAX];
        const struct map *im = realpath(interp, real) ? map_named(real) : NULL;
        kd("interp.mapped", im != NULL);
        kd("interp.at_base_is_first_mapping", im && im->lo == at_base);
    } else {
        kd("interp.at_base_is_zero", at_base == 0);
    }
    /* brk: the kernel puts the heap's start after the bss (randomised within 1 GiB with
     * ASLR; for a static-pie, elsewhere on recent kernels); read it from /proc/self/stat */
    char *st = slurp("/proc/self/stat", NULL);
    unsigned long start_brk = 0;
    char *q = st ? strrchr(st, ')') : NULL;
    if (q) {   /* field 47 is start_brk; field 3 follows the ')' */
        int field = 2;
        for (char *s = q + 1; *s && field < 47; s++) if (*s == ' ') { field++; if (field == 47) start_brk = strtoul(s + 1, NULL, 10); }
    }
    free(st);
    unsigned long brk_now = (unsigned long)syscall(SYS_brk, 0);
    unsigned long bss_page = (bss_end + 4095) & ~4095UL;
    const char *cls = start_brk == bss_end || start_brk == bss_page ? "at-bss-end"
                    : start_brk > bss_end && start_brk - bss_page < (1UL << 30) ? "after-bss-within-1GiB" : "elsewhere";
    kv("brk.start_class", cls);
    kx("addr.brk.start_minus_bss_end", start_brk - bss_end);
    kx("brk.now_minus_start", brk_now - start_brk);
}

/* ---- process state --------------------------------------------------------------------- */
static void show_status(void)
{
    static const char *const keep[] = {
        "Name", "Umask", "TracerPid", "Uid", "Gid", "Groups", "NoNewPrivs", "Seccomp", "Seccomp_filters",
        "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd",
        "CapAmb", "Speculation_Store_Bypass", "SpeculationIndirectBranch", "Cpus_allowed_list",
        "Mems_allowed_list", "x86_Thread_features", "x86_Thread_features_locked", "untag_mask", "CoreDumping",
        "THP_enabled",
    };
    char *b = slurp("/proc/self/status", NULL), *line = b;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = 0;
            for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
                if (strcmp(line, keep[i])) continue;
                char *v = colon + 1;
                while (*v == ' ' || *v == '\t') v++;
                char key[64];
                snprintf(key, sizeof key, "status.%s", line);
                kv(key, v);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(b);
}

static void show_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int self = d ? dirfd(d) : -1, count = 0;
    struct dirent *de;
    int fds[1024], nfd = 0;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int fd = atoi(de->d_name);
        if (fd == self || nfd == 1024) continue;
        fds[nfd++] = fd;
    }
    if (d) closedir(d);
    for (int i = 0; i < nfd; i++)   /* in order */
        for (int j = i + 1; j < nfd; j++) if (fds[j] < fds[i]) { int t = fds[i]; fds[i] = fds[j]; fds[j] = t; }
    for (int i = 0; i < nfd; i++) {
        char p[64], t[PATH_MAX], key[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fds[i]);
        ssize_t n = readlink(p, t, sizeof t - 1);
        t[n < 0 ? 0 : n] = 0;
        /* pipe:[inode] and socket:[inode]: the kind only */
        char *br = strchr(t, '[');
        if (br && (!strncmp(t, "pipe:", 5) || !strncmp(t, "socket:", 7) || !strncmp(t, "anon_inode:", 11))) *br = 0;
        snprintf(key, sizeof key, "fd.%d", fds[i]);
        int fl = fcntl(fds[i], F_GETFD), st = fcntl(fds[i], F_GETFL);
        printf("%s=%s cloexec=%d flags=0x%x\n", key, t, fl >= 0 && (fl & FD_CLOEXEC), st);
        count++;
    }
    kd("fd.count", count);
}

static void show_signals(void)
{
    char handled[512] = "", ignored[512] = "", blocked[512] = "", flags[1024] = "";
    struct { unsigned long handler, flags, restorer, mask; } sa;
    for (int s = 1; s <= 64; s++) {
        if (syscall(SYS_rt_sigaction, s, NULL, &sa, 8) != 0) continue;
        char *list = sa.handler == (unsigned long)SIG_IGN ? ignored : sa.handler == (unsigned long)SIG_DFL ? NULL : handled;
        if (list) snprintf(list + strlen(list), 512 - strlen(list), "%s%d", *list ? "," : "", s);
        /* SA_RESTORER and the handler's address vary with the libc and ASLR */
        if (list == handled)
            snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%d:0x%lx", *flags ? "," : "", s, sa.flags & ~0x04000000UL);
    }
    unsigned long mask = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
    for (int s = 1; s <= 64; s++)
        if (mask & (1UL << (s - 1))) snprintf(blocked + strlen(blocked), sizeof blocked - strlen(blocked), "%s%d", *blocked ? "," : "", s);
    kv("sig.handled", handled);
    kv("sig.handled_flags", flags);
    kv("sig.ignored", ignored);
    kv("sig.blocked", blocked);
    unsigned long pend = 0;
    syscall(SYS_rt_sigpending, &pend, 8);
    kx("sig.pending", pend);
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0) {
        kd("sigaltstack.flags", ss.ss_flags);
        kx("sigaltstack.size", ss.ss_size);
    }
}

static void show_limits_and_prctl(void)
{
    static const struct { int r; const char *n; } lim[] = {
        {RLIMIT_AS, "AS"}, {RLIMIT_CORE, "CORE"}, {RLIMIT_CPU, "CPU"}, {RLIMIT_DATA, "DATA"},
        {RLIMIT_FSIZE, "FSIZE"}, {RLIMIT_LOCKS, "LOCKS"}, {RLIMIT_MEMLOCK, "MEMLOCK"},
        {RLIMIT_MSGQUEUE, "MSGQUEUE"}, {RLIMIT_NICE, "NICE"}, {RLIMIT_NOFILE, "NOFILE"},
        {RLIMIT_NPROC, "NPROC"}, {RLIMIT_RSS, "RSS"}, {RLIMIT_RTPRIO, "RTPRIO"},
        {RLIMIT_RTTIME, "RTTIME"}, {RLIMIT_SIGPENDING, "SIGPENDING"}, {RLIMIT_STACK, "STACK"},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        struct rlimit rl;
        char key[64];
        snprintf(key, sizeof key, "rlimit.%s", lim[i].n);
        if (getrlimit(lim[i].r, &rl) == 0) printf("%s=%lu/%lu\n", key, (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
    }
    kx("personality", (unsigned long)personality(0xffffffff));
    int v = 0;
    kd("prctl.dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    kd("prctl.no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    kd("prctl.seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
    prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0);
    kd("prctl.pdeathsig", v);
    v = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
    kd("prctl.child_subreaper", v);
    kd("prctl.keepcaps", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    kd("prctl.securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    kd("prctl.thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    kd("prctl.timerslack", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    v = 0;
    prctl(PR_GET_TSC, &v, 0, 0, 0);
    kd("prctl.tsc", v);
    kd("prctl.spec_store_bypass", prctl(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0));
    char name[17] = "";
    prctl(PR_GET_NAME, name, 0, 0, 0);
    kv("prctl.name", name);
    kd("nice", getpriority(PRIO_PROCESS, 0));
    kd("sched.policy", sched_getscheduler(0));
    cpu_set_t cs;
    if (sched_getaffinity(0, sizeof cs, &cs) == 0) kd("sched.affinity_count", CPU_COUNT(&cs));
    kd("pgrp_is_self", getpgrp() == getpid());
    kd("sid_is_self", getsid(0) == getpid());
    unsigned long fs = 0;
    syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs);
    kd("fs_base.set", fs != 0);
    kd("rseq.glibc_registered", &__rseq_size ? (long)__rseq_size : -1);
    kd("rseq.glibc_offset", &__rseq_offset ? (long)__rseq_offset : 0);
}

/* ---- LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT ------------------------------------------- */
static void show_loader_env(void)
{
    kd("ld.preload.mapped", mapped_basename("libselfpreload.so"));
    kd("ld.audit.mapped", mapped_basename("libselfaudit.so"));
#ifdef SELFVIEW_DYNAMIC
    int (*probe)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "selfpreload_constructed");
    kd("ld.preload.constructed", probe ? probe() : -1);
    void *h = dlopen("libselfdep.so", RTLD_NOW);
    int (*dep)(void) = h ? (int (*)(void))dlsym(h, "selfdep_value") : NULL;
    kd("ld.library_path.dlopen", dep ? dep() : -1);
    kd("ld.library_path.dep_mapped", mapped_basename("libselfdep.so"));
#else
    kv("ld.dynamic", "no");
#endif
}

int main(int argc, char **argv, char **envp)
{
    extern char **environ;
    int envp_is_environ = envp == environ;
    read_maps();
#ifdef __GLIBC__
    kv("libc", "glibc");
#else
    kv("libc", "musl");
#endif
    /* who we are */
    pid_t pid = getpid();
    kd("var.pid", pid);
    kd("var.ppid", getppid());
    char path[64], buf[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)getppid());
    char *pc = slurp(path, NULL);
    if (pc) { pc[strcspn(pc, "\n")] = 0; kv("ppid.comm", pc); free(pc); }
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    buf[n < 0 ? 0 : n] = 0;
    kd("pid.proc_self_is_getpid", atoi(buf) == pid);
    kd("pid.gettid_is_getpid", syscall(SYS_gettid) == pid);
    char *comm = slurp("/proc/self/comm", NULL);
    if (comm) { comm[strcspn(comm, "\n")] = 0; kv("comm", comm); free(comm); }
    size_t clen = 0;
    char *cl = slurp("/proc/self/cmdline", &clen);
    if (cl) { kvn("cmdline", cl, clen); free(cl); }
    if (getcwd(buf, sizeof buf)) kv("cwd", buf);
    kd("argc", argc);
    for (int i = 0; i < argc; i++) { char k[32]; snprintf(k, sizeof k, "argv.%d", i); kv(k, argv[i]); }
    kd("argv.null_terminated", argv[argc] == NULL);
    int ne = 0;
    for (char **e = envp; *e; e++, ne++) { char k[32]; snprintf(k, sizeof k, "env.%d", ne); kv(k, *e); }
    kd("env.count", ne);
    kd("env.environ_is_initial_envp", envp_is_environ);
    kd("env.argv_then_envp", argv + argc + 1 == envp);

    show_auxv(envp, argv, argc);
    show_image();

    /* memory the kernel set up */
    const struct map *stk = NULL, *zero = map_at(0);
    for (int i = 0; i < nmaps; i++) if (!strcmp(maps[i].path, "[stack]")) stk = &maps[i];
    kv("stack.perms", stk ? stk->perms : "(none)");
    kd("page0.mapped", zero != NULL);
    /* the files mapped (sorted, once each) and the kernel's special mappings */
    char **files = calloc((size_t)nmaps + 1, sizeof *files);
    int nf = 0;
    for (int i = 0; i < nmaps; i++) {
        if (maps[i].path[0] != '/') continue;
        int dup = 0;
        for (int j = 0; j < nf; j++) if (!strcmp(files[j], maps[i].path)) dup = 1;
        if (!dup) files[nf++] = maps[i].path;
    }
    qsort(files, (size_t)nf, sizeof *files, cmp_str);
    printf("maps.files=");
    for (int i = 0; i < nf; i++) { if (i) putchar(':'); put_esc(files[i], strlen(files[i])); }
    putchar('\n');
    free(files);
    char special[512] = "";
    for (int i = 0; i < nmaps; i++)
        if (maps[i].path[0] == '[' && !strstr(special, maps[i].path))
            snprintf(special + strlen(special), sizeof special - strlen(special), "%s%.64s", *special ? "," : "", maps[i].path);
    kv("maps.special", special);

    show_status();
    show_fds();
    show_signals();
    show_limits_and_prctl();
    show_loader_env();
    kv("end", "1");
    fflush(stdout);
    return 0;
}
