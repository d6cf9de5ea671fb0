// Issue 15: in the rewriting mode trapline registers for
// membarrier(PRIVATE_EXPEDITED_SYNC_CORE) itself (it serialises other threads' instruction
// streams after a rewrite), before the process's first thread exists, when the kernel
// makes it cheap. The program must see membarrier as natively: test/c/membarrier.c prints
// its registrations and the expedited commands' results before and after threads,
// rewrites, fork, its own registrations and exec; the transcript must be the uninterposed
// run's, in both modes.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { libraryPath } from '../ts/src/index.js';
import { needsAddress0, run, testProgram } from './helpers.js';

const haveStrace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).status === 0;

describe('membarrier: our SYNC_CORE registration is invisible', () => {
  it('the native transcript shows what the test relies on', async () => {
    const n = await run(testProgram('membarrier'), [], { mode: 'native' });
    expect(n.code).toBe(0);
    expect(n.stdout).toMatch(/^threaded: registrations=0 sync_core=-1 private_expedited=-1$/m);
    expect(n.stdout).toMatch(/^registered sync_core: registrations=80 sync_core=0 private_expedited=-1$/m);
    expect(n.stdout).toMatch(/^fork child of a registered parent: registrations=80 sync_core=0 /m);
    expect(n.stdout).toMatch(/^after exec: registrations=0 sync_core=-1 /m);
    expect(n.stdout).toMatch(/^after exec, registered private_expedited: registrations=16 sync_core=-1 private_expedited=0$/m);
    expect(n.stdout).toMatch(/^rseq phase, threaded: /m);
  });

  for (const mode of ['lazy', 'sud-only'] as const) {
    it(`${mode}: the transcript is the uninterposed run's`, async () => {
      const native = await run(testProgram('membarrier'), [], { mode: 'native' });
      const r = await run(testProgram('membarrier'), [], { mode });
      expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 0, signal: null });
      expect(r.stats!.processes).toBe(5); // 3 programs (2 execs) + 2 forked children
    });
  }

  // registrations made before trapline's constructor (a library initialised first, here the
  // executable's preinit function) and a seccomp filter that answers membarrier first
  for (const entry of ['preload', 'first'] as const) {
    for (const phase of ['pre', 'seccomp']) {
      it(`lazy, entered by ${entry}: ${phase}: as natively`, async () => {
        const native = await run(testProgram('membarrier_pre'), [phase], { mode: 'native' });
        expect(native.stdout).toBe(phase === 'pre' ? 'sync_core=0 registrations=80 private_expedited=-1\n'
          : 'sync_core=-38 registrations=-38 private_expedited=-38\n');
        const r = await run(testProgram('membarrier_pre'), [phase], { mode: 'lazy', entry });
        expect({ stdout: r.stdout, code: r.code, signal: r.signal }).toEqual({ stdout: native.stdout, code: 0, signal: null });
      });
    }
  }

  it('lazy: the registration is made before the first thread, while it is cheap', (ctx) => {
    if (!haveStrace) ctx.skip();
    needsAddress0();
    // preloaded, so that strace (a ptrace tracer) can follow it from its start
    const r = spawnSync('strace', ['-f', '-e', 'trace=membarrier,clone,clone3',
      '-E', `LD_PRELOAD=${libraryPath()}`, '-E', 'TRAPLINE_ALLOW_NULL_READS=1', testProgram('membarrier')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n');
    const reg = lines.findIndex((l) => /membarrier\(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0\) = 0/.test(l));
    const thread = lines.findIndex((l) => /clone3?\(.*CLONE_VM/.test(l) && !/CLONE_VFORK/.test(l));
    expect(reg).toBeGreaterThanOrEqual(0);
    expect(thread).toBeGreaterThan(reg);
  });
});
