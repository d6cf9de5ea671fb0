/* Rewriting a trapped `syscall` (0f 05) into `callq *%rax` (ff d0).
 *
 * Safety with other threads running:
 *  - the site is entered in the site set before its bytes change, so a thread that
 *    executes the new callq is always recognised;
 *  - the two bytes change with one locked 2-byte cmpxchg, which is atomic because a site
 *    that straddles a 64-byte line (and so a page) is never rewritten: it stays on the
 *    trap path (reason "straddle");
 *  - other threads' instruction streams are serialised afterwards with
 *    membarrier(PRIVATE_EXPEDITED_SYNC_CORE);
 *  - the page gets write permission only for the store, keeping its execute permission
 *    (other threads may be running there), and gets back exactly its former protection
 *    bits, read from /proc/self/maps; one rewrite at a time (spin lock).
 */
#include "tl.h"
#include <sys/mman.h>
#include <fcntl.h>
#include <errno.h>

static int lock;
static int membarrier_ok = -1;

#define MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE 32
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64

void tl_rewrite_after_fork(void)
{
    lock = 0;             /* only this thread exists in the child */
    membarrier_ok = -1;   /* registration is per address space */
}

static void serialise_cores(void)
{
    if (membarrier_ok < 0)
        membarrier_ok = tl_sys3(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0;
    if (membarrier_ok) tl_sys3(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

/* protection of the mapping holding addr; -1 if not found */
static int prot_of(uint64_t addr)
{
    struct tl_mapping m;
    return tl_maps_find(addr, &m) == 0 ? m.prot : -1;
}

void tl_rewrite_lock(void) { tl_spin_lock(&lock); }
void tl_rewrite_unlock(void) { tl_spin_unlock(&lock); }
void tl_rewrite_serialise(void) { serialise_cores(); }

/* Puts `0f 05` back at a site we rewrote (the page keeps its protection). Lock held. */
void tl_unrewrite_site(uint64_t site)
{
    int prot = prot_of(site);
    if (prot < 0) return;
    uint64_t page = site & ~4095ull;
    if (tl_sys3(SYS_mprotect, page, 4096, prot | PROT_READ | PROT_WRITE) != 0) return;
    uint16_t expect = 0xd0ff, orig = 0x050f, old = expect;
    uint16_t *p = (uint16_t *)site;
    __asm__ volatile("lock cmpxchgw %2, %1" : "+a"(old), "+m"(*p) : "r"(orig) : "memory", "cc");
    tl_sys3(SYS_mprotect, page, 4096, prot);
}

/* TL_REASON_NONE: rewritten (or already rewritten by another thread); otherwise the
 * reason it stays on the trap path. */
/* Why site cannot be rewritten, known without reading anything; TL_REASON_NONE if a
 * rewrite may be attempted. */
int tl_rewrite_precheck(uint64_t site)
{
    if (!tl_zero_mapped || tl_cfg.mode != TL_MODE_LAZY) return TL_REASON_SUD_ONLY;
    if (site >= tl_vdso_lo && site < tl_vdso_hi) return TL_REASON_VDSO;   /* not writable */
    if ((site & 63) == 63) return TL_REASON_STRADDLE;                      /* straddles a line */
    if (site >= tl_text_lo && site < tl_text_hi) return TL_REASON_NOT_SYSCALL;
    if (tl_self()->in_rewrite) return TL_REASON_NESTED;   /* a signal handler interrupted a rewrite */
    return TL_REASON_NONE;
}

/* where: the mapping holding site (its protection is restored after the store). */
int tl_rewrite_site(uint64_t site, uint64_t *hits, const struct tl_mapping *where)
{
    int pre = tl_rewrite_precheck(site);
    if (pre != TL_REASON_NONE) return pre;
    struct tl_tcb *t = tl_self();
    t->in_rewrite = 1;
    tl_rewrite_lock();
    int done = 0, reason = TL_REASON_NOT_SYSCALL;
    int prot = where ? where->prot : -1;
    if (prot >= 0 && (prot & PROT_EXEC) && !tl_site_insert(site + 2, hits)) reason = TL_REASON_FULL;
    else if (prot >= 0 && (prot & PROT_EXEC)) {
        uint64_t page = site & ~4095ull;
        if (tl_sys3(SYS_mprotect, page, 4096, prot | PROT_READ | PROT_WRITE) == 0) {
            uint16_t expect = 0x050f, repl = 0xd0ff;
            uint16_t *p = (uint16_t *)site;
            uint16_t old = expect;
            __asm__ volatile("lock cmpxchgw %2, %1" : "+a"(old), "+m"(*p) : "r"(repl) : "memory", "cc");
            done = old == expect || old == repl;
            tl_sys3(SYS_mprotect, page, 4096, prot);
            if (old == expect) tl_jit_note_site(site);
            if (done) serialise_cores();
        }
    }
    tl_rewrite_unlock();
    t->in_rewrite = 0;
    if (done && tl_stats) __atomic_add_fetch(&tl_stats->sites_rewritten, 1, __ATOMIC_RELAXED);
    return done ? TL_REASON_NONE : reason;
}
