// Issue 11, "programs that trace": a program tracing its own interposed child sees the
// stops it would see natively, not the SIGSYS stops trapline's SUD causes (test/c/tracer.c).
import { describe, expect, it } from 'vitest';
import { run, testProgram } from './helpers.js';

const modes = ['lazy', 'sud-only'] as const;

describe('a tracer and its interposed child', () => {
  for (const mode of modes) {
    for (const how of ['cont', 'syscall', 'emulated', 'waitid']) {
      it(`${mode}: PTRACE_TRACEME child + waitpid loop (${how}): the same stops as natively`, async () => {
        const native = await run(testProgram('tracer'), [how], { mode: 'native' });
        expect(native.stdout).toMatch(how === 'emulated' ? /SIGSTOP=1 SIGSYS=1 / : /SIGSTOP=1 SIGSYS=0 /);
        const r = await run(testProgram('tracer'), [how], { mode });
        expect({ stdout: r.stdout, code: r.code }).toEqual({ stdout: native.stdout, code: 0 });
        expect(r.stats!.processes).toBe(2);            // the child was interposed
      });
    }
  }
});
