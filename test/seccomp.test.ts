// Issue 11, "programs with their own seccomp": trapline makes no call the program did not
// make where that is avoidable, so a program confined by strict mode or by a filter that
// allows only its own calls runs as without trapline (test/c/sandbox.c).
import { describe, expect, it } from 'vitest';
import { run, testProgram } from './helpers.js';

const modes = ['lazy', 'sud-only'] as const;
const sandbox = (arg: string, mode: 'native' | (typeof modes)[number]) => run(testProgram('sandbox'), [arg], { mode });

describe('the program\'s own seccomp', () => {
  for (const mode of modes) {
    it(`${mode}: strict mode (read, write, exit, rt_sigreturn): fresh sites and SYS_exit work as natively`, async () => {
      const native = await sandbox('strict', 'native');
      expect(native.stdout).toBe('before\n' + 'in strict mode\n'.repeat(3));
      expect(native.code).toBe(4);
      const r = await sandbox('strict', mode);
      expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 4, signal: null });
    });

    it(`${mode}: a filter without rt_sigreturn, and an int $0x80 call (trapped, never rewritten): as natively`, async () => {
      const native = await sandbox('tight-int80', 'native');
      expect(native.stdout).toBe('int80 getpid ok=1\n');
      expect(native.code).toBe(6);
      const r = await sandbox('tight-int80', mode);
      expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 6, signal: null });
    });

    it(`${mode}: a filter allowing the program's calls and rt_sigreturn: calls from a fresh site work; the site is left trapping (reason seccomp)`, async () => {
      const native = await sandbox('tight-fresh', 'native');
      expect(native.stdout).toMatch(/^getppid ok=1 getuid=-1\n/);
      const r = await sandbox('tight-fresh', mode);
      expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 5, signal: null });
      if (mode === 'lazy') expect(r.stats!.sites.some((s) => s.reason === 'seccomp')).toBe(true);
    });

    it(`${mode}: a filter for the program's own calls plus what a thread needs: a thread starts and exits`, async () => {
      const native = await sandbox('thread', 'native');
      expect(native.stdout).toBe('thread ok=1\n');
      const r = await sandbox('thread', mode);
      expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 0, signal: null });
    });
  }

  for (const mode of modes) {
    it(`${mode}: a filter allowing only the program's calls (not even rt_sigreturn): runs as natively, registers intact`, async () => {
      const native = await sandbox('tight', 'native');
      expect(native.code).toBe(5);
      expect(native.stdout).toMatch(/registers, vector registers and flags intact\n$/);
      const r = await sandbox('tight', mode);
      expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 5, signal: null });
    });
  }
});
