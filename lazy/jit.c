/* Code that changes after we rewrote it: JIT compilers, unloaded or remapped libraries.
 *
 * Before the program's mprotect() makes memory holding rewritten sites writable, the
 * original `0f 05` is put back at those sites (the program then sees its own bytes, and
 * a site still there re-learns on its next trap). Before munmap(), mmap(MAP_FIXED) over,
 * mremap() or madvise(DONTNEED/REMOVE/FREE) of such memory, the sites are forgotten.
 * Either way the sites leave the global set and every thread's cache, so new code that
 * happens to hold a real `call *%rax` at a former site is never taken for a syscall. */
#include "tl.h"
#include <sys/mman.h>

#define MAX_SITES (1u << (TL_SITE_BITS - 1))
static uint64_t *recs;           /* site addresses, in rewrite order (0 = forgotten) */
static uint32_t nrecs;
static uint64_t lo_site = ~0ull, hi_site;
#define MAX_TCBS 4096
static struct tl_tcb *tcbs[MAX_TCBS];
static int tcb_lock;
static int nthreads;             /* registered control blocks */
static int pending;              /* threads cloned that have not registered yet */

/* 1 if this is the process's only thread. No other can appear meanwhile: only a running
 * thread can create one, and it counts the child as pending before clone. */
int tl_threads_alone(void)
{
    return __atomic_load_n(&nthreads, __ATOMIC_ACQUIRE) + __atomic_load_n(&pending, __ATOMIC_ACQUIRE) <= 1;
}

void tl_threads_pending(int delta)
{
    __atomic_add_fetch(&pending, delta, __ATOMIC_ACQ_REL);
}


/* Every registered thread takes the current tl_special (after the hook loaded: a thread
 * its set-up started copied the table before the hook's bit was set). Bytes only gain
 * bits here, so a thread reading its table meanwhile sees the old or the new value. */
void tl_tcbs_refresh_special(void)
{
    tl_spin_lock(&tcb_lock);
    for (unsigned i = 0; i < MAX_TCBS; i++) {
        struct tl_tcb *t = tcbs[i];
        if (!t) continue;
        for (unsigned n = 0; n < sizeof t->special; n++)
            __atomic_store_n(&t->special[n], tl_special[n], __ATOMIC_RELAXED);
    }
    tl_spin_unlock(&tcb_lock);
}

void tl_tcb_register(struct tl_tcb *t)
{
    tl_spin_lock(&tcb_lock);
    for (unsigned i = 0; i < MAX_TCBS; i++) if (!tcbs[i]) { tcbs[i] = t; break; }
    nthreads++;
    tl_spin_unlock(&tcb_lock);
}

void tl_tcb_unregister(struct tl_tcb *t)
{
    tl_spin_lock(&tcb_lock);
    for (unsigned i = 0; i < MAX_TCBS; i++) if (tcbs[i] == t) { tcbs[i] = 0; break; }
    nthreads--;
    tl_spin_unlock(&tcb_lock);
}

void tl_jit_after_fork(struct tl_tcb *self)
{
    tcb_lock = 0;
    for (unsigned i = 0; i < MAX_TCBS; i++) tcbs[i] = 0;
    tcbs[0] = self;
    nthreads = 1;
    pending = 0;
}

/* called with the rewrite lock held, after a site was rewritten */
void tl_jit_note_site(uint64_t site)
{
    if (!recs) {
        recs = tl_alloc_big(MAX_SITES * 8);
        if (!recs) return;
    }
    if (nrecs >= MAX_SITES) return;
    recs[nrecs++] = site;
    if (site < lo_site) lo_site = site;
    if (site + 2 > hi_site) hi_site = site + 2;
}

static void forget(uint64_t site)
{
    tl_site_remove(site + 2);
    uint64_t ret = site + 2;
    uint64_t slot = (ret * (uint64_t)TL_SITE_MUL) >> (64 - TL_CACHE_BITS);
    tl_spin_lock(&tcb_lock);
    for (unsigned i = 0; i < MAX_TCBS; i++) {
        struct tl_tcb *t = tcbs[i];
        if (t && t->cache[2 * slot] == ret) __atomic_store_n(&t->cache[2 * slot], TL_CACHE_EMPTY(slot), __ATOMIC_RELAXED);
    }
    tl_spin_unlock(&tcb_lock);
    tl_cov_state(tl_cov_site(site, 0, 0), TL_SITE_STALE, TL_REASON_STALE);
    if (tl_stats) __atomic_add_fetch(&tl_stats->sites_stale, 1, __ATOMIC_RELAXED);
}

/* The program is about to change [addr, addr+len): restore == 1 puts `0f 05` back
 * (memory stays, becomes writable), 0 only forgets (memory goes away). */
void tl_jit_invalidate(uint64_t addr, uint64_t len, int restore)
{
    if (!nrecs || len == 0) return;
    uint64_t end = addr + len;
    if (end < addr) end = ~0ull;
    if (end <= lo_site || addr >= hi_site) return;
    tl_rewrite_lock();
    int any = 0;
    for (uint32_t i = 0; i < nrecs; i++) {
        uint64_t s = recs[i];
        if (!s || s + 2 <= addr || s >= end) continue;
        if (restore) tl_unrewrite_site(s);
        forget(s);
        recs[i] = 0;
        any = 1;
    }
    tl_rewrite_unlock();
    if (any) tl_rewrite_serialise();
}
