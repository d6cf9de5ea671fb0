// examples/: the hook is built with the command its README gives, the TypeScript script
// is compiled with the README's command (into a directory under build/, where it imports
// the package by name), and both run against a real program.
import { execSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../ts/src/paths.js';
import { waitProgram } from '../ts/src/run.js';
import { withoutModeNote } from './helpers.js';

const root = packageRoot();
const tmp = mkdtempSync(join(tmpdir(), 'trapline-examples-'));
// inside the package: the compiled script resolves 'trapline' to this package
const out = mkdtempSync(join(root, 'build', 'examples-test-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

/** The README's command that starts with `start`, the one line in a sh block. */
function documented(start: string): string {
  const lines = readFileSync(join(root, 'examples', 'README.md'), 'utf8').split('\n').filter((l) => l.startsWith(start));
  expect(lines, `examples/README.md: one '${start}...' line`).toHaveLength(1);
  return lines[0]!;
}

const hook = join(tmp, 'noremove.so');
const script = join(out, 'coverage.js');

beforeAll(() => {
  const cc = documented('cc ');
  expect(cc).toContain(' -o noremove.so ');
  execSync(cc.replace(' -o noremove.so ', ` -o ${hook} `), { cwd: root, stdio: 'pipe' });
  execSync(`${documented('npx tsc ')} --outDir ${out}`, { cwd: root, stdio: 'pipe' });
}, 120_000);

function coverage(args: string[], cwd: string) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TRAPLINE_')) delete env[k];
  return waitProgram(spawn(process.execPath, [script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })) as Promise<{
    code: number | null; signal: string | null; stdout: string; stderr: string;
  }>;
}

describe('examples', () => {
  it('the hook and the script build with the documented commands', () => {
    expect(existsSync(hook)).toBe(true);
    expect(existsSync(script)).toBe(true);
  });

  it('coverage.js with the noremove hook: rm is refused (EPERM), the file stays, the summary counts the refused call', async () => {
    const dir = mkdtempSync(join(tmp, 'run-'));
    writeFileSync(join(dir, 'f'), 'kept\n');
    const r = await coverage(['--top', '100', '--hook', hook, '--', 'sh', '-c', 'rm f; cat f'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(withoutModeNote(r.stderr)).toMatch(/^noremove: refused unlinkat\nrm: cannot remove 'f': Operation not permitted\n$/);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('kept');                                    // cat: the file is still there
    expect(lines[1]).toBe('sh: exit status 0');
    expect(lines[2]).toMatch(/^mode (lazy|sud-only), 3 process\(es\), \d+ calls interposed, [\d.]+% by the rewritten fast path, hook loaded$/);
    expect(r.stdout).toMatch(/^ +1 +1 +unlinkat$/m);                 // one call, one error (EPERM)
    expect(r.stdout).toMatch(/^sites by module:\n +sites +module\n +\d+ +\/\S+libc\.so\.6$/m);
    expect(existsSync(join(dir, 'f'))).toBe(true);
  });

  it('coverage.js without the hook: the same program removes the file', async () => {
    const dir = mkdtempSync(join(tmp, 'run-'));
    writeFileSync(join(dir, 'f'), 'gone\n');
    const r = await coverage(['--', 'rm', 'f'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rm: exit status 0\nmode \S+, 1 process\(es\), /);
    expect(r.stdout).not.toMatch(/hook loaded/);
    expect(existsSync(join(dir, 'f'))).toBe(false);
  });

  it('coverage.js: a bad option is the API\'s OptionError, one line and status 2', async () => {
    const r = await coverage(['--mode', 'fast', '--', 'true'], tmp);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("coverage: options.mode: must be lazy, sud-only or eager, not 'fast'\n");
  });
});
