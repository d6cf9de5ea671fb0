/* Rewriting a `syscall` (0f 05) into `callq *%rax` (ff d0): a trapped site (lazy), or
 * a site from a plan (eager, lazy/plan.c).
 *
 * Safety with other threads running:
 *  - the site is entered in the site set before its bytes change, so a thread that
 *    executes the new callq is always recognised;
 *  - the two bytes change with one locked 2-byte cmpxchg, which is atomic when they lie
 *    in one 64-byte line. A site that straddles a line (glibc's __open64_nocancel has one,
 *    across a page) is rewritten only while the process has a single thread, with a plain
 *    store; otherwise it stays on the trap path (reason "straddle");
 *  - other threads' instruction streams are serialised afterwards with
 *    membarrier(PRIVATE_EXPEDITED_SYNC_CORE) (not needed, and skipped, while the process
 *    has a single thread). Its registration is made before the process's first thread
 *    exists (tl_rewrite_before_thread), when it costs the kernel nothing, and is hidden
 *    from the program (tl_membarrier_virt);
 *  - the page gets write permission only for the store, keeping its execute permission
 *    (other threads may be running there), and gets back exactly its former protection
 *    bits, read from /proc/self/maps; one rewrite at a time (spin lock).
 */
#include "lazy/lazy.h"
#include "lazy/redzone.h"
#include <sys/mman.h>
#include <fcntl.h>
#include <errno.h>

static int lock;

/* membarrier(PRIVATE_EXPEDITED_SYNC_CORE), which makes every thread of the process
 * serialise its instruction stream, needs a registration, once per address space. The
 * kernel makes it cheap while the address space has a single user (it only marks the mm
 * and this CPU's run queue) and expensive otherwise (it waits for an RCU grace period:
 * ~10 ms on a loaded machine, sync_runqueues_membarrier_state in
 * kernel/sched/membarrier.c). So it is made just before the process creates its first
 * thread (tl_rewrite_before_thread), in the rewriting mode only; the rewrite that first
 * needs it with threads running makes it otherwise. A fork child's address space is a
 * copy with the registration in it, exec drops it (membarrier_exec_mmap).
 * membarrier_ok: -1 not tried, 0 refused (a kernel without SYNC_CORE), 1 registered. */
static int membarrier_ok = -1;
/* The registrations the program made itself (its MEMBARRIER_CMD_REGISTER_* commands that
 * succeeded, by command bit): what MEMBARRIER_CMD_GET_REGISTRATIONS and the SYNC_CORE
 * command must answer natively while ours is in place (tl_membarrier_virt). */
static int program_regs;

void tl_rewrite_after_fork(void)
{
    lock = 0; /* only this thread exists in the child */
    /* membarrier_ok and program_regs stay: the child's address space keeps both
     * registrations (a kernel that dropped ours is answered EPERM: see serialise_cores) */
}

/* The registrations the program made before our constructor ran (a library initialised
 * before ours, as liburcu's constructor registers PRIVATE_EXPEDITED), which
 * tl_membarrier_virt never saw: read from the kernel before ours is made and hides them.
 * GET_REGISTRATIONS (Linux 6.3), else the expedited commands: each fails with EPERM until
 * its registration is made (ours is not yet). */
static void membarrier_learn(void)
{
    const int ours = TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
    if (tl_seccomp_allows(SYS_membarrier, TL_MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0)) {
        long r = tl_sys3(SYS_membarrier, TL_MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0);
        if (r >= 0) {
            __atomic_or_fetch(&program_regs, (int)r & ours, __ATOMIC_RELAXED);
            return;
        }
    }
    if (tl_seccomp_allows(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) &&
        tl_sys3(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
        __atomic_or_fetch(&program_regs, TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, __ATOMIC_RELAXED);
    if (tl_seccomp_allows(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) &&
        tl_sys3(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0)
        __atomic_or_fetch(&program_regs, TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, __ATOMIC_RELAXED);
}

static void membarrier_register(void)
{
    if (!tl_seccomp_allows(SYS_membarrier, TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0)) return;
    if (membarrier_ok < 0) membarrier_learn();
    membarrier_ok = tl_sys3(SYS_membarrier, TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == 0;
}

/* Called by the process model before a clone that creates a thread (CLONE_VM, not
 * CLONE_VFORK). While this is the only user of the address space, registering costs
 * nothing; once a second thread exists it costs an RCU grace period. Not in a vfork
 * child (its parent is a second user), not when nothing will ever be rewritten. */
void tl_rewrite_before_thread(void)
{
    if (__atomic_load_n(&membarrier_ok, __ATOMIC_RELAXED) >= 0) return;
    if (!tl_zero_mapped || tl_cfg.mode != TL_MODE_LAZY || tl_cfg.policy == TL_POLICY_NONE) return;
    if (!tl_threads_alone() || tl_self()->vfork_child) return;
    membarrier_register();
}

static void serialise_cores(void)
{
    if (tl_threads_alone()) return; /* no other instruction stream to serialise */
    if (!tl_seccomp_allows(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0))
        return; /* forbidden by the program's seccomp */
    if (membarrier_ok < 0) membarrier_register();
    if (membarrier_ok && tl_sys3(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) == -EPERM) {
        membarrier_register(); /* not registered after all (a kernel that drops it on fork) */
        if (membarrier_ok) tl_sys3(SYS_membarrier, TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
    }
}

/* The registration commands and what each shows in MEMBARRIER_CMD_GET_REGISTRATIONS:
 * registering SYNC_CORE or RSEQ also sets the plain PRIVATE_EXPEDITED state bit. */
static int shown_registrations(int regs)
{
    int m = regs;
    if (regs & (TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ))
        m |= TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    return m;
}

/* The program's membarrier(cmd, flags, cpu_id) (both call tables: the dispatch and int
 * $0x80), answered as without our registration: 1 with the result in *ret, 0 to perform
 * it as it is. Its own registrations are performed and recorded; while ours is in place,
 * MEMBARRIER_CMD_GET_REGISTRATIONS leaves out the bits only ours set, and
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE fails with EPERM unless the program
 * registered for it. A command with flags goes to the kernel (EINVAL; RSEQ's flag is
 * not ours to judge). */
int tl_membarrier_virt(long cmd, long flags, long cpu_id, long *ret)
{
    int c = (int)cmd;
    if ((unsigned)flags != 0) return 0;
    switch (c) {
    case TL_MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
    case TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
    case TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
        *ret = tl_sys3(SYS_membarrier, c, 0, cpu_id);
        if (*ret == 0) __atomic_or_fetch(&program_regs, c, __ATOMIC_RELAXED);
        return 1;
    case TL_MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
        if (__atomic_load_n(&membarrier_ok, __ATOMIC_RELAXED) != 1 ||
            (__atomic_load_n(&program_regs, __ATOMIC_RELAXED) & TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE))
            return 0;
        /* the program's seccomp filter would answer it (an errno, a trap, a kill) before
         * the kernel's EPERM: it goes to the kernel, which applies the filter */
        if (!tl_seccomp_allows(SYS_membarrier, c, 0, cpu_id)) return 0;
        *ret = -EPERM;
        return 1;
    case TL_MEMBARRIER_CMD_GET_REGISTRATIONS:
        if (__atomic_load_n(&membarrier_ok, __ATOMIC_RELAXED) != 1) return 0;
        *ret = tl_sys3(SYS_membarrier, c, 0, cpu_id);
        if (*ret >= 0) {
            const int ours = TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | TL_MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
            *ret = (*ret & ~ours) | (shown_registrations(__atomic_load_n(&program_regs, __ATOMIC_RELAXED)) & ours);
        }
        return 1;
    }
    return 0;
}

/* protection of the page holding addr (from where when it covers it); -1 if unmapped,
 * -2 if shared (MAP_SHARED file or memory: a store there is seen by the file and by every
 * other view of it, so it is never written) */
static int prot_at(uint64_t addr, const struct tl_mapping *where)
{
    struct tl_mapping m;
    if (where && addr >= where->start && addr < where->end) return where->shared ? -2 : where->prot;
    if (tl_vm_find(addr, &m) != 0) return -1;
    return m.shared ? -2 : m.prot;
}

/* Signals are blocked while the lock is held: a handler that interrupted the holder and
 * left by siglongjmp would otherwise leave the lock held for ever (and one that makes a
 * call that traps would wait for it on its own thread). Faults and SIGSYS stay open. */
static uint64_t lock_saved_mask;
void tl_rewrite_lock(void)
{
    uint64_t all = ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGILL - 1)) | (1ull << (SIGFPE - 1)) |
                     (1ull << (SIGSYS - 1))),
             old = 0;
    tl_sys4(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, 8);
    tl_spin_lock(&lock);
    lock_saved_mask = old;
}
void tl_rewrite_unlock(void)
{
    uint64_t old = lock_saved_mask;
    tl_spin_unlock(&lock);
    tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
}
void tl_rewrite_serialise(void) { serialise_cores(); }

/* Changes the two bytes at site from expect to repl. The page (two pages when the site
 * straddles one) gets write permission for the store only, keeping execute (other
 * threads may run there), then exactly its former protection. The store is one locked
 * cmpxchg, unless the two bytes straddle a 64-byte line: then the caller has made sure no
 * other thread runs (tl_threads_alone). Lock held. Returns the bytes found there
 * (== expect when changed), or 0 when the pages could not be made writable. */
/* A batch (plan sites, in address order): the page being written stays writable from
 * one site to the next on it, so a page costs one mprotect pair, not one per site.
 * Only the thread holding the rewrite lock for the whole batch uses these. */
static int batching;
static uint64_t held_page = 1; /* 1: none */
static int held_prot;

/* Gives page its protection prot back after a store. Should that fail, the page stays
 * writable: never silently (one line, TL_FLAG_PROT_KEPT), and our map of the address space
 * is re-read from the kernel, which then says what the page really is. */
static void restore_prot(uint64_t page, int prot)
{
    if (tl_sys3(SYS_mprotect, page, 4096, prot) == 0) return;
    char at[24];
    tl_limit(TL_FLAG_PROT_KEPT, "warning: after a rewrite the page at", tl_fmt_hex(at, page),
             "could not be given back its protection (mprotect failed): it stays writable");
    tl_vm_invalidate();
}

static void release_held(void)
{
    if (held_page != 1) {
        restore_prot(held_page, held_prot);
        tl_vm_hold_end();
    }
    held_page = 1;
}

static uint16_t store(uint64_t site, uint16_t expect, uint16_t repl)
{
    volatile uint16_t *p = (volatile uint16_t *)site;
    uint16_t old = expect;
    if ((site & 63) == 63) {
        old = *p;
        if (old == expect) *p = repl;
    } else {
        __asm__ volatile("lock cmpxchgw %2, %1" : "+a"(old), "+m"(*p) : "r"(repl) : "memory", "cc");
    }
    return old;
}

static uint16_t patch(uint64_t site, uint16_t expect, uint16_t repl, const struct tl_mapping *where)
{
    uint64_t p1 = site & ~4095ull, p2 = (site + 1) & ~4095ull;
    int prot1 = prot_at(site, where), prot2 = p2 == p1 ? prot1 : prot_at(site + 1, where);
    if (prot1 < 0 || prot2 < 0) return 0; /* unmapped, or shared: nothing is written */
    if ((prot1 & PROT_WRITE) && (prot2 & PROT_WRITE)) {
        release_held();
        return store(site, expect, repl); /* already writable (a rwx JIT page): no mprotect */
    }
    if (batching && p1 == p2) {
        if (held_page != p1) {
            release_held();
            tl_vm_hold_begin(p1, prot1, 1, 0);
            if (tl_sys3(SYS_mprotect, p1, 4096, prot1 | PROT_READ | PROT_WRITE) != 0) {
                tl_vm_hold_end();
                return 0;
            }
            held_page = p1;
            held_prot = prot1;
        }
        return store(site, expect, repl);
    }
    release_held();
    tl_vm_hold_begin(p1, prot1, p2 != p1 ? p2 : 1, prot2);
    if (tl_sys3(SYS_mprotect, p1, 4096, prot1 | PROT_READ | PROT_WRITE) != 0) {
        tl_vm_hold_end();
        return 0;
    }
    if (p2 != p1 && tl_sys3(SYS_mprotect, p2, 4096, prot2 | PROT_READ | PROT_WRITE) != 0) {
        restore_prot(p1, prot1);
        tl_vm_hold_end();
        return 0;
    }
    uint16_t old = store(site, expect, repl);
    restore_prot(p1, prot1);
    if (p2 != p1) restore_prot(p2, prot2);
    tl_vm_hold_end();
    return old;
}

/* Puts `0f 05` back at a site we rewrote (the page keeps its protection). Lock held.
 * If its page cannot be made writable, the program will see `ff d0` there: said once
 * (TL_FLAG_PROT_KEPT), never silently. */
void tl_unrewrite_site(uint64_t site)
{
    if (patch(site, 0xd0ff, 0x050f, 0) != 0 || prot_at(site, 0) < 0) return; /* restored, or gone */
    char at[24];
    tl_limit(TL_FLAG_PROT_KEPT, "warning: the rewritten site at", tl_fmt_hex(at, site),
             "could not get its bytes `0f 05` back before its page turned writable (mprotect failed)");
}

/* Sites the red-zone rule kept on the trap path, remembered so that their later traps
 * cost no /proc/self/maps read and no analysis. Open addressing; once half full, further
 * verdicts are simply recomputed. Never forgotten: if the code at such a site changes
 * (JIT), the site keeps trapping, which is safe. */
#define RZ_BITS 12
static uint64_t rz_sites[1u << RZ_BITS] TL_COLD;
static uint32_t rz_count;

static int redzone_known(uint64_t site)
{
    /* none remembered yet (the usual case): no page of the table is read, each first
     * read being a fault (7 for the 12 sites of ls /usr/bin) */
    if (!__atomic_load_n(&rz_count, __ATOMIC_RELAXED)) return 0;
    uint64_t mask = (1u << RZ_BITS) - 1;
    for (uint64_t i = (site * (uint64_t)TL_SITE_MUL) >> (64 - RZ_BITS);; i = (i + 1) & mask) {
        uint64_t v = __atomic_load_n(&rz_sites[i], __ATOMIC_RELAXED);
        if (v == site) return 1;
        if (!v) return 0;
    }
}

static void redzone_remember(uint64_t site)
{
    uint64_t mask = (1u << RZ_BITS) - 1;
    if (__atomic_add_fetch(&rz_count, 1, __ATOMIC_RELAXED) >= (1u << (RZ_BITS - 1))) return;
    for (uint64_t i = (site * (uint64_t)TL_SITE_MUL) >> (64 - RZ_BITS);; i = (i + 1) & mask) {
        uint64_t z = 0;
        if (__atomic_compare_exchange_n(&rz_sites[i], &z, site, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED) || z == site) return;
    }
}

/* Reads n bytes at addr: process_vm_readv, or, for a page without read permission
 * (execute-only code), /proc/self/mem, which the kernel reads with FOLL_FORCE. */
static int read_code(uint64_t addr, void *out, size_t n)
{
    if (tl_safe_read(addr, out, n)) return 1;
    if (UNLIKELY(tl_seccomp_mode) &&
        !(tl_seccomp_allows(SYS_openat, AT_FDCWD, 0, O_RDONLY | O_CLOEXEC) && tl_seccomp_allows(SYS_pread64, 0, 0, 0) &&
          tl_seccomp_allows(SYS_close, 0, 0, 0)))
        return 0; /* unreadable: the site counts as using the red zone (stays trapping) */
    long fd = tl_sys4(SYS_openat, AT_FDCWD, "/proc/self/mem", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;
    long r = tl_sys4(SYS_pread64, fd, out, n, addr);
    tl_sys1(SYS_close, fd);
    return r == (long)n;
}

/* The red-zone rule (lazy/redzone.c) for the syscall at site in mapping where: the
 * window [site - TL_RZ_BEFORE, site + TL_RZ_AFTER) clipped to the mapping, read safely.
 * TL_RZ_NONE if the site may be rewritten; unreadable code counts as a use. A site
 * whose bytes are not 0f 05 (or ff d0: another thread rewrote it) is not judged here. */
static int redzone_verdict(uint64_t site, const struct tl_mapping *where, int trapped, uint16_t *bytes)
{
    uint8_t buf[TL_RZ_BEFORE + TL_RZ_AFTER];
    uint64_t lo = site - where->start > TL_RZ_BEFORE ? site - TL_RZ_BEFORE : where->start;
    uint64_t hi = where->end - site > TL_RZ_AFTER ? site + TL_RZ_AFTER : where->end;
    if (site < where->start || site + 2 > where->end) return TL_RZ_NONE;
    /* A site that just trapped was fetched from its page, so that page is present: when
     * the window lies in it, the page is readable and no other thread can unmap it, it is
     * read directly (no system call). Anything else goes through read_code, which
     * cannot fault. */
    uint64_t page = site & ~4095ull;
    if (trapped && (where->prot & PROT_READ) && (lo & ~4095ull) == page && ((hi - 1) & ~4095ull) == page &&
        !__atomic_load_n(&tl_vm_suspect, __ATOMIC_RELAXED) && tl_threads_alone())
        memcpy(buf, (const void *)lo, hi - lo);
    else if (!read_code(lo, buf, hi - lo))
        return TL_RZ_UNREADABLE;
    uint8_t *p = buf + (site - lo);
    *bytes = (uint16_t)(p[0] | p[1] << 8);
    if (p[0] == 0xff && p[1] == 0xd0) {
        p[0] = 0x0f;
        p[1] = 0x05;
    }
    if (p[0] != 0x0f || p[1] != 0x05) return TL_RZ_NONE;
    struct tl_rz_result r;
    return tl_redzone_check(buf, hi - lo, site - lo, &r);
}

/* Why site cannot be rewritten, known without reading anything; TL_REASON_NONE if a
 * rewrite may be attempted. */
static int precheck(uint64_t site, int batch)
{
    if (!tl_zero_mapped || tl_cfg.mode != TL_MODE_LAZY) return TL_REASON_SUD_ONLY;
    if (site >= tl_vdso_lo && site < tl_vdso_hi) return TL_REASON_VDSO; /* not writable */
    if ((site & 63) == 63 && !tl_threads_alone()) return TL_REASON_STRADDLE; /* no atomic store */
    if (site >= tl_text_lo && site < tl_text_hi) return TL_REASON_NOT_SYSCALL;
    if (!batch && tl_self()->in_rewrite) return TL_REASON_NESTED; /* a signal handler interrupted a rewrite */
    if (!tl_seccomp_allows_rewrite()) return TL_REASON_SECCOMP; /* the program's filter forbids our calls */
    if (redzone_known(site)) return TL_REASON_REDZONE;
    return TL_REASON_NONE;
}

int tl_rewrite_precheck(uint64_t site) { return precheck(site, 0); }

/* Rewrites site; planned: it comes from a plan rather than a trap, so its bytes are
 * checked before it enters the site set (a site that is not `0f 05` is never entered).
 * where: the mapping holding site. TL_REASON_NONE: rewritten (or already rewritten by
 * another thread); otherwise the reason it stays on the trap path. */
static int rewrite(uint64_t site, uint64_t *hits, const struct tl_mapping *where, int planned)
{
    struct tl_tcb *t = tl_self();
    /* a plan site inside this thread's batch (the lock is held): see tl_rewrite_batch_begin */
    int batch = planned && t->in_rewrite == 2;
    int pre = precheck(site, batch);
    if (pre != TL_REASON_NONE) return pre;
    /* a shared mapping (either byte's page): the file or the other views would see it */
    int shared = where && where->shared;
    if (!shared && ((site + 1) & 4095) == 0) shared = prot_at(site + 1, where) == -2;
    if (shared) return TL_REASON_SHARED;
    /* the red-zone rule: code that may keep data below %rsp across the call stays on the
     * trap path (callq *%rax would write its return address there). seen: the site's
     * bytes as the window read them (0: not read) */
    uint16_t seen = 0;
    if (where && (where->prot & PROT_EXEC) && redzone_verdict(site, where, !planned, &seen) != TL_RZ_NONE) {
        redzone_remember(site);
        return TL_REASON_REDZONE;
    }
    if (!batch) {
        t->in_rewrite = 1;
        tl_rewrite_lock();
    }
    int done = 0, reason = planned ? TL_REASON_PLAN_MISMATCH : TL_REASON_NOT_SYSCALL;
    uint16_t now = 0;
    int exec = where && (where->prot & PROT_EXEC);
    int counted = 0;
    /* in a batch the lock was already held when the window was read: its bytes are current */
    if (batch && seen)
        now = seen;
    else if (exec && planned && !tl_safe_read(site, &now, 2))
        now = 0;
    if (exec && planned && now != 0x050f) {
        /* not a syscall instruction: skipped; unless another thread (a concurrent dlopen
         * of the same file) rewrote it first */
        done = counted = now == 0xd0ff && tl_site_known(site + 2);
    } else if (exec && (!tl_jit_reserve() || !tl_site_insert(site + 2, hits))) {
        /* the set of rewritten sites is full (or its list of them, which code changes
         * need, could not take one more): the site stays on the trap path */
        reason = TL_REASON_FULL;
        tl_limit(TL_FLAG_REWRITE_FULL, "warning: the set of rewritten sites is full;",
                 "further sites stay on the trap path (complete, slower)", 0);
    } else if (exec) {
        uint16_t old = patch(site, 0x050f, 0xd0ff, where);
        done = old == 0x050f || (!planned && old == 0xd0ff);
        if (old == 0x050f) tl_jit_note_site(site);
        if (!done && planned) tl_site_remove(site + 2);
        if (done && !planned) serialise_cores();
    }
    if (!batch) {
        tl_rewrite_unlock();
        t->in_rewrite = 0;
    }
    if (done && !counted && tl_stats) __atomic_add_fetch(&tl_stats->sites_rewritten, 1, __ATOMIC_RELAXED);
    return done ? TL_REASON_NONE : reason;
}

int tl_rewrite_site(uint64_t site, uint64_t *hits, const struct tl_mapping *where) { return rewrite(site, hits, where, 0); }

/* A batch of plan sites (tl_rewrite_planned between the two calls, in address order):
 * the rewrite lock is held throughout. 0 if one cannot start here (a signal handler
 * interrupted a rewrite on this thread): the caller leaves the sites to be learned. */
int tl_rewrite_batch_begin(void)
{
    struct tl_tcb *t = tl_self();
    if (t->in_rewrite) return 0;
    t->in_rewrite = 2;
    tl_rewrite_lock();
    batching = 1;
    return 1;
}

void tl_rewrite_batch_end(void)
{
    release_held();
    batching = 0;
    tl_rewrite_unlock();
    tl_self()->in_rewrite = 0;
}

/* A plan's site; the caller serialises the cores once after a batch. */
int tl_rewrite_planned(uint64_t site, uint64_t *hits, const struct tl_mapping *where) { return rewrite(site, hits, where, 1); }
