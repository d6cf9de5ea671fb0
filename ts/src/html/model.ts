// The data an HTML report page carries: the reports themselves, exactly as `--json` prints
// them, and what only the machine that made the page can add (symbol names and
// disassembly from the module files, syscall names, the mode line). The page computes
// every figure it shows from these (view.ts), in the browser. No Node imports: this file
// and view.ts are bundled into the page too.
import type { StatsSnapshot } from '../stats.js';

/** One disassembled instruction: address, text, and whether it is the site itself. */
export interface Insn {
  addr: string;
  text: string;
  site: boolean;
}

/** What the module file says about one site (by file offset). */
export interface SiteNote {
  /** The function holding it: an ELF symbol, `fde@0x...` from .eh_frame, or null. */
  symbol: string | null;
  /** The static scanner's class (docs/scan.md), or null where the scan did not find the
   *  site (an `int $0x80` site, or bytes that changed). */
  scan: 'confirmed' | 'ambiguous' | 'redzone' | null;
  /** A few instructions around the site. */
  insns: Insn[];
}

/** One module file, read once for all the sites of every process that mapped it. */
export interface FileNote {
  path: string;
  buildId: string;
  /** Why nothing could be read from it (no file, a different build-id, not ELF), or null. */
  problem: string | null;
  /** Notes by site offset (the report's hex string). */
  sites: Record<string, SiteNote>;
}

export interface Annotations {
  /** Syscall names of every number the report holds. */
  names: { x86_64: Record<string, string>; i386: Record<string, string> };
  /** The run's mode, in words (report.ts modeLine). */
  modeText: string;
  files: FileNote[];
  /** For each module index: its entry in files, or null (anonymous memory, vDSO). */
  moduleFile: (number | null)[];
}

export interface PageReport {
  /** What the page calls it: the file name, or the program run. */
  label: string;
  report: StatsSnapshot;
  annotations: Annotations;
}

export interface PageData {
  /** "trapline 0.1.0" */
  generator: string;
  /** When the page was made, ms since the epoch. */
  generatedMs: number;
  /** One report, or two: then the page compares the first (before) with the second (after). */
  reports: PageReport[];
}
