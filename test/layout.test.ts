// The statistics segment's layout has one source of truth, core/stats_layout.h: the
// TypeScript reader's offsets, sizes and enum values (ts/src/layout.ts) are generated from
// it by ts/scripts/gen-layout.mjs, through test/c/layout.c. This fails if they drift apart
// (regenerate with `node ts/scripts/gen-layout.mjs` after `npm run build`).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LAYOUT } from '../ts/src/layout.js';
import { TRACE_LAYOUT } from '../ts/src/trace-layout.js';
import { traceGeometry } from '../ts/src/trace.js';
import { testProgram } from './helpers.js';

describe('statistics layout', () => {
  it('ts/src/layout.ts is what core/stats_layout.h lays out', () => {
    const fromC = JSON.parse(execFileSync(testProgram('layout'), { encoding: 'utf8' })) as unknown;
    expect(LAYOUT).toEqual(fromC);
  });
});

describe('trace segment layout', () => {
  it('ts/src/trace-layout.ts is what core/trace_layout.h lays out', () => {
    const fromC = JSON.parse(execFileSync(testProgram('tracelayout'), { encoding: 'utf8' })) as unknown;
    expect(TRACE_LAYOUT).toEqual(fromC);
  });

  it('ts/src/trace.ts computes the geometry core/trace_check.c computes', () => {
    for (const g of TRACE_LAYOUT.geometry) {
      expect(traceGeometry(g.rings, g.ring_size, g.modules)).toEqual({ ring: g.ring, data: g.data, module: g.module, size: g.size });
    }
    // shapes the C side refuses
    expect(traceGeometry(0, 65536, 1)).toBeUndefined();
    expect(traceGeometry(1, 65536 + 4096, 1)).toBeUndefined();
    expect(traceGeometry(1, 65536, TRACE_LAYOUT.const.modules_max + 1)).toBeUndefined();
  });
});
