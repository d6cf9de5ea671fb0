import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { FileReadError, readRegularFile, sizeText } from './readfile.js';
import { SYSCALL_NAMES } from './syscalls.js';
import { I386_SYSCALL_NAMES } from './syscalls_i386.js';
import { LAYOUT } from './layout.js';
import { StatsError } from './errors.js';
import type { RewritePolicy, RunMode } from './types.js';

export { StatsError };

/** The largest statistics segment or JSON report read (a default segment is ~18 MiB). */
export const STATS_FILE_MAX = 256 * 2 ** 20;

export interface NrStats {
  nr: number;
  trap: number;
  fast: number;
  errors: number;
}

export type Origin = 'main' | 'startup' | 'dlopen' | 'anonymous' | 'vdso';
export type SiteState = 'rewritten' | 'trapping' | 'stale' | 'skipped';
export type SiteReason = 'none' | 'vdso' | 'straddle' | 'sud-only' | 'not-syscall' | 'full' | 'stale' | 'nested' | 'policy' | 'plan-mismatch' | 'int80' | 'redzone' | 'shared' | 'seccomp';
/** The system call table a number belongs to: `syscall` (x86-64) or `int $0x80` (i386). */
export type Abi = 'x86_64' | 'i386';
/** Where a site record came from: it trapped (learned at run time), or a plan. */
export type SiteSource = 'learned' | 'plan-confirmed' | 'plan-learned' | 'plan-unverified';
/** Where trapline first ran in each process: `constructor`, the preloaded library's
 *  constructor (the dynamic loader's and libc start-up's calls before it are not seen);
 *  `first-instruction`, from the program's first instruction (a launcher that enters the
 *  process before the loader). */
export type EntryPoint = 'constructor' | 'first-instruction';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** 0..255 exit status; null while running or unknown. */
  exitCode: number | null;
  /** Signal number that killed it, or null. */
  signal: number | null;
  mode: RunMode;
  exe: string;
  startMs: number;
}

export interface ModuleInfo {
  index: number;
  pid: number;
  path: string;
  origin: Origin;
  /** Load address, hex string (0x...). */
  base: string;
  /** GNU build-id as hex, '' if none. */
  buildId: string;
}

export interface SiteInfo {
  /** Address of the syscall instruction, hex string. */
  addr: string;
  pid: number;
  /** Index into modules, or null if unknown. */
  module: number | null;
  /** Offset of the site in its module, hex string. */
  offset: string;
  trapHits: number;
  fastHits: number;
  /** Distinct syscall numbers 0..511 seen at the site, on every path, ascending
   * (i386 numbers at an `int $0x80` site: reason 'int80'). */
  nrs: number[];
  /** Calls at the site with a number outside 0..511. */
  nrsOther: number;
  state: SiteState;
  reason: SiteReason;
  source: SiteSource;
}

export interface StatsSnapshot {
  version: number;
  mode: RunMode;
  zeroMapped: boolean;
  xonly: boolean;
  /** The run opted in to a readable page 0 (--allow-null-reads on a CPU without
   *  protection keys): NULL data reads returned trampoline bytes instead of faulting. */
  nullReads: boolean;
  hookLoaded: boolean;
  /** Where trapline was entered: 'first-instruction' if every process of the run was
   *  entered at its first instruction (so every system call was seen), else
   *  'constructor' (some process started from the preloaded library's constructor: a
   *  set-user-ID program, ptrace refused, or --entry preload). A report without
   *  the field was made before the launcher existed: 'constructor'. */
  entry: EntryPoint;
  /** Some process of a run with a hook ran without it (statically linked, or a loader
   *  other than glibc's: nothing could load the hook into it). */
  hookSkipped: boolean;
  /** Some exec'd process of a run through the capability launcher (trapline setup) ran
   *  sud-only: page 0 had needed the capability, which no exec'd program gets. */
  capSudOnly: boolean;
  /** A rewrite plan (file or cache) was in use. */
  planUsed: boolean;
  /** The rewrite policy of the first process. */
  policy: RewritePolicy;
  /** Plan sites rewritten ahead of time, and plan sites skipped (bytes differ, policy, straddle). */
  planRewritten: number;
  planSkipped: number;
  /** Sites that trapped and were refused a rewrite by the policy. */
  policyRefused: number;
  /** calls through libc that a module-scoped rule checked by their site, their caller
   *  not found by unwinding (docs/policies.md, Scope) */
  callerFallback: number;
  /** CLOCK_REALTIME at creation, in ns (as a Number: sub-microsecond precision is lost). */
  startNs: number;
  /** The same instant in ms since the epoch, comparable with Date.now(). */
  startMs: number;
  /** Numbers 0..nr_max-1 with at least one nonzero counter, ascending (x86-64 table). */
  perNr: NrStats[];
  otherTrap: number;
  otherFast: number;
  /** 32-bit calls (`int $0x80`) by i386 number, the same way (fast is always 0: they
   * always trap). Counted apart from perNr; included in total.trap. */
  perNrI386: NrStats[];
  /** i386 calls with a number outside 0..nr_max-1. */
  otherI386: number;
  sitesRewritten: number;
  sitesTrapping: number;
  sitesStale: number;
  processes: number;
  total: { trap: number; fast: number };
  processList: ProcessInfo[];
  modules: ModuleInfo[];
  sites: SiteInfo[];
  /**
   * Records that did not fit: a table that filled says so in the header. processes and
   * sites: how many were dropped; modules: whether the module table filled (sites of
   * later modules have module null); planUnrecorded: skipped plan sites were counted
   * (planSkipped) but got no record, to leave the site table to the sites that ran.
   */
  dropped: { processes: number; sites: number; modulesFull: boolean; planUnrecorded: boolean };
  /**
   * Limits reached and steps that failed (each was also said once on stderr): a page a
   * rewrite could not give its protection back (protKept), the set of rewritten sites full
   * (rewriteFull), more threads than counter blocks (threadFull: counted privately, added
   * at exit), the plan cache's module maximum (planFull), more seccomp filters than kept
   * (seccompFull). docs/stats.md.
   */
  limits: { protKept: boolean; rewriteFull: boolean; threadFull: boolean; planFull: boolean; seccompFull: boolean };
}

// The layout comes from core/stats_layout.h, through the generated ts/src/layout.ts
// (ts/scripts/gen-layout.mjs; test/layout.test.ts fails if the two differ).
const H = LAYOUT.header, P = LAYOUT.proc, M = LAYOUT.module, S = LAYOUT.site, N = LAYOUT.nr, T = LAYOUT.thread;
const MAGIC = 'TRAPLINE';
const VERSION = LAYOUT.const.version;
const HEADER_SIZE = LAYOUT.size.header;
const PROC_SIZE = LAYOUT.size.proc;
const MODULE_SIZE = LAYOUT.size.module;
const SITE_SIZE = LAYOUT.size.site;
/** Names by enum value, from the layout's name -> value tables. */
function byValue<K extends string>(table: Readonly<Record<K, number>>): K[] {
  const names: K[] = [];
  for (const [k, v] of Object.entries(table) as [K, number][]) names[v] = k;
  return names;
}
const ORIGINS: Origin[] = byValue(LAYOUT.origin);
const STATES: SiteState[] = byValue(LAYOUT.state);
const REASONS: SiteReason[] = byValue(LAYOUT.reason);
const SOURCES: SiteSource[] = byValue(LAYOUT.source);
const POLICIES: RewritePolicy[] = byValue(LAYOUT.policy);
const NR_COUNTERS_SIZE = LAYOUT.size.nr;
const THREAD_BLOCK_HEAD = T.fast;   // owner + reserved[7], then fast[nr_max], errors[nr_max]
const MODES = byValue(LAYOUT.mode);
const FLAG_ZERO_MAPPED = LAYOUT.flag.zero_mapped;
const FLAG_XONLY = LAYOUT.flag.xonly;
const FLAG_HOOK = LAYOUT.flag.hook;
const FLAG_PLAN = LAYOUT.flag.plan;
const FLAG_PROC_FULL = LAYOUT.flag.proc_full;
const FLAG_MODULE_FULL = LAYOUT.flag.module_full;
const FLAG_SITE_FULL = LAYOUT.flag.site_full;
const FLAG_PLAN_UNRECORDED = LAYOUT.flag.plan_unrecorded;
const FLAG_NULL_READS = LAYOUT.flag.null_reads;
const FLAG_PRELOADED = LAYOUT.flag.preloaded;
const FLAG_ENTERED = LAYOUT.flag.entered;
const FLAG_HOOK_SKIPPED = LAYOUT.flag.hook_skipped;
const FLAG_CAP_SUD = LAYOUT.flag.cap_sud;

/** Reads and decodes a statistics segment (TRAPLINE_STATS file). Throws StatsError. */
export function readStats(path: string): StatsSnapshot {
  const fail = (problem: string): never => {
    throw new StatsError(`trapline: stats file ${path}: ${problem}`);
  };

  let buf: Buffer;
  try {
    buf = readRegularFile(path, STATS_FILE_MAX);
  } catch (e) {
    const err = e as FileReadError;
    if (err.fsCode === 'EFBIG') return fail(`larger than ${sizeText(STATS_FILE_MAX)}`);
    throw new StatsError(`trapline: stats file ${path}: ${err.fsCode === 'ENOTREG' ? err.problem : `cannot read (${err.fsCode ?? err.problem})`}`, err.fsCode);
  }
  return decodeStats(buf, path);
}

/** Decodes a statistics segment held in buf; file names it in error messages. Throws StatsError. */
export function decodeStats(buf: Buffer, file: string): StatsSnapshot {
  const fail = (problem: string): never => {
    throw new StatsError(`trapline: stats file ${file}: ${problem}`);
  };
  if (buf.length < HEADER_SIZE) fail(`too short for a header (${buf.length} bytes)`);
  if (buf.toString('latin1', 0, 8) !== MAGIC) fail('bad magic (not a trapline stats file)');

  const version = buf.readUInt32LE(H.version);
  if (version !== VERSION) fail(`unsupported version ${version} (this reader knows ${VERSION})`);
  const headerSize = buf.readUInt32LE(H.header_size);
  const totalSize = buf.readBigUInt64LE(H.total_size);
  if (totalSize > BigInt(buf.length)) fail(`total_size ${totalSize} exceeds the file size ${buf.length}`);
  if (headerSize < HEADER_SIZE || BigInt(headerSize) > totalSize) fail(`bad header_size ${headerSize}`);

  const modeValue = buf.readUInt32LE(H.mode);
  const mode = MODES[modeValue] ?? fail(`unknown mode ${modeValue}`);
  const flags = buf.readUInt32LE(H.flags);
  const startNs = buf.readBigUInt64LE(H.start_ns);
  const nrMax = buf.readUInt32LE(H.nr_max);
  const threadSlots = buf.readUInt32LE(H.thread_slots);
  const nrOff = buf.readBigUInt64LE(H.nr_off);
  const threadOff = buf.readBigUInt64LE(H.thread_off);
  const u64 = (off: number) => buf.readBigUInt64LE(off);

  // Every array must lie 8-aligned inside [header_size, total_size).
  const checkArray = (name: string, off: bigint, bytes: bigint) => {
    if (off % 8n !== 0n || off < BigInt(headerSize) || off + bytes > totalSize) {
      fail(`${name} out of range (offset ${off}, ${bytes} bytes, total_size ${totalSize})`);
    }
  };
  const blockSize = THREAD_BLOCK_HEAD + 16 * nrMax;   // fast[nr_max] then errors[nr_max]
  checkArray('nr_off', nrOff, BigInt(nrMax) * BigInt(NR_COUNTERS_SIZE));
  checkArray('thread_off', threadOff, BigInt(threadSlots) * BigInt(blockSize));

  const i386Off = u64(H.i386_off);
  checkArray('i386_off', i386Off, BigInt(nrMax) * BigInt(NR_COUNTERS_SIZE));
  const perNrI386: NrStats[] = [];
  let i386Trap = 0n;
  for (let nr = 0, c = Number(i386Off); nr < nrMax; nr++, c += NR_COUNTERS_SIZE) {
    const trap = u64(c + N.trap);
    const errors = u64(c + N.errors);
    i386Trap += trap;
    if (trap !== 0n || errors !== 0n) perNrI386.push({ nr, trap: Number(trap), fast: 0, errors: Number(errors) });
  }

  const nrBase = Number(nrOff);
  const threadBase = Number(threadOff);
  const perNr: NrStats[] = [];
  let totalTrap = 0n;
  let totalFast = 0n;
  for (let nr = 0; nr < nrMax; nr++) {
    const c = nrBase + nr * NR_COUNTERS_SIZE;
    const trap = u64(c + N.trap);
    let fast = u64(c + N.fast);
    const errors = u64(c + N.errors);
    let errs = errors;
    for (let t = 0, f = threadBase + THREAD_BLOCK_HEAD + 8 * nr; t < threadSlots; t++, f += blockSize) {
      fast += u64(f);
      errs += u64(f + 8 * nrMax);                         // errors[] follows fast[nr_max]
    }
    totalTrap += trap;
    totalFast += fast;
    if (trap !== 0n || fast !== 0n || errs !== 0n) {
      perNr.push({ nr, trap: Number(trap), fast: Number(fast), errors: Number(errs) });
    }
  }

  // process, module and site tables
  const u32 = (off: number) => buf.readUInt32LE(off);
  const table = (name: string, offAt: number, capAt: number, countAt: number, size: number) => {
    const off = u64(offAt);
    const cap = u32(capAt);
    const claimed = u32(countAt);
    const count = Math.min(claimed, cap);
    checkArray(name, off, BigInt(cap) * BigInt(size));
    return { base: Number(off), count, dropped: claimed - count };
  };
  // a NUL-terminated string in a field of max bytes: only the field is searched
  const cstr = (off: number, max: number) => {
    const end = buf.subarray(off, off + max).indexOf(0);
    return buf.toString('utf8', off, end < 0 ? off + max : off + end);
  };
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  const procT = table('proc_off', H.proc_off, H.proc_cap, H.proc_count, PROC_SIZE);
  const processList: ProcessInfo[] = [];
  for (let i = 0; i < procT.count; i++) {
    const r = procT.base + i * PROC_SIZE;
    const st = buf.readInt32LE(r + P.status);
    processList.push({
      pid: u32(r + P.pid), ppid: u32(r + P.ppid),
      exitCode: st >= 0 && st < LAYOUT.const.status_signaled ? st : null,
      signal: st >= LAYOUT.const.status_signaled ? st - LAYOUT.const.status_signaled : null,
      mode: MODES[u32(r + P.mode)] ?? 'lazy',
      startMs: Number(u64(r + P.start_ns) / 1_000_000n),
      exe: cstr(r + P.exe, LAYOUT.size.exe),
    });
  }
  const modT = table('module_off', H.module_off, H.module_cap, H.module_count, MODULE_SIZE);
  const modules: ModuleInfo[] = [];
  for (let i = 0; i < modT.count; i++) {
    const r = modT.base + i * MODULE_SIZE;
    const idLen = Math.min(u32(r + M.build_id_len), LAYOUT.size.build_id);
    modules.push({
      index: i, pid: u32(r + M.pid), origin: ORIGINS[u32(r + M.origin)] ?? 'anonymous', base: hex(u64(r + M.base)),
      buildId: buf.toString('hex', r + M.build_id, r + M.build_id + idLen), path: cstr(r + M.path, LAYOUT.size.path),
    });
  }
  const siteT = table('site_off', H.site_off, H.site_cap, H.site_count, SITE_SIZE);
  const sites: SiteInfo[] = [];
  for (let i = 0; i < siteT.count; i++) {
    const r = siteT.base + i * SITE_SIZE;
    const mod = u32(r + S.module);
    const nrs: number[] = [];
    for (let w = 0; w < LAYOUT.const.nr_max / 32; w++) {
      let bits = u32(r + S.nrs + 4 * w);
      for (let b = 0; bits !== 0; b++, bits >>>= 1) if (bits & 1) nrs.push(32 * w + b);
    }
    sites.push({
      addr: hex(u64(r + S.addr)), pid: u32(r + S.pid), module: mod === LAYOUT.const.module_none || mod >= modules.length ? null : mod,
      offset: hex(u64(r + S.offset)), trapHits: Number(u64(r + S.trap_hits)), fastHits: Number(u64(r + S.fast_hits)), nrs,
      nrsOther: u32(r + S.nrs_other), state: STATES[u32(r + S.state)] ?? 'trapping', reason: REASONS[u32(r + S.reason)] ?? 'none',
      source: SOURCES[buf.readUInt16LE(r + S.source)] ?? 'learned',
    });
  }

  const otherTrap = u64(H.other_trap);
  const otherI386 = u64(H.other_i386);
  const otherFast = u64(H.other_fast);
  return {
    version,
    mode,
    zeroMapped: (flags & FLAG_ZERO_MAPPED) !== 0,
    xonly: (flags & FLAG_XONLY) !== 0,
    nullReads: (flags & FLAG_NULL_READS) !== 0,
    hookLoaded: (flags & FLAG_HOOK) !== 0,
    entry: (flags & FLAG_ENTERED) !== 0 && (flags & FLAG_PRELOADED) === 0 ? 'first-instruction' : 'constructor',
    hookSkipped: (flags & FLAG_HOOK_SKIPPED) !== 0,
    capSudOnly: (flags & FLAG_CAP_SUD) !== 0,
    planUsed: (flags & FLAG_PLAN) !== 0,
    policy: POLICIES[u32(H.policy)] ?? 'all',
    planRewritten: Number(u64(H.plan_rewritten)),
    planSkipped: Number(u64(H.plan_skipped)),
    policyRefused: Number(u64(H.policy_refused)),
    callerFallback: u32(H.caller_fallback),
    startNs: Number(startNs),
    startMs: Number(startNs / 1_000_000n),
    perNr,
    otherTrap: Number(otherTrap),
    otherFast: Number(otherFast),
    perNrI386,
    otherI386: Number(otherI386),
    sitesRewritten: Number(u64(H.sites_rewritten)),
    sitesTrapping: sites.filter((x) => x.state === 'trapping').length,
    sitesStale: Number(u64(H.sites_stale)),
    processes: Number(u64(H.processes)),
    total: { trap: Number(totalTrap + otherTrap + i386Trap + otherI386), fast: Number(totalFast + otherFast) },
    processList,
    modules,
    sites,
    dropped: {
      processes: (flags & FLAG_PROC_FULL) !== 0 ? procT.dropped : 0,
      sites: (flags & FLAG_SITE_FULL) !== 0 ? siteT.dropped : 0,
      modulesFull: (flags & FLAG_MODULE_FULL) !== 0,
      planUnrecorded: (flags & FLAG_PLAN_UNRECORDED) !== 0,
    },
    limits: {
      protKept: (flags & LAYOUT.flag.prot_kept) !== 0,
      rewriteFull: (flags & LAYOUT.flag.rewrite_full) !== 0,
      threadFull: (flags & LAYOUT.flag.thread_full) !== 0,
      planFull: (flags & LAYOUT.flag.plan_full) !== 0,
      seccompFull: (flags & LAYOUT.flag.seccomp_full) !== 0,
    },
  };
}

/** The segment geometry of this build (core/stats_check.c tl_stats_geom). */
export function segmentGeometry(): { nr: number; i386: number; thread: number; proc: number; module: number; site: number; size: number } {
  return { ...LAYOUT.geometry };
}

/** What a run that adds to an existing segment (--stats-append) must agree with. */
export interface SegmentIdentity {
  /** The run cookie, 16 hex digits at most: passed as TRAPLINE_STATS_COOKIE. */
  cookie: string;
  mode: RunMode;
  policy: RewritePolicy;
}

/**
 * Checks that path is a segment this user may add a run to, as the library will when it
 * joins: a regular file (not a symbolic link) owned by this user, not accessible to
 * others, of this build's size, with a header whose every offset, size and capacity is
 * this build's. Reads only the header. Throws StatsError naming the problem.
 */
export function readSegmentIdentity(path: string): SegmentIdentity {
  const fail = (problem: string): never => {
    throw new StatsError(`trapline: stats file ${path}: ${problem}`);
  };
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ELOOP' ? 'is a symbolic link' : `cannot open (${code ?? String(e)})`);
  }
  try {
    const st = fstatSync(fd);
    const g = segmentGeometry();
    if (!st.isFile()) fail('is not a regular file');
    if (typeof process.geteuid === 'function' && st.uid !== process.geteuid()) fail(`is owned by uid ${st.uid}, not by this user`);
    if ((st.mode & 0o077) !== 0) fail(`is accessible to other users (mode ${(st.mode & 0o777).toString(8)}; a segment is 0600)`);
    if (st.size !== g.size) fail(`is not a trapline v${VERSION} statistics segment (size ${st.size}, expected ${g.size})`);
    const h = Buffer.alloc(HEADER_SIZE);
    if (readSync(fd, h, 0, HEADER_SIZE, 0) !== HEADER_SIZE) fail('is truncated');
    const C = LAYOUT.const;
    const bad = h.toString('latin1', H.magic, H.magic + 8) !== MAGIC || h.readUInt32LE(H.version) !== VERSION ||
      h.readUInt32LE(H.header_size) !== HEADER_SIZE || h.readBigUInt64LE(H.total_size) !== BigInt(g.size) ||
      h.readUInt32LE(H.nr_max) !== C.nr_max || h.readUInt32LE(H.thread_slots) !== C.thread_slots ||
      h.readBigUInt64LE(H.nr_off) !== BigInt(g.nr) || h.readBigUInt64LE(H.thread_off) !== BigInt(g.thread) ||
      h.readBigUInt64LE(H.proc_off) !== BigInt(g.proc) || h.readUInt32LE(H.proc_cap) !== C.proc_cap ||
      h.readBigUInt64LE(H.module_off) !== BigInt(g.module) || h.readUInt32LE(H.module_cap) !== C.module_cap ||
      h.readBigUInt64LE(H.site_off) !== BigInt(g.site) || h.readUInt32LE(H.site_cap) !== C.site_cap ||
      h.readBigUInt64LE(H.i386_off) !== BigInt(g.i386);
    if (bad) fail(`is not a trapline v${VERSION} statistics segment (header)`);
    const mode = MODES[h.readUInt32LE(H.mode)] ?? fail('has an unknown mode');
    const policy = POLICIES[h.readUInt32LE(H.policy)] ?? fail('has an unknown rewrite policy');
    const cookie = h.readBigUInt64LE(H.run_cookie);
    if (cookie === 0n) fail('has no run cookie');
    return { cookie: cookie.toString(16), mode, policy };
  } finally {
    closeSync(fd);
  }
}

/** Name of an x86-64 system call number, or "syscall_<nr>" if unknown; with abi 'i386',
 * of an i386 number (int $0x80), or "i386_<nr>". */
export function nrName(nr: number, abi: Abi = 'x86_64'): string {
  if (abi === 'i386') return I386_SYSCALL_NAMES[nr] ?? `i386_${nr}`;
  return SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
}
