/* Prints the statistics segment's layout (core/stats_layout.h) as JSON: every field
 * offset the TypeScript reader uses, the record sizes, the capacities and the enum values.
 * ts/scripts/gen-layout.mjs writes ts/src/layout.ts from it; test/layout.test.ts fails if
 * the two ever differ (the C header is the one source of truth). */
#include <stddef.h>
#include <stdio.h>
#include "core/stats_layout.h"
#include "../../core/stats_check.c"     /* tl_stats_geom(): where the tables lie */
#include "lazy/plan_parse.h"

#define F(s, f) printf("%s\"%s\": %zu", first++ ? ", " : "", #f, offsetof(struct s, f))
#define V(name, v) printf("%s\"%s\": %llu", first++ ? ", " : "", name, (unsigned long long)(v))

int main(void)
{
    int first;
    printf("{\n  \"header\": {");
    first = 0;
    F(tl_stats_header, magic); F(tl_stats_header, version); F(tl_stats_header, header_size);
    F(tl_stats_header, total_size); F(tl_stats_header, mode); F(tl_stats_header, flags);
    F(tl_stats_header, start_ns); F(tl_stats_header, nr_max); F(tl_stats_header, thread_slots);
    F(tl_stats_header, nr_off); F(tl_stats_header, thread_off); F(tl_stats_header, other_trap);
    F(tl_stats_header, other_fast); F(tl_stats_header, sites_rewritten); F(tl_stats_header, run_cookie);
    F(tl_stats_header, processes); F(tl_stats_header, sites_stale); F(tl_stats_header, proc_off);
    F(tl_stats_header, proc_cap); F(tl_stats_header, proc_count); F(tl_stats_header, module_off);
    F(tl_stats_header, module_cap); F(tl_stats_header, module_count); F(tl_stats_header, site_off);
    F(tl_stats_header, site_cap); F(tl_stats_header, site_count); F(tl_stats_header, plan_rewritten);
    F(tl_stats_header, plan_skipped); F(tl_stats_header, policy_refused); F(tl_stats_header, policy); F(tl_stats_header, caller_fallback);
    F(tl_stats_header, i386_off); F(tl_stats_header, other_i386);
    printf("},\n  \"proc\": {");
    first = 0;
    F(tl_proc_rec, pid); F(tl_proc_rec, ppid); F(tl_proc_rec, status); F(tl_proc_rec, mode);
    F(tl_proc_rec, start_ns); F(tl_proc_rec, exe);
    printf("},\n  \"module\": {");
    first = 0;
    F(tl_module_rec, pid); F(tl_module_rec, origin); F(tl_module_rec, base); F(tl_module_rec, build_id);
    F(tl_module_rec, build_id_len); F(tl_module_rec, path);
    printf("},\n  \"site\": {");
    first = 0;
    F(tl_site_rec, addr); F(tl_site_rec, pid); F(tl_site_rec, module); F(tl_site_rec, offset);
    F(tl_site_rec, trap_hits); F(tl_site_rec, fast_hits); F(tl_site_rec, nr_first); F(tl_site_rec, source);
    F(tl_site_rec, nrs_other); F(tl_site_rec, state); F(tl_site_rec, reason); F(tl_site_rec, nrs);
    printf("},\n  \"nr\": {");
    first = 0;
    F(tl_nr_counters, trap); F(tl_nr_counters, fast); F(tl_nr_counters, errors);
    printf("},\n  \"thread\": {");
    first = 0;
    F(tl_thread_block, owner); F(tl_thread_block, fast); F(tl_thread_block, errors);
    printf("},\n  \"size\": {");
    first = 0;
    V("header", sizeof(struct tl_stats_header)); V("proc", sizeof(struct tl_proc_rec));
    V("module", sizeof(struct tl_module_rec)); V("site", sizeof(struct tl_site_rec));
    V("nr", sizeof(struct tl_nr_counters)); V("thread", sizeof(struct tl_thread_block));
    V("exe", sizeof(((struct tl_proc_rec *)0)->exe)); V("path", sizeof(((struct tl_module_rec *)0)->path));
    V("build_id", sizeof(((struct tl_module_rec *)0)->build_id));
    printf("},\n  \"geometry\": {");
    first = 0;
    struct tl_stats_geom g = tl_stats_geom();
    V("nr", g.nr); V("i386", g.i386); V("thread", g.th); V("proc", g.proc); V("module", g.mod);
    V("site", g.site); V("size", g.size);
    printf("},\n  \"const\": {");
    first = 0;
    V("version", TL_STATS_VERSION); V("nr_max", TL_NR_MAX); V("thread_slots", TL_THREAD_SLOTS);
    V("proc_cap", TL_PROC_CAP); V("module_cap", TL_MODULE_CAP); V("site_cap", TL_SITE_CAP);
    V("module_none", TL_MODULE_NONE); V("status_signaled", TL_STATUS_SIGNALED);
    printf("},\n  \"flag\": {");
    first = 0;
    V("zero_mapped", TL_FLAG_ZERO_MAPPED); V("xonly", TL_FLAG_XONLY); V("hook", TL_FLAG_HOOK);
    V("plan", TL_FLAG_PLAN); V("proc_full", TL_FLAG_PROC_FULL); V("module_full", TL_FLAG_MODULE_FULL);
    V("site_full", TL_FLAG_SITE_FULL); V("plan_unrecorded", TL_FLAG_PLAN_UNRECORDED);
    V("null_reads", TL_FLAG_NULL_READS); V("prot_kept", TL_FLAG_PROT_KEPT); V("rewrite_full", TL_FLAG_REWRITE_FULL);
    V("thread_full", TL_FLAG_THREAD_FULL); V("plan_full", TL_FLAG_PLAN_FULL); V("seccomp_full", TL_FLAG_SECCOMP_FULL);
    V("preloaded", TL_FLAG_PRELOADED);
    V("entered", TL_FLAG_ENTERED);
    V("hook_skipped", TL_FLAG_HOOK_SKIPPED);
    V("cap_sud", TL_FLAG_CAP_SUD);
    printf("},\n  \"reason\": {");
    first = 0;
    V("none", TL_REASON_NONE); V("vdso", TL_REASON_VDSO); V("straddle", TL_REASON_STRADDLE);
    V("sud-only", TL_REASON_SUD_ONLY); V("not-syscall", TL_REASON_NOT_SYSCALL); V("full", TL_REASON_FULL);
    V("stale", TL_REASON_STALE); V("nested", TL_REASON_NESTED); V("policy", TL_REASON_POLICY);
    V("plan-mismatch", TL_REASON_PLAN_MISMATCH); V("int80", TL_REASON_INT80); V("redzone", TL_REASON_REDZONE);
    V("shared", TL_REASON_SHARED); V("seccomp", TL_REASON_SECCOMP);
    printf("},\n  \"state\": {");
    first = 0;
    V("rewritten", TL_SITE_REWRITTEN); V("trapping", TL_SITE_TRAPPING); V("stale", TL_SITE_STALE);
    V("skipped", TL_SITE_SKIPPED);
    printf("},\n  \"source\": {");
    first = 0;
    V("learned", TL_SOURCE_TRAP); V("plan-confirmed", TL_SOURCE_PLAN_CONFIRMED);
    V("plan-learned", TL_SOURCE_PLAN_LEARNED); V("plan-unverified", TL_SOURCE_PLAN_UNVERIFIED);
    printf("},\n  \"origin\": {");
    first = 0;
    V("main", TL_ORIGIN_MAIN); V("startup", TL_ORIGIN_STARTUP); V("dlopen", TL_ORIGIN_DLOPEN);
    V("anonymous", TL_ORIGIN_ANON); V("vdso", TL_ORIGIN_VDSO);
    printf("},\n  \"mode\": {");
    first = 0;
    V("lazy", TL_MODE_LAZY); V("sud-only", TL_MODE_SUD_ONLY);
    printf("},\n  \"plan\": {");
    first = 0;
    V("max_modules", TL_PLAN_MAX_MODULES); V("max_sites", TL_PLAN_MAX_SITES); V("max_line", TL_PLAN_MAX_LINE);
    V("max_offset_digits", TL_PLAN_MAX_OFFSET_DIGITS); V("max_file", TL_PLAN_MAX_FILE);
    printf("},\n  \"policy\": {");
    first = 0;
    V("all", TL_POLICY_ALL); V("verified", TL_POLICY_VERIFIED); V("none", TL_POLICY_NONE);
    printf("}\n}\n");
    return 0;
}
