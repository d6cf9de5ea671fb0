/* Statistics segment (layout: core/stats_layout.h, docs/stats.md).
 * With TRAPLINE_STATS unset the counters live in private memory: the fast path always
 * has a block to increment. */
#include "core/core.h"
#include <sys/mman.h>
#include <fcntl.h>
#include <errno.h>
#include <stdlib.h>
#include "core/stats_check.h"

struct tl_stats_header *tl_stats;
struct tl_nr_counters *tl_nr;
static struct tl_nr_counters *nr_i386;
static struct tl_thread_block *threads;
static uint64_t private_block[2 * TL_NR_MAX] TL_COLD;
_Static_assert(offsetof(struct tl_thread_block, errors) - offsetof(struct tl_thread_block, fast) == TB_ERRORS,
               "entry.S: errors[] follows fast[] (T_COUNTS points at fast[])");
struct tl_stats_geom tl_stats_geom_cur;

/* The path made absolute (a relative TRAPLINE_STATS would name another file after the
 * program changes directory and execs). */
static char abs_path[4096 + 2] TL_COLD;
static char env_stats[sizeof abs_path + 16] TL_COLD, env_cookie[48];

static const char *absolute(const char *p)
{
    if (p[0] == '/') return p;
    long n = tl_sys2(SYS_getcwd, abs_path, sizeof abs_path - 1);
    if (n <= 0) return 0;
    size_t k = tl_strlen(abs_path), m = tl_strlen(p);
    if (k + 1 + m >= sizeof abs_path) return 0;
    abs_path[k++] = '/';
    memcpy(abs_path + k, p, m + 1);
    return abs_path;
}

static void stats_fail(const char *path, const char *what, long fd)
{
    tl_error("TRAPLINE_STATS:", path, what);
    if (fd >= 0) tl_sys1(SYS_close, fd);
}

/* Allocates the file's blocks now, so that a full file system is an error here and never
 * a SIGBUS at a counter write later (posix_fallocate; a file system without fallocate
 * gets one byte written per block). 0 or -errno. */
static long allocate(long fd, uint64_t size)
{
    long r = tl_sys4(SYS_fallocate, fd, 0, 0, size);
    if (r != -EOPNOTSUPP) return r;
    r = tl_sys2(SYS_ftruncate, fd, size);
    for (uint64_t off = 0; r == 0 && off < size; off += 4096) {
        r = tl_sys4(SYS_pwrite64, fd, "", 1, off);
        if (r == 1)
            r = 0;
        else if (r >= 0)
            r = -EIO;
    }
    return r;
}

static uint64_t new_cookie(void)
{
    uint64_t c = 0;
    if (tl_sys3(SYS_getrandom, &c, 8, 0) != 8) {
        struct {
            long s, ns;
        } ts;
        tl_sys2(SYS_clock_gettime, 1, &ts);
        c = ((uint64_t)ts.ns << 32) ^ (uint64_t)ts.s ^ ((uint64_t)tl_pid << 16) ^ (uint64_t)&c;
    }
    return c ? c : 1;
}

/* Creates (no TRAPLINE_STATS_COOKIE: the first process of a run) or joins (the cookie of
 * the run that created it) the segment. 0, or -1 after one error line. */
int tl_stats_open(void)
{
    if (!tl_cfg.stats) return 0;
    struct tl_stats_geom g = tl_stats_geom();
    const char *path = absolute(tl_cfg.stats);
    if (!path) {
        tl_error("TRAPLINE_STATS:", tl_cfg.stats, "cannot be made absolute (path too long or no working directory)");
        return -1;
    }
    uint64_t cookie = tl_cfg.stats_cookie;
    int fresh = cookie == 0;
    long fd;
    if (fresh) {
        fd = tl_sys4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd == -EEXIST) {
            stats_fail(path,
                       "already exists: a new statistics segment is always a new file (remove it, pick another path, or add to it "
                       "with `trapline run --stats-append`)",
                       -1);
            return -1;
        }
        if (fd < 0) {
            stats_fail(path, "cannot be created", -1);
            return -1;
        }
        tl_sys2(SYS_fchmod, fd, 0600); /* whatever the umask */
        long r = allocate(fd, g.size);
        if (r) {
            tl_sys3(SYS_unlinkat, AT_FDCWD, path, 0);
            stats_fail(
                path,
                r == -ENOSPC || r == -EDQUOT ? "cannot be allocated: no space left on the file system" : "cannot be allocated", fd);
            return -1;
        }
        cookie = new_cookie();
    } else {
        fd = tl_sys4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
        if (fd < 0) {
            stats_fail(path, "cannot be opened to join this run's statistics segment", -1);
            return -1;
        }
        struct {
            uint64_t a[18];
        } st; /* struct stat: st_mode, st_uid at 24, 28; st_size at 48 */
        if (tl_sys2(SYS_fstat, fd, &st) != 0) {
            stats_fail(path, "cannot be examined", fd);
            return -1;
        }
        uint32_t mode = (uint32_t)st.a[3], uid = (uint32_t)(st.a[3] >> 32);
        if ((mode & 0170000) != 0100000) {
            stats_fail(path, "is not a regular file", fd);
            return -1;
        }
        if (uid != (uint32_t)tl_sys0(SYS_geteuid)) {
            stats_fail(path, "is owned by another user; not joined", fd);
            return -1;
        }
        if (mode & 077) {
            stats_fail(path, "is accessible to other users (mode is not 0600); not joined", fd);
            return -1;
        }
        if (st.a[6] != g.size) {
            stats_fail(path, "is not a trapline v4 statistics segment (wrong size)", fd);
            return -1;
        }
    }
    long p = tl_sys6(SYS_mmap, 0, g.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p < 0 && p > -4096) {
        if (fresh) tl_sys3(SYS_unlinkat, AT_FDCWD, path, 0);
        stats_fail(path, "cannot be mapped", fd);
        return -1;
    }
    struct tl_stats_header *h = (struct tl_stats_header *)p;
    if (fresh) {
        memcpy(h->magic, TL_STATS_MAGIC, 8);
        h->header_size = sizeof *h;
        h->total_size = g.size;
        h->nr_max = TL_NR_MAX;
        h->thread_slots = TL_THREAD_SLOTS;
        h->nr_off = g.nr;
        h->i386_off = g.i386;
        h->thread_off = g.th;
        h->proc_off = g.proc;
        h->proc_cap = TL_PROC_CAP;
        h->module_off = g.mod;
        h->module_cap = TL_MODULE_CAP;
        h->site_off = g.site;
        h->site_cap = TL_SITE_CAP;
        h->mode = (uint32_t)tl_cfg.mode;
        h->policy = (uint32_t)tl_cfg.policy;
        h->run_cookie = cookie;
        struct {
            long s, ns;
        } ts;
        tl_sys2(SYS_clock_gettime, 0, &ts);
        h->start_ns = (uint64_t)ts.s * 1000000000ull + (uint64_t)ts.ns;
        __atomic_store_n(&h->version, TL_STATS_VERSION, __ATOMIC_RELEASE);
    } else {
        const char *bad = tl_stats_check(h, g.size, cookie);
        if (!bad && h->policy != (uint32_t)tl_cfg.policy)
            bad = "was created with another rewrite policy (TRAPLINE_REWRITE); not joined";
        if (!bad && tl_cfg.mode_forced && h->mode != (uint32_t)tl_cfg.mode_asked && h->mode != (uint32_t)tl_cfg.mode)
            bad = "was created in another mode (TRAPLINE_MODE); not joined";
        if (bad) {
            tl_sys2(SYS_munmap, p, g.size);
            stats_fail(path, bad, fd);
            return -1;
        }
    }
    tl_sys1(SYS_close, fd);
    tl_stats = h;
    /* every address below comes from this build's geometry, never from the file */
    tl_stats_geom_cur = g;
    tl_nr = (struct tl_nr_counters *)((char *)h + g.nr);
    threads = (struct tl_thread_block *)((char *)h + g.th);
    nr_i386 = (struct tl_nr_counters *)((char *)h + g.i386);
    __atomic_add_fetch(&h->processes, 1, __ATOMIC_RELAXED);
    /* what this run's exec'd children need to join: the absolute path and the cookie,
     * in the environment they are given (sud/exec.c) and in our own (a program that
     * execs with its own copy of it while TRAPLINE_FOLLOW_EXEC=0) */
    char hexc[24];
    tl_fmt_u64(hexc, cookie, 16);
    size_t k = 0;
    for (const char *q = "TRAPLINE_STATS="; *q; q++) env_stats[k++] = *q;
    for (const char *q = path; *q; q++) env_stats[k++] = *q;
    env_stats[k] = 0;
    k = 0;
    for (const char *q = "TRAPLINE_STATS_COOKIE="; *q; q++) env_cookie[k++] = *q;
    for (const char *q = hexc; *q; q++) env_cookie[k++] = *q;
    env_cookie[k] = 0;
    tl_env_set(env_stats);
    tl_env_set(env_cookie);
#ifndef TL_BOOT
    setenv("TRAPLINE_STATS", path, 1); /* a program entered at its first instruction */
    setenv("TRAPLINE_STATS_COOKIE", hexc, 1); /* has none of ours in its environment */
#endif
    tl_cfg.stats = env_stats + 15;
    tl_cfg.stats_cookie = cookie;
    return 0;
}

static int pid_alive(uint64_t owner)
{
    long r = tl_sys2(SYS_kill, (long)(owner >> 32), 0);
    return r == 0 || r == -EPERM;
}

/* adds a thread's counts (fast[TL_NR_MAX] then errors[TL_NR_MAX]) into the segment's
 * totals, zeroing them */
static void fold(uint64_t *fast)
{
    uint64_t *errors = fast + TL_NR_MAX;
    for (unsigned i = 0; i < TL_NR_MAX; i++) {
        uint64_t v = fast[i], e = errors[i];
        if (v) {
            fast[i] = 0;
            __atomic_add_fetch(&tl_nr[i].fast, v, __ATOMIC_RELAXED);
        }
        if (e) {
            errors[i] = 0;
            __atomic_add_fetch(&tl_nr[i].errors, e, __ATOMIC_RELAXED);
        }
    }
}

/* A thread's counters are a block of the segment's thread table (a slot). While every
 * slot is taken (more threads at once than TL_THREAD_SLOTS, across the run), a thread
 * counts in a block of private memory instead, which is added into the segment's totals
 * when the thread exits, or when the process exits or execs (tl_stats_fold_private):
 * the counts arrive late, but none is lost. Released private blocks are reused. */
#define BLOCK_WORDS (2 * TL_NR_MAX)
_Static_assert(sizeof(((struct tl_thread_block *)0)->fast) + sizeof(((struct tl_thread_block *)0)->errors) == BLOCK_WORDS * 8,
               "a block: fast[] then errors[]");
static uint64_t *spare_blocks; /* released private blocks, linked through their first word */
static int spare_lock;

static uint64_t *private_block_new(void)
{
    tl_spin_lock(&spare_lock);
    uint64_t *b = spare_blocks;
    if (b) spare_blocks = (uint64_t *)b[0];
    tl_spin_unlock(&spare_lock);
    if (b) {
        b[0] = 0;
        return b;
    }
    return tl_alloc_big(BLOCK_WORDS * 8);
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
                    if (pass == 1) fold(threads[i].fast); /* a dead process's counts */
                    *slot_out = (int)i;
                    return threads[i].fast;
                }
            }
        }
    }
    uint64_t *b = private_block_new();
    tl_limit(TL_FLAG_THREAD_FULL, "note: more threads at once than the statistics segment has counter blocks;",
             "the others count privately, added to the segment as they exit", 0);
    if (b) return b;
    tl_error("warning: out of memory for a thread's counters:", "its fast-path calls are not counted", 0);
    return private_block;
}

void tl_stats_thread_release(struct tl_tcb *t)
{
    if (!tl_stats) return;
    if (t->slot >= 0) {
        fold(threads[t->slot].fast);
        __atomic_store_n(&threads[t->slot].owner, 0, __ATOMIC_RELEASE);
    } else if (t->counts && t->counts != private_block) {
        uint64_t *b = t->counts;
        fold(b);
        tl_spin_lock(&spare_lock);
        b[0] = (uint64_t)spare_blocks;
        spare_blocks = b;
        tl_spin_unlock(&spare_lock);
    }
    t->slot = -1;
    t->counts = private_block;
}

static void fold_private(struct tl_tcb *t, void *arg)
{
    (void)arg;
    if (t->slot < 0 && t->counts && t->counts != private_block) fold(t->counts);
}

/* The process ends (exit_group) or replaces its image (exec): the private blocks of all
 * its threads go into the segment now (a count a thread makes meanwhile may be lost). */
void tl_stats_fold_private(void)
{
    if (tl_stats) tl_threads_each(fold_private, 0);
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
        __atomic_add_fetch(via == TL_VIA_TRAP ? &tl_nr[nr].trap : &tl_nr[nr].fast, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_add_fetch(via == TL_VIA_TRAP ? &tl_stats->other_trap : &tl_stats->other_fast, 1, __ATOMIC_RELAXED);
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
