// The options of spawn()/run() and their checks: the one place a launch's options are
// checked, for the API and for `trapline run` alike (names says how to name an option).
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { OptionError, PlanError } from './errors.js';
import { API_NAMES, type OptionNames } from './names.js';
import { readPlanFile } from './plan.js';
import { describeFsError } from './readfile.js';
import { outputFileProblem, resolveProgram, statsFileProblem, uninterposableReason, unknownTraplineVar } from './run.js';
import { ENTRIES, MODES, REWRITE_POLICIES, type Entry, type Mode, type RewritePolicy } from './types.js';
import { validateRules, validateTraceOptions, type DenySpec, type InjectSpec, type Rule, type TraceOptions, type TraceSpec } from './policy/index.js';

export interface SpawnOptions {
  /** 'lazy', 'sud-only', or 'eager' (lazy with a plan rewritten ahead of time; plan
   *  defaults to 'auto'). Default: the best mode the machine supports that keeps NULL
   *  reads faulting (lazy where protection keys exist, else sud-only). */
  mode?: Mode;
  /** Use the rewriting mode even on a CPU without protection keys, where page 0 then stays
   *  readable: a NULL data read returns trampoline bytes instead of faulting. Without it,
   *  such a machine runs sud-only (complete, slower). No effect where page 0 can be made
   *  execute-only. */
  allowNullReads?: boolean;
  /** A plan file, or 'auto': the plan cache (read at start, learned sites merged after exit). */
  plan?: string;
  /** Merge the sites this run learned into this plan file after exit (needs stats). */
  learn?: string;
  /** Which sites may be rewritten: 'all' (default), 'verified' (scanner-confirmed plan sites only), 'none'. */
  rewrite?: RewritePolicy;
  /** A hook library (include/trapline.h or zpoline ABI). */
  hook?: string;
  /** Re-interpose programs it execs (default true). */
  followExec?: boolean;
  /** How the program is entered: 'first' (default), at its first instruction (its dynamic
   *  loader's, or _start of a static program), so that every system call is seen; or
   *  'preload', from libtrapline.so's constructor (LD_PRELOAD: the loader's calls and
   *  earlier constructors are not seen). A hook is loaded when the dynamic loader is done,
   *  before any constructor (docs/hooks.md). A set-user-ID program is always entered the
   *  preload way (docs/design.md, "Entering a program"). */
  entry?: Entry;
  /** 'off': hide the vDSO from the program (it is not told where it is), so that
   *  clock_gettime, gettimeofday, time and getcpu become real, interposed system calls.
   *  Needs entry 'first'. Default 'on'. */
  vdso?: 'on' | 'off';
  /** Collect coverage statistics (default true). */
  stats?: boolean;
  /** Keep the statistics segment at this path (default: a temporary file, removed after exit).
   *  It must not exist, unless statsAppend is set. */
  statsFile?: string;
  /** Add this run to the existing segment statsFile (same mode and rewrite policy). */
  statsAppend?: boolean;
  /** 'inherit' (default) or 'pipe'. */
  stdio?: 'inherit' | 'pipe';
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run a setuid/setgid program, which the loader starts without trapline (default:
   *  refused with an OptionError). Exit.interposed then says whether it was entered. */
  allowUninterposed?: boolean;
  /** Record calls (docs/policies.md): true (every call), a set in strace's syntax
   *  ('%file', 'openat,read'), or { calls, from, strsize, lossy, timestamps, follow }. The
   *  events come from TraplineProcess.events() while the program runs (run(): Exit.events). */
  trace?: boolean | string | TraceSpec;
  /** Fault injection as strace's -e inject= ('openat:error=ENOENT:when=3+'), or rule objects. */
  inject?: readonly (string | InjectSpec)[];
  /** Calls failed without being performed ('connect:error=EACCES'; kill: SIGSYS), or rule objects. */
  deny?: readonly (string | DenySpec)[];
}

/** The rules and the trace options of a launch's policy options (OptionError names the
 *  option at fault: options.inject[1].error). */
export function spawnPolicy(o: SpawnOptions, names: OptionNames = API_NAMES): { rules: Rule[]; trace?: TraceOptions } {
  if (o.trace === undefined && o.inject === undefined && o.deny === undefined) return { rules: [] };
  const rules = validateRules({ trace: o.trace, inject: o.inject, deny: o.deny }, names);
  const trace = validateTraceOptions(o.trace, names);
  return trace ? { rules, trace } : { rules };
}

const KNOWN = new Set(['mode', 'hook', 'followExec', 'entry', 'vdso', 'stats', 'statsFile', 'stdio', 'cwd', 'env', 'plan', 'learn', 'rewrite', 'allowNullReads', 'statsAppend', 'allowUninterposed', 'trace', 'inject', 'deny']);
const BOOLEANS = ['stats', 'followExec', 'allowNullReads', 'statsAppend', 'allowUninterposed'] as const;

/**
 * Checks the program, its arguments and the options of a launch before anything starts;
 * throws OptionError naming the option with names. What buildEnv makes (the plan cache, a
 * verified plan, the statistics cookie) is checked there, named the same way.
 */
export function checkSpawn(program: unknown, args: unknown, o: SpawnOptions, names: OptionNames = API_NAMES): void {
  const fail = (option: string, problem: string): never => {
    throw new OptionError(option, `${names(option)}: ${problem}`);
  };
  if (typeof program !== 'string' || program === '') fail('program', 'must be a non-empty string');
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) fail('args', 'must be an array of strings');
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail('options', 'must be an object');
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) fail(k, 'unknown option');
  for (const k of BOOLEANS) if (o[k] !== undefined && typeof o[k] !== 'boolean') fail(k, 'must be a boolean');
  if (o.mode !== undefined && !(MODES as readonly unknown[]).includes(o.mode)) fail('mode', `must be lazy, sud-only or eager, not '${String(o.mode)}'`);
  if (o.rewrite !== undefined && !(REWRITE_POLICIES as readonly unknown[]).includes(o.rewrite)) fail('rewrite', `must be all, verified or none, not '${String(o.rewrite)}'`);
  if (o.plan !== undefined && (typeof o.plan !== 'string' || o.plan === '')) fail('plan', "must be a plan file path or 'auto'");
  if (o.plan !== undefined && o.plan !== 'auto') {
    try { readPlanFile(o.plan); } catch (e) { fail('plan', (e as Error).message); }
  }
  if (o.learn !== undefined) {
    if (typeof o.learn !== 'string' || o.learn === '') fail('learn', 'must be a non-empty path');
    if (o.stats === false) fail('learn', 'needs statistics (given with stats: false)');
    const problem = outputFileProblem(o.learn, true);
    if (problem) fail('learn', `${o.learn}: ${problem}`);
    try { readPlanFile(o.learn); } catch (e) {
      if (!(e instanceof PlanError) || e.fsCode !== 'ENOENT') fail('learn', (e as Error).message);
    }
  }
  if (o.statsFile !== undefined) {
    if (typeof o.statsFile !== 'string' || o.statsFile === '') fail('statsFile', 'must be a non-empty path');
    if (o.stats === false) fail('statsFile', 'given with stats: false');
  }
  if (o.statsAppend && o.statsFile === undefined) fail('statsAppend', `needs ${names('statsFile', 'usage')}`);
  if (o.statsFile !== undefined) {
    const problem = statsFileProblem(o.statsFile);
    if (problem) fail('statsFile', `${o.statsFile}: ${problem}`);
  }
  if (o.stdio !== undefined && o.stdio !== 'inherit' && o.stdio !== 'pipe') fail('stdio', "must be 'inherit' or 'pipe'");
  if (o.hook !== undefined) {
    if (typeof o.hook !== 'string' || o.hook === '') fail('hook', 'must be a non-empty path');
    try {
      if (!statSync(o.hook).isFile()) fail('hook', `${o.hook}: not a readable file (not a regular file)`);
      accessSync(o.hook, constants.R_OK);
    } catch (e) {
      if (e instanceof OptionError) throw e;
      fail('hook', `${o.hook}: not a readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (o.cwd !== undefined) {
    if (typeof o.cwd !== 'string' || o.cwd === '') fail('cwd', 'must be a non-empty path');
    let dir = false;
    try { dir = statSync(o.cwd).isDirectory(); } catch (e) { fail('cwd', `${o.cwd}: ${describeFsError(e)}`); }
    if (!dir) fail('cwd', `${o.cwd}: not a directory`);
  }
  if (o.env !== undefined) {
    if (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env)) fail('env', 'must be an object of strings');
    for (const [k, v] of Object.entries(o.env)) {
      if (v !== undefined && typeof v !== 'string') fail(`env.${k}`, 'must be a string');
    }
  }
  if (o.entry !== undefined && !(ENTRIES as readonly unknown[]).includes(o.entry)) fail('entry', `must be ${ENTRIES.join(' or ')}, not '${String(o.entry)}'`);
  if (o.vdso !== undefined && o.vdso !== 'on' && o.vdso !== 'off') fail('vdso', `must be on or off, not '${String(o.vdso)}'`);
  if (o.vdso === 'off' && o.entry === 'preload') fail('vdso', `off needs the program entered at its first instruction, not ${names('entry')} preload (the preloaded library starts after libc has found the vDSO)`);
  spawnPolicy(o, names);
  const bad = unknownTraplineVar(o.env ?? process.env);
  if (bad) {
    const key = o.env ? 'env' : 'processEnv';
    throw new OptionError('env', `${names(key)}: ${bad}`);
  }
  if (o.hook !== undefined) {
    const path = resolveProgram(program as string, o.env ?? process.env, o.cwd);
    const why = path !== undefined ? hooklessReason(path) : undefined;
    if (why === 'static') {
      throw new OptionError('hook', `${names('hook')}: ${program as string} is statically linked: a hook needs the program's dynamic loader to give it a namespace and a libc, and a static program has none (docs/hooks.md); run it without the hook`);
    }
    if (why === 'loader') {
      throw new OptionError('hook', `${names('hook')}: ${program as string} has musl's dynamic loader, which cannot give a hook a namespace of its own (no dlmopen) (docs/hooks.md); run it without the hook`);
    }
  }
  if (!o.allowUninterposed) {
    const path = resolveProgram(program as string, o.env ?? process.env, o.cwd);
    const why = path && uninterposableReason(path);
    if (why) {
      const because = why.startsWith('not an x86-64') ? 'trapline interposes x86-64 programs only' : 'the dynamic loader ignores LD_PRELOAD for it';
      throw new OptionError('program', `${program as string} is ${why}: ${because}, so it would run without trapline; refusing (${names('allowUninterposed', 'usage')} runs it anyway)`);
    }
  }
}

/** Why a hook cannot be loaded into the x86-64 ELF program at path: 'static' (no
 *  PT_INTERP), 'loader' (musl's loader, ld-musl-*), or undefined
 *  (it can, or the file is not such a program: the exec decides). As sud/inject.c's
 *  tl_target_examine decides for execs. */
function hooklessReason(path: string): 'static' | 'loader' | undefined {
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); } catch { return undefined; }
  try {
    if (!statSync(path).isFile()) return undefined;
    const eh = Buffer.alloc(64);
    if (readSync(fd, eh, 0, 64, 0) !== 64 || eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2) return undefined;
    const phoff = Number(eh.readBigUInt64LE(32)), phentsize = eh.readUInt16LE(54), phnum = eh.readUInt16LE(56);
    if (phentsize !== 56 || phnum === 0 || phnum > 256) return undefined;
    const ph = Buffer.alloc(phnum * 56);
    if (readSync(fd, ph, 0, ph.length, phoff) !== ph.length) return undefined;
    for (let i = 0; i < phnum; i++) {
      if (ph.readUInt32LE(i * 56) !== 3 /* PT_INTERP */) continue;
      const off = Number(ph.readBigUInt64LE(i * 56 + 8)), size = Math.min(Number(ph.readBigUInt64LE(i * 56 + 32)), 255);
      const interp = Buffer.alloc(size);
      const got = readSync(fd, interp, 0, size, off);
      const name = interp.subarray(0, got).toString('latin1').replace(/\0.*$/s, '');
      return basename(name).startsWith('ld-musl-') ? 'loader' : undefined;
    }
    return 'static';
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
