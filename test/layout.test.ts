// The statistics segment's layout has one source of truth, core/stats_layout.h: the
// TypeScript reader's offsets, sizes and enum values (ts/src/layout.ts) are generated from
// it by ts/scripts/gen-layout.mjs, through test/c/layout.c. This fails if they drift apart
// (regenerate with `node ts/scripts/gen-layout.mjs` after `npm run build`).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LAYOUT } from '../ts/src/layout.js';
import { testProgram } from './helpers.js';

describe('statistics layout', () => {
  it('ts/src/layout.ts is what core/stats_layout.h lays out', () => {
    const fromC = JSON.parse(execFileSync(testProgram('layout'), { encoding: 'utf8' })) as unknown;
    expect(LAYOUT).toEqual(fromC);
  });
});
