// Issue 12, trust boundaries (docs/security.md): the statistics segment (created
// exclusively, joined only by its own run, never steered by its header), table caps, and
// plans (learned sites verified, --rewrite verified re-checked by a fresh scan, long
// plan cache paths). Hostile segments and plans are crafted here; the programs are real.
import { chownSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn as spawnChild } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { libraryPath, OptionError, planFromStats, readPlanFile, readStats, scanFile, spawn, type StatsSnapshot } from '../ts/src/index.js';
import { parseElf } from '../ts/src/elf.js';
import { waitProgram } from '../ts/src/run.js';
import { readSegmentIdentity, segmentGeometry } from '../ts/src/stats.js';
import { nrStats, run, testProgram, trapline, runApi } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'trapline-sec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string) => join(tmp, `${seq++}-${name}`);
const count = testProgram('count');
const GETPPID = 110;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const NOBODY = 65534;
if (!isRoot) console.log('security.test: not root: the cases with a file owned by another user are skipped (chown needs root)');

/** One line on stderr naming TRAPLINE_STATS, exit 2, nothing on stdout. */
function refused(r: { code: number | null; stdout: string; stderr: string }, what: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^trapline: TRAPLINE_STATS: [^\n]*\n$/);
  expect(r.stderr).toMatch(what);
}

describe('statistics segment: creation', () => {
  it('a new segment is a fresh 0600 file of ours, allocated up front, whatever the umask', async () => {
    const seg = fresh('seg');
    const child = spawnChild('/bin/sh', ['-c', 'umask 0; exec "$0" 10', count], {
      env: { ...process.env, LD_PRELOAD: libraryPath(), TRAPLINE_STATS: seg }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await waitProgram(child);
    expect(r.code, r.stderr).toBe(0);
    const st = statSync(seg);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
    expect(st.size).toBe(segmentGeometry().size);
    // allocated, not sparse: a full file system cannot SIGBUS a counter write later
    expect(st.blocks * 512).toBeGreaterThanOrEqual(st.size);
  });

  it('an existing file at the path (empty, ours, world-writable, or a symlink) is refused, never grown or followed', async () => {
    const empty = fresh('empty');
    writeFileSync(empty, '');
    chmodSync(empty, 0o666);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: empty } }), /already exists/);
    expect(statSync(empty).size).toBe(0);
    const target = fresh('target');
    const link = fresh('link');
    symlinkSync(target, link);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: link } }), /already exists/);
    expect(existsSync(target)).toBe(false);
    // a complete segment of an earlier run is not joined by a new one either
    const old = fresh('old');
    expect((await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: old } })).code).toBe(0);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: old } }), /already exists/);
    expect(readStats(old).processes).toBe(1);
  });

  it.skipIf(!isRoot)('a file pre-created by another user is refused, never grown; with the cookie it is not joined either', async () => {
    const seg = fresh('theirs');
    writeFileSync(seg, '');
    chownSync(seg, NOBODY, NOBODY);
    chmodSync(seg, 0o666);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg } }), /already exists/);
    expect(statSync(seg).size).toBe(0);
    // a real segment, with its cookie, handed over to another user
    const real = fresh('real');
    expect((await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: real } })).code).toBe(0);
    const cookie = readSegmentIdentity(real).cookie;
    chownSync(real, NOBODY, NOBODY);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: real, TRAPLINE_STATS_COOKIE: cookie } }), /owned by another user/);
    chownSync(real, 0, 0);
    chmodSync(real, 0o644);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: real, TRAPLINE_STATS_COOKIE: cookie } }), /mode is not 0600/);
  });

  it('a relative TRAPLINE_STATS is made absolute: a child exec\'d after chdir joins the same segment', async () => {
    const dir = fresh('rel');
    mkdirSync(dir);
    const child = spawnChild('/bin/sh', ['-c', 'cd / && exec "$0" 10', count], {
      cwd: dir, env: { ...process.env, LD_PRELOAD: libraryPath(), TRAPLINE_STATS: 'seg' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await waitProgram(child);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync('/seg')).toBe(false);
    const s = readStats(join(dir, 'seg'));
    expect(s.processes).toBe(2);
    expect(s.processList.map((p) => p.exe)).toContain(count);
    expect(s.processList.find((p) => p.exe === count)!.exitCode).toBe(0);
    expect(nrStats(s, GETPPID).trap + nrStats(s, GETPPID).fast).toBeGreaterThanOrEqual(10);   // sh makes one too
  });
});

describe('statistics segment: joining', () => {
  it('a header whose table offsets were changed is refused by a joining process, with one line', async () => {
    const seg = fresh('crafted');
    expect((await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg } })).code).toBe(0);
    const cookie = readSegmentIdentity(seg).cookie;
    const b = readFileSync(seg);
    b.writeBigUInt64LE(0x7f0000000000n, 144);   // site_off far outside the file
    writeFileSync(seg, b);
    const before = readFileSync(seg);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg, TRAPLINE_STATS_COOKIE: cookie } }), /table offset/);
    expect(readFileSync(seg).equals(before)).toBe(true);
  });

  it('a wrong run cookie is refused: a process joins only the segment its run created', async () => {
    const seg = fresh('cookie');
    expect((await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg } })).code).toBe(0);
    refused(await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg, TRAPLINE_STATS_COOKIE: '1234' } }), /run cookie differs/);
    const bad = await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg, TRAPLINE_STATS_COOKIE: 'xyz' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^trapline: TRAPLINE_STATS_COOKIE: xyz is not a run cookie/);
  });

  for (const mode of ['lazy', 'sud-only'] as const) {
    it(`${mode}: a program that rewrites its own segment's table offsets cannot steer the interposer's writes`, async () => {
      const seg = fresh('tamper');
      const r = await run(testProgram('segtamper'), ['offsets'], { mode: 'raw', env: { TRAPLINE_STATS: seg, TRAPLINE_MODE: mode, TRAPLINE_ALLOW_NULL_READS: '1' } });
      expect(r.signal).toBe(null);
      expect(r.stdout).toBe('ok\n');
      expect(r.code).toBe(0);
      // the records went where the layout puts them: the table offsets are restored, they are found
      const b = readFileSync(seg);
      const g = segmentGeometry();
      b.writeBigUInt64LE(BigInt(g.proc), 112); b.writeUInt32LE(1024, 120);
      b.writeBigUInt64LE(BigInt(g.module), 128);
      b.writeBigUInt64LE(BigInt(g.site), 144); b.writeUInt32LE(65536, 152);
      const fixed = fresh('fixed');
      writeFileSync(fixed, b);
      const s = readStats(fixed);
      expect(s.processList).toHaveLength(2);
      expect(s.sites.some((x) => x.nrs.includes(39) && x.pid === s.processList[1]!.pid)).toBe(true);
    });
  }
});

describe('statistics segment: --stats and --stats-append', () => {
  it('--stats on an existing file is one line before launch; --stats-append adds the run; conflicts are errors', async () => {
    const seg = fresh('cli');
    expect((await trapline(['run', '--stats', seg, '--', count, '10'])).code).toBe(0);
    const again = await trapline(['run', '--stats', seg, '--', count, '10']);
    expect(again.code).toBe(2);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^trapline: --stats: .* already exists \(.*--stats-append[^\n]*\n$/);
    const add = await trapline(['run', '--stats', seg, '--stats-append', '--', count, '20']);
    expect(add.code, add.stderr).toBe(0);
    const s = readStats(seg);
    expect(s.processes).toBe(2);
    expect(nrStats(s, GETPPID).trap + nrStats(s, GETPPID).fast).toBe(30);
    const policy = await trapline(['run', '--stats', seg, '--stats-append', '--rewrite', 'none', '--', count, '10']);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toMatch(/^trapline: --stats-append: .*rewrite policy all; this one asks for none\n$/);
    const mode = readStats(seg).mode === 'lazy' ? 'sud-only' : 'lazy';
    const m = await trapline(['run', '--stats', seg, '--stats-append', '--mode', mode, '--', count, '10']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/^trapline: --stats-append: .* run; this one asks for mode [^\n]*\n$/);
    expect(readStats(seg).processes).toBe(2);
    const noFile = await trapline(['run', '--stats-append', '--', count, '10']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toBe('trapline: --stats-append: needs --stats FILE\n');
    const junk = fresh('junk');
    writeFileSync(junk, 'x', { mode: 0o600 });
    const j = await trapline(['run', '--stats', junk, '--stats-append', '--', count, '10']);
    expect(j.code).toBe(2);
    expect(j.stderr).toMatch(/^trapline: --stats-append: .* is not a trapline v4 statistics segment[^\n]*\n$/);
  });

  it('API: an existing statsFile is an OptionError unless statsAppend', async () => {
    const seg = fresh('api');
    const a = await runApi(count, ['10'], { stdio: 'pipe', statsFile: seg });
    expect(a.code).toBe(0);
    const bad = (option: string) => expect.objectContaining({ code: 'ERR_TRAPLINE_OPTION', option });
    const thrown = (f: () => unknown) => { try { f(); } catch (e) { return e; } return undefined; };
    expect(thrown(() => spawn(count, ['10'], { statsFile: seg }))).toBeInstanceOf(OptionError);
    expect(thrown(() => spawn(count, ['10'], { statsFile: seg }))).toEqual(bad('statsFile'));
    expect(thrown(() => spawn(count, ['10'], { statsAppend: true }))).toEqual(bad('statsAppend'));
    expect(thrown(() => spawn(count, ['10'], { statsFile: seg, statsAppend: 1 as never }))).toEqual(bad('statsAppend'));
    expect(thrown(() => spawn(count, ['10'], { statsFile: seg, statsAppend: true, rewrite: 'verified' }))).toEqual(bad('statsAppend'));
    const b = await runApi(count, ['5'], { stdio: 'pipe', statsFile: seg, statsAppend: true });
    expect(b.code).toBe(0);
    expect(b.coverage!.processes).toBe(2);
  });
});

describe('statistics segment: full tables', () => {
  it('1,101 processes: the header says the process table filled, report and --summary say 77 were dropped', async () => {
    const seg = fresh('forks');
    const rep = fresh('forks.json');
    const r = await trapline(['run', '--mode', 'sud-only', '--stats', seg, '--report', rep, '--summary', '--', testProgram('segtamper'), 'forks', '1100']);
    expect(r.code, r.stderr).toBe(0);
    const s = readStats(seg);
    expect(s.processes).toBe(1101);
    expect(s.processList).toHaveLength(1024);
    expect(s.dropped).toMatchObject({ processes: 77, sites: 0 });
    expect(r.stderr).toMatch(/^dropped: 77 process record\(s\) \(process table full\)$/m);
    const shown = await trapline(['report', rep]);
    expect(shown.stdout).toMatch(/^dropped: 77 process record\(s\) \(process table full\)$/m);
  });

  it('skipped plan sites do not crowd out the sites the program runs', async () => {
    // a plan for libc with 65536 sites whose bytes are not 0f 05: all skipped
    const libc = '/usr/lib/x86_64-linux-gnu/libc.so.6';
    const buf = readFileSync(libc);
    const elf = parseElf(buf);
    const text = elf.execRegions.reduce((a, b) => (b.size > a.size ? b : a));
    const offs: string[] = [];
    for (let o = text.offset; offs.length < 65536 && o + 1 < text.offset + text.size; o++) {
      if (!(buf[o] === 0x0f && buf[o + 1] === 0x05)) offs.push(`${o.toString(16)} learned`);
    }
    expect(offs).toHaveLength(65536);
    const plan = fresh('crowd.plan');
    writeFileSync(plan, `trapline-plan 1\nmodule ${elf.buildId} ${libc}\n${offs.join('\n')}\n`);
    const r = await run(count, ['100'], { mode: 'lazy', env: { TRAPLINE_PLAN: plan } });
    expect(r.code, r.stderr).toBe(0);
    const s = r.stats!;
    expect(s.planSkipped).toBe(65536);
    expect(s.dropped.planUnrecorded).toBe(true);
    expect(s.sites.filter((x) => x.state === 'skipped').length).toBeLessThanOrEqual(32768);
    const mine = s.sites.filter((x) => x.module !== null && s.modules[x.module]!.path === count);
    expect(mine).toHaveLength(4);
    expect(nrStats(s, GETPPID)).toEqual({ trap: 4, fast: 96, errors: 0 });
  });
});

describe('plans: learned sites are verified before they enter a plan', () => {
  const scanme = testProgram('scanme');
  const sc = scanFile(scanme);
  const id = sc.buildId!;
  const at = (cls: string, re?: RegExp) => sc.sites.find((x) => x.insn === 'syscall' && x.class === cls && (!re || re.test(x.reason ?? '')))!.offset;

  /** A segment as a hostile program could leave it: learned, executed sites it names. */
  function forged(sites: [number, number][], modules: [string, string][]): StatsSnapshot {
    const base = readStatsTemplate();
    return {
      ...base,
      modules: modules.map(([path, buildId], index) => ({ index, pid: 1, path, origin: 'dlopen', base: '0x0', buildId })),
      sites: sites.map(([module, off]) => ({
        addr: '0x0', pid: 1, module, offset: `0x${off.toString(16)}`, trapHits: 1, fastHits: 9, nrs: [39], nrsOther: 0,
        state: 'rewritten', reason: 'none', source: 'learned',
      })),
    };
  }
  let template: StatsSnapshot | undefined;
  function readStatsTemplate(): StatsSnapshot {
    if (!template) throw new Error('template not read');
    return template;
  }

  it('only a scanner-confirmed 0f 05 in the file with that build-id is learned; the rest is learned-unverified', async () => {
    template = (await run(count, ['1'], { mode: 'sud-only' })).stats!;
    const confirmed = at('confirmed');
    const inside = at('ambiguous', /^inside instruction/);
    const data = at('ambiguous', /^outside any function/);
    const redzone = at('redzone');
    const snap = forged(
      [[0, confirmed], [0, inside], [0, data], [0, redzone], [0, confirmed + 1], [1, confirmed]],
      [[scanme, id], [count, id.replace(/^../, (x) => (x === '00' ? '11' : '00'))]],
    );
    snap.modules[1]!.buildId = id;        // count's file claimed to carry scanme's build-id
    snap.modules[1]!.path = count;
    const scanCache = fresh('scan');
    const p = planFromStats(snap, { scanCache });
    const m = p.modules.get(id)!;
    expect(m.sites.get(confirmed)).toBe('learned');
    expect(m.sites.get(inside)).toBe('learned-unverified');
    expect(m.sites.get(data)).toBe('learned-unverified');
    expect(m.sites.get(redzone)).toBe('learned-unverified');
    expect(m.sites.get(confirmed + 1)).toBe('learned-unverified');
    // the scan is cached by build-id
    expect(existsSync(join(scanCache, `${id}.json`))).toBe(true);
    // the forged path alone: its file has another build-id
    const only = planFromStats(forged([[0, confirmed]], [[count, id]]), { scanCache });
    expect(only.modules.get(id)!.sites.get(confirmed)).toBe('learned-unverified');
  });

  it('a learned-unverified plan site is never rewritten ahead of time; a learned one is', async () => {
    const cid = scanFile(count).buildId!;
    const offs = scanFile(count).sites.map((x) => x.offset);
    const mk = (src: string) => {
      const f = fresh(`${src}.plan`);
      writeFileSync(f, `trapline-plan 1\nmodule ${cid} ${count}\n${offs.map((o) => `${o.toString(16)} ${src}`).join('\n')}\n`);
      return f;
    };
    const good = await run(count, ['100'], { mode: 'lazy', env: { TRAPLINE_PLAN: mk('learned') } });
    expect(nrStats(good.stats, GETPPID)).toEqual({ trap: 0, fast: 100, errors: 0 });
    const unv = await run(count, ['100'], { mode: 'lazy', env: { TRAPLINE_PLAN: mk('learned-unverified') } });
    expect(unv.code).toBe(0);
    expect(nrStats(unv.stats, GETPPID)).toEqual({ trap: 4, fast: 96, errors: 0 });
    const sites = unv.stats!.sites.filter((x) => x.module !== null && unv.stats!.modules[x.module]!.path === count);
    expect(sites).toHaveLength(4);
    expect(sites.every((x) => x.source === 'plan-unverified' && x.trapHits === 1)).toBe(true);
  });

  it('--rewrite verified checks plan sites against a fresh scan: a red-zone site called confirmed is not rewritten', async () => {
    const cache = fresh('vcache');
    const confirmed = at('confirmed');
    const redzone = at('redzone');
    const plan = fresh('lying.plan');
    writeFileSync(plan, `trapline-plan 1\nmodule ${id} ${scanme}\n${confirmed.toString(16)} confirmed\n${redzone.toString(16)} confirmed\n`);
    const seg = fresh('vseg');
    const r = await trapline(['run', '--mode', 'lazy', '--allow-null-reads', '--rewrite', 'verified', '--plan', plan, '--stats', seg, '--', scanme, '3'], { TRAPLINE_PLAN_CACHE: cache });
    const native = await run(scanme, ['3'], { mode: 'native' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/\d+/g, 'N')).toBe(native.stdout.replace(/\d+/g, 'N'));
    const s = readStats(seg);
    const rec = (off: number) => s.sites.find((x) => x.module !== null && s.modules[x.module]!.path === scanme && Number(BigInt(x.offset)) === off);
    expect(rec(confirmed)).toMatchObject({ source: 'plan-confirmed', state: 'rewritten' });
    expect(rec(redzone)).toMatchObject({ source: 'plan-unverified' });
    expect(rec(redzone)!.state).not.toBe('rewritten');
    expect(rec(redzone)!.fastHits).toBe(0);
    expect(existsSync(join(cache, 'scan', `${id}.json`))).toBe(true);
  });
});

describe('plans: a plan cache directory with a long path', () => {
  /** A directory whose absolute path is about len bytes long. */
  function longDir(len: number): string {
    let d = fresh('long');
    while (d.length < len - 200) d = join(d, 'd'.repeat(Math.min(200, len - d.length - 201) || 1));
    d = join(d, 'e'.repeat(Math.max(1, len - d.length - 1)));
    mkdirSync(d, { recursive: true });
    return d;
  }

  it('a 2000-byte cache path works: its plans apply', async () => {
    const dir = longDir(2000);
    expect(dir.length).toBeGreaterThan(1900);
    const sc = await trapline(['scan', '--plan', 'auto', count], { TRAPLINE_PLAN_CACHE: dir });
    expect(sc.code, sc.stderr).toBe(0);
    const r = await run(count, ['100'], { mode: 'lazy', env: { TRAPLINE_PLAN: dir } });
    expect(r.code).toBe(0);
    expect(nrStats(r.stats, GETPPID)).toEqual({ trap: 0, fast: 100, errors: 0 });
    expect(readPlanFile(join(dir, `${scanFile(count).buildId}.plan`)).modules.size).toBe(1);
  });

  it('a cache path too long for its plan files is one line and status 2', async () => {
    const dir = longDir(4070);
    const r = await run(count, ['10'], { mode: 'raw', env: { TRAPLINE_PLAN: dir } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^trapline: TRAPLINE_PLAN: \(a directory path of 40\d\d bytes\) is too long[^\n]*\n$/);
    expect(lstatSync(dir).isDirectory()).toBe(true);
  });
});
