// trapline trace's printer (ts/src/trace-print.ts) against formatEvent, and the signal a rule
// sends at a call (inject signal=, deny kill) against strace.
//
// The printer formats the commonest calls straight from the ring's bytes; every record of
// a real run is given both to it and (as a TraceEvent) to formatEvent, which test/policy-
// format.test.ts checks against strace: the two outputs must be the same, byte for byte.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launch } from '../ts/src/api.js';
import { API_NAMES } from '../ts/src/names.js';
import { createFormatter, DEFAULT_TRACE_OPTIONS, parseRuleExpressions, type TraceOptions } from '../ts/src/policy/index.js';
import type { RecordSink, TraceReader } from '../ts/src/trace.js';
import { StracePrinter } from '../ts/src/trace-print.js';
import { testProgram, trapline, withoutModeNote } from './helpers.js';

const STRACE = '/usr/bin/strace';
const haveStrace = existsSync(STRACE) && spawnSync(STRACE, ['-V']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'trapline-print-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs program traced (every call); each record goes to a StracePrinter writing into a file
 *  and to formatEvent. Returns both outputs. */
async function both(program: string, args: string[], opts: TraceOptions, output: 'file' | 'stream'): Promise<{ printed: string; formatted: string; records: number }> {
  const file = join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(file, 'w');
  const printer = new StracePrinter(opts, fd, false, output);
  const formatter = createFormatter(opts, output);
  const expected: string[] = [];
  let reader: TraceReader | undefined;
  const tee: RecordSink = {
    start(r) { reader = r; printer.start(r); },
    record: (buf, off, size, pend) => {
      expected.push(`${formatter.format((reader as TraceReader).event(buf, off, size, pend))}\n`);
      printer.record(buf, off, size, pend);
    },
    flush: () => printer.flush(),
    end: (e) => printer.end(e),
  };
  const h = launch(API_NAMES, program, args, { stdio: 'pipe' }, { rules: parseRuleExpressions(['trace=all']), trace: opts, sink: tee });
  await h.exited;
  await printer.done;
  closeSync(fd);
  return { printed: readFileSync(file, 'utf8'), formatted: expected.join(''), records: expected.length };
}

describe('the printer prints what formatEvent prints', () => {
  const work = join(tmp, 'work');
  mkdirSync(work, { recursive: true });
  const cases: [string, string, string[], Partial<TraceOptions>, 'file' | 'stream'][] = [
    ['a byte at a time (the same line again and again)', 'dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=3000'], {}, 'file'],
    ['random bytes (escapes, octal before digits), -s 8, on a stream', 'dd', ['if=/dev/urandom', 'of=/dev/null', 'bs=7', 'count=400'], { strsize: 8 }, 'stream'],
    ['random bytes, -s 100, -tt', 'dd', ['if=/dev/urandom', 'of=/dev/null', 'bs=150', 'count=50'], { strsize: 100, timestamps: 'tt' }, 'file'],
    ['text, failures, forks (sh, cat)', 'sh', ['-c', 'cat /etc/passwd /nonexistent; head -c 300 /dev/urandom | cat > /dev/null; cat < /etc/hostname > /dev/null; true'], {}, 'stream'],
    ['stracecalls (about 190 kinds of call)', testProgram('stracecalls'), [join(tmp, 'log'), work, '32'], {}, 'file'],
    ['threads (several rings, merged by time; [pid N] prefixes)', testProgram('polcalls'), ['threads', '4', '2000'], {}, 'stream'],
  ];
  for (const [what, program, args, o, output] of cases) {
    it(what, async () => {
      const r = await both(program, args, { ...DEFAULT_TRACE_OPTIONS, ...o }, output);
      expect(r.records).toBeGreaterThan(50);
      expect(r.printed).toBe(r.formatted);
    });
  }
});

/** trapline trace -o FILE's lines and strace -f -o FILE's, each thread id column and each
 *  number in `values` (what getpid returned, which differs) replaced. */
function normalized(text: string): string[] {
  const pids = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+) /.exec(line);
    if (m) pids.add(m[1] as string);
  }
  return text.split('\n').filter((l) => l !== '').map((l) => {
    let s = l.replace(/^\d+ +/, 'PID ');
    for (const p of pids) s = s.replaceAll(p, 'PID');
    return s.replace(/ \(core dumped\)/, '');
  });
}

async function againstStrace(exprs: string[], args: string[]): Promise<{ mine: string[]; theirs: string[]; code: number | null; signal: string | null }> {
  const P = testProgram('polcalls');
  const out = join(tmp, `t-${Math.random().toString(36).slice(2)}`);
  const e = exprs.flatMap((x) => ['-e', x]);
  const r = await trapline(['trace', '-o', `${out}.mine`, ...e, '--', P, ...args]);
  spawnSync(STRACE, ['-f', '-o', `${out}.strace`, ...e, P, ...args], { stdio: 'pipe' });
  return { mine: normalized(readFileSync(`${out}.mine`, 'utf8')), theirs: normalized(readFileSync(`${out}.strace`, 'utf8')), code: r.code, signal: r.signal };
}

describe('a signal a rule sends at a call: in the event and in strace\'s lines', () => {
  it.skipIf(!haveStrace)('inject signal=SIGUSR1: `--- SIGUSR1 {...} ---` after the call, as strace prints it', async () => {
    const r = await againstStrace(['trace=getpid', 'inject=getpid:signal=SIGUSR1:when=2..3'], ['signal', '4']);
    expect(r.code).toBe(0);
    expect(r.mine).toEqual(r.theirs);
    expect(r.mine.filter((l) => l.startsWith('PID --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_KERNEL} ---'))).toHaveLength(2);
  });

  it.skipIf(!haveStrace)('inject signal=SIGKILL: the call shows `= ?`, then `+++ killed by SIGKILL +++`, as strace prints it', async () => {
    const r = await againstStrace(['trace=getpid', 'inject=getpid:signal=SIGKILL:when=2'], ['signal', '4']);
    expect(r.mine).toEqual(r.theirs);
    expect(r.mine.slice(-2)).toEqual(['PID getpid()                          = ?', 'PID +++ killed by SIGKILL +++']);
  });

  it('deny kill: the call shows `= ?` and the process `+++ killed by SIGSYS +++`, once', async () => {
    const out = join(tmp, 'deny-kill');
    const r = await trapline(['trace', '-o', out, '-e', 'trace=getppid', '-e', 'deny=getppid:kill', '--', testProgram('polcalls'), 'delay']);
    expect(r.code).toBe(128 + 31);
    expect(withoutModeNote(r.stderr)).toMatch(/^Bad system call( \(core dumped\))?\n$/);
    expect(normalized(readFileSync(out, 'utf8'))).toEqual(['PID getppid()                         = ?', 'PID +++ killed by SIGSYS +++']);
  });

  it('the events carry the signal and whether the call killed', async () => {
    const P = testProgram('polcalls');
    const opts = { ...DEFAULT_TRACE_OPTIONS };
    const inj = launch(API_NAMES, P, ['signal', '4'], { stdio: 'pipe' }, { rules: parseRuleExpressions(['trace=getpid', 'inject=getpid:signal=SIGUSR1:when=2..3']), trace: opts });
    const evs = [];
    for await (const ev of inj.events()) evs.push(ev);
    await inj.exited;
    expect(evs.map((e) => [e.signal ?? null, e.killed ?? false])).toEqual([[null, false], [10, false], [10, false], [null, false]]);
    expect((JSON.parse(JSON.stringify(evs[1])) as { signal?: number }).signal).toBe(10);
    const kill = launch(API_NAMES, P, ['delay'], { stdio: 'pipe' }, { rules: parseRuleExpressions(['trace=getppid', 'deny=getppid:kill']), trace: opts });
    const kev = [];
    for await (const ev of kill.events()) kev.push(ev);
    const exit = await kill.exited;
    expect(exit.signal).toBe('SIGSYS');
    expect(kev.map((e) => [e.signal, e.killed, e.policy])).toEqual([[31, true, 'denied']]);
  });
});
