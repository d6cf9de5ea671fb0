// System call sets in strace's syntax (`-e trace=SET`, the SET of inject=/fault=/deny=):
// [!]value[,value]... where a value is a name (openat), a number (257), a class (%file, or the
// legacy file), all, /regex (POSIX extended, matched anywhere in the name), each optionally
// preceded by ? (no error if it selects nothing) and followed by @64. `none` and `all` alone
// are the empty and the full set; each leading ! inverts the rest. As strace
// (basic_filters.c): empty elements are skipped, but a set with no element is an error.
import { SYSCALL_NAMES } from '../syscalls.js';
import { SYSENT, type SyscallClass } from './sysent.js';

/** A problem with an expression: the callers add which expression (OptionError). */
export class ExprError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExprError';
  }
}

/** All x86-64 system call numbers trapline knows, ascending. */
export const ALL_NRS: readonly number[] = Object.freeze(Object.keys(SYSCALL_NAMES).map(Number).sort((a, b) => a - b));

const NR_BY_NAME = new Map<string, number>(ALL_NRS.map((nr) => [SYSCALL_NAMES[nr] as string, nr]));

/** The x86-64 number of the system call named name, or undefined. */
export function syscallNumber(name: string): number | undefined {
  return NR_BY_NAME.get(name);
}

/** The name of x86-64 system call nr, or undefined. */
export function syscallName(nr: number): string | undefined {
  return SYSCALL_NAMES[nr];
}

/** strace's class names (with their %) -> the class; 'all' selects every call. The names
 *  without % are strace's deprecated spellings, still accepted by strace. */
const CLASS_NAMES: Readonly<Record<string, SyscallClass | 'all'>> = {
  '%desc': 'desc', '%file': 'file', '%memory': 'memory', '%process': 'process', '%creds': 'creds',
  '%signal': 'signal', '%ipc': 'ipc', '%net': 'network', '%network': 'network', '%stat': 'stat',
  '%lstat': 'lstat', '%fstat': 'fstat', '%%stat': '%stat', '%statfs': 'statfs', '%fstatfs': 'fstatfs',
  '%%statfs': '%statfs', '%pure': 'pure', '%clock': 'clock',
  all: 'all', desc: 'desc', file: 'file', memory: 'memory', process: 'process', signal: 'signal', ipc: 'ipc',
  network: 'network',
};

/** The class names a set may use, for messages and documentation. */
export const SET_CLASSES: readonly string[] = Object.freeze(Object.keys(CLASS_NAMES).filter((c) => c.startsWith('%')));

/** The members of strace class cls (with its %: '%file', '%%stat'), ascending; undefined if
 *  cls is not a class name. */
export function classMembers(cls: string): number[] | undefined {
  const c = CLASS_NAMES[cls];
  if (c === undefined) return undefined;
  if (c === 'all') return [...ALL_NRS];
  return ALL_NRS.filter((nr) => SYSENT[nr]?.[1].includes(c));
}

/** The classes strace puts nr in, with their % (%desc, %file, %%stat, ...). */
export function classesOf(nr: number): string[] {
  return (SYSENT[nr]?.[1] ?? []).map((c) => `%${c}`);
}

/** How many arguments strace prints for nr (6 when unknown). */
export function argCount(nr: number): number {
  return SYSENT[nr]?.[0] ?? 6;
}

function quote(s: string): string {
  return `'${s}'`;
}

/** The numbers one element of a set selects. */
function element(token: string): number[] {
  let t = token;
  let optional = false;
  while (t.startsWith('?')) {
    t = t.slice(1);
    optional = true;
  }
  const at = t.lastIndexOf('@');
  if (at >= 0) {
    const pers = t.slice(at + 1);
    if (pers === '32' || pers === 'x32') {
      throw new ExprError(`${quote(token)}: trapline selects x86-64 system calls only (no @${pers} personality)`);
    }
    if (pers !== '64') throw new ExprError(`${quote(token)}: unknown personality designator '@${pers}' (only @64)`);
    t = t.slice(0, at);
  }
  let nrs: number[];
  if (/^[0-9]/.test(t)) {
    if (!/^[0-9]+$/.test(t)) throw new ExprError(`invalid system call number ${quote(token)}`);
    const nr = Number(t);
    if (SYSCALL_NAMES[nr] === undefined) {
      if (optional) return [];
      throw new ExprError(`${quote(token)}: no x86-64 system call has this number`);
    }
    return [nr];
  }
  if (t.startsWith('/')) {
    let re: RegExp;
    try {
      re = new RegExp(t.slice(1));
    } catch (e) {
      throw new ExprError(`${quote(token)}: bad regular expression (${(e as Error).message.replace(/^.*: /, '')})`);
    }
    nrs = ALL_NRS.filter((nr) => re.test(SYSCALL_NAMES[nr] as string));
    if (nrs.length === 0 && !optional) throw new ExprError(`${quote(token)}: the regular expression matches no system call`);
    return nrs;
  }
  const members = classMembers(t);
  if (members !== undefined) return members;
  const nr = NR_BY_NAME.get(t);
  if (nr !== undefined) return [nr];
  if (optional) return [];
  if (t.startsWith('%')) throw new ExprError(`unknown system call class ${quote(token)} (classes: ${SET_CLASSES.join(' ')})`);
  throw new ExprError(`unknown system call ${quote(token)}`);
}

/**
 * The numbers SET selects, ascending and unique (strace's qualify_syscall_tokens).
 * Throws ExprError for an unknown name, number, class or a bad regular expression (unless the
 * element begins with ?), and for a set with no element.
 */
export function parseSyscallSet(set: string): number[] {
  let s = set;
  let invert = false;
  while (s.startsWith('!')) {
    invert = !invert;
    s = s.slice(1);
  }
  let selected: Set<number>;
  if (s === 'none') selected = new Set();
  else if (s === 'all') selected = new Set(ALL_NRS);
  else {
    const tokens = s.split(',').filter((t) => t !== '');
    if (tokens.length === 0) throw new ExprError(set === '' ? 'no system calls given' : `no system calls in ${quote(set)}`);
    selected = new Set();
    for (const t of tokens) for (const nr of element(t)) selected.add(nr);
  }
  const out = invert ? ALL_NRS.filter((nr) => !selected.has(nr)) : [...selected];
  return out.sort((a, b) => a - b);
}

/** A set in strace's syntax that selects exactly nrs: 'none', 'all', or the names. */
export function formatSyscallSet(nrs: readonly number[]): string {
  if (nrs.length === 0) return 'none';
  if (nrs.length === ALL_NRS.length) return 'all';
  return nrs.map((nr) => SYSCALL_NAMES[nr] ?? String(nr)).join(',');
}
