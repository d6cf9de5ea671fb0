/* Coverage records in the statistics segment: processes, modules and sites
 * (layout: core/stats_layout.h). Everything here runs on the slow path. */
#include "core/core.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "core/stats_check.h"

_Static_assert(offsetof(struct tl_site_rec, nr_first) - offsetof(struct tl_site_rec, fast_hits) == TL_HITS_NR_FIRST,
               "entry.S offset");
_Static_assert(offsetof(struct tl_site_rec, nrs) - offsetof(struct tl_site_rec, fast_hits) == TL_HITS_NRS, "entry.S offset");
_Static_assert(offsetof(struct tl_site_rec, policy) - offsetof(struct tl_site_rec, fast_hits) == TL_HITS_POLICY, "entry.S offset");
_Static_assert(sizeof(struct tl_site_rec) == 128, "layout");

static struct tl_proc_rec *me; /* this process's record */

/* The tables, located by this build's geometry: never by offsets or capacities read from
 * the segment, which every process of the run can write (docs/security.md). */
static struct tl_proc_rec *procs(void) { return (struct tl_proc_rec *)((char *)tl_stats + tl_stats_geom_cur.proc); }
static struct tl_module_rec *modtab(void) { return (struct tl_module_rec *)((char *)tl_stats + tl_stats_geom_cur.mod); }

static void mark_full(uint32_t flag)
{
    if (!(__atomic_load_n(&tl_stats->flags, __ATOMIC_RELAXED) & flag)) __atomic_or_fetch(&tl_stats->flags, flag, __ATOMIC_RELAXED);
}

/* ---- startup modules: paths mapped executable when we started ---- */
#define STARTUP_MAX 256
static char startup[STARTUP_MAX][128] TL_COLD;
static int nstartup;
static char exe_path[232];

static int note_startup(const struct tl_mapping *m, void *a)
{
    (void)a;
    if (!(m->prot & PROT_EXEC) || m->path[0] != '/' || nstartup >= STARTUP_MAX) return 0;
    for (int i = 0; i < nstartup; i++)
        if (tl_streq(startup[i], m->path)) return 0;
    size_t k = 0;
    while (m->path[k] && k < sizeof startup[0] - 1) {
        startup[nstartup][k] = m->path[k];
        k++;
    }
    startup[nstartup][k] = 0;
    nstartup++;
    return 0;
}

static uint64_t now_ns(void)
{
    struct {
        long s, ns;
    } ts;
    tl_sys2(SYS_clock_gettime, 0, &ts);
    return (uint64_t)ts.s * 1000000000ull + (uint64_t)ts.ns;
}

static void proc_start(void)
{
    me = 0;
    if (!tl_stats) return;
    uint32_t i = __atomic_fetch_add(&tl_stats->proc_count, 1, __ATOMIC_RELAXED);
    if (i >= TL_PROC_CAP) {
        mark_full(TL_FLAG_PROC_FULL);
        return;
    }
    struct tl_proc_rec *r = procs() + i;
    r->pid = (uint32_t)tl_pid;
    r->ppid = (uint32_t)tl_sys0(SYS_getppid);
    r->status = TL_STATUS_RUNNING;
    r->mode = (uint32_t)tl_cfg.mode;
    r->start_ns = now_ns();
    memcpy(r->exe, exe_path, sizeof r->exe);
    me = r;
}

/* A program entered at its first instruction (sud/boot.c) starts in its dynamic loader,
 * which maps the program's libraries before main: until a call comes from outside the
 * loader, what it maps is start-up (TL_ORIGIN_STARTUP), as it is for a process started
 * from the preloaded constructor; later files are dlopen'd. */
int tl_cov_loader_phase;
static char loader_path[288];
static uint8_t special_before[TL_NR_MAX]; /* tl_special bit 0 before the phase */

/* During the phase every call goes to C (tl_special bit 0), also from sites a plan
 * rewrote ahead of time, so that its end is seen whichever way the first call from
 * outside the loader comes. A handful of the loader's calls pay for it. */
void tl_cov_loader_call(uint64_t site)
{
    struct tl_mapping m;
    if (tl_vm_find(site, &m) == 0 && tl_streq(m.path, loader_path)) return;
    tl_cov_loader_phase = 0;
    tl_vm_each(0, ~0ull, note_startup, 0);
    for (unsigned i = 0; i < TL_NR_MAX; i++) tl_special[i] = (uint8_t)((tl_special[i] & ~1u) | special_before[i]);
    tl_tcbs_refresh_special();
}

int tl_cov_want_origins;

void tl_cov_init(void)
{
    /* the program's path and module origins serve records, and policies scoped by origin */
    if (!tl_stats && !tl_cov_want_origins) return;
    long n = tl_sys3(SYS_readlink, "/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = 0;
    tl_vm_each(0, ~0ull, note_startup, 0);
    struct tl_mapping m;
    uint64_t base = tl_booted ? tl_auxv_get(7 /* AT_BASE */) : 0;
    if (base && tl_vm_find(base, &m) == 0 && m.path[0] == '/') {
        memcpy(loader_path, m.path, sizeof loader_path);
        tl_cov_loader_phase = 1;
        for (unsigned i = 0; i < TL_NR_MAX; i++) {
            special_before[i] = tl_special[i] & 1;
            tl_special[i] |= 1;
        }
    }
    proc_start();
}

void tl_cov_after_fork(void) { proc_start(); }

void tl_cov_exit(long status)
{
    if (me) __atomic_store_n(&me->status, (int32_t)(status & 0xff), __ATOMIC_RELAXED);
}

/* a wait*() in this process reaped child pid with wait status st */
void tl_cov_reaped(long pid, int st)
{
    if (!tl_stats || pid <= 0) return;
    struct tl_proc_rec *r = procs();
    uint32_t c = __atomic_load_n(&tl_stats->proc_count, __ATOMIC_RELAXED);
    uint32_t n = c < TL_PROC_CAP ? c : TL_PROC_CAP;
    for (uint32_t i = n; i-- > 0;) {
        if (r[i].pid != (uint32_t)pid) continue;
        int32_t v = WIFEXITED(st) ? WEXITSTATUS(st) : TL_STATUS_SIGNALED + WTERMSIG(st);
        if (!WIFEXITED(st) || __atomic_load_n(&r[i].status, __ATOMIC_RELAXED) < 0)
            __atomic_store_n(&r[i].status, v, __ATOMIC_RELAXED);
        return;
    }
}

/* ---- modules ---- */

/* A memfd mapping: /proc/self/maps names it "/memfd:NAME (deleted)", but it is no file */
static int is_memfd(const char *path)
{
    const char *m = "/memfd:";
    for (size_t k = 0; m[k]; k++)
        if (path[k] != m[k]) return 0;
    return 1;
}

/* Where the code of mapping m comes from: the vDSO, anonymous memory (JIT code, a memfd),
 * the main program, a library mapped before main, or one mapped later (dlopen). */
uint32_t tl_cov_origin(const struct tl_mapping *m)
{
    if (tl_streq(m->path, "[vdso]")) return TL_ORIGIN_VDSO;
    if (m->path[0] != '/' || is_memfd(m->path)) return TL_ORIGIN_ANON;
    if (tl_streq(m->path, exe_path)) return TL_ORIGIN_MAIN;
    for (int i = 0; i < nstartup; i++)
        if (tl_streq(startup[i], m->path)) return TL_ORIGIN_STARTUP;
    if (tl_cov_loader_phase) return TL_ORIGIN_STARTUP; /* mapped by the loader before main */
    return TL_ORIGIN_DLOPEN;
}

static uint32_t module_of(const struct tl_mapping *where, uint64_t *base_out)
{
    struct tl_mapping mp;
    *base_out = 0;
    if (!tl_stats || !where) return TL_MODULE_NONE;
    mp = *where;
    uint32_t origin = tl_cov_origin(&mp);
    uint64_t base = mp.start;
    if (origin == TL_ORIGIN_ANON)
        mp.path[0] = 0;
    else if (origin != TL_ORIGIN_VDSO)
        base = mp.start - mp.offset;
    *base_out = base;
    struct tl_module_rec *mods = modtab();
    uint32_t c = __atomic_load_n(&tl_stats->module_count, __ATOMIC_RELAXED);
    uint32_t n = c < TL_MODULE_CAP ? c : TL_MODULE_CAP;
    for (uint32_t i = 0; i < n; i++)
        if (mods[i].pid == (uint32_t)tl_pid && mods[i].base == base && tl_streq(mods[i].path, mp.path)) return i;
    if (c >= TL_MODULE_CAP) {
        mark_full(TL_FLAG_MODULE_FULL);
        return TL_MODULE_NONE;
    }
    uint32_t i = __atomic_fetch_add(&tl_stats->module_count, 1, __ATOMIC_RELAXED);
    if (i >= TL_MODULE_CAP) {
        mark_full(TL_FLAG_MODULE_FULL);
        return TL_MODULE_NONE;
    }
    struct tl_module_rec *m = &mods[i];
    m->pid = (uint32_t)tl_pid;
    m->origin = origin;
    m->base = base;
    size_t k = 0;
    while (mp.path[k] && k < sizeof m->path - 1) {
        m->path[k] = mp.path[k];
        k++;
    }
    m->path[k] = 0;
    if (origin != TL_ORIGIN_ANON) m->build_id_len = tl_elf_build_id(base, m->build_id);
    return i;
}

/* ---- sites: this process's map from site address to record (private) ---- */
#define SMAP_BITS 17
_Static_assert((3u << SMAP_BITS) / 4 > TL_SITE_CAP, "the site map has room for every record");
static uint64_t *smap; /* pairs: site address, record index + 1 */
static uint32_t smap_used;

static struct tl_site_rec *site_rec(uint32_t i) { return (struct tl_site_rec *)((char *)tl_stats + tl_stats_geom_cur.site) + i; }

/* where: the mapping holding site, used when a record is created (NULL: unknown) */
struct tl_site_rec *tl_cov_site(uint64_t site, int create, const struct tl_mapping *where)
{
    if (!tl_stats) return 0;
    if (!smap) {
        smap = tl_alloc_big(16ull << SMAP_BITS);
        if (!smap) {
            static int said;
            if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
                tl_error("warning: out of memory for the map of site records:", "this process records no sites", 0);
            return 0;
        }
    }
    uint64_t mask = (1ull << SMAP_BITS) - 1;
    for (uint64_t i = (site * (uint64_t)TL_SITE_MUL) >> (64 - SMAP_BITS);; i = (i + 1) & mask) {
        uint64_t a = __atomic_load_n(&smap[2 * i], __ATOMIC_ACQUIRE);
        if (a == site) {
            uint64_t idx;
            while (!(idx = __atomic_load_n(&smap[2 * i + 1], __ATOMIC_ACQUIRE))) __builtin_ia32_pause();
            return idx == ~0ull ? 0 : site_rec((uint32_t)(idx - 1));
        }
        if (a != 0) continue;
        if (!create) return 0;
        /* Sites past the records' capacity are remembered too (as dropped, counted once
         * each) while the map has room; beyond three quarters of it, no longer: a lookup
         * must always find an empty slot to stop at. */
        if (__atomic_load_n(&smap_used, __ATOMIC_RELAXED) >= (3u << SMAP_BITS) / 4) {
            mark_full(TL_FLAG_SITE_FULL);
            return 0;
        }
        uint64_t z = 0;
        if (!__atomic_compare_exchange_n(&smap[2 * i], &z, site, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            if (z == site) { i = (i - 1) & mask; } /* another thread is creating it: re-read */
            continue;
        }
        __atomic_add_fetch(&smap_used, 1, __ATOMIC_RELAXED);
        uint32_t r = __atomic_fetch_add(&tl_stats->site_count, 1, __ATOMIC_RELAXED);
        if (r >= TL_SITE_CAP) {
            mark_full(TL_FLAG_SITE_FULL);
            __atomic_store_n(&smap[2 * i + 1], ~0ull, __ATOMIC_RELEASE);
            return 0;
        }
        struct tl_site_rec *s = site_rec(r);
        uint64_t base;
        s->addr = site;
        s->pid = (uint32_t)tl_pid;
        s->module = module_of(where, &base);
        s->offset = site - base;
        s->nr_first = TL_NR_NONE;
        s->state = TL_SITE_TRAPPING;
        __atomic_store_n(&smap[2 * i + 1], (uint64_t)r + 1, __ATOMIC_RELEASE);
        return s;
    }
}

/* Number nr was seen at site record s: the first one goes into nr_first (the fast path
 * compares against it), every one in 0..511 into the bitmap (the fast path sets bits
 * itself for numbers other than nr_first), others are counted. */
void tl_cov_nr(struct tl_site_rec *s, long nr)
{
    if (!s) return;
    if (nr < 0 || nr >= (long)TL_NR_MAX) {
        __atomic_add_fetch(&s->nrs_other, 1, __ATOMIC_RELAXED);
        return;
    }
    uint16_t none = TL_NR_NONE;
    __atomic_compare_exchange_n(&s->nr_first, &none, (uint16_t)nr, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    uint64_t bit = 1ull << (nr & 63);
    if (!(__atomic_load_n(&s->nrs[nr >> 6], __ATOMIC_RELAXED) & bit)) __atomic_or_fetch(&s->nrs[nr >> 6], bit, __ATOMIC_RELAXED);
}

void tl_cov_state(struct tl_site_rec *s, int state, int reason)
{
    if (!s) return;
    __atomic_store_n(&s->state, (uint32_t)state, __ATOMIC_RELAXED);
    __atomic_store_n(&s->reason, (uint32_t)reason, __ATOMIC_RELAXED);
}

/* Without a segment, a rewritten site still needs a record for the fast path to count
 * into (fast_hits, nr_first, nrs): one from a private pool. When even that is exhausted,
 * a shared overflow record whose bitmap is full (no number is ever new to it). */
#define POOL_CAP 65536u
static struct tl_site_rec *pool;
static uint32_t pool_used;
static struct tl_site_rec overflow = {.nr_first = TL_NR_NONE, .nrs = {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull}};

/* The fast path's counter for site record s (NULL: no segment record), first number nr
 * (-1: not known yet, a planned site; the fast path records its first number itself). */
void tl_cov_plan(struct tl_site_rec *s, int source, int state, int reason)
{
    if (!s) return;
    __atomic_store_n(&s->source, (uint16_t)source, __ATOMIC_RELAXED);
    tl_cov_state(s, state, reason);
}

/* a site's own counter (not the overflow record all sites share once the pool is used up) */
int tl_cov_own_counter(const uint64_t *hits) { return hits && hits != &overflow.fast_hits; }

uint64_t *tl_cov_fast_counter(struct tl_site_rec *s, long nr)
{
    /* (re)written: the code at this address may be new, so is its policy exemption */
    if (s) {
        __atomic_store_n(&s->policy, 0, __ATOMIC_RELAXED);
        return &s->fast_hits;
    }
    if (!pool) {
        pool = tl_alloc_big(POOL_CAP * sizeof *pool);
        if (!pool) return &overflow.fast_hits;
    }
    uint32_t i = __atomic_fetch_add(&pool_used, 1, __ATOMIC_RELAXED);
    if (i >= POOL_CAP) return &overflow.fast_hits;
    pool[i].nr_first = TL_NR_NONE;
    if (nr >= 0) tl_cov_nr(&pool[i], nr);
    return &pool[i].fast_hits;
}
