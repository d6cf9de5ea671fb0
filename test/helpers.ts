// Shared helpers for the vitest suites: run built test programs under the interposer and
// read the statistics segment they leave behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, type TestContext } from 'vitest';
import { spawn } from 'node:child_process';
import { libraryPath, probe, run as apiRun, spawn as apiSpawn, readStats, type StatsSnapshot } from '../ts/src/index.js';
import { packageRoot } from '../ts/src/paths.js';
import { runProgram, waitProgram, type RunResult } from '../ts/src/run.js';
import { hookLibrary, testProgram } from './fixtures.js';

export { testProgram, hookLibrary };

const dir = mkdtempSync(join(tmpdir(), 'trapline-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

/** A fresh path for a statistics segment. */
export function statsPath(): string {
  return join(dir, `stats-${process.pid}-${seq++}`);
}

export interface Run extends RunResult {
  stdout: string;
  stderr: string;
  stats?: StatsSnapshot;
}

/** native: no interposer; raw: only LD_PRELOAD (configuration from opts.env alone);
 * lazy: the rewriting mode, on any CPU (with --allow-null-reads where page 0 cannot be made
 * execute-only); default: no mode given, the library chooses (lazy with protection keys,
 * sud-only without). */
export type Mode = 'native' | 'raw' | 'lazy' | 'sud-only' | 'default';

/** What this machine offers, probed once. */
export const machine = (() => {
  const p = probe();
  return { pkeys: p.pkeys, zeroMappable: p.zeroMappable };
})();
if (!machine.zeroMappable) console.log('note: address 0 cannot be mapped here; tests of the rewriting modes are skipped');

let current: TestContext | undefined;
/** Called before each test (test/setup.ts): the test a helper may skip. */
export function setCurrentTest(ctx: TestContext): void {
  current = ctx;
}

/** Skips the running test, with the reason printed, where address 0 cannot be mapped: the
 *  rewriting modes (lazy, eager, plans) then do not exist on this machine. */
export function needsAddress0(): void {
  if (machine.zeroMappable) return;
  const why = 'address 0 cannot be mapped on this machine (vm.mmap_min_addr > 0 without CAP_SYS_RAWIO): no rewriting mode';
  console.log(`skipped "${current?.task.name ?? '?'}": ${why}`);
  current?.skip(why);
}

const wantsRewriting = (env: NodeJS.ProcessEnv | undefined) =>
  env?.TRAPLINE_ALLOW_NULL_READS === '1' || env?.TRAPLINE_MODE === 'lazy' || env?.TRAPLINE_PLAN !== undefined;

/** The API's run() and spawn(), skipping the test where a rewriting mode is asked for and
 *  this machine has none. */
export const runApi: typeof apiRun = (program, args, options) => {
  if (options?.allowNullReads || options?.mode === 'lazy' || options?.mode === 'eager' || options?.plan !== undefined) needsAddress0();
  return apiRun(program, args, options);
};
export const spawnApi: typeof apiSpawn = (program, args, options) => {
  if (options?.allowNullReads || options?.mode === 'lazy' || options?.mode === 'eager' || options?.plan !== undefined) needsAddress0();
  return apiSpawn(program, args, options);
};

/** The mode the library picks when none is given. */
export const defaultMode: 'lazy' | 'sud-only' = machine.pkeys && machine.zeroMappable ? 'lazy' : 'sud-only';

/** Runs a program natively or under trapline (with a statistics segment). */
export async function run(program: string, args: string[] = [], opts: { mode?: Mode; hook?: string; env?: NodeJS.ProcessEnv; entry?: 'first' | 'preload' } = {}): Promise<Run> {
  const mode = opts.mode ?? 'lazy';
  if (mode === 'lazy' || (mode === 'raw' && wantsRewriting(opts.env))) needsAddress0();
  const env = { ...process.env, ...(opts.env ?? {}) };
  for (const k of Object.keys(env)) if (k.startsWith('TRAPLINE_') && !(opts.env && k in opts.env)) delete env[k];
  if (mode === 'native') {
    delete env.LD_PRELOAD;
    const r = await waitProgram(spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    return { ...r, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }
  if (mode === 'raw') {
    const r = await waitProgram(spawn(program, args, { env: { ...env, LD_PRELOAD: libraryPath() }, stdio: ['ignore', 'pipe', 'pipe'] }));
    return { ...r, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }
  const stats = statsPath();
  const r = await runProgram(program, args, {
    stdio: 'pipe', env, mode: mode === 'default' ? undefined : mode, hook: opts.hook, stats, entry: opts.entry,
    allowNullReads: mode === 'lazy' ? true : undefined,
  });
  let snapshot: StatsSnapshot | undefined;
  try { snapshot = readStats(stats); } catch { snapshot = undefined; }
  return { ...r, stdout: r.stdout ?? '', stderr: r.stderr ?? '', stats: snapshot };
}

/** stderr without the one-line note a run prints where it falls back to sud-only because the
 * CPU has no protection keys. */
export function withoutModeNote(stderr: string): string {
  return stderr.replace(/^trapline: note: this CPU has no protection keys.*\n/m, '');
}

/** Counters for one syscall number (zeros if never seen). */
export function nrStats(s: StatsSnapshot | undefined, nr: number): { trap: number; fast: number; errors: number } {
  const e = s?.perNr.find((x) => x.nr === nr);
  return e ? { trap: e.trap, fast: e.fast, errors: e.errors } : { trap: 0, fast: 0, errors: 0 };
}

/** The built CLI (dist/cli.js). */
export const cli = `${packageRoot()}/dist/cli.js`;

/** Runs the CLI with env added to a copy of ours from which every other TRAPLINE_* is removed. */
export function trapline(args: string[], env: NodeJS.ProcessEnv = {}) {
  const modeAt = args.indexOf('--mode');
  if (args.includes('--allow-null-reads') || (modeAt >= 0 && args[modeAt + 1] !== 'sud-only')) needsAddress0();
  const e = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (k.startsWith('TRAPLINE_') && !(k in env)) delete e[k];
  return waitProgram(spawn(process.execPath, [cli, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] })) as Promise<{
    code: number | null; signal: string | null; stdout: string; stderr: string;
  }>;
}
