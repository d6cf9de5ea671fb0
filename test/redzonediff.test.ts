// The red-zone rule (lazy/redzone.c) was made faster (issue 15); it must still give
// exactly the verdicts, kind and at, of the implementation before that, kept as
// test/c/rzdiff_old.h. build/test/rzdiff runs both on every `0f 05` of real code and
// on real code changed a little and on random buffers with planted sites
// (test/c/rzdiff.c).
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { testProgram } from './helpers.js';

const LIB = '/usr/lib/x86_64-linux-gnu';
const BIN = '/usr/bin';
const REQUIRED = [`${LIB}/libc.so.6`, `${LIB}/ld-linux-x86-64.so.2`, `${LIB}/libstdc++.so.6`, `${LIB}/libcrypto.so.3`];

/** Regular files (symlinks resolved, each once) directly in dir and, for the library
 * directory, one level down. */
function files(dir: string, depth: number, seen: Set<string>): string[] {
  const out: string[] = [];
  let names: string[];
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    let real: string;
    try { real = realpathSync(join(dir, name)); } catch { continue; }
    let st;
    try { st = statSync(real); } catch { continue; }
    if (st.isDirectory()) { if (depth > 0) out.push(...files(real, depth - 1, seen)); continue; }
    if (!st.isFile() || st.size < 64 || seen.has(real)) continue;
    seen.add(real);
    out.push(real);
  }
  return out;
}

/** Runs rzdiff over args; its summary line parsed. */
function rzdiff(args: string[]): { files: number; cases: number; mismatches: number; kinds: number[]; out: string; status: number | null } {
  const r = spawnSync(testProgram('rzdiff'), args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /(?:files (\d+) )?cases (\d+) mismatches (\d+) kinds ([\d ]+)$/m.exec(r.stdout);
  return {
    files: Number(m?.[1] ?? 0),
    cases: Number(m?.[2] ?? -1),
    mismatches: Number(m?.[3] ?? -1),
    kinds: (m?.[4] ?? '').split(' ').map(Number),
    out: r.stdout + r.stderr,
    status: r.status,
  };
}

describe('red-zone rule: the faster implementation gives the old verdicts', () => {
  it('every 0f 05 in the ELF files of /usr/lib/x86_64-linux-gnu and /usr/bin: same kind and at', (ctx) => {
    const missing = REQUIRED.filter((f) => !existsSync(f));
    if (missing.length > 0) { ctx.skip(`libraries missing: ${missing.join(', ')}`); return; }
    const seen = new Set<string>();
    const all = [...files(LIB, 1, seen), ...files(BIN, 0, seen)];
    for (const f of [...REQUIRED.map((p) => realpathSync(p)), realpathSync(process.execPath)]) expect(seen.has(f), f).toBe(true);
    let filesWithCode = 0, cases = 0;
    const kinds = new Array<number>(8).fill(0);
    for (let i = 0; i < all.length; i += 400) {
      const r = rzdiff(['files', ...all.slice(i, i + 400)]);
      expect(r.out.split('\n').filter((l) => l.startsWith('MISMATCH'))).toEqual([]);
      expect(r.mismatches, r.out).toBe(0);
      expect(r.status).toBe(0);
      filesWithCode += r.files;
      cases += r.cases;
      r.kinds.forEach((k, j) => { kinds[j] = (kinds[j] ?? 0) + k; });
    }
    console.log(`rzdiff files: ${filesWithCode} ELF files, ${cases} checks, verdicts by kind ${kinds.join(' ')}`);
    expect(filesWithCode).toBeGreaterThan(50);
    expect(cases).toBeGreaterThan(1000);
  });

  it('real code changed a little (libc, libstdc++, libcrypto, node): same kind and at', (ctx) => {
    const targets = [`${LIB}/libc.so.6`, `${LIB}/libstdc++.so.6`, `${LIB}/libcrypto.so.3`, process.execPath];
    const missing = targets.filter((f) => !existsSync(f));
    if (missing.length > 0) { ctx.skip(`libraries missing: ${missing.join(', ')}`); return; }
    let cases = 0;
    targets.forEach((f, i) => {
      const r = rzdiff(['mutate', f, '60000', String(i + 1)]);
      expect(r.out.split('\n').filter((l) => l.startsWith('MISMATCH'))).toEqual([]);
      expect(r.mismatches, r.out).toBe(0);
      expect(r.status).toBe(0);
      cases += r.cases;
    });
    console.log(`rzdiff mutate: ${cases} checks`);
    expect(cases).toBeGreaterThan(200000);
  });

  it('random buffers with planted 0f 05s: same kind and at, every kind reached', () => {
    const r = rzdiff(['random', '120000', '15']);
    expect(r.out.split('\n').filter((l) => l.startsWith('MISMATCH'))).toEqual([]);
    expect(r.mismatches, r.out).toBe(0);
    expect(r.status).toBe(0);
    expect(r.cases).toBeGreaterThan(300000);
    console.log(`rzdiff random: ${r.cases} checks, verdicts by kind ${r.kinds.join(' ')}`);
    for (let k = 0; k <= 6; k++) expect(r.kinds[k], `kind ${k}`).toBeGreaterThan(100);
  });
});
