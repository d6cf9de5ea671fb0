// Issue 11 (part): vfork children with and without hooks, handlers that leave by
// siglongjmp while trapline's stack is in use, signal storms and signals at every
// instruction of the entry/exit paths, and SIGSYS the program sends itself while blocked.
import { describe, expect, it } from 'vitest';
import { hookLibrary, nrStats, run, testProgram } from './helpers.js';

const GETPPID = 110;
const modes = ['lazy', 'sud-only'] as const;
const hooks: [string, string | undefined][] = [
  ['no hook', undefined],
  ['zpoline-ABI hook', hookLibrary('zphook')],
  ['trapline.h hook', hookLibrary('counthook')],
];

describe('vfork: the parent is exactly as before the child', () => {
  for (const mode of modes) {
    for (const [hname, hook] of hooks) {
      for (const how of ['exit', 'exec', 'execfail'] as const) {
        it(`${mode}, ${hname}: 30 vfork children call through the interposer, then ${how}`, async () => {
          const n = 30;
          const r = await run(testProgram('vforkh'), ['vfork', how, String(n)], { mode, hook });
          // the program checks its registers, locals, and that calls from sites it never ran
          // before still give what the hook made them give before any vfork
          expect(r.stdout).toBe(`ok ${n}\n`);
          expect(r.code).toBe(0);
          // the parent's own exit status in the report, never a child's
          const parent = r.stats!.processList[0];
          expect(parent?.exitCode).toBe(0);
          // every call counted once: the parent's 2 + n, and 1 per child (+10 after exec)
          const s = nrStats(r.stats, GETPPID);
          expect(s.trap + s.fast).toBe(2 + n + n * (how === 'exec' ? 11 : 1));
          expect(r.stats!.processes).toBe(how === 'exec' ? 1 + n : 1);
        });
      }
    }
  }

  // (not counthook: its getuid of 31337 makes dash drop root, and then the children cannot
  // join the root-owned statistics file)
  const vforkCases = modes.flatMap((mode) => hooks.slice(0, 2).map(([name, hook]) => [mode, name, hook] as const));
  it.each(vforkCases)('%s, %s: sh running vfork-heavy children in parallel: every getppid counted exactly', async (mode, _name, hook) => {
    const count = testProgram('count');
    // dash runs foreground commands with vfork; 4 subshells in parallel, 25 children each
    const script = `for i in 1 2 3 4; do ( for j in $(seq 25); do ${count} 200 >/dev/null || echo bad; done ) & done; wait`;
    const r = await run('/bin/sh', ['-c', script], { mode, hook });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
    const s = nrStats(r.stats, GETPPID);
    expect(s.trap + s.fast).toBe(1 + 4 * 25 * 200);    // + dash's own getppid at start-up
    expect(r.stats!.processList[0]?.exitCode).toBe(0);
  });
});

describe('a handler that leaves by siglongjmp while trapline\'s code is on the stack', () => {
  const hows = ['raise', 'kill', 'pthread_kill', 'timer'] as const;
  const variants: string[][] = [[], ['alt'], ['nested'], ['alt', 'nested']];
  for (const mode of modes) {
    for (const [hname, hook] of hooks.slice(0, 2)) {
      it(`${mode}, ${hname}: unbounded escapes (raise, kill, pthread_kill, timer; sigaltstack, nested)`, async () => {
        for (const how of hows) {
          for (const v of variants) {
            // 100,000 on the hook path (20,000 on the slower trap path) once per mode and
            // hook, 1,000 each other way: a leak of our stack exhausted it within a handful
            const n = how === 'raise' && v.length === 0 ? (mode === 'lazy' ? 100000 : 20000) : 1000;
            const r = await run(testProgram('sigrace'), ['ljmp', how, String(n), ...v], { mode, hook });
            expect(`${how} ${v.join(' ')}: ${r.stdout}`).toBe(`${how} ${v.join(' ')}: ok ${n}\n`);
            expect(r.code).toBe(0);
          }
        }
      }, 60000);
    }
  }
});

describe('signals landing anywhere in the entry, exit and hook paths', () => {
  it('signal storm: 50 us timer whose handler makes calls vs 300,000 hooked calls, 8 runs', async () => {
    for (let i = 0; i < 8; i++) {
      const mode = i === 7 ? 'sud-only' : 'lazy';
      const n = mode === 'sud-only' ? 100000 : 300000;
      const r = await run(testProgram('sigrace'), ['storm', String(n)], { mode, hook: hookLibrary(i % 2 ? 'zphook' : 'counthook') });
      expect(`${i}: ${r.stdout}`).toBe(`${i}: ok ${n}\n`);
      expect(r.code).toBe(0);
    }
  }, 60000);

  for (const mode of modes) {
    for (const [hname, hook] of hooks.slice(0, 2)) {
      it(`${mode}, ${hname}: a signal whose handler makes calls, delivered at every instruction (ptrace single-step)`, async () => {
        const r = await run(testProgram('sigrace'), ['step', '2'], { mode, hook });
        expect(r.stdout).toBe('ok many\n');
        expect(r.code).toBe(0);
      }, 30000);
    }
  }
});

describe('SIGSYS sent to itself while blocked stays pending, as without trapline', () => {
  for (const c of ['kill', 'tgkill', 'pthread_kill', 'sigqueue', 'ignore', 'twice', 'default']) {
    it.each(modes)(`${c} (%s)`, async (mode) => {
      const native = await run(testProgram('sigrace'), ['sigsys', c], { mode: 'native' });
      if (c === 'default') expect(native.signal).toBe('SIGSYS');
      else expect(native.stdout).toMatch(/handler ran/);
      for (const [, hook] of hooks.slice(0, 2)) {
        const r = await run(testProgram('sigrace'), ['sigsys', c], { mode, hook });
        expect(r.stdout).toBe(native.stdout);
        expect([r.code, r.signal]).toEqual([native.code, native.signal]);
      }
    });
  }
});
