// The C code loaded into the program is three layers, each a folder: core/ at the bottom,
// lazy/ above it, sud/ on top (docs/design.md, "Layers"). A file may use its own folder
// and the folders below it, never one above. Two checks enforce it:
//  - includes: a file names the header it includes by its folder ("core/core.h"), and a
//    file of a lower layer never includes a header of a higher one. From another folder,
//    C code includes only that folder's own header (core/core.h, lazy/lazy.h), which
//    declares what the folder offers; assembly may include core's layout headers.
//  - symbols: no object file of the built library refers to a symbol that an object of a
//    higher layer defines (what core/ needs from above goes through tl_up, a table of
//    function pointers that sud/init.c fills in).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const LAYERS = ['core', 'lazy', 'sud'] as const;
const rank = (folder: string): number => (folder === 'include' ? -1 : LAYERS.indexOf(folder as (typeof LAYERS)[number]));
/** what a folder offers to the folders above it */
const OFFER: Record<string, string[]> = {
  include: ['include/trapline.h'],
  core: ['core/core.h'],
  lazy: ['lazy/lazy.h'],
};
/** headers shared with assembly (layouts and macros): assembly cannot include core.h */
const ASM_SAFE = ['core/tcb.h', 'core/kabi.h', 'core/sled.h', 'core/frame_asm.h'];

function sources(): string[] {
  const out: string[] = [];
  for (const dir of ['include', ...LAYERS])
    for (const f of readdirSync(join(root, dir)))
      if (/\.(c|h|S)$/.test(f)) out.push(`${dir}/${f}`);
  return out;
}

/** every violation of the include rule, as "file: what" lines */
export function includeViolations(files: Record<string, string>): string[] {
  const bad: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    const folder = file.split('/')[0]!;
    for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
      const inc = m[1]!;
      const to = inc.includes('/') ? inc.split('/')[0]! : null;
      if (to === null) { bad.push(`${file}: includes "${inc}" without its folder`); continue; }
      if (!(to in OFFER) && !LAYERS.includes(to as (typeof LAYERS)[number])) {
        bad.push(`${file}: includes "${inc}" from outside the layers`);
        continue;
      }
      if (rank(to) > rank(folder)) { bad.push(`${file}: includes "${inc}" from a layer above it`); continue; }
      if (to !== folder && !OFFER[to]!.includes(inc) && !(file.endsWith('.S') && ASM_SAFE.includes(inc)))
        bad.push(`${file}: includes "${inc}", not what ${to}/ offers (${OFFER[to]!.join(', ')})`);
    }
  }
  return bad;
}

describe('layers: core/ <- lazy/ <- sud/', () => {
  it('no file includes a header from a layer above it, or a lower folder\'s private header', () => {
    const files = Object.fromEntries(sources().map((f) => [f, readFileSync(join(root, f), 'utf8')]));
    expect(Object.keys(files).length).toBeGreaterThan(30);
    expect(includeViolations(files)).toEqual([]);
  });

  it('the include check catches an upward and a private include', () => {
    expect(includeViolations({
      'core/x.c': '#include "core/core.h"\n#include "sud/sud.h"\n',
      'sud/y.c': '#include "core/vmmap.h"\n#include "lazy/lazy.h"\n',
      'sud/z.S': '#include "core/tcb.h"\n',
      'lazy/w.c': '#include "tl.h"\n',
    })).toEqual([
      'core/x.c: includes "sud/sud.h" from a layer above it',
      'sud/y.c: includes "core/vmmap.h", not what core/ offers (core/core.h)',
      'lazy/w.c: includes "tl.h" without its folder',
    ]);
  });

  it('no object of the library refers to a symbol defined in a layer above it', () => {
    const objDir = join(root, 'build', 'CMakeFiles', 'trapline.dir');
    expect(existsSync(objDir), `${objDir}: build first (npm run build)`).toBe(true);
    const defs = new Map<string, string>();
    const undef: [string, string][] = [];
    for (const folder of LAYERS) {
      const dir = join(objDir, folder);
      for (const o of readdirSync(dir).filter((f) => f.endsWith('.o'))) {
        const obj = `${folder}/${o.replace(/\.o$/, '')}`;
        const out = execFileSync('nm', [join(dir, o)], { encoding: 'utf8' });
        for (const line of out.split('\n')) {
          const m = /^(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$/.exec(line);
          if (!m) continue;
          if (m[1] === 'U') undef.push([obj, m[2]!]);
          else if (/[TDBR]/.test(m[1]!)) defs.set(m[2]!, obj);
        }
      }
    }
    expect(defs.size).toBeGreaterThan(100);
    const bad = undef.flatMap(([obj, sym]) => {
      const def = defs.get(sym);
      return def && rank(def.split('/')[0]!) > rank(obj.split('/')[0]!) ? [`${obj} uses ${sym} from ${def}`] : [];
    });
    expect(bad).toEqual([]);
  });
});
