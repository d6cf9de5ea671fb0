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

  it('the program\'s own arguments are passed on untouched, options included', async () => {
    const r = await trapline(['run', 'sh', '-c', 'echo "$@"', 'sh', '-l', '--hook', 'bogus', '--', '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('-l --hook bogus -- -h\n');
    const dd = await trapline(['run', '--', 'sh', '-c', 'echo "$1"', 'sh', '--stats']);
    expect(dd.stdout).toBe('--stats\n');
  });
});

describe('every command has --help; a bad command line is one line, status 2', () => {
  const commands = ['run', 'report', 'doctor', 'scan', 'help'];
  it.each(commands)('%s: -h, --help and `trapline help %s` print its usage, status 0', async (command) => {
    const texts = [];
    for (const args of [[command, '-h'], [command, '--help'], ['help', command]]) {
      const r = await trapline(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr).toBe('');
      texts.push(r.stdout);
    }
    expect(texts[0]).toMatch(new RegExp(`^usage: trapline ${command} `));
    expect(new Set(texts).size).toBe(1);
  });

  it('trapline, --help and help: the list of commands', async () => {
    const r = await trapline(['--help']);
    expect(r.code).toBe(0);
    for (const command of commands) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect((await trapline(['help'])).stdout).toBe(r.stdout);
    const none = await trapline([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(r.stdout);
  });

  it.each([
    [['run', '--bogus', 'true'], 'unknown option --bogus'],
    [['run', '--summary=yes', 'true'], 'option --summary takes no value'],
    [['run', '--stats'], 'option --stats needs a value'],
    [['run', '--report', '--', 'true'], "option --report needs a value, not '--' (write --report=-- for a file named so)"],
    [['run', '-x', 'true'], 'unknown option -x'],
    [['report', '--json'], 'report: expects exactly one FILE (see trapline report --help)'],
    [['doctor', 'extra'], "unexpected argument 'extra'"],
    [['doctor', '--', 'extra'], "unexpected argument 'extra'"],
    [['scan', '--plan'], 'scan: option --plan needs a value (see trapline scan --help)'],
    [['scan', '--all=1', 'x'], 'scan: option --all takes no value (see trapline scan --help)'],
    [['help', 'run', 'scan'], 'help: expects at most one COMMAND, not 2 (see trapline help --help)'],
    [['help', 'nope'], "no help for unknown command 'nope'"],
    [['nope'], "unknown command 'nope' (see trapline --help)"],
  ])('%j: %s', async (args, message) => {
    const r = await trapline(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`trapline: ${message}\n`);
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
