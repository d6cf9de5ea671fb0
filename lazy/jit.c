/* Code that changes after we rewrote it: JIT compilers, unloaded or remapped libraries.
 *
 * Before the program's mprotect() makes memory holding rewritten sites writable, the
 * original `0f 05` is put back at those sites (the program then sees its own bytes, and
 * a site still there re-learns on its next trap). Before munmap(), mmap(MAP_FIXED) over,
 * mremap() or madvise(DONTNEED/REMOVE/FREE) of such memory, the sites are forgotten.
 * Either way the sites leave the global set of rewritten sites, so new code that
 * happens to hold a real `call *%rax` at a former site is never taken for a syscall. */
#include "lazy/lazy.h"
#include <sys/mman.h>

#define MAX_SITES TL_SITE_MAX
static uint64_t *recs; /* site addresses, in rewrite order (0 = forgotten) */
static uint32_t nrecs;
static uint64_t lo_site = ~0ull, hi_site;

/* 1 if the next rewritten site can be recorded here; 0 if not, and then it must not be
 * rewritten (a site this list does not hold would keep its `ff d0` when its code changes).
 * Called with the rewrite lock held, before the site is patched: what it reserves stays
 * free until tl_jit_note_site. When full, forgotten entries are squeezed out first. */
int tl_jit_reserve(void)
{
    if (!recs) {
        recs = tl_alloc_big(MAX_SITES * 8);
        if (!recs) return 0;
    }
    if (nrecs < MAX_SITES) return 1;
    uint32_t k = 0;
    for (uint32_t i = 0; i < nrecs; i++)
        if (recs[i]) recs[k++] = recs[i];
    nrecs = k;
    return nrecs < MAX_SITES;
}

/* called with the rewrite lock held, after a site was rewritten (tl_jit_reserve said 1) */
void tl_jit_note_site(uint64_t site)
{
    recs[nrecs++] = site;
    if (site < lo_site) lo_site = site;
    if (site + 2 > hi_site) hi_site = site + 2;
}

static void forget(uint64_t site)
{
    tl_site_remove(site + 2);
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
