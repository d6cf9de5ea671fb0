// The entry code's call frame information (core/entry.S, core/frame_asm.h): a debugger
// stopped inside trapline, or in a hook, unwinds through our frames into the program, in
// each way a call reaches C. gdb (batch mode) runs test/c/backtrace.c under the library,
// stops at bt_marker (after the first call, which trapped and, in lazy mode, rewrote the
// site), sets a breakpoint inside trapline, and takes a backtrace during the second call:
// it must reach the function that made the call and main, without a broken frame.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hookLibrary, needsAddress0, testProgram } from './helpers.js';
import { libraryPath } from '../ts/src/index.js';

const GDB = ['/usr/bin/gdb', '/usr/local/bin/gdb'].find((p) => existsSync(p));
if (!GDB) console.log('note: gdb is not installed (apt-get install gdb): the backtrace tests are skipped');

interface Case {
  name: string;
  mode: 'lazy' | 'sud-only';
  stop: string;                 // where the debugger stops inside trapline (or the hook)
  hook?: string;
  how?: 'int80' | 'special';
  caller?: string;              // the function that made the call
}

const cases: Case[] = [
  { name: 'sud-only, trap path: tl_dispatch', mode: 'sud-only', stop: 'tl_dispatch' },
  { name: 'sud-only, the SIGSYS handler (signal frame)', mode: 'sud-only', stop: 'on_sigsys' },
  { name: 'sud-only, a hook on the trap path', mode: 'sud-only', stop: 'trapline_hook', hook: 'passhook' },
  { name: 'sud-only, int $0x80: tl_dispatch_i386', mode: 'sud-only', stop: 'tl_dispatch_i386', how: 'int80', caller: 'bt_make_call80' },
  { name: 'lazy, fast path: the syscall instruction', mode: 'lazy', stop: 'tl_fast_syscall_insn' },
  { name: 'lazy, a handled number from a rewritten site: tl_dispatch', mode: 'lazy', stop: 'tl_dispatch', how: 'special' },
  { name: 'lazy, hooked entry: the hook', mode: 'lazy', stop: 'trapline_hook', hook: 'passhook' },
];

function gdb(c: Case): Promise<{ out: string; code: number | null }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TRAPLINE_') || k === 'LD_PRELOAD') delete env[k];
  // the inferior alone gets the library and its settings (not gdb, not a shell)
  const inferior: Record<string, string> = { LD_PRELOAD: libraryPath(), TRAPLINE_MODE: c.mode, TRAPLINE_QUIET: '1' };
  if (c.mode === 'lazy') inferior.TRAPLINE_ALLOW_NULL_READS = '1';
  if (c.hook) inferior.TRAPLINE_HOOK = hookLibrary(c.hook);
  const args = ['-nx', '-batch', '-ex', 'set startup-with-shell off', '-ex', 'set breakpoint pending on',
    '-ex', 'handle SIGSYS nostop noprint pass', '-ex', 'handle SIGSEGV nostop noprint pass',
    ...Object.entries(inferior).flatMap(([k, v]) => ['-ex', `set environment ${k}=${v}`]),
    '-ex', 'break bt_marker', '-ex', 'run', '-ex', `break ${c.stop}`, '-ex', 'continue', '-ex', 'bt', '-ex', 'kill',
    '--args', testProgram('backtrace'), ...(c.how ? [c.how] : [])];
  return new Promise((resolve) => {
    execFile(GDB!, args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ out: `${stdout}${stderr}`, code: err ? (typeof err.code === 'number' ? err.code : -1) : 0 }));
  });
}

describe('a debugger backtraces from inside trapline into the program', () => {
  it.for(cases)('$name', async (c, ctx) => {
    const skip = (why: string) => { console.log(`skipped "${c.name}": ${why}`); ctx.skip(why); };
    if (c.mode === 'lazy') needsAddress0();
    if (!GDB) return skip('gdb is not installed (apt-get install gdb)');
    const { out } = await gdb(c);
    if (/ptrace: Operation not permitted|Could not trace the inferior/.test(out))
      return skip('this machine does not let gdb trace a process');
    const frames = out.split('\n').filter((l) => /^#\d+\s/.test(l));
    const at = (re: RegExp) => frames.findIndex((l) => re.test(l));
    const caller = c.caller ?? 'bt_make_call';
    expect(frames.length, out).toBeGreaterThan(0);
    expect(frames[0], out).toContain(c.stop === 'tl_fast_syscall_insn' ? 'tl_fast_entry' : c.stop);
    const callerAt = at(new RegExp(`\\b${caller} \\(`));
    const mainAt = at(/\bmain \(/);
    expect(callerAt, out).toBeGreaterThan(0);
    expect(mainAt, out).toBeGreaterThan(callerAt);
    expect(out).not.toMatch(/Backtrace stopped|corrupt stack/);
  });
});
