// trapline's limits, reached by real programs (test/c/limits.c): a limit is never a silent
// loss. The run goes on correctly, the statistics segment's header carries a flag
// (TL_FLAG_*, core/stats_layout.h) and one line on stderr says what happened.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readStats } from '../ts/src/index.js';
import { LAYOUT } from '../ts/src/layout.js';
import { nrStats, statsPath, testProgram, trapline } from './helpers.js';

const GETPPID = 110;
const flags = (seg: string) => readFileSync(seg).readUInt32LE(LAYOUT.header.flags);
const lazy = (seg: string) => ['run', '--mode', 'lazy', '--allow-null-reads', '--stats', seg, '--', testProgram('limits')];

describe('limits', () => {
  it('lazy: 1,100 threads alive at once (1,024 counter blocks): every fast-path call is counted', async () => {
    const seg = statsPath();
    const r = await trapline([...lazy(seg), 'threads', '1100', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok 22000 bad 0\n');
    const n = nrStats(readStats(seg), GETPPID);
    expect(n.trap + n.fast).toBe(22000 + 1);        // and the program's own getppid() once
    expect(flags(seg) & LAYOUT.flag.thread_full).not.toBe(0);
    expect(r.stderr.match(/more threads at once than the statistics segment has counter blocks/g)).toHaveLength(1);
  });

  it('lazy: 135,000 JIT sites (the rewritten set holds 131,072): the rest trap, and every rewritten one gets its bytes back', async () => {
    // also more distinct sites than the segment has site records (65,536), past the point
    // where the site map stops remembering dropped ones (it used to fill up and hang)
    const seg = statsPath();
    const r = await trapline([...lazy(seg), 'sites', '135000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('ok 135000 restored 135000 wrong 0\n');
    const s = readStats(seg);
    expect(s.sitesRewritten).toBe(131072);
    expect(flags(seg) & LAYOUT.flag.rewrite_full).not.toBe(0);
    expect(s.dropped.sites).toBeGreaterThan(0);
    expect(r.stderr.match(/the set of rewritten sites is full/g)).toHaveLength(1);
  });

  it.each([32, 33])('lazy: %i seccomp filters (trapline keeps copies of 32): a site run after them', async (n) => {
    const seg = statsPath();
    const r = await trapline([...lazy(seg), 'seccomp', String(n)]);
    expect(r.code, r.stderr).toBe(0);
    const at = /^site (0x[0-9a-f]+)$/m.exec(r.stdout)?.[1];
    expect(r.stdout).toMatch(/^ok$/m);
    const site = readStats(seg).sites.find((x) => x.addr === at);
    const full = (flags(seg) & LAYOUT.flag.seccomp_full) !== 0;
    if (n === 32) {
      // every filter is known and allows trapline's calls: the site is rewritten
      expect({ state: site?.state, reason: site?.reason, full }).toEqual({ state: 'rewritten', reason: 'none', full: false });
    } else {
      // one filter more than it keeps: it assumes the worst, and says so
      expect({ state: site?.state, reason: site?.reason, full }).toEqual({ state: 'trapping', reason: 'seccomp', full: true });
      expect(r.stderr).toMatch(/more seccomp filters than trapline keeps copies of/);
    }
  });
});
