import { getSystemErrorMap } from 'node:util';
import type { Probe } from './native.js';
import type { RunMode } from './types.js';

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

/** Human-readable doctor report (one string, trailing newline). */
export function doctorReport(p: Probe): string {
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
      lines.push('       persist with /etc/sysctl.d/60-trapline.conf containing: vm.mmap_min_addr = 0');
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

  const { mode, reason } = deriveMode(p);
  const what = mode === 'lazy' ? 'lazy (trampoline at 0 + SUD)'
    : mode === 'sud-only' ? `sud-only (${reason})`
    : `unavailable (${reason})`;
  lines.push(`Mode a run will use: ${what}`);
  if (mode === 'sud-only' && p.zeroMappable && !p.pkeys) {
    lines.push('With --allow-null-reads: lazy (trampoline at 0 + SUD), page 0 readable: NULL data reads return trampoline bytes instead of faulting');
  }
  return lines.join('\n') + '\n';
}

/** The probe as plain JSON data (xcr0 as a hex string) plus the derived mode. */
export function doctorJson(p: Probe): Record<string, unknown> {
  const { mode, reason } = deriveMode(p);
  return {
    ...p,
    xcr0: `0x${p.xcr0.toString(16)}`,
    xsaveFeatures: xsaveFeatures(p.xcr0),
    mode,
    ...(reason !== undefined ? { modeReason: reason } : {}),
    modeWithAllowNullReads: deriveMode(p, true).mode,
  };
}
