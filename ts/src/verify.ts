// Checking plan sites against the module files themselves (docs/security.md): a site the
// statistics segment says was learned, or a site a plan file says the scanner confirmed,
// is only believed after the file on disk at the module's path is shown to have that
// build-id, to hold 0f 05 at the offset, and to be classified acceptably by a fresh scan.
// Scan results are cached by build-id (in memory, and as <dir>/<build-id>.json).
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseElf } from './elf.js';
import { scanBuffer } from './scan.js';
import type { Plan, PlanSource } from './plan.js';

/** What a scan says about a module's syscall sites, by file offset. */
export interface ScanVerdicts {
  buildId: string;
  /** Confirmed `syscall` instructions: what --rewrite verified may rewrite. */
  confirmed: Set<number>;
  /**
   * Sites a learned record may name: a `syscall` the scanner proves is an instruction
   * outside red-zone code. An ambiguous site stays unverified even if the record says it
   * ran: that record is exactly what is not trusted (it may be data in .text).
   */
  learnable: Set<number>;
}

/** Largest module file read for verification. */
export const VERIFY_FILE_MAX = 1 << 30;
const memo = new Map<string, ScanVerdicts>();
/** The cache format and the scanner's classification rules: a cached verdict from an
 *  older scanner is not believed (bump whenever scan.ts classifies differently). */
const VERDICT_VERSION = 2;

/** Reads path if it is a regular file of at most VERIFY_FILE_MAX bytes (never blocks on a FIFO). */
function readModule(path: string): Buffer | string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return `cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    if (st.size > VERIFY_FILE_MAX) return 'larger than 1 GiB';
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n <= 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function fromScan(buf: Buffer, name: string, buildId: string): ScanVerdicts {
  const r = scanBuffer(buf, name, { contextBefore: 0, contextAfter: 0 });
  const confirmed = new Set<number>();
  const learnable = new Set<number>();
  for (const s of r.sites) {
    if (s.insn !== 'syscall') continue;
    if (s.class === 'confirmed') {
      confirmed.add(s.offset);
      learnable.add(s.offset);
    }
  }
  return { buildId, confirmed, learnable };
}

function loadCached(dir: string, buildId: string): ScanVerdicts | undefined {
  try {
    const j = JSON.parse(readFileSync(join(dir, `${buildId}.json`), 'utf8')) as { version?: unknown; buildId?: unknown; confirmed?: unknown; learnable?: unknown };
    const ints = (a: unknown): a is number[] => Array.isArray(a) && a.length <= 1 << 20 && a.every((x) => Number.isSafeInteger(x) && x >= 0);
    if (j.version !== VERDICT_VERSION || j.buildId !== buildId || !ints(j.confirmed) || !ints(j.learnable)) return undefined;
    return { buildId, confirmed: new Set(j.confirmed), learnable: new Set(j.learnable) };
  } catch {
    return undefined;
  }
}

function storeCached(dir: string, v: ScanVerdicts): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${v.buildId}.json`);
    const tmp = `${file}.tmp.${process.pid}.${randomBytes(6).toString('hex')}`;
    writeFileSync(tmp, JSON.stringify({ version: VERDICT_VERSION, buildId: v.buildId, confirmed: [...v.confirmed], learnable: [...v.learnable] }), { flag: 'wx', mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // the cache only saves time
  }
}

/** A module file checked against a build-id: its bytes and the scan's verdicts. */
export interface VerifiedModule {
  buf: Buffer;
  verdicts: ScanVerdicts;
}

/**
 * The module file at path, if it is a regular ELF file whose GNU build-id is buildId; the
 * scan of it from cacheDir or memory, else a fresh one (then cached). A string says why not.
 */
export function verifyModuleFile(path: string, buildId: string, cacheDir?: string): VerifiedModule | string {
  if (!path.startsWith('/')) return 'no absolute path';
  const buf = readModule(path);
  if (typeof buf === 'string') return `${path}: ${buf}`;
  let id: string | null;
  try {
    id = parseElf(buf).buildId;
  } catch (e) {
    return `${path}: not a valid ELF file (${(e as Error).message})`;
  }
  if (id !== buildId) return `${path}: has build-id ${id ?? 'none'}, not ${buildId}`;
  let v = memo.get(buildId) ?? (cacheDir !== undefined ? loadCached(cacheDir, buildId) : undefined);
  if (!v) {
    try {
      v = fromScan(buf, path, buildId);
    } catch (e) {
      return `${path}: cannot be scanned (${(e as Error).message})`;
    }
    if (cacheDir !== undefined) storeCached(cacheDir, v);
  }
  memo.set(buildId, v);
  return { buf, verdicts: v };
}

/** 0f 05 at file offset off of m. */
export function syscallBytesAt(m: VerifiedModule, off: number): boolean {
  return Number.isSafeInteger(off) && off >= 0 && off + 1 < m.buf.length && m.buf[off] === 0x0f && m.buf[off + 1] === 0x05;
}

/** A learned site passes: bytes 0f 05, and not inside another instruction or red-zone code. */
export function learnedSiteOk(m: VerifiedModule, off: number): boolean {
  return syscallBytesAt(m, off) && m.verdicts.learnable.has(off);
}

/** A site a plan calls confirmed passes --rewrite verified: a fresh scan confirms it too. */
export function confirmedSiteOk(m: VerifiedModule, off: number): boolean {
  return syscallBytesAt(m, off) && m.verdicts.confirmed.has(off);
}

/** Forgets the in-memory scan results (tests). */
export function clearVerifyMemo(): void {
  memo.clear();
}

/**
 * The plan --rewrite verified runs with: every site the plan calls 'confirmed' stays so
 * only if the file at its module's path has the module's build-id and a fresh scan of it
 * (cached by build-id) confirms the site; any other is downgraded to 'learned-unverified'.
 * Learned sites are kept as they are (the policy refuses them anyway).
 */
export function verifiedPlan(plan: Plan, scanCache?: string): Plan {
  const out: Plan = { modules: new Map() };
  for (const [id, m] of plan.modules) {
    const f = verifyModuleFile(m.path, id, scanCache);
    const sites = new Map<number, PlanSource>();
    for (const [off, src] of m.sites) {
      if (src !== 'confirmed') sites.set(off, src);
      else sites.set(off, typeof f !== 'string' && confirmedSiteOk(f, off) ? 'confirmed' : 'learned-unverified');
    }
    out.modules.set(id, { buildId: id, path: m.path, sites });
  }
  return out;
}
