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

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* protection of the mapping holding addr, from /proc/self/maps; -1 if not found */
static int prot_of(uint64_t addr)
{
    long fd = tl_sys4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    char buf[4096], line[512];
    size_t ll = 0;
    int prot = -1, done = 0;
    while (!done) {
        long n = tl_sys3(SYS_read, fd, buf, sizeof buf);
        if (n == -EINTR) continue;
        if (n <= 0) break;
        for (long i = 0; i < n && !done; i++) {
            char c = buf[i];
            if (c != '\n') { if (ll < sizeof line - 1) line[ll++] = c; continue; }
            line[ll] = 0;
            ll = 0;
            uint64_t lo = 0, hi = 0;
            const char *p = line;
            int v;
            while ((v = hexval(*p)) >= 0) lo = lo * 16 + (uint64_t)v, p++;
            if (*p++ != '-') continue;
            while ((v = hexval(*p)) >= 0) hi = hi * 16 + (uint64_t)v, p++;
            if (*p++ != ' ') continue;
            if (addr < lo || addr >= hi) continue;
            prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
            done = 1;
        }
    }
    tl_sys1(SYS_close, fd);
    return prot;
}

void tl_rewrite_lock(void) { while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause(); }
void tl_rewrite_unlock(void) { __atomic_store_n(&lock, 0, __ATOMIC_RELEASE); }
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

static void lock_take(void)
{
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause();
}

static void lock_drop(void) { __atomic_store_n(&lock, 0, __ATOMIC_RELEASE); }

/* 1: rewritten (or already rewritten by another thread); 0: left on the trap path. */
int tl_rewrite_site(uint64_t site)
{
    if (!tl_zero_mapped || tl_cfg.mode != TL_MODE_LAZY) return 0;
    if (site >= tl_vdso_lo && site < tl_vdso_hi) return 0;       /* vDSO: not writable */
    if ((site & 63) == 63) return 0;                            /* straddles a line */
    if (site >= tl_text_lo && site < tl_text_hi) return 0;      /* our own code */
    struct tl_tcb *t = tl_self();
    if (t->in_hook) return 0;                                   /* nested: a signal handler interrupted a rewrite */
    t->in_hook = 1;
    lock_take();
    int done = 0;
    int prot = prot_of(site);
    if (prot >= 0 && (prot & PROT_EXEC) && tl_site_insert(site + 2)) {
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
    lock_drop();
    t->in_hook = 0;
    if (done && tl_stats) __atomic_add_fetch(&tl_stats->sites_rewritten, 1, __ATOMIC_RELAXED);
    return done;
}
