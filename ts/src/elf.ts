// A minimal, hand-written ELF64 (little-endian, x86-64) reader for the static scanner:
// headers, sections, function symbols, the GNU build-id and function extents from
// .eh_frame. Every read is bounds-checked; a malformed file throws ElfError.

import { ElfError } from './errors.js';

export { ElfError };

export const EM_X86_64 = 62;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PF_X = 1;
export const SHT_NOBITS = 8;
export const SHT_NOTE = 7;
export const SHT_SYMTAB = 2;
export const SHT_DYNSYM = 11;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;
const NT_GNU_BUILD_ID = 3;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface SectionHeader {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
  addralign: number;
}

/** A function symbol (STT_FUNC or STT_GNU_IFUNC) defined in this file. */
export interface FuncSymbol {
  name: string;
  value: number;
  size: number;
  /** STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2 */
  bind: number;
  table: '.symtab' | '.dynsym';
}

/** A function extent from an .eh_frame FDE: [start, start + size). */
export interface FdeExtent {
  start: number;
  size: number;
  /** From a CIE with the 'S' augmentation (a signal trampoline): by convention its range
   *  starts one byte before the first instruction, so start is not an instruction start. */
  signalFrame: boolean;
}

/** Bytes that are executed: an SHF_EXECINSTR section, or a PF_X segment without sections. */
export interface ExecRegion {
  name: string;
  vaddr: number;
  offset: number;
  size: number;
}

export interface ElfFile {
  buf: Buffer;
  type: 'exec' | 'dyn';
  entry: number;
  programHeaders: ProgramHeader[];
  sections: SectionHeader[];
  symbols: FuncSymbol[];
  buildId: string | null;
  fdes: FdeExtent[];
  execRegions: ExecRegion[];
  /** File offset of a virtual address in a PT_LOAD segment's file image, or null. */
  vaddrToOffset(vaddr: number): number | null;
  /** Virtual address of a file offset inside a PT_LOAD segment, or null. */
  offsetToVaddr(offset: number): number | null;
}

/** Bounds-checked little-endian reads over a Buffer. */
class Reader {
  /** Bytes the reader may still walk through in tables that can overlap (string, symbol
   *  and note tables): a crafted file pointing every symbol into one long string, or
   *  every section at the same symbol table, would make it quadratic in time and memory.
   *  Legitimate files use a fraction of it. */
  private budget: number;
  constructor(readonly buf: Buffer) {
    this.budget = 8 * buf.length + 2 ** 20;
  }
  /** Charges n bytes of table walking; throws ElfError when the budget is spent. */
  spend(n: number, what: string): void {
    this.budget -= n;
    if (this.budget < 0) throw new ElfError(`${what}: overlapping tables (reading them would take more than 8 times the file size)`);
  }

  check(off: number, len: number, what: string): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.buf.length) {
      throw new ElfError(`truncated ${what}`);
    }
  }
  u8(off: number, what: string): number {
    this.check(off, 1, what);
    return this.buf[off]!;
  }
  u16(off: number, what: string): number {
    this.check(off, 2, what);
    return this.buf.readUInt16LE(off);
  }
  u32(off: number, what: string): number {
    this.check(off, 4, what);
    return this.buf.readUInt32LE(off);
  }
  i32(off: number, what: string): number {
    this.check(off, 4, what);
    return this.buf.readInt32LE(off);
  }
  /** A 64-bit unsigned field that must fit in a JS number (offsets, addresses, sizes). */
  u64(off: number, what: string): number {
    this.check(off, 8, what);
    const v = this.buf.readBigUInt64LE(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what}: value 0x${v.toString(16)} out of range`);
    return Number(v);
  }
  /** A 64-bit field that may be any value (addresses in tables); wraps into [0, 2^64). */
  u64big(off: number, what: string): bigint {
    this.check(off, 8, what);
    return this.buf.readBigUInt64LE(off);
  }
  i64big(off: number, what: string): bigint {
    this.check(off, 8, what);
    return this.buf.readBigInt64LE(off);
  }
  uleb(off: number, end: number, what: string): { value: number; next: number } {
    let result = 0;
    let mul = 1;
    for (let p = off; ; p++) {
      if (p >= end || p >= this.buf.length) throw new ElfError(`truncated ${what}`);
      const b = this.buf[p]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return { value: result, next: p + 1 };
      if (mul > 2 ** 63) throw new ElfError(`${what}: LEB128 value too large`);
    }
  }
  sleb(off: number, end: number, what: string): { value: number; next: number } {
    let result = 0;
    let mul = 1;
    for (let p = off; ; p++) {
      if (p >= end || p >= this.buf.length) throw new ElfError(`truncated ${what}`);
      const b = this.buf[p]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) {
        if (b & 0x40) result -= mul;
        return { value: result, next: p + 1 };
      }
      if (mul > 2 ** 63) throw new ElfError(`${what}: LEB128 value too large`);
    }
  }
  cstring(off: number, end: number, what: string): string {
    if (!Number.isSafeInteger(off) || off < 0 || off >= end || end > this.buf.length) throw new ElfError(`${what} out of range`);
    const len = this.buf.subarray(off, end).indexOf(0);   // searched only up to end
    if (len < 0) throw new ElfError(`unterminated ${what}`);
    this.spend(len + 1, what);
    return this.buf.toString('latin1', off, off + len);
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);
/** A 64-bit value as a number, or null if it does not fit exactly. */
const safe = (v: bigint): number | null => (v >= 0n && v <= MAX ? Number(v) : null);

/** Parses an ELF64 x86-64 executable or shared object. Throws ElfError. */
export function parseElf(buf: Buffer): ElfFile {
  const r = new Reader(buf);
  if (buf.length < 4 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw new ElfError('not an ELF file');
  }
  if (buf.length < 64) throw new ElfError('truncated ELF header');
  if (buf[4] !== 2) throw new ElfError(`not a 64-bit ELF (class ${buf[4]})`);
  if (buf[5] !== 1) throw new ElfError(`not a little-endian ELF (data encoding ${buf[5]})`);
  const eType = r.u16(16, 'ELF header');
  const machine = r.u16(18, 'ELF header');
  if (machine !== EM_X86_64) throw new ElfError(`not an x86-64 ELF (machine ${machine})`);
  if (eType !== ET_EXEC && eType !== ET_DYN) throw new ElfError(`not an executable or shared object (ELF type ${eType})`);
  const entry = safe(r.u64big(24, 'ELF header')) ?? 0;
  const phoff = r.u64(32, 'ELF header');
  const shoff = r.u64(40, 'ELF header');
  const phentsize = r.u16(54, 'ELF header');
  const phnum = r.u16(56, 'ELF header');
  const shentsize = r.u16(58, 'ELF header');
  let shnum = r.u16(60, 'ELF header');
  let shstrndx = r.u16(62, 'ELF header');

  // ---- program headers
  const programHeaders: ProgramHeader[] = [];
  if (phnum > 0) {
    if (phentsize < 56) throw new ElfError(`bad program header size ${phentsize}`);
    r.check(phoff, phnum * phentsize, 'program header table');
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      const what = 'program header table';
      programHeaders.push({
        type: r.u32(o, what),
        flags: r.u32(o + 4, what),
        offset: r.u64(o + 8, what),
        vaddr: r.u64(o + 16, what),
        filesz: r.u64(o + 32, what),
        memsz: r.u64(o + 40, what),
        align: r.u64(o + 48, what),
      });
    }
  }
  for (const ph of programHeaders) {
    if (ph.type === PT_LOAD && ph.offset + ph.filesz > buf.length) throw new ElfError(`truncated segment at file offset ${hex(ph.offset)}`);
  }

  // ---- section headers
  const sections: SectionHeader[] = [];
  if (shoff !== 0) {
    if (shentsize < 64) throw new ElfError(`bad section header size ${shentsize}`);
    r.check(shoff, 64, 'section header table');
    // extended numbering: section 0 holds the real count and string table index
    if (shnum === 0) shnum = r.u64(shoff + 32, 'section header table');
    if (shstrndx === 0xffff) shstrndx = r.u32(shoff + 40, 'section header table');
    if (shnum > 0x100000) throw new ElfError(`too many sections (${shnum})`);
    r.check(shoff, shnum * shentsize, 'section header table');
    const nameOffs: number[] = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      const what = 'section header table';
      nameOffs.push(r.u32(o, what));
      sections.push({
        index: i,
        name: '',
        type: r.u32(o + 4, what),
        flags: Number(r.u64big(o + 8, what) & 0xffffffffn),
        addr: r.u64(o + 16, what),
        offset: r.u64(o + 24, what),
        size: r.u64(o + 32, what),
        link: r.u32(o + 40, what),
        entsize: r.u64(o + 56, what),
        addralign: r.u64(o + 48, what),
      });
    }
    for (const s of sections) {
      if (s.type !== SHT_NOBITS && s.type !== 0 && s.offset + s.size > buf.length) {
        throw new ElfError(`truncated section ${s.index} (offset ${hex(s.offset)}, size ${hex(s.size)}, file size ${hex(buf.length)})`);
      }
    }
    if (sections.length > 0 && shstrndx !== 0) {
      const strtab = sections[shstrndx];
      if (!strtab) throw new ElfError(`section name string table index ${shstrndx} out of range`);
      if (strtab.type === SHT_NOBITS) throw new ElfError('section name string table has no data');
      for (const s of sections) s.name = r.cstring(strtab.offset + nameOffs[s.index]!, strtab.offset + strtab.size, 'section name');
    }
  }

  const loads = programHeaders.filter((p) => p.type === PT_LOAD);
  const vaddrToOffset = (vaddr: number): number | null => {
    for (const p of loads) if (vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz) return p.offset + (vaddr - p.vaddr);
    return null;
  };
  const offsetToVaddr = (offset: number): number | null => {
    for (const p of loads) if (offset >= p.offset && offset < p.offset + p.filesz) return p.vaddr + (offset - p.offset);
    return null;
  };

  // ---- executable regions
  let execRegions: ExecRegion[];
  if (sections.length > 0) {
    execRegions = sections
      .filter((s) => s.flags & SHF_EXECINSTR && s.flags & SHF_ALLOC && s.type !== SHT_NOBITS && s.size > 0)
      .map((s) => ({ name: s.name || `section ${s.index}`, vaddr: s.addr, offset: s.offset, size: s.size }));
  } else {
    execRegions = loads
      .filter((p) => p.flags & PF_X && p.filesz > 0)
      .map((p, i) => ({ name: `segment ${i}`, vaddr: p.vaddr, offset: p.offset, size: p.filesz }));
  }

  // ---- symbols
  const symbols: FuncSymbol[] = [];
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    const table = s.type === SHT_SYMTAB ? '.symtab' : '.dynsym';
    const strtab = sections[s.link];
    if (!strtab) throw new ElfError(`${table}: string table index ${s.link} out of range`);
    const ent = s.entsize || 24;
    if (ent < 24) throw new ElfError(`${table}: bad entry size ${ent}`);
    const n = Math.floor(s.size / ent);
    r.spend(n * ent, table);
    for (let i = 1; i < n; i++) {
      const o = s.offset + i * ent;
      const info = r.u8(o + 4, table);
      const stype = info & 0xf;
      if (stype !== STT_FUNC && stype !== STT_GNU_IFUNC) continue;
      const shndx = r.u16(o + 6, table);
      if (shndx === 0 || shndx >= 0xff00) continue; // undefined, absolute, common
      const nameOff = r.u32(o, table);
      const value = safe(r.u64big(o + 8, table));
      const size = safe(r.u64big(o + 16, table));
      if (value === null || size === null) continue;
      const name = nameOff === 0 ? '' : r.cstring(strtab.offset + nameOff, strtab.offset + strtab.size, `${table} symbol name`);
      symbols.push({ name, value, size, bind: info >> 4, table });
    }
  }

  const file: ElfFile = {
    buf,
    type: eType === ET_EXEC ? 'exec' : 'dyn',
    entry,
    programHeaders,
    sections,
    symbols,
    buildId: null,
    fdes: [],
    execRegions,
    vaddrToOffset,
    offsetToVaddr,
  };
  file.buildId = findBuildId(r, file);
  file.fdes = findFdes(r, file);
  return file;
}

function findBuildId(r: Reader, f: ElfFile): string | null {
  const areas: { offset: number; size: number; align: number }[] = [];
  for (const p of f.programHeaders) if (p.type === PT_NOTE) areas.push({ offset: p.offset, size: p.filesz, align: p.align });
  for (const s of f.sections) if (s.type === SHT_NOTE) areas.push({ offset: s.offset, size: s.size, align: s.addralign });
  for (const a of areas) {
    const id = buildIdIn(r, a.offset, a.size, a.align === 8 ? 8 : 4);
    if (id) return id;
  }
  return null;
}

function buildIdIn(r: Reader, offset: number, size: number, align: number): string | null {
  const end = offset + size;
  r.check(offset, size, 'note');
  r.spend(size, 'note');
  const up = (n: number) => Math.ceil(n / align) * align;
  let p = offset;
  while (p + 12 <= end) {
    const namesz = r.u32(p, 'note');
    const descsz = r.u32(p + 4, 'note');
    const type = r.u32(p + 8, 'note');
    const name = p + 12;
    const desc = p + up(12 + namesz);
    if (desc + descsz > end) throw new ElfError('truncated note');
    if (type === NT_GNU_BUILD_ID && namesz === 4 && r.buf.toString('latin1', name, name + 4) === 'GNU\0') {
      if (descsz === 0) return null;
      return r.buf.toString('hex', desc, desc + descsz);
    }
    p += up(desc - p + descsz);
  }
  return null;
}

// ---- .eh_frame -------------------------------------------------------------------

const DW_EH_PE_omit = 0xff;
const DW_EH_PE_pcrel = 0x10;

interface Cie {
  fdeEncoding: number;
  signalFrame: boolean;
  ok: boolean;
}

/** Reads a DWARF EH pointer. Returns null for forms this reader does not support. */
function readEncoded(
  r: Reader, off: number, end: number, enc: number, fieldVaddr: number, what: string,
): { value: number | null; next: number } {
  if (enc === DW_EH_PE_omit) return { value: null, next: off };
  let v: number;
  let next: number;
  switch (enc & 0x0f) {
    case 0x00: // absptr
    case 0x04: // udata8
    case 0x0c: { // sdata8
      if (off + 8 > end) throw new ElfError(`truncated ${what}`);
      const b = (enc & 0x0f) === 0x0c ? r.i64big(off, what) : r.u64big(off, what);
      if (b > MAX || b < -MAX) return { value: null, next: off + 8 };
      v = Number(b);
      next = off + 8;
      break;
    }
    case 0x03: // udata4
      if (off + 4 > end) throw new ElfError(`truncated ${what}`);
      v = r.u32(off, what);
      next = off + 4;
      break;
    case 0x0b: // sdata4
      if (off + 4 > end) throw new ElfError(`truncated ${what}`);
      v = r.i32(off, what);
      next = off + 4;
      break;
    case 0x02: // udata2
      if (off + 2 > end) throw new ElfError(`truncated ${what}`);
      v = r.u16(off, what);
      next = off + 2;
      break;
    case 0x0a: // sdata2
      if (off + 2 > end) throw new ElfError(`truncated ${what}`);
      v = (r.u16(off, what) << 16) >> 16;
      next = off + 2;
      break;
    case 0x01: {
      const l = r.uleb(off, end, what);
      v = l.value;
      next = l.next;
      break;
    }
    case 0x09: {
      const l = r.sleb(off, end, what);
      v = l.value;
      next = l.next;
      break;
    }
    default:
      return { value: null, next: -1 }; // unknown size: cannot continue this record
  }
  const app = enc & 0x70;
  if (enc & 0x80) return { value: null, next }; // indirect: would need relocated data
  if (app === 0) return { value: v, next };
  if (app === DW_EH_PE_pcrel) return { value: v + fieldVaddr, next };
  return { value: null, next }; // textrel, datarel, funcrel, aligned: not used on x86-64
}

/** Locates .eh_frame: the section, or via PT_GNU_EH_FRAME's eh_frame_ptr. */
function ehFrameArea(r: Reader, f: ElfFile): { offset: number; size: number; vaddr: number } | null {
  const sec = f.sections.find((s) => s.name === '.eh_frame' && s.type !== SHT_NOBITS);
  if (sec) return { offset: sec.offset, size: sec.size, vaddr: sec.addr };
  if (f.sections.length > 0) return null;
  const hdr = f.programHeaders.find((p) => p.type === PT_GNU_EH_FRAME);
  if (!hdr || hdr.filesz < 8) return null;
  r.check(hdr.offset, hdr.filesz, '.eh_frame_hdr');
  if (r.u8(hdr.offset, '.eh_frame_hdr') !== 1) return null;
  const enc = r.u8(hdr.offset + 1, '.eh_frame_hdr');
  const ptr = readEncoded(r, hdr.offset + 4, hdr.offset + hdr.filesz, enc, hdr.vaddr + 4, '.eh_frame_hdr');
  if (ptr.value === null) return null;
  const off = f.vaddrToOffset(ptr.value);
  if (off === null) return null;
  // it extends at most to the end of its segment; the zero terminator normally ends it first
  const seg = f.programHeaders.find((p) => p.type === PT_LOAD && ptr.value! >= p.vaddr && ptr.value! < p.vaddr + p.filesz)!;
  return { offset: off, size: seg.vaddr + seg.filesz - ptr.value, vaddr: ptr.value };
}

function findFdes(r: Reader, f: ElfFile): FdeExtent[] {
  const area = ehFrameArea(r, f);
  if (!area) return [];
  const { offset: base, size, vaddr: baseVaddr } = area;
  r.check(base, size, '.eh_frame');
  const end = base + size;
  const cies = new Map<number, Cie>();
  const out: FdeExtent[] = [];
  const vaddrOf = (off: number) => baseVaddr + (off - base);

  const parseCie = (start: number): Cie => {
    const cached = cies.get(start);
    if (cached) return cached;
    const cie: Cie = { fdeEncoding: 0, signalFrame: false, ok: false };
    cies.set(start, cie);
    let p = start;
    const len32 = r.u32(p, '.eh_frame CIE');
    p += 4;
    let cend: number;
    if (len32 === 0xffffffff) {
      cend = p + 8 + r.u64(p, '.eh_frame CIE');
      p += 8;
    } else {
      cend = p + len32;
    }
    if (cend > end) throw new ElfError('truncated .eh_frame CIE');
    if (r.u32(p, '.eh_frame CIE') !== 0) return cie; // not a CIE
    p += len32 === 0xffffffff ? 8 : 4;
    const version = r.u8(p++, '.eh_frame CIE');
    if (version !== 1 && version !== 3) return cie;
    const aug = r.cstring(p, cend, '.eh_frame CIE augmentation');
    p += aug.length + 1;
    if (aug.includes('eh')) return cie; // ancient GCC; not supported
    p = r.uleb(p, cend, '.eh_frame CIE').next; // code alignment
    p = r.sleb(p, cend, '.eh_frame CIE').next; // data alignment
    p = version === 1 ? p + 1 : r.uleb(p, cend, '.eh_frame CIE').next; // return address register
    if (aug.length === 0) {
      cie.ok = true;
      return cie;
    }
    if (aug[0] !== 'z') return cie; // cannot find the FDE encoding
    const augLen = r.uleb(p, cend, '.eh_frame CIE');
    p = augLen.next;
    const augEnd = p + augLen.value;
    if (augEnd > cend) throw new ElfError('truncated .eh_frame CIE augmentation');
    for (const c of aug.slice(1)) {
      if (c === 'R') {
        cie.fdeEncoding = r.u8(p++, '.eh_frame CIE');
      } else if (c === 'L') {
        p++;
      } else if (c === 'P') {
        const penc = r.u8(p++, '.eh_frame CIE');
        const pv = readEncoded(r, p, augEnd, penc & 0x7f, vaddrOf(p), '.eh_frame CIE personality');
        if (pv.next < 0) return cie;
        p = pv.next;
      } else if (c === 'S') {
        cie.signalFrame = true;
      } else if (c === 'B' || c === 'G') {
        // no data
      } else {
        break; // unknown: the rest of the data is opaque, but R may already be known
      }
    }
    if (p > augEnd) throw new ElfError('truncated .eh_frame CIE augmentation');
    cie.ok = true;
    return cie;
  };

  let p = base;
  while (p + 4 <= end) {
    const recStart = p;
    const len32 = r.u32(p, '.eh_frame');
    if (len32 === 0) break; // terminator
    let idOff: number;
    let recEnd: number;
    if (len32 === 0xffffffff) {
      const len64 = r.u64(p + 4, '.eh_frame');
      idOff = p + 12;
      recEnd = idOff + len64;
    } else {
      idOff = p + 4;
      recEnd = idOff + len32;
    }
    if (recEnd > end) throw new ElfError('truncated .eh_frame record');
    const id = r.u32(idOff, '.eh_frame');
    if (id !== 0) {
      // FDE: id is the distance back to its CIE
      const ciePos = idOff - id;
      if (ciePos >= base && ciePos < recStart) {
        const cie = parseCie(ciePos);
        if (cie.ok) {
          const q = idOff + 4;
          const begin = readEncoded(r, q, recEnd, cie.fdeEncoding, vaddrOf(q), '.eh_frame FDE');
          if (begin.next >= 0) {
            const range = readEncoded(r, begin.next, recEnd, cie.fdeEncoding & 0x0f, 0, '.eh_frame FDE');
            if (begin.value !== null && range.value !== null && begin.value > 0 && range.value > 0) {
              out.push({ start: begin.value, size: range.value, signalFrame: cie.signalFrame });
            }
          }
        }
      }
    }
    p = recEnd;
  }
  out.sort((a, b) => a.start - b.start || a.size - b.size);
  return out;
}
