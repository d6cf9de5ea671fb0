// Paths of the programs and hook libraries the tests run: CMakeLists.txt builds
// test/c/<name>.c into build/test/<name> and test/hooks/<name>.c into
// build/test/hooks/lib<name>.so.
import { buildPath } from '../ts/src/paths.js';

/** build/test/<name>: a test program built from test/c/<name>.c. */
export function testProgram(name: string): string {
  return buildPath('test', name);
}

/** build/test/hooks/lib<name>.so: a hook library built from test/hooks/<name>.c. */
export function hookLibrary(name: string): string {
  return buildPath('test', 'hooks', name.endsWith('.so') ? name : `lib${name}.so`);
}

