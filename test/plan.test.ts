// Issue "Verified rewrite plans": eager rewriting from plans (scanned or learned), the
// plan cache, the rewrite policies, and sites that straddle a cache line.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError, libraryPath, readPlanFile, scanFile, spawn, type StatsSnapshot } from '../ts/src/index.js';
import { parseElf } from '../ts/src/elf.js';
import { hookLibrary, nrStats, run, testProgram, trapline, runApi, withoutModeNote } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'trapline-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string) => join(tmp, `${seq++}-${name}`);
/** Program output with pids (which differ between runs) blanked. */
const shape = (out: string) => out.replace(/\d+/g, 'N');

const GETPID = 39;
const GETPPID = 110;
const EXIT_GROUP = 231;
const scanme = testProgram('scanme');
const count = testProgram('count');

/** Site records of one file, keyed by file offset. */
function sitesIn(s: StatsSnapshot, path: string) {
  return new Map(s.sites.filter((x) => x.module !== null && s.modules[x.module]!.path === path).map((x) => [Number(BigInt(x.offset)), x]));
}

/** File offset of a function symbol's first byte + delta. */
function symOffset(file: string, name: string, delta = 0): number {
  const elf = parseElf(readFileSync(file));
  const sym = elf.symbols.find((s) => s.name === name);
  if (!sym) throw new Error(`no symbol ${name}`);
  return elf.vaddrToOffset(sym.value)! + delta;
}

describe('eager rewriting from a scanned plan', () => {
  const plan = fresh('scanme.plan');

  it('trapline scan --plan writes the confirmed syscall sites; a run with it has zero traps at them', async () => {
    const sc = await trapline(['scan', '--plan', plan, scanme]);
    expect(sc.code, sc.stderr).toBe(0);
    const confirmed = scanFile(scanme).sites.filter((s) => s.class === 'confirmed' && s.insn === 'syscall').map((s) => s.offset);
    const p = readPlanFile(plan);
    const mod = [...p.modules.values()][0]!;
    expect([...mod.sites.keys()].sort()).toEqual([...confirmed].sort());
    expect([...mod.sites.values()].every((v) => v === 'confirmed')).toBe(true);

    const native = await run(scanme, ['5'], { mode: 'native' });
    const r = await run(scanme, ['5'], { env: { TRAPLINE_PLAN: plan } });
    expect(shape(r.stdout)).toBe(shape(native.stdout));
    expect(r.code).toBe(0);
    const s = r.stats!;
    expect(s.planUsed).toBe(true);
    expect(s.planRewritten).toBe(confirmed.length);
    const sites = sitesIn(s, scanme);
    const plain = sites.get(symOffset(scanme, 'site_plain', 5))!;  // b8 27 00 00 00 | 0f 05
    expect(plain).toMatchObject({ state: 'rewritten', source: 'plan-confirmed', trapHits: 0, fastHits: 5, nrs: [GETPID] });
    for (const off of confirmed) expect(sites.get(off)).toMatchObject({ trapHits: 0, source: 'plan-confirmed', state: 'rewritten' });
    // the red-zone site is not in the plan: it traps, and the core's red-zone rule (the
    // scanner's) keeps it on the trap path under policy all too
    const learned = [...sites.values()].filter((x) => x.source === 'learned');
    expect(learned).toHaveLength(1);
    expect(learned[0]).toMatchObject({ trapHits: 1, state: 'trapping', reason: 'redzone', fastHits: 0 });
  });

  it('--rewrite verified keeps every unconfirmed site on the trap path: the red-zone site is refused, its red zone survives', async () => {
    const native = await run(scanme, ['3'], { mode: 'native' });
    const r = await run(scanme, ['3'], { env: { TRAPLINE_PLAN: plan, TRAPLINE_REWRITE: 'verified' } });
    expect(shape(r.stdout)).toBe(shape(native.stdout));
    const s = r.stats!;
    expect(s.policy).toBe('verified');
    const refused = [...sitesIn(s, scanme).values()].filter((x) => x.source === 'learned');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ state: 'trapping', reason: 'policy', fastHits: 0 });
    expect(s.policyRefused).toBeGreaterThanOrEqual(1);
    // libc's sites are not in this plan: under verified they all trap, every call
    const libc = s.sites.filter((x) => x.module !== null && s.modules[x.module]!.path.includes('libc.so'));
    expect(libc.length).toBeGreaterThan(0);
    expect(libc.every((x) => x.state === 'trapping' && x.reason === 'policy' && x.fastHits === 0)).toBe(true);
  });

  it('a plan site whose bytes are not 0f 05 is skipped and counted, never written', async () => {
    const bad = fresh('bad-offset.plan');
    const id = scanFile(scanme).buildId!;
    const off = symOffset(scanme, 'site_plain', 6);   // the 05 of 0f 05: bytes 05 c3
    writeFileSync(bad, `trapline-plan 1\nmodule ${id} ${scanme}\n${off.toString(16)} confirmed\n`);
    const r = await run(scanme, ['2'], { env: { TRAPLINE_PLAN: bad } });
    expect(shape(r.stdout)).toBe(shape((await run(scanme, ['2'], { mode: 'native' })).stdout));
    expect(r.stats!.planSkipped).toBe(1);
    expect(r.stats!.planRewritten).toBe(0);
    expect(sitesIn(r.stats!, scanme).get(off)).toMatchObject({ state: 'skipped', reason: 'plan-mismatch', fastHits: 0, trapHits: 0 });
  });

  it('without a statistics file the plan still applies (private counters): same output', async () => {
    const r = await run(scanme, ['4'], { mode: 'raw', env: { TRAPLINE_PLAN: plan } });
    expect(shape(r.stdout)).toBe(shape((await run(scanme, ['4'], { mode: 'native' })).stdout));
    expect(r.code).toBe(0);
  });
});

describe('plans and the red-zone rule', () => {
  it('plan sites whose code uses the red zone are not rewritten (learned or confirmed): skipped, then trapping, reason redzone', async () => {
    const prog = testProgram('rzforms');
    const lib = hookLibrary('rzlib');
    const scan = scanFile(prog);
    const sites = scan.sites.filter((x) => x.insn === 'syscall' && x.function?.startsWith('rz_'));
    expect(sites).toHaveLength(7);
    // a plan naming all seven: the red-zone ones as learned (an older trapline learned them)
    // and, hand-edited, as confirmed
    for (const source of ['learned', 'confirmed']) {
      const plan = fresh(`rzforms-${source}.plan`);
      writeFileSync(plan, `trapline-plan 1\nmodule ${scan.buildId} ${prog}\n${sites.map((x) => `${x.offset.toString(16)} ${source}`).join('\n')}\n`);
      const native = await run(prog, [lib], { mode: 'native' });
      const r = await run(prog, [lib], { mode: 'lazy', env: { TRAPLINE_PLAN: plan } });
      expect(r.code).toBe(0);
      const strip = (out: string) => out.split('\n').map((l) => l.split(' ').slice(0, 3).join(' ')).join('\n');
      expect(strip(r.stdout)).toBe(strip(native.stdout));
      const recs = sitesIn(r.stats!, prog);
      const src = source === 'learned' ? 'plan-learned' : 'plan-confirmed';
      for (const x of sites) {
        const rec = recs.get(x.offset)!;
        if (x.class === 'redzone') expect(rec, x.function!).toMatchObject({ source: src, state: 'trapping', reason: 'redzone', trapHits: 3, fastHits: 0 });
        else expect(rec, x.function!).toMatchObject({ source: src, state: 'rewritten', trapHits: 0, fastHits: 3 });
      }
      expect(r.stats!.planRewritten).toBe(2);
      expect(r.stats!.planSkipped).toBe(5);
    }
  });

  it('run --learn does not put red-zone sites into plans', async () => {
    const plan = fresh('rz-learned.plan');
    const prog = testProgram('rzforms');
    const a = await trapline(['run', '--allow-null-reads', '--learn', plan, '--', prog, hookLibrary('rzlib')]);
    expect(a.code).toBe(0);
    const p = readPlanFile(plan);
    const scan = scanFile(prog);
    const mod = p.modules.get(scan.buildId!)!;
    const rz = scan.sites.filter((x) => x.class === 'redzone').map((x) => x.offset);
    const ok = scan.sites.filter((x) => x.class === 'confirmed' && x.function?.startsWith('rz_')).map((x) => x.offset);
    expect(rz).toHaveLength(5);
    for (const off of rz) expect(mod.sites.has(off)).toBe(false);
    for (const off of ok) expect(mod.sites.get(off)).toBe('learned');
  });
});

describe('learned plans', () => {
  it('run --learn records the executed sites; run --plan rewrites them at start-up: no trap but the exit', async () => {
    const plan = fresh('count.plan');
    const a = await trapline(['run', '--allow-null-reads', '--learn', plan, '--', count, '1000']);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/^trapline: learned \d+ sites in \d+ modules into /m);
    const report = fresh('r.json');
    const b = await trapline(['run', '--allow-null-reads', '--plan', plan, '--report', report, '--summary', '--', count, '1000']);
    expect(b.code).toBe(0);
    expect(b.stderr).toMatch(/^plan: \d+ sites rewritten ahead of time, 0 skipped; rewrite policy all: 0 trapped site\(s\) refused$/m);
    expect(b.stderr).toMatch(new RegExp(`^ +4 +4 +4 +0 +0 +0 +1  main +${count}$`, 'm'));
    expect(shape(b.stdout)).toBe(shape(a.stdout));
    const s = JSON.parse(readFileSync(report, 'utf8')) as StatsSnapshot;
    const main = [...sitesIn(s, count).values()];
    expect(main).toHaveLength(4);
    expect(main.every((x) => x.source === 'plan-learned' && x.trapHits === 0)).toBe(true);
    expect(main.reduce((n, x) => n + x.fastHits, 0)).toBe(1000);
    expect(nrStats(s, GETPPID)).toEqual({ trap: 0, fast: 1000, errors: 0 });
    // every site this program runs was learned, libc's too, but the one whose only call
    // ended the process: a plan leaves it out (lazy mode does not rewrite it either)
    expect(nrStats(s, EXIT_GROUP).trap).toBe(1);
    expect(s.total.trap).toBe(1);
  });

  it('a dlopen\'d library matching the plan by build-id is rewritten when it is mapped', async () => {
    const plan = fresh('dl.plan');
    const lib = hookLibrary('dlsite');
    const a = await trapline(['run', '--allow-null-reads', '--learn', plan, '--', testProgram('dlsite'), lib, '50']);
    expect(a.code).toBe(0);
    const id = parseElf(readFileSync(lib)).buildId!;
    expect(readPlanFile(plan).modules.get(id)?.sites.size).toBe(1);
    const r = await run(testProgram('dlsite'), [lib, '50'], { env: { TRAPLINE_PLAN: plan } });
    expect(r.stdout).toBe('ok\n');
    const site = [...sitesIn(r.stats!, lib).values()];
    expect(site).toHaveLength(1);
    expect(site[0]).toMatchObject({ source: 'plan-learned', trapHits: 0, fastHits: 50, state: 'rewritten' });
    expect(r.stats!.modules[site[0]!.module!]!.origin).toBe('dlopen');
  });

  it('verified refuses learned plan sites; none rewrites nothing; the program is unaffected', async () => {
    const plan = fresh('count2.plan');
    await trapline(['run', '--allow-null-reads', '--learn', plan, '--', count, '10']);
    for (const policy of ['verified', 'none'] as const) {
      const r = await run(count, ['200'], { env: { TRAPLINE_PLAN: plan, TRAPLINE_REWRITE: policy } });
      expect(r.stdout).toMatch(/^ok \d+\n$/);
      const s = r.stats!;
      expect(s.planRewritten).toBe(0);
      expect(s.planSkipped).toBeGreaterThanOrEqual(4);
      const main = [...sitesIn(s, count).values()];
      expect(main.every((x) => x.state === 'trapping' && x.reason === 'policy' && x.source === 'plan-learned')).toBe(true);
      expect(nrStats(s, GETPPID)).toEqual({ trap: 200, fast: 0, errors: 0 });
    }
  });

  it('--plan auto: the first run learns into the cache (one file per build-id), the next starts eager', async () => {
    const cache = fresh('cache');
    const env = { TRAPLINE_PLAN_CACHE: cache };
    const a = await trapline(['run', '--allow-null-reads', '--plan', 'auto', '--', count, '100'], env);
    expect(a.code).toBe(0);
    const id = parseElf(readFileSync(count)).buildId!;
    expect(existsSync(join(cache, `${id}.plan`))).toBe(true);
    const report = fresh('auto.json');
    const b = await trapline(['run', '--allow-null-reads', '--mode', 'eager', '--report', report, '--', count, '100'], env);
    expect(b.code).toBe(0);
    const s = JSON.parse(readFileSync(report, 'utf8')) as StatsSnapshot;
    expect([...sitesIn(s, count).values()].every((x) => x.trapHits === 0 && x.source === 'plan-learned')).toBe(true);
  });
});

describe('TypeScript API', () => {
  it('run() with learn, then with plan: the second run has no traps in the program', async () => {
    const plan = fresh('api.plan');
    const a = await runApi(count, ['100'], { stdio: 'pipe', learn: plan, allowNullReads: true });
    expect(a.code).toBe(0);
    const b = await runApi(count, ['100'], { stdio: 'pipe', plan, rewrite: 'all', allowNullReads: true });
    expect(b.coverage!.planUsed).toBe(true);
    expect([...sitesIn(b.coverage!, count).values()].every((x) => x.trapHits === 0 && x.source === 'plan-learned')).toBe(true);
  });

  it('learning that fails after the run: a PlanError carrying the exit (API); one line and status 1 (CLI)', async () => {
    // the program removes the directory the plan goes to: the check before launch passed
    const d = fresh('gone');
    mkdirSync(d);
    const learn = join(d, 'p.plan');
    const rm = ['-c', `rmdir '${d}'`];
    await expect(runApi('sh', rm, { stdio: 'pipe', learn })).rejects.toMatchObject({
      code: 'ERR_TRAPLINE_PLAN', fsCode: 'ENOENT', exit: { code: 0, interposed: true },
    });
    mkdirSync(d);
    const r = await trapline(['run', '--learn', learn, '--', 'sh', ...rm]);
    expect(r.code).toBe(1);
    expect(withoutModeNote(r.stderr)).toMatch(/^trapline: \S+p\.plan: cannot write: no such file\n$/);
  });

  it('bad plan options are thrown before launch, naming the option', () => {
    const bad = (option: string) => expect.objectContaining({ code: 'ERR_TRAPLINE_OPTION', option });
    const thrown = (f: () => unknown) => { try { f(); } catch (e) { return e; } return undefined; };
    expect(thrown(() => spawn(count, [], { rewrite: 'most' as never }))).toBeInstanceOf(OptionError);
    expect(thrown(() => spawn(count, [], { rewrite: 'most' as never }))).toEqual(bad('rewrite'));
    expect(thrown(() => spawn(count, [], { learn: fresh('x.plan'), stats: false }))).toEqual(bad('learn'));
    expect(thrown(() => spawn(count, [], { plan: join(tmp, 'missing.plan') }))).toEqual(bad('plan'));
    expect(thrown(() => spawn(count, [], { mode: 'fast' as never }))).toEqual(bad('mode'));
  });
});

describe('bad plans and policies', () => {
  it('a malformed plan is one line naming file and line, exit 2, before the program runs', async () => {
    const bad = fresh('bad.plan');
    writeFileSync(bad, 'trapline-plan 1\nmodule zz /x\n');
    const c = await trapline(['run', '--allow-null-reads', '--plan', bad, '--', count, '10']);
    expect(c.code).toBe(2);
    expect(c.stdout).toBe('');
    expect(c.stderr).toMatch(new RegExp(`^trapline: --plan: ${bad}:2: .*\\n$`));
    // the same file given to the library directly
    const r = await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_PLAN: bad } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^trapline: TRAPLINE_PLAN: .* line 2: bad build-id.*\n$/);
    const missing = await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_PLAN: join(tmp, 'nope.plan') } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file\n$/);
  });

  // a plan directory the program may search but not list (mode 0111) is still a directory:
  // the library opens the path first (a file is read at once) and, refused, asks stat
  it('a plan directory without read permission is used, not refused', (ctx) => {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
    if (process.geteuid?.() !== 0 || setpriv === undefined) ctx.skip();
    const top = mkdtempSync(join(tmpdir(), 'trapline-plandir-'));
    try {
      chmodSync(top, 0o755);
      const dir = join(top, 'plans');
      mkdirSync(dir, { mode: 0o111 });
      chmodSync(dir, 0o111);
      const env = { PATH: process.env.PATH, LD_PRELOAD: libraryPath(), TRAPLINE_MODE: 'sud-only', TRAPLINE_PLAN: dir };
      const r = spawnSync(setpriv!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', count, '3'], { env, encoding: 'utf8' });
      const native = spawnSync(count, ['3'], { encoding: 'utf8' });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: native.stdout, stderr: '' });
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  it('a bad --rewrite or TRAPLINE_REWRITE is refused with one line', async () => {
    const c = await trapline(['run', '--allow-null-reads', '--rewrite', 'some', '--', count, '10']);
    expect(c.code).toBe(2);
    expect(c.stderr).toBe("trapline: --rewrite: must be all, verified or none, not 'some'\n");
    const r = await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_REWRITE: 'some' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^trapline: TRAPLINE_REWRITE: some is not a rewrite policy/);
  });

  it('a corrupt file in the plan cache is ignored with a warning; the program runs lazily', async () => {
    const cache = fresh('badcache');
    const id = parseElf(readFileSync(count)).buildId!;
    await trapline(['run', '--allow-null-reads', '--plan', 'auto', '--', count, '10'], { TRAPLINE_PLAN_CACHE: cache });
    writeFileSync(join(cache, `${id}.plan`), 'garbage\n');
    const r = await run(count, ['100'], { env: { TRAPLINE_PLAN: cache } });
    expect(r.stdout).toMatch(/^ok \d+\n$/);
    expect(r.stderr).toMatch(/warning: plan .*\.plan line 1: not a trapline plan/);
    expect(nrStats(r.stats, GETPPID)).toEqual({ trap: 4, fast: 96, errors: 0 });
  });
});

describe('a syscall whose two bytes straddle a cache line (glibc __open64_nocancel)', () => {
  const straddling = (s: StatsSnapshot) => s.sites.filter((x) => (Number(BigInt(x.addr)) & 63) === 63);

  it('single-threaded: rewritten at its first trap', async () => {
    const r = await run(testProgram('straddle'), ['single']);
    expect(r.stdout).toMatch(/^ok \d+\n$/);
    const s = straddling(r.stats!);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ state: 'rewritten', trapHits: 1, fastHits: 1 });
  });

  it('with a second thread alive it stays on the trap path; once alone again it is rewritten', async () => {
    const r = await run(testProgram('straddle'), ['threaded']);
    expect(r.stdout).toMatch(/^ok \d+\n$/);
    const s = straddling(r.stats!);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ state: 'rewritten', trapHits: 2, fastHits: 0 });
  });
});

describe('the statistics file says where sites came from', () => {
  it('without a plan: policy all, no plan counters, every site learned', async () => {
    const r = await run(count, ['10']);
    expect(r.stats!.planUsed).toBe(false);
    expect(r.stats!.policy).toBe('all');
    expect(r.stats!.planRewritten).toBe(0);
    expect([...sitesIn(r.stats!, count).values()].every((x) => x.source === 'learned')).toBe(true);
  });
});
