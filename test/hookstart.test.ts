// Issue 11, "hooks that silently do not apply": a hook that cannot start is one clear
// error; loading a hook changes neither the program's calls nor how they are counted;
// programs a hook starts are not interposed unless it asks; TRAPLINE_* settings of any
// size reach exec'd programs.
import { describe, expect, it } from 'vitest';
import { hookLibrary, run, testProgram } from './helpers.js';

const modes = ['lazy', 'sud-only'] as const;

describe('a hook library that cannot start', () => {
  const bad: [string, RegExp][] = [
    ['crashinit', /^trapline: hook library \S*libcrashinit\.so crashed while starting \(SIGSEGV\)\n$/],
    ['crashzp', /^trapline: hook library \S*libcrashzp\.so crashed while starting \(SIGILL\)\n$/],
    ['nullzp', /^trapline: hook library \S*libnullzp\.so stored a NULL hook function/],
    ['datahook', /^trapline: hook library \S*libdatahook\.so exports trapline_hook, but not as a function/],
  ];
  for (const mode of modes) {
    for (const [lib, msg] of bad) {
      it(`${mode}: ${lib} gives one line naming the hook and exit status 2, not a signal`, async () => {
        const r = await run(testProgram('ids'), [], { mode, hook: hookLibrary(lib) });
        expect(r.signal).toBe(null);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(msg);
        expect(r.stderr.split('\n').filter((l) => l).length).toBe(1);
        expect(r.stdout).toBe('');
      });
    }
  }
});

describe('a hook does not change what is counted', () => {
  for (const mode of modes) {
    it(`${mode}: a pass-through hook's run counts exactly the calls of the run without it`, async () => {
      // both entered at the first instruction (the hook is loaded when the loader is done)
      const plain = await run(testProgram('count'), ['100'], { mode });
      const hooked = await run(testProgram('count'), ['100'], { mode, hook: hookLibrary('counthook') });
      expect(hooked.code).toBe(0);
      const per = (r: typeof plain) => Object.fromEntries(r.stats!.perNr.map((x) => [x.nr, x.trap + x.fast]));
      expect(per(hooked)).toEqual(per(plain));
      // brk and getrandom included: the loader allocates for the hook off the program's heap
      expect(per(hooked)[12]).toBe(per(plain)[12]);
      expect(hooked.stats!.entry).toBe('first-instruction');
    });
  }
});

describe('programs a hook starts', () => {
  for (const mode of modes) {
    it(`${mode}: system() from a hook starts an uninterposed program; the hook sees no LD_PRELOAD/TRAPLINE_*`, async () => {
      const r = await run(testProgram('ids'), [], {
        mode, hook: hookLibrary('spawnhook'), env: { SPAWNHOOK: 'plain', SPAWNHOOK_PROG: testProgram('ids') },
      });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('spawnhook: preload=none trapline_vars=0\nspawnhook: child status 0\n');
      expect(r.stats!.processes).toBe(1);
      expect(r.stdout.match(/uid=0|uid=\d+/g)!.length).toBe(4);      // the child ran (2 lines) and the program (2)
    });

    it(`${mode}: a hook that spawns with api->interposed_env gets an interposed child`, async () => {
      const r = await run(testProgram('ids'), [], {
        mode, hook: hookLibrary('spawnhook'), env: { SPAWNHOOK: 'interposed', SPAWNHOOK_PROG: testProgram('ids') },
      });
      expect(r.code).toBe(0);
      expect(r.stats!.processes).toBe(2);
      expect(r.stderr.match(/spawnhook: preload=none/g)!.length).toBe(2);  // the hook loaded in the child too
      expect(r.stdout.match(/uid=\d+/g)!.length).toBe(4);                   // the child ran, and the program
    });
  }
});

describe('TRAPLINE_* settings of any size reach exec\'d programs', () => {
  for (const mode of modes) {
    it(`${mode}: 5000 bytes of settings before TRAPLINE_HOOK: the exec'd program still has its hook`, async () => {
      const r = await run(testProgram('execenv'), [testProgram('ids')], {
        mode, hook: hookLibrary('zphook'), env: { TRAPLINE_PLAN_CACHE: `/tmp/${'x'.repeat(5000)}` },
      });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/ppid=4242 uid=\d+\nppid=4242 uid=\d+\n$/);
      expect(r.stats!.processes).toBe(2);
    });
  }
});
