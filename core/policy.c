/* Built-in policies (docs/policies.md): trace, inject and deny rules, evaluated here for
 * every call of the process that reaches the dispatch, scoped by the module that made the
 * call (path glob or build-id), its origin (main program, start-up library, dlopen'd,
 * anonymous/JIT, vDSO), the process and the thread.
 *
 * The rules come from the policy file TRAPLINE_POLICY names (written by the control plane,
 * ts/src/trace.ts; grammar below), read once at start-up. Only the numbers some rule
 * selects go to C: they get TL_SPECIAL_C in the fast path's per-number table (tl_special,
 * copied into every thread's control block), so a call no rule selects costs what it cost
 * before. For a selected number tl_dispatch calls tl_policy_call, which
 *   1. keeps the rules whose scope holds for the call's site (a per-site cache of the
 *      rules whose module/origin condition holds there, computed once per site; for a
 *      site in libc, ld.so & co., the condition is checked against the caller, found by
 *      unwinding with the library's CFI, core/elf.c) and whose pid/tid condition holds;
 *   2. counts the call for every inject/deny rule that still applies (per rule, per
 *      number, per process: strace's when= accounting) and takes the first rule whose
 *      when= holds: deny (-errno, or SIGSYS for the whole process), or inject (error= /
 *      retval= instead of the call; signal=, delay_enter=, delay_exit= around it);
 *   3. runs the user hook if one is loaded: it sees the call with the decision made, and
 *      api->syscall for that call returns the injected or denied result (core/hooks.c);
 *   4. records the call, if a trace rule applies, into the thread's ring of the trace
 *      segment (core/trace_layout.h): the arguments, the result, the times, the site, and
 *      the bytes the kernel reads or writes for the common calls (capture table below).
 *
 * Policy file grammar (one item per line, at most POL_MAX_LINE bytes; '#' comments):
 *   trapline-policy 1                   first line
 *   strsize N                           bytes of buffers captured (default 32)
 *   lossy 0|1                           a full ring drops records (1) or waits (0, default)
 *   ring PATH COOKIE                    the trace segment (PATH percent-encoded), its cookie (hex)
 *   rule ACTION KEY=VALUE...            ACTION: trace, inject or deny; keys:
 *     nrs=N[-M][,...]                   the numbers selected (required)
 *     nrs32=N[-M][,...]                 the i386 numbers selected (int $0x80 calls)
 *     module=GLOB  buildid=HEX (a prefix of the module's)  origin=main|startup|dlopen|jit|vdso  pid=N  tid=N
 *     error=ERRNO  retval=N  when=FIRST,LAST,STEP (LAST 0: no end)  signal=N
 *     delay_enter=US  delay_exit=US  kill=1
 * Values are percent-encoded (%XX) where they could hold a space, '%' or a control byte. */
#include "core/core.h"
#include "core/trace_check.h"
#include "core/trace_caps.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <elf.h>

#define CLK_REALTIME 0
#define CLK_MONOTONIC 1
#define POL_MAX_FILE (1u << 20)
#define POL_MAX_LINE 16384u
#define POL_GLOB_MAX 1024u

enum { ACT_TRACE = 1, ACT_INJECT = 2, ACT_DENY = 3 };

struct rule {
    uint8_t action;
    uint8_t has_error, has_retval, kill;
    uint8_t has_module, has_buildid, has_origin, origin;
    int32_t error; /* errno, positive */
    int32_t signal; /* 0: none */
    int32_t pid, tid; /* 0: any */
    int64_t retval;
    uint32_t first, last, step; /* when=: first 0 = every call */
    uint32_t buildid_len;
    uint64_t delay_enter_ns, delay_exit_ns;
    uint8_t buildid[64];
    char module[POL_GLOB_MAX];
};

int tl_policy_on;
uint64_t tl_policy_rules_of[TL_NR_MAX] TL_COLD; /* bit r: rule r selects the number */
uint64_t tl_policy_rules_of32[TL_NR_MAX] TL_COLD; /* the same for i386 numbers (int $0x80) */
uint8_t tl_policy_only[TL_NR_MAX]; /* the number goes to C for the rules alone */
static struct rule rules[TL_POLICY_RULES] TL_COLD;
static int nrules;
static uint64_t trace_mask, act_mask, dyn_mask, static_mask; /* rules by kind / scope */
static uint32_t *counts; /* [rule][nr]: calls counted for when= (this process) */
static uint32_t strsize = 32;
static int lossy;
static int want_origin;

/* ---- the trace segment */
static struct tl_trace_header *seg;
static struct tl_ring_ctl *rings;
static uint8_t *ring_data;
static struct tl_trace_module *mods;
static uint32_t ring_count, ring_size, module_cap;
static uint32_t rec_max; /* the largest record this configuration writes */
static int populate_ok = 1; /* MADV_POPULATE_WRITE works (Linux >= 5.14) */

/* ---- small helpers (no libc) */
static int eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* The vDSO's clock_gettime (about 20 ns, where the system call costs about 100): called
 * with the thread's SUD selector at ALLOW, so that a clock the vDSO cannot read (it then
 * makes the system call itself, from outside our text) is not taken for the program's.
 * Its code uses no vector registers (the kernel builds it -mno-sse). NULL: the system call. */
static int (*vclock)(long, void *);

static void find_vclock(void)
{
    uint64_t base = tl_auxv_get(33 /* AT_SYSINFO_EHDR */), size = tl_vdso_hi - tl_vdso_lo;
    if (tl_cfg.vdso_off || !base || base != tl_vdso_lo || size < sizeof(Elf64_Ehdr)) return;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff >= size || eh->e_shnum > (size - eh->e_shoff) / sizeof(Elf64_Shdr))
        return;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    uint64_t bias = base;
    if (eh->e_phoff < size && eh->e_phnum <= (size - eh->e_phoff) / sizeof(Elf64_Phdr))
        for (int i = 0; i < eh->e_phnum; i++)
            if (ph[i].p_type == PT_LOAD) {
                bias = base - ph[i].p_vaddr;
                break;
            }
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[i].sh_link >= eh->e_shnum) continue;
        const Elf64_Shdr *st = &sh[sh[i].sh_link];
        if (sh[i].sh_offset >= size || sh[i].sh_size > size - sh[i].sh_offset || st->sh_offset >= size ||
            st->sh_size > size - st->sh_offset)
            return;
        const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
        const char *str = (const char *)(base + st->sh_offset);
        for (uint64_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Sym); k++) {
            if (sym[k].st_name >= st->sh_size || sym[k].st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC)
                continue;
            const char *name = str + sym[k].st_name, *want = "__vdso_clock_gettime";
            size_t n = 0;
            while (n < st->sh_size - sym[k].st_name && name[n] && name[n] == want[n]) n++;
            if (want[n] || name[n]) continue;
            uint64_t at = bias + sym[k].st_value;
            if (at >= tl_vdso_lo && at < tl_vdso_hi) vclock = (int (*)(long, void *))at;
            return;
        }
    }
}

static uint64_t now_ns(int clock)
{
    struct {
        long s, ns;
    } ts;
    if (vclock && tl_active) {
        struct tl_tcb *t = tl_self();
        uint8_t sel = t->selector;
        t->selector = TL_SUD_ALLOW;
        int r = vclock(clock, &ts);
        t->selector = sel;
        if (r == 0) return (uint64_t)ts.s * 1000000000ull + (uint64_t)ts.ns;
    }
    tl_sys2(SYS_clock_gettime, clock, &ts);
    return (uint64_t)ts.s * 1000000000ull + (uint64_t)ts.ns;
}

static void sleep_ns(uint64_t ns)
{
    struct {
        long s, ns;
    } ts = {(long)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (tl_sys2(SYS_nanosleep, &ts, &ts) == -EINTR) {}
}

/* ---------------------------------------------------------------- the policy file */

struct perr {
    uint32_t line;
    const char *what;
};

/* decimal (optionally negative) into *v; 0 ok */
static int num(const char *s, size_t n, int64_t *v, int neg_ok)
{
    int neg = 0;
    size_t i = 0;
    if (n && s[0] == '-' && neg_ok) {
        neg = 1;
        i = 1;
    }
    if (i >= n || n - i > 19) return -1;
    uint64_t x = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    if (x > (uint64_t)INT64_MAX) return -1;
    *v = neg ? -(int64_t)x : (int64_t)x;
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* percent-decodes s[0..n) into out (cap bytes with the NUL); -1 if malformed or too long */
static int pct(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0) return -1;
            c = (char)(a << 4 | b);
            i += 2;
            if (!c) return -1;
        }
        if (k + 1 >= cap) return -1;
        out[k++] = c;
    }
    out[k] = 0;
    return 0;
}

static int parse_nrs(const char *s, size_t n, int r, uint64_t *table)
{
    size_t i = 0;
    int any = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',') j++;
        size_t d = i;
        while (d < j && s[d] != '-') d++;
        int64_t a, b;
        if (num(s + i, d - i, &a, 0)) return -1;
        b = a;
        if (d < j && num(s + d + 1, j - d - 1, &b, 0)) return -1;
        if (a > b || b >= (int64_t)TL_NR_MAX) return -1;
        for (int64_t x = a; x <= b; x++) table[x] |= 1ull << r;
        any = 1;
        i = j + 1;
    }
    return any ? 0 : -1;
}

static const char *parse_rule(const char *s, size_t n)
{
    if (nrules >= TL_POLICY_RULES) return "too many rules (at most 64)";
    struct rule *r = &rules[nrules];
    memset(r, 0, sizeof *r);
    size_t i = 0;
    while (i < n && s[i] != ' ') i++;
    if (i == 5 && eq(s, "trace", 5))
        r->action = ACT_TRACE;
    else if (i == 6 && eq(s, "inject", 6))
        r->action = ACT_INJECT;
    else if (i == 4 && eq(s, "deny", 4))
        r->action = ACT_DENY;
    else
        return "unknown rule action (expected trace, inject or deny)";
    int have_nrs = 0;
    while (i < n) {
        while (i < n && s[i] == ' ') i++;
        if (i >= n) break;
        size_t k = i;
        while (k < n && s[k] != ' ') k++;
        const char *kv = s + i, *eqp = 0;
        for (size_t q = i; q < k; q++)
            if (s[q] == '=') {
                eqp = s + q;
                break;
            }
        if (!eqp) return "a rule item is not KEY=VALUE";
        size_t kl = (size_t)(eqp - kv), vl = (size_t)(s + k - eqp - 1);
        const char *v = eqp + 1;
        int64_t x;
#define KEY(name) (kl == sizeof name - 1 && eq(kv, name, kl))
        if (KEY("nrs")) {
            if (parse_nrs(v, vl, nrules, tl_policy_rules_of))
                return "nrs: not a list of numbers 0..511 (N or N-M, comma-separated)";
            have_nrs = 1;
        } else if (KEY("nrs32")) {
            if (parse_nrs(v, vl, nrules, tl_policy_rules_of32))
                return "nrs32: not a list of numbers 0..511 (N or N-M, comma-separated)";
        } else if (KEY("module")) {
            if (pct(v, vl, r->module, sizeof r->module) || !r->module[0])
                return "module: empty, malformed or longer than 1023 bytes";
            r->has_module = 1;
        } else if (KEY("buildid")) {
            if (vl < 2 || vl > 128 || vl % 2) return "buildid: not 2 to 128 hex digits";
            for (size_t q = 0; q < vl; q += 2) {
                int a = hexval(v[q]), b = hexval(v[q + 1]);
                if (a < 0 || b < 0) return "buildid: not 2 to 128 hex digits";
                r->buildid[q / 2] = (uint8_t)(a << 4 | b);
            }
            r->buildid_len = (uint32_t)vl / 2;
            r->has_buildid = 1;
        } else if (KEY("origin")) {
            r->has_origin = 1;
            if (vl == 4 && eq(v, "main", 4))
                r->origin = TL_ORIGIN_MAIN;
            else if (vl == 7 && eq(v, "startup", 7))
                r->origin = TL_ORIGIN_STARTUP;
            else if (vl == 6 && eq(v, "dlopen", 6))
                r->origin = TL_ORIGIN_DLOPEN;
            else if (vl == 3 && eq(v, "jit", 3))
                r->origin = TL_ORIGIN_ANON;
            else if (vl == 4 && eq(v, "vdso", 4))
                r->origin = TL_ORIGIN_VDSO;
            else
                return "origin: not main, startup, dlopen, jit or vdso";
        } else if (KEY("pid")) {
            if (num(v, vl, &x, 0) || x < 1 || x > 0x7fffffff) return "pid: not a process id";
            r->pid = (int32_t)x;
        } else if (KEY("tid")) {
            if (num(v, vl, &x, 0) || x < 1 || x > 0x7fffffff) return "tid: not a thread id";
            r->tid = (int32_t)x;
        } else if (KEY("error")) {
            if (num(v, vl, &x, 0) || x < 1 || x > 4095) return "error: not an errno value 1..4095";
            r->error = (int32_t)x;
            r->has_error = 1;
        } else if (KEY("retval")) {
            if (num(v, vl, &x, 1)) return "retval: not a 64-bit integer";
            r->retval = x;
            r->has_retval = 1;
        } else if (KEY("signal")) {
            if (num(v, vl, &x, 0) || x < 1 || x > 64) return "signal: not a signal number 1..64";
            r->signal = (int32_t)x;
        } else if (KEY("delay_enter") || KEY("delay_exit")) {
            if (num(v, vl, &x, 0) || x > 3600ll * 1000000) return "delay: not a number of microseconds (at most an hour)";
            if (KEY("delay_enter"))
                r->delay_enter_ns = (uint64_t)x * 1000;
            else
                r->delay_exit_ns = (uint64_t)x * 1000;
        } else if (KEY("kill")) {
            if (!(vl == 1 && v[0] == '1')) return "kill: must be 1";
            r->kill = 1;
        } else if (KEY("when")) {
            int64_t w[3];
            size_t q = 0, p0 = 0;
            for (int m = 0; m < 3; m++) {
                p0 = q;
                while (q < vl && v[q] != ',') q++;
                if (num(v + p0, q - p0, &w[m], 0) || w[m] > 0xffffffffll) return "when: not FIRST,LAST,STEP";
                q++;
            }
            if (q <= vl || w[0] < 1 || w[2] < 1 || (w[1] && w[1] < w[0]))
                return "when: not FIRST,LAST,STEP (FIRST >= 1, STEP >= 1, LAST 0 or >= FIRST)";
            r->first = (uint32_t)w[0];
            r->last = (uint32_t)w[1];
            r->step = (uint32_t)w[2];
        } else
            return "unknown rule key";
#undef KEY
        i = k;
    }
    if (!have_nrs) return "a rule needs nrs=";
    if (r->has_error && r->has_retval) return "error= and retval= exclude each other";
    if (r->action == ACT_TRACE &&
        (r->has_error || r->has_retval || r->signal || r->kill || r->first || r->delay_enter_ns || r->delay_exit_ns))
        return "a trace rule takes only nrs= and a scope";
    if (r->action == ACT_DENY && (r->has_retval || r->signal || r->delay_enter_ns || r->delay_exit_ns))
        return "a deny rule takes error= or kill=1, when= and a scope";
    if (r->action == ACT_DENY && r->kill && r->has_error) return "kill=1 and error= exclude each other";
    if (r->action == ACT_DENY && !r->kill && !r->has_error) {
        r->error = EPERM;
        r->has_error = 1;
    }
    if (r->action == ACT_INJECT && !r->has_error && !r->has_retval && !r->signal && !r->delay_enter_ns && !r->delay_exit_ns)
        return "an inject rule needs error=, retval=, signal=, delay_enter= or delay_exit=";
    if (r->kill) r->has_error = 0;
    uint64_t bit = 1ull << nrules;
    if (r->action == ACT_TRACE)
        trace_mask |= bit;
    else
        act_mask |= bit;
    if (r->pid || r->tid) dyn_mask |= bit;
    if (r->has_module || r->has_buildid || r->has_origin) static_mask |= bit;
    if (r->has_origin) want_origin = 1;
    nrules++;
    return 0;
}

static char ring_path[4096 + 1] TL_COLD;
static uint64_t ring_cookie;

static const char *parse_line(const char *s, size_t n, uint32_t line)
{
    if (line == 1)
        return n == 17 && eq(s, "trapline-policy 1", 17) ? 0 : "not a trapline policy file (first line: trapline-policy 1)";
    if (n == 0 || s[0] == '#') return 0;
    int64_t x;
    if (n > 8 && eq(s, "strsize ", 8)) {
        if (num(s + 8, n - 8, &x, 0) || x > TL_TRACE_STRSIZE_MAX) return "strsize: not a number 0..65536";
        strsize = (uint32_t)x;
        return 0;
    }
    if (n == 7 && eq(s, "lossy ", 6) && (s[6] == '0' || s[6] == '1')) {
        lossy = s[6] == '1';
        return 0;
    }
    if (n > 5 && eq(s, "ring ", 5)) {
        size_t i = 5, j = 5;
        while (j < n && s[j] != ' ') j++;
        if (j >= n || pct(s + i, j - i, ring_path, sizeof ring_path) || ring_path[0] != '/')
            return "ring: not ABSOLUTE-PATH COOKIE";
        uint64_t c = 0;
        size_t d = j + 1;
        if (n - d < 1 || n - d > 16) return "ring: the cookie is not 1 to 16 hex digits";
        for (; d < n; d++) {
            int h = hexval(s[d]);
            if (h < 0) return "ring: the cookie is not 1 to 16 hex digits";
            c = c << 4 | (uint64_t)h;
        }
        if (!c) return "ring: the cookie is 0";
        ring_cookie = c;
        return 0;
    }
    if (n > 5 && eq(s, "rule ", 5)) return parse_rule(s + 5, n - 5);
    return "unknown line (expected strsize, lossy, ring or rule)";
}

static void say(const char *path, uint32_t line, const char *what)
{
    char buf[256], num_[24];
    size_t k = 0;
    if (line) {
        tl_fmt_u64(num_, line, 10);
        k = tl_put(buf, sizeof buf, k, "line ");
        k = tl_put(buf, sizeof buf, k, num_);
        k = tl_put(buf, sizeof buf, k, ": ");
    }
    tl_put(buf, sizeof buf, k, what);
    tl_error("TRAPLINE_POLICY:", path, buf);
}

/* ---------------------------------------------------------------- joining the segment */

static int join(const char *policy_path)
{
    long fd = tl_sys4(SYS_openat, AT_FDCWD, ring_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    const char *bad = 0;
    struct {
        uint64_t a[18];
    } st;
    if (fd < 0)
        bad = fd == -ENOENT ? "no such file" : "cannot be opened";
    else if (tl_sys2(SYS_fstat, fd, &st) != 0)
        bad = "cannot be examined";
    else {
        uint32_t mode = (uint32_t)st.a[3], uid = (uint32_t)(st.a[3] >> 32);
        if ((mode & 0170000) != 0100000)
            bad = "is not a regular file";
        else if (uid != (uint32_t)tl_sys0(SYS_geteuid))
            bad = "is owned by another user; not joined";
        else if (mode & 077)
            bad = "is accessible to other users (mode is not 0600); not joined";
        else if (st.a[6] < sizeof(struct tl_trace_header) || st.a[6] > (1ull << 40))
            bad = "is not a trapline trace segment (size)";
    }
    long p = 0;
    if (!bad) {
        struct tl_trace_header h;
        if (tl_sys4(SYS_pread64, fd, &h, sizeof h, 0) != (long)sizeof h)
            bad = "cannot be read";
        else
            bad = tl_trace_check(&h, st.a[6], ring_cookie);
        if (!bad) {
            p = tl_sys6(SYS_mmap, 0, (long)st.a[6], PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p < 0 && p > -4096) bad = "cannot be mapped";
        }
    }
    if (bad) {
        char what[4200];
        size_t k = 0;
        for (const char *q = "ring "; *q; q++) what[k++] = *q;
        for (const char *q = ring_path; *q && k < 4100; q++) what[k++] = *q;
        what[k++] = ' ';
        for (const char *q = bad; *q && k < sizeof what - 1; q++) what[k++] = *q;
        what[k] = 0;
        tl_error("TRAPLINE_POLICY:", policy_path, what);
        if (fd >= 0) tl_sys1(SYS_close, fd);
        return -1;
    }
    seg = (struct tl_trace_header *)p;
    /* every address below comes from values this process checked and keeps: the file
     * may change under it (tl_trace_check made sure they fit the file it mapped) */
    ring_count = seg->ring_count;
    ring_size = seg->ring_size;
    module_cap = seg->module_cap;
    struct tl_trace_geom g;
    tl_trace_geom(ring_count, ring_size, module_cap, &g);
    rings = (struct tl_ring_ctl *)(p + (long)g.ring);
    ring_data = (uint8_t *)(p + (long)g.data);
    mods = (struct tl_trace_module *)(p + (long)g.module);
    /* the blocks this process writes, allocated now: a full file system is an error here,
     * never a SIGBUS at a record's write (rings: when claimed) */
    long r = tl_sys3(SYS_madvise, p, (long)g.data, MADV_POPULATE_WRITE);
    if (!r) r = tl_sys3(SYS_madvise, (long)mods, (long)(g.size - g.module), MADV_POPULATE_WRITE);
    if (r == -EINVAL) { /* a kernel before 5.14: the whole file, once per run */
        populate_ok = 0;
        r = 0;
        if (!(__atomic_load_n(&seg->flags, __ATOMIC_ACQUIRE) & TL_TRACE_F_ALLOCATED)) {
            r = tl_sys4(SYS_fallocate, fd, 0, 0, (long)g.size);
            if (r == -EOPNOTSUPP) r = 0;
            if (!r) __atomic_or_fetch(&seg->flags, TL_TRACE_F_ALLOCATED, __ATOMIC_RELEASE);
        }
    }
    tl_sys1(SYS_close, fd);
    if (r) {
        tl_error("TRAPLINE_POLICY:", policy_path,
                 r == -ENOSPC || r == -EDQUOT || r == -ENOMEM || r == -EFAULT
                     ? "the trace segment cannot be allocated: no space left on the file system"
                     : "the trace segment cannot be allocated");
        tl_sys2(SYS_munmap, p, (long)g.size);
        seg = 0;
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- start-up */

static uint32_t record_max(void);
static void caps_index(void);
static uint8_t file_buf[POL_MAX_FILE] TL_COLD;

int tl_policy_init(void)
{
    const char *path = tl_cfg.policy_file;
    if (!path) return 0;
    long fd = tl_sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    struct {
        uint64_t a[18];
    } st;
    if (fd < 0) {
        say(path, 0, fd == -ENOENT ? "no such file" : fd == -EACCES ? "permission denied" : "cannot be opened");
        return -1;
    }
    if (tl_sys2(SYS_fstat, fd, &st) || (st.a[3] & 0170000) != 0100000) {
        tl_sys1(SYS_close, fd);
        say(path, 0, "not a regular file");
        return -1;
    }
    if (st.a[6] > POL_MAX_FILE) {
        tl_sys1(SYS_close, fd);
        say(path, 0, "larger than 1 MiB");
        return -1;
    }
    uint64_t len = 0;
    while (len < st.a[6]) {
        long n = tl_sys3(SYS_read, fd, file_buf + len, st.a[6] - len);
        if (n == -EINTR) continue;
        if (n <= 0) break;
        len += (uint64_t)n;
    }
    tl_sys1(SYS_close, fd);
    const char *s = (const char *)file_buf;
    uint32_t line = 0;
    for (uint64_t i = 0; i < len;) {
        uint64_t j = i;
        while (j < len && s[j] != '\n') j++;
        line++;
        if (j - i > POL_MAX_LINE) {
            say(path, line, "line too long");
            return -1;
        }
        for (uint64_t q = i; q < j; q++)
            if ((unsigned char)s[q] < 0x20) {
                say(path, line, "a control character in the line");
                return -1;
            }
        const char *e = parse_line(s + i, j - i, line);
        if (e) {
            say(path, line, e);
            return -1;
        }
        i = j + 1;
    }
    if (line == 0) {
        say(path, 0, "empty (first line: trapline-policy 1)");
        return -1;
    }
    if (trace_mask && !ring_path[0]) {
        say(path, 0, "trace rules need a ring line");
        return -1;
    }
    if (ring_path[0] && join(path)) return -1;
    if (seg) {
        caps_index();
        find_vclock();
    }
    rec_max = record_max();
    if (seg && rec_max > ring_size / 2) {
        say(path, 0, "strsize is too large for the segment's rings (a ring must hold 2 of the largest records)");
        return -1;
    }
    if (act_mask) {
        counts = tl_alloc_big(2ull * TL_POLICY_RULES * TL_NR_MAX * sizeof *counts); /* x86-64, i386 */
        if (!counts) {
            say(path, 0, "cannot allocate memory");
            return -1;
        }
    }
    if (!nrules) return 0;
    /* a number the dispatch does not need for itself may stay on the fast path at sites no
     * rule can apply to (the entry checks T_POLONLY and the site's record) */
    for (unsigned i = 0; i < TL_NR_MAX; i++) {
        if (!tl_policy_rules_of[i]) continue;
        if (!(tl_special[i] & TL_SPECIAL_C)) tl_policy_only[i] = 1;
        tl_special[i] |= TL_SPECIAL_C;
    }
    if (static_mask || trace_mask) tl_vm_want_paths = 1;
    if (want_origin) tl_cov_want_origins = 1;
    tl_policy_on = 1;
    return 0;
}

/* ---------------------------------------------------------------- sites: scope and module */

/* A glob (fnmatch without FNM_PATHNAME: '*' matches '/' too): * ? [set] [!set] \x */
static int glob(const char *p, const char *s)
{
    const char *star = 0, *resume = 0;
    while (*s) {
        if (*p == '*') {
            star = ++p;
            resume = s;
            continue;
        }
        int ok = 0;
        const char *next = p + 1;
        if (*p == '?')
            ok = 1;
        else if (*p == '[') {
            const char *q = p + 1;
            int neg = *q == '!' || *q == '^';
            if (neg) q++;
            int in = 0, first = 1;
            while (*q && (*q != ']' || first)) {
                char lo = *q, hi = lo;
                if (q[1] == '-' && q[2] && q[2] != ']') {
                    hi = q[2];
                    q += 2;
                }
                if ((unsigned char)*s >= (unsigned char)lo && (unsigned char)*s <= (unsigned char)hi) in = 1;
                q++;
                first = 0;
            }
            if (*q == ']') {
                ok = in != neg;
                next = q + 1;
            } else
                ok = *s == '['; /* no closing bracket: a literal '[' */
        } else if (*p == '\\' && p[1]) {
            ok = p[1] == *s;
            next = p + 2;
        } else
            ok = *p && *p == *s;
        if (ok) {
            p = next;
            s++;
            continue;
        }
        if (!star) return 0;
        p = star;
        s = ++resume;
    }
    while (*p == '*') p++;
    return !*p;
}

static const char *basename_of(const char *path)
{
    const char *b = path;
    for (const char *q = path; *q; q++)
        if (*q == '/') b = q + 1;
    return b;
}

/* A per-process cache: site -> the rules whose static scope holds there, and its module
 * in the trace segment. Entries of an older generation (code was unmapped since) are
 * recomputed. Open addressing, never more than 3/4 full (beyond: no caching). */
#define SC_BITS 14
struct site_ent {
    uint64_t site;
    uint64_t mask;
    uint64_t offset;
    uint32_t module;
    uint32_t gen;
    uint64_t own, direct; /* SE_WRAP: the rules that hold by the site's module, by naming it */
    uint32_t flags; /* SE_* */
};
#define SE_WRAP 1u /* in a library that wraps calls for its callers: scopes follow the caller */
#define SE_MAPPED 2u /* the site lies in a mapping */
static struct site_ent *sc;
static uint32_t sc_used, sc_gen = 1;

void tl_policy_code_changed(void)
{
    if (tl_policy_on) __atomic_add_fetch(&sc_gen, 1, __ATOMIC_RELEASE);
}

static uint32_t module_index(const char *path, uint32_t origin, const uint8_t *bid, uint32_t bid_len)
{
    uint32_t c = __atomic_load_n(&seg->module_count, __ATOMIC_ACQUIRE);
    uint32_t n = c < module_cap ? c : module_cap;
    for (uint32_t i = 0; i < n; i++)
        if (__atomic_load_n(&mods[i].ready, __ATOMIC_ACQUIRE) && tl_streq(mods[i].path, path)) return i;
    if (c >= module_cap) return TL_TRACE_NO_MODULE;
    uint32_t i = __atomic_fetch_add(&seg->module_count, 1, __ATOMIC_ACQ_REL);
    if (i >= module_cap) return TL_TRACE_NO_MODULE;
    struct tl_trace_module *m = &mods[i];
    size_t k = 0;
    while (path[k] && k < sizeof m->path - 1) {
        m->path[k] = path[k];
        k++;
    }
    m->path[k] = 0;
    m->origin = origin;
    m->build_id_len = bid_len;
    memcpy(m->build_id, bid, bid_len);
    __atomic_store_n(&m->ready, 1, __ATOMIC_RELEASE);
    return i;
}

/* The libraries whose system calls are made on behalf of their callers (the C library,
 * the dynamic loader, their old companions): a call at a site in one of them belongs to
 * the first frame outside them, for the rules' module and origin conditions. */
static int is_wrapper(const char *base)
{
    static const char *const pats[] = {"libc.so*",       "libc-[0-9]*.so",       "ld-linux*.so*", "ld-[0-9]*.so",
                                       "libpthread.so*", "libpthread-[0-9]*.so", "librt.so*",     "librt-[0-9]*.so",
                                       "libdl.so*",      "libdl-[0-9]*.so",      "ld-musl-*.so*", "libc.musl-*.so*"};
    for (unsigned i = 0; i < sizeof pats / sizeof pats[0]; i++)
        if (glob(pats[i], base)) return 1;
    return 0;
}

static void site_compute(uint64_t site, struct site_ent *e)
{
    struct tl_mapping m;
    e->site = site;
    e->module = TL_TRACE_NO_MODULE;
    e->offset = site;
    e->mask = ~static_mask; /* rules without a module/origin condition hold everywhere */
    e->own = e->mask;
    e->direct = 0;
    e->flags = 0;
    if (tl_vm_find(site, &m) != 0) return;
    e->flags = SE_MAPPED;
    int file = m.path[0] == '/' && !tl_starts(m.path, "/memfd:");
    int vdso = tl_streq(m.path, "[vdso]");
    uint32_t origin = tl_cov_origin(&m);
    uint64_t base = file ? m.start - m.offset : m.start;
    uint8_t bid[20];
    uint32_t bid_len = 0;
    int bid_read = 0;
    uint64_t mask = 0, direct = 0;
    for (int i = 0; i < nrules; i++) {
        const struct rule *r = &rules[i];
        if (!(static_mask >> i & 1)) continue;
        if (r->has_origin && r->origin != origin) continue;
        if (r->has_module && !((file || vdso) && (glob(r->module, m.path) || glob(r->module, basename_of(m.path))))) continue;
        if (r->has_buildid) {
            if (!file) continue;
            if (!bid_read) {
                bid_len = tl_elf_build_id(base, bid);
                bid_read = 1;
            }
            if (bid_len < r->buildid_len) continue;
            uint32_t k = 0;
            while (k < r->buildid_len && bid[k] == r->buildid[k]) k++;
            if (k < r->buildid_len) continue;
        }
        mask |= 1ull << i;
        if (r->has_module || r->has_buildid) direct |= 1ull << i;
    }
    e->mask |= mask;
    e->own = e->mask;
    if (static_mask && file && is_wrapper(basename_of(m.path))) {
        /* a rule that names this library holds here; the others follow the caller (below) */
        e->flags |= SE_WRAP;
        e->direct = direct;
        e->mask = ~0ull;
    }
    if (seg && (file || vdso)) {
        if (file && !bid_read) {
            bid_len = tl_elf_build_id(base, bid);
            bid_read = 1;
        }
        e->module = module_index(m.path, origin, bid, bid_len);
        if (e->module != TL_TRACE_NO_MODULE) e->offset = site - base;
    }
}

/* A cache entry takes a computed site's fields, its generation last (readers check it) */
static void sc_store(struct site_ent *e, const struct site_ent *out, uint32_t gen)
{
    e->mask = out->mask;
    e->offset = out->offset;
    e->module = out->module;
    e->own = out->own;
    e->direct = out->direct;
    e->flags = out->flags;
    __atomic_store_n(&e->gen, gen, __ATOMIC_RELEASE);
}

static void site_info(uint64_t site, struct site_ent *out)
{
    uint32_t gen = __atomic_load_n(&sc_gen, __ATOMIC_ACQUIRE);
    if (!sc) {
        static int lock;
        tl_spin_lock(&lock);
        if (!sc) sc = tl_alloc_big(sizeof(struct site_ent) << SC_BITS);
        tl_spin_unlock(&lock);
    }
    if (sc) {
        uint64_t mask = (1ull << SC_BITS) - 1;
        for (uint64_t i = (site * (uint64_t)TL_SITE_MUL) >> (64 - SC_BITS);; i = (i + 1) & mask) {
            uint64_t a = __atomic_load_n(&sc[i].site, __ATOMIC_ACQUIRE);
            if (a == site) {
                if (__atomic_load_n(&sc[i].gen, __ATOMIC_ACQUIRE) == gen) {
                    *out = sc[i];
                    return;
                }
                /* stale or being filled: compute; refresh if it was stale */
                site_compute(site, out);
                uint32_t old = __atomic_load_n(&sc[i].gen, __ATOMIC_ACQUIRE);
                if (old && old != gen && __atomic_compare_exchange_n(&sc[i].gen, &old, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                    sc_store(&sc[i], out, gen);
                }
                return;
            }
            if (a != 0) continue;
            if (__atomic_load_n(&sc_used, __ATOMIC_RELAXED) >= (3u << SC_BITS) / 4) break;
            uint64_t z = 0;
            if (!__atomic_compare_exchange_n(&sc[i].site, &z, site, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                if (z == site) i = (i - 1) & mask; /* another thread took it: look again */
                continue;
            }
            __atomic_add_fetch(&sc_used, 1, __ATOMIC_RELAXED);
            site_compute(site, out);
            sc_store(&sc[i], out, gen);
            return;
        }
    }
    site_compute(site, out);
}

/* ---------------------------------------------------------------- rings */

static int self_pid(struct tl_tcb *t)
{
    if (!t->pol_pid) t->pol_pid = (int)tl_sys0(SYS_getpid);
    return t->pol_pid;
}

static int pid_dead(uint32_t pid) { return pid && tl_sys2(SYS_kill, (long)pid, 0) == -ESRCH; }

/* The reader is gone (or has stopped reading): producers drop from now on. Checked while
 * a thread waits for room: the reader's heartbeat has not moved for 100 ms and its process
 * no longer exists. */
static int reader_gone(uint64_t *hb, uint64_t *since)
{
    uint32_t fl = __atomic_load_n(&seg->flags, __ATOMIC_ACQUIRE);
    if (fl & (TL_TRACE_F_CLOSED | TL_TRACE_F_READER_GONE)) return 1;
    uint64_t h = __atomic_load_n(&seg->heartbeat, __ATOMIC_ACQUIRE), now = now_ns(CLK_MONOTONIC);
    if (h != *hb || !*since) {
        *hb = h;
        *since = now;
        return 0;
    }
    if (now - *since < 100000000ull) return 0;
    if ((tl_seccomp_mode && !tl_seccomp_allows(SYS_kill, 0, 0, 0)) || !pid_dead(seg->reader_pid)) {
        *since = now;
        return 0;
    }
    __atomic_or_fetch(&seg->flags, TL_TRACE_F_READER_GONE, __ATOMIC_RELEASE);
    return 1;
}

static void count_drop(struct tl_tcb *t)
{
    t->ring_lost++;
    if (t->ring) __atomic_add_fetch(&t->ring->dropped, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&seg->dropped, 1, __ATOMIC_RELAXED);
}

/* Waits a little for the reader (FUTEX_WAIT on the low half of tail: a reader that can
 * wake us does; ours polls, so the timeout bounds the wait). */
static void wait_a_little(uint32_t *word, uint32_t seen)
{
    struct {
        long s, ns;
    } ts = {0, 500000};
    tl_sys6(SYS_futex, (long)word, FUTEX_WAIT, seen, (long)&ts, 0, 0);
}

/* head, then its second copy (core/trace_layout.h: the reader believes them when they agree) */
static void publish(struct tl_ring_ctl *c, uint64_t head)
{
    __atomic_store_n(&c->head, head, __ATOMIC_RELEASE);
    __atomic_store_n(&c->head_again, head, __ATOMIC_RELEASE);
}

/* the reader's tail: 0 while its two copies disagree (a pwrite in progress) */
static int read_tail(struct tl_ring_ctl *c, uint64_t *tail)
{
    uint64_t a = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE), b = __atomic_load_n(&c->tail_again, __ATOMIC_ACQUIRE);
    *tail = a;
    return a == b;
}

static int said_alloc, said_rings;
static void say_once(int *said, const char *a, const char *b)
{
    if (!__atomic_exchange_n(said, 1, __ATOMIC_RELAXED) && !tl_cfg.quiet) tl_error(a, b, 0);
}

/* Claims a free ring for thread t: 0, or -1 (its calls are dropped, counted). A ring is
 * freed by the reader once its thread has ended and it has been read, or taken over here
 * once its process has died and it has been read. With every ring taken, a lossless run
 * waits up to 50 ms for the reader to free one (threads come and go); after that, or in
 * lossy mode, the thread drops its records and tries again 10 ms later: a thread never
 * waits on other threads' lifetimes. */
static int ring_claim(struct tl_tcb *t)
{
    uint32_t pid = (uint32_t)self_pid(t);
    uint64_t now = 0;
    if (t->ring_retry) {
        now = now_ns(CLK_MONOTONIC);
        if (now < t->ring_retry) return -1;
    }
    for (int waited = 0;; waited++) {
        for (int pass = 0; pass < 2; pass++) {
            for (uint32_t i = 0; i < ring_count; i++) {
                struct tl_ring_ctl *c = &rings[i];
                uint32_t s = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
                uint64_t tail;
                if (pass == 1 && s == TL_RING_USED && read_tail(c, &tail) && __atomic_load_n(&c->head, __ATOMIC_ACQUIRE) == tail &&
                    !c->pending && c->pid != pid && pid_dead(c->pid)) {
                    /* its process died without closing it, and it has been read: take it over */
                    if (__atomic_compare_exchange_n(&c->state, &s, TL_RING_FREE, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
                        s = TL_RING_FREE;
                }
                if (s != TL_RING_FREE) continue;
                if (!__atomic_compare_exchange_n(&c->state, &s, TL_RING_USED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) continue;
                uint8_t *d = ring_data + (uint64_t)i * ring_size;
                if (populate_ok && tl_sys3(SYS_madvise, (long)d, ring_size, MADV_POPULATE_WRITE)) {
                    __atomic_store_n(&c->state, TL_RING_FREE, __ATOMIC_RELEASE);
                    say_once(&said_alloc, "warning: a trace ring cannot be allocated (no space left on the file system?):",
                             "this thread's calls are not recorded (counted as dropped)");
                    t->ring_retry = ~0ull;
                    return -1;
                }
                c->pid = pid;
                c->tid = (uint32_t)t->tid;
                c->pending = 0;
                t->ring = c;
                t->ring_data = d;
                t->ring_pos = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
                t->ring_tail_seen = 0; /* below any tail: read when it matters */
                t->ring_writing = 0;
                t->ring_retry = 0;
                uint32_t used = __atomic_load_n(&seg->rings_used, __ATOMIC_RELAXED);
                while (used < i + 1 &&
                       !__atomic_compare_exchange_n(&seg->rings_used, &used, i + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {}
                return 0;
            }
        }
        if (lossy || waited >= 50 ||
            (__atomic_load_n(&seg->flags, __ATOMIC_ACQUIRE) & (TL_TRACE_F_CLOSED | TL_TRACE_F_READER_GONE)))
            break;
        if (!waited) __atomic_add_fetch(&seg->waits, 1, __ATOMIC_RELAXED);
        sleep_ns(1000000);
        __atomic_add_fetch(&seg->wait_ns, 1000000, __ATOMIC_RELAXED);
    }
    say_once(&said_rings, "note: more threads trace at once than the trace segment has rings:",
             "the calls of the others are dropped (counted) until a ring is free");
    t->ring_retry = now_ns(CLK_MONOTONIC) + 10000000ull;
    return -1;
}

/* Reserves size bytes (a multiple of TL_TRACE_ALIGN, at most rec_max) in this thread's
 * ring: the record's address, or NULL (dropped, counted). A reservation is published by
 * ring_commit. Reservations nest (a signal handler's calls, recorded while an outer record
 * is being written): head is published when the outermost one is committed, so the reader
 * never sees a record before it is complete. *at: the reservation's end. */
static uint8_t *ring_reserve(struct tl_tcb *t, uint32_t size, uint64_t *at)
{
    if (!t->ring && ring_claim(t)) {
        count_drop(t);
        return 0;
    }
    struct tl_ring_ctl *c = t->ring;
    t->ring_writing++;
    uint64_t hb = 0, since = 0, waited = 0;
    uint64_t pos, off, need;
    for (;;) {
        pos = t->ring_pos;
        off = pos & (ring_size - 1);
        need = off + size > ring_size ? ring_size - off + size : size;
        /* the reader's tail is read only when the one last seen leaves too little room:
         * its cache line, which the reader writes, is not pulled over on every record */
        uint64_t tail = t->ring_tail_seen;
        if (pos + need - tail > ring_size) {
            if (!read_tail(c, &tail)) {
                __builtin_ia32_pause();
                continue;
            }
            t->ring_tail_seen = tail;
        }
        if (pos + need - tail <= ring_size) {
            /* one instruction against this thread's own signal handlers */
            if (__atomic_compare_exchange_n(&t->ring_pos, &pos, pos + need, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) break;
            continue;
        }
        if (lossy || reader_gone(&hb, &since)) {
            count_drop(t);
            if (waited) __atomic_add_fetch(&seg->wait_ns, waited, __ATOMIC_RELAXED);
            if (--t->ring_writing == 0) publish(c, t->ring_pos);
            return 0;
        }
        if (!waited) __atomic_add_fetch(&seg->waits, 1, __ATOMIC_RELAXED);
        uint64_t w0 = now_ns(CLK_MONOTONIC);
        wait_a_little((uint32_t *)&c->tail, (uint32_t)tail);
        waited += now_ns(CLK_MONOTONIC) - w0;
    }
    if (waited) __atomic_add_fetch(&seg->wait_ns, waited, __ATOMIC_RELAXED);
    uint8_t *d = t->ring_data;
    if (need != size) { /* the rest of the ring: a pad; the record at its start */
        struct tl_trace_rec *pad = (struct tl_trace_rec *)(d + off);
        pad->size = (uint32_t)(ring_size - off);
        pad->type = TL_REC_PAD;
        off = 0;
    }
    *at = pos + need;
    /* the next record's lines, for writing: their transfer from the reader's cache
     * overlaps this call's work instead of stalling the next one */
    __builtin_prefetch(d + ((off + size) & (ring_size - 1)), 1, 3);
    __builtin_prefetch(d + ((off + size + 64) & (ring_size - 1)), 1, 3);
    return d + off;
}

/* size bytes were reserved at rec, ending at `at`; the record took only used bytes:
 * give the rest back if nothing was reserved after it, else pad it */
static void ring_trim(struct tl_tcb *t, uint8_t *rec, uint64_t at, uint32_t size, uint32_t used)
{
    if (used == size) return;
    uint64_t want = at;
    if (__atomic_compare_exchange_n(&t->ring_pos, &want, at - (size - used), 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    struct tl_trace_rec *pad = (struct tl_trace_rec *)(rec + used);
    pad->size = size - used;
    pad->type = TL_REC_PAD;
}

static void ring_commit(struct tl_tcb *t)
{
    if (--t->ring_writing == 0) publish(t->ring, t->ring_pos);
}

/* A write abandoned (a signal handler that interrupted it left by siglongjmp, and this
 * call is not nested in another dispatch): what it reserved becomes padding. */
static void ring_recover(struct tl_tcb *t)
{
    struct tl_ring_ctl *c = t->ring;
    uint64_t head = __atomic_load_n(&c->head, __ATOMIC_RELAXED), end = t->ring_pos;
    while (head < end) {
        uint64_t off = head & (ring_size - 1), n = end - head;
        if (off + n > ring_size) n = ring_size - off;
        struct tl_trace_rec *pad = (struct tl_trace_rec *)(t->ring_data + off);
        pad->size = (uint32_t)n;
        pad->type = TL_REC_PAD;
        head += n;
    }
    t->ring_writing = 0;
    publish(c, end);
}

/* ---------------------------------------------------------------- what is captured */

/* the entries of each number (core/trace_caps.c), in table order */
static uint8_t cap_at[TL_NR_MAX][TL_CAP_PER_NR] TL_COLD, cap_n[TL_NR_MAX];

static void caps_index(void)
{
    for (unsigned i = 0; i < tl_ncaps; i++) {
        unsigned nr = tl_caps[i].nr;
        if (nr < TL_NR_MAX && cap_n[nr] < TL_CAP_PER_NR) cap_at[nr][cap_n[nr]++] = (uint8_t)i;
    }
}

static uint64_t up8(uint64_t n) { return (n + TL_TRACE_ALIGN - 1) & ~(uint64_t)(TL_TRACE_ALIGN - 1); }

/* the most bytes an argv or iovec item takes at this strsize */
static uint64_t big_max(uint64_t per)
{
    uint64_t n = (uint64_t)strsize * per;
    return n < TL_CAP_BIG_MAX ? n : TL_CAP_BIG_MAX;
}

/* the most bytes entry k can capture (for the reservation) */
static uint64_t cap_most(const struct tl_cap *k)
{
    switch (k->kind) {
    case TL_CAP_PATH: return TL_TRACE_PATH_MAX;
    case TL_CAP_STRING:
    case TL_CAP_BUFFER: return strsize;
    case TL_CAP_STRUCT:
    case TL_CAP_BYTES:
    case TL_CAP_DEREF: return k->size;
    case TL_CAP_ARGV: return big_max(strsize + 2);
    case TL_CAP_COUNT: return 4;
    case TL_CAP_DIRENTS: return TL_CAP_BIG_MAX;
    case TL_CAP_IOV: return big_max(20 + (uint64_t)strsize);
    }
    return 0;
}

/* the largest record a call can take: its header and its items at their largest */
static uint32_t record_max(void)
{
    uint64_t most = 0;
    for (uint32_t nr = 0; nr < TL_NR_MAX; nr++) {
        uint64_t sum = 0;
        for (uint32_t j = 0; j < cap_n[nr]; j++) sum += sizeof(struct tl_trace_data) + up8(cap_most(&tl_caps[cap_at[nr][j]]));
        if (sum > most) most = sum;
    }
    return (uint32_t)(sizeof(struct tl_trace_rec) + most);
}

/* reads up to n bytes at addr: the count readable from its start (0 if none) */
static uint64_t read_part(uint64_t addr, void *out, uint64_t n)
{
    if (!n) return 0;
    if (UNLIKELY(tl_seccomp_mode) && !tl_seccomp_allows(SYS_process_vm_readv, tl_pid, 0, 1))
        return tl_safe_read(addr, out, n) ? n : 0;
    struct {
        void *b;
        size_t l;
    } local = {out, n}, remote = {(void *)addr, n};
    long r = tl_sys6(SYS_process_vm_readv, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    if (r >= 0) return (uint64_t)r;
    if (r == -EFAULT) return 0;
    return tl_safe_read(addr, out, n) ? n : 0;
}

/* reads a NUL-terminated string of at most cap bytes at addr into out: its length
 * without the NUL; *trunc if none was found within cap bytes */
static uint32_t read_str(uint64_t addr, uint8_t *out, uint32_t cap, int *trunc)
{
    uint32_t got = 0;
    *trunc = 0;
    while (got < cap) {
        uint64_t page_left = 4096 - ((addr + got) & 4095), want = cap - got;
        if (want > page_left) want = page_left;
        uint64_t r = read_part(addr + got, out + got, want);
        for (uint64_t i = 0; i < r; i++)
            if (!out[got + i]) return got + (uint32_t)i;
        got += (uint32_t)r;
        if (r < want) return got;
    }
    *trunc = 1;
    return got;
}

static int cap_applies(const struct tl_cap *k, const uint64_t args[6])
{
    if (!k->if_arg) return 1;
    uint32_t v = (uint32_t)args[k->if_arg - 1];
    if (k->if_mask) v &= k->if_mask;
    for (unsigned i = 0; i < k->if_n; i++)
        if (k->if_vals[i] == v) return 1;
    return 0;
}

/* 'in' structures of at most PRE_MAX bytes are captured before the call: a value-result
 * argument (a socklen_t) is changed by it */
#define PRE_MAX 64
struct pre {
    uint8_t n, idx[TL_CAP_PER_NR];
    uint8_t len[TL_CAP_PER_NR];
    uint8_t bytes[TL_CAP_PER_NR][PRE_MAX];
};

static uint64_t struct_size(const struct tl_cap *k, const uint64_t args[6], long ret)
{
    uint64_t size = k->size;
    if (k->size_arg) {
        uint64_t v = args[k->size_arg - 1], mul = k->size_mul ? k->size_mul : 1;
        if (v < size / mul + 1) size = v * mul < size ? v * mul : size;
    }
    if (k->per_ret) size = ret <= 0 ? 0 : (uint64_t)ret * k->per_ret < size ? (uint64_t)ret * k->per_ret : size;
    return size;
}

static void pre_capture(long nr, const uint64_t args[6], struct pre *pre)
{
    pre->n = 0;
    for (uint32_t j = 0; j < cap_n[nr]; j++) {
        const struct tl_cap *k = &tl_caps[cap_at[nr][j]];
        if (k->dir != TL_CAP_IN || k->kind != TL_CAP_STRUCT || k->size > PRE_MAX || !args[k->arg] || !cap_applies(k, args))
            continue;
        uint64_t size = struct_size(k, args, 0);
        pre->idx[pre->n] = (uint8_t)j;
        pre->len[pre->n] = (uint8_t)read_part(args[k->arg], pre->bytes[pre->n], size);
        pre->n++;
    }
}

struct call {
    long nr;
    uint64_t args[6];
    long ret;
    uint64_t ts, dur;
    uint32_t flags;
    uint32_t signal; /* the signal a rule sends at this call (tl_trace_rec.signal) */
    uint32_t module;
    uint64_t offset;
    int performed; /* it ran (out data exists) */
    int trusted; /* we performed it: the bytes the kernel read or wrote are mapped */
    const struct pre *pre;
};

static int failed(long ret) { return ret < 0 && ret > -4096; }

/* An argv item: the strings of a NULL-terminated array, each up to strsize + 1 bytes and a
 * NUL, at most strsize of them, in at most max bytes. *trunc: more elements follow. */
static uint32_t cap_argv(uint64_t addr, uint8_t *out, uint64_t max, int *trunc)
{
    uint64_t len = 0;
    *trunc = 0;
    for (uint32_t n = 0;; n++) {
        uint64_t p;
        if (!tl_safe_read(addr + 8ull * n, &p, 8) || !p) return (uint32_t)len;
        if (n >= strsize || len + 1 >= max) {
            *trunc = 1;
            return (uint32_t)len;
        }
        uint64_t room = max - len - 1, want = (uint64_t)strsize + 1 < room ? (uint64_t)strsize + 1 : room;
        int t;
        uint32_t l = read_str(p, out + len, (uint32_t)want, &t);
        len += l;
        out[len++] = 0;
    }
}

/* a NULL-terminated array of pointers: its length */
static uint32_t cap_count(uint64_t addr)
{
    uint64_t chunk[64];
    uint32_t n = 0;
    for (;;) {
        uint64_t got = read_part(addr + 8ull * n, chunk, sizeof chunk) / 8;
        for (uint64_t i = 0; i < got; i++)
            if (!chunk[i]) return n + (uint32_t)i;
        n += (uint32_t)got;
        if (got < 64 || n >= (1u << 24)) return n;
    }
}

/* An iovec item: per element its base, length, and n bytes of contents (with_contents:
 * each element's own length, 'in'; or the call's result spread over the elements, 'out';
 * else none), at most strsize elements, in at most max bytes. */
static uint32_t cap_iov(uint64_t addr, uint64_t count, int contents, long total, uint8_t *out, uint64_t max, int *trunc)
{
    uint64_t len = 0, k = 0;
    *trunc = 0;
    for (; k < count && k < strsize; k++) {
        uint64_t v[2];
        if (len + 20 > max || !tl_safe_read(addr + 16 * k, v, 16)) break;
        uint64_t n = 0;
        if (contents) {
            n = v[1];
            if (total >= 0 && n > (uint64_t)total) n = (uint64_t)total;
            if (total >= 0) total -= (long)n;
            if (n > strsize) n = strsize;
            if (n > max - len - 20) n = max - len - 20;
        }
        memcpy(out + len, &v[0], 8);
        memcpy(out + len + 8, &v[1], 8);
        uint32_t got = n ? (uint32_t)read_part(v[0], out + len + 20, n) : 0;
        memcpy(out + len + 16, &got, 4);
        len += 20 + got;
    }
    if (k < count) *trunc = 1;
    return (uint32_t)len;
}

/* Writes the record of call c into t's ring. pending: an execve about to be made, left
 * uncommitted (its program commits it) until it returns. Returns the record, or NULL. */
static struct tl_trace_rec *emit(struct tl_tcb *t, const struct call *c, int pending, uint64_t *at_out, uint32_t *size_out)
{
    long nr = c->nr;
    /* the items and the most each can take */
    struct {
        const struct tl_cap *k;
        uint8_t j;
        uint64_t max, addr;
    } it[TL_TRACE_DATA_MAX];
    uint32_t nit = 0, size = sizeof(struct tl_trace_rec);
    int ok_out = c->performed && !failed(c->ret) && !pending;
    for (uint32_t j = 0; j < cap_n[nr] && nit < TL_TRACE_DATA_MAX && !(c->flags & TL_REC_I386); j++) {
        const struct tl_cap *k = &tl_caps[cap_at[nr][j]];
        uint64_t addr = c->args[k->arg], max = cap_most(k);
        if (!addr || (k->dir == TL_CAP_OUT && !ok_out) || !cap_applies(k, c->args)) continue;
        if (k->kind == TL_CAP_BUFFER) {
            long l = k->len == TL_CAP_RET ? c->ret : (long)c->args[k->len - 1];
            if (k->len == TL_CAP_RET && (!c->performed || failed(c->ret))) continue;
            if (l < 0) continue;
            if ((uint64_t)l < max) max = (uint64_t)l;
        } else if (k->kind == TL_CAP_STRUCT) {
            max = struct_size(k, c->args, c->ret);
            if (k->vres_arg) {
                uint32_t l;
                if (!c->args[k->vres_arg - 1] || !tl_safe_read(c->args[k->vres_arg - 1], &l, 4)) continue;
                if (l < max) max = l;
            }
        } else if (k->kind == TL_CAP_DIRENTS || k->kind == TL_CAP_BYTES) {
            if (!ok_out || c->ret <= 0) continue;
            if ((uint64_t)c->ret < max) max = (uint64_t)c->ret;
        }
        it[nit].k = k;
        it[nit].j = (uint8_t)j;
        it[nit].max = max;
        it[nit].addr = addr;
        size += (uint32_t)(sizeof(struct tl_trace_data) + up8(max));
        nit++;
    }
    uint64_t at;
    uint8_t *p = ring_reserve(t, size, &at);
    if (!p) return 0;
    struct tl_trace_rec *r = (struct tl_trace_rec *)p;
    r->type = TL_REC_CALL;
    r->flags = (uint16_t)c->flags;
    r->pid = (uint32_t)self_pid(t);
    r->tid = (uint32_t)t->tid;
    r->nr = (int32_t)nr;
    r->module = c->module;
    r->offset = c->offset;
    for (int i = 0; i < 6; i++) r->args[i] = c->args[i];
    r->ret = c->ret;
    r->ts_ns = c->ts;
    r->dur_ns = c->dur;
    r->lost_before = t->ring_lost;
    t->ring_lost = 0;
    r->signal = (uint16_t)c->signal;
    /* a buffer the kernel used a moment ago is mapped: plain copies in a single thread */
    int direct = c->trusted && tl_threads_alone();
    uint32_t used = sizeof *r, nd = 0;
    for (uint32_t i = 0; i < nit; i++) {
        const struct tl_cap *k = it[i].k;
        struct tl_trace_data *d = (struct tl_trace_data *)(p + used);
        uint8_t *b = (uint8_t *)(d + 1);
        uint64_t want = it[i].max;
        uint32_t len = 0;
        int trunc = 0, done = 0;
        if (c->pre && k->dir == TL_CAP_IN && k->kind == TL_CAP_STRUCT)
            for (unsigned q = 0; q < c->pre->n; q++)
                if (c->pre->idx[q] == it[i].j) {
                    len = c->pre->len[q] < want ? c->pre->len[q] : (uint32_t)want;
                    memcpy(b, c->pre->bytes[q], len);
                    done = 1;
                }
        if (!done) switch (k->kind) {
            case TL_CAP_PATH:
            case TL_CAP_STRING: {
                /* a string: up to strsize bytes, truncated when longer (one more byte read tells) */
                uint32_t cap = k->kind == TL_CAP_PATH ? TL_TRACE_PATH_MAX : (uint32_t)want + 1;
                len = read_str(it[i].addr, b, cap, &trunc);
                if (k->kind == TL_CAP_STRING) {
                    trunc = len > want;
                    if (len > want) len = (uint32_t)want;
                }
                break;
            }
            case TL_CAP_BUFFER: {
                uint64_t total = k->len == TL_CAP_RET ? (uint64_t)c->ret : c->args[k->len - 1];
                if (direct && (k->dir == TL_CAP_OUT || c->ret >= (long)want)) {
                    memcpy(b, (const void *)it[i].addr, want);
                    len = (uint32_t)want;
                } else
                    len = (uint32_t)read_part(it[i].addr, b, want);
                trunc = total > strsize;
                break;
            }
            case TL_CAP_STRUCT:
            case TL_CAP_BYTES:
            case TL_CAP_DIRENTS:
                if (direct && k->dir == TL_CAP_OUT && !k->vres_arg) {
                    memcpy(b, (const void *)it[i].addr, want);
                    len = (uint32_t)want;
                } else
                    len = (uint32_t)read_part(it[i].addr, b, want);
                if (k->kind == TL_CAP_DIRENTS) trunc = (uint64_t)c->ret > want;
                break;
            case TL_CAP_DEREF: {
                uint64_t ptr;
                if (!tl_safe_read(it[i].addr + k->offset, &ptr, 8) || !ptr) continue;
                len = (uint32_t)read_part(ptr, b, want);
                break;
            }
            case TL_CAP_ARGV: len = cap_argv(it[i].addr, b, want, &trunc); break;
            case TL_CAP_COUNT: {
                uint32_t n = cap_count(it[i].addr);
                memcpy(b, &n, 4);
                len = 4;
                break;
            }
            case TL_CAP_IOV: {
                /* 'in' with contents for the calls that only read them (no 'out' iovec item);
             * 'out': the result's bytes spread over the elements */
                int contents = k->dir == TL_CAP_OUT;
                long total = k->dir == TL_CAP_OUT ? c->ret : -1;
                if (k->dir == TL_CAP_IN) {
                    contents = 1;
                    for (uint32_t q = 0; q < cap_n[nr]; q++)
                        if (tl_caps[cap_at[nr][q]].kind == TL_CAP_IOV && tl_caps[cap_at[nr][q]].dir == TL_CAP_OUT) contents = 0;
                }
                len = cap_iov(it[i].addr, c->args[k->count_arg - 1], contents, total, b, want, &trunc);
                break;
            }
            }
        d->arg = k->arg;
        d->dir = k->dir == TL_CAP_OUT ? TL_DATA_OUT : TL_DATA_IN;
        d->flags = trunc ? TL_DATA_TRUNCATED : 0;
        d->len = len;
        used += (uint32_t)(sizeof *d + up8(len));
        nd++;
    }
    r->ndata = (uint16_t)nd;
    r->size = used;
    ring_trim(t, p, at, size, used);
    if (pending) {
        /* not committed: the bytes from head to the end of this record */
        t->ring_writing--;
        uint64_t end = at - (size - used);
        if (__atomic_load_n(&t->ring_pos, __ATOMIC_RELAXED) != end) end = at;
        t->ring->pending = (uint32_t)(end - __atomic_load_n(&t->ring->head, __ATOMIC_RELAXED));
        *at_out = end;
        *size_out = used;
        return r;
    }
    ring_commit(t);
    return r;
}

/* ---------------------------------------------------------------- the decision */

static uint64_t all_rules(void) { return nrules >= 64 ? ~0ull : (1ull << nrules) - 1; }

static int when_holds(const struct rule *r, uint32_t n)
{
    if (!r->first) return 1;
    if (n < r->first) return 0;
    if (r->last && n > r->last) return 0;
    return (n - r->first) % r->step == 0;
}

static __attribute__((noreturn)) void kill_sigsys(void)
{
    struct tl_ksigaction dfl = {(void *)0 /* SIG_DFL */, 0, 0, 0};
    tl_sys4(SYS_rt_sigaction, SIGSYS, &dfl, 0, 8);
    uint64_t set = 1ull << (SIGSYS - 1);
    tl_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, 0, 8);
    long pid = tl_sys0(SYS_getpid);
    tl_sys3(SYS_tgkill, pid, tl_sys0(SYS_gettid), SIGSYS);
    tl_sys1(SYS_exit_group, 128 + SIGSYS);
    __builtin_unreachable();
}

static void close_rings_of(uint32_t pid)
{
    if (!seg) return;
    uint32_t n = __atomic_load_n(&seg->rings_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < ring_count; i++) {
        struct tl_ring_ctl *c = &rings[i];
        uint32_t s = TL_RING_USED;
        if (c->pid == pid) __atomic_compare_exchange_n(&c->state, &s, TL_RING_CLOSED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
}

/* Calls at sites in a wrapping library (SE_WRAP): the rules' static scopes are checked
 * against the first frame outside such libraries, found by unwinding with their CFI
 * (core/elf.c), at most UNWIND_MAX frames; where that fails, against the site itself. */
#define UNWIND_MAX 32

static uint64_t caller_mask(const struct tl_frame *f, const struct site_ent *si)
{
    if (f->via == TL_VIA_TRAP || f->via == TL_VIA_FAST || f->via == TL_VIA_I386) {
        struct tl_unwind u;
        uint32_t gen = __atomic_load_n(&sc_gen, __ATOMIC_ACQUIRE);
        tl_unwind_begin(&u, f->ret - 2, f->rsp, f->rbp);
        for (int depth = 0; depth < UNWIND_MAX; depth++) {
            int r = tl_unwind_step(&u, gen);
            if (r > 0) return si->own; /* no caller outside: the library's own call (start-up, its threads) */
            if (r < 0) break;
            struct site_ent ci;
            site_info(u.pc, &ci);
            if (!(ci.flags & SE_MAPPED)) break;
            if (ci.flags & SE_WRAP) continue;
            return ~static_mask | (ci.own & static_mask) | si->direct;
        }
    }
    if (tl_stats) __atomic_add_fetch(&tl_stats->caller_fallback, 1, __ATOMIC_RELAXED);
    return si->own;
}

static int is_exec(long nr, int i386)
{
    return i386 ? nr == TL_NR32_EXECVE || nr == TL_NR32_EXECVEAT : nr == SYS_execve || nr == SYS_execveat;
}
static int no_return(long nr, int i386)
{
    return i386 ? nr == TL_NR32_EXIT || nr == TL_NR32_EXIT_GROUP : nr == SYS_exit || nr == SYS_exit_group;
}

static int policy_call(struct tl_frame *f, long nr, int i386, long (*perform)(struct tl_frame *, int *), long *ret_out,
                       int *action);

int tl_policy_call(struct tl_frame *f, long *ret_out, int *action)
{
    return policy_call(f, (long)f->rax, 0, tl_perform_frame, ret_out, action);
}

/* An i386 call (int $0x80, sud/i386.c): its number in the i386 table; perform makes it */
int tl_policy_call_i386(struct tl_frame *f, long (*perform)(struct tl_frame *, int *), long *ret_out, int *action)
{
    return policy_call(f, (long)(int)f->rax, 1, perform, ret_out, action);
}

static int policy_call(struct tl_frame *f, long nr, int i386, long (*perform)(struct tl_frame *, int *), long *ret_out, int *action)
{
    uint64_t m = i386 ? tl_policy_rules_of32[nr] : tl_policy_rules_of[nr];
    struct tl_tcb *t = tl_self();
    struct site_ent si;
    site_info(f->ret - 2, &si);
    if (!(si.mask & all_rules()) && f->via == TL_VIA_FAST) {
        /* no rule can apply to this rewritten site: its calls of numbers selected for the
         * rules alone stay on the fast path from now on */
        uint64_t *h = tl_site_hits(f->ret);
        if (tl_cov_own_counter(h)) __atomic_store_n((uint8_t *)h + TL_HITS_POLICY, 1, __ATOMIC_RELAXED);
    }
    /* a site in a wrapping library, a rule whose scope depends on the caller: unwind */
    m &= UNLIKELY(si.flags & SE_WRAP) && (m & static_mask & ~si.direct) ? caller_mask(f, &si) : si.mask;
    if (m & dyn_mask) {
        for (int i = 0; i < nrules; i++) {
            if (!(m >> i & 1) || !(dyn_mask >> i & 1)) continue;
            if ((rules[i].pid && rules[i].pid != self_pid(t)) || (rules[i].tid && rules[i].tid != t->tid)) m &= ~(1ull << i);
        }
    }
    if (!m) return 0;
    uint64_t tr = seg ? m & trace_mask : 0;
    const struct rule *r = 0;
    for (uint64_t a = m & act_mask; a; a &= a - 1) {
        int i = __builtin_ctzll(a);
        /* per personality, as strace counts: the i386 table's counts follow the x86-64 one's */
        uint32_t n = __atomic_add_fetch(&counts[((uint32_t)i386 * TL_POLICY_RULES + (uint32_t)i) * TL_NR_MAX + (uint32_t)nr], 1,
                                        __ATOMIC_RELAXED);
        if (!r && when_holds(&rules[i], n)) r = &rules[i];
    }
    if (!r && !tr) return 0;
    if (tr && t->ring && t->ring_writing && (uint64_t)f + F_SIZE == t->stk_hi) ring_recover(t);
    struct call c;
    c.nr = nr;
    c.args[0] = f->rdi;
    c.args[1] = f->rsi;
    c.args[2] = f->rdx;
    c.args[3] = f->r10;
    c.args[4] = f->r8;
    c.args[5] = f->r9;
    c.ret = 0;
    c.dur = 0;
    c.flags = i386 ? TL_REC_I386 : 0;
    if (i386) {
        c.args[0] = f->rbx;
        c.args[1] = f->rcx;
        c.args[2] = f->rdx;
        c.args[3] = f->rsi;
        c.args[4] = f->rdi;
        c.args[5] = f->rbp;
    }
    c.signal = r && r->signal ? (uint32_t)r->signal : 0;
    if (c.signal == SIGKILL) c.flags |= TL_REC_KILLED; /* it cannot be caught: the process dies */
    c.module = si.module;
    c.offset = si.offset;
    c.performed = 0;
    c.trusted = 0;
    c.pre = 0;
    c.ts = tr ? now_ns(CLK_REALTIME) : 0;
    int result = r && (r->has_error || r->has_retval || r->kill);
    long value = !r ? 0 : r->has_retval ? (long)r->retval : -(long)r->error;
    if (r && r->kill) {
        if (tr) {
            c.flags |= TL_REC_DENIED | TL_REC_KILLED | TL_REC_NORETURN;
            c.signal = SIGSYS;
            c.ret = 0;
            emit(t, &c, 0, 0, 0);
        }
        close_rings_of((uint32_t)tl_sys0(SYS_getpid));
        kill_sigsys();
    }
    if (result) c.flags |= r->action == ACT_DENY ? TL_REC_DENIED : TL_REC_INJECTED;
    if (r && r->delay_enter_ns) sleep_ns(r->delay_enter_ns);
    /* calls that do not come back: recorded now */
    struct tl_trace_rec *pend = 0;
    uint64_t pend_at = 0;
    uint32_t pend_size = 0;
    if (tr && !result && no_return(nr, i386)) {
        c.flags |= TL_REC_NORETURN;
        emit(t, &c, 0, 0, 0);
        tr = 0;
    } else if (tr && !result && is_exec(nr, i386)) {
        pend = emit(t, &c, 1, &pend_at, &pend_size);
    }
    struct pre pre;
    if (tr && !pend && !i386) {
        pre_capture(nr, c.args, &pre);
        c.pre = &pre;
    }
    int pid_before = tl_pid;
    long ret;
    int used = 0;
    if (tl_hook_loaded) {
        int saved_inj = t->pol_inj, saved_used = t->pol_used;
        long saved_nr = t->pol_nr, saved_ret = t->pol_ret;
        t->pol_inj = result;
        t->pol_nr = nr;
        t->pol_ret = value;
        t->pol_used = 0;
        int pass = 0;
        ret = tl_hook_call(f, &pass);
        if (!tl_vm_suspect) __atomic_store_n(&tl_vm_suspect, 1, __ATOMIC_RELAXED);
        used = t->pol_used;
        if (pass) {
            if (result) {
                ret = value;
                used = 1;
            } else {
                ret = perform(f, action);
                c.performed = c.trusted = 1;
            }
        }
        t->pol_inj = saved_inj;
        t->pol_nr = saved_nr;
        t->pol_ret = saved_ret;
        t->pol_used = saved_used;
        if (!used) c.flags &= ~(uint32_t)(TL_REC_DENIED | TL_REC_INJECTED);
        if (!pass && !used) c.performed = 1; /* the hook's own answer: its out data, read safely */
    } else if (result) {
        ret = value;
    } else {
        ret = perform(f, action);
        c.performed = c.trusted = 1;
    }
    if (r && r->delay_exit_ns) sleep_ns(r->delay_exit_ns);
    if (tl_pid != pid_before) {
        *ret_out = ret;
        return 1;
    } /* a fork child: its parent records the call */
    if (pend) {
        /* the execve failed: its record gets the result and is committed */
        pend->ret = ret;
        pend->dur_ns = now_ns(CLK_REALTIME) - c.ts;
        t->ring->pending = 0;
        t->ring_writing++;
        ring_commit(t);
    } else if (tr) {
        c.ret = ret;
        c.dur = now_ns(CLK_REALTIME) - c.ts;
        emit(t, &c, 0, 0, 0);
    }
    if (r && r->signal) tl_sys3(SYS_tgkill, self_pid(t), t->tid, r->signal);
    *ret_out = ret;
    return 1;
}

/* api->syscall from a hook handling a call whose result a rule decided (core/hooks.c) */
int tl_policy_hook_result(long nr, long *ret)
{
    struct tl_tcb *t = tl_self();
    if (!t->pol_inj || t->pol_nr != nr) return 0;
    t->pol_used = 1;
    *ret = t->pol_ret;
    return 1;
}

/* ---------------------------------------------------------------- process model */

/* The program's first thread runs: rings left by this pid's former image (an exec: its
 * threads are gone) are closed; an execve record it left pending is committed (ret 0)
 * into this thread's ring, before anything this program does. */
void tl_policy_start(struct tl_tcb *t)
{
    if (!seg) return;
    uint32_t pid = (uint32_t)self_pid(t);
    uint32_t n = __atomic_load_n(&seg->rings_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < ring_count; i++) {
        struct tl_ring_ctl *c = &rings[i];
        if (c->pid != pid || __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != TL_RING_USED || c == t->ring) continue;
        uint32_t pend = c->pending;
        if (pend && pend <= ring_size / 2) {
            uint64_t h = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
            const uint8_t *d = ring_data + (uint64_t)i * ring_size;
            /* skip a pad to the ring's end */
            const struct tl_trace_rec *src = (const struct tl_trace_rec *)(d + (h & (ring_size - 1)));
            if (src->type == TL_REC_PAD) src = (const struct tl_trace_rec *)d;
            uint32_t sz = src->size;
            if (src->type == TL_REC_CALL && sz >= sizeof *src && sz <= rec_max && sz % TL_TRACE_ALIGN == 0) {
                uint64_t at;
                uint8_t *p = ring_reserve(t, sz, &at);
                if (p) {
                    memcpy(p, src, sz);
                    struct tl_trace_rec *r = (struct tl_trace_rec *)p;
                    r->ret = 0;
                    r->flags |= TL_REC_EXEC;
                    r->dur_ns = now_ns(CLK_REALTIME) - r->ts_ns;
                    ring_commit(t);
                }
            }
            c->pending = 0;
        }
        uint32_t s = TL_RING_USED;
        __atomic_compare_exchange_n(&c->state, &s, TL_RING_CLOSED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
}

/* a fork child: the parent's ring and counts are the parent's */
void tl_policy_after_fork(struct tl_tcb *t)
{
    t->ring = 0;
    t->ring_data = 0;
    t->ring_pos = 0;
    t->ring_writing = 0;
    t->ring_lost = 0;
    t->ring_retry = 0;
    t->pol_pid = 0;
    if (counts) memset(counts, 0, 2ull * TL_POLICY_RULES * TL_NR_MAX * sizeof *counts);
}

/* a thread ends (exit): its ring is read to the end, then freed by the reader */
void tl_policy_thread_exit(struct tl_tcb *t)
{
    if (!t->ring) return;
    uint32_t s = TL_RING_USED;
    __atomic_compare_exchange_n(&t->ring->state, &s, TL_RING_CLOSED, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    t->ring = 0;
}

/* the process ends (exit_group): every ring of it */
void tl_policy_process_exit(void)
{
    if (seg) close_rings_of((uint32_t)tl_sys0(SYS_getpid));
}
