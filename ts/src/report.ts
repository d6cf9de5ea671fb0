import { readFileSync } from 'node:fs';
import { readStats, nrName, StatsError, type StatsSnapshot } from './stats.js';

/** Loads a saved report: a JSON report (trapline run --report) or a raw statistics
 * segment. Throws StatsError with one line naming the file and the problem. */
export function loadReport(path: string): StatsSnapshot {
  let head: Buffer;
  try {
    head = readFileSync(path);
  } catch (e) {
    throw new StatsError(`trapline: report ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (head.subarray(0, 8).toString('latin1') === 'TRAPLINE') return readStats(path);
  let data: unknown;
  try {
    data = JSON.parse(head.toString('utf8'));
  } catch (e) {
    throw new StatsError(`trapline: report ${path}: neither a JSON report nor a statistics segment (not valid JSON)`);
  }
  const ni = data as { interposed?: unknown; program?: unknown };
  if (ni && typeof ni === 'object' && ni.interposed === false) {
    throw new StatsError(`trapline: report ${path}: ${String(ni.program)} was not interposed (the loader ignored LD_PRELOAD); there is no coverage`);
  }
  const s = data as Partial<StatsSnapshot>;
  if (!s || typeof s !== 'object' || !Array.isArray(s.perNr) || !Array.isArray(s.sites) || !Array.isArray(s.modules) || typeof s.version !== 'number') {
    throw new StatsError(`trapline: report ${path}: not a trapline report (missing perNr/sites/modules)`);
  }
  return s as StatsSnapshot;
}

function table(rows: string[][], right: boolean[]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Text tables like `strace -c`, plus coverage: per syscall, per module, and the totals. */
export function renderSummary(s: StatsSnapshot): string {
  let out = '';
  const calls = s.perNr.map((n) => ({ ...n, calls: n.trap + n.fast })).sort((a, b) => b.calls - a.calls || a.nr - b.nr);
  const total = calls.reduce((a, n) => a + n.calls, 0) + s.otherTrap + s.otherFast;
  const rows = [['% calls', 'calls', 'errors', 'via trap', 'via fast', 'syscall']];
  for (const n of calls) {
    rows.push([(total ? (100 * n.calls) / total : 0).toFixed(2), String(n.calls), String(n.errors), String(n.trap), String(n.fast), nrName(n.nr)]);
  }
  if (s.otherTrap + s.otherFast) rows.push(['', String(s.otherTrap + s.otherFast), '', String(s.otherTrap), String(s.otherFast), '(other numbers)']);
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
  out += `\n${total} calls interposed in ${s.processes} process(es), ${fastShare.toFixed(1)}% via the rewritten fast path; `;
  out += `${s.sites.length} sites: ${s.sitesRewritten} rewritten, ${s.sitesTrapping} trapping, ${s.sitesStale} stale\n`;
  const reasons = new Map<string, number>();
  for (const x of s.sites) if (x.state === 'trapping') reasons.set(x.reason, (reasons.get(x.reason) ?? 0) + 1);
  if (reasons.size) out += `trapping because: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}\n`;
  if (s.planUsed) out += `plan: ${s.planRewritten} sites rewritten ahead of time, ${s.planSkipped} skipped; `;
  if (s.planUsed || (s.policy !== undefined && s.policy !== 'all')) {
    out += `rewrite policy ${s.policy ?? 'all'}: ${s.policyRefused ?? 0} trapped site(s) refused\n`;
  }
  return out;
}
