// One list of settings: the TRAPLINE_* variables the core accepts (core/config.c) are the
// ones the TypeScript side lets through (ts/src/run.ts KNOWN_ENV), so that a setting of
// one is never refused by the other.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_ENV } from '../ts/src/run.js';

describe('TRAPLINE_* settings', () => {
  it('the core and the TypeScript side know the same variables', () => {
    const c = readFileSync(fileURLToPath(new URL('../core/config.c', import.meta.url)), 'utf8');
    const list = /static const char \*known\[\] = \{([^}]*)\}/.exec(c)![1]!;
    const fromC = [...list.matchAll(/"(TRAPLINE_[A-Z_]+)"/g)].map((m) => m[1]!).sort();
    expect(fromC.length).toBeGreaterThan(10);
    expect([...KNOWN_ENV].sort()).toEqual(fromC);
  });
});
