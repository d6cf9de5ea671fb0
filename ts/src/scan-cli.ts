// `trapline scan`: the static scanner on the command line (docs/scan.md).
import { ElfError } from './elf.js';
import { FileReadError } from './readfile.js';
import { parseCommand, UsageError } from './cli-args.js';
import { planCacheDir, planFromScan, updatePlanCache, updatePlanFile, type Plan } from './plan.js';
import { scanFile, type ScanResult, type Site } from './scan.js';

export const SCAN_USAGE = `usage: trapline scan [--json] [--plan FILE|auto] [--all] FILE...

Finds every syscall and sysenter byte pair in the executable sections of ELF files
(x86-64 executables and shared libraries) and classifies each site:
  confirmed  an instruction every decoding agrees on, inside a known function
  redzone    confirmed, but its function keeps data below the stack pointer:
             never rewritten ahead of time
  ambiguous  the bytes may be data or part of another instruction (reason given)

options:
  --json         print the results as a JSON array (a failed file: {file, error})
  --plan FILE    merge the confirmed sites into the plan file FILE
  --plan auto    merge them into the plan cache, one FILE per module:
                 $TRAPLINE_PLAN_CACHE, else $XDG_CACHE_HOME/trapline/plans,
                 else ~/.cache/trapline/plans
  --all          show the disassembly around every site
                 (default: around ambiguous and redzone sites only)
  -h, --help     show this help

Exit status: 0; 1 if a FILE could not be scanned or the plan not written (the other
files are still scanned); 2 for a bad command line; 141 if the output pipe closed
early (as for a program killed by SIGPIPE).
`;

interface Options {
  json: boolean;
  all: boolean;
  plan?: string;
  help: boolean;
  files: string[];
}

/** Options and FILEs may mix; '--' ends the options. */
function parseScanArgs(args: string[]): Options {
  const { values, rest } = parseCommand(args, { json: 'boolean', all: 'boolean', plan: 'string' }, 'operands');
  if (values.plan === '') throw new UsageError('--plan: must be a non-empty path (or auto)');
  return { json: values.json === true, all: values.all === true, help: values.help === true, files: rest, ...(values.plan !== undefined ? { plan: values.plan as string } : {}) };
}

/** One line describing why a file could not be scanned. */
export function describeScanError(e: unknown): string {
  if (e instanceof ElfError) return e.message;
  if (e instanceof FileReadError) return e.problem;
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ERR_FS_FILE_TOO_LARGE': return 'file too large';
    default: return err instanceof Error ? err.message : String(e);
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Text rendering of one result: a header line, then a table of its sites. */
export function renderScan(r: ScanResult, all = false): string {
  const c = r.counts;
  const total = r.sites.length;
  let out = `${r.file}: build-id ${r.buildId ?? '(none)'}, ${r.type}, ${total} site${total === 1 ? '' : 's'}: `
    + `${c.confirmed} confirmed, ${c.ambiguous} ambiguous, ${c.redzone} redzone (${r.ms} ms)\n`;
  if (total === 0) return out;
  const cols = (s: Site) => [hex(s.offset), hex(s.vaddr), s.insn, s.class, s.function ?? '-'];
  const head = ['OFFSET', 'VADDR', 'INSN', 'CLASS', 'FUNCTION'];
  const widths = head.map((h) => h.length);   // a loop, not a spread: any number of sites
  for (const s of r.sites) cols(s).forEach((c, i) => { if (c.length > widths[i]!) widths[i] = c.length; });
  const row = (cells: string[], reason: string) =>
    `  ${cells.map((x, i) => (i === cells.length - 1 && !reason ? x : pad(x, widths[i]!))).join('  ')}${reason ? `  ${reason}` : ''}`.trimEnd() + '\n';
  out += row(head, 'REASON');
  for (const s of r.sites) {
    out += row(cols(s), s.reason ?? '');
    if (all || s.class !== 'confirmed') for (const line of s.context) out += `      | ${line}\n`;
  }
  return out;
}

function countSites(plan: Plan): number {
  let n = 0;
  for (const m of plan.modules.values()) n += m.sites.size;
  return n;
}

export function scanCommand(args: string[]): number {
  let o: Options;
  try {
    o = parseScanArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`trapline: scan: ${e.message} (see trapline scan --help)\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(SCAN_USAGE);
    return 0;
  }
  if (o.files.length === 0) {
    process.stderr.write('trapline: scan: no FILE given (see trapline scan --help)\n');
    return 2;
  }
  // `trapline scan ... | head`: cli.ts stops quietly when the reader goes away (EPIPE)

  let status = 0;
  const results: ScanResult[] = [];
  const json: (ScanResult | { file: string; error: string })[] = [];
  let first = true;
  for (const file of o.files) {
    let r: ScanResult;
    try {
      r = scanFile(file);
    } catch (e) {
      const problem = describeScanError(e);
      process.stderr.write(`trapline: scan ${file}: ${problem}\n`);
      json.push({ file, error: problem });
      status = 1;
      continue;
    }
    results.push(r);
    json.push(r);
    if (!o.json) {
      process.stdout.write(`${first ? '' : '\n'}${renderScan(r, o.all)}`);
      first = false;
    }
  }
  if (o.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');

  if (o.plan !== undefined && results.length > 0) {
    for (const r of results) {
      if (!r.buildId) process.stderr.write(`trapline: scan ${r.file}: no build-id, not added to the plan\n`);
    }
    const plan = planFromScan(results);
    for (const r of results) {
      if (r.buildId && !plan.modules.has(r.buildId)) {
        process.stderr.write(`trapline: scan ${r.file}: build-id longer than 40 hex digits, not added to the plan\n`);
      }
    }
    const what = `${countSites(plan)} confirmed site${countSites(plan) === 1 ? '' : 's'} of ${plan.modules.size} module${plan.modules.size === 1 ? '' : 's'}`;
    try {
      if (o.plan === 'auto') {
        const dir = planCacheDir();
        updatePlanCache(plan, dir);
        process.stderr.write(`trapline: scan: merged ${what} into the plan cache ${dir}\n`);
      } else {
        updatePlanFile(o.plan, plan);
        process.stderr.write(`trapline: scan: merged ${what} into ${o.plan}\n`);
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`trapline: scan: plan not written: ${msg}\n`);
      status = 1;
    }
  }
  return status;
}
