// The CLI (`trapline run`, `trapline doctor`) and real programs under the interposer.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, machine, nrStats, run, statsPath, testProgram, trapline, withoutModeNote } from './helpers.js';
import { readStats } from '../ts/src/index.js';

describe('trapline run', () => {
  it('the CLI is built', () => expect(existsSync(cli)).toBe(true));

  it('exits with the program\'s status and leaves its output alone', async () => {
    const r = await trapline(['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('out\n');
    expect(withoutModeNote(r.stderr)).toBe('err\n');
  });

  it('reports death by a signal as a shell would, status 128+n', async () => {
    const r = await trapline(['run', '--', 'sh', '-c', 'kill -SEGV $$']);
    expect(r.code).toBe(139);
    expect(withoutModeNote(r.stderr)).toMatch(/^Segmentation fault/);
  });

  it('--stats writes a segment with the run\'s counts; --mode sud-only traps everything', async () => {
    const s = statsPath();
    const r = await trapline(['run', '--mode', 'sud-only', '--stats', s, '--', testProgram('count'), '200']);
    expect(r.code).toBe(0);
    expect(nrStats(readStats(s), 110)).toEqual({ trap: 200, fast: 0, errors: 0 });
  });

  it('a bad option is one line and status 2, the program never runs', async () => {
    for (const args of [['run', '--mode', 'bogus', '--', 'true'], ['run', '--hook', '/nonexistent.so', '--', 'true'], ['run']]) {
      const r = await trapline(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^trapline: /);
    }
  });

  it('--no-follow-exec: a program exec\'d with a cleared environment runs uninterposed', async () => {
    const s = statsPath();
    const on = await trapline(['run', '--stats', s, '--', testProgram('execenv'), testProgram('count'), '10']);
    expect(on.code).toBe(0);
    expect(readStats(s).processes).toBe(2);
    const s2 = statsPath();
    const off = await trapline(['run', '--no-follow-exec', '--stats', s2, '--', testProgram('execenv'), testProgram('count'), '10']);
    expect(off.code).toBe(0);
    expect(readStats(s2).processes).toBe(1);
  });

  it('--help on every command', async () => {
    for (const args of [['--help'], ['run', '--help'], ['doctor', '--help']]) {
      const r = await trapline(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage|usage/);
    }
  });
});

describe('trapline doctor', () => {
  it('probes SUD, address 0, protection keys and xsave, and names the mode', async () => {
    const r = await trapline(['doctor', '--json']);
    const d = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(d.sud).toBe(true);
    expect(typeof d.zeroMappable).toBe('boolean');
    expect(d.mode).toBe(d.zeroMappable && d.pkeys ? 'lazy' : 'sud-only');
    expect(d.pkeys).toBe(machine.pkeys);
    expect(d.modeWithAllowNullReads).toBe(d.zeroMappable ? 'lazy' : 'sud-only');
    expect(d.xsaveSize).toBeGreaterThan(512);
    expect(r.code).toBe(0);
    const text = await trapline(['doctor']);
    expect(text.stdout).toMatch(/Syscall User Dispatch: supported/);
    expect(text.stdout).toMatch(/mmap_min_addr/);
  });
});

describe('real programs: same output as without the interposer', () => {
  const cases: [string, string[]][] = [
    ['sh', ['-c', 'for i in 1 2 3; do echo $i; done | tr 123 abc | sort -r; ls /nonexistent 2>/dev/null; echo st=$?']],
    ['ls', ['-R', '/usr/include']],
    ['sh', ['-c', 'tar -C /usr/include -cf - linux | tar -tf - | sort | md5sum']],
    ['python3', ['-c', 'import threading,os\nr=[]\nts=[threading.Thread(target=lambda i=i: r.append(sum(range(i*1000)))) for i in range(8)]\n[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sorted(r))']],
    [process.execPath, ['-e', 'const w=require("worker_threads");const t=new w.Worker("require(\\"worker_threads\\").parentPort.postMessage(6*7)",{eval:true});t.on("message",m=>{console.log("worker",m);t.terminate()})']],
  ];
  for (const [prog, args] of cases) {
    it(`${prog.split('/').pop()} ${args[0]} ...`, async () => {
      const native = await run(prog, args, { mode: 'native' });
      expect(native.code).toBe(0);
      const r = await run(prog, args);
      expect(r.stdout).toBe(native.stdout);
      expect(r.code).toBe(0);
      expect(r.stats!.total.trap + r.stats!.total.fast).toBeGreaterThan(10);
    });
  }
});
