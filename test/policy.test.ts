// Built-in policies (issue 16, docs/policies.md): trace, inject and deny rules evaluated in
// the core, scoped to the code that makes the call, with the trace read from shared memory
// while the program runs. Real programs throughout (test/c/polcalls.c, the plugin
// test/hooks/polplugin.c, the hook test/hooks/polhook.c); strace (/usr/bin/strace) is the
// reference for the inject semantics and for the traced call sequence.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError, type TraceEvent } from '../ts/src/index.js';
import { parseElf } from '../ts/src/elf.js';
import { runProgram } from '../ts/src/run.js';
import { SYSCALL_NAMES } from '../ts/src/syscalls.js';
import { createSegment, policyText, ringSizeFor, TraceReader } from '../ts/src/trace.js';
import * as policyModule from '../ts/src/policy/index.js';

/** true while this branch carries the placeholder of polts' module (ts/src/policy/index.ts) */
const POLICY_PLACEHOLDER = (policyModule as Record<string, unknown>).POLICY_PLACEHOLDER === true;
/** polts' description of what the core captures (ts/src/policy/capture.ts), once merged */
const CAPTURES = (policyModule as Record<string, unknown>).CAPTURES as Record<string, unknown[]> | undefined;
import { hookLibrary, needsAddress0, runApi, spawnApi, testProgram, trapline, withoutModeNote } from './helpers.js';

const P = testProgram('polcalls');
const PLUGIN = hookLibrary('polplugin');
const STRACE = '/usr/bin/strace';
const haveStrace = existsSync(STRACE);
const work = mkdtempSync(join(tmpdir(), 'trapline-policy-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const nr = (name: string): number => Number(Object.entries(SYSCALL_NAMES).find(([, n]) => n === name)?.[0]);
const nameOf = (e: TraceEvent) => SYSCALL_NAMES[e.nr] ?? String(e.nr);
const pathOf = (e: TraceEvent, arg: number) => e.data.find((d) => d.arg === arg && d.dir === 'in')?.bytes.toString('utf8');

/** the program under strace (native), with its stderr kept apart from strace's (-o) */
function underStrace(expr: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(STRACE, ['-qq', '-o', '/dev/null', '-e', expr, P, ...args], { encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('inject: the examples of strace\'s manual behave as under strace', () => {
  const cases: [string, string[]][] = [
    ['inject=openat:error=ENOENT:when=3+', ['open', '/etc/hostname', '3']],   // ld.so's two openat, then the program's
    ['inject=openat:error=ENOENT:when=4', ['open', '/etc/hostname', '3']],
    ['inject=read:retval=0:when=2+', ['read', '/etc/hostname']],               // read returns EOF (ld.so's read is #1)
    ['inject=write:retval=1:when=1', ['write']],                              // a short write
    ['inject=getpid:signal=SIGUSR1:when=2..4', ['signal', '6']],              // a signal on calls 2, 3 and 4
    ['inject=getppid:delay_enter=150000', ['delay']],                        // the call takes at least 150 ms
    ['fault=openat:when=3', ['open', '/etc/hostname', '2']],                  // fault: ENOSYS by default
  ];
  for (const mode of ['default', 'lazy'] as const) {
    for (const [expr, args] of cases) {
      it.skipIf(!haveStrace)(`${mode}: -e ${expr} (polcalls ${args.join(' ')})`, async () => {
        if (mode === 'lazy') needsAddress0();
        const ref = underStrace(expr, args);
        expect(ref.status).toBe(0);
        const r = await trapline(['run', ...(mode === 'lazy' ? ['--allow-null-reads'] : []), '-e', expr, '--', P, ...args]);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(ref.stdout);
        expect(withoutModeNote(r.stderr)).toBe(ref.stderr);
        expect(r.stdout + r.stderr).not.toBe('');
      });
    }
  }
});

describe('deny', () => {
  it('fails the selected calls without performing them (errno given, EPERM by default)', async () => {
    const a = await runApi(P, ['plugin', PLUGIN], { deny: ['socket:error=EACCES'], stdio: 'pipe' });
    expect(a.stdout).toBe('main: EACCES\nplugin: EACCES\n');
    const b = await runApi(P, ['plugin', PLUGIN], { deny: [{ calls: ['socket'] }], stdio: 'pipe' });
    expect(b.stdout).toBe('main: EPERM\nplugin: EPERM\n');
  });

  for (const mode of ['default', 'lazy'] as const) {
    it(`${mode}: kill=1 kills the process with SIGSYS at the call, which is traced`, async () => {
      const r = await runApi(P, ['delay'], {
        deny: [{ calls: ['getppid'], kill: true }], trace: { calls: ['getppid', 'exit_group'] }, stdio: 'pipe',
        ...(mode === 'lazy' ? { allowNullReads: true } : {}),
      });
      expect(r.signal).toBe('SIGSYS');
      expect(r.stdout).toBe('');
      expect(r.events?.map((e) => [nameOf(e), e.policy])).toEqual([['getppid', 'denied']]);
    });
  }
});

describe('scope: a rule applies only to calls made from where it says', () => {
  const pluginBuildId = (): string => parseElf(readFileSync(PLUGIN)).buildId as string;
  const cases: [string, string | (() => string), string][] = [
    ['the plugin by basename', 'libpolplugin.so', 'main: ok\nplugin: EACCES\n'],
    ['the plugin by a path glob', '*/hooks/libpol*.so', 'main: ok\nplugin: EACCES\n'],
    ['dlopen\'d code', '@dlopen', 'main: ok\nplugin: EACCES\n'],
    ['the main program', '@main', 'main: EACCES\nplugin: ok\n'],
    ['the plugin by build-id', () => `build-id:${pluginBuildId()}`, 'main: ok\nplugin: EACCES\n'],
    ['another process', 'pid:1', 'main: ok\nplugin: ok\n'],
  ];
  for (const mode of ['default', 'lazy'] as const) {
    for (const [what, from, want] of cases) {
      it(`${mode}: deny socket from ${what}`, async () => {
        const r = await runApi(P, ['plugin', PLUGIN], {
          deny: [{ calls: ['socket'], error: 'EACCES', from: typeof from === 'function' ? from() : from }],
          trace: { calls: ['socket'] }, stdio: 'pipe', ...(mode === 'lazy' ? { allowNullReads: true } : {}),
        });
        expect(r.stdout).toBe(want);
        // the trace says where each call came from, and what the rule did
        const ev = r.events ?? [];
        expect(ev.map((e) => [e.site.module?.split('/').pop(), e.ret < 0n ? 'error' : 'ok', e.policy ?? null])).toEqual([
          ['polcalls', want.startsWith('main: ok') ? 'ok' : 'error', want.startsWith('main: ok') ? null : 'denied'],
          ['libpolplugin.so', want.includes('plugin: ok') ? 'ok' : 'error', want.includes('plugin: ok') ? null : 'denied'],
        ]);
      });
    }
  }

  for (const mode of ['default', 'lazy'] as const) {
    it(`${mode}: a scoped rule keeps applying in scope, and only there, call after call`, async () => {
      // main's site leaves C once the rules are found not to apply to it (the fast path keeps
      // it, lazy); the plugin's keeps being denied
      const r = await runApi(P, ['plugin-loop', PLUGIN, '5000'], {
        deny: [{ calls: ['getppid'], error: 'EACCES', from: 'libpolplugin.so' }], stdio: 'pipe',
        ...(mode === 'lazy' ? { allowNullReads: true } : {}),
      });
      expect(r.stdout).toBe('main failed 0, plugin failed 5000\n');
      const t = await runApi(P, ['plugin-loop', PLUGIN, '300'], {
        trace: { calls: ['getppid'], from: 'libpolplugin.so' }, stdio: 'pipe', ...(mode === 'lazy' ? { allowNullReads: true } : {}),
      });
      expect(t.stdout).toBe('main failed 0, plugin failed 0\n');
      expect(t.events?.length).toBe(300);
      expect(t.events?.every((e) => e.site.module?.endsWith('/libpolplugin.so'))).toBe(true);
    });

    it(`${mode}: JIT code's calls can be denied and traced (@jit)`, async () => {
      const r = await runApi(P, ['jit'], {
        deny: [{ calls: ['getppid'], error: 'EPERM', from: '@jit' }], trace: { calls: ['getppid'], from: '@jit' }, stdio: 'pipe',
        ...(mode === 'lazy' ? { allowNullReads: true } : {}),
      });
      expect(r.stdout).toBe('main: ok\njit: EPERM\n');
      expect(r.events?.length).toBe(1);
      const e = r.events?.[0] as TraceEvent;
      expect([nameOf(e), e.site.module, e.ret, e.policy]).toEqual(['getppid', null, -1n, 'denied']);
      expect(e.site.offset % 4096n).toBe(5n);      // anonymous code: the site's address (the stub's syscall at +5)
    });
  }
});

describe('hooks and policies compose', () => {
  it('the hook sees the denied call; api->syscall gives it the decided result, not performed', async () => {
    const r = await runApi(P, ['jit'], {
      hook: hookLibrary('polhook'), deny: [{ calls: ['getppid'], error: 'EACCES', from: '@main' }], trace: { calls: ['getppid'] }, stdio: 'pipe',
    });
    expect(r.stdout).toBe('main: EACCES\njit: ok\n');
    const hookLines = withoutModeNote(r.stderr ?? '').split('\n').filter((l) => l.startsWith('hook: '));
    expect(hookLines[0]).toBe('hook: getppid -> -13');
    expect(hookLines[1]).toMatch(/^hook: getppid -> [1-9][0-9]*$/);
    expect(r.events?.map((e) => [e.ret < 0n ? Number(e.ret) : 'pid', e.policy ?? null])).toEqual([[-13, 'denied'], ['pid', null]]);
  });

  it('an injected error reaches the program through the hook', async () => {
    const r = await runApi(P, ['open', '/etc/hostname', '2'], {
      // the program's own opens (libc's wrapper, or the program by caller): unscoped, the
      // dynamic loader's too would fail (entered at the first instruction, as under strace)
      hook: hookLibrary('polhook'), inject: [{ calls: ['openat'], error: 'ENOENT', from: ['@main', 'libc.so.6'] }], stdio: 'pipe',
    });
    expect(r.stdout).toBe('open 1: ENOENT\nopen 2: ENOENT\n');
  });
});

describe('the trace: lossless by default, lossy when asked', () => {
  for (const mode of ['default', 'lazy'] as const) {
    it(`${mode}: lossless: every one of 200000 calls is recorded while the program runs, in order`, async () => {
      const n = 200000;
      const p = spawnApi(P, ['getppid', String(n)], { trace: { calls: ['getppid'] }, stdio: 'pipe', ...(mode === 'lazy' ? { allowNullReads: true } : {}) });
      let count = 0;
      let last = 0n;
      let ordered = true;
      for await (const e of p.events()) {
        count++;
        if (e.tsNs < last) ordered = false;
        last = e.tsNs;
      }
      const exit = await p.exited;
      expect(exit.stdout).toBe(`done ${n}\n`);
      expect(count).toBe(n);
      expect(ordered).toBe(true);
      expect(exit.trace?.dropped).toBe(0);
    });
  }

  it('lossless with threads: each thread\'s calls, in order per thread', async () => {
    const r = await runApi(P, ['threads', '8', '5000'], { trace: { calls: ['getppid'] }, stdio: 'pipe' });
    expect(r.stdout).toBe('threads done\n');
    const byTid = new Map<number, TraceEvent[]>();
    for (const e of r.events ?? []) byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
    expect(byTid.size).toBe(8);
    for (const list of byTid.values()) {
      expect(list.length).toBe(5000);
      expect(list.every((e, i) => i === 0 || e.tsNs >= (list[i - 1] as TraceEvent).tsNs)).toBe(true);
    }
    expect(r.trace?.dropped).toBe(0);
  });

  it('lossy: a thread whose ring is full drops and counts instead of waiting', async () => {
    // the reader is held up (this process blocks on a FIFO) until the program has made its
    // calls: its ring overflows and, lossy, it drops and goes on. Once the reader has read
    // the ring, the program makes one more call, whose record says how many were dropped.
    const fifo = join(work, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const n = 100000;
    const p = spawnApi(P, ['fifo', String(n), fifo], { trace: { calls: ['getppid'], lossy: true }, stdio: 'pipe' });
    let fd = openSync(fifo, 'r');            // blocks until the program opens it, after its calls
    const b = Buffer.alloc(4);
    expect(readSync(fd, b, 0, 4, null)).toBe(4);
    closeSync(fd);
    const events: TraceEvent[] = [];
    const it = p.events();
    const first = await it.next();             // a poll has read the ring
    events.push(first.value as TraceEvent);
    fd = openSync(fifo, 'w');
    writeSync(fd, 'g');
    closeSync(fd);
    for await (const e of it) events.push(e);
    const exit = await p.exited;
    expect(exit.stdout).toBe(`done ${n + 1}\n`);
    const dropped = exit.trace?.dropped ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(events.length + dropped).toBe(n + 1);
    expect(events.at(-1)?.lostBefore).toBe(dropped);
    expect(events.slice(0, -1).every((e) => e.lostBefore === undefined)).toBe(true);
  });

  it('a lossless program whose reader is gone drops and counts, never hangs', async () => {
    // a segment whose reader is a process that has exited, and nobody reading it
    const dead = spawnSync('true').pid;
    const seg = join(work, 'orphan-trace');
    const cookie = createSegment(seg, { rings: 4, ringSize: ringSizeFor(32), modules: 16 }, dead);
    const file = join(work, 'orphan-policy');
    writeFileSync(file, policyText([{ action: 'trace', nrs: [nr('getppid')], scope: {}, text: 'trace=getppid' }], { strsize: 32, lossy: false, path: seg, cookie }), { mode: 0o600 });
    const r = await runProgram(P, ['getppid', '50000'], { policy: file, stdio: 'pipe' });
    expect(r.stdout).toBe('done 50000\n');
    const reader = new TraceReader(seg);
    const c = reader.counts();
    const kept = reader.poll().length;
    reader.close();
    expect(c.dropped).toBeGreaterThan(0);
    expect(kept + c.dropped).toBe(50000);
  });
});

describe('the trace matches strace -f of a native run, call for call', () => {
  it.skipIf(!haveStrace)('polcalls seq, from the first instruction: names, results, path arguments, per process', async () => {
    // strace: one file per process (-ff), native
    const dir = join(work, 'strace-seq');
    rmSync(dir, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', dir]);
    spawnSync(STRACE, ['-f', '-ff', '-qq', '-o', join(dir, 's'), P, 'seq'], { encoding: 'utf8' });
    const ERRNO: Record<string, number> = { ENOENT: 2, EACCES: 13, EPERM: 1 };
    const PATH_ARG: Record<string, number> = { openat: 1, access: 0, mkdir: 0 };
    type Call = [string, string, string | null];
    const files = execFileSync('ls', [dir], { encoding: 'utf8' }).trim().split('\n').sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
    const native: Call[][] = files.map((f) => {
      const out: Call[] = [];
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const m = /^(\w+)\((.*)\)\s+= (\?|0x[0-9a-f]+|-?[0-9]+)(?: (E[A-Z]+))?/.exec(line);
        if (!m || m[1] === 'execve') continue;
        const name = m[1] as string;
        const ret = m[3] === '?' ? '?' : m[4] ? String(-(ERRNO[m[4]] ?? 999)) : m[3] as string;
        const path = PATH_ARG[name] !== undefined ? /"((?:[^"\\]|\\.)*)"/.exec(m[2] as string)?.[1] ?? null : null;
        out.push([name, ret, path]);
      }
      return out;
    });
    const r = await runApi(P, ['seq'], { trace: true, stdio: 'pipe' });
    expect(r.stdout).toBe('seq\n');
    const pids: number[] = [];
    for (const e of r.events ?? []) if (!pids.includes(e.pid)) pids.push(e.pid);
    const traced: Call[][] = pids.map((pid) => (r.events ?? []).filter((e) => e.pid === pid).map((e): Call => {
      const name = nameOf(e);
      const ret = name === 'exit_group' || name === 'exit' ? '?' : e.ret >= 0x10000000n ? `0x${e.ret.toString(16)}` : String(e.ret);
      return [name, ret, PATH_ARG[name] !== undefined ? pathOf(e, PATH_ARG[name]) ?? null : null];
    }));
    // what differs between two runs: addresses and process ids
    const norm = (calls: Call[][], childPid: string) => calls.map((list) => list.map(([n, ret, p]): Call =>
      [n, ret.startsWith('0x') ? 'ADDR' : ret === childPid ? 'CHILD' : ['getppid', 'set_tid_address', 'getpid'].includes(n) ? 'PID' : ret, p]));
    const childOf = (calls: Call[][]) => calls[0]?.find(([n]) => n === 'clone' || n === 'clone3' || n === 'fork')?.[1] ?? '';
    expect(norm(traced, childOf(traced))).toEqual(norm(native, childOf(native)));
    expect(traced.length).toBe(2);
    expect(traced[0]?.some(([n, ret, p]) => n === 'openat' && ret === '-2' && p === '/nonexistent/trapline-policy-test')).toBe(true);
  });

  it('an execve is recorded with its result once the new program runs, before its calls', async () => {
    const r = await runApi('sh', ['-c', 'exec /bin/true'], { trace: { calls: ['execve', 'exit_group'] }, stdio: 'pipe' });
    expect(r.code).toBe(0);
    const calls = (r.events ?? []).map((e) => [nameOf(e), e.ret, nameOf(e) === 'execve' ? pathOf(e, 0) : null]);
    expect(calls).toEqual([['execve', 0n, '/bin/true'], ['exit_group', 0n, null]]);
    const bad = await runApi('sh', ['-c', 'exec /nonexistent/prog; exit 5'], { trace: { calls: ['execve'] }, stdio: 'pipe' });
    expect(bad.code).not.toBe(0);
    expect((bad.events ?? []).map((e) => [nameOf(e), e.ret, pathOf(e, 0)])).toEqual([['execve', -2n, '/nonexistent/prog']]);
  });
});

describe('rules are checked before anything starts', () => {
  it('the API: an OptionError naming the rule', () => {
    for (const [opts, where] of [
      [{ inject: [{ calls: ['nosuchcall'], error: 'ENOENT' }] }, 'options.inject[0]'],
      [{ deny: [{ calls: ['socket'], error: 'ENOTANERRNO' }] }, 'options.deny[0]'],
      [{ inject: ['openat:error=ENOENT:when=x'] }, 'options.inject[0]'],
    ] as const) {
      let err: unknown;
      try { spawnApi(P, ['delay'], opts); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as Error).message).toContain(where);
      expect((err as Error).message).not.toContain('\n');
    }
    // more rules than the core takes
    let err: unknown;
    try {
      spawnApi(P, ['delay'], { deny: Array.from({ length: 65 }, (_, i) => ({ calls: [i < 64 ? SYSCALL_NAMES[i] as string : 'socket'], from: `m${i}.so` })) });
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(OptionError);
    expect((err as Error).message).toContain('64');
  });

  it('the CLI: one line, exit status 2', async () => {
    const r = await trapline(['run', '-e', 'inject=openat:error=ENOTANERRNO', '--', P, 'delay']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^trapline: .*ENOTANERRNO/);
  });

  it('a policy file given by hand that the core refuses: one line naming the file and line, exit 2', async () => {
    const file = join(work, 'bad-policy');
    writeFileSync(file, 'trapline-policy 1\nrule deny nrs=41 error=99999\n');
    const r = await runProgram(P, ['delay'], { policy: file, stdio: 'pipe', entry: 'preload' });
    expect(r.code).toBe(2);
    expect(withoutModeNote(r.stderr ?? '')).toBe(`trapline: TRAPLINE_POLICY: ${file} line 2: error: not an errno value 1..4095\n`);
  });
});

describe('what the core captures', () => {
  it.skipIf(CAPTURES === undefined)('is what the formatter decodes: core/trace_caps.c is capture.ts\'s CAPTURES', () => {
    const fromC = JSON.parse(execFileSync(testProgram('captures'), { encoding: 'utf8' })) as Record<string, unknown[]>;
    expect(fromC).toEqual(JSON.parse(JSON.stringify(CAPTURES)));
  });

  it('paths, buffers, structures, argv and the value-result lengths of a real run', async () => {
    const r = await runApi('sh', ['-c', 'exec /bin/true an-argument "a longer second argument than strsize"'],
      { trace: { calls: ['execve', 'openat', 'read', 'newfstatat'], strsize: 8 }, stdio: 'pipe' });
    expect(r.code).toBe(0);
    const exec = (r.events ?? []).find((e) => nameOf(e) === 'execve') as TraceEvent;
    const item = (arg: number) => exec.data.find((d) => d.arg === arg);
    expect(item(0)?.bytes.toString()).toBe('/bin/true');
    // argv: each string up to strsize + 1 bytes (one more than is shown: it was longer) and a NUL
    expect(item(1)?.bytes.toString('latin1')).toBe('/bin/true\0an-argume\0a longer \0');
    expect(item(2)?.bytes.readUInt32LE(0)).toBeGreaterThan(0);   // envp: its count
    const read = (r.events ?? []).find((e) => nameOf(e) === 'read' && e.ret > 8n) as TraceEvent;
    const buf = read.data.find((d) => d.arg === 1 && d.dir === 'out');
    expect([buf?.bytes.length, buf?.truncated]).toEqual([8, true]);
    const st = (r.events ?? []).find((e) => nameOf(e) === 'newfstatat' && e.ret === 0n) as TraceEvent;
    expect(st.data.find((d) => d.arg === 2 && d.dir === 'out')?.bytes.length).toBe(144);
  });
});

describe('trapline trace', () => {
  it('prints the calls (-o FILE) and exits with the program\'s status', async () => {
    const out = join(work, 'trace.out');
    const r = await trapline(['trace', '-o', out, '-e', 'trace=openat', '--', P, 'open', '/etc/hostname', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('open 1: ok\n');
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/openat\(/);
    expect(text.endsWith('+++ exited with 0 +++\n')).toBe(true);
    const s = await trapline(['trace', '-o', join(work, 'trace2.out'), '--', 'sh', '-c', 'exit 3']);
    expect(s.code).toBe(3);
    expect(readFileSync(join(work, 'trace2.out'), 'utf8').endsWith('+++ exited with 3 +++\n')).toBe(true);
  });

  it('trapline run -e trace=SET prints the calls on stderr, beside the other rules', async () => {
    const r = await trapline(['run', '-e', 'trace=openat', '-e', 'inject=openat:error=ENOENT:when=3', '--', P, 'open', '/etc/hostname', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('open 1: ENOENT\nopen 2: ok\n');
    const lines = withoutModeNote(r.stderr).trim().split('\n');
    expect(lines.filter((l) => /openat\(/.test(l))).toHaveLength(4);    // ld.so's two, the program's two
    expect(lines.filter((l) => /INJECTED/.test(l))).toHaveLength(1);
  });

  it.skipIf(POLICY_PLACEHOLDER)('prints strace\'s lines: decoded arguments and errors', async () => {
    const out = join(work, 'trace3.out');
    const r = await trapline(['trace', '-o', out, '-e', 'trace=openat', '--', P, 'open', '/nonexistent/x', '1']);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('openat(AT_FDCWD, "/nonexistent/x", O_RDONLY) = -1 ENOENT (No such file or directory)');
  });
});
