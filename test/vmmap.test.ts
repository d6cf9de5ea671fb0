// Issue 15, "first execution of a site": trapline keeps its own map of the address space
// (core/vmmap.c) instead of reading /proc/self/maps per site. These programs change
// mappings under it (mprotect, mmap MAP_FIXED, munmap, mremap, brk, a hook's own mmap)
// and then run a new site there: a stale map would write into shared memory or give a
// page back the wrong protection.
import { describe, expect, it } from 'vitest';
import { hookLibrary, needsAddress0, run, testProgram } from './helpers.js';

const GETPPID = 110;
const kinds = ['flip', 'xonly', 'fixed-shared', 'unmap-shared', 'mremap-shared', 'heap'] as const;

describe('our map of the address space follows every change', () => {
  for (const kind of kinds) {
    it(`lazy: ${kind}: as natively, and the private site was rewritten`, async () => {
      needsAddress0();
      const native = await run(testProgram('vmmap'), [kind], { mode: 'native' });
      expect(native.stdout).toBe('ok\n');
      const r = await run(testProgram('vmmap'), [kind], { mode: 'lazy' });
      expect(r.stdout).toBe('ok\n');
      expect(r.code).toBe(0);
      // the map was really used: the private code page's site went to the fast path
      const fast = r.stats!.sites.filter((s) => s.nrs.includes(GETPPID) && s.fastHits > 0);
      expect(fast.length).toBeGreaterThan(0);
      if (kind.endsWith('-shared')) {
        const shared = r.stats!.sites.find((s) => s.nrs.includes(GETPPID) && s.reason === 'shared');
        expect(shared).toBeDefined();
      }
    });
  }

  it("lazy: a hook's own mmap (unseen by trapline) over a code page: shared memory stays unwritten", async () => {
    needsAddress0();
    const native = await run(testProgram('vmmap'), ['hook-shared'], { mode: 'native' });
    expect(native.stdout).toBe('ok\n');
    const r = await run(testProgram('vmmap'), ['hook-shared'], { mode: 'lazy', hook: hookLibrary('vmhook') });
    expect(r.stdout).toBe('ok\n');
    expect(r.code).toBe(0);
    const shared = r.stats!.sites.find((s) => s.nrs.includes(GETPPID) && s.reason === 'shared');
    expect(shared).toBeDefined();
  });
});
