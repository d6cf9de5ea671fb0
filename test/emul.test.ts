// Issue 11, "calls trapline performs or emulates itself": every call the dispatch handles
// (signals, processes, arch_prctl, the program's own SUD, exec, wait4, the memory calls it
// tracks) with valid, bad-pointer and bad-value arguments gives exactly the kernel's
// result. test/c/emul.c prints one line per case; the transcript is compared with the
// uninterposed run, in both modes.
import { describe, expect, it } from 'vitest';
import { run, testProgram } from './helpers.js';

const modes = ['lazy', 'sud-only'] as const;
const groups = ['sigaction', 'sigprocmask', 'sigaltstack', 'fork', 'vfork', 'clone', 'clone3', 'wait4', 'execve', 'arch_prctl', 'prctl', 'mprotect', 'mmap', 'munmap', 'mremap', 'madvise'];

describe('emulated calls return what the kernel returns', () => {
  it.each(groups.flatMap((group) => modes.map((mode) => [group, mode] as const)))("%s (%s): the table's cases match the uninterposed run", async (group, mode) => {
    const native = await run(testProgram('emul'), [group], { mode: 'native' });
    expect(native.code).toBe(0);
    expect(native.stdout.split('\n').length).toBeGreaterThan(1);
    const r = await run(testProgram('emul'), [group], { mode });
    expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 0, signal: null });
  });

  it('spot checks of the native transcript (the table tests what it claims to)', async () => {
    const n = (await run(testProgram('emul'), [], { mode: 'native' })).stdout;
    expect(n).toMatch(/^arch_prctl\.get_gs-bad = -14$/m);
    expect(n).toMatch(/^arch_prctl\.set_gs-noncanonical = -1 /m);
    expect(n).toMatch(/^clone3\.struct-bad = -14$/m);
    expect(n).toMatch(/^clone\.newstack = 1 waited=1 status=0x2a00$/m);
    expect(n).toMatch(/^prctl\.sud\.excl-off-len0 = -22 /m);
    expect(n).toMatch(/^execve\.envp-entry-bad = -14$/m);
  });

  for (const mode of modes) {
    it(`${mode}: after an execve from a non-main thread, the threads of the new program work`, async () => {
      const native = await run(testProgram('emul'), ['thread-exec'], { mode: 'native' });
      expect(native.stdout).toBe('threads after exec: ok\n');
      const r = await run(testProgram('emul'), ['thread-exec'], { mode });
      expect(r.stdout).toBe(native.stdout);
      expect(r.code).toBe(0);
      expect(r.stats!.processes).toBe(2);
    });
  }
});
