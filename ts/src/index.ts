export { benchProgram, buildPath, hookLibrary, libraryPath, packageRoot, testProgram } from './paths.js';
export { loadAddon, probe, type Probe } from './native.js';
export { nrName, readStats, readSegmentIdentity, segmentGeometry, StatsError, type SegmentIdentity, type NrStats, type StatsSnapshot, type ProcessInfo, type ModuleInfo, type SiteInfo, type Origin, type SiteState, type SiteReason, type SiteSource, type Abi } from './stats.js';
export { SYSCALL_NAMES } from './syscalls.js';
export { buildEnv, runProgram, spawnProgram, waitProgram, type RunOptions, type RunResult } from './run.js';
export { MODES, REWRITE_POLICIES, type Mode, type RunMode, type RewritePolicy } from './types.js';
export { TraplineError, OptionError, FileReadError, type TraplineErrorCode } from './errors.js';
export { deriveMode, describeErrno, doctorJson, doctorReport, xsaveFeatures } from './doctor.js';
export { spawn, run, type SpawnOptions, type Exit, type TraplineProcess, type Learned } from './api.js';
export { renderSummary, loadReport } from './report.js';
export { parseElf, ElfError, type ElfFile, type ExecRegion, type FuncSymbol, type FdeExtent, type SectionHeader, type ProgramHeader } from './elf.js';
export { scanFile, scanBuffer, type ScanResult, type ScanOptions, type Site, type SiteClass, type SiteInsn } from './scan.js';
export {
  emptyPlan, parsePlan, formatPlan, mergePlan, readPlanFile, writePlanAtomic, updatePlanFile, planCacheDir,
  planCacheFile, updatePlanCache, planFromScan, isPlanBuildId, PlanError, scanCacheDir,
  PLAN_HEADER, PLAN_MAX_MODULES, PLAN_MAX_SITES, PLAN_MAX_LINE,
  type Plan, type PlanModule, type PlanSource,
} from './plan.js';
export { planFromStats, recordLearned, type LearnOptions } from './learn.js';
export { verifyModuleFile, verifiedPlan, type ScanVerdicts, type VerifiedModule } from './verify.js';
