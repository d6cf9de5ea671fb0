// Property-based tests (fast-check) of the TypeScript readers of untrusted files: the
// statistics segment (readStats), saved reports (loadReport), plans (parsePlan) and ELF
// files (parseElf, scanBuffer). Each returns a value or throws its own one-line error
// type: never a TypeError, RangeError or another crash, never a hang. Bounded (fixed
// seed, a few hundred runs each) so the suite stays fast.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ElfError, formatPlan, loadReport, parsePlan, PlanError, readStats, renderSummary, scanBuffer, StatsError,
  type StatsSnapshot,
} from '../ts/src/index.js';
import { decodeStats } from '../ts/src/stats.js';
import { parseElf } from '../ts/src/elf.js';
import { LAYOUT } from '../ts/src/layout.js';
import { machine, run, testProgram } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'trapline-prop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SEED = 0x7a11;
const params = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true });

/** f() returns, or throws an instance of one of the allowed error types with a one-line message. */
function returnsOrThrows<T>(f: () => T, ...allowed: (new (...a: never[]) => Error)[]): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!allowed.some((t) => e instanceof t)) throw e;
    const msg = (e as Error).message;
    if (msg.includes('\n') || msg === '') throw new Error(`not one line: ${JSON.stringify(msg)}`);
    return undefined;
  }
}

/** Rendered text never shows a value that was not a number or a string. */
function expectClean(text: string): void {
  expect(text).not.toMatch(/NaN|undefined|Infinity|\[object /);
}

// ---- statistics segments --------------------------------------------------------

const wild32 = fc.oneof(fc.constantFrom(0, 1, 8, 64, 192, 256, 320, 4096, 0x7fffffff, 0xffffffff), fc.nat({ max: 0xffffffff }));
/** Mostly small values (tables that fit), sometimes anything. */
const u32 = fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 8 }) }, { weight: 1, arbitrary: wild32 });
/** Mostly 8-aligned offsets inside the file after the header, sometimes anything. */
const off = (size: number) => fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: Math.floor((size - LAYOUT.size.header) / 8) }).map((k) => LAYOUT.size.header + 8 * k) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom(0, 8, 193, 4096, size, size - 8, 2 ** 32), fc.nat({ max: size + 64 })) },
);

/** A header with the right magic and version and arbitrary fields, over random bytes. */
const segment = fc.integer({ min: 0, max: 16384 }).chain((body) => {
  const size = LAYOUT.size.header + body;
  return fc.record({
    bytes: fc.uint8Array({ minLength: size, maxLength: size }),
    headerSize: fc.oneof({ weight: 4, arbitrary: fc.constant(LAYOUT.size.header) }, { weight: 1, arbitrary: wild32 }),
    totalSize: fc.oneof({ weight: 4, arbitrary: fc.constant(size) }, { weight: 1, arbitrary: fc.nat({ max: size + 16 }) }),
    mode: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: wild32 }),
    nrMax: u32,
    threadSlots: u32,
    offs: fc.array(off(size), { minLength: 6, maxLength: 6 }),
    caps: fc.array(u32, { minLength: 6, maxLength: 6 }),
  }).map((h) => {
    const b = Buffer.from(h.bytes);
    b.write('TRAPLINE', 0, 'latin1');
    const H = LAYOUT.header;
    b.writeUInt32LE(LAYOUT.const.version, H.version);
    b.writeUInt32LE(h.headerSize, H.header_size);
    b.writeBigUInt64LE(BigInt(h.totalSize), H.total_size);
    b.writeUInt32LE(h.mode, H.mode);
    b.writeUInt32LE(h.nrMax, H.nr_max);
    b.writeUInt32LE(h.threadSlots, H.thread_slots);
    b.writeBigUInt64LE(BigInt(h.offs[0]!), H.nr_off);
    b.writeBigUInt64LE(BigInt(h.offs[1]!), H.thread_off);
    const tables = [[H.proc_off, H.proc_cap, H.proc_count], [H.module_off, H.module_cap, H.module_count], [H.site_off, H.site_cap, H.site_count]];
    for (let t = 0; t < 3; t++) {
      b.writeBigUInt64LE(BigInt(h.offs[2 + t]!), tables[t]![0]);
      b.writeUInt32LE(h.caps[2 * t]!, tables[t]![1]);
      b.writeUInt32LE(h.caps[2 * t + 1]!, tables[t]![2]);
    }
    b.writeBigUInt64LE(BigInt(h.offs[5]!), H.i386_off);
    return b;
  });
});

describe('property: statistics segments (readStats)', () => {
  it('any header over any bytes: a snapshot that renders and round-trips as a report, or a StatsError', () => {
    let decoded = 0;
    fc.assert(fc.property(segment, (buf) => {
      const s = returnsOrThrows(() => decodeStats(buf, 'seg'), StatsError);
      if (!s) return;
      decoded++;
      expectClean(renderSummary(s));
      // what the reader produces is a valid JSON report
      const p = join(tmp, 'r.json');
      writeFileSync(p, JSON.stringify(s));
      expect(loadReport(p)).toEqual(JSON.parse(JSON.stringify(s)));
    }), params(300));
    expect(decoded).toBeGreaterThan(0);
  });

  it('a real segment with random bytes changed: a snapshot or a StatsError (through the file reader)', async () => {
    const seg = join(tmp, 'seg');
    const live = await run(testProgram('count'), ['20'], { mode: 'raw', env: { TRAPLINE_STATS: seg } });
    expect(live.code).toBe(0);
    const base = readFileSync(seg);
    const header = base.subarray(0, 4096);
    const pokes = fc.array(fc.record({ at: fc.nat({ max: 4095 }), v: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(pokes, fc.boolean(), (ps, cut) => {
      const h = Buffer.from(header);
      for (const { at, v } of ps) h[at] = v;
      const p = join(tmp, 'poked');
      writeFileSync(p, cut ? h : Buffer.concat([h, base.subarray(4096)]));
      const s = returnsOrThrows(() => readStats(p), StatsError);
      if (s) expectClean(renderSummary(s));
    }), params(15));
  });
});

// ---- JSON reports ----------------------------------------------------------------

describe('property: JSON reports (loadReport)', () => {
  let good: StatsSnapshot;
  it('any JSON value: a report that renders cleanly, or a StatsError', async () => {
    good = (await run(testProgram('count'), ['20'], { mode: machine.zeroMappable ? 'lazy' : 'sud-only' })).stats!;
    const p = join(tmp, 'any.json');
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      writeFileSync(p, JSON.stringify(v));
      const s = returnsOrThrows(() => loadReport(p), StatsError);
      if (s) expectClean(renderSummary(s));
    }), params(200));
  });

  it('a valid report with one field replaced by any JSON value: a clean report or a StatsError', () => {
    const p = join(tmp, 'mutated.json');
    // every path in the report (objects and arrays, a few levels deep)
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, at: (string | number)[]) => {
      if (at.length) paths.push(at);
      if (at.length > 3 || v === null || typeof v !== 'object') return;
      if (Array.isArray(v)) v.slice(0, 2).forEach((x, i) => walk(x, [...at, i]));
      else for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
    };
    walk(good, []);
    fc.assert(fc.property(fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), fc.constantFrom(null, -1, 1e308, '0x', [], {})), (path, value) => {
      const r = structuredClone(good) as unknown as Record<string | number, unknown>;
      let o = r;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      o[path[path.length - 1]!] = value;
      writeFileSync(p, JSON.stringify(r));
      const s = returnsOrThrows(() => loadReport(p), StatsError);
      if (s) expectClean(renderSummary(s));
    }), params(300));
  });
});

// ---- plans -------------------------------------------------------------------------

const hexDigits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: min, maxLength: max });
const blank = fc.string({ unit: fc.constantFrom(' ', '\t', '\r'), maxLength: 3 });
const planLine = fc.oneof(
  fc.constant('trapline-plan 1'),
  fc.constantFrom('trapline-plan 2', '# comment', '', 'module', 'trapline-plan'),
  fc.tuple(hexDigits(0, 42), fc.string({ maxLength: 20 })).map(([id, path]) => `module ${id} ${path}`),
  fc.tuple(fc.constantFrom('', '0x'), hexDigits(1, 16), fc.constantFrom('confirmed', 'learned', 'other', '')).map(([p, o, s]) => `${p}${o} ${s}`),
  fc.string({ maxLength: 30 }),
);
const planText = fc.tuple(fc.boolean(), fc.array(fc.tuple(blank, planLine, blank), { maxLength: 30 }))
  .map(([head, lines]) => (head ? 'trapline-plan 1\n' : '') + lines.map(([a, l, b]) => a + l + b).join('\n'));

describe('property: plans (parsePlan)', () => {
  it('plan-like text: a plan whose formatted form parses to the same plan, or a PlanError', () => {
    let parsed = 0;
    fc.assert(fc.property(planText, (text) => {
      const plan = returnsOrThrows(() => parsePlan(text, 'p'), PlanError);
      if (!plan) return;
      parsed++;
      const again = parsePlan(formatPlan(plan), 'p');
      expect(formatPlan(again)).toBe(formatPlan(plan));
      expect([...again.modules.keys()].sort()).toEqual([...plan.modules.keys()].sort());
    }), params(400));
    expect(parsed).toBeGreaterThan(0);
  });

  it('any text (any UTF-16, long lines, NULs): a plan or a PlanError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 6000 })), (text) => {
      returnsOrThrows(() => parsePlan(`trapline-plan 1\n${text}`, 'p'), PlanError);
      returnsOrThrows(() => parsePlan(text, 'p'), PlanError);
    }), params(200));
  });
});

// ---- ELF files -----------------------------------------------------------------------

describe('property: ELF files (parseElf, scanBuffer)', () => {
  const fixture = readFileSync(testProgram('scanme'));
  const pokes = fc.array(fc.record({
    at: fc.oneof(fc.nat({ max: 255 }), fc.nat({ max: 0xfff }), fc.nat({ max: fixture.length - 1 })),
    v: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.nat({ max: 255 })),
  }), { minLength: 1, maxLength: 12 });

  it('the fixture with bytes changed (headers mostly) and maybe cut: an ElfFile or an ElfError', () => {
    fc.assert(fc.property(pokes, fc.option(fc.nat({ max: fixture.length }), { freq: 4 }), (ps, cut) => {
      const b = Buffer.from(fixture);
      for (const { at, v } of ps) b[at] = v;
      returnsOrThrows(() => parseElf(cut === null ? b : b.subarray(0, cut)), ElfError);
    }), params(500));
  });

  it('section and program header tables rewritten with arbitrary 64-bit fields: an ElfFile or an ElfError', () => {
    const shoff = Number(fixture.readBigUInt64LE(40));
    const shnum = fixture.readUInt16LE(60);
    const field = fc.oneof(fc.constantFrom(0n, 1n, 24n, 0xffffffffn, 2n ** 63n, 2n ** 64n - 1n, BigInt(fixture.length)), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    fc.assert(fc.property(fc.nat({ max: shnum - 1 }), fc.nat({ max: 7 }), field, fc.nat({ max: 7 }), field, (s1, f1, v1, f2, v2) => {
      const b = Buffer.from(fixture);
      b.writeBigUInt64LE(v1, shoff + 64 * s1 + 8 * f1);
      b.writeBigUInt64LE(v2, 64 + 56 * (s1 % Math.max(1, b.readUInt16LE(56))) + 8 * f2);
      returnsOrThrows(() => parseElf(b), ElfError);
    }), params(400));
  });

  it('scanBuffer over corrupted fixtures: a result or an ElfError', () => {
    fc.assert(fc.property(pokes, (ps) => {
      const b = Buffer.from(fixture);
      for (const { at, v } of ps) b[at] = v;
      returnsOrThrows(() => scanBuffer(b, 'fuzz'), ElfError);
    }), params(60));
  });

  it('random bytes behind a valid ELF identification: an ElfFile or an ElfError', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), (bytes) => {
      const b = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.from(bytes)]);
      if (b.length > 19) { b.writeUInt16LE(3, 16); b.writeUInt16LE(62, 18); }
      returnsOrThrows(() => parseElf(b), ElfError);
    }), params(300));
  });
});
