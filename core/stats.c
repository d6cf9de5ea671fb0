/* Statistics segment (layout: core/stats_layout.h, docs/stats.md).
 * With TRAPLINE_STATS unset the counters live in private memory: the fast path always
 * has a block to increment. */
#include "tl.h"
#include <sys/mman.h>
#include <fcntl.h>
#include <errno.h>

struct tl_stats_header *tl_stats;
struct tl_nr_counters *tl_nr;
static struct tl_nr_counters *nr_i386;
static struct tl_thread_block *threads;
static uint64_t private_block[2 * TL_NR_MAX];

struct layout { uint64_t nr, i386, th, proc, mod, site, size; };
static struct layout layout(void)
{
    struct layout l;
    l.nr = (sizeof(struct tl_stats_header) + 63) & ~63ull;
    l.i386 = l.nr + TL_NR_MAX * sizeof(struct tl_nr_counters);
    l.th = (l.i386 + TL_NR_MAX * sizeof(struct tl_nr_counters) + 4095) & ~4095ull;
    l.proc = l.th + (uint64_t)TL_THREAD_SLOTS * sizeof(struct tl_thread_block);
    l.mod = l.proc + (uint64_t)TL_PROC_CAP * sizeof(struct tl_proc_rec);
    l.site = l.mod + (uint64_t)TL_MODULE_CAP * sizeof(struct tl_module_rec);
    l.size = (l.site + (uint64_t)TL_SITE_CAP * sizeof(struct tl_site_rec) + 4095) & ~4095ull;
    return l;
}
static uint64_t seg_size(void) { return layout().size; }

static int valid_header(const struct tl_stats_header *h, uint64_t size)
{
    for (int i = 0; i < 8; i++) if (h->magic[i] != TL_STATS_MAGIC[i]) return 0;
    return h->version == TL_STATS_VERSION && h->total_size == size && h->nr_max == TL_NR_MAX &&
           h->thread_slots == TL_THREAD_SLOTS && h->proc_cap == TL_PROC_CAP &&
           h->module_cap == TL_MODULE_CAP && h->site_cap == TL_SITE_CAP;
}

int tl_stats_open(void)
{
    if (!tl_cfg.stats) return 0;
    uint64_t size = seg_size();
    long fd = tl_sys4(SYS_openat, AT_FDCWD, tl_cfg.stats, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) { tl_error("TRAPLINE_STATS:", tl_cfg.stats, "cannot be opened"); return -1; }
    /* the first process sizes and initialises the file under an exclusive lock; later
     * ones (children, exec'd programs, concurrent starts) join it */
    tl_sys2(SYS_flock, fd, 2 /* LOCK_EX */);
    struct { uint64_t a[18]; } st;  /* struct stat: st_size at offset 48 */
    long r = tl_sys2(SYS_fstat, fd, &st);
    uint64_t cur = r == 0 ? st.a[6] : 0;
    int fresh = cur == 0;
    if (fresh && tl_sys2(SYS_ftruncate, fd, size) != 0) {
        tl_error("TRAPLINE_STATS:", tl_cfg.stats, "cannot be sized");
        tl_sys1(SYS_close, fd);
        return -1;
    }
    if (!fresh && cur != size) {
        tl_error("TRAPLINE_STATS:", tl_cfg.stats, "exists and is not a trapline v4 statistics segment");
        tl_sys1(SYS_close, fd);
        return -1;
    }
    long p = tl_sys6(SYS_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p < 0 && p > -4096) { tl_error("TRAPLINE_STATS:", tl_cfg.stats, "cannot be mapped"); tl_sys1(SYS_close, fd); return -1; }
    struct tl_stats_header *h = (struct tl_stats_header *)p;
    if (fresh) {
        memcpy(h->magic, TL_STATS_MAGIC, 8);
        h->header_size = sizeof *h;
        h->total_size = size;
        h->nr_max = TL_NR_MAX;
        h->thread_slots = TL_THREAD_SLOTS;
        struct layout l = layout();
        h->nr_off = l.nr;
        h->i386_off = l.i386;
        h->thread_off = l.th;
        h->proc_off = l.proc;
        h->proc_cap = TL_PROC_CAP;
        h->module_off = l.mod;
        h->module_cap = TL_MODULE_CAP;
        h->site_off = l.site;
        h->site_cap = TL_SITE_CAP;
        h->mode = (uint32_t)tl_cfg.mode;
        h->policy = (uint32_t)tl_cfg.policy;
        struct { long s, ns; } ts;
        tl_sys2(SYS_clock_gettime, 0, &ts);
        h->start_ns = (uint64_t)ts.s * 1000000000ull + (uint64_t)ts.ns;
        __atomic_store_n(&h->version, TL_STATS_VERSION, __ATOMIC_RELEASE);
    } else if (!valid_header(h, size)) {
        tl_error("TRAPLINE_STATS:", tl_cfg.stats, "exists and is not a trapline v4 statistics segment");
        tl_sys2(SYS_munmap, p, size);
        tl_sys1(SYS_close, fd);
        return -1;
    }
    tl_sys2(SYS_flock, fd, 8 /* LOCK_UN */);
    tl_sys1(SYS_close, fd);
    tl_stats = h;
    tl_nr = (struct tl_nr_counters *)((char *)h + h->nr_off);
    threads = (struct tl_thread_block *)((char *)h + h->thread_off);
    nr_i386 = (struct tl_nr_counters *)((char *)h + h->i386_off);
    __atomic_add_fetch(&h->processes, 1, __ATOMIC_RELAXED);
    return 0;
}

static int pid_alive(uint64_t owner)
{
    long r = tl_sys2(SYS_kill, (long)(owner >> 32), 0);
    return r == 0 || r == -EPERM;
}

static void fold(struct tl_thread_block *b)
{
    for (unsigned i = 0; i < TL_NR_MAX; i++) {
        uint64_t v = b->fast[i], e = b->errors[i];
        if (v) { b->fast[i] = 0; __atomic_add_fetch(&tl_nr[i].fast, v, __ATOMIC_RELAXED); }
        if (e) { b->errors[i] = 0; __atomic_add_fetch(&tl_nr[i].errors, e, __ATOMIC_RELAXED); }
    }
}

uint64_t *tl_stats_thread_block(int *slot_out)
{
    *slot_out = -1;
    if (!tl_stats) return private_block;
    uint64_t me = ((uint64_t)(uint32_t)tl_pid << 32) | (uint32_t)tl_sys0(SYS_gettid);
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < TL_THREAD_SLOTS; i++) {
            uint64_t o = __atomic_load_n(&threads[i].owner, __ATOMIC_RELAXED);
            if (o == 0 || (pass == 1 && !pid_alive(o))) {
                if (__atomic_compare_exchange_n(&threads[i].owner, &o, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                    if (pass == 1) fold(&threads[i]);   /* a dead process's counts */
                    *slot_out = (int)i;
                    return threads[i].fast;
                }
            }
        }
    }
    /* every slot busy: counts of this thread go to private memory and are folded in
     * when it exits (tl_stats_thread_release with slot -1 handles the private block) */
    return private_block;
}

void tl_stats_thread_release(int slot)
{
    if (!tl_stats || slot < 0) return;
    fold(&threads[slot]);
    __atomic_store_n(&threads[slot].owner, 0, __ATOMIC_RELEASE);
}

void tl_stats_after_fork(struct tl_tcb *t)
{
    /* the child must not share its parent's block (plain increments) */
    t->counts = tl_stats_thread_block(&t->slot);
}

void tl_count_error(long nr)
{
    if (tl_stats && nr >= 0 && nr < (long)TL_NR_MAX) __atomic_add_fetch(&tl_nr[nr].errors, 1, __ATOMIC_RELAXED);
}

void tl_count_slow(long nr, int via)
{
    if (!tl_stats) return;
    if (nr >= 0 && nr < (long)TL_NR_MAX) {
        __atomic_add_fetch(via == 0 ? &tl_nr[nr].trap : &tl_nr[nr].fast, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(via == 0 ? &tl_stats->other_trap : &tl_stats->other_fast, 1, __ATOMIC_RELAXED);
    }
}

/* an i386 call (int $0x80): always a trap; error = it returned -4095..-1 */
void tl_count_i386(long nr, int error)
{
    if (!tl_stats) return;
    if (nr >= 0 && nr < (long)TL_NR_MAX)
        __atomic_add_fetch(error ? &nr_i386[nr].errors : &nr_i386[nr].trap, 1, __ATOMIC_RELAXED);
    else if (!error)
        __atomic_add_fetch(&tl_stats->other_i386, 1, __ATOMIC_RELAXED);
}
