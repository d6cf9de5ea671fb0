// The package's public surface: what `import ... from 'trapline'` gives, through the
// exports map of package.json (docs/api.md documents each name).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../ts/src/paths.js';

// a directory whose node_modules/trapline is this package, as after `npm install trapline`
const dir = mkdtempSync(join(tmpdir(), 'trapline-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(packageRoot(), join(dir, 'node_modules', 'trapline'));

/** Runs an ES module snippet in that directory; its stdout. */
function node(code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const VALUES = [
  'ElfError', 'FileReadError', 'OptionError', 'PlanError', 'StatsError', 'TraplineError',
  'deriveMode', 'emptyPlan', 'formatPlan', 'libraryPath', 'loadReport', 'mergePlan', 'nrName', 'parsePlan',
  'planCacheDir', 'planFromScan', 'planFromStats', 'probe', 'readPlanFile', 'readStats', 'renderSummary', 'run',
  'scanBuffer', 'scanFile', 'spawn', 'updatePlanCache', 'updatePlanFile', 'writePlanAtomic',
];

describe("import 'trapline'", () => {
  it('gives exactly the documented values (no test fixtures, no internals)', () => {
    const r = node("const m = await import('trapline'); console.log(Object.keys(m).sort().join(' '));");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split(' ')).toEqual([...VALUES].sort());
  });

  it("'trapline/package.json' is exported; the files under dist/ are not", () => {
    const ok = node("import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url)('trapline/package.json').name);");
    expect(ok.stdout).toBe('trapline\n');
    const internal = node("await import('trapline/dist/run.js');");
    expect(internal.status).not.toBe(0);
    expect(internal.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('the errors carry their codes', () => {
    const r = node(`import { OptionError, PlanError, parsePlan, spawn } from 'trapline';
      try { spawn('true', [], { mode: 'fast' }); } catch (e) { console.log(e instanceof OptionError, e.code, e.option); }
      try { parsePlan('x', 'p'); } catch (e) { console.log(e instanceof PlanError, e.code); }`);
    expect(r.stdout).toBe('true ERR_TRAPLINE_OPTION mode\ntrue ERR_TRAPLINE_PLAN\n');
  });
});

describe('docs/api.md', () => {
  it('has a section for every exported name, value or type', () => {
    // the names in index.ts's export lists ("type X" counts as X)
    const index = readFileSync(join(packageRoot(), 'ts', 'src', 'index.ts'), 'utf8');
    const exported = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)]
      .flatMap((m) => m[1]!.split(',')).map((n) => n.trim().replace(/^type /, '')).filter(Boolean);
    expect(exported).toEqual(expect.arrayContaining(VALUES));
    const doc = readFileSync(join(packageRoot(), 'docs', 'api.md'), 'utf8');
    const headed = new Set(doc.split('\n').filter((l) => l.startsWith('### ')).flatMap((l) => [...l.matchAll(/`(\w+)`/g)].map((m) => m[1]!)));
    expect(exported.filter((n) => !headed.has(n))).toEqual([]);
    expect([...headed].filter((n) => !exported.includes(n))).toEqual([]);
  });
});
