/* Our own map of the address space, so that learning a site reads no /proc/self/maps.
 *
 * Built once, on first need, from /proc/self/maps; then kept up to date from the calls
 * that change mappings, all of which reach perform_call (core/dispatch.c) after start-up:
 * mmap, mprotect, pkey_mprotect, munmap, mremap, shmat/shmdt (the fast path hands them to
 * C). Each entry keeps what the slow path needs: range, exact protection (as asked for),
 * the shared bit, file offset and path (paths of executable file mappings only, read
 * with one readlink of /proc/self/fd/N when mapped; others are resolved by a re-read if
 * ever needed).
 *
 * When the map has no answer it falls back to the kernel:
 *  - an address in no entry (stack growth, brk, memory our own set-up mapped, anything
 *    we did not see): the map is rebuilt from /proc/self/maps;
 *  - changes we cannot see at all: a user hook's own calls (they run with SUD allowing
 *    them). After a hook ran, lookups ask the kernel for the one mapping (PROCMAP_QUERY,
 *    or a /proc/self/maps scan on kernels without it) instead of trusting the map;
 *  - another thread inside such a call (syscall done, map not yet updated): likewise.
 * Calls that change mappings in ways not modelled here (MREMAP_DONTUNMAP, shmat, a
 * 32-bit mmap, PROT_GROWSDOWN, ...) just drop the map: it is rebuilt on next need. */
#include "core/core.h"
#include <fcntl.h>
#include <errno.h>
#include <sys/mman.h>

struct ent {
    uint64_t start, end, offset;
    int32_t prot;
    uint16_t shared;
    uint16_t path;
};
#define MAX_ENTS 16384
#define PATH_NONE 0 /* anonymous: "" */
#define PATH_UNKNOWN 0xffff /* a file whose path we did not read */
#define POOL_SIZE (1u << 20)
#define MAX_PATHS 4096

static struct ent *ents; /* sorted by start, disjoint */
static uint32_t nents;
static char *pool; /* path strings; offsets in paths[] */
static uint32_t pool_used;
static uint32_t paths[MAX_PATHS] TL_COLD;
static uint32_t npaths;
static int valid; /* the map reflects the kernel (apart from gaps) */
static int lock;
static int owner; /* tid holding lock (a signal handler on that thread must not wait) */
static int busy; /* threads between a mapping call and its map update */
int tl_vm_suspect; /* a user hook ran: it may have changed mappings unseen */
static int dontfork; /* MADV_DONTFORK/WIPEONFORK seen: a forked child re-reads */
static int too_many; /* more mappings than MAX_ENTS: ask the kernel from now on */

/* While a rewrite (lazy/rewrite.c) holds a page writable, /proc/self/maps (and PROCMAP_QUERY) show a
 * protection for it that is not the program's. Anyone reading them outside the rewrite
 * lock (our map of the address space is built that way) must not take it for the truth:
 * trans_seq is odd for the duration, and trans_page[]/trans_prot[] hold the pages and
 * their real protections (a seqlock: see tl_vm_held). */
static uint32_t trans_seq;
static uint64_t trans_page[2] = {1, 1};
static int trans_prot[2];

void tl_vm_hold_begin(uint64_t p1, int prot1, uint64_t p2, int prot2)
{
    __atomic_store_n(&trans_page[0], p1, __ATOMIC_RELAXED);
    __atomic_store_n(&trans_prot[0], prot1, __ATOMIC_RELAXED);
    __atomic_store_n(&trans_page[1], p2, __ATOMIC_RELAXED);
    __atomic_store_n(&trans_prot[1], prot2, __ATOMIC_RELAXED);
    __atomic_add_fetch(&trans_seq, 1, __ATOMIC_SEQ_CST); /* odd: before the mprotect */
}

void tl_vm_hold_end(void) { __atomic_add_fetch(&trans_seq, 1, __ATOMIC_SEQ_CST); /* even: after the restore */ }

uint32_t tl_vm_hold_seq(void) { return __atomic_load_n(&trans_seq, __ATOMIC_SEQ_CST); }

/* For a reader that saw seq odd before and after its read: the pages a rewrite holds
 * writable and their real protections (page 1: none). */
void tl_vm_held(uint64_t page[2], int prot[2])
{
    for (int i = 0; i < 2; i++) {
        page[i] = __atomic_load_n(&trans_page[i], __ATOMIC_RELAXED);
        prot[i] = __atomic_load_n(&trans_prot[i], __ATOMIC_RELAXED);
    }
}

/* entries overlap when moved: a small memmove of our own (no libc here) */
static void move(struct ent *d, const struct ent *s, uint32_t n)
{
    if (d < s)
        for (uint32_t i = 0; i < n; i++) d[i] = s[i];
    else
        for (uint32_t i = n; i-- > 0;) d[i] = s[i];
}

static int alloc(void)
{
    if (ents) return 0;
    char *p = tl_alloc_big(MAX_ENTS * sizeof(struct ent) + POOL_SIZE);
    if (!p) return -1;
    ents = (struct ent *)p;
    pool = p + MAX_ENTS * sizeof(struct ent);
    return 0;
}

/* before the control block is installed only the start-up thread runs */
static int tid(void) { return tl_active ? tl_self()->tid : tl_pid; }

/* 0 locked; -1 this thread already holds it (a signal handler interrupted an update) */
static int vm_lock(void)
{
    int me = tid();
    if (__atomic_load_n(&owner, __ATOMIC_RELAXED) == me) return -1;
    tl_spin_lock(&lock);
    __atomic_store_n(&owner, me, __ATOMIC_RELAXED);
    return 0;
}
static void vm_unlock(void)
{
    __atomic_store_n(&owner, 0, __ATOMIC_RELAXED);
    tl_spin_unlock(&lock);
}

static uint16_t path_add(const char *s)
{
    if (!s[0]) return PATH_NONE;
    for (uint32_t i = npaths; i-- > 0;)
        if (tl_streq(pool + paths[i], s)) return (uint16_t)(i + 1);
    size_t n = tl_strlen(s) + 1;
    if (npaths >= MAX_PATHS - 2 || pool_used + n > POOL_SIZE) return PATH_UNKNOWN;
    memcpy(pool + pool_used, s, n);
    paths[npaths++] = pool_used;
    pool_used += (uint32_t)n;
    return (uint16_t)npaths;
}

/* index of the first entry with end > addr */
static uint32_t lower(uint64_t addr)
{
    uint32_t lo = 0, hi = nents;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (ents[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void file_offset_shift(struct ent *e, uint64_t new_start)
{
    if (e->path != PATH_NONE) e->offset += new_start - e->start;
    e->start = new_start;
}

/* Cuts entries at addr so that no entry straddles it. 0, or -1 if full. */
static int split_at(uint64_t addr)
{
    uint32_t i = lower(addr);
    if (i >= nents || ents[i].start >= addr) return 0;
    if (nents >= MAX_ENTS) return -1;
    move(&ents[i + 1], &ents[i], nents - i);
    nents++;
    ents[i].end = addr;
    file_offset_shift(&ents[i + 1], addr);
    return 0;
}

/* Removes [lo, hi). 0, or -1 if the map overflowed (then invalid). */
static int cut(uint64_t lo, uint64_t hi)
{
    if (split_at(lo) || split_at(hi)) return -1;
    uint32_t a = lower(lo), b = a;
    while (b < nents && ents[b].start < hi) b++;
    move(&ents[a], &ents[b], nents - b);
    nents -= b - a;
    return 0;
}

static int put(const struct ent *e)
{
    if (cut(e->start, e->end) || nents >= MAX_ENTS) return -1;
    uint32_t i = lower(e->start);
    move(&ents[i + 1], &ents[i], nents - i);
    ents[i] = *e;
    nents++;
    return 0;
}

static int build_cb(const struct tl_mapping *m, void *a)
{
    (void)a;
    struct ent e = {m->start, m->end, m->offset, m->prot, (uint16_t)m->shared, path_add(m->path)};
    if (nents >= MAX_ENTS) {
        valid = 0;
        too_many = 1;
        return 1;
    }
    ents[nents++] = e; /* /proc/self/maps lists them in order */
    return 0;
}

/* A mapping read from the kernel while a rewrite held one of its pages writable (the
 * rewrite's seqlock was odd before and after the read): give the page its real
 * protection. The page is a mapping of its own then (the mprotect split it), unless its
 * neighbours have the same protection, which then is the real one too. */
static void fix_transient(uint64_t start, uint64_t end, int *prot)
{
    uint64_t page[2];
    int real[2];
    tl_vm_held(page, real);
    for (int i = 0; i < 2; i++)
        if (page[i] != 1 && start == page[i] && end == page[i] + 4096) *prot = real[i];
}

/* (Re)builds the map. Lock held. Never keeps what a concurrent rewrite's temporary
 * write permission looks like: read again if a rewrite began or ended meanwhile. */
static void rebuild(void)
{
    if (alloc()) {
        valid = 0;
        return;
    }
    for (int tries = 0; tries < 64; tries++) {
        uint32_t s1 = tl_vm_hold_seq();
        nents = 0;
        npaths = 0;
        pool_used = 0;
        valid = 1;
        if (tl_maps_each(build_cb, 0) < 0) {
            valid = 0;
            return;
        }
        if (s1 & 1)
            for (uint32_t i = 0; i < nents; i++) {
                int prot = ents[i].prot;
                fix_transient(ents[i].start, ents[i].end, &prot);
                ents[i].prot = prot;
            }
        if (tl_vm_hold_seq() == s1) return;
    }
    valid = 0; /* rewrites all the time: ask the kernel per look-up */
}

static void fill(const struct ent *e, struct tl_mapping *out)
{
    out->start = e->start;
    out->end = e->end;
    out->offset = e->offset;
    out->prot = e->prot;
    out->shared = e->shared;
    const char *s = e->path == PATH_NONE || e->path == PATH_UNKNOWN ? "" : pool + paths[e->path - 1];
    size_t k = 0;
    while (s[k] && k < sizeof out->path - 1) {
        out->path[k] = s[k];
        k++;
    }
    out->path[k] = 0;
}

/* paths matter only to module records (statistics) and plans */
static int need_paths(void) { return tl_stats || tl_vm_want_paths; }
int tl_vm_want_paths;

/* ---- asking the kernel for one mapping: PROCMAP_QUERY (Linux 6.11), else a scan */
struct procmap_query_ {
    uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY_ 0xc0686611ul /* _IOWR('f', 17, struct procmap_query) */
static int no_query;

static int kernel_find_once(uint64_t addr, struct tl_mapping *out);

/* The one mapping holding addr, from the kernel, with the real protection of a page a
 * concurrent rewrite holds writable (see rebuild). */
static int kernel_find(uint64_t addr, struct tl_mapping *out)
{
    for (int tries = 0;; tries++) {
        uint32_t s1 = tl_vm_hold_seq();
        int r = kernel_find_once(addr, out);
        if (r == 0 && (s1 & 1)) fix_transient(out->start, out->end, &out->prot);
        if (tl_vm_hold_seq() == s1 || tries >= 64) return r;
    }
}

static int kernel_find_once(uint64_t addr, struct tl_mapping *out)
{
    /* the program's seccomp may forbid these calls of ours (tl_maps_find checks too) */
    int allowed = !UNLIKELY(tl_seccomp_mode) ||
        (tl_seccomp_allows(SYS_openat, AT_FDCWD, 0, O_RDONLY | O_CLOEXEC) &&
         tl_seccomp_allows(SYS_ioctl, 0, (long)PROCMAP_QUERY_, 0) && tl_seccomp_allows(SYS_close, 0, 0, 0));
    if (allowed && !__atomic_load_n(&no_query, __ATOMIC_RELAXED)) {
        long fd = tl_sys4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
        if (fd >= 0) {
            struct procmap_query_ q;
            memset(&q, 0, sizeof q);
            q.size = sizeof q;
            q.query_addr = addr;
            q.vma_name_size = sizeof out->path;
            q.vma_name_addr = (uint64_t)out->path;
            out->path[0] = 0;
            long r = tl_sys3(SYS_ioctl, fd, PROCMAP_QUERY_, &q);
            tl_sys1(SYS_close, fd);
            if (r == 0) {
                out->start = q.vma_start;
                out->end = q.vma_end;
                out->offset = q.inode ? q.vma_offset : 0;
                out->prot =
                    (q.vma_flags & 1 ? PROT_READ : 0) | (q.vma_flags & 2 ? PROT_WRITE : 0) | (q.vma_flags & 4 ? PROT_EXEC : 0);
                out->shared = (q.vma_flags & 8) != 0;
                if (!q.vma_name_size) out->path[0] = 0;
                return 0;
            }
            if (r == -ENOENT) return -1;
            __atomic_store_n(&no_query, 1, __ATOMIC_RELAXED); /* ENOTTY/EINVAL: an older kernel */
        }
    }
    return tl_maps_find(addr, out);
}

/* The mapping holding addr: 0 found, -1 unmapped. */
int tl_vm_find(uint64_t addr, struct tl_mapping *out)
{
    if (__atomic_load_n(&tl_vm_suspect, __ATOMIC_RELAXED) || __atomic_load_n(&too_many, __ATOMIC_RELAXED) ||
        __atomic_load_n(&busy, __ATOMIC_ACQUIRE) || vm_lock())
        return kernel_find(addr, out);
    int r = -1;
    for (int pass = 0; pass < 2; pass++) {
        if (!valid || pass) rebuild();
        if (!valid) {
            vm_unlock();
            return kernel_find(addr, out);
        }
        uint32_t i = lower(addr);
        if (i < nents && ents[i].start <= addr && !(ents[i].path == PATH_UNKNOWN && need_paths())) {
            fill(&ents[i], out);
            r = 0;
            break;
        }
    }
    vm_unlock();
    return r;
}

/* Calls fn for each mapping overlapping [lo, hi) (fn returns 1 to stop). */
int tl_vm_each(uint64_t lo, uint64_t hi, int (*fn)(const struct tl_mapping *, void *), void *arg)
{
    if (__atomic_load_n(&tl_vm_suspect, __ATOMIC_RELAXED) || __atomic_load_n(&too_many, __ATOMIC_RELAXED) ||
        __atomic_load_n(&busy, __ATOMIC_ACQUIRE) || vm_lock())
        return tl_maps_each(fn, arg);
    if (!valid) rebuild();
    int unknown = 0;
    for (uint32_t i = lower(lo); valid && i < nents && ents[i].start < hi; i++)
        if (ents[i].path == PATH_UNKNOWN && (ents[i].prot & PROT_EXEC)) unknown = 1;
    if (unknown && need_paths()) rebuild();
    if (!valid) {
        vm_unlock();
        return tl_maps_each(fn, arg);
    }
    /* a snapshot: fn may rewrite code, which does not change the map */
    struct tl_mapping m;
    int stop = 0;
    for (uint32_t i = lower(lo); !stop && i < nents && ents[i].start < hi; i++) {
        fill(&ents[i], &m);
        vm_unlock();
        stop = fn(&m, arg);
        if (vm_lock()) return 0;
        if (!valid) break;
        i = lower(m.end) - 1; /* entries may have moved meanwhile */
    }
    vm_unlock();
    return stop ? 0 : 1;
}

/* ---- updates ---- */

void tl_vm_begin(void) { __atomic_add_fetch(&busy, 1, __ATOMIC_ACQ_REL); }

static void invalidate_locked(void) { valid = 0; }

void tl_vm_invalidate(void)
{
    if (vm_lock()) {
        valid = 0;
        return;
    }
    invalidate_locked();
    vm_unlock();
}

static uint64_t page_up(uint64_t v) { return (v + 4095) & ~4095ull; }

/* Call nr with arguments a[] returned ret: updates the map, then ends what tl_vm_begin
 * started. */
void tl_vm_end(long nr, const uint64_t a[6], long ret)
{
    int ok = (unsigned long)ret < -4096ul;
    char path[288];
    path[0] = 0;
    /* a new executable file mapping: its path, while the descriptor is certainly valid */
    int want_path = nr == SYS_mmap && ok && (a[2] & PROT_EXEC) && !(a[3] & MAP_ANONYMOUS) && need_paths();
    if (want_path) {
        char link[40] = "/proc/self/fd/";
        char num[24];
        tl_fmt_u64(num, a[4] & 0xffffffffu, 10);
        size_t k = tl_strlen(link);
        for (const char *p = num; *p; p++) link[k++] = *p;
        link[k] = 0;
        long n = UNLIKELY(tl_seccomp_mode) && !tl_seccomp_allows(SYS_readlinkat, AT_FDCWD, 0, 0)
            ? -1
            : tl_sys4(SYS_readlinkat, AT_FDCWD, link, path, sizeof path - 1);
        path[n > 0 ? n : 0] = 0;
        if (n <= 0 || path[0] != '/') want_path = 0;
    }
    if (!ok || !ents) goto out;
    if (vm_lock()) {
        valid = 0;
        goto out;
    }
    if (!valid) goto unlock;
    switch (nr) {
    case SYS_mmap: {
        uint64_t type = a[3] & 0x0f;
        struct ent e = {(uint64_t)ret,
                        (uint64_t)ret + page_up(a[1]),
                        0,
                        (int32_t)(a[2] & 7),
                        (uint16_t)(type == MAP_SHARED || type == TL_MAP_SHARED_VALIDATE),
                        PATH_NONE};
        if (!(a[3] & MAP_ANONYMOUS)) {
            e.offset = a[5];
            e.path = want_path ? path_add(path) : PATH_UNKNOWN;
        } else if (e.shared) {
            e.path = path_add("/dev/zero (deleted)"); /* as /proc/self/maps names it */
        }
        if (put(&e)) valid = 0;
        break;
    }
    case SYS_mprotect:
    case SYS_pkey_mprotect: {
        uint64_t lo = a[0], hi = a[0] + page_up(a[1]);
        if (a[2] & (PROT_GROWSDOWN | PROT_GROWSUP)) {
            valid = 0;
            break;
        }
        if (split_at(lo) || split_at(hi)) {
            valid = 0;
            break;
        }
        uint64_t at = lo;
        for (uint32_t i = lower(lo); i < nents && ents[i].start < hi; i++) {
            if (ents[i].start != at) break; /* a gap: the kernel saw memory we did not */
            ents[i].prot = (int32_t)(a[2] & 7);
            at = ents[i].end;
        }
        if (at < hi) valid = 0;
        break;
    }
    case SYS_munmap:
        if (cut(a[0], a[0] + page_up(a[1]))) valid = 0;
        break;
    case SYS_mremap: {
        uint64_t old = a[0], oldlen = page_up(a[1]), newlen = page_up(a[2]);
        uint32_t i = lower(old);
        if ((a[3] & TL_MREMAP_DONTUNMAP) || !oldlen || i >= nents || ents[i].start > old) {
            valid = 0;
            break;
        }
        struct ent e = ents[i];
        if (e.path != PATH_NONE) e.offset += old - e.start;
        e.start = (uint64_t)ret;
        e.end = (uint64_t)ret + newlen;
        if (cut(old, old + oldlen) || put(&e)) valid = 0;
        break;
    }
    case SYS_madvise:
        if (a[2] == MADV_DONTFORK || a[2] == MADV_WIPEONFORK) dontfork = 1;
        break;
    default: /* shmat, shmdt, ...: not modelled */ valid = 0; break;
    }
unlock:
    vm_unlock();
out:
    __atomic_sub_fetch(&busy, 1, __ATOMIC_ACQ_REL);
}

/* A forked child: one thread, a copy of the map (its lock may have been held by a
 * thread that does not exist here). */
void tl_vm_after_fork(void)
{
    lock = 0;
    owner = 0;
    busy = 0;
    if (dontfork) valid = 0;
}
