import { existsSync, readFileSync, statSync } from 'node:fs';
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

/** Where `trapline setup` installs the launcher with its file capability (ts/src/setup.ts). */
export const SETUP_DIR = '/usr/local/lib/trapline';
/** The files it installs there: the launcher and the two images it loads from beside it. */
export const SETUP_FILES = ['trapline-exec', 'libtrapline-boot.so', 'libtrapline.so'] as const;

let installed: { key: string; path: string | undefined } | undefined;

/** The launcher `trapline setup` installed in dir, if its three files are this build's
 *  (byte for byte: a stale copy would not match the settings or the segment layout). */
export function installedLauncher(dir = SETUP_DIR): string | undefined {
  try {
    const sig = (p: string) => {
      const st = statSync(p);
      return `${p}:${st.size}:${st.mtimeMs}:${st.ino}`;
    };
    const key = SETUP_FILES.map((f) => `${sig(join(dir, f))}|${sig(buildPath('lib', f))}`).join(';');
    if (installed?.key === key) return installed.path;
    const same = SETUP_FILES.every((f) => readFileSync(join(dir, f)).equals(readFileSync(buildPath('lib', f))));
    installed = { key, path: same ? join(dir, 'trapline-exec') : undefined };
    return installed.path;
  } catch {
    return undefined;
  }
}

/** Absolute path of the launcher that becomes the program (launch/trapline-exec.c):
 *  build/lib/trapline-exec, or for a user other than root the copy `trapline setup`
 *  installed with its file capability, when it is this build's; throws if it has not
 *  been built. */
export function launcherPath(): string {
  const exe = buildPath('lib', 'trapline-exec');
  if (!existsSync(exe)) throw notBuilt('launcher', exe);
  if (process.geteuid?.() !== 0) return installedLauncher() ?? exe;
  return exe;
}

/** Absolute path of build/lib/libtrapline.so; throws if it has not been built. */
export function libraryPath(): string {
  const lib = buildPath('lib', 'libtrapline.so');
  if (!existsSync(lib)) throw notBuilt('native library', lib);
  return lib;
}
