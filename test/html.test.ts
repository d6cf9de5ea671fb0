// Issue "trapline report --html": the page, opened in headless Chromium (Debian's
// chromium, driven by puppeteer-core), checked for what a person sees: the header figures
// of real runs against their JSON reports, sorting by mouse and keyboard, the comparison
// of two runs that differ, a 10,000-site report, no console errors and no request.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReport, modeLine } from '../ts/src/report.js';
import { scanFile } from '../ts/src/scan.js';
import { nrName, type SiteInfo, type StatsSnapshot } from '../ts/src/stats.js';
import { testProgram, trapline } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  // .ci/run installs it; anywhere else, say why these tests do not run
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  console.log(`note: ${CHROMIUM} is missing (apt-get install chromium): the HTML report tests are skipped`);
}

const tmp = mkdtempSync(join(tmpdir(), 'trapline-html-'));
let browser: Browser | undefined;
beforeAll(async () => {
  if (haveBrowser) browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every request but the page's own file. */
  requests: string[];
}

/** Opens a page file and waits until the script has drawn it. */
async function open(file: string): Promise<Opened> {
  const page = await browser!.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== `file://${file}`) requests.push(r.url()); });
  await page.goto(`file://${file}`);
  await page.waitForSelector('main[data-ready]');
  return { page, errors, requests };
}

/** "12,345" -> 12345 */
const n = (s: string | undefined) => Number((s ?? '').replace(/,/g, ''));

/** The header table of a report section: figure key -> shown value. */
async function figures(page: Page, prefix: string): Promise<Record<string, string>> {
  return Object.fromEntries(await page.$$eval(`#${prefix}-figures tr[data-figure]`, (rows) =>
    rows.map((r) => [r.getAttribute("data-figure")!, r.querySelector('td.value')!.textContent!])));
}

/** The cells of a table's body rows, by the text of its column headers. */
async function tableRows(page: Page, id: string): Promise<Record<string, string>[]> {
  return page.$eval(`#${id} table`, (t) => {
    const heads = [...t.querySelectorAll('thead th')].map((th) => th.textContent!.replace(/[▲▼↕]/g, '').trim());
    return [...t.querySelectorAll('tbody tr')].map((tr) =>
      Object.fromEntries([...tr.children].map((c, i) => [heads[i]!, (c.textContent ?? '').trim()])));
  });
}

const htmlData = (file: string) => {
  const m = /<script type="application\/json" id="trapline-data">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'));
  return JSON.parse(m![1]!) as { reports: { label: string; report: StatsSnapshot }[] };
};

describe.runIf(haveBrowser)('trapline report --html', () => {
  let json: string;
  let page: string;
  let report: StatsSnapshot;

  it('run --html: the header of a real run\'s page shows the figures of its JSON report', async () => {
    json = join(tmp, 'run.json');
    page = join(tmp, 'run.html');
    const r = await trapline(['run', '--report', json, '--html', page, '--', testProgram('htmlcmp'), '100', 'more']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok\n');
    report = loadReport(json);
    // the page carries the very report --report wrote
    expect(htmlData(page).reports[0]!.report).toEqual(report);

    const { page: p, errors, requests } = await open(page);
    const f = await figures(p, 'a');
    expect(f.mode).toBe(modeLine(report));
    expect(report.entry).toBe('first-instruction');   // the launcher's default
    expect(f.entry).toBe('yes');
    expect(n(f.calls)).toBe(report.total.trap + report.total.fast);
    expect(n(f.trap)).toBe(report.total.trap);
    expect(n(f.fast)).toBe(report.total.fast);
    expect(n(f.processes)).toBe(report.processes);
    expect(n(f.sites)).toBe(report.sites.length);
    expect(n(f.rewritten)).toBe(report.sitesRewritten);
    expect(n(f.trapping)).toBe(report.sitesTrapping);
    expect(n(f.stale)).toBe(report.sitesStale);
    expect(f.dropped).toBe('nothing');
    const verdict = await p.$eval('#a-verdict', (e) => e.textContent!);
    expect(verdict).toContain(`${(report.total.trap + report.total.fast).toLocaleString('en-US')} system calls`);

    // per syscall: sched_yield, 100 calls, all of them the program's
    const calls = await tableRows(p, 'a-calls');
    expect(calls.find((c) => c['System call'] === 'sched_yield')).toMatchObject({ Calls: '100', Errors: '0' });
    expect(calls.reduce((a, c) => a + n(c.Calls), 0)).toBe(report.total.trap + report.total.fast);

    // per module: the program, origin main, its two sites
    const mods = await tableRows(p, 'a-modules');
    expect(mods.find((m) => m.Module === testProgram('htmlcmp'))).toMatchObject({ Origin: 'main', Sites: '2', Calls: '200' });

    // per site: the symbol from the ELF file, and the syscall instruction in the disassembly
    const sites = await tableRows(p, 'a-sites');
    const yieldSite = sites.find((x) => x.Function === 'htmlcmp_yield');
    expect(yieldSite).toMatchObject({ 'Calls served': 'sched_yield', Hits: '100' });
    expect(yieldSite!['Module + offset']).toMatch(/^htmlcmp\+0x[0-9a-f]+$/);
    expect(yieldSite!.Instructions).toContain('syscall');
    const insns = await p.$$eval('#a-sites tbody tr', (rows) => rows.filter((r) => r.textContent!.includes('htmlcmp_yield'))
      .map((r) => r.querySelector('pre.insns')!.textContent!));
    expect(insns[0]).toMatch(/⇒ 0x[0-9a-f]+: syscall\n/);
    expect(insns[0]!.split('\n').filter(Boolean).length).toBeGreaterThan(2);

    // per process: the program, exited 0, every call counted at its sites
    const proc = await p.$eval(`#a-tree li[data-pid="${report.processList[0]!.pid}"]`, (e) => e.textContent!);
    expect(proc).toContain(testProgram('htmlcmp'));
    expect(proc).toContain('exited 0');
    expect(proc).toContain('(100.0%)');

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await p.close();
  });

  it('is accessible: one h1, no skipped heading level, header cells, described charts', async () => {
    const { page: p, errors } = await open(page);
    const levels = await p.$$eval('h1, h2, h3, h4, h5, h6', (hs) => hs.map((x) => Number(x.tagName[1])));
    expect(levels.filter((l) => l === 1)).toHaveLength(1);
    expect(levels[0]).toBe(1);
    for (let i = 1; i < levels.length; i++) expect(levels[i]!).toBeLessThanOrEqual(levels[i - 1]! + 1);
    // every data table: a caption, column headers, a row header in each row
    const tables = await p.$$eval('table', (ts) => ts.map((t) => ({
      caption: !!t.querySelector('caption'),
      cols: t.querySelectorAll('thead th[scope=col]').length,
      rows: t.querySelectorAll('tbody tr').length,
      rowHeads: t.querySelectorAll('tbody th[scope=row]').length,
    })));
    expect(tables.length).toBeGreaterThanOrEqual(4);
    for (const t of tables) {
      expect(t.caption && t.cols > 0).toBe(true);
      expect(t.rowHeads).toBe(t.rows);
    }
    // sorting controls are buttons (focusable, Enter and Space work)
    expect(await p.$$eval('th button.sort', (bs) => bs.every((b) => b.tagName === 'BUTTON'))).toBe(true);
    // charts: a described image, a legend in words, each series drawn with a fill pattern
    await p.waitForSelector('#a-calls-chart svg .ct-bar');
    const chart = await p.$eval('#a-calls-chart', (c) => ({
      role: c.getAttribute('role'), label: c.getAttribute('aria-label'),
      series: [...c.querySelectorAll('.ct-series')].map((g) => g.getAttribute('class')),
      legend: c.parentElement!.querySelector('.legend')!.textContent,
    }));
    expect(chart.role).toBe('img');
    expect(chart.label).toMatch(/^Most frequent system calls: \w+ \d/);
    expect(chart.series.every((cls) => /pat-\w+/.test(String(cls)))).toBe(true);
    expect(chart.legend).toContain('by trap');
    expect(errors).toEqual([]);
    await p.close();
  });

  it('sorts by a click and from the keyboard (Enter, Space), and says so with aria-sort', async () => {
    const { page: p, errors } = await open(page);
    const col = async (name: string) => (await tableRows(p, 'a-calls')).map((r) => r[name]!);
    const sortState = (key: string) => p.$eval(`#a-calls th:has(button[data-key="${key}"])`, (th) => th.getAttribute('aria-sort'));
    // initially most calls first
    expect(await sortState('calls')).toBe('descending');
    const desc = (await col('Calls')).map(n);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    // a click on Calls: fewest first
    await p.click('#a-calls button[data-key="calls"]');
    expect(await sortState('calls')).toBe('ascending');
    const asc = (await col('Calls')).map(n);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    // keyboard: focus the System call header, Enter sorts by name A-Z, Space Z-A
    await p.focus('#a-calls button[data-key="name"]');
    await p.keyboard.press('Enter');
    expect(await sortState('name')).toBe('ascending');
    expect(await sortState('calls')).toBeNull();
    const names = await col('System call');
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    await p.keyboard.press('Space');
    expect(await sortState('name')).toBe('descending');
    expect(await col('System call')).toEqual([...names].reverse());
    // the sites table sorts by address as a number, not as text
    await p.click('#a-sites button[data-key="addr"]');
    const addrs = (await tableRows(p, 'a-sites')).map((r) => BigInt(r.Address!));
    expect(addrs).toEqual([...addrs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(errors).toEqual([]);
    await p.close();
  });

  it('compares two real runs: new sites, sites that left the trap path, calls that appeared', async () => {
    // before: nothing rewritten (--rewrite none: every site traps, reason policy), getppid
    // only; after: sites rewritten, and the program's "more" adds sched_yield at a new site
    const a = join(tmp, 'before.json');
    const b = join(tmp, 'after.json');
    expect((await trapline(['run', '--allow-null-reads', '--rewrite', 'none', '--report', a, '--', testProgram('htmlcmp'), '50'])).code).toBe(0);
    expect((await trapline(['run', '--allow-null-reads', '--report', b, '--', testProgram('htmlcmp'), '50', 'more'])).code).toBe(0);
    const out = join(tmp, 'compare.html');
    const r = await trapline(['report', '--html', out, a, b]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
    const before = loadReport(a);
    const after = loadReport(b);

    const { page: p, errors, requests } = await open(out);
    expect(await p.$eval('h1', (e) => e.textContent)).toBe('Comparison of two trapline runs');
    const prog = testProgram('htmlcmp');
    const newSites = await tableRows(p, 'diff-new');
    expect(newSites).toEqual([expect.objectContaining({ Module: prog, Function: 'htmlcmp_yield', 'Calls served': 'sched_yield', State: 'rewritten', Hits: '50' })]);
    const left = await tableRows(p, 'diff-left');
    expect(left).toContainEqual(expect.objectContaining({ Module: prog, Function: 'htmlcmp_getppid', Before: 'trapping: policy', After: 'rewritten' }));
    // every site of the first run trapped; each one the second run rewrote left the trap path
    const rewrittenAfter = new Set(after.sites.filter((x) => x.state === 'rewritten').map((x) => `${after.modules[x.module!]!.path}@${x.offset}`));
    const trappedBefore = new Set(before.sites.map((x) => `${before.modules[x.module!]!.path}@${x.offset}`));
    expect(left.length).toBe([...trappedBefore].filter((k) => rewrittenAfter.has(k)).length);
    const appeared = await tableRows(p, 'diff-appeared');
    expect(appeared).toContainEqual(expect.objectContaining({ 'System call': 'sched_yield', Calls: '50' }));
    expect(appeared.every((c) => !before.perNr.some((x) => nrName(x.nr) === c['System call']))).toBe(true);
    expect(await tableRows(p, 'diff-joined')).toEqual([]);
    expect(await p.$eval('#diff-joined .empty', (e) => e.textContent)).toBe('No site joined the trap path.');
    // the figures, before and after
    const figs = Object.fromEntries(await p.$$eval('#diff-figures tr[data-figure]', (rows) =>
      rows.map((row) => [row.getAttribute("data-figure")!, [...row.querySelectorAll('td')].map((td) => td.textContent!)])));
    expect(figs['sites trapping']!.slice(0, 2).map(n)).toEqual([before.sitesTrapping, after.sitesTrapping]);
    expect(figs['calls by the fast path']!.slice(0, 2).map(n)).toEqual([before.total.fast, after.total.fast]);
    // then the second run in detail
    expect(n((await figures(p, 'b')).calls)).toBe(after.total.trap + after.total.fast);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await p.close();
  });

  it('a report from elsewhere: a module file with another build-id is not disassembled; a long process chain nests', async () => {
    const moved: StatsSnapshot = JSON.parse(JSON.stringify(report));
    const prog = moved.modules.findIndex((m) => m.path === testProgram('htmlcmp'));
    moved.modules[prog]!.buildId = 'ab'.repeat(20);
    // 300 processes, each the child of the one before
    moved.processList = Array.from({ length: 300 }, (_, i) => ({ ...report.processList[0]!, pid: 1000 + i, ppid: 999 + i, startMs: report.startMs + i }));
    const file = join(tmp, 'moved.json');
    writeFileSync(file, JSON.stringify(moved));
    const out = join(tmp, 'moved.html');
    expect((await trapline(['report', '--html', out, file])).code).toBe(0);
    const { page: p, errors } = await open(out);
    const sites = await tableRows(p, 'a-sites');
    const mine = sites.filter((x) => x['Module + offset']!.startsWith('htmlcmp+'));
    expect(mine).toHaveLength(2);
    for (const x of mine) {
      expect(x.Function).toBe('unknown');
      expect(x.Instructions).toBe(`the file now has another build-id (${report.modules[prog]!.buildId}): it changed since the run`);
    }
    expect(sites.filter((x) => x.Function !== 'unknown').length).toBe(sites.length - 2);   // libc's are still named
    expect(await p.$$eval('#a-tree li', (li) => li.length)).toBe(300);
    expect(await p.$eval('#a-tree li[data-pid="1299"]', (li) => { let d = 0; for (let e = li.parentElement; e && e.id !== 'a-tree'; e = e.parentElement) if (e.tagName === 'UL') d++; return d; })).toBe(299);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('a 10,000-site report: renders, pages through its sites, filters them', async () => {
    const big = syntheticReport(report, 10_000);
    const file = join(tmp, 'big.json');
    writeFileSync(file, JSON.stringify(big));
    expect(loadReport(file).sites).toHaveLength(10_000);   // a report the CLI accepts
    const out = join(tmp, 'big.html');
    const r = await trapline(['report', '--html', out, file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const { page: p, errors, requests } = await open(out);
    const f = await figures(p, 'a');
    expect(f.sites).toBe('10,000');
    expect(n(f.calls)).toBe(big.total.trap + big.total.fast);
    expect(n(f.trapping)).toBe(big.sitesTrapping);
    const status = () => p.$eval('#a-sites .pager-status', (e) => e.textContent);
    expect(await status()).toBe('Rows 1–50 of 10,000, page 1 of 200');
    expect(await p.$$eval('#a-sites tbody tr', (rows) => rows.length)).toBe(50);
    await p.click('#a-sites .pager button:nth-child(4)');   // Last
    expect(await status()).toBe('Rows 9,951–10,000 of 10,000, page 200 of 200');
    await p.select('#a-site-state', 'trapping');
    const trapping = big.sites.filter((x) => x.state === 'trapping').length;
    expect(await status()).toBe(`Rows 1–50 of ${trapping.toLocaleString('en-US')} (10,000 in all), page 1 of ${Math.ceil(trapping / 50)}`);
    expect(new Set((await tableRows(p, 'a-sites')).map((x) => x.State!.split(':')[0]))).toEqual(new Set(['trapping']));
    // the process tree: 20 processes, every child under the first
    expect(await p.$$eval('#a-tree > li > ul > li', (li) => li.length)).toBe(19);
    expect(await p.$eval('#a-tree', (t) => t.textContent)).toContain('killed by signal 9 (SIGKILL)');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await p.close();
  });
});

describe('trapline report --html: bad input', () => {
  it('is one line and a non-zero status, and writes nothing', async () => {
    const out = join(tmp, 'never.html');
    const cases: [string[], number, RegExp][] = [
      [['report', '--html', out, join(tmp, 'missing.json')], 1, /^trapline: report .*missing\.json: cannot read \(ENOENT\)$/],
      [['report', '--html', out], 2, /expects one FILE, or two to compare/],
      [['report', '--html', out, 'a', 'b', 'c'], 2, /expects one FILE, or two to compare/],
      [['report', '--json', '--html', out, 'a'], 2, /--json and --html exclude each other/],
      [['report', '--html', join(tmp, 'no', 'dir.html'), 'a'], 2, /^trapline: --html: .*dir\.html: directory .*: no such file/],
      [['run', '--html', join(tmp, 'no', 'dir.html'), '--', 'true'], 2, /^trapline: --html: .*dir\.html: directory .*: no such file/],
      [['run', '--html=', '--', 'true'], 2, /^trapline: --html: must be a non-empty path$/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await trapline(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('--help says how', async () => {
    const r = await trapline(['report', '--help']);
    expect(r.stdout).toContain('--html OUT.html');
    expect((await trapline(['run', '--help'])).stdout).toContain('--html FILE');
  });
});

/**
 * A report of `count` sites consistent with the real format, made from a real one: the
 * same kind of header, 20 processes (children of the first), each with the real run's
 * libc loaded, and sites at libc's real syscall instructions (from a scan), in every state.
 */
function syntheticReport(real: StatsSnapshot, count: number): StatsSnapshot {
  const libc = real.modules.find((m) => m.path.endsWith('/libc.so.6'));
  expect(libc).toBeDefined();
  const offsets = scanFile(libc!.path).sites.filter((x) => x.insn === 'syscall').map((x) => x.offset);
  expect(offsets.length).toBeGreaterThan(100);
  const procs = 20;
  const perProc = count / procs;
  const processList: StatsSnapshot['processList'] = [];
  const modules: StatsSnapshot['modules'] = [];
  const sites: SiteInfo[] = [];
  const perNr = new Map<number, { trap: number; fast: number; errors: number }>();
  const nrs = [0, 1, 3, 9, 39, 110, 257, 262];
  const states: [SiteInfo['state'], SiteInfo['reason']][] = [['rewritten', 'none'], ['rewritten', 'none'], ['trapping', 'redzone'], ['trapping', 'policy'], ['stale', 'stale'], ['skipped', 'plan-mismatch']];
  for (let p = 0; p < procs; p++) {
    const pid = 50_000 + p;
    processList.push({
      pid, ppid: p === 0 ? 1 : 50_000, exitCode: p === 3 ? null : p === 5 ? null : p % 7, signal: p === 3 ? 9 : null,
      mode: real.mode, exe: real.processList[0]!.exe, startMs: real.startMs + p,
    });
    const base = 0x7f0000000000 + p * 0x10000000;
    modules.push({ index: p, pid, path: libc!.path, origin: 'startup', base: `0x${base.toString(16)}`, buildId: libc!.buildId });
    for (let i = 0; i < perProc; i++) {
      const k = p * perProc + i;
      const offset = offsets[i % offsets.length]!;
      const [state, reason] = states[k % states.length]!;
      const nr = nrs[k % nrs.length]!;
      const trapHits = state === 'skipped' ? 0 : 1 + (k % 3);
      const fastHits = state === 'rewritten' ? k % 101 : 0;
      sites.push({
        addr: `0x${(base + offset + Math.floor(i / offsets.length) * 0x100000).toString(16)}`, pid, module: p, offset: `0x${offset.toString(16)}`,
        trapHits, fastHits, nrs: state === 'skipped' ? [] : [nr], nrsOther: 0, state, reason,
        source: state === 'skipped' ? 'plan-confirmed' : 'learned',
      });
      const c = perNr.get(nr) ?? { trap: 0, fast: 0, errors: 0 };
      c.trap += trapHits;
      c.fast += fastHits;
      perNr.set(nr, c);
    }
  }
  const nrList = [...perNr].sort((a, b) => a[0] - b[0]).map(([nr, c]) => ({ nr, ...c }));
  return {
    ...real,
    perNr: nrList, otherTrap: 0, otherFast: 0, perNrI386: [], otherI386: 0,
    sitesRewritten: sites.filter((x) => x.state === 'rewritten').length,
    sitesTrapping: sites.filter((x) => x.state === 'trapping').length,
    sitesStale: sites.filter((x) => x.state === 'stale').length,
    processes: procs,
    total: { trap: nrList.reduce((a, x) => a + x.trap, 0), fast: nrList.reduce((a, x) => a + x.fast, 0) },
    processList, modules, sites,
  };
}
