export { benchProgram, buildPath, hookLibrary, libraryPath, packageRoot, testProgram } from './paths.js';
export { loadAddon, probe, type Probe } from './native.js';
export { nrName, readStats, StatsError, type NrStats, type StatsSnapshot, type ProcessInfo, type ModuleInfo, type SiteInfo, type Origin, type SiteState, type SiteReason } from './stats.js';
export { SYSCALL_NAMES } from './syscalls.js';
export {
  buildEnv, MODES, OptionError, runProgram, spawnProgram, waitProgram,
  type Mode, type RunOptions, type RunResult,
} from './run.js';
export { deriveMode, describeErrno, doctorJson, doctorReport, xsaveFeatures, type RunMode } from './doctor.js';
export { spawn, run, type SpawnOptions, type Exit, type TraplineProcess } from './api.js';
export { renderSummary, loadReport } from './report.js';
