/* Configuration from the environment (set by `trapline run` or by hand).
 *   TRAPLINE_MODE   lazy (default) | sud-only
 *   TRAPLINE_HOOK   path of a hook library (trapline.h or zpoline ABI)
 *   TRAPLINE_STATS  path of the statistics segment to create (or join, with the cookie)
 *   TRAPLINE_STATS_COOKIE  set by the process that created the segment (or by
 *                   `trapline run --stats-append`): its run cookie, 16 hex digits at most
 *   TRAPLINE_QUIET  1: no warnings (errors are still printed)
 *   TRAPLINE_FOLLOW_EXEC  0: do not re-inject the interposer into exec'd programs
 *   TRAPLINE_PLAN   a rewrite plan file, or a plan cache directory (lazy/plan.c)
 *   TRAPLINE_REWRITE  all (default) | verified | none: which sites may be rewritten
 *   TRAPLINE_PLAN_CACHE  read by the CLI only (where `--plan auto` keeps plans); allowed here
 *   TRAPLINE_ALLOW_NULL_READS  1: use the rewriting mode even where page 0 cannot be made
 *                   execute-only (no protection keys), giving up faults on NULL data reads
 *   TRAPLINE_VDSO   on (default) | off: hide the vDSO from programs started at their first
 *                   instruction, so that its calls become real, interposed system calls
 *   TRAPLINE_ENTRY  first (default) | preload: read by the launcher (launch/trapline-exec.c)
 *   TRAPLINE_HOOK_SKIPPED  1: set by trapline for a statically linked program of a run
 *                   with a hook (no loader can load the hook into it): recorded in the
 *                   statistics (TL_FLAG_HOOK_SKIPPED)
 *   TRAPLINE_POLICY a policy file: trace, inject and deny rules, the trace segment
 *                   (core/policy.c, docs/policies.md)
 *   TRAPLINE_CAPS   set by the launcher only when it has a file capability (trapline setup):
 *                   drop (this process holds CAP_SYS_RAWIO: map page 0, then drop every
 *                   capability, sud/init.c) | dropped (for exec'd programs: a page 0 that
 *                   needed it is not theirs; said once per run)
 *   TRAPLINE_SIGIGN PID:sys | PID:segv | PID:sys,segv: set by trapline for an exec'd program
 *                   only (PID is its pid: one left in an environment by an earlier program
 *                   is ignored; never handed on: core/env.c): the signals of the two the kernel holds our
 *                   handler for (SIGSYS, SIGSEGV) that the program which exec'd it had set
 *                   to SIG_IGN, which natively survives the exec (sud/signals.c)
 * Any other TRAPLINE_* variable is reported as unknown (a typo must not pass silently). */
#include "core/core.h"

struct tl_config tl_cfg;

static const char *known[] = {"TRAPLINE_MODE",
                              "TRAPLINE_HOOK",
                              "TRAPLINE_STATS",
                              "TRAPLINE_QUIET",
                              "TRAPLINE_FOLLOW_EXEC",
                              "TRAPLINE_PLAN",
                              "TRAPLINE_REWRITE",
                              "TRAPLINE_PLAN_CACHE",
                              "TRAPLINE_STATS_COOKIE",
                              "TRAPLINE_ALLOW_NULL_READS",
                              "TRAPLINE_VDSO",
                              "TRAPLINE_HOOK_SKIPPED",
                              "TRAPLINE_ENTRY",
                              "TRAPLINE_POLICY",
                              "TRAPLINE_CAPS",
                              "TRAPLINE_SIGIGN",
                              0};

int tl_config_load(void)
{
    tl_cfg.mode = TL_MODE_LAZY;
    const char *m = tl_getenv("TRAPLINE_MODE");
    if (m && *m) {
        if (tl_streq(m, "lazy"))
            tl_cfg.mode = TL_MODE_LAZY;
        else if (tl_streq(m, "sud-only"))
            tl_cfg.mode = TL_MODE_SUD_ONLY;
        else {
            tl_error("TRAPLINE_MODE:", m, "is not a mode (expected lazy or sud-only)");
            return -1;
        }
        tl_cfg.mode_forced = 1;
        tl_cfg.mode_asked = tl_cfg.mode;
    }
    const char *h = tl_getenv("TRAPLINE_HOOK");
    tl_cfg.hook = (h && *h) ? h : NULL;
    const char *s = tl_getenv("TRAPLINE_STATS");
    tl_cfg.stats = (s && *s) ? s : NULL;
    const char *ck = tl_getenv("TRAPLINE_STATS_COOKIE");
    tl_cfg.stats_cookie = 0;
    if (ck && *ck) {
        size_t n = 0;
        for (; ck[n]; n++) {
            char c = ck[n];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0 || n >= 16) {
                n = 0;
                break;
            }
            tl_cfg.stats_cookie = tl_cfg.stats_cookie << 4 | (uint64_t)d;
        }
        if (!n || !tl_cfg.stats_cookie) {
            tl_error("TRAPLINE_STATS_COOKIE:", ck, "is not a run cookie (1 to 16 lowercase hex digits, not 0)");
            return -1;
        }
    }
    const char *q = tl_getenv("TRAPLINE_QUIET");
    if (q && *q) {
        if (tl_streq(q, "1"))
            tl_cfg.quiet = 1;
        else if (!tl_streq(q, "0")) {
            tl_error("TRAPLINE_QUIET:", q, "is not 0 or 1");
            return -1;
        }
    }
    const char *nr = tl_getenv("TRAPLINE_ALLOW_NULL_READS");
    if (nr && *nr) {
        if (tl_streq(nr, "1"))
            tl_cfg.allow_null_reads = 1;
        else if (!tl_streq(nr, "0")) {
            tl_error("TRAPLINE_ALLOW_NULL_READS:", nr, "is not 0 or 1");
            return -1;
        }
    }
    const char *pl = tl_getenv("TRAPLINE_PLAN");
    tl_cfg.plan = (pl && *pl) ? pl : NULL;
    const char *rw = tl_getenv("TRAPLINE_REWRITE");
    tl_cfg.policy = TL_POLICY_ALL;
    if (rw && *rw) {
        if (tl_streq(rw, "all"))
            tl_cfg.policy = TL_POLICY_ALL;
        else if (tl_streq(rw, "verified"))
            tl_cfg.policy = TL_POLICY_VERIFIED;
        else if (tl_streq(rw, "none"))
            tl_cfg.policy = TL_POLICY_NONE;
        else {
            tl_error("TRAPLINE_REWRITE:", rw, "is not a rewrite policy (expected all, verified or none)");
            return -1;
        }
    }
    const char *vd = tl_getenv("TRAPLINE_VDSO");
    if (vd && *vd) {
        if (tl_streq(vd, "off"))
            tl_cfg.vdso_off = 1;
        else if (!tl_streq(vd, "on")) {
            tl_error("TRAPLINE_VDSO:", vd, "is not on or off");
            return -1;
        }
    }
    const char *en = tl_getenv("TRAPLINE_ENTRY");
    if (en && *en) {
        if (tl_streq(en, "preload"))
            tl_cfg.entry_preload = 1;
        else if (!tl_streq(en, "first")) {
            tl_error("TRAPLINE_ENTRY:", en, "is not first or preload");
            return -1;
        }
    }
    const char *po = tl_getenv("TRAPLINE_POLICY");
    tl_cfg.policy_file = (po && *po) ? po : NULL;
    const char *hs = tl_getenv("TRAPLINE_HOOK_SKIPPED");
    tl_cfg.hook_skipped = hs && tl_streq(hs, "1");
    const char *ca = tl_getenv("TRAPLINE_CAPS");
    if (ca && *ca) {
        if (tl_streq(ca, "drop"))
            tl_cfg.caps = TL_CAPS_DROP;
        else if (tl_streq(ca, "dropped"))
            tl_cfg.caps = TL_CAPS_DROPPED;
        else {
            tl_error("TRAPLINE_CAPS:", ca, "is not drop or dropped");
            return -1;
        }
    }
    const char *si = tl_getenv("TRAPLINE_SIGIGN");
    if (si && *si) {
        /* <pid>:<signals>: taken only by the process it was made for (the exec keeps the
         * pid); one left in the environment by an earlier program is not this one's */
        uint64_t pid = 0;
        const char *p = si;
        for (; *p >= '0' && *p <= '9' && pid < (1u << 31); p++) pid = pid * 10 + (uint64_t)(*p - '0');
        int ign = -1;
        if (p != si && *p == ':') {
            p++;
            ign = tl_streq(p, "sys")      ? TL_IGN_SYS
                : tl_streq(p, "segv")     ? TL_IGN_SEGV
                : tl_streq(p, "sys,segv") ? TL_IGN_SYS | TL_IGN_SEGV
                                          : -1;
        }
        if (ign < 0) {
            tl_error("TRAPLINE_SIGIGN:", si, "is not PID:sys, PID:segv or PID:sys,segv");
            return -1;
        }
        if (pid == (uint64_t)tl_pid) tl_cfg.exec_sigign = ign;
    }
    const char *fe = tl_getenv("TRAPLINE_FOLLOW_EXEC");
    if (fe && !tl_streq(fe, "0") && !tl_streq(fe, "1")) {
        tl_error("TRAPLINE_FOLLOW_EXEC:", fe, "is not 0 or 1");
        return -1;
    }
    for (char **e = tl_env; e && *e; e++) {
        const char *v = *e;
        if (v[0] != 'T' ||
            !(v[1] == 'R' && v[2] == 'A' && v[3] == 'P' && v[4] == 'L' && v[5] == 'I' && v[6] == 'N' && v[7] == 'E' && v[8] == '_'))
            continue;
        int ok = 0;
        for (int i = 0; known[i]; i++) {
            size_t n = tl_strlen(known[i]);
            size_t j = 0;
            while (j < n && v[j] == known[i][j]) j++;
            if (j == n && v[j] == '=') {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            char name[64];
            size_t j = 0;
            while (v[j] && v[j] != '=' && j < sizeof name - 1) {
                name[j] = v[j];
                j++;
            }
            name[j] = 0;
            tl_error("unknown environment variable", name,
                     "(known: TRAPLINE_MODE, TRAPLINE_HOOK, TRAPLINE_STATS, TRAPLINE_QUIET, TRAPLINE_FOLLOW_EXEC, TRAPLINE_PLAN, "
                     "TRAPLINE_REWRITE, TRAPLINE_PLAN_CACHE, TRAPLINE_STATS_COOKIE, TRAPLINE_ALLOW_NULL_READS, TRAPLINE_VDSO, "
                     "TRAPLINE_HOOK_SKIPPED, TRAPLINE_ENTRY, TRAPLINE_POLICY, TRAPLINE_CAPS, TRAPLINE_SIGIGN)");
            return -1;
        }
    }
    return 0;
}
