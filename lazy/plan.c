/* Rewrite plans: sites known ahead of time, rewritten eagerly (docs/scan.md).
 *
 * TRAPLINE_PLAN names a plan file (validated at start-up: a bad one stops the program
 * with one line) or a directory, the plan cache, holding one file per module named
 * <build-id>.plan (read when a module with that build-id is first seen; a bad one is
 * ignored with a warning). A plan lists, per module (GNU build-id), the FILE offsets of
 * syscall instructions and where each came from: `confirmed` by the scanner or
 * `learned` in an earlier run.
 *
 * Plan sites are rewritten in every executable file mapping whose module matches by
 * build-id: those present at start-up, and those mapped (or made executable) later,
 * i.e. dlopen. Each site's two bytes are checked to be `0f 05` before they change; a site
 * that is not is skipped and counted (plan for other code). Sites not in the plan still
 * reach us through SUD. TRAPLINE_REWRITE=verified rewrites only `confirmed` plan sites
 * and leaves every other site on the trap path; none rewrites nothing. */
#include "lazy/lazy.h"
#include <fcntl.h>
#include <errno.h>
#include <elf.h>
#include <sys/mman.h>
#include "lazy/plan_parse.h"

_Static_assert((int)TL_PLAN_CONFIRMED == (int)TL_SOURCE_PLAN_CONFIRMED && (int)TL_PLAN_LEARNED == (int)TL_SOURCE_PLAN_LEARNED &&
                   (int)TL_PLAN_UNVERIFIED == (int)TL_SOURCE_PLAN_UNVERIFIED && TL_SOURCE_TRAP == 0,
               "a plan site's source is its record's source");
#define PLAN_MODS 4096u /* modules held in all (file: the plan; directory: looked up) */
#define PLAN_FILE_MAX TL_PLAN_MAX_FILE
#define PLAN_PATH_MAX 4096u /* PATH_MAX: the longest path the kernel accepts, with its NUL */

static struct tl_plan_mod *mods; /* file: every module of the plan; directory: those looked up */
static uint32_t nmods;
static int plan_is_dir;
static const char *plan_path;
static char *cache_file; /* directory: "<plan_path>/<build-id>.plan" is built here */
static uint64_t *seen; /* the parser's duplicate-offset table */
static uint32_t *seen_tag, seen_gen;
static int plan_lock;
int tl_plan_active;

/* ---- memory (no libc here: anonymous mappings) */
static void *alloc(uint64_t bytes)
{
    long p = tl_sys6(SYS_mmap, 0, (long)((bytes + 4095) & ~4095ull), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return (p < 0 && p > -4096) ? 0 : (void *)p;
}

/* tables that live as long as the process: from the shared arena (no mmap of their own) */
static void *alloc_kept(uint64_t bytes) { return tl_alloc_big(bytes); }

/* ---- parsing: lazy/plan_parse.c */
struct parse_err {
    uint32_t line;
    const char *what;
};

/* Parses buf. sink == NULL: only validates and counts (*nsites). Otherwise fills
 * mods[nmods...] with sites in sink (capacity *nsites). 0, or -1 with *err set. */
/* Sorts a module's sites by offset (in place, shell sort: no allocation), so that the
 * sites of one page are rewritten together (tl_rewrite_batch_begin). */
static void sort_sites(uint64_t *v, uint32_t n)
{
    static const uint32_t gaps[] = {8929, 3905, 1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++)
        for (uint32_t i = gaps[g]; i < n; i++) {
            uint64_t x = v[i];
            uint32_t j = i;
            for (; j >= gaps[g] && v[j - gaps[g]] > x; j -= gaps[g]) v[j] = v[j - gaps[g]];
            v[j] = x;
        }
}

static int parse(const char *buf, uint64_t len, uint64_t *sink, uint64_t *nsites, struct parse_err *err)
{
    if (!seen) {
        seen = alloc_kept(8ull << TL_PLAN_SEEN_BITS);
        seen_tag = alloc_kept(4ull << TL_PLAN_SEEN_BITS);
        if (!seen || !seen_tag) {
            seen = 0;
            err->line = 0;
            err->what = "cannot allocate memory";
            return -1;
        }
    }
    struct tl_plan_parser p = {
        .mods = mods,
        .nmods = nmods,
        .mods_cap = PLAN_MODS,
        .sink = sink,
        .sink_cap = sink ? *nsites : 0,
        .seen = seen,
        .seen_tag = seen_tag,
        .gen = seen_gen,
    };
    /* a site line takes at least 10 bytes ("0 learned\n"): a table of len / 4 entries or
     * more is under half full (so a 363-byte plan touches 1 page of it, not one per site) */
    p.seen_bits = 6;
    while (p.seen_bits < TL_PLAN_SEEN_BITS && (1ull << p.seen_bits) < len / 4 + 4) p.seen_bits++;
    uint32_t first = nmods;
    int r = tl_plan_parse(&p, buf, len);
    seen_gen = p.gen;
    if (!r && sink)
        for (uint32_t i = first; i < p.nmods; i++)
            if (mods[i].sites) sort_sites(mods[i].sites, mods[i].n);
    nmods = p.nmods;
    if (r) {
        err->line = p.line;
        err->what = p.what;
        return -1;
    }
    *nsites = p.nsites;
    return 0;
}

/* a plan file of usual size is read here (no mapping of its own); used under plan_lock
 * or at start-up, and only until parsed */
static char small_file[16384] TL_COLD;

/* Reads a whole regular file into small_file or fresh memory. 0, or -errno; -EFBIG when too large,
 * -ENODEV when not a regular file (opened O_NONBLOCK: a FIFO never blocks us, a device
 * is never read). */
static long read_file(const char *path, char **out, uint64_t *len)
{
    long fd = tl_sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0) return fd;
    struct {
        uint64_t a[18];
    } st;
    long r = tl_sys2(SYS_fstat, fd, &st);
    if (r < 0) {
        tl_sys1(SYS_close, fd);
        return r;
    }
    if ((st.a[3] & 0170000) == 0040000) {
        tl_sys1(SYS_close, fd);
        return -EISDIR;
    }
    if ((st.a[3] & 0170000) != 0100000) {
        tl_sys1(SYS_close, fd);
        return -ENODEV;
    }
    uint64_t size = st.a[6];
    if (size > PLAN_FILE_MAX) {
        tl_sys1(SYS_close, fd);
        return -EFBIG;
    }
    char *buf = size + 1 <= sizeof small_file ? small_file : alloc(size + 1);
    if (!buf) {
        tl_sys1(SYS_close, fd);
        return -ENOMEM;
    }
    uint64_t got = 0;
    while (got < size) {
        long n = tl_sys3(SYS_read, fd, buf + got, size - got);
        if (n == -EINTR) continue;
        if (n <= 0) break;
        got += (uint64_t)n;
    }
    tl_sys1(SYS_close, fd);
    *out = buf;
    *len = got;
    return 0;
}

/* Loads one plan file into mods[]. 0, or -1 with the problem in *err / *sys. */
static int load(const char *path, struct parse_err *err, long *sys)
{
    char *buf;
    uint64_t len, n = 0;
    *sys = read_file(path, &buf, &len);
    if (*sys) return -1;
    uint32_t first = nmods;
    if (parse(buf, len, 0, &n, err)) {
        nmods = first;
        return -1;
    }
    nmods = first;
    uint64_t *sites = alloc_kept((n ? n : 1) * 8); /* kept as long as the process */
    if (!sites) {
        *sys = -ENOMEM;
        return -1;
    }
    if (parse(buf, len, sites, &n, err)) {
        nmods = first;
        return -1;
    }
    if (buf != small_file) tl_sys2(SYS_munmap, buf, len + 1);
    return 0;
}

static void say_bad(int fatal, const char *path, const struct parse_err *err, long sys)
{
    char line[24], what[160];
    size_t k = 0;
    const char *msg = err->what;
    if (sys) {
        msg = sys == -ENOENT ? "no such file"
            : sys == -EACCES ? "permission denied"
            : sys == -EISDIR ? "is a directory"
            : sys == -EFBIG  ? "larger than 64 MiB"
            : sys == -ENODEV ? "not a regular file"
                             : "cannot be read";
    } else {
        tl_fmt_u64(line, err->line, 10);
        what[k++] = 'l';
        what[k++] = 'i';
        what[k++] = 'n';
        what[k++] = 'e';
        what[k++] = ' ';
        for (const char *p = line; *p; p++) what[k++] = *p;
        what[k++] = ':';
        what[k++] = ' ';
    }
    for (const char *p = msg; *p && k < sizeof what - 24; p++) what[k++] = *p;
    what[k] = 0;
    if (fatal)
        tl_error("TRAPLINE_PLAN:", path, what);
    else if (!tl_cfg.quiet)
        tl_error("warning: plan", path, what);
}

static int plan_empty; /* a plan file with no site at all */

/* The configured plan: a file is loaded and checked now. 0, or -1 after one error line. */
int tl_plan_init(void)
{
    plan_path = tl_cfg.plan;
    if (!plan_path) return 0;
    mods = alloc_kept((uint64_t)PLAN_MODS * sizeof *mods);
    if (!mods) {
        tl_error("TRAPLINE_PLAN:", plan_path, "cannot allocate memory");
        return -1;
    }
    /* a file (read here), or a directory of plan files, one per module (read as needed):
     * the open says which (or, where it is refused, a stat) */
    struct parse_err err = {0, 0};
    long sys = 0;
    int bad = load(plan_path, &err, &sys);
    if (bad && sys == -EACCES) { /* a directory we may search but not list: still one */
        struct {
            uint64_t a[18];
        } st;
        if (tl_sys4(SYS_newfstatat, AT_FDCWD, plan_path, &st, 0) == 0 && (st.a[3] & 0170000) == 0040000) sys = -EISDIR;
    }
    if (bad && sys == -EISDIR) {
        /* "<dir>/<40 hex digits>.plan" must be a path the kernel accepts */
        if (tl_strlen(plan_path) + 1 + 40 + 5 >= PLAN_PATH_MAX) {
            char what[64] = "(a directory path of ", num[24];
            size_t k = tl_strlen(what);
            tl_fmt_u64(num, tl_strlen(plan_path), 10);
            for (const char *q = num; *q; q++) what[k++] = *q;
            for (const char *q = " bytes)"; *q; q++) what[k++] = *q;
            what[k] = 0;
            tl_error("TRAPLINE_PLAN:", what,
                     "is too long: the plan files in it would have paths longer than PATH_MAX (4096 bytes)");
            return -1;
        }
        cache_file = alloc(PLAN_PATH_MAX);
        if (!cache_file) {
            tl_error("TRAPLINE_PLAN:", plan_path, "cannot allocate memory");
            return -1;
        }
        plan_is_dir = 1;
    } else if (bad) {
        say_bad(1, plan_path, &err, sys);
        return -1;
    }
    tl_plan_active = 1;
    /* a plan file without a site (every site it could have had only ever ended the
     * process) rewrites nothing: no map of the address space, no build-id is read for it */
    int any = plan_is_dir;
    for (uint32_t i = 0; i < nmods && !any; i++) any = mods[i].n > 0;
    plan_empty = !any;
    if (any) tl_vm_want_paths = 1; /* plans are keyed by module: our map keeps paths */
    return 0;
}

/* The module among mods[from..to) with this build-id, or NULL. */
static struct tl_plan_mod *lookup(uint32_t from, uint32_t to, const uint8_t *id, uint32_t idlen)
{
    for (uint32_t i = from; i < to; i++)
        if (mods[i].idlen == idlen) {
            uint32_t k = 0;
            while (k < idlen && mods[i].id[k] == id[k]) k++;
            if (k == idlen) return &mods[i];
        }
    return 0;
}

/* The plan module with this build-id; in a cache directory, its file is read once. */
static struct tl_plan_mod *find(const uint8_t *id, uint32_t idlen)
{
    struct tl_plan_mod *known = lookup(0, nmods, id, idlen);
    if (known) return known;
    if (!plan_is_dir) return 0;
    if (nmods >= PLAN_MODS) {
        /* its sites are learned as they trap, as without a plan */
        tl_limit(TL_FLAG_PLAN_FULL, "note: the plan cache's modules looked up reached their maximum (4096);",
                 "the modules seen from now on are not planned", 0);
        return 0;
    }
    char *path = cache_file;
    size_t k = 0;
    for (const char *p = plan_path; *p; p++) path[k++] = *p; /* length checked at start-up */
    path[k++] = '/';
    for (uint32_t j = 0; j < idlen; j++) {
        path[k++] = "0123456789abcdef"[id[j] >> 4];
        path[k++] = "0123456789abcdef"[id[j] & 15];
    }
    for (const char *p = ".plan"; *p; p++) path[k++] = *p;
    path[k] = 0;
    uint32_t first = nmods;
    struct parse_err err = {0, 0};
    long sys = 0;
    struct tl_plan_mod *hit = 0;
    if (load(path, &err, &sys)) {
        if (sys != -ENOENT) say_bad(0, path, &err, sys);
        nmods = first;
    } else {
        hit = lookup(first, nmods, id, idlen);
    }
    if (!hit && nmods < PLAN_MODS) { /* remember the miss: never read it again */
        hit = &mods[nmods++];
        memcpy(hit->id, id, idlen);
        hit->idlen = idlen;
        hit->n = 0;
        hit->sites = 0;
    }
    return hit;
}

/* Build-id of the ELF file mapped at m: its header at m->start - m->offset, as GNU ld lays
 * files out. */
static uint32_t build_id_of(const struct tl_mapping *m, uint8_t id[20]) { return tl_elf_build_id(m->start - m->offset, id); }

/* learned-unverified sites are never rewritten ahead of time, under any policy */
static int policy_allows(uint64_t source)
{
    if (source == TL_PLAN_UNVERIFIED) return 0;
    return tl_cfg.policy == TL_POLICY_ALL || (tl_cfg.policy == TL_POLICY_VERIFIED && source == TL_PLAN_CONFIRMED);
}

/* Skipped plan sites (policy, bytes differ) get a record only while the site table is
 * less than half full: they must not crowd out the sites the program really runs. */
static int room_for_skipped(void)
{
    if (!tl_stats) return 0;
    if (__atomic_load_n(&tl_stats->site_count, __ATOMIC_RELAXED) < TL_SITE_CAP / 2) return 1;
    if (!(__atomic_load_n(&tl_stats->flags, __ATOMIC_RELAXED) & TL_FLAG_PLAN_UNRECORDED))
        __atomic_or_fetch(&tl_stats->flags, TL_FLAG_PLAN_UNRECORDED, __ATOMIC_RELAXED);
    return 0;
}

/* The plan entry for a site in mapping m: its enum tl_plan_source (lazy/plan_parse.h),
 * or TL_PLAN_NONE if the site is not planned. */
int tl_plan_source(uint64_t site, const struct tl_mapping *m)
{
    if (!tl_plan_active || plan_empty || !m || m->path[0] != '/') return TL_PLAN_NONE;
    uint8_t id[20];
    uint32_t idlen = build_id_of(m, id);
    if (!idlen) return TL_PLAN_NONE;
    tl_spin_lock(&plan_lock);
    struct tl_plan_mod *pm = find(id, idlen);
    tl_spin_unlock(&plan_lock);
    if (!pm) return TL_PLAN_NONE;
    uint64_t off = site - m->start + m->offset;
    for (uint32_t i = 0; i < pm->n; i++)
        if (pm->sites[i] >> TL_PLAN_SOURCE_BITS == off) { return (int)(pm->sites[i] & TL_PLAN_SOURCE_MASK); }
    return TL_PLAN_NONE;
}

static void count(uint64_t *field)
{
    if (tl_stats) __atomic_add_fetch(field, 1, __ATOMIC_RELAXED);
}

/* Rewrites the plan's sites that lie in executable file mapping m. */
static void apply_mapping(const struct tl_mapping *m)
{
    if (!(m->prot & PROT_EXEC) || (m->prot & PROT_WRITE) || m->path[0] != '/') return;
    if (m->start < tl_text_hi && m->end > tl_text_lo) return; /* ourselves */
    uint8_t id[20];
    uint32_t idlen = build_id_of(m, id);
    if (!idlen) return;
    tl_spin_lock(&plan_lock);
    struct tl_plan_mod *pm = find(id, idlen);
    tl_spin_unlock(&plan_lock);
    if (!pm || !pm->n) return;
    uint64_t len = m->end - m->start;
    int any = 0;
    /* one batch: a page gets one mprotect pair whatever its number of sites (the plan's
     * sites are sorted by offset) */
    if (!tl_rewrite_batch_begin()) return;
    for (uint32_t i = 0; i < pm->n; i++) {
        uint64_t off = pm->sites[i] >> TL_PLAN_SOURCE_BITS, src = pm->sites[i] & TL_PLAN_SOURCE_MASK;
        if (off < m->offset || off - m->offset + 2 > len) continue;
        uint64_t site = m->start + (off - m->offset);
        if (tl_site_known_to_insert(site + 2)) continue; /* already rewritten */
        int allowed = policy_allows(src);
        uint8_t b[2] = {0, 0};
        /* (only records need to know beforehand: without statistics there are none) */
        int likely = allowed && (!tl_stats || !tl_safe_read(site, b, 2) || (b[0] == 0x0f && b[1] == 0x05));
        struct tl_site_rec *rec = likely || room_for_skipped() ? tl_cov_site(site, 1, m) : 0;
        uint16_t source = (uint16_t)src; /* the same values (see below) */
        int why = allowed ? tl_rewrite_planned(site, tl_cov_fast_counter(rec, -1), m) : TL_REASON_POLICY;
        tl_cov_plan(rec, source, why == TL_REASON_NONE ? TL_SITE_REWRITTEN : TL_SITE_SKIPPED, why);
        if (why == TL_REASON_NONE) {
            count(&tl_stats->plan_rewritten);
            any = 1;
        } else
            count(&tl_stats->plan_skipped);
    }
    tl_rewrite_batch_end();
    if (any) tl_rewrite_serialise();
}

static int apply_cb(const struct tl_mapping *m, void *arg)
{
    const uint64_t *range = arg;
    if (m->end > range[0] && m->start < range[1]) apply_mapping(m);
    return 0;
}

/* Rewrites plan sites in the executable file mappings overlapping [addr, addr+len);
 * len == 0: every mapping (start-up). */
void tl_plan_apply(uint64_t addr, uint64_t len)
{
    if (!tl_plan_active || plan_empty || !tl_zero_mapped || tl_cfg.mode != TL_MODE_LAZY) return;
    uint64_t range[2] = {addr, len ? addr + len : ~0ull};
    tl_vm_each(range[0], range[1], apply_cb, range);
}

/* Sites the policy refused, remembered so that their next traps are not re-evaluated
 * (with statistics, the site record also says so). Open addressing, never full: once
 * it is, refusals are simply re-evaluated. */
#define REFUSED_BITS 13
static uint64_t refused[1u << REFUSED_BITS] TL_COLD;
static uint32_t nrefused;

int tl_policy_refused(uint64_t site)
{
    uint64_t mask = (1u << REFUSED_BITS) - 1;
    for (uint64_t i = (site * (uint64_t)TL_SITE_MUL) >> (64 - REFUSED_BITS);; i = (i + 1) & mask) {
        uint64_t v = __atomic_load_n(&refused[i], __ATOMIC_RELAXED);
        if (v == site) return 1;
        if (!v) return 0;
    }
}

void tl_policy_refuse(uint64_t site)
{
    uint64_t mask = (1u << REFUSED_BITS) - 1;
    if (__atomic_add_fetch(&nrefused, 1, __ATOMIC_RELAXED) >= (1u << (REFUSED_BITS - 1))) return;
    for (uint64_t i = (site * (uint64_t)TL_SITE_MUL) >> (64 - REFUSED_BITS);; i = (i + 1) & mask) {
        uint64_t z = 0;
        if (__atomic_compare_exchange_n(&refused[i], &z, site, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED) || z == site) return;
    }
}
