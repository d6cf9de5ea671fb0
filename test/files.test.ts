// Issue 12, "Files the CLI and API read": devices, FIFOs and huge files; linear readers;
// EPIPE; failures after a run; paths checked before launch; malformed reports; API
// options; temporary directories; daemons holding the pipes; memfd code.
import { spawn as spawnChild, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { libraryPath, OptionError, scanFile, spawn, type StatsSnapshot } from '../ts/src/index.js';
import { waitProgram } from '../ts/src/run.js';
import { LAYOUT } from '../ts/src/layout.js';
import { cli, needsAddress0, run, testProgram, runApi } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'trapline-files-'));
const daemons: number[] = [];
afterAll(() => {
  for (const pid of daemons) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(tmp, { recursive: true, force: true });
});
let seq = 0;
const fresh = (name: string) => join(tmp, `${seq++}-${name}`);
function fifo(): string {
  const p = fresh('fifo');
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
  return p;
}

/** Runs a command with a clean TRAPLINE_* environment; a hang (or a reader going quadratic)
 *  is killed after `limit` ms and shows as signal SIGKILL, so the test fails instead of
 *  hanging the suite. */
function bounded(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, limit = 30_000) {
  const e = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (k.startsWith('TRAPLINE_') && !(k in env)) delete e[k];
  const child = spawnChild(cmd, args, { env: e, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], timeout: limit, killSignal: 'SIGKILL' });
  return waitProgram(child) as Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
}
const trapline = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  if (args.includes('--allow-null-reads')) needsAddress0();
  return bounded(process.execPath, [cli, ...args], env);
};
const oneLine = (r: { stderr: string }) => {
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^trapline: /);
  expect(r.stderr).not.toMatch(/\n\s+at |TypeError|RangeError|NaN|undefined/);
};

describe('devices, FIFOs and huge files', () => {
  it('report and scan refuse /dev/zero and a FIFO with one line (no hang, no memory exhaustion)', async () => {
    const f = fifo();
    for (const args of [['report', '/dev/zero'], ['report', '--json', f], ['scan', '/dev/zero'], ['scan', f]]) {
      const r = await trapline(args);
      expect(r.signal, args.join(' ')).toBeNull();
      expect(r.code, args.join(' ')).toBe(1);
      oneLine(r);
      expect(r.stderr).toMatch(/not a regular file \(a (character device|FIFO)\)/);
    }
  });

  it('huge files are refused by their size before anything is read (sparse files)', async () => {
    const huge = (bytes: number) => {
      const p = fresh('huge');
      writeFileSync(p, '');
      truncateSync(p, bytes);
      return p;
    };
    const cases: [string[], RegExp][] = [
      [['report', huge(300 * 2 ** 20)], /report .*: larger than 256 MiB$/],
      [['scan', huge(2 ** 30 + 1)], /scan .*: larger than 1 GiB \(1073741825 bytes\)$/],
      [['run', '--plan', huge(65 * 2 ** 20), '--', 'true'], /--plan: .*: larger than 64 MiB \(68157440 bytes\)$/],
    ];
    for (const [args, msg] of cases) {
      const r = await trapline(args);
      expect(r.code, args[0]).toBe(args[0] === 'run' ? 2 : 1);
      oneLine(r);
      expect(r.stderr.trim(), args[0]).toMatch(msg);
    }
  });

  it('run refuses a FIFO as --plan, --report, --learn or --stats before the program starts', async () => {
    const f = fifo();
    for (const opt of ['--plan', '--report', '--learn', '--stats']) {
      const marker = fresh('ran');
      const r = await trapline(['run', opt, f, '--', 'touch', marker]);
      expect(r.signal, opt).toBeNull();
      expect(r.code, opt).toBe(2);
      oneLine(r);
      expect(r.stderr, opt).toMatch(/not a regular file/);
      expect(existsSync(marker), opt).toBe(false);
    }
  });

  it('the library: TRAPLINE_PLAN or TRAPLINE_HOOK naming a FIFO is one line, the program does not start', async () => {
    const f = fifo();
    for (const env of [{ TRAPLINE_PLAN: f }, { TRAPLINE_HOOK: f }]) {
      const r = await bounded(testProgram('ids'), [], { ...env, LD_PRELOAD: libraryPath() });
      expect(r.signal, JSON.stringify(env)).toBeNull();
      expect(r.code, JSON.stringify(env)).not.toBe(0);
      expect(r.stdout).toBe('');
      oneLine(r);
      expect(r.stderr).toMatch(/not a regular file/);
    }
  });

  it('the library: a FIFO in the plan cache is skipped with a warning; the program runs', async () => {
    needsAddress0();   // plans apply in the rewriting modes only
    const prog = testProgram('count');
    const id = scanFile(prog).buildId!;
    const dir = fresh('cache');
    mkdirSync(dir);
    expect(spawnSync('mkfifo', [join(dir, `${id}.plan`)]).status).toBe(0);
    const r = await bounded(prog, ['20'], { TRAPLINE_PLAN: dir, TRAPLINE_ALLOW_NULL_READS: '1', LD_PRELOAD: libraryPath() });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok \d+\n$/);
    expect(r.stderr).toMatch(/^trapline: warning: plan .*\.plan not a regular file\n$/);
  });
});

/** A version-3 statistics header (core/stats_layout.h) over a file of `size` bytes filled with
 *  fill; the module table is `modules` records at offset 4096, every other table empty. */
function craftedSegment(size: number, modules: number, fill: number): Buffer {
  const b = Buffer.alloc(size, fill);
  b.fill(0, 0, 4096);
  b.write('TRAPLINE', 0, 'latin1');
  const H = LAYOUT.header;
  b.writeUInt32LE(LAYOUT.const.version, H.version);
  b.writeUInt32LE(LAYOUT.size.header, H.header_size);
  b.writeBigUInt64LE(BigInt(size), H.total_size);
  b.writeBigUInt64LE(4096n, H.nr_off);       // nr_max 0
  b.writeBigUInt64LE(4096n, H.thread_off);   // 0 slots
  b.writeBigUInt64LE(4096n, H.i386_off);     // nr_max 0
  for (const at of [H.proc_off, H.site_off]) b.writeBigUInt64LE(4096n, at);
  b.writeBigUInt64LE(4096n, H.module_off);
  b.writeUInt32LE(modules, H.module_cap);
  b.writeUInt32LE(modules, H.module_count);
  return b;
}

describe('linear readers', () => {
  it('report on a segment whose strings are never terminated reads each string field once (was quadratic)', async () => {
    const n = 100_000;   // 32 MB of module records, no NUL after the header
    const p = fresh('unterminated.seg');
    writeFileSync(p, craftedSegment(4096 + n * 320, n, 0x41));
    const r = await trapline(['report', p]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0 calls interposed in 0 process\(es\)/m);
    const small = fresh('small.seg');
    writeFileSync(small, craftedSegment(4096 + 3 * 320, 3, 0x41));
    const s = JSON.parse((await trapline(['report', '--json', small])).stdout) as StatsSnapshot;
    expect(s.modules.map((m) => m.path)).toEqual(Array(3).fill('A'.repeat(272)));
  });

  it('scan on an ELF file whose symbols all point into one long name: one line, no quadratic blow-up', async () => {
    // ELF64 x86-64 ET_DYN with sections [null, .symtab (n entries), .strtab (one 4 MiB name)]
    const n = 200_000;
    const nameLen = 4 << 20;
    const symOff = 64;
    const strOff = symOff + 24 * n;
    const shOff = strOff + nameLen + 2;
    const b = Buffer.alloc(shOff + 3 * 64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    b.writeUInt16LE(3, 16);
    b.writeUInt16LE(62, 18);
    b.writeBigUInt64LE(BigInt(shOff), 40);
    b.writeUInt16LE(64, 58);
    b.writeUInt16LE(3, 60);
    for (let i = 1; i < n; i++) {
      b.writeUInt32LE(1, symOff + 24 * i);      // every name at .strtab offset 1
      b[symOff + 24 * i + 4] = 0x12;             // STB_GLOBAL, STT_FUNC
      b.writeUInt16LE(1, symOff + 24 * i + 6);
    }
    b.fill(0x61, strOff + 1, strOff + 1 + nameLen);
    const sh = (i: number, type: number, off: number, size: number, link: number, entsize: number) => {
      const o = shOff + 64 * i;
      b.writeUInt32LE(type, o + 4);
      b.writeBigUInt64LE(BigInt(off), o + 24);
      b.writeBigUInt64LE(BigInt(size), o + 32);
      b.writeUInt32LE(link, o + 40);
      b.writeBigUInt64LE(BigInt(entsize), o + 56);
    };
    sh(1, 2, symOff, 24 * n, 2, 24);
    sh(2, 3, strOff, nameLen + 2, 0, 0);
    const p = fresh('names.so');
    writeFileSync(p, b);
    const r = await trapline(['scan', p]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    oneLine(r);
    expect(r.stderr).toMatch(/overlapping tables/);
  });
});

describe('the CLI: output, failures after the run, paths, malformed reports', () => {
  it('report --json | head -1: no stack trace, the status of a SIGPIPE death (141)', async () => {
    // a valid report of ~3 MB: more than the pipe holds when head has gone
    const rep = (await run(testProgram('count'), ['10'], { mode: 'lazy' })).stats!;
    rep.perNr = Array.from({ length: 40_000 }, (_, nr) => ({ nr, trap: 1, fast: 2, errors: 0 }));
    const p = fresh('big.json');
    writeFileSync(p, JSON.stringify(rep, null, 2));
    for (const args of [['report', '--json', p], ['report', p]]) {
      const r = await bounded('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" ${args.join(' ')} | head -1 >/dev/null`]);
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(141);
    }
  });

  it('--report -- PROG: "--" is not a file name; status 2, the program does not run', async () => {
    const marker = fresh('ran');
    const r = await trapline(['run', '--report', '--', 'touch', marker]);
    expect(r.code).toBe(2);
    oneLine(r);
    expect(r.stderr).toMatch(/--report needs a value/);
    expect(existsSync(marker)).toBe(false);
  });

  it('--report/--learn/--stats into a missing directory or a directory: status 2 before launch', async () => {
    const d = fresh('dir');
    mkdirSync(d);
    for (const args of [['--report', join(d, 'no/r.json')], ['--learn', join(d, 'no/p.plan')], ['--report', d], ['--learn', d], ['--stats', d]]) {
      const marker = fresh('ran');
      const r = await trapline(['run', ...args, '--', 'touch', marker]);
      expect(r.code, args.join(' ')).toBe(2);
      oneLine(r);
      expect(existsSync(marker), args.join(' ')).toBe(false);
    }
    const bad = fresh('bad.plan');
    writeFileSync(bad, 'not a plan\n');
    const r = await trapline(['run', '--learn', bad, '--', 'true']);
    expect(r.code).toBe(2);
    oneLine(r);
    expect(r.stderr).toMatch(/bad\.plan:1: expected 'trapline-plan 1'/);
  });

  it('a --report or --learn that fails after the run: one line, status 1 (the program succeeded)', async () => {
    const d = fresh('vanishing');
    mkdirSync(d);
    const r = await trapline(['run', '--allow-null-reads', '--report', join(d, 'r.json'), '--', 'rmdir', d]);
    expect(r.code).toBe(1);
    oneLine(r);
    expect(r.stderr).toMatch(/r\.json: cannot write \(ENOENT\)/);
    const plan = fresh('p.plan');
    const l = await trapline(['run', '--allow-null-reads', '--learn', plan, '--', 'sh', '-c', `echo junk > ${plan}`]);
    expect(l.code).toBe(1);
    oneLine(l);
    expect(l.stderr).toMatch(/p\.plan:1: expected 'trapline-plan 1'/);
    // the program's own failure status is kept
    const d2 = fresh('vanishing');
    mkdirSync(d2);
    const f = await trapline(['run', '--report', join(d2, 'r.json'), '--', 'sh', '-c', `rmdir ${d2}; exit 3`]);
    expect(f.code).toBe(3);
  });

  it('a malformed JSON report is one line, status 1: never NaN, undefined or a TypeError', async () => {
    const good = (await run(testProgram('count'), ['10'], { mode: 'lazy' })).stats! as unknown as Record<string, unknown>;
    expect((good.sites as unknown[]).length).toBeGreaterThan(0);
    /* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access --
       each case damages a field of the parsed report, whatever its type */
    const cases: [string, (r: any) => unknown][] = [
      ['array', () => []],
      ['null', () => null],
      ['perNr entry null', (r) => { r.perNr = [null]; return r; }],
      ['perNr counts strings', (r) => { r.perNr = [{ nr: 1, trap: 'x', fast: 1, errors: 0 }]; return r; }],
      ['total missing', (r) => { delete r.total; return r; }],
      ['otherTrap string', (r) => { r.otherTrap = '1'; return r; }],
      ['counts infinite', (r) => { r.perNr = [{ nr: 1, trap: 1e308, fast: 1e308, errors: 0 }]; return r; }],
      ['site module out of range', (r) => { r.sites[0].module = 99999; return r; }],
      ['site null', (r) => { r.sites = [null]; return r; }],
      ['module null', (r) => { r.modules = [null]; return r; }],
      ['processList missing', (r) => { delete r.processList; return r; }],
      ['version string', (r) => { r.version = '3'; return r; }],
    ];
    /* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access */
    for (const [name, damage] of cases) {
      const p = fresh('bad.json');
      writeFileSync(p, JSON.stringify(damage(structuredClone(good))));
      for (const args of [['report', p], ['report', '--json', p]]) {
        const r = await trapline(args);
        expect(r.code, name).toBe(1);
        expect(r.stdout, name).toBe('');
        oneLine(r);
        expect(r.stderr, name).toMatch(/not a trapline report/);
      }
    }
  });
});

describe('the API: options, snapshots, temporary directories, daemons', () => {
  const throwsOption = (f: () => unknown, name: string) => {
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err, name).toBeInstanceOf(OptionError);
    expect(err, name).toMatchObject({ code: 'ERR_TRAPLINE_OPTION', option: name });
  };

  it('a bad TRAPLINE_ALLOW_NULL_READS value in options.env is refused before launch, as the library would', () => {
    throwsOption(() => spawn(testProgram('count'), [], { env: { ...process.env, TRAPLINE_ALLOW_NULL_READS: 'yes' } }), 'env');
  });

  it('every bad option is an OptionError naming options.X, before launch', () => {
    const marker = fresh('ran');
    const d = fresh('d');
    mkdirSync(d);
    const f = fifo();
    const bad: [string, object][] = [
      ['hook', { hook: 5 }],
      ['hook', { hook: fresh('missing.so') }],
      ['hook', { hook: f }],
      ['cwd', { cwd: 5 }],
      ['cwd', { cwd: fresh('missing') }],
      ['cwd', { cwd: f }],
      ['env', { env: { TRAPLINE_BOGUS: '1' } }],
      ['env', { env: { TRAPLINE_MODE: 'fast' } }],
      ['env', { env: { TRAPLINE_QUIET: 'yes' } }],
      ['env.X', { env: { X: 5 } }],
      ['env', { env: 'x' }],
      ['statsFile', { statsFile: d }],
      ['statsFile', { statsFile: f }],
      ['statsFile', { statsFile: join(d, 'no/s') }],
      ['learn', { learn: f }],
      ['learn', { learn: join(d, 'no/p.plan') }],
      ['plan', { plan: f }],
    ];
    for (const [name, o] of bad) throwsOption(() => spawn('touch', [marker], o), name);
    expect(existsSync(marker)).toBe(false);
  });

  it('coverage() after exit returns the final snapshot, also with a temporary segment', async () => {
    for (const o of [{}, { statsFile: fresh('s') }]) {
      const h = spawn(testProgram('count'), ['50'], { mode: 'lazy', stdio: 'pipe', ...o });
      const e = await h.exited;
      expect(e.coverage).not.toBeNull();
      expect(h.coverage()).toEqual(e.coverage);
      const getppid = h.coverage()!.perNr.find((n) => n.nr === 110)!;
      expect(getppid.trap + getppid.fast).toBe(50);
    }
  });

  it('temporary directories are removed on every failure path (API and CLI)', async () => {
    const t = fresh('tmpdir');
    mkdirSync(t);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = t;
    try {
      // fails before anything is made: the hook is not a loadable file
      throwsOption(() => spawn('true', [], { hook: join(t, 'missing.so') }), 'hook');
      // fails after the temporary segment was made: the plan cache cannot be created
      const notDir = fresh('file');
      writeFileSync(notDir, '');
      throwsOption(() => spawn('true', [], { plan: 'auto', env: { ...process.env, TRAPLINE_PLAN_CACHE: join(notDir, 'plans') } }), 'plan');
      // fails to start: rejected, not thrown
      await expect(runApi(join(t, 'no-such-program'), [])).rejects.toMatchObject({ code: 'ENOENT' });
      // fails after the run: the program corrupts its own segment (a StatsError that
      // carries the program's exit)
      const h = spawn('sh', ['-c', 'for f in "$TMPDIR"/trapline-*/stats; do printf junk > "$f"; done'], { stdio: 'pipe', env: { ...process.env, TMPDIR: t } });
      await expect(h.exited).rejects.toMatchObject({ code: 'ERR_TRAPLINE_STATS', exit: { coverage: null, interposed: false } });
    } finally {
      process.env.TMPDIR = saved;
    }
    expect(readdirSync(t)).toEqual([]);
    const r = await trapline(['run', '--summary', '--', join(t, 'no-such-program')], { TMPDIR: t });
    expect(r.code).toBe(127);
    expect(readdirSync(t)).toEqual([]);
  });

  it("stdio 'pipe': exited resolves when the program exits, though a daemon it left holds the pipes", async () => {
    const pidFile = fresh('daemon.pid');
    const statsFile = fresh('s');
    // the daemon (sleep) inherits stdout and stderr; its own lifetime is not a wait
    const e = await runApi('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; echo started; echo err >&2`], { stdio: 'pipe', mode: 'lazy', allowNullReads: true, statsFile });
    const daemon = Number(readFileSync(pidFile, 'utf8'));
    daemons.push(daemon);
    expect(e).toMatchObject({ code: 0, signal: null, stdout: 'started\n', stderr: 'err\n' });
    expect(() => process.kill(daemon, 0)).not.toThrow();   // still alive, still holding the pipes
  });
});

describe('memfd code', () => {
  for (const mode of ['lazy', 'sud-only'] as const) {
    it(`${mode}: a site in a memfd mapping has a module with origin anonymous, not dlopen`, async () => {
      const native = await run(testProgram('memfd'), [], { mode: 'native' });
      const r = await run(testProgram('memfd'), [], { mode });
      expect(native.stdout).toBe('memfd code: 1\n');
      expect(r.stdout).toBe(native.stdout);
      expect(r.code).toBe(0);
      const s = r.stats!;
      const sites = s.sites.filter((x) => x.module !== null && s.modules[x.module]!.origin === 'anonymous');
      expect(sites).toHaveLength(1);
      expect(sites[0]!.offset).toBe('0x8');
      expect(sites[0]!.trapHits + sites[0]!.fastHits).toBe(3);
      expect(s.modules.some((m) => m.path.startsWith('/memfd:'))).toBe(false);
    });
  }
});
