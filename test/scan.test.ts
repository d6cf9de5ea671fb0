// The static scanner (ts/src/scan.ts), the ELF reader under it, plan files (ts/src/plan.ts)
// and `trapline scan`. The CLI tests run dist/cli.js: build with `npx tsc -p tsconfig.json`.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ElfError, parseElf } from '../ts/src/elf.js';
import { packageRoot } from '../ts/src/paths.js';
import { waitProgram } from '../ts/src/run.js';
import { testProgram } from './fixtures.js';
import { cli, hookLibrary, run, trapline } from './helpers.js';
import { loadAddon } from '../ts/src/native.js';
import {
  emptyPlan, formatPlan, mergePlan, parsePlan, planCacheDir, planFromScan, PlanError, readPlanFile,
  updatePlanCache, updatePlanFile, writePlanAtomic, type Plan, type PlanSource,
} from '../ts/src/plan.js';
import { scanBuffer, scanFile, type Site } from '../ts/src/scan.js';

const fixture = testProgram('scanme');
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';

const tmp = mkdtempSync(join(tmpdir(), 'trapline-scan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const tmpPath = (name: string) => join(tmp, `${seq++}-${name}`);

const hex = (n: number) => `0x${n.toString(16)}`;

/** The fixture's sites, from its symbol table and the layout of test/c/scanme.S. */
interface Expected { vaddr: number; offset: number; insn: string; class: string; function: string | null; reason?: RegExp }

function expectedSites(): Expected[] {
  const elf = parseElf(readFileSync(fixture));
  const sym = (name: string) => {
    const s = elf.symbols.find((x) => x.name === name) ?? (() => { throw new Error(`no symbol ${name}`); })();
    return s.value;
  };
  // scanme_blob is an object, not a function symbol
  const blob = execNm(fixture).get('scanme_blob')!;
  const at = (vaddr: number) => ({ vaddr, offset: elf.vaddrToOffset(vaddr)! });
  const sites: Expected[] = [
    { ...at(sym('site_plain') + 5), insn: 'syscall', class: 'confirmed', function: 'site_plain' },
    { ...at(sym('site_imm') + 2), insn: 'syscall', class: 'ambiguous', function: 'site_imm', reason: /^inside instruction at .*\(mov \$0x50f, %r8d\)/ },
    { ...at(sym('site_imm') + 13), insn: 'sysenter', class: 'ambiguous', function: 'site_imm', reason: /^inside instruction at .*movabs/ },
    { ...at(sym('site_imm') + 21), insn: 'syscall', class: 'confirmed', function: 'site_imm' },
    { ...at(blob), insn: 'syscall', class: 'ambiguous', function: null, reason: /^outside any function$/ },
    { ...at(blob + 2), insn: 'sysenter', class: 'ambiguous', function: null, reason: /^outside any function$/ },
    { ...at(sym('site_redzone') + 15), insn: 'syscall', class: 'redzone', function: 'site_redzone', reason: /^code uses the red zone: cmp -0x8\(%rsp\), %rdi at 0x[0-9a-f]+ \(below %rsp, after the syscall\)$/ },
    { ...at(sym('site_sysenter')), insn: 'sysenter', class: 'confirmed', function: 'site_sysenter' },
    { ...at(sym('site_desync') + 5), insn: 'syscall', class: 'ambiguous', function: 'site_desync', reason: /^decodings disagree: from 0x[0-9a-f]+( \(site_desync\))?: syscall at 0x[0-9a-f]+; linear sweep: add %cl, \(%rdi\) at / },
  ];
  return sites.sort((a, b) => a.offset - b.offset);
}

/** Symbol values from nm (for the data symbol the ELF reader does not collect). */
function execNm(file: string): Map<string, number> {
  const r = spawnSync('nm', [file], { encoding: 'utf8' });
  const m = new Map<string, number>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const [v, , name] = line.trim().split(/\s+/);
    if (v && name && /^[0-9a-f]+$/.test(v)) m.set(name, parseInt(v, 16));
  }
  return m;
}

function checkSites(sites: Site[], fnNames = true) {
  const want = expectedSites();
  expect(sites.map((s) => [hex(s.offset), s.insn, s.class])).toEqual(want.map((w) => [hex(w.offset), w.insn, w.class]));
  for (const [i, w] of want.entries()) {
    const s = sites[i]!;
    expect(s.vaddr).toBe(w.vaddr);
    if (fnNames) expect(s.function).toBe(w.function);
    if (w.reason) expect(s.reason).toMatch(w.reason);
    else expect(s.reason).toBeUndefined();
    expect(s.context.length).toBeGreaterThan(0);
    for (const line of s.context) expect(line).toMatch(/^0x[0-9a-f]+: \S/);
  }
}

describe('ELF reader', () => {
  it('reads the fixture: type, entry, build-id, symbols, .eh_frame extents', () => {
    const buf = readFileSync(fixture);
    const elf = parseElf(buf);
    expect(elf.type).toBe('dyn');
    expect(elf.entry).toBe(Number(buf.readBigUInt64LE(24)));
    expect(elf.buildId).toMatch(/^[0-9a-f]{40}$/);
    const readelf = spawnSync('readelf', ['-n', fixture], { encoding: 'utf8' });
    if (readelf.status === 0) expect(readelf.stdout).toContain(`Build ID: ${elf.buildId}`);
    for (const name of ['site_plain', 'site_imm', 'site_redzone', 'site_sysenter', 'site_desync']) {
      const s = elf.symbols.find((x) => x.name === name)!;
      expect(s.size).toBeGreaterThan(0);
      // CFI in scanme.S: one FDE per function, exactly its symbol's extent
      expect(elf.fdes).toContainEqual({ start: s.value, size: s.size, signalFrame: false });
    }
    expect(elf.execRegions.map((r) => r.name)).toContain('.text');
  });

  it('throws ElfError with a clear message for bad input', () => {
    const buf = readFileSync(fixture);
    const cases: [Buffer, RegExp][] = [
      [Buffer.from('hello, world\n'), /^not an ELF file$/],
      [buf.subarray(0, 40), /^truncated ELF header$/],
      [buf.subarray(0, 64), /^truncated program header table$/],
      [buf.subarray(0, 2000), /^truncated /],
      [buf.subarray(0, buf.length - 100), /^truncated section header table$/],
    ];
    const arm = Buffer.from(buf);
    arm.writeUInt16LE(183, 18);
    cases.push([arm, /^not an x86-64 ELF \(machine 183\)$/]);
    const rel = Buffer.from(buf);
    rel.writeUInt16LE(1, 16);
    cases.push([rel, /^not an executable or shared object \(ELF type 1\)$/]);
    const bigEndian = Buffer.from(buf);
    bigEndian[5] = 2;
    cases.push([bigEndian, /^not a little-endian ELF/]);
    const elf32 = Buffer.from(buf);
    elf32[4] = 1;
    cases.push([elf32, /^not a 64-bit ELF/]);
    for (const [b, msg] of cases) {
      expect(() => parseElf(b)).toThrow(ElfError);
      expect(() => parseElf(b)).toThrow(msg);
      expect(() => scanBuffer(b, 'x')).toThrow(msg);
    }
  });
});

describe('ELF reader: corrupted files', () => {
  it('random corruption of the fixture: a result or an ElfError, nothing else', () => {
    const base = readFileSync(fixture);
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let errors = 0;
    for (let n = 0; n < 400; n++) {
      const b = Buffer.from(base);
      for (let j = 1 + Math.floor(rnd() * 8); j > 0; j--) {
        const region = rnd() < 0.5 ? Math.min(b.length, 0x1000) : b.length; // headers, often
        b[Math.floor(rnd() * region)] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
      }
      const cut = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      try {
        scanBuffer(cut, 'fuzz');
      } catch (e) {
        if (!(e instanceof ElfError)) throw e;
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });
});

describe('scanner: the fixture build/test/scanme', () => {
  it('the fixture runs: one line per call, every call returns getpid()', () => {
    const r = spawnSync(fixture, [], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: '' } });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['site_plain', 'site_plain', 'site_plain', 'site_imm', 'site_redzone']);
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(1);
  });

  it('finds exactly the known sites with the right classes, functions and reasons', () => {
    const r = scanFile(fixture);
    expect(r.file).toBe(fixture);
    expect(r.type).toBe('dyn');
    expect(r.buildId).toBe(parseElf(readFileSync(fixture)).buildId);
    expect(r.counts).toEqual({ confirmed: 3, ambiguous: 5, redzone: 1 });
    checkSites(r.sites);
    // offsets are file offsets: the bytes there are the pair
    const buf = readFileSync(fixture);
    for (const s of r.sites) expect(buf.readUInt16BE(s.offset)).toBe(s.insn === 'syscall' ? 0x0f05 : 0x0f34);
    // the context of a confirmed site contains the site itself
    for (const s of r.sites.filter((x) => x.class === 'confirmed')) expect(s.context).toContain(`${hex(s.vaddr)}: ${s.insn}`);
  });

  it('without .symtab (strip --strip-all), .eh_frame alone gives the same classes', () => {
    const stripped = tmpPath('scanme.stripped');
    const r0 = spawnSync('objcopy', ['--strip-all', fixture, stripped]);
    if (r0.error) return; // binutils missing: nothing to compare
    expect(r0.status).toBe(0);
    const r = scanFile(stripped);
    expect(r.counts).toEqual({ confirmed: 3, ambiguous: 5, redzone: 1 });
    checkSites(r.sites, false);
    expect(r.sites.filter((s) => s.function !== null).every((s) => /^fde@0x[0-9a-f]+$/.test(s.function!))).toBe(true);
  });

  it('with no symbols and no .eh_frame, nothing the full scan doubts is confirmed', () => {
    const bare = tmpPath('scanme.bare');
    const r0 = spawnSync('objcopy', ['--strip-all', '--remove-section=.eh_frame', '--remove-section=.eh_frame_hdr', fixture, bare]);
    if (r0.error) return;
    expect(r0.status).toBe(0);
    const full = new Map(scanFile(fixture).sites.map((s) => [s.offset, s.class]));
    const r = scanFile(bare);
    expect(r.sites.map((s) => s.offset)).toEqual([...full.keys()]);
    for (const s of r.sites) if (full.get(s.offset) !== 'confirmed') expect(s.class).not.toBe('confirmed');
    // immediates stay ambiguous whatever is known about functions
    expect(r.sites.filter((s) => /^inside instruction/.test(s.reason ?? '')).length).toBeGreaterThanOrEqual(3);
  });

  it('planFromScan keeps confirmed syscall sites only', () => {
    const r = scanFile(fixture);
    const plan = planFromScan([r, { ...r, file: 'other', buildId: null }]);
    expect([...plan.modules.keys()]).toEqual([r.buildId]);
    const m = plan.modules.get(r.buildId!)!;
    const want = expectedSites().filter((w) => w.class === 'confirmed' && w.insn === 'syscall').map((w) => w.offset);
    expect([...m.sites.keys()].sort((a, b) => a - b)).toEqual(want);
    expect([...m.sites.values()].every((v) => v === 'confirmed')).toBe(true);
    expect(m.path).toBe(fixture);
  });
});

describe('scanner: libc', () => {
  it.skipIf(!existsSync(LIBC))(`${LIBC} scans: > 100 confirmed sites, every offset holds the pair`, () => {
    const r = scanFile(LIBC);
    expect(r.type).toBe('dyn');
    expect(r.buildId).toMatch(/^[0-9a-f]+$/);
    expect(r.counts.confirmed).toBeGreaterThan(100);
    expect(r.counts.confirmed + r.counts.ambiguous + r.counts.redzone).toBe(r.sites.length);
    const buf = readFileSync(LIBC);
    for (const [i, s] of r.sites.entries()) {
      expect(buf.readUInt16BE(s.offset)).toBe(s.insn === 'syscall' ? 0x0f05 : 0x0f34);
      if (i > 0) expect(s.offset).toBeGreaterThan(r.sites[i - 1]!.offset);
      if (s.class !== 'confirmed') expect(s.reason).toBeTruthy();
    }
    // console.log is the place for the time: no timing assertions
    console.log(`scan ${LIBC}: ${r.ms} ms, ${JSON.stringify(r.counts)}`);
  });
});

describe('scanner and core: one red-zone rule (lazy/redzone.c)', () => {
  const prog = testProgram('rzforms');
  const lib = hookLibrary('rzlib');
  const REDZONE_FORMS = ['direct', 'copy', 'lea', 'rbp', 'kernel'];

  for (const file of [LIBC, '/usr/bin/python3', testProgram('rzforms')]) {
    it.skipIf(!existsSync(file))(`the rule's decoder (lazy/redzone.c) sweeps ${file}'s executable sections exactly as iced-x86 does`, async () => {
      const iced = await import('iced-x86');
      const elf = parseElf(readFileSync(file));
      let insns = 0;
      for (const region of elf.execRegions) {
        const bytes = elf.buf.subarray(region.offset, region.offset + region.size);
        const ours = loadAddon().insnLengths(bytes);
        const d = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
        const insn = new iced.Instruction();
        let pos = 0;
        let mismatch: string | undefined;
        while (pos < bytes.length && mismatch === undefined) {
          d.position = pos;
          d.decodeOut(insn);
          const len = insn.code === iced.Code.INVALID ? 0 : insn.length;
          // an undecodable byte is 0 in both, and both sweeps step over it
          if (ours[pos] !== len) mismatch = `${region.name}+0x${pos.toString(16)}: ours ${ours[pos]}, iced ${len}`;
          pos += ours[pos] || 1;
          insns++;
        }
        insn.free();
        d.free();
        expect(mismatch).toBeUndefined();
      }
      expect(insns).toBeGreaterThan(10);
    });
  }

  it('rzforms and librzlib.so: the scanner says redzone exactly at the sites the core keeps trapping for the red zone', async () => {
    const r = await run(prog, [lib], { mode: 'lazy' });
    expect(r.code).toBe(0);
    const scans = new Map([[prog, scanFile(prog)], [lib, scanFile(lib)]]);
    for (const scan of scans.values()) {
      const rz = scan.sites.filter((x) => x.class === 'redzone').map((x) => x.function);
      expect(rz.sort()).toEqual(REDZONE_FORMS.map((f) => `rz_${f}`).sort());
    }
    let compared = 0;
    for (const site of r.stats!.sites) {
      const mod = site.module !== null ? r.stats!.modules[site.module] : undefined;
      const scan = mod ? scans.get(mod.path) : undefined;
      if (!scan) continue;
      const s = scan.sites.find((x) => x.offset === parseInt(site.offset, 16));
      expect(s, `${mod!.path} ${site.offset}`).toBeDefined();
      expect(s!.class, `${s!.function}`).toBe(site.reason === 'redzone' ? 'redzone' : 'confirmed');
      expect(site.state).toBe(site.reason === 'redzone' ? 'trapping' : 'rewritten');
      compared++;
    }
    expect(compared).toBe(14);   // 7 forms in the program, 7 in the library
  });

  it('JIT code: the addon, given the bytes of the anonymous page, agrees with the core on every form', async () => {
    const r = await run(prog, [lib], { mode: 'lazy' });
    expect(r.code).toBe(0);
    // the page rzforms builds: rz_begin..rz_end copied to its start, zeros after
    const elf = parseElf(readFileSync(prog));
    const nm = execNm(prog);
    const begin = nm.get('rz_begin')!;
    const end = nm.get('rz_end')!;
    const page = Buffer.alloc(4096);
    const off = elf.vaddrToOffset(begin)!;
    elf.buf.copy(page, 0, off, off + (end - begin));
    const byAddr = new Map(r.stats!.sites.map((x) => [BigInt(x.addr), x]));
    let compared = 0;
    for (const line of r.stdout.trim().split('\n')) {
      const [place, form, , addr] = line.split(' ');
      if (place !== 'jit') continue;
      const core = byAddr.get(BigInt(addr!))!;
      const rel = nm.get(`rz_${form}_site`)! - begin;
      const verdict = loadAddon().redzone(page, rel);
      expect(verdict.kind !== 0, `${form}`).toBe(core.reason === 'redzone');
      expect(REDZONE_FORMS.includes(form!), `${form}`).toBe(verdict.kind !== 0);
      compared++;
    }
    expect(compared).toBe(7);
  });

  for (const [prog2, args] of [['/bin/ls', ['-l', '/']], ['/usr/bin/python3', ['-c', 'pass']], ['/bin/bash', ['-c', 'echo hi | cat']]] as const) {
    it.skipIf(!existsSync(prog2) || !existsSync(LIBC))(`${prog2}: every libc site it executes is classed by the scanner as the core decided`, async () => {
      const r = await run(prog2, [...args], { mode: 'lazy' });
      expect(r.code).toBe(0);
      const scan = new Map(scanFile(LIBC).sites.map((x) => [x.offset, x]));
      let compared = 0;
      for (const site of r.stats!.sites) {
        const mod = site.module !== null ? r.stats!.modules[site.module] : undefined;
        if (!mod || !mod.path.endsWith('/libc.so.6') || mod.origin === 'anonymous') continue;
        if (site.state === 'rewritten' || site.reason === 'redzone') {
          const s = scan.get(parseInt(site.offset, 16));
          expect(s, site.offset).toBeDefined();
          expect(s!.class, site.offset).toBe(site.reason === 'redzone' ? 'redzone' : 'confirmed');
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(5);
    });
  }
});

// ---- plans ----------------------------------------------------------------------------

function plan(...mods: [string, string, [number, PlanSource][]][]): Plan {
  const p = emptyPlan();
  for (const [id, path, sites] of mods) p.modules.set(id, { buildId: id, path, sites: new Map(sites) });
  return p;
}

describe('plan files', () => {
  it('format: header, modules by build-id, sites ascending; parse(format(p)) equals p', () => {
    const p = plan(
      ['ff00', '/usr/lib/with space/libx.so', [[0x30, 'learned'], [0x10, 'confirmed'], [0x2000, 'confirmed']]],
      ['0a1b2c', '/bin/y', [[0x5, 'learned']]],
      ['ee', '', []],
    );
    const text = formatPlan(p);
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual([
      'trapline-plan 1',
      'module 0a1b2c /bin/y', '5 learned',
      'module ee',
      'module ff00 /usr/lib/with space/libx.so', '10 confirmed', '30 learned', '2000 confirmed',
    ]);
    expect(text.endsWith('\n')).toBe(true);
    expect(parsePlan(text, 'x.plan')).toEqual(p);
    expect(parsePlan(formatPlan(emptyPlan()), 'e')).toEqual(emptyPlan());
  });

  it('parse: comments, blank lines and surrounding blanks are ignored', () => {
    const p = parsePlan('# hello\n\n  trapline-plan 1  \r\n\t# c\n  module abcd  /a b/c \n 1f confirmed\n\t20\tlearned\n', 'f');
    expect(p).toEqual(plan(['abcd', '/a b/c', [[0x1f, 'confirmed'], [0x20, 'learned']]]));
  });

  it('parse errors name file:line', () => {
    const H = 'trapline-plan 1\n';
    const cases: [string, RegExp][] = [
      ['', /^e\.plan:1: missing 'trapline-plan 1' header$/],
      ['# only a comment\n', /^e\.plan:2: missing/],
      ['trapline-plan 2\n', /^e\.plan:1: unsupported plan version '2'$/],
      ['module ab x\n', /^e\.plan:1: expected 'trapline-plan 1'$/],
      [`${H}10 confirmed\n`, /^e\.plan:2: site before any 'module' line/],
      [`# c\n\n${H}module ABCD x\n`, /^e\.plan:4: module: bad build-id 'ABCD'/],
      [`${H}module abc x\n`, /^e\.plan:2: module: bad build-id 'abc'/],
      [`${H}module ${'ab'.repeat(21)} x\n`, /^e\.plan:2: module: bad build-id/],
      [`${H}module\n`, /^e\.plan:2: module: missing build-id$/],
      [`${H}module ab x\nmodule ab y\n`, /^e\.plan:3: module ab: listed twice$/],
      [`${H}module ab x\n0x10 confirmed\n`, /^e\.plan:3: bad offset '0x10'/],
      [`${H}module ab x\n10 maybe\n`, /^e\.plan:3: unknown source 'maybe'/],
      [`${H}module ab x\n10\n`, /^e\.plan:3: expected '<offset> confirmed\|learned'/],
      [`${H}module ab x\n10 confirmed extra\n`, /^e\.plan:3: expected/],
      [`${H}module ab x\n10 learned\n10 confirmed\n`, /^e\.plan:4: module ab: offset 10 listed twice$/],
      [`${H}module ab ${'x'.repeat(4096)}\n`, /^e\.plan:2: line longer than 4096 bytes$/],
    ];
    for (const [text, msg] of cases) {
      expect(() => parsePlan(text, 'e.plan')).toThrow(PlanError);
      expect(() => parsePlan(text, 'e.plan')).toThrow(msg);
    }
  });

  it('limits: 4096 modules, 65536 sites per module, 4096-byte lines', () => {
    const mods = Array.from({ length: 4097 }, (_, i) => `module ${i.toString(16).padStart(4, '0')} m\n`);
    expect(() => parsePlan(`trapline-plan 1\n${mods.slice(0, 4096).join('')}`, 'm')).not.toThrow();
    expect(() => parsePlan(`trapline-plan 1\n${mods.join('')}`, 'm')).toThrow(/^m:4098: more than 4096 modules$/);
    const sites = Array.from({ length: 65537 }, (_, i) => `${i.toString(16)} confirmed\n`);
    expect(() => parsePlan(`trapline-plan 1\nmodule ab x\n${sites.slice(0, 65536).join('')}`, 's')).not.toThrow();
    expect(() => parsePlan(`trapline-plan 1\nmodule ab x\n${sites.join('')}`, 's')).toThrow(/^s:65539: module ab: more than 65536 sites$/);
    const big = plan(['ab', 'x', Array.from({ length: 65537 }, (_, i) => [i, 'confirmed'] as [number, PlanSource])]);
    expect(() => formatPlan(big)).toThrow(PlanError);
    // an over-long path hint is shortened, so the line still fits
    const long = plan(['ab', `/${'é'.repeat(3000)}`, [[1, 'learned']]]);
    const text = formatPlan(long);
    for (const line of text.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    expect(parsePlan(text, 'l').modules.get('ab')!.sites).toEqual(new Map([[1, 'learned']]));
  });

  it('merge: confirmed wins over learned either way; the path comes from the newer plan', () => {
    const a = plan(['ab', '/old', [[1, 'learned'], [2, 'confirmed'], [3, 'learned']]]);
    const b = plan(['ab', '/new', [[1, 'confirmed'], [2, 'learned'], [4, 'learned']]], ['cd', '/c', [[9, 'confirmed']]]);
    const m = mergePlan(a, b);
    expect(m).toBe(a);
    expect(m).toEqual(plan(
      ['ab', '/new', [[1, 'confirmed'], [2, 'confirmed'], [3, 'learned'], [4, 'learned']]],
      ['cd', '/c', [[9, 'confirmed']]],
    ));
    // an empty path does not replace a known one
    mergePlan(m, plan(['ab', '', [[5, 'learned']]]));
    expect(m.modules.get('ab')!.path).toBe('/new');
  });

  it('readPlanFile / updatePlanFile / writePlanAtomic', () => {
    const f = tmpPath('p.plan');
    expect(() => readPlanFile(f)).toThrow(PlanError);
    expect(() => readPlanFile(f)).toThrow(new RegExp(`^${f}: no such file$`));
    const r1 = updatePlanFile(f, plan(['ab', '/x', [[0x10, 'learned']]]));
    expect(r1).toEqual(plan(['ab', '/x', [[0x10, 'learned']]]));
    const r2 = updatePlanFile(f, plan(['ab', '/x2', [[0x10, 'confirmed'], [0x8, 'learned']]], ['cd', '/y', [[1, 'learned']]]));
    expect(readPlanFile(f)).toEqual(r2);
    expect(r2).toEqual(plan(['ab', '/x2', [[0x8, 'learned'], [0x10, 'confirmed']]], ['cd', '/y', [[1, 'learned']]]));
    // no temporary files are left behind
    expect(readdirSync(tmp).filter((n) => n.includes('.tmp.'))).toEqual([]);
    // a malformed file is not overwritten
    writeFileSync(f, 'garbage\n');
    expect(() => updatePlanFile(f, plan(['ab', '/x', []]))).toThrow(/:1: expected 'trapline-plan 1'/);
    expect(readFileSync(f, 'utf8')).toBe('garbage\n');
    // writing into a missing directory: PlanError naming the file
    const bad = join(tmp, 'no', 'such', 'dir', 'p.plan');
    expect(() => writePlanAtomic(bad, emptyPlan())).toThrow(PlanError);
    expect(() => writePlanAtomic(bad, emptyPlan())).toThrow(bad);
  });

  it('planCacheDir: $TRAPLINE_PLAN_CACHE, else $XDG_CACHE_HOME/trapline/plans, else ~/.cache/trapline/plans', () => {
    expect(planCacheDir({ TRAPLINE_PLAN_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(planCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/trapline/plans');
    expect(planCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe('/h/.cache/trapline/plans');
    expect(planCacheDir({ HOME: '/h' })).toBe('/h/.cache/trapline/plans');
  });

  it('updatePlanCache writes one <build-id>.plan per module (mkdir -p) and merges', () => {
    const dir = join(tmpPath('cache'), 'a', 'b');
    updatePlanCache(plan(['ab', '/x', [[1, 'learned']]], ['cdef', '/y', [[2, 'confirmed']]]), dir);
    updatePlanCache(plan(['ab', '/x', [[3, 'confirmed']]]), dir);
    expect(readdirSync(dir).sort()).toEqual(['ab.plan', 'cdef.plan']);
    expect(readPlanFile(join(dir, 'ab.plan'))).toEqual(plan(['ab', '/x', [[1, 'learned'], [3, 'confirmed']]]));
    expect(readPlanFile(join(dir, 'cdef.plan'))).toEqual(plan(['cdef', '/y', [[2, 'confirmed']]]));
  });

  it('concurrent updatePlanFile from 8 processes: the file always parses', async () => {
    const f = tmpPath('race.plan');
    const planJs = `${packageRoot()}/dist/plan.js`;
    expect(existsSync(planJs)).toBe(true);
    const N = 100;
    const script = `
      const { updatePlanFile } = await import(${JSON.stringify(planJs)});
      const k = Number(process.argv[1]);
      for (let i = 0; i < ${N}; i++) {
        const sites = new Map([[k * 1000 + i, i % 2 ? 'learned' : 'confirmed']]);
        updatePlanFile(${JSON.stringify(f)}, { modules: new Map([['abcd', { buildId: 'abcd', path: 'writer-' + k + '-' + i, sites }]]) });
      }`;
    const children = Array.from({ length: 8 }, (_, k) =>
      waitProgram(spawn(process.execPath, ['--input-type=module', '-e', script, String(k)], { stdio: ['ignore', 'pipe', 'pipe'] })));
    let reads = 0;
    let done = false;
    const all = Promise.all(children).finally(() => { done = true; });
    // read while they write: never a torn or partial file
    while (!done) {
      if (existsSync(f)) {
        let text = '';
        try { text = readFileSync(f, 'utf8'); } catch { /* renamed under us */ }
        if (text) {
          parsePlan(text, f);
          reads++;
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await all;
    for (const r of results) expect(r.stderr).toBe('');
    for (const r of results) expect(r.code).toBe(0);
    const final = readPlanFile(f);
    const m = final.modules.get('abcd')!;
    // the last writer's site is there (its path hint names it)
    const [, k, i] = /^writer-(\d+)-(\d+)$/.exec(m.path)!.map(Number) as [string, number, number];
    expect(m.sites.has(k * 1000 + i)).toBe(true);
    expect(readdirSync(tmp).filter((n) => n.includes('.tmp.'))).toEqual([]);
    expect(reads).toBeGreaterThan(0);
  });
});

// ---- the CLI --------------------------------------------------------------------------

describe('trapline scan', () => {
  it('the CLI is built', () => expect(existsSync(cli)).toBe(true));

  it('--help: usage on stdout, status 0; help scan likewise', async () => {
    for (const args of [['scan', '--help'], ['scan', '-h'], ['help', 'scan']]) {
      const r = await trapline(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: trapline scan /);
    }
    const r = await trapline(['--help']);
    expect(r.stdout).toMatch(/\n {2}scan /);
  });

  it('a bad command line is one line and status 2', async () => {
    for (const args of [['scan', '--bogus', fixture], ['scan'], ['scan', '--plan'], ['scan', '--json=1', fixture]]) {
      const r = await trapline(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^trapline: scan: /);
      expect(r.stdout).toBe('');
    }
  });

  it('text output: a header line per file, then a table of the sites', async () => {
    const r = await trapline(['scan', fixture]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${fixture}: build-id [0-9a-f]{40}, dyn, 9 sites: 3 confirmed, 5 ambiguous, 1 redzone \\([0-9.]+ ms\\)$`));
    expect(lines[1]).toMatch(/^ {2}OFFSET +VADDR +INSN +CLASS +FUNCTION +REASON$/);
    const rows = lines.filter((l) => /^ {2}0x/.test(l));
    expect(rows).toHaveLength(9);
    expect(rows.filter((l) => /\bredzone\b/.test(l))[0]).toMatch(/site_redzone +code uses the red zone/);
    expect(rows.filter((l) => /\bconfirmed +site_plain$/.test(l))).toHaveLength(1);
    // context under ambiguous and redzone sites only; --all: under every site
    expect(lines.filter((l) => /^ {6}\| 0x/.test(l)).length).toBeGreaterThan(0);
    const all = await trapline(['scan', '--all', fixture]);
    expect(all.stdout.split('\n').filter((l) => /^ {6}\| 0x[0-9a-f]+: syscall$/.test(l)).length).toBeGreaterThanOrEqual(5);
  });

  it('bad files: one line each on stderr, the good file still scans, status 1', async () => {
    const buf = readFileSync(fixture);
    const t64 = tmpPath('trunc64');
    writeFileSync(t64, buf.subarray(0, 64));
    const t2000 = tmpPath('trunc2000');
    writeFileSync(t2000, buf.subarray(0, 2000));
    const arm = tmpPath('arm.elf');
    const a = Buffer.from(buf);
    a.writeUInt16LE(183, 18);
    writeFileSync(arm, a);
    const text = tmpPath('text.txt');
    writeFileSync(text, 'just some text\n');
    const missing = join(tmp, 'missing-file');
    const dir = tmpPath('dir');
    mkdirSync(dir);
    const files = [t64, t2000, fixture, arm, text, missing, dir];
    const r = await trapline(['scan', ...files]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `trapline: scan ${t64}: truncated program header table`,
      expect.stringMatching(new RegExp(`^trapline: scan ${t2000}: truncated `)),
      `trapline: scan ${arm}: not an x86-64 ELF (machine 183)`,
      `trapline: scan ${text}: not an ELF file`,
      `trapline: scan ${missing}: no such file`,
      `trapline: scan ${dir}: is a directory`,
    ]);
    expect(r.stdout).toMatch(new RegExp(`^${fixture}: build-id .* 3 confirmed, 5 ambiguous, 1 redzone`));

    const j = await trapline(['scan', '--json', ...files]);
    expect(j.code).toBe(1);
    const out = JSON.parse(j.stdout) as ({ file: string; error: string } | { file: string; counts: object; sites: Site[] })[];
    expect(out.map((x) => x.file)).toEqual(files);
    expect(out.filter((x) => 'error' in x)).toHaveLength(6);
    const good = out[2] as { counts: object; sites: Site[] };
    expect(good.counts).toEqual({ confirmed: 3, ambiguous: 5, redzone: 1 });
    checkSites(good.sites);
  });

  it('--json: the ScanResult array', async () => {
    const r = await trapline(['scan', '--json', fixture]);
    expect(r.code).toBe(0);
    const [res] = JSON.parse(r.stdout) as ReturnType<typeof scanFile>[];
    const direct = scanFile(fixture);
    expect({ ...res, ms: 0 }).toEqual({ ...direct, ms: 0 });
  });

  it('--plan FILE merges the confirmed sites; --plan auto writes the cache', async () => {
    const f = tmpPath('cli.plan');
    updatePlanFile(f, plan(['ab', '/other', [[1, 'learned']]]));
    const r = await trapline(['scan', '--plan', f, fixture]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^trapline: scan: merged 2 confirmed sites of 1 module into ${f}\\n$`));
    const p = readPlanFile(f);
    const id = scanFile(fixture).buildId!;
    expect([...p.modules.keys()].sort()).toEqual(['ab', id].sort());
    const want = expectedSites().filter((w) => w.class === 'confirmed' && w.insn === 'syscall').map((w) => w.offset);
    expect([...p.modules.get(id)!.sites.entries()]).toEqual(want.map((o) => [o, 'confirmed']));

    const cache = tmpPath('plancache');
    const a = await trapline(['scan', '--plan', 'auto', fixture], { TRAPLINE_PLAN_CACHE: cache });
    expect(a.code).toBe(0);
    expect(a.stderr).toContain(`into the plan cache ${cache}`);
    expect(readdirSync(cache)).toEqual([`${id}.plan`]);
    expect(readPlanFile(join(cache, `${id}.plan`)).modules.get(id)!.sites.size).toBe(2);
  });

  it('--plan into an unwritable place: status 1, the scan output is still printed', async () => {
    const r = await trapline(['scan', '--plan', join(tmp, 'nope', 'x.plan'), fixture]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^trapline: scan: plan not written: /);
    expect(r.stdout).toMatch(/3 confirmed/);
  });

  it('a copy of the fixture scans the same', () => {
    const c = tmpPath('copy');
    copyFileSync(fixture, c);
    expect(scanFile(c).sites).toEqual(scanFile(fixture).sites);
  });
});
