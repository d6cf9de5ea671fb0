import { readFileSync } from 'node:fs';
import { SYSCALL_NAMES } from './syscalls.js';

/** A malformed, truncated or unreadable statistics segment. */
export class StatsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatsError';
  }
}

export interface NrStats {
  nr: number;
  trap: number;
  fast: number;
  errors: number;
}

export type Origin = 'main' | 'startup' | 'dlopen' | 'anonymous' | 'vdso';
export type SiteState = 'rewritten' | 'trapping' | 'stale' | 'skipped';
export type SiteReason = 'none' | 'vdso' | 'straddle' | 'sud-only' | 'not-syscall' | 'full' | 'stale' | 'nested' | 'policy' | 'plan-mismatch' | 'seccomp';
/** Where a site record came from: it trapped (learned at run time), or a plan. */
export type SiteSource = 'learned' | 'plan-confirmed' | 'plan-learned';
export type RewritePolicy = 'all' | 'verified' | 'none';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** 0..255 exit status; null while running or unknown. */
  exitCode: number | null;
  /** Signal number that killed it, or null. */
  signal: number | null;
  mode: 'lazy' | 'sud-only';
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
  /** Distinct syscall numbers 0..511 seen at the site, on every path, ascending. */
  nrs: number[];
  /** Calls at the site with a number outside 0..511. */
  nrsOther: number;
  state: SiteState;
  reason: SiteReason;
  source: SiteSource;
}

export interface StatsSnapshot {
  version: number;
  mode: 'lazy' | 'sud-only';
  zeroMapped: boolean;
  xonly: boolean;
  hookLoaded: boolean;
  /** A rewrite plan (file or cache) was in use. */
  planUsed: boolean;
  /** The rewrite policy of the first process. */
  policy: RewritePolicy;
  /** Plan sites rewritten ahead of time, and plan sites skipped (bytes differ, policy, straddle). */
  planRewritten: number;
  planSkipped: number;
  /** Sites that trapped and were refused a rewrite by the policy. */
  policyRefused: number;
  /** CLOCK_REALTIME at creation, in ns (as a Number: sub-microsecond precision is lost). */
  startNs: number;
  /** The same instant in ms since the epoch, comparable with Date.now(). */
  startMs: number;
  /** Numbers 0..nr_max-1 with at least one nonzero counter, ascending. */
  perNr: NrStats[];
  otherTrap: number;
  otherFast: number;
  sitesRewritten: number;
  sitesTrapping: number;
  sitesStale: number;
  processes: number;
  total: { trap: number; fast: number };
  processList: ProcessInfo[];
  modules: ModuleInfo[];
  sites: SiteInfo[];
}

// core/stats_layout.h, version 3.
const MAGIC = 'TRAPLINE';
const VERSION = 3;
const HEADER_SIZE = 192; // sizeof(struct tl_stats_header)
const PROC_SIZE = 256;
const MODULE_SIZE = 320;
const SITE_SIZE = 128;
const ORIGINS: Origin[] = ['main', 'startup', 'dlopen', 'anonymous', 'vdso'];
const STATES: SiteState[] = ['rewritten', 'trapping', 'stale', 'skipped'];
const REASONS: SiteReason[] = ['none', 'vdso', 'straddle', 'sud-only', 'not-syscall', 'full', 'stale', 'nested', 'policy', 'plan-mismatch', 'seccomp'];
const SOURCES: SiteSource[] = ['learned', 'plan-confirmed', 'plan-learned'];
const POLICIES: RewritePolicy[] = ['all', 'verified', 'none'];
const NR_COUNTERS_SIZE = 32; // sizeof(struct tl_nr_counters)
const THREAD_BLOCK_HEAD = 64; // owner + reserved[7], then fast[nr_max]
const MODES = ['lazy', 'sud-only'] as const;
const FLAG_ZERO_MAPPED = 1;
const FLAG_XONLY = 2;
const FLAG_HOOK = 4;
const FLAG_PLAN = 8;

/** Reads and decodes a statistics segment (TRAPLINE_STATS file). Throws StatsError. */
export function readStats(path: string): StatsSnapshot {
  const fail = (problem: string): never => {
    throw new StatsError(`trapline: stats file ${path}: ${problem}`);
  };

  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return fail(`cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (buf.length < HEADER_SIZE) fail(`too short for a header (${buf.length} bytes)`);
  if (buf.toString('latin1', 0, 8) !== MAGIC) fail('bad magic (not a trapline stats file)');

  const version = buf.readUInt32LE(8);
  if (version !== VERSION) fail(`unsupported version ${version} (this reader knows ${VERSION})`);
  const headerSize = buf.readUInt32LE(12);
  const totalSize = buf.readBigUInt64LE(16);
  if (totalSize > BigInt(buf.length)) fail(`total_size ${totalSize} exceeds the file size ${buf.length}`);
  if (headerSize < HEADER_SIZE || BigInt(headerSize) > totalSize) fail(`bad header_size ${headerSize}`);

  const modeValue = buf.readUInt32LE(24);
  const mode = MODES[modeValue] ?? fail(`unknown mode ${modeValue}`);
  const flags = buf.readUInt32LE(28);
  const startNs = buf.readBigUInt64LE(32);
  const nrMax = buf.readUInt32LE(40);
  const threadSlots = buf.readUInt32LE(44);
  const nrOff = buf.readBigUInt64LE(48);
  const threadOff = buf.readBigUInt64LE(56);
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

  const nrBase = Number(nrOff);
  const threadBase = Number(threadOff);
  const perNr: NrStats[] = [];
  let totalTrap = 0n;
  let totalFast = 0n;
  for (let nr = 0; nr < nrMax; nr++) {
    const c = nrBase + nr * NR_COUNTERS_SIZE;
    const trap = u64(c);
    let fast = u64(c + 8);
    const errors = u64(c + 16);
    let errs = errors;
    for (let t = 0, f = threadBase + THREAD_BLOCK_HEAD + 8 * nr; t < threadSlots; t++, f += blockSize) {
      fast += u64(f);
      errs += u64(f + 8 * nrMax);
    }
    totalTrap += trap;
    totalFast += fast;
    if (trap !== 0n || fast !== 0n || errs !== 0n) {
      perNr.push({ nr, trap: Number(trap), fast: Number(fast), errors: Number(errs) });
    }
  }

  // process, module and site tables
  const u32 = (off: number) => buf.readUInt32LE(off);
  const table = (name: string, offAt: number, size: number) => {
    const off = u64(offAt);
    const cap = u32(offAt + 8);
    const count = Math.min(u32(offAt + 12), cap);
    checkArray(name, off, BigInt(cap) * BigInt(size));
    return { base: Number(off), count };
  };
  const cstr = (off: number, max: number) => {
    const end = buf.indexOf(0, off);
    return buf.toString('utf8', off, end < 0 || end > off + max ? off + max : end);
  };
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  const procT = table('proc_off', 112, PROC_SIZE);
  const processList: ProcessInfo[] = [];
  for (let i = 0; i < procT.count; i++) {
    const r = procT.base + i * PROC_SIZE;
    const st = buf.readInt32LE(r + 8);
    processList.push({
      pid: u32(r), ppid: u32(r + 4),
      exitCode: st >= 0 && st < 256 ? st : null,
      signal: st >= 256 ? st - 256 : null,
      mode: MODES[u32(r + 12)] ?? 'lazy',
      startMs: Number(u64(r + 16) / 1_000_000n),
      exe: cstr(r + 24, 232),
    });
  }
  const modT = table('module_off', 128, MODULE_SIZE);
  const modules: ModuleInfo[] = [];
  for (let i = 0; i < modT.count; i++) {
    const r = modT.base + i * MODULE_SIZE;
    const idLen = Math.min(u32(r + 44), 20);
    modules.push({
      index: i, pid: u32(r), origin: ORIGINS[u32(r + 4)] ?? 'anonymous', base: hex(u64(r + 8)),
      buildId: buf.toString('hex', r + 24, r + 24 + idLen), path: cstr(r + 48, 272),
    });
  }
  const siteT = table('site_off', 144, SITE_SIZE);
  const sites: SiteInfo[] = [];
  for (let i = 0; i < siteT.count; i++) {
    const r = siteT.base + i * SITE_SIZE;
    const mod = u32(r + 12);
    const nrs: number[] = [];
    for (let w = 0; w < 16; w++) {
      let bits = u32(r + 64 + 4 * w);
      for (let b = 0; bits !== 0; b++, bits >>>= 1) if (bits & 1) nrs.push(32 * w + b);
    }
    sites.push({
      addr: hex(u64(r)), pid: u32(r + 8), module: mod === 0xffffffff || mod >= modules.length ? null : mod,
      offset: hex(u64(r + 16)), trapHits: Number(u64(r + 24)), fastHits: Number(u64(r + 32)), nrs,
      nrsOther: u32(r + 44), state: STATES[u32(r + 48)] ?? 'trapping', reason: REASONS[u32(r + 52)] ?? 'none',
      source: SOURCES[buf.readUInt16LE(r + 42)] ?? 'learned',
    });
  }

  const otherTrap = u64(64);
  const otherFast = u64(72);
  return {
    version,
    mode,
    zeroMapped: (flags & FLAG_ZERO_MAPPED) !== 0,
    xonly: (flags & FLAG_XONLY) !== 0,
    hookLoaded: (flags & FLAG_HOOK) !== 0,
    planUsed: (flags & FLAG_PLAN) !== 0,
    policy: POLICIES[u32(184)] ?? 'all',
    planRewritten: Number(u64(160)),
    planSkipped: Number(u64(168)),
    policyRefused: Number(u64(176)),
    startNs: Number(startNs),
    startMs: Number(startNs / 1_000_000n),
    perNr,
    otherTrap: Number(otherTrap),
    otherFast: Number(otherFast),
    sitesRewritten: Number(u64(80)),
    sitesTrapping: sites.filter((x) => x.state === 'trapping').length,
    sitesStale: Number(u64(104)),
    processes: Number(u64(96)),
    total: { trap: Number(totalTrap + otherTrap), fast: Number(totalFast + otherFast) },
    processList,
    modules,
    sites,
  };
}

/** Name of an x86-64 system call number, or "syscall_<nr>" if unknown. */
export function nrName(nr: number): string {
  return SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
}
