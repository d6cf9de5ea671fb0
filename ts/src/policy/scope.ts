// Rule scopes (`--from MODULE`, `from:` in the API): which code made a call.
//   PATH-GLOB        a module by path: fnmatch(3)-style glob (* ? [...]), matched against the
//                    module's full path and against its basename (libplugin.so, /opt/*/lib*.so)
//   build-id:HEX     a module by its GNU build-id (hex, any case)
//   @main @startup @dlopen @jit @vdso
//                    by origin: the main program, libraries loaded before main, libraries
//                    dlopen'd later, anonymous (JIT) code, the vDSO
//   pid:N  tid:N     calls of one process or one thread
import type { RuleScope } from './types.js';
import { ExprError } from './sets.js';

const ORIGINS = ['jit', 'dlopen', 'main', 'startup', 'vdso'] as const;

/** The scope a --from value names. Throws ExprError when malformed. */
export function parseScope(from: string): RuleScope {
  if (from === '') throw new ExprError('empty module (give a path glob, build-id:HEX, @main, @startup, @dlopen, @jit, @vdso, pid:N or tid:N)');
  if (/[\0\n]/.test(from)) throw new ExprError('a module name cannot hold a NUL or a newline');
  if (from.startsWith('@')) {
    const origin = from.slice(1);
    if (!(ORIGINS as readonly string[]).includes(origin)) {
      throw new ExprError(`unknown origin '${from}' (origins: ${ORIGINS.map((o) => `@${o}`).join(' ')})`);
    }
    return { origin: origin as RuleScope['origin'] };
  }
  const bid = /^build-id:(.*)$/.exec(from);
  if (bid) {
    const hex = bid[1] as string;
    if (!/^(?:[0-9a-fA-F]{2}){1,64}$/.test(hex)) throw new ExprError(`'${from}': a build-id is 1 to 64 bytes in hex (an even number of digits)`);
    return { module: `build-id:${hex.toLowerCase()}` };
  }
  const id = /^(pid|tid):(.*)$/.exec(from);
  if (id) {
    const n = id[2] as string;
    if (!/^[1-9][0-9]{0,9}$/.test(n) || Number(n) > 0x7fffffff) throw new ExprError(`'${from}': ${id[1]} must be a positive process or thread id`);
    return id[1] === 'pid' ? { pid: Number(n) } : { tid: Number(n) };
  }
  globToRegExp(from); // checks the brackets
  return { module: from };
}

/** The --from text of a scope (inverse of parseScope; '' for the empty scope). */
export function formatScope(scope: RuleScope): string {
  if (scope.origin !== undefined) return `@${scope.origin}`;
  if (scope.module !== undefined) return scope.module;
  if (scope.pid !== undefined) return `pid:${scope.pid}`;
  if (scope.tid !== undefined) return `tid:${scope.tid}`;
  return '';
}

/** A regular expression matching what fnmatch(pattern, s, 0) matches: * and ? match any
 *  characters including '/', [...] a set ([!...] or [^...] its complement), \c the character c. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i] as string);
    else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === '!' || pattern[j] === '^') {
        negate = true;
        j++;
      }
      let body = '';
      if (pattern[j] === ']') {
        body += '\\]';
        j++;
      }
      while (j < pattern.length && pattern[j] !== ']') {
        const d = pattern[j] as string;
        body += d === '\\' || d === '^' || d === '[' ? `\\${d}` : d;
        j++;
      }
      if (j >= pattern.length) throw new ExprError(`'${pattern}': unclosed [ in the module pattern`);
      re += `[${negate ? '^' : ''}${body}]`;
      i = j;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    throw new ExprError(`'${pattern}': bad character range in the module pattern`);
  }
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

/** What the core knows of a call's site, to match scopes against. */
export interface CallSite {
  /** full path of the module the call is attributed to: the one holding the call site,
   *  or for a site in libc (ld.so, libpthread, ...) the caller's (docs/policies.md, Scope);
   *  null for anonymous code */
  module: string | null;
  buildId?: string;
  origin: NonNullable<RuleScope['origin']>;
  pid: number;
  tid: number;
}

/** Whether a call from site falls in scope (all the scope's conditions hold). The reference
 *  semantics for the core's matching. */
export function scopeMatches(scope: RuleScope, site: CallSite): boolean {
  if (scope.pid !== undefined && scope.pid !== site.pid) return false;
  if (scope.tid !== undefined && scope.tid !== site.tid) return false;
  if (scope.origin !== undefined && scope.origin !== site.origin) return false;
  if (scope.module !== undefined) {
    if (scope.module.startsWith('build-id:')) return site.buildId?.toLowerCase() === scope.module.slice(9);
    if (site.module === null) return false;
    const re = globToRegExp(scope.module);
    const base = site.module.slice(site.module.lastIndexOf('/') + 1);
    return re.test(site.module) || re.test(base);
  }
  return true;
}
