// Traced calls as strace prints them: one line per call, `name(args) = result`, the arguments
// decoded as strace decodes them (flags by name, strings quoted and cut at -s, structs
// abbreviated), the result as strace writes it (`= -1 ENOENT (No such file or directory)`,
// hex for addresses, `= ?` for calls that do not return), then strace's (INJECTED) marker.
// Lines are padded to strace's column 40 before ` = `, and prefixed as strace does with
// several processes (`[pid  N] `, or `N     ` when writing to a file) and with -t/-tt/-ttt
// timestamps. Calls without a decoder here print their arguments in hex, as strace's
// generic decoder does.
import { I386_SYSCALL_NAMES } from '../syscalls_i386.js';
import { SYSCALL_NAMES } from '../syscalls.js';
import { DECODERS, signalArg, type Decoded } from './decode.js';
import { errnoMessage, errnoName } from './names.js';
import { argCount } from './sets.js';
import type { TraceEvent, TraceOptions } from './types.js';
import { hex } from './xlat.js';

/** How a line begins with the thread id: strace writing to a terminal or pipe prints
 *  `[pid  N] ` once several processes are traced ('pid'); writing to a file with -f, it
 *  prints `N     ` on every line ('column'). */
export interface FormatContext {
  prefix?: 'none' | 'pid' | 'column';
  /** a process killed by a signal that dumps core would dump one (strace's ` (core dumped)`
   *  on the `+++ killed by ... +++` line of an event that killed its process) */
  coreDumps?: boolean;
}

/** A captured piece of a call's memory. */
export type Captured = TraceEvent['data'][number];

/** What a decoder sees of a call. */
export class Call {
  readonly name: string;
  constructor(readonly ev: TraceEvent, readonly opts: TraceOptions) {
    this.name = callName(ev);
  }

  /** argument i as an unsigned 64-bit value */
  a(i: number): bigint {
    return BigInt.asUintN(64, this.ev.args[i] ?? 0n);
  }

  /** argument i as a C int */
  int(i: number): number {
    return Number(BigInt.asIntN(32, this.a(i)));
  }

  /** argument i as a C unsigned int */
  uint(i: number): number {
    return Number(BigInt.asUintN(32, this.a(i)));
  }

  /** argument i as a C long */
  long(i: number): bigint {
    return BigInt.asIntN(64, this.a(i));
  }

  get ret(): bigint {
    return BigInt.asIntN(64, this.ev.ret);
  }

  /** the call failed: its result is -errno */
  get failed(): boolean {
    return this.ret < 0n && this.ret >= -4095n;
  }

  /** the errno of a failed call, else 0 */
  get errno(): number {
    return this.failed ? Number(-this.ret) : 0;
  }

  cap(arg: number, dir: 'in' | 'out'): Captured | undefined {
    if (dir === 'out' && this.failed) return undefined;
    return this.ev.data.find((d) => d.arg === arg && d.dir === dir);
  }

  /** a pointer argument: NULL or its hex */
  ptr(i: number): string {
    return this.a(i) === 0n ? 'NULL' : hex(this.a(i));
  }
}

/** The name of ev's call: its x86-64 (or i386) name, or syscall_0xNR. */
export function callName(ev: TraceEvent): string {
  const table = ev.abi === 'i386' ? I386_SYSCALL_NAMES : SYSCALL_NAMES;
  return table[ev.nr] ?? `syscall_${hex(ev.nr)}`;
}

/** strace's generic decoder: each argument in hex. */
function generic(c: Call): Decoded {
  const n = c.ev.abi === 'i386' ? 6 : argCount(c.ev.nr);
  const args: string[] = [];
  for (let i = 0; i < n; i++) args.push(hex(c.ev.abi === 'i386' ? BigInt.asUintN(32, c.a(i)) : c.a(i)));
  return { args };
}

const RESTART: Readonly<Record<number, true>> = { 512: true, 513: true, 514: true, 516: true };

/** The text after ` = `. */
function result(c: Call, d: Decoded): string {
  // the process was killed at the call: it never returned (strace: `= ?`, no (INJECTED))
  if (c.ev.killed) return '?';
  let text: string;
  if (d.noReturn) text = '?';
  else if (c.failed) {
    const e = c.errno;
    const name = errnoName(e);
    if (name === undefined) text = `-1 (errno ${e})`;
    else text = `${RESTART[e] ? '?' : '-1'} ${name} (${errnoMessage(e)})`;
  } else if (d.ret !== undefined) text = d.ret;
  else {
    const r = c.ev.abi === 'i386' ? BigInt.asIntN(32, c.ret) : c.ret;
    text = d.retFormat === 'hex' ? hex(r) : d.retFormat === 'octal' ? (r === 0n ? '0' : `0${r.toString(8)}`) : r.toString();
  }
  if (c.ev.policy === 'injected' || c.ev.policy === 'denied') text += ' (INJECTED)';
  return text;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** strace's -t (HH:MM:SS), -tt (with microseconds) and -ttt (seconds since the epoch) stamps,
 *  in local time, followed by a space; '' for 'none'. */
export function formatTimestamp(tsNs: bigint, style: TraceOptions['timestamps']): string {
  if (style === 'none') return '';
  const us = tsNs / 1000n;
  const frac = String(us % 1000000n).padStart(6, '0');
  if (style === 'ttt') return `${us / 1000000n}.${frac} `;
  const d = new Date(Number(us / 1000n));
  const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return style === 't' ? `${hms} ` : `${hms}.${frac} `;
}

/** The line's beginning: the thread id (per ctx.prefix), then the timestamp. */
function leader(ev: TraceEvent, opts: TraceOptions, ctx: FormatContext | undefined): string {
  let s = '';
  if (ctx?.prefix === 'pid') s = `[pid ${String(ev.tid).padStart(5)}] `;
  else if (ctx?.prefix === 'column') s = `${String(ev.tid).padEnd(5)} `;
  return s + formatTimestamp(ev.tsNs, opts.timestamps);
}

/** strace's column for ` = ` (its default -a 40: the = in column 40). */
const RESULT_COLUMN = 39;

/**
 * One strace line for ev (without a newline): `openat(AT_FDCWD, "/etc/passwd",
 * O_RDONLY|O_CLOEXEC) = 3`. opts.strsize limits strings and buffers; opts.timestamps adds
 * strace's -t/-tt/-ttt stamp; ctx.prefix the thread id.
 */
export function formatEvent(ev: TraceEvent, opts: TraceOptions, ctx?: FormatContext): string {
  const c = new Call(ev, opts);
  let d: Decoded;
  const decoder = ev.abi === 'i386' ? undefined : DECODERS[c.name];
  try {
    d = decoder ? decoder(c) : generic(c);
  } catch {
    d = generic(c); // a malformed capture: the arguments as numbers
  }
  const lead = leader(ev, opts, ctx);
  const head = `${lead}${c.name}(${d.args.join(', ')})`;
  const line = `${head.padEnd(RESULT_COLUMN)} = ${result(c, d)}`;
  return ev.signal || ev.killed ? line + signalLines(ev, lead, opts, ctx) : line;
}

/** Core-dumping signals (signal(7)): the `(core dumped)` candidates. */
const CORE_SIGNALS: ReadonlySet<number> = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);

/** strace's siginfo for a signal it injects itself (si_code SI_KERNEL), as its
 *  printsiginfo prints one of each kind (`si_addr=NULL` for faults, ...). */
export function injectedSiginfo(sig: number): string {
  const name = signalArg(sig);
  let rest = '';
  if (sig === 4 || sig === 5 || sig === 7 || sig === 8 || sig === 11) rest = ', si_addr=NULL';
  else if (sig === 17) rest = ', si_pid=0, si_uid=0, si_status=0, si_utime=0, si_stime=0';
  else if (sig === 31) rest = ', si_call_addr=NULL, si_syscall=0, si_arch=0 /* AUDIT_ARCH_??? */';
  return `{si_signo=${name}, si_code=SI_KERNEL${rest}}`;
}

/** The lines strace prints after a call a rule sent a signal at: `--- SIGUSR1 {...} ---`
 *  (inject signal=), or `+++ killed by SIGSYS +++` when the call killed its process (deny
 *  kill, signal=SIGKILL); each with a newline before it. */
function signalLines(ev: TraceEvent, lead: string, opts: TraceOptions, ctx: FormatContext | undefined): string {
  // SIGKILL and deny's kill (the default action of SIGSYS, forced) are never delivered to
  // a handler: strace shows no `---` line for them, only the end
  if (ev.killed) {
    const sig = ev.signal ?? 31;
    return `\n${formatExit(ev.pid, { signal: sig, core: ctx?.coreDumps === true && CORE_SIGNALS.has(sig) }, opts, ev.tsNs, ctx)}`;
  }
  const sig = ev.signal ?? 0;
  return `\n${lead}--- ${signalArg(sig)} ${injectedSiginfo(sig)} ---`;
}

/** How a process ended, for strace's closing line. */
export type ProcessEnd =
  | { exited: number }
  | { signal: number; core?: boolean };

/** strace's `+++ exited with 0 +++` / `+++ killed by SIGKILL +++` line. */
export function formatExit(tid: number, end: ProcessEnd, opts: TraceOptions, tsNs: bigint, ctx?: FormatContext): string {
  const lead = leader({ tid, tsNs } as TraceEvent, opts, ctx);
  if ('exited' in end) return `${lead}+++ exited with ${end.exited} +++`;
  const sig = signalArg(end.signal);
  return `${lead}+++ killed by ${sig}${end.core ? ' (core dumped)' : ''} +++`;
}


/** A formatter for a stream of events (createFormatter). */
export interface StreamFormatter {
  format(ev: TraceEvent): string;
  /** a process or thread ended outside any call (a signal): forget it */
  gone(tid: number): void;
  /** pid's end was printed: a call killed it (`+++ killed by SIGSYS +++`) */
  ended(pid: number): boolean;
  /** the prefix of the line of a call by tid (of process pid) that starts and ends no
   *  thread or process: what format() would use (tid is noted as alive) */
  prefixOf(tid: number, pid: number): 'none' | 'pid' | 'column';
}

/**
 * A formatter for a stream of events that prefixes lines as strace does: writing to a file
 * ('file': -o), every line with the thread id; writing to a terminal or pipe ('stream'),
 * `[pid  N] ` while more than one thread or process is alive (counting those it has seen
 * start, through clone/fork/vfork/clone3, or make a call, and not yet end, through exit or
 * exit_group, or a call that killed its process). coreDumps: whether a process killed by a
 * core-dumping signal dumps core (strace's ` (core dumped)`).
 */
export function createFormatter(opts: TraceOptions, output: 'file' | 'stream', coreDumps = false): StreamFormatter {
  const live = new Map<number, number>(); // tid -> pid
  const killed = new Set<number>();
  return {
    format(ev: TraceEvent): string {
      if (!live.has(ev.tid)) live.set(ev.tid, ev.pid);
      const name = callName(ev);
      const ret = BigInt.asIntN(64, ev.ret);
      if ((name === 'clone' || name === 'clone3' || name === 'fork' || name === 'vfork') && ret > 0n && !ev.killed) {
        const child = Number(ret);
        const thread = name === 'clone' ? (ev.args[0] ?? 0n) & 0x10000n : 0n;
        if (!live.has(child)) live.set(child, thread ? ev.pid : child);
      }
      const prefix = output === 'file' ? 'column' : live.size > 1 ? 'pid' : 'none';
      const line = formatEvent(ev, opts, { prefix, coreDumps });
      if (name === 'exit') live.delete(ev.tid);
      if (name === 'exit_group' || ev.killed) for (const [tid, pid] of live) if (pid === ev.pid) live.delete(tid);
      if (ev.killed) killed.add(ev.pid);
      if (name === 'execve' && ret === 0n) for (const [tid, pid] of live) if (pid === ev.pid && tid !== ev.tid) live.delete(tid);
      return line;
    },
    gone(tid: number): void {
      live.delete(tid);
    },
    ended(pid: number): boolean {
      return killed.has(pid);
    },
    prefixOf(tid: number, pid: number): 'none' | 'pid' | 'column' {
      if (!live.has(tid)) live.set(tid, pid);
      return output === 'file' ? 'column' : live.size > 1 ? 'pid' : 'none';
    },
  };
}
