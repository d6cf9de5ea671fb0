// Issue 15, "start-up": trapline no longer queries all 64 signal dispositions; only the
// signals caught when it starts (/proc/self/status, SigCgt) are adopted. A handler installed
// before it (another preload's constructor; for SIGUSR1 and a real-time signal, which
// /proc/self/stat does not show) must still be adopted: here it blocks every signal
// while it runs, SIGSYS included, and makes a call from a fresh site; unadopted, that
// call's SIGSYS would be blocked and the kernel would kill the process.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hookLibrary, needsAddress0, testProgram } from './helpers.js';
import { libraryPath } from '../ts/src/index.js';

function withPresig(mode: 'lazy' | 'sud-only') {
  const env: NodeJS.ProcessEnv = { ...process.env, TRAPLINE_MODE: mode };
  for (const k of Object.keys(env)) if (k.startsWith('TRAPLINE_') && k !== 'TRAPLINE_MODE') delete env[k];
  if (mode === 'lazy') env.TRAPLINE_ALLOW_NULL_READS = '1';
  // listed after libtrapline: loaded after it, so its constructor runs before ours
  env.LD_PRELOAD = `${libraryPath()}:${hookLibrary('presig')}`;
  return spawnSync(testProgram('sigadopt'), [], { env, encoding: 'utf8', timeout: 20000 });
}

describe('signal handlers installed before trapline starts', () => {
  it('native: the preloaded handler runs and its call returns', () => {
    const env = { ...process.env, LD_PRELOAD: hookLibrary('presig') };
    const r = spawnSync(testProgram('sigadopt'), [], { env, encoding: 'utf8', timeout: 20000 });
    expect(r.stdout).toBe('ok 4\n');
  });
  for (const mode of ['lazy', 'sud-only'] as const) {
    it(`${mode}: are adopted: the handler (every signal blocked) makes an interposed call`, () => {
      if (mode === 'lazy') needsAddress0();
      const r = withPresig(mode);
      expect(r.signal).toBeNull();
      expect(r.stdout).toBe('ok 4\n');
      expect(r.status).toBe(0);
    });
  }
  // the executable's preinit function runs before every constructor: no other library is
  // loaded, so only its DT_PREINIT_ARRAY tells trapline to look
  for (const mode of ['lazy', 'sud-only'] as const) {
    it(`${mode}: a handler from the executable's preinit function is adopted too`, () => {
      if (mode === 'lazy') needsAddress0();
      const env: NodeJS.ProcessEnv = { ...process.env, TRAPLINE_MODE: mode, LD_PRELOAD: libraryPath() };
      for (const k of Object.keys(env)) if (k.startsWith('TRAPLINE_') && k !== 'TRAPLINE_MODE') delete env[k];
      if (mode === 'lazy') env.TRAPLINE_ALLOW_NULL_READS = '1';
      const r = spawnSync(testProgram('sigpreinit'), [], { env, encoding: 'utf8', timeout: 20000 });
      expect(r.signal).toBeNull();
      expect(r.stdout).toBe('ok 4\n');
      expect(r.status).toBe(0);
    });
  }
  // code of the executable's own that ld.so runs before every constructor: an IFUNC
  // resolver; and an audit module (ld.so --audit: no LD_AUDIT variable, no object that
  // dl_iterate_phdr shows). Both installed a handler trapline must adopt.
  const ldso = '/lib64/ld-linux-x86-64.so.2';
  for (const mode of ['lazy', 'sud-only'] as const) {
    const env = (): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, TRAPLINE_MODE: mode, LD_PRELOAD: libraryPath() };
      for (const k of Object.keys(e)) if (k.startsWith('TRAPLINE_') && k !== 'TRAPLINE_MODE') delete e[k];
      if (mode === 'lazy') e.TRAPLINE_ALLOW_NULL_READS = '1';
      return e;
    };
    it(`${mode}: a handler from the executable's IFUNC resolver is adopted`, () => {
      if (mode === 'lazy') needsAddress0();
      expect(spawnSync(testProgram('sigifunc'), [], { encoding: 'utf8' }).stdout).toBe('ok 2\n');
      const r = spawnSync(testProgram('sigifunc'), [], { env: env(), encoding: 'utf8', timeout: 20000 });
      expect({ signal: r.signal, stdout: r.stdout, status: r.status }).toEqual({ signal: null, stdout: 'ok 2\n', status: 0 });
    });
    it(`${mode}: a handler from an audit module's constructor is adopted`, () => {
      if (mode === 'lazy') needsAddress0();
      const args = ['--audit', hookLibrary('audsig'), testProgram('sigaudit')];
      expect(spawnSync(ldso, args, { encoding: 'utf8' }).stdout).toBe('ok\n');
      const r = spawnSync(ldso, args, { env: env(), encoding: 'utf8', timeout: 20000 });
      expect({ signal: r.signal, stdout: r.stdout, status: r.status }).toEqual({ signal: null, stdout: 'ok\n', status: 0 });
    });
  }
});
