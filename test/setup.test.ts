// `trapline setup` (issue #14): the launcher with the file capability cap_sys_rawio gives an
// ordinary user's run the trampoline at address 0 where vm.mmap_min_addr > 0, and no
// capability reaches the program. Run as root: the launcher is installed into a temporary
// directory with `trapline setup --dir`, and the runs are made as `nobody` (setpriv).
//
// vm.mmap_min_addr: where it is 0 (CI sets it so), it is raised to 65536 for the few runs
// that need it, all at once, and put back right after. The other suites run as root, whose
// CAP_SYS_RAWIO maps address 0 whatever the setting, so they do not notice.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStats, type StatsSnapshot } from '../ts/src/index.js';
import { buildPath, SETUP_FILES } from '../ts/src/paths.js';
import { doctorReport, userMode } from '../ts/src/doctor.js';
import { launcherStatus } from '../ts/src/setup.js';
import { probe } from '../ts/src/native.js';
import { cli, hookLibrary, testProgram } from './helpers.js';

const MIN_ADDR = '/proc/sys/vm/mmap_min_addr';
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
const hasSetcap = spawnSync('setcap', ['-v', 'cap_sys_rawio+ep', '/nonexistent']).error === undefined;
const minAddr = Number(readFileSync(MIN_ADDR, 'utf8').trim());
const canRaise = (() => {
  try {
    writeFileSync(MIN_ADDR, `${minAddr}\n`);
    return true;
  } catch {
    return false;
  }
})();
const skip = process.geteuid?.() !== 0 ? 'not root: installing a file capability and running as nobody need root'
  : setpriv === undefined ? 'setpriv (util-linux) is missing: cannot run as nobody'
  : !hasSetcap ? 'setcap (libcap2-bin) is missing'
  : !probe().sud ? 'no Syscall User Dispatch'
  : minAddr === 0 && !canRaise ? 'vm.mmap_min_addr is 0 and cannot be raised here: address 0 needs no capability'
  : undefined;
if (skip) console.log(`skipped test/setup.test.ts: ${skip}`);

interface Out { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

let dir = '';
let work = '';
let seq = 0;
const asNobody = (prog: string, args: string[], env: Record<string, string> = {}): Out => {
  // through env(1), as from a shell: the launcher is then exec'd by an ordinary process
  const r = spawnSync(setpriv!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '/usr/bin/env', '-i',
    'PATH=/usr/bin:/bin', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), prog, ...args], { encoding: 'utf8', cwd: '/' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
};
/** A run through a launcher as nobody, in the fast mode (this CPU may lack protection keys). */
const viaLauncher = (launcher: string, prog: string, args: string[], env: Record<string, string> = {}) => {
  const stats = join(work, `stats-${seq++}`);
  const r = asNobody(launcher, [prog, ...args], { TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_STATS: stats, ...env });
  let s: StatsSnapshot | undefined;
  try { s = readStats(stats); } catch { s = undefined; }
  return { ...r, stats: s };
};

const runs: Record<string, Out & { stats?: StatsSnapshot }> = {};
const get = (k: string) => {
  const r = runs[k];
  if (!r) throw new Error(`no run ${k}`);
  return r;
};
const probeLine = /^inh=(\S+) prm=(\S+) eff=(\S+) amb=(\S+) secure=(\d+) mmap0=(\S+)$/;
const ZERO = '0000000000000000';

describe.skipIf(skip)('trapline setup: the launcher with cap_sys_rawio, for ordinary users', () => {
  beforeAll(() => {
    dir = mkdtempSync('/tmp/trapline-setup-');
    chmodSync(dir, 0o755);
    work = join(dir, 'work');
    mkdirSync(work);
    chmodSync(work, 0o1777);
    // the same launcher without the capability, for comparison
    mkdirSync(join(dir, 'nocap'), { mode: 0o755 });
    for (const f of SETUP_FILES) copyFileSync(buildPath('lib', f), join(dir, 'nocap', f));
    const r = spawnSync(process.execPath, [cli, 'setup', '--dir', join(dir, 'cap')], { encoding: 'utf8' });
    runs.setup = { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
    // a program with a segment below vm.mmap_min_addr (natively its exec fails)
    writeFileSync(join(dir, 'low.s'), '.globl _start\n_start: mov $60, %eax\n xor %edi, %edi\n syscall\n');
    const cc = spawnSync('cc', ['-nostdlib', '-static', '-no-pie', '-Wl,-Ttext-segment=0x1000', '-o', join(dir, 'low'), join(dir, 'low.s')]);
    const low = cc.status === 0 ? join(dir, 'low') : undefined;
    writeFileSync(join(dir, 'noexec'), 'not a program\n', { mode: 0o644 });

    const cap = join(dir, 'cap', 'trapline-exec');
    const nocap = join(dir, 'nocap', 'trapline-exec');
    const probeProg = testProgram('capprobe');
    const raise = minAddr === 0;
    if (raise) writeFileSync(MIN_ADDR, '65536\n');
    try {
      runs.native = asNobody(probeProg, []);
      runs.cap = viaLauncher(cap, probeProg, []);
      runs.nocap = viaLauncher(nocap, probeProg, []);
      runs.exec = viaLauncher(cap, probeProg, ['exec']);
      runs.execFails = viaLauncher(cap, '/bin/sh', ['-c', `${join(dir, 'noexec')}; echo status=$?`], { TRAPLINE_QUIET: '1' });
      runs.preload = viaLauncher(cap, probeProg, [], { TRAPLINE_ENTRY: 'preload', TRAPLINE_QUIET: '1' });
      runs.hook = viaLauncher(cap, probeProg, [], { TRAPLINE_HOOK: hookLibrary('passhook') });
      runs.env = viaLauncher(cap, '/usr/bin/env', [], { TMPDIR: '/kept', LOCALDOMAIN: 'kept', GCONV_PATH: '/kept', TRAPLINE_CAPS: 'dropped' });
      if (low) {
        runs.lowNative = asNobody(low, []);
        runs.lowCap = viaLauncher(cap, low, []);
      }
    } finally {
      if (raise) writeFileSync(MIN_ADDR, `${minAddr}\n`);
    }
    // the same where page 0 needs no capability (vm.mmap_min_addr as it was)
    runs.execFailsAsIs = viaLauncher(cap, '/bin/sh', ['-c', `${join(dir, 'noexec')}; echo status=$?`], { TRAPLINE_QUIET: '1' });
  });
  afterAll(() => {
    if (dir) {
      spawnSync(process.execPath, [cli, 'setup', '--undo', '--dir', join(dir, 'cap')]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('setup installs the launcher and its images with cap_sys_rawio+ep; doctor sees it', () => {
    expect(get('setup').stderr).toBe('');
    expect(get('setup').code).toBe(0);
    expect(get('setup').stdout).toMatch(/^trapline: installed \S+\/cap\/trapline-exec with cap_sys_rawio\+ep/);
    expect(spawnSync('getcap', [join(dir, 'cap', 'trapline-exec')], { encoding: 'utf8' }).stdout).toMatch(/cap_sys_rawio[=+]ep/);
    const st = launcherStatus(join(dir, 'cap'));
    expect(st).toMatchObject({ present: true, capability: true, current: true });
    expect(st.unsafe).toBeUndefined();
    const p = { ...probe(), mmapMinAddr: 65536 };
    expect(userMode(p, st, true).mode).toBe('lazy');
    expect(userMode(p, launcherStatus(join(dir, 'nocap')), true)).toMatchObject({ mode: 'sud-only', reason: expect.stringMatching(/vm.mmap_min_addr is 65536/) });
    expect(doctorReport(p, st)).toMatch(/^launcher with capability \(trapline setup\): \S+trapline-exec, cap_sys_rawio\+ep, this build's$/m);
  });

  it('as nobody: the run maps address 0 (fast mode, entered at the first instruction)', () => {
    const r = get('cap');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stats).toMatchObject({ mode: 'lazy', zeroMapped: true, entry: 'first-instruction' });
  });

  it('the program holds no capability, has AT_SECURE 0, and cannot map address 0 itself, as natively', () => {
    const native = probeLine.exec(get('native').stdout.trim());
    const m = probeLine.exec(get('cap').stdout.trim());
    expect(native).not.toBeNull();
    expect(m).not.toBeNull();
    expect(m!.slice(1, 5)).toEqual([ZERO, ZERO, ZERO, ZERO]);   // CapInh, CapPrm, CapEff, CapAmb
    expect(m![5]).toBe('0');                                    // AT_SECURE
    expect(native![6]).toBe('EPERM');
    expect(m![6]).toBe('EPERM');
    expect(m!.slice(1)).toEqual(native!.slice(1));
  });

  it('without the capability the same run falls back to sud-only, with its one line', () => {
    const r = get('nocap');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^trapline: warning: cannot map the trampoline at address 0 \(errno 1; vm.mmap_min_addr = 65536\) - running in SUD-only mode.*trapline setup/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stats).toMatchObject({ mode: 'sud-only', zeroMapped: false });
    expect(r.stdout).toBe(get('native').stdout);
  });

  it('a program it execs gets no capability either: sud-only, said in one line', () => {
    const r = get('exec');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(probeLine.exec(l)!.slice(1, 6)).toEqual([ZERO, ZERO, ZERO, ZERO, '0']);
    expect(r.stderr).toMatch(/^trapline: note: programs exec'd in this run run in sud-only mode: address 0 was mapped with the launcher's capability/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stats!.processes).toBe(2);
  });

  it('an exec that fails inside such a run returns its error (the caller goes on)', () => {
    expect(get('execFails').code).toBe(0);
    expect(get('execFails').stdout).toBe('status=126\n');
    expect(get('execFails').stderr).toMatch(/noexec: Permission denied/);
    expect(get('execFailsAsIs').stdout).toBe('status=126\n');
  });

  it('with a hook: entered and fast, the hook loaded after every capability was dropped', () => {
    const r = get('hook');
    expect(r.code).toBe(0);
    expect(probeLine.exec(r.stdout.trim())!.slice(1, 6)).toEqual([ZERO, ZERO, ZERO, ZERO, '0']);
    expect(r.stats).toMatchObject({ mode: 'lazy', zeroMapped: true, entry: 'first-instruction', hookLoaded: true });
  });

  it('the preload way drops every capability before the exec', () => {
    expect(get('preload').code).toBe(0);
    expect(probeLine.exec(get('preload').stdout.trim())!.slice(1, 6)).toEqual([ZERO, ZERO, ZERO, ZERO, '0']);
    expect(get('preload').stats?.entry).toBe('constructor');
  });

  it('the program gets the environment it was given (not the one the C library trimmed for AT_SECURE), none of ours', () => {
    const env = get('env').stdout.split('\n');
    expect(env).toContain('TMPDIR=/kept');
    expect(env).toContain('LOCALDOMAIN=kept');
    expect(env).toContain('GCONV_PATH=/kept');
    expect(env.filter((l) => l.startsWith('TRAPLINE_'))).toEqual([]);
  });

  it('an fd the program was started without stays closed (the C library opens it under AT_SECURE)', () => {
    const cap = join(dir, 'cap', 'trapline-exec');
    const native = asNobody('/bin/sh', ['-c', '/usr/bin/test -e /proc/self/fd/0 <&-; echo $?']);
    expect(native.stdout).toBe('1\n');
    expect(asNobody('/bin/sh', ['-c', `${cap} /usr/bin/test -e /proc/self/fd/0 <&-; echo $?`], { TRAPLINE_QUIET: '1' }).stdout).toBe('1\n');
    expect(asNobody('/bin/sh', ['-c', `${cap} /usr/bin/test -e /proc/self/fd/1 >&-; echo $? >&2`], { TRAPLINE_QUIET: '1' }).stderr).toBe('1\n');
  });

  it('a program with a segment below vm.mmap_min_addr is refused, not mapped with the capability', (ctx) => {
    if (!runs.lowCap) {
      console.log('skipped: cc cannot link a program at 0x1000');
      ctx.skip();
    }
    expect(get('lowNative').signal).toBe('SIGSEGV');            // natively its exec fails
    expect(get('lowCap').code).not.toBe(0);
    expect(get('lowCap').stderr).toMatch(/^trapline: the program has a segment below vm.mmap_min_addr, which only the launcher's capability allowed; refused$/m);
  });

  it('setup refuses, in one line: not root, a directory others can write, a bad option', () => {
    const notRoot = spawnSync(setpriv!, ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, cli, 'setup', '--dir', join(work, 'x')], { encoding: 'utf8' });
    expect(notRoot.status).toBe(1);
    expect(notRoot.stderr).toBe('trapline setup: must be run as root: it gives the launcher a file capability (cap_sys_rawio), as for ping\n');
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const unsafe = spawnSync(process.execPath, [cli, 'setup', '--dir', join(open, 'lib')], { encoding: 'utf8' });
    expect(unsafe.status).toBe(1);
    expect(unsafe.stderr).toMatch(/^trapline setup: \S+\/open is not root's alone .*choose another --dir\n$/);
    expect(existsSync(join(open, 'lib'))).toBe(false);
    const bad = spawnSync(process.execPath, [cli, 'setup', '--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const help = spawnSync(process.execPath, [cli, 'setup', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: trapline setup \[--dir DIR\] \[--undo\]/);
  });

  it('a launcher whose directory is not root\'s alone does not use its capability', () => {
    // a copy with the capability in a directory nobody can write: nobody could swap the
    // boot image that runs holding it
    const open = join(dir, 'open2');
    mkdirSync(open, { mode: 0o755 });
    for (const f of SETUP_FILES) copyFileSync(buildPath('lib', f), join(open, f));
    expect(spawnSync('setcap', ['cap_sys_rawio+ep', join(open, 'trapline-exec')]).status).toBe(0);
    chmodSync(open, 0o777);
    const r = viaLauncher(join(open, 'trapline-exec'), testProgram('capprobe'), [], { TRAPLINE_QUIET: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^trapline: warning: \S+\/open2 is not root's alone .*the launcher's capability is not used$/m);
    expect(probeLine.exec(r.stdout.trim())!.slice(1, 6)).toEqual([ZERO, ZERO, ZERO, ZERO, '0']);
  });

  it('setup --undo removes it', () => {
    const d = join(dir, 'cap2');
    expect(spawnSync(process.execPath, [cli, 'setup', '--dir', d]).status).toBe(0);
    const r = spawnSync(process.execPath, [cli, 'setup', '--undo', '--dir', d], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^trapline: removed the capability launcher from /);
    expect(existsSync(d)).toBe(false);
    expect(launcherStatus(d).present).toBe(false);
  });
});
