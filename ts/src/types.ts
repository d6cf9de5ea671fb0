// The few value types several modules share, each named once.

/** The mode a run asks for: lazy (trampoline at address 0 + Syscall User Dispatch),
 *  sud-only (every call trapped), or eager (lazy plus a rewrite plan applied at start-up
 *  and on dlopen; its plan defaults to 'auto'). */
export type Mode = 'lazy' | 'sud-only' | 'eager';
export const MODES: readonly Mode[] = ['lazy', 'sud-only', 'eager'];

/** The mode a process actually ran in (eager runs as lazy with a plan). */
export type RunMode = 'lazy' | 'sud-only';
export const RUN_MODES: readonly RunMode[] = ['lazy', 'sud-only'];

/** Which sites may be rewritten: all (every executed site and every plan site), verified
 *  (scanner-confirmed plan sites only), none. */
export type RewritePolicy = 'all' | 'verified' | 'none';
export const REWRITE_POLICIES: readonly RewritePolicy[] = ['all', 'verified', 'none'];

/** How a program is entered: at its first instruction, or from the preloaded library. */
export const ENTRIES = ['first', 'preload'] as const;
export type Entry = (typeof ENTRIES)[number];
