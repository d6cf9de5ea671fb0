// Plan files: per module (GNU build-id), the file offsets of system-call sites that are
// safe to rewrite before they first run. The C core reads the same text format; the
// grammar is in docs/scan.md and must not drift from it.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ScanResult } from './scan.js';
import { LAYOUT } from './layout.js';
import { FileReadError, readRegularFile } from './readfile.js';
import { PlanError } from './errors.js';

/** learned-unverified: a learned site that failed verification (docs/security.md); kept
 *  for the record, never rewritten ahead of time under any policy. */
export type PlanSource = 'confirmed' | 'learned' | 'learned-unverified';
const SOURCES: ReadonlySet<string> = new Set(['confirmed', 'learned', 'learned-unverified']);
export interface PlanModule {
  buildId: string;
  path: string;
  sites: Map<number, PlanSource>;
}
export interface Plan {
  /** Keyed by build-id. */
  modules: Map<string, PlanModule>;
}

export { PlanError };

export const PLAN_HEADER = 'trapline-plan 1';
/** Limits shared with the C core (lazy/plan_parse.h, through the generated ts/src/layout.ts). */
export const PLAN_MAX_MODULES = LAYOUT.plan.max_modules;
export const PLAN_MAX_SITES = LAYOUT.plan.max_sites;
/** Longest line in bytes, not counting its newline. */
export const PLAN_MAX_LINE = LAYOUT.plan.max_line;
/** Largest plan file read (the C core's limit too). */
export const PLAN_MAX_FILE = LAYOUT.plan.max_file;

/** 1 to 20 bytes: 2 to 40 lowercase hex digits, an even count. */
const BUILD_ID = /^(?:[0-9a-f]{2}){1,20}$/;
const OFFSET = new RegExp(`^[0-9a-f]{1,${LAYOUT.plan.max_offset_digits}}$`); // < 2^52: exact as a JS number

/** Whether a build-id can name a plan module (2 to 40 lowercase hex digits, even count). */
export function isPlanBuildId(id: string): boolean {
  return BUILD_ID.test(id);
}

export function emptyPlan(): Plan {
  return { modules: new Map() };
}

/**
 * Parses a plan; name is used in error messages. Throws PlanError. The grammar is the C
 * core's (lazy/plan_parse.c), byte for byte: both pass test/plan-vectors.txt. A string is
 * taken as its UTF-8 bytes; lengths are counted in bytes, path hints decoded as UTF-8.
 */
export function parsePlan(input: string | Buffer, name: string): Plan {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const plan = emptyPlan();
  let header = false;
  let current: PlanModule | undefined;
  let lineNo = 0;
  let pos = 0;
  const isBlank = (c: number) => c === 0x20 || c === 0x09;
  while (pos < buf.length) {
    let s = pos;
    let e = buf.indexOf(0x0a, pos);
    if (e < 0) e = buf.length;
    pos = e + 1;
    lineNo++;
    const fail = (problem: string): never => {
      throw new PlanError(`${name}:${lineNo}: ${problem}`);
    };
    if (e - s > PLAN_MAX_LINE) fail(`line longer than ${PLAN_MAX_LINE} bytes`);
    // leading and trailing blanks (space, tab) and CRs are ignored
    while (s < e && (isBlank(buf[s]!) || buf[s] === 0x0d)) s++;
    while (e > s && (isBlank(buf[e - 1]!) || buf[e - 1] === 0x0d)) e--;
    if (s === e || buf[s] === 0x23 /* # */) continue;
    const line = buf.toString('latin1', s, e);   // one char per byte: the grammar is ASCII
    if (!header) {
      if (line !== PLAN_HEADER) {
        const m = /^trapline-plan[ \t]+(\S+)$/.exec(line);
        fail(m && m[1] !== '1' ? `unsupported plan version '${m[1]}'` : `expected '${PLAN_HEADER}'`);
      }
      header = true;
      continue;
    }
    const words = line.split(/[ \t]+/);
    if (words[0] === 'module') {
      const id = words[1];
      if (id === undefined) fail('module: missing build-id');
      if (!BUILD_ID.test(id!)) fail(`module: bad build-id '${id}' (2 to 40 lowercase hex digits, an even count)`);
      if (plan.modules.has(id!)) fail(`module ${id}: listed twice`);
      if (plan.modules.size >= PLAN_MAX_MODULES) fail(`more than ${PLAN_MAX_MODULES} modules`);
      // the path hint is the rest of the line after the build-id and its blanks (UTF-8)
      const at = /^module[ \t]+[0-9a-f]+[ \t]*/.exec(line)![0].length;
      const path = buf.toString('utf8', s + at, e);
      current = { buildId: id!, path, sites: new Map() };
      plan.modules.set(id!, current);
      continue;
    }
    if (!current) fail(`site before any 'module' line: '${line}'`);
    if (words.length !== 2) fail(`expected '<offset> confirmed|learned' or 'module <build-id> <path>', got '${line}'`);
    const [off, source] = words as [string, string];
    if (!OFFSET.test(off)) fail(`bad offset '${off}' (lowercase hex without 0x, at most 13 digits)`);
    if (!SOURCES.has(source)) fail(`unknown source '${source}' (confirmed, learned or learned-unverified)`);
    const offset = parseInt(off, 16);
    if (current!.sites.has(offset)) fail(`module ${current!.buildId}: offset ${off} listed twice`);
    if (current!.sites.size >= PLAN_MAX_SITES) fail(`module ${current!.buildId}: more than ${PLAN_MAX_SITES} sites`);
    current!.sites.set(offset, source as PlanSource);
  }
  if (!header) throw new PlanError(`${name}:${lineNo + 1}: missing '${PLAN_HEADER}' header`);
  return plan;
}

/** Truncates s to at most max UTF-8 bytes without splitting a character. */
function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/**
 * Renders a plan: header, modules sorted by build-id, sites ascending. Path hints are
 * cleaned (control characters become '?', surrounding blanks dropped) and shortened to fit
 * the line limit. Throws PlanError if the plan breaks a limit or has a bad build-id.
 */
export function formatPlan(plan: Plan): string {
  if (plan.modules.size > PLAN_MAX_MODULES) throw new PlanError(`plan: ${plan.modules.size} modules (limit ${PLAN_MAX_MODULES})`);
  const out: string[] = [PLAN_HEADER, '# module <build-id> <path>, then one line per site: <file offset, hex> confirmed|learned|learned-unverified'];
  const ids = [...plan.modules.keys()].sort();
  for (const id of ids) {
    const m = plan.modules.get(id)!;
    if (!BUILD_ID.test(m.buildId) || m.buildId !== id) throw new PlanError(`plan: bad build-id '${m.buildId}'`);
    if (m.sites.size > PLAN_MAX_SITES) throw new PlanError(`plan: module ${id} has ${m.sites.size} sites (limit ${PLAN_MAX_SITES})`);
    const prefix = `module ${id}`;
    // eslint-disable-next-line no-control-regex
    const path = truncateUtf8(m.path.replace(/[\x00-\x1f\x7f]/g, '?').replace(/^[ \t]+|[ \t]+$/g, ''), PLAN_MAX_LINE - prefix.length - 1);
    out.push(path ? `${prefix} ${path}` : prefix);
    const offsets = [...m.sites.keys()].sort((a, b) => a - b);
    for (const off of offsets) {
      if (!Number.isSafeInteger(off) || off < 0 || off >= 2 ** 52) throw new PlanError(`plan: module ${id}: bad offset ${off}`);
      out.push(`${off.toString(16)} ${m.sites.get(off)}`);
    }
  }
  return out.join('\n') + '\n';
}

/**
 * Merges add into into (modified and returned). A site keeps 'confirmed' if either side
 * has it; a module takes add's path hint (the newer) unless that is empty.
 */
export function mergePlan(into: Plan, add: Plan): Plan {
  for (const [id, m] of add.modules) {
    let cur = into.modules.get(id);
    if (!cur) {
      cur = { buildId: id, path: m.path, sites: new Map() };
      into.modules.set(id, cur);
    } else if (m.path) {
      cur.path = m.path;
    }
    for (const [off, source] of m.sites) {
      if (cur.sites.get(off) !== 'confirmed') cur.sites.set(off, source);
    }
  }
  return into;
}

/** The errno name of a file system error (FileReadError's fsCode, or a Node error's code). */
function fsCode(e: unknown): string | undefined {
  return e instanceof FileReadError ? e.fsCode : (e as NodeJS.ErrnoException).code;
}

function describeFsError(e: unknown): string {
  if (e instanceof FileReadError) return e.problem;
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    default: return err.message ?? String(e);
  }
}

/** Reads and parses a plan file. A missing, unreadable or malformed file: PlanError. */
export function readPlanFile(file: string): Plan {
  let text: Buffer;
  try {
    text = readRegularFile(file, PLAN_MAX_FILE);
  } catch (e) {
    throw new PlanError(`${file}: ${describeFsError(e)}`, fsCode(e));
  }
  return parsePlan(text, file);
}

/**
 * Writes a plan so that readers only ever see the old or the new complete file: writes
 * <file>.tmp.<pid>.<random> in the same directory, fsyncs it, renames it over file and
 * fsyncs the directory.
 */
export function writePlanAtomic(file: string, plan: Plan): void {
  const text = formatPlan(plan);
  const tmp = `${file}.tmp.${process.pid}.${randomBytes(6).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const data = Buffer.from(text);
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    if (e instanceof PlanError) throw e;
    throw new PlanError(`${file}: cannot write: ${describeFsError(e)}`, fsCode(e));
  }
  try {
    const dfd = openSync(dirname(resolve(file)), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch {
    // some file systems refuse fsync on a directory; the rename is done either way
  }
}

/**
 * Read-merge-write: merges add into file (an empty plan if it does not exist) and writes
 * the result atomically. Concurrent updaters never leave a torn file, but one's additions
 * can be lost if another read the file before it was renamed (last writer wins).
 */
export function updatePlanFile(file: string, add: Plan): Plan {
  let base: Plan;
  let text: Buffer | undefined;
  try {
    text = readRegularFile(file, PLAN_MAX_FILE);
  } catch (e) {
    if (fsCode(e) !== 'ENOENT') throw new PlanError(`${file}: ${describeFsError(e)}`, fsCode(e));
  }
  base = text === undefined ? emptyPlan() : parsePlan(text, file);
  base = mergePlan(base, add);
  writePlanAtomic(file, base);
  return base;
}

/** $TRAPLINE_PLAN_CACHE, else $XDG_CACHE_HOME/trapline/plans, else ~/.cache/trapline/plans. */
export function planCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAPLINE_PLAN_CACHE) return env.TRAPLINE_PLAN_CACHE;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'trapline', 'plans');
  return join(env.HOME || homedir(), '.cache', 'trapline', 'plans');
}

/** Where scan results used to verify plan sites are cached, by build-id: <plan cache>/scan. */
export function scanCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(planCacheDir(env), 'scan');
}

/** The cache file for one module: <dir>/<build-id>.plan. */
export function planCacheFile(buildId: string, dir: string = planCacheDir()): string {
  if (!BUILD_ID.test(buildId)) throw new PlanError(`plan: bad build-id '${buildId}'`);
  return join(dir, `${buildId}.plan`);
}

/** Merges each module of add into its own cache file <dir>/<build-id>.plan (mkdir -p). */
export function updatePlanCache(add: Plan, dir: string = planCacheDir()): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new PlanError(`${dir}: cannot create: ${describeFsError(e)}`, fsCode(e));
  }
  for (const [id, m] of add.modules) {
    updatePlanFile(planCacheFile(id, dir), { modules: new Map([[id, m]]) });
  }
}

/**
 * A plan of the confirmed `syscall` sites of scan results: never redzone or ambiguous ones,
 * and never sysenter (from 64-bit code it enters the kernel's 32-bit compatibility path;
 * the interposer rewrites only syscall). Files without a build-id (or with one longer than
 * 40 hex digits) are skipped; a file with no such site still gets its module line.
 */
export function planFromScan(results: ScanResult[]): Plan {
  const plan = emptyPlan();
  for (const r of results) {
    if (!r.buildId || !isPlanBuildId(r.buildId)) continue;
    const sites = new Map<number, PlanSource>();
    for (const s of r.sites) if (s.class === 'confirmed' && s.insn === 'syscall') sites.set(s.offset, 'confirmed');
    mergePlan(plan, { modules: new Map([[r.buildId, { buildId: r.buildId, path: resolve(r.file), sites }]]) });
  }
  return plan;
}
