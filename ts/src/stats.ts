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

export interface StatsSnapshot {
  version: number;
  mode: 'lazy' | 'sud-only';
  zeroMapped: boolean;
  xonly: boolean;
  hookLoaded: boolean;
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
  processes: number;
  total: { trap: number; fast: number };
}

// core/stats_layout.h, version 1.
const MAGIC = 'TRAPLINE';
const VERSION = 1;
const HEADER_SIZE = 168; // sizeof(struct tl_stats_header)
const NR_COUNTERS_SIZE = 32; // sizeof(struct tl_nr_counters)
const THREAD_BLOCK_HEAD = 64; // owner + reserved[7], then fast[nr_max]
const MODES = ['lazy', 'sud-only'] as const;
const FLAG_ZERO_MAPPED = 1;
const FLAG_XONLY = 2;
const FLAG_HOOK = 4;

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
  const blockSize = THREAD_BLOCK_HEAD + 8 * nrMax;
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
    for (let t = 0, f = threadBase + THREAD_BLOCK_HEAD + 8 * nr; t < threadSlots; t++, f += blockSize) {
      fast += u64(f);
    }
    totalTrap += trap;
    totalFast += fast;
    if (trap !== 0n || fast !== 0n || errors !== 0n) {
      perNr.push({ nr, trap: Number(trap), fast: Number(fast), errors: Number(errors) });
    }
  }

  const otherTrap = u64(64);
  const otherFast = u64(72);
  return {
    version,
    mode,
    zeroMapped: (flags & FLAG_ZERO_MAPPED) !== 0,
    xonly: (flags & FLAG_XONLY) !== 0,
    hookLoaded: (flags & FLAG_HOOK) !== 0,
    startNs: Number(startNs),
    startMs: Number(startNs / 1_000_000n),
    perNr,
    otherTrap: Number(otherTrap),
    otherFast: Number(otherFast),
    sitesRewritten: Number(u64(80)),
    sitesTrapping: Number(u64(88)),
    processes: Number(u64(96)),
    total: { trap: Number(totalTrap + otherTrap), fast: Number(totalFast + otherFast) },
  };
}

/** Name of an x86-64 system call number, or "syscall_<nr>" if unknown. */
export function nrName(nr: number): string {
  return SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
}
