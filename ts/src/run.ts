// The launch underneath spawn(): the environment an interposed program gets (buildEnv),
// starting it (spawnProgram) and waiting for it (waitProgram). The options are checked
// before, by checkSpawn (options.ts); the checks here are the ones that make something
// (the plan cache, a verified plan, the statistics cookie), named the same way.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { closeSync, constants, accessSync, existsSync, openSync, lstatSync, mkdirSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { delimiter, dirname, resolve } from 'node:path';
import { describeFsError } from './readfile.js';
import { launcherPath, libraryPath } from './paths.js';
import { createHash } from 'node:crypto';
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyPlan, formatPlan, isPlanBuildId, mergePlan, planCacheDir, readPlanFile, scanCacheDir, type Plan } from './plan.js';
import { verifiedPlan } from './verify.js';
import { readSegmentIdentity } from './stats.js';
import { fileCaps } from './native.js';
import { OptionError } from './errors.js';
import type { Mode, RewritePolicy } from './types.js';
import { API_NAMES, type OptionNames } from './names.js';

/** The plan a run uses: the one given, else 'auto' in eager mode, else none. */
export function effectivePlan(mode: string | undefined, plan: string | undefined): string | undefined {
  return plan ?? (mode === 'eager' ? 'auto' : undefined);
}

/** Every TRAPLINE_* variable the library knows (core/config.c); any other is an error. */
export const KNOWN_ENV: readonly string[] = [
  'TRAPLINE_MODE', 'TRAPLINE_HOOK', 'TRAPLINE_STATS', 'TRAPLINE_QUIET', 'TRAPLINE_FOLLOW_EXEC', 'TRAPLINE_PLAN',
  'TRAPLINE_REWRITE', 'TRAPLINE_PLAN_CACHE', 'TRAPLINE_STATS_COOKIE', 'TRAPLINE_ALLOW_NULL_READS',
  'TRAPLINE_VDSO', 'TRAPLINE_ENTRY', 'TRAPLINE_HOOK_SKIPPED', 'TRAPLINE_POLICY', 'TRAPLINE_CAPS',
  'TRAPLINE_SIGIGN',
];

/** The values the library accepts for its enumerated variables (core/config.c). */
const ENV_VALUES: Record<string, readonly string[]> = {
  TRAPLINE_MODE: ['', 'lazy', 'sud-only'], TRAPLINE_QUIET: ['', '0', '1'], TRAPLINE_FOLLOW_EXEC: ['0', '1'],
  TRAPLINE_REWRITE: ['', 'all', 'verified', 'none'], TRAPLINE_ALLOW_NULL_READS: ['', '0', '1'],
  TRAPLINE_VDSO: ['', 'on', 'off'], TRAPLINE_ENTRY: ['', 'first', 'preload'], TRAPLINE_HOOK_SKIPPED: ['', '0', '1'],
  TRAPLINE_CAPS: ['', 'drop', 'dropped'],
};
/** The values of the others the library checks by form (core/config.c). */
const ENV_FORMS: Record<string, { re: RegExp; says: string }> = {
  TRAPLINE_SIGIGN: { re: /^([0-9]+:(sys|segv|sys,segv))?$/, says: 'PID:sys, PID:segv or PID:sys,segv' },
};

/** What the library would refuse in env's TRAPLINE_* variables (an unknown name, or a bad
 *  value of an enumerated one), as "NAME: problem"; undefined if nothing. */
export function unknownTraplineVar(env: NodeJS.ProcessEnv): string | undefined {
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('TRAPLINE_')) continue;
    if (!KNOWN_ENV.includes(k)) return `unknown variable ${k} (known: ${KNOWN_ENV.join(', ')})`;
    const ok = ENV_VALUES[k];
    if (ok && v !== undefined && !ok.includes(v)) return `${k}: '${v}' is not one of ${ok.filter(Boolean).join(', ')}`;
    const form = ENV_FORMS[k];
    if (form && v !== undefined && !form.re.test(v)) return `${k}: '${v}' is not ${form.says}`;
  }
  return undefined;
}

/** Why the directory that would hold a new file at path cannot: undefined if it can. */
function dirProblem(path: string): string | undefined {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    return `directory ${dir}: ${describeFsError(e)}`;
  }
}

/** The checks shared by every path a run writes: an existing path must be a regular file;
 *  a missing one needs a usable directory (dirProblem). */
function pathKind(path: string): { problem?: string; exists: boolean } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { problem: describeFsError(e), exists: false };
    return { problem: dirProblem(path), exists: false };
  }
  if (st.isDirectory()) return { problem: 'is a directory', exists: true };
  if (!st.isFile()) return { problem: 'not a regular file', exists: true };
  return { exists: true };
}

/**
 * Why a file the run will write after the program exits (--report, --learn) cannot be
 * written: it exists and is not a writable regular file (a FIFO would block, a directory
 * fails), or its directory is missing or not writable (needed for a new file, and for
 * one replaced by a rename: replace). undefined if it can.
 */
export function outputFileProblem(path: string, replace = false): string | undefined {
  const { problem, exists } = pathKind(path);
  if (problem || !exists) return problem;
  try {
    accessSync(path, constants.W_OK);
  } catch (e) {
    return describeFsError(e);
  }
  return replace ? dirProblem(path) : undefined;
}

/** Why path cannot be a statistics segment (an existing non-regular file, a directory,
 *  a missing or unwritable directory); undefined if it can. */
export function statsFileProblem(path: string): string | undefined {
  return pathKind(path).problem;
}

export interface RunOptions {
  /** TRAPLINE_MODE (eager: lazy); unset lets the library pick the best available mode. */
  mode?: Mode;
  /** TRAPLINE_ALLOW_NULL_READS: use the rewriting mode even on a CPU without protection
   *  keys, where page 0 stays readable (NULL data reads then succeed instead of faulting). */
  allowNullReads?: boolean;
  /** TRAPLINE_PLAN: a plan file, or 'auto' for the plan cache directory. */
  plan?: string;
  /** TRAPLINE_REWRITE: which sites may be rewritten (default all). */
  rewrite?: RewritePolicy;
  /** TRAPLINE_HOOK: a hook library (made absolute). */
  hook?: string;
  /** TRAPLINE_STATS: the statistics segment to create (made absolute). It must not exist,
   *  unless statsAppend is set: then this run is added to it (same mode and policy). */
  stats?: string;
  /** Add this run to an existing segment stats. */
  statsAppend?: boolean;
  /** false: exec'd programs are not re-interposed (TRAPLINE_FOLLOW_EXEC=0). Default true. */
  followExec?: boolean;
  /** 'first' (default) or 'preload': see SpawnOptions.entry */
  entry?: 'first' | 'preload';
  /** 'off': the vDSO hidden from the program (SpawnOptions.vdso) */
  vdso?: 'on' | 'off';
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Working directory of the program. */
  cwd?: string;
  /** 'inherit' (default) or 'pipe' to capture stdout/stderr. */
  stdio?: 'inherit' | 'pipe';
  /** TRAPLINE_POLICY: the policy file (written by preparePolicy, ts/src/trace.ts). */
  policy?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Captured output, only with stdio: 'pipe'. */
  stdout?: string;
  stderr?: string;
}

/**
 * The environment for the launcher (build/lib/trapline-exec, which becomes the program):
 * the base environment plus the settings TRAPLINE_MODE, TRAPLINE_HOOK, TRAPLINE_STATS (and
 * the cookie of a segment appended to), TRAPLINE_PLAN, TRAPLINE_REWRITE,
 * TRAPLINE_FOLLOW_EXEC, TRAPLINE_VDSO, TRAPLINE_ENTRY, TRAPLINE_POLICY. The launcher hands the settings to
 * trapline and the rest to the program (adding LD_PRELOAD only the preload way). Expects options
 * checked by checkSpawn; throws OptionError (named by names) where the plan cache, a
 * verified plan or the statistics segment cannot be used, TraplineError if the library
 * is not built.
 */
export function buildEnv(opts: RunOptions = {}, names: OptionNames = API_NAMES): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  if (opts.mode !== undefined) env.TRAPLINE_MODE = opts.mode === 'eager' ? 'lazy' : opts.mode;
  if (opts.allowNullReads !== undefined) env.TRAPLINE_ALLOW_NULL_READS = opts.allowNullReads ? '1' : '0';
  const plan = effectivePlan(opts.mode, opts.plan);
  if (plan === 'auto') {
    const dir = planCacheDir(env);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new OptionError('plan', `${names('plan')}: cannot create the plan cache ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    env.TRAPLINE_PLAN = resolve(dir);
  } else if (plan !== undefined) {
    env.TRAPLINE_PLAN = resolve(plan);
  }
  if (opts.rewrite !== undefined) {
    env.TRAPLINE_REWRITE = opts.rewrite;
    if (opts.rewrite === 'verified' && plan !== undefined) env.TRAPLINE_PLAN = verifiedPlanFile(env.TRAPLINE_PLAN!, plan === 'auto', env, names);
  }
  if (opts.hook !== undefined) env.TRAPLINE_HOOK = resolve(opts.hook);
  delete env.TRAPLINE_STATS_COOKIE;   // only ever the cookie of the segment checked here
  if (opts.stats !== undefined) {
    const file = resolve(opts.stats);
    let exists = true;
    try {
      lstatSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new OptionError('statsFile', `${names('statsFile')}: ${opts.stats}: cannot be examined (${code ?? String(e)})`);
      exists = false;
    }
    if (exists) {
      if (!opts.statsAppend) {
        throw new OptionError('statsFile', `${names('statsFile')}: ${opts.stats} already exists (a run writes a new segment; ${names('statsAppend', 'usage')} adds this run to it)`);
      }
      let id;
      try {
        id = readSegmentIdentity(file);
      } catch (e) {
        throw new OptionError('statsAppend', `${names('statsAppend')}: ${(e as Error).message.replace(/^trapline: stats file /, '')}`);
      }
      const mode = opts.mode === undefined ? undefined : opts.mode === 'eager' ? 'lazy' : opts.mode;
      if (mode !== undefined && mode !== id.mode) {
        throw new OptionError('statsAppend', `${names('statsAppend')}: ${opts.stats} holds a ${id.mode} run; this one asks for mode ${opts.mode}`);
      }
      const policy = opts.rewrite ?? 'all';
      if (policy !== id.policy) {
        throw new OptionError('statsAppend', `${names('statsAppend')}: ${opts.stats} holds a run with rewrite policy ${id.policy}; this one asks for ${policy}`);
      }
      env.TRAPLINE_STATS_COOKIE = id.cookie;
    }
    env.TRAPLINE_STATS = file;
  }
  if (opts.followExec !== undefined) env.TRAPLINE_FOLLOW_EXEC = opts.followExec ? '1' : '0';
  if (opts.vdso !== undefined) env.TRAPLINE_VDSO = opts.vdso;
  if (opts.entry !== undefined) env.TRAPLINE_ENTRY = opts.entry;
  if (opts.policy !== undefined) env.TRAPLINE_POLICY = opts.policy;
  libraryPath();   // built? (the launcher finds it beside itself)
  return env;
}

/**
 * --rewrite verified does not take a plan's word that a site is scanner-confirmed: the
 * plan (a file, or every module of the cache directory) is checked against fresh scans of
 * the module files (verifiedPlan) and the result is written, content-addressed, to
 * <plan cache>/verified/<sha256>.plan, which the library is given instead.
 */
function verifiedPlanFile(planPath: string, isDir: boolean, env: NodeJS.ProcessEnv, names: OptionNames): string {
  let plan: Plan = emptyPlan();
  if (isDir) {
    let names: string[] = [];
    try { names = readdirSync(planPath); } catch { /* an empty cache */ }
    for (const name of names.sort()) {
      const id = name.endsWith('.plan') ? name.slice(0, -5) : '';
      if (!isPlanBuildId(id)) continue;
      try {
        const p = readPlanFile(join(planPath, name));
        const m = p.modules.get(id);
        if (m) mergePlan(plan, { modules: new Map([[id, m]]) });
      } catch { /* the library ignores a bad cache file too */ }
      if (plan.modules.size >= 4096) break;
    }
  } else {
    try { plan = readPlanFile(planPath); } catch (e) { throw new OptionError('plan', `${names('plan')}: ${(e as Error).message}`); }
  }
  const text = formatPlan(verifiedPlan(plan, scanCacheDir(env)));
  const dir = join(planCacheDir(env), 'verified');
  const file = join(dir, `${createHash('sha256').update(text).digest('hex')}.plan`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp.${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    throw new OptionError('rewrite', `${names('rewrite')}: cannot write the verified plan ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return file;
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
/** An ELF file that is not an x86-64 program: trapline cannot enter it. */
function foreignElf(path: string): boolean {
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); } catch { return false; }
  try {
    const h = Buffer.alloc(20);
    if (readSync(fd, h, 0, 20, 0) !== 20 || h.readUInt32BE(0) !== 0x7f454c46) return false;
    return h[4] !== 2 || h.readUInt16LE(18) !== 62;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

export function uninterposableReason(path: string): string | undefined {
  let mode: number;
  try { mode = statSync(path).mode; } catch { return undefined; }
  if (mode & 0o4000) return 'setuid';
  if ((mode & 0o2000) && (mode & 0o010)) return 'setgid';
  if (fileCaps(path)) return 'a program with file capabilities';
  if (foreignElf(path)) return 'not an x86-64 program (32-bit or another machine)';
  return undefined;
}

/** Starts program (looked up in PATH) under the interposer, with options checked by
 *  checkSpawn (buildEnv's errors are named by names). */
export function spawnProgram(program: string, args: readonly string[] = [], opts: RunOptions = {}, names: OptionNames = API_NAMES): ChildProcess {
  const env = buildEnv(opts, names);
  const stdio: StdioOptions = opts.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'inherit';
  // a program that is not there fails to start, as without trapline (ENOENT from spawn)
  const path = resolveProgram(program, env, opts.cwd);
  if (path === undefined || !existsSync(path)) return spawn(program, args, { env, cwd: opts.cwd, stdio });
  // the launcher becomes the program (same pid); it looks program up in PATH as execvp
  return spawn(launcherPath(), ['--', program, ...args], { env, cwd: opts.cwd, stdio });
}

/**
 * Runs program (looked up in PATH) under the interposer. Resolves with its exit code or
 * terminating signal; rejects if it cannot be started (e.g. ENOENT). Used by the tests to
 * start a program with a given environment; spawn() (api.ts) is the checked entry.
 */
export async function runProgram(program: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawnProgram(program, args, opts);
  return waitProgram(child);
}

/** Moves what a paused stream has buffered, then what its pipe holds right now, into out. */
function drain(stream: Readable, out: Buffer[]): void {
  let chunk: Buffer | null;
  while ((chunk = stream.read() as Buffer | null) !== null) out.push(chunk);
  const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return;
  const buf = Buffer.allocUnsafe(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);   // non-blocking (libuv): EAGAIN when empty
    } catch {
      return;
    }
    if (n <= 0) return;
    out.push(Buffer.from(buf.subarray(0, n)));
  }
}

/**
 * Waits for a child from spawnProgram; collects its output if it was started with stdio
 * 'pipe'. Resolves when the program exits: output still in the pipes then is read at once,
 * and a process it left behind holding them (a daemon) is not waited for; what that one
 * writes later is read and dropped while this process lives.
 */
export function waitProgram(child: ChildProcess): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const onOut = (d: Buffer) => out.push(d);
  const onErr = (d: Buffer) => err.push(d);
  child.stdout?.on('data', onOut);
  child.stderr?.on('data', onErr);
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!child.stdout && !child.stderr) {
        resolvePromise({ code, signal });
        return;
      }
      for (const [stream, to, on] of [[child.stdout, out, onOut], [child.stderr, err, onErr]] as const) {
        if (!stream) continue;
        stream.off('data', on);
        stream.pause();
        drain(stream, to);
        // keep reading (a daemon's writes must not block or fail), without holding us up
        stream.on('data', () => {}).on('error', () => {});
        stream.resume();
        (stream as unknown as { unref?: () => void }).unref?.();
      }
      const text = (b: Buffer[]) => Buffer.concat(b).toString('utf8');
      resolvePromise({ code, signal, stdout: text(out), stderr: text(err) });
    });
  });
}
