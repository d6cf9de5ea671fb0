import { LAYOUT } from './layout.js';
import { FileReadError, readRegularFile, sizeText } from './readfile.js';
import { REWRITE_POLICIES, RUN_MODES } from './types.js';
import { decodeStats, nrName, STATS_FILE_MAX, StatsError, type StatsSnapshot } from './stats.js';

/** Loads a saved report: a JSON report (trapline run --report) or a raw statistics
 * segment. Throws StatsError with one line naming the file and the problem. */
export function loadReport(path: string): StatsSnapshot {
  let head: Buffer;
  try {
    head = readRegularFile(path, STATS_FILE_MAX);
  } catch (e) {
    const err = e as FileReadError;
    const why = err.fsCode === 'EFBIG' ? `larger than ${sizeText(STATS_FILE_MAX)}` : err.fsCode === 'ENOTREG' ? err.problem : `cannot read (${err.fsCode ?? err.problem})`;
    throw new StatsError(`trapline: report ${path}: ${why}`, err.fsCode);
  }
  if (head.subarray(0, 8).toString('latin1') === 'TRAPLINE') return decodeStats(head, path);
  let data: unknown;
  try {
    data = JSON.parse(head.toString('utf8'));
  } catch {
    throw new StatsError(`trapline: report ${path}: neither a JSON report nor a statistics segment (not valid JSON)`);
  }
  const ni = data as { interposed?: unknown; program?: unknown };
  if (ni && typeof ni === 'object' && ni.interposed === false) {
    throw new StatsError(`trapline: report ${path}: ${String(ni.program)} was not interposed (the loader ignored LD_PRELOAD); there is no coverage`);
  }
  const problem = checkReport(data);
  if (problem) throw new StatsError(`trapline: report ${path}: not a trapline report (${problem})`);
  return data as StatsSnapshot;
}

const ORIGINS = new Set(['main', 'startup', 'dlopen', 'anonymous', 'vdso']);
const STATES = new Set(['rewritten', 'trapping', 'stale', 'skipped']);
const SOURCES = new Set(['learned', 'plan-confirmed', 'plan-learned', 'plan-unverified']);
const POLICIES: ReadonlySet<string> = new Set(REWRITE_POLICIES);
const MODES: ReadonlySet<string> = new Set(RUN_MODES);
const HEX = /^0x[0-9a-f]{1,16}$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A count: an integer in 0..2^80 (u64 counters and their sums; above 2^53 they lose
 *  precision); the bound keeps every sum the summary makes finite. */
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 80;
const isU32 = (v: unknown): boolean => isCount(v) && v <= 0xffffffff;

/**
 * What is wrong with a parsed JSON report (the first problem, naming the field), or
 * undefined if it has every field renderSummary and the API types promise, with the right
 * types. Fields added after the first version-3 reports (plan and policy counters, a
 * site's source) may be missing.
 */
export function checkReport(d: unknown): string | undefined {
  if (!isObj(d)) return 'not a JSON object';
  for (const k of ['perNr', 'sites', 'modules', 'processList']) if (!Array.isArray(d[k])) return `${k} is not an array`;
  if (!isCount(d.version)) return 'version is not a count';
  if (!MODES.has(d.mode as string)) return 'mode is not lazy or sud-only';
  for (const k of ['zeroMapped', 'xonly', 'hookLoaded']) if (typeof d[k] !== 'boolean') return `${k} is not a boolean`;
  if (d.hookSkipped !== undefined && typeof d.hookSkipped !== 'boolean') return 'hookSkipped is not a boolean';
  if (d.capSudOnly !== undefined && typeof d.capSudOnly !== 'boolean') return 'capSudOnly is not a boolean';
  if (d.entry !== undefined && d.entry !== 'constructor' && d.entry !== 'first-instruction') return 'entry is not constructor or first-instruction';
  if (d.planUsed !== undefined && typeof d.planUsed !== 'boolean') return 'planUsed is not a boolean';
  if (d.policy !== undefined && !POLICIES.has(d.policy as string)) return 'policy is not all, verified or none';
  for (const k of ['planRewritten', 'planSkipped', 'policyRefused', 'callerFallback']) if (d[k] !== undefined && !isCount(d[k])) return `${k} is not a count`;
  for (const k of ['startNs', 'startMs', 'otherTrap', 'otherFast', 'sitesRewritten', 'sitesTrapping', 'sitesStale', 'processes']) {
    if (!isCount(d[k])) return `${k} is not a count`;
  }
  if (!isObj(d.total) || !isCount(d.total.trap) || !isCount(d.total.fast)) return 'total is not {trap, fast}';
  if (d.nullReads !== undefined && typeof d.nullReads !== 'boolean') return 'nullReads is not a boolean';
  if (d.otherI386 !== undefined && !isCount(d.otherI386)) return 'otherI386 is not a count';
  if (d.perNrI386 !== undefined) {
    if (!Array.isArray(d.perNrI386)) return 'perNrI386 is not an array';
    for (let i = 0; i < d.perNrI386.length; i++) {
      const n: unknown = d.perNrI386[i];
      if (!isObj(n) || !isU32(n.nr) || !isCount(n.trap) || !isCount(n.fast) || !isCount(n.errors)) return `perNrI386[${i}] is not {nr, trap, fast, errors}`;
    }
  }
  if (d.dropped !== undefined) {
    const x = d.dropped;
    if (!isObj(x) || !isCount(x.processes) || !isCount(x.sites) || typeof x.modulesFull !== 'boolean' || typeof x.planUnrecorded !== 'boolean') {
      return 'dropped is not {processes, sites, modulesFull, planUnrecorded}';
    }
  }
  const perNr = d.perNr as unknown[];
  for (let i = 0; i < perNr.length; i++) {
    const n = perNr[i];
    if (!isObj(n) || !isU32(n.nr) || !isCount(n.trap) || !isCount(n.fast) || !isCount(n.errors)) return `perNr[${i}] is not {nr, trap, fast, errors}`;
  }
  const modules = d.modules as unknown[];
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i];
    if (!isObj(m) || m.index !== i || !isU32(m.pid) || typeof m.path !== 'string' || !ORIGINS.has(m.origin as string)
      || typeof m.base !== 'string' || !HEX.test(m.base) || typeof m.buildId !== 'string' || !/^(?:[0-9a-f]{2}){0,20}$/.test(m.buildId)) {
      return `modules[${i}] is not {index, pid, path, origin, base, buildId}`;
    }
  }
  const sites = d.sites as unknown[];
  for (let i = 0; i < sites.length; i++) {
    const x = sites[i];
    if (!isObj(x) || typeof x.addr !== 'string' || !HEX.test(x.addr) || typeof x.offset !== 'string' || !HEX.test(x.offset)
      || !isU32(x.pid) || !(x.module === null || (isCount(x.module) && x.module < modules.length))
      || !isCount(x.trapHits) || !isCount(x.fastHits) || !isCount(x.nrsOther)
      || !Array.isArray(x.nrs) || !x.nrs.every((v) => isCount(v) && v < LAYOUT.const.nr_max)
      || !STATES.has(x.state as string) || typeof x.reason !== 'string' || (x.source !== undefined && !SOURCES.has(x.source as string))) {
      return `sites[${i}] is not a site record`;
    }
  }
  const procs = d.processList as unknown[];
  for (let i = 0; i < procs.length; i++) {
    const p = procs[i];
    if (!isObj(p) || !isU32(p.pid) || !isU32(p.ppid) || !(p.exitCode === null || (isCount(p.exitCode) && p.exitCode < LAYOUT.const.status_signaled))
      || !(p.signal === null || isCount(p.signal)) || !MODES.has(p.mode as string) || typeof p.exe !== 'string' || !isCount(p.startMs)) {
      return `processList[${i}] is not a process record`;
    }
  }
  return undefined;
}

function table(rows: string[][], right: boolean[]): string {
  // column widths by a loop: spreading every row into Math.max overflows the stack
  const w = rows[0]!.map(() => 0);
  for (const r of rows) r.forEach((c, i) => { if (c.length > w[i]!) w[i] = c.length; });
  return rows.map((r) => r.map((c, i) => (right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The run's mode and what it keeps of the program's view of page 0. */
export function modeLine(s: StatsSnapshot): string {
  if (s.mode !== 'lazy') return 'sud-only (every call trapped; page 0 unmapped)';
  if (s.nullReads) return 'lazy, NULL reads allowed (--allow-null-reads: page 0 readable, NULL data reads did not fault)';
  return s.xonly ? 'lazy (page 0 execute-only: NULL reads fault)' : 'lazy';
}

/** Text tables like `strace -c`, plus coverage: per syscall, per module, and the totals. */
export function renderSummary(s: StatsSnapshot): string {
  let out = '';
  // int $0x80 calls (i386 table; reports older than version 4 have none) are rows of their
  // own, named "i386:NAME"
  const i386 = (s.perNrI386 ?? []).map((n) => ({ ...n, abi: 'i386' as const }));
  const calls = [...s.perNr.map((n) => ({ ...n, abi: 'x86_64' as const })), ...i386]
    .map((n) => ({ ...n, calls: n.trap + n.fast })).sort((a, b) => b.calls - a.calls || a.nr - b.nr || a.abi.localeCompare(b.abi));
  const otherI386 = s.otherI386 ?? 0;
  const total = calls.reduce((a, n) => a + n.calls, 0) + s.otherTrap + s.otherFast + otherI386;
  const rows = [['% calls', 'calls', 'errors', 'via trap', 'via fast', 'syscall']];
  for (const n of calls) {
    const name = n.abi === 'i386' ? `i386:${nrName(n.nr, 'i386')}` : nrName(n.nr);
    rows.push([(total ? (100 * n.calls) / total : 0).toFixed(2), String(n.calls), String(n.errors), String(n.trap), String(n.fast), name]);
  }
  if (s.otherTrap + s.otherFast) rows.push(['', String(s.otherTrap + s.otherFast), '', String(s.otherTrap), String(s.otherFast), '(other numbers)']);
  if (otherI386) rows.push(['', String(otherI386), '', String(otherI386), '0', '(other i386 numbers)']);
  rows.push(['100.00', String(total), String(calls.reduce((a, n) => a + n.errors, 0)), String(s.total.trap), String(s.total.fast), 'total']);
  out += table(rows, [true, true, true, true, true, false]);

  out += '\n';
  // per module (the same file in several processes is one row); "plan": records that came
  // from a plan (rewritten ahead of time or skipped), the others were learned by a trap
  const mrows = [['sites', 'plan', 'rewritten', 'trapping', 'skipped', 'stale', 'procs', 'origin', 'module']];
  type Row = { n: number; plan: number; rw: number; tr: number; sk: number; st: number; pids: Set<number>; origin: string; name: string };
  const byMod = new Map<string, Row>();
  for (const x of s.sites) {
    const mod = x.module === null ? undefined : s.modules[x.module];
    const name = mod ? mod.path || '[anonymous memory]' : '(unknown)';
    const key = `${mod?.origin ?? '?'}\0${name}`;
    const m = byMod.get(key) ?? { n: 0, plan: 0, rw: 0, tr: 0, sk: 0, st: 0, pids: new Set<number>(), origin: mod?.origin ?? '?', name };
    m.n++;
    m.pids.add(x.pid);
    if (x.source !== undefined && x.source !== 'learned') m.plan++;
    if (x.state === 'rewritten') m.rw++;
    else if (x.state === 'trapping') m.tr++;
    else if (x.state === 'skipped') m.sk++;
    else m.st++;
    byMod.set(key, m);
  }
  for (const m of [...byMod.values()].sort((a, b) => b.n - a.n)) {
    mrows.push([String(m.n), String(m.plan), String(m.rw), String(m.tr), String(m.sk), String(m.st), String(m.pids.size), m.origin, m.name]);
  }
  out += table(mrows, [true, true, true, true, true, true, true, false, false]);

  const fastShare = total ? (100 * s.total.fast) / total : 0;
  out += `\nmode: ${modeLine(s)}`;
  out += s.entry === 'first-instruction'
    ? '\nentered: at the first instruction of every process (every system call seen)'
    : '\nentered: from the preloaded library\'s constructor in some process (calls before it unseen)';
  if (s.hookSkipped) out += '\nhook: not loaded into a program of this run without glibc\'s dynamic loader (static, musl)';
  if (s.capSudOnly) out += '\nmode: programs exec\'d in this run ran sud-only (page 0 needs the launcher\'s capability, which they do not get)';
  const limits = Object.entries(s.limits ?? {}).filter(([, v]) => v === true).map(([k]) => k);
  if (limits.length) out += `\nlimits reached: ${limits.join(', ')} (docs/stats.md)`;
  out += `\n${total} calls interposed in ${s.processes} process(es), ${fastShare.toFixed(1)}% via the rewritten fast path; `;
  out += `${s.sites.length} sites: ${s.sitesRewritten} rewritten, ${s.sitesTrapping} trapping, ${s.sitesStale} stale\n`;
  const reasons = new Map<string, number>();
  for (const x of s.sites) if (x.state === 'trapping') reasons.set(x.reason, (reasons.get(x.reason) ?? 0) + 1);
  if (reasons.size) out += `trapping because: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}\n`;
  if (i386.length || otherI386) out += `32-bit calls (int $0x80, i386 table): ${i386.reduce((a, n) => a + n.trap, 0) + otherI386}, never rewritten\n`;
  const d = s.dropped;
  if (d && (d.processes || d.sites || d.modulesFull || d.planUnrecorded)) {
    const parts: string[] = [];
    if (d.processes) parts.push(`${d.processes} process record(s) (process table full)`);
    if (d.sites) parts.push(`${d.sites} site record(s) (site table full)`);
    if (d.modulesFull) parts.push(`the modules of ${s.sites.filter((x) => x.module === null).length} site(s) (module table full)`);
    if (d.planUnrecorded) parts.push('the records of skipped plan sites beyond half the site table (counted above)');
    out += `dropped: ${parts.join('; ')}\n`;
  }
  if (s.planUsed) out += `plan: ${s.planRewritten} sites rewritten ahead of time, ${s.planSkipped} skipped; `;
  if (s.planUsed || (s.policy !== undefined && s.policy !== 'all')) {
    out += `rewrite policy ${s.policy ?? 'all'}: ${s.policyRefused ?? 0} trapped site(s) refused\n`;
  }
  if (s.callerFallback) out += `policy scopes: ${s.callerFallback} call(s) through libc checked by their site (no caller found by unwinding)\n`;
  return out;
}
