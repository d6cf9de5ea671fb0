import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildPath } from './paths.js';
import { notBuilt } from './errors.js';

/** Result of the machine capability probe (struct tl_probe in ts/addon/probe.h). */
export interface Probe {
  /** SUD enabled in a forked child and a blocked syscall raised SIGSYS. */
  sud: boolean;
  /** errno of prctl(PR_SET_SYSCALL_USER_DISPATCH) when sud is false. */
  sudErrno: number;
  /** /proc/sys/vm/mmap_min_addr, -1 if unreadable. */
  mmapMinAddr: number;
  /** mmap(0, MAP_FIXED_NOREPLACE) succeeded in a child. */
  zeroMappable: boolean;
  zeroErrno: number;
  /** pkey_alloc works (execute-only trampoline possible). */
  pkeys: boolean;
  pkeysErrno: number;
  /** XSAVE feature mask enabled by the OS (XCR0), 0n without xsave. */
  xcr0: bigint;
  /** Bytes of the xsave area for xcr0. */
  xsaveSize: number;
  /** rdgsbase/wrgsbase usable from user space. */
  fsgsbase: boolean;
  /** MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE supported. */
  membarrierSyncCore: boolean;
  /** uname release. */
  kernel: string;
}

interface Addon {
  probe(): Probe;
  /** The red-zone rule (lazy/redzone.c): code holds the bytes of the site's mapping,
   *  site its offset there; kind is enum tl_rz_kind (0: none), at the offset of the
   *  instruction found. */
  redzone(code: Uint8Array, site: number): { kind: number; at: number };
  /** A linear sweep with the rule's decoder: the length at each instruction start, 0 for
   *  an undecodable byte (stepped over), other offsets 0. */
  insnLengths(code: Uint8Array): Uint8Array;
  fileCaps(path: string): boolean;
}

let addon: Addon | undefined;

/** Loads build/Release/trapline_addon.node (once); throws a clear error if it is not built. */
export function loadAddon(): Addon {
  if (addon) return addon;
  const file = buildPath('Release', 'trapline_addon.node');
  if (!existsSync(file)) throw notBuilt('native addon', file);
  const require = createRequire(import.meta.url);
  return (addon = require(file) as Addon);
}

/** Whether the file at path carries file capabilities (undefined if the addon is not built). */
export function fileCaps(path: string): boolean | undefined {
  try {
    return loadAddon().fileCaps(path);
  } catch {
    return undefined;
  }
}

/** Probes the machine's interposition capabilities (forks short-lived children). */
export function probe(): Probe {
  return loadAddon().probe();
}
