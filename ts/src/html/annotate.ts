// What the module files on this machine add to a report for its HTML page: the function
// holding each site (ELF symbols, else an .eh_frame extent) and a few instructions around
// it, from the static scanner (scan.ts), which decodes each executable section as a whole,
// so the instructions before a site are the real ones. A file is believed only if its
// build-id is the one the run recorded.
import { createRequire } from 'node:module';
import type * as Iced from 'iced-x86';
import { parseElf, type ElfFile } from '../elf.js';
import { readRegularFile } from '../readfile.js';
import { modeLine } from '../report.js';
import { SCAN_MAX_FILE, scanBuffer } from '../scan.js';
import { nrName, type StatsSnapshot } from '../stats.js';
import type { Annotations, FileNote, Insn, SiteNote } from './model.js';

/** Instructions shown before and after a site. */
export const CONTEXT_BEFORE = 3;
export const CONTEXT_AFTER = 2;

const hex = (n: number) => `0x${n.toString(16)}`;

export function annotate(s: StatsSnapshot): Annotations {
  const files: FileNote[] = [];
  const fileOf = new Map<string, number>();
  const moduleFile = s.modules.map((m) => {
    if (!m.path || m.origin === 'vdso' || m.origin === 'anonymous') return null;
    const key = `${m.path}\0${m.buildId}`;
    let i = fileOf.get(key);
    if (i === undefined) {
      i = files.length;
      fileOf.set(key, i);
      files.push({ path: m.path, buildId: m.buildId, problem: null, sites: {} });
    }
    return i;
  });
  const wanted = files.map(() => new Set<string>());
  for (const x of s.sites) {
    const i = x.module === null ? null : moduleFile[x.module];
    if (i !== null && i !== undefined) wanted[i]!.add(x.offset);
  }
  files.forEach((f, i) => {
    if (wanted[i]!.size) annotateFile(f, wanted[i]!);
  });

  const names: Annotations['names'] = { x86_64: {}, i386: {} };
  for (const n of s.perNr) names.x86_64[n.nr] = nrName(n.nr);
  for (const n of s.perNrI386 ?? []) names.i386[n.nr] = nrName(n.nr, 'i386');
  for (const x of s.sites) {
    const abi = x.reason === 'int80' ? 'i386' : 'x86_64';
    for (const nr of x.nrs) names[abi][nr] = nrName(nr, abi);
  }
  return { names, modeText: modeLine(s), files, moduleFile };
}

function annotateFile(f: FileNote, offsets: Set<string>): void {
  let elf: ElfFile;
  try {
    elf = parseElf(readRegularFile(f.path, SCAN_MAX_FILE));
  } catch (e) {
    const err = e as { code?: string; problem?: string; message?: string };
    f.problem = err.code === 'ENOENT' ? 'the file is gone' : `cannot read the file (${err.code ?? err.problem ?? err.message})`;
    return;
  }
  if (f.buildId && elf.buildId !== f.buildId) {
    f.problem = `the file now has another build-id (${elf.buildId ?? 'none'}): it changed since the run`;
    return;
  }
  let scanned;
  try {
    scanned = scanBuffer(elf.buf, f.path, { contextBefore: CONTEXT_BEFORE, contextAfter: CONTEXT_AFTER });
  } catch (e) {
    f.problem = `cannot scan the file (${(e as Error).message})`;
    return;
  }
  const byOffset = new Map(scanned.sites.map((x) => [x.offset, x]));
  let decoder: Fallback | undefined;
  try {
    for (const off of offsets) {
      const offset = Number(off);
      const site = byOffset.get(offset);
      const vaddr = elf.offsetToVaddr(offset);
      let note: SiteNote;
      if (site) {
        note = { symbol: site.function, scan: site.class, insns: site.context.map((line) => insnOf(line, site.vaddr)) };
      } else {
        // not a syscall pair the scanner knows (an int $0x80 site): the symbol, and the
        // instructions from the site on
        decoder ??= new Fallback(elf);
        note = { symbol: vaddr === null ? null : symbolAt(elf, vaddr), scan: null, insns: vaddr === null ? [] : decoder.from(offset, vaddr, CONTEXT_AFTER + 1) };
      }
      f.sites[off] = note;
    }
  } finally {
    decoder?.free();
  }
}

function insnOf(line: string, siteVaddr: number): Insn {
  const colon = line.indexOf(': ');
  const addr = line.slice(0, colon);
  return { addr, text: line.slice(colon + 2), site: Number(addr) === siteVaddr };
}

/** The best-named function symbol whose extent holds vaddr, else the nearest one before it
 *  in the same executable region when no symbol has a size there. */
function symbolAt(elf: ElfFile, vaddr: number): string | null {
  let best: { name: string; value: number; size: number; bind: number } | undefined;
  for (const sym of elf.symbols) {
    if (sym.size > 0 ? vaddr >= sym.value && vaddr < sym.value + sym.size : false) {
      if (!best || sym.size < best.size || (sym.size === best.size && sym.bind === 1 && best.bind !== 1)) best = sym;
    }
  }
  return best?.name ?? null;
}

type IcedModule = typeof Iced;
let icedModule: IcedModule | undefined;
const iced = (): IcedModule => (icedModule ??= createRequire(import.meta.url)('iced-x86') as IcedModule);

/** Linear decoding from a file offset, for sites the scanner does not list. */
class Fallback {
  private readonly ic = iced();
  private readonly insn = new this.ic.Instruction();
  private readonly fmt: Iced.Formatter;
  constructor(private readonly elf: ElfFile) {
    this.fmt = new this.ic.Formatter(this.ic.FormatterSyntax.Gas);
    this.fmt.uppercaseHex = false;
    this.fmt.spaceAfterOperandSeparator = true;
    this.fmt.branchLeadingZeros = false;
    this.fmt.smallHexNumbersInDecimal = false;   // as scan.ts: every number in hex
  }
  from(offset: number, vaddr: number, count: number): Insn[] {
    const bytes = this.elf.buf.subarray(offset, Math.min(this.elf.buf.length, offset + 15 * count));
    const d = new this.ic.Decoder(64, bytes, this.ic.DecoderOptions.None);
    const out: Insn[] = [];
    try {
      d.ip = BigInt(vaddr);
      let pos = 0;
      while (out.length < count && pos < bytes.length) {
        d.decodeOut(this.insn);
        const bad = this.insn.code === this.ic.Code.INVALID;
        out.push({ addr: hex(vaddr + pos), text: bad ? '(bad)' : this.fmt.format(this.insn), site: pos === 0 });
        if (bad) break;
        pos += this.insn.length;
      }
    } finally {
      d.free();
    }
    return out;
  }
  free(): void {
    this.insn.free();
    this.fmt.free();
  }
}
