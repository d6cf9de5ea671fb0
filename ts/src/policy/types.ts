// ts/src/policy/types.ts
export type PolicyAction = 'trace' | 'inject' | 'deny';
/** Which calls a rule applies to, besides its numbers. All given conditions must hold. */
export interface RuleScope {
  /** module path glob (matched against the full path and the basename), or 'build-id:<hex>' */
  module?: string;
  /** '@jit' anonymous/JIT code, '@dlopen' code from libraries loaded after start-up,
   *  '@main' the main program, '@startup' libraries loaded before main */
  origin?: 'jit' | 'dlopen' | 'main' | 'startup' | 'vdso';
  pid?: number;
  tid?: number;
}
export interface Rule {
  action: PolicyAction;
  /** x86-64 syscall numbers the rule selects (sorted, unique) */
  nrs: number[];
  scope: RuleScope;
  /** inject/deny: the call is not performed; the program sees -errno (error) or retval */
  error?: number;          // errno value (positive), e.g. 2 for ENOENT
  retval?: bigint;         // inject retval=N
  /** strace's when=FIRST[..LAST][+STEP]: 1-based call counts, per rule per process */
  when?: { first: number; last?: number; step?: number };
  signal?: number;         // inject signal=SIG: delivered to the calling thread after the call
  delayEnterUs?: number;   // delay_enter=US
  delayExitUs?: number;    // delay_exit=US
  /** deny with SIGSYS (kill) instead of an errno */
  kill?: boolean;
  /** the original text, for messages */
  text: string;
}
export interface TraceOptions {
  /** -s STRSIZE: bytes of strings/buffers captured and printed (default 32) */
  strsize: number;
  /** lossless (default): a thread whose ring is full waits; lossy: drops and counts */
  lossy: boolean;
  /** -tt: wall-clock time with microseconds in each line */
  timestamps: 'none' | 't' | 'tt' | 'ttt';
  /** -f: follow children (always on in trapline; accepted for strace compatibility) */
  follow: boolean;
}
/** One traced call, decoded from the ring by polcore's reader, formatted by polts. */
export interface TraceEvent {
  pid: number;
  tid: number;
  nr: number;              // x86-64 number (i386 calls: see abi)
  abi: 'x86_64' | 'i386';
  args: bigint[];          // 6 raw argument registers
  ret: bigint;             // raw return value (negative errno in the kernel's convention)
  tsNs: bigint;            // CLOCK_REALTIME at entry, ns
  durNs: bigint;           // time in the call
  site: { module: string | null; offset: bigint };
  /** bytes the kernel read (before the call, 'in') or wrote (after, 'out'), per argument,
   *  up to strsize (+1 to know it was truncated) */
  data: { arg: number; dir: 'in' | 'out'; bytes: Buffer; truncated: boolean }[];
  /** what a policy did: undefined (performed as asked), 'injected', 'denied' */
  policy?: 'injected' | 'denied';
  /** the thread waited in a full ring this long before this record (lossless mode) */
  lostBefore?: number;     // lossy mode: records dropped just before this one
  /** the signal a rule sent at this call: inject signal=SIG (delivered to the thread after
   *  the call), or SIGSYS for deny ...:kill; absent if none */
  signal?: number;
  /** the process was killed at this call (deny ...:kill, inject signal=SIGKILL): the call
   *  did not return to the program; absent otherwise */
  killed?: boolean;
}
