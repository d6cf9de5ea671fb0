/* lazy/: rewriting (the middle layer, above core/). What it offers sud/ (and, through
 * tl_up, core/): learning a site that trapped (learn.c), rewriting `0f 05` to `ff d0`
 * when that is provably safe (rewrite.c, with the red-zone rule of redzone.c), plans of
 * sites to rewrite ahead of time (plan.c, parsed by plan_parse.c), and forgetting sites
 * whose code changes (jit.c). It includes core/ headers only. */
#ifndef TRAPLINE_LAZY_H
#define TRAPLINE_LAZY_H
#include "core/core.h"
#include "lazy/plan_parse.h"

/* ---- learning (lazy/learn.c): tl_up.learn */
HIDDEN void tl_learn(struct tl_frame *f, long nr);
HIDDEN void tl_learn_init(void); /* at start-up: where the dynamic loader's text is */

/* ---- rewriting (lazy/rewrite.c) */
HIDDEN int tl_rewrite_precheck(uint64_t site);
HIDDEN int tl_rewrite_site(uint64_t site, uint64_t *hits,
                           const struct tl_mapping *where); /* TL_REASON_NONE: rewritten; else why not */
HIDDEN void tl_rewrite_after_fork(void);
HIDDEN void tl_rewrite_before_thread(void); /* before a clone that creates a thread */
HIDDEN int tl_membarrier_virt(long cmd, long flags, long cpu_id, long *ret); /* 1: *ret is the program's result */
HIDDEN void tl_rewrite_lock(void);
HIDDEN void tl_rewrite_unlock(void);
HIDDEN void tl_rewrite_serialise(void);
HIDDEN void tl_unrewrite_site(uint64_t site);
HIDDEN int tl_rewrite_planned(uint64_t site, uint64_t *hits, const struct tl_mapping *where);
HIDDEN int tl_rewrite_batch_begin(void); /* 1: batch started (end it with tl_rewrite_batch_end) */
HIDDEN void tl_rewrite_batch_end(void);

/* ---- plans (lazy/plan.c) */
#define TL_PLAN_NONE (-1) /* tl_plan_source: the site is in no plan */
HIDDEN extern int tl_plan_active;
HIDDEN int tl_plan_init(void);
HIDDEN void tl_plan_apply(uint64_t addr, uint64_t len); /* tl_up.code_mapped */
HIDDEN int tl_plan_source(uint64_t site, const struct tl_mapping *m); /* enum tl_plan_source or TL_PLAN_NONE */
HIDDEN int tl_policy_refused(uint64_t site);
HIDDEN void tl_policy_refuse(uint64_t site);

/* ---- code that changes under us (lazy/jit.c) */
HIDDEN int tl_jit_reserve(void); /* before a rewrite: 0 = the site must not be rewritten */
HIDDEN void tl_jit_note_site(uint64_t site);
HIDDEN void tl_jit_invalidate(uint64_t addr, uint64_t len, int restore); /* tl_up.code_changing */

#endif
