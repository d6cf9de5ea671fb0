// Policy rules from strace's expressions (`-e trace=SET`, `-e inject=...`, `-e fault=...`) and
// trapline's own `-e deny=...`, from the `trapline trace` command line, and from the API's
// rule objects. Semantics as strace's filter_qualify.c; every problem is one OptionError line
// naming the expression (or the API property) at fault.
import { OptionError } from '../errors.js';
import type { OptionNames } from '../names.js';
import { errnoByName, errnoName, MAX_ERRNO, NSIG, signalByName, signalName } from './names.js';
import { formatScope, parseScope } from './scope.js';
import { ALL_NRS, ExprError, formatSyscallSet, parseSyscallSet, syscallName } from './sets.js';
import type { Rule, RuleScope, TraceOptions } from './types.js';

/** strace's default -s: bytes of strings and buffers shown. */
export const DEFAULT_STRSIZE = 32;
/** The largest -s trapline takes (bytes captured per string or buffer). */
export const MAX_STRSIZE = 1 << 20;
/** deny's errno when none is given. */
export const DEFAULT_DENY_ERRNO = 1; // EPERM
/** fault's errno when none is given (strace). */
export const DEFAULT_FAULT_ERRNO = 38; // ENOSYS
const WHEN_MAX = 0xffff;
const MAX_DELAY_US = Number.MAX_SAFE_INTEGER;

export const DEFAULT_TRACE_OPTIONS: Readonly<TraceOptions> = Object.freeze({
  strsize: DEFAULT_STRSIZE, lossy: false, timestamps: 'none', follow: false,
});

type When = NonNullable<Rule['when']>;

// ---- values, parsed as strace parses them -------------------------------------------------

/** strtoll(s, &end, 10) as strace's string_to_uint_ex uses it: blanks, a sign, digits. */
function strtoll(s: string): { value: number; rest: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(s);
  if (!m) return undefined;
  const v = Number(m[2]);
  return { value: m[1] === '-' ? -v : v, rest: s.slice(m[0].length) };
}

/** strace's string_to_uint_ex: a number in 0..max followed by nothing or one of endings. */
function uintEx(s: string, max: number, endings = ''): { value: number; rest: string } | undefined {
  const r = strtoll(s);
  if (!r || r.value < 0 || r.value > max) return undefined;
  if (r.rest !== '' && !endings.includes(r.rest[0] as string)) return undefined;
  return { value: Math.abs(r.value), rest: r.rest };
}

function uintUpto(s: string, max: number): number | undefined {
  const r = uintEx(s, max);
  return r && r.rest === '' ? r.value : undefined;
}

/** when=FIRST[..LAST][+[STEP]] (strace): FIRST and STEP in 1..65535, LAST in FIRST..65534.
 *  Normalized so that a call numbered n (1-based) is selected iff n >= first, n <= last (when
 *  last is given) and (n - first) % step == 0: FIRST alone is {first, last: first, step: 1}. */
export function parseWhen(text: string): When {
  const bad = (why: string) => new ExprError(`when '${text}': ${why} (expected FIRST[..LAST][+[STEP]], numbers 1..65535)`);
  const f = uintEx(text, WHEN_MAX, '+.');
  if (!f || f.value < 1) throw bad('bad FIRST');
  const first = f.value;
  let rest = f.rest;
  let last: number | undefined;
  if (rest.startsWith('.')) {
    if (!rest.startsWith('..')) throw bad("expected '..'");
    const l = uintEx(rest.slice(2), WHEN_MAX, '+');
    if (!l || l.value < first || l.value === WHEN_MAX) throw bad(`bad LAST (must be ${first}..${WHEN_MAX - 1})`);
    last = l.value;
    rest = l.rest;
  }
  if (rest === '') return last === undefined ? { first, last: first, step: 1 } : { first, last, step: 1 };
  // rest begins with '+'
  const s = rest.slice(1);
  let step = 1;
  if (s !== '') {
    const v = uintUpto(s, WHEN_MAX);
    if (v === undefined || v < 1) throw bad('bad STEP');
    step = v;
  }
  return last === undefined ? { first, step } : { first, last, step };
}

/** The when= text of a normalized when (inverse of parseWhen). */
export function formatWhen(w: When): string {
  const step = w.step ?? 1;
  if (w.last === w.first && w.last !== undefined) return String(w.first);
  const range = w.last === undefined ? String(w.first) : `${w.first}..${w.last}`;
  if (w.last === undefined) return `${range}+${step === 1 ? '' : step}`;
  return step === 1 ? range : `${range}+${step}`;
}

/** Whether the n-th call (1-based) is selected by when (every call when undefined). */
export function whenSelects(when: Rule['when'], n: number): boolean {
  if (when === undefined) return true;
  if (n < when.first) return false;
  if (when.last !== undefined && n > when.last) return false;
  return (n - when.first) % (when.step ?? 1) === 0;
}

/** error=ERRNO: a name (any case) or a number in 1..4095. */
export function parseErrno(text: string): number {
  const n = uintUpto(text, MAX_ERRNO);
  const v = n !== undefined ? n : errnoByName(text);
  if (v === undefined || v < 1) {
    throw new ExprError(/^[ \t]*[+-]?[0-9]/.test(text)
      ? `errno '${text}': a number must be 1..${MAX_ERRNO}`
      : `unknown errno name '${text}' (e.g. ENOENT, EACCES, EPERM)`);
  }
  return v;
}

/** signal=SIG: a name (SIGUSR1, USR1, usr1, SIGRTMIN, SIGRT_3) or a number in 1..64. */
export function parseSignal(text: string): number {
  const v = /^[0-9]/.test(text) ? uintUpto(text, 255) : signalByName(text);
  if (v === undefined || v < 1 || v > NSIG) {
    throw new ExprError(/^[0-9]/.test(text) ? `signal '${text}': a number must be 1..${NSIG}` : `unknown signal name '${text}' (e.g. SIGUSR1, USR1, SIGRTMIN)`);
  }
  return v;
}

/** retval=N: strtoull(N, 0, 0) (decimal, 0x hex, 0 octal, - wraps), as a signed 64-bit value. */
export function parseRetval(text: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) throw new ExprError(`retval '${text}' is not a number (decimal, 0x hex or 0 octal)`);
  const digits = m[2] as string;
  const mag = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  if (mag > 0xffffffffffffffffn) throw new ExprError(`retval '${text}' is out of range (64 bits)`);
  return BigInt.asIntN(64, m[1] === '-' ? -mag : mag);
}

/** delay_enter=/delay_exit=: a decimal number with an optional unit s, ms, us (the default)
 *  or ns; microseconds, rounded up. */
export function parseDelay(key: string, text: string): number {
  const m = /^[ \t]*\+?((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(s|ms|us|ns)?$/.exec(text);
  if (!m) throw new ExprError(`${key} '${text}': expected a non-negative time, e.g. 100, 1.5ms, 2s (units s ms us ns; us when none)`);
  const unitNs = { s: 1e9, ms: 1e6, us: 1e3, ns: 1 }[m[2] as 's' | 'ms' | 'us' | 'ns' ?? 'us'] ?? 1e3;
  const us = Math.ceil((Number(m[1]) * unitNs) / 1000);
  if (!Number.isFinite(us) || us > MAX_DELAY_US) throw new ExprError(`${key} '${text}' is too long`);
  return us;
}

// ---- expressions -------------------------------------------------------------------------

/** What one expression asks for, before its scope is applied. */
type Parsed = Omit<Rule, 'scope'>;

/** The qualifiers of strace that trapline does not take (for a clear message). */
const STRACE_ONLY = ['abbrev', 'a', 'verbose', 'v', 'raw', 'x', 'signal', 'signals', 's', 'status', 'quiet',
  'silent', 'silence', 'q', 'read', 'reads', 'r', 'write', 'writes', 'w', 'kvm', 'decode-fd', 'decode-fds',
  'decode-pid', 'decode-pids', 'secontext'];

/** The action of an expression's qualifier; bare sets are trace=. */
function splitQualifier(expr: string): { qualifier: 'trace' | 'inject' | 'fault' | 'deny'; value: string } {
  const m = /^([a-z][a-z-]*)=/.exec(expr);
  if (!m) return { qualifier: 'trace', value: expr };
  const q = m[1] as string;
  const value = expr.slice(m[0].length);
  if (q === 'trace' || q === 't') return { qualifier: 'trace', value };
  if (q === 'inject' || q === 'fault' || q === 'deny') return { qualifier: q, value };
  if (STRACE_ONLY.includes(q)) throw new ExprError(`strace's ${q}= is not supported by trapline (qualifiers: trace, inject, fault, deny)`);
  throw new ExprError(`unknown qualifier '${q}' (qualifiers: trace, inject, fault, deny)`);
}

/** SET[:TOKEN]... split as strace's strtok(":") does (empty tokens skipped). */
function splitTokens(value: string): { set: string; tokens: string[] } {
  if (value === '' || value.startsWith(':')) throw new ExprError('no system calls given');
  const parts = value.split(':').filter((t) => t !== '');
  return { set: parts[0] as string, tokens: parts.slice(1) };
}

const INJECT_KEYS = 'error=, retval=, signal=, delay_enter=, delay_exit=, when=';

/** inject=/fault= (strace) and deny= (trapline) values. */
function parseTamper(qualifier: 'inject' | 'fault' | 'deny', value: string, text: string): Parsed {
  const { set, tokens } = splitTokens(value);
  const rule: Parsed = { action: qualifier === 'deny' ? 'deny' : 'inject', nrs: parseSyscallSet(set), text };
  for (const token of tokens) {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const val = eq < 0 ? '' : token.slice(eq + 1);
    if (qualifier === 'deny') {
      if (key === 'error' && eq >= 0) {
        if (rule.error !== undefined || rule.kill) throw new ExprError('deny takes one error= or kill');
        rule.error = parseErrno(val);
      } else if (token === 'kill') {
        if (rule.error !== undefined || rule.kill) throw new ExprError('deny takes one error= or kill');
        rule.kill = true;
      } else throw new ExprError(`'${token}': deny takes error=ERRNO or kill`);
      continue;
    }
    const faultOnly = qualifier === 'fault';
    if (eq < 0) throw new ExprError(`'${token}': expected one of ${faultOnly ? 'error=, when=' : INJECT_KEYS}`);
    switch (key) {
      case 'when':
        rule.when = parseWhen(val); // the last when= wins, as in strace
        break;
      case 'error':
        if (rule.error !== undefined || rule.retval !== undefined) throw new ExprError('one error= or retval= only');
        rule.error = parseErrno(val);
        break;
      case 'retval':
        if (faultOnly) throw new ExprError("fault= takes error= and when= only (use inject= for retval=)");
        if (rule.error !== undefined || rule.retval !== undefined) throw new ExprError('one error= or retval= only');
        rule.retval = parseRetval(val);
        break;
      case 'signal':
        if (faultOnly) throw new ExprError("fault= takes error= and when= only (use inject= for signal=)");
        if (rule.signal !== undefined) throw new ExprError('one signal= only');
        rule.signal = parseSignal(val);
        break;
      case 'delay_enter':
      case 'delay_exit': {
        if (faultOnly) throw new ExprError(`fault= takes error= and when= only (use inject= for ${key}=)`);
        const field = key === 'delay_enter' ? 'delayEnterUs' : 'delayExitUs';
        if (rule[field] !== undefined) throw new ExprError(`one ${key}= only`);
        rule[field] = parseDelay(key, val);
        break;
      }
      case 'syscall':
      case 'poke_enter':
      case 'poke_exit':
        throw new ExprError(`strace's ${key}= is not supported by trapline (${INJECT_KEYS})`);
      default:
        throw new ExprError(`'${token}': unknown; expected one of ${faultOnly ? 'error=, when=' : INJECT_KEYS}`);
    }
  }
  if (qualifier === 'deny') {
    if (!rule.kill && rule.error === undefined) rule.error = DEFAULT_DENY_ERRNO;
  } else if (rule.error === undefined && rule.retval === undefined && rule.signal === undefined
    && rule.delayEnterUs === undefined && rule.delayExitUs === undefined) {
    if (qualifier === 'fault') rule.error = DEFAULT_FAULT_ERRNO;
    else throw new ExprError(`inject needs at least one of error=, retval=, signal=, delay_enter=, delay_exit=`);
  }
  return rule;
}

/** One -e value (without its scope). Throws ExprError. */
function parseExpression(expr: string): Parsed {
  const { qualifier, value } = splitQualifier(expr);
  if (qualifier === 'trace') return { action: 'trace', nrs: parseSyscallSet(value), text: expr };
  return parseTamper(qualifier, value, expr);
}

function scopeKey(scope: RuleScope): string {
  return JSON.stringify([scope.module, scope.origin, scope.pid, scope.tid]);
}

/**
 * strace's precedence, per scope: a later trace= replaces an earlier one (strace keeps one
 * trace set, each -e trace= starting it anew); a later inject/fault/deny takes its calls from
 * earlier inject/fault/deny rules (strace keeps one injection per call, the last given).
 * Rules left selecting nothing by this are dropped; rules given with an empty set are kept.
 */
function applyPrecedence(rules: Rule[]): Rule[] {
  const out: (Rule | undefined)[] = [];
  for (const rule of rules) {
    const key = scopeKey(rule.scope);
    for (let i = 0; i < out.length; i++) {
      const prev = out[i];
      if (!prev || scopeKey(prev.scope) !== key) continue;
      if (rule.action === 'trace' && prev.action === 'trace') out[i] = undefined;
      else if (rule.action !== 'trace' && prev.action !== 'trace') {
        const taken = new Set(rule.nrs);
        const left = prev.nrs.filter((nr) => !taken.has(nr));
        if (left.length === prev.nrs.length) continue;
        out[i] = left.length ? { ...prev, nrs: left } : undefined;
      }
    }
    out.push(rule);
  }
  return out.filter((r): r is Rule => r !== undefined);
}

function scoped(parsed: Parsed, scopes: RuleScope[]): Rule[] {
  return scopes.map((scope) => ({ ...parsed, nrs: [...parsed.nrs], scope: { ...scope } }));
}

function optionKey(expr: string): string {
  const m = /^(inject|fault|deny)=/.exec(expr);
  return m ? (m[1] === 'fault' ? 'inject' : (m[1] as string)) : 'trace';
}

/** Scopes from --from values; several are alternatives (a rule for each). */
function parseScopes(from: readonly string[] | undefined, where: (f: string) => string, key = 'from'): RuleScope[] {
  if (!from || from.length === 0) return [{}];
  return from.map((f) => {
    try {
      return parseScope(f);
    } catch (e) {
      if (e instanceof ExprError) throw new OptionError(key, `${where(f)}: ${e.message}`);
      throw e;
    }
  });
}

/**
 * The rules of `-e` values (trace=SET, inject=..., fault=..., deny=..., or a bare SET for
 * trace=), each limited to the calls from any of the modules of from (--from values). Throws
 * OptionError naming the expression: `-e inject=openat:error=EFOO: error=EFOO: unknown errno name`.
 */
export function parseRuleExpressions(exprs: readonly string[], from?: readonly string[]): Rule[] {
  const scopes = parseScopes(from, (f) => `--from ${f}`);
  const rules: Rule[] = [];
  for (const expr of exprs) {
    if (typeof expr !== 'string') throw new OptionError('trace', `-e: expected a string expression, not ${typeof expr}`);
    try {
      rules.push(...scoped(parseExpression(expr), scopes));
    } catch (e) {
      if (e instanceof ExprError) throw new OptionError(optionKey(expr), `-e ${expr}: ${e.message}`);
      throw e;
    }
  }
  return applyPrecedence(rules);
}

/** The -e expression of a rule (its scope aside): parseRuleExpressions([formatRule(r)]) gives
 *  back r's action, numbers and parameters. */
export function formatRule(rule: Rule): string {
  const parts = [`${rule.action}=${formatSyscallSet(rule.nrs)}`];
  if (rule.action === 'deny') {
    parts.push(rule.kill ? 'kill' : `error=${errnoName(rule.error ?? DEFAULT_DENY_ERRNO) ?? rule.error}`);
    return parts.join(':');
  }
  if (rule.action === 'trace') return parts[0] as string;
  if (rule.error !== undefined) parts.push(`error=${errnoName(rule.error) ?? rule.error}`);
  if (rule.retval !== undefined) parts.push(`retval=${rule.retval}`);
  if (rule.signal !== undefined) parts.push(`signal=${signalName(rule.signal) ?? rule.signal}`);
  if (rule.delayEnterUs !== undefined) parts.push(`delay_enter=${rule.delayEnterUs}`);
  if (rule.delayExitUs !== undefined) parts.push(`delay_exit=${rule.delayExitUs}`);
  if (rule.when !== undefined) parts.push(`when=${formatWhen(rule.when)}`);
  return parts.join(':');
}

/** formatRule with the rule's scope, as a command line would give it. */
export function describeRule(rule: Rule): string {
  const from = formatScope(rule.scope);
  return from ? `--from ${from} -e ${formatRule(rule)}` : `-e ${formatRule(rule)}`;
}

// ---- the trapline trace command line ------------------------------------------------------

export interface TraceArgs {
  rules: Rule[];
  options: TraceOptions;
  /** -o FILE */
  output?: string;
  /** the --from values, in order */
  from?: string[];
  program: string;
  args: string[];
}

/** `trapline trace --help`: the options parseTraceArgs takes. */
export const TRACE_USAGE = `usage: trapline trace [OPTIONS] [--] PROG [ARGS...]
  -e EXPR          a rule, in strace's syntax (repeatable):
                     trace=SET                 print the calls of SET (default: all)
                     inject=SET:error=ERRNO|retval=N[:when=EXPR][:signal=SIG][:delay_enter=US][:delay_exit=US]
                     fault=SET[:error=ERRNO][:when=EXPR]   (inject, error=ENOSYS by default)
                     deny=SET[:error=ERRNO|:kill]          (fail without performing; EPERM by default)
                   SET: names, numbers, %file %process %network %signal %ipc %desc %memory %creds
                   %clock %stat %lstat %fstat %%stat %statfs %fstatfs %%statfs %pure, /REGEX,
                   all, none; ! before the set inverts it; ? before an element allows it to select nothing
                   EXPR (when=): FIRST[..LAST][+[STEP]]
  --from MODULE    the -e rules after it apply only to calls made from MODULE: a path glob
                   (libplugin.so, /opt/*/lib*.so), build-id:HEX, @main, @startup, @dlopen, @jit,
                   @vdso, pid:N or tid:N; several --from in a row: any of them; a --from with no -e
                   after it limits the default trace=all
  -o FILE          write the trace to FILE (default: standard error)
  -s STRSIZE       bytes of strings and buffers to show (default ${DEFAULT_STRSIZE})
  -t, -tt, -ttt    prefix each line with the time of day, with microseconds, or as seconds since the epoch
  -f               follow children (always on; accepted for strace compatibility)
  --lossy          when a thread's trace buffer is full, drop and count records instead of waiting`;

const LONG_EXPR: Readonly<Record<string, string>> = { trace: 'trace', inject: 'inject', fault: 'fault', deny: 'deny' };

function usage(key: string, message: string): OptionError {
  return new OptionError(key, message);
}

/** -s N: 0..MAX_STRSIZE. */
function parseStrsize(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > MAX_STRSIZE) {
    throw usage('strsize', `-s ${text}: expected a number of bytes, 0..${MAX_STRSIZE}`);
  }
  return Number(text);
}

/**
 * The `trapline trace` command line: options up to `--` or the first argument that is not an
 * option, then PROG and its arguments untouched. Without any -e trace=, all calls are traced
 * (limited by a --from that no -e follows). Throws OptionError naming the bad option or
 * expression, in one line.
 */
export function parseTraceArgs(argv: readonly string[]): TraceArgs {
  const options: TraceOptions = { ...DEFAULT_TRACE_OPTIONS };
  let output: string | undefined;
  const fromAll: string[] = [];
  // groups of consecutive --from values, each with the expressions that follow it
  const groups: { from: string[]; exprs: string[] }[] = [{ from: [], exprs: [] }];
  let tflag = 0;
  let i = 0;
  const need = (opt: string, key: string): string => {
    const v = argv[++i];
    if (v === undefined) throw usage(key, `${opt}: needs a value`);
    return v;
  };
  const addFrom = (v: string) => {
    const last = groups[groups.length - 1] as { from: string[]; exprs: string[] };
    if (last.exprs.length === 0) last.from.push(v);
    else groups.push({ from: [v], exprs: [] });
    fromAll.push(v);
  };
  const addExpr = (v: string) => (groups[groups.length - 1] as { exprs: string[] }).exprs.push(v);
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (typeof a !== 'string') throw usage('args', 'arguments must be strings');
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      const value = (key: string) => inline ?? need(`--${name}`, key);
      const flag = () => {
        if (inline !== undefined) throw usage('args', `--${name}: takes no value`);
      };
      if (name in LONG_EXPR) addExpr(`${LONG_EXPR[name]}=${value(name === 'fault' ? 'inject' : name)}`);
      else if (name === 'from') addFrom(value('from'));
      else if (name === 'output') output = value('output');
      else if (name === 'string-limit') options.strsize = parseStrsize(value('strsize'));
      else if (name === 'follow-forks') {
        flag();
        options.follow = true;
      } else if (name === 'lossy') {
        flag();
        options.lossy = true;
      } else throw usage('args', `unknown option --${name} (see trapline trace --help)`);
      continue;
    }
    // short options, grouped as getopt does: -ftt, -e EXPR, -eEXPR, -oFILE, -s64
    for (let j = 1; j < a.length; j++) {
      const c = a[j] as string;
      if (c === 'f') options.follow = true;
      else if (c === 't') tflag++;
      else if (c === 'e' || c === 'o' || c === 's') {
        const v = j + 1 < a.length ? a.slice(j + 1) : need(`-${c}`, c === 'e' ? 'trace' : c === 'o' ? 'output' : 'strsize');
        if (c === 'e') addExpr(v);
        else if (c === 'o') output = v;
        else options.strsize = parseStrsize(v);
        break;
      } else throw usage('args', `unknown option -${c} (see trapline trace --help)`);
    }
  }
  if (output === '') throw usage('output', '-o: needs a file name');
  options.timestamps = tflag === 0 ? 'none' : tflag === 1 ? 't' : tflag === 2 ? 'tt' : 'ttt';
  const program = argv[i];
  if (program === undefined) throw usage('program', 'trace: no program given (see trapline trace --help)');

  let rules: Rule[] = [];
  for (const g of groups) rules.push(...parseRuleExpressions(g.exprs, g.from));
  rules = applyPrecedence(rules);
  const tail = groups[groups.length - 1] as { from: string[]; exprs: string[] };
  const hasTrace = rules.some((r) => r.action === 'trace');
  if (tail.exprs.length === 0 && tail.from.length > 0) {
    if (hasTrace) throw usage('from', `--from ${tail.from.join(' --from ')}: no -e expression follows it`);
    rules.push(...parseRuleExpressions(['trace=all'], tail.from));
  } else if (!hasTrace) {
    rules.unshift({ action: 'trace', nrs: [...ALL_NRS], scope: {}, text: 'trace=all' });
  }
  const result: TraceArgs = { rules, options, program, args: argv.slice(i + 1) };
  if (output !== undefined) result.output = output;
  if (fromAll.length) result.from = fromAll;
  return result;
}

// ---- the API's rule objects ---------------------------------------------------------------

/** A set of calls in the API: a set in strace's syntax ('%file', '!read,write'), or a list of
 *  set elements (names, numbers, classes, /regex). */
export type SyscallSetSpec = string | readonly (string | number)[];

/** options.trace: true (every call), a set, or this. */
export interface TraceSpec {
  calls?: SyscallSetSpec;
  /** limit to calls from these modules (--from syntax; several: any of them) */
  from?: string | readonly string[];
  /** bytes of strings and buffers captured and shown (-s; default 32) */
  strsize?: number;
  /** drop and count records when a thread's buffer is full, instead of waiting */
  lossy?: boolean;
  timestamps?: TraceOptions['timestamps'];
  follow?: boolean;
}

/** An element of options.inject: strace's inject= value ('openat:error=ENOENT:when=3'), or this. */
export interface InjectSpec {
  calls: SyscallSetSpec;
  /** errno name or number: the call fails with it, not performed */
  error?: string | number;
  /** the call returns this, not performed */
  retval?: number | bigint;
  /** strace's when: 'FIRST[..LAST][+[STEP]]', a FIRST, or the parts */
  when?: string | number | { first: number; last?: number; step?: number };
  signal?: string | number;
  /** microseconds, or a string with a unit ('1.5ms') */
  delayEnter?: number | string;
  delayExit?: number | string;
  from?: string | readonly string[];
}

/** An element of options.deny: a deny= value ('connect:error=EACCES'), or this. */
export interface DenySpec {
  calls: SyscallSetSpec;
  /** errno name or number (default EPERM) */
  error?: string | number;
  /** kill the process with SIGSYS instead */
  kill?: boolean;
  from?: string | readonly string[];
}

/** The policy options of spawn()/run(). */
export interface PolicyOptions {
  trace?: boolean | string | TraceSpec;
  inject?: readonly (string | InjectSpec)[];
  deny?: readonly (string | DenySpec)[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined) return String(v);
  return `a ${typeof v}`;
}

class Checker {
  constructor(readonly names: OptionNames) {}

  fail(key: string, path: string, problem: string): never {
    throw new OptionError(key, `${this.names(key)}${path}: ${problem}`);
  }

  /** f(), with its ExprError as an OptionError at key+path */
  at<T>(key: string, path: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof ExprError) this.fail(key, path, e.message);
      throw e;
    }
  }

  keys(key: string, path: string, o: Record<string, unknown>, allowed: string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(key, `${path}.${k}`, `unknown property (expected ${allowed.join(', ')})`);
    }
  }

  calls(key: string, path: string, v: unknown): number[] {
    if (typeof v === 'string') return this.at(key, path, () => parseSyscallSet(v));
    if (!Array.isArray(v)) this.fail(key, path, `expected a set of calls: a string like '%file' or '!read,write', or an array of names and numbers, not ${describe(v)}`);
    const nrs = new Set<number>();
    v.forEach((el: unknown, i) => {
      const p = `${path}[${i}]`;
      if (typeof el === 'number') {
        if (!Number.isInteger(el) || syscallName(el) === undefined) this.fail(key, p, `${el} is not an x86-64 system call number`);
        nrs.add(el);
      } else if (typeof el === 'string') {
        if (el === '' || el.includes(',') || el.startsWith('!')) this.fail(key, p, `expected one name, number, %class or /regex, not ${describe(el)} (a string for the whole set takes commas and !)`);
        for (const nr of this.at(key, p, () => parseSyscallSet(el))) nrs.add(nr);
      } else this.fail(key, p, `expected a system call name or number, not ${describe(el)}`);
    });
    return [...nrs].sort((a, b) => a - b);
  }

  scopes(key: string, path: string, v: unknown): RuleScope[] {
    if (v === undefined) return [{}];
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0) this.fail(key, path, `expected a module (path glob, build-id:HEX, @main, @startup, @dlopen, @jit, @vdso, pid:N, tid:N) or a non-empty array of them, not ${describe(v)}`);
    return list.map((f: unknown, i) => {
      const p = Array.isArray(v) ? `${path}[${i}]` : path;
      if (typeof f !== 'string') this.fail(key, p, `expected a string, not ${describe(f)}`);
      return this.at(key, p, () => parseScope(f));
    });
  }

  errno(key: string, path: string, v: unknown): number {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 1 || v > MAX_ERRNO) this.fail(key, path, `an errno number is 1..${MAX_ERRNO}, not ${v}`);
      return v;
    }
    if (typeof v === 'string') return this.at(key, path, () => parseErrno(v).valueOf());
    return this.fail(key, path, `expected an errno name like 'ENOENT' or a number, not ${describe(v)}`);
  }
}

function exprFor(action: 'inject' | 'deny', text: string): string {
  return `${action}=${text}`;
}

/** options.inject[i] / options.deny[i] */
function checkTamper(c: Checker, action: 'inject' | 'deny', i: number, v: unknown): Rule[] {
  const path = `[${i}]`;
  if (typeof v === 'string') {
    const text = exprFor(action, v);
    const parsed = c.at(action, path, () => parseTamper(action, v, text));
    return [{ ...parsed, scope: {} }];
  }
  if (!isObject(v)) {
    return c.fail(action, path, `expected a rule object or a string in strace's syntax ('${action === 'inject' ? 'openat:error=ENOENT:when=3' : 'connect:error=EACCES'}'), not ${describe(v)}`);
  }
  const allowed = action === 'inject'
    ? ['calls', 'error', 'retval', 'when', 'signal', 'delayEnter', 'delayExit', 'from']
    : ['calls', 'error', 'kill', 'from'];
  c.keys(action, path, v, allowed);
  if (v.calls === undefined) c.fail(action, `${path}.calls`, 'required: the calls the rule applies to');
  const nrs = c.calls(action, `${path}.calls`, v.calls);
  const rule: Omit<Rule, 'scope' | 'text'> = { action, nrs };
  if (action === 'deny') {
    if (v.kill !== undefined && typeof v.kill !== 'boolean') c.fail(action, `${path}.kill`, `expected a boolean, not ${describe(v.kill)}`);
    if (v.kill === true) {
      if (v.error !== undefined) c.fail(action, `${path}.kill`, 'kill and error exclude each other');
      rule.kill = true;
    } else rule.error = v.error === undefined ? DEFAULT_DENY_ERRNO : c.errno(action, `${path}.error`, v.error);
  } else {
    if (v.error !== undefined && v.retval !== undefined) c.fail(action, `${path}.retval`, 'error and retval exclude each other');
    if (v.error !== undefined) rule.error = c.errno(action, `${path}.error`, v.error);
    if (v.retval !== undefined) {
      const r = v.retval;
      if (typeof r === 'bigint') {
        if (r < -(1n << 63n) || r > 0xffffffffffffffffn) c.fail(action, `${path}.retval`, 'out of range (64 bits)');
        rule.retval = BigInt.asIntN(64, r);
      } else if (typeof r === 'number' && Number.isSafeInteger(r)) rule.retval = BigInt(r);
      else c.fail(action, `${path}.retval`, `expected an integer or a bigint, not ${describe(r)}`);
    }
    if (v.signal !== undefined) {
      const s = v.signal;
      if (typeof s === 'number') {
        if (!Number.isInteger(s) || s < 1 || s > NSIG) c.fail(action, `${path}.signal`, `a signal number is 1..${NSIG}, not ${s}`);
        rule.signal = s;
      } else if (typeof s === 'string') rule.signal = c.at(action, `${path}.signal`, () => parseSignal(s));
      else c.fail(action, `${path}.signal`, `expected a signal name like 'SIGUSR1' or a number, not ${describe(s)}`);
    }
    for (const [k, field] of [['delayEnter', 'delayEnterUs'], ['delayExit', 'delayExitUs']] as const) {
      const d = v[k];
      if (d === undefined) continue;
      if (typeof d === 'number') {
        if (!Number.isSafeInteger(d) || d < 0) c.fail(action, `${path}.${k}`, `expected a non-negative integer of microseconds, not ${d}`);
        rule[field] = d;
      } else if (typeof d === 'string') rule[field] = c.at(action, `${path}.${k}`, () => parseDelay(k === 'delayEnter' ? 'delay_enter' : 'delay_exit', d));
      else c.fail(action, `${path}.${k}`, `expected microseconds or a string like '1.5ms', not ${describe(d)}`);
    }
    if (v.when !== undefined) {
      const w = v.when;
      const p = `${path}.when`;
      if (typeof w === 'string') rule.when = c.at(action, p, () => parseWhen(w));
      else if (typeof w === 'number') rule.when = c.at(action, p, () => parseWhen(Number.isInteger(w) ? String(w) : 'x'));
      else if (isObject(w)) {
        c.keys(action, p, w, ['first', 'last', 'step']);
        const num = (k: string, max: number, min: number): number | undefined => {
          const x = w[k];
          if (x === undefined) return undefined;
          if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) c.fail(action, `${p}.${k}`, `expected an integer ${min}..${max}, not ${describe(x)}`);
          return x;
        };
        const first = num('first', WHEN_MAX, 1);
        if (first === undefined) c.fail(action, `${p}.first`, 'required: the first call (1-based) to act on');
        const last = num('last', WHEN_MAX - 1, first);
        const step = num('step', WHEN_MAX, 1) ?? 1;
        rule.when = last === undefined ? { first, step } : { first, last, step };
      } else c.fail(action, p, `expected 'FIRST[..LAST][+[STEP]]', a number or { first, last, step }, not ${describe(w)}`);
    }
    if (rule.error === undefined && rule.retval === undefined && rule.signal === undefined
      && rule.delayEnterUs === undefined && rule.delayExitUs === undefined) {
      c.fail(action, path, 'needs at least one of error, retval, signal, delayEnter, delayExit');
    }
  }
  const scopes = c.scopes(action, `${path}.from`, v.from);
  const full = { ...rule, scope: {}, text: '' } as Rule;
  const text = formatRule(full);
  return scopes.map((scope) => ({ ...full, nrs: [...nrs], scope, text }));
}

/** options.trace (undefined: no trace rule). */
export function validateTraceOptions(trace: unknown, names: OptionNames): TraceOptions | undefined {
  const c: Checker = new Checker(names);
  if (trace === undefined || trace === false) return undefined;
  const options: TraceOptions = { ...DEFAULT_TRACE_OPTIONS };
  if (trace === true || typeof trace === 'string') return options;
  if (!isObject(trace)) c.fail('trace', '', `expected true, a set of calls ('%file') or { calls, from, strsize, lossy, timestamps, follow }, not ${describe(trace)}`);
  c.keys('trace', '', trace, ['calls', 'from', 'strsize', 'lossy', 'timestamps', 'follow']);
  if (trace.strsize !== undefined) {
    const s = trace.strsize;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > MAX_STRSIZE) c.fail('trace', '.strsize', `expected an integer 0..${MAX_STRSIZE}, not ${describe(s)}`);
    options.strsize = s;
  }
  for (const k of ['lossy', 'follow'] as const) {
    const b = trace[k];
    if (b === undefined) continue;
    if (typeof b !== 'boolean') c.fail('trace', `.${k}`, `expected a boolean, not ${describe(b)}`);
    options[k] = b;
  }
  if (trace.timestamps !== undefined) {
    const t = trace.timestamps;
    if (t !== 'none' && t !== 't' && t !== 'tt' && t !== 'ttt') c.fail('trace', '.timestamps', `expected 'none', 't', 'tt' or 'ttt', not ${describe(t)}`);
    options.timestamps = t;
  }
  return options;
}

/**
 * The rules of the API's policy options ({ trace, inject, deny }: other properties of the
 * object are ignored), checked: OptionError naming the property at fault with names
 * (`options.inject[1].error: ...`). The trace rule comes first, then inject, then deny: for a
 * call that an inject and a deny rule of the same scope both select, deny wins.
 */
export function validateRules(rules: unknown, names: OptionNames): Rule[] {
  const c: Checker = new Checker(names);
  if (rules === undefined) return [];
  if (!isObject(rules)) c.fail('options', '', `expected an object with trace, inject and deny, not ${describe(rules)}`);
  const out: Rule[] = [];
  const trace = rules.trace;
  if (validateTraceOptions(trace, names) !== undefined) {
    let nrs = [...ALL_NRS];
    let scopes: RuleScope[] = [{}];
    if (typeof trace === 'string') nrs = c.calls('trace', '', trace);
    else if (isObject(trace)) {
      if (trace.calls !== undefined) nrs = c.calls('trace', '.calls', trace.calls);
      scopes = c.scopes('trace', '.from', trace.from);
    }
    const text = `trace=${formatSyscallSet(nrs)}`;
    out.push(...scopes.map((scope) => ({ action: 'trace' as const, nrs: [...nrs], scope, text })));
  }
  for (const action of ['inject', 'deny'] as const) {
    const list = rules[action];
    if (list === undefined) continue;
    if (!Array.isArray(list)) c.fail(action, '', `expected an array of rules, not ${describe(list)}`);
    list.forEach((v: unknown, i) => out.push(...checkTamper(c, action, i, v)));
  }
  return applyPrecedence(out);
}
