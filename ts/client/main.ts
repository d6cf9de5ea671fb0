// The report page: reads the data the page carries (#trapline-data, model.ts) and draws
// it. Every figure comes from view.ts, computed here from the reports themselves.
import type { PageData, PageReport } from '../src/html/model.js';
import {
  callRows, diff, exitText, header, moduleRows, processTree, siteRows,
  type CallRow, type ModuleRow, type ProcNode, type SiteKeyRow, type SiteRow,
} from '../src/html/view.js';
import { describeTop, patternDefs, stackedBars, type Pattern, type Series } from './charts.js';
import { append, basename, h, heading, num, pct, type Child } from './dom.js';
import { sortableTable, type Column } from './table.js';

/** What each reason a site traps for means (docs/stats.md). */
const REASONS: Record<string, string> = {
  'sud-only': 'sud-only mode rewrites nothing',
  vdso: 'in the vDSO, which is never rewritten',
  straddle: 'the two bytes cross a 64-byte line while other threads run',
  'not-syscall': 'the bytes are not a syscall instruction',
  full: 'a table of rewritten sites filled',
  stale: 'its code changed after rewriting',
  nested: 'a call made while handling another',
  policy: 'the rewrite policy refused it',
  'plan-mismatch': 'the plan\'s bytes differ from the file\'s',
  int80: 'a 32-bit int $0x80 call: never rewritten',
  redzone: 'its code may keep data below %rsp across the call',
  shared: 'in a shared mapping: a store would reach the file',
  seccomp: 'the program\'s seccomp filter forbids the calls a rewrite makes',
  none: '',
};

const STATE_PATTERN: Record<string, Pattern> = { rewritten: 'solid', stale: 'hlines', skipped: 'checks' };
const TRAP_PATTERNS: Pattern[] = ['hatch', 'cross', 'dots', 'vlines', 'bdiag'];

function main(): void {
  const el = document.getElementById('trapline-data');
  const data = JSON.parse(el?.textContent ?? 'null') as PageData | null;
  const root = document.getElementById('main')!;
  if (!data || !Array.isArray(data.reports) || data.reports.length === 0) {
    root.replaceChildren(h('h1', null, 'trapline report'), h('p', null, 'This page holds no report data.'));
    return;
  }
  document.body.prepend(patternDefs());
  const compare = data.reports.length === 2;
  const last = data.reports[data.reports.length - 1]!;
  const title = compare ? `Comparison of two trapline runs` : `trapline report: ${last.label}`;
  const parts: Child[] = [h('h1', null, title), intro(data)];
  if (compare) {
    parts.push(comparison(data.reports[0]!, last));
    parts.push(h('section', { 'aria-labelledby': 'after-detail' }, heading(2, `The second run in detail: ${last.label}`, 'after-detail'), ...reportSections(last, 3, 'b')));
  } else {
    parts.push(...reportSections(last, 2, 'a'));
  }
  parts.push(h('footer', null, h('p', null, `Made by ${data.generator} on ${new Date(data.generatedMs).toISOString()}. `,
    'Every figure on this page is computed from the report data it carries; ', downloadLink(data), '.')));
  root.replaceChildren();
  append(root, parts);
  root.setAttribute('data-ready', 'true');
}

function intro(data: PageData): HTMLElement {
  const items = data.reports.map((r, i) => {
    const s = r.report;
    const exe = s.processList[0]?.exe;
    const role = data.reports.length === 2 ? (i === 0 ? 'Before (first report): ' : 'After (second report): ') : 'Report: ';
    return h('li', null, role, h('strong', null, r.label),
      `, started ${new Date(s.startMs).toISOString()}`, exe ? `, program ${exe}` : '');
  });
  return h('ul', { class: 'intro' }, items);
}

function downloadLink(data: PageData): HTMLElement {
  const a = h('a', { href: '#', download: 'trapline-report.json' }, 'save the report data as JSON');
  a.addEventListener('click', () => {
    const json = data.reports.length === 1 ? data.reports[0]!.report : data.reports.map((r) => ({ label: r.label, report: r.report }));
    a.setAttribute('href', URL.createObjectURL(new Blob([JSON.stringify(json, null, 2) + '\n'], { type: 'application/json' })));
  });
  return a;
}

function section(level: number, id: string, title: string, ...body: Child[]): HTMLElement {
  return h('section', { 'aria-labelledby': id }, heading(level, title, id), ...body);
}

function reportSections(r: PageReport, level: number, p: string): HTMLElement[] {
  return [
    interposedSection(r, level, p),
    modulesSection(r, level, p),
    callsSection(r, level, p),
    sitesSection(r, level, p),
    processesSection(r, level, p),
  ];
}

// ---- was everything interposed? ---------------------------------------------------

function interposedSection(r: PageReport, level: number, p: string): HTMLElement {
  const x = header(r);
  const share = (n: number) => (x.calls ? ` (${pct(n / x.calls)})` : '');
  const reasons = x.trappingBy.map(([reason, n]) => `${reason} ${num(n)}${REASONS[reason] ? ` (${REASONS[reason]})` : ''}`).join('; ');
  const row = (key: string, label: string, value: Child, note?: Child) =>
    h('tr', { 'data-figure': key }, h('th', { scope: 'row' }, label), h('td', { class: 'value' }, value), h('td', { class: 'note' }, note ?? ''));
  const rows = [
    row('mode', 'Mode', x.modeText),
    row('entry', 'Entered at the first instruction', x.firstInstruction ? 'yes' : 'no',
      x.firstInstruction ? 'trapline ran from the program\'s first instruction' : 'from the preloaded library\'s constructor: the system calls of the dynamic loader and libc start-up before it ran were not seen'),
    row('calls', 'System calls interposed', num(x.calls)),
    row('trap', 'by trap (SIGSYS)', num(x.trap), share(x.trap).trim()),
    row('fast', 'by the rewritten fast path', num(x.fast), share(x.fast).trim()),
    x.i386 ? row('i386', '32-bit calls (int $0x80)', num(x.i386), 'always trap; counted under by trap') : null,
    row('processes', 'Processes', num(x.processes)),
    row('sites', 'Site records', num(x.sites), 'one per syscall instruction per process'),
    row('rewritten', 'Sites rewritten', num(x.rewritten)),
    row('trapping', 'Sites trapping', num(x.trapping), reasons || null),
    row('stale', 'Sites stale', num(x.stale), 'rewritten, then their code changed or was unmapped'),
    row('skipped', 'Sites skipped', num(x.skipped), 'plan sites not rewritten that never ran'),
    row('dropped', 'Dropped because a table filled', x.dropped.length ? x.dropped.join('; ') : 'nothing'),
    row('hook', 'Hook library loaded', x.hookLoaded ? 'yes' : 'no'),
    row('plan', 'Plan and rewrite policy', x.plan ?? 'no plan; rewrite policy all'),
  ];
  const verdict: Child[] = [];
  if (x.dropped.length) verdict.push(h('strong', null, 'Not everything was recorded: '), 'a table filled and records were dropped (below). ');
  verdict.push(`${num(x.calls)} system call${x.calls === 1 ? '' : 's'} in ${num(x.processes)} process${x.processes === 1 ? '' : 'es'} went through trapline: `,
    `${num(x.trap)} by trap${share(x.trap)}, ${num(x.fast)} by the fast path${share(x.fast)}. `);
  verdict.push(x.trapping ? `${num(x.trapping)} site${x.trapping === 1 ? '' : 's'} still trap. ` : 'No site still traps. ');
  if (!x.firstInstruction) verdict.push('Calls made before trapline\'s constructor ran were not seen.');
  return section(level, `${p}-interposed`, 'Was everything interposed?',
    h('p', { class: 'verdict', id: `${p}-verdict` }, verdict),
    h('table', { class: 'figures', id: `${p}-figures` }, h('caption', null, 'The run at a glance'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'What'), h('th', { scope: 'col' }, 'Figure'), h('th', { scope: 'col' }, 'Note'))),
      h('tbody', null, rows)));
}

// ---- modules ------------------------------------------------------------------------

function modulesSection(r: PageReport, level: number, p: string): HTMLElement {
  const rows = moduleRows(r);
  const reasons = [...new Set(rows.flatMap((m) => Object.keys(m.trappingBy)))].sort();
  const top = rows.slice(0, 25);
  const series: Series[] = [
    { name: 'rewritten', pattern: STATE_PATTERN.rewritten!, values: top.map((m) => m.rewritten) },
    ...reasons.map((reason, i) => ({ name: `trapping: ${reason}`, pattern: TRAP_PATTERNS[i % TRAP_PATTERNS.length]!, values: top.map((m) => m.trappingBy[reason as keyof ModuleRow['trappingBy']] ?? 0) })),
    { name: 'stale', pattern: STATE_PATTERN.stale!, values: top.map((m) => m.stale) },
    { name: 'skipped', pattern: STATE_PATTERN.skipped!, values: top.map((m) => m.skipped) },
  ].filter((s) => s.values.some((v) => v > 0));
  const chart = top.length && series.length ? stackedBars({
    id: `${p}-modules-chart`,
    caption: `Sites by module and state${rows.length > top.length ? ` (the ${top.length} modules with the most sites)` : ''}`,
    description: describeTop(top.map((m) => basename(m.name)), top.map((m) => m.sites), 'Sites per module'),
    labels: top.map((m) => basename(m.name)),
    series,
  }) : null;
  const cols: Column<ModuleRow>[] = [
    { key: 'name', label: 'Module', value: (m) => m.name, rowHeader: true, cell: (m) => h('span', { class: 'path' }, m.name) },
    { key: 'origin', label: 'Origin', value: (m) => m.origin },
    { key: 'processes', label: 'Processes', numeric: true, value: (m) => m.processes },
    { key: 'sites', label: 'Sites', numeric: true, value: (m) => m.sites },
    { key: 'rewritten', label: 'Rewritten', numeric: true, value: (m) => m.rewritten },
    {
      key: 'trapping', label: 'Trapping', numeric: true, value: (m) => m.trapping,
      cell: (m) => [num(m.trapping), m.trapping ? h('span', { class: 'why' }, ` (${Object.entries(m.trappingBy).map(([k, v]) => `${k} ${num(v)}`).join(', ')})`) : ''],
    },
    { key: 'stale', label: 'Stale', numeric: true, value: (m) => m.stale },
    { key: 'skipped', label: 'Skipped', numeric: true, value: (m) => m.skipped },
    { key: 'plan', label: 'From a plan', numeric: true, value: (m) => m.plan },
    { key: 'calls', label: 'Calls', numeric: true, value: (m) => m.calls },
    { key: 'fastShare', label: 'Fast path', numeric: true, value: (m) => (m.calls ? m.fastHits / m.calls : 0), cell: (m) => pct(m.calls ? m.fastHits / m.calls : 0) },
  ];
  const t = sortableTable({ id: `${p}-modules`, caption: 'Sites and calls per module', columns: cols, rows, pageSize: 50, sort: { key: 'sites', dir: 'descending' }, empty: 'No module had a site.' });
  return section(level, `${p}-modules-h`, 'Modules', h('p', null, 'Where the system call instructions are, and what became of them. Origin: main (the program), startup (loaded before trapline started), dlopen, anonymous (JIT or memfd code), vdso. Calls are those counted at the module\'s sites.'), chart, t.element);
}

// ---- syscalls -----------------------------------------------------------------------

function callsSection(r: PageReport, level: number, p: string): HTMLElement {
  const rows = callRows(r);
  const top = rows.slice(0, 15);
  const chart = top.length ? stackedBars({
    id: `${p}-calls-chart`,
    caption: `The ${top.length} most frequent system calls, by path`,
    description: describeTop(top.map((c) => c.name), top.map((c) => c.calls), 'Most frequent system calls'),
    labels: top.map((c) => c.name),
    series: [
      { name: 'by trap', pattern: 'hatch', values: top.map((c) => c.trap) },
      { name: 'by the fast path', pattern: 'solid', values: top.map((c) => c.fast) },
    ].filter((s) => s.values.some((v) => v > 0)) as Series[],
  }) : null;
  const cols: Column<CallRow>[] = [
    { key: 'name', label: 'System call', value: (c) => c.name, rowHeader: true },
    { key: 'nr', label: 'Number', numeric: true, value: (c) => c.nr, cell: (c) => (c.nr < 0 ? '' : `${c.abi === 'i386' ? 'i386 ' : ''}${c.nr}`) },
    { key: 'calls', label: 'Calls', numeric: true, value: (c) => c.calls },
    { key: 'errors', label: 'Errors', numeric: true, value: (c) => c.errors },
    { key: 'trap', label: 'By trap', numeric: true, value: (c) => c.trap },
    { key: 'fast', label: 'By fast path', numeric: true, value: (c) => c.fast },
    { key: 'share', label: 'Share', numeric: true, value: (c) => c.share, cell: (c) => pct(c.share) },
  ];
  const t = sortableTable({ id: `${p}-calls`, caption: 'Calls per system call', columns: cols, rows, pageSize: 100, sort: { key: 'calls', dir: 'descending' }, empty: 'No system call was counted.' });
  return section(level, `${p}-calls-h`, 'System calls', chart, t.element);
}

// ---- sites --------------------------------------------------------------------------

function insnsCell(s: SiteRow): Child {
  if (!s.insns.length) return h('span', { class: 'muted' }, s.noInsns ?? '');
  const site = s.insns.find((i) => i.site);
  return h('details', null, h('summary', null, site ? site.text : 'instructions'),
    h('pre', { class: 'insns' }, s.insns.map((i) => h(i.site ? 'strong' : 'span', null, `${i.site ? '⇒' : ' '} ${i.addr}: ${i.text}\n`))));
}

function sitesSection(r: PageReport, level: number, p: string): HTMLElement {
  const rows = siteRows(r);
  const cols: Column<SiteRow>[] = [
    { key: 'addr', label: 'Address', value: (s) => BigInt(s.addr), cell: (s) => h('code', null, s.addr), rowHeader: true },
    { key: 'pid', label: 'Process', numeric: true, value: (s) => s.pid, cell: (s) => String(s.pid) },
    { key: 'module', label: 'Module + offset', value: (s) => `${s.module}+${s.offset.padStart(18, '0')}`, cell: (s) => h('span', { class: 'nowrap' }, h('span', { class: 'path' }, basename(s.module)), h('code', null, `+${s.offset}`)) },
    { key: 'symbol', label: 'Function', value: (s) => s.symbol ?? '', cell: (s) => (s.symbol ? h('code', null, s.symbol) : h('span', { class: 'muted' }, 'unknown')) },
    { key: 'calls', label: 'Calls served', value: (s) => s.calls.join(' '), cell: (s) => `${s.calls.join(', ')}${s.nrsOther ? `${s.calls.length ? ', ' : ''}${num(s.nrsOther)} other` : ''}` },
    { key: 'trapHits', label: 'By trap', numeric: true, value: (s) => s.trapHits },
    { key: 'fastHits', label: 'Fast', numeric: true, value: (s) => s.fastHits },
    { key: 'hits', label: 'Hits', numeric: true, value: (s) => s.hits },
    { key: 'state', label: 'State', value: (s) => `${s.state} ${s.reason}`, cell: (s) => stateText(s.state, s.reason) },
    { key: 'source', label: 'Record from', value: (s) => s.source },
    { key: 'insns', label: 'Instructions', value: () => '', cell: insnsCell, sortable: false },
  ];
  const t = sortableTable({ id: `${p}-sites`, caption: 'Syscall sites (one record per instruction per process)', columns: cols, rows, pageSize: 50, sort: { key: 'hits', dir: 'descending' }, empty: 'No site was recorded.' });

  // filters: free text (module, function, call, address) and state
  const search = h('input', { type: 'search', id: `${p}-site-search`, placeholder: 'libc, openat, 0x7f…' });
  const states = ['all', ...new Set(rows.map((s) => s.state))];
  const state = h('select', { id: `${p}-site-state` }, states.map((s) => h('option', { value: s }, s === 'all' ? 'every state' : s)));
  const apply = () => {
    const q = search.value.trim().toLowerCase();
    const st = state.value;
    t.setFilter(!q && st === 'all' ? undefined : (s) =>
      (st === 'all' || s.state === st) && (!q || `${s.addr} ${s.module} ${s.offset} ${s.symbol ?? ''} ${s.calls.join(' ')} ${s.reason} ${s.pid}`.toLowerCase().includes(q)));
  };
  search.addEventListener('input', apply);
  state.addEventListener('change', apply);
  const controls = h('div', { class: 'controls', role: 'search' },
    h('label', { for: search.id }, 'Find sites '), search, ' ', h('label', { for: state.id }, 'State '), state);
  return section(level, `${p}-sites-h`, 'Sites', h('p', null, 'Each syscall instruction that ran, or that a plan rewrote ahead of time, per process. The function and instructions come from the module file on the machine that made this page, when its build-id matched the run\'s.'), controls, t.element);
}

function stateText(state: string, reason: string): Child {
  if (state === 'rewritten') return 'rewritten';
  const why = reason && reason !== 'none' ? reason : '';
  return h('span', { class: `state-${state}`, title: REASONS[why] ?? '' }, why ? `${state}: ${why}` : state);
}

// ---- processes ----------------------------------------------------------------------

function processesSection(r: PageReport, level: number, p: string): HTMLElement {
  const roots = processTree(r);
  const item = (n: ProcNode): HTMLElement => h('li', { 'data-pid': n.pid },
    h('span', { class: 'proc' }, h('strong', null, `pid ${n.pid}`), ' ', h('code', null, n.exe || '(unknown program)')),
    h('span', { class: 'proc-facts' }, ` — ${exitText(n)}; ${n.mode}; ${num(n.calls)} call${n.calls === 1 ? '' : 's'} at its sites (${pct(n.share)})`),
    h('span', { class: 'share', 'aria-hidden': 'true' }, h('span', { style: `width:${(100 * n.share).toFixed(1)}%` })));
  // built without recursion: a chain of processes may be as long as the process list
  const tree = h('ul', { class: 'tree', id: `${p}-tree` });
  const work: [ProcNode, HTMLElement][] = [];
  for (let i = roots.length - 1; i >= 0; i--) work.push([roots[i]!, tree]);
  while (work.length) {
    const [n, into] = work.pop()!;
    const li = item(n);
    into.append(li);
    if (!n.children.length) continue;
    const ul = h('ul');
    li.append(ul);
    for (let i = n.children.length - 1; i >= 0; i--) work.push([n.children[i]!, ul]);
  }
  const dropped = r.report.dropped?.processes ? h('p', null, `${num(r.report.dropped.processes)} more process(es) did not fit in the process table.`) : null;
  return section(level, `${p}-procs-h`, 'Processes',
    h('p', null, 'Each interposed process under its parent, with its exit status and its share of the calls counted at sites.'),
    roots.length ? tree : h('p', null, 'No process was recorded.'), dropped);
}

// ---- comparison ---------------------------------------------------------------------

function siteKeyCols(): Column<SiteKeyRow>[] {
  return [
    { key: 'module', label: 'Module', value: (s) => s.module, rowHeader: true, cell: (s) => h('span', { class: 'path' }, s.module) },
    { key: 'offset', label: 'Offset', value: (s) => BigInt(s.offset), cell: (s) => h('code', null, s.offset) },
    { key: 'symbol', label: 'Function', value: (s) => s.symbol ?? '', cell: (s) => (s.symbol ? h('code', null, s.symbol) : h('span', { class: 'muted' }, 'unknown')) },
    { key: 'calls', label: 'Calls served', value: (s) => s.calls.join(', ') },
    { key: 'state', label: 'State', value: (s) => s.state, cell: (s) => stateText(s.state, s.reasons.join(', ')) },
    { key: 'hits', label: 'Hits', numeric: true, value: (s) => s.hits },
  ];
}

function comparison(a: PageReport, b: PageReport): HTMLElement {
  const d = diff(a, b);
  const figs = h('table', { class: 'figures', id: 'diff-figures' }, h('caption', null, 'Figures, before and after'),
    h('thead', null, h('tr', null, ['What', 'Before', 'After', 'Change'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, d.figures.map((f) => h('tr', { 'data-figure': f.label },
      h('th', { scope: 'row' }, f.label), h('td', { class: 'num' }, num(f.before)), h('td', { class: 'num' }, num(f.after)),
      h('td', { class: 'num' }, f.after === f.before ? 'same' : `${f.after > f.before ? '+' : '−'}${num(Math.abs(f.after - f.before))}`)))));
  type Moved = { before: SiteKeyRow; after: SiteKeyRow };
  const movedCols: Column<Moved>[] = [
    { key: 'module', label: 'Module', value: (m) => m.after.module, rowHeader: true, cell: (m) => h('span', { class: 'path' }, m.after.module) },
    { key: 'offset', label: 'Offset', value: (m) => BigInt(m.after.offset), cell: (m) => h('code', null, m.after.offset) },
    { key: 'symbol', label: 'Function', value: (m) => m.after.symbol ?? '', cell: (m) => (m.after.symbol ? h('code', null, m.after.symbol) : h('span', { class: 'muted' }, 'unknown')) },
    { key: 'before', label: 'Before', value: (m) => m.before.state, cell: (m) => stateText(m.before.state, m.before.reasons.join(', ')) },
    { key: 'after', label: 'After', value: (m) => m.after.state, cell: (m) => stateText(m.after.state, m.after.reasons.join(', ')) },
    { key: 'hits', label: 'Hits after', numeric: true, value: (m) => m.after.hits },
  ];
  const callCols: Column<CallRow>[] = [
    { key: 'name', label: 'System call', value: (c) => c.name, rowHeader: true },
    { key: 'calls', label: 'Calls', numeric: true, value: (c) => c.calls },
    { key: 'trap', label: 'By trap', numeric: true, value: (c) => c.trap },
    { key: 'fast', label: 'By fast path', numeric: true, value: (c) => c.fast },
  ];
  type Delta = Diff['calls'][number];
  const deltaCols: Column<Delta>[] = [
    { key: 'name', label: 'System call', value: (c) => c.name, rowHeader: true },
    { key: 'before', label: 'Before', numeric: true, value: (c) => c.before },
    { key: 'after', label: 'After', numeric: true, value: (c) => c.after },
    { key: 'delta', label: 'Change', numeric: true, value: (c) => c.delta, cell: (c) => (c.delta === 0 ? 'same' : `${c.delta > 0 ? '+' : '−'}${num(Math.abs(c.delta))}`) },
  ];
  const sub = (id: string, title: string, ...body: Child[]) => section(3, id, title, ...body);
  return h('section', { 'aria-labelledby': 'diff-h' },
    heading(2, 'What changed', 'diff-h'),
    h('p', null, `From ${a.label} (before) to ${b.label} (after). Sites are matched by module file and offset, across processes: addresses and process ids differ from run to run.`),
    figs,
    sub('diff-new-h', `New sites (${num(d.newSites.length)})`, sortableTable({ id: 'diff-new', caption: 'Sites only the second run has', columns: siteKeyCols(), rows: d.newSites, pageSize: 50, empty: 'No new site.' }).element),
    sub('diff-left-h', `Sites that left the trap path (${num(d.leftTrap.length)})`, sortableTable({ id: 'diff-left', caption: 'Trapping before, not after', columns: movedCols, rows: d.leftTrap, pageSize: 50, empty: 'No site left the trap path.' }).element),
    sub('diff-joined-h', `Sites that joined the trap path (${num(d.joinedTrap.length)})`, sortableTable({ id: 'diff-joined', caption: 'Not trapping before, trapping after', columns: movedCols, rows: d.joinedTrap, pageSize: 50, empty: 'No site joined the trap path.' }).element),
    sub('diff-gone-h', `Sites gone (${num(d.goneSites.length)})`, sortableTable({ id: 'diff-gone', caption: 'Sites only the first run has', columns: siteKeyCols(), rows: d.goneSites, pageSize: 50, empty: 'No site is gone.' }).element),
    sub('diff-appeared-h', `Calls that appeared (${num(d.callsAppeared.length)})`, sortableTable({ id: 'diff-appeared', caption: 'System calls only the second run made', columns: callCols, rows: d.callsAppeared, empty: 'No new system call.' }).element),
    sub('diff-vanished-h', `Calls that disappeared (${num(d.callsGone.length)})`, sortableTable({ id: 'diff-vanished', caption: 'System calls only the first run made', columns: callCols, rows: d.callsGone, empty: 'No system call disappeared.' }).element),
    sub('diff-calls-h', 'Calls, before and after', sortableTable({ id: 'diff-calls', caption: 'Calls per system call in both runs', columns: deltaCols, rows: d.calls }).element),
  );
}

type Diff = ReturnType<typeof diff>;

try {
  main();
} catch (e) {
  const root = document.getElementById('main');
  root?.append(h('p', { role: 'alert' }, `The report could not be drawn: ${(e as Error).message}`));
  throw e;
}
