import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notBuilt, TraplineError } from './errors.js';

let root: string | undefined;

/** Absolute path of the trapline package (the directory holding its package.json). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  // Works from dist/ (compiled) and from ts/src/ (vitest runs the sources directly).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'trapline') {
          return (root = dir);
        }
      } catch {
        // unreadable or invalid package.json: keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new TraplineError('ERR_TRAPLINE_NOT_BUILT', 'trapline: cannot locate the package root (package.json)');
    dir = parent;
  }
}

/** Absolute path under build/ of the package root. */
export function buildPath(...parts: string[]): string {
  return resolve(packageRoot(), 'build', ...parts);
}

/** Absolute path of build/lib/trapline-exec, the launcher that becomes the program
 *  (launch/trapline-exec.c); throws if it has not been built. */
export function launcherPath(): string {
  const exe = buildPath('lib', 'trapline-exec');
  if (!existsSync(exe)) throw notBuilt('launcher', exe);
  return exe;
}

/** Absolute path of build/lib/libtrapline.so; throws if it has not been built. */
export function libraryPath(): string {
  const lib = buildPath('lib', 'libtrapline.so');
  if (!existsSync(lib)) throw notBuilt('native library', lib);
  return lib;
}
