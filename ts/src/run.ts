import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { constants, accessSync, mkdirSync, statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { libraryPath } from './paths.js';
import { planCacheDir, readPlanFile } from './plan.js';
import { fileCaps } from './native.js';

/** eager: lazy plus a rewrite plan applied at start-up and on dlopen (default plan: auto). */
export type Mode = 'lazy' | 'sud-only' | 'eager';
export const MODES: readonly Mode[] = ['lazy', 'sud-only', 'eager'];
export type Policy = 'all' | 'verified' | 'none';

/** The plan a run uses: the one given, else 'auto' in eager mode, else none. */
export function effectivePlan(mode: string | undefined, plan: string | undefined): string | undefined {
  return plan ?? (mode === 'eager' ? 'auto' : undefined);
}
export const POLICIES: readonly Policy[] = ['all', 'verified', 'none'];

/** An invalid run option (bad mode, unreadable hook, ...); nothing was started. */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

export interface RunOptions {
  /** TRAPLINE_MODE; unset lets the library pick the best available mode. */
  mode?: string;
  /** TRAPLINE_PLAN: a plan file (checked here), or 'auto' for the plan cache directory. */
  plan?: string;
  /** TRAPLINE_REWRITE: which sites may be rewritten (default all). */
  rewrite?: string;
  /** TRAPLINE_HOOK: a hook library (made absolute; must be a readable file). */
  hook?: string;
  /** TRAPLINE_STATS: the statistics segment to create or join (made absolute). */
  stats?: string;
  /** false: exec'd programs are not re-interposed (TRAPLINE_FOLLOW_EXEC=0). Default true. */
  followExec?: boolean;
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the program. */
  cwd?: string;
  /** 'inherit' (default) or 'pipe' to capture stdout/stderr. */
  stdio?: 'inherit' | 'pipe';
  /** Run a setuid/setgid program although the loader will ignore LD_PRELOAD for it
   *  (it then runs without trapline). Default false: such a program is refused. */
  allowUninterposed?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Captured output, only with stdio: 'pipe'. */
  stdout?: string;
  stderr?: string;
}

/**
 * Checks the options and returns the environment for an interposed program: the base
 * environment plus LD_PRELOAD (prepended), TRAPLINE_MODE, TRAPLINE_HOOK, TRAPLINE_STATS,
 * TRAPLINE_PLAN, TRAPLINE_REWRITE.
 * Throws OptionError on a bad option, Error if the library is not built.
 */
export function buildEnv(opts: RunOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  if (opts.mode !== undefined) {
    if (!(MODES as readonly string[]).includes(opts.mode)) {
      throw new OptionError(`--mode: must be lazy, sud-only or eager, not '${opts.mode}'`);
    }
    env.TRAPLINE_MODE = opts.mode === 'eager' ? 'lazy' : opts.mode;
  }
  const plan = effectivePlan(opts.mode, opts.plan);
  if (plan !== undefined) {
    if (plan === '') throw new OptionError('--plan: empty path');
    if (plan === 'auto') {
      const dir = planCacheDir(env);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new OptionError(`--plan auto: cannot create the plan cache ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      env.TRAPLINE_PLAN = resolve(dir);
    } else {
      try {
        readPlanFile(plan);
      } catch (e) {
        throw new OptionError(`--plan: ${(e as Error).message}`);
      }
      env.TRAPLINE_PLAN = resolve(plan);
    }
  }
  if (opts.rewrite !== undefined) {
    if (!(POLICIES as readonly string[]).includes(opts.rewrite)) {
      throw new OptionError(`--rewrite: must be all, verified or none, not '${opts.rewrite}'`);
    }
    env.TRAPLINE_REWRITE = opts.rewrite;
  }
  if (opts.hook !== undefined) {
    const hook = resolve(opts.hook);
    try {
      if (!statSync(hook).isFile()) throw new Error('not a regular file');
      accessSync(hook, constants.R_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new OptionError(`--hook: ${opts.hook}: not a readable file (${why})`);
    }
    env.TRAPLINE_HOOK = hook;
  }
  if (opts.stats !== undefined) {
    if (opts.stats === '') throw new OptionError('--stats: empty path');
    env.TRAPLINE_STATS = resolve(opts.stats);
  }
  if (opts.followExec !== undefined) {
    if (typeof opts.followExec !== 'boolean') throw new OptionError('--follow-exec: must be true or false');
    env.TRAPLINE_FOLLOW_EXEC = opts.followExec ? '1' : '0';
  }
  const lib = libraryPath();
  env.LD_PRELOAD = env.LD_PRELOAD ? `${lib}:${env.LD_PRELOAD}` : lib;
  return env;
}

/** The file exec would run for program: itself if it holds a '/', else the first
 *  executable match in PATH. undefined if none (spawning it then fails with ENOENT). */
export function resolveProgram(program: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): string | undefined {
  if (program.includes('/')) return resolve(cwd ?? process.cwd(), program);
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = resolve(cwd ?? process.cwd(), dir || '.', program);
    try {
      if (statSync(p).isFile()) { accessSync(p, constants.X_OK); return p; }
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Why the dynamic loader would not load trapline into program (it runs in secure mode and
 * ignores LD_PRELOAD), or undefined. Detected from the file: setuid, setgid with group
 * execute permission, or file capabilities (read through the addon; without it, such a
 * run is reported as not interposed afterwards).
 */
export function uninterposableReason(path: string): string | undefined {
  let mode: number;
  try { mode = statSync(path).mode; } catch { return undefined; }
  if (mode & 0o4000) return 'setuid';
  if ((mode & 0o2000) && (mode & 0o010)) return 'setgid';
  if (fileCaps(path)) return 'a program with file capabilities';
  return undefined;
}

/** Starts program (looked up in PATH) under the interposer. Throws on bad options. */
export function spawnProgram(program: string, args: readonly string[] = [], opts: RunOptions = {}): ChildProcess {
  if (opts.allowUninterposed !== undefined && typeof opts.allowUninterposed !== 'boolean') {
    throw new OptionError('--allow-uninterposed: must be true or false');
  }
  if (!opts.allowUninterposed) {
    const path = resolveProgram(program, opts.env ?? process.env, opts.cwd);
    const why = path && uninterposableReason(path);
    if (why) {
      throw new OptionError(`${program} is ${why}: the dynamic loader ignores LD_PRELOAD for it, so it would run without trapline; refusing (--allow-uninterposed, or allowUninterposed: true, runs it anyway)`);
    }
  }
  const env = buildEnv(opts);
  const stdio: StdioOptions = opts.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'inherit';
  return spawn(program, args, { env, cwd: opts.cwd, stdio });
}

/**
 * Runs program (looked up in PATH) under the interposer. Resolves with its exit code or
 * terminating signal; rejects if options are bad or it cannot be started (e.g. ENOENT).
 */
export async function runProgram(program: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawnProgram(program, args, opts);
  return waitProgram(child);
}

/** Waits for a child from spawnProgram; collects its output if it was started with stdio 'pipe'. */
export function waitProgram(child: ChildProcess): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => err.push(d));
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolvePromise(child.stdout ? { code, signal, stdout: out.join(''), stderr: err.join('') } : { code, signal });
    });
  });
}
