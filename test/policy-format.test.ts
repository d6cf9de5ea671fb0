// formatEvent against strace itself: build/test/stracecalls makes known calls (the ones a
// glibc program's start-up, ls and cat make, and more) and records each as trapline's core
// would (number, arguments, result, captured memory as ts/src/policy/capture.ts says); the
// same run is traced by the real strace (-f -o FILE). Formatting the records must give
// strace's lines, call for call, character for character (ids, padding and all), at the
// default -s 32 and at -s 8.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CAPTURES, callName, createFormatter, DEFAULT_TRACE_OPTIONS, formatEvent, formatExit, formatTimestamp, quoteBytes,
  quoteLimited, type TraceEvent, type TraceOptions,
} from '../ts/src/policy/index.js';
import { SYSCALL_NAMES } from '../ts/src/syscalls.js';
import { errnoByName } from '../ts/src/policy/names.js';
import { testProgram } from './helpers.js';

const STRACE = '/usr/bin/strace';
const hasStrace = existsSync(STRACE) && spawnSync(STRACE, ['-V']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'trapline-fmt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The records of a stracecalls log, as the ring reader would give them. */
function readLog(file: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'E') {
      const [nr, ret, ...rest] = f.slice(1);
      const args = rest.slice(0, 6).map((h) => BigInt(`0x${h}`));
      events.push({
        pid: Number(rest[6]), tid: Number(rest[7]), nr: Number(nr), abi: 'x86_64', args, ret: BigInt(ret as string),
        tsNs: 0n, durNs: 0n, site: { module: null, offset: 0n }, data: [],
      });
    } else if (f[0] === 'D') {
      const ev = events[events.length - 1] as TraceEvent;
      ev.data.push({ arg: Number(f[1]), dir: f[2] as 'in' | 'out', truncated: f[3] === '1', bytes: Buffer.from(f[4] ?? '', 'hex') });
    }
  }
  return events;
}

/** strace -f -o lines by thread id, <unfinished ...>/<... resumed> pairs joined (joined: true). */
function readStrace(file: string): Map<number, { text: string; joined: boolean }[]> {
  const byTid = new Map<number, { text: string; joined: boolean }[]>();
  const pending = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) +(.*)$/.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    const body = m[2] as string;
    const list = byTid.get(tid) ?? [];
    byTid.set(tid, list);
    if (body.startsWith('+++') || body.startsWith('---')) continue;
    if (body.endsWith(' <unfinished ...>')) {
      pending.set(tid, body.slice(0, -' <unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(body);
    if (resumed) {
      list.push({ text: `${line.slice(0, line.length - body.length)}${pending.get(tid) ?? ''}${resumed[1]}`, joined: true });
      pending.delete(tid);
      continue;
    }
    list.push({ text: line, joined: false });
  }
  return byTid;
}

/** A line with its padding before ' = ' taken out (for lines strace printed in two halves). */
const unpadded = (s: string) => s.replace(/ +(= [^=]*)$/, ' $1');

/** Runs stracecalls under strace at strsize; the formatted records and strace's lines, paired. */
function compare(strsize: number): { expected: string[]; actual: string[]; events: TraceEvent[] } {
  const dir = join(tmp, `s${strsize}`);
  mkdirSync(join(dir, 'work'), { recursive: true });
  const log = join(dir, 'log');
  const out = join(dir, 'strace');
  execFileSync(STRACE, ['-f', '-s', String(strsize), '-o', out, testProgram('stracecalls'), log, join(dir, 'work'), String(strsize)]);
  const events = readLog(log);
  const lines = readStrace(out);
  const opts: TraceOptions = { ...DEFAULT_TRACE_OPTIONS, strsize };
  const expected: string[] = [];
  const actual: string[] = [];
  // the calls the program did not record: writing its log
  const flushing = (t: string) => t.includes(`"${log}"`) || /write\(\d+, "[ED] /.test(t);
  for (const [tid, all] of lines) {
    const mine = events.filter((e) => e.tid === tid);
    if (mine.length === 0) continue;
    let list = all;
    const first = list.findIndex((l) => l.text.includes('close(-9999)'));
    if (first >= 0) list = list.slice(first, list.findIndex((l) => l.text.includes('close(-9998)')) + 1);
    let skipClose = false;
    list = list.filter((l) => {
      if (flushing(l.text)) {
        skipClose = true;
        return false;
      }
      if (skipClose && /close\(\d+\)/.test(l.text)) {
        skipClose = false;
        return false;
      }
      return true;
    }).slice(0, mine.length);
    mine.forEach((ev, i) => {
      const want = list[i];
      const got = formatEvent(ev, opts, { prefix: 'column' });
      expected.push(want ? (want.joined ? unpadded(want.text) : want.text) : '(no strace line)');
      actual.push(want?.joined ? unpadded(got) : got);
    });
  }
  return { expected, actual, events };
}

describe.skipIf(!hasStrace)('formatEvent matches strace', () => {
  it('prints the calls of the test program exactly as strace -f does (-s 32)', () => {
    const { expected, actual, events } = compare(32);
    expect(events.length).toBeGreaterThan(150);
    expect(actual).toEqual(expected);
    // a few lines a strace user knows, as they are
    const text = actual.join('\n');
    expect(text).toMatch(/openat\(AT_FDCWD, "\/etc\/passwd", O_RDONLY\|O_CLOEXEC\) = 3$/m);
    expect(text).toMatch(/read\(3, "root:x:0:0:root:\/root:\/bin\/bash\\n"\.\.\., 832\) = 832$/m);
    expect(text).toMatch(/= -1 ENOENT \(No such file or directory\)$/m);
    expect(text).toMatch(/newfstatat\(3, "", \{st_mode=S_IFREG\|0644, st_size=\d+, \.\.\.\}, AT_EMPTY_PATH\) = 0$/m);
    expect(text).toMatch(/mmap\(NULL, 8192, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) += 0x[0-9a-f]+$/m);
  });

  it('cuts strings and buffers at -s as strace does (-s 8)', () => {
    const { expected, actual } = compare(8);
    expect(actual).toEqual(expected);
    expect(actual.join('\n')).toMatch(/read\(3, "root:x:0"\.\.\., 832\) += 832$/m);
  });

  it('records only what capture.ts says the core captures', () => {
    const { events } = compare(32);
    for (const ev of events) {
      const spec = CAPTURES[ev.nr] ?? [];
      for (const d of ev.data) {
        const match = spec.find((s) => s.arg === d.arg && s.dir === d.dir);
        expect(match, `${callName(ev)}: arg ${d.arg} ${d.dir}`).toBeDefined();
      }
    }
  });
});

// ---- real programs ----------------------------------------------------------------------------
// Each program runs twice under strace with ASLR off (setarch -R, so both runs see the same
// addresses): once with -e raw=all (the arguments and results as numbers) and once as usual.
// A TraceEvent is built from the raw line, with the strings and buffers the core would
// capture taken from the decoded line; formatting it must give the decoded line. Lines whose
// capture cannot be rebuilt from the decoded text (structs, directory entries, argv) are left
// to the test above; so are calls whose results depend on the process id.

/** strace's top-level arguments of a decoded line */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quoted) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0 && s[i + 1] === ' ') {
      out.push(cur);
      cur = '';
      i++;
      continue;
    }
    cur += c;
  }
  if (cur !== '' || out.length) out.push(cur);
  return out;
}

/** the bytes of a strace string literal, and whether it was cut ("..."...) */
function unquote(text: string): { bytes: Buffer; truncated: boolean } | undefined {
  const m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/s.exec(text);
  if (!m) return undefined;
  const body = m[1] as string;
  const bytes: number[] = [];
  const esc: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      bytes.push(c.charCodeAt(0));
      continue;
    }
    const n = body[++i] as string;
    if (n === 'x') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (/[0-7]/.test(n)) {
      const o = /^[0-7]{1,3}/.exec(body.slice(i)) as RegExpExecArray;
      bytes.push(parseInt(o[0], 8));
      i += o[0].length - 1;
    } else bytes.push(esc[n] ?? n.charCodeAt(0));
  }
  return { bytes: Buffer.from(bytes), truncated: m[2] !== undefined };
}

/** calls whose results or arguments differ from run to run */
const UNSTABLE = new Set(['set_tid_address', 'getpid', 'gettid', 'getppid', 'clone', 'clone3', 'wait4', 'execve']);

function realProgram(argv: string[]): { compared: number; expected: string[]; actual: string[] } {
  const dir = mkdtempSync(join(tmp, 'real-'));
  const raw = join(dir, 'raw');
  const dec = join(dir, 'decoded');
  const cmd = ['setarch', '-R', ...argv];
  // (the program's exit status is its own: ls exits 2 for /nonexistent)
  spawnSync(STRACE, ['-f', '-o', raw, '-e', 'raw=all', ...cmd], { stdio: 'ignore' });
  spawnSync(STRACE, ['-f', '-o', dec, ...cmd], { stdio: 'ignore' });
  // the program's own calls: after its execve
  const after = (file: string) => {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /^\d+ +\w+\(/.test(l));
    let exec = -1;
    lines.forEach((l, i) => {
      if (/^\d+ +execve\(/.test(l)) exec = i;
    });
    return lines.slice(exec + 1);
  };
  const rawLines = after(raw);
  const decLines = after(dec);
  expect(rawLines.map((l) => /^\d+ +(\w+)/.exec(l)?.[1])).toEqual(decLines.map((l) => /^\d+ +(\w+)/.exec(l)?.[1]));
  const expected: string[] = [];
  const actual: string[] = [];
  let compared = 0;
  rawLines.forEach((rl, i) => {
    const dl = decLines[i] as string;
    const r = /^(\d+) +(\w+)\((.*)\) += (.*)$/.exec(rl);
    const d = /^(\d+) +(\w+)\((.*)\) += (.*)$/.exec(dl);
    if (!r || !d) return;
    const name = r[2] as string;
    const nrOf = Object.entries(SYSCALL_NAMES).find(([, n]) => n === name)?.[0];
    if (nrOf === undefined || UNSTABLE.has(name)) return;
    const nr = Number(nrOf);
    const args = (r[3] as string) === '' ? [] : (r[3] as string).split(', ').map((a) => BigInt(a));
    const rr = r[4] as string;
    let ret: bigint;
    if (rr === '?') ret = 0n;
    else if (rr.startsWith('-1 ')) ret = -BigInt(errnoByName((rr.split(' ')[1]) as string) ?? 0);
    else ret = BigInt(rr.split(' ')[0] as string);
    const failed = ret < 0n && ret >= -4095n;
    const dargs = splitArgs(d[3] as string);
    const data: TraceEvent['data'] = [];
    let rebuildable = true;
    for (const cap of CAPTURES[nr] ?? []) {
      if (cap.if && !cap.if.values.includes(Number((args[cap.if.arg] ?? 0n) & BigInt(cap.if.mask ?? 0xffffffff)))) continue;
      if (cap.dir === 'out' && failed) continue;
      const text = dargs[cap.arg] ?? '';
      if (/^(0x[0-9a-f]+|NULL)$/.test(text)) continue; // strace could not or did not read it either
      const q = ['path', 'string', 'buffer'].includes(cap.kind) ? unquote(text) : undefined;
      if (!q) {
        rebuildable = false;
        break;
      }
      data.push({ arg: cap.arg, dir: cap.dir, ...q });
    }
    if (!rebuildable) return;
    const tid = Number(d[1]);
    const event: TraceEvent = {
      pid: tid, tid, nr, abi: 'x86_64', args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6), ret, tsNs: 0n, durNs: 0n,
      site: { module: null, offset: 0n }, data,
    };
    expected.push(dl);
    actual.push(formatEvent(event, DEFAULT_TRACE_OPTIONS, { prefix: 'column' }));
    compared++;
  });
  return { compared, expected, actual };
}

const hasSetarch = spawnSync('setarch', ['-R', '/bin/true']).status === 0;

describe.skipIf(!hasStrace || !hasSetarch)('formatEvent matches strace on real programs', () => {
  for (const argv of [['/bin/true'], ['/bin/cat', '/etc/hostname', '/bin/true'], ['/bin/ls', '-la', '/etc/hostname', '/nonexistent', '/']]) {
    it(argv.join(' '), () => {
      const { compared, expected, actual } = realProgram(argv);
      console.log(`${argv.join(' ')}: ${compared} calls compared`);
      expect(compared).toBeGreaterThan(20);
      expect(actual).toEqual(expected);
    });
  }
});

const ev = (nr: number, args: (number | bigint)[], ret: number | bigint, more: Partial<TraceEvent> = {}): TraceEvent => ({
  pid: 100, tid: 100, nr, abi: 'x86_64', args: [...args, 0, 0, 0, 0, 0, 0].slice(0, 6).map((a) => BigInt.asUintN(64, BigInt(a))),
  ret: BigInt(ret), tsNs: 0n, durNs: 0n, site: { module: null, offset: 0n }, data: [], ...more,
});
const opts = DEFAULT_TRACE_OPTIONS;

describe('formatEvent details', () => {
  it('marks injected and denied calls as strace marks injected ones', () => {
    expect(formatEvent(ev(257, [-100, 0x1000, 0o2000000], -2, { policy: 'injected', data: [{ arg: 1, dir: 'in', bytes: Buffer.from('/x'), truncated: false }] }), opts))
      .toBe('openat(AT_FDCWD, "/x", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory) (INJECTED)');
    expect(formatEvent(ev(42, [3, 0x1000, 16], -13, { policy: 'denied' }), opts))
      .toBe('connect(3, 0x1000, 16)                  = -1 EACCES (Permission denied) (INJECTED)');
    expect(formatEvent(ev(110, [], 42, { policy: 'injected' }), opts)).toBe('getppid()                               = 42 (INJECTED)');
  });

  it('prints restart codes, unnamed errnos and calls that do not return as strace does', () => {
    expect(formatEvent(ev(0, [0, 0x10, 10], -512), opts)).toBe('read(0, 0x10, 10)                       = ? ERESTARTSYS (To be restarted if SA_RESTART is set)');
    expect(formatEvent(ev(39, [], -41), opts)).toBe('getpid()                                = -1 (errno 41)');
    expect(formatEvent(ev(231, [0], 0), opts)).toBe('exit_group(0)                           = ?');
  });

  it('prints calls it has no decoder for in hex, with strace\'s argument count', () => {
    expect(formatEvent(ev(446, [3, 0], 0), opts)).toBe('landlock_restrict_self(0x3, 0)          = 0');
    expect(formatEvent(ev(999, [1, 2, 3, 4, 5, 6], -38), opts)).toBe('syscall_0x3e7(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)');
  });

  it('prints what it can when a capture is missing or malformed', () => {
    expect(formatEvent(ev(4, [0x1000, 0x2000], 0), opts)).toBe('stat(0x1000, 0x2000)                    = 0');
    expect(formatEvent(ev(4, [0x1000, 0x2000], 0, { data: [{ arg: 1, dir: 'out', bytes: Buffer.alloc(3), truncated: false }] }), opts))
      .toBe('stat(0x1000, 0x2000)                    = 0');
    expect(formatEvent(ev(0, [3, 0x2000, 100], 5), opts)).toBe('read(3, 0x2000, 100)                    = 5');
    expect(formatEvent(ev(0, [3, 0x2000, 100], 0), opts)).toBe('read(3, "", 100)                        = 0');
  });

  it('prefixes lines with the thread id and strace\'s timestamps', () => {
    const at = 1_700_000_000_123_456_789n;
    const e = ev(3, [3], 0, { tid: 4321, tsNs: at });
    expect(formatEvent(e, { ...opts, timestamps: 'ttt' })).toBe('1700000000.123456 close(3)              = 0');
    expect(formatEvent(e, { ...opts, timestamps: 'tt' }, { prefix: 'pid' })).toMatch(/^\[pid {2}4321\] \d\d:\d\d:\d\d\.123456 close\(3\) {4}= 0$/);
    expect(formatEvent(e, { ...opts, timestamps: 't' }, { prefix: 'column' })).toMatch(/^4321 {2}\d\d:\d\d:\d\d close\(3\) {17}= 0$/);
    expect(formatTimestamp(at, 'none')).toBe('');
    const d = new Date(Number(at / 1_000_000n));
    const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    expect(formatTimestamp(at, 'tt')).toBe(`${hms}.123456 `);
  });

  it('prefixes [pid N] while several processes live, as strace writing to a terminal', () => {
    const f = createFormatter(opts, 'stream');
    expect(f.format(ev(3, [3], 0))).toBe('close(3)                                = 0');
    expect(f.format(ev(56, [17, 0], 101))).toBe('[pid   100] clone(child_stack=NULL, flags=SIGCHLD) = 101');
    expect(f.format(ev(231, [0], 0, { pid: 101, tid: 101 }))).toBe('[pid   101] exit_group(0)               = ?');
    expect(f.format(ev(3, [4], 0))).toBe('close(4)                                = 0');
    const file = createFormatter(opts, 'file');
    expect(file.format(ev(3, [3], 0))).toBe('100   close(3)                          = 0');
    expect(formatExit(101, { exited: 3 }, opts, 0n, { prefix: 'pid' })).toBe('[pid   101] +++ exited with 3 +++');
    expect(formatExit(101, { signal: 11, core: true }, opts, 0n)).toBe('+++ killed by SIGSEGV (core dumped) +++');
  });

  it("prints glibc's thread creation as strace did (clone3, written parent_tid)", () => {
    const args = Buffer.alloc(88);
    args.writeBigUInt64LE(0x3d0f00n, 0); // CLONE_VM|...|CLONE_CHILD_CLEARTID
    args.writeBigUInt64LE(0x7f1c99879990n, 16);
    args.writeBigUInt64LE(0x7f1c99879990n, 24);
    args.writeBigUInt64LE(0x7f1c99079000n, 40);
    args.writeBigUInt64LE(0x7fff80n, 48);
    args.writeBigUInt64LE(0x7f1c998796c0n, 56);
    const tid = Buffer.alloc(4);
    tid.writeInt32LE(10420);
    const e = ev(435, [0x7ffc0000, 88], 10420, { data: [{ arg: 0, dir: 'in', bytes: args, truncated: false }, { arg: 0, dir: 'out', bytes: tid, truncated: false }] });
    // strace 6.1, pthread_create in glibc 2.36
    expect(formatEvent(e, opts)).toBe('clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f1c99879990, parent_tid=0x7f1c99879990, exit_signal=0, stack=0x7f1c99079000, stack_size=0x7fff80, tls=0x7f1c998796c0} => {parent_tid=[10420]}, 88) = 10420');
    const set = Buffer.alloc(8, 0xff);
    expect(formatEvent(ev(14, [0, 0x1000, 0x2000, 8], 0, { data: [{ arg: 1, dir: 'in', bytes: set, truncated: false }, { arg: 2, dir: 'out', bytes: Buffer.alloc(8), truncated: false }] }), opts))
      .toBe('rt_sigprocmask(SIG_BLOCK, ~[], [], 8)   = 0');
    expect(formatEvent(ev(202, [0x7f1c99879990, 0x109, 10420, 0, 0, 0xffffffff], 0), opts))
      .toBe('futex(0x7f1c99879990, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 10420, NULL, FUTEX_BITSET_MATCH_ANY) = 0');
    expect(formatEvent(ev(60, [0], 0, { tid: 10420 }), opts, { prefix: 'pid' })).toBe('[pid 10420] exit(0)                     = ?');
  });

  it('quotes bytes as strace does', () => {
    expect(quoteBytes(Buffer.from('a"b\\c\t\n\r\v\f'))).toBe('"a\\"b\\\\c\\t\\n\\r\\v\\f"');
    expect(quoteBytes(Buffer.from([0, 0x31, 0, 7, 0x7f, 0xff, 0x20, 0x7e]))).toBe('"\\0001\\0\\7\\177\\377 ~"');
    expect(quoteBytes(Buffer.from([0x19, 0xa8]), true)).toBe('"\\x19\\xa8"');
    expect(quoteLimited(Buffer.from('abcdef'), 4, false)).toBe('"abcd"...');
    expect(quoteLimited(Buffer.from('abcd'), 4, true)).toBe('"abcd"...');
    expect(quoteLimited(Buffer.from('abcd'), 4, false)).toBe('"abcd"');
  });
});

describe('formatEvent on any event', () => {
  it('prints one line, without undefined or NaN, for any call, arguments, result and captures', () => {
    const nrs = Object.keys(SYSCALL_NAMES).map(Number);
    const u64 = fc.oneof(fc.constantFrom(0n, 1n, 3n, 0xffffff9cn, 0xffffffffffffffffn, 0x7ffc0000n, 0x5401n, 0x80045430n, 0x109n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    const capture = fc.record({
      arg: fc.integer({ min: 0, max: 5 }), dir: fc.constantFrom('in' as const, 'out' as const),
      bytes: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), truncated: fc.boolean(),
    });
    const event = fc.record({
      nr: fc.oneof(fc.constantFrom(...nrs), fc.integer({ min: 0, max: 1000 })),
      abi: fc.constantFrom('x86_64' as const, 'i386' as const),
      args: fc.array(u64, { minLength: 6, maxLength: 6 }),
      ret: fc.oneof(fc.bigInt({ min: -4096n, max: 4096n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      data: fc.array(capture, { maxLength: 4 }),
      policy: fc.constantFrom(undefined, 'injected' as const, 'denied' as const),
      tid: fc.integer({ min: 1, max: 4194304 }),
      tsNs: fc.bigInt({ min: 0n, max: 4n * 10n ** 18n }),
    }).map((e): TraceEvent => ({ pid: e.tid, durNs: 0n, site: { module: null, offset: 0n }, ...e, ...(e.policy ? {} : { policy: undefined }) }));
    const options = fc.record({
      strsize: fc.integer({ min: 0, max: 64 }), lossy: fc.boolean(), follow: fc.boolean(),
      timestamps: fc.constantFrom('none' as const, 't' as const, 'tt' as const, 'ttt' as const),
    });
    fc.assert(fc.property(event, options, fc.constantFrom('none' as const, 'pid' as const, 'column' as const), (e, o, prefix) => {
      const line = formatEvent(e, o, { prefix });
      expect(line).not.toContain('\n');
      expect(line).not.toMatch(/undefined|NaN|\[object /);
      expect(line).toMatch(/ = /);
    }), { seed: 0xf0a7, numRuns: 3000, endOnFailure: true });
  });
});
