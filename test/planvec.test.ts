// One plan grammar: the shared vectors (test/plan-vectors.txt) through the TypeScript
// parser and the C parser (build/test/planvec), and the library itself refusing what the
// C parser used to accept and the TypeScript one did not (issue 12).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { PlanError, parsePlan } from '../ts/src/index.js';
import { packageRoot } from '../ts/src/paths.js';
import { run, testProgram } from './helpers.js';

const VECTORS = join(packageRoot(), 'test', 'plan-vectors.txt');
const tmp = mkdtempSync(join(tmpdir(), 'trapline-planvec-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Vector { name: string; text: Buffer; expect: { ok: true; modules: number; sites: number } | { ok: false; line: number } }

/** Decodes test/plan-vectors.txt (format described at its top). */
function vectors(): Vector[] {
  const out: Vector[] = [];
  let name = '';
  let parts: Buffer[] = [];
  const esc = (s: string): Buffer => {
    const bytes: number[] = [];
    const one = (i: number): [number, number] => {   // byte at s[i..], chars used
      if (s[i] !== '\\') return [s.charCodeAt(i), 1];
      const c = s[i + 1];
      if (c === 't') return [9, 2];
      if (c === 'r') return [13, 2];
      if (c === '0') return [0, 2];
      if (c === 'x') return [parseInt(s.slice(i + 2, i + 4), 16), 4];
      return [s.charCodeAt(i + 1), 2];
    };
    for (let i = 0; i < s.length;) {
      if (s[i] === '\\' && s[i + 1] === '*') {
        const semi = s.indexOf(';', i);
        const n = Number(s.slice(i + 2, semi));
        const [b, used] = one(semi + 1);
        for (let k = 0; k < n; k++) bytes.push(b);
        i = semi + 1 + used;
      } else {
        const [b, used] = one(i);
        bytes.push(b);
        i += used;
      }
    }
    return Buffer.from(bytes);
  };
  for (const line of readFileSync(VECTORS, 'utf8').split('\n')) {
    if (line.startsWith('case ')) { name = line.slice(5); parts = []; continue; }
    if (line.startsWith('>> ')) { parts.push(esc(line.slice(3))); continue; }
    if (line.startsWith('> ')) { parts.push(esc(line.slice(2)), Buffer.from('\n')); continue; }
    if (line === '>') { parts.push(Buffer.from('\n')); continue; }
    let m = /^modules (\d+)$/.exec(line);
    if (m) { for (let i = 0; i < Number(m[1]); i++) parts.push(Buffer.from(`module ${i.toString(16).padStart(8, '0')} m\n`)); continue; }
    m = /^sites (\d+)$/.exec(line);
    if (m) { for (let i = 0; i < Number(m[1]); i++) parts.push(Buffer.from(`${i.toString(16)} learned\n`)); continue; }
    m = /^expect ok (\d+) (\d+)$/.exec(line);
    if (m) { out.push({ name, text: Buffer.concat(parts), expect: { ok: true, modules: Number(m[1]), sites: Number(m[2]) } }); continue; }
    m = /^expect error (\d+)$/.exec(line);
    if (m) out.push({ name, text: Buffer.concat(parts), expect: { ok: false, line: Number(m[1]) } });
  }
  return out;
}

describe('plan grammar: shared vectors', () => {
  const all = vectors();

  it('the vectors file has the cases the two parsers used to disagree on', () => {
    expect(all.length).toBeGreaterThanOrEqual(45);
    for (const n of ['0x prefix', 'upper-case offset', '14-digit offset', 'duplicate offset', 'header with two blanks', 'invalid UTF-8 in a path hint counts as bytes']) {
      expect(all.map((v) => v.name)).toContain(n);
    }
  });

  it('the TypeScript parser agrees with every vector', () => {
    const wrong: string[] = [];
    for (const v of all) {
      let got: string;
      try {
        const p = parsePlan(v.text, 'v');
        let sites = 0;
        for (const m of p.modules.values()) sites += m.sites.size;
        got = `ok ${p.modules.size} ${sites}`;
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
        got = `error ${/^v:(\d+): /.exec(e.message)?.[1] ?? '?'}`;
      }
      const want = v.expect.ok ? `ok ${v.expect.modules} ${v.expect.sites}` : `error ${v.expect.line}`;
      if (got !== want) wrong.push(`${v.name}: ${got}, expected ${want}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the C parser (lazy/plan_parse.c) agrees with every vector', () => {
    const r = spawnSync(testProgram('planvec'), [VECTORS], { encoding: 'utf8' });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.stdout).toMatch(new RegExp(`^${all.length} cases, 0 failures$`, 'm'));
    expect(r.status).toBe(0);
  });

  it('the library refuses, with one line and status 2, what only the old C parser accepted', async () => {
    const cases: [string, string][] = [
      ['0x', 'module ab x\n0x10 confirmed\n'],
      ['upper', 'module ab x\n1F confirmed\n'],
      ['upper-id', 'module ABCD x\n'],
      ['14', 'module ab x\n10000000000000 confirmed\n'],
      ['dup', 'module ab x\n10 learned\n10 learned\n'],
      ['dupmod', 'module ab x\nmodule ab y\n'],
    ];
    for (const [name, body] of cases) {
      const f = join(tmp, `${name}.plan`);
      writeFileSync(f, `trapline-plan 1\n${body}`);
      const r = await run(testProgram('count'), ['10'], { mode: 'raw', env: { TRAPLINE_PLAN: f } });
      expect(r.code, name).toBe(2);
      expect(r.stdout, name).toBe('');
      expect(r.stderr, name).toMatch(/^trapline: TRAPLINE_PLAN: .* line \d+: [^\n]*\n$/);
    }
  });
});
