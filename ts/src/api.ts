import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess } from 'node:child_process';
import { OptionError, spawnProgram, waitProgram, MODES } from './run.js';
import { readStats, type StatsSnapshot } from './stats.js';

export interface SpawnOptions {
  /** 'lazy' (default: the best the machine supports) or 'sud-only'. */
  mode?: 'lazy' | 'sud-only';
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
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout?: string;
  stderr?: string;
  /** Final coverage (null with stats: false). */
  coverage: StatsSnapshot | null;
}

export interface TraplineProcess {
  pid: number | undefined;
  child: ChildProcess;
  /** A typed snapshot of the coverage statistics at this moment (null with stats: false). */
  coverage(): StatsSnapshot | null;
  /** Resolves when the program has exited, with its status and the final snapshot. */
  exited: Promise<Exit>;
}

const KNOWN = new Set(['mode', 'hook', 'followExec', 'stats', 'statsFile', 'stdio', 'cwd', 'env']);

function validate(program: unknown, args: unknown, o: SpawnOptions): void {
  if (typeof program !== 'string' || program === '') throw new OptionError('program: must be a non-empty string');
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new OptionError('args: must be an array of strings');
  if (typeof o !== 'object' || o === null) throw new OptionError('options: must be an object');
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new OptionError(`options.${k}: unknown option`);
  if (o.mode !== undefined && !(MODES as readonly string[]).includes(o.mode)) throw new OptionError(`options.mode: must be lazy or sud-only, not '${String(o.mode)}'`);
  if (o.stats !== undefined && typeof o.stats !== 'boolean') throw new OptionError('options.stats: must be a boolean');
  if (o.followExec !== undefined && typeof o.followExec !== 'boolean') throw new OptionError('options.followExec: must be a boolean');
  if (o.statsFile !== undefined && (typeof o.statsFile !== 'string' || o.statsFile === '')) throw new OptionError('options.statsFile: must be a non-empty path');
  if (o.stats === false && o.statsFile !== undefined) throw new OptionError('options.statsFile: given with stats: false');
  if (o.stdio !== undefined && o.stdio !== 'inherit' && o.stdio !== 'pipe') throw new OptionError("options.stdio: must be 'inherit' or 'pipe'");
}

/** Starts program under trapline. Throws OptionError (naming the option) before launch. */
export function spawn(program: string, args: string[] = [], options: SpawnOptions = {}): TraplineProcess {
  validate(program, args, options);
  const wantStats = options.stats !== false;
  let tmp: string | undefined;
  let file: string | undefined;
  if (wantStats) {
    if (options.statsFile) file = options.statsFile;
    else { tmp = mkdtempSync(join(tmpdir(), 'trapline-')); file = join(tmp, 'stats'); }
  }
  const child = spawnProgram(program, args, {
    mode: options.mode, hook: options.hook, stats: file, followExec: options.followExec,
    stdio: options.stdio, cwd: options.cwd, env: options.env,
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
    const coverage = snapshot();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    return { ...r, coverage };
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
