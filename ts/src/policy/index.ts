// PLACEHOLDER (branch polcore): a minimal stand-in for the policy module that helper
// "polts" writes in ts/src/policy/ (expression parser and strace-style formatter, the
// contract in /work/wt/shared/POLICY-INTERFACE.md). It exists only so that the plumbing of
// branch polcore (ts/src/api.ts, ts/src/cli.ts, ts/src/trace.ts) compiles and its tests run
// before the merge. At the merge, take polts' ts/src/policy/index.ts (and its other files)
// in place of this one: polcore imports only the names below, which polts' module exports
// with the same signatures. It understands only the simplest expressions (comma-separated
// names or numbers, `all`; error=, retval=, when=, signal=, delay_enter=, delay_exit=, kill)
// and formats an event as `name(raw args) = ret`.
import { OptionError } from '../errors.js';
import type { OptionNames } from '../names.js';
import { SYSCALL_NAMES } from '../syscalls.js';
import type { Rule, RuleScope, TraceEvent, TraceOptions } from './types.js';

export type { PolicyAction, Rule, RuleScope, TraceEvent, TraceOptions } from './types.js';

/** true in this placeholder only: tests that need polts' full syntax skip while it is set */
export const POLICY_PLACEHOLDER = true;

export const DEFAULT_TRACE_OPTIONS: Readonly<TraceOptions> = Object.freeze({ strsize: 32, lossy: false, timestamps: 'none', follow: false });

export type SyscallSetSpec = string | readonly (string | number)[];
export interface TraceSpec {
  calls?: SyscallSetSpec;
  from?: string | readonly string[];
  strsize?: number;
  lossy?: boolean;
  timestamps?: TraceOptions['timestamps'];
  follow?: boolean;
}
export interface InjectSpec {
  calls: SyscallSetSpec;
  error?: string | number;
  retval?: number | bigint;
  when?: string | number | { first: number; last?: number; step?: number };
  signal?: string | number;
  delayEnter?: number | string;
  delayExit?: number | string;
  from?: string | readonly string[];
}
export interface DenySpec {
  calls: SyscallSetSpec;
  error?: string | number;
  kill?: boolean;
  from?: string | readonly string[];
}
export interface PolicyOptions {
  trace?: boolean | string | TraceSpec;
  inject?: readonly (string | InjectSpec)[];
  deny?: readonly (string | DenySpec)[];
}

const BY_NAME = new Map(Object.entries(SYSCALL_NAMES).map(([nr, name]) => [name, Number(nr)]));
const ALL = Object.keys(SYSCALL_NAMES).map(Number).filter((n) => n < 512).sort((a, b) => a - b);
const ERRNO: Record<string, number> = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EEXIST: 17,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENOSPC: 28, EPIPE: 32, ENOSYS: 38, ECONNREFUSED: 111,
};
const SIGNAL: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGSYS: 31,
};

class Bad extends Error {}

function set(text: string | readonly (string | number)[]): number[] {
  const items = typeof text === 'string' ? (text === 'all' ? ALL.map(String) : text.split(',')) : text.map(String);
  return [...new Set(items.map((s) => {
    const n = /^[0-9]+$/.test(s) ? Number(s) : BY_NAME.get(s);
    if (n === undefined || n >= 512) throw new Bad(`unknown system call '${s}'`);
    return n;
  }))].sort((a, b) => a - b);
}
const errno = (v: string | number) => {
  const n = typeof v === 'number' ? v : /^[0-9]+$/.test(v) ? Number(v) : ERRNO[v];
  if (n === undefined || n < 1 || n > 4095) throw new Bad(`unknown errno '${v}'`);
  return n;
};
const signal = (v: string | number) => {
  const n = typeof v === 'number' ? v : /^[0-9]+$/.test(v) ? Number(v) : SIGNAL[v.startsWith('SIG') ? v : `SIG${v}`];
  if (n === undefined || n < 1 || n > 64) throw new Bad(`unknown signal '${v}'`);
  return n;
};
function when(v: string | number | { first: number; last?: number; step?: number }): Rule['when'] {
  if (typeof v === 'object') return v.last === undefined && v.step === undefined ? { first: v.first, last: v.first, step: 1 } : v;
  const m = /^([0-9]+)(?:\.\.([0-9]+))?(\+([0-9]*))?$/.exec(String(v));
  if (!m) throw new Bad(`bad when '${v}'`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? undefined : Number(m[2]);
  if (m[3] === undefined) return { first, last: last ?? first, step: 1 };
  const step = m[4] ? Number(m[4]) : 1;
  return last === undefined ? { first, step } : { first, last, step };
}
function scopeOf(from: string): RuleScope {
  if (from.startsWith('@')) return { origin: from.slice(1) as RuleScope['origin'] };
  const m = /^(pid|tid):([0-9]+)$/.exec(from);
  if (m) return m[1] === 'pid' ? { pid: Number(m[2]) } : { tid: Number(m[2]) };
  return { module: from };
}

function parseOne(expr: string, scope: RuleScope): Rule {
  const m = /^(trace|inject|fault|deny)=(.*)$/.exec(expr);
  const action = (m ? (m[1] === 'fault' ? 'inject' : m[1]) : 'trace') as Rule['action'];
  const [calls = '', ...tokens] = (m ? (m[2] as string) : expr).split(':');
  const rule: Rule = { action, nrs: set(calls), scope, text: expr };
  for (const t of tokens) {
    const [k = '', v = ''] = t.split('=');
    if (k === 'error') rule.error = errno(v);
    else if (k === 'retval') rule.retval = BigInt(v);
    else if (k === 'when') rule.when = when(v);
    else if (k === 'signal') rule.signal = signal(v);
    else if (k === 'delay_enter') rule.delayEnterUs = Number(v);
    else if (k === 'delay_exit') rule.delayExitUs = Number(v);
    else if (k === 'kill') rule.kill = true;
    else throw new Bad(`unknown '${t}'`);
  }
  if (action === 'deny' && !rule.kill && rule.error === undefined) rule.error = 1;
  if (m?.[1] === 'fault' && rule.error === undefined) rule.error = 38;
  return rule;
}

export function parseRuleExpressions(exprs: readonly string[], from?: readonly string[]): Rule[] {
  const scopes = from?.length ? from.map(scopeOf) : [{}];
  const out: Rule[] = [];
  for (const e of exprs) {
    try {
      for (const s of scopes) out.push(parseOne(e, s));
    } catch (err) {
      if (err instanceof Bad) throw new OptionError('trace', `-e ${e}: ${err.message}`);
      throw err;
    }
  }
  return out;
}

export function validateTraceOptions(trace: unknown, names: OptionNames): TraceOptions | undefined {
  if (trace === undefined || trace === false) return undefined;
  const o: TraceOptions = { ...DEFAULT_TRACE_OPTIONS };
  if (trace === true || typeof trace === 'string') return o;
  if (typeof trace !== 'object' || trace === null) throw new OptionError('trace', `${names('trace')}: expected true, a set or an object`);
  const t = trace as TraceSpec;
  if (t.strsize !== undefined) {
    if (!Number.isInteger(t.strsize) || t.strsize < 0 || t.strsize > 1 << 20) throw new OptionError('trace', `${names('trace')}.strsize: expected an integer 0..1048576`);
    o.strsize = t.strsize;
  }
  if (t.lossy !== undefined) o.lossy = t.lossy;
  if (t.timestamps !== undefined) o.timestamps = t.timestamps;
  return o;
}

export function validateRules(rules: unknown, names: OptionNames): Rule[] {
  if (rules === undefined) return [];
  const o = rules as PolicyOptions;
  const out: Rule[] = [];
  const at = <T>(key: string, path: string, f: () => T): T => {
    try { return f(); } catch (e) {
      if (e instanceof Bad) throw new OptionError(key, `${names(key)}${path}: ${e.message}`);
      throw e;
    }
  };
  const tr = validateTraceOptions(o.trace, names);
  if (tr) {
    const t = o.trace;
    const calls = typeof t === 'string' ? t : typeof t === 'object' ? t.calls : undefined;
    const from = typeof t === 'object' && t.from !== undefined ? (typeof t.from === 'string' ? [t.from] : t.from) : [];
    const nrs = calls === undefined ? ALL : at('trace', '.calls', () => set(calls));
    for (const s of from.length ? from.map(scopeOf) : [{}]) out.push({ action: 'trace', nrs, scope: s, text: 'trace' });
  }
  for (const action of ['inject', 'deny'] as const) {
    const list = o[action];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new OptionError(action, `${names(action)}: expected an array of rules`);
    list.forEach((v: string | InjectSpec | DenySpec, i: number) => {
      if (typeof v === 'string') { out.push(at(action, `[${i}]`, () => parseOne(`${action}=${v}`, {}))); return; }
      if (typeof v !== 'object' || v === null) throw new OptionError(action, `${names(action)}[${i}]: expected a rule object or a string`);
      const r: Rule = { action, nrs: at(action, `[${i}].calls`, () => set(v.calls)), scope: {}, text: `${action}[${i}]` };
      if (v.error !== undefined) r.error = at(action, `[${i}].error`, () => errno(v.error as string | number));
      if ('kill' in v && v.kill) r.kill = true;
      if (action === 'deny' && !r.kill && r.error === undefined) r.error = 1;
      if ('retval' in v && v.retval !== undefined) r.retval = BigInt(v.retval);
      if ('when' in v && v.when !== undefined) r.when = at(action, `[${i}].when`, () => when((v).when as string));
      if ('signal' in v && v.signal !== undefined) r.signal = at(action, `[${i}].signal`, () => signal((v).signal as string));
      if ('delayEnter' in v && v.delayEnter !== undefined) r.delayEnterUs = Number(v.delayEnter);
      if ('delayExit' in v && v.delayExit !== undefined) r.delayExitUs = Number(v.delayExit);
      const from = v.from === undefined ? [] : typeof v.from === 'string' ? [v.from] : v.from;
      for (const s of from.length ? from.map(scopeOf) : [{}]) out.push({ ...r, scope: s });
    });
  }
  return out;
}

export interface TraceArgs { rules: Rule[]; options: TraceOptions; output?: string; from?: string[]; program: string; args: string[] }

export const TRACE_USAGE = `usage: trapline trace [-f] [-e EXPR]... [--from MODULE] [-o FILE] [-s N] [-t|-tt|-ttt] [--lossy] [--] PROG [ARGS...]`;

export function parseTraceArgs(argv: readonly string[]): TraceArgs {
  const options: TraceOptions = { ...DEFAULT_TRACE_OPTIONS };
  const exprs: string[] = [];
  const from: string[] = [];
  let output: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-')) break;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new OptionError('args', `${a}: needs a value`);
      return v;
    };
    if (a === '-f') options.follow = true;
    else if (a === '-e') exprs.push(val());
    else if (a === '--from') from.push(val());
    else if (a === '-o') output = val();
    else if (a === '-s') options.strsize = Number(val());
    else if (a === '-t' || a === '-tt' || a === '-ttt') options.timestamps = a.slice(1) as TraceOptions['timestamps'];
    else if (a === '--lossy') options.lossy = true;
    else throw new OptionError('args', `unknown option ${a}`);
  }
  const program = argv[i];
  if (program === undefined) throw new OptionError('program', 'trace: no program given');
  const rules = parseRuleExpressions(exprs, from);
  if (!rules.some((r) => r.action === 'trace')) rules.unshift(...(from.length ? from.map(scopeOf) : [{}]).map((scope) => ({ action: 'trace' as const, nrs: ALL, scope, text: 'trace=all' })));
  return { rules, options, ...(output !== undefined ? { output } : {}), ...(from.length ? { from } : {}), program, args: argv.slice(i + 1) };
}

export interface FormatContext { prefix?: 'none' | 'pid' | 'column' }
export type ProcessEnd = { exited: number } | { signal: number; core?: boolean };

export function formatEvent(ev: TraceEvent, opts: TraceOptions, ctx?: FormatContext): string {
  void opts;
  void ctx;
  const name = ev.abi === 'x86_64' ? (SYSCALL_NAMES[ev.nr] ?? `syscall_${ev.nr}`) : `i386_${ev.nr}`;
  const ret = ev.ret < 0n && ev.ret > -4096n ? `-1 (errno ${-ev.ret})` : String(ev.ret);
  return `[pid ${ev.pid}] ${name}(${ev.args.map((a) => `0x${a.toString(16)}`).join(', ')}) = ${ret}${ev.policy ? ` (${ev.policy.toUpperCase()})` : ''}`;
}

export function formatExit(tid: number, end: ProcessEnd, opts: TraceOptions, tsNs: bigint, ctx?: FormatContext): string {
  void opts; void tsNs;
  const lead = ctx?.prefix === 'column' ? `${tid} ` : '';
  return 'exited' in end ? `${lead}+++ exited with ${end.exited} +++` : `${lead}+++ killed by signal ${end.signal} +++`;
}

export function createFormatter(opts: TraceOptions, output: 'file' | 'stream'): { format(ev: TraceEvent): string; gone(tid: number): void } {
  void output;
  return { format: (ev) => formatEvent(ev, opts), gone: () => {} };
}
