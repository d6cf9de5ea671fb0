// The public API of the trapline package (docs/api.md documents every name). Everything
// else under ts/src is internal: the CLI and the tests import it directly.

// Starting programs under trapline
export { spawn, run, type SpawnOptions, type Exit, type TraplineProcess, type Learned, type TraceCounts } from './api.js';

// Policies: trace, inject, deny (docs/policies.md)
export type { Rule, RuleScope, TraceEvent, TraceOptions, PolicyAction } from './policy/types.js';
export type { Entry, Mode, RunMode, RewritePolicy } from './types.js';

// Coverage statistics and reports
export { readStats, nrName } from './stats.js';
export { loadReport, renderSummary } from './report.js';
export type {
  StatsSnapshot, NrStats, ProcessInfo, ModuleInfo, SiteInfo, Origin, SiteState, SiteReason, SiteSource, Abi,
} from './stats.js';

// The static scanner
export { scanFile, scanBuffer, type ScanResult, type ScanOptions, type Site, type SiteClass, type SiteInsn } from './scan.js';

// Rewrite plans
export {
  emptyPlan, parsePlan, formatPlan, mergePlan, readPlanFile, writePlanAtomic, updatePlanFile, updatePlanCache,
  planCacheDir, planFromScan, type Plan, type PlanModule, type PlanSource,
} from './plan.js';
export { planFromStats, type LearnOptions } from './learn.js';

// The machine
export { probe, type Probe } from './native.js';
export { deriveMode } from './doctor.js';
export { libraryPath } from './paths.js';

// Errors
export {
  TraplineError, OptionError, PlanError, StatsError, ElfError, FileReadError, type TraplineErrorCode,
} from './errors.js';
