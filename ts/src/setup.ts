// `trapline setup`: the launcher with a file capability, so that ordinary users' runs can
// map the trampoline at address 0 where vm.mmap_min_addr > 0 (issue #14; the trade-off and
// the rules it keeps are in docs/security.md, "The launcher's capability").
//
// The launcher and the two images it loads are copied into a directory that is root's
// alone (default /usr/local/lib/trapline): the boot image runs in the program while it
// still holds CAP_SYS_RAWIO, so no user may be able to replace it. The launcher checks that
// too, at every run, and does not use the capability otherwise (launch/trapline-exec.c).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildPath, installedLauncher, SETUP_DIR, SETUP_FILES } from './paths.js';

export const SETUP_USAGE = `usage: trapline setup [--dir DIR] [--undo]

Run once by an administrator (as root). Copies trapline's launcher and the two images it
loads into DIR (default ${SETUP_DIR}) and gives the launcher the file capability
cap_sys_rawio+ep, as ping has cap_net_raw. Then an ordinary user's run can map the
trampoline at address 0 where vm.mmap_min_addr > 0 (without it they get sud-only mode,
about 14x the cost per call). 'trapline run' uses that launcher when it is this build's.

The trade-off: every user who can run the launcher can have page 0 mapped (the
trampoline, which their program could then change): the protection vm.mmap_min_addr
gives against kernel NULL-pointer bugs is gone for them. No capability reaches their
programs: the launcher uses it for that one mapping and drops every capability before
the program's first instruction (docs/security.md).

options:
  --dir DIR        install into DIR (root's alone: owned by root, not writable by others,
                   nor any directory above it); default ${SETUP_DIR}
  --undo           remove what setup installed in DIR
  -h, --help       show this help
`;

/** A refusal or failure of setup: one line, exit status 1. */
export class SetupError extends Error {}

/** Does every directory from dir up to / belong to root and stay unwritable by others
 *  (or sticky)? The first one that does not, or undefined. */
export function unsafeDirectory(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const st = lstatSync(d);
    if (!st.isDirectory() || st.uid !== 0 || ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)) return d;
    if (d === '/') return undefined;
  }
}

/** The capabilities getcap reports for path ('' if none), or undefined without getcap. */
export function fileCapabilities(path: string): string | undefined {
  const r = spawnSync('getcap', [path], { encoding: 'utf8' });
  if (r.error) return undefined;
  const out = (r.stdout ?? '').trim();
  return out.startsWith(path) ? out.slice(path.length).trim() : '';
}

function setcap(path: string, what: string): void {
  const r = spawnSync('setcap', [what, path], { encoding: 'utf8' });
  if (r.error) throw new SetupError('setcap not found: install libcap2-bin (it sets file capabilities)');
  if (r.status !== 0) {
    const err = (r.stderr ?? '').trim();
    if (/not supported/i.test(err)) {
      throw new SetupError(`the file system of ${dirname(path)} does not support file capabilities (extended attributes); choose another --dir`);
    }
    throw new SetupError(`setcap ${what} ${path} failed: ${err.split('\n')[0] ?? `status ${r.status}`}`);
  }
}

/** Installs (or with undo removes) the capability launcher in dir; returns the line to
 *  print. Throws SetupError with the one line otherwise. */
export function setup(dir: string, undo: boolean): string {
  if (process.geteuid?.() !== 0) {
    throw new SetupError('must be run as root: it gives the launcher a file capability (cap_sys_rawio), as for ping');
  }
  dir = resolve(dir);
  if (undo) {
    if (!existsSync(dir)) return `trapline: nothing to undo: ${dir} does not exist\n`;
    let removed = 0;
    for (const f of SETUP_FILES) {
      const p = join(dir, f);
      if (existsSync(p)) {
        unlinkSync(p);
        removed++;
      }
    }
    if (readdirSync(dir).length === 0) rmdirSync(dir);
    return removed
      ? `trapline: removed the capability launcher from ${dir}: ordinary users' runs use address 0 only where vm.mmap_min_addr = 0\n`
      : `trapline: nothing to undo: no launcher in ${dir}\n`;
  }
  for (const f of SETUP_FILES) {
    if (!existsSync(buildPath('lib', f))) throw new SetupError(`${buildPath('lib', f)} is missing: build trapline first (npm run build)`);
  }
  // the nearest existing ancestor must be root's alone already; what we create is too
  let top = dir;
  while (!existsSync(top)) top = dirname(top);
  const bad = unsafeDirectory(top);
  if (bad !== undefined) {
    throw new SetupError(`${bad} is not root's alone (owned by root, not writable by group or others): a user could replace the images the capability runs; choose another --dir`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const badNow = unsafeDirectory(dir);
  if (badNow !== undefined) throw new SetupError(`${badNow} is not root's alone (owned by root, not writable by group or others); choose another --dir`);
  const made: string[] = [];
  try {
    for (const f of SETUP_FILES) {
      const tmp = join(dir, `.${f}.new`);
      copyFileSync(buildPath('lib', f), tmp);
      chownSync(tmp, 0, 0);
      chmodSync(tmp, 0o755);
      if (f === 'trapline-exec') setcap(tmp, 'cap_sys_rawio+ep');
      made.push(tmp);
    }
    for (const f of SETUP_FILES) renameSync(join(dir, `.${f}.new`), join(dir, f));
  } catch (e) {
    for (const t of made) if (existsSync(t)) unlinkSync(t);
    for (const f of SETUP_FILES) if (existsSync(join(dir, `.${f}.new`))) unlinkSync(join(dir, `.${f}.new`));
    if (readdirSync(dir).length === 0) rmdirSync(dir);
    throw e;
  }
  return `trapline: installed ${join(dir, 'trapline-exec')} with cap_sys_rawio+ep: ordinary users' runs can map the trampoline at address 0 (and so can have page 0 mapped: docs/security.md)\n`;
}

/** What doctor says about the capability launcher in dir. */
export interface LauncherStatus {
  dir: string;
  /** the launcher is there */
  present: boolean;
  /** it carries cap_sys_rawio (undefined: getcap missing) */
  capability?: boolean;
  /** its files are this build's (else 'trapline run' does not use it) */
  current: boolean;
  /** the first directory or file that is not root's alone, if any */
  unsafe?: string;
}

export function launcherStatus(dir = SETUP_DIR): LauncherStatus {
  const exe = join(dir, 'trapline-exec');
  if (!existsSync(exe)) return { dir, present: false, current: false };
  const caps = fileCapabilities(exe);
  let unsafe: string | undefined;
  try {
    unsafe = unsafeDirectory(dir);
    for (const f of SETUP_FILES) {
      const st = lstatSync(join(dir, f));
      if (unsafe === undefined && (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0)) unsafe = join(dir, f);
    }
  } catch {
    unsafe = dir;
  }
  return {
    dir,
    present: true,
    capability: caps === undefined ? undefined : /cap_sys_rawio/.test(caps),
    current: installedLauncher(dir) !== undefined,
    ...(unsafe !== undefined ? { unsafe } : {}),
  };
}
