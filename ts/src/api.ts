// spawn() and run(): the one way a program is started under trapline, for the API and for
// `trapline run` (which calls launch() with its own option names).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess } from 'node:child_process';
import { effectivePlan, spawnProgram, waitProgram } from './run.js';
import { readStats, type StatsSnapshot } from './stats.js';
import { planCacheDir, scanCacheDir } from './plan.js';
import { recordLearned } from './learn.js';
import { OptionError, StatsError, TraplineError } from './errors.js';
import { API_NAMES, type OptionNames } from './names.js';
import { checkSpawn, spawnPolicy, type SpawnOptions } from './options.js';
import { preparePolicy, TraceFeed, TraceReader, type PreparedPolicy, type RecordSink, type TraceCounts } from './trace.js';
import type { Rule, TraceEvent, TraceOptions } from './policy/types.js';

export type { SpawnOptions, TraceCounts };

/** What a run learned into plans after it exited (options.learn, or the plan cache). */
export interface Learned {
  /** Modules and sites merged; sites that failed verification are kept as
   *  'learned-unverified' (never rewritten ahead of time). */
  modules: number;
  sites: number;
  unverified: number;
  /** The plan file (options.learn), if one was given. */
  file?: string;
  /** The plan cache directory, with plan 'auto' (or mode 'eager'). */
  cacheDir?: string;
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
  /** Set when the run learned sites into a plan file or the plan cache. */
  learned?: Learned;
  /** With options.trace: records dropped (lossy mode, or no reader) and the time threads
   *  waited for the reader (lossless mode). */
  trace?: TraceCounts;
  /** run() with options.trace: every traced call, in order per thread. */
  events?: TraceEvent[];
}

export interface TraplineProcess {
  pid: number | undefined;
  child: ChildProcess;
  /** A typed snapshot of the coverage statistics at this moment (null with stats: false);
   *  once the program has exited, the final snapshot (the one in `exited`). */
  coverage(): StatsSnapshot | null;
  /** Resolves when the program has exited, with its status and the final snapshot. With
   *  stdio 'pipe' it does not wait for processes the program left behind that still hold
   *  its stdout or stderr: output is what could be read when the program exited. Rejects
   *  if the program could not be started (a Node system error: ENOENT, EACCES), or with a
   *  TraplineError whose `exit` holds the program's Exit if the final statistics could not
   *  be read (StatsError) or learning failed (PlanError). */
  exited: Promise<Exit>;
  /** With options.trace: the traced calls as they happen, decoded (docs/policies.md); the
   *  iterator ends once the program has exited and every record is read. Each event is
   *  given once (one queue for all iterators). Events are kept in memory until read; while
   *  an iterator is being read, at most 65536 wait and the program waits for the rest
   *  (lossy: they are dropped). Throws OptionError without options.trace. */
  events(): AsyncIterableIterator<TraceEvent>;
}

/**
 * spawn() with the option names of its caller: the API's (options.hook) or the CLI's
 * (--hook). Throws OptionError before launch.
 */
export function launch(names: OptionNames, program: string, args: string[], options: SpawnOptions,
  preset?: { rules: Rule[]; trace?: TraceOptions; sink?: RecordSink }): TraplineProcess {
  checkSpawn(program, args, options, names);
  const asked = preset ?? spawnPolicy(options, names);
  const policy: PreparedPolicy | undefined = preparePolicy(asked.rules, asked.trace, names);
  const removePolicy = () => { if (policy) rmSync(policy.dir, { recursive: true, force: true }); };
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
    try { processesBefore = readStats(file).processes; } catch { /* checked by buildEnv */ }
  }
  let child: ChildProcess;
  let feed: TraceFeed | undefined;
  try {
    child = spawnProgram(program, args, {
      mode: options.mode, hook: options.hook, stats: file, statsAppend: options.statsAppend, followExec: options.followExec,
      entry: options.entry, vdso: options.vdso,
      plan: options.plan, rewrite: options.rewrite, allowNullReads: options.allowNullReads,
      stdio: options.stdio, cwd: options.cwd, env: options.env, ...(policy ? { policy: policy.file } : {}),
    }, names);
    if (policy?.segment) feed = new TraceFeed(new TraceReader(policy.segment), removePolicy, preset?.sink);
  } catch (e) {
    removeTmp();
    removePolicy();
    throw e;
  }
  if (policy && !feed) child.once('exit', removePolicy).once('error', removePolicy);
  // after exit: the final snapshot (the temporary segment is gone by then)
  let final: { coverage: StatsSnapshot | null } | undefined;
  const snapshot = (): StatsSnapshot | null => {
    if (final) return final.coverage;
    if (!file) return null;
    try { return readStats(file); } catch (e) {
      // before the program's first instruction the segment may not exist yet
      if (e instanceof StatsError && e.fsCode === 'ENOENT') return null;
      throw e;
    }
  };
  const exited = waitProgram(child).then((r) => {
    feed?.finish();
    const exit: Exit = { ...r, coverage: null, interposed: wantStats ? false : null };
    if (feed?.counts) exit.trace = feed.counts;
    try {
      const coverage = snapshot();
      final = { coverage };
      const interposed = wantStats ? coverage !== null && coverage.processes > processesBefore : null;
      exit.coverage = interposed === false ? null : coverage;
      exit.interposed = interposed;
      if (coverage && interposed && (options.learn !== undefined || planAuto)) {
        const env = options.env ?? process.env;
        const cacheDir = planAuto ? planCacheDir(env) : undefined;
        const n = recordLearned(coverage, { file: options.learn, cacheDir, scanCache: scanCacheDir(env) });
        exit.learned = { ...n, ...(options.learn !== undefined ? { file: options.learn } : {}), ...(cacheDir !== undefined ? { cacheDir } : {}) };
      }
      return exit;
    } catch (e) {
      if (e instanceof TraplineError) e.exit = exit;
      throw e;
    } finally {
      final ??= { coverage: null };
      removeTmp();
    }
  }, (e: unknown) => {
    feed?.abort();
    removeTmp();
    throw e;
  });
  const events = (): AsyncIterableIterator<TraceEvent> => {
    if (!feed) throw new OptionError('trace', `${names('trace')}: events() needs calls to trace (no trace was asked for)`);
    return feed[Symbol.asyncIterator]();
  };
  return { pid: child.pid, child, coverage: snapshot, exited, events };
}

/**
 * Starts program (looked up in PATH) under trapline with the given arguments and options.
 * Throws OptionError (its message names the option: `options.mode: ...`) before launch.
 */
export function spawn(program: string, args: string[] = [], options: SpawnOptions = {}): TraplineProcess {
  return launch(API_NAMES, program, args, options);
}

/** spawn() and wait: resolves with the exit status and the final coverage; a bad option
 *  rejects (with the OptionError spawn() throws). */
export async function run(program: string, args: string[] = [], options: SpawnOptions = {}): Promise<Exit> {
  const p = spawn(program, args, options);
  if (options.trace === undefined || options.trace === false) return p.exited;
  const events: TraceEvent[] = [];
  const collect = (async () => { for await (const e of p.events()) events.push(e); })();
  const exit = await p.exited;
  await collect;
  exit.events = events;
  return exit;
}
