import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess } from 'node:child_process';
import { effectivePlan, OptionError, spawnProgram, waitProgram, MODES, POLICIES } from './run.js';
import { readStats, type StatsSnapshot } from './stats.js';
import { planCacheDir, readPlanFile } from './plan.js';
import { recordLearned } from './learn.js';

export interface SpawnOptions {
  /** 'lazy' (default: the best the machine supports), 'sud-only', or 'eager' (lazy with a
   *  plan rewritten ahead of time; plan defaults to 'auto'). */
  mode?: 'lazy' | 'sud-only' | 'eager';
  /** A plan file, or 'auto': the plan cache (read at start, learned sites merged after exit). */
  plan?: string;
  /** Merge the sites this run learned into this plan file after exit (needs stats). */
  learn?: string;
  /** Which sites may be rewritten: 'all' (default), 'verified' (scanner-confirmed plan sites only), 'none'. */
  rewrite?: 'all' | 'verified' | 'none';
  /** A hook library (trapline.h or zpoline ABI). */
  hook?: string;
  /** Re-interpose programs it execs (default true). */
  followExec?: boolean;
  /** Collect coverage statistics (default true). */
  stats?: boolean;
  /** Keep the statistics segment at this path (default: a temporary file, removed after exit). */
  statsFile?: string;
  /** 'inherit' (default) or 'pipe'. */
  stdio?: 'inherit' | 'pipe';
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run a setuid/setgid program, which the loader starts without trapline (default:
   *  refused with an OptionError). Exit.interposed then says whether it was entered. */
  allowUninterposed?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout?: string;
  stderr?: string;
  /** Final coverage (null with stats: false, or if no process was interposed). */
  coverage: StatsSnapshot | null;
  /** Whether trapline entered the program: false if no process joined the statistics
   *  (the loader ignored LD_PRELOAD: setuid, file capabilities, a static program);
   *  null with stats: false (not known). */
  interposed: boolean | null;
}

export interface TraplineProcess {
  pid: number | undefined;
  child: ChildProcess;
  /** A typed snapshot of the coverage statistics at this moment (null with stats: false). */
  coverage(): StatsSnapshot | null;
  /** Resolves when the program has exited, with its status and the final snapshot. */
  exited: Promise<Exit>;
}

const KNOWN = new Set(['mode', 'hook', 'followExec', 'stats', 'statsFile', 'stdio', 'cwd', 'env', 'plan', 'learn', 'rewrite', 'allowUninterposed']);

function validate(program: unknown, args: unknown, o: SpawnOptions): void {
  if (typeof program !== 'string' || program === '') throw new OptionError('program: must be a non-empty string');
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new OptionError('args: must be an array of strings');
  if (typeof o !== 'object' || o === null) throw new OptionError('options: must be an object');
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new OptionError(`options.${k}: unknown option`);
  if (o.mode !== undefined && !(MODES as readonly string[]).includes(o.mode)) throw new OptionError(`options.mode: must be lazy, sud-only or eager, not '${String(o.mode)}'`);
  if (o.rewrite !== undefined && !(POLICIES as readonly string[]).includes(o.rewrite)) throw new OptionError(`options.rewrite: must be all, verified or none, not '${String(o.rewrite)}'`);
  if (o.plan !== undefined && (typeof o.plan !== 'string' || o.plan === '')) throw new OptionError("options.plan: must be a plan file path or 'auto'");
  if (o.plan !== undefined && o.plan !== 'auto') {
    try { readPlanFile(o.plan); } catch (e) { throw new OptionError(`options.plan: ${(e as Error).message}`); }
  }
  if (o.learn !== undefined && (typeof o.learn !== 'string' || o.learn === '')) throw new OptionError('options.learn: must be a non-empty path');
  if (o.stats === false && o.learn !== undefined) throw new OptionError('options.learn: needs statistics (given with stats: false)');
  if (o.stats !== undefined && typeof o.stats !== 'boolean') throw new OptionError('options.stats: must be a boolean');
  if (o.followExec !== undefined && typeof o.followExec !== 'boolean') throw new OptionError('options.followExec: must be a boolean');
  if (o.statsFile !== undefined && (typeof o.statsFile !== 'string' || o.statsFile === '')) throw new OptionError('options.statsFile: must be a non-empty path');
  if (o.stats === false && o.statsFile !== undefined) throw new OptionError('options.statsFile: given with stats: false');
  if (o.stdio !== undefined && o.stdio !== 'inherit' && o.stdio !== 'pipe') throw new OptionError("options.stdio: must be 'inherit' or 'pipe'");
  if (o.allowUninterposed !== undefined && typeof o.allowUninterposed !== 'boolean') throw new OptionError('options.allowUninterposed: must be a boolean');
}

/** Starts program under trapline. Throws OptionError (naming the option) before launch. */
export function spawn(program: string, args: string[] = [], options: SpawnOptions = {}): TraplineProcess {
  validate(program, args, options);
  const planAuto = effectivePlan(options.mode, options.plan) === 'auto';
  const wantStats = options.stats !== false;
  let tmp: string | undefined;
  let file: string | undefined;
  if (wantStats) {
    if (options.statsFile) file = options.statsFile;
    else { tmp = mkdtempSync(join(tmpdir(), 'trapline-')); file = join(tmp, 'stats'); }
  }
  const child = spawnProgram(program, args, {
    mode: options.mode, hook: options.hook, stats: file, followExec: options.followExec,
    plan: options.plan, rewrite: options.rewrite,
    stdio: options.stdio, cwd: options.cwd, env: options.env, allowUninterposed: options.allowUninterposed,
  });
  const snapshot = (): StatsSnapshot | null => {
    if (!file) return null;
    try { return readStats(file); } catch (e) {
      // before the program's first instruction the segment may not exist yet
      if ((e as Error).message.includes('cannot read')) return null;
      throw e;
    }
  };
  const exited = waitProgram(child).then((r) => {
    try {
      const coverage = snapshot();
      if (coverage && (options.learn !== undefined || planAuto)) {
        recordLearned(coverage, { file: options.learn, cacheDir: planAuto ? planCacheDir(options.env ?? process.env) : undefined });
      }
      const interposed = wantStats ? coverage !== null && coverage.processes > 0 : null;
      return { ...r, coverage: interposed === false ? null : coverage, interposed };
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });
  return { pid: child.pid, child, coverage: snapshot, exited };
}

/** spawn() and wait: resolves with the exit status and the final coverage. */
export function run(program: string, args: string[] = [], options: SpawnOptions = {}): Promise<Exit> {
  try {
    return spawn(program, args, options).exited;
  } catch (e) {
    return Promise.reject(e);
  }
}
