// `npm run bench`: getppid cost uninterposed / with SUD alone / under trapline, under each
// kind of policy rule (trace, inject, deny; --policies: that part alone), and
// through pass-through hooks of both ABIs (with and without TRAPLINE_HOOK_NO_VECTOR), the
// cost of the first execution of a new syscall site, libc read+write and `dd bs=1` with and
// without a hook (and under SUD alone, bench/sudfloor/sudfloor.c),
// and start-up cost of short programs (uninterposed, preloaded or entered, lazy or with a
// learned plan; --startup: that part alone), and real programs (python3, make, gcc,
// sqlite3, git, tar | gzip: native, SUD floor, trapline, trapline with a pass-through
// hook; --macro [NAME]: that part alone, or only the workloads whose name starts with
// NAME). Clock time only; ratios are relative to the uninterposed run of the same
// invocation.
// Options: --iter N (default 2,000,000), --quick (200,000), --json, --policies, --startup,
// --macro [NAME].
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync as mkdirSyncP, mkdtempSync, rmSync, writeFileSync as writeFileSyncP } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'build/bench/getppid');
const startupBin = join(root, 'build/bench/startup');
const launcher = join(root, 'build/lib/trapline-exec');
const lib = join(root, 'build/lib/libtrapline.so');
// the floor of any SUD interposer for a whole program: SUD on, selector ALLOW, nothing else
const sudFloor = join(root, 'build/bench/libsudfloor.so');
const hook = (stem) => join(root, `build/test/hooks/lib${stem}.so`);
for (const f of [bin, startupBin, sudFloor, launcher, lib, join(root, 'dist/index.js'), hook('zppass'), hook('zppassgr'), hook('passhook'), hook('passhookgr')]) {
  if (!existsSync(f)) {
    console.error(`bench: ${f} is missing: run npm install first`);
    process.exit(1);
  }
}

const args = process.argv.slice(2);
let iter = 2_000_000;
let json = false;
let onlyPolicies = false;
let onlyStartup = false;
let onlyMacro;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--quick') iter = 200_000;
  else if (args[i] === '--json') json = true;
  else if (args[i] === '--policies') onlyPolicies = true;
  else if (args[i] === '--startup') onlyStartup = true;
  else if (args[i] === '--macro') onlyMacro = /^[a-z]/.test(args[i + 1] ?? '') ? args[++i] : '';
  else if (args[i] === '--iter' && /^[1-9][0-9]*$/.test(args[i + 1] ?? '')) iter = Number(args[++i]);
  else {
    console.error('usage: node bench/run.mjs [--iter N | --quick] [--json] [--policies | --startup | --macro [NAME]]');
    process.exit(2);
  }
}
const RUNS = 3;
const SITES = 2000;

// A clean environment per configuration: no inherited LD_PRELOAD or TRAPLINE_*.
const base = Object.fromEntries(Object.entries(process.env)
  .filter(([k]) => k !== 'LD_PRELOAD' && !k.startsWith('TRAPLINE_')));
const configs = {
  uninterposed: { env: base },
  sud_baseline: { env: base, extra: 'sud-baseline' },
  lazy: { env: { ...base, LD_PRELOAD: lib, TRAPLINE_MODE: 'lazy', TRAPLINE_ALLOW_NULL_READS: '1' } },
  lazy_stats: { env: { ...base, LD_PRELOAD: lib, TRAPLINE_MODE: 'lazy', TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_STATS: '' } },
  sud_only: { env: { ...base, LD_PRELOAD: lib, TRAPLINE_MODE: 'sud-only' } },
  // SUD enabled by the bench itself, no interposer: the kernel's floor (first-site-sud)
  sud_floor: { env: base, extra: 'first-site-sud' },
};
// pass-through hooks (test/hooks/): zpoline ABI and trapline.h, each also declared
// TRAPLINE_HOOK_NO_VECTOR (built with -mgeneral-regs-only)
const hookConfigs = {
  hook_zp: 'zppass', hook_zp_nv: 'zppassgr', hook_native: 'passhook', hook_native_nv: 'passhookgr',
};
for (const [name, stem] of Object.entries(hookConfigs)) configs[name] = { env: { ...configs.lazy.env, TRAPLINE_HOOK: hook(stem) } };
configs.sud_floor = { env: { ...base, LD_PRELOAD: sudFloor } };

// Run the bench once; returns { mode, <key>: number, ... } from its "key value" lines.
let statsSeq = 0;
function run(name, extra) {
  const argv = [String(iter), ...(extra ? [extra] : [])];
  const env = { ...configs[name].env };
  // a fresh statistics segment per run (removed afterwards)
  const statsFile = env.TRAPLINE_STATS === '' ? join(tmpdir(), `trapline-bench-${process.pid}-${statsSeq++}`) : undefined;
  if (statsFile) env.TRAPLINE_STATS = statsFile;
  const r = spawnSync(bin, argv, { env, encoding: 'utf8' });
  if (statsFile) rmSync(statsFile, { force: true });
  if (r.status !== 0) {
    console.error(`bench: ${name}: getppid ${argv.join(' ')} failed (${r.error ?? `exit ${r.status ?? r.signal}`})\n${r.stderr}`);
    process.exit(1);
  }
  const out = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [k, ...v] = line.split(' ');
    out[k] = k === 'mode' ? v.join(' ') : k === 'ns_reps' ? v.map(Number) : Number(v[0]);
  }
  return out;
}

// RUNS rounds, configurations alternating (A B C A B C ...), minimum of each field
// (ns_reps: every repetition of every round, for min / median / max; all.<field>: the
// field of every round). A configuration with its own extra (sud_floor) keeps it.
function best(names, extra) {
  const res = {};
  for (let i = 0; i < RUNS; i++) {
    for (const n of names) {
      const o = run(n, configs[n].extra ?? extra);
      if (!res[n]) res[n] = { ...o, all: {} };
      else for (const k of Object.keys(o)) {
        if (k === 'ns_reps') res[n][k] = res[n][k].concat(o[k]);
        else if (k !== 'mode') res[n][k] = Math.min(res[n][k], o[k]);
      }
      for (const k of Object.keys(o)) if (k !== 'mode' && k !== 'ns_reps') (res[n].all[k] ??= []).push(o[k]);
    }
  }
  return res;
}
const spread = (a) => {
  const v = [...a].sort((p, q) => p - q);
  return { min: v[0], median: v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2, max: v[v.length - 1] };
};

const { planFromStats, readStats, writePlanAtomic } = await import(join(root, 'dist/index.js'));
const work = mkdtempSync(join(tmpdir(), 'trapline-bench-'));
const quick = iter < 2_000_000;
// Start-up: each command run repeatedly by build/bench/startup (posix_spawn + wait, the
// driver itself uninterposed), the configurations alternating round by round; a plan
// learned by one interposed run of the same command. Every round's time per run is kept:
// min, median and max of RUNS invocations x 5 rounds.
function measureStartup() {
  const commands = [
    { name: '/bin/true', argv: ['/bin/true'], n: quick ? 100 : 400 },
    { name: 'ls /usr/bin', argv: ['ls', '/usr/bin'], n: quick ? 20 : 80 },
  ];
  const startup = (argv, n, vars) => {
    const r = spawnSync(startupBin, [String(n), '5', ...vars, '--', ...argv], { env: base, encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`bench: startup ${argv.join(' ')} failed (${r.error ?? `exit ${r.status ?? r.signal}`})\n${r.stderr}`);
      process.exit(1);
    }
    return /rounds_ns ([\d ]+)/.exec(r.stdout)[1].trim().split(' ').map(Number);
  };
  const start = {};
  for (const [i, c] of commands.entries()) {
    const statsFile = join(work, `learn-${i}`);
    const learn = spawnSync(c.argv[0], c.argv.slice(1), { env: { ...base, LD_PRELOAD: lib, TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_STATS: statsFile }, stdio: 'ignore' });
    if (learn.status !== 0) { console.error(`bench: learning run of ${c.name} failed`); process.exit(1); }
    const planFile = join(work, `plan-${i}`);
    const plan = planFromStats(readStats(statsFile));
    writePlanAtomic(planFile, plan);
    const sites = [...plan.modules.values()].reduce((a, m) => a + m.sites.size, 0);
    const cfg = {
      uninterposed: [[], c.argv],
      lazy: [[`LD_PRELOAD=${lib}`, 'TRAPLINE_ALLOW_NULL_READS=1'], c.argv],
      plan: [[`LD_PRELOAD=${lib}`, 'TRAPLINE_ALLOW_NULL_READS=1', `TRAPLINE_PLAN=${planFile}`], c.argv],
      // entered at its first instruction, through the launcher (what `trapline run` does)
      entered: [['TRAPLINE_ALLOW_NULL_READS=1'], [launcher, ...c.argv]],
      entered_plan: [['TRAPLINE_ALLOW_NULL_READS=1', `TRAPLINE_PLAN=${planFile}`], [launcher, ...c.argv]],
    };
    const all = Object.fromEntries(Object.keys(cfg).map((k) => [k, []]));
    for (let round = 0; round < RUNS; round++)
      for (const [k, [vars, argv]] of Object.entries(cfg)) all[k].push(...startup(argv, c.n, vars));
    const res = { sites, spread: {} };
    for (const k of Object.keys(cfg)) {
      res.spread[k] = spread(all[k]);
      res[k] = res.spread[k].min;
    }
    // system calls made, counted by strace when it is installed (trapline's own = the
    // difference with the uninterposed run; an entered run cannot be traced by strace)
    const straceCalls = (vars) => {
      // the settings for the traced program only (-E): strace itself must not be interposed
      const r = spawnSync('strace', ['-f', '-c', ...vars.flatMap((v) => ['-E', v]), ...c.argv], { env: base, encoding: 'utf8', maxBuffer: 64 << 20 });
      const m = r.status === 0 ? /\n\S+\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?total\n/.exec(r.stderr) : null;
      return m ? Number(m[1]) : undefined;
    };
    res.calls = Object.fromEntries(['uninterposed', 'lazy', 'plan'].map((k) => [k, straceCalls(cfg[k][0])]));
    for (const k of Object.keys(cfg)) if (k !== 'uninterposed') res[`${k}_ratio`] = res[k] / res.uninterposed;
    start[c.name] = res;
  }
  return start;
}
function printStartup(start) {
  console.log(`start-up cost per run (min, median, max of ${RUNS} runs x 5 rounds, configurations alternating; ratios of`);
  console.log('  the min and the median to uninterposed; plan learned by one earlier run)');
  const us = (v) => (v / 1000).toFixed(0).padStart(7) + ' us';
  const x2 = (v) => ((v >= 10 ? v.toFixed(1) : v.toFixed(2)) + 'x').padStart(8);
  for (const [name, r] of Object.entries(start)) {
    const s0 = r.spread.uninterposed;
    const srow = (label, k, note = '') => {
      const s = r.spread[k];
      console.log(`  ${label.padEnd(27)}${us(s.min)}${us(s.median)}${us(s.max)}${x2(s.min / s0.min)}${x2(s.median / s0.median)}${note && '   ' + note}`);
    };
    srow(`${name}, uninterposed`, 'uninterposed');
    srow(`${name}, lazy`, 'lazy', '(preloaded; every site traps once)');
    srow(`${name}, with plan`, 'plan', `(preloaded; ${r.sites} planned sites rewritten at start-up)`);
    srow(`${name}, entered`, 'entered', '(lazy, from the first instruction: launcher + injector)');
    srow(`${name}, entered + plan`, 'entered_plan', '(the same with the plan)');
    if (r.calls.uninterposed !== undefined)
      console.log(`  ${name}: system calls ${r.calls.uninterposed} uninterposed, ${r.calls.lazy} lazy (+${r.calls.lazy - r.calls.uninterposed}), ${r.calls.plan} with plan (+${r.calls.plan - r.calls.uninterposed}) (strace -f -c)`);
  }
}
if (onlyStartup) {
  printStartup(measureStartup());
  process.exit(0);
}

// Real programs (the macro suite, issue 15): each workload run repeatedly by the
// start-up driver (posix_spawn + wait, itself uninterposed), in its own scratch directory,
// in five configurations alternating round by round: native; the SUD floor (a tiny
// LD_PRELOAD library that switches Syscall User Dispatch on, every call allowed, in every
// thread and forked child, and does nothing else: what no SUD interposer can avoid);
// trapline in the rewriting mode (with the null-reads opt-in as above); the same with a
// pass-through hook (zpoline ABI, vector registers saved); the same without a hook, its
// exec'd programs preloaded rather than entered. A workload whose tool is
// missing is skipped with a note. Every round's time per run is kept: min, median, max.
const macroCfg = {
  native: [],
  sud_floor: [`LD_PRELOAD=${sudFloor}`],
  lazy: [`LD_PRELOAD=${lib}`, 'TRAPLINE_ALLOW_NULL_READS=1'],
  lazy_hook: [`LD_PRELOAD=${lib}`, 'TRAPLINE_ALLOW_NULL_READS=1', `TRAPLINE_HOOK=${hook('zppass')}`],
  // the same as lazy, but the programs it execs start the preload way too (by default
  // each is entered at its first instruction, through a tracer): the entered exec's share
  lazy_preload_execs: [`LD_PRELOAD=${lib}`, 'TRAPLINE_ALLOW_NULL_READS=1', 'TRAPLINE_ENTRY=preload'],
};
const python3Exe = () => spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { env: base, encoding: 'utf8' }).stdout?.trim() || 'python3';
function measureMacro(only) {
  const macro = {};
  const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
  // in memory when it can be: the disk's time (git's and sqlite3's writes, fsync, unlink)
  // varies by hundreds of ms here and is no one's cost
  const mdir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/trapline-bench-macro-') : join(work, 'macro');
  mkdirSyncP(mdir, { recursive: true });
  const cfile = (i) => `#include <stdio.h>\n#include <string.h>\nint f${i}(const char *s) { char b[64]; snprintf(b, sizeof b, "%s-${i}", s); return (int)strlen(b); }\n`;
  for (let i = 0; i < 4; i++) writeFileSyncP(join(mdir, `m${i}.c`), cfile(i));
  writeFileSyncP(join(mdir, 'main.c'), '#include <stdio.h>\nint f0(const char *);\nint main(void) { printf("%d\\n", f0("x")); return 0; }\n');
  writeFileSyncP(join(mdir, 'Makefile'), 'all: prog\nprog: main.o m0.o m1.o m2.o m3.o\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) -O1 -c -o $@ $<\n');
  writeFileSyncP(join(mdir, 'work.py'), [
    'import os, subprocess, threading, tempfile',
    'def worker(n):',
    '    with tempfile.TemporaryFile() as f:',
    '        for i in range(200): f.write(os.urandom(64)); f.flush()',
    't = [threading.Thread(target=worker, args=(i,)) for i in range(4)]',
    '[x.start() for x in t]',
    'for i in range(3): subprocess.run(["true"])',
    '[x.join() for x in t]', ''].join('\n'));
  const tree = join(mdir, 'tree');
  for (let d = 0; d < 10; d++) {
    mkdirSyncP(join(tree, `d${d}`), { recursive: true });
    for (let f = 0; f < 30; f++) writeFileSyncP(join(tree, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`.repeat(40));
  }
  const sql = ['CREATE TABLE t(a INTEGER, b TEXT);', 'BEGIN;'];
  for (let i = 0; i < 5000; i++) sql.push(`INSERT INTO t VALUES(${i}, 'row ${i}');`);
  sql.push('COMMIT;');
  writeFileSyncP(join(mdir, 'inserts.sql'), sql.join('\n'));
  const workloads = [
    // the interpreter itself, not a version manager's shim script in front of it (pyenv's
    // runs bash and several more processes per start)
    { name: 'python3 threads+subprocess', tool: 'python3', argv: [python3Exe(), 'work.py'] },
    { name: 'make -j2 (5 C files)', tool: 'make', argv: ['sh', '-c', 'make -s -B -j2 >/dev/null'] },
    { name: 'gcc compile+link', tool: 'gcc', argv: ['gcc', '-O1', '-o', 'single', 'main.c', 'm0.c'] },
    { name: 'sqlite3 5000 inserts', tool: 'sqlite3', argv: ['sh', '-c', 'rm -f db.sqlite && sqlite3 db.sqlite < inserts.sql'] },
    // core.fsync=none: the disk's flush time (hundreds of ms, varying) is no one's cost here
    { name: 'git add+commit 300 files', tool: 'git', argv: ['sh', '-c', 'cd tree && rm -rf .git && git init -q && git -c core.fsync=none add -A && git -c core.fsync=none -c user.name=b -c user.email=b@b commit -qm x'] },
    { name: 'tar | gzip of 300 files', tool: 'gzip', argv: ['sh', '-c', 'tar cf - tree | gzip -6 > /dev/null'] },
  ];
  for (const w of workloads) {
    if (only && !w.name.startsWith(only)) continue;
    if (!have(w.tool)) { macro[w.name] = { skipped: `${w.tool} not installed` }; continue; }
    const all = Object.fromEntries(Object.keys(macroCfg).map((k) => [k, []]));
    let failed;
    for (let round = 0; round < RUNS && !failed; round++) {
      for (const [k, vars] of Object.entries(macroCfg)) {
        const r = spawnSync(startupBin, [String(quick ? 2 : 5), '3', ...vars, '--', ...w.argv], { env: base, cwd: mdir, encoding: 'utf8' });
        if (r.status !== 0) { failed = `${k}: ${(r.stderr || '').trim().split('\n').pop()}`; break; }
        all[k].push(...(/rounds_ns ([\d ]+)/.exec(r.stdout)[1].trim().split(' ').map(Number)));
      }
    }
    if (failed) { macro[w.name] = { failed }; continue; }
    const res = { spread: {} };
    for (const k of Object.keys(macroCfg)) res.spread[k] = spread(all[k]);
    for (const k of Object.keys(macroCfg)) {
      res[`${k}_ratio`] = res.spread[k].min / res.spread.native.min;
      res[`${k}_ratio_median`] = res.spread[k].median / res.spread.native.median;
    }
    macro[w.name] = res;
  }
  rmSync(mdir, { recursive: true, force: true });
  return macro;
}
function printMacro(macro) {
  console.log(`real programs (wall time per run: min, median, max of ${RUNS} runs x 3 rounds of ${quick ? 2 : 5}, configurations`);
  console.log('  alternating; ratios of the min and the median to native)');
  const msNs = (v) => (v / 1e6).toFixed(1).padStart(7) + ' ms';
  const x2 = (v) => ((v >= 10 ? v.toFixed(1) : v.toFixed(2)) + 'x').padStart(8);
  const labels = {
    native: 'native', sud_floor: 'SUD floor', lazy: 'trapline lazy', lazy_hook: 'lazy + pass-through hook',
    lazy_preload_execs: 'lazy, execs preloaded',
  };
  const notes = {
    sud_floor: '(SUD on, every call allowed; no interposer)', lazy: '(the rewriting mode)', lazy_hook: '(zpoline ABI, vector registers saved)',
    lazy_preload_execs: '(TRAPLINE_ENTRY=preload: exec\'d programs not entered)',
  };
  for (const [name, r] of Object.entries(macro)) {
    if (r.skipped || r.failed) { console.log(`  ${name.padEnd(27)}  skipped (${r.skipped ?? r.failed})`); continue; }
    console.log(`  ${name}`);
    for (const k of Object.keys(macroCfg)) {
      const s = r.spread[k];
      console.log(`    ${labels[k].padEnd(25)}${msNs(s.min)}${msNs(s.median)}${msNs(s.max)}${x2(r[`${k}_ratio`])}${x2(r[`${k}_ratio_median`])}${notes[k] ? '   ' + notes[k] : ''}`);
    }
  }
}
if (onlyMacro !== undefined) {
  const m = measureMacro(onlyMacro);
  rmSync(work, { recursive: true, force: true });
  if (json) console.log(JSON.stringify({ runs: RUNS, macro: m }, null, 2));
  else printMacro(m);
  process.exit(0);
}

// ---- policies (docs/policies.md): the getppid loop under one rule each, in lazy and
// sud-only mode. Rule files and trace segments are made fresh for every run (ts/src/trace.ts).
const { createSegment, policyText } = await import(join(root, 'dist/trace.js'));
const polDir = mkdtempSync(join(tmpdir(), 'trapline-bench-policy-'));
let polSeq = 0;
const GETPPID = 110;
const rule = (action, extra = {}) => ({ action, nrs: [GETPPID], scope: {}, text: action, ...extra });
/** a policy file (and, with a trace rule, a segment whose ring holds every record of a run:
 *  the producer's cost without a reader to wait for) */
function policyFile(rules, traceRing) {
  const dir = join(polDir, String(polSeq++));
  mkdirSyncP(dir);
  let trace;
  if (traceRing) {
    const path = join(dir, 'trace');
    trace = { strsize: 32, lossy: true, path, cookie: createSegment(path, { rings: 2, ringSize: traceRing, modules: 64 }, 1) };
  }
  const file = join(dir, 'policy');
  writeFileSyncP(file, policyText(rules, trace), { mode: 0o600 });
  return file;
}
const polConfigs = {
  none: [{ action: 'deny', nrs: [41], scope: {}, text: 'deny=socket', error: 13 }],   // selects nothing the loop calls
  // selects getppid, but only from another module: the loop's site stays on the fast path
  scoped_elsewhere: [rule('deny', { error: 1, scope: { module: 'libnothing.so' } })],
  deny: [rule('deny', { error: 1 })],
  inject_error: [rule('inject', { error: 5 })],
  inject_retval: [rule('inject', { retval: 7n })],
  trace: [rule('trace')],
  // getppid() through libc (`getppid ITER libc`): its site is libc's
  libc_baseline: [],
  // a module-scoped rule on another number: libc's getppid site stays as it was
  libc_scoped_other_nr: [{ action: 'deny', nrs: [41], scope: { module: 'libnothing.so' }, text: 'deny=socket', error: 13 }],
  // a module-scoped rule on getppid: every call at libc's site is attributed to its caller
  // (one frame unwound by libc's CFI, the caller's module looked up), then passes
  libc_scoped_caller: [rule('deny', { error: 1, scope: { module: 'libnothing.so' } })],
  // the same rule selecting the caller: every call is denied (no call is made)
  libc_scoped_deny: [rule('deny', { error: 1, scope: { origin: 'main' } })],
};
function polRun(mode, name, n) {
  const env = { ...(mode === 'lazy' ? configs.lazy.env : configs.sud_only.env), TRAPLINE_QUIET: '1' };
  if (name !== 'baseline' && name !== 'libc_baseline') env.TRAPLINE_POLICY = policyFile(polConfigs[name], name === 'trace' ? 64 << 20 : 0);
  const r = spawnSync(bin, [String(n), ...(name.startsWith('libc_') ? ['libc'] : [])], { env, encoding: 'utf8' });
  if (r.status !== 0) { console.error(`bench: policy ${mode} ${name} failed\n${r.stderr}`); process.exit(1); }
  return r.stdout.split('\n').find((l) => l.startsWith('ns_reps')).split(' ').slice(1).map(Number);
}
// the producer's cost without waiting needs every record in the ring: fewer calls per rep
const polIter = Math.min(iter, 50_000);
const polRes = { lazy: {}, 'sud-only': {} };
const polUninterposed = [];
for (let round = 0; round < RUNS; round++) {
  const u = spawnSync(bin, [String(polIter)], { env: base, encoding: 'utf8' });
  polUninterposed.push(...u.stdout.split('\n').find((l) => l.startsWith('ns_reps')).split(' ').slice(1).map(Number));
  for (const mode of ['lazy', 'sud-only'])
    for (const name of ['baseline', ...Object.keys(polConfigs)]) (polRes[mode][name] ??= []).push(...polRun(mode, name, polIter));
}
// trace with its reader: the API's spawn(), every event read (lossless: the program waits
// for the reader when its ring is full) and, lossy, dropped when it is
const { spawn: apiSpawn } = await import(join(root, 'dist/index.js'));
for (const lossy of [false, true]) {
  const key = lossy ? 'trace_read_lossy' : 'trace_read';
  for (let round = 0; round < RUNS; round++) {
    const p = apiSpawn(bin, [String(polIter)], { mode: 'lazy', allowNullReads: true, trace: { calls: ['getppid'], lossy }, stdio: 'pipe', env: { ...base, TRAPLINE_QUIET: '1' } });
    let events = 0;
    for await (const e of p.events()) if (e.nr === GETPPID) events++;
    const exit = await p.exited;
    (polRes.lazy[key] ??= []).push(...exit.stdout.split('\n').find((l) => l.startsWith('ns_reps')).split(' ').slice(1).map(Number));
    (polRes.lazy[`${key}_dropped`] ??= []).push(exit.trace.dropped / (events + exit.trace.dropped));
  }
}
const polBase = spread(polUninterposed).median;
const policies = { iter: polIter, uninterposed: spread(polUninterposed) };
for (const mode of Object.keys(polRes)) {
  policies[mode] = {};
  for (const [name, reps] of Object.entries(polRes[mode])) {
    if (name.endsWith('_dropped')) { policies[mode][name] = spread(reps); continue; }
    policies[mode][name] = { ns: spread(reps), ratio: spread(reps.map((v) => v / polBase)) };
  }
}
rmSync(polDir, { recursive: true, force: true });
// dd bs=1 to a file: native, traced by trapline (every call, `trapline trace -o`), by strace
const ddPolCount = iter < 2_000_000 ? '200K' : '2M';
const ddPol = {};
{
  const out = join(tmpdir(), `trapline-bench-dd-${process.pid}`);
  const cmds = {
    uninterposed: [['dd', `if=/dev/zero`, `of=${out}.dat`, 'bs=1', `count=${ddPolCount}`], base],
    // lazy (the rewriting mode; on a CPU without protection keys the null-reads opt-in, as
    // above), and the default mode (sud-only on such a CPU: every call traps)
    trapline_trace: [[process.execPath, join(root, 'dist/cli.js'), 'trace', '-o', `${out}.trace`, '--', 'dd', 'if=/dev/zero', `of=${out}.dat`, 'bs=1', `count=${ddPolCount}`], { ...base, TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_QUIET: '1' }],
    trapline_trace_lossy: [[process.execPath, join(root, 'dist/cli.js'), 'trace', '--lossy', '-o', `${out}.trace`, '--', 'dd', 'if=/dev/zero', `of=${out}.dat`, 'bs=1', `count=${ddPolCount}`], { ...base, TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_QUIET: '1' }],
    trapline_trace_default_mode: [[process.execPath, join(root, 'dist/cli.js'), 'trace', '-o', `${out}.trace`, '--', 'dd', 'if=/dev/zero', `of=${out}.dat`, 'bs=1', `count=${ddPolCount}`], { ...base, TRAPLINE_QUIET: '1' }],
    trapline_no_trace: [[join(root, 'build/lib/trapline-exec'), '--', 'dd', 'if=/dev/zero', `of=${out}.dat`, 'bs=1', `count=${ddPolCount}`], { ...base, TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_QUIET: '1' }],
    strace: [['strace', '-f', '-o', `${out}.strace`, 'dd', 'if=/dev/zero', `of=${out}.dat`, 'bs=1', `count=${ddPolCount}`], base],
    // of=/dev/null, 2M bytes (4M calls) even with --quick: the program's own work is
    // smallest there, so the trace's share is largest (the gap measured against native)
    uninterposed_devnull: [['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=2M'], base],
    trapline_trace_devnull: [[process.execPath, join(root, 'dist/cli.js'), 'trace', '-o', `${out}.trace`, '--', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=2M'], { ...base, TRAPLINE_ALLOW_NULL_READS: '1', TRAPLINE_QUIET: '1' }],
    ...(iter < 2_000_000 ? {} : { strace_devnull: [['strace', '-f', '-o', `${out}.strace`, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=2M'], base] }),
  };
  const haveStrace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).status === 0;
  for (let round = 0; round < RUNS; round++) {
    for (const [k, [argv, env]] of Object.entries(cmds)) {
      if (k.startsWith('strace') && !haveStrace) continue;
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
      const t = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) { console.error(`bench: dd (${k}) failed`); process.exit(1); }
      (ddPol[k] ??= []).push(t);
    }
  }
  for (const f of ['dat', 'trace', 'strace']) rmSync(`${out}.${f}`, { force: true });
  for (const k of Object.keys(ddPol)) ddPol[k] = spread(ddPol[k]);
}
const printPolicies = () => {
  const r3 = (v) => ((v >= 10 ? v.toFixed(1) : v.toFixed(2)) + 'x').padStart(8);
  const ns = (v) => (v >= 1000 ? v.toFixed(0) : v.toFixed(1)).padStart(7) + ' ns';
  console.log(`policies: getppid via inline syscall under one rule (${RUNS} runs x 7 reps of ${polIter} calls; ns per call`);
  console.log('  min, median, max; ratio to the uninterposed median: min, median, max)');
  const u = policies.uninterposed;
  console.log(`  ${'uninterposed'.padEnd(34)}${ns(u.min)}${ns(u.median)}${ns(u.max)}`);
  const labels = {
    baseline: 'no policy', none: 'a rule selecting nothing it calls', scoped_elsewhere: 'deny getppid from another module',
    deny: 'deny (EPERM, not performed)',
    inject_error: 'inject error=EIO', inject_retval: 'inject retval=7', trace: 'trace (ring has room: no reader)',
    trace_read: 'trace, read by the API (lossless)', trace_read_lossy: 'trace, read by the API (lossy)',
    libc_baseline: 'libc getppid(), no policy', libc_scoped_other_nr: 'libc, scoped rule, other nr',
    libc_scoped_caller: 'libc, getppid from other module', libc_scoped_deny: 'libc, deny getppid from @main',
  };
  for (const mode of ['lazy', 'sud-only']) {
    for (const [name, v] of Object.entries(policies[mode])) {
      if (name.endsWith('_dropped')) continue;
      const drop = policies[mode][`${name}_dropped`];
      const note = drop ? `  (${(drop.median * 100).toFixed(0)}% of records dropped)` : '';
      console.log(`  ${`${mode}: ${labels[name] ?? name}`.padEnd(34)}${ns(v.ns.min)}${ns(v.ns.median)}${ns(v.ns.max)}${r3(v.ratio.min)}${r3(v.ratio.median)}${r3(v.ratio.max)}${note}`);
    }
  }
  console.log(`dd if=/dev/zero of=FILE bs=1 count=${ddPolCount} (_devnull: of=/dev/null count=2M), every call traced into a file`);
  console.log(`  (wall time; min, median, max of ${RUNS} runs; ratio to uninterposed: min, median, max)`);
  for (const [k, d] of Object.entries(ddPol)) {
    const d0 = k.endsWith('_devnull') ? ddPol.uninterposed_devnull : ddPol.uninterposed;
    console.log(`  ${k.padEnd(34)}${(d.min.toFixed(0) + ' ms').padStart(10)}${(d.median.toFixed(0) + ' ms').padStart(10)}${(d.max.toFixed(0) + ' ms').padStart(10)}${r3(d.min / d0.min)}${r3(d.median / d0.median)}${r3(d.max / d0.max)}`);
  }
};
if (onlyPolicies) {
  if (json) console.log(JSON.stringify({ policies, ddTrace: { count: ddPolCount, ms: ddPol } }, null, 2));
  else printPolicies();
  process.exit(0);
}

const loop = best(['uninterposed', 'sud_baseline', 'lazy', 'lazy_stats', 'sud_only', ...Object.keys(hookConfigs)]);
const hooked = {};
for (const n of ['uninterposed', 'lazy', ...Object.keys(hookConfigs)]) hooked[n] = spread(loop[n].ns_reps);

// read+write through libc (`getppid ITER rw`): dd's calls without dd's own work, per call,
// each layer's cost over the one below it (SUD alone, the fast path, the hook, the save)
const rwNames = ['uninterposed', 'sud_floor', 'lazy', ...Object.keys(hookConfigs)];
const rwLoop = best(rwNames, 'rw');
const rw = Object.fromEntries(rwNames.map((n) => [n, spread(rwLoop[n].ns_reps)]));

// dd bs=1: two calls (read, write) per byte, through the rewritten sites of libc; wall
// time of the whole process, RUNS x 3 rounds alternating
const ddCount = iter < 2_000_000 ? '200K' : '2M';
const ddConfigs = { uninterposed: base, sud_floor: { ...base, LD_PRELOAD: sudFloor }, lazy: configs.lazy.env, hook_zp: configs.hook_zp.env, hook_zp_nv: configs.hook_zp_nv.env };
const ddTimes = Object.fromEntries(Object.keys(ddConfigs).map((k) => [k, []]));
for (let i = 0; i < RUNS * 3; i++) {
  for (const [k, env] of Object.entries(ddConfigs)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${ddCount}`], { env, stdio: 'ignore' });
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) { console.error(`bench: dd (${k}) failed (${r.error ?? `exit ${r.status ?? r.signal}`})`); process.exit(1); }
    ddTimes[k].push(t);
  }
}
const dd = Object.fromEntries(Object.entries(ddTimes).map(([k, v]) => [k, spread(v)]));
const first = best(['uninterposed', 'sud_floor', 'lazy', 'lazy_stats', 'sud_only'], 'first-site');
const firstFile = best(['uninterposed', 'lazy', 'lazy_stats'], 'first-site-file');
const lazyRan = loop.lazy.mode === 'lazy';
const b0 = loop.uninterposed.ns_per_call;
const f0 = first.uninterposed.first_ns;
for (const o of Object.values(loop)) o.ratio = o.ns_per_call / b0;
for (const o of Object.values(first)) {
  o.first_ratio = o.first_ns / f0;
  o.second_ratio = o.second_ns / f0;
}
const ff0 = firstFile.uninterposed.first_ns;
for (const o of Object.values(firstFile)) {
  o.first_ratio = o.first_ns / ff0;
  o.second_ratio = o.second_ns / ff0;
}
// the JIT first-hit figure against the file-backed one (costs over native)
const jitVsFile = (first.lazy.first_ns - f0) / (firstFile.lazy.first_ns - ff0);

const start = measureStartup();
const macro = measureMacro();
rmSync(work, { recursive: true, force: true });

if (json) {
  console.log(JSON.stringify({ iter, runs: RUNS, reps: 7, sites: SITES, lazy_available: lazyRan, loop, first_site: first, first_site_file: firstFile, jit_vs_file: jitVsFile, startup: start, macro, hooked, rw, dd: { count: ddCount, ms: dd }, policies, ddTrace: { count: ddPolCount, ms: ddPol } }, null, 2));
  process.exit(0);
}

const ns = (v) => (v >= 1000 ? v.toFixed(0) : v.toFixed(1)).padStart(7) + ' ns';
const x = (v) => ((v >= 10 ? v.toFixed(1) : v.toFixed(2)) + 'x').padStart(8);
const row = (label, v, r, note = '') => console.log(`  ${label.padEnd(27)}${ns(v)}${x(r)}${note && '   ' + note}`);
const lazyNote = lazyRan ? '' : `(lazy unavailable: ran ${loop.lazy.mode})`;

const { probe } = await import(join(root, 'dist/index.js'));
if (!probe().pkeys) {
  console.log('note: this CPU has no protection keys; the lazy and plan rows run with --allow-null-reads (page 0');
  console.log('      readable), the mode a user opts in to here for these figures; the default would be sud-only');
}
console.log(`getppid via inline syscall (best of ${RUNS} runs x 7 reps of ${iter} calls)`);
row('uninterposed', b0, 1);
row('SUD enabled, no interposer', loop.sud_baseline.ns_per_call, loop.sud_baseline.ratio, '(kernel floor of any SUD interposer)');
row('trapline lazy', loop.lazy.ns_per_call, loop.lazy.ratio, lazyNote || '(fast path)');
row('trapline lazy + stats', loop.lazy_stats.ns_per_call, loop.lazy_stats.ratio, lazyNote || '(fast path, --stats: per-number and per-site counters)');
row('trapline sud-only', loop.sud_only.ns_per_call, loop.sud_only.ratio);
console.log(`getppid through a pass-through hook (lazy; min, median, max of ${RUNS} runs x 7 reps; ratios of the min`);
console.log('  and the median to uninterposed; ns over the no-hook fast path, medians)');
const h0 = hooked.uninterposed;
const hrow = (label, h, note = '') => console.log(`  ${label.padEnd(27)}${ns(h.min)}${ns(h.median)}${ns(h.max)}${x(h.min / h0.min)}${x(h.median / h0.median)}` +
  (h === h0 || h === hooked.lazy ? '' : `  ${h.median >= hooked.lazy.median ? '+' : '-'}${Math.abs(h.median - hooked.lazy.median).toFixed(0)} ns`) + (note && '   ' + note));
hrow('uninterposed', h0);
hrow('trapline lazy, no hook', hooked.lazy, lazyNote);
hrow('zpoline ABI', hooked.hook_zp, '(vector registers saved)');
hrow('zpoline ABI, no vector', hooked.hook_zp_nv, '(TRAPLINE_HOOK_NO_VECTOR: no save)');
hrow('trapline.h', hooked.hook_native, '(vector registers saved)');
hrow('trapline.h, no vector', hooked.hook_native_nv, '(TRAPLINE_HOOK_NO_VECTOR: no save)');
console.log(`read(1 byte of /dev/zero) + write(to /dev/null) through libc, per call (min, median, max of ${RUNS} runs x 7`);
console.log('  reps; ratios of the min and the median to uninterposed; medians\' ns over the row named)');
const r0 = rw.uninterposed;
const rwrow = (label, h, below, belowName, note = '') => console.log(`  ${label.padEnd(27)}${ns(h.min)}${ns(h.median)}${ns(h.max)}${x(h.min / r0.min)}${x(h.median / r0.median)}` +
  (below ? `  ${h.median >= below.median ? '+' : '-'}${Math.abs(h.median - below.median).toFixed(0)} ns over ${belowName}` : '') + (note && '   ' + note));
rwrow('uninterposed', r0);
rwrow('SUD enabled, no interposer', rw.sud_floor, r0, 'uninterposed', '(libsudfloor.so)');
rwrow('trapline lazy, no hook', rw.lazy, rw.sud_floor, 'SUD', lazyNote);
rwrow('zpoline ABI, no vector', rw.hook_zp_nv, rw.lazy, 'lazy');
rwrow('zpoline ABI', rw.hook_zp, rw.hook_zp_nv, 'no vector', '(the vector save)');
rwrow('trapline.h, no vector', rw.hook_native_nv, rw.lazy, 'lazy');
rwrow('trapline.h', rw.hook_native, rw.hook_native_nv, 'no vector', '(the vector save)');
console.log(`dd if=/dev/zero of=/dev/null bs=1 count=${ddCount} (wall time of the process; min, median, max of ${RUNS * 3} runs)`);
const ms = (v) => v.toFixed(0).padStart(7) + ' ms';
const d0 = dd.uninterposed;
const drow = (label, d, note = '') => console.log(`  ${label.padEnd(27)}${ms(d.min)}${ms(d.median)}${ms(d.max)}${x(d.min / d0.min)}${x(d.median / d0.median)}${note && '   ' + note}`);
drow('uninterposed', d0);
drow('SUD enabled, no interposer', dd.sud_floor, '(bench/sudfloor/sudfloor.c: the kernel floor of any SUD interposer)');
drow('trapline lazy, no hook', dd.lazy, lazyNote);
drow('zpoline ABI hook', dd.hook_zp, '(pass-through, vector registers saved)');
drow('zpoline ABI, no vector', dd.hook_zp_nv, '(pass-through, TRAPLINE_HOOK_NO_VECTOR)');
const over = (v, b) => `(+${((v - b) / 1000).toFixed(1)} us over native)`;
console.log(`first execution of a new site, JIT code: anonymous, written then mprotect'ed r-x (${SITES} sites, best of ${RUNS} runs x 3 fresh mappings)`);
row('uninterposed', f0, 1);
row('lazy first', first.lazy.first_ns, first.lazy.first_ratio, lazyNote || `${over(first.lazy.first_ns, f0)} SIGSYS + rewrite`);
row('lazy + stats first', first.lazy_stats.first_ns, first.lazy_stats.first_ratio, lazyNote || over(first.lazy_stats.first_ns, f0));
row('sud-only', first.sud_only.first_ns, first.sud_only.first_ratio);
console.log(`first execution of a new site, file-backed code (MAP_PRIVATE r-x of a file, ${SITES} sites)`);
row('uninterposed', ff0, 1);
row('lazy first', firstFile.lazy.first_ns, firstFile.lazy.first_ratio, lazyNote || over(firstFile.lazy.first_ns, ff0));
row('lazy + stats first', firstFile.lazy_stats.first_ns, firstFile.lazy_stats.first_ratio, lazyNote || over(firstFile.lazy_stats.first_ns, ff0));
console.log(`  JIT first hit / file-backed first hit (costs over native): ${jitVsFile.toFixed(2)}`);
console.log(`many hot sites: second execution of ${SITES} distinct rewritten sites (per call; min, median, max of ${RUNS} runs,`);
console.log('  each the best of 3 fresh mappings; ratio of the median to uninterposed; ns over the SUD floor, medians)');
const hot = Object.fromEntries(['uninterposed', 'sud_floor', 'lazy', 'lazy_stats'].map((k) => [k, spread(first[k].all.second_ns)]));
const hotRow = (label, h, note = '') => console.log(`  ${label.padEnd(27)}${ns(h.min)}${ns(h.median)}${ns(h.max)}${x(h.median / hot.uninterposed.median)}` +
  (h === hot.uninterposed || h === hot.sud_floor ? '' : `  +${(h.median - hot.sud_floor.median).toFixed(0)} ns`) + (note && '   ' + note));
hotRow('uninterposed', hot.uninterposed);
hotRow('SUD enabled, no interposer', hot.sud_floor, '(kernel floor of any SUD interposer)');
hotRow('lazy second', hot.lazy, lazyNote || '(fast path: the site table, one code page per table page)');
hotRow('lazy + stats second', hot.lazy_stats, lazyNote);
printStartup(start);
printMacro(macro);
printPolicies();
