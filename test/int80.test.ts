// Issue 10, "int $0x80": 32-bit system calls made by 64-bit code, sysenter and x32 numbers,
// compared with the run without trapline (test/c/int80.c, test/hooks/abihook.c,
// test/hooks/zpwritev.c).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hookLibrary, nrStats, run, runApi, testProgram, trapline } from './helpers.js';
import { SYSCALL_NAMES } from '../ts/src/syscalls.js';
import { I386_SYSCALL_NAMES } from '../ts/src/syscalls_i386.js';
import { i386Numbers } from '../ts/src/trace.js';
import type { StatsSnapshot } from '../ts/src/index.js';

const modes = ['lazy', 'sud-only'] as const;
const prog = testProgram('int80');

function i386(s: StatsSnapshot | undefined, nr: number) {
  const e = s?.perNrI386.find((x) => x.nr === nr);
  return e ? { trap: e.trap, fast: e.fast, errors: e.errors } : { trap: 0, fast: 0, errors: 0 };
}

async function native(cmd: string) {
  const n = await run(prog, [cmd], { mode: 'native' });
  expect(n.stdout).not.toContain('FAIL');
  return n;
}

describe('int $0x80 from 64-bit code', () => {
  for (const mode of modes) {
    it(`${mode}: i386 numbers, results, every register (rcx, r11 included) and flag as natively; never rewritten; counted by ABI`, async () => {
      const n = await native('regs');
      const r = await run(prog, ['regs'], { mode });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(n.stdout);
      expect(r.stdout).toContain('getpid: pid\n');
      expect(r.stdout).toContain('write stack buffer (above 4 GiB): -14\n');
      expect(r.stdout).toContain('write fd 999: -9\n');
      expect(r.stdout).toContain('i386 chmod (x86-64 rt_sigreturn): 0, mode 640\n');
      expect(r.stdout).toContain('site bytes: cd 80\n');
      const s = r.stats!;
      // per-number counts in the i386 table, none in the x86-64 one
      expect(i386(s, 20)).toEqual({ trap: 4, fast: 0, errors: 0 });
      expect(i386(s, 4)).toEqual({ trap: 6, fast: 0, errors: 4 });
      expect(i386(s, 56)).toEqual({ trap: 2, fast: 0, errors: 2 });
      for (const nr of [13, 60, 158, 15, 10, 12]) expect(i386(s, nr)).toEqual({ trap: 2, fast: 0, errors: 0 });
      expect(s.otherI386).toBe(6);             // 1000, -1, 0x40000014, twice each
      // the same numbers in the x86-64 table: writev, rt_sigaction, exit, arch_prctl,
      // rt_sigreturn, clone were never run
      // (not arch_prctl, 158: the dynamic loader makes one, seen from the first instruction)
      for (const nr of [20, 13, 60, 15, 56]) expect(nrStats(s, nr)).toEqual({ trap: 0, fast: 0, errors: 0 });
      const sites = s.sites.filter((x) => x.reason === 'int80');
      expect(sites.map((x) => [x.state, x.fastHits, x.trapHits])).toEqual([['trapping', 0, 24], ['trapping', 0, 6]]);
      expect(sites[0]!.nrs).toEqual([4, 13, 20, 56, 60, 158]);
      expect(s.total.trap).toBeGreaterThanOrEqual(30);
    });

    for (const cmd of ['eintr', 'restart', 'sigsuspend']) {
      it(`${mode}: ${cmd}: signals during an i386 call, and i386 calls in the handler, as natively`, async () => {
        const n = await native(cmd);
        const r = await run(prog, [cmd], { mode });
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(n.stdout);
        expect(r.stdout).toMatch(/: (-4|1)[, ]/);
        expect(r.stdout).toContain('nested calls ok');
      });
    }

    it(`${mode}: int $0x80 from 32-bit code (a compatibility code segment) returns to it as natively`, async () => {
      const n = await native('compat');
      const r = await run(prog, ['compat'], { mode });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(n.stdout);
      expect(r.stdout).toContain('32-bit code: i386 write: 16 "from 32-bit code"\n');
      expect(i386(r.stats, 4)).toEqual({ trap: 4, fast: 0, errors: 2 });
    });

    it(`${mode}: i386 calls whose x86-64 twins trapline handles cannot undo the interposer`, async () => {
      const n = await native('emulated');
      const r = await run(prog, ['emulated'], { mode });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(n.stdout);
      expect(r.stdout).toContain('read back: i386 0, SIGSYS blocked 1; libc: 1\n');
      expect(r.stdout).toContain('i386 sigprocmask(SIG_SETMASK, SIGSYS|SIGUSR2): 0; getppid after it: ok; read back 0x40000800; libc: SIGSYS 1 SIGUSR2 1 39 1\n');
      expect(r.stdout).toContain('bytes at the site: 0f 05; a call after: ok\n');
      // 5 getppid through libc, 5 from a site first executed after the i386 prctl
      const g = nrStats(r.stats, 110);
      expect(g.trap + g.fast).toBe(10);
      expect(i386(r.stats, 172).trap).toBe(1);
    });

    it(`${mode}: an i386 execve with a cleared environment: the new program is interposed`, async () => {
      const n = await run(prog, ['exec'], { mode: 'native' });
      expect(n.code).toBe(4);
      expect(n.stdout).toBe('exec child: LD_PRELOAD none, TRAPLINE_* none, i386 getpid pid, ignored SIGSYS 0 SIGSEGV 0\n');
      const r = await run(prog, ['exec'], { mode });
      expect(r.code).toBe(4);
      expect(r.stdout).toBe('exec child: LD_PRELOAD ours, TRAPLINE_* present, i386 getpid pid, ignored SIGSYS 0 SIGSEGV 0\n');
      expect(i386(r.stats, 11).trap).toBe(1);
      expect(i386(r.stats, 20).trap).toBe(1);  // made by the exec'd program
      expect(r.stats!.processList.map((p) => p.exitCode)).toEqual([null, 4]);
    });

    it(`${mode}: SIGSYS and SIGSEGV set to SIG_IGN stay ignored across an i386 execve, as natively`, async () => {
      const n = await run(prog, ['exec-ign'], { mode: 'native' });
      expect(n.code).toBe(4);
      expect(n.stdout).toBe('exec child: LD_PRELOAD none, TRAPLINE_* none, i386 getpid pid, ignored SIGSYS 1 SIGSEGV 1\n');
      const r = await run(prog, ['exec-ign'], { mode });
      expect(r.code).toBe(4);
      expect(r.stdout).toBe('exec child: LD_PRELOAD ours, TRAPLINE_* present, i386 getpid pid, ignored SIGSYS 1 SIGSEGV 1\n');
    });

    it(`${mode}: i386 fork, vfork, clone (a thread), exit and exit_group as natively`, async () => {
      const n = await native('special');
      expect(n.code).toBe(3);
      const r = await run(prog, ['special'], { mode });
      expect(r.code).toBe(3);
      expect(r.stdout).toBe(n.stdout);
      expect(r.stdout).toContain('i386 clone: thread ran 1, child rax 0, child registers kept, child rsp the new stack');
      const s = r.stats!;
      for (const nr of [2, 190, 120, 252]) expect(i386(s, nr).trap).toBe(1);
      expect(i386(s, 1).trap).toBe(3);        // the fork child, the vfork child and the thread
      expect(s.processList.map((p) => p.exitCode).sort()).toEqual([3, 7]);
    });

    it(`${mode}: a trapline.h hook sees int $0x80 calls marked TRAPLINE_ABI_I386 and can answer them`, async () => {
      const hook = hookLibrary('abihook');
      const r = await run(prog, ['hooked'], { mode, hook });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('i386 getpid(ebx=0x4242): 4242 (answered by the hook)\ni386 getpid: pid\ni386 getppid: ppid\n');
      expect(r.stderr).toContain('abihook: i386=3 getpid=2 write=0 fork=0 vfork=0 clone=0 exit=0 exit_group=0 bad_args=0 bad_site=0 x86_64_getpid=1\n');
      // the calls a hook can only ask for, passed on through api->syscall
      const n = await native('special');
      const sp = await run(prog, ['special'], { mode, hook });
      expect(sp.code).toBe(3);
      expect(sp.stdout).toBe(n.stdout);
      expect(sp.stderr).toContain('abihook: i386=6 getpid=0 write=0 fork=1 vfork=1 clone=1 exit=2 exit_group=1 bad_args=0 bad_site=0 x86_64_getpid=0\n');
      const rn = await native('regs');
      const rg = await run(prog, ['regs'], { mode, hook });
      expect(rg.stdout).toBe(rn.stdout);
      expect(rg.stderr).toMatch(/abihook: i386=30 getpid=4 write=6 .* bad_args=0 bad_site=0 /);
    });

    it(`${mode}: a zpoline-ABI hook never receives an int $0x80 call as a 64-bit one`, async () => {
      const hook = hookLibrary('zpwritev');
      const r = await run(prog, ['hooked'], { mode, hook });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('i386 getpid(ebx=0x4242): pid\ni386 getpid: pid\ni386 getppid: ppid\n');
      expect(r.stderr).toMatch(/zpwritev: total=\d+ nr20=0 nr252=0\n/);
      const rn = await native('regs');
      const rg = await run(prog, ['regs'], { mode, hook });
      expect(rg.stdout).toBe(rn.stdout);
      expect(rg.stderr).toMatch(/zpwritev: total=\d+ nr20=0 nr252=0\n/);
      expect(i386(rg.stats, 20).trap).toBe(4);
    });
  }
});

describe('int $0x80 in the reports', () => {
  it('--summary names i386 calls from the i386 table and counts them apart', async () => {
    const r = await trapline(['run', '--mode', 'sud-only', '--summary', '--', prog, 'regs']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\n\s+[\d.]+\s+4\s+0\s+4\s+0\s+i386:getpid\n/);
    expect(r.stderr).toMatch(/\s6\s+4\s+6\s+0\s+i386:write\n/);
    expect(r.stderr).toMatch(/\s2\s+0\s+2\s+0\s+i386:time\n/);   // 13: not rt_sigaction
    expect(r.stderr).toContain('(other i386 numbers)');
    expect(r.stderr).toMatch(/trapping because: .*int80 2\n/);
    expect(r.stderr).toContain('32-bit calls (int $0x80, i386 table): 30, never rewritten');
    expect(r.stderr).not.toMatch(/ writev\n/);
  });
});

// sysenter in 64-bit mode raises #UD on AMD (and Hygon) CPUs; on Intel it enters the
// kernel's 32-bit fast-syscall path, which this suite cannot check against a known result.
const vendor = /vendor_id\s*:\s*(\S+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
const sysenterUd = vendor === 'AuthenticAMD' || vendor === 'HygonGenuine';
if (!sysenterUd) console.log(`int80.test.ts: sysenter tests skipped: CPU vendor ${vendor} (sysenter is #UD from 64-bit code only on AMD)`);

describe('sysenter and x32 numbers', () => {
  for (const mode of modes) {
    it.skipIf(!sysenterUd)(`${mode}: sysenter raises the same SIGILL, at the same address, with the same registers`, async () => {
      const n = await native('sysenter');
      const r = await run(prog, ['sysenter'], { mode });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(n.stdout);
      expect(r.stdout).toContain('signal 4 code 2 si_addr at sysenter rip at sysenter\nregisters at the signal: as loaded\n');
      const nd = await run(prog, ['sysenter-die'], { mode: 'native' });
      const d = await run(prog, ['sysenter-die'], { mode });
      expect(nd.signal).toBe('SIGILL');
      expect(d.signal).toBe(nd.signal);
    });

    it(`${mode}: x32 numbers (bit 30) give the kernel's answer on a first execution and at a rewritten site`, async () => {
      const n = await native('x32');
      const r = await run(prog, ['x32'], { mode });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(n.stdout);
      const s = r.stats!;
      const mine = s.sites.filter((x) => x.module !== null && s.modules[x.module]!.origin === 'main');
      expect(mine.map((x) => x.state)).toEqual(mode === 'lazy' ? ['rewritten', 'rewritten'] : ['trapping', 'trapping']);
      expect(mine.map((x) => x.nrsOther)).toEqual([4, 4]);
      expect(s.otherTrap + s.otherFast).toBe(8);
    });
  }
});

describe('i386 calls on page 0', () => {
  it('lazy: an i386 mmap2 of page 0 is refused (EPERM) and the trampoline survives; sud-only: as natively', async () => {
    const lazy = await run(testProgram('int80'), ['page0'], { mode: 'lazy' });
    expect(lazy.stdout).toBe('mmap2(0, MAP_FIXED) -> EPERM\nmremap(0, ...) -> EFAULT\ncalls after: ok\n');
    const native = await run(testProgram('int80'), ['page0'], { mode: 'native' });
    const sud = await run(testProgram('int80'), ['page0'], { mode: 'sud-only' });
    expect(sud.stdout).toBe(native.stdout);
  });
});

describe('i386 clone3', () => {
  it.each(modes)('%s: a fork by int $0x80 clone3 works as natively (ecx is the struct size, not a stack)', async (mode) => {
    const native = await run(testProgram('int80'), ['clone3fork'], { mode: 'native' });
    expect(native.stdout).toBe('clone3 fork: child exited 7\n');
    const r = await run(testProgram('int80'), ['clone3fork'], { mode });
    expect(r.stdout).toBe(native.stdout);
  });
});

// Policies (docs/policies.md, "i386 calls"): a rule's names resolve in each personality's
// table, so `chmod` selects i386 chmod (15, x86-64 rt_sigreturn) and never x86-64 15; the
// trace records the call with its i386 number (abi 'i386').
const SYSCALL_NUMBERS = Object.fromEntries(Object.entries(SYSCALL_NAMES).map(([nr, name]) => [name, Number(nr)]));

describe('policies on int $0x80 calls', () => {
  const apiModes = [['sud-only', { mode: 'sud-only' }], ['lazy', { mode: 'lazy', allowNullReads: true }]] as const;
  it.each(apiModes)('%s: trace and deny by name select the i386 calls of that name, and no other', async (_m, mopts) => {
    const n = await native('regs');
    const t = await runApi(prog, ['regs'], { trace: { calls: ['getpid', 'chmod'] }, stdio: 'pipe', ...mopts });
    expect(t.stdout).toBe(n.stdout);
    const ev = (t.events ?? []).map((e) => [e.abi, e.abi === 'i386' ? I386_SYSCALL_NAMES[e.nr] : SYSCALL_NAMES[e.nr]].join(' '));
    // cmd_regs' own getpid() (x86-64), then per pass: getpid twice (20, and 20 with upper bits), chmod
    const pass = ['i386 getpid', 'i386 getpid', 'i386 chmod'];
    expect(ev).toEqual(['x86_64 getpid', ...pass, ...pass]);
    const i386Ev = (t.events ?? []).filter((e) => e.abi === 'i386');
    expect(i386Ev.map((e) => e.nr)).toEqual([20, 20, 15, 20, 20, 15]);
    expect(i386Ev.every((e) => e.site.module?.endsWith('/int80'))).toBe(true);
    // deny chmod: the i386 chmod fails with EACCES (the file keeps its 0600)
    const d = await runApi(prog, ['regs'], { deny: [{ calls: ['chmod'], error: 'EACCES' }], stdio: 'pipe', ...mopts });
    expect(d.stdout).toBe(n.stdout.replaceAll('i386 chmod (x86-64 rt_sigreturn): 0, mode 640', 'i386 chmod (x86-64 rt_sigreturn): -13, mode 600'));
    // deny exit (x86-64 60): i386 60 is umask, untouched
    const x = await runApi(prog, ['regs'], { deny: [{ calls: ['exit'], error: 'EPERM' }], stdio: 'pipe', ...mopts });
    expect(x.stdout).toBe(n.stdout);
  });

  it.each(apiModes)('%s: 32-bit variants count as their x86-64 call (getuid32: getuid); when= counts per personality', async (_m, mopts) => {
    const n = await native('regs');
    // inject into the 2nd getpid of each personality: the x86-64 table's 2nd is never made
    // (cmd_regs makes one), the i386 table's 2nd is pass 1's getpid with upper bits
    const r = await runApi(prog, ['regs'], { inject: [{ calls: ['getpid'], retval: 1, when: 2 }], stdio: 'pipe', ...mopts });
    const lines = n.stdout.split('\n');
    const at = lines.indexOf('getpid nr 0x100000014: pid');
    lines[at] = 'getpid nr 0x100000014: WRONG';
    expect(r.stdout).toBe(lines.join('\n'));
    expect(i386Numbers([SYSCALL_NUMBERS.getuid as number])).toEqual([24, 199]);       // getuid, getuid32
    expect(i386Numbers([SYSCALL_NUMBERS.stat as number, SYSCALL_NUMBERS.mmap as number])).toEqual([18, 90, 106, 192, 195]);
    expect(i386Numbers([SYSCALL_NUMBERS.socket as number])).toEqual([359]);           // not socketcall (102)
  });
});
