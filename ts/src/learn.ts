// Plans learned from a run: the sites SUD saw executed, by module build-id and file offset.
// The statistics segment they come from is writable by the program that ran, so no record
// is taken on trust: each site is checked against the module file (ts/src/verify.ts).
import { emptyPlan, isPlanBuildId, scanCacheDir, updatePlanCache, updatePlanFile, type Plan, type PlanSource } from './plan.js';
import type { SiteReason, StatsSnapshot } from './stats.js';
import { learnedSiteOk, verifyModuleFile, type VerifiedModule } from './verify.js';

/** Trapping reasons of sites that are real, executed syscall instructions. 'redzone' sites
 *  are real too, but never worth planning: the rule would refuse them again. */
const REAL: ReadonlySet<SiteReason> = new Set(['none', 'straddle', 'sud-only', 'full', 'nested', 'policy']);

const EXIT_GROUP = 231;

export interface LearnOptions {
  /** Check each site against its module file (default true). false: every site is 'learned-unverified'. */
  verify?: boolean;
  /** Where scan results are cached by build-id (default: scanCacheDir()). */
  scanCache?: string;
}

/**
 * The sites of a run that trapped at least once (learned by SUD, not from a plan), in
 * files with a GNU build-id: rewritten ones, and ones left trapping for a reason that
 * does not make them doubtful (not stale, vDSO or anonymous memory); not a site whose only
 * call was exit_group. A site is 'learned' only if the file now at its module's path has
 * that build-id, holds 0f 05 at the offset, and the scanner does not place the offset
 * inside another instruction or in red-zone code; otherwise it is 'learned-unverified'
 * (never rewritten ahead of time).
 */
export function planFromStats(s: StatsSnapshot, opts: LearnOptions = {}): Plan {
  const plan = emptyPlan();
  const verify = opts.verify !== false;
  const scanCache = opts.scanCache ?? scanCacheDir();
  const files = new Map<string, VerifiedModule | string>();
  for (const site of s.sites) {
    if (site.source !== 'learned' || site.trapHits === 0 || site.module === null) continue;
    if (site.state === 'stale' || site.state === 'skipped' || !REAL.has(site.reason)) continue;
    // a site whose only call was exit_group: the process ended there. Lazy mode does not
    // rewrite it either (without statistics), and planning it would cost a map of the
    // address space, build-ids and an mprotect pair to save that one trap
    if (site.nrs.length === 1 && site.nrs[0] === EXIT_GROUP && site.nrsOther === 0) continue;
    const mod = s.modules[site.module];
    if (!mod || !mod.path.startsWith('/') || (mod.origin !== 'main' && mod.origin !== 'startup' && mod.origin !== 'dlopen')) continue;
    if (!isPlanBuildId(mod.buildId)) continue;
    let off: number;
    try { off = Number(BigInt(site.offset)); } catch { continue; }
    if (!Number.isSafeInteger(off) || off < 0 || off >= 2 ** 52) continue;
    let source: PlanSource = 'learned-unverified';
    if (verify) {
      const key = `${mod.buildId}\0${mod.path}`;
      let f = files.get(key);
      if (f === undefined) {
        f = verifyModuleFile(mod.path, mod.buildId, scanCache);
        files.set(key, f);
      }
      if (typeof f !== 'string' && learnedSiteOk(f, off)) source = 'learned';
    }
    let m = plan.modules.get(mod.buildId);
    if (!m) {
      m = { buildId: mod.buildId, path: mod.path, sites: new Map() };
      plan.modules.set(mod.buildId, m);
    }
    if (m.sites.get(off) !== 'learned') m.sites.set(off, source);
  }
  return plan;
}

/**
 * Merges the sites a run learned into a plan file and/or the plan cache (atomic replace;
 * see plan.ts). Returns how many modules and sites were learned, and how many of those
 * sites failed verification (written as 'learned-unverified').
 */
export function recordLearned(s: StatsSnapshot, to: { file?: string; cacheDir?: string; scanCache?: string }): { modules: number; sites: number; unverified: number } {
  const plan = planFromStats(s, { scanCache: to.scanCache ?? (to.cacheDir !== undefined ? `${to.cacheDir}/scan` : undefined) });
  let sites = 0;
  let unverified = 0;
  for (const m of plan.modules.values()) {
    sites += m.sites.size;
    for (const src of m.sites.values()) if (src === 'learned-unverified') unverified++;
  }
  if (to.file !== undefined) updatePlanFile(to.file, plan);
  if (to.cacheDir !== undefined && plan.modules.size > 0) updatePlanCache(plan, to.cacheDir);
  return { modules: plan.modules.size, sites, unverified };
}
