// Issue "Coverage statistics": exact numbers from real programs, the TS API and the CLI.
import { execFileSync, spawn as spawnChild } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, closeSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionError, spawn, type StatsSnapshot } from '../ts/src/index.js';
import { packageRoot } from '../ts/src/paths.js';
import { waitProgram } from '../ts/src/run.js';
import { hookLibrary, needsAddress0, nrStats, run, statsPath, testProgram, runApi, trapline } from './helpers.js';

const GETPPID = 110;
const modes = ['lazy', 'sud-only'] as const;
const cli = `${packageRoot()}/dist/cli.js`;
const tmp = mkdtempSync(join(tmpdir(), 'trapline-cov-'));

function sitesOf(s: StatsSnapshot, pred: (path: string, origin: string) => boolean) {
  return s.sites.filter((x) => x.module !== null && pred(s.modules[x.module]!.path, s.modules[x.module]!.origin));
}

describe('exact counts', () => {
  it('lazy: N getppid from K sites = K sites, K via trap, N-K via the fast path, in the main program', async () => {
    const r = await run(testProgram('count'), ['1000']);
    const s = r.stats!;
    const sites = sitesOf(s, (p, o) => p === testProgram('count') && o === 'main');
    expect(sites).toHaveLength(4);
    expect(sites.map((x) => x.trapHits)).toEqual([1, 1, 1, 1]);
    expect(sites.reduce((a, x) => a + x.fastHits, 0)).toBe(996);
    expect(sites.every((x) => x.state === 'rewritten' && x.nrs.includes(GETPPID))).toBe(true);
    expect(nrStats(s, GETPPID)).toEqual({ trap: 4, fast: 996, errors: 0 });
    const mod = s.modules[sites[0]!.module!]!;
    expect(mod.buildId).toMatch(/^[0-9a-f]{40}$/);
    expect(s.processList).toEqual([expect.objectContaining({ pid: expect.any(Number), ppid: process.pid, exitCode: 0, signal: null, mode: 'lazy', exe: testProgram('count') })]);
  });

  it.each(modes)('%s: errors are counted on every path: N failing close(-1) from one site = N errors', async (mode) => {
    // the same program with 0 calls: what its start-up (the dynamic loader's closes) adds
    const base = nrStats((await run(testProgram('failing'), ['0'], { mode })).stats, 3);
    const r = await run(testProgram('failing'), ['1000'], { mode });
    expect(r.stdout).toBe('ok\n');
    const c = nrStats(r.stats, 3);
    expect(c.trap + c.fast - base.trap - base.fast).toBe(1000);
    expect(c.errors - base.errors).toBe(1000);
    if (mode === 'lazy') expect(c.fast - base.fast).toBe(999);
  });

  it('sud-only: the same N calls all arrive by trap, the sites stay trapping (reason sud-only)', async () => {
    const r = await run(testProgram('count'), ['1000'], { mode: 'sud-only' });
    const sites = sitesOf(r.stats!, (p) => p === testProgram('count'));
    expect(sites).toHaveLength(4);
    expect(sites.reduce((a, x) => a + x.trapHits, 0)).toBe(1000);
    expect(sites.every((x) => x.fastHits === 0 && x.state === 'trapping' && x.reason === 'sud-only')).toBe(true);
    expect(nrStats(r.stats, GETPPID)).toEqual({ trap: 1000, fast: 0, errors: 0 });
  });

  it.each(modes)('%s: a site serving several numbers records every one, fast path included; unknown numbers are counted', async (mode) => {
    const N = 1000;
    const r = await run(testProgram('multinr'), [String(N)], { mode });
    expect(r.stdout).toBe('ok\n');
    const sites = sitesOf(r.stats!, (p) => p === testProgram('multinr'));
    expect(sites).toHaveLength(1);
    const s = sites[0]!;
    // getpid 39, getuid 102, getppid 110, gettid 186 (in turn, N rounds), and 1000 (ENOSYS)
    expect(s.nrs).toEqual([39, 102, 110, 186]);
    expect(s.nrsOther).toBe(N);
    expect(s.trapHits + s.fastHits).toBe(5 * N);
    expect(s.trapHits).toBe(mode === 'lazy' ? 1 : 5 * N);
  });

  it('without a segment the fast path counts into private records: the same results', async () => {
    const raw = await run(testProgram('multinr'), ['1000'], { mode: 'raw' });
    expect(raw.stdout).toBe('ok\n');
  });

  it('a dlopen\'d library\'s sites are attributed to it with origin dlopen', async () => {
    const lib = hookLibrary('dlsite');
    const r = await run(testProgram('dlsite'), [lib, '500']);
    expect(r.stdout).toBe('ok\n');
    const sites = sitesOf(r.stats!, (p) => p === lib);
    expect(sites).toHaveLength(1);
    expect(r.stats!.modules[sites[0]!.module!]!.origin).toBe('dlopen');
    expect(sites[0]!.trapHits + sites[0]!.fastHits).toBe(500);
    expect(sitesOf(r.stats!, (p, o) => p.endsWith('/libc.so.6') && o === 'startup').length).toBeGreaterThan(0);
  });

  it('JIT code: sites in anonymous memory; after the region is rewritten the old site is stale and the new one learned', async () => {
    const r = await run(testProgram('jit2'));
    const base = BigInt(/^ok (0x[0-9a-f]+)\n$/.exec(r.stdout)![1]!);
    const s = r.stats!;
    const at = (off: bigint) => s.sites.find((x) => BigInt(x.addr) === base + off);
    const old = at(8n)!, fresh = at(24n)!;
    expect(s.modules[old.module!]!.origin).toBe('anonymous');
    expect(old.state).toBe('stale');
    expect(old.reason).toBe('stale');
    expect(old.trapHits + old.fastHits).toBe(10);
    expect(fresh.state).toBe('rewritten');
    expect(fresh.trapHits + fresh.fastHits).toBe(10);
    expect(s.sitesStale).toBe(1);
  });

  it('children report into the same run, with their parent and exit status (signal deaths too)', async () => {
    const r = await run('sh', ['-c', `${testProgram('count')} 10; sh -c 'kill -KILL $$'; exit 3`]);
    expect(r.code).toBe(3);
    const procs = r.stats!.processList;
    const top = procs.find((p) => p.ppid === process.pid)!;
    expect(top.exitCode).toBe(3);
    const count = procs.find((p) => p.exe === testProgram('count'))!;
    expect(count.ppid).toBe(top.pid);
    expect(count.exitCode).toBe(0);
    expect(procs.some((p) => p.signal === 9)).toBe(true);
    expect(nrStats(r.stats, GETPPID).trap + nrStats(r.stats, GETPPID).fast).toBeGreaterThanOrEqual(10);
  });
});

describe('TypeScript API', () => {
  it('spawn(): coverage() while the program runs, exited with the status and the final snapshot', async () => {
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const h = spawn(testProgram('blockread'), ['300', fifo], { stdio: 'pipe' });
    await new Promise<void>((resolve) => h.child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
    const live = h.coverage()!;
    expect(nrStats(live, GETPPID).trap + nrStats(live, GETPPID).fast).toBe(300);
    closeSync(openSync(fifo, 'w'));                 // release the program
    const done = await h.exited;
    expect(done.code).toBe(5);
    expect(nrStats(done.coverage!, GETPPID).trap + nrStats(done.coverage!, GETPPID).fast).toBe(600);
    expect(JSON.parse(JSON.stringify(done.coverage))).toEqual(done.coverage);   // plain, serialisable
  });

  it('run() is the awaitable form; stats: false gives no coverage', async () => {
    const a = await runApi(testProgram('count'), ['50'], { stdio: 'pipe', allowNullReads: true });
    expect(a.code).toBe(0);
    expect(nrStats(a.coverage!, GETPPID)).toEqual({ trap: 4, fast: 46, errors: 0 });
    const b = await runApi(testProgram('count'), ['50'], { stdio: 'pipe', stats: false });
    expect(b.coverage).toBeNull();
  });

  it('bad options are thrown before launch: an OptionError with code ERR_TRAPLINE_OPTION naming the option', () => {
    const thrown = (f: () => unknown) => { try { f(); } catch (e) { return e; } return undefined; };
    const bad = (option: string) => expect.objectContaining({ code: 'ERR_TRAPLINE_OPTION', option });
    expect(thrown(() => spawn(testProgram('count'), [], { mode: 'fast' as never }))).toBeInstanceOf(OptionError);
    expect(thrown(() => spawn(testProgram('count'), [], { mode: 'fast' as never }))).toEqual(bad('mode'));
    expect(thrown(() => spawn(testProgram('count'), [], { colour: true } as never))).toEqual(bad('colour'));
    expect(thrown(() => spawn(testProgram('count'), [], { stats: 'yes' } as never))).toEqual(bad('stats'));
    expect(thrown(() => spawn(testProgram('count'), ['x', 1 as never]))).toEqual(bad('args'));
  });

  it('one check names the option as its caller wrote it: options.mode through the API, --mode on the command line', async () => {
    expect(() => spawn(testProgram('count'), [], { mode: 'fast' as never })).toThrow(/^options\.mode: must be lazy, sud-only or eager, not 'fast'$/);
    const r = await trapline(['run', '--mode', 'fast', '--', testProgram('count')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("trapline: --mode: must be lazy, sud-only or eager, not 'fast'\n");
    expect(() => spawn(testProgram('count'), [], { statsAppend: true })).toThrow(/^options\.statsAppend: needs options\.statsFile$/);
    expect((await trapline(['run', '--stats-append', '--', testProgram('count')])).stderr).toBe('trapline: --stats-append: needs --stats FILE\n');
  });
});

describe('CLI reports', () => {
  const cliRun = (args: string[]) => waitProgram(spawnChild(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })) as Promise<{ code: number; stdout: string; stderr: string }>;

  it('run --report writes the JSON report and --summary prints the tables on stderr; output untouched', async () => {
    needsAddress0();
    const rep = join(tmp, 'r.json');
    const r = await cliRun(['run', '--allow-null-reads', '--report', rep, '--summary', '--', testProgram('count'), '200']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok \d+\n$/);
    expect(r.stderr).toMatch(/% calls\s+calls\s+errors\s+via trap\s+via fast\s+syscall/);
    expect(r.stderr).toMatch(/\s200\s+0\s+4\s+196\s+getppid/);
    expect(r.stderr).toMatch(/main\s+.*build\/test\/count/);
    const saved = JSON.parse(readFileSync(rep, 'utf8')) as StatsSnapshot;
    expect(nrStats(saved, GETPPID)).toEqual({ trap: 4, fast: 196, errors: 0 });
    const shown = await cliRun(['report', rep]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/\s200\s+0\s+4\s+196\s+getppid/);
    const json = await cliRun(['report', '--json', rep]);
    expect(JSON.parse(json.stdout)).toEqual(saved);
  });

  it('a corrupted or truncated segment, or junk, is a one-line error in report, never a crash', async () => {
    const seg = statsPath();
    await run(testProgram('count'), ['10'], { mode: 'raw', env: { TRAPLINE_STATS: seg } });
    const cases: [string, (p: string) => void][] = [
      ['truncated', (p) => truncateSync(p, 4096)],
      ['bad magic', (p) => { const b = readFileSync(p); b.write('TRAPLINX', 0); writeFileSync(p, b); }],
      ['bad offsets', (p) => { const b = readFileSync(p); b.writeBigUInt64LE(0xffffffffn, 144); writeFileSync(p, b); }],
      ['junk', (p) => writeFileSync(p, '{"not": "a report"}')],
      ['empty', (p) => writeFileSync(p, '')],
    ];
    for (const [name, damage] of cases) {
      const p = join(tmp, `bad-${name.replace(' ', '-')}`);
      copyFileSync(seg, p);
      damage(p);
      const r = await cliRun(['report', p]);
      expect(r.code, name).toBe(1);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(/^trapline: /);
    }
  });
});
