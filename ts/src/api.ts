import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess } from 'node:child_process';
import { effectivePlan, OptionError, outputFileProblem, spawnProgram, statsFileProblem, unknownTraplineVar, waitProgram, MODES, POLICIES } from './run.js';
import { describeFsError } from './readfile.js';
import { readStats, type StatsError, type StatsSnapshot } from './stats.js';
import { planCacheDir, readPlanFile, scanCacheDir } from './plan.js';
import { recordLearned } from './learn.js';

export interface SpawnOptions {
  /** 'lazy' (default: the best the machine supports), 'sud-only', or 'eager' (lazy with a
   *  plan rewritten ahead of time; plan defaults to 'auto'). */
  mode?: 'lazy' | 'sud-only' | 'eager';
  /** Use the rewriting mode even on a CPU without protection keys, where page 0 then stays
   *  readable: a NULL data read returns trampoline bytes instead of faulting. Without it,
   *  such a machine runs sud-only (complete, slower). No effect where page 0 can be made
   *  execute-only. */
  allowNullReads?: boolean;
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
  /** Keep the statistics segment at this path (default: a temporary file, removed after exit).
   *  It must not exist, unless statsAppend is set. */
  statsFile?: string;
  /** Add this run to the existing segment statsFile (same mode and rewrite policy). */
  statsAppend?: boolean;
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
  /** A typed snapshot of the coverage statistics at this moment (null with stats: false);
   *  once the program has exited, the final snapshot (the one in `exited`). */
  coverage(): StatsSnapshot | null;
  /** Resolves when the program has exited, with its status and the final snapshot. With
   *  stdio 'pipe' it does not wait for processes the program left behind that still hold
   *  its stdout or stderr: output is what could be read when the program exited. */
  exited: Promise<Exit>;
}

const KNOWN = new Set(['mode', 'hook', 'followExec', 'stats', 'statsFile', 'stdio', 'cwd', 'env', 'plan', 'learn', 'rewrite', 'allowNullReads', 'statsAppend', 'allowUninterposed']);

function validate(program: unknown, args: unknown, o: SpawnOptions): void {
  if (typeof program !== 'string' || program === '') throw new OptionError('program: must be a non-empty string');
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new OptionError('args: must be an array of strings');
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new OptionError('options: must be an object');
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new OptionError(`options.${k}: unknown option`);
  if (o.mode !== undefined && !(MODES as readonly string[]).includes(o.mode)) throw new OptionError(`options.mode: must be lazy, sud-only or eager, not '${String(o.mode)}'`);
  if (o.rewrite !== undefined && !(POLICIES as readonly string[]).includes(o.rewrite)) throw new OptionError(`options.rewrite: must be all, verified or none, not '${String(o.rewrite)}'`);
  if (o.plan !== undefined && (typeof o.plan !== 'string' || o.plan === '')) throw new OptionError("options.plan: must be a plan file path or 'auto'");
  if (o.plan !== undefined && o.plan !== 'auto') {
    try { readPlanFile(o.plan); } catch (e) { throw new OptionError(`options.plan: ${(e as Error).message}`); }
  }
  if (o.learn !== undefined && (typeof o.learn !== 'string' || o.learn === '')) throw new OptionError('options.learn: must be a non-empty path');
  if (o.stats === false && o.learn !== undefined) throw new OptionError('options.learn: needs statistics (given with stats: false)');
  if (o.learn !== undefined) {
    const problem = outputFileProblem(o.learn, true);
    if (problem) throw new OptionError(`options.learn: ${o.learn}: ${problem}`);
    try { readPlanFile(o.learn); } catch (e) {
      if ((e as Error).message !== `${o.learn}: no such file`) throw new OptionError(`options.learn: ${(e as Error).message}`);
    }
  }
  if (o.stats !== undefined && typeof o.stats !== 'boolean') throw new OptionError('options.stats: must be a boolean');
  if (o.followExec !== undefined && typeof o.followExec !== 'boolean') throw new OptionError('options.followExec: must be a boolean');
  if (o.allowNullReads !== undefined && typeof o.allowNullReads !== 'boolean') throw new OptionError('options.allowNullReads: must be a boolean');
  if (o.statsFile !== undefined && (typeof o.statsFile !== 'string' || o.statsFile === '')) throw new OptionError('options.statsFile: must be a non-empty path');
  if (o.stats === false && o.statsFile !== undefined) throw new OptionError('options.statsFile: given with stats: false');
  if (o.statsAppend !== undefined && typeof o.statsAppend !== 'boolean') throw new OptionError('options.statsAppend: must be a boolean');
  if (o.statsAppend && o.statsFile === undefined) throw new OptionError('options.statsAppend: needs options.statsFile');
  if (o.statsFile !== undefined) {
    const problem = statsFileProblem(o.statsFile);
    if (problem) throw new OptionError(`options.statsFile: ${o.statsFile}: ${problem}`);
  }
  if (o.stdio !== undefined && o.stdio !== 'inherit' && o.stdio !== 'pipe') throw new OptionError("options.stdio: must be 'inherit' or 'pipe'");
  if (o.allowUninterposed !== undefined && typeof o.allowUninterposed !== 'boolean') throw new OptionError('options.allowUninterposed: must be a boolean');
  if (o.hook !== undefined && (typeof o.hook !== 'string' || o.hook === '')) throw new OptionError('options.hook: must be a non-empty path');
  if (o.cwd !== undefined) {
    if (typeof o.cwd !== 'string' || o.cwd === '') throw new OptionError('options.cwd: must be a non-empty path');
    let dir = false;
    try { dir = statSync(o.cwd).isDirectory(); } catch (e) { throw new OptionError(`options.cwd: ${o.cwd}: ${describeFsError(e)}`); }
    if (!dir) throw new OptionError(`options.cwd: ${o.cwd}: not a directory`);
  }
  if (o.env !== undefined) {
    if (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env)) throw new OptionError('options.env: must be an object of strings');
    for (const [k, v] of Object.entries(o.env)) {
      if (v !== undefined && typeof v !== 'string') throw new OptionError(`options.env.${k}: must be a string`);
    }
  }
  const bad = unknownTraplineVar(o.env ?? process.env);
  if (bad) throw new OptionError(`options.env${o.env ? '' : ' (process.env)'}: ${bad}`);
}

/** An OptionError from buildEnv names a CLI flag (--hook: ...); the API names options.X. */
const FLAG_TO_OPTION: Record<string, string> = {
  '--mode': 'options.mode', '--plan': 'options.plan', '--plan auto': 'options.plan', '--rewrite': 'options.rewrite',
  '--hook': 'options.hook', '--stats': 'options.statsFile', '--stats-append': 'options.statsAppend',
  '--follow-exec': 'options.followExec', '--allow-null-reads': 'options.allowNullReads', environment: 'options.env',
};
function renameOptionError(e: unknown): unknown {
  if (!(e instanceof OptionError)) return e;
  const m = /^(--[a-z-]+(?: auto)?|environment):/.exec(e.message);
  const name = m && FLAG_TO_OPTION[m[1]!];
  return name ? new OptionError(name + e.message.slice(m![1]!.length)) : e;
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
  const removeTmp = () => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  };
  // with statsAppend the segment already counts earlier runs' processes: this run entered
  // the program only if the count grew
  let processesBefore = 0;
  if (options.statsAppend && file) {
    try { processesBefore = readStats(file).processes; } catch { /* checked by spawnProgram */ }
  }
  let child: ChildProcess;
  try {
    child = spawnProgram(program, args, {
      mode: options.mode, hook: options.hook, stats: file, statsAppend: options.statsAppend, followExec: options.followExec,
      plan: options.plan, rewrite: options.rewrite, allowNullReads: options.allowNullReads,
      stdio: options.stdio, cwd: options.cwd, env: options.env, allowUninterposed: options.allowUninterposed,
    });
  } catch (e) {
    removeTmp();
    throw renameOptionError(e);
  }
  // after exit: the final snapshot (the temporary segment is gone by then)
  let final: { coverage: StatsSnapshot | null } | undefined;
  const snapshot = (): StatsSnapshot | null => {
    if (final) return final.coverage;
    if (!file) return null;
    try { return readStats(file); } catch (e) {
      // before the program's first instruction the segment may not exist yet
      if ((e as StatsError).code === 'ENOENT') return null;
      throw e;
    }
  };
  const exited = waitProgram(child).then((r) => {
    try {
      const coverage = snapshot();
      final = { coverage };
      if (coverage && (options.learn !== undefined || planAuto)) {
        const env = options.env ?? process.env;
        recordLearned(coverage, { file: options.learn, cacheDir: planAuto ? planCacheDir(env) : undefined, scanCache: scanCacheDir(env) });
      }
      const interposed = wantStats ? coverage !== null && coverage.processes > processesBefore : null;
      return { ...r, coverage: interposed === false ? null : coverage, interposed };
    } finally {
      removeTmp();
    }
  }, (e: unknown) => {
    removeTmp();
    throw e;
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
