// The static scanner: finds every `syscall` (0f 05) and `sysenter` (0f 34) byte pair in
// the executable sections of an ELF file and classifies it as a proven instruction
// (confirmed), a proven instruction in a function that uses the red zone (redzone), or
// bytes that may be data or part of another instruction (ambiguous). See docs/scan.md.
import { readRegularFile } from './readfile.js';
import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';
import { parseElf, PT_LOAD, type ElfFile, type ExecRegion, type FuncSymbol } from './elf.js';
import { loadAddon } from './native.js';

export type SiteClass = 'confirmed' | 'ambiguous' | 'redzone';
export type SiteInsn = 'syscall' | 'sysenter';

export interface Site {
  /** File offset of the instruction (what plans record). */
  offset: number;
  vaddr: number;
  insn: SiteInsn;
  class: SiteClass;
  /** Symbol of the function containing it, "fde@0x..." when only an FDE covers it, else null. */
  function: string | null;
  /** Why the site is ambiguous or redzone. */
  reason?: string;
  /** A few disassembled instructions around the site, "0xADDR: text". */
  context: string[];
}

export interface ScanResult {
  file: string;
  buildId: string | null;
  type: 'exec' | 'dyn';
  /** Number of executable sections (or PF_X segments, without section headers) scanned. */
  sections: number;
  sites: Site[];
  counts: { confirmed: number; ambiguous: number; redzone: number };
  /** Wall time of the scan in milliseconds. */
  ms: number;
}

export interface ScanOptions {
  /** Instructions of context before the site (default 3). */
  contextBefore?: number;
  /** Instructions of context after the site (default 1). */
  contextAfter?: number;
}

// iced-x86 compiles ~800 KB of WebAssembly when loaded: do it on first use only, so that
// importing this module (the CLI does) costs nothing for other commands.
type IcedModule = typeof Iced;
let icedModule: IcedModule | undefined;
function iced(): IcedModule {
  if (!icedModule) icedModule = createRequire(import.meta.url)('iced-x86') as IcedModule;
  return icedModule;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** A function extent: a symbol with a size, or an FDE. */
interface Extent {
  start: number;
  end: number;
  /** Its first instruction: start, except for a signal-frame FDE (start + 1). */
  entry: number;
  name: string;
  sym: FuncSymbol | null;
}

/** Candidate pair, region-relative, with what the decodings said about it. */
interface Candidate {
  rel: number;
  insn: SiteInsn;
  /** The first decoding (b) that covers the pair without being synchronised with (a). */
  disagree?: { from: number; at: number };
}

/** Symbol preference among aliases: global, then weak, then local; fewer leading underscores. */
function betterName(a: FuncSymbol, b: FuncSymbol): boolean {
  const rank = (s: FuncSymbol) => (s.bind === 1 ? 0 : s.bind === 2 ? 1 : 2);
  if (rank(a) !== rank(b)) return rank(a) < rank(b);
  const us = (s: FuncSymbol) => /^_*/.exec(s.name)![0].length;
  if (us(a) !== us(b)) return us(a) < us(b);
  if (a.name.length !== b.name.length) return a.name.length < b.name.length;
  return a.name < b.name;
}

class Extents {
  readonly list: Extent[];
  private readonly maxLen: number;
  constructor(list: Extent[]) {
    this.list = list.sort((a, b) => a.start - b.start || a.end - b.end);
    this.maxLen = list.reduce((m, e) => Math.max(m, e.end - e.start), 0);
  }
  /** Every extent containing [addr, addr + len). */
  containing(addr: number, len: number): Extent[] {
    const out: Extent[] = [];
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid]!.start <= addr) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0; i--) {
      const e = this.list[i]!;
      if (e.start < addr - this.maxLen) break;
      if (e.start <= addr && addr + len <= e.end) out.push(e);
    }
    return out;
  }
}

/** The largest file scanFile reads (libraries are rarely over 200 MiB). */
export const SCAN_MAX_FILE = 2 ** 30;

/** Scans an ELF file (a regular file of at most SCAN_MAX_FILE bytes). Throws ElfError for
 *  a malformed file, FileReadError if it cannot be read. */
export function scanFile(path: string, opts: ScanOptions = {}): ScanResult {
  const t0 = performance.now();
  const buf = readRegularFile(path, SCAN_MAX_FILE);
  const r = scanBuffer(buf, path, opts);
  r.ms = round(performance.now() - t0);
  return r;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Scans an ELF image held in memory; name is reported as the result's file. */
export function scanBuffer(buf: Buffer, name: string, opts: ScanOptions = {}): ScanResult {
  const t0 = performance.now();
  const elf = parseElf(buf);
  const sites: Site[] = [];
  const regionsWithPairs = elf.execRegions.map((region) => ({ region, cands: findPairs(elf, region) }));
  if (regionsWithPairs.some((x) => x.cands.length > 0)) {
    const scanner = new Scanner(elf, opts);
    try {
      for (const { region, cands } of regionsWithPairs) {
        if (cands.length) for (const x of scanner.region(region, cands)) sites.push(x); // no spread: any count
      }
    } finally {
      scanner.free();
    }
  }
  sites.sort((a, b) => a.offset - b.offset);
  const counts = { confirmed: 0, ambiguous: 0, redzone: 0 };
  for (const s of sites) counts[s.class]++;
  return {
    file: name,
    buildId: elf.buildId,
    type: elf.type,
    sections: elf.execRegions.length,
    sites,
    counts,
    ms: round(performance.now() - t0),
  };
}

function findPairs(elf: ElfFile, region: ExecRegion): Candidate[] {
  const bytes = elf.buf.subarray(region.offset, region.offset + region.size);
  const out: Candidate[] = [];
  for (let i = bytes.indexOf(0x0f); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0x0f, i + 1)) {
    const b = bytes[i + 1];
    if (b === 0x05) out.push({ rel: i, insn: 'syscall' });
    else if (b === 0x34) out.push({ rel: i, insn: 'sysenter' });
  }
  return out;
}

/** Decoding state for one file; owns wasm objects (free()). */
class Scanner {
  private readonly ic = iced();
  private readonly insn = new this.ic.Instruction();
  private readonly fmt: Iced.Formatter;
  private readonly extents: Extents;
  private readonly hasExtents: boolean;
  /** Known instruction starts (entry, function symbols, FDE starts), sorted, unique. */
  private readonly starts: number[];
  /** For a start: the end of its longest extent (where decoding (b) stops). */
  private readonly startLimit = new Map<number, number>();
  /** Symbols by address (best alias), for naming. */
  private readonly symAt = new Map<number, FuncSymbol>();
  private readonly before: number;
  private readonly after: number;

  constructor(private readonly elf: ElfFile, opts: ScanOptions) {
    this.fmt = new this.ic.Formatter(this.ic.FormatterSyntax.Gas);
    this.fmt.uppercaseHex = false;
    this.fmt.spaceAfterOperandSeparator = true;
    this.fmt.branchLeadingZeros = false;
    // iced-x86 1.21 (wasm) prints a 64-bit immediate whose low 32 bits are 0..9 in decimal
    // from the low half alone (movabs $0x340f0000000000 -> "$0"): print every number in hex
    this.fmt.smallHexNumbersInDecimal = false;
    this.before = opts.contextBefore ?? 3;
    this.after = opts.contextAfter ?? 1;

    const list: Extent[] = [];
    const starts = new Set<number>();
    if (elf.entry) starts.add(elf.entry);
    for (const s of elf.symbols) {
      if (s.value === 0) continue;
      starts.add(s.value);
      const cur = this.symAt.get(s.value);
      if (!cur || betterName(s, cur)) this.symAt.set(s.value, s);
      if (s.size > 0) list.push({ start: s.value, end: s.value + s.size, entry: s.value, name: s.name, sym: s });
    }
    for (const f of elf.fdes) {
      const entry = f.signalFrame ? f.start + 1 : f.start;
      starts.add(entry);
      list.push({ start: f.start, end: f.start + f.size, entry, name: `fde@${hex(f.start)}`, sym: null });
    }
    for (const e of list) this.startLimit.set(e.entry, Math.max(this.startLimit.get(e.entry) ?? 0, e.end));
    this.extents = new Extents(list);
    this.hasExtents = list.length > 0;
    this.starts = [...starts].sort((a, b) => a - b);
  }

  free(): void {
    this.insn.free();
    this.fmt.free();
  }

  private text(): string {
    return this.fmt.format(this.insn);
  }

  region(region: ExecRegion, cands: Candidate[]): Site[] {
    const ic = this.ic;
    const INVALID = ic.Code.INVALID;
    const bytes = this.elf.buf.subarray(region.offset, region.offset + region.size);
    const size = bytes.length;
    const d = new ic.Decoder(64, bytes, ic.DecoderOptions.None);
    try {
      const insn = this.insn;
      // (a) linear sweep: lens[i] = length of the instruction starting at i, 0 if none.
      // Invalid bytes count as one-byte instructions, and are remembered.
      const lens = new Uint8Array(size);
      const invalid: number[] = [];
      let pos = 0;
      while (pos < size) {
        d.decodeOut(insn);
        if (insn.code === INVALID) {
          lens[pos] = 1;
          invalid.push(pos);
          pos += 1;
          d.position = pos;
        } else {
          const len = insn.length;
          lens[pos] = len;
          pos += len;
        }
      }

      // (b) decodings from every known start not already on a sweep boundary, until they
      // synchronise with (a) or leave the start's extent.
      // For each start decoded: where it joined (a) (or stopped), and the first invalid
      // instruction it met before that.
      const candAt = new Map<number, Candidate>();
      for (const c of cands) candAt.set(c.rel, c);
      const joined = new Map<number, { at: number; invalid: number }>();
      const lo = lowerBound(this.starts, region.vaddr);
      for (let i = lo; i < this.starts.length && this.starts[i]! < region.vaddr + size; i++) {
        const start = this.starts[i]!;
        let rel = start - region.vaddr;
        if (lens[rel] !== 0) continue; // already synchronised
        const limit = Math.min(size, (this.startLimit.get(start) ?? region.vaddr + size) - region.vaddr);
        let firstInvalid = -1;
        d.position = rel;
        while (rel < limit && lens[rel] === 0) {
          d.decodeOut(insn);
          const bad = insn.code === INVALID;
          const len = bad ? 1 : insn.length;
          if (bad && firstInvalid < 0) firstInvalid = rel;
          // every pair overlapping [rel, rel + len) is covered by this decoding
          for (let k = rel - 1; k < rel + len; k++) {
            const c = candAt.get(k);
            if (c && !c.disagree) c.disagree = { from: start, at: region.vaddr + rel };
          }
          rel += len;
          if (bad) d.position = rel;
        }
        joined.set(start - region.vaddr, { at: rel, invalid: firstInvalid });
      }

      const prevBoundary = (q: number): number => {
        for (let p = q - 1; p >= 0 && p >= q - 15; p--) if (lens[p] !== 0 && p + lens[p]! === q) return p;
        return -1;
      };
      /** The sweep instruction containing rel (start offset). */
      const containing = (rel: number): number => {
        for (let p = rel; p >= 0 && p >= rel - 15; p--) if (lens[p] !== 0) return p + lens[p]! > rel ? p : -1;
        return -1;
      };

      const sites: Site[] = [];
      for (const c of cands) {
        const vaddr = region.vaddr + c.rel;
        const exts = this.extents.containing(vaddr, 2);
        const site: Site = {
          offset: region.offset + c.rel,
          vaddr,
          insn: c.insn,
          class: 'confirmed',
          function: this.functionName(vaddr, exts),
          context: [],
        };
        let reason: string | undefined;
        const sweep = (): string => {
          const p = lens[c.rel] !== 0 ? c.rel : containing(c.rel);
          return p >= 0 ? `${this.decodeAt(d, region, p)} at ${hex(region.vaddr + p)}` : 'no instruction';
        };
        if (c.disagree) {
          const sym = this.symAt.get(c.disagree.from);
          const from = `${hex(c.disagree.from)}${sym ? ` (${sym.name})` : ''}`;
          const other = this.decodeAt(d, region, c.disagree.at - region.vaddr);
          reason = `decodings disagree: from ${from}: ${other} at ${hex(c.disagree.at)}; linear sweep: ${sweep()}`;
        } else if (lens[c.rel] !== 2) {
          const p = containing(c.rel);
          reason = p >= 0 ? `inside instruction at ${hex(region.vaddr + p)} (${this.decodeAt(d, region, p)})` : 'not an instruction boundary';
        } else if (this.hasExtents && exts.length === 0) {
          reason = 'outside any function';
        } else {
          // invalid code on the way from the function's start (or the previous known start,
          // or the section start) to the site, in the decoding from there: it may be data
          const from = Math.max(0, (exts.length ? exts.reduce((m, e) => Math.min(m, e.entry), Infinity) : this.prevStart(vaddr, region)) - region.vaddr);
          const j = joined.get(from);
          let bad = j && j.invalid >= 0 ? j.invalid : undefined;
          if (bad === undefined) bad = invalid[lowerBound(invalid, j ? j.at : from)];
          if (bad !== undefined && bad < c.rel) reason = `after invalid code at ${hex(region.vaddr + bad)}`;
        }
        if (reason !== undefined) {
          site.class = 'ambiguous';
          site.reason = reason;
        } else {
          const rz = this.redzone(site.offset);
          if (rz !== null) {
            site.class = 'redzone';
            site.reason = rz;
          }
        }
        // context from the best decoding: the sweep, which agrees with every other decoding
        // on confirmed sites; for a disagreement, the decoding that found the instruction
        const from = c.disagree ? c.disagree.from - region.vaddr : -1;
        site.context = from >= 0 && c.rel - from <= 1 << 16
          ? this.contextFrom(d, region, from, c.rel)
          : this.contextFrom(d, region, this.backUp(prevBoundary, c.rel, lens), c.rel);
        sites.push(site);
      }
      return sites;
    } finally {
      d.free();
    }
  }

  /** The sweep boundary `before` instructions before rel (or before its containing insn). */
  private backUp(prev: (q: number) => number, rel: number, lens: Uint8Array): number {
    let q = rel;
    if (lens[q] === 0) {
      for (let p = rel - 1; p >= 0 && p >= rel - 15; p--) if (lens[p] !== 0) { q = p; break; }
    }
    for (let i = 0; i < this.before; i++) {
      const p = prev(q);
      if (p < 0) break;
      q = p;
    }
    return q;
  }

  /** Disassembles from rel0 linearly: `before` instructions before the site, the one at
   *  or containing it, and `after` more. */
  private contextFrom(d: Iced.Decoder, region: ExecRegion, rel0: number, site: number): string[] {
    const insn = this.insn;
    const size = region.size;
    const ring: string[] = [];
    let rel = rel0;
    d.position = rel;
    d.ip = BigInt(region.vaddr + rel);
    let after = -1;
    while (rel < size) {
      d.decodeOut(insn);
      const invalid = insn.code === this.ic.Code.INVALID;
      const len = invalid ? 1 : insn.length;
      const line = `${hex(region.vaddr + rel)}: ${invalid ? '(bad)' : this.text()}`;
      rel += len;
      if (invalid) {
        d.position = rel;
        d.ip = BigInt(region.vaddr + rel);
      }
      if (after < 0) {
        ring.push(line);
        if (rel > site) {
          if (ring.length > this.before + 1) ring.splice(0, ring.length - this.before - 1);
          after = 0;
          if (after >= this.after) break;
        } else if (ring.length > this.before) {
          ring.shift();
        }
      } else {
        ring.push(line);
        if (++after >= this.after) break;
      }
    }
    return ring;
  }

  private decodeAt(d: Iced.Decoder, region: ExecRegion, rel: number): string {
    d.position = rel;
    d.ip = BigInt(region.vaddr + rel);
    d.decodeOut(this.insn);
    return this.insn.code === this.ic.Code.INVALID ? '(bad)' : this.text();
  }

  private prevStart(vaddr: number, region: ExecRegion): number {
    const i = upperBound(this.starts, vaddr) - 1;
    const s = i >= 0 ? this.starts[i]! : -1;
    return s >= region.vaddr ? s : region.vaddr;
  }

  private nextStart(vaddr: number, region: ExecRegion): number {
    const s = this.starts[upperBound(this.starts, vaddr)];
    return s !== undefined && s < region.vaddr + region.size ? s : region.vaddr + region.size;
  }

  private functionName(vaddr: number, exts: Extent[]): string | null {
    let best: Extent | undefined;
    for (const e of exts) {
      const len = e.end - e.start;
      if (!best) { best = e; continue; }
      const blen = best.end - best.start;
      // symbols name functions better than FDEs; then the innermost extent
      if (e.sym && !best.sym) best = e;
      else if (!!e.sym === !!best.sym && (len < blen || (len === blen && e.sym && best.sym && betterName(e.sym, best.sym)))) best = e;
    }
    if (best) return best.sym ? (this.symAt.get(best.start)?.name ?? best.name) : best.name;
    if (!this.hasExtents) {
      // no sizes anywhere: the nearest symbol before it
      const i = upperBound(this.starts, vaddr) - 1;
      const s = i >= 0 ? this.symAt.get(this.starts[i]!) : undefined;
      return s?.name ?? null;
    }
    return null;
  }

  /**
   * The red-zone rule, run by the C core's own code (lazy/redzone.c, through the addon) on
   * the bytes the interposer would see: the page-rounded PT_LOAD segment holding the site,
   * i.e. its file mapping (the rule clips that to its window around the site). A
   * description of the use it found, or null.
   */
  private redzone(offset: number): string | null {
    const seg = this.elf.programHeaders.find((p) => p.type === PT_LOAD && offset >= p.offset && offset + 2 <= p.offset + p.filesz);
    const buf = this.elf.buf;
    const lo = seg ? seg.offset - (seg.offset % 4096) : 0;
    const hi = seg ? Math.min(buf.length, Math.ceil((seg.offset + seg.filesz) / 4096) * 4096) : buf.length;
    const r = loadAddon().redzone(buf.subarray(lo, hi), offset - lo);
    if (r.kind === 0) return null;
    const at = lo + r.at;
    const vaddr = this.elf.offsetToVaddr(at) ?? at;
    const d = new this.ic.Decoder(64, buf.subarray(at, Math.min(buf.length, at + 15)), this.ic.DecoderOptions.None);
    try {
      d.ip = BigInt(vaddr);
      d.decodeOut(this.insn);
      const text = this.insn.code === this.ic.Code.INVALID ? '(bad)' : this.text();
      return `code uses the red zone: ${text} at ${hex(vaddr)} (${REDZONE_KINDS[r.kind] ?? `kind ${r.kind}`})`;
    } finally {
      d.free();
    }
  }
}

/** enum tl_rz_kind (lazy/redzone.h), as the scanner words it. */
const REDZONE_KINDS: Record<number, string> = {
  1: 'below %rsp, after the syscall',
  2: 'below %rsp through a copy of %rsp, after the syscall',
  3: 'hands the kernel a pointer below %rsp',
  4: 'stores a pointer below %rsp',
  5: 'string instruction with a pointer below %rsp',
  6: 'analysis did not settle',
};

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
