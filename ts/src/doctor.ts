import { getSystemErrorMap } from 'node:util';
import type { Probe } from './native.js';
import type { RunMode } from './types.js';
import type { LauncherStatus } from './setup.js';

/** XCR0 state-component names by bit (Intel SDM vol. 1, 13.1). */
const XSAVE_BITS: Readonly<Record<number, string>> = {
  0: 'x87', 1: 'SSE', 2: 'AVX', 3: 'MPX bndregs', 4: 'MPX bndcsr',
  5: 'AVX-512 opmask', 6: 'AVX-512 ZMM_Hi256', 7: 'AVX-512 Hi16_ZMM', 8: 'PT', 9: 'PKRU',
  10: 'PASID', 11: 'CET_U', 12: 'CET_S', 13: 'HDC', 14: 'UINTR', 15: 'LBR', 16: 'HWP',
  17: 'AMX TILECFG', 18: 'AMX TILEDATA', 19: 'APX',
};

/** Names of the state components enabled in xcr0 ("bit N" for unknown ones). */
export function xsaveFeatures(xcr0: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((xcr0 >> BigInt(bit)) & 1n) names.push(XSAVE_BITS[bit] ?? `bit ${bit}`);
  }
  return names;
}

/** "N NAME: message" for an errno value, e.g. "1 EPERM: operation not permitted". */
export function describeErrno(errno: number): string {
  if (errno === 95) return '95 EOPNOTSUPP: operation not supported'; // libuv's text is socket-specific
  const entry = getSystemErrorMap().get(-errno);
  return entry ? `${errno} ${entry[0]}: ${entry[1]}` : `${errno}`;
}

/** The mode a run would use on this machine by default (allowNullReads: with
 *  --allow-null-reads), and why when it is not lazy. */
export function deriveMode(p: Probe, allowNullReads = false): { mode: RunMode | 'unavailable'; reason?: string; nullReads?: boolean } {
  if (!p.sud) return { mode: 'unavailable', reason: 'no Syscall User Dispatch' };
  if (p.zeroMappable && p.pkeys) return { mode: 'lazy' };
  if (p.zeroMappable && allowNullReads) return { mode: 'lazy', nullReads: true };
  if (p.zeroMappable) {
    return { mode: 'sud-only', reason: 'no protection keys: page 0 cannot be made execute-only, so NULL reads would succeed; --allow-null-reads opts in to lazy anyway' };
  }
  const reason = p.mmapMinAddr !== 0
    ? `address 0 unavailable: vm.mmap_min_addr is ${p.mmapMinAddr}`
    : `address 0 unavailable: mmap of address 0 failed: errno ${describeErrno(p.zeroErrno)}`;
  return { mode: 'sud-only', reason };
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** Does the launcher `trapline setup` installed give ordinary users address 0? */
function launcherUsable(l: LauncherStatus | undefined): boolean {
  return l !== undefined && l.present && l.capability === true && l.current && l.unsafe === undefined;
}

/** The mode an ordinary user's run (not root, no capability of its own) will use by
 *  default: address 0 is theirs where vm.mmap_min_addr is 0, or through the launcher
 *  `trapline setup` installed. */
export function userMode(p: Probe, l: LauncherStatus | undefined, allowNullReads = false): { mode: RunMode | 'unavailable'; reason?: string } {
  if (!p.sud) return { mode: 'unavailable', reason: 'no Syscall User Dispatch' };
  const zero = p.mmapMinAddr === 0 || launcherUsable(l);
  if (!zero) {
    return { mode: 'sud-only', reason: `address 0 unavailable: vm.mmap_min_addr is ${p.mmapMinAddr} and no launcher has the capability (trapline setup)` };
  }
  return deriveMode({ ...p, zeroMappable: true }, allowNullReads);
}

/** One line on the launcher `trapline setup` installs. */
export function launcherLine(l: LauncherStatus): string {
  const exe = `${l.dir}/trapline-exec`;
  if (!l.present) return `launcher with capability (trapline setup): not installed (${exe})`;
  if (l.capability === false) return `launcher with capability (trapline setup): ${exe} has no cap_sys_rawio (run trapline setup again)`;
  if (l.capability === undefined) return `launcher with capability (trapline setup): ${exe} present; its capability is unknown (getcap missing: install libcap2-bin)`;
  if (l.unsafe !== undefined) return `launcher with capability (trapline setup): ${exe}: ${l.unsafe} is not root's alone, so the launcher does not use its capability`;
  if (!l.current) return `launcher with capability (trapline setup): ${exe} is not this build's, so trapline run does not use it (run trapline setup again)`;
  return `launcher with capability (trapline setup): ${exe}, cap_sys_rawio+ep, this build's`;
}

/** Human-readable doctor report (one string, trailing newline). */
export function doctorReport(p: Probe, launcher?: LauncherStatus, asRoot = process.geteuid?.() === 0): string {
  const lines: string[] = [];
  lines.push(`kernel: ${p.kernel}`);

  if (p.sud) {
    lines.push('Syscall User Dispatch: supported (probed: SIGSYS received)');
  } else {
    const why = p.sudErrno !== 0 ? `prctl errno ${describeErrno(p.sudErrno)}` : 'prctl succeeded but no SIGSYS arrived';
    lines.push(`Syscall User Dispatch: NOT supported (${why}) — needs Linux >= 5.11 built with CONFIG_GENERIC_ENTRY`);
  }

  lines.push(`mmap_min_addr: ${p.mmapMinAddr < 0 ? 'unreadable' : p.mmapMinAddr}`);
  if (p.zeroMappable) {
    lines.push('address 0 mappable: yes');
  } else {
    lines.push(`address 0 mappable: no (mmap errno ${describeErrno(p.zeroErrno)})`);
    if (p.mmapMinAddr !== 0) {
      lines.push('  fix: run: sysctl -w vm.mmap_min_addr=0 (as root),');
      lines.push('       persist with /etc/sysctl.d/60-trapline.conf containing: vm.mmap_min_addr = 0;');
      lines.push('       or, for trapline\'s runs alone: trapline setup (as root; docs/security.md)');
    }
  }

  lines.push(p.pkeys
    ? 'protection keys: yes (execute-only trampoline: NULL reads still fault)'
    : `protection keys: no (pkey_alloc errno ${describeErrno(p.pkeysErrno)}): the trampoline would be readable, so the default is sud-only`);
  lines.push(`fsgsbase: ${yesNo(p.fsgsbase)}`);
  lines.push(`membarrier sync-core: ${yesNo(p.membarrierSyncCore)}`);

  if (p.xcr0 === 0n) {
    lines.push('xsave features: none (no XSAVE)');
  } else {
    lines.push(`xsave features: ${xsaveFeatures(p.xcr0).join(', ')} (xcr0 0x${p.xcr0.toString(16)})`);
    lines.push(`xsave area size: ${p.xsaveSize} bytes`);
  }

  // a user other than root runs through the launcher trapline setup installed, if usable
  const viaLauncher = !p.zeroMappable && !asRoot && launcherUsable(launcher);
  const { mode, reason } = viaLauncher ? userMode(p, launcher) : deriveMode(p);
  const what = mode === 'lazy' ? 'lazy (trampoline at 0 + SUD)'
    : mode === 'sud-only' ? `sud-only (${reason})`
    : `unavailable (${reason})`;
  lines.push(`Mode a run will use: ${what}${viaLauncher ? ', address 0 through the launcher trapline setup installed' : ''}`);
  if (mode === 'sud-only' && (p.zeroMappable || viaLauncher) && !p.pkeys) {
    lines.push('With --allow-null-reads: lazy (trampoline at 0 + SUD), page 0 readable: NULL data reads return trampoline bytes instead of faulting');
  }
  if (launcher !== undefined) {
    lines.push(launcherLine(launcher));
    const u = userMode(p, launcher);
    const uWith = userMode(p, launcher, true);
    const uWhat = u.mode === 'lazy' ? 'lazy (trampoline at 0 + SUD)' : `${u.mode} (${u.reason ?? ''})`;
    lines.push(`Mode an ordinary user's run will use: ${uWhat}${u.mode !== uWith.mode ? `; with --allow-null-reads: ${uWith.mode}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** The probe as plain JSON data (xcr0 as a hex string) plus the derived mode. */
export function doctorJson(p: Probe, launcher?: LauncherStatus): Record<string, unknown> {
  const { mode, reason } = deriveMode(p);
  const u = launcher !== undefined ? userMode(p, launcher) : undefined;
  return {
    ...p,
    xcr0: `0x${p.xcr0.toString(16)}`,
    xsaveFeatures: xsaveFeatures(p.xcr0),
    mode,
    ...(reason !== undefined ? { modeReason: reason } : {}),
    modeWithAllowNullReads: deriveMode(p, true).mode,
    ...(launcher !== undefined && u !== undefined ? {
      launcher,
      userMode: u.mode,
      ...(u.reason !== undefined ? { userModeReason: u.reason } : {}),
      userModeWithAllowNullReads: userMode(p, launcher, true).mode,
    } : {}),
  };
}
