// What an HTML report shows, computed from the report data alone (model.ts): the header
// figures, the per-module, per-syscall, per-site and per-process rows, and the differences
// between two reports. Pure functions without Node imports: bundled into the page, where
// they run, and importable by tests.
import type { Origin, SiteInfo, SiteReason, SiteState, StatsSnapshot } from '../stats.js';
import type { Annotations, Insn, PageReport } from './model.js';

export type Abi = 'x86_64' | 'i386';

/** Name of a syscall number from the page's table; the same fallbacks as nrName(). */
export function callName(a: Annotations, nr: number, abi: Abi = 'x86_64'): string {
  return a.names[abi][nr] ?? (abi === 'i386' ? `i386_${nr}` : `syscall_${nr}`);
}

// ---- header ------------------------------------------------------------------------

export interface Header {
  modeText: string;
  /** Entered at the program's first instruction (false: from the preloaded constructor). */
  firstInstruction: boolean;
  calls: number;
  trap: number;
  fast: number;
  /** 32-bit calls (int $0x80); part of trap. */
  i386: number;
  processes: number;
  sites: number;
  rewritten: number;
  trapping: number;
  stale: number;
  skipped: number;
  /** Trapping site records by reason, most first. */
  trappingBy: [SiteReason, number][];
  /** What a full table dropped, one phrase each; empty if nothing. */
  dropped: string[];
  hookLoaded: boolean;
  /** One phrase on the plan and rewrite policy, or null (no plan, policy all). */
  plan: string | null;
}

export function header(r: PageReport): Header {
  const s = r.report;
  const trappingBy = new Map<SiteReason, number>();
  let skipped = 0;
  for (const x of s.sites) {
    if (x.state === 'trapping') trappingBy.set(x.reason, (trappingBy.get(x.reason) ?? 0) + 1);
    else if (x.state === 'skipped') skipped++;
  }
  const i386 = (s.perNrI386 ?? []).reduce((a, n) => a + n.trap, 0) + (s.otherI386 ?? 0);
  const dropped: string[] = [];
  const d = s.dropped;
  if (d?.processes) dropped.push(`${d.processes} process record(s): the process table filled`);
  if (d?.sites) dropped.push(`${d.sites} site record(s): the site table filled`);
  if (d?.modulesFull) dropped.push(`the module of ${s.sites.filter((x) => x.module === null).length} site(s): the module table filled`);
  if (d?.planUnrecorded) dropped.push('the records of skipped plan sites beyond half the site table (they are counted)');
  let plan: string | null = null;
  if (s.planUsed || (s.policy !== undefined && s.policy !== 'all')) {
    plan = (s.planUsed ? `plan used: ${s.planRewritten ?? 0} site(s) rewritten ahead of time, ${s.planSkipped ?? 0} skipped; ` : '')
      + `rewrite policy ${s.policy ?? 'all'}: ${s.policyRefused ?? 0} trapped site(s) refused`;
  }
  return {
    modeText: r.annotations.modeText,
    firstInstruction: s.entry === 'first-instruction',
    calls: s.total.trap + s.total.fast,
    trap: s.total.trap,
    fast: s.total.fast,
    i386,
    processes: s.processes,
    sites: s.sites.length,
    rewritten: s.sitesRewritten,
    trapping: s.sitesTrapping,
    stale: s.sitesStale,
    skipped,
    trappingBy: [...trappingBy].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    dropped,
    hookLoaded: s.hookLoaded,
    plan,
  };
}

// ---- per syscall -----------------------------------------------------------------

export interface CallRow {
  abi: Abi;
  nr: number;
  name: string;
  calls: number;
  errors: number;
  trap: number;
  fast: number;
  /** calls / all calls, 0..1 */
  share: number;
}

/** One row per syscall number with a call or an error, most calls first; the calls of
 *  numbers outside the tables are rows named "(other numbers)". */
export function callRows(r: PageReport): CallRow[] {
  const s = r.report;
  const total = s.total.trap + s.total.fast;
  const rows: CallRow[] = [];
  const add = (abi: Abi, nr: number, name: string, trap: number, fast: number, errors: number) =>
    rows.push({ abi, nr, name, calls: trap + fast, errors, trap, fast, share: total ? (trap + fast) / total : 0 });
  for (const n of s.perNr) add('x86_64', n.nr, callName(r.annotations, n.nr), n.trap, n.fast, n.errors);
  for (const n of s.perNrI386 ?? []) add('i386', n.nr, `i386:${callName(r.annotations, n.nr, 'i386')}`, n.trap, 0, n.errors);
  if (s.otherTrap + s.otherFast) add('x86_64', -1, '(other numbers)', s.otherTrap, s.otherFast, 0);
  if (s.otherI386) add('i386', -1, '(other i386 numbers)', s.otherI386, 0, 0);
  return rows.sort((a, b) => b.calls - a.calls || a.nr - b.nr || a.abi.localeCompare(b.abi));
}

// ---- per site ----------------------------------------------------------------------

export interface SiteRow {
  index: number;
  addr: string;
  pid: number;
  module: string;
  origin: Origin | null;
  offset: string;
  symbol: string | null;
  scan: string | null;
  /** Numbers served, by name. */
  calls: string[];
  nrsOther: number;
  trapHits: number;
  fastHits: number;
  hits: number;
  state: SiteState;
  reason: SiteReason;
  source: string;
  insns: Insn[];
  /** Why there is no disassembly, when there is none. */
  noInsns: string | null;
}

/** A module's name as the page shows it. */
export function moduleName(s: StatsSnapshot, m: number | null): string {
  if (m === null) return '(unknown module)';
  const mod = s.modules[m];
  if (!mod) return '(unknown module)';
  if (mod.origin === 'vdso') return mod.path || '[vdso]';
  return mod.path || '[anonymous memory]';
}

export function siteRow(r: PageReport, x: SiteInfo, index: number): SiteRow {
  const s = r.report;
  const a = r.annotations;
  const fi = x.module === null ? null : a.moduleFile[x.module] ?? null;
  const file = fi === null ? undefined : a.files[fi];
  const note = file?.sites[x.offset];
  const abi: Abi = x.reason === 'int80' ? 'i386' : 'x86_64';
  let noInsns: string | null = null;
  if (!note || note.insns.length === 0) {
    const mod = x.module === null ? undefined : s.modules[x.module];
    noInsns = !mod ? 'module unknown' : !file ? `no file (${mod.origin === 'vdso' ? 'vDSO' : 'anonymous memory'})` : file.problem ?? 'not found in the file';
  }
  return {
    index,
    addr: x.addr,
    pid: x.pid,
    module: moduleName(s, x.module),
    origin: x.module === null ? null : s.modules[x.module]?.origin ?? null,
    offset: x.offset,
    symbol: note?.symbol ?? null,
    scan: note?.scan ?? null,
    calls: x.nrs.map((nr) => callName(a, nr, abi)),
    nrsOther: x.nrsOther,
    trapHits: x.trapHits,
    fastHits: x.fastHits,
    hits: x.trapHits + x.fastHits,
    state: x.state,
    reason: x.reason,
    source: x.source ?? 'learned',
    insns: note?.insns ?? [],
    noInsns,
  };
}

export function siteRows(r: PageReport): SiteRow[] {
  return r.report.sites.map((x, i) => siteRow(r, x, i));
}

// ---- per module --------------------------------------------------------------------

export interface ModuleRow {
  name: string;
  origin: Origin | '?';
  /** Processes that had a site in it. */
  processes: number;
  sites: number;
  rewritten: number;
  trapping: number;
  trappingBy: Partial<Record<SiteReason, number>>;
  stale: number;
  skipped: number;
  /** Sites whose record came from a plan. */
  plan: number;
  trapHits: number;
  fastHits: number;
  calls: number;
}

/** One row per module file and origin (the same file in several processes is one row),
 *  most sites first. */
export function moduleRows(r: PageReport): ModuleRow[] {
  const s = r.report;
  const by = new Map<string, ModuleRow & { pids: Set<number> }>();
  for (const x of s.sites) {
    const origin = x.module === null ? '?' : s.modules[x.module]?.origin ?? '?';
    const name = moduleName(s, x.module);
    const key = `${origin}\0${name}`;
    let m = by.get(key);
    if (!m) {
      m = { name, origin, processes: 0, sites: 0, rewritten: 0, trapping: 0, trappingBy: {}, stale: 0, skipped: 0, plan: 0, trapHits: 0, fastHits: 0, calls: 0, pids: new Set() };
      by.set(key, m);
    }
    m.sites++;
    m.pids.add(x.pid);
    if (x.source !== undefined && x.source !== 'learned') m.plan++;
    if (x.state === 'rewritten') m.rewritten++;
    else if (x.state === 'trapping') {
      m.trapping++;
      m.trappingBy[x.reason] = (m.trappingBy[x.reason] ?? 0) + 1;
    } else if (x.state === 'skipped') m.skipped++;
    else m.stale++;
    m.trapHits += x.trapHits;
    m.fastHits += x.fastHits;
    m.calls += x.trapHits + x.fastHits;
  }
  return [...by.values()].map(({ pids, ...m }) => ({ ...m, processes: pids.size }))
    .sort((a, b) => b.sites - a.sites || b.calls - a.calls || a.name.localeCompare(b.name));
}

// ---- per process -------------------------------------------------------------------

export interface ProcNode {
  pid: number;
  ppid: number;
  exe: string;
  mode: string;
  exitCode: number | null;
  signal: number | null;
  startMs: number;
  /** Calls counted at this process's sites. */
  calls: number;
  /** calls / the calls counted at every site, 0..1 */
  share: number;
  children: ProcNode[];
}

/** The processes as a forest: a process whose parent is not in the report is a root.
 *  Calls are those counted at each process's sites (site records are per process). */
export function processTree(r: PageReport): ProcNode[] {
  const s = r.report;
  const calls = new Map<number, number>();
  let all = 0;
  for (const x of s.sites) {
    const n = x.trapHits + x.fastHits;
    calls.set(x.pid, (calls.get(x.pid) ?? 0) + n);
    all += n;
  }
  const nodes = new Map<number, ProcNode>();
  const order: ProcNode[] = [];
  for (const p of s.processList) {
    if (nodes.has(p.pid)) continue;   // a reused pid: the first record is the tree's
    const c = calls.get(p.pid) ?? 0;
    const node: ProcNode = { pid: p.pid, ppid: p.ppid, exe: p.exe, mode: p.mode, exitCode: p.exitCode, signal: p.signal, startMs: p.startMs, calls: c, share: all ? c / all : 0, children: [] };
    nodes.set(p.pid, node);
    order.push(node);
  }
  const roots: ProcNode[] = [];
  for (const n of order) {
    const parent = n.ppid !== n.pid ? nodes.get(n.ppid) : undefined;
    // a parent that started later than its child is a reused pid: not this child's parent
    if (parent && parent.startMs <= n.startMs && !isAncestor(n, parent)) parent.children.push(n);
    else roots.push(n);
  }
  return roots;
}

function isAncestor(a: ProcNode, of: ProcNode): boolean {
  const stack = [...a.children];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === of) return true;
    for (const c of n.children) stack.push(c);   // no spread: any number of children
  }
  return false;
}

/** Signal names by number (x86-64 Linux), for exit statuses. */
const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV',
  'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG',
  'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];

export function exitText(p: { exitCode: number | null; signal: number | null }): string {
  if (p.signal !== null) return `killed by signal ${p.signal}${SIGNALS[p.signal] ? ` (${SIGNALS[p.signal]})` : ''}`;
  if (p.exitCode !== null) return `exited ${p.exitCode}`;
  return 'no exit recorded (running, exec\'d, or reaped by an uninterposed parent)';
}

// ---- comparison --------------------------------------------------------------------

/** A site across processes: the same module file and offset (addresses and pids differ
 *  from run to run). */
export interface SiteKeyRow {
  module: string;
  origin: Origin | '?';
  offset: string;
  symbol: string | null;
  /** trapping if any process's record traps, else rewritten if any is, else the state. */
  state: SiteState;
  reasons: SiteReason[];
  hits: number;
  calls: string[];
}

export interface Figure {
  label: string;
  before: number;
  after: number;
}

export interface Diff {
  figures: Figure[];
  /** Sites in the second report only. */
  newSites: SiteKeyRow[];
  /** Sites in the first report only. */
  goneSites: SiteKeyRow[];
  /** Trapping in the first report, and in the second not (rewritten, or skipped). */
  leftTrap: { before: SiteKeyRow; after: SiteKeyRow }[];
  /** Not trapping in the first report, trapping in the second. */
  joinedTrap: { before: SiteKeyRow; after: SiteKeyRow }[];
  /** Syscalls with calls in the second report only, and in the first only. */
  callsAppeared: CallRow[];
  callsGone: CallRow[];
  /** Every syscall of either report: calls before and after. */
  calls: { name: string; before: number; after: number; delta: number }[];
}

const STATE_RANK: Record<SiteState, number> = { trapping: 0, rewritten: 1, skipped: 2, stale: 3 };

export function siteKeys(r: PageReport): Map<string, SiteKeyRow> {
  const s = r.report;
  const out = new Map<string, SiteKeyRow>();
  s.sites.forEach((x, i) => {
    const row = siteRow(r, x, i);
    const origin = x.module === null ? '?' : s.modules[x.module]?.origin ?? '?';
    // anonymous memory has no file offset worth comparing: its address is its identity
    const where = origin === 'anonymous' || origin === '?' ? x.addr : x.offset;
    const key = `${origin}\0${row.module}\0${where}`;
    const k = out.get(key);
    if (!k) {
      out.set(key, { module: row.module, origin, offset: where, symbol: row.symbol, state: x.state, reasons: x.state === 'rewritten' ? [] : [x.reason], hits: row.hits, calls: [...row.calls] });
      return;
    }
    if (STATE_RANK[x.state] < STATE_RANK[k.state]) k.state = x.state;
    if (x.state !== 'rewritten' && !k.reasons.includes(x.reason)) k.reasons.push(x.reason);
    k.hits += row.hits;
    for (const c of row.calls) if (!k.calls.includes(c)) k.calls.push(c);
  });
  return out;
}

export function diff(a: PageReport, b: PageReport): Diff {
  const ha = header(a);
  const hb = header(b);
  const figures: Figure[] = [
    { label: 'calls', before: ha.calls, after: hb.calls },
    { label: 'calls by trap', before: ha.trap, after: hb.trap },
    { label: 'calls by the fast path', before: ha.fast, after: hb.fast },
    { label: 'processes', before: ha.processes, after: hb.processes },
    { label: 'site records', before: ha.sites, after: hb.sites },
    { label: 'sites rewritten', before: ha.rewritten, after: hb.rewritten },
    { label: 'sites trapping', before: ha.trapping, after: hb.trapping },
    { label: 'sites stale', before: ha.stale, after: hb.stale },
    { label: 'sites skipped', before: ha.skipped, after: hb.skipped },
  ];
  const ka = siteKeys(a);
  const kb = siteKeys(b);
  const newSites: SiteKeyRow[] = [];
  const goneSites: SiteKeyRow[] = [];
  const leftTrap: Diff['leftTrap'] = [];
  const joinedTrap: Diff['joinedTrap'] = [];
  for (const [k, after] of kb) {
    const before = ka.get(k);
    if (!before) newSites.push(after);
    else if (before.state === 'trapping' && after.state !== 'trapping') leftTrap.push({ before, after });
    else if (before.state !== 'trapping' && after.state === 'trapping') joinedTrap.push({ before, after });
  }
  for (const [k, before] of ka) if (!kb.has(k)) goneSites.push(before);
  const bySite = (x: SiteKeyRow, y: SiteKeyRow) => x.module.localeCompare(y.module) || Number(BigInt(x.offset) - BigInt(y.offset));

  const ca = new Map(callRows(a).map((c) => [`${c.abi}:${c.nr}`, c]));
  const cb = new Map(callRows(b).map((c) => [`${c.abi}:${c.nr}`, c]));
  const callsAppeared = [...cb].filter(([k, c]) => c.calls > 0 && !(ca.get(k)?.calls)).map(([, c]) => c);
  const callsGone = [...ca].filter(([k, c]) => c.calls > 0 && !(cb.get(k)?.calls)).map(([, c]) => c);
  const calls = [...new Set([...ca.keys(), ...cb.keys()])].map((k) => {
    const before = ca.get(k)?.calls ?? 0;
    const after = cb.get(k)?.calls ?? 0;
    return { name: (cb.get(k) ?? ca.get(k))!.name, before, after, delta: after - before };
  }).sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || x.name.localeCompare(y.name));
  return {
    figures,
    newSites: newSites.sort(bySite),
    goneSites: goneSites.sort(bySite),
    leftTrap: leftTrap.sort((x, y) => bySite(x.after, y.after)),
    joinedTrap: joinedTrap.sort((x, y) => bySite(x.after, y.after)),
    callsAppeared,
    callsGone,
    calls,
  };
}
