/* The trap path's learning: a call arrived by SIGSYS from a site not yet rewritten.
 * Records the site (coverage), asks the policy and the plan, and rewrites it when that is
 * safe (lazy/rewrite.c). Called by the dispatch (core/dispatch.c) through tl_up.learn,
 * before the call itself is counted, hooked and performed. */
#include "lazy/lazy.h"
#include <elf.h>

/* The dynamic loader's start-up, in a program entered at its first instruction: its
 * system calls (mapping the libraries, relocating, TLS) run a few times each, from a
 * dozen sites. Rewriting one (a map of the address space, an mprotect pair) costs several
 * times the traps it saves then, so without statistics (no record to keep) the loader's
 * sites are not rewritten until a call comes from outside its text (the program's own
 * start, or a library's constructor): from then on they are learned as any other, at
 * their next trap (dlopen). */
static uint64_t loader_lo, loader_hi; /* the loader's executable segment, while in its start-up */

void tl_learn_init(void)
{
    uint64_t base = tl_booted ? tl_auxv_get(7 /* AT_BASE */) : 0;
    if (!base) return; /* a static program, or the loader run as a program: no loader phase */
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base; /* mapped by the kernel with its headers */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            loader_lo = base + ph[i].p_vaddr;
            loader_hi = loader_lo + ph[i].p_memsz;
            return;
        }
}

void tl_learn(struct tl_frame *f, long nr)
{
    /* a new site: one look-up in our map of the address space (core/vmmap.c) serves
     * its record (module), the policy (its plan entry) and its rewrite (protection) */
    uint64_t site = f->ret - 2;
    if (UNLIKELY(tl_cov_loader_phase)) tl_cov_loader_call(site);
    struct tl_site_rec *s = tl_cov_site(site, 0, 0);
    /* a site in shared memory stays trapping until its mapping changes (it then
     * becomes stale and is learned again): no maps read per trap */
    int learn = !s || (s->state != TL_SITE_REWRITTEN && !(s->state == TL_SITE_TRAPPING && s->reason == TL_REASON_SHARED));
    /* exit_group ends the process: rewriting its site (a map of the address space, an
     * mprotect pair) could only pay off if a hook suppressed the call. Without
     * statistics (no record to keep) it is not learned; it would be on its next trap. */
    if (nr == SYS_exit_group && !tl_stats) learn = 0;
    if (UNLIKELY(loader_hi) && !tl_stats) {
        if (site >= loader_lo && site < loader_hi)
            learn = 0; /* the loader's start-up */
        else
            loader_hi = 0; /* it is over */
    }
    int pre = learn ? tl_rewrite_precheck(site) : TL_REASON_NONE;
    int refused = learn && pre == TL_REASON_NONE && tl_cfg.policy != TL_POLICY_ALL && tl_policy_refused(site);
    int try_rewrite = learn && pre == TL_REASON_NONE && !refused;
    struct tl_mapping m, *where = 0;
    if ((!s && tl_stats) || try_rewrite) where = tl_vm_find(site, &m) == 0 ? &m : 0;
    if (try_rewrite && tl_cfg.policy != TL_POLICY_ALL &&
        !(tl_cfg.policy == TL_POLICY_VERIFIED && tl_plan_source(site, where) == TL_PLAN_CONFIRMED)) {
        /* not a scanner-confirmed site: the policy keeps it on the trap path */
        try_rewrite = 0;
        refused = 1;
        tl_policy_refuse(site);
        if (tl_stats) __atomic_add_fetch(&tl_stats->policy_refused, 1, __ATOMIC_RELAXED);
    }
    if (!s) s = tl_cov_site(site, 1, where);
    if (s) __atomic_add_fetch(&s->trap_hits, 1, __ATOMIC_RELAXED);
    tl_cov_nr(s, (long)(int)f->rax);
    if (learn) {
        int why = try_rewrite ? tl_rewrite_site(site, tl_cov_fast_counter(s, nr), where) : refused ? TL_REASON_POLICY : pre;
        tl_cov_state(s, why == TL_REASON_NONE ? TL_SITE_REWRITTEN : TL_SITE_TRAPPING, why);
    }
}
