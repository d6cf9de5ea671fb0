// Policy scopes follow the caller of libc (docs/policies.md, Scope): a call whose syscall
// instruction is in libc (or the dynamic loader, libpthread, ...) is checked against the
// first frame outside those libraries, found by unwinding with libc's own .eh_frame. The
// program test/c/polcaller.c and its plugin test/hooks/polcallplug.c make the same calls
// (socket, fopen -> openat several frames deep, connect) through the same libc sites.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSCALL_NAMES } from '../ts/src/syscalls.js';
import type { TraceEvent } from '../ts/src/index.js';
import { hookLibrary, runApi, testProgram, trapline, withoutModeNote } from './helpers.js';

const P = testProgram('polcaller');
const PLUGIN = hookLibrary('polcallplug');
const work = mkdtempSync(join(tmpdir(), 'trapline-polcaller-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const FILE = join(work, 'data');
writeFileSync(FILE, 'x\n');
const nameOf = (e: TraceEvent) => SYSCALL_NAMES[e.nr] ?? String(e.nr);

/** polcaller's output with each of its six calls' result (connect: ENOENT natively, EBADF
 *  on the fd of a failed socket) */
const out = (r: Record<string, string>) =>
  ['main', 'plugin'].flatMap((who) => ['socket', 'fopen', 'connect'].map((c) => {
    const dflt = c !== 'connect' ? 'ok' : r[`${who} socket`] ? 'EBADF' : 'ENOENT';
    return `${who} ${c}: ${r[`${who} ${c}`] ?? dflt}\n`;
  })).join('');

const modes = [['sud-only', {}], ['lazy', { allowNullReads: true }]] as const;

describe.each(modes)('%s: a rule scoped to a module selects the calls that module makes through libc', (_mode, mopts) => {
  it('deny scoped to the plugin: the plugin gets EACCES, the main program does not', async () => {
    const r = await runApi(P, [PLUGIN, FILE], {
      deny: [{ calls: ['socket', 'openat', 'connect'], error: 'EACCES', from: 'libpolcallplug.so' }], stdio: 'pipe', ...mopts,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(out({ 'plugin socket': 'EACCES', 'plugin fopen': 'EACCES', 'plugin connect': 'EACCES' }));
    expect(r.coverage?.callerFallback).toBe(0);
  });

  it('deny scoped to the main program (by origin, and by name): main gets EACCES, the plugin does not', async () => {
    // openat is left out: dlopen is main's call, and the loader's openat would be denied
    for (const from of ['@main', 'polcaller']) {
      const r = await runApi(P, [PLUGIN, FILE], { deny: [{ calls: ['socket', 'connect'], error: 'EACCES', from }], stdio: 'pipe', ...mopts });
      expect(r.stdout).toBe(out({ 'main socket': 'EACCES', 'main connect': 'EACCES' }));
    }
  });

  it('@dlopen: the plugin\'s calls; @startup (libc\'s own origin) no longer takes the calls libc makes for others', async () => {
    const a = await runApi(P, [PLUGIN, FILE], { deny: [{ calls: ['socket'], error: 'EPERM', from: '@dlopen' }], stdio: 'pipe', ...mopts });
    expect(a.stdout).toBe(out({ 'plugin socket': 'EPERM' }));
    const b = await runApi(P, [PLUGIN, FILE], { deny: [{ calls: ['socket'], error: 'EPERM', from: '@startup' }], stdio: 'pipe', ...mopts });
    expect(b.stdout).toBe(out({}));
  });

  it('@jit: anonymous code calling libc\'s getppid() is JIT code\'s caller', async () => {
    const r = await runApi(P, [PLUGIN, 'jit'], { deny: [{ calls: ['getppid'], error: 'EACCES', from: '@jit' }], stdio: 'pipe', ...mopts });
    expect(r.stdout).toBe('main: ok\njit: EACCES\n');
    const m = await runApi(P, [PLUGIN, 'jit'], { deny: [{ calls: ['getppid'], error: 'EPERM', from: '@main' }], stdio: 'pipe', ...mopts });
    expect(m.stdout).toBe('main: EPERM\njit: ok\n');
  });

  it('a rule naming libc itself keeps selecting every call at libc\'s sites', async () => {
    const r = await runApi(P, [PLUGIN, FILE], { deny: [{ calls: ['socket'], error: 'EACCES', from: 'libc.so*' }], stdio: 'pipe', ...mopts });
    expect(r.stdout).toBe(out({ 'main socket': 'EACCES', 'plugin socket': 'EACCES' }));
  });

  it('trace scoped to the plugin records only the plugin\'s calls (their site: libc)', async () => {
    const r = await runApi(P, [PLUGIN, FILE], { trace: { calls: ['socket', 'openat', 'connect'], from: 'libpolcallplug.so' }, stdio: 'pipe', ...mopts });
    expect(r.stdout).toBe(out({}));
    const ev = r.events ?? [];
    expect(ev.map((e) => [nameOf(e), e.site.module?.split('/').pop()])).toEqual([
      ['socket', 'libc.so.6'], ['openat', 'libc.so.6'], ['connect', 'libc.so.6'],
    ]);
    expect(ev[1]?.data.find((d) => d.arg === 1)?.bytes.toString()).toBe(FILE);
    expect(r.coverage?.callerFallback).toBe(0);
  });

  it('with a hook loaded (the stack read by process_vm_readv): the same attribution', async () => {
    const r = await runApi(P, [PLUGIN, FILE], {
      hook: hookLibrary('passhook'), deny: [{ calls: ['socket', 'openat', 'connect'], error: 'EACCES', from: 'libpolcallplug.so' }],
      stdio: 'pipe', ...mopts,
    });
    expect(r.stdout).toBe(out({ 'plugin socket': 'EACCES', 'plugin fopen': 'EACCES', 'plugin connect': 'EACCES' }));
    expect(r.coverage?.callerFallback).toBe(0);
  });

  it('the same libc site alternates between callers, call after call', async () => {
    // main's getppid() through libc's syscall(), 3000 times, with a rule for the plugin on
    // getppid: none is denied, none falls back (a rewritten libc site stays in C)
    const r = await runApi(P, [PLUGIN, FILE, '3000'], {
      deny: [{ calls: ['getppid', 'socket'], error: 'EACCES', from: 'libpolcallplug.so' }], stdio: 'pipe', ...mopts,
    });
    expect(r.stdout).toBe(out({ 'plugin socket': 'EACCES' }) + 'loop done\n');
    expect(r.coverage?.callerFallback).toBe(0);
  });
});

describe.each(modes)('%s: where the caller cannot be found', (_mode, mopts) => {
  it('glibc\'s clone3 (no CFI at its syscall): checked against libc, and counted', async () => {
    const r = await runApi(P, [PLUGIN, 'thread'], { deny: [{ calls: ['clone3'], error: 'EACCES', from: 'libpolcallplug.so' }], stdio: 'pipe', ...mopts });
    expect(r.stdout).toBe('plugin thread: ok\n');
    expect(r.coverage?.callerFallback).toBe(1);
  });
});

describe('the CLI spells it --from', () => {
  it('trapline trace --from libpolcallplug.so -e deny=...', async () => {
    const r = await trapline(['trace', '-o', join(work, 'cli.trace'), '--from', 'libpolcallplug.so', '-e', 'deny=socket,openat:error=EACCES', '--', P, PLUGIN, FILE]);
    expect(withoutModeNote(r.stderr)).toBe('');
    expect(r.stdout).toBe(out({ 'plugin socket': 'EACCES', 'plugin fopen': 'EACCES', 'plugin connect': 'EBADF' }));
    expect(r.code).toBe(0);
  });
});
