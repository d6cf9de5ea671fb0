// The policy expressions: strace's -e trace=/inject=/fault= syntax and semantics (checked
// against the installed strace where it can be: class membership, which expressions it
// accepts, which calls its when= selects), trapline's deny= and --from, the `trapline trace`
// command line, the API's rule objects, and property tests (no crash on any input, every bad
// input one OptionError line, round trips).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError } from '../ts/src/errors.js';
import { API_NAMES } from '../ts/src/names.js';
import {
  ALL_NRS, classMembers, classesOf, describeRule, formatRule, formatSyscallSet, formatWhen, parseRuleExpressions,
  parseScope, parseSyscallSet, parseTraceArgs, parseWhen, SET_CLASSES, scopeMatches, syscallName, syscallNumber,
  validateRules, validateTraceOptions, whenSelects, type Rule,
} from '../ts/src/policy/index.js';
import { testProgram } from './helpers.js';

const STRACE = '/usr/bin/strace';
const hasStrace = existsSync(STRACE) && spawnSync(STRACE, ['-V']).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'trapline-parse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const params = (numRuns: number) => ({ seed: 0x5712ace, numRuns, endOnFailure: true });

const nr = (name: string): number => syscallNumber(name) as number;
const names = (nrs: readonly number[]) => nrs.map((n) => syscallName(n));
const one = (expr: string): Rule => {
  const rules = parseRuleExpressions([expr]);
  expect(rules).toHaveLength(1);
  return rules[0] as Rule;
};

/** The OptionError parse throws (its message one line). */
function optionError(f: () => unknown): OptionError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OptionError);
    expect((e as Error).message).not.toContain('\n');
    return e as OptionError;
  }
  throw new Error('no error thrown');
}

/** The names strace prints for a sweep of every call under expr (-e trace=...). */
let sweepSeq = 0;
function straceSweep(expr: string): Set<string> {
  const out = join(tmp, `sweep-${sweepSeq++}`);
  const known = ALL_NRS.filter((n) => n <= 450); // the calls strace 6.1 knows
  execFileSync(STRACE, ['-o', out, '-e', expr, testProgram('allnrs'), ...known.map(String)]);
  const seen = new Set<string>();
  for (const m of readFileSync(out, 'utf8').matchAll(/^(\w+)\(.*\)\s+= (?:-1 ENOSYS|\?)/gm)) seen.add(m[1] as string);
  return seen;
}

describe('syscall sets, as strace', () => {
  it('the examples of strace(1)', () => {
    expect(names(one('trace=open,close,read,write').nrs)).toEqual(['read', 'write', 'open', 'close']);
    expect(one('trace=!open').nrs).toEqual(ALL_NRS.filter((n) => n !== nr('open')));
    expect(one('open')).toMatchObject({ action: 'trace', nrs: [nr('open')] }); // -e open means -e trace=open
    expect(one('t=open').nrs).toEqual([nr('open')]);
    expect(one('trace=all').nrs).toEqual(ALL_NRS);
    expect(one('trace=none').nrs).toEqual([]);
    expect(one('trace=!all').nrs).toEqual([]);
    expect(one('trace=!!open').nrs).toEqual([nr('open')]);
    // "The same effect can be achieved with -e trace=..." (the %statfs classes)
    expect(one('trace=/^(.*_)?statv?fs').nrs).toEqual(classMembers('%statfs'));
    expect(one('trace=/fstatv?fs').nrs).toEqual(classMembers('%fstatfs'));
    expect(one('trace=/statv?fs|fsstat|ustat').nrs).toEqual(classMembers('%%statfs'));
    expect(one('trace=%net').nrs).toEqual(one('trace=%network').nrs);
    expect(one('trace=file').nrs).toEqual(one('trace=%file').nrs); // the deprecated spelling
    expect(names(one('trace=%pure').nrs)).toEqual(['getpid', 'getuid', 'getgid', 'geteuid', 'getegid', 'getppid', 'getpgrp', 'gettid']);
  });

  it('numbers, ?, @64, regexes and empty elements', () => {
    expect(one('trace=0,1').nrs).toEqual([0, 1]);
    expect(one('trace=?nosuchcall,read').nrs).toEqual([0]);
    expect(one('trace=?/^nosuch').nrs).toEqual([]);
    expect(one('trace=openat@64').nrs).toEqual([nr('openat')]);
    expect(one('trace=read,,write,').nrs).toEqual([0, 1]);
    expect(names(one('trace=/^open').nrs)).toEqual(['open', 'openat', 'open_by_handle_at', 'open_tree', 'openat2', 'open_tree_attr']);
    expect(one('trace=/').nrs).toEqual(ALL_NRS);
    expect(parseSyscallSet('%file,%desc')).toEqual([...new Set([...(classMembers('%file') ?? []), ...(classMembers('%desc') ?? [])])].sort((a, b) => a - b));
    expect(classesOf(nr('newfstatat'))).toEqual(['%desc', '%file', '%fstat', '%%stat']);
  });

  it.skipIf(!hasStrace)('each class holds the calls strace puts in it', () => {
    for (const cls of SET_CLASSES) {
      const ours = new Set(names((classMembers(cls) ?? []).filter((n) => n <= 450)));
      expect([...straceSweep(`trace=${cls}`)].sort(), cls).toEqual([...ours].sort());
    }
  });

  it.skipIf(!hasStrace)('sets select the calls strace selects', () => {
    for (const set of ['!%file', '/^(get|set)', '%net,read,?nosuch', '!/^[a-m]', '%%stat,%memory', '0,1,2,3']) {
      const ours = new Set(names(parseSyscallSet(set).filter((n) => n <= 450)));
      expect([...straceSweep(`trace=${set}`)].sort(), set).toEqual([...ours].sort());
    }
  });
});

describe('inject, fault and deny', () => {
  it("the examples of strace(1), and each part of an injection", () => {
    expect(one('inject=chdir:error=ENOENT:when=3+')).toEqual({
      action: 'inject', nrs: [nr('chdir')], scope: {}, error: 2, when: { first: 3, step: 1 }, text: 'inject=chdir:error=ENOENT:when=3+',
    });
    expect(one('fault=openat')).toMatchObject({ action: 'inject', error: 38 }); // ENOSYS by default
    expect(one('fault=openat:error=EACCES:when=2')).toMatchObject({ error: 13, when: { first: 2, last: 2, step: 1 } });
    expect(one('inject=openat:retval=0x10')).toMatchObject({ retval: 16n });
    expect(one('inject=openat:retval=-1')).toMatchObject({ retval: -1n });
    expect(one('inject=openat:retval=18446744073709551615')).toMatchObject({ retval: -1n });
    expect(one('inject=openat:retval=010')).toMatchObject({ retval: 8n });
    expect(one('inject=write:signal=SIGUSR1')).toMatchObject({ signal: 10 });
    expect(one('inject=write:signal=usr1').signal).toBe(10);
    expect(one('inject=write:signal=64').signal).toBe(64);
    expect(one('inject=write:signal=SIGRT_1').signal).toBe(33);
    expect(one('inject=write:delay_enter=1.5ms:delay_exit=2s')).toMatchObject({ delayEnterUs: 1500, delayExitUs: 2_000_000 });
    expect(one('inject=write:delay_enter=100').delayEnterUs).toBe(100);
    expect(one('inject=write:delay_enter=1ns').delayEnterUs).toBe(1);
    expect(one('inject=openat:error=enoent').error).toBe(2);
    expect(one('inject=openat:error=4095').error).toBe(4095);
    expect(one('inject=openat:error=EWOULDBLOCK').error).toBe(11);
    expect(one('inject=openat:error=ENOENT:when=3:when=4').when).toEqual({ first: 4, last: 4, step: 1 }); // the last when= wins
    expect(one('inject=openat::error=ENOENT:').error).toBe(2); // empty parts skipped, as strace's strtok
    expect(one('inject=none:error=EIO').nrs).toEqual([]);
    expect(one('deny=connect')).toMatchObject({ action: 'deny', nrs: [nr('connect')], error: 1 });
    expect(one('deny=connect,bind:error=EACCES')).toMatchObject({ error: 13 });
    expect(one('deny=%net:kill')).toMatchObject({ kill: true });
    expect(one('deny=%net:kill').error).toBeUndefined();
  });

  it('when=FIRST[..LAST][+[STEP]] selects the calls strace(1) says', () => {
    const pick = (w: string) => Array.from({ length: 20 }, (_, i) => i + 1).filter((n) => whenSelects(parseWhen(w), n));
    expect(pick('3')).toEqual([3]);
    expect(pick('3..5')).toEqual([3, 4, 5]);
    expect(pick('18+')).toEqual([18, 19, 20]);
    expect(pick('3..9+')).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(pick('2+5')).toEqual([2, 7, 12, 17]);
    expect(pick('2..12+5')).toEqual([2, 7, 12]);
    expect(pick('+3')).toEqual([3]); // strtol's sign, as strace
    expect(whenSelects(undefined, 12345)).toBe(true);
    for (const w of ['3', '3..5', '18+', '2+5', '2..12+5', '1..65534+65535']) expect(formatWhen(parseWhen(w))).toBe(w);
    expect(formatWhen(parseWhen('3..9+'))).toBe('3..9'); // F..L+ is F..L+1 is F..L
  });

  it.skipIf(!hasStrace)('when= injects into the calls strace injects into', () => {
    const calls = Array.from({ length: 30 }, () => String(nr('getppid')));
    for (const w of ['1', '3', '4..7', '5+', '2+4', '3..20+6', '29..30+']) {
      const out = join(tmp, `when-${w}`);
      execFileSync(STRACE, ['-o', out, '-e', 'trace=getppid', '-e', `inject=getppid:error=EIO:when=${w}`, testProgram('allnrs'), ...calls]);
      const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('getppid'));
      const strace = lines.flatMap((l, i) => (l.endsWith('(INJECTED)') ? [i + 1] : []));
      const ours = lines.map((_, i) => i + 1).filter((n) => whenSelects(parseWhen(w), n));
      expect(ours, w).toEqual(strace);
    }
  });

  it.skipIf(!hasStrace)('takes the expressions strace takes, refuses those it refuses', () => {
    const exprs = [
      'trace=', 'trace=!', 'trace=foo', 'trace=?foo', 'trace=0', 'trace=9999', 'trace=read,,write', 'trace=/(',
      'trace=%nonsense', 'trace=%net', 'trace=!read,!write', 'trace=ALL', 'trace=1x', 'inject=open',
      'inject=openat:error=ENOENT:retval=1', 'inject=openat:error=ENOENT:error=EPERM', 'inject=openat:error=0',
      'inject=openat:error=4096', 'inject=openat:error=4095', 'inject=openat:error=enoent', 'inject=openat:retval=-1',
      'inject=openat:retval=0x', 'inject=openat:retval=1.5', 'inject=openat:retval=99999999999999999999',
      'inject=openat:when=0', 'inject=openat:error=EIO:when=65536', 'inject=openat:error=EIO:when=65535',
      'inject=openat:error=EIO:when=3..2', 'inject=openat:error=EIO:when=3..65535', 'inject=openat:error=EIO:when=3..65534',
      'inject=openat:error=EIO:when=2+', 'inject=openat:error=EIO:when=2+0', 'inject=openat:error=EIO:when=2..4+2',
      'inject=openat:error=EIO:when=2.4', 'inject=openat:error=EIO:when=x', 'inject=openat:signal=SIGUSR1',
      'inject=openat:signal=usr1', 'inject=openat:signal=65', 'inject=openat:signal=0', 'inject=openat:signal=SIGFOO',
      'inject=openat:signal=SIGUSR1:signal=SIGUSR2', 'inject=openat:delay_enter=1.5ms', 'inject=openat:delay_enter=-1',
      'inject=openat:delay_enter=1x', 'inject=openat:delay_exit=3s:delay_exit=4s', 'fault=openat', 'fault=openat:retval=3',
      'fault=openat:signal=SIGINT', 'fault=openat:delay_enter=5', 'inject=openat:error=ENOENT:foo=1',
      'inject=openat:error=ENOENT:', 'inject=:error=ENOENT', 'inject=', 'fault=', 'inject=!openat:error=ENOENT',
      'inject=none:error=EIO', 'inject=%file:error=ENOENT', 'inject=openat:error=ENOENT,EPERM', 'inject=openat:error',
    ];
    for (const e of exprs) {
      const strace = spawnSync(STRACE, ['-o', '/dev/null', '-e', e, '/bin/true']);
      // strace refuses an expression with a message and does not run the program; it may warn
      // ("Inadvertent injection of error...") and run it
      const straceOk = !/^\S*strace: (?!Inadvertent)/m.test(String(strace.stderr));
      let ours = true;
      try {
        parseRuleExpressions([e]);
      } catch (err) {
        expect(err, e).toBeInstanceOf(OptionError);
        ours = false;
      }
      expect(ours, `${e}: strace ${straceOk ? 'takes' : 'refuses'} it`).toBe(straceOk);
    }
  });

  it('refuses bad expressions in one line naming the expression', () => {
    const bad: [string, RegExp][] = [
      ['trace=foo', /^-e trace=foo: unknown system call 'foo'$/],
      ['trace=%nonsense', /unknown system call class '%nonsense'/],
      ['trace=', /^-e trace=: no system calls given$/],
      ['trace=open@32', /x86-64 system calls only/],
      ['trace=open@x86', /personality/],
      ['trace=/(', /bad regular expression/],
      ['trace=/^zzz', /matches no system call/],
      ['trace=999', /no x86-64 system call has this number/],
      ['inject=openat', /inject needs at least one of error=, retval=, signal=, delay_enter=, delay_exit=/],
      ['inject=openat:error=EFOO', /^-e inject=openat:error=EFOO: unknown errno name 'EFOO'/],
      ['inject=openat:error=0', /a number must be 1\.\.4095/],
      ['inject=openat:when=0', /when '0'/],
      ['inject=openat:error=EIO:when=3..2', /bad LAST/],
      ['inject=openat:error=EIO:retval=3', /one error= or retval= only/],
      ['inject=openat:signal=SIGFOO', /unknown signal name 'SIGFOO'/],
      ['inject=openat:delay_enter=soon', /delay_enter 'soon'/],
      ['inject=openat:syscall=getpid', /syscall= is not supported/],
      ['inject=openat:poke_enter=@arg1=00', /poke_enter= is not supported/],
      ['fault=openat:retval=3', /fault= takes error= and when= only/],
      ['deny=connect:error=EACCES:kill', /one error= or kill/],
      ['deny=connect:when=3', /deny takes error=ERRNO or kill/],
      ['raw=all', /raw= is not supported by trapline/],
      ['bogus=1', /unknown qualifier 'bogus'/],
    ];
    for (const [e, re] of bad) {
      const err = optionError(() => parseRuleExpressions([e]));
      expect(err.message, e).toMatch(re);
      expect(err.message.startsWith(`-e ${e}: `), err.message).toBe(true);
      expect(err.option).toBe(e.startsWith('inject') || e.startsWith('fault') ? 'inject' : e.startsWith('deny') ? 'deny' : 'trace');
    }
  });

  it('a later expression takes precedence, as in strace', () => {
    // strace keeps one trace set: the last -e trace= wins
    expect(parseRuleExpressions(['trace=open', 'trace=close'])).toEqual([{ action: 'trace', nrs: [nr('close')], scope: {}, text: 'trace=close' }]);
    // one injection per call: the last given
    const rules = parseRuleExpressions(['inject=openat,read:error=ENOENT:when=1', 'inject=openat:error=EPERM:when=2', 'deny=read']);
    expect(rules.map((r) => [r.action, names(r.nrs), r.error, r.when])).toEqual([
      ['inject', ['openat'], 1, { first: 2, last: 2, step: 1 }], // EPERM, from the second
      ['deny', ['read'], 1, undefined], // the first rule lost both calls: dropped
    ]);
    // rules of different scopes are all kept
    const scoped = parseTraceArgs(['-e', 'deny=connect', '--from', 'libplugin.so', '-e', 'deny=connect:error=EACCES', 'prog']).rules;
    expect(scoped.filter((r) => r.action === 'deny').map((r) => [r.scope, r.error])).toEqual([[{}, 1], [{ module: 'libplugin.so' }, 13]]);
  });
});

describe('--from scopes', () => {
  it('parses modules, build-ids, origins and ids', () => {
    expect(parseScope('libplugin.so')).toEqual({ module: 'libplugin.so' });
    expect(parseScope('/opt/*/lib[a-z]*.so')).toEqual({ module: '/opt/*/lib[a-z]*.so' });
    expect(parseScope('build-id:ABCdef01')).toEqual({ module: 'build-id:abcdef01' });
    for (const o of ['jit', 'dlopen', 'main', 'startup', 'vdso']) expect(parseScope(`@${o}`)).toEqual({ origin: o });
    expect(parseScope('pid:42')).toEqual({ pid: 42 });
    expect(parseScope('tid:7')).toEqual({ tid: 7 });
    for (const [bad, re] of [['', /empty module/], ['@kernel', /unknown origin '@kernel'/], ['build-id:abc', /even number/],
      ['build-id:xyz0', /hex/], ['pid:0', /positive/], ['tid:-3', /positive/], ['lib[a.so', /unclosed \[/]] as const) {
      expect(() => parseScope(bad)).toThrow(re);
      expect(optionError(() => parseRuleExpressions(['trace=all'], [bad])).message).toMatch(new RegExp(`^--from ${bad.replace(/[[\]*.]/g, '\\$&')}: `));
    }
  });

  it('matches a call site as the core must', () => {
    const site = { module: '/usr/lib/x86_64-linux-gnu/libplugin.so.1', buildId: 'ABCD', origin: 'dlopen' as const, pid: 10, tid: 11 };
    expect(scopeMatches({ module: 'libplugin.so*' }, site)).toBe(true); // the basename
    expect(scopeMatches({ module: '/usr/lib/*/libplugin.so.1' }, site)).toBe(true); // the full path
    expect(scopeMatches({ module: '*/libplugin.so.1' }, site)).toBe(true);
    expect(scopeMatches({ module: 'libc.so*' }, site)).toBe(false);
    expect(scopeMatches({ module: 'build-id:abcd' }, site)).toBe(true);
    expect(scopeMatches({ origin: 'dlopen', pid: 10 }, site)).toBe(true);
    expect(scopeMatches({ origin: 'jit' }, site)).toBe(false);
    expect(scopeMatches({ tid: 12 }, site)).toBe(false);
    expect(scopeMatches({ module: '*' }, { ...site, module: null, origin: 'jit' })).toBe(false);
    expect(scopeMatches({}, site)).toBe(true);
  });

  it('several modules are alternatives: a rule for each', () => {
    const rules = parseRuleExpressions(['deny=socket:error=EACCES'], ['libplugin.so', '@jit']);
    expect(rules.map((r) => r.scope)).toEqual([{ module: 'libplugin.so' }, { origin: 'jit' }]);
    expect(rules.map(describeRule)).toEqual(['--from libplugin.so -e deny=socket:error=EACCES', '--from @jit -e deny=socket:error=EACCES']);
  });
});

describe('trapline trace command line', () => {
  it('reads strace\'s options and stops at the program', () => {
    const t = parseTraceArgs(['-f', '-tt', '-s', '64', '-o', 'out.txt', '-e', 'trace=%file', '-einject=openat:error=ENOENT:when=3', '--', 'ls', '-l', '-e']);
    expect(t.program).toBe('ls');
    expect(t.args).toEqual(['-l', '-e']);
    expect(t.output).toBe('out.txt');
    expect(t.options).toEqual({ strsize: 64, lossy: false, timestamps: 'tt', follow: true });
    expect(t.rules.map((r) => r.action)).toEqual(['trace', 'inject']);
    expect(parseTraceArgs(['ls', '-tt']).args).toEqual(['-tt']); // the first argument that is no option is PROG
    expect(parseTraceArgs(['-ftt', '-s8', '-ofile', 'x']).options).toEqual({ strsize: 8, lossy: false, timestamps: 'tt', follow: true });
    expect(parseTraceArgs(['-t', '-t', '-t', '-t', 'x']).options.timestamps).toBe('ttt');
    expect(parseTraceArgs(['--trace=open', '--inject', 'read:error=EIO', '--fault=write', '--deny=connect', '--lossy', '--output=o', '--string-limit=9', '--follow-forks', 'x']))
      .toMatchObject({ output: 'o', options: { strsize: 9, lossy: true, follow: true } });
  });

  it('traces every call unless told otherwise, as strace', () => {
    expect(parseTraceArgs(['x']).rules).toEqual([{ action: 'trace', nrs: ALL_NRS, scope: {}, text: 'trace=all' }]);
    expect(parseTraceArgs(['-e', 'inject=read:error=EIO', 'x']).rules.map((r) => r.action)).toEqual(['trace', 'inject']);
    expect(parseTraceArgs(['-e', 'trace=none', 'x']).rules).toEqual([{ action: 'trace', nrs: [], scope: {}, text: 'trace=none' }]);
  });

  it('--from scopes the expressions after it', () => {
    const t = parseTraceArgs(['-e', 'trace=%net', '--from', 'libplugin.so', '--from', '@dlopen', '-e', 'deny=connect', '--from', '@jit', '-e', 'trace=all', 'prog']);
    expect(t.from).toEqual(['libplugin.so', '@dlopen', '@jit']);
    expect(t.rules.map((r) => [r.action, r.scope])).toEqual([
      ['trace', {}], ['deny', { module: 'libplugin.so' }], ['deny', { origin: 'dlopen' }], ['trace', { origin: 'jit' }],
    ]);
    // a --from with no -e after it limits the default trace=all: "trace everything JIT code does"
    expect(parseTraceArgs(['--from', '@jit', 'prog']).rules).toEqual([{ action: 'trace', nrs: ALL_NRS, scope: { origin: 'jit' }, text: 'trace=all' }]);
    expect(parseTraceArgs(['-e', 'deny=socket', '--from', '@jit', 'prog']).rules.map((r) => [r.action, r.scope])).toEqual([['deny', {}], ['trace', { origin: 'jit' }]]);
    expect(optionError(() => parseTraceArgs(['-e', 'trace=open', '--from', 'x.so', 'prog'])).message).toBe('--from x.so: no -e expression follows it');
  });

  it('refuses bad command lines in one line', () => {
    const bad: [string[], RegExp, string][] = [
      [[], /no program given/, 'program'],
      [['-e', 'trace=open'], /no program given/, 'program'],
      [['-x', 'ls'], /unknown option -x/, 'args'],
      [['--nope', 'ls'], /unknown option --nope/, 'args'],
      [['-e'], /-e: needs a value/, 'trace'],
      [['-s', 'big', 'ls'], /-s big: expected a number of bytes, 0\.\.1048576/, 'strsize'],
      [['-s', '99999999', 'ls'], /-s 99999999/, 'strsize'],
      [['-o', '', 'ls'], /-o: needs a file name/, 'output'],
      [['--lossy=yes', 'ls'], /--lossy: takes no value/, 'args'],
      [['-e', 'inject=read:error=NOPE', 'ls'], /^-e inject=read:error=NOPE: unknown errno name 'NOPE'/, 'inject'],
      [['--from', '@nowhere', '-e', 'trace=all', 'ls'], /^--from @nowhere: unknown origin/, 'from'],
    ];
    for (const [argv, re, option] of bad) {
      const e = optionError(() => parseTraceArgs(argv));
      expect(e.message, argv.join(' ')).toMatch(re);
      expect(e.option, argv.join(' ')).toBe(option);
    }
  });
});

describe('API rule objects', () => {
  it('validates and converts them', () => {
    const rules = validateRules({
      mode: 'sud-only', // other spawn options are not ours
      trace: { calls: '%file', strsize: 100 },
      inject: ['openat:error=ENOENT:when=3', { calls: ['read', 1, '%net'], retval: 5, when: { first: 2, step: 3 }, from: ['libx.so'] },
        { calls: 'write', signal: 'SIGUSR1', delayEnter: '2ms', delayExit: 7, when: '4..6' }],
      deny: [{ calls: 'connect', error: 'EACCES', from: '@dlopen' }, { calls: ['socket'], kill: true }, 'bind'],
    }, API_NAMES);
    expect(rules.map((r) => [r.action, r.text, r.scope])).toEqual([
      ['trace', `trace=${formatSyscallSet(classMembers('%file') ?? [])}`, {}],
      ['inject', 'inject=openat:error=ENOENT:when=3', {}],
      ['inject', `inject=${formatSyscallSet(parseSyscallSet('read,write,%net'))}:retval=5:when=2+3`, { module: 'libx.so' }],
      ['inject', 'inject=write:signal=SIGUSR1:delay_enter=2000:delay_exit=7:when=4..6', {}],
      ['deny', 'deny=connect:error=EACCES', { origin: 'dlopen' }],
      ['deny', 'deny=socket:kill', {}],
      ['deny', 'deny=bind', {}], // a string keeps its text
    ]);
    expect(validateRules({ trace: true }, API_NAMES)).toEqual([{ action: 'trace', nrs: ALL_NRS, scope: {}, text: 'trace=all' }]);
    expect(validateRules({ trace: 'read' }, API_NAMES)[0]?.nrs).toEqual([0]);
    expect(validateRules({}, API_NAMES)).toEqual([]);
    expect(validateRules(undefined, API_NAMES)).toEqual([]);
    expect(validateRules({ inject: [{ calls: 'read', retval: -1n }] }, API_NAMES)[0]?.retval).toBe(-1n);
    expect(validateRules({ inject: [{ calls: 'read', retval: 0xffffffffffffffffn }] }, API_NAMES)[0]?.retval).toBe(-1n);
    expect(validateTraceOptions({ calls: 'read', strsize: 7, lossy: true, timestamps: 'ttt', follow: true }, API_NAMES))
      .toEqual({ strsize: 7, lossy: true, timestamps: 'ttt', follow: true });
    expect(validateTraceOptions(undefined, API_NAMES)).toBeUndefined();
  });

  it('names the property at fault', () => {
    const bad: [unknown, string, RegExp][] = [
      [{ inject: [{ calls: 'read', error: 'ENOENT' }, { calls: 'read', error: 'EFOO' }] }, 'inject', /^options\.inject\[1\]\.error: unknown errno name 'EFOO'/],
      [{ inject: [{ calls: 'read' }] }, 'inject', /^options\.inject\[0\]: needs at least one of error, retval, signal, delayEnter, delayExit$/],
      [{ inject: [{ error: 'EIO' }] }, 'inject', /^options\.inject\[0\]\.calls: required/],
      [{ inject: [{ calls: 'read', error: 5000 }] }, 'inject', /^options\.inject\[0\]\.error: an errno number is 1\.\.4095, not 5000$/],
      [{ inject: [{ calls: 'read', error: 1, retval: 2 }] }, 'inject', /^options\.inject\[0\]\.retval: error and retval exclude each other$/],
      [{ inject: [{ calls: 'read', retval: 1.5 }] }, 'inject', /^options\.inject\[0\]\.retval: expected an integer or a bigint, not 1\.5$/],
      [{ inject: [{ calls: 'read', retval: 1n << 64n }] }, 'inject', /retval: out of range/],
      [{ inject: [{ calls: 'read', error: 1, when: { first: 0 } }] }, 'inject', /^options\.inject\[0\]\.when\.first: expected an integer 1\.\.65535, not 0$/],
      [{ inject: [{ calls: 'read', error: 1, when: { first: 5, last: 4 } }] }, 'inject', /when\.last: expected an integer 5\.\.65534/],
      [{ inject: [{ calls: 'read', error: 1, when: '0' }] }, 'inject', /^options\.inject\[0\]\.when: when '0'/],
      [{ inject: [{ calls: 'read', error: 1, when: { first: 1, every: 2 } }] }, 'inject', /when\.every: unknown property/],
      [{ inject: [{ calls: 'read', signal: 99 }] }, 'inject', /\.signal: a signal number is 1\.\.64, not 99/],
      [{ inject: [{ calls: 'read', delayEnter: -5 }] }, 'inject', /\.delayEnter: expected a non-negative integer of microseconds/],
      [{ inject: [{ calls: ['read', 'bogus'], error: 1 }] }, 'inject', /^options\.inject\[0\]\.calls\[1\]: unknown system call 'bogus'$/],
      [{ inject: [{ calls: [9999], error: 1 }] }, 'inject', /calls\[0\]: 9999 is not an x86-64 system call number/],
      [{ inject: [{ calls: ['read,write'], error: 1 }] }, 'inject', /calls\[0\]: expected one name/],
      [{ inject: [{ calls: 'read', error: 1, from: '@nowhere' }] }, 'inject', /^options\.inject\[0\]\.from: unknown origin/],
      [{ inject: [{ calls: 'read', error: 1, from: [] }] }, 'inject', /from: expected a module/],
      [{ inject: [{ calls: 'read', errno: 1 }] }, 'inject', /^options\.inject\[0\]\.errno: unknown property \(expected calls, error/],
      [{ inject: ['read:error=NOPE'] }, 'inject', /^options\.inject\[0\]: unknown errno name 'NOPE'/],
      [{ inject: 'read:error=EIO' }, 'inject', /^options\.inject: expected an array of rules/],
      [{ inject: [42] }, 'inject', /^options\.inject\[0\]: expected a rule object or a string/],
      [{ deny: [{ calls: 'connect', kill: true, error: 'EPERM' }] }, 'deny', /^options\.deny\[0\]\.kill: kill and error exclude each other$/],
      [{ deny: [{ calls: 'connect', kill: 'yes' }] }, 'deny', /deny\[0\]\.kill: expected a boolean/],
      [{ deny: [{ calls: 'connect', retval: 1 }] }, 'deny', /deny\[0\]\.retval: unknown property/],
      [{ trace: 42 }, 'trace', /^options\.trace: expected true, a set of calls/],
      [{ trace: { calls: 'nope' } }, 'trace', /^options\.trace\.calls: unknown system call 'nope'$/],
      [{ trace: { strsize: -1 } }, 'trace', /^options\.trace\.strsize: expected an integer 0\.\.1048576, not -1$/],
      [{ trace: { timestamps: 'tttt' } }, 'trace', /timestamps: expected 'none', 't', 'tt' or 'ttt'/],
      [{ trace: { color: true } }, 'trace', /trace\.color: unknown property/],
      [42, 'options', /expected an object with trace, inject and deny/],
    ];
    for (const [input, option, re] of bad) {
      const e = optionError(() => validateRules(input, API_NAMES));
      expect(e.message).toMatch(re);
      expect(e.option).toBe(option);
    }
    // the CLI's names
    const cliNames = (k: string) => `--${k}`;
    expect(optionError(() => validateRules({ deny: [{ calls: 'x' }] }, cliNames)).message).toBe("--deny[0].calls: unknown system call 'x'");
  });
});

// ---- properties ----------------------------------------------------------------------------

/** Strings made of the syntax's pieces, to reach deep into the parser. */
const piece = fc.constantFrom(
  'trace=', 'inject=', 'fault=', 'deny=', 't=', 'raw=', '!', '?', '%', '%file', '%%stat', '/', '/^open', 'all', 'none', ',', ':',
  'error=', 'retval=', 'signal=', 'when=', 'delay_enter=', 'delay_exit=', 'kill', 'ENOENT', 'enoent', 'SIGUSR1', '..', '+',
  '0', '1', '3', '65535', '65536', '-1', '0x', 'ff', '1.5ms', 'us', '@64', '@32', 'openat', 'read', 'write', 'x', ' ', '(', '[',
);
const exprString = fc.oneof(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), fc.string({ maxLength: 30 }));

function neverCrashes(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    if (e.message.includes('\n') || e.message === '') throw new Error(`not one line: ${JSON.stringify(e.message)}`);
  }
}

describe('properties', () => {
  it('parseRuleExpressions returns rules or one OptionError line, for any expressions', () => {
    fc.assert(fc.property(fc.array(exprString, { maxLength: 4 }), fc.option(fc.array(fc.string({ maxLength: 12 }), { maxLength: 2 }), { nil: undefined }),
      (exprs, from) => neverCrashes(() => {
        for (const r of parseRuleExpressions(exprs, from)) {
          expect([...r.nrs].sort((a, b) => a - b)).toEqual(r.nrs);
          expect(new Set(r.nrs).size).toBe(r.nrs.length);
          if (r.when) expect(r.when.first).toBeGreaterThanOrEqual(1);
        }
      })), params(600));
  });

  it('parseTraceArgs returns a command or one OptionError line, for any argument list', () => {
    const arg = fc.oneof(fc.constantFrom('-e', '-f', '-tt', '-s', '-o', '--from', '--', '--lossy', '-x', '--trace', 'prog', '-ftt', '-s8', '@jit'), exprString);
    fc.assert(fc.property(fc.array(arg, { maxLength: 8 }), (argv) => neverCrashes(() => {
      const t = parseTraceArgs(argv);
      expect(typeof t.program).toBe('string');
      expect(t.rules.some((r) => r.action === 'trace')).toBe(true);
    })), params(600));
  });

  it('validateRules returns rules or one OptionError line, for any value', () => {
    const spec = fc.record({
      calls: fc.oneof(exprString, fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -1, max: 500 })), { maxLength: 3 }), fc.anything()),
      error: fc.oneof(fc.constantFrom('ENOENT', 'EIO', 'bogus'), fc.integer({ min: -2, max: 5000 }), fc.anything()),
      retval: fc.oneof(fc.bigInt(), fc.integer(), fc.anything()),
      when: fc.oneof(exprString, fc.integer(), fc.record({ first: fc.integer({ min: -1, max: 70000 }), last: fc.integer(), step: fc.anything() })),
      signal: fc.oneof(fc.constantFrom('SIGUSR1', 'usr2', 'NOPE'), fc.integer({ min: -1, max: 70 })),
      kill: fc.anything(),
      from: fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 })),
    }, { requiredKeys: [] });
    const input = fc.oneof(fc.anything(), fc.record({
      trace: fc.oneof(fc.boolean(), exprString, fc.anything()),
      inject: fc.oneof(fc.array(fc.oneof(spec, exprString), { maxLength: 3 }), fc.anything()),
      deny: fc.oneof(fc.array(fc.oneof(spec, exprString), { maxLength: 3 }), fc.anything()),
    }, { requiredKeys: [] }));
    fc.assert(fc.property(input, (v) => neverCrashes(() => validateRules(v, API_NAMES))), params(800));
  });

  it('formatRule gives back the rule: parse(format(rule)) == rule', () => {
    const nrs = fc.oneof(
      fc.subarray([...ALL_NRS], { maxLength: 20 }),
      fc.constantFrom([...ALL_NRS], [], classMembers('%file') ?? []),
    ).map((a) => [...a].sort((x, y) => x - y));
    const when = fc.option(fc.integer({ min: 1, max: 65534 }).chain((first) => fc.oneof(
      fc.constant({ first, last: first, step: 1 }),
      fc.record({ first: fc.constant(first), step: fc.integer({ min: 1, max: 65535 }) }),
      fc.record({ first: fc.constant(first), last: fc.integer({ min: first, max: 65534 }), step: fc.integer({ min: 1, max: 65535 }) }),
    )), { nil: undefined });
    const inject = fc.record({
      nrs, when,
      result: fc.oneof(fc.record({ error: fc.integer({ min: 1, max: 4095 }) }), fc.record({ retval: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }) }), fc.constant({})),
      signal: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
      delayEnterUs: fc.option(fc.nat(), { nil: undefined }),
      delayExitUs: fc.option(fc.nat(), { nil: undefined }),
    }).filter((r) => 'error' in r.result || 'retval' in r.result || r.signal !== undefined || r.delayEnterUs !== undefined || r.delayExitUs !== undefined)
      .map(({ result, ...r }): Rule => {
        const rule: Rule = { action: 'inject', nrs: r.nrs, scope: {}, text: '', ...result };
        for (const k of ['when', 'signal', 'delayEnterUs', 'delayExitUs'] as const) if (r[k] !== undefined) (rule as unknown as Record<string, unknown>)[k] = r[k];
        return rule;
      });
    const deny = fc.record({ nrs, kill: fc.boolean(), error: fc.integer({ min: 1, max: 4095 }) })
      .map(({ nrs: n, kill, error }): Rule => (kill ? { action: 'deny', nrs: n, scope: {}, text: '', kill } : { action: 'deny', nrs: n, scope: {}, text: '', error }));
    const trace = nrs.map((n): Rule => ({ action: 'trace', nrs: n, scope: {}, text: '' }));
    fc.assert(fc.property(fc.oneof(inject, deny, trace), (rule) => {
      const text = formatRule(rule);
      const back = parseRuleExpressions([text]);
      expect(back).toEqual([{ ...rule, text }]);
    }), params(500));
  });

  it('parseSyscallSet(formatSyscallSet(nrs)) == nrs, and ! inverts', () => {
    fc.assert(fc.property(fc.subarray([...ALL_NRS]), (sub) => {
      const nrs = [...sub].sort((a, b) => a - b);
      expect(parseSyscallSet(formatSyscallSet(nrs))).toEqual(nrs);
      expect(parseSyscallSet(`!${formatSyscallSet(nrs)}`)).toEqual(ALL_NRS.filter((n) => !nrs.includes(n)));
    }), params(300));
  });

  it('whenSelects follows strace\'s FIRST..LAST+STEP for every call number', () => {
    const w = fc.tuple(fc.integer({ min: 1, max: 50 }), fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }), fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }));
    fc.assert(fc.property(w, ([first, lastOff, step]) => {
      const text = `${first}${lastOff === undefined ? '' : `..${first + lastOff}`}${step === undefined ? '' : `+${step || ''}`}`;
      const when = parseWhen(text);
      // strace: F alone is F..INF+0 (only F); '+' without STEP is +1; no LAST is no bound
      const last = lastOff === undefined ? Infinity : first + lastOff;
      const s = step === undefined ? (lastOff === undefined ? 0 : 1) : step || 1;
      for (let n = 1; n <= 120; n++) {
        const want = n >= first && n <= last && (s === 0 ? n === first : (n - first) % s === 0);
        expect(whenSelects(when, n), `${text} n=${n}`).toBe(want);
      }
    }), params(300));
  });
});
