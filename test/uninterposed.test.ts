// Issue 11: a program the loader starts without trapline (setuid/setgid: LD_PRELOAD is
// ignored in secure mode) is refused unless asked for, and is never reported as interposed.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError, run as apiRun } from '../ts/src/index.js';
import { testProgram, trapline } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'trapline-suid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copy(name: string, mode: number, uid?: number): string {
  const p = join(dir, name);
  copyFileSync(testProgram('ids'), p);
  if (uid !== undefined) chownSync(p, uid, -1);
  chmodSync(p, mode);
  return p;
}

// A setuid program owned by another user runs in secure mode (AT_SECURE) only if that
// changes the effective uid: making one needs root.
const root = process.getuid?.() === 0;
if (!root) console.log('uninterposed.test: not root, so no setuid-to-another-user program can be made; the runs that need one are skipped');

describe('setuid and setgid programs', () => {
  it('trapline run refuses a setuid program with one line, exit 2, without running it', async () => {
    const p = copy('suid', 0o4755);
    const r = await trapline(['run', '--', p]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^trapline: \S+ is setuid: the dynamic loader ignores LD_PRELOAD for it, so it would run without trapline; refusing \(--allow-uninterposed/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
  });

  it('trapline run refuses a setgid program the same way', async () => {
    const r = await trapline(['run', '--', copy('sgid', 0o2755)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ is setgid: /);
  });

  // setcap needs CAP_SETFCAP and a file system with extended attributes
  const capFile = copy('fcaps', 0o755);
  const setcap = spawnSync('setcap', ['cap_net_bind_service+ep', capFile]);
  const canSetcap = setcap.status === 0;
  if (!canSetcap) console.log('uninterposed.test: setcap unavailable or not permitted here; the file-capability case is skipped');
  it.skipIf(!canSetcap)('trapline run refuses a program with file capabilities the same way', async () => {
    const r = await trapline(['run', '--', capFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ is a program with file capabilities: the dynamic loader ignores LD_PRELOAD/);
  });

  it('the API refuses it with an OptionError before launch', async () => {
    await expect(apiRun(copy('suid2', 0o4755), [], { stdio: 'pipe' })).rejects.toThrow(OptionError);
    await expect(apiRun(copy('suid3', 0o4755), [], { stdio: 'pipe' })).rejects.toMatchObject({ code: 'ERR_TRAPLINE_OPTION', option: 'program' });
  });

  it('a normal program is reported as interposed by the API', async () => {
    const r = await apiRun(testProgram('ids'), [], { stdio: 'pipe' });
    expect(r.interposed).toBe(true);
    expect(r.coverage!.processes).toBe(1);
  });

  it.skipIf(!root)('--allow-uninterposed runs it, and the run is reported as not interposed (no tables)', async () => {
    const p = copy('suid-nobody', 0o4755, 65534);
    const r = await trapline(['run', '--allow-uninterposed', '--summary', '--', p]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ppid=\d+ uid=\d+\n/);                // it ran (not the hook's 4242: no hook)
    expect(r.stderr).toMatch(/^trapline: \S+ was not interposed: no process joined the statistics/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
    const api = await apiRun(p, [], { stdio: 'pipe', allowUninterposed: true });
    expect(api.code).toBe(0);
    expect(api.interposed).toBe(false);
    expect(api.coverage).toBe(null);
  });
});
