// Plans learned from a run: the sites SUD saw executed, by module build-id and file offset.
import { emptyPlan, isPlanBuildId, updatePlanCache, updatePlanFile, type Plan } from './plan.js';
import type { SiteReason, StatsSnapshot } from './stats.js';

/** Trapping reasons of sites that are real, executed syscall instructions. 'redzone' sites
 *  are real too, but never worth planning: the rule would refuse them again. */
const REAL: ReadonlySet<SiteReason> = new Set(['none', 'straddle', 'sud-only', 'full', 'nested', 'policy']);

/**
 * The sites of a run that trapped at least once (learned by SUD, not from a plan), in
 * files with a GNU build-id: rewritten ones, and ones left trapping for a reason that
 * does not make them doubtful (not stale, vDSO or anonymous memory).
 */
export function planFromStats(s: StatsSnapshot): Plan {
  const plan = emptyPlan();
  for (const site of s.sites) {
    if (site.source !== 'learned' || site.trapHits === 0 || site.module === null) continue;
    if (site.state === 'stale' || site.state === 'skipped' || !REAL.has(site.reason)) continue;
    const mod = s.modules[site.module];
    if (!mod || !mod.path.startsWith('/') || (mod.origin !== 'main' && mod.origin !== 'startup' && mod.origin !== 'dlopen')) continue;
    if (!isPlanBuildId(mod.buildId)) continue;
    let m = plan.modules.get(mod.buildId);
    if (!m) {
      m = { buildId: mod.buildId, path: mod.path, sites: new Map() };
      plan.modules.set(mod.buildId, m);
    }
    const off = Number(BigInt(site.offset));
    if (!m.sites.has(off)) m.sites.set(off, 'learned');
  }
  return plan;
}

/**
 * Merges the sites a run learned into a plan file and/or the plan cache (atomic replace;
 * see plan.ts). Returns how many modules and sites were learned.
 */
export function recordLearned(s: StatsSnapshot, to: { file?: string; cacheDir?: string }): { modules: number; sites: number } {
  const plan = planFromStats(s);
  let sites = 0;
  for (const m of plan.modules.values()) sites += m.sites.size;
  if (to.file !== undefined) updatePlanFile(to.file, plan);
  if (to.cacheDir !== undefined && plan.modules.size > 0) updatePlanCache(plan, to.cacheDir);
  return { modules: plan.modules.size, sites };
}
