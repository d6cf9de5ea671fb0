// Issue 14, acceptance: programs entered under trapline from their first instruction
// (build/lib/trapline-exec) are interposed completely and see themselves as natively.
//
// The fixtures are in test/launch/ (built into build/test/launch/ by the "launch
// fixtures" block of CMakeLists.txt; each file says what it does). Every check compares a
// run under `trapline run` (the CLI, dist/cli.js) with a native run of the same command:
//   - selfview, in every flavour: what a program sees of itself (identity, argv, envp,
//     auxv from the stack, getauxval and /proc/self/auxv, the image and its interpreter,
//     brk, stack, personality, /proc/self/status, fds, signals, limits, prctl, its own
//     LD_PRELOAD / LD_LIBRARY_PATH / LD_AUDIT) must be equal but for SELFVIEW_INTENDED;
//     with ASLR off (setarch -R) the addresses the kernel chose must be equal too;
//   - per-syscall counts (calls and errors, by number) of the report equal those of
//     `strace -f` of the native run, but for STRACE_INTENDED;
//   - exec in every form, a static program with raw clone threads and a signal storm,
//     musl programs, a Go program, hooks, and --vdso off.
// The runs under trapline need the launcher; until it is built they are skipped with the
// reason printed (LAUNCH_TESTS_FORCE=1 runs them anyway, against today's preload mode, to
// see what it misses). The native runs and the fixtures are checked always.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { loadReport } from '../ts/src/report.js';
import type { StatsSnapshot } from '../ts/src/index.js';
import { packageRoot } from '../ts/src/paths.js';
import { nrName } from '../ts/src/stats.js';
import { cli, hookLibrary, machine } from './helpers.js';

const root = packageRoot();
const fixture = (name: string) => join(root, 'build', 'test', 'launch', name);
const LAUNCHER = join(root, 'build', 'lib', 'trapline-exec');
const force = process.env.LAUNCH_TESTS_FORCE === '1';
const haveLauncher = existsSync(LAUNCHER) || force;
if (!haveLauncher) console.log('launch.test: launcher not built (build/lib/trapline-exec): the runs under trapline are skipped');
const haveStrace = spawnSync('strace', ['-V']).status === 0;
if (!haveStrace) console.log('launch.test: strace not installed (Debian: strace): the count comparisons are skipped');
const haveSetarch = spawnSync('setarch', ['-R', 'true']).status === 0;
const haveMusl = existsSync(fixture('leaf-musl'));
if (!haveMusl) console.log('launch.test: musl-gcc not found at build time (Debian: musl-tools): the musl fixtures are not built, their tests are skipped');
const haveGo = existsSync(fixture('goroutines'));
if (!haveGo) console.log('launch.test: go not found at build time (Debian: golang-go): the Go fixture is not built, its tests are skipped');

const dir = mkdtempSync(join(tmpdir(), 'launch-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string) => join(dir, `${seq++}-${name}`);
const newDir = (name: string) => mkdtempSync(join(dir, `${name}-`));

function skip(ctx: TestContext, why: string): void {
  console.log(`skipped "${ctx.task.name}": ${why}`);
  ctx.skip(why);
}
function needsLauncher(ctx: TestContext): void {
  if (!haveLauncher) skip(ctx, 'launcher not built (build/lib/trapline-exec)');
}
function needsStrace(ctx: TestContext): void {
  if (!haveStrace) skip(ctx, 'strace not installed (Debian: strace)');
}
function needsFixture(ctx: TestContext, name: string): void {
  if (existsSync(fixture(name))) return;
  const why = name.includes('musl') ? 'musl-gcc not found at build time (Debian: musl-tools)'
    : name === 'goroutines' ? 'go not found at build time (Debian: golang-go)'
    : name.includes('static-pie') ? 'the C toolchain cannot link -static-pie'
    : 'not built';
  skip(ctx, `${fixture(name)} missing: ${why}`);
}

/** Our environment without anything of trapline's or a loader variable of the runner's. */
function baseEnv(add: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TRAPLINE_') || k.startsWith('LD_') || k === 'LAUNCH_TESTS_FORCE') continue;
    env[k] = v;
  }
  return { ...env, ...add };
}

interface Proc { code: number | null; signal: string | null; stdout: string; stderr: string }

function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env: opts.env ?? baseEnv(), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.once('error', reject);
    c.once('close', (code, signal) => resolve({
      code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
    }));
  });
}

interface RunOpts { env?: NodeJS.ProcessEnv; cwd?: string; aslrOff?: boolean }

/** A native run (with ASLR off: through setarch -R, which execs the program in place). */
function native(prog: string, args: string[], o: RunOpts = {}): Promise<Proc> {
  return o.aslrOff ? exec('setarch', ['-R', prog, ...args], o) : exec(prog, args, o);
}

type Mode = 'default' | 'lazy';
interface Traced extends Proc { report?: StatsSnapshot }

/** A run under `trapline run --report`, in the default mode or lazy (--allow-null-reads). */
async function traced(prog: string, args: string[], o: RunOpts & { mode?: Mode; opts?: string[] } = {}): Promise<Traced> {
  const report = fresh('report.json');
  const opts = [...(o.mode === 'lazy' ? ['--allow-null-reads'] : []), ...(o.opts ?? []), '--report', report];
  const argv = [cli, 'run', ...opts, '--', prog, ...args];
  const r = o.aslrOff ? await exec('setarch', ['-R', process.execPath, ...argv], o) : await exec(process.execPath, argv, o);
  let rep: StatsSnapshot | undefined;
  try { rep = loadReport(report); } catch { rep = undefined; }
  return { ...r, report: rep };
}

/** The modes a run under trapline is checked in: the default one, and lazy where this
 *  machine can map address 0 (on a CPU without protection keys, with --allow-null-reads). */
const MODES: Mode[] = machine.zeroMappable ? ['default', 'lazy'] : ['default'];

/** trapline's note that it falls back to sud-only (no protection keys) is its one line. */
const programStderr = (s: string) => s.replace(/^trapline: note: this CPU has no protection keys.*\n/m, '');

// ---------------------------------------------------------------------------------------
// strace: per-number counts of a native run

interface Counts { calls: Map<number, number>; errors: Map<number, number> }

/** Counts of `strace -f -n -qq -o FILE`: one call per line that starts a call (a line
 *  `<... resumed>` finishes one), errors where it returned -1 Exxx. */
function parseStrace(text: string): Counts {
  const calls = new Map<number, number>();
  const errors = new Map<number, number>();
  const add = (m: Map<number, number>, nr: number) => m.set(nr, (m.get(nr) ?? 0) + 1);
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+\[\s*(\d+)\]\s(.*)$/.exec(line);
    if (!m) continue;
    const nr = Number(m[2]);
    const rest = m[3]!;
    if (rest.startsWith('--- ') || rest.startsWith('+++ ')) continue;   // signals, exits
    if (!rest.startsWith('<... ')) add(calls, nr);
    if (rest.endsWith('<unfinished ...>')) continue;
    const eq = rest.lastIndexOf(' = ');
    if (eq >= 0 && /^-1 E[A-Z0-9]+/.test(rest.slice(eq + 3))) add(errors, nr);
  }
  return { calls, errors };
}

async function straced(prog: string, args: string[], o: RunOpts = {}): Promise<Proc & { counts: Counts }> {
  const out = fresh('strace.txt');
  const r = await exec('strace', ['-f', '-n', '-qq', '-o', out, '--', prog, ...args], o);
  return { ...r, counts: parseStrace(readFileSync(out, 'utf8')) };
}

function reportCounts(s: StatsSnapshot | undefined): Counts {
  if (!s) throw new Error('no report: no process of the run was interposed');
  const calls = new Map<number, number>();
  const errors = new Map<number, number>();
  for (const n of s.perNr) {
    if (n.trap + n.fast) calls.set(n.nr, n.trap + n.fast);
    if (n.errors) errors.set(n.nr, n.errors);
  }
  return { calls, errors };
}

/**
 * The differences allowed between the counts trapline reports and those strace saw in a
 * native run of the same command. There are only these:
 *  - execve, once: the exec that started the run. strace counts the execve its child makes
 *    to become the program; under trapline the launcher makes it, before the program's
 *    first instruction, so it is not the program's call. Every execve the program itself
 *    makes (into a child, or failing) is counted by both.
 *  - rt_sigreturn's errors: its return value is the interrupted context's %rax (e.g. the
 *    -EINTR of an interrupted rt_sigsuspend), which strace counts as an error of
 *    rt_sigreturn; it is not a failure, and trapline need not count it as one.
 * Nothing else: calls trapline makes for itself (start-up, the statistics, the launcher's
 * injection) are never counted as the program's, and every call of the program, from the
 * dynamic loader's first one on, is counted.
 */
const STRACE_INTENDED = {
  execveOfTheRun: 1,
  // rt_sigsuspend always returns -1 EINTR to the program (trapline counts that error);
  // strace -c books the kernel's ERESTARTNOHAND as no error
  errorsNotCompared: new Set([15 /* rt_sigreturn */, 130 /* rt_sigsuspend */]),
};

/** The differences between a report's counts and strace's, beyond STRACE_INTENDED, as
 *  lines `name: strace N, trapline M` (empty when they agree). `except`: numbers whose
 *  counts depend on timing (compared elsewhere by other means). */
function countDiff(st: Counts, rep: Counts, except: Set<number> = new Set()): string[] {
  const want = new Map(st.calls);
  want.set(59, (want.get(59) ?? 0) - STRACE_INTENDED.execveOfTheRun);
  if (want.get(59) === 0) want.delete(59);
  const out: string[] = [];
  for (const nr of [...new Set([...want.keys(), ...rep.calls.keys()])].sort((a, b) => a - b)) {
    if (except.has(nr)) continue;
    const a = want.get(nr) ?? 0;
    const b = rep.calls.get(nr) ?? 0;
    if (a !== b) out.push(`${nrName(nr)} (${nr}): strace ${a}, trapline ${b}`);
    if (STRACE_INTENDED.errorsNotCompared.has(nr)) continue;
    const ea = st.errors.get(nr) ?? 0;
    const eb = rep.errors.get(nr) ?? 0;
    if (ea !== eb) out.push(`${nrName(nr)} (${nr}) errors: strace ${ea}, trapline ${eb}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// selfview

type View = Map<string, string>;
function parseView(out: string): View {
  const v: View = new Map();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) v.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return v;
}

/** The files of trapline's own that a run may add to the program's mappings: the
 *  statistics segment (`trapline run --report` keeps it in a fresh /tmp/trapline-XXXXXX/
 *  directory) and trapline's own code, if mapped from a file named trapline* or
 *  libtrapline*. */
const isTraplineFile = (p: string) => /^(lib)?trapline/.test(basename(p)) || /^trapline-/.test(basename(dirname(p)));

interface CompareCtx { mode: Mode; aslrOff: boolean; vdsoOff?: boolean }

/**
 * What may differ between selfview natively and under trapline, and why. Every other key
 * must be equal, present in both or in neither. A rule applies where its key matches and
 * `when` (if any) holds; the first such rule decides.
 */
const SELFVIEW_INTENDED: {
  key: RegExp; why: string; when?: (c: CompareCtx) => boolean;
  ok: (n: string | undefined, t: string | undefined, c: CompareCtx) => boolean;
}[] = [
  {
    key: /^(addr\.auxv\.AT_SYSINFO_EHDR|vdso\.at_sysinfo_ehdr_is_vdso|auxv\.types|auxv\.count|vdso\.mapped|maps\.special)$/,
    when: (c) => c.vdsoOff === true,
    why: '--vdso off: no AT_SYSINFO_EHDR (that one entry removed from auxv); the [vdso] mapping may stay or go',
    ok: (n, t) => vdsoOffOk(n, t),
  },
  {
    key: /^auxv\.proc_equals_stack$/,
    when: (c) => c.vdsoOff === true,
    why: "--vdso off: /proc/self/auxv is the kernel's saved copy, which still lists the vDSO (rewriting it, PR_SET_MM_AUXV, needs CAP_SYS_RESOURCE); the vector on the stack, which libc reads, does not",
    ok: (n, t) => n === '1' && t === '0',
  },
  {
    key: /^var\./,
    why: 'pid and ppid: values of another process in each run (the pid is checked against the report, the parent by its comm)',
    ok: (n, t) => n !== undefined && t !== undefined,
  },
  {
    key: /^addr\./,
    why: 'addresses the kernel chose at exec: random with ASLR (compared by presence), equal with ASLR off',
    ok: (n, t, c) => (c.aslrOff ? n === t : n !== undefined && t !== undefined),
  },
  {
    key: /^maps\.files$/,
    why: "trapline's own files may be mapped too (its statistics segment, its code if mapped from a trapline* file); no file of the program's may be missing or added",
    ok: (n, t) => n !== undefined && t !== undefined && t.split(':').filter((p) => !isTraplineFile(p)).join(':') === n.split(':').filter((p) => !isTraplineFile(p)).join(':'),
  },
  {
    key: /^page0\.mapped$/,
    why: 'lazy mode maps its trampoline at address 0 (documented: README, --allow-null-reads); sud-only maps nothing there',
    ok: (n, t, c) => (c.mode === 'lazy' ? n === '0' && t === '1' : n === t),
  },
  {
    key: /^status\.SigCgt$/,
    why: "the kernel's list of caught signals includes the two trapline keeps its own handlers for (sud/signals.c): SIGSYS (Syscall User Dispatch reports by it) and SIGSEGV; what the program asks with rt_sigaction (sig.handled) must not show them",
    ok: (n, t) => {
      if (n === undefined || t === undefined) return false;
      const a = BigInt(`0x${n}`);
      const b = BigInt(`0x${t}`);
      const ours = (1n << 30n) | (1n << 10n);         // SIGSYS (31), SIGSEGV (11)
      return (b & ~ours) === (a & ~ours) && (a & ours & ~b) === 0n;
    },
  },
];

/** --vdso off: the native value without what the vDSO adds. */
function vdsoOffOk(n: string | undefined, t: string | undefined): boolean {
  if (n === undefined) return t === undefined;
  if (/^0x[0-9a-f]+$/.test(n)) return t === undefined;                              // AT_SYSINFO_EHDR
  if (n === '1') return t === '0' || t === undefined;                                // vdso.mapped, is_vdso: gone
  if (t === undefined) return false;
  if (n.includes('AT_SYSINFO_EHDR')) return t === n.split(',').filter((x) => x !== 'AT_SYSINFO_EHDR').join(',');
  if (/^\d+$/.test(n)) return Number(t) === Number(n) - 1;                         // auxv.count
  if (n.includes('[vdso]')) return t === n.split(',').filter((x) => !/^\[(vdso|vvar)/.test(x)).join(',');   // unmapped
  return t === n;
}

/** Differences not in SELFVIEW_INTENDED, one line each. */
function viewDiff(n: View, t: View, c: CompareCtx): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...n.keys(), ...t.keys()])].sort()) {
    const a = n.get(k);
    const b = t.get(k);
    const rule = SELFVIEW_INTENDED.find((r) => r.key.test(k) && (!r.when || r.when(c)));
    if (rule ? rule.ok(a, b, c) : a === b) continue;
    out.push(`${k}: native ${a ?? '(absent)'}, trapline ${b ?? '(absent)'}`);
  }
  return out;
}

const SELFVIEW_FLAVOURS = ['dyn', 'nopie', 'static', 'static-pie', 'execstack', 'musl', 'musl-static'] as const;
const dynamicFlavour = (f: string) => !f.includes('static');

/** selfview's arguments (a space, UTF-8, an empty one) and its own loader variables. */
const SELFVIEW_ARGS = ['one two', 'ü', ''];
const selfviewEnv = () => baseEnv({
  LD_PRELOAD: fixture('libselfpreload.so'),
  LD_LIBRARY_PATH: fixture('ldpath'),
  LD_AUDIT: fixture('libselfaudit.so'),
  SELFVIEW_MARK: 'x=y z',
});

describe('selfview: what a program sees of itself', () => {
  for (const f of SELFVIEW_FLAVOURS) {
    const prog = fixture(`selfview-${f}`);

    it(`selfview-${f}: the fixture runs natively and sees what it should`, async (ctx) => {
      needsFixture(ctx, `selfview-${f}`);
      const r = await native(prog, SELFVIEW_ARGS, { env: selfviewEnv() });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const v = parseView(r.stdout);
      expect(v.get('end')).toBe('1');
      expect(v.get('argv.1')).toBe('one two');
      expect(v.get('argv.2')).toBe('\\xc3\\xbc');
      expect(v.get('argv.3')).toBe('');
      expect(v.get('env.count')).toBe(String(Object.keys(selfviewEnv()).length));
      expect(v.get('auxv.proc_equals_stack')).toBe('1');
      expect(v.get('exe')).toBe(prog);
      expect(v.get('exe.at_phdr_is_e_phoff')).toBe('1');
      expect(v.get('vdso.at_sysinfo_ehdr_is_vdso')).toBe('1');
      expect(v.get('status.TracerPid')).toBe('0');
      expect(v.get('stack.perms')).toBe(f === 'execstack' ? 'rwxp' : 'rw-p');
      expect(v.get('exe.type')).toBe(f === 'nopie' || f === 'static' || f === 'musl-static' ? 'EXEC' : 'DYN');
      expect(v.get('libc')).toBe(f.startsWith('musl') ? 'musl' : 'glibc');
      if (dynamicFlavour(f)) {
        expect(v.get('interp.at_base_is_first_mapping')).toBe('1');
        expect(v.get('ld.preload.mapped')).toBe('1');
        expect(v.get('ld.preload.constructed')).toBe('1');
        expect(v.get('ld.library_path.dlopen')).toBe('42');
        expect(v.get('ld.audit.mapped')).toBe(f === 'musl' ? '0' : '1');    // musl has no LD_AUDIT
      } else {
        expect(v.get('interp.at_base_is_zero')).toBe('1');
        expect(v.get('ld.preload.mapped')).toBe('0');                        // a static program ignores them
        expect(v.get('ld.audit.mapped')).toBe('0');
      }
      // two native runs differ only where SELFVIEW_INTENDED says runs may differ
      const again = parseView((await native(prog, SELFVIEW_ARGS, { env: selfviewEnv() })).stdout);
      expect(viewDiff(v, again, { mode: 'default', aslrOff: false })).toEqual([]);
    });

    for (const mode of MODES) {
      it(`selfview-${f} (${mode}): under trapline it sees itself as natively`, async (ctx) => {
        needsLauncher(ctx);
        needsFixture(ctx, `selfview-${f}`);
        const n = await native(prog, SELFVIEW_ARGS, { env: selfviewEnv() });
        const t = await traced(prog, SELFVIEW_ARGS, { env: selfviewEnv(), mode });
        expect(programStderr(t.stderr)).toBe(n.stderr);
        expect(t.code).toBe(0);
        const nv = parseView(n.stdout);
        const tv = parseView(t.stdout);
        expect(tv.get('end')).toBe('1');
        expect(viewDiff(nv, tv, { mode, aslrOff: false })).toEqual([]);
        // the same pid: the program is the process trapline run started and reports on
        expect(t.report).toBeDefined();
        expect(t.report!.processList[0]?.pid).toBe(Number(tv.get('var.pid')));
        expect(t.report!.processList[0]?.exe).toBe(prog);
        expect(t.report!.processes).toBe(1);
      });
    }

    it(`selfview-${f}: with ASLR off, the kernel's addresses are the native ones`, async (ctx) => {
      needsLauncher(ctx);
      if (!haveSetarch) skip(ctx, 'setarch -R does not work here (util-linux)');
      needsFixture(ctx, `selfview-${f}`);
      const n = await native(prog, SELFVIEW_ARGS, { env: selfviewEnv(), aslrOff: true });
      const n2 = await native(prog, SELFVIEW_ARGS, { env: selfviewEnv(), aslrOff: true });
      expect(viewDiff(parseView(n.stdout), parseView(n2.stdout), { mode: 'default', aslrOff: true })).toEqual([]);
      const t = await traced(prog, SELFVIEW_ARGS, { env: selfviewEnv(), aslrOff: true });
      expect(t.code).toBe(0);
      const tv = parseView(t.stdout);
      expect(tv.get('personality')).toBe('0x40000');                          // ADDR_NO_RANDOMIZE kept
      expect(viewDiff(parseView(n.stdout), tv, { mode: 'default', aslrOff: true })).toEqual([]);
    });
  }

  it('the API: spawn() reports the pid the program has', async (ctx) => {
    needsLauncher(ctx);
    const { spawn: apiSpawn } = await import('../ts/src/index.js');
    const h = apiSpawn(fixture('selfview-static'), [], { stdio: 'pipe', env: baseEnv() });
    const e = await h.exited;
    expect(e.code).toBe(0);
    expect(Number(parseView(e.stdout ?? '').get('var.pid'))).toBe(h.pid);
    expect(e.interposed).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// system-call completeness against strace

interface Cmd {
  name: string; prog: string; args: string[]; fixture?: string; env?: NodeJS.ProcessEnv;
  cwd?: () => string; skipUnless?: () => string | undefined;
}
const which = (p: string) => (existsSync(p) ? undefined : `${p} not installed`);
const COMPLETENESS: Cmd[] = [
  { name: '/bin/true', prog: '/bin/true', args: [] },
  { name: 'ls /', prog: '/bin/ls', args: ['/'] },
  { name: 'ls -la /usr/lib', prog: '/bin/ls', args: ['-la', '/usr/lib'] },
  { name: 'sort /etc/passwd', prog: '/usr/bin/sort', args: ['/etc/passwd'] },
  // no .pyc written: the second run would differ from the first
  { name: 'python3 -c pass', prog: '/usr/bin/python3', args: ['-c', 'pass'], env: { PYTHONDONTWRITEBYTECODE: '1' }, skipUnless: () => which('/usr/bin/python3') },
  { name: 'a static C program (leaf-static)', prog: fixture('leaf-static'), args: ['x'], fixture: 'leaf-static' },
  { name: 'a static-pie C program (leaf-static-pie)', prog: fixture('leaf-static-pie'), args: ['x'], fixture: 'leaf-static-pie' },
  { name: 'a dynamic musl program (leaf-musl)', prog: fixture('leaf-musl'), args: ['x'], fixture: 'leaf-musl' },
  { name: 'a static musl program (leaf-musl-static)', prog: fixture('leaf-musl-static'), args: ['x'], fixture: 'leaf-musl-static' },
  { name: 'every kind of exec (execchain-dyn)', prog: fixture('execchain-dyn'), args: [], fixture: 'execchain-dyn', cwd: () => newDir('chain') },
  { name: 'every kind of exec from a static program (execchain-static)', prog: fixture('execchain-static'), args: [], fixture: 'execchain-static', cwd: () => newDir('chain') },
  { name: 'every kind of exec from a musl program (execchain-musl)', prog: fixture('execchain-musl'), args: [], fixture: 'execchain-musl', cwd: () => newDir('chain') },
  { name: 'raw clone threads, SIGURG storm, fork, exec (rawthreads-static)', prog: fixture('rawthreads-static'), args: [], fixture: 'rawthreads-static' },
  { name: 'the same, musl (rawthreads-musl-static)', prog: fixture('rawthreads-musl-static'), args: [], fixture: 'rawthreads-musl-static' },
];

describe('every system call is counted: per-number counts equal strace -f of the native run', () => {
  for (const c of COMPLETENESS) {
    it(`${c.name}: native runs are deterministic under strace`, async (ctx) => {
      needsStrace(ctx);
      if (c.fixture) needsFixture(ctx, c.fixture);
      const why = c.skipUnless?.();
      if (why) skip(ctx, why);
      const cwd = c.cwd?.();
      const env = baseEnv(c.env);
      const a = await straced(c.prog, c.args, { cwd, env });
      const b = await straced(c.prog, c.args, { cwd, env });
      expect(a.code).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      expect(countDiff(a.counts, reportLike(b.counts))).toEqual([]);
    });

    for (const mode of MODES) {
      it(`${c.name} (${mode}): trapline's counts are strace's`, async (ctx) => {
        needsLauncher(ctx);
        needsStrace(ctx);
        if (c.fixture) needsFixture(ctx, c.fixture);
        const why = c.skipUnless?.();
        if (why) skip(ctx, why);
        const cwd = c.cwd?.();
        const env = baseEnv(c.env);
        const s = await straced(c.prog, c.args, { cwd, env });
        const t = await traced(c.prog, c.args, { cwd, env, mode });
        expect(t.code).toBe(s.code);
        expect(t.stdout).toBe(s.stdout);
        expect(t.report, 'no report: the program was not interposed').toBeDefined();
        expect(countDiff(s.counts, reportCounts(t.report))).toEqual([]);
      });
    }
  }
});

/** A second strace run in the shape countDiff compares with (its execve as trapline
 *  would count it). */
function reportLike(c: Counts): Counts {
  const calls = new Map(c.calls);
  calls.set(59, (calls.get(59) ?? 0) - STRACE_INTENDED.execveOfTheRun);
  if (calls.get(59) === 0) calls.delete(59);
  return { calls, errors: c.errors };
}

// ---------------------------------------------------------------------------------------
// exec in every form

describe('every exec enters the same way', () => {
  const chains = ['execchain-dyn', 'execchain-static', 'execchain-musl'];

  for (const name of chains) {
    it(`${name}: natively, every case runs and every failure returns its errno`, async (ctx) => {
      needsFixture(ctx, name);
      const r = await native(fixture(name), [], { cwd: newDir('chain') });
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/exit=[1-9]|signal=|exec failed/);
      for (const f of ['enoent: ret=-1 errno=ENOENT', 'eacces-mode: ret=-1 errno=EACCES', 'eacces-dir: ret=-1 errno=EACCES',
        'enoexec: ret=-1 errno=ENOEXEC', 'enoent-interp: ret=-1 errno=ENOENT', 'ebadf: ret=-1 errno=EBADF', 'efault: ret=-1 errno=EFAULT']) {
        expect(r.stdout).toContain(`fail ${f}\n`);
      }
      expect(r.stdout).toContain('after failures: getppid 5/5\n');
      expect(r.stdout).toMatch(/leaf glibc-static argv=\S+leaf-static\|interp-arg\|\.\/script-leaf\|y exe=\S+ execfn=\.\/script-leaf comm=script-leaf /);
      expect(r.stdout).toContain('sh: ./script-sh x\n');
      expect(r.stdout).toMatch(/leaf glibc-dyn argv=leaf-dyn\|opath exe=\S+leaf-dyn execfn=\/dev\/fd\/\d+ /);
    });

    for (const mode of MODES) {
      it(`${name} (${mode}): output as natively, every image interposed, failures counted`, async (ctx) => {
        needsLauncher(ctx);
        needsFixture(ctx, name);
        const cwd = newDir('chain');
        const n = await native(fixture(name), [], { cwd });
        const t = await traced(fixture(name), [], { cwd, mode });
        expect(programStderr(t.stderr)).toBe(n.stderr);
        expect(t.stdout).toBe(n.stdout);
        expect(t.code).toBe(0);
        const rep = t.report!;
        expect(rep).toBeDefined();
        // one process record per image the kernel started, static ones and those entered
        // through a script or an fd included: as many as leaf lines printed, per program
        const images = new Map<string, number>();
        for (const m of n.stdout.matchAll(/^leaf \S+ argv=.*? exe=(\S+) /gm)) images.set(m[1]!, (images.get(m[1]!) ?? 0) + 1);
        for (const [exe, count] of images) {
          expect(rep.processList.filter((p) => p.exe === exe).length, `process records of ${exe}`).toBe(count);
          // an image that exec'd onward did not exit: its record (not the pid's last) has none
          const last = (p: (typeof rep.processList)[number]) => rep.processList.filter((q) => q.pid === p.pid).at(-1) === p;
          expect(rep.processList.filter((p) => p.exe === exe && last(p)).every((p) => p.exitCode === 0), `${exe} exited 0`).toBe(true);
        }
        expect(rep.processList.some((p) => p.exe === '/usr/bin/dash' || p.exe === '/bin/dash' || p.exe === '/bin/sh'), '#!/bin/sh: the shell').toBe(true);
        // the failed execs: counted with their errors, and the caller went on interposed
        const c = reportCounts(rep);
        expect(c.errors.get(59) ?? 0).toBe(6);        // enoent, eacces x2, enoexec, enoent-interp, efault
        expect(c.errors.get(322) ?? 0).toBe(1);       // ebadf
        expect(c.calls.get(110) ?? 0).toBeGreaterThanOrEqual(5);   // getppid after the failures (and the shell's)
        expect(rep.processList[0]?.exe).toBe(fixture(name));
        expect(rep.processList[0]?.exitCode).toBe(0);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------
// static programs: raw clone threads, signals, fork, exec; hooks

describe('static programs with raw clone threads and a signal storm', () => {
  for (const name of ['rawthreads-static', 'rawthreads-musl-static']) {
    it(`${name}: natively, every thread took its signals on its own alternate stack`, async (ctx) => {
      needsFixture(ctx, name);
      const r = await native(fixture(name), []);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^thread 0: signals=40 off-altstack=0 getppid=200\/200 altstack-kept=1 fs-kept=1$/m);
      expect(r.stdout).toMatch(/^rawthreads leaf: ok$/m);
      expect(r.stdout.endsWith('rawthreads: ok\n')).toBe(true);
    });

    for (const mode of MODES) {
      it(`${name} (${mode}): the same output, every process interposed`, async (ctx) => {
        needsLauncher(ctx);
        needsFixture(ctx, name);
        const n = await native(fixture(name), []);
        const t = await traced(fixture(name), [], { mode });
        expect(t.stdout).toBe(n.stdout);
        expect(t.code).toBe(0);
        const rep = t.report!;
        expect(rep).toBeDefined();
        // the threads' calls: 3 x 200 getppid here, 200 more in `rawthreads leaf`
        expect(reportCounts(rep).calls.get(110)).toBe(800);
        const exes = rep.processList.map((p) => p.exe);
        expect(exes.filter((e) => e === fixture(name)).length, 'the program, its fork child and `rawthreads leaf`').toBeGreaterThanOrEqual(2);
        expect(exes).toContain(fixture('leaf-dyn'));
      });
    }
  }

  it('a hook sees every call of a static program from its first one, or the run is refused in one line', async (ctx) => {
    needsLauncher(ctx);
    needsStrace(ctx);
    const s = await straced(fixture('leaf-static'), ['x']);
    const t = await traced(fixture('leaf-static'), ['x'], { opts: ['--hook', hookLibrary('counthook')] });
    if (t.code === 2 && t.stdout === '') {
      // the restriction docs/hooks.md states for static programs, in one line
      expect(programStderr(t.stderr)).toMatch(/^trapline: [^\n]*static[^\n]*\n$/);
      expect(readFileSync(join(root, 'docs', 'hooks.md'), 'utf8')).toMatch(/static/);
      return;
    }
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(s.stdout);
    const m = /counthook: total=(\d+) getppid=\d+/.exec(t.stderr);
    expect(m, 'the hook ran in the static program').not.toBeNull();
    const total = [...reportLike(s.counts).calls.values()].reduce((a, b) => a + b, 0);
    expect(Number(m![1])).toBe(total);
    expect(countDiff(s.counts, reportCounts(t.report))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// a program started with SIGSYS blocked (trapline traps with SIGSYS)

describe('SIGSYS blocked when the program starts', () => {
  const prog = join(root, 'build', 'test', 'sigsysmask');
  it('natively: the mask survives the exec', async () => {
    expect((await native(prog, ['block', prog, 'show'])).stdout).toBe('sigsys-blocked=1 calls=100\n');
    expect((await native(prog, ['block', prog, 'unblock'])).stdout).toBe('sigsys-blocked=0 calls=100\n');
  });
  for (const mode of MODES) {
    for (const entry of ['first', 'preload']) {
      it(`${mode}, --entry ${entry}: the program sees SIGSYS blocked, its calls still interposed, and can unblock it`, async (ctx) => {
        needsLauncher(ctx);
        const a = await traced(prog, ['block', prog, 'show'], { mode, opts: ['--entry', entry] });
        expect(a.code).toBe(0);
        expect(a.stdout).toBe('sigsys-blocked=1 calls=100\n');
        expect(reportCounts(a.report).calls.get(110)).toBe(100);
        const b = await traced(prog, ['block', prog, 'unblock'], { mode, opts: ['--entry', entry] });
        expect(b.stdout).toBe('sigsys-blocked=0 calls=100\n');
        // the launcher itself started with it blocked
        const c = await traced(prog, ['block', LAUNCHER, prog, 'show'], { mode, opts: ['--entry', entry] });
        expect(c.code).toBe(0);
        expect(c.stdout).toBe('sigsys-blocked=1 calls=100\n');
      });
    }
  }
});

// ---------------------------------------------------------------------------------------
// SIG_IGN across exec: natively it survives (only caught handlers are reset); the kernel
// holds trapline's handler for SIGSYS and SIGSEGV, so trapline hands the program's SIG_IGN
// on (TRAPLINE_SIGIGN, sud/exec.c) to the program it enters or preloads

describe('SIGSYS and SIGSEGV ignored across exec', () => {
  const prog = join(root, 'build', 'test', 'sigign');
  const SHOWN = 'sys_ign=1 segv_ign=1\nkill-survived\n';
  const cases: [string[], string][] = [
    [['ign', 'show'], SHOWN],
    [['ign-sys', 'show'], 'sys_ign=1 segv_ign=0\nkill-survived\n'],
    [['ign-segv', 'show'], 'sys_ign=0 segv_ign=1\nkill-survived\n'],
    // the exec'd program hands on its own state, not what it was given
    [['ign', 'show', 'dfl', 'show'], `${SHOWN}sys_ign=0 segv_ign=0\nkill-survived\n`],
    // a vfork child's own choice, not its parent's: posix_spawn's POSIX_SPAWN_SETSIGDEF
    // resets them in the child; a vfork child ignores them
    [['ign', 'spawn-dfl', 'show'], 'sys_ign=0 segv_ign=0\nkill-survived\n'],
    [['vfork-ign', 'show'], SHOWN],
  ];
  it('natively: SIG_IGN survives the exec, kill() is ignored, a real fault still kills', async () => {
    for (const [args, out] of cases) expect((await native(prog, args)).stdout).toBe(out);
    const f = await native(prog, ['ign', 'show', 'fault']);
    expect([f.signal, f.stdout]).toEqual(['SIGSEGV', SHOWN]);
  });
  for (const mode of MODES) {
    for (const entry of ['first', 'preload']) {
      it(`${mode}, --entry ${entry}: as natively; a real fault kills with SIGSEGV; the setting stays out of an entered program's environment`, async (ctx) => {
        needsLauncher(ctx);
        const opts = ['--entry', entry];
        for (const [args, out] of cases) {
          const r = await traced(prog, args, { mode, opts });
          expect([r.code, r.stdout, programStderr(r.stderr)]).toEqual([0, out, '']);
        }
        // `trapline run` reports a program killed by signal n as a shell would: 128 + n
        const f = await traced(prog, ['ign', 'show', 'fault'], { mode, opts });
        expect([f.code, f.stdout]).toEqual([128 + 11, SHOWN]);
        expect(programStderr(f.stderr)).toMatch(/^Segmentation fault/);
        // the settings of a program entered at its first instruction are not in its
        // environment; the preloaded one has every TRAPLINE_* setting there
        const e = await traced(prog, ['ign', 'env'], { mode, opts });
        expect(e.stdout).toBe(`sigign_env=${entry === 'first' ? 0 : 1}\n`);
      });
    }
  }
  it('a TRAPLINE_SIGIGN made for another process (left in an environment) is ignored; a bad one is one line', async () => {
    const lib = join(root, 'build', 'lib', 'libtrapline.so');
    // pid 1 is never this program's: as if an earlier program had left it there
    const stale = await exec(prog, ['show'], { env: { ...process.env, LD_PRELOAD: lib, TRAPLINE_SIGIGN: '1:sys,segv' } });
    expect([stale.code, stale.stdout, programStderr(stale.stderr)]).toEqual([0, 'sys_ign=0 segv_ign=0\nkill-survived\n', '']);
    const bad = await exec(prog, ['show'], { env: { ...process.env, LD_PRELOAD: lib, TRAPLINE_SIGIGN: 'sys' } });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("trapline: TRAPLINE_SIGIGN: sys is not PID:sys, PID:segv or PID:sys,segv\n");
  });
});

// ---------------------------------------------------------------------------------------
// an exec whose program cannot be traced: the helper that enters it is refused the attach
// (EPERM, as under Yama's ptrace_scope 1 until the caller names its tracer). It asks the
// caller for its go-ahead, tries again, is refused again, and the exec falls back to the
// preloaded library, said once; no side waits for the other for ever.

describe('an exec the entering helper may not attach to', () => {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const undumpable = join(root, 'build', 'test', 'undumpable');
  const prog = join(root, 'build', 'test', 'sigsysmask');
  for (const mode of MODES) {
    it(`${mode}: a non-dumpable caller without CAP_SYS_PTRACE: its exec'd program starts preloaded, interposed`, async (ctx) => {
      needsLauncher(ctx);
      if (process.geteuid?.() !== 0) skip(ctx, 'not root: CAP_SYS_PTRACE cannot be taken away from the run to show the refusal');
      if (setpriv === undefined) skip(ctx, 'setpriv (util-linux) is missing');
      expect((await native(undumpable, [prog, 'show'])).stdout).toBe('sigsys-blocked=0 calls=100\n');
      const report = fresh('report.json');
      const argv = [cli, 'run', ...(mode === 'lazy' ? ['--allow-null-reads'] : []), '--report', report, '--', undumpable, prog, 'show'];
      const r = await exec(setpriv!, ['--bounding-set=-sys_ptrace', '--inh-caps=-sys_ptrace', process.execPath, ...argv]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('sigsys-blocked=0 calls=100\n');
      const warn = r.stderr.split('\n').filter((l) => l.includes('cannot trace an exec\'d program'));
      expect(warn).toEqual(["trapline: warning: cannot trace an exec'd program to enter it at its first instruction (ptrace: errno 1); it starts from the preloaded library instead"]);
      const rep = loadReport(report);
      expect(reportCounts(rep).calls.get(110)).toBe(100); // the exec'd program's getppid, all seen
    });
  }
});

// ---------------------------------------------------------------------------------------
// hooks from the first instruction: loaded when the dynamic loader is done, before any
// constructor (docs/hooks.md, "From which point a hook is called")

describe('a hook in a run entered at the first instruction', () => {
  /** `env LD_PRELOAD=libctorpre.so ctorcalls`: the preload reaches the program only (not
   *  node), and the program is exec'd from inside the run, as every exec is */
  const ctorArgs = () => [`LD_PRELOAD=${fixture('libctorpre.so')}`, fixture('ctorcalls')];
  const PIECES = ['preinit', 'dep', 'pre', 'constructor', 'main'];

  it('ctorcalls natively: 20 getppid from preinit, two constructors of libraries, its own and main', async (ctx) => {
    needsFixture(ctx, 'ctorcalls');
    needsStrace(ctx);
    const s = await straced('/usr/bin/env', ctorArgs());
    expect(s.code).toBe(0);
    for (const who of PIECES) expect(s.stderr).toContain(`ctorcalls ${who}: uid=`);
    expect(s.stderr).toContain('ctorcalls heap: arena=0\n');
    expect(s.counts.calls.get(110)).toBe(20);
  });

  for (const mode of MODES) {
    it(`${mode}: the hook sees every call of preinit, the libraries' constructors (DT_NEEDED and LD_PRELOAD), the program's and main; counts as strace's`, async (ctx) => {
      needsLauncher(ctx);
      needsFixture(ctx, 'ctorcalls');
      needsStrace(ctx);
      const s = await straced('/usr/bin/env', ctorArgs());
      const t = await traced('/usr/bin/env', ctorArgs(), { mode, opts: ['--hook', hookLibrary('counthook')] });
      expect(t.code).toBe(0);
      // counthook makes getuid answer 31337: it was loaded before every piece ran
      for (const who of PIECES) expect(t.stderr, who).toContain(`ctorcalls ${who}: uid=31337`);
      // the hook's loading left the program's heap as natively: untouched
      expect(t.stderr).toContain('ctorcalls heap: arena=0\n');
      const m = /counthook: total=(\d+) getppid=(\d+)/.exec(t.stderr);
      expect(m, 'the hook reported').not.toBeNull();
      expect(Number(m![2])).toBe(20);
      const rep = t.report!;
      expect(rep.entry).toBe('first-instruction');
      expect(rep.hookLoaded).toBe(true);
      expect(rep.hookSkipped).toBe(false);
      // the hook's loading changes no count: the run's counts are the native run's
      expect(countDiff(s.counts, reportCounts(rep))).toEqual([]);
    });
  }

  it('a zpoline-ABI hook too: entered at the first instruction; /bin/true with a pass-through one counted as strace counts it', async (ctx) => {
    needsLauncher(ctx);
    needsFixture(ctx, 'ctorcalls');
    needsStrace(ctx);
    const t = await traced('/usr/bin/env', ctorArgs(), { opts: ['--hook', hookLibrary('zphook')] });
    expect(t.code).toBe(0);
    expect(t.report!.entry).toBe('first-instruction');
    const s = await straced('/bin/true', []);
    const u = await traced('/bin/true', [], { opts: ['--hook', hookLibrary('zppass')] });
    expect(u.code).toBe(0);
    expect(countDiff(s.counts, reportCounts(u.report))).toEqual([]);
  });

  it('with --vdso off: the hook sees the clock calls that became real', async (ctx) => {
    needsLauncher(ctx);
    needsFixture(ctx, 'timecalls-dyn');
    const t = await traced(fixture('timecalls-dyn'), ['100'], { opts: ['--vdso', 'off', '--hook', hookLibrary('counthook')] });
    expect(t.code).toBe(0);
    expect(t.stdout).toBe('timecalls n=100 vdso=0 monotonic=ok cpu=ok\n');
    const m = /counthook: total=(\d+)/.exec(t.stderr);
    expect(Number(m![1])).toBeGreaterThanOrEqual(400);
    expect(reportCounts(t.report).calls.get(nrOf('clock_gettime'))).toBe(100);
  });

  it('hooks the loader\'s lookup must resolve: an IFUNC trapline_hook; 20 MiB of TLS set up in trapline_init', async (ctx) => {
    needsLauncher(ctx);
    const a = await traced('/bin/true', [], { opts: ['--hook', hookLibrary('ifunchook')] });
    expect(a.code).toBe(0);
    expect(Number(/ifunchook: seen=(\d+)/.exec(a.stderr)?.[1])).toBeGreaterThan(0);
    const b = await traced('/bin/true', [], { opts: ['--hook', hookLibrary('bigtls')] });
    expect(b.code).toBe(0);
    expect(b.stderr).toContain('bigtls: 1\n');
  });

  it('an LD_AUDIT module that ignores and blocks SIGTRAP before the loader is done: the hook still loads', async (ctx) => {
    needsLauncher(ctx);
    needsFixture(ctx, 'ctorcalls');
    const args = [`LD_AUDIT=${fixture('libtrapaudit.so')}`, ...ctorArgs()];
    const n = await native('/usr/bin/env', args);
    expect(n.code).toBe(0);
    const t = await traced('/usr/bin/env', args, { opts: ['--hook', hookLibrary('counthook')] });
    expect(t.code).toBe(0);
    for (const who of PIECES) expect(t.stderr, who).toContain(`ctorcalls ${who}: uid=31337`);
  });

  it('a hook that cannot start: one line and exit 2 in the default mode too (no other note before it)', async (ctx) => {
    needsLauncher(ctx);
    const t = await traced('/bin/true', [], { opts: ['--hook', hookLibrary('nosym')] });
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^trapline: hook library \S*libnosym\.so exports neither trapline_hook nor __hook_init\n$/);
  });

  it('a musl program: refused with a hook in one line; exec\'d inside a hooked run, entered without it, said once', async (ctx) => {
    needsLauncher(ctx);
    needsFixture(ctx, 'leaf-musl');
    const r = await traced(fixture('leaf-musl'), ['x'], { opts: ['--hook', hookLibrary('counthook')] });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(programStderr(r.stderr)).toMatch(/^trapline: [^\n]*musl's dynamic loader[^\n]*\n$/);
    const n = await native(fixture('leaf-musl'), ['x']);
    // a pass-through hook: counthook's getuid answer would make the shell drop privileges
    const t = await traced('/bin/sh', ['-c', `${fixture('leaf-musl')} x; exit 0`], { opts: ['--hook', hookLibrary('passhook')] });
    expect(t.code).toBe(0);
    expect(t.stdout).toBe(n.stdout);
    expect(programStderr(t.stderr).match(/musl's dynamic loader/g)?.length).toBe(1);
    expect(t.report!.hookSkipped).toBe(true);
    expect(t.report!.processList.map((p) => p.exe)).toContain(fixture('leaf-musl'));
  });
});

// ---------------------------------------------------------------------------------------
// Go

/** The Go runtime's calls whose number depends on timing: sysmon, preemption (getpid +
 *  tgkill, then rt_sigreturn), the scheduler (futex, nanosleep, sched_yield), the
 *  netpoller, os/exec's pipe reads, and a new thread's set-up (clone, mmap, sigaltstack,
 *  rt_sigprocmask, gettid: the runtime starts more threads when calls take longer). Seen to
 *  vary between native runs; not compared by count. */
const GO_TIMING = new Set(['read', 'rt_sigreturn', 'sched_yield', 'nanosleep', 'getpid', 'futex', 'tgkill', 'epoll_pwait',
  'waitid', 'rt_sigprocmask', 'gettid', 'mmap', 'munmap', 'madvise', 'clone', 'sigaltstack'].map((n) => nrOf(n)));
function nrOf(name: string): number {
  for (let nr = 0; nr < 512; nr++) if (nrName(nr) === name) return nr;
  throw new Error(`no syscall ${name}`);
}

describe('a Go program', () => {
  it('goroutines: natively, 201 getppid calls whatever the runtime does', async (ctx) => {
    needsFixture(ctx, 'goroutines');
    needsStrace(ctx);
    const s = await straced(fixture('goroutines'), [fixture('leaf-static')]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^goroutines: xor=[0-9a-f]+ getppid=200\nleaf glibc-static argv=\S+\|from-go .*\ngoroutines: ok\n$/);
    expect(s.counts.calls.get(110)).toBe(201);
  });

  for (const mode of MODES) {
    it(`goroutines (${mode}): the same output; its calls counted as strace counts them`, async (ctx) => {
      needsLauncher(ctx);
      needsFixture(ctx, 'goroutines');
      needsStrace(ctx);
      const args = [fixture('leaf-static')];
      const s1 = await straced(fixture('goroutines'), args);
      const s2 = await straced(fixture('goroutines'), args);
      const t = await traced(fixture('goroutines'), args, { mode });
      expect(t.code).toBe(0);
      expect(t.stdout).toBe(s1.stdout);
      const rep = reportCounts(t.report);
      expect(rep.calls.get(110)).toBe(201);                               // the program's own, exact
      // the rest exact where two native runs agree, by presence where timing decides
      const varying = new Set(GO_TIMING);
      for (const nr of new Set([...s1.counts.calls.keys(), ...s2.counts.calls.keys()])) {
        if (s1.counts.calls.get(nr) !== s2.counts.calls.get(nr)) varying.add(nr);
      }
      expect(countDiff(s1.counts, rep, varying)).toEqual([]);
      for (const nr of varying) {
        if (GO_TIMING.has(nr) || !rep.calls.get(nr)) continue;
        expect(s1.counts.calls.has(nr) || s2.counts.calls.has(nr), `${nrName(nr)}: not a call of the native runs`).toBe(true);
      }
      expect(t.report!.processList.map((p) => p.exe)).toContain(fixture('leaf-static'));
    });
  }
});

// ---------------------------------------------------------------------------------------
// --vdso off

/** Per flavour, what timecalls N makes as real calls once the vDSO is hidden. */
const VDSO_CALLS: Record<string, (n: number) => Record<string, number>> = {
  'timecalls-dyn': (n) => ({ clock_gettime: n, gettimeofday: n, time: n, getcpu: n }),
  'timecalls-static': (n) => ({ clock_gettime: n, gettimeofday: n, time: n, getcpu: n }),
  // musl: gettimeofday and time call clock_gettime; sched_getcpu tries the vDSO, then getcpu
  'timecalls-musl': (n) => ({ clock_gettime: 3 * n, gettimeofday: 0, time: 0, getcpu: n }),
};

describe('--vdso off', () => {
  const N = 500;
  for (const name of Object.keys(VDSO_CALLS)) {
    it(`${name}: natively the vDSO answers, strace sees none of the calls`, async (ctx) => {
      needsFixture(ctx, name);
      needsStrace(ctx);
      const s = await straced(fixture(name), [String(N)]);
      expect(s.stdout).toBe(`timecalls n=${N} vdso=1 monotonic=ok cpu=ok\n`);
      for (const call of ['clock_gettime', 'gettimeofday', 'time', 'getcpu']) expect(s.counts.calls.get(nrOf(call)) ?? 0, call).toBe(0);
    });

    for (const mode of MODES) {
      it(`${name} (${mode}): with --vdso off they are real calls, each counted`, async (ctx) => {
        needsLauncher(ctx);
        needsFixture(ctx, name);
        const on = await traced(fixture(name), [String(N)], { mode });
        expect(on.stdout).toBe(`timecalls n=${N} vdso=1 monotonic=ok cpu=ok\n`);
        const cOn = reportCounts(on.report);
        for (const call of ['clock_gettime', 'gettimeofday', 'time', 'getcpu']) expect(cOn.calls.get(nrOf(call)) ?? 0, call).toBe(0);
        const off = await traced(fixture(name), [String(N)], { mode, opts: ['--vdso', 'off'] });
        expect(off.code).toBe(0);
        expect(off.stdout).toBe(`timecalls n=${N} vdso=0 monotonic=ok cpu=ok\n`);
        const c = reportCounts(off.report);
        for (const [call, count] of Object.entries(VDSO_CALLS[name]!(N))) expect(c.calls.get(nrOf(call)) ?? 0, call).toBe(count);
      });
    }
  }

  it('selfview-dyn with --vdso off: only the vDSO is gone from what it sees', async (ctx) => {
    needsLauncher(ctx);
    const prog = fixture('selfview-dyn');
    const n = await native(prog, SELFVIEW_ARGS, { env: selfviewEnv() });
    const t = await traced(prog, SELFVIEW_ARGS, { env: selfviewEnv(), opts: ['--vdso', 'off'] });
    expect(t.code).toBe(0);
    const tv = parseView(t.stdout);
    expect(tv.has('addr.auxv.AT_SYSINFO_EHDR')).toBe(false);
    expect(viewDiff(parseView(n.stdout), tv, { mode: 'default', aslrOff: false, vdsoOff: true })).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Programs trapline does not enter, and trapline inside trapline

describe('what is not entered, and nesting', () => {
  it('a 32-bit program is refused in one line; exec\'d from inside a run it runs without trapline, said once', async (ctx) => {
    needsLauncher(ctx);
    const h32 = fixture('hello32');
    if (!existsSync(h32)) { ctx.skip('hello32 not built (binutils cannot assemble i386 here)'); return; }
    const refused = await exec(process.execPath, [cli, 'run', '--', h32], {});
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(programStderr(refused.stderr)).toMatch(/^trapline: \S+hello32 is not an x86-64 program[^\n]*refusing[^\n]*\n$/);
    const inside = await traced('/bin/sh', ['-c', `${h32}; ${h32}; echo done`]);
    expect(inside.code).toBe(0);
    expect(inside.stdout).toBe('hi32!\nhi32!\ndone\n');
    expect(programStderr(inside.stderr).match(/not an x86-64 program/g)?.length).toBe(1);
  });

  it('a copy of trapline preloaded into a program it entered stands down (no second interposer)', async (ctx) => {
    needsLauncher(ctx);
    const lib = join(root, 'build', 'lib', 'libtrapline.so');
    const r = await traced('/usr/bin/env', [`LD_PRELOAD=${lib}`, '/bin/echo', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello\n');
    expect(r.report!.entry).toBe('first-instruction');
  });

  it('a stack limit too small for the boot block below the initial stack: entered all the same, and sees itself as natively', async (ctx) => {
    // the injector puts its block on the program's stack when the kernel mapped room for
    // it there (128 KiB below what exec put, under the usual limits); under a 64 KiB limit
    // there is none, and it maps one instead (sud/inject.c): both ways enter the program
    needsLauncher(ctx);
    needsFixture(ctx, 'selfview-dyn');
    if (spawnSync('prlimit', ['--stack=65536', 'true']).status !== 0) skip(ctx, 'prlimit does not work here (util-linux)');
    const prog = fixture('selfview-dyn');
    for (const stack of ['65536', '8388608']) {
      const n = await native('prlimit', [`--stack=${stack}`, prog, ...SELFVIEW_ARGS], { env: selfviewEnv() });
      const t = await traced('prlimit', [`--stack=${stack}`, prog, ...SELFVIEW_ARGS], { env: selfviewEnv() });
      expect(programStderr(t.stderr)).toBe(n.stderr);
      expect(t.code).toBe(0);
      const tv = parseView(t.stdout);
      expect(tv.get('end')).toBe('1');
      expect(viewDiff(parseView(n.stdout), tv, { mode: 'default', aslrOff: false })).toEqual([]);
      expect(t.report!.entry).toBe('first-instruction');
      expect(t.report!.processList.map((p) => p.exe)).toContain(prog);
    }
  });

  it('trapline run inside trapline run: the program runs, once interposed', async (ctx) => {
    needsLauncher(ctx);
    const r = await traced(process.execPath, [cli, 'run', '--', '/bin/echo', 'nested']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('nested\n');
  });
});
